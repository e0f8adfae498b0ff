/*
 * tree.h - the data tree's internal state, shared by the files that make up
 * the tree: tree.c (life cycle and reads), prepare.c (the leader's
 * validation), apply.c (every replica's state change), snapshot.c.
 */
#ifndef ZAB_TREE_TREE_H
#define ZAB_TREE_TREE_H

#include <stdint.h>

#include "zab.h"
#include "tree/acl.h"
#include "tree/node.h"
#include "tree/pending.h"
#include "tree/session.h"
#include "tree/watch.h"
#include "util/arena.h"

enum { ZAB_DEFAULT_MAX_DATA = 1024 * 1024 };

struct zab_tree {
    zab_tree_config cfg;       /* cfg.super_digest points at super_digest */
    char *super_digest;
    zab_acl_policy policy;
    uint64_t seed;             /* child-table hashing */

    zab_znode *root;
    zab_acl_cache acls;
    zab_sessions sessions;
    zab_watches *watches;
    zab_pending pending;

    int64_t last_zxid;         /* last applied */
    int64_t last_prepared;
    uint64_t digest;
    uint64_t nodes, ephemerals, data_bytes;
    int failed;                /* an apply ran out of memory half-way */

    zab_arena scratch;         /* results of the current call */
};

/* Lookup from the root. */
static inline zab_znode *zab_tree_find(const zab_tree *t, zab_str path,
                                       zab_znode **parent, uint32_t *slot)
{
    return zab_znode_lookup(t->root, path, t->seed, parent, slot);
}

/* The digest contribution of a node's metadata (stat, ACL) and of its data,
 * kept apart so that a parent's stat change never rehashes its data. */
uint64_t zab_znode_meta_hash(const zab_tree *t, zab_str path, const zab_znode *n);
uint64_t zab_znode_data_hash(zab_str path, const zab_znode *n);

/* Build the fixed nodes of a fresh tree (/, /zookeeper, ...). */
int zab_tree_init_nodes(zab_tree *t);
/* Free every node below and including n. */
void zab_tree_free_nodes(zab_znode *n);

/* The ACL list of a node. */
static inline const zab_acl *zab_tree_node_acl(const zab_tree *t, const zab_znode *n,
                                               uint32_t *nacl)
{
    return zab_acl_get(&t->acls, n->acl, nacl);
}

/* Non-zero for the request types zab_tree_read serves. */
int zab_tree_is_read(int32_t type);

/* A transaction for zxid that fails req with err before looking at the tree
 * (a check only the leader can make, such as a session owned by another
 * server): a single op fails whole, a multi at its first op, as ZooKeeper's
 * per-op checks fail it. The zxid is consumed as any error transaction's.
 * 0, ZAB_EINVAL as zab_tree_prepare, or ZAB_ENOMEM. */
int zab_tree_prepare_failed(zab_tree *t, const zab_request *req, int64_t zxid, int64_t now_ms,
                            int32_t err, zab_buf *out);

/* Start *reply (zxid: the last applied) with n zeroed results from the
 * scratch arena. 0 or ZAB_ENOMEM. */
int zab_tree_results(zab_tree *t, zab_reply *reply, uint32_t n);

/* Up to max paths the reaper may delete at time now (ZooKeeper's
 * ContainerManager rules; max_never_used_ms 0 leaves never-used containers
 * alone), into the scratch arena (valid until the next call on the tree).
 * 0 or ZAB_ENOMEM. */
int zab_tree_reapable(zab_tree *t, int64_t now, uint64_t max_never_used_ms, uint32_t max,
                      zab_str **out, uint32_t *n);

/* unref callback for pending records. */
void zab_tree_unref_acl(void *tree, uint32_t acl);

#endif
