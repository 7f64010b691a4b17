/* mig_estimate.c: how long a server's cutover will take, from what its
 * copy measured and what this night measured so far; the window; where an
 * interrupted cutover goes on (see mig_night.h). Pure functions. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mig_night.h"

static const char *const step_names[MIG_STEP_COUNT] = {"stop_services", "final_delta", "power_off",
                                                       "convert",       "define",      "validate"};

const char *mig_step_name(mig_step s)
{
    return s < MIG_STEP_COUNT ? step_names[s] : "?";
}

void mig_duration(char *buf, size_t n, double s)
{
    if (s >= 90)
        snprintf(buf, n, "%.0f min", s / 60);
    else
        snprintf(buf, n, "%.0f s", s);
}

void mig_night_estimate(const mig_basis *b, const mig_rates *r, const ks_plan_migration *pol,
                        mig_estimate *out)
{
    memset(out, 0, sizeof *out);
    char d1[32], d2[32], d3[32], d4[32];
    const char *delta_how;
    char delta_buf[256];

    /* how this night's final deltas compared with their own measured
     * syncs: the same disks, read under tonight's load */
    double factor = 1.0;
    if (r->ndelta && r->delta_basis_s > 0)
        factor = fmax(0.25, r->delta_s / r->delta_basis_s);

    double bw = pol->bandwidth_mbps > 0 ? pol->bandwidth_mbps * 1e6 / 8 : 125e6; /* bytes/s */
    if (b->copied && b->sync_s >= 0) {
        out->delta_basis_s = b->sync_s;
        snprintf(delta_buf, sizeof delta_buf,
                 "its last sync took %.0f s and found %.0f MiB changed", b->sync_s,
                 fmax(b->sync_changed, 0) / 1048576.0);
        delta_how = delta_buf;
    } else if (b->copied && b->copy_s >= 0) {
        /* a first sync examines every chunk, as the copy did */
        out->delta_basis_s = b->copy_s;
        snprintf(delta_buf, sizeof delta_buf,
                 "no sync measured: its full copy's %.0f s (a sync examines every chunk)",
                 b->copy_s);
        delta_how = delta_buf;
    } else {
        double gib = isnan(b->disk_used_gib) ? pol->default_disk_gib : b->disk_used_gib;
        double left = 1.0 - fmin(fmax(b->percent, 0), 100) / 100.0;
        out->delta_basis_s = gib * left * 1073741824.0 / bw;
        snprintf(delta_buf, sizeof delta_buf,
                 "not copied yet (%.0f %% done): %.1f GiB at the plan's %.0f Mbit/s",
                 fmin(fmax(b->percent, 0), 100), gib * left, pol->bandwidth_mbps);
        delta_how = delta_buf;
    }
    out->delta_s = out->delta_basis_s * factor;
    out->stop_s = r->nstop ? r->stop_s / (double)r->nstop : 30;
    out->convert_s =
        r->nconvert ? r->convert_s / (double)r->nconvert : pol->conversion_minutes * 60;
    out->start_s = r->nstart ? r->start_s / (double)r->nstart : pol->validation_minutes * 60;
    out->total_s = out->stop_s + out->delta_s + out->convert_s + out->start_s;

    mig_duration(d1, sizeof d1, out->delta_s);
    mig_duration(d2, sizeof d2, out->convert_s);
    mig_duration(d3, sizeof d3, out->start_s);
    mig_duration(d4, sizeof d4, out->total_s);
    char fac[96] = "";
    if (r->ndelta)
        snprintf(fac, sizeof fac, " x %.2f (tonight's %zu final delta%s against their syncs)",
                 factor, r->ndelta, r->ndelta == 1 ? "" : "s");
    char conv[96], start[96];
    if (r->nconvert)
        snprintf(conv, sizeof conv, "the mean of tonight's %zu", r->nconvert);
    else
        snprintf(conv, sizeof conv, "the plan's");
    if (r->nstart)
        snprintf(start, sizeof start, "the mean of tonight's %zu", r->nstart);
    else
        snprintf(start, sizeof start, "the plan's validation minutes");
    snprintf(out->basis, sizeof out->basis,
             "%s: final delta %s (%s%s), conversion %s (%s), define, boot and validation %s (%s)",
             d4, d1, delta_how, fac, d2, conv, d3, start);
}

bool mig_night_fits(time_t now, double est_s, time_t until)
{
    return (double)now + est_s <= (double)until;
}

mig_step mig_night_resume_step(const bool done[MIG_STEP_COUNT], const bool started[MIG_STEP_COUNT],
                               bool source_off)
{
    mig_step s = MIG_STEP_STOP;
    while (s < MIG_STEP_COUNT && done[s])
        s++;
    if (s == MIG_STEP_CONVERT && started[MIG_STEP_CONVERT] && !source_off)
        return MIG_STEP_DELTA;
    return s;
}
