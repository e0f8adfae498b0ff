/*
 * prepare.c - the leader's half of a write (ZooKeeper's
 * PrepRequestProcessor): validate a request against the tree as it will be
 * once every change already prepared has been applied, in ZooKeeper's order
 * of checks (a client sees the first check that fails), and turn it into a
 * transaction that fixes everything apply must not decide again: the
 * sequential name, the new versions, the owner, the ACL after fix-up and
 * the time.
 */
#include <stdio.h>
#include <string.h>

#include "tree/path.h"
#include "tree/tree.h"
#include "tree/txn.h"

typedef struct prep {
    zab_tree *t;
    const zab_request *req;
    int64_t zxid;
} prep;

/* ---- the pending view ---- */

/* The node at path as prepare must see it: the newest pending change, else
 * the tree. The view holds no ACL reference of its own. */
static zab_nview view_of(const zab_tree *t, zab_str path)
{
    zab_nview v = { 0 };
    const zab_change *c = zab_pending_path(&t->pending, path);
    if (c) return c->v;
    const zab_znode *n = zab_tree_find(t, path, NULL, NULL);
    if (!n) return v;
    v.exists = 1;
    v.owner = n->owner;
    v.version = n->version;
    v.cversion = n->cversion;
    v.aversion = n->aversion;
    v.nchildren = n->nchildren;
    v.acl = n->acl;
    return v;
}

/* Record v as path's future state; the record takes its own ACL reference. */
static int put_view(prep *p, zab_str path, const zab_nview *v)
{
    if (v->exists) zab_acl_ref(&p->t->acls, v->acl);
    int rc = zab_pending_put_path(&p->t->pending, p->zxid, path, v);
    if (rc && v->exists) zab_acl_unref(&p->t->acls, v->acl);
    return rc;
}

static int session_live(const zab_tree *t, int64_t session)
{
    if (session == 0) return 1; /* the system session */
    const zab_change *c = zab_pending_session(&t->pending, session);
    if (c) return c->session_open;
    return zab_sessions_find(&t->sessions, session) != NULL;
}

static int check_session(const prep *p)
{
    return session_live(p->t, p->req->session) ? 0 : ZAB_ESESSIONEXPIRED;
}

static int check_perm(const prep *p, const zab_nview *v, int32_t perm)
{
    uint32_t nacl;
    const zab_acl *acl = zab_acl_get(&p->t->acls, v->acl, &nacl);
    return zab_acl_check(&p->t->policy, acl, nacl, perm, p->req->auth, p->req->nauth);
}

/* ZooKeeper's `expected == -1 || expected == current`. */
static int check_version(int32_t current, int32_t expected)
{
    return expected == -1 || expected == current ? 0 : ZAB_EBADVERSION;
}

/* The parent's path. "/" for a child of the root: one spelling per node, so
 * that every change to a node meets the same pending record. */
static zab_str parent_of(zab_str path)
{
    zab_str parent = zab_path_parent(path);
    return parent.len ? parent : ZAB_STR("/"); /* "/" itself: a sequential create */
}

/* The parent record after one child more or less. */
static int put_parent(prep *p, zab_str parent, zab_nview v, int delta)
{
    v.nchildren = (uint32_t)((int64_t)v.nchildren + delta);
    if (delta > 0) v.cversion = (int32_t)((uint32_t)v.cversion + 1u);
    return put_view(p, parent, &v);
}

/* ---- create ---- */

static int mode_valid(int32_t mode)
{
    return mode >= ZAB_PERSISTENT && mode <= ZAB_PERSISTENT_SEQUENTIAL_WITH_TTL;
}

static int mode_ttl(int32_t m) { return m == ZAB_PERSISTENT_WITH_TTL || m == ZAB_PERSISTENT_SEQUENTIAL_WITH_TTL; }
static int mode_seq(int32_t m) { return m == ZAB_PERSISTENT_SEQUENTIAL || m == ZAB_EPHEMERAL_SEQUENTIAL || m == ZAB_PERSISTENT_SEQUENTIAL_WITH_TTL; }
static int mode_eph(int32_t m) { return m == ZAB_EPHEMERAL || m == ZAB_EPHEMERAL_SEQUENTIAL; }

/* The owner apply stores. ZooKeeper decides it by the transaction type: a
 * createContainer request makes a container whatever its flags, a plain
 * create with the container flag makes a persistent node. */
static int64_t owner_for(const prep *p, const zab_op *op)
{
    if (op->type == ZAB_OP_CREATE_CONTAINER) return ZAB_OWNER_CONTAINER;
    if (op->type == ZAB_OP_CREATE_TTL) return ZAB_OWNER_TTL_MASK | op->ttl;
    return mode_eph(op->flags) ? p->req->session : 0;
}

static int validate_create(const prep *p, const zab_op *op)
{
    int32_t mode = op->flags;
    if (!mode_valid(mode)) return ZAB_EBADARGUMENTS;
    if (mode_ttl(mode) && !p->t->cfg.extended_types) return ZAB_EUNIMPLEMENTED;
    int64_t ttl = op->type == ZAB_OP_CREATE_TTL ? op->ttl : -1;
    if (mode_ttl(mode) ? (ttl <= 0 || ttl > ZAB_TTL_MAX) : ttl >= 0) return ZAB_EBADARGUMENTS;
    /* A createTTL without a TTL mode would store a nonsense owner. */
    if (op->type == ZAB_OP_CREATE_TTL && !mode_ttl(mode)) return ZAB_EBADARGUMENTS;
    if (mode_eph(mode) && op->type != ZAB_OP_CREATE_CONTAINER && p->req->session == 0)
        return ZAB_ESESSIONEXPIRED; /* ephemerals need a real session */
    return check_session(p);
}

static int prep_create(prep *p, const zab_op *op, zab_txn_op *tx)
{
    zab_tree *t = p->t;
    int rc = validate_create(p, op);
    if (rc) return rc;
    if (zab_path_light_check(op->path)) return ZAB_EBADARGUMENTS;
    const zab_acl *acl;
    uint32_t nacl;
    rc = zab_acl_fixup(op->acl, op->nacl, p->req->auth, p->req->nauth, &t->scratch, &acl, &nacl);
    if (rc) return rc;
    zab_str parent = parent_of(op->path);
    zab_nview pv = view_of(t, parent);
    if (!pv.exists) return ZAB_ENONODE;
    if ((rc = check_perm(p, &pv, ZAB_PERM_CREATE))) return rc;
    zab_str path = op->path;
    if (mode_seq(op->flags)) {
        char suffix[16];
        int n = snprintf(suffix, sizeof(suffix), "%010d", pv.cversion);
        char *full = zab_arena_alloc(&t->scratch, (size_t)path.len + (size_t)n);
        if (!full) return ZAB_ENOMEM;
        memcpy(full, path.ptr, path.len);
        memcpy(full + path.len, suffix, (size_t)n);
        path = (zab_str){ full, path.len + (uint32_t)n };
    }
    if (zab_path_validate(path)) return ZAB_EBADARGUMENTS;
    if (view_of(t, path).exists) return ZAB_ENODEEXISTS;
    if (zab_owner_kind(pv.owner) == ZAB_KIND_EPHEMERAL) return ZAB_ENOCHILDRENFOREPHEMERALS;

    *tx = (zab_txn_op){ .type = op->type, .path = path, .data = op->data,
                        .data_len = op->data_len, .acl = acl, .nacl = nacl,
                        .owner = owner_for(p, op) };
    zab_nview nv = { .exists = 1, .owner = tx->owner };
    if ((rc = zab_acl_intern(&t->acls, acl, nacl, &nv.acl))) return rc;
    rc = put_parent(p, parent, pv, +1);
    if (!rc) rc = put_view(p, path, &nv);
    zab_acl_unref(&t->acls, nv.acl); /* the record holds its own */
    return rc;
}

/* ---- delete, deleteContainer ---- */

static int parent_for_delete(zab_str path, zab_str *parent)
{
    int has_slash = 0;
    for (uint32_t i = 0; i < path.len; i++) has_slash |= path.ptr[i] == '/';
    if (!has_slash || zab_path_has_nul(path) || zab_path_is_special(path)) return ZAB_EBADARGUMENTS;
    *parent = parent_of(path);
    return 0;
}

static int prep_delete(prep *p, const zab_op *op, zab_txn_op *tx)
{
    zab_str parent;
    int rc = check_session(p);
    if (!rc) rc = parent_for_delete(op->path, &parent);
    if (rc) return rc;
    zab_nview pv = view_of(p->t, parent);
    if (!pv.exists) return ZAB_ENONODE;
    if ((rc = check_perm(p, &pv, ZAB_PERM_DELETE))) return rc;
    zab_nview nv = view_of(p->t, op->path);
    if (!nv.exists) return ZAB_ENONODE;
    if ((rc = check_version(nv.version, op->version))) return rc;
    if (nv.nchildren > 0) return ZAB_ENOTEMPTY;
    *tx = (zab_txn_op){ .type = op->type, .path = op->path };
    zab_nview gone = { 0 };
    rc = put_parent(p, parent, pv, -1);
    return rc ? rc : put_view(p, op->path, &gone);
}

/* The container reaper's delete: no session, no ACL; refuses a node that
 * gained a child or that belongs to a session. */
static int prep_delete_container(prep *p, const zab_op *op, zab_txn_op *tx)
{
    zab_str parent;
    int rc = parent_for_delete(op->path, &parent);
    if (rc) return rc;
    zab_nview nv = view_of(p->t, op->path);
    if (!nv.exists) return ZAB_ENONODE;
    if (nv.nchildren > 0) return ZAB_ENOTEMPTY;
    if (zab_owner_kind(nv.owner) == ZAB_KIND_EPHEMERAL) return ZAB_EBADVERSION;
    zab_nview pv = view_of(p->t, parent);
    if (!pv.exists) return ZAB_ENONODE;
    *tx = (zab_txn_op){ .type = op->type, .path = op->path };
    zab_nview gone = { 0 };
    rc = put_parent(p, parent, pv, -1);
    return rc ? rc : put_view(p, op->path, &gone);
}

/* ---- setData, setACL, check ---- */

static int prep_set_data(prep *p, const zab_op *op, zab_txn_op *tx)
{
    int rc = check_session(p);
    if (rc) return rc;
    if (zab_path_validate(op->path)) return ZAB_EBADARGUMENTS;
    zab_nview nv = view_of(p->t, op->path);
    if (!nv.exists) return ZAB_ENONODE;
    if ((rc = check_perm(p, &nv, ZAB_PERM_WRITE))) return rc;
    if ((rc = check_version(nv.version, op->version))) return rc;
    nv.version = zab_next_version(nv.version);
    *tx = (zab_txn_op){ .type = op->type, .path = op->path, .data = op->data,
                        .data_len = op->data_len, .version = nv.version };
    return put_view(p, op->path, &nv);
}

static int prep_set_acl(prep *p, const zab_op *op, zab_txn_op *tx)
{
    zab_tree *t = p->t;
    int rc = check_session(p);
    if (rc) return rc;
    if (zab_path_validate(op->path)) return ZAB_EBADARGUMENTS;
    const zab_acl *acl;
    uint32_t nacl;
    rc = zab_acl_fixup(op->acl, op->nacl, p->req->auth, p->req->nauth, &t->scratch, &acl, &nacl);
    if (rc) return rc;
    zab_nview nv = view_of(t, op->path);
    if (!nv.exists) return ZAB_ENONODE;
    if ((rc = check_perm(p, &nv, ZAB_PERM_ADMIN))) return rc;
    if ((rc = check_version(nv.aversion, op->version))) return rc;
    nv.aversion = zab_next_version(nv.aversion);
    *tx = (zab_txn_op){ .type = op->type, .path = op->path, .acl = acl, .nacl = nacl,
                        .version = nv.aversion };
    /* Later requests prepared before this commits must be judged by the new
     * list, or a revoked client could still write. */
    if ((rc = zab_acl_intern(&t->acls, acl, nacl, &nv.acl))) return rc;
    rc = put_view(p, op->path, &nv);
    zab_acl_unref(&t->acls, nv.acl);
    return rc;
}

static int prep_check(prep *p, const zab_op *op, zab_txn_op *tx)
{
    int rc = check_session(p);
    if (rc) return rc;
    if (zab_path_validate(op->path)) return ZAB_EBADARGUMENTS;
    zab_nview nv = view_of(p->t, op->path);
    if (!nv.exists) return ZAB_ENONODE;
    if ((rc = check_perm(p, &nv, ZAB_PERM_READ))) return rc;
    if ((rc = check_version(nv.version, op->version))) return rc;
    *tx = (zab_txn_op){ .type = op->type };
    return 0;
}

/* ---- sessions ---- */

static int prep_create_session(prep *p, const zab_op *op, zab_txn_op *tx)
{
    int64_t id = p->req->session;
    if (id == 0 || session_live(p->t, id)) return ZAB_EBADARGUMENTS;
    *tx = (zab_txn_op){ .type = op->type, .timeout = op->timeout, .passwd = op->data };
    return zab_pending_put_session(&p->t->pending, p->zxid, id, 1);
}

/* closeSession: every ephemeral the session will own once everything
 * prepared commits goes with it, so later requests must see those paths
 * gone (and their parents one child lighter). */
static int prep_close_session(prep *p, const zab_op *op, zab_txn_op *tx)
{
    zab_tree *t = p->t;
    int64_t id = p->req->session;
    if (id == 0) return ZAB_ESESSIONEXPIRED;
    *tx = (zab_txn_op){ .type = op->type };
    /* Closing a session that is already gone changes nothing and, as in
     * ZooKeeper (which never checks), succeeds. */
    if (!session_live(t, id)) return 0;
    zab_strset doomed = { { 0 } };
    int rc = 0;
    const zab_session *se = zab_sessions_find(&t->sessions, id);
    void *item;
    if (se)
        for (uint32_t i = 0; !rc && zab_ptab_next(&se->ephemerals.tab, &i, &item);)
            if (view_of(t, zab_strset_item(item)).owner == id) rc = zab_strset_add(&doomed, zab_strset_item(item));
    for (const zab_change *c = t->pending.head; c && !rc; c = c->next) {
        zab_str path = { c->path, c->path_len };
        if (!c->session && c->v.exists && c->v.owner == id && view_of(t, path).owner == id)
            rc = zab_strset_add(&doomed, path);
    }
    for (uint32_t i = 0; !rc && zab_ptab_next(&doomed.tab, &i, &item);) {
        zab_str path = zab_strset_item(item), parent = parent_of(path);
        zab_nview gone = { 0 };
        rc = put_parent(p, parent, view_of(t, parent), -1);
        if (!rc) rc = put_view(p, path, &gone);
    }
    zab_strset_free(&doomed);
    if (!rc) rc = zab_pending_put_session(&t->pending, p->zxid, id, 0);
    return rc;
}

/* ---- dispatch ---- */

static int prep_op(prep *p, const zab_op *op, zab_txn_op *tx)
{
    switch (op->type) {
    case ZAB_OP_CREATE: case ZAB_OP_CREATE2: case ZAB_OP_CREATE_CONTAINER: case ZAB_OP_CREATE_TTL:
        return prep_create(p, op, tx);
    case ZAB_OP_DELETE: return prep_delete(p, op, tx);
    case ZAB_OP_DELETE_CONTAINER: return prep_delete_container(p, op, tx);
    case ZAB_OP_SET_DATA: return prep_set_data(p, op, tx);
    case ZAB_OP_SET_ACL: return prep_set_acl(p, op, tx);
    case ZAB_OP_CHECK: return prep_check(p, op, tx);
    case ZAB_OP_CREATE_SESSION: return prep_create_session(p, op, tx);
    default: return prep_close_session(p, op, tx);
    }
}

static int multi_op_allowed(int32_t type)
{
    switch (type) {
    case ZAB_OP_CREATE: case ZAB_OP_CREATE2: case ZAB_OP_CREATE_CONTAINER: case ZAB_OP_CREATE_TTL:
    case ZAB_OP_DELETE: case ZAB_OP_SET_DATA: case ZAB_OP_CHECK:
        return 1;
    default:
        return 0;
    }
}

static int single_op_allowed(int32_t type)
{
    return type != ZAB_OP_CHECK && zab_txn_op_type_valid(type);
}

/* Refuse at the edge what must never reach the log. */
static int check_request(const zab_tree *t, const zab_request *req)
{
    if (req->type == ZAB_OP_CHECK) return ZAB_EUNIMPLEMENTED; /* multi only */
    if (req->type == ZAB_OP_MULTI) {
        if (req->nops > ZAB_TXN_MAX_OPS) return ZAB_ETOOBIG;
    } else if (req->nops != 1 || req->ops[0].type != req->type || !single_op_allowed(req->type)) {
        return ZAB_EINVAL;
    }
    for (uint32_t i = 0; i < req->nops; i++) {
        const zab_op *op = &req->ops[i];
        if (op->data_len > 0 && (uint32_t)op->data_len > t->cfg.max_data) return ZAB_ETOOBIG;
        if (op->data_len > 0 && !op->data) return ZAB_EINVAL;
        if (op->nacl && !op->acl) return ZAB_EINVAL;
        if (op->type == ZAB_OP_CREATE_SESSION && (op->data_len != 16 || op->timeout <= 0))
            return ZAB_EINVAL;
    }
    return 0;
}

int zab_tree_prepare(zab_tree *t, const zab_request *req, int64_t zxid, int64_t now_ms,
                     zab_buf *out)
{
    if (t->failed) return ZAB_EFAILED;
    if (zxid <= t->last_prepared || zxid <= t->last_zxid) return ZAB_EINVAL;
    int rc = check_request(t, req);
    if (rc) return rc;
    zab_arena_reset(&t->scratch);

    prep p = { t, req, zxid };
    zab_change *mark = t->pending.tail;
    uint32_t n = req->nops;
    zab_txn txn = { .time = now_ms, .session = req->session, .nops = n,
                    .kind = req->type == ZAB_OP_MULTI ? ZAB_TXN_MULTI : ZAB_TXN_SINGLE };
    txn.ops = n ? zab_arena_alloc(&t->scratch, n * sizeof(*txn.ops)) : NULL;
    if (n && !txn.ops) return ZAB_ENOMEM;
    /* A multi ZooKeeper cannot decode (an op of another kind inside) still
     * consumes a zxid: the whole request fails with MARSHALLINGERROR. */
    for (uint32_t i = 0; txn.kind == ZAB_TXN_MULTI && i < n; i++) {
        if (!multi_op_allowed(req->ops[i].type)) {
            txn.kind = ZAB_TXN_FAILED;
            txn.err = ZAB_EMARSHALLING;
            txn.err_type = ZAB_OP_MULTI;
        }
    }
    for (uint32_t i = 0; txn.kind != ZAB_TXN_FAILED && i < n; i++) {
        rc = prep_op(&p, &req->ops[i], &txn.ops[i]);
        if (rc == ZAB_ENOMEM) goto fail;
        if (rc) {
            /* A failed op takes back everything its request prepared. */
            zab_pending_rollback(&t->pending, mark, zab_tree_unref_acl, t);
            txn.kind = txn.kind == ZAB_TXN_MULTI ? ZAB_TXN_FAILED_MULTI : ZAB_TXN_FAILED;
            txn.err = rc;
            txn.err_type = req->ops[i].type;
            txn.fail_index = i;
            break;
        }
    }
    size_t start = out->len;
    if ((rc = zab_txn_encode(&txn, out))) goto fail;
    if (t->cfg.max_txn && out->len - start > t->cfg.max_txn) {
        /* An ACL expanded from the connection's identities, or a sequence
         * suffix, can make a transaction outgrow the request: it would be
         * refused by every peer, so it never reaches the log. */
        out->len = start;
        rc = ZAB_ETOOBIG;
        goto fail;
    }
    t->last_prepared = zxid;
    return 0;
fail:
    zab_pending_rollback(&t->pending, mark, zab_tree_unref_acl, t);
    return rc;
}

int zab_tree_prepare_failed(zab_tree *t, const zab_request *req, int64_t zxid, int64_t now_ms,
                            int32_t err, zab_buf *out)
{
    if (t->failed) return ZAB_EFAILED;
    if (zxid <= t->last_prepared || zxid <= t->last_zxid) return ZAB_EINVAL;
    int rc = check_request(t, req);
    if (rc) return rc;
    int multi = req->type == ZAB_OP_MULTI && req->nops > 0;
    zab_txn txn = { .time = now_ms, .session = req->session, .nops = req->nops,
                    .kind = multi ? ZAB_TXN_FAILED_MULTI : ZAB_TXN_FAILED, .err = err,
                    .err_type = req->nops ? req->ops[0].type : req->type };
    if ((rc = zab_txn_encode(&txn, out))) return rc;
    t->last_prepared = zxid;
    return 0;
}

void zab_tree_prepare_reset(zab_tree *t)
{
    zab_pending_clear(&t->pending, zab_tree_unref_acl, t);
    t->last_prepared = t->last_zxid;
}
