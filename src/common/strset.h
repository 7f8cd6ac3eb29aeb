/*
 * A set of strings, open addressing with FNV-1a, doubling at half full:
 * the store's walks (digests seen) and the build's layer entries (paths
 * present) share it. Zero-initialise; strset_release frees every copy.
 * Out of memory aborts (xcalloc), as everywhere in gantry.
 */
#ifndef GANTRY_STRSET_H
#define GANTRY_STRSET_H

#include <stdbool.h>
#include <string.h>

#include "util.h"

struct strset {
    char **slots;
    size_t cap;
    size_t n;
};

static inline size_t strset_hash(const char *k)
{
    size_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    return h;
}

static inline size_t strset_slot(char **slots, size_t cap, const char *k)
{
    size_t i = strset_hash(k) & (cap - 1);
    while (slots[i] && strcmp(slots[i], k) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static inline void strset_grow(struct strset *set)
{
    size_t cap = set->cap ? set->cap * 2 : 64;
    char **slots = xcalloc(cap, sizeof(*slots));
    for (size_t i = 0; i < set->cap; i++)
        if (set->slots[i])
            slots[strset_slot(slots, cap, set->slots[i])] = set->slots[i];
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
}

/* Add a copy of k; true when it was not there yet. */
static inline bool strset_add(struct strset *set, const char *k)
{
    if ((set->n + 1) * 2 > set->cap)
        strset_grow(set);
    size_t i = strset_slot(set->slots, set->cap, k);
    if (set->slots[i])
        return false;
    set->slots[i] = xstrdup(k);
    set->n++;
    return true;
}

static inline bool strset_has(const struct strset *set, const char *k)
{
    return set->cap && set->slots[strset_slot(set->slots, set->cap, k)] != NULL;
}

static inline void strset_release(struct strset *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->slots[i]);
    free(set->slots);
    memset(set, 0, sizeof(*set));
}

#endif
