/* ks_error.h: the one error record of kvmshift.
 *
 * An error is filled once, where the failure happens, through ks_error_set(),
 * which records the component (the KS_COMPONENT compile definition of the
 * library that raised it) and the function. The struct is per handle or
 * passed in by the caller, never global: the collector works on many servers
 * at once and each keeps its own last error.
 */
#ifndef KS_ERROR_H
#define KS_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

#ifndef KS_COMPONENT
#define KS_COMPONENT "kvmshift"
#endif

typedef enum ks_errcode {
    KS_OK = 0,
    KS_E_USAGE,    /* bad command line */
    KS_E_CONFIG,   /* bad study.ini or inventory */
    KS_E_PARSE,    /* text from a server or file that does not parse */
    KS_E_IO,       /* local file system */
    KS_E_NET,      /* unreachable, refused, reset */
    KS_E_TIMEOUT,  /* no answer in time */
    KS_E_HOSTKEY,  /* unknown or changed host key */
    KS_E_AUTH,     /* authentication refused */
    KS_E_REMOTE,   /* the remote command failed */
    KS_E_RRD,      /* librrd or rrdcached */
    KS_E_INTERNAL, /* a bug */
} ks_errcode;

#define KS_ERROR_MSG_MAX 2048

typedef struct ks_error {
    ks_errcode code;
    int errnum;            /* errno at the failure, or 0 */
    const char *component; /* static string: "collector", "common", ... */
    const char *func;      /* static string: __func__ of the raiser */
    char message[KS_ERROR_MSG_MAX];
} ks_error;

/* Fill *err (which may be NULL: then nothing is recorded). The message is a
 * whole sentence that names the server or file and says how to fix it. */
#define ks_error_set(err, code, errnum, ...)                                                       \
    ks_error_set_at((err), (code), KS_COMPONENT, __func__, (errnum), __VA_ARGS__)

void ks_error_set_at(ks_error *err, ks_errcode code, const char *component, const char *func,
                     int errnum, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Reset to "no error". */
void ks_error_clear(ks_error *err);

/* Copy src into dst (both non-NULL). */
void ks_error_copy(ks_error *dst, const ks_error *src);

/* Short stable name of a code ("timeout", "hostkey", ...), for JSON output. */
const char *ks_errcode_name(ks_errcode code);

#endif
