/* test_inventory.c: the inventory.csv parser. */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ks_buf.h"
#include "ks_error.h"
#include "ks_fs.h"
#include "ks_inventory.h"
#include "ks_mem.h"
#include "ks_test.h"

static char local_login[256];

/* Parse a corpus file under the name "inventory.csv". */
static ks_inventory *parse_file(const char *rel, ks_error *err)
{
    size_t len;
    char *text = ks_test_read(rel, &len);
    ks_error_clear(err);
    ks_inventory *inv = ks_inventory_parse(text, len, "inventory.csv", err);
    free(text);
    if (!inv && err->code == KS_OK)
        fprintf(stderr, "  %s: NULL without an error\n", rel);
    return inv;
}

static ks_inventory *parse_text(const char *text, ks_error *err)
{
    ks_error_clear(err);
    return ks_inventory_parse(text, strlen(text), "inventory.csv", err);
}

static size_t count_lines(const char *s)
{
    size_t n = *s ? 1 : 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The message must contain want; print it when it does not. */
#define CHECK_MSG(err, want)                                                                       \
    do {                                                                                           \
        if (!strstr((err).message, (want)))                                                        \
            fprintf(stderr, "  message:\n%s\n  lacks \"%s\"\n", (err).message, (want));            \
        KS_CHECK(strstr((err).message, (want)) != NULL);                                           \
    } while (0)

static void check_tags(const ks_server *s, const char *const *want, size_t n)
{
    KS_CHECK(s->ntags == n);
    for (size_t i = 0; i < n && i < s->ntags; i++)
        KS_CHECK_STR(s->tags[i], want[i]);
}

KS_TEST(every_column)
{
    ks_error err;
    ks_inventory *inv = parse_file("inventory/full.csv", &err);
    KS_CHECK(inv != NULL);
    if (!inv) {
        fprintf(stderr, "  %s\n", err.message);
        return;
    }
    KS_CHECK(inv->count == 4);
    if (inv->count != 4) {
        ks_inventory_free(inv);
        return;
    }
    const ks_server *s = &inv->servers[0];
    KS_CHECK_STR(s->name, "web01");
    KS_CHECK_STR(s->address, "192.0.2.10");
    KS_CHECK(s->method == KS_METHOD_SSH);
    KS_CHECK(s->port == 22);
    KS_CHECK_STR(s->user, "kvmshift");
    KS_CHECK_STR(s->key, "keys/id_ed25519");
    KS_CHECK_STR(s->role, "web");
    KS_CHECK_STR(s->group, "shop");
    KS_CHECK(s->line == 4);
    check_tags(s, (const char *const[]){"prod", "dmz"}, 2);

    s = &inv->servers[1];
    KS_CHECK_STR(s->name, "db-1.example");
    KS_CHECK_STR(s->address, "db1.example.com");
    KS_CHECK(s->method == KS_METHOD_SSH); /* "SSH" */
    KS_CHECK(s->port == 2222);
    KS_CHECK_STR(s->user, "admin");
    KS_CHECK_STR(s->key, "");
    KS_CHECK(s->line == 6);
    check_tags(s, (const char *const[]){"prod", "db", "critical"}, 3);

    s = &inv->servers[2];
    KS_CHECK_STR(s->name, "dns_1");
    KS_CHECK_STR(s->address, "2001:db8::53");
    KS_CHECK(s->port == 22);
    KS_CHECK_STR(s->user, local_login);
    KS_CHECK_STR(s->key, "");
    KS_CHECK_STR(s->role, "infrastructure");
    KS_CHECK_STR(s->group, "");
    KS_CHECK(s->ntags == 0);
    KS_CHECK(s->line == 7);

    /* quoted fields: commas, "" quotes, blanks around the quotes */
    s = &inv->servers[3];
    KS_CHECK_STR(s->name, "mail01");
    KS_CHECK_STR(s->address, "192.0.2.25");
    KS_CHECK(s->port == 22);
    KS_CHECK_STR(s->user, "ops");
    KS_CHECK_STR(s->key, "/etc/kvmshift/mail key");
    KS_CHECK_STR(s->role, "mail, relay");
    KS_CHECK_STR(s->group, "group \"a\"");
    KS_CHECK(s->line == 8);
    check_tags(s, (const char *const[]){"x", "y", "z"}, 3);

    KS_CHECK(ks_inventory_find(inv, "dns_1") == &inv->servers[2]);
    KS_CHECK(ks_inventory_find(inv, "mail01") == &inv->servers[3]);
    KS_CHECK(ks_inventory_find(inv, "DNS_1") == NULL);
    KS_CHECK(ks_inventory_find(inv, "nosuch") == NULL);
    KS_CHECK_STR(ks_method_name(s->method), "ssh");
    ks_inventory_free(inv);
}

KS_TEST(columns_in_another_order)
{
    ks_error err;
    ks_inventory *inv = parse_file("inventory/reordered.csv", &err);
    KS_CHECK(inv != NULL);
    if (!inv) {
        fprintf(stderr, "  %s\n", err.message);
        return;
    }
    KS_CHECK(inv->count == 2);
    if (inv->count == 2) {
        const ks_server *s = &inv->servers[0];
        KS_CHECK_STR(s->name, "app1");
        KS_CHECK_STR(s->address, "10.0.0.1");
        KS_CHECK(s->port == 2022);
        KS_CHECK_STR(s->user, "ops");
        KS_CHECK_STR(s->key, "");
        KS_CHECK_STR(s->role, "");
        KS_CHECK_STR(s->group, "");
        check_tags(s, (const char *const[]){"a", "b"}, 2);
        s = &inv->servers[1];
        KS_CHECK_STR(s->name, "app2");
        KS_CHECK(s->port == 22);
        KS_CHECK_STR(s->user, local_login);
        KS_CHECK(s->ntags == 0);
        KS_CHECK(s->line == 3);
    }
    ks_inventory_free(inv);
}

KS_TEST(only_required_columns)
{
    ks_error err;
    ks_inventory *inv = parse_file("inventory/minimal.csv", &err);
    KS_CHECK(inv != NULL);
    if (!inv)
        return;
    KS_CHECK(inv->count == 2);
    for (size_t i = 0; i < inv->count; i++) {
        const ks_server *s = &inv->servers[i];
        KS_CHECK(s->port == 22);
        KS_CHECK_STR(s->user, local_login);
        KS_CHECK_STR(s->key, "");
        KS_CHECK_STR(s->role, "");
        KS_CHECK_STR(s->group, "");
        KS_CHECK(s->ntags == 0);
        KS_CHECK(s->tags == NULL);
    }
    KS_CHECK_STR(inv->servers[1].address, "h2.example.org");
    ks_inventory_free(inv);

    /* a header and no servers is a valid, empty inventory */
    inv = parse_text("# nothing yet\nname,address,method\n", &err);
    KS_CHECK(inv != NULL);
    if (inv)
        KS_CHECK(inv->count == 0);
    ks_inventory_free(inv);
    ks_inventory_free(NULL);
}

KS_TEST(bom_and_crlf)
{
    ks_error err;
    ks_inventory *inv = parse_file("inventory/bom.csv", &err);
    KS_CHECK(inv != NULL);
    if (inv) {
        KS_CHECK(inv->count == 1);
        KS_CHECK_STR(inv->servers[0].name, "bom1");
        KS_CHECK(inv->servers[0].port == 2200);
    } else {
        fprintf(stderr, "  %s\n", err.message);
    }
    ks_inventory_free(inv);

    inv = parse_file("inventory/crlf.csv", &err);
    KS_CHECK(inv != NULL);
    if (inv) {
        KS_CHECK(inv->count == 2);
        const ks_server *s = &inv->servers[0];
        KS_CHECK_STR(s->name, "win1");
        KS_CHECK_STR(s->address, "10.0.0.1");
        KS_CHECK(s->line == 4);
        check_tags(s, (const char *const[]){"a", "b"}, 2);
        s = &inv->servers[1];
        KS_CHECK_STR(s->name, "win2");
        check_tags(s, (const char *const[]){"c"}, 1); /* no "c\r" */
        KS_CHECK(s->port == 22);
    } else {
        fprintf(stderr, "  %s\n", err.message);
    }
    ks_inventory_free(inv);
}

KS_TEST(every_bad_line_in_one_error)
{
    ks_error err;
    ks_inventory *inv = parse_file("inventory/bad.csv", &err);
    KS_CHECK(inv == NULL);
    ks_inventory_free(inv);
    KS_CHECK(err.code == KS_E_CONFIG);
    KS_CHECK_STR(err.component, "common");
    CHECK_MSG(err, "inventory.csv:4: server name 'bad name!' is not valid");
    CHECK_MSG(err, "inventory.csv:5: address '192.0.2.3 x' of server 'addr1' is not a valid");
    CHECK_MSG(err, "inventory.csv:6: method 'snmp' of server 'snmp1' needs a secrets file");
    CHECK_MSG(err, "inventory.csv:7: port '0' of server 'p0' is not a number from 1 to 65535");
    CHECK_MSG(err, "inventory.csv:8: port '70000' of server 'p70000'");
    CHECK_MSG(err, "inventory.csv:9: port 'abc' of server 'pabc'");
    CHECK_MSG(err, "inventory.csv:10: server name 'good1' is already used on line 3");
    CHECK_MSG(err, "inventory.csv:11: 3 fields where the header names 9 columns");
    CHECK_MSG(err, "inventory.csv:12: a quoted field is not closed");
    CHECK_MSG(err, "inventory.csv:13: server name '-dash' is not valid");
    /* good lines are not mentioned; one problem a line, nothing more */
    KS_CHECK(strstr(err.message, "inventory.csv:3:") == NULL);
    KS_CHECK(strstr(err.message, "inventory.csv:14:") == NULL);
    KS_CHECK(strstr(err.message, "more problems") == NULL);
    KS_CHECK(count_lines(err.message) == 10);
    KS_CHECK(strncmp(err.message, "inventory.csv:4: ", 17) == 0);
}

KS_TEST(several_problems_on_one_line)
{
    ks_error err;
    ks_inventory *inv = parse_text("name,address,method,port\n"
                                   "ok,10.0.0.1,ssh,22\n"
                                   "ok,bad addr,telnet,99999\n",
                                   &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:3: address 'bad addr' of server 'ok'");
    CHECK_MSG(err, "inventory.csv:3: method 'telnet' of server 'ok'");
    CHECK_MSG(err, "inventory.csv:3: port '99999' of server 'ok'");
    CHECK_MSG(err, "inventory.csv:3: server name 'ok' is already used on line 2");
    KS_CHECK(count_lines(err.message) == 4);
    /* equal but for case: one name (their files would be one) */
    inv = parse_text("name,address,method,port\nmail01,10.0.0.1,ssh,22\nMAIL01,10.0.0.2,ssh,22\n",
                     &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:3: server name 'MAIL01' differs only in case from 'mail01' on "
                   "line 2");
}

/* The names' index at a size where its table grows several times: every
 * server found by its exact name only, and a duplicate and a case twin far
 * down the file named against the right earlier line. */
KS_TEST(many_names)
{
    ks_error err;
    ks_buf b;
    ks_buf_init(&b, 1 << 20);
    ks_buf_appends(&b, "name,address,method,port\n");
    for (int i = 0; i < 5000; i++)
        ks_buf_printf(&b, "Srv%04d,10.0.%d.%d,ssh,22\n", i, i / 250, i % 250 + 1);
    ks_inventory *inv = parse_text(ks_buf_str(&b), &err);
    KS_CHECK(inv && inv->count == 5000);
    size_t found = 0;
    for (int i = 0; inv && i < 5000; i++) {
        char name[16], lower[16];
        snprintf(name, sizeof name, "Srv%04d", i);
        snprintf(lower, sizeof lower, "srv%04d", i);
        const ks_server *s = ks_inventory_find(inv, name);
        found += s == &inv->servers[i] && ks_inventory_find(inv, lower) == NULL;
    }
    KS_CHECK(found == 5000);
    KS_CHECK(inv && ks_inventory_find(inv, "Srv5000") == NULL);
    ks_inventory_free(inv);
    ks_buf_appends(&b, "Srv1234,10.9.0.1,ssh,22\nSRV4321,10.9.0.2,ssh,22\n");
    inv = parse_text(ks_buf_str(&b), &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:5002: server name 'Srv1234' is already used on line 1236");
    CHECK_MSG(err, "inventory.csv:5003: server name 'SRV4321' differs only in case from "
                   "'Srv4321' on line 4323");
    KS_CHECK(count_lines(err.message) == 2);
    ks_buf_free(&b);
}

KS_TEST(field_count_and_quotes)
{
    ks_error err;
    ks_inventory *inv = parse_file("inventory/field-count.csv", &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:2: 5 fields where the header names 4 columns (quote a field");
    CHECK_MSG(err, "inventory.csv:3: 3 fields where the header names 4 columns");
    KS_CHECK(count_lines(err.message) == 2);

    inv = parse_file("inventory/unclosed-quote.csv", &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:2: a quoted field is not closed by '\"'");
    CHECK_MSG(err, "inventory.csv:3: text after a closing quote: quote the whole field");
    KS_CHECK(count_lines(err.message) == 2);
}

KS_TEST(header_problems)
{
    ks_error err;
    ks_inventory *inv = parse_file("inventory/unknown-column.csv", &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:1: unknown column 'colour' in the header; the columns are name");
    KS_CHECK(count_lines(err.message) == 1);

    inv = parse_file("inventory/missing-column.csv", &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:2: the header has no 'method' column");
    KS_CHECK(count_lines(err.message) == 1);

    inv = parse_file("inventory/no-header.csv", &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:3: no header line: the first line that is not a comment");

    inv = parse_text("", &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:1: no header line");

    /* a data line where the header should be */
    inv = parse_text("# servers\nweb01,10.0.0.1,ssh\n", &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:2: unknown column 'web01'");
    CHECK_MSG(err, "inventory.csv:2: the header has no 'name' column; the first line that is "
                   "not a comment must name the columns");

    inv = parse_text("name,address,method,NAME\n", &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:1: column 'NAME' appears twice in the header");

    /* column names are case-insensitive and may be quoted */
    inv = parse_text("\"Name\", ADDRESS ,Method\nh1,10.0.0.1,ssh\n", &err);
    KS_CHECK(inv != NULL);
    if (inv)
        KS_CHECK(inv->count == 1);
    ks_inventory_free(inv);

    ks_buf wide;
    ks_buf_init(&wide, 1 << 16);
    ks_buf_appends(&wide, "name,address,method");
    for (int i = 0; i < 70; i++)
        ks_buf_appends(&wide, ",tags");
    ks_buf_appends(&wide, "\n");
    inv = parse_text(ks_buf_str(&wide), &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:1: the header has 73 columns, more than 64");
    ks_buf_free(&wide);
}

KS_TEST(more_than_20_problems)
{
    ks_error err;
    ks_inventory *inv = parse_file("inventory/many-bad-ports.csv", &err);
    KS_CHECK(inv == NULL);
    KS_CHECK(count_lines(err.message) == 21);
    CHECK_MSG(err, "inventory.csv:3: port 'x1' of server 'h01'");
    CHECK_MSG(err, "inventory.csv:22: port 'x20' of server 'h20'");
    KS_CHECK(strstr(err.message, "inventory.csv:23:") == NULL);
    const char *last = strrchr(err.message, '\n');
    KS_CHECK(last && strcmp(last, "\n... and 5 more problems") == 0);
}

/* Long messages: the list holds whole lines only and still ends with the
 * count of those left out, all within the error message. */
KS_TEST(long_problem_list_fits_the_message)
{
    ks_error err;
    ks_inventory *inv = parse_file("inventory/many-bad.csv", &err);
    KS_CHECK(inv == NULL);
    size_t len = strlen(err.message);
    KS_CHECK(len < KS_ERROR_MSG_MAX - 1);
    size_t lines = count_lines(err.message);
    KS_CHECK(lines >= 10 && lines <= 21);
    const char *last = strrchr(err.message, '\n');
    KS_CHECK(last != NULL);
    if (!last)
        return;
    unsigned more = 0;
    KS_CHECK(sscanf(last, "\n... and %u more problems", &more) == 1);
    KS_CHECK(more + (lines - 1) == 30);
    /* every listed line is a problem with its reason, none empty */
    char *copy = strdup(err.message);
    char *save = NULL;
    size_t n = 0;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
        if (n + 1 == lines)
            break;
        KS_CHECK(strncmp(l, "inventory.csv:", 14) == 0);
        KS_CHECK(strstr(l, "server name 'bad!") != NULL);
        size_t ll = strlen(l);
        KS_CHECK(ll > 3 && (strcmp(l + ll - 3, "'-'") == 0 || strcmp(l + ll - 3, "...") == 0));
    }
    KS_CHECK(n + 1 == lines);
    KS_CHECK(strstr(err.message, "\n\n") == NULL);
    free(copy);

    /* one value longer than the whole message: cut short, not lost */
    ks_buf text;
    ks_buf_init(&text, 1 << 20);
    ks_buf_appends(&text, "name,address,method\nok,");
    for (int i = 0; i < 5000; i++)
        ks_buf_appends(&text, "a b");
    ks_buf_appends(&text, ",ssh\n");
    inv = parse_text(ks_buf_str(&text), &err);
    KS_CHECK(inv == NULL);
    KS_CHECK(strncmp(err.message, "inventory.csv:2: address 'a ba ba b", 35) == 0);
    len = strlen(err.message);
    KS_CHECK(len < KS_ERROR_MSG_MAX - 1);
    KS_CHECK(len > 1000);
    KS_CHECK(strcmp(err.message + len - 3, "...") == 0);
    ks_buf_free(&text);
}

KS_TEST(name_rules)
{
    KS_CHECK(ks_server_name_valid("web01"));
    KS_CHECK(ks_server_name_valid("a.b_c-d"));
    KS_CHECK(ks_server_name_valid("_x"));
    KS_CHECK(!ks_server_name_valid(""));
    KS_CHECK(!ks_server_name_valid(".hidden"));
    KS_CHECK(!ks_server_name_valid("-opt"));
    KS_CHECK(!ks_server_name_valid("a/b"));
    KS_CHECK(!ks_server_name_valid("a b"));
    KS_CHECK(!ks_server_name_valid("caf\xc3\xa9"));
    char name[66];
    memset(name, 'n', 64);
    name[64] = '\0';
    KS_CHECK(ks_server_name_valid(name));
    name[64] = 'n';
    name[65] = '\0';
    KS_CHECK(!ks_server_name_valid(name));

    /* an empty name in a data line */
    ks_error err;
    ks_inventory *inv = parse_text("name,address,method\n,10.0.0.1,ssh\n", &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, "inventory.csv:2: server name '' is not valid");
}

KS_TEST(import_method)
{
    ks_error err;
    ks_inventory *inv = parse_text("name,address,method,port\n"
                                   "vm1,,import,\n"
                                   "vm2,192.0.2.7,import,\n"
                                   "web,192.0.2.8,ssh,\n",
                                   &err);
    KS_CHECK(inv != NULL);
    if (!inv)
        return;
    KS_CHECK(inv->count == 3);
    KS_CHECK(inv->servers[0].method == KS_METHOD_IMPORT);
    KS_CHECK_STR(inv->servers[0].address, "");
    KS_CHECK(inv->servers[0].port == 0);
    KS_CHECK(!ks_method_polled(inv->servers[0].method));
    KS_CHECK_STR(ks_method_name(inv->servers[1].method), "import");
    KS_CHECK(inv->servers[2].method == KS_METHOD_SSH && inv->servers[2].port == 22);
    KS_CHECK(ks_method_polled(inv->servers[2].method));
    ks_inventory_free(inv);

    /* an ssh server still needs its address; a bad one is bad for import too */
    KS_CHECK(parse_text("name,address,method\nweb,,ssh\n", &err) == NULL);
    KS_CHECK(strstr(err.message, "inventory.csv:2: address '' of server 'web'") != NULL);
    KS_CHECK(parse_text("name,address,method\nvm1,bad host!,import\n", &err) == NULL);
    KS_CHECK(strstr(err.message, "'bad host!'") != NULL);
}

KS_TEST(snmp_method)
{
    ks_error err;
    ks_inventory *inv = parse_text("name,address,method,port,key\n"
                                   "win1,10.0.0.9,snmp,,snmp/win1.secrets\n"
                                   "sw1,10.0.0.10,SNMP,1161,/etc/kv/sw1\n",
                                   &err);
    KS_CHECK(inv != NULL);
    if (!inv)
        return;
    KS_CHECK(inv->servers[0].method == KS_METHOD_SNMP && inv->servers[0].port == 161);
    KS_CHECK_STR(inv->servers[0].key, "snmp/win1.secrets");
    KS_CHECK(inv->servers[1].port == 1161);
    KS_CHECK(ks_method_polled(KS_METHOD_SNMP));
    KS_CHECK_STR(ks_method_name(KS_METHOD_SNMP), "snmp");
    ks_inventory_free(inv);
    /* the secrets file is required; an address too */
    KS_CHECK(parse_text("name,address,method\nwin2,10.0.0.9,snmp\n", &err) == NULL);
    CHECK_MSG(err, "inventory.csv:2: method 'snmp' of server 'win2' needs a secrets file");
    KS_CHECK(parse_text("name,address,method,key\nwin3,,snmp,s\n", &err) == NULL);
    CHECK_MSG(err, "inventory.csv:2: address '' of server 'win3'");
}

/* Imaging access: the ssh_* columns, or defaults that depend on the
 * method (an snmp line's user and key are SNMP's). */
KS_TEST(ssh_access_columns)
{
    ks_error err;
    ks_inventory *inv =
        parse_text("name,address,method,port,user,key,ssh_address,ssh_port,ssh_user,ssh_key\n"
                   "web,10.0.0.1,ssh,2222,admin,keys/web,,,,\n"
                   "win,10.0.0.2,snmp,,,snmp/win.secrets,,,,\n"
                   "db,10.0.0.3,snmp,1161,snmpuser,snmp/db.secrets,db-admin.lan,2200,root,keys/db\n"
                   "old,,import,,,,10.0.0.4,,ops,\n"
                   "gone,,import,,,,,,,\n",
                   &err);
    KS_CHECK(inv != NULL);
    if (!inv)
        return;
    const ks_ssh_access *a = &inv->servers[0].ssh; /* ssh: the collection's own */
    KS_CHECK_STR(a->address, "10.0.0.1");
    KS_CHECK(a->port == 2222);
    KS_CHECK_STR(a->user, "admin");
    KS_CHECK_STR(a->key, "keys/web");
    a = &inv->servers[1].ssh; /* snmp: SSH's defaults, not SNMP's user/key */
    KS_CHECK_STR(a->address, "10.0.0.2");
    KS_CHECK(a->port == 22);
    KS_CHECK_STR(a->user, local_login);
    KS_CHECK_STR(a->key, "");
    a = &inv->servers[2].ssh; /* every column given */
    KS_CHECK_STR(a->address, "db-admin.lan");
    KS_CHECK(a->port == 2200);
    KS_CHECK_STR(a->user, "root");
    KS_CHECK_STR(a->key, "keys/db");
    KS_CHECK(inv->servers[2].port == 1161); /* collection untouched */
    KS_CHECK_STR(inv->servers[2].user, "snmpuser");
    a = &inv->servers[3].ssh; /* import with an ssh address */
    KS_CHECK_STR(a->address, "10.0.0.4");
    KS_CHECK_STR(a->user, "ops");
    KS_CHECK_STR(inv->servers[4].ssh.address, ""); /* none: p2v says so */
    ks_inventory_free(inv);
    KS_CHECK(parse_text("name,address,method,ssh_port\nx,10.0.0.1,ssh,70000\n", &err) == NULL);
    CHECK_MSG(err, "inventory.csv:2: ssh_port '70000' of server 'x' is not a number");
    KS_CHECK(parse_text("name,address,method,ssh_address\nx,10.0.0.1,ssh,bad host\n", &err) ==
             NULL);
    CHECK_MSG(err, "ssh_address 'bad host' of server 'x' is not a valid");
}

KS_TEST(load_from_file)
{
    ks_error err;
    ks_inventory *inv = ks_inventory_load(KS_TEST_DATA "/inventory/minimal.csv", &err);
    KS_CHECK(inv != NULL);
    if (inv)
        KS_CHECK(inv->count == 2);
    ks_inventory_free(inv);

    inv = ks_inventory_load(KS_TEST_DATA "/inventory/bad.csv", &err);
    KS_CHECK(inv == NULL);
    CHECK_MSG(err, KS_TEST_DATA "/inventory/bad.csv:6: method 'snmp'");

    inv = ks_inventory_load(KS_TEST_DATA "/inventory/no-such.csv", &err);
    KS_CHECK(inv == NULL);
    KS_CHECK(err.code == KS_E_IO);
    CHECK_MSG(err, "no-such.csv");
}

/* Write text to a new temporary file; its path (static). */
static const char *temp_inventory(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/ks-test-inv-XXXXXX");
    int fd = mkstemp(path);
    KS_CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

KS_TEST(set_access)
{
    ks_error err;
    /* a comment, CRLF, a quoted field, imaging columns filled on one line */
    const char *path = temp_inventory("# lab\r\n"
                                      "name,address,method,port,tags,ssh_address,ssh_port\r\n"
                                      "web,10.0.0.1,ssh,22,\"a, b\",,\r\n"
                                      "db,10.0.0.2,ssh,2222,,10.9.9.9,22\r\n"
                                      "mail,10.0.0.3,ssh,,,,");
    KS_CHECK(ks_inventory_set_access(path, "db", "127.0.0.5", 2201, &err) == 0);
    size_t len;
    KS_AUTOFREE char *t = ks_read_file(path, 1 << 20, &len, &err);
    KS_CHECK_STR(t, "# lab\r\n"
                    "name,address,method,port,tags,ssh_address,ssh_port\r\n"
                    "web,10.0.0.1,ssh,22,\"a, b\",,\r\n"
                    "db,127.0.0.5,ssh,2201,,127.0.0.5,2201\r\n"
                    "mail,10.0.0.3,ssh,,,,");
    /* the imaging columns stay empty when they were */
    KS_CHECK(ks_inventory_set_access(path, "web", "127.0.0.6", 22, &err) == 0);
    ks_inventory *inv = ks_inventory_load(path, &err);
    KS_CHECK(inv != NULL);
    const ks_server *w = inv ? ks_inventory_find(inv, "web") : NULL;
    KS_CHECK(w && strcmp(w->address, "127.0.0.6") == 0 && w->port == 22 &&
             strcmp(w->ssh.address, "127.0.0.6") == 0 && w->ntags == 2);
    ks_inventory_free(inv);
    KS_CHECK(ks_inventory_set_access(path, "nosuch", "127.0.0.6", 22, &err) < 0);
    KS_CHECK(err.code == KS_E_USAGE);
    unlink(path);

    /* no port column: one is added, empty on the other lines */
    path = temp_inventory("name,address,method\nweb,10.0.0.1,ssh\ndb,10.0.0.2,ssh\n");
    KS_CHECK(ks_inventory_set_access(path, "web", "127.0.0.5", 2201, &err) == 0);
    KS_AUTOFREE char *t2 = ks_read_file(path, 1 << 20, &len, &err);
    KS_CHECK_STR(t2, "name,address,method,port\nweb,127.0.0.5,ssh,2201\ndb,10.0.0.2,ssh,\n");
    unlink(path);

    /* an inventory that does not parse is left alone */
    path = temp_inventory("name,address,method\nweb,10.0.0.1,ssh\nbad,10.0.0.2\n");
    KS_CHECK(ks_inventory_set_access(path, "web", "127.0.0.5", 22, &err) < 0);
    KS_AUTOFREE char *t3 = ks_read_file(path, 1 << 20, &len, &err);
    KS_CHECK_STR(t3, "name,address,method\nweb,10.0.0.1,ssh\nbad,10.0.0.2\n");
    unlink(path);
}

int main(void)
{
    struct passwd *pw = getpwuid(geteuid());
    const char *u = pw && pw->pw_name ? pw->pw_name : getenv("USER");
    snprintf(local_login, sizeof local_login, "%s", u && *u ? u : "root");

    KS_RUN(every_column);
    KS_RUN(columns_in_another_order);
    KS_RUN(only_required_columns);
    KS_RUN(bom_and_crlf);
    KS_RUN(every_bad_line_in_one_error);
    KS_RUN(several_problems_on_one_line);
    KS_RUN(many_names);
    KS_RUN(field_count_and_quotes);
    KS_RUN(header_problems);
    KS_RUN(more_than_20_problems);
    KS_RUN(long_problem_list_fits_the_message);
    KS_RUN(name_rules);
    KS_RUN(import_method);
    KS_RUN(snmp_method);
    KS_RUN(ssh_access_columns);
    KS_RUN(load_from_file);
    KS_RUN(set_access);
    return ks_test_summary();
}
