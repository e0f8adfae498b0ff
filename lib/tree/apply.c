/*
 * apply.c - every replica's half of a write (ZooKeeper's DataTree
 * processTxn): change the tree as the transaction says, in zxid order, fire
 * the watches, and tell the requesting client what happened.
 *
 * A transaction from a correct leader always applies. One that does not fit
 * the tree (bytes damaged past their checksum, a faulty peer) is refused as a
 * whole before anything changes: every op is checked first, a multi against
 * the state its earlier ops would leave, so a replica never holds half of
 * one.
 */
#include <stdlib.h>
#include <string.h>

#include "tree/path.h"
#include "tree/tree.h"
#include "tree/txn.h"

typedef struct applier {
    zab_tree *t;
    const zab_txn *txn;
    int64_t zxid;
} applier;

/* ---- the check pass ---- */

static void no_unref(void *ctx, uint32_t acl)
{
    (void)ctx;
    (void)acl;
}

/* A node as the check pass sees it: the tree, overlaid by the earlier ops
 * of the same transaction. */
static zab_nview check_view(const zab_tree *t, const zab_pending *overlay, zab_str path)
{
    zab_nview v = { 0 };
    const zab_change *c = zab_pending_path(overlay, path);
    if (c) return c->v;
    const zab_znode *n = zab_tree_find(t, path, NULL, NULL);
    if (n) {
        v.exists = 1;
        v.owner = n->owner;
        v.nchildren = n->nchildren;
    }
    return v;
}

static int is_root(zab_str path)
{
    return path.len == 0 || (path.len == 1 && path.ptr[0] == '/');
}

static int check_create(const zab_tree *t, zab_pending *ov, const zab_txn_op *op)
{
    zab_str name = zab_path_name(op->path);
    if (op->path.len < 2 || op->path.ptr[0] != '/' || name.len == 0) return ZAB_ECORRUPT;
    zab_str parent = zab_path_parent(op->path);
    zab_nview pv = check_view(t, ov, parent);
    if (!pv.exists || check_view(t, ov, op->path).exists) return ZAB_ECORRUPT;
    if (zab_owner_kind(op->owner) == ZAB_KIND_EPHEMERAL && !zab_sessions_find(&t->sessions, op->owner))
        return ZAB_ECORRUPT;
    zab_nview nv = { .exists = 1, .owner = op->owner };
    pv.nchildren++;
    if (zab_pending_put_path(ov, 0, parent, &pv) || zab_pending_put_path(ov, 0, op->path, &nv))
        return ZAB_ENOMEM;
    return 0;
}

static int check_delete(const zab_tree *t, zab_pending *ov, const zab_txn_op *op)
{
    if (is_root(op->path)) return ZAB_ECORRUPT;
    zab_nview nv = check_view(t, ov, op->path);
    if (!nv.exists || nv.nchildren) return ZAB_ECORRUPT;
    zab_str parent = zab_path_parent(op->path);
    zab_nview pv = check_view(t, ov, parent), gone = { 0 };
    pv.nchildren--;
    if (zab_pending_put_path(ov, 0, parent, &pv) || zab_pending_put_path(ov, 0, op->path, &gone))
        return ZAB_ENOMEM;
    return 0;
}

static int check_op(const applier *a, zab_pending *ov, const zab_txn_op *op)
{
    const zab_tree *t = a->t;
    switch (op->type) {
    case ZAB_OP_CREATE: case ZAB_OP_CREATE2: case ZAB_OP_CREATE_CONTAINER: case ZAB_OP_CREATE_TTL:
        return check_create(t, ov, op);
    case ZAB_OP_DELETE: case ZAB_OP_DELETE_CONTAINER:
        return check_delete(t, ov, op);
    case ZAB_OP_SET_DATA: case ZAB_OP_SET_ACL:
        return check_view(t, ov, op->path).exists ? 0 : ZAB_ECORRUPT;
    case ZAB_OP_CREATE_SESSION:
        return a->txn->session && !zab_sessions_find(&t->sessions, a->txn->session) ? 0 : ZAB_ECORRUPT;
    default:
        return 0;
    }
}

static int check_all(const applier *a)
{
    const zab_txn *txn = a->txn;
    if (txn->kind != ZAB_TXN_SINGLE && txn->kind != ZAB_TXN_MULTI) return 0;
    zab_pending ov = { 0 };
    int rc = 0;
    for (uint32_t i = 0; i < txn->nops && !rc; i++) rc = check_op(a, &ov, &txn->ops[i]);
    zab_pending_clear(&ov, no_unref, NULL);
    return rc;
}

/* ---- the change pass ---- */

static uint64_t node_hash(const zab_tree *t, zab_str path, const zab_znode *n)
{
    return zab_znode_meta_hash(t, path, n) + zab_znode_data_hash(path, n);
}

static void fire(zab_tree *t, int32_t type, zab_str path, const zab_znode *n, int64_t zxid)
{
    uint32_t nacl;
    const zab_acl *acl = zab_tree_node_acl(t, n, &nacl);
    zab_watches_fire(t->watches, type, path, zxid, acl, nacl, &t->policy);
}

static int apply_create(applier *a, const zab_txn_op *op, zab_result *res)
{
    zab_tree *t = a->t;
    zab_str parent_path = zab_path_parent(op->path);
    zab_znode *parent = zab_tree_find(t, parent_path, NULL, NULL);
    zab_znode *n = zab_znode_new(zab_path_name(op->path), op->data, op->data_len);
    zab_session *owner = zab_owner_kind(op->owner) == ZAB_KIND_EPHEMERAL
                             ? zab_sessions_find(&t->sessions, op->owner) : NULL;
    char *path_copy = zab_arena_dup(&t->scratch, op->path.ptr, op->path.len);
    if (!n || !path_copy || zab_acl_intern(&t->acls, op->acl, op->nacl, &n->acl)) goto oom;
    if (zab_znode_reserve_child(parent, t->seed)) goto oom_acl;
    if (owner && zab_strset_add(&owner->ephemerals, op->path)) goto oom_acl;

    n->czxid = n->mzxid = n->pzxid = a->zxid;
    n->ctime = n->mtime = a->txn->time;
    n->owner = op->owner;
    t->digest -= zab_znode_meta_hash(t, parent_path, parent);
    zab_znode_add_child(parent, n, t->seed);
    parent->cversion = (int32_t)((uint32_t)parent->cversion + 1u);
    parent->pzxid = a->zxid;
    t->digest += zab_znode_meta_hash(t, parent_path, parent) + node_hash(t, op->path, n);
    t->nodes++;
    t->ephemerals += owner != NULL;
    t->data_bytes += op->path.len + (n->data_len > 0 ? (uint64_t)n->data_len : 0);

    res->path = (zab_str){ path_copy, op->path.len };
    zab_znode_stat(n, &res->stat);
    fire(t, ZAB_EVENT_CREATED, op->path, n, a->zxid);
    fire(t, ZAB_EVENT_CHILDREN_CHANGED, parent_path, parent, a->zxid);
    return 0;
oom_acl:
    zab_acl_unref(&t->acls, n->acl);
oom:
    zab_znode_free(n);
    return ZAB_ENOMEM;
}

/* Remove the childless node at path; shared by delete and closeSession. */
static void remove_node(applier *a, zab_str path)
{
    zab_tree *t = a->t;
    zab_znode *parent;
    uint32_t slot;
    zab_znode *n = zab_tree_find(t, path, &parent, &slot);
    zab_str parent_path = zab_path_parent(path);
    t->digest -= node_hash(t, path, n) + zab_znode_meta_hash(t, parent_path, parent);
    zab_znode_remove_child(parent, slot, t->seed);
    parent->pzxid = a->zxid;
    t->digest += zab_znode_meta_hash(t, parent_path, parent);
    t->nodes--;
    t->data_bytes -= path.len + (n->data_len > 0 ? (uint64_t)n->data_len : 0);
    if (zab_owner_kind(n->owner) == ZAB_KIND_EPHEMERAL) {
        zab_session *se = zab_sessions_find(&t->sessions, n->owner);
        if (se) zab_strset_del(&se->ephemerals, path);
        t->ephemerals--;
    }
    fire(t, ZAB_EVENT_DELETED, path, n, a->zxid);
    fire(t, ZAB_EVENT_CHILDREN_CHANGED, parent_path, parent, a->zxid);
    zab_acl_unref(&t->acls, n->acl);
    zab_znode_free(n);
}

static int apply_set_data(applier *a, const zab_txn_op *op, zab_result *res)
{
    zab_tree *t = a->t;
    zab_znode *parent;
    uint32_t slot;
    zab_znode *n = zab_tree_find(t, op->path, &parent, &slot);
    uint64_t old_hash = node_hash(t, op->path, n);
    int64_t old_len = n->data_len > 0 ? n->data_len : 0;
    zab_znode *m = zab_znode_with_data(n, op->data, op->data_len);
    if (!m) return ZAB_ENOMEM;
    if (parent) zab_znode_patch_child(parent, slot, m);
    else t->root = m;
    m->version = op->version;
    m->mzxid = a->zxid;
    m->mtime = a->txn->time;
    t->digest += node_hash(t, op->path, m) - old_hash;
    t->data_bytes += (uint64_t)((m->data_len > 0 ? m->data_len : 0) - old_len);
    zab_znode_stat(m, &res->stat);
    fire(t, ZAB_EVENT_DATA_CHANGED, op->path, m, a->zxid);
    return 0;
}

static int apply_set_acl(applier *a, const zab_txn_op *op, zab_result *res)
{
    zab_tree *t = a->t;
    zab_znode *n = zab_tree_find(t, op->path, NULL, NULL);
    uint32_t acl;
    if (zab_acl_intern(&t->acls, op->acl, op->nacl, &acl)) return ZAB_ENOMEM;
    t->digest -= zab_znode_meta_hash(t, op->path, n);
    zab_acl_unref(&t->acls, n->acl);
    n->acl = acl;
    n->aversion = op->version;
    t->digest += zab_znode_meta_hash(t, op->path, n);
    zab_znode_stat(n, &res->stat);
    return 0;
}

static int apply_create_session(applier *a, const zab_txn_op *op)
{
    zab_tree *t = a->t;
    zab_session *se = zab_sessions_add(&t->sessions, a->txn->session, op->timeout, op->passwd);
    if (!se) return ZAB_ENOMEM;
    t->digest += zab_session_hash(se);
    return 0;
}

/* Every ephemeral of the session goes, each like a delete, all with this
 * transaction's zxid; then the session. */
static int apply_close_session(applier *a)
{
    zab_tree *t = a->t;
    zab_session *se = zab_sessions_find(&t->sessions, a->txn->session);
    if (!se) return 0; /* already closed: nothing to do */
    uint32_t n = se->ephemerals.tab.count;
    zab_str *paths = n ? zab_arena_alloc(&t->scratch, n * sizeof(*paths)) : NULL;
    if (n && !paths) return ZAB_ENOMEM;
    void *item;
    uint32_t k = 0;
    for (uint32_t i = 0; zab_ptab_next(&se->ephemerals.tab, &i, &item);) {
        zab_str p = zab_strset_item(item);
        char *copy = zab_arena_dup(&t->scratch, p.ptr, p.len);
        if (!copy) return ZAB_ENOMEM;
        paths[k++] = (zab_str){ copy, p.len };
    }
    for (uint32_t i = 0; i < k; i++) remove_node(a, paths[i]);
    t->digest -= zab_session_hash(se);
    zab_sessions_remove(&t->sessions, a->txn->session);
    return 0;
}

static int apply_op(applier *a, const zab_txn_op *op, zab_result *res)
{
    res->type = op->type;
    switch (op->type) {
    case ZAB_OP_CREATE: case ZAB_OP_CREATE2: case ZAB_OP_CREATE_CONTAINER: case ZAB_OP_CREATE_TTL:
        return apply_create(a, op, res);
    case ZAB_OP_DELETE: case ZAB_OP_DELETE_CONTAINER:
        remove_node(a, op->path);
        return 0;
    case ZAB_OP_SET_DATA: return apply_set_data(a, op, res);
    case ZAB_OP_SET_ACL: return apply_set_acl(a, op, res);
    case ZAB_OP_CREATE_SESSION: return apply_create_session(a, op);
    case ZAB_OP_CLOSE_SESSION: return apply_close_session(a);
    default: /* check */
        return 0;
    }
}

/* Inside a multi a create reports as create (1) or, for create2, container
 * and TTL, as create2 (15), like ZooKeeper's multi results. */
static int32_t multi_result_type(int32_t type)
{
    if (type == ZAB_OP_CREATE2 || type == ZAB_OP_CREATE_CONTAINER || type == ZAB_OP_CREATE_TTL)
        return ZAB_OP_CREATE2;
    return type;
}

static int apply_txn(applier *a, zab_reply *reply)
{
    const zab_txn *txn = a->txn;
    zab_tree *t = a->t;
    uint32_t n = txn->kind == ZAB_TXN_FAILED ? 1 : txn->nops;
    if (zab_tree_results(t, reply, n)) return ZAB_ENOMEM;
    zab_result *res = (zab_result *)reply->results;
    switch (txn->kind) {
    case ZAB_TXN_FAILED:
        res[0].type = txn->err_type;
        res[0].err = reply->err = txn->err;
        return 0;
    case ZAB_TXN_FAILED_MULTI:
        /* ZooKeeper's shape: ops before the failure report ok, the failing
         * one its error, the rest a rollback; all typed as errors. */
        for (uint32_t i = 0; i < n; i++) {
            res[i].type = ZAB_OP_ERROR;
            res[i].err = i < txn->fail_index ? 0
                         : i == txn->fail_index ? txn->err : ZAB_ERUNTIMEINCONSISTENCY;
        }
        return 0;
    default:
        for (uint32_t i = 0; i < n; i++) {
            int rc = apply_op(a, &txn->ops[i], &res[i]);
            if (rc) return rc;
            if (txn->kind == ZAB_TXN_MULTI) res[i].type = multi_result_type(res[i].type);
        }
        return 0;
    }
}

int zab_tree_apply(zab_tree *t, int64_t zxid, const void *bytes, size_t len, zab_reply *reply)
{
    memset(reply, 0, sizeof(*reply));
    if (t->failed) return ZAB_EFAILED;
    if (zxid <= t->last_zxid) return ZAB_EINVAL;
    zab_arena_reset(&t->scratch);
    zab_txn txn;
    int rc = zab_txn_decode(bytes, len, &txn, &t->scratch);
    applier a = { t, &txn, zxid };
    if (!rc) rc = check_all(&a);
    if (rc) return rc;
    rc = apply_txn(&a, reply);
    reply->zxid = zxid;
    if (rc) {
        /* Out of memory part-way: the replica no longer matches its peers'
         * history and must be rebuilt from its snapshot and log. */
        t->failed = 1;
        memset(reply, 0, sizeof(*reply));
        return rc;
    }
    t->last_zxid = zxid;
    if (t->last_prepared < zxid) t->last_prepared = zxid;
    zab_pending_applied(&t->pending, zxid, zab_tree_unref_acl, t);
    return 0;
}
