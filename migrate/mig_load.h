/* mig_load.h: what the validator and the load comparison share (internal
 * to the migrate component; the public API is migrate.h). */
#ifndef MIG_LOAD_H
#define MIG_LOAD_H

#include <jansson.h>

#include "ks_error.h"

/* ---- checks (mig_check.c) ---------------------------------------------- */

/* A check of validate: {"check": id, "status", "summary", "evidence": [lines]};
 * its status is the worst of its evidence lines'. */
typedef enum mig_level { L_PASS, L_WARN, L_FAIL } mig_level;
extern const char *const mig_level_names[]; /* "pass", "warn", "fail" */

typedef struct mig_check {
    json_t *o;
    mig_level lv;
} mig_check;

mig_check mig_check_new(const char *id);
/* One line of evidence, at level lv. */
__attribute__((format(printf, 3, 4))) void mig_evidence(mig_check *c, mig_level lv, const char *fmt,
                                                        ...);
/* The summary; c's object moves to checks. */
__attribute__((format(printf, 3, 4))) void mig_finish(json_t *checks, mig_check *c, const char *fmt,
                                                      ...);

/* ---- shared by validate and the load comparison ------------------------- */

/* The physical server's facts: STUDY/validation/SERVER.baseline.json, kept
 * at the first validation or switch; else STUDY/facts/SERVER.json (or
 * STUDY/physical/SERVER.facts.json once switched), then kept. NULL with
 * err (KS_E_USAGE: the study has no facts of it). */
json_t *mig_baseline_load(const char *study_dir, const char *server, ks_error *err);

/* Append the load checks of a switched server (mig_compare_load on
 * STUDY/physical/SERVER.rrd and STUDY/rrd/SERVER.rrd) to checks. 1 added,
 * 0 the server was not switched (nothing added), -1 with err (a file that
 * cannot be read). */
int mig_load_checks(const char *study_dir, const char *server, json_t *checks, ks_error *err);

#endif
