/* col_snmp_map.c: the SNMP secrets file, and varbinds -> col_raw / facts.
 *
 * Pure functions (no network, no net-snmp), so that the mapping is tested
 * from in-memory varbind lists. What is read, and why:
 * - CPU: UCD-SNMP-MIB ssCpuRaw* (the agent's copy of /proc/stat's "cpu"
 *   line, in ticks). net-snmp refreshes them every 5 s, so two readings
 *   closer than that can give an unknown CPU share.
 * - Uptime: hrSystemUptime (the host's), else sysUpTime (the agent's);
 *   32-bit TimeTicks that wrap after 497 days, unwrapped here.
 * - Memory: memTotalReal(X), and memSysAvail (MemAvailable) where the agent
 *   has it, else memAvailReal + memBuffer + memCached (MemFree + Buffers +
 *   Cached, as col_proc.c does for kernels without MemAvailable).
 * - NICs: IF-MIB 64-bit octet counters, else the 32-bit ones (their wraps
 *   give unknown rates through col_rates_compute); softwareLoopback skipped.
 * - Disks: UCD-DISKIO-MIB, whole disks only by col_proc.c's rule.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "col_snmp.h"
#include "ks_buf.h"
#include "ks_mem.h"
#include "ks_parse.h"

/* ---- OIDs ---------------------------------------------------------------- */

#define SYS_DESCR "1.3.6.1.2.1.1.1.0"
#define SYS_OBJECT_ID "1.3.6.1.2.1.1.2.0"
#define SYS_UPTIME "1.3.6.1.2.1.1.3.0"
#define SYS_NAME "1.3.6.1.2.1.1.5.0"
#define HR_SYSTEM_UPTIME "1.3.6.1.2.1.25.1.1.0"
#define HR_MEMORY_SIZE "1.3.6.1.2.1.25.2.2.0"
#define ENGINE_BOOTS "1.3.6.1.6.3.10.2.1.2.0"

#define SS_CPU(n) "1.3.6.1.4.1.2021.11." #n ".0"
#define UCD_MEM(n) "1.3.6.1.4.1.2021.4." #n ".0"
#define MEM_TOTAL_REAL UCD_MEM(5)
#define MEM_AVAIL_REAL UCD_MEM(6)
#define MEM_BUFFER UCD_MEM(14)
#define MEM_CACHED UCD_MEM(15)
#define MEM_TOTAL_REAL_X UCD_MEM(20)
#define MEM_AVAIL_REAL_X UCD_MEM(21)
#define MEM_BUFFER_X UCD_MEM(25)
#define MEM_CACHED_X UCD_MEM(26)
#define MEM_SYS_AVAIL UCD_MEM(27)

#define IF_DESCR "1.3.6.1.2.1.2.2.1.2"
#define IF_TYPE "1.3.6.1.2.1.2.2.1.3"
#define IF_PHYS_ADDRESS "1.3.6.1.2.1.2.2.1.6"
#define IF_OPER_STATUS "1.3.6.1.2.1.2.2.1.8"
#define IF_IN_OCTETS "1.3.6.1.2.1.2.2.1.10"
#define IF_OUT_OCTETS "1.3.6.1.2.1.2.2.1.16"
#define IF_NAME "1.3.6.1.2.1.31.1.1.1.1"
#define IF_HC_IN_OCTETS "1.3.6.1.2.1.31.1.1.1.6"
#define IF_HC_OUT_OCTETS "1.3.6.1.2.1.31.1.1.1.10"
#define IF_HIGH_SPEED "1.3.6.1.2.1.31.1.1.1.15"

#define DISKIO(n) "1.3.6.1.4.1.2021.13.15.1.1." #n
#define DISKIO_DEVICE DISKIO(2)
#define DISKIO_NREAD DISKIO(3)
#define DISKIO_NWRITTEN DISKIO(4)
#define DISKIO_READS DISKIO(5)
#define DISKIO_WRITES DISKIO(6)
#define DISKIO_NREAD_X DISKIO(12)
#define DISKIO_NWRITTEN_X DISKIO(13)

#define HR_DEVICE_TYPE "1.3.6.1.2.1.25.3.2.1.2"
#define HR_DEVICE_DESCR "1.3.6.1.2.1.25.3.2.1.3"
#define HR_PROCESSOR_FRWID "1.3.6.1.2.1.25.3.3.1.1"
#define HR_DISK_CAPACITY "1.3.6.1.2.1.25.3.6.1.4"
#define HR_DEV_PROCESSOR "1.3.6.1.2.1.25.3.1.3"
#define HR_DEV_DISK "1.3.6.1.2.1.25.3.1.6"
#define HR_STORAGE_TYPE "1.3.6.1.2.1.25.2.3.1.2"
#define HR_STORAGE_DESCR "1.3.6.1.2.1.25.2.3.1.3"
#define HR_STORAGE_UNITS "1.3.6.1.2.1.25.2.3.1.4"
#define HR_STORAGE_SIZE "1.3.6.1.2.1.25.2.3.1.5"
#define HR_STORAGE_USED "1.3.6.1.2.1.25.2.3.1.6"
#define HR_ST_RAM "1.3.6.1.2.1.25.2.1.2"
#define HR_ST_FIXED "1.3.6.1.2.1.25.2.1.4"
#define HR_ST_NETWORK "1.3.6.1.2.1.25.2.1.10"

#define IP_ADDRESS_IFINDEX "1.3.6.1.2.1.4.34.1.3"
#define IP_ADDRESS_PREFIX "1.3.6.1.2.1.4.34.1.5"
#define IP_AD_ENT_IFINDEX "1.3.6.1.2.1.4.20.1.2"
#define IP_AD_ENT_NETMASK "1.3.6.1.2.1.4.20.1.3"
#define TCP_LISTENER_PROCESS "1.3.6.1.2.1.6.20.1.4"

#define IFTYPE_ETHERNET 6
#define IFTYPE_LOOPBACK 24

static const char *const connect_get[] = {SYS_UPTIME, SYS_OBJECT_ID, NULL};
static const char *const ncpu_walk[] = {HR_DEVICE_TYPE, HR_PROCESSOR_FRWID, NULL};
const col_snmp_job col_snmp_connect_jobs[] = {
    {false, connect_get},
    {true, ncpu_walk},
    {false, NULL},
};

static const char *const sample_get[] = {
    SYS_UPTIME,       HR_SYSTEM_UPTIME, ENGINE_BOOTS,
    SS_CPU(50),       SS_CPU(51),       SS_CPU(52),
    SS_CPU(53),       SS_CPU(54),       SS_CPU(56),
    SS_CPU(61),       SS_CPU(64),       MEM_TOTAL_REAL,
    MEM_AVAIL_REAL,   MEM_BUFFER,       MEM_CACHED,
    MEM_TOTAL_REAL_X, MEM_AVAIL_REAL_X, MEM_BUFFER_X,
    MEM_CACHED_X,     MEM_SYS_AVAIL,    NULL,
};
static const char *const sample_nic_oids[] = {IF_TYPE,          IF_NAME,       IF_DESCR,
                                              IF_IN_OCTETS,     IF_OUT_OCTETS, IF_HC_IN_OCTETS,
                                              IF_HC_OUT_OCTETS, NULL};
static const char *const sample_disk_oids[] = {DISKIO_DEVICE,     DISKIO_NREAD,  DISKIO_NWRITTEN,
                                               DISKIO_READS,      DISKIO_WRITES, DISKIO_NREAD_X,
                                               DISKIO_NWRITTEN_X, NULL};
const col_snmp_job col_snmp_sample_jobs[] = {
    {false, sample_get},
    {true, sample_nic_oids},
    {true, sample_disk_oids},
    {false, NULL},
};

static const char *const facts_get[] = {SYS_DESCR,      SYS_NAME,         HR_MEMORY_SIZE,
                                        MEM_TOTAL_REAL, MEM_TOTAL_REAL_X, NULL};
static const char *const facts_dev[] = {HR_DEVICE_TYPE, HR_DEVICE_DESCR, NULL};
static const char *const facts_proc[] = {HR_PROCESSOR_FRWID, NULL};
static const char *const facts_disk[] = {HR_DISK_CAPACITY, NULL};
static const char *const facts_storage_oids[] = {
    HR_STORAGE_TYPE, HR_STORAGE_DESCR, HR_STORAGE_UNITS, HR_STORAGE_SIZE, HR_STORAGE_USED, NULL};
static const char *const facts_if[] = {
    IF_DESCR, IF_TYPE, IF_PHYS_ADDRESS, IF_OPER_STATUS, IF_NAME, IF_HIGH_SPEED, NULL};
static const char *const facts_ip[] = {IP_ADDRESS_IFINDEX, IP_ADDRESS_PREFIX, NULL};
static const char *const facts_ipv4[] = {IP_AD_ENT_IFINDEX, IP_AD_ENT_NETMASK, NULL};
static const char *const facts_tcp[] = {TCP_LISTENER_PROCESS, NULL};
const col_snmp_job col_snmp_facts_jobs[] = {
    {false, facts_get},         {true, facts_dev}, {true, facts_proc}, {true, facts_disk},
    {true, facts_storage_oids}, {true, facts_if},  {true, facts_ip},   {true, facts_ipv4},
    {true, facts_tcp},          {false, NULL},
};

/* ---- secrets ------------------------------------------------------------- */

void col_snmp_secrets_wipe(col_snmp_secrets *s)
{
    volatile unsigned char *p = (volatile unsigned char *)s;
    for (size_t i = 0; i < sizeof *s; i++)
        p[i] = 0;
}

enum {
    K_VERSION,
    K_COMMUNITY,
    K_USER,
    K_AUTH_PROTO,
    K_AUTH_PASS,
    K_PRIV_PROTO,
    K_PRIV_PASS,
    K_COUNT
};
static const char *const secret_keys[K_COUNT] = {"version",       "community",     "user",
                                                 "auth_protocol", "auth_password", "priv_protocol",
                                                 "priv_password"};

int col_snmp_secrets_parse(const char *text, size_t len, const char *filename,
                           col_snmp_secrets *out, ks_error *err)
{
    col_snmp_secrets s;
    memset(&s, 0, sizeof s);
    unsigned seen[K_COUNT] = {0}; /* line of each key, 0 absent */
    char *val[K_COUNT] = {NULL};
    int rc = -1;
    ks_cursor c = ks_cursor_make(text, len), line;
    unsigned lineno = 0;
    while (ks_cur_line(&c, &line)) {
        lineno++;
        KS_AUTOFREE char *l = ks_strndup(line.p, ks_cur_len(&line));
        ks_trim(l);
        if (!*l || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: not a 'key = value' line (keys: version, community, user, "
                         "auth_protocol, auth_password, priv_protocol, priv_password)",
                         filename, lineno);
            goto out;
        }
        *eq = '\0';
        char *k = ks_trim(l), *v = ks_trim(eq + 1);
        int key = -1;
        for (int i = 0; i < K_COUNT; i++)
            if (strcasecmp(k, secret_keys[i]) == 0)
                key = i;
        if (key < 0) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: unknown key '%.64s' (keys: version, community, user, "
                         "auth_protocol, auth_password, priv_protocol, priv_password)",
                         filename, lineno, k);
            goto out;
        }
        if (seen[key]) {
            ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: '%s' is already set on line %u", filename,
                         lineno, secret_keys[key], seen[key]);
            goto out;
        }
        if (strlen(v) >= COL_SNMP_SECRET_MAX) {
            ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: the value of '%s' is longer than %d bytes",
                         filename, lineno, secret_keys[key], COL_SNMP_SECRET_MAX - 1);
            goto out;
        }
        seen[key] = lineno;
        val[key] = ks_strdup(v);
    }
    if (!seen[K_VERSION]) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "%s has no 'version' line: write 'version = 2c' with 'community = ...', or "
                     "'version = 3' with user, auth_protocol, auth_password, priv_protocol and "
                     "priv_password",
                     filename);
        goto out;
    }
    if (strcasecmp(val[K_VERSION], "2c") == 0 || strcmp(val[K_VERSION], "2") == 0) {
        s.version = COL_SNMP_V2C;
        for (int i = K_USER; i < K_COUNT; i++) {
            if (seen[i]) {
                ks_error_set(err, KS_E_CONFIG, 0,
                             "%s:%u: '%s' is for version 3; version 2c needs only 'community'",
                             filename, seen[i], secret_keys[i]);
                goto out;
            }
        }
        if (!seen[K_COMMUNITY] || !*val[K_COMMUNITY]) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s: version 2c needs a non-empty 'community = ...' line", filename);
            goto out;
        }
        memcpy(s.community, val[K_COMMUNITY], strlen(val[K_COMMUNITY]) + 1);
    } else if (strcmp(val[K_VERSION], "3") == 0) {
        s.version = COL_SNMP_V3;
        if (seen[K_COMMUNITY]) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: 'community' is for version 2c; version 3 uses user and "
                         "passwords",
                         filename, seen[K_COMMUNITY]);
            goto out;
        }
        for (int i = K_USER; i <= K_AUTH_PASS; i++) {
            if (!seen[i] || !*val[i]) {
                ks_error_set(err, KS_E_CONFIG, 0, "%s: version 3 needs a non-empty '%s' line",
                             filename, secret_keys[i]);
                goto out;
            }
        }
        memcpy(s.user, val[K_USER], strlen(val[K_USER]) + 1);
        const char *a = val[K_AUTH_PROTO];
        if (strcasecmp(a, "SHA") == 0 || strcasecmp(a, "SHA1") == 0 || strcasecmp(a, "SHA-1") == 0)
            s.auth = COL_SNMP_AUTH_SHA;
        else if (strcasecmp(a, "SHA-256") == 0 || strcasecmp(a, "SHA256") == 0)
            s.auth = COL_SNMP_AUTH_SHA256;
        else if (strcasecmp(a, "SHA-512") == 0 || strcasecmp(a, "SHA512") == 0)
            s.auth = COL_SNMP_AUTH_SHA512;
        else {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: auth_protocol '%.32s' is not supported: use SHA, SHA-256 or "
                         "SHA-512",
                         filename, seen[K_AUTH_PROTO], a);
            goto out;
        }
        const char *p = seen[K_PRIV_PROTO] ? val[K_PRIV_PROTO] : "none";
        if (strcasecmp(p, "none") == 0)
            s.priv = COL_SNMP_PRIV_NONE;
        else if (strcasecmp(p, "AES") == 0 || strcasecmp(p, "AES-128") == 0)
            s.priv = COL_SNMP_PRIV_AES;
        else if (strcasecmp(p, "AES-256") == 0 || strcasecmp(p, "AES256") == 0)
            s.priv = COL_SNMP_PRIV_AES256;
        else {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: priv_protocol '%.32s' is not supported: use AES, AES-256 or "
                         "none",
                         filename, seen[K_PRIV_PROTO], p);
            goto out;
        }
        if (s.priv != COL_SNMP_PRIV_NONE && (!seen[K_PRIV_PASS] || !*val[K_PRIV_PASS])) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s: priv_protocol %s needs a non-empty 'priv_password' line", filename,
                         p);
            goto out;
        }
        if (s.priv == COL_SNMP_PRIV_NONE && seen[K_PRIV_PASS]) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: priv_password is set but priv_protocol is none: set "
                         "priv_protocol = AES or remove the password",
                         filename, seen[K_PRIV_PASS]);
            goto out;
        }
        /* RFC 3414 (and net-snmp) refuse passwords shorter than 8 characters */
        for (int i = K_AUTH_PASS; i < K_COUNT; i += 2) {
            if (seen[i] && strlen(val[i]) < 8) {
                ks_error_set(err, KS_E_CONFIG, 0,
                             "%s:%u: %s is shorter than 8 characters, which SNMPv3 refuses",
                             filename, seen[i], secret_keys[i]);
                goto out;
            }
        }
        memcpy(s.auth_password, val[K_AUTH_PASS], strlen(val[K_AUTH_PASS]) + 1);
        if (seen[K_PRIV_PASS])
            memcpy(s.priv_password, val[K_PRIV_PASS], strlen(val[K_PRIV_PASS]) + 1);
    } else {
        ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: version '%.16s' is not supported: use 2c or 3",
                     filename, seen[K_VERSION], val[K_VERSION]);
        goto out;
    }
    *out = s;
    rc = 0;
out:
    for (int i = 0; i < K_COUNT; i++) {
        if (val[i]) {
            volatile char *p = val[i];
            for (size_t k = 0; p[k]; k++)
                p[k] = 0;
            free(val[i]);
        }
    }
    col_snmp_secrets_wipe(&s);
    return rc;
}

/* ---- varbind lists -------------------------------------------------------- */

void col_snmp_vars_free(col_snmp_vars *vs)
{
    for (size_t i = 0; i < vs->v.len; i++)
        free(vs->v.ptr[i].str);
    col_snmp_var_vec_reset(&vs->v);
    vs->sorted = false;
}

size_t col_snmp_oid_parse(const char *dotted, uint32_t *oid, size_t max)
{
    const char *p = dotted;
    size_t n = 0;
    if (*p == '.')
        p++;
    while (*p) {
        if (n >= max || !isdigit((unsigned char)*p))
            return 0;
        uint64_t v = 0;
        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (uint64_t)(*p - '0');
            if (v > UINT32_MAX)
                return 0;
            p++;
        }
        oid[n++] = (uint32_t)v;
        if (*p == '.')
            p++;
        else if (*p)
            return 0;
    }
    return n;
}

void col_snmp_vars_add(col_snmp_vars *vs, const uint32_t *oid, size_t oid_len, col_snmp_type type,
                       int64_t i, uint64_t u, const void *str, size_t str_len)
{
    col_snmp_var v;
    memset(&v, 0, sizeof v);
    if (oid_len > COL_SNMP_OID_MAX)
        return; /* longer than any OID we ask for: not ours */
    memcpy(v.oid, oid, oid_len * sizeof *oid);
    v.oid_len = oid_len;
    v.type = type;
    v.i = i;
    v.u = u;
    if (type == COL_SNMP_STR) {
        v.str = ks_malloc(str_len + 1);
        if (str_len)
            memcpy(v.str, str, str_len);
        v.str[str_len] = '\0';
        v.str_len = str_len;
    } else if (type == COL_SNMP_OID) {
        size_t n = str_len > COL_SNMP_OID_MAX ? COL_SNMP_OID_MAX : str_len;
        v.str = ks_calloc(n ? n : 1, sizeof(uint32_t));
        if (n)
            memcpy(v.str, str, n * sizeof(uint32_t));
        v.str_len = n;
    }
    col_snmp_var_vec_push(&vs->v, v);
    vs->sorted = false;
}

void col_snmp_vars_add_s(col_snmp_vars *vs, const char *dotted, col_snmp_type type, int64_t i,
                         uint64_t u, const char *str)
{
    uint32_t oid[COL_SNMP_OID_MAX];
    size_t n = col_snmp_oid_parse(dotted, oid, COL_SNMP_OID_MAX);
    if (!n)
        return;
    if (type == COL_SNMP_OID) {
        uint32_t val[COL_SNMP_OID_MAX];
        size_t vn = col_snmp_oid_parse(str, val, COL_SNMP_OID_MAX);
        col_snmp_vars_add(vs, oid, n, type, i, u, val, vn);
        return;
    }
    col_snmp_vars_add(vs, oid, n, type, i, u, str, str ? strlen(str) : 0);
}

static int oid_cmp(const uint32_t *a, size_t an, const uint32_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static int var_cmp(const void *a, const void *b)
{
    const col_snmp_var *x = a, *y = b;
    return oid_cmp(x->oid, x->oid_len, y->oid, y->oid_len);
}

static void vars_sort(col_snmp_vars *vs)
{
    if (vs->sorted)
        return;
    if (vs->v.len > 1)
        ks_qsort(vs->v.ptr, vs->v.len, sizeof *vs->v.ptr, var_cmp);
    vs->sorted = true;
}

/* First var whose OID is >= oid. */
static size_t lower_bound(const col_snmp_vars *vs, const uint32_t *oid, size_t n)
{
    size_t lo = 0, hi = vs->v.len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (oid_cmp(vs->v.ptr[mid].oid, vs->v.ptr[mid].oid_len, oid, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The var with exactly this OID (a value, not an exception), or NULL. */
static const col_snmp_var *get_oid(col_snmp_vars *vs, const uint32_t *oid, size_t n)
{
    vars_sort(vs);
    size_t i = lower_bound(vs, oid, n);
    if (i < vs->v.len && oid_cmp(vs->v.ptr[i].oid, vs->v.ptr[i].oid_len, oid, n) == 0 &&
        vs->v.ptr[i].type != COL_SNMP_NONE)
        return &vs->v.ptr[i];
    return NULL;
}

static const col_snmp_var *get(col_snmp_vars *vs, const char *dotted)
{
    uint32_t oid[COL_SNMP_OID_MAX];
    size_t n = col_snmp_oid_parse(dotted, oid, COL_SNMP_OID_MAX);
    return n ? get_oid(vs, oid, n) : NULL;
}

/* column.index */
static const col_snmp_var *get_idx(col_snmp_vars *vs, const char *column, const uint32_t *idx,
                                   size_t idx_len)
{
    uint32_t oid[COL_SNMP_OID_MAX];
    size_t n = col_snmp_oid_parse(column, oid, COL_SNMP_OID_MAX);
    if (!n || n + idx_len > COL_SNMP_OID_MAX)
        return NULL;
    memcpy(oid + n, idx, idx_len * sizeof *idx);
    return get_oid(vs, oid, n + idx_len);
}

/* The rows of a column: [*first, *end) of the sorted vars; the index of a
 * row is oid + *plen. */
static void column(col_snmp_vars *vs, const char *col, size_t *first, size_t *end, size_t *plen)
{
    uint32_t oid[COL_SNMP_OID_MAX];
    size_t n = col_snmp_oid_parse(col, oid, COL_SNMP_OID_MAX);
    vars_sort(vs);
    size_t i = lower_bound(vs, oid, n), j = i;
    while (j < vs->v.len && vs->v.ptr[j].oid_len > n &&
           memcmp(vs->v.ptr[j].oid, oid, n * sizeof *oid) == 0)
        j++;
    *first = i;
    *end = j;
    *plen = n;
}

/* A non-negative number of any integer type. */
static bool num(const col_snmp_var *v, uint64_t *out)
{
    if (!v)
        return false;
    switch (v->type) {
    case COL_SNMP_INT:
        if (v->i < 0)
            return false;
        *out = (uint64_t)v->i;
        return true;
    case COL_SNMP_UINT:
    case COL_SNMP_U64:
        *out = v->u;
        return true;
    default:
        return false;
    }
}

static bool num_s(col_snmp_vars *vs, const char *dotted, uint64_t *out)
{
    return num(get(vs, dotted), out);
}

static bool oid_value_is(const col_snmp_var *v, const char *dotted)
{
    uint32_t oid[COL_SNMP_OID_MAX];
    size_t n = col_snmp_oid_parse(dotted, oid, COL_SNMP_OID_MAX);
    return v && v->type == COL_SNMP_OID &&
           oid_cmp((const uint32_t *)(const void *)v->str, v->str_len, oid, n) == 0;
}

/* Printable ASCII copy of a string value (others become '?'), at most max
 * bytes; blanks become '_' when names is set (interface and disk names). */
static char *printable(const col_snmp_var *v, size_t max, bool names)
{
    if (!v || v->type != COL_SNMP_STR)
        return NULL;
    size_t n = v->str_len;
    while (n && (v->str[n - 1] == '\0' || v->str[n - 1] == ' '))
        n--; /* agents that count the NUL, or pad */
    if (n > max)
        n = max;
    char *s = ks_malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = v->str[i];
        s[i] = ch < 0x20 || ch >= 0x7f ? '?' : (names && ch == ' ') ? '_' : (char)ch;
    }
    s[n] = '\0';
    return s;
}

/* ---- sample -------------------------------------------------------------- */

unsigned col_snmp_ncpu(col_snmp_vars *vs)
{
    size_t a, b, pl;
    unsigned n = 0;
    column(vs, HR_DEVICE_TYPE, &a, &b, &pl);
    for (size_t i = a; i < b; i++)
        n += oid_value_is(&vs->v.ptr[i], HR_DEV_PROCESSOR);
    if (n)
        return n;
    column(vs, HR_PROCESSOR_FRWID, &a, &b, &pl);
    for (size_t i = a; i < b; i++)
        n += vs->v.ptr[i].type != COL_SNMP_NONE;
    return n;
}

#define TICKS_WRAP 4294967296.0

static void boot_update(col_snmp_boot *b, uint32_t raw, bool have_boots, int64_t boots)
{
    bool reboot = false;
    if (b->have) {
        if (raw < b->raw) {
            /* a 32-bit wrap after 497 days, or a restart */
            bool wrap =
                b->raw - raw > 0x80000000u && !(have_boots && b->have_boots && boots != b->boots);
            if (wrap)
                b->wraps++;
            else
                reboot = true;
        }
        if (have_boots && b->have_boots && boots != b->boots)
            reboot = true;
    } else {
        b->generation = 1;
    }
    if (reboot) {
        b->generation++;
        b->wraps = 0;
    }
    b->have = true;
    b->raw = raw;
    b->ticks = b->wraps * (uint64_t)TICKS_WRAP + raw;
    if (have_boots) {
        b->have_boots = true;
        b->boots = boots;
    }
}

static void sample_nics(col_snmp_vars *vs, col_raw *raw)
{
    size_t a, b, pl;
    column(vs, IF_TYPE, &a, &b, &pl);
    for (size_t i = a; i < b; i++) {
        const col_snmp_var *t = &vs->v.ptr[i];
        uint64_t type;
        if (!num(t, &type) || type == IFTYPE_LOOPBACK)
            continue;
        const uint32_t *idx = t->oid + pl;
        size_t il = t->oid_len - pl;
        uint64_t rx, tx;
        const col_snmp_var *hin = get_idx(vs, IF_HC_IN_OCTETS, idx, il);
        const col_snmp_var *hout = get_idx(vs, IF_HC_OUT_OCTETS, idx, il);
        if (!(num(hin, &rx) && num(hout, &tx)) && !(num(get_idx(vs, IF_IN_OCTETS, idx, il), &rx) &&
                                                    num(get_idx(vs, IF_OUT_OCTETS, idx, il), &tx)))
            continue;
        col_nic nic;
        memset(&nic, 0, sizeof nic);
        KS_AUTOFREE char *nm = printable(get_idx(vs, IF_NAME, idx, il), COL_NAME_MAX - 1, true);
        if (!nm || !*nm) {
            free(nm);
            nm = printable(get_idx(vs, IF_DESCR, idx, il), COL_NAME_MAX - 1, true);
        }
        if (nm && *nm)
            snprintf(nic.name, sizeof nic.name, "%s", nm);
        else
            snprintf(nic.name, sizeof nic.name, "if%u", (unsigned)idx[0]);
        nic.rx_bytes = rx;
        nic.tx_bytes = tx;
        col_nic_vec_push(&raw->nics, nic);
    }
    raw->has_net = b > a;
}

/* Names of a column of device names, sorted (for col_disk_name_counts);
 * the strings are owned by the array. */
static char **device_names(col_snmp_vars *vs, const char *col, size_t *n)
{
    size_t a, b, pl;
    column(vs, col, &a, &b, &pl);
    char **names = ks_calloc(b - a + 1, sizeof *names);
    size_t k = 0;
    for (size_t i = a; i < b; i++) {
        char *s = printable(&vs->v.ptr[i], COL_NAME_MAX - 1, true);
        if (s)
            names[k++] = s;
    }
    if (k > 1)
        ks_qsort(names, k, sizeof *names, ks_cmp_strp);
    *n = k;
    return names;
}

static void names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void sample_disks(col_snmp_vars *vs, col_raw *raw)
{
    size_t nn;
    char **names = device_names(vs, DISKIO_DEVICE, &nn);
    size_t a, b, pl;
    column(vs, DISKIO_DEVICE, &a, &b, &pl);
    for (size_t i = a; i < b; i++) {
        const col_snmp_var *d = &vs->v.ptr[i];
        KS_AUTOFREE char *nm = printable(d, COL_NAME_MAX - 1, true);
        if (!nm || !col_disk_name_counts(nm, (const char *const *)names, nn))
            continue;
        const uint32_t *idx = d->oid + pl;
        size_t il = d->oid_len - pl;
        uint64_t rd, wr, rio = 0, wio = 0;
        if (!(num(get_idx(vs, DISKIO_NREAD_X, idx, il), &rd) &&
              num(get_idx(vs, DISKIO_NWRITTEN_X, idx, il), &wr)) &&
            !(num(get_idx(vs, DISKIO_NREAD, idx, il), &rd) &&
              num(get_idx(vs, DISKIO_NWRITTEN, idx, il), &wr)))
            continue;
        num(get_idx(vs, DISKIO_READS, idx, il), &rio);
        num(get_idx(vs, DISKIO_WRITES, idx, il), &wio);
        col_disk disk;
        memset(&disk, 0, sizeof disk);
        snprintf(disk.name, sizeof disk.name, "%s", nm);
        disk.rd_sectors = rd / 512;
        disk.wr_sectors = wr / 512;
        disk.rd_ios = rio;
        disk.wr_ios = wio;
        col_disk_vec_push(&raw->disks, disk);
    }
    raw->has_disk = b > a;
    names_free(names, nn);
}

int col_snmp_sample_map(col_snmp_vars *vs, unsigned ncpu, col_snmp_boot *boot, const char *server,
                        col_raw *raw, ks_error *err)
{
    uint64_t ticks;
    if (!num_s(vs, HR_SYSTEM_UPTIME, &ticks) && !num_s(vs, SYS_UPTIME, &ticks)) {
        ks_error_set(err, KS_E_REMOTE, 0,
                     "the SNMP agent of '%s' gave neither hrSystemUptime nor sysUpTime: let its "
                     "view include the system and host resources MIBs (1.3.6.1.2.1.1 and "
                     "1.3.6.1.2.1.25)",
                     server);
        return -1;
    }
    const col_snmp_var *bv = get(vs, ENGINE_BOOTS);
    boot_update(boot, (uint32_t)ticks, bv && bv->type == COL_SNMP_INT, bv ? bv->i : 0);
    raw->uptime = (double)boot->ticks / 100.0;
    /* col_rates_compute tolerates small btime moves (clock steps): a step
     * of the generation moves it far more */
    raw->btime = boot->generation * (COL_BTIME_TOLERANCE + 1) * 1000;
    raw->ncpu = ncpu;

    uint64_t c[8];
    static const char *const cpu_oids[8] = {SS_CPU(50), SS_CPU(51), SS_CPU(52), SS_CPU(53),
                                            SS_CPU(54), SS_CPU(56), SS_CPU(61), SS_CPU(64)};
    uint64_t sum = 0;
    for (int i = 0; i < 8; i++) {
        if (!num_s(vs, cpu_oids[i], &c[i])) {
            if (i == 0 || i == 2 || i == 3) {
                ks_error_set(err, KS_E_REMOTE, 0,
                             "the SNMP agent of '%s' does not give the CPU counters of "
                             "UCD-SNMP-MIB (1.3.6.1.4.1.2021.11): let its view include "
                             "1.3.6.1.4.1.2021 (see README, SNMP)",
                             server);
                return -1;
            }
            c[i] = 0; /* older agents: no wait, interrupt, softirq or steal */
        }
        sum += c[i];
    }
    /* net-snmp answers zeros until its first CPU reading (5 s after start) */
    if (sum > 0) {
        raw->has_cpu = true;
        raw->cpu = (col_cpu){.user = c[0],
                             .nice = c[1],
                             .system = c[2],
                             .idle = c[3],
                             .iowait = c[4],
                             .irq = c[5],
                             .softirq = c[6],
                             .steal = c[7]};
    }

    uint64_t total, avail = 0, x;
    if (num_s(vs, MEM_TOTAL_REAL_X, &total) || num_s(vs, MEM_TOTAL_REAL, &total)) {
        bool ok = true;
        if (!num_s(vs, MEM_SYS_AVAIL, &avail)) {
            ok = num_s(vs, MEM_AVAIL_REAL_X, &avail) || num_s(vs, MEM_AVAIL_REAL, &avail);
            if (num_s(vs, MEM_BUFFER_X, &x) || num_s(vs, MEM_BUFFER, &x))
                avail += x;
            if (num_s(vs, MEM_CACHED_X, &x) || num_s(vs, MEM_CACHED, &x))
                avail += x;
        }
        if (ok && total > 0 && total <= UINT64_MAX / 1024 && avail <= UINT64_MAX / 1024) {
            raw->has_mem = true;
            raw->mem_total = total * 1024;
            raw->mem_available = avail * 1024;
        }
    }
    sample_nics(vs, raw);
    sample_disks(vs, raw);
    return 0;
}

/* ---- facts --------------------------------------------------------------- */

static json_t *jstr_or_null(char *s)
{
    json_t *j = s && *s ? json_string(s) : json_null();
    free(s);
    return j ? j : json_null();
}

static void put(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v ? v : json_null());
}

/* The words of sysDescr, split on blanks (at most max). */
static size_t words(const char *s, char w[][64], size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        size_t k = 0;
        while (*s && *s != ' ' && *s != '\t') {
            if (k < 63)
                w[n][k++] = *s;
            s++;
        }
        w[n][k] = '\0';
        n++;
    }
    return n;
}

static bool arch_word(const char *w)
{
    static const char *const arches[] = {"x86_64",  "i686",  "i386",  "aarch64", "armv7l",
                                         "ppc64le", "ppc64", "s390x", "riscv64", "mips64"};
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++)
        if (strcmp(w, arches[i]) == 0)
            return true;
    return false;
}

static json_t *facts_os(col_snmp_vars *vs)
{
    json_t *os = json_object();
    KS_AUTOFREE char *descr = printable(get(vs, SYS_DESCR), 1024, false);
    const char *id = NULL;
    char *pretty = NULL, *kernel = NULL, *arch = NULL, *version = NULL;
    if (descr) {
        char w[16][64];
        size_t n = words(descr, w, 16);
        const char *sw = strstr(descr, "Software: ");
        if (n >= 3 && strcmp(w[0], "Linux") == 0) {
            /* "Linux HOST 6.1.0-18-amd64 #1 SMP ... x86_64": the kernel, not
             * the distribution, which SNMP does not tell */
            kernel = ks_strdup(w[2]);
            if (arch_word(w[n - 1]))
                arch = ks_strdup(w[n - 1]);
        } else if (sw && strstr(sw, "Windows")) {
            /* "Hardware: Intel64 Family 6 ... - Software: Windows Version 6.3
             * (Build 17763 Multiprocessor Free)" */
            id = "windows";
            pretty = ks_strdup(sw + 10);
            const char *v = strstr(sw, "Version ");
            if (v) {
                char vw[2][64];
                if (words(v + 8, vw, 1) == 1)
                    version = ks_strdup(vw[0]);
            }
            if (strstr(descr, "Intel64") || strstr(descr, "AMD64"))
                arch = ks_strdup("x86_64");
            else if (strstr(descr, "ARM64"))
                arch = ks_strdup("aarch64");
        } else {
            pretty = ks_strdup(descr); /* appliances: their own words */
        }
    }
    put(os, "id", id ? json_string(id) : json_null());
    put(os, "version_id", jstr_or_null(version));
    put(os, "pretty_name", jstr_or_null(pretty));
    put(os, "kernel", jstr_or_null(kernel));
    put(os, "arch", jstr_or_null(arch));
    return os;
}

/* "... @ 2.60GHz" or "... @ 2600MHz": nominal MHz, 0 when absent. */
static double mhz_from_descr(const char *d)
{
    const char *at = d ? strstr(d, "@ ") : NULL;
    if (!at)
        return 0;
    char *end;
    double v = strtod(at + 2, &end);
    if (end == at + 2 || !(v > 0))
        return 0;
    if (strncasecmp(end, "GHz", 3) == 0)
        return v * 1000.0;
    if (strncasecmp(end, "MHz", 3) == 0)
        return v;
    return 0;
}

static json_t *facts_cpu(col_snmp_vars *vs)
{
    unsigned threads = col_snmp_ncpu(vs);
    char *model = NULL;
    const char *vendor = NULL;
    size_t a, b, pl;
    column(vs, HR_DEVICE_TYPE, &a, &b, &pl);
    for (size_t i = a; i < b && !model; i++) {
        const col_snmp_var *t = &vs->v.ptr[i];
        if (!oid_value_is(t, HR_DEV_PROCESSOR))
            continue;
        model = printable(get_idx(vs, HR_DEVICE_DESCR, t->oid + pl, t->oid_len - pl), 200, false);
    }
    /* net-snmp on Linux: "GenuineIntel: Intel(R) Xeon(R) ... @ 2.60GHz";
     * Windows: the model only */
    static const struct {
        const char *id, *name;
    } vendors[] = {
        {"GenuineIntel: ", "Intel"}, {"AuthenticAMD: ", "AMD"}, {"HygonGenuine: ", "Hygon"}};
    for (size_t i = 0; model && i < sizeof vendors / sizeof vendors[0]; i++) {
        size_t n = strlen(vendors[i].id);
        if (strncmp(model, vendors[i].id, n) == 0) {
            vendor = vendors[i].name;
            memmove(model, model + n, strlen(model + n) + 1);
        }
    }
    if (!vendor && model && (strstr(model, "Intel") || strstr(model, "Xeon")))
        vendor = "Intel";
    if (!vendor && model && (strstr(model, "AMD") || strstr(model, "EPYC")))
        vendor = "AMD";
    /* SNMP rarely gives the frequency: only when the model names it */
    double mhz = mhz_from_descr(model);
    json_t *cpu = json_object();
    put(cpu, "model", jstr_or_null(model));
    put(cpu, "vendor", vendor ? json_string(vendor) : json_null());
    /* SNMP lists logical processors and cannot tell sockets, cores and SMT
     * threads apart: cores = threads (an upper bound, so cpu_mhz is one too) */
    put(cpu, "sockets", json_null());
    put(cpu, "cores", threads ? json_integer(threads) : json_null());
    put(cpu, "threads", threads ? json_integer(threads) : json_null());
    put(cpu, "mhz", mhz >= 0.5 ? json_real((double)(uint64_t)(mhz + 0.5)) : json_null());
    return cpu;
}

static json_t *facts_memory(col_snmp_vars *vs)
{
    uint64_t kb = 0;
    json_t *mem = json_object();
    json_t *total = json_null();
    if ((num_s(vs, MEM_TOTAL_REAL_X, &kb) || num_s(vs, MEM_TOTAL_REAL, &kb) ||
         num_s(vs, HR_MEMORY_SIZE, &kb)) &&
        kb > 0 && kb <= (uint64_t)INT64_MAX / 1024)
        total = json_integer((json_int_t)(kb * 1024));
    put(mem, "total_bytes", total);
    return mem;
}

/* Size and used of an hrStorage row, in bytes. */
static bool storage_bytes(col_snmp_vars *vs, const uint32_t *idx, size_t il, uint64_t *size,
                          uint64_t *used)
{
    uint64_t units, s, u;
    if (!num(get_idx(vs, HR_STORAGE_UNITS, idx, il), &units) ||
        !num(get_idx(vs, HR_STORAGE_SIZE, idx, il), &s) ||
        !num(get_idx(vs, HR_STORAGE_USED, idx, il), &u) || units == 0 ||
        s > (uint64_t)INT64_MAX / units || u > (uint64_t)INT64_MAX / units)
        return false;
    *size = s * units;
    *used = u * units;
    return true;
}

static void facts_storage(col_snmp_vars *vs, json_t *fs, json_t *nfs)
{
    size_t a, b, pl;
    column(vs, HR_STORAGE_TYPE, &a, &b, &pl);
    for (size_t i = a; i < b; i++) {
        const col_snmp_var *t = &vs->v.ptr[i];
        bool fixed = oid_value_is(t, HR_ST_FIXED), net = oid_value_is(t, HR_ST_NETWORK);
        if (!fixed && !net)
            continue;
        const uint32_t *idx = t->oid + pl;
        size_t il = t->oid_len - pl;
        char *mp = printable(get_idx(vs, HR_STORAGE_DESCR, idx, il), 512, false);
        if (mp) {
            char *label = strstr(mp, " Label:"); /* Windows: "C:\ Label:Data  Serial ..." */
            if (label)
                *label = '\0';
        }
        json_t *o = json_object();
        if (net) {
            put(o, "source", json_null());
            put(o, "type", json_null());
            put(o, "mountpoint", jstr_or_null(mp));
            json_array_append_new(nfs, o);
            continue;
        }
        uint64_t size, used;
        bool ok = storage_bytes(vs, idx, il, &size, &used);
        put(o, "device", json_null());
        put(o, "type", json_null());
        put(o, "mountpoint", jstr_or_null(mp));
        put(o, "size_bytes", ok ? json_integer((json_int_t)size) : json_null());
        put(o, "used_bytes", ok ? json_integer((json_int_t)used) : json_null());
        json_array_append_new(fs, o);
    }
}

static void facts_disks(col_snmp_vars *vs, json_t *disks)
{
    size_t a, b, pl;
    column(vs, HR_DEVICE_TYPE, &a, &b, &pl);
    for (size_t i = a; i < b; i++) {
        const col_snmp_var *t = &vs->v.ptr[i];
        if (!oid_value_is(t, HR_DEV_DISK))
            continue;
        const uint32_t *idx = t->oid + pl;
        size_t il = t->oid_len - pl;
        char *d = printable(get_idx(vs, HR_DEVICE_DESCR, idx, il), 200, false);
        /* net-snmp on Linux: "SCSI disk (/dev/sda)" */
        const char *dev = d ? strstr(d, "/dev/") : NULL;
        char *name = NULL;
        if (dev) {
            size_t n = strcspn(dev + 5, " )");
            name = ks_strndup(dev + 5, n);
        }
        if (name && !col_disk_name_counts(name, NULL, 0)) {
            free(name);
            free(d);
            continue;
        }
        uint64_t kb;
        json_t *o = json_object();
        put(o, "name", jstr_or_null(name ? name : ks_strdup(d ? d : "")));
        put(o, "size_bytes",
            num(get_idx(vs, HR_DISK_CAPACITY, idx, il), &kb) && kb > 0 &&
                    kb <= (uint64_t)INT64_MAX / 1024
                ? json_integer((json_int_t)(kb * 1024))
                : json_null());
        put(o, "model", json_null());
        put(o, "rotational", json_null());
        put(o, "transport", json_null());
        put(o, "partitions", json_array());
        json_array_append_new(disks, o);
        free(d);
    }
}

static const char *oper_state(uint64_t s)
{
    static const char *const names[] = {"unknown", "up",      "down",       "testing",
                                        "unknown", "dormant", "notpresent", "lowerlayerdown"};
    return s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

/* The nics array, and the ifIndex of each of its entries. */
static void facts_nics(col_snmp_vars *vs, json_t *nics, uint32_t **ifidx)
{
    size_t a, b, pl;
    column(vs, IF_TYPE, &a, &b, &pl);
    *ifidx = ks_calloc(b - a + 1, sizeof **ifidx);
    size_t k = 0;
    for (size_t i = a; i < b; i++) {
        const col_snmp_var *t = &vs->v.ptr[i];
        uint64_t type, st, speed;
        if (!num(t, &type) || type == IFTYPE_LOOPBACK || t->oid_len != pl + 1)
            continue;
        const uint32_t *idx = t->oid + pl;
        char *nm = printable(get_idx(vs, IF_NAME, idx, 1), COL_NAME_MAX - 1, true);
        if (!nm || !*nm) {
            free(nm);
            nm = printable(get_idx(vs, IF_DESCR, idx, 1), COL_NAME_MAX - 1, true);
        }
        if (!nm || !*nm) {
            free(nm);
            nm = ks_asprintf("if%u", (unsigned)idx[0]);
        }
        const col_snmp_var *mac = get_idx(vs, IF_PHYS_ADDRESS, idx, 1);
        char macs[32] = "";
        if (mac && mac->type == COL_SNMP_STR && mac->str_len == 6)
            snprintf(macs, sizeof macs, "%02x:%02x:%02x:%02x:%02x:%02x", mac->str[0], mac->str[1],
                     mac->str[2], mac->str[3], mac->str[4], mac->str[5]);
        json_t *o = json_object();
        put(o, "name", jstr_or_null(nm));
        put(o, "mac", *macs ? json_string(macs) : json_null());
        put(o, "speed_mbps",
            num(get_idx(vs, IF_HIGH_SPEED, idx, 1), &speed) && speed > 0 && speed < 10000000
                ? json_integer((json_int_t)speed)
                : json_null());
        put(o, "state",
            num(get_idx(vs, IF_OPER_STATUS, idx, 1), &st) ? json_string(oper_state(st))
                                                          : json_null());
        put(o, "physical", json_boolean(type == IFTYPE_ETHERNET));
        put(o, "addresses", json_array());
        json_array_append_new(nics, o);
        (*ifidx)[k++] = idx[0];
    }
}

static json_t *nic_by_ifindex(json_t *nics, const uint32_t *ifidx, uint64_t want)
{
    for (size_t i = 0; i < json_array_size(nics); i++)
        if (ifidx[i] == want)
            return json_array_get(nics, i);
    return NULL;
}

static void add_address(json_t *nic, const char *text)
{
    if (nic)
        json_array_append_new(json_object_get(nic, "addresses"), json_string(text));
}

static void facts_addresses(col_snmp_vars *vs, json_t *nics, const uint32_t *ifidx)
{
    size_t a, b, pl, found = 0;
    /* IP-MIB ipAddressTable: index = type.len.address bytes */
    column(vs, IP_ADDRESS_IFINDEX, &a, &b, &pl);
    for (size_t i = a; i < b; i++) {
        const col_snmp_var *v = &vs->v.ptr[i];
        const uint32_t *idx = v->oid + pl;
        size_t il = v->oid_len - pl;
        uint64_t ifi;
        if (!num(v, &ifi) || il < 2)
            continue;
        int fam = idx[0] == 1 && idx[1] == 4 ? AF_INET : idx[0] == 2 && idx[1] == 16 ? AF_INET6 : 0;
        if (!fam || il != 2 + idx[1])
            continue;
        unsigned char bytes[16];
        for (size_t k = 0; k < idx[1]; k++)
            bytes[k] = (unsigned char)idx[2 + k];
        if (fam == AF_INET6 && bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80)
            continue; /* link-local: on every interface, says nothing */
        char text[INET6_ADDRSTRLEN + 8];
        if (!inet_ntop(fam, bytes, text, INET6_ADDRSTRLEN))
            continue;
        /* ipAddressPrefix points into ipAddressPrefixTable, whose index
         * ends with the prefix length */
        const col_snmp_var *p = get_idx(vs, IP_ADDRESS_PREFIX, idx, il);
        if (p && p->type == COL_SNMP_OID && p->str_len > 2) {
            uint32_t plen = ((const uint32_t *)(const void *)p->str)[p->str_len - 1];
            if (plen <= (fam == AF_INET ? 32u : 128u))
                snprintf(text + strlen(text), 8, "/%u", (unsigned)plen);
        }
        add_address(nic_by_ifindex(nics, ifidx, ifi), text);
        found++;
    }
    if (found)
        return;
    /* RFC 1213 ipAddrTable (IPv4 only): index = the address */
    column(vs, IP_AD_ENT_IFINDEX, &a, &b, &pl);
    for (size_t i = a; i < b; i++) {
        const col_snmp_var *v = &vs->v.ptr[i];
        const uint32_t *idx = v->oid + pl;
        uint64_t ifi;
        if (!num(v, &ifi) || v->oid_len - pl != 4)
            continue;
        char text[40];
        snprintf(text, sizeof text, "%u.%u.%u.%u", (unsigned)idx[0] & 255, (unsigned)idx[1] & 255,
                 (unsigned)idx[2] & 255, (unsigned)idx[3] & 255);
        const col_snmp_var *m = get_idx(vs, IP_AD_ENT_NETMASK, idx, 4);
        if (m && m->type == COL_SNMP_STR && m->str_len == 4) {
            uint32_t mask = (uint32_t)m->str[0] << 24 | (uint32_t)m->str[1] << 16 |
                            (uint32_t)m->str[2] << 8 | m->str[3];
            unsigned bits = 0;
            while (bits < 32 && (mask & (0x80000000u >> bits)))
                bits++;
            snprintf(text + strlen(text), 8, "/%u", bits);
        }
        add_address(nic_by_ifindex(nics, ifidx, ifi), text);
    }
}

static void facts_listening(col_snmp_vars *vs, json_t *out)
{
    size_t a, b, pl;
    /* TCP-MIB tcpListenerTable: index = type.len.address bytes.port */
    column(vs, TCP_LISTENER_PROCESS, &a, &b, &pl);
    for (size_t i = a; i < b; i++) {
        const col_snmp_var *v = &vs->v.ptr[i];
        const uint32_t *idx = v->oid + pl;
        size_t il = v->oid_len - pl;
        if (il < 3 || il != 3 + idx[1])
            continue;
        int fam = idx[0] == 1 && idx[1] == 4 ? AF_INET : idx[0] == 2 && idx[1] == 16 ? AF_INET6 : 0;
        char text[INET6_ADDRSTRLEN] = "0.0.0.0";
        if (fam) {
            unsigned char bytes[16];
            for (size_t k = 0; k < idx[1]; k++)
                bytes[k] = (unsigned char)idx[2 + k];
            if (!inet_ntop(fam, bytes, text, sizeof text))
                continue;
        } else if (idx[1] != 0) {
            continue; /* zoned addresses: not worth the space */
        }
        uint32_t port = idx[il - 1];
        if (port == 0 || port > 65535)
            continue;
        json_t *o = json_object();
        put(o, "proto", json_string("tcp"));
        put(o, "address", json_string(text));
        put(o, "port", json_integer(port));
        put(o, "process", json_null()); /* SNMP does not say */
        put(o, "pid", json_null());
        json_array_append_new(out, o);
    }
}

json_t *col_snmp_facts_map(col_snmp_vars *vs, const char *name, const char *collected_at)
{
    json_t *f = json_object();
    put(f, "name", json_string(name));
    put(f, "hostname", jstr_or_null(printable(get(vs, SYS_NAME), 255, false)));
    put(f, "collected_at", collected_at ? json_string(collected_at) : json_null());
    put(f, "source", json_string("snmp"));
    put(f, "os", facts_os(vs));
    put(f, "cpu", facts_cpu(vs));
    put(f, "memory", facts_memory(vs));
    json_t *disks = json_array();
    facts_disks(vs, disks);
    put(f, "disks", disks);
    put(f, "lvm", json_array());
    json_t *fs = json_array(), *nfs = json_array();
    facts_storage(vs, fs, nfs);
    put(f, "filesystems", fs);
    put(f, "nfs_mounts", nfs);
    json_t *nics = json_array();
    uint32_t *ifidx = NULL;
    facts_nics(vs, nics, &ifidx);
    facts_addresses(vs, nics, ifidx);
    free(ifidx);
    put(f, "nics", nics);
    put(f, "boot_mode", json_null());
    put(f, "virtualization", json_null());
    json_t *listening = json_array();
    facts_listening(vs, listening);
    put(f, "listening", listening);
    put(f, "services", json_array());
    json_t *hw = json_object();
    put(hw, "usb", json_array());
    put(hw, "fc_hbas", json_array());
    put(hw, "gpus", json_array());
    put(f, "hardware", hw);
    put(f, "virtualization_blockers", json_array());
    return f;
}
