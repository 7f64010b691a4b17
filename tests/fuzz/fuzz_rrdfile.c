/* fuzz_rrdfile.c: libFuzzer target for common/ks_rrdfile.c, the header
 * check that stands before librrd (which trusts a file's counts and sizes
 * and crashes on a damaged header).
 *
 * Each input is written to a temporary file and checked. It aborts when the
 * check fails without a message, and when a file the check accepts then
 * crashes librrd: ks_series_read (rrd_info, rrd_fetch) and rrd_lastupdate
 * are run on every accepted file.
 *
 * Kept corpus: tests/fuzz/corpus/rrdfile (replayed by replay.c under ctest),
 * made by tests/fuzz/make_rrd_corpus.py: small valid files (kvmshift's data
 * sources, a foreign one, format 0005 with Holt-Winters archives) and the
 * same damaged: the bytes 40-600 overwritten (the case that crashed
 * analyze, report and status), cut short, with bytes after the end, huge
 * counts, a current row past its archive, an unterminated last value, the
 * float cookie of another byte order, an unknown version.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rrd.h>

#include "ks_error.h"
#include "ks_rrdfile.h"
#include "ks_series.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/ks_fuzz_rrd.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, data, size) == (ssize_t)size);
    close(fd);
    ks_error err;
    ks_error_clear(&err);
    ks_rrd_header h;
    if (ks_rrd_check(path, &h, &err) < 0) {
        REQUIRE(err.code == KS_E_RRD && err.message[0]);
        REQUIRE(h.ds_names == NULL);
    } else {
        REQUIRE(h.nds >= 1 && h.nrra >= 1 && h.step >= 1 && h.ds_names);
        free(h.ds_names);
        ks_series s;
        if (ks_series_read(path, 3600, 0, KS_SERIES_LOAD, &s, &err) == 0)
            ks_series_free(&s);
        else
            REQUIRE(err.message[0]);
        time_t last;
        unsigned long n = 0;
        char **names = NULL, **values = NULL;
        if (rrd_lastupdate_r(path, &last, &n, &names, &values) == 0) {
            for (unsigned long i = 0; i < n; i++) {
                rrd_freemem(names[i]);
                rrd_freemem(values[i]);
            }
            rrd_freemem(names);
            rrd_freemem(values);
        }
    }
    unlink(path);
    return 0;
}
