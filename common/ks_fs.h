/* ks_fs.h: file system helpers that leave nothing half written. */
#ifndef KS_FS_H
#define KS_FS_H

#include <stdbool.h>
#include <stddef.h>

#include "ks_error.h"

/* Create a directory and its parents (mode 0755); an existing one is fine. */
int ks_mkdir_p(const char *path, ks_error *err);

/* Write data to path through a temporary file in the same directory,
 * fsync, then rename over path and fsync the directory: readers see the old
 * or the new file, never a part, and after a crash (power loss included)
 * path is the old or the new file. The temporary name is unique per process
 * and thread (several threads may replace the same path at once: the last
 * rename wins). mode is the new file's permission bits. This is the journal
 * primitive: every state file of kvmshift is replaced through it. */
int ks_write_file_atomic(const char *path, const void *data, size_t len, int mode, ks_error *err);

/* fsync the directory that holds path (after a rename or a create in it). */
int ks_fsync_parent(const char *path, ks_error *err);

/* rename(from, to); on failure from is removed and err says why. */
int ks_rename(const char *from, const char *to, ks_error *err);

/* Read a whole file (at most max bytes, else an error). Returns a
 * NUL-terminated buffer owned by the caller, its length in *len. Only a
 * regular file: anything else (a FIFO, a device) is refused at once,
 * naming what it is. */
char *ks_read_file(const char *path, size_t max, size_t *len, ks_error *err);

/* Copy the regular file from to the new file to (mode 0644), which must
 * not exist (O_EXCL: nothing is overwritten). Not atomic: meant for files
 * under a temporary directory that is renamed into place as a whole. On
 * failure nothing is left at to. */
int ks_copy_file(const char *from, const char *to, ks_error *err);

/* Remove path and, when it is a directory, everything under it. Symbolic
 * links are removed, never followed. A missing path is not an error. On
 * failure, err names the first entry that could not be removed (what was
 * removed before it stays removed). */
int ks_remove_tree(const char *path, ks_error *err);

/* An advisory lock (flock) on the file path, which is created when
 * missing. It is held until ks_lock_release, or until the process ends
 * (a holder killed with -9 frees it). Its holder writes "pid N, WHO"
 * into the file, so that a process that finds it taken can say who has
 * it (ks_lock_holder).
 * wait_s: 0 refuses at once, < 0 waits as long as it takes, else waits up
 * to wait_s seconds; on_wait(holder, arg), when not NULL, is called once
 * when it has to wait. On refusal, err (KS_E_USAGE, errno EWOULDBLOCK)
 * names what (e.g. "study '/srv/s'") and the holder. The lock's
 * descriptor (close-on-exec), or -1. */
int ks_lock_take(const char *path, const char *what, const char *who, double wait_s,
                 void (*on_wait)(const char *holder, void *arg), void *arg, ks_error *err);
void ks_lock_release(int fd);
/* The holder a lock file names ("pid N, WHO"; "" when it names none). */
void ks_lock_holder(int fd, char *out, size_t size);

/* What a file of st_mode mode is, for messages: "a FIFO", "a directory",
 * "a regular file", ... */
const char *ks_file_kind(unsigned mode);

bool ks_path_exists(const char *path);
bool ks_is_dir(const char *path);

/* dir + "/" + name, newly allocated. */
char *ks_path_join(const char *dir, const char *name);

#endif
