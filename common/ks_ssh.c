/* ks_ssh.c: SSH sessions to studied servers (see ks_ssh.h). */
#include "ks_ssh.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ks_fs.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_time.h"

typedef enum phase { P_CONNECT, P_AUTH, P_READY } phase;

struct ks_ssh {
    char *name, *address, *user, *key_path, *known_hosts, *origin;
    char *known_address; /* NULL: address */
    int port, known_port;
    bool accept_new;
    ssh_session s;
    ssh_key key;
    phase ph;
    bool tcp_up;
};

ssh_session ks_ssh_session(ks_ssh *s)
{
    return s->s;
}

const char *ks_ssh_name(const ks_ssh *s)
{
    return s->name;
}

const char *ks_ssh_address(const ks_ssh *s)
{
    return s->address;
}

int ks_ssh_port(const ks_ssh *s)
{
    return s->port;
}

const char *ks_ssh_phase(const ks_ssh *s)
{
    switch (s->ph) {
    case P_CONNECT:
        return s->tcp_up ? "exchanging SSH keys" : "connecting";
    case P_AUTH:
        return "authenticating";
    case P_READY:
        return "connected";
    }
    return "?";
}

void ks_ssh_free(ks_ssh *s)
{
    if (!s)
        return;
    if (s->s) {
        ssh_disconnect(s->s);
        ssh_free(s->s);
    }
    ssh_key_free(s->key);
    free(s->name);
    free(s->address);
    free(s->user);
    free(s->key_path);
    free(s->known_hosts);
    free(s->known_address);
    free(s->origin);
    free(s);
}

int ks_ssh_fail(ks_ssh *s, ks_errcode code, const char *what, ks_error *err)
{
    ks_error_set(err, code, 0, "%s '%s' (%s port %d) failed: %s", what, s->name, s->address,
                 s->port, ssh_get_error(s->s));
    return -1;
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
static char *known_hosts_label(const ks_ssh *s)
{
    const char *a = s->known_address ? s->known_address : s->address;
    int port = s->known_address ? s->known_port : s->port;
    if (port == 22)
        return ks_strdup(a);
    return ks_asprintf("[%s]:%d", a, port);
}

/* libssh looks the key up under the session's host and port: for a server
 * known by another name, they are that name's for the lookup only (the
 * socket is connected by then). */
static enum ssh_known_hosts_e known_server(ks_ssh *s)
{
    if (!s->known_address)
        return ssh_session_is_known_server(s->s);
    unsigned kp = (unsigned)s->known_port, p = (unsigned)s->port;
    if (ssh_options_set(s->s, SSH_OPTIONS_HOST, s->known_address) < 0 ||
        ssh_options_set(s->s, SSH_OPTIONS_PORT, &kp) < 0)
        return SSH_KNOWN_HOSTS_ERROR;
    enum ssh_known_hosts_e k = ssh_session_is_known_server(s->s);
    if (ssh_options_set(s->s, SSH_OPTIONS_HOST, s->address) < 0 ||
        ssh_options_set(s->s, SSH_OPTIONS_PORT, &p) < 0)
        return SSH_KNOWN_HOSTS_ERROR;
    return k;
}

static int check_host_key(ks_ssh *s, ks_error *err)
{
    KS_AUTOFREE char *fp = server_fingerprint(s->s);
    KS_AUTOFREE char *label = known_hosts_label(s);
    enum ssh_known_hosts_e k = known_server(s);
    if (s->known_address && k != SSH_KNOWN_HOSTS_OK && k != SSH_KNOWN_HOSTS_ERROR) {
        ks_error_set(err, KS_E_HOSTKEY, 0,
                     "'%s' at %s port %d does not present the host key known for %s: it "
                     "presents %s (%s)",
                     s->name, s->address, s->port, label, fp,
                     k == SSH_KNOWN_HOSTS_CHANGED || k == SSH_KNOWN_HOSTS_OTHER
                         ? "another key"
                         : "no key is recorded for that name");
        return -1;
    }
    switch (k) {
    case SSH_KNOWN_HOSTS_OK:
        return 0;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
        ks_error_set(err, KS_E_HOSTKEY, 0,
                     "host key of '%s' (%s) changed: it now presents %s. This can be an attack "
                     "or a reinstalled server: check the key with its administrator, then "
                     "remove the line for %s from %s and run again with --accept-new-hostkeys",
                     s->name, label, fp, label, s->known_hosts);
        return -1;
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
        if (!s->accept_new) {
            ks_error_set(err, KS_E_HOSTKEY, 0,
                         "host key of '%s' (%s) is not known yet: it presents %s. Check this "
                         "fingerprint with the server's administrator, then run again with "
                         "--accept-new-hostkeys to record it in %s",
                         s->name, label, fp, s->known_hosts);
            return -1;
        }
        if (ssh_session_update_known_hosts(s->s) != SSH_OK) {
            ks_error_set(err, KS_E_IO, 0, "cannot record the host key of '%s' in %s: %s", s->name,
                         s->known_hosts, ssh_get_error(s->s));
            return -1;
        }
        ks_log_info("recorded the host key of '%s' (%s): %s", s->name, label, fp);
        return 0;
    case SSH_KNOWN_HOSTS_ERROR:
        break;
    }
    ks_error_set(err, KS_E_HOSTKEY, 0, "cannot check the host key of '%s' against %s: %s", s->name,
                 s->known_hosts, ssh_get_error(s->s));
    return -1;
}

ks_ssh *ks_ssh_new(const ks_ssh_target *t, ks_error *err)
{
    ks_ssh *s = ks_calloc(1, sizeof *s);
    s->name = ks_strdup(t->name);
    s->address = ks_strdup(t->address);
    s->user = ks_strdup(t->user ? t->user : "");
    s->known_hosts = ks_strdup(t->known_hosts);
    s->origin = ks_strdup(t->origin ? t->origin : "the inventory");
    s->port = t->port;
    s->accept_new = t->accept_new_hostkeys && !t->known_address;
    if (t->known_address) {
        s->known_address = ks_strdup(t->known_address);
        s->known_port = t->known_port;
    }

    if (t->key && *t->key) {
        s->key_path = t->key[0] == '/' || !t->study_dir ? ks_strdup(t->key)
                                                        : ks_path_join(t->study_dir, t->key);
        if (ssh_pki_import_privkey_file(s->key_path, NULL, NULL, NULL, &s->key) != SSH_OK) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "cannot read the private key '%s' of server '%s' (%s): check that the "
                         "file exists, is readable and has no passphrase (use ssh-agent with an "
                         "empty key column for protected keys)",
                         s->key_path, s->name, s->origin);
            ks_ssh_free(s);
            return NULL;
        }
    }

    s->s = ssh_new();
    if (!s->s) {
        ks_error_set(err, KS_E_INTERNAL, 0, "libssh could not create a session for '%s'", s->name);
        ks_ssh_free(s);
        return NULL;
    }
    unsigned port = (unsigned)s->port;
    int verbosity = SSH_LOG_NOLOG;
    int no = 0, yes = 1;
    if (ssh_options_set(s->s, SSH_OPTIONS_HOST, s->address) < 0 ||
        ssh_options_set(s->s, SSH_OPTIONS_PORT, &port) < 0 ||
        (*s->user && ssh_options_set(s->s, SSH_OPTIONS_USER, s->user) < 0) ||
        ssh_options_set(s->s, SSH_OPTIONS_KNOWNHOSTS, s->known_hosts) < 0 ||
        ssh_options_set(s->s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") < 0 ||
        ssh_options_set(s->s, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
        ssh_options_set(s->s, SSH_OPTIONS_NODELAY, &yes) < 0 ||
        ssh_options_set(s->s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) < 0) {
        ks_error_set(err, KS_E_CONFIG, 0, "invalid SSH settings for '%s' (%s): %s", s->name,
                     s->origin, ssh_get_error(s->s));
        ks_ssh_free(s);
        return NULL;
    }
    ssh_set_blocking(s->s, 0);
    s->ph = P_CONNECT;
    return s;
}

int ks_ssh_pollfd(ks_ssh *s, short *events)
{
    socket_t fd = ssh_get_fd(s->s);
    if (fd < 0)
        return -1;
    short ev = POLLIN;
    if (s->ph == P_CONNECT && !s->tcp_up) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
            s->tcp_up = true;
        else
            ev = POLLOUT; /* the TCP connect is still in progress */
    }
    if (ssh_get_poll_flags(s->s) & SSH_WRITE_PENDING)
        ev |= POLLOUT;
    *events = ev;
    return fd;
}

int ks_ssh_connect_step(ks_ssh *s, ks_error *err)
{
    int rc;
    switch (s->ph) {
    case P_CONNECT:
        rc = ssh_connect(s->s);
        if (rc == SSH_AGAIN)
            return 0;
        if (rc != SSH_OK) {
            ks_error_set(err, KS_E_NET, 0,
                         "cannot connect to '%s' at %s port %d: %s (check the address and "
                         "port in the inventory, and that sshd runs and a firewall lets us "
                         "through)",
                         s->name, s->address, s->port, ssh_get_error(s->s));
            return -1;
        }
        if (check_host_key(s, err) < 0)
            return -1;
        s->ph = P_AUTH;
        /* fall through */
    case P_AUTH:
        rc = s->key ? ssh_userauth_publickey(s->s, NULL, s->key)
                    : ssh_userauth_publickey_auto(s->s, NULL, NULL);
        if (rc == SSH_AUTH_AGAIN)
            return 0;
        if (rc == SSH_AUTH_ERROR)
            return ks_ssh_fail(s, KS_E_NET, "authentication to", err);
        if (rc != SSH_AUTH_SUCCESS) {
            ks_error_set(err, KS_E_AUTH, 0,
                         "'%s' refused the key %s for user '%s': add the public key to "
                         "~%s/.ssh/authorized_keys on the server, or fix the user or key "
                         "of %s",
                         s->name, s->key_path ? s->key_path : "(from ssh-agent or ~/.ssh)", s->user,
                         s->user, s->origin);
            return -1;
        }
        s->ph = P_READY;
        /* fall through */
    case P_READY:
        return 1;
    }
    return 0;
}

int ks_ssh_exec_step(ks_ssh *s, ssh_channel *ch, const char *command, ks_error *err)
{
    if (s->ph != P_READY) {
        ks_error_set(err, KS_E_INTERNAL, 0, "exec on '%s' while %s", s->name, ks_ssh_phase(s));
        return -1;
    }
    if (!*ch) {
        *ch = ssh_channel_new(s->s);
        if (!*ch)
            return ks_ssh_fail(s, KS_E_NET, "opening a channel to", err);
    }
    if (!ssh_channel_is_open(*ch)) {
        int rc = ssh_channel_open_session(*ch);
        if (rc == SSH_AGAIN)
            return 0;
        if (rc != SSH_OK)
            return ks_ssh_fail(s, KS_E_REMOTE, "opening a session channel to", err);
    }
    int rc = ssh_channel_request_exec(*ch, command);
    if (rc == SSH_AGAIN)
        return 0;
    if (rc != SSH_OK) {
        ks_error_set(err, KS_E_REMOTE, 0, "'%s' (%s port %d) refused to run '%.60s': %s", s->name,
                     s->address, s->port, command, ssh_get_error(s->s));
        return -1;
    }
    return 1;
}

int ks_ssh_wait(ks_ssh *s, double timeout)
{
    short ev = POLLIN;
    int fd = ks_ssh_pollfd(s, &ev);
    if (fd < 0)
        return 1; /* nothing to wait on yet: let the step start the connect */
    struct pollfd p = {.fd = fd, .events = ev};
    int ms = timeout <= 0 ? 0 : timeout > 1e6 ? 1000000000 : (int)(timeout * 1000) + 1;
    int n = poll(&p, 1, ms);
    if (n < 0 && errno == EINTR)
        return 0;
    return n < 0 ? -1 : n > 0;
}

static int timed_out(ks_ssh *s, const char *what, double timeout, ks_error *err)
{
    ks_error_set(err, KS_E_TIMEOUT, 0,
                 "'%s' (%s port %d) did not answer within %.0f s while %s: check that the "
                 "server is up and reachable",
                 s->name, s->address, s->port, timeout, what);
    return -1;
}

int ks_ssh_connect(ks_ssh *s, double timeout, ks_error *err)
{
    double deadline = ks_time_mono() + timeout;
    for (;;) {
        int rc = ks_ssh_connect_step(s, err);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        double left = deadline - ks_time_mono();
        if (left <= 0)
            return timed_out(s, ks_ssh_phase(s), timeout, err);
        ks_ssh_wait(s, left < 0.2 ? left : 0.2);
    }
}

ssh_channel ks_ssh_exec(ks_ssh *s, const char *command, double timeout, ks_error *err)
{
    double deadline = ks_time_mono() + timeout;
    ssh_channel ch = NULL;
    for (;;) {
        int rc = ks_ssh_exec_step(s, &ch, command, err);
        if (rc > 0)
            return ch;
        if (rc < 0)
            break;
        double left = deadline - ks_time_mono();
        if (left <= 0) {
            timed_out(s, "starting a remote command", timeout, err);
            break;
        }
        ks_ssh_wait(s, left < 0.2 ? left : 0.2);
    }
    if (ch)
        ssh_channel_free(ch);
    return NULL;
}

int ks_ssh_run(ks_ssh *s, const char *command, const void *stdin_data, size_t stdin_len,
               ks_buf *out, int *exit_status, double timeout, ks_error *err)
{
    double deadline = ks_time_mono() + timeout;
    ssh_channel ch = ks_ssh_exec(s, command, timeout, err);
    if (!ch)
        return -1;
    ks_buf errtext;
    ks_buf_init(&errtext, 64 << 10);
    size_t in_left = stdin_data ? stdin_len : 0;
    const char *in = stdin_data;
    bool in_closed = false, progress = false;
    double left = 0;
    int rc = -1, status = -1;
    char chunk[16384];
    for (;;) {
        if (!in_closed) {
            if (in_left) {
                int n = ssh_channel_write(ch, in, (uint32_t)in_left);
                if (n == SSH_ERROR) {
                    ks_ssh_fail(s, KS_E_NET, "sending input to", err);
                    goto done;
                }
                in += n;
                in_left -= (size_t)n;
            }
            if (!in_left) {
                ssh_channel_send_eof(ch);
                in_closed = true;
            }
        }
        progress = false;
        for (int is_err = 0; is_err <= 1; is_err++) {
            int n;
            while ((n = ssh_channel_read_nonblocking(ch, chunk, sizeof chunk, is_err)) > 0) {
                progress = true;
                if (is_err) {
                    ks_buf_append(&errtext, chunk, (size_t)n); /* a long stderr is cut */
                } else if (ks_buf_append(out, chunk, (size_t)n) < 0) {
                    ks_error_set(err, KS_E_REMOTE, 0,
                                 "'%s' answered '%.60s' with more output than expected", s->name,
                                 command);
                    goto done;
                }
            }
            if (n == SSH_ERROR) {
                ks_ssh_fail(s, KS_E_NET, "reading from", err);
                goto done;
            }
        }
        if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch))
            break;
        left = deadline - ks_time_mono();
        if (left <= 0) {
            timed_out(s, "waiting for a remote command", timeout, err);
            goto done;
        }
        if (!progress)
            ks_ssh_wait(s, left < 0.2 ? left : 0.2);
    }
    /* the exit status arrives with or just after the EOF */
    while ((status = ssh_channel_get_exit_status(ch)) < 0 && !ssh_channel_is_closed(ch) &&
           ks_time_mono() < deadline) {
        ks_ssh_wait(s, 0.05);
        ssh_channel_read_nonblocking(ch, chunk, sizeof chunk, 0);
    }
    if (exit_status)
        *exit_status = status;
    if (status != 0)
        ks_error_set(err, KS_E_REMOTE, 0, "'%s' ran '%.80s' with exit status %d: %s", s->name,
                     command, status, errtext.len ? ks_buf_str(&errtext) : "(no message)");
    rc = 0;
done:
    ks_buf_free(&errtext);
    ssh_channel_close(ch);
    ssh_channel_free(ch);
    return rc;
}
