/* tool_import.c: kvmshift import STUDY --format bitbrains|csv INPUT */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "collector.h"
#include "ks_error.h"
#include "ks_log.h"
#include "ks_study.h"
#include "tool.h"
#include "ks_time.h"

static void fmt_time(time_t t, char *buf, size_t n)
{
    if (!t) {
        snprintf(buf, n, "-");
        return;
    }
    char iso[KS_TIME_ISO_LEN];
    ks_time_iso(t, iso);
    snprintf(buf, n, "%s", iso);
}

static const char *status_of(const col_import_result *r)
{
    if (r->ok)
        return r->replaced ? "replaced" : "ok";
    return r->error.code == KS_E_CONFIG ? "REFUSED" : "FAILED";
}

static size_t total_skipped(const col_import_result *r)
{
    size_t n = 0;
    for (int k = 0; k < COL_SKIP_COUNT; k++)
        n += r->skipped[k];
    return n;
}

static void print_table(const col_import *imp)
{
    printf("%-20s %-8s %8s %-20s %-20s %6s %8s  %s\n", "SERVER", "STATUS", "ROWS", "FIRST", "LAST",
           "STEP", "SKIPPED", "PROBLEM");
    for (size_t i = 0; i < col_import_count(imp); i++) {
        const col_import_result *r = col_import_get(imp, i);
        char first[32], last[32];
        fmt_time(r->first, first, sizeof first);
        fmt_time(r->last, last, sizeof last);
        printf("%-20s %-8s %8zu %-20s %-20s %6ld %8zu  %s\n", r->name, status_of(r), r->rows, first,
               last, r->step, total_skipped(r), r->error.code ? r->error.message : "");
    }
}

static void print_json(const col_import *imp)
{
    json_t *top = json_object(), *arr = json_array();
    for (size_t i = 0; i < col_import_count(imp); i++) {
        const col_import_result *r = col_import_get(imp, i);
        char first[32], last[32];
        fmt_time(r->first, first, sizeof first);
        fmt_time(r->last, last, sizeof last);
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(r->name));
        json_object_set_new(o, "file", json_string(r->file));
        json_object_set_new(o, "ok", json_boolean(r->ok));
        json_object_set_new(o, "replaced", json_boolean(r->replaced));
        json_object_set_new(o, "facts_kept", json_boolean(r->facts_kept));
        json_object_set_new(o, "rows", json_integer((json_int_t)r->rows));
        json_object_set_new(o, "first", r->first ? json_string(first) : json_null());
        json_object_set_new(o, "last", r->last ? json_string(last) : json_null());
        json_object_set_new(o, "step", r->step ? json_integer(r->step) : json_null());
        json_object_set_new(o, "cpu_pct_clamped", json_integer((json_int_t)r->clamped));
        json_t *sk = json_object();
        for (int k = 0; k < COL_SKIP_COUNT; k++)
            json_object_set_new(sk, col_skip_reason_name((col_skip_reason)k),
                                json_integer((json_int_t)r->skipped[k]));
        json_object_set_new(o, "skipped", sk);
        json_object_set_new(o, "error",
                            r->error.code ? json_string(r->error.message) : json_null());
        json_object_set_new(o, "error_code",
                            r->error.code ? json_string(ks_errcode_name(r->error.code))
                                          : json_null());
        json_array_append_new(arr, o);
    }
    json_object_set_new(top, "servers", arr);
    json_t *sk = json_object();
    for (int k = 0; k < COL_SKIP_COUNT; k++) {
        const char *const *ex;
        size_t nex = col_import_examples(imp, (col_skip_reason)k, &ex);
        json_t *o = json_object(), *exs = json_array();
        json_object_set_new(o, "count",
                            json_integer((json_int_t)col_import_skipped(imp, (col_skip_reason)k)));
        for (size_t i = 0; i < nex; i++)
            json_array_append_new(exs, json_string(ex[i]));
        json_object_set_new(o, "examples", exs);
        json_object_set_new(sk, col_skip_reason_name((col_skip_reason)k), o);
    }
    json_object_set_new(top, "skipped", sk);
    json_object_set_new(top, "interrupted", json_boolean(col_import_interrupted(imp)));
    json_dumpf(top, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(top);
}

static void print_csv(const col_import *imp)
{
    printf("name,file,status,rows,first,last,step,cpu_pct_clamped");
    for (int k = 0; k < COL_SKIP_COUNT; k++)
        printf(",skipped_%s", col_skip_reason_name((col_skip_reason)k));
    printf(",error_code,error,facts_kept\n");
    for (size_t i = 0; i < col_import_count(imp); i++) {
        const col_import_result *r = col_import_get(imp, i);
        char first[32], last[32];
        fmt_time(r->first, first, sizeof first);
        fmt_time(r->last, last, sizeof last);
        tool_csv_field(stdout, r->name);
        putchar(',');
        tool_csv_field(stdout, r->file);
        printf(",%s,%zu,%s,%s,%ld,%zu",
               r->ok ? (r->replaced ? "replaced" : "ok")
                     : (r->error.code == KS_E_CONFIG ? "refused" : "failed"),
               r->rows, r->first ? first : "", r->last ? last : "", r->step, r->clamped);
        for (int k = 0; k < COL_SKIP_COUNT; k++)
            printf(",%zu", r->skipped[k]);
        printf(",%s,", r->error.code ? ks_errcode_name(r->error.code) : "");
        tool_csv_field(stdout, r->error.code ? r->error.message : "");
        printf(",%s\n", r->facts_kept ? "yes" : "no");
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int import_study(const char *dir, const col_import_options *opt, tool_format fmt)
{
    ks_error err;
    ks_error_clear(&err);
    ks_study *study = ks_study_open_writer(dir, "kvmshift import", &err);
    if (!study) {
        fprintf(stderr, "kvmshift import: %s\n", err.message);
        return TOOL_FAIL;
    }
    double t0 = now_s();
    col_import *imp = col_import_run(study, opt, &err);
    double elapsed = now_s() - t0;
    ks_study_free(study);
    if (!imp) {
        if (err.code == KS_E_CONFIG)
            fprintf(stderr,
                    "kvmshift import: the inventory has problems; nothing was imported:\n%s\n",
                    err.message);
        else
            fprintf(stderr, "kvmshift import: %s; nothing was imported\n", err.message);
        return err.code == KS_E_USAGE ? TOOL_USAGE : TOOL_FAIL;
    }
    if (fmt == FMT_JSON)
        print_json(imp);
    else if (fmt == FMT_CSV)
        print_csv(imp);
    else
        print_table(imp);

    size_t ok = 0, rows = 0, kept = 0, n = col_import_count(imp);
    for (size_t i = 0; i < n; i++) {
        const col_import_result *r = col_import_get(imp, i);
        ok += r->ok;
        rows += r->ok ? r->rows : 0;
        kept += r->ok && r->facts_kept;
    }
    /* the table's reader gets the summary on stdout; JSON and CSV keep
     * stdout for the data (the counts are in it) */
    FILE *note = fmt == FMT_TABLE ? stdout : stderr;
    fprintf(note, "imported %zu of %zu servers, %zu rows, in %.1f s\n", ok, n, rows, elapsed);
    if (kept)
        fprintf(note,
                "kept the facts of %zu server%s: no import made them (only the data was "
                "imported)\n",
                kept, kept == 1 ? "" : "s");
    const char *skips = col_import_skip_summary(imp);
    if (skips)
        fprintf(note, "%s\n", skips);
    if (col_import_interrupted(imp))
        fprintf(stderr, "kvmshift import: interrupted; the servers above are complete, run the "
                        "same import again for the rest\n");
    if (ok < n)
        fprintf(stderr, "kvmshift import: %zu of %zu servers not imported (see PROBLEM)\n", n - ok,
                n);
    int rc = ok == 0 ? TOOL_FAIL : ok < n || col_import_interrupted(imp) ? TOOL_PARTIAL : TOOL_OK;
    col_import_free(imp);
    return rc;
}

int tool_import(int argc, char **argv)
{
    enum { O_FORMAT = 256, O_PREFIX, O_SUMMARY };
    static const struct option opts[] = {
        {"format", required_argument, NULL, O_FORMAT},
        {"summary", required_argument, NULL, O_SUMMARY},
        {"prefix", required_argument, NULL, O_PREFIX},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    col_import_options opt = {0};
    bool have_input_format = false;
    tool_format fmt = FMT_TABLE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
        switch (c) {
        case O_FORMAT:
            if (strcmp(optarg, "bitbrains") == 0) {
                opt.format = COL_IMPORT_BITBRAINS;
            } else if (strcmp(optarg, "csv") == 0) {
                opt.format = COL_IMPORT_CSV;
            } else {
                fprintf(stderr,
                        "kvmshift import: --format takes the input format, bitbrains or csv, "
                        "not '%s' (the summary's format is --summary table|json|csv)\n",
                        optarg);
                return TOOL_USAGE;
            }
            have_input_format = true;
            break;
        case O_SUMMARY:
            if (tool_parse_format(optarg, &fmt) < 0) {
                fprintf(stderr, "kvmshift import: --summary takes table, json or csv, not '%s'\n",
                        optarg);
                return TOOL_USAGE;
            }
            break;
        case O_PREFIX:
            opt.prefix = optarg;
            break;
        case 'q':
            opt.quiet = true;
            ks_log_set_level(KS_LOG_WARN);
            break;
        case 'v':
            ks_log_set_level(KS_LOG_DEBUG);
            break;
        case 'h':
            tool_usage("import", stdout);
            return TOOL_OK;
        default:
            tool_usage("import", stderr);
            return TOOL_USAGE;
        }
    }
    if (!have_input_format) {
        fprintf(stderr, "kvmshift import: say what the input is: --format bitbrains DIR or "
                        "--format csv FILE (see 'kvmshift import --help')\n");
        return TOOL_USAGE;
    }
    if (optind != argc - 2) {
        fprintf(stderr,
                "kvmshift import: name the study directory and the input %s (see "
                "'kvmshift import --help')\n",
                opt.format == COL_IMPORT_BITBRAINS ? "directory" : "file");
        return TOOL_USAGE;
    }
    opt.input = argv[optind + 1];
    return import_study(argv[optind], &opt, fmt);
}
