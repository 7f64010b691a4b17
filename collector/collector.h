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

#include <jansson.h>

#include "ks_error.h"
#include "ks_inventory.h"
#include "ks_ssh.h"
#include "ks_study.h"

/* The data sources of every STUDY/rrd/NAME.rrd, in this order. Rates are
 * per second; memory in bytes; cpu_mhz is the CPU demand in MHz;
 * cpu_steal_pct the share of CPU time the hypervisor gave to others (a VM
 * short of CPU). Files made before cpu_steal_pct (the first
 * COL_DS_OLD_COUNT sources) are still written, without it. */
#define COL_DS_COUNT 11
#define COL_DS_OLD_COUNT 10
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
    unsigned shard_index; /* with shard_count > 1: take only the servers of  */
    unsigned shard_count; /* shard K of N (1 <= K <= N), by a hash of the name */
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

/* Take the facts of a server over an authenticated session (the script of
 * `kvmshift facts`, the schema of STUDY/facts/NAME.json) and return them,
 * stored nowhere: for the validator, which compares a VM with the facts of
 * its physical server. name is stored as "name". NULL with err filled
 * (the session's error, or output that is not the script's). */
json_t *col_facts_take(ks_ssh *s, const char *name, double timeout, ks_error *err);

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

/* ---- Import ---------------------------------------------------------------
 * 'kvmshift import': existing monitoring exports (Bitbrains GWA-T-12 traces,
 * a generic CSV) turned into the study's RRD files, minimal facts and
 * inventory lines of method "import". See README "Importing existing data".
 */

typedef enum col_import_format {
    COL_IMPORT_BITBRAINS = 0, /* a directory of N.csv, one machine each */
    COL_IMPORT_CSV,           /* one file, a 'server' column names each row's server */
} col_import_format;

/* Why an input row was skipped. */
typedef enum col_skip_reason {
    COL_SKIP_REPEATED = 0, /* same time as an earlier row of the server */
    COL_SKIP_NUMBER,       /* a value that is not a number */
    COL_SKIP_TIME,         /* a timestamp that is not Unix seconds or ISO 8601 */
    COL_SKIP_FIELDS,       /* missing required fields, or too many */
    COL_SKIP_NEGATIVE,     /* a negative value */
    COL_SKIP_NAME,         /* a server name that cannot name a file */
    COL_SKIP_RANGE,        /* a value or time beyond any real server's (1e308 bytes, year
                              9999): it would overflow what is made of it */
    COL_SKIP_COUNT
} col_skip_reason;

/* Stable short name ("repeated_timestamp", ...) for JSON/CSV output. */
const char *col_skip_reason_name(col_skip_reason r);
/* Words for people ("repeated timestamps", ...). */
const char *col_skip_reason_text(col_skip_reason r);

typedef struct col_import_options {
    col_import_format format;
    const char *input;  /* bitbrains: a directory; csv: a file */
    const char *prefix; /* put before server names; NULL: "bb-" (bitbrains), "" (csv) */
    bool quiet;         /* no progress display */
} col_import_options;

/* What happened to one server. */
typedef struct col_import_result {
    const char *name;   /* owned by the run */
    const char *file;   /* its input file (as named in messages) */
    bool ok;            /* RRD file, facts and inventory line written */
    bool replaced;      /* it replaced an earlier import of the same server */
    bool facts_kept;    /* its facts file, made by something else than an import, was kept */
    size_t rows;        /* rows stored */
    time_t first, last; /* times of the first and last row stored; 0 when none */
    long step;          /* seconds, the most common interval of its rows */
    size_t clamped;     /* cpu_pct values above 100 stored as 100 */
    size_t skipped[COL_SKIP_COUNT];
    ks_error error; /* why not ok (refused, unreadable file, ...); KS_OK when ok */
} col_import_result;

typedef struct col_import col_import;

/* Import opt->input into the study: for each server, STUDY/rrd/NAME.rrd
 * (through a temporary name and a rename), STUDY/facts/NAME.json, and a line
 * "NAME,,import,..." appended to inventory.csv (rewritten atomically once at
 * the end). A server already in the inventory with another method is
 * refused (its result says so); one of method import is replaced, except
 * its facts when they are a JSON object that no import made (no "source":
 * "import:..."): those are kept (result facts_kept). opt->input may be
 * gzip-compressed.
 * Returns the per-server results (free with col_import_free), or NULL with
 * err for a failure that stops everything (bad study or inventory, input
 * missing, a CSV file with a bad header). SIGINT/SIGTERM stop the run after
 * the current server, leaving no temporary file. Not thread-safe. */
col_import *col_import_run(const ks_study *study, const col_import_options *opt, ks_error *err);
size_t col_import_count(const col_import *imp);
const col_import_result *col_import_get(const col_import *imp, size_t i);
/* Rows skipped per reason over the whole run (including rows that named no
 * usable server), and up to 3 examples ("17.csv:233" or
 * "17.csv:901: 'x1,2'"); *examples is borrowed from imp. */
size_t col_import_skipped(const col_import *imp, col_skip_reason r);
size_t col_import_examples(const col_import *imp, col_skip_reason r, const char *const **examples);
/* "skipped 12 rows: 9 repeated timestamps (first: 17.csv:233), 3 unreadable
 * numbers (first: 17.csv:901: 'x1,2')", or NULL when nothing was skipped.
 * Borrowed from imp. */
const char *col_import_skip_summary(const col_import *imp);
/* Did SIGINT/SIGTERM stop the run before every server was done? */
bool col_import_interrupted(const col_import *imp);
void col_import_free(col_import *imp);

#endif
