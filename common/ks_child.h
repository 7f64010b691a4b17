/* ks_child.h: a child process with pipes, a process group and a deadline.
 *
 * For the programs kvmshift drives (gnuplot, Chromium; qemu-img and the
 * validator's tools later): the child's stdin, stdout and stderr are each a
 * pipe to the caller or /dev/null (stdout may go to a file, stderr may
 * follow stdout); every other descriptor of the caller is closed in the
 * child; a child in its own process group is stopped with everything it
 * started. The program is looked up in PATH when argv[0] has no '/'; a
 * program that cannot be run is an error of ks_child_spawn, not an exit
 * status. SIGPIPE is at its default in the child, whatever the caller
 * does with it, and no signal is blocked.
 *
 * A ks_child is used by one thread at a time; spawning from several
 * threads at once is safe (the child only makes async-signal-safe calls
 * before exec).
 */
#ifndef KS_CHILD_H
#define KS_CHILD_H

#include <sys/types.h>

#include "ks_error.h"

enum {
    KS_CHILD_PIPE_IN = 1 << 0,    /* stdin is a pipe: write to ks_child_fd(c, 0) */
    KS_CHILD_PIPE_OUT = 1 << 1,   /* stdout is a pipe: read ks_child_fd(c, 1) */
    KS_CHILD_PIPE_ERR = 1 << 2,   /* stderr is a pipe: read ks_child_fd(c, 2) */
    KS_CHILD_ERR_TO_OUT = 1 << 3, /* stderr goes where stdout goes (not with PIPE_ERR) */
    /* its own session and process group (setsid): a Ctrl-C on the terminal
     * does not reach it, and stopping it stops what it started too */
    KS_CHILD_GROUP = 1 << 4,
    KS_CHILD_NONBLOCK = 1 << 5, /* the caller's ends of the pipes are O_NONBLOCK */
};

/* Seconds between SIGTERM and SIGKILL when ks_child_wait's time is up. */
#define KS_CHILD_GRACE_S 2.0

typedef struct ks_child_opts {
    unsigned flags; /* KS_CHILD_* */
    /* stdout when it is not a pipe: this file, created or truncated (mode
     * 0644); NULL: /dev/null. A stream that is not a pipe and not this
     * file is /dev/null. */
    const char *out_file;
    /* "NAME=value" strings set in the child's environment (replacing the
     * caller's NAME), NULL-terminated; NULL: the caller's environment */
    const char *const *env;
} ks_child_opts;

typedef struct ks_child ks_child;

/* Start argv[0] with arguments argv (NULL-terminated); opts may be NULL
 * (no pipes, all three streams /dev/null). The caller owns the result and
 * the pipe ends in it. NULL with err filled when the pipes, the out_file or
 * the process cannot be made, or the program cannot be run (err->errnum:
 * ENOENT for a missing program, EACCES, ...). */
ks_child *ks_child_spawn(const char *const argv[], const ks_child_opts *opts, ks_error *err);

pid_t ks_child_pid(const ks_child *c);

/* The caller's end of the child's stream 0 (stdin), 1 (stdout) or 2
 * (stderr); -1 when that stream is not a pipe or was closed. */
int ks_child_fd(const ks_child *c, int stream);

/* Close the caller's end of stream 0, 1 or 2 (closing stdin is the child's
 * end of input); a closed or absent one is a no-op. */
void ks_child_close_fd(ks_child *c, int stream);

/* Wait until the child exits, at most timeout_s seconds (negative: no
 * limit), and store its waitpid status in *status (may be NULL). When the
 * time is up, the child is stopped as ks_child_kill(c, KS_CHILD_GRACE_S)
 * does. Read the output pipes to their end (or close them) first: a child
 * blocked on a full pipe does not exit. 0 when it exited by itself; -1
 * with errno ETIMEDOUT when it was stopped (*status then says how it
 * ended), -1 with another errno when it cannot be waited for (ECHILD: it
 * was reaped by someone else). A child already waited for returns its
 * status again. EINTR is handled here. */
int ks_child_wait(ks_child *c, double timeout_s, int *status);

/* Stop the child: SIGTERM, then SIGKILL when it has not exited after
 * grace_s seconds (0 or less: SIGKILL at once); then reap it. With
 * KS_CHILD_GROUP both go to its whole process group, and the SIGKILL goes
 * to what is left of the group once the child has exited (or the grace is
 * over). A child already reaped is left alone. */
void ks_child_kill(ks_child *c, double grace_s);

/* Close the pipes, stop a child that is still running (ks_child_kill with
 * no grace: call ks_child_wait first to let it finish), reap it, kill what
 * is left of its process group with KS_CHILD_GROUP (helpers it started
 * and left behind), and free c. NULL is a no-op. */
void ks_child_free(ks_child *c);

#endif
