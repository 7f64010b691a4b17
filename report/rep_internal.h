/* rep_internal.h: the report's internals shared by its files (not a public
 * API): text escaping and number formats (rep_util.c), the gnuplot driver
 * (rep_chart.c), the page frame with its stylesheet and script
 * (rep_html.c), the document's data derived from the plan (rep_model.c),
 * the chart scripts (rep_plot.c), the CSV files (rep_csv.c), the HTML
 * sections and pages (rep_sections.c), headless Chromium for --pdf
 * (rep_pdf.c); rep_write.c puts it together.
 * Not thread-safe.
 */
#ifndef REP_INTERNAL_H
#define REP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "ks_buf.h"
#include "analyzer.h"
#include "ks_error.h"
#include "ks_study.h"

/* ---- Text (rep_util.c) --------------------------------------------------- */

/* Largest file the report writes or reads back (an SVG, index.html). */
#define REP_BUF_MAX ((size_t)1 << 30)

/* s with & < > " ' escaped, for HTML text and attribute values. */
void rep_html(ks_buf *b, const char *s);
/* s as one CSV field: quoted (RFC 4180) when it holds a comma, a quote, a
 * CR or LF, or starts or ends with a blank. */
void rep_csv(ks_buf *b, const char *s);
/* v with prec decimals, "" when NAN; for CSV. */
void rep_csv_num(ks_buf *b, double v, int prec);
/* v with prec decimals into buf, or the em dash when NAN; returns buf. */
const char *rep_num(char buf[48], double v, int prec);
/* s inside a single-quoted gnuplot string ('' for a quote; control
 * characters dropped). */
void rep_gp_str(ks_buf *b, const char *s);

/* ---- Files (rep_util.c) -------------------------------------------------- */

/* Write len bytes to path (created 0644, replaced), without fsync: the
 * report's files are made under a temporary directory that is synced once
 * before it is renamed into place. 0, or -1 with err (KS_E_IO). */
int rep_write_file(const char *path, const void *data, size_t len, ks_error *err);
/* The full path of program: itself when it has a '/' and is executable,
 * else the first executable of that name in $PATH; NULL when none. */
char *rep_which(const char *program);

/* ---- Charts (rep_chart.c) ------------------------------------------------ */

typedef struct rep_charts rep_charts;

/* Writes the gnuplot commands of chart i (after its terminal and output are
 * set; the data as inline datablocks) to out. */
typedef void (*rep_chart_script_fn)(void *ctx, size_t i, ks_buf *out);

/* Charts drawn into scratch_dir (which must exist) as ID.svg. */
rep_charts *rep_charts_new(const char *scratch_dir, rep_chart_script_fn script, void *ctx);
void rep_charts_free(rep_charts *c);

/* Register a chart; id is a file-name-safe key, title says what it shows
 * (used in notes and as the SVG's title). Returns its index. */
size_t rep_charts_add(rep_charts *c, const char *id, const char *title, int width, int height);
size_t rep_charts_count(const rep_charts *c);

/* Draw every chart with gnuplot (program: a path or a name in $PATH),
 * over jobs processes at once (1 or 2), fed through pipes. A chart is drawn
 * when gnuplot says nothing but warnings for it and its SVG is whole; else
 * it gets a note saying why. Never fails as a whole: a missing gnuplot is
 * a note on every chart. quiet: no progress display. */
void rep_charts_run(rep_charts *c, const char *program, unsigned jobs, bool quiet);

size_t rep_charts_drawn(const rep_charts *c);
size_t rep_charts_failed(const rep_charts *c);
/* The note of a chart that was not drawn (NULL when drawn). */
const char *rep_charts_note(const rep_charts *c, size_t i);

/* Append chart i as an HTML figure: its SVG inline (the XML prolog
 * dropped), or a note in its place; caption (HTML, may be NULL) below. */
void rep_charts_figure(const rep_charts *c, size_t i, const char *caption_html, ks_buf *out);

/* ---- Page frame (rep_html.c) --------------------------------------------- */

/* <!DOCTYPE html> up to <body>: title (text), the stylesheet and the
 * script (sorting, filtering, #selftest). */
void rep_page_begin(ks_buf *b, const char *title);
void rep_page_end(ks_buf *b);

/* ---- The document (rep_model.c) ------------------------------------------ */

/* Up to this many servers, each server's chart is inline (collapsed);
 * above, each server has a page of its own, so that index.html of 2,000
 * servers stays a few MB and opens quickly. */
#define REP_INLINE_SERVERS 60
/* Host charts of the recommended scenario inline up to this many hosts;
 * above, each has a page of its own. */
#define REP_INLINE_HOSTS 24
/* A host chart stacks its largest VMs and groups the rest. */
#define REP_TOP_VMS 12
/* Points per chart at most: a wider chart shows no more. */
#define REP_MAX_POINTS 480
#define REP_MIB (1024.0 * 1024.0)

/* One server, from plan.json and its series. */
typedef struct rep_srv {
    const json_t *j; /* its object in plan.json "servers" */
    const char *name, *status, *role;
    double cap;                                  /* source CPU capacity, MHz; NAN unknown */
    double cpu_avg, cpu_p95, cpu_max;            /* source MHz, measured slots */
    double mem_avg, mem_p95, mem_max, mem_total; /* MiB */
    double disk_p95, net_p95;                    /* MB/s */
    double confidence;
    size_t measured, gaps, longest_gap; /* slots */
    size_t first, last;                 /* first and last measured slot */
    int chart;                          /* -1: none */
} rep_srv;

enum { REP_CH_SERVER, REP_CH_HOST, REP_CH_HEAT, REP_CH_SCENARIOS, REP_CH_FLEET };

/* What a chart shows: its kind and server, or scenario and host. */
typedef struct rep_chart_ref {
    int kind;
    size_t a, b;
} rep_chart_ref;

/* Everything the report is written from. */
typedef struct rep_doc {
    const ks_study *study;
    bool quiet;
    ana_plan *plan;
    json_t *pj; /* ana_plan_json(plan) */
    const json_t *jpol, *jsum;
    rep_srv *s;
    size_t ns;
    size_t nslots;
    time_t t0;
    long step;
    size_t nsc;
    int rec; /* recommended scenario, -1: none */
    bool server_pages, host_pages;
    double host_overhead_mhz;
    rep_charts *charts;
    rep_chart_ref *refs;
    size_t nrefs;
    int heat_chart, scen_chart, fleet_chart; /* -1: none */
    int **host_chart;                        /* per scenario, per host: chart or -1 */
    double heat[7][24];                      /* Monday first, hour UTC: sum of CPU % */
    size_t heat_n[7][24];
    bool heat_known;
    size_t heat_servers;
    size_t *by_name; /* server indices sorted by name, for rep_server_index */
    char *stale;     /* why plan.json does not match the plan, or NULL */
    char *tmp;       /* STUDY/report.tmp.XXXXXX */
} rep_doc;

/* Fill d from its plan (d->plan, d->study and d->quiet set): plan.json,
 * per-server figures, the heat map's cells, whether plan.json is stale. */
void rep_doc_fill(rep_doc *d);
void rep_doc_free(rep_doc *d);

/* plan.json access: NAN, "" or NULL when absent. */
double rep_jnum(const json_t *o, const char *key);
double rep_jnum2(const json_t *o, const char *k1, const char *k2);
const char *rep_jstr(const json_t *o, const char *key);
const json_t *rep_scenario_json(const rep_doc *d, size_t sc);
/* The model of host NAME in a scenario's plan.json object ("" when absent). */
const char *rep_host_model(const json_t *scj, const char *host);
/* A scenario's hosts in words, plain text appended to out: "32 x 2600 MHz,
 * 384 GiB" for one model, "2 x big (32 x 2600 MHz, 384 GiB), 1 x small
 * (...)" for a mixed fleet or one with existing hosts of other models. */
void rep_fleet_text(const rep_doc *d, const json_t *scj, ks_buf *out);
/* Index of a server by name, (size_t)-1 when none. */
size_t rep_server_index(const rep_doc *d, const char *name);
/* v as a percentage of cap; NAN when either is unknown. */
double rep_pct(double v, double cap);
/* Host of server i in scenario sc (-1: not placed) and its packed demand
 * per slot (NULL: not placed), from tables made once. */
int rep_host_of(const rep_doc *d, size_t sc, size_t i);
const double *rep_demand(const rep_doc *d, size_t sc, size_t i);
/* p95 and max of server i's packed demand in scenario sc (target MHz);
 * NAN when it is not placed there. */
double rep_demand_p95(const rep_doc *d, size_t sc, size_t i);
double rep_demand_max(const rep_doc *d, size_t sc, size_t i);

/* ---- Chart scripts (rep_plot.c) ------------------------------------------ */

/* Register every chart of d with d->charts. */
void rep_plot_register(rep_doc *d);
/* rep_chart_script_fn over a rep_doc. */
void rep_plot_script(void *ctx, size_t i, ks_buf *out);

/* ---- Files (rep_csv.c, rep_sections.c) ----------------------------------- */

/* servers.csv, placements.csv, nights.csv under d->tmp. */
int rep_csv_write(const rep_doc *d, ks_error *err);
/* index.html, and servers/NAME.html and hosts/HOST.html when d says so,
 * under d->tmp (charts drawn already). */
int rep_sections_write(rep_doc *d, ks_error *err);

/* ---- PDF (rep_pdf.c) ----------------------------------------------------- */

/* Print html_path to pdf_path with headless Chromium (program: a path or a
 * name in $PATH), with a private profile under profile_dir (created and
 * removed), killed after timeout_s seconds. 0, or -1 with err saying why
 * (not installed, failed, timed out). */
int rep_pdf_print(const char *program, const char *html_path, const char *pdf_path,
                  const char *profile_dir, int timeout_s, ks_error *err);

#endif
