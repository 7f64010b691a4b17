/* fuzz_import.c: libFuzzer target for collector/col_import.c.
 *
 * The input is fed to the number and time parsers, to the Bitbrains and
 * generic CSV row parsers line by line (with a header read from the input's
 * first line when it is one), and to both whole-file readers, whose rows
 * are then sorted and deduplicated. Besides the sanitizers, it aborts when
 * a result breaks the contract of col_import.h (an error without a message,
 * an unknown skip reason, a negative or infinite value, times out of order
 * or repeated after col_import_data_finish, counts that do not add up).
 *
 * Kept corpus: tests/fuzz/corpus/import (replayed by replay.c under ctest).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "col_import.h"
#include "fuzz.h"

static void check_error(int rc, const ks_error *err)
{
    REQUIRE(rc == 0 || rc == -1);
    if (rc == 0)
        return;
    REQUIRE(err->code == KS_E_PARSE);
    REQUIRE(memchr(err->message, '\0', sizeof err->message) != NULL);
    REQUIRE(err->message[0] != '\0');
}

static void check_row(const col_import_row *r)
{
    REQUIRE(r->s.t >= 315532800 && r->s.t < 4102444800);
    for (int k = 0; k < COL_DS_COUNT; k++)
        REQUIRE(isnan(r->s.v[k]) || (r->s.v[k] >= 0 && isfinite(r->s.v[k])));
    REQUIRE(isnan(r->cores) || r->cores >= 0);
    REQUIRE(isnan(r->core_mhz) || r->core_mhz >= 0);
}

static void check_problem(const col_row_problem *p)
{
    REQUIRE(p->reason < COL_SKIP_COUNT);
    REQUIRE(memchr(p->text, '\0', sizeof p->text) != NULL);
}

static void check_data(col_import_data *d)
{
    col_import_data_finish(d);
    for (size_t i = 0; i < col_import_data_count(d); i++) {
        const col_series *s = col_import_data_series(d, i);
        REQUIRE(s->name && s->name[0]);
        REQUIRE(s->step > 0);
        for (size_t k = 0; k < s->nrows; k++) {
            check_row(&s->rows[k]);
            REQUIRE(isnan(s->rows[k].s.v[0]) || s->rows[k].s.v[0] <= 100);
            if (k)
                REQUIRE(s->rows[k].s.t > s->rows[k - 1].s.t);
        }
    }
    for (int r = 0; r < COL_SKIP_COUNT; r++) {
        const char *const *ex;
        size_t n = col_import_data_examples(d, (col_skip_reason)r, &ex);
        REQUIRE(n <= COL_IMPORT_EXAMPLES);
        REQUIRE(n <= col_import_data_skipped(d, (col_skip_reason)r));
        for (size_t k = 0; k < n; k++)
            REQUIRE(ex[k] && ex[k][0]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    double v;
    int64_t t;
    if (col_import_parse_number(text, size, true, &v))
        REQUIRE(isfinite(v));
    if (col_import_parse_number(text, size, false, &v))
        REQUIRE(isfinite(v));
    if (col_import_parse_time(text, size, &t))
        REQUIRE(t >= 315532800 && t < 4102444800);

    /* line by line: the first line as a header, every line as a row */
    const char *nl = memchr(text, '\n', size);
    size_t first_len = nl ? (size_t)(nl - text) : size;
    ks_error err;
    ks_error_clear(&err);
    col_csv_layout lay;
    int csv_rc = col_csv_header(text, first_len, "f.csv", 1, &lay, &err);
    check_error(csv_rc, &err);
    ks_error_clear(&err);
    check_error(col_bb_header(text, first_len, "1.csv", 1, &err), &err);
    for (size_t pos = 0; pos < size;) {
        const char *end = memchr(text + pos, '\n', size - pos);
        size_t len = end ? (size_t)(end - (text + pos)) : size - pos;
        col_import_row row;
        col_row_problem prob;
        if (col_bb_row(text + pos, len, &row, &prob))
            check_row(&row);
        else
            check_problem(&prob);
        if (csv_rc == 0) {
            char server[128];
            if (col_csv_row(&lay, text + pos, len, &row, server, sizeof server, &prob))
                check_row(&row);
            else
                check_problem(&prob);
            REQUIRE(memchr(server, '\0', sizeof server) != NULL);
        }
        pos += len + 1;
    }

    /* whole files */
    col_import_data *d = col_import_data_new();
    ks_error_clear(&err);
    check_error(col_import_read_bitbrains(d, text, size, "1.csv", "bb-1", &err), &err);
    check_data(d);
    col_import_data_free(d);
    d = col_import_data_new();
    ks_error_clear(&err);
    check_error(col_import_read_csv(d, text, size, "f.csv", "p-", &err), &err);
    check_data(d);
    col_import_data_free(d);
    return 0;
}
