/* col_snmp.c: the SNMP collection method (net-snmp's single-session API,
 * asynchronous: one UDP socket per server in the loop's poll()).
 *
 * A connection is a chain of small requests, one in flight at a time:
 * for SNMPv3 first an engine ID probe (sent by us, asynchronously: net-snmp's
 * own probe in snmp_sess_open would block), then "connect" = a GET of
 * sysUpTime/sysObjectID that proves the agent answers and the credentials
 * work, and a walk of the processors. A sample or the facts are a GET of
 * scalars (many OIDs in one PDU) and GETBULK walks of table columns side by
 * side. The varbinds are mapped by the pure functions of col_snmp_map.c.
 *
 * Timeouts: the loop's deadlines (connect_timeout, command_timeout) are the
 * only limits. Inside them, UDP loss is handled here: net-snmp gets retries
 * = 0 and a 2 s timeout, and every timed-out request is sent again, smaller
 * when it was large (an agent that chokes on big answers), until the loop
 * gives up. snmp_sess_timeout() runs at each step (the loop steps busy
 * connections every 0.25 s). An agent that answers tooBig or an error to
 * a large request gets smaller ones too; a single OID that fails is
 * skipped. The smaller sizes stick for the connection.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/lcd_time.h>
#include <net-snmp/library/large_fd_set.h>
#include <net-snmp/library/snmpusm.h>

#include "col_backend.h"
#include "col_snmp.h"
#include "ks_fs.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_time.h"

#define RETRANSMIT_US 2000000L
#define MAX_GET_OIDS 32
#define MAX_REPETITIONS 25
#define MAX_COLUMNS 8
#define MAX_TIME_RESYNC 3
/* A walk that never ends (an agent that loops) is cut here. */
#define MAX_VARS 200000

typedef enum phase { P_PROBE, P_CONNECT, P_IDLE, P_BUSY } phase;
typedef enum request { REQ_CONNECT, REQ_SAMPLE, REQ_FACTS } request;
typedef enum got { GOT_NONE, GOT_PDU, GOT_TIMEOUT, GOT_FAILED } got;

struct col_conn {
    const col_target *t;
    char *secrets_path;
    col_snmp_secrets sec;
    void *sess;
    netsnmp_large_fd_set fds;
    bool fds_init;
    phase ph;
    request req;
    /* the job list being run and the current job's state */
    const col_snmp_job *jobs;
    size_t job;
    size_t get_pos, get_batch; /* GET: oids[get_pos..+get_batch) in flight */
    size_t ncols;
    oid col[MAX_COLUMNS][MAX_OID_LEN];
    size_t col_len[MAX_COLUMNS];
    oid cur[MAX_COLUMNS][MAX_OID_LEN];
    size_t cur_len[MAX_COLUMNS];
    bool col_done[MAX_COLUMNS];
    size_t active[MAX_COLUMNS], nactive; /* columns of the request in flight */
    unsigned max_get, max_rep;           /* per agent: shrink on tooBig and timeouts */
    unsigned resyncs;
    col_snmp_vars vars;
    /* set by the callback */
    got got;
    netsnmp_pdu *resp;
    unsigned ncpu;
    col_snmp_boot boot;
};

static bool snmp_ready;

/* net-snmp's global set-up, once: no configuration files, no MIBs, no
 * persistent files (~/.snmp, /var/lib/snmp), no logging to stderr. */
static void snmp_lib_init(const char *study_dir)
{
    if (snmp_ready)
        return;
    snmp_ready = true;
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_NONE, LOG_DEBUG);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    KS_AUTOFREE char *pdir = ks_path_join(study_dir, "state");
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, pdir);
    /* numeric OIDs only: point the MIB search at nothing */
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIBDIRS, "/dev/null");
    netsnmp_set_mib_directory("/dev/null");
    init_snmp("kvmshift");
}

static const char *srv_name(const col_conn *c)
{
    return c->t->server->name;
}

static const char *snmp_phase(const col_conn *c)
{
    switch (c->ph) {
    case P_PROBE:
        return "waiting for the SNMP agent's engine ID (is snmpd running and the UDP port open?)";
    case P_CONNECT:
        return c->sec.version == COL_SNMP_V2C
                   ? "waiting for the SNMP agent's first answer (is snmpd running, the UDP port "
                     "open, and the community right?)"
                   : "waiting for the SNMP agent's first answer";
    case P_IDLE:
        return "idle";
    case P_BUSY:
        return c->req == REQ_FACTS ? "waiting for the facts" : "waiting for the sample";
    }
    return "?";
}

static void snmp_conn_close(col_conn *c)
{
    if (!c)
        return;
    if (c->sess)
        snmp_sess_close(c->sess);
    if (c->fds_init)
        netsnmp_large_fd_set_cleanup(&c->fds);
    if (c->resp)
        snmp_free_pdu(c->resp);
    col_snmp_vars_free(&c->vars);
    col_snmp_secrets_wipe(&c->sec);
    free(c->secrets_path);
    free(c);
}

static int on_response(int op, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic)
{
    (void)s;
    (void)reqid;
    col_conn *c = magic;
    switch (op) {
    case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
        if (c->resp)
            snmp_free_pdu(c->resp);
        c->resp = snmp_clone_pdu(pdu);
        c->got = c->resp ? GOT_PDU : GOT_FAILED;
        break;
    case NETSNMP_CALLBACK_OP_TIMED_OUT:
        c->got = GOT_TIMEOUT;
        break;
    case NETSNMP_CALLBACK_OP_SEND_FAILED:
    case NETSNMP_CALLBACK_OP_DISCONNECT:
        c->got = GOT_FAILED;
        break;
    default:
        break; /* resends, connects: nothing to do */
    }
    return 1;
}

static int load_secrets(col_conn *c, ks_error *err)
{
    const ks_server *srv = c->t->server;
    c->secrets_path =
        srv->key[0] == '/' ? ks_strdup(srv->key) : ks_path_join(c->t->study_dir, srv->key);
    size_t len;
    ks_error e;
    KS_AUTOFREE char *text = ks_read_file(c->secrets_path, 64 << 10, &len, &e);
    if (!text) {
        ks_error_set(err, KS_E_CONFIG, e.errnum,
                     "cannot read the SNMP secrets file of '%s' (inventory line %u): %s", srv->name,
                     srv->line, e.message);
        return -1;
    }
    struct stat st;
    if (stat(c->secrets_path, &st) == 0 && (st.st_mode & 077))
        ks_log_warn("the SNMP secrets file %s of '%s' can be read by other users: chmod 600 it",
                    c->secrets_path, srv->name);
    int rc = col_snmp_secrets_parse(text, len, c->secrets_path, &c->sec, err);
    memset(text, 0, len);
    return rc;
}

static int set_v3(netsnmp_session *s, col_conn *c, ks_error *err)
{
    const col_snmp_secrets *sec = &c->sec;
    s->securityName = (char *)sec->user;
    s->securityNameLen = strlen(sec->user);
    s->securityModel = SNMP_SEC_MODEL_USM;
    s->securityLevel =
        sec->priv == COL_SNMP_PRIV_NONE ? SNMP_SEC_LEVEL_AUTHNOPRIV : SNMP_SEC_LEVEL_AUTHPRIV;
    switch (sec->auth) {
    case COL_SNMP_AUTH_SHA:
        s->securityAuthProto = usmHMACSHA1AuthProtocol;
        s->securityAuthProtoLen = OID_LENGTH(usmHMACSHA1AuthProtocol);
        break;
    case COL_SNMP_AUTH_SHA256:
        s->securityAuthProto = usmHMAC192SHA256AuthProtocol;
        s->securityAuthProtoLen = OID_LENGTH(usmHMAC192SHA256AuthProtocol);
        break;
    case COL_SNMP_AUTH_SHA512:
        s->securityAuthProto = usmHMAC384SHA512AuthProtocol;
        s->securityAuthProtoLen = OID_LENGTH(usmHMAC384SHA512AuthProtocol);
        break;
    }
    s->securityAuthKeyLen = USM_AUTH_KU_LEN;
    if (generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen,
                    (const u_char *)sec->auth_password, strlen(sec->auth_password),
                    s->securityAuthKey, &s->securityAuthKeyLen) != SNMPERR_SUCCESS) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "cannot derive the SNMPv3 authentication key of '%s' from %s: check "
                     "auth_protocol and auth_password",
                     srv_name(c), c->secrets_path);
        return -1;
    }
    if (sec->priv == COL_SNMP_PRIV_NONE)
        return 0;
    if (sec->priv == COL_SNMP_PRIV_AES) {
        s->securityPrivProto = usmAESPrivProtocol;
        s->securityPrivProtoLen = OID_LENGTH(usmAESPrivProtocol);
    } else {
        s->securityPrivProto = usmAES256PrivProtocol;
        s->securityPrivProtoLen = OID_LENGTH(usmAES256PrivProtocol);
    }
    s->securityPrivKeyLen = USM_PRIV_KU_LEN;
    if (generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen,
                    (const u_char *)sec->priv_password, strlen(sec->priv_password),
                    s->securityPrivKey, &s->securityPrivKeyLen) != SNMPERR_SUCCESS) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "cannot derive the SNMPv3 privacy key of '%s' from %s: check "
                     "priv_protocol and priv_password",
                     srv_name(c), c->secrets_path);
        return -1;
    }
    return 0;
}

static int send_pdu(col_conn *c, netsnmp_pdu *pdu, ks_error *err)
{
    c->got = GOT_NONE;
    if (!snmp_sess_async_send(c->sess, pdu, on_response, c)) {
        char *msg = NULL;
        snmp_sess_error(c->sess, NULL, NULL, &msg);
        ks_error_set(err, KS_E_NET, 0, "cannot send an SNMP request to '%s' (%s port %d): %s",
                     srv_name(c), c->t->server->address, c->t->server->port,
                     msg ? msg : "unknown error");
        free(msg);
        snmp_free_pdu(pdu);
        return -1;
    }
    return 0;
}

/* Send the current job's next request (again, after a timeout). */
static int send_current(col_conn *c, ks_error *err)
{
    const col_snmp_job *j = &c->jobs[c->job];
    netsnmp_pdu *pdu;
    if (!j->walk) {
        pdu = snmp_pdu_create(SNMP_MSG_GET);
        size_t n = 0;
        while (j->oids[n])
            n++;
        c->get_batch = n - c->get_pos < c->max_get ? n - c->get_pos : c->max_get;
        for (size_t i = 0; i < c->get_batch; i++) {
            oid o[MAX_OID_LEN];
            size_t ol = MAX_OID_LEN;
            if (!read_objid(j->oids[c->get_pos + i], o, &ol)) {
                snmp_free_pdu(pdu);
                ks_error_set(err, KS_E_INTERNAL, 0, "bad OID '%s'", j->oids[c->get_pos + i]);
                return -1;
            }
            snmp_add_null_var(pdu, o, ol);
        }
    } else {
        pdu = snmp_pdu_create(SNMP_MSG_GETBULK);
        pdu->non_repeaters = 0;
        pdu->max_repetitions = (long)c->max_rep;
        c->nactive = 0;
        for (size_t i = 0; i < c->ncols; i++) {
            if (c->col_done[i])
                continue;
            c->active[c->nactive++] = i;
            snmp_add_null_var(pdu, c->cur[i], c->cur_len[i]);
        }
    }
    return send_pdu(c, pdu, err);
}

/* Start job c->job (or report that all are done: 1). */
static int start_job(col_conn *c, ks_error *err)
{
    const col_snmp_job *j = &c->jobs[c->job];
    if (!j->oids)
        return 1;
    c->get_pos = 0;
    if (j->walk) {
        c->ncols = 0;
        for (size_t i = 0; j->oids[i] && i < MAX_COLUMNS; i++) {
            size_t ol = MAX_OID_LEN;
            if (!read_objid(j->oids[i], c->col[i], &ol)) {
                ks_error_set(err, KS_E_INTERNAL, 0, "bad OID '%s'", j->oids[i]);
                return -1;
            }
            c->col_len[i] = ol;
            memcpy(c->cur[i], c->col[i], ol * sizeof(oid));
            c->cur_len[i] = ol;
            c->col_done[i] = false;
            c->ncols++;
        }
    }
    return send_current(c, err);
}

static int start_jobs(col_conn *c, request r, const col_snmp_job *jobs, ks_error *err)
{
    col_snmp_vars_free(&c->vars);
    c->req = r;
    c->jobs = jobs;
    c->job = 0;
    c->resyncs = 0;
    return start_job(c, err) < 0 ? -1 : 0;
}

static void add_var(col_conn *c, const netsnmp_variable_list *v)
{
    uint32_t o[COL_SNMP_OID_MAX];
    if (v->name_length > COL_SNMP_OID_MAX)
        return;
    for (size_t i = 0; i < v->name_length; i++)
        o[i] = (uint32_t)v->name[i];
    switch (v->type) {
    case ASN_INTEGER:
        col_snmp_vars_add(&c->vars, o, v->name_length, COL_SNMP_INT, *v->val.integer, 0, NULL, 0);
        break;
    case ASN_COUNTER:
    case ASN_GAUGE:
    case ASN_TIMETICKS:
        col_snmp_vars_add(&c->vars, o, v->name_length, COL_SNMP_UINT, 0,
                          (uint64_t)(unsigned long)*v->val.integer & 0xffffffffu, NULL, 0);
        break;
    case ASN_COUNTER64: {
        uint64_t u =
            ((uint64_t)v->val.counter64->high << 32) | (v->val.counter64->low & 0xffffffffu);
        col_snmp_vars_add(&c->vars, o, v->name_length, COL_SNMP_U64, 0, u, NULL, 0);
        break;
    }
    case ASN_OCTET_STR:
    case ASN_IPADDRESS:
        col_snmp_vars_add(&c->vars, o, v->name_length, COL_SNMP_STR, 0, 0, v->val.string,
                          v->val_len);
        break;
    case ASN_OBJECT_ID: {
        uint32_t val[COL_SNMP_OID_MAX];
        size_t n = v->val_len / sizeof(oid);
        if (n > COL_SNMP_OID_MAX)
            n = COL_SNMP_OID_MAX;
        for (size_t i = 0; i < n; i++)
            val[i] = (uint32_t)v->val.objid[i];
        col_snmp_vars_add(&c->vars, o, v->name_length, COL_SNMP_OID, 0, 0, val, n);
        break;
    }
    default:
        break; /* noSuchObject, noSuchInstance, endOfMibView, NULL: absent */
    }
}

/* A walk answer: advance each column; true when the walk is over. */
static bool walk_take(col_conn *c, const netsnmp_pdu *p)
{
    size_t k = 0;
    for (const netsnmp_variable_list *v = p->variables; v; v = v->next_variable, k++) {
        size_t ci = c->active[k % c->nactive];
        if (c->col_done[ci])
            continue;
        bool inside =
            v->type != SNMP_ENDOFMIBVIEW && v->type != SNMP_NOSUCHOBJECT &&
            v->type != SNMP_NOSUCHINSTANCE && v->name_length > c->col_len[ci] &&
            snmp_oidtree_compare(c->col[ci], c->col_len[ci], v->name, v->name_length) == 0;
        /* an agent must answer with growing OIDs; one that does not loops */
        if (!inside || snmp_oid_compare(v->name, v->name_length, c->cur[ci], c->cur_len[ci]) <= 0 ||
            c->vars.v.len >= MAX_VARS) {
            c->col_done[ci] = true;
            continue;
        }
        add_var(c, v);
        memcpy(c->cur[ci], v->name, v->name_length * sizeof(oid));
        c->cur_len[ci] = v->name_length;
    }
    if (k == 0)
        return true;
    for (size_t i = 0; i < c->ncols; i++)
        if (!c->col_done[i])
            return false;
    return true;
}

static bool shrink(col_conn *c)
{
    const col_snmp_job *j = &c->jobs[c->job];
    if (!j->walk && c->get_batch > 1) {
        c->max_get = (unsigned)(c->get_batch / 2);
        return true;
    }
    if (j->walk && c->max_rep > 1) {
        c->max_rep /= 2;
        return true;
    }
    return false;
}

static col_event fail_auth(col_conn *c, const char *why, ks_error *err)
{
    ks_error_set(err, KS_E_AUTH, 0,
                 "the SNMP agent of '%s' (%s port %d) refused the SNMPv3 credentials of user "
                 "'%s': %s. Check auth_protocol, auth_password, priv_protocol and priv_password "
                 "in %s against the agent's user (createUser in snmpd.conf)",
                 srv_name(c), c->t->server->address, c->t->server->port, c->sec.user, why,
                 c->secrets_path);
    return COL_EV_FAILED;
}

static col_event handle_report(col_conn *c, ks_error *err)
{
    int type = snmpv3_get_report_type(c->resp);
    switch (type) {
    case SNMPERR_NOT_IN_TIME_WINDOW:
        /* the first authenticated request teaches us the agent's clock */
        if (c->resyncs++ < MAX_TIME_RESYNC)
            return send_current(c, err) < 0 ? COL_EV_FAILED : COL_EV_AGAIN;
        break;
    case SNMPERR_AUTHENTICATION_FAILURE:
        return fail_auth(c, "wrong authentication password or protocol", err);
    case SNMPERR_UNKNOWN_USER_NAME:
        return fail_auth(c, "the agent does not know this user", err);
    case SNMPERR_UNSUPPORTED_SEC_LEVEL:
        return fail_auth(c,
                         "the agent does not allow this security level for the user "
                         "(privacy on or off)",
                         err);
    case SNMPERR_DECRYPTION_ERR:
        return fail_auth(c, "wrong privacy password or protocol", err);
    default:
        break;
    }
    ks_error_set(err, KS_E_REMOTE, 0, "the SNMP agent of '%s' answered with a report: %s",
                 srv_name(c), snmp_api_errstring(type));
    return COL_EV_FAILED;
}

/* The probe's answer: the agent's engine ID; localize our keys to it. */
static col_event probe_done(col_conn *c, ks_error *err)
{
    netsnmp_session *s = snmp_sess_session(c->sess);
    if (s->securityEngineIDLen == 0 && c->resp->securityEngineIDLen > 0) {
        s->securityEngineID =
            netsnmp_memdup(c->resp->securityEngineID, c->resp->securityEngineIDLen);
        s->securityEngineIDLen = c->resp->securityEngineIDLen;
    }
    if (s->securityEngineIDLen == 0) {
        ks_error_set(err, KS_E_REMOTE, 0,
                     "the SNMP agent of '%s' did not tell its engine ID: is it an SNMPv3 agent?",
                     srv_name(c));
        return COL_EV_FAILED;
    }
    if (s->engineBoots || s->engineTime)
        set_enginetime(s->securityEngineID, (u_int)s->securityEngineIDLen, s->engineBoots,
                       s->engineTime, TRUE);
    /* net-snmp keeps one USM user per (engine ID, user name) for the whole
     * process: two inventory lines for the same agent and user with other
     * passwords would silently share the first one's keys */
    struct usmUser *known =
        usm_get_user(s->securityEngineID, s->securityEngineIDLen, s->securityName);
    if (known && known->authKey) {
        u_char kul[USM_AUTH_KU_LEN];
        size_t kul_len = sizeof kul;
        if (generate_kul(s->securityAuthProto, (u_int)s->securityAuthProtoLen, s->securityEngineID,
                         s->securityEngineIDLen, s->securityAuthKey, s->securityAuthKeyLen, kul,
                         &kul_len) != SNMPERR_SUCCESS ||
            kul_len != known->authKeyLen || memcmp(kul, known->authKey, kul_len) != 0) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "'%s' uses SNMPv3 user '%s' of an agent (engine ID) that another "
                         "server of the inventory reaches with other passwords: one of the "
                         "secrets files (%s here) is wrong, or the inventory lists the same "
                         "agent twice",
                         srv_name(c), c->sec.user, c->secrets_path);
            return COL_EV_FAILED;
        }
        c->ph = P_CONNECT;
        return start_jobs(c, REQ_CONNECT, col_snmp_connect_jobs, err) < 0 ? COL_EV_FAILED
                                                                          : COL_EV_AGAIN;
    }
    if (usm_create_user_from_session(s) != SNMPERR_SUCCESS) {
        ks_error_set(err, KS_E_AUTH, 0,
                     "cannot set up the SNMPv3 user '%s' of '%s' (from %s): check its protocols",
                     c->sec.user, srv_name(c), c->secrets_path);
        return COL_EV_FAILED;
    }
    c->ph = P_CONNECT;
    return start_jobs(c, REQ_CONNECT, col_snmp_connect_jobs, err) < 0 ? COL_EV_FAILED
                                                                      : COL_EV_AGAIN;
}

static col_event jobs_done(col_conn *c, col_raw *raw, json_t **facts, ks_error *err)
{
    request r = c->req;
    c->ph = P_IDLE;
    if (r == REQ_CONNECT) {
        c->ncpu = col_snmp_ncpu(&c->vars);
        col_snmp_vars_free(&c->vars);
        return COL_EV_CONNECTED;
    }
    if (r == REQ_SAMPLE) {
        int rc = col_snmp_sample_map(&c->vars, c->ncpu, &c->boot, srv_name(c), raw, err);
        col_snmp_vars_free(&c->vars);
        return rc < 0 ? COL_EV_FAILED : COL_EV_SAMPLE;
    }
    char when[KS_TIME_ISO_LEN];
    ks_time_iso(time(NULL), when);
    *facts = col_snmp_facts_map(&c->vars, srv_name(c), when);
    col_snmp_vars_free(&c->vars);
    return COL_EV_FACTS;
}

static col_event handle_pdu(col_conn *c, col_raw *raw, json_t **facts, ks_error *err)
{
    netsnmp_pdu *p = c->resp;
    if (p->command == SNMP_MSG_REPORT && c->ph != P_PROBE)
        return handle_report(c, err);
    if (c->ph == P_PROBE)
        return probe_done(c, err);
    const col_snmp_job *j = &c->jobs[c->job];
    if (p->errstat != SNMP_ERR_NOERROR) {
        /* tooBig, or an agent that fails a whole PDU for one bad OID */
        if (shrink(c))
            return send_current(c, err) < 0 ? COL_EV_FAILED : COL_EV_AGAIN;
        if (j->walk) {
            for (size_t i = 0; i < c->nactive; i++)
                c->col_done[c->active[i]] = true;
        } else {
            c->get_pos += c->get_batch; /* that one OID is absent */
        }
    } else if (!j->walk) {
        for (const netsnmp_variable_list *v = p->variables; v; v = v->next_variable)
            add_var(c, v);
        c->get_pos += c->get_batch;
    } else {
        walk_take(c, p);
    }
    bool more;
    if (j->walk) {
        more = false;
        for (size_t i = 0; i < c->ncols; i++)
            more |= !c->col_done[i];
    } else {
        more = j->oids[c->get_pos] != NULL;
    }
    if (more)
        return send_current(c, err) < 0 ? COL_EV_FAILED : COL_EV_AGAIN;
    c->job++;
    int rc = start_job(c, err);
    if (rc < 0)
        return COL_EV_FAILED;
    if (rc == 0)
        return COL_EV_AGAIN;
    return jobs_done(c, raw, facts, err);
}

static col_conn *snmp_conn_open(const col_target *t, ks_error *err)
{
    const ks_server *srv = t->server;
    col_conn *c = ks_calloc(1, sizeof *c);
    c->t = t;
    c->max_get = MAX_GET_OIDS;
    c->max_rep = MAX_REPETITIONS;
    if (load_secrets(c, err) < 0) {
        snmp_conn_close(c);
        return NULL;
    }
    snmp_lib_init(t->study_dir);

    netsnmp_session s;
    snmp_sess_init(&s);
    KS_AUTOFREE char *peer = strchr(srv->address, ':')
                                 ? ks_asprintf("udp6:[%s]:%d", srv->address, srv->port)
                                 : ks_asprintf("udp:%s:%d", srv->address, srv->port);
    s.peername = peer;
    s.retries = 0;
    s.timeout = RETRANSMIT_US;
    s.flags |= SNMP_FLAGS_DONT_PROBE;
    if (c->sec.version == COL_SNMP_V2C) {
        s.version = SNMP_VERSION_2c;
        s.community = (u_char *)c->sec.community;
        s.community_len = strlen(c->sec.community);
    } else {
        s.version = SNMP_VERSION_3;
        if (set_v3(&s, c, err) < 0) {
            snmp_conn_close(c);
            return NULL;
        }
    }
    c->sess = snmp_sess_open(&s);
    memset(s.securityAuthKey, 0, sizeof s.securityAuthKey);
    memset(s.securityPrivKey, 0, sizeof s.securityPrivKey);
    if (!c->sess) {
        char *msg = NULL;
        snmp_error(&s, NULL, NULL, &msg);
        ks_error_set(err, KS_E_NET, 0,
                     "cannot open an SNMP session to '%s' at %s port %d: %s (check the address "
                     "in the inventory, line %u)",
                     srv->name, srv->address, srv->port, msg ? msg : "unknown error", srv->line);
        free(msg);
        snmp_conn_close(c);
        return NULL;
    }
    netsnmp_transport *tr = snmp_sess_transport(c->sess);
    netsnmp_large_fd_set_init(&c->fds, tr && tr->sock >= 0 ? tr->sock + 1 : 1);
    c->fds_init = true;

    int rc;
    if (c->sec.version == COL_SNMP_V3) {
        /* our own engine ID probe, sent like any request (never blocks) */
        netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
        pdu->version = SNMP_VERSION_3;
        pdu->securityName = ks_strdup("");
        pdu->securityNameLen = 0;
        pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
        pdu->securityModel = SNMP_SEC_MODEL_USM;
        c->ph = P_PROBE;
        rc = send_pdu(c, pdu, err);
    } else {
        c->ph = P_CONNECT;
        rc = start_jobs(c, REQ_CONNECT, col_snmp_connect_jobs, err);
    }
    if (rc < 0) {
        snmp_conn_close(c);
        return NULL;
    }
    return c;
}

static int snmp_conn_pollfd(col_conn *c, short *events)
{
    netsnmp_transport *tr = snmp_sess_transport(c->sess);
    if (!tr || tr->sock < 0)
        return -1;
    *events = POLLIN;
    return tr->sock;
}

static int start_request(col_conn *c, request r, const col_snmp_job *jobs, ks_error *err)
{
    if (c->ph != P_IDLE) {
        ks_error_set(err, KS_E_INTERNAL, 0, "request on '%s' while %s", srv_name(c), snmp_phase(c));
        return -1;
    }
    c->ph = P_BUSY;
    return start_jobs(c, r, jobs, err);
}

static int snmp_request_sample(col_conn *c, ks_error *err)
{
    return start_request(c, REQ_SAMPLE, col_snmp_sample_jobs, err);
}

static int snmp_request_facts(col_conn *c, ks_error *err)
{
    return start_request(c, REQ_FACTS, col_snmp_facts_jobs, err);
}

static col_event snmp_conn_step(col_conn *c, col_raw *raw, json_t **facts, ks_error *err)
{
    netsnmp_transport *tr = snmp_sess_transport(c->sess);
    if (tr && tr->sock >= 0) {
        struct pollfd pfd = {.fd = tr->sock, .events = POLLIN};
        /* read every datagram waiting; each may complete a request */
        while (c->got == GOT_NONE && poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN)) {
            netsnmp_large_fd_setfd(tr->sock, &c->fds);
            snmp_sess_read2(c->sess, &c->fds);
            netsnmp_large_fd_clr(tr->sock, &c->fds);
        }
    }
    if (c->got == GOT_NONE)
        snmp_sess_timeout(c->sess);
    got g = c->got;
    c->got = GOT_NONE;
    switch (g) {
    case GOT_NONE:
        return COL_EV_AGAIN;
    case GOT_TIMEOUT:
        if (c->ph == P_IDLE)
            return COL_EV_AGAIN;
        if (c->ph != P_PROBE)
            shrink(c);
        if (c->ph == P_PROBE) {
            /* the probe again */
            netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
            pdu->version = SNMP_VERSION_3;
            pdu->securityName = ks_strdup("");
            pdu->securityNameLen = 0;
            pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
            pdu->securityModel = SNMP_SEC_MODEL_USM;
            return send_pdu(c, pdu, err) < 0 ? COL_EV_FAILED : COL_EV_AGAIN;
        }
        return send_current(c, err) < 0 ? COL_EV_FAILED : COL_EV_AGAIN;
    case GOT_FAILED:
        ks_error_set(err, KS_E_NET, 0, "SNMP request to '%s' (%s port %d) failed while %s: %s",
                     srv_name(c), c->t->server->address, c->t->server->port, snmp_phase(c),
                     snmp_api_errstring(snmp_sess_session(c->sess)->s_snmp_errno));
        return COL_EV_FAILED;
    case GOT_PDU:
        break;
    }
    col_event ev = handle_pdu(c, raw, facts, err);
    if (c->resp) {
        snmp_free_pdu(c->resp);
        c->resp = NULL;
    }
    return ev;
}

const col_backend col_backend_snmp = {
    .method = "snmp",
    .open = snmp_conn_open,
    .close = snmp_conn_close,
    .pollfd = snmp_conn_pollfd,
    .request_sample = snmp_request_sample,
    .request_facts = snmp_request_facts,
    .step = snmp_conn_step,
    .phase = snmp_phase,
    /* net-snmp refreshes its CPU counters every 5 s */
    .min_window = 6,
};
