/* col_import.c: 'kvmshift import': existing monitoring exports turned into
 * the study's RRD files, minimal facts and inventory lines.
 *
 * Inputs are read whole into memory, parsed one line at a time into rows
 * grouped per server, then each server's rows are sorted by time and
 * deduplicated before its RRD file is written in one go through a temporary
 * name. Nothing in a row is trusted: every number is checked, and a row that
 * cannot be used is counted under its reason with a file:line example, so
 * that the summary says exactly what was left out and where to look.
 */
#include "col_import.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_inventory.h"
#include "ks_json.h"
#include "ks_mem.h"
#include "ks_parse.h"
#include "ks_progress.h"
#include "ks_signal.h"
#include "ks_vector.h"
#include "ks_time.h"

/* Larger inputs are refused rather than read into memory. */
#define INPUT_MAX ((size_t)4 << 30)
#define INVENTORY_MAX ((size_t)16 << 20)
#define MAX_COLUMNS 64
/* Step of a server with a single row: the usual monitoring interval. */
#define DEFAULT_STEP 300

static const char *const skip_names[COL_SKIP_COUNT] = {
    "repeated_timestamp", "bad_number",      "bad_timestamp", "missing_fields",
    "negative_value",     "bad_server_name", "out_of_range",
};
static const char *const skip_texts[COL_SKIP_COUNT] = {
    "repeated timestamps",   "unreadable numbers",
    "unreadable timestamps", "rows with missing or extra fields",
    "negative values",       "invalid server names",
    "values out of range",
};

const char *col_skip_reason_name(col_skip_reason r)
{
    return r < COL_SKIP_COUNT ? skip_names[r] : "?";
}

const char *col_skip_reason_text(col_skip_reason r)
{
    return r < COL_SKIP_COUNT ? skip_texts[r] : "?";
}

/* ---- numbers and times ------------------------------------------------- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static void trim_span(const char **s, size_t *len)
{
    while (*len && is_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_blank((*s)[*len - 1]))
        (*len)--;
}

bool col_import_parse_number(const char *s, size_t len, bool decimal_comma, double *out)
{
    trim_span(&s, &len);
    char tmp[64];
    size_t n = 0, i = 0;
    if (len == 0 || len >= sizeof tmp)
        return false;
    if (s[i] == '-' || s[i] == '+')
        tmp[n++] = s[i++];
    size_t digits = 0;
    while (i < len && isdigit((unsigned char)s[i])) {
        tmp[n++] = s[i++];
        digits++;
    }
    if (i < len && (s[i] == '.' || (decimal_comma && s[i] == ','))) {
        tmp[n++] = '.';
        i++;
        while (i < len && isdigit((unsigned char)s[i])) {
            tmp[n++] = s[i++];
            digits++;
        }
    }
    if (digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        tmp[n++] = s[i++];
        if (i < len && (s[i] == '-' || s[i] == '+'))
            tmp[n++] = s[i++];
        size_t exp_digits = 0;
        while (i < len && isdigit((unsigned char)s[i])) {
            tmp[n++] = s[i++];
            exp_digits++;
        }
        if (exp_digits == 0)
            return false;
    }
    if (i != len)
        return false;
    tmp[n] = '\0';
    double v = strtod(tmp, NULL);
    if (!isfinite(v))
        return false;
    *out = v == 0 ? 0.0 : v; /* no -0 */
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): no time zone or locale involved. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* n digits at s[*i] as a number; false when not all digits. */
static bool take_digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || !isdigit((unsigned char)s[*i]))
            return false;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return true;
}

static bool take_char(const char *s, size_t len, size_t *i, char c)
{
    if (*i < len && s[*i] == c) {
        (*i)++;
        return true;
    }
    return false;
}

#define TIME_MIN 315532800LL  /* 1980-01-01 */
#define TIME_MAX 4102444800LL /* 2100-01-01 */

static bool parse_iso(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!take_digits(s, len, &i, 4, &y) || !take_char(s, len, &i, '-') ||
        !take_digits(s, len, &i, 2, &mo) || !take_char(s, len, &i, '-') ||
        !take_digits(s, len, &i, 2, &d))
        return false;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    int64_t offset = 0;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return false;
        i++;
        if (!take_digits(s, len, &i, 2, &h) || !take_char(s, len, &i, ':') ||
            !take_digits(s, len, &i, 2, &mi))
            return false;
        if (take_char(s, len, &i, ':')) {
            if (!take_digits(s, len, &i, 2, &sec))
                return false;
            if (take_char(s, len, &i, '.') || take_char(s, len, &i, ',')) {
                size_t frac = 0;
                while (i < len && isdigit((unsigned char)s[i])) {
                    i++;
                    frac++;
                }
                if (frac == 0)
                    return false;
            }
        }
        if (h > 23 || mi > 59 || sec > 59)
            return false;
        if (take_char(s, len, &i, 'Z') || take_char(s, len, &i, 'z')) {
            /* UTC */
        } else if (i < len && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
            if (!take_digits(s, len, &i, 2, &oh))
                return false;
            if (take_char(s, len, &i, ':')) {
                if (!take_digits(s, len, &i, 2, &om))
                    return false;
            } else if (i < len) {
                if (!take_digits(s, len, &i, 2, &om))
                    return false;
            }
            if (oh > 14 || om > 59)
                return false;
            offset = sign * (oh * 3600 + om * 60);
        }
    }
    if (i != len)
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return true;
}

/* Unix seconds or ISO 8601, any year; false when it is neither. */
static bool parse_time_any(const char *s, size_t len, int64_t *out)
{
    trim_span(&s, &len);
    if (len == 0)
        return false;
    int64_t t = 0;
    size_t i = 0;
    while (i < len && isdigit((unsigned char)s[i]) && i < 12)
        t = t * 10 + (s[i++] - '0');
    if (i == len || (i > 4 && s[i] == '.')) {
        /* Unix seconds, maybe with a fraction (dropped) */
        if (i < len) {
            size_t k = i + 1;
            while (k < len && isdigit((unsigned char)s[k]))
                k++;
            if (k != len || k == i + 1)
                return false;
        }
    } else if (!parse_iso(s, len, &t)) {
        return false;
    }
    *out = t;
    return true;
}

bool col_import_parse_time(const char *s, size_t len, int64_t *out)
{
    int64_t t;
    if (!parse_time_any(s, len, &t) || t < TIME_MIN || t >= TIME_MAX)
        return false;
    *out = t;
    return true;
}

/* ---- fields -------------------------------------------------------------- */

typedef struct field {
    const char *p;
    size_t n;
} field;

/* Split line at sep into at most MAX_COLUMNS fields (blanks around fields
 * dropped, "quoted" fields unquoted into scratch, which holds len bytes).
 * Returns the number of fields (more than MAX_COLUMNS: MAX_COLUMNS + 1), or
 * -1 on a broken quote. */
static int split_fields(const char *line, size_t len, char sep, field *out, char *scratch)
{
    size_t i = 0, used = 0;
    int count = 0;
    for (;;) {
        while (i < len && line[i] != sep && is_blank(line[i]))
            i++;
        field f;
        if (i < len && line[i] == '"') {
            i++;
            f.p = scratch + used;
            size_t start = used;
            bool closed = false;
            while (i < len) {
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        scratch[used++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    closed = true;
                    break;
                }
                scratch[used++] = line[i++];
            }
            if (!closed)
                return -1;
            f.n = used - start;
            while (i < len && line[i] != sep && is_blank(line[i]))
                i++;
            if (i < len && line[i] != sep)
                return -1;
        } else {
            f.p = line + i;
            while (i < len && line[i] != sep)
                i++;
            f.n = (size_t)(line + i - f.p);
            trim_span(&f.p, &f.n);
        }
        if (count < MAX_COLUMNS)
            out[count] = f;
        count++;
        if (i >= len)
            break;
        i++; /* the separator */
        if (count > MAX_COLUMNS)
            break;
    }
    return count;
}

static void set_problem(col_row_problem *prob, col_skip_reason r, const char *p, size_t n)
{
    prob->reason = r;
    bool cut = n >= sizeof prob->text;
    if (cut)
        n = sizeof prob->text - 4;
    /* the text is quoted in messages: keep it printable */
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        prob->text[k++] = (unsigned char)p[i] >= 0x20 && p[i] != 0x7f ? p[i] : '?';
    if (cut) {
        memcpy(prob->text + k, "...", 3);
        k += 3;
    }
    prob->text[k] = '\0';
}

static void set_problemf(col_row_problem *prob, col_skip_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_problemf(col_row_problem *prob, col_skip_reason r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prob->reason = r;
    vsnprintf(prob->text, sizeof prob->text, fmt, ap);
    va_end(ap);
}

/* A non-negative number from a field, or false with *prob. */
static bool field_value(const field *f, bool decimal_comma, double *out, col_row_problem *prob)
{
    if (!col_import_parse_number(f->p, f->n, decimal_comma, out)) {
        set_problem(prob, COL_SKIP_NUMBER, f->p, f->n);
        return false;
    }
    if (*out < 0) {
        set_problem(prob, COL_SKIP_NEGATIVE, f->p, f->n);
        return false;
    }
    return true;
}

/* The largest value of each data source any real server gives, with a
 * wide margin: beyond them a value is a fault of the export (1e308 bytes
 * of memory overflowed the facts' integer), never a measurement. */
static const double ds_max[COL_DS_COUNT] = {
    1e4,  /* cpu_pct */
    1e9,  /* cpu_mhz: a million cores of 1 GHz */
    1e18, /* mem_used, bytes: an exabyte */
    1e18, /* mem_total */
    1e15, /* disk_rd_bps: a petabyte a second */
    1e15, /* disk_wr_bps */
    1e12, /* disk_rd_iops */
    1e12, /* disk_wr_iops */
    1e15, /* net_rx_bps */
    1e15, /* net_tx_bps */
    1e4,  /* cpu_steal_pct */
};

/* The time of field f, refused as unreadable or out of range (before
 * 1980, from 2100 on) with what it says. */
static bool row_time(const field *f, int64_t *out, col_row_problem *prob)
{
    int64_t t;
    if (!parse_time_any(f->p, f->n, &t)) {
        set_problem(prob, COL_SKIP_TIME, f->p, f->n);
        return false;
    }
    if (t < TIME_MIN || t >= TIME_MAX) {
        set_problemf(prob, COL_SKIP_RANGE, "time '%.*s' out of range (before 1980 or after 2099)",
                     (int)(f->n > 40 ? 40 : f->n), f->p);
        return false;
    }
    *out = t;
    return true;
}

/* A row's values within ds_max, its cores and MHz within any server's. */
static bool row_in_range(const col_import_row *row, col_row_problem *prob)
{
    for (int k = 0; k < COL_DS_COUNT; k++)
        if (!isnan(row->s.v[k]) && row->s.v[k] > ds_max[k]) {
            set_problemf(prob, COL_SKIP_RANGE, "%s %g (at most %g)", col_ds_names[k], row->s.v[k],
                         ds_max[k]);
            return false;
        }
    if (!isnan(row->cores) && row->cores > 1e6) {
        set_problemf(prob, COL_SKIP_RANGE, "%g cores (at most 1e+06)", row->cores);
        return false;
    }
    if (!isnan(row->core_mhz) && row->core_mhz > 1e6) {
        set_problemf(prob, COL_SKIP_RANGE, "%g MHz per core (at most 1e+06)", row->core_mhz);
        return false;
    }
    return true;
}

/* A line without its '\r' and a leading BOM. */
static void clean_line(const char **line, size_t *len)
{
    if (*len >= 3 && memcmp(*line, "\xEF\xBB\xBF", 3) == 0) {
        *line += 3;
        *len -= 3;
    }
    if (*len && (*line)[*len - 1] == '\r')
        (*len)--;
}

/* ---- Bitbrains ------------------------------------------------------------ */

#define BB_COLUMNS 11
static const char *const bb_columns[BB_COLUMNS] = {
    "Timestamp [ms]",
    "CPU cores",
    "CPU capacity provisioned [MHZ]",
    "CPU usage [MHZ]",
    "CPU usage [%]",
    "Memory capacity provisioned [KB]",
    "Memory usage [KB]",
    "Disk read throughput [KB/s]",
    "Disk write throughput [KB/s]",
    "Network received throughput [KB/s]",
    "Network transmitted throughput [KB/s]",
};

int col_bb_header(const char *line, size_t len, const char *file, unsigned lineno, ks_error *err)
{
    clean_line(&line, &len);
    field f[MAX_COLUMNS];
    KS_AUTOFREE char *scratch = ks_malloc(len + 1);
    int n = split_fields(line, len, ';', f, scratch);
    int bad = -1;
    for (int i = 0; i < BB_COLUMNS && bad < 0; i++)
        if (i >= n || f[i].n != strlen(bb_columns[i]) ||
            strncasecmp(f[i].p, bb_columns[i], f[i].n) != 0)
            bad = i;
    if (bad < 0 && n == BB_COLUMNS)
        return 0;
    if (bad < 0) {
        ks_error_set(err, KS_E_PARSE, 0,
                     "%s:%u: not a Bitbrains GWA-T-12 file: the header has %d columns, expected "
                     "the 11 columns 'Timestamp [ms]; CPU cores; CPU capacity provisioned "
                     "[MHZ]; ...; Network transmitted throughput [KB/s]' separated by ';' (use "
                     "--format csv for other exports)",
                     file, lineno, n);
        return -1;
    }
    char found[64];
    if (bad < n)
        snprintf(found, sizeof found, "'%.*s'", (int)(f[bad].n > 40 ? 40 : f[bad].n), f[bad].p);
    else
        snprintf(found, sizeof found, "nothing");
    ks_error_set(err, KS_E_PARSE, 0,
                 "%s:%u: not a Bitbrains GWA-T-12 file: column %d of the header should be "
                 "'%s', found %s; the header must be the 11 columns 'Timestamp [ms]; CPU "
                 "cores; CPU capacity provisioned [MHZ]; ...; Network transmitted throughput "
                 "[KB/s]' separated by ';' (use --format csv for other exports)",
                 file, lineno, bad + 1, bb_columns[bad], found);
    return -1;
}

static bool bb_row_fields(const field *f, col_import_row *row, col_row_problem *prob)
{
    int64_t t;
    if (!row_time(&f[0], &t, prob))
        return false;
    double v[BB_COLUMNS];
    for (int i = 1; i < BB_COLUMNS; i++)
        if (!field_value(&f[i], false, &v[i], prob))
            return false;
    row->s.t = (time_t)t;
    double *o = row->s.v;
    o[0] = v[4];         /* cpu_pct */
    o[1] = v[3];         /* cpu_mhz */
    o[2] = v[6] * 1024;  /* mem_used */
    o[3] = v[5] * 1024;  /* mem_total */
    o[4] = v[7] * 1024;  /* disk_rd_bps */
    o[5] = v[8] * 1024;  /* disk_wr_bps */
    o[6] = NAN;          /* disk_rd_iops */
    o[7] = NAN;          /* disk_wr_iops */
    o[8] = v[9] * 1024;  /* net_rx_bps */
    o[9] = v[10] * 1024; /* net_tx_bps */
    o[10] = NAN;         /* cpu_steal_pct */
    row->cores = v[1];
    row->core_mhz = v[1] > 0 ? v[2] / v[1] : NAN;
    return row_in_range(row, prob);
}

bool col_bb_row(const char *line, size_t len, col_import_row *row, col_row_problem *prob)
{
    clean_line(&line, &len);
    field f[MAX_COLUMNS];
    char small[512];
    char *scratch = len < sizeof small ? small : ks_malloc(len + 1);
    bool ok = false;
    int n = split_fields(line, len, ';', f, scratch);
    if (n < 0) {
        set_problemf(prob, COL_SKIP_FIELDS, "unbalanced quote");
    } else if (n != BB_COLUMNS) {
        set_problemf(prob, COL_SKIP_FIELDS, "%d fields, expected %d", n, BB_COLUMNS);
    } else {
        int empty = -1;
        for (int i = 0; i < BB_COLUMNS && empty < 0; i++)
            if (f[i].n == 0)
                empty = i;
        if (empty >= 0)
            set_problemf(prob, COL_SKIP_FIELDS, "empty '%s'", bb_columns[empty]);
        else
            ok = bb_row_fields(f, row, prob);
    }
    if (scratch != small)
        free(scratch);
    return ok;
}

/* ---- generic CSV ------------------------------------------------------------ */

typedef struct unit {
    const char *name;
    double factor;
} unit;

static const unit byte_units[] = {
    {"B", 1},           {"kB", 1e3},           {"MB", 1e6},
    {"GB", 1e9},        {"TB", 1e12},          {"KiB", 1024.0},
    {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
};
static const unit rate_units[] = {
    {"B/s", 1},        {"kB/s", 1e3},        {"MB/s", 1e6},           {"GB/s", 1e9},
    {"KiB/s", 1024.0}, {"MiB/s", 1048576.0}, {"GiB/s", 1073741824.0}, {"bit/s", 0.125},
    {"kbit/s", 125.0}, {"Mbit/s", 125e3},    {"Gbit/s", 125e6},
};
static const unit pct_units[] = {{"%", 1}};
static const unit mhz_units[] = {{"MHz", 1}, {"GHz", 1000}};
static const unit iops_units[] = {{"1/s", 1}, {"/s", 1}, {"IOPS", 1}};

enum { K_SERVER = COL_DS_COUNT, K_TIME, K_CORES, K_MHZ, K_COUNT };

static const char *column_name(int k)
{
    static const char *const extra[] = {"server", "timestamp", "cores", "mhz"};
    return k < COL_DS_COUNT ? col_ds_names[k] : extra[k - COL_DS_COUNT];
}

/* The units a column accepts (none: count 0). */
static const unit *column_units(int k, size_t *count, const char **list)
{
    static const char bytes[] = "B, kB, MB, GB, TB, KiB, MiB, GiB, TiB";
    static const char rates[] =
        "B/s, kB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s, bit/s, kbit/s, Mbit/s, Gbit/s";
#define UNITS(a, l)                                                                                \
    do {                                                                                           \
        *count = sizeof a / sizeof a[0];                                                           \
        *list = l;                                                                                 \
        return a;                                                                                  \
    } while (0)
    switch (k) {
    case 0:
    case 10:
        UNITS(pct_units, "%");
    case 1:
    case K_MHZ:
        UNITS(mhz_units, "MHz, GHz");
    case 2:
    case 3:
        UNITS(byte_units, bytes);
    case 4:
    case 5:
    case 8:
    case 9:
        UNITS(rate_units, rates);
    case 6:
    case 7:
        UNITS(iops_units, "1/s, /s, IOPS");
    default:
        *count = 0;
        *list = "none";
        return NULL;
    }
#undef UNITS
}

/* The separator: the most frequent of ',' ';' and tab outside quotes. */
static char detect_sep(const char *line, size_t len)
{
    size_t comma = 0, semi = 0, tab = 0;
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        if (line[i] == '"')
            quoted = !quoted;
        else if (!quoted && line[i] == ',')
            comma++;
        else if (!quoted && line[i] == ';')
            semi++;
        else if (!quoted && line[i] == '\t')
            tab++;
    }
    if (semi > comma && semi >= tab)
        return ';';
    if (tab > comma && tab > semi)
        return '\t';
    return ',';
}

static const char csv_expected[] =
    "the header must name the columns 'server', 'timestamp' and at least one of cpu_pct, "
    "cpu_mhz, mem_used, mem_total, disk_rd_bps, disk_wr_bps, disk_rd_iops, disk_wr_iops, "
    "net_rx_bps, net_tx_bps, cpu_steal_pct (optionally with a unit: 'mem_used[MiB]'), plus "
    "optional "
    "'cores' and 'mhz', separated by ',' or ';'";

int col_csv_header(const char *line, size_t len, const char *file, unsigned lineno,
                   col_csv_layout *lay, ks_error *err)
{
    clean_line(&line, &len);
    memset(lay, 0, sizeof *lay);
    lay->sep = detect_sep(line, len);
    lay->decimal_comma = lay->sep != ',';
    lay->server_col = lay->time_col = lay->cores_col = lay->mhz_col = -1;
    lay->mhz_scale = 1;
    for (int k = 0; k < COL_DS_COUNT; k++) {
        lay->ds_col[k] = -1;
        lay->scale[k] = 1;
    }
    field f[MAX_COLUMNS];
    KS_AUTOFREE char *scratch = ks_malloc(len + 1);
    int n = split_fields(line, len, lay->sep, f, scratch);
    if (n < 0) {
        ks_error_set(err, KS_E_PARSE, 0, "%s:%u: the header has an unbalanced quote; %s", file,
                     lineno, csv_expected);
        return -1;
    }
    if (n > MAX_COLUMNS) {
        ks_error_set(err, KS_E_PARSE, 0, "%s:%u: the header has more than %d columns; %s", file,
                     lineno, MAX_COLUMNS, csv_expected);
        return -1;
    }
    lay->ncols = (size_t)n;
    int seen[K_COUNT];
    for (int k = 0; k < K_COUNT; k++)
        seen[k] = -1;
    for (int i = 0; i < n; i++) {
        const char *p = f[i].p;
        size_t nl = f[i].n;
        const char *u = memchr(p, '[', nl);
        size_t ul = 0;
        if (u) {
            const char *close = memchr(u, ']', nl - (size_t)(u - p));
            if (!close || close != p + nl - 1) {
                ks_error_set(err, KS_E_PARSE, 0,
                             "%s:%u: column %d '%.*s' has a unit without its closing ']' (write "
                             "e.g. 'mem_used[MiB]'); %s",
                             file, lineno, i + 1, (int)(nl > 60 ? 60 : nl), p, csv_expected);
                return -1;
            }
            nl = (size_t)(u - p);
            u++;
            ul = (size_t)(close - u);
            trim_span(&p, &nl);
            trim_span(&u, &ul);
        }
        int k = -1;
        for (int c = 0; c < K_COUNT && k < 0; c++)
            if (strlen(column_name(c)) == nl && strncasecmp(p, column_name(c), nl) == 0)
                k = c;
        if (k < 0) {
            ks_error_set(err, KS_E_PARSE, 0, "%s:%u: unknown column %d '%.*s'; %s", file, lineno,
                         i + 1, (int)(nl > 60 ? 60 : nl), p, csv_expected);
            return -1;
        }
        if (seen[k] >= 0) {
            ks_error_set(err, KS_E_PARSE, 0,
                         "%s:%u: column '%s' appears twice (columns %d and %d); keep one", file,
                         lineno, column_name(k), seen[k] + 1, i + 1);
            return -1;
        }
        seen[k] = i;
        double factor = 1;
        if (u) {
            size_t nu;
            const char *list;
            const unit *units = column_units(k, &nu, &list);
            bool found = false;
            for (size_t j = 0; j < nu && !found; j++)
                if (strlen(units[j].name) == ul && memcmp(units[j].name, u, ul) == 0) {
                    factor = units[j].factor;
                    found = true;
                }
            if (!found) {
                ks_error_set(err, KS_E_PARSE, 0,
                             "%s:%u: unknown unit '%.*s' for column '%s'; its units are: %s "
                             "(KiB/MiB/... are powers of 1024, kB/MB/... powers of 1000)",
                             file, lineno, (int)(ul > 20 ? 20 : ul), u, column_name(k), list);
                return -1;
            }
        }
        if (k < COL_DS_COUNT) {
            lay->ds_col[k] = i;
            lay->scale[k] = factor;
        } else if (k == K_SERVER) {
            lay->server_col = i;
        } else if (k == K_TIME) {
            lay->time_col = i;
        } else if (k == K_CORES) {
            lay->cores_col = i;
        } else {
            lay->mhz_col = i;
            lay->mhz_scale = factor;
        }
    }
    bool any_ds = false;
    for (int k = 0; k < COL_DS_COUNT; k++)
        any_ds |= lay->ds_col[k] >= 0;
    const char *missing = lay->server_col < 0 ? "server"
                          : lay->time_col < 0 ? "timestamp"
                          : !any_ds           ? "data source (cpu_pct, mem_used, ...)"
                                              : NULL;
    if (missing) {
        ks_error_set(err, KS_E_PARSE, 0, "%s:%u: the header has no %s column; %s", file, lineno,
                     missing, csv_expected);
        return -1;
    }
    return 0;
}

static bool csv_row_fields(const col_csv_layout *lay, const field *f, col_import_row *row,
                           char *server, size_t server_size, col_row_problem *prob)
{
    const field *sf = &f[lay->server_col], *tf = &f[lay->time_col];
    if (sf->n == 0) {
        set_problemf(prob, COL_SKIP_FIELDS, "no server");
        return false;
    }
    if (tf->n == 0) {
        set_problemf(prob, COL_SKIP_FIELDS, "no timestamp");
        return false;
    }
    if (sf->n >= server_size || memchr(sf->p, '\0', sf->n)) {
        set_problem(prob, COL_SKIP_NAME, sf->p, sf->n);
        return false;
    }
    /* from here on a skipped row is counted for its server */
    memcpy(server, sf->p, sf->n);
    server[sf->n] = '\0';
    int64_t t;
    if (!row_time(tf, &t, prob))
        return false;
    row->s.t = (time_t)t;
    for (int k = 0; k < COL_DS_COUNT; k++) {
        row->s.v[k] = NAN;
        int c = lay->ds_col[k];
        if (c < 0 || f[c].n == 0)
            continue;
        if (!field_value(&f[c], lay->decimal_comma, &row->s.v[k], prob))
            return false;
        row->s.v[k] *= lay->scale[k];
    }
    row->cores = row->core_mhz = NAN;
    if (lay->cores_col >= 0 && f[lay->cores_col].n &&
        !field_value(&f[lay->cores_col], lay->decimal_comma, &row->cores, prob))
        return false;
    if (lay->mhz_col >= 0 && f[lay->mhz_col].n &&
        !field_value(&f[lay->mhz_col], lay->decimal_comma, &row->core_mhz, prob))
        return false;
    row->core_mhz *= lay->mhz_scale;
    return row_in_range(row, prob);
}

bool col_csv_row(const col_csv_layout *lay, const char *line, size_t len, col_import_row *row,
                 char *server, size_t server_size, col_row_problem *prob)
{
    clean_line(&line, &len);
    if (server_size)
        server[0] = '\0';
    field f[MAX_COLUMNS];
    char small[512];
    char *scratch = len < sizeof small ? small : ks_malloc(len + 1);
    bool ok = false;
    int n = split_fields(line, len, lay->sep, f, scratch);
    if (n < 0)
        set_problemf(prob, COL_SKIP_FIELDS, "unbalanced quote");
    else if ((size_t)n != lay->ncols)
        set_problemf(prob, COL_SKIP_FIELDS, "%d fields, expected %zu", n, lay->ncols);
    else
        ok = csv_row_fields(lay, f, row, server, server_size, prob);
    if (scratch != small)
        free(scratch);
    return ok;
}

/* ---- input files ------------------------------------------------------------ */

char *col_import_read_input(const char *path, size_t max, size_t *len, ks_error *err)
{
    /* zlib reads a file that is not gzip as it is ("transparent" mode), so
     * one reader serves both; errno tells why gzopen failed */
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        int e = errno ? errno : ENOMEM;
        ks_error_set(err, KS_E_IO, e, "cannot open '%s': %s", path, strerror(e));
        return NULL;
    }
    gzbuffer(gz, 1 << 17);
    size_t cap = 1 << 16, n = 0;
    char *buf = ks_malloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = ks_realloc(buf, cap);
        }
        size_t want = cap - n - 1;
        if (want > (1u << 30))
            want = 1u << 30; /* gzread takes an unsigned int */
        errno = 0;
        int r = gzread(gz, buf + n, (unsigned)want);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(gz, &zerr);
            if (zerr == Z_ERRNO)
                ks_error_set(err, KS_E_IO, errno, "cannot read '%s': %s", path, strerror(errno));
            else
                ks_error_set(err, KS_E_PARSE, 0,
                             "cannot read '%s': its gzip data is damaged (%s); compress it "
                             "again, or give the uncompressed file",
                             path, msg);
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max) {
            ks_error_set(err, KS_E_IO, EFBIG,
                         "'%s' is larger than %zu bytes (uncompressed): split it and import the "
                         "parts one after the other",
                         path, max);
            goto fail;
        }
    }
    int zerr;
    gzerror(gz, &zerr);
    if (zerr == Z_BUF_ERROR) {
        /* the file ends in the middle of a gzip stream */
        ks_error_set(err, KS_E_PARSE, 0,
                     "cannot read '%s': its gzip data ends early (a truncated copy?); copy or "
                     "compress it again",
                     path);
        goto fail;
    }
    gzclose_r(gz);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    free(buf);
    gzclose_r(gz);
    return NULL;
}

/* ---- rows grouped per server ---------------------------------------------- */

KS_VECTOR(series_vec, col_series);
KS_VECTOR(str_vec, char *);

struct col_import_data {
    series_vec series;
    size_t *index; /* open addressing: series index + 1, 0 = free */
    size_t index_cap;
    size_t skipped[COL_SKIP_COUNT];
    str_vec examples[COL_SKIP_COUNT];
};

col_import_data *col_import_data_new(void)
{
    return ks_calloc(1, sizeof(col_import_data));
}

void col_import_data_free(col_import_data *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->series.len; i++) {
        free(d->series.ptr[i].name);
        free(d->series.ptr[i].file);
        free(d->series.ptr[i].rows);
    }
    series_vec_reset(&d->series);
    for (int r = 0; r < COL_SKIP_COUNT; r++) {
        for (size_t i = 0; i < d->examples[r].len; i++)
            free(d->examples[r].ptr[i]);
        str_vec_reset(&d->examples[r]);
    }
    free(d->index);
    free(d);
}

size_t col_import_data_count(const col_import_data *d)
{
    return d->series.len;
}

col_series *col_import_data_series(col_import_data *d, size_t i)
{
    return i < d->series.len ? &d->series.ptr[i] : NULL;
}

size_t col_import_data_skipped(const col_import_data *d, col_skip_reason r)
{
    return r < COL_SKIP_COUNT ? d->skipped[r] : 0;
}

size_t col_import_data_examples(const col_import_data *d, col_skip_reason r,
                                const char *const **examples)
{
    if (r >= COL_SKIP_COUNT) {
        *examples = NULL;
        return 0;
    }
    *examples = (const char *const *)d->examples[r].ptr;
    return d->examples[r].len;
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void index_put(col_import_data *d, size_t idx)
{
    size_t mask = d->index_cap - 1;
    for (size_t i = hash_name(d->series.ptr[idx].name) & mask;; i = (i + 1) & mask)
        if (!d->index[i]) {
            d->index[i] = idx + 1;
            return;
        }
}

static col_series *series_get(col_import_data *d, const char *name, const char *file)
{
    if (d->index_cap) {
        size_t mask = d->index_cap - 1;
        for (size_t i = hash_name(name) & mask; d->index[i]; i = (i + 1) & mask)
            if (strcmp(d->series.ptr[d->index[i] - 1].name, name) == 0)
                return &d->series.ptr[d->index[i] - 1];
    }
    col_series s = {0};
    s.name = ks_strdup(name);
    s.file = ks_strdup(file);
    s.cores = s.core_mhz = s.mem_total = NAN;
    series_vec_push(&d->series, s);
    if ((d->series.len) * 2 > d->index_cap) {
        free(d->index);
        d->index_cap = d->index_cap ? d->index_cap * 2 : 64;
        d->index = ks_calloc(d->index_cap, sizeof *d->index);
        for (size_t i = 0; i < d->series.len; i++)
            index_put(d, i);
    } else {
        index_put(d, d->series.len - 1);
    }
    return &d->series.ptr[d->series.len - 1];
}

static void count_skip(col_import_data *d, col_series *s, const char *file, unsigned line,
                       const col_row_problem *prob)
{
    col_skip_reason r = prob->reason;
    d->skipped[r]++;
    if (s)
        s->skipped[r]++;
    if (d->examples[r].len < COL_IMPORT_EXAMPLES) {
        char *ex = prob->text[0] ? ks_asprintf("%s:%u: '%s'", file, line, prob->text)
                                 : ks_asprintf("%s:%u", file, line);
        str_vec_push(&d->examples[r], ex);
    }
}

static void series_add(col_series *s, const col_import_row *row)
{
    if (s->nrows == s->caprows) {
        s->caprows = s->caprows ? s->caprows * 2 : 1024;
        s->rows = ks_reallocarray(s->rows, s->caprows, sizeof *s->rows);
    }
    s->rows[s->nrows++] = *row;
}

/* Iterate over the lines of text: BOM skipped, blank lines skipped. */
typedef struct line_iter {
    ks_cursor c;
    unsigned lineno;
} line_iter;

static bool next_line(line_iter *it, const char **p, size_t *n)
{
    ks_cursor line;
    while (ks_cur_line(&it->c, &line)) {
        it->lineno++;
        const char *lp = line.p;
        size_t ln = ks_cur_len(&line);
        if (it->lineno == 1)
            clean_line(&lp, &ln);
        const char *tp = lp;
        size_t tn = ln;
        trim_span(&tp, &tn);
        if (tn == 0)
            continue;
        *p = lp;
        *n = ln;
        return true;
    }
    return false;
}

int col_import_read_bitbrains(col_import_data *d, const char *text, size_t len, const char *file,
                              const char *name, ks_error *err)
{
    line_iter it = {ks_cursor_make(text, len), 0};
    const char *p;
    size_t n;
    if (!next_line(&it, &p, &n)) {
        ks_error_set(err, KS_E_PARSE, 0,
                     "%s:1: the file is empty; a Bitbrains GWA-T-12 file starts with the header "
                     "'Timestamp [ms]; CPU cores; ...'",
                     file);
        return -1;
    }
    if (col_bb_header(p, n, file, it.lineno, err) < 0)
        return -1;
    col_series *s = series_get(d, name, file);
    while (next_line(&it, &p, &n)) {
        col_import_row row;
        col_row_problem prob;
        if (!col_bb_row(p, n, &row, &prob)) {
            count_skip(d, s, file, it.lineno, &prob);
            continue;
        }
        row.line = it.lineno;
        series_add(s, &row);
    }
    return 0;
}

int col_import_read_csv(col_import_data *d, const char *text, size_t len, const char *file,
                        const char *prefix, ks_error *err)
{
    line_iter it = {ks_cursor_make(text, len), 0};
    const char *p;
    size_t n;
    if (!next_line(&it, &p, &n)) {
        ks_error_set(err, KS_E_PARSE, 0, "%s:1: the file is empty; %s", file, csv_expected);
        return -1;
    }
    col_csv_layout lay;
    if (col_csv_header(p, n, file, it.lineno, &lay, err) < 0)
        return -1;
    size_t plen = strlen(prefix);
    char name[256];
    if (plen > 64)
        plen = 64; /* such a prefix makes every name invalid: counted below */
    memcpy(name, prefix, plen);
    col_series *last = NULL;
    while (next_line(&it, &p, &n)) {
        col_import_row row;
        col_row_problem prob;
        if (!col_csv_row(&lay, p, n, &row, name + plen, sizeof name - plen, &prob)) {
            /* a row with a good server name counts for that server */
            bool named = name[plen] && ks_server_name_valid(name);
            if (named && (!last || strcmp(last->name, name) != 0))
                last = series_get(d, name, file);
            count_skip(d, named ? last : NULL, file, it.lineno, &prob);
            continue;
        }
        if (!ks_server_name_valid(name)) {
            set_problem(&prob, COL_SKIP_NAME, name, strlen(name));
            count_skip(d, NULL, file, it.lineno, &prob);
            continue;
        }
        row.line = it.lineno;
        /* files sorted by server hit the same series again and again */
        if (!last || strcmp(last->name, name) != 0)
            last = series_get(d, name, file);
        series_add(last, &row);
    }
    return 0;
}

static int row_cmp(const void *a, const void *b)
{
    const col_import_row *x = a, *y = b;
    if (x->s.t != y->s.t)
        return x->s.t < y->s.t ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int long_cmp(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

/* The most common interval between rows (the smaller one on a tie). */
static long most_common_step(const col_import_row *rows, size_t n)
{
    if (n < 2)
        return DEFAULT_STEP;
    long *d = ks_calloc(n - 1, sizeof *d);
    for (size_t i = 1; i < n; i++)
        d[i - 1] = (long)(rows[i].s.t - rows[i - 1].s.t);
    ks_qsort(d, n - 1, sizeof *d, long_cmp);
    long best = d[0];
    size_t best_run = 0;
    for (size_t i = 0; i < n - 1;) {
        size_t j = i;
        while (j < n - 1 && d[j] == d[i])
            j++;
        if (j - i > best_run) {
            best_run = j - i;
            best = d[i];
        }
        i = j;
    }
    free(d);
    return best > 0 ? best : DEFAULT_STEP;
}

static double max_known(double a, double b)
{
    if (isnan(b))
        return a;
    return isnan(a) || b > a ? b : a;
}

void col_import_data_finish(col_import_data *d)
{
    for (size_t k = 0; k < d->series.len; k++) {
        col_series *s = &d->series.ptr[k];
        ks_qsort(s->rows, s->nrows, sizeof *s->rows, row_cmp);
        size_t out = 0;
        for (size_t i = 0; i < s->nrows; i++) {
            col_import_row *r = &s->rows[i];
            if (out && s->rows[out - 1].s.t == r->s.t) {
                col_row_problem prob;
                set_problemf(&prob, COL_SKIP_REPEATED, "same time as line %u",
                             s->rows[out - 1].line);
                count_skip(d, s, s->file, r->line, &prob);
                continue;
            }
            /* cpu_pct is a share of the provisioned CPU: the RRD stores
             * 0-100, and a burst above it is in cpu_mhz */
            if (r->s.v[0] > 100) {
                r->s.v[0] = 100;
                s->clamped++;
            }
            s->cores = max_known(s->cores, r->cores);
            s->core_mhz = max_known(s->core_mhz, r->core_mhz);
            s->mem_total = max_known(s->mem_total, r->s.v[3]);
            s->rows[out++] = *r;
        }
        s->nrows = out;
        s->step = most_common_step(s->rows, s->nrows);
    }
}

/* ---- the run --------------------------------------------------------------- */

KS_VECTOR(result_vec, col_import_result);

struct col_import {
    result_vec results;
    str_vec owned; /* names and files of the results */
    size_t skipped[COL_SKIP_COUNT];
    str_vec examples[COL_SKIP_COUNT];
    char *summary;
    bool interrupted;
};

size_t col_import_count(const col_import *imp)
{
    return imp->results.len;
}

const col_import_result *col_import_get(const col_import *imp, size_t i)
{
    return i < imp->results.len ? &imp->results.ptr[i] : NULL;
}

size_t col_import_skipped(const col_import *imp, col_skip_reason r)
{
    return r < COL_SKIP_COUNT ? imp->skipped[r] : 0;
}

size_t col_import_examples(const col_import *imp, col_skip_reason r, const char *const **examples)
{
    if (r >= COL_SKIP_COUNT) {
        *examples = NULL;
        return 0;
    }
    *examples = (const char *const *)imp->examples[r].ptr;
    return imp->examples[r].len;
}

bool col_import_interrupted(const col_import *imp)
{
    return imp->interrupted;
}

const char *col_import_skip_summary(const col_import *imp)
{
    return imp->summary;
}

void col_import_free(col_import *imp)
{
    if (!imp)
        return;
    result_vec_reset(&imp->results);
    for (size_t i = 0; i < imp->owned.len; i++)
        free(imp->owned.ptr[i]);
    str_vec_reset(&imp->owned);
    for (int r = 0; r < COL_SKIP_COUNT; r++) {
        for (size_t i = 0; i < imp->examples[r].len; i++)
            free(imp->examples[r].ptr[i]);
        str_vec_reset(&imp->examples[r]);
    }
    free(imp->summary);
    free(imp);
}

static const char *own(col_import *imp, const char *s)
{
    char *c = ks_strdup(s);
    str_vec_push(&imp->owned, c);
    return c;
}

/* Move the counts and examples of d into the run's totals. */
static void take_skips(col_import *imp, const col_import_data *d)
{
    for (int r = 0; r < COL_SKIP_COUNT; r++) {
        imp->skipped[r] += d->skipped[r];
        for (size_t i = 0; i < d->examples[r].len; i++)
            if (imp->examples[r].len < COL_IMPORT_EXAMPLES)
                str_vec_push(&imp->examples[r], ks_strdup(d->examples[r].ptr[i]));
    }
}

static void make_summary(col_import *imp)
{
    size_t total = 0;
    for (int r = 0; r < COL_SKIP_COUNT; r++)
        total += imp->skipped[r];
    if (!total)
        return;
    ks_buf b;
    ks_buf_init(&b, 1 << 16);
    ks_buf_printf(&b, "skipped %zu row%s:", total, total == 1 ? "" : "s");
    bool first = true;
    for (int r = 0; r < COL_SKIP_COUNT; r++) {
        if (!imp->skipped[r])
            continue;
        ks_buf_printf(&b, "%s %zu %s (first: ", first ? "" : ",", imp->skipped[r], skip_texts[r]);
        for (size_t i = 0; i < imp->examples[r].len; i++)
            ks_buf_printf(&b, "%s%s", i ? ", " : "", imp->examples[r].ptr[i]);
        ks_buf_appends(&b, ")");
        first = false;
    }
    imp->summary = ks_buf_steal(&b);
}

/* The minimal facts of an imported server: README "facts/NAME.json" with
 * what the import knows, null or empty for the rest. */
static json_t *import_facts(const col_series *s, const char *source)
{
    json_t *f = json_object();
    json_object_set_new(f, "name", json_string(s->name));
    json_object_set_new(f, "hostname", json_null());
    char now[KS_TIME_ISO_LEN];
    ks_time_iso(time(NULL), now);
    json_object_set_new(f, "collected_at", json_string(now));
    json_t *os = json_object();
    static const char *const os_keys[] = {"id", "version_id", "pretty_name", "kernel", "arch"};
    for (size_t i = 0; i < sizeof os_keys / sizeof os_keys[0]; i++)
        json_object_set_new(os, os_keys[i], json_null());
    json_object_set_new(f, "os", os);
    json_t *cpu = json_object();
    bool cores_known = !isnan(s->cores) && s->cores >= 1 && s->cores < 1e6;
    json_t *cores = cores_known ? json_integer((json_int_t)(s->cores + 0.5)) : json_null();
    json_object_set_new(cpu, "model", json_null());
    json_object_set_new(cpu, "vendor", json_null());
    json_object_set_new(cpu, "sockets", json_null());
    json_object_set_new(cpu, "cores", cores);
    json_object_set_new(cpu, "threads", json_deep_copy(cores));
    json_object_set_new(cpu, "mhz",
                        !isnan(s->core_mhz) && s->core_mhz > 0
                            ? json_real(round(s->core_mhz * 1000) / 1000)
                            : json_null());
    json_object_set_new(f, "cpu", cpu);
    json_t *mem = json_object();
    json_object_set_new(mem, "total_bytes",
                        !isnan(s->mem_total) && s->mem_total > 0
                            ? json_integer((json_int_t)(s->mem_total + 0.5))
                            : json_null());
    json_object_set_new(f, "memory", mem);
    static const char *const lists[] = {"disks", "lvm", "filesystems", "nfs_mounts", "nics"};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        json_object_set_new(f, lists[i], json_array());
    json_object_set_new(f, "boot_mode", json_null());
    json_object_set_new(f, "virtualization", json_null());
    json_object_set_new(f, "listening", json_array());
    json_object_set_new(f, "services", json_array());
    json_t *hw = json_object();
    json_object_set_new(hw, "usb", json_array());
    json_object_set_new(hw, "fc_hbas", json_array());
    json_object_set_new(hw, "gpus", json_array());
    json_object_set_new(f, "hardware", hw);
    json_object_set_new(f, "virtualization_blockers", json_array());
    json_object_set_new(f, "source", json_string(source));
    return f;
}

/* Who made a server's facts file. */
typedef enum facts_origin {
    FACTS_NONE,       /* no file */
    FACTS_IMPORT,     /* an import ("source": "import:...") */
    FACTS_OTHER,      /* a JSON object made by anything else: the collector, a person */
    FACTS_UNREADABLE, /* not a JSON object */
} facts_origin;

static facts_origin facts_origin_of(const char *facts_path)
{
    if (!ks_path_exists(facts_path))
        return FACTS_NONE;
    ks_error e;
    json_t *j = ks_json_read_file(facts_path, &e);
    facts_origin o = FACTS_UNREADABLE;
    if (json_is_object(j)) {
        const char *src = json_string_value(json_object_get(j, "source"));
        o = src && strncmp(src, "import:", 7) == 0 ? FACTS_IMPORT : FACTS_OTHER;
    }
    json_decref(j);
    return o;
}

typedef struct run_ctx {
    const ks_study *study;
    ks_inventory *inv;
    const char *source; /* "import:bitbrains" */
    str_vec added;      /* names to append to the inventory */
    ks_signal *sig;     /* SIGINT/SIGTERM stop the run between servers */
} run_ctx;

/* A name of the inventory, or one this import adds, equal to name but for
 * case ("MAIL01" and "mail01"); NULL when there is none. */
static const char *case_twin(const run_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->inv->count; i++)
        if (strcasecmp(ctx->inv->servers[i].name, name) == 0 &&
            strcmp(ctx->inv->servers[i].name, name) != 0)
            return ctx->inv->servers[i].name;
    for (size_t i = 0; i < ctx->added.len; i++)
        if (strcasecmp(ctx->added.ptr[i], name) == 0 && strcmp(ctx->added.ptr[i], name) != 0)
            return ctx->added.ptr[i];
    return NULL;
}

/* Write one server: facts, then its RRD file through a temporary name. */
static void import_series(run_ctx *ctx, col_import *imp, col_series *s)
{
    col_import_result r = {0};
    r.name = own(imp, s->name);
    r.file = own(imp, s->file);
    r.rows = s->nrows;
    r.step = s->step;
    r.clamped = s->clamped;
    memcpy(r.skipped, s->skipped, sizeof r.skipped);
    if (s->nrows) {
        r.first = s->rows[0].s.t;
        r.last = s->rows[s->nrows - 1].s.t;
    }
    ks_error_clear(&r.error);
    KS_AUTOFREE char *rrd = ks_study_server_file(ctx->study, "rrd", s->name, "rrd");
    KS_AUTOFREE char *facts = ks_study_server_file(ctx->study, "facts", s->name, "json");
    const ks_server *known = ks_inventory_find(ctx->inv, s->name);
    bool exists = ks_path_exists(rrd);
    facts_origin origin = facts_origin_of(facts);
    /* Facts that no import made, of a server listed with method import,
     * were written by someone who knew more than a monitoring export says
     * (the bundled samples, a hand-made file): only the data is replaced.
     * Unreadable ones are replaced, or the analyzer would stop on them. */
    bool keep_facts = known && origin == FACTS_OTHER;
    const char *twin = known ? NULL : case_twin(ctx, s->name);
    if (twin) {
        ks_error_set(&r.error, KS_E_CONFIG, 0,
                     "server '%s' differs only in case from '%s' (in inventory.csv or this "
                     "import): names must differ in more than case, or their files are one on "
                     "a case-insensitive file system; rename it in the data or use --prefix",
                     s->name, twin);
    } else if (known && known->method != KS_METHOD_IMPORT) {
        ks_error_set(&r.error, KS_E_CONFIG, 0,
                     "server '%s' is already in inventory.csv (line %u) with method '%s': an "
                     "import never replaces collected data; pick another --prefix or remove that "
                     "line and its files",
                     s->name, known->line, ks_method_name(known->method));
    } else if (!known && (exists || origin != FACTS_NONE) && origin != FACTS_IMPORT) {
        ks_error_set(&r.error, KS_E_CONFIG, 0,
                     "server '%s' is not in inventory.csv but '%s' or '%s' exists and was not "
                     "made by an import: move them away, or add '%s' to the inventory with "
                     "method import to have them replaced",
                     s->name, rrd, facts, s->name);
    } else if (s->nrows == 0) {
        ks_error_set(&r.error, KS_E_PARSE, 0,
                     "no usable row for server '%s' in %s (see the skipped rows)", s->name,
                     s->file);
    }
    if (r.error.code) {
        result_vec_push(&imp->results, r);
        return;
    }
    col_sample *samples = ks_calloc(s->nrows, sizeof *samples);
    for (size_t i = 0; i < s->nrows; i++)
        samples[i] = s->rows[i].s;
    KS_AUTOFREE char *tmp = ks_asprintf("%s.tmp.%ld", rrd, (long)getpid());
    unlink(tmp);
    /* the series first, under its temporary name: when it cannot be
     * written, neither the facts nor the old series change */
    int rc = col_rrd_create_import(tmp, samples[0].t, samples[s->nrows - 1].t, s->step, &r.error);
    if (rc == 0)
        rc = col_rrd_update_many(tmp, samples, s->nrows, &r.error);
    if (rc == 0 && !keep_facts) {
        json_t *fj = import_facts(s, ctx->source);
        rc = ks_json_write_file(facts, fj, &r.error);
        json_decref(fj);
    }
    if (rc == 0)
        rc = ks_rename(tmp, rrd, &r.error);
    free(samples);
    if (rc < 0) {
        unlink(tmp);
    } else {
        r.ok = true;
        r.replaced = exists;
        r.facts_kept = keep_facts;
        if (!known)
            str_vec_push(&ctx->added, ks_strdup(s->name));
    }
    result_vec_push(&imp->results, r);
}

/* A result for a file that could not be used at all. */
static void file_failed(col_import *imp, const char *name, const char *file, const ks_error *e)
{
    col_import_result r = {0};
    r.name = own(imp, name);
    r.file = own(imp, file);
    ks_error_copy(&r.error, e);
    result_vec_push(&imp->results, r);
}

/* The inventory text with one "NAME,,import,..." line per added server,
 * fields placed after the header's own column order. */
static char *inventory_with(const char *text, size_t len, const str_vec *added)
{
    ks_buf b;
    ks_buf_init(&b, INVENTORY_MAX * 2);
    ks_buf_append(&b, text, len);
    /* the header: the first line that is neither blank nor a comment */
    ks_cursor c = ks_cursor_make(text, len), line;
    int name_col = 0, method_col = 2, ncols = 9;
    bool crlf = false;
    while (ks_cur_line(&c, &line)) {
        KS_AUTOFREE char *h = ks_strndup(line.p, ks_cur_len(&line));
        crlf = *h && h[strlen(h) - 1] == '\r';
        char *hs = h;
        if (strncmp(hs, "\xEF\xBB\xBF", 3) == 0)
            hs += 3;
        ks_trim(hs);
        if (!*hs || *hs == '#')
            continue;
        ncols = 1;
        char *save = NULL;
        int col = 0;
        for (const char *p = hs; *p; p++)
            ncols += *p == ',';
        for (char *t = strtok_r(hs, ",", &save); t; t = strtok_r(NULL, ",", &save), col++) {
            ks_trim(t);
            if (*t == '"')
                t++;
            size_t tl = strlen(t);
            if (tl && t[tl - 1] == '"')
                t[tl - 1] = '\0';
            if (strcasecmp(t, "name") == 0)
                name_col = col;
            else if (strcasecmp(t, "method") == 0)
                method_col = col;
        }
        break;
    }
    if (b.len && b.data[b.len - 1] != '\n')
        ks_buf_appends(&b, crlf ? "\r\n" : "\n");
    for (size_t i = 0; i < added->len; i++) {
        for (int col = 0; col < ncols; col++) {
            if (col)
                ks_buf_appends(&b, ",");
            if (col == name_col)
                ks_buf_appends(&b, added->ptr[i]);
            else if (col == method_col)
                ks_buf_appends(&b, "import");
        }
        ks_buf_appends(&b, crlf ? "\r\n" : "\n");
    }
    return ks_buf_steal(&b);
}

static int write_inventory(const char *path, const char *text, size_t len, const str_vec *added,
                           ks_error *err)
{
    KS_AUTOFREE char *next = inventory_with(text, len, added);
    /* never write an inventory that the collector would refuse */
    ks_inventory *check = ks_inventory_parse(next, strlen(next), "inventory.csv", err);
    if (!check)
        return -1;
    ks_inventory_free(check);
    return ks_write_file_atomic(path, next, strlen(next), 0644, err);
}

static int name_num_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strspn(x, "0123456789"), ly = strspn(y, "0123456789");
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x, y);
}

/* The N.csv files of dir, sorted by N. */
static int list_bitbrains(const char *dir, str_vec *files, ks_error *err)
{
    DIR *dh = opendir(dir);
    if (!dh) {
        ks_error_set(err, KS_E_IO, errno,
                     "cannot read the directory '%s': %s; --format bitbrains takes the "
                     "directory of the unpacked N.csv files (e.g. rnd-2013-07)",
                     dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(dh))) {
        size_t digits = strspn(de->d_name, "0123456789");
        if (digits > 0 && digits < 12 && strcmp(de->d_name + digits, ".csv") == 0)
            str_vec_push(files, ks_strdup(de->d_name));
    }
    closedir(dh);
    if (files->len == 0) {
        ks_error_set(err, KS_E_IO, 0,
                     "no N.csv file (1.csv, 2.csv, ...) in '%s': --format bitbrains takes the "
                     "directory of the unpacked Bitbrains files",
                     dir);
        return -1;
    }
    ks_qsort(files->ptr, files->len, sizeof *files->ptr, name_num_cmp);
    return 0;
}

static void run_bitbrains(run_ctx *ctx, col_import *imp, const col_import_options *opt,
                          const char *prefix, const str_vec *files)
{
    ks_progress *pg = ks_progress_new("importing", files->len, opt->quiet);
    for (size_t i = 0; i < files->len && !ks_signal_stop_requested(ctx->sig); i++) {
        const char *fn = files->ptr[i];
        KS_AUTOFREE char *name = ks_asprintf("%s%.*s", prefix, (int)strcspn(fn, "."), fn);
        KS_AUTOFREE char *path = ks_path_join(opt->input, fn);
        ks_error e;
        ks_error_clear(&e);
        size_t len = 0;
        KS_AUTOFREE char *text = col_import_read_input(path, INPUT_MAX, &len, &e);
        col_import_data *d = col_import_data_new();
        if (!text || col_import_read_bitbrains(d, text, len, fn, name, &e) < 0) {
            file_failed(imp, name, fn, &e);
        } else {
            col_import_data_finish(d);
            import_series(ctx, imp, col_import_data_series(d, 0));
        }
        take_skips(imp, d);
        col_import_data_free(d);
        char detail[64];
        snprintf(detail, sizeof detail, "%s", fn);
        ks_progress_update(pg, i + 1, detail);
    }
    ks_progress_done(pg);
    ks_progress_free(pg);
}

static int run_csv(run_ctx *ctx, col_import *imp, const col_import_options *opt, const char *prefix,
                   ks_error *err)
{
    size_t len = 0;
    KS_AUTOFREE char *text = col_import_read_input(opt->input, INPUT_MAX, &len, err);
    if (!text)
        return -1;
    const char *base = strrchr(opt->input, '/') ? strrchr(opt->input, '/') + 1 : opt->input;
    col_import_data *d = col_import_data_new();
    if (col_import_read_csv(d, text, len, base, prefix, err) < 0) {
        col_import_data_free(d);
        return -1;
    }
    col_import_data_finish(d);
    size_t n = col_import_data_count(d);
    ks_progress *pg = ks_progress_new("importing", n, opt->quiet);
    for (size_t i = 0; i < n && !ks_signal_stop_requested(ctx->sig); i++) {
        col_series *s = col_import_data_series(d, i);
        import_series(ctx, imp, s);
        ks_progress_update(pg, i + 1, s->name);
    }
    ks_progress_done(pg);
    ks_progress_free(pg);
    take_skips(imp, d);
    col_import_data_free(d);
    return 0;
}

static int prepare(const ks_study *study, const col_import_options *opt, str_vec *files,
                   ks_error *err)
{
    KS_AUTOFREE char *rrd_dir = ks_study_path(study, "rrd");
    KS_AUTOFREE char *facts_dir = ks_study_path(study, "facts");
    if (ks_mkdir_p(rrd_dir, err) < 0 || ks_mkdir_p(facts_dir, err) < 0)
        return -1;
    if (opt->format == COL_IMPORT_BITBRAINS)
        return list_bitbrains(opt->input, files, err);
    return 0;
}

/* Import every server, then add the new ones to the inventory. */
static col_import *run_all(run_ctx *ctx, const col_import_options *opt, const char *prefix,
                           const str_vec *files, const char *inv_path, const char *inv_text,
                           size_t inv_len, ks_error *err)
{
    ctx->sig = ks_signal_new(KS_SIGNAL_STOP, NULL);
    col_import *imp = ks_calloc(1, sizeof *imp);
    int rc = 0;
    if (opt->format == COL_IMPORT_BITBRAINS)
        run_bitbrains(ctx, imp, opt, prefix, files);
    else
        rc = run_csv(ctx, imp, opt, prefix, err);
    imp->interrupted = ks_signal_stop_requested(ctx->sig);
    ks_signal_free(ctx->sig);
    ctx->sig = NULL;
    if (rc < 0) {
        col_import_free(imp);
        return NULL;
    }
    if (ctx->added.len) {
        ks_error e;
        ks_error_clear(&e);
        if (write_inventory(inv_path, inv_text, inv_len, &ctx->added, &e) < 0) {
            /* the files are in place; a new import replaces them (their
             * facts say "import:") */
            for (size_t i = 0; i < imp->results.len; i++) {
                col_import_result *r = &imp->results.ptr[i];
                if (r->ok && !ks_inventory_find(ctx->inv, r->name)) {
                    r->ok = false;
                    ks_error_set(&r->error, e.code, e.errnum,
                                 "'%s' was imported but inventory.csv could not be updated: "
                                 "%s; run the import again",
                                 r->name, e.message);
                }
            }
        }
    }
    make_summary(imp);
    return imp;
}

col_import *col_import_run(const ks_study *study, const col_import_options *opt, ks_error *err)
{
    const char *prefix = opt->prefix                           ? opt->prefix
                         : opt->format == COL_IMPORT_BITBRAINS ? "bb-"
                                                               : "";
    if (*prefix) {
        KS_AUTOFREE char *probe = ks_asprintf("%s1", prefix);
        if (!ks_server_name_valid(probe)) {
            ks_error_set(err, KS_E_USAGE, 0,
                         "the prefix '%s' cannot start a server name: use letters, digits, "
                         "'.', '_' and '-', not first '.' or '-', at most 60 characters",
                         prefix);
            return NULL;
        }
    }
    KS_AUTOFREE char *inv_path = ks_study_path(study, "inventory.csv");
    size_t inv_len = 0;
    KS_AUTOFREE char *inv_text = ks_read_file(inv_path, INVENTORY_MAX, &inv_len, err);
    if (!inv_text)
        return NULL;
    run_ctx ctx = {.study = study};
    ctx.inv = ks_inventory_parse(inv_text, inv_len, inv_path, err);
    if (!ctx.inv)
        return NULL;
    ctx.source = opt->format == COL_IMPORT_BITBRAINS ? "import:bitbrains" : "import:csv";
    str_vec files = {0};
    col_import *imp = NULL;
    if (prepare(study, opt, &files, err) == 0)
        imp = run_all(&ctx, opt, prefix, &files, inv_path, inv_text, inv_len, err);
    for (size_t i = 0; i < files.len; i++)
        free(files.ptr[i]);
    str_vec_reset(&files);
    for (size_t i = 0; i < ctx.added.len; i++)
        free(ctx.added.ptr[i]);
    str_vec_reset(&ctx.added);
    ks_inventory_free(ctx.inv);
    return imp;
}
