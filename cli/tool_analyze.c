/* tool_analyze.c: kvmshift analyze STUDY [--explain SERVER] [--format table|json] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "analyzer.h"
#include "ks_error.h"
#include "ks_inventory.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_study.h"
#include "tool.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int analyze(const char *dir, const char *explain, tool_format fmt, bool quiet)
{
    ks_error err;
    ks_error_clear(&err);
    ks_study *study = ks_study_open_writer(dir, "kvmshift analyze", &err);
    if (!study) {
        fprintf(stderr, "kvmshift analyze: %s\n", err.message);
        return TOOL_FAIL;
    }
    KS_AUTOFREE char *inv_path = ks_study_path(study, "inventory.csv");
    ks_inventory *inv = ks_inventory_load(inv_path, &err);
    if (!inv) {
        fprintf(stderr, "kvmshift analyze: the inventory has problems:\n%s\n", err.message);
        ks_study_free(study);
        return TOOL_FAIL;
    }
    double t0 = now_s(), elapsed = 0;
    ana_options opt = {.quiet = quiet || fmt == FMT_JSON};
    KS_AUTOFREE char *plan_path = ks_study_path(study, "plan.json");
    KS_AUTOFREE char *text = NULL;
    ana_plan *plan = ana_plan_build(study, inv, &opt, &err);
    int rc = TOOL_FAIL;
    if (!plan) {
        fprintf(stderr, "kvmshift analyze: %s\n", err.message);
        goto out;
    }
    if (ana_plan_write_json(plan, plan_path, &err) < 0) {
        fprintf(stderr, "kvmshift analyze: %s\n", err.message);
        goto out;
    }
    elapsed = now_s() - t0;
    if (explain) {
        text = ana_plan_explain(plan, explain, &err);
        if (!text) {
            fprintf(stderr, "kvmshift analyze: %s\n", err.message);
            rc = TOOL_USAGE;
            goto out;
        }
        fputs(text, stdout);
    } else if (fmt == FMT_JSON) {
        json_t *j = ana_plan_summary_json(plan);
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
    } else {
        text = ana_plan_summary_text(plan);
        fputs(text, stdout);
    }
    fprintf(fmt == FMT_TABLE && !explain ? stdout : stderr, "plan written to %s in %.1f s\n",
            plan_path, elapsed);
    rc = TOOL_OK;
out:
    ana_plan_free(plan);
    ks_inventory_free(inv);
    ks_study_free(study);
    return rc;
}

int tool_analyze(int argc, char **argv)
{
    enum { O_EXPLAIN = 256, O_FORMAT };
    static const struct option opts[] = {
        {"explain", required_argument, NULL, O_EXPLAIN},
        {"format", required_argument, NULL, O_FORMAT},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *explain = NULL;
    tool_format fmt = FMT_TABLE;
    bool quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
        switch (c) {
        case O_EXPLAIN:
            explain = optarg;
            break;
        case O_FORMAT:
            if (tool_parse_format(optarg, &fmt) < 0 || fmt == FMT_CSV) {
                fprintf(stderr, "kvmshift analyze: --format takes table or json, not '%s'\n",
                        optarg);
                return TOOL_USAGE;
            }
            break;
        case 'q':
            quiet = true;
            ks_log_set_level(KS_LOG_WARN);
            break;
        case 'v':
            ks_log_set_level(KS_LOG_DEBUG);
            break;
        case 'h':
            tool_usage("analyze", stdout);
            return TOOL_OK;
        default:
            tool_usage("analyze", stderr);
            return TOOL_USAGE;
        }
    }
    if (optind != argc - 1) {
        tool_usage("analyze", stderr);
        return TOOL_USAGE;
    }
    return analyze(argv[optind], explain, fmt, quiet);
}
