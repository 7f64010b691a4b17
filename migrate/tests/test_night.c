/* Unit tests of the night runner's decisions (mig_night.h): the estimate
 * of a cutover from what its copy measured and what the night measured,
 * the window, and where an interrupted cutover goes on. */
#include <math.h>
#include <string.h>

#include "ks_test.h"
#include "mig_night.h"

static ks_plan_migration policy(void)
{
    ks_plan_migration p = {0};
    p.bandwidth_mbps = 1000; /* 125 MB/s */
    p.conversion_minutes = 30;
    p.validation_minutes = 20;
    p.default_disk_gib = 100;
    p.max_parallel = 2;
    return p;
}

static mig_basis basis_none(void)
{
    mig_basis b = {0};
    b.copy_s = b.sync_s = b.sync_changed = -1;
    b.disk_used_gib = NAN;
    return b;
}

/* Nothing measured tonight, a synced copy: the last sync, the plan's
 * conversion and validation minutes, 30 s to stop services. */
KS_TEST(estimate_from_sync_and_plan)
{
    ks_plan_migration p = policy();
    mig_basis b = basis_none();
    b.copied = true;
    b.percent = 100;
    b.copy_s = 3600;
    b.sync_s = 240;
    b.sync_changed = 300 * 1048576.0;
    mig_rates r = {0};
    mig_estimate e;
    mig_night_estimate(&b, &r, &p, &e);
    KS_CHECK_NEAR(e.delta_s, 240, 1e-9);
    KS_CHECK_NEAR(e.delta_basis_s, 240, 1e-9);
    KS_CHECK_NEAR(e.convert_s, 1800, 1e-9);
    KS_CHECK_NEAR(e.start_s, 1200, 1e-9);
    KS_CHECK_NEAR(e.stop_s, 30, 1e-9);
    KS_CHECK_NEAR(e.total_s, 30 + 240 + 1800 + 1200, 1e-9);
    KS_CHECK(strstr(e.basis, "its last sync took 240 s and found 300 MiB changed") != NULL);
    KS_CHECK(strstr(e.basis, "the plan's") != NULL);
}

/* Tonight's measurements replace the plan's: final deltas that took twice
 * their syncs double this server's; conversion and start are tonight's
 * means. */
KS_TEST(estimate_scaled_by_tonight)
{
    ks_plan_migration p = policy();
    mig_basis b = basis_none();
    b.copied = true;
    b.percent = 100;
    b.sync_s = 100;
    b.sync_changed = 0;
    mig_rates r = {0};
    r.delta_s = 600; /* two servers: 600 s for what their syncs did in 300 s */
    r.delta_basis_s = 300;
    r.ndelta = 2;
    r.convert_s = 400;
    r.nconvert = 2;
    r.start_s = 90;
    r.nstart = 1;
    r.stop_s = 10;
    r.nstop = 2;
    mig_estimate e;
    mig_night_estimate(&b, &r, &p, &e);
    KS_CHECK_NEAR(e.delta_s, 200, 1e-9);
    KS_CHECK_NEAR(e.convert_s, 200, 1e-9);
    KS_CHECK_NEAR(e.start_s, 90, 1e-9);
    KS_CHECK_NEAR(e.stop_s, 5, 1e-9);
    KS_CHECK_NEAR(e.total_s, 495, 1e-9);
    KS_CHECK(strstr(e.basis, "x 2.00 (tonight's 2 final deltas against their syncs)") != NULL);
    KS_CHECK(strstr(e.basis, "the mean of tonight's 2") != NULL);
}

/* A night much faster than the syncs does not shrink the estimate below a
 * quarter (one lucky server is no rate). */
KS_TEST(estimate_factor_floor)
{
    ks_plan_migration p = policy();
    mig_basis b = basis_none();
    b.copied = true;
    b.sync_s = 400;
    mig_rates r = {0};
    r.delta_s = 1;
    r.delta_basis_s = 1000;
    r.ndelta = 1;
    mig_estimate e;
    mig_night_estimate(&b, &r, &p, &e);
    KS_CHECK_NEAR(e.delta_s, 100, 1e-9);
}

/* Copied but never synced: its full copy's time bounds the delta (a sync
 * examines every chunk). Not copied: what is left at the plan's bandwidth,
 * from the plan's disk used, else the default disk. */
KS_TEST(estimate_without_sync)
{
    ks_plan_migration p = policy();
    mig_rates r = {0};
    mig_estimate e;
    mig_basis b = basis_none();
    b.copied = true;
    b.copy_s = 900;
    mig_night_estimate(&b, &r, &p, &e);
    KS_CHECK_NEAR(e.delta_s, 900, 1e-9);
    KS_CHECK(strstr(e.basis, "no sync measured") != NULL);

    b = basis_none();
    b.percent = 50;
    b.disk_used_gib = 250; /* 125 GiB left at 125 MB/s */
    mig_night_estimate(&b, &r, &p, &e);
    KS_CHECK_NEAR(e.delta_s, 125.0 * 1073741824.0 / 125e6, 1e-6);
    KS_CHECK(strstr(e.basis, "not copied yet (50 % done)") != NULL);

    b = basis_none(); /* nothing known: the default 100 GiB */
    mig_night_estimate(&b, &r, &p, &e);
    KS_CHECK_NEAR(e.delta_s, 100.0 * 1073741824.0 / 125e6, 1e-6);
}

KS_TEST(window)
{
    KS_CHECK(mig_night_fits(1000, 500, 1500));
    KS_CHECK(!mig_night_fits(1000, 500.5, 1500));
    KS_CHECK(!mig_night_fits(2000, 0, 1500));
}

/* Where an interrupted cutover goes on. */
KS_TEST(resume_steps)
{
    bool done[MIG_STEP_COUNT] = {0}, started[MIG_STEP_COUNT] = {0};
    KS_CHECK(mig_night_resume_step(done, started, false) == MIG_STEP_STOP);
    /* killed while stopping: stop again (the list of what ran is kept) */
    started[MIG_STEP_STOP] = true;
    KS_CHECK(mig_night_resume_step(done, started, false) == MIG_STEP_STOP);
    /* killed during the final delta: the delta again */
    done[MIG_STEP_STOP] = started[MIG_STEP_DELTA] = true;
    KS_CHECK(mig_night_resume_step(done, started, false) == MIG_STEP_DELTA);
    /* services mode: no power-off step */
    done[MIG_STEP_DELTA] = done[MIG_STEP_POWEROFF] = true;
    KS_CHECK(mig_night_resume_step(done, started, false) == MIG_STEP_CONVERT);
    /* a conversion cut in the middle may have written the images: the
     * final delta first brings back what it changed ... */
    started[MIG_STEP_CONVERT] = true;
    KS_CHECK(mig_night_resume_step(done, started, false) == MIG_STEP_DELTA);
    /* ... unless the source is off: convert again from what the images hold */
    KS_CHECK(mig_night_resume_step(done, started, true) == MIG_STEP_CONVERT);
    /* a define or a validation cut: from there */
    done[MIG_STEP_CONVERT] = started[MIG_STEP_DEFINE] = true;
    KS_CHECK(mig_night_resume_step(done, started, false) == MIG_STEP_DEFINE);
    done[MIG_STEP_DEFINE] = started[MIG_STEP_VALIDATE] = true;
    KS_CHECK(mig_night_resume_step(done, started, false) == MIG_STEP_VALIDATE);
    done[MIG_STEP_VALIDATE] = true;
    KS_CHECK(mig_night_resume_step(done, started, false) == MIG_STEP_COUNT);
    KS_CHECK_STR(mig_step_name(MIG_STEP_DELTA), "final_delta");
    KS_CHECK_STR(mig_step_name(MIG_STEP_COUNT), "?");
}

int main(void)
{
    KS_RUN(estimate_from_sync_and_plan);
    KS_RUN(estimate_scaled_by_tonight);
    KS_RUN(estimate_factor_floor);
    KS_RUN(estimate_without_sync);
    KS_RUN(window);
    KS_RUN(resume_steps);
    return ks_test_summary();
}
