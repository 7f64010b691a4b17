/* p2v_hash.c: the chunk checksums, computed here exactly as the source's
 * coreutils tool prints them (b2sum = BLAKE2b-512, sha256sum, md5sum), so
 * that a chunk can be checked on arrival against the source's own sum. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "ks_mem.h"
#include "p2v_internal.h"

struct p2v_hasher {
    const EVP_MD *md;
    EVP_MD_CTX *ctx;
};

p2v_hasher *p2v_hasher_new(const char *tool)
{
    const EVP_MD *md = NULL;
    if (strcmp(tool, "b2sum") == 0)
        md = EVP_blake2b512();
    else if (strcmp(tool, "sha256sum") == 0)
        md = EVP_sha256();
    else if (strcmp(tool, "md5sum") == 0)
        md = EVP_md5();
    if (!md)
        return NULL;
    p2v_hasher *h = ks_calloc(1, sizeof *h);
    h->md = md;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx) {
        free(h);
        return NULL;
    }
    return h;
}

void p2v_hasher_free(p2v_hasher *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void p2v_hash_hex(p2v_hasher *h, const void *data, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1 || EVP_DigestUpdate(h->ctx, data, len) != 1 ||
        EVP_DigestFinal_ex(h->ctx, md, &n) != 1)
        n = 0; /* cannot happen with these digests; an empty sum never matches */
    for (unsigned i = 0; i < n; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * n] = '\0';
}
