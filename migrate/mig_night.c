/* mig_night.c: kvmshift night: one migration night of the plan run as a
 * supervised, recoverable operation (see migrate.h).
 *
 * The parent process orders the night's servers (the plan's order, the
 * servers postponed from earlier nights first), decides before each
 * cutover whether it still fits the window, and forks one child per
 * cutover, at most K at once. A child does the steps (mig_night.h) and
 * journals each in the server's record, STUDY/nights/N/servers/NAME.json,
 * which only it writes while it runs; on any failure it rolls its server
 * back. The parent writes STUDY/nights/N/summary.json from the records
 * after every change, and holds STUDY/nights/N/lock (inherited by the
 * children, so that a runner killed while its children still clean up is
 * not resumed under them). A child dies with its parent (PR_SET_PDEATHSIG):
 * a killed runner leaves records in the middle of a step, and --resume
 * goes on from there (mig_night_resume_step) without repeating what was
 * done.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ks_buf.h"
#include "ks_child.h"
#include "ks_fs.h"
#include "ks_ini.h"
#include "ks_inventory.h"
#include "ks_json.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_parse.h"
#include "ks_plan.h"
#include "ks_signal.h"
#include "ks_ssh.h"
#include "ks_time.h"
#include "mig_night.h"
#include "migrate.h"
#include "p2v.h"

/* ---- the night and its servers ------------------------------------------ */

typedef struct entry {
    const char *name;
    const ks_plan_server_entry *ps;
    const ks_plan_slot *slot; /* in its own night (an earlier one when carried over) */
    unsigned planned_night;
    const ks_server *srv;
    char *host, *uri, *pool;
    char **services; /* study.ini [cutover NAME] stop_services */
    size_t nservices;
    bool services_set; /* stop_services given (possibly "none") */
    char *vm_address;
    int vm_port;
    json_t *rec; /* its record, as last read or written */
    char *rec_path;
    pid_t pid; /* its child, 0 when none runs */
} entry;

typedef struct night {
    const mig_night_options *o;
    char *study;
    char *dir; /* STUDY/nights/N */
    ks_plan *plan;
    const ks_plan_night_entry *pn;
    ks_inventory *inv;
    ks_ini *ini;
    entry *e;
    size_t ne;
    unsigned parallel;
    time_t until;
    bool shutdown;
    char *power_on;
    double validate_wait, rollback_wait;
    bool console_log;
    ks_signal *sig;
    int lockfd;
    time_t started_at;
} night;

static void say(const night *n, const char *server, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const night *n, const char *server, const char *fmt, ...)
{
    if (n->o->quiet)
        return;
    char when[16];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    ks_buf b;
    ks_buf_init(&b, 1 << 16);
    va_list ap;
    va_start(ap, fmt);
    ks_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (server)
        fprintf(stderr, "%s night %u %s: %s\n", when, n->o->night, server, ks_buf_str(&b));
    else
        fprintf(stderr, "%s night %u: %s\n", when, n->o->night, ks_buf_str(&b));
    ks_buf_free(&b);
}

static void set_time(json_t *o, const char *key, time_t t)
{
    char iso[KS_TIME_ISO_LEN];
    ks_time_iso(t, iso);
    json_object_set_new(o, key, json_string(iso));
}

static time_t get_time(const json_t *o, const char *key)
{
    time_t t = 0;
    const char *s = json_string_value(json_object_get(o, key));
    if (!s || !ks_time_parse_iso(s, &t))
        return 0;
    return t;
}

static const char *rec_str(const json_t *rec, const char *key)
{
    const char *s = json_string_value(json_object_get(rec, key));
    return s ? s : "";
}

static const char *rec_state(const entry *e)
{
    return rec_str(e->rec, "state");
}

static bool terminal(const char *state)
{
    return strcmp(state, "migrated") == 0 || strcmp(state, "rolled_back") == 0 ||
           strcmp(state, "postponed") == 0 || strcmp(state, "skipped") == 0;
}

/* reals with 12 significant digits: 3.2, not 3.2000000000000002 */
#define NIGHT_JSON_REALS JSON_REAL_PRECISION(12)

static int rec_save(const entry *e, ks_error *err)
{
    return ks_json_write_file_flags(e->rec_path, e->rec, NIGHT_JSON_REALS, err);
}

/* Save, and only warn when that fails: the step goes on (its outcome is
 * saved again at its end). */
static void rec_save_warn(const entry *e)
{
    ks_error err;
    if (rec_save(e, &err) < 0)
        ks_log_warn("%s", err.message);
}

static json_t *rec_steps(entry *e)
{
    json_t *s = json_object_get(e->rec, "steps");
    if (!json_is_object(s)) {
        s = json_object();
        json_object_set_new(e->rec, "steps", s);
    }
    return s;
}

static bool step_done(entry *e, mig_step s)
{
    return json_is_true(json_object_get(json_object_get(rec_steps(e), mig_step_name(s)), "ok"));
}

static bool step_started(entry *e, mig_step s)
{
    return json_object_get(rec_steps(e), mig_step_name(s)) != NULL;
}

static void step_begin(entry *e, mig_step s)
{
    json_t *o = json_object();
    set_time(o, "started_at", time(NULL));
    json_object_set_new(o, "ok", json_false());
    json_object_set_new(rec_steps(e), mig_step_name(s), o);
    json_object_set_new(e->rec, "step", json_string(mig_step_name(s)));
    rec_save_warn(e);
}

static void step_end(entry *e, mig_step s, bool ok, double seconds, const char *detail)
{
    json_t *o = json_object_get(rec_steps(e), mig_step_name(s));
    json_object_set_new(o, "ok", json_boolean(ok));
    json_object_set_new(o, "seconds", json_real(round(seconds * 10) / 10));
    json_object_set_new(o, "detail", json_string(detail ? detail : ""));
    rec_save_warn(e);
}

/* ---- study.ini ------------------------------------------------------------ */

/* A systemd unit name: nothing a shell would read otherwise. */
static bool unit_name_ok(const char *s)
{
    if (!*s || *s == '-' || strlen(s) > 255)
        return false;
    for (const char *p = s; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
              strchr("@._:-\\", *p)))
            return false;
    return true;
}

static char *section_of(const char *kind, const char *name)
{
    return ks_asprintf("%s %s", kind, name);
}

/* The settings of one server: target host, services, where its VM answers. */
static int entry_config(night *n, entry *e, ks_error *err)
{
    const ks_ini *ini = n->ini;
    KS_AUTOFREE char *cut = section_of("cutover", e->name);
    const char *v = ks_ini_get(ini, cut, "stop_services");
    if (v) {
        e->services_set = true;
        if (strcmp(v, "none") != 0) {
            ks_words_append(v, ", \t", &e->services, &e->nservices);
            for (size_t i = 0; i < e->nservices; i++) {
                if (!unit_name_ok(e->services[i])) {
                    ks_error_set(err, KS_E_CONFIG, 0,
                                 "%s:%u: '%s' in [%s] stop_services is not a systemd unit name",
                                 ks_ini_filename(ini), ks_ini_line(ini, cut, "stop_services"),
                                 e->services[i], cut);
                    return -1;
                }
            }
            if (!e->nservices) {
                ks_error_set(err, KS_E_CONFIG, 0,
                             "%s:%u: [%s] stop_services is empty: name the services, or 'none'",
                             ks_ini_filename(ini), ks_ini_line(ini, cut, "stop_services"), cut);
                return -1;
            }
        }
    }
    v = ks_ini_get(ini, cut, "vm_address");
    e->vm_address = v && *v ? ks_strdup(v) : NULL;
    long port;
    if (ks_ini_get_long(ini, cut, "vm_port", 0, 1, 65535, &port, err) < 0)
        return -1;
    e->vm_port = (int)port;

    e->host = ks_strdup(e->ps->host ? e->ps->host->name : "");
    KS_AUTOFREE char *th = section_of("target-host", e->host);
    const char *uri = ks_ini_get(ini, th, "uri");
    const char *tmpl = ks_ini_get(ini, "night", "target_uri");
    if (n->o->target_uri)
        e->uri = ks_strdup(n->o->target_uri);
    else if (uri && *uri)
        e->uri = ks_strdup(uri);
    else if (tmpl && *tmpl) {
        /* "{host}" stands for the plan's host name */
        const char *at = strstr(tmpl, "{host}");
        e->uri =
            at ? ks_asprintf("%.*s%s%s", (int)(at - tmpl), tmpl, e->host, at + 6) : ks_strdup(tmpl);
    } else
        e->uri = ks_strdup("qemu:///system");
    const char *pool = ks_ini_get(ini, th, "pool");
    if (!pool)
        pool = ks_ini_get(ini, "night", "pool");
    e->pool = pool && *pool ? ks_strdup(pool) : NULL;
    return 0;
}

static int night_config(night *n, ks_error *err)
{
    const ks_ini *ini = n->ini;
    bool b = false;
    const char *v = ks_ini_get(ini, "night", "shutdown_source");
    if (v && !ks_parse_bool(v, &b)) {
        ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: [night] shutdown_source is yes or no, not '%s'",
                     ks_ini_filename(ini), ks_ini_line(ini, "night", "shutdown_source"), v);
        return -1;
    }
    n->shutdown = n->o->shutdown_source || b;
    b = false;
    v = ks_ini_get(ini, "night", "console_log");
    if (v && !ks_parse_bool(v, &b)) {
        ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: [night] console_log is yes or no, not '%s'",
                     ks_ini_filename(ini), ks_ini_line(ini, "night", "console_log"), v);
        return -1;
    }
    n->console_log = b;
    v = ks_ini_get(ini, "night", "power_on");
    n->power_on = v && *v ? ks_strdup(v) : NULL;
    if (ks_ini_get_double(ini, "night", "validate_wait", 300, 10, 86400, &n->validate_wait, err) <
            0 ||
        ks_ini_get_double(ini, "night", "rollback_wait", 120, 1, 86400, &n->rollback_wait, err) < 0)
        return -1;
    return 0;
}

/* ---- the servers of the night ------------------------------------------ */

static json_t *rec_new(const night *n, const entry *e)
{
    json_t *r = json_object();
    json_object_set_new(r, "server", json_string(e->name));
    json_object_set_new(r, "night", json_integer(n->o->night));
    json_object_set_new(r, "planned_night", json_integer(e->planned_night));
    json_object_set_new(r, "host", json_string(e->host));
    json_object_set_new(r, "target_uri", json_string(e->uri));
    json_object_set_new(r, "state", json_string("pending"));
    json_object_set_new(r, "step", json_null());
    json_object_set_new(r, "reason", json_string(""));
    json_object_set_new(r, "attempts", json_integer(0));
    json_t *p = json_object();
    if (e->slot) {
        set_time(p, "start", e->slot->start);
        set_time(p, "end", e->slot->end);
        json_object_set_new(p, "minutes", json_integer(e->slot->estimated_minutes));
        json_object_set_new(p, "lane", json_integer(e->slot->lane));
    }
    json_object_set_new(r, "planned", p);
    json_object_set_new(r, "steps", json_object());
    return r;
}

static void entry_free(entry *e)
{
    free(e->host);
    free(e->uri);
    free(e->pool);
    ks_words_free(e->services, e->nservices);
    free(e->vm_address);
    json_decref(e->rec);
    free(e->rec_path);
}

static int add_entry(night *n, const ks_plan_server_entry *ps, const ks_plan_slot *slot,
                     unsigned planned_night, ks_error *err)
{
    for (size_t i = 0; i < n->ne; i++)
        if (strcmp(n->e[i].name, ps->name) == 0)
            return 0;
    n->e = ks_reallocarray(n->e, n->ne + 1, sizeof *n->e);
    entry *e = &n->e[n->ne++];
    memset(e, 0, sizeof *e);
    e->name = ps->name;
    e->ps = ps;
    e->slot = slot;
    e->planned_night = planned_night;
    e->srv = ks_inventory_find(n->inv, ps->name);
    if (!e->srv) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "'%s' is in the plan's night %u but not in inventory.csv: analyze the "
                     "study again",
                     ps->name, planned_night);
        return -1;
    }
    if (entry_config(n, e, err) < 0)
        return -1;
    e->rec_path = ks_asprintf("%s/servers/%s.json", n->dir, e->name);
    ks_error re;
    e->rec = ks_json_read_file(e->rec_path, &re);
    if (!e->rec && re.errnum != ENOENT) {
        ks_error_set(err, KS_E_IO, re.errnum, "%s: move it away to start this server afresh",
                     re.message);
        return -1;
    }
    if (!e->rec)
        e->rec = rec_new(n, e);
    return 0;
}

/* Servers postponed by earlier nights: those whose latest record (the
 * highest night below this one that has one) says postponed. */
static int carried_over(night *n, ks_error *err)
{
    for (size_t i = 0; i < ks_plan_server_count(n->plan); i++) {
        const ks_plan_server_entry *ps = ks_plan_server_at(n->plan, i);
        if (!ps->night || ps->night->number >= n->o->night)
            continue;
        json_t *latest = NULL;
        for (unsigned k = ps->night->number; k < n->o->night; k++) {
            KS_AUTOFREE char *p =
                ks_asprintf("%s/nights/%u/servers/%s.json", n->study, k, ps->name);
            ks_error re;
            json_t *r = ks_json_read_file(p, &re);
            if (r) {
                json_decref(latest);
                latest = r;
            }
        }
        bool postponed = latest && strcmp(rec_str(latest, "state"), "postponed") == 0;
        json_decref(latest);
        if (postponed && add_entry(n, ps, ps->slot, ps->night->number, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- the source -------------------------------------------------------------- */

static ks_ssh *source_login(const night *n, const entry *e, double connect_s, ks_error *err)
{
    const ks_ssh_access *acc = &e->srv->ssh;
    if (!*acc->address) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "'%s' has no SSH address: fill its ssh_address column in inventory.csv",
                     e->name);
        return NULL;
    }
    char origin[64];
    snprintf(origin, sizeof origin, "inventory line %u", e->srv->line);
    KS_AUTOFREE char *known = ks_path_join(n->study, "known_hosts");
    ks_ssh_target t = {.name = e->name,
                       .address = acc->address,
                       .port = acc->port,
                       .user = acc->user,
                       .key = acc->key,
                       .study_dir = n->study,
                       .known_hosts = known,
                       .origin = origin};
    ks_ssh *s = ks_ssh_new(&t, err);
    if (s && ks_ssh_connect(s, connect_s, err) < 0) {
        ks_ssh_free(s);
        return NULL;
    }
    return s;
}

/* Run script on the source as root (sudo -n for another user); its output
 * in out (may be NULL). 0 when it ran and exited 0. */
static int source_run(const night *n, const entry *e, const char *script, double connect_s,
                      double run_s, ks_buf *out, ks_error *err)
{
    ks_ssh *s = source_login(n, e, connect_s, err);
    if (!s)
        return -1;
    bool sudo = *e->srv->ssh.user && strcmp(e->srv->ssh.user, "root") != 0;
    KS_AUTOFREE char *cmd = ks_asprintf("%s/bin/sh -c '%s'", sudo ? "sudo -n " : "", script);
    ks_buf mine;
    ks_buf_init(&mine, 1 << 20);
    int status = -1;
    int rc = ks_ssh_run(s, cmd, NULL, 0, out ? out : &mine, &status, run_s, err);
    ks_ssh_free(s);
    ks_buf_free(&mine);
    if (rc < 0)
        return -1;
    if (status != 0) {
        char why[KS_ERROR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err->message);
        ks_error_set(err, KS_E_REMOTE, 0, "on '%s', '%s' exited with %d%s%s", e->name, script,
                     status, *why ? ": " : "", why);
        return -1;
    }
    return 0;
}

/* The named units, space separated (names checked by unit_name_ok). */
static char *unit_list(char *const *units, size_t n)
{
    ks_buf b;
    ks_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < n; i++)
        ks_buf_printf(&b, "%s%s", i ? " " : "", units[i]);
    return ks_buf_steal(&b);
}

/* ---- the steps of a cutover (in the child) --------------------------------- */

static int do_stop(night *n, entry *e, ks_error *err)
{
    json_t *stopped = json_object_get(e->rec, "services_stopped");
    if (!json_is_array(stopped)) {
        stopped = json_array();
        json_object_set_new(e->rec, "services_stopped", stopped);
    }
    if (!e->nservices)
        return 0;
    KS_AUTOFREE char *units = unit_list(e->services, e->nservices);
    /* which run now: the rollback starts exactly those again (recorded
     * before they are stopped, so that a runner killed in between still
     * knows) */
    KS_AUTOFREE char *q =
        ks_asprintf("for u in %s; do systemctl is-active --quiet \"$u\" && echo \"$u\"; done; "
                    "true",
                    units);
    ks_buf out;
    ks_buf_init(&out, 1 << 16);
    if (source_run(n, e, q, 20, 60, &out, err) < 0) {
        ks_buf_free(&out);
        return -1;
    }
    char *save = NULL;
    for (char *w = strtok_r(out.data ? out.data : (char *)"", "\n", &save); w;
         w = strtok_r(NULL, "\n", &save)) {
        bool have = false;
        size_t i;
        json_t *x;
        json_array_foreach(stopped, i, x) have |= strcmp(json_string_value(x), w) == 0;
        if (!have)
            json_array_append_new(stopped, json_string(w));
    }
    ks_buf_free(&out);
    rec_save_warn(e);
    KS_AUTOFREE char *stop = ks_asprintf(
        "systemctl stop %s; for u in %s; do s=$(systemctl is-active \"$u\"); "
        "case $s in active|activating|deactivating|reloading) echo \"$u is still $s\"; exit 1;; "
        "esac; done",
        units, units);
    ks_buf_init(&out, 1 << 16);
    int rc = source_run(n, e, stop, 20, 300, &out, err);
    if (rc < 0 && out.len)
        ks_error_set(err, KS_E_REMOTE, 0, "on '%s': %s", e->name, ks_buf_str(&out));
    ks_buf_free(&out);
    return rc;
}

static int do_delta(night *n, entry *e, double basis_s, ks_error *err)
{
    ks_error se;
    json_t *st = p2v_status(n->study, e->name, &se);
    const char *state = st ? json_string_value(json_object_get(json_array_get(st, 0), "state")) : 0;
    bool sync = state && strcmp(state, "synced") == 0;
    json_decref(st);
    p2v_copy_options co = {.sync = sync, .snapshot = true, .quiet = n->o->quiet || n->parallel > 1};
    p2v_copy_result res;
    int rc = p2v_copy(n->study, e->name, &co, &res, err);
    uint64_t changed = 0, wire = 0;
    for (size_t i = 0; i < res.ndisks; i++) {
        changed += sync ? res.disks[i].changed_bytes : res.disks[i].bytes_data;
        wire += res.disks[i].bytes_wire;
    }
    json_object_set_new(e->rec, "final_delta",
                        json_pack("{s:s,s:f,s:f,s:I,s:I}", "kind", sync ? "sync" : "copy",
                                  "seconds", round(res.seconds * 10) / 10, "basis_s",
                                  round(basis_s * 10) / 10, "changed_bytes", (json_int_t)changed,
                                  "bytes_wire", (json_int_t)wire));
    p2v_copy_result_free(&res);
    if (rc == 1 && !err->code)
        ks_error_set(err, KS_E_REMOTE, 0,
                     "the final delta of '%s' did not complete (chunks kept changing while "
                     "read, or it was interrupted)",
                     e->name);
    return rc == 0 ? 0 : -1;
}

/* Is the source's SSH port closed (powered off)? Waits up to secs. */
static bool source_gone(const night *n, const entry *e, double secs)
{
    double t0 = ks_time_mono();
    for (;;) {
        ks_error err;
        ks_ssh *s = source_login(n, e, 5, &err);
        /* refused or silent: off; a key or login refused: it still answers */
        if (!s && (err.code == KS_E_NET || err.code == KS_E_TIMEOUT))
            return true;
        ks_ssh_free(s);
        if (ks_time_mono() - t0 >= secs)
            return false;
        sleep(3);
    }
}

static int do_poweroff(night *n, entry *e, ks_error *err)
{
    json_object_set_new(e->rec, "source_powered_off", json_true());
    rec_save_warn(e);
    ks_error re;
    /* the connection may drop before an exit status comes back */
    source_run(n, e, "(sleep 1; systemctl poweroff || shutdown -h now) >/dev/null 2>&1 &", 20, 30,
               NULL, &re);
    if (!source_gone(n, e, 180)) {
        ks_error_set(err, KS_E_REMOTE, 0,
                     "'%s' still answers SSH 3 minutes after 'systemctl poweroff'", e->name);
        return -1;
    }
    return 0;
}

static int do_convert(night *n, entry *e, ks_error *err)
{
    p2v_convert_options cv = {.quiet = n->o->quiet || n->parallel > 1};
    p2v_convert_result cr;
    int rc = p2v_convert(n->study, e->name, &cv, &cr, err);
    if (rc == 0)
        json_object_set_new(e->rec, "conversion",
                            json_pack("{s:s,s:I,s:I}", "os", cr.os, "changes",
                                      (json_int_t)cr.nchanges, "chunks_changed",
                                      (json_int_t)cr.chunks_changed));
    p2v_convert_result_free(&cr);
    return rc;
}

static int do_define(night *n, entry *e, ks_error *err)
{
    /* a domain of an earlier attempt goes first */
    if (p2v_undefine(n->study, e->name, true, NULL, err) < 0)
        return -1;
    KS_AUTOFREE char *console = NULL;
    if (n->console_log) {
        char *abs = realpath(n->dir, NULL);
        console = ks_asprintf("%s/%s.console.log", abs ? abs : n->dir, e->name);
        free(abs);
    }
    p2v_define_options d = {.target_uri = e->uri,
                            .pool = e->pool,
                            .console_log = console,
                            .start = true,
                            .quiet = true};
    p2v_define_result res;
    int rc = p2v_define(n->study, e->name, &d, &res, err);
    if (rc == 0)
        json_object_set_new(e->rec, "domain",
                            json_pack("{s:s,s:s,s:I,s:I}", "uri", e->uri, "uuid", res.uuid, "vcpus",
                                      (json_int_t)res.vcpus, "memory_mib",
                                      (json_int_t)res.memory_mib));
    p2v_define_result_free(&res);
    return rc;
}

static int do_validate(night *n, entry *e, ks_error *err)
{
    mig_validate_options vo = {
        .address = e->vm_address, .port = e->vm_port, .wait = n->validate_wait, .quiet = true};
    time_t t0 = time(NULL);
    json_t *r = mig_validate(n->study, e->name, &vo, err);
    if (!r)
        return -1;
    const char *verdict = rec_str(r, "verdict");
    json_t *ans = json_object_get(r, "answered_after_s");
    json_t *v = json_pack("{s:s,s:O}", "verdict", verdict, "counts", json_object_get(r, "counts"));
    if (json_is_number(ans)) {
        time_t answered = t0 + (time_t)lround(json_number_value(ans));
        set_time(e->rec, "vm_answered_at", answered);
        /* from the domain started to its SSH answering: its boot */
        json_object_set_new(e->rec, "vm_answered_after_s",
                            json_real(round(json_number_value(ans) * 10) / 10));
        time_t down = get_time(e->rec, "downtime_from");
        if (down)
            json_object_set_new(e->rec, "downtime_s", json_integer((json_int_t)(answered - down)));
    }
    /* the checks that did not pass, for the summary and the report */
    ks_buf b;
    ks_buf_init(&b, 1 << 16);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(r, "checks"), i, c)
    {
        const char *st = rec_str(c, "status");
        if (strcmp(st, "pass") != 0)
            ks_buf_printf(&b, "%s%s %s (%s)", b.len ? "; " : "", rec_str(c, "check"), st,
                          rec_str(c, "summary"));
    }
    json_object_set_new(v, "not_passed", json_string(ks_buf_str(&b)));
    json_object_set_new(e->rec, "validation", v);
    int rc = 0;
    if (strcmp(verdict, "fail") == 0) {
        ks_error_set(err, KS_E_REMOTE, 0, "validation failed: %s (%s/validation/%s.json)",
                     ks_buf_str(&b), n->study, e->name);
        rc = -1;
    }
    ks_buf_free(&b);
    json_decref(r);
    return rc;
}

/* ---- rollback ------------------------------------------------------------------ */

static void action(json_t *actions, const char *what, bool ok, const char *detail)
{
    json_array_append_new(actions,
                          json_pack("{s:s,s:b,s:s}", "action", what, "ok", ok, "detail", detail));
}

/* Run the power_on command of study.ini for e (KS_SERVER, KS_ADDRESS in
 * its environment). */
static int power_on(const night *n, const entry *e, ks_error *err)
{
    KS_AUTOFREE char *env_server = ks_asprintf("KS_SERVER=%s", e->name);
    KS_AUTOFREE char *env_addr = ks_asprintf("KS_ADDRESS=%s", e->srv->address);
    const char *argv[] = {"/bin/sh", "-c", n->power_on, NULL};
    /* added to (or replacing in) the runner's environment */
    const char *env[] = {env_server, env_addr, NULL};
    ks_child_opts co = {.flags = KS_CHILD_GROUP, .env = env};
    ks_child *c = ks_child_spawn(argv, &co, err);
    if (!c)
        return -1;
    int status = -1;
    int rc = ks_child_wait(c, 300, &status);
    ks_child_free(c);
    if (rc < 0 || status != 0) {
        ks_error_set(err, KS_E_REMOTE, 0, "[night] power_on '%s' for '%s' %s", n->power_on, e->name,
                     rc < 0 ? "did not end in 5 minutes" : "failed");
        return -1;
    }
    return 0;
}

/* Put the source back as it was before the cutover: the domain stopped
 * and undefined (its images kept), the source powered on again or its
 * stopped services started again. The record says what was done. */
static void rollback(night *n, entry *e, const char *why)
{
    say(n, e->name, "rolling back: %s", why);
    json_t *rb = json_object();
    json_t *actions = json_array();
    json_object_set_new(rb, "actions", actions);
    set_time(rb, "at", time(NULL));
    bool complete = true;
    ks_error err;
    bool undefined = false;
    if (p2v_undefine(n->study, e->name, true, &undefined, &err) < 0) {
        action(actions, "undefine", false, err.message);
        complete = false;
    } else if (undefined) {
        KS_AUTOFREE char *d =
            ks_asprintf("domain '%s' stopped and undefined on %s; its images kept in %s/p2v/%s",
                        e->name, e->uri, n->study, e->name);
        action(actions, "undefine", true, d);
    }
    json_t *stopped = json_object_get(e->rec, "services_stopped");
    size_t nstopped = json_array_size(stopped);
    if (json_is_true(json_object_get(e->rec, "source_powered_off"))) {
        if (!n->power_on) {
            action(actions, "power_on", false,
                   "no [night] power_on command in study.ini: power the server on by hand");
            complete = false;
        } else if (power_on(n, e, &err) < 0) {
            action(actions, "power_on", false, err.message);
            complete = false;
        } else {
            action(actions, "power_on", true, n->power_on);
        }
    }
    if (nstopped) {
        char **units = ks_calloc(nstopped, sizeof *units);
        for (size_t i = 0; i < nstopped; i++)
            units[i] = (char *)json_string_value(json_array_get(stopped, i));
        KS_AUTOFREE char *list = unit_list(units, nstopped);
        free(units);
        KS_AUTOFREE char *cmd = ks_asprintf("systemctl start %s", list);
        /* the source may be rebooting: try for rollback_wait seconds */
        double t0 = ks_time_mono();
        int rc;
        for (;;) {
            rc = source_run(n, e, cmd, 10, 300, NULL, &err);
            if (rc == 0 || err.code == KS_E_REMOTE || err.code == KS_E_HOSTKEY ||
                ks_time_mono() - t0 >= n->rollback_wait)
                break;
            sleep(3);
        }
        if (rc == 0) {
            KS_AUTOFREE char *d = ks_asprintf("started again on the source: %s", list);
            action(actions, "start_services", true, d);
        } else {
            KS_AUTOFREE char *d = ks_asprintf("could not start %s again on the source: %s; start "
                                              "them by hand",
                                              list, err.message);
            action(actions, "start_services", false, d);
            complete = false;
        }
    }
    if (!json_array_size(actions))
        action(actions, "nothing", true,
               "nothing had been changed: no domain defined, no service stopped");
    json_object_set_new(rb, "complete", json_boolean(complete));
    json_object_set_new(e->rec, "rollback", rb);
    json_object_set_new(e->rec, "state", json_string("rolled_back"));
    json_object_set_new(e->rec, "reason", json_string(why));
    json_object_set_new(e->rec, "step", json_null());
    set_time(e->rec, "ended_at", time(NULL));
    rec_save_warn(e);
    say(n, e->name, "rolled back%s", complete ? "" : " IN PART: see its record");
}

static double step_secs(const json_t *rec, mig_step s);

/* ---- one cutover (the child) -------------------------------------------------- */

static int cutover(night *n, entry *e, const mig_estimate *est)
{
    json_t *rec = e->rec;
    json_object_set_new(rec, "state", json_string("running"));
    json_object_set_new(rec, "attempts",
                        json_integer(json_integer_value(json_object_get(rec, "attempts")) + 1));
    if (!get_time(rec, "started_at"))
        set_time(rec, "started_at", time(NULL));
    json_object_set_new(
        rec, "estimate",
        json_pack("{s:f,s:f,s:f,s:f,s:f,s:s}", "minutes", round(est->total_s / 6) / 10, "stop_s",
                  round(est->stop_s), "delta_s", round(est->delta_s), "convert_s",
                  round(est->convert_s), "start_s", round(est->start_s), "basis", est->basis));
    json_object_set_new(rec, "mode", json_string(n->shutdown ? "shutdown" : "services"));
    rec_save_warn(e);

    bool done[MIG_STEP_COUNT], started[MIG_STEP_COUNT];
    for (int s = 0; s < MIG_STEP_COUNT; s++) {
        done[s] = step_done(e, (mig_step)s);
        started[s] = step_started(e, (mig_step)s);
    }
    if (!n->shutdown)
        done[MIG_STEP_POWEROFF] = true;
    bool off = json_is_true(json_object_get(rec, "source_powered_off"));
    mig_step from = mig_night_resume_step(done, started, off);
    if (json_integer_value(json_object_get(rec, "attempts")) > 1)
        say(n, e->name, "resuming at step %s", mig_step_name(from));

    for (int si = from; si < MIG_STEP_COUNT; si++) {
        mig_step s = (mig_step)si;
        if (s == MIG_STEP_POWEROFF && !n->shutdown)
            continue;
        ks_error err;
        ks_error_clear(&err);
        step_begin(e, s);
        double t0 = ks_time_mono();
        int rc = 0;
        char detail[512] = "";
        switch (s) {
        case MIG_STEP_STOP:
            say(n, e->name, "stopping %s on the source",
                e->nservices ? "its services" : "nothing (stop_services = none)");
            rc = do_stop(n, e, &err);
            if (rc == 0) {
                KS_AUTOFREE char *u = unit_list(e->services, e->nservices);
                snprintf(detail, sizeof detail, "%s", e->nservices ? u : "none named");
                if (!get_time(rec, "downtime_from") && e->nservices)
                    set_time(rec, "downtime_from", time(NULL));
            }
            break;
        case MIG_STEP_DELTA:
            say(n, e->name, "final delta");
            rc = do_delta(n, e, est->delta_basis_s, &err);
            if (rc == 0) {
                json_t *fd = json_object_get(rec, "final_delta");
                snprintf(detail, sizeof detail, "%s, %.1f MiB changed", rec_str(fd, "kind"),
                         (double)json_integer_value(json_object_get(fd, "changed_bytes")) /
                             1048576.0);
            }
            break;
        case MIG_STEP_POWEROFF:
            say(n, e->name, "powering the source off");
            if (!get_time(rec, "downtime_from"))
                set_time(rec, "downtime_from", time(NULL));
            rc = do_poweroff(n, e, &err);
            break;
        case MIG_STEP_CONVERT:
            say(n, e->name, "converting");
            rc = do_convert(n, e, &err);
            break;
        case MIG_STEP_DEFINE:
            say(n, e->name, "defining and starting it on %s (host %s)", e->uri, e->host);
            rc = do_define(n, e, &err);
            break;
        case MIG_STEP_VALIDATE:
            say(n, e->name, "validating (waiting up to %.0f s for it to answer)", n->validate_wait);
            rc = do_validate(n, e, &err);
            if (json_object_get(rec, "validation"))
                snprintf(detail, sizeof detail, "%s",
                         rec_str(json_object_get(rec, "validation"), "verdict"));
            break;
        default:
            break;
        }
        if (rc < 0) {
            step_end(e, s, false, ks_time_mono() - t0, err.message);
            /* stopped by a signal: leave it for --resume (or --rollback) */
            if (ks_signal_stop_requested(n->sig)) {
                say(n, e->name, "interrupted during %s: run again with --resume", mig_step_name(s));
                return 2;
            }
            KS_AUTOFREE char *why = ks_asprintf("%s failed: %s", mig_step_name(s), err.message);
            rollback(n, e, why);
            return 1;
        }
        step_end(e, s, true, ks_time_mono() - t0, detail);
        if (ks_signal_stop_requested(n->sig) && s + 1 < MIG_STEP_COUNT) {
            say(n, e->name, "stopping after %s: run again with --resume", mig_step_name(s));
            return 2;
        }
    }
    /* from now on the collector samples the VM, and the physical
     * server's history is the baseline of validate's load checks; done
     * again (nothing happens) when a resume comes back here */
    time_t cut = get_time(rec, "downtime_from");
    mig_switch_options so = {.cutover = cut ? cut : get_time(rec, "started_at"),
                             .address = e->vm_address,
                             .port = e->vm_port};
    ks_error se;
    json_t *sw = mig_switch(n->study, e->name, &so, &se);
    if (sw) {
        json_object_set_new(
            rec, "switched",
            json_pack("{s:O,s:O,s:O}", "cutover_at", json_object_get(sw, "cutover_at"), "address",
                      json_object_get(sw, "address"), "port", json_object_get(sw, "port")));
        json_decref(sw);
    } else {
        say(n, e->name, "not switched to its VM for the collector: %s", se.message);
        json_object_set_new(rec, "switch_error", json_string(se.message));
    }
    json_object_set_new(rec, "state", json_string("migrated"));
    json_object_set_new(rec, "step", json_null());
    set_time(rec, "ended_at", time(NULL));
    /* the same downtime had the server been stopped for its whole copy
     * instead of its final delta: what the live copy saved */
    json_t *down = json_object_get(rec, "downtime_s"), *full = json_object_get(rec, "full_copy_s");
    double delta = step_secs(rec, MIG_STEP_DELTA);
    if (json_is_integer(down) && json_is_number(full) && delta >= 0)
        json_object_set_new(rec, "offline_downtime_s",
                            json_integer((json_int_t)lround((double)json_integer_value(down) -
                                                            delta + json_number_value(full))));
    time_t t0 = get_time(rec, "started_at");
    json_object_set_new(rec, "minutes", json_real(round((double)(time(NULL) - t0) / 6) / 10));
    rec_save_warn(e);
    const char *verdict = rec_str(json_object_get(rec, "validation"), "verdict");
    say(n, e->name, "migrated (validation: %s)", verdict);
    return 0;
}

/* ---- presync (the child) ------------------------------------------------------- */

static int presync(night *n, entry *e)
{
    ks_error err;
    ks_error_clear(&err);
    json_t *st = p2v_status(n->study, e->name, &err);
    const char *state = st ? json_string_value(json_object_get(json_array_get(st, 0), "state")) : 0;
    bool sync = state && strcmp(state, "synced") == 0;
    json_decref(st);
    say(n, e->name, "%s, live", sync ? "syncing (delta)" : "copying");
    p2v_copy_options co = {.sync = sync, .snapshot = true, .quiet = n->o->quiet || n->parallel > 1};
    p2v_copy_result res;
    ks_error_clear(&err);
    int rc = p2v_copy(n->study, e->name, &co, &res, &err);
    uint64_t changed = 0;
    for (size_t i = 0; i < res.ndisks; i++)
        changed += sync ? res.disks[i].changed_bytes : res.disks[i].bytes_data;
    json_t *p = json_pack("{s:s,s:f,s:I,s:b}", "kind", sync ? "sync" : "copy", "seconds",
                          round(res.seconds * 10) / 10, "changed_bytes", (json_int_t)changed,
                          "complete", rc == 0);
    set_time(p, "at", time(NULL));
    if (rc != 0)
        json_object_set_new(p, "error",
                            json_string(err.code ? err.message : "not complete: run it again"));
    json_object_set_new(e->rec, "presync", p);
    rec_save_warn(e);
    double secs = res.seconds;
    p2v_copy_result_free(&res);
    if (rc == 0)
        say(n, e->name, "%s in %.0f s, %.1f MiB %s", sync ? "synced" : "copied", secs,
            (double)changed / 1048576.0, sync ? "changed" : "of data");
    else
        say(n, e->name, "presync failed: %s", err.code ? err.message : "not complete");
    return rc == 0 ? 0 : 1;
}

/* ---- estimates (the parent) ------------------------------------------------ */

static void basis_of(const night *n, const entry *e, mig_basis *b)
{
    memset(b, 0, sizeof *b);
    b->copy_s = b->sync_s = b->sync_changed = -1;
    b->disk_used_gib = e->ps->disk_used_gib;
    ks_error err;
    json_t *st = p2v_status(n->study, e->name, &err);
    json_t *o = json_array_get(st, 0);
    if (o) {
        b->copied = strcmp(rec_str(o, "state"), "synced") == 0;
        b->percent = json_number_value(json_object_get(o, "percent"));
        json_t *x = json_object_get(o, "copy_seconds");
        if (json_is_number(x))
            b->copy_s = json_number_value(x);
        x = json_object_get(o, "last_sync_seconds");
        if (json_is_number(x))
            b->sync_s = json_number_value(x);
        x = json_object_get(o, "last_changed_bytes");
        if (json_is_number(x))
            b->sync_changed = json_number_value(x);
    }
    json_decref(st);
}

static double step_secs(const json_t *rec, mig_step s)
{
    json_t *o = json_object_get(json_object_get(rec, "steps"), mig_step_name(s));
    if (!json_is_true(json_object_get(o, "ok")))
        return -1;
    return json_number_value(json_object_get(o, "seconds"));
}

/* What this night's servers measured so far. */
static void rates_of(const night *n, mig_rates *r)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < n->ne; i++) {
        const json_t *rec = n->e[i].rec;
        double s;
        if (n->e[i].nservices && (s = step_secs(rec, MIG_STEP_STOP)) >= 0) {
            r->stop_s += s;
            r->nstop++;
        }
        json_t *fd = json_object_get(rec, "final_delta");
        double basis = json_number_value(json_object_get(fd, "basis_s"));
        if ((s = step_secs(rec, MIG_STEP_DELTA)) >= 0 && basis > 0) {
            r->delta_s += s;
            r->delta_basis_s += basis;
            r->ndelta++;
        }
        if ((s = step_secs(rec, MIG_STEP_CONVERT)) >= 0) {
            r->convert_s += s;
            r->nconvert++;
        }
        double d = step_secs(rec, MIG_STEP_DEFINE), v = step_secs(rec, MIG_STEP_VALIDATE);
        if (d >= 0 && v >= 0) {
            r->start_s += d + v;
            r->nstart++;
        }
    }
}

/* ---- runbooks -------------------------------------------------------------- */

static void hhmm(time_t t, char *buf, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M UTC", &tm);
}

static void write_runbook(const night *n, const entry *e, const mig_basis *basis,
                          const mig_estimate *est)
{
    char d_stop[32], d_delta[32], d_conv[32], d_start[32];
    mig_duration(d_stop, sizeof d_stop, est->stop_s);
    mig_duration(d_delta, sizeof d_delta, est->delta_s);
    mig_duration(d_conv, sizeof d_conv, est->convert_s);
    mig_duration(d_start, sizeof d_start, est->start_s);
    ks_buf b;
    ks_buf_init(&b, 1 << 20);
    char t1[40], t2[40];
    const ks_ssh_access *acc = &e->srv->ssh;
    ks_buf_printf(&b, "# Night %u: %s to %s\n\n", n->o->night, e->name, *e->host ? e->host : "?");
    ks_buf_printf(&b, "Generated by `kvmshift night %s %u` from plan.json. Times are UTC.\n\n",
                  n->study, n->o->night);
    ks_buf_printf(&b, "| | |\n| --- | --- |\n");
    ks_buf_printf(&b, "| source | %s (SSH %s@%s port %d) |\n", e->name,
                  *acc->user ? acc->user : "(local user)", acc->address, acc->port);
    ks_buf_printf(&b, "| target host | %s, libvirt `%s`%s%s |\n", e->host, e->uri,
                  e->pool ? ", pool " : "", e->pool ? e->pool : "");
    ks_buf_printf(&b, "| VM size | %u vCPUs, %llu MiB (the plan's right-sizing) |\n", e->ps->vcpus,
                  (unsigned long long)e->ps->memory_mib);
    if (e->slot) {
        hhmm(e->slot->start, t1, sizeof t1);
        hhmm(e->slot->end, t2, sizeof t2);
        ks_buf_printf(&b, "| planned | night %u, lane %u, %s to %s (%ld min) |\n", e->planned_night,
                      e->slot->lane, t1, t2, e->slot->estimated_minutes);
        ks_buf_printf(&b, "| plan's basis | %s |\n", e->slot->estimate_basis);
    }
    ks_buf_printf(&b, "| estimate now | %s |\n", est->basis);
    ks_buf_printf(&b, "| cutover | %s |\n\n",
                  n->shutdown ? "services stopped, final delta, source powered off"
                              : "services stopped, final delta; the source stays up");

    ks_buf_printf(&b, "## Before the night\n\n");
    ks_buf_printf(&b, "- [ ] the copy is complete and recent: `kvmshift p2v status %s %s`\n",
                  n->study, e->name);
    ks_buf_printf(&b, "- [ ] a live delta shortly before: `kvmshift night %s %u --presync`\n",
                  n->study, n->o->night);
    ks_buf_printf(&b, "- [ ] the target answers: `virsh -c '%s' list --all`\n", e->uri);
    if (!e->services_set)
        ks_buf_printf(&b,
                      "- [ ] **name the services to stop** in study.ini `[cutover %s]` "
                      "`stop_services = ...` (or `none`): without it the cutover is refused\n",
                      e->name);
    if (n->shutdown && !n->power_on)
        ks_buf_printf(&b,
                      "- [ ] someone can power %s on by hand if it is rolled back (study.ini "
                      "`[night] power_on` is not set)\n",
                      e->name);
    ks_buf_printf(&b, "\n## Steps (each journaled in `nights/%u/servers/%s.json`)\n\n", n->o->night,
                  e->name);
    ks_buf_printf(&b, "| # | step | estimate | by hand |\n| --- | --- | --- | --- |\n");
    KS_AUTOFREE char *units = unit_list(e->services, e->nservices);
    ks_buf_printf(&b, "| 1 | stop %s on the source | %s | `systemctl stop %s` |\n",
                  e->nservices ? units : "nothing (none named)", d_stop,
                  e->nservices ? units : "-");
    if (basis->copied)
        ks_buf_printf(&b,
                      "| 2 | final delta (only the chunks changed since the last copy) | %s | "
                      "`kvmshift p2v copy %s %s --sync` |\n",
                      d_delta, n->study, e->name);
    else
        ks_buf_printf(&b,
                      "| 2 | **the copy itself** (not complete yet: %.0f %% copied), with the "
                      "services stopped: run the presync first | %s | `kvmshift p2v copy %s %s` "
                      "|\n",
                      basis->percent, d_delta, n->study, e->name);
    int k = 3;
    if (n->shutdown)
        ks_buf_printf(&b, "| %d | power the source off | 1 min | `systemctl poweroff` |\n", k++);
    ks_buf_printf(&b,
                  "| %d | convert the copy (virtio, fstab, NIC names, initramfs) | %s | "
                  "`kvmshift p2v convert %s %s` |\n",
                  k++, d_conv, n->study, e->name);
    char vm_port_opt[24] = "";
    if (e->vm_port)
        snprintf(vm_port_opt, sizeof vm_port_opt, " --port %d", e->vm_port);
    ks_buf_printf(&b,
                  "| %d | define and start the VM | | `kvmshift p2v define %s %s --target-uri "
                  "'%s'%s%s --start` |\n",
                  k++, n->study, e->name, e->uri, e->pool ? " --pool " : "",
                  e->pool ? e->pool : "");
    ks_buf_printf(&b,
                  "| %d | validate against the physical baseline | %s with the step "
                  "before | `kvmshift validate %s %s%s%s%s` |\n\n",
                  k, d_start, n->study, e->name, e->vm_address ? " --address " : "",
                  e->vm_address ? e->vm_address : "", vm_port_opt);
    ks_buf_printf(&b,
                  "Only then is %s marked migrated. The downtime runs from the services' "
                  "stop to the VM's first SSH answer.\n\n",
                  e->name);
    char vm_port[16] = "";
    if (e->vm_port)
        snprintf(vm_port, sizeof vm_port, " port %d", e->vm_port);
    ks_buf_printf(&b,
                  "It is then switched to its VM: its RRD history and facts move to "
                  "`physical/` (the baseline)%s%s%s, and `kvmshift collect %s` samples the VM "
                  "from then on. After a day or more (a week is better), `kvmshift validate %s "
                  "%s --load-only` compares its CPU, memory, disk and network load, saturation "
                  "and steal time with the physical server's at the same hours of the same "
                  "weekdays.\n\n",
                  e->vm_address || e->vm_port ? ", its inventory line goes to " : "",
                  e->vm_address || e->vm_port ? (e->vm_address ? e->vm_address : "its address")
                                              : "",
                  vm_port, n->study, n->study, e->name);
    ks_buf_printf(&b,
                  "## Checks (kvmshift validate)\n\n"
                  "The VM answers SSH%s with the physical server's host key, runs on KVM, "
                  "mounts the same file systems (NFS included) with the same sizes, listens "
                  "on the same TCP ports with the same programs, has the same services "
                  "enabled and running and none failed, and the same addresses on the same "
                  "MACs, as `facts/%s.json` recorded them. A failed check rolls the server "
                  "back; a warning is reported and kept.\n\n",
                  e->vm_address ? " (at the address given in study.ini)" : "", e->name);
    ks_buf_printf(&b,
                  "## Rollback (automatic on any failed step; by hand: `kvmshift night %s %u "
                  "--rollback %s`)\n\n",
                  n->study, n->o->night, e->name);
    ks_buf_printf(&b,
                  "1. Stop and undefine the VM: `virsh -c '%s' destroy %s; virsh -c '%s' "
                  "undefine %s --nvram`. Its images stay in `%s/p2v/%s/` for diagnosis.\n",
                  e->uri, e->name, e->uri, e->name, n->study, e->name);
    if (n->shutdown)
        ks_buf_printf(&b, "2. Power the source on: %s%s%s.\n",
                      n->power_on ? "`" : "by hand (no `[night] power_on` command)",
                      n->power_on ? n->power_on : "", n->power_on ? "`" : "");
    else
        ks_buf_printf(&b, "2. Start again what was stopped: `systemctl start %s` on the source.\n",
                      e->nservices ? units : "(nothing was stopped)");
    ks_buf_printf(&b, "\nThe source's disks were only read: it is as it was before the night.\n");
    KS_AUTOFREE char *path = ks_asprintf("%s/%s.md", n->dir, e->name);
    ks_error err;
    if (ks_write_file_atomic(path, b.data, b.len, 0644, &err) < 0)
        ks_log_warn("%s", err.message);
    ks_buf_free(&b);
}

/* ---- the summary ------------------------------------------------------------ */

static json_t *summary_of(const night *n, bool dry_run, bool ended)
{
    json_t *s = json_object();
    json_object_set_new(s, "night", json_integer(n->o->night));
    json_object_set_new(s, "date", json_string(n->pn->date));
    json_t *w = json_object();
    set_time(w, "start", n->pn->start);
    set_time(w, "end", n->pn->end);
    json_object_set_new(s, "window", w);
    set_time(s, "until", n->until);
    json_object_set_new(s, "mode", json_string(n->shutdown ? "shutdown" : "services"));
    json_object_set_new(s, "parallel", json_integer(n->parallel));
    json_object_set_new(s, "dry_run", json_boolean(dry_run));
    set_time(s, "started_at", n->started_at);
    set_time(s, "updated_at", time(NULL));
    if (ended)
        set_time(s, "ended_at", time(NULL));
    else
        json_object_set_new(s, "ended_at", json_null());
    static const char *const states[] = {"migrated", "rolled_back", "postponed",
                                         "skipped",  "running",     "pending"};
    size_t cnt[6] = {0};
    json_t *arr = json_array();
    for (size_t i = 0; i < n->ne; i++) {
        const char *st = rec_state(&n->e[i]);
        for (size_t k = 0; k < 6; k++)
            if (strcmp(st, states[k]) == 0)
                cnt[k]++;
        json_array_append(arr, n->e[i].rec);
    }
    json_t *c = json_object();
    for (size_t k = 0; k < 6; k++)
        json_object_set_new(c, states[k], json_integer((json_int_t)cnt[k]));
    json_object_set_new(s, "counts", c);
    json_object_set_new(s, "servers", arr);
    return s;
}

static void summary_write(const night *n, bool ended)
{
    json_t *s = summary_of(n, false, ended);
    KS_AUTOFREE char *path = ks_asprintf("%s/summary.json", n->dir);
    ks_error err;
    if (ks_json_write_file_flags(path, s, NIGHT_JSON_REALS, &err) < 0)
        ks_log_warn("%s", err.message);
    json_decref(s);
}

/* ---- the parent ----------------------------------------------------------- */

static void set_reason(entry *e, const char *state, const char *why)
{
    json_object_set_new(e->rec, "state", json_string(state));
    json_object_set_new(e->rec, "reason", json_string(why));
    set_time(e->rec, "ended_at", time(NULL));
}

static unsigned next_night(const night *n)
{
    for (size_t i = 0; i < ks_plan_night_count(n->plan); i++) {
        const ks_plan_night_entry *x = ks_plan_night_at(n->plan, i);
        if (x->number > n->o->night)
            return x->number;
    }
    return 0;
}

/* Why e cannot be cut over at all tonight, or NULL. */
static const char *refusal(const night *n, const entry *e)
{
    (void)n;
    if (!e->services_set)
        return "no services named to stop at cutover: set [cutover NAME] stop_services (or "
               "'none') in study.ini";
    return NULL;
}

static void postpone(night *n, entry *e, const mig_estimate *est, time_t now)
{
    char end[40], until[40];
    hhmm(now + (time_t)est->total_s, end, sizeof end);
    hhmm(n->until, until, sizeof until);
    unsigned next = next_night(n);
    KS_AUTOFREE char *why =
        ks_asprintf("estimated %s would end at %s, after the window's end at %s: moved to %s",
                    est->basis, end, until, "the next night");
    json_object_set_new(
        e->rec, "estimate",
        json_pack("{s:f,s:s}", "minutes", round(est->total_s / 6) / 10, "basis", est->basis));
    set_reason(e, "postponed", why);
    json_object_set_new(e->rec, "postponed_to", next ? json_integer(next) : json_null());
    rec_save_warn(e);
    say(n, e->name, "postponed: %s", why);
}

static pid_t fork_child(night *n, entry *e, int (*fn)(night *, entry *, const mig_estimate *),
                        const mig_estimate *est)
{
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        ks_log_error("cannot start the process for '%s': %s", e->name, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* dies with the runner: a killed runner leaves no cutover going on
         * unsupervised (a copy in progress stops cleanly on SIGTERM) */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(2);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int rc = fn(n, e, est);
        fflush(NULL);
        _exit(rc);
    }
    e->pid = pid;
    return pid;
}

static int presync_fn(night *n, entry *e, const mig_estimate *est)
{
    (void)est;
    return presync(n, e);
}

/* Reload the record of a child that ended; a child that died outside of
 * a signal-requested stop leaves its server in the middle: rolled back. */
static void reap(night *n, entry *e, int status)
{
    ks_error err;
    json_t *r = ks_json_read_file(e->rec_path, &err);
    if (r) {
        json_decref(e->rec);
        e->rec = r;
    }
    e->pid = 0;
    bool by_signal = WIFSIGNALED(status);
    if (!terminal(rec_state(e)) && strcmp(rec_state(e), "pending") != 0 && by_signal &&
        !ks_signal_stop_requested(n->sig)) {
        KS_AUTOFREE char *why = ks_asprintf("its cutover process died (signal %d) during %s",
                                            WTERMSIG(status), rec_str(e->rec, "step"));
        rollback(n, e, why);
    }
}

static size_t running(const night *n)
{
    size_t k = 0;
    for (size_t i = 0; i < n->ne; i++)
        k += n->e[i].pid != 0;
    return k;
}

/* Wait up to secs for a child to end; handle it. */
static void wait_some(night *n, double secs)
{
    double t0 = ks_time_mono();
    do {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            for (size_t i = 0; i < n->ne; i++)
                if (n->e[i].pid == pid)
                    reap(n, &n->e[i], status);
            return;
        }
        if (pid < 0 && errno == ECHILD)
            return;
        usleep(200000);
    } while (ks_time_mono() - t0 < secs);
}

/* Presync: every server not migrated, K at once, live. */
static int run_presync(night *n)
{
    size_t next = 0;
    int failed = 0;
    for (;;) {
        while (!ks_signal_stop_requested(n->sig) && running(n) < n->parallel && next < n->ne) {
            entry *e = &n->e[next++];
            if (strcmp(rec_state(e), "migrated") == 0)
                continue;
            fork_child(n, e, presync_fn, NULL);
        }
        if (!running(n))
            break;
        wait_some(n, 3600);
    }
    for (size_t i = 0; i < n->ne; i++) {
        json_t *p = json_object_get(n->e[i].rec, "presync");
        if (p && !json_is_true(json_object_get(p, "complete")))
            failed++;
    }
    return failed;
}

/* The records of the cutovers running now, as their processes last wrote
 * them (for a summary that shows where each is). */
static void refresh_running(night *n)
{
    for (size_t i = 0; i < n->ne; i++) {
        if (!n->e[i].pid)
            continue;
        ks_error err;
        json_t *r = ks_json_read_file(n->e[i].rec_path, &err);
        if (r) {
            json_decref(n->e[i].rec);
            n->e[i].rec = r;
        }
    }
}

static int run_night(night *n)
{
    size_t next = 0;
    for (;;) {
        refresh_running(n);
        summary_write(n, false);
        while (!ks_signal_stop_requested(n->sig) && running(n) < n->parallel && next < n->ne) {
            entry *e = &n->e[next++];
            /* (one skipped for its settings is tried again: they may be fixed) */
            if (terminal(rec_state(e)) && strcmp(rec_state(e), "skipped") != 0)
                continue;
            const char *no = refusal(n, e);
            if (no) {
                set_reason(e, "skipped", no);
                rec_save_warn(e);
                say(n, e->name, "skipped: %s", no);
                continue;
            }
            mig_basis b;
            mig_rates r;
            mig_estimate est;
            basis_of(n, e, &b);
            rates_of(n, &r);
            mig_night_estimate(&b, &r, ks_plan_migration_policy(n->plan), &est);
            time_t now = time(NULL);
            /* a cutover already begun is finished, whatever the time */
            bool begun = json_integer_value(json_object_get(e->rec, "attempts")) > 0;
            if (!begun && !mig_night_fits(now, est.total_s, n->until)) {
                postpone(n, e, &est, now);
                continue;
            }
            write_runbook(n, e, &b, &est);
            /* what the same move would have cost offline: its full copy */
            if (!json_object_get(e->rec, "full_copy_s"))
                json_object_set_new(e->rec, "full_copy_s",
                                    b.copy_s >= 0 ? json_real(round(b.copy_s * 10) / 10)
                                                  : json_null());
            say(n, e->name, "starting (estimated %s)", est.basis);
            if (fork_child(n, e, cutover, &est) < 0) {
                set_reason(e, "skipped", "the runner could not start its process (fork failed)");
                rec_save_warn(e);
            }
            summary_write(n, false);
        }
        if (!running(n))
            break;
        wait_some(n, 2);
    }
    bool all = true;
    for (size_t i = 0; i < n->ne; i++)
        all &= terminal(rec_state(&n->e[i]));
    summary_write(n, all);
    return all ? 0 : 2;
}

/* The dry run: the order, lanes and decisions the night would take now
 * (or at its window's start), nothing done; the summary has a "dry_run"
 * object per server. */
static void dry_run(night *n, time_t start)
{
    time_t *lane = ks_calloc(n->parallel, sizeof *lane);
    for (unsigned k = 0; k < n->parallel; k++)
        lane[k] = start;
    mig_rates r;
    rates_of(n, &r);
    for (size_t i = 0; i < n->ne; i++) {
        entry *e = &n->e[i];
        json_t *d = json_object();
        json_object_set_new(e->rec, "dry_run", d);
        if (terminal(rec_state(e)) && strcmp(rec_state(e), "postponed") != 0) {
            json_object_set_new(d, "decision", json_string("done already"));
            continue;
        }
        mig_basis b;
        mig_estimate est;
        basis_of(n, e, &b);
        mig_night_estimate(&b, &r, ks_plan_migration_policy(n->plan), &est);
        write_runbook(n, e, &b, &est);
        json_object_set_new(d, "estimate_minutes", json_real(round(est.total_s / 6) / 10));
        json_object_set_new(d, "basis", json_string(est.basis));
        const char *no = refusal(n, e);
        if (no) {
            json_object_set_new(d, "decision", json_string("skip"));
            json_object_set_new(d, "reason", json_string(no));
            continue;
        }
        unsigned best = 0;
        for (unsigned k = 1; k < n->parallel; k++)
            if (lane[k] < lane[best])
                best = k;
        json_object_set_new(d, "lane", json_integer(best + 1));
        set_time(d, "start", lane[best]);
        if (!mig_night_fits(lane[best], est.total_s, n->until)) {
            json_object_set_new(d, "decision", json_string("postpone"));
            json_object_set_new(d, "reason",
                                json_string("its estimate would end after the window"));
        } else {
            json_object_set_new(d, "decision", json_string("cut over"));
            lane[best] += (time_t)est.total_s;
            set_time(d, "end", lane[best]);
        }
    }
    free(lane);
}

static void say_waiting(const char *holder, void *arg)
{
    say(arg, NULL, "waiting for the processes of the previous run to end (%s)", holder);
}

static int lock_night(night *n, bool wait, ks_error *err)
{
    KS_AUTOFREE char *path = ks_asprintf("%s/lock", n->dir);
    KS_AUTOFREE char *what = ks_asprintf("night %u of '%s'", n->o->night, n->study);
    int fd = ks_lock_take(path, what, n->o->presync ? "presync" : "night runner", wait ? 60 : 0,
                          say_waiting, n, err);
    if (fd < 0)
        return -1;
    n->lockfd = fd;
    return 0;
}

static void night_free(night *n)
{
    for (size_t i = 0; i < n->ne; i++)
        entry_free(&n->e[i]);
    free(n->e);
    free(n->study);
    free(n->dir);
    free(n->power_on);
    ks_plan_free(n->plan);
    ks_inventory_free(n->inv);
    ks_ini_free(n->ini);
    ks_signal_free(n->sig);
    ks_lock_release(n->lockfd);
}

json_t *mig_night_run(const char *study_dir, const mig_night_options *opt, int *outcome,
                      ks_error *err)
{
    night nn = {.o = opt, .lockfd = -1}, *n = &nn;
    json_t *result = NULL;
    ks_error_clear(err);
    *outcome = 0;
    n->study = ks_strdup(study_dir);
    KS_AUTOFREE char *ini_path = ks_path_join(study_dir, "study.ini");
    KS_AUTOFREE char *inv_path = ks_path_join(study_dir, "inventory.csv");
    KS_AUTOFREE char *plan_path = ks_path_join(study_dir, "plan.json");
    KS_AUTOFREE char *servers_dir = NULL;
    time_t now = 0;
    if (!ks_path_exists(ini_path)) {
        ks_error_set(err, KS_E_USAGE, 0, "'%s' is not a study directory (no study.ini)", study_dir);
        goto out;
    }
    if (!(n->ini = ks_ini_load(ini_path, err)) || !(n->inv = ks_inventory_load(inv_path, err)) ||
        !(n->plan = ks_plan_load(plan_path, err)) || night_config(n, err) < 0)
        goto out;
    n->pn = ks_plan_night(n->plan, opt->night);
    if (!n->pn) {
        ks_error_set(err, KS_E_USAGE, 0,
                     "%s has no night %u (it plans %zu night%s%s): see 'kvmshift report' or "
                     "plan.json \"nights\"",
                     plan_path, opt->night, ks_plan_night_count(n->plan),
                     ks_plan_night_count(n->plan) == 1 ? "" : "s",
                     ks_plan_night_count(n->plan) ? "" : "; is a scenario recommended?");
        goto out;
    }
    n->dir = ks_asprintf("%s/nights/%u", study_dir, opt->night);
    servers_dir = ks_path_join(n->dir, "servers");
    if (ks_mkdir_p(servers_dir, err) < 0)
        goto out;
    n->parallel = opt->parallel ? opt->parallel : ks_plan_migration_policy(n->plan)->max_parallel;
    if (!n->parallel)
        n->parallel = 1;
    n->started_at = time(NULL);

    /* the servers: those postponed by earlier nights first, then the plan's */
    if (carried_over(n, err) < 0)
        goto out;
    for (size_t i = 0; i < n->pn->nslots; i++)
        if (add_entry(n, n->pn->slots[i].server, &n->pn->slots[i], opt->night, err) < 0)
            goto out;

    now = time(NULL);
    n->until = opt->until ? opt->until : n->pn->end;
    if (opt->dry_run) {
        time_t start = opt->until || now >= n->pn->start ? now : n->pn->start;
        dry_run(n, start);
        result = summary_of(n, true, false);
        goto out;
    }
    if (lock_night(n, opt->resume || opt->rollback, err) < 0)
        goto out;
    /* records as they are now (a run that held the lock may have written) */
    for (size_t i = 0; i < n->ne; i++) {
        ks_error re;
        json_t *r = ks_json_read_file(n->e[i].rec_path, &re);
        if (r) {
            json_decref(n->e[i].rec);
            n->e[i].rec = r;
        }
    }
    n->sig = ks_signal_new(KS_SIGNAL_STOP | KS_SIGNAL_IGNORE_PIPE, err);
    if (!n->sig)
        goto out;

    if (opt->rollback) {
        entry *e = NULL;
        for (size_t i = 0; i < n->ne; i++)
            if (strcmp(n->e[i].name, opt->rollback) == 0)
                e = &n->e[i];
        if (!e) {
            ks_error_set(err, KS_E_USAGE, 0, "'%s' is not a server of night %u", opt->rollback,
                         opt->night);
            goto out;
        }
        const char *st = rec_state(e);
        if (strcmp(st, "migrated") == 0) {
            ks_error_set(err, KS_E_USAGE, 0,
                         "'%s' was migrated and validated: its VM may have taken writes the "
                         "source does not have; undefine it by hand if it must go back",
                         e->name);
            goto out;
        }
        if (strcmp(st, "running") != 0) {
            ks_error_set(err, KS_E_USAGE, 0, "'%s' is %s in night %u: nothing to roll back",
                         e->name, st, opt->night);
            goto out;
        }
        rollback(n, e, "rolled back by hand (kvmshift night --rollback)");
        summary_write(n, false);
        result = summary_of(n, false, false);
        *outcome =
            json_is_true(json_object_get(json_object_get(e->rec, "rollback"), "complete")) ? 0 : 1;
        goto out;
    }
    if (opt->presync) {
        say(n, NULL, "presync of %zu server%s, %u at once", n->ne, n->ne == 1 ? "" : "s",
            n->parallel);
        *outcome = run_presync(n) ? 1 : 0;
        result = summary_of(n, false, false);
        goto out;
    }
    if (!opt->resume) {
        for (size_t i = 0; i < n->ne; i++) {
            const char *st = rec_state(&n->e[i]);
            if (strcmp(st, "pending") != 0 && n->e[i].planned_night == opt->night) {
                ks_error_set(err, KS_E_USAGE, 0,
                             "night %u was run already ('%s' is %s): add --resume to go on "
                             "with what is left (finished servers are not repeated)",
                             opt->night, n->e[i].name, st);
                goto out;
            }
        }
    }
    if (now >= n->until) {
        char u[40];
        hhmm(n->until, u, sizeof u);
        ks_error_set(err, KS_E_USAGE, 0,
                     "night %u's window ended at %s: run a later night, or give --until to "
                     "set another end",
                     opt->night, u);
        goto out;
    }
    if (!opt->until && now < n->pn->start) {
        char s[40];
        hhmm(n->pn->start, s, sizeof s);
        ks_error_set(err, KS_E_USAGE, 0,
                     "night %u's window opens at %s: start it then, or give --until END to run "
                     "it now with that end",
                     opt->night, s);
        goto out;
    }
    {
        char u[40];
        hhmm(n->until, u, sizeof u);
        say(n, NULL, "%zu server%s, %u at once, until %s (%s)", n->ne, n->ne == 1 ? "" : "s",
            n->parallel, u,
            n->shutdown ? "sources powered off at cutover" : "services stopped at cutover");
    }
    *outcome = run_night(n);
    result = summary_of(n, false, *outcome == 0);
    if (*outcome == 0) {
        json_t *c = json_object_get(result, "counts");
        if (json_integer_value(json_object_get(c, "migrated")) != (json_int_t)n->ne)
            *outcome = 1;
    }
out:
    night_free(n);
    return result;
}
