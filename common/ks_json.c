#include "ks_json.h"

#include <stdlib.h>
#include <string.h>

#include "ks_fs.h"
#include "ks_mem.h"

int ks_json_write_file(const char *path, const json_t *j, ks_error *err)
{
    return ks_json_write_file_flags(path, j, 0, err);
}

int ks_json_write_file_flags(const char *path, const json_t *j, size_t flags, ks_error *err)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | flags);
    if (!text) {
        ks_error_set(err, KS_E_INTERNAL, 0, "cannot encode JSON for '%s'", path);
        return -1;
    }
    size_t len = strlen(text);
    char *withnl = ks_malloc(len + 2);
    memcpy(withnl, text, len);
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    free(text);
    int r = ks_write_file_atomic(path, withnl, len + 1, 0644, err);
    free(withnl);
    return r;
}

json_t *ks_json_read_file(const char *path, ks_error *err)
{
    size_t len;
    KS_AUTOFREE char *text = ks_read_file(path, 256 << 20, &len, err);
    if (!text)
        return NULL;
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    if (!j)
        ks_error_set(err, KS_E_PARSE, 0, "%s:%d: not valid JSON: %s", path, je.line, je.text);
    return j;
}
