/* ks_child.c: child processes (fork + exec), their pipes and deadlines.
 *
 * fork rather than posix_spawn: setsid, the closing of every other
 * descriptor and the reset of SIGPIPE are plain calls in the child. Whether
 * exec worked comes back through a close-on-exec pipe (EOF: it did; four
 * bytes: its errno), so a missing program fails ks_child_spawn instead of
 * looking like a program that exits 127. Deadlines wait on a pidfd where
 * the kernel has them (Linux 5.3), else on short sleeps.
 */
#define _GNU_SOURCE /* pipe2, execvpe */
#include "ks_child.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ks_mem.h"
#include "ks_time.h"

extern char **environ;

struct ks_child {
    pid_t pid;
    unsigned flags;
    int fd[3];      /* the caller's ends of the pipes, -1: none */
    int pidfd;      /* readable once the child has exited, -1: none */
    bool reaped;    /* waited for (or lost: wait_errno) */
    bool timed_out; /* stopped by ks_child_wait's deadline */
    int wait_errno; /* waitpid's failure (ECHILD), 0: none */
    int status;     /* waitpid status once reaped */
};

static const unsigned pipe_flag[3] = {KS_CHILD_PIPE_IN, KS_CHILD_PIPE_OUT, KS_CHILD_PIPE_ERR};

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Is NAME of entry "NAME=value" set by one of add? */
static bool env_replaced(const char *entry, const char *const *add)
{
    size_t len = strcspn(entry, "=");
    for (; *add; add++)
        if (strncmp(*add, entry, len) == 0 && (*add)[len] == '=')
            return true;
    return false;
}

/* The caller's environment with add set; the array is new, its strings
 * are borrowed. Made before fork: the child must not allocate. */
static char **env_build(const char *const *add)
{
    size_t ne = 0, na = 0;
    while (environ[ne])
        ne++;
    while (add[na])
        na++;
    char **v = ks_calloc(ne + na + 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        if (!env_replaced(environ[i], add))
            v[k++] = environ[i];
    for (size_t i = 0; i < na; i++)
        v[k++] = (char *)add[i];
    return v;
}

/* Close every descriptor from `from` up; maxfd bounds the fallback loop
 * (close_range needs Linux 5.9). */
static void close_from(int from, long maxfd)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)from, ~0U, 0) == 0)
        return;
#endif
    for (long fd = from; fd < maxfd; fd++)
        close((int)fd);
}

/* In the child: only async-signal-safe calls from here to exec. src[i] is
 * what becomes descriptor i; report is the write end of the exec pipe. */
static _Noreturn void child_exec(const char *const argv[], const int src[3], int report,
                                 unsigned flags, char *const envp[], long maxfd)
{
    int moved[3];
    int e;
    /* handlers are reset by exec, an ignored signal is not */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGPIPE, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if ((flags & KS_CHILD_GROUP) && setsid() < 0)
        goto fail;
    /* everything above 2 first, so that no dup2 below overwrites a source
     * (a caller with a closed stdin gets pipes numbered 0 to 2) */
    if ((report = fcntl(report, F_DUPFD_CLOEXEC, 3)) < 0)
        _exit(127);
    for (int i = 0; i < 3; i++)
        if ((moved[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3)) < 0)
            goto fail;
    for (int i = 0; i < 3; i++)
        if (dup2(moved[i], i) < 0)
            goto fail;
    if (report != 3) {
        if (dup2(report, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
            goto fail;
        report = 3;
    }
    close_from(4, maxfd);
    execvpe(argv[0], (char *const *)argv, envp ? envp : environ);
fail:
    e = errno;
    while (write(report, &e, sizeof e) < 0 && errno == EINTR)
        ;
    _exit(127);
}

ks_child *ks_child_spawn(const char *const argv[], const ks_child_opts *opts, ks_error *err)
{
    static const ks_child_opts none = {0};
    if (!opts)
        opts = &none;
    unsigned fl = opts->flags;
    int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    int report[2] = {-1, -1};
    int devnull = -1, outfile = -1;
    int src[3];
    char **envp = NULL;
    ks_child *c = NULL;
    int child_errno = 0;
    ssize_t n;
    long maxfd = sysconf(_SC_OPEN_MAX);
    pid_t pid;

    for (int i = 0; i < 3; i++)
        if ((fl & pipe_flag[i]) && pipe2(pipes[i], O_CLOEXEC) < 0)
            goto sys_fail;
    if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
        goto sys_fail;
    if (!(fl & KS_CHILD_PIPE_OUT) && opts->out_file) {
        outfile = open(opts->out_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (outfile < 0) {
            ks_error_set(err, KS_E_IO, errno, "cannot create '%s' for the output of '%s': %s",
                         opts->out_file, argv[0], strerror(errno));
            goto out;
        }
    }
    src[0] = fl & KS_CHILD_PIPE_IN ? pipes[0][0] : devnull;
    src[1] = fl & KS_CHILD_PIPE_OUT ? pipes[1][1] : outfile >= 0 ? outfile : devnull;
    src[2] = fl & KS_CHILD_PIPE_ERR ? pipes[2][1] : fl & KS_CHILD_ERR_TO_OUT ? src[1] : devnull;
    if (pipe2(report, O_CLOEXEC) < 0)
        goto sys_fail;
    if (opts->env)
        envp = env_build(opts->env);
    if (maxfd < 0)
        maxfd = 1024;

    pid = fork();
    if (pid < 0)
        goto sys_fail;
    if (pid == 0)
        child_exec(argv, src, report[1], fl, envp, maxfd);
    close_fd(&report[1]);
    while ((n = read(report[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR)
        ;
    if (n > 0) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        ks_error_set(err, KS_E_IO, child_errno, "cannot run '%s': %s", argv[0],
                     strerror(child_errno));
        goto out;
    }

    c = ks_calloc(1, sizeof *c);
    c->pid = pid;
    c->flags = fl;
    c->pidfd = -1;
#ifdef SYS_pidfd_open
    c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
    for (int i = 0; i < 3; i++) {
        /* the caller writes stdin's pipe and reads the others */
        c->fd[i] = pipes[i][i == 0 ? 1 : 0];
        pipes[i][i == 0 ? 1 : 0] = -1;
        if (c->fd[i] >= 0 && (fl & KS_CHILD_NONBLOCK))
            fcntl(c->fd[i], F_SETFL, fcntl(c->fd[i], F_GETFL) | O_NONBLOCK);
    }
    goto out;

sys_fail:
    ks_error_set(err, KS_E_IO, errno, "cannot start '%s': %s", argv[0], strerror(errno));
out:
    for (int i = 0; i < 3; i++) {
        close_fd(&pipes[i][0]);
        close_fd(&pipes[i][1]);
    }
    close_fd(&report[0]);
    close_fd(&report[1]);
    close_fd(&devnull);
    close_fd(&outfile);
    free(envp);
    return c;
}

pid_t ks_child_pid(const ks_child *c)
{
    return c->pid;
}

int ks_child_fd(const ks_child *c, int stream)
{
    return stream >= 0 && stream < 3 ? c->fd[stream] : -1;
}

void ks_child_close_fd(ks_child *c, int stream)
{
    if (stream >= 0 && stream < 3)
        close_fd(&c->fd[stream]);
}

/* Reap the child if it has exited (block: once it has); true when it is
 * reaped or cannot be waited for (wait_errno). */
static bool reap(ks_child *c, bool block)
{
    while (!c->reaped) {
        int st;
        pid_t r = waitpid(c->pid, &st, block ? 0 : WNOHANG);
        if (r == c->pid) {
            c->status = st;
            c->reaped = true;
        } else if (r == 0) {
            return false;
        } else if (errno != EINTR) {
            c->wait_errno = errno;
            c->status = -1;
            c->reaped = true;
        }
    }
    close_fd(&c->pidfd);
    return true;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Reap before the monotonic time until; false when it passed first. */
static bool reap_until(ks_child *c, double until)
{
    double nap = 0.001; /* without a pidfd: 1 ms, growing to 50 ms */
    for (;;) {
        if (reap(c, false))
            return true;
        double left = until - ks_time_mono();
        if (left <= 0)
            return false;
        if (c->pidfd >= 0) {
            struct pollfd p = {.fd = c->pidfd, .events = POLLIN};
            poll(&p, 1, left > 60 ? 60000 : (int)ceil(left * 1000)); /* EINTR: look again */
        } else {
            sleep_s(nap < left ? nap : left);
            nap = nap * 2 > 0.05 ? 0.05 : nap * 2;
        }
    }
}

void ks_child_kill(ks_child *c, double grace_s)
{
    if (!c || c->reaped)
        return;
    bool group = c->flags & KS_CHILD_GROUP;
    pid_t target = group ? -c->pid : c->pid;
    if (grace_s > 0) {
        double until = ks_time_mono() + grace_s;
        kill(target, SIGTERM);
        if (reap_until(c, until) && !group)
            return;
    }
    /* with a group, what is left of it once the child is gone: an orphan
     * that outlives the child is a zombie (still a member) until init
     * reaps it, so waiting for an empty group could last the whole grace */
    kill(target, SIGKILL);
    reap(c, true);
}

int ks_child_wait(ks_child *c, double timeout_s, int *status)
{
    if (!c->reaped) {
        if (timeout_s < 0)
            reap(c, true);
        else if (!reap_until(c, ks_time_mono() + timeout_s)) {
            ks_child_kill(c, KS_CHILD_GRACE_S);
            c->timed_out = true;
        }
    }
    if (status)
        *status = c->status;
    if (c->wait_errno) {
        errno = c->wait_errno;
        return -1;
    }
    if (c->timed_out) {
        errno = ETIMEDOUT;
        return -1;
    }
    return 0;
}

void ks_child_free(ks_child *c)
{
    if (!c)
        return;
    for (int i = 0; i < 3; i++)
        close_fd(&c->fd[i]);
    ks_child_kill(c, 0);
    /* helpers it left behind (the group outlives its leader); the group's
     * number stays taken while a member lives, so this cannot reach another
     * group unless it is empty and the pid numbers wrapped since the reap */
    if ((c->flags & KS_CHILD_GROUP) && !c->wait_errno)
        kill(-c->pid, SIGKILL);
    close_fd(&c->pidfd);
    free(c);
}
