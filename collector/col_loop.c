/* col_loop.c: the collector's event loop.
 *
 * One thread, one event loop (ks_loop: epoll) over every server's
 * connection (its cost per wake-up follows the sockets that are ready, not
 * the thousands that are not). Each server is a
 * small state machine (down -> connecting -> ready <-> busy) driven by
 * poll readiness and by timers: its next sample time, its reconnection
 * time and the deadline of whatever it is doing. Deadlines are enforced
 * here, so a silent server costs one poll entry and a timer, and never
 * delays another server.
 *
 * Sample times are spread evenly over the interval (server i of n starts
 * at i/n of it), so 1,000 servers do not all answer in the same second.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "col_backend.h"
#include "col_facts.h"
#include "col_rrd.h"
#include "col_state.h"
#include "collector.h"
#include "ks_fs.h"
#include "ks_json.h"
#include "ks_log.h"
#include "ks_loop.h"
#include "ks_mem.h"
#include "ks_progress.h"
#include "ks_signal.h"
#include "ks_time.h"

typedef enum hstate { H_DOWN, H_CONNECTING, H_READY, H_BUSY_SAMPLE, H_BUSY_FACTS, H_DONE } hstate;

typedef struct collect collect;

typedef struct host {
    const ks_server *srv;
    const col_backend *be;
    col_target target;
    col_conn *conn;
    hstate st;
    double deadline;     /* of the current operation */
    double next_sample;  /* monotonic time of the next reading */
    double next_connect; /* monotonic time of the next connection attempt */
    double backoff;
    bool facts_needed;
    json_t *facts;
    double capacity_mhz;
    const char **nics;
    size_t nnics;
    col_raw prev;
    bool have_prev;
    int readings; /* readings this run (once mode stops at 2) */
    bool failing;
    col_result *res;
    collect *run;    /* the run, its loop */
    int reg_fd;      /* fd watched by the loop for this host, -1: none */
    unsigned reg_ev; /* events watched (KS_LOOP_*) */
} host;

struct col_run {
    col_result *results;
    size_t count;
};

typedef struct settings {
    long interval;
    long connect_timeout;
    long command_timeout;
    long max_backoff;
    const char *rrdcached;
} settings;

/* One run of col_collect: what the loop's callbacks need besides their
 * host. */
struct collect {
    ks_loop *loop;
    col_store *store;
    const col_options *opt;
    const settings *set;
    host *hosts;
    size_t n;
    ks_signal *sig;      /* SIGINT/SIGTERM end the run; they wake the loop */
    ks_loop_timer *kick; /* armed while a connection is active */
    double last_kick;
    struct timespec started; /* a server switched to its VM after this is stopped */
};

/* How often busy connections are stepped even without epoll readiness. */
#define KICK_SECONDS 0.25

static int read_settings(const ks_study *study, const col_options *opt, settings *s, ks_error *err)
{
    const ks_ini *ini = ks_study_ini(study);
    if (ks_ini_get_long(ini, "collector", "interval", 60, 1, 86400, &s->interval, err) < 0 ||
        ks_ini_get_long(ini, "collector", "connect_timeout", 10, 1, 600, &s->connect_timeout, err) <
            0 ||
        ks_ini_get_long(ini, "collector", "command_timeout", 20, 1, 600, &s->command_timeout, err) <
            0 ||
        ks_ini_get_long(ini, "collector", "max_backoff", 300, 1, 86400, &s->max_backoff, err) < 0)
        return -1;
    if (opt->interval > 0)
        s->interval = opt->interval;
    s->rrdcached = ks_ini_get(ini, "collector", "rrdcached");
    return 0;
}

static void host_set_facts(host *h, json_t *facts)
{
    json_decref(h->facts);
    free(h->nics);
    h->facts = facts;
    h->capacity_mhz = col_facts_cpu_capacity_mhz(facts);
    h->nnics = col_facts_physical_nics(facts, &h->nics);
}

static void host_step(host *h, col_store *store, const col_options *opt, const settings *set,
                      double now);

/* h's connection is ready: the loop drops events of an fd that the host
 * no longer watches, so this is always its current one. */
static void host_on_ready(ks_loop *l, int fd, unsigned events, void *arg)
{
    (void)fd;
    (void)events;
    host *h = arg;
    host_step(h, h->run->store, h->run->opt, h->run->set, ks_loop_now(l));
}

/* Keep the loop's watch of h in step with its connection. */
static void host_register(host *h)
{
    short ev = 0;
    int fd = h->conn ? h->be->pollfd(h->conn, &ev) : -1;
    unsigned want = (ev & POLLIN ? KS_LOOP_IN : 0) | (ev & POLLOUT ? KS_LOOP_OUT : 0);
    if (fd == h->reg_fd && want == h->reg_ev)
        return;
    ks_loop *l = h->run->loop;
    if (h->reg_fd >= 0 && fd != h->reg_fd)
        ks_loop_fd_del(l, h->reg_fd);
    if (fd >= 0 && fd == h->reg_fd && ks_loop_fd_mod(l, fd, want, NULL) < 0) {
        ks_loop_fd_del(l, fd);
        fd = -1; /* not watched: the kick and the deadline still step it */
    } else if (fd >= 0 && fd != h->reg_fd &&
               ks_loop_fd_add(l, fd, want, host_on_ready, h, NULL) < 0)
        fd = -1;
    h->reg_fd = fd;
    h->reg_ev = fd < 0 ? 0 : want;
}

static void host_close(host *h)
{
    if (h->reg_fd >= 0) {
        /* before the close, while the fd still names this socket */
        ks_loop_fd_del(h->run->loop, h->reg_fd);
        h->reg_fd = -1;
        h->reg_ev = 0;
    }
    if (h->conn) {
        h->be->close(h->conn);
        h->conn = NULL;
    }
}

static void host_fail(host *h, const col_options *opt, const settings *set, const ks_error *e,
                      double now)
{
    /* facts help (CPU capacity, physical NICs) but must not keep a server
     * from being sampled: go on without them, try again on the next run */
    bool facts_failed = h->st == H_BUSY_FACTS && !opt->facts_only;
    if (facts_failed) {
        h->facts_needed = false;
        ks_log_warn("sampling '%s' without its facts for now: %s", h->srv->name, e->message);
    }
    host_close(h);
    h->res->failures++;
    ks_error_copy(&h->res->last_error, e);
    if (!facts_failed && (!h->failing || ks_log_get_level() >= KS_LOG_DEBUG))
        ks_log_warn("%s", e->message);
    h->failing = true;
    col_state_write(h->target.study_dir, h->srv->name, e, time(NULL));
    if ((opt->once || opt->facts_only) && !facts_failed) {
        h->st = H_DONE;
        return;
    }
    h->st = H_DOWN;
    if (facts_failed) {
        h->next_connect = now; /* the session was only dropped to stop the facts */
        return;
    }
    h->next_connect = now + h->backoff;
    h->backoff =
        h->backoff * 2 > (double)set->max_backoff ? (double)set->max_backoff : h->backoff * 2;
}

static int store_facts(host *h, json_t *facts, ks_error *err)
{
    KS_AUTOFREE char *dir = ks_path_join(h->target.study_dir, "facts");
    if (ks_mkdir_p(dir, err) < 0)
        return -1;
    KS_AUTOFREE char *path = ks_asprintf("%s/%s.json", dir, h->srv->name);
    return ks_json_write_file(path, facts, err);
}

/* A reading arrived: turn it into rates against the previous one and
 * store them. Every reading is stored, the first after a (re)connection
 * with its rates unknown, so a gap ends as unknown, never as a spike. */
static int handle_reading(host *h, col_store *store, const settings *set, col_raw *cur,
                          ks_error *err)
{
    col_rates r;
    bool fresh = h->have_prev && cur->uptime - h->prev.uptime <= 2.5 * (double)set->interval;
    col_rates_compute(fresh ? &h->prev : NULL, cur, h->capacity_mhz, (const char *const *)h->nics,
                      h->nnics, &r);
    double v[COL_DS_COUNT] = {r.cpu_pct,     r.cpu_mhz,     r.mem_used,     r.mem_total,
                              r.disk_rd_bps, r.disk_wr_bps, r.disk_rd_iops, r.disk_wr_iops,
                              r.net_rx_bps,  r.net_tx_bps,  r.cpu_steal_pct};
    col_raw_clear(&h->prev);
    h->prev = *cur;
    col_raw_init(cur);
    h->have_prev = true;
    h->readings++;
    if (col_store_update(store, h->srv->name, time(NULL), v, err) < 0)
        return -1;
    if (!isnan(r.cpu_pct)) {
        h->res->samples++;
        h->res->ok = true;
        h->res->have_values = true;
        memcpy(h->res->values, v, sizeof v);
    }
    return 0;
}

static void schedule_next(host *h, const settings *set, double now)
{
    h->next_sample += (double)set->interval;
    if (h->next_sample <= now) {
        /* late (a slow answer or a reconnection): skip the missed slots */
        double missed = floor((now - h->next_sample) / (double)set->interval) + 1;
        h->next_sample += missed * (double)set->interval;
    }
}

/* Stop h for this run: e said, recorded in its state file. */
static void host_stop(host *h, const ks_error *e)
{
    ks_log_error("%s", e->message);
    host_close(h);
    h->res->failures++;
    ks_error_copy(&h->res->last_error, e);
    col_state_write(h->target.study_dir, h->srv->name, e, time(NULL));
    h->st = H_DONE;
}

/* Was h switched to its VM (STUDY/physical/NAME.json, written by the
 * night runner or validate --switch) after this run started? Its history
 * has moved and its inventory line may have: this run's samples would go
 * to the VM's new file from wherever this run reads them. */
static bool switched_under_run(const host *h, ks_error *e)
{
    KS_AUTOFREE char *rec = ks_asprintf("%s/physical/%s.json", h->target.study_dir, h->srv->name);
    struct stat st;
    const struct timespec *t0 = &h->run->started;
    /* to the nanosecond: a switch in the second this run started, before
     * it, is not one under it */
    if (stat(rec, &st) != 0 || st.st_mtim.tv_sec < t0->tv_sec ||
        (st.st_mtim.tv_sec == t0->tv_sec && st.st_mtim.tv_nsec <= t0->tv_nsec))
        return false;
    ks_error_set(e, KS_E_CONFIG, 0,
                 "'%s' was switched to its VM after this collector started (%s): it is no "
                 "longer sampled by this run; start kvmshift collect again to sample the VM",
                 h->srv->name, rec);
    return true;
}

/* Start whatever is due on host h; true when something was started that
 * needs a step() to get going (connecting, sending a request). */
static bool host_timers(host *h, col_store *store, const col_options *opt, const settings *set,
                        double now, double window)
{
    ks_error e;
    ks_error_clear(&e);
    switch (h->st) {
    case H_DOWN:
        if (now < h->next_connect)
            return false;
        h->conn = h->be->open(&h->target, &e);
        if (!h->conn) {
            host_fail(h, opt, set, &e, now);
            return false;
        }
        h->st = H_CONNECTING;
        h->deadline = now + (double)set->connect_timeout;
        return true;
    case H_READY: {
        if (h->facts_needed) {
            if (h->be->request_facts(h->conn, &e) < 0) {
                host_fail(h, opt, set, &e, now);
                return false;
            }
            h->st = H_BUSY_FACTS;
            h->deadline = now + 3.0 * (double)set->command_timeout;
            return true;
        }
        if (opt->facts_only) {
            h->st = H_DONE;
            host_close(h);
            return false;
        }
        if (now < h->next_sample)
            return false;
        int ready = col_store_state(store, h->srv->name, &e);
        if (ready == 0)
            return false; /* its file is still being made */
        /* a file that cannot be made (disk full, a foreign file), or a
         * server switched to its VM under this run, stops this server only */
        if (ready < 0 || switched_under_run(h, &e)) {
            host_stop(h, &e);
            return false;
        }
        if (h->be->request_sample(h->conn, &e) < 0) {
            host_fail(h, opt, set, &e, now);
            return false;
        }
        h->st = H_BUSY_SAMPLE;
        h->deadline = now + (double)set->command_timeout;
        if (opt->once)
            h->next_sample = now + (window > h->be->min_window ? window : h->be->min_window);
        else
            schedule_next(h, set, now);
        return true;
    }
    case H_CONNECTING:
    case H_BUSY_SAMPLE:
    case H_BUSY_FACTS:
        if (now >= h->deadline) {
            ks_error_set(&e, KS_E_TIMEOUT, 0,
                         "'%s' (%s port %d) did not answer in time while %s (limit %ld s, "
                         "study.ini [collector] %s)",
                         h->srv->name, h->srv->address, h->srv->port, h->be->phase(h->conn),
                         h->st == H_CONNECTING   ? set->connect_timeout
                         : h->st == H_BUSY_FACTS ? 3 * set->command_timeout
                                                 : set->command_timeout,
                         h->st == H_CONNECTING ? "connect_timeout" : "command_timeout");
            host_fail(h, opt, set, &e, now);
        }
        return false;
    case H_DONE:
        return false;
    }
    return false;
}

/* Drive host h's connection until it has nothing more to do right now. */
static void host_step(host *h, col_store *store, const col_options *opt, const settings *set,
                      double now)
{
    for (int guard = 0; guard < 64 && h->conn; guard++) {
        ks_error e;
        ks_error_clear(&e);
        col_raw raw;
        col_raw_init(&raw);
        json_t *facts = NULL;
        col_event ev = h->be->step(h->conn, &raw, &facts, &e);
        switch (ev) {
        case COL_EV_AGAIN:
            col_raw_clear(&raw);
            return;
        case COL_EV_CONNECTED:
            if (h->failing)
                ks_log_info("'%s' answers again", h->srv->name);
            h->st = H_READY;
            h->backoff = 1;
            h->have_prev = false; /* a new session: do not difference across it */
            break;
        case COL_EV_FACTS:
            h->facts_needed = false;
            h->st = H_READY;
            if (store_facts(h, facts, &e) < 0) {
                json_decref(facts);
                host_fail(h, opt, set, &e, now);
                return;
            }
            host_set_facts(h, facts);
            if (opt->facts_only) {
                h->res->ok = true;
                if (h->failing || h->res->failures == 0)
                    col_state_write(h->target.study_dir, h->srv->name, NULL, time(NULL));
                h->failing = false;
            }
            break;
        case COL_EV_SAMPLE:
            h->st = H_READY;
            if (handle_reading(h, store, set, &raw, &e) < 0) {
                col_raw_clear(&raw);
                host_fail(h, opt, set, &e, now);
                return;
            }
            if (h->failing) {
                col_state_write(h->target.study_dir, h->srv->name, NULL, time(NULL));
                h->failing = false;
            }
            if (opt->once && h->readings >= 2) {
                h->st = H_DONE;
                host_close(h);
                if (!h->res->ok) {
                    /* both readings came, but their CPU counters did not
                     * move (or went back): say so, never fail silently */
                    ks_error_set(&e, KS_E_REMOTE, 0,
                                 "the two readings of '%s' gave no CPU rate: its counters did not "
                                 "move in the window; give --window more seconds",
                                 h->srv->name);
                    h->res->failures++;
                    ks_error_copy(&h->res->last_error, &e);
                    ks_log_warn("%s", e.message);
                }
                col_state_write(h->target.study_dir, h->srv->name, h->res->ok ? NULL : &e,
                                time(NULL));
            }
            break;
        case COL_EV_FAILED:
            col_raw_clear(&raw);
            host_fail(h, opt, set, &e, now);
            return;
        }
        col_raw_clear(&raw);
        /* a new state may have work due at once (the facts, the first sample) */
        host_timers(h, store, opt, set, now, opt->window > 0 ? (double)opt->window : 2.0);
        now = ks_time_mono();
    }
}

/* One connection (socket) per server, plus files: raise the soft limit on
 * open files as far as needed and allowed (it is often 1,024). */
static void raise_fd_limit(size_t servers)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    rlim_t want = (rlim_t)servers + 64;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= want)
        return;
    rlim_t cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    if (cur > rl.rlim_cur) {
        rl.rlim_cur = cur;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (cur < want)
        ks_log_warn("%zu servers need about %llu open files but the hard limit is %llu: some "
                    "connections will fail; raise it (ulimit -Hn, or LimitNOFILE= in a "
                    "systemd unit) or split the inventory with --shard",
                    servers, (unsigned long long)want, (unsigned long long)rl.rlim_max);
}

/* FNV-1a: the same on every collector machine, whatever the order of the
 * inventory, so that shards split one inventory without overlap. */
static uint32_t name_hash(const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

static bool selected(const col_options *opt, const char *name)
{
    if (opt->shard_count > 1 && name_hash(name) % opt->shard_count != opt->shard_index - 1)
        return false;
    if (!opt->nonly)
        return true;
    for (size_t i = 0; i < opt->nonly; i++)
        if (strcmp(opt->only[i], name) == 0)
            return true;
    return false;
}

/* Fill hosts[] for the selected servers of inv (results[] in parallel);
 * returns how many. Facts already in the study are loaded, so that the
 * CPU capacity and the physical NICs are known before the first sample. */
static size_t hosts_setup(const ks_study *study, const ks_inventory *inv, const col_options *opt,
                          const char *known_hosts, col_result *results, host *hosts)
{
    size_t n = 0;
    for (size_t i = 0; i < inv->count; i++) {
        const ks_server *srv = &inv->servers[i];
        if (!selected(opt, srv->name) || !col_backend_for(srv->method))
            continue;
        host *h = &hosts[n];
        h->res = &results[n];
        n++;
        h->res->name = srv->name;
        ks_error_clear(&h->res->last_error);
        for (int k = 0; k < COL_DS_COUNT; k++)
            h->res->values[k] = NAN;
        h->srv = srv;
        h->be = col_backend_for(srv->method);
        h->target = (col_target){srv, ks_study_dir(study), known_hosts, opt->accept_new_hostkeys};
        h->backoff = 1;
        h->reg_fd = -1;
        col_raw_init(&h->prev);
        h->facts_needed = true;
        KS_AUTOFREE char *facts_path = ks_study_server_file(study, "facts", srv->name, "json");
        if (opt->facts_only || !ks_path_exists(facts_path))
            continue;
        ks_error fe;
        json_t *f = ks_json_read_file(facts_path, &fe);
        if (!f) {
            ks_log_warn("%s; taking the facts of '%s' again", fe.message, srv->name);
            continue;
        }
        host_set_facts(h, f);
        h->facts_needed = false;
    }
    return n;
}

static void hosts_free(host *hosts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        host_close(&hosts[i]);
        col_raw_clear(&hosts[i].prev);
        json_decref(hosts[i].facts);
        free(hosts[i].nics);
    }
    free(hosts);
}

/* The store's creator thread made a file. */
static void on_store(ks_loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    (void)events;
    col_store_notify_drain(arg);
}

/* A stop signal: the loop has woken; the run looks at the flag. */
static void on_wake(ks_loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    (void)events;
    ks_signal_wake_drain(arg);
}

/* libssh may hold data it already read from a socket, which epoll cannot
 * see: step every active connection now and then. */
static void on_kick(ks_loop *l, ks_loop_timer *t, void *arg)
{
    (void)t;
    collect *c = arg;
    double now = ks_loop_now(l);
    c->kick = NULL; /* fired: the loop frees it */
    c->last_kick = now;
    for (size_t i = 0; i < c->n; i++) {
        host *h = &c->hosts[i];
        if (h->conn && (h->st == H_CONNECTING || h->st == H_BUSY_SAMPLE || h->st == H_BUSY_FACTS))
            host_step(h, c->store, c->opt, c->set, now);
    }
}

col_run *col_collect(const ks_study *study, const ks_inventory *inv, const col_options *opt_in,
                     ks_error *err)
{
    col_options opt = *opt_in;
    settings set;
    if (read_settings(study, &opt, &set, err) < 0)
        return NULL;
    double window = opt.window > 0 ? (double)opt.window : 2.0;
    for (size_t i = 0; i < opt.nonly; i++) {
        if (!ks_inventory_find(inv, opt.only[i])) {
            ks_error_set(err, KS_E_USAGE, 0, "no server named '%s' in the inventory", opt.only[i]);
            return NULL;
        }
    }

    KS_AUTOFREE char *known_hosts = ks_study_path(study, "known_hosts");
    KS_AUTOFREE char *rrd_dir = ks_study_path(study, "rrd");
    KS_AUTOFREE char *state_dir = ks_study_path(study, "state");
    if (ks_mkdir_p(rrd_dir, err) < 0 || ks_mkdir_p(state_dir, err) < 0)
        return NULL;
    col_store *store = NULL;
    if (!opt.facts_only) {
        store = col_store_open(rrd_dir, set.rrdcached, err);
        if (!store)
            return NULL;
    }

    col_run *run = ks_calloc(1, sizeof *run);
    run->results = ks_calloc(inv->count ? inv->count : 1, sizeof *run->results);
    host *hosts = ks_calloc(inv->count ? inv->count : 1, sizeof *hosts);
    size_t n = hosts_setup(study, inv, &opt, known_hosts, run->results, hosts);
    run->count = n;
    if (n == 0) {
        ks_error_set(err, KS_E_USAGE, 0,
                     "no server to collect: none is chosen (--only, --shard), or all are of "
                     "method 'import' (their data comes from 'kvmshift import')");
        hosts_free(hosts, n);
        col_store_free(store);
        col_run_free(run);
        return NULL;
    }
    collect c = {.store = store, .opt = &opt, .set = &set, .hosts = hosts, .n = n};
    clock_gettime(CLOCK_REALTIME, &c.started);
    c.loop = ks_loop_new(err);
    if (!c.loop) {
        hosts_free(hosts, n);
        col_store_free(store);
        col_run_free(run);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        hosts[i].run = &c;
    /* the store's creator thread says when a file is ready */
    int store_fd = store ? col_store_notify_fd(store) : -1;
    if (store_fd >= 0 && ks_loop_fd_add(c.loop, store_fd, KS_LOOP_IN, on_store, store, NULL) < 0)
        store_fd = -1;
    raise_fd_limit(n);
    /* files are made by the store's own thread, in sample order, while the
     * loop already connects and takes facts */
    for (size_t i = 0; i < n && store; i++)
        col_store_prepare_async(store, hosts[i].srv->name, set.interval);

    /* a peer that resets (a server, rrdcached) must give an error, not
     * kill the collector; without a wake pipe, a signal is still seen
     * within a second */
    c.sig = ks_signal_new(KS_SIGNAL_STOP | KS_SIGNAL_WAKE | KS_SIGNAL_IGNORE_PIPE, NULL);
    if (!c.sig)
        c.sig = ks_signal_new(KS_SIGNAL_STOP | KS_SIGNAL_IGNORE_PIPE, NULL);
    int wake_fd = ks_signal_wake_fd(c.sig);
    if (wake_fd >= 0 && ks_loop_fd_add(c.loop, wake_fd, KS_LOOP_IN, on_wake, c.sig, NULL) < 0)
        wake_fd = -1;

    double start = ks_time_mono();
    double end = opt.duration > 0 ? start + (double)opt.duration : INFINITY;
    for (size_t i = 0; i < n; i++) {
        double phase = (opt.once || opt.facts_only)
                           ? 0
                           : (double)set.interval * (double)i / (double)(n ? n : 1);
        hosts[i].next_sample = start + phase;
        /* connect a little ahead of the first sample, not all at once */
        double lead = (double)set.connect_timeout;
        hosts[i].next_connect = phase > lead ? start + phase - lead : start;
    }

    bool bounded = opt.once || opt.facts_only;
    /* the first reading of a connection only starts the rates */
    size_t readings =
        opt.duration > 0 ? (size_t)((opt.duration + set.interval - 1) / set.interval) : 0;
    size_t expected = bounded ? n : readings > 1 ? n * (readings - 1) : 0;
    ks_progress *pg = ks_progress_new(opt.facts_only ? "taking facts"
                                      : opt.once     ? "sampling"
                                                     : "collecting",
                                      expected, opt.quiet);
    c.last_kick = start;
    for (;;) {
        double now = ks_time_mono();
        bool stop = ks_signal_stop_requested(c.sig);
        size_t done = 0, busy = 0, samples = 0, ok = 0, failing = 0;
        for (size_t i = 0; i < n; i++) {
            host *h = &hosts[i];
            if (!stop && now < end && host_timers(h, store, &opt, &set, now, window))
                host_step(h, store, &opt, &set, now);
            done += h->st == H_DONE;
            busy += h->st == H_BUSY_SAMPLE || h->st == H_BUSY_FACTS;
            samples += h->res->samples;
            failing += h->failing;
            ok += !h->failing && h->res->ok;
        }
        char note[96];
        snprintf(note, sizeof note, "%zu ok, %zu failing", ok, failing);
        ks_progress_update(pg, bounded ? done : samples, note);
        if (stop || done == n || (now >= end && busy == 0))
            break;

        double wake = now + 1.0;
        bool any_active = false;
        for (size_t i = 0; i < n; i++) {
            host *h = &hosts[i];
            double t = INFINITY;
            switch (h->st) {
            case H_DOWN:
                t = h->next_connect;
                break;
            case H_READY:
                t = h->facts_needed ? now : h->next_sample;
                if (!h->facts_needed && store && t <= now)
                    t = INFINITY; /* its file is being made: the store wakes us */
                break;
            case H_CONNECTING:
            case H_BUSY_SAMPLE:
            case H_BUSY_FACTS:
                t = h->deadline;
                any_active = true;
                break;
            case H_DONE:
                break;
            }
            if (t < wake)
                wake = t;
            host_register(h);
        }
        if (end < wake)
            wake = end;
        /* the kick, due KICK_SECONDS after the last, while any connection
         * is active */
        if (any_active && !c.kick)
            c.kick = ks_loop_timer_add(c.loop, c.last_kick + KICK_SECONDS, on_kick, &c);
        else if (!any_active && c.kick) {
            ks_loop_timer_del(c.loop, c.kick);
            c.kick = NULL;
        }
        /* the ready connections are stepped, then the kick if it is due */
        if (ks_loop_run_once(c.loop, wake, err) < 0)
            break;
    }
    ks_progress_done(pg);
    ks_progress_free(pg);
    bool stopped = ks_signal_stop_requested(c.sig);
    if (wake_fd >= 0)
        ks_loop_fd_del(c.loop, wake_fd);
    ks_signal_free(c.sig);
    if (stopped)
        ks_log_info("stopped by a signal; every sample taken so far is stored");

    for (size_t i = 0; i < n; i++) {
        host *h = &hosts[i];
        if (!bounded || h->st != H_DONE) {
            if (h->st != H_DONE && bounded && !h->res->ok && h->res->last_error.code == KS_OK)
                ks_error_set(&h->res->last_error, KS_E_TIMEOUT, 0,
                             "'%s' was not sampled before the run ended", h->srv->name);
        }
    }
    if (store) {
        ks_error fe;
        if (col_store_flush(store, &fe) < 0)
            ks_log_error("%s", fe.message);
    }
    hosts_free(hosts, n);
    ks_loop_free(c.loop);
    col_store_free(store);
    return run;
}

size_t col_run_count(const col_run *run)
{
    return run->count;
}

const col_result *col_run_result(const col_run *run, size_t i)
{
    return i < run->count ? &run->results[i] : NULL;
}

void col_run_free(col_run *run)
{
    if (!run)
        return;
    free(run->results);
    free(run);
}
