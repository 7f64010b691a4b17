/* ana_plan.c: the plan of a study: every server judged and sized, one
 * packing scenario per host model (ana_pack), the comparison of the
 * scenarios, the migration nights of the recommended one (ana_nights),
 * plan.json, the summary and the explanations. */
#include "analyzer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ana_nights.h"
#include "ana_pack.h"
#include "ana_rules.h"
#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_json.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_parse.h"
#include "ks_progress.h"
#include "ks_time.h"

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * MIB)

enum { Q_P50, Q_P95, Q_P99, Q_MAX, Q_N };
static const double quantiles[Q_N] = {50, 95, 99, 100};
static const char *const quantile_names[Q_N] = {"p50", "p95", "p99", "max"};

enum { M_CPU, M_MEM, M_DISK, M_IOPS, M_NET, M_N };

typedef struct srv {
    const ks_server *inv;
    bool facts;
    char *cpu_model;
    unsigned threads, cores, sockets;
    double core_mhz, mem_total, disk_size, disk_used;
    char **blockers;
    size_t nblockers;
    long *ports;
    size_t nports;
    bool has_data;
    char *data_problem; /* its RRD file could not be read: why */
    ks_series series;   /* the study period, filled */
    size_t present;
    double confidence;
    double stats[M_N][Q_N]; /* measured slots only */
    double pctl[M_N];       /* at the policy percentile */
    double speed;
    double power_w; /* [server-power], NAN when not given */
    double cpu_avg; /* average CPU use of the source, 0..1 (NAN: unknown) */
    ana_verdict v;
    int anti, aff, pin;
} srv;

typedef struct scenario {
    const char *name;       /* the model's name, or "mixed" */
    const ana_model *model; /* new hosts open with it */
    bool mixed;             /* new hosts may be turned into cheaper models */
    size_t nexisting;       /* existing hosts ([host-model] existing), first */
    ana_host_model *pm;     /* the problem's models: every declared one */
    size_t *existing_models;
    char **host_names; /* per host: MODEL-NN, numbered per model */
    double *host_net;  /* per host: busiest slot's network, share of its budget (NAN) */
    size_t *host_vms;  /* per host: VMs on it */
    size_t nitems;
    size_t *srv_of;  /* server index of each item */
    size_t *item_of; /* item of each server, (size_t)-1 for none */
    ana_item *items;
    double **cpu;  /* per item, owned */
    bool **banned; /* per item, per model: may not be on it (owned) */
    ana_solution sol;
    bool packed;
    size_t placed, unplaced;
    double *host_cpu_peak, *host_mem; /* per host: busiest slot share, memory share */
    double power_kwh, cost, rack_units, peak_sum_hosts;
    /* per item, on the host it got (NAN when not placed): the most it can
     * draw there in MHz of that host's model (its vCPUs, or its quota), the
     * measured hours it wanted more (headroom aside), and the largest share
     * of its demand then cut off */
    double *bound_mhz;
    size_t *throttled_hours;
    double *throttled_max;
} scenario;

struct ana_plan {
    char *study_dir;
    ana_policy pol;
    ana_model *models;
    size_t nmodels;
    srv *srv;
    size_t nsrv;
    time_t slot_start;
    size_t nslots;
    scenario *sc;
    size_t nsc;    /* one per model, and "mixed" */
    double *price; /* per model: what a mixed fleet minimizes */
    const char *price_basis;
    int recommended; /* -1: none */
    char *recommended_why;
    double retired_power_kwh; /* NAN: not claimed */
    size_t retired;
    size_t power_given, power_estimated, power_unknown; /* of the retired servers */
    ana_night_policy npol;                              /* [migration] */
    ana_night_dep *deps;                                /* [depends NAME], server indices */
    size_t ndeps;
    ana_night_item *nitems;     /* the recommended scenario's placed servers */
    size_t *night_srv;          /* server index of each night item */
    ana_night_dep *ndeps_items; /* deps between night items */
    ana_nights_in nin;
    ana_schedule sched;
};

/* ---- Reading ------------------------------------------------------------ */

static double jnum(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A listening address only the server itself can reach (systemd-resolved's
 * 127.0.0.53, a database on ::1): a service there serves nobody else, so
 * its port says nothing of the server's role. */
static bool loopback(const char *addr)
{
    if (!addr)
        return false;
    if (*addr == '[')
        addr++;
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 || strcmp(addr, "::1]") == 0 ||
           strncmp(addr, "::ffff:127.", 11) == 0 || strcmp(addr, "localhost") == 0;
}

static int read_facts(const char *path, srv *s, ks_error *err)
{
    if (!ks_path_exists(path))
        return 0;
    json_t *f = ks_json_read_file(path, err);
    if (!f)
        return -1;
    s->facts = true;
    const json_t *cpu = json_object_get(f, "cpu"), *mem = json_object_get(f, "memory");
    const char *model = json_string_value(json_object_get(cpu, "model"));
    s->cpu_model = model ? ks_strdup(model) : NULL;
    double t = jnum(cpu, "threads"), c = jnum(cpu, "cores"), so = jnum(cpu, "sockets");
    s->sockets = isnan(so) || so < 1 ? 0 : (unsigned)so;
    s->threads = isnan(t) || t < 1 ? 0 : (unsigned)t;
    s->cores = isnan(c) || c < 1 ? 0 : (unsigned)c;
    if (!s->threads)
        s->threads = s->cores;
    s->core_mhz = jnum(cpu, "mhz");
    s->mem_total = jnum(mem, "total_bytes");
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(f, "disks"), i, e)
    {
        double v = jnum(e, "size_bytes");
        s->disk_size = isnan(s->disk_size) ? v : s->disk_size + (isnan(v) ? 0 : v);
    }
    json_array_foreach(json_object_get(f, "filesystems"), i, e)
    {
        double v = jnum(e, "used_bytes");
        s->disk_used = isnan(s->disk_used) ? v : s->disk_used + (isnan(v) ? 0 : v);
    }
    json_array_foreach(json_object_get(f, "virtualization_blockers"), i, e)
    {
        if (!json_is_string(e))
            continue;
        s->blockers = ks_reallocarray(s->blockers, s->nblockers + 1, sizeof *s->blockers);
        s->blockers[s->nblockers++] = ks_strdup(json_string_value(e));
    }
    json_array_foreach(json_object_get(f, "listening"), i, e)
    {
        double p = jnum(e, "port");
        if (isnan(p) || loopback(json_string_value(json_object_get(e, "address"))))
            continue;
        s->ports = ks_reallocarray(s->ports, s->nports + 1, sizeof *s->ports);
        s->ports[s->nports++] = (long)p;
    }
    json_decref(f);
    return 0;
}

/* The servers of a [anti-affinity NAME] or [affinity NAME] section's
 * 'servers' list get group number g. */
static int read_groups(const ks_ini *ini, ana_plan *pl, const char *kind, bool anti, ks_error *err)
{
    int g = 0;
    size_t klen = strlen(kind);
    for (size_t i = 0; i < ks_ini_section_count(ini); i++) {
        const char *sec = ks_ini_section_name(ini, i);
        if (strncmp(sec, kind, klen) != 0 || sec[klen] != ' ')
            continue;
        const char *list = ks_ini_get(ini, sec, "servers");
        if (!list || !*list) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s: [%s] needs 'servers = NAME, NAME, ...' (servers of the inventory)",
                         ks_ini_filename(ini), sec);
            return -1;
        }
        const char *p = list;
        while (*p) {
            p += strspn(p, ", \t");
            size_t len = strcspn(p, ", \t");
            if (!len)
                break;
            size_t k;
            for (k = 0; k < pl->nsrv; k++)
                if (strlen(pl->srv[k].inv->name) == len &&
                    strncmp(pl->srv[k].inv->name, p, len) == 0)
                    break;
            if (k == pl->nsrv) {
                ks_error_set(err, KS_E_CONFIG, 0,
                             "%s:%u: [%s] names '%.*s', which is not in inventory.csv: fix the "
                             "name or remove it",
                             ks_ini_filename(ini), ks_ini_line(ini, sec, "servers"), sec, (int)len,
                             p);
                return -1;
            }
            int *slot = anti ? &pl->srv[k].anti : &pl->srv[k].aff;
            if (*slot >= 0 && *slot != g) {
                ks_error_set(err, KS_E_CONFIG, 0,
                             "%s:%u: '%s' is in two [%s ...] sections; one server can be in "
                             "one only: merge the two",
                             ks_ini_filename(ini), ks_ini_line(ini, sec, "servers"),
                             pl->srv[k].inv->name, kind);
                return -1;
            }
            *slot = g;
            p += len;
        }
        g++;
    }
    return 0;
}

static int cmp_time(const void *a, const void *b)
{
    time_t x = *(const time_t *)a, y = *(const time_t *)b;
    return x < y ? -1 : x > y;
}

/* The study period: [policy] start/end, else from the median first to the
 * median last slot of the servers with data, so that a server that starts
 * late (or stops early) shows as missing data rather than shrinking
 * everyone's period. */
/* The longest study period: two years, more than the hourly archives of
 * any file hold (400 days, README: rrd/NAME.rrd); more is a typo in
 * [policy] start or end (99999999999 made 27.8 M slots, 97 s and 18 GB). */
#define MAX_PERIOD_DAYS 731

static void put_day(time_t t, char *out, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M", &tm);
}

/* The study period: [policy] start and end when given, within the data's
 * span; else the median server's first and last slots. */
static int choose_period(ana_plan *pl, ks_series *raw, const ks_ini *ini, ks_error *err)
{
    long slot = pl->pol.slot_seconds;
    time_t *firsts = ks_calloc(pl->nsrv + 1, sizeof *firsts);
    time_t *lasts = ks_calloc(pl->nsrv + 1, sizeof *lasts);
    size_t n = 0;
    for (size_t i = 0; i < pl->nsrv; i++) {
        if (!raw[i].nslots)
            continue;
        firsts[n] = raw[i].slot_start;
        lasts[n++] = raw[i].slot_start + (time_t)raw[i].nslots * slot;
    }
    time_t start = 0, end = 0, data_lo = 0, data_hi = 0;
    if (n) {
        ks_qsort(firsts, n, sizeof *firsts, cmp_time);
        ks_qsort(lasts, n, sizeof *lasts, cmp_time);
        data_lo = firsts[0];
        data_hi = lasts[n - 1];
        start = firsts[n / 2];
        end = lasts[n / 2];
        if (end <= start) {
            start = data_lo;
            end = data_hi;
        }
    }
    free(firsts);
    free(lasts);
    const char *file = ks_ini_filename(ini);
    /* (an end not after the start was refused by ana_policy_parse) */
    if (pl->pol.start)
        start = pl->pol.start - pl->pol.start % slot;
    if (pl->pol.end)
        end = pl->pol.end;
    if ((pl->pol.start || pl->pol.end) && n) {
        /* bounded by the data: no slot before the first or after the last
         * row of any server */
        if (start < data_lo - data_lo % slot)
            start = data_lo - data_lo % slot;
        if (end > data_hi)
            end = data_hi;
        if (end <= start) {
            char a[32], b[32];
            put_day(data_lo, a, sizeof a);
            put_day(data_hi, b, sizeof b);
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: the study period of [policy] start and end holds none of the "
                         "data, which spans %s to %s UTC: move them into it, or remove them",
                         file, ks_ini_line(ini, "policy", pl->pol.start ? "start" : "end"), a, b);
            return -1;
        }
    }
    if (end < start)
        end = start;
    if (end - start > (time_t)MAX_PERIOD_DAYS * 86400) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "%s: the study period is %.0f days, more than %d (no file holds more than "
                     "400 days of hours): set [policy] start and end to at most %d days apart",
                     file, (double)(end - start) / 86400, MAX_PERIOD_DAYS, MAX_PERIOD_DAYS);
        return -1;
    }
    pl->slot_start = start;
    pl->nslots = (size_t)((end - start + slot - 1) / slot);
    return 0;
}

static void measure(srv *s, const ana_policy *pol)
{
    const double *arr[M_N] = {s->series.cpu_mhz, s->series.mem_bytes, s->series.disk_bps,
                              s->series.disk_iops, s->series.net_bps};
    for (int m = 0; m < M_N; m++) {
        for (int q = 0; q < Q_N; q++)
            s->stats[m][q] = ana_percentile(arr[m], s->series.nslots, quantiles[q]);
        s->pctl[m] = ana_percentile(arr[m], s->series.nslots, pol->percentile);
    }
}

/* ---- Scenarios ---------------------------------------------------------- */

static unsigned item_vcpus(const ana_plan *pl, const srv *s, const ana_model *m)
{
    double need = ana_target_mhz(&pl->pol, m, s->pctl[M_CPU], s->speed);
    return ana_size_vcpus(need, m->mhz, s->threads, pl->pol.allow_upsize);
}

/* With cpu_cap = percentile, the CPU quota of server s in MHz of model m:
 * its sized percentile, headroom included, and at least a tenth of one of
 * m's cores (an idle server still boots and logs in) */
static double quota_mhz(const ana_plan *pl, const srv *s, const ana_model *m)
{
    double q = ana_target_mhz(&pl->pol, m, s->pctl[M_CPU], s->speed);
    return q > m->mhz / 10 ? q : m->mhz / 10;
}

/* The most CPU server s can draw in a scenario that opens hosts of model m,
 * in MHz of m: what its vCPUs deliver on the fastest host model it may be
 * placed on (banned: the models it may not be), and with cpu_cap =
 * percentile at most its quota (its sized percentile, headroom included). */
static double item_cpu_bound(const ana_plan *pl, const srv *s, const ana_model *m, unsigned vcpus,
                             const bool *banned)
{
    double core = 0;
    for (size_t j = 0; j < pl->nmodels; j++) {
        const ana_model *o = &pl->models[j];
        if (o != m && banned && banned[j])
            continue;
        double c = o->mhz * o->speed_factor / m->speed_factor;
        core = c > core ? c : core;
    }
    double v = vcpus * core;
    if (pl->pol.cpu_cap == ANA_CPU_CAP_PERCENTILE) {
        double q = quota_mhz(pl, s, m);
        return q < v ? q : v;
    }
    return v;
}

/* What item k of sc can draw on a host of model j, in MHz of the model sc
 * opens hosts with (its quota with cpu_cap = percentile, else its vCPUs on
 * j's cores). */
static double item_bound_on(const ana_plan *pl, const scenario *sc, size_t k, size_t j)
{
    const srv *s = &pl->srv[sc->srv_of[k]];
    const ana_model *m = sc->model, *o = &pl->models[j];
    double v = sc->items[k].vcpus * o->mhz * o->speed_factor / m->speed_factor;
    if (pl->pol.cpu_cap == ANA_CPU_CAP_PERCENTILE) {
        /* (a quota above what the vCPUs give would hold nothing) */
        double q = quota_mhz(pl, s, m);
        return q < v ? q : v;
    }
    return v;
}

/* The packing problem's host models: every declared model, CPU capacity in
 * MHz of the opening model m (the items' unit: a host of speed factor f
 * does f / m's factor as much per MHz), limits and overheads of [policy]. */
static ana_host_model *problem_models(const ana_plan *pl, const ana_model *m)
{
    const ana_policy *pol = &pl->pol;
    ana_host_model *pm = ks_calloc(pl->nmodels, sizeof *pm);
    for (size_t k = 0; k < pl->nmodels; k++) {
        const ana_model *o = &pl->models[k];
        pm[k] = (ana_host_model){
            .cpu_mhz = o->cores * o->mhz * o->speed_factor / m->speed_factor,
            .cores = o->cores,
            .mem_mib = o->memory_gib * 1024,
            .cpu_limit = pol->cpu_max,
            .mem_limit = pol->mem_max,
            .host_cpu_mhz = pol->host_cpu_overhead_mhz,
            .host_mem_mib = pol->host_mem_overhead_gib * 1024,
            .vm_cpu_mhz = 0,
            .vm_mem_mib = pol->vm_mem_overhead_mib,
            .vcpu_ratio = pol->vcpu_ratio,
            .price = pl->price[k],
        };
    }
    return pm;
}

/* One scenario: hosts of model m, or (mixed) a mixed fleet opened with m;
 * base: NULL, or m's own scenario, whose packing a mixed fleet starts from
 * instead of packing again (the same items and hosts). */
static int scenario_build(ana_plan *pl, scenario *sc, const ana_model *m, bool mixed,
                          const scenario *base, ks_error *err)
{
    const ana_policy *pol = &pl->pol;
    sc->name = mixed ? "mixed" : m->name;
    sc->model = m;
    sc->mixed = mixed;
    sc->srv_of = ks_calloc(pl->nsrv + 1, sizeof *sc->srv_of);
    sc->items = ks_calloc(pl->nsrv + 1, sizeof *sc->items);
    sc->cpu = ks_calloc(pl->nsrv + 1, sizeof *sc->cpu);
    sc->banned = ks_calloc(pl->nsrv + 1, sizeof *sc->banned);
    sc->item_of = ks_calloc(pl->nsrv + 1, sizeof *sc->item_of);
    for (size_t i = 0; i < pl->nsrv; i++)
        sc->item_of[i] = (size_t)-1;
    size_t midx = (size_t)(m - pl->models);
    for (size_t i = 0; i < pl->nsrv; i++) {
        srv *s = &pl->srv[i];
        if (s->v.status == ANA_NOT_ELIGIBLE || s->v.too_busy[midx])
            continue;
        size_t k = sc->nitems++;
        sc->srv_of[k] = i;
        sc->item_of[i] = k;
        /* hosts of other models (existing ones, or a mixed fleet's): not
         * those it is too busy for, nor those whose slower cores would need
         * more vCPUs than it is sized with here */
        unsigned vcpus = item_vcpus(pl, s, m);
        sc->banned[k] = ks_calloc(pl->nmodels + 1, sizeof **sc->banned);
        for (size_t j = 0; j < pl->nmodels; j++)
            sc->banned[k][j] =
                j != midx && (s->v.too_busy[j] || item_vcpus(pl, s, &pl->models[j]) > vcpus);
        /* the hourly demand on the target CPU: all it measured (nothing on
         * a KVM host stops a VM at its percentile), bounded by what its
         * vCPUs deliver on the fastest host it may get; with cpu_cap =
         * percentile, capped at the sized percentile, which the domain's
         * CPU quota then enforces */
        double *cpu = ks_malloc((pl->nslots ? pl->nslots : 1) * sizeof *cpu);
        double bound = item_cpu_bound(pl, s, m, vcpus, sc->banned[k]);
        for (size_t t = 0; t < pl->nslots; t++) {
            double d = ana_target_mhz(pol, m, s->series.cpu_mhz[t], s->speed);
            cpu[t] = d < bound ? d : bound;
        }
        sc->cpu[k] = cpu;
        sc->items[k] = (ana_item){
            .name = s->inv->name,
            .cpu = cpu,
            .mem_mib = s->v.memory_mib,
            .vcpus = vcpus,
            .anti_group = s->anti,
            .affinity_group = s->aff,
            .pinned_host = s->pin,
            .banned = sc->banned[k],
        };
    }
    /* existing hosts of every model, in the order of study.ini */
    sc->pm = problem_models(pl, m);
    for (size_t k = 0; k < pl->nmodels; k++)
        sc->nexisting += pl->models[k].existing;
    sc->existing_models = ks_calloc(sc->nexisting + 1, sizeof *sc->existing_models);
    for (size_t k = 0, e = 0; k < pl->nmodels; k++)
        for (unsigned j = 0; j < pl->models[k].existing; j++)
            sc->existing_models[e++] = k;
    ana_problem p = {
        .nslots = pl->nslots,
        .nitems = sc->nitems,
        .items = sc->items,
        .model = sc->pm[midx],
        .models = sc->pm,
        .nmodels = pl->nmodels,
        .new_model = midx,
        .mixed = mixed,
        .n_plus_1 = pol->n_plus_1,
        .existing_hosts = sc->nexisting,
        .existing_models = sc->existing_models,
    };
    if (sc->nitems || sc->nexisting) {
        if (base && base->packed && base->nitems == sc->nitems) {
            if (ana_pack_mixed(&p, &base->sol, &sc->sol, err) < 0)
                return -1;
        } else if (ana_pack(&p, &sc->sol, err) < 0) {
            return -1;
        }
        sc->packed = true;
    }
    double usable = p.model.cpu_mhz * p.model.cpu_limit - p.model.host_cpu_mhz;
    double peaks = 0;
    for (size_t k = 0; k < sc->nitems; k++) {
        double mx = 0;
        for (size_t t = 0; t < pl->nslots; t++)
            mx = sc->cpu[k][t] > mx ? sc->cpu[k][t] : mx;
        peaks += mx;
        if (sc->sol.host_of[k] >= 0)
            sc->placed++;
        else
            sc->unplaced++;
    }
    sc->peak_sum_hosts = usable > 0 ? ceil(peaks / usable - 1e-9) : 0;

    /* per host: its name, busiest slot, memory, network, and the average
     * CPU use for power; cost counts new hosts only (existing ones are
     * bought), power and rack space every host */
    size_t nh = sc->sol.nhosts;
    sc->host_names = ks_calloc(nh + 1, sizeof *sc->host_names);
    sc->host_cpu_peak = ks_calloc(nh + 1, sizeof *sc->host_cpu_peak);
    sc->host_mem = ks_calloc(nh + 1, sizeof *sc->host_mem);
    sc->host_net = ks_calloc(nh + 1, sizeof *sc->host_net);
    sc->host_vms = ks_calloc(nh + 1, sizeof *sc->host_vms);
    size_t *per_model = ks_calloc(pl->nmodels + 1, sizeof *per_model);
    double *load = ks_calloc(pl->nslots + 1, sizeof *load);
    double *net = ks_calloc(pl->nslots + 1, sizeof *net);
    double *real = ks_calloc(pl->nslots + 1, sizeof *real);
    sc->bound_mhz = ks_calloc(sc->nitems + 1, sizeof *sc->bound_mhz);
    sc->throttled_hours = ks_calloc(sc->nitems + 1, sizeof *sc->throttled_hours);
    sc->throttled_max = ks_calloc(sc->nitems + 1, sizeof *sc->throttled_max);
    for (size_t k = 0; k < sc->nitems; k++)
        sc->bound_mhz[k] = NAN;
    double watts = 0;
    sc->cost = sc->rack_units = 0;
    for (size_t h = 0; h < nh; h++) {
        size_t k = sc->sol.host_model[h];
        const ana_model *hm = &pl->models[k];
        const ana_host_model *cap = &sc->pm[k];
        sc->host_names[h] = ks_asprintf("%s-%02zu", hm->name, ++per_model[k]);
        memset(load, 0, (pl->nslots + 1) * sizeof *load);
        memset(net, 0, (pl->nslots + 1) * sizeof *net);
        memset(real, 0, (pl->nslots + 1) * sizeof *real);
        double mem = cap->host_mem_mib;
        for (size_t j = 0; j < sc->nitems; j++) {
            if (sc->sol.host_of[j] != (int)h)
                continue;
            const srv *s = &pl->srv[sc->srv_of[j]];
            sc->host_vms[h]++;
            mem += sc->items[j].mem_mib + cap->vm_mem_mib;
            /* the measured series again, on this host's own cores: what
             * the VM can really draw here, for the check below and for
             * the hours it would want more */
            double b = item_bound_on(pl, sc, j, k);
            double to_host = sc->model->speed_factor / hm->speed_factor;
            sc->bound_mhz[j] = b * to_host;
            for (size_t t = 0; t < pl->nslots; t++) {
                load[t] += sc->cpu[j][t];
                net[t] += isnan(s->series.net_bps[t]) ? 0 : s->series.net_bps[t];
                double d = ana_target_mhz(&pl->pol, sc->model, s->series.cpu_mhz[t], s->speed);
                real[t] += d < b ? d : b;
                double want = d / (1 + pl->pol.headroom);
                if (s->series.measured && s->series.measured[t] && want > b * (1 + 1e-9)) {
                    sc->throttled_hours[j]++;
                    double cut = (want - b) / want;
                    sc->throttled_max[j] = cut > sc->throttled_max[j] ? cut : sc->throttled_max[j];
                }
            }
        }
        /* the packing's promise, checked on the measured series rather
         * than on the demand it was given (a demand built wrong, such as
         * one capped below what a VM can draw, shows here) */
        for (size_t t = 0; t < pl->nslots; t++) {
            double limit = cap->cpu_mhz * cap->cpu_limit - cap->host_cpu_mhz;
            double vms = (double)sc->host_vms[h] * cap->vm_cpu_mhz;
            if (real[t] + vms > limit * (1 + 1e-6) + 1e-6) {
                ks_error_set(err, KS_E_INTERNAL, 0,
                             "scenario '%s': host %s would need %.0f MHz in slot %zu on its VMs' "
                             "measured load, above its limit of %.0f MHz (a bug, please report "
                             "it)",
                             sc->name, sc->host_names[h],
                             (real[t] + vms) * sc->model->speed_factor / hm->speed_factor, t,
                             limit * sc->model->speed_factor / hm->speed_factor);
                free(load);
                free(net);
                free(real);
                free(per_model);
                return -1;
            }
        }
        double sum = 0, peak = 0, npeak = 0;
        for (size_t t = 0; t < pl->nslots; t++) {
            double u = (load[t] + cap->host_cpu_mhz) / cap->cpu_mhz;
            sum += u;
            peak = u > peak ? u : peak;
            npeak = net[t] > npeak ? net[t] : npeak;
        }
        double avg = pl->nslots ? sum / (double)pl->nslots : 0;
        sc->host_cpu_peak[h] = peak;
        sc->host_mem[h] = mem / cap->mem_mib;
        sc->host_net[h] = npeak * 8 / (hm->network_gbps * 1e9); /* NAN without a budget */
        watts += hm->power_idle_w + (hm->power_max_w - hm->power_idle_w) * (avg > 1 ? 1 : avg);
        if (h >= sc->nexisting)
            sc->cost += hm->cost;
        sc->rack_units += hm->rack_units;
    }
    free(load);
    free(net);
    free(real);
    free(per_model);
    sc->power_kwh = watts * 8760.0 / 1000.0; /* NAN when a model has no power figures */
    return 0;
}

static void scenario_free(scenario *sc)
{
    for (size_t k = 0; k < sc->nitems; k++) {
        free(sc->cpu[k]);
        free(sc->banned[k]);
    }
    free(sc->cpu);
    free(sc->banned);
    free(sc->items);
    free(sc->srv_of);
    free(sc->item_of);
    for (size_t h = 0; sc->host_names && h < sc->sol.nhosts; h++)
        free(sc->host_names[h]);
    free(sc->host_names);
    if (sc->packed)
        ana_solution_free(&sc->sol);
    free(sc->host_cpu_peak);
    free(sc->host_mem);
    free(sc->host_net);
    free(sc->host_vms);
    free(sc->bound_mhz);
    free(sc->throttled_hours);
    free(sc->throttled_max);
    free(sc->pm);
    free(sc->existing_models);
}

/* Is a better than b: more placed, lower cost (when both are known: what
 * a manager decides on), fewer hosts, lower power? *why gets the deciding
 * criterion. */
static int compare_sc(const scenario *a, const scenario *b, const char **why)
{
    /* placed, not unplaced: a server too busy for a model is left out of
     * that model's scenario before packing and never counts as unplaced */
    if (a->placed != b->placed) {
        *why = "places more servers";
        return a->placed > b->placed ? -1 : 1;
    }
    if (!isnan(a->cost) && !isnan(b->cost) && a->cost != b->cost) {
        *why = "costs less";
        return a->cost < b->cost ? -1 : 1;
    }
    if (a->sol.nhosts != b->sol.nhosts) {
        *why = "needs fewer hosts";
        return a->sol.nhosts < b->sol.nhosts ? -1 : 1;
    }
    if (!isnan(a->power_kwh) && !isnan(b->power_kwh) && a->power_kwh != b->power_kwh) {
        *why = "uses less power for the same cost and number of hosts";
        return a->power_kwh < b->power_kwh ? -1 : 1;
    }
    *why = "ties on cost, hosts and power; the first declared is taken";
    return 0;
}

static void recommend(ana_plan *pl)
{
    pl->recommended = -1;
    for (size_t i = 0; i < pl->nsc; i++) {
        if (!pl->sc[i].placed)
            continue;
        const char *why;
        if (pl->recommended < 0 || compare_sc(&pl->sc[i], &pl->sc[pl->recommended], &why) < 0)
            pl->recommended = (int)i;
    }
    if (pl->recommended < 0)
        return;
    const scenario *r = &pl->sc[pl->recommended];
    ks_buf b;
    ks_buf_init(&b, 1 << 16);
    ks_buf_printf(&b, "'%s' %s: %zu host%s for %zu VMs", r->name,
                  pl->nsc == 1 ? "is the only host model declared" : "is the best", r->sol.nhosts,
                  r->sol.nhosts == 1 ? "" : "s", r->placed);
    for (size_t i = 0; i < pl->nsc; i++) {
        if ((int)i == pl->recommended)
            continue;
        const char *why;
        compare_sc(r, &pl->sc[i], &why);
        ks_buf_printf(&b, "; against '%s' (%zu hosts for %zu VMs) it %s", pl->sc[i].name,
                      pl->sc[i].sol.nhosts, pl->sc[i].placed, why);
    }
    pl->recommended_why = ks_buf_steal(&b);
}

/* What a mixed fleet minimizes per host: the cost when every model has
 * one, else the power at full load when every model has it, else the
 * capacity (cores x MHz x speed: smaller is cheaper). */
static void choose_prices(ana_plan *pl)
{
    bool cost = true, power = true;
    for (size_t k = 0; k < pl->nmodels; k++) {
        cost &= !isnan(pl->models[k].cost);
        power &= !isnan(pl->models[k].power_max_w);
    }
    pl->price = ks_calloc(pl->nmodels + 1, sizeof *pl->price);
    pl->price_basis = cost ? "cost" : power ? "power_max_w" : "capacity";
    for (size_t k = 0; k < pl->nmodels; k++) {
        const ana_model *m = &pl->models[k];
        pl->price[k] = cost    ? m->cost
                       : power ? m->power_max_w
                               : m->cores * m->mhz * m->speed_factor;
    }
}

/* The model a mixed fleet opens hosts with: the largest (CPU x speed, then
 * memory); smaller models then replace the hosts they can. */
static const ana_model *largest_model(const ana_plan *pl)
{
    const ana_model *best = &pl->models[0];
    for (size_t k = 1; k < pl->nmodels; k++) {
        const ana_model *m = &pl->models[k];
        double a = m->cores * m->mhz * m->speed_factor,
               b = best->cores * best->mhz * best->speed_factor;
        if (a > b || (a == b && m->memory_gib > best->memory_gib))
            best = m;
    }
    return best;
}

/* The power of the physical servers the recommended scenario retires:
 * [server-power] when given, else estimated from the facts (sockets,
 * memory) and the server's average CPU use with the [policy] coefficients;
 * servers without facts are counted as unknown. */
static void retired_power(ana_plan *pl)
{
    const scenario *r = &pl->sc[pl->recommended];
    const ana_policy *pol = &pl->pol;
    double w = 0;
    for (size_t k = 0; k < r->nitems; k++) {
        if (r->sol.host_of[k] < 0)
            continue;
        const srv *s = &pl->srv[r->srv_of[k]];
        pl->retired++;
        if (!isnan(s->power_w)) {
            w += s->power_w;
            pl->power_given++;
        } else if (s->facts && (s->cores || s->sockets)) {
            double u = isnan(s->cpu_avg) ? 0.1 : s->cpu_avg;
            double gib = isnan(s->mem_total) ? 0 : s->mem_total / GIB;
            w += pol->server_base_w +
                 (s->sockets ? s->sockets : 1) *
                     (pol->socket_idle_w + (pol->socket_max_w - pol->socket_idle_w) * u) +
                 gib * pol->w_per_gib;
            pl->power_estimated++;
        } else {
            pl->power_unknown++;
        }
    }
    pl->retired_power_kwh = pl->power_given + pl->power_estimated ? w * 8760.0 / 1000.0 : NAN;
}

/* ---- Migration nights --------------------------------------------------- */

/* The servers placed in the recommended scenario, scheduled over the nights
 * of [migration] (ana_nights.c); dependencies between two of them count,
 * those with a server that does not move are left out. */
static int plan_nights(ana_plan *pl, ks_error *err)
{
    pl->nitems = ks_calloc(pl->nsrv + 1, sizeof *pl->nitems);
    pl->night_srv = ks_calloc(pl->nsrv + 1, sizeof *pl->night_srv);
    pl->ndeps_items = ks_calloc(pl->ndeps + 1, sizeof *pl->ndeps_items);
    size_t n = 0, nd = 0;
    size_t *item_of = ks_calloc(pl->nsrv + 1, sizeof *item_of);
    for (size_t i = 0; i < pl->nsrv; i++)
        item_of[i] = (size_t)-1;
    if (pl->recommended >= 0) {
        const scenario *r = &pl->sc[pl->recommended];
        const ana_model *m = r->model;
        for (size_t k = 0; k < r->nitems; k++) {
            if (r->sol.host_of[k] < 0)
                continue;
            const srv *s = &pl->srv[r->srv_of[k]];
            /* p95 CPU demand on the target, against one host */
            double p95 = s->stats[M_CPU][Q_P95];
            double share = isnan(p95) ? 0 : p95 * s->speed / m->speed_factor / (m->cores * m->mhz);
            item_of[r->srv_of[k]] = n;
            pl->night_srv[n] = r->srv_of[k];
            pl->nitems[n++] = (ana_night_item){
                .name = s->inv->name,
                .disk_gib = isnan(s->disk_used) ? NAN : s->disk_used / GIB,
                .cpu_share = share,
                .anti_group = s->anti,
            };
        }
    }
    for (size_t e = 0; e < pl->ndeps; e++) {
        size_t a = item_of[pl->deps[e].server], b = item_of[pl->deps[e].need];
        if (a != (size_t)-1 && b != (size_t)-1)
            pl->ndeps_items[nd++] = (ana_night_dep){.server = a, .need = b};
    }
    free(item_of);
    pl->nin = (ana_nights_in){
        .pol = &pl->npol,
        .items = pl->nitems,
        .nitems = n,
        .deps = pl->ndeps_items,
        .ndeps = nd,
    };
    return ana_nights_plan(&pl->nin, &pl->sched, err);
}

/* ---- Building ----------------------------------------------------------- */

/* The keys of [section] name servers ([pin], [server-power]): one that
 * names none of the inventory is a typo, refused with the nearest name
 * (it would be ignored silently). The distances are computed only for a
 * key that is not found. */
static int unknown_servers(const ks_ini *ini, const ks_inventory *inv, const char *section,
                           ks_error *err)
{
    size_t nkeys;
    KS_AUTOFREE const char **keys = ks_ini_keys(ini, section, &nkeys);
    for (size_t k = 0; k < nkeys; k++) {
        if (ks_inventory_find(inv, keys[k]))
            continue;
        const char *hint = NULL;
        unsigned best = 3;
        for (size_t i = 0; i < inv->count; i++) {
            unsigned d = ks_edit_distance(keys[k], inv->servers[i].name, best);
            if (d < best) {
                best = d;
                hint = inv->servers[i].name;
            }
        }
        ks_error_set(err, KS_E_CONFIG, 0,
                     "%s:%u: [%s] names '%s', which is not in the inventory%s%s%s",
                     ks_ini_filename(ini), ks_ini_line(ini, section, keys[k]), section, keys[k],
                     hint ? ": did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
        return -1;
    }
    return 0;
}

/* A scenario per host model, and the mixed fleet's; packing is most of
 * the time on a large study (about 10 s per model at 10,000 servers), so
 * it shows a step per scenario, named. */
static int build_scenarios(ana_plan *pl, bool quiet, ks_error *err)
{
    bool mixed = pl->nmodels > 1 && pl->pol.mixed_fleet;
    ks_progress *prog = ks_progress_new("packing", pl->nmodels + mixed, quiet);
    int rc = 0;
    for (size_t m = 0; m < pl->nmodels && rc == 0; m++) {
        ks_progress_update(prog, m, pl->models[m].name);
        rc = scenario_build(pl, &pl->sc[m], &pl->models[m], false, NULL, err);
        pl->nsc += rc == 0;
    }
    if (rc == 0 && mixed) {
        ks_progress_update(prog, pl->nmodels, "mixed fleet");
        const ana_model *big = largest_model(pl);
        rc = scenario_build(pl, &pl->sc[pl->nsc], big, true, &pl->sc[big - pl->models], err);
        pl->nsc += rc == 0;
    }
    if (rc == 0) {
        ks_progress_update(prog, pl->nmodels + mixed, NULL);
        ks_progress_done(prog);
    }
    ks_progress_free(prog);
    return rc < 0 ? -1 : 0;
}

ana_plan *ana_plan_build(const ks_study *study, const ks_inventory *inv, const ana_options *opt,
                         ks_error *err)
{
    const ks_ini *ini = ks_study_ini(study);
    ana_plan *pl = ks_calloc(1, sizeof *pl);
    pl->study_dir = ks_strdup(ks_study_dir(study));
    pl->recommended = -1;
    pl->retired_power_kwh = NAN;
    ks_series *raw = ks_calloc(inv->count + 1, sizeof *raw);
    ks_progress *prog = NULL;
    if (ana_policy_parse(ini, &pl->pol, err) < 0) {
        pl->pol = (ana_policy){0};
        goto fail;
    }
    if (ana_models_parse(ini, &pl->models, &pl->nmodels, err) < 0)
        goto fail;
    pl->nsrv = inv->count;
    pl->srv = ks_calloc(pl->nsrv + 1, sizeof *pl->srv);
    for (size_t i = 0; i < pl->nsrv; i++) {
        srv *s = &pl->srv[i];
        s->inv = &inv->servers[i];
        s->anti = s->aff = s->pin = -1;
        s->disk_size = s->disk_used = s->core_mhz = s->mem_total = NAN;
        const char *pin = ks_ini_get(ini, "pin", s->inv->name);
        long h;
        if (pin && !ks_parse_int(pin, 1, 100000, &h)) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: [pin] '%s' must be a host number from 1 (the first host of "
                         "each scenario), not '%s'",
                         ks_ini_filename(ini), ks_ini_line(ini, "pin", s->inv->name), s->inv->name,
                         pin);
            goto fail;
        }
        if (pin)
            s->pin = (int)h - 1;
        /* the server's average power in watts: 100 kW is more than any
         * server draws (1e308 printed "inf kWh/year") */
        if (ks_ini_get_double(ini, "server-power", s->inv->name, NAN, 0, 1e5, &s->power_w, err) < 0)
            goto fail;
    }
    if (unknown_servers(ini, inv, "pin", err) < 0 ||
        unknown_servers(ini, inv, "server-power", err) < 0)
        goto fail;
    if (read_groups(ini, pl, "anti-affinity", true, err) < 0 ||
        read_groups(ini, pl, "affinity", false, err) < 0)
        goto fail;
    {
        const char **names = ks_calloc(pl->nsrv + 1, sizeof *names);
        for (size_t i = 0; i < pl->nsrv; i++)
            names[i] = pl->srv[i].inv->name;
        int rc = ana_depends_parse(ini, names, pl->nsrv, &pl->deps, &pl->ndeps, err);
        free(names);
        if (rc < 0)
            goto fail;
    }

    prog = ks_progress_new("reading", pl->nsrv, opt && opt->quiet);
    for (size_t i = 0; i < pl->nsrv; i++) {
        srv *s = &pl->srv[i];
        /* a migrated server switched to its VM: its physical history and
         * facts, so that the plan stays the plan of the physical servers */
        KS_AUTOFREE char *fp = ks_study_physical_facts(ks_study_dir(study), s->inv->name);
        KS_AUTOFREE char *rp = ks_study_physical_rrd(ks_study_dir(study), s->inv->name);
        if (read_facts(fp, s, err) < 0)
            goto fail;
        s->speed = ana_policy_speed(&pl->pol, s->cpu_model);
        double cap = s->cores && !isnan(s->core_mhz) ? s->cores * s->core_mhz : 0;
        if (ks_path_exists(rp) &&
            ks_series_read(rp, pl->pol.slot_seconds, cap, 0, &raw[i], err) < 0) {
            if (err->code != KS_E_RRD)
                goto fail;
            /* a damaged or foreign file: this server is not planned, the
             * others are */
            ks_log_warn("'%s': %s", s->inv->name, err->message);
            s->data_problem = ks_strdup(err->message);
            ks_error_clear(err);
        }
        ks_progress_update(prog, i + 1, NULL);
    }
    ks_progress_done(prog);
    if (choose_period(pl, raw, ini, err) < 0)
        goto fail;
    /* the first night: the first day of [migration] days after the last data day */
    if (ana_night_policy_parse(ini, pl->slot_start + (time_t)pl->nslots * pl->pol.slot_seconds - 1,
                               &pl->npol, err) < 0)
        goto fail;

    for (size_t i = 0; i < pl->nsrv; i++) {
        srv *s = &pl->srv[i];
        ks_series_window(&raw[i], pl->slot_start, pl->pol.slot_seconds, pl->nslots, &s->series);
        s->present = ks_series_present(&s->series);
        s->has_data = raw[i].nslots > 0;
        ks_series_free(&raw[i]); /* windowed: the copy as read is not needed again */
        s->confidence = pl->nslots ? (double)s->present / (double)pl->nslots : 0;
        measure(s, &pl->pol);
        {
            double cap = s->cores && !isnan(s->core_mhz) ? s->cores * s->core_mhz : 0, sum = 0;
            size_t n = 0;
            for (size_t t = 0; t < s->series.nslots; t++)
                if (!isnan(s->series.cpu_mhz[t])) {
                    sum += s->series.cpu_mhz[t];
                    n++;
                }
            s->cpu_avg = cap > 0 && n ? fmin(1.0, sum / (double)n / cap) : NAN;
        }
        /* An hour without data (a late start, a gap) holds the server's
         * typical load for that hour of day, its median: filling with the
         * sizing percentile would put the peak into every unknown hour, and
         * on the Bitbrains traces, where some servers start 29 days late,
         * it raised the lower bound from the reference 15 hosts to 18. */
        ana_series_fill(&s->series, 50);
        if (isnan(s->pctl[M_CPU]))
            s->pctl[M_CPU] = 0;
        ana_server_in in = {
            .name = s->inv->name,
            .role = s->inv->role,
            .has_data = s->has_data && s->present > 0,
            .data_problem = s->data_problem,
            .confidence = s->confidence,
            .cpu_mhz = s->pctl[M_CPU],
            .speed = s->speed,
            .mem_bytes = s->pctl[M_MEM],
            .disk_mbps = s->pctl[M_DISK] / 1e6,
            .disk_iops = s->pctl[M_IOPS],
            .net_mbps = s->pctl[M_NET] / 1e6,
            .src_threads = s->threads,
            .src_mem_bytes = isnan(s->mem_total) ? 0 : s->mem_total,
            .blockers = (const char *const *)s->blockers,
            .nblockers = s->nblockers,
            .ports = s->ports,
            .nports = s->nports,
        };
        ana_judge(&pl->pol, pl->models, pl->nmodels, &in, &s->v);
    }

    choose_prices(pl);
    pl->sc = ks_calloc(pl->nmodels + 1, sizeof *pl->sc);
    if (build_scenarios(pl, opt && opt->quiet, err) < 0)
        goto fail;
    recommend(pl);
    if (pl->recommended >= 0)
        retired_power(pl);
    if (plan_nights(pl, err) < 0)
        goto fail;
    for (size_t i = 0; i < pl->nsrv; i++)
        ks_series_free(&raw[i]);
    free(raw);
    ks_progress_free(prog);
    return pl;
fail:
    ks_progress_free(prog);
    for (size_t i = 0; i < inv->count; i++)
        ks_series_free(&raw[i]);
    free(raw);
    ana_plan_free(pl);
    return NULL;
}

void ana_plan_free(ana_plan *pl)
{
    if (!pl)
        return;
    if (pl->sc)
        for (size_t m = 0; m <= pl->nsc && m <= pl->nmodels; m++)
            scenario_free(&pl->sc[m]);
    free(pl->sc);
    free(pl->price);
    for (size_t i = 0; i < pl->nsrv; i++) {
        srv *s = &pl->srv[i];
        free(s->cpu_model);
        free(s->data_problem);
        for (size_t k = 0; k < s->nblockers; k++)
            free(s->blockers[k]);
        free(s->blockers);
        free(s->ports);
        ks_series_free(&s->series);
        ana_verdict_free(&s->v);
    }
    free(pl->srv);
    ana_models_free(pl->models, pl->nmodels);
    ana_policy_free(&pl->pol);
    free(pl->recommended_why);
    ana_schedule_free(&pl->sched);
    free(pl->deps);
    free(pl->nitems);
    free(pl->night_srv);
    free(pl->ndeps_items);
    free(pl->study_dir);
    free(pl);
}

/* ---- Output ------------------------------------------------------------- */

static json_t *jreal(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(round(v * 1000) / 1000);
}

static json_t *quantiles_json(const double *q, double scale)
{
    json_t *o = json_object();
    for (int k = 0; k < Q_N; k++)
        json_object_set_new(o, quantile_names[k], jreal(q[k] / scale));
    return o;
}

static json_t *policy_json(const ana_plan *pl)
{
    const ana_policy *p = &pl->pol;
    json_t *o = json_object();
    json_object_set_new(o, "percentile", jreal(p->percentile));
    json_object_set_new(o, "headroom_percent", jreal(p->headroom * 100));
    json_object_set_new(o, "max_host_share_percent", jreal(p->max_host_share * 100));
    json_object_set_new(o, "min_confidence_percent", jreal(p->min_confidence * 100));
    json_object_set_new(o, "allow_upsize", json_boolean(p->allow_upsize));
    json_object_set_new(o, "slot_seconds", json_integer(p->slot_seconds));
    json_object_set_new(o, "cpu_max_percent", jreal(p->cpu_max * 100));
    json_object_set_new(o, "memory_max_percent", jreal(p->mem_max * 100));
    json_object_set_new(o, "host_cpu_overhead_mhz", jreal(p->host_cpu_overhead_mhz));
    json_object_set_new(o, "host_memory_overhead_gib", jreal(p->host_mem_overhead_gib));
    json_object_set_new(o, "vm_memory_overhead_mib", jreal(p->vm_mem_overhead_mib));
    json_object_set_new(o, "vcpu_ratio", jreal(p->vcpu_ratio));
    json_object_set_new(o, "n_plus_1", json_boolean(p->n_plus_1));
    json_object_set_new(o, "cpu_cap",
                        json_string(p->cpu_cap == ANA_CPU_CAP_PERCENTILE ? "percentile" : "vcpus"));
    json_object_set_new(o, "hardware_blockers", json_string(ana_status_name(p->blocker_status)));
    json_t *roles = json_array();
    for (size_t i = 0; i < p->nphysical_roles; i++)
        json_array_append_new(roles, json_string(p->physical_roles[i]));
    json_object_set_new(o, "physical_roles", roles);
    return o;
}

static json_t *model_json(const ana_model *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(m->name));
    json_object_set_new(o, "cores", json_integer(m->cores));
    json_object_set_new(o, "mhz", jreal(m->mhz));
    json_object_set_new(o, "memory_mib", jreal(m->memory_gib * 1024));
    json_object_set_new(o, "storage_mbps", jreal(m->storage_mbps));
    json_object_set_new(o, "iops", jreal(m->iops));
    json_object_set_new(o, "network_gbps", jreal(m->network_gbps));
    json_object_set_new(o, "power_idle_w", jreal(m->power_idle_w));
    json_object_set_new(o, "power_max_w", jreal(m->power_max_w));
    json_object_set_new(o, "cost", jreal(m->cost));
    json_object_set_new(o, "rack_units", jreal(m->rack_units));
    json_object_set_new(o, "speed_factor", jreal(m->speed_factor));
    json_object_set_new(o, "existing", json_integer(m->existing));
    return o;
}

static const char *mixed_note(const ana_plan *pl)
{
    const char *b = pl->price_basis;
    return strcmp(b, "cost") == 0
               ? "one scenario per host model, and 'mixed': hosts of the largest model, each "
                 "turned into the cheapest model (cost) its VMs fit"
           : strcmp(b, "power_max_w") == 0
               ? "one scenario per host model, and 'mixed': hosts of the largest model, each "
                 "turned into the model of lowest power_max_w its VMs fit (no cost given)"
               : "one scenario per host model, and 'mixed': hosts of the largest model, each "
                 "turned into the smallest model its VMs fit (no cost or power given)";
}

static json_t *scenario_json(const ana_plan *pl, const scenario *sc)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(sc->name));
    json_object_set_new(o, "host_model", model_json(sc->model));
    json_object_set_new(o, "mixed", json_boolean(sc->mixed));
    json_object_set_new(o, "existing_hosts", json_integer((json_int_t)sc->nexisting));
    json_t *hosts = json_array();
    size_t *per_model = ks_calloc(pl->nmodels + 1, sizeof *per_model);
    for (size_t h = 0; h < sc->sol.nhosts; h++) {
        json_t *ho = json_object();
        size_t k = sc->sol.host_model[h];
        per_model[k]++;
        json_object_set_new(ho, "name", json_string(sc->host_names[h]));
        json_object_set_new(ho, "model", json_string(pl->models[k].name));
        json_object_set_new(ho, "existing", json_boolean(h < sc->nexisting));
        json_object_set_new(ho, "vms", json_integer((json_int_t)sc->host_vms[h]));
        /* under N+1 a new host without VMs is there only to take a failed
         * host's (the packer adds no other empty host) */
        json_object_set_new(
            ho, "spare", json_boolean(pl->pol.n_plus_1 && h >= sc->nexisting && !sc->host_vms[h]));
        json_object_set_new(ho, "cpu_peak_percent", jreal(sc->host_cpu_peak[h] * 100));
        json_object_set_new(ho, "memory_percent", jreal(sc->host_mem[h] * 100));
        json_object_set_new(ho, "network_peak_percent", jreal(sc->host_net[h] * 100));
        json_array_append_new(hosts, ho);
    }
    json_object_set_new(o, "hosts", hosts);
    json_t *hm = json_array();
    for (size_t k = 0; k < pl->nmodels; k++) {
        if (!per_model[k])
            continue;
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(pl->models[k].name));
        json_object_set_new(e, "hosts", json_integer((json_int_t)per_model[k]));
        json_array_append_new(hm, e);
    }
    free(per_model);
    json_object_set_new(o, "host_models", hm);
    json_t *pls = json_array(), *left = json_array();
    for (size_t k = 0; k < sc->nitems; k++) {
        json_t *p = json_object();
        json_object_set_new(p, "server", json_string(sc->items[k].name));
        int h = sc->sol.host_of[k];
        if (h < 0) {
            json_object_set_new(
                p, "why",
                json_string(sc->sol.why && sc->sol.why[k] ? sc->sol.why[k] : "fits on no host"));
            json_array_append_new(left, p);
            continue;
        }
        json_object_set_new(p, "host", json_string(sc->host_names[h]));
        json_object_set_new(p, "vcpus", json_integer(sc->items[k].vcpus));
        json_object_set_new(p, "memory_mib", jreal(sc->items[k].mem_mib));
        json_object_set_new(p, "cpu_bound_mhz", jreal(sc->bound_mhz[k]));
        json_object_set_new(p, "cpu_quota_mhz",
                            pl->pol.cpu_cap == ANA_CPU_CAP_PERCENTILE ? jreal(sc->bound_mhz[k])
                                                                      : json_null());
        json_object_set_new(p, "throttled_hours", json_integer((json_int_t)sc->throttled_hours[k]));
        json_object_set_new(p, "throttled_max_percent", jreal(sc->throttled_max[k] * 100));
        json_array_append_new(pls, p);
    }
    json_object_set_new(o, "placements", pls);
    json_object_set_new(o, "unplaced", left);
    json_object_set_new(o, "lower_bound", jreal(sc->packed ? sc->sol.lower_bound : 0));
    json_object_set_new(o, "sum_of_peaks_hosts", jreal(sc->peak_sum_hosts));
    json_object_set_new(o, "power_kwh_year", jreal(sc->power_kwh));
    json_object_set_new(o, "cost", jreal(sc->cost));
    json_object_set_new(o, "rack_units", jreal(sc->rack_units));
    json_object_set_new(o, "algorithm",
                        sc->packed && sc->sol.algorithm ? json_string(sc->sol.algorithm)
                                                        : json_null());
    return o;
}

static json_t *server_json(const ana_plan *pl, const srv *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->inv->name));
    json_object_set_new(o, "status", json_string(ana_status_name(s->v.status)));
    json_t *r = json_array();
    for (size_t i = 0; i < s->v.nreasons; i++)
        json_array_append_new(r, json_string(s->v.reasons[i]));
    json_object_set_new(o, "reasons", r);
    json_object_set_new(o, "role", json_string(s->inv->role));
    json_object_set_new(o, "confidence", jreal(s->confidence));
    json_object_set_new(o, "cpu_mhz", quantiles_json(s->stats[M_CPU], 1));
    json_t *mem = quantiles_json(s->stats[M_MEM], MIB);
    json_object_set_new(mem, "unit", json_string("MiB"));
    json_object_set_new(mem, "total_mib", jreal(s->mem_total / MIB));
    json_object_set_new(o, "memory", mem);
    json_t *disk = json_object();
    json_object_set_new(disk, "size_gib", jreal(s->disk_size / GIB));
    json_object_set_new(disk, "used_gib", jreal(s->disk_used / GIB));
    json_object_set_new(disk, "mbps", quantiles_json(s->stats[M_DISK], 1e6));
    json_object_set_new(disk, "iops", quantiles_json(s->stats[M_IOPS], 1));
    json_object_set_new(o, "disk", disk);
    json_t *net = json_object();
    json_object_set_new(net, "mbps", quantiles_json(s->stats[M_NET], 1e6));
    json_object_set_new(o, "network", net);
    const ana_model *m = pl->recommended >= 0 ? pl->sc[pl->recommended].model : &pl->models[0];
    json_object_set_new(o, "vcpus",
                        s->v.status == ANA_NOT_ELIGIBLE ? json_null()
                                                        : json_integer(item_vcpus(pl, s, m)));
    json_object_set_new(o, "memory_mib",
                        s->v.status == ANA_NOT_ELIGIBLE ? json_null() : jreal(s->v.memory_mib));
    /* its quota on its host in the recommended scenario, in that host's
     * cores: what P2V puts in the domain */
    double quota = NAN;
    if (pl->pol.cpu_cap == ANA_CPU_CAP_PERCENTILE && pl->recommended >= 0) {
        const scenario *sc = &pl->sc[pl->recommended];
        size_t i = (size_t)(s - pl->srv), k = sc->item_of[i];
        if (k != (size_t)-1 && sc->sol.host_of[k] >= 0) {
            const ana_model *hm = &pl->models[sc->sol.host_model[sc->sol.host_of[k]]];
            quota = sc->bound_mhz[k] / hm->mhz;
        }
    }
    json_object_set_new(o, "cpu_quota_cores", jreal(quota));
    return o;
}

json_t *ana_plan_summary_json(const ana_plan *pl)
{
    json_t *o = json_object();
    json_t *c = json_object();
    json_object_set_new(c, "total", json_integer((json_int_t)pl->nsrv));
    json_object_set_new(c, "eligible", json_integer((json_int_t)ana_plan_count_eligible(pl)));
    json_object_set_new(c, "conditional", json_integer((json_int_t)ana_plan_count_conditional(pl)));
    json_object_set_new(c, "not_eligible",
                        json_integer((json_int_t)ana_plan_count_not_eligible(pl)));
    json_object_set_new(o, "servers", c);
    json_object_set_new(o, "slot_seconds", json_integer(pl->pol.slot_seconds));
    json_object_set_new(o, "slot_start", json_integer((json_int_t)pl->slot_start));
    json_object_set_new(o, "slots", json_integer((json_int_t)pl->nslots));
    json_t *arr = json_array();
    for (size_t m = 0; m < pl->nsc; m++) {
        const scenario *sc = &pl->sc[m];
        json_t *s = json_object();
        double lb = sc->packed ? sc->sol.lower_bound : 0;
        json_object_set_new(s, "name", json_string(sc->name));
        json_object_set_new(s, "mixed", json_boolean(sc->mixed));
        json_object_set_new(s, "hosts", json_integer((json_int_t)sc->sol.nhosts));
        json_object_set_new(s, "lower_bound", jreal(lb));
        json_object_set_new(s, "gap", jreal((double)sc->sol.nhosts - lb));
        json_object_set_new(s, "sum_of_peaks_hosts", jreal(sc->peak_sum_hosts));
        json_object_set_new(s, "placed", json_integer((json_int_t)sc->placed));
        json_object_set_new(s, "unplaced", json_integer((json_int_t)sc->unplaced));
        json_object_set_new(s, "power_kwh_year", jreal(sc->power_kwh));
        json_object_set_new(s, "cost", jreal(sc->cost));
        json_object_set_new(s, "rack_units", jreal(sc->rack_units));
        json_array_append_new(arr, s);
    }
    json_object_set_new(o, "scenarios", arr);
    json_object_set_new(o, "recommended",
                        pl->recommended >= 0 ? json_string(pl->sc[pl->recommended].name)
                                             : json_null());
    json_object_set_new(o, "recommended_reason",
                        pl->recommended_why ? json_string(pl->recommended_why) : json_null());
    return o;
}

json_t *ana_plan_json(const ana_plan *pl)
{
    json_t *o = json_object();
    char start[KS_TIME_ISO_LEN], end[KS_TIME_ISO_LEN];
    ks_time_iso(pl->slot_start, start);
    ks_time_iso(pl->slot_start + (time_t)pl->nslots * pl->pol.slot_seconds, end);
    json_object_set_new(o, "version", json_integer(1));
    json_object_set_new(o, "slot_seconds", json_integer(pl->pol.slot_seconds));
    json_object_set_new(o, "slot_start", json_integer((json_int_t)pl->slot_start));
    json_object_set_new(o, "slots", json_integer((json_int_t)pl->nslots));
    json_t *period = json_object();
    json_object_set_new(period, "start", json_string(start));
    json_object_set_new(period, "end", json_string(end));
    json_object_set_new(o, "period", period);
    json_object_set_new(o, "policy", policy_json(pl));
    json_object_set_new(o, "summary", ana_plan_summary_json(pl));
    json_t *servers = json_array();
    for (size_t i = 0; i < pl->nsrv; i++)
        json_array_append_new(servers, server_json(pl, &pl->srv[i]));
    json_object_set_new(o, "servers", servers);
    json_t *scs = json_array();
    for (size_t m = 0; m < pl->nsc; m++)
        json_array_append_new(scs, scenario_json(pl, &pl->sc[m]));
    json_object_set_new(o, "scenarios", scs);
    json_object_set_new(o, "recommended",
                        pl->recommended >= 0 ? json_string(pl->sc[pl->recommended].name)
                                             : json_null());
    json_object_set_new(o, "recommended_reason",
                        pl->recommended_why ? json_string(pl->recommended_why) : json_null());
    json_t *before = json_object();
    json_object_set_new(before, "servers_retired", json_integer((json_int_t)pl->retired));
    json_object_set_new(before, "power_kwh_year", jreal(pl->retired_power_kwh));
    json_object_set_new(before, "power_given", json_integer((json_int_t)pl->power_given));
    json_object_set_new(before, "power_estimated", json_integer((json_int_t)pl->power_estimated));
    json_object_set_new(before, "power_unknown", json_integer((json_int_t)pl->power_unknown));
    json_object_set_new(o, "before", before);
    json_object_set_new(o, "migration", ana_night_policy_json(&pl->npol));
    json_object_set_new(o, "nights", ana_nights_json(&pl->nin, &pl->sched));
    json_t *notes = json_array();
    json_array_append_new(
        notes, json_string(pl->nsc > pl->nmodels ? mixed_note(pl) : "one scenario per host model"));
    json_array_append_new(notes, json_string("migration nights: the recommended scenario's "
                                             "servers, all times in UTC"));
    json_object_set_new(o, "notes", notes);
    return o;
}

int ana_plan_write_json(const ana_plan *pl, const char *path, ks_error *err)
{
    json_t *j = ana_plan_json(pl);
    int rc = ks_json_write_file(path, j, err);
    json_decref(j);
    return rc;
}

static size_t count_status(const ana_plan *pl, ana_status st)
{
    size_t n = 0;
    for (size_t i = 0; i < pl->nsrv; i++)
        n += pl->srv[i].v.status == st;
    return n;
}

size_t ana_plan_count_eligible(const ana_plan *pl)
{
    return count_status(pl, ANA_ELIGIBLE);
}

size_t ana_plan_count_conditional(const ana_plan *pl)
{
    return count_status(pl, ANA_CONDITIONAL);
}

size_t ana_plan_count_not_eligible(const ana_plan *pl)
{
    return count_status(pl, ANA_NOT_ELIGIBLE);
}

const char *ana_plan_recommended(const ana_plan *pl)
{
    return pl->recommended >= 0 ? pl->sc[pl->recommended].name : NULL;
}

char *ana_plan_summary_text(const ana_plan *pl)
{
    ks_buf b;
    ks_buf_init(&b, 1 << 20);
    char start[KS_TIME_ISO_LEN], end[KS_TIME_ISO_LEN];
    ks_time_iso(pl->slot_start, start);
    ks_time_iso(pl->slot_start + (time_t)pl->nslots * pl->pol.slot_seconds, end);
    ks_buf_printf(&b, "%zu servers: %zu eligible, %zu conditional, %zu not eligible\n", pl->nsrv,
                  ana_plan_count_eligible(pl), ana_plan_count_conditional(pl),
                  ana_plan_count_not_eligible(pl));
    ks_buf_printf(&b, "study period %s to %s: %zu slots of %ld s\n", start, end, pl->nslots,
                  pl->pol.slot_seconds);
    for (size_t i = 0; i < pl->nsrv; i++) {
        const srv *s = &pl->srv[i];
        if (s->v.status == ANA_ELIGIBLE)
            continue;
        ks_buf_printf(&b, "  %-20s %s: %s%s\n", s->inv->name,
                      s->v.status == ANA_CONDITIONAL ? "conditional" : "not eligible",
                      s->v.nreasons ? s->v.reasons[0] : "",
                      s->v.nreasons > 1 ? " (and more: --explain)" : "");
    }
    ks_buf_printf(&b, "\n%-16s %6s %6s %4s %8s %8s %14s %12s %6s\n", "SCENARIO", "HOSTS", "BOUND",
                  "GAP", "PLACED", "LEFTOUT", "KWH/YEAR", "COST", "RU");
    for (size_t m = 0; m < pl->nsc; m++) {
        const scenario *sc = &pl->sc[m];
        double lb = sc->packed ? sc->sol.lower_bound : 0;
        char kwh[32] = "-", cost[32] = "-", ru[32] = "-";
        if (!isnan(sc->power_kwh))
            snprintf(kwh, sizeof kwh, "%.0f", sc->power_kwh);
        if (!isnan(sc->cost))
            snprintf(cost, sizeof cost, "%.0f", sc->cost);
        if (!isnan(sc->rack_units))
            snprintf(ru, sizeof ru, "%.0f", sc->rack_units);
        ks_buf_printf(&b, "%-16s %6zu %6.0f %4.0f %8zu %8zu %14s %12s %6s%s\n", sc->name,
                      sc->sol.nhosts, lb, (double)sc->sol.nhosts - lb, sc->placed, sc->unplaced,
                      kwh, cost, ru, (int)m == pl->recommended ? "  <- recommended" : "");
    }
    if (pl->recommended_why)
        ks_buf_printf(&b, "\nrecommended: %s\n", pl->recommended_why);
    else
        ks_buf_printf(&b, "\nno scenario places any server: nothing to recommend\n");
    if (pl->recommended >= 0) {
        if (isnan(pl->retired_power_kwh))
            ks_buf_printf(&b,
                          "before: %zu physical servers retired (their power is not known: no "
                          "facts; give it in study.ini [server-power])\n",
                          pl->retired);
        else
            ks_buf_printf(&b,
                          "before: %zu physical servers retired, %.0f kWh/year (%zu given in "
                          "[server-power], %zu estimated from their facts, %zu unknown)\n",
                          pl->retired, pl->retired_power_kwh, pl->power_given, pl->power_estimated,
                          pl->power_unknown);
    }
    if (pl->recommended >= 0) {
        ks_buf_printf(&b, "\n");
        ana_nights_table(&pl->nin, &pl->sched, &b);
    }
    if (pl->nsc > pl->nmodels)
        ks_buf_printf(&b, "%s\n", mixed_note(pl));
    return ks_buf_steal(&b);
}

char *ana_plan_explain(const ana_plan *pl, const char *server, ks_error *err)
{
    const srv *s = NULL;
    size_t idx = 0;
    for (size_t i = 0; i < pl->nsrv; i++)
        if (strcmp(pl->srv[i].inv->name, server) == 0) {
            s = &pl->srv[i];
            idx = i;
        }
    if (!s) {
        ks_error_set(err, KS_E_USAGE, 0,
                     "'%s' is not in the study's inventory: see the names in inventory.csv",
                     server);
        return NULL;
    }
    ks_buf b;
    ks_buf_init(&b, 1 << 20);
    ks_buf_printf(&b, "%s: %s\n", server, ana_status_name(s->v.status));
    for (size_t i = 0; i < s->v.nreasons; i++)
        ks_buf_printf(&b, "  - %s\n", s->v.reasons[i]);
    if (!s->v.nreasons)
        ks_buf_printf(&b, "  - no rule stands in the way\n");
    ks_buf_printf(&b,
                  "  data: %.0f%% of the %zu slots measured; CPU %.0f MHz at the %gth "
                  "percentile (max %.0f), memory %.0f MiB (max %.0f)\n",
                  s->confidence * 100, pl->nslots, s->pctl[M_CPU], pl->pol.percentile,
                  isnan(s->stats[M_CPU][Q_MAX]) ? 0 : s->stats[M_CPU][Q_MAX],
                  isnan(s->pctl[M_MEM]) ? 0 : s->pctl[M_MEM] / MIB,
                  isnan(s->stats[M_MEM][Q_MAX]) ? 0 : s->stats[M_MEM][Q_MAX] / MIB);
    for (size_t m = 0; m < pl->nsc; m++) {
        const scenario *sc = &pl->sc[m];
        size_t k = sc->item_of[idx];
        ks_buf_printf(&b, "  scenario '%s': ", sc->name);
        if (k == (size_t)-1) {
            ks_buf_printf(&b, "left out: %s\n",
                          s->v.status == ANA_NOT_ELIGIBLE ? "not eligible"
                                                          : "too busy for this host model");
            continue;
        }
        int h = sc->sol.host_of[k];
        if (h < 0) {
            ks_buf_printf(&b, "not placed: %s\n",
                          sc->sol.why && sc->sol.why[k] ? sc->sol.why[k] : "fits on no host");
            continue;
        }
        ks_buf_printf(&b,
                      "on %s (%s%s) as %u vCPUs and %.0f MiB; that host's busiest slot uses "
                      "%.0f%% of its CPU (%.0f%% allowed), its memory is %.0f%% used (%.0f%% "
                      "allowed)",
                      sc->host_names[h], pl->models[sc->sol.host_model[h]].name,
                      (size_t)h < sc->nexisting ? ", existing" : "", sc->items[k].vcpus,
                      sc->items[k].mem_mib, sc->host_cpu_peak[h] * 100, pl->pol.cpu_max * 100,
                      sc->host_mem[h] * 100, pl->pol.mem_max * 100);
        /* the busiest slot is on what each VM can really draw: say what
         * this one can, and when it would want more */
        ks_buf_printf(&b, "; it can draw %.0f MHz there (%s)", sc->bound_mhz[k],
                      pl->pol.cpu_cap == ANA_CPU_CAP_PERCENTILE ? "its CPU quota"
                                                                : "all its vCPUs");
        if (sc->throttled_hours[k])
            ks_buf_printf(&b, " and wanted more in %zu measured hour%s (up to %.0f%% held back)",
                          sc->throttled_hours[k], sc->throttled_hours[k] == 1 ? "" : "s",
                          sc->throttled_max[k] * 100);
        size_t others = 0;
        for (size_t j = 0; j < sc->nitems; j++) {
            if (j == k || sc->sol.host_of[j] != h)
                continue;
            ks_buf_printf(&b, "%s%s", others++ ? ", " : "; it shares the host with ",
                          sc->items[j].name);
        }
        if (s->anti >= 0)
            ks_buf_printf(&b, "; its anti-affinity group keeps it apart from the others");
        if (s->aff >= 0)
            ks_buf_printf(&b, "; its affinity group keeps it with the others");
        if (s->pin >= 0)
            ks_buf_printf(&b, "; pinned to host %d by [pin]", s->pin + 1);
        ks_buf_printf(&b, "; chosen by %s\n", sc->sol.algorithm ? sc->sol.algorithm : "the packer");
    }
    size_t ni;
    for (ni = 0; ni < pl->nin.nitems; ni++)
        if (pl->night_srv[ni] == idx)
            break;
    if (ni < pl->nin.nitems)
        ana_nights_explain(&pl->nin, &pl->sched, ni, &b);
    else
        ks_buf_printf(&b, "  migration: none (%s)\n",
                      s->v.status == ANA_NOT_ELIGIBLE ? "not eligible"
                                                      : "not placed in the recommended scenario");
    return ks_buf_steal(&b);
}

/* ==== Time series and packing details (for the report) ====================
 * analyzer.h's read-only accessors; kept together at the end of the file. */

time_t ana_plan_slot_start(const ana_plan *pl)
{
    return pl->slot_start;
}

long ana_plan_slot_seconds(const ana_plan *pl)
{
    return pl->pol.slot_seconds;
}

size_t ana_plan_slots(const ana_plan *pl)
{
    return pl->nslots;
}

size_t ana_plan_server_count(const ana_plan *pl)
{
    return pl->nsrv;
}

const char *ana_plan_server_name(const ana_plan *pl, size_t server)
{
    return server < pl->nsrv ? pl->srv[server].inv->name : NULL;
}

const double *ana_plan_server_series(const ana_plan *pl, size_t server, ana_metric metric)
{
    if (server >= pl->nsrv)
        return NULL;
    const ks_series *s = &pl->srv[server].series;
    switch (metric) {
    case ANA_METRIC_CPU_MHZ:
        return s->cpu_mhz;
    case ANA_METRIC_MEM_BYTES:
        return s->mem_bytes;
    case ANA_METRIC_DISK_BPS:
        return s->disk_bps;
    case ANA_METRIC_NET_BPS:
        return s->net_bps;
    }
    return NULL;
}

const unsigned char *ana_plan_server_measured(const ana_plan *pl, size_t server)
{
    return server < pl->nsrv ? pl->srv[server].series.measured : NULL;
}

double ana_plan_server_cpu_capacity_mhz(const ana_plan *pl, size_t server)
{
    if (server >= pl->nsrv)
        return NAN;
    const srv *s = &pl->srv[server];
    return s->cores && !isnan(s->core_mhz) ? s->cores * s->core_mhz : NAN;
}

size_t ana_plan_scenario_count(const ana_plan *pl)
{
    return pl->nsc;
}

const char *ana_plan_scenario_name(const ana_plan *pl, size_t sci)
{
    return sci < pl->nsc ? pl->sc[sci].name : NULL;
}

size_t ana_plan_scenario_hosts(const ana_plan *pl, size_t sci)
{
    return sci < pl->nsc ? pl->sc[sci].sol.nhosts : 0;
}

/* The item of server in scenario sci, or (size_t)-1 when it has none. */
static size_t report_item_of(const ana_plan *pl, size_t sci, size_t server)
{
    if (sci >= pl->nsc || server >= pl->nsrv)
        return (size_t)-1;
    return pl->sc[sci].item_of[server];
}

int ana_plan_scenario_host_of(const ana_plan *pl, size_t sci, size_t server)
{
    size_t k = report_item_of(pl, sci, server);
    return k == (size_t)-1 ? -1 : pl->sc[sci].sol.host_of[k];
}

const double *ana_plan_scenario_demand(const ana_plan *pl, size_t sci, size_t server)
{
    size_t k = report_item_of(pl, sci, server);
    if (k == (size_t)-1 || pl->sc[sci].sol.host_of[k] < 0)
        return NULL;
    return pl->sc[sci].cpu[k];
}

double ana_plan_host_capacity_mhz(const ana_plan *pl, size_t sci, size_t host)
{
    if (sci >= pl->nsc || host >= pl->sc[sci].sol.nhosts)
        return NAN;
    /* in the unit of the scenario's demand: MHz of the model it opens
     * hosts with (a mixed fleet's hosts differ) */
    const scenario *sc = &pl->sc[sci];
    return sc->pm[sc->sol.host_model[host]].cpu_mhz;
}

double ana_plan_host_limit_mhz(const ana_plan *pl, size_t sci, size_t host)
{
    return ana_plan_host_capacity_mhz(pl, sci, host) * pl->pol.cpu_max;
}

const char *ana_plan_host_name(const ana_plan *pl, size_t sci, size_t host)
{
    if (sci >= pl->nsc || host >= pl->sc[sci].sol.nhosts)
        return NULL;
    return pl->sc[sci].host_names[host];
}

/* ==== End of the report's accessors ======================================= */
