/* p2v_edit.c: the text edits of a conversion (see p2v_edit.h). Every
 * function walks the text line by line, copies what it does not change
 * byte for byte, and says what it changed in notes. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ks_mem.h"
#include "p2v_edit.h"

#define TEXT_MAX (64u << 20)

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool p2v_devname_unstable(const char *dev)
{
    static const char *const unstable[] = {
        "/dev/sd",   "/dev/hd",          "/dev/xvd",           "/dev/cciss/",
        "/dev/nvme", "/dev/disk/by-id/", "/dev/disk/by-path/", "/dev/ida/",
        NULL};
    for (size_t i = 0; unstable[i]; i++)
        if (starts(dev, unstable[i]) && dev[strlen(unstable[i])])
            return true;
    return false;
}

/* One line of text: [*p, end) without its newline; nl: it had one. */
typedef struct line {
    const char *s;
    size_t len;
    bool nl;
} line;

static bool next_line(const char **p, line *l)
{
    if (!**p)
        return false;
    const char *e = strchr(*p, '\n');
    l->s = *p;
    l->len = e ? (size_t)(e - *p) : strlen(*p);
    l->nl = e != NULL;
    *p = e ? e + 1 : *p + l->len;
    return true;
}

static void put_line(ks_buf *out, const char *s, size_t len, bool nl)
{
    ks_buf_append(out, s, len);
    if (nl)
        ks_buf_append(out, "\n", 1);
}

/* The result of an edit: the new text when something changed. */
static char *finish(ks_buf *out, bool changed)
{
    if (!changed) {
        ks_buf_free(out);
        return NULL;
    }
    return ks_buf_steal(out);
}

/* Replace the unstable device name `dev` (a NUL-terminated copy): the new
 * name, or NULL (kept, noted). */
static char *map_dev(const char *dev, p2v_devname_fn fn, void *arg, const char *where,
                     ks_buf *notes)
{
    char *to = fn(dev, arg);
    if (to)
        ks_buf_printf(notes, "%s: %s -> %s\n", where, dev, to);
    else
        ks_buf_printf(notes, "%s: %s left as it is: no disk of the copy holds it (check it)\n",
                      where, dev);
    return to;
}

char *p2v_edit_table(const char *text, int field, p2v_devname_fn fn, void *arg, ks_buf *notes)
{
    ks_buf out;
    ks_buf_init(&out, TEXT_MAX);
    bool changed = false;
    line l;
    const char *p = text;
    while (next_line(&p, &l)) {
        /* find field `field` (blank-separated) */
        size_t i = 0;
        while (i < l.len && isblank((unsigned char)l.s[i]))
            i++;
        if (i == l.len || l.s[i] == '#') {
            put_line(&out, l.s, l.len, l.nl);
            continue;
        }
        size_t fs = i, fe = i;
        for (int f = 0;; f++) {
            fs = i;
            while (i < l.len && !isblank((unsigned char)l.s[i]))
                i++;
            fe = i;
            if (f == field || i == l.len)
                break;
            while (i < l.len && isblank((unsigned char)l.s[i]))
                i++;
        }
        KS_AUTOFREE char *dev = ks_strndup(l.s + fs, fe - fs);
        char *to = NULL;
        if (fe > fs && p2v_devname_unstable(dev))
            to = map_dev(dev, fn, arg, field == 0 ? "fstab" : "crypttab", notes);
        if (!to) {
            put_line(&out, l.s, l.len, l.nl);
            continue;
        }
        ks_buf_append(&out, l.s, fs);
        ks_buf_appends(&out, to);
        put_line(&out, l.s + fe, l.len - fe, l.nl);
        free(to);
        changed = true;
    }
    return finish(&out, changed);
}

/* Kernel arguments in [s, s + len): root= and resume= with unstable
 * names mapped; the console added when asked and no ttyS console is
 * there. Appends the result to out; true when it differs. */
static bool edit_args(ks_buf *out, const char *s, size_t len, p2v_devname_fn fn, void *arg,
                      bool console, const char *where, ks_buf *notes)
{
    bool changed = false, serial = false;
    size_t i = 0;
    while (i < len) {
        size_t b = i;
        while (i < len && !isblank((unsigned char)s[i]) && s[i] != '"' && s[i] != '\'')
            i++;
        if (i == b) {
            ks_buf_append(out, s + i, 1);
            i++;
            continue;
        }
        KS_AUTOFREE char *tok = ks_strndup(s + b, i - b);
        if (starts(tok, "console=ttyS"))
            serial = true;
        const char *key = starts(tok, "root=")     ? "root="
                          : starts(tok, "resume=") ? "resume="
                                                   : NULL;
        char *to = key && p2v_devname_unstable(tok + strlen(key))
                       ? map_dev(tok + strlen(key), fn, arg, where, notes)
                       : NULL;
        if (to) {
            ks_buf_printf(out, "%s%s", key, to);
            free(to);
            changed = true;
        } else {
            ks_buf_appends(out, tok);
        }
    }
    if (console && !serial) {
        ks_buf_appends(out, len ? " console=tty0 console=ttyS0,115200n8"
                                : "console=tty0 console=ttyS0,115200n8");
        ks_buf_printf(notes, "%s: serial console added (console=ttyS0,115200n8)\n", where);
        changed = true;
    }
    return changed;
}

char *p2v_edit_boot_config(const char *text, p2v_devname_fn fn, void *arg, bool console,
                           ks_buf *notes)
{
    ks_buf out;
    ks_buf_init(&out, TEXT_MAX);
    bool changed = false;
    line l;
    const char *p = text;
    while (next_line(&p, &l)) {
        size_t i = 0;
        while (i < l.len && isblank((unsigned char)l.s[i]))
            i++;
        /* "linux /vmlinuz-... ARGS", "linux16", "linuxefi", grub legacy "kernel" */
        size_t kw = i;
        while (i < l.len && !isblank((unsigned char)l.s[i]))
            i++;
        KS_AUTOFREE char *word = ks_strndup(l.s + kw, i - kw);
        bool kernel_line = strcmp(word, "linux") == 0 || strcmp(word, "linux16") == 0 ||
                           strcmp(word, "linuxefi") == 0 || strcmp(word, "kernel") == 0;
        if (!kernel_line) {
            put_line(&out, l.s, l.len, l.nl);
            continue;
        }
        /* keep the keyword and the kernel's path, edit what follows */
        while (i < l.len && isblank((unsigned char)l.s[i]))
            i++;
        while (i < l.len && !isblank((unsigned char)l.s[i]))
            i++;
        ks_buf_append(&out, l.s, i);
        changed |= edit_args(&out, l.s + i, l.len - i, fn, arg, console, "boot loader", notes);
        if (l.nl)
            ks_buf_append(&out, "\n", 1);
    }
    return finish(&out, changed);
}

/* Is line l the assignment NAME=... (optionally after blanks)? Sets *val
 * to the offset of the value. */
static bool is_assign(const line *l, const char *name, size_t *val)
{
    size_t i = 0, n = strlen(name);
    while (i < l->len && isblank((unsigned char)l->s[i]))
        i++;
    if (l->len - i <= n || strncmp(l->s + i, name, n) || l->s[i + n] != '=')
        return false;
    *val = i + n + 1;
    return true;
}

/* NAME="ARGS" (or 'ARGS', or ARGS): the arguments edited as kernel
 * arguments, inside the quotes (added when the value had none and the
 * console is added). */
static bool edit_assign(ks_buf *out, const line *l, size_t v, p2v_devname_fn fn, void *arg,
                        bool console, const char *where, ks_buf *notes)
{
    const char *val = l->s + v;
    size_t n = l->len - v;
    char q = '"';
    bool quoted = n >= 2 && (val[0] == '"' || val[0] == '\'') && val[n - 1] == val[0];
    if (quoted) {
        q = val[0];
        val++;
        n -= 2;
    }
    ks_buf_append(out, l->s, v);
    if (quoted || console)
        ks_buf_append(out, &q, 1);
    bool changed = edit_args(out, val, n, fn, arg, console, where, notes);
    if (quoted || console)
        ks_buf_append(out, &q, 1);
    if (l->nl)
        ks_buf_append(out, "\n", 1);
    return changed;
}

char *p2v_edit_grub_default(const char *text, p2v_devname_fn fn, void *arg, ks_buf *notes)
{
    ks_buf out;
    ks_buf_init(&out, TEXT_MAX);
    bool changed = false, have_cmdline = false, have_terminal = false, have_serial = false;
    line l;
    const char *p = text;
    while (next_line(&p, &l)) {
        size_t v;
        if (is_assign(&l, "GRUB_CMDLINE_LINUX", &v)) {
            have_cmdline = true;
            changed |= edit_assign(&out, &l, v, fn, arg, true, "GRUB_CMDLINE_LINUX", notes);
            continue;
        }
        if (is_assign(&l, "GRUB_CMDLINE_LINUX_DEFAULT", &v)) {
            changed |=
                edit_assign(&out, &l, v, fn, arg, false, "GRUB_CMDLINE_LINUX_DEFAULT", notes);
            continue;
        }
        if (is_assign(&l, "GRUB_TERMINAL", &v)) {
            have_terminal = true;
            if (!memmem(l.s + v, l.len - v, "serial", 6)) {
                put_line(&out, "GRUB_TERMINAL=\"console serial\"", 30, l.nl);
                ks_buf_printf(notes, "GRUB_TERMINAL: %.*s -> \"console serial\"\n",
                              (int)(l.len - v), l.s + v);
                changed = true;
                continue;
            }
        }
        if (is_assign(&l, "GRUB_SERIAL_COMMAND", &v))
            have_serial = true;
        put_line(&out, l.s, l.len, l.nl);
    }
    if (out.len && out.data[out.len - 1] != '\n' &&
        (!have_cmdline || !have_terminal || !have_serial))
        ks_buf_append(&out, "\n", 1);
    if (!have_cmdline) {
        ks_buf_appends(&out, "GRUB_CMDLINE_LINUX=\"console=tty0 console=ttyS0,115200n8\"\n");
        ks_buf_printf(notes, "GRUB_CMDLINE_LINUX: set, with a serial console\n");
        changed = true;
    }
    if (!have_terminal) {
        ks_buf_appends(&out, "GRUB_TERMINAL=\"console serial\"\n");
        ks_buf_printf(notes, "GRUB_TERMINAL: set to \"console serial\"\n");
        changed = true;
    }
    if (!have_serial) {
        ks_buf_appends(&out, "GRUB_SERIAL_COMMAND=\"serial --unit=0 --speed=115200\"\n");
        ks_buf_printf(notes, "GRUB_SERIAL_COMMAND: set to \"serial --unit=0 --speed=115200\"\n");
        changed = true;
    }
    return finish(&out, changed);
}

char *p2v_edit_modules_list(const char *text, const char *const *mods, ks_buf *notes)
{
    ks_buf out;
    ks_buf_init(&out, TEXT_MAX);
    bool changed = false;
    if (text)
        ks_buf_appends(&out, text);
    if (out.len && out.data[out.len - 1] != '\n')
        ks_buf_append(&out, "\n", 1);
    for (size_t m = 0; mods[m]; m++) {
        bool listed = false;
        line l;
        const char *p = text ? text : "";
        while (!listed && next_line(&p, &l)) {
            size_t i = 0, n = strlen(mods[m]);
            while (i < l.len && isblank((unsigned char)l.s[i]))
                i++;
            listed = l.len - i >= n && strncmp(l.s + i, mods[m], n) == 0 &&
                     (l.len - i == n || isblank((unsigned char)l.s[i + n]));
        }
        if (!listed) {
            if (!changed)
                ks_buf_appends(
                    &out, "# added by kvmshift p2v convert: drivers of KVM's virtio devices\n");
            ks_buf_printf(&out, "%s\n", mods[m]);
            ks_buf_printf(notes, "module %s added\n", mods[m]);
            changed = true;
        }
    }
    return finish(&out, changed);
}

char *p2v_edit_lvm_conf(const char *text, ks_buf *notes)
{
    ks_buf out;
    ks_buf_init(&out, TEXT_MAX);
    bool changed = false;
    line l;
    const char *p = text;
    while (next_line(&p, &l)) {
        size_t i = 0;
        while (i < l.len && isblank((unsigned char)l.s[i]))
            i++;
        line t = {l.s + i, l.len - i, l.nl};
        /* "filter = [ ... ]" with blanks around '=' */
        const char *name = NULL;
        if (starts(t.s, "filter") || starts(t.s, "global_filter"))
            name = starts(t.s, "filter") ? "filter" : "global_filter";
        const char *br = name ? memchr(t.s, '[', t.len) : NULL;
        bool names_sd =
            br && (memmem(t.s, t.len, "/dev/sd", 7) || memmem(t.s, t.len, "/dev/hd", 7));
        bool has_vd = br && memmem(t.s, t.len, "/dev/vd", 7);
        if (!names_sd || has_vd) {
            put_line(&out, l.s, l.len, l.nl);
            continue;
        }
        size_t at = (size_t)(br - l.s) + 1;
        ks_buf_append(&out, l.s, at);
        ks_buf_appends(&out, " \"a|^/dev/vd|\",");
        put_line(&out, l.s + at, l.len - at, l.nl);
        ks_buf_printf(notes, "lvm.conf: %s admits /dev/vd* (the virtio disks)\n", name);
        changed = true;
    }
    return finish(&out, changed);
}

char *p2v_edit_mdadm_conf(const char *text, ks_buf *notes)
{
    ks_buf out;
    ks_buf_init(&out, TEXT_MAX);
    bool changed = false;
    line l;
    const char *p = text;
    while (next_line(&p, &l)) {
        bool dev = l.len > 6 && strncmp(l.s, "DEVICE", 6) == 0 && isblank((unsigned char)l.s[6]);
        if (dev && (memmem(l.s, l.len, "/dev/sd", 7) || memmem(l.s, l.len, "/dev/hd", 7)) &&
            !memmem(l.s, l.len, "/dev/vd", 7)) {
            ks_buf_append(&out, l.s, l.len);
            put_line(&out, " /dev/vd*", 9, l.nl);
            ks_buf_printf(notes, "mdadm.conf: DEVICE lists /dev/vd* too\n");
            changed = true;
        } else {
            put_line(&out, l.s, l.len, l.nl);
        }
    }
    return finish(&out, changed);
}

bool p2v_net_rule_names(const char *rules, const char *mac, const char *name)
{
    line l;
    const char *p = rules;
    KS_AUTOFREE char *want_mac = ks_asprintf("ATTR{address}==\"%s\"", mac);
    KS_AUTOFREE char *want_name = ks_asprintf("NAME=\"%s\"", name);
    while (next_line(&p, &l)) {
        size_t i = 0;
        while (i < l.len && isblank((unsigned char)l.s[i]))
            i++;
        if (i == l.len || l.s[i] == '#')
            continue;
        KS_AUTOFREE char *s = ks_strndup(l.s, l.len);
        for (char *c = s; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        KS_AUTOFREE char *lname = ks_strdup(want_name);
        KS_AUTOFREE char *lmac = ks_strdup(want_mac);
        for (char *c = lname; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        for (char *c = lmac; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (!strstr(s, lmac) || !strstr(s, lname))
            continue;
        /* a rule bound to the old driver does not match the virtio NIC */
        const char *drv = strstr(s, "drivers==\"");
        if (drv && strncmp(drv + 10, "?*\"", 3) != 0)
            continue;
        return true;
    }
    return false;
}
