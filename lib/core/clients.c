/*
 * clients.c - the requests of this node's clients, from submission to
 * outcome, in each session's order.
 *
 * ZooKeeper answers a session's requests in the order it sent them: a read
 * that follows a write of the same session waits until the write is
 * applied, so the client reads its own writes; other sessions' reads never
 * wait. The same here, with one queue for the node in submission order:
 *  - a write starts at once (it is proposed, or forwarded to the leader)
 *    unless something of its session that is not a started write is ahead
 *    of it; writes of a session pipeline behind one another, and their
 *    outcomes come back in zxid order, which is their order;
 *  - a read runs when nothing of its session is ahead of it: at once when
 *    the session is idle (the common case costs one table lookup), else as
 *    soon as what is ahead completes, against the tree as it is then;
 *  - a sync or a revalidation is a barrier: it starts when its session is
 *    idle, and the session's later requests wait for it.
 * Per session the table keeps two counts: requests in the queue, and
 * requests that hold later ones back (not started yet, or a started
 * barrier). A session whose counts are zero is not in the table.
 */
#include <stdlib.h>
#include <string.h>

#include "core/node.h"
#include "tree/tree.h"

/* Requests a node holds for its clients, in units of max_outstanding. */
enum { QUEUE_LIMIT_FACTOR = 4 };

static uint32_t count_items(uint64_t v) { return (uint32_t)(v >> 32); }
static uint32_t count_blocked(uint64_t v) { return (uint32_t)v; }

static int counts_set(zab_node *n, int64_t session, uint32_t items, uint32_t blocked)
{
    return zab_imap_set(&n->clients.sessions, session, (uint64_t)items << 32 | blocked);
}

static int is_barrier(const zab_client_req *p)
{
    return p->kind == REQ_SYNC || p->kind == REQ_REVALIDATE;
}

static int classify(int32_t type)
{
    if (type == ZAB_OP_SYNC) return REQ_SYNC;
    return zab_tree_is_read(type) ? REQ_READ : REQ_WRITE;
}

/* ---- the queue ---- */

/* Append a request that has not started; its index, or -1 (ZAB_ENOMEM). */
static int64_t push(zab_node *n, int64_t session, uint64_t cookie, int kind)
{
    zab_clients *c = &n->clients;
    uint64_t v = zab_imap_get(&c->sessions, session);
    if (counts_set(n, session, count_items(v) + 1, count_blocked(v) + 1)) return -1;
    if (c->tail == c->cap) {
        if (c->head > 0) {
            memmove(c->items, c->items + c->head, (c->tail - c->head) * sizeof(*c->items));
            c->tail -= c->head;
            c->head = 0;
        } else {
            uint32_t cap = c->cap ? c->cap * 2 : 64;
            zab_client_req *items = realloc(c->items, cap * sizeof(*items));
            if (!items) {
                (void)counts_set(n, session, count_items(v), count_blocked(v));
                return -1;
            }
            c->items = items;
            c->cap = cap;
        }
    }
    zab_client_req *p = &c->items[c->tail];
    memset(p, 0, sizeof(*p));
    p->cookie = cookie;
    p->session = session;
    p->kind = (uint8_t)kind;
    return c->tail++;
}

/* The request started: a write or read no longer holds its session back. */
static void mark_started(zab_node *n, zab_client_req *p)
{
    p->started = 1;
    if (is_barrier(p)) return;
    uint64_t v = zab_imap_get(&n->clients.sessions, p->session);
    (void)counts_set(n, p->session, count_items(v), count_blocked(v) - 1);
}

/* Take the request at index i out of the queue (and out of its session's
 * counts). Later requests keep their indices: the ones before it move up. */
static void take(zab_node *n, uint32_t i)
{
    zab_clients *c = &n->clients;
    zab_client_req *p = &c->items[i];
    uint64_t v = zab_imap_get(&c->sessions, p->session);
    uint32_t blocked = count_blocked(v) - (!p->started || is_barrier(p));
    (void)counts_set(n, p->session, count_items(v) - 1, blocked);
    if (p->answered) c->answered--;
    zab_buf_free(&p->req);
    memmove(c->items + c->head + 1, c->items + c->head, (i - c->head) * sizeof(*c->items));
    c->head++;
    if (c->head == c->tail) c->head = c->tail = 0;
}

/* Finish the request at index i with reply: out of the queue, then told. */
static void finish(zab_node *n, uint32_t i, const zab_reply *reply)
{
    uint64_t cookie = n->clients.items[i].cookie;
    take(n, i);
    if (n->io.on_result) n->io.on_result(n->io.ctx, cookie, reply);
}

static void finish_err(zab_node *n, uint32_t i, int err)
{
    zab_reply r = { .err = err, .zxid = n->last_applied };
    finish(n, i, &r);
}

static int64_t find(const zab_node *n, uint64_t cookie)
{
    const zab_clients *c = &n->clients;
    for (uint32_t i = c->head; i < c->tail; i++)
        if (c->items[i].cookie == cookie && c->items[i].started) return i;
    return -1;
}

/* ---- starting a request ---- */

static int start_write(zab_node *n, const zab_request *req, const void *bytes, size_t len,
                       uint64_t cookie)
{
    if (n->role == ZAB_LEADING) return zab_leader_submit(n, req, n->cfg.sid, cookie);
    return zab_learner_submit(n, bytes, len, cookie);
}

/* Start the request at index i (req: decoded, bytes: encoded; either may be
 * absent for barriers). Returns 1 when it finished, 0 when it is under way,
 * or a negative code: it could not start and is still in the queue. */
static int start(zab_node *n, uint32_t i, const zab_request *req, const void *bytes, size_t len)
{
    zab_client_req *p = &n->clients.items[i];
    uint64_t cookie = p->cookie;
    int64_t session = p->session;
    int rc;
    if (!zab_node_serving(n)) return ZAB_ECONNECTIONLOSS;
    mark_started(n, p);
    switch (p->kind) {
    case REQ_READ: {
        zab_reply reply;
        zab_tree_read(n->tree, req, &reply);
        finish(n, i, &reply);
        return 1;
    }
    case REQ_WRITE:
        return start_write(n, req, bytes, len, cookie);
    case REQ_SYNC:
        if (n->role != ZAB_LEADING) return zab_learner_ask(n, ZAB_MSG_SYNC, session, cookie);
        rc = zab_leader_sync(n, session, n->cfg.sid, cookie);
        if (rc != 1) return rc;
        finish_err(n, i, ZAB_OK); /* a leader alone is its own quorum */
        return 1;
    default:
        if (n->role != ZAB_LEADING) return zab_learner_ask(n, ZAB_MSG_REVALIDATE, session, cookie);
        finish_err(n, i, zab_leader_revalidate(n, session, n->cfg.sid));
        return 1;
    }
}

/* Start what the session's requests now allow, in order. */
static void pump(zab_node *n, int64_t session)
{
    zab_clients *c = &n->clients;
    if (c->pumping || !count_blocked(zab_imap_get(&c->sessions, session))) return;
    c->pumping = 1;
    uint32_t ahead = 0;   /* earlier requests of the session still under way */
    uint32_t holding = 0; /* of those, barriers */
    for (uint32_t i = c->head; i < c->tail && !n->stopped; i++) {
        zab_client_req *p = &c->items[i];
        if (p->session != session) continue;
        if (p->started) {
            ahead++;
            holding += is_barrier(p);
            continue;
        }
        if (p->kind == REQ_WRITE ? holding > 0 : ahead > 0) break;
        zab_request req = { 0 };
        if (p->req.len && zab_msg_request_decode(p->req.data, p->req.len, &req, &n->req_scratch)) {
            finish_err(n, i, ZAB_ENOMEM); /* its own encoding: only memory can fail */
            continue;
        }
        int kind = p->kind;
        int rc = start(n, i, &req, p->req.data, p->req.len);
        if (rc < 0) {
            finish_err(n, i, rc);
        } else if (rc == 0) {
            ahead++;
            holding += kind != REQ_WRITE;
        }
    }
    c->pumping = 0;
}

/* Start the request just pushed at index i for a caller that is told of a
 * failure to start by the return code, not by on_result: 0 or that code.
 * (Nothing that starts a request can end the reign: a leader out of zxids
 * steps down at its next tick.) */
static int start_now(zab_node *n, uint32_t i, const zab_request *req, const void *bytes,
                     size_t len)
{
    int rc = start(n, i, req, bytes, len);
    if (rc >= 0) return 0;
    take(n, i);
    return rc;
}

/* ---- the node's entry points ---- */

int zab_clients_submit(zab_node *n, const zab_request *req, uint64_t cookie)
{
    int kind = classify(req->type);
    const void *bytes = NULL;
    size_t len = 0;
    if (kind == REQ_WRITE) {
        /* Encoded once: its size is the edge check, and a learner forwards
         * these very bytes. */
        n->req_out.len = 0;
        int rc = zab_msg_request_encode(req, &n->req_out);
        if (rc) return rc;
        if (n->req_out.len > n->cfg.max_message) return ZAB_ETOOBIG;
        bytes = n->req_out.data;
        len = n->req_out.len;
    }
    if (!zab_node_serving(n)) return ZAB_ECONNECTIONLOSS;
    zab_clients *c = &n->clients;
    if (c->tail - c->head >= (uint64_t)QUEUE_LIMIT_FACTOR * n->cfg.max_outstanding)
        return ZAB_ETHROTTLED;
    uint64_t v = zab_imap_get(&c->sessions, req->session);
    int now = kind == REQ_WRITE ? count_blocked(v) == 0 : count_items(v) == 0;
    int64_t i = push(n, req->session, cookie, kind);
    if (i < 0) return ZAB_ENOMEM;
    if (!now) {
        /* It waits its turn: keep its own copy of the request. */
        zab_client_req *p = &c->items[i];
        int rc = bytes ? zab_buf_append(&p->req, bytes, len)
                       : kind == REQ_SYNC ? 0 : zab_msg_request_encode(req, &p->req);
        if (rc) take(n, (uint32_t)i);
        return rc;
    }
    return start_now(n, (uint32_t)i, req, bytes, len);
}

int zab_clients_revalidate(zab_node *n, int64_t session, uint64_t cookie)
{
    if (!zab_node_serving(n)) return ZAB_ECONNECTIONLOSS;
    zab_clients *c = &n->clients;
    uint64_t v = zab_imap_get(&c->sessions, session);
    int64_t i = push(n, session, cookie, REQ_REVALIDATE);
    if (i < 0) return ZAB_ENOMEM;
    if (count_items(v) > 0) return 0;
    return start_now(n, (uint32_t)i, NULL, NULL, 0);
}

void zab_clients_result(zab_node *n, uint64_t cookie, const zab_reply *reply)
{
    int64_t i = find(n, cookie);
    if (i < 0) return;
    int64_t session = n->clients.items[i].session;
    finish(n, (uint32_t)i, reply);
    pump(n, session);
}

void zab_clients_answer(zab_node *n, uint64_t cookie, int32_t err, int64_t zxid)
{
    int64_t i = find(n, cookie);
    if (i < 0) return;
    zab_client_req *p = &n->clients.items[i];
    if (p->kind == REQ_SYNC && err == ZAB_OK) {
        if (p->answered) return;
        p->answered = 1;
        p->zxid = zxid;
        n->clients.answered++;
        zab_clients_applied(n);
        return;
    }
    zab_reply reply = { .err = err, .zxid = n->last_applied };
    zab_clients_result(n, cookie, &reply);
}

void zab_clients_applied(zab_node *n)
{
    zab_clients *c = &n->clients;
    for (uint32_t i = c->head; c->answered && i < c->tail; i++) {
        zab_client_req *p = &c->items[i];
        if (!p->answered || p->zxid > n->last_applied) continue;
        int64_t session = p->session;
        finish_err(n, i, ZAB_OK);
        pump(n, session);
    }
}

void zab_clients_fail_all(zab_node *n)
{
    zab_clients *c = &n->clients;
    while (c->head < c->tail) finish_err(n, c->head, ZAB_ECONNECTIONLOSS);
}

void zab_clients_free(zab_clients *c)
{
    for (uint32_t i = c->head; i < c->tail; i++) zab_buf_free(&c->items[i].req);
    free(c->items);
    zab_imap_free(&c->sessions);
    memset(c, 0, sizeof(*c));
}
