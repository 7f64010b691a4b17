/* ks_loop.h: an event loop over descriptors and timers.
 *
 * Descriptors are watched by epoll (the cost of a wake-up follows the
 * descriptors that are ready, not the thousands that are not) and found
 * again in a table indexed by descriptor: O(1) per event. Timers are one
 * shot, at an absolute time of the monotonic clock (ks_time_mono), kept in
 * a binary heap: O(log n) to arm, move or cancel. The loop waits until the
 * nearest timer or the caller's own bound, whichever comes first.
 *
 * Callbacks may add, change and remove descriptors and timers, their own
 * included: an event of a descriptor removed (or removed and added again)
 * earlier in the same round is dropped, never delivered to the new
 * registration. To wake on SIGINT/SIGTERM, watch ks_signal_wake_fd.
 *
 * Not thread-safe: one thread owns a loop.
 */
#ifndef KS_LOOP_H
#define KS_LOOP_H

#include "ks_error.h"

enum {
    KS_LOOP_IN = 1 << 0,  /* readable */
    KS_LOOP_OUT = 1 << 1, /* writable */
    KS_LOOP_ERR = 1 << 2, /* error or hang-up: reported whatever was asked for */
};

typedef struct ks_loop ks_loop;
typedef struct ks_loop_timer ks_loop_timer;

/* fd is ready for events (KS_LOOP_*, a subset of those asked for plus
 * KS_LOOP_ERR); arg as registered. */
typedef void (*ks_loop_fd_fn)(ks_loop *l, int fd, unsigned events, void *arg);
/* Timer t is due. It is disarmed when this runs: re-arm it with
 * ks_loop_timer_set, else it is freed when the callback returns. */
typedef void (*ks_loop_timer_fn)(ks_loop *l, ks_loop_timer *t, void *arg);

/* NULL with err filled when epoll cannot be set up (too many open files). */
ks_loop *ks_loop_new(ks_error *err);
/* Free the loop and the timers still armed; descriptors are not closed.
 * NULL is a no-op. */
void ks_loop_free(ks_loop *l);

/* Watch fd for events (KS_LOOP_IN | KS_LOOP_OUT, or 0 for errors only);
 * fn(l, fd, events, arg) runs when it is ready (level-triggered: again
 * and again while it stays ready). -1 with err filled when epoll refuses
 * it (errno EEXIST: fd is watched already; EPERM: a regular file). */
int ks_loop_fd_add(ks_loop *l, int fd, unsigned events, ks_loop_fd_fn fn, void *arg, ks_error *err);
/* Change the events of a watched fd; -1 with err filled when it is not
 * watched or epoll refuses. */
int ks_loop_fd_mod(ks_loop *l, int fd, unsigned events, ks_error *err);
/* Stop watching fd (call it before closing fd); an fd not watched is a
 * no-op. */
void ks_loop_fd_del(ks_loop *l, int fd);

/* Arm a new timer: fn(l, t, arg) runs once the monotonic clock reaches
 * when (seconds, as ks_time_mono). Timers due at the same time run in the
 * order they were armed. The loop owns the timer: it is valid until it
 * has fired without being re-armed, or until ks_loop_timer_del. */
ks_loop_timer *ks_loop_timer_add(ks_loop *l, double when, ks_loop_timer_fn fn, void *arg);
/* Re-arm t (armed or firing) for when. */
void ks_loop_timer_set(ks_loop *l, ks_loop_timer *t, double when);
/* Cancel and free t (its own callback may do so too); NULL is a no-op. */
void ks_loop_timer_del(ks_loop *l, ks_loop_timer *t);

/* The time the loop last woke up (ks_time_mono when it returned from its
 * wait): one "now" for every callback of a round. */
double ks_loop_now(const ks_loop *l);

/* One round: wait until a descriptor is ready, the nearest timer is due or
 * the monotonic time until (INFINITY: no bound but the timers) has come,
 * whichever is first; then run the callbacks of the ready descriptors,
 * then those of the timers due (a timer armed during the round, due or
 * not, waits for the next one). A signal ends the wait early (EINTR is not
 * an error). Returns the number of callbacks run, or -1 with err filled
 * when epoll fails. */
int ks_loop_run_once(ks_loop *l, double until, ks_error *err);

#endif
