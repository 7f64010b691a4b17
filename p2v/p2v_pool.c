/* p2v_pool.c: images into a libvirt storage pool (--to pool:NAME).
 *
 * A pool of a local file-system kind (dir, fs, netfs) is a directory that
 * libvirt manages: the images are written there as into any directory,
 * under the names SERVER-DISK.FORMAT, and the pool is refreshed at the end
 * so that libvirt lists them as volumes. The pool's directory is read from
 * its XML (libxml2).
 *
 * A remote host's pool, or a local pool of another kind (LVM, iSCSI...),
 * is reached through libvirt only: a raw volume per disk, created here
 * (its XML written with libxml2) and written range by range with
 * virStorageVolUpload (p2v_upload.c decides which ranges).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "ks_mem.h"
#include "p2v_internal.h"

static void quiet_errors(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e; /* reported through ks_error instead of on stderr */
}

static const char *last_error(void)
{
    const virError *e = virGetLastError();
    return e && e->message ? e->message : "unknown libvirt error";
}

/* The text of the first node matching xpath, or NULL. */
static char *xml_text(xmlDocPtr doc, const char *xpath)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    if (!ctx)
        return NULL;
    char *out = NULL;
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)xpath, ctx);
    if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
        xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
        if (t)
            out = ks_strdup((const char *)t);
        xmlFree(t);
    }
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    return out;
}

static virConnectPtr open_uri(const char *uri, ks_error *err)
{
    virSetErrorFunc(NULL, quiet_errors);
    virConnectPtr c = virConnectOpen(uri);
    if (!c)
        ks_error_set(err, KS_E_CONFIG, 0, "cannot connect to libvirt at '%s': %s", uri,
                     last_error());
    return c;
}

/* The directory of a pool of a file-system type; NULL for another type. */
static char *pool_path(virStoragePoolPtr p, const char *pool, ks_error *err)
{
    char *xml = virStoragePoolGetXMLDesc(p, 0);
    if (!xml) {
        ks_error_set(err, KS_E_CONFIG, 0, "cannot read the definition of storage pool '%s': %s",
                     pool, last_error());
        return NULL;
    }
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "pool.xml", NULL, XML_PARSE_NONET);
    free(xml);
    if (!doc) {
        ks_error_set(err, KS_E_CONFIG, 0, "libvirt gave an unreadable definition of pool '%s'",
                     pool);
        return NULL;
    }
    KS_AUTOFREE char *type = xml_text(doc, "/pool/@type");
    char *path = xml_text(doc, "/pool/target/path");
    xmlFreeDoc(doc);
    if (!type || (strcmp(type, "dir") && strcmp(type, "fs") && strcmp(type, "netfs"))) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "storage pool '%s' is of type '%s': kvmshift writes images into pools of "
                     "type dir, fs or netfs (a directory)",
                     pool, type ? type : "?");
        free(path);
        return NULL;
    }
    if (!path || path[0] != '/') {
        ks_error_set(err, KS_E_CONFIG, 0, "storage pool '%s' has no target directory", pool);
        free(path);
        return NULL;
    }
    return path;
}

/* Whether libvirt at uri runs on another machine ("qemu+ssh://host/...",
 * "qemu+tcp://host/..."): its URI names a host. */
static bool uri_remote(virConnectPtr c)
{
    char *u = virConnectGetURI(c);
    const char *sep = u ? strstr(u, "://") : NULL;
    bool remote = sep && sep[3] != '/' && sep[3] != '\0';
    free(u);
    return remote;
}

int p2v_pool_probe(const char *uri, const char *pool, char **dir, ks_error *err)
{
    *dir = NULL;
    virConnectPtr c = open_uri(uri, err);
    if (!c)
        return -1;
    int rc = -1;
    virStoragePoolPtr p = virStoragePoolLookupByName(c, pool);
    if (!p) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "libvirt at '%s' has no storage pool '%s' (%s): see 'virsh pool-list --all'",
                     uri, pool, last_error());
    } else if (virStoragePoolIsActive(p) != 1) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "storage pool '%s' is not active: start it ('virsh pool-start %s')", pool,
                     pool);
    } else if (uri_remote(c)) {
        rc = 1; /* another machine's: its directory is not ours to write */
    } else {
        ks_error e;
        *dir = pool_path(p, pool, &e);
        /* a local pool that is not a directory (LVM, iSCSI...): through libvirt */
        rc = *dir ? 0 : 1;
    }
    if (p)
        virStoragePoolFree(p);
    virConnectClose(c);
    return rc;
}

int p2v_pool_refresh(const char *uri, const char *pool, ks_error *err)
{
    virConnectPtr c = open_uri(uri, err);
    if (!c)
        return -1;
    int rc = -1;
    virStoragePoolPtr p = virStoragePoolLookupByName(c, pool);
    if (p && virStoragePoolRefresh(p, 0) == 0)
        rc = 0;
    else
        ks_error_set(err, KS_E_CONFIG, 0,
                     "the images are in place, but storage pool '%s' could not be refreshed (%s): "
                     "run 'virsh pool-refresh %s'",
                     pool, last_error(), pool);
    if (p)
        virStoragePoolFree(p);
    virConnectClose(c);
    return rc;
}

/* ---- volumes written through libvirt ------------------------------------- */

struct p2v_vol {
    virConnectPtr c;
    virStorageVolPtr v;
    char *name;
};

/* <volume><name>NAME</name><capacity unit='bytes'>SIZE</capacity>
 * <allocation>0</allocation><target><format type='raw'/></target></volume> */
static char *volume_xml(const char *name, uint64_t size)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "volume");
    xmlDocSetRootElement(doc, root);
    xmlNewTextChild(root, NULL, BAD_CAST "name", BAD_CAST name);
    char sz[32];
    snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
    xmlNodePtr cap = xmlNewTextChild(root, NULL, BAD_CAST "capacity", BAD_CAST sz);
    xmlNewProp(cap, BAD_CAST "unit", BAD_CAST "bytes");
    xmlNewTextChild(root, NULL, BAD_CAST "allocation", BAD_CAST "0");
    xmlNodePtr target = xmlNewChild(root, NULL, BAD_CAST "target", NULL);
    xmlNodePtr fmt = xmlNewChild(target, NULL, BAD_CAST "format", NULL);
    xmlNewProp(fmt, BAD_CAST "type", BAD_CAST "raw");
    xmlChar *out = NULL;
    int n = 0;
    xmlDocDumpMemory(doc, &out, &n);
    xmlFreeDoc(doc);
    char *s = ks_strdup(out ? (const char *)out : "");
    xmlFree(out);
    return s;
}

static uint64_t volume_capacity(virStorageVolPtr v)
{
    virStorageVolInfo info;
    return virStorageVolGetInfo(v, &info) == 0 ? info.capacity : 0;
}

void p2v_vol_close(p2v_vol *v)
{
    if (!v)
        return;
    if (v->v)
        virStorageVolFree(v->v);
    if (v->c)
        virConnectClose(v->c);
    free(v->name);
    free(v);
}

/* The volume of v->name in pool p, per `existing` (see p2v_vol_open). */
static int vol_get(p2v_vol *v, virStoragePoolPtr p, const char *pool, uint64_t size,
                   p2v_vol_existing existing, bool *created, bool *zeroed, ks_error *err)
{
    v->v = virStorageVolLookupByName(p, v->name);
    if (v->v && existing == P2V_VOL_REUSE) {
        uint64_t cap = volume_capacity(v->v);
        if (cap == size)
            return 0;
        ks_error_set(err, KS_E_CONFIG, 0,
                     "volume '%s' of pool '%s' is %llu bytes, the disk %llu: it is not this "
                     "disk's copy (use --force to replace it)",
                     v->name, pool, (unsigned long long)cap, (unsigned long long)size);
        return -1;
    }
    if (v->v && existing == P2V_VOL_REFUSE) {
        ks_error_set(err, KS_E_CONFIG, EEXIST,
                     "storage pool '%s' already has a volume '%s' that kvmshift did not write: "
                     "it is left alone (use --force to replace it)",
                     pool, v->name);
        return -1;
    }
    if (v->v) {
        if (virStorageVolDelete(v->v, 0) < 0) {
            ks_error_set(err, KS_E_CONFIG, 0, "cannot replace volume '%s' of pool '%s': %s",
                         v->name, pool, last_error());
            return -1;
        }
        virStorageVolFree(v->v);
        v->v = NULL;
    }
    KS_AUTOFREE char *xml = volume_xml(v->name, size);
    v->v = virStorageVolCreateXML(p, xml, 0);
    if (!v->v) {
        ks_error_set(err, KS_E_CONFIG, 0, "cannot create volume '%s' in pool '%s': %s", v->name,
                     pool, last_error());
        return -1;
    }
    /* a new volume of a directory pool is a sparse file: it reads as zeros */
    ks_error ignored;
    KS_AUTOFREE char *dir = pool_path(p, pool, &ignored);
    *zeroed = dir != NULL;
    *created = true;
    return 0;
}

p2v_vol *p2v_vol_open(const char *uri, const char *pool, const char *name, uint64_t size,
                      p2v_vol_existing existing, bool *created, bool *zeroed, ks_error *err)
{
    *zeroed = *created = false;
    p2v_vol *v = ks_calloc(1, sizeof *v);
    v->name = ks_strdup(name);
    v->c = open_uri(uri, err);
    if (!v->c) {
        p2v_vol_close(v);
        return NULL;
    }
    virStoragePoolPtr p = virStoragePoolLookupByName(v->c, pool);
    int rc = -1;
    if (!p)
        ks_error_set(err, KS_E_CONFIG, 0, "libvirt at '%s' has no storage pool '%s' (%s)", uri,
                     pool, last_error());
    else
        rc = vol_get(v, p, pool, size, existing, created, zeroed, err);
    if (p)
        virStoragePoolFree(p);
    if (rc < 0) {
        p2v_vol_close(v);
        return NULL;
    }
    return v;
}

int p2v_vol_write(p2v_vol *v, uint64_t off, const void *data, size_t len, ks_error *err)
{
    virStreamPtr st = virStreamNew(virStorageVolGetConnect(v->v), 0);
    if (!st || virStorageVolUpload(v->v, st, off, len, 0) < 0) {
        ks_error_set(err, KS_E_IO, 0, "cannot upload into volume '%s': %s", v->name, last_error());
        if (st)
            virStreamFree(st);
        return -1;
    }
    const char *p = data;
    while (len) {
        int n = virStreamSend(st, p, len < (1u << 20) ? len : (1u << 20));
        if (n < 0) {
            ks_error_set(err, KS_E_IO, 0, "upload into volume '%s' failed: %s", v->name,
                         last_error());
            virStreamAbort(st);
            virStreamFree(st);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    int rc = virStreamFinish(st);
    if (rc < 0)
        ks_error_set(err, KS_E_IO, 0, "upload into volume '%s' did not complete: %s", v->name,
                     last_error());
    virStreamFree(st);
    return rc < 0 ? -1 : 0;
}

char *p2v_vol_path(p2v_vol *v)
{
    char *p = virStorageVolGetPath(v->v);
    char *out = ks_strdup(p ? p : "");
    free(p);
    return out;
}
