#include "tree/session.h"

#include <stdlib.h>
#include <string.h>

#include "util/prim.h"

static zab_str id_key(const int64_t *id)
{
    zab_str k = { (const char *)id, sizeof(*id) };
    return k;
}

static zab_str session_key(const void *item)
{
    return id_key(&((const zab_session *)item)->id);
}

static uint64_t id_hash(int64_t id)
{
    return zab_hash64(&id, sizeof(id), 0x5e55);
}

zab_session *zab_sessions_find(const zab_sessions *s, int64_t id)
{
    return zab_ptab_find(&s->tab, id_hash(id), id_key(&id), session_key);
}

zab_session *zab_sessions_add(zab_sessions *s, int64_t id, int32_t timeout,
                              const uint8_t passwd[16])
{
    zab_session *se = calloc(1, sizeof(*se));
    if (!se) return NULL;
    se->id = id;
    se->timeout = timeout;
    memcpy(se->passwd, passwd, sizeof(se->passwd));
    if (zab_ptab_insert(&s->tab, id_hash(id), se)) {
        free(se);
        return NULL;
    }
    return se;
}

static void session_free(zab_session *se)
{
    zab_strset_free(&se->ephemerals);
    free(se);
}

void zab_sessions_remove(zab_sessions *s, int64_t id)
{
    zab_session *se = zab_ptab_remove(&s->tab, id_hash(id), id_key(&id), session_key);
    if (se) session_free(se);
}

void zab_sessions_free(zab_sessions *s)
{
    void *item;
    for (uint32_t i = 0; zab_ptab_next(&s->tab, &i, &item);) session_free(item);
    zab_ptab_free(&s->tab);
}

uint64_t zab_session_hash(const zab_session *se)
{
    /* Integers spelled big-endian, so replicas of any byte order agree. */
    uint8_t b[28];
    memcpy(b + 12, se->passwd, 16);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)se->id >> (56 - 8 * i));
    for (int i = 0; i < 4; i++) b[8 + i] = (uint8_t)((uint32_t)se->timeout >> (24 - 8 * i));
    return zab_hash64(b, sizeof(b), 0x5e5510);
}
