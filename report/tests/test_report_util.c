/* test_report_util.c: the report's building blocks: HTML and CSV escaping,
 * number formats, file helpers, and the gnuplot driver
 * (rep_chart.c) when gnuplot is missing, exits at once, fails on one chart
 * or stops in the middle of a run. The gnuplot cases that need gnuplot are
 * left out (with a note) when it is not installed; the rest always runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_mem.h"
#include "ks_test.h"
#include "rep_internal.h"

static char tmpdir[] = "/tmp/test_report_util.XXXXXX";

static char *html_of(const char *s)
{
    ks_buf b;
    ks_buf_init(&b, 1 << 20);
    rep_html(&b, s);
    return ks_buf_steal(&b);
}

static char *csv_of(const char *s)
{
    ks_buf b;
    ks_buf_init(&b, 1 << 20);
    rep_csv(&b, s);
    return ks_buf_steal(&b);
}

KS_TEST(escaping)
{
    KS_AUTOFREE char *h = html_of("<a href=\"x\">'&'</a>");
    KS_CHECK_STR(h, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    KS_AUTOFREE char *h2 = html_of("web01");
    KS_CHECK_STR(h2, "web01");
    KS_AUTOFREE char *c1 = csv_of("plain text");
    KS_CHECK_STR(c1, "plain text");
    KS_AUTOFREE char *c2 = csv_of("a, b");
    KS_CHECK_STR(c2, "\"a, b\"");
    KS_AUTOFREE char *c3 = csv_of("say \"hi\"");
    KS_CHECK_STR(c3, "\"say \"\"hi\"\"\"");
    KS_AUTOFREE char *c4 = csv_of("two\nlines");
    KS_CHECK_STR(c4, "\"two\nlines\"");
    KS_AUTOFREE char *c5 = csv_of(" leading blank");
    KS_CHECK_STR(c5, "\" leading blank\"");
    KS_AUTOFREE char *c6 = csv_of("");
    KS_CHECK_STR(c6, "");

    ks_buf b;
    ks_buf_init(&b, 1 << 20);
    rep_gp_str(&b, "it's\tfine");
    KS_CHECK_STR(ks_buf_str(&b), "it''sfine");
    ks_buf_reset(&b);
    rep_csv_num(&b, NAN, 1);
    KS_CHECK_STR(ks_buf_str(&b), "");
    rep_csv_num(&b, -0.0001, 1);
    KS_CHECK_STR(ks_buf_str(&b), "0.0");
    ks_buf_reset(&b);
    rep_csv_num(&b, 2.26, 1);
    KS_CHECK_STR(ks_buf_str(&b), "2.3");
    ks_buf_free(&b);
    char n[48];
    KS_CHECK_STR(rep_num(n, NAN, 0), "\u2014");
    KS_CHECK_STR(rep_num(n, 1234.5678, 2), "1234.57");
}

KS_TEST(files)
{
    KS_AUTOFREE char *sh = rep_which("sh");
    KS_CHECK(sh && sh[0] == '/');
    KS_AUTOFREE char *none = rep_which("no-such-program-kvmshift");
    KS_CHECK(none == NULL);
    KS_AUTOFREE char *abs = rep_which("/nonexistent/gnuplot");
    KS_CHECK(abs == NULL);

    KS_AUTOFREE char *root = ks_path_join(tmpdir, "tree");
    KS_AUTOFREE char *deep = ks_path_join(root, "a/b/c");
    ks_error err;
    KS_CHECK(ks_mkdir_p(deep, &err) == 0);
    KS_AUTOFREE char *f = ks_path_join(deep, "x.txt");
    KS_CHECK(rep_write_file(f, "hello", 5, &err) == 0);
    KS_CHECK(ks_remove_tree(root, &err) == 0);
    KS_CHECK(!ks_path_exists(root));
    KS_CHECK(ks_remove_tree(root, &err) == 0); /* gone already: fine */
    KS_AUTOFREE char *bad = ks_path_join(tmpdir, "no/such/dir/x");
    KS_CHECK(rep_write_file(bad, "x", 1, &err) < 0 && err.code == KS_E_IO);
}

/* Chart scripts: chart "bad" uses an unknown datablock; chart "exit"
 * ends gnuplot before its marker (a gnuplot that dies mid-run). */
static const char *const kinds[] = {"ok", "bad", "ok", "exit", "ok", "ok"};

static void script(void *ctx, size_t i, ks_buf *out)
{
    (void)ctx;
    if (strcmp(kinds[i], "bad") == 0)
        ks_buf_appends(out, "plot $nosuch using 1:2 with lines\n");
    else if (strcmp(kinds[i], "exit") == 0)
        ks_buf_appends(out, "exit\n");
    else
        ks_buf_printf(out,
                      "$d << EOD\n1 %zu\n2 %zu\n3 1\nEOD\nplot $d using 1:2 with lines "
                      "title 'it''s <ok>' noenhanced\n",
                      i, i + 2);
}

static rep_charts *charts_of(size_t n, const char *sub)
{
    KS_AUTOFREE char *dir = ks_path_join(tmpdir, sub);
    ks_error err;
    ks_mkdir_p(dir, &err);
    rep_charts *c = rep_charts_new(dir, script, NULL);
    for (size_t i = 0; i < n; i++) {
        char id[32], title[64];
        snprintf(id, sizeof id, "c%zu", i);
        snprintf(title, sizeof title, "chart <%zu> & co", i);
        KS_CHECK(rep_charts_add(c, id, title, 320, 200) == i);
    }
    return c;
}

static char *figure_of(const rep_charts *c, size_t i)
{
    ks_buf b;
    ks_buf_init(&b, 1 << 26);
    rep_charts_figure(c, i, "caption", &b);
    return ks_buf_steal(&b);
}

KS_TEST(charts_without_gnuplot)
{
    rep_charts *c = charts_of(3, "missing");
    rep_charts_run(c, "/nonexistent/gnuplot", 2, true);
    KS_CHECK(rep_charts_drawn(c) == 0 && rep_charts_failed(c) == 3);
    KS_CHECK(rep_charts_note(c, 1) && strstr(rep_charts_note(c, 1), "not installed"));
    KS_AUTOFREE char *fig = figure_of(c, 2);
    KS_CHECK(strstr(fig, "<p class=\"note\">Chart \u201cchart &lt;2&gt; &amp; co\u201d not drawn"));
    KS_CHECK(strstr(fig, "apt-get install gnuplot-nox"));
    KS_CHECK(strstr(fig, "<figcaption>caption</figcaption>"));
    KS_CHECK(!strstr(fig, "<svg"));
    rep_charts_free(c);

    /* starts, reads nothing, exits 1: one note for every chart */
    c = charts_of(4, "false");
    rep_charts_run(c, "false", 2, true);
    KS_CHECK(rep_charts_drawn(c) == 0 && rep_charts_failed(c) == 4);
    KS_CHECK(rep_charts_note(c, 3) && strstr(rep_charts_note(c, 3), "exit status 1") &&
             strstr(rep_charts_note(c, 3), "before drawing it"));
    rep_charts_free(c);
}

KS_TEST(charts_with_gnuplot)
{
    KS_AUTOFREE char *gp = rep_which("gnuplot");
    if (!gp) {
        fprintf(stderr, "note: gnuplot is not installed: the drawing cases are left out\n");
        return;
    }
    for (unsigned jobs = 1; jobs <= 2; jobs++) {
        char sub[16];
        snprintf(sub, sizeof sub, "gp%u", jobs);
        rep_charts *c = charts_of(6, sub);
        rep_charts_run(c, "gnuplot", jobs, true);
        /* the bad one and the one gnuplot exits on fail; the others are
         * drawn, those after the exit by a new gnuplot */
        KS_CHECK(rep_charts_drawn(c) == 4);
        KS_CHECK(rep_charts_failed(c) == 2);
        KS_CHECK(rep_charts_note(c, 0) == NULL);
        KS_CHECK(rep_charts_note(c, 1) && strstr(rep_charts_note(c, 1), "gnuplot said:") &&
                 strstr(rep_charts_note(c, 1), "nosuch"));
        KS_CHECK(rep_charts_note(c, 3) && strstr(rep_charts_note(c, 3), "while drawing it"));
        KS_CHECK(rep_charts_note(c, 4) == NULL && rep_charts_note(c, 5) == NULL);
        KS_AUTOFREE char *fig = figure_of(c, 5);
        KS_CHECK(strstr(fig, "<figure class=\"chart\" id=\"fig-c5\"><svg"));
        KS_CHECK(strstr(fig, "<title>chart &lt;5&gt; &amp; co</title>"));
        KS_CHECK(!strstr(fig, "<?xml") && !strstr(fig, "id=\"gnuplot_"));
        KS_CHECK(strstr(fig, "</svg><figcaption>caption</figcaption></figure>"));
        KS_AUTOFREE char *bad = figure_of(c, 1);
        KS_CHECK(strstr(bad, "class=\"note\"") && !strstr(bad, "<svg"));
        rep_charts_free(c);
    }
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    KS_RUN(escaping);
    KS_RUN(files);
    KS_RUN(charts_without_gnuplot);
    KS_RUN(charts_with_gnuplot);
    ks_error err;
    if (ks_remove_tree(tmpdir, &err) < 0)
        fprintf(stderr, "%s\n", err.message);
    return ks_test_summary();
}
