/* ana_nights.h: the analyzer's migration nights (internal, not a public
 * API): study.ini [migration] and [depends NAME], the estimated duration of
 * each P2V conversion, and a deterministic greedy schedule of the
 * conversions over nightly windows. Pure functions on a small input struct,
 * so that they are unit-tested without RRD files (tests/test_nights.c).
 *
 * Times are Unix seconds and every wall-clock text is UTC: the window
 * 20:00-06:00 means 20:00 UTC. See README "Analyzing a study".
 * Not thread-safe.
 */
#ifndef ANA_NIGHTS_H
#define ANA_NIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "ks_buf.h"
#include "ks_error.h"
#include "ks_ini.h"

/* study.ini [migration], with the defaults of README "Analyzing a study". */
typedef struct ana_night_policy {
    time_t start_date;       /* UTC midnight of the first day a window may start */
    int window_start;        /* minutes after midnight, 0..1439 */
    int window_end;          /* the same; at or before window_start: the next morning */
    unsigned days;           /* bit d set: a window starts on weekday d (0 Sunday .. 6) */
    unsigned max_parallel;   /* conversions at once, >= 1 */
    double bandwidth_mbps;   /* copy rate of one conversion, Mbit/s */
    double conversion_min;   /* per server, after the copy */
    double validation_min;   /* per server, after the conversion */
    double default_disk_gib; /* disk used when the facts give none */
    bool deps_last;          /* a needed server moves after (true) or before its dependents */
} ana_night_policy;

/* Read [migration]; when 'start_date' is absent, start_date is the first
 * day of 'days' after the day of default_start (normally the last data
 * day). 0, or -1 with err (KS_E_CONFIG, file:line). */
int ana_night_policy_parse(const ks_ini *ini, time_t default_start, ana_night_policy *p,
                           ks_error *err);

/* One "server needs need" edge; indices into the caller's list. */
typedef struct ana_night_dep {
    size_t server, need;
} ana_night_dep;

/* Read every [depends NAME] section ('servers = a, b' need 'needs = c, d')
 * against names[0..n): *deps (caller frees) and *ndeps. 0, or -1 with err
 * (KS_E_CONFIG): a missing key, a name not in names, or a cycle (naming its
 * servers). */
int ana_depends_parse(const ks_ini *ini, const char *const *names, size_t n, ana_night_dep **deps,
                      size_t *ndeps, ks_error *err);

/* What the scheduler knows of one server. */
typedef struct ana_night_item {
    const char *name; /* borrowed */
    double disk_gib;  /* disk used; NAN: unknown (the policy's default is used) */
    double cpu_share; /* CPU demand at p95 over its host's capacity, 0..1 */
    int anti_group;   /* [anti-affinity] group, -1: none */
} ana_night_item;

typedef struct ana_nights_in {
    const ana_night_policy *pol;
    const ana_night_item *items;
    size_t nitems;
    const ana_night_dep *deps; /* indices into items */
    size_t ndeps;
} ana_nights_in;

/* Where one server goes, and why. */
typedef struct ana_night_slot {
    size_t night;        /* index into ana_schedule.nights (night number - 1) */
    unsigned lane;       /* 1..max_parallel */
    time_t start, end;   /* end may pass the window only when own_night */
    long minutes;        /* estimated duration */
    double disk_gib;     /* the disk used the estimate is based on */
    bool disk_default;   /* disk_gib is the policy's default_disk_gib */
    double risk;         /* disk used / the largest + cpu_share */
    bool risky;          /* among the riskiest: kept off night 1 */
    bool own_night;      /* longer than a whole window */
    size_t order;        /* 0-based position in the scheduling order */
    size_t after;        /* the item whose end made it wait, or (size_t)-1 */
    size_t anti_skipped; /* earlier nights skipped for its anti-affinity group */
    size_t full_skipped; /* earlier nights skipped as too full */
} ana_night_slot;

typedef struct ana_night {
    time_t start, end; /* the window */
    size_t *items;     /* by start time, then lane */
    size_t nitems;
    long busy_minutes; /* sum of its servers' estimates */
    bool exclusive;    /* holds a server longer than a window */
    time_t *lane_end;  /* scheduler's state: per lane, the end of its last server */
} ana_night;

typedef struct ana_schedule {
    ana_night_slot *slot; /* per item */
    ana_night *nights;    /* every window from the first to the last used (some empty) */
    size_t nnights;
} ana_schedule;

/* Estimated minutes of one conversion of disk_gib (NAN: the default):
 * disk x 8192 / bandwidth / 60 + conversion + validation, rounded up. */
long ana_night_minutes(const ana_night_policy *p, double disk_gib);

/* Schedule in->items over the nights of in->pol: dependencies first
 * (topological; ties by risk, highest first, then item order), K lanes per
 * night, each server's start + estimate inside its window, anti-affinity
 * members on different nights, the riskiest decile (at least 1 server of 3
 * or more) never on night 1, a server longer than a window alone on its
 * night. Deterministic. 0 with *out (free with ana_schedule_free), or -1
 * with err (KS_E_CONFIG) for a dependency cycle, naming its servers. */
int ana_nights_plan(const ana_nights_in *in, ana_schedule *out, ks_error *err);
void ana_schedule_free(ana_schedule *s);

/* The nights with servers, as plan.json's "nights" (new reference). */
json_t *ana_nights_json(const ana_nights_in *in, const ana_schedule *s);
/* study.ini [migration] as used, for plan.json (new reference). */
json_t *ana_night_policy_json(const ana_night_policy *p);
/* A short table of the nights for the terminal, appended to b. */
void ana_nights_table(const ana_nights_in *in, const ana_schedule *s, ks_buf *b);
/* Which night item goes to and why, one line appended to b. */
void ana_nights_explain(const ana_nights_in *in, const ana_schedule *s, size_t item, ks_buf *b);

#endif
