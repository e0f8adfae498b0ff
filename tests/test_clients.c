/*
 * Clients across the ensemble: a session's requests complete in the order
 * it sent them (reads wait behind its own writes, not behind anyone
 * else's); sync answers only after the leader proved with a quorum round
 * that it still leads; a session reconnects elsewhere with its password,
 * after which its former server's writes fail with SESSIONMOVED; watches
 * fire before the data they announce can be read, and are re-registered
 * on reconnect with the events missed in between.
 */
#include <string.h>

#include "check_main.h"
#include "helpers/sim_util.h"
#include "zab_sim.h"

enum { MAX_SEEN = 256 };

/* What the observers saw, in order. */
typedef struct seen {
    uint64_t id[MAX_SEEN];
    int32_t err[MAX_SEEN];
    int64_t sid[MAX_SEEN];
    char data[MAX_SEEN][16];
    uint32_t n;
    /* watch events */
    int64_t ev_sid[MAX_SEEN], ev_watcher[MAX_SEEN], ev_zxid[MAX_SEEN];
    int32_t ev_type[MAX_SEEN];
    uint32_t ev_at[MAX_SEEN]; /* replies seen before it */
    uint32_t nev;
} seen;

static void on_reply(void *ctx, int64_t sid, uint64_t id, const zab_reply *reply)
{
    seen *s = ctx;
    if (s->n == MAX_SEEN) return;
    uint32_t k = s->n++;
    s->id[k] = id;
    s->err[k] = reply->err;
    s->sid[k] = sid;
    s->data[k][0] = 0;
    if (reply->nresults == 1 && reply->results[0].data_len > 0) {
        size_t len = (size_t)reply->results[0].data_len;
        if (len > 15) len = 15;
        memcpy(s->data[k], reply->results[0].data, len);
        s->data[k][len] = 0;
    }
}

static void on_watch(void *ctx, int64_t sid, int64_t watcher, const zab_event *ev)
{
    seen *s = ctx;
    if (s->nev == MAX_SEEN) return;
    uint32_t k = s->nev++;
    s->ev_sid[k] = sid;
    s->ev_watcher[k] = watcher;
    s->ev_zxid[k] = ev->zxid;
    s->ev_type[k] = ev->type;
    s->ev_at[k] = s->n;
}

/* The position of request id among the replies, or -1. */
static int reply_at(const seen *s, uint64_t id)
{
    for (uint32_t k = 0; k < s->n; k++)
        if (s->id[k] == id) return (int)k;
    return -1;
}

static zab_sim *new_sim(uint64_t seed, seen *s)
{
    zab_sim_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.voters = 3;
    cfg.seed = seed;
    zab_sim *sim = zab_sim_new(&cfg);
    ck_assert_ptr_nonnull(sim);
    memset(s, 0, sizeof(*s));
    zab_sim_observe(sim, on_reply, on_watch, s);
    ck_assert_int_gt(su_wait_leader(sim, 10000), 0);
    return sim;
}

static const uint8_t PASSWD[16] = { 7, 1, 7, 1 };

static int32_t wait_err(zab_sim *sim, uint64_t id)
{
    int32_t err = ZAB_EOPERATIONTIMEOUT;
    ck_assert_msg(su_wait_result(sim, id, 5000, &err), "request %llu never finished",
                  (unsigned long long)id);
    return err;
}

static void open_session(zab_sim *sim, int64_t via, int64_t session)
{
    zab_op op = { .type = ZAB_OP_CREATE_SESSION, .data = PASSWD, .data_len = 16, .ttl = -1 };
    op.timeout = zab_node_session_timeout(zab_sim_node(sim, via), 4000);
    zab_request req = { op.type, session, NULL, 0, &op, 1 };
    uint64_t id;
    ck_assert_int_eq(zab_sim_submit(sim, via, &req, &id), 0);
    ck_assert_int_eq(wait_err(sim, id), ZAB_OK);
}

static int submit_op(zab_sim *sim, int64_t via, int64_t session, const zab_op *op, uint64_t *id)
{
    zab_request req = { op->type, session, NULL, 0, op, 1 };
    return zab_sim_submit(sim, via, &req, id);
}

static uint64_t set_data(zab_sim *sim, int64_t via, int64_t session, const char *path, const char *v)
{
    zab_op op = zab_op_set_data(path, v, (int32_t)strlen(v), -1);
    uint64_t id;
    ck_assert_int_eq(submit_op(sim, via, session, &op, &id), 0);
    return id;
}

static uint64_t get_data(zab_sim *sim, int64_t via, int64_t session, const char *path, int watch)
{
    zab_op op = zab_op_read(ZAB_OP_GET_DATA, path, watch);
    uint64_t id;
    ck_assert_int_eq(submit_op(sim, via, session, &op, &id), 0);
    return id;
}

static uint64_t sync_at(zab_sim *sim, int64_t via, int64_t session)
{
    zab_op op = zab_op_read(ZAB_OP_SYNC, "/", 0);
    uint64_t id;
    ck_assert_int_eq(submit_op(sim, via, session, &op, &id), 0);
    return id;
}

static void create_node(zab_sim *sim, const char *path, const char *v)
{
    ck_assert_int_eq(su_create_retry(sim, zab_sim_leader(sim), path, v, 5000), 0);
}

/* Every node holds everything the leader applied. */
static void catch_up(zab_sim *sim)
{
    ck_assert_int_eq(zab_sim_settle(sim, 10000), 1);
}

START_TEST(read_waits_for_own_write_only)
{
    seen s;
    zab_sim *sim = new_sim(11, &s);
    create_node(sim, "/k", "old");
    catch_up(sim);
    int64_t f = su_follower(sim, 3);
    open_session(sim, f, 0x100);
    open_session(sim, f, 0x200);
    catch_up(sim);

    uint64_t w = set_data(sim, f, 0x100, "/k", "new");
    uint64_t mine = get_data(sim, f, 0x100, "/k", 0);
    /* Another session's read does not wait: it is served at once, from
     * the tree as it is (the write is still on its way). */
    uint64_t other = get_data(sim, f, 0x200, "/k", 0);
    int at_other = reply_at(&s, other);
    ck_assert_int_ge(at_other, 0);
    ck_assert_str_eq(s.data[at_other], "old");
    ck_assert_int_lt(reply_at(&s, mine), 0);

    ck_assert_int_eq(wait_err(sim, mine), ZAB_OK);
    int at_w = reply_at(&s, w), at_mine = reply_at(&s, mine);
    ck_assert_int_ge(at_w, 0);
    ck_assert_int_eq(s.err[at_w], ZAB_OK);
    ck_assert_int_eq(at_mine, at_w + 1);
    ck_assert_str_eq(s.data[at_mine], "new");
    zab_sim_free(sim);
}
END_TEST

START_TEST(requests_complete_in_session_order)
{
    seen s;
    zab_sim *sim = new_sim(12, &s);
    create_node(sim, "/q", "0");
    catch_up(sim);
    int64_t f = su_follower(sim, 3);
    open_session(sim, f, 0x300);
    catch_up(sim);
    /* write, read, write, sync, read, write, read: each answered in turn,
     * each read seeing exactly the session's writes before it. */
    uint64_t ids[7];
    ids[0] = set_data(sim, f, 0x300, "/q", "1");
    ids[1] = get_data(sim, f, 0x300, "/q", 0);
    ids[2] = set_data(sim, f, 0x300, "/q", "2");
    ids[3] = sync_at(sim, f, 0x300);
    ids[4] = get_data(sim, f, 0x300, "/q", 0);
    ids[5] = set_data(sim, f, 0x300, "/q", "3");
    ids[6] = get_data(sim, f, 0x300, "/q", 0);
    ck_assert_int_eq(wait_err(sim, ids[6]), ZAB_OK);
    int prev = -1;
    for (int i = 0; i < 7; i++) {
        int at = reply_at(&s, ids[i]);
        ck_assert_msg(at > prev, "request %d answered out of order", i);
        ck_assert_int_eq(s.err[at], ZAB_OK);
        prev = at;
    }
    ck_assert_str_eq(s.data[reply_at(&s, ids[1])], "1");
    ck_assert_str_eq(s.data[reply_at(&s, ids[4])], "2");
    ck_assert_str_eq(s.data[reply_at(&s, ids[6])], "3");
    zab_sim_free(sim);
}
END_TEST

START_TEST(sync_then_read_sees_writes_acknowledged_elsewhere)
{
    seen s;
    zab_sim *sim = new_sim(13, &s);
    create_node(sim, "/s", "old");
    catch_up(sim);
    int64_t leader = zab_sim_leader(sim), f = su_follower(sim, 3);
    open_session(sim, f, 0x400);
    catch_up(sim);
    /* The leader acknowledges a write as soon as it commits; the follower
     * learns of the commit a moment later. */
    uint64_t w = set_data(sim, leader, 0, "/s", "new");
    ck_assert_int_eq(wait_err(sim, w), ZAB_OK);
    uint64_t plain = get_data(sim, f, 0x400, "/s", 0);
    ck_assert_str_eq(s.data[reply_at(&s, plain)], "old"); /* the lag sync exists for */
    uint64_t sy = sync_at(sim, f, 0x400);
    uint64_t after = get_data(sim, f, 0x400, "/s", 0);
    ck_assert_int_eq(wait_err(sim, after), ZAB_OK);
    ck_assert_int_eq(s.err[reply_at(&s, sy)], ZAB_OK);
    ck_assert_str_eq(s.data[reply_at(&s, after)], "new");
    zab_sim_free(sim);
}
END_TEST

START_TEST(isolated_leader_never_answers_sync)
{
    seen s;
    zab_sim *sim = new_sim(14, &s);
    int64_t leader = zab_sim_leader(sim);
    catch_up(sim);
    /* A healthy leader answers a sync within a round trip. */
    uint64_t ok = sync_at(sim, leader, 0);
    ck_assert_int_eq(zab_sim_run(sim, 20), 0);
    ck_assert_int_ge(reply_at(&s, ok), 0);
    ck_assert_int_eq(s.err[reply_at(&s, ok)], ZAB_OK);

    /* Behind a silent partition it still believes it leads for a while,
     * and could answer from its own state (ZooKeeper's sync does): ours
     * waits for a quorum that never comes, then fails with the leadership. */
    for (int64_t sid = 1; sid <= 3; sid++)
        if (sid != leader) ck_assert_int_eq(zab_sim_stall(sim, leader, sid, 0), 0);
    uint64_t cut = sync_at(sim, leader, 0);
    ck_assert_int_eq(zab_sim_run(sim, 100), 0);
    zab_node_stats st;
    zab_node_stats_get(zab_sim_node(sim, leader), &st);
    ck_assert_int_eq(st.role, ZAB_LEADING);
    ck_assert_int_lt(reply_at(&s, cut), 0);
    ck_assert_int_eq(wait_err(sim, cut), ZAB_ECONNECTIONLOSS);
    zab_sim_free(sim);
}
END_TEST

/* A leader that is a quorum alone confirms every round as it sends it:
 * its syncs, and its observer's, complete, however long it has led. */
START_TEST(lone_leader_answers_sync)
{
    for (uint32_t observers = 0; observers <= 1; observers++) {
        zab_sim_config cfg;
        memset(&cfg, 0, sizeof(cfg));
        cfg.voters = 1;
        cfg.observers = observers;
        cfg.seed = 18;
        zab_sim *sim = zab_sim_new(&cfg);
        ck_assert_ptr_nonnull(sim);
        ck_assert_int_eq(su_wait_leader(sim, 10000), 1);
        ck_assert_int_eq(zab_sim_settle(sim, 10000), 1);
        ck_assert_int_eq(zab_sim_run(sim, 3000), 0); /* many PING rounds */
        for (int64_t sid = 1; sid <= 1 + observers; sid++) {
            zab_op op = zab_op_read(ZAB_OP_SYNC, "/", 0);
            zab_request req = { op.type, 0, NULL, 0, &op, 1 };
            uint64_t id;
            int32_t err = -1;
            ck_assert_int_eq(zab_sim_submit(sim, sid, &req, &id), 0);
            ck_assert(su_wait_result(sim, id, 1000, &err));
            ck_assert_int_eq(err, ZAB_OK);
        }
        zab_sim_free(sim);
    }
}
END_TEST

START_TEST(reconnect_elsewhere_moves_the_session)
{
    seen s;
    zab_sim *sim = new_sim(15, &s);
    int64_t leader = zab_sim_leader(sim);
    int64_t f1 = su_follower(sim, 3), f2 = 6 - leader - f1;
    create_node(sim, "/m", "0");
    open_session(sim, f1, 0x500);
    catch_up(sim);
    uint8_t wrong[16] = { 1 };
    uint64_t id;
    ck_assert_int_eq(zab_sim_revalidate(sim, f2, 0x500, wrong, 0, &id), ZAB_EAUTHFAILED);
    ck_assert_int_eq(zab_sim_revalidate(sim, f2, 0x999, PASSWD, 0, &id), ZAB_ESESSIONEXPIRED);
    /* A client that saw more than the server holds must go elsewhere. */
    ck_assert_int_eq(zab_sim_revalidate(sim, f2, 0x500, PASSWD, su_applied(sim, f2) + 1, &id),
                     ZAB_ECONNECTIONLOSS);

    /* Before the move, the session writes through f1. */
    ck_assert_int_eq(wait_err(sim, set_data(sim, f1, 0x500, "/m", "a")), ZAB_OK);
    ck_assert_int_eq(zab_sim_revalidate(sim, f2, 0x500, PASSWD, su_applied(sim, f2), &id), 0);
    ck_assert_int_eq(wait_err(sim, id), ZAB_OK);
    /* The old connection's writes and syncs are refused; the new one's work. */
    ck_assert_int_eq(wait_err(sim, set_data(sim, f1, 0x500, "/m", "b")), ZAB_ESESSIONMOVED);
    ck_assert_int_eq(wait_err(sim, sync_at(sim, f1, 0x500)), ZAB_ESESSIONMOVED);
    ck_assert_int_eq(wait_err(sim, set_data(sim, f2, 0x500, "/m", "c")), ZAB_OK);
    catch_up(sim);
    char buf[8];
    for (int64_t sid = 1; sid <= 3; sid++) {
        ck_assert_int_eq(su_get(sim, sid, "/m", buf, sizeof buf), 0);
        ck_assert_str_eq(buf, "c");
    }
    /* The refused write still consumed its zxid, as ZooKeeper's error
     * transactions do: /m went through versions 1 (a) and 2 (c) only. */
    zab_op op = zab_op_read(ZAB_OP_EXISTS, "/m", 0);
    zab_request req = { op.type, 0, NULL, 0, &op, 1 };
    zab_reply reply;
    ck_assert_int_eq(zab_tree_read(zab_node_tree(zab_sim_node(sim, f2)), &req, &reply), 0);
    ck_assert_int_eq(reply.results[0].stat.version, 2);

    /* Moving back to the leader itself works the same way. */
    ck_assert_int_eq(zab_sim_revalidate(sim, leader, 0x500, PASSWD, su_applied(sim, f2), &id), 0);
    ck_assert_int_eq(wait_err(sim, id), ZAB_OK);
    ck_assert_int_eq(wait_err(sim, set_data(sim, f2, 0x500, "/m", "d")), ZAB_ESESSIONMOVED);
    ck_assert_int_eq(wait_err(sim, set_data(sim, leader, 0x500, "/m", "e")), ZAB_OK);
    zab_sim_free(sim);
}
END_TEST

START_TEST(watch_fires_before_its_data_is_readable)
{
    seen s;
    zab_sim *sim = new_sim(16, &s);
    create_node(sim, "/w", "0");
    catch_up(sim);
    int64_t leader = zab_sim_leader(sim), f = su_follower(sim, 3);
    open_session(sim, f, 0x600);
    catch_up(sim);
    ck_assert_int_eq(wait_err(sim, get_data(sim, f, 0x600, "/w", 1)), ZAB_OK);
    (void)set_data(sim, leader, 0, "/w", "1");
    /* Poll the follower every millisecond until it shows the new data. */
    uint64_t seen_new = 0;
    for (int i = 0; i < 2000 && !seen_new; i++) {
        uint64_t r = get_data(sim, f, 0, "/w", 0);
        int at = reply_at(&s, r);
        ck_assert_int_ge(at, 0);
        if (!strcmp(s.data[at], "1")) seen_new = r;
        else ck_assert_int_eq(zab_sim_run(sim, 1), 0);
    }
    ck_assert_uint_ne(seen_new, 0);
    uint32_t events = 0;
    for (uint32_t k = 0; k < s.nev; k++) {
        if (s.ev_sid[k] != f || s.ev_watcher[k] != 0x600) continue;
        events++;
        ck_assert_int_eq(s.ev_type[k], ZAB_EVENT_DATA_CHANGED);
        ck_assert_int_le((int)s.ev_at[k], reply_at(&s, seen_new));
    }
    ck_assert_uint_eq(events, 1);
    zab_sim_free(sim);
}
END_TEST

START_TEST(watches_survive_a_reconnect)
{
    seen s;
    zab_sim *sim = new_sim(17, &s);
    create_node(sim, "/a", "0");
    create_node(sim, "/b", "0");
    catch_up(sim);
    int64_t leader = zab_sim_leader(sim);
    int64_t f1 = su_follower(sim, 3), f2 = 6 - leader - f1;
    open_session(sim, f1, 0x700);
    catch_up(sim);
    ck_assert_int_eq(wait_err(sim, get_data(sim, f1, 0x700, "/a", 1)), ZAB_OK);
    ck_assert_int_eq(wait_err(sim, get_data(sim, f1, 0x700, "/b", 1)), ZAB_OK);
    int64_t last_seen = su_applied(sim, f1);
    /* The client loses f1; while it is away /a changes. */
    zab_tree_drop_watcher(zab_node_tree(zab_sim_node(sim, f1)), 0x700);
    ck_assert_int_eq(wait_err(sim, set_data(sim, leader, 0, "/a", "1")), ZAB_OK);
    catch_up(sim);
    uint32_t before = s.nev;
    uint64_t id;
    ck_assert_int_eq(zab_sim_revalidate(sim, f2, 0x700, PASSWD, last_seen, &id), 0);
    ck_assert_int_eq(wait_err(sim, id), ZAB_OK);
    zab_str paths[2] = { zab_str_c("/a"), zab_str_c("/b") };
    ck_assert_int_eq(zab_tree_set_watches(zab_node_tree(zab_sim_node(sim, f2)), 0x700, NULL, 0,
                                          last_seen, ZAB_SETWATCH_DATA, paths, 2), 0);
    /* The change it missed arrives at once; /b's watch stays armed. */
    ck_assert_uint_eq(s.nev, before + 1);
    ck_assert_int_eq(s.ev_type[before], ZAB_EVENT_DATA_CHANGED);
    ck_assert_int_eq(s.ev_sid[before], f2);
    ck_assert_int_eq(wait_err(sim, set_data(sim, leader, 0, "/b", "1")), ZAB_OK);
    catch_up(sim);
    uint32_t on_f2 = 0;
    for (uint32_t k = before; k < s.nev; k++)
        on_f2 += s.ev_sid[k] == f2 && s.ev_watcher[k] == 0x700;
    ck_assert_uint_eq(on_f2, 2);
    zab_sim_free(sim);
}
END_TEST

static Suite *clients_suite(void)
{
    Suite *s = suite_create("clients");
    TCase *order = tcase_create("order");
    tcase_set_timeout(order, 30);
    tcase_add_test(order, read_waits_for_own_write_only);
    tcase_add_test(order, requests_complete_in_session_order);
    suite_add_tcase(s, order);
    TCase *sync = tcase_create("sync");
    tcase_set_timeout(sync, 30);
    tcase_add_test(sync, sync_then_read_sees_writes_acknowledged_elsewhere);
    tcase_add_test(sync, isolated_leader_never_answers_sync);
    tcase_add_test(sync, lone_leader_answers_sync);
    suite_add_tcase(s, sync);
    TCase *moves = tcase_create("moves");
    tcase_set_timeout(moves, 30);
    tcase_add_test(moves, reconnect_elsewhere_moves_the_session);
    tcase_add_test(moves, watch_fires_before_its_data_is_readable);
    tcase_add_test(moves, watches_survive_a_reconnect);
    suite_add_tcase(s, moves);
    return s;
}

ZAB_CHECK_MAIN(clients_suite)
