/* p2v_target.h: image backends of the copy (raw file, qcow2). A backend
 * is a table of functions; adding a target (a libvirt storage volume, say)
 * is adding a table. A target is used by one thread at a time. */
#ifndef P2V_TARGET_H
#define P2V_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ks_error.h"

typedef struct p2v_target p2v_target;

typedef struct p2v_target_ops {
    const char *format;
    /* create (the file must not exist: nothing is overwritten) or open an
     * existing image of exactly size bytes */
    int (*open)(p2v_target *t, uint64_t size, bool create, ks_error *err);
    int (*write)(p2v_target *t, uint64_t off, const void *data, size_t len, ks_error *err);
    int (*read)(p2v_target *t, uint64_t off, void *data, size_t len, ks_error *err);
    /* make the range read as zeros, as a hole where the format can */
    int (*zero)(p2v_target *t, uint64_t off, size_t len, ks_error *err);
    /* everything written so far is durable when this returns 0 */
    int (*flush)(p2v_target *t, ks_error *err);
    void (*close)(p2v_target *t);
} p2v_target_ops;

/* "raw" or "qcow2"; NULL for anything else. */
const p2v_target_ops *p2v_target_ops_for(const char *format);

/* Errors say what to do: a full file system is KS_E_IO with errnum
 * ENOSPC and a message saying the copy resumes once space is freed. A
 * failed create removes what it made. */
p2v_target *p2v_target_open(const p2v_target_ops *ops, const char *path, uint64_t size, bool create,
                            ks_error *err);
int p2v_target_write(p2v_target *t, uint64_t off, const void *data, size_t len, ks_error *err);
/* What the image holds at [off, off + len) (holes read as zeros). */
int p2v_target_read(p2v_target *t, uint64_t off, void *data, size_t len, ks_error *err);
int p2v_target_zero(p2v_target *t, uint64_t off, size_t len, ks_error *err);
int p2v_target_flush(p2v_target *t, ks_error *err);
void p2v_target_close(p2v_target *t);

/* Wait up to secs seconds until no other process holds QEMU's image locks
 * on path (the bytes from 100 that qemu locks for its permissions): a run
 * killed in the middle leaves its qemu (qemu-nbd, the libguestfs appliance)
 * exiting for a moment, and a resumed run opening the image then would
 * fail on "Failed to get write lock". true when free (or path cannot be
 * opened: the caller's own open says why); false with err set when still
 * held at the end. */
bool p2v_image_wait_unlocked(const char *path, int secs, ks_error *err);

#endif
