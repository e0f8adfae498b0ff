/*
 * node.h - znode storage.
 *
 * Each znode is one allocation: its fixed fields, then its name, then its
 * data. A node knows its children through an open-addressed table of child
 * pointers keyed by name (no global path index, no parent pointers, no
 * sibling links), so a leaf costs its fixed fields, one malloc header and
 * one slot in its parent's table. A path is found by walking its components
 * from the root. Replacing a node's data reallocates the node and patches the
 * one slot that points to it, which is why nothing else may keep a pointer to
 * a node across a change of the tree.
 *
 * Stored fields are ZooKeeper's StatPersisted: cversion here counts the
 * children ever created (the sequence counter); the client-visible cversion
 * is derived (zab_znode_stat).
 */
#ifndef ZAB_TREE_NODE_H
#define ZAB_TREE_NODE_H

#include <stdint.h>

#include "zab.h"

typedef struct zab_znode zab_znode;

struct zab_znode {
    int64_t czxid, mzxid, pzxid;
    int64_t ctime, mtime;
    int64_t owner;          /* ephemeralOwner as stored (session, container, TTL) */
    int32_t version;
    int32_t cversion;       /* children ever created */
    int32_t aversion;
    uint32_t nchildren;
    uint32_t acl;           /* index in the tree's ACL cache */
    uint32_t name_len;
    int32_t data_len;       /* -1 = null data */
    uint8_t kids_log2;      /* the child table has 1 << kids_log2 slots */
    zab_znode **kids;       /* NULL until the first child */
    char bytes[];           /* name_len bytes of name, then the data */
};

/* Stored owners that are not sessions (EphemeralType). */
#define ZAB_OWNER_CONTAINER ((int64_t)INT64_MIN)
#define ZAB_OWNER_TTL_MASK ((int64_t)0xff00000000000000ULL)
#define ZAB_TTL_MAX ((int64_t)0xffffffffffLL)

typedef enum { ZAB_KIND_PERSISTENT, ZAB_KIND_EPHEMERAL, ZAB_KIND_CONTAINER, ZAB_KIND_TTL } zab_kind;

/* What the stored owner says the node is. Session ids never have the
 * high byte 0xff (their high byte is a server id), as in ZooKeeper with
 * extended types enabled. */
static inline zab_kind zab_owner_kind(int64_t owner)
{
    if (owner == 0) return ZAB_KIND_PERSISTENT;
    if (owner == ZAB_OWNER_CONTAINER) return ZAB_KIND_CONTAINER;
    if ((owner & ZAB_OWNER_TTL_MASK) == ZAB_OWNER_TTL_MASK) return ZAB_KIND_TTL;
    return ZAB_KIND_EPHEMERAL;
}

static inline zab_str zab_znode_name(const zab_znode *n)
{
    zab_str s = { n->bytes, n->name_len };
    return s;
}

static inline const void *zab_znode_data(const zab_znode *n)
{
    return n->data_len < 0 ? NULL : n->bytes + n->name_len;
}

/* A new childless node with the given name and data (copied); stats zero.
 * NULL on OOM. */
zab_znode *zab_znode_new(zab_str name, const void *data, int32_t data_len);
/* Free a node whose child table is empty. */
void zab_znode_free(zab_znode *n);

/* The child called name, or NULL; *slot (if given) receives its slot. */
zab_znode *zab_znode_child(const zab_znode *parent, zab_str name, uint64_t seed,
                          uint32_t *slot);
/* Make sure one more child fits without allocating. 0 or ZAB_ENOMEM. */
int zab_znode_reserve_child(zab_znode *parent, uint64_t seed);
/* Add a child (after zab_znode_reserve_child; its name must be absent). */
void zab_znode_add_child(zab_znode *parent, zab_znode *child, uint64_t seed);
/* Unlink the child in slot (the node itself is not freed). */
void zab_znode_remove_child(zab_znode *parent, uint32_t slot, uint64_t seed);
/* Point slot at a node that replaced the one there (same name). */
static inline void zab_znode_patch_child(zab_znode *parent, uint32_t slot, zab_znode *n)
{
    parent->kids[slot] = n;
}

/* Iterate children: for (uint32_t i = 0; (c = zab_znode_next_child(p, &i));) */
zab_znode *zab_znode_next_child(const zab_znode *parent, uint32_t *pos);

/* n with new data: NULL on OOM (n untouched). On success n may have moved
 * (the caller patches the slot pointing to it when the result differs). */
zab_znode *zab_znode_with_data(zab_znode *n, const void *data, int32_t data_len);

/* The node at path starting from root, or NULL. "" and "/" are the root.
 * *parent and *slot (if given) receive where the node hangs. */
zab_znode *zab_znode_lookup(zab_znode *root, zab_str path, uint64_t seed,
                           zab_znode **parent, uint32_t *slot);

/* The Stat a client sees. */
void zab_znode_stat(const zab_znode *n, zab_stat *st);

/* Version arithmetic (PrepRequestProcessor.checkAndIncVersion): one more,
 * except that a version never becomes -1 (it wraps to 0 instead). */
static inline int32_t zab_next_version(int32_t v)
{
    int32_t next = (int32_t)((uint32_t)v + 1u);
    return next == -1 ? 0 : next;
}

#endif
