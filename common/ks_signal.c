/* ks_signal.c: the stop flag and the self-pipe.
 *
 * The handler counts stop signals; a handle remembers the count when it
 * was made, so nested handles need no reset of a shared flag. One wake
 * pipe serves every handle that wants one (the handler can only reach
 * globals); it is made by the first and closed with the last.
 */
#define _GNU_SOURCE /* pipe2 */
#include "ks_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ks_mem.h"

struct ks_signal {
    unsigned flags;
    sig_atomic_t start; /* stop_count when made */
    struct sigaction old_int, old_term, old_pipe;
};

static volatile sig_atomic_t stop_count;
static volatile sig_atomic_t wake_wr = -1; /* read by the handler */
static int wake_rd = -1;
static unsigned wake_users;

static void on_stop(int sig)
{
    (void)sig;
    int saved = errno;
    stop_count++;
    if (wake_wr >= 0) {
        /* a full pipe is fine: it is readable already */
        ssize_t n = write(wake_wr, "", 1);
        (void)n;
    }
    errno = saved;
}

static int wake_open(ks_error *err)
{
    if (wake_users++)
        return 0;
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
        wake_users--;
        ks_error_set(err, KS_E_INTERNAL, errno, "cannot create the signal wake-up pipe: %s",
                     strerror(errno));
        return -1;
    }
    wake_rd = p[0];
    wake_wr = p[1];
    return 0;
}

static void wake_close(void)
{
    if (--wake_users)
        return;
    int wr = wake_wr;
    wake_wr = -1; /* before the close: a handler must not write to a reused number */
    close(wr);
    close(wake_rd);
    wake_rd = -1;
}

ks_signal *ks_signal_new(unsigned flags, ks_error *err)
{
    if ((flags & KS_SIGNAL_WAKE) && !(flags & KS_SIGNAL_STOP))
        flags &= ~(unsigned)KS_SIGNAL_WAKE;
    if ((flags & KS_SIGNAL_WAKE) && wake_open(err) < 0)
        return NULL;
    ks_signal *s = ks_calloc(1, sizeof *s);
    s->flags = flags;
    s->start = stop_count;
    if (flags & KS_SIGNAL_STOP) {
        /* no SA_RESTART: a blocking wait returns EINTR and looks at the flag */
        struct sigaction sa = {.sa_handler = on_stop};
        sigemptyset(&sa.sa_mask);
        sigaddset(&sa.sa_mask, SIGINT);
        sigaddset(&sa.sa_mask, SIGTERM);
        sigaction(SIGINT, &sa, &s->old_int);
        sigaction(SIGTERM, &sa, &s->old_term);
    }
    if (flags & KS_SIGNAL_IGNORE_PIPE) {
        struct sigaction ign = {.sa_handler = SIG_IGN};
        sigemptyset(&ign.sa_mask);
        sigaction(SIGPIPE, &ign, &s->old_pipe);
    }
    return s;
}

void ks_signal_free(ks_signal *s)
{
    if (!s)
        return;
    if (s->flags & KS_SIGNAL_IGNORE_PIPE)
        sigaction(SIGPIPE, &s->old_pipe, NULL);
    if (s->flags & KS_SIGNAL_STOP) {
        sigaction(SIGINT, &s->old_int, NULL);
        sigaction(SIGTERM, &s->old_term, NULL);
    }
    if (s->flags & KS_SIGNAL_WAKE)
        wake_close();
    free(s);
}

bool ks_signal_stop_requested(const ks_signal *s)
{
    return (s->flags & KS_SIGNAL_STOP) && stop_count != s->start;
}

int ks_signal_wake_fd(const ks_signal *s)
{
    return s->flags & KS_SIGNAL_WAKE ? wake_rd : -1;
}

void ks_signal_wake_drain(const ks_signal *s)
{
    char buf[64];
    if (!(s->flags & KS_SIGNAL_WAKE))
        return;
    for (;;) {
        ssize_t n = read(wake_rd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
    }
}
