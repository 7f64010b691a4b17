/* ks_rrdfile.h: an RRD file's header checked before librrd reads it.
 *
 * librrd trusts the counts and sizes in a file's header: a damaged header
 * (a disk error, a partial copy, a file edited by hand) makes rrd_fetch,
 * rrd_info and rrd_lastupdate read out of bounds and crash the process,
 * and a FIFO in its place blocks it forever. Every reader of a study's
 * RRD files (analyzer, report, status, validator, collector) checks the
 * file here first, so that one bad file is that server's problem only.
 * No librrd: the layout of rrd_format.h (formats 0001 to 0005) is read
 * directly, in this machine's byte order and alignment.
 */
#ifndef KS_RRDFILE_H
#define KS_RRDFILE_H

#include "ks_error.h"

enum { KS_RRD_NAME_MAX = 20 }; /* ds and cf names, NUL included, as librrd's */

/* What the header says, for the messages of its readers. */
typedef struct ks_rrd_header {
    unsigned long nds, nrra, step;
    char (*ds_names)[KS_RRD_NAME_MAX]; /* nds names; free() it */
} ks_rrd_header;

/* Check path: a regular file (opened without blocking: a FIFO is refused,
 * never waited on), an RRD of a known format made on a machine like this
 * one, its counts, names, archive row counts and current rows sane, and
 * its size exactly what its header describes. h, when not NULL, gets the
 * header (free h->ds_names). 0, or -1 with err (KS_E_RRD, the message
 * "damaged RRD file 'PATH': WHAT" or "'PATH' is not a regular file ...").
 */
int ks_rrd_check(const char *path, ks_rrd_header *h, ks_error *err);

#endif
