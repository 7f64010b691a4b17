/* ks_plan.h: the plan of a study (STUDY/plan.json), read back.
 *
 * 'kvmshift analyze' writes plan.json (analyzer/ana_plan.c). The steps that
 * come after it (P2V define, the migration-night runner, the validator) run
 * that plan as it is written and never rebuild one: this reader gives them
 * its contents as typed, read-only entries.
 *
 *   servers     every server of the inventory: eligibility and its reasons,
 *               right-sizing (vCPUs, memory), disk of the source
 *   scenarios   one per host model (and "mixed"): hosts and placements
 *   chosen      the scenario plan.json "recommended"; the migration nights
 *               are its servers', and each server's host and night are
 *               those of this scenario (plan.json records no approval of
 *               its own: the plan approved is the file as it stands)
 *   nights      the windows that hold conversions, servers in order, lanes
 *   migration   study.ini [migration] as the analyzer used it
 *
 * The file is checked strictly: every field the reader gives must be there
 * with its type ("plan.json: scenarios[0].placements[3].vcpus is not an
 * integer"), and the
 * entries must agree with each other (a placement names a known server and
 * host, a host's "vms" is the number of placements on it, every server the
 * chosen scenario places is in exactly one night, ...). Only format version
 * 1 is read. The statistics written for the report (percentiles, power,
 * cost) are not read. All times are UTC.
 *
 * Loading uses no global state (several plans may be loaded at once); a
 * loaded plan is never modified, so its functions may be called from
 * several threads at once. Every pointer it returns, strings included,
 * stays valid until ks_plan_free. The entries are named *_entry where a
 * lookup function has the short name (ks_plan_server, ks_plan_night).
 */
#ifndef KS_PLAN_H
#define KS_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ks_error.h"

typedef struct ks_plan ks_plan;
typedef struct ks_plan_server_entry ks_plan_server_entry;
typedef struct ks_plan_host ks_plan_host;
typedef struct ks_plan_night_entry ks_plan_night_entry;
typedef struct ks_plan_slot ks_plan_slot;

typedef enum ks_plan_status {
    KS_PLAN_ELIGIBLE = 0,
    KS_PLAN_CONDITIONAL,  /* may move; its reasons say what to check first */
    KS_PLAN_NOT_ELIGIBLE, /* stays physical: no sizing, no host, no night */
} ks_plan_status;

/* One server (plan.json "servers[]"). */
struct ks_plan_server_entry {
    const char *name; /* as in inventory.csv (a valid server name) */
    const char *role; /* "" when none */
    ks_plan_status status;
    const char *const *reasons; /* whole sentences, why not simply eligible */
    size_t nreasons;
    double confidence; /* share of the study's slots measured, 0..1; NAN: not given */
    /* Right-sizing on the chosen scenario's host model (on the first
     * declared model when there is no chosen scenario); 0 for a server that
     * is not eligible. memory_mib is a whole number of MiB. */
    unsigned vcpus;
    uint64_t memory_mib;
    /* With [policy] cpu_cap = percentile: the CPU time the VM may use at
     * most, in cores of its host in the chosen scenario (the plan packed
     * it so, and its domain gets this quota); NAN: no quota. */
    double cpu_quota_cores;
    /* The source's disks, summed: the size of its disks and the space used
     * in its file systems (facts); NAN when the facts give none. */
    double disk_size_gib, disk_used_gib;
    double memory_total_mib; /* installed memory; NAN: not known */
    /* In the chosen scenario. host NULL: not eligible, too busy for the
     * chosen host model (its reasons say so), or not placed (unplaced_why
     * says why); night and slot NULL exactly when host is NULL. */
    const ks_plan_host *host;
    const char *unplaced_why; /* NULL unless the chosen scenario could not place it */
    const ks_plan_night_entry *night;
    const ks_plan_slot *slot; /* its entry in night->slots */
};

/* A server on a host of a scenario, as the VM it becomes. */
typedef struct ks_plan_placement {
    const ks_plan_server_entry *server;
    const ks_plan_host *host;
    unsigned vcpus;      /* sized for this scenario's host model */
    uint64_t memory_mib; /* whole MiB */
} ks_plan_placement;

/* A server a scenario could not place, and why. */
typedef struct ks_plan_unplaced {
    const ks_plan_server_entry *server;
    const char *why;
} ks_plan_unplaced;

/* One host of a scenario. */
struct ks_plan_host {
    const char *name;  /* "r2x16-01"; unique in its scenario */
    const char *model; /* the [host-model NAME] of study.ini */
    bool existing;     /* an existing host ([host-model] existing), not a new one */
    bool spare;        /* the N+1 standby host: new, and no VM on it */
    double cpu_peak_percent, memory_percent; /* busiest slot's CPU, memory; NAN: not given */
    const ks_plan_placement *const *vms;     /* the placements on it, in plan.json's order */
    size_t nvms;
};

/* One packing scenario (plan.json "scenarios[]"). */
typedef struct ks_plan_scenario {
    const char *name;       /* a host model's name, or "mixed" */
    const char *host_model; /* the model new hosts are opened with */
    bool mixed;             /* new hosts may be turned into cheaper models */
    bool chosen;            /* plan.json's "recommended" */
    const ks_plan_host *hosts;
    size_t nhosts;
    const ks_plan_placement *placements; /* in plan.json's order */
    size_t nplacements;
    const ks_plan_unplaced *unplaced;
    size_t nunplaced;
} ks_plan_scenario;

/* One server's conversion in a night (plan.json "nights[].servers[]"). */
struct ks_plan_slot {
    const ks_plan_server_entry *server;
    unsigned lane;              /* 1 .. migration max_parallel */
    time_t start, end;          /* estimated; end may pass the window (see warning) */
    long estimated_minutes;     /* end - start */
    double risk;                /* the scheduler's ordering weight */
    const char *estimate_basis; /* how the estimate was made, one sentence */
    const char *warning;        /* NULL, or e.g. longer than the whole window */
};

/* One migration night (plan.json "nights[]"). */
struct ks_plan_night_entry {
    unsigned number;  /* 1 = the first window; windows without servers are not listed */
    const char *date; /* "2026-02-02", the day the window starts */
    time_t start, end;
    long busy_minutes;         /* sum of its servers' estimates */
    const ks_plan_slot *slots; /* by start time, then lane */
    size_t nslots;
};

/* study.ini [migration] as the analyzer used it (plan.json "migration"). */
typedef struct ks_plan_migration {
    time_t start_date;         /* 00:00 UTC of the first day a window may start */
    int window_start;          /* minutes after midnight UTC, 0..1439 */
    int window_end;            /* the same; earlier than window_start: the next morning */
    unsigned days;             /* bit d set: a window starts on weekday d (0 Sunday) */
    unsigned max_parallel;     /* conversions at once, >= 1 */
    double bandwidth_mbps;     /* copy rate of one conversion */
    double conversion_minutes; /* per server, after the copy */
    double validation_minutes; /* per server, after the conversion */
    double default_disk_gib;   /* disk assumed when the facts give none */
    bool dependencies_last;    /* a needed server moves after its dependents */
} ks_plan_migration;

/* Read the plan from text (len bytes, no NUL needed); filename names it in
 * messages. Returns a new plan (free with ks_plan_free), or NULL with err
 * filled (KS_E_PARSE): text that is not JSON (filename:line), a missing or
 * ill-typed field (filename and the JSON path), a format version other
 * than 1, or entries that contradict each other. */
ks_plan *ks_plan_parse(const char *text, size_t len, const char *filename, ks_error *err);

/* ks_plan_parse of the file at path (normally STUDY/plan.json); path names
 * it in messages. NULL with err filled: those of ks_plan_parse; KS_E_IO
 * when there is no such file (ENOENT; the message says to analyze the study
 * first) or it cannot be read. */
ks_plan *ks_plan_load(const char *path, ks_error *err);

/* Free the plan and every entry; ks_plan_free(NULL) does nothing. */
void ks_plan_free(ks_plan *plan);

/* The file name given to ks_plan_load or ks_plan_parse. */
const char *ks_plan_file(const ks_plan *plan);

/* The study period the plan was made from, [*start, *end). */
void ks_plan_period(const ks_plan *plan, time_t *start, time_t *end);

/* Servers, in plan.json's (the inventory's) order; _at is NULL past the end. */
size_t ks_plan_server_count(const ks_plan *plan);
const ks_plan_server_entry *ks_plan_server_at(const ks_plan *plan, size_t i);
/* The server of that name, or NULL when the plan has none. */
const ks_plan_server_entry *ks_plan_server(const ks_plan *plan, const char *name);

/* Scenarios, in plan.json's order; _at is NULL past the end. */
size_t ks_plan_scenario_count(const ks_plan *plan);
const ks_plan_scenario *ks_plan_scenario_at(const ks_plan *plan, size_t i);
/* The chosen (recommended) scenario, or NULL when the analyzer recommended
 * none (no scenario places any server): then no server has a host and
 * there are no nights. */
const ks_plan_scenario *ks_plan_chosen(const ks_plan *plan);
/* The host of that name in scenario sc, or NULL. */
const ks_plan_host *ks_plan_scenario_host(const ks_plan_scenario *sc, const char *name);

/* Nights with servers, by number; _at is NULL past the end. */
size_t ks_plan_night_count(const ks_plan *plan);
const ks_plan_night_entry *ks_plan_night_at(const ks_plan *plan, size_t i);
/* The night of that number (plan.json "night"), or NULL when no night has
 * it (numbers of windows without servers are skipped). */
const ks_plan_night_entry *ks_plan_night(const ks_plan *plan, unsigned number);

/* study.ini [migration] as the analyzer used it; never NULL. */
const ks_plan_migration *ks_plan_migration_policy(const ks_plan *plan);

/* plan.json's name of a status: "eligible", "conditional", "not_eligible". */
const char *ks_plan_status_name(ks_plan_status s);

#endif
