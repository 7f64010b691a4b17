/* ana_rules.h: the analyzer's internals shared by its files and unit tests:
 * the policy and host models read from study.ini, per-server time series
 * (ks_series.c), eligibility rules and right-sizing (ana_rules.c).
 * Not thread-safe; not a public API.
 */
#ifndef ANA_RULES_H
#define ANA_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ks_error.h"
#include "analyzer.h" /* ana_percentile */
#include "ks_series.h"
#include "ks_ini.h"

typedef enum ana_status { ANA_ELIGIBLE = 0, ANA_CONDITIONAL, ANA_NOT_ELIGIBLE } ana_status;

/* "eligible", "conditional", "not_eligible" */
const char *ana_status_name(ana_status s);

/* A [cpu-speed NAME] section: CPUs whose model contains match run factor
 * times faster per MHz than the reference (1.0). */
typedef struct ana_speed_rule {
    char *match;
    double factor;
} ana_speed_rule;

/* What a VM's CPU demand is packed as (README "Analyzing a study"). */
typedef enum ana_cpu_cap {
    ANA_CPU_CAP_VCPUS = 0,  /* all it measured, up to what its vCPUs deliver */
    ANA_CPU_CAP_PERCENTILE, /* at most its sized percentile, held by a CPU quota */
} ana_cpu_cap;

/* study.ini [policy], with the defaults of README "Analyzing a study". */
typedef struct ana_policy {
    double max_host_share; /* 0..1: one server may need at most this share of a host */
    double min_confidence; /* 0..1: share of the expected samples needed */
    double percentile;     /* 1..100: demand sized on this percentile of the hours */
    double headroom;       /* >= 0: added to the demand (0.2 = 20%) */
    bool allow_upsize;     /* may a VM get more than the source server had? */
    long slot_seconds;     /* length of one time slot */
    time_t start, end;     /* study period; 0: from the data */
    double cpu_max;        /* 0..1: highest CPU use of a host in any slot */
    double mem_max;        /* 0..1: highest memory use of a host */
    double host_cpu_overhead_mhz;
    double host_mem_overhead_gib;
    double vm_mem_overhead_mib;
    double vcpu_ratio; /* vCPUs per physical core at most; 0: no limit */
    bool n_plus_1;     /* one spare host's worth of room */
    bool mixed_fleet;  /* plan a mixed-fleet scenario (two models or more) */
    ana_cpu_cap cpu_cap;
    /* estimated power of a physical server from its facts, when
     * [server-power] does not give it: base + sockets x (idle + (max - idle)
     * x average CPU use) + memory GiB x w_per_gib */
    double server_base_w, socket_idle_w, socket_max_w, w_per_gib;
    ana_status blocker_status; /* what hardware that does not virtualize makes a server */
    char **physical_roles;     /* inventory roles kept physical */
    size_t nphysical_roles;
    ana_speed_rule *speed; /* [cpu-speed NAME] sections */
    size_t nspeed;
} ana_policy;

/* Read [policy] and [cpu-speed NAME]; defaults for what is absent. 0, or -1
 * with err (KS_E_CONFIG, file:line). Free with ana_policy_free. */
int ana_policy_parse(const ks_ini *ini, ana_policy *p, ks_error *err);
void ana_policy_free(ana_policy *p);

/* The speed factor of a CPU model (first matching [cpu-speed] rule, by
 * substring, case ignored); 1.0 when none matches or model is NULL. */
double ana_policy_speed(const ana_policy *p, const char *cpu_model);

/* A [host-model NAME] section. Optional numbers are NAN when not given. */
typedef struct ana_model {
    char *name;
    unsigned cores;    /* physical cores, all sockets */
    double mhz;        /* per core */
    double memory_gib; /* total */
    double storage_mbps, iops, network_gbps;
    unsigned existing; /* hosts of this model that exist already (filled first) */
    double power_idle_w, power_max_w, cost, rack_units;
    double speed_factor; /* 1.0 when not given */
} ana_model;

/* Every [host-model NAME] section, in file order. 0 with *models (free
 * with ana_models_free) and *n >= 1, or -1 with err (KS_E_CONFIG) naming
 * the file, line and key, also when there is no host model at all. */
int ana_models_parse(const ks_ini *ini, ana_model **models, size_t *n, ks_error *err);
void ana_models_free(ana_model *models, size_t n);

/* ---- Time series (ks_series.h; the fill in ana_rules.c) ---------------- */

/* Fill unknown slots of CPU, memory and disk with the server's own
 * percentile pct of the known values of the same hour of day (of all known
 * values when that hour has none; 0 when nothing is known). net_bps stays
 * NAN where unknown: nothing is sized on it. */
void ana_series_fill(ks_series *s, double pct);

/* ---- Rules and sizing (ana_rules.c) ------------------------------------ */

/* vCPUs for a demand of demand_mhz (target MHz, headroom included) on cores
 * of core_mhz: whole, at least 1, at most src_threads (when known, > 0)
 * unless allow_upsize. */
unsigned ana_size_vcpus(double demand_mhz, double core_mhz, unsigned src_threads,
                        bool allow_upsize);
/* Memory in MiB for a demand of demand_bytes (headroom included): rounded
 * up to 512 MiB, at least 1024, at most src_bytes (when known, > 0; rounded
 * down to 512 MiB, but never under 1024) unless allow_upsize. */
double ana_size_memory_mib(double demand_bytes, double src_bytes, bool allow_upsize);

/* What the rules look at for one server. */
typedef struct ana_server_in {
    const char *name;
    const char *role;            /* inventory role, "" when none */
    bool has_data;               /* any sample at all */
    const char *data_problem;    /* why its series could not be read (a damaged or
                                    foreign RRD file), NULL when it was */
    double confidence;           /* 0..1 */
    double cpu_mhz;              /* demand: source MHz at the policy percentile */
    double speed;                /* source CPU speed factor */
    double mem_bytes;            /* memory used at the percentile */
    double disk_mbps;            /* disk MB/s at the percentile (NAN: unknown) */
    double disk_iops;            /* NAN: unknown */
    double net_mbps;             /* network MB/s at the percentile (NAN: unknown) */
    unsigned src_threads;        /* 0: unknown */
    double src_mem_bytes;        /* 0: unknown */
    const char *const *blockers; /* facts virtualization_blockers */
    size_t nblockers;
    const long *ports; /* facts listening ports */
    size_t nports;
} ana_server_in;

/* The verdict on one server. */
typedef struct ana_verdict {
    ana_status status;
    char **reasons; /* sentences */
    size_t nreasons;
    bool *too_busy; /* per host model: too big to share a host of it */
    double memory_mib;
} ana_verdict;

/* Apply every rule of p to in against the host models. */
void ana_judge(const ana_policy *p, const ana_model *models, size_t nmodels,
               const ana_server_in *in, ana_verdict *v);
void ana_verdict_free(ana_verdict *v);

/* Demand in target MHz of a model, headroom included. */
double ana_target_mhz(const ana_policy *p, const ana_model *m, double src_mhz, double src_speed);

#endif
