/* mig_check.c: the checks of validate (mig_load.h). */
#include <stdarg.h>

#include "ks_buf.h"
#include "mig_load.h"

const char *const mig_level_names[] = {"pass", "warn", "fail"};

mig_check mig_check_new(const char *id)
{
    mig_check c = {json_object(), L_PASS};
    json_object_set_new(c.o, "check", json_string(id));
    json_object_set_new(c.o, "status", json_string("pass"));
    json_object_set_new(c.o, "summary", json_string(""));
    json_object_set_new(c.o, "evidence", json_array());
    return c;
}

/* One line of evidence; the check's status is the worst of its lines. */
/* fmt and ap as a JSON string (64 KiB at most). */
static json_t *vstring(const char *fmt, va_list ap)
{
    ks_buf b;
    ks_buf_init(&b, 1 << 16);
    ks_buf_vprintf(&b, fmt, ap);
    json_t *j = json_string(ks_buf_str(&b));
    ks_buf_free(&b);
    return j;
}

void mig_evidence(mig_check *c, mig_level lv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_array_append_new(json_object_get(c->o, "evidence"), vstring(fmt, ap));
    va_end(ap);
    if (lv > c->lv)
        c->lv = lv;
}

void mig_finish(json_t *checks, mig_check *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_object_set_new(c->o, "summary", vstring(fmt, ap));
    va_end(ap);
    json_object_set_new(c->o, "status", json_string(mig_level_names[c->lv]));
    json_array_append_new(checks, c->o);
    c->o = NULL;
}
