/* ks_signal.h: stop on SIGINT/SIGTERM, and SIGPIPE ignored, for a while.
 *
 * Long runs (collecting, importing, P2V copies, the night runner) stop
 * cleanly on SIGINT or SIGTERM: the handler only notes the signal (and, on
 * request, writes a byte to a pipe so that an event loop wakes at once);
 * the run looks at ks_signal_stop_requested where it can stop. Anything
 * that writes to pipes or sockets ignores SIGPIPE, so that a peer that goes
 * away gives EPIPE instead of killing kvmshift.
 *
 * ks_signal_new installs, ks_signal_free puts back the handlers that were
 * there before. Handles nest (the innermost is freed first): each sees the
 * signals that arrived since it was made. Make and free them from one
 * thread (the main one); ks_signal_stop_requested and the wake descriptor
 * may be used from any thread.
 */
#ifndef KS_SIGNAL_H
#define KS_SIGNAL_H

#include <stdbool.h>

#include "ks_error.h"

enum {
    KS_SIGNAL_STOP = 1 << 0,        /* SIGINT and SIGTERM request a stop */
    KS_SIGNAL_WAKE = 1 << 1,        /* with STOP: ... and make ks_signal_wake_fd readable */
    KS_SIGNAL_IGNORE_PIPE = 1 << 2, /* SIGPIPE ignored */
};

typedef struct ks_signal ks_signal;

/* Install what flags say, remembering the previous dispositions. NULL with
 * err filled only when the wake pipe cannot be made. */
ks_signal *ks_signal_new(unsigned flags, ks_error *err);

/* Put the previous dispositions back and free s; NULL is a no-op. */
void ks_signal_free(ks_signal *s);

/* Did SIGINT or SIGTERM arrive since s was made (with KS_SIGNAL_STOP)? */
bool ks_signal_stop_requested(const ks_signal *s);

/* With KS_SIGNAL_WAKE: a descriptor that is readable once a stop signal has
 * arrived (poll it for POLLIN / EPOLLIN); else -1. It stays readable until
 * ks_signal_wake_drain. Owned by s. */
int ks_signal_wake_fd(const ks_signal *s);

/* Read what the signals wrote to the wake descriptor (it is non-blocking). */
void ks_signal_wake_drain(const ks_signal *s);

#endif
