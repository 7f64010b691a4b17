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

typedef struct mig_validate_options {
    /* where the VM answers when not (yet) at the server's own address: its
     * host key must still be the one known for the server's address */
    const char *address; /* NULL: the server's SSH address in the inventory */
    int port;            /* 0: the inventory's SSH port */
    double wait;         /* seconds to wait for SSH (the VM booting); 0: 300 */
    double timeout;      /* seconds for each step once connected; 0: 120 */
    bool quiet;          /* no progress messages */
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
