#define _GNU_SOURCE
#include "ks_time.h"

#include <stdio.h>
#include <time.h>
#include <string.h>

void ks_time_iso(time_t t, char buf[KS_TIME_ISO_LEN])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, KS_TIME_ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool ks_time_parse_iso(const char *s, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
    if (!end || *end)
        return false;
    *out = timegm(&tm);
    return true;
}

bool ks_date_parse(const char *s, time_t *out)
{
    int y, mo, d;
    char extra;
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &extra) != 3 || y < 1970 || mo < 1 || mo > 12 ||
        d < 1 || d > 31)
        return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    if (back.tm_mday != d || back.tm_mon != mo - 1)
        return false; /* timegm moved 2027-02-30 to March */
    *out = t;
    return true;
}

double ks_time_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
