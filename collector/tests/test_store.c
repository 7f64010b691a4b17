/* test_store.c: the RRD store (col_rrd.c) and the status read back from it
 * (col_status.c), on files in a temporary study. */
#include <math.h>
#include <rrd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "col_rrd.h"
#include "col_state.h"
#include "collector.h"
#include "ks_fs.h"
#include "ks_inventory.h"
#include "ks_mem.h"
#include "ks_study.h"
#include "ks_test.h"

static char tmpdir[] = "/tmp/ks-test-store-XXXXXX";

static char *study_dir(const char *name)
{
    char *dir = ks_asprintf("%s/%s", tmpdir, name);
    ks_error err;
    if (ks_study_init(dir, &err) < 0) {
        fprintf(stderr, "%s\n", err.message);
        exit(2);
    }
    return dir;
}

/* The last values librrd has for a file, as text. */
static void last_values(const char *path, time_t *t, char out[COL_DS_COUNT][32])
{
    unsigned long n = 0;
    char **names = NULL, **vals = NULL;
    if (rrd_lastupdate_r(path, t, &n, &names, &vals) != 0)
        n = 0;
    for (unsigned long i = 0; i < n; i++) {
        if (i < COL_DS_COUNT)
            snprintf(out[i], 32, "%s", vals[i]);
        rrd_freemem(names[i]);
        rrd_freemem(vals[i]);
    }
    rrd_freemem(names);
    rrd_freemem(vals);
}

KS_TEST(test_create_and_update)
{
    KS_AUTOFREE char *dir = study_dir("a");
    KS_AUTOFREE char *rrd_dir = ks_path_join(dir, "rrd");
    ks_error err;
    col_store *s = col_store_open(rrd_dir, NULL, &err);
    KS_CHECK(s != NULL);
    KS_CHECK(col_store_prepare(s, "web01", 60, &err) == 0);
    KS_AUTOFREE char *path = col_store_path(s, "web01");
    KS_CHECK(ks_path_exists(path));
    /* no temporary file left behind */
    KS_AUTOFREE char *tmp = ks_asprintf("%s.tmp.%ld", path, (long)getpid());
    KS_CHECK(!ks_path_exists(tmp));

    time_t now = time(NULL);
    double v[COL_DS_COUNT] = {12.5, 1000, 2e9, 8e9, NAN, 1, 2, 3, 4, 5, 0.5};
    KS_CHECK(col_store_update(s, "web01", now, v, &err) == 0);
    /* the same second again: skipped, not an error */
    double w[COL_DS_COUNT] = {99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};
    KS_CHECK(col_store_update(s, "web01", now, w, &err) == 0);
    col_store_free(s);

    time_t t = 0;
    char vals[COL_DS_COUNT][32] = {{0}};
    last_values(path, &t, vals);
    KS_CHECK(t == now);
    KS_CHECK_NEAR(atof(vals[0]), 12.5, 1e-9);
    KS_CHECK_NEAR(atof(vals[2]), 2e9, 1);
    KS_CHECK_STR(vals[4], "U"); /* NAN is stored as unknown */
    KS_CHECK_NEAR(atof(vals[9]), 5, 1e-9);
    KS_CHECK_NEAR(atof(vals[10]), 0.5, 1e-9); /* cpu_steal_pct */

    /* reopening checks the existing file instead of recreating it */
    s = col_store_open(rrd_dir, NULL, &err);
    KS_CHECK(col_store_prepare(s, "web01", 60, &err) == 0);
    KS_CHECK(col_store_update(s, "web01", now, w, &err) == 0); /* not after last: skipped */
    col_store_free(s);
    last_values(path, &t, vals);
    KS_CHECK_NEAR(atof(vals[0]), 12.5, 1e-9);
}

/* A file made before cpu_steal_pct (the ten other sources, in order) is
 * still written, without it: a study's history is never lost to an
 * upgrade. */
KS_TEST(test_file_without_steal_written)
{
    KS_AUTOFREE char *dir = study_dir("old");
    KS_AUTOFREE char *rrd_dir = ks_path_join(dir, "rrd");
    KS_AUTOFREE char *path = ks_path_join(rrd_dir, "old01.rrd");
    char ds[COL_DS_OLD_COUNT][64];
    const char *argv[COL_DS_OLD_COUNT + 1];
    for (int i = 0; i < COL_DS_OLD_COUNT; i++) {
        snprintf(ds[i], sizeof ds[i], "DS:%s:GAUGE:120:0:U", col_ds_names[i]);
        argv[i] = ds[i];
    }
    argv[COL_DS_OLD_COUNT] = "RRA:AVERAGE:0.5:1:100";
    time_t now = time(NULL);
    KS_CHECK(rrd_create_r2(path, 60, now - 100, 0, NULL, NULL, COL_DS_OLD_COUNT + 1, argv) == 0);
    ks_error err;
    col_store *s = col_store_open(rrd_dir, NULL, &err);
    KS_CHECK(col_store_prepare(s, "old01", 60, &err) == 0);
    double v[COL_DS_COUNT] = {40, 1000, 2e9, 8e9, 1, 2, 3, 4, 5, 6, 7};
    KS_CHECK(col_store_update(s, "old01", now, v, &err) == 0);
    col_store_free(s);
    time_t t = 0;
    char vals[COL_DS_COUNT][32] = {{0}};
    last_values(path, &t, vals);
    KS_CHECK(t == now);
    KS_CHECK_NEAR(atof(vals[0]), 40, 1e-9);
    KS_CHECK_NEAR(atof(vals[9]), 6, 1e-9);
    KS_CHECK_STR(vals[10], ""); /* no such source */
}

KS_TEST(test_foreign_rrd_refused)
{
    KS_AUTOFREE char *dir = study_dir("b");
    KS_AUTOFREE char *rrd_dir = ks_path_join(dir, "rrd");
    KS_AUTOFREE char *path = ks_path_join(rrd_dir, "other.rrd");
    const char *argv[] = {"DS:x:GAUGE:120:0:U", "RRA:AVERAGE:0.5:1:10"};
    KS_CHECK(rrd_create_r2(path, 60, time(NULL) - 10, 0, NULL, NULL, 2, argv) == 0);
    struct stat before, after;
    stat(path, &before);
    ks_error err;
    ks_error_clear(&err);
    col_store *s = col_store_open(rrd_dir, NULL, &err);
    KS_CHECK(col_store_prepare(s, "other", 60, &err) < 0);
    KS_CHECK(err.code == KS_E_RRD);
    KS_CHECK(strstr(err.message, "other.rrd") && strstr(err.message, "not made by"));
    col_store_free(s);
    stat(path, &after);
    KS_CHECK(before.st_size == after.st_size && before.st_mtime == after.st_mtime);
}

KS_TEST(test_missing_rrdcached)
{
    KS_AUTOFREE char *dir = study_dir("c");
    KS_AUTOFREE char *rrd_dir = ks_path_join(dir, "rrd");
    KS_AUTOFREE char *addr = ks_asprintf("unix:%s/no.sock", tmpdir);
    ks_error err;
    ks_error_clear(&err);
    KS_CHECK(col_store_open(rrd_dir, addr, &err) == NULL);
    KS_CHECK(err.code == KS_E_RRD && strstr(err.message, "rrdcached") &&
             strstr(err.message, "no.sock"));
}

/* Files made by the store's creator thread: ready ones can be updated, a
 * name whose path cannot be an RRD fails alone, with a message naming it. */
KS_TEST(test_prepare_async)
{
    KS_AUTOFREE char *dir = study_dir("e");
    KS_AUTOFREE char *rrd_dir = ks_path_join(dir, "rrd");
    KS_AUTOFREE char *bad = ks_path_join(rrd_dir, "bad.rrd");
    KS_CHECK(mkdir(bad, 0755) == 0); /* a directory where the file should be */
    ks_error err;
    col_store *s = col_store_open(rrd_dir, NULL, &err);
    static const char *names[] = {"a1", "bad", "a2", "a3"};
    for (size_t i = 0; i < 4; i++)
        col_store_prepare_async(s, names[i], 60);
    int state[4] = {0};
    for (int tries = 0; tries < 1000; tries++) {
        int pending = 0;
        for (size_t i = 0; i < 4; i++) {
            ks_error_clear(&err);
            state[i] = col_store_state(s, names[i], &err);
            pending += state[i] == 0;
            if (state[i] < 0)
                KS_CHECK(strstr(err.message, "bad.rrd") != NULL);
        }
        if (!pending)
            break;
        usleep(10000);
    }
    KS_CHECK(state[0] == 1 && state[1] == -1 && state[2] == 1 && state[3] == 1);
    double v[COL_DS_COUNT] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    KS_CHECK(col_store_update(s, "a2", time(NULL) + 1, v, &err) == 0);
    KS_CHECK(col_store_update(s, "bad", time(NULL) + 1, v, &err) < 0);
    /* asking again for a ready file changes nothing */
    col_store_prepare_async(s, "a1", 60);
    KS_CHECK(col_store_state(s, "a1", &err) == 1);
    col_store_free(s);
    KS_AUTOFREE char *a2 = ks_path_join(rrd_dir, "a2.rrd");
    time_t t = 0;
    char vals[COL_DS_COUNT][32] = {{0}};
    last_values(a2, &t, vals);
    KS_CHECK_NEAR(atof(vals[9]), 10, 1e-9);
    /* no temporary file left behind */
    KS_AUTOFREE char *cmd = ks_asprintf("ls '%s' | grep -q tmp", rrd_dir);
    KS_CHECK(system(cmd) != 0);
}

/* An RRD with samples every minute for an hour, two holes: 5 and 10
 * minutes. status must count 60 - 15 samples, 2 gaps, 15 missing rows. */
KS_TEST(test_status_gaps)
{
    KS_AUTOFREE char *dir = study_dir("d");
    ks_error err;
    ks_study *study = ks_study_open(dir, &err);
    KS_CHECK(study != NULL);
    KS_AUTOFREE char *rrd_dir = ks_path_join(dir, "rrd");
    col_store *s = col_store_open(rrd_dir, NULL, &err);
    KS_AUTOFREE char *path = col_store_path(s, "db01");
    /* a file in kvmshift's layout that starts an hour ago, fed at past
     * times */
    time_t end = time(NULL) / 60 * 60 - 120;
    time_t start = end - 3600;
    KS_CHECK(col_rrd_create(path, start, 60, &err) == 0);
    KS_CHECK(col_store_prepare(s, "db01", 60, &err) == 0);
    double v[COL_DS_COUNT] = {50, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    for (time_t t = start + 60; t <= end; t += 60) {
        long minute = (long)(t - start) / 60; /* 1..60 */
        if ((minute > 10 && minute <= 15) || (minute > 30 && minute <= 40))
            continue;
        KS_CHECK(col_store_update(s, "db01", t, v, &err) == 0);
    }
    col_store_free(s);

    const char *inv_text = "name,address,method\ndb01,192.0.2.1,ssh\nnew01,192.0.2.2,ssh\n";
    ks_inventory *inv = ks_inventory_parse(inv_text, strlen(inv_text), "inventory.csv", &err);
    ks_error e;
    ks_error_set(&e, KS_E_TIMEOUT, 0, "'new01' did not answer in time");
    col_state_write(dir, "new01", &e, 1700000000);
    col_status *st = col_status_read(study, inv, &err);
    KS_CHECK(st != NULL);
    KS_CHECK_STR(st[0].name, "db01");
    /* rows 11-15 and 31-40 are the gaps; a gap longer than the heartbeat
     * also makes the first row after it unknown */
    KS_CHECK(st[0].gaps == 2);
    KS_CHECK(st[0].samples + st[0].missing == 60);
    KS_CHECK(st[0].missing >= 15 && st[0].missing <= 17);
    KS_CHECK(st[0].last_sample == end);
    KS_CHECK(st[0].last_error == NULL);
    KS_CHECK(!st[0].has_facts);
    KS_CHECK_STR(st[1].name, "new01");
    KS_CHECK(st[1].samples == 0 && st[1].last_sample == 0);
    KS_CHECK_STR(st[1].last_error, "'new01' did not answer in time");
    KS_CHECK_STR(st[1].last_error_code, "timeout");
    KS_CHECK(st[1].last_error_time == 1700000000);

    /* a success afterwards clears the error but keeps its time */
    col_state_write(dir, "new01", NULL, 1700000100);
    col_status_free(st, inv->count);
    st = col_status_read(study, inv, &err);
    KS_CHECK(st[1].last_error == NULL && st[1].last_error_time == 1700000000);
    col_status_free(st, inv->count);
    ks_inventory_free(inv);
    ks_study_free(study);
}

/* The archives of a file as "CF:pdp_per_row:rows" joined by spaces, and
 * its step. */
static char *archives_of(const char *path, unsigned long *step)
{
    char cf[16][16] = {{0}};
    unsigned long ppr[16] = {0}, rows[16] = {0};
    unsigned n = 0;
    *step = 0;
    rrd_info_t *info = rrd_info_r(path);
    for (rrd_info_t *i = info; i; i = i->next) {
        unsigned k;
        char key[32];
        if (strcmp(i->key, "step") == 0)
            *step = i->value.u_cnt;
        if (sscanf(i->key, "rra[%u].%31s", &k, key) != 2 || k >= 16)
            continue;
        n = k + 1 > n ? k + 1 : n;
        if (strcmp(key, "cf") == 0)
            snprintf(cf[k], sizeof cf[k], "%s", i->value.u_str);
        else if (strcmp(key, "pdp_per_row") == 0)
            ppr[k] = i->value.u_cnt;
        else if (strcmp(key, "rows") == 0)
            rows[k] = i->value.u_cnt;
    }
    rrd_info_free(info);
    char *out = ks_strdup("");
    for (unsigned k = 0; k < n; k++) {
        char *next = ks_asprintf("%s%s%s:%lu:%lu", out, k ? " " : "", cf[k], ppr[k], rows[k]);
        free(out);
        out = next;
    }
    return out;
}

/* Imported history at its own step: as long as the data, an hourly
 * archive only beyond 95 days of fine rows, the collector's layout below
 * 5 minutes. */
KS_TEST(test_import_layouts)
{
    ks_error err;
    const time_t t0 = 1767225600; /* 2026-01-01 */
    static const struct {
        long step, days;
        unsigned long rrd_step;
        const char *archives;
    } cases[] = {
        /* 30 days of hours: 719 steps from the first row to the last, plus 3 */
        {3600, 30, 3600, "AVERAGE:1:723 MAX:1:723"},
        {300, 30, 300, "AVERAGE:1:8643 MAX:1:8643"},
        /* 130 days of 5 minutes: 95 days of them, 130 of hours */
        {300, 130, 300, "AVERAGE:1:27361 AVERAGE:12:3121 MAX:1:27361 MAX:12:3121"},
        /* a step that is no divisor of an hour: its own rows, up to 400 days */
        {5400, 500, 5400, "AVERAGE:1:6401 MAX:1:6401"},
        {60, 2, 60,
         "AVERAGE:1:11520 AVERAGE:5:27360 AVERAGE:60:9600 MAX:1:11520 MAX:5:27360 MAX:60:9600"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        KS_AUTOFREE char *path = ks_asprintf("%s/import-%zu.rrd", tmpdir, c);
        time_t last = t0 + cases[c].days * 86400 - cases[c].step;
        KS_CHECK(col_rrd_create_import(path, t0, last, cases[c].step, &err) == 0);
        unsigned long step;
        KS_AUTOFREE char *got = archives_of(path, &step);
        KS_CHECK(step == cases[c].rrd_step);
        KS_CHECK_STR(got, cases[c].archives);
        /* the first sample and the last one are stored */
        col_sample smp[2] = {{.t = t0}, {.t = last}};
        for (int i = 0; i < 2; i++)
            for (int d = 0; d < COL_DS_COUNT; d++)
                smp[i].v[d] = d == 0 ? 10 + i : NAN;
        KS_CHECK(col_rrd_update_many(path, smp, 2, &err) == 0);
        time_t t;
        char vals[COL_DS_COUNT][32] = {{0}};
        last_values(path, &t, vals);
        KS_CHECK(t == last);
        KS_CHECK(strtod(vals[0], NULL) == 11);
    }
}

/* status on an imported file of hourly rows: its rows are the samples
 * (it used to be warned about as "not made by kvmshift") */
KS_TEST(test_status_imported)
{
    KS_AUTOFREE char *dir = study_dir("imp");
    ks_error err;
    ks_study *study = ks_study_open(dir, &err);
    KS_CHECK(study != NULL);
    KS_AUTOFREE char *path = ks_path_join(dir, "rrd/h01.rrd");
    time_t last = time(NULL) / 3600 * 3600 - 3600, first = last - 47 * 3600;
    KS_CHECK(col_rrd_create_import(path, first, last, 3600, &err) == 0);
    col_sample smp[48];
    for (int i = 0; i < 48; i++) {
        smp[i].t = first + i * 3600;
        for (int d = 0; d < COL_DS_COUNT; d++)
            smp[i].v[d] = i >= 10 && i < 13 ? NAN : 20; /* 3 hours missing */
    }
    KS_CHECK(col_rrd_update_many(path, smp, 48, &err) == 0);
    const char *inv_text = "name,address,method\nh01,,import\n";
    ks_inventory *inv = ks_inventory_parse(inv_text, strlen(inv_text), "inventory.csv", &err);
    KS_CHECK(inv != NULL);
    if (!inv)
        return;
    col_status *st = col_status_read(study, inv, &err);
    KS_CHECK(st[0].samples == 45);
    KS_CHECK(st[0].gaps == 1 && st[0].missing == 3);
    KS_CHECK(st[0].last_sample == last);
    col_status_free(st, inv->count);
    ks_inventory_free(inv);
    ks_study_free(study);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    KS_RUN(test_create_and_update);
    KS_RUN(test_file_without_steal_written);
    KS_RUN(test_foreign_rrd_refused);
    KS_RUN(test_missing_rrdcached);
    KS_RUN(test_prepare_async);
    KS_RUN(test_status_gaps);
    KS_RUN(test_import_layouts);
    KS_RUN(test_status_imported);
    KS_AUTOFREE char *rm = ks_asprintf("rm -rf '%s'", tmpdir);
    if (system(rm) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return ks_test_summary();
}
