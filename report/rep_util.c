/* rep_util.c: escaping, number formats and file helpers of the report. */
#define _XOPEN_SOURCE 700
#include "rep_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ks_mem.h"

void rep_html(ks_buf *b, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        ks_buf_append(b, run, (size_t)(s - run));
        ks_buf_appends(b, rep);
        run = s + 1;
    }
    ks_buf_append(b, run, (size_t)(s - run));
}

void rep_csv(ks_buf *b, const char *s)
{
    /* a text cell starting like a formula (a role or reason written in
     * the study's files) is kept as text by spreadsheets with a quote
     * mark, as OWASP's CSV injection advice has it */
    if (s[0] && strchr("=+-@", s[0])) {
        KS_AUTOFREE char *guarded = ks_asprintf("'%s", s);
        ks_buf_csv_field(b, guarded);
        return;
    }
    ks_buf_csv_field(b, s);
}

void rep_csv_num(ks_buf *b, double v, int prec)
{
    if (isnan(v) || isinf(v))
        return;
    /* never "-0" */
    if (fabs(v) < 0.5 * pow(10, -prec))
        v = 0;
    ks_buf_printf(b, "%.*f", prec, v);
}

const char *rep_num(char buf[48], double v, int prec)
{
    if (isnan(v) || isinf(v)) {
        snprintf(buf, 48, "\u2014");
        return buf;
    }
    if (fabs(v) < 0.5 * pow(10, -prec))
        v = 0;
    snprintf(buf, 48, "%.*f", prec, v);
    return buf;
}

void rep_gp_str(ks_buf *b, const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20)
            continue;
        if (*s == '\'')
            ks_buf_appends(b, "'");
        ks_buf_append(b, s, 1);
    }
}

int rep_write_file(const char *path, const void *data, size_t len, ks_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ks_error_set(err, KS_E_IO, errno, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            ks_error_set(err, KS_E_IO, e, "cannot write '%s': %s (is the disk full?)", path,
                         strerror(e));
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    if (close(fd) < 0) {
        ks_error_set(err, KS_E_IO, errno, "cannot write '%s': %s (is the disk full?)", path,
                     strerror(errno));
        return -1;
    }
    return 0;
}

char *rep_which(const char *program)
{
    if (!program || !*program)
        return NULL;
    if (strchr(program, '/'))
        return access(program, X_OK) == 0 ? ks_strdup(program) : NULL;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        char *cand = ks_asprintf("%.*s/%s", (int)(len ? len : 1), len ? path : ".", program);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return cand;
        free(cand);
        path += len;
        if (*path == ':')
            path++;
    }
    return NULL;
}
