/* ks_inventory.h: the study's list of servers (inventory.csv).
 *
 * A CSV file with a header line naming the columns; '#' starts a comment
 * line; blank lines are skipped; fields may be quoted ("a,b" with "" for a
 * quote). Columns:
 *   name     required; letters, digits, '.', '_' and '-' (it names files)
 *   address  required (optional for method import); IP address or host name
 *   method   required; "ssh", "snmp", or "import" for a server whose data
 *            comes from 'kvmshift import' (the collector never connects to it)
 *   port     optional; default 22 for ssh, 161 for snmp
 *   user     optional; default the local login name
 *   key      optional; private key file, relative to the study directory;
 *            empty: ssh-agent and ~/.ssh default keys. For snmp: the secrets
 *            file (community or v3 credentials), required
 *   role, group  optional free text (role "backup", "infrastructure", ...)
 *   tags     optional; words separated by ';' or spaces
 * Access for imaging (kvmshift p2v), all optional; a server collected by
 * SNMP or imported needs them when its SSH access differs from the
 * defaults:
 *   ssh_address  default: address
 *   ssh_port     default: port for method ssh, else 22
 *   ssh_user     default: user for method ssh, else the local login name
 *   ssh_key      default: key for method ssh, else "" (ssh-agent and
 *                ~/.ssh default keys); relative to the study directory
 * The loader checks every line and reports every bad one with file:line and
 * the reason; nothing is returned unless the whole file is valid.
 */
#ifndef KS_INVENTORY_H
#define KS_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "ks_error.h"

typedef enum ks_method {
    KS_METHOD_SSH = 0,
    KS_METHOD_IMPORT, /* data imported from existing monitoring; never polled */
    KS_METHOD_SNMP,   /* SNMP v2c or v3; key names the secrets file */
} ks_method;

/* How kvmshift p2v logs in to a server (the defaults filled in). */
typedef struct ks_ssh_access {
    char *address; /* "" when the server has none (an imported one) */
    int port;
    char *user;
    char *key;
} ks_ssh_access;

typedef struct ks_server {
    char *name;
    char *address;
    ks_method method;
    int port;
    char *user;
    char *key;   /* absolute or study-relative path, "" for agent/default keys */
    char *role;  /* "" when not given */
    char *group; /* "" when not given */
    char **tags;
    size_t ntags;
    ks_ssh_access ssh; /* imaging access (ssh_* columns, or defaults) */
    unsigned line;     /* line in the file, for messages */
} ks_server;

typedef struct ks_inventory {
    ks_server *servers;
    size_t count;
    /* (private) the names' index of ks_inventory_find: an open-addressing
     * table of name_cap slots, each 0 or 1 + a server's index, hashed on
     * the name folded to lower case */
    size_t *name_slot;
    size_t name_cap;
} ks_inventory;

/* Parse inventory text; filename is used in messages. On error, err's
 * message lists the bad lines (up to 20) one per line. */
ks_inventory *ks_inventory_parse(const char *text, size_t len, const char *filename, ks_error *err);
ks_inventory *ks_inventory_load(const char *path, ks_error *err);
void ks_inventory_free(ks_inventory *inv);

/* The server of that name (exactly), or NULL. */
const ks_server *ks_inventory_find(const ks_inventory *inv, const char *name);

const char *ks_method_name(ks_method m);
/* Does the collector connect to servers of this method? */
bool ks_method_polled(ks_method m);

/* Switch the line of server name in the inventory file path to address
 * and port (a migrated server's VM reached elsewhere than the physical
 * server was): its address and port columns, and its ssh_address and
 * ssh_port when the line fills them. A port column is added when the
 * header has none (empty on the other lines). Every other line is kept
 * byte for byte; the new file is checked to parse, then replaces the old
 * one atomically. 0, or -1 with err (KS_E_USAGE: no such server; a parse
 * error of the file). */
int ks_inventory_set_access(const char *path, const char *name, const char *address, int port,
                            ks_error *err);

/* Is s a valid server name (used as a file name)? */
int ks_server_name_valid(const char *s);

#endif
