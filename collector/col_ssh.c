/* col_ssh.c: the SSH collection method (libssh, non-blocking).
 *
 * One SSH connection per server stays open between samples: after key
 * authentication, one channel runs a persistent /bin/sh, and each sample
 * is one block of shell text written to its stdin (col_sample_command),
 * answered by sections ending with COL_END_MARKER. No handshake, no
 * channel and no process is created per sample, which keeps both our CPU
 * and the studied server's as low as it can be.
 *
 * Host keys are checked against the study's own known_hosts file (never
 * ~/.ssh/known_hosts, never ~/.ssh/config), so a study is reproducible and
 * its trust decisions are kept with it.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libssh/libssh.h>

#include "col_backend.h"
#include "col_facts.h"
#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_log.h"
#include "ks_mem.h"

/* An answer larger than this is not ours: stop reading instead of growing. */
#define MAX_ANSWER (8u << 20)

typedef enum phase {
    P_CONNECT,
    P_AUTH,
    P_CHANNEL_OPEN,
    P_CHANNEL_EXEC,
    P_IDLE,
    P_BUSY,
} phase;

typedef enum request { REQ_NONE, REQ_SAMPLE, REQ_FACTS } request;

struct col_conn {
    const col_target *t;
    ssh_session s;
    ssh_channel ch;
    ssh_key key;
    phase ph;
    request req;
    bool tcp_up;
    ks_buf out; /* request text not yet accepted by libssh */
    ks_buf in;  /* answer so far */
};

static const char *ssh_phase(const col_conn *c)
{
    switch (c->ph) {
    case P_CONNECT:
        return c->tcp_up ? "exchanging SSH keys" : "connecting";
    case P_AUTH:
        return "authenticating";
    case P_CHANNEL_OPEN:
    case P_CHANNEL_EXEC:
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
    if (c->s) {
        ssh_disconnect(c->s);
        ssh_free(c->s);
    }
    ssh_key_free(c->key);
    ks_buf_free(&c->out);
    ks_buf_free(&c->in);
    free(c);
}

static const char *srv_name(const col_conn *c)
{
    return c->t->server->name;
}

/* "SHA256:..." of the server's key, or a placeholder. */
static char *server_fingerprint(ssh_session s)
{
    ssh_key key = NULL;
    unsigned char *hash = NULL;
    size_t hlen = 0;
    char *fp = NULL;
    if (ssh_get_server_publickey(s, &key) == SSH_OK &&
        ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
        char *h = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
        if (h) {
            fp = ks_strdup(h);
            ssh_string_free_char(h);
        }
    }
    ssh_clean_pubkey_hash(&hash);
    ssh_key_free(key);
    return fp ? fp : ks_strdup("(unknown fingerprint)");
}

/* The name under which known_hosts stores this server. */
static char *known_hosts_label(const ks_server *srv)
{
    if (srv->port == 22)
        return ks_strdup(srv->address);
    return ks_asprintf("[%s]:%d", srv->address, srv->port);
}

static int check_host_key(col_conn *c, ks_error *err)
{
    const ks_server *srv = c->t->server;
    KS_AUTOFREE char *fp = server_fingerprint(c->s);
    KS_AUTOFREE char *label = known_hosts_label(srv);
    enum ssh_known_hosts_e k = ssh_session_is_known_server(c->s);
    switch (k) {
    case SSH_KNOWN_HOSTS_OK:
        return 0;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
        ks_error_set(err, KS_E_HOSTKEY, 0,
                     "host key of '%s' (%s) changed: it now presents %s. This can be an attack "
                     "or a reinstalled server: check the key with its administrator, then "
                     "remove the line for %s from %s and run again with --accept-new-hostkeys",
                     srv->name, label, fp, label, c->t->known_hosts);
        return -1;
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
        if (!c->t->accept_new_hostkeys) {
            ks_error_set(err, KS_E_HOSTKEY, 0,
                         "host key of '%s' (%s) is not known yet: it presents %s. Check this "
                         "fingerprint with the server's administrator, then run again with "
                         "--accept-new-hostkeys to record it in %s",
                         srv->name, label, fp, c->t->known_hosts);
            return -1;
        }
        if (ssh_session_update_known_hosts(c->s) != SSH_OK) {
            ks_error_set(err, KS_E_IO, 0, "cannot record the host key of '%s' in %s: %s", srv->name,
                         c->t->known_hosts, ssh_get_error(c->s));
            return -1;
        }
        ks_log_info("recorded the host key of '%s' (%s): %s", srv->name, label, fp);
        return 0;
    case SSH_KNOWN_HOSTS_ERROR:
        break;
    }
    ks_error_set(err, KS_E_HOSTKEY, 0, "cannot check the host key of '%s' against %s: %s",
                 srv->name, c->t->known_hosts, ssh_get_error(c->s));
    return -1;
}

static col_conn *ssh_open(const col_target *t, ks_error *err)
{
    const ks_server *srv = t->server;
    col_conn *c = ks_calloc(1, sizeof *c);
    c->t = t;
    ks_buf_init(&c->out, 1 << 20);
    ks_buf_init(&c->in, MAX_ANSWER);

    if (*srv->key) {
        KS_AUTOFREE char *path =
            srv->key[0] == '/' ? ks_strdup(srv->key) : ks_path_join(t->study_dir, srv->key);
        if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &c->key) != SSH_OK) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "cannot read the private key '%s' of server '%s' (inventory line %u): "
                         "check that the file exists, is readable and has no passphrase "
                         "(use ssh-agent with an empty key column for protected keys)",
                         path, srv->name, srv->line);
            ssh_close(c);
            return NULL;
        }
    }

    c->s = ssh_new();
    if (!c->s) {
        ks_error_set(err, KS_E_INTERNAL, 0, "libssh could not create a session for '%s'",
                     srv->name);
        ssh_close(c);
        return NULL;
    }
    unsigned port = (unsigned)srv->port;
    int verbosity = SSH_LOG_NOLOG;
    int no = 0, yes = 1;
    if (ssh_options_set(c->s, SSH_OPTIONS_HOST, srv->address) < 0 ||
        ssh_options_set(c->s, SSH_OPTIONS_PORT, &port) < 0 ||
        ssh_options_set(c->s, SSH_OPTIONS_USER, srv->user) < 0 ||
        ssh_options_set(c->s, SSH_OPTIONS_KNOWNHOSTS, t->known_hosts) < 0 ||
        ssh_options_set(c->s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") < 0 ||
        ssh_options_set(c->s, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
        ssh_options_set(c->s, SSH_OPTIONS_NODELAY, &yes) < 0 ||
        ssh_options_set(c->s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) < 0) {
        ks_error_set(err, KS_E_CONFIG, 0, "invalid SSH settings for '%s' (inventory line %u): %s",
                     srv->name, srv->line, ssh_get_error(c->s));
        ssh_close(c);
        return NULL;
    }
    ssh_set_blocking(c->s, 0);
    c->ph = P_CONNECT;
    return c;
}

static int ssh_pollfd(col_conn *c, short *events)
{
    socket_t fd = ssh_get_fd(c->s);
    if (fd < 0)
        return -1;
    short ev = POLLIN;
    if (c->ph == P_CONNECT && !c->tcp_up) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
            c->tcp_up = true;
        else
            ev = POLLOUT; /* the TCP connect is still in progress */
    }
    if (ssh_get_poll_flags(c->s) & SSH_WRITE_PENDING)
        ev |= POLLOUT;
    *events = ev;
    return fd;
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
    ks_error_set(err, code, 0, "%s '%s' (%s port %d) failed: %s", what, srv_name(c),
                 c->t->server->address, c->t->server->port, ssh_get_error(c->s));
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
        rc = ssh_connect(c->s);
        if (rc == SSH_AGAIN)
            return COL_EV_AGAIN;
        if (rc != SSH_OK) {
            ks_error_set(err, KS_E_NET, 0,
                         "cannot connect to '%s' at %s port %d: %s (check the address and "
                         "port in the inventory, and that sshd runs and a firewall lets us "
                         "through)",
                         srv->name, srv->address, srv->port, ssh_get_error(c->s));
            return COL_EV_FAILED;
        }
        if (check_host_key(c, err) < 0)
            return COL_EV_FAILED;
        c->ph = P_AUTH;
        /* fall through */
    case P_AUTH:
        rc = c->key ? ssh_userauth_publickey(c->s, NULL, c->key)
                    : ssh_userauth_publickey_auto(c->s, NULL, NULL);
        if (rc == SSH_AUTH_AGAIN)
            return COL_EV_AGAIN;
        if (rc == SSH_AUTH_ERROR)
            return fail_session(c, KS_E_NET, "authentication to", err);
        if (rc != SSH_AUTH_SUCCESS) {
            ks_error_set(err, KS_E_AUTH, 0,
                         "'%s' refused the key %s for user '%s': add the public key to "
                         "~%s/.ssh/authorized_keys on the server, or fix the user or key "
                         "columns of inventory line %u",
                         srv->name, *srv->key ? srv->key : "(from ssh-agent or ~/.ssh)", srv->user,
                         srv->user, srv->line);
            return COL_EV_FAILED;
        }
        c->ch = ssh_channel_new(c->s);
        if (!c->ch)
            return fail_session(c, KS_E_NET, "opening a channel to", err);
        c->ph = P_CHANNEL_OPEN;
        /* fall through */
    case P_CHANNEL_OPEN:
        rc = ssh_channel_open_session(c->ch);
        if (rc == SSH_AGAIN)
            return COL_EV_AGAIN;
        if (rc != SSH_OK)
            return fail_session(c, KS_E_REMOTE, "opening a session channel to", err);
        c->ph = P_CHANNEL_EXEC;
        /* fall through */
    case P_CHANNEL_EXEC:
        rc = ssh_channel_request_exec(c->ch, "LC_ALL=C exec /bin/sh");
        if (rc == SSH_AGAIN)
            return COL_EV_AGAIN;
        if (rc != SSH_OK)
            return fail_session(c, KS_E_REMOTE, "starting /bin/sh on", err);
        c->ph = P_IDLE;
        return COL_EV_CONNECTED;
    case P_IDLE: {
        /* Nothing was asked: anything readable is a close or noise. */
        char chunk[4096];
        int n = ssh_channel_read_nonblocking(c->ch, chunk, sizeof chunk, 0);
        if (n == SSH_EOF || n == SSH_ERROR || ssh_channel_is_eof(c->ch) ||
            !ssh_is_connected(c->s)) {
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
