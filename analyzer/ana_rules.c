/* ana_rules.c: study.ini's policy and host models, eligibility rules and
 * right-sizing. Everything here works on plain numbers, so that the unit
 * tests can check each rule with small data. */
#include "ana_rules.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ks_buf.h"
#include "ks_inventory.h"
#include "ks_mem.h"
#include "ks_parse.h"
#include "ks_time.h"

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * MIB)

const char *ana_status_name(ana_status s)
{
    switch (s) {
    case ANA_ELIGIBLE:
        return "eligible";
    case ANA_CONDITIONAL:
        return "conditional";
    case ANA_NOT_ELIGIBLE:
        return "not_eligible";
    }
    return "?";
}

static int get_bool(const ks_ini *ini, const char *sec, const char *key, bool def, bool *out,
                    ks_error *err)
{
    const char *v = ks_ini_get(ini, sec, key);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    if (!ks_parse_bool(v, out)) {
        ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: '%s' in [%s] must be yes or no, not '%s'",
                     ks_ini_filename(ini), ks_ini_line(ini, sec, key), key, sec, v);
        return -1;
    }
    return 0;
}

/* A key that names one of two choices: *out is 0 for the first (also when
 * absent), 1 for the second; how says what they mean in the error. */
static int get_choice(const ks_ini *ini, const char *sec, const char *key, const char *first,
                      const char *second, const char *how, int *out, ks_error *err)
{
    const char *v = ks_ini_get(ini, sec, key);
    *out = 0;
    if (!v || !*v || strcmp(v, first) == 0)
        return 0;
    if (strcmp(v, second) == 0) {
        *out = 1;
        return 0;
    }
    ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: '%s' in [%s] must be %s or %s%s, not '%s'",
                 ks_ini_filename(ini), ks_ini_line(ini, sec, key), key, sec, first, second, how, v);
    return -1;
}

/* A percentage key read as a share 0..1. */
static int get_share(const ks_ini *ini, const char *sec, const char *key, double def_pct,
                     double min_pct, double max_pct, double *out, ks_error *err)
{
    double v;
    if (ks_ini_get_double(ini, sec, key, def_pct, min_pct, max_pct, &v, err) < 0)
        return -1;
    *out = v / 100.0;
    return 0;
}

/* "2024-03-01" (UTC midnight) or Unix seconds; plus_day moves a date to
 * the end of that day, so that an end date is studied whole. */
static int get_date(const ks_ini *ini, const char *key, bool plus_day, time_t *out, ks_error *err)
{
    const char *v = ks_ini_get(ini, "policy", key);
    *out = 0;
    if (!v || !*v)
        return 0;
    uint64_t secs;
    if (ks_parse_u64(v, &secs) && secs < (uint64_t)1 << 40) {
        *out = (time_t)secs;
        return 0;
    }
    time_t day;
    if (ks_date_parse(v, &day)) {
        *out = day + (plus_day ? 86400 : 0);
        return 0;
    }
    ks_error_set(err, KS_E_CONFIG, 0,
                 "%s:%u: '%s' in [policy] must be a date like 2024-03-01 (UTC) or Unix seconds, "
                 "not '%s'",
                 ks_ini_filename(ini), ks_ini_line(ini, "policy", key), key, v);
    return -1;
}

static bool has_prefix(const char *s, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) != 0 || !s[n])
        return false;
    *rest = s + n;
    return true;
}

int ana_policy_parse(const ks_ini *ini, ana_policy *p, ks_error *err)
{
    memset(p, 0, sizeof *p);
    const char *S = "policy";
    const char *roles = ks_ini_get(ini, S, "physical_roles");
    if (get_share(ini, S, "max_host_share_percent", 50, 1, 100, &p->max_host_share, err) < 0 ||
        get_share(ini, S, "min_confidence_percent", 50, 0, 100, &p->min_confidence, err) < 0 ||
        ks_ini_get_double(ini, S, "percentile", 95, 1, 100, &p->percentile, err) < 0 ||
        get_share(ini, S, "headroom_percent", 20, 0, 1000, &p->headroom, err) < 0 ||
        get_bool(ini, S, "allow_upsize", false, &p->allow_upsize, err) < 0 ||
        ks_ini_get_long(ini, S, "slot_seconds", 3600, 300, 86400, &p->slot_seconds, err) < 0 ||
        get_date(ini, "start", false, &p->start, err) < 0 ||
        get_date(ini, "end", true, &p->end, err) < 0 ||
        get_share(ini, S, "cpu_max_percent", 80, 1, 100, &p->cpu_max, err) < 0 ||
        get_share(ini, S, "memory_max_percent", 90, 1, 100, &p->mem_max, err) < 0 ||
        ks_ini_get_double(ini, S, "host_cpu_overhead_mhz", 0, 0, 1e7, &p->host_cpu_overhead_mhz,
                          err) < 0 ||
        ks_ini_get_double(ini, S, "host_memory_overhead_gib", 0, 0, 1e5, &p->host_mem_overhead_gib,
                          err) < 0 ||
        ks_ini_get_double(ini, S, "vm_memory_overhead_mib", 0, 0, 1e6, &p->vm_mem_overhead_mib,
                          err) < 0 ||
        ks_ini_get_double(ini, S, "vcpu_ratio", 4, 0, 1000, &p->vcpu_ratio, err) < 0 ||
        get_bool(ini, S, "n_plus_1", true, &p->n_plus_1, err) < 0 ||
        get_bool(ini, S, "mixed_fleet", true, &p->mixed_fleet, err) < 0 ||
        ks_ini_get_double(ini, S, "server_power_base_w", 60, 0, 1e5, &p->server_base_w, err) < 0 ||
        ks_ini_get_double(ini, S, "server_power_socket_idle_w", 50, 0, 1e5, &p->socket_idle_w,
                          err) < 0 ||
        ks_ini_get_double(ini, S, "server_power_socket_max_w", 150, 0, 1e5, &p->socket_max_w, err) <
            0 ||
        ks_ini_get_double(ini, S, "server_power_w_per_gib", 0.4, 0, 1e3, &p->w_per_gib, err) < 0)
        goto fail;
    if (p->socket_max_w < p->socket_idle_w) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "%s:%u: 'server_power_socket_max_w' in [policy] (%g) is below "
                     "'server_power_socket_idle_w' (%g)",
                     ks_ini_filename(ini), ks_ini_line(ini, S, "server_power_socket_max_w"),
                     p->socket_max_w, p->socket_idle_w);
        goto fail;
    }
    if (86400 % p->slot_seconds != 0 || p->slot_seconds % 300 != 0) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "%s:%u: 'slot_seconds' in [policy] must be a multiple of 300 that divides a "
                     "day (300, 900, 1800, 3600, ...), not %ld",
                     ks_ini_filename(ini), ks_ini_line(ini, S, "slot_seconds"), p->slot_seconds);
        goto fail;
    }
    if (p->start && p->end && p->end <= p->start) {
        ks_error_set(
            err, KS_E_CONFIG, 0, "%s:%u: 'end' in [policy] must come after 'start' (line %u)",
            ks_ini_filename(ini), ks_ini_line(ini, S, "end"), ks_ini_line(ini, S, "start"));
        goto fail;
    }
    int blockers, cap;
    if (get_choice(ini, S, "hardware_blockers", "conditional", "not_eligible", "", &blockers, err) <
            0 ||
        get_choice(ini, S, "cpu_cap", "vcpus", "percentile",
                   " (vcpus: a VM may draw all its vCPUs give, the default; percentile: a CPU "
                   "quota at its sized percentile)",
                   &cap, err) < 0)
        goto fail;
    p->blocker_status = blockers ? ANA_NOT_ELIGIBLE : ANA_CONDITIONAL;
    p->cpu_cap = cap ? ANA_CPU_CAP_PERCENTILE : ANA_CPU_CAP_VCPUS;
    p->physical_roles = NULL;
    p->nphysical_roles = 0;
    ks_words_append(roles ? roles : "backup, infrastructure", ", ;\t", &p->physical_roles,
                    &p->nphysical_roles);

    for (size_t i = 0; i < ks_ini_section_count(ini); i++) {
        const char *sec = ks_ini_section_name(ini, i), *name;
        if (!has_prefix(sec, "cpu-speed ", &name))
            continue;
        const char *match = ks_ini_get(ini, sec, "match");
        double f;
        if (ks_ini_get_double(ini, sec, "factor", NAN, 0.01, 100, &f, err) < 0)
            goto fail;
        if (!match || !*match || isnan(f)) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s: [%s] needs 'match' (a piece of the CPU model, e.g. 'E5-2670') and "
                         "'factor' (its speed per MHz against the target, e.g. 0.8)",
                         ks_ini_filename(ini), sec);
            goto fail;
        }
        p->speed = ks_reallocarray(p->speed, p->nspeed + 1, sizeof *p->speed);
        p->speed[p->nspeed].match = ks_strdup(match);
        p->speed[p->nspeed++].factor = f;
    }
    return 0;
fail:
    ana_policy_free(p);
    return -1;
}

void ana_policy_free(ana_policy *p)
{
    ks_words_free(p->physical_roles, p->nphysical_roles);
    for (size_t i = 0; i < p->nspeed; i++)
        free(p->speed[i].match);
    free(p->speed);
    memset(p, 0, sizeof *p);
}

/* Does s contain sub, case ignored? */
static bool contains_nocase(const char *s, const char *sub)
{
    size_t n = strlen(sub);
    for (; *s; s++)
        if (strncasecmp(s, sub, n) == 0)
            return true;
    return n == 0;
}

double ana_policy_speed(const ana_policy *p, const char *cpu_model)
{
    if (!cpu_model)
        return 1.0;
    for (size_t i = 0; i < p->nspeed; i++)
        if (contains_nocase(cpu_model, p->speed[i].match))
            return p->speed[i].factor;
    return 1.0;
}

static const char *const model_keys[] = {
    "cores",        "mhz",         "memory_gib", "storage_mbps", "iops",         "network_gbps",
    "power_idle_w", "power_max_w", "cost",       "rack_units",   "speed_factor", "existing",
};
#define NMODEL_KEYS (sizeof model_keys / sizeof model_keys[0])

int ana_models_parse(const ks_ini *ini, ana_model **models, size_t *n, ks_error *err)
{
    *models = NULL;
    *n = 0;
    const char *file = ks_ini_filename(ini);
    for (size_t i = 0; i < ks_ini_section_count(ini); i++) {
        const char *sec = ks_ini_section_name(ini, i), *name;
        if (!has_prefix(sec, "host-model ", &name))
            continue;
        /* host names (NAME-01) become file names in the report, and 'mixed'
         * names the mixed-fleet scenario */
        if (!ks_server_name_valid(name) || strcmp(name, "mixed") == 0) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s: [%s]: host model name '%s' is not allowed: use letters, digits, "
                         "'.', '_' and '-' (not first), at most 64, and not 'mixed'",
                         file, sec, name);
            goto fail;
        }
        ana_model m = {.name = NULL};
        double v[NMODEL_KEYS];
        static const double lo[NMODEL_KEYS] = {1, 1, 0.5, 0, 0, 0, 0, 0, 0, 0, 0.01, 0};
        static const double hi[NMODEL_KEYS] = {100000, 100000, 1e6,  1e8,  1e9, 1e5,
                                               1e6,    1e6,    1e12, 1000, 100, 10000};
        for (size_t k = 0; k < NMODEL_KEYS; k++)
            if (ks_ini_get_double(ini, sec, model_keys[k], NAN, lo[k], hi[k], &v[k], err) < 0)
                goto fail;
        unsigned first = 0;
        for (size_t k = 0; k < NMODEL_KEYS; k++) {
            unsigned l = ks_ini_line(ini, sec, model_keys[k]);
            if (l && (!first || l < first))
                first = l;
        }
        for (size_t k = 0; k < 3; k++) {
            if (isnan(v[k])) {
                ks_error_set(err, KS_E_CONFIG, 0,
                             "%s:%u: [%s] has no '%s': a host model needs cores (physical cores "
                             "of all sockets), mhz (per core) and memory_gib, e.g. 'cores = "
                             "32', 'mhz = 2600', 'memory_gib = 384'",
                             file, first, sec, model_keys[k]);
                goto fail;
            }
        }
        if (v[0] != floor(v[0])) {
            ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: 'cores' in [%s] must be a whole number", file,
                         ks_ini_line(ini, sec, "cores"), sec);
            goto fail;
        }
        if (!isnan(v[11]) && v[11] != floor(v[11])) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: 'existing' in [%s] must be a whole number of hosts", file,
                         ks_ini_line(ini, sec, "existing"), sec);
            goto fail;
        }
        if (!isnan(v[6]) && !isnan(v[7]) && v[7] < v[6]) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: 'power_max_w' in [%s] (%g) is below 'power_idle_w' (%g)", file,
                         ks_ini_line(ini, sec, "power_max_w"), sec, v[7], v[6]);
            goto fail;
        }
        if (isnan(v[6]) != isnan(v[7])) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: [%s] gives only one of 'power_idle_w' and 'power_max_w': give "
                         "both (watts at idle and at full load) or neither",
                         file, first, sec);
            goto fail;
        }
        m.name = ks_strdup(name);
        m.cores = (unsigned)v[0];
        m.mhz = v[1];
        m.memory_gib = v[2];
        m.storage_mbps = v[3];
        m.iops = v[4];
        m.network_gbps = v[5];
        m.power_idle_w = v[6];
        m.power_max_w = v[7];
        m.cost = v[8];
        m.rack_units = v[9];
        m.speed_factor = isnan(v[10]) ? 1.0 : v[10];
        m.existing = isnan(v[11]) ? 0 : (unsigned)v[11];
        *models = ks_reallocarray(*models, *n + 1, sizeof **models);
        (*models)[(*n)++] = m;
    }
    if (*n == 0) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "%s declares no target host: add a section such as\n"
                     "  [host-model r650]\n  cores = 32\n  mhz = 2600\n  memory_gib = 384\n"
                     "(one scenario is planned per host model)",
                     file);
        return -1;
    }
    return 0;
fail:
    ana_models_free(*models, *n);
    *models = NULL;
    *n = 0;
    return -1;
}

void ana_models_free(ana_model *models, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(models[i].name);
    free(models);
}

static void swap_d(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* The k-th smallest of s[0..n) (k from 0; no NaN), s reordered: Hoare's
 * selection, O(n) on average where sorting was O(n log n). The analyzer
 * takes 20 percentiles of every server and more to fill its gaps; on
 * 10,000 servers the sorting was a third of 'analyze'. */
static double kth_smallest(double *s, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, want = (ptrdiff_t)k;
    while (lo < hi) {
        /* median of three: s[lo] <= pivot <= s[hi] stop both scans */
        ptrdiff_t mid = lo + (hi - lo) / 2;
        if (s[mid] < s[lo])
            swap_d(&s[mid], &s[lo]);
        if (s[hi] < s[lo])
            swap_d(&s[hi], &s[lo]);
        if (s[hi] < s[mid])
            swap_d(&s[hi], &s[mid]);
        double pivot = s[mid];
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (s[i] < pivot)
                i++;
            while (s[j] > pivot)
                j--;
            if (i <= j)
                swap_d(&s[i++], &s[j--]);
        }
        /* now s[lo..j] <= pivot, s[i..hi] >= pivot, and between them == */
        if (want <= j)
            hi = j;
        else if (want >= i)
            lo = i;
        else
            return s[want];
    }
    return s[want];
}

double ana_percentile(const double *v, size_t n, double p)
{
    double *s = ks_malloc((n ? n : 1) * sizeof *s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            s[k++] = v[i];
    double r = NAN;
    if (k) {
        /* nearest rank: the smallest value with at least p% of the values
         * at or below it */
        double rank = ceil(p / 100.0 * (double)k);
        size_t idx = rank < 1 ? 0 : (size_t)rank - 1;
        r = kth_smallest(s, k, idx < k ? idx : k - 1);
    }
    free(s);
    return r;
}

unsigned ana_size_vcpus(double demand_mhz, double core_mhz, unsigned src_threads, bool allow_upsize)
{
    double n = isnan(demand_mhz) || core_mhz <= 0 ? 1 : ceil(demand_mhz / core_mhz - 1e-9);
    if (n < 1)
        n = 1;
    if (!allow_upsize && src_threads > 0 && n > src_threads)
        n = src_threads;
    return n > 4096 ? 4096 : (unsigned)n;
}

double ana_size_memory_mib(double demand_bytes, double src_bytes, bool allow_upsize)
{
    double mib = isnan(demand_bytes) ? 0 : ceil(demand_bytes / MIB / 512.0 - 1e-9) * 512.0;
    if (!allow_upsize && src_bytes > 0) {
        double cap = floor(src_bytes / MIB / 512.0) * 512.0;
        if (mib > cap)
            mib = cap;
    }
    return mib < 1024 ? 1024 : mib;
}

double ana_target_mhz(const ana_policy *p, const ana_model *m, double src_mhz, double src_speed)
{
    return src_mhz * src_speed / m->speed_factor * (1.0 + p->headroom);
}

static void add_reason(ana_verdict *v, ana_status s, char *text)
{
    if (s > v->status)
        v->status = s;
    v->reasons = ks_reallocarray(v->reasons, v->nreasons + 1, sizeof *v->reasons);
    v->reasons[v->nreasons++] = text;
}

/* Services the hypervisors themselves may need, by port. */
static const struct {
    long port;
    const char *what;
} infra_ports[] = {
    {53, "DNS"}, {67, "DHCP"}, {123, "NTP"}, {389, "LDAP"}, {2049, "NFS"},
};

void ana_judge(const ana_policy *p, const ana_model *models, size_t nmodels,
               const ana_server_in *in, ana_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->status = ANA_ELIGIBLE;
    v->too_busy = ks_calloc(nmodels ? nmodels : 1, sizeof *v->too_busy);
    if (!in->has_data) {
        /* nothing measured at all: the "no data" reason below says it all */
        v->memory_mib = ana_size_memory_mib(in->src_mem_bytes, 0, true);
    } else if (isnan(in->mem_bytes) && in->src_mem_bytes > 0) {
        /* no measurement: the VM gets what the server has installed */
        v->memory_mib = ana_size_memory_mib(in->src_mem_bytes, 0, true);
        add_reason(v, ANA_ELIGIBLE,
                   ks_asprintf("memory use was not measured: sized at the %.0f MiB installed",
                               v->memory_mib));
    } else if (isnan(in->mem_bytes)) {
        v->memory_mib = ana_size_memory_mib(0, 0, false);
        add_reason(v, ANA_CONDITIONAL,
                   ks_asprintf("memory use was not measured and the installed memory is not "
                               "known: sized at the %.0f MiB minimum; collect or import "
                               "mem_used before deciding",
                               v->memory_mib));
    } else {
        double mem_demand = in->mem_bytes * (1.0 + p->headroom);
        v->memory_mib = ana_size_memory_mib(mem_demand, in->src_mem_bytes, p->allow_upsize);
    }

    for (size_t i = 0; i < p->nphysical_roles; i++) {
        if (!in->role || strcasecmp(in->role, p->physical_roles[i]) != 0)
            continue;
        const char *why =
            strcasecmp(in->role, "backup") == 0
                ? "backups are kept on their own hardware, apart from the hypervisors they "
                  "protect"
            : strcasecmp(in->role, "infrastructure") == 0
                ? "the hypervisors depend on its services (DNS, DHCP, NTP, LDAP, NFS)"
                : "the study's policy (physical_roles) keeps this role physical";
        add_reason(v, ANA_NOT_ELIGIBLE,
                   ks_asprintf("stays physical: its role is '%s' and %s", in->role, why));
    }

    if (!in->has_data && in->data_problem) {
        add_reason(v, ANA_NOT_ELIGIBLE,
                   ks_asprintf("no data: its series cannot be read: %s", in->data_problem));
    } else if (!in->has_data) {
        add_reason(v, ANA_NOT_ELIGIBLE,
                   ks_strdup("no data: no load was measured or imported for this server, so "
                             "nothing can be sized; collect or import its load first"));
    } else if (in->confidence < p->min_confidence) {
        add_reason(v, ANA_NOT_ELIGIBLE,
                   ks_asprintf("too little data: only %.0f%% of the expected hourly samples of "
                               "the study period are there (at least %.0f%% are needed); collect "
                               "longer before deciding",
                               in->confidence * 100, p->min_confidence * 100));
    }

    for (size_t i = 0; i < in->nblockers; i++)
        add_reason(v, p->blocker_status,
                   ks_asprintf("has hardware that does not simply move into a VM: %s%s",
                               in->blockers[i],
                               p->blocker_status == ANA_CONDITIONAL
                                   ? " (possible with device pass-through or a network "
                                     "replacement: check first)"
                                   : ""));

    for (size_t i = 0; i < in->nports; i++) {
        for (size_t k = 0; k < sizeof infra_ports / sizeof infra_ports[0]; k++) {
            if (in->ports[i] != infra_ports[k].port)
                continue;
            bool seen = false;
            for (size_t j = 0; j < i; j++)
                seen |= in->ports[j] == in->ports[i];
            if (!seen)
                add_reason(v, ANA_CONDITIONAL,
                           ks_asprintf("serves %s (listens on port %ld): if the hypervisors "
                                       "or their storage depend on it, keep it physical or "
                                       "move it last",
                                       infra_ports[k].what, in->ports[i]));
        }
    }

    /* too busy: against every host model; not eligible only when no model
     * can take it */
    if (in->has_data && nmodels > 0) {
        size_t busy = 0;
        ks_buf why;
        ks_buf_init(&why, 1 << 16);
        for (size_t m = 0; m < nmodels; m++) {
            const ana_model *hm = &models[m];
            double cap_mhz = hm->cores * hm->mhz * p->max_host_share;
            double need_mhz = ana_target_mhz(p, hm, in->cpu_mhz, in->speed);
            double cap_mib = hm->memory_gib * 1024 * p->max_host_share;
            const char *sep = why.len ? "; " : "";
            if (need_mhz > cap_mhz) {
                ks_buf_printf(&why,
                              "%sneeds %.0f MHz of CPU in its busy hours (%gth percentile, "
                              "%.0f%% headroom), more than %.0f%% of a '%s' host (%.0f of %.0f "
                              "MHz)",
                              sep, need_mhz, p->percentile, p->headroom * 100,
                              p->max_host_share * 100, hm->name, cap_mhz, hm->cores * hm->mhz);
                v->too_busy[m] = true;
            } else if (v->memory_mib > cap_mib) {
                ks_buf_printf(&why,
                              "%sneeds %.1f GiB of memory, more than %.0f%% of a '%s' host (%.1f "
                              "of %g GiB)",
                              sep, v->memory_mib / 1024, p->max_host_share * 100, hm->name,
                              cap_mib / 1024, hm->memory_gib);
                v->too_busy[m] = true;
            } else if (!isnan(hm->storage_mbps) && !isnan(in->disk_mbps) &&
                       in->disk_mbps > hm->storage_mbps * p->max_host_share) {
                ks_buf_printf(&why,
                              "%sits disks move %.0f MB/s in its busy hours, more than %.0f%% of "
                              "a '%s' host's storage budget (%g MB/s)",
                              sep, in->disk_mbps, p->max_host_share * 100, hm->name,
                              hm->storage_mbps);
                v->too_busy[m] = true;
            } else if (!isnan(hm->network_gbps) && !isnan(in->net_mbps) &&
                       in->net_mbps * 8 / 1000 > hm->network_gbps * p->max_host_share) {
                ks_buf_printf(&why,
                              "%sits network moves %.0f MB/s in its busy hours, more than %.0f%% "
                              "of a '%s' host's network (%g Gbit/s)",
                              sep, in->net_mbps, p->max_host_share * 100, hm->name,
                              hm->network_gbps);
                v->too_busy[m] = true;
            } else if (!isnan(hm->iops) && !isnan(in->disk_iops) &&
                       in->disk_iops > hm->iops * p->max_host_share) {
                ks_buf_printf(&why,
                              "%sits disks do %.0f I/O operations/s in its busy hours, more than "
                              "%.0f%% of a '%s' host's budget (%g IOPS)",
                              sep, in->disk_iops, p->max_host_share * 100, hm->name, hm->iops);
                v->too_busy[m] = true;
            }
            busy += v->too_busy[m];
        }
        if (busy == nmodels)
            add_reason(v, ANA_NOT_ELIGIBLE,
                       ks_asprintf("too busy for one host: %s", ks_buf_str(&why)));
        else if (busy)
            add_reason(v, ANA_CONDITIONAL,
                       ks_asprintf("too busy for some host models, left out of their "
                                   "scenarios: %s",
                                   ks_buf_str(&why)));
        ks_buf_free(&why);
    }
}

void ana_verdict_free(ana_verdict *v)
{
    for (size_t i = 0; i < v->nreasons; i++)
        free(v->reasons[i]);
    free(v->reasons);
    free(v->too_busy);
    memset(v, 0, sizeof *v);
}

/* ---- Filling a series's gaps ------------------------------------------ */

static void fill_one(double *v, size_t n, time_t start, long slot, double pct)
{
    size_t missing = 0;
    for (size_t i = 0; i < n; i++)
        missing += isnan(v[i]);
    if (!missing) /* most servers: nothing to work out */
        return;
    size_t per_day = (size_t)(86400 / slot);
    double all = ana_percentile(v, n, pct);
    if (isnan(all))
        all = 0;
    /* the slots grouped by hour of day in one pass (a counting sort), each
     * group's percentile then the fill of that hour */
    size_t *first = ks_calloc(per_day + 1, sizeof *first);
    size_t *hour_of = ks_malloc((n ? n : 1) * sizeof *hour_of);
    for (size_t i = 0; i < n; i++) {
        hour_of[i] = (size_t)(((start + (time_t)i * slot) % 86400) / slot);
        first[hour_of[i] + 1]++;
    }
    for (size_t h = 0; h < per_day; h++)
        first[h + 1] += first[h];
    double *grouped = ks_malloc((n ? n : 1) * sizeof *grouped);
    size_t *next = ks_malloc((per_day ? per_day : 1) * sizeof *next);
    memcpy(next, first, per_day * sizeof *next);
    for (size_t i = 0; i < n; i++)
        grouped[next[hour_of[i]]++] = v[i];
    double *fill = ks_malloc(per_day * sizeof *fill);
    for (size_t h = 0; h < per_day; h++) {
        double p = ana_percentile(grouped + first[h], first[h + 1] - first[h], pct);
        fill[h] = isnan(p) ? all : p;
    }
    for (size_t i = 0; i < n; i++)
        if (isnan(v[i]))
            v[i] = fill[hour_of[i]];
    free(first);
    free(hour_of);
    free(grouped);
    free(next);
    free(fill);
}

void ana_series_fill(ks_series *s, double pct)
{
    /* not the network: it is only reported and budgeted per host, where an
     * unknown slot must stay unknown, not become a typical value or 0 */
    double *arrs[] = {s->cpu_mhz, s->mem_bytes, s->disk_bps, s->disk_iops};
    for (size_t a = 0; a < 4; a++)
        fill_one(arrs[a], s->nslots, s->slot_start, s->slot_seconds, pct);
}
