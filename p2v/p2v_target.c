/* p2v_target.c: where a copied disk goes. A backend per image format,
 * as a table of functions: raw (a sparse file written in place) and qcow2
 * (written through qemu-nbd, which libnbd starts by socket activation, so
 * that the image is a real qcow2 from the first chunk on and a resumed or
 * synced copy writes into it in place).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libnbd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ks_child.h"
#include "ks_mem.h"
#include "p2v_target.h"

struct p2v_target {
    const p2v_target_ops *ops;
    char *path;
    int fd;                 /* raw */
    struct nbd_handle *nbd; /* qcow2 */
};

static int io_error(const char *path, const char *what, int e, ks_error *err)
{
    if (e == ENOSPC || e == EDQUOT)
        ks_error_set(err, KS_E_IO, e,
                     "the target of '%s' is full (%s: %s): free space there, then run the same "
                     "command again: the copy resumes where it stopped",
                     path, what, strerror(e));
    else
        ks_error_set(err, KS_E_IO, e, "cannot write the image '%s' (%s): %s", path, what,
                     strerror(e));
    return -1;
}

/* ---- raw ----------------------------------------------------------------- */

static int raw_write(p2v_target *t, uint64_t off, const void *data, size_t len, ks_error *err)
{
    const char *p = data;
    while (len) {
        ssize_t n = pwrite(t->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return io_error(t->path, "writing", errno, err);
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int raw_read(p2v_target *t, uint64_t off, void *data, size_t len, ks_error *err)
{
    char *p = data;
    while (len) {
        ssize_t n = pread(t->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ks_error_set(err, KS_E_IO, n < 0 ? errno : 0, "cannot read the image '%s': %s", t->path,
                         n < 0 ? strerror(errno) : "it ends early");
            return -1;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int raw_zero(p2v_target *t, uint64_t off, size_t len, ks_error *err)
{
    if (fallocate(t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
    /* a file system without holes: write the zeros */
    static const char zeros[65536];
    while (len) {
        size_t n = len < sizeof zeros ? len : sizeof zeros;
        if (raw_write(t, off, zeros, n, err) < 0)
            return -1;
        off += n;
        len -= n;
    }
    return 0;
}

static int raw_flush(p2v_target *t, ks_error *err)
{
    if (fdatasync(t->fd) < 0)
        return io_error(t->path, "syncing", errno, err);
    return 0;
}

static int raw_open(p2v_target *t, uint64_t size, bool create, ks_error *err)
{
    t->fd = open(t->path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600);
    if (t->fd < 0) {
        ks_error_set(err, KS_E_IO, errno, "cannot %s the image '%s': %s",
                     create ? "create" : "open", t->path, strerror(errno));
        return -1;
    }
    if (create && ftruncate(t->fd, (off_t)size) < 0)
        return io_error(t->path, "setting its size", errno, err);
    struct stat st;
    if (fstat(t->fd, &st) == 0 && (uint64_t)st.st_size != size) {
        ks_error_set(err, KS_E_IO, 0,
                     "the image '%s' is %lld bytes, the disk %llu: it is not this disk's copy "
                     "(use --force to copy again)",
                     t->path, (long long)st.st_size, (unsigned long long)size);
        return -1;
    }
    return 0;
}

static void raw_close(p2v_target *t)
{
    if (t->fd >= 0)
        close(t->fd);
}

static const p2v_target_ops raw_ops = {
    .format = "raw",
    .open = raw_open,
    .write = raw_write,
    .read = raw_read,
    .zero = raw_zero,
    .flush = raw_flush,
    .close = raw_close,
};

/* ---- qcow2 --------------------------------------------------------------- */

static int nbd_fail(p2v_target *t, const char *what, ks_error *err)
{
    int e = nbd_get_errno();
    if (e == ENOSPC || e == EDQUOT)
        return io_error(t->path, what, e, err);
    ks_error_set(err, KS_E_IO, e, "cannot write the image '%s' through qemu-nbd (%s): %s", t->path,
                 what, nbd_get_error() ? nbd_get_error() : strerror(e));
    return -1;
}

static int run_qemu_img_create(const char *path, uint64_t size, ks_error *err)
{
    char sz[32];
    snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
    const char *const argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", path, sz, NULL};
    ks_child_opts o = {.flags = KS_CHILD_PIPE_OUT | KS_CHILD_ERR_TO_OUT};
    ks_error ce;
    ks_child *c = ks_child_spawn(argv, &o, &ce);
    if (!c) {
        ks_error_set(err, KS_E_IO, ce.errnum,
                     "cannot run qemu-img to create '%s': %s (install qemu-utils, or use "
                     "--format raw)",
                     path, strerror(ce.errnum));
        return -1;
    }
    /* its few lines of output, for the message */
    char said[512];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof said - 1 &&
           ((r = read(ks_child_fd(c, 1), said + n, sizeof said - 1 - n)) > 0 ||
            (r < 0 && errno == EINTR)))
        n += r > 0 ? (size_t)r : 0;
    said[n] = '\0';
    said[strcspn(said, "\n")] = '\0';
    ks_child_close_fd(c, 1);
    int status = 0;
    int w = ks_child_wait(c, 60, &status);
    ks_child_free(c);
    if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        ks_error_set(err, KS_E_IO, 0, "qemu-img could not create '%s': %s", path,
                     w < 0   ? "no answer within 60 s"
                     : *said ? said
                             : "it failed");
        unlink(path);
        return -1;
    }
    return 0;
}

bool p2v_image_wait_unlocked(const char *path, int secs, ks_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true;
    /* QEMU's locks: a byte per permission from 100, per shared permission
     * from 200 (block/file-posix.c); a write lock over them conflicts with
     * any other process's */
    bool freed = false;
    for (int i = 0; i <= secs * 10 && !freed; i++) {
        if (i)
            usleep(100 * 1000);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 200};
        freed = fcntl(fd, F_OFD_GETLK, &fl) < 0 || fl.l_type == F_UNLCK;
    }
    close(fd);
    if (!freed)
        ks_error_set(err, KS_E_IO, 0,
                     "the image '%s' is still in use by another process after %d s (a qemu "
                     "of an earlier run? see 'fuser -v %s')",
                     path, secs, path);
    return freed;
}

static int qcow2_open(p2v_target *t, uint64_t size, bool create, ks_error *err)
{
    if (create) {
        /* refuse to replace what is there (qemu-img would) */
        int fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            ks_error_set(err, KS_E_IO, errno, "cannot create the image '%s': %s", t->path,
                         strerror(errno));
            return -1;
        }
        close(fd);
        if (run_qemu_img_create(t->path, size, err) < 0)
            return -1;
    }
    if (!create && !p2v_image_wait_unlocked(t->path, 60, err))
        return -1;
    t->nbd = nbd_create();
    if (!t->nbd) {
        ks_error_set(err, KS_E_INTERNAL, 0, "libnbd: %s", nbd_get_error());
        return -1;
    }
    char *argv[] = {"qemu-nbd",          "-f",    "qcow2", "--discard=unmap",
                    "--cache=writeback", t->path, NULL};
    if (nbd_connect_systemd_socket_activation(t->nbd, argv) < 0) {
        ks_error_set(err, KS_E_IO, nbd_get_errno(),
                     "cannot open the image '%s' with qemu-nbd: %s (install qemu-utils, or use "
                     "--format raw)",
                     t->path, nbd_get_error());
        return -1;
    }
    int64_t got = nbd_get_size(t->nbd);
    if (got < 0 || (uint64_t)got != size) {
        ks_error_set(err, KS_E_IO, 0,
                     "the image '%s' is %lld bytes, the disk %llu: it is not this disk's copy "
                     "(use --force to copy again)",
                     t->path, (long long)got, (unsigned long long)size);
        return -1;
    }
    return 0;
}

static int qcow2_write(p2v_target *t, uint64_t off, const void *data, size_t len, ks_error *err)
{
    /* NBD requests are limited (32 MiB for qemu-nbd): chunks are smaller */
    while (len) {
        size_t n = len < (8u << 20) ? len : (8u << 20);
        if (nbd_pwrite(t->nbd, data, n, off, 0) < 0)
            return nbd_fail(t, "writing", err);
        data = (const char *)data + n;
        off += n;
        len -= n;
    }
    return 0;
}

static int qcow2_read(p2v_target *t, uint64_t off, void *data, size_t len, ks_error *err)
{
    while (len) {
        size_t n = len < (8u << 20) ? len : (8u << 20);
        if (nbd_pread(t->nbd, data, n, off, 0) < 0) {
            ks_error_set(err, KS_E_IO, nbd_get_errno(),
                         "cannot read the image '%s' through qemu-nbd: %s", t->path,
                         nbd_get_error() ? nbd_get_error() : strerror(nbd_get_errno()));
            return -1;
        }
        data = (char *)data + n;
        off += n;
        len -= n;
    }
    return 0;
}

static int qcow2_zero(p2v_target *t, uint64_t off, size_t len, ks_error *err)
{
    if (nbd_zero(t->nbd, len, off, 0) < 0)
        return nbd_fail(t, "zeroing", err);
    return 0;
}

static int qcow2_flush(p2v_target *t, ks_error *err)
{
    if (nbd_flush(t->nbd, 0) < 0)
        return nbd_fail(t, "syncing", err);
    return 0;
}

static void qcow2_close(p2v_target *t)
{
    if (t->nbd) {
        nbd_shutdown(t->nbd, 0);
        nbd_close(t->nbd); /* waits for qemu-nbd to exit */
    }
}

static const p2v_target_ops qcow2_ops = {
    .format = "qcow2",
    .open = qcow2_open,
    .write = qcow2_write,
    .read = qcow2_read,
    .zero = qcow2_zero,
    .flush = qcow2_flush,
    .close = qcow2_close,
};

const p2v_target_ops *p2v_target_ops_for(const char *format)
{
    if (strcmp(format, "raw") == 0)
        return &raw_ops;
    if (strcmp(format, "qcow2") == 0)
        return &qcow2_ops;
    return NULL;
}

p2v_target *p2v_target_open(const p2v_target_ops *ops, const char *path, uint64_t size, bool create,
                            ks_error *err)
{
    p2v_target *t = ks_calloc(1, sizeof *t);
    t->ops = ops;
    t->path = ks_strdup(path);
    t->fd = -1;
    if (ops->open(t, size, create, err) < 0) {
        p2v_target_close(t);
        if (create)
            unlink(path);
        return NULL;
    }
    return t;
}

int p2v_target_write(p2v_target *t, uint64_t off, const void *data, size_t len, ks_error *err)
{
    return t->ops->write(t, off, data, len, err);
}

int p2v_target_read(p2v_target *t, uint64_t off, void *data, size_t len, ks_error *err)
{
    return t->ops->read(t, off, data, len, err);
}

int p2v_target_zero(p2v_target *t, uint64_t off, size_t len, ks_error *err)
{
    return t->ops->zero(t, off, len, err);
}

int p2v_target_flush(p2v_target *t, ks_error *err)
{
    return t->ops->flush(t, err);
}

void p2v_target_close(p2v_target *t)
{
    if (!t)
        return;
    t->ops->close(t);
    free(t->path);
    free(t);
}
