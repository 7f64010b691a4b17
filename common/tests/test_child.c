/* test_child.c: ks_child: exit status, pipes both ways, out_file and the
 * environment, a missing program, a child that outlives its deadline and
 * is stopped with its whole process group, a child that ignores SIGTERM,
 * descriptors and SIGPIPE as the child sees them. */
#define _GNU_SOURCE /* prctl */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ks_buf.h"
#include "ks_child.h"
#include "ks_fs.h"
#include "ks_mem.h"
#include "ks_time.h"
#include "ks_test.h"

/* Read fd to its end into a new string. */
static char *read_all(int fd)
{
    ks_buf b;
    ks_buf_init(&b, 1 << 20);
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        ks_buf_append(&b, buf, (size_t)n);
    }
    return ks_buf_steal(&b);
}

/* Read one line (without its newline) from fd, byte by byte: the rest of
 * the pipe is left alone. */
static char *read_line(int fd)
{
    ks_buf b;
    ks_buf_init(&b, 4096);
    char ch;
    while (read(fd, &ch, 1) == 1 && ch != '\n')
        ks_buf_append(&b, &ch, 1);
    return ks_buf_steal(&b);
}

static ks_child *sh(const char *script, const ks_child_opts *opts)
{
    const char *argv[] = {"sh", "-c", script, NULL};
    ks_error e;
    ks_child *c = ks_child_spawn(argv, opts, &e);
    if (!c)
        fprintf(stderr, "%s\n", e.message);
    return c;
}

KS_TEST(child_exits)
{
    ks_child *c = sh("exit 3", NULL);
    KS_CHECK(c && ks_child_pid(c) > 0);
    KS_CHECK(ks_child_fd(c, 0) == -1 && ks_child_fd(c, 1) == -1 && ks_child_fd(c, 2) == -1);
    int st = 0;
    KS_CHECK(ks_child_wait(c, 10, &st) == 0);
    KS_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    /* waited for already: the same status again */
    st = 0;
    KS_CHECK(ks_child_wait(c, 0, &st) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 3);
    ks_child_free(c);
    ks_child_free(NULL);
}

KS_TEST(child_pipes_both_ways)
{
    const char *argv[] = {"cat", NULL};
    ks_child_opts o = {.flags = KS_CHILD_PIPE_IN | KS_CHILD_PIPE_OUT};
    ks_child *c = ks_child_spawn(argv, &o, NULL);
    KS_CHECK(c);
    if (!c)
        return;
    const char msg[] = "through cat and back\n";
    KS_CHECK(write(ks_child_fd(c, 0), msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1));
    ks_child_close_fd(c, 0);
    KS_CHECK(ks_child_fd(c, 0) == -1);
    ks_child_close_fd(c, 0); /* twice: a no-op */
    KS_AUTOFREE char *out = read_all(ks_child_fd(c, 1));
    KS_CHECK_STR(out, msg);
    int st = -1;
    KS_CHECK(ks_child_wait(c, -1, &st) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ks_child_free(c);

    /* stdout and stderr apart, non-blocking ends */
    ks_child_opts o2 = {.flags = KS_CHILD_PIPE_OUT | KS_CHILD_PIPE_ERR | KS_CHILD_NONBLOCK};
    c = sh("echo out; echo err >&2", &o2);
    KS_CHECK(c);
    if (!c)
        return;
    KS_CHECK(fcntl(ks_child_fd(c, 1), F_GETFL) & O_NONBLOCK);
    KS_CHECK(ks_child_wait(c, 10, &st) == 0); /* a few bytes fit in the pipes */
    KS_AUTOFREE char *o_out = read_all(ks_child_fd(c, 1));
    KS_AUTOFREE char *o_err = read_all(ks_child_fd(c, 2));
    KS_CHECK_STR(o_out, "out\n");
    KS_CHECK_STR(o_err, "err\n");
    ks_child_free(c);
}

KS_TEST(child_out_file_and_env)
{
    char dir[] = "/tmp/ks-test-child-XXXXXX";
    KS_CHECK(mkdtemp(dir) != NULL);
    KS_AUTOFREE char *log = ks_path_join(dir, "out.log");
    const char *env[] = {"KS_TEST_CHILD=yes", "HOME=/nowhere", NULL};
    ks_child_opts o = {.flags = KS_CHILD_ERR_TO_OUT, .out_file = log, .env = env};
    ks_child *c = sh("echo \"$KS_TEST_CHILD $HOME\"; echo to-stderr >&2; test -n \"$PATH\"", &o);
    KS_CHECK(c);
    int st = -1;
    KS_CHECK(c && ks_child_wait(c, 10, &st) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ks_child_free(c);
    KS_AUTOFREE char *text = ks_read_file(log, 4096, NULL, NULL);
    KS_CHECK_STR(text, "yes /nowhere\nto-stderr\n");

    /* an out_file that cannot be created: an error, no child */
    ks_error e;
    ks_child_opts bad = {.out_file = "/nonexistent/dir/out.log"};
    const char *argv[] = {"true", NULL};
    KS_CHECK(ks_child_spawn(argv, &bad, &e) == NULL && e.code == KS_E_IO &&
             strstr(e.message, "/nonexistent/dir/out.log"));
    unlink(log);
    rmdir(dir);
}

KS_TEST(child_missing_program)
{
    ks_error e;
    const char *abs[] = {"/nonexistent/kvmshift-test-program", NULL};
    KS_CHECK(ks_child_spawn(abs, NULL, &e) == NULL);
    KS_CHECK(e.errnum == ENOENT && strstr(e.message, "cannot run '/nonexistent/"));
    const char *in_path[] = {"kvmshift-no-such-program", "--help", NULL};
    ks_child_opts o = {.flags = KS_CHILD_PIPE_IN | KS_CHILD_PIPE_OUT | KS_CHILD_GROUP};
    KS_CHECK(ks_child_spawn(in_path, &o, &e) == NULL);
    KS_CHECK(e.errnum == ENOENT && strstr(e.message, "kvmshift-no-such-program"));
    /* not executable */
    const char *noexec[] = {"/etc/passwd", NULL};
    KS_CHECK(ks_child_spawn(noexec, NULL, &e) == NULL && e.errnum == EACCES);
}

/* Is the grandchild pid gone, by signal sig (or sig2), within a few
 * seconds? As a subreaper we reap it once its parent has died; ECHILD
 * means the parent reaped it first (it died before its parent did), and
 * then there must be no such process. */
static bool gone_by_signal(pid_t pid, int sig, int sig2)
{
    double until = ks_time_mono() + 5;
    while (ks_time_mono() < until) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFSIGNALED(st) && (WTERMSIG(st) == sig || WTERMSIG(st) == sig2);
        if (r < 0 && errno == ECHILD)
            return kill(pid, 0) < 0 && errno == ESRCH;
        if (r < 0 && errno != EINTR)
            return false;
        usleep(10000);
    }
    return false;
}

KS_TEST(child_deadline_stops_the_group)
{
    /* orphans come to us, so that the grandchild's end can be seen */
    KS_CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    ks_child_opts o = {.flags = KS_CHILD_PIPE_OUT | KS_CHILD_GROUP};
    ks_child *c = sh("sleep 100 & echo $!; sleep 100", &o);
    KS_CHECK(c);
    if (!c)
        return;
    KS_AUTOFREE char *line = read_line(ks_child_fd(c, 1));
    pid_t grandchild = (pid_t)atol(line);
    KS_CHECK(grandchild > 0);
    double t0 = ks_time_mono();
    int st = 0;
    errno = 0;
    KS_CHECK(ks_child_wait(c, 0.3, &st) == -1 && errno == ETIMEDOUT);
    double took = ks_time_mono() - t0;
    KS_CHECK(took >= 0.29 && took < 0.3 + KS_CHILD_GRACE_S);
    KS_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    KS_CHECK(grandchild > 0 && gone_by_signal(grandchild, SIGTERM, SIGKILL));
    /* asked again: still the deadline */
    KS_CHECK(ks_child_wait(c, 10, NULL) == -1 && errno == ETIMEDOUT);
    ks_child_free(c);
}

KS_TEST(child_kill_after_grace)
{
    /* SIGTERM ignored (and inherited by sleep): SIGKILL after the grace */
    ks_child_opts o = {.flags = KS_CHILD_PIPE_OUT | KS_CHILD_GROUP};
    ks_child *c = sh("trap '' TERM; sleep 100 & echo $!; sleep 100", &o);
    KS_CHECK(c);
    if (!c)
        return;
    KS_AUTOFREE char *line = read_line(ks_child_fd(c, 1));
    pid_t grandchild = (pid_t)atol(line);
    double t0 = ks_time_mono();
    ks_child_kill(c, 0.2);
    double took = ks_time_mono() - t0;
    KS_CHECK(took >= 0.19 && took < 2);
    int st = 0;
    KS_CHECK(ks_child_wait(c, 0, &st) == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    KS_CHECK(grandchild > 0 && gone_by_signal(grandchild, SIGKILL, SIGKILL));
    ks_child_free(c);

    /* without a group, only the child; free stops one that still runs */
    c = sh("exec sleep 100", NULL);
    KS_CHECK(c);
    t0 = ks_time_mono();
    ks_child_free(c);
    KS_CHECK(ks_time_mono() - t0 < 2);
}

KS_TEST(child_sees_no_other_fds_and_default_sigpipe)
{
    int fd = open("/dev/null", O_RDONLY); /* without O_CLOEXEC */
    KS_CHECK(dup2(fd, 57) == 57);
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    ks_child_opts o = {.flags = KS_CHILD_PIPE_OUT};
    /* fd 57 closed; SIGPIPE (bit 13) not in grep's SigIgn mask */
    ks_child *c = sh("if test -e /proc/self/fd/57; then echo leaked; else echo closed; fi; "
                     "grep '^SigIgn:' /proc/self/status",
                     &o);
    sigaction(SIGPIPE, &old, NULL);
    KS_CHECK(c);
    if (c) {
        KS_AUTOFREE char *out = read_all(ks_child_fd(c, 1));
        KS_CHECK(strncmp(out, "closed\n", 7) == 0);
        const char *m = strstr(out, "SigIgn:");
        unsigned long long mask = m ? strtoull(m + 7, NULL, 16) : ~0ULL;
        KS_CHECK(!(mask & (1ULL << (SIGPIPE - 1))));
        KS_CHECK(ks_child_wait(c, 10, NULL) == 0);
        ks_child_free(c);
    }
    close(57);
    close(fd);
}

KS_TEST(child_with_stdin_closed)
{
    /* a caller without stdin: the pipes get numbers 0 to 2 and must still
     * land on the right streams */
    int saved = dup(0);
    close(0);
    const char *argv[] = {"cat", NULL};
    ks_child_opts o = {.flags = KS_CHILD_PIPE_IN | KS_CHILD_PIPE_OUT};
    ks_child *c = ks_child_spawn(argv, &o, NULL);
    dup2(saved, 0);
    close(saved);
    KS_CHECK(c);
    if (!c)
        return;
    KS_CHECK(write(ks_child_fd(c, 0), "x\n", 2) == 2);
    ks_child_close_fd(c, 0);
    KS_AUTOFREE char *out = read_all(ks_child_fd(c, 1));
    KS_CHECK_STR(out, "x\n");
    ks_child_free(c);
}

int main(void)
{
    KS_RUN(child_exits);
    KS_RUN(child_pipes_both_ways);
    KS_RUN(child_out_file_and_env);
    KS_RUN(child_missing_program);
    KS_RUN(child_deadline_stops_the_group);
    KS_RUN(child_kill_after_grace);
    KS_RUN(child_sees_no_other_fds_and_default_sigpipe);
    KS_RUN(child_with_stdin_closed);
    return ks_test_summary();
}
