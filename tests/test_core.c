/*
 * The node's edges, on a small host the test controls completely: requests
 * over the limit refused before they reach a log, a leader whose own disk
 * stalls stepping down, the zxid counter running out, hostile bytes from a
 * peer, and fail-stop when a durability callback fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "core/node.h"
#include "zab.h"

enum { MAXN = 5, QCAP = 1 << 16 };

typedef struct qmsg {
    int from, to;
    size_t len;
    uint8_t *bytes;
} qmsg;

typedef struct host {
    int n;
    zab_node *node[MAXN + 1];
    int64_t appended[MAXN + 1];
    int64_t reported[MAXN + 1];
    int sync_stalled[MAXN + 1];
    int sync_behind[MAXN + 1]; /* report durable up to the newest append but one */
    int fail_append[MAXN + 1];
    int disconnects[MAXN + 1];
    int64_t now;
    qmsg q[QCAP];
    size_t qh, qt;
} host;

static host *H;

static int sid_of(void *ctx) { return (int)(intptr_t)ctx; }

static void h_send(void *ctx, int64_t to, const void *b, size_t len)
{
    qmsg *m = &H->q[H->qt++ % QCAP];
    m->from = sid_of(ctx);
    m->to = (int)to;
    m->len = len;
    m->bytes = malloc(len);
    memcpy(m->bytes, b, len);
}

/* Closing a channel: drop what is in flight between the pair, tell both
 * ends, and bring it back up (a reconnect). */
static void h_disconnect(void *ctx, int64_t to)
{
    int a = sid_of(ctx), b = (int)to;
    H->disconnects[a]++;
    for (size_t i = H->qh; i < H->qt; i++) {
        qmsg *m = &H->q[i % QCAP];
        if ((m->from == a && m->to == b) || (m->from == b && m->to == a)) m->to = 0;
    }
    zab_node_peer_down(H->node[a], b);
    zab_node_peer_down(H->node[b], a);
    zab_node_peer_up(H->node[a], b);
    zab_node_peer_up(H->node[b], a);
}

static int h_append(void *ctx, const zab_entry *e, size_t n)
{
    int s = sid_of(ctx);
    if (H->fail_append[s]) return ZAB_EIO;
    H->appended[s] = e[n - 1].zxid;
    return 0;
}

static int h_truncate(void *ctx, int64_t zxid)
{
    int s = sid_of(ctx);
    if (H->appended[s] > zxid) H->appended[s] = zxid;
    return 0;
}

static int h_epochs(void *ctx, int64_t a, int64_t c) { (void)ctx; (void)a; (void)c; return 0; }
static int h_snapshot(void *ctx, const zab_tree *t)
{
    (void)t;
    H->appended[sid_of(ctx)] = H->reported[sid_of(ctx)] = 0; /* the log starts over */
    return 0;
}

static void host_new(int n, uint32_t max_message)
{
    H = calloc(1, sizeof(*H));
    H->n = n;
    zab_member mem[MAXN];
    for (int i = 0; i < n; i++) mem[i] = (zab_member){ i + 1, 0 };
    for (int i = 1; i <= n; i++) {
        zab_node_config c;
        memset(&c, 0, sizeof(c));
        c.sid = i;
        c.members = mem;
        c.nmembers = (uint32_t)n;
        c.tick_ms = 100;
        c.max_message = max_message;
        c.tree.extended_types = 1;
        c.reap_interval_ms = 1000;
        zab_io io = { .ctx = (void *)(intptr_t)i, .send = h_send, .disconnect = h_disconnect,
                      .log_append = h_append, .log_truncate = h_truncate,
                      .save_epochs = h_epochs, .save_snapshot = h_snapshot };
        H->node[i] = zab_node_new(&c, &io, NULL);
        ck_assert_ptr_nonnull(H->node[i]);
    }
    for (int i = 1; i <= n; i++)
        for (int j = 1; j <= n; j++)
            if (i != j) zab_node_peer_up(H->node[i], j);
    for (int i = 1; i <= n; i++) ck_assert_int_eq(zab_node_start(H->node[i], 0), 0);
}

static void host_free(void)
{
    for (int i = 1; i <= H->n; i++) zab_node_free(H->node[i]);
    for (size_t i = H->qh; i < H->qt; i++) free(H->q[i % QCAP].bytes);
    free(H);
}

/* Deliver everything, report syncs, advance time in 10 ms steps. */
static void host_run(int64_t ms)
{
    int64_t end = H->now + ms;
    while (H->now < end) {
        while (H->qh < H->qt) {
            qmsg *m = &H->q[H->qh++ % QCAP];
            if (m->to) zab_node_recv(H->node[m->to], m->from, m->bytes, m->len);
            free(m->bytes);
        }
        int again = 0;
        for (int i = 1; i <= H->n; i++)
            if (!H->sync_stalled[i] && H->appended[i] != H->reported[i]) {
                int64_t durable = H->appended[i] - (H->sync_behind[i] && ZAB_COUNTER(H->appended[i]) > 1);
                if (durable == H->reported[i]) continue;
                H->reported[i] = durable;
                zab_node_log_synced(H->node[i], durable);
                again = 1;
            }
        if (again || H->qh < H->qt) continue;
        H->now += 10;
        for (int i = 1; i <= H->n; i++) zab_node_tick(H->node[i], H->now);
    }
}

static zab_node_stats stats(int s)
{
    zab_node_stats st;
    zab_node_stats_get(H->node[s], &st);
    return st;
}

static int leader(void)
{
    for (int i = 1; i <= H->n; i++)
        if (stats(i).role == ZAB_LEADING && H->node[i]->phase == PHASE_BROADCAST) return i;
    return 0;
}

static int submit_create(int s, const char *path, int32_t len)
{
    static char data[1 << 16];
    zab_op op = zab_op_create(path, data, len, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_request req = { op.type, 0, NULL, 0, &op, 1 };
    return zab_node_submit(H->node[s], &req, 1);
}

START_TEST(oversized_request_refused_at_the_edge)
{
    host_new(3, 4096);
    host_run(2000);
    int l = leader();
    ck_assert_int_gt(l, 0);
    int64_t logged = stats(l).last_logged;
    ck_assert_int_eq(submit_create(l, "/big", 8000), ZAB_ETOOBIG);
    int f = l == 1 ? 2 : 1;
    ck_assert_int_eq(submit_create(f, "/big", 8000), ZAB_ETOOBIG);
    host_run(500);
    ck_assert_int_eq(stats(l).last_logged, logged);
    ck_assert_int_eq(submit_create(l, "/small", 100), 0);
    host_run(500);
    ck_assert_int_gt(stats(f).last_applied, logged);
    host_free();
}
END_TEST

/* A leader whose log stops syncing must not hold the ensemble hostage. */
START_TEST(stalled_disk_leader_steps_down)
{
    host_new(3, 0);
    host_run(2000);
    int l = leader();
    ck_assert_int_gt(l, 0);
    H->sync_stalled[l] = 1;
    ck_assert_int_eq(submit_create(l, "/a", 10), 0);
    /* disk_stall_ticks defaults to sync_limit (5) ticks of 100 ms. */
    host_run(1000);
    ck_assert_int_ne(stats(l).role, ZAB_LEADING);
    H->sync_stalled[l] = 0;
    host_run(3000);
    ck_assert_int_gt(leader(), 0);
    host_free();
}
END_TEST

/* Under steady load a group-committing disk always trails the newest
 * append; that is progress, not a stall, and the leader keeps leading. */
START_TEST(busy_disk_is_not_a_stall)
{
    host_new(3, 0);
    host_run(2000);
    int l = leader();
    ck_assert_int_gt(l, 0);
    H->sync_behind[l] = 1;
    for (int i = 0; i < 40; i++) {
        char path[16];
        snprintf(path, sizeof(path), "/b%d", i);
        ck_assert_int_eq(submit_create(l, path, 8), 0);
        host_run(50);
        ck_assert_int_eq(stats(l).role, ZAB_LEADING);
    }
    ck_assert_int_ge(stats(l).last_committed, ZAB_ZXID(stats(l).current_epoch, 39));
    host_free();
}
END_TEST

/* The counter must never run into the epoch bits: at 0xffffffff the leader
 * gives up its reign and the next one starts a new epoch. */
START_TEST(zxid_counter_exhaustion_forces_new_epoch)
{
    host_new(3, 0);
    host_run(2000);
    int l = leader();
    ck_assert_int_gt(l, 0);
    int64_t epoch = stats(l).current_epoch;
    zab_node *ln = H->node[l];
    /* Jump the counter to its last usable values (ZooKeeper's
     * testingonly.initialZxid knob does the same). */
    ln->next_zxid = ZAB_ZXID(epoch, 0xfffffffeu);
    ln->last_committed = ZAB_ZXID(epoch, 0xfffffffdu);
    ck_assert_int_eq(submit_create(l, "/last", 1), 0);
    ck_assert_int_eq(ZAB_COUNTER(stats(l).last_logged), 0xfffffffeu);
    ck_assert_int_eq(submit_create(l, "/over", 1), ZAB_ECONNECTIONLOSS);
    ck_assert_int_eq(zab_node_tick(ln, ln->now), 0);
    ck_assert_int_eq(stats(l).role, ZAB_LOOKING);
    host_run(5000);
    int next = leader();
    ck_assert_int_gt(next, 0);
    ck_assert_int_gt(stats(next).current_epoch, epoch);
    host_free();
}
END_TEST

/* Garbage, a replayed message and a message from the future: each makes
 * the node ask for that channel to be closed; nothing else changes. */
START_TEST(hostile_peer_bytes_close_the_channel)
{
    host_new(3, 0);
    host_run(2000);
    int l = leader(), f = l == 1 ? 2 : 1;
    zab_node_stats before = stats(f);
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++) junk[i] = (uint8_t)(i * 37 + 11);
    ck_assert_int_eq(zab_node_recv(H->node[f], l, junk, sizeof(junk)), 0);
    ck_assert_int_eq(H->disconnects[f], 1);
    ck_assert_int_eq(stats(f).stopped, 0);
    ck_assert_int_eq(stats(f).last_applied, before.last_applied);
    /* Huge and empty inputs. */
    ck_assert_int_eq(zab_node_recv(H->node[f], l, junk, 0), 0);
    /* An unknown sender is ignored. */
    ck_assert_int_eq(zab_node_recv(H->node[f], 99, junk, sizeof(junk)), 0);
    host_run(3000);
    ck_assert_int_gt(leader(), 0);
    ck_assert_int_eq(submit_create(leader(), "/after", 4), 0);
    host_run(500);
    ck_assert_int_gt(stats(f).last_applied, before.last_applied);
    host_free();
}
END_TEST

/* A log that cannot take an append stops the node for good. */
START_TEST(failed_append_is_fail_stop)
{
    host_new(3, 0);
    host_run(2000);
    int l = leader();
    H->fail_append[l] = 1;
    ck_assert_int_eq(submit_create(l, "/x", 4), ZAB_EIO);
    ck_assert_int_eq(stats(l).stopped, 1);
    ck_assert_int_lt(zab_node_tick(H->node[l], H->now + 10), 0);
    ck_assert_int_lt(zab_node_log_synced(H->node[l], 1), 0);
    /* The others elect a new leader. */
    host_run(5000);
    int next = leader();
    ck_assert_int_gt(next, 0);
    ck_assert_int_ne(next, l);
    host_free();
}
END_TEST

/* The counters a host exports (mntr): synced learners, their lag, syncs. */
START_TEST(stats_count_learners_and_syncs)
{
    host_new(3, 0);
    host_run(2000);
    int l = leader();
    for (int i = 0; i < 20; i++) {
        char path[16];
        snprintf(path, sizeof(path), "/s%d", i);
        ck_assert_int_eq(submit_create(l, path, 8), 0);
    }
    host_run(500);
    zab_node_stats st = stats(l);
    ck_assert_int_eq(st.serving, 1);
    ck_assert_uint_eq(st.learners_synced, 2);
    ck_assert_uint_eq(st.max_learner_lag, 0);
    ck_assert_uint_eq(st.in_flight, 0);
    ck_assert_uint_gt(st.syncs, 0);
    ck_assert_uint_ge(st.synced_entries, 20);
    ck_assert_uint_ge(st.elections, 1);
    /* A follower that stops syncing falls behind by what it has not acked. */
    int f = l == 1 ? 2 : 1;
    H->sync_stalled[f] = 1;
    for (int i = 0; i < 5; i++) {
        char path[16];
        snprintf(path, sizeof(path), "/t%d", i);
        ck_assert_int_eq(submit_create(l, path, 8), 0);
    }
    host_run(50);
    ck_assert_uint_eq(stats(l).max_learner_lag, 5);
    ck_assert_int_eq(stats(f).serving, 1);
    host_free();
}
END_TEST

static int create_mode(int s, const char *path, int32_t mode, int64_t ttl)
{
    zab_op op = zab_op_create(path, "d", 1, zab_acl_open, 1, mode);
    if (mode == ZAB_CONTAINER) op.type = ZAB_OP_CREATE_CONTAINER;
    if (ttl >= 0) {
        op.type = ZAB_OP_CREATE_TTL;
        op.ttl = ttl;
    }
    zab_request req = { op.type, 0, NULL, 0, &op, 1 };
    return zab_node_submit(H->node[s], &req, 7);
}

static int exists_on(int s, const char *path)
{
    zab_op op = zab_op_read(ZAB_OP_EXISTS, path, 0);
    zab_request req = { op.type, 0, NULL, 0, &op, 1 };
    zab_reply r;
    return zab_tree_read(zab_node_tree(H->node[s]), &req, &r) == 0;
}

/* The leader's container manager: an emptied container goes, one that
 * never had a child stays, a TTL node goes once its TTL passes without a
 * change, and the deletions are transactions every replica applies. */
START_TEST(leader_reaps_containers_and_ttl_nodes)
{
    host_new(3, 0);
    host_run(2000);
    int l = leader();
    ck_assert_int_eq(create_mode(l, "/c", ZAB_CONTAINER, -1), 0);
    ck_assert_int_eq(create_mode(l, "/fresh", ZAB_CONTAINER, -1), 0);
    ck_assert_int_eq(create_mode(l, "/c/kid", ZAB_PERSISTENT, -1), 0);
    ck_assert_int_eq(create_mode(l, "/ttl", ZAB_PERSISTENT_WITH_TTL, 1500), 0);
    host_run(200);
    zab_op del = zab_op_delete("/c/kid", -1);
    zab_request req = { del.type, 0, NULL, 0, &del, 1 };
    ck_assert_int_eq(zab_node_submit(H->node[l], &req, 8), 0);
    /* Within one pass (1 s) the emptied container is gone everywhere. */
    host_run(1300);
    for (int s = 1; s <= 3; s++) {
        ck_assert(!exists_on(s, "/c"));
        ck_assert(exists_on(s, "/fresh"));
        ck_assert(exists_on(s, "/ttl"));
    }
    /* The TTL runs out 1.5 s after its last change. */
    host_run(1500);
    for (int s = 1; s <= 3; s++) {
        ck_assert(!exists_on(s, "/ttl"));
        ck_assert(exists_on(s, "/fresh"));
    }
    host_free();
}
END_TEST

START_TEST(invalid_configurations_are_refused)
{
    zab_io io = { .send = h_send };
    zab_member dup[2] = { { 1, 0 }, { 1, 0 } };
    zab_member obs_only[2] = { { 1, 1 }, { 2, 1 } };
    zab_member ok[2] = { { 1, 0 }, { 2, 0 } };
    zab_node_config c = { .sid = 1, .members = dup, .nmembers = 2 };
    ck_assert_ptr_null(zab_node_new(&c, &io, NULL));
    c.members = obs_only;
    ck_assert_ptr_null(zab_node_new(&c, &io, NULL));
    c.members = ok;
    c.sid = 3;
    ck_assert_ptr_null(zab_node_new(&c, &io, NULL));
    c.sid = 0;
    ck_assert_ptr_null(zab_node_new(&c, &io, NULL));
    ck_assert_ptr_null(zab_node_new(NULL, &io, NULL));
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("edges");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, oversized_request_refused_at_the_edge);
    tcase_add_test(tc, stalled_disk_leader_steps_down);
    tcase_add_test(tc, busy_disk_is_not_a_stall);
    tcase_add_test(tc, zxid_counter_exhaustion_forces_new_epoch);
    tcase_add_test(tc, hostile_peer_bytes_close_the_channel);
    tcase_add_test(tc, failed_append_is_fail_stop);
    tcase_add_test(tc, stats_count_learners_and_syncs);
    tcase_add_test(tc, leader_reaps_containers_and_ttl_nodes);
    tcase_add_test(tc, invalid_configurations_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(core_suite)
