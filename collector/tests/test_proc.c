/* test_proc.c: unit tests of col_proc.c (/proc parsers, sample command,
 * rates). Corpus under KS_TEST_DATA/proc: real_* were copied from a Linux
 * 6.x machine, the others are made by hand after older kernels' formats.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "col_proc.h"
#include "ks_buf.h"
#include "ks_mem.h"
#include "ks_test.h"

#define KB 1024ull

typedef int (*parser_fn)(const char *, size_t, col_raw *, ks_error *);

/* Parse a string (without its NUL, from an exact-size heap copy so that
 * ASan sees any read past the end). */
static int parse_str(parser_fn fn, const char *s, col_raw *r, ks_error *err)
{
    size_t n = strlen(s);
    char *copy = ks_malloc(n ? n : 1);
    memcpy(copy, s, n);
    ks_error_clear(err);
    int rc = fn(copy, n, r, err);
    free(copy);
    return rc;
}

static int parse_file(parser_fn fn, const char *rel, col_raw *r, ks_error *err)
{
    size_t n;
    char *text = ks_test_read(rel, &n);
    char *copy = ks_malloc(n ? n : 1);
    memcpy(copy, text, n);
    free(text);
    ks_error_clear(err);
    int rc = fn(copy, n, r, err);
    free(copy);
    return rc;
}

/* Expect fn(s) to fail with a message that contains each of the needles. */
static void expect_error(parser_fn fn, const char *s, const char *needle1, const char *needle2,
                         int line)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    int rc = parse_str(fn, s, &r, &err);
    if (rc != -1 || err.code != KS_E_PARSE || !strstr(err.message, needle1) ||
        (needle2 && !strstr(err.message, needle2))) {
        fprintf(stderr, "%s:%d: %s: rc %d, message \"%s\", expected \"%s\"%s%s\n", __FILE__, line,
                ks_test_current, rc, err.message, needle1, needle2 ? " and " : "",
                needle2 ? needle2 : "");
        ks_test_checks_failed++;
    }
    col_raw_clear(&r);
}
#define EXPECT_ERROR(fn, s, n1, n2) expect_error((fn), (s), (n1), (n2), __LINE__)

static const col_disk *find_disk(const col_raw *r, const char *name)
{
    for (size_t i = 0; i < r->disks.len; i++)
        if (strcmp(r->disks.ptr[i].name, name) == 0)
            return &r->disks.ptr[i];
    return NULL;
}

static const col_nic *find_nic(const col_raw *r, const char *name)
{
    for (size_t i = 0; i < r->nics.len; i++)
        if (strcmp(r->nics.ptr[i].name, name) == 0)
            return &r->nics.ptr[i];
    return NULL;
}

static void check_cpu(const col_cpu *c, uint64_t user, uint64_t nice, uint64_t system,
                      uint64_t idle, uint64_t iowait, uint64_t irq, uint64_t softirq,
                      uint64_t steal, int line)
{
    if (c->user != user || c->nice != nice || c->system != system || c->idle != idle ||
        c->iowait != iowait || c->irq != irq || c->softirq != softirq || c->steal != steal) {
        fprintf(stderr,
                "%s:%d: %s: cpu %llu %llu %llu %llu %llu %llu %llu %llu, expected %llu %llu "
                "%llu %llu %llu %llu %llu %llu\n",
                __FILE__, line, ks_test_current, (unsigned long long)c->user,
                (unsigned long long)c->nice, (unsigned long long)c->system,
                (unsigned long long)c->idle, (unsigned long long)c->iowait,
                (unsigned long long)c->irq, (unsigned long long)c->softirq,
                (unsigned long long)c->steal, (unsigned long long)user, (unsigned long long)nice,
                (unsigned long long)system, (unsigned long long)idle, (unsigned long long)iowait,
                (unsigned long long)irq, (unsigned long long)softirq, (unsigned long long)steal);
        ks_test_checks_failed++;
    }
}
#define CHECK_CPU(c, ...) check_cpu((c), __VA_ARGS__, __LINE__)

static void check_disk(const col_raw *r, const char *name, uint64_t rd_ios, uint64_t rd_sectors,
                       uint64_t wr_ios, uint64_t wr_sectors, int line)
{
    const col_disk *d = find_disk(r, name);
    if (!d || d->rd_ios != rd_ios || d->rd_sectors != rd_sectors || d->wr_ios != wr_ios ||
        d->wr_sectors != wr_sectors) {
        fprintf(stderr, "%s:%d: %s: disk '%s' %s\n", __FILE__, line, ks_test_current, name,
                d ? "has other counters" : "is missing");
        ks_test_checks_failed++;
    }
}
#define CHECK_DISK(r, ...) check_disk((r), __VA_ARGS__, __LINE__)

static void check_nic(const col_raw *r, const char *name, uint64_t rx, uint64_t tx, int line)
{
    const col_nic *n = find_nic(r, name);
    if (!n || n->rx_bytes != rx || n->tx_bytes != tx) {
        fprintf(stderr, "%s:%d: %s: nic '%s' %s\n", __FILE__, line, ks_test_current, name,
                n ? "has other counters" : "is missing");
        ks_test_checks_failed++;
    }
}
#define CHECK_NIC(r, ...) check_nic((r), __VA_ARGS__, __LINE__)

/* ---- real files --------------------------------------------------------- */

KS_TEST(test_real_uptime)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(r.uptime < 0);
    KS_CHECK(parse_file(col_parse_uptime, "proc/real_uptime", &r, &err) == 0);
    KS_CHECK_NEAR(r.uptime, 461.84, 1e-9);
    col_raw_clear(&r);
}

KS_TEST(test_real_stat)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(parse_file(col_parse_stat, "proc/real_stat", &r, &err) == 0);
    KS_CHECK(r.has_cpu);
    CHECK_CPU(&r.cpu, 2440, 0, 1964, 87142, 334, 0, 35, 14);
    KS_CHECK(r.ncpu == 2);
    KS_CHECK(r.btime == 1795344682u);
    KS_CHECK(!r.has_mem && !r.has_disk && !r.has_net);
    col_raw_clear(&r);
}

KS_TEST(test_real_meminfo)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(parse_file(col_parse_meminfo, "proc/real_meminfo", &r, &err) == 0);
    KS_CHECK(r.has_mem);
    KS_CHECK(r.mem_total == 24684084 * KB);
    KS_CHECK(r.mem_available == 24293400 * KB);
    col_raw_clear(&r);
}

KS_TEST(test_real_diskstats)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    /* loop0..7 and zram0 are left out: only vda (a 20-field line). */
    KS_CHECK(parse_file(col_parse_diskstats, "proc/real_diskstats", &r, &err) == 0);
    KS_CHECK(r.has_disk);
    KS_CHECK(r.disks.len == 1);
    CHECK_DISK(&r, "vda", 31353, 2609818, 5387, 585232);
    col_raw_clear(&r);
}

KS_TEST(test_real_netdev)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(parse_file(col_parse_netdev, "proc/real_netdev", &r, &err) == 0);
    KS_CHECK(r.has_net);
    KS_CHECK(r.nics.len == 3);
    KS_CHECK(find_nic(&r, "lo") == NULL);
    CHECK_NIC(&r, "ifb0", 0, 0);
    CHECK_NIC(&r, "ifb1", 0, 0);
    CHECK_NIC(&r, "eth0", 22324865, 31144);
    if (r.nics.len == 3)
        KS_CHECK_STR(r.nics.ptr[0].name, "ifb0");
    col_raw_clear(&r);
}

KS_TEST(test_real_sample)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(parse_file(col_parse_sample, "proc/real_sample", &r, &err) == 0);
    KS_CHECK_NEAR(r.uptime, 461.86, 1e-9);
    KS_CHECK(r.has_cpu && r.has_mem && r.has_disk && r.has_net);
    CHECK_CPU(&r.cpu, 2441, 0, 1964, 87142, 334, 0, 35, 14);
    KS_CHECK(r.ncpu == 2);
    KS_CHECK(r.btime == 1795344682u);
    KS_CHECK(r.mem_total == 24684084 * KB);
    KS_CHECK(r.mem_available == 24293400 * KB);
    KS_CHECK(r.disks.len == 1);
    CHECK_DISK(&r, "vda", 31353, 2609818, 5387, 585232);
    KS_CHECK(r.nics.len == 3);
    CHECK_NIC(&r, "eth0", 22324865, 31144);
    col_raw_clear(&r);
}

/* ---- /proc/stat --------------------------------------------------------- */

KS_TEST(test_stat_1cpu)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(parse_file(col_parse_stat, "proc/stat_1cpu", &r, &err) == 0);
    CHECK_CPU(&r.cpu, 1000, 20, 300, 8000, 50, 10, 40, 5);
    KS_CHECK(r.ncpu == 1);
    KS_CHECK(r.btime == 1600000000u);
    col_raw_clear(&r);
}

KS_TEST(test_stat_64cpu)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(parse_file(col_parse_stat, "proc/stat_64cpu", &r, &err) == 0);
    CHECK_CPU(&r.cpu, 6400, 64, 1920, 57600, 256, 128, 192, 320);
    KS_CHECK(r.ncpu == 64);
    KS_CHECK(r.btime == 1700000000u);
    col_raw_clear(&r);
}

KS_TEST(test_stat_old_kernels)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    /* 2.6.9: 7 fields, no steal. */
    KS_CHECK(parse_file(col_parse_stat, "proc/stat_2_6_9", &r, &err) == 0);
    CHECK_CPU(&r.cpu, 2255, 34, 2290, 22625563, 6290, 127, 456, 0);
    KS_CHECK(r.ncpu == 2);
    KS_CHECK(r.btime == 1062191376u);
    col_raw_clear(&r);
    /* 2.4: 4 fields and a "disk_io:" line. */
    KS_CHECK(parse_file(col_parse_stat, "proc/stat_2_4", &r, &err) == 0);
    CHECK_CPU(&r.cpu, 1, 2, 3, 4, 0, 0, 0, 0);
    KS_CHECK(r.ncpu == 1);
    KS_CHECK(r.btime == 769041601u);
    col_raw_clear(&r);
    /* A future kernel with 11 fields; no btime at all. */
    KS_CHECK(parse_str(col_parse_stat, "cpu 1 2 3 4 5 6 7 8 9 10 11\n", &r, &err) == 0);
    CHECK_CPU(&r.cpu, 1, 2, 3, 4, 5, 6, 7, 8);
    KS_CHECK(r.ncpu == 0);
    KS_CHECK(r.btime == 0);
    col_raw_clear(&r);
    /* No final newline, tabs, blank lines, "cpufreq" is not a CPU. */
    KS_CHECK(parse_str(col_parse_stat,
                       "\n\ncpu\t5 6 7 8\ncpu0 5 6 7 8\ncpufreq 1\ncpu1x 2\nbtime 7", &r,
                       &err) == 0);
    CHECK_CPU(&r.cpu, 5, 6, 7, 8, 0, 0, 0, 0);
    KS_CHECK(r.ncpu == 1);
    KS_CHECK(r.btime == 7);
    col_raw_clear(&r);
}

KS_TEST(test_stat_errors)
{
    EXPECT_ERROR(col_parse_stat, "", "/proc/stat has no aggregate 'cpu' line", NULL);
    EXPECT_ERROR(col_parse_stat, "cpu0 1 2 3 4\nbtime 5\n", "no aggregate 'cpu' line", NULL);
    EXPECT_ERROR(col_parse_stat, "intr 1\nctxt 2\ncpu 1 2 3\n",
                 "/proc/stat line 3: the 'cpu' line has 3 numbers", "\"cpu 1 2 3\"");
    EXPECT_ERROR(col_parse_stat, "cpu 1 2 x 4\n", "/proc/stat line 1: field 4 'x' is not a number",
                 "\"cpu 1 2 x 4\"");
    EXPECT_ERROR(col_parse_stat, "cpu 1 2 -3 4\n", "'-3' is not a number", NULL);
    EXPECT_ERROR(col_parse_stat, "cpu 1 2 3 4.5\n", "'4.5' is not a number", NULL);
    /* UINT64_MAX + 1: an error, never a wrap to 0. */
    EXPECT_ERROR(col_parse_stat, "cpu 1 2 3 18446744073709551616\n",
                 "field 5 '18446744073709551616' is too large", NULL);
    EXPECT_ERROR(col_parse_stat, "cpu 1 2 3 4\ncpu 1 2 3 4\n", "line 2: a second 'cpu' line", NULL);
    EXPECT_ERROR(col_parse_stat, "cpu 1 2 3 4\nbtime\n", "line 2: 'btime' is not followed", NULL);
    EXPECT_ERROR(col_parse_stat, "cpu 1 2 3 4\nbtime 99999999999999999999\n", "line 2", NULL);
    EXPECT_ERROR(col_parse_stat, "cpu 1 2 3 4\nbtime x1\n", "'btime'", "\"btime x1\"");

    /* UINT64_MAX itself is fine. */
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(parse_str(col_parse_stat, "cpu 18446744073709551615 0 0 0\n", &r, &err) == 0);
    KS_CHECK(r.cpu.user == UINT64_MAX);
    col_raw_clear(&r);
    /* A failed parse leaves *r as it was. */
    KS_CHECK(parse_str(col_parse_stat, "cpu 1 2 3 4\ncpu0 1 2 3 4\n", &r, &err) == 0);
    KS_CHECK(parse_str(col_parse_stat, "cpu 9 9 9 x\n", &r, &err) == -1);
    CHECK_CPU(&r.cpu, 1, 2, 3, 4, 0, 0, 0, 0);
    KS_CHECK(r.ncpu == 1);
    col_raw_clear(&r);
}

/* ---- /proc/uptime ------------------------------------------------------- */

KS_TEST(test_uptime)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(parse_str(col_parse_uptime, "350735.47 234388.90\n", &r, &err) == 0);
    KS_CHECK_NEAR(r.uptime, 350735.47, 1e-9);
    KS_CHECK(parse_str(col_parse_uptime, "\n  12\n", &r, &err) == 0);
    KS_CHECK_NEAR(r.uptime, 12, 0);
    KS_CHECK(parse_str(col_parse_uptime, "0.00 0.00", &r, &err) == 0);
    KS_CHECK_NEAR(r.uptime, 0, 0);
    col_raw_clear(&r);

    EXPECT_ERROR(col_parse_uptime, "", "/proc/uptime is empty", NULL);
    EXPECT_ERROR(col_parse_uptime, "\n \n", "/proc/uptime is empty", NULL);
    EXPECT_ERROR(col_parse_uptime, "abc 1.0\n", "/proc/uptime line 1: 'abc' is not a number",
                 "\"abc 1.0\"");
    EXPECT_ERROR(col_parse_uptime, "-5.0 1.0\n", "'-5.0' is not a number", NULL);
    EXPECT_ERROR(col_parse_uptime, "12.5x 1.0\n", "'12.5x'", NULL);
    EXPECT_ERROR(col_parse_uptime, "1.2.3 1.0\n", "'1.2.3'", NULL);
    EXPECT_ERROR(col_parse_uptime, ". 1.0\n", "'.'", NULL);
}

/* ---- /proc/meminfo ------------------------------------------------------ */

KS_TEST(test_meminfo_old_kernel)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(parse_file(col_parse_meminfo, "proc/meminfo_2_6_32", &r, &err) == 0);
    KS_CHECK(r.has_mem);
    KS_CHECK(r.mem_total == 3924892 * KB);
    KS_CHECK(r.mem_available == (512340 + 204800 + 1536000) * KB);
    col_raw_clear(&r);
    /* Only MemFree: Buffers and Cached count as 0. Glued value, no unit
     * (bytes), unknown lines skipped. */
    KS_CHECK(parse_str(col_parse_meminfo, "MemTotal:2048 kB\nMemFree: 1000\ngarbage\nX: y\n", &r,
                       &err) == 0);
    KS_CHECK(r.mem_total == 2048 * KB);
    KS_CHECK(r.mem_available == 1000);
    col_raw_clear(&r);
}

KS_TEST(test_meminfo_errors)
{
    EXPECT_ERROR(col_parse_meminfo, "", "/proc/meminfo has no MemTotal line", NULL);
    EXPECT_ERROR(col_parse_meminfo, "MemFree: 1 kB\n", "no MemTotal line", NULL);
    EXPECT_ERROR(col_parse_meminfo, "MemTotal: 10 kB\nBuffers: 1 kB\n",
                 "neither MemAvailable nor MemFree", NULL);
    EXPECT_ERROR(col_parse_meminfo, "MemTotal: 10 kB\nMemAvailable: lots kB\n",
                 "/proc/meminfo line 2: value 'lots' of MemAvailable is not a number",
                 "\"MemAvailable: lots kB\"");
    EXPECT_ERROR(col_parse_meminfo, "MemTotal:\n", "line 1: no value after 'MemTotal:'", NULL);
    EXPECT_ERROR(col_parse_meminfo, "MemTotal: 10 MB\n", "unit 'MB' of MemTotal is not 'kB'", NULL);
    EXPECT_ERROR(col_parse_meminfo, "MemTotal: 99999999999999999999 kB\n", "is too large", NULL);
    /* Fits in 64 bits as kB, not as bytes. */
    EXPECT_ERROR(col_parse_meminfo, "MemTotal: 18014398509481984 kB\n",
                 "MemTotal is too large to count in bytes", NULL);
    EXPECT_ERROR(col_parse_meminfo, "MemTotal: 1 kB\nMemFree: 18446744073709551615\nCached: 1\n",
                 "MemFree + Buffers + Cached", NULL);

    col_raw r;
    col_raw_init(&r);
    ks_error err;
    /* The largest value that fits in bytes. */
    KS_CHECK(parse_str(col_parse_meminfo, "MemTotal: 18014398509481983 kB\nMemAvailable: 0 kB\n",
                       &r, &err) == 0);
    KS_CHECK(r.mem_total == 18014398509481983ull * KB);
    KS_CHECK(r.mem_available == 0);
    col_raw_clear(&r);
}

/* ---- /proc/diskstats ---------------------------------------------------- */

KS_TEST(test_diskstats_mixed)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(parse_file(col_parse_diskstats, "proc/diskstats_mixed", &r, &err) == 0);
    KS_CHECK(r.has_disk);
    /* Whole disks only, in file order. sdp is a disk (its name ends in 'p'
     * after a letter); nvme0n10 is namespace 10, not a partition of
     * nvme0n1; hda1 is an old 7-field partition line. */
    static const char *const want[] = {"sda",     "sdp", "nvme0n1", "nvme0n10",
                                       "mmcblk0", "hda", "xvda"};
    KS_CHECK(r.disks.len == sizeof want / sizeof want[0]);
    for (size_t i = 0; i < r.disks.len && i < sizeof want / sizeof want[0]; i++)
        KS_CHECK_STR(r.disks.ptr[i].name, want[i]);
    CHECK_DISK(&r, "sda", 1000, 80000, 2000, 160000);
    CHECK_DISK(&r, "sdp", 11, 22, 33, 44);
    CHECK_DISK(&r, "nvme0n1", 5000, 400000, 6000, 480000);
    CHECK_DISK(&r, "nvme0n10", 7, 8, 9, 10);
    CHECK_DISK(&r, "mmcblk0", 300, 2400, 400, 3200);
    CHECK_DISK(&r, "hda", 12, 34, 56, 78);
    CHECK_DISK(&r, "xvda", UINT64_MAX, UINT64_MAX, 1, 2);
    col_raw_clear(&r);
}

KS_TEST(test_diskstats_partitions)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    /* A partition whose disk is not listed counts as a disk: detection is
     * by name only. vdb1 of vdb, md_d0 and nbd3 left out, "mdx" and "srv"
     * are not md or sr devices. */
    KS_CHECK(parse_str(col_parse_diskstats,
                       "8 1 sdz1 1 0 2 0 3 0 4 0 0 0 0\n"
                       "252 0 vdb 1 0 2 0 3 0 4 0 0 0 0\n"
                       "252 1 vdb1 1 0 2 0 3 0 4 0 0 0 0\n"
                       "9 0 md_d0 1 0 2 0 3 0 4 0 0 0 0\n"
                       "43 0 nbd3 1 0 2 0 3 0 4 0 0 0 0\n"
                       "1 0 ram0 1 0 2 0 3 0 4 0 0 0 0\n"
                       "2 0 fd0 1 0 2 0 3 0 4 0 0 0 0\n"
                       "251 0 zram1 1 0 2 0 3 0 4 0 0 0 0\n"
                       "5 0 mdx 5 0 6 0 7 0 8 0 0 0 0\n"
                       "6 0 srv 1 0 2 0 3 0 4 0 0 0 0\n"
                       "104 0 cciss!c0d0 1 0 2 0 3 0 4 0 0 0 0\n"
                       "104 1 cciss!c0d0p1 1 0 2 0 3 0 4 0 0 0 0\n",
                       &r, &err) == 0);
    static const char *const want[] = {"sdz1", "vdb", "mdx", "srv", "cciss!c0d0"};
    KS_CHECK(r.disks.len == sizeof want / sizeof want[0]);
    for (size_t i = 0; i < r.disks.len && i < sizeof want / sizeof want[0]; i++)
        KS_CHECK_STR(r.disks.ptr[i].name, want[i]);
    CHECK_DISK(&r, "mdx", 5, 6, 7, 8);
    col_raw_clear(&r);

    /* Empty file (no block device, e.g. some containers): no disks. */
    KS_CHECK(parse_str(col_parse_diskstats, "", &r, &err) == 0);
    KS_CHECK(r.has_disk && r.disks.len == 0);
    /* Parsing again replaces the previous list. */
    KS_CHECK(parse_str(col_parse_diskstats, "\n 8 0 sda 1 0 2 0 3 0 4 0 0 0 0\r\n\n", &r, &err) ==
             0);
    KS_CHECK(r.disks.len == 1);
    KS_CHECK(parse_str(col_parse_diskstats, "8 0 sdb 1 0 2 0 3 0 4 0 0 0 0", &r, &err) == 0);
    KS_CHECK(r.disks.len == 1);
    CHECK_DISK(&r, "sdb", 1, 2, 3, 4);
    col_raw_clear(&r);
}

KS_TEST(test_diskstats_errors)
{
    EXPECT_ERROR(col_parse_diskstats, "8 0 sda 1 0 2 0 3 0 4 0 0 0 0\n8 1 sda1 1 0 2 0 3 0\n",
                 "/proc/diskstats line 2: 9 fields, at least 14 are needed",
                 "\"8 1 sda1 1 0 2 0 3 0\"");
    EXPECT_ERROR(col_parse_diskstats, "8 0\n", "line 1: no device name", NULL);
    EXPECT_ERROR(col_parse_diskstats, "8\n", "line 1: the line is cut short", NULL);
    EXPECT_ERROR(col_parse_diskstats, "x 0 sda 1 0 2 0 3 0 4 0 0 0 0\n",
                 "major number 'x' is not a number", NULL);
    EXPECT_ERROR(col_parse_diskstats, "8 0 sda 1 0 2 0 3 0 4 0 0 0 zz\n",
                 "field 14 'zz' is not a number", NULL);
    EXPECT_ERROR(col_parse_diskstats, "8 0 sda 18446744073709551616 0 2 0 3 0 4 0 0 0 0\n",
                 "field 4 '18446744073709551616' is too large", NULL);
    EXPECT_ERROR(col_parse_diskstats,
                 "8 0 a_device_name_that_is_far_too_long_for_the_kernel 1 0 2 0 3 0 4 0 0 0 0\n",
                 "device name 'a_device_name_that_is_far_too_long_for_the_kernel'", NULL);
    EXPECT_ERROR(col_parse_diskstats, "8 0 sd\x01 1 0 2 0 3 0 4 0 0 0 0\n", "'sd\\x01'", NULL);
    /* A line cut by a truncated read. */
    EXPECT_ERROR(col_parse_diskstats, "8 0 sda 1 0 2 0 3 0 4 0 0 0 0\n8 16 sdb 1 0 2",
                 "line 2: 6 fields", NULL);
}

/* ---- /proc/net/dev ------------------------------------------------------ */

KS_TEST(test_netdev_glued)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(parse_file(col_parse_netdev, "proc/netdev_glued", &r, &err) == 0);
    KS_CHECK(r.has_net);
    KS_CHECK(r.nics.len == 3);
    CHECK_NIC(&r, "eth0", 1234567890, 987654321);
    CHECK_NIC(&r, "eth1", 5000, 6000);
    CHECK_NIC(&r, "bond0", 4294967295u, 4294967295u);
    KS_CHECK(find_nic(&r, "lo") == NULL);
    col_raw_clear(&r);
    /* Header only: no interface. */
    KS_CHECK(parse_str(col_parse_netdev, "Inter-|\n face |\n", &r, &err) == 0);
    KS_CHECK(r.has_net && r.nics.len == 0);
    col_raw_clear(&r);
}

KS_TEST(test_netdev_errors)
{
#define H "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n"
    EXPECT_ERROR(col_parse_netdev, "", "/proc/net/dev has 0 lines", NULL);
    EXPECT_ERROR(col_parse_netdev, "Inter-|\n", "has 1 lines", NULL);
    EXPECT_ERROR(col_parse_netdev, "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n face |\n",
                 "/proc/net/dev line 1: this is not a header line", NULL);
    EXPECT_ERROR(col_parse_netdev, H "  eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
                 "line 3: no ':' after the interface name", NULL);
    EXPECT_ERROR(col_parse_netdev, H "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",
                 "line 3: 15 counters, 16 are needed", "\"  eth0: 1 2 3");
    EXPECT_ERROR(col_parse_netdev, H "  eth0: 1 2 3 4 5 6 7 8 x 10 11 12 13 14 15 16\n",
                 "counter 9 'x' is not a number", NULL);
    EXPECT_ERROR(col_parse_netdev,
                 H "  eth0: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
                 "counter 1 '18446744073709551616' is too large", NULL);
    EXPECT_ERROR(col_parse_netdev, H "  : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
                 "interface name '' is empty", NULL);
    EXPECT_ERROR(col_parse_netdev, H "  et h0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
                 "interface name 'et h0'", NULL);
    EXPECT_ERROR(col_parse_netdev,
                 H "  averyveryveryveryveryveryverylonginterfacename0123: 1 2 3 4 5 6 7 8 9 10 "
                   "11 12 13 14 15 16\n",
                 "too long", NULL);
    /* Truncated in the middle of a line. */
    EXPECT_ERROR(col_parse_netdev, H "  eth0: 1 2 3", "line 3: 3 counters", NULL);
#undef H
}

/* ---- error messages ----------------------------------------------------- */

KS_TEST(test_error_quoting)
{
    /* A huge garbage line is quoted cut short, control bytes escaped. */
    ks_buf b;
    ks_buf_init(&b, 1 << 20);
    ks_buf_appends(&b, "cpu 1 2 3 \x1b[31m");
    for (int i = 0; i < 5000; i++)
        ks_buf_appends(&b, "z");
    ks_buf_appends(&b, "\n");
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(parse_str(col_parse_stat, ks_buf_str(&b), &r, &err) == -1);
    KS_CHECK(strstr(err.message, "\"cpu 1 2 3 \\x1b[31mzzz") != NULL);
    KS_CHECK(strstr(err.message, "zzz...\"") != NULL);
    KS_CHECK(strlen(err.message) < 600);
    KS_CHECK(strchr(err.message, '\x1b') == NULL);
    KS_CHECK_STR(err.component, "collector");
    KS_CHECK_STR(err.func, "parse_cpu_line");
    ks_buf_free(&b);
    col_raw_clear(&r);
}

/* Every prefix of every corpus file, as an exact-size buffer: no crash, no
 * read past the end (ASan), and an error always has a message. */
KS_TEST(test_truncated_inputs)
{
    static const char *const files[] = {
        "proc/real_uptime",    "proc/real_stat",       "proc/real_meminfo",
        "proc/real_diskstats", "proc/real_netdev",     "proc/real_sample",
        "proc/stat_64cpu",     "proc/diskstats_mixed", "proc/netdev_glued",
        "proc/meminfo_2_6_32", "proc/sample_minimal",  "proc/sample_crlf_reordered",
    };
    parser_fn fns[] = {col_parse_uptime,    col_parse_stat,   col_parse_meminfo,
                       col_parse_diskstats, col_parse_netdev, col_parse_sample};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len;
        char *text = ks_test_read(files[f], &len);
        for (size_t n = 0; n <= len; n++) {
            char *copy = ks_malloc(n ? n : 1);
            memcpy(copy, text, n);
            for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
                col_raw r;
                col_raw_init(&r);
                ks_error err;
                ks_error_clear(&err);
                int rc = fns[k](copy, n, &r, &err);
                KS_CHECK(rc == 0 || (rc == -1 && err.message[0] != '\0'));
                col_raw_clear(&r);
            }
            free(copy);
        }
        free(text);
    }
}

/* ---- col_parse_sample --------------------------------------------------- */

KS_TEST(test_sample_minimal)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    /* A banner before the first marker; empty optional sections. */
    KS_CHECK(parse_file(col_parse_sample, "proc/sample_minimal", &r, &err) == 0);
    KS_CHECK_NEAR(r.uptime, 1234.5, 1e-9);
    KS_CHECK(r.has_cpu);
    CHECK_CPU(&r.cpu, 10, 0, 10, 80, 0, 0, 0, 0);
    KS_CHECK(r.ncpu == 1 && r.btime == 1500000000u);
    KS_CHECK(!r.has_mem && !r.has_disk && !r.has_net);
    KS_CHECK(r.disks.len == 0 && r.nics.len == 0);
    col_raw_clear(&r);
}

KS_TEST(test_sample_crlf_reordered)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    /* Any order, CRLF, an unknown section and text after the end marker. */
    KS_CHECK(parse_file(col_parse_sample, "proc/sample_crlf_reordered", &r, &err) == 0);
    KS_CHECK_NEAR(r.uptime, 99.5, 1e-9);
    CHECK_CPU(&r.cpu, 1, 2, 3, 4, 5, 6, 7, 8);
    KS_CHECK(r.ncpu == 1 && r.btime == 1600000000u);
    KS_CHECK(!r.has_mem && !r.has_disk && r.has_net);
    KS_CHECK(r.nics.len == 1);
    CHECK_NIC(&r, "eth0", 100, 200);
    col_raw_clear(&r);
}

KS_TEST(test_sample_errors)
{
#define UP "@@KS uptime\n10.0 5.0\n"
#define ST "@@KS stat\ncpu 1 2 3 4\n"
    EXPECT_ERROR(col_parse_sample, "", "sample output has no '@@KS end' line", NULL);
    EXPECT_ERROR(col_parse_sample, "bash: syntax error\n", "no '@@KS end' line", NULL);
    EXPECT_ERROR(col_parse_sample, UP ST, "no '@@KS end' line", NULL);
    EXPECT_ERROR(col_parse_sample, UP ST "@@KS meminfo\nMemTotal: 1", "no '@@KS end' line", NULL);
    EXPECT_ERROR(col_parse_sample, UP "@@KS end\n", "section 'stat' is missing", NULL);
    EXPECT_ERROR(col_parse_sample, ST "@@KS end\n", "section 'uptime' is missing", NULL);
    EXPECT_ERROR(col_parse_sample, UP "@@KS stat\n\n@@KS end\n", "section 'stat' is empty", NULL);
    EXPECT_ERROR(col_parse_sample, UP ST UP "@@KS end\n",
                 "sample output line 5: section 'uptime' appears twice", NULL);
    /* The parsers' errors come through with the file and line. */
    EXPECT_ERROR(col_parse_sample, UP ST "@@KS meminfo\nMemTotal: x kB\n@@KS end\n",
                 "/proc/meminfo line 1: value 'x'", NULL);
    EXPECT_ERROR(col_parse_sample, "@@KS uptime\nnope\n" ST "@@KS end\n", "/proc/uptime line 1",
                 NULL);

    col_raw r;
    col_raw_init(&r);
    ks_error err;
    /* A failure leaves *r as it was. */
    KS_CHECK(parse_str(col_parse_sample,
                       UP ST "@@KS diskstats\n8 0 sda 1 0 2 0 3 0 4 0 0 0 0\n@@KS netdev\nx\n"
                             "@@KS end\n",
                       &r, &err) == -1);
    KS_CHECK(strstr(err.message, "/proc/net/dev line 1: this is not a header line") != NULL);
    KS_CHECK(r.uptime < 0 && !r.has_cpu && !r.has_disk && !r.has_net && r.disks.len == 0);
    KS_CHECK(r.disks.ptr == NULL);
    /* NULL text (an empty ks_buf's data) is empty text. */
    KS_CHECK(col_parse_sample(NULL, 0, &r, &err) == -1);
    KS_CHECK(col_parse_diskstats(NULL, 0, &r, &err) == 0 && r.has_disk && r.disks.len == 0);
    col_raw_clear(&r);
    /* "@@KS" alone or a future section: skipped. */
    KS_CHECK(
        parse_str(col_parse_sample, "@@KS\njunk\n@@KS gpu\n1 2\n" UP ST "@@KS end", &r, &err) == 0);
    KS_CHECK_NEAR(r.uptime, 10.0, 0);
    CHECK_CPU(&r.cpu, 1, 2, 3, 4, 0, 0, 0, 0);
    col_raw_clear(&r);
#undef UP
#undef ST
}

/* ---- the sample command, run for real ----------------------------------- */

/* Run argv (a shell) with PATH pointing nowhere, so that anything but a
 * built-in fails; feed it input, collect its stdout. 0 when it exited 0. */
static int run_shell(const char *const argv[], const char *input, ks_buf *out)
{
    int in[2], outp[2];
    if (pipe(in) < 0 || pipe(outp) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(outp[1], 1);
        close(in[0]);
        close(in[1]);
        close(outp[0]);
        close(outp[1]);
        char *const envp[] = {"PATH=/nonexistent", "LC_ALL=C", NULL};
        execve(argv[0], (char *const *)argv, envp);
        _exit(127);
    }
    close(in[0]);
    close(outp[1]);
    /* The input is small: it fits in the pipe before the shell reads. */
    size_t n = input ? strlen(input) : 0, off = 0;
    while (off < n) {
        ssize_t w = write(in[1], input + off, n - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(in[1]);
    char buf[4096];
    ssize_t got;
    while ((got = read(outp[0], buf, sizeof buf)) > 0)
        ks_buf_append(out, buf, (size_t)got);
    close(outp[0]);
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static const char *find_shell(const char *a, const char *b)
{
    if (access(a, X_OK) == 0)
        return a;
    if (b && access(b, X_OK) == 0)
        return b;
    return NULL;
}

/* Check a live sample of this machine against what the C library says. */
static void check_live_sample(const char *what, const ks_buf *out)
{
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    ks_error_clear(&err);
    int rc = col_parse_sample(out->data ? out->data : "", out->len, &r, &err);
    if (rc != 0) {
        fprintf(stderr, "%s: %s: %s\n", ks_test_current, what, err.message);
        ks_test_checks_failed++;
    }
    KS_CHECK(r.uptime > 0);
    KS_CHECK(r.has_cpu && r.has_mem);
    /* Some sandboxes lack these two. */
    KS_CHECK(r.has_disk == (access("/proc/diskstats", R_OK) == 0));
    KS_CHECK(r.has_net == (access("/proc/net/dev", R_OK) == 0));
    KS_CHECK(r.ncpu == (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
    KS_CHECK(r.btime > 1000000000u && r.btime <= (uint64_t)time(NULL));
    KS_CHECK(r.mem_total == (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE));
    KS_CHECK(r.mem_available > 0 && r.mem_available <= r.mem_total);
    KS_CHECK(find_nic(&r, "lo") == NULL);
    col_raw_clear(&r);
}

KS_TEST(test_sample_command_text)
{
    size_t n = strlen(col_sample_command);
    KS_CHECK(n > 0 && col_sample_command[n - 1] == '\n');
    /* Ends by printing the end marker. */
    KS_CHECK(strstr(col_sample_command, "'" COL_END_MARKER "'\n") ==
             col_sample_command + n - strlen("'" COL_END_MARKER "'\n"));
    static const char *const sections[] = {"uptime", "stat", "meminfo", "diskstats", "netdev"};
    for (size_t i = 0; i < 5; i++) {
        char want[64];
        snprintf(want, sizeof want, "'@@KS %s'", sections[i]);
        KS_CHECK(strstr(col_sample_command, want) != NULL);
    }
    KS_CHECK(strstr(col_sample_command, "cat ") == NULL);
    KS_CHECK(strstr(col_sample_command, "$(") == NULL);
    KS_CHECK(strstr(col_sample_command, "`") == NULL);
}

KS_TEST(test_sample_command_shells)
{
    const char *sh = find_shell("/bin/sh", NULL);
    const char *bash = find_shell("/bin/bash", "/usr/bin/bash");
    const char *dash = find_shell("/bin/dash", "/usr/bin/dash");
    KS_CHECK(sh != NULL);
    const char *shells[] = {sh, bash, dash};
    for (size_t i = 0; i < 3; i++) {
        if (!shells[i]) {
            printf("test_sample_command_shells: no %s here, not tested with it\n",
                   i == 1 ? "bash" : "dash");
            continue;
        }
        /* As the collector uses it: a persistent shell reading stdin, which
         * must still be alive and in a clean state afterwards. */
        ks_buf out;
        ks_buf_init(&out, 64u << 20);
        ks_buf input;
        ks_buf_init(&input, 1 << 20);
        ks_buf_appends(&input, col_sample_command);
        ks_buf_appends(&input, "printf 'alive[%s]\\n' \"${ks_l-unset}\"\n");
        const char *argv1[] = {shells[i], NULL};
        KS_CHECK(run_shell(argv1, ks_buf_str(&input), &out) == 0);
        static const char alive[] = COL_END_MARKER "\nalive[unset]\n";
        KS_CHECK(out.len > sizeof alive &&
                 memcmp(out.data + out.len - (sizeof alive - 1), alive, sizeof alive - 1) == 0);
        check_live_sample(shells[i], &out);
        ks_buf_free(&out);
        ks_buf_free(&input);

        /* And as sh -c / bash -c. */
        ks_buf_init(&out, 64u << 20);
        const char *argv2[] = {shells[i], "-c", col_sample_command, NULL};
        KS_CHECK(run_shell(argv2, NULL, &out) == 0);
        check_live_sample(shells[i], &out);
        ks_buf_free(&out);
    }
}

/* A server without meminfo, diskstats and net/dev: the command is pointed
 * at a directory holding only uptime and stat. */
KS_TEST(test_sample_command_missing_files)
{
    char dir[] = "/tmp/test_proc.XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        ks_test_checks_failed++;
        return;
    }
    char path[256];
    static const char *const files[][2] = {{"uptime", "proc/real_uptime"},
                                           {"stat", "proc/real_stat"}};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char *text = ks_test_read(files[i][1], &len);
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        FILE *f = fopen(path, "wb");
        KS_CHECK(f != NULL);
        if (f) {
            /* uptime without its final newline */
            fwrite(text, 1, i == 0 ? len - 1 : len, f);
            fclose(f);
        }
        free(text);
    }
    ks_buf cmd;
    ks_buf_init(&cmd, 1 << 20);
    /* A shell with errexit must survive the missing files too. */
    ks_buf_appends(&cmd, "set -e\n");
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s/", dir);
    for (const char *p = col_sample_command; *p;) {
        if (strncmp(p, "/proc/", 6) == 0) {
            ks_buf_appends(&cmd, prefix);
            p += 6;
        } else {
            ks_buf_append(&cmd, p++, 1);
        }
    }
    ks_buf_appends(&cmd, "printf 'alive\\n'\n");
    const char *shells[] = {find_shell("/bin/sh", NULL), find_shell("/bin/bash", "/usr/bin/bash"),
                            find_shell("/bin/dash", "/usr/bin/dash")};
    for (size_t i = 0; i < 3; i++) {
        if (!shells[i])
            continue;
        ks_buf out;
        ks_buf_init(&out, 1 << 20);
        const char *argv[] = {shells[i], NULL};
        KS_CHECK(run_shell(argv, ks_buf_str(&cmd), &out) == 0);
        /* Empty sections, nothing on stdout from the errors. */
        KS_CHECK(strstr(ks_buf_str(&out), "@@KS meminfo\n@@KS diskstats\n@@KS netdev\n@@KS "
                                          "end\nalive\n") != NULL);
        col_raw r;
        col_raw_init(&r);
        ks_error err;
        KS_CHECK(col_parse_sample(ks_buf_str(&out), out.len, &r, &err) == 0);
        KS_CHECK_NEAR(r.uptime, 461.84, 1e-9);
        CHECK_CPU(&r.cpu, 2440, 0, 1964, 87142, 334, 0, 35, 14);
        KS_CHECK(!r.has_mem && !r.has_disk && !r.has_net);
        col_raw_clear(&r);
        ks_buf_free(&out);
    }
    ks_buf_free(&cmd);
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- rates -------------------------------------------------------------- */

static void raw_base(col_raw *r, double uptime, uint64_t btime)
{
    col_raw_init(r);
    r->uptime = uptime;
    r->btime = btime;
    r->ncpu = 1;
    r->has_cpu = r->has_disk = r->has_net = true;
}

static void add_disk(col_raw *r, const char *name, uint64_t rd_ios, uint64_t rd_sectors,
                     uint64_t wr_ios, uint64_t wr_sectors)
{
    col_disk d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", name);
    d.rd_ios = rd_ios;
    d.rd_sectors = rd_sectors;
    d.wr_ios = wr_ios;
    d.wr_sectors = wr_sectors;
    col_disk_vec_push(&r->disks, d);
}

static void add_nic(col_raw *r, const char *name, uint64_t rx, uint64_t tx)
{
    col_nic n;
    memset(&n, 0, sizeof n);
    snprintf(n.name, sizeof n.name, "%s", name);
    n.rx_bytes = rx;
    n.tx_bytes = tx;
    col_nic_vec_push(&r->nics, n);
}

static bool all_counter_rates_nan(const col_rates *o)
{
    return isnan(o->cpu_pct) && isnan(o->cpu_mhz) && isnan(o->disk_rd_bps) &&
           isnan(o->disk_wr_bps) && isnan(o->disk_rd_iops) && isnan(o->disk_wr_iops) &&
           isnan(o->net_rx_bps) && isnan(o->net_tx_bps) && isnan(o->cpu_steal_pct);
}

/* Two samples 10 s apart with known deltas. */
static void make_pair(col_raw *a, col_raw *b)
{
    raw_base(a, 1000.0, 1600000000);
    raw_base(b, 1010.0, 1600000000);
    a->cpu = (col_cpu){.user = 100, .idle = 100};
    b->cpu = (col_cpu){.user = 200, .idle = 200};
    add_disk(a, "sda", 10, 1000, 20, 2000);
    add_disk(b, "sda", 110, 3000, 70, 12000);
    add_disk(a, "sdb", 0, 0, 0, 0);
    add_disk(b, "sdb", 100, 1000, 30, 240);
    add_nic(a, "eth0", 1000, 5000);
    add_nic(b, "eth0", 11000, 8000);
    add_nic(a, "eth1", 0, 0);
    add_nic(b, "eth1", 50000, 70000);
    b->has_mem = true;
    b->mem_total = 8000 * KB;
    b->mem_available = 3000 * KB;
}

KS_TEST(test_rates_known_values)
{
    col_raw a, b;
    make_pair(&a, &b);
    col_rates o;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct == 50.0);
    KS_CHECK(o.cpu_mhz == 1000.0);
    KS_CHECK(o.mem_total == 8000.0 * KB);
    KS_CHECK(o.mem_used == 5000.0 * KB);
    /* sda: 2000 + sdb: 1000 sectors of 512 bytes over 10 s */
    KS_CHECK_NEAR(o.disk_rd_bps, 3000.0 * 512 / 10, 1e-9);
    KS_CHECK_NEAR(o.disk_wr_bps, (10000.0 + 240) * 512 / 10, 1e-9);
    KS_CHECK_NEAR(o.disk_rd_iops, 200.0 / 10, 1e-9);
    KS_CHECK_NEAR(o.disk_wr_iops, 80.0 / 10, 1e-9);
    KS_CHECK_NEAR(o.net_rx_bps, (10000.0 + 50000) / 10, 1e-9);
    KS_CHECK_NEAR(o.net_tx_bps, (3000.0 + 70000) / 10, 1e-9);

    /* No capacity: cpu_mhz unknown, the rest unchanged. */
    col_rates_compute(&a, &b, 0.0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct == 50.0);
    KS_CHECK(isnan(o.cpu_mhz));
    col_rates_compute(&a, &b, -5.0, NULL, 0, &o);
    KS_CHECK(isnan(o.cpu_mhz));
    col_raw_clear(&a);
    col_raw_clear(&b);
}

KS_TEST(test_rates_cpu_fields)
{
    col_raw a, b;
    raw_base(&a, 10, 5);
    raw_base(&b, 20, 5);
    a.cpu = (col_cpu){1, 2, 3, 4, 5, 6, 7, 8};
    /* busy +50 (user nice system irq softirq), total +100 (+ idle iowait
     * steal) */
    b.cpu = (col_cpu){.user = 11,
                      .nice = 12,
                      .system = 13,
                      .idle = 29,
                      .iowait = 20,
                      .irq = 16,
                      .softirq = 17,
                      .steal = 18};
    col_rates o;
    col_rates_compute(&a, &b, 3000.0, NULL, 0, &o);
    KS_CHECK_NEAR(o.cpu_pct, 50.0, 1e-12);
    KS_CHECK_NEAR(o.cpu_mhz, 1500.0, 1e-9);
    KS_CHECK_NEAR(o.cpu_steal_pct, 10.0, 1e-12); /* steal +10 of +100 */
    /* Only busy: 100 %; only idle: 0 %. */
    b.cpu = a.cpu;
    b.cpu.system += 7;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct == 100.0 && o.cpu_steal_pct == 0.0);
    /* Only steal: a VM whose host gave all its time to others. */
    b.cpu = a.cpu;
    b.cpu.steal += 7;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct == 0.0 && o.cpu_steal_pct == 100.0);
    b.cpu = a.cpu;
    b.cpu.idle += 7;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct == 0.0);
    /* No tick at all: unknown. */
    b.cpu = a.cpu;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK(isnan(o.cpu_pct) && isnan(o.cpu_steal_pct));
    col_raw_clear(&a);
    col_raw_clear(&b);
}

KS_TEST(test_rates_backwards_counters)
{
    col_raw a, b;
    make_pair(&a, &b);
    col_rates o;
    /* A 32-bit counter wrapped: only that metric is unknown. */
    b.disks.ptr[1].rd_sectors = 0;
    a.disks.ptr[1].rd_sectors = 4294967000u;
    b.nics.ptr[0].rx_bytes = 10;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(isnan(o.disk_rd_bps));
    KS_CHECK_NEAR(o.disk_wr_bps, (10000.0 + 240) * 512 / 10, 1e-9);
    KS_CHECK_NEAR(o.disk_rd_iops, 20.0, 1e-9);
    KS_CHECK_NEAR(o.disk_wr_iops, 8.0, 1e-9);
    KS_CHECK(isnan(o.net_rx_bps));
    KS_CHECK_NEAR(o.net_tx_bps, 7300.0, 1e-9);
    KS_CHECK(o.cpu_pct == 50.0);
    col_raw_clear(&a);
    col_raw_clear(&b);

    make_pair(&a, &b);
    b.disks.ptr[0].wr_ios = 1;
    b.disks.ptr[0].rd_ios = 1;
    b.nics.ptr[1].tx_bytes = 0;
    a.nics.ptr[1].tx_bytes = 1;
    b.cpu.system = 0;
    a.cpu.system = 1;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(isnan(o.disk_rd_iops) && isnan(o.disk_wr_iops));
    KS_CHECK(!isnan(o.disk_rd_bps) && !isnan(o.disk_wr_bps));
    KS_CHECK(isnan(o.net_tx_bps) && !isnan(o.net_rx_bps));
    KS_CHECK(isnan(o.cpu_pct) && isnan(o.cpu_mhz));
    col_raw_clear(&a);
    col_raw_clear(&b);

    /* Steal going back: unknown. */
    make_pair(&a, &b);
    a.cpu.steal = 5;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK(isnan(o.cpu_pct));
    col_raw_clear(&a);
    col_raw_clear(&b);
}

KS_TEST(test_rates_idle_jitter)
{
    col_raw a, b;
    make_pair(&a, &b);
    col_rates o;
    /* iowait steps back 3 ticks on 1 CPU: counted as 0, not as -3. */
    a.cpu.iowait = 50;
    b.cpu.iowait = 47;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct == 50.0);
    /* idle steps back 10 ticks (the limit for 1 CPU) while user +100. */
    a.cpu = (col_cpu){.user = 100, .idle = 1000};
    b.cpu = (col_cpu){.user = 200, .idle = 990};
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct == 100.0);
    /* 11 ticks on 1 CPU is no jitter: unknown. */
    b.cpu.idle = 989;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK(isnan(o.cpu_pct));
    /* ... but allowed on 2 CPUs. */
    b.ncpu = 2;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct == 100.0);
    /* A large drop (counter reset) is unknown. */
    b.cpu.idle = 0;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK(isnan(o.cpu_pct));
    col_raw_clear(&a);
    col_raw_clear(&b);
}

KS_TEST(test_rates_reboot)
{
    col_raw a, b;
    make_pair(&a, &b);
    col_rates o;
    /* Rebooted between the samples, the new uptime larger than the old. */
    b.btime = a.btime + 1005;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(all_counter_rates_nan(&o));
    KS_CHECK(o.mem_total == 8000.0 * KB && o.mem_used == 5000.0 * KB);
    /* btime moved back (clock step): also unknown. */
    b.btime = a.btime - 3600;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(all_counter_rates_nan(&o));
    /* btime unknown in one sample only: unknown. */
    b.btime = 0;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(all_counter_rates_nan(&o));
    /* A clock step moves btime by a second or two without a reboot:
     * rates stay known; one second more is a reboot. */
    b.btime = a.btime + 1;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct == 50.0);
    b.btime = a.btime - COL_BTIME_TOLERANCE;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct == 50.0);
    b.btime = a.btime + COL_BTIME_TOLERANCE + 1;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(all_counter_rates_nan(&o));
    /* Same btime: known again. */
    b.btime = a.btime;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct == 50.0);
    KS_CHECK_NEAR(o.net_rx_bps, 6000.0, 1e-9);
    /* Both unknown: the uptime still guards against a reboot. */
    a.btime = b.btime = 0;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct == 50.0);
    b.uptime = 5.0;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(all_counter_rates_nan(&o));
    col_raw_clear(&a);
    col_raw_clear(&b);
}

KS_TEST(test_rates_devices_appear)
{
    col_raw a, b;
    make_pair(&a, &b);
    col_rates o;
    /* sdc and eth2 appear with big counters (hot plug), sdb and eth1 go. */
    add_disk(&b, "sdc", 1u << 30, 1ull << 40, 1u << 30, 1ull << 40);
    add_nic(&b, "eth2", 1ull << 50, 1ull << 50);
    add_disk(&a, "sdd", 1, 1, 1, 1);
    add_nic(&a, "eth3", 1, 1);
    b.disks.ptr[1] = b.disks.ptr[2];
    b.disks.len = 2;
    b.nics.ptr[1] = b.nics.ptr[2];
    b.nics.len = 2;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK_NEAR(o.disk_rd_bps, 2000.0 * 512 / 10, 1e-9);
    KS_CHECK_NEAR(o.disk_wr_bps, 10000.0 * 512 / 10, 1e-9);
    KS_CHECK_NEAR(o.disk_rd_iops, 10.0, 1e-9);
    KS_CHECK_NEAR(o.disk_wr_iops, 5.0, 1e-9);
    KS_CHECK_NEAR(o.net_rx_bps, 1000.0, 1e-9);
    KS_CHECK_NEAR(o.net_tx_bps, 300.0, 1e-9);
    /* Nothing in common: zero traffic. */
    b.disks.len = 0;
    b.nics.len = 0;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK(o.disk_rd_bps == 0 && o.disk_wr_iops == 0 && o.net_rx_bps == 0);
    /* A file missing in one sample: unknown. */
    b.has_disk = false;
    a.has_net = false;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK(isnan(o.disk_rd_bps) && isnan(o.disk_wr_bps) && isnan(o.disk_rd_iops) &&
             isnan(o.disk_wr_iops));
    KS_CHECK(isnan(o.net_rx_bps) && isnan(o.net_tx_bps));
    KS_CHECK(o.cpu_pct == 50.0);
    col_raw_clear(&a);
    col_raw_clear(&b);
}

KS_TEST(test_rates_interval)
{
    col_raw a, b;
    make_pair(&a, &b);
    col_rates o;
    /* The interval is the uptime difference, whatever the network did. */
    b.uptime = 1004.0;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK_NEAR(o.net_rx_bps, 60000.0 / 4, 1e-9);
    KS_CHECK_NEAR(o.disk_rd_iops, 200.0 / 4, 1e-9);
    KS_CHECK(o.cpu_pct == 50.0);
    b.uptime = 1000.5;
    col_rates_compute(&a, &b, 0, NULL, 0, &o);
    KS_CHECK_NEAR(o.net_tx_bps, 73000.0 * 2, 1e-9);
    /* Zero, negative or unknown interval: no rate. */
    b.uptime = 1000.0;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(all_counter_rates_nan(&o));
    b.uptime = 999.0;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(all_counter_rates_nan(&o));
    b.uptime = 1010.0;
    a.uptime = -1;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(all_counter_rates_nan(&o));
    a.uptime = 1000.0;
    b.uptime = NAN;
    col_rates_compute(&a, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(all_counter_rates_nan(&o));
    KS_CHECK(o.mem_used == 5000.0 * KB);
    col_raw_clear(&a);
    col_raw_clear(&b);
}

KS_TEST(test_rates_nic_filter)
{
    col_raw a, b;
    make_pair(&a, &b);
    col_rates o;
    const char *const only_eth1[] = {"eth1"};
    col_rates_compute(&a, &b, 0, only_eth1, 1, &o);
    KS_CHECK_NEAR(o.net_rx_bps, 5000.0, 1e-9);
    KS_CHECK_NEAR(o.net_tx_bps, 7000.0, 1e-9);
    const char *const both[] = {"eth0", "bond0", "eth1"};
    col_rates_compute(&a, &b, 0, both, 3, &o);
    KS_CHECK_NEAR(o.net_rx_bps, 6000.0, 1e-9);
    /* A NIC of the list that went backwards spoils the metric; one outside
     * the list does not. */
    b.nics.ptr[0].rx_bytes = 0;
    col_rates_compute(&a, &b, 0, only_eth1, 1, &o);
    KS_CHECK_NEAR(o.net_rx_bps, 5000.0, 1e-9);
    col_rates_compute(&a, &b, 0, both, 3, &o);
    KS_CHECK(isnan(o.net_rx_bps));
    /* NULL or 0: every interface. */
    b.nics.ptr[0].rx_bytes = 11000;
    col_rates_compute(&a, &b, 0, NULL, 5, &o);
    KS_CHECK_NEAR(o.net_rx_bps, 6000.0, 1e-9);
    col_rates_compute(&a, &b, 0, only_eth1, 0, &o);
    KS_CHECK_NEAR(o.net_rx_bps, 6000.0, 1e-9);
    /* A list naming nothing present: zero. */
    const char *const none[] = {"ens9"};
    col_rates_compute(&a, &b, 0, none, 1, &o);
    KS_CHECK(o.net_rx_bps == 0 && o.net_tx_bps == 0);
    col_raw_clear(&a);
    col_raw_clear(&b);
}

KS_TEST(test_rates_first_sample_and_memory)
{
    col_raw a, b;
    make_pair(&a, &b);
    col_rates o;
    col_rates_compute(NULL, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(all_counter_rates_nan(&o));
    KS_CHECK(o.mem_total == 8000.0 * KB && o.mem_used == 5000.0 * KB);
    /* MemFree+Buffers+Cached above MemTotal: nothing used, not negative. */
    b.mem_available = 9000 * KB;
    col_rates_compute(NULL, &b, 2000.0, NULL, 0, &o);
    KS_CHECK(o.mem_used == 0.0);
    /* No meminfo: unknown. */
    col_rates_compute(&b, &a, 2000.0, NULL, 0, &o);
    KS_CHECK(isnan(o.mem_total) && isnan(o.mem_used));
    col_raw_clear(&a);
    col_raw_clear(&b);
}

/* Two real samples of this machine a little apart: plausible rates. */
KS_TEST(test_rates_live)
{
    const char *argv[] = {"/bin/sh", "-c", col_sample_command, NULL};
    col_raw r[2];
    for (int i = 0; i < 2; i++) {
        ks_buf out;
        ks_buf_init(&out, 64u << 20);
        KS_CHECK(run_shell(argv, NULL, &out) == 0);
        col_raw_init(&r[i]);
        ks_error err;
        KS_CHECK(col_parse_sample(ks_buf_str(&out), out.len, &r[i], &err) == 0);
        ks_buf_free(&out);
        if (i == 0) {
            /* uptime has a 10 ms resolution */
            struct timespec ts = {0, 120 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    col_rates o;
    col_rates_compute(&r[0], &r[1], 1000.0, NULL, 0, &o);
    KS_CHECK(o.cpu_pct >= 0 && o.cpu_pct <= 100);
    KS_CHECK(o.cpu_mhz >= 0 && o.cpu_mhz <= 1000);
    if (r[0].has_disk) {
        KS_CHECK(o.disk_rd_bps >= 0 && o.disk_wr_bps >= 0);
        KS_CHECK(o.disk_rd_iops >= 0 && o.disk_wr_iops >= 0);
    }
    if (r[0].has_net)
        KS_CHECK(o.net_rx_bps >= 0 && o.net_tx_bps >= 0);
    KS_CHECK(o.mem_used > 0 && o.mem_used < o.mem_total);
    col_raw_clear(&r[0]);
    col_raw_clear(&r[1]);
}

int main(void)
{
    /* The shell tests write to pipes of children that may have exited. */
    signal(SIGPIPE, SIG_IGN);
    KS_RUN(test_real_uptime);
    KS_RUN(test_real_stat);
    KS_RUN(test_real_meminfo);
    KS_RUN(test_real_diskstats);
    KS_RUN(test_real_netdev);
    KS_RUN(test_real_sample);
    KS_RUN(test_stat_1cpu);
    KS_RUN(test_stat_64cpu);
    KS_RUN(test_stat_old_kernels);
    KS_RUN(test_stat_errors);
    KS_RUN(test_uptime);
    KS_RUN(test_meminfo_old_kernel);
    KS_RUN(test_meminfo_errors);
    KS_RUN(test_diskstats_mixed);
    KS_RUN(test_diskstats_partitions);
    KS_RUN(test_diskstats_errors);
    KS_RUN(test_netdev_glued);
    KS_RUN(test_netdev_errors);
    KS_RUN(test_error_quoting);
    KS_RUN(test_truncated_inputs);
    KS_RUN(test_sample_minimal);
    KS_RUN(test_sample_crlf_reordered);
    KS_RUN(test_sample_errors);
    KS_RUN(test_sample_command_text);
    KS_RUN(test_sample_command_shells);
    KS_RUN(test_sample_command_missing_files);
    KS_RUN(test_rates_known_values);
    KS_RUN(test_rates_cpu_fields);
    KS_RUN(test_rates_backwards_counters);
    KS_RUN(test_rates_idle_jitter);
    KS_RUN(test_rates_reboot);
    KS_RUN(test_rates_devices_appear);
    KS_RUN(test_rates_interval);
    KS_RUN(test_rates_nic_filter);
    KS_RUN(test_rates_first_sample_and_memory);
    KS_RUN(test_rates_live);
    return ks_test_summary();
}
