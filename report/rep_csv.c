/* rep_csv.c: servers.csv, placements.csv and nights.csv, for
 * spreadsheets (columns in README "The report"). Fields are quoted as RFC
 * 4180 says; an unknown number is an empty field. */
#include "rep_internal.h"

#include <stdlib.h>

#include "ks_fs.h"
#include "ks_mem.h"

static void csv_reasons(ks_buf *b, const json_t *srv)
{
    ks_buf joined;
    ks_buf_init(&joined, REP_BUF_MAX);
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(srv, "reasons"), i, e)
    {
        if (i)
            ks_buf_appends(&joined, "; ");
        ks_buf_appends(&joined, json_string_value(e) ? json_string_value(e) : "");
    }
    rep_csv(b, ks_buf_str(&joined));
    ks_buf_free(&joined);
}

static int write_servers_csv(const rep_doc *d, ks_error *err)
{
    ks_buf b;
    ks_buf_init(&b, REP_BUF_MAX);
    ks_buf_appends(&b, "name,role,status,confidence_percent,cpu_avg_percent,cpu_p95_percent,"
                       "cpu_max_percent,cpu_p95_mhz,cpu_max_mhz,cpu_capacity_mhz,"
                       "memory_p95_percent,memory_p95_mib,memory_total_mib,memory_sized_mib,"
                       "vcpus,disk_size_gib,disk_used_gib,disk_p95_mbps,network_p95_mbps,"
                       "measured_slots,slots,reasons\n");
    for (size_t i = 0; i < d->ns; i++) {
        const rep_srv *s = &d->s[i];
        const json_t *disk = json_object_get(s->j, "disk");
        rep_csv(&b, s->name);
        ks_buf_appends(&b, ",");
        rep_csv(&b, s->role);
        ks_buf_appends(&b, ",");
        rep_csv(&b, s->status);
        double v[] = {s->confidence * 100,
                      rep_pct(s->cpu_avg, s->cap),
                      rep_pct(s->cpu_p95, s->cap),
                      rep_pct(s->cpu_max, s->cap),
                      s->cpu_p95,
                      s->cpu_max,
                      s->cap,
                      rep_pct(s->mem_p95, s->mem_total),
                      s->mem_p95,
                      s->mem_total,
                      rep_jnum(s->j, "memory_mib"),
                      rep_jnum(s->j, "vcpus"),
                      rep_jnum(disk, "size_gib"),
                      rep_jnum(disk, "used_gib"),
                      s->disk_p95,
                      s->net_p95};
        static const int prec[] = {1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 2, 2};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            ks_buf_appends(&b, ",");
            rep_csv_num(&b, v[k], prec[k]);
        }
        ks_buf_printf(&b, ",%zu,%zu,", s->measured, d->nslots);
        csv_reasons(&b, s->j);
        ks_buf_appends(&b, "\n");
    }
    KS_AUTOFREE char *path = ks_path_join(d->tmp, "servers.csv");
    int rc = rep_write_file(path, b.data, b.len, err);
    ks_buf_free(&b);
    return rc;
}

static int write_placements_csv(const rep_doc *d, ks_error *err)
{
    ks_buf b;
    ks_buf_init(&b, REP_BUF_MAX);
    ks_buf_appends(&b, "scenario,host,host_model,server,vcpus,memory_mib,cpu_mhz_p95\n");
    for (size_t sc = 0; sc < d->nsc; sc++) {
        const json_t *js = rep_scenario_json(d, sc);
        size_t k;
        const json_t *p;
        json_array_foreach(json_object_get(js, "placements"), k, p)
        {
            rep_csv(&b, rep_jstr(js, "name"));
            ks_buf_appends(&b, ",");
            rep_csv(&b, rep_jstr(p, "host"));
            ks_buf_appends(&b, ",");
            rep_csv(&b, rep_host_model(js, rep_jstr(p, "host")));
            ks_buf_appends(&b, ",");
            rep_csv(&b, rep_jstr(p, "server"));
            ks_buf_appends(&b, ",");
            rep_csv_num(&b, rep_jnum(p, "vcpus"), 0);
            ks_buf_appends(&b, ",");
            rep_csv_num(&b, rep_jnum(p, "memory_mib"), 0);
            ks_buf_appends(&b, ",");
            rep_csv_num(&b, rep_demand_p95(d, sc, rep_server_index(d, rep_jstr(p, "server"))), 0);
            ks_buf_appends(&b, "\n");
        }
    }
    KS_AUTOFREE char *path = ks_path_join(d->tmp, "placements.csv");
    int rc = rep_write_file(path, b.data, b.len, err);
    ks_buf_free(&b);
    return rc;
}

static int write_nights_csv(const rep_doc *d, ks_error *err)
{
    ks_buf b;
    ks_buf_init(&b, REP_BUF_MAX);
    ks_buf_appends(&b, "night,date,window_start,window_end,server,start,end,estimated_minutes,"
                       "lane,warning\n");
    size_t i, k;
    const json_t *n, *x;
    json_array_foreach(json_object_get(d->pj, "nights"), i, n)
    {
        json_array_foreach(json_object_get(n, "servers"), k, x)
        {
            rep_csv_num(&b, rep_jnum(n, "night"), 0);
            const char *f[] = {rep_jstr(n, "date"), rep_jstr(n, "start"), rep_jstr(n, "end"),
                               rep_jstr(x, "name"), rep_jstr(x, "start"), rep_jstr(x, "end")};
            for (size_t j = 0; j < sizeof f / sizeof f[0]; j++) {
                ks_buf_appends(&b, ",");
                rep_csv(&b, f[j]);
            }
            ks_buf_appends(&b, ",");
            rep_csv_num(&b, rep_jnum(x, "estimated_minutes"), 0);
            ks_buf_appends(&b, ",");
            rep_csv_num(&b, rep_jnum(x, "lane"), 0);
            ks_buf_appends(&b, ",");
            rep_csv(&b, rep_jstr(x, "warning"));
            ks_buf_appends(&b, "\n");
        }
    }
    KS_AUTOFREE char *path = ks_path_join(d->tmp, "nights.csv");
    int rc = rep_write_file(path, b.data, b.len, err);
    ks_buf_free(&b);
    return rc;
}

int rep_csv_write(const rep_doc *d, ks_error *err)
{
    if (write_servers_csv(d, err) < 0 || write_placements_csv(d, err) < 0 ||
        write_nights_csv(d, err) < 0)
        return -1;
    return 0;
}
