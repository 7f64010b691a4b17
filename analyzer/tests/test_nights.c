/* test_nights.c: [migration] and [depends NAME] parsing, conversion
 * estimates, and the night scheduler's rules (weekdays, windows past
 * midnight, lanes, dependencies, anti-affinity, risk, long servers), on
 * small hand-made inputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ana_nights.h"
#include "ks_ini.h"
#include "ks_test.h"

#define JAN1_2027 1798761600 /* Friday 2027-01-01T00:00:00Z */
#define DAY 86400

static ks_ini *ini_of(const char *text)
{
    ks_error err;
    ks_ini *ini = ks_ini_parse(text, strlen(text), "study.ini", &err);
    if (!ini)
        fprintf(stderr, "bad test ini: %s\n", err.message);
    return ini;
}

static ana_night_policy defaults(void)
{
    ks_ini *ini = ini_of("[migration]\nstart_date = 2027-01-01\n");
    ana_night_policy p;
    ks_error err;
    if (ana_night_policy_parse(ini, 0, &p, &err) < 0)
        fprintf(stderr, "defaults: %s\n", err.message);
    ks_ini_free(ini);
    return p;
}

/* n servers named s00.. with the given disks (GiB) and no CPU load */
typedef struct fixture {
    char names[64][8];
    ana_night_item items[64];
    ana_nights_in in;
} fixture;

static void fixture_init(fixture *f, const ana_night_policy *p, size_t n, double disk_gib)
{
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < n; i++) {
        snprintf(f->names[i], sizeof f->names[i], "s%02zu", i);
        f->items[i] = (ana_night_item){
            .name = f->names[i], .disk_gib = disk_gib, .cpu_share = 0, .anti_group = -1};
    }
    f->in = (ana_nights_in){.pol = p, .items = f->items, .nitems = n};
}

static int plan(const fixture *f, ana_schedule *s)
{
    ks_error err;
    ks_error_clear(&err);
    int rc = ana_nights_plan(&f->in, s, &err);
    if (rc < 0)
        fprintf(stderr, "plan: %s\n", err.message);
    return rc;
}

/* Every server inside its window (unless alone and long), at most K at once
 * at any minute, each in exactly one night. */
static void check_invariants(const fixture *f, const ana_schedule *s)
{
    const ana_night_policy *p = f->in.pol;
    size_t seen = 0;
    for (size_t k = 0; k < s->nnights; k++) {
        const ana_night *nt = &s->nights[k];
        seen += nt->nitems;
        for (size_t j = 0; j < nt->nitems; j++) {
            const ana_night_slot *sl = &s->slot[nt->items[j]];
            KS_CHECK(sl->night == k);
            KS_CHECK(sl->start >= nt->start && sl->start < nt->end);
            KS_CHECK(sl->end == sl->start + sl->minutes * 60);
            KS_CHECK(sl->end <= nt->end || (sl->own_night && nt->nitems == 1));
            KS_CHECK(sl->lane >= 1 && sl->lane <= p->max_parallel);
        }
        for (time_t t = nt->start; t < nt->end + 2 * DAY; t += 60) {
            unsigned busy = 0;
            for (size_t j = 0; j < nt->nitems; j++) {
                const ana_night_slot *sl = &s->slot[nt->items[j]];
                busy += sl->start <= t && t < sl->end;
            }
            KS_CHECK(busy <= p->max_parallel);
            if (busy > p->max_parallel)
                break;
        }
    }
    KS_CHECK(seen == f->in.nitems);
}

KS_TEST(policy_defaults_and_errors)
{
    ks_ini *ini = ini_of("[policy]\npercentile = 95\n");
    ana_night_policy p;
    ks_error err;
    /* default start: the day after the last data day (a Wednesday here) */
    KS_CHECK(ana_night_policy_parse(ini, JAN1_2027 + 5 * DAY + 3600, &p, &err) == 0);
    KS_CHECK(p.start_date == JAN1_2027 + 6 * DAY);
    KS_CHECK(p.window_start == 20 * 60 && p.window_end == 6 * 60);
    KS_CHECK(p.days == 0x3e);
    KS_CHECK(p.max_parallel == 2);
    KS_CHECK_NEAR(p.bandwidth_mbps, 1000, 0);
    KS_CHECK_NEAR(p.conversion_min, 30, 0);
    KS_CHECK_NEAR(p.validation_min, 20, 0);
    KS_CHECK_NEAR(p.default_disk_gib, 100, 0);
    KS_CHECK(!p.deps_last);
    /* data up to a Friday: the first weekday after it is Monday */
    KS_CHECK(ana_night_policy_parse(ini, JAN1_2027 + 7200, &p, &err) == 0);
    KS_CHECK(p.start_date == JAN1_2027 + 3 * DAY);
    ks_ini_free(ini);

    ini = ini_of("[migration]\nstart_date = 2027-01-09\nwindow_start = 22:30\nwindow_end = "
                 "23:45\ndays = sat, SUN\nmax_parallel = 4\ndependencies = last\n");
    KS_CHECK(ana_night_policy_parse(ini, 0, &p, &err) == 0);
    KS_CHECK(p.start_date == JAN1_2027 + 8 * DAY);
    KS_CHECK(p.window_start == 22 * 60 + 30 && p.window_end == 23 * 60 + 45);
    KS_CHECK(p.days == ((1u << 6) | 1u));
    KS_CHECK(p.max_parallel == 4 && p.deps_last);
    ks_ini_free(ini);

    const char *bad[][2] = {
        {"[migration]\nstart_date = 2027-02-30\n", "study.ini:2: 'start_date' in [migration]"},
        {"[migration]\nwindow_start = 8pm\n", "study.ini:2: 'window_start' in [migration] must"},
        {"[migration]\nwindow_end = 24:00\n", "'window_end' in [migration] must be a time"},
        {"[migration]\nwindow_start = 06:00\n", "'window_end' in [migration] equals"},
        {"[migration]\ndays = mon, tues\n", "study.ini:2: 'days' in [migration] must list days"},
        {"[migration]\nmax_parallel = 0\n", "study.ini:2: 'max_parallel'"},
        {"[migration]\ndependencies = before\n", "'dependencies' in [migration] must be first"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ini = ini_of(bad[i][0]);
        ks_error_clear(&err);
        KS_CHECK(ana_night_policy_parse(ini, 0, &p, &err) == -1);
        if (!strstr(err.message, bad[i][1]))
            fprintf(stderr, "got: %s\n", err.message);
        KS_CHECK(strstr(err.message, bad[i][1]) != NULL);
        ks_ini_free(ini);
    }
}

KS_TEST(depends_parse)
{
    const char *names[] = {"web01", "web02", "db01", "ldap01"};
    ks_ini *ini = ini_of("[depends crm]\nservers = web01, web02\nneeds = db01 ldap01\n");
    ana_night_dep *d;
    size_t n;
    ks_error err;
    KS_CHECK(ana_depends_parse(ini, names, 4, &d, &n, &err) == 0);
    KS_CHECK(n == 4);
    KS_CHECK(d[0].server == 0 && d[0].need == 2);
    KS_CHECK(d[1].server == 0 && d[1].need == 3);
    KS_CHECK(d[3].server == 1 && d[3].need == 3);
    free(d);
    ks_ini_free(ini);

    const char *bad[][2] = {
        {"[depends x]\nservers = web01\nneeds = db02\n",
         "study.ini:3: [depends x] names 'db02', which is not in inventory.csv"},
        {"[depends x]\nserver = web01\nneeds = db01\n", "[depends x] needs 'servers = NAME"},
        {"[depends a]\nservers = web01\nneeds = db01\n[depends b]\nservers = db01\nneeds = "
         "ldap01\n[depends c]\nservers = ldap01\nneeds = web01\n",
         "cycle: 'web01' needs 'db01' needs 'ldap01' needs 'web01'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ini = ini_of(bad[i][0]);
        ks_error_clear(&err);
        KS_CHECK(ana_depends_parse(ini, names, 4, &d, &n, &err) == -1);
        KS_CHECK(d == NULL && n == 0);
        if (!strstr(err.message, bad[i][1]))
            fprintf(stderr, "got: %s\n", err.message);
        KS_CHECK(strstr(err.message, bad[i][1]) != NULL);
        ks_ini_free(ini);
    }
}

KS_TEST(durations)
{
    ana_night_policy p = defaults();
    /* 100 GiB x 8192 / 1000 Mbit/s = 819.2 s = 13.65 min, + 30 + 20 */
    KS_CHECK(ana_night_minutes(&p, 100) == 64);
    KS_CHECK(ana_night_minutes(&p, NAN) == 64); /* the default 100 GiB */
    KS_CHECK(ana_night_minutes(&p, 0) == 50);
    p.bandwidth_mbps = 8192.0 / 60; /* one GiB a minute */
    KS_CHECK(ana_night_minutes(&p, 10) == 60);
    p.conversion_min = p.validation_min = 0;
    KS_CHECK(ana_night_minutes(&p, 0) == 1);

    p = defaults();
    fixture f;
    fixture_init(&f, &p, 2, 500);
    f.items[1].disk_gib = NAN;
    ana_schedule s;
    KS_CHECK(plan(&f, &s) == 0);
    KS_CHECK(s.slot[0].minutes == 119 && !s.slot[0].disk_default); /* 68.3 + 50 */
    KS_CHECK(s.slot[1].minutes == 64 && s.slot[1].disk_default);
    KS_CHECK_NEAR(s.slot[1].disk_gib, 100, 0);
    ana_schedule_free(&s);
}

KS_TEST(weekends_skipped)
{
    ana_night_policy p = defaults(); /* from Friday 2027-01-01 */
    p.max_parallel = 1;
    p.conversion_min = 9 * 60; /* one server per night */
    fixture f;
    fixture_init(&f, &p, 3, 0);
    ana_schedule s;
    KS_CHECK(plan(&f, &s) == 0);
    KS_CHECK(s.nnights == 3);
    KS_CHECK(s.nights[0].start == JAN1_2027 + 20 * 3600);           /* Friday */
    KS_CHECK(s.nights[1].start == JAN1_2027 + 3 * DAY + 20 * 3600); /* Monday */
    KS_CHECK(s.nights[2].start == JAN1_2027 + 4 * DAY + 20 * 3600); /* Tuesday */
    KS_CHECK(s.nights[0].end == JAN1_2027 + DAY + 6 * 3600);        /* Saturday morning */
    check_invariants(&f, &s);
    ana_schedule_free(&s);

    /* a start date on a Sunday: the first night is Monday's */
    ks_ini *ini = ini_of("[migration]\nstart_date = 2027-01-03\n");
    ks_error err;
    KS_CHECK(ana_night_policy_parse(ini, 0, &p, &err) == 0);
    ks_ini_free(ini);
    fixture_init(&f, &p, 1, 0);
    KS_CHECK(plan(&f, &s) == 0);
    KS_CHECK(s.nights[0].start == JAN1_2027 + 3 * DAY + 20 * 3600);
    ana_schedule_free(&s);
}

KS_TEST(window_past_midnight)
{
    ana_night_policy p = defaults();
    p.max_parallel = 1;
    p.conversion_min = 60;
    p.validation_min = 0;
    /* 10 one-hour servers fill 20:00-06:00 exactly; the 11th goes to Monday */
    fixture f;
    fixture_init(&f, &p, 11, 0);
    ana_schedule s;
    KS_CHECK(plan(&f, &s) == 0);
    size_t on_first = 0;
    time_t last_end = 0;
    for (size_t i = 0; i < 11; i++)
        if (s.slot[i].night == 0) {
            on_first++;
            last_end = s.slot[i].end > last_end ? s.slot[i].end : last_end;
        }
    /* 11 servers: one is among the riskiest, but all tie at 0: the first */
    KS_CHECK(s.slot[0].risky && s.slot[0].night == 1);
    KS_CHECK(on_first == 10);
    KS_CHECK(last_end == JAN1_2027 + DAY + 6 * 3600);
    KS_CHECK(s.nights[0].busy_minutes == 600);
    check_invariants(&f, &s);
    ana_schedule_free(&s);

    /* a window inside one day (01:00-04:00) starts on the listed day */
    p.window_start = 60;
    p.window_end = 240;
    fixture_init(&f, &p, 2, 0);
    KS_CHECK(plan(&f, &s) == 0);
    KS_CHECK(s.nights[0].start == JAN1_2027 + 3600 && s.nights[0].end == JAN1_2027 + 4 * 3600);
    KS_CHECK(s.slot[0].night == 0 && s.slot[1].night == 0 && s.slot[1].start == JAN1_2027 + 7200);
    ana_schedule_free(&s);
}

KS_TEST(lanes_never_exceeded)
{
    ana_night_policy p = defaults();
    p.max_parallel = 3;
    fixture f;
    fixture_init(&f, &p, 40, 0);
    for (size_t i = 0; i < 40; i++) {
        f.items[i].disk_gib = (double)((i * 37) % 23) * 40; /* 0 .. 880 GiB */
        f.items[i].cpu_share = (double)((i * 11) % 7) / 10;
    }
    ana_schedule s;
    KS_CHECK(plan(&f, &s) == 0);
    check_invariants(&f, &s);
    unsigned max_lane = 0;
    for (size_t i = 0; i < 40; i++)
        max_lane = s.slot[i].lane > max_lane ? s.slot[i].lane : max_lane;
    KS_CHECK(max_lane == 3); /* the lanes are used */
    ana_schedule_free(&s);
}

KS_TEST(dependencies_first_and_last)
{
    ana_night_policy p = defaults();
    fixture f;
    fixture_init(&f, &p, 4, 0);
    f.items[0].disk_gib = 1000; /* the riskiest */
    /* s01 and s02 need s03; s03 needs s00 */
    ana_night_dep deps[] = {
        {.server = 1, .need = 3}, {.server = 2, .need = 3}, {.server = 3, .need = 0}};
    f.in.deps = deps;
    f.in.ndeps = 3;
    ana_schedule s;
    KS_CHECK(plan(&f, &s) == 0);
    for (size_t e = 0; e < 3; e++)
        KS_CHECK(s.slot[deps[e].need].end <= s.slot[deps[e].server].start);
    KS_CHECK(s.slot[0].order == 0 && s.slot[3].order == 1);
    KS_CHECK(s.slot[1].after == 3 && s.slot[3].after == 0);
    check_invariants(&f, &s);
    ana_schedule_free(&s);

    p.deps_last = true;
    KS_CHECK(plan(&f, &s) == 0);
    for (size_t e = 0; e < 3; e++)
        KS_CHECK(s.slot[deps[e].server].end <= s.slot[deps[e].need].start);
    KS_CHECK(s.slot[0].order == 3);
    check_invariants(&f, &s);
    ana_schedule_free(&s);
}

KS_TEST(cycle_error)
{
    ana_night_policy p = defaults();
    fixture f;
    fixture_init(&f, &p, 4, 0);
    ana_night_dep deps[] = {
        {.server = 0, .need = 1}, {.server = 2, .need = 3}, {.server = 3, .need = 2}};
    f.in.deps = deps;
    f.in.ndeps = 3;
    ana_schedule s;
    ks_error err;
    ks_error_clear(&err);
    KS_CHECK(ana_nights_plan(&f.in, &s, &err) == -1);
    KS_CHECK(err.code == KS_E_CONFIG);
    KS_CHECK(strstr(err.message, "cycle: 's02' needs 's03' needs 's02'") != NULL);
    KS_CHECK(s.slot == NULL && s.nights == NULL);
    ana_schedule_free(&s); /* harmless after an error */
}

KS_TEST(anti_affinity_nights)
{
    ana_night_policy p = defaults();
    p.max_parallel = 4;
    fixture f;
    fixture_init(&f, &p, 6, 0);
    f.items[1].anti_group = f.items[2].anti_group = f.items[4].anti_group = 0;
    f.items[3].anti_group = f.items[5].anti_group = 1;
    ana_schedule s;
    KS_CHECK(plan(&f, &s) == 0);
    KS_CHECK(s.slot[1].night != s.slot[2].night && s.slot[2].night != s.slot[4].night &&
             s.slot[1].night != s.slot[4].night);
    KS_CHECK(s.slot[3].night != s.slot[5].night);
    KS_CHECK(s.slot[2].anti_skipped + s.slot[4].anti_skipped >= 1);
    check_invariants(&f, &s);
    ana_schedule_free(&s);
}

KS_TEST(riskiest_not_first)
{
    ana_night_policy p = defaults();
    fixture f;
    fixture_init(&f, &p, 20, 10);
    f.items[7].disk_gib = 300;   /* largest */
    f.items[12].cpu_share = 0.9; /* busiest */
    f.items[3].cpu_share = 0.1;
    ana_schedule s;
    KS_CHECK(plan(&f, &s) == 0);
    /* 20 servers: the top decile is 2 */
    size_t risky = 0;
    for (size_t i = 0; i < 20; i++)
        risky += s.slot[i].risky;
    KS_CHECK(risky == 2);
    KS_CHECK(s.slot[7].risky && s.slot[12].risky && !s.slot[3].risky);
    KS_CHECK(s.slot[7].night > 0 && s.slot[12].night > 0);
    KS_CHECK(s.nights[0].nitems > 0);
    KS_CHECK_NEAR(s.slot[7].risk, 1.0, 1e-9);
    check_invariants(&f, &s);
    ana_schedule_free(&s);

    /* two servers: nobody is "the riskiest" */
    fixture_init(&f, &p, 2, 10);
    f.items[1].disk_gib = 500;
    KS_CHECK(plan(&f, &s) == 0);
    KS_CHECK(!s.slot[1].risky && s.slot[1].night == 0);
    ana_schedule_free(&s);
}

KS_TEST(longer_than_window)
{
    ana_night_policy p = defaults();
    fixture f;
    fixture_init(&f, &p, 5, 0);
    f.items[2].disk_gib = 5000; /* 683 min + 50: longer than 600 */
    ana_schedule s;
    KS_CHECK(plan(&f, &s) == 0);
    const ana_night_slot *sl = &s.slot[2];
    KS_CHECK(sl->own_night && sl->minutes == 733);
    KS_CHECK(sl->night > 0); /* also the riskiest of 5 */
    const ana_night *nt = &s.nights[sl->night];
    KS_CHECK(nt->nitems == 1 && nt->exclusive);
    KS_CHECK(sl->start == nt->start && sl->end > nt->end && sl->lane == 1);
    for (size_t i = 0; i < 5; i++)
        KS_CHECK(i == 2 || !s.slot[i].own_night);
    check_invariants(&f, &s);
    ks_buf b;
    ks_buf_init(&b, 1 << 16);
    ana_nights_table(&f.in, &s, &b);
    KS_CHECK(strstr(ks_buf_str(&b), "s02: estimated 733 minutes, longer than a whole window"));
    ks_buf_reset(&b);
    ana_nights_explain(&f.in, &s, 2, &b);
    KS_CHECK(strstr(ks_buf_str(&b), "among the riskiest, so never on night 1"));
    KS_CHECK(strstr(ks_buf_str(&b), "alone on its night"));
    ks_buf_free(&b);
    json_t *j = ana_nights_json(&f.in, &s);
    KS_CHECK(json_array_size(j) == 2);
    json_t *x = json_array_get(json_object_get(json_array_get(j, 1), "servers"), 0);
    KS_CHECK_STR(json_string_value(json_object_get(x, "name")), "s02");
    KS_CHECK(json_is_string(json_object_get(x, "warning")));
    KS_CHECK_STR(json_string_value(json_object_get(json_array_get(j, 1), "start")),
                 "2027-01-04T20:00:00Z");
    json_decref(j);
    ana_schedule_free(&s);
}

KS_TEST(determinism)
{
    ana_night_policy p = defaults();
    p.max_parallel = 3;
    fixture f;
    fixture_init(&f, &p, 30, 0);
    for (size_t i = 0; i < 30; i++) {
        f.items[i].disk_gib = (double)((i * 13) % 9) * 50; /* many ties */
        f.items[i].anti_group = i % 5 == 0 ? 0 : -1;
    }
    ana_night_dep deps[] = {{.server = 4, .need = 9}, {.server = 9, .need = 17}};
    f.in.deps = deps;
    f.in.ndeps = 2;
    ana_schedule a, b;
    KS_CHECK(plan(&f, &a) == 0);
    KS_CHECK(plan(&f, &b) == 0);
    KS_CHECK(a.nnights == b.nnights);
    for (size_t i = 0; i < 30; i++)
        KS_CHECK(memcmp(&a.slot[i], &b.slot[i], sizeof a.slot[i]) == 0);
    json_t *ja = ana_nights_json(&f.in, &a), *jb = ana_nights_json(&f.in, &b);
    KS_CHECK(json_equal(ja, jb));
    json_decref(ja);
    json_decref(jb);
    check_invariants(&f, &a);
    ana_schedule_free(&a);
    ana_schedule_free(&b);
}

int main(void)
{
    KS_RUN(policy_defaults_and_errors);
    KS_RUN(depends_parse);
    KS_RUN(durations);
    KS_RUN(weekends_skipped);
    KS_RUN(window_past_midnight);
    KS_RUN(lanes_never_exceeded);
    KS_RUN(dependencies_first_and_last);
    KS_RUN(cycle_error);
    KS_RUN(anti_affinity_nights);
    KS_RUN(riskiest_not_first);
    KS_RUN(longer_than_window);
    KS_RUN(determinism);
    return ks_test_summary();
}
