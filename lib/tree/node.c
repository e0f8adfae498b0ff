#include "tree/node.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/prim.h"

enum { KIDS_MIN_LOG2 = 2 };

zab_znode *zab_znode_new(zab_str name, const void *data, int32_t data_len)
{
    size_t dlen = data_len > 0 ? (size_t)data_len : 0;
    zab_znode *n = malloc(sizeof(*n) + name.len + dlen);
    if (!n) return NULL;
    memset(n, 0, sizeof(*n));
    n->name_len = name.len;
    n->data_len = data_len < 0 ? -1 : data_len;
    if (name.len) memcpy(n->bytes, name.ptr, name.len);
    if (dlen) memcpy(n->bytes + name.len, data, dlen);
    return n;
}

void zab_znode_free(zab_znode *n)
{
    if (!n) return;
    free(n->kids);
    free(n);
}

static inline uint64_t name_hash(zab_str name, uint64_t seed)
{
    return zab_hash64(name.ptr, name.len, seed);
}

static inline uint32_t kids_mask(const zab_znode *p)
{
    return (1u << p->kids_log2) - 1;
}

zab_znode *zab_znode_child(const zab_znode *parent, zab_str name, uint64_t seed,
                          uint32_t *slot)
{
    if (!parent->kids) return NULL;
    uint32_t mask = kids_mask(parent);
    for (uint32_t i = (uint32_t)name_hash(name, seed) & mask;; i = (i + 1) & mask) {
        zab_znode *c = parent->kids[i];
        if (!c) return NULL;
        if (c->name_len == name.len && memcmp(c->bytes, name.ptr, name.len) == 0) {
            if (slot) *slot = i;
            return c;
        }
    }
}

static void kids_place(zab_znode **kids, uint32_t mask, zab_znode *c, uint64_t seed)
{
    uint32_t i = (uint32_t)name_hash(zab_znode_name(c), seed) & mask;
    while (kids[i]) i = (i + 1) & mask;
    kids[i] = c;
}

static int kids_resize(zab_znode *p, unsigned log2, uint64_t seed)
{
    zab_znode **kids = calloc((size_t)1 << log2, sizeof(*kids));
    if (!kids) return ZAB_ENOMEM;
    if (p->kids) {
        for (uint32_t i = 0; i <= kids_mask(p); i++)
            if (p->kids[i]) kids_place(kids, (1u << log2) - 1, p->kids[i], seed);
        free(p->kids);
    }
    p->kids = kids;
    p->kids_log2 = (uint8_t)log2;
    return 0;
}

int zab_znode_reserve_child(zab_znode *p, uint64_t seed)
{
    if (!p->kids) return kids_resize(p, KIDS_MIN_LOG2, seed);
    uint64_t slots = (uint64_t)1 << p->kids_log2;
    if (((uint64_t)p->nchildren + 1) * 4 <= slots * 3) return 0;
    if (p->kids_log2 >= 31) return ZAB_ENOMEM;
    return kids_resize(p, p->kids_log2 + 1u, seed);
}

void zab_znode_add_child(zab_znode *p, zab_znode *c, uint64_t seed)
{
    assert(p->kids && ((uint64_t)p->nchildren + 1) * 4 <= ((uint64_t)1 << p->kids_log2) * 3);
    kids_place(p->kids, kids_mask(p), c, seed);
    p->nchildren++;
}

void zab_znode_remove_child(zab_znode *p, uint32_t slot, uint64_t seed)
{
    uint32_t mask = kids_mask(p);
    assert(p->kids && p->kids[slot] && p->nchildren > 0);
    /* Backward-shift deletion keeps probe runs whole without tombstones. */
    uint32_t hole = slot;
    for (uint32_t j = (slot + 1) & mask; p->kids[j]; j = (j + 1) & mask) {
        uint32_t home = (uint32_t)name_hash(zab_znode_name(p->kids[j]), seed) & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            p->kids[hole] = p->kids[j];
            hole = j;
        }
    }
    p->kids[hole] = NULL;
    p->nchildren--;
    if (p->nchildren == 0) {
        free(p->kids);
        p->kids = NULL;
        p->kids_log2 = 0;
    } else if (p->kids_log2 > KIDS_MIN_LOG2 + 2 && ((uint64_t)p->nchildren * 8 < ((uint64_t)1 << p->kids_log2))) {
        /* Shrinking is an optimisation: on OOM keep the larger table. */
        (void)kids_resize(p, p->kids_log2 - 2u, seed);
    }
}

zab_znode *zab_znode_next_child(const zab_znode *p, uint32_t *pos)
{
    if (!p->kids) return NULL;
    for (uint32_t mask = kids_mask(p); *pos <= mask; (*pos)++)
        if (p->kids[*pos]) return p->kids[(*pos)++];
    return NULL;
}

zab_znode *zab_znode_with_data(zab_znode *n, const void *data, int32_t data_len)
{
    size_t dlen = data_len > 0 ? (size_t)data_len : 0;
    if (data_len >= 0 && data_len == n->data_len) {
        /* Same size: overwrite in place, the node stays where it is. */
        if (dlen) memcpy(n->bytes + n->name_len, data, dlen);
        return n;
    }
    zab_znode *m = realloc(n, sizeof(*n) + n->name_len + dlen);
    if (!m) return NULL;
    m->data_len = data_len < 0 ? -1 : data_len;
    if (dlen) memcpy(m->bytes + m->name_len, data, dlen);
    return m;
}

zab_znode *zab_znode_lookup(zab_znode *root, zab_str path, uint64_t seed,
                           zab_znode **parent, uint32_t *slot)
{
    zab_znode *p = NULL, *n = root;
    uint32_t at = 0, s = 0;
    if (path.len == 0 || (path.len == 1 && path.ptr[0] == '/')) goto found;
    if (path.ptr[0] != '/') return NULL;
    for (uint32_t i = 1; i <= path.len; i++) {
        if (i < path.len && path.ptr[i] != '/') continue;
        zab_str name = { path.ptr + at + 1, i - at - 1 };
        p = n;
        n = zab_znode_child(p, name, seed, &s);
        if (!n) return NULL;
        at = i;
    }
found:
    if (parent) *parent = p;
    if (slot) *slot = s;
    return n;
}

void zab_znode_stat(const zab_znode *n, zab_stat *st)
{
    st->czxid = n->czxid;
    st->mzxid = n->mzxid;
    st->ctime = n->ctime;
    st->mtime = n->mtime;
    st->version = n->version;
    /* Clients see creates plus deletes: every create has a matching delete
     * except for the children still present (DataNode.copyStat). */
    st->cversion = (int32_t)((uint32_t)n->cversion * 2u - n->nchildren);
    st->aversion = n->aversion;
    st->ephemeral_owner = zab_owner_kind(n->owner) == ZAB_KIND_EPHEMERAL ? n->owner : 0;
    st->data_length = n->data_len < 0 ? 0 : n->data_len;
    st->num_children = (int32_t)n->nchildren;
    st->pzxid = n->pzxid;
}
