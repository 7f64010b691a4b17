/* test_import.c: 'kvmshift import' (col_import.c): the number and time
 * parsers, the Bitbrains and generic CSV readers on the corpus in
 * data/import/, and whole runs into a temporary study (RRD values, facts,
 * inventory, refusals, replacement, no temporary file left). */
#include <dirent.h>
#include <math.h>
#include <rrd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "col_import.h"
#include "collector.h"
#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_inventory.h"
#include "ks_json.h"
#include "ks_mem.h"
#include "ks_study.h"
#include "ks_test.h"

static char tmpdir[] = "/tmp/ks-test-import-XXXXXX";

static bool num(const char *s, bool comma, double *v)
{
    return col_import_parse_number(s, strlen(s), comma, v);
}

static bool tm_(const char *s, int64_t *t)
{
    return col_import_parse_time(s, strlen(s), t);
}

KS_TEST(test_numbers)
{
    double v = 0;
    KS_CHECK(num("12", false, &v) && v == 12);
    KS_CHECK(num(" -1.5 ", false, &v) && v == -1.5);
    KS_CHECK(num("1.6703488E7", false, &v) && v == 16703488.0);
    KS_CHECK(num("2e-3", false, &v) && fabs(v - 0.002) < 1e-15);
    KS_CHECK(num(".5", false, &v) && v == 0.5);
    KS_CHECK(num("1,5", true, &v) && v == 1.5);
    KS_CHECK(!num("1,5", false, &v));
    KS_CHECK(!num("x1,2", true, &v));
    KS_CHECK(!num("", false, &v));
    KS_CHECK(!num("-", false, &v));
    KS_CHECK(!num("1e", false, &v));
    KS_CHECK(!num("inf", false, &v));
    KS_CHECK(!num("nan", false, &v));
    KS_CHECK(!num("0x10", false, &v));
    KS_CHECK(!num("1e999", false, &v));
    KS_CHECK(!num("1.2.3", false, &v));
    KS_CHECK(!num("1 000", false, &v));
}

KS_TEST(test_times)
{
    int64_t t = 0;
    KS_CHECK(tm_("1709294400", &t) && t == 1709294400);
    KS_CHECK(tm_(" 1709294400.75 ", &t) && t == 1709294400);
    KS_CHECK(tm_("2024-03-01 12:00:00", &t) && t == 1709294400);
    KS_CHECK(tm_("2024-03-01T12:00:00Z", &t) && t == 1709294400);
    KS_CHECK(tm_("2024-03-01T12:00:00.250Z", &t) && t == 1709294400);
    KS_CHECK(tm_("2024-03-01T14:00:00+02:00", &t) && t == 1709294400);
    KS_CHECK(tm_("2024-03-01T07:00:00-0500", &t) && t == 1709294400);
    KS_CHECK(tm_("2024-03-01 12:00", &t) && t == 1709294400);
    KS_CHECK(tm_("2024-03-01", &t) && t == 1709251200);
    KS_CHECK(tm_("2024-02-29 00:00:00", &t) && t == 1709164800);
    KS_CHECK(!tm_("2023-02-29 00:00:00", &t));
    KS_CHECK(!tm_("2024-02-30 12:00:00", &t));
    KS_CHECK(!tm_("2024-13-01 12:00:00", &t));
    KS_CHECK(!tm_("2024-03-01 24:00:00", &t));
    KS_CHECK(!tm_("2024-03-01 12:00:00 UTC", &t));
    KS_CHECK(!tm_("1372629804000", &t)); /* milliseconds: out of range */
    KS_CHECK(!tm_("12", &t));
    KS_CHECK(!tm_("soon", &t));
    KS_CHECK(!tm_("", &t));
}

KS_TEST(test_bitbrains_rows)
{
    col_import_row row;
    col_row_problem prob;
    const char ok[] = "1372629804;\t2;\t5851.9989;\t87.78;\t1.5;\t8218624.0;\t1034592.8;\t160.5;"
                      "\t21.75;\t0.25;\t1.5\r";
    KS_CHECK(col_bb_row(ok, strlen(ok), &row, &prob));
    KS_CHECK(row.s.t == 1372629804);
    KS_CHECK_NEAR(row.s.v[0], 1.5, 1e-12);
    KS_CHECK_NEAR(row.s.v[1], 87.78, 1e-9);
    KS_CHECK_NEAR(row.s.v[2], 1034592.8 * 1024, 1e-3);
    KS_CHECK_NEAR(row.s.v[3], 8218624.0 * 1024, 1e-3);
    KS_CHECK_NEAR(row.s.v[4], 160.5 * 1024, 1e-9);
    KS_CHECK_NEAR(row.s.v[5], 21.75 * 1024, 1e-9);
    KS_CHECK(isnan(row.s.v[6]) && isnan(row.s.v[7]));
    KS_CHECK_NEAR(row.s.v[8], 0.25 * 1024, 1e-9);
    KS_CHECK_NEAR(row.s.v[9], 1.5 * 1024, 1e-9);
    KS_CHECK(row.cores == 2);
    KS_CHECK_NEAR(row.core_mhz, 5851.9989 / 2, 1e-9);

    const char short_row[] = "1372629804;\t2;\t5851.9989";
    KS_CHECK(!col_bb_row(short_row, strlen(short_row), &row, &prob));
    KS_CHECK(prob.reason == COL_SKIP_FIELDS);
    KS_CHECK_STR(prob.text, "3 fields, expected 11");
    const char empty[] = "1372629804;\t2;\t;\t1;\t1;\t1;\t1;\t1;\t1;\t1;\t1";
    KS_CHECK(!col_bb_row(empty, strlen(empty), &row, &prob));
    KS_CHECK(prob.reason == COL_SKIP_FIELDS);
    const char bad[] = "1372629804;\t2;\t1;\tx1,2;\t1;\t1;\t1;\t1;\t1;\t1;\t1";
    KS_CHECK(!col_bb_row(bad, strlen(bad), &row, &prob));
    KS_CHECK(prob.reason == COL_SKIP_NUMBER);
    KS_CHECK_STR(prob.text, "x1,2");

    /* beyond any real server: refused, with what it says (1e308 bytes of
     * memory overflowed the facts' integer; year 9999 was "unreadable") */
    const char huge[] = "1372629804;\t2;\t5851.9989;\t87.78;\t1.5;\t1e308;\t1;\t1;\t1;\t1;\t1";
    KS_CHECK(!col_bb_row(huge, strlen(huge), &row, &prob));
    KS_CHECK(prob.reason == COL_SKIP_RANGE);
    KS_CHECK(strncmp(prob.text, "mem_total ", 10) == 0 && strstr(prob.text, "(at most 1e+18)"));
    const char cores[] = "1372629804;\t1e9;\t5851.9989;\t87.78;\t1.5;\t1;\t1;\t1;\t1;\t1;\t1";
    KS_CHECK(!col_bb_row(cores, strlen(cores), &row, &prob));
    KS_CHECK(prob.reason == COL_SKIP_RANGE);
    KS_CHECK_STR(prob.text, "1e+09 cores (at most 1e+06)");
    const char late[] = "253402300800;\t2;\t1;\t1;\t1;\t1;\t1;\t1;\t1;\t1;\t1";
    KS_CHECK(!col_bb_row(late, strlen(late), &row, &prob));
    KS_CHECK(prob.reason == COL_SKIP_RANGE);
    KS_CHECK_STR(prob.text, "time '253402300800' out of range (before 1980 or after 2099)");
    const char hex[] = "1372629804;\t2;\t0xA28;\t1;\t1;\t1;\t1;\t1;\t1;\t1;\t1";
    KS_CHECK(!col_bb_row(hex, strlen(hex), &row, &prob));
    KS_CHECK(prob.reason == COL_SKIP_NUMBER);

    ks_error err;
    ks_error_clear(&err);
    const char hdr[] = "time;cpu";
    KS_CHECK(col_bb_header(hdr, strlen(hdr), "9.csv", 1, &err) < 0);
    KS_CHECK(strstr(err.message, "9.csv:1: not a Bitbrains GWA-T-12 file: column 1") != NULL);
    KS_CHECK(strstr(err.message, "'Timestamp [ms]'") != NULL);
    KS_CHECK(strstr(err.message, "found 'time'") != NULL);
}

KS_TEST(test_bitbrains_file)
{
    size_t len;
    char *text = ks_test_read("import/bitbrains/2.csv", &len);
    col_import_data *d = col_import_data_new();
    ks_error err;
    ks_error_clear(&err);
    KS_CHECK(col_import_read_bitbrains(d, text, len, "2.csv", "bb-2", &err) == 0);
    col_import_data_finish(d);
    KS_CHECK(col_import_data_count(d) == 1);
    col_series *s = col_import_data_series(d, 0);
    KS_CHECK_STR(s->name, "bb-2");
    KS_CHECK(s->nrows == 5);
    KS_CHECK(s->step == 300);
    KS_CHECK(s->rows[0].s.t == 1372640004);
    KS_CHECK(s->rows[1].s.t == 1372640304);
    KS_CHECK_NEAR(s->rows[1].s.v[1], 200.0, 1e-9); /* the first of the repeated rows */
    KS_CHECK(s->rows[2].s.t == 1372644804);        /* after the gap */
    KS_CHECK(s->rows[4].s.t == 1372645404);
    KS_CHECK(s->skipped[COL_SKIP_REPEATED] == 2);
    KS_CHECK(s->skipped[COL_SKIP_NUMBER] == 1);
    KS_CHECK(s->skipped[COL_SKIP_NEGATIVE] == 1);
    KS_CHECK(s->skipped[COL_SKIP_FIELDS] == 1);
    KS_CHECK(s->skipped[COL_SKIP_TIME] == 1);
    KS_CHECK(s->cores == 4);
    KS_CHECK_NEAR(s->core_mhz, 10399.997508 / 4, 1e-9);
    KS_CHECK_NEAR(s->mem_total, 16703488.0 * 1024, 1e-3);
    const char *const *ex;
    KS_CHECK(col_import_data_examples(d, COL_SKIP_NUMBER, &ex) == 1);
    KS_CHECK_STR(ex[0], "2.csv:5: 'x1,2'");
    KS_CHECK(col_import_data_examples(d, COL_SKIP_REPEATED, &ex) == 2);
    KS_CHECK_STR(ex[0], "2.csv:4: 'same time as line 3'");
    KS_CHECK_STR(ex[1], "2.csv:11: 'same time as line 10'");
    KS_CHECK(col_import_data_examples(d, COL_SKIP_TIME, &ex) == 1);
    KS_CHECK_STR(ex[0], "2.csv:12: 'soon'");
    KS_CHECK(col_import_data_examples(d, COL_SKIP_NEGATIVE, &ex) == 1);
    KS_CHECK_STR(ex[0], "2.csv:6: '-5.0'");
    col_import_data_free(d);
    free(text);

    /* cpu_pct above 100 is clamped, cpu_mhz keeps the demand */
    text = ks_test_read("import/bitbrains/1.csv", &len);
    d = col_import_data_new();
    KS_CHECK(col_import_read_bitbrains(d, text, len, "1.csv", "bb-1", &err) == 0);
    col_import_data_finish(d);
    s = col_import_data_series(d, 0);
    KS_CHECK(s->nrows == 4 && s->clamped == 1);
    KS_CHECK(s->rows[2].s.v[0] == 100);
    KS_CHECK_NEAR(s->rows[2].s.v[1], 5910.5, 1e-9);
    col_import_data_free(d);
    free(text);

    text = ks_test_read("import/bitbrains-bad/7.csv", &len);
    d = col_import_data_new();
    KS_CHECK(col_import_read_bitbrains(d, text, len, "7.csv", "bb-7", &err) < 0);
    KS_CHECK(strstr(err.message, "7.csv:1:") != NULL);
    KS_CHECK(col_import_data_count(d) == 0);
    col_import_data_free(d);
    free(text);
}

/* Read a corpus CSV file into a finished col_import_data. */
static col_import_data *read_csv(const char *rel, const char *prefix, ks_error *err)
{
    size_t len;
    char *text = ks_test_read(rel, &len);
    const char *base = strrchr(rel, '/') + 1;
    col_import_data *d = col_import_data_new();
    ks_error_clear(err);
    int rc = col_import_read_csv(d, text, len, base, prefix, err);
    free(text);
    if (rc < 0) {
        col_import_data_free(d);
        return NULL;
    }
    col_import_data_finish(d);
    return d;
}

static col_series *find_series(col_import_data *d, const char *name)
{
    for (size_t i = 0; i < col_import_data_count(d); i++)
        if (strcmp(col_import_data_series(d, i)->name, name) == 0)
            return col_import_data_series(d, i);
    return NULL;
}

KS_TEST(test_csv_comma)
{
    ks_error err;
    col_import_data *d = read_csv("import/csv/comma.csv", "", &err);
    KS_CHECK(d != NULL);
    if (!d)
        return;
    KS_CHECK(col_import_data_count(d) == 2);
    col_series *w = find_series(d, "web01"), *db = find_series(d, "db01");
    KS_CHECK(w && db);
    if (!w || !db)
        return;
    KS_CHECK(w->nrows == 3 && w->step == 300);
    KS_CHECK_NEAR(w->rows[0].s.v[0], 12.5, 1e-12);
    KS_CHECK_NEAR(w->rows[0].s.v[2], 1073741824, 1e-3);
    KS_CHECK(isnan(w->rows[1].s.v[4])); /* empty cell: unknown */
    KS_CHECK_NEAR(w->rows[1].s.v[5], 2000, 1e-9);
    KS_CHECK_NEAR(w->rows[0].s.v[7], 20, 1e-9);
    KS_CHECK(w->cores == 4 && w->core_mhz == 2400);
    KS_CHECK_NEAR(w->mem_total, 4294967296.0, 1e-3);
    /* 60, 120 s: the tie goes to the shorter interval */
    KS_CHECK(db->nrows == 3 && db->step == 60);
    KS_CHECK(col_import_data_skipped(d, COL_SKIP_NUMBER) == 1);
    const char *const *ex;
    KS_CHECK(col_import_data_examples(d, COL_SKIP_NUMBER, &ex) == 1);
    KS_CHECK_STR(ex[0], "comma.csv:7: 'abc'");
    col_import_data_free(d);
}

KS_TEST(test_csv_semicolon_units)
{
    ks_error err;
    col_import_data *d = read_csv("import/csv/semicolon.csv", "x-", &err);
    KS_CHECK(d != NULL);
    if (!d)
        return;
    col_series *s = find_series(d, "x-app01");
    KS_CHECK(s != NULL);
    if (!s)
        return;
    KS_CHECK(s->nrows == 4 && s->step == 300);
    KS_CHECK(s->rows[0].s.t == 1709294400);
    KS_CHECK_NEAR(s->rows[0].s.v[0], 12.5, 1e-12);
    KS_CHECK_NEAR(s->rows[0].s.v[2], 1024.0 * 1048576, 1e-3);
    KS_CHECK_NEAR(s->rows[1].s.v[2], 2048.5 * 1048576, 1e-3);
    KS_CHECK_NEAR(s->rows[0].s.v[3], 4.0 * 1073741824, 1e-3);
    KS_CHECK_NEAR(s->rows[0].s.v[8], 1e6, 1e-6);  /* 8 Mbit/s */
    KS_CHECK_NEAR(s->rows[0].s.v[4], 1536, 1e-9); /* 1,5 KiB/s */
    KS_CHECK(isnan(s->rows[2].s.v[2]));
    KS_CHECK(s->rows[3].s.t == 1709294400 + 1200); /* "12:20" without seconds */
    KS_CHECK(s->cores == 8);
    KS_CHECK_NEAR(s->core_mhz, 2400, 1e-9);
    KS_CHECK(s->skipped[COL_SKIP_NEGATIVE] == 1);
    KS_CHECK(s->skipped[COL_SKIP_TIME] == 1);
    KS_CHECK(col_import_data_skipped(d, COL_SKIP_TIME) == 1);
    const char *const *ex;
    KS_CHECK(col_import_data_examples(d, COL_SKIP_TIME, &ex) == 1);
    KS_CHECK_STR(ex[0], "semicolon.csv:7: '2024-02-30 12:25:00'");
    col_import_data_free(d);
}

KS_TEST(test_csv_bom_crlf)
{
    ks_error err;
    col_import_data *d = read_csv("import/csv/bom_crlf.csv", "", &err);
    KS_CHECK(d != NULL);
    if (!d)
        return;
    KS_CHECK(col_import_data_count(d) == 1);
    col_series *s = find_series(d, "mail01");
    KS_CHECK(s && s->nrows == 2);
    if (!s || s->nrows != 2)
        return;
    KS_CHECK(s->rows[0].s.t == 1709294400);
    KS_CHECK(s->rows[1].s.t == 1709294460); /* +02:00 */
    KS_CHECK_NEAR(s->rows[0].s.v[2], 102400, 1e-9);
    KS_CHECK(s->step == 60);
    KS_CHECK(col_import_data_skipped(d, COL_SKIP_NAME) == 1);
    KS_CHECK(col_import_data_skipped(d, COL_SKIP_NUMBER) == 1); /* "3,5" with ',' separators */
    KS_CHECK(col_import_data_skipped(d, COL_SKIP_FIELDS) == 1);
    const char *const *ex;
    KS_CHECK(col_import_data_examples(d, COL_SKIP_NAME, &ex) == 1);
    KS_CHECK_STR(ex[0], "bom_crlf.csv:2: 'mail 01'");
    KS_CHECK(col_import_data_examples(d, COL_SKIP_FIELDS, &ex) == 1);
    KS_CHECK_STR(ex[0], "bom_crlf.csv:6: '3 fields, expected 4'");
    col_import_data_free(d);
}

KS_TEST(test_csv_by_time)
{
    ks_error err;
    col_import_data *d = read_csv("import/csv/by_time.csv", "", &err);
    KS_CHECK(d != NULL);
    if (!d)
        return;
    col_series *a = find_series(d, "a"), *b = find_series(d, "b");
    KS_CHECK(a && b);
    if (!a || !b)
        return;
    KS_CHECK(a->nrows == 4 && b->nrows == 4);
    for (size_t i = 0; i < 4 && a->nrows == 4 && b->nrows == 4; i++) {
        KS_CHECK(a->rows[i].s.t == 1709294400 + 60 * (int64_t)i);
        KS_CHECK(b->rows[i].s.t == 1709294400 + 60 * (int64_t)i);
        KS_CHECK(a->rows[i].s.v[0] == 1 + 2.0 * (double)i);
        KS_CHECK(b->rows[i].s.v[0] == 2 + 2.0 * (double)i);
    }
    KS_CHECK(a->skipped[COL_SKIP_REPEATED] == 1);
    KS_CHECK(col_import_data_skipped(d, COL_SKIP_FIELDS) == 2);
    const char *const *ex;
    KS_CHECK(col_import_data_examples(d, COL_SKIP_REPEATED, &ex) == 1);
    KS_CHECK_STR(ex[0], "by_time.csv:10: 'same time as line 7'");
    KS_CHECK(col_import_data_examples(d, COL_SKIP_FIELDS, &ex) == 2);
    KS_CHECK_STR(ex[0], "by_time.csv:11: 'no timestamp'");
    KS_CHECK_STR(ex[1], "by_time.csv:12: 'no server'");
    col_import_data_free(d);
}

KS_TEST(test_csv_bad_headers)
{
    ks_error err;
    KS_CHECK(read_csv("import/csv/bad_column.csv", "", &err) == NULL);
    KS_CHECK(strstr(err.message, "bad_column.csv:1: unknown column 4 'memory'") != NULL);
    KS_CHECK(strstr(err.message, "mem_used") != NULL);
    KS_CHECK(read_csv("import/csv/bad_unit.csv", "", &err) == NULL);
    KS_CHECK(strstr(err.message, "bad_unit.csv:1: unknown unit 'KB' for column 'mem_used'") !=
             NULL);
    KS_CHECK(strstr(err.message, "KiB") != NULL);
    KS_CHECK(read_csv("import/csv/no_server.csv", "", &err) == NULL);
    KS_CHECK(strstr(err.message, "no_server.csv:1: unknown column 1 'host'") != NULL);

    col_csv_layout lay;
    const char dup[] = "server,timestamp,cpu_pct,CPU_PCT";
    KS_CHECK(col_csv_header(dup, strlen(dup), "f.csv", 3, &lay, &err) < 0);
    KS_CHECK(strstr(err.message, "f.csv:3: column 'cpu_pct' appears twice") != NULL);
    const char nods[] = "server;timestamp;cores";
    KS_CHECK(col_csv_header(nods, strlen(nods), "f.csv", 1, &lay, &err) < 0);
    KS_CHECK(strstr(err.message, "no data source") != NULL);
    const char tab[] = "server\ttimestamp\tcpu_pct [%]";
    KS_CHECK(col_csv_header(tab, strlen(tab), "f.csv", 1, &lay, &err) == 0);
    KS_CHECK(lay.sep == '\t' && lay.ds_col[0] == 2);
}

/* ---- input files ---------------------------------------------------------- */

static bool write_bytes(const char *path, const void *p, size_t n)
{
    ks_error err;
    return ks_write_file_atomic(path, p, n, 0644, &err) == 0;
}

KS_TEST(test_read_input)
{
    ks_error err;
    ks_error_clear(&err);
    size_t plain_len = 0, gz_len = 0, len = 0;
    KS_AUTOFREE char *plain =
        col_import_read_input(KS_TEST_DATA "/import/csv/comma.csv", 1 << 20, &plain_len, &err);
    KS_CHECK(plain != NULL && plain_len > 100 && strlen(plain) == plain_len);
    /* the same file, compressed with gzip -9 -n */
    KS_AUTOFREE char *gz =
        col_import_read_input(KS_TEST_DATA "/import/csv/comma.csv.gz", 1 << 20, &gz_len, &err);
    KS_CHECK(gz != NULL && plain && gz_len == plain_len && memcmp(gz, plain, plain_len) == 0);

    KS_AUTOFREE char *raw =
        ks_read_file(KS_TEST_DATA "/import/csv/comma.csv.gz", 1 << 20, &len, &err);
    KS_CHECK(raw != NULL && len > 40);
    if (!raw)
        return;
    /* cut in the middle of the stream: refused, not read as a short file */
    KS_AUTOFREE char *cut = ks_asprintf("%s/cut.csv.gz", tmpdir);
    KS_CHECK(write_bytes(cut, raw, len / 2));
    ks_error_clear(&err);
    KS_CHECK(col_import_read_input(cut, 1 << 20, &len, &err) == NULL);
    KS_CHECK(err.code == KS_E_PARSE && strstr(err.message, "gzip data ends early") != NULL);
    KS_CHECK(strstr(err.message, "cut.csv.gz") != NULL);
    /* a gzip header followed by garbage */
    KS_AUTOFREE char *bad = ks_asprintf("%s/bad.csv.gz", tmpdir);
    char garbage[64];
    memcpy(garbage, raw, 10);
    memset(garbage + 10, 0xff, sizeof garbage - 10);
    KS_CHECK(write_bytes(bad, garbage, sizeof garbage));
    ks_error_clear(&err);
    KS_CHECK(col_import_read_input(bad, 1 << 20, &len, &err) == NULL);
    KS_CHECK(err.code == KS_E_PARSE && strstr(err.message, "gzip data is damaged") != NULL);
    /* missing, and larger than allowed once decompressed */
    ks_error_clear(&err);
    KS_CHECK(col_import_read_input("/nonexistent/x.csv.gz", 1 << 20, &len, &err) == NULL);
    KS_CHECK(err.code == KS_E_IO && strstr(err.message, "cannot open '/nonexistent/x.csv.gz'"));
    ks_error_clear(&err);
    KS_CHECK(col_import_read_input(KS_TEST_DATA "/import/csv/comma.csv.gz", 100, &len, &err) ==
             NULL);
    KS_CHECK(err.code == KS_E_IO && strstr(err.message, "larger than 100 bytes") != NULL);
    /* an empty file is an empty text */
    KS_AUTOFREE char *empty = ks_asprintf("%s/empty.csv", tmpdir);
    KS_CHECK(write_bytes(empty, "", 0));
    KS_AUTOFREE char *none = col_import_read_input(empty, 100, &len, &err);
    KS_CHECK(none != NULL && len == 0 && none[0] == '\0');
}

/* ---- whole runs into a study ---------------------------------------------- */

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

static const col_import_result *result_of(const col_import *imp, const char *name)
{
    for (size_t i = 0; i < col_import_count(imp); i++)
        if (strcmp(col_import_get(imp, i)->name, name) == 0)
            return col_import_get(imp, i);
    return NULL;
}

/* The value of ds in the AVERAGE row ending at t, of the finest archive. */
static double rrd_value(const char *path, time_t t, int ds)
{
    time_t start = t - 60, end = t;
    unsigned long step = 60;
    unsigned long nds = 0;
    char **names = NULL;
    rrd_value_t *data = NULL;
    if (rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &nds, &names, &data) != 0)
        return -1;
    double v = NAN;
    unsigned long rows = (unsigned long)(end - start) / step;
    for (unsigned long r = 0; r < rows; r++)
        if (start + (time_t)((r + 1) * step) == t)
            v = data[r * nds + (unsigned long)ds];
    for (unsigned long i = 0; i < nds; i++)
        rrd_freemem(names[i]);
    rrd_freemem(names);
    rrd_freemem(data);
    return v;
}

/* The step of a file (0 when it cannot be read). */
static unsigned long rrd_step(const char *path)
{
    unsigned long step = 0;
    rrd_info_t *info = rrd_info_r(path);
    for (rrd_info_t *i = info; i; i = i->next)
        if (strcmp(i->key, "step") == 0)
            step = i->value.u_cnt;
    rrd_info_free(info);
    return step;
}

static bool no_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool clean = true;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".tmp"))
            clean = false;
    closedir(d);
    return clean;
}

KS_TEST(test_run_bitbrains)
{
    KS_AUTOFREE char *dir = study_dir("bb");
    ks_error err;
    ks_error_clear(&err);
    ks_study *st = ks_study_open(dir, &err);
    KS_CHECK(st != NULL);
    if (!st)
        return;
    col_import_options opt = {
        .format = COL_IMPORT_BITBRAINS, .input = KS_TEST_DATA "/import/bitbrains", .quiet = true};
    col_import *imp = col_import_run(st, &opt, &err);
    KS_CHECK(imp != NULL);
    if (!imp) {
        fprintf(stderr, "%s\n", err.message);
        ks_study_free(st);
        return;
    }
    KS_CHECK(col_import_count(imp) == 2);
    const col_import_result *r1 = result_of(imp, "bb-1"), *r2 = result_of(imp, "bb-2");
    KS_CHECK(r1 && r2 && r1->ok && r2->ok && !r1->replaced);
    if (!r1 || !r2) {
        col_import_free(imp);
        ks_study_free(st);
        return;
    }
    KS_CHECK(r2->rows == 5 && r2->step == 300);
    KS_CHECK(r2->first == 1372640004 && r2->last == 1372645404);
    KS_CHECK(r1->clamped == 1);
    KS_CHECK(col_import_skipped(imp, COL_SKIP_REPEATED) == 2);
    KS_CHECK_STR(col_import_skip_summary(imp),
                 "skipped 6 rows: 2 repeated timestamps (first: 2.csv:4: 'same time as line 3', "
                 "2.csv:11: 'same time as line 10'), 1 unreadable numbers (first: 2.csv:5: "
                 "'x1,2'), 1 unreadable timestamps (first: 2.csv:12: 'soon'), 1 rows with "
                 "missing or extra fields (first: 2.csv:7: '5 fields, expected 11'), 1 negative "
                 "values (first: 2.csv:6: '-5.0')");
    col_import_free(imp);

    /* the values, in rows of the data's own step (300 s, see
     * col_rrd_create_import): a sample covers the step before it, and the
     * samples, 204 s past a row's start, share each row 204 : 96 with the
     * next one */
    KS_AUTOFREE char *rrd = ks_path_join(dir, "rrd/bb-1.rrd");
    time_t t0 = 1372629804, row = t0 - t0 % 300 + 300; /* the first row ending after t0 */
    KS_CHECK(t0 % 300 == 204);
    KS_CHECK(rrd_step(rrd) == 300);
    KS_CHECK_NEAR(rrd_value(rrd, row, 0), (204 * 1.5 + 96 * 0.5) / 300, 1e-9);
    KS_CHECK_NEAR(rrd_value(rrd, row, 2), (204 * 1034592.8 + 96 * 458575.4666666667) / 300 * 1024,
                  1e-3);
    KS_CHECK_NEAR(rrd_value(rrd, row + 300, 1), (204 * 29.259994499999998 + 96 * 5910.5) / 300,
                  1e-9);
    /* 101 % clamped to 100 (above 100 it would be unknown), then 1 % */
    KS_CHECK_NEAR(rrd_value(rrd, row + 600, 0), (204 * 100 + 96 * 1.0) / 300, 1e-9);
    KS_CHECK(isnan(rrd_value(rrd, row, 6)));
    /* nothing before the first sample */
    KS_CHECK(isnan(rrd_value(rrd, row - 300, 0)));
    KS_AUTOFREE char *rrd2 = ks_path_join(dir, "rrd/bb-2.rrd");
    /* the gap (3900 s) is longer than the heartbeat (600 s): unknown */
    KS_CHECK(isnan(rrd_value(rrd2, 1372642800, 0)));
    KS_AUTOFREE char *rrd_dir = ks_path_join(dir, "rrd");
    KS_CHECK(no_temp_files(rrd_dir));

    /* facts */
    KS_AUTOFREE char *fp = ks_path_join(dir, "facts/bb-1.json");
    json_t *f = ks_json_read_file(fp, &err);
    KS_CHECK(f != NULL);
    KS_CHECK_STR(json_string_value(json_object_get(f, "source")), "import:bitbrains");
    KS_CHECK_STR(json_string_value(json_object_get(f, "name")), "bb-1");
    json_t *cpu = json_object_get(f, "cpu");
    KS_CHECK(json_integer_value(json_object_get(cpu, "cores")) == 2);
    KS_CHECK(json_integer_value(json_object_get(cpu, "threads")) == 2);
    KS_CHECK_NEAR(json_number_value(json_object_get(cpu, "mhz")), 2925.999, 1e-9);
    KS_CHECK(json_is_null(json_object_get(cpu, "model")));
    KS_CHECK(json_integer_value(json_object_get(json_object_get(f, "memory"), "total_bytes")) ==
             8218624LL * 1024);
    KS_CHECK(json_is_array(json_object_get(f, "disks")));
    KS_CHECK(json_array_size(json_object_get(f, "nics")) == 0);
    KS_CHECK(json_is_array(json_object_get(json_object_get(f, "hardware"), "gpus")));
    json_decref(f);

    /* inventory: both added once, with method import */
    KS_AUTOFREE char *inv_path = ks_path_join(dir, "inventory.csv");
    ks_inventory *inv = ks_inventory_load(inv_path, &err);
    KS_CHECK(inv != NULL);
    if (inv) {
        const ks_server *s = ks_inventory_find(inv, "bb-2");
        KS_CHECK(s && s->method == KS_METHOD_IMPORT);
        KS_CHECK(inv->count == 2);
        ks_inventory_free(inv);
    }

    /* again: replaced, the inventory unchanged */
    size_t len1 = 0, len2 = 0;
    KS_AUTOFREE char *before = ks_read_file(inv_path, 1 << 20, &len1, &err);
    imp = col_import_run(st, &opt, &err);
    KS_CHECK(imp && col_import_count(imp) == 2);
    if (imp) {
        KS_CHECK(result_of(imp, "bb-1")->ok && result_of(imp, "bb-1")->replaced);
        col_import_free(imp);
    }
    KS_AUTOFREE char *after = ks_read_file(inv_path, 1 << 20, &len2, &err);
    KS_CHECK(len1 == len2 && memcmp(before, after, len1) == 0);
    KS_CHECK(no_temp_files(rrd_dir));
    ks_study_free(st);
}

/* Each server's file at its data's step: hourly rows in hourly rows, as
 * long as the data (a few kB), exact values when the times are whole
 * hours; 1-minute rows in the collector's layout. */
KS_TEST(test_run_csv_steps)
{
    KS_AUTOFREE char *dir = study_dir("steps");
    KS_AUTOFREE char *csv = ks_path_join(dir, "in.csv");
    ks_buf b;
    ks_buf_init(&b, 1 << 20);
    ks_buf_printf(&b, "server,timestamp,cpu_mhz,mem_used[GiB]\n");
    const long t0 = 1767225600; /* 2026-01-01T00:00:00Z */
    for (long h = 0; h < 48; h++)
        ks_buf_printf(&b, "h1,%ld,%ld,4\n", t0 + h * 3600, 1000 + h);
    for (long m = 0; m < 30; m++)
        ks_buf_printf(&b, "m1,%ld,%ld,2\n", t0 + m * 60, 500 + m);
    ks_error err;
    KS_CHECK(ks_write_file_atomic(csv, b.data, b.len, 0644, &err) == 0);
    ks_buf_free(&b);
    ks_study *st = ks_study_open(dir, &err);
    KS_CHECK(st != NULL);
    if (!st)
        return;
    col_import_options opt = {.format = COL_IMPORT_CSV, .input = csv, .quiet = true};
    col_import *imp = col_import_run(st, &opt, &err);
    KS_CHECK(imp && result_of(imp, "h1") && result_of(imp, "h1")->ok);
    KS_CHECK(imp && result_of(imp, "m1") && result_of(imp, "m1")->ok);
    col_import_free(imp);
    KS_AUTOFREE char *h1 = ks_path_join(dir, "rrd/h1.rrd");
    KS_AUTOFREE char *m1 = ks_path_join(dir, "rrd/m1.rrd");
    KS_CHECK(rrd_step(h1) == 3600);
    KS_CHECK(rrd_step(m1) == 60);
    struct stat sb;
    KS_CHECK(stat(h1, &sb) == 0 && sb.st_size < 20000);
    /* the row ending at a sample's time holds it; none before the first */
    KS_CHECK(isnan(rrd_value(h1, t0 - 3600, 1)));
    for (long h = 0; h < 48; h++)
        KS_CHECK_NEAR(rrd_value(h1, t0 + h * 3600, 1), 1000 + h, 1e-9);
    KS_CHECK_NEAR(rrd_value(h1, t0 + 47 * 3600, 2), 4.0 * (1 << 30), 1e-3);
    KS_CHECK_NEAR(rrd_value(m1, t0 + 29 * 60, 1), 529, 1e-9);
    ks_study_free(st);
}

KS_TEST(test_run_refusals)
{
    KS_AUTOFREE char *dir = study_dir("refuse");
    KS_AUTOFREE char *inv_path = ks_path_join(dir, "inventory.csv");
    /* a header in another order, a comment and an ssh server named bb-2 */
    const char inv_text[] = "# my servers\nmethod,name,address,port\n"
                            "ssh,bb-2,192.0.2.10,22\n# end\n";
    ks_error err;
    KS_CHECK(ks_write_file_atomic(inv_path, inv_text, strlen(inv_text), 0644, &err) == 0);
    ks_study *st = ks_study_open(dir, &err);
    if (!st)
        return;
    col_import_options opt = {
        .format = COL_IMPORT_BITBRAINS, .input = KS_TEST_DATA "/import/bitbrains", .quiet = true};
    col_import *imp = col_import_run(st, &opt, &err);
    KS_CHECK(imp != NULL);
    if (imp) {
        const col_import_result *r2 = result_of(imp, "bb-2");
        KS_CHECK(r2 && !r2->ok && r2->error.code == KS_E_CONFIG);
        KS_CHECK(r2 && strstr(r2->error.message, "'bb-2' is already in inventory.csv (line 3) "
                                                 "with method 'ssh'") != NULL);
        KS_CHECK(result_of(imp, "bb-1")->ok);
        col_import_free(imp);
    }
    KS_AUTOFREE char *rrd2 = ks_path_join(dir, "rrd/bb-2.rrd");
    KS_CHECK(!ks_path_exists(rrd2));
    size_t len;
    KS_AUTOFREE char *text = ks_read_file(inv_path, 1 << 20, &len, &err);
    KS_CHECK_STR(text, "# my servers\nmethod,name,address,port\nssh,bb-2,192.0.2.10,22\n# end\n"
                       "import,bb-1,,\n");

    /* a bad file among good ones: that server fails, the others are done */
    opt.input = KS_TEST_DATA "/import/bitbrains-bad";
    imp = col_import_run(st, &opt, &err);
    KS_CHECK(imp != NULL);
    if (imp) {
        const col_import_result *r7 = result_of(imp, "bb-7"), *r8 = result_of(imp, "bb-8");
        KS_CHECK(r7 && !r7->ok && strstr(r7->error.message, "7.csv:1: not a Bitbrains") != NULL);
        KS_CHECK(r8 && r8->ok);
        col_import_free(imp);
    }
    KS_AUTOFREE char *rrd_dir = ks_path_join(dir, "rrd");
    KS_CHECK(no_temp_files(rrd_dir));

    /* a CSV with a bad header: nothing done */
    opt.format = COL_IMPORT_CSV;
    opt.input = KS_TEST_DATA "/import/csv/bad_unit.csv";
    KS_CHECK(col_import_run(st, &opt, &err) == NULL);
    KS_CHECK(strstr(err.message, "bad_unit.csv:1:") != NULL);
    /* an invalid prefix */
    opt.prefix = "-x";
    opt.input = KS_TEST_DATA "/import/csv/comma.csv";
    KS_CHECK(col_import_run(st, &opt, &err) == NULL && err.code == KS_E_USAGE);
    /* an RRD that no import made is never replaced */
    opt.prefix = NULL;
    KS_AUTOFREE char *web = ks_path_join(dir, "rrd/web01.rrd");
    KS_CHECK(ks_write_file_atomic(web, "x", 1, 0644, &err) == 0);
    imp = col_import_run(st, &opt, &err);
    KS_CHECK(imp != NULL);
    if (imp) {
        const col_import_result *w = result_of(imp, "web01");
        KS_CHECK(w && !w->ok && strstr(w->error.message, "was not made by an import") != NULL);
        KS_CHECK(result_of(imp, "db01") && result_of(imp, "db01")->ok);
        col_import_free(imp);
    }
    ks_study_free(st);
}

KS_TEST(test_run_gz)
{
    KS_AUTOFREE char *dir = study_dir("gz");
    ks_error err;
    ks_error_clear(&err);
    ks_study *st = ks_study_open(dir, &err);
    KS_CHECK(st != NULL);
    if (!st)
        return;
    col_import_options opt = {
        .format = COL_IMPORT_CSV, .input = KS_TEST_DATA "/import/csv/comma.csv.gz", .quiet = true};
    col_import *imp = col_import_run(st, &opt, &err);
    KS_CHECK(imp != NULL);
    if (imp) {
        const col_import_result *w = result_of(imp, "web01");
        KS_CHECK(col_import_count(imp) == 2 && w && w->ok && w->rows == 3);
        /* messages name the file as given */
        KS_CHECK_STR(w ? w->file : NULL, "comma.csv.gz");
        col_import_free(imp);
    }
    KS_AUTOFREE char *rrd = ks_path_join(dir, "rrd/web01.rrd");
    KS_CHECK_NEAR(rrd_value(rrd, 1709294700, 0), 25, 1e-9);
    ks_study_free(st);
}

/* Facts that no import made, of servers listed with method import, are
 * kept; the others are written as before. */
KS_TEST(test_run_keep_facts)
{
    KS_AUTOFREE char *dir = study_dir("keep");
    KS_AUTOFREE char *inv_path = ks_path_join(dir, "inventory.csv");
    const char inv_text[] = "name,address,method,role\nweb01,,import,web\ndb01,,import,db\n";
    ks_error err;
    ks_error_clear(&err);
    KS_CHECK(ks_write_file_atomic(inv_path, inv_text, strlen(inv_text), 0644, &err) == 0);
    /* web01: rich facts as the collector writes them; db01: unreadable */
    const char rich[] = "{\"name\": \"web01\", \"cpu\": {\"model\": \"Xeon\", \"cores\": 8, "
                        "\"threads\": 16, \"mhz\": 2100.0}, \"listening\": []}\n";
    KS_AUTOFREE char *web = ks_path_join(dir, "facts/web01.json");
    KS_AUTOFREE char *db = ks_path_join(dir, "facts/db01.json");
    KS_CHECK(ks_write_file_atomic(web, rich, strlen(rich), 0644, &err) == 0);
    KS_CHECK(ks_write_file_atomic(db, "{not json", 9, 0644, &err) == 0);
    ks_study *st = ks_study_open(dir, &err);
    KS_CHECK(st != NULL);
    if (!st)
        return;
    col_import_options opt = {
        .format = COL_IMPORT_CSV, .input = KS_TEST_DATA "/import/csv/comma.csv", .quiet = true};
    col_import *imp = col_import_run(st, &opt, &err);
    KS_CHECK(imp != NULL);
    if (imp) {
        const col_import_result *w = result_of(imp, "web01"), *d = result_of(imp, "db01");
        KS_CHECK(w && w->ok && w->facts_kept);
        KS_CHECK(d && d->ok && !d->facts_kept);
        col_import_free(imp);
    }
    size_t len = 0;
    KS_AUTOFREE char *after = ks_read_file(web, 1 << 20, &len, &err);
    KS_CHECK_STR(after, rich);
    json_t *f = ks_json_read_file(db, &err);
    KS_CHECK(f != NULL);
    KS_CHECK_STR(json_string_value(json_object_get(f, "source")), "import:csv");
    json_decref(f);
    /* the RRD files were written for both */
    KS_AUTOFREE char *rrd = ks_path_join(dir, "rrd/web01.rrd");
    KS_CHECK_NEAR(rrd_value(rrd, 1709294700, 0), 25, 1e-9);

    /* again: db01's facts are now an import's, replaced; web01's kept */
    imp = col_import_run(st, &opt, &err);
    KS_CHECK(imp != NULL);
    if (imp) {
        const col_import_result *w = result_of(imp, "web01"), *d = result_of(imp, "db01");
        KS_CHECK(w && w->ok && w->replaced && w->facts_kept);
        KS_CHECK(d && d->ok && d->replaced && !d->facts_kept);
        col_import_free(imp);
    }
    KS_AUTOFREE char *again = ks_read_file(web, 1 << 20, &len, &err);
    KS_CHECK_STR(again, rich);

    /* a server that is not in the inventory: facts no import made are
     * never touched, and the server is refused */
    opt.prefix = "new-";
    KS_AUTOFREE char *other = ks_path_join(dir, "facts/new-web01.json");
    KS_CHECK(ks_write_file_atomic(other, rich, strlen(rich), 0644, &err) == 0);
    imp = col_import_run(st, &opt, &err);
    KS_CHECK(imp != NULL);
    if (imp) {
        const col_import_result *w = result_of(imp, "new-web01");
        KS_CHECK(w && !w->ok && strstr(w->error.message, "was not made by an import") != NULL);
        KS_CHECK(result_of(imp, "new-db01") && result_of(imp, "new-db01")->ok);
        col_import_free(imp);
    }
    KS_AUTOFREE char *untouched = ks_read_file(other, 1 << 20, &len, &err);
    KS_CHECK_STR(untouched, rich);
    KS_AUTOFREE char *new_rrd = ks_path_join(dir, "rrd/new-web01.rrd");
    KS_CHECK(!ks_path_exists(new_rrd));
    ks_study_free(st);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    KS_RUN(test_numbers);
    KS_RUN(test_times);
    KS_RUN(test_bitbrains_rows);
    KS_RUN(test_bitbrains_file);
    KS_RUN(test_csv_comma);
    KS_RUN(test_csv_semicolon_units);
    KS_RUN(test_csv_bom_crlf);
    KS_RUN(test_csv_by_time);
    KS_RUN(test_csv_bad_headers);
    KS_RUN(test_read_input);
    KS_RUN(test_run_bitbrains);
    KS_RUN(test_run_csv_steps);
    KS_RUN(test_run_refusals);
    KS_RUN(test_run_gz);
    KS_RUN(test_run_keep_facts);
    KS_AUTOFREE char *cmd = ks_asprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return ks_test_summary();
}
