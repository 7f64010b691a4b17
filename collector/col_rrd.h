/* col_rrd.h: the collector's time-series store: one RRD file per server,
 * written with librrd directly or through rrdcached. Internal. */
#ifndef COL_RRD_H
#define COL_RRD_H

#include <stddef.h>
#include <time.h>

#include "collector.h"
#include "ks_error.h"

/* The store may run one thread of its own (the creator); its functions are
 * called from one thread. */
typedef struct col_store col_store;

/* rrd_dir: STUDY/rrd (must exist). rrdcached: daemon address
 * ("unix:/path" or "host:port") or NULL/"" to write files directly. With
 * rrdcached, file names are sent as absolute paths: start the daemon with
 * -B -b set to a directory above the study, or without -B. */
col_store *col_store_open(const char *rrd_dir, const char *rrdcached, ks_error *err);
void col_store_free(col_store *s);

/* Make sure NAME.rrd exists with kvmshift's layout (create it, through a
 * temporary name and a rename, when missing; check its data sources when
 * present), now. interval sets the heartbeat: max(120, 2 * interval)
 * seconds, after which a missing sample is stored as unknown. */
int col_store_prepare(col_store *s, const char *name, long interval, ks_error *err);

/* The same, done by the store's creator thread (started on first use), so
 * that the caller's event loop never waits for a file being written (a new
 * file is 8 MB). Through rrdcached it is asked of the daemon at once, and
 * waits for its answer: librrd's client is one global connection that a
 * thread must not share (about 15 ms a new file; existing ones are quick).
 * Ask col_store_state when it is done. */
void col_store_prepare_async(col_store *s, const char *name, long interval);

/* An fd that becomes readable each time the creator thread finishes a file
 * (for the caller's poll/epoll), or -1; col_store_notify_drain resets it. */
int col_store_notify_fd(const col_store *s);
void col_store_notify_drain(col_store *s);

/* 1: NAME's file is ready for updates; 0: not yet; -1: it cannot be made
 * (err says why). */
int col_store_state(col_store *s, const char *name, ks_error *err);

/* Create path (which must not exist) with kvmshift's layout, its first
 * row just after start. Used by col_store_prepare; tests use it to build
 * files with a history. */
int col_rrd_create(const char *path, time_t start, long interval, ks_error *err);

/* Create path (which must not exist) for imported samples from first to
 * last, one every step seconds (most of them): with a step of 300 s or
 * more, at that step and only as long as the data (see col_rrd.c), else
 * with col_rrd_create's layout. The data sources and their order are
 * always the collector's; the first row is the one after first - step. */
int col_rrd_create_import(const char *path, time_t first, time_t last, long step, ks_error *err);

/* Store one sample (values in col_ds_names order, NAN = unknown) at time t,
 * into a file that is ready. A time not after the file's last update is
 * skipped (returns 0). */
int col_store_update(col_store *s, const char *name, time_t t, const double *values, ks_error *err);

/* Ask rrdcached to write what it holds for the files updated so far
 * (no-op when writing directly). */
int col_store_flush(col_store *s, ks_error *err);

/* Path of a server's RRD file (newly allocated). */
char *col_store_path(const col_store *s, const char *name);

/* One sample for col_rrd_update_many: values in col_ds_names order, NAN =
 * unknown. */
typedef struct col_sample {
    time_t t;
    double v[COL_DS_COUNT];
} col_sample;

/* Store n samples into the file path (made by col_rrd_create; written
 * directly, never through rrdcached), many per librrd call. Times must be
 * strictly increasing and after the file's last update: a sample that is not
 * stops the batch with an error naming its time. Used by 'kvmshift import'
 * to write months of history in seconds. */
int col_rrd_update_many(const char *path, const col_sample *samples, size_t n, ks_error *err);

#endif
