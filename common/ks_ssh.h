/* ks_ssh.h: an SSH session to a studied server (libssh, non-blocking).
 *
 * Shared by the collector (one session per server driven by its event
 * loop), P2V (one session per disk, in its own thread) and the validator.
 * What every user gets the same way:
 *   - options: no ~/.ssh/config, TCP_NODELAY, no logging from libssh;
 *   - host keys checked against the study's own known_hosts file only
 *     (never ~/.ssh/known_hosts): an unknown key is refused unless the
 *     caller accepts new keys, a changed one is always refused, with the
 *     fingerprint and the line to remove in the message;
 *   - the private key read from the file named in the inventory (relative
 *     to the study), or ssh-agent and the default keys when none is named;
 *   - connection and authentication as a non-blocking state machine
 *     (ks_ssh_connect_step, for event loops), or blocking with a deadline
 *     (ks_ssh_connect, for worker threads);
 *   - exec channels, likewise in both flavours.
 * Only the component that links the ks_ssh library pulls in libssh: the
 * analyzer and the report do not.
 *
 * A ks_ssh is used by one thread at a time; different sessions may be used
 * from different threads at once.
 */
#ifndef KS_SSH_H
#define KS_SSH_H

#include <stdbool.h>
#include <stddef.h>

#include <libssh/libssh.h>

#include "ks_buf.h"
#include "ks_error.h"

/* Where and as whom to connect. The strings are copied by ks_ssh_new. */
typedef struct ks_ssh_target {
    const char *name;    /* the server's name in the study, for messages */
    const char *address; /* IP address or host name */
    int port;
    const char *user;
    /* private key file: absolute, or relative to study_dir; NULL or "":
     * ssh-agent and the default keys in ~/.ssh */
    const char *key;
    const char *study_dir;
    const char *known_hosts; /* the study's known_hosts file */
    bool accept_new_hostkeys;
    /* where the settings come from, for messages ("inventory line 4") */
    const char *origin;
    /* The server reached at another address than the one known_hosts
     * knows it by (a VM checked at a test address before it takes the
     * source's over): its host key must be the one recorded for
     * known_address:known_port. NULL: address and port. Never recorded
     * (accept_new_hostkeys does not apply). */
    const char *known_address;
    int known_port;
} ks_ssh_target;

typedef struct ks_ssh ks_ssh;

/* A session, not connected yet (nothing is sent before the first step).
 * NULL with err filled when the key file cannot be read or the options are
 * refused. */
ks_ssh *ks_ssh_new(const ks_ssh_target *t, ks_error *err);
/* Disconnect and free; NULL is a no-op. Channels opened on the session
 * must be freed before. */
void ks_ssh_free(ks_ssh *s);

/* One step of TCP connect, key exchange, host key check and public key
 * authentication: 1 when authenticated, 0 when it must be called again
 * once ks_ssh_pollfd's fd is ready, -1 with err filled (codes KS_E_NET,
 * KS_E_HOSTKEY, KS_E_AUTH, KS_E_IO). */
int ks_ssh_connect_step(ks_ssh *s, ks_error *err);

/* The socket to poll and the events the session waits for; -1 before
 * there is one. */
int ks_ssh_pollfd(ks_ssh *s, short *events);

/* What the session is doing, for a timeout message: "connecting",
 * "exchanging SSH keys", "authenticating", "connected". */
const char *ks_ssh_phase(const ks_ssh *s);

/* One step of opening a session channel that runs command: 1 when it runs
 * (*ch is the channel, owned by the caller: ssh_channel_free it), 0 again,
 * -1 with err filled. *ch must be NULL at the first call. */
int ks_ssh_exec_step(ks_ssh *s, ssh_channel *ch, const char *command, ks_error *err);

/* Blocking flavours for worker threads: the steps above, polled until
 * done or timeout seconds have passed (KS_E_TIMEOUT naming the phase). */
int ks_ssh_connect(ks_ssh *s, double timeout, ks_error *err);
ssh_channel ks_ssh_exec(ks_ssh *s, const char *command, double timeout, ks_error *err);

/* Run command, with the in_len bytes at in (may be NULL; any bytes, NULs
 * included) written to its standard input then closed, and collect its standard output into out
 * (its cap applies: a larger output is an error) and its exit status (-1 when the server gave
 * none). Standard error is kept in err's message when the status is not 0, but the call itself
 * returns 0 whenever the command ran. */
int ks_ssh_run(ks_ssh *s, const char *command, const void *in, size_t in_len, ks_buf *out,
               int *exit_status, double timeout, ks_error *err);

/* Wait until the session's socket is ready for what it waits for, or
 * timeout seconds (0: just check). 1 ready, 0 timeout, -1 error. */
int ks_ssh_wait(ks_ssh *s, double timeout);

ssh_session ks_ssh_session(ks_ssh *s);
const char *ks_ssh_name(const ks_ssh *s);
const char *ks_ssh_address(const ks_ssh *s);
int ks_ssh_port(const ks_ssh *s);

/* Fill err with "WHAT 'NAME' (ADDRESS port PORT) failed: <libssh's error>"
 * and return -1: for failures in the middle of a session. */
int ks_ssh_fail(ks_ssh *s, ks_errcode code, const char *what, ks_error *err);

#endif
