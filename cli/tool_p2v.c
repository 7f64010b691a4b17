/* tool_p2v.c: kvmshift p2v copy|convert|define|run|status */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ks_error.h"
#include "ks_log.h"
#include "ks_parse.h"
#include "ks_study.h"
#include "p2v.h"
#include "tool.h"

static int usage_error(void)
{
    tool_usage("p2v", stderr);
    return TOOL_USAGE;
}

/* "table" or "json" for --output of subcommand cmd; false after saying why. */
static bool parse_output(const char *cmd, const char *arg, bool *json)
{
    if (strcmp(arg, "json") == 0 || strcmp(arg, "table") == 0) {
        *json = strcmp(arg, "json") == 0;
        return true;
    }
    fprintf(stderr, "kvmshift p2v %s: --output takes table or json, not '%s'\n", cmd, arg);
    return false;
}

/* Is DIR a study? Says why not. */
static bool study_ok(const char *cmd, const char *dir)
{
    ks_error err;
    ks_error_clear(&err);
    ks_study *st = ks_study_open(dir, &err);
    if (!st) {
        fprintf(stderr, "kvmshift p2v %s: %s\n", cmd, err.message);
        return false;
    }
    ks_study_free(st);
    return true;
}

/* Print o as indented JSON on stdout and release it. */
static void print_json(json_t *o)
{
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", text);
    free(text);
    json_decref(o);
}

static void mib(char *out, size_t n, uint64_t b)
{
    snprintf(out, n, "%.1f", (double)b / 1048576.0);
}

static void print_summary(const char *server, const p2v_copy_result *res, bool sync, bool json)
{
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "server", json_string(server));
        json_object_set_new(o, "complete", json_boolean(res->complete));
        json_object_set_new(o, "consistency", json_string(res->consistency));
        json_object_set_new(o, "seconds", json_real(res->seconds));
        json_t *arr = json_array();
        for (size_t i = 0; i < res->ndisks; i++) {
            const p2v_disk_result *d = &res->disks[i];
            json_array_append_new(
                arr,
                json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:s,s:s,s:s}",
                          "disk", d->name, "size", (json_int_t)d->size, "chunks",
                          (json_int_t)d->chunks, "examined", (json_int_t)d->examined, "sent",
                          (json_int_t)d->sent, "zero", (json_int_t)d->zero, "unchanged",
                          (json_int_t)d->same, "resent", (json_int_t)d->resent, "already_copied",
                          (json_int_t)d->skipped_present, "failed", (json_int_t)d->failed,
                          "bytes_sent", (json_int_t)d->bytes_data, "bytes_wire",
                          (json_int_t)d->bytes_wire, "changed", (json_int_t)d->changed, "seconds",
                          d->seconds, "compression", d->mode, "reader", d->reader, "image",
                          d->image));
        }
        json_object_set_new(o, "disks", arr);
        if (res->uploaded)
            json_object_set_new(
                o, "upload",
                json_pack("{s:I,s:I,s:I,s:f}", "chunks_sent", (json_int_t)res->upload_sent,
                          "chunks_unchanged", (json_int_t)res->upload_same, "bytes_sent",
                          (json_int_t)res->upload_bytes, "seconds", res->upload_seconds));
        print_json(o);
        return;
    }
    printf("%-8s %8s %7s %7s %7s %7s %6s %10s %10s %6s %-8s %s\n", "DISK", "SIZE MiB", "CHUNKS",
           "SENT", "ZEROS", "SAME", "RESENT", "DATA MiB", "WIRE MiB", "SEC", "COMPRESS",
           sync ? "CHANGED" : "IMAGE");
    for (size_t i = 0; i < res->ndisks; i++) {
        const p2v_disk_result *d = &res->disks[i];
        char sz[32], data[32], wire[32], changed[64];
        mib(sz, sizeof sz, d->size);
        mib(data, sizeof data, d->bytes_data);
        mib(wire, sizeof wire, d->bytes_wire);
        snprintf(changed, sizeof changed, "%zu chunks, %.1f MiB", d->changed,
                 (double)d->changed_bytes / 1048576.0);
        printf("%-8s %8s %7zu %7zu %7zu %7zu %6zu %10s %10s %6.1f %-8s %s\n", d->name, sz,
               d->chunks, d->sent, d->zero, d->same, d->resent, data, wire, d->seconds, d->mode,
               sync ? changed : d->image);
    }
    if (res->ndisks)
        printf("read on the source by %s\n", res->disks[0].reader);
    if (res->uploaded)
        printf("uploaded into the pool through libvirt: %zu chunks (%.1f MiB) sent, %zu already "
               "there, in %.1f s\n",
               res->upload_sent, (double)res->upload_bytes / 1048576.0, res->upload_same,
               res->upload_seconds);
    printf("%s: %s in %.1f s; %s\n", server, res->complete ? "every chunk copied" : "not complete",
           res->seconds, res->consistency);
}

static int do_copy(int argc, char **argv)
{
    enum {
        O_TO = 256,
        O_FORMAT,
        O_SYNC,
        O_FORCE,
        O_NOSNAP,
        O_NOHELPER,
        O_CHUNK,
        O_JOBS,
        O_COMPRESS,
        O_TIMEOUT,
        O_ACCEPT,
        O_DISK,
        O_URI,
        O_OUTPUT
    };
    static const struct option opts[] = {{"to", required_argument, NULL, O_TO},
                                         {"format", required_argument, NULL, O_FORMAT},
                                         {"sync", no_argument, NULL, O_SYNC},
                                         {"force", no_argument, NULL, O_FORCE},
                                         {"no-snapshot", no_argument, NULL, O_NOSNAP},
                                         {"no-helper", no_argument, NULL, O_NOHELPER},
                                         {"disk", required_argument, NULL, O_DISK},
                                         {"target-uri", required_argument, NULL, O_URI},
                                         {"chunk-size", required_argument, NULL, O_CHUNK},
                                         {"jobs", required_argument, NULL, O_JOBS},
                                         {"compress", required_argument, NULL, O_COMPRESS},
                                         {"timeout", required_argument, NULL, O_TIMEOUT},
                                         {"accept-new-hostkeys", no_argument, NULL, O_ACCEPT},
                                         {"output", required_argument, NULL, O_OUTPUT},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *disks[64];
    size_t ndisks = 0;
    p2v_copy_options o = {.format = P2V_QCOW2, .snapshot = true, .compress = P2V_COMPRESS_AUTO};
    bool json = false;
    long v;
    double d;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            tool_usage("p2v", stdout);
            return TOOL_OK;
        case 'q':
            o.quiet = true;
            break;
        case O_TO:
            o.to = optarg;
            break;
        case O_FORMAT:
            if (strcmp(optarg, "qcow2") == 0)
                o.format = P2V_QCOW2;
            else if (strcmp(optarg, "raw") == 0)
                o.format = P2V_RAW;
            else {
                fprintf(stderr, "kvmshift p2v copy: --format takes qcow2 or raw, not '%s'\n",
                        optarg);
                return TOOL_USAGE;
            }
            break;
        case O_SYNC:
            o.sync = true;
            break;
        case O_FORCE:
            o.force = true;
            break;
        case O_URI:
            o.target_uri = optarg;
            break;
        case O_DISK:
            if (ndisks == sizeof disks / sizeof disks[0]) {
                fprintf(stderr, "kvmshift p2v copy: at most %zu --disk options\n",
                        sizeof disks / sizeof disks[0]);
                return TOOL_USAGE;
            }
            disks[ndisks++] = optarg;
            o.disks = disks;
            o.ndisks = ndisks;
            break;
        case O_NOHELPER:
            o.no_helper = true;
            break;
        case O_NOSNAP:
            o.snapshot = false;
            break;
        case O_CHUNK:
            if (!ks_parse_int(optarg, 1, 64, &v)) {
                fprintf(stderr,
                        "kvmshift p2v copy: --chunk-size takes MiB from 1 to 64, not "
                        "'%s'\n",
                        optarg);
                return TOOL_USAGE;
            }
            o.chunk_size = (uint32_t)v << 20;
            break;
        case O_JOBS:
            if (!ks_parse_int(optarg, 1, 64, &v)) {
                fprintf(stderr, "kvmshift p2v copy: --jobs takes 1 to 64, not '%s'\n", optarg);
                return TOOL_USAGE;
            }
            o.jobs = (unsigned)v;
            break;
        case O_COMPRESS:
            if (strcmp(optarg, "auto") == 0)
                o.compress = P2V_COMPRESS_AUTO;
            else if (strcmp(optarg, "none") == 0)
                o.compress = P2V_COMPRESS_NONE;
            else if (strcmp(optarg, "gzip") == 0)
                o.compress = P2V_COMPRESS_GZIP;
            else if (strcmp(optarg, "zstd") == 0)
                o.compress = P2V_COMPRESS_ZSTD;
            else {
                fprintf(stderr,
                        "kvmshift p2v copy: --compress takes auto, none, gzip or zstd, "
                        "not '%s'\n",
                        optarg);
                return TOOL_USAGE;
            }
            break;
        case O_TIMEOUT:
            if (!ks_parse_double(optarg, &d) || d < 1 || d > 86400) {
                fprintf(stderr,
                        "kvmshift p2v copy: --timeout takes seconds from 1 to 86400, "
                        "not '%s'\n",
                        optarg);
                return TOOL_USAGE;
            }
            o.timeout = d;
            break;
        case O_ACCEPT:
            o.accept_new_hostkeys = true;
            break;
        case O_OUTPUT:
            if (!parse_output("copy", optarg, &json))
                return TOOL_USAGE;
            break;
        default:
            return usage_error();
        }
    }
    if (optind != argc - 2)
        return usage_error();
    const char *study = argv[optind], *server = argv[optind + 1];
    if (!study_ok("copy", study))
        return TOOL_FAIL;
    ks_error err;
    ks_error_clear(&err);
    p2v_copy_result res;
    int rc = p2v_copy(study, server, &o, &res, &err);
    if (res.ndisks)
        print_summary(server, &res, o.sync, json);
    p2v_copy_result_free(&res);
    if (rc < 0) {
        fprintf(stderr, "kvmshift p2v copy: %s\n", err.message);
        return TOOL_FAIL;
    }
    if (rc > 0) {
        fprintf(stderr, "kvmshift p2v copy: %s\n",
                err.code
                    ? err.message
                    : "some chunks are not copied yet (see above): run the same command again");
        return TOOL_PARTIAL;
    }
    return TOOL_OK;
}

static int do_status(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    tool_format fmt = FMT_TABLE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            tool_usage("p2v", stdout);
            return TOOL_OK;
        }
        if (c == 'f' && tool_parse_format(optarg, &fmt) == 0)
            continue;
        return usage_error();
    }
    if (optind != argc - 1 && optind != argc - 2)
        return usage_error();
    const char *study = argv[optind], *server = optind == argc - 2 ? argv[optind + 1] : NULL;
    if (!study_ok("status", study))
        return TOOL_FAIL;
    ks_error err;
    ks_error_clear(&err);
    json_t *arr = p2v_status(study, server, &err);
    if (!arr) {
        fprintf(stderr, "kvmshift p2v status: %s\n", err.message);
        return TOOL_FAIL;
    }
    if (fmt == FMT_JSON) {
        print_json(arr);
        return TOOL_OK;
    }
    if (fmt == FMT_TABLE)
        printf("%-20s %-12s %7s %-20s %8s %s\n", "SERVER", "STATE", "COPIED", "SYNCED AT",
               "CHANGED", "NOTE");
    else
        printf("server,state,percent,synced_at,changed_percent,error\n");
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *name = json_string_value(json_object_get(o, "server"));
        const char *state = json_string_value(json_object_get(o, "state"));
        double pct = json_number_value(json_object_get(o, "percent"));
        const char *synced = json_string_value(json_object_get(o, "synced_at"));
        double ch = json_number_value(json_object_get(o, "changed_percent"));
        const char *error = json_string_value(json_object_get(o, "error"));
        if (fmt == FMT_CSV) {
            tool_csv_field(stdout, name);
            printf(",%s,%.1f,%s,%.2f,", state, pct, synced ? synced : "", ch);
            tool_csv_field(stdout, error ? error : "");
            printf("\n");
            continue;
        }
        char note[300];
        if (error && *error)
            snprintf(note, sizeof note, "%s: %s", strcmp(state, "failed") == 0 ? "failed" : "note",
                     error);
        else if (synced && json_is_string(json_object_get(o, "domain_uri")))
            snprintf(note, sizeof note, "converted, defined on %s",
                     json_string_value(json_object_get(o, "domain_uri")));
        else if (synced && json_is_string(json_object_get(o, "converted_at")))
            snprintf(note, sizeof note, "converted at %s",
                     json_string_value(json_object_get(o, "converted_at")));
        else if (synced)
            snprintf(note, sizeof note, "synced at %s with %.2f %% changed", synced, ch);
        else
            snprintf(note, sizeof note, "copying %.0f %%", pct);
        printf("%-20s %-12s %6.1f%% %-20s %7.2f%% %s\n", name, state, pct, synced ? synced : "-",
               ch, note);
    }
    json_decref(arr);
    return TOOL_OK;
}

static int do_convert(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dry-run", no_argument, NULL, 'n'}, {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},   {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},    {NULL, 0, NULL, 0}};
    p2v_convert_options o = {0};
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            o.dry_run = true;
            break;
        case 'o':
            if (!parse_output("convert", optarg, &json))
                return TOOL_USAGE;
            break;
        case 'q':
            o.quiet = true;
            ks_log_set_level(KS_LOG_WARN);
            break;
        case 'v':
            ks_log_set_level(KS_LOG_DEBUG);
            break;
        case 'h':
            tool_usage("p2v", stdout);
            return TOOL_OK;
        default:
            return usage_error();
        }
    }
    if (optind != argc - 2)
        return usage_error();
    const char *study = argv[optind], *server = argv[optind + 1];
    if (!study_ok("convert", study))
        return TOOL_FAIL;
    ks_error err;
    ks_error_clear(&err);
    p2v_convert_result res;
    int rc = p2v_convert(study, server, &o, &res, &err);
    if (json) {
        json_t *j =
            json_pack("{s:s,s:b,s:b,s:s,s:s,s:I,s:I,s:f}", "server", server, "dry_run", o.dry_run,
                      "converted", rc == 0 && !o.dry_run, "os", res.os, "initramfs_tool",
                      res.initramfs_tool, "changes", (json_int_t)res.nchanges, "chunks_changed",
                      (json_int_t)res.chunks_changed, "seconds", res.seconds);
        json_t *lines = json_array();
        const char *p = res.changes ? res.changes : "";
        while (*p) {
            const char *e = strchr(p, '\n');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            json_array_append_new(lines, json_stringn(p, n));
            p += n + (e ? 1 : 0);
        }
        json_object_set_new(j, "change_list", lines);
        json_object_set(j, "network", res.network ? res.network : json_array());
        if (rc < 0)
            json_object_set_new(j, "error", json_string(err.message));
        print_json(j);
    } else if (res.changes && (rc == 0 || *res.changes)) {
        if (*res.os)
            printf("%s: %s, initramfs by %s\n", server, res.os, res.initramfs_tool);
        fputs(res.changes, stdout);
        if (rc == 0)
            printf("%s: %zu change%s%s in %.1f s%s\n", server, res.nchanges,
                   res.nchanges == 1 ? "" : "s", o.dry_run ? " would be made" : " made",
                   res.seconds, o.dry_run ? " (dry run: the images are unchanged)" : "");
        if (rc == 0 && !o.dry_run)
            printf("%zu chunks of the images changed: a later 'p2v copy --sync' sends them again "
                   "from the source, and the copy must then be converted again\n",
                   res.chunks_changed);
    }
    if (rc < 0)
        fprintf(stderr, "kvmshift p2v convert: %s\n", err.message);
    p2v_convert_result_free(&res);
    return rc < 0 ? TOOL_FAIL : TOOL_OK;
}

/* The options of define, and of run (which adds --accept-new-hostkeys):
 * -1 to go on, else the exit status. */
static int parse_define(int argc, char **argv, const char *cmd, p2v_define_options *o, bool *json,
                        bool *accept)
{
    enum {
        O_URI = 256,
        O_POOL,
        O_VCPUS,
        O_MEMORY,
        O_VTYPE,
        O_CONSOLE,
        O_START,
        O_FORCE,
        O_DRY,
        O_UNCONV,
        O_OUTPUT,
        O_ACCEPT
    };
    static const struct option opts[] = {{"target-uri", required_argument, NULL, O_URI},
                                         {"pool", required_argument, NULL, O_POOL},
                                         {"vcpus", required_argument, NULL, O_VCPUS},
                                         {"memory", required_argument, NULL, O_MEMORY},
                                         {"virt-type", required_argument, NULL, O_VTYPE},
                                         {"console-log", required_argument, NULL, O_CONSOLE},
                                         {"start", no_argument, NULL, O_START},
                                         {"force", no_argument, NULL, O_FORCE},
                                         {"dry-run", no_argument, NULL, O_DRY},
                                         {"unconverted", no_argument, NULL, O_UNCONV},
                                         {"accept-new-hostkeys", no_argument, NULL, O_ACCEPT},
                                         {"output", required_argument, NULL, O_OUTPUT},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    uint64_t v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case O_URI:
            o->target_uri = optarg;
            break;
        case O_POOL:
            o->pool = optarg;
            break;
        case O_VCPUS:
            if (!ks_parse_u64(optarg, &v) || v < 1 || v > 4096) {
                fprintf(stderr, "kvmshift p2v %s: --vcpus takes 1 to 4096, not '%s'\n", cmd,
                        optarg);
                return TOOL_USAGE;
            }
            o->vcpus = (unsigned)v;
            break;
        case O_MEMORY:
            if (!ks_parse_u64(optarg, &v) || v < 64 || v > (64ull << 20)) {
                fprintf(stderr, "kvmshift p2v %s: --memory takes MiB, 64 or more, not '%s'\n", cmd,
                        optarg);
                return TOOL_USAGE;
            }
            o->memory_mib = v;
            break;
        case O_VTYPE:
            if (strcmp(optarg, "kvm") != 0 && strcmp(optarg, "qemu") != 0) {
                fprintf(stderr, "kvmshift p2v %s: --virt-type takes kvm or qemu, not '%s'\n", cmd,
                        optarg);
                return TOOL_USAGE;
            }
            o->virt_type = optarg;
            break;
        case O_CONSOLE:
            if (optarg[0] != '/') {
                fprintf(stderr, "kvmshift p2v %s: --console-log takes an absolute path\n", cmd);
                return TOOL_USAGE;
            }
            o->console_log = optarg;
            break;
        case O_START:
            o->start = true;
            break;
        case O_FORCE:
            o->force = true;
            break;
        case O_DRY:
            o->dry_run = true;
            break;
        case O_UNCONV:
            o->unconverted = true;
            break;
        case O_ACCEPT:
            if (!accept)
                return usage_error();
            *accept = true;
            break;
        case O_OUTPUT:
            if (!parse_output(cmd, optarg, json))
                return TOOL_USAGE;
            break;
        case 'q':
            o->quiet = true;
            ks_log_set_level(KS_LOG_WARN);
            break;
        case 'h':
            tool_usage("p2v", stdout);
            return TOOL_OK;
        default:
            return usage_error();
        }
    }
    if (optind != argc - 2)
        return usage_error();
    return -1;
}

/* Define, and say what was (or with --dry-run would be) defined. */
static int define_and_tell(const char *cmd, const char *study, const char *server,
                           const p2v_define_options *o, bool json)
{
    ks_error err;
    ks_error_clear(&err);
    p2v_define_result res;
    int rc = p2v_define(study, server, o, &res, &err);
    if (json) {
        json_t *j = json_pack("{s:s,s:b,s:b,s:b,s:s,s:I,s:I,s:s,s:s}", "server", server, "dry_run",
                              o->dry_run, "defined", rc == 0 && !o->dry_run, "started", res.started,
                              "uuid", res.uuid, "vcpus", (json_int_t)res.vcpus, "memory_mib",
                              (json_int_t)res.memory_mib, "cpu", res.cpu_note, "xml",
                              res.xml ? res.xml : "");
        if (rc < 0)
            json_object_set_new(j, "error", json_string(err.message));
        print_json(j);
    } else if (rc == 0) {
        if (o->dry_run)
            fputs(res.xml, stdout);
        if (*res.cpu_note && !o->quiet)
            fprintf(stderr, "%s: %s\n", server, res.cpu_note);
        if (!o->dry_run)
            printf("%s: defined on %s (uuid %s, %u vCPUs, %llu MiB)%s\n", server,
                   o->target_uri ? o->target_uri : "qemu:///system", res.uuid, res.vcpus,
                   (unsigned long long)res.memory_mib, res.started ? ", started" : "");
    }
    if (rc < 0)
        fprintf(stderr, "kvmshift p2v %s: %s\n", cmd, err.message);
    p2v_define_result_free(&res);
    return rc < 0 ? TOOL_FAIL : TOOL_OK;
}

static int do_define(int argc, char **argv)
{
    p2v_define_options o = {0};
    bool json = false;
    int rc = parse_define(argc, argv, "define", &o, &json, NULL);
    if (rc >= 0)
        return rc;
    const char *study = argv[optind], *server = argv[optind + 1];
    if (!study_ok("define", study))
        return TOOL_FAIL;
    return define_and_tell("define", study, server, &o, json);
}

/* copy (the final delta when a copy is complete), convert, define. */
static int do_run(int argc, char **argv)
{
    p2v_define_options o = {0};
    bool json = false, accept = false;
    int rc = parse_define(argc, argv, "run", &o, &json, &accept);
    if (rc >= 0)
        return rc;
    const char *study = argv[optind], *server = argv[optind + 1];
    if (!study_ok("run", study))
        return TOOL_FAIL;
    ks_error err;
    ks_error_clear(&err);
    /* a complete copy gets its final delta; anything else resumes */
    json_t *st = p2v_status(study, server, &err);
    const char *state =
        st ? json_string_value(json_object_get(json_array_get(st, 0), "state")) : NULL;
    bool sync = state && strcmp(state, "synced") == 0;
    json_decref(st);
    if (o.dry_run) {
        printf("%s: would %s\n", server,
               sync ? "send the last delta ('p2v copy --sync')" : "copy its disks ('p2v copy')");
    } else {
        p2v_copy_options co = {
            .sync = sync, .snapshot = true, .quiet = o.quiet, .accept_new_hostkeys = accept};
        p2v_copy_result cres;
        rc = p2v_copy(study, server, &co, &cres, &err);
        if (cres.ndisks && !json)
            print_summary(server, &cres, sync, false);
        p2v_copy_result_free(&cres);
        if (rc != 0) {
            fprintf(stderr, "kvmshift p2v run: %s\n",
                    rc < 0 || err.code ? err.message
                                       : "some chunks are not copied yet: run the same command "
                                         "again");
            return rc < 0 ? TOOL_FAIL : TOOL_PARTIAL;
        }
    }
    p2v_convert_options cv = {.dry_run = o.dry_run, .quiet = o.quiet};
    p2v_convert_result cr;
    rc = p2v_convert(study, server, &cv, &cr, &err);
    if (!json && cr.changes)
        fputs(cr.changes, stdout);
    p2v_convert_result_free(&cr);
    if (rc < 0) {
        fprintf(stderr, "kvmshift p2v run: %s\n", err.message);
        return TOOL_FAIL;
    }
    /* a dry run converted nothing: show the domain it would get anyway */
    o.unconverted |= o.dry_run;
    return define_and_tell("run", study, server, &o, json);
}

int tool_p2v(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        tool_usage("p2v", argc < 2 ? stderr : stdout);
        return argc < 2 ? TOOL_USAGE : TOOL_OK;
    }
    if (strcmp(argv[1], "copy") == 0)
        return do_copy(argc - 1, argv + 1);
    if (strcmp(argv[1], "convert") == 0)
        return do_convert(argc - 1, argv + 1);
    if (strcmp(argv[1], "define") == 0)
        return do_define(argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0)
        return do_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "status") == 0)
        return do_status(argc - 1, argv + 1);
    fprintf(stderr,
            "kvmshift p2v: no subcommand '%s' (copy, convert, define, run or status); see "
            "'kvmshift p2v --help'\n",
            argv[1]);
    return TOOL_USAGE;
}
