/* p2v_upload.h: a server's copied images into a storage pool reached
 * through libvirt (another host's, or not a directory), as a delta
 * against what the journal says each volume holds (p2v_upload.c). */
#ifndef P2V_UPLOAD_H
#define P2V_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ks_error.h"
#include "p2v_journal.h"

typedef struct p2v_upload_args {
    const char *server;
    const char *journal_path; /* where j is saved as the upload goes */
    const char *uri, *pool;
    const char *const *disks; /* upload only these disks of the journal; ndisks 0: all */
    size_t ndisks;
    bool force; /* replace a volume of that name the journal does not know */
    bool quiet;
    bool (*stop)(void *arg); /* asked between chunks: stop now (Ctrl-C) */
    void *stop_arg;
} p2v_upload_args;

typedef struct p2v_upload_result {
    size_t examined, sent, same, zero;
    uint64_t bytes_sent;
    double seconds;
} p2v_upload_result;

/* Upload every disk of j (each must be completely copied). 0 when every
 * volume holds its image, -1 with err filled (the journal says what got
 * there; the next call goes on from it). */
int p2v_upload_journal(p2v_journal *j, const p2v_upload_args *a, p2v_upload_result *res,
                       ks_error *err);

#endif
