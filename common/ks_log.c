#include "ks_log.h"
#include "ks_time.h"

#include <stdarg.h>
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
