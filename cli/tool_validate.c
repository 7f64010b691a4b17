/* tool_validate.c: kvmshift validate DIR SERVER */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ks_error.h"
#include "ks_parse.h"
#include "ks_time.h"
#include "migrate.h"
#include "tool.h"

/* --wait and --timeout: seconds from 1 to max (ks_parse_double: decimal,
 * the whole value) */
static int seconds(const char *opt, const char *arg, double max, double *out)
{
    if (!ks_parse_double(arg, out) || *out < 1 || *out > max) {
        fprintf(stderr, "kvmshift validate: %s takes seconds from 1 to %.0f, not '%s'\n", opt, max,
                arg);
        return -1;
    }
    return 0;
}

static void print_table(const json_t *r)
{
    size_t i, k;
    json_t *c, *e;
    printf("%-17s %-5s %s\n", "CHECK", "STATE", "SUMMARY");
    json_array_foreach(json_object_get(r, "checks"), i, c)
    {
        const char *st = json_string_value(json_object_get(c, "status"));
        printf("%-17s %-5s %s\n", json_string_value(json_object_get(c, "check")), st,
               json_string_value(json_object_get(c, "summary")));
        /* what did not pass, line by line */
        if (strcmp(st, "pass") == 0)
            continue;
        json_array_foreach(json_object_get(c, "evidence"), k, e)
            printf("%-17s %-5s   %s\n", "", "", json_string_value(e));
    }
    json_t *n = json_object_get(r, "counts");
    printf("\n%s: %s (%lld passed, %lld warnings, %lld failed)\n",
           json_string_value(json_object_get(r, "server")),
           json_string_value(json_object_get(r, "verdict")),
           (long long)json_integer_value(json_object_get(n, "pass")),
           (long long)json_integer_value(json_object_get(n, "warn")),
           (long long)json_integer_value(json_object_get(n, "fail")));
}

/* --switch: the record, as a table or JSON. */
static int do_switch_server(const char *study, const char *server, const mig_validate_options *o,
                            time_t cutover, bool json)
{
    mig_switch_options so = {.cutover = cutover, .address = o->address, .port = o->port};
    ks_error err;
    json_t *rec = mig_switch(study, server, &so, &err);
    if (!rec) {
        fprintf(stderr, "kvmshift validate: %s\n", err.message);
        return TOOL_FAIL;
    }
    if (json) {
        json_dumpf(rec, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else {
        const char *phys = json_string_value(json_object_get(rec, "physical_rrd"));
        printf("%s: %s at %s; collected at %s port %lld from now on\n", server,
               json_is_true(json_object_get(rec, "already")) ? "switched already"
                                                             : "switched to its VM",
               json_string_value(json_object_get(rec, "cutover_at")),
               json_string_value(json_object_get(rec, "address")),
               (long long)json_integer_value(json_object_get(rec, "port")));
        printf("baseline: %s\n", phys ? phys : "none (the server had no RRD file)");
        printf("next: 'kvmshift collect %s' for a day or more, then 'kvmshift validate %s %s "
               "--load-only'\n",
               study, study, server);
    }
    json_decref(rec);
    return TOOL_OK;
}

int tool_validate(int argc, char **argv)
{
    static const struct option opts[] = {{"address", required_argument, NULL, 'a'},
                                         {"port", required_argument, NULL, 'p'},
                                         {"wait", required_argument, NULL, 'w'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"load-only", no_argument, NULL, 'L'},
                                         {"switch", no_argument, NULL, 'S'},
                                         {"cutover", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool do_switch = false;
    time_t cutover = 0;
    mig_validate_options o = {0};
    bool json = false;
    long port;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            tool_usage("validate", stdout);
            return TOOL_OK;
        case 'a':
            o.address = optarg;
            break;
        case 'p':
            if (!ks_parse_int(optarg, 1, 65535, &port)) {
                fprintf(stderr, "kvmshift validate: --port takes 1 to 65535, not '%s'\n", optarg);
                return TOOL_USAGE;
            }
            o.port = (int)port;
            break;
        case 'w':
            if (seconds("--wait", optarg, 86400, &o.wait) < 0)
                return TOOL_USAGE;
            break;
        case 't':
            if (seconds("--timeout", optarg, 3600, &o.timeout) < 0)
                return TOOL_USAGE;
            break;
        case 'o':
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "table") != 0) {
                fprintf(stderr, "kvmshift validate: --output takes table or json, not '%s'\n",
                        optarg);
                return TOOL_USAGE;
            }
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'L':
            o.load_only = true;
            break;
        case 'S':
            do_switch = true;
            break;
        case 'c':
            if (!ks_time_parse_iso(optarg, &cutover)) {
                fprintf(stderr,
                        "kvmshift validate: --cutover takes an ISO 8601 time "
                        "(2026-12-05T01:30:00Z), not '%s'\n",
                        optarg);
                return TOOL_USAGE;
            }
            break;
        default:
            tool_usage("validate", stderr);
            return TOOL_USAGE;
        }
    }
    if (optind != argc - 2) {
        tool_usage("validate", stderr);
        return TOOL_USAGE;
    }
    if ((do_switch && o.load_only) || (cutover && !do_switch)) {
        fprintf(stderr, "kvmshift validate: %s\n",
                do_switch ? "--switch and --load-only do not go together"
                          : "--cutover goes with --switch");
        return TOOL_USAGE;
    }
    ks_error err;
    ks_error_clear(&err);
    if (do_switch)
        return do_switch_server(argv[optind], argv[optind + 1], &o, cutover, json);
    json_t *r = mig_validate(argv[optind], argv[optind + 1], &o, &err);
    if (!r) {
        fprintf(stderr, "kvmshift validate: %s\n", err.message);
        return TOOL_FAIL;
    }
    if (json) {
        json_dumpf(r, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else
        print_table(r);
    int rc = strcmp(json_string_value(json_object_get(r, "verdict")), "fail") == 0 ? TOOL_PARTIAL
                                                                                   : TOOL_OK;
    json_decref(r);
    return rc;
}
