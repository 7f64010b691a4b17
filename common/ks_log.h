/* ks_log.h: levelled logging to stderr.
 *
 * Messages go to stderr with a time stamp when stderr is not a terminal
 * (logs of long collections), without one on a terminal. Not thread-safe:
 * kvmshift's collector is a single-threaded event loop.
 */
#ifndef KS_LOG_H
#define KS_LOG_H

typedef enum ks_log_level {
    KS_LOG_ERROR = 0,
    KS_LOG_WARN = 1,
    KS_LOG_INFO = 2,
    KS_LOG_DEBUG = 3,
} ks_log_level;

void ks_log_set_level(ks_log_level level);
ks_log_level ks_log_get_level(void);
void ks_log(ks_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ks_log_error(...) ks_log(KS_LOG_ERROR, __VA_ARGS__)
#define ks_log_warn(...) ks_log(KS_LOG_WARN, __VA_ARGS__)
#define ks_log_info(...) ks_log(KS_LOG_INFO, __VA_ARGS__)
#define ks_log_debug(...) ks_log(KS_LOG_DEBUG, __VA_ARGS__)

#endif
