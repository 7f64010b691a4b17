/* p2v_journal.c: STUDY/p2v/SERVER/journal.json, the state of one
 * server's conversion (see p2v_journal.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "ks_fs.h"
#include "ks_json.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_time.h"
#include "p2v_journal.h"
#include "p2v_target.h"

#define JOURNAL_FORMAT 1
#define MAX_RUNS 50

p2v_journal *p2v_journal_new(const char *server)
{
    p2v_journal *j = ks_calloc(1, sizeof *j);
    j->server = ks_strdup(server);
    j->state = ks_strdup("copying");
    j->error = ks_strdup("");
    j->consistency = ks_strdup("");
    j->runs = json_array();
    return j;
}

p2v_jdisk *p2v_journal_disk(p2v_journal *j, const char *name)
{
    for (size_t i = 0; i < j->ndisks; i++)
        if (strcmp(j->disks[i].name, name) == 0)
            return &j->disks[i];
    return NULL;
}

p2v_jdisk *p2v_journal_add_disk(p2v_journal *j, const char *name)
{
    j->disks = ks_reallocarray(j->disks, j->ndisks + 1, sizeof *j->disks);
    p2v_jdisk *d = &j->disks[j->ndisks++];
    memset(d, 0, sizeof *d);
    d->name = ks_strdup(name);
    d->image = ks_strdup("");
    d->format = ks_strdup("");
    d->hash = ks_strdup("");
    d->vol_uri = ks_strdup("");
    d->vol_pool = ks_strdup("");
    d->vol_name = ks_strdup("");
    d->vol_path = ks_strdup("");
    return d;
}

static void jdisk_free(p2v_jdisk *d)
{
    free(d->name);
    free(d->image);
    free(d->format);
    free(d->hash);
    p2v_chunkmap_free(&d->map);
    free(d->vol_uri);
    free(d->vol_pool);
    free(d->vol_name);
    free(d->vol_path);
    p2v_chunkmap_free(&d->vol_map);
}

void p2v_journal_remove_disk(p2v_journal *j, p2v_jdisk *d)
{
    size_t i = (size_t)(d - j->disks);
    jdisk_free(d);
    memmove(&j->disks[i], &j->disks[i + 1], (j->ndisks - i - 1) * sizeof *j->disks);
    j->ndisks--;
}

void p2v_journal_free(p2v_journal *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->ndisks; i++)
        jdisk_free(&j->disks[i]);
    free(j->disks);
    free(j->server);
    free(j->state);
    free(j->error);
    free(j->consistency);
    json_decref(j->runs);
    json_decref(j->conversion);
    json_decref(j->domain);
    free(j);
}

void p2v_journal_set(char **field, const char *value)
{
    free(*field);
    *field = ks_strdup(value ? value : "");
}

static const char *str_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool u64_of(json_t *o, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static double num_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

p2v_journal *p2v_journal_load(const char *path, ks_error *err)
{
    json_t *root = ks_json_read_file(path, err);
    if (!root)
        return NULL;
    p2v_journal *j = NULL;
    uint64_t fmt = 0;
    const char *server = str_of(root, "server");
    json_t *runs = NULL, *disks = NULL, *dj = NULL;
    size_t i = 0;
    if (!json_is_object(root) || !u64_of(root, "format", &fmt) || !server) {
        ks_error_set(err, KS_E_PARSE, 0, "'%s' is not a kvmshift P2V journal", path);
        goto out;
    }
    if (fmt != JOURNAL_FORMAT) {
        ks_error_set(err, KS_E_PARSE, 0,
                     "'%s' has journal format %llu, this kvmshift reads format %d: use the "
                     "kvmshift that wrote it",
                     path, (unsigned long long)fmt, JOURNAL_FORMAT);
        goto out;
    }
    j = p2v_journal_new(server);
    p2v_journal_set(&j->state, str_of(root, "state") ? str_of(root, "state") : "copying");
    p2v_journal_set(&j->error, str_of(root, "error"));
    p2v_journal_set(&j->consistency, str_of(root, "consistency"));
    j->updated = (time_t)num_of(root, "updated_unix");
    runs = json_object_get(root, "runs");
    if (json_is_array(runs)) {
        json_decref(j->runs);
        j->runs = json_incref(runs);
    }
    if (json_is_object(json_object_get(root, "conversion")))
        j->conversion = json_incref(json_object_get(root, "conversion"));
    j->converted_at = (time_t)num_of(root, "converted_at_unix");
    if (json_is_object(json_object_get(root, "domain")))
        j->domain = json_incref(json_object_get(root, "domain"));
    disks = json_object_get(root, "disks");
    if (!json_is_array(disks)) {
        ks_error_set(err, KS_E_PARSE, 0, "'%s': 'disks' is not a list", path);
        goto fail;
    }
    json_array_foreach(disks, i, dj)
    {
        const char *name = str_of(dj, "name"), *chunks = str_of(dj, "chunks");
        uint64_t size, cs;
        if (!name || !chunks || !u64_of(dj, "size", &size) || !u64_of(dj, "chunk_size", &cs) ||
            cs > UINT32_MAX) {
            ks_error_set(err, KS_E_PARSE, 0,
                         "'%s': disks[%zu] lacks its name, size, chunk_size or chunks", path, i);
            goto fail;
        }
        p2v_jdisk *d = p2v_journal_add_disk(j, name);
        p2v_journal_set(&d->image, str_of(dj, "image"));
        p2v_journal_set(&d->format, str_of(dj, "format"));
        p2v_journal_set(&d->hash, str_of(dj, "hash"));
        d->copied_at = (time_t)num_of(dj, "copied_at_unix");
        d->synced_at = (time_t)num_of(dj, "synced_at_unix");
        d->changed = (size_t)num_of(dj, "last_changed_chunks");
        d->changed_bytes = (uint64_t)num_of(dj, "last_changed_bytes");
        ks_error e;
        if (p2v_chunkmap_load(&d->map, size, (uint32_t)cs, chunks, &e) < 0) {
            ks_error_set(err, KS_E_PARSE, 0, "'%s': disk '%s': %s", path, name, e.message);
            goto fail;
        }
        json_t *vj = json_object_get(dj, "volume");
        if (json_is_object(vj)) {
            const char *vchunks = str_of(vj, "chunks"), *vname = str_of(vj, "name");
            if (!vchunks || !vname ||
                p2v_chunkmap_load(&d->vol_map, size, (uint32_t)cs, vchunks, &e) < 0) {
                ks_error_set(err, KS_E_PARSE, 0, "'%s': disk '%s': its volume is unreadable%s%s",
                             path, name, vchunks && vname ? ": " : "",
                             vchunks && vname ? e.message : "");
                goto fail;
            }
            p2v_journal_set(&d->vol_name, vname);
            p2v_journal_set(&d->vol_uri, str_of(vj, "uri"));
            p2v_journal_set(&d->vol_pool, str_of(vj, "pool"));
            p2v_journal_set(&d->vol_path, str_of(vj, "path"));
            d->uploaded_at = (time_t)num_of(vj, "uploaded_at_unix");
        }
    }
    goto out;
fail:
    p2v_journal_free(j);
    j = NULL;
out:
    json_decref(root);
    return j;
}

static void put_time(json_t *o, const char *key, time_t t)
{
    char iso[KS_TIME_ISO_LEN];
    if (!t) {
        json_object_set_new(o, key, json_null());
        return;
    }
    ks_time_iso(t, iso);
    json_object_set_new(o, key, json_string(iso));
    KS_AUTOFREE char *k = ks_asprintf("%s_unix", key);
    json_object_set_new(o, k, json_integer((json_int_t)t));
}

double p2v_jdisk_percent(const p2v_jdisk *d)
{
    return d->map.n ? 100.0 * (double)p2v_chunkmap_count_present(&d->map) / (double)d->map.n : 0;
}

json_t *p2v_journal_json(const p2v_journal *j)
{
    json_t *o = json_object();
    json_object_set_new(o, "format", json_integer(JOURNAL_FORMAT));
    json_object_set_new(o, "server", json_string(j->server));
    json_object_set_new(o, "state", json_string(j->state));
    json_object_set_new(o, "error", json_string(j->error));
    json_object_set_new(o, "consistency", json_string(j->consistency));
    put_time(o, "updated", j->updated);
    json_t *disks = json_array();
    for (size_t i = 0; i < j->ndisks; i++) {
        const p2v_jdisk *d = &j->disks[i];
        json_t *dj = json_object();
        json_object_set_new(dj, "name", json_string(d->name));
        json_object_set_new(dj, "size", json_integer((json_int_t)d->map.disk_size));
        json_object_set_new(dj, "chunk_size", json_integer(d->map.chunk_size));
        json_object_set_new(dj, "chunk_count", json_integer((json_int_t)d->map.n));
        json_object_set_new(dj, "chunks_on_target",
                            json_integer((json_int_t)p2v_chunkmap_count_present(&d->map)));
        json_object_set_new(dj, "image", json_string(d->image));
        json_object_set_new(dj, "format", json_string(d->format));
        json_object_set_new(dj, "hash", json_string(d->hash));
        put_time(dj, "copied_at", d->copied_at);
        put_time(dj, "synced_at", d->synced_at);
        json_object_set_new(dj, "last_changed_chunks", json_integer((json_int_t)d->changed));
        json_object_set_new(dj, "last_changed_bytes", json_integer((json_int_t)d->changed_bytes));
        /* last: the long ones */
        json_object_set_new(dj, "chunks", json_string(d->map.hex));
        if (*d->vol_name && d->vol_map.hex) {
            json_t *vj = json_object();
            json_object_set_new(vj, "uri", json_string(d->vol_uri));
            json_object_set_new(vj, "pool", json_string(d->vol_pool));
            json_object_set_new(vj, "name", json_string(d->vol_name));
            json_object_set_new(vj, "path", json_string(d->vol_path));
            put_time(vj, "uploaded_at", d->uploaded_at);
            json_object_set_new(vj, "chunks", json_string(d->vol_map.hex));
            json_object_set_new(dj, "volume", vj);
        }
        json_array_append_new(disks, dj);
    }
    json_object_set_new(o, "disks", disks);
    while (json_array_size(j->runs) > MAX_RUNS)
        json_array_remove(j->runs, 0);
    json_object_set(o, "runs", j->runs);
    put_time(o, "converted_at", j->converted_at);
    if (j->conversion)
        json_object_set(o, "conversion", j->conversion);
    if (j->domain)
        json_object_set(o, "domain", j->domain);
    return o;
}

int p2v_journal_save(const p2v_journal *j, const char *path, ks_error *err)
{
    json_t *o = p2v_journal_json(j);
    int rc = ks_json_write_file(path, o, err);
    json_decref(o);
    return rc;
}

int p2v_journal_lock(const char *dir, const char *server, ks_error *err)
{
    KS_AUTOFREE char *path = ks_path_join(dir, "lock");
    KS_AUTOFREE char *what = ks_asprintf("the P2V journal of '%s'", server);
    /* held until the process ends or closes it */
    return ks_lock_take(path, what, "p2v", 0, NULL, NULL, err);
}

int p2v_journal_rehash(p2v_journal *jr, size_t *changed, ks_error *err)
{
    *changed = 0;
    for (size_t k = 0; k < jr->ndisks; k++) {
        p2v_jdisk *d = &jr->disks[k];
        const p2v_target_ops *ops = p2v_target_ops_for(d->format);
        p2v_hasher *h = p2v_hasher_new(d->hash);
        if (!ops || !h) {
            p2v_hasher_free(h);
            ks_error_set(err, KS_E_PARSE, 0,
                         "disk '%s': the journal names format '%s', checksum "
                         "'%s'",
                         d->name, d->format, d->hash);
            return -1;
        }
        p2v_target *t = p2v_target_open(ops, d->image, d->map.disk_size, false, err);
        if (!t) {
            p2v_hasher_free(h);
            return -1;
        }
        unsigned char *buf = ks_malloc(d->map.chunk_size);
        int rc = 0;
        for (size_t i = 0; i < d->map.n && rc == 0; i++) {
            if (!p2v_chunkmap_present(&d->map, i))
                continue; /* not copied: nothing known to compare with */
            uint64_t len = p2v_chunk_len(&d->map, i);
            rc = p2v_target_read(t, (uint64_t)i * d->map.chunk_size, buf, (size_t)len, err);
            if (rc < 0)
                break;
            char hex[160];
            p2v_hash_hex(h, buf, (size_t)len, hex);
            if (memcmp(hex, d->map.hex + i * P2V_HASH_HEX, P2V_HASH_HEX) != 0) {
                hex[P2V_HASH_HEX] = '\0';
                p2v_chunkmap_set(&d->map, i, hex);
                (*changed)++;
            }
        }
        free(buf);
        p2v_target_close(t);
        p2v_hasher_free(h);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int p2v_journal_mark_converting(p2v_journal *j, const char *path, ks_error *err)
{
    char iso[KS_TIME_ISO_LEN];
    ks_time_iso(time(NULL), iso);
    json_decref(j->conversion);
    j->conversion = json_pack("{s:b,s:s}", "in_progress", 1, "started_at", iso);
    j->converted_at = 0;
    j->updated = time(NULL);
    return p2v_journal_save(j, path, err);
}

int p2v_journal_recover(p2v_journal *j, const char *path, ks_error *err)
{
    if (!j->conversion || !json_is_true(json_object_get(j->conversion, "in_progress")))
        return 0;
    ks_log_warn("'%s': a conversion of its copy was interrupted while it wrote the images: "
                "checksumming them again, so that a sync brings back what it changed",
                j->server);
    size_t changed = 0;
    if (p2v_journal_rehash(j, &changed, err) < 0)
        return -1;
    json_t *cj = json_pack("{s:s,s:I}", "failed",
                           "interrupted while it wrote the images (kvmshift stopped or killed)",
                           "chunks_changed", (json_int_t)changed);
    json_object_set(cj, "started_at", json_object_get(j->conversion, "started_at"));
    json_decref(j->conversion);
    j->conversion = cj;
    j->converted_at = 0;
    j->updated = time(NULL);
    return p2v_journal_save(j, path, err);
}
