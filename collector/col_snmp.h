/* col_snmp.h: the pure half of the SNMP collection method: the secrets file,
 * varbind lists, and their mapping into col_raw and facts. No net-snmp type
 * appears here, so that the mapping is tested (and fuzzed) from in-memory
 * lists; col_snmp.c does the network part. Internal to the collector.
 */
#ifndef COL_SNMP_H
#define COL_SNMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "col_proc.h"
#include "ks_error.h"
#include "ks_vector.h"

/* ---- secrets file ------------------------------------------------------- */

#define COL_SNMP_SECRET_MAX 256

typedef enum col_snmp_version { COL_SNMP_V2C, COL_SNMP_V3 } col_snmp_version;
typedef enum col_snmp_auth {
    COL_SNMP_AUTH_SHA,
    COL_SNMP_AUTH_SHA256,
    COL_SNMP_AUTH_SHA512
} col_snmp_auth;
typedef enum col_snmp_priv {
    COL_SNMP_PRIV_NONE,
    COL_SNMP_PRIV_AES,
    COL_SNMP_PRIV_AES256
} col_snmp_priv;

typedef struct col_snmp_secrets {
    col_snmp_version version;
    char community[COL_SNMP_SECRET_MAX]; /* v2c */
    char user[COL_SNMP_SECRET_MAX];      /* v3 */
    col_snmp_auth auth;
    char auth_password[COL_SNMP_SECRET_MAX];
    col_snmp_priv priv;
    char priv_password[COL_SNMP_SECRET_MAX];
} col_snmp_secrets;

/* Parse a secrets file's text ("key = value" lines, '#' comment lines, blank
 * lines): version = 2c with community, or version = 3 with user,
 * auth_protocol (SHA, SHA-256, SHA-512), auth_password, priv_protocol (AES,
 * AES-256, none) and priv_password. Unknown or repeated keys, missing keys
 * and passwords shorter than 8 characters are errors naming filename:line.
 * Messages never quote a secret value. */
int col_snmp_secrets_parse(const char *text, size_t len, const char *filename,
                           col_snmp_secrets *out, ks_error *err);
/* Overwrite the secrets with zeros. */
void col_snmp_secrets_wipe(col_snmp_secrets *s);

/* ---- varbinds ----------------------------------------------------------- */

#define COL_SNMP_OID_MAX 64

typedef enum col_snmp_type {
    COL_SNMP_NONE, /* noSuchObject, noSuchInstance, endOfMibView, NULL */
    COL_SNMP_INT,  /* INTEGER */
    COL_SNMP_UINT, /* Counter32, Gauge32, TimeTicks, Unsigned32 */
    COL_SNMP_U64,  /* Counter64 */
    COL_SNMP_STR,  /* OCTET STRING, IpAddress (its 4 bytes) */
    COL_SNMP_OID,  /* OBJECT IDENTIFIER: in oid_val */
} col_snmp_type;

typedef struct col_snmp_var {
    uint32_t oid[COL_SNMP_OID_MAX];
    size_t oid_len;
    col_snmp_type type;
    int64_t i;          /* COL_SNMP_INT */
    uint64_t u;         /* COL_SNMP_UINT, COL_SNMP_U64 */
    unsigned char *str; /* COL_SNMP_STR (owned, NUL-terminated), or a value OID */
    size_t str_len;     /* bytes, or OID components for COL_SNMP_OID */
} col_snmp_var;

KS_VECTOR(col_snmp_var_vec, col_snmp_var);

/* A list of varbinds, answers of GETs and walks together. */
typedef struct col_snmp_vars {
    col_snmp_var_vec v;
    bool sorted;
} col_snmp_vars;

void col_snmp_vars_free(col_snmp_vars *vs);
/* Append a copy (oid from a dotted string like "1.3.6.1.2.1.1.3.0"; for
 * tests) of an integer, unsigned, 64-bit, string or OID value. */
void col_snmp_vars_add(col_snmp_vars *vs, const uint32_t *oid, size_t oid_len, col_snmp_type type,
                       int64_t i, uint64_t u, const void *str, size_t str_len);
void col_snmp_vars_add_s(col_snmp_vars *vs, const char *dotted, col_snmp_type type, int64_t i,
                         uint64_t u, const char *str);
/* Parse "1.3.6.1..." (leading dot allowed) into oid; its length, 0 on error. */
size_t col_snmp_oid_parse(const char *dotted, uint32_t *oid, size_t max);

/* ---- mapping ------------------------------------------------------------ */

/* What the backend remembers between samples of one connection to tell a
 * reboot from a counter wrap. */
typedef struct col_snmp_boot {
    bool have;
    uint64_t ticks; /* last uptime, hundredths of seconds, unwrapped */
    uint64_t wraps; /* 2^32 wraps of the 32-bit TimeTicks seen */
    uint32_t raw;   /* last raw TimeTicks */
    bool have_boots;
    int64_t boots;       /* snmpEngineBoots */
    uint64_t generation; /* starts at 1; +1 per reboot; col_raw.btime derives from it */
} col_snmp_boot;

/* Map the varbinds of one sample (see col_snmp_sample_oids) into *raw,
 * which must be freshly initialized. ncpu comes from the connection (the
 * processor count found at connect time). boot is updated. -1 with err
 * (KS_E_REMOTE, naming server) when the agent gave no uptime or no CPU
 * counters (UCD-SNMP-MIB not in the agent's view). */
int col_snmp_sample_map(col_snmp_vars *vs, unsigned ncpu, col_snmp_boot *boot, const char *server,
                        col_raw *raw, ks_error *err);

/* Number of processors in the varbinds (hrDeviceType = hrDeviceProcessor,
 * else rows of hrProcessorTable); 0 when unknown. */
unsigned col_snmp_ncpu(col_snmp_vars *vs);

/* The facts object (same schema as col_facts_parse's, plus "source":
 * "snmp") from the varbinds of col_snmp_facts_oids. collected_at is the
 * ISO-8601 UTC text. Never fails: what SNMP cannot tell is null or empty. */
json_t *col_snmp_facts_map(col_snmp_vars *vs, const char *name, const char *collected_at);

/* What is asked of an agent: a GET of scalars, or a walk (GETBULK) of
 * table columns side by side. Each list of jobs ends with .oids == NULL;
 * each oids list ends with NULL. */
typedef struct col_snmp_job {
    bool walk;
    const char *const *oids;
} col_snmp_job;

extern const col_snmp_job col_snmp_connect_jobs[]; /* proves the agent answers; ncpu */
extern const col_snmp_job col_snmp_sample_jobs[];
extern const col_snmp_job col_snmp_facts_jobs[];

#endif
