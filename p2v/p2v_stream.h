/* p2v_stream.h: one disk's copy over its own SSH connection (see
 * p2v_stream.c for the protocol). A job is run by one thread; the fields
 * under "shared" are read by the copy's main thread (the journal and the
 * progress bar) while it runs. */
#ifndef P2V_STREAM_H
#define P2V_STREAM_H

#include <pthread.h>

#include "ks_ssh.h"
#include "p2v.h"
#include "p2v_internal.h"
#include "p2v_target.h"

typedef struct p2v_disk_job {
    /* set up by the caller */
    const char *server;
    char *name;
    p2v_sourcemap src;
    p2v_chunkmap cur; /* what the target holds; updated as chunks arrive */
    bool fresh;       /* the image was created by this run: all holes */
    bool sync;        /* count the chunks that changed */
    p2v_target *target;
    const char *hash_tool;
    const char *helper; /* the helper's path on the source; NULL: the shell loop */
    p2v_hasher *hasher;
    char zero_full[P2V_HASH_HEX + 1], zero_last[P2V_HASH_HEX + 1];
    bool have_gzip, have_zstd, sudo;
    p2v_compress compress;
    double timeout;
    ks_ssh *ssh; /* connected */
    atomic_bool *stop;
    /* shared with the main thread */
    pthread_mutex_t mu;
    p2v_chunkmap durable; /* cur as of the last flush of the target */
    bool dirty;           /* durable changed since the journal was written */
    _Atomic uint64_t done_bytes, wire_bytes;
    /* results, read once the thread is joined */
    ks_buf remote_err; /* what the source printed on stderr (the end of it) */
    p2v_disk_result res;
    ks_error err;
    int rc;
} p2v_disk_job;

/* The shell loop the source runs (POSIX sh, dd, the checksum tool, gzip
 * or zstd when asked). */
extern const char p2v_stream_script[];

/* Ask the source for chunks[0..n) in that order and write what comes to
 * the target. 0 done (chunks that kept changing are counted in
 * res.failed and left unmarked), 1 stopped by *stop, -1 with j->err. */
int p2v_stream_run(p2v_disk_job *j, const size_t *chunks, size_t n);

#endif
