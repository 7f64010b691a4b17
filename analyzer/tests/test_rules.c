/* test_rules.c: policy and host-model parsing, percentiles, right-sizing,
 * missing-slot filling and every eligibility rule, on small data. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ana_rules.h"
#include "ks_ini.h"
#include "ks_test.h"

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * MIB)

static ks_ini *ini_of(const char *text)
{
    ks_error err;
    ks_ini *ini = ks_ini_parse(text, strlen(text), "study.ini", &err);
    if (!ini)
        fprintf(stderr, "bad test ini: %s\n", err.message);
    return ini;
}

/* The error message of parsing text as host models, or "" when it parses. */
static char msg[KS_ERROR_MSG_MAX];
static const char *models_error(const char *text)
{
    ks_ini *ini = ini_of(text);
    ana_model *m;
    size_t n;
    ks_error err;
    ks_error_clear(&err);
    msg[0] = '\0';
    if (ana_models_parse(ini, &m, &n, &err) < 0)
        snprintf(msg, sizeof msg, "%s", err.message);
    else
        ana_models_free(m, n);
    ks_ini_free(ini);
    return msg;
}

KS_TEST(policy_defaults)
{
    ks_ini *ini = ini_of("[collector]\ninterval = 60\n");
    ana_policy p;
    ks_error err;
    KS_CHECK(ana_policy_parse(ini, &p, &err) == 0);
    KS_CHECK_NEAR(p.max_host_share, 0.5, 1e-12);
    KS_CHECK_NEAR(p.min_confidence, 0.5, 1e-12);
    KS_CHECK_NEAR(p.percentile, 95, 1e-12);
    KS_CHECK_NEAR(p.headroom, 0.2, 1e-12);
    KS_CHECK(!p.allow_upsize && p.n_plus_1);
    KS_CHECK(p.slot_seconds == 3600);
    KS_CHECK_NEAR(p.cpu_max, 0.8, 1e-12);
    KS_CHECK_NEAR(p.mem_max, 0.9, 1e-12);
    KS_CHECK(p.blocker_status == ANA_CONDITIONAL);
    KS_CHECK(p.nphysical_roles == 2);
    KS_CHECK_STR(p.physical_roles[0], "backup");
    KS_CHECK_STR(p.physical_roles[1], "infrastructure");
    KS_CHECK_NEAR(ana_policy_speed(&p, "Intel Xeon"), 1.0, 0);
    ana_policy_free(&p);
    ks_ini_free(ini);
}

KS_TEST(policy_values_and_errors)
{
    ks_ini *ini = ini_of("[policy]\npercentile = 100\nheadroom_percent = 0\nn_plus_1 = no\n"
                         "start = 2024-03-01\nend = 2024-03-14\nhardware_blockers = not_eligible\n"
                         "physical_roles = backup\n"
                         "[cpu-speed old]\nmatch = E5-2670\nfactor = 0.8\n");
    ana_policy p;
    ks_error err;
    KS_CHECK(ana_policy_parse(ini, &p, &err) == 0);
    KS_CHECK_NEAR(p.percentile, 100, 0);
    KS_CHECK_NEAR(p.headroom, 0, 0);
    KS_CHECK(!p.n_plus_1);
    KS_CHECK(p.start == 1709251200);
    KS_CHECK(p.end == 1710374400 + 86400); /* the end day is studied whole */
    KS_CHECK(p.blocker_status == ANA_NOT_ELIGIBLE);
    KS_CHECK(p.nphysical_roles == 1);
    KS_CHECK_NEAR(ana_policy_speed(&p, "Intel(R) Xeon(R) CPU e5-2670 0 @ 2.60GHz"), 0.8, 1e-12);
    KS_CHECK_NEAR(ana_policy_speed(&p, NULL), 1.0, 0);
    ana_policy_free(&p);
    ks_ini_free(ini);

    const char *bad[][2] = {
        {"[policy]\n\npercentile = 0\n", "study.ini:3: 'percentile' in [policy]"},
        {"[policy]\nn_plus_1 = maybe\n", "study.ini:2: 'n_plus_1' in [policy] must be yes or no"},
        {"[policy]\nstart = 2024-13-01\n", "study.ini:2: 'start' in [policy] must be a date"},
        {"[policy]\nslot_seconds = 7000\n", "study.ini:2: 'slot_seconds'"},
        {"[policy]\nhardware_blockers = maybe\n", "study.ini:2: 'hardware_blockers'"},
        {"[cpu-speed x]\nmatch = Opteron\n", "[cpu-speed x] needs 'match'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ini = ini_of(bad[i][0]);
        ks_error_clear(&err);
        KS_CHECK(ana_policy_parse(ini, &p, &err) == -1);
        if (!strstr(err.message, bad[i][1]))
            fprintf(stderr, "got: %s\n", err.message);
        KS_CHECK(strstr(err.message, bad[i][1]) != NULL);
        ks_ini_free(ini);
    }
}

KS_TEST(host_models)
{
    ks_ini *ini = ini_of("[policy]\n[host-model small]\ncores = 16\nmhz = 2400\nmemory_gib = 128\n"
                         "[host-model big]\ncores = 32\nmhz = 2600\nmemory_gib = 384\n"
                         "storage_mbps = 2000\npower_idle_w = 200\npower_max_w = 600\n"
                         "cost = 12000\nspeed_factor = 1.25\n");
    ana_model *m;
    size_t n;
    ks_error err;
    KS_CHECK(ana_models_parse(ini, &m, &n, &err) == 0);
    KS_CHECK(n == 2);
    KS_CHECK_STR(m[0].name, "small");
    KS_CHECK(m[0].cores == 16);
    KS_CHECK(isnan(m[0].cost) && isnan(m[0].storage_mbps));
    KS_CHECK_NEAR(m[0].speed_factor, 1.0, 0);
    KS_CHECK_STR(m[1].name, "big");
    KS_CHECK_NEAR(m[1].memory_gib, 384, 0);
    KS_CHECK_NEAR(m[1].storage_mbps, 2000, 0);
    KS_CHECK_NEAR(m[1].power_max_w, 600, 0);
    KS_CHECK_NEAR(m[1].speed_factor, 1.25, 0);
    ana_models_free(m, n);
    ks_ini_free(ini);

    KS_CHECK(strstr(models_error("[policy]\npercentile = 95\n"), "declares no target host"));
    KS_CHECK(strstr(models_error("[host-model a]\nmhz = 2600\nmemory_gib = 64\n"),
                    "study.ini:2: [host-model a] has no 'cores'"));
    KS_CHECK(strstr(models_error("[host-model a]\ncores = 8\nmemory_gib = 64\n"), "has no 'mhz'"));
    KS_CHECK(
        strstr(models_error("[host-model a]\ncores = 8\nmhz = 2000\n"), "has no 'memory_gib'"));
    KS_CHECK(strstr(models_error("[host-model a]\ncores = eight\nmhz = 2000\nmemory_gib = 8\n"),
                    "study.ini:2: 'cores' in [host-model a] must be a number"));
    KS_CHECK(strstr(models_error("[host-model a]\ncores = 8.5\nmhz = 2000\nmemory_gib = 8\n"),
                    "study.ini:2: 'cores' in [host-model a] must be a whole number"));
    KS_CHECK(strstr(models_error("[host-model a]\ncores = 8\nmhz = 2000\nmemory_gib = 8\n"
                                 "power_idle_w = 100\n"),
                    "only one of 'power_idle_w' and 'power_max_w'"));
    KS_CHECK(strstr(models_error("[host-model a]\ncores = 8\nmhz = 2000\nmemory_gib = 8\n"
                                 "power_idle_w = 300\npower_max_w = 200\n"),
                    "study.ini:6: 'power_max_w' in [host-model a] (200) is below"));
}

KS_TEST(percentiles)
{
    double v[] = {5, 1, NAN, 3, 2, 4, 6, 7, 8, 9, 10};
    KS_CHECK_NEAR(ana_percentile(v, 11, 100), 10, 0);
    KS_CHECK_NEAR(ana_percentile(v, 11, 50), 5, 0);
    KS_CHECK_NEAR(ana_percentile(v, 11, 95), 10, 0); /* rank ceil(9.5) = 10 */
    KS_CHECK_NEAR(ana_percentile(v, 11, 90), 9, 0);
    KS_CHECK_NEAR(ana_percentile(v, 11, 1), 1, 0);
    double none[] = {NAN, NAN};
    KS_CHECK(isnan(ana_percentile(none, 2, 95)));
    KS_CHECK(isnan(ana_percentile(NULL, 0, 95)));
}

static uint64_t test_rng = 7;
static double test_unit(void)
{
    uint64_t z = (test_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The nearest-rank percentile by sorting, as ana_percentile did before it
 * selected instead. */
static double percentile_by_sort(const double *v, size_t n, double p)
{
    double *s = malloc((n + 1) * sizeof *s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            s[k++] = v[i];
    double r = NAN;
    if (k) {
        qsort(s, k, sizeof *s, cmp_dbl);
        double rank = ceil(p / 100.0 * (double)k);
        size_t idx = rank < 1 ? 0 : (size_t)rank - 1;
        r = s[idx < k ? idx : k - 1];
    }
    free(s);
    return r;
}

/* Selection gives the very value sorting gave: random series with many
 * repeats, NaNs, all equal, sorted both ways. */
KS_TEST(percentiles_select)
{
    static const double ps[] = {0, 0.1, 1, 25, 50, 90, 95, 99, 99.9, 100};
    size_t bad = 0, tried = 0;
    for (size_t n = 1; n <= 800; n += n < 40 ? 1 : 37) {
        double *v = malloc(n * sizeof *v);
        for (int kind = 0; kind < 6; kind++) {
            for (size_t i = 0; i < n; i++) {
                double u = test_unit();
                v[i] = kind == 0   ? u * 1000
                       : kind == 1 ? floor(u * 5)              /* repeats */
                       : kind == 2 ? (u < 0.3 ? NAN : u - 0.5) /* unknowns */
                       : kind == 3 ? 42                        /* all equal */
                       : kind == 4 ? (double)i                 /* ascending */
                                   : (double)(n - i);          /* descending */
            }
            for (size_t q = 0; q < sizeof ps / sizeof ps[0]; q++) {
                double p = ps[q], a = ana_percentile(v, n, p), b = percentile_by_sort(v, n, p);
                tried++;
                if (!(a == b || (isnan(a) && isnan(b)))) {
                    if (bad++ < 5)
                        fprintf(stderr, "n %zu kind %d p %g: %g, sorting gives %g\n", n, kind, p, a,
                                b);
                }
            }
        }
        free(v);
    }
    KS_CHECK(tried > 1000 && bad == 0);
}

KS_TEST(sizing)
{
    /* vCPUs: whole, at least 1, at most the source's threads */
    KS_CHECK(ana_size_vcpus(0, 2600, 4, false) == 1);
    KS_CHECK(ana_size_vcpus(2600, 2600, 4, false) == 1);
    KS_CHECK(ana_size_vcpus(2601, 2600, 4, false) == 2);
    KS_CHECK(ana_size_vcpus(26000, 2600, 4, false) == 4);
    KS_CHECK(ana_size_vcpus(26000, 2600, 4, true) == 10);
    KS_CHECK(ana_size_vcpus(26000, 2600, 0, false) == 10); /* source unknown */
    /* memory: 512 MiB steps, at least 1 GiB, at most the source's */
    KS_CHECK_NEAR(ana_size_memory_mib(100 * MIB, 8 * GIB, false), 1024, 0);
    KS_CHECK_NEAR(ana_size_memory_mib(1025 * MIB, 8 * GIB, false), 1536, 0);
    KS_CHECK_NEAR(ana_size_memory_mib(1536 * MIB, 8 * GIB, false), 1536, 0);
    KS_CHECK_NEAR(ana_size_memory_mib(9 * GIB, 8 * GIB, false), 8192, 0);
    KS_CHECK_NEAR(ana_size_memory_mib(9 * GIB, 8 * GIB, true), 9216, 0);
    KS_CHECK_NEAR(ana_size_memory_mib(9 * GIB, 0, false), 9216, 0);
    KS_CHECK_NEAR(ana_size_memory_mib(2 * GIB, 0.5 * GIB, false), 1024, 0);
    /* CPU demand on the target: speed factors and headroom */
    ana_policy p = {.headroom = 0.2};
    ana_model m = {.speed_factor = 1.25};
    KS_CHECK_NEAR(ana_target_mhz(&p, &m, 1000, 0.8), 1000 * 0.8 / 1.25 * 1.2, 1e-9);
}

/* The fill as it was written first: every hour of day looked for in the
 * whole series. */
static void fill_by_scan(double *v, size_t n, time_t start, long slot, double pct)
{
    size_t per_day = (size_t)(86400 / slot);
    double all = percentile_by_sort(v, n, pct);
    if (isnan(all))
        all = 0;
    double *hour = malloc((n + 1) * sizeof *hour), *fill = malloc(per_day * sizeof *fill);
    for (size_t h = 0; h < per_day; h++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if ((size_t)(((start + (time_t)i * slot) % 86400) / slot) == h)
                hour[k++] = v[i];
        double p = percentile_by_sort(hour, k, pct);
        fill[h] = isnan(p) ? all : p;
    }
    for (size_t i = 0; i < n; i++)
        if (isnan(v[i]))
            v[i] = fill[(size_t)(((start + (time_t)i * slot) % 86400) / slot)];
    free(hour);
    free(fill);
}

/* Slots grouped by hour of day in one pass fill the same values as the
 * scan did, whatever the slot length, the start and the gaps; a series
 * without gaps is left as it is. */
KS_TEST(fill_same_as_scan)
{
    static const long slots[] = {300, 900, 3600, 7200, 86400};
    size_t bad = 0;
    for (size_t c = 0; c < 60; c++) {
        long slot = slots[c % 5];
        size_t n = 1 + (size_t)(test_unit() * 900);
        time_t start = 86400 * 200 + (time_t)(test_unit() * 86400) / slot * slot;
        double gaps = c % 3 == 0 ? 0 : c % 3 == 1 ? 0.05 : 0.7;
        ks_series s = {.slot_start = start, .slot_seconds = slot, .nslots = n};
        double *ref[4];
        double **arr[] = {&s.cpu_mhz, &s.mem_bytes, &s.disk_bps, &s.disk_iops};
        for (int a = 0; a < 4; a++) {
            *arr[a] = malloc(n * sizeof(double));
            ref[a] = malloc(n * sizeof(double));
            for (size_t i = 0; i < n; i++) {
                /* disk_iops all unknown: filled with 0 */
                double v = a == 3 || test_unit() < gaps ? NAN : floor(test_unit() * 50);
                (*arr[a])[i] = ref[a][i] = v;
            }
            fill_by_scan(ref[a], n, start, slot, 50);
        }
        ana_series_fill(&s, 50);
        for (int a = 0; a < 4; a++)
            for (size_t i = 0; i < n; i++)
                bad += (*arr[a])[i] != ref[a][i];
        ks_series_free(&s);
        for (int a = 0; a < 4; a++)
            free(ref[a]);
    }
    KS_CHECK(bad == 0);
}

KS_TEST(fill_missing)
{
    /* two days of hourly slots from midnight; hour 3 of day 2 missing, and
     * all of hour 5 missing */
    ks_series s = {.slot_start = 86400 * 100, .slot_seconds = 3600, .nslots = 48};
    double *a[5];
    for (int k = 0; k < 5; k++) {
        a[k] = malloc(48 * sizeof(double));
        for (int i = 0; i < 48; i++)
            a[k][i] = i % 24 == 5 ? NAN : (double)(i % 24) * 10 + i / 24;
    }
    s.cpu_mhz = a[0];
    s.mem_bytes = a[1];
    s.disk_bps = a[2];
    s.disk_iops = a[3];
    s.net_bps = a[4];
    s.cpu_mhz[27] = NAN;
    KS_CHECK(ks_series_present(&s) == 45);
    ana_series_fill(&s, 100);
    KS_CHECK_NEAR(s.cpu_mhz[27], 30, 0); /* hour 3's own: day 1 had 30 */
    KS_CHECK_NEAR(s.cpu_mhz[5], 231, 0); /* no hour 5 at all: the overall percentile */
    KS_CHECK(ks_series_present(&s) == 48);
    KS_CHECK(isnan(s.net_bps[5])); /* network is never filled */

    /* a window beyond the series is unknown */
    ks_series w;
    ks_series_window(&s, s.slot_start - 7200, 3600, 4, &w);
    KS_CHECK(isnan(w.cpu_mhz[0]) && isnan(w.cpu_mhz[1]));
    KS_CHECK_NEAR(w.cpu_mhz[2], 0, 0);
    KS_CHECK_NEAR(w.cpu_mhz[3], 10, 0);
    KS_CHECK(w.slot_start % 3600 == 0);
    /* measured: had a CPU value in the window, whether filled before or not */
    KS_CHECK(!w.measured[0] && !w.measured[1] && w.measured[2] && w.measured[3]);
    ks_series_free(&w);
    /* a server never sampled: an empty series windows to unknown slots of
     * the study's length, and filling them divides by that length */
    ks_series none = {0};
    ks_series_window(&none, s.slot_start, 3600, 48, &w);
    KS_CHECK(w.slot_seconds == 3600 && w.nslots == 48 && isnan(w.cpu_mhz[0]));
    ana_series_fill(&w, 50);
    KS_CHECK_NEAR(w.cpu_mhz[47], 0, 0);
    ks_series_free(&w);

    /* a window of a series with gaps marks them unmeasured, and a fill keeps
     * the marks */
    ks_series g = {.slot_start = 86400 * 100, .slot_seconds = 3600, .nslots = 4};
    double *b[5];
    for (int k = 0; k < 5; k++) {
        b[k] = malloc(4 * sizeof(double));
        for (int i = 0; i < 4; i++)
            b[k][i] = i == 1 ? NAN : 100;
    }
    g.cpu_mhz = b[0];
    g.mem_bytes = b[1];
    g.disk_bps = b[2];
    g.disk_iops = b[3];
    g.net_bps = b[4];
    ks_series_window(&g, g.slot_start, g.slot_seconds, 4, &w);
    ana_series_fill(&w, 50);
    KS_CHECK(w.measured[0] && !w.measured[1] && w.measured[2] && w.measured[3]);
    KS_CHECK_NEAR(w.cpu_mhz[1], 100, 0);
    ks_series_free(&w);
    ks_series_free(&g);
    ks_series_free(&s);
}

static ana_policy pol;
static ana_model models[2];

static void setup(void)
{
    ks_ini *ini = ini_of("[policy]\n");
    ks_error err;
    ana_policy_parse(ini, &pol, &err);
    ks_ini_free(ini);
    models[0] = (ana_model){.name = "small",
                            .cores = 8,
                            .mhz = 2500,
                            .memory_gib = 64,
                            .storage_mbps = 400,
                            .iops = 20000,
                            .network_gbps = 10,
                            .speed_factor = 1};
    models[1] = (ana_model){.name = "big",
                            .cores = 32,
                            .mhz = 2500,
                            .memory_gib = 512,
                            .storage_mbps = NAN,
                            .iops = NAN,
                            .network_gbps = NAN,
                            .speed_factor = 1};
}

static ana_server_in quiet_server(void)
{
    return (ana_server_in){.name = "web01",
                           .role = "",
                           .has_data = true,
                           .confidence = 0.9,
                           .cpu_mhz = 1000,
                           .speed = 1,
                           .mem_bytes = 2 * GIB,
                           .disk_mbps = 5,
                           .disk_iops = 100,
                           .src_threads = 4,
                           .src_mem_bytes = 8 * GIB};
}

static bool has_reason(const ana_verdict *v, const char *text)
{
    for (size_t i = 0; i < v->nreasons; i++)
        if (strstr(v->reasons[i], text))
            return true;
    return false;
}

KS_TEST(rule_eligible)
{
    ana_server_in in = quiet_server();
    ana_verdict v;
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_ELIGIBLE);
    KS_CHECK(v.nreasons == 0);
    KS_CHECK_NEAR(v.memory_mib, 2560, 0); /* 2 GiB + 20% = 2457.6 MiB -> 2560 */
    ana_verdict_free(&v);
}

/* No memory measured: never a silent 1 GiB. */
KS_TEST(rule_memory_unknown)
{
    ana_server_in in = quiet_server();
    in.mem_bytes = NAN;
    ana_verdict v;
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_ELIGIBLE);
    KS_CHECK_NEAR(v.memory_mib, 8192, 0); /* the 8 GiB installed */
    KS_CHECK(has_reason(&v, "memory use was not measured: sized at the 8192 MiB installed"));
    ana_verdict_free(&v);

    in.src_mem_bytes = 0; /* installed memory unknown too */
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_CONDITIONAL);
    KS_CHECK_NEAR(v.memory_mib, 1024, 0);
    KS_CHECK(has_reason(&v, "installed memory is not known"));
    ana_verdict_free(&v);
}

KS_TEST(rule_too_busy)
{
    ana_server_in in = quiet_server();
    ana_verdict v;
    /* 9000 MHz x 1.2 = 10800 > 50% of 20000 (small), < 50% of 80000 (big) */
    in.cpu_mhz = 9000;
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_CONDITIONAL);
    KS_CHECK(v.too_busy[0] && !v.too_busy[1]);
    KS_CHECK(has_reason(&v, "too busy for some host models"));
    KS_CHECK(has_reason(&v, "needs 10800 MHz of CPU"));
    ana_verdict_free(&v);
    /* too busy for both */
    in.cpu_mhz = 40000;
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_NOT_ELIGIBLE);
    KS_CHECK(has_reason(&v, "too busy for one host"));
    ana_verdict_free(&v);
    /* memory: 40 GiB x 1.2 = 48 GiB > 32 GiB of small */
    in = quiet_server();
    in.mem_bytes = 40 * GIB;
    in.src_mem_bytes = 64 * GIB;
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.too_busy[0] && !v.too_busy[1]);
    KS_CHECK(has_reason(&v, "needs 48.0 GiB of memory"));
    ana_verdict_free(&v);
}

KS_TEST(rule_storage)
{
    ana_server_in in = quiet_server();
    ana_verdict v;
    in.disk_mbps = 300; /* > 50% of 400 MB/s; big has no storage budget */
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_CONDITIONAL && v.too_busy[0] && !v.too_busy[1]);
    KS_CHECK(has_reason(&v, "its disks move 300 MB/s"));
    ana_verdict_free(&v);
    in = quiet_server();
    in.disk_iops = 15000;
    ana_judge(&pol, models, 1, &in, &v);
    KS_CHECK(v.status == ANA_NOT_ELIGIBLE);
    KS_CHECK(has_reason(&v, "15000 I/O operations/s"));
    ana_verdict_free(&v);
}

KS_TEST(rule_network)
{
    ana_server_in in = quiet_server();
    ana_verdict v;
    in.net_mbps = 700; /* 5.6 Gbit/s > 50% of 10 Gbit/s; big has no network budget */
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_CONDITIONAL && v.too_busy[0] && !v.too_busy[1]);
    KS_CHECK(has_reason(&v, "its network moves 700 MB/s"));
    ana_verdict_free(&v);
    in.net_mbps = 600; /* 4.8 Gbit/s: fits */
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_ELIGIBLE && !v.too_busy[0]);
    ana_verdict_free(&v);
    in.net_mbps = NAN; /* unknown: no verdict on it */
    ana_judge(&pol, models, 1, &in, &v);
    KS_CHECK(v.status == ANA_ELIGIBLE);
    ana_verdict_free(&v);
}

KS_TEST(rule_blockers)
{
    ana_server_in in = quiet_server();
    const char *b[] = {"USB licence dongle 'SafeNet Sentinel' (0529:0001)"};
    in.blockers = b;
    in.nblockers = 1;
    ana_verdict v;
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_CONDITIONAL);
    KS_CHECK(has_reason(&v, "does not simply move into a VM: USB licence dongle"));
    ana_verdict_free(&v);
    pol.blocker_status = ANA_NOT_ELIGIBLE;
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_NOT_ELIGIBLE);
    ana_verdict_free(&v);
    pol.blocker_status = ANA_CONDITIONAL;
}

KS_TEST(rule_roles_and_ports)
{
    ana_server_in in = quiet_server();
    ana_verdict v;
    in.role = "backup";
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_NOT_ELIGIBLE);
    KS_CHECK(has_reason(&v, "its role is 'backup'"));
    ana_verdict_free(&v);
    in.role = "Infrastructure";
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_NOT_ELIGIBLE);
    KS_CHECK(has_reason(&v, "hypervisors depend on its services"));
    ana_verdict_free(&v);
    in.role = "web";
    long ports[] = {22, 53, 53, 2049};
    in.ports = ports;
    in.nports = 4;
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_CONDITIONAL);
    KS_CHECK(v.nreasons == 2); /* 53 once, 2049 */
    KS_CHECK(has_reason(&v, "serves DNS (listens on port 53)"));
    KS_CHECK(has_reason(&v, "serves NFS (listens on port 2049)"));
    ana_verdict_free(&v);
}

KS_TEST(rule_confidence)
{
    ana_server_in in = quiet_server();
    ana_verdict v;
    in.confidence = 0.14;
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_NOT_ELIGIBLE);
    KS_CHECK(has_reason(&v, "too little data: only 14% of the expected hourly samples"));
    ana_verdict_free(&v);
    in.confidence = 0.5; /* exactly the limit is enough */
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_ELIGIBLE);
    ana_verdict_free(&v);
    in.has_data = false;
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_NOT_ELIGIBLE);
    KS_CHECK(has_reason(&v, "no data"));
    ana_verdict_free(&v);
}

KS_TEST(rule_several_reasons)
{
    ana_server_in in = quiet_server();
    const char *b[] = {"Fibre Channel HBA 'QLogic QLE2562'"};
    long ports[] = {123};
    in.blockers = b;
    in.nblockers = 1;
    in.ports = ports;
    in.nports = 1;
    in.role = "backup";
    in.confidence = 0.1;
    ana_verdict v;
    ana_judge(&pol, models, 2, &in, &v);
    KS_CHECK(v.status == ANA_NOT_ELIGIBLE);
    KS_CHECK(v.nreasons == 4);
    KS_CHECK(has_reason(&v, "Fibre Channel") && has_reason(&v, "NTP") && has_reason(&v, "backup") &&
             has_reason(&v, "too little data"));
    ana_verdict_free(&v);
}

int main(void)
{
    setup();
    KS_RUN(policy_defaults);
    KS_RUN(policy_values_and_errors);
    KS_RUN(host_models);
    KS_RUN(percentiles);
    KS_RUN(percentiles_select);
    KS_RUN(sizing);
    KS_RUN(fill_missing);
    KS_RUN(fill_same_as_scan);
    KS_RUN(rule_eligible);
    KS_RUN(rule_memory_unknown);
    KS_RUN(rule_too_busy);
    KS_RUN(rule_storage);
    KS_RUN(rule_network);
    KS_RUN(rule_blockers);
    KS_RUN(rule_roles_and_ports);
    KS_RUN(rule_confidence);
    KS_RUN(rule_several_reasons);
    ana_policy_free(&pol);
    return ks_test_summary();
}
