/* Growth of the scenario layer's dynamic arrays (an array, its count, its
 * capacity). Internal; not installed. */
#ifndef KCS_GROW_H
#define KCS_GROW_H

#include <stddef.h>
#include <stdlib.h>

/* `items`, n elements of `size` bytes in a capacity of *cap, with room for
 * one more: when full, reallocated to twice the capacity (`first` elements
 * when it has none) and *cap updated. NULL when out of memory; `items` and
 * *cap are then unchanged, and `items` is still the caller's. */
static inline void *kcs_grow(void *items, size_t n, size_t *cap, size_t size, size_t first) {
    if (n < *cap)
        return items;
    size_t c = *cap ? *cap * 2 : first;
    void *g = realloc(items, c * size);
    if (g != NULL)
        *cap = c;
    return g;
}

#endif
