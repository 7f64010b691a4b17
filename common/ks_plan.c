/* ks_plan.c: plan.json, as analyzer/ana_plan.c writes it, read back and
 * checked for the steps that run the plan (P2V, the nights, the checks
 * after them).
 *
 * The entries point into the parsed JSON (its strings), which the plan
 * keeps until ks_plan_free. Every reader function fills err once, where the
 * field is wrong, and returns -1; nothing is returned unless the whole file
 * is right. */
#include "ks_plan.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ks_fs.h"
#include "ks_inventory.h"
#include "ks_mem.h"
#include "ks_time.h"

#define PLAN_VERSION 1
#define PLAN_MAX_BYTES (256u << 20)
/* The end of every message about the file's contents: what to do. */
#define FIX                                                                                        \
    "it is not as 'kvmshift analyze' writes plan.json: analyze the study again and review the "    \
    "new plan"
#define JPATH_MAX 160
#define MAX_VCPUS 65536
#define MAX_MIB (UINT64_C(1) << 40)
#define MAX_NIGHT 1000000
#define MAX_PARALLEL 1000
#define MAX_VMS 1000000
#define MAX_MINUTES 52560000 /* a hundred years */

struct ks_plan {
    json_t *root; /* owns every string of the entries */
    char *file;
    time_t period_start, period_end;
    ks_plan_server_entry *servers;
    size_t nservers;
    const ks_plan_server_entry **by_name; /* sorted by name */
    ks_plan_scenario *scenarios;
    size_t nscenarios;
    const ks_plan_scenario *chosen;
    ks_plan_night_entry *nights;
    size_t nnights;
    ks_plan_migration migration;
};

/* What every reader function needs for its messages. */
typedef struct rd {
    const char *file;
    ks_error *err;
} rd;

typedef enum kind { K_OBJECT, K_ARRAY, K_STRING, K_INTEGER, K_NUMBER, K_BOOL } kind;

static const char *const day_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* ---- Typed fields, named by their JSON path ----------------------------- */

/* A path too long for JPATH_MAX (never from the analyzer: three levels of
 * short keys) ends in "..." rather than in a fragment that looks whole. */
static void jpath_mark_cut(char *out, int n)
{
    if (n < 0 || n >= JPATH_MAX)
        memcpy(out + JPATH_MAX - 4, "...", 4);
}

/* "at.key", or "key" at the top level. */
static void jpath_key(char *out, const char *at, const char *key)
{
    int n = *at ? snprintf(out, JPATH_MAX, "%s.%s", at, key) : snprintf(out, JPATH_MAX, "%s", key);
    jpath_mark_cut(out, n);
}

/* "at.key[i]", or "key[i]" at the top level. */
static void jpath_index(char *out, const char *at, const char *key, size_t i)
{
    int n = *at ? snprintf(out, JPATH_MAX, "%s.%s[%zu]", at, key, i)
                : snprintf(out, JPATH_MAX, "%s[%zu]", key, i);
    jpath_mark_cut(out, n);
}

static bool kind_is(const json_t *v, kind k)
{
    switch (k) {
    case K_OBJECT:
        return json_is_object(v);
    case K_ARRAY:
        return json_is_array(v);
    case K_STRING:
        return json_is_string(v);
    case K_INTEGER:
        return json_is_integer(v);
    case K_NUMBER:
        return json_is_number(v);
    case K_BOOL:
        return json_is_boolean(v);
    }
    return false;
}

static void type_error(const rd *r, const char *where, kind k, bool nullable)
{
    switch (k) {
    case K_OBJECT:
        ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is not an object; " FIX, r->file, where);
        return;
    case K_ARRAY:
        ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is not an array; " FIX, r->file, where);
        return;
    case K_STRING:
        if (nullable)
            ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is not a string or null; " FIX, r->file,
                         where);
        else
            ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is not a string; " FIX, r->file, where);
        return;
    case K_INTEGER:
        if (nullable)
            ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is not an integer or null; " FIX, r->file,
                         where);
        else
            ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is not an integer; " FIX, r->file, where);
        return;
    case K_NUMBER:
        if (nullable)
            ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is not a number or null; " FIX, r->file,
                         where);
        else
            ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is not a number; " FIX, r->file, where);
        return;
    case K_BOOL:
        ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is not true or false; " FIX, r->file, where);
        return;
    }
}

/* Member key of object o (whose path is at), of kind k or, when nullable,
 * null. NULL with err when it is missing or of another type. */
static const json_t *member(const rd *r, const json_t *o, const char *at, const char *key, kind k,
                            bool nullable)
{
    char where[JPATH_MAX];
    jpath_key(where, at, key);
    const json_t *v = json_object_get(o, key);
    if (!v) {
        ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is missing; " FIX, r->file, where);
        return NULL;
    }
    if ((nullable && json_is_null(v)) || kind_is(v, k))
        return v;
    type_error(r, where, k, nullable);
    return NULL;
}

/* Element i of the array at at.key, of kind k; its path goes to where. */
static const json_t *element(const rd *r, const json_t *arr, const char *at, const char *key,
                             size_t i, kind k, char *where)
{
    jpath_index(where, at, key, i);
    const json_t *v = json_array_get(arr, i);
    if (kind_is(v, k))
        return v;
    type_error(r, where, k, false);
    return NULL;
}

static int get_object(const rd *r, const json_t *o, const char *at, const char *key,
                      const json_t **out)
{
    *out = member(r, o, at, key, K_OBJECT, false);
    return *out ? 0 : -1;
}

static int get_array(const rd *r, const json_t *o, const char *at, const char *key,
                     const json_t **out)
{
    *out = member(r, o, at, key, K_ARRAY, false);
    return *out ? 0 : -1;
}

/* *out is NULL for a null (only when nullable). The parser refuses "\u0000",
 * so a string is all of its bytes. */
static int get_string(const rd *r, const json_t *o, const char *at, const char *key, bool nullable,
                      const char **out)
{
    const json_t *v = member(r, o, at, key, K_STRING, nullable);
    if (!v)
        return -1;
    *out = json_string_value(v);
    return 0;
}

/* A string that is not empty. */
static int get_text(const rd *r, const json_t *o, const char *at, const char *key, const char **out)
{
    if (get_string(r, o, at, key, false, out) < 0)
        return -1;
    if (**out)
        return 0;
    char where[JPATH_MAX];
    jpath_key(where, at, key);
    ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is empty; " FIX, r->file, where);
    return -1;
}

static int check_int_range(const rd *r, const char *at, const char *key, json_int_t v,
                           json_int_t min, json_int_t max)
{
    if (v >= min && v <= max)
        return 0;
    char where[JPATH_MAX];
    jpath_key(where, at, key);
    ks_error_set(r->err, KS_E_PARSE, 0,
                 "%s: %s is %" JSON_INTEGER_FORMAT ", not from %" JSON_INTEGER_FORMAT
                 " to %" JSON_INTEGER_FORMAT "; " FIX,
                 r->file, where, v, min, max);
    return -1;
}

static int get_integer(const rd *r, const json_t *o, const char *at, const char *key,
                       json_int_t min, json_int_t max, json_int_t *out)
{
    const json_t *v = member(r, o, at, key, K_INTEGER, false);
    if (!v)
        return -1;
    *out = json_integer_value(v);
    return check_int_range(r, at, key, *out, min, max);
}

/* An integer or a real; *out is NAN for a null (only when nullable). */
static int get_number(const rd *r, const json_t *o, const char *at, const char *key, bool nullable,
                      double min, double max, double *out)
{
    const json_t *v = member(r, o, at, key, K_NUMBER, nullable);
    if (!v)
        return -1;
    if (json_is_null(v)) {
        *out = NAN;
        return 0;
    }
    *out = json_number_value(v);
    if (*out >= min && *out <= max)
        return 0;
    char where[JPATH_MAX];
    jpath_key(where, at, key);
    ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is %g, not from %g to %g; " FIX, r->file, where,
                 *out, min, max);
    return -1;
}

static int get_bool(const rd *r, const json_t *o, const char *at, const char *key, bool *out)
{
    const json_t *v = member(r, o, at, key, K_BOOL, false);
    if (!v)
        return -1;
    *out = json_is_true(v);
    return 0;
}

/* A whole number of MiB (written as a real, e.g. 18432.0); *is_null when
 * null (only when nullable). */
static int get_mib(const rd *r, const json_t *o, const char *at, const char *key, bool nullable,
                   uint64_t *out, bool *is_null)
{
    double v;
    if (get_number(r, o, at, key, nullable, 1, (double)MAX_MIB, &v) < 0)
        return -1;
    *is_null = isnan(v);
    *out = *is_null ? 0 : (uint64_t)v;
    if (*is_null || (double)*out == v)
        return 0;
    char where[JPATH_MAX];
    jpath_key(where, at, key);
    ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s is %g, not a whole number of MiB; " FIX, r->file,
                 where, v);
    return -1;
}

/* An instant "2026-02-02T20:00:00Z". */
static int get_time(const rd *r, const json_t *o, const char *at, const char *key, time_t *out)
{
    const char *s;
    if (get_string(r, o, at, key, false, &s) < 0)
        return -1;
    if (ks_time_parse_iso(s, out))
        return 0;
    char where[JPATH_MAX];
    jpath_key(where, at, key);
    ks_error_set(r->err, KS_E_PARSE, 0,
                 "%s: %s '%s' is not a UTC time like 2026-02-02T20:00:00Z; " FIX, r->file, where,
                 s);
    return -1;
}

/* "HH:MM" to minutes after midnight, -1 when it is not one. */
static int parse_hhmm(const char *s)
{
    if (strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}

static int get_hhmm(const rd *r, const json_t *o, const char *at, const char *key, int *out)
{
    const char *s;
    if (get_string(r, o, at, key, false, &s) < 0)
        return -1;
    if ((*out = parse_hhmm(s)) >= 0)
        return 0;
    char where[JPATH_MAX];
    jpath_key(where, at, key);
    ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s '%s' is not a time of day like 20:00; " FIX,
                 r->file, where, s);
    return -1;
}

/* ---- Lookups ------------------------------------------------------------ */

/* By name, then by place in the file (qsort is not stable). */
static int cmp_server(const void *a, const void *b)
{
    const ks_plan_server_entry *x = *(const ks_plan_server_entry *const *)a;
    const ks_plan_server_entry *y = *(const ks_plan_server_entry *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x > y) - (x < y);
}

static const ks_plan_server_entry *find_server(const ks_plan *p, const char *name)
{
    size_t lo = 0, hi = p->nservers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const ks_plan_server_entry *s = p->by_name[mid];
        int c = strcmp(s->name, name);
        if (c == 0)
            return s;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A server's name in the plan, or -1 with err naming where it was given. */
static int lookup_server(const rd *r, const ks_plan *p, const json_t *o, const char *at,
                         const char *key, ks_plan_server_entry **out)
{
    const char *name;
    if (get_string(r, o, at, key, false, &name) < 0)
        return -1;
    const ks_plan_server_entry *s = find_server(p, name);
    if (!s) {
        char where[JPATH_MAX];
        jpath_key(where, at, key);
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s names server '%s', which is not in servers; " FIX, r->file, where,
                     name);
        return -1;
    }
    *out = &p->servers[s - p->servers];
    return 0;
}

/* ---- The parts of the plan ---------------------------------------------- */

static int read_migration(const rd *r, const json_t *root, ks_plan_migration *m)
{
    const char *at = "migration", *date, *deps, *tz;
    const json_t *o, *days;
    json_int_t par;
    if (get_object(r, root, "", at, &o) < 0 || get_string(r, o, at, "start_date", false, &date) < 0)
        return -1;
    if (!ks_date_parse(date, &m->start_date)) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: migration.start_date '%s' is not a day like 2026-02-02; " FIX, r->file,
                     date);
        return -1;
    }
    if (get_hhmm(r, o, at, "window_start", &m->window_start) < 0 ||
        get_hhmm(r, o, at, "window_end", &m->window_end) < 0)
        return -1;
    if (m->window_start == m->window_end) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: migration.window_end equals migration.window_start (%02d:%02d): a "
                     "window of no time; " FIX,
                     r->file, m->window_start / 60, m->window_start % 60);
        return -1;
    }
    if (get_array(r, o, at, "days", &days) < 0)
        return -1;
    m->days = 0;
    for (size_t i = 0; i < json_array_size(days); i++) {
        char where[JPATH_MAX];
        const json_t *d = element(r, days, at, "days", i, K_STRING, where);
        if (!d)
            return -1;
        int k;
        for (k = 0; k < 7; k++)
            if (strcmp(json_string_value(d), day_names[k]) == 0)
                break;
        if (k == 7) {
            ks_error_set(r->err, KS_E_PARSE, 0,
                         "%s: %s '%s' is not a day of the week (sun, mon, tue, wed, thu, fri, "
                         "sat); " FIX,
                         r->file, where, json_string_value(d));
            return -1;
        }
        m->days |= 1u << k;
    }
    if (!m->days) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: migration.days is empty: no window can start; " FIX, r->file);
        return -1;
    }
    if (get_integer(r, o, at, "max_parallel", 1, MAX_PARALLEL, &par) < 0 ||
        get_number(r, o, at, "bandwidth_mbps", false, 1e-3, 1e9, &m->bandwidth_mbps) < 0 ||
        get_number(r, o, at, "conversion_minutes", false, 0, 1e6, &m->conversion_minutes) < 0 ||
        get_number(r, o, at, "validation_minutes", false, 0, 1e6, &m->validation_minutes) < 0 ||
        get_number(r, o, at, "default_disk_gib", false, 0, 1e9, &m->default_disk_gib) < 0 ||
        get_string(r, o, at, "dependencies", false, &deps) < 0 ||
        get_string(r, o, at, "timezone", false, &tz) < 0)
        return -1;
    m->max_parallel = (unsigned)par;
    if (strcmp(deps, "first") != 0 && strcmp(deps, "last") != 0) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: migration.dependencies is '%s', not 'first' or 'last'; " FIX, r->file,
                     deps);
        return -1;
    }
    m->dependencies_last = strcmp(deps, "last") == 0;
    if (strcmp(tz, "UTC") != 0) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: migration.timezone is '%s': this kvmshift reads plans in UTC only; " FIX,
                     r->file, tz);
        return -1;
    }
    return 0;
}

static int parse_status(const char *s, ks_plan_status *out)
{
    for (int k = KS_PLAN_ELIGIBLE; k <= KS_PLAN_NOT_ELIGIBLE; k++)
        if (strcmp(s, ks_plan_status_name((ks_plan_status)k)) == 0) {
            *out = (ks_plan_status)k;
            return 0;
        }
    return -1;
}

static int read_server(const rd *r, const json_t *o, const char *at, ks_plan_server_entry *s)
{
    const char *status;
    const json_t *reasons, *mem, *disk, *vcpus;
    if (get_string(r, o, at, "name", false, &s->name) < 0)
        return -1;
    if (!ks_server_name_valid(s->name)) {
        ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s.name '%s' is not a valid server name; " FIX,
                     r->file, at, s->name);
        return -1;
    }
    if (get_string(r, o, at, "status", false, &status) < 0)
        return -1;
    if (parse_status(status, &s->status) < 0) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s.status is '%s', not 'eligible', 'conditional' or 'not_eligible'; " FIX,
                     r->file, at, status);
        return -1;
    }
    if (get_array(r, o, at, "reasons", &reasons) < 0)
        return -1;
    size_t n = json_array_size(reasons);
    const char **list = ks_calloc(n + 1, sizeof *list);
    s->reasons = list;
    s->nreasons = n;
    for (size_t i = 0; i < n; i++) {
        char where[JPATH_MAX];
        const json_t *e = element(r, reasons, at, "reasons", i, K_STRING, where);
        if (!e)
            return -1;
        list[i] = json_string_value(e);
    }
    char mem_at[JPATH_MAX], disk_at[JPATH_MAX];
    jpath_key(mem_at, at, "memory");
    jpath_key(disk_at, at, "disk");
    if (get_string(r, o, at, "role", false, &s->role) < 0 ||
        get_number(r, o, at, "confidence", true, 0, 1, &s->confidence) < 0 ||
        get_object(r, o, at, "memory", &mem) < 0 ||
        get_number(r, mem, mem_at, "total_mib", true, 0, (double)MAX_MIB, &s->memory_total_mib) <
            0 ||
        get_object(r, o, at, "disk", &disk) < 0 ||
        get_number(r, disk, disk_at, "size_gib", true, 0, 1e12, &s->disk_size_gib) < 0 ||
        get_number(r, disk, disk_at, "used_gib", true, 0, 1e12, &s->disk_used_gib) < 0 ||
        !(vcpus = member(r, o, at, "vcpus", K_INTEGER, true)))
        return -1;
    bool mem_null;
    if (get_mib(r, o, at, "memory_mib", true, &s->memory_mib, &mem_null) < 0)
        return -1;
    bool sized = s->status != KS_PLAN_NOT_ELIGIBLE;
    if (json_is_null(vcpus) == sized || mem_null == sized) {
        if (sized)
            ks_error_set(r->err, KS_E_PARSE, 0,
                         "%s: %s ('%s', %s) has no vcpus or memory_mib: only a server that is "
                         "not eligible is not sized; " FIX,
                         r->file, at, s->name, status);
        else
            ks_error_set(r->err, KS_E_PARSE, 0,
                         "%s: %s ('%s', not_eligible) has vcpus or memory_mib: a server that "
                         "stays physical is not sized; " FIX,
                         r->file, at, s->name);
        return -1;
    }
    if (sized) {
        json_int_t v = json_integer_value(vcpus);
        if (check_int_range(r, at, "vcpus", v, 1, MAX_VCPUS) < 0)
            return -1;
        s->vcpus = (unsigned)v;
    }
    /* plans written before cpu_cap have no quota */
    s->cpu_quota_cores = NAN;
    if (json_object_get(o, "cpu_quota_cores") &&
        get_number(r, o, at, "cpu_quota_cores", true, 0.01, MAX_VCPUS, &s->cpu_quota_cores) < 0)
        return -1;
    return 0;
}

static int read_servers(const rd *r, const json_t *root, ks_plan *p)
{
    const json_t *arr;
    if (get_array(r, root, "", "servers", &arr) < 0)
        return -1;
    p->nservers = json_array_size(arr);
    p->servers = ks_calloc(p->nservers + 1, sizeof *p->servers);
    for (size_t i = 0; i < p->nservers; i++) {
        char at[JPATH_MAX];
        const json_t *o = element(r, arr, "", "servers", i, K_OBJECT, at);
        if (!o || read_server(r, o, at, &p->servers[i]) < 0)
            return -1;
    }
    p->by_name = ks_calloc(p->nservers + 1, sizeof *p->by_name);
    for (size_t i = 0; i < p->nservers; i++)
        p->by_name[i] = &p->servers[i];
    ks_qsort(p->by_name, p->nservers, sizeof *p->by_name, cmp_server);
    for (size_t i = 1; i < p->nservers; i++) {
        const ks_plan_server_entry *a = p->by_name[i - 1], *b = p->by_name[i];
        if (strcmp(a->name, b->name) == 0) {
            ks_error_set(r->err, KS_E_PARSE, 0,
                         "%s: servers[%zu] and servers[%zu] are both named '%s'; " FIX, r->file,
                         (size_t)(a - p->servers), (size_t)(b - p->servers), a->name);
            return -1;
        }
    }
    return 0;
}

static int read_hosts(const rd *r, const json_t *o, const char *at, ks_plan_scenario *sc)
{
    const json_t *arr;
    if (get_array(r, o, at, "hosts", &arr) < 0)
        return -1;
    size_t n = json_array_size(arr);
    ks_plan_host *hosts = ks_calloc(n + 1, sizeof *hosts);
    sc->hosts = hosts;
    sc->nhosts = n;
    for (size_t i = 0; i < n; i++) {
        char hat[JPATH_MAX];
        ks_plan_host *h = &hosts[i];
        json_int_t vms;
        const json_t *e = element(r, arr, at, "hosts", i, K_OBJECT, hat);
        if (!e || get_text(r, e, hat, "name", &h->name) < 0 ||
            get_text(r, e, hat, "model", &h->model) < 0 ||
            get_bool(r, e, hat, "existing", &h->existing) < 0 ||
            get_integer(r, e, hat, "vms", 0, MAX_VMS, &vms) < 0 ||
            get_bool(r, e, hat, "spare", &h->spare) < 0 ||
            get_number(r, e, hat, "cpu_peak_percent", true, 0, 1e6, &h->cpu_peak_percent) < 0 ||
            get_number(r, e, hat, "memory_percent", true, 0, 1e6, &h->memory_percent) < 0)
            return -1;
        /* the count of placements on it, checked against vms below */
        h->nvms = (size_t)vms;
        for (size_t j = 0; j < i; j++)
            if (strcmp(hosts[j].name, h->name) == 0) {
                ks_error_set(r->err, KS_E_PARSE, 0,
                             "%s: %s.hosts[%zu] and %s.hosts[%zu] are both named '%s'; " FIX,
                             r->file, at, j, at, i, h->name);
                return -1;
            }
        if (h->spare && h->existing) {
            ks_error_set(r->err, KS_E_PARSE, 0,
                         "%s: %s is both existing and the N+1 spare: a spare host is a new "
                         "one; " FIX,
                         r->file, hat);
            return -1;
        }
    }
    return 0;
}

/* Mark server s as used by the scenario at at (placed or unplaced), once. */
static int use_server(const rd *r, const ks_plan *p, const char *at, const char *where,
                      const ks_plan_server_entry *s, const char **used)
{
    size_t k = (size_t)(s - p->servers);
    if (used[k]) {
        ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s and %s both name server '%s' in %s; " FIX,
                     r->file, used[k], where, s->name, at);
        return -1;
    }
    used[k] = where;
    return 0;
}

static int read_placement(const rd *r, ks_plan *p, const json_t *e, const char *pat, const char *at,
                          ks_plan_scenario *sc, const char **used, ks_plan_placement *pl)
{
    ks_plan_server_entry *s;
    const char *host;
    json_int_t vcpus;
    bool is_null;
    if (lookup_server(r, p, e, pat, "server", &s) < 0 || use_server(r, p, at, pat, s, used) < 0 ||
        get_string(r, e, pat, "host", false, &host) < 0 ||
        get_integer(r, e, pat, "vcpus", 1, MAX_VCPUS, &vcpus) < 0 ||
        get_mib(r, e, pat, "memory_mib", false, &pl->memory_mib, &is_null) < 0)
        return -1;
    if (s->status == KS_PLAN_NOT_ELIGIBLE) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s places server '%s', which is not eligible (it stays physical); " FIX,
                     r->file, pat, s->name);
        return -1;
    }
    pl->server = s;
    pl->vcpus = (unsigned)vcpus;
    pl->host = ks_plan_scenario_host(sc, host);
    if (!pl->host) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s.host names host '%s', which is not in %s.hosts; " FIX, r->file, pat,
                     host, at);
        return -1;
    }
    return 0;
}

/* The placements (array arr) of the scenario at at; then every host's list
 * of VMs, checked against its "vms". */
static int read_placements(const rd *r, ks_plan *p, const json_t *arr, const char *at,
                           ks_plan_scenario *sc, char (*wheres)[JPATH_MAX], const char **used)
{
    size_t n = json_array_size(arr);
    ks_plan_placement *pls = ks_calloc(n + 1, sizeof *pls);
    sc->placements = pls;
    sc->nplacements = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = element(r, arr, at, "placements", i, K_OBJECT, wheres[i]);
        if (!e || read_placement(r, p, e, wheres[i], at, sc, used, &pls[i]) < 0)
            return -1;
    }
    ks_plan_host *hosts = (ks_plan_host *)sc->hosts;
    for (size_t h = 0; h < sc->nhosts; h++) {
        size_t count = 0;
        for (size_t i = 0; i < n; i++)
            count += pls[i].host == &hosts[h];
        if (count != hosts[h].nvms) {
            ks_error_set(r->err, KS_E_PARSE, 0,
                         "%s: %s.hosts[%zu] ('%s') has vms %zu, but %zu placements are on it; " FIX,
                         r->file, at, h, hosts[h].name, hosts[h].nvms, count);
            return -1;
        }
        if (hosts[h].spare && count) {
            ks_error_set(r->err, KS_E_PARSE, 0,
                         "%s: %s.hosts[%zu] ('%s') is the N+1 spare but has VMs; " FIX, r->file, at,
                         h, hosts[h].name);
            return -1;
        }
        const ks_plan_placement **vms = ks_calloc(count + 1, sizeof *vms);
        hosts[h].vms = vms;
        hosts[h].nvms = 0;
        for (size_t i = 0; i < n; i++)
            if (pls[i].host == &hosts[h])
                vms[hosts[h].nvms++] = &pls[i];
    }
    return 0;
}

static int read_unplaced(const rd *r, ks_plan *p, const json_t *arr, const char *at,
                         ks_plan_scenario *sc, char (*wheres)[JPATH_MAX], const char **used)
{
    size_t n = json_array_size(arr);
    ks_plan_unplaced *un = ks_calloc(n + 1, sizeof *un);
    sc->unplaced = un;
    sc->nunplaced = n;
    for (size_t i = 0; i < n; i++) {
        char *uat = wheres[i];
        ks_plan_server_entry *s;
        const json_t *e = element(r, arr, at, "unplaced", i, K_OBJECT, uat);
        if (!e || lookup_server(r, p, e, uat, "server", &s) < 0 ||
            use_server(r, p, at, uat, s, used) < 0 || get_text(r, e, uat, "why", &un[i].why) < 0)
            return -1;
        if (s->status == KS_PLAN_NOT_ELIGIBLE) {
            ks_error_set(r->err, KS_E_PARSE, 0,
                         "%s: %s names server '%s', which is not eligible (it stays physical): "
                         "it is never packed; " FIX,
                         r->file, uat, s->name);
            return -1;
        }
        un[i].server = s;
    }
    return 0;
}

static int read_scenario(const rd *r, ks_plan *p, const json_t *o, const char *at,
                         ks_plan_scenario *sc)
{
    const json_t *model, *pls, *un;
    char mat[JPATH_MAX];
    jpath_key(mat, at, "host_model");
    if (get_text(r, o, at, "name", &sc->name) < 0 || get_bool(r, o, at, "mixed", &sc->mixed) < 0 ||
        get_object(r, o, at, "host_model", &model) < 0 ||
        get_text(r, model, mat, "name", &sc->host_model) < 0 || read_hosts(r, o, at, sc) < 0 ||
        get_array(r, o, at, "placements", &pls) < 0 || get_array(r, o, at, "unplaced", &un) < 0)
        return -1;
    /* the paths of the entries that used each server, for the message when
     * one is used twice */
    size_t nw = json_array_size(pls) + json_array_size(un);
    char(*wheres)[JPATH_MAX] = ks_calloc(nw + 1, sizeof *wheres);
    const char **used = ks_calloc(p->nservers + 1, sizeof *used);
    int rc = read_placements(r, p, pls, at, sc, wheres, used) < 0 ||
                     read_unplaced(r, p, un, at, sc, wheres + json_array_size(pls), used) < 0
                 ? -1
                 : 0;
    free(used);
    free(wheres);
    return rc;
}

/* The chosen scenario gives each server its host, and its sizing is the
 * servers'. */
static int apply_chosen(const rd *r, ks_plan *p, const ks_plan_scenario *sc, size_t sci)
{
    for (size_t i = 0; i < sc->nplacements; i++) {
        const ks_plan_placement *pl = &sc->placements[i];
        ks_plan_server_entry *s = &p->servers[pl->server - p->servers];
        if (pl->vcpus != s->vcpus || pl->memory_mib != s->memory_mib) {
            ks_error_set(r->err, KS_E_PARSE, 0,
                         "%s: scenarios[%zu].placements[%zu] sizes '%s' as %u vCPUs and %llu "
                         "MiB, but servers[%zu] as %u vCPUs and %llu MiB: the recommended "
                         "scenario's sizes are the servers'; " FIX,
                         r->file, sci, i, s->name, pl->vcpus, (unsigned long long)pl->memory_mib,
                         (size_t)(s - p->servers), s->vcpus, (unsigned long long)s->memory_mib);
            return -1;
        }
        s->host = pl->host;
    }
    for (size_t i = 0; i < sc->nunplaced; i++)
        p->servers[sc->unplaced[i].server - p->servers].unplaced_why = sc->unplaced[i].why;
    return 0;
}

static int read_scenarios(const rd *r, const json_t *root, ks_plan *p)
{
    const json_t *arr;
    const char *recommended;
    if (get_array(r, root, "", "scenarios", &arr) < 0 ||
        get_string(r, root, "", "recommended", true, &recommended) < 0)
        return -1;
    p->nscenarios = json_array_size(arr);
    p->scenarios = ks_calloc(p->nscenarios + 1, sizeof *p->scenarios);
    for (size_t i = 0; i < p->nscenarios; i++) {
        char at[JPATH_MAX];
        ks_plan_scenario *sc = &p->scenarios[i];
        const json_t *o = element(r, arr, "", "scenarios", i, K_OBJECT, at);
        if (!o || read_scenario(r, p, o, at, sc) < 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->scenarios[j].name, sc->name) == 0) {
                ks_error_set(r->err, KS_E_PARSE, 0,
                             "%s: scenarios[%zu] and scenarios[%zu] are both named '%s'; " FIX,
                             r->file, j, i, sc->name);
                return -1;
            }
        if (recommended && strcmp(sc->name, recommended) == 0) {
            sc->chosen = true;
            p->chosen = sc;
            if (apply_chosen(r, p, sc, i) < 0)
                return -1;
        }
    }
    if (recommended && !p->chosen) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: recommended names scenario '%s', which is not in scenarios; " FIX,
                     r->file, recommended);
        return -1;
    }
    return 0;
}

static int read_slot(const rd *r, ks_plan *p, const json_t *e, const char *sat,
                     ks_plan_night_entry *nt, size_t ni, ks_plan_slot *sl, time_t *lane_end)
{
    ks_plan_server_entry *s;
    json_int_t minutes, lane;
    if (lookup_server(r, p, e, sat, "name", &s) < 0 ||
        get_time(r, e, sat, "start", &sl->start) < 0 || get_time(r, e, sat, "end", &sl->end) < 0 ||
        get_integer(r, e, sat, "estimated_minutes", 0, MAX_MINUTES, &minutes) < 0 ||
        get_integer(r, e, sat, "lane", 1, p->migration.max_parallel, &lane) < 0 ||
        get_text(r, e, sat, "estimate_basis", &sl->estimate_basis) < 0 ||
        get_number(r, e, sat, "risk", false, -1e9, 1e9, &sl->risk) < 0 ||
        get_string(r, e, sat, "warning", true, &sl->warning) < 0)
        return -1;
    sl->server = s;
    sl->lane = (unsigned)lane;
    sl->estimated_minutes = (long)minutes;
    if (!s->host) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s moves server '%s', which the recommended scenario places on no "
                     "host; " FIX,
                     r->file, sat, s->name);
        return -1;
    }
    if (s->night) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s moves server '%s', which night %u moves already; " FIX, r->file, sat,
                     s->name, s->night->number);
        return -1;
    }
    if (sl->end - sl->start != (time_t)minutes * 60) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s ('%s') runs from start to end for other than its %ld estimated "
                     "minutes; " FIX,
                     r->file, sat, s->name, (long)minutes);
        return -1;
    }
    if (sl->start < nt->start || sl->start >= nt->end) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s ('%s') starts outside the window of night %u; " FIX, r->file, sat,
                     s->name, nt->number);
        return -1;
    }
    if (sl->start < lane_end[lane]) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s ('%s') starts in lane %u of night %u before the server before it "
                     "in that lane ends; " FIX,
                     r->file, sat, s->name, sl->lane, nt->number);
        return -1;
    }
    lane_end[lane] = sl->end;
    s->night = &p->nights[ni];
    s->slot = sl;
    return 0;
}

static int read_night(const rd *r, ks_plan *p, const json_t *o, const char *at, size_t ni,
                      time_t *lane_end)
{
    ks_plan_night_entry *nt = &p->nights[ni];
    json_int_t number, busy;
    const json_t *arr;
    time_t day;
    if (get_integer(r, o, at, "night", 1, MAX_NIGHT, &number) < 0)
        return -1;
    nt->number = (unsigned)number;
    if (ni && nt->number <= p->nights[ni - 1].number) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s is night %u, after night %u: nights are in increasing order; " FIX,
                     r->file, at, nt->number, p->nights[ni - 1].number);
        return -1;
    }
    if (get_string(r, o, at, "date", false, &nt->date) < 0 ||
        get_time(r, o, at, "start", &nt->start) < 0 || get_time(r, o, at, "end", &nt->end) < 0 ||
        get_integer(r, o, at, "busy_minutes", 0, MAX_MINUTES, &busy) < 0 ||
        get_array(r, o, at, "servers", &arr) < 0)
        return -1;
    nt->busy_minutes = (long)busy;
    if (!ks_date_parse(nt->date, &day) || nt->start < day || nt->start >= day + 86400) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s.date '%s' is not the day its window starts; " FIX, r->file, at,
                     nt->date);
        return -1;
    }
    if (nt->end <= nt->start) {
        ks_error_set(r->err, KS_E_PARSE, 0, "%s: %s ends before it starts; " FIX, r->file, at);
        return -1;
    }
    size_t n = json_array_size(arr);
    if (!n) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s has no servers: plan.json lists only nights that move servers; " FIX,
                     r->file, at);
        return -1;
    }
    ks_plan_slot *slots = ks_calloc(n, sizeof *slots);
    nt->slots = slots;
    nt->nslots = n;
    for (unsigned l = 0; l <= p->migration.max_parallel; l++)
        lane_end[l] = nt->start;
    long sum = 0;
    for (size_t i = 0; i < n; i++) {
        char sat[JPATH_MAX];
        const json_t *e = element(r, arr, at, "servers", i, K_OBJECT, sat);
        if (!e || read_slot(r, p, e, sat, nt, ni, &slots[i], lane_end) < 0)
            return -1;
        sum += slots[i].estimated_minutes;
    }
    if (sum != nt->busy_minutes) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: %s.busy_minutes is %ld, but its servers' estimates add up to %ld; " FIX,
                     r->file, at, nt->busy_minutes, sum);
        return -1;
    }
    return 0;
}

static int read_nights(const rd *r, const json_t *root, ks_plan *p)
{
    const json_t *arr;
    if (get_array(r, root, "", "nights", &arr) < 0)
        return -1;
    p->nnights = json_array_size(arr);
    p->nights = ks_calloc(p->nnights + 1, sizeof *p->nights);
    time_t *lane_end = ks_calloc(p->migration.max_parallel + 1, sizeof *lane_end);
    int rc = 0;
    for (size_t i = 0; i < p->nnights && rc == 0; i++) {
        char at[JPATH_MAX];
        const json_t *o = element(r, arr, "", "nights", i, K_OBJECT, at);
        rc = o ? read_night(r, p, o, at, i, lane_end) : -1;
    }
    free(lane_end);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < p->nservers; i++) {
        const ks_plan_server_entry *s = &p->servers[i];
        if (s->host && !s->night) {
            ks_error_set(r->err, KS_E_PARSE, 0,
                         "%s: server '%s' is placed on host '%s' by the recommended scenario, "
                         "but no night moves it; " FIX,
                         r->file, s->name, s->host->name);
            return -1;
        }
    }
    return 0;
}

static int read_plan(const rd *r, const json_t *root, ks_plan *p)
{
    json_int_t version;
    const json_t *v, *period;
    if (!json_is_object(root)) {
        ks_error_set(r->err, KS_E_PARSE, 0, "%s: the top level is not an object; " FIX, r->file);
        return -1;
    }
    if (!(v = member(r, root, "", "version", K_INTEGER, false)))
        return -1;
    version = json_integer_value(v);
    if (version != PLAN_VERSION) {
        ks_error_set(r->err, KS_E_PARSE, 0,
                     "%s: plan format version %" JSON_INTEGER_FORMAT
                     " is not known to this kvmshift, which reads version %d: use the kvmshift "
                     "that wrote it, or analyze the study again with this one and review the new "
                     "plan",
                     r->file, version, PLAN_VERSION);
        return -1;
    }
    if (get_object(r, root, "", "period", &period) < 0 ||
        get_time(r, period, "period", "start", &p->period_start) < 0 ||
        get_time(r, period, "period", "end", &p->period_end) < 0)
        return -1;
    if (p->period_end < p->period_start) {
        ks_error_set(r->err, KS_E_PARSE, 0, "%s: period ends before it starts; " FIX, r->file);
        return -1;
    }
    if (read_migration(r, root, &p->migration) < 0 || read_servers(r, root, p) < 0 ||
        read_scenarios(r, root, p) < 0 || read_nights(r, root, p) < 0)
        return -1;
    return 0;
}

/* ---- Public ------------------------------------------------------------- */

ks_plan *ks_plan_parse(const char *text, size_t len, const char *filename, ks_error *err)
{
    json_error_t je;
    /* two members of one name would be two readings of the plan */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        ks_error_set(err, KS_E_PARSE, 0, "%s:%d: not valid JSON (%s); " FIX, filename, je.line,
                     je.text);
        return NULL;
    }
    ks_plan *p = ks_calloc(1, sizeof *p);
    p->root = root;
    p->file = ks_strdup(filename);
    rd r = {.file = filename, .err = err};
    if (read_plan(&r, root, p) < 0) {
        ks_plan_free(p);
        return NULL;
    }
    return p;
}

ks_plan *ks_plan_load(const char *path, ks_error *err)
{
    size_t len;
    /* read here rather than through ks_json_read_file: one parse path
     * (ks_plan_parse, which the fuzzer runs) and its duplicate-key check */
    if (!ks_path_exists(path)) {
        ks_error_set(err, KS_E_IO, ENOENT,
                     "there is no plan '%s': analyze the study first ('kvmshift analyze STUDY') "
                     "and review the plan it writes",
                     path);
        return NULL;
    }
    KS_AUTOFREE char *text = ks_read_file(path, PLAN_MAX_BYTES, &len, err);
    if (!text)
        return NULL;
    return ks_plan_parse(text, len, path, err);
}

void ks_plan_free(ks_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nservers; i++)
        free((void *)p->servers[i].reasons);
    for (size_t i = 0; i < p->nscenarios; i++) {
        ks_plan_scenario *sc = &p->scenarios[i];
        for (size_t h = 0; h < sc->nhosts; h++)
            free((void *)sc->hosts[h].vms);
        free((void *)sc->hosts);
        free((void *)sc->placements);
        free((void *)sc->unplaced);
    }
    for (size_t i = 0; i < p->nnights; i++)
        free((void *)p->nights[i].slots);
    free(p->servers);
    free((void *)p->by_name);
    free(p->scenarios);
    free(p->nights);
    json_decref(p->root);
    free(p->file);
    free(p);
}

const char *ks_plan_file(const ks_plan *p)
{
    return p->file;
}

void ks_plan_period(const ks_plan *p, time_t *start, time_t *end)
{
    *start = p->period_start;
    *end = p->period_end;
}

size_t ks_plan_server_count(const ks_plan *p)
{
    return p->nservers;
}

const ks_plan_server_entry *ks_plan_server_at(const ks_plan *p, size_t i)
{
    return i < p->nservers ? &p->servers[i] : NULL;
}

const ks_plan_server_entry *ks_plan_server(const ks_plan *p, const char *name)
{
    return find_server(p, name);
}

size_t ks_plan_scenario_count(const ks_plan *p)
{
    return p->nscenarios;
}

const ks_plan_scenario *ks_plan_scenario_at(const ks_plan *p, size_t i)
{
    return i < p->nscenarios ? &p->scenarios[i] : NULL;
}

const ks_plan_scenario *ks_plan_chosen(const ks_plan *p)
{
    return p->chosen;
}

const ks_plan_host *ks_plan_scenario_host(const ks_plan_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->nhosts; i++)
        if (strcmp(sc->hosts[i].name, name) == 0)
            return &sc->hosts[i];
    return NULL;
}

size_t ks_plan_night_count(const ks_plan *p)
{
    return p->nnights;
}

const ks_plan_night_entry *ks_plan_night_at(const ks_plan *p, size_t i)
{
    return i < p->nnights ? &p->nights[i] : NULL;
}

const ks_plan_night_entry *ks_plan_night(const ks_plan *p, unsigned number)
{
    size_t lo = 0, hi = p->nnights; /* by number, increasing (checked) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->nights[mid].number == number)
            return &p->nights[mid];
        if (p->nights[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const ks_plan_migration *ks_plan_migration_policy(const ks_plan *p)
{
    return &p->migration;
}

const char *ks_plan_status_name(ks_plan_status s)
{
    switch (s) {
    case KS_PLAN_ELIGIBLE:
        return "eligible";
    case KS_PLAN_CONDITIONAL:
        return "conditional";
    case KS_PLAN_NOT_ELIGIBLE:
        return "not_eligible";
    }
    return "?";
}
