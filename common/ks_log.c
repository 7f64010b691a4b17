#define _GNU_SOURCE
#include "ks_log.h"
#include "ks_time.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static ks_log_level current = KS_LOG_INFO;

void ks_log_set_level(ks_log_level level)
{
    current = level;
}

ks_log_level ks_log_get_level(void)
{
    return current;
}

void ks_log(ks_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    if (level > current)
        return;
    if (!isatty(STDERR_FILENO)) {
        char stamp[KS_TIME_ISO_LEN];
        ks_time_iso(time(NULL), stamp);
        fprintf(stderr, "%s ", stamp);
    }
    fprintf(stderr, "kvmshift: %s: ", names[level]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

size_t ks_escape_controls(const char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if ((c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t') {
            out[k++] = (char)c;
        } else if (c == '\r') {
            out[k++] = '\\';
            out[k++] = 'r';
        } else {
            out[k++] = '\\';
            out[k++] = 'x';
            out[k++] = hex[c >> 4];
            out[k++] = hex[c & 15];
        }
    }
    out[k] = '\0';
    return k;
}

/* The write of an escaping stream: its cookie is the descriptor. */
static ssize_t escaping_write(void *cookie, const char *buf, size_t n)
{
    int fd = (int)(intptr_t)cookie;
    char out[4 * 1024 + 1];
    for (size_t done = 0; done < n;) {
        size_t take = n - done < 1024 ? n - done : 1024;
        size_t len = ks_escape_controls(buf + done, take, out);
        for (size_t w = 0; w < len;) {
            ssize_t r = write(fd, out + w, len - w);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return done ? (ssize_t)done : -1;
            w += (size_t)r;
        }
        done += take;
    }
    return (ssize_t)n;
}

static FILE *raw_stderr;

FILE *ks_output_raw_stderr(void)
{
    return raw_stderr ? raw_stderr : stderr;
}

void ks_output_escape_controls(void)
{
    if (raw_stderr)
        return;
    cookie_io_functions_t fns = {.write = escaping_write};
    FILE *out = fopencookie((void *)(intptr_t)STDOUT_FILENO, "w", fns);
    FILE *err = fopencookie((void *)(intptr_t)STDERR_FILENO, "w", fns);
    if (!out || !err) {
        if (out)
            fclose(out);
        if (err)
            fclose(err);
        return; /* unescaped, as before */
    }
    fflush(stdout);
    fflush(stderr);
    setvbuf(out, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ);
    setvbuf(err, NULL, _IONBF, 0);
    raw_stderr = stderr;
    stdout = out;
    stderr = err;
}
