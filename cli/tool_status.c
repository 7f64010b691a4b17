/* tool_status.c: kvmshift status DIR */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "collector.h"
#include "ks_error.h"
#include "ks_mem.h"
#include "ks_study.h"
#include "tool.h"
#include "ks_time.h"

static void fmt_time(time_t t, char *buf, size_t n)
{
    if (!t) {
        snprintf(buf, n, "never");
        return;
    }
    char iso[KS_TIME_ISO_LEN];
    ks_time_iso(t, iso);
    snprintf(buf, n, "%s", iso);
}

int tool_status(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    tool_format fmt = FMT_TABLE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            tool_usage("status", stdout);
            return TOOL_OK;
        }
        if (c == 'f' && tool_parse_format(optarg, &fmt) == 0)
            continue;
        if (c == 'f')
            fprintf(stderr, "kvmshift status: --format takes table, json or csv, not '%s'\n",
                    optarg);
        else
            tool_usage("status", stderr);
        return TOOL_USAGE;
    }
    if (optind != argc - 1) {
        tool_usage("status", stderr);
        return TOOL_USAGE;
    }
    ks_error err;
    ks_error_clear(&err);
    ks_study *study = ks_study_open(argv[optind], &err);
    if (!study) {
        fprintf(stderr, "kvmshift status: %s\n", err.message);
        return TOOL_FAIL;
    }
    KS_AUTOFREE char *inv_path = ks_study_path(study, "inventory.csv");
    ks_inventory *inv = ks_inventory_load(inv_path, &err);
    if (!inv) {
        fprintf(stderr, "kvmshift status: the inventory has problems:\n%s\n", err.message);
        ks_study_free(study);
        return TOOL_FAIL;
    }
    col_status *st = col_status_read(study, inv, &err);
    if (!st) {
        fprintf(stderr, "kvmshift status: %s\n", err.message);
        ks_inventory_free(inv);
        ks_study_free(study);
        return TOOL_FAIL;
    }
    json_t *arr = fmt == FMT_JSON ? json_array() : NULL;
    if (fmt == FMT_TABLE)
        printf("%-20s %-20s %8s %5s %8s %-5s %s\n", "SERVER", "LAST SAMPLE", "SAMPLES", "GAPS",
               "MISSING", "FACTS", "LAST ERROR");
    if (fmt == FMT_CSV)
        printf("name,last_sample,samples,gaps,missing,facts,last_error_time,last_error_code,"
               "last_error\n");
    for (size_t i = 0; i < inv->count; i++) {
        const col_status *s = &st[i];
        char last[32], errt[32];
        fmt_time(s->last_sample, last, sizeof last);
        fmt_time(s->last_error_time, errt, sizeof errt);
        if (fmt == FMT_TABLE) {
            printf("%-20s %-20s %8zu %5zu %8zu %-5s", s->name, last, s->samples, s->gaps,
                   s->missing, s->has_facts ? "yes" : "no");
            if (s->last_error)
                printf(" %s (%s)", s->last_error, errt);
            putchar('\n');
        } else if (fmt == FMT_CSV) {
            tool_csv_field(stdout, s->name);
            printf(",%s,%zu,%zu,%zu,%s,%s,%s,", s->last_sample ? last : "", s->samples, s->gaps,
                   s->missing, s->has_facts ? "yes" : "no", s->last_error_time ? errt : "",
                   s->last_error_code ? s->last_error_code : "");
            tool_csv_field(stdout, s->last_error ? s->last_error : "");
            putchar('\n');
        } else {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(s->name));
            json_object_set_new(o, "last_sample", s->last_sample ? json_string(last) : json_null());
            json_object_set_new(o, "samples", json_integer((json_int_t)s->samples));
            json_object_set_new(o, "gaps", json_integer((json_int_t)s->gaps));
            json_object_set_new(o, "missing", json_integer((json_int_t)s->missing));
            json_object_set_new(o, "facts", json_boolean(s->has_facts));
            json_object_set_new(o, "last_error",
                                s->last_error ? json_string(s->last_error) : json_null());
            json_object_set_new(o, "last_error_code",
                                s->last_error_code ? json_string(s->last_error_code) : json_null());
            json_object_set_new(o, "last_error_time",
                                s->last_error_time ? json_string(errt) : json_null());
            json_array_append_new(arr, o);
        }
    }
    if (arr) {
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(arr);
    }
    col_status_free(st, inv->count);
    ks_inventory_free(inv);
    ks_study_free(study);
    return TOOL_OK;
}
