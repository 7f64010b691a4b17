/* col_import.h: parsers of 'kvmshift import' (col_import.c). Internal to the
 * collector; its own header for the unit tests and the fuzzer.
 *
 * Two input formats, both read from memory:
 *   Bitbrains GWA-T-12: one machine per N.csv, fields separated by ';' and a
 *     tab, a fixed header line (see /work/shared/traces/README.md);
 *   generic CSV: a header naming the columns 'server', 'timestamp', any of
 *     the data sources (optionally with a unit: "mem_used[MiB]"), 'cores'
 *     and 'mhz'; ',' ';' or tab separated (detected from the header).
 * Rows are parsed one line at a time into col_import_row; a row that cannot
 * be used is skipped with a reason (col_skip_reason) and an example text.
 * The per-file readers collect the rows of each server into a
 * col_import_data; col_import_data_finish then sorts each server's rows by
 * time, drops repeated timestamps (keeping the first row) and finds the
 * data's step.
 */
#ifndef COL_IMPORT_H
#define COL_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "col_rrd.h"
#include "collector.h"
#include "ks_error.h"

/* Examples kept per skip reason (for the summary). */
#define COL_IMPORT_EXAMPLES 3
#define COL_IMPORT_EXAMPLE_MAX 160

/* One usable input row. */
typedef struct col_import_row {
    col_sample s;    /* time (Unix seconds) and values in RRD units, NAN = unknown */
    double cores;    /* CPU cores, NAN = unknown */
    double core_mhz; /* nominal MHz per core, NAN = unknown */
    unsigned line;   /* line in its file */
} col_import_row;

/* Why a row was skipped, with the offending text (may be empty). */
typedef struct col_row_problem {
    col_skip_reason reason;
    char text[80];
} col_row_problem;

/* Parse "2024-03-01 12:00:00", "2024-03-01T12:00:00Z", "...+02:00" (ISO
 * 8601, seconds and fraction optional, no zone = UTC) or Unix seconds
 * ("1709294400"), between 1980 and 2100. false on anything else. */
bool col_import_parse_time(const char *s, size_t len, int64_t *out);

/* Parse a decimal number ("12", "-1.5", "1.6703488E7"; with decimal_comma
 * also "1,5"). Surrounding blanks allowed; no "inf", "nan" or hex. */
bool col_import_parse_number(const char *s, size_t len, bool decimal_comma, double *out);

/* Bitbrains: check the header line; 0, or -1 with err naming file:line and
 * the expected columns. */
int col_bb_header(const char *line, size_t len, const char *file, unsigned lineno, ks_error *err);
/* Bitbrains: parse one data line (without its '\n'; a '\r' is allowed) into
 * *row (line not set). false with *prob filled when the row is unusable. */
bool col_bb_row(const char *line, size_t len, col_import_row *row, col_row_problem *prob);

/* Generic CSV: what the header said. */
typedef struct col_csv_layout {
    char sep;                   /* ',' ';' or '\t' */
    bool decimal_comma;         /* sep is not ',': "1,5" reads as 1.5 */
    size_t ncols;               /* columns in the header */
    int server_col, time_col;   /* column indexes */
    int cores_col, mhz_col;     /* -1 when absent */
    int ds_col[COL_DS_COUNT];   /* column of each data source, -1 when absent */
    double scale[COL_DS_COUNT]; /* unit factor to bytes (1 when none) */
    double mhz_scale;           /* 1 (MHz) or 1000 (GHz) */
} col_csv_layout;

/* Generic CSV: read the header line into *lay. 0, or -1 with err naming
 * file:line and what was expected (unknown or repeated column, unknown unit,
 * no server/timestamp column, no data column). */
int col_csv_header(const char *line, size_t len, const char *file, unsigned lineno,
                   col_csv_layout *lay, ks_error *err);
/* Generic CSV: parse one data line. The server name (unquoted, at most
 * server_size - 1 bytes) goes to server, also when the row is unusable
 * after it was read ("" otherwise). false with *prob when unusable (the
 * name is not checked here: see ks_server_name_valid). */
bool col_csv_row(const col_csv_layout *lay, const char *line, size_t len, col_import_row *row,
                 char *server, size_t server_size, col_row_problem *prob);

/* Read a whole input file into a NUL-terminated buffer (the caller frees
 * it), its length in *len: a gzip-compressed file (any name) is
 * decompressed, any other file read as it is. NULL with err when it cannot
 * be opened or read (KS_E_IO), when it holds more than max bytes once
 * decompressed (KS_E_IO, EFBIG), or when its gzip data is damaged or
 * truncated (KS_E_PARSE). */
char *col_import_read_input(const char *path, size_t max, size_t *len, ks_error *err);

/* The rows of one server, sorted and checked by col_import_data_finish. */
typedef struct col_series {
    char *name;
    char *file; /* input file, for messages */
    col_import_row *rows;
    size_t nrows, caprows;
    size_t skipped[COL_SKIP_COUNT];    /* rows of this server skipped, per reason */
    size_t clamped;                    /* cpu_pct above 100 stored as 100 */
    long step;                         /* after finish: the most common interval */
    double cores, core_mhz, mem_total; /* largest seen, NAN when never */
} col_series;

typedef struct col_import_data col_import_data;

col_import_data *col_import_data_new(void);
void col_import_data_free(col_import_data *d);

/* Read a whole Bitbrains file (text, len) as server name; file names it in
 * messages. 0, or -1 with err when the file is not in the format (then no
 * row of it is kept). Unusable rows are counted, not errors. */
int col_import_read_bitbrains(col_import_data *d, const char *text, size_t len, const char *file,
                              const char *name, ks_error *err);
/* Read a whole generic CSV file; server names get prefix in front. A BOM,
 * CRLF line ends and blank lines are accepted. 0, or -1 with err on a bad
 * header. */
int col_import_read_csv(col_import_data *d, const char *text, size_t len, const char *file,
                        const char *prefix, ks_error *err);

/* Sort every server's rows by time (stable: input order breaks ties), drop
 * repeated timestamps (counted), set step, first/last. */
void col_import_data_finish(col_import_data *d);

size_t col_import_data_count(const col_import_data *d);
col_series *col_import_data_series(col_import_data *d, size_t i);
/* Skipped rows per reason over everything read (rows without a usable server
 * name included), and the first examples ("file:line" or "file:line: 'text'"). */
size_t col_import_data_skipped(const col_import_data *d, col_skip_reason r);
size_t col_import_data_examples(const col_import_data *d, col_skip_reason r,
                                const char *const **examples);

#endif
