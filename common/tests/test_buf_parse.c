/* test_buf_parse.c: ks_buf (capped growable buffer) and the cursor parsers. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ks_buf.h"
#include "ks_log.h"
#include "ks_parse.h"
#include "ks_time.h"
#include "ks_test.h"

KS_TEST(buf_empty_is_empty_string)
{
    ks_buf b;
    ks_buf_init(&b, 100);
    KS_CHECK(b.data == NULL);
    KS_CHECK(b.len == 0);
    KS_CHECK_STR(ks_buf_str(&b), "");
    ks_buf_reset(&b); /* before any append: must not touch data */
    KS_CHECK_STR(ks_buf_str(&b), "");
    ks_buf_free(&b);
    ks_buf_free(&b); /* twice is harmless */
}

KS_TEST(buf_append_and_cap)
{
    ks_buf b;
    ks_buf_init(&b, 10);
    KS_CHECK(ks_buf_appends(&b, "hello") == 0);
    KS_CHECK(ks_buf_append(&b, "world", 5) == 0);
    KS_CHECK(b.len == 10);
    KS_CHECK_STR(ks_buf_str(&b), "helloworld");

    /* at the cap: one more byte fails and leaves the buffer unchanged */
    char *before = b.data;
    size_t cap = b.cap;
    KS_CHECK(ks_buf_append(&b, "!", 1) == -1);
    KS_CHECK(b.len == 10);
    KS_CHECK(b.data == before);
    KS_CHECK(b.cap == cap);
    KS_CHECK_STR(ks_buf_str(&b), "helloworld");

    /* appending nothing at the cap is fine */
    KS_CHECK(ks_buf_append(&b, "", 0) == 0);
    KS_CHECK(b.len == 10);

    /* a huge n must not wrap around the check */
    KS_CHECK(ks_buf_append(&b, "x", SIZE_MAX) == -1);
    KS_CHECK(ks_buf_append(&b, "x", SIZE_MAX - 5) == -1);
    KS_CHECK_STR(ks_buf_str(&b), "helloworld");
    ks_buf_free(&b);

    /* a block larger than the cap, into an empty buffer: nothing appended */
    ks_buf_init(&b, 4);
    KS_CHECK(ks_buf_appends(&b, "abcde") == -1);
    KS_CHECK(b.len == 0);
    KS_CHECK(b.data == NULL);
    KS_CHECK(ks_buf_appends(&b, "abcd") == 0);
    KS_CHECK_STR(ks_buf_str(&b), "abcd");
    ks_buf_free(&b);
}

KS_TEST(buf_csv_field)
{
    ks_buf b;
    ks_buf_init(&b, 1024);
    ks_buf_csv_field(&b, "plain");
    ks_buf_appends(&b, "|");
    ks_buf_csv_field(&b, "a,b");
    ks_buf_appends(&b, "|");
    ks_buf_csv_field(&b, "say \"hi\", \"x\"");
    ks_buf_appends(&b, "|");
    ks_buf_csv_field(&b, " padded");
    ks_buf_appends(&b, "|");
    ks_buf_csv_field(&b, "two\nlines");
    ks_buf_appends(&b, "|");
    ks_buf_csv_field(&b, "");
    KS_CHECK_STR(ks_buf_str(&b),
                 "plain|\"a,b\"|\"say \"\"hi\"\", \"\"x\"\"\"|\" padded\"|\"two\nlines\"|");
    ks_buf_free(&b);
    ks_buf_init(&b, 4); /* the cap holds */
    KS_CHECK(ks_buf_csv_field(&b, "a,bcdef") == -1);
    ks_buf_free(&b);
}

KS_TEST(buf_partial_fit_is_all_or_nothing)
{
    ks_buf b;
    ks_buf_init(&b, 8);
    KS_CHECK(ks_buf_appends(&b, "12345") == 0);
    KS_CHECK(ks_buf_appends(&b, "6789") == -1); /* 9 > 8 */
    KS_CHECK(b.len == 5);
    KS_CHECK_STR(ks_buf_str(&b), "12345");
    KS_CHECK(ks_buf_printf(&b, "%d", 6789) == -1);
    KS_CHECK_STR(ks_buf_str(&b), "12345");
    KS_CHECK(ks_buf_printf(&b, "%s", "678") == 0);
    KS_CHECK_STR(ks_buf_str(&b), "12345678");
    ks_buf_free(&b);
}

KS_TEST(buf_printf_growth)
{
    ks_buf b;
    ks_buf_init(&b, 1 << 20);
    KS_CHECK(ks_buf_printf(&b, "%s=%d;", "a", 1) == 0);
    KS_CHECK_STR(ks_buf_str(&b), "a=1;");

    /* longer than the 256-byte stack buffer of vprintf */
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    KS_CHECK(ks_buf_printf(&b, "[%s]%u", big, 42u) == 0);
    KS_CHECK(b.len == 4 + 1 + 999 + 1 + 2);
    KS_CHECK(strncmp(b.data, "a=1;[xxx", 8) == 0);
    KS_CHECK(strcmp(b.data + b.len - 4, "x]42") == 0);
    KS_CHECK(b.data[b.len] == '\0');
    KS_CHECK(b.cap > b.len);

    /* many small appends keep the contents intact through reallocations */
    ks_buf_reset(&b);
    for (int i = 0; i < 1000; i++)
        KS_CHECK(ks_buf_printf(&b, "%03d,", i) == 0);
    KS_CHECK(b.len == 4000);
    KS_CHECK(strncmp(b.data, "000,001,002,", 12) == 0);
    KS_CHECK(strcmp(b.data + 3992, "998,999,") == 0);
    ks_buf_free(&b);

    /* a big printf beyond the cap leaves the buffer unchanged */
    ks_buf_init(&b, 500);
    KS_CHECK(ks_buf_appends(&b, "keep") == 0);
    KS_CHECK(ks_buf_printf(&b, "%s", big) == -1);
    KS_CHECK_STR(ks_buf_str(&b), "keep");
    ks_buf_free(&b);
}

KS_TEST(buf_consume)
{
    ks_buf b;
    ks_buf_init(&b, 100);
    ks_buf_appends(&b, "line1\nline2\n");
    ks_buf_consume(&b, 6);
    KS_CHECK(b.len == 6);
    KS_CHECK_STR(ks_buf_str(&b), "line2\n");
    ks_buf_consume(&b, 0);
    KS_CHECK_STR(ks_buf_str(&b), "line2\n");
    ks_buf_consume(&b, 6); /* everything */
    KS_CHECK(b.len == 0);
    KS_CHECK_STR(ks_buf_str(&b), "");
    /* the storage is kept and reused */
    KS_CHECK(b.data != NULL);
    ks_buf_appends(&b, "abc");
    ks_buf_consume(&b, 1);
    KS_CHECK_STR(ks_buf_str(&b), "bc");
    /* consuming frees room under the cap */
    ks_buf_free(&b);
    ks_buf_init(&b, 4);
    KS_CHECK(ks_buf_appends(&b, "abcd") == 0);
    KS_CHECK(ks_buf_appends(&b, "e") == -1);
    ks_buf_consume(&b, 2);
    KS_CHECK(ks_buf_appends(&b, "ef") == 0);
    KS_CHECK_STR(ks_buf_str(&b), "cdef");
    ks_buf_free(&b);
}

KS_TEST(buf_steal)
{
    ks_buf b;
    ks_buf_init(&b, 100);
    char *s = ks_buf_steal(&b); /* empty: a fresh "" */
    KS_CHECK(s != NULL);
    KS_CHECK_STR(s, "");
    free(s);

    ks_buf_appends(&b, "owned");
    s = ks_buf_steal(&b);
    KS_CHECK_STR(s, "owned");
    KS_CHECK(b.data == NULL);
    KS_CHECK(b.len == 0);
    KS_CHECK(b.cap == 0);
    KS_CHECK(b.max == 100); /* still usable with the same cap */
    KS_CHECK_STR(ks_buf_str(&b), "");
    KS_CHECK(ks_buf_appends(&b, "again") == 0);
    KS_CHECK_STR(ks_buf_str(&b), "again");
    KS_CHECK_STR(s, "owned"); /* the stolen string is independent */
    free(s);
    ks_buf_free(&b);
}

KS_TEST(cur_u64)
{
    uint64_t v = 7;
    ks_cursor c = ks_cursor_make("  123 456", 9);
    KS_CHECK(ks_cur_u64(&c, &v));
    KS_CHECK(v == 123);
    KS_CHECK(ks_cur_u64(&c, &v));
    KS_CHECK(v == 456);
    KS_CHECK(ks_cur_eof(&c));
    KS_CHECK(!ks_cur_u64(&c, &v));

    const char *max = "18446744073709551615";
    c = ks_cursor_make(max, strlen(max));
    KS_CHECK(ks_cur_u64(&c, &v));
    KS_CHECK(v == UINT64_MAX);
    KS_CHECK(ks_cur_eof(&c));

    /* one more than UINT64_MAX, and a longer run: rejected, cursor kept */
    const char *over = "18446744073709551616";
    c = ks_cursor_make(over, strlen(over));
    v = 7;
    KS_CHECK(!ks_cur_u64(&c, &v));
    KS_CHECK(v == 7);
    KS_CHECK(c.p == over);
    const char *over2 = "99999999999999999999999";
    c = ks_cursor_make(over2, strlen(over2));
    KS_CHECK(!ks_cur_u64(&c, &v));
    KS_CHECK(v == 7);

    /* garbage: no digits */
    c = ks_cursor_make("-1", 2);
    KS_CHECK(!ks_cur_u64(&c, &v));
    c = ks_cursor_make("abc", 3);
    KS_CHECK(!ks_cur_u64(&c, &v));

    /* the cursor is bounded: digits past end are not read */
    c = ks_cursor_make("12345", 3);
    KS_CHECK(ks_cur_u64(&c, &v));
    KS_CHECK(v == 123);

    /* stops at the first non-digit */
    c = ks_cursor_make("42kB", 4);
    KS_CHECK(ks_cur_u64(&c, &v));
    KS_CHECK(v == 42);
    KS_CHECK(ks_cur_equals(&c, "kB"));
}

KS_TEST(cur_double)
{
    double d = 0;
    ks_cursor c = ks_cursor_make(" 123.45 rest", 12);
    KS_CHECK(ks_cur_double(&c, &d));
    KS_CHECK_NEAR(d, 123.45, 1e-12);
    KS_CHECK(ks_cur_equals(&c, " rest"));

    c = ks_cursor_make("-0.5", 4);
    KS_CHECK(ks_cur_double(&c, &d));
    KS_CHECK_NEAR(d, -0.5, 1e-15);
    c = ks_cursor_make("+7", 2);
    KS_CHECK(ks_cur_double(&c, &d));
    KS_CHECK_NEAR(d, 7, 0);
    c = ks_cursor_make(".25", 3);
    KS_CHECK(ks_cur_double(&c, &d));
    KS_CHECK_NEAR(d, 0.25, 0);
    c = ks_cursor_make("3.", 2);
    KS_CHECK(ks_cur_double(&c, &d));
    KS_CHECK_NEAR(d, 3, 0);

    /* a second dot ends the number */
    c = ks_cursor_make("1.2.3", 5);
    KS_CHECK(ks_cur_double(&c, &d));
    KS_CHECK_NEAR(d, 1.2, 1e-12);
    KS_CHECK(ks_cur_equals(&c, ".3"));

    /* no digits */
    d = 99;
    c = ks_cursor_make("-.", 2);
    KS_CHECK(!ks_cur_double(&c, &d));
    c = ks_cursor_make("x1", 2);
    KS_CHECK(!ks_cur_double(&c, &d));
    c = ks_cursor_make("", 0);
    KS_CHECK(!ks_cur_double(&c, &d));
    KS_CHECK(d == 99);

    /* bounded: "1.5" of "1.59" */
    c = ks_cursor_make("1.59", 3);
    KS_CHECK(ks_cur_double(&c, &d));
    KS_CHECK_NEAR(d, 1.5, 0);

    /* absurdly long numbers are refused rather than truncated */
    char longnum[100];
    memset(longnum, '1', sizeof longnum);
    c = ks_cursor_make(longnum, sizeof longnum);
    KS_CHECK(!ks_cur_double(&c, &d));
    KS_CHECK(c.p == longnum);
}

KS_TEST(cur_word_accept_equals)
{
    const char *text = "  cpu  100\t200\nnext";
    ks_cursor c = ks_cursor_make(text, strlen(text));
    const char *w;
    size_t n;
    KS_CHECK(ks_cur_word(&c, &w, &n));
    KS_CHECK(n == 3 && memcmp(w, "cpu", 3) == 0);
    KS_CHECK(ks_cur_word(&c, &w, &n));
    KS_CHECK(n == 3 && memcmp(w, "100", 3) == 0);
    KS_CHECK(ks_cur_word(&c, &w, &n));
    KS_CHECK(n == 3 && memcmp(w, "200", 3) == 0);
    /* a word stops at the newline */
    KS_CHECK(!ks_cur_word(&c, &w, &n));
    KS_CHECK(n == 0);
    KS_CHECK(ks_cur_accept(&c, "\n"));
    KS_CHECK(!ks_cur_accept(&c, "nextx"));
    KS_CHECK(ks_cur_equals(&c, "next"));
    KS_CHECK(!ks_cur_equals(&c, "nex"));
    KS_CHECK(ks_cur_accept(&c, "ne"));
    KS_CHECK(ks_cur_len(&c) == 2);
    KS_CHECK(ks_cur_word(&c, &w, &n));
    KS_CHECK(n == 2 && memcmp(w, "xt", 2) == 0);
    KS_CHECK(ks_cur_eof(&c));
    KS_CHECK(!ks_cur_word(&c, &w, &n));
    KS_CHECK(ks_cur_equals(&c, ""));
}

/* Collect the lines of text as "a|b|c". */
static char *lines_of(const char *text, size_t len, size_t *count)
{
    ks_buf out;
    ks_buf_init(&out, 4096);
    ks_cursor c = ks_cursor_make(text, len), line;
    *count = 0;
    while (ks_cur_line(&c, &line)) {
        if ((*count)++)
            ks_buf_appends(&out, "|");
        ks_buf_append(&out, line.p, ks_cur_len(&line));
    }
    return ks_buf_steal(&out);
}

KS_TEST(cur_line_splitting)
{
    size_t n;
    char *s = lines_of("a\nbb\nccc\n", 9, &n);
    KS_CHECK(n == 3);
    KS_CHECK_STR(s, "a|bb|ccc");
    free(s);

    s = lines_of("a\nbb\nccc", 8, &n); /* no trailing newline */
    KS_CHECK(n == 3);
    KS_CHECK_STR(s, "a|bb|ccc");
    free(s);

    s = lines_of("a\n\nb\n", 5, &n); /* empty line kept */
    KS_CHECK(n == 3);
    KS_CHECK_STR(s, "a||b");
    free(s);

    s = lines_of("\n", 1, &n);
    KS_CHECK(n == 1);
    KS_CHECK_STR(s, "");
    free(s);

    s = lines_of("", 0, &n);
    KS_CHECK(n == 0);
    KS_CHECK_STR(s, "");
    free(s);

    /* CR is left for the caller (ks_trim removes it) */
    s = lines_of("x\r\ny\r\n", 6, &n);
    KS_CHECK(n == 2);
    KS_CHECK_STR(s, "x\r|y\r");
    free(s);

    /* bounded: text past len is not seen */
    s = lines_of("one\ntwo\nthree", 6, &n);
    KS_CHECK(n == 2);
    KS_CHECK_STR(s, "one|tw");
    free(s);
}

KS_TEST(parse_u64_whole)
{
    uint64_t v = 0;
    KS_CHECK(ks_parse_u64(" 42 ", &v) && v == 42);
    KS_CHECK(ks_parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
    v = 5;
    KS_CHECK(!ks_parse_u64("18446744073709551616", &v));
    KS_CHECK(!ks_parse_u64("", &v));
    KS_CHECK(!ks_parse_u64("12x", &v));
    KS_CHECK(!ks_parse_u64("1 2", &v));
    KS_CHECK(!ks_parse_u64("-1", &v));
    KS_CHECK(v == 5);
}

KS_TEST(parse_int_ranges)
{
    long v = 0;
    KS_CHECK(ks_parse_int("22", 1, 65535, &v) && v == 22);
    KS_CHECK(ks_parse_int(" 65535\t", 1, 65535, &v) && v == 65535);
    KS_CHECK(ks_parse_int("1", 1, 65535, &v) && v == 1);
    KS_CHECK(ks_parse_int("-5", -10, 10, &v) && v == -5);
    KS_CHECK(ks_parse_int("-10", -10, 10, &v) && v == -10);
    KS_CHECK(ks_parse_int("0", 0, 0, &v) && v == 0);
    KS_CHECK(ks_parse_int("007", 0, 10, &v) && v == 7);

    v = 1234;
    KS_CHECK(!ks_parse_int("0", 1, 65535, &v));
    KS_CHECK(!ks_parse_int("65536", 1, 65535, &v));
    KS_CHECK(!ks_parse_int("70000", 1, 65535, &v));
    KS_CHECK(!ks_parse_int("-11", -10, 10, &v));
    KS_CHECK(!ks_parse_int("abc", 1, 65535, &v));
    KS_CHECK(!ks_parse_int("", 1, 65535, &v));
    KS_CHECK(!ks_parse_int("-", -10, 10, &v));
    KS_CHECK(!ks_parse_int("- 5", -10, 10, &v));
    KS_CHECK(!ks_parse_int("--5", -10, 10, &v));
    KS_CHECK(!ks_parse_int("+5", -10, 10, &v));
    KS_CHECK(!ks_parse_int("5x", -10, 10, &v));
    KS_CHECK(!ks_parse_int("5 5", -10, 10, &v));
    KS_CHECK(!ks_parse_int("1.5", -10, 10, &v));
    KS_CHECK(v == 1234); /* untouched on failure */

    /* the limits of long */
    char buf[64];
    snprintf(buf, sizeof buf, "%ld", LONG_MAX);
    KS_CHECK(ks_parse_int(buf, LONG_MIN, LONG_MAX, &v) && v == LONG_MAX);
    snprintf(buf, sizeof buf, "%ld", LONG_MIN);
    KS_CHECK(ks_parse_int(buf, LONG_MIN, LONG_MAX, &v) && v == LONG_MIN);
    KS_CHECK(!ks_parse_int("9223372036854775808", LONG_MIN, LONG_MAX, &v));
    KS_CHECK(!ks_parse_int("-9223372036854775809", LONG_MIN, LONG_MAX, &v));
    KS_CHECK(!ks_parse_int("99999999999999999999999", LONG_MIN, LONG_MAX, &v));
}

KS_TEST(parse_double_whole)
{
    double d = 0;
    KS_CHECK(ks_parse_double("0.75", &d));
    KS_CHECK_NEAR(d, 0.75, 0);
    KS_CHECK(ks_parse_double(" -2.5e3 ", &d));
    KS_CHECK_NEAR(d, -2500, 0);
    d = 1;
    KS_CHECK(!ks_parse_double("", &d));
    KS_CHECK(!ks_parse_double("abc", &d));
    KS_CHECK(!ks_parse_double("1.5x", &d));
    KS_CHECK(!ks_parse_double("nan", &d));
    KS_CHECK(!ks_parse_double("inf", &d));
    KS_CHECK(!ks_parse_double("1e999", &d));
    KS_CHECK(d == 1);
}

KS_TEST(parse_bool)
{
    const char *yes[] = {"1", "yes", "YES", "True", "on", "On"};
    const char *no[] = {"0", "no", "No", "FALSE", "off", "OFF"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        bool b = false;
        KS_CHECK(ks_parse_bool(yes[i], &b) && b);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        bool b = true;
        KS_CHECK(ks_parse_bool(no[i], &b) && !b);
    }
    bool b = true;
    KS_CHECK(!ks_parse_bool("", &b));
    KS_CHECK(!ks_parse_bool("y", &b));
    KS_CHECK(!ks_parse_bool("2", &b));
    KS_CHECK(!ks_parse_bool("yess", &b));
    KS_CHECK(!ks_parse_bool("enabled", &b));
    KS_CHECK(b == true);
}

KS_TEST(trim)
{
    char a[] = "  \thello world \r\n";
    char *r = ks_trim(a);
    KS_CHECK(r == a);
    KS_CHECK_STR(a, "hello world");
    char b[] = "";
    KS_CHECK_STR(ks_trim(b), "");
    char c[] = " \t\r\n ";
    KS_CHECK_STR(ks_trim(c), "");
    char d[] = "x";
    KS_CHECK_STR(ks_trim(d), "x");
    char e[] = "a  b";
    KS_CHECK_STR(ks_trim(e), "a  b");
    char f[] = "value\r";
    KS_CHECK_STR(ks_trim(f), "value");
}

KS_TEST(words)
{
    char **v = NULL;
    size_t n = 0;
    ks_words_append("a, b;;c  ", ", ;", &v, &n);
    ks_words_append("", ", ;", &v, &n);
    ks_words_append(" ,d", ", ;", &v, &n); /* appends to what is there */
    KS_CHECK(n == 4);
    if (n == 4) {
        KS_CHECK_STR(v[0], "a");
        KS_CHECK_STR(v[1], "b");
        KS_CHECK_STR(v[2], "c");
        KS_CHECK_STR(v[3], "d");
    }
    ks_words_free(v, n);
    ks_words_free(NULL, 0);
}

KS_TEST(times)
{
    char buf[KS_TIME_ISO_LEN];
    ks_time_iso(1795345578, buf);
    KS_CHECK_STR(buf, "2026-11-22T11:06:18Z"); /* date -u -d @1795345578 */
    time_t t = 0;
    KS_CHECK(ks_time_parse_iso(buf, &t) && t == 1795345578);
    KS_CHECK(!ks_time_parse_iso("2026-11-22T10:26:18", &t)); /* no zone */
    KS_CHECK(!ks_time_parse_iso("2026-11-22T10:26:18Zx", &t));
    KS_CHECK(!ks_time_parse_iso(NULL, &t));
    KS_CHECK(ks_date_parse("2024-02-29", &t) && t == 1709164800);
    KS_CHECK(!ks_date_parse("2023-02-29", &t)); /* not a leap year */
    KS_CHECK(!ks_date_parse("2027-02-30", &t)); /* timegm would move it to March */
    KS_CHECK(!ks_date_parse("2027-13-01", &t));
    KS_CHECK(!ks_date_parse("2027-1-01x", &t));
    KS_CHECK(!ks_date_parse("1969-12-31", &t));
    KS_CHECK(!ks_date_parse("2027/01/04", &t));
}

/* Control characters escaped for a terminal: newline and tab kept, the
 * rest (ESC, BEL, CR, NUL, DEL) as \xHH or \r; UTF-8 left alone. */
KS_TEST(escape_controls)
{
    static const char in[] = "a\x1b[2J\x07"
                             "b\rc\nd\te\0f\x7f\xc3\xa9";
    char out[4 * sizeof in + 1];
    size_t n = ks_escape_controls(in, sizeof in - 1, out);
    KS_CHECK_STR(out, "a\\x1b[2J\\x07b\\rc\nd\te\\x00f\\x7f\xc3\xa9");
    KS_CHECK(n == strlen(out));
    KS_CHECK(ks_escape_controls("", 0, out) == 0 && out[0] == '\0');
}

int main(void)
{
    KS_RUN(buf_empty_is_empty_string);
    KS_RUN(buf_append_and_cap);
    KS_RUN(buf_partial_fit_is_all_or_nothing);
    KS_RUN(buf_csv_field);
    KS_RUN(buf_printf_growth);
    KS_RUN(buf_consume);
    KS_RUN(buf_steal);
    KS_RUN(cur_u64);
    KS_RUN(cur_double);
    KS_RUN(cur_word_accept_equals);
    KS_RUN(cur_line_splitting);
    KS_RUN(parse_u64_whole);
    KS_RUN(parse_int_ranges);
    KS_RUN(parse_double_whole);
    KS_RUN(parse_bool);
    KS_RUN(trim);
    KS_RUN(words);
    KS_RUN(times);
    KS_RUN(escape_controls);
    return ks_test_summary();
}
