/* mig_validate.c: kvmshift validate: a migrated server's VM compared with
 * the facts taken of its physical server (see migrate.h).
 *
 * The baseline is STUDY/facts/SERVER.json as it was at the first
 * validation: copied then to STUDY/validation/SERVER.baseline.json, so
 * that facts taken later of the VM (its inventory line switched to it)
 * never become their own baseline. The VM's facts come from the
 * collector's own script (col_facts_take), so that both sides are read
 * the same way; the comparison (mig_compare_facts) is pure.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_inventory.h"
#include "ks_json.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_ssh.h"
#include "ks_study.h"
#include "ks_time.h"
#include "mig_load.h"
#include "migrate.h"
#include "p2v.h"

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static bool array_has(const json_t *a, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        const char *v = json_string_value(x);
        if (v && strcmp(v, s) == 0)
            return true;
    }
    return false;
}

static void human_size(double bytes, char *buf, size_t n)
{
    if (bytes >= 1024.0 * 1024 * 1024)
        snprintf(buf, n, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    else
        snprintf(buf, n, "%.0f MiB", bytes / (1024.0 * 1024));
}

/* File systems whose size follows the machine (memory) or that are no
 * disk's: not compared. */
static bool fs_compared(const char *type)
{
    static const char *const skip[] = {"tmpfs",    "devtmpfs", "ramfs",      "squashfs", "overlay",
                                       "efivarfs", "proc",     "sysfs",      "devpts",   "cgroup",
                                       "cgroup2",  "autofs",   "fuse.lxcfs", NULL};
    for (size_t i = 0; skip[i]; i++)
        if (strcmp(type, skip[i]) == 0)
            return false;
    return *type != '\0';
}

static const json_t *find_obj(const json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (strcmp(str(x, key), value) == 0)
            return x;
    }
    return NULL;
}

static void check_virt(json_t *checks, const json_t *base, const json_t *vm)
{
    mig_check c = mig_check_new("virtualization");
    const char *v = json_string_value(json_object_get(vm, "virtualization"));
    const char *b = json_string_value(json_object_get(base, "virtualization"));
    if (!v)
        mig_evidence(&c, L_WARN,
                     "the VM does not say what it runs on (no systemd-detect-virt, no DMI)");
    else if (strcmp(v, "kvm") == 0 || strcmp(v, "qemu") == 0)
        mig_evidence(&c, L_PASS, "the VM runs on %s (the physical server: %s)", v,
                     b ? b : "unknown");
    else if (strcmp(v, "none") == 0)
        mig_evidence(
            &c, L_FAIL,
            "it answers as a physical machine (virtualization none): is the source still up "
            "at this address?");
    else
        mig_evidence(&c, L_WARN, "it runs on %s, not KVM", v);
    mig_finish(checks, &c, "%s", v ? v : "unknown");
}

static void check_hostname(json_t *checks, const json_t *base, const json_t *vm)
{
    mig_check c = mig_check_new("hostname");
    const char *b = str(base, "hostname"), *v = str(vm, "hostname");
    if (strcmp(b, v) != 0)
        mig_evidence(&c, L_WARN, "hostname '%s' on the source, '%s' on the VM", b, v);
    mig_finish(checks, &c, "%s", v);
}

static void check_filesystems(json_t *checks, const json_t *base, const json_t *vm)
{
    mig_check c = mig_check_new("filesystems");
    const json_t *bf = json_object_get(base, "filesystems"),
                 *vf = json_object_get(vm, "filesystems");
    size_t i, n = 0, same = 0;
    json_t *f;
    json_array_foreach(bf, i, f)
    {
        const char *mnt = str(f, "mountpoint"), *type = str(f, "type");
        if (!fs_compared(type) || !*mnt)
            continue;
        n++;
        double bsz = json_number_value(json_object_get(f, "size_bytes"));
        char bs[32], vs[32];
        human_size(bsz, bs, sizeof bs);
        const json_t *g = find_obj(vf, "mountpoint", mnt);
        if (!g) {
            mig_evidence(&c, L_FAIL, "%s (%s, %s on the source) is not mounted on the VM", mnt,
                         type, bs);
            continue;
        }
        if (strcmp(str(g, "type"), type) != 0) {
            mig_evidence(&c, L_FAIL, "%s is %s on the VM, %s on the source", mnt, str(g, "type"),
                         type);
            continue;
        }
        double vsz = json_number_value(json_object_get(g, "size_bytes"));
        human_size(vsz, vs, sizeof vs);
        /* the same blocks give the same size; allow for rounding of df */
        double slack = fmax(bsz / 100.0, 16.0 * 1024 * 1024);
        if (fabs(vsz - bsz) > slack) {
            mig_evidence(&c, L_WARN, "%s is %s on the VM, %s on the source", mnt, vs, bs);
            continue;
        }
        mig_evidence(&c, L_PASS, "%s %s %s (%s)", mnt, type, vs, str(g, "device"));
        same++;
    }
    if (n == 0)
        mig_evidence(&c, L_WARN, "no local file system in the facts of the source");
    mig_finish(checks, &c, "%zu of %zu file systems mounted as on the source", same, n);
}

static void check_nfs(json_t *checks, const json_t *base, const json_t *vm)
{
    mig_check c = mig_check_new("nfs_mounts");
    const json_t *bn = json_object_get(base, "nfs_mounts"), *vn = json_object_get(vm, "nfs_mounts");
    size_t i, n = 0, same = 0;
    json_t *m;
    json_array_foreach(bn, i, m)
    {
        n++;
        const char *mnt = str(m, "mountpoint"), *src = str(m, "source");
        const json_t *g = find_obj(vn, "mountpoint", mnt);
        if (!g)
            mig_evidence(&c, L_FAIL, "%s (%s from %s) is not mounted on the VM", mnt,
                         str(m, "type"), src);
        else if (strcmp(str(g, "source"), src) != 0)
            mig_evidence(&c, L_FAIL, "%s comes from %s on the VM, %s on the source", mnt,
                         str(g, "source"), src);
        else {
            mig_evidence(&c, L_PASS, "%s from %s", mnt, src);
            same++;
        }
    }
    if (n == 0)
        mig_finish(checks, &c, "none on the source");
    else
        mig_finish(checks, &c, "%zu of %zu network mounts as on the source", same, n);
}

static char *listener_key(const json_t *l)
{
    return ks_asprintf("%s %s:%lld", str(l, "proto"), str(l, "address"),
                       (long long)json_integer_value(json_object_get(l, "port")));
}

/* The listener of arr whose key is key, or NULL. */
static const json_t *find_listener(const json_t *arr, const char *key)
{
    size_t i;
    json_t *l;
    json_array_foreach(arr, i, l)
    {
        KS_AUTOFREE char *k = listener_key(l);
        if (strcmp(k, key) == 0)
            return l;
    }
    return NULL;
}

static void check_listening(json_t *checks, const json_t *base, const json_t *vm)
{
    mig_check c = mig_check_new("listening");
    const json_t *bl = json_object_get(base, "listening"), *vl = json_object_get(vm, "listening");
    /* a listener seen twice (IPv4 and IPv6 of one socket) counts once */
    json_t *seen = json_array();
    size_t i, k, n = 0, same = 0;
    json_t *l, *m;
    json_array_foreach(bl, i, l)
    {
        KS_AUTOFREE char *key = listener_key(l);
        if (array_has(seen, key))
            continue;
        json_array_append_new(seen, json_string(key));
        n++;
        const char *proc = str(l, "process");
        const json_t *found = find_listener(vl, key);
        if (!found) {
            /* the same program on a port of the VM's own (RPC services
             * pick theirs at each start) is a warning, not a loss */
            const json_t *moved = NULL;
            json_array_foreach(vl, k, m)
            {
                KS_AUTOFREE char *vk = listener_key(m);
                if (*proc && strcmp(str(m, "process"), proc) == 0 && !find_listener(bl, vk)) {
                    moved = m;
                    break;
                }
            }
            if (moved) {
                KS_AUTOFREE char *vk = listener_key(moved);
                mig_evidence(&c, L_WARN, "%s (%s) listens on %s on the VM instead", key, proc, vk);
            } else
                mig_evidence(&c, L_FAIL, "%s (%s) no longer listens on the VM", key,
                             *proc ? proc : "process unknown");
            continue;
        }
        const char *vproc = str(found, "process");
        if (*proc && *vproc && strcmp(proc, vproc) != 0) {
            mig_evidence(&c, L_WARN, "%s is %s's on the VM, %s's on the source", key, vproc, proc);
            continue;
        }
        mig_evidence(&c, L_PASS, "%s %s", key, *vproc ? vproc : proc);
        same++;
    }
    json_decref(seen);
    json_array_foreach(vl, k, m)
    {
        KS_AUTOFREE char *vk = listener_key(m);
        if (!find_listener(bl, vk))
            mig_evidence(&c, L_PASS, "new on the VM: %s (%s)", vk, str(m, "process"));
    }
    if (n == 0)
        mig_evidence(&c, L_WARN, "no TCP listener in the facts of the source");
    mig_finish(checks, &c, "%zu of %zu TCP listeners as on the source", same, n);
}

/* Is unit enabled in the list en, itself or as an instance of an enabled
 * template ("getty@tty1.service" of "getty@.service")? */
static bool enabled_on(const json_t *en, const char *unit)
{
    if (array_has(en, unit))
        return true;
    const char *at = strchr(unit, '@'), *dot = strrchr(unit, '.');
    if (!at || !dot || dot < at)
        return false;
    KS_AUTOFREE char *tmpl = ks_asprintf("%.*s%s", (int)(at - unit + 1), unit, dot);
    return array_has(en, tmpl);
}

static void check_services(json_t *checks, const json_t *base, const json_t *vm,
                           const json_t *disabled)
{
    mig_check c = mig_check_new("services_enabled");
    const json_t *be = json_object_get(base, "services"), *ve = json_object_get(vm, "services");
    size_t i, n = 0, same = 0;
    json_t *s;
    const char *unknown = json_string_value(json_object_get(base, "services_unknown"));
    const char *vm_unknown = json_string_value(json_object_get(vm, "services_unknown"));
    /* no line per service when the VM's list is not known: none can be judged */
    const json_t *compared = vm_unknown ? NULL : be;
    if (vm_unknown)
        mig_evidence(&c, L_WARN, "the VM's enabled services are not known (%s): nothing compared",
                     vm_unknown);
    json_array_foreach(compared, i, s)
    {
        const char *u = json_string_value(s);
        if (!u)
            continue;
        n++;
        if (array_has(ve, u))
            same++;
        else if (array_has(disabled, u))
            mig_evidence(&c, L_PASS, "%s disabled by the conversion (it breaks on KVM)", u);
        else
            mig_evidence(&c, L_FAIL, "%s is enabled on the source, not on the VM", u);
    }
    if (unknown)
        mig_evidence(&c, L_WARN,
                     "the source's enabled services are not known (%s when its facts were taken): "
                     "nothing to compare",
                     unknown);
    else if (n == 0 && !vm_unknown)
        mig_evidence(&c, L_WARN, "no enabled service in the facts of the source");
    mig_finish(checks, &c, "%zu of %zu services enabled as on the source", same, n);

    mig_check r = mig_check_new("services_running");
    const json_t *br = json_object_get(base, "services_running");
    const json_t *vr = json_object_get(vm, "services_running");
    const json_t *bfl = json_object_get(base, "services_failed");
    const json_t *vfl = json_object_get(vm, "services_failed");
    n = same = 0;
    if (!json_is_array(vr)) {
        mig_evidence(&r, L_WARN, "the VM does not list its running services (no systemd)");
    } else if (!json_is_array(br)) {
        mig_evidence(&r, L_WARN,
                     "the facts of the source do not list its running services (taken by an older "
                     "kvmshift, or no systemd): only failed services looked at");
    } else {
        json_array_foreach(br, i, s)
        {
            const char *u = json_string_value(s);
            if (!u)
                continue;
            n++;
            if (array_has(vr, u))
                same++;
            else if (array_has(disabled, u))
                mig_evidence(&r, L_PASS, "%s not running: disabled by the conversion", u);
            else if (array_has(vfl, u))
                mig_evidence(&r, L_FAIL, "%s ran on the source and failed on the VM", u);
            else if (enabled_on(be, u))
                mig_evidence(&r, L_FAIL, "%s ran on the source and does not run on the VM", u);
            else
                /* static and on-demand units (systemd-fsckd at boot, a
                 * getty on a console the VM lacks) come and go */
                mig_evidence(&r, L_WARN,
                             "%s ran on the source and does not run on the VM (not enabled there: "
                             "started on demand)",
                             u);
        }
    }
    json_array_foreach(vfl, i, s)
    {
        const char *u = json_string_value(s);
        if (!u || (json_is_array(br) && array_has(br, u)))
            continue; /* said above */
        if (array_has(bfl, u))
            mig_evidence(&r, L_WARN, "%s failed on the VM, as on the source", u);
        else
            mig_evidence(&r, L_FAIL, "%s failed on the VM", u);
    }
    mig_finish(checks, &r, "%zu of %zu services running as on the source; %zu failed on the VM",
               same, n, json_array_size(vfl));
}

static bool link_local(const char *a)
{
    return strncasecmp(a, "fe80:", 5) == 0 || strncmp(a, "169.254.", 8) == 0;
}

/* Did the network give the source this address (DHCP, SLAAC) rather than
 * its configuration? The facts say so ("addresses_dynamic"); facts taken
 * before they did: an IPv6 address whose interface identifier is the
 * MAC's EUI-64 (SLAAC). */
static bool dynamic_address(const json_t *nic, const char *addr, const char *mac)
{
    const json_t *dyn = json_object_get(nic, "addresses_dynamic");
    if (json_is_array(dyn))
        return array_has(dyn, addr);
    unsigned m[6];
    if (!strchr(addr, ':') ||
        sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
        return false;
    char eui[40];
    snprintf(eui, sizeof eui, ":%x:%x:%x:%x/", ((m[0] ^ 2u) << 8) | m[1], (m[2] << 8) | 0xffu,
             0xfe00u | m[3], (m[4] << 8) | m[5]);
    return strstr(addr, eui) != NULL;
}

static void check_network(json_t *checks, const json_t *base, const json_t *vm)
{
    mig_check c = mig_check_new("network");
    const json_t *bn = json_object_get(base, "nics"), *vn = json_object_get(vm, "nics");
    size_t i, k, n = 0, same = 0;
    json_t *nic, *x;
    json_array_foreach(bn, i, nic)
    {
        const char *mac = str(nic, "mac"), *name = str(nic, "name");
        if (!json_is_true(json_object_get(nic, "physical")) || !*mac ||
            strcmp(mac, "00:00:00:00:00:00") == 0)
            continue;
        n++;
        const json_t *v = NULL;
        json_array_foreach(vn, k, x)
        {
            if (strcasecmp(str(x, "mac"), mac) == 0) {
                v = x;
                break;
            }
        }
        if (!v) {
            mig_evidence(&c, L_FAIL, "no NIC with MAC %s (the source's %s) on the VM", mac, name);
            continue;
        }
        bool all = true;
        json_t *a;
        json_array_foreach(json_object_get(nic, "addresses"), k, a)
        {
            const char *ad = json_string_value(a);
            if (!ad || link_local(ad))
                continue;
            if (array_has(json_object_get(v, "addresses"), ad))
                continue;
            if (dynamic_address(nic, ad, mac))
                mig_evidence(
                    &c, L_WARN,
                    "%s (MAC %s) lacks %s on the VM: an address the network gave the source "
                    "(DHCP or router advertisements): check that the VM's network gives it",
                    str(v, "name"), mac, ad);
            else {
                mig_evidence(&c, L_FAIL, "%s (MAC %s) lacks the address %s on the VM",
                             str(v, "name"), mac, ad);
                all = false;
            }
        }
        if (!all)
            continue;
        KS_AUTOFREE char *addrs = NULL;
        ks_buf b;
        ks_buf_init(&b, 4096);
        json_array_foreach(json_object_get(v, "addresses"), k, a)
        {
            const char *ad = json_string_value(a);
            if (ad && !link_local(ad))
                ks_buf_printf(&b, "%s%s", b.len ? " " : "", ad);
        }
        addrs = ks_buf_steal(&b);
        if (strcmp(str(v, "name"), name) != 0)
            mig_evidence(&c, L_PASS, "MAC %s: %s on the source is %s on the VM, with %s", mac, name,
                         str(v, "name"), *addrs ? addrs : "no address");
        else
            mig_evidence(&c, L_PASS, "%s MAC %s with %s", name, mac, *addrs ? addrs : "no address");
        same++;
    }
    if (n == 0)
        mig_evidence(&c, L_WARN, "no physical NIC in the facts of the source");
    mig_finish(checks, &c, "%zu of %zu NICs with the same MAC and addresses", same, n);
}

json_t *mig_compare_facts(const json_t *baseline, const json_t *vm, const json_t *disabled)
{
    json_t *checks = json_array();
    check_virt(checks, baseline, vm);
    check_hostname(checks, baseline, vm);
    check_filesystems(checks, baseline, vm);
    check_nfs(checks, baseline, vm);
    check_listening(checks, baseline, vm);
    check_services(checks, baseline, vm, disabled);
    check_network(checks, baseline, vm);
    return checks;
}

/* ---- the run ------------------------------------------------------------ */

json_t *mig_baseline_load(const char *study_dir, const char *server, ks_error *err)
{
    KS_AUTOFREE char *dir = ks_path_join(study_dir, "validation");
    KS_AUTOFREE char *kept = ks_asprintf("%s/%s.baseline.json", dir, server);
    if (ks_path_exists(kept))
        return ks_json_read_file(kept, err);
    KS_AUTOFREE char *facts = ks_study_physical_facts(study_dir, server);
    if (!ks_path_exists(facts)) {
        ks_error_set(err, KS_E_USAGE, 0,
                     "no facts of '%s' in this study (%s): the facts of the physical server are "
                     "what its VM is compared with; take them with 'kvmshift facts %s --only %s' "
                     "before the migration",
                     server, facts, study_dir, server);
        return NULL;
    }
    json_t *j = ks_json_read_file(facts, err);
    if (!j)
        return NULL;
    if (!json_is_object(j)) {
        ks_error_set(err, KS_E_PARSE, 0, "%s is not a facts object", facts);
        json_decref(j);
        return NULL;
    }
    if (ks_mkdir_p(dir, err) < 0 || ks_json_write_file(kept, j, err) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static void say(const mig_validate_options *o, const char *server, const char *what)
{
    if (!o->quiet)
        fprintf(stderr, "validate %s: %s\n", server, what);
}

/* The VM's facts. A VM that has just booted, or whose systemd is reloading
 * (a unit disabled or enabled a moment ago), may not list its unit files
 * within the facts script's limit, slower still when emulated: the facts
 * then say services_unknown, and the services would go uncompared. They
 * are taken again, up to VALIDATE_FACTS_TRIES times, VALIDATE_FACTS_PAUSE
 * seconds apart; the last facts are kept whatever they say. */
enum { VALIDATE_FACTS_TRIES = 3, VALIDATE_FACTS_PAUSE = 10 };

static json_t *take_facts(ks_ssh *s, const mig_validate_options *o, const char *server,
                          ks_error *err)
{
    json_t *f = NULL;
    for (int i = 1; i <= VALIDATE_FACTS_TRIES; i++) {
        json_decref(f);
        f = col_facts_take(s, server, o->timeout, err);
        const char *why = f ? json_string_value(json_object_get(f, "services_unknown")) : NULL;
        if (!why || i == VALIDATE_FACTS_TRIES)
            break;
        char msg[300];
        snprintf(msg, sizeof msg,
                 "its services are not known (%s): taking its facts again in %d s "
                 "(try %d of %d)",
                 why, VALIDATE_FACTS_PAUSE, i + 1, VALIDATE_FACTS_TRIES);
        say(o, server, msg);
        sleep(VALIDATE_FACTS_PAUSE);
    }
    return f;
}

/* Log in to the VM, waiting for it to boot; the checks "reachable" and
 * "host_key" go to checks. The session, or NULL when there is none. */
static ks_ssh *login(const ks_ssh_target *t, const mig_validate_options *o, json_t *checks,
                     double *answered_after, ks_error *err)
{
    mig_check reach = mig_check_new("reachable"), hk = mig_check_new("host_key");
    double t0 = ks_time_mono();
    ks_error ce;
    ks_error_clear(&ce);
    ks_ssh *s;
    for (;;) {
        s = ks_ssh_new(t, err);
        if (!s) {
            json_decref(reach.o);
            json_decref(hk.o);
            return NULL;
        }
        double left = o->wait - (ks_time_mono() - t0);
        if (ks_ssh_connect(s, fmin(fmax(left, 1), 20), &ce) == 0)
            break;
        ks_ssh_free(s);
        s = NULL;
        if (ce.code == KS_E_HOSTKEY || ce.code == KS_E_AUTH || ks_time_mono() - t0 >= o->wait)
            break;
        sleep(3);
    }
    double waited = ks_time_mono() - t0;
    *answered_after = s || ce.code == KS_E_HOSTKEY ? waited : -1;
    if (!s && ce.code == KS_E_HOSTKEY) {
        mig_evidence(&reach, L_PASS, "SSH answered at %s port %d", t->address, t->port);
        mig_finish(checks, &reach, "SSH at %s port %d", t->address, t->port);
        mig_evidence(&hk, L_FAIL, "%s", ce.message);
        mig_finish(checks, &hk, "not the physical server's host key");
    } else if (!s) {
        mig_evidence(&reach, L_FAIL, "%s", ce.message);
        mig_finish(checks, &reach, "no SSH login at %s port %d after %.0f s", t->address, t->port,
                   waited);
        json_decref(hk.o);
    } else {
        mig_evidence(&reach, L_PASS, "logged in as %s after %.0f s",
                     *t->user ? t->user : "(default)", waited);
        mig_finish(checks, &reach, "SSH at %s port %d", t->address, t->port);
        if (t->known_address)
            mig_evidence(&hk, L_PASS,
                         "the key known for %s port %d (the physical server's address)",
                         t->known_address, t->known_port);
        else
            mig_evidence(&hk, L_PASS, "the key known for %s port %d", t->address, t->port);
        mig_finish(checks, &hk, "the physical server's host key");
    }
    ks_error_clear(err);
    return s;
}

/* The result object, written to STUDY/validation/. */
static json_t *result_write(const char *study_dir, const char *server, const ks_ssh_target *t,
                            json_t *checks, const json_t *vmf, double answered_after, ks_error *err)
{
    size_t cnt[3] = {0, 0, 0}, i;
    json_t *c;
    mig_level worst = L_PASS;
    json_array_foreach(checks, i, c)
    {
        const char *st = str(c, "status");
        mig_level lv = strcmp(st, "fail") == 0 ? L_FAIL : strcmp(st, "warn") == 0 ? L_WARN : L_PASS;
        cnt[lv]++;
        if (lv > worst)
            worst = lv;
    }
    char iso[KS_TIME_ISO_LEN];
    ks_time_iso(time(NULL), iso);
    json_t *result = json_pack(
        "{s:s,s:s,s:i,s:s,s:s,s:{s:i,s:i,s:i},s:O}", "server", server, "address", t->address,
        "port", t->port, "validated_at", iso, "verdict", mig_level_names[worst], "counts", "pass",
        (int)cnt[L_PASS], "warn", (int)cnt[L_WARN], "fail", (int)cnt[L_FAIL], "checks", checks);
    json_object_set_new(result, "answered_after_s",
                        answered_after >= 0 ? json_real(answered_after) : json_null());
    KS_AUTOFREE char *dir = ks_path_join(study_dir, "validation");
    KS_AUTOFREE char *path = ks_asprintf("%s/%s.json", dir, server);
    KS_AUTOFREE char *vpath = ks_asprintf("%s/%s.vm-facts.json", dir, server);
    if (ks_mkdir_p(dir, err) < 0 || (vmf && ks_json_write_file(vpath, vmf, err) < 0) ||
        ks_json_write_file(path, result, err) < 0) {
        json_decref(result);
        return NULL;
    }
    return result;
}

static json_t *validate_server(const char *study_dir, const ks_server *srv,
                               const mig_validate_options *o, const char *inv_path, ks_error *err)
{
    const char *server = srv->name;
    const ks_ssh_access *acc = &srv->ssh;
    const char *address = o->address && *o->address ? o->address : acc->address;
    int port = o->port > 0 ? o->port : acc->port;
    if (!*address) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "'%s' has no SSH address (method %s): fill its ssh_address column in %s, or "
                     "give --address",
                     server, ks_method_name(srv->method), inv_path);
        return NULL;
    }
    json_t *base = mig_baseline_load(study_dir, server, err);
    if (!base)
        return NULL;
    ks_error de;
    json_t *disabled = p2v_disabled_units(study_dir, server, &de);
    if (!disabled) {
        if (de.code != KS_E_USAGE)
            ks_log_warn("'%s': %s: the units its conversion disabled are not known", server,
                        de.message);
        disabled = json_array();
    }
    char origin[64];
    snprintf(origin, sizeof origin, "inventory line %u", srv->line);
    KS_AUTOFREE char *known = ks_path_join(study_dir, "known_hosts");
    bool elsewhere = strcmp(address, acc->address) != 0 || port != acc->port;
    ks_ssh_target t = {
        .name = server,
        .address = address,
        .port = port,
        .user = acc->user,
        .key = acc->key,
        .study_dir = study_dir,
        .known_hosts = known,
        .origin = origin,
        .known_address = elsewhere && *acc->address ? acc->address : NULL,
        .known_port = acc->port,
    };
    char msg[200];
    snprintf(msg, sizeof msg, "waiting for SSH at %s port %d (up to %.0f s)", address, port,
             o->wait);
    say(o, server, msg);
    json_t *checks = json_array(), *vmf = NULL, *result = NULL;
    double answered = -1;
    ks_ssh *s = login(&t, o, checks, &answered, err);
    if (!s && err->code != KS_OK)
        goto out;
    if (s) {
        say(o, server, "taking the VM's facts");
        ks_error fe;
        vmf = take_facts(s, o, server, &fe);
        if (!vmf) {
            mig_check f = mig_check_new("facts");
            mig_evidence(&f, L_FAIL, "%s", fe.message);
            mig_finish(checks, &f, "the VM's facts could not be taken");
        } else {
            json_t *more = mig_compare_facts(base, vmf, disabled);
            json_array_extend(checks, more);
            json_decref(more);
        }
    }
    if (mig_load_checks(study_dir, server, checks, err) < 0)
        goto out;
    result = result_write(study_dir, server, &t, checks, vmf, answered, err);
out:
    ks_ssh_free(s);
    json_decref(checks);
    json_decref(vmf);
    json_decref(disabled);
    json_decref(base);
    return result;
}

/* --load-only: the load checks again, the other checks of the last
 * validation kept as they were. */
static json_t *validate_load(const char *study_dir, const ks_server *srv, ks_error *err)
{
    KS_AUTOFREE char *rec = ks_asprintf("%s/physical/%s.json", study_dir, srv->name);
    if (!ks_path_exists(rec)) {
        ks_error_set(err, KS_E_USAGE, 0,
                     "'%s' has not been switched to its VM (%s is missing): a night does it once "
                     "the server is migrated, 'kvmshift validate %s %s --switch' by hand",
                     srv->name, rec, study_dir, srv->name);
        return NULL;
    }
    KS_AUTOFREE char *last = ks_asprintf("%s/validation/%s.json", study_dir, srv->name);
    json_t *prev = ks_path_exists(last) ? ks_json_read_file(last, err) : json_object();
    if (!prev)
        return NULL;
    json_t *checks = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(prev, "checks"), i, c)
    {
        if (strncmp(str(c, "check"), "load_", 5) != 0)
            json_array_append(checks, c);
    }
    json_t *result = NULL;
    if (mig_load_checks(study_dir, srv->name, checks, err) >= 0) {
        ks_ssh_target t = {.address = *str(prev, "address") ? str(prev, "address") : srv->address,
                           .port = json_is_integer(json_object_get(prev, "port"))
                                       ? (int)json_integer_value(json_object_get(prev, "port"))
                                       : srv->port};
        json_t *ans = json_object_get(prev, "answered_after_s");
        result = result_write(study_dir, srv->name, &t, checks, NULL,
                              json_is_number(ans) ? json_number_value(ans) : -1, err);
    }
    json_decref(checks);
    json_decref(prev);
    return result;
}

json_t *mig_validate(const char *study_dir, const char *server, const mig_validate_options *opt,
                     ks_error *err)
{
    mig_validate_options o = opt ? *opt : (mig_validate_options){0};
    if (o.wait <= 0)
        o.wait = 300;
    if (o.timeout <= 0)
        o.timeout = 120;
    ks_error_clear(err);
    ks_study *study = ks_study_open(study_dir, err);
    if (!study)
        return NULL;
    ks_study_free(study);
    KS_AUTOFREE char *inv_path = ks_path_join(study_dir, "inventory.csv");
    ks_inventory *inv = ks_inventory_load(inv_path, err);
    if (!inv)
        return NULL;
    json_t *result = NULL;
    const ks_server *srv = ks_inventory_find(inv, server);
    if (!srv)
        ks_error_set(err, KS_E_USAGE, 0, "no server '%s' in %s", server, inv_path);
    else if (o.load_only)
        result = validate_load(study_dir, srv, err);
    else
        result = validate_server(study_dir, srv, &o, inv_path, err);
    ks_inventory_free(inv);
    return result;
}
