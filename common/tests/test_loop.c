/* test_loop.c: ks_loop: descriptor readiness, timers in order, removal
 * (and reuse of a descriptor number) during a callback, timers deleted or
 * re-armed by callbacks, waking on a stop signal. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "ks_loop.h"
#include "ks_signal.h"
#include "ks_time.h"
#include "ks_test.h"

typedef struct seen {
    int calls;
    unsigned events;
    int fd;
} seen;

static void on_fd(ks_loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    seen *s = arg;
    s->calls++;
    s->events = events;
    s->fd = fd;
}

KS_TEST(loop_fd_readiness)
{
    ks_error e;
    ks_loop *l = ks_loop_new(&e);
    KS_CHECK(l);
    int p[2];
    KS_CHECK(pipe(p) == 0);
    seen rd = {0}, wr = {0};
    KS_CHECK(ks_loop_fd_add(l, p[0], KS_LOOP_IN, on_fd, &rd, &e) == 0);
    KS_CHECK(ks_loop_fd_add(l, p[1], 0, on_fd, &wr, &e) == 0);

    /* nothing ready: the wait lasts until the bound */
    double t0 = ks_time_mono();
    KS_CHECK(ks_loop_run_once(l, t0 + 0.05, &e) == 0);
    KS_CHECK(ks_time_mono() - t0 >= 0.045 && rd.calls == 0 && wr.calls == 0);
    KS_CHECK(ks_loop_now(l) >= t0 + 0.045);

    KS_CHECK(write(p[1], "x", 1) == 1);
    KS_CHECK(ks_loop_run_once(l, INFINITY, &e) == 1);
    KS_CHECK(rd.calls == 1 && rd.events == KS_LOOP_IN && rd.fd == p[0]);
    /* level-triggered: still readable */
    KS_CHECK(ks_loop_run_once(l, INFINITY, &e) == 1 && rd.calls == 2);

    /* asking for writability */
    KS_CHECK(ks_loop_fd_mod(l, p[1], KS_LOOP_OUT, &e) == 0);
    char c;
    KS_CHECK(read(p[0], &c, 1) == 1);
    KS_CHECK(ks_loop_run_once(l, INFINITY, &e) == 1);
    KS_CHECK(wr.calls == 1 && wr.events == KS_LOOP_OUT && rd.calls == 2);

    /* the writer goes: the reader sees the hang-up */
    ks_loop_fd_del(l, p[1]);
    ks_loop_fd_del(l, p[1]); /* twice: a no-op */
    close(p[1]);
    KS_CHECK(ks_loop_run_once(l, INFINITY, &e) == 1);
    KS_CHECK(rd.calls == 3 && (rd.events & KS_LOOP_ERR));

    /* errors */
    KS_CHECK(ks_loop_fd_add(l, p[0], KS_LOOP_IN, on_fd, &rd, &e) == -1 && e.errnum == EEXIST);
    KS_CHECK(ks_loop_fd_mod(l, 1000, KS_LOOP_IN, &e) == -1);
    int reg = open("/etc/hostname", O_RDONLY);
    if (reg < 0)
        reg = open("/etc/passwd", O_RDONLY);
    KS_CHECK(ks_loop_fd_add(l, reg, KS_LOOP_IN, on_fd, &rd, &e) == -1 && e.errnum == EPERM);
    /* a failed add leaves nothing behind: a delete is a no-op */
    ks_loop_fd_del(l, reg);
    close(reg);
    ks_loop_fd_del(l, p[0]);
    close(p[0]);
    ks_loop_free(l);
    ks_loop_free(NULL);
}

/* ---- removal during a callback --------------------------------------------- */

typedef struct pair {
    int a_rd, b_rd;
    int a_calls, b_calls, new_calls;
    int spare[2];
} pair;

static void on_new(ks_loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    (void)events;
    ((pair *)arg)->new_calls++;
}

static void on_b(ks_loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    (void)events;
    ((pair *)arg)->b_calls++;
}

/* The first one to run removes the other, closes it and puts an empty
 * pipe under its number: the other's pending event must go nowhere. */
static void on_a(ks_loop *l, int fd, unsigned events, void *arg)
{
    (void)fd;
    (void)events;
    pair *p = arg;
    p->a_calls++;
    ks_loop_fd_del(l, p->b_rd);
    dup2(p->spare[0], p->b_rd);
    ks_loop_fd_add(l, p->b_rd, KS_LOOP_IN, on_new, p, NULL);
}

KS_TEST(loop_removal_during_callback)
{
    ks_loop *l = ks_loop_new(NULL);
    int a[2], b[2];
    pair p = {0};
    KS_CHECK(pipe(a) == 0 && pipe(b) == 0 && pipe(p.spare) == 0);
    p.a_rd = a[0];
    p.b_rd = b[0];
    KS_CHECK(write(a[1], "a", 1) == 1 && write(b[1], "b", 1) == 1);
    /* both ready in the same round; whichever runs first removes the other */
    KS_CHECK(ks_loop_fd_add(l, a[0], KS_LOOP_IN, on_a, &p, NULL) == 0);
    KS_CHECK(ks_loop_fd_add(l, b[0], KS_LOOP_IN, on_b, &p, NULL) == 0);
    int ran = ks_loop_run_once(l, INFINITY, NULL);
    KS_CHECK(p.a_calls == 1 && p.new_calls == 0);
    /* b ran before a, or not at all */
    KS_CHECK(ran == 1 + p.b_calls && p.b_calls <= 1);
    /* the new pipe under b's number is empty: nothing for it next round */
    KS_CHECK(ks_loop_run_once(l, ks_time_mono() + 0.02, NULL) == 1 && p.a_calls == 2);
    KS_CHECK(p.new_calls == 0);
    KS_CHECK(write(p.spare[1], "n", 1) == 1);
    ks_loop_fd_del(l, a[0]);
    KS_CHECK(ks_loop_run_once(l, INFINITY, NULL) == 1 && p.new_calls == 1);
    ks_loop_free(l);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
        close(p.spare[i]);
    }
}

/* ---- timers ---------------------------------------------------------------- */

typedef struct order {
    int got[16];
    int n;
    ks_loop_timer *victim;
    int rearm; /* times the periodic one re-arms itself */
} order;

typedef struct tag {
    order *o;
    int id;
} tag;

static void on_timer(ks_loop *l, ks_loop_timer *t, void *arg)
{
    (void)l;
    (void)t;
    tag *g = arg;
    g->o->got[g->o->n++] = g->id;
}

KS_TEST(loop_timer_order)
{
    ks_loop *l = ks_loop_new(NULL);
    order o = {0};
    tag g[6];
    for (int i = 0; i < 6; i++)
        g[i] = (tag){&o, i};
    double t0 = ks_time_mono();
    /* by time, and by arming order at the same time */
    ks_loop_timer_add(l, t0 + 0.03, on_timer, &g[3]);
    ks_loop_timer_add(l, t0 + 0.01, on_timer, &g[0]);
    ks_loop_timer_add(l, t0 + 0.02, on_timer, &g[1]);
    ks_loop_timer_add(l, t0 + 0.02, on_timer, &g[2]);
    ks_loop_timer *moved = ks_loop_timer_add(l, t0 + 0.001, on_timer, &g[4]);
    ks_loop_timer *gone = ks_loop_timer_add(l, t0 + 0.015, on_timer, &g[5]);
    ks_loop_timer_set(l, moved, t0 + 0.04);
    ks_loop_timer_del(l, gone);
    ks_loop_timer_del(l, NULL);
    while (o.n < 5 && ks_time_mono() < t0 + 5)
        ks_loop_run_once(l, INFINITY, NULL);
    KS_CHECK(o.n == 5);
    for (int i = 0; i < 5; i++)
        KS_CHECK(o.got[i] == i);
    /* the loop slept until the timers, it did not spin past them */
    KS_CHECK(ks_time_mono() - t0 >= 0.039);
    ks_loop_free(l);
}

/* Deletes o->victim, then re-arms itself o->rearm times. */
static void on_killer(ks_loop *l, ks_loop_timer *t, void *arg)
{
    order *o = arg;
    o->got[o->n++] = 100;
    ks_loop_timer_del(l, o->victim);
    o->victim = NULL;
    if (o->rearm-- > 0)
        ks_loop_timer_set(l, t, ks_loop_now(l) + 0.001);
}

static void on_self_delete(ks_loop *l, ks_loop_timer *t, void *arg)
{
    order *o = arg;
    o->got[o->n++] = 200;
    ks_loop_timer_set(l, t, ks_loop_now(l) + 0.001);
    ks_loop_timer_del(l, t); /* re-armed, then deleted: never again */
}

/* Arms a timer due at once: it waits for the next round. */
static void on_arms_now(ks_loop *l, ks_loop_timer *t, void *arg)
{
    (void)t;
    order *o = arg;
    o->got[o->n++] = 300;
    ks_loop_timer_add(l, 0, on_self_delete, o);
}

KS_TEST(loop_timer_callbacks)
{
    ks_loop *l = ks_loop_new(NULL);
    order o = {0};
    tag victim = {&o, 1};
    double t0 = ks_time_mono();
    ks_loop_timer_add(l, t0, on_killer, &o);
    o.victim = ks_loop_timer_add(l, t0, on_timer, &victim);
    o.rearm = 2;
    KS_CHECK(ks_loop_run_once(l, INFINITY, NULL) == 1);
    KS_CHECK(o.n == 1 && o.got[0] == 100);
    for (int i = 0; i < 2; i++)
        KS_CHECK(ks_loop_run_once(l, INFINITY, NULL) == 1);
    KS_CHECK(o.n == 3 && o.got[1] == 100 && o.got[2] == 100);
    /* no timer left: the bound ends the wait */
    KS_CHECK(ks_loop_run_once(l, ks_time_mono() + 0.01, NULL) == 0);

    o.n = 0;
    ks_loop_timer_add(l, 0, on_arms_now, &o);
    KS_CHECK(ks_loop_run_once(l, INFINITY, NULL) == 1 && o.n == 1 && o.got[0] == 300);
    double t1 = ks_time_mono();
    KS_CHECK(ks_loop_run_once(l, INFINITY, NULL) == 1 && o.n == 2 && o.got[1] == 200);
    KS_CHECK(ks_time_mono() - t1 < 0.5);
    KS_CHECK(ks_loop_run_once(l, ks_time_mono() + 0.01, NULL) == 0 && o.n == 2);

    /* timers still armed are freed with the loop */
    ks_loop_timer_add(l, INFINITY, on_timer, &victim);
    ks_loop_timer_add(l, t0 + 3600, on_timer, &victim);
    ks_loop_free(l);
}

/* ---- waking on a stop signal ----------------------------------------------- */

static void on_wake(ks_loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    (void)events;
    ks_signal_wake_drain(arg);
}

KS_TEST(loop_wakes_on_signal)
{
    ks_signal *s = ks_signal_new(KS_SIGNAL_STOP | KS_SIGNAL_WAKE, NULL);
    ks_loop *l = ks_loop_new(NULL);
    KS_CHECK(ks_loop_fd_add(l, ks_signal_wake_fd(s), KS_LOOP_IN, on_wake, s, NULL) == 0);
    /* a signal that comes before the wait is not lost */
    raise(SIGTERM);
    double t0 = ks_time_mono();
    KS_CHECK(ks_loop_run_once(l, t0 + 10, NULL) == 1);
    KS_CHECK(ks_time_mono() - t0 < 1 && ks_signal_stop_requested(s));
    /* drained: the next round waits */
    KS_CHECK(ks_loop_run_once(l, ks_time_mono() + 0.01, NULL) == 0);
    ks_loop_fd_del(l, ks_signal_wake_fd(s));
    ks_loop_free(l);
    ks_signal_free(s);
}

int main(void)
{
    KS_RUN(loop_fd_readiness);
    KS_RUN(loop_removal_during_callback);
    KS_RUN(loop_timer_order);
    KS_RUN(loop_timer_callbacks);
    KS_RUN(loop_wakes_on_signal);
    return ks_test_summary();
}
