#include "ks_error.h"

#include <stdio.h>
#include <string.h>

void ks_error_set_at(ks_error *err, ks_errcode code, const char *component, const char *func,
                     int errnum, const char *fmt, ...)
{
    if (!err)
        return;
    err->code = code;
    err->errnum = errnum;
    err->component = component;
    err->func = func;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

void ks_error_clear(ks_error *err)
{
    if (!err)
        return;
    err->code = KS_OK;
    err->errnum = 0;
    err->component = "";
    err->func = "";
    err->message[0] = '\0';
}

void ks_error_copy(ks_error *dst, const ks_error *src)
{
    memcpy(dst, src, sizeof *dst);
}

const char *ks_errcode_name(ks_errcode code)
{
    switch (code) {
    case KS_OK:
        return "ok";
    case KS_E_USAGE:
        return "usage";
    case KS_E_CONFIG:
        return "config";
    case KS_E_PARSE:
        return "parse";
    case KS_E_IO:
        return "io";
    case KS_E_NET:
        return "network";
    case KS_E_TIMEOUT:
        return "timeout";
    case KS_E_HOSTKEY:
        return "hostkey";
    case KS_E_AUTH:
        return "auth";
    case KS_E_REMOTE:
        return "remote";
    case KS_E_RRD:
        return "rrd";
    case KS_E_INTERNAL:
        return "internal";
    }
    return "unknown";
}
