/*
 * conn.c - one client connection: frames in, the handshake, requests and
 * session packets, replies in request order, events, and closing as
 * ZooKeeper closes (see conn.h for who touches what).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "net.h"
#include "words.h"

enum {
    READ_CHUNK = 64 * 1024,
    READS_PER_TURN = 4,          /* chunks read before others get a turn */
    KEEP_CAPACITY = 256 * 1024,  /* an empty buffer larger than this is freed */
    ZK_RECONFIG_DISABLED = -123, /* KeeperException.Code.RECONFIGDISABLED */
    PASSWD_LEN = 16
};

#define CONN_SAY(c, level, ...) zabd_say(zabd_net_log((c)->net), level, __VA_ARGS__)

static const uint8_t zeros[PASSWD_LEN];

/* ---- frames ---- */

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reserve a frame's length prefix; frame_close fills it in. */
static int frame_open(zab_buf *b, size_t *mark)
{
    *mark = b->len;
    return zab_buf_append(b, zeros, 4);
}

static void frame_close(zab_buf *b, size_t mark)
{
    uint32_t n = (uint32_t)(b->len - mark - 4);
    uint8_t *p = b->data + mark;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
}

/* A bare ReplyHeader frame. 0 or ZAB_ENOMEM (b unchanged). */
static int put_header_frame(zab_buf *b, int32_t xid, int64_t zxid, int32_t err)
{
    size_t mark;
    if (frame_open(b, &mark) || zab_zk_encode_reply_header(xid, zxid, err, b)) {
        b->len = mark;
        return ZAB_ENOMEM;
    }
    frame_close(b, mark);
    return 0;
}

/* A reply frame: the header and, on success, the record for opcode. */
static int put_reply_frame(zab_buf *b, int32_t xid, int32_t opcode, const zab_reply *r)
{
    size_t mark;
    int rc = frame_open(b, &mark);
    if (!rc) rc = zab_zk_encode_reply_header(xid, r->zxid, r->err, b);
    if (!rc) rc = zab_zk_encode_reply(opcode, r, b);
    if (rc) {
        b->len = mark;
        return rc;
    }
    frame_close(b, mark);
    return 0;
}

static int64_t last_zxid(struct zabd_conn *c)
{
    zab_node_stats st;
    zab_server_stats(zabd_net_server(c->net), &st);
    return st.last_applied;
}

static uint64_t max_output(struct zabd_conn *c)
{
    return zabd_net_config(c->net)->max_output;
}

/* ---- output (under the connection's lock) ---- */

/* Append a whole frame, or give up on a client that does not read. */
static void output_locked(struct zabd_conn *c, zab_buf *to, const void *bytes, size_t len)
{
    if (c->then != ZABD_THEN_GO_ON) return;
    if (c->output.len + c->early.len + len > max_output(c)) {
        CONN_SAY(c, ZABD_WARN, "%s: over %" PRIu64 " bytes of replies waiting unread: dropping the connection",
            c->addr, max_output(c));
        c->then = ZABD_THEN_DROP;
        return;
    }
    if (zab_buf_append(to, bytes, len)) {
        c->then = ZABD_THEN_DROP;
        return;
    }
    c->sent++;
    zabd_net_count_sent(c->net, 1);
}

static void count_answer_locked(struct zabd_conn *c, int64_t latency)
{
    if (latency < 0) latency = 0;
    c->answered++;
    c->latency_sum_ms += latency;
    if (c->answered == 1 || latency < c->latency_min_ms) c->latency_min_ms = latency;
    if (latency > c->latency_max_ms) c->latency_max_ms = latency;
    c->last_latency_ms = latency;
    c->last_reply_wall_ms = zabd_wall_ms();
    zabd_net_count_answered(c->net, latency);
}

static void slot_free(struct zabd_slot *s)
{
    zab_buf_free(&s->frame);
    free(s->sync_path);
    free(s);
}

/* A reply's zxid never goes below one the client was told before: one
 * answered here took the server's zxid when it arrived, and replies to
 * earlier requests may have carried later ones since. */
static void order_zxid_locked(struct zabd_conn *c, struct zabd_slot *s)
{
    if (s->frame.len < 16) return;
    uint8_t *p = s->frame.data + 8; /* after the length and the xid */
    int64_t zxid = (int64_t)((uint64_t)get_be32(p) << 32 | get_be32(p + 4));
    if (s->local && zxid < c->last_zxid) {
        zxid = c->last_zxid;
        for (int i = 0; i < 8; i++) p[i] = (uint8_t)((uint64_t)zxid >> (56 - 8 * i));
    }
    if (zxid > c->last_zxid) c->last_zxid = zxid;
}

/* Move the filled slots at the head to the output, in order. */
static void deliver_locked(struct zabd_conn *c)
{
    int64_t now = zabd_mono_ms();
    struct zabd_slot *s;
    while ((s = c->head) && s->ready) {
        c->head = s->next;
        if (!c->head) c->tail = NULL;
        c->nslots--;
        zabd_net_count_outstanding(c->net, -1);
        if (c->then == ZABD_THEN_GO_ON) {
            if (s->frame.len) {
                order_zxid_locked(c, s);
                output_locked(c, &c->output, s->frame.data, s->frame.len);
                count_answer_locked(c, now - s->arrived_ms);
            }
            if (s->then != ZABD_THEN_GO_ON && c->then == ZABD_THEN_GO_ON) c->then = s->then;
        }
        slot_free(s);
    }
}

/* Output that no request waits for (a ping's or an auth's reply, a
 * four-letter word's text), then what follows it. */
static void send_now(struct zabd_conn *c, const zab_buf *b, int then)
{
    pthread_mutex_lock(&c->lock);
    if (b->len) output_locked(c, &c->output, b->data, b->len);
    if (then != ZABD_THEN_GO_ON && c->then == ZABD_THEN_GO_ON) c->then = then;
    pthread_mutex_unlock(&c->lock);
}

static struct zabd_slot *slot_add(struct zabd_conn *c, int32_t xid, int32_t opcode)
{
    struct zabd_slot *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->conn = c;
    s->xid = xid;
    s->opcode = opcode;
    s->arrived_ms = zabd_mono_ms();
    pthread_mutex_lock(&c->lock);
    if (c->tail) c->tail->next = s;
    else c->head = s;
    c->tail = s;
    c->nslots++;
    pthread_mutex_unlock(&c->lock);
    zabd_net_count_outstanding(c->net, 1);
    return s;
}

/* The slot's outcome is known: its frame (possibly none) and what
 * follows. Any thread; the caller wakes the net thread if it is not it. */
static void slot_fill(struct zabd_slot *s, int then)
{
    struct zabd_conn *c = s->conn;
    pthread_mutex_lock(&c->lock);
    s->ready = 1;
    s->then = then;
    deliver_locked(c);
    pthread_mutex_unlock(&c->lock);
}

/* Answer a slot with a bare header from the net thread. */
static void slot_answer(struct zabd_slot *s, int32_t err, int then)
{
    s->local = 1;
    if (then != ZABD_THEN_DROP && put_header_frame(&s->frame, s->xid, last_zxid(s->conn), err))
        then = ZABD_THEN_DROP;
    slot_fill(s, then);
}

static uint32_t slots_waiting(struct zabd_conn *c)
{
    pthread_mutex_lock(&c->lock);
    uint32_t n = c->nslots;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* ---- the server thread's callbacks ---- */

static void on_event(void *ctx, const zab_event *ev)
{
    struct zabd_conn *c = ctx;
    zab_buf f = { 0 };
    size_t mark;
    int rc = frame_open(&f, &mark);
    if (!rc) rc = zab_zk_encode_event(ev, &f);
    if (!rc) frame_close(&f, mark);
    pthread_mutex_lock(&c->lock);
    if (rc && c->then == ZABD_THEN_GO_ON) c->then = ZABD_THEN_DROP;
    /* Before the handshake reply is out nothing else may be: a resumed
     * session can have watches that fire that early. */
    if (!rc) output_locked(c, c->greeted ? &c->output : &c->early, f.data, f.len);
    pthread_mutex_unlock(&c->lock);
    zab_buf_free(&f);
    zabd_net_wake(c->net, c);
}

/* How ZooKeeper ends a request that failed with err. */
static int after_error(struct zabd_conn *c, int32_t err)
{
    switch (err) {
    case ZAB_ESESSIONMOVED:
        /* The session is served through another server now: ZooKeeper
         * closes the stale connection instead of answering. */
        CONN_SAY(c, ZABD_INFO, "%s: session 0x%" PRIx64 " moved to another server: closing", c->addr,
            (uint64_t)c->session);
        return ZABD_THEN_DROP;
    case ZAB_ECONNECTIONLOSS:
        CONN_SAY(c, ZABD_INFO, "%s: the server lost its leader: closing", c->addr);
        return ZABD_THEN_DROP;
    case ZAB_ESESSIONEXPIRED:
    case ZAB_EUNIMPLEMENTED:
        return ZABD_THEN_CLOSE;
    default:
        if (err < -1000) {
            CONN_SAY(c, ZABD_WARN, "%s: request failed: %s: closing", c->addr, zab_strerror(err));
            return ZABD_THEN_DROP;
        }
        return ZABD_THEN_GO_ON;
    }
}

static void on_reply(void *ctx, const zab_reply *reply)
{
    struct zabd_slot *s = ctx;
    struct zabd_conn *c = s->conn;
    int then = after_error(c, reply->err);
    if (then != ZABD_THEN_DROP) {
        zab_reply r = *reply;
        zab_result sync_result;
        if (s->opcode == ZAB_OP_SYNC && r.err == ZAB_OK) {
            /* The library's sync reply has no path; the client wants its own back. */
            memset(&sync_result, 0, sizeof sync_result);
            sync_result.type = ZAB_OP_SYNC;
            sync_result.path = (zab_str){ s->sync_path, s->sync_len };
            r.results = &sync_result;
            r.nresults = 1;
        }
        int rc = put_reply_frame(&s->frame, s->xid, s->opcode, &r);
        if (rc) {
            CONN_SAY(c, ZABD_WARN, "%s: cannot encode the reply to opcode %d: %s: closing", c->addr,
                (int)s->opcode, zab_strerror(rc));
            then = ZABD_THEN_DROP;
        }
    }
    slot_fill(s, then);
    zabd_net_wake(c->net, c);
}

/* ---- identities ---- */

static int same(zab_str a, const char *b, size_t blen)
{
    return a.len == blen && (blen == 0 || memcmp(a.ptr, b, blen) == 0);
}

static int has_id(struct zabd_conn *c, const char *scheme, const char *id, size_t idlen)
{
    for (uint32_t i = 0; i < c->nids; i++)
        if (same(c->ids[i].scheme, scheme, strlen(scheme)) && same(c->ids[i].id, id, idlen))
            return 1;
    return 0;
}

static char *dup_bytes(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n) memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* Add an identity to whoAmI's list (once, as ZooKeeper keeps a set). */
static int add_id(struct zabd_conn *c, const char *scheme, const char *id, size_t idlen)
{
    if (has_id(c, scheme, id, idlen)) return 0;
    zab_id *grown = realloc(c->ids, (c->nids + 1u) * sizeof *grown);
    if (!grown) return ZAB_ENOMEM;
    c->ids = grown;
    char *s = dup_bytes(scheme, strlen(scheme)), *i = dup_bytes(id, idlen);
    if (!s || !i) {
        free(s);
        free(i);
        return ZAB_ENOMEM;
    }
    c->ids[c->nids++] = (zab_id){ { s, (uint32_t)strlen(scheme) }, { i, (uint32_t)idlen } };
    return 0;
}

/* ---- jobs: the session calls that wait, on the pool ---- */

static void prepare_client(struct zabd_job *job)
{
    struct zabd_conn *c = job->conn;
    /* The remote client keeps its session alive by talking, not we. */
    zab_client_keep_alive(job->client, 0);
    zab_client_touch(job->client);
    job->rc = zab_client_add_auth(job->client, zab_str_c("ip"), zab_str_c(c->ip));
}

static void run_watches(struct zabd_job *job)
{
    const zab_zk_set_watches *sw = &job->sw;
    job->rc = 0;
    for (int kind = 0; kind < ZAB_SETWATCH_KINDS && !job->rc; kind++)
        if (sw->npaths[kind])
            job->rc = zab_client_set_watches(job->conn->client, sw->relative_zxid, kind,
                                             sw->paths[kind], sw->npaths[kind]);
}

static void job_run(struct zabd_task *task)
{
    struct zabd_job *job = (struct zabd_job *)task;
    struct zabd_conn *c = job->conn;
    zab_server *server = zabd_net_server(c->net);
    switch (job->kind) {
    case ZABD_JOB_OPEN:
        job->rc = zab_client_open(server, job->timeout_ms, on_event, c, &job->client);
        if (!job->rc) prepare_client(job);
        break;
    case ZABD_JOB_RESUME:
        job->rc = zab_client_resume(server, job->session, job->passwd, job->last_zxid, on_event,
                                    c, &job->client);
        if (!job->rc) prepare_client(job);
        break;
    case ZABD_JOB_WATCHES:
        run_watches(job);
        break;
    case ZABD_JOB_CLOSE:
        job->rc = zab_client_close(c->client);
        break;
    default:
        zab_client_abandon(c->client);
        job->rc = 0;
        break;
    }
}

static struct zabd_job *job_new(struct zabd_conn *c, int kind)
{
    struct zabd_job *job = calloc(1, sizeof *job);
    if (!job) return NULL;
    job->task.run = job_run;
    job->conn = c;
    job->kind = kind;
    return job;
}

static void job_free(struct zabd_job *job)
{
    zab_buf_free(&job->frame);
    zab_buf_free(&job->scratch);
    free(job);
}

static void job_start(struct zabd_conn *c, struct zabd_job *job)
{
    c->busy = 1;
    zabd_net_run(c->net, &job->task);
}

/* ---- the handshake ---- */

static int take_connect(struct zabd_conn *c, const uint8_t *body, size_t len)
{
    zab_zk_connect req;
    if (zab_zk_decode_connect(body, len, &req)) {
        CONN_SAY(c, ZABD_INFO, "%s: not a ZooKeeper handshake: closing", c->addr);
        return ZABD_CLOSE;
    }
    zab_node_stats st;
    zab_server_stats(zabd_net_server(c->net), &st);
    if (!st.serving) {
        CONN_SAY(c, ZABD_INFO, "%s: not serving (no leader): closing", c->addr);
        return ZABD_CLOSE;
    }
    if (req.last_zxid_seen > st.last_applied) {
        /* Reading here would take the client back in time: it must try
         * another server. */
        CONN_SAY(c, ZABD_INFO, "%s: client has seen zxid 0x%" PRIx64 ", ours is 0x%" PRIx64 ": closing",
            c->addr, (uint64_t)req.last_zxid_seen, (uint64_t)st.last_applied);
        return ZABD_CLOSE;
    }
    struct zabd_job *job = job_new(c, req.session ? ZABD_JOB_RESUME : ZABD_JOB_OPEN);
    if (!job) return ZABD_CLOSE;
    job->has_read_only = req.has_read_only;
    job->timeout_ms = req.timeout;
    if (req.session) {
        job->session = req.session;
        job->last_zxid = req.last_zxid_seen;
        /* Any other length is a wrong password; none is all zeros. */
        if (req.passwd && req.passwd_len == PASSWD_LEN)
            memcpy(job->passwd, req.passwd, PASSWD_LEN);
        c->session = req.session;
        /* As ZooKeeper does, the session's older connection goes first. */
        zabd_net_close_session(c->net, req.session, c);
    }
    job_start(c, job);
    return ZABD_KEEP;
}

static int greet(struct zabd_conn *c, struct zabd_job *job)
{
    zab_client *cl = c->client;
    c->session = zab_client_session(cl);
    c->timeout_ms = zab_client_timeout(cl);
    zab_zk_connect_reply rsp = { .timeout = c->timeout_ms, .session = c->session,
                                 .has_read_only = job->has_read_only };
    zab_client_password(cl, rsp.passwd);
    zab_buf f = { 0 };
    size_t mark;
    int rc = frame_open(&f, &mark);
    if (!rc) rc = zab_zk_encode_connect_reply(&rsp, &f);
    if (!rc) rc = add_id(c, "ip", c->ip, strlen(c->ip));
    if (rc) {
        zab_buf_free(&f);
        return ZABD_CLOSE;
    }
    frame_close(&f, mark);
    pthread_mutex_lock(&c->lock);
    output_locked(c, &c->output, f.data, f.len);
    if (c->early.len && c->then == ZABD_THEN_GO_ON &&
        zab_buf_append(&c->output, c->early.data, c->early.len))
        c->then = ZABD_THEN_DROP;
    zab_buf_free(&c->early);
    c->greeted = 1;
    pthread_mutex_unlock(&c->lock);
    zab_buf_free(&f);
    c->state = ZABD_CONN_READY;
    c->heard_mono_ms = zabd_mono_ms();
    CONN_SAY(c, ZABD_INFO, "%s: session 0x%" PRIx64 " %s, timeout %d ms", c->addr,
        (uint64_t)c->session, job->kind == ZABD_JOB_OPEN ? "opened" : "resumed",
        (int)c->timeout_ms);
    return ZABD_KEEP;
}

/* A refused reconnection is told as ZooKeeper tells it: timeout 0,
 * session 0, a zero password; the client takes that as its session's
 * expiry. */
static int refuse_session(struct zabd_conn *c, struct zabd_job *job)
{
    CONN_SAY(c, ZABD_INFO, "%s: session 0x%" PRIx64 " refused: %s", c->addr, (uint64_t)job->session,
        zab_strerror(job->rc));
    if (job->rc != ZAB_EAUTHFAILED && job->rc != ZAB_ESESSIONEXPIRED) return ZABD_CLOSE;
    zab_zk_connect_reply rsp = { .has_read_only = job->has_read_only };
    zab_buf f = { 0 };
    size_t mark;
    int rc = frame_open(&f, &mark);
    if (!rc) rc = zab_zk_encode_connect_reply(&rsp, &f);
    if (!rc) {
        frame_close(&f, mark);
        pthread_mutex_lock(&c->lock);
        c->greeted = 1;
        pthread_mutex_unlock(&c->lock);
        send_now(c, &f, ZABD_THEN_CLOSE);
    }
    zab_buf_free(&f);
    c->state = ZABD_CONN_CLOSING;
    return rc ? ZABD_CLOSE : ZABD_KEEP;
}

/* ---- requests ---- */

static int answer_ping(struct zabd_conn *c)
{
    zab_buf f = { 0 };
    int rc = put_header_frame(&f, ZAB_XID_PING, last_zxid(c), 0);
    if (!rc) {
        send_now(c, &f, ZABD_THEN_GO_ON);
        pthread_mutex_lock(&c->lock);
        count_answer_locked(c, 0);
        pthread_mutex_unlock(&c->lock);
    }
    zab_buf_free(&f);
    return rc ? ZABD_CLOSE : ZABD_KEEP;
}

/* Add the identity an auth packet proves: 0, or ZAB_EAUTHFAILED. */
static int authenticate(struct zabd_conn *c, const zab_zk_auth *a)
{
    if (same(a->scheme, "ip", 2)) return add_id(c, "ip", c->ip, strlen(c->ip)) ? ZAB_ENOMEM : 0;
    if (!same(a->scheme, "digest", 6)) return ZAB_EAUTHFAILED;
    size_t cap = (size_t)a->auth.len + 64;
    char *id = malloc(cap);
    if (!id) return ZAB_ENOMEM;
    int n = zab_digest_id(a->auth, id, cap);
    int rc = n < 0 ? ZAB_EAUTHFAILED : 0;
    if (!rc) rc = zab_client_add_auth(c->client, zab_str_c("digest"), (zab_str){ id, (uint32_t)n });
    if (!rc) rc = add_id(c, "digest", id, (size_t)n);
    const char *super = zabd_net_config(c->net)->zoo->super_digest;
    /* ZooKeeper lists the super user as one more identity. */
    if (!rc && super && strlen(super) == (size_t)n && !memcmp(super, id, (size_t)n))
        rc = add_id(c, "super", "", 0);
    free(id);
    return rc;
}

static int take_auth(struct zabd_conn *c, const uint8_t *body, size_t len)
{
    zab_zk_auth a;
    if (zab_zk_decode_auth(body, len, &a)) {
        CONN_SAY(c, ZABD_INFO, "%s: an auth packet that does not decode: closing", c->addr);
        return ZABD_CLOSE;
    }
    int rc = authenticate(c, &a);
    if (rc == ZAB_ENOMEM) return ZABD_CLOSE;
    if (rc) {
        CONN_SAY(c, ZABD_WARN, "%s: authentication failed for scheme \"%.*s\": closing", c->addr,
            (int)(a.scheme.len > 64 ? 64 : a.scheme.len), a.scheme.ptr ? a.scheme.ptr : "");
        zabd_net_count_auth_failed(c->net);
    }
    zab_buf f = { 0 };
    if (put_header_frame(&f, ZAB_XID_AUTH, 0, rc ? ZAB_EAUTHFAILED : 0)) return ZABD_CLOSE;
    send_now(c, &f, rc ? ZABD_THEN_CLOSE : ZABD_THEN_GO_ON);
    zab_buf_free(&f);
    if (rc) c->state = ZABD_CONN_CLOSING;
    return ZABD_KEEP;
}

static int take_set_watches(struct zabd_conn *c, int32_t xid, int32_t opcode,
                            const uint8_t *body, size_t len)
{
    struct zabd_slot *s = slot_add(c, xid, opcode);
    struct zabd_job *job = s ? job_new(c, ZABD_JOB_WATCHES) : NULL;
    if (!job || zab_buf_append(&job->frame, body, len)) {
        if (job) job_free(job);
        if (s) slot_answer(s, 0, ZABD_THEN_DROP);
        return ZABD_CLOSE;
    }
    int rc = zab_zk_decode_set_watches(opcode, job->frame.data, len, &job->sw, &job->scratch);
    if (rc) {
        job_free(job);
        if (rc == ZAB_ENOMEM) return ZABD_CLOSE;
        slot_answer(s, ZAB_EMARSHALLING, ZABD_THEN_GO_ON);
        return ZABD_KEEP;
    }
    job->slot = s;
    job_start(c, job);
    return ZABD_KEEP;
}

static int take_close(struct zabd_conn *c, int32_t xid)
{
    struct zabd_slot *s = slot_add(c, xid, ZAB_OP_CLOSE_SESSION);
    struct zabd_job *job = s ? job_new(c, ZABD_JOB_CLOSE) : NULL;
    if (!job) {
        if (s) slot_answer(s, 0, ZABD_THEN_DROP);
        return ZABD_CLOSE;
    }
    job->slot = s;
    c->state = ZABD_CONN_CLOSING; /* nothing after a closeSession is taken */
    job_start(c, job);
    return ZABD_KEEP;
}

static int answer_who_am_i(struct zabd_conn *c, int32_t xid)
{
    struct zabd_slot *s = slot_add(c, xid, ZAB_OP_WHO_AM_I);
    if (!s) return ZABD_CLOSE;
    int64_t zxid = last_zxid(c);
    size_t mark;
    int rc = frame_open(&s->frame, &mark);
    if (!rc) rc = zab_zk_encode_reply_header(xid, zxid, 0, &s->frame);
    if (!rc) rc = zab_zk_encode_who_am_i(c->ids, c->nids, &s->frame);
    if (!rc) frame_close(&s->frame, mark);
    s->local = 1;
    slot_fill(s, rc ? ZABD_THEN_DROP : ZABD_THEN_GO_ON);
    return ZABD_KEEP;
}

/* Every other request goes to the server, answered in order. */
static int take_call(struct zabd_conn *c, int32_t xid, int32_t opcode, const uint8_t *body,
                     size_t len)
{
    struct zabd_slot *s = slot_add(c, xid, opcode);
    if (!s) return ZABD_CLOSE;
    zab_request req;
    int rc = zab_zk_decode_request(opcode, body, len, &req, &c->scratch);
    if (rc == ZAB_EMARSHALLING) {
        slot_answer(s, ZAB_EMARSHALLING, ZABD_THEN_GO_ON);
        return ZABD_KEEP;
    }
    if (rc == ZAB_EUNIMPLEMENTED) {
        /* ZooKeeper answers an opcode it does not know, then closes. */
        CONN_SAY(c, ZABD_INFO, "%s: unknown opcode %d: closing", c->addr, (int)opcode);
        slot_answer(s, ZAB_EUNIMPLEMENTED, ZABD_THEN_CLOSE);
        return ZABD_KEEP;
    }
    if (!rc && opcode == ZAB_OP_SYNC) {
        s->sync_path = dup_bytes(req.ops[0].path.ptr, req.ops[0].path.len);
        s->sync_len = req.ops[0].path.len;
        if (!s->sync_path) rc = ZAB_ENOMEM;
    }
    if (!rc) rc = zab_client_submit(c->client, &req, on_reply, s);
    if (rc == ZAB_EINVAL) {
        slot_answer(s, ZAB_EUNIMPLEMENTED, ZABD_THEN_CLOSE);
        return ZABD_KEEP;
    }
    if (rc) {
        CONN_SAY(c, ZABD_WARN, "%s: request refused: %s: closing", c->addr, zab_strerror(rc));
        slot_answer(s, 0, ZABD_THEN_DROP);
        return ZABD_CLOSE;
    }
    return ZABD_KEEP;
}

static int take_request(struct zabd_conn *c, const uint8_t *frame, size_t len)
{
    int32_t xid, opcode;
    size_t at;
    if (zab_zk_decode_request_header(frame, len, &xid, &opcode, &at)) {
        CONN_SAY(c, ZABD_INFO, "%s: a request without a header: closing", c->addr);
        return ZABD_CLOSE;
    }
    zab_client_touch(c->client);
    if (opcode != ZAB_OP_AUTH) c->last_op = opcode;
    c->last_xid = xid;
    const uint8_t *body = frame + at;
    len -= at;
    switch (opcode) {
    case ZAB_OP_PING: return answer_ping(c);
    case ZAB_OP_AUTH: return take_auth(c, body, len);
    case ZAB_OP_SET_WATCHES:
    case ZAB_OP_SET_WATCHES2: return take_set_watches(c, xid, opcode, body, len);
    case ZAB_OP_CLOSE_SESSION: return take_close(c, xid);
    case ZAB_OP_WHO_AM_I: return answer_who_am_i(c, xid);
    case ZAB_OP_SASL:
        CONN_SAY(c, ZABD_INFO, "%s: SASL is not supported: closing", c->addr);
        return ZABD_CLOSE;
    case ZAB_OP_RECONFIG: {
        struct zabd_slot *s = slot_add(c, xid, opcode);
        if (!s) return ZABD_CLOSE;
        slot_answer(s, ZK_RECONFIG_DISABLED, ZABD_THEN_GO_ON);
        return ZABD_KEEP;
    }
    default: return take_call(c, xid, opcode, body, len);
    }
}

/* ---- input ---- */

static int may_take(struct zabd_conn *c)
{
    return c->fd >= 0 && !c->busy && c->state != ZABD_CONN_CLOSING &&
           slots_waiting(c) < zabd_net_config(c->net)->max_inflight;
}

static int take_word(struct zabd_conn *c, const uint8_t *p)
{
    if (!zabd_words_known(p)) return 0;
    c->in_at += 4;
    c->received++;
    zabd_net_count_received(c->net);
    c->state = ZABD_CONN_CLOSING;
    zab_buf text = { 0 };
    zabd_words_answer(c->net, p, &text);
    /* Raw text, not a frame, then the connection closes. */
    pthread_mutex_lock(&c->lock);
    c->greeted = 1;
    if (text.len) output_locked(c, &c->output, text.data, text.len);
    if (c->then == ZABD_THEN_GO_ON) c->then = ZABD_THEN_CLOSE;
    pthread_mutex_unlock(&c->lock);
    zab_buf_free(&text);
    return 1;
}

static void compact_input(struct zabd_conn *c)
{
    if (c->in_at == c->in.len) {
        c->in.len = c->in_at = 0;
        if (c->in.cap > KEEP_CAPACITY) zab_buf_free(&c->in);
    } else if (c->in_at > c->in.len / 2) {
        memmove(c->in.data, c->in.data + c->in_at, c->in.len - c->in_at);
        c->in.len -= c->in_at;
        c->in_at = 0;
    }
}

/* Take the whole frames waiting, as far as the connection may. */
static int take_input(struct zabd_conn *c)
{
    int rc = ZABD_KEEP;
    uint32_t max_frame = zabd_net_config(c->net)->max_frame;
    while (rc == ZABD_KEEP && may_take(c) && c->in.len - c->in_at >= 4) {
        const uint8_t *p = c->in.data + c->in_at;
        if (c->state == ZABD_CONN_NEW && c->received == 0 && take_word(c, p)) break;
        uint32_t n = get_be32(p);
        if (n > max_frame) {
            /* A negative length reads as a huge one here. */
            CONN_SAY(c, ZABD_INFO, "%s: a frame of %" PRId32 " bytes, over the limit of %" PRIu32 ": closing",
                c->addr, (int32_t)n, max_frame);
            return ZABD_CLOSE;
        }
        if (c->in.len - c->in_at - 4 < n) break;
        c->in_at += 4 + (size_t)n;
        c->received++;
        c->heard_mono_ms = zabd_mono_ms();
        zabd_net_count_received(c->net);
        rc = c->state == ZABD_CONN_NEW ? take_connect(c, p + 4, n) : take_request(c, p + 4, n);
    }
    compact_input(c);
    return rc;
}

static size_t unsent(struct zabd_conn *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->output.len;
    pthread_mutex_unlock(&c->lock);
    return n + (c->sending.len - c->sent_at);
}

static int wants_input(struct zabd_conn *c)
{
    const struct zabd_net_config *cfg = zabd_net_config(c->net);
    return may_take(c) && unsent(c) < cfg->max_output / 2 &&
           c->in.len - c->in_at < (size_t)cfg->max_frame + 4;
}

int zabd_conn_read(struct zabd_conn *c)
{
    for (int i = 0; i < READS_PER_TURN && wants_input(c); i++) {
        if (zab_buf_reserve(&c->in, READ_CHUNK)) return ZABD_CLOSE;
        ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
        if (n == 0) {
            CONN_SAY(c, ZABD_DEBUG, "%s: closed by the client", c->addr);
            return ZABD_CLOSE;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            CONN_SAY(c, ZABD_DEBUG, "%s: read: %s", c->addr, strerror(errno));
            return ZABD_CLOSE;
        }
        c->in.len += (size_t)n;
        int rc = take_input(c);
        if (rc != ZABD_KEEP) return rc;
    }
    return zabd_conn_write(c);
}

/* ---- output ---- */

int zabd_conn_write(struct zabd_conn *c)
{
    for (;;) {
        if (c->sent_at == c->sending.len) {
            c->sending.len = c->sent_at = 0;
            if (c->sending.cap > KEEP_CAPACITY) zab_buf_free(&c->sending);
            pthread_mutex_lock(&c->lock);
            int then = c->then;
            zab_buf t = c->sending;
            c->sending = c->output;
            c->output = t;
            pthread_mutex_unlock(&c->lock);
            if (then == ZABD_THEN_DROP) return ZABD_CLOSE;
            if (c->sending.len == 0) {
                if (then == ZABD_THEN_CLOSE) return ZABD_CLOSE;
                break;
            }
        }
        ssize_t n = send(c->fd, c->sending.data + c->sent_at, c->sending.len - c->sent_at,
                         MSG_NOSIGNAL);
        if (n > 0) {
            c->sent_at += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        CONN_SAY(c, ZABD_DEBUG, "%s: write: %s", c->addr, strerror(errno));
        return ZABD_CLOSE;
    }
    return ZABD_KEEP;
}

int zabd_conn_woken(struct zabd_conn *c)
{
    if (c->fd < 0) return ZABD_KEEP;
    int rc = take_input(c);
    return rc == ZABD_KEEP ? zabd_conn_write(c) : rc;
}

short zabd_conn_events(struct zabd_conn *c)
{
    if (c->fd < 0) return 0;
    short ev = 0;
    if (wants_input(c)) ev |= POLLIN;
    if (unsent(c)) ev |= POLLOUT;
    return ev;
}

int zabd_conn_check_time(struct zabd_conn *c, int64_t now)
{
    if (c->fd < 0 || c->busy) return ZABD_KEEP;
    if (c->state == ZABD_CONN_NEW &&
        now - c->opened_mono_ms > (int64_t)zabd_net_config(c->net)->handshake_ms) {
        CONN_SAY(c, ZABD_INFO, "%s: no handshake in time: closing", c->addr);
        return ZABD_CLOSE;
    }
    if (c->state == ZABD_CONN_READY && c->timeout_ms > 0 &&
        now - c->heard_mono_ms > (int64_t)c->timeout_ms) {
        CONN_SAY(c, ZABD_INFO, "%s: session 0x%" PRIx64 " silent for %d ms: closing", c->addr,
            (uint64_t)c->session, (int)(now - c->heard_mono_ms));
        return ZABD_CLOSE;
    }
    /* Whatever input waited for room (a request limit, unread replies)
     * is taken once there is room. */
    return zabd_conn_woken(c);
}

int zabd_conn_draining(struct zabd_conn *c)
{
    return c->fd >= 0 && (c->busy || slots_waiting(c) || unsent(c));
}

void zabd_conn_stop_reading(struct zabd_conn *c)
{
    c->state = ZABD_CONN_CLOSING;
}

/* ---- life cycle ---- */

struct zabd_conn *zabd_conn_new(struct zabd_net *net, int fd, const char *ip, unsigned port,
                                uint64_t id)
{
    struct zabd_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (pthread_mutex_init(&c->lock, NULL)) {
        free(c);
        return NULL;
    }
    c->net = net;
    c->id = id;
    c->fd = fd;
    snprintf(c->ip, sizeof c->ip, "%s", ip);
    snprintf(c->addr, sizeof c->addr, "/%s:%u", ip, port);
    c->established_ms = zabd_wall_ms();
    c->opened_mono_ms = c->heard_mono_ms = zabd_mono_ms();
    c->last_op = -1;
    c->latency_min_ms = 0;
    return c;
}

void zabd_conn_free(struct zabd_conn *c)
{
    if (!c) return;
    struct zabd_slot *s;
    while ((s = c->head)) {
        c->head = s->next;
        zabd_net_count_outstanding(c->net, -1);
        slot_free(s);
    }
    for (uint32_t i = 0; i < c->nids; i++) {
        free((void *)c->ids[i].scheme.ptr);
        free((void *)c->ids[i].id.ptr);
    }
    free(c->ids);
    zab_buf_free(&c->in);
    zab_buf_free(&c->sending);
    zab_buf_free(&c->scratch);
    zab_buf_free(&c->output);
    zab_buf_free(&c->early);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int zabd_conn_finish(struct zabd_conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
        CONN_SAY(c, ZABD_DEBUG, "%s: connection closed", c->addr);
    }
    pthread_mutex_lock(&c->lock);
    c->then = ZABD_THEN_DROP;
    pthread_mutex_unlock(&c->lock);
    c->state = ZABD_CONN_CLOSING;
    if (c->busy) return ZABD_KEEP;
    if (!c->client) return ZABD_FREE;
    struct zabd_job *job = job_new(c, ZABD_JOB_ABANDON);
    if (!job) {
        /* No memory for the pool's way: wait here instead. */
        zab_client_abandon(c->client);
        c->client = NULL;
        return ZABD_FREE;
    }
    job_start(c, job);
    return ZABD_KEEP;
}

/* A handshake job's end. */
static int handshake_done(struct zabd_conn *c, struct zabd_job *job)
{
    if (job->client) c->client = job->client;
    if (c->fd < 0) return ZABD_CLOSE;
    if (job->rc == 0) return greet(c, job);
    if (c->client) return ZABD_CLOSE; /* open but unusable: abandoned on close */
    return refuse_session(c, job);
}

static int watches_done(struct zabd_conn *c, struct zabd_job *job)
{
    if (job->rc == 0) {
        slot_answer(job->slot, 0, ZABD_THEN_GO_ON);
        return ZABD_KEEP;
    }
    CONN_SAY(c, ZABD_WARN, "%s: setWatches failed: %s: closing", c->addr, zab_strerror(job->rc));
    slot_answer(job->slot, 0, ZABD_THEN_DROP);
    return ZABD_CLOSE;
}

static int close_done(struct zabd_conn *c, struct zabd_job *job)
{
    c->client = NULL; /* zab_client_close freed it */
    if (job->rc == 0) {
        CONN_SAY(c, ZABD_INFO, "%s: session 0x%" PRIx64 " closed", c->addr, (uint64_t)c->session);
        slot_answer(job->slot, 0, ZABD_THEN_CLOSE);
        return ZABD_KEEP;
    }
    CONN_SAY(c, ZABD_INFO, "%s: closing session 0x%" PRIx64 " failed: %s", c->addr,
        (uint64_t)c->session, zab_strerror(job->rc));
    slot_answer(job->slot, 0, ZABD_THEN_DROP);
    return ZABD_CLOSE;
}

int zabd_conn_job_done(struct zabd_job *job)
{
    struct zabd_conn *c = job->conn;
    c->busy = 0;
    int rc;
    switch (job->kind) {
    case ZABD_JOB_OPEN:
    case ZABD_JOB_RESUME: rc = handshake_done(c, job); break;
    case ZABD_JOB_WATCHES: rc = watches_done(c, job); break;
    case ZABD_JOB_CLOSE: rc = close_done(c, job); break;
    default:
        c->client = NULL;
        rc = ZABD_CLOSE;
        break;
    }
    job_free(job);
    if (c->fd < 0) return zabd_conn_finish(c);
    if (rc == ZABD_KEEP) rc = zabd_conn_woken(c);
    return rc;
}

/* ---- four-letter words ---- */

void zabd_conn_describe(struct zabd_conn *c, int full, zab_buf *out)
{
    char line[512];
    pthread_mutex_lock(&c->lock);
    uint32_t queued = c->nslots;
    uint64_t sent = c->sent, answered = c->answered;
    int64_t lmin = c->latency_min_ms, lmax = c->latency_max_ms, lsum = c->latency_sum_ms;
    int64_t llat = c->last_latency_ms, lzxid = c->last_zxid, lresp = c->last_reply_wall_ms;
    pthread_mutex_unlock(&c->lock);
    int n = snprintf(line, sizeof line, " %s[%d](queued=%" PRIu32 ",recved=%" PRIu64 ",sent=%" PRIu64,
                     c->addr, wants_input(c) ? 1 : 0, queued, c->received, sent);
    if (full && c->state == ZABD_CONN_READY && n > 0 && (size_t)n < sizeof line) {
        n += snprintf(line + n, sizeof line - (size_t)n,
                      ",sid=0x%" PRIx64 ",lop=%s,est=%" PRId64 ",to=%d,lcxid=0x%" PRIx32
                      ",lzxid=0x%" PRIx64 ",lresp=%" PRId64 ",llat=%" PRId64 ",minlat=%" PRId64
                      ",avglat=%" PRId64 ",maxlat=%" PRId64,
                      (uint64_t)c->session, zabd_words_op_name(c->last_op), c->established_ms,
                      (int)c->timeout_ms, (uint32_t)c->last_xid, (uint64_t)lzxid, lresp, llat,
                      lmin, answered ? lsum / (int64_t)answered : 0, lmax);
    }
    if (n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, ")\n");
    (void)zab_buf_append(out, line, strlen(line));
}
