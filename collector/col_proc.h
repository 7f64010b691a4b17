/* col_proc.h: parsing Linux /proc text into raw counters, and turning two
 * successive raw samples into rates. Internal to the collector (not part of
 * collector.h) but kept in its own header for the unit tests and fuzzers.
 *
 * All parsers take a byte range (no NUL needed), never read past it, and
 * never trust a number: overflow, garbage and missing fields give -1 with a
 * message quoting the line. Unknown lines and fields are skipped so that new
 * kernels do not break collection.
 */
#ifndef COL_PROC_H
#define COL_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ks_error.h"
#include "ks_vector.h"

#define COL_NAME_MAX 48

/* Aggregate "cpu" line of /proc/stat, in USER_HZ ticks. guest/guest_nice are
 * already counted in user/nice by the kernel and are not kept. */
typedef struct col_cpu {
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
} col_cpu;

/* One whole disk of /proc/diskstats (partitions, loop, ram, zram, dm-, md,
 * sr, fd, nbd devices are left out: they would count the same I/O twice or
 * are not disks). Sectors are 512 bytes whatever the device's sector size. */
typedef struct col_disk {
    char name[COL_NAME_MAX];
    uint64_t rd_ios, rd_sectors, wr_ios, wr_sectors;
} col_disk;

/* One interface of /proc/net/dev ("lo" is left out). */
typedef struct col_nic {
    char name[COL_NAME_MAX];
    uint64_t rx_bytes, tx_bytes;
} col_nic;

KS_VECTOR(col_disk_vec, col_disk);
KS_VECTOR(col_nic_vec, col_nic);

typedef struct col_raw {
    double uptime;  /* /proc/uptime, seconds; < 0 when unknown */
    uint64_t btime; /* boot time (Unix seconds) from /proc/stat; 0 unknown */
    unsigned ncpu;  /* number of "cpuN" lines in /proc/stat */
    bool has_cpu;
    col_cpu cpu;
    bool has_mem;
    uint64_t mem_total;     /* bytes */
    uint64_t mem_available; /* bytes: MemAvailable, or MemFree+Buffers+Cached
                               on kernels older than 3.14 */
    bool has_disk;
    col_disk_vec disks;
    bool has_net;
    col_nic_vec nics;
} col_raw;

void col_raw_init(col_raw *r);
/* Free the vectors and reset to the state of col_raw_init. */
void col_raw_clear(col_raw *r);

/* Each parser fills its part of *r and sets the matching has_ flag. */
int col_parse_uptime(const char *text, size_t len, col_raw *r, ks_error *err);
int col_parse_stat(const char *text, size_t len, col_raw *r, ks_error *err);
int col_parse_meminfo(const char *text, size_t len, col_raw *r, ks_error *err);
int col_parse_diskstats(const char *text, size_t len, col_raw *r, ks_error *err);
int col_parse_netdev(const char *text, size_t len, col_raw *r, ks_error *err);

/* Does a block device of this name count as a whole disk, by the rules of
 * col_parse_diskstats (not excluded, not a partition of a device in names)?
 * names: every device name the server lists, sorted by strcmp. For the
 * backends that get device names from elsewhere (SNMP's diskIODevice). */
bool col_disk_name_counts(const char *name, const char *const *names, size_t nnames);

/* The shell text sent to a server's persistent /bin/sh for one sample. It
 * uses only shell built-ins (no process is started on the server per
 * sample) and prints sections, each introduced by a line "@@KS <name>"
 * (uptime, stat, meminfo, diskstats, netdev) and ends with "@@KS end".
 * A file the server lacks gives an empty section. */
extern const char col_sample_command[];
/* The last line of a complete sample output. */
#define COL_END_MARKER "@@KS end"

/* Parse a whole sample output (col_sample_command's) into *r, which must be
 * freshly initialized. Sections may come in any order; uptime and stat are
 * required, the others are optional (their has_ flag stays false). */
int col_parse_sample(const char *text, size_t len, col_raw *r, ks_error *err);

/* Largest btime change (seconds) that is not taken for a reboot. */
#define COL_BTIME_TOLERANCE 2

/* Rates between two samples; NAN marks an unknown value. */
typedef struct col_rates {
    double cpu_pct;     /* busy share of all logical CPUs, 0..100 */
    double cpu_mhz;     /* cpu_pct/100 * cpu_capacity_mhz */
    double mem_used;    /* bytes: mem_total - mem_available */
    double mem_total;   /* bytes */
    double disk_rd_bps; /* bytes/s */
    double disk_wr_bps;
    double disk_rd_iops; /* completed requests/s */
    double disk_wr_iops;
    double net_rx_bps; /* bytes/s */
    double net_tx_bps;
    double cpu_steal_pct; /* steal share of all logical CPUs' time, 0..100 */
} col_rates;

/* Compute rates from prev to cur.
 * - prev may be NULL (first sample): only the memory gauges are known.
 * - The interval is cur->uptime - prev->uptime (the server's own clock, so
 *   network delays do not distort rates); <= 0 or unknown: rates unknown.
 * - A reboot makes every counter rate unknown, never a spike: uptime going
 *   backwards, or btime moving by more than COL_BTIME_TOLERANCE seconds (a
 *   clock step moves the kernel's btime by a second without a reboot). A counter that went
 * backwards (32-bit wrap, driver reset) makes that metric unknown.
 * - Disks and NICs are matched by name; only devices present in both
 *   samples count, so hot-plugged devices give no spike.
 * - nics/nnics: names of the interfaces to count (the physical NICs from
 *   the facts); NULL or 0 counts every interface but lo.
 * - cpu_capacity_mhz: the server's CPU capacity in MHz (physical cores x
 *   nominal MHz, from the facts); <= 0 leaves cpu_mhz unknown.
 * - busy = user+nice+system+irq+softirq; total adds idle, iowait and steal;
 *   cpu_pct is busy / total, cpu_steal_pct steal / total.
 *   Small decreases of idle or iowait (a known kernel accounting quirk) count
 *   as zero; a decrease of total makes cpu unknown. */
void col_rates_compute(const col_raw *prev, const col_raw *cur, double cpu_capacity_mhz,
                       const char *const *nics, size_t nnics, col_rates *out);

#endif
