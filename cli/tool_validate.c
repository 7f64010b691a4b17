/* tool_validate.c: kvmshift validate DIR SERVER */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ks_error.h"
#include "ks_parse.h"
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

int tool_validate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"address", required_argument, NULL, 'a'}, {"port", required_argument, NULL, 'p'},
        {"wait", required_argument, NULL, 'w'},    {"timeout", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},  {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
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
        default:
            tool_usage("validate", stderr);
            return TOOL_USAGE;
        }
    }
    if (optind != argc - 2) {
        tool_usage("validate", stderr);
        return TOOL_USAGE;
    }
    ks_error err;
    ks_error_clear(&err);
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
