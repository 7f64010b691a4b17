#define _GNU_SOURCE
#include "ks_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ks_mem.h"
#include "ks_time.h"

int ks_mkdir_p(const char *path, ks_error *err)
{
    if (!*path) {
        ks_error_set(err, KS_E_IO, ENOENT, "cannot create a directory with an empty name");
        return -1;
    }
    KS_AUTOFREE char *copy = ks_strdup(path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
            ks_error_set(err, KS_E_IO, errno, "cannot create directory '%s': %s", copy,
                         strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
        ks_error_set(err, KS_E_IO, errno, "cannot create directory '%s': %s", copy,
                     strerror(errno));
        return -1;
    }
    if (!ks_is_dir(copy)) {
        ks_error_set(err, KS_E_IO, ENOTDIR, "'%s' exists and is not a directory", copy);
        return -1;
    }
    return 0;
}

/* A temporary name next to path that no other process or thread uses:
 * pid, thread id and a process-wide counter (two threads writing the same
 * journal never share a temporary file). */
static char *temp_name(const char *path)
{
    static atomic_uint counter;
    unsigned n = atomic_fetch_add(&counter, 1);
    return ks_asprintf("%s.tmp.%ld.%ld.%u", path, (long)getpid(), (long)gettid(), n);
}

int ks_fsync_parent(const char *path, ks_error *err)
{
    KS_AUTOFREE char *dir = ks_strdup(path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        ks_error_set(err, KS_E_IO, e, "cannot sync directory '%s': %s", dir, strerror(e));
        return -1;
    }
    close(fd);
    return 0;
}

int ks_write_file_atomic(const char *path, const void *data, size_t len, int mode, ks_error *err)
{
    /* O_EXCL | O_NOFOLLOW: whatever is planted at the name (a symbolic
     * link to a file of the user's, a FIFO) is never opened; the next
     * name is tried */
    char *tmp = NULL;
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 8; tries++) {
        free(tmp);
        tmp = temp_name(path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    KS_AUTOFREE char *tmp_owned = tmp;
    if (fd < 0) {
        ks_error_set(err, KS_E_IO, errno, "cannot write '%s': %s", tmp, strerror(errno));
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            ks_error_set(err, KS_E_IO, e, "cannot write '%s': %s (is the disk full?)", tmp,
                         strerror(e));
            return -1;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        int e = errno;
        unlink(tmp);
        ks_error_set(err, KS_E_IO, e, "cannot write '%s': %s (is the disk full?)", tmp,
                     strerror(e));
        return -1;
    }
    if (ks_rename(tmp, path, err) < 0)
        return -1;
    /* the rename itself is durable only once the directory is */
    return ks_fsync_parent(path, err);
}

int ks_rename(const char *from, const char *to, ks_error *err)
{
    if (rename(from, to) < 0) {
        int e = errno;
        unlink(from);
        ks_error_set(err, KS_E_IO, e, "cannot rename '%s' to '%s': %s", from, to, strerror(e));
        return -1;
    }
    return 0;
}

const char *ks_file_kind(unsigned mode)
{
    return S_ISFIFO(mode)   ? "a FIFO"
           : S_ISDIR(mode)  ? "a directory"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
           : S_ISREG(mode)  ? "a regular file"
                            : "of an unknown kind";
}

char *ks_read_file(const char *path, size_t max, size_t *len, ks_error *err)
{
    /* O_NONBLOCK: a FIFO planted where a file is expected is refused below,
     * never waited on */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        ks_error_set(err, KS_E_IO, errno, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        ks_error_set(err, KS_E_IO, errno, "cannot read '%s': %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        ks_error_set(err, KS_E_IO, EINVAL, "'%s' is %s, not a regular file: move it away", path,
                     ks_file_kind(st.st_mode));
        close(fd);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = ks_malloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            if (n > max) {
                ks_error_set(err, KS_E_IO, EFBIG, "'%s' is larger than %zu bytes", path, max);
                free(buf);
                close(fd);
                return NULL;
            }
            cap *= 2;
            buf = ks_realloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            ks_error_set(err, KS_E_IO, errno, "cannot read '%s': %s", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max) {
        ks_error_set(err, KS_E_IO, EFBIG, "'%s' is larger than %zu bytes", path, max);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int ks_copy_file(const char *from, const char *to, ks_error *err)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        ks_error_set(err, KS_E_IO, errno, "cannot open '%s': %s", from, strerror(errno));
        return -1;
    }
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        ks_error_set(err, KS_E_IO, errno, "cannot create '%s': %s", to, strerror(errno));
        close(in);
        return -1;
    }
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ks_error_set(err, KS_E_IO, errno, "cannot read '%s': %s", from, strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                ks_error_set(err, KS_E_IO, errno, "cannot write '%s': %s (is the disk full?)", to,
                             strerror(errno));
                goto fail;
            }
            done += w;
        }
    }
    close(in);
    if (close(out) < 0) {
        ks_error_set(err, KS_E_IO, errno, "cannot write '%s': %s (is the disk full?)", to,
                     strerror(errno));
        unlink(to);
        return -1;
    }
    return 0;
fail:
    close(in);
    close(out);
    unlink(to);
    return -1;
}

/* Remove name in the directory parent (path names it in messages). */
static int remove_at(int parent, const char *name, const char *path, int depth, ks_error *err)
{
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        ks_error_set(err, KS_E_IO, errno, "cannot remove '%s': %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth > 64) {
            ks_error_set(err, KS_E_IO, ELOOP, "cannot remove '%s': nested too deep", path);
            return -1;
        }
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
            ks_error_set(err, KS_E_IO, errno, "cannot remove '%s': %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        struct dirent *de;
        int rc = 0;
        while (rc == 0 && (de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            KS_AUTOFREE char *sub = ks_path_join(path, de->d_name);
            rc = remove_at(dirfd(d), de->d_name, sub, depth + 1, err);
        }
        closedir(d);
        if (rc < 0)
            return -1;
    }
    if (unlinkat(parent, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT) {
        ks_error_set(err, KS_E_IO, errno, "cannot remove '%s': %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int ks_remove_tree(const char *path, ks_error *err)
{
    return remove_at(AT_FDCWD, path, path, 0, err);
}

bool ks_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

bool ks_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *ks_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    if (n && dir[n - 1] == '/')
        return ks_asprintf("%s%s", dir, name);
    return ks_asprintf("%s/%s", dir, name);
}

void ks_lock_holder(int fd, char *out, size_t size)
{
    ssize_t k = size > 1 ? pread(fd, out, size - 1, 0) : 0;
    out[k > 0 ? k : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
}

int ks_lock_take(const char *path, const char *what, const char *who, double wait_s,
                 void (*on_wait)(const char *holder, void *arg), void *arg, ks_error *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    int first = errno;
    if (fd < 0 && (errno == EROFS || errno == EACCES))
        /* a read-only directory: flock works on a read-only descriptor
         * (the holder goes unnamed), and the writer's own error says why
         * it cannot write there */
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno == ENOENT ? first : errno;
        ks_error_set(err, KS_E_IO, e, "cannot open the lock file '%s': %s", path, strerror(e));
        return -1;
    }
    double t0 = ks_time_mono();
    bool told = false;
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        if (e == EINTR)
            continue;
        char holder[256];
        ks_lock_holder(fd, holder, sizeof holder);
        if (e != EWOULDBLOCK) {
            ks_error_set(err, KS_E_IO, e, "cannot lock '%s': %s", path, strerror(e));
            close(fd);
            return -1;
        }
        if (wait_s == 0 || (wait_s > 0 && ks_time_mono() - t0 >= wait_s)) {
            ks_error_set(err, KS_E_USAGE, EWOULDBLOCK,
                         "%s is in use by another kvmshift (%s; %s is its lock): wait for it to "
                         "end, or stop it first",
                         what, *holder ? holder : "its pid not written yet", path);
            close(fd);
            return -1;
        }
        if (!told && on_wait)
            on_wait(*holder ? holder : "its pid not written yet", arg);
        told = true;
        usleep(100000);
    }
    char me[300];
    int len = snprintf(me, sizeof me, "pid %ld, %s\n", (long)getpid(), who);
    if (len >= (int)sizeof me)
        len = (int)sizeof me - 1;
    /* (only the holder writes it; a reader may see it empty for a moment) */
    if (ftruncate(fd, 0) < 0 || pwrite(fd, me, (size_t)len, 0) < 0) {
        /* the lock holds without it; only the naming is lost */
    }
    return fd;
}

void ks_lock_release(int fd)
{
    if (fd < 0)
        return;
    /* emptied first: a waiter that reads it in between names nobody */
    if (ftruncate(fd, 0) < 0) {
        /* the lock goes with the close anyway */
    }
    close(fd);
}
