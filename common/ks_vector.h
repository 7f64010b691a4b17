/* ks_vector.h: typed growable arrays (after nbdkit's vector.h).
 *
 *   KS_VECTOR(int_vec, int);
 *   int_vec v = {0};
 *   int_vec_push(&v, 42);
 *   ... v.ptr[i] for i < v.len ...
 *   int_vec_reset(&v);           frees the storage, not the elements
 */
#ifndef KS_VECTOR_H
#define KS_VECTOR_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ks_mem.h"

#define KS_VECTOR(name, type)                                                                      \
    typedef struct name {                                                                          \
        type *ptr;                                                                                 \
        size_t len;                                                                                \
        size_t cap;                                                                                \
    } name;                                                                                        \
    static inline void name##_reserve(name *v, size_t n)                                           \
    {                                                                                              \
        if (v->len + n <= v->cap)                                                                  \
            return;                                                                                \
        size_t cap = v->cap ? v->cap * 2 : 8;                                                      \
        while (cap < v->len + n)                                                                   \
            cap *= 2;                                                                              \
        v->ptr = ks_reallocarray(v->ptr, cap, sizeof(type));                                       \
        v->cap = cap;                                                                              \
    }                                                                                              \
    static inline type *name##_push(name *v, type elem)                                            \
    {                                                                                              \
        name##_reserve(v, 1);                                                                      \
        v->ptr[v->len] = elem;                                                                     \
        return &v->ptr[v->len++];                                                                  \
    }                                                                                              \
    static inline void name##_reset(name *v)                                                       \
    {                                                                                              \
        free(v->ptr);                                                                              \
        v->ptr = NULL;                                                                             \
        v->len = v->cap = 0;                                                                       \
    }

#endif
