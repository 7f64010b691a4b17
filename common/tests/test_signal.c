/* test_signal.c: ks_signal: the stop flag, the wake descriptor, nesting,
 * the previous handlers put back, SIGPIPE ignored for a while. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "ks_signal.h"
#include "ks_test.h"

static volatile sig_atomic_t mine;

static void my_handler(int sig)
{
    (void)sig;
    mine++;
}

static bool readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

KS_TEST(signal_stop_and_restore)
{
    struct sigaction sa = {.sa_handler = my_handler}, prev_int, prev_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &prev_int);
    sigaction(SIGTERM, &sa, &prev_term);
    mine = 0;

    ks_signal *s = ks_signal_new(KS_SIGNAL_STOP, NULL);
    KS_CHECK(s && !ks_signal_stop_requested(s));
    KS_CHECK(ks_signal_wake_fd(s) == -1);
    raise(SIGTERM);
    KS_CHECK(ks_signal_stop_requested(s));
    KS_CHECK(mine == 0);
    ks_signal_free(s);
    ks_signal_free(NULL);

    /* ours again */
    raise(SIGINT);
    KS_CHECK(mine == 1);
    /* a new handle starts without a stop */
    s = ks_signal_new(KS_SIGNAL_STOP, NULL);
    KS_CHECK(!ks_signal_stop_requested(s));
    raise(SIGINT);
    KS_CHECK(ks_signal_stop_requested(s) && mine == 1);
    ks_signal_free(s);

    sigaction(SIGINT, &prev_int, NULL);
    sigaction(SIGTERM, &prev_term, NULL);
}

KS_TEST(signal_wake_fd)
{
    ks_error e;
    ks_signal *s = ks_signal_new(KS_SIGNAL_STOP | KS_SIGNAL_WAKE, &e);
    KS_CHECK(s);
    if (!s)
        return;
    int fd = ks_signal_wake_fd(s);
    KS_CHECK(fd >= 0 && !readable(fd));
    raise(SIGINT);
    raise(SIGTERM);
    KS_CHECK(ks_signal_stop_requested(s) && readable(fd));
    ks_signal_wake_drain(s);
    KS_CHECK(!readable(fd));
    ks_signal_wake_drain(s); /* nothing to read: returns at once */
    ks_signal_free(s);
    /* the pipe is closed with its last user */
    errno = 0;
    KS_CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
}

KS_TEST(signal_nested)
{
    ks_signal *outer = ks_signal_new(KS_SIGNAL_STOP | KS_SIGNAL_WAKE, NULL);
    raise(SIGTERM);
    ks_signal *inner = ks_signal_new(KS_SIGNAL_STOP | KS_SIGNAL_WAKE, NULL);
    KS_CHECK(ks_signal_stop_requested(outer) && !ks_signal_stop_requested(inner));
    KS_CHECK(ks_signal_wake_fd(inner) == ks_signal_wake_fd(outer));
    raise(SIGTERM);
    KS_CHECK(ks_signal_stop_requested(outer) && ks_signal_stop_requested(inner));
    ks_signal_free(inner);
    /* the outer one still has its handler and its pipe */
    ks_signal_wake_drain(outer);
    raise(SIGINT);
    KS_CHECK(readable(ks_signal_wake_fd(outer)));
    ks_signal_free(outer);
}

KS_TEST(signal_ignore_pipe)
{
    struct sigaction cur;
    sigaction(SIGPIPE, NULL, &cur);
    KS_CHECK(cur.sa_handler == SIG_DFL);
    ks_signal *s = ks_signal_new(KS_SIGNAL_IGNORE_PIPE, NULL);
    KS_CHECK(s && !ks_signal_stop_requested(s));
    sigaction(SIGPIPE, NULL, &cur);
    KS_CHECK(cur.sa_handler == SIG_IGN);
    int p[2];
    KS_CHECK(pipe(p) == 0);
    close(p[0]);
    errno = 0;
    KS_CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE);
    close(p[1]);
    ks_signal_free(s);
    sigaction(SIGPIPE, NULL, &cur);
    KS_CHECK(cur.sa_handler == SIG_DFL);
    /* SIGINT untouched by a handle without KS_SIGNAL_STOP */
    sigaction(SIGINT, NULL, &cur);
    KS_CHECK(cur.sa_handler == SIG_DFL);
}

int main(void)
{
    KS_RUN(signal_stop_and_restore);
    KS_RUN(signal_wake_fd);
    KS_RUN(signal_nested);
    KS_RUN(signal_ignore_pipe);
    return ks_test_summary();
}
