/* ks_series.h: a server's RRD file (the collector's STUDY/rrd/NAME.rrd, or
 * an imported one) read into time slots, for the analyzer (demand to pack)
 * and the validator (a VM's load against its physical server's).
 *
 * Its own library (ks_series, linking librrd), so that components that
 * never read RRD files do not link librrd.
 */
#ifndef KS_SERIES_H
#define KS_SERIES_H

#include <stddef.h>
#include <time.h>

#include "ks_error.h"

/* A server's demand per slot; NAN where unknown. */
typedef struct ks_series {
    time_t slot_start; /* time of slot 0, a multiple of slot_seconds */
    long slot_seconds;
    size_t nslots;
    double *cpu_mhz;         /* CPU demand, source MHz */
    double *mem_bytes;       /* memory used */
    double *disk_bps;        /* disk read + write, bytes/s */
    double *disk_iops;       /* disk read + write requests/s */
    double *net_bps;         /* network received + transmitted, bytes/s */
    unsigned char *measured; /* 1: the slot had a CPU value before any fill; set by
                                ks_series_read and ks_series_window, kept by
                                ana_series_fill (the report's gaps) */
    /* With KS_SERIES_LOAD only, else NULL: */
    double *cpu_pct;   /* busy share of the server's CPUs, 0..100 */
    double *mem_total; /* memory the server has, bytes */
    double *steal_pct; /* CPU time a hypervisor gave to others, 0..100 */
} ks_series;

/* What ks_series_read fills beyond the demand series. */
enum {
    KS_SERIES_LOAD = 1, /* cpu_pct, mem_total and steal_pct too */
};

/* Read path (a kvmshift RRD file) into slots of slot_seconds: each slot
 * holds the highest 5-minute AVERAGE row in it; where the 5-minute archive
 * does not reach, the 1-hour MAX row. cpu_capacity_mhz (cores x MHz, 0 when
 * unknown) turns cpu_pct into MHz where cpu_mhz is unknown. The series
 * spans the first to the last slot with a CPU value (nslots 0 when none).
 * flags: 0 or KS_SERIES_LOAD (then a slot with a CPU share but no MHz has
 * a CPU value too: a VM whose CPUs the collector did not know yet). 0, or -1 with err (KS_E_RRD
 * naming the file). */
int ks_series_read(const char *path, long slot_seconds, double cpu_capacity_mhz, unsigned flags,
                   ks_series *s, ks_error *err);
/* A copy of s over [start, start + n x slot), NAN outside s; s has slots
 * of slot seconds, or none at all (a server never sampled: all NAN). The
 * copy has the series s has. */
void ks_series_window(const ks_series *s, time_t start, long slot, size_t n, ks_series *out);
/* Slots with a CPU value. */
size_t ks_series_present(const ks_series *s);
void ks_series_free(ks_series *s);

#endif
