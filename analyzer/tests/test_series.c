/* test_series.c: RRD files read into slots (ana_series.c), on files made
 * by the collector's own store code with a known history. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ana_rules.h"
#include "col_rrd.h"
#include "ks_mem.h"
#include "ks_test.h"

static char tmpdir[] = "/tmp/ks-test-series-XXXXXX";

/* A file with 130 days of 5-minute samples, constant 1000 MHz: the last
 * 95 days are in the 5-minute archive, the first 35 only in the 1-hour
 * ones. */
static char *make_history(time_t *end)
{
    char *path = ks_asprintf("%s/h.rrd", tmpdir);
    const time_t step = 300, days = 130;
    *end = time(NULL) / 3600 * 3600 - 3600;
    time_t start = *end - days * 86400;
    ks_error err;
    if (col_rrd_create(path, start, step, &err) < 0) {
        fprintf(stderr, "%s\n", err.message);
        exit(2);
    }
    size_t n = (size_t)(days * 86400 / step);
    col_sample *s = ks_calloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        s[i].t = start + (time_t)(i + 1) * step;
        for (int k = 0; k < COL_DS_COUNT; k++)
            s[i].v[k] = NAN;
        s[i].v[0] = 50;   /* cpu_pct */
        s[i].v[1] = 1000; /* cpu_mhz */
        s[i].v[2] = 4e9;  /* mem_used */
    }
    if (col_rrd_update_many(path, s, n, &err) < 0) {
        fprintf(stderr, "%s\n", err.message);
        exit(2);
    }
    free(s);
    return path;
}

/* Slots shorter than the 1-hour rows: each hourly row fills every slot it
 * covers, so complete data gives complete slots (before the fix, 3 of 4
 * quarter-hour slots of the oldest 35 days stayed unknown). */
KS_TEST(short_slots_over_hourly_rows)
{
    time_t end;
    KS_AUTOFREE char *path = make_history(&end);
    for (long slot = 900; slot <= 3600; slot *= 4) {
        ana_series s;
        ks_error err;
        KS_CHECK(ana_series_read(path, slot, 0, &s, &err) == 0);
        /* the first and last slots may be partial: look inside */
        size_t known = 0, inside = 0;
        for (size_t i = 2; i + 2 < s.nslots; i++) {
            inside++;
            known += !isnan(s.cpu_mhz[i]) && fabs(s.cpu_mhz[i] - 1000) < 1e-6;
        }
        KS_CHECK(inside > 130 * 86400 / (size_t)slot - 10);
        KS_CHECK(known == inside);
        if (known != inside)
            fprintf(stderr, "slot %ld: %zu of %zu slots known\n", slot, known, inside);
        ana_series_free(&s);
    }
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    KS_RUN(short_slots_over_hourly_rows);
    KS_AUTOFREE char *rm = ks_asprintf("rm -rf '%s'", tmpdir);
    if (system(rm) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return ks_test_summary();
}
