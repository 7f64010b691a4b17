/* bench_rrd.c: samples per second through kvmshift's RRD store
 * (collector/col_rrd.c), written with librrd directly or through rrdcached.
 * Run on demand by bench_rrd.sh, which runs both ways in one run and prints
 * the ratios; not a ctest test, and nothing here asserts a time.
 *
 *   bench_rrd --dir DIR [--files N] [--samples S] [--daemon ADDR]
 *             [--daemon-pid PID] [--json FILE]
 *
 * Phases, each timed on its own (wall clock and this process's CPU):
 *   create  col_store_prepare of N new files, one after the other
 *   update  S samples per file, round robin (one update per server per
 *           interval, as the collector does), one col_store_update each
 *   flush   col_store_flush (through rrdcached: the daemon writes what it
 *           holds; directly: nothing to do)
 * then, untimed, every file is read back with librrd to check that its
 * last update is the last sample sent (so no sample was skipped or lost).
 *
 * Timestamps: col_store_prepare gives a new file a last update of "now -
 * 10 s", and col_store_update silently skips (returns 0) a time that is not
 * after it, so the samples cannot lie in the past: they are t0 + k * 60 with
 * t0 the next whole minute after the files are made, i.e. in the future.
 * Neither librrd nor rrdcached minds that.
 *
 * With --daemon-pid, the daemon's CPU (utime + stime from /proc/PID/stat) is
 * read at each phase boundary too.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <rrd.h>

#include "col_rrd.h"
#include "ks_error.h"
#include "ks_fs.h"
#include "ks_json.h"
#include "ks_mem.h"
#include "ks_parse.h"

#define STEP 60

typedef struct opts {
    const char *dir;
    long files;
    long samples;
    const char *daemon; /* NULL: direct */
    long daemon_pid;    /* 0: not measured */
    const char *json;
} opts;

/* A point in time as the three clocks see it. */
typedef struct mark {
    double wall;   /* CLOCK_MONOTONIC, s */
    double user;   /* this process, s */
    double sys;    /* this process, s */
    double daemon; /* the daemon's user + system, s; NAN when not measured */
} mark;

/* What one phase cost. */
typedef struct phase {
    double wall, user, sys, cpu, daemon;
} phase;

static void usage(FILE *f)
{
    fputs("usage: bench_rrd --dir DIR [--files N] [--samples S] [--daemon ADDR]\n"
          "                 [--daemon-pid PID] [--json FILE]\n"
          "  --dir DIR        an existing, empty directory for the RRD files (8 MB each)\n"
          "  --files N        number of files, i.e. servers (default 200)\n"
          "  --samples S      samples per file, one per minute (default 300)\n"
          "  --daemon ADDR    write through rrdcached at ADDR (unix:/path or host:port)\n"
          "  --daemon-pid PID also report that daemon's CPU seconds per phase\n"
          "  --json FILE      write the figures as JSON\n",
          f);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* utime + stime of pid in seconds, NAN when it cannot be read. */
static double proc_cpu(long pid)
{
    if (pid <= 0)
        return NAN;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    KS_AUTOFREE char *text = ks_read_file(path, 4096, NULL, NULL);
    if (!text)
        return NAN;
    /* the command name may hold spaces and parentheses: fields start after
     * the last ')' with field 3 (state); utime and stime are fields 14, 15 */
    const char *p = strrchr(text, ')');
    if (!p)
        return NAN;
    p++;
    for (int field = 3; field < 14; field++) {
        while (*p == ' ')
            p++;
        while (*p && *p != ' ')
            p++;
    }
    unsigned long long v[2];
    for (int i = 0; i < 2; i++) {
        char *end;
        errno = 0;
        v[i] = strtoull(p, &end, 10);
        if (end == p || errno)
            return NAN;
        p = end;
    }
    long hz = sysconf(_SC_CLK_TCK);
    return (double)(v[0] + v[1]) / (double)(hz > 0 ? hz : 100);
}

static mark mark_now(const opts *o)
{
    mark m;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    m.wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    m.user = tv_s(ru.ru_utime);
    m.sys = tv_s(ru.ru_stime);
    m.daemon = proc_cpu(o->daemon_pid);
    return m;
}

static phase phase_between(mark a, mark b)
{
    phase p = {
        .wall = b.wall - a.wall,
        .user = b.user - a.user,
        .sys = b.sys - a.sys,
        .daemon = b.daemon - a.daemon,
    };
    p.cpu = p.user + p.sys;
    return p;
}

static double per_s(double n, double secs)
{
    return secs > 0 ? n / secs : NAN;
}

/* jansson refuses NaN: null instead. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *phase_json(const phase *p, const char *rate_name, double count)
{
    json_t *j = json_object();
    json_object_set_new(j, "wall_s", num(p->wall));
    json_object_set_new(j, "user_s", num(p->user));
    json_object_set_new(j, "sys_s", num(p->sys));
    json_object_set_new(j, "cpu_s", num(p->cpu));
    json_object_set_new(j, "daemon_cpu_s", num(p->daemon));
    if (rate_name)
        json_object_set_new(j, rate_name, num(per_s(count, p->wall)));
    return j;
}

static bool parse_count(const char *name, const char *s, long max, long *out)
{
    if (ks_parse_int(s, 1, max, out))
        return true;
    fprintf(stderr, "bench_rrd: %s wants a whole number from 1 to %ld, not '%s'\n", name, max, s);
    return false;
}

static int parse_args(int argc, char **argv, opts *o)
{
    static const struct option lo[] = {
        {"dir", required_argument, NULL, 'd'},
        {"files", required_argument, NULL, 'n'},
        {"samples", required_argument, NULL, 's'},
        {"daemon", required_argument, NULL, 'D'},
        {"daemon-pid", required_argument, NULL, 'p'},
        {"json", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (opts){.files = 200, .samples = 300};
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->dir = optarg;
            break;
        case 'n':
            if (!parse_count("--files", optarg, 1000000, &o->files))
                return -1;
            break;
        case 's':
            if (!parse_count("--samples", optarg, 1000000, &o->samples))
                return -1;
            break;
        case 'D':
            o->daemon = *optarg ? optarg : NULL;
            break;
        case 'p':
            if (!parse_count("--daemon-pid", optarg, 1L << 30, &o->daemon_pid))
                return -1;
            break;
        case 'j':
            o->json = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bench_rrd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    if (!o->dir) {
        fprintf(stderr, "bench_rrd: --dir DIR is required\n");
        usage(stderr);
        return -1;
    }
    if (!ks_is_dir(o->dir)) {
        fprintf(stderr, "bench_rrd: --dir '%s' is not a directory: create it first\n", o->dir);
        return -1;
    }
    return 0;
}

static char *server_name(long i)
{
    return ks_asprintf("bench%06ld", i);
}

/* A plausible sample of server i at step k, in col_ds_names order. Values
 * vary, so that librrd and rrdcached format and parse real numbers. */
static void make_values(long i, long k, double v[COL_DS_COUNT])
{
    double x = (double)((i * 7919 + k * 104729) % 1000) / 1000.0; /* 0 .. 1 */
    v[0] = 5.0 + 90.0 * x;                                        /* cpu_pct */
    v[1] = 2400.0 + 100.0 * x;                                    /* cpu_mhz */
    v[3] = 64.0 * 1024 * 1024 * 1024;                             /* mem_total */
    v[2] = v[3] * (0.3 + 0.5 * x);                                /* mem_used */
    v[4] = 1.5e6 * x;
    v[5] = 3.2e6 * x;
    v[6] = 120.0 * x;
    v[7] = 340.0 * x;
    v[8] = 8.0e6 * x;
    v[9] = 2.5e6 * x;
}

/* Files whose last update (read from the file, not from the daemon) is not
 * want; -1 when a file cannot be read. */
static long count_wrong(const col_store *s, long files, time_t want)
{
    long wrong = 0;
    for (long i = 0; i < files; i++) {
        KS_AUTOFREE char *name = server_name(i);
        KS_AUTOFREE char *path = col_store_path(s, name);
        time_t last = 0;
        unsigned long n = 0;
        char **names = NULL, **values = NULL;
        rrd_clear_error();
        if (rrd_lastupdate_r(path, &last, &n, &names, &values) != 0) {
            fprintf(stderr, "bench_rrd: cannot read back '%s': %s\n", path, rrd_get_error());
            return -1;
        }
        for (unsigned long d = 0; d < n; d++) {
            rrd_freemem(names[d]);
            rrd_freemem(values[d]);
        }
        rrd_freemem(names);
        rrd_freemem(values);
        if (last != want) {
            if (wrong == 0)
                fprintf(stderr, "bench_rrd: '%s' ends at %lld, not at the last sample %lld\n", path,
                        (long long)last, (long long)want);
            wrong++;
        }
    }
    return wrong;
}

int main(int argc, char **argv)
{
    opts o;
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    const char *mode = o.daemon ? "rrdcached" : "direct";
    double updates = (double)o.files * (double)o.samples;

    ks_error err;
    ks_error_clear(&err);
    col_store *s = col_store_open(o.dir, o.daemon, &err);
    if (!s) {
        fprintf(stderr, "bench_rrd: %s\n", err.message);
        return 1;
    }

    mark m0 = mark_now(&o);
    for (long i = 0; i < o.files; i++) {
        KS_AUTOFREE char *name = server_name(i);
        if (col_store_prepare(s, name, STEP, &err) < 0) {
            fprintf(stderr, "bench_rrd: %s\n", err.message);
            col_store_free(s);
            return 1;
        }
    }
    mark m1 = mark_now(&o);

    /* After every file's "last update" (its creation time - 10 s), on a
     * minute boundary as the collector's samples are. */
    time_t t0 = (time(NULL) / STEP + 1) * STEP;
    time_t t_last = t0 + (time_t)(o.samples - 1) * STEP;
    double v[COL_DS_COUNT];
    mark m2 = mark_now(&o);
    for (long k = 0; k < o.samples; k++) {
        for (long i = 0; i < o.files; i++) {
            char name[32];
            snprintf(name, sizeof name, "bench%06ld", i);
            make_values(i, k, v);
            if (col_store_update(s, name, t0 + (time_t)k * STEP, v, &err) < 0) {
                fprintf(stderr, "bench_rrd: %s\n", err.message);
                col_store_free(s);
                return 1;
            }
        }
    }
    mark m3 = mark_now(&o);
    if (col_store_flush(s, &err) < 0) {
        fprintf(stderr, "bench_rrd: %s\n", err.message);
        col_store_free(s);
        return 1;
    }
    mark m4 = mark_now(&o);

    long wrong = count_wrong(s, o.files, t_last);
    col_store_free(s);
    if (wrong != 0) {
        if (wrong > 0)
            fprintf(stderr, "bench_rrd: %ld of %ld files do not end at the last sample\n", wrong,
                    o.files);
        return 1;
    }

    phase create = phase_between(m0, m1);
    phase update = phase_between(m2, m3);
    phase flush = phase_between(m3, m4);
    phase on_disk = phase_between(m2, m4);

    printf("bench_rrd: %s, %ld files x %ld samples = %.0f updates\n", mode, o.files, o.samples,
           updates);
    printf("  create   %8.2f s  %10.1f files/s     cpu %6.2f s (user %.2f, sys %.2f)\n",
           create.wall, per_s((double)o.files, create.wall), create.cpu, create.user, create.sys);
    printf("  update   %8.2f s  %10.0f samples/s   cpu %6.2f s (user %.2f, sys %.2f)  %s\n",
           update.wall, per_s(updates, update.wall), update.cpu, update.user, update.sys,
           o.daemon ? "accepted by the daemon" : "in the files");
    printf("  flush    %8.2f s                        cpu %6.2f s (user %.2f, sys %.2f)\n",
           flush.wall, flush.cpu, flush.user, flush.sys);
    printf("  on disk  %8.2f s  %10.0f samples/s   (update + flush)\n", on_disk.wall,
           per_s(updates, on_disk.wall));
    if (o.daemon_pid)
        printf("  daemon cpu: create %.2f s, update %.2f s, flush %.2f s\n", create.daemon,
               update.daemon, flush.daemon);
    printf("  checked: all %ld files end at the last sample\n", o.files);

    if (o.json) {
        json_t *j = json_object();
        json_object_set_new(j, "benchmark", json_string("rrd"));
        json_object_set_new(j, "mode", json_string(mode));
        json_object_set_new(j, "daemon", o.daemon ? json_string(o.daemon) : json_null());
        json_object_set_new(j, "files", json_integer(o.files));
        json_object_set_new(j, "samples_per_file", json_integer(o.samples));
        json_object_set_new(j, "updates", json_integer((json_int_t)updates));
        json_object_set_new(j, "create", phase_json(&create, "files_per_s", (double)o.files));
        json_object_set_new(j, "update", phase_json(&update, "samples_per_s", updates));
        json_object_set_new(j, "flush", phase_json(&flush, NULL, 0));
        json_object_set_new(j, "on_disk", phase_json(&on_disk, "samples_per_s", updates));
        json_object_set_new(j, "files_checked", json_integer(o.files));
        int r = ks_json_write_file(o.json, j, &err);
        json_decref(j);
        if (r < 0) {
            fprintf(stderr, "bench_rrd: %s\n", err.message);
            return 1;
        }
    }
    return 0;
}
