/* migrate.h: after a server's move, proof that its VM does what the
 * physical server did (public API of the migrate component).
 *
 * kvmshift validate STUDY SERVER logs in to the VM (by default at the
 * server's own SSH address, which the VM took over), takes its facts with
 * the collector's script and compares them with the facts the collector
 * took of the physical server (STUDY/facts/SERVER.json): reachable with
 * the same host key; on KVM; the same file systems (NFS included) with
 * the same sizes; the same TCP listeners and processes; the same services
 * enabled and running, none failed; the same addresses on the same MACs.
 * Each check is pass, warn or fail with its evidence, kept in
 * STUDY/validation/SERVER.json.
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

#include "ks_error.h"
#include "ks_series.h"

typedef struct mig_validate_options {
    /* where the VM answers when not (yet) at the server's own address: its
     * host key must still be the one known for the server's address */
    const char *address; /* NULL: the server's SSH address in the inventory */
    int port;            /* 0: the inventory's SSH port */
    double wait;         /* seconds to wait for SSH (the VM booting); 0: 300 */
    double timeout;      /* seconds for each step once connected; 0: 120 */
    bool quiet;          /* no progress messages */
    bool load_only;      /* only the load checks of a switched server, no login: the
                            other checks of the last validation are kept */
} mig_validate_options;

/* Compare the facts of a VM with its physical server's (both in the schema
 * of STUDY/facts/NAME.json). disabled: the units the conversion disabled
 * on purpose (p2v_disabled_units; NULL: none). Returns a new array of
 * checks {"check", "status": "pass"|"warn"|"fail", "summary",
 * "evidence": [strings]}. Pure: no I/O. */
json_t *mig_compare_facts(const json_t *baseline, const json_t *vm, const json_t *disabled);

/* Validate server's VM (see above). Returns the result object {"server",
 * "address", "port", "validated_at", "verdict": "pass"|"warn"|"fail",
 * "counts": {pass, warn, fail}, "checks": [...], "answered_after_s": the
 * seconds SSH took to answer (null: it never did)}, also written to
 * STUDY/validation/SERVER.json; an unreachable VM or a wrong host key is a
 * failed check, not an error. NULL with err filled only when nothing
 * could be checked (no study, unknown server, no facts of the physical
 * server, the result not writable). */
json_t *mig_validate(const char *study_dir, const char *server, const mig_validate_options *opt,
                     ks_error *err);

/* ---- after the move: the VM's load (mig_load.c) -------------------------

 * Once a server is migrated it is switched (mig_switch; the night runner
 * does it): its RRD history and facts move to STUDY/physical/SERVER.rrd
 * and SERVER.facts.json, the baseline that is never written again; its
 * inventory line goes to where the VM is collected, when that is not the
 * server's own address (with the server's known host keys copied there:
 * the VM has them); STUDY/physical/SERVER.json records the cutover. The
 * collector then samples the VM into a new STUDY/rrd/SERVER.rrd, and
 * validate adds the load checks (mig_compare_load) to the others.
 */
typedef struct mig_switch_options {
    time_t cutover;      /* when the physical server stopped serving; 0: now */
    const char *address; /* where the VM is collected; NULL: the inventory's address */
    int port;            /* 0: the inventory's port */
} mig_switch_options;

/* Switch server to its VM (see above). Returns the record of
 * STUDY/physical/SERVER.json {server, cutover_at, switched_at,
 * address_before, port_before, address, port, physical_rrd,
 * physical_facts (study-relative paths, null when there was none),
 * host_keys: the keys known at the new address and port, copied or there
 * already}; a server switched already returns its record with
 * "already": true, and nothing is done again. NULL with err filled. */
json_t *mig_switch(const char *study_dir, const char *server, const mig_switch_options *opt,
                   ks_error *err);

/* Compare the VM's load (vm, from the cutover on) with the physical
 * server's (base, before the cutover), both read in hourly slots with
 * KS_SERIES_LOAD. Each VM hour is compared with the baseline's median at
 * the same hour of the same weekday (local time), else the same hour of
 * any day, else every hour. Returns a new array of checks (the shape of
 * mig_compare_facts'; each with "data" holding the figures):
 * load_coverage (hours on each side; a warning under 24 hours of the VM),
 * load_cpu, load_memory, load_disk, load_network (the VM's mean against
 * the baseline's: under half is a drop, a warning, and for CPU and network
 * under a fifth of a real load a failure; over twice a rise, a warning),
 * load_saturation (CPU at 90% or more, memory 95% or more used: a
 * failure in a quarter of the hours), load_steal (10% or more a warning,
 * 20% or more in a quarter of the hours a failure). Only load_coverage
 * when the VM has no hour yet, or the baseline none. Pure: no I/O. */
json_t *mig_compare_load(const ks_series *base, const ks_series *vm, time_t cutover);

/* ---- migration nights (mig_night.c) ------------------------------------

 * kvmshift night STUDY N runs night N of plan.json: for each of its
 * servers (and those postponed by earlier nights, first), in the plan's
 * order, at most K at once: a check that its estimated time (from its
 * measured copy and sync, and the rates measured this night) still fits
 * before the window ends (else it is postponed to the next night, with
 * the reason); then stop the services study.ini names for it ([cutover
 * NAME] stop_services), the final delta, with --shutdown-source the
 * source powered off, conversion, define and start on its target host
 * ([target-host HOST] uri, [night] target_uri, else qemu:///system),
 * validation (mig_validate), and only then "migrated". A server that fails
 * at any step is rolled back: its domain undefined (images kept), its
 * services started again or the source powered on ([night] power_on).
 * Each server's record is STUDY/nights/N/servers/NAME.json (its steps,
 * times, downtime, rollback), its runbook STUDY/nights/N/NAME.md, the
 * night's summary STUDY/nights/N/summary.json.
 */
typedef struct mig_night_options {
    unsigned night;
    bool dry_run;           /* decide and write the runbooks; nothing else */
    bool presync;           /* a live copy or delta of every server, days before */
    bool resume;            /* go on with a night that stopped in the middle */
    bool shutdown_source;   /* power the sources off after their final delta */
    const char *rollback;   /* roll back this server of the night (stopped in the middle) */
    time_t until;           /* the window's end; 0: the plan's */
    unsigned parallel;      /* cutovers at once; 0: the plan's max_parallel */
    const char *target_uri; /* every host's libvirt, instead of study.ini's */
    bool quiet;             /* no progress lines */
} mig_night_options;

/* Run (or with dry_run, plan; with presync, presync; with rollback, roll
 * back one server of) night opt->night of the study. Returns the night's
 * summary (as STUDY/nights/N/summary.json: night, window, until, mode,
 * counts {migrated, rolled_back, postponed, skipped, running, pending},
 * servers: their records; with dry_run each record has a "dry_run" object:
 * decision, lane, start, end, estimate), or NULL with err filled when
 * nothing could be done (no plan, no such night, the night's lock held,
 * the window over, the night run already without resume). *outcome: 0
 * every server migrated (presync: every copy complete; rollback:
 * complete), 1 some were not (rolled back, postponed, skipped; a copy
 * that failed), 2 stopped by a signal before the end (run with resume).
 * Forks one process per server; not to be called from a threaded
 * program. */
json_t *mig_night_run(const char *study_dir, const mig_night_options *opt, int *outcome,
                      ks_error *err);

#endif
