/* ks_time.h: the times kvmshift writes and reads in text, all UTC.
 *
 * One format for instants everywhere (files, JSON, tables, logs):
 * ISO 8601 "2026-11-22T10:52:00Z"; one for days: "2026-11-22".
 */
#ifndef KS_TIME_H
#define KS_TIME_H

#include <stdbool.h>
#include <time.h>

/* Room for "2026-11-22T10:52:00Z" and its NUL. */
#define KS_TIME_ISO_LEN 32

/* t as "YYYY-MM-DDTHH:MM:SSZ" into buf. */
void ks_time_iso(time_t t, char buf[KS_TIME_ISO_LEN]);

/* Parse exactly "YYYY-MM-DDTHH:MM:SSZ"; false on anything else. */
bool ks_time_parse_iso(const char *s, time_t *out);

/* Parse exactly "YYYY-MM-DD" (1970 or later) to that day's 00:00 UTC;
 * false on anything else, including days that do not exist (2027-02-30). */
bool ks_date_parse(const char *s, time_t *out);

/* Seconds on the monotonic clock (for deadlines and rates; not a date). */
double ks_time_mono(void);

#endif
