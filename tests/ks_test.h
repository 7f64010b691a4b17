/* ks_test.h: a minimal unit-test harness.
 *
 *   KS_TEST(name) { KS_CHECK(x == 1); KS_CHECK_STR(a, "b"); }
 *   int main(void) { KS_RUN(name); return ks_test_summary(); }
 *
 * Each failed check prints file:line and the expression; the summary prints
 * "N passed, N failed" and returns non-zero when anything failed. Tests find
 * their corpus files under KS_TEST_DATA (a compile definition, the source
 * tree's data directory).
 */
#ifndef KS_TEST_H
#define KS_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ks_test_checks_failed;
static int ks_test_passed, ks_test_failed;
static const char *ks_test_current;

#define KS_TEST(name) static void name(void)

#define KS_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, ks_test_current,  \
                    #cond);                                                                        \
            ks_test_checks_failed++;                                                               \
        }                                                                                          \
    } while (0)

#define KS_CHECK_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *ks_a_ = (a), *ks_b_ = (b);                                                     \
        if (!ks_a_ || !ks_b_ || strcmp(ks_a_, ks_b_) != 0) {                                       \
            fprintf(stderr, "%s:%d: %s: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__,        \
                    ks_test_current, ks_b_ ? ks_b_ : "(null)", ks_a_ ? ks_a_ : "(null)");          \
            ks_test_checks_failed++;                                                               \
        }                                                                                          \
    } while (0)

/* |a - b| <= tol */
#define KS_CHECK_NEAR(a, b, tol)                                                                   \
    do {                                                                                           \
        double ks_a_ = (a), ks_b_ = (b);                                                           \
        if (!(fabs(ks_a_ - ks_b_) <= (tol))) {                                                     \
            fprintf(stderr, "%s:%d: %s: %s = %.6g, expected %.6g (tolerance %g)\n", __FILE__,      \
                    __LINE__, ks_test_current, #a, ks_a_, ks_b_, (double)(tol));                   \
            ks_test_checks_failed++;                                                               \
        }                                                                                          \
    } while (0)

#define KS_RUN(name)                                                                               \
    do {                                                                                           \
        ks_test_current = #name;                                                                   \
        int ks_before_ = ks_test_checks_failed;                                                    \
        name();                                                                                    \
        if (ks_test_checks_failed == ks_before_) {                                                 \
            ks_test_passed++;                                                                      \
        } else {                                                                                   \
            ks_test_failed++;                                                                      \
            fprintf(stderr, "FAIL %s\n", #name);                                                   \
        }                                                                                          \
    } while (0)

static inline int ks_test_summary(void)
{
    printf("%d passed, %d failed\n", ks_test_passed, ks_test_failed);
    return ks_test_failed ? 1 : 0;
}

/* Read a corpus file under KS_TEST_DATA; aborts when missing. */
static inline char *ks_test_read(const char *rel, size_t *len)
{
#ifndef KS_TEST_DATA
#define KS_TEST_DATA "."
#endif
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", KS_TEST_DATA, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open test data '%s'\n", path);
        exit(2);
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

#endif
