#define _GNU_SOURCE
#include "ks_rrdfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ks_fs.h"
#include "ks_mem.h"

/* The on-disk structures of librrd's rrd_format.h, with this compiler's
 * alignment, which is librrd's own on this machine. */
typedef union {
    unsigned long u_cnt;
    double u_val;
} unival;

typedef struct {
    char cookie[4];
    char version[5];
    double float_cookie;
    unsigned long ds_cnt, rra_cnt, pdp_step;
    unival par[10];
} stat_head;

typedef struct {
    char ds_nam[KS_RRD_NAME_MAX];
    char dst[KS_RRD_NAME_MAX];
    unival par[10];
} ds_def;

typedef struct {
    char cf_nam[KS_RRD_NAME_MAX];
    unsigned long row_cnt, pdp_cnt;
    unival par[10];
} rra_def;

typedef struct {
    time_t last_up;
    long last_up_usec; /* format 0003 and later */
} live_head;

typedef struct {
    char last_ds[30];
    unival scratch[10];
} pdp_prep;

typedef struct {
    unival scratch[10];
} cdp_prep;

#define FLOAT_COOKIE 8.642135E130
/* generous bounds: kvmshift's files have 11 sources and 4 archives */
enum { MAX_DS = 4096, MAX_RRA = 4096 };

static const char *const ds_types[] = {"GAUGE",   "COUNTER",  "DERIVE", "ABSOLUTE",
                                       "COMPUTE", "DCOUNTER", "DDERIVE"};
static const char *const cf_names[] = {"AVERAGE",    "MIN",        "MAX",      "LAST",
                                       "HWPREDICT",  "MHWPREDICT", "SEASONAL", "DEVSEASONAL",
                                       "DEVPREDICT", "FAILURES"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* A NUL-terminated name within its field (printable, for the message). */
static bool name_ok(const char *field, bool ds_name)
{
    size_t n = strnlen(field, KS_RRD_NAME_MAX);
    if (n == 0 || n == KS_RRD_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)field[i];
        bool ok = ds_name ? (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '_' || c == '-'
                          : c >= 'A' && c <= 'Z';
        if (!ok)
            return false;
    }
    return true;
}

static int damaged(const char *path, ks_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int damaged(const char *path, ks_error *err, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    ks_error_set(err, KS_E_RRD, 0,
                 "damaged RRD file '%s': %s; move it away, then re-import or re-collect the "
                 "server",
                 path, what);
    return -1;
}

#define DAMAGED(...) return damaged(path, err, __VA_ARGS__)

/* a * b + c, false on overflow */
static bool mul_add(size_t a, size_t b, size_t c, size_t *out)
{
    size_t m;
    return !__builtin_mul_overflow(a, b, &m) && !__builtin_add_overflow(m, c, out);
}

/* The checks on the open file; *buf (the header) is the caller's to free. */
static int check_fd(const char *path, int fd, ks_rrd_header *h, unsigned char **bufp, ks_error *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        ks_error_set(err, KS_E_RRD, errno, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        ks_error_set(err, KS_E_RRD, 0,
                     "'%s' is %s, not an RRD file: move it away, then re-import or re-collect "
                     "the server",
                     path, ks_file_kind(st.st_mode));
        return -1;
    }
    size_t size = (size_t)st.st_size;
    stat_head sh;
    if (size < sizeof sh)
        DAMAGED("%zu bytes, shorter than any RRD header (%zu)", size, sizeof sh);
    if (pread(fd, &sh, sizeof sh, 0) != (ssize_t)sizeof sh)
        DAMAGED("its header cannot be read (%s)", strerror(errno));
    if (memcmp(sh.cookie, "RRD", 4) != 0)
        DAMAGED("it does not begin with an RRD header");
    if (sh.version[4] != '\0' ||
        !(strcmp(sh.version, "0001") == 0 || strcmp(sh.version, "0003") == 0 ||
          strcmp(sh.version, "0004") == 0 || strcmp(sh.version, "0005") == 0))
        DAMAGED("unknown format version (not 0001, 0003, 0004 or 0005)");
    if (sh.float_cookie != FLOAT_COOKIE)
        DAMAGED("its header's test number is wrong: damaged, or made on a machine of another "
                "byte order or word size (rrdtool dump it there, restore it here)");
    if (sh.ds_cnt < 1 || sh.ds_cnt > MAX_DS)
        DAMAGED("%lu data sources (1 to %d expected)", sh.ds_cnt, MAX_DS);
    if (sh.rra_cnt < 1 || sh.rra_cnt > MAX_RRA)
        DAMAGED("%lu archives (1 to %d expected)", sh.rra_cnt, MAX_RRA);
    if (sh.pdp_step < 1 || sh.pdp_step > 366UL * 86400)
        DAMAGED("a step of %lu s", sh.pdp_step);
    size_t nds = sh.ds_cnt, nrra = sh.rra_cnt;
    size_t live = strcmp(sh.version, "0003") < 0 ? sizeof(time_t) : sizeof(live_head);
    size_t off_ds = sizeof sh, off_rra, off_live, header;
    /* (bounded above: none of these overflow, but the total is checked) */
    off_rra = off_ds + nds * sizeof(ds_def);
    off_live = off_rra + nrra * sizeof(rra_def);
    header = off_live + live + nds * sizeof(pdp_prep) + nrra * nds * sizeof(cdp_prep) +
             nrra * sizeof(unsigned long);
    if (header > size)
        DAMAGED("its header describes %zu bytes of header alone, the file has %zu", header, size);
    unsigned char *buf = *bufp = ks_malloc(header);
    if (pread(fd, buf, header, 0) != (ssize_t)header)
        DAMAGED("its header cannot be read (%s)", strerror(errno));
    if (h)
        h->ds_names = ks_calloc(nds, sizeof *h->ds_names);
    for (size_t i = 0; i < nds; i++) {
        ds_def d;
        memcpy(&d, buf + off_ds + i * sizeof d, sizeof d);
        if (!name_ok(d.ds_nam, true))
            DAMAGED("data source %zu has no valid name", i + 1);
        if (!name_ok(d.dst, false) || !in_list(d.dst, ds_types, sizeof ds_types / sizeof *ds_types))
            DAMAGED("data source '%s' has no known type", d.ds_nam);
        if (h)
            memcpy(h->ds_names[i], d.ds_nam, KS_RRD_NAME_MAX);
    }
    /* each source's last value as text: librrd copies it as a string */
    size_t off_pdp = off_live + live;
    for (size_t i = 0; i < nds; i++) {
        pdp_prep pp;
        memcpy(&pp, buf + off_pdp + i * sizeof pp, sizeof pp);
        if (strnlen(pp.last_ds, sizeof pp.last_ds) == sizeof pp.last_ds)
            DAMAGED("data source %zu's last value is not a string", i + 1);
    }
    size_t rows = 0;
    const unsigned char *ptrs = buf + header - nrra * sizeof(unsigned long);
    for (size_t k = 0; k < nrra; k++) {
        rra_def r;
        memcpy(&r, buf + off_rra + k * sizeof r, sizeof r);
        if (!name_ok(r.cf_nam, false) ||
            !in_list(r.cf_nam, cf_names, sizeof cf_names / sizeof *cf_names))
            DAMAGED("archive %zu has no known consolidation function", k + 1);
        if (r.row_cnt < 1 || r.pdp_cnt < 1 || __builtin_add_overflow(rows, r.row_cnt, &rows))
            DAMAGED("archive %zu (%s) has %lu rows of %lu steps", k + 1, r.cf_nam, r.row_cnt,
                    r.pdp_cnt);
        unsigned long cur;
        memcpy(&cur, ptrs + k * sizeof cur, sizeof cur);
        if (cur >= r.row_cnt)
            DAMAGED("archive %zu (%s) is at row %lu of %lu", k + 1, r.cf_nam, cur, r.row_cnt);
    }
    size_t want;
    if (!mul_add(rows, nds * sizeof(double), header, &want))
        DAMAGED("its archives' rows add up to more than any file");
    if (want != size)
        DAMAGED("its header describes %zu bytes, the file has %zu (%s)", want, size,
                want > size ? "cut short" : "bytes after its end");
    if (h) {
        h->nds = nds;
        h->nrra = nrra;
        h->step = sh.pdp_step;
    }
    return 0;
}

int ks_rrd_check(const char *path, ks_rrd_header *h, ks_error *err)
{
    if (h)
        memset(h, 0, sizeof *h);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        ks_error_set(err, KS_E_RRD, errno, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    unsigned char *buf = NULL;
    int rc = check_fd(path, fd, h, &buf, err);
    if (rc < 0 && h) {
        free(h->ds_names);
        h->ds_names = NULL;
    }
    free(buf);
    close(fd);
    return rc;
}
