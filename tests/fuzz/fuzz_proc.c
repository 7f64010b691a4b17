/* fuzz_proc.c: libFuzzer target for collector/col_proc.c.
 *
 * The input is taken as a whole sample output, as each single /proc file,
 * and split after its first "@@KS end" line into two samples whose rates
 * are computed. Besides the sanitizers, it aborts when a result breaks the
 * contract of col_proc.h (an error without a message, a NUL or "lo" in a
 * name, a negative or infinite rate, a CPU share above 100 %).
 *
 * Kept corpus: tests/fuzz/corpus/proc (replayed by replay.c under ctest).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "col_proc.h"
#include "fuzz.h"

typedef int (*parser_fn)(const char *, size_t, col_raw *, ks_error *);

static void check_result(int rc, const ks_error *err)
{
    REQUIRE(rc == 0 || rc == -1);
    if (rc == 0)
        return;
    REQUIRE(err->code == KS_E_PARSE);
    REQUIRE(memchr(err->message, '\0', sizeof err->message) != NULL);
    REQUIRE(err->message[0] != '\0');
}

static void check_name(const char *name)
{
    size_t n = strnlen(name, COL_NAME_MAX);
    REQUIRE(n > 0 && n < COL_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        REQUIRE((unsigned char)name[i] > 0x20 && (unsigned char)name[i] < 0x7f);
}

static void check_raw(const col_raw *r)
{
    REQUIRE(r->uptime < 0 || isfinite(r->uptime));
    for (size_t i = 0; i < r->disks.len; i++)
        check_name(r->disks.ptr[i].name);
    for (size_t i = 0; i < r->nics.len; i++) {
        check_name(r->nics.ptr[i].name);
        REQUIRE(strcmp(r->nics.ptr[i].name, "lo") != 0);
    }
    REQUIRE(r->has_disk || r->disks.len == 0);
    REQUIRE(r->has_net || r->nics.len == 0);
}

static void check_rate(double v)
{
    REQUIRE(isnan(v) || (v >= 0 && isfinite(v)));
}

static void check_rates(const col_rates *o)
{
    REQUIRE(isnan(o->cpu_pct) || (o->cpu_pct >= 0 && o->cpu_pct <= 100));
    REQUIRE(isnan(o->cpu_mhz) || (o->cpu_mhz >= 0 && o->cpu_mhz <= 2400));
    check_rate(o->mem_used);
    check_rate(o->mem_total);
    REQUIRE(isnan(o->mem_used) || o->mem_used <= o->mem_total);
    check_rate(o->disk_rd_bps);
    check_rate(o->disk_wr_bps);
    check_rate(o->disk_rd_iops);
    check_rate(o->disk_wr_iops);
    check_rate(o->net_rx_bps);
    check_rate(o->net_tx_bps);
}

static void rates_all_ways(const col_raw *a, const col_raw *b)
{
    static const char *const nics[] = {"eth0", "ens3", "bond0"};
    col_rates o;
    col_rates_compute(NULL, b, 2400.0, NULL, 0, &o);
    check_rates(&o);
    col_rates_compute(a, b, 2400.0, NULL, 0, &o);
    check_rates(&o);
    col_rates_compute(b, a, 2400.0, nics, 3, &o);
    check_rates(&o);
    col_rates_compute(a, b, 0.0, nics, 1, &o);
    check_rates(&o);
    REQUIRE(isnan(o.cpu_mhz));
}

/* Parse text as a sample into a fresh *r; the result is checked. */
static int parse_sample(const char *text, size_t len, col_raw *r)
{
    ks_error err;
    ks_error_clear(&err);
    col_raw_init(r);
    int rc = col_parse_sample(text, len, r, &err);
    check_result(rc, &err);
    check_raw(r);
    return rc;
}

/* Offset just past the first "@@KS end" line, or len. */
static size_t after_end_marker(const char *text, size_t len)
{
    static const char marker[] = COL_END_MARKER;
    const size_t mlen = sizeof marker - 1;
    for (size_t i = 0; i + mlen <= len; i++) {
        if ((i == 0 || text[i - 1] == '\n') && memcmp(text + i, marker, mlen) == 0) {
            const char *nl = memchr(text + i, '\n', len - i);
            return nl ? (size_t)(nl - text) + 1 : len;
        }
    }
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;

    /* Each parser alone, all into one col_raw as a caller could do. */
    static const parser_fn parsers[] = {col_parse_uptime, col_parse_stat, col_parse_meminfo,
                                        col_parse_diskstats, col_parse_netdev};
    col_raw singles;
    col_raw_init(&singles);
    for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++) {
        ks_error err;
        ks_error_clear(&err);
        check_result(parsers[i](text, size, &singles, &err), &err);
        check_raw(&singles);
    }

    /* The whole input as one sample, then as two successive ones. */
    col_raw whole, first, second;
    parse_sample(text, size, &whole);
    size_t cut = after_end_marker(text, size);
    parse_sample(text, cut, &first);
    parse_sample(text + cut, size - cut, &second);

    rates_all_ways(&first, &second);
    rates_all_ways(&singles, &whole);
    rates_all_ways(&whole, &singles);
    rates_all_ways(&singles, &singles);

    col_raw_clear(&singles);
    col_raw_clear(&whole);
    col_raw_clear(&first);
    col_raw_clear(&second);
    return 0;
}
