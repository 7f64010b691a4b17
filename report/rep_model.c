/* rep_model.c: what the report shows, derived from the plan: per server
 * its statistics over the measured slots, gaps and network I/O; the fleet's
 * CPU use by weekday and hour; whether plan.json still holds this plan. */
#include "rep_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ks_fs.h"
#include "ks_json.h"
#include "ks_mem.h"

/* ---- plan.json access ---------------------------------------------------- */

double rep_jnum(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

double rep_jnum2(const json_t *o, const char *k1, const char *k2)
{
    return rep_jnum(json_object_get(o, k1), k2);
}

const char *rep_jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

const char *rep_host_model(const json_t *scj, const char *host)
{
    size_t i;
    const json_t *h;
    json_array_foreach(json_object_get(scj, "hosts"), i, h)
    {
        if (host && strcmp(rep_jstr(h, "name"), host) == 0)
            return rep_jstr(h, "model");
    }
    return "";
}

/* The host_model object of the single-model scenario named name, if any. */
static const json_t *model_of(const rep_doc *d, const char *name)
{
    for (size_t s = 0; s < d->nsc; s++) {
        const json_t *scj = rep_scenario_json(d, s);
        const json_t *m = json_object_get(scj, "host_model");
        if (strcmp(rep_jstr(m, "name"), name) == 0)
            return m;
    }
    return NULL;
}

void rep_fleet_text(const rep_doc *d, const json_t *scj, ks_buf *out)
{
    const json_t *hm = json_object_get(scj, "host_models");
    const json_t *own = json_object_get(scj, "host_model");
    if (json_array_size(hm) <= 1) {
        ks_buf_printf(out, "%.0f x %.0f MHz, %.0f GiB", rep_jnum(own, "cores"),
                      rep_jnum(own, "mhz"), rep_jnum(own, "memory_mib") / 1024);
        return;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(hm, i, e)
    {
        const char *name = rep_jstr(e, "name");
        const json_t *m = model_of(d, name);
        ks_buf_printf(out, "%s%.0f x %s", i ? ", " : "", rep_jnum(e, "hosts"), name);
        if (m)
            ks_buf_printf(out, " (%.0f x %.0f MHz, %.0f GiB)", rep_jnum(m, "cores"),
                          rep_jnum(m, "mhz"), rep_jnum(m, "memory_mib") / 1024);
    }
}

const json_t *rep_scenario_json(const rep_doc *d, size_t sc)
{
    return json_array_get(json_object_get(d->pj, "scenarios"), sc);
}

size_t rep_server_index(const rep_doc *d, const char *name)
{
    /* every placement row asks: a binary search, not a scan of 10,000 */
    size_t lo = 0, hi = d->ns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(d->s[d->by_name[mid]].name, name);
        if (c == 0)
            return d->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (size_t)-1;
}

static _Thread_local const rep_doc *sort_doc;
static int cmp_name(const void *a, const void *b)
{
    return strcmp(sort_doc->s[*(const size_t *)a].name, sort_doc->s[*(const size_t *)b].name);
}

/* ---- Deriving ------------------------------------------------------------ */

static void derive_server(rep_doc *d, size_t i)
{
    rep_srv *s = &d->s[i];
    s->j = json_array_get(json_object_get(d->pj, "servers"), i);
    s->name = rep_jstr(s->j, "name");
    s->status = rep_jstr(s->j, "status");
    s->role = rep_jstr(s->j, "role");
    s->cap = ana_plan_server_cpu_capacity_mhz(d->plan, i);
    s->cpu_p95 = rep_jnum2(s->j, "cpu_mhz", "p95");
    s->cpu_max = rep_jnum2(s->j, "cpu_mhz", "max");
    const json_t *mem = json_object_get(s->j, "memory");
    s->mem_p95 = rep_jnum(mem, "p95");
    s->mem_max = rep_jnum(mem, "max");
    s->mem_total = rep_jnum(mem, "total_mib");
    s->disk_p95 = rep_jnum(json_object_get(json_object_get(s->j, "disk"), "mbps"), "p95");
    s->confidence = rep_jnum(s->j, "confidence");
    s->chart = -1;

    const unsigned char *m = ana_plan_server_measured(d->plan, i);
    const double *cpu = ana_plan_server_series(d->plan, i, ANA_METRIC_CPU_MHZ);
    const double *memb = ana_plan_server_series(d->plan, i, ANA_METRIC_MEM_BYTES);
    const double *net = ana_plan_server_series(d->plan, i, ANA_METRIC_NET_BPS);
    double csum = 0, msum = 0;
    size_t mn = 0, run = 0;
    s->first = s->last = (size_t)-1;
    for (size_t t = 0; t < d->nslots; t++) {
        if (!m[t]) {
            run++;
            continue;
        }
        if (s->first == (size_t)-1)
            s->first = t;
        else if (run) {
            s->gaps++;
            if (run > s->longest_gap)
                s->longest_gap = run;
        }
        run = 0;
        s->last = t;
        s->measured++;
        csum += cpu[t];
        if (!isnan(memb[t])) {
            msum += memb[t] / REP_MIB;
            mn++;
        }
    }
    s->cpu_avg = s->measured ? csum / (double)s->measured : NAN;
    s->mem_avg = mn ? msum / (double)mn : NAN;
    double *nv = ks_malloc((d->nslots + 1) * sizeof *nv);
    for (size_t t = 0; t < d->nslots; t++)
        nv[t] = m[t] ? net[t] : NAN;
    s->net_p95 = ana_percentile(nv, d->nslots, 95) / 1e6;
    free(nv);
}

double rep_pct(double v, double cap)
{
    return isnan(v) || isnan(cap) || cap <= 0 ? NAN : v / cap * 100;
}

/* Fleet CPU use by weekday and hour (UTC): per slot, the measured demand of
 * the servers whose capacity is known over their capacity, averaged per
 * cell. */
static void derive_heat(rep_doc *d)
{
    double *dem = ks_calloc(d->nslots + 1, sizeof *dem);
    double *cap = ks_calloc(d->nslots + 1, sizeof *cap);
    for (size_t i = 0; i < d->ns; i++) {
        if (isnan(d->s[i].cap) || d->s[i].cap <= 0 || !d->s[i].measured)
            continue;
        d->heat_servers++;
        const unsigned char *m = ana_plan_server_measured(d->plan, i);
        const double *cpu = ana_plan_server_series(d->plan, i, ANA_METRIC_CPU_MHZ);
        for (size_t t = 0; t < d->nslots; t++)
            if (m[t]) {
                dem[t] += cpu[t];
                cap[t] += d->s[i].cap;
            }
    }
    for (size_t t = 0; t < d->nslots; t++) {
        if (cap[t] <= 0)
            continue;
        time_t at = d->t0 + (time_t)t * d->step;
        struct tm tm;
        gmtime_r(&at, &tm);
        int wd = (tm.tm_wday + 6) % 7; /* Monday first */
        d->heat[wd][tm.tm_hour] += dem[t] / cap[t] * 100;
        d->heat_n[wd][tm.tm_hour]++;
        d->heat_known = true;
    }
    free(dem);
    free(cap);
}

/* Does STUDY/plan.json hold the plan just built? */
static void check_stale(rep_doc *d)
{
    KS_AUTOFREE char *path = ks_study_path(d->study, "plan.json");
    if (!ks_path_exists(path)) {
        d->stale = ks_strdup("there is no plan.json yet: this report shows the plan that "
                             "'kvmshift analyze' would write; run it to keep plan.json with the "
                             "study");
        return;
    }
    ks_error e;
    json_t *old = ks_json_read_file(path, &e);
    if (!old) {
        d->stale = ks_asprintf("plan.json cannot be read (%s): run kvmshift analyze", e.message);
        return;
    }
    /* a generation time, should plan.json ever carry one, is no difference */
    json_object_del(old, "generated_at");
    json_t *now = json_deep_copy(d->pj);
    json_object_del(now, "generated_at");
    if (!json_equal(old, now))
        d->stale = ks_strdup("plan.json is older than the study (its data or study.ini "
                             "changed since): this report shows the current plan; run "
                             "kvmshift analyze to update plan.json");
    json_decref(now);
    json_decref(old);
}

/* p95 of a packed demand series, target MHz. */
int rep_host_of(const rep_doc *d, size_t sc, size_t i)
{
    return ana_plan_scenario_host_of(d->plan, sc, i);
}

const double *rep_demand(const rep_doc *d, size_t sc, size_t i)
{
    return ana_plan_scenario_demand(d->plan, sc, i);
}

double rep_demand_p95(const rep_doc *d, size_t sc, size_t i)
{
    const double *dem = rep_demand(d, sc, i);
    return dem ? ana_percentile(dem, d->nslots, 95) : NAN;
}

double rep_demand_max(const rep_doc *d, size_t sc, size_t i)
{
    const double *dem = rep_demand(d, sc, i);
    if (!dem)
        return NAN;
    double m = 0;
    for (size_t t = 0; t < d->nslots; t++)
        m = dem[t] > m ? dem[t] : m;
    return m;
}

void rep_doc_fill(rep_doc *d)
{
    d->pj = ana_plan_json(d->plan);
    d->jpol = json_object_get(d->pj, "policy");
    d->jsum = json_object_get(d->pj, "summary");
    d->nslots = ana_plan_slots(d->plan);
    d->t0 = ana_plan_slot_start(d->plan);
    d->step = ana_plan_slot_seconds(d->plan);
    d->ns = ana_plan_server_count(d->plan);
    d->nsc = ana_plan_scenario_count(d->plan);
    d->rec = -1;
    d->heat_chart = d->scen_chart = d->fleet_chart = -1;
    d->host_overhead_mhz = rep_jnum(d->jpol, "host_cpu_overhead_mhz");
    if (isnan(d->host_overhead_mhz))
        d->host_overhead_mhz = 0;
    const char *recname = ana_plan_recommended(d->plan);
    for (size_t sc = 0; recname && sc < d->nsc; sc++)
        if (strcmp(ana_plan_scenario_name(d->plan, sc), recname) == 0)
            d->rec = (int)sc;
    d->server_pages = d->ns > REP_INLINE_SERVERS;
    d->host_pages =
        d->rec >= 0 && ana_plan_scenario_hosts(d->plan, (size_t)d->rec) > REP_INLINE_HOSTS;
    d->s = ks_calloc(d->ns + 1, sizeof *d->s);
    for (size_t i = 0; i < d->ns; i++)
        derive_server(d, i);
    d->by_name = ks_calloc(d->ns + 1, sizeof *d->by_name);
    for (size_t i = 0; i < d->ns; i++)
        d->by_name[i] = i;
    sort_doc = d;
    ks_qsort(d->by_name, d->ns, sizeof *d->by_name, cmp_name);
    derive_heat(d);
    check_stale(d);
}

void rep_doc_free(rep_doc *d)
{
    if (d->host_chart)
        for (size_t sc = 0; sc < d->nsc; sc++)
            free(d->host_chart[sc]);
    free(d->host_chart);
    rep_charts_free(d->charts);
    free(d->refs);
    free(d->s);
    free(d->by_name);
    free(d->stale);
    json_decref(d->pj);
    ana_plan_free(d->plan);
}
