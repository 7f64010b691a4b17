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
    /* image directory, or "pool:NAME" for a libvirt storage pool: one of
     * this machine of type dir, fs or netfs is written in place; another
     * host's (target_uri qemu+ssh://...), or one that is not a directory,
     * gets raw volumes uploaded through libvirt from the images staged in
     * STUDY/p2v/SERVER/disks, as a delta; NULL: STUDY/p2v/SERVER/disks */
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
    /* a pool reached through libvirt (another host's, or not a directory):
     * the images were staged in STUDY/p2v/SERVER/disks, then uploaded */
    bool uploaded;
    size_t upload_sent, upload_same; /* chunks sent, chunks the volumes already held */
    uint64_t upload_bytes;
    double upload_seconds;
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

/* ---- part 2: conversion (p2v_convert.c) -------------------------------- */

typedef struct p2v_convert_options {
    bool dry_run; /* images read-only, nothing run: say what would change */
    bool quiet;   /* no progress bar */
} p2v_convert_options;

typedef struct p2v_convert_result {
    char os[256];            /* the inspected OS's product name */
    char initramfs_tool[32]; /* "initramfs-tools" or "dracut" */
    char boot_disk[64];      /* the source disk the VM boots from */
    size_t nchanges;
    char *changes;         /* one line per change (or what would be done) */
    json_t *network;       /* [{nic, mac, how}]: how each NIC keeps its name */
    size_t chunks_changed; /* chunks of the images the conversion wrote */
    double seconds;
} p2v_convert_result;

/* Convert the copied images of server (STUDY/p2v/SERVER/journal.json: every
 * disk completely copied) so that they boot on KVM with virtio disks and
 * NICs: virtio drivers in the initramfs, device names that change on KVM
 * rewritten, each NIC's name pinned to its kept MAC, hardware agents and
 * other hypervisors' tools disabled, a serial console, SELinux relabelling.
 * Refuses, before writing anything, a copy that cannot be converted (no OS,
 * not Linux, encrypted root, no kernel with virtio drivers, no initramfs
 * tool), saying why. Records the changes in the journal ("conversion").
 * 0, or -1 with err filled; *res is filled either way (free it with
 * p2v_convert_result_free). Uses libguestfs (LIBGUESTFS_BACKEND and
 * LIBGUESTFS_BACKEND_SETTINGS apply). */
int p2v_convert(const char *study_dir, const char *server, const p2v_convert_options *opt,
                p2v_convert_result *res, ks_error *err);
void p2v_convert_result_free(p2v_convert_result *res);

/* ---- part 2: registration (p2v_define.c) ------------------------------- */

typedef struct p2v_define_options {
    const char *target_uri;  /* libvirt of the KVM host; NULL: qemu:///system */
    const char *pool;        /* upload the images into this pool of that host first (a
                                delta); NULL: the images stay where they are (same machine) */
    unsigned vcpus;          /* 0: the plan's right-sizing */
    uint64_t memory_mib;     /* 0: the plan's */
    const char *virt_type;   /* "kvm" or "qemu"; NULL: study.ini [p2v] virt_type, else kvm */
    const char *console_log; /* the serial console also written to this file; NULL: not */
    bool start;              /* start the domain once defined */
    bool force;              /* replace an existing (stopped) domain's definition */
    bool dry_run;            /* build the XML only */
    bool unconverted;        /* define a copy that was not converted (tests, experts) */
    bool quiet;
} p2v_define_options;

typedef struct p2v_define_result {
    char *xml; /* the domain XML (defined, or with dry_run what would be) */
    char uuid[40];
    bool started;
    unsigned vcpus;
    uint64_t memory_mib;
    char cpu_note[256]; /* which CPU model, and why */
    size_t upload_sent; /* chunks uploaded into the pool */
    uint64_t upload_bytes;
} p2v_define_result;

/* Define server's converted copy as a libvirt domain (see p2v_define.c for
 * where each part of it comes from). 0, or -1 with err filled (an existing
 * domain without force, a running one, a copy not converted, no size, no
 * network in study.ini, libvirt's refusal). *res is filled either way;
 * free it with p2v_define_result_free. */
int p2v_define(const char *study_dir, const char *server, const p2v_define_options *opt,
               p2v_define_result *res, ks_error *err);
void p2v_define_result_free(p2v_define_result *res);

/* Stop and undefine the domain p2v_define made for server (the journal's
 * record: its libvirt URI and UUID), keeping its images: a migration
 * rolled back. A domain of that UUID that no longer has the server's name
 * is left alone (an error). 0 also when the journal records no domain, or
 * one undefined already, or libvirt no longer has it; *undefined (may be
 * NULL) says whether a domain was removed. -1 with err filled (libvirt
 * unreachable or refusing, the journal unreadable or locked). */
int p2v_undefine(const char *study_dir, const char *server, bool quiet, bool *undefined,
                 ks_error *err);

/* The state of the conversions of a study (server NULL: all), as a JSON
 * array of objects: server, state ("copying", "synced", "failed",
 * "interrupted"), percent, updated, synced_at, changed_percent, error,
 * disks, converted_at, domain_uri, and what the runs measured:
 * copy_seconds (the first complete copy, its resumptions summed; null
 * before), last_sync_seconds and last_changed_bytes (the last sync; null
 * when none), size_bytes (the disks'). NULL with err filled when a journal
 * cannot be read. */
json_t *p2v_status(const char *study_dir, const char *server, ks_error *err);

/* The units the last conversion of server disabled on its copy (hardware
 * agents, other hypervisors' tools: "hp-health.service"), read from its
 * journal: a new JSON array of strings, empty when there was none or no
 * conversion. NULL with err filled when the journal cannot be read (no
 * copy of server: KS_E_USAGE). */
json_t *p2v_disabled_units(const char *study_dir, const char *server, ks_error *err);

#endif
