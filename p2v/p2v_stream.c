/* p2v_stream.c: one disk's copy over its own SSH connection.
 *
 * The source runs one POSIX shell loop (p2v_stream_script) that reads a
 * request line per chunk: the chunk's index, the checksum the target has
 * for it ('-' when none), the checksum of a chunk of zeros of that length,
 * the wire format wanted (r raw, g gzip -1, z zstd -1) and the pieces the
 * chunk is read from (device, offset, length: the disk, or an LVM snapshot
 * for the extents of a snapshotted volume, or '-' for zeros). For each it
 * hashes the chunk and answers
 *     "= I SUM"           unchanged: the target has it
 *     "Z I SUM"           all zeros: nothing sent, the target keeps a hole
 *     "D I SUM M" + data + "E I"   the chunk, in wire format M
 * The chunk is read twice (once for the sum, once to send; the second read
 * comes from the source's page cache). The data is checked here against
 * SUM: a chunk that changed between the two reads (a live server) or was
 * damaged on the way is asked for again, never kept.
 *
 * Requests are sent ahead (a window of them), so the source never waits
 * for us; the answers come in order. With P2V_COMPRESS_AUTO the wire
 * format is chosen by measurement: every format the source has is tried
 * on a few chunks, then the one that moved data fastest (bytes of chunk
 * per second between answers) is used, and the others are tried again
 * now and then because the data and the link change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "ks_log.h"
#include "ks_mem.h"
#include "ks_time.h"
#include "p2v_stream.h"

#define WINDOW 16
#define MAX_TRIES 5
#define MAX_PIECES 16
#define FLUSH_EVERY_S 2.0
#define FLUSH_EVERY_CHUNKS 256

/* No single quote in here: it is passed inside '...'. */
const char p2v_stream_script[] =
    "rd() {\n"
    "  while [ $# -ge 3 ]; do\n"
    "    if [ \"$1\" = - ]; then dd if=/dev/zero bs=1M iflag=count_bytes count=$3 2>/dev/null\n"
    "    else\n"
    "      [ -n \"$N\" ] && dd if=\"$1\" iflag=nocache count=0 2>/dev/null\n"
    "      dd if=\"$1\" bs=1M iflag=skip_bytes,count_bytes skip=$2 count=$3 2>/dev/null; fi\n"
    "    shift 3\n"
    "  done\n"
    "}\n"
    "set -f\n"
    "while read -r i e z m p; do\n"
    "  set -- $p\n"
    "  h=$(N=1 rd \"$@\" | $H); h=${h%% *}\n"
    "  case $h in\n"
    "  \"$e\"*) echo \"= $i $h\" ;;\n"
    "  \"$z\"*) echo \"Z $i $h\" ;;\n"
    "  *) echo \"D $i $h $m\"\n"
    "     case $m in\n"
    "     g) rd \"$@\" | gzip -1 -c ;;\n"
    "     z) rd \"$@\" | zstd -1 -q -c ;;\n"
    "     *) rd \"$@\" ;;\n"
    "     esac\n"
    "     echo \"E $i\" ;;\n"
    "  esac\n"
    "done\n";

typedef enum wire { W_RAW, W_GZIP, W_ZSTD, W_N } wire;
static const char wire_letter[W_N] = {'r', 'g', 'z'};
static const char *const wire_name[W_N] = {"none", "gzip -1", "zstd -1"};

typedef enum rstate { R_HEADER, R_DATA, R_TRAILER } rstate;

typedef struct request {
    size_t index;
    wire w;
} request;

typedef struct stream {
    p2v_disk_job *job;
    ssh_channel ch;
    ks_buf out;        /* request text not yet accepted */
    unsigned char *in; /* received, not yet parsed */
    size_t in_len, in_cap;
    request win[WINDOW];
    size_t win_head, win_n;
    size_t *queue; /* chunk indices to ask for, in order (a ring) */
    size_t q_head, q_n, q_cap;
    unsigned char *tries;
    /* the answer being read */
    rstate st;
    size_t cur;
    wire cur_w;
    char cur_sum[160];
    unsigned char *data;
    size_t data_len;
    uint64_t frame_wire;
    z_stream z;
    bool z_init;
    ZSTD_DStream *zs;
    /* wire format choice */
    bool avail[W_N];
    double rate[W_N];
    unsigned samples[W_N];
    unsigned long requests;
    size_t used[W_N];
    double last_answer;
    /* flushing */
    double last_flush;
    size_t unflushed;
    bool corrupt_once;
    long corrupt_chunk;
} stream;

static void q_push(stream *s, size_t i, bool front)
{
    if (s->q_n == s->q_cap) {
        size_t cap = s->q_cap ? s->q_cap * 2 : 64;
        size_t *q = ks_reallocarray(NULL, cap, sizeof *q);
        for (size_t k = 0; k < s->q_n; k++)
            q[k] = s->queue[(s->q_head + k) % s->q_cap];
        free(s->queue);
        s->queue = q;
        s->q_head = 0;
        s->q_cap = cap;
    }
    if (front) {
        s->q_head = (s->q_head + s->q_cap - 1) % s->q_cap;
        s->queue[s->q_head] = i;
    } else {
        s->queue[(s->q_head + s->q_n) % s->q_cap] = i;
    }
    s->q_n++;
}

static size_t q_pop(stream *s)
{
    size_t i = s->queue[s->q_head];
    s->q_head = (s->q_head + 1) % s->q_cap;
    s->q_n--;
    return i;
}

static wire choose_wire(stream *s)
{
    const p2v_disk_job *j = s->job;
    switch (j->compress) {
    case P2V_COMPRESS_NONE:
        return W_RAW;
    case P2V_COMPRESS_GZIP:
        return W_GZIP;
    case P2V_COMPRESS_ZSTD:
        return W_ZSTD;
    case P2V_COMPRESS_AUTO:
        break;
    }
    s->requests++;
    /* try each format on a few chunks first */
    for (int w = 0; w < W_N; w++)
        if (s->avail[w] && s->samples[w] < 3)
            return (wire)w;
    int best = W_RAW, second = -1;
    for (int w = 0; w < W_N; w++) {
        if (!s->avail[w])
            continue;
        if (s->rate[w] > s->rate[best]) {
            second = best;
            best = w;
        } else if (w != best && (second < 0 || s->rate[w] > s->rate[second])) {
            second = w;
        }
    }
    /* one request in 24 keeps the runner-up's figure current */
    if (second >= 0 && s->requests % 24 == 0)
        return (wire)second;
    return (wire)best;
}

static void note_rate(stream *s, wire w, size_t len, double now)
{
    double dt = now - s->last_answer;
    if (dt <= 1e-6)
        dt = 1e-6;
    double r = (double)len / dt;
    s->rate[w] = s->samples[w] ? 0.7 * s->rate[w] + 0.3 * r : r;
    s->samples[w]++;
    s->used[w]++;
}

static void add_request(stream *s, size_t i)
{
    p2v_disk_job *j = s->job;
    uint64_t off = (uint64_t)i * j->cur.chunk_size, len = p2v_chunk_len(&j->cur, i);
    p2v_piece pieces[MAX_PIECES];
    size_t np = p2v_sourcemap_pieces(&j->src, off, len, pieces, MAX_PIECES);
    const char *expect = "-";
    char have[P2V_HASH_HEX + 1];
    if (p2v_chunkmap_present(&j->cur, i)) {
        memcpy(have, j->cur.hex + i * P2V_HASH_HEX, P2V_HASH_HEX);
        have[P2V_HASH_HEX] = '\0';
        expect = have;
    }
    wire w = choose_wire(s);
    const char *zero = len == j->cur.chunk_size ? j->zero_full : j->zero_last;
    ks_buf_printf(&s->out, "%zu %s %s %c", i, expect, zero, wire_letter[w]);
    for (size_t k = 0; k < np; k++)
        ks_buf_printf(&s->out, " %s %llu %llu", pieces[k].dev ? pieces[k].dev : "-",
                      (unsigned long long)pieces[k].off, (unsigned long long)pieces[k].len);
    ks_buf_appends(&s->out, "\n");
    s->win[(s->win_head + s->win_n) % WINDOW] = (request){i, w};
    s->win_n++;
}

/* fmt has three %s: the server, the disk, and detail */
#define fail(s, code, err, fmt, detail)                                                            \
    (ks_error_set((err), (code), 0, fmt, (s)->job->server, (s)->job->name, (detail)), -1)

/* Make the chunks marked since the last flush durable and publish them to
 * the journal's copy of the map. */
static int flush_target(stream *s, ks_error *err)
{
    p2v_disk_job *j = s->job;
    if (!s->unflushed)
        return 0;
    if (p2v_target_flush(j->target, err) < 0)
        return -1;
    pthread_mutex_lock(&j->mu);
    memcpy(j->durable.hex, j->cur.hex, j->cur.n * P2V_HASH_HEX);
    j->dirty = true;
    pthread_mutex_unlock(&j->mu);
    s->unflushed = 0;
    s->last_flush = ks_time_mono();
    return 0;
}

/* A whole chunk arrived (or the answer that it needs none). */
static int chunk_done(stream *s, char kind, ks_error *err)
{
    p2v_disk_job *j = s->job;
    size_t i = s->cur;
    uint64_t off = (uint64_t)i * j->cur.chunk_size, len = p2v_chunk_len(&j->cur, i);
    double now = ks_time_mono();
    bool was = p2v_chunkmap_present(&j->cur, i);
    char old[P2V_HASH_HEX];
    if (was)
        memcpy(old, j->cur.hex + i * P2V_HASH_HEX, P2V_HASH_HEX);
    const char *zero = len == j->cur.chunk_size ? j->zero_full : j->zero_last;
    bool prev_zero = was && memcmp(old, zero, P2V_HASH_HEX) == 0;

    if (kind == 'D') {
        if (s->corrupt_once && (long)i == s->corrupt_chunk && s->data_len) {
            s->data[s->data_len / 2] ^= 0x5a; /* the test hook: damage on the way */
            s->corrupt_once = false;
        }
        char sum[160];
        p2v_hash_hex(j->hasher, s->data, s->data_len, sum);
        if (s->data_len != len || strcmp(sum, s->cur_sum) != 0) {
            j->res.resent++;
            if (++s->tries[i] < MAX_TRIES) {
                ks_log_info("'%s' %s: chunk %zu arrived with %s (%zu bytes, checksum %.16s "
                            "instead of %.16s): asked again",
                            j->server, j->name, i,
                            s->data_len != len ? "a wrong length" : "a checksum mismatch",
                            s->data_len, sum, s->cur_sum);
                q_push(s, i, true);
            } else {
                j->res.failed++;
                ks_log_warn("'%s' %s: chunk %zu was different at each of %d reads (it is being "
                            "written to): it stays marked as not copied, and the next run "
                            "copies it",
                            j->server, j->name, i, MAX_TRIES);
                if (was) {
                    p2v_chunkmap_clear_one(&j->cur, i);
                    s->unflushed++;
                }
            }
            s->last_answer = now;
            return 0;
        }
        if (p2v_target_write(j->target, off, s->data, len, err) < 0)
            return -1;
        note_rate(s, s->cur_w, (size_t)len, now);
        j->res.sent++;
        j->res.bytes_data += len;
        j->res.bytes_wire += s->frame_wire;
    } else if (kind == 'Z') {
        /* a fresh image reads as zeros already; anything else may hold an
         * older version of the chunk */
        if (!j->fresh && !prev_zero && p2v_target_zero(j->target, off, (size_t)len, err) < 0)
            return -1;
        j->res.zero++;
    } else {
        j->res.same++;
    }
    if (j->sync && (!was || memcmp(old, s->cur_sum, P2V_HASH_HEX) != 0) && kind != '=') {
        j->res.changed++;
        j->res.changed_bytes += len;
    }
    if (kind != '=') {
        p2v_chunkmap_set(&j->cur, i, s->cur_sum);
        s->unflushed++;
    }
    j->res.examined++;
    atomic_fetch_add(&j->done_bytes, len);
    s->last_answer = now;
    if (s->unflushed >= FLUSH_EVERY_CHUNKS || (s->unflushed && now - s->last_flush > FLUSH_EVERY_S))
        return flush_target(s, err);
    return 0;
}

static bool take_line(stream *s, char *line, size_t max)
{
    unsigned char *nl = memchr(s->in, '\n', s->in_len);
    if (!nl)
        return false;
    size_t n = (size_t)(nl - s->in);
    size_t c = n < max - 1 ? n : max - 1;
    memcpy(line, s->in, c);
    line[c] = '\0';
    memmove(s->in, nl + 1, s->in_len - n - 1);
    s->in_len -= n + 1;
    return true;
}

static void consume(stream *s, size_t n)
{
    memmove(s->in, s->in + n, s->in_len - n);
    s->in_len -= n;
    s->frame_wire += n;
}

static int start_data(stream *s, ks_error *err)
{
    s->data_len = 0;
    s->frame_wire = 0;
    if (s->cur_w == W_GZIP) {
        if (s->z_init)
            inflateEnd(&s->z);
        memset(&s->z, 0, sizeof s->z);
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
            return fail(s, KS_E_INTERNAL, err, "'%s' %s: %s", "zlib cannot start");
        s->z_init = true;
    } else if (s->cur_w == W_ZSTD) {
        ZSTD_initDStream(s->zs);
    }
    return 0;
}

/* Feed received bytes to the current chunk; true when it is complete. */
static int feed_data(stream *s, bool *complete, ks_error *err)
{
    p2v_disk_job *j = s->job;
    size_t cap = j->cur.chunk_size;
    *complete = false;
    if (s->cur_w == W_RAW) {
        size_t want = (size_t)p2v_chunk_len(&j->cur, s->cur) - s->data_len;
        size_t n = s->in_len < want ? s->in_len : want;
        memcpy(s->data + s->data_len, s->in, n);
        s->data_len += n;
        consume(s, n);
        *complete = s->data_len == p2v_chunk_len(&j->cur, s->cur);
        return 0;
    }
    if (s->cur_w == W_GZIP) {
        s->z.next_in = s->in;
        s->z.avail_in = (uInt)s->in_len;
        s->z.next_out = s->data + s->data_len;
        s->z.avail_out = (uInt)(cap - s->data_len);
        int rc = inflate(&s->z, Z_NO_FLUSH);
        size_t used = s->in_len - s->z.avail_in;
        s->data_len = cap - s->z.avail_out;
        consume(s, used);
        if (rc == Z_STREAM_END) {
            *complete = true;
            return 0;
        }
        if (rc == Z_OK || (rc == Z_BUF_ERROR && s->z.avail_out))
            return 0;
        return fail(s, KS_E_PARSE, err,
                    "'%s' %s: the gzip data of a chunk is damaged or too long (%s)",
                    s->z.msg ? s->z.msg : "inflate failed");
    }
    ZSTD_inBuffer zin = {s->in, s->in_len, 0};
    ZSTD_outBuffer zout = {s->data, cap, s->data_len};
    size_t rc = ZSTD_decompressStream(s->zs, &zout, &zin);
    s->data_len = zout.pos;
    consume(s, zin.pos);
    if (ZSTD_isError(rc))
        return fail(s, KS_E_PARSE, err, "'%s' %s: the zstd data of a chunk is damaged (%s)",
                    ZSTD_getErrorName(rc));
    if (rc == 0) {
        *complete = true;
        return 0;
    }
    if (zout.pos == zout.size && zin.pos < zin.size)
        return fail(s, KS_E_PARSE, err, "'%s' %s: %s", "a zstd chunk is larger than a chunk");
    return 0;
}

/* Parse what has arrived; -1 on a protocol error or a target failure. */
static int parse(stream *s, ks_error *err)
{
    char line[256];
    for (;;) {
        if (s->st == R_HEADER) {
            if (!take_line(s, line, sizeof line)) {
                if (s->in_len > 1024)
                    return fail(s, KS_E_REMOTE, err,
                                "'%s' %s: the source sent something that is not an answer of "
                                "the copy loop (%s)",
                                "a line too long");
                return 0;
            }
            if (!s->win_n)
                return fail(s, KS_E_REMOTE, err, "'%s' %s: unexpected answer '%s'", line);
            request r = s->win[s->win_head];
            char kind = 0, m = 'r';
            size_t idx = 0;
            char sum[160];
            int got = sscanf(line, "%c %zu %159s %c", &kind, &idx, sum, &m);
            if (got < 3 || idx != r.index || (kind != '=' && kind != 'Z' && kind != 'D') ||
                (kind == 'D' && (got != 4 || m != wire_letter[r.w])) || strlen(sum) < P2V_HASH_HEX)
                return fail(s, KS_E_REMOTE, err,
                            "'%s' %s: the source answered '%s' out of turn (is dd GNU dd, and "
                            "is the checksum tool there?)",
                            line);
            s->win_head = (s->win_head + 1) % WINDOW;
            s->win_n--;
            s->cur = idx;
            s->cur_w = r.w;
            snprintf(s->cur_sum, sizeof s->cur_sum, "%s", sum);
            if (kind != 'D') {
                if (chunk_done(s, kind, err) < 0)
                    return -1;
                continue;
            }
            if (start_data(s, err) < 0)
                return -1;
            s->st = R_DATA;
        }
        if (s->st == R_DATA) {
            bool complete = false;
            if (!s->in_len)
                return 0;
            if (feed_data(s, &complete, err) < 0)
                return -1;
            if (!complete)
                return 0;
            s->st = R_TRAILER;
        }
        if (s->st == R_TRAILER) {
            if (!take_line(s, line, sizeof line))
                return s->in_len > 64 ? fail(s, KS_E_REMOTE, err,
                                             "'%s' %s: a chunk had more bytes than announced "
                                             "(%s): a read error on the source?",
                                             "no end line")
                                      : 0;
            s->frame_wire += strlen(line) + 1;
            size_t idx;
            if (sscanf(line, "E %zu", &idx) != 1 || idx != s->cur) {
                return fail(s, KS_E_REMOTE, err,
                            "'%s' %s: a chunk ended with '%s' instead of its end line (a read "
                            "error on the source?)",
                            line);
            }
            s->st = R_HEADER;
            if (chunk_done(s, 'D', err) < 0)
                return -1;
        }
    }
}

static char *quote_script(const p2v_disk_job *j)
{
    if (j->helper) /* a path of plain characters (p2v_copy.c checks it) */
        return ks_asprintf("%sexec %s stream", j->sudo ? "sudo -n " : "", j->helper);
    /* the loop runs under /bin/sh whatever the user's login shell is */
    return ks_asprintf("%sLC_ALL=C H=%s exec /bin/sh -c '%s'", j->sudo ? "sudo -n " : "",
                       j->hash_tool, p2v_stream_script);
}

/* The connection broke under us: say so, and that the next run resumes. */
static int lost(const stream *s, ks_error *err)
{
    const p2v_disk_job *j = s->job;
    ks_error_set(err, KS_E_NET, 0,
                 "the connection to '%s' was lost while copying %s (%s: the server rebooted, "
                 "sshd was stopped, or the network was cut): run the same command again to "
                 "resume",
                 j->server, j->name, ssh_get_error(ks_ssh_session(j->ssh)));
    return -1;
}

static int pump(stream *s, ks_error *err)
{
    p2v_disk_job *j = s->job;
    ks_ssh *ssh = j->ssh;
    double last_data = ks_time_mono();
    for (;;) {
        if (atomic_load(j->stop)) {
            ks_error_set(err, KS_E_USAGE, EINTR, "'%s' %s: copy interrupted", j->server, j->name);
            return 1;
        }
        while (s->win_n < WINDOW && s->q_n)
            add_request(s, q_pop(s));
        /* done when nothing is asked for and no chunk is half received
         * (a chunk leaves the window with its header, before its data) */
        if (!s->win_n && !s->q_n && s->st == R_HEADER)
            return 0;
        bool progress = false;
        if (s->out.len) {
            int n = ssh_channel_write(s->ch, s->out.data, (uint32_t)s->out.len);
            if (n == SSH_ERROR)
                return lost(s, err);
            if (n > 0) {
                ks_buf_consume(&s->out, (size_t)n);
                progress = true;
            }
        }
        for (;;) {
            if (s->in_cap - s->in_len < 65536) {
                s->in_cap = s->in_cap ? s->in_cap * 2 : 1 << 20;
                s->in = ks_realloc(s->in, s->in_cap);
            }
            int n = ssh_channel_read_nonblocking(s->ch, s->in + s->in_len,
                                                 (uint32_t)(s->in_cap - s->in_len), 0);
            if (n == SSH_ERROR)
                return lost(s, err);
            if (n <= 0)
                break;
            s->in_len += (size_t)n;
            atomic_fetch_add(&j->wire_bytes, (uint64_t)n);
            progress = true;
            if (s->in_len > (4u << 20)) /* parse as we go: the buffer stays small */
                break;
        }
        /* stderr: nothing expected but a last word before an exit; keep
         * its end for the message, and the window open */
        char junk[4096];
        int en;
        while ((en = ssh_channel_read_nonblocking(s->ch, junk, sizeof junk, 1)) > 0) {
            if (j->remote_err.len > 4096)
                ks_buf_consume(&j->remote_err, j->remote_err.len - 2048);
            ks_buf_append(&j->remote_err, junk, (size_t)en);
        }
        if (parse(s, err) < 0)
            return -1;
        double now = ks_time_mono();
        if (progress) {
            last_data = now;
            continue;
        }
        if (ssh_channel_is_eof(s->ch) || ssh_channel_is_closed(s->ch) ||
            !ssh_is_connected(ks_ssh_session(ssh))) {
            if (j->remote_err.len && ssh_is_connected(ks_ssh_session(ssh))) {
                ks_error_set(err, KS_E_REMOTE, 0,
                             "the copy program on '%s' stopped while copying %s: %.300s", j->server,
                             j->name, ks_buf_str(&j->remote_err));
                return -1;
            }
            ks_error_set(err, KS_E_NET, 0,
                         "the connection to '%s' closed while copying %s (the server rebooted, "
                         "sshd was stopped, or the network was cut): run the same command again "
                         "to resume",
                         j->server, j->name);
            return -1;
        }
        if (now - last_data > j->timeout) {
            ks_error_set(err, KS_E_TIMEOUT, 0,
                         "no data from '%s' for %.0f s while copying %s: the connection seems "
                         "cut; run the same command again to resume",
                         j->server, j->timeout, j->name);
            return -1;
        }
        if (s->unflushed && now - s->last_flush > FLUSH_EVERY_S && flush_target(s, err) < 0)
            return -1;
        ks_ssh_wait(ssh, 0.1);
    }
}

int p2v_stream_run(p2v_disk_job *j, const size_t *chunks, size_t n)
{
    stream s = {.job = j};
    ks_error *err = &j->err;
    int rc = -1;
    ks_buf_init(&s.out, 64 << 20);
    s.tries = ks_calloc(j->cur.n ? j->cur.n : 1, 1);
    s.data = ks_malloc(j->cur.chunk_size);
    s.zs = ZSTD_createDStream();
    s.avail[W_RAW] = true;
    s.avail[W_GZIP] = j->have_gzip;
    s.avail[W_ZSTD] = j->have_zstd;
    s.last_flush = s.last_answer = ks_time_mono();
    const char *hook = getenv("KS_P2V_TEST_CORRUPT"); /* "DISK:CHUNK", tests only */
    if (hook) {
        const char *colon = strrchr(hook, ':');
        if (colon && (size_t)(colon - hook) == strlen(j->name) &&
            strncmp(hook, j->name, strlen(j->name)) == 0) {
            s.corrupt_once = true;
            s.corrupt_chunk = strtol(colon + 1, NULL, 10);
        }
    }
    for (size_t k = 0; k < n; k++)
        q_push(&s, chunks[k], false);

    KS_AUTOFREE char *cmd = quote_script(j);
    s.ch = ks_ssh_exec(j->ssh, cmd, j->timeout, err);
    if (!s.ch)
        goto out;
    s.last_answer = ks_time_mono();
    rc = pump(&s, err);
    ks_error e2;
    if (flush_target(&s, rc == 0 ? err : &e2) < 0)
        rc = -1;
    ssh_channel_send_eof(s.ch);
out:
    if (s.ch) {
        ssh_channel_close(s.ch);
        ssh_channel_free(s.ch);
    }
    size_t best = 0;
    for (int w = 0; w < W_N; w++)
        if (s.used[w] > s.used[best])
            best = (size_t)w;
    snprintf(j->res.mode, sizeof j->res.mode, "%s", s.used[best] ? wire_name[best] : "-");
    if (s.z_init)
        inflateEnd(&s.z);
    ZSTD_freeDStream(s.zs);
    free(s.data);
    free(s.tries);
    free(s.in);
    free(s.queue);
    ks_buf_free(&s.out);
    return rc;
}
