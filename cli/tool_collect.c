/* tool_collect.c: kvmshift collect DIR / kvmshift facts DIR */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "collector.h"
#include "ks_error.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_parse.h"
#include "ks_study.h"
#include "tool.h"

/* "12.3 MiB/s" style, for the table. */
static void human(double v, const char *unit, char *out, size_t n)
{
    static const char *pre[] = {"", "Ki", "Mi", "Gi", "Ti"};
    if (isnan(v)) {
        snprintf(out, n, "-");
        return;
    }
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    snprintf(out, n, i ? "%.1f %s%s" : "%.0f %s%s", v, pre[i], unit);
}

static void print_table(const col_run *run, bool facts_only)
{
    if (facts_only)
        printf("%-20s %-7s %s\n", "SERVER", "FACTS", "PROBLEM");
    else
        printf("%-20s %-7s %7s %9s %21s %11s %11s %9s %9s %11s %11s  %s\n", "SERVER", "STATUS",
               "CPU%", "CPU_MHZ", "MEMORY USED/TOTAL", "DISK_READ", "DISK_WRITE", "READ_IOPS",
               "WRITE_IOPS", "NET_RX", "NET_TX", "PROBLEM");
    for (size_t i = 0; i < col_run_count(run); i++) {
        const col_result *r = col_run_result(run, i);
        const char *status = r->ok ? (r->last_error.code ? "flaky" : "ok") : "FAILED";
        const char *problem = r->last_error.code ? r->last_error.message : "";
        if (facts_only) {
            printf("%-20s %-7s %s\n", r->name, r->ok ? "taken" : "FAILED", problem);
            continue;
        }
        const double *v = r->values;
        char mu[16], mt[16], mem[40], rd[16], wr[16], rx[16], tx[16];
        human(v[2], "B", mu, sizeof mu);
        human(v[3], "B", mt, sizeof mt);
        snprintf(mem, sizeof mem, "%s/%s", mu, mt);
        human(v[4], "B/s", rd, sizeof rd);
        human(v[5], "B/s", wr, sizeof wr);
        human(v[8], "B/s", rx, sizeof rx);
        human(v[9], "B/s", tx, sizeof tx);
        char cpu[16] = "-", mhz[16] = "-", ri[16] = "-", wi[16] = "-";
        if (r->have_values) {
            snprintf(cpu, sizeof cpu, "%.1f", v[0]);
            if (!isnan(v[1]))
                snprintf(mhz, sizeof mhz, "%.0f", v[1]);
            if (!isnan(v[6]))
                snprintf(ri, sizeof ri, "%.1f", v[6]);
            if (!isnan(v[7]))
                snprintf(wi, sizeof wi, "%.1f", v[7]);
        }
        printf("%-20s %-7s %7s %9s %21s %11s %11s %9s %9s %11s %11s  %s\n", r->name, status, cpu,
               mhz, r->have_values ? mem : "-", r->have_values ? rd : "-",
               r->have_values ? wr : "-", ri, wi, r->have_values ? rx : "-",
               r->have_values ? tx : "-", problem);
    }
}

static json_t *num_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static void print_json(const col_run *run, bool facts_only)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < col_run_count(run); i++) {
        const col_result *r = col_run_result(run, i);
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(r->name));
        json_object_set_new(o, "ok", json_boolean(r->ok));
        if (!facts_only) {
            json_object_set_new(o, "samples", json_integer((json_int_t)r->samples));
            json_t *vals = json_object();
            for (int k = 0; k < COL_DS_COUNT; k++)
                json_object_set_new(vals, col_ds_names[k],
                                    r->have_values ? num_or_null(r->values[k]) : json_null());
            json_object_set_new(o, "last", vals);
        }
        json_object_set_new(o, "failures", json_integer((json_int_t)r->failures));
        json_object_set_new(o, "error",
                            r->last_error.code ? json_string(r->last_error.message) : json_null());
        json_object_set_new(o, "error_code",
                            r->last_error.code ? json_string(ks_errcode_name(r->last_error.code))
                                               : json_null());
        json_array_append_new(arr, o);
    }
    json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(arr);
}

static void print_csv(const col_run *run, bool facts_only)
{
    printf("name,ok,samples,failures");
    if (!facts_only)
        for (int k = 0; k < COL_DS_COUNT; k++)
            printf(",%s", col_ds_names[k]);
    printf(",error_code,error\n");
    for (size_t i = 0; i < col_run_count(run); i++) {
        const col_result *r = col_run_result(run, i);
        tool_csv_field(stdout, r->name);
        printf(",%s,%zu,%zu", r->ok ? "yes" : "no", r->samples, r->failures);
        if (!facts_only)
            for (int k = 0; k < COL_DS_COUNT; k++) {
                if (r->have_values && !isnan(r->values[k]))
                    printf(",%.3f", r->values[k]);
                else
                    printf(",");
            }
        printf(",%s,", r->last_error.code ? ks_errcode_name(r->last_error.code) : "");
        tool_csv_field(stdout, r->last_error.code ? r->last_error.message : "");
        putchar('\n');
    }
}

/* Open the study and its inventory, run the collector, print the summary. */
static int collect_study(const char *dir, const char *cmd, const col_options *opt, tool_format fmt)
{
    bool facts_only = opt->facts_only;
    ks_error err;
    ks_error_clear(&err);
    ks_study *study = ks_study_open(dir, &err);
    if (!study) {
        fprintf(stderr, "kvmshift %s: %s\n", cmd, err.message);
        return TOOL_FAIL;
    }
    int rc = TOOL_FAIL;
    KS_AUTOFREE char *inv_path = ks_study_path(study, "inventory.csv");
    ks_inventory *inv = ks_inventory_load(inv_path, &err);
    if (!inv) {
        fprintf(stderr, "kvmshift %s: the inventory has problems; nothing was collected:\n%s\n",
                cmd, err.message);
        goto done;
    }
    if (inv->count == 0) {
        fprintf(stderr, "kvmshift %s: %s lists no servers: add one line per server\n", cmd,
                inv_path);
        goto done;
    }
    col_run *run;
    run = col_collect(study, inv, opt, &err);
    if (!run) {
        fprintf(stderr, "kvmshift %s: %s\n", cmd, err.message);
        rc = err.code == KS_E_USAGE ? TOOL_USAGE : TOOL_FAIL;
        goto done;
    }
    if (fmt == FMT_JSON)
        print_json(run, facts_only);
    else if (fmt == FMT_CSV)
        print_csv(run, facts_only);
    else
        print_table(run, facts_only);
    size_t failed;
    failed = 0;
    for (size_t i = 0; i < col_run_count(run); i++)
        failed += !col_run_result(run, i)->ok;
    rc = failed ? TOOL_PARTIAL : TOOL_OK;
    if (failed && fmt == FMT_TABLE)
        fprintf(stderr, "kvmshift %s: %zu of %zu servers failed (see PROBLEM above)\n", cmd, failed,
                col_run_count(run));
    col_run_free(run);
done:
    ks_inventory_free(inv);
    ks_study_free(study);
    return rc;
}

/* "K/N" -> *k, *n with 1 <= K <= N <= 1000. */
static int parse_shard(const char *s, unsigned *k, unsigned *n)
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return -1;
    KS_AUTOFREE char *ks = ks_strndup(s, (size_t)(slash - s));
    long kv, nv;
    if (!ks_parse_int(ks, 1, 1000, &kv) || !ks_parse_int(slash + 1, 1, 1000, &nv) || kv > nv)
        return -1;
    *k = (unsigned)kv;
    *n = (unsigned)nv;
    return 0;
}

static int run_collector(int argc, char **argv, const char *cmd, bool facts_only)
{
    enum { O_ONCE = 256, O_INTERVAL, O_DURATION, O_WINDOW, O_ACCEPT, O_ONLY, O_FORMAT, O_SHARD };
    static const struct option opts[] = {
        {"once", no_argument, NULL, O_ONCE},
        {"interval", required_argument, NULL, O_INTERVAL},
        {"duration", required_argument, NULL, O_DURATION},
        {"window", required_argument, NULL, O_WINDOW},
        {"accept-new-hostkeys", no_argument, NULL, O_ACCEPT},
        {"only", required_argument, NULL, O_ONLY},
        {"shard", required_argument, NULL, O_SHARD},
        {"format", required_argument, NULL, O_FORMAT},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    col_options opt = {0};
    opt.facts_only = facts_only;
    char **only = NULL;
    size_t nonly = 0;
    tool_format fmt = FMT_TABLE;
    int rc = TOOL_USAGE;
    int c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
        switch (c) {
        case O_ONCE:
        case O_INTERVAL:
        case O_DURATION:
        case O_WINDOW:
            if (facts_only) {
                fprintf(stderr, "kvmshift %s: '%s' is an option of 'collect'\n", cmd,
                        argv[optind - 1]);
                goto out;
            }
            if (c == O_ONCE) {
                opt.once = true;
                break;
            }
            if (!ks_parse_int(optarg, 1, 100L * 365 * 86400, &v)) {
                fprintf(stderr, "kvmshift %s: %s needs a whole number of seconds, not '%s'\n", cmd,
                        argv[optind - 2], optarg);
                goto out;
            }
            if (c == O_INTERVAL)
                opt.interval = v;
            else if (c == O_DURATION)
                opt.duration = v;
            else
                opt.window = v;
            break;
        case O_ACCEPT:
            opt.accept_new_hostkeys = true;
            break;
        case O_SHARD:
            if (parse_shard(optarg, &opt.shard_index, &opt.shard_count) < 0) {
                fprintf(stderr,
                        "kvmshift %s: --shard takes K/N, this machine's share K of N "
                        "collector machines (1 <= K <= N <= 1000), not '%s'\n",
                        cmd, optarg);
                goto out;
            }
            break;
        case O_ONLY:
            ks_words_append(optarg, ", ", &only, &nonly);
            break;
        case O_FORMAT:
            if (tool_parse_format(optarg, &fmt) < 0) {
                fprintf(stderr, "kvmshift %s: --format takes table, json or csv, not '%s'\n", cmd,
                        optarg);
                goto out;
            }
            break;
        case 'q':
            opt.quiet = true;
            ks_log_set_level(KS_LOG_WARN);
            break;
        case 'v':
            ks_log_set_level(KS_LOG_DEBUG);
            break;
        case 'h':
            tool_usage(cmd, stdout);
            rc = TOOL_OK;
            goto out;
        default:
            tool_usage(cmd, stderr);
            goto out;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "kvmshift %s: name one study directory (see 'kvmshift %s --help')\n", cmd,
                cmd);
        goto out;
    }
    if (opt.window && !opt.once) {
        fprintf(stderr, "kvmshift %s: --window goes with --once\n", cmd);
        goto out;
    }
    if (opt.once && opt.duration) {
        fprintf(stderr, "kvmshift %s: --once and --duration do not go together\n", cmd);
        goto out;
    }
    opt.only = (const char *const *)only;
    opt.nonly = nonly;
    rc = collect_study(argv[optind], cmd, &opt, fmt);
out:
    ks_words_free(only, nonly);
    return rc;
}

int tool_collect(int argc, char **argv)
{
    return run_collector(argc, argv, "collect", false);
}

int tool_facts(int argc, char **argv)
{
    return run_collector(argc, argv, "facts", true);
}
