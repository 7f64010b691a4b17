/* ks_mem.h: allocation that never returns NULL.
 *
 * Out of memory aborts with a message (as Redis zmalloc does): kvmshift has
 * no untested out-of-memory paths. KS_AUTOFREE frees a pointer when it goes
 * out of scope (nbdkit's CLEANUP_FREE).
 */
#ifndef KS_MEM_H
#define KS_MEM_H

#include <stddef.h>

void *ks_malloc(size_t n);
void *ks_calloc(size_t n, size_t size);
void *ks_realloc(void *p, size_t n);
/* realloc for arrays, with overflow check of n * size */
void *ks_reallocarray(void *p, size_t n, size_t size);
char *ks_strdup(const char *s);
char *ks_strndup(const char *s, size_t n);
/* printf into a new string */
char *ks_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* qsort of n elements, where an empty array may be NULL: qsort(NULL, 0)
 * is undefined (UBSan stops on it: an empty vector's ptr is NULL), so
 * fewer than two elements are left as they are. Every sort of kvmshift
 * goes through it. */
void ks_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
/* strcmp of two elements that are (const) char pointers, for ks_qsort and
 * bsearch over arrays of names. */
int ks_cmp_strp(const void *a, const void *b);

void ks_free_ptr(void *pp);
#define KS_AUTOFREE __attribute__((cleanup(ks_free_ptr)))

#endif
