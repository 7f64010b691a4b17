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
 * "counts": {pass, warn, fail}, "checks": [...]}, also written to
 * STUDY/validation/SERVER.json; an unreachable VM or a wrong host key is a
 * failed check, not an error. NULL with err filled only when nothing
 * could be checked (no study, unknown server, no facts of the physical
 * server, the result not writable). */
json_t *mig_validate(const char *study_dir, const char *server, const mig_validate_options *opt,
                     ks_error *err);

#endif
