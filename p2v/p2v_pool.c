/* p2v_pool.c: images into a libvirt storage pool (--to pool:NAME).
 *
 * A pool of a local file-system kind (dir, fs, netfs) is a directory that
 * libvirt manages: the images are written there as into any directory,
 * under the names SERVER-DISK.FORMAT, and the pool is refreshed at the end
 * so that libvirt lists them as volumes. The pool's directory is read from
 * its XML (libxml2). A pool of another kind (LVM, iSCSI, RBD...), and a
 * remote host's pool, are refused with the reason: their volumes are not
 * files kvmshift can write here.
 */
#include <stdbool.h>
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

/* The directory of an active pool of a file-system type. */
static char *pool_path(virStoragePoolPtr p, const char *pool, ks_error *err)
{
    if (virStoragePoolIsActive(p) != 1) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "storage pool '%s' is not active: start it ('virsh pool-start %s')", pool,
                     pool);
        return NULL;
    }
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

char *p2v_pool_dir(const char *uri, const char *pool, ks_error *err)
{
    virConnectPtr c = open_uri(uri, err);
    if (!c)
        return NULL;
    char *dir = NULL;
    /* a pool on another machine ("qemu+ssh://host/system"): its directory
     * is not ours to write */
    char *u = virConnectGetURI(c);
    const char *sep = u ? strstr(u, "://") : NULL;
    bool remote = sep && strncmp(sep, ":///", 4) != 0;
    virStoragePoolPtr p = virStoragePoolLookupByName(c, pool);
    if (!p)
        ks_error_set(err, KS_E_CONFIG, 0,
                     "libvirt at '%s' has no storage pool '%s' (%s): see 'virsh pool-list --all'",
                     uri, pool, last_error());
    else if (remote)
        ks_error_set(err, KS_E_CONFIG, 0,
                     "storage pool '%s' is on a remote host (%s): kvmshift writes only into "
                     "pools of this machine for now; copy into a directory (--to DIR) and upload "
                     "the images with 'virsh vol-upload'",
                     pool, u);
    else
        dir = pool_path(p, pool, err);
    if (p)
        virStoragePoolFree(p);
    free(u);
    virConnectClose(c);
    return dir;
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
