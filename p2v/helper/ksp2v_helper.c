/* ksp2v_helper.c: the program kvmshift uploads to a source server for the
 * duration of a copy (see p2v_stream.c), when the server can run it.
 *
 * It answers exactly the requests the shell loop p2v_stream_script answers,
 * with the same replies, but reads, checks and compresses each chunk in
 * this one process instead of starting dd, a checksum tool and a
 * compressor for every chunk: on a slow CPU, or an emulated one, starting
 * six programs per chunk costs more than the copy itself. It only reads:
 * the devices it is given are opened O_RDONLY, and it writes nothing but
 * its standard output and, on a fatal error, one line on standard error.
 *
 * Requests, one per line on stdin:
 *     INDEX EXPECTED ZERO MODE DEV OFF LEN [DEV OFF LEN ...]
 * EXPECTED and ZERO are hex prefixes of checksums ("-" for none), MODE is
 * r (as is), g (gzip -1) or z (zstd -1), DEV "-" stands for zeros. The
 * chunk is the pieces one after the other. Replies on stdout:
 *     "= INDEX SUM"  the chunk's checksum starts with EXPECTED
 *     "Z INDEX SUM"  it starts with ZERO (the chunk is all zeros)
 *     "D INDEX SUM MODE\n" DATA "E INDEX\n"  otherwise, DATA in MODE
 * SUM is the BLAKE2b-512 of the chunk in hex, as b2sum prints it.
 *
 * Usage: ksp2v-helper probe    prints "ksp2v-helper 1 b2sum"
 *        ksp2v-helper stream   answers requests until stdin ends
 *
 * Built statically (no library of the source is needed), with its own
 * BLAKE2b (RFC 7693) and libzstd and zlib linked in. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#define MAX_PIECES 16
#define MAX_CHUNK (256u << 20)
#define LINE_MAX_LEN 16384

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "ksp2v-helper: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

/* ---- BLAKE2b-512 (RFC 7693) ------------------------------------------------ */

typedef struct b2b {
    uint64_t h[8], t[2];
    uint8_t b[128];
    size_t c;
} b2b;

static const uint64_t b2b_iv[8] = {
    0x6A09E667F3BCC908ULL, 0xBB67AE8584CAA73BULL, 0x3C6EF372FE94F82BULL, 0xA54FF53A5F1D36F1ULL,
    0x510E527FADE682D1ULL, 0x9B05688C2B3E6C1FULL, 0x1F83D9ABFB41BD6BULL, 0x5BE0CD19137E2179ULL,
};

static const uint8_t sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

static inline uint64_t rotr(uint64_t x, unsigned n)
{
    return (x >> n) | (x << (64 - n));
}

static inline uint64_t load64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
#endif
}

#define G(a, b, c, d, x, y)                                                                        \
    do {                                                                                           \
        v[a] = v[a] + v[b] + (x);                                                                  \
        v[d] = rotr(v[d] ^ v[a], 32);                                                              \
        v[c] = v[c] + v[d];                                                                        \
        v[b] = rotr(v[b] ^ v[c], 24);                                                              \
        v[a] = v[a] + v[b] + (y);                                                                  \
        v[d] = rotr(v[d] ^ v[a], 16);                                                              \
        v[c] = v[c] + v[d];                                                                        \
        v[b] = rotr(v[b] ^ v[c], 63);                                                              \
    } while (0)

static void b2b_compress(b2b *s, int last)
{
    uint64_t v[16], m[16];
    for (int i = 0; i < 8; i++) {
        v[i] = s->h[i];
        v[i + 8] = b2b_iv[i];
    }
    v[12] ^= s->t[0];
    v[13] ^= s->t[1];
    if (last)
        v[14] = ~v[14];
    for (int i = 0; i < 16; i++)
        m[i] = load64(s->b + 8 * i);
    for (int r = 0; r < 12; r++) {
        const uint8_t *z = sigma[r];
        G(0, 4, 8, 12, m[z[0]], m[z[1]]);
        G(1, 5, 9, 13, m[z[2]], m[z[3]]);
        G(2, 6, 10, 14, m[z[4]], m[z[5]]);
        G(3, 7, 11, 15, m[z[6]], m[z[7]]);
        G(0, 5, 10, 15, m[z[8]], m[z[9]]);
        G(1, 6, 11, 12, m[z[10]], m[z[11]]);
        G(2, 7, 8, 13, m[z[12]], m[z[13]]);
        G(3, 4, 9, 14, m[z[14]], m[z[15]]);
    }
    for (int i = 0; i < 8; i++)
        s->h[i] ^= v[i] ^ v[i + 8];
}

static void b2b_init(b2b *s)
{
    memset(s, 0, sizeof *s);
    memcpy(s->h, b2b_iv, sizeof s->h);
    s->h[0] ^= 0x01010000ULL ^ 64; /* no key, 64-byte digest */
}

static void b2b_update(b2b *s, const uint8_t *p, size_t n)
{
    /* whole blocks straight from the input while more follows (the last
     * block is compressed by b2b_hex, with the final flag) */
    if (s->c == 0) {
        while (n > 128) {
            memcpy(s->b, p, 128);
            s->t[0] += 128;
            if (s->t[0] < 128)
                s->t[1]++;
            b2b_compress(s, 0);
            p += 128;
            n -= 128;
        }
    }
    while (n) {
        if (s->c == 128) {
            s->t[0] += 128;
            if (s->t[0] < 128)
                s->t[1]++;
            b2b_compress(s, 0);
            s->c = 0;
        }
        size_t k = 128 - s->c < n ? 128 - s->c : n;
        memcpy(s->b + s->c, p, k);
        s->c += k;
        p += k;
        n -= k;
    }
}

static void b2b_hex(b2b *s, char out[129])
{
    s->t[0] += s->c;
    if (s->t[0] < s->c)
        s->t[1]++;
    memset(s->b + s->c, 0, 128 - s->c);
    b2b_compress(s, 1);
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 64; i++) {
        uint8_t byte = (uint8_t)(s->h[i / 8] >> (8 * (i % 8)));
        out[2 * i] = hx[byte >> 4];
        out[2 * i + 1] = hx[byte & 15];
    }
    out[128] = '\0';
}

/* ---- reading --------------------------------------------------------------- */

typedef struct dev {
    char *path;
    int fd;
} dev;

static dev devs[64];
static size_t ndevs;

static int dev_fd(const char *path)
{
    for (size_t i = 0; i < ndevs; i++)
        if (strcmp(devs[i].path, path) == 0)
            return devs[i].fd;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die(path, strerror(errno));
    if (ndevs == sizeof devs / sizeof devs[0]) {
        close(devs[0].fd);
        free(devs[0].path);
        memmove(devs, devs + 1, (ndevs - 1) * sizeof devs[0]);
        ndevs--;
    }
    devs[ndevs].path = strdup(path);
    if (!devs[ndevs].path)
        die("out of memory", NULL);
    devs[ndevs++].fd = fd;
    return fd;
}

static int all_zero(const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w)
            return 0;
    }
    for (; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* ---- one request: read, check, compress ------------------------------------ */

typedef struct piece {
    int fd; /* -1: zeros */
    uint64_t off, len;
} piece;

/* A request and its answer. The main thread fills slots in the order the
 * requests come, the workers answer them in any order, the writer sends
 * the answers in the order of the requests (kvmshift expects that). */
typedef struct slot {
    enum { S_EMPTY, S_READY, S_BUSY, S_DONE } state;
    unsigned long seq;
    char index[32], expect[160], zero[160], mode;
    piece pieces[MAX_PIECES];
    size_t npieces;
    uint64_t total;
    uint8_t *buf;
    size_t cap;
    uint8_t *out; /* the whole answer */
    size_t out_len, out_cap;
} slot;

static void out_reserve(slot *sl, size_t more)
{
    if (sl->out_len + more <= sl->out_cap)
        return;
    size_t cap = (sl->out_len + more) * 2;
    uint8_t *p = realloc(sl->out, cap);
    if (!p)
        die("out of memory", NULL);
    sl->out = p;
    sl->out_cap = cap;
}

static void out_text(slot *sl, const char *a, const char *b, const char *c, const char *d)
{
    char head[512];
    int n = snprintf(head, sizeof head, "%s %s%s%s%s%s\n", a, b, c ? " " : "", c ? c : "",
                     d ? " " : "", d ? d : "");
    if (n < 0 || (size_t)n >= sizeof head)
        die("answer too long", b);
    out_reserve(sl, (size_t)n);
    memcpy(sl->out + sl->out_len, head, (size_t)n);
    sl->out_len += (size_t)n;
}

static void out_gzip(slot *sl, const uint8_t *p, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("gzip", "cannot start");
    size_t cap = deflateBound(&z, (uLong)n);
    out_reserve(sl, cap);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = sl->out + sl->out_len;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        die("gzip", "the output did not fit");
    sl->out_len += cap - z.avail_out;
    deflateEnd(&z);
}

static void out_zstd(slot *sl, ZSTD_CCtx *cx, const uint8_t *p, size_t n)
{
    size_t cap = ZSTD_compressBound(n);
    out_reserve(sl, cap);
    size_t r = ZSTD_compressCCtx(cx, sl->out + sl->out_len, cap, p, n, 1);
    if (ZSTD_isError(r))
        die("zstd", ZSTD_getErrorName(r));
    sl->out_len += r;
}

static int starts_with(const char *sum, const char *prefix)
{
    return strcmp(prefix, "-") != 0 && strncmp(sum, prefix, strlen(prefix)) == 0;
}

static void read_chunk(slot *sl)
{
    uint64_t at = 0;
    for (size_t k = 0; k < sl->npieces; k++) {
        const piece *pc = &sl->pieces[k];
        uint8_t *to = sl->buf + at;
        at += pc->len;
        if (pc->fd < 0) {
            memset(to, 0, pc->len);
            continue;
        }
        /* a block device's page cache is not kept coherent with what file
         * systems write: cached pages of an earlier read would be read
         * again, stale; drop them first */
        posix_fadvise(pc->fd, (off_t)pc->off, (off_t)pc->len, POSIX_FADV_DONTNEED);
        uint64_t done = 0;
        while (done < pc->len) {
            ssize_t n = pread(pc->fd, to + done, pc->len - done, (off_t)(pc->off + done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                die("cannot read", strerror(errno));
            if (n == 0) {
                /* as dd does at the end of a device: the chunk is shorter,
                 * and its checksum will not be the one kvmshift expects */
                memset(to + done, 0, pc->len - done);
                break;
            }
            done += (uint64_t)n;
        }
    }
}

static void answer(slot *sl, ZSTD_CCtx *cx)
{
    read_chunk(sl);
    char sum[129];
    b2b h;
    b2b_init(&h);
    if (all_zero(sl->buf, sl->total)) {
        /* the zero checksum of this length, computed once per worker */
        static _Thread_local uint64_t zlen = UINT64_MAX;
        static _Thread_local char zsum[129];
        if (zlen != sl->total) {
            b2b_update(&h, sl->buf, sl->total);
            b2b_hex(&h, zsum);
            zlen = sl->total;
        }
        memcpy(sum, zsum, sizeof sum);
    } else {
        b2b_update(&h, sl->buf, sl->total);
        b2b_hex(&h, sum);
    }
    sl->out_len = 0;
    if (starts_with(sum, sl->expect)) {
        out_text(sl, "=", sl->index, sum, NULL);
    } else if (starts_with(sum, sl->zero)) {
        out_text(sl, "Z", sl->index, sum, NULL);
    } else {
        char m[2] = {sl->mode, '\0'};
        out_text(sl, "D", sl->index, sum, m);
        if (sl->mode == 'g') {
            out_gzip(sl, sl->buf, sl->total);
        } else if (sl->mode == 'z') {
            out_zstd(sl, cx, sl->buf, sl->total);
        } else {
            out_reserve(sl, sl->total);
            memcpy(sl->out + sl->out_len, sl->buf, sl->total);
            sl->out_len += sl->total;
        }
        out_text(sl, "E", sl->index, NULL, NULL);
    }
}

/* ---- the loop -------------------------------------------------------------- */

#define MAX_WORKERS 4

static slot *slots;
static size_t nslots;
static unsigned long next_seq, next_out;
static int input_done;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *worker(void *arg)
{
    (void)arg;
    ZSTD_CCtx *cx = ZSTD_createCCtx();
    if (!cx)
        die("zstd", "out of memory");
    pthread_mutex_lock(&mu);
    for (;;) {
        slot *pick = NULL;
        for (size_t i = 0; i < nslots; i++)
            if (slots[i].state == S_READY && (!pick || slots[i].seq < pick->seq))
                pick = &slots[i];
        if (!pick) {
            if (input_done)
                break;
            pthread_cond_wait(&cv, &mu);
            continue;
        }
        pick->state = S_BUSY;
        pthread_mutex_unlock(&mu);
        answer(pick, cx);
        pthread_mutex_lock(&mu);
        pick->state = S_DONE;
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&mu);
    ZSTD_freeCCtx(cx);
    return NULL;
}

/* Send the answers in order; returns when every request is answered. */
static void *writer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        slot *sl = &slots[next_out % nslots];
        if (sl->state == S_DONE && sl->seq == next_out) {
            pthread_mutex_unlock(&mu);
            /* one write per answer: kvmshift sees each chunk as soon as
             * it is ready */
            if ((sl->out_len && fwrite(sl->out, 1, sl->out_len, stdout) != sl->out_len) ||
                fflush(stdout) != 0)
                die("cannot write to kvmshift", strerror(errno));
            pthread_mutex_lock(&mu);
            sl->state = S_EMPTY;
            next_out++;
            pthread_cond_broadcast(&cv);
            continue;
        }
        if (input_done && next_out == next_seq)
            break;
        pthread_cond_wait(&cv, &mu);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* Parse one request line into sl (the devices opened here, in the main
 * thread). */
static void parse(char *line, slot *sl)
{
    char *f[4 + 3 * MAX_PIECES + 1];
    size_t nf = 0;
    for (char *p = line; *p && nf < sizeof f / sizeof f[0];) {
        while (*p == ' ' || *p == '\n')
            *p++ = '\0';
        if (!*p)
            break;
        f[nf++] = p;
        while (*p && *p != ' ' && *p != '\n')
            p++;
    }
    if (nf < 7 || (nf - 4) % 3 != 0 || nf > 4 + 3 * MAX_PIECES ||
        strlen(f[0]) >= sizeof sl->index || strlen(f[1]) >= sizeof sl->expect ||
        strlen(f[2]) >= sizeof sl->zero || strlen(f[3]) != 1)
        die("bad request", nf ? f[0] : "");
    snprintf(sl->index, sizeof sl->index, "%s", f[0]);
    snprintf(sl->expect, sizeof sl->expect, "%s", f[1]);
    snprintf(sl->zero, sizeof sl->zero, "%s", f[2]);
    sl->mode = f[3][0];
    sl->npieces = 0;
    sl->total = 0;
    for (size_t k = 4; k < nf; k += 3) {
        char *end;
        errno = 0;
        uint64_t off = strtoull(f[k + 1], &end, 10);
        if (errno || *end)
            die("bad offset", f[k + 1]);
        uint64_t len = strtoull(f[k + 2], &end, 10);
        if (errno || *end || len > MAX_CHUNK)
            die("bad length", f[k + 2]);
        piece *pc = &sl->pieces[sl->npieces++];
        pc->fd = strcmp(f[k], "-") == 0 ? -1 : dev_fd(f[k]);
        pc->off = off;
        pc->len = len;
        sl->total += len;
    }
    if (sl->total > MAX_CHUNK)
        die("chunk too large", f[0]);
    if (sl->total > sl->cap) {
        free(sl->buf);
        sl->buf = malloc(sl->total ? sl->total : 1);
        if (!sl->buf)
            die("out of memory", NULL);
        sl->cap = sl->total;
    }
}

static void serve(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nworkers = ncpu < 1 ? 1 : ncpu > MAX_WORKERS ? MAX_WORKERS : (size_t)ncpu;
    nslots = 2 * nworkers + 1;
    slots = calloc(nslots, sizeof *slots);
    if (!slots)
        die("out of memory", NULL);
    pthread_t w[MAX_WORKERS], wr;
    for (size_t i = 0; i < nworkers; i++)
        if (pthread_create(&w[i], NULL, worker, NULL) != 0)
            die("cannot start a thread", strerror(errno));
    if (pthread_create(&wr, NULL, writer, NULL) != 0)
        die("cannot start a thread", strerror(errno));
    static char line[LINE_MAX_LEN];
    while (fgets(line, sizeof line, stdin)) {
        size_t ll = strlen(line);
        if (ll == sizeof line - 1 && line[ll - 1] != '\n')
            die("request too long", NULL);
        pthread_mutex_lock(&mu);
        slot *sl = &slots[next_seq % nslots];
        while (sl->state != S_EMPTY)
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        parse(line, sl); /* the slot is ours until it is READY */
        pthread_mutex_lock(&mu);
        sl->seq = next_seq++;
        sl->state = S_READY;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
    pthread_mutex_lock(&mu);
    input_done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(wr, NULL);
    for (size_t i = 0; i < nworkers; i++)
        pthread_join(w[i], NULL);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "probe") == 0) {
        puts("ksp2v-helper 1 b2sum");
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "stream") == 0) {
        serve();
        return fflush(stdout) == 0 ? 0 : 2;
    }
    fprintf(stderr, "usage: ksp2v-helper probe|stream\n");
    return 2;
}
