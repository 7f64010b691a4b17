/* fuzz_facts.c: libFuzzer target for collector/col_facts.c.
 *
 * The input is taken as the output of the facts script. Besides the
 * sanitizers, it aborts when a result breaks the contract of col_facts.h:
 * NULL without a parse error and message, a key of the schema missing or of
 * the wrong kind, facts that do not serialize (invalid UTF-8), a negative
 * count or capacity, a physical NIC list that disagrees with "nics".
 *
 * Kept corpus: tests/fuzz/corpus/facts (replayed by replay.c under ctest).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "col_facts.h"
#include "fuzz.h"

static void require_array_of_objects(const json_t *o, const char *key)
{
    const json_t *a = json_object_get(o, key);
    REQUIRE(json_is_array(a));
    for (size_t i = 0; i < json_array_size(a); i++)
        REQUIRE(json_is_object(json_array_get(a, i)));
}

static void require_string_or_null(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    REQUIRE(json_is_string(v) || json_is_null(v));
}

static void require_count(const json_t *cpu, const char *key)
{
    const json_t *v = json_object_get(cpu, key);
    REQUIRE(json_is_null(v) || (json_is_integer(v) && json_integer_value(v) >= 1));
}

static void check_facts(const json_t *f)
{
    static const char *const arrays[] = {"disks",      "lvm",  "filesystems",
                                         "nfs_mounts", "nics", "listening"};
    REQUIRE(json_is_object(f));
    REQUIRE(json_object_size(f) == 17);
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        require_array_of_objects(f, arrays[i]);
    REQUIRE(json_is_array(json_object_get(f, "services")));
    REQUIRE(json_is_array(json_object_get(f, "virtualization_blockers")));
    require_string_or_null(f, "hostname");
    require_string_or_null(f, "collected_at");
    require_string_or_null(f, "boot_mode");
    require_string_or_null(f, "virtualization");

    const json_t *os = json_object_get(f, "os");
    REQUIRE(json_is_object(os) && json_object_size(os) == 5);
    const json_t *cpu = json_object_get(f, "cpu");
    REQUIRE(json_is_object(cpu) && json_object_size(cpu) == 6);
    require_count(cpu, "sockets");
    require_count(cpu, "cores");
    require_count(cpu, "threads");
    const json_t *cores = json_object_get(cpu, "cores"), *threads = json_object_get(cpu, "threads");
    if (json_is_integer(cores))
        REQUIRE(json_integer_value(cores) <= json_integer_value(threads));
    const json_t *mhz = json_object_get(cpu, "mhz");
    REQUIRE(json_is_null(mhz) || (json_is_number(mhz) && json_number_value(mhz) > 0));
    REQUIRE(json_is_object(json_object_get(f, "memory")));

    const json_t *hw = json_object_get(f, "hardware");
    REQUIRE(json_is_object(hw));
    require_array_of_objects(hw, "usb");
    require_array_of_objects(hw, "fc_hbas");
    require_array_of_objects(hw, "gpus");

    const json_t *disks = json_object_get(f, "disks");
    for (size_t i = 0; i < json_array_size(disks); i++) {
        const json_t *d = json_array_get(disks, i);
        REQUIRE(json_is_string(json_object_get(d, "name")));
        require_array_of_objects(d, "partitions");
    }
    const json_t *listening = json_object_get(f, "listening");
    for (size_t i = 0; i < json_array_size(listening); i++) {
        const json_t *port = json_object_get(json_array_get(listening, i), "port");
        REQUIRE(json_is_integer(port) && json_integer_value(port) >= 0 &&
                json_integer_value(port) <= 65535);
    }

    double cap = col_facts_cpu_capacity_mhz(f);
    REQUIRE(cap >= 0 && isfinite(cap));

    const char **names = NULL;
    size_t n = col_facts_physical_nics(f, &names);
    REQUIRE((n == 0) == (names == NULL));
    REQUIRE(n <= json_array_size(json_object_get(f, "nics")));
    for (size_t i = 0; i < n; i++)
        REQUIRE(names[i] && names[i][0]);
    free(names);

    /* jansson refuses to serialize invalid UTF-8 */
    char *text = json_dumps(f, 0);
    REQUIRE(text != NULL);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ks_error err;
    ks_error_clear(&err);
    json_t *f = col_facts_parse((const char *)data, size, "fuzz", &err);
    if (!f) {
        REQUIRE(err.code == KS_E_PARSE);
        REQUIRE(memchr(err.message, '\0', sizeof err.message) != NULL);
        REQUIRE(err.message[0] != '\0');
        return 0;
    }
    check_facts(f);
    json_decref(f);
    return 0;
}
