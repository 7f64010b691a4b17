/* ks_loop.c: epoll, a table of watched descriptors, a heap of timers.
 *
 * Each epoll event carries the descriptor and the generation of its table
 * slot (bumped on every add and remove), so that an event for a
 * descriptor that a callback removed, closed and maybe reopened in the same
 * round is recognised and dropped.
 */
#include "ks_loop.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ks_mem.h"
#include "ks_time.h"

enum { MAX_EVENTS = 256 };

typedef struct slot {
    ks_loop_fd_fn fn;
    void *arg;
    unsigned events;
    uint32_t gen;
    bool used;
} slot;

struct ks_loop_timer {
    double when;
    uint64_t seq; /* arming order: ties and "armed during this round" */
    size_t index; /* in the heap; NOT_ARMED when not in it */
    bool firing;  /* its callback is running */
    bool deleted; /* deleted by its own callback: freed after it */
    ks_loop_timer_fn fn;
    void *arg;
};

#define NOT_ARMED SIZE_MAX

struct ks_loop {
    int epfd;
    slot *slots; /* indexed by descriptor */
    size_t nslots;
    ks_loop_timer **heap;
    size_t nheap, capheap;
    uint64_t seq;
    double now;
};

ks_loop *ks_loop_new(ks_error *err)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        ks_error_set(err, KS_E_INTERNAL, errno, "cannot create an epoll set: %s", strerror(errno));
        return NULL;
    }
    ks_loop *l = ks_calloc(1, sizeof *l);
    l->epfd = epfd;
    l->now = ks_time_mono();
    return l;
}

void ks_loop_free(ks_loop *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nheap; i++)
        free(l->heap[i]);
    free(l->heap);
    free(l->slots);
    close(l->epfd);
    free(l);
}

/* ---- Descriptors --------------------------------------------------------- */

static uint32_t to_epoll(unsigned events)
{
    return (events & KS_LOOP_IN ? EPOLLIN : 0) | (events & KS_LOOP_OUT ? EPOLLOUT : 0);
}

static int ctl(ks_loop *l, int op, int fd, const slot *s, ks_error *err)
{
    struct epoll_event e = {.events = to_epoll(s->events),
                            .data.u64 = ((uint64_t)s->gen << 32) | (uint32_t)fd};
    if (epoll_ctl(l->epfd, op, fd, &e) < 0) {
        ks_error_set(err, KS_E_INTERNAL, errno, "cannot watch descriptor %d with epoll: %s", fd,
                     strerror(errno));
        return -1;
    }
    return 0;
}

int ks_loop_fd_add(ks_loop *l, int fd, unsigned events, ks_loop_fd_fn fn, void *arg, ks_error *err)
{
    if (fd < 0 || ((size_t)fd < l->nslots && l->slots[fd].used)) {
        errno = fd < 0 ? EBADF : EEXIST;
        ks_error_set(err, KS_E_INTERNAL, errno, "cannot watch descriptor %d: %s", fd,
                     strerror(errno));
        return -1;
    }
    if ((size_t)fd >= l->nslots) {
        size_t n = l->nslots ? l->nslots : 64;
        while (n <= (size_t)fd)
            n *= 2;
        l->slots = ks_reallocarray(l->slots, n, sizeof *l->slots);
        memset(l->slots + l->nslots, 0, (n - l->nslots) * sizeof *l->slots);
        l->nslots = n;
    }
    slot *s = &l->slots[fd];
    slot next = {.fn = fn, .arg = arg, .events = events, .gen = s->gen + 1, .used = true};
    if (ctl(l, EPOLL_CTL_ADD, fd, &next, err) < 0)
        return -1;
    *s = next;
    return 0;
}

int ks_loop_fd_mod(ks_loop *l, int fd, unsigned events, ks_error *err)
{
    if (fd < 0 || (size_t)fd >= l->nslots || !l->slots[fd].used) {
        errno = ENOENT;
        ks_error_set(err, KS_E_INTERNAL, ENOENT, "descriptor %d is not watched", fd);
        return -1;
    }
    slot next = l->slots[fd];
    next.events = events;
    if (ctl(l, EPOLL_CTL_MOD, fd, &next, err) < 0)
        return -1;
    l->slots[fd] = next;
    return 0;
}

void ks_loop_fd_del(ks_loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nslots || !l->slots[fd].used)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    slot *s = &l->slots[fd];
    *s = (slot){.gen = s->gen + 1};
}

/* ---- Timers: a binary min-heap on (when, seq) ------------------------------ */

static bool before(const ks_loop_timer *a, const ks_loop_timer *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void heap_put(ks_loop *l, size_t i, ks_loop_timer *t)
{
    l->heap[i] = t;
    t->index = i;
}

static void sift_up(ks_loop *l, size_t i)
{
    ks_loop_timer *t = l->heap[i];
    while (i > 0 && before(t, l->heap[(i - 1) / 2])) {
        heap_put(l, i, l->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_put(l, i, t);
}

static void sift_down(ks_loop *l, size_t i)
{
    ks_loop_timer *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->nheap)
            break;
        if (c + 1 < l->nheap && before(l->heap[c + 1], l->heap[c]))
            c++;
        if (!before(l->heap[c], t))
            break;
        heap_put(l, i, l->heap[c]);
        i = c;
    }
    heap_put(l, i, t);
}

static void heap_remove(ks_loop *l, ks_loop_timer *t)
{
    size_t i = t->index;
    ks_loop_timer *last = l->heap[--l->nheap];
    t->index = NOT_ARMED;
    if (last == t)
        return;
    heap_put(l, i, last);
    sift_up(l, i);
    sift_down(l, last->index);
}

static void arm(ks_loop *l, ks_loop_timer *t, double when)
{
    if (t->index != NOT_ARMED)
        heap_remove(l, t);
    t->when = when;
    t->seq = l->seq++;
    if (l->nheap == l->capheap) {
        l->capheap = l->capheap ? 2 * l->capheap : 16;
        l->heap = ks_reallocarray(l->heap, l->capheap, sizeof *l->heap);
    }
    l->heap[l->nheap] = t;
    t->index = l->nheap++;
    sift_up(l, t->index);
}

ks_loop_timer *ks_loop_timer_add(ks_loop *l, double when, ks_loop_timer_fn fn, void *arg)
{
    ks_loop_timer *t = ks_calloc(1, sizeof *t);
    t->fn = fn;
    t->arg = arg;
    t->index = NOT_ARMED;
    arm(l, t, when);
    return t;
}

void ks_loop_timer_set(ks_loop *l, ks_loop_timer *t, double when)
{
    arm(l, t, when);
}

void ks_loop_timer_del(ks_loop *l, ks_loop_timer *t)
{
    if (!t)
        return;
    if (t->index != NOT_ARMED)
        heap_remove(l, t);
    if (t->firing)
        t->deleted = true;
    else
        free(t);
}

double ks_loop_now(const ks_loop *l)
{
    return l->now;
}

/* ---- One round ------------------------------------------------------------ */

static int timeout_ms(double now, double wake)
{
    if (wake <= now)
        return 0;
    if (isinf(wake) || wake - now > 3600.0)
        return isinf(wake) ? -1 : 3600 * 1000;
    return (int)ceil((wake - now) * 1000.0);
}

static int run_fds(ks_loop *l, const struct epoll_event *ev, int ne)
{
    int ran = 0;
    for (int k = 0; k < ne; k++) {
        int fd = (int)(uint32_t)ev[k].data.u64;
        uint32_t gen = (uint32_t)(ev[k].data.u64 >> 32);
        /* looked up again each time: a callback may have grown the table */
        if ((size_t)fd >= l->nslots || !l->slots[fd].used || l->slots[fd].gen != gen)
            continue;
        const slot *s = &l->slots[fd];
        unsigned got = (ev[k].events & EPOLLIN ? KS_LOOP_IN : 0) |
                       (ev[k].events & EPOLLOUT ? KS_LOOP_OUT : 0) |
                       (ev[k].events & (EPOLLERR | EPOLLHUP) ? KS_LOOP_ERR : 0);
        got &= s->events | KS_LOOP_ERR;
        if (!got)
            continue;
        s->fn(l, fd, got, s->arg);
        ran++;
    }
    return ran;
}

static int run_timers(ks_loop *l)
{
    int ran = 0;
    uint64_t armed_before = l->seq;
    while (l->nheap && l->heap[0]->when <= l->now && l->heap[0]->seq < armed_before) {
        ks_loop_timer *t = l->heap[0];
        heap_remove(l, t);
        t->firing = true;
        t->fn(l, t, t->arg);
        t->firing = false;
        if (t->deleted || t->index == NOT_ARMED)
            free(t);
        ran++;
    }
    return ran;
}

int ks_loop_run_once(ks_loop *l, double until, ks_error *err)
{
    double now = ks_time_mono();
    double wake = until;
    if (l->nheap && l->heap[0]->when < wake)
        wake = l->heap[0]->when;
    struct epoll_event ev[MAX_EVENTS];
    int ne = epoll_wait(l->epfd, ev, MAX_EVENTS, timeout_ms(now, wake));
    if (ne < 0 && errno != EINTR) {
        ks_error_set(err, KS_E_INTERNAL, errno, "epoll_wait failed: %s", strerror(errno));
        return -1;
    }
    l->now = ks_time_mono();
    int ran = ne > 0 ? run_fds(l, ev, ne) : 0;
    return ran + run_timers(l);
}
