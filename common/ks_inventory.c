#define _GNU_SOURCE
#include "ks_inventory.h"

#include <ctype.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_mem.h"
#include "ks_parse.h"
#include "ks_vector.h"

KS_VECTOR(field_vec, char *);
KS_VECTOR(server_vec, ks_server);

enum col {
    C_NAME,
    C_ADDRESS,
    C_METHOD,
    C_PORT,
    C_USER,
    C_KEY,
    C_ROLE,
    C_GROUP,
    C_TAGS,
    C_SSH_ADDRESS,
    C_SSH_PORT,
    C_SSH_USER,
    C_SSH_KEY,
    C_COUNT
};
static const char *const col_names[C_COUNT] = {
    "name",  "address", "method",      "port",     "user",     "key",     "role",
    "group", "tags",    "ssh_address", "ssh_port", "ssh_user", "ssh_key",
};

#define MAX_REPORTED 20

/* The collection methods an inventory line may name. */
typedef struct method_info {
    const char *name;
    ks_method method;
    int default_port;
    bool polled; /* the collector connects to it (needs an address) */
} method_info;

static const method_info methods[] = {
    {"ssh", KS_METHOD_SSH, 22, true},
    {"import", KS_METHOD_IMPORT, 0, false},
    {"snmp", KS_METHOD_SNMP, 161, true},
};
static const char method_list[] = "'ssh', 'snmp', or 'import' for data from 'kvmshift import'";

static const method_info *method_find(const char *name)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcasecmp(methods[i].name, name) == 0)
            return &methods[i];
    return NULL;
}
/* The list must fit in an error message with room left for "... and N more". */
#define PROBLEMS_MAX (KS_ERROR_MSG_MAX - 64)

typedef struct problems {
    ks_buf text;
    unsigned count;    /* all problems found */
    unsigned reported; /* those listed in text */
} problems;

static void problem(problems *pr, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(problems *pr, const char *file, unsigned line, const char *fmt, ...)
{
    pr->count++;
    if (pr->reported >= MAX_REPORTED)
        return;
    char one[KS_ERROR_MSG_MAX];
    int n = snprintf(one, sizeof one, "%s:%u: ", file, line);
    if (n >= 0 && (size_t)n < sizeof one) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(one + n, sizeof one - (size_t)n, fmt, ap);
        va_end(ap);
    }
    /* Append whole lines only, so that the list never ends in a fragment; a
     * line too long for the space left is cut short, or when little space is
     * left, only counted in the "and N more" line. */
    size_t sep = pr->text.len ? 1 : 0;
    size_t room = PROBLEMS_MAX > pr->text.len + sep ? PROBLEMS_MAX - pr->text.len - sep : 0;
    size_t len = strlen(one);
    if (len > room) {
        if (room < 80)
            return;
        memcpy(one + room - 3, "...", 4);
        len = room;
    }
    if (sep)
        ks_buf_appends(&pr->text, "\n");
    ks_buf_append(&pr->text, one, len);
    pr->reported++;
}

static void fields_free(field_vec *f)
{
    for (size_t i = 0; i < f->len; i++)
        free(f->ptr[i]);
    f->len = 0;
}

/* Split one CSV record. Returns false (with *why) on an unterminated quote. */
static bool split_csv(const char *p, size_t len, field_vec *out, const char **why)
{
    const char *end = p + len;
    ks_buf cur;
    ks_buf_init(&cur, 1 << 16);
    for (;;) {
        ks_buf_reset(&cur);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p < end && *p == '"') {
            p++;
            for (;;) {
                if (p >= end) {
                    *why = "a quoted field is not closed by '\"'";
                    ks_buf_free(&cur);
                    return false;
                }
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        ks_buf_append(&cur, "\"", 1);
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                ks_buf_append(&cur, p, 1);
                p++;
            }
            while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
                p++;
            if (p < end && *p != ',') {
                *why = "text after a closing quote: quote the whole field";
                ks_buf_free(&cur);
                return false;
            }
        } else {
            while (p < end && *p != ',')
                ks_buf_append(&cur, p++, 1);
        }
        char *f = ks_buf_steal(&cur);
        ks_buf_init(&cur, 1 << 16);
        field_vec_push(out, ks_trim(f));
        if (p >= end)
            break;
        p++; /* the comma */
    }
    ks_buf_free(&cur);
    return true;
}

int ks_server_name_valid(const char *s)
{
    if (!*s || strlen(s) > 64 || *s == '.' || *s == '-')
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
            return 0;
    return 1;
}

static bool address_valid(const char *s)
{
    if (!*s || strlen(s) > 253)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(".-:_[]%", *s))
            return false;
    return true;
}

static char *local_user(void)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name)
        return ks_strdup(pw->pw_name);
    const char *u = getenv("USER");
    return ks_strdup(u && *u ? u : "root");
}

static void server_clear(ks_server *s)
{
    free(s->name);
    free(s->address);
    free(s->user);
    free(s->key);
    free(s->ssh.address);
    free(s->ssh.user);
    free(s->ssh.key);
    free(s->role);
    free(s->group);
    ks_words_free(s->tags, s->ntags);
}

void ks_inventory_free(ks_inventory *inv)
{
    if (!inv)
        return;
    for (size_t i = 0; i < inv->count; i++)
        server_clear(&inv->servers[i]);
    free(inv->servers);
    free(inv->name_slot);
    free(inv);
}

/* ---- The names' index ---------------------------------------------------- */

/* FNV-1a of the name folded to lower case (ASCII, as strcasecmp in the C
 * locale kvmshift runs in): names equal but for case hash alike. */
static size_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) * 0x100000001b3ULL;
    }
    return (size_t)h;
}

/* The server whose name equals name but for case (the names of an
 * inventory differ in more than case, so there is at most one), or NULL. */
static const ks_server *index_lookup(const size_t *slot, size_t cap, const ks_server *servers,
                                     const char *name)
{
    if (!cap)
        return NULL;
    for (size_t i = name_hash(name) & (cap - 1); slot[i]; i = (i + 1) & (cap - 1))
        if (strcasecmp(servers[slot[i] - 1].name, name) == 0)
            return &servers[slot[i] - 1];
    return NULL;
}

/* Index servers[n - 1], growing the table to keep it at most half full. */
static void index_add(size_t **slot, size_t *cap, const ks_server *servers, size_t n)
{
    if (2 * n > *cap) {
        size_t ncap = *cap ? 2 * *cap : 64;
        size_t *ns = ks_calloc(ncap, sizeof *ns);
        for (size_t k = 0; k < *cap; k++)
            if ((*slot)[k]) {
                size_t i = name_hash(servers[(*slot)[k] - 1].name) & (ncap - 1);
                while (ns[i])
                    i = (i + 1) & (ncap - 1);
                ns[i] = (*slot)[k];
            }
        free(*slot);
        *slot = ns;
        *cap = ncap;
    }
    size_t i = name_hash(servers[n - 1].name) & (*cap - 1);
    while ((*slot)[i])
        i = (i + 1) & (*cap - 1);
    (*slot)[i] = n;
}

const char *ks_method_name(ks_method m)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].method == m)
            return methods[i].name;
    return "?";
}

bool ks_method_polled(ks_method m)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].method == m)
            return methods[i].polled;
    return false;
}

ks_inventory *ks_inventory_parse(const char *text, size_t len, const char *filename, ks_error *err)
{
    problems pr = {.count = 0};
    ks_buf_init(&pr.text, KS_ERROR_MSG_MAX - 1);
    server_vec servers = {0};
    size_t *name_slot = NULL, name_cap = 0; /* the names' index (ks_inventory.h) */
    field_vec fields = {0};
    int colmap[64]; /* field index -> column, -1 ignored */
    size_t ncols = 0;
    bool have_header = false;
    KS_AUTOFREE char *user = local_user();

    ks_cursor c = ks_cursor_make(text, len), line;
    unsigned lineno = 0;
    while (ks_cur_line(&c, &line)) {
        lineno++;
        KS_AUTOFREE char *s = ks_strndup(line.p, ks_cur_len(&line));
        if (lineno == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
            (unsigned char)s[2] == 0xBF)
            memmove(s, s + 3, strlen(s + 3) + 1); /* spreadsheet BOM */
        ks_trim(s);
        if (!*s || *s == '#')
            continue;
        const char *why = NULL;
        fields_free(&fields);
        if (!split_csv(s, strlen(s), &fields, &why)) {
            problem(&pr, filename, lineno, "%s", why);
            continue;
        }
        if (!have_header) {
            have_header = true;
            bool seen[C_COUNT] = {false};
            if (fields.len > 64) {
                problem(&pr, filename, lineno, "the header has %zu columns, more than 64",
                        fields.len);
                break;
            }
            ncols = fields.len;
            for (size_t i = 0; i < fields.len; i++) {
                colmap[i] = -1;
                for (int k = 0; k < C_COUNT; k++)
                    if (strcasecmp(fields.ptr[i], col_names[k]) == 0)
                        colmap[i] = k;
                if (colmap[i] < 0) {
                    problem(&pr, filename, lineno,
                            "unknown column '%s' in the header; the columns are name, address, "
                            "method, port, user, key, role, group, tags, and for imaging "
                            "ssh_address, ssh_port, ssh_user, ssh_key",
                            fields.ptr[i]);
                } else if (seen[colmap[i]]) {
                    problem(&pr, filename, lineno, "column '%s' appears twice in the header",
                            fields.ptr[i]);
                } else {
                    seen[colmap[i]] = true;
                }
            }
            for (int k = 0; k <= C_METHOD; k++)
                if (!seen[k])
                    problem(&pr, filename, lineno,
                            "the header has no '%s' column; the first line that is not a "
                            "comment must name the columns, e.g. "
                            "'name,address,method,port,user,key,role,group,tags'",
                            col_names[k]);
            if (pr.count)
                break;
            continue;
        }
        if (fields.len != ncols) {
            problem(&pr, filename, lineno,
                    "%zu fields where the header names %zu columns (quote a field that "
                    "contains a comma)",
                    fields.len, ncols);
            continue;
        }
        const char *v[C_COUNT] = {""};
        for (int k = 0; k < C_COUNT; k++)
            v[k] = "";
        for (size_t i = 0; i < fields.len; i++)
            if (colmap[i] >= 0)
                v[colmap[i]] = fields.ptr[i];

        unsigned before = pr.count;
        if (!ks_server_name_valid(v[C_NAME]))
            problem(&pr, filename, lineno,
                    "server name '%s' is not valid: use 1 to 64 letters, digits, '.', '_' or "
                    "'-', not starting with '.' or '-'",
                    v[C_NAME]);
        const method_info *mi = method_find(v[C_METHOD]);
        if (!mi)
            problem(&pr, filename, lineno, "method '%s' of server '%s' is not supported: use %s",
                    v[C_METHOD], v[C_NAME], method_list);
        if (mi && mi->method == KS_METHOD_SNMP && !*v[C_KEY])
            problem(&pr, filename, lineno,
                    "method 'snmp' of server '%s' needs a secrets file in the 'key' column "
                    "(relative to the study directory; see README, SNMP): community and "
                    "passwords are never written in the inventory",
                    v[C_NAME]);
        bool need_address = !mi || mi->polled;
        if ((need_address || *v[C_ADDRESS]) && !address_valid(v[C_ADDRESS]))
            problem(&pr, filename, lineno,
                    "address '%s' of server '%s' is not a valid IP address or host name",
                    v[C_ADDRESS], v[C_NAME]);
        long port = mi ? mi->default_port : 0;
        if (*v[C_PORT] && !ks_parse_int(v[C_PORT], 1, 65535, &port))
            problem(&pr, filename, lineno,
                    "port '%s' of server '%s' is not a number from 1 to 65535", v[C_PORT],
                    v[C_NAME]);
        if (*v[C_SSH_ADDRESS] && !address_valid(v[C_SSH_ADDRESS]))
            problem(&pr, filename, lineno,
                    "ssh_address '%s' of server '%s' is not a valid IP address or host name",
                    v[C_SSH_ADDRESS], v[C_NAME]);
        long ssh_port = mi && mi->method == KS_METHOD_SSH ? port : 22;
        if (*v[C_SSH_PORT] && !ks_parse_int(v[C_SSH_PORT], 1, 65535, &ssh_port))
            problem(&pr, filename, lineno,
                    "ssh_port '%s' of server '%s' is not a number from 1 to 65535", v[C_SSH_PORT],
                    v[C_NAME]);
        /* equal but for case ("MAIL01", "mail01") is the same name: their
         * files collide on a case-insensitive file system, and people
         * take them for one server */
        const ks_server *twin = index_lookup(name_slot, name_cap, servers.ptr, v[C_NAME]);
        if (twin && strcmp(twin->name, v[C_NAME]) == 0)
            problem(&pr, filename, lineno,
                    "server name '%s' is already used on line %u: names must be unique", v[C_NAME],
                    twin->line);
        else if (twin)
            problem(&pr, filename, lineno,
                    "server name '%s' differs only in case from '%s' on line %u: names must "
                    "differ in more than case (their files would be one on a "
                    "case-insensitive file system)",
                    v[C_NAME], twin->name, twin->line);
        if (pr.count != before)
            continue;
        ks_server srv = {
            .name = ks_strdup(v[C_NAME]),
            .address = ks_strdup(v[C_ADDRESS]),
            .method = mi->method,
            .port = (int)port,
            .user = ks_strdup(*v[C_USER] ? v[C_USER] : user),
            .key = ks_strdup(v[C_KEY]),
            .role = ks_strdup(v[C_ROLE]),
            .group = ks_strdup(v[C_GROUP]),
            .line = lineno,
        };
        /* imaging access: the ssh_* columns, else the collection's own
         * for ssh servers, else the address with SSH's defaults (the
         * 'user' and 'key' of an snmp line are SNMP's, not SSH's) */
        bool by_ssh = srv.method == KS_METHOD_SSH;
        srv.ssh.address = ks_strdup(*v[C_SSH_ADDRESS] ? v[C_SSH_ADDRESS] : v[C_ADDRESS]);
        srv.ssh.port = (int)ssh_port;
        srv.ssh.user = ks_strdup(*v[C_SSH_USER] ? v[C_SSH_USER] : by_ssh ? srv.user : user);
        srv.ssh.key = ks_strdup(*v[C_SSH_KEY] ? v[C_SSH_KEY] : by_ssh ? srv.key : "");
        ks_words_append(v[C_TAGS], "; \t", &srv.tags, &srv.ntags);
        server_vec_push(&servers, srv);
        index_add(&name_slot, &name_cap, servers.ptr, servers.len);
    }
    fields_free(&fields);
    field_vec_reset(&fields);

    if (!have_header && !pr.count)
        problem(&pr, filename, lineno ? lineno : 1,
                "no header line: the first line that is not a comment must name the columns, "
                "e.g. 'name,address,method,port,user,key,role,group,tags'");
    if (pr.count) {
        if (pr.count > pr.reported)
            ks_buf_printf(&pr.text, "\n... and %u more problems", pr.count - pr.reported);
        ks_error_set(err, KS_E_CONFIG, 0, "%s", ks_buf_str(&pr.text));
        ks_buf_free(&pr.text);
        for (size_t i = 0; i < servers.len; i++)
            server_clear(&servers.ptr[i]);
        server_vec_reset(&servers);
        free(name_slot);
        return NULL;
    }
    ks_buf_free(&pr.text);
    ks_inventory *inv = ks_calloc(1, sizeof *inv);
    inv->servers = servers.ptr;
    inv->count = servers.len;
    inv->name_slot = name_slot;
    inv->name_cap = name_cap;
    return inv;
}

ks_inventory *ks_inventory_load(const char *path, ks_error *err)
{
    size_t len;
    KS_AUTOFREE char *text = ks_read_file(path, 64 << 20, &len, err);
    if (!text)
        return NULL;
    return ks_inventory_parse(text, len, path, err);
}

const ks_server *ks_inventory_find(const ks_inventory *inv, const char *name)
{
    const ks_server *s = index_lookup(inv->name_slot, inv->name_cap, inv->servers, name);
    return s && strcmp(s->name, name) == 0 ? s : NULL;
}

/* ---- Switching a server's line to its VM -------------------------------- */

/* A field as CSV: quoted when it would not read back as itself. */
static void csv_field(ks_buf *b, const char *f, bool first)
{
    size_t n = strlen(f);
    bool quote = strpbrk(f, ",\"\r\n") != NULL ||
                 (n && (isspace((unsigned char)f[0]) || isspace((unsigned char)f[n - 1]))) ||
                 (first && f[0] == '#');
    if (!quote) {
        ks_buf_appends(b, f);
        return;
    }
    ks_buf_appends(b, "\"");
    for (const char *p = f; *p; p++)
        ks_buf_appends(b, *p == '"' ? "\"\"" : (char[]){*p, '\0'});
    ks_buf_appends(b, "\"");
}

static int column_of(const field_vec *h, int k)
{
    for (size_t i = 0; i < h->len; i++)
        if (strcasecmp(h->ptr[i], col_names[k]) == 0)
            return (int)i;
    return -1;
}

/* Check the rewritten inventory (it parses, the server has the new
 * access), then put it in place. */
static int write_switched(const char *path, const char *name, const char *address, int port,
                          const ks_buf *out, ks_error *err)
{
    ks_inventory *inv = ks_inventory_parse(out->data, out->len, path, err);
    if (!inv)
        return -1;
    const ks_server *srv = ks_inventory_find(inv, name);
    bool ok = srv && strcmp(srv->address, address) == 0 && srv->port == port;
    ks_inventory_free(inv);
    if (!ok) {
        ks_error_set(err, KS_E_INTERNAL, 0, "%s: the line of '%s' could not be rewritten", path,
                     name);
        return -1;
    }
    struct stat st;
    return ks_write_file_atomic(path, out->data, out->len,
                                stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : 0644, err);
}

int ks_inventory_set_access(const char *path, const char *name, const char *address, int port,
                            ks_error *err)
{
    size_t len;
    KS_AUTOFREE char *text = ks_read_file(path, (size_t)1 << 28, &len, err);
    if (!text)
        return -1;
    ks_buf out;
    ks_buf_init(&out, (size_t)1 << 29);
    field_vec header = {0}, fields = {0};
    int c_name = -1, c_addr = -1, c_port = -1, c_saddr = -1, c_sport = -1;
    bool have_header = false, add_port = false, found = false;
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", port);
    ks_cursor c = ks_cursor_make(text, len), line;
    while (ks_cur_line(&c, &line)) {
        size_t n = ks_cur_len(&line);
        bool cr = n && line.p[n - 1] == '\r';
        KS_AUTOFREE char *s = ks_strndup(line.p, n - cr);
        const char *nl = c.p > line.p + n ? "\n" : ""; /* the last line may have none */
        char *t = s;
        if (!have_header && (unsigned char)t[0] == 0xEF && (unsigned char)t[1] == 0xBB &&
            (unsigned char)t[2] == 0xBF)
            t += 3;
        while (*t == ' ' || *t == '\t')
            t++;
        const char *why;
        if (!*t || *t == '#' || !split_csv(t, strlen(t), have_header ? &fields : &header, &why)) {
            /* comments, blank lines (and a bad line, which the parse
             * below reports) stay as they are */
            ks_buf_printf(&out, "%s%s%s", s, cr ? "\r" : "", nl);
            fields_free(&fields);
            continue;
        }
        if (!have_header) {
            have_header = true;
            c_name = column_of(&header, C_NAME);
            c_addr = column_of(&header, C_ADDRESS);
            c_port = column_of(&header, C_PORT);
            c_saddr = column_of(&header, C_SSH_ADDRESS);
            c_sport = column_of(&header, C_SSH_PORT);
            add_port = c_port < 0;
            ks_buf_printf(&out, "%s%s%s%s", s, add_port ? ",port" : "", cr ? "\r" : "", nl);
            continue;
        }
        bool mine =
            c_name >= 0 && (size_t)c_name < fields.len && strcmp(fields.ptr[c_name], name) == 0;
        if (!mine || c_addr < 0 || (size_t)c_addr >= fields.len) {
            ks_buf_printf(&out, "%s%s%s%s", s, add_port ? "," : "", cr ? "\r" : "", nl);
            fields_free(&fields);
            continue;
        }
        found = true;
        if (add_port)
            field_vec_push(&fields, ks_strdup(""));
        int pc = add_port ? (int)fields.len - 1 : c_port;
        const struct {
            int col;
            const char *v;
            bool always;
        } set[] = {{c_addr, address, true},
                   {pc, portbuf, true},
                   {c_saddr, address, false},
                   {c_sport, portbuf, false}};
        for (size_t k = 0; k < sizeof set / sizeof set[0]; k++) {
            if (set[k].col < 0 || (size_t)set[k].col >= fields.len)
                continue;
            /* the imaging columns only when the line fills them: empty,
             * they already follow address and port */
            if (!set[k].always && !*fields.ptr[set[k].col])
                continue;
            free(fields.ptr[set[k].col]);
            fields.ptr[set[k].col] = ks_strdup(set[k].v);
        }
        for (size_t i = 0; i < fields.len; i++) {
            if (i)
                ks_buf_appends(&out, ",");
            csv_field(&out, fields.ptr[i], i == 0);
        }
        ks_buf_printf(&out, "%s%s", cr ? "\r" : "", nl);
        fields_free(&fields);
    }
    fields_free(&header);
    free(header.ptr);
    free(fields.ptr);
    int rc = found ? write_switched(path, name, address, port, &out, err) : -1;
    if (!found)
        ks_error_set(err, KS_E_USAGE, 0, "no server '%s' in %s", name, path);
    ks_buf_free(&out);
    return rc;
}
