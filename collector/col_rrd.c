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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rrd.h>
#include <rrd_client.h>

#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_mem.h"
#include "ks_vector.h"

#define STEP 60

const char *const col_ds_names[COL_DS_COUNT] = {
    "cpu_pct",     "cpu_mhz",      "mem_used",     "mem_total",  "disk_rd_bps",
    "disk_wr_bps", "disk_rd_iops", "disk_wr_iops", "net_rx_bps", "net_tx_bps",
};

/* Upper bounds keep one absurd value (a parser bug, a broken counter) from
 * wrecking the MAX archives: RRD stores it as unknown instead. */
static const char *const ds_max[COL_DS_COUNT] = {
    "100", "U", "U", "U", "U", "U", "U", "U", "U", "U",
};

static const char *const rras[] = {
    "RRA:AVERAGE:0.5:1:11520", "RRA:AVERAGE:0.5:5:27360", "RRA:AVERAGE:0.5:60:9600",
    "RRA:MAX:0.5:1:11520",     "RRA:MAX:0.5:5:27360",     "RRA:MAX:0.5:60:9600",
};

typedef struct last_update {
    char *name;
    time_t t;
    bool dirty;
} last_update;

KS_VECTOR(last_vec, last_update);

struct col_store {
    char *dir;
    char *daemon; /* NULL: direct */
    last_vec last;
};

static last_update *find_last(col_store *s, const char *name)
{
    for (size_t i = 0; i < s->last.len; i++)
        if (strcmp(s->last.ptr[i].name, name) == 0)
            return &s->last.ptr[i];
    last_update lu = {ks_strdup(name), 0, false};
    return last_vec_push(&s->last, lu);
}

static const char *rrd_message(void)
{
    const char *m = rrd_get_error();
    return m && *m ? m : "unknown librrd error";
}

col_store *col_store_open(const char *rrd_dir, const char *rrdcached, ks_error *err)
{
    col_store *s = ks_calloc(1, sizeof *s);
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
    if (s->daemon)
        rrdc_disconnect();
    for (size_t i = 0; i < s->last.len; i++)
        free(s->last.ptr[i].name);
    last_vec_reset(&s->last);
    free(s->dir);
    free(s->daemon);
    free(s);
}

char *col_store_path(const col_store *s, const char *name)
{
    return ks_asprintf("%s/%s.rrd", s->dir, name);
}

static int check_existing(col_store *s, const char *path, const char *name, ks_error *err)
{
    time_t last = 0;
    unsigned long n = 0;
    char **names = NULL, **values = NULL;
    rrd_clear_error();
    if (rrd_lastupdate_r(path, &last, &n, &names, &values) != 0) {
        ks_error_set(err, KS_E_RRD, 0,
                     "cannot read '%s' of server '%s': %s; move the file away to start a new "
                     "series",
                     path, name, rrd_message());
        return -1;
    }
    bool same = n == COL_DS_COUNT;
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
    find_last(s, name)->t = last;
    return 0;
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

int col_rrd_create(const char *path, time_t start, long interval, ks_error *err)
{
    layout l;
    layout_make(&l, interval);
    rrd_clear_error();
    if (rrd_create_r2(path, STEP, start, 1, NULL, NULL, l.argc, l.argv) != 0) {
        ks_error_set(err, KS_E_RRD, 0, "cannot create '%s': %s", path, rrd_message());
        return -1;
    }
    return 0;
}

int col_store_prepare(col_store *s, const char *name, long interval, ks_error *err)
{
    KS_AUTOFREE char *path = col_store_path(s, name);
    if (!s->daemon && ks_path_exists(path))
        return check_existing(s, path, name, err);

    time_t start = time(NULL) - 10;
    rrd_clear_error();
    if (s->daemon) {
        /* no_overwrite: an existing file on the daemon's side is kept */
        layout l;
        layout_make(&l, interval);
        if (rrdc_create_r2(path, STEP, start, 1, NULL, NULL, l.argc, l.argv) != 0) {
            const char *m = rrd_message();
            if (!strstr(m, "exist")) {
                ks_error_set(err, KS_E_RRD, 0,
                             "rrdcached at '%s' cannot create '%s' for server '%s': %s", s->daemon,
                             path, name, m);
                return -1;
            }
        }
        /* an existing file may be ahead of our clock's idea of "new" */
        time_t last = rrdc_last(path);
        find_last(s, name)->t = last > 0 ? last : start;
        return 0;
    }
    KS_AUTOFREE char *tmp = ks_asprintf("%s.tmp.%ld", path, (long)getpid());
    unlink(tmp);
    if (col_rrd_create(tmp, start, interval, err) < 0) {
        unlink(tmp);
        return -1;
    }
    if (ks_rename(tmp, path, err) < 0)
        return -1;
    find_last(s, name)->t = start;
    return 0;
}

int col_store_update(col_store *s, const char *name, time_t t, const double *values, ks_error *err)
{
    last_update *lu = find_last(s, name);
    if (t <= lu->t)
        return 0;
    ks_buf b;
    ks_buf_init(&b, 1024);
    ks_buf_printf(&b, "%lld", (long long)t);
    for (int i = 0; i < COL_DS_COUNT; i++) {
        if (isnan(values[i]))
            ks_buf_appends(&b, ":U");
        else
            ks_buf_printf(&b, ":%.6f", values[i]);
    }
    KS_AUTOFREE char *path = col_store_path(s, name);
    const char *argv[1] = {ks_buf_str(&b)};
    rrd_clear_error();
    int rc = s->daemon ? rrdc_update(path, 1, argv) : rrd_update_r(path, NULL, 1, argv);
    if (rc != 0) {
        ks_error_set(err, KS_E_RRD, 0, "cannot store a sample of server '%s' in '%s': %s", name,
                     path, rrd_message());
        ks_buf_free(&b);
        return -1;
    }
    ks_buf_free(&b);
    lu->t = t;
    lu->dirty = true;
    return 0;
}

int col_store_flush(col_store *s, ks_error *err)
{
    if (!s->daemon)
        return 0;
    for (size_t i = 0; i < s->last.len; i++) {
        if (!s->last.ptr[i].dirty)
            continue;
        KS_AUTOFREE char *path = col_store_path(s, s->last.ptr[i].name);
        rrd_clear_error();
        if (rrdc_flush(path) != 0) {
            ks_error_set(err, KS_E_RRD, 0, "rrdcached at '%s' cannot flush '%s': %s", s->daemon,
                         path, rrd_message());
            return -1;
        }
        s->last.ptr[i].dirty = false;
    }
    return 0;
}
