/*
 * client.c - zab_client: a ZooKeeper session's operations against a
 * zab_server of the same process, without a socket.
 *
 * A request is encoded on the caller's thread (the same bytes a follower
 * forwards to its leader, so the copy is checked and compact), queued in
 * the server's inbox, and decoded and submitted on the server's thread. A
 * waiting call sleeps on the client's condition variable until its
 * completion, run on the server's thread, has copied the reply for it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/msg.h"
#include "host/host.h"
#include "util/codec.h"

enum { RETRY_PAUSE_MS = 10 };

/* A thread waiting for one item. */
typedef struct waiter {
    zab_client *client;
    int want_reply;
    int done;
    int rc;
    zab_reply *reply;
} waiter;

/* The completion of a waited-for item, on the server's thread. The waiter
 * may return the moment the lock is released: nothing touches it after. */
static void wake_waiter(void *ctx, const zab_reply *reply)
{
    waiter *w = ctx;
    zab_reply *copy = NULL;
    int rc = reply->err;
    if (w->want_reply && !(copy = zab_host_reply_copy(reply))) rc = ZAB_ENOMEM;
    zab_client *c = w->client;
    pthread_mutex_lock(&c->server->lock);
    w->rc = rc;
    w->reply = copy;
    w->done = 1;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->server->lock);
}

static void wait_for(waiter *w)
{
    zab_server *s = w->client->server;
    pthread_mutex_lock(&s->lock);
    while (!w->done) pthread_cond_wait(&w->client->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

static zab_host_call *new_item(zab_client *c, int kind, size_t len, zab_client_done_fn done,
                               void *ctx)
{
    zab_host_call *item = calloc(1, sizeof *item + len);
    if (!item) return NULL;
    item->kind = kind;
    item->client = c;
    item->done = done;
    item->ctx = ctx;
    item->len = len;
    return item;
}

/* Queue an item without bytes (an open, a detach) and wait for its end. */
static int post_and_wait(zab_client *c, int kind)
{
    waiter w = { .client = c };
    zab_host_call *item = new_item(c, kind, 0, wake_waiter, &w);
    if (!item) return ZAB_ENOMEM;
    int rc = zab_host_post(c->server, item);
    if (rc) {
        free(item);
        return rc;
    }
    wait_for(&w);
    return w.rc;
}

/* Encode req for the client's session and queue it. */
static int post_request(zab_client *c, const zab_request *req, zab_client_done_fn done, void *ctx)
{
    zab_request copy = *req;
    copy.session = c->session;
    zab_buf bytes = { 0 };
    pthread_mutex_lock(&c->auth_lock);
    copy.auth = c->auth;
    copy.nauth = c->nauth;
    int rc = zab_msg_request_encode(&copy, &bytes);
    pthread_mutex_unlock(&c->auth_lock);
    if (rc) {
        zab_buf_free(&bytes);
        return rc == ZAB_ENOMEM ? rc : ZAB_EINVAL;
    }
    zab_host_call *item = new_item(c, ZAB_HOST_CALL, bytes.len, done, ctx);
    if (item) memcpy(item->bytes, bytes.data, bytes.len);
    zab_buf_free(&bytes);
    if (!item) return ZAB_ENOMEM;
    rc = zab_host_post(c->server, item);
    if (rc) free(item);
    return rc;
}

static int request_and_wait(zab_client *c, const zab_request *req, zab_reply **out)
{
    waiter w = { .client = c, .want_reply = out != NULL };
    int rc = post_request(c, req, wake_waiter, &w);
    if (rc) return rc;
    wait_for(&w);
    if (out) *out = w.reply;
    return w.rc;
}

static void pause_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* After a connection loss: wait for the server to serve again, within the
 * deadline. 0 to try again, or the code to give up with. */
static int before_retry(zab_client *c, int64_t deadline)
{
    int64_t left = deadline - zab_host_mono_ms();
    if (left <= 0) return ZAB_ECONNECTIONLOSS;
    if (zab_server_wait_serving(c->server, (int)(left > RETRY_PAUSE_MS ? left : RETRY_PAUSE_MS)))
        return ZAB_ECONNECTIONLOSS;
    /* Serving, yet the attempt failed: the leader changed under it. */
    pause_ms(RETRY_PAUSE_MS);
    return 0;
}

/* ---- sessions ---- */

static void free_client(zab_client *c)
{
    for (uint32_t i = 0; i < c->nauth; i++) {
        free((void *)c->auth[i].scheme.ptr);
        free((void *)c->auth[i].id.ptr);
    }
    free(c->auth);
    pthread_mutex_destroy(&c->auth_lock);
    pthread_cond_destroy(&c->cond);
    zab_host_release(c->server);
    free(c);
}

static zab_client *new_client(zab_server *server, int32_t timeout_ms, zab_client_watch_fn watch,
                              void *ctx)
{
    zab_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca)) {
        free(c);
        return NULL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc) {
        free(c);
        return NULL;
    }
    if (pthread_mutex_init(&c->auth_lock, NULL)) {
        pthread_cond_destroy(&c->cond);
        free(c);
        return NULL;
    }
    c->keep_alive = 1;
    c->server = server;
    c->requested_ms = timeout_ms;
    c->watch = watch;
    c->watch_ctx = ctx;
    zab_host_hold(server);
    return c;
}

int zab_client_open(zab_server *server, int32_t timeout_ms, zab_client_watch_fn watch, void *ctx,
                    zab_client **out)
{
    if (!server || !out) return ZAB_EINVAL;
    *out = NULL;
    zab_client *c = new_client(server, timeout_ms, watch, ctx);
    if (!c) return ZAB_ENOMEM;
    int64_t deadline = zab_host_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int rc;
    do {
        /* A fresh id each attempt: an attempt cut by a leader change may
         * still commit, and its session then expires unused. */
        c->session = zab_host_new_session(server);
        rc = zab_host_random(c->passwd, sizeof c->passwd);
        if (!rc) rc = post_and_wait(c, ZAB_HOST_OPEN);
    } while (rc == ZAB_ECONNECTIONLOSS && (rc = before_retry(c, deadline)) == 0);
    if (rc) {
        free_client(c);
        return rc;
    }
    *out = c;
    return 0;
}

int zab_client_resume(zab_server *server, int64_t session, const uint8_t passwd[16],
                      int64_t last_zxid_seen, zab_client_watch_fn watch, void *ctx,
                      zab_client **out)
{
    if (!server || !out || !passwd) return ZAB_EINVAL;
    *out = NULL;
    zab_client *c = new_client(server, 0, watch, ctx);
    if (!c) return ZAB_ENOMEM;
    c->session = session;
    memcpy(c->passwd, passwd, sizeof c->passwd);
    waiter w = { .client = c };
    zab_host_call *item = new_item(c, ZAB_HOST_RESUME, sizeof last_zxid_seen, wake_waiter, &w);
    int rc = item ? 0 : ZAB_ENOMEM, posted = 0;
    if (item) {
        memcpy(item->bytes, &last_zxid_seen, sizeof last_zxid_seen);
        if ((rc = zab_host_post(server, item))) free(item);
        else posted = 1;
    }
    if (posted) {
        wait_for(&w);
        rc = w.rc;
    }
    if (rc) {
        /* The server's thread may have routed the session to it: undo
         * (a stopped server has let go already). */
        if (posted) (void)post_and_wait(c, ZAB_HOST_DETACH);
        free_client(c);
        return rc;
    }
    *out = c;
    return 0;
}

void zab_client_password(const zab_client *c, uint8_t out[16])
{
    memcpy(out, c->passwd, sizeof c->passwd);
}

static char *copy_str(zab_str s)
{
    char *p = malloc(s.len + 1u);
    if (p) {
        if (s.len) memcpy(p, s.ptr, s.len);
        p[s.len] = '\0';
    }
    return p;
}

int zab_client_add_auth(zab_client *c, zab_str scheme, zab_str id)
{
    if (!c || !scheme.len || !scheme.ptr || (id.len && !id.ptr)) return ZAB_EINVAL;
    char *sp = copy_str(scheme), *ip = copy_str(id);
    pthread_mutex_lock(&c->auth_lock);
    zab_id *grown = sp && ip ? realloc(c->auth, (c->nauth + 1u) * sizeof *grown) : NULL;
    if (grown) {
        grown[c->nauth].scheme = (zab_str){ sp, scheme.len };
        grown[c->nauth].id = (zab_str){ ip, id.len };
        c->auth = grown;
        c->nauth++;
    }
    pthread_mutex_unlock(&c->auth_lock);
    if (grown) return 0;
    free(sp);
    free(ip);
    return ZAB_ENOMEM;
}

void zab_client_keep_alive(zab_client *c, int on)
{
    __atomic_store_n(&c->keep_alive, on != 0, __ATOMIC_RELAXED);
}

int zab_client_touch(zab_client *c)
{
    if (!c) return ZAB_EINVAL;
    __atomic_store_n(&c->touched, 1, __ATOMIC_RELAXED);
    return 0;
}

/* A setWatches item: i64 relative zxid, i32 kind, the connection's
 * identities (u32 count, then scheme and id), u32 count, then the paths. */
static int encode_watches(zab_client *c, int64_t relative_zxid, int kind, const zab_str *paths,
                          uint32_t npaths, zab_buf *out)
{
    int rc = zab_put_i64(out, relative_zxid) || zab_put_i32(out, kind);
    pthread_mutex_lock(&c->auth_lock);
    rc = rc || zab_put_u32(out, c->nauth);
    for (uint32_t i = 0; i < c->nauth && !rc; i++)
        rc = zab_put_str(out, c->auth[i].scheme) || zab_put_str(out, c->auth[i].id);
    pthread_mutex_unlock(&c->auth_lock);
    rc = rc || zab_put_u32(out, npaths);
    for (uint32_t i = 0; i < npaths && !rc; i++) rc = zab_put_str(out, paths[i]);
    return rc ? ZAB_ENOMEM : 0;
}

int zab_host_decode_watches(const void *bytes, size_t len, zab_host_watches *out,
                            zab_buf *scratch)
{
    zab_reader r = zab_reader_init(bytes, len);
    out->relative_zxid = zab_get_i64(&r);
    out->kind = zab_get_i32(&r);
    uint32_t nauth = zab_get_u32(&r);
    zab_reader auth_at = r;
    for (uint32_t i = 0; i < nauth && !r.err; i++) {
        (void)zab_get_str(&r);
        (void)zab_get_str(&r);
    }
    uint32_t npaths = zab_get_u32(&r);
    zab_reader paths_at = r;
    for (uint32_t i = 0; i < npaths && !r.err; i++) (void)zab_get_str(&r);
    if (r.err) return ZAB_ECORRUPT;
    /* The bytes are our own, so the counts are bounded by them. */
    size_t need = (size_t)nauth * sizeof(zab_id) + (size_t)npaths * sizeof(zab_str);
    scratch->len = 0;
    if (zab_buf_reserve(scratch, need)) return ZAB_ENOMEM;
    zab_id *auth = (zab_id *)(void *)scratch->data;
    zab_str *paths = (zab_str *)(void *)(scratch->data + (size_t)nauth * sizeof(zab_id));
    for (uint32_t i = 0; i < nauth; i++) {
        auth[i].scheme = zab_get_str(&auth_at);
        auth[i].id = zab_get_str(&auth_at);
    }
    for (uint32_t i = 0; i < npaths; i++) paths[i] = zab_get_str(&paths_at);
    scratch->len = need;
    out->auth = auth;
    out->nauth = nauth;
    out->paths = paths;
    out->npaths = npaths;
    return 0;
}

int zab_client_set_watches(zab_client *c, int64_t relative_zxid, int kind, const zab_str *paths,
                           uint32_t npaths)
{
    if (!c || (npaths && !paths) || kind < ZAB_SETWATCH_DATA ||
        kind > ZAB_SETWATCH_PERSISTENT_RECURSIVE)
        return ZAB_EINVAL;
    zab_buf bytes = { 0 };
    int rc = encode_watches(c, relative_zxid, kind, paths, npaths, &bytes);
    waiter w = { .client = c };
    zab_host_call *item = rc ? NULL : new_item(c, ZAB_HOST_WATCHES, bytes.len, wake_waiter, &w);
    if (item) memcpy(item->bytes, bytes.data, bytes.len);
    zab_buf_free(&bytes);
    if (!item) return ZAB_ENOMEM;
    if ((rc = zab_host_post(c->server, item))) {
        free(item);
        return rc;
    }
    wait_for(&w);
    return w.rc;
}

/* Stop the server's thread from using the client, then free it. */
static void detach(zab_client *c)
{
    (void)post_and_wait(c, ZAB_HOST_DETACH); /* a stopped server has let go already */
    free_client(c);
}

int zab_client_close(zab_client *c)
{
    if (!c) return 0;
    zab_op op = { .type = ZAB_OP_CLOSE_SESSION, .data_len = -1, .version = -1, .ttl = -1 };
    zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
    int64_t deadline = zab_host_mono_ms() + zab_client_timeout(c);
    int rc;
    /* Until the session's timeout: after that it expires anyway. */
    while ((rc = request_and_wait(c, &req, NULL)) == ZAB_ECONNECTIONLOSS &&
           before_retry(c, deadline) == 0) {
    }
    detach(c);
    return rc;
}

void zab_client_abandon(zab_client *c)
{
    if (c) detach(c);
}

int64_t zab_client_session(const zab_client *c)
{
    return c->session;
}

int32_t zab_client_timeout(const zab_client *c)
{
    pthread_mutex_lock(&c->server->lock);
    int32_t t = c->timeout_ms;
    pthread_mutex_unlock(&c->server->lock);
    return t;
}

/* ---- requests ---- */

/* The session is the client's own business (opened, closed and kept
 * alive by the client), and whoAmI is a connection's question, which an
 * in-process client does not have. */
static int client_may_send(int32_t type)
{
    return type != ZAB_OP_CREATE_SESSION && type != ZAB_OP_CLOSE_SESSION &&
           type != ZAB_OP_PING && type != ZAB_OP_WHO_AM_I;
}

int zab_client_submit(zab_client *c, const zab_request *req, zab_client_done_fn done, void *ctx)
{
    if (!c || !req || !done || !client_may_send(req->type)) return ZAB_EINVAL;
    return post_request(c, req, done, ctx);
}

int zab_client_call(zab_client *c, const zab_request *req, zab_reply **out)
{
    if (out) *out = NULL;
    if (!c || !req || !out || !client_may_send(req->type)) return ZAB_EINVAL;
    return request_and_wait(c, req, out);
}

/* One operation, waiting: the code, and the reply when it has a result. */
static int call_op(zab_client *c, zab_op op, zab_reply **out)
{
    zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
    int rc = zab_client_call(c, &req, out);
    if (*out && (*out)->nresults == 0) {
        zab_reply_free(*out);
        *out = NULL;
    }
    return rc;
}

static void copy_stat(zab_stat *out, const zab_reply *r)
{
    if (out && r) *out = r->results[0].stat;
}

int zab_client_create(zab_client *c, const char *path, const void *data, int32_t len,
                      const zab_acl *acl, uint32_t nacl, int32_t mode, char *created, size_t cap)
{
    zab_reply *r;
    int rc = call_op(c, zab_op_create(path, data, len, acl, nacl, mode), &r);
    if (rc == ZAB_OK && r && created && cap) {
        zab_str p = r->results[0].path;
        size_t n = p.len < cap - 1 ? p.len : cap - 1;
        if (n) memcpy(created, p.ptr, n);
        created[n] = '\0';
    }
    zab_reply_free(r);
    return rc;
}

int zab_client_get(zab_client *c, const char *path, int watch, zab_buf *data, zab_stat *stat)
{
    zab_reply *r;
    int rc = call_op(c, zab_op_read(ZAB_OP_GET_DATA, path, watch), &r);
    if (rc == ZAB_OK && r) {
        const zab_result *res = &r->results[0];
        if (data && res->data_len > 0 && zab_buf_append(data, res->data, (size_t)res->data_len))
            rc = ZAB_ENOMEM;
        copy_stat(stat, r);
    }
    zab_reply_free(r);
    return rc;
}

int zab_client_set(zab_client *c, const char *path, const void *data, int32_t len,
                   int32_t version, zab_stat *stat)
{
    zab_reply *r;
    int rc = call_op(c, zab_op_set_data(path, data, len, version), &r);
    if (rc == ZAB_OK) copy_stat(stat, r);
    zab_reply_free(r);
    return rc;
}

int zab_client_delete(zab_client *c, const char *path, int32_t version)
{
    zab_reply *r;
    int rc = call_op(c, zab_op_delete(path, version), &r);
    zab_reply_free(r);
    return rc;
}

int zab_client_exists(zab_client *c, const char *path, int watch, zab_stat *stat)
{
    zab_reply *r;
    int rc = call_op(c, zab_op_read(ZAB_OP_EXISTS, path, watch), &r);
    if (rc == ZAB_OK) copy_stat(stat, r);
    zab_reply_free(r);
    return rc;
}

int zab_client_children(zab_client *c, const char *path, int watch, zab_buf *names,
                        uint32_t *count, zab_stat *stat)
{
    zab_reply *r;
    int rc = call_op(c, zab_op_read(ZAB_OP_GET_CHILDREN2, path, watch), &r);
    uint32_t n = 0;
    if (rc == ZAB_OK && r) {
        const zab_result *res = &r->results[0];
        for (; n < res->nnames && rc == ZAB_OK; n++) {
            static const char nul = '\0';
            if (names && (zab_buf_append(names, res->names[n].ptr, res->names[n].len) ||
                          zab_buf_append(names, &nul, 1)))
                rc = ZAB_ENOMEM;
        }
        copy_stat(stat, r);
    }
    if (count) *count = rc == ZAB_OK ? n : 0;
    zab_reply_free(r);
    return rc;
}

int zab_client_sync(zab_client *c, const char *path)
{
    zab_op op = zab_op_read(ZAB_OP_SYNC, path, 0);
    zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
    return request_and_wait(c, &req, NULL);
}
