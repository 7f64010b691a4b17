/* fuzz_plan.c: libFuzzer target for common/ks_plan.c (plan.json read back).
 *
 * plan.json is written by 'kvmshift analyze', but it sits in the study
 * directory where people open, copy and sometimes edit it, and P2V and the
 * night runner act on what it says. Besides the sanitizers, it aborts when
 * a result breaks the contract of ks_plan.h: NULL without a parse error and
 * message, a lookup that does not find an entry by its own name or number,
 * a placement, host, night or slot whose links disagree (a server's host
 * without its night, a VM list that is not the host's placements, a lane
 * past max_parallel, nights out of order).
 *
 * Kept corpus: tests/fuzz/corpus/plan (replayed by replay.c under ctest):
 * lab.json and nothing-placed.json as the analyzer wrote them (see
 * common/tests/test_plan.c), small-*.json cut down from analyzer plans to
 * two servers (still valid), the rest broken on purpose (truncated, version
 * 2, a wrong type, a host's vms, a lane past max_parallel, a duplicate key,
 * \u0000, not an object, empty).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ks_error.h"
#include "ks_plan.h"
#include "fuzz.h"

static void check_scenario(const ks_plan *p, const ks_plan_scenario *sc)
{
    REQUIRE(sc->name && sc->name[0] && sc->host_model && sc->host_model[0]);
    REQUIRE(sc->chosen == (ks_plan_chosen(p) == sc));
    size_t on_hosts = 0;
    for (size_t h = 0; h < sc->nhosts; h++) {
        const ks_plan_host *ho = &sc->hosts[h];
        REQUIRE(ks_plan_scenario_host(sc, ho->name) == ho);
        REQUIRE(!ho->spare || (ho->nvms == 0 && !ho->existing));
        for (size_t k = 0; k < ho->nvms; k++)
            REQUIRE(ho->vms[k]->host == ho);
        on_hosts += ho->nvms;
    }
    REQUIRE(on_hosts == sc->nplacements);
    for (size_t k = 0; k < sc->nplacements; k++) {
        const ks_plan_placement *pl = &sc->placements[k];
        REQUIRE(pl->server && pl->server->status != KS_PLAN_NOT_ELIGIBLE);
        REQUIRE(pl->vcpus >= 1 && pl->memory_mib >= 1);
        if (sc->chosen)
            REQUIRE(pl->server->host == pl->host && pl->server->vcpus == pl->vcpus &&
                    pl->server->memory_mib == pl->memory_mib);
    }
    for (size_t k = 0; k < sc->nunplaced; k++)
        REQUIRE(sc->unplaced[k].server && sc->unplaced[k].why);
}

static void check_plan(const ks_plan *p)
{
    for (size_t i = 0; i < ks_plan_server_count(p); i++) {
        const ks_plan_server_entry *s = ks_plan_server_at(p, i);
        REQUIRE(ks_plan_server(p, s->name) == s);
        REQUIRE(s->role && strcmp(ks_plan_status_name(s->status), "?") != 0);
        for (size_t k = 0; k < s->nreasons; k++)
            REQUIRE(s->reasons[k]);
        REQUIRE((s->status == KS_PLAN_NOT_ELIGIBLE) == (s->vcpus == 0));
        REQUIRE((s->vcpus == 0) == (s->memory_mib == 0));
        REQUIRE(isnan(s->confidence) || (s->confidence >= 0 && s->confidence <= 1));
        REQUIRE(!s->host || ks_plan_chosen(p));
        REQUIRE(!s->host == !s->night && !s->night == !s->slot);
        if (s->slot)
            REQUIRE(s->slot->server == s && s->slot >= s->night->slots &&
                    s->slot < s->night->slots + s->night->nslots);
    }
    for (size_t i = 0; i < ks_plan_scenario_count(p); i++)
        check_scenario(p, ks_plan_scenario_at(p, i));
    const ks_plan_migration *m = ks_plan_migration_policy(p);
    REQUIRE(m->max_parallel >= 1 && m->days && m->days < 128);
    REQUIRE(m->window_start >= 0 && m->window_start < 1440 && m->window_end >= 0 &&
            m->window_end < 1440 && m->window_start != m->window_end);
    for (size_t i = 0; i < ks_plan_night_count(p); i++) {
        const ks_plan_night_entry *nt = ks_plan_night_at(p, i);
        REQUIRE(ks_plan_night(p, nt->number) == nt);
        REQUIRE(i == 0 || ks_plan_night_at(p, i - 1)->number < nt->number);
        REQUIRE(nt->start < nt->end && nt->nslots > 0 && nt->date);
        long sum = 0;
        for (size_t k = 0; k < nt->nslots; k++) {
            const ks_plan_slot *sl = &nt->slots[k];
            REQUIRE(sl->server->slot == sl && sl->server->night == nt);
            REQUIRE(sl->lane >= 1 && sl->lane <= m->max_parallel);
            REQUIRE(sl->start >= nt->start && sl->end - sl->start == sl->estimated_minutes * 60);
            REQUIRE(sl->estimate_basis);
            sum += sl->estimated_minutes;
        }
        REQUIRE(sum == nt->busy_minutes);
    }
    REQUIRE(ks_plan_chosen(p) || ks_plan_night_count(p) == 0);
    time_t start, end;
    ks_plan_period(p, &start, &end);
    REQUIRE(start <= end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ks_error err;
    ks_error_clear(&err);
    ks_plan *p = ks_plan_parse((const char *)data, size, "plan.json", &err);
    if (p) {
        check_plan(p);
        REQUIRE(strcmp(ks_plan_file(p), "plan.json") == 0);
    } else {
        REQUIRE(err.code == KS_E_PARSE && err.message[0]);
        REQUIRE(strlen(err.message) < KS_ERROR_MSG_MAX);
        REQUIRE(strncmp(err.message, "plan.json", 9) == 0);
    }
    ks_plan_free(p);
    return 0;
}
