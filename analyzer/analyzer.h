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

#endif
