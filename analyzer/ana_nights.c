/* ana_nights.c: migration nights. Each server of the recommended scenario
 * gets an estimated P2V duration (disk used over the copy bandwidth, plus
 * conversion and validation), and a greedy scheduler puts the servers, one
 * at a time in a fixed order, into the earliest night and lane where they
 * fit. Everything is UTC and works on plain numbers (see ana_nights.h). */
#include "ana_nights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ks_mem.h"
#include "ks_parse.h"
#include "ks_time.h"

#define DAY 86400
#define NONE ((size_t)-1)

static const char *const day_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* ---- study.ini ----------------------------------------------------------- */

/* "20:00" -> 1200 minutes after midnight; -1 when not a time. */
static int parse_hhmm(const char *v)
{
    int h, m;
    char extra;
    if (strlen(v) != 5 || sscanf(v, "%2d:%2d%c", &h, &m, &extra) != 2 || v[2] != ':' || h < 0 ||
        h > 23 || m < 0 || m > 59)
        return -1;
    return h * 60 + m;
}

static int get_hhmm(const ks_ini *ini, const char *key, int def, int *out, ks_error *err)
{
    const char *v = ks_ini_get(ini, "migration", key);
    *out = def;
    if (!v || !*v)
        return 0;
    if ((*out = parse_hhmm(v)) >= 0)
        return 0;
    ks_error_set(err, KS_E_CONFIG, 0,
                 "%s:%u: '%s' in [migration] must be a time like 20:00 (UTC, 24-hour), not '%s'",
                 ks_ini_filename(ini), ks_ini_line(ini, "migration", key), key, v);
    return -1;
}

/* "mon, tue ..." -> weekday bits; 0 when a word is not a day. */
static unsigned parse_days(const char *v, const char **bad, size_t *badlen)
{
    unsigned bits = 0;
    const char *p = v;
    while (*p) {
        p += strspn(p, ", \t");
        size_t len = strcspn(p, ", \t");
        if (!len)
            break;
        int d;
        for (d = 0; d < 7; d++)
            if (len == 3 && strncasecmp(p, day_names[d], 3) == 0)
                break;
        if (d == 7) {
            *bad = p;
            *badlen = len;
            return 0;
        }
        bits |= 1u << d;
        p += len;
    }
    if (!bits) {
        *bad = v;
        *badlen = strlen(v);
    }
    return bits;
}

int ana_night_policy_parse(const ks_ini *ini, time_t default_start, ana_night_policy *p,
                           ks_error *err)
{
    const char *S = "migration";
    memset(p, 0, sizeof *p);
    long par;
    if (get_hhmm(ini, "window_start", 20 * 60, &p->window_start, err) < 0 ||
        get_hhmm(ini, "window_end", 6 * 60, &p->window_end, err) < 0 ||
        ks_ini_get_long(ini, S, "max_parallel", 2, 1, 1000, &par, err) < 0 ||
        ks_ini_get_double(ini, S, "bandwidth_mbps", 1000, 1, 1e7, &p->bandwidth_mbps, err) < 0 ||
        ks_ini_get_double(ini, S, "conversion_minutes", 30, 0, 10080, &p->conversion_min, err) <
            0 ||
        ks_ini_get_double(ini, S, "validation_minutes", 20, 0, 10080, &p->validation_min, err) <
            0 ||
        ks_ini_get_double(ini, S, "default_disk_gib", 100, 0, 1e7, &p->default_disk_gib, err) < 0)
        return -1;
    p->max_parallel = (unsigned)par;
    if (p->window_start == p->window_end) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "%s:%u: 'window_end' in [migration] equals 'window_start' (%02d:%02d): give "
                     "the end of the nightly window, e.g. 06:00",
                     ks_ini_filename(ini), ks_ini_line(ini, S, "window_end"), p->window_start / 60,
                     p->window_start % 60);
        return -1;
    }
    const char *days = ks_ini_get(ini, S, "days");
    if (days && *days) {
        const char *bad = "";
        size_t badlen = 0;
        if (!(p->days = parse_days(days, &bad, &badlen))) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: 'days' in [migration] must list days a window starts on, "
                         "like 'mon, tue, wed, thu, fri'; '%.*s' is not one",
                         ks_ini_filename(ini), ks_ini_line(ini, S, "days"), (int)badlen, bad);
            return -1;
        }
    } else {
        p->days = 0x3e; /* mon..fri */
    }
    const char *deps = ks_ini_get(ini, S, "dependencies");
    if (deps && *deps && strcmp(deps, "first") != 0) {
        if (strcmp(deps, "last") != 0) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: 'dependencies' in [migration] must be first (a needed server "
                         "moves before the servers that need it) or last, not '%s'",
                         ks_ini_filename(ini), ks_ini_line(ini, S, "dependencies"), deps);
            return -1;
        }
        p->deps_last = true;
    }
    const char *sd = ks_ini_get(ini, S, "start_date");
    if (sd && *sd) {
        if (!ks_date_parse(sd, &p->start_date)) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: 'start_date' in [migration] must be a date like 2027-01-04 "
                         "(the day the first window may start), not '%s'",
                         ks_ini_filename(ini), ks_ini_line(ini, S, "start_date"), sd);
            return -1;
        }
    } else {
        /* the first day of 'days' after default_start's day */
        time_t t = default_start < 0 ? 0 : default_start;
        p->start_date = t - t % DAY + DAY;
        for (int i = 0; i < 7; i++) {
            struct tm tm;
            gmtime_r(&p->start_date, &tm);
            if (p->days & (1u << tm.tm_wday))
                break;
            p->start_date += DAY;
        }
    }
    return 0;
}

/* ---- Dependencies -------------------------------------------------------- */

/* Kahn's algorithm over n nodes and the edges from[e] -> to[e] (from ends
 * before to starts): order[] gets the nodes, among those ready the highest
 * prio first (prio NULL: all equal), then the lowest index. Returns how many
 * were ordered; fewer than n means a cycle among the others, and *cycle
 * (caller frees) then gets one of those cycles as "'a' needs 'b' needs
 * 'a'", reading the edges backwards (to needs from). */
static size_t topo_order(size_t n, const size_t *from, const size_t *to, size_t nedges,
                         const double *prio, const char *const *names, size_t *order, char **cycle)
{
    size_t *indeg = ks_calloc(n + 1, sizeof *indeg);
    bool *done = ks_calloc(n + 1, sizeof *done);
    for (size_t e = 0; e < nedges; e++)
        indeg[to[e]]++;
    size_t k;
    for (k = 0; k < n; k++) {
        size_t best = NONE;
        for (size_t i = 0; i < n; i++)
            if (!done[i] && !indeg[i] && (best == NONE || (prio && prio[i] > prio[best])))
                best = i;
        if (best == NONE)
            break;
        done[best] = true;
        order[k] = best;
        for (size_t e = 0; e < nedges; e++)
            if (from[e] == best)
                indeg[to[e]]--;
    }
    if (k < n && cycle) {
        /* every node left has a predecessor left: walk back until one repeats */
        size_t *seen = ks_calloc(n + 1, sizeof *seen); /* step + 1 of the visit */
        size_t *path = ks_calloc(n + 1, sizeof *path);
        size_t v = 0, len = 0;
        while (done[v])
            v++;
        while (!seen[v]) {
            seen[v] = ++len;
            path[len - 1] = v;
            for (size_t e = 0; e < nedges; e++)
                if (to[e] == v && !done[from[e]]) {
                    v = from[e];
                    break;
                }
        }
        ks_buf b;
        ks_buf_init(&b, 1 << 16);
        for (size_t i = seen[v] - 1; i < len; i++)
            ks_buf_printf(&b, "'%s' needs ", names[path[i]]);
        ks_buf_printf(&b, "'%s'", names[v]);
        *cycle = ks_buf_steal(&b);
        free(seen);
        free(path);
    }
    free(indeg);
    free(done);
    return k;
}

/* The names of a comma- or blank-separated list, each looked up in
 * names[]: appended to *idx. -1 with err naming the unknown one. */
static int lookup_list(const ks_ini *ini, const char *sec, const char *key,
                       const char *const *names, size_t n, size_t **idx, size_t *nidx,
                       ks_error *err)
{
    const char *p = ks_ini_get(ini, sec, key);
    while (p && *p) {
        p += strspn(p, ", \t");
        size_t len = strcspn(p, ", \t");
        if (!len)
            break;
        size_t k;
        for (k = 0; k < n; k++)
            if (strlen(names[k]) == len && strncmp(names[k], p, len) == 0)
                break;
        if (k == n) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: [%s] names '%.*s', which is not in inventory.csv: fix the name "
                         "or remove it",
                         ks_ini_filename(ini), ks_ini_line(ini, sec, key), sec, (int)len, p);
            return -1;
        }
        *idx = ks_reallocarray(*idx, *nidx + 1, sizeof **idx);
        (*idx)[(*nidx)++] = k;
        p += len;
    }
    return 0;
}

/* A cycle anywhere is an error, also among servers that are not moved. */
static int check_acyclic(const ks_ini *ini, const char *const *names, size_t n,
                         const ana_night_dep *deps, size_t ndeps, ks_error *err)
{
    size_t *from = ks_calloc(ndeps + 1, sizeof *from), *to = ks_calloc(ndeps + 1, sizeof *to);
    size_t *order = ks_calloc(n + 1, sizeof *order);
    for (size_t e = 0; e < ndeps; e++) {
        from[e] = deps[e].need;
        to[e] = deps[e].server;
    }
    char *cycle = NULL;
    size_t k = topo_order(n, from, to, ndeps, NULL, names, order, &cycle);
    free(from);
    free(to);
    free(order);
    if (k == n)
        return 0;
    ks_error_set(err, KS_E_CONFIG, 0,
                 "%s: the [depends ...] sections make a cycle: %s; no order of the conversions "
                 "satisfies it: remove one of these needs",
                 ks_ini_filename(ini), cycle);
    free(cycle);
    return -1;
}

int ana_depends_parse(const ks_ini *ini, const char *const *names, size_t n, ana_night_dep **deps,
                      size_t *ndeps, ks_error *err)
{
    *deps = NULL;
    *ndeps = 0;
    size_t *srv = NULL, *need = NULL, nsrv = 0, nneed = 0;
    for (size_t i = 0; i < ks_ini_section_count(ini); i++) {
        const char *sec = ks_ini_section_name(ini, i);
        if (strncmp(sec, "depends ", 8) != 0)
            continue;
        nsrv = nneed = 0;
        if (lookup_list(ini, sec, "servers", names, n, &srv, &nsrv, err) < 0 ||
            lookup_list(ini, sec, "needs", names, n, &need, &nneed, err) < 0)
            goto fail;
        if (!nsrv || !nneed) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s: [%s] needs 'servers = NAME, ...' (the servers that depend) and "
                         "'needs = NAME, ...' (the servers they need), all in inventory.csv",
                         ks_ini_filename(ini), sec);
            goto fail;
        }
        for (size_t a = 0; a < nsrv; a++)
            for (size_t b = 0; b < nneed; b++) {
                *deps = ks_reallocarray(*deps, *ndeps + 1, sizeof **deps);
                (*deps)[(*ndeps)++] = (ana_night_dep){.server = srv[a], .need = need[b]};
            }
    }
    free(srv);
    free(need);
    srv = need = NULL;
    if (check_acyclic(ini, names, n, *deps, *ndeps, err) < 0)
        goto fail;
    return 0;
fail:
    free(srv);
    free(need);
    free(*deps);
    *deps = NULL;
    *ndeps = 0;
    return -1;
}

/* ---- Scheduling ---------------------------------------------------------- */

long ana_night_minutes(const ana_night_policy *p, double disk_gib)
{
    double gib = isnan(disk_gib) || disk_gib < 0 ? p->default_disk_gib : disk_gib;
    double m = gib * 8192.0 / p->bandwidth_mbps / 60.0 + p->conversion_min + p->validation_min;
    long r = (long)ceil(m - 1e-9); /* 50.0000000001 is 50 */
    return r < 1 ? 1 : r;
}

/* Make sure nights[0..k] exist: the windows that start on a day of
 * p->days, from p->start_date on. */
static void nights_reach(ana_schedule *s, const ana_night_policy *p, size_t k, size_t *cap)
{
    while (s->nnights <= k) {
        time_t day = s->nnights ? s->nights[s->nnights - 1].start -
                                      s->nights[s->nnights - 1].start % DAY + DAY
                                : p->start_date;
        for (;;) {
            struct tm tm;
            gmtime_r(&day, &tm);
            if (p->days & (1u << tm.tm_wday))
                break;
            day += DAY;
        }
        if (s->nnights == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            s->nights = ks_reallocarray(s->nights, *cap, sizeof *s->nights);
        }
        ana_night *nt = &s->nights[s->nnights++];
        memset(nt, 0, sizeof *nt);
        nt->start = day + (time_t)p->window_start * 60;
        nt->end = day + (time_t)p->window_end * 60 + (p->window_end <= p->window_start ? DAY : 0);
        nt->lane_end = ks_calloc(p->max_parallel, sizeof *nt->lane_end);
        for (unsigned l = 0; l < p->max_parallel; l++)
            nt->lane_end[l] = nt->start;
    }
}

static bool anti_conflict(const ana_nights_in *in, const ana_night *nt, size_t i)
{
    int g = in->items[i].anti_group;
    if (g < 0)
        return false;
    for (size_t j = 0; j < nt->nitems; j++)
        if (in->items[nt->items[j]].anti_group == g)
            return true;
    return false;
}

/* Put item i into the first night from which it fits, given the earliest
 * time its dependencies allow. */
static void place(const ana_nights_in *in, ana_schedule *s, size_t i, time_t earliest, size_t *cap)
{
    const ana_night_policy *p = in->pol;
    ana_night_slot *sl = &s->slot[i];
    time_t dur = (time_t)sl->minutes * 60;
    for (size_t k = 0;; k++) {
        nights_reach(s, p, k, cap);
        ana_night *nt = &s->nights[k];
        if (nt->end <= earliest || (sl->risky && k == 0))
            continue;
        if (nt->exclusive) {
            sl->full_skipped++;
            continue;
        }
        if (anti_conflict(in, nt, i)) {
            sl->anti_skipped++;
            continue;
        }
        time_t start = 0;
        unsigned lane = 0;
        if (sl->own_night) {
            /* alone, from the window's start, running past its end */
            if (nt->nitems || earliest > nt->start) {
                sl->full_skipped += nt->nitems > 0;
                continue;
            }
            start = nt->start;
            nt->exclusive = true;
        } else {
            bool found = false;
            for (unsigned l = 0; l < p->max_parallel; l++) {
                time_t t = nt->lane_end[l] > earliest ? nt->lane_end[l] : earliest;
                if (t + dur <= nt->end && (!found || t < start)) {
                    found = true;
                    start = t;
                    lane = l;
                }
            }
            if (!found) {
                sl->full_skipped++;
                continue;
            }
        }
        nt->lane_end[lane] = start + dur;
        sl->night = k;
        sl->lane = lane + 1;
        sl->start = start;
        sl->end = start + dur;
        nt->items = ks_reallocarray(nt->items, nt->nitems + 1, sizeof *nt->items);
        /* keep the night's servers by start, then lane */
        size_t j = nt->nitems++;
        while (j > 0) {
            const ana_night_slot *o = &s->slot[nt->items[j - 1]];
            if (o->start < start || (o->start == start && o->lane < sl->lane))
                break;
            nt->items[j] = nt->items[j - 1];
            j--;
        }
        nt->items[j] = i;
        nt->busy_minutes += sl->minutes;
        return;
    }
}

int ana_nights_plan(const ana_nights_in *in, ana_schedule *out, ks_error *err)
{
    const ana_night_policy *p = in->pol;
    size_t n = in->nitems;
    memset(out, 0, sizeof *out);
    out->slot = ks_calloc(n + 1, sizeof *out->slot);

    double max_disk = 0;
    for (size_t i = 0; i < n; i++) {
        ana_night_slot *sl = &out->slot[i];
        double d = in->items[i].disk_gib;
        sl->disk_default = isnan(d) || d < 0;
        sl->disk_gib = sl->disk_default ? p->default_disk_gib : d;
        sl->minutes = ana_night_minutes(p, sl->disk_gib);
        sl->own_night = sl->minutes * 60 > (p->window_end - p->window_start) * 60 +
                                               (p->window_end <= p->window_start ? DAY : 0);
        sl->after = NONE;
        max_disk = sl->disk_gib > max_disk ? sl->disk_gib : max_disk;
    }
    /* risk: the largest and the busiest are the hardest to convert and the
     * most missed when it fails */
    double *risk = ks_calloc(n + 1, sizeof *risk);
    size_t *by_risk = ks_calloc(n + 1, sizeof *by_risk);
    for (size_t i = 0; i < n; i++) {
        double c = in->items[i].cpu_share;
        risk[i] = (max_disk > 0 ? out->slot[i].disk_gib / max_disk : 0) + (isnan(c) ? 0 : c);
        out->slot[i].risk = risk[i];
    }
    topo_order(n, NULL, NULL, 0, risk, NULL, by_risk, NULL); /* no edges: a sort by risk */
    size_t nrisky = n >= 3 ? (n / 10 ? n / 10 : 1) : 0;
    for (size_t r = 0; r < nrisky; r++)
        out->slot[by_risk[r]].risky = true;

    /* the order: dependencies, then risk */
    size_t *from = ks_calloc(in->ndeps + 1, sizeof *from),
           *to = ks_calloc(in->ndeps + 1, sizeof *to);
    const char **names = ks_calloc(n + 1, sizeof *names);
    for (size_t i = 0; i < n; i++)
        names[i] = in->items[i].name;
    for (size_t e = 0; e < in->ndeps; e++) {
        from[e] = p->deps_last ? in->deps[e].server : in->deps[e].need;
        to[e] = p->deps_last ? in->deps[e].need : in->deps[e].server;
    }
    size_t *order = ks_calloc(n + 1, sizeof *order);
    char *cycle = NULL;
    size_t k = topo_order(n, from, to, in->ndeps, risk, names, order, &cycle);
    int rc = 0;
    if (k < n) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "study.ini: the [depends ...] sections make a cycle: %s; no order of the "
                     "conversions satisfies it: remove one of these needs",
                     cycle);
        ana_schedule_free(out);
        rc = -1;
    }
    size_t cap = 0;
    for (size_t r = 0; rc == 0 && r < n; r++) {
        size_t i = order[r];
        ana_night_slot *sl = &out->slot[i];
        sl->order = r;
        time_t earliest = 0;
        for (size_t e = 0; e < in->ndeps; e++)
            if (to[e] == i && out->slot[from[e]].end > earliest) {
                earliest = out->slot[from[e]].end;
                sl->after = from[e];
            }
        place(in, out, i, earliest, &cap);
    }
    free(cycle);
    free(order);
    free(names);
    free(from);
    free(to);
    free(risk);
    free(by_risk);
    return rc;
}

void ana_schedule_free(ana_schedule *s)
{
    for (size_t k = 0; k < s->nnights; k++) {
        free(s->nights[k].items);
        free(s->nights[k].lane_end);
    }
    free(s->nights);
    free(s->slot);
    memset(s, 0, sizeof *s);
}

/* ---- Output -------------------------------------------------------------- */

static void fmt_date(time_t t, char *buf, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d", &tm);
}

static void fmt_hhmm(time_t t, char *buf, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%H:%M", &tm);
}

static char *estimate_basis(const ana_night_policy *p, const ana_night_slot *sl)
{
    if (sl->disk_default)
        return ks_asprintf("no disk use in the facts: %g GiB assumed (default_disk_gib) copied "
                           "at %g Mbit/s, + %g min conversion + %g min validation",
                           p->default_disk_gib, p->bandwidth_mbps, p->conversion_min,
                           p->validation_min);
    return ks_asprintf("%.1f GiB used (facts, all file systems) copied at %g Mbit/s, + %g min "
                       "conversion + %g min validation",
                       sl->disk_gib, p->bandwidth_mbps, p->conversion_min, p->validation_min);
}

static long window_minutes(const ana_night_policy *p)
{
    return p->window_end - p->window_start + (p->window_end <= p->window_start ? 1440 : 0);
}

json_t *ana_nights_json(const ana_nights_in *in, const ana_schedule *s)
{
    json_t *arr = json_array();
    char buf[64];
    for (size_t k = 0; k < s->nnights; k++) {
        const ana_night *nt = &s->nights[k];
        if (!nt->nitems)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "night", json_integer((json_int_t)k + 1));
        fmt_date(nt->start, buf, sizeof buf);
        json_object_set_new(o, "date", json_string(buf));
        ks_time_iso(nt->start, buf);
        json_object_set_new(o, "start", json_string(buf));
        ks_time_iso(nt->end, buf);
        json_object_set_new(o, "end", json_string(buf));
        json_object_set_new(o, "busy_minutes", json_integer(nt->busy_minutes));
        json_t *srv = json_array();
        for (size_t j = 0; j < nt->nitems; j++) {
            size_t i = nt->items[j];
            const ana_night_slot *sl = &s->slot[i];
            json_t *x = json_object();
            json_object_set_new(x, "name", json_string(in->items[i].name));
            ks_time_iso(sl->start, buf);
            json_object_set_new(x, "start", json_string(buf));
            ks_time_iso(sl->end, buf);
            json_object_set_new(x, "end", json_string(buf));
            json_object_set_new(x, "estimated_minutes", json_integer(sl->minutes));
            json_object_set_new(x, "lane", json_integer(sl->lane));
            char *basis = estimate_basis(in->pol, sl);
            json_object_set_new(x, "estimate_basis", json_string(basis));
            free(basis);
            json_object_set_new(x, "risk", json_real(round(sl->risk * 1000) / 1000));
            if (sl->own_night) {
                char *w = ks_asprintf("estimated %ld minutes, longer than the whole %ld-minute "
                                      "window: it has the night to itself and runs past its end",
                                      sl->minutes, window_minutes(in->pol));
                json_object_set_new(x, "warning", json_string(w));
                free(w);
            } else {
                json_object_set_new(x, "warning", json_null());
            }
            json_array_append_new(srv, x);
        }
        json_object_set_new(o, "servers", srv);
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *ana_night_policy_json(const ana_night_policy *p)
{
    json_t *o = json_object();
    char buf[32];
    fmt_date(p->start_date, buf, sizeof buf);
    json_object_set_new(o, "start_date", json_string(buf));
    snprintf(buf, sizeof buf, "%02d:%02d", p->window_start / 60, p->window_start % 60);
    json_object_set_new(o, "window_start", json_string(buf));
    snprintf(buf, sizeof buf, "%02d:%02d", p->window_end / 60, p->window_end % 60);
    json_object_set_new(o, "window_end", json_string(buf));
    json_t *days = json_array();
    for (int d = 1; d <= 7; d++) /* monday first */
        if (p->days & (1u << (d % 7)))
            json_array_append_new(days, json_string(day_names[d % 7]));
    json_object_set_new(o, "days", days);
    json_object_set_new(o, "max_parallel", json_integer(p->max_parallel));
    json_object_set_new(o, "bandwidth_mbps", json_real(p->bandwidth_mbps));
    json_object_set_new(o, "conversion_minutes", json_real(p->conversion_min));
    json_object_set_new(o, "validation_minutes", json_real(p->validation_min));
    json_object_set_new(o, "default_disk_gib", json_real(p->default_disk_gib));
    json_object_set_new(o, "dependencies", json_string(p->deps_last ? "last" : "first"));
    json_object_set_new(o, "timezone", json_string("UTC"));
    return o;
}

void ana_nights_table(const ana_nights_in *in, const ana_schedule *s, ks_buf *b)
{
    size_t used = 0;
    for (size_t k = 0; k < s->nnights; k++)
        used += s->nights[k].nitems > 0;
    if (!in->nitems) {
        ks_buf_printf(b, "migration: no server to move\n");
        return;
    }
    ks_buf_printf(b, "migration: %zu servers over %zu nights, at most %u at once (times in UTC)\n",
                  in->nitems, used, in->pol->max_parallel);
    ks_buf_printf(b, "%5s  %-10s  %-11s  %7s  %8s\n", "NIGHT", "DATE", "WINDOW", "SERVERS",
                  "BUSY MIN");
    char date[32], ws[16], we[16];
    for (size_t k = 0; k < s->nnights; k++) {
        const ana_night *nt = &s->nights[k];
        if (!nt->nitems)
            continue;
        fmt_date(nt->start, date, sizeof date);
        fmt_hhmm(nt->start, ws, sizeof ws);
        fmt_hhmm(nt->end, we, sizeof we);
        ks_buf_printf(b, "%5zu  %-10s  %5s-%5s  %7zu  %8ld\n", k + 1, date, ws, we, nt->nitems,
                      nt->busy_minutes);
    }
    for (size_t i = 0; i < in->nitems; i++)
        if (s->slot[i].own_night)
            ks_buf_printf(b,
                          "  %s: estimated %ld minutes, longer than a whole window: alone on "
                          "night %zu, running past its end\n",
                          in->items[i].name, s->slot[i].minutes, s->slot[i].night + 1);
}

void ana_nights_explain(const ana_nights_in *in, const ana_schedule *s, size_t i, ks_buf *b)
{
    const ana_night_slot *sl = &s->slot[i];
    const ana_night *nt = &s->nights[sl->night];
    char date[32], t0[16], t1[16];
    fmt_date(nt->start, date, sizeof date);
    fmt_hhmm(sl->start, t0, sizeof t0);
    fmt_hhmm(sl->end, t1, sizeof t1);
    char *basis = estimate_basis(in->pol, sl);
    ks_buf_printf(b,
                  "  migration: night %zu (%s), lane %u, %s to %s UTC, estimated %ld min (%s); "
                  "number %zu of %zu in the order (dependencies first, then risk %.2f = disk "
                  "used against the largest + CPU share of a host)",
                  sl->night + 1, date, sl->lane, t0, t1, sl->minutes, basis, sl->order + 1,
                  in->nitems, sl->risk);
    free(basis);
    if (sl->risky)
        ks_buf_printf(b, "; among the riskiest, so never on night 1");
    const char *verb = in->pol->deps_last ? "is needed by" : "needs";
    for (size_t e = 0; e < in->ndeps; e++) {
        const ana_night_dep *d = &in->deps[e];
        if (d->server == i)
            ks_buf_printf(b, "; it needs '%s'", in->items[d->need].name);
        if (d->need == i)
            ks_buf_printf(b, "; '%s' needs it", in->items[d->server].name);
    }
    if (sl->after != NONE)
        ks_buf_printf(b,
                      "; it waits for '%s' to end (dependencies = %s: each server after the "
                      "one it %s)",
                      in->items[sl->after].name, in->pol->deps_last ? "last" : "first", verb);
    if (sl->anti_skipped)
        ks_buf_printf(b,
                      "; %zu earlier night(s) skipped: a member of its anti-affinity group is "
                      "there",
                      sl->anti_skipped);
    if (sl->full_skipped)
        ks_buf_printf(b, "; %zu earlier night(s) had no room left", sl->full_skipped);
    if (sl->own_night)
        ks_buf_printf(b, "; longer than the whole %ld-minute window: alone on its night",
                      window_minutes(in->pol));
    ks_buf_printf(b, "\n");
}
