#include "ks_ini.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
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
KS_VECTOR(line_vec, unsigned);

struct ks_ini {
    char *filename;
    entry_vec entries;
    str_vec sections;
    line_vec section_lines; /* the line of each section's header */
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
    line_vec_reset(&ini->section_lines);
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
        /* a NUL would end the value where it stands ("9<NUL>5" read as 9),
         * other control characters hide in an editor: neither is text */
        for (const char *q = line.p; q < line.p + ks_cur_len(&line); q++) {
            unsigned char ch = (unsigned char)*q;
            if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f) {
                ks_error_set(err, KS_E_CONFIG, 0,
                             "%s:%u: control character 0x%02x at column %zu: the file must be "
                             "plain text (was it saved by a word processor?)",
                             filename, lineno, ch, (size_t)(q - line.p) + 1);
                goto fail;
            }
        }
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
            line_vec_push(&ini->section_lines, lineno);
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

const char **ks_ini_keys(const ks_ini *ini, const char *section, size_t *n)
{
    size_t count = 0;
    for (size_t k = 0; k < ini->entries.len; k++)
        count += strcmp(ini->entries.ptr[k].section, section) == 0;
    *n = count;
    if (!count)
        return NULL;
    const char **out = ks_calloc(count, sizeof *out), **o = out;
    for (size_t k = 0; k < ini->entries.len; k++)
        if (strcmp(ini->entries.ptr[k].section, section) == 0)
            *o++ = ini->entries.ptr[k].key;
    return out;
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

unsigned ks_edit_distance(const char *a, const char *b, unsigned cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return cap;
    unsigned row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned sub =
                diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            unsigned best = sub < up + 1 ? sub : up + 1;
            row[j] = best < row[j - 1] + 1 ? best : row[j - 1] + 1;
            diag = up;
        }
    }
    return row[lb] < cap ? row[lb] : cap;
}

/* Near enough to be a typo of it: a third of the name's letters, at
 * least 2. */
static bool near(const char *typed, const char *known, unsigned *best)
{
    size_t n = strlen(known);
    unsigned limit = n / 3 > 2 ? (unsigned)(n / 3) : 2;
    unsigned d = ks_edit_distance(typed, known, limit + 1);
    if (d > limit || d >= *best)
        return false;
    *best = d;
    return true;
}

static const ks_ini_section_spec *spec_of(const char *section, const ks_ini_section_spec *spec,
                                          size_t nspec)
{
    for (size_t i = 0; i < nspec; i++) {
        size_t n = strlen(spec[i].name);
        bool kind = n && spec[i].name[n - 1] == ' ';
        if (kind ? strncmp(section, spec[i].name, n) == 0 && section[n]
                 : strcmp(section, spec[i].name) == 0)
            return &spec[i];
    }
    return NULL;
}

int ks_ini_check(const ks_ini *ini, const ks_ini_section_spec *spec, size_t nspec, ks_error *err)
{
    for (size_t s = 0; s < ini->sections.len; s++) {
        const char *sec = ini->sections.ptr[s];
        if (spec_of(sec, spec, nspec))
            continue;
        unsigned best = UINT_MAX;
        const char *hint = NULL;
        char typed[128];
        for (size_t i = 0; i < nspec; i++) {
            size_t n = strlen(spec[i].name);
            bool kind = n && spec[i].name[n - 1] == ' ';
            /* a named kind is compared on its first word: "[host-modle big]" */
            snprintf(typed, sizeof typed, "%.*s", kind ? (int)strcspn(sec, " ") : 127, sec);
            char want[64];
            snprintf(want, sizeof want, "%.*s", kind ? (int)n - 1 : 63, spec[i].name);
            if (near(typed, want, &best))
                hint = spec[i].name;
        }
        unsigned line = ini->section_lines.ptr[s];
        if (hint && hint[strlen(hint) - 1] == ' ')
            ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: unknown section [%s]: did you mean [%sNAME]?",
                         ini->filename, line, sec, hint);
        else if (hint)
            ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: unknown section [%s]: did you mean [%s]?",
                         ini->filename, line, sec, hint);
        else
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: unknown section [%s]: see the README's study.ini keys for the "
                         "sections kvmshift reads",
                         ini->filename, line, sec);
        return -1;
    }
    for (size_t i = 0; i < ini->entries.len; i++) {
        const ini_entry *e = &ini->entries.ptr[i];
        const ks_ini_section_spec *sp = spec_of(e->section, spec, nspec);
        if (!sp || !sp->keys)
            continue;
        bool known = false;
        for (const char *const *k = sp->keys; *k && !known; k++)
            known = strcasecmp(*k, e->key) == 0;
        if (known)
            continue;
        /* (the distances only for a key that is unknown) */
        unsigned best = UINT_MAX;
        const char *hint = NULL;
        for (const char *const *k = sp->keys; *k; k++)
            if (near(e->key, *k, &best))
                hint = *k;
        if (hint)
            ks_error_set(err, KS_E_CONFIG, 0, "%s:%u: unknown key '%s' in [%s]: did you mean '%s'?",
                         ini->filename, e->line, e->key, e->section, hint);
        else
            ks_error_set(err, KS_E_CONFIG, 0,
                         "%s:%u: unknown key '%s' in [%s]: see the README's study.ini keys for "
                         "what [%s] takes",
                         ini->filename, e->line, e->key, e->section, e->section);
        return -1;
    }
    return 0;
}
