#include "ks_parse.h"

#include "ks_mem.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ks_cur_skip_blanks(ks_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

bool ks_cur_line(ks_cursor *c, ks_cursor *line)
{
    if (c->p >= c->end)
        return false;
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    line->p = c->p;
    line->end = nl ? nl : c->end;
    c->p = nl ? nl + 1 : c->end;
    return true;
}

bool ks_cur_word(ks_cursor *c, const char **start, size_t *len)
{
    ks_cur_skip_blanks(c);
    const char *s = c->p;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\t' && *c->p != '\n')
        c->p++;
    *start = s;
    *len = (size_t)(c->p - s);
    return *len > 0;
}

bool ks_cur_u64(ks_cursor *c, uint64_t *out)
{
    ks_cur_skip_blanks(c);
    const char *p = c->p;
    uint64_t v = 0;
    if (p >= c->end || !isdigit((unsigned char)*p))
        return false;
    while (p < c->end && isdigit((unsigned char)*p)) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        p++;
    }
    c->p = p;
    *out = v;
    return true;
}

bool ks_cur_double(ks_cursor *c, double *out)
{
    ks_cur_skip_blanks(c);
    char tmp[64];
    size_t n = 0;
    const char *p = c->p;
    if (p < c->end && (*p == '-' || *p == '+'))
        tmp[n++] = *p++;
    bool digits = false, dot = false;
    while (p < c->end && n < sizeof tmp - 1) {
        if (isdigit((unsigned char)*p)) {
            digits = true;
        } else if (*p == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
        tmp[n++] = *p++;
    }
    if (!digits || n >= sizeof tmp - 1)
        return false;
    tmp[n] = '\0';
    *out = strtod(tmp, NULL);
    c->p = p;
    return true;
}

bool ks_cur_accept(ks_cursor *c, const char *s)
{
    size_t n = strlen(s);
    if (ks_cur_len(c) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

bool ks_cur_equals(const ks_cursor *c, const char *s)
{
    size_t n = strlen(s);
    return ks_cur_len(c) == n && memcmp(c->p, s, n) == 0;
}

bool ks_parse_u64(const char *s, uint64_t *out)
{
    ks_cursor c = ks_cursor_make(s, strlen(s));
    uint64_t v;
    if (!ks_cur_u64(&c, &v))
        return false;
    ks_cur_skip_blanks(&c);
    if (!ks_cur_eof(&c))
        return false;
    *out = v;
    return true;
}

bool ks_parse_int(const char *s, long min, long max, long *out)
{
    ks_cursor c = ks_cursor_make(s, strlen(s));
    ks_cur_skip_blanks(&c);
    bool neg = ks_cur_accept(&c, "-");
    uint64_t v;
    /* the digits must follow the sign: "- 5" is not a number */
    if (neg && (ks_cur_eof(&c) || !isdigit((unsigned char)*c.p)))
        return false;
    if (!ks_cur_u64(&c, &v))
        return false;
    ks_cur_skip_blanks(&c);
    /* -LONG_MIN is LONG_MAX + 1 */
    if (!ks_cur_eof(&c) || v > (uint64_t)LONG_MAX + neg)
        return false;
    long r = !neg ? (long)v : v > (uint64_t)LONG_MAX ? LONG_MIN : -(long)v;
    if (r < min || r > max)
        return false;
    *out = r;
    return true;
}

/* A decimal number and nothing else: [+-]digits[.digits][e[+-]digits] or
 * [+-].digits[...]. strtod alone also takes hexadecimal ("0xA28"),
 * "inf", "nan" and "infinity", none of which a person means in a setting
 * or a measurement. */
static bool decimal_only(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '+' || *s == '-')
        s++;
    size_t digits = 0;
    while (isdigit((unsigned char)*s))
        s++, digits++;
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s))
            s++, digits++;
    }
    if (!digits)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!isdigit((unsigned char)*s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

bool ks_parse_double(const char *s, double *out)
{
    if (!decimal_only(s))
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v))
        return false;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

bool ks_parse_bool(const char *s, bool *out)
{
    static const char *yes[] = {"1", "yes", "true", "on"};
    static const char *no[] = {"0", "no", "false", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

char *ks_trim(char *s)
{
    char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    memmove(s, p, n);
    s[n] = '\0';
    return s;
}

void ks_words_append(const char *s, const char *seps, char ***v, size_t *n)
{
    for (const char *p = s; *p;) {
        p += strspn(p, seps);
        size_t len = strcspn(p, seps);
        if (!len)
            break;
        *v = ks_reallocarray(*v, *n + 1, sizeof **v);
        (*v)[(*n)++] = ks_strndup(p, len);
        p += len;
    }
}

void ks_words_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
