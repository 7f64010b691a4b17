/* ana_pack.h: time-aware vector bin packing of VMs onto KVM hosts.
 *
 * The problem: items (VMs) with a CPU demand series (MHz per time slot,
 * already normalized to the target CPU) and a static memory size; hosts of
 * one model with CPU and memory capacity; place every item so that in EVERY
 * slot the sum of CPU demand on a host stays within its CPU limit and the
 * memory sum within its memory limit, using as few hosts as possible.
 * Constraints: vCPU:pCPU overcommit limit, anti-affinity groups (two items
 * of one group never on one host), affinity groups (all items of one group
 * on one host), items pinned to a host index, N+1 (after the loss of any one
 * host, its items fit on the others within 100% of capacity in every slot),
 * and existing hosts to fill first (each of its own model). Mixed fleets:
 * new hosts are opened with one model and each may then be turned into a
 * cheaper model its VMs still fit.
 *
 * Internal to the analyzer; its own header for the unit tests and benches.
 * Deterministic: the same problem gives the same solution. Not thread-safe
 * per problem; separate problems may be solved in separate threads.
 */
#ifndef ANA_PACK_H
#define ANA_PACK_H

#include <stdbool.h>
#include <stddef.h>

#include "ks_error.h"

typedef struct ana_host_model {
    double cpu_mhz;      /* total: cores x MHz per core */
    unsigned cores;      /* physical cores (for the vCPU overcommit limit) */
    double mem_mib;      /* total memory */
    double cpu_limit;    /* highest CPU utilization allowed, 0..1 (0.8) */
    double mem_limit;    /* highest memory utilization allowed, 0..1 (0.9) */
    double host_cpu_mhz; /* hypervisor's own CPU use per host */
    double host_mem_mib; /* hypervisor's own memory per host */
    double vm_cpu_mhz;   /* overhead per VM (added to each slot) */
    double vm_mem_mib;   /* overhead per VM */
    double vcpu_ratio;   /* highest vCPUs per physical core; 0: no limit */
    double price;        /* what a mixed fleet minimizes per host (cost, else
                            power, else capacity); only compared between models */
} ana_host_model;

typedef struct ana_item {
    const char *name;   /* borrowed; for messages and tie-breaking */
    const double *cpu;  /* nslots values, MHz; borrowed */
    double mem_mib;     /* right-sized memory */
    unsigned vcpus;     /* right-sized vCPUs */
    int anti_group;     /* -1: none; items with the same value never share a host */
    int affinity_group; /* -1: none; items with the same value share one host */
    int pinned_host;    /* -1: none; else the host index it must be on */
    const bool *banned; /* NULL, or per model of the problem: may not be on a host
                           of it (too busy for it, or sized for faster cores) */
} ana_item;

typedef struct ana_problem {
    size_t nslots;
    size_t nitems;
    const ana_item *items;
    ana_host_model model; /* the model of every host when models is NULL */
    /* Several models: models[0..nmodels-1], CPU capacities in the units of
     * the items' series (MHz of the model new hosts open with: scale the
     * others by their speed). New hosts open with models[new_model]. */
    const ana_host_model *models;
    size_t nmodels;
    size_t new_model;
    bool mixed; /* after packing, turn each new host into the lowest-priced
                   model its VMs fit (N+1 still holding) */
    bool n_plus_1;
    size_t existing_hosts;         /* hosts 0..existing_hosts-1 exist already: they
                                      are counted as used and filled first */
    const size_t *existing_models; /* NULL (all of the new hosts' model), or per
                                      existing host its index into models */
} ana_problem;

typedef struct ana_solution {
    size_t nhosts;         /* hosts used (including the existing ones) */
    int *host_of;          /* nitems entries: host index, or -1 when unplaced */
    size_t *host_model;    /* nhosts entries: index into the problem's models
                              (0 when it has none) */
    char **why;            /* nitems entries: NULL, or why that item could not be
                              placed (a sentence naming the item and the limit) */
    double lower_bound;    /* hosts, over the items that can be placed: the
                              largest of max over slots ceil(sum CPU / usable
                              CPU per host), ceil(sum memory / usable memory)
                              and ceil(sum vCPUs / vCPUs per host); with N+1
                              also 1 + the CPU and memory bounds at 100% of
                              capacity (the survivors of a failure hold all;
                              a plain "+ 1" is no bound: 20% headroom per host
                              often absorbs a failure with no extra host);
                              in hosts of the model new hosts open with */
    const char *algorithm; /* static text: what produced the solution */
} ana_solution;

/* Solve. sol is filled (free with ana_solution_free). -1 with err only for
 * a malformed problem (NULL series, nslots 0 with items, limits out of
 * range); an item that fits nowhere is not an error: its host_of is -1 and
 * why says which limit (e.g. "'db01' needs 52,000 MHz in its busiest hour;
 * one host allows 49,920 MHz"). */
int ana_pack(const ana_problem *p, ana_solution *sol, ks_error *err);
void ana_solution_free(ana_solution *sol);

/* The mixed fleet of base, a solution ana_pack gave for the same problem
 * without 'mixed': each new host turned into the lowest-priced model its
 * VMs fit, as ana_pack does with 'mixed' after packing, without packing
 * again (ana_pack with 'mixed' may pick another starting variant when the
 * standby host's model changes the count). p->mixed must be set. sol is filled (free with
 * ana_solution_free); -1 with err for a malformed problem or a bug (the result is checked). */
int ana_pack_mixed(const ana_problem *p, const ana_solution *base, ana_solution *sol,
                   ks_error *err);

/* Check a solution against every constraint of p; true when it holds.
 * On false, *why (may be NULL) gets a newly allocated sentence. Used by the
 * tests and as a self-check after ana_pack. */
bool ana_solution_valid(const ana_problem *p, const ana_solution *sol, char **why);

#endif
