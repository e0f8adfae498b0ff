/*
 * Property tests of the replicated state machine: the same transactions in
 * the same order give identical replicas, whatever the workload; pipelined
 * prepares (many prepared before any applies) decide exactly as one-at-a-
 * time prepares do; snapshots round-trip; damaged snapshots and
 * transactions are refused and leave the tree as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "zab.h"

/* ---- a seeded workload ---- */

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t next(rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s >> 16);
}

static uint32_t below(rng *r, uint32_t n) { return next(r) % n; }

static const char *const PATHS[] = {
    "/a", "/b", "/c", "/a/x", "/a/y", "/b/x", "/b/y/", "/a/x/1", "/a/x/2", "/c/q", "/zookeeper/z", "/",
};
enum { NPATHS = sizeof(PATHS) / sizeof(PATHS[0]), NSESS = 4, MAX_OPS = 4 };

static const zab_acl DIGEST_ACL[1] = { { ZAB_PERM_ALL, { { "digest", 6 }, { "u:x", 3 } } } };
static const zab_id AUTH[2] = { { { "ip", 2 }, { "10.0.0.1", 8 } },
                                { { "digest", 6 }, { "u:x", 3 } } };

typedef struct workload {
    rng r;
    zab_op ops[MAX_OPS];
    zab_request req;
    char data[4][32];
    uint8_t passwd[16];
} workload;

static int64_t session_id(uint32_t i) { return (int64_t)(0x0100000000000000ULL + i); }

static zab_op random_op(workload *w, int in_multi, uint32_t k)
{
    const char *path = PATHS[below(&w->r, NPATHS)];
    int len = snprintf(w->data[k], sizeof(w->data[k]), "v%u", next(&w->r) % 1000);
    int32_t version = below(&w->r, 3) ? -1 : (int32_t)below(&w->r, 3);
    uint32_t kind = below(&w->r, in_multi ? 5 : 7);
    switch (kind) {
    case 0:
    case 1: {
        static const int32_t modes[] = { 0, 1, 2, 3, 4, 0, 2 };
        const zab_acl *acl = below(&w->r, 4) ? zab_acl_open : below(&w->r, 2) ? zab_acl_read : DIGEST_ACL;
        zab_op op = zab_op_create(path, below(&w->r, 5) ? w->data[k] : NULL, len, acl, 1,
                                  modes[below(&w->r, 7)]);
        if (op.flags == ZAB_CONTAINER) op.type = ZAB_OP_CREATE_CONTAINER;
        else if (below(&w->r, 2)) op.type = ZAB_OP_CREATE2;
        return op;
    }
    case 2: return zab_op_delete(path, version);
    case 3: return zab_op_set_data(path, w->data[k], len, version);
    case 4: /* check exists only inside a multi */
        return in_multi ? zab_op_check(path, version) : zab_op_delete(path, version);
    case 5: return zab_op_set_acl(path, below(&w->r, 2) ? zab_acl_open : DIGEST_ACL, 1, version);
    default: {
        zab_op op = { 0 };
        op.type = below(&w->r, 2) ? ZAB_OP_CREATE_SESSION : ZAB_OP_CLOSE_SESSION;
        op.data = w->passwd;
        op.data_len = 16;
        op.timeout = 30000;
        return op;
    }
    }
}

static const zab_request *random_request(workload *w)
{
    memset(&w->req, 0, sizeof(w->req));
    w->req.session = below(&w->r, 4) ? session_id(below(&w->r, NSESS)) : 0;
    w->req.auth = AUTH;
    w->req.nauth = below(&w->r, 3) ? 2 : 1;
    if (below(&w->r, 4) == 0) {
        w->req.type = ZAB_OP_MULTI;
        w->req.nops = below(&w->r, MAX_OPS + 1);
        for (uint32_t i = 0; i < w->req.nops; i++) w->ops[i] = random_op(w, 1, i);
    } else {
        w->ops[0] = random_op(w, 0, 0);
        w->req.type = w->ops[0].type;
        w->req.nops = 1;
    }
    if (w->req.type == ZAB_OP_CREATE_SESSION || w->req.type == ZAB_OP_CLOSE_SESSION)
        w->req.session = session_id(below(&w->r, NSESS));
    w->req.ops = w->ops;
    return &w->req;
}

static uint64_t digest_of(const zab_tree *t)
{
    zab_tree_stats st;
    zab_tree_stats_get(t, &st);
    return st.digest;
}

static int64_t last_zxid(const zab_tree *t)
{
    zab_tree_stats st;
    zab_tree_stats_get(t, &st);
    return st.last_zxid;
}

static int save_to_buf(void *ctx, const void *b, size_t n)
{
    return zab_buf_append(ctx, b, n);
}

static zab_buf snapshot(const zab_tree *t)
{
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_tree_save(t, save_to_buf, &b), 0);
    return b;
}

/* Prepare batches of requests on the leader, then apply each transaction on
 * the leader and on the followers. Returns the number of transactions. */
static int run_logged(uint64_t seed, zab_tree *leader, zab_tree **followers, int nf,
                      int max_batch, int steps, zab_buf *log)
{
    workload w;
    memset(&w, 0, sizeof(w));
    w.r.s = seed * 2654435761u + 1;
    rng batches = { seed + 17 }; /* apart from the requests' randomness */
    memset(w.passwd, 7, sizeof(w.passwd));
    zab_buf txns[8] = { { 0 } };
    int64_t zxid = last_zxid(leader), now = 1700000000000;
    int done = 0;
    while (done < steps) {
        int batch = 1 + (int)below(&batches, (uint32_t)max_batch);
        if (batch > steps - done) batch = steps - done;
        for (int i = 0; i < batch; i++) {
            txns[i].len = 0;
            int rc = zab_tree_prepare(leader, random_request(&w), zxid + 1 + i, ++now, &txns[i]);
            ck_assert_msg(rc == 0, "seed %llu step %d: prepare %d", (unsigned long long)seed, done, rc);
            if (log) ck_assert_int_eq(zab_buf_append(log, txns[i].data, txns[i].len), 0);
        }
        for (int i = 0; i < batch; i++) {
            zab_reply rl, rf;
            ck_assert_int_eq(zab_tree_apply(leader, zxid + 1 + i, txns[i].data, txns[i].len, &rl), 0);
            for (int f = 0; f < nf; f++) {
                ck_assert_int_eq(zab_tree_apply(followers[f], zxid + 1 + i, txns[i].data, txns[i].len, &rf), 0);
                ck_assert_msg(digest_of(followers[f]) == digest_of(leader),
                              "seed %llu: replicas differ after zxid %lld", (unsigned long long)seed,
                              (long long)(zxid + 1 + i));
            }
        }
        zxid += batch;
        done += batch;
    }
    for (int i = 0; i < 8; i++) zab_buf_free(&txns[i]);
    return done;
}

static int run_workload(uint64_t seed, zab_tree *leader, zab_tree **followers, int nf,
                        int max_batch, int steps)
{
    return run_logged(seed, leader, followers, nf, max_batch, steps, NULL);
}

START_TEST(replicas_agree_under_pipelining)
{
    for (uint64_t seed = 1; seed <= 30; seed++) {
        zab_tree *a = zab_tree_new(NULL), *b = zab_tree_new(NULL), *c = zab_tree_new(NULL);
        zab_tree *followers[2] = { b, c };
        run_workload(seed, a, followers, 2, 8, 400);
        zab_buf sa = snapshot(a), sb = snapshot(b);
        ck_assert_uint_eq(sa.len, sb.len);
        ck_assert_msg(memcmp(sa.data, sb.data, sa.len) == 0, "seed %llu: snapshots differ",
                      (unsigned long long)seed);
        zab_buf_free(&sa);
        zab_buf_free(&sb);
        zab_tree_free(a);
        zab_tree_free(b);
        zab_tree_free(c);
    }
}
END_TEST

/* A pipelined leader (up to eight requests prepared before the first
 * applies) must decide exactly what a leader that applies each transaction
 * before preparing the next decides: byte-identical transactions. */
START_TEST(pipelined_prepare_equals_sequential)
{
    for (uint64_t seed = 100; seed < 120; seed++) {
        zab_tree *piped = zab_tree_new(NULL), *seq = zab_tree_new(NULL);
        zab_buf log_piped = { 0 }, log_seq = { 0 };
        run_logged(seed, piped, NULL, 0, 8, 300, &log_piped);
        run_logged(seed, seq, NULL, 0, 1, 300, &log_seq);
        ck_assert_uint_eq(log_piped.len, log_seq.len);
        ck_assert_msg(memcmp(log_piped.data, log_seq.data, log_seq.len) == 0,
                      "seed %llu: pipelined prepare decided differently", (unsigned long long)seed);
        ck_assert_uint_eq(digest_of(piped), digest_of(seq));
        zab_buf_free(&log_piped);
        zab_buf_free(&log_seq);
        zab_tree_free(piped);
        zab_tree_free(seq);
    }
}
END_TEST

START_TEST(snapshot_round_trip)
{
    for (uint64_t seed = 200; seed < 215; seed++) {
        zab_tree *a = zab_tree_new(NULL);
        run_workload(seed, a, NULL, 0, 4, 300);
        zab_buf s1 = snapshot(a);
        zab_tree *b = zab_tree_new(NULL);
        ck_assert_int_eq(zab_tree_load_mem(b, s1.data, s1.len), 0);
        ck_assert_uint_eq(digest_of(a), digest_of(b));
        ck_assert_int_eq(last_zxid(a), last_zxid(b));
        zab_tree_stats sa, sb;
        zab_tree_stats_get(a, &sa);
        zab_tree_stats_get(b, &sb);
        ck_assert_uint_eq(sa.nodes, sb.nodes);
        ck_assert_uint_eq(sa.ephemerals, sb.ephemerals);
        ck_assert_uint_eq(sa.sessions, sb.sessions);
        ck_assert_uint_eq(sa.data_bytes, sb.data_bytes);
        /* The loaded replica keeps agreeing as the history goes on. */
        zab_tree *followers[1] = { b };
        run_workload(seed + 1000, a, followers, 1, 4, 200);
        zab_buf_free(&s1);
        zab_tree_free(a);
        zab_tree_free(b);
    }
}
END_TEST

START_TEST(failed_multi_changes_nothing)
{
    zab_tree *t = zab_tree_new(NULL);
    zab_buf txn = { 0 };
    zab_reply r;
    zab_op create = zab_op_create("/m", "x", 1, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_request req = { ZAB_OP_CREATE, 0, NULL, 0, &create, 1 };
    ck_assert_int_eq(zab_tree_prepare(t, &req, 1, 10, &txn), 0);
    ck_assert_int_eq(zab_tree_apply(t, 1, txn.data, txn.len, &r), 0);
    uint64_t before = digest_of(t);
    zab_op ops[3] = { zab_op_create("/m/a", "", 0, zab_acl_open, 1, ZAB_PERSISTENT),
                      zab_op_set_data("/m", "y", 1, 7), zab_op_delete("/m", -1) };
    zab_request multi = { ZAB_OP_MULTI, 0, NULL, 0, ops, 3 };
    txn.len = 0;
    ck_assert_int_eq(zab_tree_prepare(t, &multi, 2, 11, &txn), 0);
    ck_assert_int_eq(zab_tree_apply(t, 2, txn.data, txn.len, &r), 0);
    ck_assert_int_eq(r.err, 0);
    ck_assert_uint_eq(r.nresults, 3);
    ck_assert_int_eq(r.results[0].err, 0);
    ck_assert_int_eq(r.results[1].err, ZAB_EBADVERSION);
    ck_assert_int_eq(r.results[2].err, ZAB_ERUNTIMEINCONSISTENCY);
    ck_assert_uint_eq(digest_of(t), before);
    ck_assert_int_eq(last_zxid(t), 2);
    /* The rolled-back create left no pending trace: /m/a can be created. */
    zab_op again = zab_op_create("/m/a", "", 0, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_request req2 = { ZAB_OP_CREATE, 0, NULL, 0, &again, 1 };
    txn.len = 0;
    ck_assert_int_eq(zab_tree_prepare(t, &req2, 3, 12, &txn), 0);
    ck_assert_int_eq(zab_tree_apply(t, 3, txn.data, txn.len, &r), 0);
    ck_assert_int_eq(r.err, 0);
    zab_buf_free(&txn);
    zab_tree_free(t);
}
END_TEST

/* Every truncation and a spread of bit flips of a real snapshot: refused,
 * and the target tree keeps what it had. */
START_TEST(damaged_snapshots_are_refused)
{
    zab_tree *src = zab_tree_new(NULL);
    run_workload(77, src, NULL, 0, 4, 200);
    zab_buf s = snapshot(src);
    zab_tree *dst = zab_tree_new(NULL);
    run_workload(78, dst, NULL, 0, 2, 50);
    uint64_t before = digest_of(dst);
    for (size_t cut = 0; cut < s.len; cut += 1 + cut / 64)
        ck_assert_int_eq(zab_tree_load_mem(dst, s.data, cut), ZAB_ECORRUPT);
    uint8_t *copy = malloc(s.len + 1);
    memcpy(copy, s.data, s.len);
    copy[s.len] = 0;
    ck_assert_int_eq(zab_tree_load_mem(dst, copy, s.len + 1), ZAB_ECORRUPT); /* trailing byte */
    rng r = { 99 };
    for (int i = 0; i < 2000; i++) {
        size_t at = below(&r, (uint32_t)s.len);
        uint8_t bit = (uint8_t)(1u << below(&r, 8));
        copy[at] ^= bit;
        ck_assert_int_eq(zab_tree_load_mem(dst, copy, s.len), ZAB_ECORRUPT);
        copy[at] ^= bit;
    }
    ck_assert_uint_eq(digest_of(dst), before);
    ck_assert_int_eq(zab_tree_load_mem(dst, copy, s.len), 0);
    ck_assert_uint_eq(digest_of(dst), digest_of(src));
    free(copy);
    zab_buf_free(&s);
    zab_tree_free(src);
    zab_tree_free(dst);
}
END_TEST

/* Damaged transactions never crash a replica; a refused one changes
 * nothing. (Transactions carry no checksum of their own: the log and the
 * peer messages around them do. A flip may therefore still decode into a
 * different valid transaction, which is then applied like any other.) */
START_TEST(damaged_transactions_are_refused_whole)
{
    zab_tree *leader = zab_tree_new(NULL);
    run_workload(5, leader, NULL, 0, 1, 100);
    zab_tree *victim = zab_tree_new(NULL);
    zab_buf s = snapshot(leader);
    ck_assert_int_eq(zab_tree_load_mem(victim, s.data, s.len), 0);
    workload w;
    memset(&w, 0, sizeof(w));
    w.r.s = 4242;
    memset(w.passwd, 1, 16);
    zab_buf txn = { 0 };
    int64_t zxid = last_zxid(leader);
    int refused = 0;
    for (int i = 0; i < 300; i++) {
        txn.len = 0;
        ck_assert_int_eq(zab_tree_prepare(leader, random_request(&w), ++zxid, 5, &txn), 0);
        zab_reply r;
        ck_assert_int_eq(zab_tree_apply(leader, zxid, txn.data, txn.len, &r), 0);
        uint64_t before = digest_of(victim);
        size_t at = below(&w.r, (uint32_t)txn.len);
        txn.data[at] ^= (uint8_t)(1u << below(&w.r, 8));
        int rc = zab_tree_apply(victim, zxid, txn.data, below(&w.r, 4) ? txn.len : at, &r);
        ck_assert_msg(rc == 0 || rc == ZAB_ECORRUPT, "apply gave %d", rc);
        if (rc) {
            refused++;
            ck_assert_uint_eq(digest_of(victim), before);
        }
        /* Resynchronise the victim with the leader for the next round. */
        zab_buf_free(&s);
        s = snapshot(leader);
        ck_assert_int_eq(zab_tree_load_mem(victim, s.data, s.len), 0);
    }
    ck_assert_int_gt(refused, 50);
    zab_buf_free(&s);
    zab_buf_free(&txn);
    zab_tree_free(leader);
    zab_tree_free(victim);
}
END_TEST

static Suite *props_suite(void)
{
    Suite *s = suite_create("tree properties");
    TCase *tc = tcase_create("props");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, replicas_agree_under_pipelining);
    tcase_add_test(tc, pipelined_prepare_equals_sequential);
    tcase_add_test(tc, snapshot_round_trip);
    tcase_add_test(tc, failed_multi_changes_nothing);
    tcase_add_test(tc, damaged_snapshots_are_refused);
    tcase_add_test(tc, damaged_transactions_are_refused_whole);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(props_suite)
