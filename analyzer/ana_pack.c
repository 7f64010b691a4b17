/* ana_pack.c: time-aware vector bin packing of VMs onto KVM hosts.
 *
 * Model. Every VM is a vector: its CPU demand in each of the T time slots
 * (plus the per-VM overhead), its memory (plus overhead) and its vCPUs. A
 * host holds a set of VMs when, in EVERY slot, the CPU sum stays within
 * cpu_limit x cpu_mhz - host_cpu_mhz, the memory sum within mem_limit x
 * mem_mib - host_mem_mib, and the vCPU sum within vcpu_ratio x cores. Two
 * VMs whose peaks fall at different times (a day-time web server, a
 * night-time batch job) can share a host that neither peak-sum nor
 * average-based sizing would allow: this is vector bin packing with T + 2
 * dimensions.
 *
 * Algorithm. The heuristics are the best ones measured by Panigrahy,
 * Talwar, Uyeda and Wieder, "Heuristics for Vector Bin Packing", Microsoft
 * Research, 2011, on demand and capacity normalized per dimension (CPU
 * dimensions weighted 1/T so that CPU as a whole weighs as much as memory):
 *
 *   1. first-fit decreasing, items ordered by three sizes: the largest
 *      dimension (L-inf), the L2 norm, and the sum of the averages (L1);
 *   2. bin-centric greedy (their "BCS"): fill one host at a time, each time
 *      adding, among the items that still fit, the one that maximizes the
 *      dot product of its vector with the host's remaining capacity
 *      ("DotProduct"), or that minimizes the L2 norm of the remaining
 *      capacity after it ("Norm-based Greedy L2"). To keep it near-linear
 *      the candidates are the W largest remaining items that still fit.
 *
 * All variants run; the one with the fewest hosts (counting the N+1
 * standby host when it needs one) is kept, ties to the earlier variant.
 * Local search then tries to empty hosts, least-filled first, by moving
 * each of their VMs to another host (first fit); when a host cannot be
 * emptied, pairwise swaps exchange one of its VMs for a smaller one from
 * another host, and emptying is tried again (in the spirit of the
 * improvement phases of one-dimensional bin packing heuristics, e.g.
 * Fleszar and Hindi, "New heuristics for one-dimensional bin-packing",
 * Computers & Operations Research 29, 2002). It runs while it helps,
 * bounded by a budget counted in fit checks, never in wall-clock time, so
 * results are deterministic. On small problems (units x slots up to
 * LS_ALL_VARIANTS_MAX) local search follows every variant, and first-fit
 * decreasing also restarts from orders perturbed by a fixed-seed PRNG.
 *
 * Fewer hosts by repair. The best placement may still be above the lower
 * bound because hosts peak at different hours. Two phases then count an
 * overload: CPU above the limit summed over the slots, plus memory above
 * its limit, as shares. Each repairs it by the move (or the swap with a
 * smaller VM of a sampled host) that lowers it most; vCPUs, bans, pins and
 * anti-affinity are never broken. Both are bounded in slot operations,
 * deterministic, and kept only when the placement summed afresh is within
 * every limit.
 *   - Large problems more than 3 % + 1 host above the bound (balance_search):
 *     place every VM, largest first, on exactly H hosts, each where it
 *     raises a smooth maximum of the host's slots least (a sum of
 *     exponentials of the load over the limit, with what is still to be
 *     placed counted as spread evenly over the hosts); then swaps between
 *     pairs of hosts lower that potential (balance_swaps: the hottest host
 *     with the 32 hosts that have the most room in its busy slots), so
 *     that the hosts' hour-to-hour noise cancels; then repair. H starts
 *     two thirds of the way down to the bound; after a failure it goes up
 *     by the overload left (a host per share of a limit), at most half way
 *     back. From the first H that fits, one host at a time is emptied (the
 *     one with the smallest largest VM), its VMs spread where they raise
 *     the potential least, and swaps and repair run again, until one
 *     fails or the budget is spent. This replaces local search there
 *     (local search runs when it finds nothing).
 *   - Small problems (eliminate): empty the emptiest host where it
 *     overloads least and repair, one host after another. When no move or
 *     swap helps, the overloaded host's VMs and a partner's are dealt out
 *     again between the two (pair_repack).
 *
 * Constraints. An affinity group is packed as one combined item (its
 * series summed). Anti-affinity is checked on every placement. Pinned items
 * are placed first on their host; hosts 0..max(existing, pin + 1) - 1 are
 * "fixed": they exist, are counted as used and are filled first (every
 * variant scans hosts in index order) and are never removed. N+1 is checked
 * last: for each host, its VMs (largest peak first) are re-placed first-fit
 * on the other hosts within 100% of capacity (cpu_mhz - host_cpu_mhz,
 * mem_mib - host_mem_mib) in every slot, one by one; vCPU ratio,
 * affinity and anti-affinity do not apply while a host is down. When that
 * fails, one empty standby host is added, which always suffices: the
 * failed host's VMs fit on one host under the limits, hence within 100% on
 * the standby.
 *
 * Lower bound: the largest of max over slots ceil(sum CPU / usable CPU),
 * ceil(sum memory / usable memory) and ceil(sum vCPUs / vCPU limit), over
 * the items that can be placed; with N+1 also 1 + the same CPU and memory
 * bounds at 100% of capacity (the survivors of any failure hold everything).
 *
 * Cost: a fit check is one pass over T doubles (the host's running CPU sum
 * per slot plus the item's series, in blocks of 64 slots with an early
 * exit), so first fit is O(items x hosts x T) in the worst case and about
 * O(items x T x few) in practice; the bin-centric variants are
 * O(items x W x T).
 */
#include "ana_pack.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_mem.h"
#include "ks_vector.h"

/* Candidates scored per step by the bin-centric variants. */
#define BCS_WINDOW 128
/* Local search budget, in fit checks (each one pass over T slots at most). */
#ifndef LS_BUDGET_CHECKS
#define LS_BUDGET_CHECKS 40000000u
#endif
/* Up to this many units x slots, local search runs after every variant. */
#define LS_ALL_VARIANTS_MAX 2000000u
/* Seeded restarts on small problems: about this many units x slots of
 * work in all, at most RESTARTS_MAX. */
#define RESTART_WORK 20000000u
#define RESTARTS_MAX 40u
/* Large problems' balanced placement (balance_search): its budget in slot
 * operations, all tries together (an overload check of a slot; a slot of
 * the placement's potential counts a quarter, a slot of a swap half):
 * some 25 s at 10,000 VMs. */
#ifndef BALANCE_BUDGET
#define BALANCE_BUDGET 12000000000ull
#endif
/* Small problems' host elimination budget, in slot operations. */
#ifndef ELIM_BUDGET
#define ELIM_BUDGET 400000000ull
#endif
/* Relative slack on capacities: packing must not reject an exact fit, and the
 * validator must accept what packing produced despite rounding drift. */
#define PACK_REL_EPS 1e-12
#define VALID_REL_EPS 1e-9

KS_VECTOR(int_vec, int);
KS_VECTOR(size_vec, size_t);

typedef struct unit {
    size_t first, nmembers; /* into packer.members */
    double *cpu;            /* T values, with per-VM overhead */
    double peak;            /* largest cpu[t] */
    size_t peak_slot;
    double mem;
    unsigned long vcpus;
    int pin;          /* host index or -1 */
    const char *name; /* smallest member name, for ties */
    size_t nanti;     /* anti-affinity groups (dense ids) in anti_ids */
    size_t anti_first;
    double size_max, size_l2, size_sum, norm2;
    double size_noisy; /* L2 size x a seeded random factor (restarts) */
    size_t rank_l2;    /* position in the L2 order (cmp_units), for units_on */
    bool *ban;         /* NULL, or per model: a member may not be on it */
    bool placeable;
} unit;

typedef struct host {
    double *load; /* T values */
    double mem;
    unsigned long vcpus;
    size_t nunits;
    int_vec anti;     /* dense anti-affinity ids present (a multiset) */
    size_vec members; /* units on it, in no particular order */
    bool dead;        /* emptied by local search */
    size_t model;     /* index into packer.mc */
    uint32_t *ord;    /* with packer.ordered: the slots by load, highest first */
    uint32_t hot;     /* the slot where fits() last refused a unit */
} host;

KS_VECTOR(host_vec, host);

/* Usable capacity of a host of one model. */
typedef struct model_cap {
    double cap, mcap, vcap; /* with PACK_REL_EPS slack */
    double cap_raw, mcap_raw, vcap_raw;
    double price;
} model_cap;

typedef struct packer {
    const ana_problem *p;
    size_t T;
    /* the model new hosts open with: items are sized and normalized on it */
    double cap, mcap, vcap; /* usable per host, with PACK_REL_EPS slack */
    double cap_raw, mcap_raw, vcap_raw;
    model_cap *mc; /* every model */
    size_t nmc, newm;
    size_t nunits;
    unit *units;
    size_t *members; /* item indices grouped per unit */
    double *cpu_all; /* the units' series, one block */
    int *anti_ids;
    int *uhost; /* per unit: host or -1 */
    host_vec hosts;
    size_t nfixed;
    unsigned long long checks;
    /* hosts keep their slots ordered by load (host.ord), so that the
     * overload of a change is summed over the slots it can reach only */
    bool ordered;
    /* per model (allocated when first needed by the swap balancing): per
     * unit and slot, exp(BALANCE_ALPHA x its load / the limit) */
    double **ux;
} packer;

/* ---------------------------------------------------------------- helpers */

/* 52000.4 -> "52,000" into buf. */
static const char *fmt_num(char buf[40], double v)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.0f", v);
    size_t n = strlen(tmp), o = 0, start = tmp[0] == '-' ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        if (i > start && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

/* The first slot where load + u goes over cap, T when none does. */
static size_t cpu_over_at(const double *restrict load, const double *restrict u, size_t T,
                          double cap)
{
    for (size_t t0 = 0; t0 < T; t0 += 64) {
        size_t t1 = t0 + 64 < T ? t0 + 64 : T;
        int bad = 0;
        for (size_t t = t0; t < t1; t++)
            bad |= load[t] + u[t] > cap;
        if (bad)
            for (size_t t = t0; t < t1; t++)
                if (load[t] + u[t] > cap)
                    return t;
    }
    return T;
}

/* load + extra + cpu <= cap in every slot (N+1 re-placement). */
static bool cpu_fits3(const double *restrict load, const double *restrict extra,
                      const double *restrict cpu, size_t T, double cap)
{
    for (size_t t0 = 0; t0 < T; t0 += 64) {
        size_t t1 = t0 + 64 < T ? t0 + 64 : T;
        int bad = 0;
        for (size_t t = t0; t < t1; t++)
            bad |= load[t] + extra[t] + cpu[t] > cap;
        if (bad)
            return false;
    }
    return true;
}

static double ceil_eps(double x)
{
    return ceil(x - 1e-9);
}

static size_t model_count(const ana_problem *p)
{
    return p->models ? p->nmodels : 1;
}

static const ana_host_model *model_at(const ana_problem *p, size_t k)
{
    return p->models ? &p->models[k] : &p->model;
}

/* The model new hosts open with: the one items are sized on. */
static const ana_host_model *model_new(const ana_problem *p)
{
    return p->models ? &p->models[p->new_model] : &p->model;
}

/* ------------------------------------------------------------ host state */

static size_t host_new_of(packer *pk, size_t model)
{
    host h = {0};
    h.load = ks_calloc(pk->T ? pk->T : 1, sizeof(double));
    h.model = model;
    if (pk->ordered) {
        h.ord = ks_calloc(pk->T ? pk->T : 1, sizeof(uint32_t));
        for (size_t t = 0; t < pk->T; t++)
            h.ord[t] = (uint32_t)t;
    }
    host_vec_push(&pk->hosts, h);
    return pk->hosts.len - 1;
}

static size_t host_new(packer *pk)
{
    return host_new_of(pk, pk->newm);
}

/* The model of fixed host i: its existing model, or the new hosts' one
 * (hosts created for pins beyond the existing ones). */
static size_t fixed_model(const ana_problem *p, size_t newm, size_t i)
{
    return p->existing_models && i < p->existing_hosts ? p->existing_models[i] : newm;
}

static void hosts_free(packer *pk)
{
    for (size_t i = 0; i < pk->hosts.len; i++) {
        free(pk->hosts.ptr[i].load);
        free(pk->hosts.ptr[i].ord);
        int_vec_reset(&pk->hosts.ptr[i].anti);
        size_vec_reset(&pk->hosts.ptr[i].members);
    }
    host_vec_reset(&pk->hosts);
}

static void hosts_reset(packer *pk)
{
    hosts_free(pk);
    for (size_t i = 0; i < pk->nfixed; i++)
        host_new_of(pk, fixed_model(pk->p, pk->newm, i));
    for (size_t u = 0; u < pk->nunits; u++)
        pk->uhost[u] = -1;
}

static bool host_has_anti(const host *h, int id)
{
    for (size_t i = 0; i < h->anti.len; i++)
        if (h->anti.ptr[i] == id)
            return true;
    return false;
}

static bool fits(packer *pk, size_t hi, size_t ui)
{
    host *h = &pk->hosts.ptr[hi];
    const unit *u = &pk->units[ui];
    const model_cap *c = &pk->mc[h->model];
    pk->checks++;
    if (h->dead || h->mem + u->mem > c->mcap || (double)(h->vcpus + u->vcpus) > c->vcap ||
        (u->ban && u->ban[h->model]))
        return false;
    for (size_t a = 0; a < u->nanti; a++)
        if (host_has_anti(h, pk->anti_ids[u->anti_first + a]))
            return false;
    /* the slot that refused the last unit first: a full host refuses
     * most units there, without the pass over every slot */
    if (pk->T && h->load[h->hot] + u->cpu[h->hot] > c->cap)
        return false;
    size_t t = cpu_over_at(h->load, u->cpu, pk->T, c->cap);
    if (t < pk->T)
        h->hot = (uint32_t)t;
    return t == pk->T;
}

/* Host h's slots back in order (load, highest first; ties by slot): an
 * insertion sort, since a placement moves each slot a little. */
static void host_reorder(const packer *pk, host *h)
{
    uint32_t *restrict o = h->ord;
    const double *restrict L = h->load;
    for (size_t k = 1; k < pk->T; k++) {
        uint32_t t = o[k];
        double v = L[t];
        size_t j = k;
        while (j > 0 && (L[o[j - 1]] < v || (L[o[j - 1]] == v && o[j - 1] > t))) {
            o[j] = o[j - 1];
            j--;
        }
        o[j] = t;
    }
}

static void place(packer *pk, size_t hi, size_t ui)
{
    host *h = &pk->hosts.ptr[hi];
    const unit *u = &pk->units[ui];
    for (size_t t = 0; t < pk->T; t++)
        h->load[t] += u->cpu[t];
    h->mem += u->mem;
    h->vcpus += u->vcpus;
    h->nunits++;
    size_vec_push(&h->members, ui);
    for (size_t a = 0; a < u->nanti; a++)
        int_vec_push(&h->anti, pk->anti_ids[u->anti_first + a]);
    pk->uhost[ui] = (int)hi;
    if (pk->ordered)
        host_reorder(pk, h);
}

static void unplace(packer *pk, size_t ui)
{
    host *h = &pk->hosts.ptr[pk->uhost[ui]];
    const unit *u = &pk->units[ui];
    for (size_t t = 0; t < pk->T; t++)
        h->load[t] -= u->cpu[t];
    h->mem -= u->mem;
    h->vcpus -= u->vcpus;
    h->nunits--;
    for (size_t i = 0; i < h->members.len; i++)
        if (h->members.ptr[i] == ui) {
            h->members.ptr[i] = h->members.ptr[--h->members.len];
            break;
        }
    if (h->nunits == 0) {
        /* no drift left behind on an empty host */
        memset(h->load, 0, pk->T * sizeof(double));
        h->mem = 0;
    }
    for (size_t a = 0; a < u->nanti; a++) {
        int id = pk->anti_ids[u->anti_first + a];
        for (size_t i = 0; i < h->anti.len; i++)
            if (h->anti.ptr[i] == id) {
                h->anti.ptr[i] = h->anti.ptr[--h->anti.len];
                break;
            }
    }
    pk->uhost[ui] = -1;
    if (pk->ordered)
        host_reorder(pk, h);
}

/* ------------------------------------------------------------- variants */

/* Pinned units first, on their host; false (and uhost -1) for those that
 * do not fit there. */
static void place_pinned(packer *pk)
{
    for (size_t u = 0; u < pk->nunits; u++) {
        const unit *un = &pk->units[u];
        if (un->placeable && un->pin >= 0 && fits(pk, (size_t)un->pin, u))
            place(pk, (size_t)un->pin, u);
    }
}

enum size_kind { SIZE_MAX_DIM, SIZE_L2, SIZE_SUM, SIZE_NOISY };

static double unit_size(const unit *u, enum size_kind k)
{
    return k == SIZE_MAX_DIM ? u->size_max
           : k == SIZE_L2    ? u->size_l2
           : k == SIZE_SUM   ? u->size_sum
                             : u->size_noisy;
}

/* qsort has no context argument in C11: the comparators read it from
 * thread-local variables, so that separate problems can be solved in
 * separate threads. */
static _Thread_local enum size_kind sort_kind;
static _Thread_local const unit *sort_units;

/* Size descending, then name, then index: a total, deterministic order. */
static int cmp_units(const void *a, const void *b)
{
    const unit *ua = &sort_units[*(const size_t *)a], *ub = &sort_units[*(const size_t *)b];
    double sa = unit_size(ua, sort_kind), sb = unit_size(ub, sort_kind);
    if (sa != sb)
        return sa > sb ? -1 : 1;
    int c = strcmp(ua->name, ub->name);
    if (c)
        return c;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Free (unpinned, placeable) units in decreasing order of size k. */
static size_t free_units_sorted(const packer *pk, enum size_kind k, size_t *order)
{
    size_t n = 0;
    for (size_t u = 0; u < pk->nunits; u++)
        if (pk->units[u].placeable && pk->units[u].pin < 0)
            order[n++] = u;
    sort_kind = k;
    sort_units = pk->units;
    ks_qsort(order, n, sizeof *order, cmp_units);
    return n;
}

static void run_ffd(packer *pk, enum size_kind k, size_t *order)
{
    hosts_reset(pk);
    place_pinned(pk);
    size_t n = free_units_sorted(pk, k, order);
    for (size_t i = 0; i < n; i++) {
        size_t u = order[i], h;
        for (h = 0; h < pk->hosts.len; h++)
            if (fits(pk, h, u))
                break;
        if (h == pk->hosts.len)
            h = host_new(pk);
        place(pk, h, u);
    }
}

/* Weighted dot product of the unit with the host's remaining capacity. */
static double dot_residual(const packer *pk, const host *h, const unit *u)
{
    const model_cap *c = &pk->mc[h->model];
    double s = 0;
    for (size_t t = 0; t < pk->T; t++)
        s += u->cpu[t] * (c->cap_raw - h->load[t]);
    s /= pk->cap_raw * pk->cap_raw * (double)pk->T;
    s += u->mem * (c->mcap_raw - h->mem) / (pk->mcap_raw * pk->mcap_raw);
    if (isfinite(pk->vcap_raw) && isfinite(c->vcap_raw))
        s += (double)u->vcpus * (c->vcap_raw - (double)h->vcpus) / (pk->vcap_raw * pk->vcap_raw);
    return s;
}

static void run_bcs(packer *pk, bool l2, size_t *order, size_t *stamp)
{
    hosts_reset(pk);
    place_pinned(pk);
    size_t n = free_units_sorted(pk, SIZE_L2, order);
    for (size_t u = 0; u < pk->nunits; u++)
        stamp[u] = SIZE_MAX;
    size_t h = 0;
    while (n > 0) {
        if (h == pk->hosts.len)
            host_new(pk);
        size_t best = SIZE_MAX, seen = 0;
        double best_score = -INFINITY;
        for (size_t k = 0; k < n && seen < BCS_WINDOW; k++) {
            size_t u = order[k];
            if (stamp[u] == h)
                continue;
            if (!fits(pk, h, u)) {
                stamp[u] = h; /* loads only grow: it will not fit this host */
                continue;
            }
            seen++;
            double d = dot_residual(pk, &pk->hosts.ptr[h], &pk->units[u]);
            double score = l2 ? 2 * d - pk->units[u].norm2 : d;
            if (score > best_score) {
                best_score = score;
                best = k;
            }
        }
        if (best == SIZE_MAX) {
            h++;
            continue;
        }
        place(pk, h, order[best]);
        memmove(order + best, order + best + 1, (n - best - 1) * sizeof *order);
        n--;
    }
}

/* ---------------------------------------------------------- local search */

static double host_fill(const packer *pk, const host *h)
{
    const model_cap *c = &pk->mc[h->model];
    double s = 0;
    for (size_t t = 0; t < pk->T; t++)
        s += h->load[t];
    return s / (c->cap_raw * (double)pk->T) + h->mem / c->mcap_raw;
}

static int cmp_rank(const void *a, const void *b)
{
    size_t x = sort_units[*(const size_t *)a].rank_l2, y = sort_units[*(const size_t *)b].rank_l2;
    return (x > y) - (x < y);
}

/* The units on host hi, in L2 order: by their precomputed rank, the same
 * order as cmp_units without its floating-point and name comparisons (the
 * local search sorts hosts' members millions of times). */
static size_t units_on(const packer *pk, size_t hi, size_t *out)
{
    const size_vec *mv = &pk->hosts.ptr[hi].members;
    size_t n = mv->len;
    if (!n) /* an empty host's list may be NULL: memcpy and qsort of NULL are undefined */
        return 0;
    memcpy(out, mv->ptr, n * sizeof *out);
    sort_units = pk->units;
    ks_qsort(out, n, sizeof *out, cmp_rank);
    return n;
}

/* Move every unit of host a elsewhere, or change nothing. */
static bool try_empty(packer *pk, size_t a, size_t *buf, size_t *moved_to)
{
    size_t n = units_on(pk, a, buf);
    for (size_t i = 0; i < n; i++)
        if (pk->units[buf[i]].pin >= 0)
            return false;
    pk->hosts.ptr[a].dead = true; /* fits() refuses it as a target */
    size_t i;
    for (i = 0; i < n; i++) {
        size_t u = buf[i], b;
        unplace(pk, u);
        for (b = 0; b < pk->hosts.len; b++)
            if (b != a && fits(pk, b, u))
                break;
        if (b == pk->hosts.len) {
            pk->hosts.ptr[a].dead = false;
            place(pk, a, u);
            break;
        }
        place(pk, b, u);
        moved_to[i] = b;
    }
    if (i == n)
        return true;
    while (i-- > 0) {
        unplace(pk, buf[i]);
        place(pk, a, buf[i]);
    }
    return false;
}

/* load - out + in <= cap in every slot. */
static bool cpu_fits_swap(const double *restrict load, const double *restrict in,
                          const double *restrict out, size_t T, double cap)
{
    for (size_t t0 = 0; t0 < T; t0 += 64) {
        size_t t1 = t0 + 64 < T ? t0 + 64 : T;
        int bad = 0;
        for (size_t t = t0; t < t1; t++)
            bad |= load[t] - out[t] + in[t] > cap;
        if (bad)
            return false;
    }
    return true;
}

/* Capacity side of exchanging u (on a) and v (on b), without moving them;
 * anti-affinity is left to fits() once this passes. */
static bool swap_may_fit(packer *pk, size_t a, size_t u, size_t b, size_t v)
{
    const host *ha = &pk->hosts.ptr[a], *hb = &pk->hosts.ptr[b];
    const unit *uu = &pk->units[u], *vv = &pk->units[v];
    const model_cap *ca = &pk->mc[ha->model], *cb = &pk->mc[hb->model];
    pk->checks++;
    if (hb->mem - vv->mem + uu->mem > cb->mcap || ha->mem - uu->mem + vv->mem > ca->mcap ||
        (double)(hb->vcpus - vv->vcpus + uu->vcpus) > cb->vcap ||
        (double)(ha->vcpus - uu->vcpus + vv->vcpus) > ca->vcap)
        return false;
    return cpu_fits_swap(hb->load, uu->cpu, vv->cpu, pk->T, cb->cap) &&
           cpu_fits_swap(ha->load, vv->cpu, uu->cpu, pk->T, ca->cap);
}

/* Exchange units of host a for smaller ones of other hosts; true if any. */
static bool shrink(packer *pk, size_t a, size_t *buf, size_t *buf2, unsigned long long stop)
{
    bool any = false;
    size_t n = units_on(pk, a, buf);
    for (size_t i = 0; i < n && pk->checks < stop; i++) {
        size_t u = buf[i];
        if (pk->units[u].pin >= 0)
            continue;
        for (size_t b = 0; b < pk->hosts.len && pk->uhost[u] == (int)a; b++) {
            if (b == a || pk->hosts.ptr[b].dead || pk->checks >= stop)
                continue;
            size_t m = units_on(pk, b, buf2);
            for (size_t j = 0; j < m; j++) {
                size_t v = buf2[j];
                if (pk->units[v].pin >= 0 || pk->units[v].size_l2 >= pk->units[u].size_l2 ||
                    !swap_may_fit(pk, a, u, b, v))
                    continue;
                unplace(pk, u);
                unplace(pk, v);
                if (fits(pk, b, u) && fits(pk, a, v)) {
                    place(pk, b, u);
                    place(pk, a, v);
                    any = true;
                    break;
                }
                place(pk, a, u);
                place(pk, b, v);
            }
        }
    }
    return any;
}

static _Thread_local double *fill_sort_key;
static int cmp_fill(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (fill_sort_key[x] != fill_sort_key[y])
        return fill_sort_key[x] < fill_sort_key[y] ? -1 : 1;
    return x < y ? -1 : 1;
}

static bool local_search(packer *pk)
{
    size_t cap = pk->nunits + 1;
    KS_AUTOFREE size_t *buf = ks_calloc(cap, sizeof(size_t));
    KS_AUTOFREE size_t *buf2 = ks_calloc(cap, sizeof(size_t));
    KS_AUTOFREE size_t *moved = ks_calloc(cap, sizeof(size_t));
    KS_AUTOFREE size_t *cand = NULL;
    KS_AUTOFREE double *fill = NULL;
    unsigned long long stop = pk->checks + LS_BUDGET_CHECKS;
    bool improved_any = false;
    for (;;) {
        size_t nh = pk->hosts.len, nc = 0;
        cand = ks_reallocarray(cand, nh + 1, sizeof(size_t));
        fill = ks_reallocarray(fill, nh + 1, sizeof(double));
        for (size_t h = pk->nfixed; h < nh; h++)
            if (!pk->hosts.ptr[h].dead && pk->hosts.ptr[h].nunits) {
                fill[h] = host_fill(pk, &pk->hosts.ptr[h]);
                cand[nc++] = h;
            }
        fill_sort_key = fill;
        ks_qsort(cand, nc, sizeof *cand, cmp_fill);
        bool improved = false;
        for (size_t i = 0; i < nc && !improved && pk->checks < stop; i++) {
            size_t a = cand[i];
            if (try_empty(pk, a, buf, moved) ||
                (shrink(pk, a, buf, buf2, stop) && try_empty(pk, a, buf, moved)))
                improved = true;
        }
        if (!improved)
            break;
        improved_any = true;
    }
    return improved_any;
}

/* ------------------------------------------------------------------ N+1 */

typedef struct n1_ctx {
    size_t T, nhosts;
    double *load, *extra, *mem, *extra_mem;
    size_t *start, *list; /* items per host (counting sort) */
    bool *touched;
} n1_ctx;

static _Thread_local const ana_problem *n1_sort_p;
static int cmp_items_peak(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    const ana_item *ix = &n1_sort_p->items[x], *iy = &n1_sort_p->items[y];
    double px = 0, py = 0;
    for (size_t t = 0; t < n1_sort_p->nslots; t++) {
        px = ix->cpu[t] > px ? ix->cpu[t] : px;
        py = iy->cpu[t] > py ? iy->cpu[t] : py;
    }
    if (px != py)
        return px > py ? -1 : 1;
    if (ix->mem_mib != iy->mem_mib)
        return ix->mem_mib > iy->mem_mib ? -1 : 1;
    int c = strcmp(ix->name ? ix->name : "", iy->name ? iy->name : "");
    if (c)
        return c;
    return x < y ? -1 : 1;
}

/* -1 when N+1 holds, else the first host whose loss cannot be absorbed
 * (*bad_item: an item of it that found no room). Loads are rebuilt from
 * host_of so the packer and the validator judge alike. */
static long n1_check(const ana_problem *p, const int *host_of, const size_t *host_model,
                     size_t nhosts, size_t *bad_item)
{
    const ana_host_model *m = model_new(p); /* the per-VM overheads */
    size_t T = p->nslots;
    if (nhosts == 0)
        return -1;
    KS_AUTOFREE double *caps = ks_calloc(2 * nhosts, sizeof(double));
    for (size_t h = 0; h < nhosts; h++) {
        const ana_host_model *hm = model_at(p, host_model[h]);
        caps[2 * h] = (hm->cpu_mhz - hm->host_cpu_mhz) * (1 + VALID_REL_EPS) + 1e-6;
        caps[2 * h + 1] = (hm->mem_mib - hm->host_mem_mib) * (1 + VALID_REL_EPS) + 1e-6;
    }
    KS_AUTOFREE double *load = ks_calloc(nhosts * T, sizeof(double));
    KS_AUTOFREE double *extra = ks_calloc(nhosts * T, sizeof(double));
    KS_AUTOFREE double *mem = ks_calloc(nhosts, sizeof(double));
    KS_AUTOFREE double *emem = ks_calloc(nhosts, sizeof(double));
    KS_AUTOFREE size_t *start = ks_calloc(nhosts + 1, sizeof(size_t));
    KS_AUTOFREE size_t *list = ks_calloc(p->nitems + 1, sizeof(size_t));
    KS_AUTOFREE bool *touched = ks_calloc(nhosts, sizeof(bool));
    KS_AUTOFREE double *ucpu = ks_calloc(T, sizeof(double));
    for (size_t i = 0; i < p->nitems; i++) {
        int h = host_of[i];
        if (h < 0)
            continue;
        const ana_item *it = &p->items[i];
        double *l = load + (size_t)h * T;
        for (size_t t = 0; t < T; t++)
            l[t] += it->cpu[t] + m->vm_cpu_mhz;
        mem[h] += it->mem_mib + m->vm_mem_mib;
        start[h + 1]++;
    }
    for (size_t h = 0; h < nhosts; h++)
        start[h + 1] += start[h];
    {
        KS_AUTOFREE size_t *fillp = ks_calloc(nhosts, sizeof(size_t));
        for (size_t i = 0; i < p->nitems; i++)
            if (host_of[i] >= 0)
                list[start[host_of[i]] + fillp[host_of[i]]++] = i;
    }
    n1_sort_p = p;
    for (size_t h = 0; h < nhosts; h++) {
        size_t b = start[h], e = start[h + 1];
        if (b == e)
            continue;
        ks_qsort(list + b, e - b, sizeof *list, cmp_items_peak);
        bool ok = true;
        for (size_t k = b; k < e && ok; k++) {
            const ana_item *it = &p->items[list[k]];
            double im = it->mem_mib + m->vm_mem_mib;
            for (size_t t = 0; t < T; t++)
                ucpu[t] = it->cpu[t] + m->vm_cpu_mhz;
            size_t g;
            for (g = 0; g < nhosts; g++) {
                if (g == h || mem[g] + emem[g] + im > caps[2 * g + 1])
                    continue;
                if (cpu_fits3(load + g * T, extra + g * T, ucpu, T, caps[2 * g]))
                    break;
            }
            if (g == nhosts) {
                ok = false;
                *bad_item = list[k];
                break;
            }
            for (size_t t = 0; t < T; t++)
                extra[g * T + t] += ucpu[t];
            emem[g] += im;
            touched[g] = true;
        }
        for (size_t g = 0; g < nhosts; g++)
            if (touched[g]) {
                memset(extra + g * T, 0, T * sizeof(double));
                emem[g] = 0;
                touched[g] = false;
            }
        if (!ok)
            return (long)h;
    }
    return -1;
}

/* ------------------------------------------------------------ validation */

/* One host model's limits and capacities; 0, or -1 with err. */
static bool model_ok(const ana_host_model *m, ks_error *err)
{
    if (!(m->cpu_limit > 0 && m->cpu_limit <= 1) || !(m->mem_limit > 0 && m->mem_limit <= 1)) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "host CPU limit %g and memory limit %g must both be in (0, 1]: fix "
                     "them in study.ini",
                     m->cpu_limit, m->mem_limit);
        return false;
    }
    if (!(m->cpu_mhz > 0) || !(m->mem_mib > 0) || !(m->vcpu_ratio >= 0) ||
        !(m->host_cpu_mhz >= 0) || !(m->host_mem_mib >= 0) || !(m->vm_cpu_mhz >= 0) ||
        !(m->vm_mem_mib >= 0)) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "host model has a non-positive capacity or a negative overhead or "
                     "vCPU ratio (cpu_mhz %g, mem_mib %g, vcpu_ratio %g): fix it in study.ini",
                     m->cpu_mhz, m->mem_mib, m->vcpu_ratio);
        return false;
    }
    if (m->vcpu_ratio > 0 && m->cores == 0) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "a vCPU ratio of %g needs the host's core count, which is 0: set it in "
                     "study.ini",
                     m->vcpu_ratio);
        return false;
    }
    double cap = m->cpu_limit * m->cpu_mhz - m->host_cpu_mhz;
    double mcap = m->mem_limit * m->mem_mib - m->host_mem_mib;
    if (!(cap > 0) || !(mcap > 0)) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "host overhead leaves nothing for VMs: %g MHz usable CPU and %g MiB "
                     "usable memory per host; lower the host overhead or raise the limits",
                     cap, mcap);
        return false;
    }
    return true;
}

static bool problem_ok(const ana_problem *p, ks_error *err)
{
    if (p->nitems && !p->items) {
        ks_error_set(err, KS_E_INTERNAL, 0, "packing problem has %zu items but no item array",
                     p->nitems);
        return false;
    }
    if (p->nitems && p->nslots == 0) {
        ks_error_set(err, KS_E_INTERNAL, 0,
                     "packing problem has %zu items but no time slots: collect or import "
                     "load data first",
                     p->nitems);
        return false;
    }
    if (p->models && (p->nmodels == 0 || p->new_model >= p->nmodels)) {
        ks_error_set(err, KS_E_INTERNAL, 0,
                     "packing problem has %zu host models and opens hosts of model %zu", p->nmodels,
                     p->new_model);
        return false;
    }
    for (size_t k = 0; k < model_count(p); k++)
        if (!model_ok(model_at(p, k), err))
            return false;
    for (size_t h = 0; p->existing_models && h < p->existing_hosts; h++)
        if (p->existing_models[h] >= model_count(p)) {
            ks_error_set(err, KS_E_INTERNAL, 0,
                         "existing host %zu is of model %zu; the problem has %zu models", h,
                         p->existing_models[h], model_count(p));
            return false;
        }
    for (size_t i = 0; i < p->nitems; i++) {
        const ana_item *it = &p->items[i];
        const char *name = it->name ? it->name : "(unnamed)";
        if (!it->cpu) {
            ks_error_set(err, KS_E_INTERNAL, 0, "item '%s' has no CPU series", name);
            return false;
        }
        if (!it->name) {
            ks_error_set(err, KS_E_INTERNAL, 0, "item %zu has no name", i);
            return false;
        }
        if (!(it->mem_mib >= 0) || !isfinite(it->mem_mib) || it->pinned_host < -1) {
            ks_error_set(err, KS_E_INTERNAL, 0,
                         "item '%s' has memory %g MiB or pinned host %d out of range", name,
                         it->mem_mib, it->pinned_host);
            return false;
        }
        for (size_t t = 0; t < p->nslots; t++)
            if (!(it->cpu[t] >= 0) || !isfinite(it->cpu[t])) {
                ks_error_set(err, KS_E_INTERNAL, 0,
                             "item '%s' has CPU demand %g MHz in slot %zu: it must be a "
                             "finite number >= 0",
                             name, it->cpu[t], t);
                return false;
            }
    }
    return true;
}

bool ana_solution_valid(const ana_problem *p, const ana_solution *sol, char **why)
{
#define FAIL(...)                                                                                  \
    do {                                                                                           \
        if (why)                                                                                   \
            *why = ks_asprintf(__VA_ARGS__);                                                       \
        return false;                                                                              \
    } while (0)
    if (why)
        *why = NULL;
    const ana_host_model *m = model_new(p);
    size_t T = p->nslots, nh = sol->nhosts;
    if (p->nitems && (!sol->host_of || !sol->why))
        FAIL("the solution has no host_of or why array");
    /* a solution made by hand may leave host_model out: every host is then
     * of its fixed model or of the new hosts' one */
    size_t newm = p->models ? p->new_model : 0;
    KS_AUTOFREE size_t *hmod = ks_calloc(nh + 1, sizeof(size_t));
    for (size_t h = 0; h < nh; h++) {
        hmod[h] = sol->host_model ? sol->host_model[h] : fixed_model(p, newm, h);
        if (hmod[h] >= model_count(p))
            FAIL("host %zu is of model %zu; the problem has %zu", h, hmod[h], model_count(p));
        size_t want = fixed_model(p, newm, h);
        if (h < p->existing_hosts && hmod[h] != want)
            FAIL("existing host %zu is of model %zu in the solution, %zu in the problem", h,
                 hmod[h], want);
    }
    if (nh < p->existing_hosts)
        FAIL("the solution uses %zu hosts, fewer than the %zu existing ones", nh,
             p->existing_hosts);
    for (size_t i = 0; i < p->nitems; i++) {
        const ana_item *it = &p->items[i];
        int h = sol->host_of[i];
        if (h < -1 || h >= (int)nh)
            FAIL("'%s' is on host %d, outside 0..%zu", it->name, h, nh);
        if (h < 0 && !sol->why[i])
            FAIL("'%s' is unplaced and has no reason", it->name);
        if (h >= 0 && sol->why[i])
            FAIL("'%s' is placed but has a reason: %s", it->name, sol->why[i]);
        if (h >= 0 && it->pinned_host >= 0 && h != it->pinned_host)
            FAIL("'%s' is pinned to host %d but is on host %d", it->name, it->pinned_host, h);
        if (h >= 0 && h < (int)nh && it->banned && it->banned[hmod[h]])
            FAIL("'%s' is on host %d, of model %zu, which it may not be on", it->name, h, hmod[h]);
        for (size_t j = i + 1; j < p->nitems; j++) {
            const ana_item *jt = &p->items[j];
            int g = sol->host_of[j];
            if (it->affinity_group >= 0 && it->affinity_group == jt->affinity_group && h != g)
                FAIL("'%s' and '%s' are in affinity group %d but on hosts %d and %d", it->name,
                     jt->name, it->affinity_group, h, g);
            if (h >= 0 && h == g && it->anti_group >= 0 && it->anti_group == jt->anti_group)
                FAIL("'%s' and '%s' are in anti-affinity group %d but both on host %d", it->name,
                     jt->name, it->anti_group, h);
        }
    }
    KS_AUTOFREE double *load = ks_calloc(nh * T + 1, sizeof(double));
    KS_AUTOFREE double *mem = ks_calloc(nh + 1, sizeof(double));
    KS_AUTOFREE double *vc = ks_calloc(nh + 1, sizeof(double));
    for (size_t i = 0; i < p->nitems; i++) {
        int h = sol->host_of[i];
        if (h < 0)
            continue;
        for (size_t t = 0; t < T; t++)
            load[(size_t)h * T + t] += p->items[i].cpu[t] + m->vm_cpu_mhz;
        mem[h] += p->items[i].mem_mib + m->vm_mem_mib;
        vc[h] += p->items[i].vcpus;
    }
    for (size_t h = 0; h < nh; h++) {
        const ana_host_model *hm = model_at(p, hmod[h]);
        double cap = (hm->cpu_limit * hm->cpu_mhz - hm->host_cpu_mhz) * (1 + VALID_REL_EPS) + 1e-6;
        double mcap = (hm->mem_limit * hm->mem_mib - hm->host_mem_mib) * (1 + VALID_REL_EPS) + 1e-6;
        double vcap = hm->vcpu_ratio > 0 ? hm->vcpu_ratio * hm->cores : INFINITY;
        if (mem[h] > mcap)
            FAIL("host %zu holds %.0f MiB of memory, more than its limit %.0f MiB", h, mem[h],
                 mcap);
        if (vc[h] > vcap)
            FAIL("host %zu holds %.0f vCPUs, more than its limit %.0f", h, vc[h], vcap);
        for (size_t t = 0; t < T; t++)
            if (load[h * T + t] > cap)
                FAIL("host %zu needs %.0f MHz in slot %zu, more than its limit %.0f MHz", h,
                     load[h * T + t], t, cap);
    }
    if (p->n_plus_1) {
        size_t bad = 0;
        long h = n1_check(p, sol->host_of, hmod, nh, &bad);
        if (h >= 0)
            FAIL("N+1 fails: when host %ld is down, '%s' finds no room on the others", h,
                 p->items[bad].name);
    }
    return true;
#undef FAIL
}

/* --------------------------------------------------------------- setup */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Index of v in the sorted array, or -1. */
static int find_int(const int *a, size_t n, int v)
{
    const int *r = bsearch(&v, a, n, sizeof *a, cmp_int);
    return r ? (int)(r - a) : -1;
}

static size_t sort_unique(int *a, size_t n)
{
    ks_qsort(a, n, sizeof *a, cmp_int);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (o == 0 || a[o - 1] != a[i])
            a[o++] = a[i];
    return o;
}

static void set_why(ana_solution *sol, size_t i, char *msg)
{
    free(sol->why[i]);
    sol->why[i] = msg;
}

/* Build the units (affinity groups merged), and say why for those that
 * cannot be placed at all. */
static void units_build(packer *pk, ana_solution *sol)
{
    const ana_problem *p = pk->p;
    const ana_host_model *m = model_new(p);
    size_t n = p->nitems, T = pk->T;
    int *unit_of = ks_calloc(n + 1, sizeof(int));
    /* dense ids of anti-affinity groups and affinity groups */
    int *anti_vals = ks_calloc(n + 1, sizeof(int)), *aff_vals = ks_calloc(n + 1, sizeof(int));
    size_t nanti_vals = 0, naff = 0;
    for (size_t i = 0; i < n; i++) {
        if (p->items[i].anti_group >= 0)
            anti_vals[nanti_vals++] = p->items[i].anti_group;
        if (p->items[i].affinity_group >= 0)
            aff_vals[naff++] = p->items[i].affinity_group;
    }
    nanti_vals = sort_unique(anti_vals, nanti_vals);
    naff = sort_unique(aff_vals, naff);
    int *aff_unit = ks_calloc(naff + 1, sizeof(int));
    for (size_t k = 0; k < naff; k++)
        aff_unit[k] = -1;
    pk->units = ks_calloc(n + 1, sizeof(unit));
    pk->nunits = 0;
    for (size_t i = 0; i < n; i++) {
        int g = p->items[i].affinity_group;
        int k = g >= 0 ? find_int(aff_vals, naff, g) : -1;
        if (k >= 0 && aff_unit[k] >= 0) {
            unit_of[i] = aff_unit[k];
        } else {
            unit_of[i] = (int)pk->nunits++;
            if (k >= 0)
                aff_unit[k] = unit_of[i];
        }
    }
    /* members grouped per unit (counting sort keeps item order) */
    pk->members = ks_calloc(n + 1, sizeof(size_t));
    size_t *cnt = ks_calloc(pk->nunits + 1, sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        cnt[unit_of[i] + 1]++;
    for (size_t u = 0; u < pk->nunits; u++)
        cnt[u + 1] += cnt[u];
    for (size_t u = 0; u < pk->nunits; u++) {
        pk->units[u].first = cnt[u];
        pk->units[u].nmembers = 0;
    }
    for (size_t i = 0; i < n; i++) {
        unit *u = &pk->units[unit_of[i]];
        pk->members[u->first + u->nmembers++] = i;
    }
    free(cnt);
    pk->anti_ids = ks_calloc(n + 1, sizeof(int));
    size_t nids = 0;
    double *cpu_all = pk->cpu_all = ks_calloc(pk->nunits * T + 1, sizeof(double));
    for (size_t ui = 0; ui < pk->nunits; ui++) {
        unit *u = &pk->units[ui];
        u->cpu = cpu_all + ui * T;
        u->pin = -1;
        u->placeable = true;
        u->anti_first = nids;
        int conflict_kind = 0;
        for (size_t k = 0; k < u->nmembers; k++) {
            const ana_item *it = &p->items[pk->members[u->first + k]];
            if (!u->name || strcmp(it->name, u->name) < 0)
                u->name = it->name;
            for (size_t t = 0; t < T; t++)
                u->cpu[t] += it->cpu[t] + m->vm_cpu_mhz;
            u->mem += it->mem_mib + m->vm_mem_mib;
            u->vcpus += it->vcpus;
            for (size_t mk = 0; it->banned && mk < model_count(p); mk++)
                if (it->banned[mk]) {
                    if (!u->ban)
                        u->ban = ks_calloc(model_count(p), sizeof(bool));
                    u->ban[mk] = true;
                }
            if (it->pinned_host >= 0) {
                if (u->pin >= 0 && u->pin != it->pinned_host)
                    conflict_kind = 1;
                if (u->pin < 0)
                    u->pin = it->pinned_host;
            }
            if (it->anti_group >= 0) {
                int id = find_int(anti_vals, nanti_vals, it->anti_group);
                for (size_t a = u->anti_first; a < nids; a++)
                    if (pk->anti_ids[a] == id && conflict_kind == 0)
                        conflict_kind = 2;
                pk->anti_ids[nids++] = id;
            }
        }
        u->nanti = nids - u->anti_first;
        double sq = 0, sum = 0;
        for (size_t t = 0; t < T; t++) {
            if (u->cpu[t] > u->peak) {
                u->peak = u->cpu[t];
                u->peak_slot = t;
            }
            sq += u->cpu[t] * u->cpu[t];
            sum += u->cpu[t];
        }
        double c = pk->cap_raw, mc = pk->mcap_raw;
        double vn = isfinite(pk->vcap_raw) ? (double)u->vcpus / pk->vcap_raw : 0;
        double mn = u->mem / mc;
        u->norm2 = sq / (c * c * (double)T) + mn * mn + vn * vn;
        u->size_l2 = sqrt(u->norm2);
        u->size_sum = sum / (c * (double)T) + mn + vn;
        u->size_max = fmax(u->peak / c, fmax(mn, vn));

        /* can it be placed at all? one message per member */
        char a[40], b[40];
        for (size_t k = 0; k < u->nmembers; k++) {
            size_t i = pk->members[u->first + k];
            const ana_item *it = &p->items[i];
            int g = it->affinity_group;
            size_t nm = u->nmembers;
            char *msg = NULL;
            if (conflict_kind == 1)
                msg = ks_asprintf("'%s' cannot be placed: its affinity group %d has VMs pinned "
                                  "to different hosts (%d and others); pin them to one host",
                                  it->name, g, u->pin);
            else if (conflict_kind == 2)
                msg = ks_asprintf("'%s' cannot be placed: its affinity group %d also holds "
                                  "two VMs of one anti-affinity group; remove one of the two "
                                  "groupings",
                                  it->name, g);
            else if (u->peak > pk->cap && nm == 1)
                msg = ks_asprintf("'%s' needs %s MHz in its busiest slot (%zu); one host allows "
                                  "%s MHz",
                                  it->name, fmt_num(a, u->peak), u->peak_slot,
                                  fmt_num(b, pk->cap_raw));
            else if (u->peak > pk->cap)
                msg = ks_asprintf("'%s' cannot be placed: its affinity group %d (%zu VMs) "
                                  "needs %s MHz in its busiest slot (%zu); one host allows %s MHz",
                                  it->name, g, nm, fmt_num(a, u->peak), u->peak_slot,
                                  fmt_num(b, pk->cap_raw));
            else if (u->mem > pk->mcap && nm == 1)
                msg = ks_asprintf("'%s' needs %s MiB of memory; one host allows %s MiB", it->name,
                                  fmt_num(a, u->mem), fmt_num(b, pk->mcap_raw));
            else if (u->mem > pk->mcap)
                msg = ks_asprintf("'%s' cannot be placed: its affinity group %d (%zu VMs) "
                                  "needs %s MiB of memory; one host allows %s MiB",
                                  it->name, g, nm, fmt_num(a, u->mem), fmt_num(b, pk->mcap_raw));
            else if ((double)u->vcpus > pk->vcap && nm == 1)
                msg = ks_asprintf("'%s' has %lu vCPUs; one host allows %s (%g per core)", it->name,
                                  u->vcpus, fmt_num(b, pk->vcap_raw), m->vcpu_ratio);
            else if ((double)u->vcpus > pk->vcap)
                msg =
                    ks_asprintf("'%s' cannot be placed: its affinity group %d (%zu VMs) has "
                                "%lu vCPUs; one host allows %s (%g per core)",
                                it->name, g, nm, u->vcpus, fmt_num(b, pk->vcap_raw), m->vcpu_ratio);
            if (!msg && u->ban && u->ban[pk->newm])
                msg = ks_asprintf("'%s' may not be on a host of the model this scenario opens "
                                  "hosts with (too busy for it, or sized for faster cores)",
                                  it->name);
            if (msg) {
                u->placeable = false;
                set_why(sol, i, msg);
            }
        }
    }
    free(unit_of);
    free(anti_vals);
    free(aff_vals);
    free(aff_unit);
}

/* ---------------------------------------------------------------- solve */

/* The solution does not record its item count, so ana_solution_free could
 * not walk why[]: move the pointer array and every sentence into one block. */
static void why_pack(ana_solution *sol, size_t n)
{
    size_t bytes = (n + 1) * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        if (sol->why[i])
            bytes += strlen(sol->why[i]) + 1;
    char **block = ks_calloc(1, bytes);
    char *text = (char *)(block + n + 1);
    for (size_t i = 0; i < n; i++) {
        if (!sol->why[i])
            continue;
        size_t len = strlen(sol->why[i]) + 1;
        memcpy(text, sol->why[i], len);
        block[i] = text;
        text += len;
        free(sol->why[i]);
    }
    free(sol->why);
    sol->why = block;
}

enum { V_FFD_MAX, V_FFD_L2, V_FFD_SUM, V_BCS_DOT, V_BCS_L2, V_FFD_NOISY, NVARIANTS };

#define MIXED " + each new host turned into the lowest-priced model its VMs fit"
#define ALGO(v)                                                                                    \
    {                                                                                              \
        v, v " + N+1 standby host", v " + local search", v " + local search + N+1 standby host",   \
            v MIXED, v " + N+1 standby host" MIXED, v " + local search" MIXED,                     \
            v " + local search + N+1 standby host" MIXED                                           \
    }
static const char *const algo_names[NVARIANTS][8] = {
    ALGO("first-fit decreasing (largest dimension)"),
    ALGO("first-fit decreasing (L2 norm)"),
    ALGO("first-fit decreasing (sum of averages)"),
    ALGO("bin-centric dot product"),
    ALGO("bin-centric L2 norm of remaining capacity"),
    ALGO("first-fit decreasing (L2 norm, seeded random perturbation)"),
};
#undef ALGO
#undef MIXED

static void run_variant(packer *pk, int v, size_t *order, size_t *stamp)
{
    switch (v) {
    case V_FFD_MAX:
        run_ffd(pk, SIZE_MAX_DIM, order);
        break;
    case V_FFD_L2:
        run_ffd(pk, SIZE_L2, order);
        break;
    case V_FFD_SUM:
        run_ffd(pk, SIZE_SUM, order);
        break;
    case V_BCS_DOT:
        run_bcs(pk, false, order, stamp);
        break;
    case V_BCS_L2:
        run_bcs(pk, true, order, stamp);
        break;
    default:
        run_ffd(pk, SIZE_NOISY, order);
        break;
    }
}

static double rng_unit(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* -------------------------------------------------------- host elimination
 *
 * Fewer hosts than first fit and its local search find, when the lower
 * bound says there may be: take the emptiest host away, put its units where
 * they overload least, then repair. The repair moves one unit (or swaps two)
 * at a time between hosts, each time the change that lowers the total
 * overload most: CPU above the limit summed over the slots, and memory
 * above its limit, as shares of the limits. When no move and no swap with
 * a smaller unit of a few sampled hosts lowers it, the balanced placement's
 * repair (deep) goes through every host, from a seeded one, and takes the
 * best swap of any two units with the first host that has one. vCPUs, bans, pins and
 * anti-affinity are never broken. When the overload reaches 0 the host is
 * gone for good and the next one is tried; when the budget runs out, the
 * last feasible placement is put back. Deterministic (seeded).
 *
 * With packer.ordered (the balanced placement), the sums run over each
 * host's slots from the most loaded down and stop at the first slot that
 * the change cannot bring over the limit: the same overload (summed in
 * another order) from a few dozen slots instead of every one. */

/* A slot's weight in the balanced placement: exp(BALANCE_ALPHA x its load
 * over the limit, as a share of the limit), so a slot 1 % of the limit
 * below another weighs e^-1.5 of it; exponents are clamped (no overflow). */
#define BALANCE_ALPHA 150.0
#define BALANCE_EXP_MAX 300.0

static double balance_exp(double x)
{
    return exp(x < BALANCE_EXP_MAX ? x : BALANCE_EXP_MAX);
}

/* The weight of a load against its limit. */
static double balance_w(double load, double cap)
{
    return balance_exp(BALANCE_ALPHA * (load - cap) / cap);
}

/* Host b's slot weights (and memory's) after a change. */
static void balance_weights(const packer *pk, size_t b, double *restrict E, double *restrict Em)
{
    const host *h = &pk->hosts.ptr[b];
    const model_cap *c = &pk->mc[h->model];
    for (size_t t = 0; t < pk->T; t++)
        E[b * pk->T + t] = balance_w(h->load[t], c->cap_raw);
    Em[b] = balance_w(h->mem, c->mcap_raw);
}

#define ELIM_MEM_WEIGHT 4.0

/* Memory above its limit as the overload counts it (a share of the
 * limit, weighted): the one formula of pen_of, pen_added and the pair
 * deals' sums. */
static double mem_over(double mem, double mcap)
{
    double m = mem - mcap;
    return m > 0 ? m / mcap * ELIM_MEM_WEIGHT : 0;
}
/* candidate hosts sampled per swap search */
#define ELIM_SWAP_HOSTS 24

typedef struct elim {
    packer *pk;
    double *pen;  /* per host: its overload */
    double total; /* sum of pen */
    uint64_t seed;
    unsigned long long ops, budget; /* slot operations */
    /* stuck on moves and sampled swaps: swaps of any two units with every
     * host in turn, until one lowers the overload */
    bool deep;
    /* the balanced placement's slot and memory weights (balance_weights),
     * kept current by every change; NULL elsewhere */
    double *E, *Em;
} elim;

/* Overload of host h as it is. */
static double pen_of(elim *e, const host *h)
{
    const model_cap *c = &e->pk->mc[h->model];
    const double *restrict L = h->load;
    double cap = c->cap_raw, x = 0;
    size_t T = e->pk->T;
    if (e->pk->ordered) {
        /* the slots above the limit come first */
        size_t k = 0;
        for (; k < T; k++) {
            double v = L[h->ord[k]] - cap;
            if (v <= 0)
                break;
            x += v;
        }
        e->ops += k + 1;
    } else {
        e->ops += T;
        for (size_t t = 0; t < T; t++) {
            double v = L[t] - cap;
            x += v > 0 ? v : 0;
        }
    }
    /* the packer's own relative slack (placement_ok has the last word) */
    double p = x / cap + mem_over(h->mem, c->mcap_raw);
    return p > 1e-12 ? p : 0;
}

/* How much host h's overload changes with unit add placed on it and unit
 * sub taken off (either may be NULL). With add alone every slot only adds,
 * so it stops early once that reaches stop (and returns a lower bound). */
static double pen_added(elim *e, const host *h, const unit *add, const unit *sub, double stop)
{
    const packer *pk = e->pk;
    const model_cap *c = &pk->mc[h->model];
    const double *restrict L = h->load;
    const double *restrict a = add ? add->cpu : NULL, *restrict s = sub ? sub->cpu : NULL;
    double cap = c->cap_raw, x = 0;
    double mem = mem_over(h->mem + (add ? add->mem : 0) - (sub ? sub->mem : 0), c->mcap_raw) -
                 mem_over(h->mem, c->mcap_raw);
    size_t T = pk->T;
    if (pk->ordered) {
        /* a slot at or below cap - (add's peak) stays at or below the
         * limit whatever comes and goes: the sum stops there */
        const uint32_t *restrict o = h->ord;
        double thr = cap - (add ? add->peak : 0);
        size_t k = 0;
        for (; k < T; k++) {
            size_t t = o[k];
            if (L[t] <= thr)
                break;
            double old = L[t] - cap, v = old + (a ? a[t] : 0) - (s ? s[t] : 0);
            x += (v > 0 ? v : 0) - (old > 0 ? old : 0);
            if (a && !s && (k & 63) == 63 && x / cap + mem >= stop) {
                e->ops += k + 1;
                return x / cap + mem;
            }
        }
        e->ops += k + 1;
        return x / cap + mem;
    }
    if (a && !s) {
        /* the hot case (every candidate host of a move): no branch inside */
        for (size_t t0 = 0; t0 < T; t0 += 64) {
            size_t t1 = t0 + 64 < T ? t0 + 64 : T;
            for (size_t t = t0; t < t1; t++) {
                double old = L[t] - cap, v = old + a[t];
                x += (v > 0 ? v : 0) - (old > 0 ? old : 0);
            }
            e->ops += t1 - t0;
            if (x / cap + mem >= stop)
                return x / cap + mem;
        }
        return x / cap + mem;
    }
    for (size_t t = 0; t < T; t++) {
        double old = L[t] - cap, v = old + (a ? a[t] : 0) - (s ? s[t] : 0);
        x += (v > 0 ? v : 0) - (old > 0 ? old : 0);
    }
    e->ops += T;
    return x / cap + mem;
}

/* May unit u go on host b (all but CPU and memory)? */
static bool elim_allowed(const packer *pk, size_t b, size_t u, const unit *out)
{
    const host *h = &pk->hosts.ptr[b];
    const unit *un = &pk->units[u];
    const model_cap *c = &pk->mc[h->model];
    if (h->dead || (un->ban && un->ban[h->model]) ||
        (double)(h->vcpus + un->vcpus - (out ? out->vcpus : 0)) > c->vcap)
        return false;
    for (size_t a = 0; a < un->nanti; a++) {
        int id = pk->anti_ids[un->anti_first + a];
        size_t there = 0, leaving = 0;
        for (size_t i = 0; i < h->anti.len; i++)
            there += h->anti.ptr[i] == id;
        /* the unit leaving b may be the one that has it */
        for (size_t k = 0; out && k < out->nanti; k++)
            leaving += pk->anti_ids[out->anti_first + k] == id;
        if (there > leaving)
            return false;
    }
    return true;
}

/* Every host within its limits as the packer's own checks count them (a
 * placement summed afresh, not the repair's running sums). */
static bool placement_ok(const packer *pk)
{
    for (size_t h = 0; h < pk->hosts.len; h++) {
        const host *hh = &pk->hosts.ptr[h];
        const model_cap *c = &pk->mc[hh->model];
        if (hh->mem > c->mcap || (double)hh->vcpus > c->vcap)
            return false;
        for (size_t t = 0; t < pk->T; t++)
            if (hh->load[t] > c->cap)
                return false;
    }
    return true;
}

/* Host h's overload (and weights) after a change on it. */
static void elim_update(elim *e, size_t h)
{
    e->total -= e->pen[h];
    e->pen[h] = pen_of(e, &e->pk->hosts.ptr[h]);
    e->total += e->pen[h];
    if (e->E)
        balance_weights(e->pk, h, e->E, e->Em);
}

static void elim_move(elim *e, size_t u, size_t b)
{
    packer *pk = e->pk;
    size_t a = (size_t)pk->uhost[u];
    unplace(pk, u);
    place(pk, b, u);
    elim_update(e, a);
    elim_update(e, b);
}

/* A change found by elim_improve: unit u to host b, and unit v (or
 * SIZE_MAX) from b to u's host; d: what it does to the total overload. */
typedef struct elim_change {
    double d;
    size_t u, b, v;
} elim_change;

/* The best swap of a unit of host a with one of host b into *best (when
 * better); smaller_only: only with a unit of b smaller than a's. */
static void swap_search(elim *e, size_t a, size_t b, bool smaller_only, elim_change *best)
{
    packer *pk = e->pk;
    const host *ha = &pk->hosts.ptr[a], *hb = &pk->hosts.ptr[b];
    if (b == a || hb->dead)
        return;
    for (size_t i = 0; i < ha->members.len; i++) {
        size_t u = ha->members.ptr[i];
        const unit *un = &pk->units[u];
        if (un->pin >= 0)
            continue;
        for (size_t j = 0; j < hb->members.len; j++) {
            size_t v = hb->members.ptr[j];
            const unit *vn = &pk->units[v];
            if (vn->pin >= 0 || (smaller_only && vn->size_sum >= un->size_sum) ||
                !elim_allowed(pk, b, u, vn) || !elim_allowed(pk, a, v, un))
                continue;
            double d = pen_added(e, ha, vn, un, INFINITY);
            /* b within its limits: its side only adds */
            if (!smaller_only && e->pen[b] <= 0 && d >= best->d + 1e-9)
                continue;
            d += pen_added(e, hb, un, vn, INFINITY);
            if (d < best->d) {
                best->d = d;
                best->u = u;
                best->b = b;
                best->v = v;
            }
        }
    }
}

/* --------------------------------- pair re-partition (small problems) */

/* When no move or swap out of an overloaded host lowers the overload, the
 * movable units of that host and of a partner are dealt out again between
 * the two: each, largest first (then in shuffled orders), to the side
 * where it raises a smooth maximum of the two hosts' slots least, then
 * moves and swaps between the two while they lower the overload. The best
 * of a few deals is kept when it beats the pair as it was. A deal looks
 * at the hot slots only, where the pair's load together is above the
 * smaller of the two limits: no split puts a host over its limit in any
 * other slot. */
#define PAIR_DEALS 8
#define PAIR_PARTNERS 4

typedef struct pair_side {
    double *L; /* load over the hot slots */
    double cap, mcap, vcap, mem;
    unsigned long vcpus;
} pair_side;

typedef struct pair {
    const packer *pk;
    size_t m, S;           /* units dealt, hot slots */
    size_t *pool;          /* their unit ids */
    double *u;             /* m x S: their loads over the hot slots */
    double umax;           /* the largest of them */
    double *F[2];          /* m x S per side: exp(alpha x load / cap) - 1 */
    double *Gi[2];         /* m x S per side: exp(-alpha x load / cap / 2) */
    double *A[2], *G[2];   /* S per side: the deal's weights (see pair_deal) */
    double *A0[2], *G0[2]; /* the same at the start of a deal */
    size_t *live, nlive;   /* the slots a change can bring over a limit */
    unsigned char *at;     /* side of each, in the deal */
    unsigned char *best;   /* side of each, in the best deal */
    pair_side s[2];
    unsigned long long ops;
} pair;

/* Overload of one side, as pen_of counts it. */
static double pair_pen(pair *q, const pair_side *s)
{
    double x = 0;
    for (size_t k = 0; k < q->S; k++) {
        double v = s->L[k] - s->cap;
        x += v > 0 ? v : 0;
    }
    q->ops += q->S;
    return x / s->cap + mem_over(s->mem, s->mcap);
}

/* How side s's overload changes when unit i (or SIZE_MAX) comes onto it
 * and unit j (or SIZE_MAX) leaves it: summed over the live slots only. */
static double pair_delta(pair *q, const pair_side *s, size_t i, size_t j)
{
    const double *restrict ui = i != SIZE_MAX ? q->u + i * q->S : NULL;
    const double *restrict uj = j != SIZE_MAX ? q->u + j * q->S : NULL;
    const double *restrict L = s->L;
    const size_t *restrict live = q->live;
    double x = 0, cap = s->cap;
    for (size_t n = 0; n < q->nlive; n++) {
        size_t k = live[n];
        double old = L[k] - cap, v = old + (ui ? ui[k] : 0) - (uj ? uj[k] : 0);
        x += (v > 0 ? v : 0) - (old > 0 ? old : 0);
    }
    q->ops += q->nlive;
    double m1 =
        s->mem + (ui ? q->pk->units[q->pool[i]].mem : 0) - (uj ? q->pk->units[q->pool[j]].mem : 0);
    return x / cap + mem_over(m1, s->mcap) - mem_over(s->mem, s->mcap);
}

/* The slots where one unit more can bring a side over its limit (no
 * change between the two sides brings any other over: it adds at most
 * the largest unit to a side). */
static void pair_live(pair *q)
{
    q->nlive = 0;
    for (size_t k = 0; k < q->S; k++)
        if (q->s[0].L[k] + q->umax > q->s[0].cap || q->s[1].L[k] + q->umax > q->s[1].cap)
            q->live[q->nlive++] = k;
    q->ops += q->S;
}

static bool pair_vcpus_ok(const pair *q, const pair_side *s, size_t i, size_t j)
{
    const unit *ui = &q->pk->units[q->pool[i]];
    unsigned long out = j != SIZE_MAX ? q->pk->units[q->pool[j]].vcpus : 0;
    return (double)(s->vcpus + ui->vcpus - out) <= s->vcap;
}

static void pair_put(pair *q, size_t i, int side, int sign)
{
    pair_side *s = &q->s[side];
    const double *restrict ui = q->u + i * q->S;
    const unit *un = &q->pk->units[q->pool[i]];
    for (size_t k = 0; k < q->S; k++)
        s->L[k] += sign * ui[k];
    s->mem += sign * un->mem;
    s->vcpus = sign > 0 ? s->vcpus + un->vcpus : s->vcpus - un->vcpus;
    q->ops += q->S;
}

/* Moves and swaps between the two sides, the best first, while they lower
 * the overload; the overload left. A side within its limits only gains
 * overload from a change, so a move out of it is not looked at, and a
 * swap's other side is summed only when it could still be the best. */
static double pair_descend(pair *q, double pen)
{
    while (pen > 1e-12) {
        pair_live(q);
        bool over[2] = {pair_pen(q, &q->s[0]) > 1e-12, pair_pen(q, &q->s[1]) > 1e-12};
        double best = -1e-12;
        size_t bi = SIZE_MAX, bj = SIZE_MAX;
        for (size_t i = 0; i < q->m; i++) {
            int a = q->at[i], b = !a;
            /* i alone to the other side */
            if (over[a] && pair_vcpus_ok(q, &q->s[b], i, SIZE_MAX)) {
                double d = pair_delta(q, &q->s[a], SIZE_MAX, i);
                if (d < best)
                    d += pair_delta(q, &q->s[b], i, SIZE_MAX);
                if (d < best) {
                    best = d;
                    bi = i;
                    bj = SIZE_MAX;
                }
            }
            /* i for each unit j of the other side (each pair once): the
             * overloaded side first */
            int first = over[a] ? a : b;
            for (size_t j = i + 1; j < q->m; j++) {
                if (q->at[j] == a || !pair_vcpus_ok(q, &q->s[b], i, j) ||
                    !pair_vcpus_ok(q, &q->s[a], j, i))
                    continue;
                size_t in = first == a ? j : i, out = first == a ? i : j;
                double d = pair_delta(q, &q->s[first], in, out);
                if (!over[!first] && d >= best)
                    continue;
                d += pair_delta(q, &q->s[!first], out, in);
                if (d < best) {
                    best = d;
                    bi = i;
                    bj = j;
                }
            }
        }
        if (bi == SIZE_MAX)
            break;
        int a = q->at[bi];
        pair_put(q, bi, a, -1);
        pair_put(q, bi, !a, 1);
        q->at[bi] = (unsigned char)!a;
        if (bj != SIZE_MAX) {
            pair_put(q, bj, !a, -1);
            pair_put(q, bj, a, 1);
            q->at[bj] = (unsigned char)a;
        }
        pen += best;
    }
    return pen > 1e-12 ? pen : 0;
}

/* One deal in the order ord from the sides' base loads, then the descent;
 * the overload left, or INFINITY when a unit fits neither side's vCPUs.
 * Each unit goes where the smooth maximum sum_k A(k) G(k) grows least,
 * A(k) = exp(alpha (load(k) - cap) / cap) and G(k) = exp(alpha R(k) / 2 /
 * cap) with R what is still to be dealt (spread evenly over the two, as in
 * balance_choose): it grows by sum_k A(k) G(k) F(k), F = exp(alpha x the
 * unit's load / cap) - 1, and the factors are kept as products. */
static double pair_deal(pair *q, const size_t *ord, const pair_side *base)
{
    size_t S = q->S;
    double Rm = 0;
    for (size_t i = 0; i < q->m; i++)
        Rm += q->pk->units[q->pool[i]].mem;
    for (int d = 0; d < 2; d++) {
        memcpy(q->s[d].L, base[d].L, S * sizeof(double));
        q->s[d].mem = base[d].mem;
        q->s[d].vcpus = base[d].vcpus;
        memcpy(q->A[d], q->A0[d], S * sizeof(double));
        memcpy(q->G[d], q->G0[d], S * sizeof(double));
    }
    for (size_t n = 0; n < q->m; n++) {
        size_t i = ord[n];
        const unit *un = &q->pk->units[q->pool[i]];
        Rm = Rm > un->mem ? Rm - un->mem : 0;
        double cost[2];
        for (int d = 0; d < 2; d++) {
            const pair_side *s = &q->s[d];
            double *restrict G = q->G[d];
            const double *restrict A = q->A[d], *restrict F = q->F[d] + i * S,
                                   *restrict Gi = q->Gi[d] + i * S;
            double x = 0;
            for (size_t k = 0; k < S; k++) {
                G[k] *= Gi[k];
                x += A[k] * G[k] * F[k];
            }
            q->ops += S;
            if (!pair_vcpus_ok(q, s, i, SIZE_MAX)) {
                cost[d] = INFINITY;
                continue;
            }
            x += balance_exp(BALANCE_ALPHA * (s->mem + Rm / 2 - s->mcap) / s->mcap) *
                 (balance_exp(BALANCE_ALPHA * un->mem / s->mcap) - 1) * (double)(S ? S : 1);
            cost[d] = x;
        }
        if (cost[0] == INFINITY && cost[1] == INFINITY)
            return INFINITY;
        int d = cost[1] < cost[0];
        double *restrict A = q->A[d];
        const double *restrict F = q->F[d] + i * S;
        for (size_t k = 0; k < S; k++)
            A[k] *= F[k] + 1;
        pair_put(q, i, d, 1);
        q->at[i] = (unsigned char)d;
    }
    return pair_descend(q, pair_pen(q, &q->s[0]) + pair_pen(q, &q->s[1]));
}

/* Deal the movable units of hosts a and b out again (see above); true when
 * that lowered the pair's overload (and pk holds it). */
static bool pair_repack(elim *e, size_t a, size_t b)
{
    packer *pk = e->pk;
    const host *ha = &pk->hosts.ptr[a], *hb = &pk->hosts.ptr[b];
    if (a == b || hb->dead || ha->dead)
        return false;
    size_t T = pk->T, nm = ha->members.len + hb->members.len;
    const model_cap *ca = &pk->mc[ha->model], *cb = &pk->mc[hb->model];
    pair q = {.pk = pk};
    q.pool = ks_calloc(nm + 1, sizeof(size_t));
    for (int d = 0; d < 2; d++) {
        const host *h = d ? hb : ha;
        for (size_t i = 0; i < h->members.len; i++) {
            size_t u = h->members.ptr[i];
            const unit *un = &pk->units[u];
            if (un->pin < 0 && un->nanti == 0 &&
                (!un->ban || (!un->ban[ha->model] && !un->ban[hb->model])))
                q.pool[q.m++] = u;
        }
    }
    if (q.m < 2) {
        free(q.pool);
        return false;
    }
    /* the hot slots; none may hold more than both limits together (nor
     * the memory), or no deal can fit */
    double mincap = ca->cap_raw < cb->cap_raw ? ca->cap_raw : cb->cap_raw;
    bool fits = ha->mem + hb->mem <= ca->mcap_raw + cb->mcap_raw;
    size_t *hot = ks_calloc(T + 1, sizeof(size_t));
    for (size_t t = 0; t < T && fits; t++) {
        double v = ha->load[t] + hb->load[t];
        if (v > mincap)
            hot[q.S++] = t;
        fits = v <= ca->cap_raw + cb->cap_raw;
    }
    e->ops += T;
    if (!fits) {
        free(hot);
        free(q.pool);
        return false;
    }
    bool better = false;
    size_t S = q.S;
    q.u = ks_calloc(q.m * S + 1, sizeof(double));
    for (size_t i = 0; i < q.m; i++)
        for (size_t k = 0; k < S; k++) {
            double v = pk->units[q.pool[i]].cpu[hot[k]];
            q.u[i * S + k] = v;
            q.umax = v > q.umax ? v : q.umax;
        }
    q.live = ks_calloc(S + 1, sizeof(size_t));
    pair_side base[2];
    /* per side: 4 S for the loads, A, G, A0, G0 and 2 m S for F, Gi */
    double *Lbuf = ks_calloc(4 * S + 1, sizeof(double));
    double *Wbuf = ks_calloc(2 * (4 * S + 2 * q.m * S) + 1, sizeof(double));
    for (int d = 0; d < 2; d++) {
        const host *h = d ? hb : ha;
        const model_cap *c = d ? cb : ca;
        base[d] = (pair_side){.L = Lbuf + (size_t)d * S,
                              .cap = c->cap_raw,
                              .mcap = c->mcap_raw,
                              .vcap = c->vcap,
                              .mem = h->mem,
                              .vcpus = h->vcpus};
        q.s[d] = base[d];
        q.s[d].L = Lbuf + (size_t)(2 + d) * S;
        for (size_t k = 0; k < S; k++)
            base[d].L[k] = h->load[hot[k]];
    }
    /* the bases: what stays on each (pinned and constrained units) */
    for (size_t i = 0; i < q.m; i++) {
        const unit *un = &pk->units[q.pool[i]];
        int d = (size_t)pk->uhost[q.pool[i]] == b;
        for (size_t k = 0; k < S; k++)
            base[d].L[k] -= q.u[i * S + k];
        base[d].mem -= un->mem;
        base[d].vcpus -= un->vcpus;
    }
    /* the deal's factors (pair_deal), once for all its deals */
    for (int d = 0; d < 2; d++) {
        double *w = Wbuf + (size_t)d * (4 * S + 2 * q.m * S), cap = base[d].cap;
        q.A[d] = w;
        q.G[d] = w + S;
        q.A0[d] = w + 2 * S;
        q.G0[d] = w + 3 * S;
        q.F[d] = w + 4 * S;
        q.Gi[d] = w + 4 * S + q.m * S;
        for (size_t k = 0; k < S; k++) {
            double r = 0;
            for (size_t i = 0; i < q.m; i++)
                r += q.u[i * S + k];
            q.A0[d][k] = balance_exp(BALANCE_ALPHA * (base[d].L[k] - cap) / cap);
            q.G0[d][k] = balance_exp(BALANCE_ALPHA * r / 2 / cap);
        }
        for (size_t n = 0; n < q.m * S; n++) {
            q.F[d][n] = balance_exp(BALANCE_ALPHA * q.u[n] / cap) - 1;
            q.Gi[d][n] = exp(-BALANCE_ALPHA * q.u[n] / 2 / cap);
        }
    }
    q.ops += 4 * q.m * S;
    q.at = ks_calloc(q.m + 1, 1);
    q.best = ks_calloc(q.m + 1, 1);
    size_t *ord = ks_calloc(q.m + 1, sizeof(size_t));
    double *key = ks_calloc(q.m + 1, sizeof(double));
    double best = e->pen[a] + e->pen[b] - 1e-9;
    for (int r = 0; r < PAIR_DEALS && best > 1e-12; r++) {
        /* largest first, then shuffled around that order */
        for (size_t i = 0; i < q.m; i++) {
            ord[i] = i;
            key[i] = pk->units[q.pool[i]].size_l2 * (r ? 0.7 + 0.6 * rng_unit(&e->seed) : 1);
        }
        for (size_t i = 1; i < q.m; i++)
            for (size_t j = i; j > 0 && key[ord[j - 1]] < key[ord[j]]; j--) {
                size_t t = ord[j];
                ord[j] = ord[j - 1];
                ord[j - 1] = t;
            }
        double pen = pair_deal(&q, ord, base);
        if (pen < best) {
            best = pen;
            better = true;
            memcpy(q.best, q.at, q.m);
        }
    }
    e->ops += q.ops;
    if (better)
        for (size_t i = 0; i < q.m; i++) {
            size_t to = q.best[i] ? b : a;
            if ((size_t)pk->uhost[q.pool[i]] != to)
                elim_move(e, q.pool[i], to);
        }
    free(hot);
    free(q.u);
    free(q.live);
    free(Lbuf);
    free(Wbuf);
    free(q.at);
    free(q.best);
    free(ord);
    free(key);
    free(q.pool);
    return better;
}

/* Keep id among the (at most max) ids with the largest keys, largest
 * first; *n: how many are kept. */
static void top_keep(size_t *ids, double *keys, size_t *n, size_t max, size_t id, double key)
{
    size_t k = *n < max ? (*n)++ : max;
    for (; k > 0 && keys[k - 1] < key; k--)
        if (k < max) {
            keys[k] = keys[k - 1];
            ids[k] = ids[k - 1];
        }
    if (k < max) {
        keys[k] = key;
        ids[k] = id;
    }
}

/* Pair re-partitions of overloaded host a with the hosts that have the most
 * room in a's slots over the limit; true when one lowered the overload. */
static bool pair_improve(elim *e, size_t a)
{
    packer *pk = e->pk;
    const host *ha = &pk->hosts.ptr[a];
    double cap = pk->mc[ha->model].cap_raw;
    size_t nh = pk->hosts.len, T = pk->T, no = 0;
    size_t *over = ks_calloc(T + 1, sizeof(size_t));
    for (size_t t = 0; t < T; t++)
        if (ha->load[t] > cap)
            over[no++] = t;
    size_t part[PAIR_PARTNERS];
    double room[PAIR_PARTNERS];
    size_t np = 0;
    for (size_t b = 0; b < nh; b++) {
        const host *hb = &pk->hosts.ptr[b];
        if (b == a || hb->dead)
            continue;
        double x = 0, cb = pk->mc[hb->model].cap_raw;
        for (size_t k = 0; k < no; k++)
            x += cb - hb->load[over[k]];
        /* (memory alone over: the hosts with the most memory free) */
        x += (pk->mc[hb->model].mcap_raw - hb->mem) / pk->mc[hb->model].mcap_raw;
        top_keep(part, room, &np, PAIR_PARTNERS, b, x);
    }
    e->ops += nh * (no + 1);
    free(over);
    for (size_t k = 0; k < np && e->ops < e->budget; k++)
        if (pair_repack(e, a, part[k]))
            return true;
    return false;
}

/* The best single move or swap out of overloaded host a; false when none
 * lowers the total. */
static bool elim_improve(elim *e, size_t a)
{
    packer *pk = e->pk;
    size_t nh = pk->hosts.len;
    const host *ha = &pk->hosts.ptr[a];
    elim_change c = {.d = -1e-12, .u = SIZE_MAX, .v = SIZE_MAX};
    for (size_t i = 0; i < ha->members.len; i++) {
        size_t u = ha->members.ptr[i];
        const unit *un = &pk->units[u];
        if (un->pin >= 0)
            continue;
        double pa = pen_added(e, ha, NULL, un, INFINITY);
        if (pa >= -1e-12)
            continue; /* taking it away helps nothing */
        for (size_t b = 0; b < nh; b++) {
            if (b == a || !elim_allowed(pk, b, u, NULL))
                continue;
            double d = pa + pen_added(e, &pk->hosts.ptr[b], un, NULL, c.d - pa);
            if (d < c.d)
                c = (elim_change){.d = d, .u = u, .b = b, .v = SIZE_MAX};
        }
    }
    if (c.u == SIZE_MAX) {
        /* no move: a swap with a smaller unit of a sampled host; stuck
         * there too, when deep: any two units, host after host */
        for (size_t k = 0; k < ELIM_SWAP_HOSTS && nh > 1; k++)
            swap_search(e, a, (size_t)(rng_unit(&e->seed) * (double)nh) % nh, true, &c);
        if (c.u == SIZE_MAX && !e->deep && pair_improve(e, a))
            return true;
        size_t b0 = e->deep ? (size_t)(rng_unit(&e->seed) * (double)nh) % nh : 0;
        for (size_t k = 0; e->deep && c.u == SIZE_MAX && k < nh && e->ops < e->budget; k++)
            swap_search(e, a, (b0 + k) % nh, false, &c);
    }
    if (c.u == SIZE_MAX)
        return false;
    elim_move(e, c.u, c.b);
    if (c.v != SIZE_MAX)
        elim_move(e, c.v, a);
    return true;
}

/* Lower the overload to 0 by moves and swaps; over: room for a host list.
 * true when it reached 0. */
static bool elim_repair(elim *e, size_t *over)
{
    packer *pk = e->pk;
    while (e->total > 1e-12 && e->ops < e->budget) {
        size_t no = 0;
        for (size_t h = 0; h < pk->hosts.len; h++)
            if (e->pen[h] > 0)
                over[no++] = h;
        if (!no)
            break;
        /* the overloaded hosts in a seeded order; stuck on all: give up */
        bool any = false;
        size_t start = (size_t)(rng_unit(&e->seed) * (double)no) % no;
        for (size_t k = 0; k < no && !any && e->ops < e->budget; k++)
            any = elim_improve(e, over[(start + k) % no]);
        if (!any)
            break;
    }
    return e->total <= 1e-12;
}

/* Empty host a into the others and repair; true when no host is left over
 * its limits (a is then dead), false with the overload left when the
 * budget ran out. */
static bool elim_host(elim *e, size_t a, size_t *buf)
{
    packer *pk = e->pk;
    host *ha = &pk->hosts.ptr[a];
    size_t n = units_on(pk, a, buf);
    for (size_t i = 0; i < n; i++)
        if (pk->units[buf[i]].pin >= 0)
            return false;
    for (size_t i = 0; i < n; i++)
        unplace(pk, buf[i]);
    ha->dead = true;
    e->total -= e->pen[a];
    e->pen[a] = 0;
    /* each unit, largest first, where it adds the least overload */
    for (size_t i = 0; i < n; i++) {
        size_t u = buf[i], best_b = SIZE_MAX;
        double best = INFINITY;
        for (size_t b = 0; b < pk->hosts.len; b++) {
            if (!elim_allowed(pk, b, u, NULL))
                continue;
            double d = pen_added(e, &pk->hosts.ptr[b], &pk->units[u], NULL, best);
            if (d < best) {
                best = d;
                best_b = b;
            }
        }
        if (best_b == SIZE_MAX)
            return false; /* nowhere at all (vCPUs, anti-affinity) */
        place(pk, best_b, u);
        elim_update(e, best_b);
    }
    return elim_repair(e, buf);
}

/* The host where unit u raises the potential least (SIZE_MAX: none may
 * take it); W, Wm: room for the unit's factors per model. */
static size_t balance_choose(packer *pk, size_t u, const double *E, const double *Em, double *W,
                             double *Wm, const double *R, double Rm)
{
    size_t nh = pk->hosts.len, T = pk->T, best_b = SIZE_MAX;
    const unit *un = &pk->units[u];
    /* what the unit multiplies each weight by, less one, per model; by
     * what is still to come, spread evenly: exp(alpha x R(t) / hosts) */
    for (size_t k = 0; k < pk->nmc; k++) {
        double cap = pk->mc[k].cap_raw, mcap = pk->mc[k].mcap_raw;
        for (size_t t = 0; t < T; t++)
            W[k * T + t] = (balance_exp(BALANCE_ALPHA * un->cpu[t] / cap) - 1) *
                           balance_exp(BALANCE_ALPHA * R[t] / (double)nh / cap);
        Wm[k] = (balance_exp(BALANCE_ALPHA * un->mem / mcap) - 1) * (double)T *
                balance_exp(BALANCE_ALPHA * Rm / (double)nh / mcap);
    }
    double best = INFINITY;
    for (size_t b = 0; b < nh; b++) {
        const host *h = &pk->hosts.ptr[b];
        if (!elim_allowed(pk, b, u, NULL))
            continue;
        const double *restrict eb = E + b * T, *restrict w = W + h->model * T;
        /* four sums, so that the additions do not wait on each other */
        double d4[4] = {0, 0, 0, 0};
        size_t t = 0;
        for (; t + 4 <= T; t += 4)
            for (size_t j = 0; j < 4; j++)
                d4[j] += eb[t + j] * w[t + j];
        for (; t < T; t++)
            d4[0] += eb[t] * w[t];
        double d = (d4[0] + d4[1]) + (d4[2] + d4[3]) + Em[b] * Wm[h->model];
        /* (an overflow to infinity still takes the first such host) */
        if (d < best || best_b == SIZE_MAX) {
            best = d;
            best_b = b;
        }
    }
    return best_b;
}

/* What placing one unit among nh hosts costs in slot operations: a
 * product and a sum per slot and host, four sums at a time (about a
 * quarter of an overload check each). */
static unsigned long long balance_unit_ops(const packer *pk, size_t nh)
{
    return (unsigned long long)nh * pk->T / 4;
}

/* The placement (per unit: host or -1) into saved, the dead flags into
 * dead, for elim_restore. */
static void elim_save(const packer *pk, int *saved, bool *dead)
{
    memcpy(saved, pk->uhost, pk->nunits * sizeof(int));
    for (size_t h = 0; h < pk->hosts.len; h++)
        dead[h] = pk->hosts.ptr[h].dead;
}

/* Put back a placement saved in saved (per unit: host or -1); dead flags as
 * in dead. */
static void elim_restore(packer *pk, const int *saved, const bool *dead)
{
    for (size_t u = 0; u < pk->nunits; u++)
        if (pk->uhost[u] >= 0)
            unplace(pk, u);
    for (size_t h = 0; h < pk->hosts.len; h++) {
        pk->hosts.ptr[h].dead = dead[h];
        memset(pk->hosts.ptr[h].load, 0, pk->T * sizeof(double));
        pk->hosts.ptr[h].mem = 0;
    }
    for (size_t u = 0; u < pk->nunits; u++)
        if (saved[u] >= 0)
            place(pk, (size_t)saved[u], u);
}

/* Swap balancing (large problems). The balanced placement is greedy: a
 * host's first VMs were chosen before its last ones were known. Before the
 * repair, moves and swaps between two hosts lower the placement's own
 * potential (the sum over hosts and slots of exp(BALANCE_ALPHA x the load
 * over the limit), memory as T slots): the hottest hosts first, each with
 * the partners that have the most room in its busiest slots. A pair's
 * changes are scored over the slots where either host weighs (within
 * exp(-SWAP_SPAN) of the pair's heaviest slot), as products of per-unit
 * factors (two per slot and swap), and the best is summed again over
 * every slot before it is made. So the hosts' noise cancels across the
 * fleet, not only where the greedy placement happened to put it. */
#define SWAP_SPAN 6.0
#define SWAP_PARTNERS 32
#define SWAP_HOT 32 /* a host's busiest slots, for its partners' room */
#define SWAP_ROUNDS 40
#define SWAP_TRIES 4 /* best-scored changes summed over every slot */

typedef struct swap_ws {
    size_t *S, *A, *B;
    unsigned *mark;
    unsigned stamp;
    double *pa, *qb, *pb, *qa;     /* per unit x slot of S */
    double *spa, *sqb, *spb, *sqa; /* their sums (with the other host's weights) */
    double *mpa, *mqb, *mpb, *mqa; /* per unit: the same for memory */
    size_t cap_units;
} swap_ws;

static void swap_ws_units(swap_ws *w, size_t n, size_t T)
{
    if (n <= w->cap_units)
        return;
    w->cap_units = n;
    w->A = ks_reallocarray(w->A, n, sizeof(size_t));
    w->B = ks_reallocarray(w->B, n, sizeof(size_t));
    double **m[] = {&w->pa, &w->qb, &w->pb, &w->qa};
    for (size_t k = 0; k < 4; k++)
        *m[k] = ks_reallocarray(*m[k], n * T, sizeof(double));
    double **s[] = {&w->spa, &w->sqb, &w->spb, &w->sqa, &w->mpa, &w->mqb, &w->mpb, &w->mqa};
    for (size_t k = 0; k < 8; k++)
        *s[k] = ks_reallocarray(*s[k], n, sizeof(double));
}

/* What moving u (may be SIZE_MAX) from a to b and v (may be SIZE_MAX) from
 * b to a does to the potential, over every slot. */
static double swap_exact(const packer *pk, size_t a, size_t b, size_t u, size_t v, const double *E,
                         const double *Em)
{
    size_t T = pk->T;
    const host *h[2] = {&pk->hosts.ptr[a], &pk->hosts.ptr[b]};
    const double *in[2] = {v != SIZE_MAX ? pk->units[v].cpu : NULL,
                           u != SIZE_MAX ? pk->units[u].cpu : NULL};
    const double *out[2] = {in[1], in[0]};
    double min[2] = {v != SIZE_MAX ? pk->units[v].mem : 0, u != SIZE_MAX ? pk->units[u].mem : 0};
    double d = 0;
    for (size_t s = 0; s < 2; s++) {
        const model_cap *c = &pk->mc[h[s]->model];
        size_t hi = s ? b : a;
        const double *restrict L = h[s]->load, *restrict Eh = E + hi * T;
        for (size_t t = 0; t < T; t++) {
            double l = L[t] + (in[s] ? in[s][t] : 0) - (out[s] ? out[s][t] : 0);
            d += balance_w(l, c->cap_raw) - Eh[t];
        }
        double m = h[s]->mem + min[s] - min[1 - s];
        d += (balance_w(m, c->mcap_raw) - Em[hi]) * (double)T;
    }
    return d;
}

/* The units' factors on hosts of model k (see packer.ux); NULL above
 * UNIT_FACTORS_MAX units x slots (256 MiB a model; 10,000 VMs x 720 hourly
 * slots are 58 MB). */
#ifndef UNIT_FACTORS_MAX
#define UNIT_FACTORS_MAX (32u * 1024 * 1024)
#endif
static const double *unit_factors(packer *pk, size_t k)
{
    if (pk->nunits * pk->T > UNIT_FACTORS_MAX)
        return NULL; /* computed where they are needed instead */
    if (!pk->ux)
        pk->ux = ks_calloc(pk->nmc + 1, sizeof(double *));
    if (!pk->ux[k]) {
        size_t T = pk->T;
        double *x = pk->ux[k] = ks_calloc(pk->nunits * T + 1, sizeof(double));
        double a = BALANCE_ALPHA / pk->mc[k].cap_raw;
        for (size_t u = 0; u < pk->nunits; u++)
            for (size_t t = 0; t < T; t++)
                x[u * T + t] = balance_exp(a * pk->units[u].cpu[t]);
    }
    return pk->ux[k];
}

typedef struct swap_cand {
    double d;
    size_t u, v;
} swap_cand;

static void swap_keep(swap_cand *best, double d, size_t u, size_t v)
{
    size_t k = SWAP_TRIES;
    if (d >= best[k - 1].d)
        return;
    for (; k > 0 && best[k - 1].d > d; k--)
        if (k < SWAP_TRIES)
            best[k] = best[k - 1];
    best[k] = (swap_cand){.d = d, .u = u, .v = v};
}

/* The factors of the n units ids on a host of model hm with weights Eh
 * (the other host: model om, weights Eo), over the slots w->S[0..ns): p,
 * the host's weights without the unit; q, the unit's factor on the other
 * host; sp, the sum of p; sq, the sum of q weighted by Eo; mp, mq: the
 * unit's memory factors off its host and on the other. */
static void swap_factors(packer *pk, const swap_ws *w, size_t ns, const size_t *ids, size_t n,
                         size_t hm, size_t om, const double *Eh, const double *Eo, double *p,
                         double *q, double *sp, double *sq, double *mp, double *mq)
{
    size_t T = pk->T;
    const double *xh = unit_factors(pk, hm), *xo = unit_factors(pk, om);
    double kh = BALANCE_ALPHA / pk->mc[hm].cap_raw, ko = BALANCE_ALPHA / pk->mc[om].cap_raw;
    double mkh = BALANCE_ALPHA / pk->mc[hm].mcap_raw, mko = BALANCE_ALPHA / pk->mc[om].mcap_raw;
    for (size_t i = 0; i < n; i++) {
        mp[i] = balance_exp(-mkh * pk->units[ids[i]].mem);
        mq[i] = balance_exp(mko * pk->units[ids[i]].mem);
        size_t id = ids[i];
        const double *cpu = pk->units[id].cpu;
        double *pi = p + i * ns, *qi = q + i * ns, a = 0, b = 0;
        for (size_t s = 0; s < ns; s++) {
            size_t t = w->S[s];
            pi[s] = Eh[t] / (xh ? xh[id * T + t] : balance_exp(kh * cpu[t]));
            qi[s] = xo ? xo[id * T + t] : balance_exp(ko * cpu[t]);
            a += pi[s];
            b += Eo[t] * qi[s];
        }
        sp[i] = a;
        sq[i] = b;
    }
}

/* The best move or swap between hosts a and b, made when it lowers the
 * potential; true then. */
static bool swap_pair(elim *e, size_t a, size_t b, swap_ws *w)
{
    packer *pk = e->pk;
    const double *E = e->E, *Em = e->Em;
    size_t T = pk->T;
    host *ha = &pk->hosts.ptr[a], *hb = &pk->hosts.ptr[b];
    const double *restrict Ea = E + a * T, *restrict Eb = E + b * T;
    double M = Ea[ha->ord[0]] > Eb[hb->ord[0]] ? Ea[ha->ord[0]] : Eb[hb->ord[0]];
    double thr = M * exp(-SWAP_SPAN);
    if (++w->stamp == 0) {
        memset(w->mark, 0, T * sizeof(unsigned));
        w->stamp = 1;
    }
    size_t ns = 0;
    for (size_t k = 0; k < T && Ea[ha->ord[k]] >= thr; k++)
        w->mark[ha->ord[k]] = w->stamp, w->S[ns++] = ha->ord[k];
    for (size_t k = 0; k < T && Eb[hb->ord[k]] >= thr; k++)
        if (w->mark[hb->ord[k]] != w->stamp)
            w->S[ns++] = hb->ord[k];
    size_t na = 0, nb = 0;
    swap_ws_units(w, ha->members.len > hb->members.len ? ha->members.len : hb->members.len, T);
    for (size_t i = 0; i < ha->members.len; i++)
        if (pk->units[ha->members.ptr[i]].pin < 0)
            w->A[na++] = ha->members.ptr[i];
    for (size_t j = 0; j < hb->members.len; j++)
        if (pk->units[hb->members.ptr[j]].pin < 0)
            w->B[nb++] = hb->members.ptr[j];
    double base = 0;
    for (size_t s = 0; s < ns; s++)
        base += Ea[w->S[s]] + Eb[w->S[s]];
    swap_factors(pk, w, ns, w->A, na, ha->model, hb->model, Ea, Eb, w->pa, w->qb, w->spa, w->sqb,
                 w->mpa, w->mqb);
    swap_factors(pk, w, ns, w->B, nb, hb->model, ha->model, Eb, Ea, w->pb, w->qa, w->spb, w->sqa,
                 w->mpb, w->mqa);
    e->ops += (na + nb) * ns * 2;
    double Ta = (double)T * Em[a], Tb = (double)T * Em[b];
    swap_cand best[SWAP_TRIES];
    for (size_t k = 0; k < SWAP_TRIES; k++)
        best[k] = (swap_cand){.d = -1e-9 * (base + Ta + Tb), .u = SIZE_MAX, .v = SIZE_MAX};
    /* moves (what a unit leaves behind and what it brings, both hosts) */
    for (size_t i = 0; i < na; i++)
        if (elim_allowed(pk, b, w->A[i], NULL))
            swap_keep(best,
                      w->spa[i] + w->sqb[i] - base + Ta * (w->mpa[i] - 1) + Tb * (w->mqb[i] - 1),
                      w->A[i], SIZE_MAX);
    for (size_t j = 0; j < nb; j++)
        if (elim_allowed(pk, a, w->B[j], NULL))
            swap_keep(best,
                      w->spb[j] + w->sqa[j] - base + Tb * (w->mpb[j] - 1) + Ta * (w->mqa[j] - 1),
                      SIZE_MAX, w->B[j]);
    for (size_t i = 0; i < na; i++) {
        const unit *un = &pk->units[w->A[i]];
        const double *restrict pa = w->pa + i * ns, *restrict qb = w->qb + i * ns;
        for (size_t j = 0; j < nb; j++) {
            const unit *vn = &pk->units[w->B[j]];
            const double *restrict pb = w->pb + j * ns, *restrict qa = w->qa + j * ns;
            /* four sums in registers, so that the additions do not wait
             * on each other */
            double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
            size_t s = 0;
            for (; s + 4 <= ns; s += 4) {
                d0 += pa[s] * qa[s] + pb[s] * qb[s];
                d1 += pa[s + 1] * qa[s + 1] + pb[s + 1] * qb[s + 1];
                d2 += pa[s + 2] * qa[s + 2] + pb[s + 2] * qb[s + 2];
                d3 += pa[s + 3] * qa[s + 3] + pb[s + 3] * qb[s + 3];
            }
            for (; s < ns; s++)
                d0 += pa[s] * qa[s] + pb[s] * qb[s];
            double d = (d0 + d1) + (d2 + d3) - base + Ta * (w->mpa[i] * w->mqa[j] - 1) +
                       Tb * (w->mpb[j] * w->mqb[i] - 1);
            if (d < best[SWAP_TRIES - 1].d && elim_allowed(pk, b, w->A[i], vn) &&
                elim_allowed(pk, a, w->B[j], un))
                swap_keep(best, d, w->A[i], w->B[j]);
        }
    }
    e->ops += na * nb * ns / 2;
    for (size_t k = 0; k < SWAP_TRIES && (best[k].u != SIZE_MAX || best[k].v != SIZE_MAX); k++) {
        double d = swap_exact(pk, a, b, best[k].u, best[k].v, E, Em);
        e->ops += 2 * T;
        if (d >= -1e-9 * (base + Ta + Tb))
            continue;
        if (best[k].u != SIZE_MAX)
            elim_move(e, best[k].u, b);
        if (best[k].v != SIZE_MAX)
            elim_move(e, best[k].v, a);
        return true;
    }
    return false;
}

/* The potential: every host's slot weights, and memory's as T slots. */
static double potential(const packer *pk, const double *E, const double *Em)
{
    double x = 0;
    for (size_t h = 0; h < pk->hosts.len; h++) {
        for (size_t t = 0; t < pk->T; t++)
            x += E[h * pk->T + t];
        x += (double)pk->T * Em[h];
    }
    return x;
}

static _Thread_local const double *swap_sort_key;
static int cmp_swap_key(const void *x, const void *y)
{
    double a = swap_sort_key[*(const size_t *)x], b = swap_sort_key[*(const size_t *)y];
    return a > b   ? -1
           : a < b ? 1
                   : (*(const size_t *)x > *(const size_t *)y) -
                         (*(const size_t *)x < *(const size_t *)y);
}

/* Rounds of pair changes over every host, hottest first, until a round
 * lowers the potential by less than SWAP_GAIN of it or ops reach stop. */
#define SWAP_GAIN 1e-3
#define DESCEND_CYCLES 4
/* the swaps' budget: this many times the placement's */
#define SWAP_MULT 2ull
static void balance_swaps(elim *e, unsigned long long stop)
{
    packer *pk = e->pk;
    const double *E = e->E, *Em = e->Em;
    size_t nh = pk->hosts.len, T = pk->T;
    swap_ws w = {.S = ks_calloc(T + 1, sizeof(size_t)), .mark = ks_calloc(T + 1, sizeof(unsigned))};
    size_t *order = ks_calloc(nh + 1, sizeof(size_t));
    double *top = ks_calloc(nh + 1, sizeof(double));
    double before = potential(pk, E, Em);
    for (unsigned r = 0; r < SWAP_ROUNDS && e->ops < stop; r++) {
        for (size_t h = 0; h < nh; h++) {
            const host *hh = &pk->hosts.ptr[h];
            order[h] = h;
            top[h] = hh->dead ? -INFINITY : hh->load[hh->ord[0]] / pk->mc[hh->model].cap_raw;
        }
        swap_sort_key = top;
        ks_qsort(order, nh, sizeof(size_t), cmp_swap_key);
        for (size_t k = 0; k < nh && e->ops < stop && e->total > 1e-12; k++) {
            size_t a = order[k];
            const host *ha = &pk->hosts.ptr[a];
            if (ha->dead || !ha->nunits)
                continue;
            /* partners: the most room in a's busiest slots, by their weight */
            size_t nhot = T < SWAP_HOT ? T : SWAP_HOT;
            size_t part[SWAP_PARTNERS], np = 0;
            double pr[SWAP_PARTNERS];
            for (size_t b = 0; b < nh; b++) {
                const host *hb = &pk->hosts.ptr[b];
                if (b == a || hb->dead)
                    continue;
                double x = 0, cb = pk->mc[hb->model].cap_raw;
                for (size_t j = 0; j < nhot; j++) {
                    size_t t = ha->ord[j];
                    x += E[a * T + t] * (cb - hb->load[t]) / cb;
                }
                top_keep(part, pr, &np, SWAP_PARTNERS, b, x);
            }
            e->ops += nh * nhot;
            for (size_t q = 0; q < np && e->ops < stop; q++)
                for (unsigned rep = 0; rep < 4 && swap_pair(e, a, part[q], &w); rep++)
                    ;
        }
        double after = potential(pk, E, Em);
        e->ops += nh * T;
        if (before - after < SWAP_GAIN * before || e->total <= 1e-12)
            break;
        before = after;
    }
    free(top);
    free(order);
    void *bufs[] = {w.S,   w.mark, w.A,   w.B,   w.pa,  w.qb,  w.pb,  w.qa,
                    w.spa, w.sqb,  w.spb, w.sqa, w.mpa, w.mqb, w.mpb, w.mqa};
    for (size_t k = 0; k < sizeof bufs / sizeof *bufs; k++)
        free(bufs[k]);
}

/* A placement on exactly H new hosts (besides the fixed ones) built to
 * balance, then repaired. Each unit, largest first, goes where it raises
 * the host's potential least: the sum over its slots (and its memory) of
 * exp(BALANCE_ALPHA x the load over the limit), a smooth maximum that
 * weighs every slot near the limit, not the busiest one alone; so the
 * hosts' busy hours spread and their hour-to-hour noise evens out. Pair
 * swaps (balance_swaps) may then spend twice what the placement took and
 * the repair as much as it (a placement that far from fitting is given
 * up, the budget kept for the next try). When it fits, hosts are emptied
 * one at a time down to bottom, each followed by swaps and repair (again
 * while a round lowers the overload by a tenth, at most DESCEND_CYCLES
 * times), until one fails (its placement is put back) or what is left of
 * budget would not pay for a step. true when H fits: found then holds the
 * placement on the fewest hosts reached, *got their number; false
 * otherwise, *left the overload left. pk holds a placement either way.
 * order, buf: room for every unit. */
static bool balance_pack(packer *pk, size_t H, const int *placed, unsigned long long budget,
                         size_t bottom, size_t *order, size_t *buf, unsigned long long *ops,
                         int *found, size_t *got, double *left)
{
    pk->ordered = true;
    hosts_reset(pk);
    place_pinned(pk);
    while (pk->hosts.len < pk->nfixed + H)
        host_new(pk);
    size_t nh = pk->hosts.len, T = pk->T;
    double *E = ks_calloc(nh * T + 1, sizeof(double)), *Em = ks_calloc(nh + 1, sizeof(double));
    elim e = {.pk = pk,
              .seed = 0x62616c616e6365ULL ^ H,
              .budget = budget,
              .deep = true,
              .E = E,
              .Em = Em};
    e.pen = ks_calloc(nh + 1, sizeof(double));
    for (size_t h = 0; h < nh; h++)
        elim_update(&e, h);
    double *W = ks_calloc(pk->nmc * T + 1, sizeof(double)),
           *Wm = ks_calloc(pk->nmc + 1, sizeof(double));
    size_t n = free_units_sorted(pk, SIZE_L2, order);
    /* what is still to be placed, per slot, and its memory */
    double *R = ks_calloc(T + 1, sizeof(double)), Rm = 0;
    for (size_t i = 0; i < n; i++)
        if (placed[order[i]] >= 0) {
            const unit *un = &pk->units[order[i]];
            for (size_t t = 0; t < T; t++)
                R[t] += un->cpu[t];
            Rm += un->mem;
        }
    bool ok = true;
    for (size_t i = 0; i < n && ok && e.ops < e.budget; i++) {
        size_t u = order[i];
        if (placed[u] < 0)
            continue; /* fits no host: left out as before */
        const unit *un = &pk->units[u];
        for (size_t t = 0; t < T; t++)
            R[t] = R[t] > un->cpu[t] ? R[t] - un->cpu[t] : 0;
        Rm = Rm > un->mem ? Rm - un->mem : 0;
        size_t best_b = balance_choose(pk, u, E, Em, W, Wm, R, Rm);
        e.ops += balance_unit_ops(pk, nh);
        if (best_b == SIZE_MAX) {
            ok = false; /* nowhere at all (vCPUs, anti-affinity) */
            break;
        }
        place(pk, best_b, u);
        elim_update(&e, best_b);
    }
    ok = ok && e.ops < e.budget;
    /* the placement's cost: the swaps may spend twice that, the repair
     * as much again */
    unsigned long long P = e.ops, total = budget;
    if (ok && e.budget - e.ops > e.ops)
        e.budget = 2 * e.ops;
    if (ok && e.total > 1e-12) {
        unsigned long long o0 = e.ops;
        balance_swaps(&e, e.ops + SWAP_MULT * P);
        e.budget += e.ops - o0;
    }
    ok = ok && elim_repair(&e, buf);
    *left = e.total;
    *got = 0;
    if (ok) {
        *got = H;
        memcpy(found, pk->uhost, pk->nunits * sizeof(int));
    }
    /* then one host fewer at a time, from the last placement that fits */
    int *saved = ks_calloc(pk->nunits + 1, sizeof(int));
    bool *dead = ks_calloc(nh + 1, sizeof(bool));
    memset(R, 0, T * sizeof(double));
    while (ok && *got > bottom && e.ops + (SWAP_MULT + 1) * P < total) {
        size_t x = SIZE_MAX;
        double fx = INFINITY;
        for (size_t h = pk->nfixed; h < nh; h++) {
            const host *hh = &pk->hosts.ptr[h];
            bool pinned = false;
            double big = 0;
            for (size_t i = 0; i < hh->members.len && !pinned; i++) {
                const unit *un = &pk->units[hh->members.ptr[i]];
                pinned = un->pin >= 0;
                big = un->peak > big ? un->peak : big;
            }
            if (hh->dead || !hh->nunits || pinned)
                continue;
            /* its largest peak first (every other host is nearly full in
             * the busy hours), then its fill */
            double f = big / pk->mc[hh->model].cap_raw + 0.1 * host_fill(pk, hh);
            if (f < fx) {
                fx = f;
                x = h;
            }
        }
        if (x == SIZE_MAX)
            break;
        elim_save(pk, saved, dead);
        size_t nu = units_on(pk, x, buf);
        for (size_t i = 0; i < nu; i++)
            unplace(pk, buf[i]);
        pk->hosts.ptr[x].dead = true;
        elim_update(&e, x);
        for (size_t i = 0; i < nu && ok; i++) {
            size_t b = balance_choose(pk, buf[i], E, Em, W, Wm, R, 0);
            e.ops += balance_unit_ops(pk, nh);
            if (b == SIZE_MAX) {
                ok = false;
                break;
            }
            place(pk, b, buf[i]);
            elim_update(&e, b);
        }
        /* swaps then the repair; again while that lowers the overload by
         * a tenth at least and the budget lasts */
        bool fit = false;
        for (unsigned cyc = 0; ok && cyc < DESCEND_CYCLES; cyc++) {
            double before = e.total;
            if (e.total > 1e-12)
                balance_swaps(&e, e.ops + SWAP_MULT * P);
            e.budget = e.ops + P;
            fit = elim_repair(&e, buf) && placement_ok(pk);
            if (fit || e.total > 0.9 * before || e.ops + (SWAP_MULT + 1) * P > total)
                break;
        }
        ok = ok && fit;
        if (!ok) {
            elim_restore(pk, saved, dead);
            break;
        }
        --*got;
        memcpy(found, pk->uhost, pk->nunits * sizeof(int));
    }
    free(saved);
    free(dead);
    free(E);
    free(Em);
    free(W);
    free(Wm);
    free(R);
    free(e.pen);
    *ops = e.ops;
    pk->ordered = false;
    return *got > 0;
}

/* Units placed as in placed (per unit: host or -1), nothing else. */
static void rebuild(packer *pk, const int *placed)
{
    hosts_reset(pk);
    for (size_t u = 0; u < pk->nunits; u++)
        if (placed[u] >= 0) {
            while (pk->hosts.len <= (size_t)placed[u])
                host_new(pk);
            place(pk, (size_t)placed[u], u);
        }
}

/* Fewer new hosts than placement best uses, by balance_pack: two thirds of
 * the way down to the lower bound (lower, counted with the fixed hosts);
 * after a failure up by the overload it left, at most half way back to the
 * fewest found; the first that fits goes down from there one host at a
 * time (in balance_pack) and ends the search. A try is not started
 * without the budget its placement needs. true with pk holding the fewest
 * found; false (pk then undefined) when none was found. order: room for
 * every unit. */
static bool balance_search(packer *pk, double lower, const int *best, size_t *order)
{
    size_t cur = 0;
    KS_AUTOFREE bool *seen = ks_calloc(pk->nunits + pk->nfixed + 1, sizeof(bool));
    for (size_t u = 0; u < pk->nunits; u++)
        if (best[u] >= (int)pk->nfixed && !seen[best[u]]) {
            seen[best[u]] = true;
            cur++;
        }
    double lb = lower - (double)pk->nfixed;
    /* lo: fewest still worth a try; hi: fewest found (feasible) */
    size_t lo = lb > 1 ? (size_t)ceil(lb - 1e-9) : 1, hi = cur, bottom = lo;
    if (lo >= hi)
        return false;
    KS_AUTOFREE size_t *buf = ks_calloc(pk->nunits + pk->nfixed + cur + 1, sizeof(size_t));
    KS_AUTOFREE int *found = NULL, *tmp = NULL;
    unsigned long long spent = 0;
    size_t h = hi - ((hi - lo + 1) * 2 / 3 ? (hi - lo + 1) * 2 / 3 : 1);
    while (lo <= h && h < hi && spent < BALANCE_BUDGET) {
        /* not started without room for its placement at least (a fleet
         * too large for the budget keeps local search, as before) */
        if (BALANCE_BUDGET - spent < pk->nunits * balance_unit_ops(pk, pk->nfixed + h))
            break;
        unsigned long long ops = 0;
        size_t got = 0;
        if (!tmp)
            tmp = ks_calloc(pk->nunits + 1, sizeof(int));
        double left = 0;
        bool ok = balance_pack(pk, h, best, BALANCE_BUDGET - spent, bottom, order, buf, &ops, tmp,
                               &got, &left);
        spent += ops;
        if (ok) {
            found = ks_reallocarray(found, pk->nunits + 1, sizeof(int));
            memcpy(found, tmp, pk->nunits * sizeof(int));
            break; /* it went down one host at a time while it could */
        } else {
            /* up by the overload left (about a host per share of a
             * limit), at most half way back */
            lo = h + 1;
            size_t up = h + 1 + (left < (double)(hi - h) ? (size_t)left : hi - h);
            h = lo + (hi - lo) / 2;
            h = up < h ? up : h;
        }
    }
    if (!found)
        return false;
    rebuild(pk, found);
    return placement_ok(pk);
}

/* Eliminate hosts while the budget lasts and the lower bound allows; true
 * when at least one was. */
static bool eliminate(packer *pk, double lower, unsigned long long budget)
{
    size_t nh = pk->hosts.len;
    size_t live = 0;
    for (size_t h = pk->nfixed; h < nh; h++)
        live += !pk->hosts.ptr[h].dead && pk->hosts.ptr[h].nunits;
    elim e = {.pk = pk, .seed = 0x656c696d696e6174ULL, .budget = budget};
    e.pen = ks_calloc(nh + 1, sizeof(double));
    KS_AUTOFREE int *saved = ks_calloc(pk->nunits + 1, sizeof(int));
    KS_AUTOFREE bool *dead = ks_calloc(nh + 1, sizeof(bool));
    KS_AUTOFREE bool *tried = ks_calloc(nh + 1, sizeof(bool));
    KS_AUTOFREE size_t *buf = ks_calloc(pk->nunits + nh + 1, sizeof(size_t));
    bool any = false;
    while (e.ops < e.budget && (double)(live + pk->nfixed) > lower + 1e-9) {
        /* the emptiest new host not tried since the last success */
        size_t a = SIZE_MAX;
        double fa = INFINITY;
        for (size_t h = pk->nfixed; h < nh; h++) {
            const host *hh = &pk->hosts.ptr[h];
            if (hh->dead || !hh->nunits || tried[h])
                continue;
            double f = host_fill(pk, hh);
            if (f < fa) {
                fa = f;
                a = h;
            }
        }
        if (a == SIZE_MAX)
            break;
        elim_save(pk, saved, dead);
        memset(e.pen, 0, (nh + 1) * sizeof(double));
        e.total = 0;
        if (elim_host(&e, a, buf)) {
            any = true;
            live--;
            memset(tried, 0, (nh + 1) * sizeof(bool));
        } else {
            elim_restore(pk, saved, dead);
            tried[a] = true;
        }
    }
    free(e.pen);
    if (any) {
        /* summed afresh: the repair's running sums may have drifted */
        memcpy(saved, pk->uhost, pk->nunits * sizeof(int));
        rebuild(pk, saved);
        any = placement_ok(pk);
    }
    return any;
}

/* The model a standby host gets: the largest at 100% (CPU, then memory). */
static size_t standby_model(const ana_problem *p)
{
    size_t best = p->models ? p->new_model : 0;
    for (size_t k = 0; k < model_count(p); k++) {
        const ana_host_model *a = model_at(p, k), *b = model_at(p, best);
        double ca = a->cpu_mhz - a->host_cpu_mhz, cb = b->cpu_mhz - b->host_cpu_mhz;
        double ma = a->mem_mib - a->host_mem_mib, mb = b->mem_mib - b->host_mem_mib;
        if (ca > cb || (ca == cb && ma > mb))
            best = k;
    }
    return best;
}

/* Add standby hosts (empty) while the loss of one host cannot be
 * absorbed: of the new hosts' model (of the largest in a mixed fleet), then
 * of the largest. One suffices when no host is larger than the standby, as
 * the lost host's VMs then fit on the standby within 100%. host_model must
 * have room for nh + STANDBY_MAX entries. */
#define STANDBY_MAX 3
static size_t add_standby(const ana_problem *p, const int *host_of, size_t *host_model, size_t nh,
                          bool *standby)
{
    size_t bad, added = 0;
    *standby = false;
    while (p->n_plus_1 && added < STANDBY_MAX && n1_check(p, host_of, host_model, nh, &bad) >= 0) {
        /* one model per scenario unless mixed: the new hosts' model first;
         * the largest only when existing hosts of a larger model need it.
         * Mixed: the lowest-priced model that is enough, if one is. */
        size_t pick = added ? standby_model(p) : (p->models ? p->new_model : 0);
        if (p->mixed) {
            bool found = false;
            for (size_t k = 0; k < model_count(p); k++) {
                if (found && model_at(p, k)->price >= model_at(p, pick)->price)
                    continue;
                host_model[nh] = k;
                if (n1_check(p, host_of, host_model, nh + 1, &bad) < 0) {
                    pick = k;
                    found = true;
                }
            }
            if (!found)
                pick = standby_model(p);
        }
        host_model[nh++] = pick;
        added++;
        *standby = true;
    }
    return nh;
}

/* The packer's state as item -> host, fixed hosts keeping their index and
 * the others renumbered in order, with each host's model; hosts used, with
 * the N+1 standby host when the loss of one host cannot be absorbed
 * (*standby). host_model: room for hosts + STANDBY_MAX entries. */
static size_t evaluate(const packer *pk, int *host_of, size_t *host_model, bool *standby)
{
    int *map = ks_calloc(pk->hosts.len + 1, sizeof(int));
    size_t nh = 0;
    for (size_t h = 0; h < pk->hosts.len; h++) {
        bool keep = h < pk->nfixed || (!pk->hosts.ptr[h].dead && pk->hosts.ptr[h].nunits);
        if (keep)
            host_model[nh] = pk->hosts.ptr[h].model;
        map[h] = keep ? (int)nh++ : -1;
    }
    for (; nh < pk->nfixed; nh++)
        host_model[nh] = fixed_model(pk->p, pk->newm, nh);
    for (size_t i = 0; i < pk->p->nitems; i++)
        host_of[i] = -1;
    for (size_t u = 0; u < pk->nunits; u++) {
        const unit *un = &pk->units[u];
        int h = pk->uhost[u] >= 0 ? map[pk->uhost[u]] : -1;
        for (size_t k = 0; k < un->nmembers; k++)
            host_of[pk->members[un->first + k]] = h;
    }
    free(map);
    return add_standby(pk->p, host_of, host_model, nh, standby);
}

/* The best placement so far: its hosts (nh, SIZE_MAX: none yet), the
 * solution written from it, and per unit its host (best). */
typedef struct kept {
    ana_solution *sol;
    int *tmp, *best;
    size_t *tmp_model;
    size_t nh, n;
    bool standby;
} kept;

/* Keep pk's placement when it uses fewer hosts (or as many, or_equal). */
static bool keep_better(const packer *pk, kept *k, bool or_equal)
{
    bool sb;
    size_t used = evaluate(pk, k->tmp, k->tmp_model, &sb);
    if (!(used < k->nh || (or_equal && used == k->nh)))
        return false;
    k->nh = used;
    k->standby = sb;
    memcpy(k->best, pk->uhost, pk->nunits * sizeof(int));
    memcpy(k->sol->host_of, k->tmp, k->n * sizeof(int));
    memcpy(k->sol->host_model, k->tmp_model, used * sizeof(size_t));
    return true;
}

/* Price of hosts 0..nh-1. */
static double fleet_price(const packer *pk, const size_t *host_model, size_t nh)
{
    double sum = 0;
    for (size_t h = 0; h < nh; h++)
        sum += pk->mc[host_model[h]].price;
    return sum;
}

/* Mixed fleets: turn each new host (not fixed, holding VMs) into the
 * lowest-priced model its VMs fit under that model's limits in every slot.
 * With N+1 the loss of a host must still be absorbed: smaller hosts absorb
 * less, so the cheapest of three fleets is kept: none changed, all
 * changed, and the longest prefix of the changes (in host order) that needs
 * no more standby hosts than none changed (bisection), each with its
 * standby hosts. host_of and host_model come from evaluate(); returns the
 * hosts used (standby included). */
static size_t mixed_downsize(const packer *pk, const int *host_of, size_t *host_model, size_t nh,
                             bool *standby)
{
    const ana_problem *p = pk->p;
    const ana_host_model *mn = model_new(p);
    size_t T = pk->T, nmod = model_count(p);
    size_t base = nh;
    /* standby hosts hold no VM (an empty new host is nothing else): drop
     * them, they are recomputed */
    while (base > pk->nfixed) {
        bool empty = true;
        for (size_t i = 0; i < p->nitems && empty; i++)
            empty = host_of[i] != (int)base - 1;
        if (!empty)
            break;
        base--;
    }
    KS_AUTOFREE double *load = ks_calloc(T + 1, sizeof(double));
    KS_AUTOFREE size_t *orig = ks_calloc(base + STANDBY_MAX + 1, sizeof(size_t));
    KS_AUTOFREE size_t *trial = ks_calloc(base + STANDBY_MAX + 1, sizeof(size_t));
    KS_AUTOFREE size_t *chg_host = ks_calloc(base + 1, sizeof(size_t));
    KS_AUTOFREE size_t *chg_model = ks_calloc(base + 1, sizeof(size_t));
    size_t nchg = 0;
    memcpy(orig, host_model, base * sizeof(size_t));
    for (size_t h = pk->nfixed; h < base; h++) {
        memset(load, 0, T * sizeof(double));
        double mem = 0, vc = 0;
        size_t nvm = 0;
        KS_AUTOFREE bool *ban = ks_calloc(nmod, sizeof(bool));
        for (size_t i = 0; i < p->nitems; i++) {
            if (host_of[i] != (int)h)
                continue;
            const ana_item *it = &p->items[i];
            for (size_t t = 0; t < T; t++)
                load[t] += it->cpu[t] + mn->vm_cpu_mhz;
            mem += it->mem_mib + mn->vm_mem_mib;
            vc += it->vcpus;
            nvm++;
            for (size_t k = 0; it->banned && k < nmod; k++)
                ban[k] |= it->banned[k];
        }
        if (nvm == 0)
            continue;
        size_t best = orig[h];
        for (size_t k = 0; k < nmod; k++) {
            const model_cap *c = &pk->mc[k];
            if (c->price >= pk->mc[best].price || mem > c->mcap || vc > c->vcap || ban[k])
                continue;
            double peak = 0;
            for (size_t t = 0; t < T; t++)
                peak = load[t] > peak ? load[t] : peak;
            if (peak <= c->cap)
                best = k;
        }
        if (best != orig[h]) {
            chg_host[nchg] = h;
            chg_model[nchg++] = best;
        }
    }
    if (nchg == 0) {
        memcpy(host_model, orig, base * sizeof(size_t));
        return add_standby(p, host_of, host_model, base, standby);
    }
    size_t best_k = 0;
    bool sb0;
    memcpy(trial, orig, base * sizeof(size_t));
    size_t n0 = add_standby(p, host_of, trial, base, &sb0);
    double best_price = fleet_price(pk, trial, n0);
    size_t cand[2] = {nchg, 0};
    if (p->n_plus_1) {
        /* the longest prefix needing no more standby hosts than none */
        size_t lo = 0, hi = nchg;
        while (lo < hi) {
            size_t mid = lo + (hi - lo + 1) / 2;
            memcpy(trial, orig, base * sizeof(size_t));
            for (size_t j = 0; j < mid; j++)
                trial[chg_host[j]] = chg_model[j];
            bool sb;
            if (add_standby(p, host_of, trial, base, &sb) <= n0)
                lo = mid;
            else
                hi = mid - 1;
        }
        cand[1] = lo;
    }
    for (size_t c = 0; c < 2; c++) {
        size_t k = cand[c];
        if (k == 0)
            continue;
        memcpy(trial, orig, base * sizeof(size_t));
        for (size_t j = 0; j < k; j++)
            trial[chg_host[j]] = chg_model[j];
        bool sb;
        size_t n = add_standby(p, host_of, trial, base, &sb);
        double price = fleet_price(pk, trial, n);
        if (price < best_price) {
            best_price = price;
            best_k = k;
        }
    }
    memcpy(host_model, orig, base * sizeof(size_t));
    for (size_t j = 0; j < best_k; j++)
        host_model[chg_host[j]] = chg_model[j];
    return add_standby(p, host_of, host_model, base, standby);
}

static double lower_bound(const packer *pk)
{
    const ana_host_model *m = model_new(pk->p);
    size_t T = pk->T;
    KS_AUTOFREE double *sum = ks_calloc(T + 1, sizeof(double));
    double mem = 0, vc = 0;
    bool any = false;
    for (size_t u = 0; u < pk->nunits; u++) {
        const unit *un = &pk->units[u];
        if (!un->placeable)
            continue;
        any = true;
        for (size_t t = 0; t < T; t++)
            sum[t] += un->cpu[t];
        mem += un->mem;
        vc += (double)un->vcpus;
    }
    if (!any)
        return 0;
    double peak = 0;
    for (size_t t = 0; t < T; t++)
        peak = fmax(peak, sum[t]);
    double lb = fmax(ceil_eps(peak / pk->cap_raw), ceil_eps(mem / pk->mcap_raw));
    if (isfinite(pk->vcap_raw))
        lb = fmax(lb, ceil_eps(vc / pk->vcap_raw));
    if (pk->p->n_plus_1) {
        double c100 = m->cpu_mhz - m->host_cpu_mhz, m100 = m->mem_mib - m->host_mem_mib;
        lb = fmax(lb, 1 + fmax(ceil_eps(peak / c100), ceil_eps(mem / m100)));
    }
    return lb;
}

/* Every solution is checked before it is handed out: 0, or -1 with err
 * (a bug) and sol freed. */
static int self_check(const ana_problem *p, ana_solution *sol, ks_error *err)
{
    char *why = NULL;
    if (ana_solution_valid(p, sol, &why))
        return 0;
    ks_error_set(err, KS_E_INTERNAL, 0,
                 "the packing broke one of its own constraints (a bug, please report it): %s", why);
    free(why);
    ana_solution_free(sol);
    return -1;
}

static void model_caps_build(packer *pk)
{
    const ana_problem *p = pk->p;
    pk->nmc = model_count(p);
    pk->newm = p->models ? p->new_model : 0;
    pk->mc = ks_calloc(pk->nmc, sizeof *pk->mc);
    for (size_t k = 0; k < pk->nmc; k++) {
        const ana_host_model *hm = model_at(p, k);
        model_cap *c = &pk->mc[k];
        c->cap_raw = hm->cpu_limit * hm->cpu_mhz - hm->host_cpu_mhz;
        c->mcap_raw = hm->mem_limit * hm->mem_mib - hm->host_mem_mib;
        c->vcap_raw = hm->vcpu_ratio > 0 ? hm->vcpu_ratio * hm->cores : INFINITY;
        c->cap = c->cap_raw * (1 + PACK_REL_EPS) + 1e-9;
        c->mcap = c->mcap_raw * (1 + PACK_REL_EPS) + 1e-9;
        c->vcap = c->vcap_raw;
        c->price = hm->price;
    }
}

int ana_pack_mixed(const ana_problem *p, const ana_solution *base, ana_solution *sol, ks_error *err)
{
    memset(sol, 0, sizeof *sol);
    if (!problem_ok(p, err))
        return -1;
    size_t n = p->nitems;
    packer pk = {.p = p, .T = p->nslots};
    model_caps_build(&pk);
    /* the fixed hosts as ana_pack counts them: existing, and up to the
     * highest pin of a placed VM */
    pk.nfixed = p->existing_hosts;
    for (size_t i = 0; i < n; i++)
        if (base->host_of[i] >= 0 && p->items[i].pinned_host >= 0 &&
            (size_t)p->items[i].pinned_host + 1 > pk.nfixed)
            pk.nfixed = (size_t)p->items[i].pinned_host + 1;
    sol->host_of = ks_calloc(n + 1, sizeof(int));
    memcpy(sol->host_of, base->host_of, n * sizeof(int));
    sol->why = ks_calloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        sol->why[i] = base->why[i] ? ks_strdup(base->why[i]) : NULL;
    sol->host_model = ks_calloc(base->nhosts + STANDBY_MAX + 1, sizeof(size_t));
    memcpy(sol->host_model, base->host_model, base->nhosts * sizeof(size_t));
    sol->lower_bound = base->lower_bound;
    bool standby = false, mixed = false;
    size_t nh = p->mixed && pk.nmc > 1
                    ? mixed_downsize(&pk, sol->host_of, sol->host_model, base->nhosts, &standby)
                    : base->nhosts;
    for (size_t h = 0; h < nh && !mixed; h++)
        mixed = h >= pk.nfixed && sol->host_model[h] != pk.newm;
    sol->nhosts = nh;
    why_pack(sol, n);
    /* the base's algorithm, with the mixed-fleet step when it changed a host */
    sol->algorithm = base->algorithm;
    for (int v = 0; v < NVARIANTS; v++)
        for (int k = 0; k < 4; k++)
            if (algo_names[v][k] == base->algorithm)
                sol->algorithm = algo_names[v][(k & 2) + (standby ? 1 : 0) + (mixed ? 4 : 0)];
    free(pk.mc);
    return self_check(p, sol, err);
}

int ana_pack(const ana_problem *p, ana_solution *sol, ks_error *err)
{
    memset(sol, 0, sizeof *sol);
    if (!problem_ok(p, err))
        return -1;
    const ana_host_model *m = model_new(p);
    size_t n = p->nitems;
    sol->host_of = ks_calloc(n + 1, sizeof(int));
    sol->why = ks_calloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        sol->host_of[i] = -1;

    packer pk = {.p = p, .T = p->nslots};
    pk.cap_raw = m->cpu_limit * m->cpu_mhz - m->host_cpu_mhz;
    pk.mcap_raw = m->mem_limit * m->mem_mib - m->host_mem_mib;
    pk.vcap_raw = m->vcpu_ratio > 0 ? m->vcpu_ratio * m->cores : INFINITY;
    pk.cap = pk.cap_raw * (1 + PACK_REL_EPS) + 1e-9;
    pk.mcap = pk.mcap_raw * (1 + PACK_REL_EPS) + 1e-9;
    pk.vcap = pk.vcap_raw;
    model_caps_build(&pk);
    units_build(&pk, sol);
    {
        size_t *all = ks_calloc(pk.nunits + 1, sizeof(size_t));
        for (size_t u = 0; u < pk.nunits; u++)
            all[u] = u;
        sort_kind = SIZE_L2;
        sort_units = pk.units;
        ks_qsort(all, pk.nunits, sizeof *all, cmp_units);
        for (size_t r = 0; r < pk.nunits; r++)
            pk.units[all[r]].rank_l2 = r;
        free(all);
    }
    pk.uhost = ks_calloc(pk.nunits + 1, sizeof(int));
    size_t *order = ks_calloc(pk.nunits + 1, sizeof(size_t));
    size_t *stamp = ks_calloc(pk.nunits + 1, sizeof(size_t));
    int *best = ks_calloc(pk.nunits + 1, sizeof(int));

    pk.nfixed = p->existing_hosts;
    for (size_t u = 0; u < pk.nunits; u++)
        if (pk.units[u].placeable && pk.units[u].pin >= 0 &&
            (size_t)pk.units[u].pin + 1 > pk.nfixed)
            pk.nfixed = (size_t)pk.units[u].pin + 1;

    /* pinned units that do not fit their host are the same in every
     * variant: settle them once */
    hosts_reset(&pk);
    place_pinned(&pk);
    for (size_t u = 0; u < pk.nunits; u++) {
        unit *un = &pk.units[u];
        if (!un->placeable || un->pin < 0 || pk.uhost[u] >= 0)
            continue;
        un->placeable = false;
        for (size_t k = 0; k < un->nmembers; k++) {
            size_t i = pk.members[un->first + k];
            set_why(sol, i,
                    ks_asprintf("'%s' is pinned to host %d, where the VMs pinned before it "
                                "leave no room for it (CPU, memory, vCPUs or anti-affinity); "
                                "pin it to another host or unpin it",
                                p->items[i].name, un->pin));
        }
    }
    sol->lower_bound = lower_bound(&pk);

    /* small problems: local search after every variant (it may turn a
     * worse start into a better end) and seeded random restarts; large
     * ones: local search after the best variant only */
    size_t work = pk.nunits * pk.T;
    bool small = work <= LS_ALL_VARIANTS_MAX;
    size_t restarts = small ? RESTART_WORK / (work ? work : 1) : 0;
    restarts = restarts > RESTARTS_MAX ? RESTARTS_MAX : restarts;
    size_t hm_room = pk.nunits + pk.nfixed + STANDBY_MAX + 1;
    sol->host_model = ks_calloc(hm_room, sizeof(size_t));
    kept k = {.sol = sol,
              .tmp = ks_calloc(n + 1, sizeof(int)),
              .tmp_model = ks_calloc(hm_room, sizeof(size_t)),
              .best = best,
              .nh = SIZE_MAX,
              .n = n};
    int best_v = 0;
    bool improved = false;
    uint64_t seed = 0x6b766d7368696674ULL;
    for (size_t r = 0; r < V_FFD_NOISY + restarts; r++) {
        int v = r < V_FFD_NOISY ? (int)r : V_FFD_NOISY;
        if (v == V_FFD_NOISY)
            for (size_t u = 0; u < pk.nunits; u++)
                pk.units[u].size_noisy = pk.units[u].size_l2 * (0.7 + 0.6 * rng_unit(&seed));
        run_variant(&pk, v, order, stamp);
        bool imp = small && local_search(&pk);
        if (keep_better(&pk, &k, false)) {
            best_v = v;
            improved = imp;
        }
    }
    double lower = sol->lower_bound - (p->n_plus_1 ? 1 : 0);
    if (!small) {
        /* large problems far above their bound: a balanced placement on
         * fewer hosts, repaired (below what local search reaches there, in
         * less time); local search when that finds nothing, and for gaps
         * of a few percent, which it closes better */
        bool found = k.nh != SIZE_MAX && (double)k.nh > sol->lower_bound * 1.03 + 1 &&
                     balance_search(&pk, lower, best, order) && keep_better(&pk, &k, false);
        improved |= found;
        if (!found) {
            /* rebuild the best one; units in index order, so deterministic */
            rebuild(&pk, best);
            improved |= local_search(&pk) && keep_better(&pk, &k, true);
        }
    } else if (k.nh != SIZE_MAX && (double)k.nh > sol->lower_bound + 1e-9) {
        /* small ones: host elimination from the best placement */
        rebuild(&pk, best);
        improved |= eliminate(&pk, lower, ELIM_BUDGET) && keep_better(&pk, &k, false);
    }
    size_t nh = k.nh;
    bool standby = k.standby;
    free(k.tmp);
    free(k.tmp_model);
    bool mixed = false;
    if (p->mixed && pk.nmc > 1) {
        nh = mixed_downsize(&pk, sol->host_of, sol->host_model, nh, &standby);
        for (size_t h = 0; h < nh && !mixed; h++)
            mixed = h >= pk.nfixed && sol->host_model[h] != pk.newm;
    }
    sol->nhosts = nh;
    why_pack(sol, n);
    sol->algorithm = algo_names[best_v][(improved ? 2 : 0) + (standby ? 1 : 0) + (mixed ? 4 : 0)];
    for (size_t mk = 0; pk.ux && mk < pk.nmc; mk++)
        free(pk.ux[mk]);
    free(pk.ux);
    free(pk.mc);

    hosts_free(&pk);
    free(pk.cpu_all);
    for (size_t u = 0; u < pk.nunits; u++)
        free(pk.units[u].ban);
    free(pk.units);
    free(pk.members);
    free(pk.anti_ids);
    free(pk.uhost);
    free(order);
    free(stamp);
    free(best);

    return self_check(p, sol, err);
}

void ana_solution_free(ana_solution *sol)
{
    if (!sol)
        return;
    free(sol->host_of);
    free(sol->host_model);
    free(sol->why); /* one block with the sentences: see why_pack() */
    memset(sol, 0, sizeof *sol);
}
