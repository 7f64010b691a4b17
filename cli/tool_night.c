/* tool_night.c: kvmshift night DIR N */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ks_error.h"
#include "ks_log.h"
#include "ks_parse.h"
#include "ks_time.h"
#include "migrate.h"
#include "tool.h"

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* "2027-01-05T06:00:00Z" or "06:00" (UTC, the next time it comes). */
static bool parse_until(const char *s, time_t *out)
{
    if (ks_time_parse_iso(s, out))
        return true;
    long h, m;
    char hh[3], mm[3];
    if (strlen(s) != 5 || s[2] != ':')
        return false;
    memcpy(hh, s, 2);
    memcpy(mm, s + 3, 2);
    hh[2] = mm[2] = '\0';
    if (!ks_parse_int(hh, 0, 23, &h) || !ks_parse_int(mm, 0, 59, &m))
        return false;
    time_t now = time(NULL);
    time_t day = now - now % 86400;
    *out = day + h * 3600 + m * 60;
    if (*out <= now)
        *out += 86400;
    return true;
}

/* "21:05" of an ISO time, "-" when there is none. */
static void clock_of(const char *iso, char *buf, size_t n)
{
    const char *t = strchr(iso, 'T');
    snprintf(buf, n, "%.5s", t ? t + 1 : "-");
}

static void print_dry(const json_t *s, const char *study)
{
    printf("%-20s %-12s %4s %5s %5s %7s  %s\n", "SERVER", "DECISION", "LANE", "START", "END",
           "EST MIN", "WHY / ESTIMATE");
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(s, "servers"), i, r)
    {
        const json_t *d = json_object_get(r, "dry_run");
        char a[8], b[8];
        clock_of(str(d, "start"), a, sizeof a);
        clock_of(str(d, "end"), b, sizeof b);
        json_t *lane = json_object_get(d, "lane");
        char ln[16] = "-";
        if (json_is_integer(lane))
            snprintf(ln, sizeof ln, "%lld", (long long)json_integer_value(lane));
        json_t *m = json_object_get(d, "estimate_minutes");
        char est[16] = "-";
        if (json_is_number(m))
            snprintf(est, sizeof est, "%.1f", json_number_value(m));
        const char *why = *str(d, "reason") ? str(d, "reason") : str(d, "basis");
        printf("%-20s %-12s %4s %5s %5s %7s  %s\n", str(r, "server"), str(d, "decision"), ln, a, b,
               est, why);
    }
    printf("\ndry run of night %lld (window until %s): nothing was done; runbooks in "
           "%s/nights/%lld/SERVER.md\n",
           (long long)json_integer_value(json_object_get(s, "night")), str(s, "until"), study,
           (long long)json_integer_value(json_object_get(s, "night")));
}

static void print_table(const json_t *s, const char *study)
{
    printf("%-20s %-12s %-13s %-13s %9s %9s  %s\n", "SERVER", "STATE", "PLANNED", "ACTUAL",
           "DOWNTIME", "OFFLINE", "NOTE");
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(s, "servers"), i, r)
    {
        const json_t *p = json_object_get(r, "planned");
        char ps[8], pa[8], planned[32] = "-", actual[32] = "-", down[16] = "-";
        if (json_is_integer(json_object_get(p, "minutes"))) {
            clock_of(str(p, "start"), ps, sizeof ps);
            snprintf(planned, sizeof planned, "%s %lldm", ps,
                     (long long)json_integer_value(json_object_get(p, "minutes")));
        }
        if (*str(r, "started_at")) {
            clock_of(str(r, "started_at"), pa, sizeof pa);
            json_t *m = json_object_get(r, "minutes");
            if (json_is_number(m))
                snprintf(actual, sizeof actual, "%s %.1fm", pa, json_number_value(m));
            else
                snprintf(actual, sizeof actual, "%s", pa);
        }
        json_t *d = json_object_get(r, "downtime_s");
        if (json_is_integer(d))
            snprintf(down, sizeof down, "%llds", (long long)json_integer_value(d));
        /* the downtime had the server been stopped for its whole copy */
        char offline[16] = "-";
        json_t *fc = json_object_get(r, "offline_downtime_s");
        if (json_is_integer(fc))
            snprintf(offline, sizeof offline, "%llds", (long long)json_integer_value(fc));
        const char *st = str(r, "state");
        const char *note = str(r, "reason");
        char buf[600];
        if (strcmp(st, "migrated") == 0) {
            const json_t *v = json_object_get(r, "validation");
            snprintf(buf, sizeof buf, "validation %s%s%s", str(v, "verdict"),
                     *str(v, "not_passed") ? ": " : "", str(v, "not_passed"));
            note = buf;
        } else if (strcmp(st, "rolled_back") == 0 &&
                   !json_is_true(json_object_get(json_object_get(r, "rollback"), "complete"))) {
            snprintf(buf, sizeof buf, "ROLLBACK INCOMPLETE (see its record); %s", note);
            note = buf;
        } else if (strcmp(st, "running") == 0) {
            snprintf(buf, sizeof buf, "stopped during %s: --resume, or --rollback %s",
                     str(r, "step"), str(r, "server"));
            note = buf;
        }
        printf("%-20s %-12s %-13s %-13s %9s %9s  %s\n", str(r, "server"), st, planned, actual, down,
               offline, note);
    }
    const json_t *c = json_object_get(s, "counts");
    printf("\nnight %lld: %lld migrated, %lld rolled back, %lld postponed, %lld skipped, %lld "
           "not finished; summary in %s/nights/%lld/summary.json\n",
           (long long)json_integer_value(json_object_get(s, "night")),
           (long long)json_integer_value(json_object_get(c, "migrated")),
           (long long)json_integer_value(json_object_get(c, "rolled_back")),
           (long long)json_integer_value(json_object_get(c, "postponed")),
           (long long)json_integer_value(json_object_get(c, "skipped")),
           (long long)(json_integer_value(json_object_get(c, "running")) +
                       json_integer_value(json_object_get(c, "pending"))),
           study, (long long)json_integer_value(json_object_get(s, "night")));
}

static void print_presync(const json_t *s)
{
    printf("%-20s %-6s %8s %12s  %s\n", "SERVER", "KIND", "SECONDS", "CHANGED MiB", "RESULT");
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(s, "servers"), i, r)
    {
        const json_t *p = json_object_get(r, "presync");
        if (!p)
            continue;
        printf("%-20s %-6s %8.1f %12.1f  %s\n", str(r, "server"), str(p, "kind"),
               json_number_value(json_object_get(p, "seconds")),
               (double)json_integer_value(json_object_get(p, "changed_bytes")) / 1048576.0,
               json_is_true(json_object_get(p, "complete")) ? "complete" : str(p, "error"));
    }
}

int tool_night(int argc, char **argv)
{
    enum { O_DRY = 256, O_PRESYNC, O_RESUME, O_SHUTDOWN, O_ROLLBACK, O_UNTIL, O_PAR, O_URI, O_OUT };
    static const struct option opts[] = {{"dry-run", no_argument, NULL, O_DRY},
                                         {"presync", no_argument, NULL, O_PRESYNC},
                                         {"resume", no_argument, NULL, O_RESUME},
                                         {"shutdown-source", no_argument, NULL, O_SHUTDOWN},
                                         {"rollback", required_argument, NULL, O_ROLLBACK},
                                         {"until", required_argument, NULL, O_UNTIL},
                                         {"parallel", required_argument, NULL, O_PAR},
                                         {"target-uri", required_argument, NULL, O_URI},
                                         {"output", required_argument, NULL, O_OUT},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    mig_night_options o = {0};
    bool json = false;
    long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case O_DRY:
            o.dry_run = true;
            break;
        case O_PRESYNC:
            o.presync = true;
            break;
        case O_RESUME:
            o.resume = true;
            break;
        case O_SHUTDOWN:
            o.shutdown_source = true;
            break;
        case O_ROLLBACK:
            o.rollback = optarg;
            break;
        case O_UNTIL:
            if (!parse_until(optarg, &o.until)) {
                fprintf(stderr,
                        "kvmshift night: --until takes a UTC time, 2027-01-05T06:00:00Z or "
                        "06:00, not '%s'\n",
                        optarg);
                return TOOL_USAGE;
            }
            break;
        case O_PAR:
            if (!ks_parse_int(optarg, 1, 64, &v)) {
                fprintf(stderr, "kvmshift night: --parallel takes 1 to 64, not '%s'\n", optarg);
                return TOOL_USAGE;
            }
            o.parallel = (unsigned)v;
            break;
        case O_URI:
            o.target_uri = optarg;
            break;
        case O_OUT:
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "table") != 0) {
                fprintf(stderr, "kvmshift night: --output takes table or json, not '%s'\n", optarg);
                return TOOL_USAGE;
            }
            break;
        case 'q':
            o.quiet = true;
            ks_log_set_level(KS_LOG_WARN);
            break;
        case 'h':
            tool_usage("night", stdout);
            return TOOL_OK;
        default:
            tool_usage("night", stderr);
            return TOOL_USAGE;
        }
    }
    if (optind != argc - 2 || !ks_parse_int(argv[optind + 1], 1, 100000, &v)) {
        if (optind == argc - 2)
            fprintf(stderr, "kvmshift night: N is a night's number (1 = the first), not '%s'\n",
                    argv[optind + 1]);
        tool_usage("night", stderr);
        return TOOL_USAGE;
    }
    o.night = (unsigned)v;
    int modes = o.dry_run + o.presync + o.resume + (o.rollback != NULL);
    if (modes > 1) {
        fprintf(stderr, "kvmshift night: --dry-run, --presync, --resume and --rollback go "
                        "alone\n");
        return TOOL_USAGE;
    }
    const char *study = argv[optind];
    ks_error err;
    int outcome = 0;
    json_t *s = mig_night_run(study, &o, &outcome, &err);
    if (!s) {
        fprintf(stderr, "kvmshift night: %s\n", err.message);
        return TOOL_FAIL;
    }
    if (json) {
        json_dumpf(s, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else if (o.dry_run) {
        print_dry(s, study);
    } else if (o.presync) {
        print_presync(s);
    } else {
        print_table(s, study);
    }
    json_decref(s);
    if (outcome == 2) {
        fprintf(stderr, "kvmshift night: stopped before the end: run the same command with "
                        "--resume to go on\n");
        return TOOL_FAIL;
    }
    return outcome == 0 ? TOOL_OK : TOOL_PARTIAL;
}
