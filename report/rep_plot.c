/* rep_plot.c: the gnuplot script of each chart: a server's CPU and memory
 * with its average, 95th percentile and peak; a host's stacked VM demand
 * against its capacity and limit; the fleet's CPU by hour and weekday; the
 * scenarios side by side; the recommended scenario's total demand. Data
 * goes inline as datablocks; a chart of more than REP_MAX_POINTS slots
 * shows the highest value (or the busiest slot) of each stretch. */
#include "rep_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_mem.h"

static const char *const palette[] = {
    "#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
    "#8c8c8c", "#ccb974", "#64b5cd", "#1f3d7a", "#a0522d", "#2e8b57", "#b03060",
};
#define NPALETTE (sizeof palette / sizeof palette[0])

static void gp_time_axis(const rep_doc *d, ks_buf *b)
{
    long days = (long)((double)d->nslots * (double)d->step / 86400.0);
    ks_buf_printf(b,
                  "set xdata time\nset timefmt '%%s'\nset format x '%s'\n"
                  "set xrange ['%lld':'%lld']\nset grid xtics ytics lc rgb '#dddddd'\n"
                  "set samples 2\n",
                  days > 120 ? "%b %Y" : "%d %b", (long long)d->t0,
                  (long long)(d->t0 + (time_t)d->nslots * d->step));
}

static size_t bucket_of(size_t nslots)
{
    size_t k = (nslots + REP_MAX_POINTS - 1) / REP_MAX_POINTS;
    return k ? k : 1;
}

static void gp_num(ks_buf *b, double v)
{
    if (isnan(v) || isinf(v))
        ks_buf_appends(b, " NaN");
    else
        ks_buf_printf(b, " %.6g", v);
}

/* A constant line with its value in the key; nothing when v is unknown. */
static void gp_hline(ks_buf *b, double v, const char *style, const char *label, int first)
{
    if (isnan(v))
        return;
    ks_buf_printf(b, "%s%.6g with lines %s title '", first ? "" : ", ", v, style);
    rep_gp_str(b, label);
    ks_buf_appends(b, "' noenhanced");
}

static void script_server(const rep_doc *d, size_t i, ks_buf *b)
{
    const rep_srv *s = &d->s[i];
    const double *cpu = ana_plan_server_series(d->plan, i, ANA_METRIC_CPU_MHZ);
    const double *mem = ana_plan_server_series(d->plan, i, ANA_METRIC_MEM_BYTES);
    const unsigned char *m = ana_plan_server_measured(d->plan, i);
    bool use_pct = !isnan(s->cap) && s->cap > 0;
    double cdiv = use_pct ? s->cap / 100 : 1;
    bool mem_pct = !isnan(s->mem_total) && s->mem_total > 0;
    double mdiv = mem_pct ? s->mem_total * REP_MIB / 100 : 1024 * REP_MIB;
    size_t k = bucket_of(d->nslots);
    ks_buf_appends(b, "$d << EOD\n");
    for (size_t t = 0; t < d->nslots; t += k) {
        double c = NAN, mm = NAN;
        for (size_t u = t; u < t + k && u < d->nslots; u++) {
            if (!m[u])
                continue;
            if (isnan(c) || cpu[u] > c)
                c = cpu[u];
            if (!isnan(mem[u]) && (isnan(mm) || mem[u] > mm))
                mm = mem[u];
        }
        ks_buf_printf(b, "%lld", (long long)(d->t0 + (time_t)t * d->step));
        gp_num(b, c / cdiv);
        gp_num(b, mm / mdiv);
        ks_buf_appends(b, "\n");
    }
    ks_buf_appends(b, "EOD\n");
    gp_time_axis(d, b);
    ks_buf_appends(b, "set key outside right top vertical font ',8'\nset lmargin 10\n"
                      "set rmargin 26\nset multiplot layout 2,1 title '");
    rep_gp_str(b, s->name);
    ks_buf_appends(b, "' noenhanced\n");
    char l[3][64];
    const char *unit = use_pct ? "%" : "MHz";
    snprintf(l[0], sizeof l[0], "average %.0f %s", s->cpu_avg / cdiv, unit);
    snprintf(l[1], sizeof l[1], "95th percentile %.0f %s", s->cpu_p95 / cdiv, unit);
    snprintf(l[2], sizeof l[2], "peak %.0f %s", s->cpu_max / cdiv, unit);
    ks_buf_printf(b, "set ylabel '%s'\nset yrange [0:%s]\nset format x ''\n",
                  use_pct ? "CPU %" : "CPU MHz", use_pct ? "100" : "*");
    ks_buf_appends(b, "plot $d using 1:2 with lines lw 1.2 lc rgb '#2456a6' title 'CPU'");
    gp_hline(b, s->cpu_avg / cdiv, "dt 2 lw 1.5 lc rgb '#333333'", l[0], 0);
    gp_hline(b, s->cpu_p95 / cdiv, "dt 4 lw 1.5 lc rgb '#dd8452'", l[1], 0);
    gp_hline(b, s->cpu_max / cdiv, "dt 3 lw 1.5 lc rgb '#c62828'", l[2], 0);
    ks_buf_appends(b, "\n");
    double mul = mem_pct ? 1 : 1.0 / 1024; /* the MiB statistics on the plotted scale */
    double mdivm = mem_pct ? s->mem_total / 100 : 1;
    const char *munit = mem_pct ? "%" : "GiB";
    snprintf(l[0], sizeof l[0], "average %.*f %s", mem_pct ? 0 : 1, s->mem_avg * mul / mdivm,
             munit);
    snprintf(l[1], sizeof l[1], "95th percentile %.*f %s", mem_pct ? 0 : 1,
             s->mem_p95 * mul / mdivm, munit);
    snprintf(l[2], sizeof l[2], "peak %.*f %s", mem_pct ? 0 : 1, s->mem_max * mul / mdivm, munit);
    ks_buf_printf(b, "set ylabel '%s'\nset yrange [0:%s]\nset format x '%s'\n",
                  mem_pct ? "memory %" : "memory GiB", mem_pct ? "100" : "*",
                  d->nslots * (size_t)d->step > 120 * 86400 ? "%b %Y" : "%d %b");
    ks_buf_appends(b, "plot $d using 1:3 with lines lw 1.2 lc rgb '#55a868' title 'memory'");
    gp_hline(b, s->mem_avg * mul / mdivm, "dt 2 lw 1.5 lc rgb '#333333'", l[0], 0);
    gp_hline(b, s->mem_p95 * mul / mdivm, "dt 4 lw 1.5 lc rgb '#dd8452'", l[1], 0);
    gp_hline(b, s->mem_max * mul / mdivm, "dt 3 lw 1.5 lc rgb '#c62828'", l[2], 0);
    ks_buf_appends(b, "\nunset multiplot\n");
}

typedef struct vm {
    size_t srv;
    const double *cpu;
    double mean;
} vm;

static int cmp_vm(const void *a, const void *b)
{
    const vm *x = a, *y = b;
    if (x->mean != y->mean)
        return x->mean > y->mean ? -1 : 1;
    return x->srv < y->srv ? -1 : x->srv > y->srv;
}

/* The VMs of a host, largest mean demand first. */
static vm *host_vms(const rep_doc *d, size_t sc, size_t h, size_t *n)
{
    vm *v = ks_calloc(d->ns + 1, sizeof *v);
    *n = 0;
    for (size_t i = 0; i < d->ns; i++) {
        if (rep_host_of(d, sc, i) != (int)h)
            continue;
        const double *dem = rep_demand(d, sc, i);
        if (!dem)
            continue;
        double sum = 0;
        for (size_t t = 0; t < d->nslots; t++)
            sum += dem[t];
        v[*n] = (vm){.srv = i, .cpu = dem, .mean = d->nslots ? sum / (double)d->nslots : 0};
        (*n)++;
    }
    ks_qsort(v, *n, sizeof *v, cmp_vm);
    return v;
}

static void script_host(const rep_doc *d, size_t sc, size_t h, ks_buf *b)
{
    size_t n;
    vm *v = host_vms(d, sc, h, &n);
    /* layers: the hypervisor's own use, the largest VMs, the rest grouped */
    bool hyp = d->host_overhead_mhz > 0;
    size_t top = n <= REP_TOP_VMS + 1 ? n : REP_TOP_VMS;
    bool others = top < n;
    size_t nl = (hyp ? 1 : 0) + top + (others ? 1 : 0);
    double *lay = ks_calloc(nl + 1, sizeof *lay);
    size_t k = bucket_of(d->nslots);
    ks_buf_appends(b, "$d << EOD\n");
    for (size_t t0 = 0; t0 < d->nslots; t0 += k) {
        /* the bucket's busiest slot: the chart keeps every peak */
        size_t best = t0;
        double bestv = -1;
        for (size_t t = t0; t < t0 + k && t < d->nslots; t++) {
            double sum = 0;
            for (size_t j = 0; j < n; j++)
                sum += v[j].cpu[t];
            if (sum > bestv) {
                bestv = sum;
                best = t;
            }
        }
        size_t l = 0;
        if (hyp)
            lay[l++] = d->host_overhead_mhz;
        for (size_t j = 0; j < top; j++)
            lay[l++] = v[j].cpu[best];
        if (others) {
            double o = 0;
            for (size_t j = top; j < n; j++)
                o += v[j].cpu[best];
            lay[l++] = o;
        }
        ks_buf_printf(b, "%lld", (long long)(d->t0 + (time_t)t0 * d->step));
        double cum = 0;
        for (size_t j = 0; j < nl; j++) {
            cum += lay[j];
            gp_num(b, cum);
        }
        ks_buf_appends(b, "\n");
    }
    ks_buf_appends(b, "EOD\n");
    double cap = ana_plan_host_capacity_mhz(d->plan, sc, h);
    double lim = ana_plan_host_limit_mhz(d->plan, sc, h);
    gp_time_axis(d, b);
    ks_buf_printf(b,
                  "set key outside right top vertical font ',8' maxrows 16\nset rmargin 30\n"
                  "set style fill solid 0.85 noborder\nset ylabel 'CPU MHz (host model)'\n"
                  "set yrange [0:%.0f]\nset title '",
                  cap * 1.08);
    rep_gp_str(b, ana_plan_host_name(d->plan, sc, h));
    ks_buf_printf(b, ": %zu VM%s' noenhanced\nplot ", n, n == 1 ? "" : "s");
    size_t l = 0;
    for (size_t j = 0; j < nl; j++, l++) {
        const char *label, *color;
        char buf[96];
        if (hyp && j == 0) {
            label = "hypervisor";
            color = "#bbbbbb";
        } else if (others && j == nl - 1) {
            snprintf(buf, sizeof buf, "%zu other VMs", n - top);
            label = buf;
            color = "#999999";
        } else {
            size_t vj = j - (hyp ? 1 : 0);
            label = d->s[v[vj].srv].name;
            color = palette[vj % NPALETTE];
        }
        if (j == 0)
            ks_buf_printf(b, "$d using 1:(0):%zu", j + 2);
        else
            ks_buf_printf(b, ", $d using 1:%zu:%zu", j + 1, j + 2);
        ks_buf_printf(b, " with filledcurves lc rgb '%s' title '", color);
        rep_gp_str(b, label);
        ks_buf_appends(b, "' noenhanced");
    }
    char lab[2][96];
    snprintf(lab[0], sizeof lab[0], "capacity %.0f MHz", cap);
    snprintf(lab[1], sizeof lab[1], "limit %.0f %% (%.0f MHz)",
             rep_jnum(d->jpol, "cpu_max_percent"), lim);
    gp_hline(b, cap, "lw 2 lc rgb '#000000'", lab[0], nl == 0);
    gp_hline(b, lim, "dt 2 lw 2 lc rgb '#c62828'", lab[1], 0);
    ks_buf_appends(b, "\n");
    free(lay);
    free(v);
}

static void script_heat(const rep_doc *d, ks_buf *b)
{
    double mx = 0;
    ks_buf_appends(b, "$h << EOD\n");
    for (int wd = 0; wd < 7; wd++)
        for (int h = 0; h < 24; h++) {
            if (!d->heat_n[wd][h])
                continue;
            double v = d->heat[wd][h] / (double)d->heat_n[wd][h];
            mx = v > mx ? v : mx;
            ks_buf_printf(b, "%d %d %.2f\n", h, wd, v);
        }
    ks_buf_appends(b, "EOD\n");
    double top = ceil(mx / 10) * 10;
    if (top < 10)
        top = 10;
    ks_buf_printf(b,
                  "set xrange [-0.5:23.5]\nset yrange [6.5:-0.5]\nset xtics 0,1,23 out "
                  "nomirror\nset ytics ('Mon' 0, 'Tue' 1, 'Wed' 2, 'Thu' 3, 'Fri' 4, 'Sat' 5, "
                  "'Sun' 6) out nomirror\nset xlabel 'hour of day (UTC)'\nset cblabel 'CPU use "
                  "%%'\nset cbrange [0:%.0f]\nset palette defined (0 '#f7fbff', 0.35 '#c6dbef', "
                  "0.65 '#fdae61', 1 '#d7191c')\nset tics scale 0\nunset key\n"
                  "plot $h using 1:2:3 with image pixels, $h using 1:2:(sprintf('%%.0f',$3)) "
                  "with labels font ',8'\n",
                  top);
}

static void script_scenarios(const rep_doc *d, ks_buf *b)
{
    static const struct {
        const char *key, *title;
    } panels[] = {
        {"hosts", "hosts (dot: lower bound)"},
        {"power_kwh_year", "power, kWh/year"},
        {"cost", "cost of the hosts"},
        {"rack_units", "rack units"},
    };
    const json_t *scs = json_object_get(d->jsum, "scenarios");
    ks_buf_appends(b, "$s << EOD\n");
    size_t i;
    const json_t *sc;
    json_array_foreach(scs, i, sc)
    {
        ks_buf_appends(b, "\"");
        for (const char *p = rep_jstr(sc, "name"); *p; p++)
            if (*p != '"' && (unsigned char)*p >= 0x20)
                ks_buf_append(b, p, 1);
        ks_buf_appends(b, "\"");
        for (size_t k = 0; k < 4; k++)
            gp_num(b, rep_jnum(sc, panels[k].key));
        gp_num(b, rep_jnum(sc, "lower_bound"));
        ks_buf_printf(b, " %d\n", (int)i == d->rec);
    }
    ks_buf_appends(b, "EOD\n");
    size_t np = 0;
    bool have[4];
    for (size_t k = 0; k < 4; k++) {
        have[k] = false;
        json_array_foreach(scs, i, sc)
        {
            if (!isnan(rep_jnum(sc, panels[k].key)))
                have[k] = true;
        }
        np += have[k];
    }
    size_t n = json_array_size(scs);
    ks_buf_printf(b,
                  "set style fill solid 0.85 border -1\nset boxwidth 0.6\nunset key\n"
                  "set xrange [-0.6:%.1f]\nset yrange [0:*]\nset xtics noenhanced nomirror\n"
                  "set grid ytics lc rgb '#dddddd'\nset format y '%%.0f'\n"
                  "set multiplot layout 1,%zu\n",
                  (double)n - 0.4, np);
    for (size_t k = 0; k < 4; k++) {
        if (!have[k])
            continue;
        /* hosts and rack units are whole: tics on whole numbers */
        double mx = 0;
        json_array_foreach(scs, i, sc)
        {
            double v = rep_jnum(sc, panels[k].key);
            mx = !isnan(v) && v > mx ? v : mx;
        }
        if (k == 0 || k == 3)
            ks_buf_printf(b, "set ytics %.0f\n", ceil(mx / 8) > 1 ? ceil(mx / 8) : 1);
        else
            ks_buf_appends(b, "set ytics autofreq\n");
        ks_buf_printf(b,
                      "set title '%s'\nplot $s using 0:%zu:($7 > 0 ? 0xc44e52 : 0x4c72b0):xtic(1) "
                      "with boxes lc rgb variable",
                      panels[k].title, k + 2);
        if (k == 0)
            ks_buf_appends(b, ", $s using 0:6 with points pt 7 ps 1.2 lc rgb '#000000'");
        ks_buf_appends(b, "\n");
    }
    ks_buf_appends(b, "unset multiplot\n");
}

/* The recommended scenario's summed demand against its hosts' capacity. */
static void script_fleet(const rep_doc *d, ks_buf *b)
{
    size_t sc = (size_t)d->rec, nh = ana_plan_scenario_hosts(d->plan, sc);
    double *tot = ks_calloc(d->nslots + 1, sizeof *tot);
    for (size_t i = 0; i < d->ns; i++) {
        const double *dem = rep_demand(d, sc, i);
        if (dem)
            for (size_t t = 0; t < d->nslots; t++)
                tot[t] += dem[t];
    }
    size_t k = bucket_of(d->nslots);
    ks_buf_appends(b, "$d << EOD\n");
    for (size_t t0 = 0; t0 < d->nslots; t0 += k) {
        double mx = 0;
        for (size_t t = t0; t < t0 + k && t < d->nslots; t++)
            mx = tot[t] > mx ? tot[t] : mx;
        ks_buf_printf(b, "%lld %.1f\n", (long long)(d->t0 + (time_t)t0 * d->step),
                      mx + d->host_overhead_mhz * (double)nh);
    }
    ks_buf_appends(b, "EOD\n");
    free(tot);
    double cap = 0, lim = 0;
    for (size_t h = 0; h < nh; h++) {
        cap += ana_plan_host_capacity_mhz(d->plan, sc, h);
        lim += ana_plan_host_limit_mhz(d->plan, sc, h);
    }
    gp_time_axis(d, b);
    ks_buf_printf(b,
                  "set key outside right top vertical font ',8'\nset rmargin 30\n"
                  "set style fill solid 0.6 noborder\nset ylabel 'CPU MHz (host model)'\n"
                  "set yrange [0:%.0f]\nplot $d using 1:(0):2 with filledcurves lc rgb "
                  "'#4c72b0' title 'demand of all VMs'",
                  cap * 1.08);
    char lab[2][96];
    snprintf(lab[0], sizeof lab[0], "capacity of %zu hosts", nh);
    snprintf(lab[1], sizeof lab[1], "their limit (%.0f %%)", rep_jnum(d->jpol, "cpu_max_percent"));
    gp_hline(b, cap, "lw 2 lc rgb '#000000'", lab[0], 0);
    gp_hline(b, lim, "dt 2 lw 2 lc rgb '#c62828'", lab[1], 0);
    ks_buf_appends(b, "\n");
}

void rep_plot_script(void *ctx, size_t i, ks_buf *out)
{
    const rep_doc *d = ctx;
    const rep_chart_ref *c = &d->refs[i];
    switch (c->kind) {
    case REP_CH_SERVER:
        script_server(d, c->a, out);
        break;
    case REP_CH_HOST:
        script_host(d, c->a, c->b, out);
        break;
    case REP_CH_HEAT:
        script_heat(d, out);
        break;
    case REP_CH_SCENARIOS:
        script_scenarios(d, out);
        break;
    case REP_CH_FLEET:
        script_fleet(d, out);
        break;
    }
}

static int add_chart(rep_doc *d, int kind, size_t a, size_t b, const char *id, const char *title,
                     int w, int h)
{
    size_t i = rep_charts_add(d->charts, id, title, w, h);
    d->refs = ks_reallocarray(d->refs, i + 1, sizeof *d->refs);
    d->refs[i] = (rep_chart_ref){.kind = kind, .a = a, .b = b};
    d->nrefs = i + 1;
    return (int)i;
}

void rep_plot_register(rep_doc *d)
{
    char id[256], title[320];
    d->heat_chart = d->scen_chart = d->fleet_chart = -1;
    if (d->rec >= 0)
        d->fleet_chart = add_chart(d, REP_CH_FLEET, 0, 0, "fleet",
                                   "CPU demand of the recommended scenario", 1000, 300);
    if (d->heat_known)
        d->heat_chart =
            add_chart(d, REP_CH_HEAT, 0, 0, "heatmap", "CPU use by hour and weekday", 1000, 300);
    if (d->nsc)
        d->scen_chart = add_chart(d, REP_CH_SCENARIOS, 0, 0, "scenarios", "scenarios compared",
                                  240 * (int)(d->nsc < 2 ? 2 : d->nsc) + 240, 300);
    d->host_chart = ks_calloc(d->nsc + 1, sizeof *d->host_chart);
    for (size_t sc = 0; sc < d->nsc; sc++) {
        size_t nh = ana_plan_scenario_hosts(d->plan, sc);
        d->host_chart[sc] = ks_calloc(nh + 1, sizeof **d->host_chart);
        /* the recommended scenario's hosts always; the others' for small
         * studies (collapsed), where they cost little */
        bool want = (int)sc == d->rec || !d->server_pages;
        for (size_t h = 0; h < nh; h++) {
            d->host_chart[sc][h] = -1;
            if (!want)
                continue;
            snprintf(id, sizeof id, "host-%zu-%zu", sc, h);
            snprintf(title, sizeof title, "%s: CPU demand of its VMs",
                     ana_plan_host_name(d->plan, sc, h));
            d->host_chart[sc][h] = add_chart(d, REP_CH_HOST, sc, h, id, title, 1000, 330);
        }
    }
    for (size_t i = 0; i < d->ns; i++) {
        /* nothing measured in the period: nothing to draw (the section
         * says so, rather than a gnuplot error about an empty plot) */
        if (!d->s[i].measured)
            continue;
        snprintf(id, sizeof id, "server-%zu", i);
        snprintf(title, sizeof title, "%s: CPU and memory", d->s[i].name);
        d->s[i].chart = add_chart(d, REP_CH_SERVER, i, 0, id, title, 900, 340);
    }
}
