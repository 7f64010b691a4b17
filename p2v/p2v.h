/* p2v.h: the P2V engine, part 1: copy a running server's disks over SSH
 * into images, live, and later send only what changed (delta sync).
 *
 * Nothing is written on the source but, where its data sits on LVM with
 * free extents, a temporary snapshot per logical volume (a crash-consistent
 * point in time for that volume, removed afterwards, also on failure, on
 * Ctrl-C, and by the source itself when the connection drops). The source
 * runs sh, dd, its checksum tool and, when present, gzip or zstd; or, where
 * it can (same architecture as kvmshift's, a directory where programs may
 * run), ksp2v-helper, a static program uploaded into a fresh directory
 * for the duration of the copy and removed with it, which reads and checks
 * chunks without starting programs per chunk.
 *
 * State lives in STUDY/p2v/SERVER/journal.json (replaced atomically): each
 * disk, its size, chunk size, the checksum of every chunk the target holds
 * durably. An interrupted copy resumes chunk by chunk; a sync compares
 * every chunk's checksum on the source with the journal's and sends the
 * changed ones only.
 */
#ifndef P2V_H
#define P2V_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ks_error.h"

typedef enum p2v_format { P2V_QCOW2, P2V_RAW } p2v_format;

typedef enum p2v_compress {
    P2V_COMPRESS_AUTO, /* measured per link: whichever moves data fastest */
    P2V_COMPRESS_NONE,
    P2V_COMPRESS_GZIP,
    P2V_COMPRESS_ZSTD,
} p2v_compress;

typedef struct p2v_copy_options {
    /* image directory, or "pool:NAME" for a libvirt storage pool of this
     * machine (type dir, fs or netfs); NULL: STUDY/p2v/SERVER/disks */
    const char *to;
    const char *target_uri; /* libvirt URI of the pool; NULL: qemu:///system */
    p2v_format format;
    bool sync;                /* examine every chunk, send the changed ones */
    bool force;               /* start over: existing images and journal replaced */
    bool snapshot;            /* use LVM snapshots where possible (default true) */
    bool no_helper;           /* never upload ksp2v-helper: the shell loop only */
    const char *const *disks; /* copy only these disks of the facts (--disk); ndisks 0: all */
    size_t ndisks;
    bool accept_new_hostkeys;
    bool quiet;
    uint32_t chunk_size; /* bytes; 0: 4 MiB */
    unsigned jobs;       /* disks copied at once; 0: all */
    p2v_compress compress;
    double timeout; /* seconds without progress before a connection is given up; 0: 120 */
} p2v_copy_options;

typedef struct p2v_disk_result {
    char name[64];
    uint64_t size;
    size_t chunks, examined, sent, zero, same, resent, skipped_present, failed;
    uint64_t bytes_data; /* uncompressed bytes of the chunks sent */
    uint64_t bytes_wire; /* bytes received from the source for them */
    size_t changed;      /* sync: chunks whose checksum changed since the journal */
    uint64_t changed_bytes;
    double seconds;
    char image[4096];
    char mode[32];   /* the compression used most */
    char reader[32]; /* what read it on the source: "ksp2v-helper" or "sh+dd+TOOL" */
} p2v_disk_result;

typedef struct p2v_copy_result {
    p2v_disk_result *disks;
    size_t ndisks;
    bool complete;         /* every chunk of every disk is on the target */
    bool snapshotted;      /* every LVM volume was read through a snapshot */
    char consistency[512]; /* what the copy's point in time is, in words */
    double seconds;
} p2v_copy_result;

/* Copy (or resume, or with opt->sync update) the disks of server into
 * images. Returns 0 when every chunk is on the target, 1 when the copy
 * stopped before (interrupted by a signal, a chunk that kept changing
 * while read: run again), -1 with err filled on failure (the journal is
 * consistent and the next run resumes). *res (may be NULL) is filled
 * either way; free it with p2v_copy_result_free. */
int p2v_copy(const char *study_dir, const char *server, const p2v_copy_options *opt,
             p2v_copy_result *res, ks_error *err);
void p2v_copy_result_free(p2v_copy_result *res);

/* The state of the conversions of a study (server NULL: all), as a JSON
 * array of objects: server, state ("copying", "synced", "failed",
 * "interrupted"), percent, updated, synced_at, changed_percent, error,
 * disks. NULL with err filled when a journal cannot be read. */
json_t *p2v_status(const char *study_dir, const char *server, ks_error *err);

#endif
