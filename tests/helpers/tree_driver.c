/*
 * tree_driver.c - see tree_driver.h.
 *
 * Everything the driver hands out (reply copies, event paths) comes from a
 * chunked bump allocator released by td_free(), so tests never free.
 */
#include "helpers/tree_driver.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

enum { TD_CHUNK = 64 * 1024, TD_MAX_SESSIONS_AUTH = 32, TD_MAX_IDS = 8 };

typedef struct td_chunk {
    struct td_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char bytes[];
} td_chunk;

typedef struct td_rec {
    td *owner;
    td_event *v;
    size_t n, cap;
} td_rec;

/* The identities of one session's connection. */
typedef struct td_conn {
    int64_t session;
    uint32_t nids;
    zab_id ids[TD_MAX_IDS];
} td_conn;

struct td {
    zab_tree *trees[1 + TD_MAX_FOLLOWERS];
    td_rec recs[1 + TD_MAX_FOLLOWERS];
    int ntrees;
    zab_tree_config cfg;
    char *super_digest;
    uint32_t epoch;
    uint32_t counter;
    int64_t last_zxid;
    int64_t now_ms;
    int64_t step_ms;
    td_conn conns[TD_MAX_SESSIONS_AUTH];
    uint32_t nconns;
    td_chunk *chunks;
};

static const td_result td_no_result;

/* ------------------------------------------------------------------------ */
/* Memory                                                                    */
/* ------------------------------------------------------------------------ */

static void *td_alloc(td *d, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    td_chunk *c = d->chunks;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > TD_CHUNK ? size : TD_CHUNK;
        c = malloc(sizeof(*c) + cap);
        ck_assert_msg(c != NULL, "tree driver: out of memory");
        c->used = 0;
        c->cap = cap;
        c->next = d->chunks;
        d->chunks = c;
    }
    void *p = c->bytes + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

static char *td_strndup(td *d, const char *s, size_t len)
{
    char *out = td_alloc(d, len + 1);
    if (len) memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

static char *td_strview(td *d, zab_str s)
{
    return td_strndup(d, s.ptr, s.len);
}

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

static void td_record(void *ctx, int64_t watcher, const zab_event *ev)
{
    td_rec *rec = ctx;
    if (rec->n == rec->cap) {
        size_t cap = rec->cap ? rec->cap * 2 : 16;
        td_event *v = realloc(rec->v, cap * sizeof(*v));
        ck_assert_msg(v != NULL, "tree driver: out of memory");
        rec->v = v;
        rec->cap = cap;
    }
    td_event *e = &rec->v[rec->n++];
    e->watcher = watcher;
    e->type = ev->type;
    e->state = ev->state;
    e->path = td_strview(rec->owner, ev->path);
    e->path_len = ev->path.len;
    e->zxid = ev->zxid;
}

size_t td_nevents(const td *d)
{
    return d->recs[0].n;
}

const td_event *td_event_at(const td *d, size_t i)
{
    ck_assert_msg(i < d->recs[0].n, "event %zu of %zu", i, d->recs[0].n);
    return &d->recs[0].v[i];
}

size_t td_count_events(const td *d, int64_t watcher, int32_t type, const char *path)
{
    size_t n = 0;
    for (size_t i = 0; i < d->recs[0].n; i++) {
        const td_event *e = &d->recs[0].v[i];
        if (watcher != TD_ANY_WATCHER && e->watcher != watcher) continue;
        if (type != TD_ANY_TYPE && e->type != type) continue;
        if (path && strcmp(e->path, path) != 0) continue;
        n++;
    }
    return n;
}

void td_events_reset(td *d)
{
    for (int i = 0; i < d->ntrees; i++) d->recs[i].n = 0;
}

size_t td_replica_nevents(const td *d, int replica)
{
    ck_assert_int_lt(replica, d->ntrees);
    return d->recs[replica].n;
}

const td_event *td_replica_event_at(const td *d, int replica, size_t i)
{
    ck_assert_int_lt(replica, d->ntrees);
    ck_assert_uint_lt(i, d->recs[replica].n);
    return &d->recs[replica].v[i];
}

/* ------------------------------------------------------------------------ */
/* Lifetime                                                                  */
/* ------------------------------------------------------------------------ */

static zab_tree *td_make_tree(td *d, int replica)
{
    zab_tree_config cfg = d->cfg;
    d->recs[replica].owner = d;
    cfg.on_watch = td_record;
    cfg.watch_ctx = &d->recs[replica];
    zab_tree *t = zab_tree_new(&cfg);
    ck_assert_msg(t != NULL, "zab_tree_new failed");
    return t;
}

td *td_new(const zab_tree_config *cfg)
{
    td *d = calloc(1, sizeof(*d));
    ck_assert_msg(d != NULL, "tree driver: out of memory");
    if (cfg) d->cfg = *cfg;
    if (d->cfg.super_digest.len) {
        /* The caller's view may not outlive this call. */
        d->super_digest = td_strview(d, d->cfg.super_digest);
        d->cfg.super_digest.ptr = d->super_digest;
    }
    d->counter = 1;
    d->now_ms = TD_CLOCK_START;
    d->step_ms = 1;
    d->trees[0] = td_make_tree(d, 0);
    d->ntrees = 1;
    return d;
}

void td_free(td *d)
{
    if (!d) return;
    for (int i = 0; i < d->ntrees; i++) {
        zab_tree_free(d->trees[i]);
        free(d->recs[i].v);
    }
    while (d->chunks) {
        td_chunk *next = d->chunks->next;
        free(d->chunks);
        d->chunks = next;
    }
    free(d);
}

zab_tree *td_tree(td *d)
{
    return d->trees[0];
}

int td_add_follower(td *d)
{
    ck_assert_int_lt(d->ntrees, 1 + TD_MAX_FOLLOWERS);
    ck_assert_msg(d->last_zxid == 0 && td_next_zxid(d) == ((int64_t)d->epoch << 32 | 1),
                  "add followers before the first write");
    int replica = d->ntrees;
    d->trees[replica] = td_make_tree(d, replica);
    d->ntrees++;
    return replica;
}

zab_tree *td_replica(td *d, int replica)
{
    ck_assert_int_lt(replica, d->ntrees);
    return d->trees[replica];
}

void td_assert_replicas_agree(td *d)
{
    zab_tree_stats lead;
    zab_tree_stats_get(d->trees[0], &lead);
    for (int i = 1; i < d->ntrees; i++) {
        zab_tree_stats st;
        zab_tree_stats_get(d->trees[i], &st);
        ck_assert_int_eq(st.last_zxid, lead.last_zxid);
        ck_assert_uint_eq(st.digest, lead.digest);
        ck_assert_uint_eq(st.nodes, lead.nodes);
        ck_assert_uint_eq(st.ephemerals, lead.ephemerals);
        ck_assert_uint_eq(st.sessions, lead.sessions);
        ck_assert_uint_eq(st.data_bytes, lead.data_bytes);
    }
}

zab_tree_stats td_stats(const td *d)
{
    zab_tree_stats st;
    zab_tree_stats_get(d->trees[0], &st);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Clock, zxids, identities                                                  */
/* ------------------------------------------------------------------------ */

void td_set_epoch(td *d, uint32_t epoch)
{
    d->epoch = epoch;
    d->counter = 1;
}

int64_t td_next_zxid(const td *d)
{
    return (int64_t)((uint64_t)d->epoch << 32 | d->counter);
}

int64_t td_last_zxid(const td *d)
{
    return d->last_zxid;
}

void td_set_clock(td *d, int64_t now_ms)
{
    d->now_ms = now_ms;
}

int64_t td_clock(const td *d)
{
    return d->now_ms;
}

void td_set_clock_step(td *d, int64_t step_ms)
{
    d->step_ms = step_ms;
}

static td_conn *td_conn_find(td *d, int64_t session, int create)
{
    for (uint32_t i = 0; i < d->nconns; i++)
        if (d->conns[i].session == session) return &d->conns[i];
    if (!create) return NULL;
    ck_assert_uint_lt(d->nconns, TD_MAX_SESSIONS_AUTH);
    td_conn *c = &d->conns[d->nconns++];
    c->session = session;
    c->nids = 0;
    return c;
}

void td_auth_add(td *d, int64_t session, const char *scheme, const char *id)
{
    td_conn *c = td_conn_find(d, session, 1);
    ck_assert_uint_lt(c->nids, TD_MAX_IDS);
    zab_id *out = &c->ids[c->nids++];
    out->scheme = zab_str_c(td_strndup(d, scheme, strlen(scheme)));
    out->id = zab_str_c(td_strndup(d, id, strlen(id)));
}

const char *td_digest(td *d, const char *user_password)
{
    size_t cap = strlen(user_password) + 64;
    char *out = td_alloc(d, cap);
    int n = zab_digest_id(zab_str_c(user_password), out, cap);
    ck_assert_msg(n > 0, "zab_digest_id(%s) = %d", user_password, n);
    return out;
}

void td_auth_add_digest(td *d, int64_t session, const char *user_password)
{
    td_auth_add(d, session, "digest", td_digest(d, user_password));
}

void td_auth_clear(td *d, int64_t session)
{
    td_conn *c = td_conn_find(d, session, 0);
    if (c) c->nids = 0;
}

static void td_attach_auth(td *d, zab_request *req)
{
    td_conn *c = td_conn_find(d, req->session, 0);
    req->auth = c ? c->ids : NULL;
    req->nauth = c ? c->nids : 0;
}

/* ------------------------------------------------------------------------ */
/* Reply copies                                                              */
/* ------------------------------------------------------------------------ */

static int td_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void td_copy_result(td *d, td_result *out, const zab_result *in)
{
    out->type = in->type;
    out->err = in->err;
    out->stat = in->stat;
    out->path = in->path.ptr ? td_strview(d, in->path) : NULL;
    out->data_len = in->data_len;
    if (in->data_len >= 0 && in->data) out->data = td_strndup(d, in->data, (size_t)in->data_len);
    else if (in->data_len >= 0) out->data = td_strndup(d, "", 0);
    out->count = in->count;
    if (in->nnames) {
        ck_assert_ptr_nonnull(in->names);
        out->names = td_alloc(d, in->nnames * sizeof(char *));
        for (uint32_t i = 0; i < in->nnames; i++) out->names[i] = td_strview(d, in->names[i]);
        qsort(out->names, in->nnames, sizeof(char *), td_cmp_names);
        out->nnames = in->nnames;
    }
    if (in->nacl) {
        ck_assert_ptr_nonnull(in->acl);
        out->acl = td_alloc(d, in->nacl * sizeof(td_acl));
        for (uint32_t i = 0; i < in->nacl; i++) {
            out->acl[i].perms = in->acl[i].perms;
            out->acl[i].scheme = td_strview(d, in->acl[i].id.scheme);
            out->acl[i].id = td_strview(d, in->acl[i].id.id);
        }
        out->nacl = in->nacl;
    }
}

static td_reply *td_copy_reply(td *d, int rc, const zab_reply *in)
{
    td_reply *out = td_alloc(d, sizeof(*out));
    out->rc = rc;
    out->r = &td_no_result;
    if (rc != ZAB_OK && !in) {
        out->err = rc;
        return out;
    }
    out->err = in->err;
    out->zxid = in->zxid;
    if (in->nresults) {
        ck_assert_ptr_nonnull(in->results);
        out->results = td_alloc(d, in->nresults * sizeof(td_result));
        for (uint32_t i = 0; i < in->nresults; i++) td_copy_result(d, &out->results[i], &in->results[i]);
        out->nresults = in->nresults;
        out->r = &out->results[0];
    }
    if (rc != ZAB_OK) out->err = rc;
    return out;
}

/* ------------------------------------------------------------------------ */
/* Writes                                                                    */
/* ------------------------------------------------------------------------ */

int td_prepare(td *d, const zab_request *req, td_txn *txn)
{
    zab_request r = *req;
    td_attach_auth(d, &r);
    memset(txn, 0, sizeof(*txn));
    int64_t zxid = td_next_zxid(d);
    int rc = zab_tree_prepare(d->trees[0], &r, zxid, d->now_ms, &txn->bytes);
    if (rc != ZAB_OK) {
        ck_assert_uint_eq(txn->bytes.len, 0);
        zab_buf_free(&txn->bytes);
        return rc;
    }
    txn->zxid = zxid;
    d->counter++;
    d->now_ms += d->step_ms;
    return rc;
}

const td_reply *td_apply(td *d, td_txn *txn)
{
    zab_reply reply;
    memset(&reply, 0, sizeof(reply));
    int rc = zab_tree_apply(d->trees[0], txn->zxid, txn->bytes.data, txn->bytes.len, &reply);
    td_reply *out = td_copy_reply(d, rc, rc == ZAB_OK ? &reply : NULL);
    if (rc == ZAB_OK) d->last_zxid = txn->zxid;
    for (int i = 1; i < d->ntrees; i++) {
        zab_reply fr;
        memset(&fr, 0, sizeof(fr));
        int frc = zab_tree_apply(d->trees[i], txn->zxid, txn->bytes.data, txn->bytes.len, &fr);
        ck_assert_msg(frc == rc, "replica %d applied zxid %lld with %d, leader with %d", i,
                      (long long)txn->zxid, frc, rc);
        if (frc == ZAB_OK) {
            ck_assert_int_eq(fr.err, reply.err);
            ck_assert_uint_eq(fr.nresults, out->nresults);
        }
    }
    zab_buf_free(&txn->bytes);
    return out;
}

const td_reply *td_request(td *d, const zab_request *req)
{
    td_txn txn;
    int rc = td_prepare(d, req, &txn);
    if (rc != ZAB_OK) return td_copy_reply(d, rc, NULL);
    return td_apply(d, &txn);
}

const td_reply *td_write(td *d, int64_t session, zab_op op)
{
    zab_request req = { .type = op.type, .session = session, .ops = &op, .nops = 1 };
    return td_request(d, &req);
}

const td_reply *td_multi(td *d, int64_t session, const zab_op *ops, uint32_t nops)
{
    zab_request req = { .type = ZAB_OP_MULTI, .session = session, .ops = ops, .nops = nops };
    return td_request(d, &req);
}

static int32_t td_len(const char *data)
{
    return data ? (int32_t)strlen(data) : -1;
}

static zab_op td_create_op(const char *path, const char *data, const zab_acl *acl,
                           uint32_t nacl, int32_t mode)
{
    zab_op op = zab_op_create(path, data, td_len(data), acl, nacl, mode);
    op.type = ZAB_OP_CREATE;
    op.ttl = -1;
    return op;
}

const td_reply *td_create_acl(td *d, int64_t session, const char *path, const char *data,
                              const zab_acl *acl, uint32_t nacl, int32_t mode)
{
    return td_write(d, session, td_create_op(path, data, acl, nacl, mode));
}

const td_reply *td_create(td *d, int64_t session, const char *path, const char *data,
                          int32_t mode)
{
    return td_create_acl(d, session, path, data, zab_acl_open, 1, mode);
}

const td_reply *td_create2(td *d, int64_t session, const char *path, const char *data,
                           int32_t mode)
{
    zab_op op = td_create_op(path, data, zab_acl_open, 1, mode);
    op.type = ZAB_OP_CREATE2;
    return td_write(d, session, op);
}

const td_reply *td_create_container(td *d, int64_t session, const char *path,
                                    const char *data)
{
    zab_op op = td_create_op(path, data, zab_acl_open, 1, ZAB_CONTAINER);
    op.type = ZAB_OP_CREATE_CONTAINER;
    return td_write(d, session, op);
}

const td_reply *td_create_ttl(td *d, int64_t session, const char *path, const char *data,
                              int32_t mode, int64_t ttl)
{
    zab_op op = td_create_op(path, data, zab_acl_open, 1, mode);
    op.type = ZAB_OP_CREATE_TTL;
    op.ttl = ttl;
    return td_write(d, session, op);
}

const td_reply *td_delete(td *d, int64_t session, const char *path, int32_t version)
{
    return td_write(d, session, zab_op_delete(path, version));
}

const td_reply *td_set(td *d, int64_t session, const char *path, const char *data,
                       int32_t version)
{
    return td_write(d, session, zab_op_set_data(path, data, td_len(data), version));
}

const td_reply *td_set_acl(td *d, int64_t session, const char *path, const zab_acl *acl,
                           uint32_t nacl, int32_t version)
{
    return td_write(d, session, zab_op_set_acl(path, acl, nacl, version));
}

void td_session_password(int64_t session, uint8_t out[16])
{
    uint64_t x = (uint64_t)session ^ UINT64_C(0x5bd1e9955bd1e995);
    for (int i = 0; i < 16; i++) {
        x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        out[i] = (uint8_t)(x >> 56);
    }
}

const td_reply *td_session_open(td *d, int64_t session, int32_t timeout_ms)
{
    uint8_t pw[16];
    td_session_password(session, pw);
    zab_op op;
    memset(&op, 0, sizeof(op));
    op.type = ZAB_OP_CREATE_SESSION;
    op.data = pw;
    op.data_len = 16;
    op.timeout = timeout_ms;
    op.ttl = -1;
    op.version = -1;
    return td_write(d, session, op);
}

const td_reply *td_session_close(td *d, int64_t session)
{
    zab_op op;
    memset(&op, 0, sizeof(op));
    op.type = ZAB_OP_CLOSE_SESSION;
    op.data_len = -1;
    op.ttl = -1;
    op.version = -1;
    return td_write(d, session, op);
}

/* ------------------------------------------------------------------------ */
/* Reads                                                                     */
/* ------------------------------------------------------------------------ */

const td_reply *td_read(td *d, const zab_request *req)
{
    zab_request r = *req;
    td_attach_auth(d, &r);
    zab_reply reply;
    memset(&reply, 0, sizeof(reply));
    int rc = zab_tree_read(d->trees[0], &r, &reply);
    /* A read answers through the reply even when it fails (err = rc). */
    int lib_rc = rc < -1000 ? rc : ZAB_OK;
    td_reply *out = td_copy_reply(d, lib_rc, lib_rc == ZAB_OK ? &reply : NULL);
    if (lib_rc == ZAB_OK) ck_assert_int_eq(rc, reply.err);
    return out;
}

const td_reply *td_read_op(td *d, int64_t session, zab_op op)
{
    zab_request req = { .type = op.type, .session = session, .ops = &op, .nops = 1 };
    return td_read(d, &req);
}

const td_reply *td_read_multi(td *d, int64_t session, const zab_op *ops, uint32_t nops)
{
    zab_request req = { .type = ZAB_OP_MULTI_READ, .session = session, .ops = ops,
                        .nops = nops };
    return td_read(d, &req);
}

const td_reply *td_get(td *d, int64_t session, const char *path, int watch)
{
    return td_read_op(d, session, zab_op_read(ZAB_OP_GET_DATA, path, watch));
}

const td_reply *td_exists(td *d, int64_t session, const char *path, int watch)
{
    return td_read_op(d, session, zab_op_read(ZAB_OP_EXISTS, path, watch));
}

const td_reply *td_children(td *d, int64_t session, const char *path, int watch)
{
    return td_read_op(d, session, zab_op_read(ZAB_OP_GET_CHILDREN, path, watch));
}

const td_reply *td_children2(td *d, int64_t session, const char *path, int watch)
{
    return td_read_op(d, session, zab_op_read(ZAB_OP_GET_CHILDREN2, path, watch));
}

const td_reply *td_get_acl(td *d, int64_t session, const char *path)
{
    return td_read_op(d, session, zab_op_read(ZAB_OP_GET_ACL, path, 0));
}

const td_reply *td_all_children(td *d, int64_t session, const char *path)
{
    return td_read_op(d, session, zab_op_read(ZAB_OP_GET_ALL_CHILDREN_NUMBER, path, 0));
}

const td_reply *td_ephemerals(td *d, int64_t session, const char *prefix)
{
    return td_read_op(d, session, zab_op_read(ZAB_OP_GET_EPHEMERALS, prefix, 0));
}

const td_reply *td_add_watch(td *d, int64_t session, const char *path, int32_t mode)
{
    zab_op op = zab_op_read(ZAB_OP_ADD_WATCH, path, 0);
    op.flags = mode;
    return td_read_op(d, session, op);
}

const td_reply *td_check_watches(td *d, int64_t session, const char *path, int32_t type)
{
    zab_op op = zab_op_read(ZAB_OP_CHECK_WATCHES, path, 0);
    op.flags = type;
    return td_read_op(d, session, op);
}

const td_reply *td_remove_watches(td *d, int64_t session, const char *path, int32_t type)
{
    zab_op op = zab_op_read(ZAB_OP_REMOVE_WATCHES, path, 0);
    op.flags = type;
    return td_read_op(d, session, op);
}

zab_stat td_stat(td *d, const char *path)
{
    const td_reply *r = td_exists(d, 0, path, 0);
    ck_assert_msg(r->err == ZAB_OK, "exists(%s) = %d", path, r->err);
    return r->r->stat;
}

int td_node_exists(td *d, const char *path)
{
    const td_reply *r = td_exists(d, 0, path, 0);
    ck_assert_msg(r->err == ZAB_OK || r->err == ZAB_ENONODE, "exists(%s) = %d", path, r->err);
    return r->err == ZAB_OK;
}

int td_set_watches(td *d, int64_t watcher, int64_t relative_zxid, int kind,
                   const char *const *paths, uint32_t npaths)
{
    zab_str views[64];
    ck_assert_uint_le(npaths, 64);
    for (uint32_t i = 0; i < npaths; i++) views[i] = zab_str_c(paths[i]);
    td_conn *c = td_conn_find(d, watcher, 0);
    return zab_tree_set_watches(d->trees[0], watcher, c ? c->ids : NULL, c ? c->nids : 0,
                                relative_zxid, kind, views, npaths);
}
