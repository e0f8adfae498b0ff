/*
 * session.c - what a connection's frames mean: the handshake that opens
 * or resumes a session, the requests that go to the server, the session
 * packets answered here (ping, auth, setWatches, closeSession, whoAmI),
 * and the session calls that wait, run on the pool.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "frame.h"
#include "log.h"
#include "net.h"
#include "session.h"

enum {
    ZK_RECONFIG_DISABLED = -123, /* KeeperException.Code.RECONFIGDISABLED */
    PASSWD_LEN = 16,
    MAX_IDS = 64                 /* identities one connection may hold */
};

#define SESSION_SAY(c, level, ...) zabd_say(zabd_net_log((c)->net), level, __VA_ARGS__)

/* ---- replies from the server, on its thread ---- */

/* How ZooKeeper ends a request that failed with err. */
static int after_error(struct zabd_conn *c, int32_t err)
{
    switch (err) {
    case ZAB_ESESSIONMOVED:
        /* The session is served through another server now: ZooKeeper
         * closes the stale connection instead of answering. */
        SESSION_SAY(c, ZABD_INFO, "%s: session 0x%" PRIx64 " moved to another server: closing",
                    c->addr, (uint64_t)c->session);
        return ZABD_THEN_DROP;
    case ZAB_ECONNECTIONLOSS:
        SESSION_SAY(c, ZABD_INFO, "%s: the server lost its leader: closing", c->addr);
        return ZABD_THEN_DROP;
    case ZAB_ESESSIONEXPIRED:
    case ZAB_EUNIMPLEMENTED:
        return ZABD_THEN_CLOSE;
    default:
        if (err < -1000) {
            SESSION_SAY(c, ZABD_WARN, "%s: request failed: %s: closing", c->addr,
                        zab_strerror(err));
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
        int rc = zabd_frame_reply(&s->frame, s->xid, s->opcode, &r);
        if (rc) {
            SESSION_SAY(c, ZABD_WARN, "%s: cannot encode the reply to opcode %d: %s: closing",
                        c->addr, (int)s->opcode, zab_strerror(rc));
            then = ZABD_THEN_DROP;
        }
    }
    zabd_conn_slot_fill(s, then);
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

/* Add an identity to whoAmI's list (once, as ZooKeeper keeps a set).
 * 0, ZAB_ETOOBIG past MAX_IDS (every request carries them all), or
 * ZAB_ENOMEM. */
static int add_id(struct zabd_conn *c, const char *scheme, const char *id, size_t idlen)
{
    if (has_id(c, scheme, id, idlen)) return 0;
    if (c->nids >= MAX_IDS) return ZAB_ETOOBIG;
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
        job->rc = zab_client_open(server, job->timeout_ms, zabd_conn_on_event, c, &job->client);
        if (!job->rc) prepare_client(job);
        break;
    case ZABD_JOB_RESUME:
        job->rc = zab_client_resume(server, job->session, job->passwd, job->last_zxid,
                                    zabd_conn_on_event, c, &job->client);
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

int zabd_session_connect(struct zabd_conn *c, const uint8_t *body, size_t len)
{
    zab_zk_connect req;
    if (zab_zk_decode_connect(body, len, &req)) {
        SESSION_SAY(c, ZABD_INFO, "%s: not a ZooKeeper handshake: closing", c->addr);
        return ZABD_CLOSE;
    }
    zab_node_stats st;
    zab_server_stats(zabd_net_server(c->net), &st);
    if (!st.serving) {
        SESSION_SAY(c, ZABD_INFO, "%s: not serving (no leader): closing", c->addr);
        return ZABD_CLOSE;
    }
    if (req.last_zxid_seen > st.last_applied) {
        /* Reading here would take the client back in time: it must try
         * another server. */
        SESSION_SAY(c, ZABD_INFO,
                    "%s: client has seen zxid 0x%" PRIx64 ", ours is 0x%" PRIx64 ": closing",
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
    int rc = zabd_frame_open(&f, &mark);
    if (!rc) rc = zab_zk_encode_connect_reply(&rsp, &f);
    if (!rc) rc = add_id(c, "ip", c->ip, strlen(c->ip));
    if (rc) {
        zab_buf_free(&f);
        return ZABD_CLOSE;
    }
    zabd_frame_close(&f, mark);
    zabd_conn_greet(c, &f, ZABD_THEN_GO_ON);
    zab_buf_free(&f);
    if (c->state == ZABD_CONN_NEW) c->state = ZABD_CONN_READY; /* not when stopping */
    c->heard_mono_ms = zabd_mono_ms();
    SESSION_SAY(c, ZABD_INFO, "%s: session 0x%" PRIx64 " %s, timeout %d ms", c->addr,
        (uint64_t)c->session, job->kind == ZABD_JOB_OPEN ? "opened" : "resumed",
        (int)c->timeout_ms);
    return ZABD_KEEP;
}

/* A refused reconnection is told as ZooKeeper tells it: timeout 0,
 * session 0, a zero password; the client takes that as its session's
 * expiry. */
static int refuse_session(struct zabd_conn *c, struct zabd_job *job)
{
    SESSION_SAY(c, ZABD_INFO, "%s: session 0x%" PRIx64 " refused: %s", c->addr,
                (uint64_t)job->session, zab_strerror(job->rc));
    if (job->rc != ZAB_EAUTHFAILED && job->rc != ZAB_ESESSIONEXPIRED) return ZABD_CLOSE;
    zab_zk_connect_reply rsp = { .has_read_only = job->has_read_only };
    zab_buf f = { 0 };
    size_t mark;
    int rc = zabd_frame_open(&f, &mark);
    if (!rc) rc = zab_zk_encode_connect_reply(&rsp, &f);
    if (!rc) {
        zabd_frame_close(&f, mark);
        zabd_conn_greet(c, &f, ZABD_THEN_CLOSE);
    }
    zab_buf_free(&f);
    c->state = ZABD_CONN_CLOSING;
    return rc ? ZABD_CLOSE : ZABD_KEEP;
}

/* ---- requests ---- */

static int answer_ping(struct zabd_conn *c)
{
    zab_buf f = { 0 };
    int rc = zabd_frame_header(&f, ZAB_XID_PING, zabd_conn_last_zxid(c), 0);
    if (!rc) {
        zabd_conn_send(c, &f, ZABD_THEN_GO_ON);
        zabd_conn_count_ping(c);
    }
    zab_buf_free(&f);
    return rc ? ZABD_CLOSE : ZABD_KEEP;
}

/* Add the identity a digest auth packet proves. */
static int add_digest(struct zabd_conn *c, const char *id, size_t n)
{
    if (has_id(c, "digest", id, n)) return 0;
    int rc = add_id(c, "digest", id, n);
    if (!rc) rc = zab_client_add_auth(c->client, zab_str_c("digest"), (zab_str){ id, (uint32_t)n });
    const char *super = zabd_net_config(c->net)->zoo->super_digest;
    /* ZooKeeper lists the super user as one more identity. */
    if (!rc && super && strlen(super) == n && !memcmp(super, id, n)) rc = add_id(c, "super", "", 0);
    return rc;
}

/* Add the identity an auth packet proves: 0, ZAB_EAUTHFAILED, or
 * ZAB_ENOMEM. */
static int authenticate(struct zabd_conn *c, const zab_zk_auth *a)
{
    int rc;
    if (same(a->scheme, "ip", 2)) {
        rc = add_id(c, "ip", c->ip, strlen(c->ip));
    } else if (same(a->scheme, "digest", 6)) {
        size_t cap = (size_t)a->auth.len + 64;
        char *id = malloc(cap);
        if (!id) return ZAB_ENOMEM;
        int n = zab_digest_id(a->auth, id, cap);
        rc = n < 0 ? ZAB_EAUTHFAILED : add_digest(c, id, (size_t)n);
        free(id);
    } else {
        rc = ZAB_EAUTHFAILED;
    }
    return rc == ZAB_ETOOBIG ? ZAB_EAUTHFAILED : rc;
}

static int take_auth(struct zabd_conn *c, const uint8_t *body, size_t len)
{
    zab_zk_auth a;
    if (zab_zk_decode_auth(body, len, &a)) {
        SESSION_SAY(c, ZABD_INFO, "%s: an auth packet that does not decode: closing", c->addr);
        return ZABD_CLOSE;
    }
    int rc = authenticate(c, &a);
    if (rc == ZAB_ENOMEM) return ZABD_CLOSE;
    if (rc) {
        SESSION_SAY(c, ZABD_WARN, "%s: authentication failed for scheme \"%.*s\": closing", c->addr,
            (int)(a.scheme.len > 64 ? 64 : a.scheme.len), a.scheme.ptr ? a.scheme.ptr : "");
        zabd_net_count_auth_failed(c->net);
    }
    zab_buf f = { 0 };
    if (zabd_frame_header(&f, ZAB_XID_AUTH, 0, rc ? ZAB_EAUTHFAILED : 0)) return ZABD_CLOSE;
    zabd_conn_send(c, &f, rc ? ZABD_THEN_CLOSE : ZABD_THEN_GO_ON);
    zab_buf_free(&f);
    if (rc) c->state = ZABD_CONN_CLOSING;
    return ZABD_KEEP;
}

static int take_set_watches(struct zabd_conn *c, int32_t xid, int32_t opcode,
                            const uint8_t *body, size_t len)
{
    struct zabd_slot *s = zabd_conn_slot_add(c, xid, opcode);
    struct zabd_job *job = s ? job_new(c, ZABD_JOB_WATCHES) : NULL;
    if (!job || zab_buf_append(&job->frame, body, len)) {
        if (job) job_free(job);
        if (s) zabd_conn_slot_answer(s, 0, ZABD_THEN_DROP);
        return ZABD_CLOSE;
    }
    int rc = zab_zk_decode_set_watches(opcode, job->frame.data, len, &job->sw, &job->scratch);
    if (rc) {
        job_free(job);
        if (rc == ZAB_ENOMEM) return ZABD_CLOSE;
        zabd_conn_slot_answer(s, ZAB_EMARSHALLING, ZABD_THEN_GO_ON);
        return ZABD_KEEP;
    }
    job->slot = s;
    job_start(c, job);
    return ZABD_KEEP;
}

static int take_close(struct zabd_conn *c, int32_t xid)
{
    struct zabd_slot *s = zabd_conn_slot_add(c, xid, ZAB_OP_CLOSE_SESSION);
    struct zabd_job *job = s ? job_new(c, ZABD_JOB_CLOSE) : NULL;
    if (!job) {
        if (s) zabd_conn_slot_answer(s, 0, ZABD_THEN_DROP);
        return ZABD_CLOSE;
    }
    job->slot = s;
    c->state = ZABD_CONN_CLOSING; /* nothing after a closeSession is taken */
    job_start(c, job);
    return ZABD_KEEP;
}

static int answer_who_am_i(struct zabd_conn *c, int32_t xid)
{
    struct zabd_slot *s = zabd_conn_slot_add(c, xid, ZAB_OP_WHO_AM_I);
    if (!s) return ZABD_CLOSE;
    int64_t zxid = zabd_conn_last_zxid(c);
    size_t mark;
    int rc = zabd_frame_open(&s->frame, &mark);
    if (!rc) rc = zab_zk_encode_reply_header(xid, zxid, 0, &s->frame);
    if (!rc) rc = zab_zk_encode_who_am_i(c->ids, c->nids, &s->frame);
    if (!rc) zabd_frame_close(&s->frame, mark);
    s->local = 1;
    zabd_conn_slot_fill(s, rc ? ZABD_THEN_DROP : ZABD_THEN_GO_ON);
    return ZABD_KEEP;
}

/* Every other request goes to the server, answered in order. */
static int take_call(struct zabd_conn *c, int32_t xid, int32_t opcode, const uint8_t *body,
                     size_t len)
{
    struct zabd_slot *s = zabd_conn_slot_add(c, xid, opcode);
    if (!s) return ZABD_CLOSE;
    zab_request req;
    int rc = zab_zk_decode_request(opcode, body, len, &req, &c->scratch);
    if (rc == ZAB_EMARSHALLING) {
        zabd_conn_slot_answer(s, ZAB_EMARSHALLING, ZABD_THEN_GO_ON);
        return ZABD_KEEP;
    }
    if (rc == ZAB_EUNIMPLEMENTED) {
        /* ZooKeeper answers an opcode it does not know, then closes. */
        SESSION_SAY(c, ZABD_INFO, "%s: unknown opcode %d: closing", c->addr, (int)opcode);
        zabd_conn_slot_answer(s, ZAB_EUNIMPLEMENTED, ZABD_THEN_CLOSE);
        return ZABD_KEEP;
    }
    if (!rc && opcode == ZAB_OP_SYNC) {
        s->sync_path = dup_bytes(req.ops[0].path.ptr, req.ops[0].path.len);
        s->sync_len = req.ops[0].path.len;
        if (!s->sync_path) rc = ZAB_ENOMEM;
    }
    if (!rc) rc = zab_client_submit(c->client, &req, on_reply, s);
    if (rc == ZAB_EINVAL) {
        zabd_conn_slot_answer(s, ZAB_EUNIMPLEMENTED, ZABD_THEN_CLOSE);
        return ZABD_KEEP;
    }
    if (rc) {
        SESSION_SAY(c, ZABD_WARN, "%s: request refused: %s: closing", c->addr, zab_strerror(rc));
        zabd_conn_slot_answer(s, 0, ZABD_THEN_DROP);
        return ZABD_CLOSE;
    }
    return ZABD_KEEP;
}

int zabd_session_request(struct zabd_conn *c, const uint8_t *frame, size_t len)
{
    int32_t xid, opcode;
    size_t at;
    if (zab_zk_decode_request_header(frame, len, &xid, &opcode, &at)) {
        SESSION_SAY(c, ZABD_INFO, "%s: a request without a header: closing", c->addr);
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
        SESSION_SAY(c, ZABD_INFO, "%s: SASL is not supported: closing", c->addr);
        return ZABD_CLOSE;
    case ZAB_OP_RECONFIG: {
        struct zabd_slot *s = zabd_conn_slot_add(c, xid, opcode);
        if (!s) return ZABD_CLOSE;
        zabd_conn_slot_answer(s, ZK_RECONFIG_DISABLED, ZABD_THEN_GO_ON);
        return ZABD_KEEP;
    }
    default: return take_call(c, xid, opcode, body, len);
    }
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
        zabd_conn_slot_answer(job->slot, 0, ZABD_THEN_GO_ON);
        return ZABD_KEEP;
    }
    SESSION_SAY(c, ZABD_WARN, "%s: setWatches failed: %s: closing", c->addr, zab_strerror(job->rc));
    zabd_conn_slot_answer(job->slot, 0, ZABD_THEN_DROP);
    return ZABD_CLOSE;
}

static int close_done(struct zabd_conn *c, struct zabd_job *job)
{
    c->client = NULL; /* zab_client_close freed it */
    if (job->rc == 0) {
        SESSION_SAY(c, ZABD_INFO, "%s: session 0x%" PRIx64 " closed", c->addr,
                    (uint64_t)c->session);
        zabd_conn_slot_answer(job->slot, 0, ZABD_THEN_CLOSE);
        return ZABD_KEEP;
    }
    SESSION_SAY(c, ZABD_INFO, "%s: closing session 0x%" PRIx64 " failed: %s", c->addr,
        (uint64_t)c->session, zab_strerror(job->rc));
    zabd_conn_slot_answer(job->slot, 0, ZABD_THEN_DROP);
    return ZABD_CLOSE;
}

int zabd_session_job_done(struct zabd_job *job)
{
    struct zabd_conn *c = job->conn;
    int rc;
    switch (job->kind) {
    case ZABD_JOB_OPEN:
    case ZABD_JOB_RESUME: rc = handshake_done(c, job); break;
    case ZABD_JOB_WATCHES: rc = watches_done(c, job); break;
    case ZABD_JOB_CLOSE: rc = close_done(c, job); break;
    default:
        c->client = NULL; /* abandoned */
        rc = ZABD_CLOSE;
        break;
    }
    job_free(job);
    return rc;
}

int zabd_session_abandon(struct zabd_conn *c)
{
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
