/* p2v_internal.h: what the files of the P2V component share. */
#ifndef P2V_INTERNAL_H
#define P2V_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ks_buf.h"
#include "ks_error.h"

/* The names of the LVM snapshots the copy takes on the source start with
 * this (VG/ksp2v-LV); the copy's LVM metadata still lists them, and the
 * conversion removes them from the copy. */
#define P2V_SNAP_PREFIX "ksp2v-"

/* ---- the source's layout (p2v_layout.c) ------------------------------ */

typedef struct p2v_part {
    char *name;     /* "sda2" */
    char *disk;     /* "sda" */
    uint64_t start; /* bytes from the start of the disk */
    uint64_t size;
} p2v_part;

typedef struct p2v_srcdisk {
    char *name; /* "sda" */
    uint64_t size;
} p2v_srcdisk;

typedef struct p2v_pv {
    char *name; /* "/dev/sda2" */
    char *vg;
    uint64_t pe_start; /* bytes from the start of the PV to its first extent */
} p2v_pv;

typedef struct p2v_vg {
    char *name;
    uint64_t extent_size;
    uint64_t free_extents;
} p2v_vg;

/* One segment of a logical volume: logical extents [le, le + count) on
 * physical extents [pe, pe + count) of pv (linear segments only; others
 * have pv NULL). */
typedef struct p2v_seg {
    char *vg, *lv;
    uint64_t le, count;
    char *pv;
    uint64_t pe;
    char *attr;   /* lv_attr, "-wi-ao----"; 's' first for a snapshot */
    char *origin; /* the origin of a snapshot, "" otherwise */
    uint64_t lv_size;
    char *type; /* "linear", "striped", "thin", ... */
} p2v_seg;

typedef struct p2v_layout {
    uint32_t uid;
    bool have_uid;
    char *hash_tool; /* "b2sum", "sha256sum" or "md5sum" */
    bool have_gzip, have_zstd, dd_bytes;
    bool have_b2sum, have_sha256sum, have_md5sum;
    char *arch; /* uname -m, "" when not told */
    bool have_lvm;
    p2v_srcdisk *disks;
    size_t ndisks;
    p2v_part *parts;
    size_t nparts;
    p2v_pv *pvs;
    size_t npvs;
    p2v_vg *vgs;
    size_t nvgs;
    p2v_seg *segs;
    size_t nsegs;
} p2v_layout;

/* The shell text that prints the layout (POSIX sh, sysfs, lvm's reporting
 * commands; writes nothing). */
extern const char p2v_layout_command[];

/* Parse what p2v_layout_command printed. Unknown lines are skipped; a line
 * that is known but malformed is an error naming it. */
p2v_layout *p2v_layout_parse(const char *text, size_t len, const char *server, ks_error *err);
void p2v_layout_free(p2v_layout *l);
const p2v_srcdisk *p2v_layout_disk(const p2v_layout *l, const char *name);

/* ---- the source-side helper (p2v_helper_blob.c, p2v/helper/) ---------- */

/* The static ksp2v-helper program built with kvmshift, p2v_helper_size()
 * bytes (0: none was built), for machines whose `uname -m` is
 * p2v_helper_arch(). */
extern const unsigned char p2v_helper_blob[];
size_t p2v_helper_size(void);
const char *p2v_helper_arch(void);

/* ---- libvirt storage pools (p2v_pool.c) ------------------------------ */

/* Where the images for storage pool `pool` on libvirt `uri` go: 0 with
 * *dir set (the caller frees it) for a local active pool of type dir, fs
 * or netfs, written in place; 1 for an active pool reached through
 * libvirt only (another host's, or not a directory: LVM, iSCSI...), whose
 * volumes are uploaded (p2v_upload); -1 with err filled (cannot connect,
 * no such pool, inactive). */
int p2v_pool_probe(const char *uri, const char *pool, char **dir, ks_error *err);
/* Make libvirt list the images written into the pool as its volumes. */
int p2v_pool_refresh(const char *uri, const char *pool, ks_error *err);

/* A raw volume of a pool, written through libvirt's upload stream. */
typedef struct p2v_vol p2v_vol;
typedef enum p2v_vol_existing {
    P2V_VOL_REUSE,   /* ours (the journal says so): must have the disk's size */
    P2V_VOL_REFUSE,  /* not ours: an error saying --force */
    P2V_VOL_REPLACE, /* --force: deleted and created again */
} p2v_vol_existing;
/* Open volume `name` of `pool` (created when missing, capacity size,
 * sparse where the pool can). *zeroed: it was created now in a pool whose
 * new volumes read as zeros (a directory), so zero chunks need not be
 * sent. *created: it was made now (what the journal says of it is void). */
p2v_vol *p2v_vol_open(const char *uri, const char *pool, const char *name, uint64_t size,
                      p2v_vol_existing existing, bool *created, bool *zeroed, ks_error *err);
int p2v_vol_write(p2v_vol *v, uint64_t off, const void *data, size_t len, ks_error *err);
/* The volume's path on its host (for messages and the domain XML). */
char *p2v_vol_path(p2v_vol *v);
void p2v_vol_close(p2v_vol *v);

/* ---- hashing (p2v_hash.c) -------------------------------------------- */

/* Hex characters of a chunk's checksum kept in the journal and compared on
 * the source (a prefix of the tool's output: 128 bits). */
#define P2V_HASH_HEX 32

typedef struct p2v_hasher p2v_hasher;
/* tool: "b2sum", "sha256sum" or "md5sum" (the source's tool of that name
 * computes the same digest). NULL for an unknown one. */
p2v_hasher *p2v_hasher_new(const char *tool);
void p2v_hasher_free(p2v_hasher *h);
/* Full hex digest of data (as the tool prints it) into hex (>= 129 bytes). */
void p2v_hash_hex(p2v_hasher *h, const void *data, size_t len, char *hex);

/* ---- the chunk map of one disk (p2v_chunks.c) ------------------------- */

/* A source region a chunk is read from: a device and an offset in it, or
 * zeros (dev NULL) for the extents of kvmshift's own snapshots. */
typedef struct p2v_piece {
    const char *dev;
    uint64_t off, len;
} p2v_piece;

/* Where the bytes of a disk come from: by default the disk itself; a
 * range can be redirected to another device (an LVM snapshot of the LV
 * whose extents lie there) or to zeros. Ranges do not overlap. */
typedef struct p2v_redirect {
    uint64_t start, len; /* on the disk */
    char *dev;           /* NULL: zeros */
    uint64_t dev_off;
} p2v_redirect;

typedef struct p2v_sourcemap {
    char *disk_dev; /* "/dev/sda" */
    p2v_redirect *r;
    size_t nr;
} p2v_sourcemap;

/* Pieces of [off, off + len) of the disk, in order, into out (at most max;
 * returns the count, 0 when more than max would be needed). */
size_t p2v_sourcemap_pieces(const p2v_sourcemap *m, uint64_t off, uint64_t len, p2v_piece *out,
                            size_t max);
/* Redirect the disk's bytes of the LVs that have a snapshot in the layout
 * (kvmshift's, named by prefix) to that snapshot, and the snapshots' own
 * extents to zeros. Returns the number of LVs redirected. */
size_t p2v_sourcemap_from_layout(p2v_sourcemap *m, const p2v_layout *l, const char *disk,
                                 const char *snap_prefix);
void p2v_sourcemap_clear(p2v_sourcemap *m);

/* Per-chunk state of one disk: the checksum prefix of what the target
 * holds, or nothing when the chunk is not (durably) on the target. */
typedef struct p2v_chunkmap {
    uint64_t disk_size;
    uint32_t chunk_size;
    size_t n;
    char *hex; /* n * P2V_HASH_HEX characters, '.' for a chunk not on the target */
} p2v_chunkmap;

int p2v_chunkmap_init(p2v_chunkmap *m, uint64_t disk_size, uint32_t chunk_size);
void p2v_chunkmap_free(p2v_chunkmap *m);
bool p2v_chunkmap_present(const p2v_chunkmap *m, size_t i);
void p2v_chunkmap_set(p2v_chunkmap *m, size_t i, const char *hex);
void p2v_chunkmap_clear_one(p2v_chunkmap *m, size_t i);
size_t p2v_chunkmap_count_present(const p2v_chunkmap *m);
uint64_t p2v_chunk_len(const p2v_chunkmap *m, size_t i);
/* Load from the journal's string (checked: length, characters). */
int p2v_chunkmap_load(p2v_chunkmap *m, uint64_t disk_size, uint32_t chunk_size, const char *hex,
                      ks_error *err);
/* Chunks whose checksum differs between two maps of the same disk (the
 * delta of a sync), absent chunks of either counting as different. */
size_t p2v_chunkmap_diff(const p2v_chunkmap *a, const p2v_chunkmap *b);

#endif
