/* bench_analyze_gen.c: a generated fleet as the CSV that 'kvmshift import
 * --format csv' reads, for tests/bench/bench_analyze.sh.
 *
 *   bench_analyze_gen [--first I] [--count C] [--days D] [--step S]
 *                     [--start T] [--seed X] [--prefix P] [--noise F]
 *                     [--spikes F]
 *
 * Writes to stdout the rows of servers I .. I+C-1 (default 0, 1000): D days
 * (30) of one row every S seconds (3600) from T (2026-01-01T00:00:00Z).
 * Server k depends only on (X, k), so a fleet made in chunks of any size is
 * the same fleet. Never run by ctest.
 *
 * The shapes, in the server's own time zone (UTC+1, UTC-5 or UTC+8, so that
 * daily peaks fall at different UTC hours):
 *   55 % interactive: a daytime peak (its own hour, width and height),
 *        quieter weekends;
 *   15 % night batch: a peak between 00:00 and 05:00, every day;
 *   10 % weekly: a heavy job of a few hours on one day of the week, little
 *        otherwise;
 *   15 % idle: a few percent, flat;
 *    5 % always busy: 30-70 %, flat.
 * Plus 5-20 % hour-to-hour noise (scaled by --noise F, default 1), rare
 * spikes of 2-4 times the load in 0.2 % of the hours (their excess scaled
 * by --spikes F, default 1; both 0: the same fleet with smooth curves),
 * memory in use that follows the load a
 * little (and, for a tenth, grows all week and drops on Sunday), disk
 * traffic with the load; 3 % have gaps of hours, 1 % start days late.
 * Sizes: 2-32 cores of 2000-3200 MHz, 2-8 GiB per core.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rng {
    uint64_t s;
} rng;

/* splitmix64: small, fast, and the same on every machine */
static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unit(rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static double normal(rng *r)
{
    double u = unit(r) + 1e-12, v = unit(r);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* One of vals by the weights w (summing to 1). */
static double pick(rng *r, const double *vals, const double *w, size_t n)
{
    double u = unit(r), acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += w[i];
        if (u < acc)
            return vals[i];
    }
    return vals[n - 1];
}

enum shape { INTERACTIVE, BATCH, WEEKLY, IDLE, BUSY };

typedef struct server {
    rng r;
    double cores, mhz, mem_total_mib;
    enum shape shape;
    int tz;              /* hours from UTC */
    double base, peak;   /* utilization 0..1 */
    double phase, width; /* peak hour (local) and its spread, hours */
    double weekend;      /* weekend share of the daytime peak */
    int weekly_day;      /* 0 = Monday */
    double noise, mem_used, mem_swing;
    bool mem_weekly;
    double disk_bps, io_size; /* at 100 % load; bytes per request */
    long late_rows;           /* rows missing at the start */
    long gap_at[3], gap_len[3];
} server;

static void server_make(server *s, uint64_t seed, long k)
{
    memset(s, 0, sizeof *s);
    s->r.s = seed * 0x100000001b3ULL ^ (uint64_t)k * 0x9e3779b97f4a7c15ULL;
    rng_next(&s->r);
    static const double cores[] = {2, 4, 8, 12, 16, 24, 32};
    static const double cores_w[] = {.10, .25, .30, .10, .15, .05, .05};
    static const double mhz[] = {2000, 2400, 2600, 2900, 3200};
    static const double mhz_w[] = {.15, .30, .30, .15, .10};
    static const double per_core[] = {2, 4, 8};
    static const double per_core_w[] = {.3, .5, .2};
    static const double tz[] = {1, -5, 8};
    static const double tz_w[] = {.60, .25, .15};
    s->cores = pick(&s->r, cores, cores_w, 7);
    s->mhz = pick(&s->r, mhz, mhz_w, 5);
    double gib = s->cores * pick(&s->r, per_core, per_core_w, 3);
    s->mem_total_mib = 1024 * (gib < 4 ? 4 : gib);
    s->tz = (int)pick(&s->r, tz, tz_w, 3);
    double u = unit(&s->r);
    s->shape = u < .55 ? INTERACTIVE : u < .70 ? BATCH : u < .80 ? WEEKLY : u < .95 ? IDLE : BUSY;
    s->base = 0.01 + 0.07 * unit(&s->r);
    s->peak = 0.10 + 0.60 * unit(&s->r) * unit(&s->r) + 0.1 * unit(&s->r);
    s->width = 1.5 + 3.5 * unit(&s->r);
    s->weekend = 0.2 + 0.5 * unit(&s->r);
    s->weekly_day = (int)(7 * unit(&s->r));
    switch (s->shape) {
    case INTERACTIVE:
        s->phase = 9 + 9 * unit(&s->r);
        break;
    case BATCH:
        s->phase = 5 * unit(&s->r);
        s->weekend = 1;
        break;
    case WEEKLY:
        s->phase = 24 * unit(&s->r);
        s->peak = 0.4 + 0.5 * unit(&s->r);
        s->width = 1 + 2 * unit(&s->r);
        break;
    case IDLE:
        s->base = 0.005 + 0.04 * unit(&s->r);
        s->peak = s->base;
        break;
    case BUSY:
        s->base = 0.3 + 0.4 * unit(&s->r);
        s->peak = s->base;
        break;
    }
    s->noise = 0.05 + 0.15 * unit(&s->r);
    s->mem_used = 0.25 + 0.6 * unit(&s->r);
    s->mem_swing = 0.1 * unit(&s->r);
    s->mem_weekly = unit(&s->r) < 0.1;
    s->disk_bps = 1e6 * exp(log(0.5) + (log(100) - log(0.5)) * unit(&s->r));
    s->io_size = 4096 * (1 + 15 * unit(&s->r));
    if (unit(&s->r) < 0.01)
        s->late_rows = 1 + (long)(240 * unit(&s->r)); /* hours, scaled below */
    if (unit(&s->r) < 0.03)
        for (int g = 0; g < 3; g++) {
            s->gap_at[g] = (long)(1e6 * unit(&s->r)); /* taken modulo the rows */
            s->gap_len[g] = 2 + (long)(28 * unit(&s->r));
        }
}

/* --noise and --spikes: the hour-to-hour noise and the spikes' excess
 * scaled by them (the same draws are made whatever they are, so the fleet
 * is the same one) */
static double noise_scale = 1, spike_scale = 1;

/* CPU utilization 0..1 at UTC time t. */
static double util_at(server *s, long t)
{
    long lt = t + s->tz * 3600L;
    double hour = (double)(((lt % 86400) + 86400) % 86400) / 3600.0;
    int day = (int)((((lt / 86400) + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    double d = fabs(hour - s->phase);
    d = d > 12 ? 24 - d : d;
    double bump = exp(-d * d / (2 * s->width * s->width));
    double v;
    switch (s->shape) {
    case INTERACTIVE:
        v = s->base + (s->peak - s->base) * bump * (day >= 5 ? s->weekend : 1);
        break;
    case BATCH:
        v = s->base + (s->peak - s->base) * bump;
        break;
    case WEEKLY:
        v = s->base + (day == s->weekly_day ? (s->peak - s->base) * bump : 0);
        break;
    default:
        v = s->base;
        break;
    }
    v *= 1 + noise_scale * s->noise * normal(&s->r);
    if (unit(&s->r) < 0.002) {
        double spike = unit(&s->r);
        v *= spike_scale == 1 ? 2 + 2 * spike : 1 + spike_scale * (1 + 2 * spike);
    }
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

static bool missing(const server *s, long i, long rows, long per_hour)
{
    if (i < s->late_rows * per_hour)
        return true;
    for (int g = 0; g < 3; g++)
        if (s->gap_len[g]) {
            long at = s->gap_at[g] % rows;
            if (i >= at && i < at + s->gap_len[g] * per_hour)
                return true;
        }
    return false;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_analyze_gen [--first I] [--count C] [--days D] [--step S] "
                    "[--start T] [--seed X] [--prefix P] [--noise F] [--spikes F]\n");
    exit(2);
}

static long arg_long(const char *v, long lo, long hi)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < lo || x > hi)
        usage();
    return x;
}

int main(int argc, char **argv)
{
    long first = 0, count = 1000, days = 30, step = 3600, start = 1767225600, seed = 1;
    const char *prefix = "s";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--first") == 0)
            first = arg_long(v, 0, 99999999);
        else if (strcmp(a, "--count") == 0)
            count = arg_long(v, 0, 99999999);
        else if (strcmp(a, "--days") == 0)
            days = arg_long(v, 1, 3650);
        else if (strcmp(a, "--step") == 0)
            step = arg_long(v, 60, 86400);
        else if (strcmp(a, "--start") == 0)
            start = arg_long(v, 0, 4000000000L);
        else if (strcmp(a, "--seed") == 0)
            seed = arg_long(v, 0, 1L << 40);
        else if (strcmp(a, "--prefix") == 0 && v)
            prefix = v;
        else if ((strcmp(a, "--noise") == 0 || strcmp(a, "--spikes") == 0) && v) {
            char *end;
            double f = strtod(v, &end);
            if (end == v || *end || !(f >= 0 && f <= 10))
                usage();
            *(a[2] == 'n' ? &noise_scale : &spike_scale) = f;
        } else
            usage();
        i++;
    }
    static char buf[1 << 20];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    printf("server,timestamp,cpu_pct,cpu_mhz,mem_used[MiB],mem_total[MiB],disk_rd_bps,"
           "disk_wr_bps,disk_rd_iops,disk_wr_iops,cores,mhz\n");
    long rows = days * 86400 / step, per_hour = 3600 / step > 0 ? 3600 / step : 1;
    for (long k = first; k < first + count; k++) {
        server s;
        server_make(&s, (uint64_t)seed, k);
        bool facts = true; /* cores and mhz on the first row only */
        for (long i = 0; i < rows; i++) {
            long t = start + i * step;
            double u = util_at(&s, t);
            if (missing(&s, i, rows, per_hour))
                continue;
            double week = s.mem_weekly ? (double)(((t / 86400) + 3) % 7) / 7 * 0.3 : 0;
            double mem = s.mem_total_mib * fmin(0.97, s.mem_used * (1 + week) + s.mem_swing * u +
                                                          0.01 * fabs(normal(&s.r)));
            double bps = s.disk_bps * (0.05 + u) * (0.8 + 0.4 * unit(&s.r));
            double rd = bps * (0.3 + 0.4 * unit(&s.r)), wr = bps - rd;
            printf("%s%05ld,%ld,%.2f,%.0f,%.0f,%.0f,%.0f,%.0f,%.1f,%.1f,", prefix, k, t, u * 100,
                   u * s.cores * s.mhz, mem, s.mem_total_mib, rd, wr, rd / s.io_size,
                   wr / s.io_size);
            if (facts)
                printf("%.0f,%.0f\n", s.cores, s.mhz);
            else
                fputs(",\n", stdout);
            facts = false;
        }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
