/* rep_write.c: kvmshift report: rep_write puts the report together.
 *
 * The plan is built again here (the same deterministic plan `analyze`
 * writes); everything tabular comes from its JSON (the plan.json schema),
 * the time series from the analyzer's read-only accessors (rep_model.c).
 * Charts are drawn by gnuplot (rep_chart.c, scripts in rep_plot.c) into a
 * scratch directory and inlined as SVG into the pages (rep_sections.c).
 * Everything is written under STUDY/report.tmp.XXXXXX, which then takes the
 * place of STUDY/report in one rename.
 */
#define _GNU_SOURCE /* renameat2, syncfs, mkdtemp */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ks_fs.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "rep_internal.h"

#define PDF_TIMEOUT_S 120

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* tmp takes the place of final: exchanged in one step when final exists,
 * and the old report is removed only after that succeeded. */
static int swap_in(const char *tmp, const char *final, ks_error *err)
{
    int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        /* the files' data on disk before the rename makes them visible */
        syncfs(dfd);
        close(dfd);
    }
    struct stat st;
    if (lstat(final, &st) == 0 && !S_ISDIR(st.st_mode)) {
        ks_error_set(err, KS_E_IO, 0,
                     "'%s' exists and is not a report directory: move it away, then run again",
                     final);
        return -1;
    }
    if (!ks_path_exists(final)) {
        if (rename(tmp, final) < 0) {
            ks_error_set(err, KS_E_IO, errno, "cannot rename '%s' to '%s': %s", tmp, final,
                         strerror(errno));
            return -1;
        }
        return 0;
    }
    ks_error rm;
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) == 0) {
        /* tmp now holds the old report; the new one is in place whatever
         * happens to it */
        if (ks_remove_tree(tmp, &rm) < 0)
            ks_log_warn("the new report is in place, but the old one was not removed: %s",
                        rm.message);
        return 0;
    }
    /* a file system without RENAME_EXCHANGE: move the old one aside first */
    KS_AUTOFREE char *old = ks_asprintf("%s.old.%ld", final, (long)getpid());
    if (rename(final, old) < 0) {
        ks_error_set(err, KS_E_IO, errno,
                     "cannot move the old report '%s' aside: %s; remove it and run again", final,
                     strerror(errno));
        return -1;
    }
    if (rename(tmp, final) < 0) {
        int e = errno;
        rename(old, final);
        ks_error_set(err, KS_E_IO, e, "cannot rename '%s' to '%s': %s", tmp, final, strerror(e));
        return -1;
    }
    if (ks_remove_tree(old, &rm) < 0)
        ks_log_warn("the new report is in place, but the old one was not removed: %s", rm.message);
    return 0;
}

/* Everything under d->tmp: charts, CSV files, pages, the PDF. */
static int produce(rep_doc *d, const rep_options *opt, const char *final, rep_result *res,
                   ks_error *err)
{
    KS_AUTOFREE char *scratch = ks_path_join(d->tmp, ".charts");
    if (ks_mkdir_p(scratch, err) < 0)
        return -1;
    d->charts = rep_charts_new(scratch, rep_plot_script, d);
    rep_plot_register(d);
    const char *gp = opt->gnuplot ? opt->gnuplot : getenv("KS_GNUPLOT");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    double t0 = now_s();
    rep_charts_run(d->charts, gp && *gp ? gp : "gnuplot", cpus > 1 ? 2 : 1, opt->quiet);
    res->chart_seconds = now_s() - t0;

    if (rep_csv_write(d, err) < 0 || rep_sections_write(d, err) < 0 ||
        ks_remove_tree(scratch, err) < 0)
        return -1;
    if (opt->pdf) {
        const char *ch = opt->chromium ? opt->chromium : getenv("KS_CHROMIUM");
        KS_AUTOFREE char *html = ks_path_join(d->tmp, "index.html");
        KS_AUTOFREE char *pdf = ks_path_join(d->tmp, "report.pdf");
        KS_AUTOFREE char *prof = ks_path_join(d->tmp, ".chromium");
        ks_error perr;
        ks_error_clear(&perr);
        if (rep_pdf_print(ch && *ch ? ch : "chromium", html, pdf, prof, PDF_TIMEOUT_S, &perr) < 0)
            res->pdf_error = ks_strdup(perr.message);
        else
            res->pdf_path = ks_path_join(final, "report.pdf");
        if (ks_remove_tree(prof, err) < 0)
            return -1;
    }
    return 0;
}

int rep_write(const ks_study *study, const ks_inventory *inv, const rep_options *opt,
              rep_result *res, ks_error *err)
{
    static const rep_options defaults = {0};
    if (!opt)
        opt = &defaults;
    memset(res, 0, sizeof *res);
    rep_doc r = {.study = study, .quiet = opt->quiet};
    ana_options aopt = {.quiet = opt->quiet};
    double t0 = now_s();
    r.plan = ana_plan_build(study, inv, &aopt, err);
    if (!r.plan)
        return -1;
    rep_doc_fill(&r);
    double plan_s = now_s() - t0;

    KS_AUTOFREE char *final = ks_study_path(study, "report");
    KS_AUTOFREE char *tmpl = ks_study_path(study, "report.tmp.XXXXXX");
    if (!mkdtemp(tmpl)) {
        ks_error_set(err, KS_E_IO, errno,
                     "cannot create '%s': %s; is the study directory writable?", tmpl,
                     strerror(errno));
        rep_doc_free(&r);
        return -1;
    }
    r.tmp = tmpl;
    /* mkdtemp makes it 0700; the report is for others to read */
    chmod(r.tmp, 0755);
    int rc = produce(&r, opt, final, res, err);
    /* on success the old report (if any) was removed; on failure it is
     * untouched and the new one goes */
    if (rc == 0 && swap_in(r.tmp, final, err) < 0)
        rc = -1;
    if (rc < 0) {
        ks_remove_tree(r.tmp, NULL);
        free(res->pdf_path);
        free(res->pdf_error);
        memset(res, 0, sizeof *res);
    } else {
        res->dir = ks_strdup(final);
        res->index_path = ks_path_join(final, "index.html");
        res->charts = rep_charts_drawn(r.charts);
        res->charts_failed = rep_charts_failed(r.charts);
        res->servers = r.ns;
        res->plan_seconds = plan_s;
        res->write_seconds = now_s() - t0 - plan_s - res->chart_seconds;
    }
    rep_doc_free(&r);
    return rc;
}

void rep_result_free(rep_result *res)
{
    if (!res)
        return;
    free(res->dir);
    free(res->index_path);
    free(res->pdf_path);
    free(res->pdf_error);
    memset(res, 0, sizeof *res);
}
