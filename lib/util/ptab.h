/*
 * ptab.h - an open-addressed table of pointers to caller-owned items keyed
 * by byte strings, with linear probing and backward-shift deletion (no
 * tombstones, so a table that churns never degrades).
 *
 * The table stores each item's 64-bit key hash beside it, so growth and
 * deletion never touch the items; lookups call key_of only on a hash match.
 */
#ifndef ZAB_UTIL_PTAB_H
#define ZAB_UTIL_PTAB_H

#include <stdint.h>

#include <string.h>

#include "zab.h"

typedef struct zab_pslot {
    uint64_t hash;
    void *item; /* NULL = empty */
} zab_pslot;

typedef struct zab_ptab {
    zab_pslot *slots;
    uint32_t mask;  /* slots has mask + 1 entries, or slots is NULL */
    uint32_t count;
} zab_ptab;

/* The key of an item. */
typedef zab_str (*zab_key_fn)(const void *item);

/* The item whose key equals key, or NULL. */
void *zab_ptab_find(const zab_ptab *t, uint64_t hash, zab_str key, zab_key_fn key_of);
/* Make room for extra more items so that as many inserts cannot fail. */
int zab_ptab_reserve(zab_ptab *t, uint32_t extra);
/* Insert item (its key must not be present). 0 or ZAB_ENOMEM (unchanged). */
int zab_ptab_insert(zab_ptab *t, uint64_t hash, void *item);
/* Replace the item with an equal key by item (which must be present). */
void zab_ptab_replace(zab_ptab *t, uint64_t hash, zab_str key, zab_key_fn key_of, void *item);
/* Remove and return the item with key, or NULL. */
void *zab_ptab_remove(zab_ptab *t, uint64_t hash, zab_str key, zab_key_fn key_of);
/* Free the slot array (not the items). */
void zab_ptab_free(zab_ptab *t);

/* Iterate: for (uint32_t i = 0; zab_ptab_next(t, &i, &item); ) ... */
static inline int zab_ptab_next(const zab_ptab *t, uint32_t *pos, void **item)
{
    if (!t->slots) return 0;
    for (; *pos <= t->mask; (*pos)++) {
        if (t->slots[*pos].item) {
            *item = t->slots[(*pos)++].item;
            return 1;
        }
    }
    return 0;
}

static inline int zab_str_eq(zab_str a, zab_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* A set of owned strings built on ptab (used for a session's ephemerals). */
typedef struct zab_strset {
    zab_ptab tab;
} zab_strset;

int zab_strset_add(zab_strset *s, zab_str str);      /* 0, or ZAB_ENOMEM; no-op if present */
int zab_strset_has(const zab_strset *s, zab_str str);
void zab_strset_del(zab_strset *s, zab_str str);
void zab_strset_free(zab_strset *s);
/* The string stored as item (from zab_ptab_next on s->tab). */
zab_str zab_strset_item(const void *item);

#endif
