/* collector.h: kvmshift's agentless collector (public API).
 *
 * Samples the servers of a study's inventory (CPU, memory, disk and network
 * I/O) into one RRD file per server and takes their facts (hardware, OS,
 * services). One single-threaded event loop drives every server's
 * connection at once; a slow or unreachable server never delays the others.
 * Not thread-safe: call from one thread.
 */
#ifndef COLLECTOR_H
#define COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ks_error.h"
#include "ks_inventory.h"
#include "ks_study.h"

/* The data sources of every STUDY/rrd/NAME.rrd, in this order. Rates are
 * per second; memory in bytes; cpu_mhz is the CPU demand in MHz. */
#define COL_DS_COUNT 10
extern const char *const col_ds_names[COL_DS_COUNT];

typedef struct col_options {
    long interval;            /* seconds between samples; 0: study.ini or 60 */
    long duration;            /* seconds to run; 0: until SIGINT/SIGTERM */
    bool once;                /* one sample per server, then return */
    long window;              /* with once: seconds between the two readings
                                 whose difference gives the rates; 0: 2 */
    bool facts_only;          /* take facts (and nothing else), then return */
    bool accept_new_hostkeys; /* record unknown host keys on first contact */
    bool quiet;               /* no progress display */
    const char *const *only;  /* restrict to these server names (or NULL) */
    size_t nonly;
} col_options;

/* What happened to one server during a run. */
typedef struct col_result {
    const char *name;            /* borrowed from the inventory */
    bool ok;                     /* at least one sample (or the facts) stored */
    size_t samples;              /* samples stored in the RRD this run */
    size_t failures;             /* failed attempts this run */
    bool have_values;            /* values[] holds the last stored sample */
    double values[COL_DS_COUNT]; /* NAN = unknown */
    ks_error last_error;         /* code KS_OK when the server never failed */
} col_result;

typedef struct col_run col_run;

/* Run the collector over the study's inventory (filtered by opt->only;
 * servers of method "import" are left out).
 * Returns the per-server results (caller frees with col_run_free), or NULL
 * with err filled for a failure that stops everything (bad option, unknown
 * server in only, rrd directory not writable). Per-server failures are in
 * the results, not in err. SIGINT/SIGTERM end a run early, cleanly. */
col_run *col_collect(const ks_study *study, const ks_inventory *inv, const col_options *opt,
                     ks_error *err);
size_t col_run_count(const col_run *run);
const col_result *col_run_result(const col_run *run, size_t i);
void col_run_free(col_run *run);

/* Per-server collection status read back from the study directory. */
typedef struct col_status {
    char *name;
    time_t last_sample; /* last update with a CPU value; 0: never */
    size_t samples;     /* 1-minute rows with a CPU value, last 8 days */
    size_t gaps;        /* runs of missing rows between the first and last sample */
    size_t missing;     /* missing 1-minute rows between first and last sample */
    bool has_facts;
    char *last_error;       /* NULL when the last attempt succeeded */
    char *last_error_code;  /* ks_errcode_name, or NULL */
    time_t last_error_time; /* 0: never */
} col_status;

/* Read the status of every inventory server. Returns an array of
 * inv->count entries (free with col_status_free), NULL with err on failure. */
col_status *col_status_read(const ks_study *study, const ks_inventory *inv, ks_error *err);
void col_status_free(col_status *st, size_t n);

#endif
