#include "ks_buf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_mem.h"

void ks_buf_init(ks_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

int ks_buf_append(ks_buf *b, const void *p, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = ks_realloc(b->data, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int ks_buf_appends(ks_buf *b, const char *s)
{
    return ks_buf_append(b, s, strlen(s));
}

int ks_buf_vprintf(ks_buf *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return ks_buf_append(b, small, (size_t)n);
    char *big = ks_malloc((size_t)n + 1);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    int r = ks_buf_append(b, big, (size_t)n);
    free(big);
    return r;
}

int ks_buf_printf(ks_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = ks_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

void ks_buf_consume(ks_buf *b, size_t n)
{
    if (n >= b->len) {
        ks_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

void ks_buf_reset(ks_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void ks_buf_free(ks_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *ks_buf_steal(ks_buf *b)
{
    char *s = b->data ? b->data : ks_strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

const char *ks_buf_str(const ks_buf *b)
{
    return b->data ? b->data : "";
}

int ks_buf_csv_field(ks_buf *b, const char *s)
{
    size_t n = strlen(s);
    bool quote = strpbrk(s, ",\"\r\n") != NULL ||
                 (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'));
    if (!quote)
        return ks_buf_append(b, s, n);
    int rc = ks_buf_appends(b, "\"");
    for (const char *run = s; rc == 0 && *run;) {
        const char *q = strchr(run, '"');
        size_t len = q ? (size_t)(q - run) + 1 : strlen(run);
        rc = ks_buf_append(b, run, len);
        if (rc == 0 && q)
            rc = ks_buf_appends(b, "\""); /* the quote, doubled */
        run += len;
    }
    return rc ? rc : ks_buf_appends(b, "\"");
}
