/*
 * Sessions across the ensemble: the leader keeps each session's deadline,
 * clients' activity reaches it through their server (the leader itself, or
 * a learner's PING replies), and an idle session becomes one closeSession
 * transaction that removes its ephemerals on every replica, through leader
 * changes too.
 */
#include <string.h>

#include "check_main.h"
#include "helpers/sim_util.h"
#include "zab_sim.h"

enum { TIMEOUT_MS = 1000 };

static zab_sim *new_sim(uint64_t seed)
{
    zab_sim_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.voters = 3;
    cfg.seed = seed;
    zab_sim *sim = zab_sim_new(&cfg);
    ck_assert_ptr_nonnull(sim);
    ck_assert_int_gt(su_wait_leader(sim, 10000), 0);
    return sim;
}

/* Submit a write at sid and wait for it to succeed, retrying while the node
 * does not serve. */
static void write_ok(zab_sim *sim, int64_t sid, const zab_request *req)
{
    for (int tries = 0; tries < 200; tries++) {
        uint64_t id;
        int rc = zab_sim_submit(sim, sid, req, &id);
        int32_t err = rc;
        if (rc == 0 && !su_wait_result(sim, id, 5000, &err)) err = ZAB_EOPERATIONTIMEOUT;
        if (err == 0) return;
        ck_assert_msg(err == ZAB_ECONNECTIONLOSS, "write: %s", zab_strerror(err));
        ck_assert_int_ne(zab_sim_run(sim, 50), ZAB_EFAILED);
    }
    ck_abort_msg("write never succeeded");
}

static void open_session(zab_sim *sim, int64_t via, int64_t id)
{
    uint8_t passwd[16] = { 9, 9, 9 };
    zab_op op = { .type = ZAB_OP_CREATE_SESSION, .data = passwd, .data_len = 16, .ttl = -1 };
    op.timeout = zab_node_session_timeout(zab_sim_node(sim, via), TIMEOUT_MS);
    zab_request req = { op.type, id, NULL, 0, &op, 1 };
    write_ok(sim, via, &req);
}

static void create_ephemeral(zab_sim *sim, int64_t via, int64_t session, const char *path)
{
    zab_op op = zab_op_create(path, "e", 1, zab_acl_open, 1, ZAB_EPHEMERAL);
    zab_request req = { op.type, session, NULL, 0, &op, 1 };
    write_ok(sim, via, &req);
}

/* Keep session alive through node via for ms, touching every 100 ms. */
static void keep_alive(zab_sim *sim, int64_t via, int64_t session, int64_t ms)
{
    for (int64_t t = 0; t < ms; t += 100) {
        zab_node *n = zab_sim_node(sim, via);
        if (n) zab_node_touch(n, session);
        ck_assert_int_ne(zab_sim_run(sim, 100), ZAB_EFAILED);
    }
}

static int session_gone_everywhere(zab_sim *sim, int64_t session, const char *path)
{
    char buf[8];
    for (int64_t s = 1; s <= 3; s++) {
        zab_node *n = zab_sim_node(sim, s);
        if (!n) continue;
        if (zab_tree_session(zab_node_tree(n), session, NULL, NULL) != ZAB_ESESSIONEXPIRED) return 0;
        if (su_get(sim, s, path, buf, sizeof(buf)) != ZAB_ENONODE) return 0;
    }
    return 1;
}

START_TEST(timeouts_are_negotiated_within_bounds)
{
    zab_sim *sim = new_sim(1);
    zab_node *n = zab_sim_node(sim, 1);
    /* The simulator's tick is 100 ms: bounds 200 ms and 2000 ms. */
    ck_assert_int_eq(zab_node_session_timeout(n, 50), 200);
    ck_assert_int_eq(zab_node_session_timeout(n, 1000), 1000);
    ck_assert_int_eq(zab_node_session_timeout(n, 1000000), 2000);
    zab_sim_free(sim);
}
END_TEST

/* A client active through a follower keeps its session; once it falls
 * silent the session and its ephemeral go, on every replica. */
START_TEST(idle_session_expires_everywhere)
{
    zab_sim *sim = new_sim(2);
    int64_t f = su_follower(sim, 3), sid = 0x0200000000000001LL;
    open_session(sim, f, sid);
    create_ephemeral(sim, f, sid, "/eph");
    keep_alive(sim, f, sid, 4 * TIMEOUT_MS);
    char buf[8];
    for (int64_t s = 1; s <= 3; s++) ck_assert_int_eq(su_get(sim, s, "/eph", buf, sizeof(buf)), 0);
    /* Silence: gone within the timeout plus a tick or two of bucketing and
     * the commit itself. */
    ck_assert_int_ne(zab_sim_run(sim, TIMEOUT_MS + 400), ZAB_EFAILED);
    ck_assert_int_eq(zab_sim_settle(sim, 10000), 1);
    ck_assert(session_gone_everywhere(sim, sid, "/eph"));
    zab_sim_free(sim);
}
END_TEST

/* The leader dies while a session is idle: the next leader gives every
 * session a full timeout and then expires the idle one, exactly once. */
START_TEST(expiry_survives_leader_change)
{
    zab_sim *sim = new_sim(3);
    int64_t leader = zab_sim_leader(sim), f = su_follower(sim, 3);
    int64_t idle = 0x0200000000000002LL, busy = 0x0200000000000003LL;
    open_session(sim, f, idle);
    open_session(sim, f, busy);
    create_ephemeral(sim, f, idle, "/idle");
    create_ephemeral(sim, f, busy, "/busy");
    keep_alive(sim, f, busy, TIMEOUT_MS / 2);
    zab_sim_crash(sim, leader);
    ck_assert_int_gt(su_wait_leader(sim, 20000), 0);
    /* Whoever leads now, the busy client stays alive through follower f
     * (or the new leader, if f leads now). */
    keep_alive(sim, f, busy, 3 * TIMEOUT_MS);
    zab_sim_restart(sim, leader);
    keep_alive(sim, f, busy, 2 * TIMEOUT_MS);
    ck_assert(session_gone_everywhere(sim, idle, "/idle"));
    char buf[8];
    for (int64_t s = 1; s <= 3; s++) {
        if (!zab_sim_node(sim, s)) continue;
        ck_assert_int_eq(zab_tree_session(zab_node_tree(zab_sim_node(sim, s)), busy, NULL, NULL), 0);
    }
    ck_assert_int_eq(su_get(sim, f, "/busy", buf, sizeof(buf)), 0);
    zab_sim_free(sim);
}
END_TEST

/* Activity seen by the leader itself counts too. */
START_TEST(leader_side_activity_keeps_sessions)
{
    zab_sim *sim = new_sim(4);
    int64_t leader = zab_sim_leader(sim), sid = 0x0200000000000004LL;
    open_session(sim, leader, sid);
    create_ephemeral(sim, leader, sid, "/mine");
    keep_alive(sim, leader, sid, 5 * TIMEOUT_MS);
    char buf[8];
    ck_assert_int_eq(su_get(sim, leader, "/mine", buf, sizeof(buf)), 0);
    zab_sim_free(sim);
}
END_TEST

static int after_events(zab_sim *sim, void *arg)
{
    (void)sim;
    int *left = arg;
    return --*left <= 0;
}

static void close_session(zab_sim *sim, int64_t via, int64_t id)
{
    zab_op op = { .type = ZAB_OP_CLOSE_SESSION, .ttl = -1 };
    zab_request req = { op.type, id, NULL, 0, &op, 1 };
    write_ok(sim, via, &req);
}

/* ZOOKEEPER-2355: a follower that lost the closeSession proposal and whose
 * resynchronization was itself interrupted kept the session's ephemeral
 * forever (it had jumped its zxid to the DIFF target before applying what
 * it was sent). Here the follower's link drops with the proposal in
 * flight, and again after k events of its resynchronization, for many k:
 * the ephemeral must end up gone on every replica, and a session closed
 * through that follower afterwards must lose its ephemerals too. */
START_TEST(interrupted_resync_keeps_no_closed_ephemeral)
{
    for (int k = 0; k <= 40; k += 4) {
        zab_sim *sim = new_sim(100 + (uint64_t)k);
        int64_t leader = zab_sim_leader(sim), f = su_follower(sim, 3);
        int64_t sid = 0x0300000000000001LL + k, later = sid + 0x1000;
        open_session(sim, leader, sid);
        create_ephemeral(sim, leader, sid, "/e");
        ck_assert_int_eq(zab_sim_settle(sim, 10000), 1);

        zab_op op = { .type = ZAB_OP_CLOSE_SESSION, .ttl = -1 };
        zab_request req = { op.type, sid, NULL, 0, &op, 1 };
        uint64_t id;
        int32_t err = -1;
        ck_assert_int_eq(zab_sim_submit(sim, leader, &req, &id), 0);
        ck_assert_int_eq(zab_sim_partition(sim, leader, f, 0), 0);
        ck_assert(su_wait_result(sim, id, 5000, &err));
        ck_assert_int_eq(err, 0);
        zab_sim_heal(sim);
        int left = k;
        if (k) ck_assert_int_ne(zab_sim_run_until(sim, 5000, after_events, &left), ZAB_EFAILED);
        ck_assert_int_eq(zab_sim_partition(sim, leader, f, 0), 0);
        ck_assert_int_ne(zab_sim_run(sim, 300), ZAB_EFAILED);
        ck_assert_int_eq(zab_sim_settle(sim, 20000), 1);
        ck_assert_msg(session_gone_everywhere(sim, sid, "/e"), "cut after %d events", k);

        open_session(sim, f, later);
        create_ephemeral(sim, f, later, "/e2");
        close_session(sim, f, later);
        ck_assert_int_eq(zab_sim_settle(sim, 20000), 1);
        ck_assert_msg(session_gone_everywhere(sim, later, "/e2"), "cut after %d events", k);
        zab_sim_free(sim);
    }
}
END_TEST

static Suite *sessions_suite(void)
{
    Suite *s = suite_create("sessions");
    TCase *tc = tcase_create("expiry");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, timeouts_are_negotiated_within_bounds);
    tcase_add_test(tc, idle_session_expires_everywhere);
    tcase_add_test(tc, expiry_survives_leader_change);
    tcase_add_test(tc, leader_side_activity_keeps_sessions);
    suite_add_tcase(s, tc);
    TCase *replay = tcase_create("replay");
    tcase_set_timeout(replay, 60);
    tcase_add_test(replay, interrupted_resync_keeps_no_closed_ephemeral);
    suite_add_tcase(s, replay);
    return s;
}

ZAB_CHECK_MAIN(sessions_suite)
