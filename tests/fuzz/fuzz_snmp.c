/* fuzz_snmp.c: the SNMP varbind mapping (samples, reboot detection, facts)
 * and the secrets-file parser, on what an agent or a user could send.
 *
 * Input: text lines "OID TYPE VALUE" (TYPE: n none, i integer, u unsigned
 * 32-bit, c Counter64, s string (the rest of the line), o OID), as the kept
 * corpus converted from real snmpwalk output; the whole input is also
 * given to the secrets parser. The sample mapping runs twice with one boot
 * state, as on two samples of one connection.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "col_proc.h"
#include "col_snmp.h"

static void add_line(col_snmp_vars *vs, const char *line, size_t len)
{
    char buf[512];
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, line, len);
    buf[len] = '\0';
    char *type = strchr(buf, ' ');
    if (!type || !type[1])
        return;
    *type++ = '\0';
    const char *value = type[1] == ' ' ? type + 2 : "";
    uint32_t oid[COL_SNMP_OID_MAX];
    size_t n = col_snmp_oid_parse(buf, oid, COL_SNMP_OID_MAX);
    if (!n)
        return;
    switch (type[0]) {
    case 'n':
        col_snmp_vars_add(vs, oid, n, COL_SNMP_NONE, 0, 0, NULL, 0);
        break;
    case 'i':
        col_snmp_vars_add(vs, oid, n, COL_SNMP_INT, strtoll(value, NULL, 10), 0, NULL, 0);
        break;
    case 'u':
        col_snmp_vars_add(vs, oid, n, COL_SNMP_UINT, 0, strtoull(value, NULL, 10) & 0xffffffffu,
                          NULL, 0);
        break;
    case 'c':
        col_snmp_vars_add(vs, oid, n, COL_SNMP_U64, 0, strtoull(value, NULL, 10), NULL, 0);
        break;
    case 's':
        col_snmp_vars_add(vs, oid, n, COL_SNMP_STR, 0, 0, value, strlen(value));
        break;
    case 'o': {
        uint32_t v[COL_SNMP_OID_MAX];
        size_t vn = col_snmp_oid_parse(value, v, COL_SNMP_OID_MAX);
        col_snmp_vars_add(vs, oid, n, COL_SNMP_OID, 0, 0, v, vn);
        break;
    }
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    col_snmp_vars vs = {0};
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        add_line(&vs, p, len);
        p += len + (nl ? 1 : 0);
    }
    col_snmp_boot boot = {0};
    unsigned ncpu = col_snmp_ncpu(&vs);
    for (int i = 0; i < 2; i++) {
        col_raw raw;
        col_raw_init(&raw);
        ks_error err;
        if (col_snmp_sample_map(&vs, ncpu, &boot, "fuzz", &raw, &err) < 0 && !err.message[0])
            abort(); /* a failure must say why */
        col_raw_clear(&raw);
    }
    json_t *facts = col_snmp_facts_map(&vs, "fuzz", "2026-01-01T00:00:00Z");
    if (!facts || !json_is_object(facts))
        abort();
    char *text = json_dumps(facts, 0);
    if (!text)
        abort(); /* facts must always serialize */
    free(text);
    json_decref(facts);
    col_snmp_vars_free(&vs);

    col_snmp_secrets sec;
    ks_error err;
    col_snmp_secrets_parse((const char *)data, size, "fuzz.secrets", &sec, &err);
    col_snmp_secrets_wipe(&sec);
    return 0;
}
