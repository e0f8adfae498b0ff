/*
 * mini_cluster.h - the benchmarks' minimal host: every node of an ensemble
 * in this one process, on one thread, one FIFO of messages (every channel's
 * order kept) delivered as fast as the nodes take them, no disk
 * (log_append records the highest zxid; after each pass over the queue
 * every node is told that all it appended is durable: one group commit per
 * pass). Virtual time moves only when nothing is in flight.
 *
 * A bench defines BENCH_NAME (its name in error messages) before including
 * this, keeps a mini_cluster as the first member of its own state, and
 * gives mini_start two hooks: on_result, for every reply a node reports,
 * and top_up, after every call into a node that may have finished some of
 * the requests submitted there (never from inside a node: a callback may
 * not call back into it). Each bench is built from one .c file, so all
 * here is static.
 */
#ifndef ZAB_BENCH_MINI_CLUSTER_H
#define ZAB_BENCH_MINI_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zab.h"

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench/mini_cluster.h"
#endif

enum { MINI_MAX_NODES = 5 };

static const uint64_t MINI_HASH_SEED = 0x5eedf00dULL;

/* ---- small helpers ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, BENCH_NAME ": %s: %s (%d)\n", what, zab_strerror(rc), rc);
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

typedef struct mini_cluster mini_cluster;

typedef void mini_result_fn(mini_cluster *m, uint32_t idx, uint64_t cookie,
                            const zab_reply *reply);
typedef void mini_top_up_fn(mini_cluster *m, uint32_t idx);

typedef struct mini_host {
    mini_cluster *m;
    uint32_t idx;
    int role;
    int64_t appended, synced;
} mini_host;

struct mini_cluster {
    uint32_t n;
    zab_node *nodes[MINI_MAX_NODES];
    mini_host hosts[MINI_MAX_NODES];
    zab_member members[MINI_MAX_NODES];
    msg_queue q[2];
    int fill;               /* the queue that sends go to */
    int64_t now;            /* virtual ms */
    uint64_t host_allocs;   /* the host's own, to tell them from the library's */
    int broken;             /* a node closed a channel or a request failed */
    int leader;             /* index, -1 while none */
    mini_result_fn *on_result;
    mini_top_up_fn *top_up;
};

static void queue_push(mini_cluster *m, uint32_t from, uint32_t to, const void *bytes, size_t len)
{
    msg_queue *q = &m->q[m->fill];
    size_t need = sizeof(msg_head) + padded(len);
    if (len > UINT32_MAX) die("message too long", ZAB_ETOOBIG);
    if (q->cap - q->len < need) {
        size_t cap = q->cap ? q->cap : 1 << 16;
        while (cap - q->len < need) cap *= 2;
        uint8_t *data = realloc(q->data, cap);
        if (!data) die("queue", ZAB_ENOMEM);
        m->host_allocs++;
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
    mini_host *h = ctx;
    if (to < 1 || to > (int64_t)h->m->n) die("send to an unknown sid", ZAB_EINVAL);
    queue_push(h->m, h->idx, (uint32_t)(to - 1), bytes, len);
}

static void io_disconnect(void *ctx, int64_t to)
{
    mini_host *h = ctx;
    fprintf(stderr, BENCH_NAME ": node %u closed its channel to %lld\n", h->idx + 1,
            (long long)to);
    h->m->broken = 1;
}

static int io_log_append(void *ctx, const zab_entry *entries, size_t n)
{
    mini_host *h = ctx;
    if (n) h->appended = entries[n - 1].zxid;
    return 0;
}

static int io_log_truncate(void *ctx, int64_t zxid)
{
    mini_host *h = ctx;
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

static void io_on_result(void *ctx, uint64_t cookie, const zab_reply *reply)
{
    mini_host *h = ctx;
    h->m->on_result(h->m, h->idx, cookie, reply);
}

static void io_on_role(void *ctx, int role, int64_t leader, int64_t epoch)
{
    mini_host *h = ctx;
    (void)leader, (void)epoch;
    h->role = role;
    if (role == ZAB_LEADING) h->m->leader = (int)h->idx;
    else if (h->m->leader == (int)h->idx) h->m->leader = -1;
}

static void mini_check(mini_cluster *m, int rc, const char *what)
{
    if (rc) die(what, rc);
    if (m->broken) die(what, ZAB_EFAILED);
}

/* Start n nodes in m (zeroed), every channel up, none of them elected. */
static void mini_start(mini_cluster *m, uint32_t n, mini_result_fn *on_result,
                       mini_top_up_fn *top_up)
{
    if (n > MINI_MAX_NODES) die("too many nodes", ZAB_EINVAL);
    m->n = n;
    m->leader = -1;
    m->on_result = on_result;
    m->top_up = top_up;
    for (uint32_t i = 0; i < n; i++) m->members[i] = (zab_member){ (int64_t)i + 1, 0 };
    for (uint32_t i = 0; i < n; i++) {
        m->hosts[i] = (mini_host){ m, i, ZAB_LOOKING, 0, 0 };
        zab_node_config cfg = { .sid = (int64_t)i + 1, .members = m->members, .nmembers = n };
        cfg.tree.hash_seed = MINI_HASH_SEED; /* digests compare across replicas */
        zab_io io = {
            .ctx = &m->hosts[i],
            .send = io_send,
            .disconnect = io_disconnect,
            .log_append = io_log_append,
            .log_truncate = io_log_truncate,
            .save_epochs = io_save_epochs,
            .save_snapshot = io_save_snapshot,
            .on_result = io_on_result,
            .on_role = io_on_role,
        };
        m->nodes[i] = zab_node_new(&cfg, &io, NULL);
        if (!m->nodes[i]) die("zab_node_new", ZAB_ENOMEM);
    }
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < n; k++)
            if (k != i) mini_check(m, zab_node_peer_up(m->nodes[i], (int64_t)k + 1), "peer_up");
    for (uint32_t i = 0; i < n; i++) mini_check(m, zab_node_start(m->nodes[i], m->now), "start");
}

/* Free what mini_start made; m itself is the bench's. */
static void mini_free(mini_cluster *m)
{
    for (uint32_t i = 0; i < m->n; i++) zab_node_free(m->nodes[i]);
    free(m->q[0].data);
    free(m->q[1].data);
}

/* Report every node's appended entries durable: one group commit. */
static void mini_sync_all(mini_cluster *m)
{
    for (uint32_t i = 0; i < m->n; i++) {
        mini_host *h = &m->hosts[i];
        if (h->appended <= h->synced) continue;
        h->synced = h->appended;
        mini_check(m, zab_node_log_synced(m->nodes[i], h->synced), "log_synced");
        m->top_up(m, i);
    }
}

/* Deliver everything queued (replies queue up for the next pass), then
 * sync. Returns the number of messages delivered. */
static size_t mini_pass(mini_cluster *m)
{
    msg_queue *q = &m->q[m->fill];
    m->fill ^= 1;
    size_t at = 0, count = 0;
    while (at < q->len) {
        msg_head h;
        memcpy(&h, q->data + at, sizeof(h));
        const uint8_t *bytes = q->data + at + sizeof(h);
        mini_check(m, zab_node_recv(m->nodes[h.to], (int64_t)h.from + 1, bytes, h.len), "recv");
        m->top_up(m, h.to);
        at += sizeof(h) + padded(h.len);
        count++;
    }
    q->len = 0;
    mini_sync_all(m);
    return count;
}

/* Nothing in flight: move the virtual clock to the next timer. */
static void mini_advance(mini_cluster *m)
{
    int64_t next = INT64_MAX;
    for (uint32_t i = 0; i < m->n; i++) {
        int64_t d = zab_node_next_deadline(m->nodes[i]);
        if (d < next) next = d;
    }
    if (next > m->now) m->now = next;
    for (uint32_t i = 0; i < m->n; i++) mini_check(m, zab_node_tick(m->nodes[i], m->now), "tick");
}

static int mini_all_serving(const mini_cluster *m)
{
    if (m->leader < 0) return 0;
    for (uint32_t i = 0; i < m->n; i++)
        if (m->hosts[i].role != ZAB_LEADING && m->hosts[i].role != ZAB_FOLLOWING) return 0;
    return 1;
}

/* One pass; when it leaves nothing in flight, the next timer fires. */
static void mini_step(mini_cluster *m)
{
    if (!mini_pass(m) && !m->q[m->fill].len) mini_advance(m);
    if (m->now > 600000) die("no progress in 10 virtual minutes", ZAB_EFAILED);
}

static void mini_elect(mini_cluster *m)
{
    while (!mini_all_serving(m)) mini_step(m);
}

/* Every replica must hold the same tree: the same last zxid and digest.
 * The first replica's statistics are left in *first. */
static void mini_same_trees(mini_cluster *m, zab_tree_stats *first)
{
    zab_tree_stats_get(zab_node_tree(m->nodes[0]), first);
    for (uint32_t i = 0; i < m->n; i++) {
        zab_tree_stats st;
        zab_tree_stats_get(zab_node_tree(m->nodes[i]), &st);
        if (st.last_zxid != first->last_zxid || st.digest != first->digest)
            die("replicas differ after the run", ZAB_EFAILED);
    }
}

#endif
