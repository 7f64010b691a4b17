/* ana_series.c: a server's RRD file read into time slots.
 *
 * A slot (an hour by default) holds the highest 5-minute average in it: the
 * demand a host must carry for a sustained stretch, without the 1-minute
 * noise. Beyond the 5-minute archive (95 days) only the 1-hour archive is
 * left, and its MAX rows (the highest 1-minute value of the hour) stand in.
 */
#include "ana_rules.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <rrd.h>

#include "ks_mem.h"

/* Archive indexes in col_rrd.c's layout */
#define RRA_AVG_5MIN 1
#define RRA_MAX_1H 5

enum { V_CPU_PCT, V_CPU_MHZ, V_MEM, V_DRD, V_DWR, V_DRI, V_DWI, V_NRX, V_NTX, V_N };
static const char *const wanted[V_N] = {"cpu_pct",      "cpu_mhz",     "mem_used",
                                        "disk_rd_bps",  "disk_wr_bps", "disk_rd_iops",
                                        "disk_wr_iops", "net_rx_bps",  "net_tx_bps"};

static const char *rrd_message(void)
{
    const char *m = rrd_get_error();
    return m && *m ? m : "unknown librrd error";
}

/* One fetched stretch of rows. */
typedef struct fetched {
    time_t start;
    unsigned long step, rows, nds;
    int col[V_N]; /* column of each wanted source, -1 when absent */
    rrd_value_t *data;
} fetched;

static int fetch(const char *path, const char *cf, time_t start, time_t end, unsigned long step,
                 fetched *f, ks_error *err)
{
    char **names = NULL;
    memset(f, 0, sizeof *f);
    f->step = step;
    rrd_clear_error();
    if (rrd_fetch_r(path, cf, &start, &end, &f->step, &f->nds, &names, &f->data) != 0) {
        ks_error_set(err, KS_E_RRD, 0,
                     "cannot read '%s': %s; is it a kvmshift RRD file? Move it away or import "
                     "the server again",
                     path, rrd_message());
        return -1;
    }
    for (int k = 0; k < V_N; k++) {
        f->col[k] = -1;
        for (unsigned long i = 0; i < f->nds; i++)
            if (strcmp(names[i], wanted[k]) == 0)
                f->col[k] = (int)i;
    }
    for (unsigned long i = 0; i < f->nds; i++)
        rrd_freemem(names[i]);
    rrd_freemem(names);
    f->start = start;
    f->rows = f->step ? (unsigned long)(end - start) / f->step : 0;
    return 0;
}

static double val(const fetched *f, unsigned long row, int k)
{
    return f->col[k] < 0 ? NAN : f->data[row * f->nds + (unsigned long)f->col[k]];
}

/* Sum of two rates, known when either is. */
static double sum2(double a, double b)
{
    if (isnan(a))
        return b;
    if (isnan(b))
        return a;
    return a + b;
}

static void put_max(double *slot, double v)
{
    if (!isnan(v) && (isnan(*slot) || v > *slot))
        *slot = v;
}

static double cpu_of(const fetched *f, unsigned long r, double cap)
{
    double mhz = val(f, r, V_CPU_MHZ);
    if (isnan(mhz) && cap > 0) {
        double pct = val(f, r, V_CPU_PCT);
        mhz = isnan(pct) ? NAN : pct / 100.0 * cap;
    }
    return mhz;
}

static void series_alloc(ana_series *s, time_t start, long slot, size_t n)
{
    s->slot_start = start;
    s->slot_seconds = slot;
    s->nslots = n;
    double **arrs[] = {&s->cpu_mhz, &s->mem_bytes, &s->disk_bps, &s->disk_iops, &s->net_bps};
    for (size_t a = 0; a < 5; a++) {
        *arrs[a] = ks_malloc((n ? n : 1) * sizeof(double));
        for (size_t i = 0; i < n; i++)
            (*arrs[a])[i] = NAN;
    }
    s->measured = ks_calloc(n ? n : 1, 1);
}

/* Which slots hold a CPU value: measured, before any fill. */
static void mark_measured(ana_series *s)
{
    for (size_t i = 0; i < s->nslots; i++)
        s->measured[i] = !isnan(s->cpu_mhz[i]);
}

/* Rows of f into slots of s (rows before not_before only, when given). */
static void add_rows(const fetched *f, ana_series *s, double cap, time_t not_before_end)
{
    for (unsigned long r = 0; r < f->rows; r++) {
        /* row r covers (start + r step, start + (r+1) step] */
        time_t t0 = f->start + (time_t)(r * f->step);
        if (not_before_end && t0 + (time_t)f->step > not_before_end)
            break;
        time_t t1 = t0 + (time_t)f->step; /* end, exclusive */
        if (t1 <= s->slot_start)
            continue;
        /* a row longer than a slot (1-hour rows, 15-minute slots) holds
         * for every slot it covers */
        size_t first = t0 < s->slot_start ? 0 : (size_t)((t0 - s->slot_start) / s->slot_seconds);
        size_t last = (size_t)((t1 - 1 - s->slot_start) / s->slot_seconds);
        if (first >= s->nslots)
            break;
        double cpu = cpu_of(f, r, cap), mem = val(f, r, V_MEM);
        double dbps = sum2(val(f, r, V_DRD), val(f, r, V_DWR));
        double diops = sum2(val(f, r, V_DRI), val(f, r, V_DWI));
        double nbps = sum2(val(f, r, V_NRX), val(f, r, V_NTX));
        for (size_t i = first; i <= last && i < s->nslots; i++) {
            put_max(&s->cpu_mhz[i], cpu);
            put_max(&s->mem_bytes[i], mem);
            put_max(&s->disk_bps[i], dbps);
            put_max(&s->disk_iops[i], diops);
            put_max(&s->net_bps[i], nbps);
        }
    }
}

/* First and last row times with a CPU value, widened to [lo, hi). */
static void span(const fetched *f, double cap, time_t *lo, time_t *hi)
{
    for (unsigned long r = 0; r < f->rows; r++) {
        if (isnan(cpu_of(f, r, cap)))
            continue;
        time_t t0 = f->start + (time_t)(r * f->step);
        if (!*lo || t0 < *lo)
            *lo = t0;
        if (t0 + (time_t)f->step > *hi)
            *hi = t0 + (time_t)f->step;
    }
}

int ana_series_read(const char *path, long slot_seconds, double cpu_capacity_mhz, ana_series *s,
                    ks_error *err)
{
    memset(s, 0, sizeof *s);
    rrd_clear_error();
    time_t last = rrd_last_r(path);
    time_t first5 = rrd_first_r(path, RRA_AVG_5MIN);
    time_t first60 = rrd_first_r(path, RRA_MAX_1H);
    if (last <= 0 || first5 <= 0 || first60 <= 0) {
        ks_error_set(err, KS_E_RRD, 0,
                     "cannot read '%s': %s; is it a kvmshift RRD file? Move it away or import "
                     "the server again",
                     path, rrd_message());
        return -1;
    }
    fetched f5, f60 = {0};
    if (fetch(path, "AVERAGE", first5, last, 300, &f5, err) < 0)
        return -1;
    bool have60 = first60 < f5.start;
    if (have60 && fetch(path, "MAX", first60, f5.start, 3600, &f60, err) < 0) {
        rrd_freemem(f5.data);
        return -1;
    }
    time_t lo = 0, hi = 0;
    if (have60)
        span(&f60, cpu_capacity_mhz, &lo, &hi);
    span(&f5, cpu_capacity_mhz, &lo, &hi);
    if (!lo) {
        series_alloc(s, 0, slot_seconds, 0);
    } else {
        time_t start = lo - lo % slot_seconds;
        size_t n = (size_t)((hi - start + slot_seconds - 1) / slot_seconds);
        series_alloc(s, start, slot_seconds, n);
        if (have60)
            add_rows(&f60, s, cpu_capacity_mhz, f5.start);
        add_rows(&f5, s, cpu_capacity_mhz, 0);
        mark_measured(s);
    }
    rrd_freemem(f5.data);
    if (have60)
        rrd_freemem(f60.data);
    return 0;
}

void ana_series_window(const ana_series *s, time_t start, size_t n, ana_series *out)
{
    series_alloc(out, start, s->slot_seconds, n);
    if (!s->nslots)
        return;
    const double *src[] = {s->cpu_mhz, s->mem_bytes, s->disk_bps, s->disk_iops, s->net_bps};
    double *dst[] = {out->cpu_mhz, out->mem_bytes, out->disk_bps, out->disk_iops, out->net_bps};
    for (size_t i = 0; i < n; i++) {
        time_t t = start + (time_t)i * s->slot_seconds;
        if (t < s->slot_start)
            continue;
        size_t j = (size_t)((t - s->slot_start) / s->slot_seconds);
        if (j >= s->nslots)
            break;
        for (size_t a = 0; a < 5; a++)
            dst[a][i] = src[a][j];
    }
    mark_measured(out);
}

size_t ana_series_present(const ana_series *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nslots; i++)
        n += !isnan(s->cpu_mhz[i]);
    return n;
}

static void fill_one(double *v, size_t n, time_t start, long slot, double pct)
{
    size_t per_day = (size_t)(86400 / slot);
    double all = ana_percentile(v, n, pct);
    if (isnan(all))
        all = 0;
    double *hour = ks_malloc((n / per_day + 1) * sizeof *hour);
    double *fill = ks_malloc(per_day * sizeof *fill);
    for (size_t h = 0; h < per_day; h++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if ((size_t)(((start + (time_t)i * slot) % 86400) / slot) == h)
                hour[k++] = v[i];
        double p = ana_percentile(hour, k, pct);
        fill[h] = isnan(p) ? all : p;
    }
    for (size_t i = 0; i < n; i++)
        if (isnan(v[i]))
            v[i] = fill[(size_t)(((start + (time_t)i * slot) % 86400) / slot)];
    free(hour);
    free(fill);
}

void ana_series_fill(ana_series *s, double pct)
{
    double *arrs[] = {s->cpu_mhz, s->mem_bytes, s->disk_bps, s->disk_iops};
    for (size_t a = 0; a < 4; a++)
        fill_one(arrs[a], s->nslots, s->slot_start, s->slot_seconds, pct);
}

void ana_series_free(ana_series *s)
{
    free(s->cpu_mhz);
    free(s->mem_bytes);
    free(s->disk_bps);
    free(s->disk_iops);
    free(s->net_bps);
    free(s->measured);
    memset(s, 0, sizeof *s);
}
