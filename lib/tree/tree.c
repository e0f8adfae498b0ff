/*
 * tree.c - the data tree's life cycle, digest, and everything that reads it:
 * the read-class requests, the watch-table requests, stats and sessions.
 */
#include "tree/tree.h"

#include <stdlib.h>
#include <string.h>

#include "tree/path.h"
#include "util/prim.h"

/* ---- digest ---- */

static void put64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (56 - 8 * i));
}

uint64_t zab_znode_meta_hash(const zab_tree *t, zab_str path, const zab_znode *n)
{
    uint8_t b[8 * 11];
    put64(b, (uint64_t)n->czxid);
    put64(b + 8, (uint64_t)n->mzxid);
    put64(b + 16, (uint64_t)n->pzxid);
    put64(b + 24, (uint64_t)n->ctime);
    put64(b + 32, (uint64_t)n->mtime);
    put64(b + 40, (uint64_t)n->owner);
    put64(b + 48, (uint64_t)(uint32_t)n->version << 32 | (uint32_t)n->cversion);
    put64(b + 56, (uint64_t)(uint32_t)n->aversion << 32 | n->nchildren);
    put64(b + 64, zab_acl_hash(&t->acls, n->acl));
    put64(b + 72, (uint64_t)(uint32_t)n->data_len);
    put64(b + 80, zab_hash64(path.ptr, path.len, 0x7a7));
    return zab_hash64(b, sizeof(b), 0x3e7a);
}

uint64_t zab_znode_data_hash(zab_str path, const zab_znode *n)
{
    uint64_t seed = zab_hash64(path.ptr, path.len, 0xda7a);
    return zab_hash64(zab_znode_data(n), n->data_len > 0 ? (size_t)n->data_len : 0, seed);
}

/* ---- life cycle ---- */

void zab_tree_unref_acl(void *tree, uint32_t acl)
{
    zab_acl_unref(&((zab_tree *)tree)->acls, acl);
}

void zab_tree_free_nodes(zab_znode *n)
{
    /* Freed without recursion and without allocating: the nodes waiting to
     * be freed are chained through their own mzxid field, which nothing
     * reads any more. Deep trees cannot overflow the stack and running out
     * of memory cannot leak. */
    zab_znode *queue = n;
    if (n) memset(&n->mzxid, 0, sizeof(n->mzxid));
    while (queue) {
        zab_znode *top = queue;
        memcpy(&queue, &top->mzxid, sizeof(queue));
        uint32_t i = 0;
        for (zab_znode *c; (c = zab_znode_next_child(top, &i));) {
            memcpy(&c->mzxid, &queue, sizeof(queue));
            queue = c;
        }
        zab_znode_free(top);
    }
}

static zab_znode *fixed_node(zab_tree *t, zab_znode *parent, const char *name,
                             const zab_acl *acl, int32_t aversion)
{
    zab_znode *n = zab_znode_new(zab_str_c(name), "", 0);
    if (!n) return NULL;
    if (zab_acl_intern(&t->acls, acl, 1, &n->acl)) {
        zab_znode_free(n);
        return NULL;
    }
    n->aversion = aversion;
    if (parent) {
        if (zab_znode_reserve_child(parent, t->seed)) {
            zab_acl_unref(&t->acls, n->acl);
            zab_znode_free(n);
            return NULL;
        }
        zab_znode_add_child(parent, n, t->seed);
    }
    return n;
}

/* The nodes of a fresh ZooKeeper server: the root, /zookeeper with quota and
 * config; all stats zero except /zookeeper/config, which ZooKeeper installs
 * read-only through a setACL with version -1 (so aversion -1). Their stored
 * child counters are zero although they have children, which is why a fresh
 * server shows cversion -1 on / and -2 on /zookeeper. */
int zab_tree_init_nodes(zab_tree *t)
{
    zab_znode *zk, *quota, *config;
    t->root = fixed_node(t, NULL, "", zab_acl_open, 0);
    if (!t->root) return ZAB_ENOMEM;
    if (!(zk = fixed_node(t, t->root, "zookeeper", zab_acl_open, 0))) return ZAB_ENOMEM;
    if (!(quota = fixed_node(t, zk, "quota", zab_acl_open, 0))) return ZAB_ENOMEM;
    if (!(config = fixed_node(t, zk, "config", zab_acl_read, -1))) return ZAB_ENOMEM;
    static const char *const paths[] = { "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config" };
    for (size_t i = 0; i < 4; i++) {
        zab_str p = zab_str_c(paths[i]);
        zab_znode *n = zab_tree_find(t, p, NULL, NULL);
        t->digest += zab_znode_meta_hash(t, p, n) + zab_znode_data_hash(p, n);
        t->data_bytes += p.len;
    }
    t->nodes = 4;
    return 0;
}

zab_tree *zab_tree_new(const zab_tree_config *cfg)
{
    zab_tree *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    if (cfg) t->cfg = *cfg;
    if (!t->cfg.max_data) t->cfg.max_data = ZAB_DEFAULT_MAX_DATA;
    t->seed = t->cfg.hash_seed;
    zab_acl_cache_init(&t->acls);
    t->cfg.super_digest = (zab_str){ NULL, 0 };
    if (cfg && cfg->super_digest.len) {
        t->super_digest = malloc(cfg->super_digest.len);
        if (!t->super_digest) goto fail;
        memcpy(t->super_digest, cfg->super_digest.ptr, cfg->super_digest.len);
        t->cfg.super_digest = (zab_str){ t->super_digest, cfg->super_digest.len };
    }
    t->policy.skip = t->cfg.skip_acl;
    t->policy.super_digest = t->cfg.super_digest;
    t->watches = zab_watches_new(t->cfg.on_watch, t->cfg.watch_ctx);
    if (!t->watches || zab_tree_init_nodes(t)) goto fail;
    return t;
fail:
    zab_tree_free(t);
    return NULL;
}

void zab_tree_free(zab_tree *t)
{
    if (!t) return;
    zab_pending_clear(&t->pending, zab_tree_unref_acl, t);
    zab_tree_free_nodes(t->root);
    zab_sessions_free(&t->sessions);
    zab_acl_cache_fini(&t->acls);
    if (t->watches) zab_watches_free(t->watches);
    zab_arena_free(&t->scratch);
    free(t->super_digest);
    free(t);
}

/* ---- reads ---- */

static int check_perm(const zab_tree *t, const zab_request *req, const zab_znode *n, int32_t perm)
{
    uint32_t nacl;
    const zab_acl *acl = zab_tree_node_acl(t, n, &nacl);
    return zab_acl_check(&t->policy, acl, nacl, perm, req->auth, req->nauth);
}

static int watch(zab_tree *t, const zab_request *req, zab_str path, unsigned kind)
{
    return zab_watches_add(t->watches, req->session, path, kind, req->auth, req->nauth);
}

static int read_children(zab_tree *t, const zab_znode *n, zab_result *res)
{
    res->nnames = n->nchildren;
    if (!n->nchildren) return 0;
    zab_str *names = zab_arena_alloc(&t->scratch, n->nchildren * sizeof(*names));
    if (!names) return ZAB_ENOMEM;
    uint32_t i = 0, k = 0;
    for (zab_znode *c; (c = zab_znode_next_child(n, &i));) names[k++] = zab_znode_name(c);
    res->names = names;
    return 0;
}

/* Every node below n, counted without recursion (trees may be deep). */
static int count_descendants(const zab_znode *n, int64_t *count)
{
    size_t cap = 64, len = 0;
    const zab_znode **stack = malloc(cap * sizeof(*stack));
    if (!stack) return ZAB_ENOMEM;
    stack[len++] = n;
    *count = -1;
    while (len) {
        const zab_znode *top = stack[--len];
        (*count)++;
        if (len + top->nchildren > cap) {
            while (len + top->nchildren > cap) cap *= 2;
            const zab_znode **grown = realloc(stack, cap * sizeof(*stack));
            if (!grown) {
                free(stack);
                return ZAB_ENOMEM;
            }
            stack = grown;
        }
        uint32_t i = 0;
        for (zab_znode *c; (c = zab_znode_next_child(top, &i));) stack[len++] = c;
    }
    free(stack);
    return 0;
}

/* Java's String.trim(): drop leading and trailing chars <= ' '. */
static zab_str java_trim(zab_str s)
{
    while (s.len && (unsigned char)s.ptr[0] <= ' ') s.ptr++, s.len--;
    while (s.len && (unsigned char)s.ptr[s.len - 1] <= ' ') s.len--;
    return s;
}

static int read_ephemerals(zab_tree *t, const zab_request *req, const zab_op *op, zab_result *res)
{
    const zab_session *se = zab_sessions_find(&t->sessions, req->session);
    if (!se || !se->ephemerals.tab.count) return 0;
    zab_str *out = zab_arena_alloc(&t->scratch, se->ephemerals.tab.count * sizeof(*out));
    if (!out) return ZAB_ENOMEM;
    zab_str trimmed = java_trim(op->path);
    int all = !op->path.ptr || trimmed.len == 0 || (trimmed.len == 1 && trimmed.ptr[0] == '/');
    void *item;
    for (uint32_t i = 0; zab_ptab_next(&se->ephemerals.tab, &i, &item);) {
        zab_str p = zab_strset_item(item);
        if (all || (p.len >= op->path.len && memcmp(p.ptr, op->path.ptr, op->path.len) == 0))
            out[res->nnames++] = p;
    }
    res->names = out;
    return 0;
}

static int read_acl(zab_tree *t, const zab_request *req, const zab_znode *n, zab_result *res)
{
    int rc = check_perm(t, req, n, ZAB_PERM_READ | ZAB_PERM_ADMIN);
    if (rc) return rc;
    res->acl = zab_tree_node_acl(t, n, &res->nacl);
    if (check_perm(t, req, n, ZAB_PERM_ADMIN) != 0) {
        /* Readers without ADMIN do not see password hashes. */
        res->acl = zab_acl_masked(res->acl, res->nacl, &t->scratch);
        if (!res->acl && res->nacl) return ZAB_ENOMEM;
    }
    return 0;
}

/* One read op, in FinalRequestProcessor's order of checks. */
static int read_op(zab_tree *t, const zab_request *req, const zab_op *op, int watches, zab_result *res)
{
    res->type = op->type;
    if (op->type == ZAB_OP_EXISTS && zab_path_has_nul(op->path)) return ZAB_EBADARGUMENTS;
    if (op->type == ZAB_OP_GET_EPHEMERALS) return read_ephemerals(t, req, op, res);
    zab_znode *n = zab_tree_find(t, op->path, NULL, NULL);
    int rc;
    if (op->type == ZAB_OP_EXISTS) {
        /* The watch goes in even for a missing node: it fires on create. */
        if (n && (rc = check_perm(t, req, n, ZAB_PERM_READ))) return rc;
        if (watches && op->watch && (rc = watch(t, req, op->path, ZAB_W_DATA))) return rc;
        if (!n) return ZAB_ENONODE;
        zab_znode_stat(n, &res->stat);
        return 0;
    }
    if (!n) return ZAB_ENONODE;
    if (op->type == ZAB_OP_GET_ACL) rc = read_acl(t, req, n, res);
    else rc = check_perm(t, req, n, ZAB_PERM_READ);
    if (rc) return rc;
    zab_znode_stat(n, &res->stat);
    switch (op->type) {
    case ZAB_OP_GET_DATA:
        if (watches && op->watch && (rc = watch(t, req, op->path, ZAB_W_DATA))) return rc;
        res->data = zab_znode_data(n);
        res->data_len = n->data_len;
        return 0;
    case ZAB_OP_GET_CHILDREN:
    case ZAB_OP_GET_CHILDREN2:
        if (watches && op->watch && (rc = watch(t, req, op->path, ZAB_W_CHILD))) return rc;
        return read_children(t, n, res);
    case ZAB_OP_GET_ALL_CHILDREN_NUMBER:
        if (n == t->root) {
            res->count = (int64_t)t->nodes - 1;
            return 0;
        }
        return count_descendants(n, &res->count);
    default: /* getACL */
        return 0;
    }
}

static int watch_table_op(zab_tree *t, const zab_request *req, const zab_op *op)
{
    if (op->type == ZAB_OP_ADD_WATCH) {
        if (op->flags != ZAB_WATCH_PERSISTENT && op->flags != ZAB_WATCH_PERSISTENT_RECURSIVE)
            return ZAB_EMARSHALLING;
        return watch(t, req, op->path,
                     op->flags == ZAB_WATCH_PERSISTENT ? ZAB_W_PERSISTENT : ZAB_W_RECURSIVE);
    }
    if (op->flags < ZAB_WATCHER_CHILDREN || op->flags > ZAB_WATCHER_PERSISTENT_RECURSIVE)
        return ZAB_EMARSHALLING;
    return zab_watches_remove(t->watches, req->session, op->path, op->flags,
                              op->type == ZAB_OP_CHECK_WATCHES);
}

static int is_read_type(int32_t type)
{
    switch (type) {
    case ZAB_OP_EXISTS: case ZAB_OP_GET_DATA: case ZAB_OP_GET_ACL:
    case ZAB_OP_GET_CHILDREN: case ZAB_OP_GET_CHILDREN2:
    case ZAB_OP_GET_ALL_CHILDREN_NUMBER: case ZAB_OP_GET_EPHEMERALS:
        return 1;
    default:
        return 0;
    }
}

static int is_watch_table_type(int32_t type)
{
    return type == ZAB_OP_ADD_WATCH || type == ZAB_OP_CHECK_WATCHES ||
           type == ZAB_OP_REMOVE_WATCHES;
}

int zab_tree_is_read(int32_t type)
{
    return type == ZAB_OP_MULTI_READ || is_read_type(type) || is_watch_table_type(type);
}

int zab_tree_results(zab_tree *t, zab_reply *reply, uint32_t n)
{
    memset(reply, 0, sizeof(*reply));
    reply->zxid = t->last_zxid;
    if (!n) return 0;
    zab_result *res = zab_arena_alloc(&t->scratch, n * sizeof(*res));
    if (!res) return ZAB_ENOMEM;
    memset(res, 0, n * sizeof(*res));
    for (uint32_t i = 0; i < n; i++) res[i].data_len = -1;
    reply->results = res;
    reply->nresults = n;
    return 0;
}

int zab_tree_read(zab_tree *t, const zab_request *req, zab_reply *reply)
{
    zab_arena_reset(&t->scratch);
    memset(reply, 0, sizeof(*reply));
    if (t->failed) return reply->err = ZAB_EFAILED;
    int multi = req->type == ZAB_OP_MULTI_READ;
    if (!multi && (req->nops != 1 || req->ops[0].type != req->type)) return reply->err = ZAB_EINVAL;
    if (multi) {
        /* Any other op in a multiRead is a request ZooKeeper cannot decode. */
        for (uint32_t i = 0; i < req->nops; i++)
            if (req->ops[i].type != ZAB_OP_GET_DATA && req->ops[i].type != ZAB_OP_GET_CHILDREN)
                return reply->err = ZAB_EMARSHALLING;
    } else if (!is_read_type(req->type) && !is_watch_table_type(req->type)) {
        return reply->err = ZAB_EINVAL;
    }
    if (zab_tree_results(t, reply, req->nops)) return reply->err = ZAB_ENOMEM;
    zab_result *res = (zab_result *)reply->results;
    if (!multi) {
        int rc = is_watch_table_type(req->type)
                     ? watch_table_op(t, req, &req->ops[0])
                     : read_op(t, req, &req->ops[0], 1, &res[0]);
        res[0].type = req->type;
        res[0].err = rc;
        return reply->err = rc;
    }
    /* multiRead: each op on its own, no watches; a failure fills its slot. */
    for (uint32_t i = 0; i < req->nops; i++) {
        int rc = read_op(t, req, &req->ops[i], 0, &res[i]);
        if (rc == ZAB_ENOMEM) return reply->err = rc;
        if (rc) {
            memset(&res[i], 0, sizeof(res[i]));
            res[i].type = ZAB_OP_ERROR;
            res[i].err = rc;
            res[i].data_len = -1;
        }
    }
    return reply->err = 0;
}

/* ---- watches on reconnect ---- */

int zab_tree_set_watches(zab_tree *t, int64_t watcher, const zab_id *auth, uint32_t nauth,
                         int64_t rel, int kind, const zab_str *paths, uint32_t npaths)
{
    for (uint32_t i = 0; i < npaths; i++) {
        zab_str p = paths[i];
        const zab_znode *n = zab_tree_find(t, p, NULL, NULL);
        int32_t ev = 0;
        unsigned add = 0;
        switch (kind) {
        case ZAB_SETWATCH_DATA:
            if (!n) ev = ZAB_EVENT_DELETED;
            else if (n->mzxid > rel) ev = ZAB_EVENT_DATA_CHANGED;
            else add = ZAB_W_DATA;
            break;
        case ZAB_SETWATCH_EXIST:
            if (n) ev = ZAB_EVENT_CREATED;
            else add = ZAB_W_DATA;
            break;
        case ZAB_SETWATCH_CHILD:
            if (!n) ev = ZAB_EVENT_DELETED;
            else if (n->pzxid > rel) ev = ZAB_EVENT_CHILDREN_CHANGED;
            else add = ZAB_W_CHILD;
            break;
        case ZAB_SETWATCH_PERSISTENT:
            add = ZAB_W_PERSISTENT;
            break;
        case ZAB_SETWATCH_PERSISTENT_RECURSIVE:
            add = ZAB_W_RECURSIVE;
            break;
        default:
            return ZAB_EINVAL;
        }
        if (ev) zab_watches_send(t->watches, watcher, ev, p, -1);
        else if (zab_watches_add(t->watches, watcher, p, add, auth, nauth)) return ZAB_ENOMEM;
    }
    return 0;
}

void zab_tree_drop_watcher(zab_tree *t, int64_t watcher)
{
    zab_watches_drop(t->watches, watcher);
}

/* ---- sessions and stats ---- */

int zab_tree_session(const zab_tree *t, int64_t session, int32_t *timeout, uint8_t passwd[16])
{
    const zab_session *se = zab_sessions_find(&t->sessions, session);
    if (!se) return ZAB_ESESSIONEXPIRED;
    if (timeout) *timeout = se->timeout;
    if (passwd) memcpy(passwd, se->passwd, sizeof(se->passwd));
    return 0;
}

void zab_tree_stats_get(const zab_tree *t, zab_tree_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->last_zxid = t->last_zxid;
    out->digest = t->digest;
    out->nodes = t->nodes;
    out->ephemerals = t->ephemerals;
    out->sessions = t->sessions.tab.count;
    out->data_bytes = t->data_bytes;
    out->pending = t->pending.count;
    zab_watches_count(t->watches, &out->watches, &out->watched_paths, &out->watchers);
}
