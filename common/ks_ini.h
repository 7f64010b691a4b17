/* ks_ini.h: study.ini reader.
 *
 * Format: "[section]" or "[kind NAME]" headers, "key = value" lines, full-line
 * comments starting with '#' or ';', blank lines. Keys before any section
 * are an error, as are duplicate keys in one section. Values are trimmed;
 * there are no inline comments (a value may contain ';' or '#').
 */
#ifndef KS_INI_H
#define KS_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "ks_error.h"

typedef struct ks_ini ks_ini;

/* Parse text; filename is used in messages ("study.ini:12: ..."). */
ks_ini *ks_ini_parse(const char *text, size_t len, const char *filename, ks_error *err);
ks_ini *ks_ini_load(const char *path, ks_error *err);
void ks_ini_free(ks_ini *ini);

/* The value, or NULL when the section or key is absent. Section names are
 * compared exactly ("host-model big"), keys case-insensitively. */
const char *ks_ini_get(const ks_ini *ini, const char *section, const char *key);
/* The keys of section in file order, as a new array of *n pointers into
 * ini (free the array only); NULL when there are none. */
const char **ks_ini_keys(const ks_ini *ini, const char *section, size_t *n);
/* Line of a key (for messages), 0 when absent. */
unsigned ks_ini_line(const ks_ini *ini, const char *section, const char *key);
const char *ks_ini_filename(const ks_ini *ini);

size_t ks_ini_section_count(const ks_ini *ini);
const char *ks_ini_section_name(const ks_ini *ini, size_t i);

/* What a file may hold: a section ("policy"), or a kind of named sections
 * ("host-model ": "[host-model big]", with the blank), and its keys (a
 * NULL-terminated list; NULL: any key, e.g. [pin]'s server names). */
typedef struct ks_ini_section_spec {
    const char *name;
    const char *const *keys;
} ks_ini_section_spec;

/* Refuse what spec does not know: the first unknown section or key, with
 * file:line and, when one is near (a typo), "did you mean ...?". 0, or -1
 * with err (KS_E_CONFIG). */
int ks_ini_check(const ks_ini *ini, const ks_ini_section_spec *spec, size_t nspec, ks_error *err);

/* The edit distance of a and b (case ignored), at most cap (a larger one is
 * cap). */
unsigned ks_edit_distance(const char *a, const char *b, unsigned cap);

/* Typed getters: def when absent; an error naming file:line when present
 * and not a number in [min, max]. */
int ks_ini_get_long(const ks_ini *ini, const char *section, const char *key, long def, long min,
                    long max, long *out, ks_error *err);
int ks_ini_get_double(const ks_ini *ini, const char *section, const char *key, double def,
                      double min, double max, double *out, ks_error *err);

#endif
