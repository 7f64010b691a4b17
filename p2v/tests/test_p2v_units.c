/* Unit tests of P2V's pure parts: the layout parser, the source map (which
 * bytes of a disk come from an LVM snapshot, which are zeros), the chunk
 * map, the journal round trip and the delta between two maps, the
 * checksums against the coreutils tools themselves, and the wait for an
 * image that another process's qemu still locks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ks_fs.h"
#include "ks_mem.h"
#include "ks_test.h"
#include "p2v_internal.h"
#include "p2v_journal.h"
#include "p2v_target.h"

static char tmpdir[256];

static p2v_layout *load_layout(const char *file, ks_error *err)
{
    size_t len;
    char *text = ks_test_read(file, &len);
    p2v_layout *l = p2v_layout_parse(text, len, "web01", err);
    free(text);
    return l;
}

KS_TEST(layout_lvm)
{
    ks_error err;
    p2v_layout *l = load_layout("layout-lvm-snap.txt", &err);
    KS_CHECK(l != NULL);
    if (!l)
        return;
    KS_CHECK(l->uid == 0 && l->have_uid);
    KS_CHECK_STR(l->hash_tool, "b2sum");
    KS_CHECK(l->have_gzip && l->have_zstd && l->dd_bytes && l->have_lvm);
    KS_CHECK(l->ndisks == 2 && l->nparts == 3);
    KS_CHECK(p2v_layout_disk(l, "sda")->size == 8388608ull * 512);
    KS_CHECK(l->parts[1].start == 616448ull * 512);
    KS_CHECK(l->npvs == 1 && l->pvs[0].pe_start == 1048576);
    KS_CHECK(l->nvgs == 1 && l->vgs[0].extent_size == 4194304 && l->vgs[0].free_extents == 160);
    KS_CHECK(l->nsegs == 4);
    KS_CHECK_STR(l->segs[0].pv, "/dev/sda2");
    KS_CHECK(l->segs[1].pe == 640 && l->segs[1].count == 32);
    KS_CHECK_STR(l->segs[2].origin, "root");
    p2v_layout_free(l);
}

KS_TEST(layout_plain_and_bad)
{
    ks_error err;
    p2v_layout *l = load_layout("layout-plain.txt", &err);
    KS_CHECK(l && l->uid == 1000 && !l->have_lvm && !l->have_zstd);
    KS_CHECK(l && strcmp(l->hash_tool, "sha256sum") == 0 && l->nsegs == 0);
    p2v_layout_free(l);
    l = load_layout("layout-truncated.txt", &err);
    KS_CHECK(!l && strstr(err.message, "incomplete"));
    l = load_layout("layout-hostile.txt", &err);
    KS_CHECK(!l && strstr(err.message, "line 3"));
    /* a size that would overflow in bytes */
    const char *big = "uid 0\n== disks\ndisk sda 36028797018963968\n== end\n";
    l = p2v_layout_parse(big, strlen(big), "x", &err);
    KS_CHECK(!l);
    /* lines of a section it does not know are skipped */
    const char *later = "uid 0\n== future\nwhatever | this is\n== end\n";
    l = p2v_layout_parse(later, strlen(later), "x", &err);
    KS_CHECK(l != NULL);
    p2v_layout_free(l);
}

/* The sda of layout-lvm-snap.txt: PV sda2 at 616448 sectors, extents of 4
 * MiB after a 1 MiB PV header. root (extents 0-639) is read through its
 * snapshot, swap (640-671) through its own, the snapshots' extents
 * (672-767) are zeros, the rest of the disk is read from /dev/sda. */
KS_TEST(sourcemap_snapshots)
{
    ks_error err;
    p2v_layout *l = load_layout("layout-lvm-snap.txt", &err);
    KS_CHECK(l != NULL);
    if (!l)
        return;
    p2v_sourcemap m = {0};
    KS_CHECK(p2v_sourcemap_from_layout(&m, l, "sda", "ksp2v-") == 2);
    KS_CHECK(m.nr == 4);
    const uint64_t E = 4194304, base = 616448ull * 512 + 1048576;
    p2v_piece p[8];
    /* the partition table and /boot: the disk itself, one piece */
    size_t n = p2v_sourcemap_pieces(&m, 0, 4 << 20, p, 8);
    KS_CHECK(n == 1 && strcmp(p[0].dev, "/dev/sda") == 0 && p[0].off == 0 && p[0].len == 4 << 20);
    /* a chunk across the start of root's extents */
    uint64_t off = base - (1 << 20);
    n = p2v_sourcemap_pieces(&m, off, 4 << 20, p, 8);
    KS_CHECK(n == 2);
    KS_CHECK(n == 2 && strcmp(p[0].dev, "/dev/sda") == 0 && p[0].off == off && p[0].len == 1 << 20);
    KS_CHECK(n == 2 && strcmp(p[1].dev, "/dev/vg0/ksp2v-root") == 0 && p[1].off == 0 &&
             p[1].len == 3 << 20);
    /* inside root: offset in the snapshot = offset in the LV */
    n = p2v_sourcemap_pieces(&m, base + 10 * E + 5, 100, p, 8);
    KS_CHECK(n == 1 && strcmp(p[0].dev, "/dev/vg0/ksp2v-root") == 0 && p[0].off == 10 * E + 5);
    /* across root -> swap -> (swap's end) */
    n = p2v_sourcemap_pieces(&m, base + 639 * E, 2 * E, p, 8);
    KS_CHECK(n == 2 && strcmp(p[1].dev, "/dev/vg0/ksp2v-swap") == 0 && p[1].off == 0);
    /* the snapshots' own extents read as zeros */
    n = p2v_sourcemap_pieces(&m, base + 700 * E, E, p, 8);
    KS_CHECK(n == 1 && p[0].dev == NULL && p[0].len == E);
    /* after them: the disk again (free extents) */
    n = p2v_sourcemap_pieces(&m, base + 768 * E, E, p, 8);
    KS_CHECK(n == 1 && strcmp(p[0].dev, "/dev/sda") == 0 && p[0].off == base + 768 * E);
    /* the pieces always cover the range exactly, whatever the range */
    for (uint64_t o = 0; o < 8388608ull * 512; o += 3 * E + 12345) {
        n = p2v_sourcemap_pieces(&m, o, 4 << 20, p, 8);
        uint64_t sum = 0;
        for (size_t k = 0; k < n; k++)
            sum += p[k].len;
        KS_CHECK(n > 0 && sum == 4 << 20);
    }
    /* too many pieces for the room given: 0, never a partial list */
    KS_CHECK(p2v_sourcemap_pieces(&m, base - 1, 2, p, 1) == 0);
    /* the other disk has nothing of LVM */
    KS_CHECK(p2v_sourcemap_from_layout(&m, l, "sdb", "ksp2v-") == 0 && m.nr == 0);
    n = p2v_sourcemap_pieces(&m, 0, 100, p, 8);
    KS_CHECK(n == 1 && strcmp(p[0].dev, "/dev/sdb") == 0);
    p2v_sourcemap_clear(&m);
    p2v_layout_free(l);
}

KS_TEST(chunkmap_basics)
{
    p2v_chunkmap m;
    KS_CHECK(p2v_chunkmap_init(&m, 10 * 1048576 + 512, 4 << 20) == 0);
    KS_CHECK(m.n == 3);
    KS_CHECK(p2v_chunk_len(&m, 0) == 4 << 20 && p2v_chunk_len(&m, 2) == 2 * 1048576 + 512);
    KS_CHECK(p2v_chunk_len(&m, 3) == 0);
    KS_CHECK(!p2v_chunkmap_present(&m, 0) && p2v_chunkmap_count_present(&m) == 0);
    p2v_chunkmap_set(&m, 1, "0123456789abcdef0123456789abcdefEXTRA");
    KS_CHECK(p2v_chunkmap_present(&m, 1) && p2v_chunkmap_count_present(&m) == 1);
    p2v_chunkmap_clear_one(&m, 1);
    KS_CHECK(!p2v_chunkmap_present(&m, 1));
    KS_CHECK(!p2v_chunkmap_present(&m, 99));
    p2v_chunkmap_free(&m);
    KS_CHECK(p2v_chunkmap_init(&m, 1000, 4 << 20) == 0 && m.n == 1);
    p2v_chunkmap_free(&m);
    KS_CHECK(p2v_chunkmap_init(&m, 1000, 1000) < 0); /* not a multiple of 512 */
    KS_CHECK(p2v_chunkmap_init(&m, 0, 4096) < 0);
}

KS_TEST(delta_between_maps)
{
    p2v_chunkmap a, b;
    p2v_chunkmap_init(&a, 100 << 20, 1 << 20);
    p2v_chunkmap_init(&b, 100 << 20, 1 << 20);
    char h[P2V_HASH_HEX + 1];
    for (size_t i = 0; i < 100; i++) {
        snprintf(h, sizeof h, "%032zx", i);
        p2v_chunkmap_set(&a, i, h);
        p2v_chunkmap_set(&b, i, h);
    }
    KS_CHECK(p2v_chunkmap_diff(&a, &b) == 0);
    /* 7 chunks change, one disappears from the target */
    size_t changed[] = {0, 3, 17, 50, 51, 98, 99};
    for (size_t k = 0; k < 7; k++) {
        snprintf(h, sizeof h, "%032zx", 1000 + changed[k]);
        p2v_chunkmap_set(&b, changed[k], h);
    }
    p2v_chunkmap_clear_one(&b, 60);
    KS_CHECK(p2v_chunkmap_diff(&a, &b) == 8);
    KS_CHECK(p2v_chunkmap_diff(&b, &a) == 8);
    p2v_chunkmap_free(&a);
    p2v_chunkmap_free(&b);
}

KS_TEST(journal_round_trip)
{
    char path[512];
    snprintf(path, sizeof path, "%s/journal.json", tmpdir);
    ks_error err;
    p2v_journal *j = p2v_journal_new("web01");
    p2v_jdisk *d = p2v_journal_add_disk(j, "sda");
    p2v_journal_set(&d->image, "/img/web01-sda.qcow2");
    p2v_journal_set(&d->format, "qcow2");
    p2v_journal_set(&d->hash, "b2sum");
    p2v_chunkmap_init(&d->map, 9 << 20, 4 << 20);
    p2v_chunkmap_set(&d->map, 0, "ffffffffffffffffffffffffffffffff");
    p2v_chunkmap_set(&d->map, 2, "00000000000000000000000000000001");
    d->synced_at = 1700000000;
    d->changed = 1;
    p2v_journal_set(&d->vol_name, "web01-sda.raw");
    p2v_journal_set(&d->vol_pool, "far");
    p2v_journal_set(&d->vol_uri, "qemu+ssh://kvm1/system");
    p2v_chunkmap_init(&d->vol_map, 9 << 20, 4 << 20);
    p2v_chunkmap_set(&d->vol_map, 1, "0123456789abcdef0123456789abcdef");
    d->uploaded_at = 1700000100;
    p2v_journal_set(&j->state, "synced");
    KS_CHECK(p2v_journal_save(j, path, &err) == 0);
    p2v_journal *back = p2v_journal_load(path, &err);
    KS_CHECK(back != NULL);
    if (back) {
        KS_CHECK_STR(back->server, "web01");
        KS_CHECK_STR(back->state, "synced");
        KS_CHECK(back->ndisks == 1);
        p2v_jdisk *b = &back->disks[0];
        KS_CHECK_STR(b->image, "/img/web01-sda.qcow2");
        KS_CHECK(b->map.n == 3 && b->map.chunk_size == 4 << 20 && b->map.disk_size == 9 << 20);
        KS_CHECK(p2v_chunkmap_present(&b->map, 0) && !p2v_chunkmap_present(&b->map, 1) &&
                 p2v_chunkmap_present(&b->map, 2));
        KS_CHECK(p2v_chunkmap_diff(&b->map, &d->map) == 1); /* chunk 1 absent in both */
        KS_CHECK(b->synced_at == 1700000000 && b->changed == 1);
        KS_CHECK(fabs(p2v_jdisk_percent(b) - 200.0 / 3) < 1e-9);
        KS_CHECK_STR(b->vol_name, "web01-sda.raw");
        KS_CHECK_STR(b->vol_pool, "far");
        KS_CHECK_STR(b->vol_uri, "qemu+ssh://kvm1/system");
        KS_CHECK(b->uploaded_at == 1700000100);
        KS_CHECK(b->vol_map.n == 3 && !p2v_chunkmap_present(&b->vol_map, 0) &&
                 p2v_chunkmap_present(&b->vol_map, 1));
    }
    p2v_journal_free(back);
    p2v_journal_free(j);

    /* damaged journals are refused with the reason, never half read */
    const char *bad[] = {
        "{\"format\": 1, \"server\": \"x\", \"disks\": [{\"name\": \"sda\", \"size\": 100, "
        "\"chunk_size\": 4194304, \"chunks\": \"abc\"}]}",
        "{\"format\": 1, \"server\": \"x\", \"disks\": [{\"name\": \"sda\", \"size\": 100, "
        "\"chunk_size\": 4194304, \"chunks\": \"0123456789abcdef0123456789abcdeZ\"}]}",
        "{\"format\": 2, \"server\": \"x\", \"disks\": []}",
        "{\"format\": 1, \"disks\": []}",
        "{\"format\": 1, \"server\": \"x\", \"disks\": [{\"name\": \"sda\", \"size\": 100, "
        "\"chunk_size\": 1000, \"chunks\": \"\"}]}",
        /* a volume whose map has the wrong length */
        "{\"format\": 1, \"server\": \"x\", \"disks\": [{\"name\": \"sda\", \"size\": 100, "
        "\"chunk_size\": 4194304, \"chunks\": \"................................\", "
        "\"volume\": {\"name\": \"x-sda.raw\", \"chunks\": \"..\"}}]}",
        "[1, 2]",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        KS_CHECK(ks_write_file_atomic(path, bad[k], strlen(bad[k]), 0644, &err) == 0);
        p2v_journal *x = p2v_journal_load(path, &err);
        KS_CHECK(x == NULL);
        if (x)
            fprintf(stderr, "accepted bad journal %zu\n", k);
        p2v_journal_free(x);
    }
    unlink(path);
    p2v_journal *none = p2v_journal_load(path, &err);
    KS_CHECK(!none && err.errnum == ENOENT);
}

/* Our digests are the coreutils tools' digests: checked against the tools
 * themselves on random data, as the source computes them. */
KS_TEST(hashes_match_coreutils)
{
    const char *tools[] = {"b2sum", "sha256sum", "md5sum"};
    size_t len = 1 << 20;
    unsigned char *data = ks_malloc(len);
    unsigned s = 12345;
    for (size_t i = 0; i < len; i++) {
        s = s * 1103515245u + 12345u;
        data[i] = (unsigned char)(s >> 16);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/data.bin", tmpdir);
    ks_error err;
    KS_CHECK(ks_write_file_atomic(path, data, len, 0644, &err) == 0);
    for (size_t t = 0; t < 3; t++) {
        char cmd[700], line[300] = "";
        snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", tools[t], path);
        FILE *f = popen(cmd, "r");
        if (!f || !fgets(line, sizeof line, f)) {
            fprintf(stderr, "note: %s not found, not compared\n", tools[t]);
            if (f)
                pclose(f);
            continue;
        }
        pclose(f);
        char *sp = strchr(line, ' ');
        if (sp)
            *sp = '\0';
        p2v_hasher *h = p2v_hasher_new(tools[t]);
        char hex[160];
        p2v_hash_hex(h, data, len, hex);
        KS_CHECK_STR(hex, line);
        p2v_hasher_free(h);
    }
    KS_CHECK(p2v_hasher_new("crc32") == NULL);
    unlink(path);
    free(data);
}

/* p2v_image_wait_unlocked: a lock on QEMU's bytes, as the qemu of a killed
 * run holds it for a moment, is waited for; one that outlasts the wait is
 * reported. The other process releases it when told (no timing). */
KS_TEST(image_lock_wait)
{
    char path[300];
    snprintf(path, sizeof path, "%s/img.qcow2", tmpdir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    KS_CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
    close(fd);
    ks_error err = {0};
    KS_CHECK(p2v_image_wait_unlocked(path, 0, &err));
    int ready[2], go[2];
    KS_CHECK(pipe(ready) == 0 && pipe(go) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        /* as qemu: a shared lock on a byte of its permissions */
        int f = open(path, O_RDONLY | O_CLOEXEC);
        struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 201, .l_len = 1};
        char c = fcntl(f, F_OFD_SETLK, &fl) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(1);
        usleep(300 * 1000);
        _exit(0);
    }
    char c = 0;
    KS_CHECK(read(ready[0], &c, 1) == 1 && c == 'y');
    KS_CHECK(!p2v_image_wait_unlocked(path, 1, &err));
    KS_CHECK(strstr(err.message, "still in use by another process") != NULL);
    /* released while it waits */
    KS_CHECK(write(go[1], "g", 1) == 1);
    KS_CHECK(p2v_image_wait_unlocked(path, 30, &err));
    int status = 0;
    KS_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
    /* a path that cannot be opened: the caller's own open says why */
    KS_CHECK(p2v_image_wait_unlocked("/nonexistent/img.qcow2", 1, &err));
    unlink(path);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/ks_test_p2v.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir))
        return 2;
    KS_RUN(layout_lvm);
    KS_RUN(layout_plain_and_bad);
    KS_RUN(sourcemap_snapshots);
    KS_RUN(chunkmap_basics);
    KS_RUN(delta_between_maps);
    KS_RUN(journal_round_trip);
    KS_RUN(hashes_match_coreutils);
    KS_RUN(image_lock_wait);
    rmdir(tmpdir);
    return ks_test_summary();
}
