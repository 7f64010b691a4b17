/* Unit tests of the load comparison (mig_compare_load) on series built in
 * memory, and of the switch and validate --load-only (mig_switch,
 * mig_validate) on a study with RRD files written by the collector's own
 * store code. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "col_rrd.h"
#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_inventory.h"
#include "ks_json.h"
#include "ks_mem.h"
#include "ks_study.h"
#include "check_find.h"
#include "ks_test.h"
#include "migrate.h"

#define HOUR 3600L
#define DAY (24 * HOUR)

/* A Monday 00:00 UTC */
static const time_t MONDAY = 1796601600; /* 2026-12-07 */

/* A server's usual day: busy from 9 to 17. */
typedef struct load {
    double cpu_mhz, cpu_pct, mem, disk, net, steal;
} load;

static load usual(time_t t)
{
    int h = (int)((t % DAY) / HOUR);
    bool busy = h >= 9 && h < 17;
    return (load){.cpu_mhz = busy ? 2000 : 400,
                  .cpu_pct = busy ? 25 : 5,
                  .mem = busy ? 6e9 : 4e9,
                  .disk = busy ? 8e6 : 1e6,
                  .net = busy ? 4e6 : 2e5,
                  .steal = 0};
}

typedef load (*load_fn)(time_t t);

/* n hourly slots from start, each f(t); mem_total 16 GB. */
static void series_make(ks_series *s, time_t start, size_t n, load_fn f)
{
    memset(s, 0, sizeof *s);
    s->slot_start = start;
    s->slot_seconds = HOUR;
    s->nslots = n;
    double **arrs[] = {&s->cpu_mhz, &s->mem_bytes, &s->disk_bps,  &s->disk_iops,
                       &s->net_bps, &s->cpu_pct,   &s->mem_total, &s->steal_pct};
    for (size_t a = 0; a < sizeof arrs / sizeof arrs[0]; a++)
        *arrs[a] = ks_malloc((n ? n : 1) * sizeof(double));
    s->measured = ks_calloc(n ? n : 1, 1);
    for (size_t i = 0; i < n; i++) {
        load l = f(start + (time_t)i * HOUR);
        s->cpu_mhz[i] = l.cpu_mhz;
        s->cpu_pct[i] = l.cpu_pct;
        s->mem_bytes[i] = l.mem;
        s->mem_total[i] = 16e9;
        s->disk_bps[i] = l.disk;
        s->disk_iops[i] = NAN;
        s->net_bps[i] = l.net;
        s->steal_pct[i] = l.steal;
        s->measured[i] = !isnan(l.cpu_mhz) || !isnan(l.cpu_pct); /* as ks_series_read's */
    }
}

static double data(const json_t *checks, const char *id, const char *key)
{
    const json_t *c = find(checks, id);
    return json_number_value(json_object_get(json_object_get(c, "data"), key));
}

/* Three weeks of the physical server, the cutover Monday 00:00 of the
 * fourth; the VM sampled for two days. */
static json_t *compare(load_fn phys, load_fn vm_load, size_t vm_hours)
{
    ks_series base, vm;
    series_make(&base, MONDAY - 21 * DAY, 21 * 24, phys);
    series_make(&vm, MONDAY, vm_hours, vm_load);
    json_t *checks = mig_compare_load(&base, &vm, MONDAY);
    ks_series_free(&base);
    ks_series_free(&vm);
    return checks;
}

/* The VM does what the server did: every check passes. */
KS_TEST(same_load_passes)
{
    json_t *c = compare(usual, usual, 48);
    KS_CHECK(json_array_size(c) == 7);
    const char *ids[] = {"load_coverage", "load_cpu",        "load_memory", "load_disk",
                         "load_network",  "load_saturation", "load_steal"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        KS_CHECK_STR(status(c, ids[i]), "pass");
    KS_CHECK(data(c, "load_coverage", "vm_hours") == 48);
    KS_CHECK(data(c, "load_coverage", "baseline_hours") == 21 * 24);
    /* every VM hour found its weekday's hour */
    KS_CHECK(said(c, "load_coverage", "same weekday: 48, of another day: 0"));
    KS_CHECK_NEAR(data(c, "load_cpu", "ratio"), 1.0, 1e-9);
    KS_CHECK_NEAR(data(c, "load_network", "vm_mean"), (8 * 4e6 + 16 * 2e5) / 24, 1);
    json_decref(c);
}

/* The hours of the baseline matter: a server busy only on Mondays,
 * compared on a Monday, is not compared with its quiet days. */
static load mondays(time_t t)
{
    load l = usual(t);
    bool monday = ((t - MONDAY) % (7 * DAY) + 7 * DAY) % (7 * DAY) < DAY;
    if (!monday)
        l.cpu_mhz = 100, l.net = 1e4, l.disk = 1e5;
    return l;
}

KS_TEST(same_weekday_compared)
{
    json_t *c = compare(mondays, mondays, 24);
    KS_CHECK_STR(status(c, "load_cpu"), "pass");
    KS_CHECK_STR(status(c, "load_network"), "pass");
    KS_CHECK_NEAR(data(c, "load_cpu", "ratio"), 1.0, 1e-9);
    json_decref(c);
}

/* A service that stopped: its network load gone, its CPU too. */
static load stopped(time_t t)
{
    load l = usual(t);
    l.net = 2e3;
    l.cpu_mhz = 60;
    l.cpu_pct = 1;
    return l;
}

static load stopped_pct_only(time_t t)
{
    load l = stopped(t);
    l.cpu_mhz = NAN;
    return l;
}

KS_TEST(drop_fails)
{
    json_t *c = compare(usual, stopped, 48);
    KS_CHECK_STR(status(c, "load_network"), "fail");
    KS_CHECK_STR(status(c, "load_cpu"), "fail");
    KS_CHECK(said(c, "load_network", "a service that no longer works"));
    KS_CHECK(said(c, "load_network", "lowest: Mon 09:00"));
    KS_CHECK_STR(status(c, "load_memory"), "pass");
    json_decref(c);
}

/* Half the load is a warning, not a failure. */
static load halved(time_t t)
{
    load l = usual(t);
    l.net *= 0.4;
    return l;
}

KS_TEST(partial_drop_warns)
{
    json_t *c = compare(usual, halved, 48);
    KS_CHECK_STR(status(c, "load_network"), "warn");
    json_decref(c);
}

/* The same work costing three times the CPU: a rise, a warning. */
static load costly(time_t t)
{
    load l = usual(t);
    l.cpu_mhz *= 3;
    l.cpu_pct *= 3;
    return l;
}

KS_TEST(rise_warns)
{
    json_t *c = compare(usual, costly, 48);
    KS_CHECK_STR(status(c, "load_cpu"), "warn");
    KS_CHECK(said(c, "load_cpu", "3.0 times"));
    KS_CHECK(said(c, "load_cpu", "highest: Mon 09:00"));
    KS_CHECK_STR(status(c, "load_saturation"), "pass");
    json_decref(c);
}

/* Short of CPU: saturated half the hours, and the host stealing. */
static load starved(time_t t)
{
    load l = usual(t);
    int h = (int)((t % DAY) / HOUR);
    l.cpu_pct = h < 12 ? 97 : 40;
    l.steal = 30;
    return l;
}

KS_TEST(saturation_and_steal_fail)
{
    json_t *c = compare(usual, starved, 48);
    KS_CHECK_STR(status(c, "load_saturation"), "fail");
    KS_CHECK(said(c, "load_saturation", "in 24 of 48 hours"));
    KS_CHECK_STR(status(c, "load_steal"), "fail");
    KS_CHECK_NEAR(data(c, "load_steal", "max_pct"), 30, 1e-9);
    json_decref(c);
}

/* Some steal now and then: a warning. */
static load some_steal(time_t t)
{
    load l = usual(t);
    l.steal = (t / HOUR) % 12 == 0 ? 12 : 1;
    return l;
}

KS_TEST(some_steal_warns)
{
    json_t *c = compare(usual, some_steal, 48);
    KS_CHECK_STR(status(c, "load_steal"), "warn");
    KS_CHECK(said(c, "load_steal", "in 4 of 48 hours"));
    json_decref(c);
}

/* A few hours of the VM only: coverage warns, the rest is judged. */
KS_TEST(short_sample_warns)
{
    json_t *c = compare(usual, usual, 3);
    KS_CHECK_STR(status(c, "load_coverage"), "warn");
    KS_CHECK(said(c, "load_coverage", "compare again after a full day"));
    KS_CHECK_STR(status(c, "load_cpu"), "pass");
    json_decref(c);
}

/* Not sampled yet: one check, a warning. */
KS_TEST(no_vm_sample)
{
    json_t *c = compare(usual, usual, 0);
    KS_CHECK(json_array_size(c) == 1);
    KS_CHECK_STR(status(c, "load_coverage"), "warn");
    KS_CHECK(said(c, "load_coverage", "not been sampled since the cutover"));
    json_decref(c);
}

/* The hour the services were stopped in (the cutover hour, quiet) is
 * not part of the baseline; a baseline of one day only is compared at the
 * same hour of another day. */
static load quiet_after_8(time_t t)
{
    load l = usual(t);
    if (t >= MONDAY - HOUR)
        l.net = 0, l.cpu_mhz = 0;
    return l;
}

KS_TEST(cutover_hour_left_out)
{
    ks_series base, vm;
    /* Sunday, the server's services stopped at 23:30 */
    series_make(&base, MONDAY - DAY, 24, quiet_after_8);
    series_make(&vm, MONDAY, 24, usual);
    json_t *c = mig_compare_load(&base, &vm, MONDAY - HOUR / 2);
    KS_CHECK(data(c, "load_coverage", "baseline_hours") == 23);
    KS_CHECK(said(c, "load_coverage",
                  "same weekday: 0, of another day: 23, with every "
                  "hour: 1"));
    KS_CHECK_STR(status(c, "load_network"), "pass");
    json_decref(c);
    ks_series_free(&base);
    ks_series_free(&vm);
}

/* CPU MHz unknown on one side: compared in %. */
static load no_mhz(time_t t)
{
    load l = usual(t);
    l.cpu_mhz = NAN;
    return l;
}

KS_TEST(cpu_in_percent_without_mhz)
{
    ks_series base, vm;
    series_make(&base, MONDAY - 7 * DAY, 7 * 24, usual);
    series_make(&vm, MONDAY, 24, no_mhz);
    json_t *c = mig_compare_load(&base, &vm, MONDAY);
    KS_CHECK(said(c, "load_coverage", "CPU compared in %"));
    KS_CHECK_STR(status(c, "load_cpu"), "pass");
    const json_t *cpu = find(c, "load_cpu");
    KS_CHECK_STR(json_string_value(json_object_get(json_object_get(cpu, "data"), "unit")), "%");
    json_decref(c);
    ks_series_free(&base);
    ks_series_free(&vm);
}

/* ---- the switch and validate --load-only, on files ---------------------- */

static char tmpdir[] = "/tmp/ks-test-load-XXXXXX";

static void write_text(const char *path, const char *text)
{
    ks_error err;
    KS_CHECK(ks_write_file_atomic(path, text, strlen(text), 0644, &err) == 0);
}

/* hours of f written from start, a sample a minute, into a new file */
static void rrd_write(const char *path, time_t start, size_t hours, load_fn f)
{
    ks_error err;
    KS_CHECK(col_rrd_create(path, start - 60, 60, &err) == 0);
    size_t n = hours * 60;
    col_sample *s = ks_calloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        time_t t = start + (time_t)i * 60;
        load l = f(t);
        double v[COL_DS_COUNT] = {l.cpu_pct,  l.cpu_mhz,  l.mem,  16e9,
                                  l.disk / 2, l.disk / 2, NAN,    NAN,
                                  l.net / 2,  l.net / 2,  l.steal};
        s[i].t = t;
        memcpy(s[i].v, v, sizeof v);
    }
    KS_CHECK(col_rrd_update_many(path, s, n, &err) == 0);
    free(s);
}

KS_TEST(switch_and_load_only)
{
    ks_error err;
    KS_AUTOFREE char *study = ks_path_join(tmpdir, "study");
    KS_CHECK(ks_study_init(study, &err) == 0);
    KS_AUTOFREE char *inv = ks_path_join(study, "inventory.csv");
    write_text(inv, "name,address,method,port\nweb,127.0.0.1,ssh,2200\ndb,127.0.0.1,ssh,2201\n");
    KS_AUTOFREE char *kh = ks_path_join(study, "known_hosts");
    write_text(kh, "[127.0.0.1]:2200 ssh-ed25519 AAAAKEYOFWEB\n"
                   "[127.0.0.1]:2201 ssh-ed25519 AAAAKEYOFDB\n");
    KS_AUTOFREE char *facts = ks_asprintf("%s/facts/web.json", study);
    write_text(facts, "{\"name\": \"web\", \"hostname\": \"web\"}\n");
    /* a week of the physical server, up to a cutover one hour ago */
    time_t now = time(NULL);
    time_t cut = now - now % HOUR - HOUR;
    KS_AUTOFREE char *rrd = ks_asprintf("%s/rrd/web.rrd", study);
    rrd_write(rrd, cut - 7 * DAY, 7 * 24, usual);

    /* validate --load-only before any switch: refused, nothing written */
    mig_validate_options vo = {.load_only = true, .quiet = true};
    KS_CHECK(mig_validate(study, "web", &vo, &err) == NULL);
    KS_CHECK(err.code == KS_E_USAGE && strstr(err.message, "has not been switched"));

    mig_switch_options so = {.cutover = cut, .address = "127.0.0.9", .port = 2299};
    json_t *rec = mig_switch(study, "web", &so, &err);
    KS_CHECK(rec != NULL);
    if (!rec) {
        fprintf(stderr, "%s\n", err.message);
        return;
    }
    KS_CHECK_STR(json_string_value(json_object_get(rec, "physical_rrd")), "physical/web.rrd");
    KS_CHECK(json_integer_value(json_object_get(rec, "host_keys")) == 1);
    json_decref(rec);
    KS_AUTOFREE char *prrd = ks_asprintf("%s/physical/web.rrd", study);
    KS_AUTOFREE char *pfacts = ks_asprintf("%s/physical/web.facts.json", study);
    KS_AUTOFREE char *kept = ks_asprintf("%s/validation/web.baseline.json", study);
    KS_CHECK(ks_path_exists(prrd) && !ks_path_exists(rrd));
    KS_CHECK(ks_path_exists(pfacts) && !ks_path_exists(facts) && ks_path_exists(kept));
    ks_inventory *i = ks_inventory_load(inv, &err);
    const ks_server *w = i ? ks_inventory_find(i, "web") : NULL;
    const ks_server *d = i ? ks_inventory_find(i, "db") : NULL;
    KS_CHECK(w && strcmp(w->address, "127.0.0.9") == 0 && w->port == 2299);
    KS_CHECK(d && strcmp(d->address, "127.0.0.1") == 0 && d->port == 2201);
    ks_inventory_free(i);
    size_t len;
    KS_AUTOFREE char *k = ks_read_file(kh, 1 << 20, &len, &err);
    KS_CHECK(k && strstr(k, "[127.0.0.9]:2299 ssh-ed25519 AAAAKEYOFWEB\n"));
    /* a second switch does nothing again */
    rec = mig_switch(study, "web", &so, &err);
    KS_CHECK(rec && json_is_true(json_object_get(rec, "already")));
    json_decref(rec);

    /* the VM not sampled yet */
    json_t *r = mig_validate(study, "web", &vo, &err);
    KS_CHECK(r != NULL);
    KS_CHECK_STR(json_string_value(json_object_get(r, "verdict")), "warn");
    KS_CHECK(json_array_size(json_object_get(r, "checks")) == 1);
    json_decref(r);

    /* the VM sampled an hour, its network load gone; its CPU in % only
     * (the collector did not know its CPUs yet) */
    rrd_write(rrd, cut + 60, 1, stopped_pct_only);
    r = mig_validate(study, "web", &vo, &err);
    KS_CHECK(r != NULL);
    if (r) {
        const json_t *c = json_object_get(r, "checks");
        KS_CHECK_STR(json_string_value(json_object_get(r, "verdict")), "fail");
        KS_CHECK_STR(status(c, "load_network"), "fail");
        KS_CHECK_STR(status(c, "load_coverage"), "warn");
        KS_CHECK_STR(status(c, "load_steal"), "pass");
        KS_CHECK(said(c, "load_coverage", "CPU compared in %"));
        KS_CHECK_STR(json_string_value(json_object_get(r, "address")), "127.0.0.9");
    }
    json_decref(r);
    KS_AUTOFREE char *res = ks_asprintf("%s/validation/web.json", study);
    KS_CHECK(ks_path_exists(res));
}

/* The cutovers of a night run in parallel processes, each switching its
 * server: every switch must be in the inventory and known_hosts after. */
KS_TEST(parallel_switches)
{
    enum { N = 12 };
    ks_error err;
    KS_AUTOFREE char *study = ks_path_join(tmpdir, "parallel");
    KS_CHECK(ks_study_init(study, &err) == 0);
    ks_buf inv, kh;
    ks_buf_init(&inv, 1 << 20);
    ks_buf_init(&kh, 1 << 20);
    ks_buf_appends(&inv, "name,address,method,port\n");
    for (int i = 0; i < N; i++) {
        ks_buf_printf(&inv, "s%d,127.0.0.1,ssh,%d\n", i, 3000 + i);
        ks_buf_printf(&kh, "[127.0.0.1]:%d ssh-ed25519 AAAAKEY%d\n", 3000 + i, i);
    }
    KS_AUTOFREE char *inv_path = ks_path_join(study, "inventory.csv");
    KS_AUTOFREE char *kh_path = ks_path_join(study, "known_hosts");
    write_text(inv_path, ks_buf_str(&inv));
    write_text(kh_path, ks_buf_str(&kh));
    ks_buf_free(&inv);
    ks_buf_free(&kh);
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            char name[16];
            snprintf(name, sizeof name, "s%d", i);
            mig_switch_options so = {.address = "127.0.0.2", .port = 4000 + i};
            json_t *rec = mig_switch(study, name, &so, &err);
            _exit(rec ? 0 : 1);
        }
    }
    int failed = 0;
    for (int i = 0; i < N; i++) {
        int st = 0;
        waitpid(pids[i], &st, 0);
        failed += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    KS_CHECK(failed == 0);
    ks_inventory *in = ks_inventory_load(inv_path, &err);
    KS_CHECK(in != NULL);
    size_t len;
    KS_AUTOFREE char *k = ks_read_file(kh_path, 1 << 20, &len, &err);
    for (int i = 0; in && k && i < N; i++) {
        char name[16], line[64];
        snprintf(name, sizeof name, "s%d", i);
        const ks_server *srv = ks_inventory_find(in, name);
        KS_CHECK(srv && strcmp(srv->address, "127.0.0.2") == 0 && srv->port == 4000 + i);
        snprintf(line, sizeof line, "[127.0.0.2]:%d ssh-ed25519 AAAAKEY%d\n", 4000 + i, i);
        KS_CHECK(strstr(k, line) != NULL);
    }
    ks_inventory_free(in);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    KS_RUN(same_load_passes);
    KS_RUN(same_weekday_compared);
    KS_RUN(drop_fails);
    KS_RUN(partial_drop_warns);
    KS_RUN(rise_warns);
    KS_RUN(saturation_and_steal_fail);
    KS_RUN(some_steal_warns);
    KS_RUN(short_sample_warns);
    KS_RUN(no_vm_sample);
    KS_RUN(cutover_hour_left_out);
    KS_RUN(cpu_in_percent_without_mhz);
    KS_RUN(switch_and_load_only);
    KS_RUN(parallel_switches);
    KS_AUTOFREE char *rm = ks_asprintf("rm -rf '%s'", tmpdir);
    if (system(rm) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return ks_test_summary();
}
