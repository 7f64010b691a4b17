/* tool_demo.c: kvmshift demo [--sample NAME] [--out DIR] [--samples-dir DIR] [--list]
 *
 * A bundled sample study (samples/NAME: study.ini, inventory.csv, facts/,
 * data/ with CSV files, gzip-compressed or not) becomes a complete study directory: copied, its
 * data imported, analyzed (plan.json), and its report written. The new study is put together under
 * a temporary name next to DIR and renamed into place once its data is in, so that a failed or
 * interrupted demo never leaves a half-made DIR; a previous demo directory (it holds the marker
 * file .kvmshift-demo) is replaced, anything else is refused.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer.h"
#include "collector.h"
#include "ks_error.h"
#include "ks_fs.h"
#include "ks_ini.h"
#include "ks_inventory.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_study.h"
#include "ks_vector.h"
#include "tool.h"
#ifdef KS_HAVE_REPORT
#include "report.h"
#endif

#ifndef KS_SAMPLES_INSTALL_DIR
#define KS_SAMPLES_INSTALL_DIR "/usr/local/share/kvmshift/samples"
#endif
#ifndef KS_SAMPLES_SOURCE_DIR
#define KS_SAMPLES_SOURCE_DIR ""
#endif

/* Present in every directory the demo made: it may be replaced. */
#define DEMO_MARKER ".kvmshift-demo"
#define DEFAULT_SAMPLE "lab"
#define DEFAULT_OUT "kvmshift-demo"

KS_VECTOR(name_vec, char *);

static void names_free(name_vec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->ptr[i]);
    name_vec_reset(v);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The entries of dir that keep(dir, name) accepts, sorted; -1 with err
 * when dir cannot be read. */
static int list_dir(const char *dir, bool (*keep)(const char *dir, const char *name), name_vec *out,
                    ks_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        ks_error_set(err, KS_E_IO, errno, "cannot read the directory '%s': %s", dir,
                     strerror(errno));
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && keep(dir, de->d_name))
            name_vec_push(out, ks_strdup(de->d_name));
    closedir(d);
    ks_qsort(out->ptr, out->len, sizeof *out->ptr, ks_cmp_strp);
    return 0;
}

static bool is_sample(const char *dir, const char *name)
{
    KS_AUTOFREE char *sample = ks_path_join(dir, name);
    KS_AUTOFREE char *ini = ks_path_join(sample, "study.ini");
    return ks_path_exists(ini);
}

static bool is_regular(const char *dir, const char *name)
{
    KS_AUTOFREE char *p = ks_path_join(dir, name);
    struct stat st;
    return lstat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_data_file(const char *dir, const char *name)
{
    return (ends_with(name, ".csv") || ends_with(name, ".csv.gz")) && is_regular(dir, name);
}

static bool is_facts_file(const char *dir, const char *name)
{
    return ends_with(name, ".json") && is_regular(dir, name);
}

/* Where the samples are: --samples-dir, $KS_SAMPLES, the installed ones,
 * the source tree's. *from says which, for messages. NULL when none. */
static const char *samples_dir(const char *given, const char **from)
{
    if (given) {
        *from = "--samples-dir";
        return given;
    }
    const char *env = getenv("KS_SAMPLES");
    if (env && *env) {
        *from = "$KS_SAMPLES";
        return env;
    }
    if (ks_is_dir(KS_SAMPLES_INSTALL_DIR)) {
        *from = "the installed samples";
        return KS_SAMPLES_INSTALL_DIR;
    }
    if (*KS_SAMPLES_SOURCE_DIR && ks_is_dir(KS_SAMPLES_SOURCE_DIR)) {
        *from = "the source tree";
        return KS_SAMPLES_SOURCE_DIR;
    }
    return NULL;
}

static int list_samples(const char *dir)
{
    name_vec names = {0};
    ks_error err;
    ks_error_clear(&err);
    if (list_dir(dir, is_sample, &names, &err) < 0) {
        fprintf(stderr, "kvmshift demo: %s\n", err.message);
        return TOOL_FAIL;
    }
    printf("samples in %s:\n", dir);
    for (size_t i = 0; i < names.len; i++) {
        KS_AUTOFREE char *sample = ks_path_join(dir, names.ptr[i]);
        KS_AUTOFREE char *ini_path = ks_path_join(sample, "study.ini");
        ks_ini *ini = ks_ini_load(ini_path, &err);
        const char *title = ini ? ks_ini_get(ini, "study", "name") : NULL;
        printf("  %-12s %s\n", names.ptr[i], title ? title : "");
        ks_ini_free(ini);
    }
    if (!names.len)
        printf("  (none)\n");
    names_free(&names);
    return TOOL_OK;
}

/* What is at the --out path now. */
typedef enum out_state { OUT_NONE, OUT_EMPTY, OUT_DEMO, OUT_OTHER } out_state;

static out_state out_state_of(const char *out)
{
    struct stat st;
    if (lstat(out, &st) < 0)
        return errno == ENOENT ? OUT_NONE : OUT_OTHER;
    if (!S_ISDIR(st.st_mode))
        return OUT_OTHER;
    if (is_regular(out, DEMO_MARKER))
        return OUT_DEMO;
    DIR *d = opendir(out);
    if (!d)
        return OUT_OTHER;
    struct dirent *de;
    bool empty = true;
    while (empty && (de = readdir(d)))
        empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
    closedir(d);
    return empty ? OUT_EMPTY : OUT_OTHER;
}

/* The sample's study files into the new directory dir: every regular file
 * at its top (study.ini, inventory.csv, ...), the JSON files of facts/, the empty rrd/
 * and state/, and the demo's marker. */
static int copy_sample(const char *sample, const char *dir, const char *name, ks_error *err)
{
    name_vec top = {0}, facts = {0};
    int rc = -1;
    KS_AUTOFREE char *src_facts = ks_path_join(sample, "facts");
    KS_AUTOFREE char *dst_facts = ks_path_join(dir, "facts");
    KS_AUTOFREE char *rrd = ks_path_join(dir, "rrd");
    KS_AUTOFREE char *state = ks_path_join(dir, "state");
    KS_AUTOFREE char *marker = ks_path_join(dir, DEMO_MARKER);
    KS_AUTOFREE char *text =
        ks_asprintf("This study was made by 'kvmshift demo' from the sample '%s' (%s).\n"
                    "'kvmshift demo' replaces this directory when run again with it as --out.\n",
                    name, sample);
    if (list_dir(sample, is_regular, &top, err) < 0)
        goto out;
    if (ks_is_dir(src_facts) && list_dir(src_facts, is_facts_file, &facts, err) < 0)
        goto out;
    if (ks_mkdir_p(dst_facts, err) < 0 || ks_mkdir_p(rrd, err) < 0 || ks_mkdir_p(state, err) < 0)
        goto out;
    for (size_t i = 0; i < top.len; i++) {
        KS_AUTOFREE char *from = ks_path_join(sample, top.ptr[i]);
        KS_AUTOFREE char *to = ks_path_join(dir, top.ptr[i]);
        if (ks_copy_file(from, to, err) < 0)
            goto out;
    }
    for (size_t i = 0; i < facts.len; i++) {
        KS_AUTOFREE char *from = ks_path_join(src_facts, facts.ptr[i]);
        KS_AUTOFREE char *to = ks_path_join(dst_facts, facts.ptr[i]);
        if (ks_copy_file(from, to, err) < 0)
            goto out;
    }
    rc = ks_write_file_atomic(marker, text, strlen(text), 0644, err);
out:
    names_free(&top);
    names_free(&facts);
    return rc;
}

/* Import every data file of the sample into the study at dir. */
static int import_data(const char *dir, const char *data_dir, const name_vec *files, bool quiet,
                       ks_error *err)
{
    ks_study *study = ks_study_open(dir, err);
    if (!study)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < files->len && rc == 0; i++) {
        KS_AUTOFREE char *input = ks_path_join(data_dir, files->ptr[i]);
        col_import_options opt = {.format = COL_IMPORT_CSV, .input = input, .quiet = quiet};
        col_import *imp = col_import_run(study, &opt, err);
        if (!imp) {
            rc = -1;
            break;
        }
        size_t n = col_import_count(imp), rows = 0, ok = 0;
        const col_import_result *bad = NULL;
        for (size_t k = 0; k < n; k++) {
            const col_import_result *r = col_import_get(imp, k);
            ok += r->ok;
            rows += r->ok ? r->rows : 0;
            if (!r->ok && !bad)
                bad = r;
        }
        if (bad) {
            ks_error_set(err, KS_E_PARSE, 0, "%zu of %zu servers of '%s' could not be imported: %s",
                         n - ok, n, input, bad->error.message);
            rc = -1;
        } else if (col_import_interrupted(imp)) {
            ks_error_set(err, KS_E_IO, EINTR, "interrupted while importing '%s'", input);
            rc = -1;
        } else if (!quiet) {
            printf("imported %zu servers, %zu rows, from %s\n", n, rows, files->ptr[i]);
        }
        col_import_free(imp);
    }
    ks_study_free(study);
    return rc;
}

/* Put the new study at out, replacing a previous demo directory. */
static int put_in_place(const char *tmp, const char *out, out_state state, ks_error *err)
{
    if (state != OUT_DEMO) {
        /* rename(2) replaces an empty directory */
        if (rename(tmp, out) < 0) {
            ks_error_set(err, KS_E_IO, errno, "cannot rename '%s' to '%s': %s", tmp, out,
                         strerror(errno));
            return -1;
        }
        return 0;
    }
    KS_AUTOFREE char *old = ks_asprintf("%s.old-%ld", out, (long)getpid());
    if (rename(out, old) < 0) {
        ks_error_set(err, KS_E_IO, errno, "cannot move the previous demo '%s' away: %s", out,
                     strerror(errno));
        return -1;
    }
    if (rename(tmp, out) < 0) {
        int e = errno;
        if (rename(old, out) < 0)
            ks_log_warn("the previous demo is now '%s'", old);
        ks_error_set(err, KS_E_IO, e, "cannot rename '%s' to '%s': %s", tmp, out, strerror(e));
        return -1;
    }
    ks_error e2;
    ks_error_clear(&e2);
    if (ks_remove_tree(old, &e2) < 0)
        ks_log_warn("the previous demo could not be removed entirely: %s", e2.message);
    return 0;
}

/* Analyze the study at out (plan.json), then write its report. */
static int analyze_and_report(const char *out, bool quiet, char **report_path, ks_error *err)
{
    ks_study *study = ks_study_open_writer(out, "kvmshift demo", err);
    if (!study)
        return -1;
    int rc = -1;
    KS_AUTOFREE char *inv_path = ks_study_path(study, "inventory.csv");
    KS_AUTOFREE char *plan_path = ks_study_path(study, "plan.json");
    ks_inventory *inv = ks_inventory_load(inv_path, err);
    ana_plan *plan = NULL;
    ana_options aopt = {.quiet = true};
    if (!inv)
        goto out;
    plan = ana_plan_build(study, inv, &aopt, err);
    if (!plan || ana_plan_write_json(plan, plan_path, err) < 0)
        goto out;
    if (!quiet) {
        KS_AUTOFREE char *text = ana_plan_summary_text(plan);
        printf("\n%s\n", text);
    }
#ifdef KS_HAVE_REPORT
    {
        rep_options ropt = {.quiet = quiet};
        rep_result res = {0};
        if (rep_write(study, inv, &ropt, &res, err) < 0)
            goto out;
        if (res.charts_failed)
            fprintf(stderr,
                    "kvmshift demo: %zu of %zu charts could not be drawn (is gnuplot "
                    "installed?); the report says so where they would be\n",
                    res.charts_failed, res.charts + res.charts_failed);
        *report_path = ks_strdup(res.index_path);
        rep_result_free(&res);
    }
#else
    *report_path = NULL;
#endif
    rc = 0;
out:
    ana_plan_free(plan);
    ks_inventory_free(inv);
    ks_study_free(study);
    return rc;
}

/* out without trailing slashes ("demo/" and "demo" are one directory). */
static char *clean_out(const char *out)
{
    char *s = ks_strdup(out);
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        s[--n] = '\0';
    return s;
}

static char *absolute(const char *path)
{
    char buf[PATH_MAX];
    return realpath(path, buf) ? ks_strdup(buf) : ks_strdup(path);
}

/* The last lines: where the study, the plan and the report are. */
static void print_result(const char *out, const char *report, bool quiet)
{
    KS_AUTOFREE char *abs_out = absolute(out);
    printf("study:  %s\n", abs_out);
    printf("plan:   %s/plan.json\n", abs_out);
    if (report) {
        KS_AUTOFREE char *abs_report = absolute(report);
        printf("report: %s\n", abs_report);
    } else {
        fprintf(stderr, "kvmshift demo: the report is not built into this kvmshift (no report "
                        "component): only the plan was written\n");
    }
    if (!quiet)
        printf("\nNext: kvmshift analyze %s --explain SERVER   (why a server is placed where it "
               "is, or not)\n",
               out);
}

static int demo(const char *samples, const char *from, const char *name, const char *out_arg,
                bool quiet)
{
    ks_error err;
    ks_error_clear(&err);
    if (!ks_server_name_valid(name)) {
        fprintf(stderr, "kvmshift demo: '%s' is not a sample name (see 'kvmshift demo --list')\n",
                name);
        return TOOL_USAGE;
    }
    KS_AUTOFREE char *sample = ks_path_join(samples, name);
    if (!is_sample(samples, name)) {
        fprintf(stderr,
                "kvmshift demo: no sample '%s' in %s (%s): 'kvmshift demo --list' shows "
                "the samples there\n",
                name, samples, from);
        return TOOL_USAGE;
    }
    KS_AUTOFREE char *data_dir = ks_path_join(sample, "data");
    name_vec files = {0};
    if (!ks_is_dir(data_dir) || list_dir(data_dir, is_data_file, &files, &err) < 0 ||
        files.len == 0) {
        fprintf(stderr,
                "kvmshift demo: the sample '%s' has no data: expected data/*.csv or "
                "data/*.csv.gz in it; is the installation complete?\n",
                sample);
        names_free(&files);
        return TOOL_FAIL;
    }

    KS_AUTOFREE char *out = clean_out(out_arg);
    out_state state = out_state_of(out);
    if (state == OUT_OTHER) {
        fprintf(stderr,
                "kvmshift demo: '%s' exists and was not made by 'kvmshift demo' (it is not an "
                "empty directory and holds no %s): nothing was changed; choose another --out, "
                "or move it away\n",
                out, DEMO_MARKER);
        names_free(&files);
        return TOOL_USAGE;
    }

    /* the new study is put together next to out, then renamed */
    int rc = TOOL_FAIL;
    KS_AUTOFREE char *parent = ks_strdup(out);
    char *slash = strrchr(parent, '/');
    if (slash)
        *(slash == parent ? slash + 1 : slash) = '\0';
    KS_AUTOFREE char *tmp = ks_asprintf("%s.new-XXXXXX", out);
    KS_AUTOFREE char *report = NULL;
    bool tmp_made = false;
    if (slash && ks_mkdir_p(parent, &err) < 0)
        goto fail;
    if (!mkdtemp(tmp)) {
        ks_error_set(&err, KS_E_IO, errno, "cannot create a directory next to '%s': %s", out,
                     strerror(errno));
        goto fail;
    }
    tmp_made = true;
    (void)chmod(tmp, 0755); /* mkdtemp made it 0700 */
    if (!quiet)
        printf("sample '%s' from %s\n", name, sample);
    if (copy_sample(sample, tmp, name, &err) < 0 ||
        import_data(tmp, data_dir, &files, quiet, &err) < 0 ||
        put_in_place(tmp, out, state, &err) < 0)
        goto fail;
    tmp_made = false;
    if (analyze_and_report(out, quiet, &report, &err) < 0) {
        fprintf(stderr, "kvmshift demo: the study is in '%s', but: %s\n", out, err.message);
        goto out;
    }
    print_result(out, report, quiet);
    rc = TOOL_OK;
    goto out;
fail:
    fprintf(stderr, "kvmshift demo: %s; '%s' was not %s\n", err.message, out,
            state == OUT_NONE ? "created" : "changed");
out:
    if (tmp_made) {
        ks_error e2;
        ks_error_clear(&e2);
        if (ks_remove_tree(tmp, &e2) < 0)
            ks_log_warn("%s", e2.message);
    }
    names_free(&files);
    return rc;
}

int tool_demo(int argc, char **argv)
{
    enum { O_SAMPLE = 256, O_OUT, O_SAMPLES_DIR, O_LIST };
    static const struct option opts[] = {
        {"sample", required_argument, NULL, O_SAMPLE},
        {"out", required_argument, NULL, O_OUT},
        {"samples-dir", required_argument, NULL, O_SAMPLES_DIR},
        {"list", no_argument, NULL, O_LIST},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *name = DEFAULT_SAMPLE, *out = DEFAULT_OUT, *given = NULL;
    bool quiet = false, list = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
        switch (c) {
        case O_SAMPLE:
            name = optarg;
            break;
        case O_OUT:
            out = optarg;
            break;
        case O_SAMPLES_DIR:
            given = optarg;
            break;
        case O_LIST:
            list = true;
            break;
        case 'q':
            quiet = true;
            ks_log_set_level(KS_LOG_WARN);
            break;
        case 'v':
            ks_log_set_level(KS_LOG_DEBUG);
            break;
        case 'h':
            tool_usage("demo", stdout);
            return TOOL_OK;
        default:
            tool_usage("demo", stderr);
            return TOOL_USAGE;
        }
    }
    if (optind != argc) {
        tool_usage("demo", stderr);
        return TOOL_USAGE;
    }
    if (!*out) {
        fprintf(stderr, "kvmshift demo: --out needs a directory name\n");
        return TOOL_USAGE;
    }
    const char *from = NULL;
    const char *dir = samples_dir(given, &from);
    if (!dir) {
        fprintf(stderr,
                "kvmshift demo: no samples found: not installed in %s and no source tree at "
                "'%s'; point --samples-dir or $KS_SAMPLES at a copy of the samples/ directory\n",
                KS_SAMPLES_INSTALL_DIR, KS_SAMPLES_SOURCE_DIR);
        return TOOL_FAIL;
    }
    if (list)
        return list_samples(dir);
    return demo(dir, from, name, out, quiet);
}
