/* ks_study.h: the study directory, through which components exchange data.
 *
 *   STUDY/study.ini        settings (ks_ini format)
 *   STUDY/inventory.csv    servers (ks_inventory format)
 *   STUDY/known_hosts      SSH host keys accepted for this study
 *   STUDY/rrd/NAME.rrd     time series, one file per server
 *   STUDY/facts/NAME.json  hardware/OS/services inventory, one per server
 *   STUDY/state/NAME.json  collector state: last sample, last error
 *   STUDY/physical/NAME.*  a migrated server's physical history and facts,
 *                          once it is switched to its VM (migrate.h)
 */
#ifndef KS_STUDY_H
#define KS_STUDY_H

#include <stdbool.h>

#include "ks_error.h"
#include "ks_ini.h"

typedef struct ks_study ks_study;

/* Create DIR (and parents) with a commented study.ini and an example
 * inventory.csv, plus rrd/, facts/ and state/. Refuses (KS_E_USAGE) when DIR
 * already holds a study.ini or inventory.csv: nothing is overwritten. */
int ks_study_init(const char *dir, ks_error *err);

/* Open an existing study: reads study.ini (a missing one is an error that
 * says to run 'kvmshift init'). */
ks_study *ks_study_open(const char *dir, ks_error *err);
/* Check ini against the sections and keys of study.ini (ks_ini_check):
 * what ks_study_open does once it has read the file. */
int ks_study_ini_check(const ks_ini *ini, ks_error *err);

/* The same for a command that changes the study: ks_study_lock first
 * (waiting for another writer), then the study read; the lock is held
 * until ks_study_free. */
ks_study *ks_study_open_writer(const char *dir, const char *who, ks_error *err);
void ks_study_free(ks_study *s);

const char *ks_study_dir(const ks_study *s);
const ks_ini *ks_study_ini(const ks_study *s);
/* DIR/rel, newly allocated. */
char *ks_study_path(const ks_study *s, const char *rel);
/* The facts of the physical server name in the study dir: once it is
 * switched to its VM, DIR/physical/NAME.facts.json (DIR/facts/NAME.json is
 * then the VM's), else DIR/facts/NAME.json. Newly allocated. For P2V,
 * which always works on the physical server. */
char *ks_study_physical_facts(const char *dir, const char *name);

/* The same for its RRD history: DIR/physical/NAME.rrd once it is
 * switched (DIR/rrd/NAME.rrd is then the VM's), else DIR/rrd/NAME.rrd. For
 * the analyzer, whose plan stays the physical servers' plan. */
char *ks_study_physical_rrd(const char *dir, const char *name);

/* The study's writer lock, STUDY/.lock: one command at a time changes
 * the study's shared files (inventory.csv, known_hosts, plan.json, the
 * report, an import's series and facts). Taken by import, analyze, report
 * and demo for their whole run, and by the switch of a migrated server for
 * its rewrite of the inventory; the collector, which runs for weeks, does
 * not take it (its files are its own servers', replaced atomically).
 * Waits as long as it takes, saying once on stderr who holds it (pid and
 * command). Once it holds the lock, removes the temporaries that ended
 * runs left in the study (NAME.tmp.PID... whose PID is gone, and every
 * report.tmp.* directory, which only a holder makes), saying so. who: the
 * command, for the holder's line. The lock's descriptor (held until
 * ks_study_unlock or the process ends), or -1 with err. */
int ks_study_lock(const char *dir, const char *who, ks_error *err);
void ks_study_unlock(int fd);

/* The temporaries of ended runs under dir (see ks_study_lock), removed;
 * each removal is logged as a warning. The number removed. */
unsigned ks_study_remove_stale(const char *dir);

/* DIR/sub/NAME.ext, newly allocated (e.g. "rrd", "web01", "rrd"). */
char *ks_study_server_file(const ks_study *s, const char *sub, const char *name, const char *ext);

#endif
