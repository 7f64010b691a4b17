/* col_rrd.c: RRD files of the collector.
 *
 * Layout (step 60 s), every data source a GAUGE because the collector
 * computes rates itself (it must tell a counter wrap or a reboot from a
 * spike, which RRD's COUNTER type cannot):
 *   AVERAGE and MAX, 1 minute for 8 days, 5 minutes for 95 days,
 *   1 hour for 400 days.
 * The MAX archives keep the highest 1-minute value of each 5-minute and
 * 1-hour row: the analyzer sizes on peaks, which averages would hide.
 */
#include "col_rrd.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <rrd.h>
#include <rrd_client.h>

#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_mem.h"
#include "ks_rrdfile.h"
#include "ks_vector.h"

#define STEP 60

const char *const col_ds_names[COL_DS_COUNT] = {
    "cpu_pct",      "cpu_mhz",      "mem_used",   "mem_total",  "disk_rd_bps",   "disk_wr_bps",
    "disk_rd_iops", "disk_wr_iops", "net_rx_bps", "net_tx_bps", "cpu_steal_pct",
};

/* Upper bounds keep one absurd value (a parser bug, a broken counter) from
 * wrecking the MAX archives: RRD stores it as unknown instead. */
static const char *const ds_max[COL_DS_COUNT] = {
    "100", "U", "U", "U", "U", "U", "U", "U", "U", "U", "100",
};

static const char *const rras[] = {
    "RRA:AVERAGE:0.5:1:11520", "RRA:AVERAGE:0.5:5:27360", "RRA:AVERAGE:0.5:60:9600",
    "RRA:MAX:0.5:1:11520",     "RRA:MAX:0.5:5:27360",     "RRA:MAX:0.5:60:9600",
};

static const char *rrd_message(void)
{
    const char *m = rrd_get_error();
    return m && *m ? m : "unknown librrd error";
}

/* The create arguments: data sources, then archives. */
typedef struct layout {
    char ds[COL_DS_COUNT][96];
    const char *argv[COL_DS_COUNT + sizeof rras / sizeof rras[0]];
    int argc;
} layout;

static void layout_make(layout *l, long interval)
{
    long heartbeat = interval * 2 > 120 ? interval * 2 : 120;
    l->argc = 0;
    for (int i = 0; i < COL_DS_COUNT; i++) {
        snprintf(l->ds[i], sizeof l->ds[i], "DS:%s:GAUGE:%ld:0:%s", col_ds_names[i], heartbeat,
                 ds_max[i]);
        l->argv[l->argc++] = l->ds[i];
    }
    for (size_t i = 0; i < sizeof rras / sizeof rras[0]; i++)
        l->argv[l->argc++] = rras[i];
}

/* The size of the file the layout's arguments make: its rows (the last
 * field of each "RRA:CF:xff:steps:rows") of every data source, and the
 * header. */
static double layout_bytes(const char *const *argv, int argc)
{
    double rows = 0;
    int nds = 0;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "DS:", 3) == 0)
            nds++;
        const char *last = strrchr(argv[i], ':');
        if (strncmp(argv[i], "RRA:", 4) == 0 && last)
            rows += strtod(last + 1, NULL);
    }
    return rows * nds * sizeof(double) + 16384;
}

/* A create that failed: librrd's message, and when it gave none (a disk
 * that filled while it wrote the file: librrd removes it and says
 * nothing), the file system's free space against the file's size. */
static void create_failed(const char *path, const char *const *argv, int argc, ks_error *err)
{
    const char *m = rrd_get_error();
    if (!(m && *m)) {
        KS_AUTOFREE char *dir = ks_strdup(path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        struct statvfs fs;
        double need = layout_bytes(argv, argc);
        if (statvfs(slash ? dir : ".", &fs) == 0 &&
            (double)fs.f_bavail * (double)fs.f_frsize < need) {
            ks_error_set(err, KS_E_IO, ENOSPC,
                         "cannot create '%s': no space left on its file system (%.0f KiB free, "
                         "the file needs %.0f KiB): free some, or move the study",
                         path, (double)fs.f_bavail * (double)fs.f_frsize / 1024, need / 1024);
            return;
        }
    }
    ks_error_set(err, KS_E_RRD, 0, "cannot create '%s': %s", path, rrd_message());
}

int col_rrd_create(const char *path, time_t start, long interval, ks_error *err)
{
    layout l;
    layout_make(&l, interval);
    rrd_clear_error();
    if (rrd_create_r2(path, STEP, start, 1, NULL, NULL, l.argc, l.argv) != 0) {
        create_failed(path, l.argv, l.argc, err);
        return -1;
    }
    return 0;
}

/* Imported history at its own step: steps of 5 minutes or more are kept as
 * they are (AVERAGE and MAX of one row per step, for as long as the data,
 * at most 95 days when hourly rows can take over and 400 days otherwise;
 * then AVERAGE and MAX of 1 hour up to 400 days). A year of hourly data is
 * then 0.7 MB instead of the collector's 7.8 MB, which makes imports of
 * thousands of servers fit on a disk. Finer steps get the collector's
 * layout: the analyzer wants 5-minute averages of them. */
#define IMPORT_MIN_STEP 300
#define DAY 86400L

int col_rrd_create_import(const char *path, time_t first, time_t last, long step, ks_error *err)
{
    if (step < IMPORT_MIN_STEP)
        return col_rrd_create(path, first - step, step, err);
    layout l;
    layout_make(&l, step);
    l.argc = COL_DS_COUNT; /* the data sources; the archives follow */
    long hourly = step < 3600 && 3600 % step == 0 ? 3600 / step : 0; /* steps per hour */
    /* from the row before the first sample to the last, and a row spare
     * at each end for times that are not multiples of the step */
    long span = (long)(last - first) + 3 * step;
    long fine_reach = hourly ? 95 * DAY : 400 * DAY;
    long fine = (span < fine_reach ? span : fine_reach) / step + 1;
    long coarse =
        hourly && span > fine_reach ? (span < 400 * DAY ? span : 400 * DAY) / 3600 + 1 : 0;
    char rra[4][64];
    int nrra = 0;
    for (int max = 0; max <= 1; max++) {
        const char *cf = max ? "MAX" : "AVERAGE";
        snprintf(rra[nrra++], sizeof rra[0], "RRA:%s:0.5:1:%ld", cf, fine);
        if (coarse)
            snprintf(rra[nrra++], sizeof rra[0], "RRA:%s:0.5:%ld:%ld", cf, hourly, coarse);
    }
    for (int i = 0; i < nrra; i++)
        l.argv[l.argc++] = rra[i];
    rrd_clear_error();
    if (rrd_create_r2(path, (unsigned long)step, first - step, 1, NULL, NULL, l.argc, l.argv) !=
        0) {
        create_failed(path, l.argv, l.argc, err);
        return -1;
    }
    return 0;
}

/* A server's file as the store knows it. Entries are allocated one by one
 * and never move, so the creator thread can hold a pointer while the
 * main thread adds more. */
typedef struct entry {
    char *name;
    long interval;
    time_t t;   /* last update stored */
    int nds;    /* data sources of the file: COL_DS_COUNT, or COL_DS_OLD_COUNT */
    bool dirty; /* updated since the last flush */
    enum { E_NEW, E_PENDING, E_READY, E_FAILED } state;
    ks_error error; /* when failed */
} entry;

struct col_store {
    char *dir;
    char *daemon; /* NULL: direct */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    entry **entries;
    size_t n, cap;
    entry **index; /* open addressing by name; nindex a power of two > 2n */
    size_t nindex;
    size_t next_job; /* entries[next_job..] may still wait for the creator */
    bool creator_started;
    int notify_fd; /* eventfd: the creator writes 1 after each file */
    bool stopping;
    pthread_t creator;
};

static size_t name_hash(const char *name)
{
    uint64_t h = 14695981039346656037u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return (size_t)h;
}

static void index_put(entry **index, size_t nindex, entry *e)
{
    size_t i = name_hash(e->name) & (nindex - 1);
    while (index[i])
        i = (i + 1) & (nindex - 1);
    index[i] = e;
}

/* The entry of name, added when missing. Call with s->mu held. A hash
 * index, because the collector looks a server up on every sample. */
static entry *find_entry(col_store *s, const char *name)
{
    if (s->nindex) {
        for (size_t i = name_hash(name) & (s->nindex - 1); s->index[i];
             i = (i + 1) & (s->nindex - 1))
            if (strcmp(s->index[i]->name, name) == 0)
                return s->index[i];
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->entries = ks_reallocarray(s->entries, s->cap, sizeof *s->entries);
    }
    entry *e = ks_calloc(1, sizeof *e);
    e->name = ks_strdup(name);
    ks_error_clear(&e->error);
    s->entries[s->n++] = e;
    if (2 * s->n >= s->nindex) {
        size_t nindex = s->nindex ? s->nindex * 2 : 128;
        while (2 * s->n >= nindex)
            nindex *= 2;
        free(s->index);
        s->index = ks_calloc(nindex, sizeof *s->index);
        s->nindex = nindex;
        for (size_t i = 0; i < s->n; i++)
            index_put(s->index, s->nindex, s->entries[i]);
    } else {
        index_put(s->index, s->nindex, e);
    }
    return e;
}

col_store *col_store_open(const char *rrd_dir, const char *rrdcached, ks_error *err)
{
    col_store *s = ks_calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    char abs[PATH_MAX];
    /* rrdcached resolves relative names against its own directory */
    s->dir = ks_strdup(realpath(rrd_dir, abs) ? abs : rrd_dir);
    if (rrdcached && *rrdcached) {
        s->daemon = ks_strdup(rrdcached);
        rrd_clear_error();
        if (rrdc_connect(s->daemon) != 0 || !rrdc_is_connected(s->daemon)) {
            ks_error_set(err, KS_E_RRD, 0,
                         "cannot connect to rrdcached at '%s' (study.ini [collector] "
                         "rrdcached): %s; start the daemon or empty the setting to write "
                         "the files directly",
                         s->daemon, rrd_message());
            col_store_free(s);
            return NULL;
        }
    }
    return s;
}

void col_store_free(col_store *s)
{
    if (!s)
        return;
    if (s->creator_started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->creator, NULL);
    }
    if (s->daemon)
        rrdc_disconnect();
    for (size_t i = 0; i < s->n; i++) {
        free(s->entries[i]->name);
        free(s->entries[i]);
    }
    free(s->entries);
    free(s->index);
    if (s->notify_fd >= 0)
        close(s->notify_fd);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->dir);
    free(s->daemon);
    free(s);
}

int col_store_notify_fd(const col_store *s)
{
    return s->notify_fd;
}

void col_store_notify_drain(col_store *s)
{
    uint64_t n;
    if (s->notify_fd >= 0 && read(s->notify_fd, &n, sizeof n) < 0) {
        /* EAGAIN: nothing to drain */
    }
}

char *col_store_path(const col_store *s, const char *name)
{
    return ks_asprintf("%s/%s.rrd", s->dir, name);
}

/* Is path one of ours? Its last update time in *last, its number of data
 * sources in *nds (a file made before cpu_steal_pct has the others). */
static int check_existing(const char *path, const char *name, time_t *last, int *nds, ks_error *err)
{
    unsigned long n = 0;
    char **names = NULL, **values = NULL;
    /* (librrd crashes on a damaged header: checked first) */
    if (ks_rrd_check(path, NULL, err) < 0)
        return -1;
    rrd_clear_error();
    if (rrd_lastupdate_r(path, last, &n, &names, &values) != 0) {
        ks_error_set(err, KS_E_RRD, 0,
                     "cannot read '%s' of server '%s': %s; move the file away to start a new "
                     "series",
                     path, name, rrd_message());
        return -1;
    }
    bool same = n == COL_DS_COUNT || n == COL_DS_OLD_COUNT;
    *nds = (int)n;
    for (unsigned long i = 0; i < n; i++) {
        if (same && strcmp(names[i], col_ds_names[i]) != 0)
            same = false;
        rrd_freemem(names[i]);
        rrd_freemem(values[i]);
    }
    rrd_freemem(names);
    rrd_freemem(values);
    if (!same) {
        ks_error_set(err, KS_E_RRD, 0,
                     "'%s' of server '%s' does not have kvmshift's data sources (%s, %s, ...): "
                     "it was not made by this collector; move it away",
                     path, name, col_ds_names[0], col_ds_names[1]);
        return -1;
    }
    return 0;
}

/* Make sure a file exists, directly (not through rrdcached): check an
 * existing one, or create one under a temporary name and rename it. Safe
 * to run in the creator thread: it touches no shared state. */
static int prepare_file(const char *path, const char *name, long interval, time_t *last, int *nds,
                        ks_error *err)
{
    if (ks_path_exists(path))
        return check_existing(path, name, last, nds, err);
    *nds = COL_DS_COUNT;
    time_t start = time(NULL) - 10;
    KS_AUTOFREE char *tmp = ks_asprintf("%s.tmp.%ld", path, (long)getpid());
    unlink(tmp);
    if (col_rrd_create(tmp, start, interval, err) < 0) {
        unlink(tmp);
        return -1;
    }
    if (ks_rename(tmp, path, err) < 0)
        return -1;
    *last = start;
    return 0;
}

/* Data sources of a file as rrdcached sees it; COL_DS_COUNT when it does
 * not say. */
static int daemon_ds_count(const char *path)
{
    int n = 0;
    rrd_info_t *info = rrdc_info(path);
    for (rrd_info_t *i = info; i; i = i->next) {
        size_t len = strlen(i->key);
        if (strncmp(i->key, "ds[", 3) == 0 && len > 7 && strcmp(i->key + len - 7, "].index") == 0)
            n++;
    }
    rrd_info_free(info);
    return n == COL_DS_OLD_COUNT ? n : COL_DS_COUNT;
}

static int prepare_daemon(const char *addr, const char *path, const char *name, long interval,
                          time_t *last, int *nds, ks_error *err)
{
    time_t start = time(NULL) - 10;
    layout l;
    layout_make(&l, interval);
    rrd_clear_error();
    /* no_overwrite: an existing file on the daemon's side is kept */
    *nds = COL_DS_COUNT;
    if (rrdc_create_r2(path, STEP, start, 1, NULL, NULL, l.argc, l.argv) != 0) {
        const char *m = rrd_message();
        if (!strstr(m, "exist")) {
            ks_error_set(err, KS_E_RRD, 0,
                         "rrdcached at '%s' cannot create '%s' for server '%s': %s", addr, path,
                         name, m);
            return -1;
        }
        *nds = daemon_ds_count(path);
    }
    /* an existing file may be ahead of our clock's idea of "new" */
    time_t l2 = rrdc_last(path);
    *last = l2 > 0 ? l2 : start;
    return 0;
}

int col_store_prepare(col_store *s, const char *name, long interval, ks_error *err)
{
    KS_AUTOFREE char *path = col_store_path(s, name);
    time_t last = 0;
    int nds = COL_DS_COUNT;
    int r = s->daemon ? prepare_daemon(s->daemon, path, name, interval, &last, &nds, err)
                      : prepare_file(path, name, interval, &last, &nds, err);
    pthread_mutex_lock(&s->mu);
    entry *e = find_entry(s, name);
    e->interval = interval;
    if (r == 0) {
        e->state = E_READY;
        e->t = last;
        e->nds = nds;
    } else {
        e->state = E_FAILED;
        ks_error_copy(&e->error, err);
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* The creator thread: prepares the entries queued by col_store_prepare_async
 * in order, so that the event loop never waits for a disk writing 8 MB. */
static void *creator_main(void *arg)
{
    col_store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stopping && s->next_job == s->n)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->stopping)
            break;
        entry *e = s->entries[s->next_job++];
        if (e->state != E_PENDING)
            continue;
        KS_AUTOFREE char *name = ks_strdup(e->name);
        long interval = e->interval;
        pthread_mutex_unlock(&s->mu);

        KS_AUTOFREE char *path = col_store_path(s, name);
        ks_error err;
        ks_error_clear(&err);
        time_t last = 0;
        int nds = COL_DS_COUNT;
        int r = prepare_file(path, name, interval, &last, &nds, &err);

        pthread_mutex_lock(&s->mu);
        if (r == 0) {
            e->t = last;
            e->nds = nds;
            e->state = E_READY;
        } else {
            ks_error_copy(&e->error, &err);
            e->state = E_FAILED;
        }
        if (s->notify_fd >= 0) {
            uint64_t one = 1;
            ssize_t w = write(s->notify_fd, &one, sizeof one);
            (void)w; /* a full counter still wakes the reader */
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

void col_store_prepare_async(col_store *s, const char *name, long interval)
{
    if (s->daemon) {
        /* librrd's rrdcached client is one global connection, not to be
         * shared with a thread: ask the daemon now (it does the writing) */
        ks_error err;
        col_store_prepare(s, name, interval, &err);
        return;
    }
    pthread_mutex_lock(&s->mu);
    entry *e = find_entry(s, name);
    if (e->state == E_NEW) {
        e->interval = interval;
        e->state = E_PENDING;
    }
    if (!s->creator_started) {
        if (pthread_create(&s->creator, NULL, creator_main, s) != 0) {
            fprintf(stderr, "kvmshift: cannot start a thread: out of resources\n");
            abort();
        }
        s->creator_started = true;
    }
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int col_store_state(col_store *s, const char *name, ks_error *err)
{
    pthread_mutex_lock(&s->mu);
    entry *e = find_entry(s, name);
    int r = e->state == E_READY ? 1 : e->state == E_FAILED ? -1 : 0;
    if (r < 0)
        ks_error_copy(err, &e->error);
    pthread_mutex_unlock(&s->mu);
    return r;
}

int col_store_update(col_store *s, const char *name, time_t t, const double *values, ks_error *err)
{
    pthread_mutex_lock(&s->mu);
    entry *e = find_entry(s, name);
    bool ready = e->state == E_READY;
    time_t last = e->t;
    int nds = e->nds;
    pthread_mutex_unlock(&s->mu);
    if (!ready) {
        ks_error_set(err, KS_E_INTERNAL, 0, "the file of server '%s' is not ready", name);
        return -1;
    }
    if (t <= last)
        return 0;
    ks_buf b;
    ks_buf_init(&b, 1024);
    ks_buf_printf(&b, "%lld", (long long)t);
    for (int i = 0; i < nds; i++) {
        if (isnan(values[i]))
            ks_buf_appends(&b, ":U");
        else
            ks_buf_printf(&b, ":%.6f", values[i]);
    }
    KS_AUTOFREE char *path = col_store_path(s, name);
    const char *argv[1] = {ks_buf_str(&b)};
    rrd_clear_error();
    int rc = s->daemon ? rrdc_update(path, 1, argv) : rrd_update_r(path, NULL, 1, argv);
    ks_buf_free(&b);
    if (rc != 0) {
        ks_error_set(err, KS_E_RRD, 0, "cannot store a sample of server '%s' in '%s': %s", name,
                     path, rrd_message());
        return -1;
    }
    pthread_mutex_lock(&s->mu);
    e->t = t;
    e->dirty = true;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int col_store_flush(col_store *s, ks_error *err)
{
    if (!s->daemon)
        return 0;
    for (size_t i = 0; i < s->n; i++) {
        entry *e = s->entries[i];
        if (!e->dirty)
            continue;
        KS_AUTOFREE char *path = col_store_path(s, e->name);
        rrd_clear_error();
        if (rrdc_flush(path) != 0) {
            ks_error_set(err, KS_E_RRD, 0, "rrdcached at '%s' cannot flush '%s': %s", s->daemon,
                         path, rrd_message());
            return -1;
        }
        e->dirty = false;
    }
    return 0;
}

static void append_value(ks_buf *b, double v)
{
    if (isnan(v)) {
        ks_buf_append(b, ":U", 2);
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        char tmp[24];
        size_t n = sizeof tmp;
        long long x = (long long)v;
        bool neg = x < 0;
        unsigned long long u = neg ? 0ULL - (unsigned long long)x : (unsigned long long)x;
        do {
            tmp[--n] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (neg)
            tmp[--n] = '-';
        tmp[--n] = ':';
        ks_buf_append(b, tmp + n, sizeof tmp - n);
        return;
    }
    ks_buf_printf(b, ":%.15g", v);
}

int col_rrd_update_many(const char *path, const col_sample *samples, size_t n, ks_error *err)
{
    /* a few hundred updates per call: librrd opens and locks the file once
     * per call, which is what makes one update per call slow */
    enum { BATCH = 512 };
    const char *argv[BATCH];
    size_t offs[BATCH];
    ks_buf b;
    ks_buf_init(&b, (size_t)1 << 30);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i += BATCH) {
        size_t k = n - i < BATCH ? n - i : BATCH;
        ks_buf_reset(&b);
        for (size_t j = 0; j < k; j++) {
            const col_sample *s = &samples[i + j];
            offs[j] = b.len;
            ks_buf_printf(&b, "%lld", (long long)s->t);
            for (int d = 0; d < COL_DS_COUNT; d++)
                append_value(&b, s->v[d]);
            ks_buf_append(&b, "", 1); /* keeps the NUL between samples */
        }
        for (size_t j = 0; j < k; j++)
            argv[j] = b.data + offs[j];
        rrd_clear_error();
        if (rrd_update_r(path, NULL, (int)k, argv) != 0) {
            ks_error_set(err, KS_E_RRD, 0, "cannot store samples %lld to %lld in '%s': %s",
                         (long long)samples[i].t, (long long)samples[i + k - 1].t, path,
                         rrd_message());
            rc = -1;
        }
    }
    ks_buf_free(&b);
    return rc;
}
