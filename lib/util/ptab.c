#include "util/ptab.h"

#include <stdlib.h>
#include <string.h>

#include "util/prim.h"

enum { PTAB_MIN_SLOTS = 8 };

void *zab_ptab_find(const zab_ptab *t, uint64_t hash, zab_str key, zab_key_fn key_of)
{
    if (!t->slots) return NULL;
    for (uint32_t i = (uint32_t)hash & t->mask;; i = (i + 1) & t->mask) {
        zab_pslot *s = &t->slots[i];
        if (!s->item) return NULL;
        if (s->hash == hash && zab_str_eq(key_of(s->item), key)) return s->item;
    }
}

static void place(zab_pslot *slots, uint32_t mask, uint64_t hash, void *item)
{
    uint32_t i = (uint32_t)hash & mask;
    while (slots[i].item) i = (i + 1) & mask;
    slots[i].hash = hash;
    slots[i].item = item;
}

static int resize(zab_ptab *t, uint32_t nslots)
{
    zab_pslot *slots = calloc(nslots, sizeof(*slots));
    if (!slots) return ZAB_ENOMEM;
    if (t->slots) {
        for (uint32_t i = 0; i <= t->mask; i++)
            if (t->slots[i].item) place(slots, nslots - 1, t->slots[i].hash, t->slots[i].item);
        free(t->slots);
    }
    t->slots = slots;
    t->mask = nslots - 1;
    return 0;
}

int zab_ptab_reserve(zab_ptab *t, uint32_t extra)
{
    uint64_t want = (uint64_t)t->count + extra;
    uint64_t nslots = t->slots ? (uint64_t)t->mask + 1 : 0;
    if (want * 4 < nslots * 3) return 0; /* load stays under 3/4 */
    uint64_t n = nslots ? nslots : PTAB_MIN_SLOTS;
    while (want * 4 >= n * 3) n *= 2;
    if (n > UINT32_MAX / 2) return ZAB_ENOMEM;
    return resize(t, (uint32_t)n);
}

int zab_ptab_insert(zab_ptab *t, uint64_t hash, void *item)
{
    if (zab_ptab_reserve(t, 1)) return ZAB_ENOMEM;
    place(t->slots, t->mask, hash, item);
    t->count++;
    return 0;
}

static uint32_t slot_of(const zab_ptab *t, uint64_t hash, zab_str key, zab_key_fn key_of)
{
    if (!t->slots) return UINT32_MAX;
    for (uint32_t i = (uint32_t)hash & t->mask;; i = (i + 1) & t->mask) {
        zab_pslot *s = &t->slots[i];
        if (!s->item) return UINT32_MAX;
        if (s->hash == hash && zab_str_eq(key_of(s->item), key)) return i;
    }
}

void zab_ptab_replace(zab_ptab *t, uint64_t hash, zab_str key, zab_key_fn key_of, void *item)
{
    uint32_t i = slot_of(t, hash, key, key_of);
    if (i != UINT32_MAX) t->slots[i].item = item;
}

void *zab_ptab_remove(zab_ptab *t, uint64_t hash, zab_str key, zab_key_fn key_of)
{
    uint32_t i = slot_of(t, hash, key, key_of);
    if (i == UINT32_MAX) return NULL;
    void *item = t->slots[i].item;
    /* Backward shift: pull later members of the probe run into the hole
     * unless their home slot lies cyclically after the hole. */
    uint32_t hole = i;
    for (uint32_t j = (i + 1) & t->mask; t->slots[j].item; j = (j + 1) & t->mask) {
        uint32_t home = (uint32_t)t->slots[j].hash & t->mask;
        uint32_t dist_hole = (j - hole) & t->mask, dist_home = (j - home) & t->mask;
        if (dist_home >= dist_hole) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole].item = NULL;
    t->slots[hole].hash = 0;
    t->count--;
    return item;
}

void zab_ptab_free(zab_ptab *t)
{
    free(t->slots);
    t->slots = NULL;
    t->mask = 0;
    t->count = 0;
}

/* ---- string sets ---- */

typedef struct strset_item {
    uint32_t len;
    char bytes[];
} strset_item;

zab_str zab_strset_item(const void *item)
{
    const strset_item *it = item;
    zab_str s = { it->bytes, it->len };
    return s;
}

static uint64_t strset_hash(zab_str s)
{
    return zab_hash64(s.ptr, s.len, 0x5e7);
}

int zab_strset_add(zab_strset *s, zab_str str)
{
    uint64_t h = strset_hash(str);
    if (zab_ptab_find(&s->tab, h, str, zab_strset_item)) return 0;
    strset_item *it = malloc(sizeof(*it) + str.len + 1);
    if (!it) return ZAB_ENOMEM;
    it->len = str.len;
    if (str.len) memcpy(it->bytes, str.ptr, str.len);
    it->bytes[str.len] = 0;
    if (zab_ptab_insert(&s->tab, h, it)) {
        free(it);
        return ZAB_ENOMEM;
    }
    return 0;
}

int zab_strset_has(const zab_strset *s, zab_str str)
{
    return zab_ptab_find(&s->tab, strset_hash(str), str, zab_strset_item) != NULL;
}

void zab_strset_del(zab_strset *s, zab_str str)
{
    free(zab_ptab_remove(&s->tab, strset_hash(str), str, zab_strset_item));
}

void zab_strset_free(zab_strset *s)
{
    void *item;
    for (uint32_t i = 0; zab_ptab_next(&s->tab, &i, &item);) free(item);
    zab_ptab_free(&s->tab);
}
