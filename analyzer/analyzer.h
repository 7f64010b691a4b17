/* analyzer.h: kvmshift's consolidation planner (public API).
 *
 * Reads a study (study.ini, inventory.csv, rrd/NAME.rrd, facts/NAME.json),
 * decides for every server whether it can become a KVM virtual machine
 * (eligible, conditional, not eligible, each with its reasons in words),
 * right-sizes the VMs from their measured demand, and packs them, hour by
 * hour, onto hosts of every [host-model NAME] of study.ini: one scenario
 * per host model and a mixed-fleet one, then schedules the
 * recommended scenario's P2V conversions over migration nights (UTC). The
 * result is the plan, written to STUDY/plan.json. See README "Analyzing a
 * study".
 *
 * A plan is immutable once built; its accessors may be called from several
 * threads at once. Building is single-threaded.
 */
#ifndef ANALYZER_H
#define ANALYZER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "ks_error.h"
#include "ks_inventory.h"
#include "ks_study.h"

typedef struct ana_plan ana_plan;

typedef struct ana_options {
    bool quiet; /* no progress display while the RRD files are read */
} ana_options;

/* Build the plan of a study: reads study.ini's [policy], [host-model NAME],
 * [cpu-speed NAME], [anti-affinity NAME], [affinity NAME], [pin],
 * [migration] and [depends NAME] sections, every inventory server's RRD file
 * and facts, then packs and plans the nights.
 * opt may be NULL (defaults). Returns the plan (free with ana_plan_free), or
 * NULL with err filled: KS_E_CONFIG for a bad study.ini (file:line and how
 * to fix it; no host model; a dependency cycle, naming its servers),
 * KS_E_RRD for an unreadable RRD file, KS_E_PARSE for unreadable facts,
 * KS_E_INTERNAL when the packer fails. A server without data is not an
 * error: it is "not eligible" with that reason. */
ana_plan *ana_plan_build(const ks_study *study, const ks_inventory *inv, const ana_options *opt,
                         ks_error *err);
void ana_plan_free(ana_plan *plan);

/* Write the whole plan as JSON to path (normally STUDY/plan.json) through a
 * temporary file and a rename. 0, or -1 with err (KS_E_IO). */
int ana_plan_write_json(const ana_plan *plan, const char *path, ks_error *err);

/* The plan as JSON: a new reference the caller owns (json_decref). */
json_t *ana_plan_json(const ana_plan *plan);

/* The summary (counts per status, per scenario hosts, lower bound and gap,
 * power and cost, the recommended scenario and why) as JSON: a new reference
 * the caller owns. */
json_t *ana_plan_summary_json(const ana_plan *plan);

/* The same summary as text for a terminal, several lines, newly allocated
 * (caller frees). */
char *ana_plan_summary_text(const ana_plan *plan);

/* Percentile p (0..100, nearest rank: the smallest value with at least p%
 * of the values at or below it) of the non-NAN values of v; NAN when none.
 * p 100 is the largest value. v is not modified; thread-safe. */
double ana_percentile(const double *v, size_t n, double p);

/* Counts of servers per status. */
size_t ana_plan_count_eligible(const ana_plan *plan);
size_t ana_plan_count_conditional(const ana_plan *plan);
size_t ana_plan_count_not_eligible(const ana_plan *plan);

/* Name of the recommended scenario (its host model), borrowed from plan;
 * NULL when no scenario places anything. */
const char *ana_plan_recommended(const ana_plan *plan);

/* Why server is placed where it is in every scenario, or why it is not
 * eligible: several lines of text, newly allocated (caller frees). NULL
 * with err (KS_E_USAGE) when server is not in the plan. */
char *ana_plan_explain(const ana_plan *plan, const char *server, ks_error *err);

/* ==== Time series and packing details (for the report) ====================
 * Read-only views into a built plan, for charts and data-quality notes; what
 * is tabular comes from ana_plan_json. Indices: servers in inventory order
 * (plan.json "servers"), scenarios in study.ini order (plan.json
 * "scenarios"), hosts from 0 (host 0 is "MODEL-01"). Arrays are borrowed
 * from the plan and live as long as it; they hold ana_plan_slots(plan)
 * values, slot t covering [slot_start + t x slot_seconds, + slot_seconds)
 * in UTC. An index out of range gives NULL, NAN, 0 or -1 as said. */

/* The study period: time of slot 0, slot length, number of slots. */
time_t ana_plan_slot_start(const ana_plan *plan);
long ana_plan_slot_seconds(const ana_plan *plan);
size_t ana_plan_slots(const ana_plan *plan);

size_t ana_plan_server_count(const ana_plan *plan);
/* NULL when out of range. */
const char *ana_plan_server_name(const ana_plan *plan, size_t server);

typedef enum ana_metric {
    ANA_METRIC_CPU_MHZ = 0, /* CPU demand in source MHz; filled */
    ANA_METRIC_MEM_BYTES,   /* memory used, bytes; filled */
    ANA_METRIC_DISK_BPS,    /* disk read + write, bytes/s; filled */
    ANA_METRIC_NET_BPS,     /* network receive + transmit, bytes/s; NAN where not
                               measured (never filled: nothing is sized on it) */
} ana_metric;

/* A server's series: "filled" means that a slot that was not measured
 * holds the server's median of that hour of day, as the analyzer packs it
 * (README "Analyzing a study"); ana_plan_server_measured tells them apart.
 * NULL when out of range. */
const double *ana_plan_server_series(const ana_plan *plan, size_t server, ana_metric metric);
/* Per slot: 1 measured, 0 filled (a gap, or before/after the server's data). */
const unsigned char *ana_plan_server_measured(const ana_plan *plan, size_t server);
/* The source's CPU capacity, facts cpu.cores x cpu.mhz; NAN when unknown. */
double ana_plan_server_cpu_capacity_mhz(const ana_plan *plan, size_t server);

size_t ana_plan_scenario_count(const ana_plan *plan);
/* The scenario's name (its host model); NULL when out of range. */
const char *ana_plan_scenario_name(const ana_plan *plan, size_t scenario);
/* Hosts the scenario uses; 0 when out of range. */
size_t ana_plan_scenario_hosts(const ana_plan *plan, size_t scenario);
/* The host server is placed on in scenario, -1 when it is not placed there
 * (not eligible, too busy for that model, or fits on no host). */
int ana_plan_scenario_host_of(const ana_plan *plan, size_t scenario, size_t server);
/* The CPU demand the packer placed for server in scenario, per slot, in MHz
 * of the scenario's host model (speed factors and headroom applied, at most
 * what its vCPUs give, or with [policy] cpu_cap = percentile its quota):
 * what the hosts' limits are checked against.
 * NULL when the server is not placed in scenario. */
const double *ana_plan_scenario_demand(const ana_plan *plan, size_t scenario, size_t server);
/* A host's CPU capacity (cores x MHz of its model, in MHz of the model the
 * scenario opens hosts with, the unit of ana_plan_scenario_demand: hosts of
 * a mixed fleet differ) and the most the plan lets it use in any slot, the
 * hypervisor's own use (host_cpu_overhead_mhz) included (capacity x
 * [policy] cpu_max_percent); NAN when out of range. */
double ana_plan_host_capacity_mhz(const ana_plan *plan, size_t scenario, size_t host);
double ana_plan_host_limit_mhz(const ana_plan *plan, size_t scenario, size_t host);
/* A host's name, as in plan.json (MODEL-NN, numbered per model, existing
 * hosts first); NULL when out of range. Borrowed from plan. */
const char *ana_plan_host_name(const ana_plan *plan, size_t scenario, size_t host);

/* ==== End of the report's accessors ======================================= */

#endif
