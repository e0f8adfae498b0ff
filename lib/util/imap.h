/*
 * imap.h - an open-addressed map from int64 keys to non-zero uint64
 * values, with linear probing and backward-shift deletion. For small
 * per-key counters on hot paths (a session's requests in flight), where
 * allocating an item per key would cost more than the work it tracks.
 */
#ifndef ZAB_UTIL_IMAP_H
#define ZAB_UTIL_IMAP_H

#include <stdint.h>

typedef struct zab_islot {
    int64_t key;
    uint64_t value; /* 0 = empty slot */
} zab_islot;

typedef struct zab_imap {
    zab_islot *slots;
    uint32_t mask;  /* slots has mask + 1 entries, or slots is NULL */
    uint32_t count;
} zab_imap;

/* The value stored for key; 0 when absent. */
uint64_t zab_imap_get(const zab_imap *m, int64_t key);
/* Store value for key; 0 removes it. 0 or ZAB_ENOMEM (map unchanged). */
int zab_imap_set(zab_imap *m, int64_t key, uint64_t value);
void zab_imap_clear(zab_imap *m);
void zab_imap_free(zab_imap *m);

#endif
