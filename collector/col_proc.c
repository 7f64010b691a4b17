/* col_proc.c: /proc text -> raw counters -> rates. See col_proc.h.
 *
 * Everything here works on bounded byte ranges from a remote server: no
 * NUL is expected, every number is checked for garbage and overflow, and
 * names are copied only after their length and characters were checked.
 * No function keeps state between calls, so all are safe to call from
 * several threads on different col_raw.
 */
#include "col_proc.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_mem.h"
#include "ks_parse.h"

/* How much of an offending line or word an error message quotes. */
#define QUOTE_MAX 64

/* "Small" decrease of the aggregate idle or iowait counters, per CPU, that
 * counts as zero: with NOHZ, the kernel computes them from per-CPU idle
 * clocks that can step back by a tick or two between reads. */
#define IDLE_JITTER_TICKS_PER_CPU 10

static const char F_UPTIME[] = "/proc/uptime";
static const char F_STAT[] = "/proc/stat";
static const char F_MEMINFO[] = "/proc/meminfo";
static const char F_DISKSTATS[] = "/proc/diskstats";
static const char F_NETDEV[] = "/proc/net/dev";

/* ---- helpers ----------------------------------------------------------- */

typedef struct quoted {
    char s[QUOTE_MAX * 4 + 8];
} quoted;

/* Printable copy of p[0..n) for a message: control and non-ASCII bytes as
 * \xNN, cut at QUOTE_MAX bytes with "..." so that a huge line cannot flood
 * the log. */
static const char *quote(quoted *q, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    size_t take = n > QUOTE_MAX ? QUOTE_MAX : n;
    for (size_t i = 0; i < take; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x20 && ch < 0x7f) {
            q->s[o++] = (char)ch;
        } else if (ch == '\t') {
            q->s[o++] = ' ';
        } else {
            q->s[o++] = '\\';
            q->s[o++] = 'x';
            q->s[o++] = hex[ch >> 4];
            q->s[o++] = hex[ch & 15];
        }
    }
    if (take < n) {
        memcpy(q->s + o, "...", 3);
        o += 3;
    }
    q->s[o] = '\0';
    return q->s;
}

static const char *quote_cur(quoted *q, const ks_cursor *c)
{
    return quote(q, c->p, ks_cur_len(c));
}

/* Report a bad line: "<file> line <n>: <problem>: "<line>"". func is the
 * caller's __func__ so the error names the parser, not this helper. */
static int line_error(const char *func, ks_error *err, const char *file, unsigned lineno,
                      const ks_cursor *line, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int line_error(const char *func, ks_error *err, const char *file, unsigned lineno,
                      const ks_cursor *line, const char *fmt, ...)
{
    char problem[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    quoted q;
    ks_error_set_at(err, KS_E_PARSE, KS_COMPONENT, func, 0,
                    "%s line %u: %s: \"%s\"; this is not the Linux format kvmshift knows, "
                    "please report the line",
                    file, lineno, problem, quote_cur(&q, line));
    return -1;
}
#define LINE_ERROR(...) line_error(__func__, __VA_ARGS__)

/* An empty ks_buf has a NULL data pointer: take it as empty text rather than
 * doing arithmetic on NULL. */
#define NO_NULL_TEXT(text, len)                                                                    \
    do {                                                                                           \
        if (!(text)) {                                                                             \
            (text) = "";                                                                           \
            (len) = 0;                                                                             \
        }                                                                                          \
    } while (0)

/* Next line, without its '\n' nor a '\r' before it (text that went through
 * a terminal or a Windows tool). */
static bool next_line(ks_cursor *text, ks_cursor *line, unsigned *lineno)
{
    if (!ks_cur_line(text, line))
        return false;
    if (line->end > line->p && line->end[-1] == '\r')
        line->end--;
    (*lineno)++;
    return true;
}

static bool word_is(const char *w, size_t n, const char *s)
{
    return strlen(s) == n && memcmp(w, s, n) == 0;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool all_digits(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(p[i]))
            return false;
    return true;
}

typedef enum num_rc { NUM_NONE, NUM_OK, NUM_BAD } num_rc;

/* The next blank-separated word as an unsigned decimal. NUM_NONE at the end
 * of the line, NUM_BAD (word in *w, *wn) for garbage or overflow. */
static num_rc take_u64(ks_cursor *c, uint64_t *out, const char **w, size_t *wn)
{
    if (!ks_cur_word(c, w, wn))
        return NUM_NONE;
    ks_cursor wc = ks_cursor_make(*w, *wn);
    if (!ks_cur_u64(&wc, out) || !ks_cur_eof(&wc))
        return NUM_BAD;
    return NUM_OK;
}

/* Why a word taken by take_u64 is not a number, for messages. */
static const char *bad_number_why(const char *w, size_t n)
{
    return all_digits(w, n) ? "is too large" : "is not a number";
}

/* Device and interface names: printable ASCII without blanks, short
 * enough for COL_NAME_MAX. */
static bool name_ok(const char *p, size_t n)
{
    if (n == 0 || n >= COL_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
            return false;
    return true;
}

/* A sorted index of names inside an array of structs, for matching devices
 * by name in O(n log n) (servers with thousands of multipath disks exist). */
typedef struct name_ref {
    const char *name;
    size_t idx;
} name_ref;

static int name_ref_cmp(const void *a, const void *b)
{
    return strcmp(((const name_ref *)a)->name, ((const name_ref *)b)->name);
}

/* base: array of n structs of stride bytes, each with a NUL-terminated name
 * at offset name_off. The result is freed by the caller. */
static name_ref *name_index(const void *base, size_t n, size_t stride, size_t name_off)
{
    name_ref *v = ks_calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].name = (const char *)base + i * stride + name_off;
        v[i].idx = i;
    }
    if (n > 1)
        ks_qsort(v, n, sizeof *v, name_ref_cmp);
    return v;
}

static const name_ref *name_find(const name_ref *v, size_t n, const char *name)
{
    name_ref key = {name, 0};
    return n ? bsearch(&key, v, n, sizeof *v, name_ref_cmp) : NULL;
}

/* ---- col_raw ------------------------------------------------------------ */

void col_raw_init(col_raw *r)
{
    memset(r, 0, sizeof *r);
    r->uptime = -1;
}

void col_raw_clear(col_raw *r)
{
    col_disk_vec_reset(&r->disks);
    col_nic_vec_reset(&r->nics);
    col_raw_init(r);
}

/* ---- /proc/uptime ------------------------------------------------------- */

int col_parse_uptime(const char *text, size_t len, col_raw *r, ks_error *err)
{
    NO_NULL_TEXT(text, len);
    ks_cursor c = ks_cursor_make(text, len), line;
    unsigned lineno = 0;
    while (next_line(&c, &line, &lineno)) {
        ks_cur_skip_blanks(&line);
        if (ks_cur_eof(&line))
            continue;
        /* "12345.67 54321.00": seconds since boot, then idle seconds of all
         * CPUs (not used). */
        ks_cursor word = line;
        const char *w;
        size_t wn;
        ks_cur_word(&word, &w, &wn);
        ks_cursor num = ks_cursor_make(w, wn);
        double v;
        if (!ks_cur_double(&num, &v) || !ks_cur_eof(&num) || !(v >= 0) || !isfinite(v)) {
            quoted q;
            return LINE_ERROR(err, F_UPTIME, lineno, &line,
                              "'%s' is not a number of seconds since boot", quote(&q, w, wn));
        }
        r->uptime = v;
        return 0;
    }
    ks_error_set(err, KS_E_PARSE, 0,
                 "%s is empty: it should hold the seconds since boot; is the server running "
                 "Linux with /proc mounted?",
                 F_UPTIME);
    return -1;
}

/* ---- /proc/stat --------------------------------------------------------- */

/* The aggregate "cpu" line: 4 fields on 2.4 kernels (user nice system idle),
 * then iowait irq softirq (2.6), steal (2.6.11), guest (2.6.24), guest_nice
 * (2.6.33). Later kernels may add more: they are checked and ignored. */
static int parse_cpu_line(ks_cursor *rest, const ks_cursor *line, unsigned lineno, col_cpu *cpu,
                          ks_error *err)
{
    uint64_t v[10] = {0};
    size_t n = 0;
    for (;;) {
        uint64_t x;
        const char *w;
        size_t wn;
        num_rc rc = take_u64(rest, &x, &w, &wn);
        if (rc == NUM_NONE)
            break;
        if (rc == NUM_BAD) {
            quoted q;
            return LINE_ERROR(err, F_STAT, lineno, line, "field %zu '%s' %s", n + 2,
                              quote(&q, w, wn), bad_number_why(w, wn));
        }
        if (n < 10)
            v[n] = x;
        n++;
    }
    if (n < 4)
        return LINE_ERROR(err, F_STAT, lineno, line,
                          "the 'cpu' line has %zu numbers, at least 4 are needed "
                          "(user nice system idle)",
                          n);
    cpu->user = v[0];
    cpu->nice = v[1];
    cpu->system = v[2];
    cpu->idle = v[3];
    cpu->iowait = v[4];
    cpu->irq = v[5];
    cpu->softirq = v[6];
    cpu->steal = v[7];
    return 0;
}

int col_parse_stat(const char *text, size_t len, col_raw *r, ks_error *err)
{
    NO_NULL_TEXT(text, len);
    ks_cursor c = ks_cursor_make(text, len), line;
    unsigned lineno = 0;
    unsigned ncpu = 0;
    bool has_cpu = false;
    col_cpu cpu = {0};
    uint64_t btime = 0;
    while (next_line(&c, &line, &lineno)) {
        ks_cursor rest = line;
        const char *w;
        size_t wn;
        if (!ks_cur_word(&rest, &w, &wn))
            continue;
        if (word_is(w, wn, "cpu")) {
            if (has_cpu)
                return LINE_ERROR(err, F_STAT, lineno, &line, "a second 'cpu' line");
            if (parse_cpu_line(&rest, &line, lineno, &cpu, err) < 0)
                return -1;
            has_cpu = true;
        } else if (wn > 3 && memcmp(w, "cpu", 3) == 0 && all_digits(w + 3, wn - 3)) {
            if (ncpu < UINT_MAX)
                ncpu++;
        } else if (word_is(w, wn, "btime")) {
            if (take_u64(&rest, &btime, &w, &wn) != NUM_OK)
                return LINE_ERROR(err, F_STAT, lineno, &line,
                                  "'btime' is not followed by a number of seconds");
        }
        /* intr, ctxt, processes, softirq...: not used */
    }
    if (!has_cpu) {
        ks_error_set(err, KS_E_PARSE, 0,
                     "%s has no aggregate 'cpu' line (%u lines read); is the server running "
                     "Linux with /proc mounted?",
                     F_STAT, lineno);
        return -1;
    }
    r->has_cpu = true;
    r->cpu = cpu;
    r->ncpu = ncpu;
    r->btime = btime;
    return 0;
}

/* ---- /proc/meminfo ------------------------------------------------------ */

enum { MI_TOTAL, MI_AVAILABLE, MI_FREE, MI_BUFFERS, MI_CACHED, MI_COUNT };
static const char *const meminfo_keys[MI_COUNT] = {"MemTotal", "MemAvailable", "MemFree", "Buffers",
                                                   "Cached"};

int col_parse_meminfo(const char *text, size_t len, col_raw *r, ks_error *err)
{
    NO_NULL_TEXT(text, len);
    ks_cursor c = ks_cursor_make(text, len), line;
    unsigned lineno = 0;
    uint64_t val[MI_COUNT] = {0};
    bool seen[MI_COUNT] = {false};
    while (next_line(&c, &line, &lineno)) {
        ks_cursor rest = line;
        ks_cur_skip_blanks(&rest);
        /* "MemTotal:       16318412 kB"; the value may touch the colon. */
        const char *colon = memchr(rest.p, ':', ks_cur_len(&rest));
        if (!colon)
            continue;
        size_t key_len = (size_t)(colon - rest.p);
        int k = -1;
        for (int i = 0; i < MI_COUNT; i++)
            if (word_is(rest.p, key_len, meminfo_keys[i]))
                k = i;
        if (k < 0)
            continue;
        rest.p = colon + 1;
        const char *w;
        size_t wn;
        uint64_t v;
        num_rc rc = take_u64(&rest, &v, &w, &wn);
        if (rc == NUM_NONE)
            return LINE_ERROR(err, F_MEMINFO, lineno, &line, "no value after '%s:'",
                              meminfo_keys[k]);
        if (rc == NUM_BAD) {
            quoted q;
            return LINE_ERROR(err, F_MEMINFO, lineno, &line, "value '%s' of %s %s",
                              quote(&q, w, wn), meminfo_keys[k], bad_number_why(w, wn));
        }
        if (ks_cur_word(&rest, &w, &wn)) {
            if (!word_is(w, wn, "kB")) {
                quoted q;
                return LINE_ERROR(err, F_MEMINFO, lineno, &line, "unit '%s' of %s is not 'kB'",
                                  quote(&q, w, wn), meminfo_keys[k]);
            }
            if (v > UINT64_MAX / 1024)
                return LINE_ERROR(err, F_MEMINFO, lineno, &line,
                                  "%s is too large to count in bytes", meminfo_keys[k]);
            v *= 1024;
        }
        val[k] = v;
        seen[k] = true;
    }
    if (!seen[MI_TOTAL]) {
        ks_error_set(err, KS_E_PARSE, 0,
                     "%s has no MemTotal line (%u lines read); is the server running Linux "
                     "with /proc mounted?",
                     F_MEMINFO, lineno);
        return -1;
    }
    uint64_t avail;
    if (seen[MI_AVAILABLE]) {
        avail = val[MI_AVAILABLE];
    } else if (seen[MI_FREE]) {
        /* Kernels before 3.14: the classic estimate. */
        avail = val[MI_FREE];
        if (val[MI_BUFFERS] > UINT64_MAX - avail ||
            val[MI_CACHED] > UINT64_MAX - avail - val[MI_BUFFERS]) {
            ks_error_set(err, KS_E_PARSE, 0,
                         "%s: MemFree + Buffers + Cached (%llu + %llu + %llu bytes) is too "
                         "large to be real",
                         F_MEMINFO, (unsigned long long)val[MI_FREE],
                         (unsigned long long)val[MI_BUFFERS], (unsigned long long)val[MI_CACHED]);
            return -1;
        }
        avail += val[MI_BUFFERS] + val[MI_CACHED];
    } else {
        ks_error_set(err, KS_E_PARSE, 0,
                     "%s has neither MemAvailable nor MemFree: the free memory is unknown",
                     F_MEMINFO);
        return -1;
    }
    r->has_mem = true;
    r->mem_total = val[MI_TOTAL];
    r->mem_available = avail;
    return 0;
}

/* ---- /proc/diskstats ---------------------------------------------------- */

/* Virtual devices whose I/O is also counted on the disks below them (dm-,
 * md) or that are not disks (loop, ram, zram, sr, fd, nbd). The kernel names
 * them prefix + number ("md127", "loop0"; old partitionable md "md_d0"). */
static bool disk_excluded(const char *name)
{
    static const char *const prefixes[] = {"loop", "ram", "zram", "md", "sr", "fd", "nbd"};
    if (strncmp(name, "dm-", 3) == 0)
        return true;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(name, prefixes[i], n) == 0 &&
            (is_digit(name[n]) || (i == 3 && strncmp(name + n, "_d", 2) == 0)))
            return true;
    }
    return false;
}

/* The name the parent disk of name would have if name were a partition,
 * after the kernel's own rule (disk_name() in block/partitions): parent +
 * number ("sda1"), or parent + 'p' + number when the parent ends in a digit
 * ("nvme0n1p1", "mmcblk0p1"). So "nvme0n10" is not a partition of
 * "nvme0n1". false when name cannot be a partition. */
static bool partition_parent(const char *name, char parent[COL_NAME_MAX])
{
    size_t n = strlen(name), k = n;
    while (k > 0 && is_digit(name[k - 1]))
        k--;
    if (k == n || k == 0)
        return false;
    if (name[k - 1] == 'p' && k >= 2 && is_digit(name[k - 2]))
        k--;
    memcpy(parent, name, k);
    parent[k] = '\0';
    return true;
}

bool col_disk_name_counts(const char *name, const char *const *names, size_t nnames)
{
    if (!*name || strlen(name) >= COL_NAME_MAX || disk_excluded(name))
        return false;
    char parent[COL_NAME_MAX];
    const char *key = parent;
    return !(partition_parent(name, parent) && nnames &&
             bsearch(&key, names, nnames, sizeof *names, ks_cmp_strp));
}

typedef struct disk_entry {
    col_disk d;
    bool whole; /* a disk line, not excluded; may still be a partition */
} disk_entry;
KS_VECTOR(disk_entry_vec, disk_entry);

/* One line: "major minor name" then 11 numbers (2.6 .. 4.17), 15 (4.18+,
 * discards) or 17 (5.5+, flushes); partitions of kernels before 2.6.25 have
 * only 4 numbers (reads, read sectors, writes, write sectors). */
static int parse_disk_line(const ks_cursor *line, unsigned lineno, disk_entry_vec *v, ks_error *err)
{
    ks_cursor rest = *line;
    const char *w, *name;
    size_t wn, name_len;
    uint64_t x, f[11] = {0};
    quoted q;
    for (int i = 0; i < 2; i++) {
        num_rc rc = take_u64(&rest, &x, &w, &wn);
        if (rc == NUM_NONE)
            return LINE_ERROR(err, F_DISKSTATS, lineno, line, "the line is cut short");
        if (rc == NUM_BAD)
            return LINE_ERROR(err, F_DISKSTATS, lineno, line, "%s number '%s' %s",
                              i ? "minor" : "major", quote(&q, w, wn), bad_number_why(w, wn));
    }
    if (!ks_cur_word(&rest, &name, &name_len))
        return LINE_ERROR(err, F_DISKSTATS, lineno, line, "no device name");
    if (!name_ok(name, name_len))
        return LINE_ERROR(err, F_DISKSTATS, lineno, line,
                          "device name '%s' is empty, too long or not printable",
                          quote(&q, name, name_len));
    size_t n = 0;
    for (;;) {
        num_rc rc = take_u64(&rest, &x, &w, &wn);
        if (rc == NUM_NONE)
            break;
        if (rc == NUM_BAD)
            return LINE_ERROR(err, F_DISKSTATS, lineno, line, "field %zu '%s' %s", n + 4,
                              quote(&q, w, wn), bad_number_why(w, wn));
        if (n < 11)
            f[n] = x;
        n++;
    }
    disk_entry e;
    memset(&e, 0, sizeof e);
    memcpy(e.d.name, name, name_len);
    if (n == 4) {
        /* An old partition line: only its name matters (see below). */
        e.whole = false;
    } else if (n >= 11) {
        e.d.rd_ios = f[0];
        e.d.rd_sectors = f[2];
        e.d.wr_ios = f[4];
        e.d.wr_sectors = f[6];
        e.whole = !disk_excluded(e.d.name);
    } else {
        return LINE_ERROR(err, F_DISKSTATS, lineno, line,
                          "%zu fields, at least 14 are needed (or 7 for a partition of a "
                          "kernel before 2.6.25)",
                          n + 3);
    }
    disk_entry_vec_push(v, e);
    return 0;
}

int col_parse_diskstats(const char *text, size_t len, col_raw *r, ks_error *err)
{
    NO_NULL_TEXT(text, len);
    ks_cursor c = ks_cursor_make(text, len), line;
    unsigned lineno = 0;
    disk_entry_vec all = {0};
    while (next_line(&c, &line, &lineno)) {
        ks_cursor probe = line;
        ks_cur_skip_blanks(&probe);
        if (ks_cur_eof(&probe))
            continue;
        if (parse_disk_line(&line, lineno, &all, err) < 0) {
            disk_entry_vec_reset(&all);
            return -1;
        }
    }
    /* Partitions: a name that is another listed device's name plus a
     * partition suffix. Generic, so new disk types need no table. */
    name_ref *idx = name_index(all.ptr, all.len, sizeof(disk_entry),
                               offsetof(disk_entry, d) + offsetof(col_disk, name));
    col_disk_vec disks = {0};
    for (size_t i = 0; i < all.len; i++) {
        if (!all.ptr[i].whole)
            continue;
        char parent[COL_NAME_MAX];
        if (partition_parent(all.ptr[i].d.name, parent) && name_find(idx, all.len, parent))
            continue;
        col_disk_vec_push(&disks, all.ptr[i].d);
    }
    free(idx);
    disk_entry_vec_reset(&all);
    col_disk_vec_reset(&r->disks);
    r->disks = disks;
    r->has_disk = true;
    return 0;
}

/* ---- /proc/net/dev ------------------------------------------------------ */

/* The kernel prints 8 receive then 8 transmit counters. */
#define NETDEV_FIELDS 16

int col_parse_netdev(const char *text, size_t len, col_raw *r, ks_error *err)
{
    NO_NULL_TEXT(text, len);
    ks_cursor c = ks_cursor_make(text, len), line;
    unsigned lineno = 0;
    /* "Inter-|   Receive ...|  Transmit" and " face |bytes packets ...". */
    for (int i = 0; i < 2; i++) {
        if (!next_line(&c, &line, &lineno)) {
            ks_error_set(err, KS_E_PARSE, 0,
                         "%s has %u lines, not even its two header lines; is the server "
                         "running Linux with /proc mounted?",
                         F_NETDEV, lineno);
            return -1;
        }
        if (!memchr(line.p, '|', ks_cur_len(&line)))
            return LINE_ERROR(err, F_NETDEV, lineno, &line, "this is not a header line");
    }
    col_nic_vec nics = {0};
    quoted q;
    while (next_line(&c, &line, &lineno)) {
        ks_cursor rest = line;
        ks_cur_skip_blanks(&rest);
        if (ks_cur_eof(&rest))
            continue;
        /* "  eth0: 1234 ..." or, with large counters on old kernels,
         * "eth0:123456789 ...": interface names never hold a colon. */
        const char *colon = memchr(rest.p, ':', ks_cur_len(&rest));
        if (!colon) {
            col_nic_vec_reset(&nics);
            return LINE_ERROR(err, F_NETDEV, lineno, &line, "no ':' after the interface name");
        }
        const char *name = rest.p;
        size_t name_len = (size_t)(colon - rest.p);
        if (!name_ok(name, name_len)) {
            col_nic_vec_reset(&nics);
            return LINE_ERROR(err, F_NETDEV, lineno, &line,
                              "interface name '%s' is empty, too long or not printable",
                              quote(&q, name, name_len));
        }
        rest.p = colon + 1;
        uint64_t f[NETDEV_FIELDS] = {0}, x;
        size_t n = 0;
        for (;;) {
            const char *w;
            size_t wn;
            num_rc rc = take_u64(&rest, &x, &w, &wn);
            if (rc == NUM_NONE)
                break;
            if (rc == NUM_BAD) {
                col_nic_vec_reset(&nics);
                return LINE_ERROR(err, F_NETDEV, lineno, &line, "counter %zu '%s' %s", n + 1,
                                  quote(&q, w, wn), bad_number_why(w, wn));
            }
            if (n < NETDEV_FIELDS)
                f[n] = x;
            n++;
        }
        if (n < NETDEV_FIELDS) {
            col_nic_vec_reset(&nics);
            return LINE_ERROR(err, F_NETDEV, lineno, &line,
                              "%zu counters, %d are needed (8 receive, 8 transmit)", n,
                              NETDEV_FIELDS);
        }
        if (word_is(name, name_len, "lo"))
            continue;
        col_nic nic;
        memset(&nic, 0, sizeof nic);
        memcpy(nic.name, name, name_len);
        nic.rx_bytes = f[0];
        nic.tx_bytes = f[8];
        col_nic_vec_push(&nics, nic);
    }
    col_nic_vec_reset(&r->nics);
    r->nics = nics;
    r->has_net = true;
    return 0;
}

/* ---- the sample command and its output --------------------------------- */

/* One section: the marker, then the file copied line by line with the read
 * and printf built-ins (no cat: no process per sample). "|| [ -n ... ]"
 * keeps a last line without '\n'. A missing file: 2>/dev/null comes first
 * so that it is silent, dash and bash skip the loop, and "|| :" keeps a
 * shell with "set -e" alive. */
#define COL_SECTION(name, file)                                                                    \
    "printf '%s\\n' '@@KS " name "'\n"                                                             \
    "while IFS= read -r ks_l || [ -n \"$ks_l\" ]; do printf '%s\\n' \"$ks_l\"; done 2>/dev/null "  \
    "<" file " || :\n"

// clang-format off
const char col_sample_command[] =
    COL_SECTION("uptime", "/proc/uptime")
    COL_SECTION("stat", "/proc/stat")
    COL_SECTION("meminfo", "/proc/meminfo")
    COL_SECTION("diskstats", "/proc/diskstats")
    COL_SECTION("netdev", "/proc/net/dev")
    "unset ks_l\n"
    "printf '%s\\n' '" COL_END_MARKER "'\n";
// clang-format on

#define MARKER_PREFIX "@@KS "

typedef int (*section_parser)(const char *, size_t, col_raw *, ks_error *);

typedef struct section {
    const char *name;
    section_parser parse;
    bool required;
    bool seen;
    const char *p;
    size_t len;
} section;

int col_parse_sample(const char *text, size_t len, col_raw *r, ks_error *err)
{
    NO_NULL_TEXT(text, len);
    section sec[] = {
        {.name = "uptime", .parse = col_parse_uptime, .required = true},
        {.name = "stat", .parse = col_parse_stat, .required = true},
        {.name = "meminfo", .parse = col_parse_meminfo},
        {.name = "diskstats", .parse = col_parse_diskstats},
        {.name = "netdev", .parse = col_parse_netdev},
    };
    const size_t nsec = sizeof sec / sizeof sec[0];
    ks_cursor c = ks_cursor_make(text, len), line;
    unsigned lineno = 0;
    section *open = NULL; /* the section whose text is being read */
    bool ended = false;
    /* Anything before the first marker (a login banner) is ignored. */
    while (next_line(&c, &line, &lineno)) {
        const char *line_start = line.p;
        if (!ks_cur_accept(&line, MARKER_PREFIX) && !ks_cur_equals(&line, "@@KS"))
            continue;
        if (open)
            open->len = (size_t)(line_start - open->p);
        open = NULL;
        if (ks_cur_equals(&line, "end")) {
            ended = true;
            break;
        }
        for (size_t i = 0; i < nsec; i++) {
            if (ks_cur_equals(&line, sec[i].name)) {
                open = &sec[i];
                break;
            }
        }
        if (!open)
            continue; /* a section of a newer collector */
        if (open->seen) {
            ks_error_set(err, KS_E_PARSE, 0,
                         "sample output line %u: section '%s' appears twice; was the output "
                         "of two samples mixed?",
                         lineno, open->name);
            return -1;
        }
        open->seen = true;
        open->p = c.p;
        open->len = 0;
    }
    if (!ended) {
        ks_error_set(err, KS_E_PARSE, 0,
                     "sample output has no '%s' line (%zu bytes, %u lines): it was cut short "
                     "or is not the output of the sample command",
                     COL_END_MARKER, len, lineno);
        return -1;
    }
    /* Parse into a copy so that *r is only changed on success. */
    col_raw tmp;
    col_raw_init(&tmp);
    for (size_t i = 0; i < nsec; i++) {
        bool blank = true;
        for (size_t k = 0; sec[i].seen && k < sec[i].len; k++) {
            char ch = sec[i].p[k];
            if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
                blank = false;
                break;
            }
        }
        if (blank) {
            /* The server lacks the file: only uptime and stat are needed. */
            if (sec[i].required) {
                ks_error_set(err, KS_E_PARSE, 0,
                             "sample output: section '%s' is %s; the server must be Linux "
                             "with /proc mounted and readable",
                             sec[i].name, sec[i].seen ? "empty" : "missing");
                col_raw_clear(&tmp);
                return -1;
            }
            continue;
        }
        if (sec[i].parse(sec[i].p, sec[i].len, &tmp, err) < 0) {
            col_raw_clear(&tmp);
            return -1;
        }
    }
    col_raw_clear(r);
    *r = tmp;
    return 0;
}

/* ---- rates -------------------------------------------------------------- */

/* cur - prev into *d; false when the counter went backwards. */
static bool delta(uint64_t prev, uint64_t cur, double *d)
{
    if (cur < prev)
        return false;
    *d = (double)(cur - prev);
    return true;
}

/* Add cur - prev to *sum, or clear *ok when the counter went backwards. */
static void add_delta(uint64_t prev, uint64_t cur, bool *ok, double *sum)
{
    if (cur < prev)
        *ok = false;
    else
        *sum += (double)(cur - prev);
}

/* The busy and steal shares of the CPU time from prev to cur, in %; false
 * when they are unknown. */
static bool cpu_shares(const col_raw *prev, const col_raw *cur, double *busy_pct, double *steal_pct)
{
    const col_cpu *a = &prev->cpu, *b = &cur->cpu;
    double busy = 0, d;
    const uint64_t busy_prev[] = {a->user, a->nice, a->system, a->irq, a->softirq};
    const uint64_t busy_cur[] = {b->user, b->nice, b->system, b->irq, b->softirq};
    for (size_t i = 0; i < sizeof busy_prev / sizeof busy_prev[0]; i++) {
        if (!delta(busy_prev[i], busy_cur[i], &d))
            return false;
        busy += d;
    }
    double total = busy, steal;
    if (!delta(a->steal, b->steal, &steal))
        return false;
    total += steal;
    uint64_t jitter = (uint64_t)IDLE_JITTER_TICKS_PER_CPU * (cur->ncpu ? cur->ncpu : 1);
    const uint64_t idle_prev[] = {a->idle, a->iowait};
    const uint64_t idle_cur[] = {b->idle, b->iowait};
    for (size_t i = 0; i < 2; i++) {
        if (delta(idle_prev[i], idle_cur[i], &d))
            total += d;
        else if (idle_prev[i] - idle_cur[i] > jitter)
            return false;
    }
    if (!(total > 0))
        return false;
    /* busy <= total, but 100 * busy / total may round a hair above 100. */
    *busy_pct = fmin(100.0 * busy / total, 100.0);
    *steal_pct = fmin(100.0 * steal / total, 100.0);
    return true;
}

static bool nic_wanted(const char *name, const char *const *nics, size_t nnics)
{
    if (!nics || nnics == 0)
        return true;
    for (size_t i = 0; i < nnics; i++)
        if (nics[i] && strcmp(nics[i], name) == 0)
            return true;
    return false;
}

static void disk_rates(const col_raw *prev, const col_raw *cur, double dt, col_rates *out)
{
    name_ref *idx =
        name_index(prev->disks.ptr, prev->disks.len, sizeof(col_disk), offsetof(col_disk, name));
    double rd = 0, wr = 0, rio = 0, wio = 0;
    bool rd_ok = true, wr_ok = true, rio_ok = true, wio_ok = true;
    for (size_t i = 0; i < cur->disks.len; i++) {
        const col_disk *b = &cur->disks.ptr[i];
        const name_ref *m = name_find(idx, prev->disks.len, b->name);
        if (!m)
            continue;
        const col_disk *a = &prev->disks.ptr[m->idx];
        add_delta(a->rd_sectors, b->rd_sectors, &rd_ok, &rd);
        add_delta(a->wr_sectors, b->wr_sectors, &wr_ok, &wr);
        add_delta(a->rd_ios, b->rd_ios, &rio_ok, &rio);
        add_delta(a->wr_ios, b->wr_ios, &wio_ok, &wio);
    }
    free(idx);
    out->disk_rd_bps = rd_ok ? rd * 512.0 / dt : NAN;
    out->disk_wr_bps = wr_ok ? wr * 512.0 / dt : NAN;
    out->disk_rd_iops = rio_ok ? rio / dt : NAN;
    out->disk_wr_iops = wio_ok ? wio / dt : NAN;
}

static void nic_rates(const col_raw *prev, const col_raw *cur, double dt, const char *const *nics,
                      size_t nnics, col_rates *out)
{
    name_ref *idx =
        name_index(prev->nics.ptr, prev->nics.len, sizeof(col_nic), offsetof(col_nic, name));
    double rx = 0, tx = 0;
    bool rx_ok = true, tx_ok = true;
    for (size_t i = 0; i < cur->nics.len; i++) {
        const col_nic *b = &cur->nics.ptr[i];
        if (!nic_wanted(b->name, nics, nnics))
            continue;
        const name_ref *m = name_find(idx, prev->nics.len, b->name);
        if (!m)
            continue;
        const col_nic *a = &prev->nics.ptr[m->idx];
        add_delta(a->rx_bytes, b->rx_bytes, &rx_ok, &rx);
        add_delta(a->tx_bytes, b->tx_bytes, &tx_ok, &tx);
    }
    free(idx);
    out->net_rx_bps = rx_ok ? rx / dt : NAN;
    out->net_tx_bps = tx_ok ? tx / dt : NAN;
}

void col_rates_compute(const col_raw *prev, const col_raw *cur, double cpu_capacity_mhz,
                       const char *const *nics, size_t nnics, col_rates *out)
{
    out->cpu_pct = out->cpu_mhz = NAN;
    out->mem_used = out->mem_total = NAN;
    out->disk_rd_bps = out->disk_wr_bps = out->disk_rd_iops = out->disk_wr_iops = NAN;
    out->net_rx_bps = out->net_tx_bps = NAN;
    out->cpu_steal_pct = NAN;

    if (cur->has_mem) {
        out->mem_total = (double)cur->mem_total;
        /* MemFree+Buffers+Cached can pass MemTotal on old kernels. */
        out->mem_used = cur->mem_available >= cur->mem_total
                            ? 0.0
                            : (double)(cur->mem_total - cur->mem_available);
    }
    if (!prev)
        return;
    if (!(prev->uptime >= 0) || !(cur->uptime >= 0))
        return;
    double dt = cur->uptime - prev->uptime;
    if (!(dt > 0) || !isfinite(dt))
        return;
    /* A reboot: counters restarted from zero. Uptime going backwards is
     * caught above; a reboot between two samples far apart moves btime by
     * at least the previous uptime. A clock step moves the kernel's btime
     * by a second or so without any reboot: that is tolerated. */
    uint64_t db = cur->btime > prev->btime ? cur->btime - prev->btime : prev->btime - cur->btime;
    if (db > COL_BTIME_TOLERANCE)
        return;

    if (prev->has_cpu && cur->has_cpu) {
        if (cpu_shares(prev, cur, &out->cpu_pct, &out->cpu_steal_pct) && cpu_capacity_mhz > 0 &&
            isfinite(cpu_capacity_mhz))
            out->cpu_mhz = out->cpu_pct / 100.0 * cpu_capacity_mhz;
    }
    if (prev->has_disk && cur->has_disk)
        disk_rates(prev, cur, dt, out);
    if (prev->has_net && cur->has_net)
        nic_rates(prev, cur, dt, nics, nnics, out);
}
