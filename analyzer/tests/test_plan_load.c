/* test_plan_load.c: the demand a plan packs is the load a VM can really
 * put on its host, on a whole study (imported CSV, study.ini, analyze):
 * all it measured up to what its vCPUs deliver, or with [policy] cpu_cap =
 * percentile its quota, which then goes into plan.json for the domain. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "analyzer.h"
#include "collector.h"
#include "ks_fs.h"
#include "ks_inventory.h"
#include "ks_mem.h"
#include "ks_study.h"
#include "ks_test.h"

#define T0 1699999200L /* on the hour */
#define HOURS (30 * 24)
#define PEAK 250 /* the hour both servers peak in */

/* Two servers of 2 cores x 2600 MHz, 30 days of hourly rows: 30 % of a
 * 2-core host (1560 MHz) every hour, 70 % (3640 MHz) in the same hour, far
 * above their 95th percentile; extra: more rows. */
static char *make_study(const char *policy)
{
    char tmpl[] = "/tmp/test_plan_load.XXXXXX";
    char *dir = ks_strdup(mkdtemp(tmpl));
    ks_error err;
    KS_CHECK(ks_study_init(dir, &err) == 0);
    KS_AUTOFREE char *ini = ks_asprintf("%s/study.ini", dir);
    KS_AUTOFREE char *text = ks_asprintf("[study]\nname = load\n\n[policy]\n"
                                         "n_plus_1 = no\nvcpu_ratio = 0\n"
                                         "cpu_max_percent = 80\nmemory_max_percent = 90\n%s\n"
                                         "[host-model small]\ncores = 2\nmhz = 2600\n"
                                         "memory_gib = 16\n",
                                         policy);
    KS_CHECK(ks_write_file_atomic(ini, text, strlen(text), 0644, &err) == 0);
    KS_AUTOFREE char *csv = ks_asprintf("%s/load.csv", dir);
    FILE *f = fopen(csv, "w");
    KS_CHECK(f != NULL);
    fprintf(f, "server,timestamp,cpu_mhz,mem_used[MiB],mem_total[MiB],cores,mhz\n");
    for (int s = 0; s < 2; s++)
        for (long k = 1; k <= HOURS; k++)
            fprintf(f, "%s,%ld,%d,1024,2048,2,2600\n", s ? "b" : "a", T0 + k * 3600,
                    k - 1 == PEAK ? 3640 : 1560);
    fclose(f);
    ks_study *st = ks_study_open(dir, &err);
    KS_CHECK(st != NULL);
    col_import_options o = {.format = COL_IMPORT_CSV, .input = csv, .quiet = true};
    col_import *imp = col_import_run(st, &o, &err);
    KS_CHECK(imp != NULL);
    if (imp)
        KS_CHECK(col_import_get(imp, 0)->ok && col_import_get(imp, 1)->ok);
    col_import_free(imp);
    ks_study_free(st);
    return dir;
}

/* the plan keeps pointers into its inventory: freed after it */
static ks_inventory *inv;

static ana_plan *plan_of(const char *dir)
{
    ks_error err;
    ks_study *st = ks_study_open(dir, &err);
    KS_AUTOFREE char *invp = ks_asprintf("%s/inventory.csv", dir);
    inv = ks_inventory_load(invp, &err);
    KS_CHECK(st && inv);
    ana_options opt = {.quiet = true};
    ana_plan *pl = ana_plan_build(st, inv, &opt, &err);
    if (!pl)
        fprintf(stderr, "analyze: %s\n", err.message);
    KS_CHECK(pl != NULL);
    ks_study_free(st);
    return pl;
}

static size_t server_index(const ana_plan *pl, const char *name)
{
    for (size_t i = 0; ana_plan_server_name(pl, i); i++)
        if (strcmp(ana_plan_server_name(pl, i), name) == 0)
            return i;
    return (size_t)-1;
}

static const json_t *placement(const json_t *plan, const char *server)
{
    const json_t *pls =
        json_object_get(json_array_get(json_object_get(plan, "scenarios"), 0), "placements");
    for (size_t i = 0; i < json_array_size(pls); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(pls, i), "server")), server) ==
            0)
            return json_array_get(pls, i);
    return NULL;
}

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void remove_study(char *dir)
{
    ks_inventory_free(inv);
    inv = NULL;
    KS_AUTOFREE char *cmd = ks_asprintf("rm -rf '%s'", dir);
    KS_CHECK(system(cmd) == 0);
    free(dir);
}

/* The case: each VM usually at 30 % of a host, both at 70 % in the
 * same hour. Capped at their 95th percentile they fit together (36 % each
 * with the headroom, 72 %); but each has 1 vCPU, half the host, and takes
 * all of it in that hour: together 100 %, over the 80 % limit. */
KS_TEST(test_peaks_above_percentile_apart)
{
    char *dir = make_study("");
    ana_plan *pl = plan_of(dir);
    if (!pl) {
        remove_study(dir);
        return;
    }
    size_t a = server_index(pl, "a"), b = server_index(pl, "b");
    KS_CHECK(a != (size_t)-1 && b != (size_t)-1);
    int ha = ana_plan_scenario_host_of(pl, 0, a), hb = ana_plan_scenario_host_of(pl, 0, b);
    KS_CHECK(ha >= 0 && hb >= 0);
    KS_CHECK(ha != hb);
    KS_CHECK(ana_plan_scenario_hosts(pl, 0) == 2);
    /* the demand packed: 1872 MHz (1560 + 20 %) most hours, and in the
     * peak hour all its vCPU gives (2600), not 3640 x 1.2 */
    const double *d = ana_plan_scenario_demand(pl, 0, a);
    KS_CHECK(d != NULL);
    if (d) {
        KS_CHECK_NEAR(d[PEAK], 2600, 1e-6);
        KS_CHECK_NEAR(d[PEAK + 1], 1872, 1e-6);
    }
    json_t *j = ana_plan_json(pl);
    const json_t *p = placement(j, "a");
    KS_CHECK(p != NULL);
    KS_CHECK_NEAR(num(p, "cpu_bound_mhz"), 2600, 1e-6);
    KS_CHECK(json_is_null(json_object_get(p, "cpu_quota_mhz")));
    /* it wanted 3640 and got 2600 in one hour: 28.6 % cut off */
    KS_CHECK_NEAR(num(p, "throttled_hours"), 1, 0);
    KS_CHECK_NEAR(num(p, "throttled_max_percent"), 100.0 * (3640 - 2600) / 3640, 0.01);
    /* the hosts' busiest slot, as --explain and the report say it */
    const json_t *hosts =
        json_object_get(json_array_get(json_object_get(j, "scenarios"), 0), "hosts");
    KS_CHECK_NEAR(num(json_array_get(hosts, 0), "cpu_peak_percent"), 50, 0.01);
    json_decref(j);
    ana_plan_free(pl);
    remove_study(dir);
}

/* The same servers with cpu_cap = percentile: packed at their quota of
 * 1872 MHz (0.72 cores), together on one host at 72 %; the quota and the
 * hour each would have been throttled are in plan.json. */
KS_TEST(test_percentile_cap_quota)
{
    char *dir = make_study("cpu_cap = percentile\n");
    ana_plan *pl = plan_of(dir);
    if (!pl) {
        remove_study(dir);
        return;
    }
    size_t a = server_index(pl, "a"), b = server_index(pl, "b");
    KS_CHECK(ana_plan_scenario_host_of(pl, 0, a) == ana_plan_scenario_host_of(pl, 0, b));
    KS_CHECK(ana_plan_scenario_hosts(pl, 0) == 1);
    json_t *j = ana_plan_json(pl);
    const json_t *p = placement(j, "b");
    KS_CHECK_NEAR(num(p, "cpu_quota_mhz"), 1872, 1e-6);
    KS_CHECK_NEAR(num(p, "throttled_hours"), 1, 0);
    KS_CHECK_NEAR(num(p, "throttled_max_percent"), 100.0 * (3640 - 1872) / 3640, 0.01);
    const json_t *srvs = json_object_get(j, "servers");
    for (size_t i = 0; i < json_array_size(srvs); i++)
        KS_CHECK_NEAR(num(json_array_get(srvs, i), "cpu_quota_cores"), 0.72, 1e-6);
    json_decref(j);
    ana_plan_free(pl);
    remove_study(dir);
}

KS_TEST(test_cpu_cap_refused)
{
    char *dir = make_study("cpu_cap = p95\n");
    ks_error err;
    ks_study *st = ks_study_open(dir, &err);
    KS_AUTOFREE char *invp = ks_asprintf("%s/inventory.csv", dir);
    inv = ks_inventory_load(invp, &err);
    ana_plan *pl = ana_plan_build(st, inv, NULL, &err);
    KS_CHECK(pl == NULL);
    KS_CHECK(strstr(err.message, "'cpu_cap' in [policy] must be vcpus") != NULL);
    KS_CHECK(strstr(err.message, "study.ini:") != NULL);
    ks_study_free(st);
    remove_study(dir);
}

int main(void)
{
    KS_RUN(test_peaks_above_percentile_apart);
    KS_RUN(test_percentile_cap_quota);
    KS_RUN(test_cpu_cap_refused);
    return ks_test_summary();
}
