/* mig_night.h: the parts of the night runner that decide without doing
 * anything (estimates, the window, the order of steps), internal to the
 * migrate component and its tests. */
#ifndef MIG_NIGHT_H
#define MIG_NIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ks_plan.h"

/* What is known of one server's copy before its cutover (p2v status). */
typedef struct mig_basis {
    bool copied;          /* every chunk of every disk on the target */
    double percent;       /* of the chunks on the target, 0..100 */
    double copy_s;        /* the first complete copy, seconds; < 0 not known */
    double sync_s;        /* the last sync (delta), seconds; < 0 none */
    double sync_changed;  /* bytes that sync found changed; < 0 none */
    double disk_used_gib; /* the plan's, NAN when not known */
} mig_basis;

/* What this night measured so far, summed over the servers that passed
 * each step (n* of them). */
typedef struct mig_rates {
    double stop_s;
    size_t nstop;
    double delta_s, delta_basis_s; /* final deltas, and what their basis said */
    size_t ndelta;
    double convert_s;
    size_t nconvert;
    double start_s; /* define, start, boot and validation */
    size_t nstart;
} mig_rates;

typedef struct mig_estimate {
    double stop_s, delta_s, delta_basis_s, convert_s, start_s, total_s;
    char basis[768]; /* how, in words */
} mig_estimate;

/* Estimate a server's cutover: stopping its services, the final delta
 * (its last measured sync, else its full copy's time, else its disk over
 * the plan's bandwidth; scaled by how this night's final deltas compared
 * with their own measured syncs), the conversion and the start with
 * validation (this night's averages once measured, else the plan's
 * minutes). Pure. */
void mig_night_estimate(const mig_basis *b, const mig_rates *r, const ks_plan_migration *pol,
                        mig_estimate *out);

/* secs in words: "12 min" from 90 s on, else "40 s". */
void mig_duration(char *buf, size_t n, double secs);

/* Does a server estimated at est_s seconds, started at now, end by until? */
bool mig_night_fits(time_t now, double est_s, time_t until);

/* The steps of a cutover, in order. */
typedef enum mig_step {
    MIG_STEP_STOP = 0, /* stop the named services on the source */
    MIG_STEP_DELTA,    /* the final delta (or the copy, when none was made) */
    MIG_STEP_POWEROFF, /* --shutdown-source: power the source off */
    MIG_STEP_CONVERT,
    MIG_STEP_DEFINE, /* define and start on the target host */
    MIG_STEP_VALIDATE,
    MIG_STEP_COUNT
} mig_step;

const char *mig_step_name(mig_step s);

/* Where a server's cutover goes on after an earlier attempt that ended in
 * the middle (the runner killed): done[s] says which steps completed,
 * started[s] which began. The first step to run: a conversion that began
 * and did not end may have written the images, so the final delta runs
 * again first (it brings back what the conversion changed) unless the
 * source is powered off; a define or a validation that was cut runs again
 * from define. Pure. */
mig_step mig_night_resume_step(const bool done[MIG_STEP_COUNT], const bool started[MIG_STEP_COUNT],
                               bool source_off);

#endif
