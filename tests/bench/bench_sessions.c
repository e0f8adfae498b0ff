/*
 * bench_sessions.c - sessions and follower reads in a 3-node ensemble:
 * createSession transactions committed per second (submitted at the leader,
 * then at a follower), and getData reads a follower serves per second from
 * its own tree, alone and while a stream of setData writes flows through
 * the leader.
 *
 * The host is bench_core's: every node in this one process, on one thread,
 * one FIFO of messages (every channel's order kept) delivered as fast as the
 * nodes take them, no disk (log_append records the highest zxid; after each
 * pass over the queue every node is told that all it appended is durable:
 * one group commit per pass). Virtual time stands still while work is in
 * flight, so no session expires during a measurement.
 *
 * Sessions: WINDOW createSession requests (each a new id, a 16-byte
 * password, a 10 s timeout as the node negotiates it) are kept in flight at
 * the submitting node, refilled after every call into it that finished
 * some. A follower forwards each to the leader and reports it once it has
 * applied the commit, so its figure includes the extra hop.
 *
 * Reads: READ_SESSIONS sessions are first created through the follower (a
 * reply there means the follower applied it). The reads then rotate over
 * those sessions and KEYS znodes; none of the sessions has anything in
 * flight, so each read is answered inside zab_node_submit (checked), and
 * every reply is checked: no error, and the data one of the values written.
 * Reads and the ensemble share the one core: READ_BATCH reads, then one
 * pass of message delivery, and so on; the rates are over the wall time of
 * the whole loop. The batch decides how the core is shared (it is sized so
 * that reading and the ensemble each get about half), so the share of the
 * loop spent reading is printed too: reads per second of reading, against
 * the idle figure, shows whether writes slow the reads themselves. The
 * writer is the system session at the leader, keeping WINDOW setData
 * requests in flight over the same KEYS znodes.
 *
 * Each figure is the median of RUNS runs, each on a fresh ensemble, timed
 * with CLOCK_MONOTONIC after a warm-up. After each run every replica must
 * hold the same tree, every transaction submitted and every session.
 *
 * Output: "bench: <name> <value> <unit>" lines; comments start with '#'.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zab.h"

enum {
    NODES = 3,
    RUNS = 3,
    WINDOW = 1000,          /* the node's default max_outstanding */
    KEYS = 8,               /* znodes read and written */
    PAYLOAD = 100,
    VALUES = 16,            /* distinct values the writes cycle through */
    READ_SESSIONS = 1000,
    READ_BATCH = 8192,      /* reads between two passes over the queue */
    PASSWORD_LEN = 16,
    SESSION_TIMEOUT_MS = 10000
};

static const double WARMUP_S = 0.2;
static const double MEASURE_S = 0.5;
static const uint64_t SEED = 0x5eedf00dULL;

/* A cookie's top byte says what it answers; the rest counts. */
enum { KIND_SHIFT = 56 };
enum { KIND_SETUP = 1, KIND_SESSION, KIND_WRITE, KIND_READ };

/* ---- small helpers ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_sessions: %s: %s (%d)\n", what, zab_strerror(rc), rc);
    exit(1);
}

static void *xcalloc(size_t n, size_t len)
{
    void *p = calloc(n, len);
    if (!p) die("calloc", ZAB_ENOMEM);
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

static uint64_t cookie_of(int kind, uint64_t count)
{
    return (uint64_t)kind << KIND_SHIFT | count;
}

/* Session n (from 1); ids carry no meaning beyond being unique and non-zero. */
static int64_t session_id(uint64_t n)
{
    return ((int64_t)1 << 40) + (int64_t)n;
}

/* ---- the message queue ---- */

/* Messages are laid end to end: a header, then the bytes padded to 8. Two
 * queues take turns: one is delivered while the nodes' replies fill the
 * other, which keeps every channel in order and lets a buffer be reused
 * without ever moving under a message being delivered. */
typedef struct msg_head {
    uint32_t from, to;      /* node indexes */
    uint32_t len;
    uint32_t pad;
} msg_head;

typedef struct msg_queue {
    uint8_t *data;
    size_t len, cap;
} msg_queue;

static size_t padded(size_t len)
{
    return (len + 7) & ~(size_t)7;
}

/* ---- the ensemble and its host ---- */

typedef struct cluster cluster;

typedef struct host {
    cluster *c;
    uint32_t idx;
    int role;
    int64_t appended, synced;
} host;

/* Requests of one kind kept WINDOW deep in flight at one node. */
typedef struct flow {
    int on;
    uint32_t at;            /* node index */
    uint64_t limit;         /* requests to submit in all; 0: no end */
    uint64_t submitted, done, throttled;
} flow;

struct cluster {
    zab_node *nodes[NODES];
    host hosts[NODES];
    zab_member members[NODES];
    msg_queue q[2];
    int fill;               /* the queue that sends go to */
    int64_t now;            /* virtual ms */
    int broken;             /* a node closed a channel or a request failed */
    int leader;             /* index, -1 while none */

    char paths[KEYS][16];
    uint8_t values[VALUES][PAYLOAD];
    zab_op read_ops[KEYS];
    uint8_t passwd[PASSWORD_LEN];

    uint64_t setup_submitted, setup_done;
    flow sessions, writes;
    uint64_t reads_done;
};

static void queue_push(cluster *c, uint32_t from, uint32_t to, const void *bytes, size_t len)
{
    msg_queue *q = &c->q[c->fill];
    size_t need = sizeof(msg_head) + padded(len);
    if (len > UINT32_MAX) die("message too long", ZAB_ETOOBIG);
    if (q->cap - q->len < need) {
        size_t cap = q->cap ? q->cap : 1 << 16;
        while (cap - q->len < need) cap *= 2;
        uint8_t *data = realloc(q->data, cap);
        if (!data) die("queue", ZAB_ENOMEM);
        q->data = data;
        q->cap = cap;
    }
    msg_head h = { from, to, (uint32_t)len, 0 };
    memcpy(q->data + q->len, &h, sizeof(h));
    memcpy(q->data + q->len + sizeof(h), bytes, len);
    q->len += need;
}

static void io_send(void *ctx, int64_t to, const void *bytes, size_t len)
{
    host *h = ctx;
    if (to < 1 || to > NODES) die("send to an unknown sid", ZAB_EINVAL);
    queue_push(h->c, h->idx, (uint32_t)(to - 1), bytes, len);
}

static void io_disconnect(void *ctx, int64_t to)
{
    host *h = ctx;
    fprintf(stderr, "bench_sessions: node %u closed its channel to %lld\n", h->idx + 1,
            (long long)to);
    h->c->broken = 1;
}

static int io_log_append(void *ctx, const zab_entry *entries, size_t n)
{
    host *h = ctx;
    if (n) h->appended = entries[n - 1].zxid;
    return 0;
}

static int io_log_truncate(void *ctx, int64_t zxid)
{
    host *h = ctx;
    if (h->appended > zxid) h->appended = zxid;
    if (h->synced > zxid) h->synced = zxid;
    return 0;
}

static int io_save_epochs(void *ctx, int64_t accepted, int64_t current)
{
    (void)ctx, (void)accepted, (void)current;
    return 0;
}

static int io_save_snapshot(void *ctx, const zab_tree *tree)
{
    (void)ctx, (void)tree;
    return 0;
}

static void request_failed(cluster *c, const char *what, uint64_t cookie, int err)
{
    fprintf(stderr, "bench_sessions: %s %llu failed: %s (%d)\n", what,
            (unsigned long long)(cookie & (((uint64_t)1 << KIND_SHIFT) - 1)), zab_strerror(err),
            err);
    c->broken = 1;
}

/* A read must see one of the values ever written to its znode. */
static int read_ok(const cluster *c, const zab_reply *reply)
{
    if (reply->err != ZAB_OK || reply->nresults != 1) return 0;
    const zab_result *r = &reply->results[0];
    if (r->err != ZAB_OK || r->data_len != PAYLOAD || !r->data) return 0;
    const uint8_t *d = r->data;
    unsigned v = (unsigned)(d[0] - 'a');
    return v < VALUES && memcmp(d, c->values[v], PAYLOAD) == 0;
}

static void io_on_result(void *ctx, uint64_t cookie, const zab_reply *reply)
{
    host *h = ctx;
    cluster *c = h->c;
    int kind = (int)(cookie >> KIND_SHIFT);
    if ((kind == KIND_SESSION && h->idx != c->sessions.at) ||
        (kind == KIND_WRITE && h->idx != c->writes.at))
        die("a reply from a node the request was not submitted at", ZAB_EFAILED);
    switch (kind) {
    case KIND_SETUP:
        if (reply->err != ZAB_OK) request_failed(c, "create", cookie, reply->err);
        c->setup_done++;
        break;
    case KIND_SESSION:
        if (reply->err != ZAB_OK) request_failed(c, "createSession", cookie, reply->err);
        c->sessions.done++;
        break;
    case KIND_WRITE:
        if (reply->err != ZAB_OK) request_failed(c, "setData", cookie, reply->err);
        c->writes.done++;
        break;
    case KIND_READ:
        if (!read_ok(c, reply))
            request_failed(c, "getData", cookie, reply->err ? reply->err : ZAB_EDATAINCONSISTENCY);
        c->reads_done++;
        break;
    default:
        die("a reply to an unknown cookie", ZAB_EFAILED);
    }
}

static void io_on_role(void *ctx, int role, int64_t leader, int64_t epoch)
{
    host *h = ctx;
    (void)leader, (void)epoch;
    h->role = role;
    if (role == ZAB_LEADING) h->c->leader = (int)h->idx;
    else if (h->c->leader == (int)h->idx) h->c->leader = -1;
}

static void check(cluster *c, int rc, const char *what)
{
    if (rc) die(what, rc);
    if (c->broken) die(what, ZAB_EFAILED);
}

static cluster *cluster_new(void)
{
    cluster *c = xcalloc(1, sizeof(*c));
    c->leader = -1;
    for (uint32_t i = 0; i < NODES; i++) c->members[i] = (zab_member){ (int64_t)i + 1, 0 };
    for (uint32_t i = 0; i < NODES; i++) {
        c->hosts[i] = (host){ c, i, ZAB_LOOKING, 0, 0 };
        zab_node_config cfg = { .sid = (int64_t)i + 1, .members = c->members, .nmembers = NODES };
        cfg.tree.hash_seed = SEED; /* digests compare across replicas */
        zab_io io = {
            .ctx = &c->hosts[i],
            .send = io_send,
            .disconnect = io_disconnect,
            .log_append = io_log_append,
            .log_truncate = io_log_truncate,
            .save_epochs = io_save_epochs,
            .save_snapshot = io_save_snapshot,
            .on_result = io_on_result,
            .on_role = io_on_role,
        };
        c->nodes[i] = zab_node_new(&cfg, &io, NULL);
        if (!c->nodes[i]) die("zab_node_new", ZAB_ENOMEM);
    }
    for (uint32_t i = 0; i < NODES; i++)
        for (uint32_t k = 0; k < NODES; k++)
            if (k != i) check(c, zab_node_peer_up(c->nodes[i], (int64_t)k + 1), "peer_up");
    for (uint32_t i = 0; i < NODES; i++) check(c, zab_node_start(c->nodes[i], c->now), "start");
    for (int v = 0; v < VALUES; v++)
        for (int i = 0; i < PAYLOAD; i++) c->values[v][i] = (uint8_t)('a' + (v + i) % 26);
    for (int k = 0; k < KEYS; k++) {
        snprintf(c->paths[k], sizeof(c->paths[k]), "/sessions-%d", k);
        c->read_ops[k] = zab_op_read(ZAB_OP_GET_DATA, c->paths[k], 0);
    }
    return c;
}

static void cluster_free(cluster *c)
{
    for (uint32_t i = 0; i < NODES; i++) zab_node_free(c->nodes[i]);
    free(c->q[0].data);
    free(c->q[1].data);
    free(c);
}

static void top_up_sessions(cluster *c)
{
    flow *f = &c->sessions;
    zab_node *node = c->nodes[f->at];
    int32_t timeout = zab_node_session_timeout(node, SESSION_TIMEOUT_MS);
    while (f->submitted - f->done < WINDOW && (!f->limit || f->submitted < f->limit)) {
        uint64_t n = f->submitted + 1;
        int64_t id = session_id(n);
        memcpy(c->passwd, &id, sizeof(id)); /* each session its own password */
        zab_op op = { .type = ZAB_OP_CREATE_SESSION, .data = c->passwd,
                      .data_len = PASSWORD_LEN, .timeout = timeout, .ttl = -1 };
        zab_request req = { ZAB_OP_CREATE_SESSION, id, NULL, 0, &op, 1 };
        int rc = zab_node_submit(node, &req, cookie_of(KIND_SESSION, n));
        if (rc == ZAB_ETHROTTLED) {
            f->throttled++;
            return;
        }
        check(c, rc, "submit createSession");
        f->submitted = n;
    }
}

static void top_up_writes(cluster *c)
{
    flow *f = &c->writes;
    zab_node *node = c->nodes[f->at];
    while (f->submitted - f->done < WINDOW) {
        uint64_t n = f->submitted + 1;
        zab_op op = zab_op_set_data(c->paths[n % KEYS], c->values[n / KEYS % VALUES], PAYLOAD, -1);
        zab_request req = { ZAB_OP_SET_DATA, 0, NULL, 0, &op, 1 };
        int rc = zab_node_submit(node, &req, cookie_of(KIND_WRITE, n));
        if (rc == ZAB_ETHROTTLED) {
            f->throttled++;
            return;
        }
        check(c, rc, "submit setData");
        f->submitted = n;
    }
}

/* Refill the flows submitted at node idx, after a call into it that may
 * have finished some. Never called from inside a node: a callback may not
 * call back into it. */
static void top_up(cluster *c, uint32_t idx)
{
    if (c->sessions.on && c->sessions.at == idx) top_up_sessions(c);
    if (c->writes.on && c->writes.at == idx) top_up_writes(c);
}

/* Report every node's appended entries durable: one group commit. */
static void sync_all(cluster *c)
{
    for (uint32_t i = 0; i < NODES; i++) {
        host *h = &c->hosts[i];
        if (h->appended <= h->synced) continue;
        h->synced = h->appended;
        check(c, zab_node_log_synced(c->nodes[i], h->synced), "log_synced");
        top_up(c, i);
    }
}

/* Deliver everything queued (replies queue up for the next pass), then
 * sync. Returns the number of messages delivered. */
static size_t pass(cluster *c)
{
    msg_queue *q = &c->q[c->fill];
    c->fill ^= 1;
    size_t at = 0, count = 0;
    while (at < q->len) {
        msg_head h;
        memcpy(&h, q->data + at, sizeof(h));
        const uint8_t *bytes = q->data + at + sizeof(h);
        check(c, zab_node_recv(c->nodes[h.to], (int64_t)h.from + 1, bytes, h.len), "recv");
        top_up(c, h.to);
        at += sizeof(h) + padded(h.len);
        count++;
    }
    q->len = 0;
    sync_all(c);
    return count;
}

/* Nothing in flight: move the virtual clock to the next timer. */
static void advance(cluster *c)
{
    int64_t next = INT64_MAX;
    for (uint32_t i = 0; i < NODES; i++) {
        int64_t d = zab_node_next_deadline(c->nodes[i]);
        if (d < next) next = d;
    }
    if (next > c->now) c->now = next;
    for (uint32_t i = 0; i < NODES; i++) check(c, zab_node_tick(c->nodes[i], c->now), "tick");
}

static int all_serving(const cluster *c)
{
    if (c->leader < 0) return 0;
    for (uint32_t i = 0; i < NODES; i++)
        if (c->hosts[i].role != ZAB_LEADING && c->hosts[i].role != ZAB_FOLLOWING) return 0;
    return 1;
}

/* One pass; when it leaves nothing in flight, the next timer fires. */
static void step(cluster *c)
{
    if (!pass(c) && !c->q[c->fill].len) advance(c);
    if (c->now > 600000) die("no progress in 10 virtual minutes", ZAB_EFAILED);
}

static void elect(cluster *c)
{
    while (!all_serving(c)) step(c);
}

static uint32_t a_follower(const cluster *c)
{
    return c->leader == 0 ? 1 : 0;
}

/* Create the znodes the reads and writes go to, one at a time. */
static void create_keys(cluster *c)
{
    for (int k = 0; k < KEYS; k++) {
        zab_op op = zab_op_create(c->paths[k], c->values[0], PAYLOAD, zab_acl_open, 1,
                                  ZAB_PERSISTENT);
        zab_request req = { op.type, 0, NULL, 0, &op, 1 };
        uint64_t n = ++c->setup_submitted;
        check(c, zab_node_submit(c->nodes[c->leader], &req, cookie_of(KIND_SETUP, n)), "create");
        while (c->setup_done < n) step(c);
    }
}

/* Run the ensemble for `seconds` of wall time; the committed flow's rate. */
static double run_flow(cluster *c, flow *f, double seconds)
{
    uint64_t done0 = f->done, t0 = now_ns(), until = t0 + (uint64_t)(seconds * 1e9), t;
    top_up(c, f->at);
    do step(c);
    while ((t = now_ns()) < until);
    return (double)(f->done - done0) / ((double)(t - t0) / 1e9);
}

/* Stop submitting, deliver everything, and check that every replica
 * applied every transaction and holds the same tree and sessions. */
static void drain_and_verify(cluster *c)
{
    c->sessions.on = c->writes.on = 0;
    while (c->q[c->fill].len || c->sessions.done < c->sessions.submitted ||
           c->writes.done < c->writes.submitted)
        step(c);
    zab_tree_stats first;
    zab_tree_stats_get(zab_node_tree(c->nodes[0]), &first);
    for (uint32_t i = 0; i < NODES; i++) {
        zab_tree_stats st;
        zab_tree_stats_get(zab_node_tree(c->nodes[i]), &st);
        if (st.last_zxid != first.last_zxid || st.digest != first.digest)
            die("replicas differ after the run", ZAB_EFAILED);
        if (st.sessions != c->sessions.done) die("a session went missing", ZAB_EFAILED);
    }
    uint64_t txns = c->setup_done + c->sessions.done + c->writes.done;
    if (ZAB_COUNTER(first.last_zxid) != txns) die("a transaction went missing", ZAB_EFAILED);
}

static void report_throttled(const cluster *c, const char *where)
{
    if (c->sessions.throttled || c->writes.throttled)
        printf("# %s: submits throttled: %llu createSession, %llu setData\n", where,
               (unsigned long long)c->sessions.throttled,
               (unsigned long long)c->writes.throttled);
}

/* ---- createSession throughput ---- */

static double session_run(int at_leader)
{
    cluster *c = cluster_new();
    elect(c);
    c->sessions.at = at_leader ? (uint32_t)c->leader : a_follower(c);
    c->sessions.on = 1;
    run_flow(c, &c->sessions, WARMUP_S);
    double rate = run_flow(c, &c->sessions, MEASURE_S);
    report_throttled(c, at_leader ? "sessions at the leader" : "sessions at a follower");
    drain_and_verify(c);
    cluster_free(c);
    return rate;
}

static double bench_sessions(int at_leader)
{
    double rate[RUNS];
    for (int r = 0; r < RUNS; r++) rate[r] = session_run(at_leader);
    return median(rate, RUNS);
}

/* ---- follower reads ---- */

/* One getData from an idle session: answered before submit returns. */
static void read_one(cluster *c, zab_node *follower)
{
    uint64_t n = c->reads_done + 1;
    zab_request req = { ZAB_OP_GET_DATA, session_id(1 + n / KEYS % READ_SESSIONS), NULL, 0,
                        &c->read_ops[n % KEYS], 1 };
    check(c, zab_node_submit(follower, &req, cookie_of(KIND_READ, n)), "submit getData");
    if (c->reads_done != n) die("a read of an idle session waited", ZAB_EFAILED);
}

typedef struct read_figures {
    double reads_per_s, writes_per_s;
    double read_share;      /* of the loop's time, spent in reads */
} read_figures;

/* READ_BATCH reads, one pass of the ensemble, and again, for `seconds`. */
static read_figures read_loop(cluster *c, uint32_t reader, double seconds)
{
    zab_node *follower = c->nodes[reader];
    uint64_t reads0 = c->reads_done, writes0 = c->writes.done;
    uint64_t t0 = now_ns(), until = t0 + (uint64_t)(seconds * 1e9), t = t0, reading = 0;
    top_up(c, c->writes.at);
    do {
        for (int i = 0; i < READ_BATCH; i++) read_one(c, follower);
        uint64_t read_end = now_ns();
        reading += read_end - t;
        pass(c);
    } while ((t = now_ns()) < until);
    double s = (double)(t - t0) / 1e9;
    return (read_figures){ (double)(c->reads_done - reads0) / s,
                           (double)(c->writes.done - writes0) / s,
                           (double)reading / (double)(t - t0) };
}

/* Sessions for the readers, created through the follower they read from. */
static void create_read_sessions(cluster *c, uint32_t reader)
{
    c->sessions.at = reader;
    c->sessions.limit = READ_SESSIONS;
    c->sessions.on = 1;
    top_up(c, reader);
    while (c->sessions.done < READ_SESSIONS) step(c);
    c->sessions.on = 0;
    for (uint64_t n = 1; n <= c->sessions.done; n++)
        check(c, zab_tree_session(zab_node_tree(c->nodes[reader]), session_id(n), NULL, NULL),
              "read session on the follower");
}

static void reads_run(read_figures *idle, read_figures *busy)
{
    cluster *c = cluster_new();
    elect(c);
    create_keys(c);
    uint32_t reader = a_follower(c);
    create_read_sessions(c, reader);

    read_loop(c, reader, WARMUP_S / 2);
    *idle = read_loop(c, reader, MEASURE_S);

    c->writes.at = (uint32_t)c->leader;
    c->writes.on = 1;
    read_loop(c, reader, WARMUP_S);
    *busy = read_loop(c, reader, MEASURE_S);
    report_throttled(c, "reads under writes");
    drain_and_verify(c);
    cluster_free(c);
}

int main(void)
{
    printf("# zab sessions: 3 nodes in this process on one thread, one FIFO of messages, "
           "no disk (one log sync report per pass over the queue); %d requests in flight; "
           "median of %d runs of %.1f s after %.1f s of warm-up\n",
           WINDOW, RUNS, MEASURE_S, WARMUP_S);
    printf("bench: session_create_per_s %.0f ops/s\n", bench_sessions(1));
    printf("bench: session_create_follower_per_s %.0f ops/s\n", bench_sessions(0));

    double idle[RUNS], reads[RUNS], writes[RUNS], share[RUNS], while_reading[RUNS];
    for (int r = 0; r < RUNS; r++) {
        read_figures quiet, busy;
        reads_run(&quiet, &busy);
        idle[r] = quiet.reads_per_s;
        reads[r] = busy.reads_per_s;
        writes[r] = busy.writes_per_s;
        share[r] = busy.read_share;
        while_reading[r] = busy.reads_per_s / busy.read_share;
    }
    double read_share = median(share, RUNS);
    printf("# reads: getData of %d bytes at a follower from %d idle sessions, %d reads per "
           "pass over the queue; writes: %d setData in flight at the leader; every rate is "
           "over the whole loop on one core\n", PAYLOAD, READ_SESSIONS, READ_BATCH, WINDOW);
    printf("bench: follower_reads_per_s_idle %.0f ops/s\n", median(idle, RUNS));
    printf("bench: follower_reads_per_s_under_writes %.0f ops/s\n", median(reads, RUNS));
    printf("# under writes the reads took %.0f%% of the loop's time: %.0f reads per second "
           "of reading\n", 100 * read_share, median(while_reading, RUNS));
    printf("bench: leader_writes_per_s_during_reads %.0f ops/s\n", median(writes, RUNS));
    return 0;
}
