/* test_pack.c: ana_pack on hand-made cases with a known optimum, on random
 * instances (every constraint checked by ana_solution_valid), and against
 * the exact optimum found by GLPK's glpsol on small instances.
 *
 * Exits 77 (skip) after the other tests pass when glpsol is missing
 * (Debian: apt-get install glpk-utils).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ana_pack.h"
#include "ks_mem.h"
#include "ks_test.h"

/* ------------------------------------------------------------- fixtures */

#define MAXI 64
#define MAXT 168

typedef struct fixture {
    ana_problem p;
    ana_item items[MAXI];
    double cpu[MAXI][MAXT];
    char names[MAXI][24];
} fixture;

/* 1000 MHz, 1000 MiB, limits 100%, no overhead, no vCPU limit. */
static void fx_init(fixture *f, size_t nitems, size_t nslots)
{
    memset(f, 0, sizeof *f);
    f->p.nitems = nitems;
    f->p.nslots = nslots;
    f->p.items = f->items;
    f->p.model = (ana_host_model){
        .cpu_mhz = 1000, .cores = 4, .mem_mib = 1000, .cpu_limit = 1, .mem_limit = 1};
    for (size_t i = 0; i < nitems; i++) {
        snprintf(f->names[i], sizeof f->names[i], "vm%02zu", i);
        f->items[i] = (ana_item){.name = f->names[i],
                                 .cpu = f->cpu[i],
                                 .mem_mib = 10,
                                 .vcpus = 1,
                                 .anti_group = -1,
                                 .affinity_group = -1,
                                 .pinned_host = -1};
    }
}

static void fx_flat(fixture *f, size_t i, double mhz)
{
    for (size_t t = 0; t < f->p.nslots; t++)
        f->cpu[i][t] = mhz;
}

/* Pack, check validity; returns nhosts (sol kept for the caller). */
static size_t solve(const fixture *f, ana_solution *sol)
{
    ks_error err = {0};
    int rc = ana_pack(&f->p, sol, &err);
    KS_CHECK(rc == 0);
    if (rc != 0) {
        fprintf(stderr, "ana_pack: %s\n", err.message);
        return 0;
    }
    char *why = NULL;
    bool ok = ana_solution_valid(&f->p, sol, &why);
    KS_CHECK(ok);
    if (!ok)
        fprintf(stderr, "invalid: %s\n", why);
    free(why);
    return sol->nhosts;
}

/* ------------------------------------------------------- known optimum */

/* A day-peak and a night-peak VM: 1,600 MHz of peaks on a 1,000 MHz host,
 * but never more than 900 MHz at once. */
KS_TEST(test_day_night)
{
    static fixture f;
    fx_init(&f, 2, 24);
    for (size_t t = 0; t < 24; t++) {
        f.cpu[0][t] = t < 12 ? 800 : 100;
        f.cpu[1][t] = t < 12 ? 100 : 800;
    }
    ana_solution sol;
    KS_CHECK(solve(&f, &sol) == 1);
    KS_CHECK(sol.lower_bound == 1);
    KS_CHECK(sol.host_of[0] == 0 && sol.host_of[1] == 0);
    KS_CHECK(sol.algorithm != NULL);
    ana_solution_free(&sol);
    /* shifted by one slot they overlap: 1,600 MHz in slot 11 */
    for (size_t t = 0; t < 24; t++)
        f.cpu[1][t] = t < 11 ? 100 : 800;
    KS_CHECK(solve(&f, &sol) == 2);
    ana_solution_free(&sol);
}

/* Ten 250 MHz VMs: exactly four per host fit, three hosts. */
KS_TEST(test_identical)
{
    static fixture f;
    fx_init(&f, 10, 24);
    for (size_t i = 0; i < 10; i++)
        fx_flat(&f, i, 250);
    ana_solution sol;
    KS_CHECK(solve(&f, &sol) == 3);
    KS_CHECK(sol.lower_bound == 3);
    ana_solution_free(&sol);
}

KS_TEST(test_memory_bound)
{
    static fixture f;
    fx_init(&f, 7, 24);
    for (size_t i = 0; i < 7; i++) {
        fx_flat(&f, i, 10);
        f.items[i].mem_mib = 300;
    }
    f.p.model.mem_limit = 0.95;
    f.p.model.host_mem_mib = 50; /* 900 MiB usable: three per host */
    ana_solution sol;
    KS_CHECK(solve(&f, &sol) == 3);
    KS_CHECK(sol.lower_bound == 3);
    ana_solution_free(&sol);
}

KS_TEST(test_vcpu_bound)
{
    static fixture f;
    fx_init(&f, 5, 24);
    for (size_t i = 0; i < 5; i++) {
        fx_flat(&f, i, 10);
        f.items[i].vcpus = 4;
    }
    f.p.model.vcpu_ratio = 2; /* 8 vCPUs per 4-core host */
    ana_solution sol;
    KS_CHECK(solve(&f, &sol) == 3);
    KS_CHECK(sol.lower_bound == 3);
    ana_solution_free(&sol);
}

KS_TEST(test_anti_affinity)
{
    static fixture f;
    fx_init(&f, 3, 24);
    for (size_t i = 0; i < 3; i++)
        fx_flat(&f, i, 100);
    f.items[0].anti_group = 7;
    f.items[2].anti_group = 7;
    ana_solution sol;
    KS_CHECK(solve(&f, &sol) == 2);
    KS_CHECK(sol.host_of[0] != sol.host_of[2]);
    ana_solution_free(&sol);
}

KS_TEST(test_affinity)
{
    static fixture f;
    fx_init(&f, 6, 24);
    /* 400 + 300 + 300 share a host only if nothing else joins them */
    fx_flat(&f, 0, 400);
    fx_flat(&f, 1, 300);
    fx_flat(&f, 2, 300);
    fx_flat(&f, 3, 500);
    fx_flat(&f, 4, 500);
    fx_flat(&f, 5, 300);
    f.items[0].affinity_group = 1;
    f.items[3].affinity_group = 1;
    ana_solution sol;
    KS_CHECK(solve(&f, &sol) == 3);
    KS_CHECK(sol.host_of[0] == sol.host_of[3]);
    ana_solution_free(&sol);
    /* a group that fits on no host: both unplaced, with why */
    fx_flat(&f, 0, 600);
    fx_flat(&f, 3, 600);
    KS_CHECK(solve(&f, &sol) >= 2);
    KS_CHECK(sol.host_of[0] == -1 && sol.host_of[3] == -1);
    KS_CHECK(sol.why[0] && strstr(sol.why[0], "affinity group 1 (2 VMs)"));
    KS_CHECK(sol.why[3] && strstr(sol.why[3], "'vm03'"));
    KS_CHECK(sol.why[1] == NULL);
    ana_solution_free(&sol);
}

KS_TEST(test_pinned)
{
    static fixture f;
    fx_init(&f, 4, 24);
    for (size_t i = 0; i < 4; i++)
        fx_flat(&f, i, 100);
    f.items[2].pinned_host = 2;
    ana_solution sol;
    KS_CHECK(solve(&f, &sol) == 3);
    KS_CHECK(sol.host_of[2] == 2);
    ana_solution_free(&sol);
    /* two pinned to one host that holds only one of them */
    fx_flat(&f, 0, 600);
    fx_flat(&f, 1, 600);
    f.items[0].pinned_host = 0;
    f.items[1].pinned_host = 0;
    f.items[2].pinned_host = -1;
    KS_CHECK(solve(&f, &sol) >= 1);
    KS_CHECK(sol.host_of[0] == 0);
    KS_CHECK(sol.host_of[1] == -1 && sol.why[1] && strstr(sol.why[1], "pinned to host 0"));
    ana_solution_free(&sol);
}

KS_TEST(test_existing_fleet)
{
    static fixture f;
    fx_init(&f, 2, 24);
    fx_flat(&f, 0, 300);
    fx_flat(&f, 1, 300);
    f.p.existing_hosts = 3;
    ana_solution sol;
    KS_CHECK(solve(&f, &sol) == 3);
    KS_CHECK(sol.host_of[0] == 0 && sol.host_of[1] == 0);
    ana_solution_free(&sol);
}

KS_TEST(test_n_plus_1)
{
    static fixture f;
    fx_init(&f, 2, 24);
    fx_flat(&f, 0, 600);
    fx_flat(&f, 1, 600);
    ana_solution sol;
    KS_CHECK(solve(&f, &sol) == 2);
    ana_solution_free(&sol);
    f.p.n_plus_1 = true;
    KS_CHECK(solve(&f, &sol) == 3);
    KS_CHECK(sol.lower_bound == 3);
    ana_solution_free(&sol);
    /* at a 50% limit the headroom already absorbs any one failure */
    fx_init(&f, 4, 24);
    for (size_t i = 0; i < 4; i++)
        fx_flat(&f, i, 500);
    f.p.model.cpu_limit = 0.5;
    f.p.n_plus_1 = true;
    KS_CHECK(solve(&f, &sol) == 4);
    ana_solution_free(&sol);
}

KS_TEST(test_too_big)
{
    static fixture f;
    fx_init(&f, 3, 24);
    fx_flat(&f, 0, 100);
    fx_flat(&f, 1, 100);
    fx_flat(&f, 2, 100);
    f.cpu[1][17] = 52000;
    f.items[2].mem_mib = 5000;
    f.p.model.cpu_mhz = 62400;
    f.p.model.cpu_limit = 0.8;
    ana_solution sol;
    KS_CHECK(solve(&f, &sol) == 1);
    KS_CHECK(sol.host_of[0] == 0);
    KS_CHECK(sol.host_of[1] == -1 && sol.host_of[2] == -1);
    KS_CHECK_STR(sol.why[1], "'vm01' needs 52,000 MHz in its busiest slot (17); one host allows "
                             "49,920 MHz");
    KS_CHECK_STR(sol.why[2], "'vm02' needs 5,000 MiB of memory; one host allows 1,000 MiB");
    KS_CHECK(sol.lower_bound == 1);
    ana_solution_free(&sol);
}

KS_TEST(test_malformed)
{
    static fixture f;
    fx_init(&f, 1, 24);
    ana_solution sol;
    ks_error err = {0};
    f.p.model.cpu_limit = 0;
    KS_CHECK(ana_pack(&f.p, &sol, &err) == -1);
    KS_CHECK(err.code == KS_E_CONFIG && strstr(err.message, "CPU limit 0"));
    fx_init(&f, 1, 24);
    f.items[0].cpu = NULL;
    KS_CHECK(ana_pack(&f.p, &sol, &err) == -1);
    fx_init(&f, 1, 0);
    KS_CHECK(ana_pack(&f.p, &sol, &err) == -1);
    fx_init(&f, 1, 24);
    f.cpu[0][3] = NAN;
    KS_CHECK(ana_pack(&f.p, &sol, &err) == -1);
    KS_CHECK(strstr(err.message, "slot 3") != NULL);
    /* no items: nothing to do, no hosts */
    fx_init(&f, 0, 24);
    KS_CHECK(ana_pack(&f.p, &sol, &err) == 0 && sol.nhosts == 0 && sol.lower_bound == 0);
    ana_solution_free(&sol);
    ana_solution_free(NULL);
}

KS_TEST(test_valid_rejects)
{
    static fixture f;
    fx_init(&f, 2, 24);
    fx_flat(&f, 0, 600);
    fx_flat(&f, 1, 600);
    int host_of[2] = {0, 0};
    char *whys[2] = {NULL, NULL};
    ana_solution sol = {.nhosts = 1, .host_of = host_of, .why = whys};
    char *why = NULL;
    KS_CHECK(!ana_solution_valid(&f.p, &sol, &why));
    KS_CHECK(why && strstr(why, "1200 MHz"));
    free(why);
    host_of[1] = 1;
    sol.nhosts = 2;
    KS_CHECK(ana_solution_valid(&f.p, &sol, NULL));
    f.p.n_plus_1 = true;
    KS_CHECK(!ana_solution_valid(&f.p, &sol, &why));
    KS_CHECK(why && strstr(why, "N+1"));
    free(why);
    f.p.n_plus_1 = false;
    f.items[0].anti_group = f.items[1].anti_group = 3;
    host_of[1] = 0;
    fx_flat(&f, 1, 100);
    KS_CHECK(!ana_solution_valid(&f.p, &sol, &why));
    KS_CHECK(why && strstr(why, "anti-affinity"));
    free(why);
    f.items[0].anti_group = f.items[1].anti_group = -1;
    static const bool banned[1] = {true};
    f.items[1].banned = banned;
    KS_CHECK(!ana_solution_valid(&f.p, &sol, &why));
    KS_CHECK(why && strstr(why, "may not be on"));
    free(why);
}

/* ------------------------------------------------------ random instances */

static uint64_t rng_state;
static uint64_t rng_next(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double rng_unit(void)
{
    return (double)(rng_next() >> 11) / 9007199254740992.0;
}
static size_t rng_below(size_t n)
{
    return (size_t)(rng_unit() * (double)n);
}

/* Daily cycles with random phase and amplitude, on a 10,000 MHz host. */
static void random_items(fixture *f, size_t n, size_t T, double scale)
{
    fx_init(f, n, T);
    f->p.model.cpu_mhz = 10000;
    f->p.model.mem_mib = 100000;
    for (size_t i = 0; i < n; i++) {
        double base = scale * (0.02 + 0.25 * rng_unit());
        double amp = scale * 0.35 * rng_unit() * rng_unit();
        double phase = rng_unit() * 24;
        for (size_t t = 0; t < T; t++) {
            double v = base + amp * (0.5 + 0.5 * sin(2 * M_PI * ((double)t - phase) / 24));
            f->cpu[i][t] = 10000 * v * (0.9 + 0.2 * rng_unit());
        }
        f->items[i].mem_mib = 100000 * scale * (0.02 + 0.3 * rng_unit() * rng_unit());
        f->items[i].vcpus = 1 + (unsigned)rng_below(16);
    }
}

/* Existing hosts of their own model are filled first; new hosts are of
 * the new model. */
KS_TEST(test_existing_other_model)
{
    static fixture f;
    fx_init(&f, 6, 24);
    for (size_t i = 0; i < 6; i++)
        fx_flat(&f, i, 600);
    ana_host_model models[2] = {f.p.model, f.p.model}; /* 0: small, 1: big */
    models[1].cpu_mhz = 4000;
    models[1].mem_mib = 4000;
    size_t existing[1] = {1};
    f.p.models = models;
    f.p.nmodels = 2;
    f.p.new_model = 0;
    f.p.existing_hosts = 1;
    f.p.existing_models = existing;
    ana_solution sol;
    KS_CHECK(solve(&f, &sol) == 1); /* 6 x 600 MHz: all on the big existing host */
    KS_CHECK(sol.host_model[0] == 1);
    ana_solution_free(&sol);
    /* 7 VMs: six on the big existing host, the seventh on a new small one */
    fx_init(&f, 7, 24);
    for (size_t i = 0; i < 7; i++)
        fx_flat(&f, i, 600);
    f.p.models = models;
    f.p.nmodels = 2;
    f.p.existing_hosts = 1;
    f.p.existing_models = existing;
    KS_CHECK(solve(&f, &sol) == 2);
    KS_CHECK(sol.host_model[0] == 1 && sol.host_model[1] == 0);
    size_t on0 = 0;
    for (size_t i = 0; i < 7; i++)
        on0 += sol.host_of[i] == 0;
    KS_CHECK(on0 == 6);
    ana_solution_free(&sol);
    /* a bad model index is refused */
    existing[0] = 2;
    ks_error err = {0};
    KS_CHECK(ana_pack(&f.p, &sol, &err) == -1);
    existing[0] = 1;
}

/* Mixed fleet: the half-empty last big host becomes a small one. */
KS_TEST(test_mixed_downsize)
{
    static fixture f;
    fx_init(&f, 6, 24);
    for (size_t i = 0; i < 5; i++)
        fx_flat(&f, i, 700);
    fx_flat(&f, 5, 300);
    ana_host_model models[2] = {f.p.model, f.p.model};
    models[0].cpu_mhz = 4000; /* big, 90%: five 700s (3,500) fit, not the 300 too */
    models[0].cpu_limit = 0.9;
    models[0].mem_mib = 4000;
    models[0].price = 10;
    models[1].cpu_mhz = 1000;
    models[1].price = 3;
    f.p.models = models;
    f.p.nmodels = 2;
    f.p.new_model = 0;
    ana_solution sol;
    KS_CHECK(solve(&f, &sol) == 2);
    KS_CHECK(sol.host_model[0] == 0 && sol.host_model[1] == 0); /* not mixed: all big */
    ana_solution_free(&sol);
    f.p.mixed = true;
    KS_CHECK(solve(&f, &sol) == 2);
    KS_CHECK(sol.host_model[0] == 0 && sol.host_model[1] == 1);
    KS_CHECK(strstr(sol.algorithm, "lowest-priced") != NULL);
    ana_solution_free(&sol);
    /* a VM banned from the small model (too busy for it, or sized for
     * faster cores) keeps its host big, and is never put on a small one */
    static const bool ban_small[2] = {false, true};
    f.items[5].banned = ban_small;
    KS_CHECK(solve(&f, &sol) == 2);
    KS_CHECK(sol.host_of[5] >= 0 && sol.host_model[sol.host_of[5]] == 0);
    ana_solution_free(&sol);
    f.items[5].banned = NULL;
    /* a cheaper model that cannot hold the VMs is not taken */
    models[1].cpu_mhz = 200;
    KS_CHECK(solve(&f, &sol) == 2);
    KS_CHECK(sol.host_model[1] == 0 && strstr(sol.algorithm, "lowest-priced") == NULL);
    ana_solution_free(&sol);
    /* with N+1 the second host must take the first one's 3,500 MHz when it
     * fails: as a small host it could not, and the standby host that would
     * need costs more than keeping it big (10 + 10 < 10 + 3 + 10) */
    models[1].cpu_mhz = 1000;
    f.p.n_plus_1 = true;
    KS_CHECK(solve(&f, &sol) == 2);
    KS_CHECK(sol.host_model[0] == 0 && sol.host_model[1] == 0);
    ana_solution_free(&sol);
    /* other loads, without N+1: the small model is taken again */
    models[0].cpu_mhz = 5000;
    for (size_t i = 0; i < 5; i++)
        fx_flat(&f, i, 850); /* 4,250 of 4,500 usable */
    fx_flat(&f, 5, 400);
    f.p.n_plus_1 = false;
    size_t nh = solve(&f, &sol);
    KS_CHECK(nh == 2 && sol.host_model[1] == 1);
    ana_solution_free(&sol);
}

/* Random fleets of 2-3 models, existing hosts of any model, mixed or not:
 * always valid, deterministic, and mixed never costs more. */
KS_TEST(test_random_mixed)
{
    static fixture f;
    rng_state = 777;
    int instances = 150, cheaper = 0;
    for (int k = 0; k < instances; k++) {
        size_t n = 1 + rng_below(40), T = 24 + rng_below(48);
        random_items(&f, n, T, 0.3 + rng_unit());
        ana_host_model models[3];
        size_t nmod = 2 + rng_below(2);
        for (size_t j = 0; j < nmod; j++) {
            models[j] = f.p.model;
            models[j].cpu_mhz = 10000 * (0.5 + rng_unit());
            models[j].mem_mib = 100000 * (0.5 + rng_unit());
            models[j].cpu_limit = 0.8;
            models[j].mem_limit = 0.9;
            models[j].cores = 16;
            models[j].price = models[j].cpu_mhz / 1000 + models[j].mem_mib / 20000;
        }
        size_t existing[3];
        f.p.models = models;
        f.p.nmodels = nmod;
        f.p.new_model = rng_below(nmod);
        f.p.existing_hosts = rng_below(3) == 0 ? rng_below(4) : 0;
        for (size_t h = 0; h < f.p.existing_hosts && h < 3; h++)
            existing[h] = rng_below(nmod);
        f.p.existing_hosts = f.p.existing_hosts > 3 ? 3 : f.p.existing_hosts;
        f.p.existing_models = existing;
        f.p.n_plus_1 = rng_below(2) == 0;
        ana_solution plain, mixed, again;
        f.p.mixed = false;
        size_t np = solve(&f, &plain);
        f.p.mixed = true;
        size_t nm = solve(&f, &mixed);
        size_t na = solve(&f, &again);
        if (!plain.host_of || !mixed.host_of || !again.host_of)
            continue;
        KS_CHECK(na == nm && memcmp(mixed.host_of, again.host_of, n * sizeof(int)) == 0 &&
                 memcmp(mixed.host_model, again.host_model, nm * sizeof(size_t)) == 0);
        double pp = 0, pm = 0;
        for (size_t h = 0; h < np; h++)
            pp += models[plain.host_model[h]].price;
        for (size_t h = 0; h < nm; h++)
            pm += models[mixed.host_model[h]].price;
        KS_CHECK(pm <= pp + 1e-9);
        if (pm < pp - 1e-9)
            cheaper++;
        /* the same from the plain solution, without packing again */
        ana_solution from;
        ks_error err = {0};
        KS_CHECK(ana_pack_mixed(&f.p, &plain, &from, &err) == 0);
        char *why = NULL;
        KS_CHECK(ana_solution_valid(&f.p, &from, &why));
        free(why);
        double pf = 0;
        for (size_t h = 0; h < from.nhosts; h++)
            pf += models[from.host_model[h]].price;
        KS_CHECK(pf <= pp + 1e-9);
        ana_solution_free(&from);
        ana_solution_free(&plain);
        ana_solution_free(&mixed);
        ana_solution_free(&again);
    }
    printf("mixed: %d instances, %d cheaper than one model\n", instances, cheaper);
    KS_CHECK(cheaper > 0);
}

KS_TEST(test_random_properties)
{
    static fixture f, g;
    rng_state = 20260101;
    int instances = 400, unplaced = 0, n1 = 0, at_bound = 0;
    for (int k = 0; k < instances; k++) {
        size_t n = 1 + rng_below(60), T = 24 + rng_below(MAXT - 24 + 1);
        random_items(&f, n, T, 0.5 + rng_unit());
        ana_host_model *m = &f.p.model;
        m->cpu_limit = 0.6 + 0.4 * rng_unit();
        m->mem_limit = 0.7 + 0.3 * rng_unit();
        m->host_cpu_mhz = rng_below(3) * 200.0;
        m->host_mem_mib = rng_below(3) * 2000.0;
        m->vm_cpu_mhz = rng_below(3) * 20.0;
        m->vm_mem_mib = rng_below(3) * 256.0;
        m->cores = 16;
        m->vcpu_ratio = rng_below(2) ? 0 : 2 + rng_below(3);
        f.p.n_plus_1 = rng_below(3) == 0;
        f.p.existing_hosts = rng_below(4) == 0 ? rng_below(4) : 0;
        int ngroups = (int)rng_below(4);
        for (size_t i = 0; i < n; i++) {
            if (ngroups && rng_below(4) == 0)
                f.items[i].anti_group = (int)rng_below((size_t)ngroups);
            if (rng_below(10) == 0)
                f.items[i].affinity_group = 100 + (int)rng_below(8);
            if (rng_below(25) == 0)
                f.items[i].pinned_host = (int)rng_below(4);
            if (rng_below(40) == 0)
                f.cpu[i][rng_below(T)] = 20000; /* fits nowhere */
        }
        ana_solution sol;
        size_t nh = solve(&f, &sol);
        if (!sol.host_of)
            continue;
        KS_CHECK((double)nh >= ceil(sol.lower_bound));
        if ((double)nh == sol.lower_bound)
            at_bound++;
        for (size_t i = 0; i < n; i++) {
            KS_CHECK(sol.host_of[i] >= 0 || (sol.why[i] && strlen(sol.why[i]) > 20 &&
                                             strstr(sol.why[i], f.items[i].name)));
            if (sol.host_of[i] < 0)
                unplaced++;
        }
        n1 += f.p.n_plus_1;
        /* deterministic: a copy gives the same answer */
        if (k % 10 == 0) {
            g = f;
            g.p.items = g.items;
            for (size_t i = 0; i < n; i++) {
                g.items[i].cpu = g.cpu[i];
                g.items[i].name = g.names[i];
            }
            ana_solution sol2;
            KS_CHECK(solve(&g, &sol2) == nh);
            KS_CHECK(memcmp(sol.host_of, sol2.host_of, n * sizeof(int)) == 0);
            ana_solution_free(&sol2);
        }
        ana_solution_free(&sol);
    }
    printf("random: %d instances (%d with N+1), %d items unplaced with a reason, "
           "%d at the lower bound\n",
           instances, n1, unplaced, at_bound);
}

/* A large fleet (3,000 VMs x 720 hourly slots: beyond the size where every
 * variant gets local search), in three time zones, so that hosts peak at
 * different hours, each VM-hour x 1 +- noise at random: the balanced
 * placement on fewer hosts runs, and its result is valid, places
 * everything, is well below first fit's and at most `above` hosts above the
 * lower bound. constrained: with anti-affinity groups (one VM in 25, in
 * groups of 4), 2 VMs pinned to each of hosts 0 and 1, and one vCPU per
 * core (53 of 64 on a host on average), which the balanced placement's
 * swaps and steps down must keep: checked here, apart from
 * ana_solution_valid. */
static void large_fleet(double noise, size_t above, bool constrained)
{
    enum { N = 3000, T = 720 };
    ana_item *items = ks_calloc(N, sizeof *items);
    double *cpu = ks_calloc((size_t)N * T, sizeof *cpu);
    char(*names)[16] = ks_calloc(N, sizeof *names);
    rng_state = 4242;
    for (size_t i = 0; i < N; i++) {
        double base = 500 + 2000 * rng_unit(), amp = 12000 * rng_unit() * rng_unit();
        double phase = 8 * (double)(i % 3) + 4 * rng_unit(), width = 1 + 4 * rng_unit();
        for (size_t t = 0; t < T; t++) {
            double h = fmod((double)t - phase + 48, 24);
            double day = h < width ? 1 : 0;
            cpu[i * T + t] = (base + amp * day) * (1 - noise + 2 * noise * rng_unit());
        }
        snprintf(names[i], sizeof names[i], "vm%04zu", i);
        items[i] = (ana_item){.name = names[i],
                              .cpu = cpu + i * T,
                              .mem_mib = 2048 + 8192 * rng_unit(),
                              .vcpus = 2,
                              .anti_group = -1,
                              .affinity_group = -1,
                              .pinned_host = -1};
        if (constrained)
            items[i].vcpus = i % 20 ? 1 : 3; /* 49 hosts' worth at one per core */
        if (constrained && i % 25 == 0)
            items[i].anti_group = (int)(i / 100);
        if (constrained && i % 1000 < 2)
            items[i].pinned_host = (int)(i / 1000) % 2;
    }
    ana_problem p = {.nslots = T,
                     .nitems = N,
                     .items = items,
                     .model = {.cpu_mhz = 64 * 2400,
                               .cores = 64,
                               .mem_mib = 1024 * 1024,
                               .cpu_limit = 0.8,
                               .mem_limit = 0.9,
                               .vcpu_ratio = constrained ? 1 : 0}};
    /* first fit's hosts, packed by peak alone, as a reference */
    double cap = p.model.cpu_mhz * p.model.cpu_limit, used = 0;
    size_t ff = 1;
    for (size_t i = 0; i < N; i++) {
        double pk = 0;
        for (size_t t = 0; t < T; t++)
            pk = fmax(pk, cpu[i * T + t]);
        if (used + pk > cap) {
            ff++;
            used = 0;
        }
        used += pk;
    }
    ana_solution sol;
    ks_error err = {0};
    KS_CHECK(ana_pack(&p, &sol, &err) == 0);
    char *why = NULL;
    KS_CHECK(ana_solution_valid(&p, &sol, &why));
    free(why);
    size_t placed = 0;
    for (size_t i = 0; i < N; i++)
        placed += sol.host_of[i] >= 0;
    KS_CHECK(placed == N);
    KS_CHECK((double)sol.nhosts >= sol.lower_bound);
    printf("large, noise %.0f %%: %zu hosts, lower bound %.0f, peak-sum first fit %zu (%s)\n",
           noise * 100, sol.nhosts, sol.lower_bound, ff, sol.algorithm);
    KS_CHECK(sol.nhosts * 10 < ff * 8);
    KS_CHECK((double)sol.nhosts <= sol.lower_bound + (double)above);
    if (constrained) {
        /* per host: vCPUs, and the anti-affinity groups seen (a bit each) */
        unsigned *vc = ks_calloc(sol.nhosts + 1, sizeof *vc);
        uint32_t *groups = ks_calloc(sol.nhosts + 1, sizeof *groups);
        for (size_t i = 0; i < N; i++) {
            int h = sol.host_of[i];
            KS_CHECK(h >= 0 && (size_t)h < sol.nhosts);
            if (h < 0 || (size_t)h >= sol.nhosts)
                continue;
            vc[h] += items[i].vcpus;
            if (items[i].pinned_host >= 0)
                KS_CHECK(h == items[i].pinned_host);
            if (items[i].anti_group >= 0) {
                uint32_t bit = 1u << items[i].anti_group;
                KS_CHECK(!(groups[h] & bit));
                groups[h] |= bit;
            }
        }
        for (size_t h = 0; h < sol.nhosts; h++)
            KS_CHECK(vc[h] <= p.model.cores);
        free(vc);
        free(groups);
    }
    ana_solution_free(&sol);
    free(items);
    free(cpu);
    free(names);
}

/* +-10 %: the variants leave 59 hosts and local search 58 (measured with
 * BALANCE_BUDGET=0); the balanced placement 57, one above the bound of 56;
 * with pair swaps and going down one host at a time, the bound */
KS_TEST(test_large_balanced)
{
    large_fleet(0.1, 0, false);
}

/* +-20 % from hour to hour: a host's busiest hour stands further above its
 * share of the fleet's. Placing each VM where the host's busiest slot
 * stays lowest and repairing left 58 hosts; placing it where a smooth
 * maximum of all the host's slots grows least, 57 (bound 56) */
KS_TEST(test_large_noisy)
{
    large_fleet(0.2, 1, false);
}

/* The +-10 % fleet with anti-affinity, pins and a vCPU limit: the
 * constraints kept, and still the bound (56) */
KS_TEST(test_large_constrained)
{
    large_fleet(0.1, 0, true);
}

/* Tight, noisy instances: 60 VMs (daytime peaks in three time zones, each
 * VM-hour x 1 +- 20 %) on hosts sized so that the busiest hour of all of
 * them is 99.5 % of 2 or 3 hosts' limit; the lower bound is then those 2
 * or 3 hosts. Hosts that hold the bound need their VMs' hour-to-hour noise
 * to cancel, which single moves and swaps miss: dealing a pair of hosts'
 * VMs out again finds more of it. (At 98 %, on generated servers, an exact
 * solver reaches the bound in 20 of 20 such instances and kvmshift missed
 * it in 8 before the pair deals: tests/bench/bench_milp.py --fill.)
 * Returns how many of n reached the bound. */
static int tight_instances(int n)
{
    enum { N = 60, T = 168 };
    int at_bound = 0;
    for (int k = 0; k < n; k++) {
        fixture *f = ks_calloc(1, sizeof *f);
        fx_init(f, N, T);
        rng_state = 9000 + (uint64_t)k;
        size_t H = 2 + (size_t)k % 2;
        double total[T] = {0};
        for (size_t i = 0; i < N; i++) {
            double base = 200 + 800 * rng_unit(), amp = 3000 * rng_unit() * rng_unit();
            double phase = 8 * (double)(i % 3) + 4 * rng_unit(), width = 2 + 6 * rng_unit();
            for (size_t t = 0; t < T; t++) {
                double h = fmod((double)t - phase + 48, 24);
                f->cpu[i][t] = (base + amp * (h < width ? 1 : 0)) * (0.8 + 0.4 * rng_unit());
                total[t] += f->cpu[i][t];
            }
        }
        double peak = 0;
        for (size_t t = 0; t < T; t++)
            peak = fmax(peak, total[t]);
        f->p.model.cpu_mhz = peak / (0.995 * (double)H);
        f->p.model.mem_mib = 1e9;
        ana_solution sol;
        if (solve(f, &sol) == 0) {
            free(f);
            continue;
        }
        KS_CHECK(sol.lower_bound == (double)H);
        at_bound += sol.nhosts == H;
        ana_solution_free(&sol);
        free(f);
    }
    return at_bound;
}

/* 36 of 40 at the bound; 29 before the pair deals (pair_repack) */
KS_TEST(test_tight_noisy)
{
    int n = 40, at = tight_instances(n);
    printf("tight noisy: %d of %d instances at the lower bound\n", at, n);
    KS_CHECK(at >= 35);
}

/* -------------------------------------------------- exact, with glpsol */

static bool have_glpsol(void)
{
    return system("command -v glpsol >/dev/null 2>&1") == 0;
}

static int cmp_desc(const void *a, const void *b, const double *key)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return key[x] > key[y] ? -1 : key[x] < key[y] ? 1 : (x > y) - (x < y);
}
static const double *desc_key;
static int cmp_desc_q(const void *a, const void *b)
{
    return cmp_desc(a, b, desc_key);
}

/* Optimum number of hosts (CPU per slot and memory only), or -1 when
 * glpsol did not prove it within its time limit. H: hosts available. */
static int glpk_optimum(const fixture *f, size_t H, const char *dir)
{
    const ana_problem *p = &f->p;
    const ana_host_model *m = &p->model;
    size_t n = p->nitems, T = p->nslots;
    double cap = m->cpu_limit * m->cpu_mhz - m->host_cpu_mhz;
    double mcap = m->mem_limit * m->mem_mib - m->host_mem_mib;
    /* items by decreasing size: item k may only use hosts 0..k (a host's
     * index is at most that of its first item), a classic symmetry cut */
    size_t ord[MAXI];
    double key[MAXI];
    for (size_t i = 0; i < n; i++) {
        double pk = 0;
        for (size_t t = 0; t < T; t++)
            pk = fmax(pk, f->cpu[i][t]);
        key[i] = pk / cap + p->items[i].mem_mib / mcap;
        ord[i] = i;
    }
    desc_key = key;
    qsort(ord, n, sizeof *ord, cmp_desc_q);
    char lp[4096], out[4096], cmd[9000];
    snprintf(lp, sizeof lp, "%s/pack.lp", dir);
    snprintf(out, sizeof out, "%s/pack.out", dir);
    FILE *fp = fopen(lp, "w");
    if (!fp)
        return -1;
    fprintf(fp, "Minimize\n obj:");
    for (size_t h = 0; h < H; h++)
        fprintf(fp, " + y%zu", h);
    fprintf(fp, "\nSubject To\n");
    for (size_t k = 0; k < n; k++) {
        fprintf(fp, " a%zu:", k);
        for (size_t h = 0; h <= k && h < H; h++)
            fprintf(fp, " + x%zu_%zu", k, h);
        fprintf(fp, " = 1\n");
    }
    for (size_t h = 0; h < H; h++) {
        for (size_t t = 0; t < T; t++) {
            fprintf(fp, " c%zu_%zu:", h, t);
            for (size_t k = h; k < n; k++)
                fprintf(fp, " + %.6f x%zu_%zu", f->cpu[ord[k]][t] + m->vm_cpu_mhz, k, h);
            fprintf(fp, " - %.6f y%zu <= 0\n", cap, h);
        }
        fprintf(fp, " m%zu:", h);
        for (size_t k = h; k < n; k++)
            fprintf(fp, " + %.6f x%zu_%zu", p->items[ord[k]].mem_mib + m->vm_mem_mib, k, h);
        fprintf(fp, " - %.6f y%zu <= 0\n", mcap, h);
        if (h + 1 < H)
            fprintf(fp, " s%zu: y%zu - y%zu >= 0\n", h, h, h + 1);
    }
    fprintf(fp, "Binary\n");
    for (size_t h = 0; h < H; h++)
        fprintf(fp, " y%zu\n", h);
    for (size_t k = 0; k < n; k++)
        for (size_t h = 0; h <= k && h < H; h++)
            fprintf(fp, " x%zu_%zu\n", k, h);
    fprintf(fp, "End\n");
    fclose(fp);
    snprintf(cmd, sizeof cmd, "glpsol --lp '%s' -o '%s' --tmlim 10 >/dev/null 2>&1", lp, out);
    if (system(cmd) != 0)
        return -1;
    fp = fopen(out, "r");
    if (!fp)
        return -1;
    char line[512];
    bool optimal = false;
    double obj = -1;
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "Status:", 7) == 0 && strstr(line, "INTEGER OPTIMAL"))
            optimal = true;
        const char *o = strstr(line, "obj = ");
        if (strncmp(line, "Objective:", 10) == 0 && o)
            obj = strtod(o + 6, NULL);
    }
    fclose(fp);
    return optimal && obj >= 0 ? (int)lround(obj) : -1;
}

static int glpk_instances, glpk_equal, glpk_unproven, glpk_worst;

KS_TEST(test_glpk_exact)
{
    static fixture f;
    char dir[] = "/tmp/test_pack.XXXXXX";
    KS_CHECK(mkdtemp(dir) != NULL);
    rng_state = 777;
    time_t start = time(NULL);
    for (int k = 0; k < 150; k++) {
        /* a safety net for slow machines */
        if (time(NULL) - start > 35) {
            printf("glpk: time budget reached after %d instances\n", k);
            break;
        }
        size_t n = 8 + rng_below(13);
        random_items(&f, n, 24, 0.8 + 0.8 * rng_unit());
        f.p.model.cpu_limit = 0.8;
        f.p.model.mem_limit = 0.9;
        ana_solution sol;
        size_t nh = solve(&f, &sol);
        bool all_placed = true;
        for (size_t i = 0; sol.host_of && i < n; i++)
            all_placed = all_placed && sol.host_of[i] >= 0;
        ana_solution_free(&sol);
        if (!all_placed || nh == 0)
            continue;
        time_t t0 = time(NULL);
        int opt = glpk_optimum(&f, nh, dir);
        if (time(NULL) - t0 > 2)
            printf("glpk: instance %d (%zu items) took %lld s\n", k, n,
                   (long long)(time(NULL) - t0));
        if (opt < 0) {
            glpk_unproven++;
            continue;
        }
        glpk_instances++;
        int gap = (int)nh - opt;
        KS_CHECK(gap >= 0 && gap <= 1);
        if (gap != 0)
            printf("glpk: instance %d (%zu items): heuristic %zu hosts, optimum %d\n", k, n, nh,
                   opt);
        glpk_equal += gap == 0;
        if (gap > glpk_worst)
            glpk_worst = gap;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    KS_CHECK(system(cmd) == 0);
    printf("glpk: %d instances solved to optimality, heuristic optimal on %d (%.0f%%), worst "
           "gap %d host(s), %d not proven within the time limit\n",
           glpk_instances, glpk_equal, glpk_instances ? 100.0 * glpk_equal / glpk_instances : 0.0,
           glpk_worst, glpk_unproven);
    KS_CHECK(glpk_instances >= 10);
    KS_CHECK(glpk_equal * 10 >= glpk_instances * 8);
}

int main(void)
{
    KS_RUN(test_day_night);
    KS_RUN(test_identical);
    KS_RUN(test_memory_bound);
    KS_RUN(test_vcpu_bound);
    KS_RUN(test_anti_affinity);
    KS_RUN(test_affinity);
    KS_RUN(test_pinned);
    KS_RUN(test_existing_fleet);
    KS_RUN(test_n_plus_1);
    KS_RUN(test_too_big);
    KS_RUN(test_malformed);
    KS_RUN(test_valid_rejects);
    KS_RUN(test_random_properties);
    KS_RUN(test_existing_other_model);
    KS_RUN(test_mixed_downsize);
    KS_RUN(test_random_mixed);
    KS_RUN(test_large_balanced);
    KS_RUN(test_large_noisy);
    KS_RUN(test_large_constrained);
    KS_RUN(test_tight_noisy);
    if (!have_glpsol()) {
        int rc = ks_test_summary();
        if (rc)
            return rc;
        printf("SKIP test_glpk_exact: glpsol not found (apt-get install glpk-utils)\n");
        return 77;
    }
    KS_RUN(test_glpk_exact);
    return ks_test_summary();
}
