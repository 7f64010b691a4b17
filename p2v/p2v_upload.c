/* p2v_upload.c: the images of a server into a storage pool reached
 * through libvirt only (another host's pool, or one that is not a
 * directory here), as raw volumes written with virStorageVolUpload.
 *
 * Every chunk of the local image is read and checksummed (with the tool
 * the copy used, so an untouched image gives the journal's checksums) and
 * compared with what the journal says the volume holds; only the chunks
 * that differ are sent, in runs of up to 16 consecutive chunks per upload
 * stream. After a --sync, or once conversion changed the image, the
 * upload is a delta too. Zero chunks are not sent into a volume that was
 * just created in a directory pool (a sparse file: it reads as zeros).
 *
 * The journal records per chunk what the volume holds once libvirt
 * finished the stream of that run, so an interrupted upload resumes. A
 * volume that the journal does not know is never overwritten without
 * --force.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ks_log.h"
#include "ks_mem.h"
#include "ks_progress.h"
#include "ks_time.h"
#include "p2v_journal.h"
#include "p2v_target.h"
#include "p2v_upload.h"

#define RUN_CHUNKS 16

static bool all_zero(const unsigned char *p, size_t n)
{
    static const unsigned char z[4096];
    while (n) {
        size_t k = n < sizeof z ? n : sizeof z;
        if (memcmp(p, z, k))
            return false;
        p += k;
        n -= k;
    }
    return true;
}

typedef struct up {
    const p2v_upload_args *a;
    p2v_journal *j;
    p2v_jdisk *d;
    p2v_vol *vol;
    p2v_upload_result *res;
    ks_progress *bar;
    uint64_t total, done;
    double t0, last_save;
    /* the run being gathered: chunks first .. first + n - 1 */
    unsigned char *buf;
    size_t first, n;
    char hex[RUN_CHUNKS][P2V_HASH_HEX + 1];
} up;

static int save(up *u, ks_error *err)
{
    u->j->updated = time(NULL);
    u->last_save = ks_time_mono();
    return p2v_journal_save(u->j, u->a->journal_path, err);
}

static int flush_run(up *u, ks_error *err)
{
    if (!u->n)
        return 0;
    const p2v_chunkmap *m = &u->d->vol_map;
    uint64_t off = (uint64_t)u->first * m->chunk_size, len = 0;
    for (size_t k = 0; k < u->n; k++)
        len += p2v_chunk_len(m, u->first + k);
    if (p2v_vol_write(u->vol, off, u->buf, (size_t)len, err) < 0)
        return -1;
    for (size_t k = 0; k < u->n; k++)
        p2v_chunkmap_set(&u->d->vol_map, u->first + k, u->hex[k]);
    u->res->sent += u->n;
    u->res->bytes_sent += len;
    u->n = 0;
    if (ks_time_mono() - u->last_save > 2.0)
        return save(u, err);
    return 0;
}

static void show(up *u)
{
    double el = ks_time_mono() - u->t0;
    char detail[160];
    snprintf(detail, sizeof detail, "%s: %.0f MiB sent, %.1f MiB/s", u->d->name,
             (double)u->res->bytes_sent / 1048576.0,
             el > 0 ? (double)u->res->bytes_sent / 1048576.0 / el : 0.0);
    ks_progress_update(u->bar, (size_t)(u->done >> 10), detail);
}

static int upload_disk(up *u, ks_error *err)
{
    const p2v_upload_args *a = u->a;
    p2v_jdisk *d = u->d;
    const p2v_chunkmap *src = &d->map;
    if (p2v_chunkmap_count_present(src) != src->n) {
        ks_error_set(err, KS_E_USAGE, 0,
                     "disk '%s' of '%s' is not completely copied yet: run 'kvmshift p2v copy' "
                     "until it is, then upload",
                     d->name, a->server);
        return -1;
    }
    const p2v_target_ops *ops = p2v_target_ops_for(d->format);
    p2v_hasher *h = p2v_hasher_new(d->hash);
    if (!ops || !h) {
        ks_error_set(err, KS_E_PARSE, 0, "disk '%s': the journal names format '%s', checksum '%s'",
                     d->name, d->format, d->hash);
        p2v_hasher_free(h);
        return -1;
    }
    KS_AUTOFREE char *name = ks_asprintf("%s-%s.raw", a->server, d->name);
    bool ours = strcmp(d->vol_name, name) == 0 && strcmp(d->vol_pool, a->pool) == 0 &&
                strcmp(d->vol_uri, a->uri) == 0 && d->vol_map.hex;
    p2v_vol_existing ex = ours ? P2V_VOL_REUSE : a->force ? P2V_VOL_REPLACE : P2V_VOL_REFUSE;
    bool created = false, zeroed = false;
    int rc = -1;
    p2v_target *t = NULL;
    u->vol = p2v_vol_open(a->uri, a->pool, name, src->disk_size, ex, &created, &zeroed, err);
    if (!u->vol)
        goto out;
    if (created || !ours) {
        /* what the volume holds: zeros in a new sparse file, unknown else */
        p2v_chunkmap_free(&d->vol_map);
        p2v_chunkmap_init(&d->vol_map, src->disk_size, src->chunk_size);
        char zhex[P2V_HASH_HEX + 1] = "";
        uint64_t zlen = 0;
        for (size_t i = 0; zeroed && i < d->vol_map.n; i++) {
            uint64_t len = p2v_chunk_len(&d->vol_map, i);
            if (len != zlen) {
                unsigned char *z = ks_calloc(1, (size_t)len);
                char full[160];
                p2v_hash_hex(h, z, (size_t)len, full);
                memcpy(zhex, full, P2V_HASH_HEX);
                free(z);
                zlen = len;
            }
            p2v_chunkmap_set(&d->vol_map, i, zhex);
        }
        p2v_journal_set(&d->vol_name, name);
        p2v_journal_set(&d->vol_pool, a->pool);
        p2v_journal_set(&d->vol_uri, a->uri);
        KS_AUTOFREE char *path = p2v_vol_path(u->vol);
        p2v_journal_set(&d->vol_path, path);
        d->uploaded_at = 0;
        if (save(u, err) < 0)
            goto out;
    }
    t = p2v_target_open(ops, d->image, src->disk_size, false, err);
    if (!t)
        goto out;
    u->n = 0;
    for (size_t i = 0; i < src->n; i++) {
        if (a->stop && a->stop(a->stop_arg)) {
            ks_error_set(err, KS_E_USAGE, 0,
                         "upload of '%s' interrupted: the journal is saved, run the same command "
                         "again to resume",
                         a->server);
            goto out;
        }
        uint64_t len = p2v_chunk_len(src, i);
        unsigned char *slot = u->buf + (size_t)u->n * src->chunk_size;
        if (p2v_target_read(t, (uint64_t)i * src->chunk_size, slot, (size_t)len, err) < 0)
            goto out;
        char full[160];
        p2v_hash_hex(h, slot, (size_t)len, full);
        u->res->examined++;
        if (all_zero(slot, (size_t)len))
            u->res->zero++;
        const char *have = d->vol_map.hex + i * P2V_HASH_HEX;
        if (memcmp(have, full, P2V_HASH_HEX) == 0) {
            u->res->same++;
            if (flush_run(u, err) < 0)
                goto out;
        } else {
            if (u->n == 0)
                u->first = i;
            memcpy(u->hex[u->n], full, P2V_HASH_HEX);
            u->hex[u->n][P2V_HASH_HEX] = '\0';
            if (++u->n == RUN_CHUNKS && flush_run(u, err) < 0)
                goto out;
        }
        u->done += len;
        if (i % 16 == 0)
            show(u);
    }
    if (flush_run(u, err) < 0)
        goto out;
    d->uploaded_at = time(NULL);
    rc = save(u, err);
out:
    p2v_target_close(t);
    p2v_vol_close(u->vol);
    u->vol = NULL;
    p2v_hasher_free(h);
    return rc;
}

static bool wanted(const p2v_upload_args *a, const char *disk)
{
    for (size_t i = 0; i < a->ndisks; i++)
        if (strcmp(a->disks[i], disk) == 0)
            return true;
    return a->ndisks == 0;
}

int p2v_upload_journal(p2v_journal *j, const p2v_upload_args *a, p2v_upload_result *res,
                       ks_error *err)
{
    memset(res, 0, sizeof *res);
    up u = {.a = a, .j = j, .res = res, .t0 = ks_time_mono()};
    u.last_save = u.t0;
    uint32_t cs = 0;
    for (size_t i = 0; i < j->ndisks; i++) {
        if (!wanted(a, j->disks[i].name))
            continue;
        u.total += j->disks[i].map.disk_size;
        if (j->disks[i].map.chunk_size > cs)
            cs = j->disks[i].map.chunk_size;
    }
    u.buf = ks_malloc((size_t)cs * RUN_CHUNKS + 1);
    KS_AUTOFREE char *label = ks_asprintf("uploading %s to pool %s", a->server, a->pool);
    u.bar = ks_progress_new(label, (size_t)(u.total >> 10), a->quiet);
    int rc = 0;
    for (size_t i = 0; i < j->ndisks && rc == 0; i++) {
        u.d = &j->disks[i];
        if (wanted(a, u.d->name))
            rc = upload_disk(&u, err);
    }
    show(&u);
    ks_progress_done(u.bar);
    ks_progress_free(u.bar);
    free(u.buf);
    res->seconds = ks_time_mono() - u.t0;
    return rc;
}
