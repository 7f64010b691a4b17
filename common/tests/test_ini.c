/* test_ini.c: the study.ini reader. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "ks_error.h"
#include "ks_ini.h"
#include "ks_test.h"

static ks_ini *parse(const char *text, ks_error *err)
{
    ks_error_clear(err);
    return ks_ini_parse(text, strlen(text), "study.ini", err);
}

/* Parse text that must fail; check the message contains each of want[]. */
static void expect_error(const char *text, const char *const *want, size_t nwant)
{
    ks_error err;
    ks_ini *ini = parse(text, &err);
    KS_CHECK(ini == NULL);
    KS_CHECK(err.code == KS_E_CONFIG);
    KS_CHECK_STR(err.component, "common");
    for (size_t i = 0; i < nwant; i++) {
        if (!strstr(err.message, want[i])) {
            fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err.message, want[i]);
            KS_CHECK(strstr(err.message, want[i]) != NULL);
        }
    }
    ks_ini_free(ini);
}

#define EXPECT_ERROR(text, ...)                                                                    \
    do {                                                                                           \
        static const char *const want_[] = {__VA_ARGS__};                                          \
        expect_error((text), want_, sizeof want_ / sizeof want_[0]);                               \
    } while (0)

KS_TEST(sections_keys_comments)
{
    size_t len;
    char *text = ks_test_read("ini/study.ini", &len);
    ks_error err;
    ks_ini *ini = ks_ini_parse(text, len, "study.ini", &err);
    KS_CHECK(ini != NULL);
    if (!ini) {
        fprintf(stderr, "  %s\n", err.message);
        free(text);
        return;
    }
    KS_CHECK_STR(ks_ini_filename(ini), "study.ini");
    KS_CHECK(ks_ini_section_count(ini) == 3);
    KS_CHECK_STR(ks_ini_section_name(ini, 0), "study");
    KS_CHECK_STR(ks_ini_section_name(ini, 1), "collector");
    /* "[host-model   big]": runs of blanks collapse to one */
    KS_CHECK_STR(ks_ini_section_name(ini, 2), "host-model big");
    KS_CHECK(ks_ini_section_name(ini, 3) == NULL);

    /* values trimmed, inner blanks kept */
    KS_CHECK_STR(ks_ini_get(ini, "study", "name"), "web farm  migration");
    KS_CHECK(ks_ini_line(ini, "study", "name") == 5);
    KS_CHECK_STR(ks_ini_get(ini, "collector", "interval"), "30");
    KS_CHECK(ks_ini_line(ini, "collector", "interval") == 8);
    KS_CHECK_STR(ks_ini_get(ini, "collector", "connect_timeout"), "5");
    KS_CHECK_STR(ks_ini_get(ini, "collector", "rrdcached"), "");
    KS_CHECK_STR(ks_ini_get(ini, "host-model big", "cpus"), "32");
    KS_CHECK(ks_ini_line(ini, "host-model big", "cpus") == 13);
    /* no inline comments: ';' and '#' belong to the value; only the first '=' splits */
    KS_CHECK_STR(ks_ini_get(ini, "host-model big", "note"), "a ; b # c = d");

    /* keys are case-insensitive, sections exact */
    KS_CHECK_STR(ks_ini_get(ini, "collector", "INTERVAL"), "30");
    KS_CHECK(ks_ini_get(ini, "Collector", "interval") == NULL);
    KS_CHECK(ks_ini_get(ini, "host-model   big", "cpus") == NULL);
    /* absent */
    KS_CHECK(ks_ini_get(ini, "study", "interval") == NULL);
    KS_CHECK(ks_ini_get(ini, "nosuch", "name") == NULL);
    KS_CHECK(ks_ini_line(ini, "nosuch", "name") == 0);
    ks_ini_free(ini);
    free(text);
}

KS_TEST(blank_collapse_and_tabs)
{
    ks_error err;
    ks_ini *ini = parse("[ host-model \t big ]\nx = 1\n[a\t\tb  c]\n", &err);
    KS_CHECK(ini != NULL);
    if (!ini)
        return;
    KS_CHECK_STR(ks_ini_section_name(ini, 0), "host-model big");
    KS_CHECK_STR(ks_ini_section_name(ini, 1), "a b c");
    KS_CHECK_STR(ks_ini_get(ini, "host-model big", "x"), "1");
    ks_ini_free(ini);

    /* "[a  b]" and "[a b]" are the same section */
    EXPECT_ERROR("[host-model big]\n[host-model  big]\n",
                 "study.ini:2:", "section [host-model big] appears twice");
}

KS_TEST(empty_and_comment_only)
{
    ks_error err;
    ks_ini *ini = parse("", &err);
    KS_CHECK(ini != NULL);
    if (ini) {
        KS_CHECK(ks_ini_section_count(ini) == 0);
        KS_CHECK(ks_ini_get(ini, "study", "name") == NULL);
    }
    ks_ini_free(ini);
    ini = parse("# one\n; two\n   # indented\n\n\t\n", &err);
    KS_CHECK(ini != NULL);
    if (ini)
        KS_CHECK(ks_ini_section_count(ini) == 0);
    ks_ini_free(ini);
    /* no trailing newline */
    ini = parse("[s]\nk = v", &err);
    KS_CHECK(ini != NULL);
    if (ini)
        KS_CHECK_STR(ks_ini_get(ini, "s", "k"), "v");
    ks_ini_free(ini);
}

KS_TEST(crlf_and_bom)
{
    size_t len;
    char *text = ks_test_read("ini/crlf.ini", &len);
    ks_error err;
    ks_ini *ini = ks_ini_parse(text, len, "crlf.ini", &err);
    KS_CHECK(ini != NULL);
    if (ini) {
        KS_CHECK_STR(ks_ini_get(ini, "study", "name"), "crlf");
        KS_CHECK_STR(ks_ini_get(ini, "collector", "interval"), "60");
        KS_CHECK(ks_ini_line(ini, "collector", "interval") == 5);
    }
    ks_ini_free(ini);
    free(text);

    /* a file saved by an editor that writes a UTF-8 byte order mark */
    ini = parse("\xEF\xBB\xBF[study]\nname = bom\n", &err);
    KS_CHECK(ini != NULL);
    if (ini)
        KS_CHECK_STR(ks_ini_get(ini, "study", "name"), "bom");
    else
        fprintf(stderr, "  %s\n", err.message);
    ks_ini_free(ini);
}

KS_TEST(duplicate_key)
{
    EXPECT_ERROR("[collector]\ninterval = 30\n\ninterval = 60\n", "study.ini:4:", "'interval'",
                 "[collector]", "already set on line 2");
    /* case-insensitive keys collide too */
    EXPECT_ERROR("[collector]\nInterval = 30\nINTERVAL = 60\n",
                 "study.ini:3:", "already set on line 2");
    /* the same key in two sections is fine */
    ks_error err;
    ks_ini *ini = parse("[a]\nk = 1\n[b]\nk = 2\n", &err);
    KS_CHECK(ini != NULL);
    if (ini) {
        KS_CHECK_STR(ks_ini_get(ini, "a", "k"), "1");
        KS_CHECK_STR(ks_ini_get(ini, "b", "k"), "2");
    }
    ks_ini_free(ini);
}

KS_TEST(duplicate_section)
{
    EXPECT_ERROR("[study]\nname = x\n[collector]\n[study]\n",
                 "study.ini:4:", "section [study] appears twice", "merge");
}

KS_TEST(syntax_errors)
{
    EXPECT_ERROR("# header comment\ninterval = 30\n[collector]\n",
                 "study.ini:2:", "key 'interval' comes before any [section]");
    EXPECT_ERROR("[study]\nname = x\n[collector\ninterval = 1\n", "study.ini:3:", "'[collector'",
                 "not closed");
    EXPECT_ERROR("[study] extra\n", "study.ini:1:", "not closed");
    EXPECT_ERROR("[study]\n[]\n", "study.ini:2:", "empty section name");
    EXPECT_ERROR("[study]\n[   ]\n", "study.ini:2:", "empty section name");
    EXPECT_ERROR("[study]\njust words\n", "study.ini:2:", "expected 'key = value'", "'just words'");
    EXPECT_ERROR("[study]\n = value\n", "study.ini:2:", "a value without a key");
}

KS_TEST(error_names_the_file)
{
    ks_error err;
    const char *text = "[s]\n\n\nbad\n";
    ks_ini *ini = ks_ini_parse(text, strlen(text), "/studies/a/study.ini", &err);
    KS_CHECK(ini == NULL);
    KS_CHECK(strncmp(err.message, "/studies/a/study.ini:4: ", 24) == 0);
    KS_CHECK(strcmp(err.func, "ks_ini_parse") == 0);
}

KS_TEST(typed_getters)
{
    ks_error err;
    ks_ini *ini = parse("[collector]\n"
                        "interval = 30\n"
                        "empty =\n"
                        "neg = -5\n"
                        "big = 100000\n"
                        "word = soon\n"
                        "frac = 0.75\n"
                        "ratio = 1.5e1\n"
                        "[host-model big]\n"
                        "cpus = 2x\n",
                        &err);
    KS_CHECK(ini != NULL);
    if (!ini)
        return;
    long l = 0;
    double d = 0;

    ks_error_clear(&err);
    KS_CHECK(ks_ini_get_long(ini, "collector", "interval", 60, 1, 3600, &l, &err) == 0);
    KS_CHECK(l == 30);
    /* absent and empty: the default, no error */
    KS_CHECK(ks_ini_get_long(ini, "collector", "max_backoff", 300, 1, 3600, &l, &err) == 0);
    KS_CHECK(l == 300);
    KS_CHECK(ks_ini_get_long(ini, "nosuch", "interval", 7, 1, 3600, &l, &err) == 0);
    KS_CHECK(l == 7);
    KS_CHECK(ks_ini_get_long(ini, "collector", "empty", 11, 1, 3600, &l, &err) == 0);
    KS_CHECK(l == 11);
    KS_CHECK(ks_ini_get_long(ini, "collector", "neg", 0, -10, 10, &l, &err) == 0);
    KS_CHECK(l == -5);
    KS_CHECK(err.code == KS_OK);

    /* out of range, garbage: an error quoting file:line, key, range and value */
    KS_CHECK(ks_ini_get_long(ini, "collector", "big", 60, 1, 3600, &l, &err) == -1);
    KS_CHECK(err.code == KS_E_CONFIG);
    KS_CHECK(strstr(err.message, "study.ini:5:") == err.message);
    KS_CHECK(strstr(err.message, "'big' in [collector]") != NULL);
    KS_CHECK(strstr(err.message, "from 1 to 3600") != NULL);
    KS_CHECK(strstr(err.message, "not '100000'") != NULL);

    KS_CHECK(ks_ini_get_long(ini, "collector", "neg", 0, 0, 10, &l, &err) == -1);
    KS_CHECK(strstr(err.message, "study.ini:4:") == err.message);
    KS_CHECK(ks_ini_get_long(ini, "collector", "word", 60, 1, 3600, &l, &err) == -1);
    KS_CHECK(strstr(err.message, "study.ini:6:") == err.message);
    KS_CHECK(strstr(err.message, "not 'soon'") != NULL);
    KS_CHECK(ks_ini_get_long(ini, "collector", "frac", 60, 1, 3600, &l, &err) == -1);
    KS_CHECK(ks_ini_get_long(ini, "host-model big", "cpus", 1, 1, 1024, &l, &err) == -1);
    KS_CHECK(strstr(err.message, "study.ini:10:") == err.message);
    KS_CHECK(strstr(err.message, "[host-model big]") != NULL);

    ks_error_clear(&err);
    KS_CHECK(ks_ini_get_double(ini, "collector", "frac", 0.5, 0, 1, &d, &err) == 0);
    KS_CHECK_NEAR(d, 0.75, 0);
    KS_CHECK(ks_ini_get_double(ini, "collector", "ratio", 0, 0, 100, &d, &err) == 0);
    KS_CHECK_NEAR(d, 15, 0);
    KS_CHECK(ks_ini_get_double(ini, "collector", "interval", 0, 0, 100, &d, &err) == 0);
    KS_CHECK_NEAR(d, 30, 0);
    KS_CHECK(ks_ini_get_double(ini, "collector", "absent", 2.5, 0, 100, &d, &err) == 0);
    KS_CHECK_NEAR(d, 2.5, 0);
    KS_CHECK(ks_ini_get_double(ini, "collector", "empty", 3.5, 0, 100, &d, &err) == 0);
    KS_CHECK_NEAR(d, 3.5, 0);
    KS_CHECK(err.code == KS_OK);

    d = 42;
    KS_CHECK(ks_ini_get_double(ini, "collector", "frac", 0.5, 0, 0.5, &d, &err) == -1);
    KS_CHECK(d == 42);
    KS_CHECK(err.code == KS_E_CONFIG);
    KS_CHECK(strstr(err.message, "study.ini:7:") == err.message);
    KS_CHECK(strstr(err.message, "'frac' in [collector]") != NULL);
    KS_CHECK(strstr(err.message, "from 0 to 0.5") != NULL);
    KS_CHECK(strstr(err.message, "not '0.75'") != NULL);
    KS_CHECK(ks_ini_get_double(ini, "collector", "word", 0, 0, 1, &d, &err) == -1);
    KS_CHECK(strstr(err.message, "study.ini:6:") == err.message);
    KS_CHECK(ks_ini_get_double(ini, "collector", "neg", 0, 0, DBL_MAX, &d, &err) == -1);
    KS_CHECK(strstr(err.message, "not '-5'") != NULL);
    ks_ini_free(ini);
}

/* ks_ini_check: unknown sections and keys refused with file:line and the
 * nearest known name; free keys where the spec says any; named kinds. */
KS_TEST(check_unknown_names)
{
    static const char *const pol[] = {"headroom_percent", "percentile", NULL};
    static const char *const hm[] = {"cores", "mhz", NULL};
    static const ks_ini_section_spec spec[] = {{"policy", pol}, {"host-model ", hm}, {"pin", NULL}};
    ks_error err;
    struct {
        const char *text, *want;
    } cases[] = {
        {"[policy]\nheadrom_percent = 0\n", "study.ini:2: unknown key 'headrom_percent' in "
                                            "[policy]: did you mean 'headroom_percent'?"},
        {"[policy]\nPERCENTILE = 90\nzzz = 1\n", "study.ini:3: unknown key 'zzz' in [policy]: see"},
        {"[polcy]\npercentile = 9\n",
         "study.ini:1: unknown section [polcy]: did you mean [policy]?"},
        {"[policy]\n\n[host-modle big]\ncores = 1\n",
         "study.ini:3: unknown section [host-modle big]: did you mean [host-model NAME]?"},
        {"[host-model]\n", "study.ini:1: unknown section [host-model]"},
        {"[host-model big]\ncore = 4\n", "did you mean 'cores'?"},
        {"[weather]\n", "study.ini:1: unknown section [weather]: see"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ks_ini *ini = parse(cases[i].text, &err);
        KS_CHECK(ini != NULL);
        ks_error_clear(&err);
        KS_CHECK(ini && ks_ini_check(ini, spec, 3, &err) < 0 && err.code == KS_E_CONFIG);
        if (!strstr(err.message, cases[i].want))
            fprintf(stderr, "  case %zu: \"%s\" lacks \"%s\"\n", i, err.message, cases[i].want);
        KS_CHECK(strstr(err.message, cases[i].want) != NULL);
        ks_ini_free(ini);
    }
    ks_ini *ini =
        parse("[policy]\nPercentile = 90\n[pin]\nanything = 2\n[host-model  a b]\nmhz = 1\n", &err);
    KS_CHECK(ini && ks_ini_check(ini, spec, 3, &err) == 0);
    size_t nk = 0;
    const char **keys = ks_ini_keys(ini, "pin", &nk);
    KS_CHECK(nk == 1 && keys && strcmp(keys[0], "anything") == 0);
    free(keys);
    KS_CHECK(ks_ini_keys(ini, "nosuch", &nk) == NULL && nk == 0);
    ks_ini_free(ini);
    KS_CHECK(ks_edit_distance("headrom_percent", "headroom_percent", 9) == 1);
    KS_CHECK(ks_edit_distance("abc", "ABC", 9) == 0);
    KS_CHECK(ks_edit_distance("", "abcdef", 3) == 3);
}

/* A NUL or another control character in a line is refused (it cut the
 * value: "9<NUL>5" read as 9); numbers are decimal, the whole value. */
KS_TEST(control_characters_and_decimal_numbers)
{
    ks_error err;
    static const char nul[] = "[policy]\npercentile = 9\0005\n";
    ks_ini *ini = ks_ini_parse(nul, sizeof nul - 1, "study.ini", &err);
    KS_CHECK(ini == NULL &&
             strstr(err.message, "study.ini:2: control character 0x00 at column 15"));
    EXPECT_ERROR("[study]\nname = a\033[2Jb\n", "study.ini:2: control character 0x1b");
    ini = parse("[study]\nname = \ttabs\tare text\r\n", &err);
    KS_CHECK(ini != NULL);
    ks_ini_free(ini);
    ini = parse("[h]\nmhz = 0xA28\ninf = inf\nnan = nan\nok = -2.5e3\nplus = +.5\ne = 1e\n", &err);
    KS_CHECK(ini != NULL);
    if (!ini)
        return;
    double d;
    KS_CHECK(ks_ini_get_double(ini, "h", "mhz", 0, 0, 1e9, &d, &err) < 0 &&
             strstr(err.message, "not '0xA28'"));
    KS_CHECK(ks_ini_get_double(ini, "h", "inf", 0, 0, 1e9, &d, &err) < 0);
    KS_CHECK(ks_ini_get_double(ini, "h", "nan", 0, 0, 1e9, &d, &err) < 0);
    KS_CHECK(ks_ini_get_double(ini, "h", "e", 0, 0, 1e9, &d, &err) < 0);
    KS_CHECK(ks_ini_get_double(ini, "h", "ok", 0, -1e9, 1e9, &d, &err) == 0 && d == -2500);
    KS_CHECK(ks_ini_get_double(ini, "h", "plus", 0, 0, 1, &d, &err) == 0 && d == 0.5);
    long l;
    KS_CHECK(ks_ini_get_long(ini, "h", "mhz", 0, 0, 1000000, &l, &err) < 0);
    ks_ini_free(ini);
}

KS_TEST(load_from_file)
{
    ks_error err;
    ks_ini *ini = ks_ini_load(KS_TEST_DATA "/ini/study.ini", &err);
    KS_CHECK(ini != NULL);
    if (ini) {
        KS_CHECK_STR(ks_ini_filename(ini), KS_TEST_DATA "/ini/study.ini");
        long l = 0;
        KS_CHECK(ks_ini_get_long(ini, "collector", "interval", 60, 1, 3600, &l, &err) == 0);
        KS_CHECK(l == 30);
        KS_CHECK(ks_ini_get_long(ini, "host-model big", "cpus", 1, 1, 16, &l, &err) == -1);
        KS_CHECK(strstr(err.message, KS_TEST_DATA "/ini/study.ini:13:") == err.message);
    }
    ks_ini_free(ini);

    ini = ks_ini_load(KS_TEST_DATA "/ini/no-such.ini", &err);
    KS_CHECK(ini == NULL);
    KS_CHECK(err.code == KS_E_IO);
    KS_CHECK(strstr(err.message, "no-such.ini") != NULL);
    ks_ini_free(NULL);
}

int main(void)
{
    KS_RUN(sections_keys_comments);
    KS_RUN(blank_collapse_and_tabs);
    KS_RUN(empty_and_comment_only);
    KS_RUN(crlf_and_bom);
    KS_RUN(duplicate_key);
    KS_RUN(duplicate_section);
    KS_RUN(syntax_errors);
    KS_RUN(error_names_the_file);
    KS_RUN(typed_getters);
    KS_RUN(load_from_file);
    KS_RUN(check_unknown_names);
    KS_RUN(control_characters_and_decimal_numbers);
    return ks_test_summary();
}
