/* test_series.c: RRD files read into slots (ks_series.c), on files made
 * by the collector's own store code with a known history. */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ks_series.h"
#include "col_rrd.h"
#include "ks_mem.h"
#include "ks_rrdfile.h"
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
    unlink(path); /* made anew for each test */
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
        ks_series s;
        ks_error err;
        KS_CHECK(ks_series_read(path, slot, 0, 0, &s, &err) == 0);
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
        ks_series_free(&s);
    }
}

/* Files made by 'kvmshift import' at the data's own step
 * (col_rrd_create_import): every slot of the data is read, with the
 * sample's value, and none outside it. Hourly rows stamped at whole hours
 * cover the hour before their time. */
KS_TEST(imported_steps)
{
    static const struct {
        long step, days;
    } cases[] = {{3600, 30}, {300, 30}, {300, 130}, {900, 10}, {5400, 30}, {86400, 60}};
    const time_t t0 = 1767225600; /* 2026-01-01 */
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        long step = cases[c].step;
        KS_AUTOFREE char *path = ks_asprintf("%s/import-%zu.rrd", tmpdir, c);
        size_t n = (size_t)(cases[c].days * 86400 / step);
        time_t last = t0 + (time_t)(n - 1) * step;
        ks_error err;
        if (col_rrd_create_import(path, t0, last, step, &err) < 0) {
            fprintf(stderr, "%s\n", err.message);
            exit(2);
        }
        col_sample *smp = ks_calloc(n, sizeof *smp);
        for (size_t i = 0; i < n; i++) {
            smp[i].t = t0 + (time_t)i * step;
            for (int k = 0; k < COL_DS_COUNT; k++)
                smp[i].v[k] = NAN;
            smp[i].v[1] = 1000 + (double)(i % 7); /* cpu_mhz */
            smp[i].v[2] = 4e9;                    /* mem_used */
        }
        KS_CHECK(col_rrd_update_many(path, smp, n, &err) == 0);
        free(smp);
        for (long slot = 900; slot <= 3600; slot *= 4) {
            ks_series s;
            KS_CHECK(ks_series_read(path, slot, 0, 0, &s, &err) == 0);
            /* from the slot of t0 - step to the slot of last; beyond 95
             * days of 5-minute rows only hourly ones are kept, and the
             * first hour, one 5-minute row of 12, is unknown in them */
            time_t lo = cases[c].days > 95 && step < 3600 ? t0 : t0 - step, hi = last;
            size_t want = (size_t)((hi - 1) / slot - lo / slot + 1);
            size_t known = ks_series_present(&s), ok = 0;
            for (size_t i = 0; i < s.nslots; i++)
                ok +=
                    s.cpu_mhz[i] >= 1000 && s.cpu_mhz[i] <= 1006 && fabs(s.mem_bytes[i] - 4e9) < 1;
            KS_CHECK(s.slot_start == lo - lo % slot);
            KS_CHECK(s.nslots == want);
            KS_CHECK(known == want && ok == want);
            if (s.nslots != want || known != want || ok != want)
                fprintf(stderr,
                        "step %ld, %ld days, slot %ld: %zu slots, %zu known, %zu right, "
                        "expected %zu\n",
                        step, cases[c].days, slot, s.nslots, known, ok, want);
            ks_series_free(&s);
        }
    }
}

/* Reading a file that is not in the page cache: librrd maps it with
 * MADV_RANDOM, so each 4 kB page of the archives would be read by a page
 * fault of its own (about 720 for a collected file); ks_series_read asks
 * for both archives first, and the faults find them read. (Where /tmp
 * keeps files in memory, nothing is ever evicted and this passes
 * trivially.) */
KS_TEST(cold_file_read_ahead)
{
    time_t end;
    KS_AUTOFREE char *path = make_history(&end);
    int fd = open(path, O_RDONLY);
    KS_CHECK(fd >= 0);
    if (fd < 0)
        return;
    KS_CHECK(fsync(fd) == 0); /* written pages must be clean to be dropped */
    KS_CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    close(fd);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    ks_series s;
    ks_error err;
    KS_CHECK(ks_series_read(path, 3600, 0, 0, &s, &err) == 0);
    getrusage(RUSAGE_SELF, &after);
    long faults = after.ru_majflt - before.ru_majflt;
    KS_CHECK(faults < 100);
    if (faults >= 100)
        fprintf(stderr, "%ld page faults read from disk\n", faults);
    KS_CHECK(s.nslots > 130 * 24 - 2);
    ks_series_free(&s);
}

/* The header check on the kept corpus of hostile files
 * (tests/fuzz/corpus/rrdfile, make_rrd_corpus.py): the valid-* files pass,
 * every damaged one is refused as damaged, naming itself; a collected
 * file passes; a FIFO is refused at once (never opened for a blocking
 * read); a foreign file is read as foreign, with what it has. */
KS_TEST(header_check_corpus)
{
    DIR *d = opendir(KS_RRD_CORPUS);
    KS_CHECK(d != NULL);
    if (!d)
        return;
    struct dirent *e;
    int valid = 0, damaged = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        KS_AUTOFREE char *path = ks_asprintf("%s/%s", KS_RRD_CORPUS, e->d_name);
        ks_error err;
        ks_error_clear(&err);
        ks_rrd_header h;
        int rc = ks_rrd_check(path, &h, &err);
        if (strncmp(e->d_name, "valid-", 6) == 0) {
            KS_CHECK(rc == 0);
            if (rc < 0)
                fprintf(stderr, "%s: %s\n", e->d_name, err.message);
            free(h.ds_names);
            valid++;
        } else {
            KS_CHECK(rc < 0 && err.code == KS_E_RRD && strstr(err.message, path) &&
                     strstr(err.message, "damaged RRD file"));
            if (rc == 0)
                fprintf(stderr, "%s: accepted\n", e->d_name);
            damaged++;
        }
    }
    closedir(d);
    KS_CHECK(valid == 3 && damaged >= 20);

    time_t end;
    KS_AUTOFREE char *hist = make_history(&end);
    ks_error err;
    ks_rrd_header h;
    KS_CHECK(ks_rrd_check(hist, &h, &err) == 0 && h.nds == COL_DS_COUNT && h.step == 60);
    free(h.ds_names);

    KS_AUTOFREE char *fifo = ks_asprintf("%s/fifo.rrd", tmpdir);
    KS_CHECK(mkfifo(fifo, 0600) == 0);
    KS_CHECK(ks_rrd_check(fifo, NULL, &err) < 0 && strstr(err.message, "is a FIFO, not an RRD"));
    ks_series s;
    KS_CHECK(ks_series_read(fifo, 3600, 0, 0, &s, &err) < 0);
    unlink(fifo);

    KS_AUTOFREE char *foreign = ks_asprintf("%s/valid-foreign.rrd", KS_RRD_CORPUS);
    KS_CHECK(ks_series_read(foreign, 3600, 0, 0, &s, &err) < 0 &&
             strstr(err.message, "none of kvmshift's data sources: it has 2 (temp, fan)"));
    KS_AUTOFREE char *kv = ks_asprintf("%s/valid-kvmshift.rrd", KS_RRD_CORPUS);
    KS_CHECK(ks_series_read(kv, 3600, 0, 0, &s, &err) == 0 && s.nslots >= 2);
    ks_series_free(&s);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    KS_RUN(short_slots_over_hourly_rows);
    KS_RUN(imported_steps);
    KS_RUN(cold_file_read_ahead);
    KS_RUN(header_check_corpus);
    KS_AUTOFREE char *rm = ks_asprintf("rm -rf '%s'", tmpdir);
    if (system(rm) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return ks_test_summary();
}
