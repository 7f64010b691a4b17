/* ks_parse.h: parsers that advance a cursor and check every number.
 *
 * Text from remote machines (/proc files, command output) and from users
 * (inventory, study.ini) is parsed with these instead of atoi/strtok: a
 * cursor over a bounded byte range (no NUL needed), explicit failure on
 * overflow and on garbage.
 */
#ifndef KS_PARSE_H
#define KS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ks_cursor {
    const char *p;
    const char *end;
} ks_cursor;

static inline ks_cursor ks_cursor_make(const char *p, size_t len)
{
    ks_cursor c = {p, p + len};
    return c;
}

static inline bool ks_cur_eof(const ks_cursor *c)
{
    return c->p >= c->end;
}

/* Skip blanks (space, tab), not newlines. */
void ks_cur_skip_blanks(ks_cursor *c);
/* Take the next line (without its '\n') into *line; false at end of input. */
bool ks_cur_line(ks_cursor *c, ks_cursor *line);
/* Skip blanks, then take a run of non-blank characters; false if none. */
bool ks_cur_word(ks_cursor *c, const char **start, size_t *len);
/* Skip blanks, then parse an unsigned decimal; false on no digits or overflow. */
bool ks_cur_u64(ks_cursor *c, uint64_t *out);
/* Skip blanks, then parse a decimal number like 123.45; false if none. */
bool ks_cur_double(ks_cursor *c, double *out);
/* If the cursor starts with s, skip it and return true. */
bool ks_cur_accept(ks_cursor *c, const char *s);
/* Length of the remaining input. */
static inline size_t ks_cur_len(const ks_cursor *c)
{
    return c->p < c->end ? (size_t)(c->end - c->p) : 0;
}
/* Does the cursor's remaining text equal s exactly? */
bool ks_cur_equals(const ks_cursor *c, const char *s);

/* Whole-string parsers for user input: the string must be only the number
 * (surrounding blanks allowed), in decimal (no "0x", "inf" or "nan").
 * false on garbage, overflow or out of range. */
bool ks_parse_u64(const char *s, uint64_t *out);
bool ks_parse_int(const char *s, long min, long max, long *out);
bool ks_parse_double(const char *s, double *out);
bool ks_parse_bool(const char *s, bool *out);

/* Append the words of s, separated by any run of the characters in seps
 * ("a, b;c" with ", ;"), to the array *v of *n newly allocated strings
 * (grown as needed; *v may start NULL). Free with ks_words_free. */
void ks_words_append(const char *s, const char *seps, char ***v, size_t *n);
void ks_words_free(char **v, size_t n);

/* Trim blanks (and \r) on both sides in place; returns s. */
char *ks_trim(char *s);

#endif
