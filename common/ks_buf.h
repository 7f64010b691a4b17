/* ks_buf.h: a growable byte buffer with a size cap (after curl's dynbuf).
 *
 * The data is always NUL-terminated so text can be read in place. Appending
 * past the cap fails with -1 and leaves the buffer as it was: a remote
 * server that prints without end cannot exhaust our memory.
 */
#ifndef KS_BUF_H
#define KS_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct ks_buf {
    char *data; /* NUL-terminated, NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* largest len allowed */
} ks_buf;

void ks_buf_init(ks_buf *b, size_t max);
/* 0, or -1 when the cap would be passed (nothing appended). */
int ks_buf_append(ks_buf *b, const void *p, size_t n);
int ks_buf_appends(ks_buf *b, const char *s);
int ks_buf_printf(ks_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as one CSV field (RFC 4180): quoted, with its quotes doubled,
 * when it holds a comma, a quote or a line break, or starts or ends with a
 * blank; as it is otherwise. 0, or -1 when the cap is reached. */
int ks_buf_csv_field(ks_buf *b, const char *s);
int ks_buf_vprintf(ks_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Drop the first n bytes (n <= len). */
void ks_buf_consume(ks_buf *b, size_t n);
/* Empty, keeping the storage. */
void ks_buf_reset(ks_buf *b);
/* Free the storage; the buffer can be used again after ks_buf_init. */
void ks_buf_free(ks_buf *b);
/* The contents ("" when empty), now owned by the caller; the buffer is empty. */
char *ks_buf_steal(ks_buf *b);
/* The contents, never NULL. */
const char *ks_buf_str(const ks_buf *b);

#endif
