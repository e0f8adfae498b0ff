#include "util/imap.h"

#include <stdlib.h>
#include <string.h>

#include "zab.h"

static uint32_t home_of(const zab_imap *m, int64_t key)
{
    /* Fibonacci hashing: the keys are ids the library or its host chose. */
    uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32) & m->mask;
}

/* The slot holding key, or the empty slot where it would go. */
static zab_islot *probe(const zab_imap *m, int64_t key)
{
    for (uint32_t i = home_of(m, key);; i = (i + 1) & m->mask)
        if (!m->slots[i].value || m->slots[i].key == key) return &m->slots[i];
}

uint64_t zab_imap_get(const zab_imap *m, int64_t key)
{
    return m->slots ? probe(m, key)->value : 0;
}

static int grow(zab_imap *m)
{
    uint32_t cap = m->slots ? (m->mask + 1) * 2 : 16;
    if (cap == 0) return ZAB_ENOMEM;
    zab_imap next = { calloc(cap, sizeof(zab_islot)), cap - 1, m->count };
    if (!next.slots) return ZAB_ENOMEM;
    for (uint32_t i = 0; m->slots && i <= m->mask; i++)
        if (m->slots[i].value) *probe(&next, m->slots[i].key) = m->slots[i];
    free(m->slots);
    *m = next;
    return 0;
}

/* Empty slot s, shifting later members of its probe run back so that every
 * key stays reachable from its home without tombstones. */
static void remove_slot(zab_imap *m, uint32_t hole)
{
    for (uint32_t i = (hole + 1) & m->mask; m->slots[i].value; i = (i + 1) & m->mask) {
        uint32_t home = home_of(m, m->slots[i].key);
        if (((i - home) & m->mask) >= ((i - hole) & m->mask)) {
            m->slots[hole] = m->slots[i];
            hole = i;
        }
    }
    m->slots[hole] = (zab_islot){ 0, 0 };
    m->count--;
}

int zab_imap_set(zab_imap *m, int64_t key, uint64_t value)
{
    if (!value) {
        if (!m->slots) return 0;
        zab_islot *s = probe(m, key);
        if (s->value) remove_slot(m, (uint32_t)(s - m->slots));
        return 0;
    }
    zab_islot *s = m->slots ? probe(m, key) : NULL;
    if (s && s->value) {
        s->value = value;
        return 0;
    }
    /* A new key: keep the load under 3/4 so probe runs stay short. */
    if (!m->slots || (m->count + 1) * 4 > (m->mask + 1) * 3) {
        if (grow(m)) return ZAB_ENOMEM;
        s = probe(m, key);
    }
    *s = (zab_islot){ key, value };
    m->count++;
    return 0;
}

void zab_imap_clear(zab_imap *m)
{
    if (m->slots) memset(m->slots, 0, (m->mask + 1) * sizeof(*m->slots));
    m->count = 0;
}

void zab_imap_free(zab_imap *m)
{
    free(m->slots);
    *m = (zab_imap){ 0 };
}
