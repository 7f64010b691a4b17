#include "ks_ini.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ks_fs.h"
#include "ks_mem.h"
#include "ks_parse.h"
#include "ks_vector.h"

typedef struct ini_entry {
    char *section;
    char *key;
    char *value;
    unsigned line;
} ini_entry;

KS_VECTOR(entry_vec, ini_entry);
KS_VECTOR(str_vec, char *);

struct ks_ini {
    char *filename;
    entry_vec entries;
    str_vec sections;
};

void ks_ini_free(ks_ini *ini)
{
    if (!ini)
        return;
    for (size_t i = 0; i < ini->entries.len; i++) {
        free(ini->entries.ptr[i].key);
        free(ini->entries.ptr[i].value);
    }
    for (size_t i = 0; i < ini->sections.len; i++)
        free(ini->sections.ptr[i]);
    entry_vec_reset(&ini->entries);
    str_vec_reset(&ini->sections);
    free(ini->filename);
    free(ini);
}

static const ini_entry *find(const ks_ini *ini, const char *section, const char *key)
{
    for (size_t i = 0; i < ini->entries.len; i++) {
        const ini_entry *e = &ini->entries.ptr[i];
        if (strcmp(e->section, section) == 0 && strcasecmp(e->key, key) == 0)
            return e;
    }
    return NULL;
}

ks_ini *ks_ini_parse(const char *text, size_t len, const char *filename, ks_error *err)
{
    ks_ini *ini = ks_calloc(1, sizeof *ini);
    ini->filename = ks_strdup(filename);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3; /* UTF-8 byte order mark of some editors */
        len -= 3;
    }
    ks_cursor c = ks_cursor_make(text, len), line;
    unsigned lineno = 0;
    char *section = NULL; /* points into ini->sections */
    while (ks_cur_line(&c, &line)) {
        lineno++;
        KS_AUTOFREE char *s = ks_strndup(line.p, ks_cur_len(&line));
        ks_trim(s);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close || close[1] != '\0') {
                ks_error_set(
                    err, KS_E_CONFIG, 0,
                    "%s:%u: section header '%s' is not closed by ']' at the end of the line",
                    filename, lineno, s);
                goto fail;
            }
            *close = '\0';
            char *name = ks_trim(s + 1);
            /* collapse runs of blanks inside "host-model  big" */
            char *w = name;
            for (char *r = name; *r; r++) {
                if ((*r == ' ' || *r == '\t') && (w > name && w[-1] == ' '))
                    continue;
                *w++ = (*r == '\t') ? ' ' : *r;
            }
            *w = '\0';
            if (!*name) {
                ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: empty section name '[]'", filename,
                             lineno);
                goto fail;
            }
            section = NULL;
            for (size_t i = 0; i < ini->sections.len; i++)
                if (strcmp(ini->sections.ptr[i], name) == 0)
                    section = ini->sections.ptr[i];
            if (section) {
                ks_error_set(err, KS_E_CONFIG, 0,
                             "%s:%u: section [%s] appears twice: merge the two into one", filename,
                             lineno, name);
                goto fail;
            }
            section = ks_strdup(name);
            str_vec_push(&ini->sections, section);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: expected 'key = value', found '%s'", filename,
                         lineno, s);
            goto fail;
        }
        *eq = '\0';
        char *key = ks_trim(s);
        char *value = ks_trim(eq + 1);
        if (!*key) {
            ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: a value without a key", filename, lineno);
            goto fail;
        }
        if (!section) {
            ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: key '%s' comes before any [section] header",
                         filename, lineno, key);
            goto fail;
        }
        const ini_entry *dup = find(ini, section, key);
        if (dup) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: key '%s' in [%s] was already set on line %u: keep one", filename,
                         lineno, key, section, dup->line);
            goto fail;
        }
        ini_entry e = {section, ks_strdup(key), ks_strdup(value), lineno};
        entry_vec_push(&ini->entries, e);
    }
    return ini;
fail:
    ks_ini_free(ini);
    return NULL;
}

ks_ini *ks_ini_load(const char *path, ks_error *err)
{
    size_t len;
    KS_AUTOFREE char *text = ks_read_file(path, 4 << 20, &len, err);
    if (!text)
        return NULL;
    return ks_ini_parse(text, len, path, err);
}

const char *ks_ini_get(const ks_ini *ini, const char *section, const char *key)
{
    const ini_entry *e = find(ini, section, key);
    return e ? e->value : NULL;
}

unsigned ks_ini_line(const ks_ini *ini, const char *section, const char *key)
{
    const ini_entry *e = find(ini, section, key);
    return e ? e->line : 0;
}

const char *ks_ini_filename(const ks_ini *ini)
{
    return ini->filename;
}

size_t ks_ini_section_count(const ks_ini *ini)
{
    return ini->sections.len;
}

const char *ks_ini_section_name(const ks_ini *ini, size_t i)
{
    return i < ini->sections.len ? ini->sections.ptr[i] : NULL;
}

int ks_ini_get_long(const ks_ini *ini, const char *section, const char *key, long def, long min,
                    long max, long *out, ks_error *err)
{
    const ini_entry *e = find(ini, section, key);
    if (!e || !*e->value) {
        *out = def;
        return 0;
    }
    if (!ks_parse_int(e->value, min, max, out)) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "%s:%u: '%s' in [%s] must be a whole number from %ld to %ld, not '%s'",
                     ini->filename, e->line, key, section, min, max, e->value);
        return -1;
    }
    return 0;
}

int ks_ini_get_double(const ks_ini *ini, const char *section, const char *key, double def,
                      double min, double max, double *out, ks_error *err)
{
    const ini_entry *e = find(ini, section, key);
    if (!e || !*e->value) {
        *out = def;
        return 0;
    }
    double v;
    if (!ks_parse_double(e->value, &v) || v < min || v > max) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "%s:%u: '%s' in [%s] must be a number from %g to %g, not '%s'", ini->filename,
                     e->line, key, section, min, max, e->value);
        return -1;
    }
    *out = v;
    return 0;
}
