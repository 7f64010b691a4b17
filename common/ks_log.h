/* ks_log.h: levelled logging to stderr.
 *
 * Messages go to stderr with a time stamp when stderr is not a terminal
 * (logs of long collections), without one on a terminal. Not thread-safe:
 * kvmshift's collector is a single-threaded event loop.
 */
#ifndef KS_LOG_H
#define KS_LOG_H

#include <stddef.h>
#include <stdio.h>

typedef enum ks_log_level {
    KS_LOG_ERROR = 0,
    KS_LOG_WARN = 1,
    KS_LOG_INFO = 2,
    KS_LOG_DEBUG = 3,
} ks_log_level;

void ks_log_set_level(ks_log_level level);
ks_log_level ks_log_get_level(void);
void ks_log(ks_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Human output never passes a control character through: text from a
 * remote machine (facts, error messages, a service's name) with ESC, BEL or
 * CR in it would clear the screen or rewrite lines. After
 * ks_output_escape_controls (called once by main), everything written to
 * stdout and stderr has its control characters but newline and tab
 * escaped (ESC as "\x1b", CR as "\r"); JSON is already escaped by its
 * writer. The progress line, whose own "\r\033[K" redraws it, writes to
 * ks_output_raw_stderr() and escapes what it shows itself. */
void ks_output_escape_controls(void);
FILE *ks_output_raw_stderr(void);
/* in[0..n) with its control characters escaped as above into out, which
 * holds 4n + 1 bytes; returns the length written (out NUL-terminated). */
size_t ks_escape_controls(const char *in, size_t n, char *out);

#define ks_log_error(...) ks_log(KS_LOG_ERROR, __VA_ARGS__)
#define ks_log_warn(...) ks_log(KS_LOG_WARN, __VA_ARGS__)
#define ks_log_info(...) ks_log(KS_LOG_INFO, __VA_ARGS__)
#define ks_log_debug(...) ks_log(KS_LOG_DEBUG, __VA_ARGS__)

#endif
