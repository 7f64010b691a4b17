/* p2v_domain.h: the libvirt domain of a converted server (p2v_domain.c):
 * what it is made of, gathered from the study (facts, plan, journal,
 * study.ini), and its XML, written with libxml2. Pure functions: the
 * golden tests (p2v/tests/data/domain) check facts + plan entry -> XML.
 */
#ifndef P2V_DOMAIN_H
#define P2V_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ks_error.h"

typedef struct p2v_vm_disk {
    char *source; /* path of the image (or volume) on the host */
    char *format; /* "qcow2" or "raw" */
    char *from;   /* the source's disk name, "sda" */
    char *target; /* "vda", "vdb"... */
} p2v_vm_disk;

typedef struct p2v_vm_nic {
    char *mac;  /* kept from the source, lower case */
    char *from; /* the source's NIC name, "ens3" */
} p2v_vm_nic;

typedef struct p2v_vm {
    char *name;
    char *virt_type; /* "kvm", or "qemu" (TCG) */
    unsigned vcpus;
    uint64_t memory_mib;
    /* the CPU time it may use at most, in host cores (the plan's quota with
     * [policy] cpu_cap = percentile): a <cputune> global quota; 0: none */
    double cpu_quota_cores;
    char *cpu_model; /* a libvirt CPU model of the source's class; NULL: host-model */
    bool uefi;
    char *machine; /* "pc" (BIOS) or "q35" (UEFI) */
    char *network; /* libvirt network of the NICs, or NULL with bridge set */
    char *bridge;
    char *console_log; /* a file the serial console is also written to; NULL: none */
    char *description;
    p2v_vm_disk *disks; /* the boot disk first */
    size_t ndisks;
    p2v_vm_nic *nics;
    size_t nnics;
} p2v_vm;

/* What the domain is made of, for one server:
 *   facts      its facts (DIR/facts/SERVER.json): NICs and MACs, boot
 *              mode, CPU model
 *   vcpus, memory_mib  the plan's right-sizing (or the overrides)
 *   disks      [{"name": "sda", "source": PATH, "format": "qcow2"}, ...]
 *              in the journal's order; boot_disk names the one to boot
 *              from (NULL: the first)
 *   network, bridge  where the NICs go (study.ini [p2v]); one of them
 *   virt_type  "kvm" or "qemu"
 *   cpu_model  the CPU model to ask for (p2v_cpu_model_class, checked
 *              against what the host offers), NULL: host-model
 * NULL with err filled when something is missing (no NIC with a MAC is
 * fine: the VM has no NIC). */
p2v_vm *p2v_vm_build(const char *server, const json_t *facts, unsigned vcpus, uint64_t memory_mib,
                     const json_t *disks, const char *boot_disk, const char *network,
                     const char *bridge, const char *virt_type, const char *cpu_model,
                     ks_error *err);
void p2v_vm_free(p2v_vm *vm);

/* The domain XML of vm (libxml2, indented), newly allocated. */
char *p2v_domain_xml(const p2v_vm *vm);

/* The libvirt CPU model of the class of the source's CPU, from its model
 * name in the facts ("Intel(R) Xeon(R) CPU E5-2650 v2 @ 2.60GHz" ->
 * "IvyBridge"); NULL when the name says too little (an emulated CPU, an
 * unknown one): the VM then gets the host's model. Static strings. */
const char *p2v_cpu_model_class(const char *model, const char *vendor);

#endif
