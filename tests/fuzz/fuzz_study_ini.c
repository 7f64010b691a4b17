/* fuzz_study_ini.c: libFuzzer target for study.ini as kvmshift reads it:
 * common/ks_ini.c (the parser and the check of its sections and keys,
 * ks_study_ini_check) and the analyzer's readers of [policy],
 * [host-model NAME] and [migration] (analyzer/ana_rules.c, ana_nights.c).
 *
 * It aborts when a failure has no message, when a message is not one
 * line that names the file, and when a policy the readers accept holds a
 * number out of the ranges they promise (a percentile outside 1..100, a
 * negative or non-finite budget, a model without cores, MHz or memory).
 *
 * Kept corpus: tests/fuzz/corpus/study_ini (replayed by replay.c under
 * ctest): the two samples' study.ini, and study.ini as people get it
 * wrong: a key or section with a typo, a NUL in a value, an escape
 * sequence, hexadecimal, inf and 1e308, a study period of 27.8 M slots,
 * an end before the start, a duplicate section, CRLF and a BOM.
 */
#include <math.h>
#include <string.h>

#include "ana_nights.h"
#include "ana_rules.h"
#include "fuzz.h"
#include "ks_error.h"
#include "ks_ini.h"
#include "ks_study.h"

static void check_message(const ks_error *err)
{
    REQUIRE(err->code != KS_OK && err->message[0]);
    REQUIRE(strncmp(err->message, "study.ini", 9) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ks_error err;
    ks_error_clear(&err);
    ks_ini *ini = ks_ini_parse((const char *)data, size, "study.ini", &err);
    if (!ini) {
        check_message(&err);
        return 0;
    }
    if (ks_study_ini_check(ini, &err) < 0) {
        check_message(&err);
        ks_ini_free(ini);
        return 0;
    }
    ana_policy p;
    memset(&p, 0, sizeof p);
    ks_error_clear(&err);
    if (ana_policy_parse(ini, &p, &err) == 0) {
        REQUIRE(p.percentile >= 1 && p.percentile <= 100);
        REQUIRE(isfinite(p.headroom) && p.headroom >= 0);
        REQUIRE(p.slot_seconds >= 300 && p.slot_seconds <= 86400);
        REQUIRE(p.start == 0 || p.end == 0 || p.end > p.start);
        ana_model *models = NULL;
        size_t n = 0;
        if (ana_models_parse(ini, &models, &n, &err) == 0) {
            for (size_t i = 0; i < n; i++)
                REQUIRE(models[i].cores > 0 && models[i].mhz > 0 && models[i].memory_gib > 0 &&
                        isfinite(models[i].mhz * models[i].cores));
            ana_models_free(models, n);
        } else {
            check_message(&err);
        }
        ana_policy_free(&p);
    } else {
        check_message(&err);
    }
    ana_night_policy np;
    ks_error_clear(&err);
    if (ana_night_policy_parse(ini, 1767571200, &np, &err) == 0)
        REQUIRE(np.window_start >= 0 && np.window_start < 1440 && np.window_end >= 0 &&
                np.window_end < 1440 && np.max_parallel >= 1);
    else
        check_message(&err);
    ks_ini_free(ini);
    return 0;
}
