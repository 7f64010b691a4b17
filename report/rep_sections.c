/* rep_sections.c: the report's HTML: index.html section by section
 * (summary, method and limits, eligibility, placements, scenarios,
 * migration nights, data quality) and the pages of large studies
 * (servers/NAME.html, hosts/HOST.html).
 *
 * The tables sit between "<!-- table NAME -->" and "<!-- /table -->"
 * comments and hold nothing but the study's data: the golden test compares
 * them; the generation time and the charts stay outside.
 */
#include "rep_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_fs.h"
#include "ks_json.h"
#include "ks_mem.h"
#include "ks_progress.h"
#include "ks_study.h"
#include "ks_time.h"

/* A server's chart, or, when nothing of it was measured in the study
 * period, a note that says so (there is nothing to draw). */
static void server_figure(const rep_doc *d, const rep_srv *s, const char *caption_html, ks_buf *b)
{
    if (s->chart >= 0) {
        rep_charts_figure(d->charts, (size_t)s->chart, caption_html, b);
        return;
    }
    char from[32], to[32];
    struct tm tm;
    time_t t1 = d->t0 + (time_t)d->nslots * d->step;
    gmtime_r(&d->t0, &tm);
    strftime(from, sizeof from, "%Y-%m-%d %H:%M", &tm);
    gmtime_r(&t1, &tm);
    strftime(to, sizeof to, "%Y-%m-%d %H:%M", &tm);
    ks_buf_printf(b,
                  "<p class=\"note\">No chart: nothing of this server was measured in the study "
                  "period (%s to %s UTC). Collect or import its load for that period, or set "
                  "[policy] start and end to when it was measured.</p>\n",
                  from, to);
}

static const char *const weekdays[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

/* The golden tests cut the tables out between these comments. mark holds
 * host and scenario names: a "--" or ">" in it must not end the comment. */
static void table_begin(ks_buf *b, const char *mark)
{
    ks_buf_appends(b, "<!-- table ");
    for (const char *p = mark; *p; p++)
        ks_buf_printf(b, "%c", *p == '-' && p[1] == '-' ? '_' : *p == '>' ? '_' : *p);
    ks_buf_appends(b, " -->\n");
}

static void table_end(ks_buf *b)
{
    ks_buf_appends(b, "<!-- /table -->\n");
}

static void td_num(ks_buf *b, double v, int prec)
{
    char n[48];
    ks_buf_printf(b, "<td class=\"n\">%s</td>", rep_num(n, v, prec));
}

static void td_text(ks_buf *b, const char *s)
{
    ks_buf_appends(b, "<td>");
    rep_html(b, s);
    ks_buf_appends(b, "</td>");
}

static void kv_row(ks_buf *b, const char *key, const char *value_html)
{
    ks_buf_printf(b, "<tr><th>%s</th><td>%s</td></tr>\n", key, value_html);
}

static const char *status_words(const char *st)
{
    if (strcmp(st, "eligible") == 0)
        return "eligible";
    if (strcmp(st, "conditional") == 0)
        return "conditional";
    if (strcmp(st, "not_eligible") == 0)
        return "not eligible";
    return st;
}

static void hhmm(const char *iso, char out[8])
{
    /* "2026-01-15T20:00:00Z" */
    snprintf(out, 8, "%.5s", strlen(iso) >= 16 ? iso + 11 : "?");
}

/* "16 Mar" */
static void fmt_day(time_t t, char *buf, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%d %b", &tm);
}

static void notes_html(const rep_doc *d, const rep_charts *charts, ks_buf *b)
{
    if (d->stale) {
        ks_buf_appends(b, "<p class=\"note bad\">");
        rep_html(b, d->stale);
        ks_buf_appends(b, ".</p>\n");
    }
    if (rep_charts_failed(charts)) {
        const char *why = NULL;
        for (size_t i = 0; !why && i < rep_charts_count(charts); i++)
            why = rep_charts_note(charts, i);
        ks_buf_printf(b,
                      "<p class=\"note bad\">%zu of %zu charts could not be drawn, each replaced "
                      "by a note; the first says: ",
                      rep_charts_failed(charts), rep_charts_count(charts));
        rep_html(b, why ? why : "");
        ks_buf_appends(b, ". The tables are complete.</p>\n");
    }
}

static void section_summary(const rep_doc *d, ks_buf *b)
{
    const json_t *cnt = json_object_get(d->jsum, "servers");
    const json_t *recs =
        d->rec >= 0 ? json_array_get(json_object_get(d->jsum, "scenarios"), (size_t)d->rec) : NULL;
    const json_t *recj = d->rec >= 0 ? rep_scenario_json(d, (size_t)d->rec) : NULL;
    const json_t *before = json_object_get(d->pj, "before");
    const json_t *period = json_object_get(d->pj, "period");
    char n[48], v[512];
    ks_buf_appends(b, "<section id=\"summary\">\n<h2>Summary</h2>\n");
    table_begin(b, "summary");
    ks_buf_appends(b, "<table class=\"kv\">\n");
    double days = (double)d->nslots * (double)d->step / 86400.0;
    snprintf(v, sizeof v, "%s to %s (%.1f days, %zu slots of %ld minutes), UTC",
             rep_jstr(period, "start"), rep_jstr(period, "end"), days, d->nslots, d->step / 60);
    kv_row(b, "Study period", v);
    snprintf(v, sizeof v, "%.0f", rep_jnum(cnt, "total"));
    kv_row(b, "Servers studied", v);
    snprintf(v, sizeof v,
             "%.0f eligible, %.0f conditional (they can move once their condition is "
             "handled), %.0f not eligible",
             rep_jnum(cnt, "eligible"), rep_jnum(cnt, "conditional"),
             rep_jnum(cnt, "not_eligible"));
    kv_row(b, "Verdicts", v);
    if (recs) {
        ks_buf e;
        ks_buf_init(&e, 4096);
        ks_buf f;
        ks_buf_init(&f, 4096);
        rep_fleet_text(d, recj, &f);
        rep_html(&e, rep_jstr(recs, "name"));
        ks_buf_appends(&e, " (");
        rep_html(&e, ks_buf_str(&f));
        ks_buf_appends(&e, json_is_true(json_object_get(recj, "mixed")) ? ")" : " per host)");
        ks_buf_free(&f);
        kv_row(b, "Recommended host model", ks_buf_str(&e));
        ks_buf_free(&e);
        double hosts = rep_jnum(recs, "hosts"), placed = rep_jnum(recs, "placed");
        snprintf(v, sizeof v, "%.0f (no placement can use fewer than %.0f)", hosts,
                 rep_jnum(recs, "lower_bound"));
        kv_row(b, "Hosts needed", v);
        snprintf(v, sizeof v, "%.0f of %.0f", placed, rep_jnum(cnt, "total"));
        kv_row(b, "Servers moved to VMs", v);
        snprintf(v, sizeof v, "%s : 1 (servers retired per host)",
                 rep_num(n, hosts > 0 ? placed / hosts : NAN, 1));
        kv_row(b, "Consolidation ratio", v);
        double pb = rep_jnum(before, "power_kwh_year"), pa = rep_jnum(recs, "power_kwh_year");
        if (isnan(pb))
            snprintf(v, sizeof v,
                     "not known: give each server's average watts in study.ini [server-power]");
        else
            snprintf(v, sizeof v, "%.0f kWh/year (%.0f servers retired)", pb,
                     rep_jnum(before, "servers_retired"));
        kv_row(b, "Power before", v);
        if (isnan(pa))
            snprintf(v, sizeof v,
                     "not known: give power_idle_w and power_max_w of the host "
                     "model in study.ini");
        else
            snprintf(v, sizeof v, "%.0f kWh/year", pa);
        kv_row(b, "Power after", v);
        snprintf(v, sizeof v, "not recorded in the study (%.0f physical servers retired)",
                 rep_jnum(before, "servers_retired"));
        kv_row(b, "Rack space before", v);
        double ru = rep_jnum(recs, "rack_units");
        if (isnan(ru))
            snprintf(v, sizeof v, "not known: give rack_units of the host model in study.ini");
        else
            snprintf(v, sizeof v, "%.0f U", ru);
        kv_row(b, "Rack space after", v);
        double cost = rep_jnum(recs, "cost");
        if (isnan(cost))
            snprintf(v, sizeof v, "not known: give cost of the host model in study.ini");
        else
            snprintf(v, sizeof v, "%.0f (hosts x the model's cost)", cost);
        kv_row(b, "Cost of the hosts", v);
        const json_t *nights = json_object_get(d->pj, "nights");
        size_t nn = json_array_size(nights);
        if (nn)
            snprintf(v, sizeof v, "%zu nights with conversions, %s to %s", nn,
                     rep_jstr(json_array_get(nights, 0), "date"),
                     rep_jstr(json_array_get(nights, nn - 1), "date"));
        else
            snprintf(v, sizeof v, "none planned");
        kv_row(b, "Migration", v);
    } else {
        kv_row(b, "Recommended host model",
               "none: no scenario places any server (see the eligibility table)");
    }
    ks_buf_appends(b, "</table>\n");
    if (json_is_string(json_object_get(d->pj, "recommended_reason"))) {
        ks_buf_appends(b, "<p>Why: ");
        rep_html(b, rep_jstr(d->pj, "recommended_reason"));
        ks_buf_appends(b, ".</p>\n");
    }
    table_end(b);
    if (d->fleet_chart >= 0)
        rep_charts_figure(d->charts, (size_t)d->fleet_chart,
                          "The recommended scenario: the CPU demand of all its VMs (as packed: "
                          "on the host model's CPU, with headroom) in each slot, against the "
                          "capacity of its hosts and their limit. Each point is the busiest "
                          "slot of its stretch.",
                          b);
    ks_buf_appends(b, "</section>\n");
}

static void section_method(const rep_doc *d, ks_buf *b)
{
    const json_t *p = d->jpol;
    char n[4][48];
    ks_buf_appends(b, "<section id=\"method\">\n<h2>Method and limits</h2>\n");
    ks_buf_printf(
        b,
        "<p>Each server's CPU, memory, disk and network load was sampled (or imported) over "
        "the study period and cut into slots of %ld minutes; a slot holds the highest "
        "5-minute average in it. A slot without data holds the server's median of that hour "
        "of day and counts against its confidence. Each server is judged eligible, "
        "conditional or not eligible with its reasons; each VM is sized on the %sth "
        "percentile of its slots plus %s %% headroom (whole vCPUs, memory in 512 MiB steps). "
        "The VMs are then packed slot by slot onto hosts of each host model, so that no host "
        "goes above %s %% CPU or %s %% memory in any slot: VMs that are busy at different "
        "hours share a host. One scenario per host model, and with two models or more a "
        "mixed one (hosts of the largest model, each turned into the cheapest model its VMs "
        "fit); hosts that exist already are filled first. The recommended scenario places "
        "the most servers, then costs least, then needs the fewest hosts, then uses the "
        "least power. All times are UTC.</p>\n",
        d->step / 60, rep_num(n[0], rep_jnum(p, "percentile"), 0),
        rep_num(n[1], rep_jnum(p, "headroom_percent"), 0),
        rep_num(n[2], rep_jnum(p, "cpu_max_percent"), 0),
        rep_num(n[3], rep_jnum(p, "memory_max_percent"), 0));
    table_begin(b, "policy");
    ks_buf_appends(b, "<table class=\"kv\">\n");
    static const struct {
        const char *key, *what;
        int prec;
    } rows[] = {
        {"percentile", "demand: this percentile of the slots", 0},
        {"headroom_percent", "added to CPU and memory demand, %", 0},
        {"max_host_share_percent", "a server needing more of one host is too busy, %", 0},
        {"min_confidence_percent", "share of the slots that must be measured, %", 0},
        {"cpu_max_percent", "highest CPU use of a host in any slot, %", 0},
        {"memory_max_percent", "highest memory use of a host, %", 0},
        {"host_cpu_overhead_mhz", "hypervisor's own CPU per host, MHz", 0},
        {"host_memory_overhead_gib", "hypervisor's own memory per host, GiB", 1},
        {"vm_memory_overhead_mib", "memory overhead per VM, MiB", 0},
        {"vcpu_ratio", "vCPUs per physical core at most (0: no limit)", 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ks_buf_printf(b, "<tr><th>%s</th><td class=\"n\">%s</td><td>%s</td></tr>\n", rows[i].key,
                      rep_num(n[0], rep_jnum(p, rows[i].key), rows[i].prec), rows[i].what);
    }
    ks_buf_printf(b, "<tr><th>n_plus_1</th><td>%s</td><td>room to lose any one host</td></tr>\n",
                  json_is_true(json_object_get(p, "n_plus_1")) ? "yes" : "no");
    ks_buf_printf(b,
                  "<tr><th>allow_upsize</th><td>%s</td><td>may a VM get more than the "
                  "source had</td></tr>\n",
                  json_is_true(json_object_get(p, "allow_upsize")) ? "yes" : "no");
    ks_buf_appends(b, "<tr><th>hardware_blockers</th><td>");
    rep_html(b, rep_jstr(p, "hardware_blockers"));
    ks_buf_appends(b, "</td><td>what USB dongles, FC HBAs and GPUs make a server</td></tr>\n"
                      "<tr><th>physical_roles</th><td>");
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(p, "physical_roles"), i, e)
    {
        if (i)
            ks_buf_appends(b, ", ");
        rep_html(b, json_string_value(e) ? json_string_value(e) : "");
    }
    ks_buf_appends(b, "</td><td>inventory roles kept physical</td></tr>\n</table>\n");
    table_end(b);

    ks_buf_appends(b, "<h3>Host models</h3>\n");
    table_begin(b, "models");
    ks_buf_appends(b, "<table>\n<thead><tr><th>model</th><th class=\"n\">cores</th><th "
                      "class=\"n\">MHz</th><th class=\"n\">memory GiB</th><th "
                      "class=\"n\">storage MB/s</th><th class=\"n\">IOPS</th><th "
                      "class=\"n\">power idle W</th><th class=\"n\">power max W</th><th "
                      "class=\"n\">cost</th><th class=\"n\">rack units</th><th "
                      "class=\"n\">speed factor</th></tr></thead>\n<tbody>\n");
    for (size_t sc = 0; sc < d->nsc; sc++) {
        const json_t *m = json_object_get(rep_scenario_json(d, sc), "host_model");
        if (json_is_true(json_object_get(rep_scenario_json(d, sc), "mixed")))
            continue; /* its model is one of the others */
        ks_buf_appends(b, "<tr>");
        td_text(b, rep_jstr(m, "name"));
        td_num(b, rep_jnum(m, "cores"), 0);
        td_num(b, rep_jnum(m, "mhz"), 0);
        td_num(b, rep_jnum(m, "memory_mib") / 1024, 0);
        td_num(b, rep_jnum(m, "storage_mbps"), 0);
        td_num(b, rep_jnum(m, "iops"), 0);
        td_num(b, rep_jnum(m, "power_idle_w"), 0);
        td_num(b, rep_jnum(m, "power_max_w"), 0);
        td_num(b, rep_jnum(m, "cost"), 0);
        td_num(b, rep_jnum(m, "rack_units"), 0);
        td_num(b, rep_jnum(m, "speed_factor"), 2);
        ks_buf_appends(b, "</tr>\n");
    }
    ks_buf_appends(b, "</tbody>\n</table>\n");
    table_end(b);
    ks_buf_appends(b, "<p>Limits of this plan: ");
    json_array_foreach(json_object_get(d->pj, "notes"), i, e)
    {
        if (i)
            ks_buf_appends(b, "; ");
        rep_html(b, json_string_value(e) ? json_string_value(e) : "");
    }
    ks_buf_appends(b, ". The rules are in README \u201cAnalyzing a study\u201d; "
                      "<code>kvmshift analyze STUDY --explain SERVER</code> says why one server "
                      "is where it is.</p>\n");
    if (d->heat_chart >= 0) {
        ks_buf e2;
        ks_buf_init(&e2, 4096);
        ks_buf_printf(&e2,
                      "Fleet CPU use by hour of day (UTC) and weekday: in each slot, the sum "
                      "of the measured CPU demand (MHz) of the %zu servers whose CPU capacity "
                      "is known, over the sum of their capacity, averaged over the study "
                      "period; unmeasured slots are left out.",
                      d->heat_servers);
        ks_buf_appends(b, "<h3>Fleet load by hour and weekday</h3>\n");
        rep_charts_figure(d->charts, (size_t)d->heat_chart, ks_buf_str(&e2), b);
        ks_buf_free(&e2);
    } else {
        ks_buf_appends(b, "<p class=\"note\">No heat map: no server's CPU capacity is known "
                          "(facts cpu.cores and cpu.mhz).</p>\n");
    }
    ks_buf_appends(b, "</section>\n");
}

static void server_link(const rep_doc *d, size_t i, ks_buf *b)
{
    if (d->server_pages)
        ks_buf_appends(b, "<a href=\"servers/");
    else
        ks_buf_appends(b, "<a href=\"#srv-");
    rep_html(b, d->s[i].name);
    ks_buf_appends(b, d->server_pages ? ".html\">" : "\">");
    rep_html(b, d->s[i].name);
    ks_buf_appends(b, "</a>");
}

static void reasons_html(const json_t *srv, ks_buf *b)
{
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(srv, "reasons"), i, e)
    {
        if (i)
            ks_buf_appends(b, "; ");
        rep_html(b, json_string_value(e) ? json_string_value(e) : "");
    }
}

static void section_servers(const rep_doc *d, ks_buf *b)
{
    ks_buf_appends(b, "<section id=\"eligibility\">\n<h2>Eligibility, server by server</h2>\n");
    ks_buf_appends(
        b, "<p>CPU and memory statistics are over the measured slots only. CPU % is of the "
           "server's own capacity (cores x MHz from its facts; \u2014 when unknown); p95 is "
           "the 95th percentile. Memory sized and vCPUs are the VM's size on the recommended "
           "host model. Click a column to sort; type to filter.</p>\n");
    ks_buf_appends(b, "<div class=\"filters\" data-for=\"tbl-servers\"><input type=\"search\" "
                      "placeholder=\"filter: name, role, reason...\" aria-label=\"filter the "
                      "servers\"> <select data-attr=\"status\" aria-label=\"status\"><option "
                      "value=\"\">every status</option><option "
                      "value=\"eligible\">eligible</option><option "
                      "value=\"conditional\">conditional</option><option "
                      "value=\"not_eligible\">not eligible</option></select> <span "
                      "class=\"count\"></span></div>\n");
    table_begin(b, "servers");
    ks_buf_appends(
        b, "<table class=\"sortable\" id=\"tbl-servers\">\n<thead><tr><th>server</th>"
           "<th>role</th><th>status</th><th class=\"n\">confidence %</th><th class=\"n\">CPU "
           "avg %</th><th class=\"n\">CPU p95 %</th><th class=\"n\" data-selftest=\"sort\">CPU "
           "max %</th><th class=\"n\">CPU p95 MHz</th><th class=\"n\">memory p95 %</th><th "
           "class=\"n\">memory sized MiB</th><th class=\"n\">vCPUs</th><th class=\"n\">disk "
           "used GiB</th><th class=\"n\">disk p95 MB/s</th><th class=\"n\">network p95 "
           "MB/s</th><th>reasons</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < d->ns; i++) {
        const rep_srv *s = &d->s[i];
        ks_buf_appends(b, "<tr class=\"st-");
        rep_html(b, s->status);
        ks_buf_appends(b, "\" data-status=\"");
        rep_html(b, s->status);
        ks_buf_appends(b, "\"><td>");
        server_link(d, i, b);
        ks_buf_appends(b, "</td>");
        td_text(b, s->role);
        ks_buf_printf(b, "<td class=\"st\">%s</td>", status_words(s->status));
        td_num(b, s->confidence * 100, 0);
        td_num(b, rep_pct(s->cpu_avg, s->cap), 1);
        td_num(b, rep_pct(s->cpu_p95, s->cap), 1);
        td_num(b, rep_pct(s->cpu_max, s->cap), 1);
        td_num(b, s->cpu_p95, 0);
        td_num(b, rep_pct(s->mem_p95, s->mem_total), 1);
        td_num(b, rep_jnum(s->j, "memory_mib"), 0);
        td_num(b, rep_jnum(s->j, "vcpus"), 0);
        td_num(b, rep_jnum(json_object_get(s->j, "disk"), "used_gib"), 1);
        td_num(b, s->disk_p95, 2);
        td_num(b, s->net_p95, 2);
        ks_buf_appends(b, "<td class=\"reasons\">");
        reasons_html(s->j, b);
        ks_buf_appends(b, "</td></tr>\n");
    }
    ks_buf_appends(b, "</tbody>\n</table>\n");
    table_end(b);

    ks_buf_appends(b, "<h3>Per-server charts</h3>\n");
    if (d->server_pages) {
        ks_buf_printf(b,
                      "<p>Each of the %zu servers has a page of its own with its chart "
                      "(report/servers/NAME.html): click its name in the table.</p>\n",
                      d->ns);
    } else {
        ks_buf_appends(b, "<p>CPU and memory of each server over the study period, with its "
                          "average, 95th percentile and peak; a break in a line is a slot "
                          "without data.</p>\n");
        for (size_t i = 0; i < d->ns; i++) {
            const rep_srv *s = &d->s[i];
            char n[48];
            ks_buf_appends(b, "<details id=\"srv-");
            rep_html(b, s->name);
            ks_buf_appends(b, "\"><summary>");
            rep_html(b, s->name);
            ks_buf_printf(b, " \u2014 %s, CPU p95 %s %s</summary>\n", status_words(s->status),
                          rep_num(n, isnan(s->cap) ? s->cpu_p95 : rep_pct(s->cpu_p95, s->cap), 0),
                          isnan(s->cap) ? "MHz" : "%");
            server_figure(d, s, NULL, b);
            ks_buf_appends(b, "</details>\n");
        }
    }
    ks_buf_appends(b, "</section>\n");
}

/* Is each VM's CPU held at its sized percentile by a quota ([policy]
 * cpu_cap = percentile)? Else it may draw all its vCPUs give. */
static bool cpu_capped(const rep_doc *d)
{
    return strcmp(rep_jstr(d->jpol, "cpu_cap"), "percentile") == 0;
}

static void host_caption(const rep_doc *d, size_t sc, ks_buf *b)
{
    (void)sc;
    ks_buf_printf(b,
                  "Stacked: each VM's CPU demand as packed (MHz of the host model, headroom "
                  "included, %s), the largest %d VMs apart and "
                  "the others together%s; the black line is the host's capacity, the dashed "
                  "one its limit. Each point is the busiest slot of its stretch.",
                  cpu_capped(d) ? "capped at its sized percentile, its CPU quota"
                                : "at most what its vCPUs give it",
                  REP_TOP_VMS,
                  d->host_overhead_mhz > 0 ? ", the hypervisor's own use at the bottom" : "");
}

/* One scenario's hosts: a heading, the VMs table and the chart (inline, a
 * link to its page, or nothing). */
static void scenario_hosts(const rep_doc *d, size_t sc, bool charts_inline, ks_buf *b)
{
    const json_t *js = rep_scenario_json(d, sc);
    const json_t *hosts = json_object_get(js, "hosts");
    const json_t *pls = json_object_get(js, "placements");
    size_t h;
    const json_t *ho;
    char n[48], n2[48], mark[320];
    json_array_foreach(hosts, h, ho)
    {
        const char *hn = rep_jstr(ho, "name");
        size_t count = 0, k;
        const json_t *p;
        json_array_foreach(pls, k, p)
        {
            count += strcmp(rep_jstr(p, "host"), hn) == 0;
        }
        /* host names repeat across scenarios: the recommended one's are
         * #host-NAME (linked from the server and host pages) */
        ks_buf_appends(b, "<h4 id=\"host-");
        if ((int)sc != d->rec) {
            rep_html(b, rep_jstr(rep_scenario_json(d, sc), "name"));
            ks_buf_appends(b, "-");
        }
        rep_html(b, hn);
        ks_buf_appends(b, "\">");
        rep_html(b, hn);
        const char *model = rep_jstr(ho, "model");
        bool existing = json_is_true(json_object_get(ho, "existing"));
        ks_buf_appends(b, "</h4>\n<p>");
        if (*model) {
            ks_buf_appends(b, "Model ");
            rep_html(b, model);
            ks_buf_appends(b, existing ? " (exists already); " : "; ");
        }
        if (json_is_true(json_object_get(ho, "spare")))
            ks_buf_appends(b, "no VM: the N+1 spare, room to restart the VMs of a host that "
                              "fails");
        else
            ks_buf_printf(b, "%zu VM%s; busiest slot %s %% CPU, memory %s %%", count,
                          count == 1 ? "" : "s", rep_num(n, rep_jnum(ho, "cpu_peak_percent"), 0),
                          rep_num(n2, rep_jnum(ho, "memory_percent"), 0));
        int ch = d->host_chart[sc][h];
        if (ch >= 0 && !charts_inline && (int)sc == d->rec) {
            ks_buf_appends(b, " \u2014 <a href=\"hosts/");
            rep_html(b, hn);
            ks_buf_appends(b, ".html\">its chart</a>");
        }
        ks_buf_appends(b, ".</p>\n");
        snprintf(mark, sizeof mark, "placements %s", hn);
        table_begin(b, mark);
        ks_buf_printf(b,
                      "<table class=\"sortable\">\n<thead><tr><th>server</th><th "
                      "class=\"n\">vCPUs</th><th class=\"n\">memory MiB</th><th "
                      "class=\"n\">CPU p95 MHz</th><th class=\"n\">CPU max "
                      "MHz</th><th class=\"n\">%s</th><th class=\"n\">hours held "
                      "back</th><th class=\"n\">most held back %%</th><th>status</th></tr>"
                      "</thead>\n<tbody>\n",
                      cpu_capped(d) ? "CPU quota MHz" : "vCPUs give MHz");
        json_array_foreach(pls, k, p)
        {
            if (strcmp(rep_jstr(p, "host"), hn) != 0)
                continue;
            size_t i = rep_server_index(d, rep_jstr(p, "server"));
            if (i == (size_t)-1)
                continue;
            ks_buf_appends(b, "<tr><td>");
            server_link(d, i, b);
            ks_buf_appends(b, "</td>");
            td_num(b, rep_jnum(p, "vcpus"), 0);
            td_num(b, rep_jnum(p, "memory_mib"), 0);
            td_num(b, rep_demand_p95(d, sc, i), 0);
            td_num(b, rep_demand_max(d, sc, i), 0);
            /* what it can draw there, and the measured hours it wanted
             * more (plans written before these figures have none) */
            td_num(b, rep_jnum(p, "cpu_bound_mhz"), 0);
            td_num(b, rep_jnum(p, "throttled_hours"), 0);
            td_num(b,
                   rep_jnum(p, "throttled_hours") > 0 ? rep_jnum(p, "throttled_max_percent") : NAN,
                   0);
            td_text(b, status_words(d->s[i].status));
            ks_buf_appends(b, "</tr>\n");
        }
        ks_buf_appends(b, "</tbody>\n</table>\n");
        table_end(b);
        if (ch >= 0 && charts_inline) {
            ks_buf cap;
            ks_buf_init(&cap, 4096);
            host_caption(d, sc, &cap);
            rep_charts_figure(d->charts, (size_t)ch, ks_buf_str(&cap), b);
            ks_buf_free(&cap);
        }
    }
    const json_t *left = json_object_get(js, "unplaced");
    if (json_array_size(left)) {
        snprintf(mark, sizeof mark, "unplaced %s", rep_jstr(js, "name"));
        ks_buf_appends(b, "<h4>Not placed</h4>\n");
        table_begin(b, mark);
        ks_buf_appends(b, "<table>\n<thead><tr><th>server</th><th>why</th></tr></thead>\n"
                          "<tbody>\n");
        size_t k;
        const json_t *p;
        json_array_foreach(left, k, p)
        {
            ks_buf_appends(b, "<tr>");
            td_text(b, rep_jstr(p, "server"));
            td_text(b, rep_jstr(p, "why"));
            ks_buf_appends(b, "</tr>\n");
        }
        ks_buf_appends(b, "</tbody>\n</table>\n");
        table_end(b);
    }
}

static void section_placements(const rep_doc *d, ks_buf *b)
{
    ks_buf_appends(b, "<section id=\"placements\">\n<h2>Placements per host</h2>\n");
    if (d->rec < 0) {
        ks_buf_appends(b, "<p>No scenario places any server.</p>\n</section>\n");
        return;
    }
    const json_t *recj = rep_scenario_json(d, (size_t)d->rec);
    ks_buf_appends(b, "<h3>Recommended: ");
    rep_html(b, rep_jstr(recj, "name"));
    ks_buf_printf(b, " (%zu hosts)</h3>\n", json_array_size(json_object_get(recj, "hosts")));
    /* what the CPU columns mean, and how many VMs would be short */
    size_t held = 0, k;
    const json_t *p;
    json_array_foreach(json_object_get(recj, "placements"), k, p)
    {
        held += rep_jnum(p, "throttled_hours") > 0;
    }
    ks_buf_printf(
        b,
        "<p>Each host is planned on what its VMs can really draw in every hour: %s. "
        "\"Hours held back\" counts the measured hours a VM wanted more than that "
        "(headroom aside), and \"most held back\" the largest share of its demand it "
        "would then not get: %zu of the %zu VMs here. %s</p>\n",
        cpu_capped(d) ? "each VM's CPU is capped at its sized percentile by a CPU "
                        "quota on its domain ([policy] cpu_cap = percentile)"
                      : "all its measured demand, up to what its vCPUs give",
        held, json_array_size(json_object_get(recj, "placements")),
        cpu_capped(d) ? "Those are the hours above its percentile."
        : held ? "Their vCPUs are sized below their busiest hours: at the sizing percentile, "
                 "or at most their server's cores where the hosts' are slower "
                 "(allow_upsize lifts that limit)."
               : "");
    if (d->host_pages)
        ks_buf_appends(b, "<p>With this many hosts, each host's chart is on a page of its own "
                          "(report/hosts/HOST.html), linked below.</p>\n");
    scenario_hosts(d, (size_t)d->rec, !d->host_pages, b);
    for (size_t sc = 0; sc < d->nsc; sc++) {
        if ((int)sc == d->rec)
            continue;
        const json_t *js = rep_scenario_json(d, sc);
        ks_buf_appends(b, "<details class=\"scenario\"><summary>Scenario ");
        rep_html(b, rep_jstr(js, "name"));
        ks_buf_printf(b, " (%zu hosts)</summary>\n", json_array_size(json_object_get(js, "hosts")));
        scenario_hosts(d, sc, true, b);
        ks_buf_appends(b, "</details>\n");
    }
    ks_buf_appends(b, "</section>\n");
}

static void section_scenarios(const rep_doc *d, ks_buf *b)
{
    const json_t *scs = json_object_get(d->jsum, "scenarios");
    ks_buf_appends(b, "<section id=\"scenarios\">\n<h2>Scenarios side by side</h2>\n");
    table_begin(b, "scenarios");
    ks_buf_appends(b, "<table>\n<thead><tr><th></th>");
    size_t i;
    const json_t *sc;
    json_array_foreach(scs, i, sc)
    {
        ks_buf_appends(b, (int)i == d->rec ? "<th class=\"n rec\">" : "<th class=\"n\">");
        rep_html(b, rep_jstr(sc, "name"));
        ks_buf_appends(b, (int)i == d->rec ? " (recommended)</th>" : "</th>");
    }
    ks_buf_appends(b, "</tr></thead>\n<tbody>\n");
    static const struct {
        const char *key, *label;
        int prec;
    } rows[] = {
        {"hosts", "hosts", 0},
        {"lower_bound", "lower bound (no placement uses fewer)", 0},
        {"gap", "gap to the lower bound", 0},
        {"sum_of_peaks_hosts", "hosts if every VM's peak were added", 0},
        {"placed", "servers placed", 0},
        {"unplaced", "servers that fit on no host", 0},
        {"power_kwh_year", "power, kWh/year", 0},
        {"cost", "cost of the hosts", 0},
        {"rack_units", "rack units", 0},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        ks_buf_printf(b, "<tr><th>%s</th>", rows[k].label);
        json_array_foreach(scs, i, sc)
        {
            char n[48];
            ks_buf_printf(b, "<td class=\"n%s\">%s</td>", (int)i == d->rec ? " rec" : "",
                          rep_num(n, rep_jnum(sc, rows[k].key), rows[k].prec));
        }
        ks_buf_appends(b, "</tr>\n");
    }
    ks_buf_appends(b, "<tr><th>host model</th>");
    for (size_t s = 0; s < d->nsc; s++) {
        ks_buf f;
        ks_buf_init(&f, 4096);
        rep_fleet_text(d, rep_scenario_json(d, s), &f);
        ks_buf_printf(b, "<td class=\"n%s\">", (int)s == d->rec ? " rec" : "");
        rep_html(b, ks_buf_str(&f));
        ks_buf_appends(b, "</td>");
        ks_buf_free(&f);
    }
    ks_buf_appends(b, "</tr>\n<tr><th>packed by</th>");
    for (size_t s = 0; s < d->nsc; s++) {
        ks_buf_printf(b, "<td class=\"n%s\">", (int)s == d->rec ? " rec" : "");
        rep_html(b, rep_jstr(rep_scenario_json(d, s), "algorithm"));
        ks_buf_appends(b, "</td>");
    }
    ks_buf_appends(b, "</tr>\n</tbody>\n</table>\n");
    table_end(b);
    if (d->scen_chart >= 0)
        rep_charts_figure(d->charts, (size_t)d->scen_chart,
                          "The recommended scenario in red. Panels without figures in "
                          "study.ini (power, cost, rack units) are left out.",
                          b);
    ks_buf_appends(b, "</section>\n");
}

static void section_nights(const rep_doc *d, ks_buf *b)
{
    const json_t *nights = json_object_get(d->pj, "nights");
    const json_t *mig = json_object_get(d->pj, "migration");
    ks_buf_appends(b, "<section id=\"nights\">\n<h2>Migration nights</h2>\n");
    if (!json_array_size(nights)) {
        ks_buf_appends(b, "<p>No conversions are planned (no server is placed in the "
                          "recommended scenario).</p>\n</section>\n");
        return;
    }
    ks_buf_printf(b,
                  "<p>The recommended scenario's servers are converted during nightly windows "
                  "from %s to %s UTC, %.0f at a time; each estimate is the disk used copied "
                  "at %.0f Mbit/s plus %.0f minutes of conversion and %.0f of validation. "
                  "The riskiest servers are kept off the first night.</p>\n",
                  rep_jstr(mig, "window_start"), rep_jstr(mig, "window_end"),
                  rep_jnum(mig, "max_parallel"), rep_jnum(mig, "bandwidth_mbps"),
                  rep_jnum(mig, "conversion_minutes"), rep_jnum(mig, "validation_minutes"));
    /* the calendar: Monday-first weeks from the first night to the last,
     * weeks without a night left out */
    time_t first = 0, last = 0;
    size_t nn = json_array_size(nights);
    ks_date_parse(rep_jstr(json_array_get(nights, 0), "date"), &first);
    ks_date_parse(rep_jstr(json_array_get(nights, nn - 1), "date"), &last);
    struct tm tm;
    gmtime_r(&first, &tm);
    time_t week = first - (time_t)((tm.tm_wday + 6) % 7) * 86400;
    table_begin(b, "calendar");
    ks_buf_appends(b, "<table class=\"cal\">\n<thead><tr>");
    for (int wd = 0; wd < 7; wd++)
        ks_buf_printf(b, "<th>%s</th>", weekdays[wd]);
    ks_buf_appends(b, "</tr></thead>\n<tbody>\n");
    size_t ni = 0, skipped = 0;
    for (; week <= last; week += 7 * 86400) {
        /* the nights of this week */
        size_t from = ni;
        while (ni < nn) {
            time_t nd;
            if (!ks_date_parse(rep_jstr(json_array_get(nights, ni), "date"), &nd) ||
                nd >= week + 7 * 86400)
                break;
            ni++;
        }
        if (from == ni) {
            skipped++;
            continue;
        }
        if (skipped)
            ks_buf_printf(b,
                          "<tr><td colspan=\"7\" class=\"off\">%zu week%s without "
                          "conversions</td></tr>\n",
                          skipped, skipped == 1 ? "" : "s");
        skipped = 0;
        ks_buf_appends(b, "<tr>");
        for (int wd = 0; wd < 7; wd++) {
            time_t day = week + (time_t)wd * 86400;
            char label[32];
            fmt_day(day, label, sizeof label);
            bool any = false;
            for (size_t k = from; k < ni; k++) {
                time_t nd;
                ks_date_parse(rep_jstr(json_array_get(nights, k), "date"), &nd);
                any |= nd == day;
            }
            ks_buf_printf(b, "<td%s><div class=\"day\">%s</div>", any ? "" : " class=\"off\"",
                          label);
            for (size_t k = from; k < ni; k++) {
                const json_t *n = json_array_get(nights, k);
                time_t nd;
                ks_date_parse(rep_jstr(n, "date"), &nd);
                if (nd != day)
                    continue;
                char ws[8], we[8];
                hhmm(rep_jstr(n, "start"), ws);
                hhmm(rep_jstr(n, "end"), we);
                ks_buf_printf(b, "<div class=\"night\">night %.0f, %s\u2013%s</div><ul>",
                              rep_jnum(n, "night"), ws, we);
                size_t j;
                const json_t *x;
                json_array_foreach(json_object_get(n, "servers"), j, x)
                {
                    char xs[8];
                    hhmm(rep_jstr(x, "start"), xs);
                    ks_buf_printf(b, "<li>%s ", xs);
                    rep_html(b, rep_jstr(x, "name"));
                    ks_buf_printf(b, " (%.0f min)%s</li>", rep_jnum(x, "estimated_minutes"),
                                  json_is_string(json_object_get(x, "warning"))
                                      ? " <span class=\"warn\">longer than the window</span>"
                                      : "");
                }
                ks_buf_appends(b, "</ul>");
            }
            ks_buf_appends(b, "</td>");
        }
        ks_buf_appends(b, "</tr>\n");
    }
    ks_buf_appends(b, "</tbody>\n</table>\n");
    table_end(b);

    ks_buf_appends(b, "<h3>Every conversion</h3>\n");
    table_begin(b, "nights");
    ks_buf_appends(b, "<table class=\"sortable\" id=\"tbl-nights\">\n<thead><tr><th "
                      "class=\"n\">night</th><th>date</th><th>server</th><th "
                      "class=\"n\">lane</th><th>start</th><th>end</th><th "
                      "class=\"n\">minutes</th><th>estimate from</th><th>warning</th></tr>"
                      "</thead>\n<tbody>\n");
    size_t i;
    const json_t *n;
    json_array_foreach(nights, i, n)
    {
        size_t j;
        const json_t *x;
        json_array_foreach(json_object_get(n, "servers"), j, x)
        {
            char xs[8], xe[8];
            hhmm(rep_jstr(x, "start"), xs);
            hhmm(rep_jstr(x, "end"), xe);
            ks_buf_appends(b, "<tr>");
            td_num(b, rep_jnum(n, "night"), 0);
            td_text(b, rep_jstr(n, "date"));
            td_text(b, rep_jstr(x, "name"));
            td_num(b, rep_jnum(x, "lane"), 0);
            td_text(b, xs);
            td_text(b, xe);
            td_num(b, rep_jnum(x, "estimated_minutes"), 0);
            td_text(b, rep_jstr(x, "estimate_basis"));
            td_text(b, rep_jstr(x, "warning"));
            ks_buf_appends(b, "</tr>\n");
        }
    }
    ks_buf_appends(b, "</tbody>\n</table>\n");
    table_end(b);
    ks_buf_appends(b, "</section>\n");
}

/* The results of `kvmshift validate` (STUDY/validation/NAME.json), read
 * for every server of the plan; NULL entries where there is none. */
/* STUDY/rel for a section of the report, or NULL: when there is none, or
 * (said on stderr) when it is not JSON with an array member `must` (then
 * it is not `what`). */
static json_t *study_json(const rep_doc *d, const char *rel, const char *must, const char *what)
{
    KS_AUTOFREE char *path = ks_study_path(d->study, rel);
    if (!ks_path_exists(path))
        return NULL;
    ks_error e;
    json_t *j = ks_json_read_file(path, &e);
    if (!j || !json_is_array(json_object_get(j, must))) {
        if (!d->quiet)
            fprintf(stderr, "kvmshift report: %s left out: %s\n", path, j ? what : e.message);
        json_decref(j);
        return NULL;
    }
    return j;
}

static json_t **validations(const rep_doc *d, size_t *count)
{
    json_t **v = ks_calloc(d->ns ? d->ns : 1, sizeof *v);
    *count = 0;
    for (size_t k = 0; k < d->ns; k++) {
        size_t i = d->by_name[k];
        KS_AUTOFREE char *rel = ks_asprintf("validation/%s.json", d->s[i].name);
        v[i] = study_json(d, rel, "checks", "not a validation result");
        *count += v[i] != NULL;
    }
    return v;
}

/* The check id of a validation result r, or NULL. */
static const json_t *check_of(const json_t *r, const char *id)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(r, "checks"), i, c)
    {
        if (strcmp(rep_jstr(c, "check"), id) == 0)
            return c;
    }
    return NULL;
}

/* One cell of the load table: the check's status as its colour, the VM's
 * mean against the baseline's. */
static void load_cell(ks_buf *b, const json_t *c)
{
    const char *st = c ? rep_jstr(c, "status") : "";
    ks_buf_printf(b, "<td class=\"%s\">",
                  strcmp(st, "pass") == 0   ? "mig-ok"
                  : strcmp(st, "fail") == 0 ? "mig-bad"
                                            : "");
    const json_t *dt = json_object_get(c, "data");
    if (!c)
        ks_buf_appends(b, "&ndash;");
    else if (json_is_number(json_object_get(dt, "ratio")))
        ks_buf_printf(b, "%s %.0f%%", st, 100 * rep_jnum(dt, "ratio"));
    else if (json_is_number(json_object_get(dt, "max_pct")))
        ks_buf_printf(b, "%s, at most %.1f%%", st, rep_jnum(dt, "max_pct"));
    else
        rep_html(b, st);
    ks_buf_appends(b, "</td>");
}

/* The load checks of switched servers: the VM against its physical
 * baseline at the same hours. */
static void section_load(const rep_doc *d, json_t **v, ks_buf *b)
{
    size_t n = 0;
    for (size_t k = 0; k < d->ns; k++)
        n += v[d->by_name[k]] && check_of(v[d->by_name[k]], "load_coverage");
    if (!n)
        return;
    ks_buf_appends(b, "<h3>Load after the move</h3>\n");
    ks_buf_appends(b, "<p>Each server's VM, sampled by the collector since the cutover, against "
                      "the physical server's load at the same hours of the same weekdays. A "
                      "percentage is the VM's mean over the baseline's: well under 100% is a "
                      "drop (a service that no longer works takes its load with it), well over "
                      "is the same work costing more. Saturation is the VM's CPU or memory "
                      "full; steal is CPU time its host gave to others.</p>\n");
    table_begin(b, "load");
    ks_buf_appends(b, "<table>\n<thead><tr><th>Server</th><th>Cutover (UTC)</th><th "
                      "class=\"n\">VM hours</th><th class=\"n\">Baseline hours</th><th>CPU</th>"
                      "<th>Memory</th><th>Disk</th><th>Network</th><th>Saturation</th>"
                      "<th>Steal</th></tr></thead>\n<tbody>\n");
    static const char *const ids[] = {"load_cpu",     "load_memory",     "load_disk",
                                      "load_network", "load_saturation", "load_steal"};
    for (size_t k = 0; k < d->ns; k++) {
        const json_t *r = v[d->by_name[k]];
        const json_t *cov = r ? check_of(r, "load_coverage") : NULL;
        if (!cov)
            continue;
        const json_t *dt = json_object_get(cov, "data");
        ks_buf_appends(b, "<tr><td>");
        rep_html(b, d->s[d->by_name[k]].name);
        ks_buf_appends(b, "</td><td>");
        rep_html(b, rep_jstr(dt, "cutover_at"));
        ks_buf_printf(b, "</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td>",
                      rep_jnum(dt, "vm_hours"), rep_jnum(dt, "baseline_hours"));
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
            load_cell(b, check_of(r, ids[i]));
        ks_buf_appends(b, "</tr>\n");
    }
    ks_buf_appends(b, "</tbody></table>\n");
    table_end(b);
}

static void section_validation(const rep_doc *d, json_t **v, size_t count, ks_buf *b)
{
    if (!count)
        return;
    ks_buf_appends(b, "<section id=\"validation\">\n<h2>Validation of the migrated servers</h2>\n");
    ks_buf_printf(b,
                  "<p>%zu server%s validated with <code>kvmshift validate</code>: its VM "
                  "compared with the facts taken of the physical server (host key, KVM, file "
                  "systems, listeners, services, MACs and addresses) and, once the collector "
                  "has sampled the VM, its load with the physical server's. What did not pass "
                  "is listed with its evidence.</p>\n",
                  count, count == 1 ? "" : "s");
    table_begin(b, "validation");
    ks_buf_appends(b, "<table>\n<thead><tr><th>Server</th><th>Verdict</th><th>Validated "
                      "(UTC)</th><th class=\"n\">Pass</th><th class=\"n\">Warn</th><th "
                      "class=\"n\">Fail</th><th>Not passed</th></tr></thead>\n<tbody>\n");
    for (size_t k = 0; k < d->ns; k++) {
        const json_t *r = v[d->by_name[k]];
        if (!r)
            continue;
        const json_t *n = json_object_get(r, "counts");
        ks_buf_appends(b, "<tr><td>");
        rep_html(b, d->s[d->by_name[k]].name);
        ks_buf_appends(b, "</td><td>");
        rep_html(b, rep_jstr(r, "verdict"));
        ks_buf_appends(b, "</td><td>");
        rep_html(b, rep_jstr(r, "validated_at"));
        ks_buf_printf(b,
                      "</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td><td "
                      "class=\"n\">%.0f</td><td>",
                      rep_jnum(n, "pass"), rep_jnum(n, "warn"), rep_jnum(n, "fail"));
        size_t i, j;
        json_t *c, *e;
        bool any = false;
        json_array_foreach(json_object_get(r, "checks"), i, c)
        {
            if (strcmp(rep_jstr(c, "status"), "pass") == 0)
                continue;
            json_array_foreach(json_object_get(c, "evidence"), j, e)
            {
                ks_buf_appends(b, any ? "<br>" : "");
                any = true;
                rep_html(b, rep_jstr(c, "status"));
                ks_buf_appends(b, " ");
                rep_html(b, rep_jstr(c, "check"));
                ks_buf_appends(b, ": ");
                rep_html(b, json_string_value(e) ? json_string_value(e) : "");
            }
        }
        ks_buf_appends(b, any ? "</td></tr>\n" : "everything passed</td></tr>\n");
    }
    ks_buf_appends(b, "</tbody></table>\n");
    table_end(b);
    section_load(d, v, b);
    ks_buf_appends(b, "</section>\n");
}

/* The summaries of `kvmshift night` (STUDY/nights/N/summary.json) of the
 * plan's nights; NULL entries where a night was not run. */
static json_t **night_runs(const rep_doc *d, size_t *count)
{
    const json_t *nights = json_object_get(d->pj, "nights");
    size_t nn = json_array_size(nights);
    json_t **v = ks_calloc(nn ? nn : 1, sizeof *v);
    *count = 0;
    for (size_t i = 0; i < nn; i++) {
        KS_AUTOFREE char *rel =
            ks_asprintf("nights/%.0f/summary.json", rep_jnum(json_array_get(nights, i), "night"));
        v[i] = study_json(d, rel, "servers", "not a night's summary");
        *count += v[i] != NULL;
    }
    return v;
}

/* "21:05" of an ISO time, or "" */
static void clock_of(const char *iso, char *buf, size_t n)
{
    const char *t = strchr(iso, 'T');
    snprintf(buf, n, "%.5s", t ? t + 1 : "");
}

static void section_progress(const rep_doc *d, json_t **v, size_t count, ks_buf *b)
{
    if (!count)
        return;
    const json_t *nights = json_object_get(d->pj, "nights");
    ks_buf_appends(b, "<section id=\"progress\">\n<h2>Migration progress</h2>\n");
    ks_buf_printf(b,
                  "<p>%zu night%s run with <code>kvmshift night</code>. Planned times are the "
                  "plan's; actual ones from the start of the cutover to the VM validated (or "
                  "the rollback). Downtime runs from the source's services stopped to the VM's "
                  "first SSH answer; the offline downtime is what the same move would have "
                  "cost with the server stopped for its whole copy instead of its last delta. "
                  "A server rolled back "
                  "is as it was before the night; one postponed moves to the next night.</p>\n",
                  count, count == 1 ? "" : "s");
    for (size_t i = 0; i < json_array_size(nights); i++) {
        const json_t *s = v[i];
        if (!s)
            continue;
        const json_t *c = json_object_get(s, "counts");
        ks_buf_printf(b, "<h3>Night %.0f, ", rep_jnum(s, "night"));
        rep_html(b, rep_jstr(s, "date"));
        ks_buf_printf(b,
                      "</h3>\n<p>%.0f migrated, %.0f rolled back, %.0f postponed, %.0f skipped, "
                      "%.0f not finished%s.</p>\n",
                      rep_jnum(c, "migrated"), rep_jnum(c, "rolled_back"), rep_jnum(c, "postponed"),
                      rep_jnum(c, "skipped"), rep_jnum(c, "running") + rep_jnum(c, "pending"),
                      json_is_string(json_object_get(s, "ended_at")) ? ""
                                                                     : " (the night is not over)");
        table_begin(b, "progress");
        ks_buf_appends(b, "<table>\n<thead><tr><th>Server</th><th>State</th><th>Planned "
                          "(UTC)</th><th class=\"n\">Planned min</th><th>Actual (UTC)</th><th "
                          "class=\"n\">Actual min</th><th class=\"n\">Downtime s</th><th "
                          "class=\"n\">Offline downtime s</th><th>Note"
                          "</th></tr></thead>\n<tbody>\n");
        size_t k;
        json_t *r;
        json_array_foreach(json_object_get(s, "servers"), k, r)
        {
            const json_t *p = json_object_get(r, "planned");
            const char *st = rep_jstr(r, "state");
            char ps[8], as[8];
            clock_of(rep_jstr(p, "start"), ps, sizeof ps);
            clock_of(rep_jstr(r, "started_at"), as, sizeof as);
            ks_buf_appends(b, "<tr><td>");
            rep_html(b, rep_jstr(r, "server"));
            ks_buf_printf(b, "</td><td class=\"%s\">",
                          strcmp(st, "migrated") == 0 ? "mig-ok" : "mig-bad");
            rep_html(b, st);
            ks_buf_appends(b, "</td><td>");
            rep_html(b, ps);
            ks_buf_appends(b, "</td><td class=\"n\">");
            if (json_is_number(json_object_get(p, "minutes")))
                ks_buf_printf(b, "%.0f", rep_jnum(p, "minutes"));
            ks_buf_appends(b, "</td><td>");
            rep_html(b, as);
            ks_buf_appends(b, "</td><td class=\"n\">");
            if (json_is_number(json_object_get(r, "minutes")))
                ks_buf_printf(b, "%.1f", rep_jnum(r, "minutes"));
            ks_buf_appends(b, "</td><td class=\"n\">");
            if (json_is_number(json_object_get(r, "downtime_s")))
                ks_buf_printf(b, "%.0f", rep_jnum(r, "downtime_s"));
            ks_buf_appends(b, "</td><td class=\"n\">");
            if (json_is_number(json_object_get(r, "offline_downtime_s")))
                ks_buf_printf(b, "%.0f", rep_jnum(r, "offline_downtime_s"));
            ks_buf_appends(b, "</td><td>");
            if (strcmp(st, "migrated") == 0) {
                const json_t *val = json_object_get(r, "validation");
                ks_buf_appends(b, "validation ");
                rep_html(b, rep_jstr(val, "verdict"));
                if (*rep_jstr(val, "not_passed")) {
                    ks_buf_appends(b, ": ");
                    rep_html(b, rep_jstr(val, "not_passed"));
                }
            } else {
                rep_html(b, rep_jstr(r, "reason"));
                const json_t *rb = json_object_get(r, "rollback");
                size_t j;
                json_t *a;
                json_array_foreach(json_object_get(rb, "actions"), j, a)
                {
                    ks_buf_appends(b, "<br>");
                    rep_html(b, json_is_true(json_object_get(a, "ok")) ? "rollback: "
                                                                       : "ROLLBACK FAILED: ");
                    rep_html(b, rep_jstr(a, "detail"));
                }
            }
            ks_buf_appends(b, "</td></tr>\n");
        }
        ks_buf_appends(b, "</tbody></table>\n");
        table_end(b);
    }
    ks_buf_appends(b, "</section>\n");
}

static void section_quality(const rep_doc *d, ks_buf *b)
{
    double minc = rep_jnum(d->jpol, "min_confidence_percent");
    ks_buf_appends(b, "<section id=\"quality\">\n<h2>Data quality</h2>\n");
    if (d->stale) {
        ks_buf_appends(b, "<p class=\"note bad\">");
        rep_html(b, d->stale);
        ks_buf_appends(b, ".</p>\n");
    }
    size_t nq = 0, nocap = 0;
    for (size_t i = 0; i < d->ns; i++) {
        nq += d->s[i].measured < d->nslots;
        nocap += isnan(d->s[i].cap);
    }
    ks_buf_printf(b,
                  "<p>%zu of %zu servers were measured in every slot of the period. A "
                  "server needs %s %% of the slots measured (min_confidence_percent); a gap "
                  "is a run of unmeasured slots between its first and last measured one.</p>\n",
                  d->ns - nq, d->ns, rep_num((char[48]){0}, minc, 0));
    if (nq) {
        table_begin(b, "quality");
        ks_buf_appends(b, "<table class=\"sortable\">\n<thead><tr><th>server</th><th>status</th>"
                          "<th class=\"n\">measured %</th><th class=\"n\">slots "
                          "measured</th><th class=\"n\">gaps</th><th class=\"n\">longest gap, "
                          "hours</th><th>first data</th><th>last data</th><th>note</th></tr>"
                          "</thead>\n<tbody>\n");
        for (size_t i = 0; i < d->ns; i++) {
            const rep_srv *s = &d->s[i];
            if (s->measured == d->nslots)
                continue;
            ks_buf_appends(b, "<tr><td>");
            server_link(d, i, b);
            ks_buf_appends(b, "</td>");
            td_text(b, status_words(s->status));
            td_num(b, s->confidence * 100, 0);
            ks_buf_printf(b, "<td class=\"n\">%zu of %zu</td>", s->measured, d->nslots);
            td_num(b, (double)s->gaps, 0);
            td_num(b, s->gaps ? (double)s->longest_gap * (double)d->step / 3600 : NAN, 1);
            char f[KS_TIME_ISO_LEN] = "\u2014", l[KS_TIME_ISO_LEN] = "\u2014";
            if (s->measured) {
                ks_time_iso(d->t0 + (time_t)s->first * d->step, f);
                ks_time_iso(d->t0 + (time_t)(s->last + 1) * d->step, l);
            }
            td_text(b, f);
            td_text(b, l);
            ks_buf e;
            ks_buf_init(&e, 4096);
            if (!s->measured)
                ks_buf_appends(&e, "no data at all in the period");
            else {
                if (s->confidence * 100 < minc)
                    ks_buf_printf(&e, "too little data (below %.0f %%); ", minc);
                if (s->first > 0)
                    ks_buf_appends(&e, "starts late; ");
                if (s->last + 1 < d->nslots)
                    ks_buf_appends(&e, "stops early; ");
                if (s->gaps)
                    ks_buf_printf(&e, "%zu gap%s; ", s->gaps, s->gaps == 1 ? "" : "s");
                if (e.len >= 2)
                    e.data[e.len -= 2] = '\0';
            }
            td_text(b, ks_buf_str(&e));
            ks_buf_free(&e);
            ks_buf_appends(b, "</tr>\n");
        }
        ks_buf_appends(b, "</tbody>\n</table>\n");
        table_end(b);
    }
    if (nocap) {
        ks_buf_printf(b,
                      "<p>%zu server%s without a known CPU capacity (facts cpu.cores and "
                      "cpu.mhz): %s CPU shown in MHz only, and left out of the heat map.</p>\n",
                      nocap, nocap == 1 ? "" : "s", nocap == 1 ? "its" : "their");
    }
    /* servers eligible or conditional that a scenario left out as too busy
     * for its model: in neither placements nor unplaced */
    table_begin(b, "left-out");
    ks_buf_appends(b, "<table>\n<thead><tr><th>scenario</th><th>server</th><th>why not "
                      "placed</th></tr></thead>\n<tbody>\n");
    size_t rows = 0;
    for (size_t sc = 0; sc < d->nsc; sc++) {
        const json_t *js = rep_scenario_json(d, sc);
        for (size_t i = 0; i < d->ns; i++) {
            if (strcmp(d->s[i].status, "not_eligible") == 0 || rep_host_of(d, sc, i) >= 0)
                continue;
            const char *why = "too busy for one host of this model";
            size_t k;
            const json_t *p;
            json_array_foreach(json_object_get(js, "unplaced"), k, p)
            {
                if (strcmp(rep_jstr(p, "server"), d->s[i].name) == 0)
                    why = rep_jstr(p, "why");
            }
            ks_buf_appends(b, "<tr>");
            td_text(b, rep_jstr(js, "name"));
            td_text(b, d->s[i].name);
            td_text(b, why);
            ks_buf_appends(b, "</tr>\n");
            rows++;
        }
    }
    if (!rows)
        ks_buf_appends(b, "<tr><td colspan=\"3\">every eligible and conditional server is "
                          "placed in every scenario</td></tr>\n");
    ks_buf_appends(b, "</tbody>\n</table>\n");
    table_end(b);
    ks_buf_appends(b, "</section>\n");
}

static void page_header(const rep_doc *d, ks_buf *b, const char *title)
{
    char now[KS_TIME_ISO_LEN];
    ks_time_iso(time(NULL), now);
    ks_buf_appends(b, "<header>\n<h1>");
    rep_html(b, title);
    ks_buf_appends(b, "</h1>\n<p class=\"meta\">Study ");
    rep_html(b, ks_study_dir(d->study));
    ks_buf_printf(b,
                  " \u00b7 generated at %s by kvmshift report \u00b7 all times UTC</p>\n"
                  "</header>\n",
                  now);
}

static char *study_title(const rep_doc *d)
{
    const char *dir = ks_study_dir(d->study);
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    const char *base = dir;
    for (size_t i = 0; i < n; i++)
        if (dir[i] == '/' && i + 1 < n)
            base = dir + i + 1;
    return ks_asprintf("Consolidation report: %.*s", (int)(n - (size_t)(base - dir)), base);
}

static int write_index(rep_doc *d, ks_error *err)
{
    ks_buf b;
    ks_buf_init(&b, REP_BUF_MAX);
    KS_AUTOFREE char *title = study_title(d);
    rep_page_begin(&b, title);
    page_header(d, &b, title);
    notes_html(d, d->charts, &b);
    ks_buf_appends(&b, "<nav><ul><li><a href=\"#summary\">Summary</a></li><li><a "
                       "href=\"#method\">Method and limits</a></li><li><a "
                       "href=\"#eligibility\">Eligibility</a></li><li><a "
                       "href=\"#placements\">Placements</a></li><li><a "
                       "href=\"#scenarios\">Scenarios</a></li><li><a "
                       "href=\"#nights\">Migration nights</a></li>");
    size_t nval, nrun;
    json_t **val = validations(d, &nval);
    json_t **runs = night_runs(d, &nrun);
    if (nrun)
        ks_buf_appends(&b, "<li><a href=\"#progress\">Migration progress</a></li>");
    if (nval)
        ks_buf_appends(&b, "<li><a href=\"#validation\">Validation</a></li>");
    ks_buf_appends(&b, "<li><a href=\"#quality\">Data quality</a></li><li>CSV: <a "
                       "href=\"servers.csv\">servers</a>, <a "
                       "href=\"placements.csv\">placements</a>, <a "
                       "href=\"nights.csv\">nights</a></li></ul></nav>\n");
    section_summary(d, &b);
    section_method(d, &b);
    section_servers(d, &b);
    section_placements(d, &b);
    section_scenarios(d, &b);
    section_nights(d, &b);
    section_progress(d, runs, nrun, &b);
    for (size_t i = 0; i < json_array_size(json_object_get(d->pj, "nights")); i++)
        json_decref(runs[i]);
    free(runs);
    section_validation(d, val, nval, &b);
    for (size_t i = 0; i < d->ns; i++)
        json_decref(val[i]);
    free(val);
    section_quality(d, &b);
    rep_page_end(&b);
    KS_AUTOFREE char *path = ks_path_join(d->tmp, "index.html");
    int rc = rep_write_file(path, b.data, b.len, err);
    ks_buf_free(&b);
    return rc;
}

/* report/servers/NAME.html: one server on a page of its own. */
static int write_server_page(const rep_doc *d, size_t i, const char *dir, ks_error *err)
{
    const rep_srv *s = &d->s[i];
    ks_buf b;
    ks_buf_init(&b, REP_BUF_MAX);
    KS_AUTOFREE char *t = study_title(d);
    KS_AUTOFREE char *title = ks_asprintf("%s: server %s", t, s->name);
    rep_page_begin(&b, title);
    ks_buf_appends(&b, "<p class=\"noprint\"><a href=\"../index.html#eligibility\">\u2190 "
                       "the report</a></p>\n<h1>");
    rep_html(&b, s->name);
    ks_buf_printf(&b, "</h1>\n<table class=\"kv\">\n");
    char n[48], v[256];
    ks_buf e;
    ks_buf_init(&e, 1 << 16);
    kv_row(&b, "status", status_words(s->status));
    rep_html(&e, s->role);
    kv_row(&b, "role", ks_buf_str(&e));
    ks_buf_reset(&e);
    reasons_html(s->j, &e);
    kv_row(&b, "reasons", e.len ? ks_buf_str(&e) : "none");
    snprintf(v, sizeof v, "%s %% (%zu of %zu slots measured, %zu gaps)",
             rep_num(n, s->confidence * 100, 0), s->measured, d->nslots, s->gaps);
    kv_row(&b, "data", v);
    snprintf(v, sizeof v, "average %.0f MHz, p95 %.0f MHz, max %.0f MHz of %s MHz", s->cpu_avg,
             s->cpu_p95, s->cpu_max, rep_num(n, s->cap, 0));
    kv_row(&b, "CPU", v);
    snprintf(v, sizeof v, "average %.0f MiB, p95 %.0f MiB, max %.0f MiB of %s MiB", s->mem_avg,
             s->mem_p95, s->mem_max, rep_num(n, s->mem_total, 0));
    kv_row(&b, "memory", v);
    snprintf(v, sizeof v, "%s MB/s at p95", rep_num(n, s->disk_p95, 2));
    kv_row(&b, "disk", v);
    snprintf(v, sizeof v, "%s MB/s at p95", rep_num(n, s->net_p95, 2));
    kv_row(&b, "network", v);
    char n2[48];
    snprintf(v, sizeof v, "%s vCPUs, %s MiB", rep_num(n, rep_jnum(s->j, "vcpus"), 0),
             rep_num(n2, rep_jnum(s->j, "memory_mib"), 0));
    kv_row(&b, "VM size (recommended model)", v);
    for (size_t sc = 0; sc < d->nsc; sc++) {
        int h = rep_host_of(d, sc, i);
        ks_buf_reset(&e);
        if (h >= 0)
            rep_html(&e, ana_plan_host_name(d->plan, sc, (size_t)h));
        else
            ks_buf_appends(&e, "not placed");
        KS_AUTOFREE char *key = ks_asprintf("scenario %s", ana_plan_scenario_name(d->plan, sc));
        ks_buf f;
        ks_buf_init(&f, 4096);
        rep_html(&f, key);
        kv_row(&b, ks_buf_str(&f), ks_buf_str(&e));
        ks_buf_free(&f);
    }
    size_t k, j;
    const json_t *nt, *x;
    json_array_foreach(json_object_get(d->pj, "nights"), k, nt)
    {
        json_array_foreach(json_object_get(nt, "servers"), j, x)
        {
            if (strcmp(rep_jstr(x, "name"), s->name) != 0)
                continue;
            snprintf(v, sizeof v, "night %.0f, %s to %s (%.0f minutes estimated)",
                     rep_jnum(nt, "night"), rep_jstr(x, "start"), rep_jstr(x, "end"),
                     rep_jnum(x, "estimated_minutes"));
            kv_row(&b, "migration", v);
        }
    }
    ks_buf_free(&e);
    ks_buf_appends(&b, "</table>\n");
    server_figure(d, s,
                  "CPU and memory over the study period with the average, 95th percentile "
                  "and peak; a break in a line is a slot without data.",
                  &b);
    rep_page_end(&b);
    KS_AUTOFREE char *name = ks_asprintf("%s.html", s->name);
    KS_AUTOFREE char *path = ks_path_join(dir, name);
    int rc = rep_write_file(path, b.data, b.len, err);
    ks_buf_free(&b);
    return rc;
}

static int write_host_page(const rep_doc *d, size_t sc, size_t h, const char *dir, ks_error *err)
{
    const char *hn = ana_plan_host_name(d->plan, sc, h);
    ks_buf b;
    ks_buf_init(&b, REP_BUF_MAX);
    KS_AUTOFREE char *t = study_title(d);
    KS_AUTOFREE char *title = ks_asprintf("%s: host %s", t, hn);
    rep_page_begin(&b, title);
    ks_buf_appends(&b, "<p class=\"noprint\"><a href=\"../index.html#host-");
    rep_html(&b, hn);
    ks_buf_appends(&b, "\">\u2190 the report</a></p>\n<h1>");
    rep_html(&b, hn);
    ks_buf_appends(&b, "</h1>\n");
    ks_buf cap;
    ks_buf_init(&cap, 4096);
    host_caption(d, sc, &cap);
    rep_charts_figure(d->charts, (size_t)d->host_chart[sc][h], ks_buf_str(&cap), &b);
    ks_buf_free(&cap);
    rep_page_end(&b);
    KS_AUTOFREE char *name = ks_asprintf("%s.html", hn);
    KS_AUTOFREE char *path = ks_path_join(dir, name);
    int rc = rep_write_file(path, b.data, b.len, err);
    ks_buf_free(&b);
    return rc;
}

int rep_sections_write(rep_doc *d, ks_error *err)
{
    if (write_index(d, err) < 0)
        return -1;
    if (d->server_pages) {
        KS_AUTOFREE char *dir = ks_path_join(d->tmp, "servers");
        if (ks_mkdir_p(dir, err) < 0)
            return -1;
        ks_progress *p = ks_progress_new("server pages", d->ns, d->quiet);
        for (size_t i = 0; i < d->ns; i++) {
            if (write_server_page(d, i, dir, err) < 0) {
                ks_progress_free(p);
                return -1;
            }
            ks_progress_update(p, i + 1, NULL);
        }
        ks_progress_done(p);
        ks_progress_free(p);
    }
    if (d->host_pages && d->rec >= 0) {
        KS_AUTOFREE char *dir = ks_path_join(d->tmp, "hosts");
        if (ks_mkdir_p(dir, err) < 0)
            return -1;
        size_t sc = (size_t)d->rec;
        for (size_t h = 0; h < ana_plan_scenario_hosts(d->plan, sc); h++)
            if (d->host_chart[sc][h] >= 0 && write_host_page(d, sc, h, dir, err) < 0)
                return -1;
    }
    return 0;
}
