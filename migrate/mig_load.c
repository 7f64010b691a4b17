/* mig_load.c: after the move, the VM's load against its physical
 * server's.
 *
 * The switch (mig_switch): once a server is migrated, its RRD history and
 * facts move to STUDY/physical/ (the baseline, never written again), its
 * inventory line goes to where the VM is collected when that is not the
 * server's own address, and STUDY/physical/NAME.json records the cutover.
 * The collector then samples the VM into a new STUDY/rrd/NAME.rrd and
 * takes the VM's facts, as for any server.
 *
 * The comparison (mig_compare_load, pure): both series in hourly slots
 * (the highest 5-minute average of each hour, as the analyzer sizes on).
 * Each hour of the VM is set against the baseline's median at the same
 * hour of the same weekday (all the weeks the collector saw before the
 * cutover); when the baseline has no such hour, the same hour of any day;
 * else every hour of the baseline, and the coverage check says which.
 * What matters is flagged: a drop (a service that stopped working takes
 * its CPU, disk and network load with it), a rise (the same work costing
 * more: emulated devices, a process spinning), the VM's CPU or memory
 * saturated, and steal time (a VM short of CPU on its host).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_inventory.h"
#include "ks_json.h"
#include "ks_mem.h"
#include "ks_series.h"
#include "ks_study.h"
#include "ks_time.h"
#include "mig_load.h"
#include "migrate.h"

#define HOUR 3600L
#define WEEK_KEYS 168

/* ---- the metrics -------------------------------------------------------- */

enum { M_CPU, M_MEM, M_DISK, M_NET, M_N };

typedef struct metric {
    const char *id, *what;
    double floor;     /* below it on both sides: idle, not compared */
    bool drop_fails;  /* a drop under DROP_FAIL is a failure (else a warning) */
    const char *rise; /* why the same work could cost more on the VM */
} metric;

/* CPU in MHz when both sides have it; CPU_PCT_FLOOR when compared in %. */
static const metric metrics[M_N] = {
    {"load_cpu", "CPU", 100.0, true,
     "the same work costing more CPU: emulated devices instead of virtio, a process spinning, "
     "a slower host CPU"},
    {"load_memory", "memory", 128.0 * 1048576, false,
     "more memory in use: a process leaking or started twice"},
    {"load_disk", "disk I/O", 256.0 * 1024, false,
     "more disk I/O: swapping in less memory, a journal replayed, an index rebuilt"},
    {"load_network", "network", 32.0 * 1024, true,
     "more traffic: retries, or clients that moved from another server"},
};
#define CPU_PCT_FLOOR 2.0
#define DROP_WARN 0.5
#define DROP_FAIL 0.2
#define RISE_WARN 2.0
#define SATURATED_PCT 90.0
#define MEM_FULL 0.95
#define STEAL_WARN 10.0
#define STEAL_FAIL 20.0
#define LOAD_FULL_HOURS 24

/* The value of metric m in slot i of s (CPU in MHz, or in % with pct). */
static double value(const ks_series *s, int m, size_t i, bool pct)
{
    switch (m) {
    case M_CPU:
        return pct ? (s->cpu_pct ? s->cpu_pct[i] : NAN) : s->cpu_mhz[i];
    case M_MEM:
        return s->mem_bytes[i];
    case M_DISK:
        return s->disk_bps[i];
    default:
        return s->net_bps[i];
    }
}

static void human(int m, bool pct, double v, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "unknown");
    else if (m == M_CPU)
        snprintf(buf, n, pct ? "%.1f %%" : "%.0f MHz", v);
    else if (m == M_MEM)
        snprintf(buf, n, v >= 1073741824.0 ? "%.2f GiB" : "%.0f MiB",
                 v >= 1073741824.0 ? v / 1073741824.0 : v / 1048576.0);
    else if (v >= 1048576.0)
        snprintf(buf, n, "%.1f MB/s", v / 1e6);
    else
        snprintf(buf, n, "%.0f kB/s", v / 1e3);
}

/* "hour" or "hours" after n. */
static const char *hours_word(size_t n)
{
    return n == 1 ? "hour" : "hours";
}

/* "Tue 14:00" (local time, as the keys). */
static void hour_name(time_t t, char buf[16])
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, 16, "%a %H:00", &tm);
}

static int week_key(time_t t)
{
    struct tm tm;
    localtime_r(&t, &tm);
    return tm.tm_wday * 24 + tm.tm_hour;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of the known values among v[0..n); NAN when none. Sorts v. */
static double median(double *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            v[k++] = v[i];
    if (!k)
        return NAN;
    ks_qsort(v, k, sizeof *v, cmp_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

/* The baseline's medians per hour of the week (168 keys), per hour of the
 * day (24) and over everything (1), for each metric and for cpu_pct. */
enum { B_WEEK = 0, B_DAY = WEEK_KEYS, B_ALL = WEEK_KEYS + 24, B_N };
enum { X_PCT = M_N, X_N }; /* cpu_pct beside the metrics */
typedef struct baseline {
    double med[X_N][B_N];
    size_t hours[B_N]; /* baseline hours behind each bucket */
    size_t total;
} baseline;

/* Median of vals per group (group[i] in [0, ngroups), -1: none), into
 * out[ngroups]; NAN for a group without a known value. One counting sort,
 * then each group's median. */
static void group_medians(const int *group, const double *vals, size_t n, int ngroups, double *out)
{
    size_t *first = ks_calloc((size_t)ngroups + 1, sizeof *first);
    for (size_t i = 0; i < n; i++)
        if (group[i] >= 0)
            first[group[i] + 1]++;
    for (int g = 0; g < ngroups; g++)
        first[g + 1] += first[g];
    size_t *next = ks_malloc((size_t)ngroups * sizeof *next);
    memcpy(next, first, (size_t)ngroups * sizeof *next);
    double *sorted = ks_malloc((n ? n : 1) * sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        if (group[i] >= 0)
            sorted[next[group[i]]++] = vals[i];
    for (int g = 0; g < ngroups; g++)
        out[g] = median(sorted + first[g], first[g + 1] - first[g]);
    free(sorted);
    free(next);
    free(first);
}

static void baseline_make(const ks_series *s, time_t cutover, bool cpu_pct, baseline *b)
{
    memset(b, 0, sizeof *b);
    size_t n = s->nslots;
    /* each usable hour's group: its hour of the week, its hour of the day,
     * and one group for all */
    int *week = ks_malloc((n ? n : 1) * sizeof *week);
    int *day = ks_malloc((n ? n : 1) * sizeof *day);
    int *all = ks_malloc((n ? n : 1) * sizeof *all);
    for (size_t i = 0; i < n; i++) {
        time_t t = s->slot_start + (time_t)i * s->slot_seconds;
        /* only hours wholly before the cutover: the hour the services were
         * stopped in is not the server's normal load */
        bool use = s->measured[i] && t + s->slot_seconds <= cutover;
        week[i] = use ? week_key(t) : -1;
        day[i] = use ? week[i] % 24 : -1;
        all[i] = use ? 0 : -1;
        if (use) {
            b->hours[B_WEEK + week[i]]++;
            b->hours[B_DAY + day[i]]++;
            b->hours[B_ALL]++;
            b->total++;
        }
    }
    double *v = ks_malloc((n ? n : 1) * sizeof *v);
    for (int x = 0; x < X_N; x++) {
        for (size_t i = 0; i < n; i++)
            v[i] = x == X_PCT ? (s->cpu_pct ? s->cpu_pct[i] : NAN) : value(s, x, i, cpu_pct);
        group_medians(week, v, n, WEEK_KEYS, &b->med[x][B_WEEK]);
        group_medians(day, v, n, 24, &b->med[x][B_DAY]);
        group_medians(all, v, n, 1, &b->med[x][B_ALL]);
    }
    free(v);
    free(all);
    free(day);
    free(week);
}

/* The bucket a VM hour is compared with: the same hour of the same
 * weekday, else of any day, else everything. */
static int bucket_for(const baseline *b, time_t t)
{
    int k = week_key(t);
    if (b->hours[B_WEEK + k])
        return B_WEEK + k;
    if (b->hours[B_DAY + k % 24])
        return B_DAY + k % 24;
    return B_ALL;
}

static bool all_nan(const double *v, size_t n)
{
    if (!v)
        return true;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            return false;
    return true;
}

/* vb: each VM slot's bucket (bucket_for), -1 for a slot that is no VM
 * hour (before the cutover, or not sampled). */
static void compare_metric(json_t *checks, const baseline *b, const ks_series *vm, const int *vb,
                           int m, bool pct)
{
    const metric *mt = &metrics[m];
    mig_check c = mig_check_new(mt->id);
    double floor = m == M_CPU && pct ? CPU_PCT_FLOOR : mt->floor;
    double sum_vm = 0, sum_base = 0;
    size_t n = 0;
    /* the hours furthest below and above the baseline, for the evidence */
    double low_r = INFINITY, high_r = 0;
    size_t low_i = 0, high_i = 0;
    int low_b = 0, high_b = 0;
    for (size_t i = 0; i < vm->nslots; i++) {
        double v = value(vm, m, i, pct);
        if (vb[i] < 0 || isnan(v))
            continue;
        int bk = vb[i];
        double ref = b->med[m][bk];
        if (isnan(ref))
            continue;
        sum_vm += v;
        sum_base += ref;
        n++;
        double r = (v + floor) / (ref + floor);
        if (r < low_r) {
            low_r = r;
            low_i = i;
            low_b = bk;
        }
        if (r > high_r) {
            high_r = r;
            high_i = i;
            high_b = bk;
        }
    }
    json_t *data = json_object();
    json_object_set_new(data, "unit",
                        json_string(m == M_CPU   ? (pct ? "%" : "MHz")
                                    : m == M_MEM ? "bytes"
                                                 : "bytes/s"));
    json_object_set_new(data, "hours", json_integer((json_int_t)n));
    if (!n) {
        mig_evidence(&c, L_WARN, "no hour with a %s value on both sides", mt->what);
        json_object_set_new(c.o, "data", data);
        mig_finish(checks, &c, "%s not compared", mt->what);
        return;
    }
    double vm_mean = sum_vm / (double)n, base_mean = sum_base / (double)n;
    double ratio = (vm_mean + floor) / (base_mean + floor);
    json_object_set_new(data, "vm_mean", json_real(vm_mean));
    json_object_set_new(data, "baseline_mean", json_real(base_mean));
    json_object_set_new(data, "ratio", json_real(round(ratio * 1000) / 1000));
    json_object_set_new(c.o, "data", data);
    char vs[32], bs[32], hn[16], x[32], y[32];
    human(m, pct, vm_mean, vs, sizeof vs);
    human(m, pct, base_mean, bs, sizeof bs);
    if (vm_mean < floor && base_mean < floor) {
        mig_evidence(&c, L_PASS, "idle on both sides: %s on the VM, %s on the physical server", vs,
                     bs);
        mig_finish(checks, &c, "%s: idle on both (%s, %s)", mt->what, vs, bs);
        return;
    }
    if (ratio < DROP_WARN) {
        /* a drop of a load too small to tell a stopped service from a
         * quiet day is a warning, whatever the metric */
        bool fails = mt->drop_fails && ratio < DROP_FAIL && base_mean >= 4 * floor;
        mig_evidence(
            &c, fails ? L_FAIL : L_WARN,
            "%s on the VM is %.0f%% of the physical server's at the same hours (%s against "
            "%s): a service that no longer works, or its clients not sent to the VM?",
            mt->what, 100 * vm_mean / base_mean, vs, bs);
    } else if (ratio > RISE_WARN && vm_mean - base_mean > floor) {
        mig_evidence(&c, L_WARN,
                     "%s on the VM is %.1f times the physical server's (%s against %s): %s",
                     mt->what, vm_mean / fmax(base_mean, floor / 10), vs, bs, mt->rise);
    } else {
        mig_evidence(&c, L_PASS, "%s on the VM %s, on the physical server %s at the same hours",
                     mt->what, vs, bs);
    }
    /* the hours furthest off, when they are off */
    if (low_r < DROP_WARN) {
        hour_name(vm->slot_start + (time_t)low_i * vm->slot_seconds, hn);
        human(m, pct, value(vm, m, low_i, pct), x, sizeof x);
        human(m, pct, b->med[m][low_b], y, sizeof y);
        mig_evidence(&c, L_PASS, "lowest: %s, %s against %s", hn, x, y);
    }
    if (high_r > RISE_WARN) {
        hour_name(vm->slot_start + (time_t)high_i * vm->slot_seconds, hn);
        human(m, pct, value(vm, m, high_i, pct), x, sizeof x);
        human(m, pct, b->med[m][high_b], y, sizeof y);
        mig_evidence(&c, L_PASS, "highest: %s, %s against %s", hn, x, y);
    }
    mig_finish(checks, &c, "%s %s against %s (%.0f%%) over %zu %s", mt->what, vs, bs, 100 * ratio,
               n, hours_word(n));
}

static void compare_saturation(json_t *checks, const baseline *b, const ks_series *vm,
                               const int *vb, size_t hours)
{
    mig_check c = mig_check_new("load_saturation");
    size_t cpu_sat = 0, cpu_as_before = 0, mem_full = 0;
    double cpu_max = NAN, mem_max = NAN;
    time_t cpu_at = 0, mem_at = 0;
    for (size_t i = 0; i < vm->nslots; i++) {
        if (vb[i] < 0)
            continue;
        time_t t = vm->slot_start + (time_t)i * vm->slot_seconds;
        double p = vm->cpu_pct ? vm->cpu_pct[i] : NAN;
        if (!isnan(p) && (isnan(cpu_max) || p > cpu_max)) {
            cpu_max = p;
            cpu_at = t;
        }
        if (!isnan(p) && p >= SATURATED_PCT) {
            cpu_sat++;
            double before = b->med[X_PCT][vb[i]];
            cpu_as_before += !isnan(before) && before >= SATURATED_PCT;
        }
        double used = vm->mem_bytes[i], total = vm->mem_total ? vm->mem_total[i] : NAN;
        if (!isnan(used) && total > 0) {
            double f = used / total;
            if (isnan(mem_max) || f > mem_max) {
                mem_max = f;
                mem_at = t;
            }
            mem_full += f >= MEM_FULL;
        }
    }
    char hn[16];
    if (isnan(cpu_max)) {
        mig_evidence(&c, L_WARN, "the VM's CPU use in %% is not known");
    } else if (cpu_sat) {
        /* saturated in a quarter of the hours, and not as the physical
         * server was: too few vCPUs */
        bool fails = cpu_sat * 4 >= hours && cpu_sat > cpu_as_before;
        hour_name(cpu_at, hn);
        mig_evidence(
            &c, fails ? L_FAIL : L_WARN,
            "CPU at %.0f%% or more of its vCPUs in %zu of %zu hours (highest %.0f%%, %s)%s",
            SATURATED_PCT, cpu_sat, hours, cpu_max, hn,
            cpu_as_before ? ", some of them as the physical server was at those hours"
                          : ": give it more vCPUs, or move it to a less busy host");
    } else {
        hour_name(cpu_at, hn);
        mig_evidence(&c, L_PASS, "CPU at most %.0f%% of its vCPUs (%s)", cpu_max, hn);
    }
    if (isnan(mem_max)) {
        mig_evidence(&c, L_WARN, "the VM's memory use is not known");
    } else if (mem_full) {
        hour_name(mem_at, hn);
        mig_evidence(&c, mem_full * 4 >= hours ? L_FAIL : L_WARN,
                     "memory %.0f%% or more used in %zu of %zu hours (highest %.0f%%, %s): give it "
                     "more memory",
                     100 * MEM_FULL, mem_full, hours, 100 * mem_max, hn);
    } else {
        hour_name(mem_at, hn);
        mig_evidence(&c, L_PASS, "memory at most %.0f%% used (%s)", 100 * mem_max, hn);
    }
    mig_finish(checks, &c, "CPU %s, memory %s",
               isnan(cpu_max) ? "unknown"
               : cpu_sat      ? "saturated"
                              : "not saturated",
               isnan(mem_max) ? "unknown"
               : mem_full     ? "full"
                              : "not full");
}

static void compare_steal(json_t *checks, const ks_series *vm, const int *vb, size_t hours)
{
    mig_check c = mig_check_new("load_steal");
    size_t warn = 0, bad = 0, known = 0;
    double max = NAN;
    time_t at = 0;
    for (size_t i = 0; vm->steal_pct && i < vm->nslots; i++) {
        double s = vm->steal_pct[i];
        if (vb[i] < 0 || isnan(s))
            continue;
        time_t t = vm->slot_start + (time_t)i * vm->slot_seconds;
        known++;
        warn += s >= STEAL_WARN;
        bad += s >= STEAL_FAIL;
        if (isnan(max) || s > max) {
            max = s;
            at = t;
        }
    }
    char hn[16];
    if (!known) {
        mig_evidence(
            &c, L_WARN,
            "steal time not measured (an SNMP agent, or a file made before cpu_steal_pct)");
        mig_finish(checks, &c, "unknown");
        return;
    }
    hour_name(at, hn);
    if (bad * 4 >= hours && bad)
        mig_evidence(
            &c, L_FAIL,
            "the host gave %.0f%% or more of the VM's CPU time to others in %zu of %zu hours "
            "(highest %.1f%%, %s): its host is overcommitted; move it or others",
            STEAL_FAIL, bad, hours, max, hn);
    else if (warn)
        mig_evidence(
            &c, L_WARN,
            "steal time of %.0f%% or more in %zu of %zu hours (highest %.1f%%, %s): its host "
            "is short of CPU at times",
            STEAL_WARN, warn, hours, max, hn);
    else
        mig_evidence(&c, L_PASS, "steal time at most %.1f%% (%s)", max, hn);
    json_object_set_new(
        c.o, "data", json_pack("{s:f,s:I}", "max_pct", max, "hours_over_warn", (json_int_t)warn));
    mig_finish(checks, &c, "at most %.1f%% of the VM's CPU time", max);
}

json_t *mig_compare_load(const ks_series *base, const ks_series *vm, time_t cutover)
{
    json_t *checks = json_array();
    mig_check cov = mig_check_new("load_coverage");
    char cut[KS_TIME_ISO_LEN];
    ks_time_iso(cutover, cut);
    /* in MHz when both sides have it: the work, whatever the CPUs */
    bool pct = all_nan(base->cpu_mhz, base->nslots) || all_nan(vm->cpu_mhz, vm->nslots);
    baseline b;
    baseline_make(base, cutover, pct, &b);
    /* the VM's hours (after the cutover, sampled) and their buckets, once */
    int *vb = ks_malloc((vm->nslots ? vm->nslots : 1) * sizeof *vb);
    size_t hours = 0, week = 0, day = 0, all = 0;
    for (size_t i = 0; i < vm->nslots; i++) {
        time_t t = vm->slot_start + (time_t)i * vm->slot_seconds;
        vb[i] = vm->measured[i] && t + vm->slot_seconds > cutover ? bucket_for(&b, t) : -1;
        if (vb[i] < 0)
            continue;
        hours++;
        week += vb[i] < B_DAY;
        day += vb[i] >= B_DAY && vb[i] < B_ALL;
        all += vb[i] == B_ALL;
    }
    json_object_set_new(cov.o, "data",
                        json_pack("{s:s,s:I,s:I}", "cutover_at", cut, "vm_hours", (json_int_t)hours,
                                  "baseline_hours", (json_int_t)b.total));
    if (!hours) {
        mig_evidence(&cov, L_WARN,
                     "the VM has not been sampled since the cutover (%s): collect it (kvmshift "
                     "collect) for a day or more, then validate again",
                     cut);
        mig_finish(checks, &cov, "no sample of the VM yet");
        free(vb);
        return checks;
    }
    if (!b.total) {
        mig_evidence(
            &cov, L_WARN,
            "the physical server has no sample before the cutover (%s): nothing to compare "
            "with",
            cut);
        mig_finish(checks, &cov, "no baseline");
        free(vb);
        return checks;
    }
    mig_evidence(&cov, hours < LOAD_FULL_HOURS ? L_WARN : L_PASS,
                 "%zu %s of the VM since the cutover (%s)%s", hours, hours_word(hours), cut,
                 hours < LOAD_FULL_HOURS ? ": compare again after a full day, and a full week"
                                         : "");
    mig_evidence(&cov, L_PASS,
                 "%zu %s of the physical server before it; the VM's hours compared with the same "
                 "hour of the same weekday: %zu, of another day: %zu, with every hour: %zu",
                 b.total, hours_word(b.total), week, day, all);
    if (pct)
        mig_evidence(&cov, L_PASS,
                     "CPU compared in %% of each machine's CPUs: its MHz are not known on both "
                     "sides");
    mig_finish(checks, &cov, "%zu %s of the VM against %zu of the physical server", hours,
               hours_word(hours), b.total);
    for (int m = 0; m < M_N; m++)
        compare_metric(checks, &b, vm, vb, m, pct);
    compare_saturation(checks, &b, vm, vb, hours);
    compare_steal(checks, vm, vb, hours);
    free(vb);
    return checks;
}

/* ---- the switch --------------------------------------------------------- */

static char *host_label(const char *address, int port)
{
    return port == 22 ? ks_strdup(address) : ks_asprintf("[%s]:%d", address, port);
}

/* Copy the study's known_hosts lines of from to to (the VM is the same
 * machine, with the same keys, collected at another address), unless to
 * has keys already. The number of keys to has then; hashed names cannot
 * be matched. */
static int known_hosts_copy(const char *path, const char *from, const char *to, ks_error *err)
{
    if (!ks_path_exists(path))
        return 0;
    size_t len;
    KS_AUTOFREE char *text = ks_read_file(path, (size_t)1 << 26, &len, err);
    if (!text)
        return -1;
    ks_buf out;
    ks_buf_init(&out, (size_t)1 << 27);
    ks_buf_append(&out, text, len);
    if (len && text[len - 1] != '\n')
        ks_buf_appends(&out, "\n");
    int copied = 0, present = 0;
    char *lsave = NULL;
    for (char *line = strtok_r(text, "\n", &lsave); line; line = strtok_r(NULL, "\n", &lsave)) {
        char *sp = strchr(line, ' ');
        if (!sp || *line == '#')
            continue;
        /* the host field: names separated by commas */
        KS_AUTOFREE char *hosts = ks_strndup(line, (size_t)(sp - line));
        bool mine = false, theirs = false;
        char *hsave = NULL;
        for (char *h = strtok_r(hosts, ",", &hsave); h; h = strtok_r(NULL, ",", &hsave)) {
            mine |= strcmp(h, from) == 0;
            theirs |= strcmp(h, to) == 0;
        }
        present += theirs;
        if (mine && !theirs) {
            ks_buf_printf(&out, "%s%s\n", to, sp);
            copied++;
        }
    }
    int rc = present || !copied ? 0 : ks_write_file_atomic(path, out.data, out.len, 0600, err);
    ks_buf_free(&out);
    return rc < 0 ? -1 : present ? present : copied;
}

static char *physical_path(const char *study_dir, const char *server, const char *suffix)
{
    return ks_asprintf("%s/physical/%s%s", study_dir, server, suffix);
}

/* Move from to to unless to is there already (a switch done again after
 * a crash); a missing from is fine. 1 moved, 0 nothing to do, -1 err. */
static int move_aside(const char *from, const char *to, ks_error *err)
{
    if (ks_path_exists(to) || !ks_path_exists(from))
        return 0;
    if (rename(from, to) != 0) {
        ks_error_set(err, KS_E_IO, errno, "cannot move %s to %s", from, to);
        return -1;
    }
    return ks_fsync_parent(to, err) < 0 ? -1 : 1;
}

/* The switch of srv, once its record is known to be missing. */
static json_t *switch_server(const char *study_dir, const ks_server *srv, const char *inv_path,
                             const mig_switch_options *o, ks_error *err)
{
    const char *server = srv->name;
    const char *address = o->address && *o->address ? o->address : srv->address;
    int port = o->port > 0 ? o->port : srv->port;
    bool moved = strcmp(address, srv->address) != 0 || port != srv->port;
    if (moved && srv->method != KS_METHOD_SSH) {
        ks_error_set(err, KS_E_USAGE, 0,
                     "'%s' is collected by %s: its VM is collected at the same address; change "
                     "%s by hand if it moved",
                     server, ks_method_name(srv->method), inv_path);
        return NULL;
    }
    /* the physical server's facts kept as the validation's baseline first:
     * the collector takes the VM's next */
    ks_error fe;
    json_t *facts = mig_baseline_load(study_dir, server, &fe);
    if (!facts && fe.code != KS_E_USAGE) {
        ks_error_copy(err, &fe);
        return NULL;
    }
    json_decref(facts);
    KS_AUTOFREE char *dir = ks_path_join(study_dir, "physical");
    KS_AUTOFREE char *rrd = ks_asprintf("%s/rrd/%s.rrd", study_dir, server);
    KS_AUTOFREE char *prrd = physical_path(study_dir, server, ".rrd");
    KS_AUTOFREE char *fjs = ks_asprintf("%s/facts/%s.json", study_dir, server);
    KS_AUTOFREE char *pfjs = physical_path(study_dir, server, ".facts.json");
    if (ks_mkdir_p(dir, err) < 0 || move_aside(rrd, prrd, err) < 0 ||
        move_aside(fjs, pfjs, err) < 0)
        return NULL;
    time_t now = time(NULL);
    char cut[KS_TIME_ISO_LEN], at[KS_TIME_ISO_LEN];
    ks_time_iso(o->cutover ? o->cutover : now, cut);
    ks_time_iso(now, at);
    json_t *rec = json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:i}", "server", server, "cutover_at", cut,
                            "switched_at", at, "address_before", srv->address, "port_before",
                            srv->port, "address", address, "port", port);
    json_object_set_new(rec, "physical_rrd",
                        ks_path_exists(prrd) ? json_sprintf("physical/%s.rrd", server)
                                             : json_null());
    json_object_set_new(rec, "physical_facts",
                        ks_path_exists(pfjs) ? json_sprintf("physical/%s.facts.json", server)
                                             : json_null());
    if (moved) {
        KS_AUTOFREE char *known = ks_path_join(study_dir, "known_hosts");
        KS_AUTOFREE char *from = host_label(srv->address, srv->port);
        KS_AUTOFREE char *to = host_label(address, port);
        int keys = known_hosts_copy(known, from, to, err);
        if (keys < 0 || ks_inventory_set_access(inv_path, server, address, port, err) < 0) {
            json_decref(rec);
            return NULL;
        }
        json_object_set_new(rec, "host_keys", json_integer(keys));
    }
    KS_AUTOFREE char *rec_path = physical_path(study_dir, server, ".json");
    if (ks_json_write_file(rec_path, rec, err) < 0) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}

/* mig_switch under the study's writer lock. */
static json_t *switch_locked(const char *study_dir, const char *server,
                             const mig_switch_options *opt, ks_error *err)
{
    mig_switch_options o = opt ? *opt : (mig_switch_options){0};
    KS_AUTOFREE char *rec_path = physical_path(study_dir, server, ".json");
    if (ks_path_exists(rec_path)) {
        json_t *rec = ks_json_read_file(rec_path, err);
        if (rec)
            json_object_set_new(rec, "already", json_true());
        return rec;
    }
    KS_AUTOFREE char *inv_path = ks_path_join(study_dir, "inventory.csv");
    ks_inventory *inv = ks_inventory_load(inv_path, err);
    if (!inv)
        return NULL;
    json_t *rec = NULL;
    const ks_server *srv = ks_inventory_find(inv, server);
    if (!srv)
        ks_error_set(err, KS_E_USAGE, 0, "no server '%s' in %s", server, inv_path);
    else
        rec = switch_server(study_dir, srv, inv_path, &o, err);
    ks_inventory_free(inv);
    return rec;
}

json_t *mig_switch(const char *study_dir, const char *server, const mig_switch_options *opt,
                   ks_error *err)
{
    ks_error_clear(err);
    /* under the study's writer lock: the cutovers of a night run in
     * parallel, and each rewrites inventory.csv and known_hosts (read,
     * change, replace), as an import does; two at once would lose one's
     * change */
    ks_study *study = ks_study_open_writer(study_dir, "kvmshift switch", err);
    if (!study)
        return NULL;
    json_t *rec = switch_locked(study_dir, server, opt, err);
    ks_study_free(study); /* the lock goes with it */
    return rec;
}

int mig_load_checks(const char *study_dir, const char *server, json_t *checks, ks_error *err)
{
    KS_AUTOFREE char *rec_path = physical_path(study_dir, server, ".json");
    if (!ks_path_exists(rec_path))
        return 0;
    json_t *rec = ks_json_read_file(rec_path, err);
    if (!rec)
        return -1;
    time_t cutover = 0;
    const char *cut = json_string_value(json_object_get(rec, "cutover_at"));
    if (!cut || !ks_time_parse_iso(cut, &cutover)) {
        ks_error_set(err, KS_E_PARSE, 0, "%s: no cutover_at time", rec_path);
        json_decref(rec);
        return -1;
    }
    json_decref(rec);
    KS_AUTOFREE char *prrd = physical_path(study_dir, server, ".rrd");
    KS_AUTOFREE char *rrd = ks_asprintf("%s/rrd/%s.rrd", study_dir, server);
    ks_series base = {0}, vm = {0};
    /* a missing file is an empty series: the checks say what is missing */
    int rc =
        (ks_path_exists(prrd) && ks_series_read(prrd, HOUR, 0, KS_SERIES_LOAD, &base, err) < 0) ||
                (ks_path_exists(rrd) && ks_series_read(rrd, HOUR, 0, KS_SERIES_LOAD, &vm, err) < 0)
            ? -1
            : 1;
    if (rc > 0) {
        json_t *more = mig_compare_load(&base, &vm, cutover);
        json_array_extend(checks, more);
        json_decref(more);
    }
    ks_series_free(&base);
    ks_series_free(&vm);
    return rc;
}
