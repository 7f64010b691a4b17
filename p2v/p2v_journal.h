/* p2v_journal.h: the journal of one server's conversion,
 * STUDY/p2v/SERVER/journal.json, replaced atomically (ks_json_write_file:
 * temporary name per thread, fsync, rename, directory fsync).
 *
 * It says, for each disk: its size, the chunk size, the checksum tool, the
 * image, and for every chunk the checksum (a 128-bit prefix) of what the
 * image holds durably, or '.' when the chunk is not there yet. A chunk is
 * marked only after the image was flushed, so the journal never claims
 * more than the image has; after a crash at most the chunks since the last
 * flush are sent again. Not thread-safe: one writer (the copy's main
 * thread). */
#ifndef P2V_JOURNAL_H
#define P2V_JOURNAL_H

#include <time.h>

#include <jansson.h>

#include "p2v_internal.h"

typedef struct p2v_jdisk {
    char *name, *image, *format, *hash;
    p2v_chunkmap map;
    time_t copied_at; /* when every chunk was first on the target */
    time_t synced_at; /* the last run that ended with every chunk there */
    size_t changed;   /* chunks that changed in the last sync */
    uint64_t changed_bytes;
    /* the image's copy in a pool reached through libvirt (p2v_upload.c):
     * where, and per chunk the checksum of what that volume holds ('.':
     * not known to hold the image's bytes) */
    char *vol_uri, *vol_pool, *vol_name, *vol_path;
    p2v_chunkmap vol_map;
    time_t uploaded_at; /* the last upload that ended with every chunk there */
} p2v_jdisk;

typedef struct p2v_journal {
    char *server;
    char *state; /* "copying", "synced", "interrupted", "failed" */
    char *error; /* why it failed, "" otherwise */
    char *consistency;
    time_t updated;
    p2v_jdisk *disks;
    size_t ndisks;
    json_t *runs; /* one object a run, the last 50 */
    /* the last conversion (p2v_convert.c): what it changed; converted_at 0
     * when the images were written by a copy since */
    json_t *conversion;
    time_t converted_at;
    json_t *domain; /* the libvirt domain it became (p2v_define.c), or NULL */
} p2v_journal;

p2v_journal *p2v_journal_new(const char *server);
/* NULL with err filled (missing file: KS_E_IO with errnum ENOENT). */
p2v_journal *p2v_journal_load(const char *path, ks_error *err);
int p2v_journal_save(const p2v_journal *j, const char *path, ks_error *err);
json_t *p2v_journal_json(const p2v_journal *j);
void p2v_journal_free(p2v_journal *j);

p2v_jdisk *p2v_journal_disk(p2v_journal *j, const char *name);
p2v_jdisk *p2v_journal_add_disk(p2v_journal *j, const char *name);
/* Drop disk d (an entry of j) from the journal. */
void p2v_journal_remove_disk(p2v_journal *j, p2v_jdisk *d);
void p2v_journal_set(char **field, const char *value);
double p2v_jdisk_percent(const p2v_jdisk *d);

/* Checksum every chunk of each image of j again; the chunks that differ
 * from the journal's (the ones a conversion wrote) get their new
 * checksum, so that a later sync sends them again from the source.
 * *changed: how many. -1 with err filled when an image cannot be read. */
int p2v_journal_rehash(p2v_journal *j, size_t *changed, ks_error *err);

/* Before a conversion writes the images: the journal (saved to path) says
 * a conversion is in progress and the copy is not converted. */
int p2v_journal_mark_converting(p2v_journal *j, const char *path, ks_error *err);

/* After loading, under the server's lock: a conversion that was killed
 * while it wrote the images (the mark above still there) left chunks the
 * journal does not know of; they are checksummed again (p2v_journal_rehash)
 * and the conversion recorded as failed, so that the next sync brings them
 * back from the source and the next conversion starts from what the
 * images hold. 0 when there was nothing to do or it is done. */
int p2v_journal_recover(p2v_journal *j, const char *path, ks_error *err);

/* Lock STUDY/p2v/SERVER (dir) against another kvmshift working on the
 * same server (copy, convert, define): the descriptor, held until closed
 * or the process ends; -1 with err filled when it is taken. */
int p2v_journal_lock(const char *dir, const char *server, ks_error *err);

#endif
