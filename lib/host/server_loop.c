/*
 * server_loop.c - the server's thread: its loop, the callbacks of the
 * node, the transport and the storage, the inbox of client work and the
 * snapshots.
 *
 * The thread's loop waits in zab_tcp_poll until the node's next deadline,
 * the next session keep-alive, peer traffic, the storage's sync descriptor
 * or a client's wake; then it ticks the node, submits what clients queued,
 * keeps their sessions alive, takes a snapshot when enough transactions
 * have been applied, and publishes the node's statistics. Every call into
 * the node, the storage and the transport is made on that thread.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg.h"
#include "host/host.h"

enum {
    MAX_WAIT_MS = 1000,      /* the loop looks around at least this often */
    THROTTLED_WAIT_MS = 5    /* retry a refused submission this soon */
};

#define FORMAT(a, b) __attribute__((format(printf, a, b)))

/* ---- the log ---- */

FORMAT(3, 4) static void say(zab_server *s, int level, const char *fmt, ...)
{
    /* The log is written from the server's thread only: what happens while
     * zab_server_start runs on the caller's is summed up when it starts. */
    if (!s->log || !s->running) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->log(s->log_ctx, level, line);
}

/* ---- queues and calls under way ---- */

static void queue_push(zab_host_queue *q, zab_host_call *c)
{
    c->next = NULL;
    if (q->tail) q->tail->next = c;
    else q->head = c;
    q->tail = c;
}

static void queue_push_front(zab_host_queue *q, zab_host_call *c)
{
    c->next = q->head;
    q->head = c;
    if (!q->tail) q->tail = c;
}

static zab_host_call *queue_pop(zab_host_queue *q)
{
    zab_host_call *c = q->head;
    if (!c) return NULL;
    q->head = c->next;
    if (!q->head) q->tail = NULL;
    c->next = NULL;
    return c;
}

/* Move every item of from to the end of to. */
static void queue_splice(zab_host_queue *to, zab_host_queue *from)
{
    if (!from->head) return;
    if (to->tail) to->tail->next = from->head;
    else to->head = from->head;
    to->tail = from->tail;
    from->head = from->tail = NULL;
}

static int track(zab_server *s, zab_host_call *c)
{
    if (zab_imap_set(&s->pending, (int64_t)c->cookie, (uint64_t)(uintptr_t)c)) return ZAB_ENOMEM;
    c->prev = s->last;
    c->next = NULL;
    if (s->last) s->last->next = c;
    else s->first = c;
    s->last = c;
    return 0;
}

static void untrack(zab_server *s, zab_host_call *c)
{
    (void)zab_imap_set(&s->pending, (int64_t)c->cookie, 0); /* removal never allocates */
    if (c->prev) c->prev->next = c->next;
    else s->first = c->next;
    if (c->next) c->next->prev = c->prev;
    else s->last = c->prev;
    c->prev = c->next = NULL;
}

/* The item's end: an open's session is kept alive from now on, or
 * forgotten; then the waiter hears of it. */
static void finish(zab_server *s, zab_host_call *c, const zab_reply *reply)
{
    if (c->kind == ZAB_HOST_OPEN || c->kind == ZAB_HOST_RESUME) {
        zab_client *cl = c->client;
        int32_t timeout;
        if (reply->err == ZAB_OK) {
            cl->live = 1;
            if (c->kind == ZAB_HOST_RESUME &&
                zab_tree_session(zab_node_tree(s->node), cl->session, &timeout, NULL) == ZAB_OK) {
                pthread_mutex_lock(&s->lock);
                cl->timeout_ms = timeout;
                pthread_mutex_unlock(&s->lock);
            }
        } else if ((const zab_client *)(uintptr_t)zab_imap_get(&s->sessions, cl->session) == cl) {
            (void)zab_imap_set(&s->sessions, cl->session, 0);
        }
    }
    c->done(c->ctx, reply);
    free(c);
}

static void refuse(zab_server *s, zab_host_call *c, int code)
{
    zab_reply reply = { .err = code, .zxid = s->stats.last_applied };
    finish(s, c, &reply);
}

/* ---- failure ---- */

/* Record the first error that stops the server; the loop ends after the
 * turn. */
static void fail(zab_server *s, int code, const char *what)
{
    if (s->failure || code >= 0) return;
    s->failure = code;
    char why[256] = "";
    if (s->storage && zab_storage_status(s->storage))
        zab_storage_error(s->storage, why, sizeof why);
    say(s, 0, "server %lld stopped: %s: %s%s%s", (long long)s->sid, what, zab_strerror(code),
        why[0] ? ": " : "", why);
}

/* A node call's outcome: negative once the node has stopped for good. */
static void node_check(zab_server *s, int rc, const char *what)
{
    if (rc < 0) fail(s, rc, what);
}

/* ---- the node's callbacks ---- */

static void io_send(void *ctx, int64_t to, const void *bytes, size_t len)
{
    zab_server *s = ctx;
    s->in_transport = 1;
    zab_tcp_send(s->tcp, to, bytes, len);
    s->in_transport = 0;
}

static void io_disconnect(void *ctx, int64_t to)
{
    zab_server *s = ctx;
    s->in_transport = 1;
    zab_tcp_disconnect(s->tcp, to);
    s->in_transport = 0;
}

static int io_log_append(void *ctx, const zab_entry *entries, size_t n)
{
    return zab_storage_append(((zab_server *)ctx)->storage, entries, n);
}

static int io_log_truncate(void *ctx, int64_t zxid)
{
    return zab_storage_truncate(((zab_server *)ctx)->storage, zxid);
}

static int io_save_epochs(void *ctx, int64_t accepted, int64_t current)
{
    return zab_storage_save_epochs(((zab_server *)ctx)->storage, accepted, current);
}

static int io_save_snapshot(void *ctx, const zab_tree *tree)
{
    zab_server *s = ctx;
    s->applied = 0;
    return zab_storage_save_snapshot(s->storage, tree);
}

static void io_on_result(void *ctx, uint64_t cookie, const zab_reply *reply)
{
    zab_server *s = ctx;
    zab_host_call *c = (zab_host_call *)(uintptr_t)zab_imap_get(&s->pending, (int64_t)cookie);
    if (!c) return; /* its client went away */
    untrack(s, c);
    finish(s, c, reply);
}

static const char *role_name(int role)
{
    switch (role) {
    case ZAB_LEADING: return "leading";
    case ZAB_FOLLOWING: return "following";
    case ZAB_OBSERVING: return "observing";
    default: return "looking";
    }
}

static void io_on_role(void *ctx, int role, int64_t leader, int64_t epoch)
{
    zab_server *s = ctx;
    if (role == ZAB_LOOKING)
        say(s, 2, "server %lld: looking for a leader", (long long)s->sid);
    else
        say(s, 2, "server %lld: %s, leader %lld, epoch %lld", (long long)s->sid, role_name(role),
            (long long)leader, (long long)epoch);
}

/* Snapshots are taken every snap_count transactions give or take half, as
 * ZooKeeper randomizes snapCount, so that servers do not all stall at the
 * same moment. The snapshot itself is taken between node calls. */
void zab_host_next_snapshot_point(zab_server *s)
{
    uint64_t half = s->snap_count / 2, r = 0;
    (void)zab_host_random(&r, sizeof r);
    s->applied = 0;
    s->snap_at = half + (half ? r % (half + 1) : 0);
    if (!s->snap_at) s->snap_at = 1;
    s->snap_due = 0;
}

static void io_on_apply(void *ctx, int64_t zxid)
{
    zab_server *s = ctx;
    (void)zxid;
    if (++s->applied >= s->snap_at) s->snap_due = 1;
}

static void on_watch(void *ctx, int64_t watcher, const zab_event *ev)
{
    zab_server *s = ctx;
    zab_client *c = (zab_client *)(uintptr_t)zab_imap_get(&s->sessions, watcher);
    if (c && c->watch) c->watch(c->watch_ctx, ev);
}

/* ---- the transport's callbacks (only from inside zab_tcp_poll) ---- */

static void tcp_on_message(void *ctx, int64_t from, const void *bytes, size_t len)
{
    zab_server *s = ctx;
    assert(!s->in_transport);
    node_check(s, zab_node_recv(s->node, from, bytes, len), "receiving");
}

static void tcp_on_up(void *ctx, int64_t sid)
{
    zab_server *s = ctx;
    assert(!s->in_transport);
    say(s, 3, "server %lld: channel to %lld up", (long long)s->sid, (long long)sid);
    node_check(s, zab_node_peer_up(s->node, sid), "a peer up");
}

static void tcp_on_down(void *ctx, int64_t sid)
{
    zab_server *s = ctx;
    assert(!s->in_transport);
    say(s, 3, "server %lld: channel to %lld down", (long long)s->sid, (long long)sid);
    node_check(s, zab_node_peer_down(s->node, sid), "a peer down");
}

void zab_host_storage_synced(void *ctx)
{
    zab_server *s = ctx;
    node_check(s, zab_node_log_synced(s->node, zab_storage_synced(s->storage)), "log synced");
    int rc = zab_storage_status(s->storage);
    if (rc) fail(s, rc, "storage");
}

/* ---- wiring, for start ---- */

void zab_host_wire_node(zab_server *s, zab_io *io, zab_tree_config *tree)
{
    *io = (zab_io){ .ctx = s, .send = io_send, .disconnect = io_disconnect,
                    .log_append = io_log_append, .log_truncate = io_log_truncate,
                    .save_epochs = io_save_epochs, .save_snapshot = io_save_snapshot,
                    .on_result = io_on_result, .on_role = io_on_role, .on_apply = io_on_apply };
    tree->on_watch = on_watch;
    tree->watch_ctx = s;
}

void zab_host_wire_tcp(zab_server *s, zab_tcp_config *tc)
{
    tc->ctx = s;
    tc->on_message = tcp_on_message;
    tc->on_up = tcp_on_up;
    tc->on_down = tcp_on_down;
}

/* ---- serving the clients' items ---- */

/* Submit req for item c. Returns 1 when the node asks to retry later
 * (throttled), with c untouched; otherwise c is under way or ended. */
static int submit(zab_server *s, zab_host_call *c, const zab_request *req)
{
    c->cookie = s->next_cookie++;
    if (track(s, c)) {
        refuse(s, c, ZAB_ENOMEM);
        return 0;
    }
    if (c->client->live) node_check(s, zab_node_touch(s->node, req->session), "touch");
    int rc = zab_node_submit(s->node, req, c->cookie);
    if (rc == 0) return 0; /* c may have ended already: a read is answered at once */
    untrack(s, c);
    if (rc == ZAB_ETHROTTLED) return 1;
    zab_node_stats st;
    zab_node_stats_get(s->node, &st);
    if (st.stopped) {
        fail(s, rc, "submitting");
        rc = ZAB_ECONNECTIONLOSS;
    }
    refuse(s, c, rc);
    return 0;
}

/* Route the session's events to this client from now on (a client that
 * resumes a session here takes it over from an older one). */
static int attach(zab_server *s, zab_client *cl)
{
    return zab_imap_set(&s->sessions, cl->session, (uint64_t)(uintptr_t)cl);
}

static int serve_open(zab_server *s, zab_host_call *c)
{
    zab_client *cl = c->client;
    if (attach(s, cl)) {
        refuse(s, c, ZAB_ENOMEM);
        return 0;
    }
    int32_t timeout = zab_node_session_timeout(s->node, cl->requested_ms);
    pthread_mutex_lock(&s->lock);
    cl->timeout_ms = timeout;
    pthread_mutex_unlock(&s->lock);
    zab_op op = { .type = ZAB_OP_CREATE_SESSION, .data = cl->passwd, .data_len = ZAB_HOST_PASSWD,
                  .timeout = timeout, .version = -1, .ttl = -1 };
    zab_request req = { .type = op.type, .session = cl->session, .ops = &op, .nops = 1 };
    return submit(s, c, &req);
}

static int serve_resume(zab_server *s, zab_host_call *c)
{
    zab_client *cl = c->client;
    if (attach(s, cl)) {
        refuse(s, c, ZAB_ENOMEM);
        return 0;
    }
    int64_t last_seen;
    memcpy(&last_seen, c->bytes, sizeof last_seen);
    c->cookie = s->next_cookie++;
    if (track(s, c)) {
        refuse(s, c, ZAB_ENOMEM);
        return 0;
    }
    int rc = zab_node_revalidate(s->node, cl->session, cl->passwd, last_seen, c->cookie);
    if (rc == 0) return 0; /* on the leader it may have ended already */
    untrack(s, c);
    refuse(s, c, rc);
    return 0;
}

static void serve_watches(zab_server *s, zab_host_call *c)
{
    zab_host_watches w;
    int rc = zab_host_decode_watches(c->bytes, c->len, &w, &s->scratch);
    if (!rc)
        rc = zab_tree_set_watches(zab_node_tree(s->node), c->client->session, w.auth, w.nauth,
                                  w.relative_zxid, w.kind, w.paths, w.npaths);
    refuse(s, c, rc);
}

static int serve_call(zab_server *s, zab_host_call *c)
{
    zab_request req;
    int rc = zab_msg_request_decode(c->bytes, c->len, &req, &s->scratch);
    if (rc) {
        refuse(s, c, rc == ZAB_ENOMEM ? rc : ZAB_EMARSHALLING);
        return 0;
    }
    req.session = c->client->session;
    return submit(s, c, &req);
}

/* The client goes: its calls under way end with a connection loss, its
 * watches and its events stop. */
static void serve_detach(zab_server *s, zab_host_call *c)
{
    zab_client *cl = c->client;
    cl->live = 0;
    /* The session may have been taken over by a client that resumed it
     * here: then its routing and its watches are that client's. */
    if ((const zab_client *)(uintptr_t)zab_imap_get(&s->sessions, cl->session) == cl) {
        (void)zab_imap_set(&s->sessions, cl->session, 0);
        if (s->node) zab_tree_drop_watcher(zab_node_tree(s->node), cl->session);
    }
    for (zab_host_call *u = s->first, *next; u; u = next) {
        next = u->next;
        if (u->client != cl) continue;
        untrack(s, u);
        refuse(s, u, ZAB_ECONNECTIONLOSS);
    }
    refuse(s, c, ZAB_OK);
}

/* Submit what clients queued, in order, until the node throttles. */
static void drain(zab_server *s)
{
    pthread_mutex_lock(&s->lock);
    queue_splice(&s->backlog, &s->inbox);
    pthread_mutex_unlock(&s->lock);
    zab_host_call *c;
    while (!s->failure && (c = queue_pop(&s->backlog))) {
        int again = 0;
        if (c->kind == ZAB_HOST_OPEN) again = serve_open(s, c);
        else if (c->kind == ZAB_HOST_CALL) again = serve_call(s, c);
        else if (c->kind == ZAB_HOST_RESUME) again = serve_resume(s, c);
        else if (c->kind == ZAB_HOST_WATCHES) serve_watches(s, c);
        else serve_detach(s, c);
        if (again) {
            queue_push_front(&s->backlog, c);
            return;
        }
    }
}

static void touch_sessions(zab_server *s)
{
    const zab_imap *m = &s->sessions;
    for (uint32_t i = 0; m->slots && i <= m->mask && !s->failure; i++) {
        zab_client *c = (zab_client *)(uintptr_t)m->slots[i].value;
        if (!c || !c->live) continue;
        /* Kept alive by the server, or by the host that relays it. */
        int touched = __atomic_exchange_n(&c->touched, 0, __ATOMIC_RELAXED);
        if (touched || __atomic_load_n(&c->keep_alive, __ATOMIC_RELAXED))
            node_check(s, zab_node_touch(s->node, c->session), "touch");
    }
}

static void take_snapshot(zab_server *s)
{
    int rc = zab_storage_snapshot(s->storage, zab_node_tree(s->node));
    if (rc == ZAB_ENOMEM) say(s, 1, "server %lld: no memory for a snapshot", (long long)s->sid);
    else if (rc) fail(s, rc, "snapshot");
    zab_host_next_snapshot_point(s);
}

static void publish(zab_server *s)
{
    zab_node_stats st;
    zab_tree_stats ts;
    zab_node_stats_get(s->node, &st);
    zab_tree_stats_get(zab_node_tree(s->node), &ts); /* counters only: cheap */
    pthread_mutex_lock(&s->lock);
    int changed = st.serving != s->stats.serving;
    s->stats = st;
    s->tree_stats = ts;
    if (changed) pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* ---- the loop ---- */

static int wait_ms(zab_server *s, int64_t now)
{
    int64_t due = zab_node_next_deadline(s->node);
    if (s->next_touch < due) due = s->next_touch;
    int64_t wait = due - now;
    int64_t cap = s->backlog.head ? THROTTLED_WAIT_MS : MAX_WAIT_MS;
    if (wait > cap) wait = cap;
    return wait < 0 ? 0 : (int)wait;
}

static void turn(zab_server *s)
{
    int rc = zab_tcp_poll(s->tcp, wait_ms(s, zab_host_node_now(s)));
    if (rc) fail(s, rc, "polling");
    int64_t now = zab_host_node_now(s);
    if (!s->failure) node_check(s, zab_node_tick(s->node, now), "tick");
    if (!s->failure) drain(s);
    if (!s->failure && now >= s->next_touch) {
        touch_sessions(s);
        s->next_touch = now + (s->tick_ms / 3 ? s->tick_ms / 3 : 1);
    }
    if (!s->failure && s->snap_due) take_snapshot(s);
    publish(s);
}

/* Every item still waiting or under way ends with a connection loss, in
 * the order it was submitted; the transport closes, so that followers of a
 * leader see it gone at once. */
static void wind_down(zab_server *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopped = 1;
    s->error = s->failure;
    s->stats.serving = 0;
    queue_splice(&s->backlog, &s->inbox);
    pthread_mutex_unlock(&s->lock);

    while (s->first) {
        zab_host_call *c = s->first;
        untrack(s, c);
        refuse(s, c, ZAB_ECONNECTIONLOSS);
    }
    zab_host_call *c;
    while ((c = queue_pop(&s->backlog))) {
        if (c->kind == ZAB_HOST_DETACH) serve_detach(s, c);
        else refuse(s, c, ZAB_ECONNECTIONLOSS);
    }

    pthread_mutex_lock(&s->lock);
    zab_tcp *tcp = s->tcp;
    s->tcp = NULL;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    zab_tcp_close(tcp);
}

void *zab_host_run(void *arg)
{
    zab_server *s = arg;
    s->running = 1;
    if (s->start_note[0])
        say(s, 1, "server %lld: storage recovery: %s", (long long)s->sid, s->start_note);
    say(s, 2, "server %lld: started, peer port %u, tick %u ms", (long long)s->sid,
        (unsigned)s->port, (unsigned)s->tick_ms);
    zab_node_stats st;
    zab_node_stats_get(s->node, &st);
    io_on_role(s, st.role, st.leader, st.current_epoch);
    for (;;) {
        pthread_mutex_lock(&s->lock);
        int stop = s->stop_requested;
        pthread_mutex_unlock(&s->lock);
        if (stop || s->failure) break;
        turn(s);
    }
    say(s, 2, "server %lld: stopping", (long long)s->sid);
    wind_down(s);
    return NULL;
}

/* ---- the inbox ---- */

int zab_host_post(zab_server *s, zab_host_call *c)
{
    pthread_mutex_lock(&s->lock);
    if (s->stop_requested || s->stopped) {
        pthread_mutex_unlock(&s->lock);
        return ZAB_EFAILED;
    }
    /* The loop takes the whole inbox after every wake, so one wake per
     * batch suffices. */
    int was_empty = s->inbox.head == NULL;
    queue_push(&s->inbox, c);
    if (was_empty && s->tcp) zab_tcp_wake(s->tcp);
    pthread_mutex_unlock(&s->lock);
    return 0;
}
