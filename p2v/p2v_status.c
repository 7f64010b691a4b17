/* p2v_status.c: kvmshift p2v status: every conversion's state, from the
 * journals (nothing is asked of the servers). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ks_fs.h"
#include "ks_inventory.h"
#include "ks_mem.h"
#include "ks_time.h"
#include "p2v.h"
#include "p2v_journal.h"

/* What the kept runs measured (the journal keeps the last 50): the
 * first complete copy's seconds (a "copy" run and the "resume" runs after
 * it, before the first sync), the last sync's seconds and changed bytes;
 * null when the runs do not show it. */
static void runs_measured(const p2v_journal *j, json_t *o)
{
    double copy_s = 0, sync_s = -1;
    json_int_t sync_changed = 0;
    bool in_copy = false, copy_done = false;
    size_t i;
    json_t *run;
    json_array_foreach(j->runs, i, run)
    {
        const char *kind = json_string_value(json_object_get(run, "kind"));
        double secs = json_number_value(json_object_get(run, "seconds"));
        if (!kind)
            continue;
        if (strcmp(kind, "copy") == 0) {
            in_copy = true;
            copy_done = false;
            copy_s = secs;
        } else if (strcmp(kind, "resume") == 0 && in_copy) {
            copy_s += secs;
        } else if (strcmp(kind, "sync") == 0) {
            if (in_copy)
                copy_done = true;
            in_copy = false;
            sync_s = secs;
            sync_changed = 0;
            size_t k;
            json_t *d;
            json_array_foreach(json_object_get(run, "disks"), k, d)
            {
                sync_changed += json_integer_value(json_object_get(d, "changed_bytes"));
            }
        }
    }
    /* a copy not followed by a sync is complete when every chunk is there */
    if (in_copy && j->ndisks > 0 && strcmp(j->state, "synced") == 0)
        copy_done = true;
    json_object_set_new(o, "copy_seconds", copy_done ? json_real(copy_s) : json_null());
    json_object_set_new(o, "last_sync_seconds", sync_s >= 0 ? json_real(sync_s) : json_null());
    json_object_set_new(o, "last_changed_bytes",
                        sync_s >= 0 ? json_integer(sync_changed) : json_null());
}

static json_t *one(const p2v_journal *j)
{
    json_t *o = json_object();
    uint64_t total = 0, have = 0, size = 0;
    time_t synced = 0;
    size_t changed = 0, chunks = 0;
    bool all_synced = j->ndisks > 0;
    json_t *disks = json_array();
    for (size_t i = 0; i < j->ndisks; i++) {
        const p2v_jdisk *d = &j->disks[i];
        size_t present = p2v_chunkmap_count_present(&d->map);
        total += d->map.n;
        size += d->map.disk_size;
        have += present;
        chunks += d->map.n;
        changed += d->changed;
        if (!d->synced_at)
            all_synced = false;
        else if (!synced || d->synced_at < synced)
            synced = d->synced_at;
        json_t *dj = json_object();
        json_object_set_new(dj, "disk", json_string(d->name));
        json_object_set_new(dj, "size", json_integer((json_int_t)d->map.disk_size));
        json_object_set_new(dj, "percent", json_real(p2v_jdisk_percent(d)));
        json_object_set_new(dj, "image", json_string(d->image));
        json_object_set_new(dj, "format", json_string(d->format));
        json_object_set_new(dj, "last_changed_chunks", json_integer((json_int_t)d->changed));
        json_object_set_new(dj, "last_changed_bytes", json_integer((json_int_t)d->changed_bytes));
        json_array_append_new(disks, dj);
    }
    char iso[KS_TIME_ISO_LEN];
    json_object_set_new(o, "server", json_string(j->server));
    json_object_set_new(o, "state", json_string(j->state));
    json_object_set_new(o, "percent", json_real(total ? 100.0 * (double)have / (double)total : 0));
    if (j->updated) {
        ks_time_iso(j->updated, iso);
        json_object_set_new(o, "updated", json_string(iso));
    } else {
        json_object_set_new(o, "updated", json_null());
    }
    if (all_synced && synced) {
        ks_time_iso(synced, iso);
        json_object_set_new(o, "synced_at", json_string(iso));
    } else {
        json_object_set_new(o, "synced_at", json_null());
    }
    json_object_set_new(o, "changed_percent",
                        json_real(chunks ? 100.0 * (double)changed / (double)chunks : 0));
    json_object_set_new(o, "error", json_string(j->error));
    json_object_set_new(o, "consistency", json_string(j->consistency));
    json_object_set_new(o, "disks", disks);
    if (j->converted_at)
        ks_time_iso(j->converted_at, iso);
    json_object_set_new(o, "converted_at", j->converted_at ? json_string(iso) : json_null());
    json_t *dom = j->domain ? json_object_get(j->domain, "uri") : NULL;
    json_object_set_new(o, "domain_uri", json_is_string(dom) ? json_incref(dom) : json_null());
    runs_measured(j, o);
    json_object_set_new(o, "size_bytes", json_integer((json_int_t)size));
    return o;
}

json_t *p2v_status(const char *study_dir, const char *server, ks_error *err)
{
    json_t *arr = json_array();
    KS_AUTOFREE char *top = ks_path_join(study_dir, "p2v");
    DIR *d = opendir(top);
    if (!d) {
        if (errno == ENOENT && !server)
            return arr; /* nothing copied yet */
        if (errno != ENOENT) {
            ks_error_set(err, KS_E_IO, errno, "cannot read '%s': %s", top, strerror(errno));
            json_decref(arr);
            return NULL;
        }
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !ks_server_name_valid(e->d_name))
            continue;
        if (server && strcmp(server, e->d_name) != 0)
            continue;
        names = ks_reallocarray(names, n + 1, sizeof *names);
        names[n++] = ks_strdup(e->d_name);
    }
    if (d)
        closedir(d);
    /* in name order */
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
            char *t = names[k];
            names[k] = names[k - 1];
            names[k - 1] = t;
        }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        KS_AUTOFREE char *path = ks_asprintf("%s/%s/journal.json", top, names[i]);
        ks_error je;
        p2v_journal *j = p2v_journal_load(path, &je);
        if (!j && je.errnum == ENOENT) {
            free(names[i]);
            continue;
        }
        if (!j) {
            if (!rc)
                ks_error_copy(err, &je);
            rc = -1;
        } else {
            json_array_append_new(arr, one(j));
            p2v_journal_free(j);
        }
        free(names[i]);
    }
    free(names);
    if (server && json_array_size(arr) == 0 && rc == 0) {
        ks_error_set(err, KS_E_USAGE, 0,
                     "no copy of '%s' in this study yet: start one with 'kvmshift p2v copy %s %s'",
                     server, study_dir, server);
        rc = -1;
    }
    if (rc < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *p2v_disabled_units(const char *study_dir, const char *server, ks_error *err)
{
    KS_AUTOFREE char *path = ks_asprintf("%s/p2v/%s/journal.json", study_dir, server);
    ks_error je;
    p2v_journal *j = p2v_journal_load(path, &je);
    if (!j) {
        if (je.errnum == ENOENT)
            ks_error_set(err, KS_E_USAGE, 0, "no copy of '%s' in this study (no %s)", server, path);
        else
            ks_error_copy(err, &je);
        return NULL;
    }
    json_t *units = json_array();
    json_t *changes = j->conversion ? json_object_get(j->conversion, "changes") : NULL;
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
    {
        const char *what = json_string_value(json_object_get(c, "what"));
        const char *file = json_string_value(json_object_get(c, "file"));
        if (!what || !file || strcmp(what, "agents") != 0)
            continue;
        const char *base = strrchr(file, '/');
        json_array_append_new(units, json_string(base ? base + 1 : file));
    }
    p2v_journal_free(j);
    return units;
}
