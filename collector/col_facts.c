/* col_facts.c: the facts script run once per server, and the parser that
 * turns its output into the facts JSON (schema in col_facts.h and README).
 *
 * The parser never trusts the text: every number is checked, every string
 * is made valid UTF-8 before it reaches jansson, unknown lines are skipped,
 * and a missing or mangled section only leaves its members empty or null.
 */
#include "col_facts.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "col_proc.h"
#include "ks_buf.h"
#include "ks_mem.h"
#include "ks_parse.h"
#include "ks_vector.h"

/* The script is one subshell, so a persistent shell reads it whole before
 * running any of it and keeps none of its variables. Its stdin is /dev/null
 * (no probe can swallow the lines that follow it) and its stderr is
 * discarded. Every probe has a fallback for old or minimal servers; each
 * section is preceded by a blank line so that a file without a final newline
 * cannot hide the next header. Probes that can hang on a sick server (df on
 * a dead mount, lsblk on a dying disk) run under timeout(1) when present
 * (15 s; 40 s for systemctl's lists, which a slow or emulated machine takes
 * tens of seconds to walk), and df looks at local file systems only. */
const char col_facts_command[] =
    "(\n"
    "export LC_ALL=C\n"
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH\n"
    "T=\n"
    "U=\n"
    "command -v timeout >/dev/null && T='timeout 15' && U='timeout 40'\n"
    "s() { printf '\\n@@KS %s\\n' \"$1\"; }\n"
    "s hostname; hostname || uname -n\n"
    "s date; date -u +%Y-%m-%dT%H:%M:%SZ\n"
    "s uname; printf 'kernel=%s\\narch=%s\\n' \"$(uname -r)\" \"$(uname -m)\"\n"
    "if [ -r /etc/os-release ]; then s os-release; cat /etc/os-release\n"
    "elif [ -r /usr/lib/os-release ]; then s os-release; cat /usr/lib/os-release\n"
    "else\n"
    "  for f in redhat-release SuSE-release debian_version; do\n"
    "    [ -r \"/etc/$f\" ] && { s \"$f\"; cat \"/etc/$f\"; }\n"
    "  done\n"
    "fi\n"
    "s cpuinfo; cat /proc/cpuinfo\n"
    "s cpufreq; cat /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq\n"
    "s meminfo; cat /proc/meminfo\n"
    "c=NAME,KNAME,PKNAME,TYPE,SIZE,FSTYPE,MOUNTPOINT,MODEL,ROTA,TRAN\n"
    "if o=$($T lsblk -J -b -o $c); then s lsblk; printf '%s\\n' \"$o\"\n"
    "elif o=$($T lsblk -P -b -o $c) ||\n"
    "  o=$($T lsblk -P -b -o NAME,KNAME,TYPE,SIZE,FSTYPE,MOUNTPOINT,MODEL,ROTA)\n"
    "then s lsblk-pairs; printf '%s\\n' \"$o\"\n"
    "else s partitions; cat /proc/partitions\n"
    "fi\n"
    "o=$($T df -P -T -B1 -l)\n"
    "if [ -n \"$o\" ]; then s df; printf '%s\\n' \"$o\"; else s df-k; $T df -P -T -k -l; fi\n"
    "s mounts\n"
    "while read -r dev mnt typ rest; do\n"
    "  case $typ in nfs|nfs4|cifs|smb3|smbfs) printf '%s %s %s\\n' \"$dev\" \"$mnt\" \"$typ\";; "
    "esac\n"
    "done </proc/mounts\n"
    "s nics\n"
    "for d in /sys/class/net/*; do\n"
    "  [ -d \"$d\" ] || continue\n"
    "  p=0; [ -e \"$d/device\" ] && p=1\n"
    "  m=$(cat \"$d/address\"); v=$(cat \"$d/speed\"); o=$(cat \"$d/operstate\")\n"
    "  printf '%s %s %s %s %s\\n' \"${d##*/}\" \"${m:--}\" \"${v:--}\" \"${o:--}\" \"$p\"\n"
    "done\n"
    "s ip-addr; $T ip -o addr show\n"
    "s boot; if [ -d /sys/firmware/efi ]; then echo uefi; else echo bios; fi\n"
    "o=$($T systemd-detect-virt)\n"
    "if [ -n \"$o\" ]; then s virt; printf '%s\\n' \"$o\"\n"
    "else\n"
    "  s dmi; d=/sys/class/dmi/id\n"
    "  printf 'sys_vendor=%s\\nproduct_name=%s\\n' \"$(cat $d/sys_vendor)\" "
    "\"$(cat $d/product_name)\"\n"
    "fi\n"
    "o=$($T ss -Hltnp); [ -n \"$o\" ] || o=$($T ss -ltnp)\n"
    "if [ -n \"$o\" ]; then s ss; printf '%s\\n' \"$o\"\n"
    "else s proc-tcp; cat /proc/net/tcp /proc/net/tcp6\n"
    "fi\n"
    "o=$($U systemctl list-unit-files --type=service --state=enabled --no-legend --no-pager)\n"
    "if [ -n \"$o\" ]; then s systemctl; printf '%s\\n' \"$o\"\n"
    "elif [ -d /run/systemd/system ]; then s systemctl-failed\n"
    "else\n"
    "  s rc-services\n"
    "  for f in /etc/rc[2-5].d/S*; do [ -e \"$f\" ] && printf '%s\\n' \"${f##*/}\"; done\n"
    "fi\n"
    "o=$($U systemctl list-units --type=service --all --no-legend --plain --no-pager)\n"
    "[ -n \"$o\" ] && { s units; printf '%s\\n' \"$o\"; }\n"
    "s usb\n"
    "for d in /sys/bus/usb/devices/*; do\n"
    "  [ -r \"$d/idVendor\" ] || continue\n"
    "  printf 'dev=%s\\nvendor=%s\\nproduct_id=%s\\nclass=%s\\nmanufacturer=%s\\nproduct=%s\\n' "
    "\\\n"
    "    \"${d##*/}\" \"$(cat \"$d/idVendor\")\" \"$(cat \"$d/idProduct\")\" "
    "\"$(cat \"$d/bDeviceClass\")\" \\\n"
    "    \"$(cat \"$d/manufacturer\")\" \"$(cat \"$d/product\")\"\n"
    "done\n"
    "s fc\n"
    "for d in /sys/class/fc_host/*; do\n"
    "  [ -d \"$d\" ] && printf '%s %s\\n' \"${d##*/}\" \"$(cat \"$d/port_name\")\"\n"
    "done\n"
    "s pci-display\n"
    "for d in /sys/bus/pci/devices/*; do\n"
    "  c=; read -r c <\"$d/class\"\n"
    "  case $c in 0x03*) printf '%s %s %s %s\\n' \"${d##*/}\" \"$c\" \"$(cat \"$d/vendor\")\" "
    "\"$(cat \"$d/device\")\";; esac\n"
    "done\n"
    ") </dev/null 2>/dev/null\n"
    "printf '\\n" COL_END_MARKER "\\n'\n";

/* ------------------------------------------------------------------------ */
/* Hardware tables. */

/* USB vendors whose devices on a server are, in practice, software licence
 * dongles. The one place to add a vendor: the USB list, the "dongle" flag
 * and the blocker sentence all come from here. */
static const struct {
    const char *vendor_id; /* lowercase hex, as in /sys idVendor */
    const char *name;
} dongle_vendors[] = {
    {"0529", "SafeNet HASP"},     /* Aladdin Knowledge Systems, now Thales */
    {"04b9", "SafeNet Sentinel"}, /* Rainbow Technologies */
    {"064f", "WIBU CodeMeter"},   /* WIBU-Systems */
    {"096e", "Feitian"},          /* Feitian ROCKEY / ePass */
    {"0d7a", "MARX CryptoBox"},   /* MARX Software Security */
    {"1bc0", "SenseLock"},        /* SenseLock / Beijing Senseshield */
};

/* Display controllers that are not GPUs worth a blocker: the onboard VGA
 * of server BMCs (emulated by any hypervisor), and the emulated adapters of
 * sources that are already virtual machines. device_id NULL: any device. */
static const struct {
    const char *vendor_id;
    const char *device_id;
} plain_vga[] = {
    {"102b", NULL},   /* Matrox G200 family: HPE iLO, Dell iDRAC, Lenovo XCC */
    {"1a03", NULL},   /* ASPEED AST BMCs (Supermicro, Gigabyte, ...) */
    {"1002", "515e"}, /* ATI ES1000, onboard on older HP and Dell servers */
    {"1002", "5159"}, /* ATI Radeon 7000/VE, onboard on older Dell servers */
    {"1234", NULL},   /* QEMU standard VGA */
    {"1b36", NULL},   /* Red Hat QXL */
    {"1af4", NULL},   /* virtio-gpu */
    {"15ad", NULL},   /* VMware SVGA */
    {"80ee", NULL},   /* VirtualBox VGA */
    {"1414", NULL},   /* Hyper-V synthetic video */
    {"1013", NULL},   /* Cirrus Logic, emulated by QEMU and Xen */
};

/* File system types left out of "filesystems": in-memory and kernel file
 * systems, read-only images (snaps, ISO), and network file systems, which
 * are listed under "nfs_mounts" instead. Blank-separated words. */
static const char pseudo_fs[] =
    "tmpfs devtmpfs ramfs rootfs overlay aufs squashfs iso9660 udf "
    "proc sysfs devpts cgroup cgroup2 debugfs securityfs pstore bpf tracefs hugetlbfs mqueue "
    "configfs fusectl autofs binfmt_misc rpc_pipefs efivarfs nsfs selinuxfs "
    "fuse.lxcfs fuse.gvfsd-fuse fuse.snapfuse "
    "nfs nfs4 cifs smb3 smbfs";

static const char net_fs[] = "nfs nfs4 cifs smb3 smbfs";

/* Lists stop at this many entries, so that a server printing without end
 * (or a hostile one) cannot make the de-duplicating searches quadratic in
 * the 8 MiB an answer may take. Real servers stay far below it. */
#define MAX_ITEMS 20000

/* ------------------------------------------------------------------------ */
/* Sections of the output. */

enum {
    SEC_HOSTNAME,
    SEC_DATE,
    SEC_UNAME,
    SEC_OS_RELEASE,
    SEC_REDHAT_RELEASE,
    SEC_SUSE_RELEASE,
    SEC_DEBIAN_VERSION,
    SEC_CPUINFO,
    SEC_CPUFREQ,
    SEC_MEMINFO,
    SEC_LSBLK,
    SEC_LSBLK_PAIRS,
    SEC_PARTITIONS,
    SEC_DF,
    SEC_DF_K,
    SEC_MOUNTS,
    SEC_NICS,
    SEC_IP_ADDR,
    SEC_BOOT,
    SEC_VIRT,
    SEC_DMI,
    SEC_SS,
    SEC_PROC_TCP,
    SEC_SYSTEMCTL,
    SEC_SYSTEMCTL_FAILED,
    SEC_RC_SERVICES,
    SEC_UNITS,
    SEC_USB,
    SEC_FC,
    SEC_PCI_DISPLAY,
    SEC_COUNT
};

static const char *const sec_names[SEC_COUNT] = {
    [SEC_HOSTNAME] = "hostname",
    [SEC_DATE] = "date",
    [SEC_UNAME] = "uname",
    [SEC_OS_RELEASE] = "os-release",
    [SEC_REDHAT_RELEASE] = "redhat-release",
    [SEC_SUSE_RELEASE] = "SuSE-release",
    [SEC_DEBIAN_VERSION] = "debian_version",
    [SEC_CPUINFO] = "cpuinfo",
    [SEC_CPUFREQ] = "cpufreq",
    [SEC_MEMINFO] = "meminfo",
    [SEC_LSBLK] = "lsblk",
    [SEC_LSBLK_PAIRS] = "lsblk-pairs",
    [SEC_PARTITIONS] = "partitions",
    [SEC_DF] = "df",
    [SEC_DF_K] = "df-k",
    [SEC_MOUNTS] = "mounts",
    [SEC_NICS] = "nics",
    [SEC_IP_ADDR] = "ip-addr",
    [SEC_BOOT] = "boot",
    [SEC_VIRT] = "virt",
    [SEC_DMI] = "dmi",
    [SEC_SS] = "ss",
    [SEC_PROC_TCP] = "proc-tcp",
    [SEC_SYSTEMCTL] = "systemctl",
    [SEC_SYSTEMCTL_FAILED] = "systemctl-failed",
    [SEC_RC_SERVICES] = "rc-services",
    [SEC_UNITS] = "units",
    [SEC_USB] = "usb",
    [SEC_FC] = "fc",
    [SEC_PCI_DISPLAY] = "pci-display",
};

typedef struct sections {
    bool have[SEC_COUNT];
    ks_cursor body[SEC_COUNT];
    size_t headers; /* "@@KS" lines seen, known or not */
} sections;

/* ------------------------------------------------------------------------ */
/* Byte-range helpers. */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static ks_cursor cur_trim(ks_cursor c)
{
    while (c.p < c.end && is_space(*c.p))
        c.p++;
    while (c.end > c.p && is_space(c.end[-1]))
        c.end--;
    return c;
}

static bool cur_is(ks_cursor c, const char *s)
{
    return ks_cur_equals(&c, s);
}

static bool cur_starts(ks_cursor c, const char *s)
{
    size_t n = strlen(s);
    return ks_cur_len(&c) >= n && memcmp(c.p, s, n) == 0;
}

static bool cur_empty(ks_cursor c)
{
    return ks_cur_len(&c) == 0;
}

static char *cur_dup(ks_cursor c)
{
    return ks_strndup(c.p, ks_cur_len(&c));
}

/* Next line with its '\r' and surrounding blanks removed. */
static bool next_line(ks_cursor *c, ks_cursor *line)
{
    if (!ks_cur_line(c, line))
        return false;
    *line = cur_trim(*line);
    return true;
}

/* First non-blank line of a section, or an empty range. */
static ks_cursor first_line(ks_cursor body)
{
    ks_cursor line;
    while (next_line(&body, &line))
        if (!cur_empty(line))
            return line;
    return (ks_cursor){NULL, NULL};
}

/* Next blank-separated word as a range; false at the end of the line. */
static bool next_word(ks_cursor *c, ks_cursor *w)
{
    const char *p;
    size_t n;
    if (!ks_cur_word(c, &p, &n))
        return false;
    *w = ks_cursor_make(p, n);
    return true;
}

/* Is c one of the blank-separated words of list? */
static bool cur_in(ks_cursor c, const char *list)
{
    ks_cursor l = ks_cursor_make(list, strlen(list)), w;
    while (next_word(&l, &w))
        if (ks_cur_len(&w) == ks_cur_len(&c) && memcmp(w.p, c.p, ks_cur_len(&c)) == 0)
            return true;
    return false;
}

/* Split "key<sep>value", both trimmed; false when sep is missing. */
static bool split_at(ks_cursor line, char sep, ks_cursor *key, ks_cursor *val)
{
    const char *s = memchr(line.p, sep, ks_cur_len(&line));
    if (!s)
        return false;
    *key = cur_trim((ks_cursor){line.p, s});
    *val = cur_trim((ks_cursor){s + 1, line.end});
    return true;
}

/* The whole range is one unsigned decimal. */
static bool cur_u64(ks_cursor c, uint64_t *v)
{
    c = cur_trim(c);
    if (!ks_cur_u64(&c, v))
        return false;
    return ks_cur_eof(&c);
}

/* The whole range is a signed decimal of at most 2^31 - 1. */
static bool cur_long(ks_cursor c, long *v)
{
    c = cur_trim(c);
    bool neg = ks_cur_accept(&c, "-");
    uint64_t u;
    if (!ks_cur_u64(&c, &u) || !ks_cur_eof(&c) || u > (uint64_t)INT32_MAX)
        return false;
    *v = neg ? -(long)u : (long)u;
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The whole range is hex (an optional 0x, at most 16 digits). */
static bool cur_hex(ks_cursor c, uint64_t *v)
{
    c = cur_trim(c);
    if (!ks_cur_accept(&c, "0x"))
        ks_cur_accept(&c, "0X");
    size_t n = ks_cur_len(&c);
    if (n == 0 || n > 16)
        return false;
    uint64_t r = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hex_digit(c.p[i]);
        if (d < 0)
            return false;
        r = r << 4 | (uint64_t)d;
    }
    *v = r;
    return true;
}

/* A hardware id ("0x10de", "10DE") as 4 lowercase hex digits, or false. */
static bool hw_id(ks_cursor c, char out[5])
{
    uint64_t v;
    if (!cur_hex(c, &v) || v > 0xffff)
        return false;
    snprintf(out, 5, "%04x", (unsigned)v);
    return true;
}

/* ------------------------------------------------------------------------ */
/* JSON helpers. */

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* A JSON string from untrusted bytes: invalid UTF-8 and control characters
 * become '?', so a strange byte from a server never loses the whole key. */
static json_t *jstr(const char *p, size_t n)
{
    char *s = ks_malloc(n + 1);
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)p;
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) {
            s[o++] = u[i] < 0x20 || u[i] == 0x7f ? '?' : (char)u[i];
            i++;
            continue;
        }
        size_t k = utf8_seq(u + i, n - i);
        if (k == 0) {
            s[o++] = '?';
            i++;
            continue;
        }
        memcpy(s + o, u + i, k);
        o += k;
        i += k;
    }
    json_t *j = json_stringn(s, o);
    free(s);
    return j ? j : json_null();
}

static json_t *jstr_c(const char *s)
{
    return s ? jstr(s, strlen(s)) : json_null();
}

/* A trimmed range as a string; null when empty or "-". */
static json_t *jstr_or_null(ks_cursor c)
{
    c = cur_trim(c);
    if (cur_empty(c) || cur_is(c, "-"))
        return json_null();
    return jstr(c.p, ks_cur_len(&c));
}

/* A trimmed C string (lsblk pads disk models with blanks); null when
 * empty. */
static json_t *jstr_c_or_null(const char *s)
{
    return s ? jstr_or_null(ks_cursor_make(s, strlen(s))) : json_null();
}

static json_t *jint_u64(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX ? json_integer((json_int_t)v) : json_null();
}

/* Set o[key] = v, taking v; a NULL v becomes null so no key is ever lost. */
static void put(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v ? v : json_null());
}

static const char *obj_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Find the object of array arr whose key equals value, or NULL. */
static json_t *find_by(json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *v = obj_str(e, key);
        if (v && strcmp(v, value) == 0)
            return e;
    }
    return NULL;
}

static bool array_has_str(const json_t *arr, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *v = json_string_value(e);
        if (v && strcmp(v, s) == 0)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Splitting the output. */

static void sections_split(const char *text, size_t len, sections *s)
{
    memset(s, 0, sizeof *s);
    ks_cursor c = ks_cursor_make(text, len), raw;
    int cur = -1;
    while (ks_cur_line(&c, &raw)) {
        ks_cursor line = cur_trim(raw);
        if (!ks_cur_accept(&line, "@@KS "))
            continue;
        if (cur >= 0)
            s->body[cur].end = raw.p;
        cur = -1;
        s->headers++;
        line = cur_trim(line);
        if (cur_is(line, "end"))
            return;
        for (int i = 0; i < SEC_COUNT; i++) {
            /* the first of duplicated sections wins */
            if (cur_is(line, sec_names[i]) && !s->have[i]) {
                s->have[i] = true;
                s->body[i] = (ks_cursor){c.p, c.end};
                cur = i;
                break;
            }
        }
    }
    /* without an end marker the last section runs to the end of the text */
}

/* ------------------------------------------------------------------------ */
/* Host, date, OS. */

static json_t *parse_hostname(const sections *s)
{
    if (!s->have[SEC_HOSTNAME])
        return json_null();
    return jstr_or_null(first_line(s->body[SEC_HOSTNAME]));
}

/* "2024-05-01T12:00:00Z" exactly, or null. */
static json_t *parse_date(const sections *s)
{
    if (!s->have[SEC_DATE])
        return json_null();
    ks_cursor l = first_line(s->body[SEC_DATE]);
    static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
    if (ks_cur_len(&l) != sizeof pattern - 1)
        return json_null();
    for (size_t i = 0; i < sizeof pattern - 1; i++) {
        bool ok = pattern[i] == 'd' ? l.p[i] >= '0' && l.p[i] <= '9' : l.p[i] == pattern[i];
        if (!ok)
            return json_null();
    }
    int month = (l.p[5] - '0') * 10 + (l.p[6] - '0');
    int day = (l.p[8] - '0') * 10 + (l.p[9] - '0');
    if (month < 1 || month > 12 || day < 1 || day > 31)
        return json_null();
    return jstr(l.p, ks_cur_len(&l));
}

/* Value of a "KEY=value" line of os-release: shell quoting removed. */
static char *unquote(ks_cursor v)
{
    ks_buf b;
    ks_buf_init(&b, 1 << 16);
    size_t n = ks_cur_len(&v);
    const char *p = v.p;
    if (n && (p[0] == '"' || p[0] == '\'')) {
        char q = p[0];
        for (size_t i = 1; i < n && p[i] != q; i++) {
            if (q == '"' && p[i] == '\\' && i + 1 < n && strchr("\"\\$`", p[i + 1]))
                i++;
            ks_buf_append(&b, &p[i], 1);
        }
    } else {
        ks_buf_append(&b, p, n);
    }
    return ks_buf_steal(&b);
}

/* The word after "release" in "CentOS release 6.10 (Final)", or NULL. */
static char *release_version(ks_cursor line)
{
    ks_cursor w;
    while (next_word(&line, &w)) {
        if (cur_is(w, "release") && next_word(&line, &w))
            return cur_dup(w);
    }
    return NULL;
}

static bool cur_contains(ks_cursor c, const char *s)
{
    size_t n = strlen(s), len = ks_cur_len(&c);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(c.p + i, s, n) == 0)
            return true;
    return false;
}

static json_t *parse_os(const sections *s)
{
    char *id = NULL, *version = NULL, *pretty = NULL, *osname = NULL, *osversion = NULL;
    ks_cursor c, line, key, val;
    if (s->have[SEC_OS_RELEASE]) {
        c = s->body[SEC_OS_RELEASE];
        while (next_line(&c, &line)) {
            if (!split_at(line, '=', &key, &val))
                continue;
            char **dst = cur_is(key, "ID")            ? &id
                         : cur_is(key, "VERSION_ID")  ? &version
                         : cur_is(key, "PRETTY_NAME") ? &pretty
                         : cur_is(key, "NAME")        ? &osname
                         : cur_is(key, "VERSION")     ? &osversion
                                                      : NULL;
            if (dst && !*dst)
                *dst = unquote(val);
        }
        if ((!pretty || !*pretty) && osname && *osname) {
            free(pretty);
            pretty = osversion && *osversion ? ks_asprintf("%s %s", osname, osversion)
                                             : ks_strdup(osname);
        }
    } else if (s->have[SEC_REDHAT_RELEASE]) {
        /* RHEL/CentOS 5 and 6 have no os-release */
        line = first_line(s->body[SEC_REDHAT_RELEASE]);
        if (!cur_empty(line)) {
            static const struct {
                const char *match, *id;
            } ids[] = {{"CentOS", "centos"},       {"Red Hat", "rhel"},
                       {"Oracle", "ol"},           {"Scientific", "scientific"},
                       {"Fedora", "fedora"},       {"Rocky", "rocky"},
                       {"AlmaLinux", "almalinux"}, {"CloudLinux", "cloudlinux"}};
            for (size_t i = 0; i < sizeof ids / sizeof ids[0] && !id; i++)
                if (cur_contains(line, ids[i].match))
                    id = ks_strdup(ids[i].id);
            pretty = cur_dup(line);
            version = release_version(line);
        }
    } else if (s->have[SEC_SUSE_RELEASE]) {
        /* SLES 10 and 11: "SUSE Linux Enterprise Server 11 (x86_64)",
         * "VERSION = 11", "PATCHLEVEL = 4" */
        c = s->body[SEC_SUSE_RELEASE];
        char *patch = NULL;
        while (next_line(&c, &line)) {
            if (cur_empty(line))
                continue;
            if (!pretty) {
                pretty = cur_dup(line);
                id = ks_strdup(cur_contains(line, "openSUSE")  ? "opensuse"
                               : cur_contains(line, "Desktop") ? "sled"
                                                               : "sles");
            } else if (split_at(line, '=', &key, &val)) {
                if (cur_is(key, "VERSION") && !version)
                    version = cur_dup(val);
                else if (cur_is(key, "PATCHLEVEL") && !patch)
                    patch = cur_dup(val);
            }
        }
        if (version && patch && *patch && strcmp(patch, "0") != 0) {
            char *v = ks_asprintf("%s.%s", version, patch);
            free(version);
            version = v;
        }
        free(patch);
    } else if (s->have[SEC_DEBIAN_VERSION]) {
        line = first_line(s->body[SEC_DEBIAN_VERSION]);
        if (!cur_empty(line)) {
            id = ks_strdup("debian");
            version = cur_dup(line);
            pretty = ks_asprintf("Debian GNU/Linux %s", version);
        }
    }

    ks_cursor kernel = {NULL, NULL}, arch = {NULL, NULL};
    if (s->have[SEC_UNAME]) {
        c = s->body[SEC_UNAME];
        while (next_line(&c, &line)) {
            if (!split_at(line, '=', &key, &val))
                continue;
            if (cur_is(key, "kernel") && !kernel.p)
                kernel = val;
            else if (cur_is(key, "arch") && !arch.p)
                arch = val;
        }
    }

    json_t *os = json_object();
    put(os, "id", jstr_c_or_null(id));
    put(os, "version_id", jstr_c_or_null(version));
    put(os, "pretty_name", jstr_c_or_null(pretty));
    put(os, "kernel", jstr_or_null(kernel));
    put(os, "arch", jstr_or_null(arch));
    free(id);
    free(version);
    free(pretty);
    free(osname);
    free(osversion);
    return os;
}

/* ------------------------------------------------------------------------ */
/* CPU. */

typedef struct cpu_pair {
    uint64_t phys, core;
} cpu_pair;

KS_VECTOR(cpu_pair_vec, cpu_pair);
KS_VECTOR(u64_vec, uint64_t);

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_pair(const void *a, const void *b)
{
    const cpu_pair *x = a, *y = b;
    if (x->phys != y->phys)
        return x->phys < y->phys ? -1 : 1;
    return x->core < y->core ? -1 : x->core > y->core;
}

static size_t count_distinct_u64(u64_vec *v)
{
    if (v->len == 0)
        return 0;
    ks_qsort(v->ptr, v->len, sizeof v->ptr[0], cmp_u64);
    size_t n = 1;
    for (size_t i = 1; i < v->len; i++)
        n += v->ptr[i] != v->ptr[i - 1];
    return n;
}

static size_t count_distinct_pairs(cpu_pair_vec *v)
{
    if (v->len == 0)
        return 0;
    ks_qsort(v->ptr, v->len, sizeof v->ptr[0], cmp_pair);
    size_t n = 1;
    for (size_t i = 1; i < v->len; i++)
        n += cmp_pair(&v->ptr[i], &v->ptr[i - 1]) != 0;
    return n;
}

/* ARM "CPU implementer" and "CPU part" codes: ARM cpuinfo has no model
 * name. */
static const struct {
    unsigned impl;
    const char *name;
} arm_implementers[] = {
    {0x41, "ARM"},       {0x42, "Broadcom"}, {0x43, "Cavium"}, {0x46, "Fujitsu"},
    {0x48, "HiSilicon"}, {0x4e, "NVIDIA"},   {0x50, "APM"},    {0x51, "Qualcomm"},
    {0x61, "Apple"},     {0xc0, "Ampere"},
};

static const struct {
    unsigned impl, part;
    const char *name;
} arm_parts[] = {
    {0x41, 0xd03, "Cortex-A53"},  {0x41, 0xd07, "Cortex-A57"},  {0x41, 0xd08, "Cortex-A72"},
    {0x41, 0xd0b, "Cortex-A76"},  {0x41, 0xd0c, "Neoverse-N1"}, {0x41, 0xd40, "Neoverse-V1"},
    {0x41, 0xd49, "Neoverse-N2"}, {0x41, 0xd4f, "Neoverse-V2"}, {0x43, 0x0af, "ThunderX2"},
    {0x48, 0xd01, "Kunpeng-920"}, {0x50, 0x000, "X-Gene"},      {0xc0, 0xac3, "AmpereOne"},
};

/* Copy with runs of blanks collapsed ("Intel(R) Xeon(R) CPU  E5-2670"). */
static char *collapse_blanks(ks_cursor c)
{
    c = cur_trim(c);
    char *s = ks_malloc(ks_cur_len(&c) + 1);
    size_t o = 0;
    for (const char *p = c.p; p < c.end; p++) {
        if (*p == ' ' || *p == '\t') {
            if (o && s[o - 1] != ' ')
                s[o++] = ' ';
        } else {
            s[o++] = *p;
        }
    }
    s[o] = '\0';
    return s;
}

/* Nominal MHz from "... @ 2.60GHz" in an x86 model name; 0 if absent. */
static double mhz_from_model(ks_cursor model)
{
    const char *at = NULL;
    for (const char *p = model.p; p < model.end; p++)
        if (*p == '@')
            at = p;
    if (!at)
        return 0;
    ks_cursor c = {at + 1, model.end};
    double v;
    if (!ks_cur_double(&c, &v))
        return 0;
    ks_cur_skip_blanks(&c);
    if (ks_cur_accept(&c, "GHz"))
        v *= 1000;
    else if (!ks_cur_accept(&c, "MHz"))
        return 0;
    return v > 0 && v < 1e6 ? v : 0;
}

static bool has_word(ks_cursor c, const char *word)
{
    ks_cursor w;
    while (next_word(&c, &w))
        if (cur_is(w, word))
            return true;
    return false;
}

typedef struct cpu_scan {
    ks_cursor model, vendor, old_processor, ppc_cpu;
    uint64_t threads, s390_processors, cpu_cores;
    uint64_t impl, part;
    bool have_impl, have_part, hypervisor;
    double max_mhz, clock_mhz;
    u64_vec phys;
    cpu_pair_vec pairs;
    /* the processor block being read */
    bool in_block, blk_phys, blk_core;
    uint64_t phys_id, core_id;
} cpu_scan;

static void cpu_flush(cpu_scan *cs)
{
    if (cs->in_block) {
        if (cs->blk_phys)
            u64_vec_push(&cs->phys, cs->phys_id);
        if (cs->blk_core)
            cpu_pair_vec_push(&cs->pairs, (cpu_pair){cs->blk_phys ? cs->phys_id : 0, cs->core_id});
    }
    cs->blk_phys = cs->blk_core = false;
}

static void cpu_line(cpu_scan *cs, ks_cursor key, ks_cursor val)
{
    uint64_t u;
    double d;
    if (cur_is(key, "processor")) {
        cpu_flush(cs);
        cs->in_block = true;
        cs->threads++;
    } else if (cur_is(key, "model name")) {
        if (!cs->model.p)
            cs->model = val;
    } else if (cur_is(key, "vendor_id")) {
        if (!cs->vendor.p)
            cs->vendor = val;
    } else if (cur_is(key, "physical id")) {
        cs->blk_phys = cur_u64(val, &cs->phys_id);
    } else if (cur_is(key, "core id")) {
        cs->blk_core = cur_u64(val, &cs->core_id);
    } else if (cur_is(key, "cpu cores")) {
        if (cur_u64(val, &u) && u > cs->cpu_cores)
            cs->cpu_cores = u;
    } else if (cur_is(key, "cpu MHz")) {
        ks_cursor v = val;
        if (ks_cur_double(&v, &d) && d > cs->max_mhz && d < 1e6)
            cs->max_mhz = d;
    } else if (cur_is(key, "clock")) {
        /* POWER: "clock : 3425.000000MHz" */
        ks_cursor v = val;
        if (ks_cur_double(&v, &d) && ks_cur_accept(&v, "MHz") && d > cs->clock_mhz && d < 1e6)
            cs->clock_mhz = d;
    } else if (cur_is(key, "Processor")) {
        if (!cs->old_processor.p)
            cs->old_processor = val;
    } else if (cur_is(key, "cpu")) {
        if (!cs->ppc_cpu.p)
            cs->ppc_cpu = val;
    } else if (cur_is(key, "CPU implementer")) {
        if (!cs->have_impl)
            cs->have_impl = cur_hex(val, &cs->impl);
    } else if (cur_is(key, "CPU part")) {
        if (!cs->have_part)
            cs->have_part = cur_hex(val, &cs->part);
    } else if (cur_is(key, "flags")) {
        cs->hypervisor = cs->hypervisor || has_word(val, "hypervisor");
    } else if (cur_is(key, "# processors")) {
        /* s390x has one line for all CPUs */
        if (cur_u64(val, &u))
            cs->s390_processors = u;
    }
}

static const char *x86_vendor(ks_cursor v)
{
    static const struct {
        const char *id, *name;
    } vendors[] = {{"GenuineIntel", "Intel"},
                   {"AuthenticAMD", "AMD"},
                   {"HygonGenuine", "Hygon"},
                   {"CentaurHauls", "Centaur"},
                   {"Shanghai", "Zhaoxin"}};
    for (size_t i = 0; i < sizeof vendors / sizeof vendors[0]; i++)
        if (cur_is(v, vendors[i].id))
            return vendors[i].name;
    return NULL;
}

static json_t *parse_cpu(const sections *s, bool *hypervisor)
{
    cpu_scan cs = {0};
    if (s->have[SEC_CPUINFO]) {
        ks_cursor c = s->body[SEC_CPUINFO], line, key, val;
        while (next_line(&c, &line))
            if (split_at(line, ':', &key, &val))
                cpu_line(&cs, key, val);
        cpu_flush(&cs);
    }
    *hypervisor = cs.hypervisor;
    uint64_t threads = cs.threads ? cs.threads : cs.s390_processors;
    uint64_t nphys = count_distinct_u64(&cs.phys);
    uint64_t sockets = nphys ? nphys : 1;
    uint64_t cores = count_distinct_pairs(&cs.pairs);
    if (cores == 0)
        cores = cs.cpu_cores && nphys && cs.cpu_cores <= threads ? nphys * cs.cpu_cores : threads;
    if (cores > threads)
        cores = threads;
    u64_vec_reset(&cs.phys);
    cpu_pair_vec_reset(&cs.pairs);

    /* model: x86 model name, else the ARM core's name, else what the
     * kernel prints for old ARM and POWER */
    char *model = NULL;
    const char *vendor = NULL;
    const char *impl_name = NULL, *part_name = NULL;
    if (cs.have_impl) {
        for (size_t i = 0; i < sizeof arm_implementers / sizeof arm_implementers[0]; i++)
            if (arm_implementers[i].impl == cs.impl)
                impl_name = arm_implementers[i].name;
        for (size_t i = 0; cs.have_part && i < sizeof arm_parts / sizeof arm_parts[0]; i++)
            if (arm_parts[i].impl == cs.impl && arm_parts[i].part == cs.part)
                part_name = arm_parts[i].name;
    }
    if (cs.model.p && !cur_empty(cs.model)) {
        model = collapse_blanks(cs.model);
    } else if (part_name) {
        model = ks_asprintf("%s %s", impl_name ? impl_name : "ARM", part_name);
    } else if (cs.old_processor.p && !cur_empty(cs.old_processor)) {
        model = collapse_blanks(cs.old_processor);
    } else if (cs.ppc_cpu.p && !cur_empty(cs.ppc_cpu)) {
        model = collapse_blanks(cs.ppc_cpu);
    } else if (cs.have_impl) {
        model = cs.have_part ? ks_asprintf("CPU implementer 0x%02x part 0x%03x",
                                           (unsigned)(cs.impl & 0xff), (unsigned)(cs.part & 0xfff))
                             : ks_asprintf("CPU implementer 0x%02x", (unsigned)(cs.impl & 0xff));
    }
    if (cs.vendor.p)
        vendor = x86_vendor(cs.vendor);
    if (!vendor && impl_name)
        vendor = impl_name;
    if (!vendor && cs.ppc_cpu.p && cur_starts(cs.ppc_cpu, "POWER"))
        vendor = "IBM";

    double mhz = cs.model.p ? mhz_from_model(cs.model) : 0;
    if (mhz <= 0 && s->have[SEC_CPUFREQ]) {
        uint64_t khz;
        if (cur_u64(first_line(s->body[SEC_CPUFREQ]), &khz) && khz > 0 && khz < 1000000000)
            mhz = (double)khz / 1000.0;
    }
    if (mhz <= 0)
        mhz = cs.max_mhz;
    if (mhz <= 0)
        mhz = cs.clock_mhz;

    json_t *cpu = json_object();
    put(cpu, "model", jstr_c_or_null(model));
    if (vendor)
        put(cpu, "vendor", jstr_c(vendor));
    else
        put(cpu, "vendor", cs.vendor.p ? jstr_or_null(cs.vendor) : json_null());
    put(cpu, "sockets", threads ? jint_u64(sockets) : json_null());
    put(cpu, "cores", threads ? jint_u64(cores) : json_null());
    put(cpu, "threads", threads ? jint_u64(threads) : json_null());
    /* whole MHz: "cpu MHz: 2596.124" is not more precise than that */
    put(cpu, "mhz", mhz >= 0.5 ? json_real((double)(uint64_t)(mhz + 0.5)) : json_null());
    free(model);
    return cpu;
}

/* ------------------------------------------------------------------------ */
/* Memory. */

static json_t *parse_memory(const sections *s)
{
    json_t *mem = json_object();
    json_t *total = json_null();
    if (s->have[SEC_MEMINFO]) {
        ks_cursor c = s->body[SEC_MEMINFO], line, key, val;
        while (next_line(&c, &line)) {
            if (!split_at(line, ':', &key, &val) || !cur_is(key, "MemTotal"))
                continue;
            uint64_t kb;
            if (ks_cur_u64(&val, &kb) && kb <= UINT64_MAX / 1024) {
                ks_cur_skip_blanks(&val);
                if (ks_cur_eof(&val) || cur_is(val, "kB")) {
                    json_decref(total);
                    total = jint_u64(kb * 1024);
                }
            }
            break;
        }
    }
    put(mem, "total_bytes", total);
    return mem;
}

/* ------------------------------------------------------------------------ */
/* Block devices: lsblk JSON, lsblk pairs or /proc/partitions, all read into
 * one flat list, then turned into disks, partitions and LVM volumes. */

typedef struct blk {
    char *name, *kname, *pkname, *type, *fstype, *mountpoint, *model, *tran;
    uint64_t size;
    bool have_size;
    int rota;    /* 1, 0, or -1 unknown */
    long parent; /* index in the list, -1 for none */
} blk;

KS_VECTOR(blk_vec, blk);

static void blk_vec_free(blk_vec *v)
{
    for (size_t i = 0; i < v->len; i++) {
        blk *b = &v->ptr[i];
        free(b->name);
        free(b->kname);
        free(b->pkname);
        free(b->type);
        free(b->fstype);
        free(b->mountpoint);
        free(b->model);
        free(b->tran);
    }
    blk_vec_reset(v);
}

static bool str_is(const char *s, const char *t)
{
    return s && strcmp(s, t) == 0;
}

static bool str_starts(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* lsblk up to util-linux 2.32 prints every value as a string, later
 * versions as numbers and booleans: accept both. */
static char *jget_str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_string(v))
        return ks_strdup(json_string_value(v));
    if (json_is_integer(v))
        return ks_asprintf("%lld", (long long)json_integer_value(v));
    if (json_is_boolean(v))
        return ks_strdup(json_is_true(v) ? "1" : "0");
    return NULL;
}

static bool jget_u64(const json_t *o, const char *key, uint64_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return true;
    }
    if (json_is_string(v))
        return ks_parse_u64(json_string_value(v), out);
    return false;
}

static int rota_value(const char *s)
{
    if (str_is(s, "1") || str_is(s, "true"))
        return 1;
    if (str_is(s, "0") || str_is(s, "false"))
        return 0;
    return -1;
}

static void lsblk_walk(const json_t *arr, long parent, int depth, blk_vec *v)
{
    size_t i;
    json_t *node;
    if (!json_is_array(arr) || depth > 16)
        return;
    json_array_foreach(arr, i, node)
    {
        if (v->len >= MAX_ITEMS)
            return;
        if (!json_is_object(node))
            continue;
        blk b = {0};
        b.parent = parent;
        b.name = jget_str(node, "name");
        b.kname = jget_str(node, "kname");
        b.pkname = jget_str(node, "pkname");
        b.type = jget_str(node, "type");
        b.fstype = jget_str(node, "fstype");
        b.mountpoint = jget_str(node, "mountpoint");
        b.model = jget_str(node, "model");
        b.tran = jget_str(node, "tran");
        b.have_size = jget_u64(node, "size", &b.size);
        char *rota = jget_str(node, "rota");
        b.rota = rota_value(rota);
        free(rota);
        blk_vec_push(v, b);
        lsblk_walk(json_object_get(node, "children"), (long)v->len - 1, depth + 1, v);
    }
}

static void read_lsblk_json(ks_cursor body, blk_vec *v)
{
    json_t *root = json_loadb(body.p, ks_cur_len(&body), JSON_DISABLE_EOF_CHECK, NULL);
    if (root)
        lsblk_walk(json_object_get(root, "blockdevices"), -1, 0, v);
    json_decref(root);
}

/* lsblk -P escapes unsafe bytes as \xHH. */
static char *unescape_hex(const char *p, size_t n)
{
    char *s = ks_malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 3 < n && p[i + 1] == 'x' && hex_digit(p[i + 2]) >= 0 &&
            hex_digit(p[i + 3]) >= 0) {
            s[o++] = (char)(hex_digit(p[i + 2]) << 4 | hex_digit(p[i + 3]));
            i += 3;
        } else {
            s[o++] = p[i];
        }
    }
    s[o] = '\0';
    return s;
}

/* One line of lsblk -P: NAME="sda" KNAME="sda" ... */
static void read_pairs_line(ks_cursor line, blk *b, bool *have_pkname)
{
    while (!ks_cur_eof(&line)) {
        ks_cur_skip_blanks(&line);
        const char *k = line.p;
        while (line.p < line.end && *line.p != '=' && *line.p != ' ')
            line.p++;
        ks_cursor key = {k, line.p};
        if (!ks_cur_accept(&line, "=\""))
            return;
        const char *v = line.p;
        while (line.p < line.end && *line.p != '"')
            line.p++;
        if (line.p >= line.end)
            return;
        size_t vn = (size_t)(line.p - v);
        line.p++;
        char **dst = cur_is(key, "NAME")         ? &b->name
                     : cur_is(key, "KNAME")      ? &b->kname
                     : cur_is(key, "PKNAME")     ? &b->pkname
                     : cur_is(key, "TYPE")       ? &b->type
                     : cur_is(key, "FSTYPE")     ? &b->fstype
                     : cur_is(key, "MOUNTPOINT") ? &b->mountpoint
                     : cur_is(key, "MODEL")      ? &b->model
                     : cur_is(key, "TRAN")       ? &b->tran
                                                 : NULL;
        if (dst) {
            free(*dst);
            *dst = unescape_hex(v, vn);
            if (dst == &b->pkname)
                *have_pkname = true;
        } else if (cur_is(key, "SIZE")) {
            b->have_size = cur_u64((ks_cursor){v, v + vn}, &b->size);
        } else if (cur_is(key, "ROTA")) {
            ks_cursor r = {v, v + vn};
            b->rota = cur_is(r, "1") ? 1 : cur_is(r, "0") ? 0 : -1;
        }
    }
}

static bool is_disklike(const blk *b)
{
    return str_is(b->type, "disk") || str_is(b->type, "mpath");
}

static void read_lsblk_pairs(ks_cursor body, blk_vec *v)
{
    ks_cursor line;
    while (v->len < MAX_ITEMS && next_line(&body, &line)) {
        if (cur_empty(line))
            continue;
        blk b = {0};
        b.rota = -1;
        b.parent = -1;
        bool have_pkname = false;
        read_pairs_line(line, &b, &have_pkname);
        if (!b.name && !b.kname) {
            free(b.pkname);
            free(b.type);
            free(b.fstype);
            free(b.mountpoint);
            free(b.model);
            free(b.tran);
            continue;
        }
        /* the parent is the latest device named PKNAME; old lsblk without
         * PKNAME lists partitions right after their disk */
        for (size_t j = v->len; j-- > 0;) {
            const blk *p = &v->ptr[j];
            bool match = have_pkname ? b.pkname && *b.pkname &&
                                           (str_is(p->kname, b.pkname) || str_is(p->name, b.pkname))
                                     : str_is(b.type, "part") && is_disklike(p);
            if (match) {
                b.parent = (long)j;
                break;
            }
        }
        blk_vec_push(v, b);
    }
}

/* Is name a partition of disk ("sda1" of "sda", "nvme0n1p2" of "nvme0n1")? */
static bool is_partition_of(const char *name, const char *disk)
{
    size_t n = strlen(disk);
    if (n == 0 || strncmp(name, disk, n) != 0)
        return false;
    const char *rest = name + n;
    /* a disk name ending in a digit separates its partition numbers with p */
    if (disk[n - 1] >= '0' && disk[n - 1] <= '9' && *rest++ != 'p')
        return false;
    if (!*rest)
        return false;
    for (; *rest; rest++)
        if (*rest < '0' || *rest > '9')
            return false;
    return true;
}

/* /proc/partitions: "major minor  #blocks  name", 1 KiB blocks. */
static void read_partitions(ks_cursor body, blk_vec *v)
{
    static const char *const skip[] = {"loop", "ram", "zram", "sr", "fd", "nbd"};
    ks_cursor line, w[4];
    while (v->len < MAX_ITEMS && next_line(&body, &line)) {
        int n = 0;
        while (n < 4 && next_word(&line, &w[n]))
            n++;
        uint64_t blocks, major;
        if (n < 4 || !cur_u64(w[0], &major) || !cur_u64(w[2], &blocks))
            continue;
        /* the kernel writes the '/' of "cciss/c0d0" as '!' */
        char *name = cur_dup(w[3]);
        for (char *q = name; *q; q++)
            if (*q == '!')
                *q = '/';
        bool skipped = false;
        for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
            skipped = skipped || str_starts(name, skip[i]);
        if (skipped) {
            free(name);
            continue;
        }
        blk b = {0};
        b.name = name;
        b.rota = -1;
        b.parent = -1;
        b.have_size = blocks <= UINT64_MAX / 1024;
        b.size = blocks * 1024;
        if (str_starts(name, "dm-")) {
            b.type = ks_strdup("lvm");
        } else if (str_starts(name, "md")) {
            b.type = ks_strdup("raid");
        } else {
            for (size_t j = v->len; j-- > 0;) {
                if (str_is(v->ptr[j].type, "disk") && is_partition_of(name, v->ptr[j].name)) {
                    b.parent = (long)j;
                    break;
                }
            }
            b.type = ks_strdup(b.parent >= 0 ? "part" : "disk");
        }
        blk_vec_push(v, b);
    }
}

static json_t *size_or_null(const blk *b)
{
    return b->have_size ? jint_u64(b->size) : json_null();
}

static json_t *volume_json(const blk *b)
{
    json_t *o = json_object();
    put(o, "name", jstr_c_or_null(b->name));
    put(o, "size_bytes", size_or_null(b));
    put(o, "fstype", jstr_c_or_null(b->fstype));
    put(o, "mountpoint", jstr_c_or_null(b->mountpoint));
    return o;
}

static bool is_skipped_disk(const blk *b)
{
    return !b->name || str_starts(b->name, "zram") || str_starts(b->name, "ram") ||
           str_starts(b->name, "loop") || (b->have_size && b->size == 0);
}

static void parse_disks(const sections *s, json_t *disks, json_t *lvm)
{
    blk_vec v = {0};
    if (s->have[SEC_LSBLK])
        read_lsblk_json(s->body[SEC_LSBLK], &v);
    else if (s->have[SEC_LSBLK_PAIRS])
        read_lsblk_pairs(s->body[SEC_LSBLK_PAIRS], &v);
    else if (s->have[SEC_PARTITIONS])
        read_partitions(s->body[SEC_PARTITIONS], &v);

    /* the disk object of each disk-like entry, NULL for the others */
    json_t **disk_of = ks_calloc(v.len ? v.len : 1, sizeof *disk_of);
    /* a disk with a multipath child is one path to a SAN LUN: the LUN is
     * reported once, as its mpath device */
    bool *is_path = ks_calloc(v.len ? v.len : 1, sizeof *is_path);
    for (size_t i = 0; i < v.len; i++)
        if (str_is(v.ptr[i].type, "mpath") && v.ptr[i].parent >= 0)
            is_path[v.ptr[i].parent] = true;

    for (size_t i = 0; i < v.len; i++) {
        const blk *b = &v.ptr[i];
        if (is_disklike(b)) {
            if (is_path[i] || is_skipped_disk(b))
                continue;
            json_t *d = find_by(disks, "name", b->name);
            if (d) { /* the same mpath under each of its paths */
                disk_of[i] = d;
                continue;
            }
            /* a multipath device has the model and transport of its paths */
            const char *tran = b->tran, *model = b->model;
            if (str_is(b->type, "mpath") && b->parent >= 0) {
                tran = tran ? tran : v.ptr[b->parent].tran;
                model = model ? model : v.ptr[b->parent].model;
            }
            d = json_object();
            put(d, "name", jstr_c(b->name));
            put(d, "size_bytes", size_or_null(b));
            put(d, "model", jstr_c_or_null(model));
            put(d, "rotational", b->rota < 0 ? json_null() : json_boolean(b->rota));
            put(d, "transport", jstr_c_or_null(tran));
            put(d, "partitions", json_array());
            json_array_append_new(disks, d);
            disk_of[i] = d;
        } else if (str_is(b->type, "part")) {
            /* parents always come before their children in the list */
            long p = b->parent;
            for (int hops = 0; p >= 0 && !disk_of[p] && hops < 16; hops++)
                p = v.ptr[p].parent;
            if (p < 0 || !disk_of[p] || !b->name)
                continue;
            json_t *parts = json_object_get(disk_of[p], "partitions");
            if (!find_by(parts, "name", b->name))
                json_array_append_new(parts, volume_json(b));
        } else if (str_is(b->type, "lvm")) {
            /* a volume spanning several PVs is nested under each of them */
            if (b->name && !find_by(lvm, "name", b->name))
                json_array_append_new(lvm, volume_json(b));
        }
        /* loop, rom, crypt, raid and md devices are not reported */
    }
    free(disk_of);
    free(is_path);
    blk_vec_free(&v);
}

/* ------------------------------------------------------------------------ */
/* File systems and network mounts. */

/* Unit of the size columns from the df header ("1-blocks", "1024-blocks"). */
static uint64_t df_unit(ks_cursor header, uint64_t fallback)
{
    ks_cursor w;
    for (int i = 0; i < 3; i++)
        if (!next_word(&header, &w))
            return fallback;
    uint64_t unit;
    if (!ks_cur_u64(&w, &unit) || unit == 0)
        return fallback;
    if (ks_cur_accept(&w, "K"))
        unit *= 1024;
    return ks_cur_accept(&w, "-blocks") || ks_cur_accept(&w, "B-blocks") ? unit : fallback;
}

static json_t *df_size(ks_cursor w, uint64_t unit)
{
    uint64_t v;
    if (!cur_u64(w, &v) || v > UINT64_MAX / unit)
        return json_null();
    return jint_u64(v * unit);
}

static void parse_filesystems(const sections *s, json_t *out)
{
    ks_cursor body;
    uint64_t unit;
    if (s->have[SEC_DF]) {
        body = s->body[SEC_DF];
        unit = 1;
    } else if (s->have[SEC_DF_K]) {
        body = s->body[SEC_DF_K];
        unit = 1024;
    } else {
        return;
    }
    ks_cursor line, w[6];
    while (next_line(&body, &line)) {
        if (cur_starts(line, "Filesystem")) {
            unit = df_unit(line, unit);
            continue;
        }
        int n = 0;
        while (n < 6 && next_word(&line, &w[n]))
            n++;
        ks_cursor mnt = cur_trim(line);
        if (n < 6 || !cur_starts(mnt, "/"))
            continue;
        if (cur_in(w[1], pseudo_fs))
            continue;
        json_t *fs = json_object();
        put(fs, "device", jstr_or_null(w[0]));
        put(fs, "type", jstr_or_null(w[1]));
        put(fs, "mountpoint", jstr_or_null(mnt));
        put(fs, "size_bytes", df_size(w[2], unit));
        put(fs, "used_bytes", df_size(w[3], unit));
        json_array_append_new(out, fs);
    }
}

/* /proc/mounts escapes blanks and backslashes as octal: "\040". */
static json_t *unescape_octal(ks_cursor c)
{
    size_t n = ks_cur_len(&c);
    char *s = ks_malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = c.p + i;
        if (p[0] == '\\' && n - i >= 4 && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' &&
            p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
            s[o++] = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
            i += 3;
        } else {
            s[o++] = p[0];
        }
    }
    json_t *j = jstr(s, o);
    free(s);
    return j;
}

static void parse_nfs_mounts(const sections *s, json_t *out)
{
    if (!s->have[SEC_MOUNTS])
        return;
    ks_cursor body = s->body[SEC_MOUNTS], line, dev, mnt, type;
    while (next_line(&body, &line)) {
        if (!next_word(&line, &dev) || !next_word(&line, &mnt) || !next_word(&line, &type))
            continue;
        if (!cur_in(type, net_fs))
            continue;
        json_t *m = json_object();
        put(m, "source", unescape_octal(dev));
        put(m, "type", jstr_or_null(type));
        put(m, "mountpoint", unescape_octal(mnt));
        json_array_append_new(out, m);
    }
}

/* ------------------------------------------------------------------------ */
/* Network interfaces. */

static void parse_nics(const sections *s, json_t *out)
{
    if (!s->have[SEC_NICS])
        return;
    ks_cursor body = s->body[SEC_NICS], line, w[5];
    while (json_array_size(out) < MAX_ITEMS && next_line(&body, &line)) {
        int n = 0;
        while (n < 5 && next_word(&line, &w[n]))
            n++;
        if (n < 5 || cur_is(w[0], "lo"))
            continue;
        long speed;
        /* -1, and 65535 on old kernels, mean "no link" or "unknown" */
        bool speed_ok = cur_long(w[2], &speed) && speed > 0 && speed != 65535 && speed < 10000000;
        json_t *nic = json_object();
        put(nic, "name", jstr_or_null(w[0]));
        put(nic, "mac", jstr_or_null(w[1]));
        put(nic, "speed_mbps", speed_ok ? json_integer(speed) : json_null());
        put(nic, "state", jstr_or_null(w[3]));
        put(nic, "physical", json_boolean(cur_is(w[4], "1")));
        put(nic, "addresses", json_array());
        put(nic, "addresses_dynamic", json_array());
        json_array_append_new(out, nic);
    }
    if (!s->have[SEC_IP_ADDR])
        return;
    /* ip -o addr show: "2: eth0    inet 10.0.0.5/24 brd ... scope global eth0\ ..." */
    body = s->body[SEC_IP_ADDR];
    for (size_t lines = 0; lines < MAX_ITEMS && next_line(&body, &line); lines++) {
        int n = 0;
        while (n < 4 && next_word(&line, &w[n]))
            n++;
        if (n < 4 || !(cur_is(w[2], "inet") || cur_is(w[2], "inet6")))
            continue;
        /* link-local IPv6 addresses are on every interface and say nothing */
        if (cur_starts(w[3], "fe80:"))
            continue;
        ks_cursor name = w[1];
        const char *at = memchr(name.p, '@', ks_cur_len(&name));
        if (at) /* "eth0.10@eth0" */
            name.end = at;
        if (name.end > name.p && name.end[-1] == ':')
            name.end--;
        char *nm = cur_dup(name);
        json_t *nic = find_by(out, "name", nm);
        free(nm);
        if (!nic)
            continue;
        json_array_append_new(json_object_get(nic, "addresses"), jstr_or_null(w[3]));
        /* given by the network (DHCP, SLAAC): "... scope site dynamic mngtmpaddr\" */
        ks_cursor f;
        while (next_word(&line, &f) && !cur_starts(f, "\\")) {
            if (cur_is(f, "dynamic")) {
                json_array_append_new(json_object_get(nic, "addresses_dynamic"),
                                      jstr_or_null(w[3]));
                break;
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Boot mode and virtualization. */

static json_t *parse_boot(const sections *s)
{
    if (!s->have[SEC_BOOT])
        return json_null();
    ks_cursor l = first_line(s->body[SEC_BOOT]);
    if (cur_is(l, "uefi") || cur_is(l, "bios"))
        return jstr(l.p, ks_cur_len(&l));
    return json_null();
}

/* From DMI, for servers without systemd-detect-virt; names as it prints. */
static const char *virt_from_dmi(ks_cursor body)
{
    static const struct {
        const char *match, *virt;
    } dmi[] = {
        {"QEMU", "kvm"},          {"KVM", "kvm"},           {"Red Hat", "kvm"},
        {"Nutanix", "kvm"},       {"oVirt", "kvm"},         {"VMware", "vmware"},
        {"VirtualBox", "oracle"}, {"innotek", "oracle"},    {"Virtual Machine", "microsoft"},
        {"Xen", "xen"},           {"Amazon EC2", "amazon"}, {"Parallels", "parallels"},
        {"Bochs", "bochs"},       {"OpenStack", "kvm"},
    };
    ks_cursor line;
    while (next_line(&body, &line))
        for (size_t i = 0; i < sizeof dmi / sizeof dmi[0]; i++)
            if (cur_contains(line, dmi[i].match))
                return dmi[i].virt;
    return NULL;
}

static json_t *parse_virt(const sections *s, bool hypervisor_flag)
{
    if (s->have[SEC_VIRT]) {
        ks_cursor l = first_line(s->body[SEC_VIRT]);
        bool ok = !cur_empty(l) && ks_cur_len(&l) < 64;
        for (const char *p = l.p; ok && p < l.end; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_';
        if (ok)
            return jstr(l.p, ks_cur_len(&l));
    }
    if (s->have[SEC_DMI]) {
        const char *v = virt_from_dmi(s->body[SEC_DMI]);
        if (v)
            return jstr_c(v);
    }
    /* the script prints one of the two sections: neither means that the
     * output was cut short, and then nothing is known */
    if (s->have[SEC_DMI] || s->have[SEC_VIRT])
        return jstr_c(hypervisor_flag ? "vm-other" : "none");
    return json_null();
}

/* ------------------------------------------------------------------------ */
/* Listening TCP ports. */

static json_t *listen_json(const char *addr, size_t addrlen, long port, json_t *process,
                           json_t *pid)
{
    json_t *o = json_object();
    put(o, "proto", jstr_c("tcp"));
    put(o, "address", jstr(addr, addrlen));
    put(o, "port", json_integer(port));
    put(o, "process", process);
    put(o, "pid", pid);
    return o;
}

/* "users:(("sshd",pid=812,fd=3),...)": the first process. */
static void ss_process(ks_cursor rest, json_t **process, json_t **pid)
{
    *process = json_null();
    *pid = json_null();
    const char *u = NULL;
    for (const char *p = rest.p; p + 9 <= rest.end; p++) {
        if (memcmp(p, "users:((\"", 9) == 0) {
            u = p + 9;
            break;
        }
    }
    if (!u)
        return;
    const char *q = memchr(u, '"', (size_t)(rest.end - u));
    if (!q)
        return;
    json_decref(*process);
    *process = jstr_or_null((ks_cursor){u, q});
    ks_cursor c = {q + 1, rest.end};
    uint64_t v;
    if (ks_cur_accept(&c, ",pid=") && ks_cur_u64(&c, &v) && v > 0 && v <= INT32_MAX) {
        json_decref(*pid);
        *pid = json_integer((json_int_t)v);
    }
}

static void parse_ss(ks_cursor body, json_t *out)
{
    ks_cursor line, w;
    while (next_line(&body, &line)) {
        if (!next_word(&line, &w))
            continue;
        if (cur_is(w, "tcp") && !next_word(&line, &w))
            continue;
        /* the header line ("State Recv-Q ...") fails the numbers below */
        if (!cur_is(w, "LISTEN"))
            continue;
        uint64_t q;
        ks_cursor local, peer;
        if (!next_word(&line, &w) || !cur_u64(w, &q) || !next_word(&line, &w) || !cur_u64(w, &q) ||
            !next_word(&line, &local) || !next_word(&line, &peer))
            continue;
        const char *colon = NULL;
        for (const char *p = local.p; p < local.end; p++)
            if (*p == ':')
                colon = p;
        long port;
        if (!colon || !cur_long((ks_cursor){colon + 1, local.end}, &port) || port < 0 ||
            port > 65535)
            continue;
        ks_cursor addr = {local.p, colon};
        if (ks_cur_len(&addr) >= 2 && addr.p[0] == '[' && addr.end[-1] == ']') {
            addr.p++;
            addr.end--;
        }
        const char *pct = memchr(addr.p, '%', ks_cur_len(&addr));
        if (pct) /* "127.0.0.53%lo" */
            addr.end = pct;
        if (cur_empty(addr))
            continue;
        json_t *process, *pid;
        ss_process(line, &process, &pid);
        json_array_append_new(out, listen_json(addr.p, ks_cur_len(&addr), port, process, pid));
    }
}

/* /proc/net/tcp{,6} print each 32-bit word of the address in the server's
 * byte order: little-endian but for a few big-endian architectures. */
static bool proc_addr(ks_cursor hex, bool big_endian, char *out, size_t outlen)
{
    size_t n = ks_cur_len(&hex);
    if (n != 8 && n != 32)
        return false;
    unsigned char bytes[16];
    for (size_t word = 0; word < n / 8; word++) {
        uint64_t v;
        if (!cur_hex((ks_cursor){hex.p + word * 8, hex.p + word * 8 + 8}, &v))
            return false;
        for (int b = 0; b < 4; b++)
            bytes[word * 4 + (size_t)b] =
                (unsigned char)(big_endian ? v >> (24 - 8 * b) : v >> (8 * b));
    }
    return inet_ntop(n == 8 ? AF_INET : AF_INET6, bytes, out, (socklen_t)outlen) != NULL;
}

static void parse_proc_tcp(ks_cursor body, bool big_endian, json_t *out)
{
    ks_cursor line, w[4];
    while (next_line(&body, &line)) {
        int n = 0;
        while (n < 4 && next_word(&line, &w[n]))
            n++;
        /* "0: 00000000:0016 00000000:0000 0A ...", state 0A is LISTEN */
        if (n < 4 || !cur_is(w[3], "0A"))
            continue;
        const char *colon = memchr(w[1].p, ':', ks_cur_len(&w[1]));
        uint64_t port;
        char addr[INET6_ADDRSTRLEN];
        if (!colon || !cur_hex((ks_cursor){colon + 1, w[1].end}, &port) || port > 65535 ||
            !proc_addr((ks_cursor){w[1].p, colon}, big_endian, addr, sizeof addr))
            continue;
        json_array_append_new(
            out, listen_json(addr, strlen(addr), (long)port, json_null(), json_null()));
    }
}

static bool arch_big_endian(const json_t *os)
{
    static const char *const be[] = {"s390x", "s390", "ppc64", "ppc", "sparc64", "mips", "mips64"};
    const char *arch = obj_str(os, "arch");
    for (size_t i = 0; arch && i < sizeof be / sizeof be[0]; i++)
        if (strcmp(arch, be[i]) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* Services. */

/* Add "name.service" once; name is a unit name without its suffix. */
static void add_service(json_t *out, ks_cursor name)
{
    if (cur_empty(name) || json_array_size(out) >= MAX_ITEMS)
        return;
    char *unit = ks_asprintf("%.*s.service", (int)ks_cur_len(&name), name.p);
    json_t *j = jstr_c(unit);
    free(unit);
    const char *v = json_string_value(j);
    if (v && !array_has_str(out, v))
        json_array_append_new(out, j);
    else
        json_decref(j);
}

static void parse_services(const sections *s, json_t *out)
{
    ks_cursor body, line, w;
    if (s->have[SEC_SYSTEMCTL]) {
        /* "sshd.service enabled enabled" */
        body = s->body[SEC_SYSTEMCTL];
        while (next_line(&body, &line)) {
            if (!next_word(&line, &w))
                continue;
            static const char suffix[] = ".service";
            size_t n = ks_cur_len(&w), k = sizeof suffix - 1;
            if (n <= k || memcmp(w.end - k, suffix, k) != 0)
                continue;
            w.end -= k;
            add_service(out, w);
        }
    } else if (s->have[SEC_RC_SERVICES]) {
        /* "S55sshd" in /etc/rc3.d: named "sshd.service", as systemd names
         * SysV init scripts, so that old and new servers compare */
        body = s->body[SEC_RC_SERVICES];
        while (next_line(&body, &line)) {
            if (!ks_cur_accept(&line, "S"))
                continue;
            while (line.p < line.end && *line.p >= '0' && *line.p <= '9')
                line.p++;
            add_service(out, line);
        }
    }
}

/* systemctl list-units --all --plain: "ssh.service loaded active running
 * OpenBSD Secure Shell server" (a "●" before a failed one on some
 * versions): the services running and those failed, as the validator
 * compares them with a VM's. */
static void parse_units(const sections *s, json_t *running, json_t *failed)
{
    ks_cursor body = s->body[SEC_UNITS], line, w[4];
    for (size_t lines = 0; lines < MAX_ITEMS * 4 && next_line(&body, &line); lines++) {
        int n = 0;
        while (n < 4 && next_word(&line, &w[n])) {
            if (n == 0 && (cur_is(w[0], "\xe2\x97\x8f") || cur_is(w[0], "*")))
                continue;
            n++;
        }
        static const char suffix[] = ".service";
        size_t len = n == 4 ? ks_cur_len(&w[0]) : 0, k = sizeof suffix - 1;
        if (len <= k || memcmp(w[0].end - k, suffix, k) != 0)
            continue;
        w[0].end -= k;
        if (cur_is(w[3], "running"))
            add_service(running, w[0]);
        else if (cur_is(w[2], "failed"))
            add_service(failed, w[0]);
    }
}

/* ------------------------------------------------------------------------ */
/* Hardware that complicates virtualization. */

static const char *dongle_name(const char *vendor_id)
{
    for (size_t i = 0; i < sizeof dongle_vendors / sizeof dongle_vendors[0]; i++)
        if (strcmp(vendor_id, dongle_vendors[i].vendor_id) == 0)
            return dongle_vendors[i].name;
    return NULL;
}

typedef struct usb_dev {
    bool active;
    ks_cursor dev, vendor, product_id, class, manufacturer, product;
} usb_dev;

static void usb_emit(const usb_dev *u, json_t *usb, json_t *blockers)
{
    char vid[5], pid[5];
    if (!u->active || !hw_id(u->vendor, vid) || !hw_id(u->product_id, pid))
        return;
    /* root hubs ("usb1", vendor 1d6b Linux Foundation, 0000 before 2.6.24)
     * and other hubs are part of the machine */
    uint64_t cls;
    if (cur_starts(u->dev, "usb") || strcmp(vid, "1d6b") == 0 ||
        (cur_hex(u->class, &cls) && cls == 9))
        return;
    const char *dongle = dongle_name(vid);
    json_t *o = json_object();
    put(o, "vendor_id", jstr_c(vid));
    put(o, "product_id", jstr_c(pid));
    put(o, "manufacturer", jstr_or_null(u->manufacturer));
    put(o, "product", jstr_or_null(u->product));
    put(o, "dongle", json_boolean(dongle != NULL));
    json_array_append_new(usb, o);
    if (dongle) {
        char *msg = ks_asprintf("USB licence dongle %s:%s (%s): needs USB passthrough or a "
                                "network dongle server",
                                vid, pid, dongle);
        json_array_append_new(blockers, jstr_c(msg));
        free(msg);
    }
}

static void parse_usb(const sections *s, json_t *usb, json_t *blockers)
{
    if (!s->have[SEC_USB])
        return;
    ks_cursor body = s->body[SEC_USB], line, key, val;
    usb_dev u = {0};
    while (next_line(&body, &line)) {
        if (!split_at(line, '=', &key, &val))
            continue;
        if (cur_is(key, "dev")) {
            usb_emit(&u, usb, blockers);
            memset(&u, 0, sizeof u);
            u.active = true;
            u.dev = val;
        } else if (cur_is(key, "vendor")) {
            u.vendor = val;
        } else if (cur_is(key, "product_id")) {
            u.product_id = val;
        } else if (cur_is(key, "class")) {
            u.class = val;
        } else if (cur_is(key, "manufacturer")) {
            u.manufacturer = val;
        } else if (cur_is(key, "product")) {
            u.product = val;
        }
    }
    usb_emit(&u, usb, blockers);
}

static void parse_fc(const sections *s, json_t *fc, json_t *blockers)
{
    if (!s->have[SEC_FC])
        return;
    ks_cursor body = s->body[SEC_FC], line, name, port;
    while (next_line(&body, &line)) {
        if (!next_word(&line, &name))
            continue;
        if (!next_word(&line, &port))
            port = (ks_cursor){NULL, NULL};
        json_t *o = json_object();
        put(o, "name", jstr_or_null(name));
        put(o, "port_name", jstr_or_null(port));
        json_array_append_new(fc, o);
        const char *nm = obj_str(o, "name");
        const char *pn = obj_str(o, "port_name");
        char *msg = ks_asprintf("Fibre Channel HBA %s (port %s): SAN storage must be "
                                "re-presented to the hypervisor",
                                nm ? nm : "?", pn ? pn : "unknown");
        json_array_append_new(blockers, jstr_c(msg));
        free(msg);
    }
}

static bool is_plain_vga(const char *vid, const char *did)
{
    for (size_t i = 0; i < sizeof plain_vga / sizeof plain_vga[0]; i++)
        if (strcmp(vid, plain_vga[i].vendor_id) == 0 &&
            (!plain_vga[i].device_id || strcmp(did, plain_vga[i].device_id) == 0))
            return true;
    return false;
}

static void parse_gpus(const sections *s, json_t *gpus, json_t *blockers)
{
    if (!s->have[SEC_PCI_DISPLAY])
        return;
    ks_cursor body = s->body[SEC_PCI_DISPLAY], line, w[4];
    while (next_line(&body, &line)) {
        int n = 0;
        while (n < 4 && next_word(&line, &w[n]))
            n++;
        char vid[5], did[5];
        uint64_t cls;
        if (n < 4 || !cur_hex(w[1], &cls) || (cls >> 16) != 0x03 || !hw_id(w[2], vid) ||
            !hw_id(w[3], did) || is_plain_vga(vid, did))
            continue;
        json_t *o = json_object();
        put(o, "slot", jstr_or_null(w[0]));
        put(o, "vendor_id", jstr_c(vid));
        put(o, "device_id", jstr_c(did));
        json_array_append_new(gpus, o);
        const char *slot = obj_str(o, "slot");
        char *msg =
            ks_asprintf("GPU %s:%s in slot %s: needs PCI passthrough", vid, did, slot ? slot : "?");
        json_array_append_new(blockers, jstr_c(msg));
        free(msg);
    }
}

/* ------------------------------------------------------------------------ */

/* The start of the first line of text, made printable, for messages. */
static void first_line_quoted(const char *text, size_t len, char *out, size_t outlen)
{
    size_t o = 0, i = 0;
    for (; i < len && text[i] != '\n' && o + 4 < outlen; i++) {
        unsigned char c = (unsigned char)text[i];
        out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (i < len && text[i] != '\n') {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

json_t *col_facts_parse(const char *text, size_t len, const char *name, ks_error *err)
{
    const char *server = name ? name : "?";
    if (!text || len == 0) {
        ks_error_set(err, KS_E_PARSE, 0,
                     "the facts script printed nothing on '%s': check that its login shell "
                     "is a POSIX sh and that the account can run commands",
                     server);
        return NULL;
    }
    sections s;
    sections_split(text, len, &s);
    if (s.headers == 0) {
        char first[80];
        first_line_quoted(text, len, first, sizeof first);
        ks_error_set(err, KS_E_PARSE, 0,
                     "the output of the facts script on '%s' has no \"@@KS\" section (it "
                     "starts with \"%s\"): the remote shell did not run the script; check "
                     "that the login shell of the account is a POSIX sh",
                     server, first);
        return NULL;
    }

    bool hypervisor = false;
    json_t *facts = json_object();
    put(facts, "name", jstr_c(name));
    put(facts, "hostname", parse_hostname(&s));
    put(facts, "collected_at", parse_date(&s));
    json_t *os = parse_os(&s);
    put(facts, "os", os);
    put(facts, "cpu", parse_cpu(&s, &hypervisor));
    put(facts, "memory", parse_memory(&s));

    json_t *disks = json_array(), *lvm = json_array();
    parse_disks(&s, disks, lvm);
    put(facts, "disks", disks);
    put(facts, "lvm", lvm);

    json_t *fs = json_array(), *nfs = json_array(), *nics = json_array();
    parse_filesystems(&s, fs);
    put(facts, "filesystems", fs);
    parse_nfs_mounts(&s, nfs);
    put(facts, "nfs_mounts", nfs);
    parse_nics(&s, nics);
    put(facts, "nics", nics);

    put(facts, "boot_mode", parse_boot(&s));
    put(facts, "virtualization", parse_virt(&s, hypervisor));

    json_t *listening = json_array();
    if (s.have[SEC_SS])
        parse_ss(s.body[SEC_SS], listening);
    else if (s.have[SEC_PROC_TCP])
        parse_proc_tcp(s.body[SEC_PROC_TCP], arch_big_endian(os), listening);
    put(facts, "listening", listening);

    json_t *services = json_array();
    parse_services(&s, services);
    put(facts, "services", services);
    /* systemd runs but did not list its unit files in time (a server under
     * load): no list, rather than its few SysV links read as one */
    if (s.have[SEC_SYSTEMCTL_FAILED] && !s.have[SEC_SYSTEMCTL])
        put(facts, "services_unknown",
            json_string("systemctl list-unit-files gave nothing within 40 s"));
    if (s.have[SEC_UNITS]) {
        json_t *running = json_array(), *failed = json_array();
        parse_units(&s, running, failed);
        put(facts, "services_running", running);
        put(facts, "services_failed", failed);
    }

    json_t *hw = json_object(), *usb = json_array(), *fc = json_array(), *gpus = json_array();
    json_t *blockers = json_array();
    parse_usb(&s, usb, blockers);
    parse_fc(&s, fc, blockers);
    parse_gpus(&s, gpus, blockers);
    put(hw, "usb", usb);
    put(hw, "fc_hbas", fc);
    put(hw, "gpus", gpus);
    put(facts, "hardware", hw);
    put(facts, "virtualization_blockers", blockers);
    return facts;
}

double col_facts_cpu_capacity_mhz(const json_t *facts)
{
    const json_t *cpu = json_object_get(facts, "cpu");
    const json_t *cores = json_object_get(cpu, "cores");
    const json_t *mhz = json_object_get(cpu, "mhz");
    if (!json_is_integer(cores) || !json_is_number(mhz))
        return 0;
    double c = (double)json_integer_value(cores), m = json_number_value(mhz);
    if (c <= 0 || m <= 0)
        return 0;
    return c * m;
}

size_t col_facts_physical_nics(const json_t *facts, const char ***names)
{
    *names = NULL;
    const json_t *nics = json_object_get(facts, "nics");
    size_t n = 0, i;
    json_t *nic;
    json_array_foreach(nics, i, nic)
    {
        if (json_is_true(json_object_get(nic, "physical")) && obj_str(nic, "name"))
            n++;
    }
    if (n == 0)
        return 0;
    const char **out = ks_calloc(n, sizeof *out);
    size_t k = 0;
    json_array_foreach(nics, i, nic)
    {
        const char *nm = obj_str(nic, "name");
        if (json_is_true(json_object_get(nic, "physical")) && nm)
            out[k++] = nm;
    }
    *names = out;
    return n;
}
