/* col_ssh.c: the SSH collection method (libssh, non-blocking).
 *
 * One SSH connection per server stays open between samples: after key
 * authentication, one channel runs a persistent /bin/sh, and each sample
 * is one block of shell text written to its stdin (col_sample_command),
 * answered by sections ending with COL_END_MARKER. No handshake, no
 * channel and no process is created per sample, which keeps both our CPU
 * and the studied server's as low as it can be.
 *
 * The session itself (options, the study's known_hosts, keys, connection and
 * authentication, exec channels) is common's ks_ssh; this file keeps only
 * the sampling protocol.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>

#include "col_backend.h"
#include "col_facts.h"
#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_ssh.h"

/* An answer larger than this is not ours: stop reading instead of growing. */
#define MAX_ANSWER (8u << 20)

typedef enum phase {
    P_CONNECT, /* ks_ssh: TCP, key exchange, host key, authentication */
    P_CHANNEL, /* opening the channel of the persistent shell */
    P_IDLE,
    P_BUSY,
} phase;

typedef enum request { REQ_NONE, REQ_SAMPLE, REQ_FACTS } request;

struct col_conn {
    const col_target *t;
    ks_ssh *ssh;
    ssh_channel ch;
    phase ph;
    request req;
    ks_buf out; /* request text not yet accepted by libssh */
    ks_buf in;  /* answer so far */
};

static const char *ssh_phase(const col_conn *c)
{
    switch (c->ph) {
    case P_CONNECT:
        return ks_ssh_phase(c->ssh);
    case P_CHANNEL:
        return "starting the remote shell";
    case P_IDLE:
        return "idle";
    case P_BUSY:
        return c->req == REQ_FACTS ? "waiting for the facts" : "waiting for the sample";
    }
    return "?";
}

static void ssh_close(col_conn *c)
{
    if (!c)
        return;
    if (c->ch) {
        ssh_channel_free(c->ch);
        c->ch = NULL;
    }
    ks_ssh_free(c->ssh);
    ks_buf_free(&c->out);
    ks_buf_free(&c->in);
    free(c);
}

static const char *srv_name(const col_conn *c)
{
    return c->t->server->name;
}

static col_conn *ssh_open(const col_target *t, ks_error *err)
{
    const ks_server *srv = t->server;
    char origin[64];
    snprintf(origin, sizeof origin, "inventory line %u", srv->line);
    const ks_ssh_target st = {
        .name = srv->name,
        .address = srv->address,
        .port = srv->port,
        .user = srv->user,
        .key = srv->key,
        .study_dir = t->study_dir,
        .known_hosts = t->known_hosts,
        .accept_new_hostkeys = t->accept_new_hostkeys,
        .origin = origin,
    };
    ks_ssh *ssh = ks_ssh_new(&st, err);
    if (!ssh)
        return NULL;
    col_conn *c = ks_calloc(1, sizeof *c);
    c->t = t;
    c->ssh = ssh;
    ks_buf_init(&c->out, 1 << 20);
    ks_buf_init(&c->in, MAX_ANSWER);
    c->ph = P_CONNECT;
    return c;
}

static int ssh_pollfd(col_conn *c, short *events)
{
    return ks_ssh_pollfd(c->ssh, events);
}

static int start_request(col_conn *c, request r, const char *text, ks_error *err)
{
    if (c->ph != P_IDLE) {
        ks_error_set(err, KS_E_INTERNAL, 0, "request on '%s' while %s", srv_name(c), ssh_phase(c));
        return -1;
    }
    ks_buf_reset(&c->in);
    ks_buf_reset(&c->out);
    if (ks_buf_appends(&c->out, text) < 0) {
        ks_error_set(err, KS_E_INTERNAL, 0, "request text too large for '%s'", srv_name(c));
        return -1;
    }
    c->req = r;
    c->ph = P_BUSY;
    return 0;
}

static int ssh_request_sample(col_conn *c, ks_error *err)
{
    return start_request(c, REQ_SAMPLE, col_sample_command, err);
}

static int ssh_request_facts(col_conn *c, ks_error *err)
{
    return start_request(c, REQ_FACTS, col_facts_command, err);
}

static col_event fail_session(col_conn *c, ks_errcode code, const char *what, ks_error *err)
{
    ks_ssh_fail(c->ssh, code, what, err);
    return COL_EV_FAILED;
}

/* Is the answer complete? Its last line is the end marker (which is also
 * the whole answer when the server printed nothing else). */
static bool answer_complete(const ks_buf *b)
{
    static const char marker[] = COL_END_MARKER "\n";
    const size_t m = sizeof marker - 1;
    if (b->len < m || memcmp(b->data + b->len - m, marker, m) != 0)
        return false;
    return b->len == m || b->data[b->len - m - 1] == '\n';
}

static col_event step_busy(col_conn *c, col_raw *raw, json_t **facts, ks_error *err)
{
    const ks_server *srv = c->t->server;
    if (c->out.len) {
        int n = ssh_channel_write(c->ch, c->out.data, (uint32_t)c->out.len);
        if (n == SSH_ERROR)
            return fail_session(c, KS_E_NET, "sending the request to", err);
        if (n > 0)
            ks_buf_consume(&c->out, (size_t)n);
    }
    char chunk[16384];
    for (;;) {
        int n = ssh_channel_read_nonblocking(c->ch, chunk, sizeof chunk, 0);
        if (n == SSH_EOF || (n == 0 && ssh_channel_is_eof(c->ch))) {
            ks_error_set(err, KS_E_NET, 0,
                         "the remote shell of '%s' closed while %s (the server may be shutting "
                         "down); reconnecting",
                         srv->name, ssh_phase(c));
            return COL_EV_FAILED;
        }
        if (n < 0)
            return fail_session(c, KS_E_NET, "reading from", err);
        if (n == 0)
            break;
        if (ks_buf_append(&c->in, chunk, (size_t)n) < 0) {
            ks_error_set(err, KS_E_REMOTE, 0,
                         "'%s' answered with more than %u bytes while %s: its shell does not "
                         "behave like /bin/sh",
                         srv->name, MAX_ANSWER, ssh_phase(c));
            return COL_EV_FAILED;
        }
    }
    /* stderr carries nothing we need, but unread it would fill the window */
    while (ssh_channel_read_nonblocking(c->ch, chunk, sizeof chunk, 1) > 0)
        ;
    if (!answer_complete(&c->in))
        return COL_EV_AGAIN;

    request r = c->req;
    c->req = REQ_NONE;
    c->ph = P_IDLE;
    if (r == REQ_SAMPLE) {
        if (col_parse_sample(c->in.data, c->in.len, raw, err) < 0)
            return COL_EV_FAILED;
        return COL_EV_SAMPLE;
    }
    *facts = col_facts_parse(c->in.data, c->in.len, srv->name, err);
    return *facts ? COL_EV_FACTS : COL_EV_FAILED;
}

static col_event ssh_step(col_conn *c, col_raw *raw, json_t **facts, ks_error *err)
{
    const ks_server *srv = c->t->server;
    int rc;
    switch (c->ph) {
    case P_CONNECT:
        rc = ks_ssh_connect_step(c->ssh, err);
        if (rc == 0)
            return COL_EV_AGAIN;
        if (rc < 0)
            return COL_EV_FAILED;
        c->ph = P_CHANNEL;
        /* fall through */
    case P_CHANNEL:
        rc = ks_ssh_exec_step(c->ssh, &c->ch, "LC_ALL=C exec /bin/sh", err);
        if (rc == 0)
            return COL_EV_AGAIN;
        if (rc < 0)
            return COL_EV_FAILED;
        c->ph = P_IDLE;
        return COL_EV_CONNECTED;
    case P_IDLE: {
        /* Nothing was asked: anything readable is a close or noise. */
        char chunk[4096];
        int n = ssh_channel_read_nonblocking(c->ch, chunk, sizeof chunk, 0);
        if (n == SSH_EOF || n == SSH_ERROR || ssh_channel_is_eof(c->ch) ||
            !ssh_is_connected(ks_ssh_session(c->ssh))) {
            ks_error_set(err, KS_E_NET, 0,
                         "the connection to '%s' was closed by the server between samples; "
                         "reconnecting",
                         srv->name);
            return COL_EV_FAILED;
        }
        return COL_EV_AGAIN;
    }
    case P_BUSY:
        return step_busy(c, raw, facts, err);
    }
    return COL_EV_AGAIN;
}

const col_backend col_backend_ssh = {
    .method = "ssh",
    .open = ssh_open,
    .close = ssh_close,
    .pollfd = ssh_pollfd,
    .request_sample = ssh_request_sample,
    .request_facts = ssh_request_facts,
    .step = ssh_step,
    .phase = ssh_phase,
};

json_t *col_facts_take(ks_ssh *s, const char *name, double timeout, ks_error *err)
{
    ks_buf out;
    ks_buf_init(&out, 16 << 20);
    int status = -1;
    json_t *facts = NULL;
    if (ks_ssh_run(s, col_facts_command, NULL, 0, &out, &status, timeout, err) == 0)
        facts = col_facts_parse(out.data ? out.data : "", out.len, name, err);
    ks_buf_free(&out);
    return facts;
}
