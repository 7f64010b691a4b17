/* p2v_chunks.c: the chunk map of a disk (what the target holds, by
 * checksum) and the source map (where each byte of the disk is read). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_mem.h"
#include "p2v_internal.h"

int p2v_chunkmap_init(p2v_chunkmap *m, uint64_t disk_size, uint32_t chunk_size)
{
    memset(m, 0, sizeof *m);
    if (chunk_size == 0 || chunk_size % 512 || disk_size == 0)
        return -1;
    m->disk_size = disk_size;
    m->chunk_size = chunk_size;
    m->n = (size_t)((disk_size + chunk_size - 1) / chunk_size);
    m->hex = ks_malloc(m->n * P2V_HASH_HEX + 1);
    memset(m->hex, '.', m->n * P2V_HASH_HEX);
    m->hex[m->n * P2V_HASH_HEX] = '\0';
    return 0;
}

void p2v_chunkmap_free(p2v_chunkmap *m)
{
    free(m->hex);
    memset(m, 0, sizeof *m);
}

bool p2v_chunkmap_present(const p2v_chunkmap *m, size_t i)
{
    return i < m->n && m->hex[i * P2V_HASH_HEX] != '.';
}

void p2v_chunkmap_set(p2v_chunkmap *m, size_t i, const char *hex)
{
    if (i < m->n)
        memcpy(m->hex + i * P2V_HASH_HEX, hex, P2V_HASH_HEX);
}

void p2v_chunkmap_clear_one(p2v_chunkmap *m, size_t i)
{
    if (i < m->n)
        memset(m->hex + i * P2V_HASH_HEX, '.', P2V_HASH_HEX);
}

size_t p2v_chunkmap_count_present(const p2v_chunkmap *m)
{
    size_t c = 0;
    for (size_t i = 0; i < m->n; i++)
        c += p2v_chunkmap_present(m, i);
    return c;
}

uint64_t p2v_chunk_len(const p2v_chunkmap *m, size_t i)
{
    uint64_t off = (uint64_t)i * m->chunk_size;
    if (off >= m->disk_size)
        return 0;
    uint64_t left = m->disk_size - off;
    return left < m->chunk_size ? left : m->chunk_size;
}

int p2v_chunkmap_load(p2v_chunkmap *m, uint64_t disk_size, uint32_t chunk_size, const char *hex,
                      ks_error *err)
{
    if (p2v_chunkmap_init(m, disk_size, chunk_size) < 0) {
        ks_error_set(err, KS_E_PARSE, 0, "chunk size %u or disk size %llu is not valid", chunk_size,
                     (unsigned long long)disk_size);
        return -1;
    }
    size_t want = m->n * P2V_HASH_HEX;
    if (!hex || strlen(hex) != want) {
        ks_error_set(err, KS_E_PARSE, 0, "%zu checksum characters instead of %zu (%zu chunks)",
                     hex ? strlen(hex) : 0, want, m->n);
        p2v_chunkmap_free(m);
        return -1;
    }
    for (size_t i = 0; i < m->n; i++) {
        const char *c = hex + i * P2V_HASH_HEX;
        bool absent = c[0] == '.';
        for (size_t k = 0; k < P2V_HASH_HEX; k++) {
            bool ok =
                absent ? c[k] == '.' : (c[k] >= '0' && c[k] <= '9') || (c[k] >= 'a' && c[k] <= 'f');
            if (!ok) {
                ks_error_set(err, KS_E_PARSE, 0, "the checksum of chunk %zu is not hexadecimal", i);
                p2v_chunkmap_free(m);
                return -1;
            }
        }
    }
    memcpy(m->hex, hex, want);
    return 0;
}

size_t p2v_chunkmap_diff(const p2v_chunkmap *a, const p2v_chunkmap *b)
{
    size_t n = a->n < b->n ? a->n : b->n, d = a->n > b->n ? a->n - b->n : 0;
    for (size_t i = 0; i < n; i++) {
        const char *x = a->hex + i * P2V_HASH_HEX, *y = b->hex + i * P2V_HASH_HEX;
        if (x[0] == '.' || y[0] == '.' || memcmp(x, y, P2V_HASH_HEX) != 0)
            d++;
    }
    return d;
}

/* ---- source map ---------------------------------------------------------- */

void p2v_sourcemap_clear(p2v_sourcemap *m)
{
    for (size_t i = 0; i < m->nr; i++)
        free(m->r[i].dev);
    free(m->r);
    free(m->disk_dev);
    memset(m, 0, sizeof *m);
}

size_t p2v_sourcemap_pieces(const p2v_sourcemap *m, uint64_t off, uint64_t len, p2v_piece *out,
                            size_t max)
{
    size_t n = 0;
    uint64_t pos = off, end = off + len;
    /* the redirects are sorted by start and do not overlap */
    size_t i = 0;
    while (i < m->nr && m->r[i].start + m->r[i].len <= pos)
        i++;
    while (pos < end) {
        if (n == max)
            return 0;
        const p2v_redirect *r = i < m->nr ? &m->r[i] : NULL;
        if (!r || r->start >= end || pos < r->start) {
            uint64_t stop = r && r->start < end ? r->start : end;
            out[n++] = (p2v_piece){m->disk_dev, pos, stop - pos};
            pos = stop;
            continue;
        }
        uint64_t stop = r->start + r->len < end ? r->start + r->len : end;
        out[n++] = (p2v_piece){r->dev, r->dev ? r->dev_off + (pos - r->start) : 0, stop - pos};
        pos = stop;
        i++;
    }
    return n;
}

static int cmp_redirect(const void *a, const void *b)
{
    const p2v_redirect *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static void add_redirect(p2v_sourcemap *m, uint64_t start, uint64_t len, const char *dev,
                         uint64_t dev_off)
{
    m->r = ks_reallocarray(m->r, m->nr + 1, sizeof *m->r);
    m->r[m->nr++] = (p2v_redirect){start, len, dev ? ks_strdup(dev) : NULL, dev_off};
}

/* Where the PV lies on the disk: its byte offset, or false when the PV is
 * not on this disk (or on something a copy cannot map, such as md). */
static bool pv_on_disk(const p2v_layout *l, const char *pv, const char *disk, uint64_t *base)
{
    const char *b = strrchr(pv, '/');
    b = b ? b + 1 : pv;
    if (strcmp(b, disk) == 0) {
        *base = 0;
        return true;
    }
    for (size_t i = 0; i < l->nparts; i++)
        if (strcmp(l->parts[i].name, b) == 0 && strcmp(l->parts[i].disk, disk) == 0) {
            *base = l->parts[i].start;
            return true;
        }
    return false;
}

static const p2v_vg *find_vg(const p2v_layout *l, const char *name)
{
    for (size_t i = 0; i < l->nvgs; i++)
        if (strcmp(l->vgs[i].name, name) == 0)
            return &l->vgs[i];
    return NULL;
}

static const p2v_pv *find_pv(const p2v_layout *l, const char *name)
{
    for (size_t i = 0; i < l->npvs; i++)
        if (strcmp(l->pvs[i].name, name) == 0)
            return &l->pvs[i];
    return NULL;
}

/* Can every segment of vg/lv be read through a snapshot, i.e. are they all
 * linear on a known PV? */
static bool lv_linear(const p2v_layout *l, const char *vg, const char *lv)
{
    bool any = false;
    for (size_t i = 0; i < l->nsegs; i++) {
        const p2v_seg *s = &l->segs[i];
        if (strcmp(s->vg, vg) || strcmp(s->lv, lv))
            continue;
        if (!s->pv || !find_pv(l, s->pv))
            return false;
        any = true;
    }
    return any;
}

size_t p2v_sourcemap_from_layout(p2v_sourcemap *m, const p2v_layout *l, const char *disk,
                                 const char *snap_prefix)
{
    p2v_sourcemap_clear(m);
    m->disk_dev = ks_asprintf("/dev/%s", disk);
    size_t redirected = 0, plen = strlen(snap_prefix);
    for (size_t si = 0; si < l->nsegs; si++) {
        const p2v_seg *snap = &l->segs[si];
        bool ours = strncmp(snap->lv, snap_prefix, plen) == 0;
        if (!ours)
            continue;
        const p2v_vg *vg = find_vg(l, snap->vg);
        if (!vg)
            continue;
        /* the snapshot's own extents (its copy-on-write store) are not data
         * of the server: zeros, which LVM reads as an empty snapshot */
        uint64_t base;
        const p2v_pv *pv = snap->pv ? find_pv(l, snap->pv) : NULL;
        if (pv && pv_on_disk(l, pv->name, disk, &base))
            add_redirect(m, base + pv->pe_start + snap->pe * vg->extent_size,
                         snap->count * vg->extent_size, NULL, 0);
        /* count each snapshot once, at its first segment */
        bool first = true;
        for (size_t k = 0; k < si; k++)
            if (strcmp(l->segs[k].vg, snap->vg) == 0 && strcmp(l->segs[k].lv, snap->lv) == 0)
                first = false;
        if (!first || snap->attr[0] != 's' || !*snap->origin ||
            !lv_linear(l, snap->vg, snap->origin))
            continue;
        KS_AUTOFREE char *dev = ks_asprintf("/dev/%s/%s", snap->vg, snap->lv);
        bool here = false;
        for (size_t oi = 0; oi < l->nsegs; oi++) {
            const p2v_seg *o = &l->segs[oi];
            if (strcmp(o->vg, snap->vg) || strcmp(o->lv, snap->origin))
                continue;
            const p2v_pv *opv = o->pv ? find_pv(l, o->pv) : NULL;
            if (!opv || !pv_on_disk(l, opv->name, disk, &base))
                continue;
            add_redirect(m, base + opv->pe_start + o->pe * vg->extent_size,
                         o->count * vg->extent_size, dev, o->le * vg->extent_size);
            here = true;
        }
        redirected += here;
    }
    if (m->nr > 1)
        ks_qsort(m->r, m->nr, sizeof *m->r, cmp_redirect);
    return redirected;
}
