/* check_find.h: the unit tests' reading of validate's checks (an array of
 * {"check", "status", "summary", "evidence", "data"}). */
#ifndef CHECK_FIND_H
#define CHECK_FIND_H

#include <string.h>

#include <jansson.h>

/* The check id of checks, or NULL. */
static inline const json_t *find(const json_t *checks, const char *id)
{
    size_t i;
    json_t *c;
    json_array_foreach(checks, i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "check")), id) == 0)
            return c;
    }
    return NULL;
}

/* Its status, "(missing)" when there is no such check. */
static inline const char *status(const json_t *checks, const char *id)
{
    const json_t *c = find(checks, id);
    return c ? json_string_value(json_object_get(c, "status")) : "(missing)";
}

/* Some evidence line of check id contains needle. */
static inline int said(const json_t *checks, const char *id, const char *needle)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(find(checks, id), "evidence"), i, e)
    {
        if (strstr(json_string_value(e), needle))
            return 1;
    }
    return 0;
}

#endif
