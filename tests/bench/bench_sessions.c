/*
 * bench_sessions.c - sessions and follower reads in a 3-node ensemble:
 * createSession transactions committed per second (submitted at the leader,
 * then at a follower), and getData reads a follower serves per second from
 * its own tree, alone and while a stream of setData writes flows through
 * the leader.
 *
 * The host is bench_core's (bench/mini_cluster.h): every node in this one
 * process, on one thread, one FIFO of messages (every channel's order kept)
 * delivered as fast as the nodes take them, no disk (log_append records the
 * highest zxid; after each pass over the queue every node is told that all
 * it appended is durable: one group commit per pass). Virtual time stands
 * still while work is in flight, so no session expires during a
 * measurement.
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

#include "zab.h"

#define BENCH_NAME "bench_sessions"
#include "bench/mini_cluster.h"

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

/* A cookie's top byte says what it answers; the rest counts. */
enum { KIND_SHIFT = 56 };
enum { KIND_SETUP = 1, KIND_SESSION, KIND_WRITE, KIND_READ };

/* ---- cookies and sessions ---- */

static uint64_t cookie_of(int kind, uint64_t count)
{
    return (uint64_t)kind << KIND_SHIFT | count;
}

/* Session n (from 1); ids carry no meaning beyond being unique and non-zero. */
static int64_t session_id(uint64_t n)
{
    return ((int64_t)1 << 40) + (int64_t)n;
}

/* ---- the workload ---- */

/* Requests of one kind kept WINDOW deep in flight at one node. */
typedef struct flow {
    int on;
    uint32_t at;            /* node index */
    uint64_t limit;         /* requests to submit in all; 0: no end */
    uint64_t submitted, done, throttled;
} flow;

typedef struct cluster {
    mini_cluster net;       /* first: the hooks get it and mean this */
    char paths[KEYS][16];
    uint8_t values[VALUES][PAYLOAD];
    zab_op read_ops[KEYS];
    uint8_t passwd[PASSWORD_LEN];

    uint64_t setup_submitted, setup_done;
    flow sessions, writes;
    uint64_t reads_done;
} cluster;

static void request_failed(cluster *c, const char *what, uint64_t cookie, int err)
{
    fprintf(stderr, "bench_sessions: %s %llu failed: %s (%d)\n", what,
            (unsigned long long)(cookie & (((uint64_t)1 << KIND_SHIFT) - 1)), zab_strerror(err),
            err);
    c->net.broken = 1;
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

static void on_result(mini_cluster *m, uint32_t idx, uint64_t cookie, const zab_reply *reply)
{
    cluster *c = (cluster *)m;
    int kind = (int)(cookie >> KIND_SHIFT);
    if ((kind == KIND_SESSION && idx != c->sessions.at) ||
        (kind == KIND_WRITE && idx != c->writes.at))
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

static void top_up_sessions(cluster *c)
{
    flow *f = &c->sessions;
    zab_node *node = c->net.nodes[f->at];
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
        mini_check(&c->net, rc, "submit createSession");
        f->submitted = n;
    }
}

static void top_up_writes(cluster *c)
{
    flow *f = &c->writes;
    zab_node *node = c->net.nodes[f->at];
    while (f->submitted - f->done < WINDOW) {
        uint64_t n = f->submitted + 1;
        zab_op op = zab_op_set_data(c->paths[n % KEYS], c->values[n / KEYS % VALUES], PAYLOAD, -1);
        zab_request req = { ZAB_OP_SET_DATA, 0, NULL, 0, &op, 1 };
        int rc = zab_node_submit(node, &req, cookie_of(KIND_WRITE, n));
        if (rc == ZAB_ETHROTTLED) {
            f->throttled++;
            return;
        }
        mini_check(&c->net, rc, "submit setData");
        f->submitted = n;
    }
}

/* Refill the flows submitted at node idx, after a call into it that may
 * have finished some. Never called from inside a node: a callback may not
 * call back into it. */
static void top_up(mini_cluster *m, uint32_t idx)
{
    cluster *c = (cluster *)m;
    if (c->sessions.on && c->sessions.at == idx) top_up_sessions(c);
    if (c->writes.on && c->writes.at == idx) top_up_writes(c);
}

static cluster *cluster_new(void)
{
    cluster *c = xcalloc(1, sizeof(*c));
    mini_start(&c->net, NODES, on_result, top_up);
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
    mini_free(&c->net);
    free(c);
}

static uint32_t a_follower(const cluster *c)
{
    return c->net.leader == 0 ? 1 : 0;
}

/* Create the znodes the reads and writes go to, one at a time. */
static void create_keys(cluster *c)
{
    for (int k = 0; k < KEYS; k++) {
        zab_op op = zab_op_create(c->paths[k], c->values[0], PAYLOAD, zab_acl_open, 1,
                                  ZAB_PERSISTENT);
        zab_request req = { op.type, 0, NULL, 0, &op, 1 };
        uint64_t n = ++c->setup_submitted;
        zab_node *leader = c->net.nodes[c->net.leader];
        mini_check(&c->net, zab_node_submit(leader, &req, cookie_of(KIND_SETUP, n)), "create");
        while (c->setup_done < n) mini_step(&c->net);
    }
}

/* Run the ensemble for `seconds` of wall time; the committed flow's rate. */
static double run_flow(cluster *c, flow *f, double seconds)
{
    uint64_t done0 = f->done, t0 = now_ns(), until = t0 + (uint64_t)(seconds * 1e9), t;
    top_up(&c->net, f->at);
    do mini_step(&c->net);
    while ((t = now_ns()) < until);
    return (double)(f->done - done0) / ((double)(t - t0) / 1e9);
}

/* Stop submitting, deliver everything, and check that every replica
 * applied every transaction and holds the same tree and sessions. */
static void drain_and_verify(cluster *c)
{
    c->sessions.on = c->writes.on = 0;
    while (c->net.q[c->net.fill].len || c->sessions.done < c->sessions.submitted ||
           c->writes.done < c->writes.submitted)
        mini_step(&c->net);
    zab_tree_stats first;
    mini_same_trees(&c->net, &first);
    for (uint32_t i = 0; i < NODES; i++) {
        zab_tree_stats st;
        zab_tree_stats_get(zab_node_tree(c->net.nodes[i]), &st);
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
    mini_elect(&c->net);
    c->sessions.at = at_leader ? (uint32_t)c->net.leader : a_follower(c);
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
    mini_check(&c->net, zab_node_submit(follower, &req, cookie_of(KIND_READ, n)),
               "submit getData");
    if (c->reads_done != n) die("a read of an idle session waited", ZAB_EFAILED);
}

typedef struct read_figures {
    double reads_per_s, writes_per_s;
    double read_share;      /* of the loop's time, spent in reads */
} read_figures;

/* READ_BATCH reads, one pass of the ensemble, and again, for `seconds`. */
static read_figures read_loop(cluster *c, uint32_t reader, double seconds)
{
    zab_node *follower = c->net.nodes[reader];
    uint64_t reads0 = c->reads_done, writes0 = c->writes.done;
    uint64_t t0 = now_ns(), until = t0 + (uint64_t)(seconds * 1e9), t = t0, reading = 0;
    top_up(&c->net, c->writes.at);
    do {
        for (int i = 0; i < READ_BATCH; i++) read_one(c, follower);
        uint64_t read_end = now_ns();
        reading += read_end - t;
        mini_pass(&c->net);
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
    top_up(&c->net, reader);
    while (c->sessions.done < READ_SESSIONS) mini_step(&c->net);
    c->sessions.on = 0;
    zab_tree *tree = zab_node_tree(c->net.nodes[reader]);
    for (uint64_t n = 1; n <= c->sessions.done; n++)
        mini_check(&c->net, zab_tree_session(tree, session_id(n), NULL, NULL),
                   "read session on the follower");
}

static void reads_run(read_figures *idle, read_figures *busy)
{
    cluster *c = cluster_new();
    mini_elect(&c->net);
    create_keys(c);
    uint32_t reader = a_follower(c);
    create_read_sessions(c, reader);

    read_loop(c, reader, WARMUP_S / 2);
    *idle = read_loop(c, reader, MEASURE_S);

    c->writes.at = (uint32_t)c->net.leader;
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
