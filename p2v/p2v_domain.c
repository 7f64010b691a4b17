/* p2v_domain.c: the libvirt domain of a converted server (see
 * p2v_domain.h). The XML is built as a libxml2 tree, never by pasting
 * strings, so that any name or path is escaped as XML wants. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include <libxml/tree.h>

#include "ks_mem.h"
#include "p2v_domain.h"

/* ---- the CPU's class -------------------------------------------------------- */

/* The number after `key` in s ("v2" -> 2, "Gold 6230" -> 6230), -1 if none. */
static long number_after(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    if (!p)
        return -1;
    p += strlen(key);
    if (!isdigit((unsigned char)*p))
        return -1;
    return strtol(p, NULL, 10);
}

/* The version suffix of an E3/E5/E7 name: " v2" -> 2, none -> 1. */
static long xeon_version(const char *s)
{
    const char *p = s;
    while ((p = strstr(p, " v")) != NULL) {
        if (isdigit((unsigned char)p[2]))
            return strtol(p + 2, NULL, 10);
        p += 2;
    }
    return 1;
}

const char *p2v_cpu_model_class(const char *model, const char *vendor)
{
    if (!model)
        return NULL;
    (void)vendor; /* the model name says it */
    if (strstr(model, "Xeon")) {
        static const char *const e5[] = {NULL, "SandyBridge", "IvyBridge", "Haswell", "Broadwell"};
        static const char *const e3[] = {NULL,        "SandyBridge",    "IvyBridge",     "Haswell",
                                         "Broadwell", "Skylake-Client", "Skylake-Client"};
        static const char *const e7[] = {NULL, "Westmere", "IvyBridge", "Haswell", "Broadwell"};
        long v = xeon_version(model);
        if (strstr(model, "E5-") && v >= 1 && v <= 4)
            return e5[v];
        if (strstr(model, "E3-") && v >= 1 && v <= 6)
            return e3[v];
        if (strstr(model, "E7-") && v >= 1 && v <= 4)
            return e7[v];
        /* Xeon Scalable: the second digit is the generation */
        static const char *const tiers[] = {"Platinum ", "Gold ", "Silver ", "Bronze ", NULL};
        for (size_t t = 0; tiers[t]; t++) {
            long n = number_after(model, tiers[t]);
            if (n >= 1000 && n <= 9999) {
                static const char *const gen[] = {NULL,
                                                  "Skylake-Server",
                                                  "Cascadelake-Server",
                                                  "Icelake-Server",
                                                  "SapphireRapids",
                                                  "SapphireRapids"};
                long g = (n / 100) % 10;
                return g >= 1 && g <= 5 ? gen[g] : NULL;
            }
        }
        /* 5500 and 5600 series: Nehalem and Westmere; 5400: Penryn */
        static const char *const older[] = {" X55", " E55", " L55", " W55", " X56", " E56",
                                            " L56", " W56", " X54", " E54", " L54", NULL};
        static const char *const older_model[] = {"Nehalem",  "Nehalem",  "Nehalem",  "Nehalem",
                                                  "Westmere", "Westmere", "Westmere", "Westmere",
                                                  "Penryn",   "Penryn",   "Penryn"};
        for (size_t k = 0; older[k]; k++)
            if (strstr(model, older[k]))
                return older_model[k];
        return NULL;
    }
    if (strstr(model, "EPYC")) {
        /* EPYC 7xx1 Naples, 7xx2 Rome, 7xx3 Milan, 9xx4 Genoa */
        long n = number_after(model, "EPYC ");
        if (n >= 1000 && n <= 9999) {
            static const char *const gen[] = {NULL, "EPYC", "EPYC-Rome", "EPYC-Milan",
                                              "EPYC-Genoa"};
            long g = n % 10;
            return g >= 1 && g <= 4 ? gen[g] : NULL;
        }
        return "EPYC";
    }
    if (strstr(model, "Opteron")) {
        long n = number_after(model, "Processor ");
        if (n >= 2300 && n < 2500)
            return "Opteron_G3";
        if ((n >= 8300 && n < 8500) || (n >= 6100 && n < 6200) || (n >= 4100 && n < 4200))
            return "Opteron_G3";
        if ((n >= 6200 && n < 6300) || (n >= 4200 && n < 4300))
            return "Opteron_G4";
        if ((n >= 6300 && n < 6400) || (n >= 4300 && n < 4400))
            return "Opteron_G5";
        return NULL;
    }
    return NULL;
}

/* ---- what the VM is made of ---------------------------------------------------- */

void p2v_vm_free(p2v_vm *vm)
{
    if (!vm)
        return;
    for (size_t i = 0; i < vm->ndisks; i++) {
        free(vm->disks[i].source);
        free(vm->disks[i].format);
        free(vm->disks[i].from);
        free(vm->disks[i].target);
    }
    free(vm->disks);
    for (size_t i = 0; i < vm->nnics; i++) {
        free(vm->nics[i].mac);
        free(vm->nics[i].from);
    }
    free(vm->nics);
    free(vm->name);
    free(vm->virt_type);
    free(vm->cpu_model);
    free(vm->machine);
    free(vm->network);
    free(vm->bridge);
    free(vm->console_log);
    free(vm->description);
    free(vm);
}

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool valid_mac(const char *m)
{
    if (strlen(m) != 17)
        return false;
    for (size_t i = 0; i < 17; i++)
        if (i % 3 == 2 ? m[i] != ':' : !isxdigit((unsigned char)m[i]))
            return false;
    /* not multicast (libvirt refuses it), not all zeros */
    return (strtol(m, NULL, 16) & 1) == 0 && strcmp(m, "00:00:00:00:00:00") != 0;
}

static void add_disk(p2v_vm *vm, const json_t *d)
{
    p2v_vm_disk *x = &vm->disks[vm->ndisks];
    x->from = ks_strdup(jstr(d, "name"));
    x->source = ks_strdup(jstr(d, "source"));
    x->format = ks_strdup(jstr(d, "format") ? jstr(d, "format") : "raw");
    /* vda..vdz, then vdaa.. (libvirt's naming) */
    size_t i = vm->ndisks;
    x->target = i < 26 ? ks_asprintf("vd%c", (char)('a' + i))
                       : ks_asprintf("vd%c%c", (char)('a' + i / 26 - 1), (char)('a' + i % 26));
    vm->ndisks++;
}

p2v_vm *p2v_vm_build(const char *server, const json_t *facts, unsigned vcpus, uint64_t memory_mib,
                     const json_t *disks, const char *boot_disk, const char *network,
                     const char *bridge, const char *virt_type, const char *cpu_model,
                     ks_error *err)
{
    if (!vcpus || !memory_mib) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "'%s' has no size: the plan does not size it (is it eligible? run 'kvmshift "
                     "analyze'), and no --vcpus and --memory were given",
                     server);
        return NULL;
    }
    if (!network && !bridge) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "study.ini names no network for the VMs' NICs: add a [p2v] section with "
                     "'network = NAME' (a libvirt network) or 'bridge = BRIDGE'");
        return NULL;
    }
    size_t nd = json_array_size(disks);
    if (!nd) {
        ks_error_set(err, KS_E_CONFIG, 0, "'%s' has no copied disk to boot from", server);
        return NULL;
    }
    size_t i;
    const json_t *d;
    json_array_foreach(disks, i, d)
    {
        if (!jstr(d, "name") || !jstr(d, "source")) {
            ks_error_set(err, KS_E_INTERNAL, 0, "disk %zu of '%s' has no name or source", i,
                         server);
            return NULL;
        }
    }
    p2v_vm *vm = ks_calloc(1, sizeof *vm);
    vm->name = ks_strdup(server);
    vm->virt_type = ks_strdup(virt_type ? virt_type : "kvm");
    vm->vcpus = vcpus;
    vm->memory_mib = memory_mib;
    vm->cpu_model = cpu_model ? ks_strdup(cpu_model) : NULL;
    const char *boot = jstr(facts, "boot_mode");
    vm->uefi = boot && strcmp(boot, "uefi") == 0;
    vm->machine = ks_strdup(vm->uefi ? "q35" : "pc");
    vm->network = network ? ks_strdup(network) : NULL;
    vm->bridge = !network && bridge ? ks_strdup(bridge) : NULL;
    vm->description = ks_asprintf("Physical server %s, moved by kvmshift p2v", server);
    /* the boot disk first: it is the BIOS's first disk, GRUB's hd0 */
    vm->disks = ks_calloc(nd, sizeof *vm->disks);
    for (int pass = 0; pass < 2; pass++)
        for (i = 0; i < nd; i++) {
            d = json_array_get(disks, i);
            bool is_boot = boot_disk && strcmp(jstr(d, "name"), boot_disk) == 0;
            if (is_boot == (pass == 0))
                add_disk(vm, d);
        }
    const json_t *nics = json_object_get(facts, "nics"), *n;
    json_array_foreach(nics, i, n)
    {
        const json_t *phys = json_object_get(n, "physical");
        const char *mac = jstr(n, "mac");
        if (json_is_false(phys) || !mac)
            continue;
        KS_AUTOFREE char *lower = ks_strdup(mac);
        for (char *c = lower; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (!valid_mac(lower))
            continue;
        vm->nics = ks_reallocarray(vm->nics, vm->nnics + 1, sizeof *vm->nics);
        vm->nics[vm->nnics].mac = ks_strdup(lower);
        vm->nics[vm->nnics].from = ks_strdup(jstr(n, "name") ? jstr(n, "name") : "");
        vm->nnics++;
    }
    return vm;
}

/* ---- the XML -------------------------------------------------------------------- */

static xmlNodePtr child(xmlNodePtr parent, const char *name, const char *text)
{
    return xmlNewTextChild(parent, NULL, BAD_CAST name, text ? BAD_CAST text : NULL);
}

static void attr(xmlNodePtr n, const char *name, const char *value)
{
    xmlNewProp(n, BAD_CAST name, BAD_CAST value);
}

char *p2v_domain_xml(const p2v_vm *vm)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr dom = xmlNewNode(NULL, BAD_CAST "domain");
    xmlDocSetRootElement(doc, dom);
    attr(dom, "type", vm->virt_type);
    child(dom, "name", vm->name);
    child(dom, "description", vm->description);
    xmlNodePtr meta = child(dom, "metadata", NULL);
    xmlNodePtr ours = xmlNewChild(meta, NULL, BAD_CAST "p2v", NULL);
    xmlNsPtr ns = xmlNewNs(ours, BAD_CAST "https://kvmshift.org/xmlns/p2v/1", BAD_CAST "kvmshift");
    xmlSetNs(ours, ns);
    xmlNewTextChild(ours, ns, BAD_CAST "source", BAD_CAST vm->name);
    char buf[64];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)vm->memory_mib);
    attr(child(dom, "memory", buf), "unit", "MiB");
    attr(child(dom, "currentMemory", buf), "unit", "MiB");
    snprintf(buf, sizeof buf, "%u", vm->vcpus);
    attr(child(dom, "vcpu", buf), "placement", "static");
    if (vm->cpu_quota_cores > 0) {
        /* the quota of the whole domain (all its vCPUs together) per
         * 100 ms, in microseconds; libvirt takes 1000 at least */
        xmlNodePtr tune = child(dom, "cputune", NULL);
        double q = ceil(vm->cpu_quota_cores * 100000);
        snprintf(buf, sizeof buf, "%.0f", q < 1000 ? 1000 : q);
        child(tune, "global_period", "100000");
        child(tune, "global_quota", buf);
    }

    xmlNodePtr os = child(dom, "os", NULL);
    if (vm->uefi)
        attr(os, "firmware", "efi");
    xmlNodePtr type = child(os, "type", "hvm");
    attr(type, "arch", "x86_64");
    attr(type, "machine", vm->machine);

    xmlNodePtr feat = child(dom, "features", NULL);
    child(feat, "acpi", NULL);
    child(feat, "apic", NULL);
    /* TCG takes the default model; KVM the source's class, or the host's */
    if (strcmp(vm->virt_type, "kvm") == 0) {
        xmlNodePtr cpu = child(dom, "cpu", NULL);
        if (vm->cpu_model) {
            attr(cpu, "mode", "custom");
            attr(cpu, "match", "exact");
            attr(cpu, "check", "partial");
            attr(child(cpu, "model", vm->cpu_model), "fallback", "allow");
        } else {
            attr(cpu, "mode", "host-model");
            attr(cpu, "check", "partial");
        }
    }
    attr(child(dom, "clock", NULL), "offset", "utc");
    child(dom, "on_poweroff", "destroy");
    child(dom, "on_reboot", "restart");
    child(dom, "on_crash", "destroy");

    xmlNodePtr dev = child(dom, "devices", NULL);
    for (size_t i = 0; i < vm->ndisks; i++) {
        const p2v_vm_disk *d = &vm->disks[i];
        xmlNodePtr disk = child(dev, "disk", NULL);
        attr(disk, "type", "file");
        attr(disk, "device", "disk");
        xmlNodePtr drv = child(disk, "driver", NULL);
        attr(drv, "name", "qemu");
        attr(drv, "type", d->format);
        attr(drv, "cache", "none");
        attr(drv, "io", "native");
        attr(drv, "discard", "unmap");
        attr(child(disk, "source", NULL), "file", d->source);
        xmlNodePtr tgt = child(disk, "target", NULL);
        attr(tgt, "dev", d->target);
        attr(tgt, "bus", "virtio");
        if (i == 0)
            attr(child(disk, "boot", NULL), "order", "1");
        child(disk, "serial", d->from);
    }
    for (size_t i = 0; i < vm->nnics; i++) {
        xmlNodePtr nic = child(dev, "interface", NULL);
        attr(nic, "type", vm->network ? "network" : "bridge");
        attr(child(nic, "mac", NULL), "address", vm->nics[i].mac);
        attr(child(nic, "source", NULL), vm->network ? "network" : "bridge",
             vm->network ? vm->network : vm->bridge);
        attr(child(nic, "model", NULL), "type", "virtio");
    }
    xmlNodePtr serial = child(dev, "serial", NULL);
    attr(serial, "type", "pty");
    if (vm->console_log) {
        xmlNodePtr log = child(serial, "log", NULL);
        attr(log, "file", vm->console_log);
        attr(log, "append", "on");
    }
    xmlNodePtr st = child(serial, "target", NULL);
    attr(st, "type", "isa-serial");
    attr(st, "port", "0");
    xmlNodePtr con = child(dev, "console", NULL);
    attr(con, "type", "pty");
    xmlNodePtr ct = child(con, "target", NULL);
    attr(ct, "type", "serial");
    attr(ct, "port", "0");
    xmlNodePtr chan = child(dev, "channel", NULL);
    attr(chan, "type", "unix");
    xmlNodePtr cht = child(chan, "target", NULL);
    attr(cht, "type", "virtio");
    attr(cht, "name", "org.qemu.guest_agent.0");
    attr(child(dev, "memballoon", NULL), "model", "virtio");
    xmlNodePtr rng = child(dev, "rng", NULL);
    attr(rng, "model", "virtio");
    attr(child(rng, "backend", "/dev/urandom"), "model", "random");

    xmlChar *out = NULL;
    int n = 0;
    xmlDocDumpFormatMemoryEnc(doc, &out, &n, "UTF-8", 1);
    xmlFreeDoc(doc);
    char *s = ks_strdup(out ? (const char *)out : "");
    xmlFree(out);
    return s;
}
