/* tool_report.c: kvmshift report STUDY [--pdf] [--strict] [--quiet] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ks_error.h"
#include "ks_inventory.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_study.h"
#include "report.h"
#include "tool.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int report(const char *dir, const rep_options *opt)
{
    ks_error err;
    ks_error_clear(&err);
    ks_study *study = ks_study_open_writer(dir, "kvmshift report", &err);
    if (!study) {
        fprintf(stderr, "kvmshift report: %s\n", err.message);
        return TOOL_FAIL;
    }
    KS_AUTOFREE char *inv_path = ks_study_path(study, "inventory.csv");
    ks_inventory *inv = ks_inventory_load(inv_path, &err);
    if (!inv) {
        fprintf(stderr, "kvmshift report: the inventory has problems:\n%s\n", err.message);
        ks_study_free(study);
        return TOOL_FAIL;
    }
    double t0 = now_s();
    rep_result res;
    int rc = TOOL_FAIL;
    if (rep_write(study, inv, opt, &res, &err) < 0) {
        fprintf(stderr, "kvmshift report: no report written: %s\n", err.message);
        goto out;
    }
    rc = TOOL_OK;
    if (res.charts_failed) {
        fprintf(stderr,
                "kvmshift report: warning: %zu of %zu charts could not be drawn; each has a "
                "note in its place that says why (is gnuplot installed? apt-get install "
                "gnuplot-nox)\n",
                res.charts_failed, res.charts + res.charts_failed);
        if (opt->strict)
            rc = TOOL_PARTIAL;
    }
    if (opt->pdf && res.pdf_error) {
        fprintf(stderr, "kvmshift report: warning: no PDF: %s\n", res.pdf_error);
        if (opt->strict)
            rc = TOOL_PARTIAL;
    }
    printf("report of %zu servers written to %s in %.1f s (plan %.1f s, charts %.1f s, files "
           "%.1f s): %zu charts drawn, %zu not drawn\n",
           res.servers, res.index_path, now_s() - t0, res.plan_seconds, res.chart_seconds,
           res.write_seconds, res.charts, res.charts_failed);
    if (res.pdf_path)
        printf("PDF: %s\n", res.pdf_path);
    rep_result_free(&res);
out:
    ks_inventory_free(inv);
    ks_study_free(study);
    return rc;
}

int tool_report(int argc, char **argv)
{
    enum { O_PDF = 256, O_STRICT };
    static const struct option opts[] = {
        {"pdf", no_argument, NULL, O_PDF}, {"strict", no_argument, NULL, O_STRICT},
        {"quiet", no_argument, NULL, 'q'}, {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},  {NULL, 0, NULL, 0},
    };
    rep_options opt = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
        switch (c) {
        case O_PDF:
            opt.pdf = true;
            break;
        case O_STRICT:
            opt.strict = true;
            break;
        case 'q':
            opt.quiet = true;
            ks_log_set_level(KS_LOG_WARN);
            break;
        case 'v':
            ks_log_set_level(KS_LOG_DEBUG);
            break;
        case 'h':
            tool_usage("report", stdout);
            return TOOL_OK;
        default:
            tool_usage("report", stderr);
            return TOOL_USAGE;
        }
    }
    if (optind != argc - 1) {
        tool_usage("report", stderr);
        return TOOL_USAGE;
    }
    return report(argv[optind], &opt);
}
