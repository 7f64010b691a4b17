/* ks_series.c: a server's RRD file read into time slots.
 *
 * A slot (an hour by default) holds the highest 5-minute average in it: the
 * demand a host must carry for a sustained stretch, without the 1-minute
 * noise. Beyond the 5-minute archive (95 days) only the 1-hour archive is
 * left, and its MAX rows (the highest 1-minute value of the hour) stand in.
 *
 * The archives are found by what they hold, not by their place in the
 * file: collected files have the collector's six, imported ones their
 * data's own step (col_rrd_create_import): "the 5-minute archive" is the
 * finest AVERAGE archive of 5 minutes or more, "the 1-hour archive" the MAX
 * archive that reaches furthest back.
 */
#include "ks_series.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rrd.h>

#include "ks_mem.h"
#include "ks_rrdfile.h"

/* The finest row the slots are made of: 5-minute averages. */
#define FINE_STEP 300

enum {
    V_CPU_PCT,
    V_CPU_MHZ,
    V_MEM,
    V_DRD,
    V_DWR,
    V_DRI,
    V_DWI,
    V_NRX,
    V_NTX,
    V_MEM_TOTAL,
    V_STEAL,
    V_N
};
static const char *const wanted[V_N] = {
    "cpu_pct",      "cpu_mhz",    "mem_used",   "disk_rd_bps", "disk_wr_bps",  "disk_rd_iops",
    "disk_wr_iops", "net_rx_bps", "net_tx_bps", "mem_total",   "cpu_steal_pct"};
/* the series of ks_series, in one order: the demand, then the load ones */
#define DEMAND_N 5
#define SERIES_N 8

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

/* The series of s in one order; the load ones are NULL unless asked for. */
static void series_arrays(ks_series *s, double **arrs[SERIES_N])
{
    double **all[SERIES_N] = {&s->cpu_mhz, &s->mem_bytes, &s->disk_bps,  &s->disk_iops,
                              &s->net_bps, &s->cpu_pct,   &s->mem_total, &s->steal_pct};
    memcpy(arrs, all, sizeof all);
}

static void series_alloc(ks_series *s, time_t start, long slot, size_t n, unsigned flags)
{
    s->slot_start = start;
    s->slot_seconds = slot;
    s->nslots = n;
    double **arrs[SERIES_N];
    series_arrays(s, arrs);
    for (size_t a = 0; a < SERIES_N; a++) {
        if (a >= DEMAND_N && !(flags & KS_SERIES_LOAD)) {
            *arrs[a] = NULL;
            continue;
        }
        *arrs[a] = ks_malloc((n ? n : 1) * sizeof(double));
        for (size_t i = 0; i < n; i++)
            (*arrs[a])[i] = NAN;
    }
    s->measured = ks_calloc(n ? n : 1, 1);
}

/* Which slots hold a CPU value: measured, before any fill (with the load
 * series, a CPU share without MHz counts too). */
static void mark_measured(ks_series *s)
{
    for (size_t i = 0; i < s->nslots; i++)
        s->measured[i] = !isnan(s->cpu_mhz[i]) || (s->cpu_pct && !isnan(s->cpu_pct[i]));
}

/* Rows of f into slots of s (only the part of them before until, when
 * given: the finer archive takes over there). */
static void add_rows(const fetched *f, ks_series *s, double cap, time_t until)
{
    for (unsigned long r = 0; r < f->rows; r++) {
        /* row r covers (start + r step, start + (r+1) step] */
        time_t t0 = f->start + (time_t)(r * f->step);
        if (until && t0 >= until)
            break;
        time_t t1 = t0 + (time_t)f->step; /* end, exclusive */
        /* an hourly row across the start of the 5-minute rows (which need
         * not start on the hour) still covers the slots before them: cut
         * there, those slots would be missing */
        if (until && t1 > until)
            t1 = until;
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
            if (s->cpu_pct) {
                put_max(&s->cpu_pct[i], val(f, r, V_CPU_PCT));
                put_max(&s->mem_total[i], val(f, r, V_MEM_TOTAL));
                put_max(&s->steal_pct[i], val(f, r, V_STEAL));
            }
        }
    }
}

/* First and last row times with a CPU value (with pct, a CPU share
 * without MHz too), widened to [lo, hi). */
static void span(const fetched *f, double cap, bool pct, time_t *lo, time_t *hi)
{
    for (unsigned long r = 0; r < f->rows; r++) {
        if (isnan(cpu_of(f, r, cap)) && !(pct && !isnan(val(f, r, V_CPU_PCT))))
            continue;
        time_t t0 = f->start + (time_t)(r * f->step);
        if (!*lo || t0 < *lo)
            *lo = t0;
        if (t0 + (time_t)f->step > *hi)
            *hi = t0 + (time_t)f->step;
    }
}

/* An archive: its row length, the time its oldest row ends (as
 * rrd_first_r counts it) and where its rows lie in the file. */
typedef struct archive {
    unsigned long res;
    time_t first;
    off_t off, len; /* its rows in the file; len 0: not known */
} archive;

/* Is a the better "5-minute archive" than b: rows of 5 minutes or more
 * before finer ones, then the finer, then the one reaching further back. */
static bool better_fine(const archive *a, const archive *b)
{
    if (!b->res)
        return true;
    bool a_ok = a->res >= FINE_STEP, b_ok = b->res >= FINE_STEP;
    if (a_ok != b_ok)
        return a_ok;
    if (a->res != b->res)
        return a_ok ? a->res < b->res : a->res > b->res;
    return a->first < b->first;
}

/* The last update, the archive the slots are made of (AVERAGE) and the
 * MAX archive reaching furthest back, from the file's header. */
static int archives(const char *path, time_t *last, archive *fine, archive *back, ks_error *err)
{
    enum { MAX_RRA = 64 };
    unsigned long step = 0, rows[MAX_RRA] = {0}, ppr[MAX_RRA] = {0}, nds = 0;
    int cf[MAX_RRA] = {0}; /* 1 AVERAGE, 2 MAX */
    unsigned nrra = 0;
    *last = 0;
    rrd_clear_error();
    rrd_info_t *info = rrd_info_r(path);
    for (rrd_info_t *i = info; i; i = i->next) {
        unsigned k;
        char key[32];
        size_t len = strlen(i->key);
        if (strncmp(i->key, "ds[", 3) == 0 && len > 7 && strcmp(i->key + len - 7, "].index") == 0) {
            nds++;
        } else if (strcmp(i->key, "step") == 0 && i->type == RD_I_CNT) {
            step = i->value.u_cnt;
        } else if (strcmp(i->key, "last_update") == 0 && i->type == RD_I_CNT) {
            *last = (time_t)i->value.u_cnt;
        } else if (sscanf(i->key, "rra[%u].%31s", &k, key) == 2 && k < MAX_RRA &&
                   !strchr(key, '[')) {
            if (k >= nrra)
                nrra = k + 1;
            if (strcmp(key, "cf") == 0 && i->type == RD_I_STR)
                cf[k] = strcmp(i->value.u_str, "AVERAGE") == 0 ? 1
                        : strcmp(i->value.u_str, "MAX") == 0   ? 2
                                                               : 0;
            else if (strcmp(key, "rows") == 0 && i->type == RD_I_CNT)
                rows[k] = i->value.u_cnt;
            else if (strcmp(key, "pdp_per_row") == 0 && i->type == RD_I_CNT)
                ppr[k] = i->value.u_cnt;
        }
    }
    rrd_info_free(info);
    memset(fine, 0, sizeof *fine);
    memset(back, 0, sizeof *back);
    /* the rows of all archives, in order, end the file: where each
     * archive's rows are follows from the file's size */
    struct stat st;
    off_t end = stat(path, &st) == 0 ? st.st_size : 0, after[MAX_RRA + 1] = {0};
    for (unsigned k = nrra; k-- > 0;)
        after[k] = after[k + 1] + (off_t)(rows[k] * nds * sizeof(rrd_value_t));
    bool offsets = nds && end > after[0];
    for (unsigned k = 0; k < nrra && step && *last > 0; k++) {
        if (!cf[k] || !rows[k] || !ppr[k])
            continue;
        archive a = {.res = step * ppr[k]};
        if (offsets) {
            a.off = end - after[k];
            a.len = after[k] - after[k + 1];
        }
        /* as rrd_first_r: the oldest row ends rows - 1 rows before the
         * newest, which ends at the last update rounded down to a row */
        a.first = *last - *last % (time_t)a.res - (time_t)((rows[k] - 1) * a.res);
        if (cf[k] == 1 && better_fine(&a, fine))
            *fine = a;
        if (cf[k] == 2 &&
            (!back->res || a.first < back->first || (a.first == back->first && a.res < back->res)))
            *back = a;
    }
    if (*last <= 0 || !fine->res) {
        ks_error_set(err, KS_E_RRD, 0,
                     "cannot read '%s': %s; is it a kvmshift RRD file? Move it away or import "
                     "the server again",
                     path, *last <= 0 ? rrd_message() : "no AVERAGE archive");
        return -1;
    }
    return 0;
}

/* The file's header checked (ks_rrdfile.h: librrd crashes on a damaged
 * one), and its data sources: a file with none of kvmshift's is said to
 * be foreign, with what it has, rather than read as a server without data. */
static int check_file(const char *path, ks_error *err)
{
    ks_rrd_header h;
    if (ks_rrd_check(path, &h, err) < 0)
        return -1;
    bool any = false;
    for (unsigned long i = 0; i < h.nds && !any; i++)
        for (int k = 0; k < V_N && !any; k++)
            any = strcmp(h.ds_names[i], wanted[k]) == 0;
    if (!any) {
        char found[256] = "";
        size_t n = 0;
        for (unsigned long i = 0; i < h.nds && n + 24 < sizeof found; i++)
            n +=
                (size_t)snprintf(found + n, sizeof found - n, "%s%s", i ? ", " : "", h.ds_names[i]);
        if (h.nds > 0 && n + 24 >= sizeof found)
            snprintf(found + n, sizeof found - n, ", ...");
        ks_error_set(err, KS_E_RRD, 0,
                     "'%s' has none of kvmshift's data sources: it has %lu (%s), kvmshift's are "
                     "cpu_pct, cpu_mhz, mem_used, disk_rd_bps, ... (README: rrd/NAME.rrd); "
                     "import the server's data with 'kvmshift import' instead",
                     path, h.nds, found);
    }
    free(h.ds_names);
    return any ? 0 : -1;
}

int ks_series_read(const char *path, long slot_seconds, double cpu_capacity_mhz, unsigned flags,
                   ks_series *s, ks_error *err)
{
    memset(s, 0, sizeof *s);
    if (check_file(path, err) < 0)
        return -1;
    time_t last;
    archive fine, back;
    if (archives(path, &last, &fine, &back, err) < 0)
        return -1;
    /* librrd maps the file with MADV_RANDOM, so reading an archive from
     * disk is one 4 kB page fault after the other (a collected file's
     * 5-minute archive is 2.2 MB: 535 of them); asking for both archives
     * first reads them in a few large requests. Only a hint: failures do
     * not matter. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (fine.len)
            (void)posix_fadvise(fd, fine.off, fine.len, POSIX_FADV_WILLNEED);
        if (back.len && back.first < fine.first)
            (void)posix_fadvise(fd, back.off, back.len, POSIX_FADV_WILLNEED);
        close(fd);
    }
    fetched f5, f60 = {0};
    if (fetch(path, "AVERAGE", fine.first, last, fine.res, &f5, err) < 0)
        return -1;
    bool have60 = back.res && back.first < f5.start;
    if (have60 && fetch(path, "MAX", back.first, f5.start, back.res, &f60, err) < 0) {
        rrd_freemem(f5.data);
        return -1;
    }
    time_t lo = 0, hi = 0;
    if (have60)
        span(&f60, cpu_capacity_mhz, flags & KS_SERIES_LOAD, &lo, &hi);
    span(&f5, cpu_capacity_mhz, flags & KS_SERIES_LOAD, &lo, &hi);
    if (!lo) {
        series_alloc(s, 0, slot_seconds, 0, flags);
    } else {
        time_t start = lo - lo % slot_seconds;
        size_t n = (size_t)((hi - start + slot_seconds - 1) / slot_seconds);
        series_alloc(s, start, slot_seconds, n, flags);
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

void ks_series_window(const ks_series *s, time_t start, long slot, size_t n, ks_series *out)
{
    series_alloc(out, start, slot, n, s->cpu_pct ? KS_SERIES_LOAD : 0);
    if (!s->nslots || s->slot_seconds != slot)
        return;
    double **src[SERIES_N], **dst[SERIES_N];
    series_arrays((ks_series *)s, src);
    series_arrays(out, dst);
    for (size_t i = 0; i < n; i++) {
        time_t t = start + (time_t)i * s->slot_seconds;
        if (t < s->slot_start)
            continue;
        size_t j = (size_t)((t - s->slot_start) / s->slot_seconds);
        if (j >= s->nslots)
            break;
        for (size_t a = 0; a < SERIES_N; a++)
            if (*src[a])
                (*dst[a])[i] = (*src[a])[j];
    }
    mark_measured(out);
}

size_t ks_series_present(const ks_series *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nslots; i++)
        n += !isnan(s->cpu_mhz[i]);
    return n;
}

void ks_series_free(ks_series *s)
{
    free(s->cpu_mhz);
    free(s->mem_bytes);
    free(s->disk_bps);
    free(s->disk_iops);
    free(s->net_bps);
    free(s->cpu_pct);
    free(s->mem_total);
    free(s->steal_pct);
    free(s->measured);
    memset(s, 0, sizeof *s);
}
