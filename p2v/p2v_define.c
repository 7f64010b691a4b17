/* p2v_define.c: register a converted server as a libvirt domain, through
 * the libvirt C API, on this machine's libvirt or a remote KVM host's.
 *
 * What the domain is made of comes from the study: the plan's right-sizing
 * (plan.json, or --vcpus/--memory), the facts (NICs and their MACs, which
 * the VM keeps; boot mode; the CPU's class), the journal (the images, the
 * disk the conversion found the boot loader on), study.ini's [p2v] section
 * (network or bridge, virt_type). On a remote host (or into a pool) the
 * images are uploaded first into the named pool, as a delta against what
 * the volumes hold. The CPU model of the source's class is asked for only
 * when the host's domain capabilities list it as usable; else the VM gets
 * the host's model. An existing domain of that name is never redefined
 * without force (and never while it runs). The domain is recorded in the
 * journal ("domain").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "ks_fs.h"
#include "ks_ini.h"
#include "ks_json.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_plan.h"
#include "ks_study.h"
#include "ks_time.h"
#include "p2v.h"
#include "p2v_domain.h"
#include "p2v_journal.h"
#include "p2v_upload.h"

static void quiet_errors(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e;
}

static const char *last_error(void)
{
    const virError *e = virGetLastError();
    return e && e->message ? e->message : "unknown libvirt error";
}

void p2v_define_result_free(p2v_define_result *res)
{
    if (!res)
        return;
    free(res->xml);
    memset(res, 0, sizeof *res);
}

/* Is CPU model `model` usable on the host for domains of this type and
 * machine (its domain capabilities, read with libxml2)? */
static bool cpu_usable(virConnectPtr c, const char *virt_type, const char *machine,
                       const char *model)
{
    char *caps = virConnectGetDomainCapabilities(c, NULL, "x86_64", machine, virt_type, 0);
    if (!caps)
        return false;
    xmlDocPtr doc = xmlReadMemory(caps, (int)strlen(caps), "domcaps.xml", NULL, XML_PARSE_NONET);
    free(caps);
    if (!doc)
        return false;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    bool ok = false;
    xmlXPathObjectPtr o =
        ctx ? xmlXPathEvalExpression(BAD_CAST "/domainCapabilities/cpu/mode[@name='custom' and "
                                              "@supported='yes']/model[@usable='yes']",
                                     ctx)
            : NULL;
    for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr && !ok; i++) {
        xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
        ok = t && strcmp((const char *)t, model) == 0;
        xmlFree(t);
    }
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return ok;
}

/* The size of the VM: the overrides, else the plan's right-sizing; its CPU
 * quota (0: none) from the plan whenever the plan has one. */
static int vm_size(const char *study, const char *server, const p2v_define_options *o,
                   unsigned *vcpus, uint64_t *mem, double *quota, ks_error *err)
{
    *vcpus = o->vcpus;
    *mem = o->memory_mib;
    *quota = 0;
    KS_AUTOFREE char *path = ks_path_join(study, "plan.json");
    ks_error pe;
    ks_plan *plan = ks_plan_load(path, &pe);
    if (plan && *vcpus && *mem) {
        const ks_plan_server_entry *e = ks_plan_server(plan, server);
        if (e && e->cpu_quota_cores > 0)
            *quota = e->cpu_quota_cores;
        ks_plan_free(plan);
        return 0;
    }
    if (!plan && *vcpus && *mem)
        return 0;
    if (!plan) {
        ks_error_set(err, KS_E_CONFIG, pe.errnum,
                     "no size for '%s': %s (run 'kvmshift analyze %s', or give --vcpus and "
                     "--memory)",
                     server, pe.message, study);
        return -1;
    }
    const ks_plan_server_entry *e = ks_plan_server(plan, server);
    int rc = 0;
    if (!e || e->status == KS_PLAN_NOT_ELIGIBLE || !e->vcpus || !e->memory_mib) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "the plan does not size '%s'%s: give --vcpus and --memory to define it "
                     "anyway",
                     server, !e ? " (it is not in plan.json)" : " (it is not eligible)");
        rc = -1;
    } else {
        if (!*vcpus)
            *vcpus = e->vcpus;
        if (!*mem)
            *mem = e->memory_mib;
        if (e->cpu_quota_cores > 0)
            *quota = e->cpu_quota_cores;
    }
    ks_plan_free(plan);
    return rc;
}

static bool stop_never(void *arg)
{
    (void)arg;
    return false;
}

/* The disks of the domain: the uploaded volumes (with a pool) or the
 * images where they are. */
static json_t *domain_disks(const p2v_journal *j, const char *uri, const char *pool)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < j->ndisks; i++) {
        const p2v_jdisk *d = &j->disks[i];
        bool vol =
            pool && *d->vol_path && strcmp(d->vol_pool, pool) == 0 && strcmp(d->vol_uri, uri) == 0;
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "name", d->name, "source",
                                             vol ? d->vol_path : d->image, "format",
                                             vol ? "raw" : d->format));
    }
    return arr;
}

int p2v_define(const char *study_dir, const char *server, const p2v_define_options *opt,
               p2v_define_result *res, ks_error *err)
{
    p2v_define_options o = *opt;
    const char *uri = o.target_uri ? o.target_uri : "qemu:///system";
    memset(res, 0, sizeof *res);
    KS_AUTOFREE char *base = ks_asprintf("%s/p2v/%s", study_dir, server);
    KS_AUTOFREE char *jpath = ks_path_join(base, "journal.json");
    KS_AUTOFREE char *ini_path = ks_path_join(study_dir, "study.ini");
    KS_AUTOFREE char *facts_path = ks_study_physical_facts(study_dir, server);
    int rc = -1, lockfd = -1;
    p2v_journal *j = NULL;
    ks_ini *ini = NULL;
    json_t *facts = NULL, *disks = NULL;
    p2v_vm *vm = NULL;
    virConnectPtr c = NULL;
    virDomainPtr dom = NULL;
    unsigned vcpus = 0;
    uint64_t mem = 0;
    double quota = 0;
    const char *boot_disk = NULL, *network = NULL, *bridge = NULL, *virt_type = NULL;
    const char *cpu_class = NULL;
    ks_error e;
    json_t *cpu, *dj;
    char uuid[VIR_UUID_STRING_BUFLEN], iso[KS_TIME_ISO_LEN];

    lockfd = p2v_journal_lock(base, server, err);
    if (lockfd < 0)
        goto out;
    j = p2v_journal_load(jpath, err);
    if (!j)
        goto out;
    if (!j->converted_at && !o.unconverted) {
        ks_error_set(err, KS_E_USAGE, 0,
                     "the copy of '%s' is not converted%s: run 'kvmshift p2v convert %s %s' "
                     "first",
                     server, j->conversion ? " any more (a copy wrote it since)" : "", study_dir,
                     server);
        goto out;
    }
    facts = ks_json_read_file(facts_path, &e);
    if (!facts) {
        ks_error_set(err, KS_E_CONFIG, e.errnum, "no facts of '%s': %s", server, e.message);
        goto out;
    }
    ini = ks_ini_load(ini_path, err);
    if (!ini)
        goto out;
    if (vm_size(study_dir, server, &o, &vcpus, &mem, &quota, err) < 0)
        goto out;
    network = ks_ini_get(ini, "p2v", "network");
    bridge = ks_ini_get(ini, "p2v", "bridge");
    virt_type = o.virt_type ? o.virt_type : ks_ini_get(ini, "p2v", "virt_type");
    if (!virt_type)
        virt_type = "kvm";
    if (strcmp(virt_type, "kvm") != 0 && strcmp(virt_type, "qemu") != 0) {
        ks_error_set(err, KS_E_USAGE, 0, "virt_type '%s' is neither kvm nor qemu (TCG)", virt_type);
        goto out;
    }
    if (j->conversion)
        boot_disk = json_string_value(json_object_get(j->conversion, "boot_disk"));
    cpu = json_object_get(facts, "cpu");
    cpu_class = p2v_cpu_model_class(json_string_value(json_object_get(cpu, "model")),
                                    json_string_value(json_object_get(cpu, "vendor")));

    virSetErrorFunc(NULL, quiet_errors);
    if (!o.dry_run || o.pool) {
        c = virConnectOpen(uri);
        if (!c) {
            ks_error_set(err, KS_E_CONFIG, 0, "cannot connect to libvirt at '%s': %s", uri,
                         last_error());
            goto out;
        }
    }
    if (c && strcmp(virt_type, "kvm") == 0 && cpu_class &&
        !cpu_usable(
            c, virt_type,
            json_is_string(json_object_get(facts, "boot_mode")) &&
                    strcmp(json_string_value(json_object_get(facts, "boot_mode")), "uefi") == 0
                ? "q35"
                : "pc",
            cpu_class)) {
        snprintf(res->cpu_note, sizeof res->cpu_note,
                 "the host cannot offer the source's CPU class (%s): the VM gets the host's model",
                 cpu_class);
        cpu_class = NULL;
    } else if (cpu_class && strcmp(virt_type, "kvm") == 0) {
        snprintf(res->cpu_note, sizeof res->cpu_note, "CPU model %s, the source's class%s",
                 cpu_class, c ? "" : " (not checked against the host: dry run)");
    }
    /* the images into the host's pool first (a delta) */
    if (o.pool && !o.dry_run) {
        const char **names = ks_calloc(j->ndisks + 1, sizeof *names);
        for (size_t i = 0; i < j->ndisks; i++)
            names[i] = j->disks[i].name;
        p2v_upload_args a = {.server = server,
                             .journal_path = jpath,
                             .uri = uri,
                             .pool = o.pool,
                             .disks = names,
                             .ndisks = j->ndisks,
                             .force = o.force,
                             .quiet = o.quiet,
                             .stop = stop_never};
        p2v_upload_result ur;
        int urc = p2v_upload_journal(j, &a, &ur, err);
        free(names);
        if (urc < 0)
            goto out;
        res->upload_bytes = ur.bytes_sent;
        res->upload_sent = ur.sent;
    }
    disks = domain_disks(j, uri, o.pool);
    vm = p2v_vm_build(server, facts, vcpus, mem, disks, boot_disk, network, bridge, virt_type,
                      cpu_class, err);
    if (!vm)
        goto out;
    if (o.console_log)
        vm->console_log = ks_strdup(o.console_log);
    vm->cpu_quota_cores = quota;
    res->xml = p2v_domain_xml(vm);
    res->vcpus = vcpus;
    res->memory_mib = mem;
    if (o.dry_run) {
        rc = 0;
        goto out;
    }
    dom = virDomainLookupByName(c, server);
    if (dom) {
        if (!o.force) {
            ks_error_set(err, KS_E_CONFIG, EEXIST,
                         "libvirt at '%s' already has a domain '%s': it is left as it is (use "
                         "--force to replace its definition)",
                         uri, server);
            goto out;
        }
        if (virDomainIsActive(dom) == 1) {
            ks_error_set(err, KS_E_CONFIG, EBUSY,
                         "domain '%s' is running on '%s': stop it before replacing its "
                         "definition",
                         server, uri);
            goto out;
        }
        virDomainFree(dom);
        dom = NULL;
    }
    dom = virDomainDefineXML(c, res->xml);
    if (!dom) {
        ks_error_set(err, KS_E_CONFIG, 0, "libvirt at '%s' refused the domain of '%s': %s", uri,
                     server, last_error());
        goto out;
    }
    if (virDomainGetUUIDString(dom, uuid) == 0)
        snprintf(res->uuid, sizeof res->uuid, "%s", uuid);
    dj = json_object();
    ks_time_iso(time(NULL), iso);
    json_object_set_new(dj, "uri", json_string(uri));
    json_object_set_new(dj, "name", json_string(server));
    json_object_set_new(dj, "uuid", json_string(res->uuid));
    json_object_set_new(dj, "defined_at", json_string(iso));
    json_object_set_new(dj, "vcpus", json_integer(vcpus));
    json_object_set_new(dj, "memory_mib", json_integer((json_int_t)mem));
    json_object_set_new(dj, "cpu_quota_cores", quota > 0 ? json_real(quota) : json_null());
    json_object_set_new(dj, "virt_type", json_string(virt_type));
    json_object_set_new(dj, "started", json_false());
    if (o.start) {
        if (virDomainCreate(dom) < 0) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "domain '%s' is defined on '%s' but did not start: %s", server, uri,
                         last_error());
            json_object_set_new(dj, "start_error", json_string(err->message));
            json_decref(j->domain);
            j->domain = dj;
            p2v_journal_save(j, jpath, &e);
            goto out;
        }
        res->started = true;
        json_object_set_new(dj, "started", json_true());
    }
    json_decref(j->domain);
    j->domain = dj;
    j->updated = time(NULL);
    if (p2v_journal_save(j, jpath, err) < 0)
        goto out;
    rc = 0;
out:
    if (dom)
        virDomainFree(dom);
    if (c)
        virConnectClose(c);
    p2v_vm_free(vm);
    json_decref(disks);
    json_decref(facts);
    ks_ini_free(ini);
    p2v_journal_free(j);
    if (lockfd >= 0)
        close(lockfd);
    return rc;
}

/* The domain of the journal's record, by UUID on the libvirt it names:
 * stopped if it runs, undefined (its NVRAM, managed save and snapshot
 * metadata with it), the images kept. */
int p2v_undefine(const char *study_dir, const char *server, bool quiet, bool *undefined,
                 ks_error *err)
{
    KS_AUTOFREE char *base = ks_asprintf("%s/p2v/%s", study_dir, server);
    KS_AUTOFREE char *jpath = ks_path_join(base, "journal.json");
    int rc = -1, lockfd = -1;
    p2v_journal *j = NULL;
    virConnectPtr c = NULL;
    virDomainPtr dom = NULL;
    char iso[KS_TIME_ISO_LEN];
    bool had = false;
    const char *uri = NULL, *uuid = NULL, *name = NULL;
    if (undefined)
        *undefined = false;

    lockfd = p2v_journal_lock(base, server, err);
    if (lockfd < 0)
        goto out;
    j = p2v_journal_load(jpath, err);
    if (!j)
        goto out;
    uri = j->domain ? json_string_value(json_object_get(j->domain, "uri")) : NULL;
    uuid = j->domain ? json_string_value(json_object_get(j->domain, "uuid")) : NULL;
    if (!uri || !uuid || json_object_get(j->domain, "undefined_at")) {
        rc = 0; /* nothing defined by kvmshift, or undefined already */
        goto out;
    }
    virSetErrorFunc(NULL, quiet_errors);
    c = virConnectOpen(uri);
    if (!c) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "cannot connect to libvirt at '%s' to remove the domain of '%s': %s", uri,
                     server, last_error());
        goto out;
    }
    dom = virDomainLookupByUUIDString(c, uuid);
    if (dom) {
        had = true;
        name = virDomainGetName(dom);
        if (!name || strcmp(name, server) != 0) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "the domain kvmshift defined for '%s' (uuid %s) is now called '%s' on "
                         "'%s': it is left alone; remove it by hand",
                         server, uuid, name ? name : "?", uri);
            goto out;
        }
        if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0) {
            ks_error_set(err, KS_E_CONFIG, 0, "cannot stop domain '%s' on '%s': %s", server, uri,
                         last_error());
            goto out;
        }
        unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                         VIR_DOMAIN_UNDEFINE_NVRAM;
        if (virDomainUndefineFlags(dom, flags) < 0) {
            ks_error_set(err, KS_E_CONFIG, 0, "cannot undefine domain '%s' on '%s': %s", server,
                         uri, last_error());
            goto out;
        }
        if (!quiet)
            ks_log_info("'%s': domain stopped and undefined on %s (its images are kept)", server,
                        uri);
    }
    ks_time_iso(time(NULL), iso);
    json_object_set_new(j->domain, "undefined_at", json_string(iso));
    json_object_set_new(j->domain, "started", json_false());
    j->updated = time(NULL);
    if (p2v_journal_save(j, jpath, err) < 0)
        goto out;
    if (undefined)
        *undefined = had;
    rc = 0;
out:
    if (dom)
        virDomainFree(dom);
    if (c)
        virConnectClose(c);
    p2v_journal_free(j);
    if (lockfd >= 0)
        close(lockfd);
    return rc;
}
