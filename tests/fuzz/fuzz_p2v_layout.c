/* fuzz_p2v_layout.c: libFuzzer target for p2v/p2v_layout.c and the source
 * map built from a layout (p2v/p2v_chunks.c).
 *
 * The input is taken as what the layout command printed on a source. Besides
 * the sanitizers, it aborts when a result breaks the contract: NULL without
 * a message, a name that could leave the quoting of the commands built from
 * it (a quote, a space, a '$'), and, for every disk, a source map whose
 * pieces do not cover a range exactly, in order, without overlap.
 *
 * Kept corpus: tests/fuzz/corpus/p2v_layout (replayed by replay.c under
 * ctest; seeded from p2v/tests/data and real guests).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2v_internal.h"
#include "fuzz.h"

static void require_plain(const char *s)
{
    REQUIRE(s && *s);
    for (; *s; s++)
        REQUIRE(*s != '\'' && *s != '"' && *s != ' ' && *s != '$' && *s != '`' && *s != '\\' &&
                *s != '\n' && *s != ';');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ks_error err;
    ks_error_clear(&err);
    p2v_layout *l = p2v_layout_parse((const char *)data, size, "fuzz", &err);
    if (!l) {
        REQUIRE(err.code != KS_OK && err.message[0]);
        return 0;
    }
    for (size_t i = 0; i < l->ndisks; i++)
        require_plain(l->disks[i].name);
    for (size_t i = 0; i < l->nsegs; i++) {
        require_plain(l->segs[i].vg);
        require_plain(l->segs[i].lv);
        if (l->segs[i].pv)
            require_plain(l->segs[i].pv);
    }
    if (l->arch)
        require_plain(l->arch);
    for (size_t i = 0; i < l->ndisks && i < 4; i++) {
        p2v_sourcemap m = {0};
        p2v_sourcemap_from_layout(&m, l, l->disks[i].name, "ksp2v-");
        uint64_t dsize = l->disks[i].size;
        /* a few ranges: the start, the middle, the end */
        const uint64_t step = 4u << 20;
        uint64_t offs[3] = {0, dsize / 2 / step * step, dsize > step ? dsize - step : 0};
        for (int k = 0; k < 3; k++) {
            uint64_t off = offs[k], len = dsize - off < step ? dsize - off : step;
            if (!len)
                continue;
            p2v_piece p[16];
            size_t n = p2v_sourcemap_pieces(&m, off, len, p, 16);
            if (!n)
                continue; /* more than 16 pieces: the copy refuses such a chunk */
            uint64_t sum = 0;
            for (size_t q = 0; q < n; q++) {
                REQUIRE(p[q].len > 0);
                if (p[q].dev)
                    require_plain(p[q].dev);
                sum += p[q].len;
            }
            REQUIRE(sum == len);
        }
        p2v_sourcemap_clear(&m);
    }
    p2v_layout_free(l);
    return 0;
}
