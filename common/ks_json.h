/* ks_json.h: JSON through jansson, written atomically. */
#ifndef KS_JSON_H
#define KS_JSON_H

#include <jansson.h>

#include "ks_error.h"

/* Write j (indented, keys in insertion order, trailing newline) to path
 * through a temporary file and a rename. */
int ks_json_write_file(const char *path, const json_t *j, ks_error *err);
/* The same with more jansson dump flags (e.g. JSON_REAL_PRECISION(12)). */
int ks_json_write_file_flags(const char *path, const json_t *j, size_t flags, ks_error *err);

/* Read a JSON file; NULL with err filled on a missing file or bad JSON. */
json_t *ks_json_read_file(const char *path, ks_error *err);

#endif
