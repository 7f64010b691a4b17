/* fuzz_inventory.c: the inventory.csv and study.ini parsers on arbitrary bytes.
 *
 * Both read files that users edit by hand or export from spreadsheets. Built
 * with clang -fsanitize=fuzzer,address,undefined for fuzzing, or linked with
 * replay.c to run the kept corpus (tests/fuzz/corpus/inventory/) under ctest.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ks_error.h"
#include "ks_ini.h"
#include "ks_inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    ks_error err;

    ks_inventory *inv = ks_inventory_parse(text, size, "inventory.csv", &err);
    if (inv) {
        /* every returned server is complete */
        for (size_t i = 0; i < inv->count; i++) {
            const ks_server *s = &inv->servers[i];
            if (!ks_server_name_valid(s->name) || ks_inventory_find(inv, s->name) != s ||
                s->port < 1 || s->port > 65535 || !s->address[0] || !s->user || !s->key ||
                !s->role || !s->group)
                __builtin_trap();
            for (size_t t = 0; t < s->ntags; t++)
                if (!s->tags[t][0])
                    __builtin_trap();
        }
    } else if (strlen(err.message) >= KS_ERROR_MSG_MAX || !err.message[0]) {
        __builtin_trap();
    }
    ks_inventory_free(inv);

    ks_ini *ini = ks_ini_parse(text, size, "study.ini", &err);
    if (ini) {
        for (size_t i = 0; i < ks_ini_section_count(ini); i++) {
            const char *section = ks_ini_section_name(ini, i);
            long l;
            double d;
            ks_ini_get(ini, section, "name");
            ks_ini_get_long(ini, section, "interval", 60, 1, 86400, &l, &err);
            ks_ini_get_double(ini, section, "ratio", 1, 0, 100, &d, &err);
        }
    }
    ks_ini_free(ini);
    return 0;
}
