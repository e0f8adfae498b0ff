/*
 * test_tree_multi.c - multi (atomic, one zxid, typed results, all-or-nothing
 * with [0.., code, -2..] error slots) and multiRead (independent reads with
 * per-op errors).
 *
 * "observed" marks results read from a stock ZooKeeper 3.8 server; where
 * 3.9 differs (create2 sub-ops), the 3.9 behaviour is expected.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "helpers/tree_driver.h"
#include "zab.h"

#define S1 INT64_C(0x0100000b26e90000)
#define S2 INT64_C(0x0100000b26e90001)
#define GONE INT64_C(0x0100000b26e9ffff)

/* Followers join before the first write so they see every transaction. */
static td *driver_with_followers(int followers)
{
    zab_tree_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.extended_types = 1;
    td *d = td_new(&cfg);
    for (int i = 0; i < followers; i++) td_add_follower(d);
    ck_assert_int_eq(td_session_open(d, S1, 30000)->err, ZAB_OK);
    ck_assert_int_eq(td_session_open(d, S2, 30000)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/m", "", ZAB_PERSISTENT)->err, ZAB_OK);
    return d;
}

static td *new_driver(void)
{
    return driver_with_followers(0);
}

static zab_op op_create(const char *path, const char *data, int32_t mode)
{
    zab_op op = zab_op_create(path, data, (int32_t)strlen(data), zab_acl_open, 1, mode);
    op.type = ZAB_OP_CREATE;
    op.ttl = -1;
    return op;
}

static zab_op op_create2(const char *path, const char *data, int32_t mode)
{
    zab_op op = op_create(path, data, mode);
    op.type = ZAB_OP_CREATE2;
    return op;
}

static zab_op op_set(const char *path, const char *data, int32_t version)
{
    return zab_op_set_data(path, data, (int32_t)strlen(data), version);
}

/* Every slot of a failed multi is an error result: 0 before the failing op,
 * its code, then ZRUNTIMEINCONSISTENCY. */
static void assert_failed(const td_reply *r, uint32_t n, uint32_t failing, int32_t code)
{
    ck_assert_int_eq(r->rc, ZAB_OK);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->nresults, n);
    for (uint32_t i = 0; i < n; i++) {
        int32_t want = i < failing ? ZAB_OK : i == failing ? code : ZAB_ERUNTIMEINCONSISTENCY;
        ck_assert_msg(r->results[i].type == ZAB_OP_ERROR, "slot %u type %d", i,
                      r->results[i].type);
        ck_assert_msg(r->results[i].err == want, "slot %u err %d, want %d", i,
                      r->results[i].err, want);
    }
}

/* ------------------------------------------------------------------------ */
/* Success                                                                   */
/* ------------------------------------------------------------------------ */

/* observed: [create /m/a, create2 /m/b, setData /m/a, check /m/b 0,
 * delete /m/b] -> types 1, 15 (3.9: with Stat; 3.8.0 answered 1), 5 with
 * the Stat (version 1, czxid = mzxid = the multi's zxid), 13, 2. */
START_TEST(multi_success_results)
{
    td *d = new_driver();
    int64_t zxid = td_next_zxid(d);
    int64_t now = td_clock(d);
    zab_op ops[5] = {
        op_create("/m/a", "1", ZAB_PERSISTENT),
        op_create2("/m/b", "22", ZAB_PERSISTENT),
        op_set("/m/a", "x", -1),
        zab_op_check("/m/b", 0),
        zab_op_delete("/m/b", -1),
    };
    const td_reply *r = td_multi(d, S1, ops, 5);
    ck_assert_int_eq(r->rc, ZAB_OK);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->zxid, zxid);
    ck_assert_uint_eq(r->nresults, 5);

    ck_assert_int_eq(r->results[0].type, ZAB_OP_CREATE);
    ck_assert_int_eq(r->results[0].err, ZAB_OK);
    ck_assert_str_eq(r->results[0].path, "/m/a");

    ck_assert_int_eq(r->results[1].type, ZAB_OP_CREATE2);
    ck_assert_int_eq(r->results[1].err, ZAB_OK);
    ck_assert_str_eq(r->results[1].path, "/m/b");
    ck_assert_int_eq(r->results[1].stat.czxid, zxid);
    ck_assert_int_eq(r->results[1].stat.mzxid, zxid);
    ck_assert_int_eq(r->results[1].stat.pzxid, zxid);
    ck_assert_int_eq(r->results[1].stat.ctime, now);
    ck_assert_int_eq(r->results[1].stat.data_length, 2);
    ck_assert_int_eq(r->results[1].stat.version, 0);

    ck_assert_int_eq(r->results[2].type, ZAB_OP_SET_DATA);
    ck_assert_int_eq(r->results[2].err, ZAB_OK);
    ck_assert_int_eq(r->results[2].stat.version, 1);
    ck_assert_int_eq(r->results[2].stat.czxid, zxid);
    ck_assert_int_eq(r->results[2].stat.mzxid, zxid);
    ck_assert_int_eq(r->results[2].stat.data_length, 1);

    ck_assert_int_eq(r->results[3].type, ZAB_OP_CHECK);
    ck_assert_int_eq(r->results[3].err, ZAB_OK);
    ck_assert_int_eq(r->results[4].type, ZAB_OP_DELETE);
    ck_assert_int_eq(r->results[4].err, ZAB_OK);

    ck_assert(td_node_exists(d, "/m/a"));
    ck_assert(!td_node_exists(d, "/m/b"));
    zab_stat m = td_stat(d, "/m");
    ck_assert_int_eq(m.num_children, 1);
    ck_assert_int_eq(m.cversion, 3); /* two creates, one delete */
    ck_assert_int_eq(m.pzxid, zxid);
    td_free(d);
}
END_TEST

/* observed: createContainer and createTTL sub-ops answer type 15 with the
 * Stat (ephemeralOwner 0 for both). */
START_TEST(multi_container_and_ttl_report_create2)
{
    td *d = new_driver();
    zab_op ops[2] = {
        op_create("/m/cc", "", ZAB_CONTAINER),
        op_create("/m/tt", "", ZAB_PERSISTENT_WITH_TTL),
    };
    ops[0].type = ZAB_OP_CREATE_CONTAINER;
    ops[1].type = ZAB_OP_CREATE_TTL;
    ops[1].ttl = 500;
    int64_t zxid = td_next_zxid(d);
    const td_reply *r = td_multi(d, S1, ops, 2);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->nresults, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(r->results[i].type, ZAB_OP_CREATE2);
        ck_assert_int_eq(r->results[i].err, ZAB_OK);
        ck_assert_int_eq(r->results[i].stat.czxid, zxid);
        ck_assert_int_eq(r->results[i].stat.ephemeral_owner, 0);
    }
    ck_assert_str_eq(r->results[0].path, "/m/cc");
    ck_assert_str_eq(r->results[1].path, "/m/tt");
    td_free(d);
}
END_TEST

/* A create2 sub-op of an ephemeral reports the owner in its Stat. */
START_TEST(multi_create2_ephemeral_stat)
{
    td *d = new_driver();
    zab_op ops[1] = { op_create2("/m/e", "", ZAB_EPHEMERAL_SEQUENTIAL) };
    const td_reply *r = td_multi(d, S2, ops, 1);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->results[0].type, ZAB_OP_CREATE2);
    ck_assert_str_eq(r->results[0].path, "/m/e0000000000");
    ck_assert_int_eq(r->results[0].stat.ephemeral_owner, S2);
    td_free(d);
}
END_TEST

/* Sub-ops are validated against the state the earlier sub-ops produce. */
START_TEST(multi_sees_earlier_ops)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/m/d", "old", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_op ops[6] = {
        op_create("/m/p", "", ZAB_PERSISTENT),
        op_create("/m/p/c", "", ZAB_PERSISTENT),
        op_set("/m/p/c", "v1", 0),
        op_set("/m/p/c", "v2", 1),
        zab_op_delete("/m/d", 0),
        op_create("/m/d", "again", ZAB_PERSISTENT),
    };
    int64_t zxid = td_next_zxid(d);
    const td_reply *r = td_multi(d, S1, ops, 6);
    ck_assert_int_eq(r->err, ZAB_OK);
    for (int i = 0; i < 6; i++) ck_assert_int_eq(r->results[i].err, ZAB_OK);
    ck_assert_int_eq(r->results[3].stat.version, 2);
    const td_reply *g = td_get(d, S1, "/m/p/c", 0);
    ck_assert_str_eq(g->r->data, "v2");
    ck_assert_int_eq(g->r->stat.version, 2);
    g = td_get(d, S1, "/m/d", 0);
    ck_assert_str_eq(g->r->data, "again");
    ck_assert_int_eq(g->r->stat.czxid, zxid);
    ck_assert_int_eq(g->r->stat.version, 0);
    /* Sequential names advance within one multi (observed: s0000000006,
     * s0000000007). */
    zab_op seq[2] = { op_create("/m/s", "", ZAB_PERSISTENT_SEQUENTIAL),
                      op_create("/m/s", "", ZAB_PERSISTENT_SEQUENTIAL) };
    r = td_multi(d, S1, seq, 2);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->results[0].path, "/m/s0000000003");
    ck_assert_str_eq(r->results[1].path, "/m/s0000000004");
    td_free(d);
}
END_TEST

/* Every sub-op carries the multi's one zxid. */
START_TEST(multi_one_zxid)
{
    td *d = new_driver();
    zab_op ops[3] = {
        op_create("/m/a", "", ZAB_PERSISTENT),
        op_create("/m/b", "", ZAB_PERSISTENT),
        op_create("/m/a/c", "", ZAB_PERSISTENT),
    };
    int64_t zxid = td_next_zxid(d);
    ck_assert_int_eq(td_multi(d, S1, ops, 3)->err, ZAB_OK);
    ck_assert_int_eq(td_stat(d, "/m/a").czxid, zxid);
    ck_assert_int_eq(td_stat(d, "/m/b").czxid, zxid);
    ck_assert_int_eq(td_stat(d, "/m/a/c").czxid, zxid);
    ck_assert_int_eq(td_stat(d, "/m/a").pzxid, zxid);
    ck_assert_int_eq(td_stat(d, "/m").pzxid, zxid);
    ck_assert_int_eq(td_next_zxid(d), zxid + 1);
    ck_assert_int_eq(td_stats(d).last_zxid, zxid);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Failure                                                                   */
/* ------------------------------------------------------------------------ */

/* observed: [create /m/c, check /m/a 7, setData /m/a] -> all error-typed
 * [0, -103, -2], header err 0, zxid consumed, nothing applied, and no
 * watch fires. */
START_TEST(multi_failure_rolls_back)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/m/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_exists(d, S2, "/m/c", 1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_children(d, S2, "/m", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, S2, "/m/a", 1)->err, ZAB_OK);
    zab_tree_stats before = td_stats(d);
    zab_stat m = td_stat(d, "/m");

    zab_op ops[3] = {
        op_create("/m/c", "", ZAB_PERSISTENT),
        zab_op_check("/m/a", 7),
        op_set("/m/a", "y", -1),
    };
    int64_t zxid = td_next_zxid(d);
    const td_reply *r = td_multi(d, S1, ops, 3);
    assert_failed(r, 3, 1, ZAB_EBADVERSION);
    ck_assert_int_eq(r->zxid, zxid);

    zab_tree_stats after = td_stats(d);
    ck_assert_uint_eq(after.digest, before.digest);
    ck_assert_uint_eq(after.nodes, before.nodes);
    ck_assert_int_eq(after.last_zxid, zxid);
    ck_assert(!td_node_exists(d, "/m/c"));
    ck_assert_int_eq(td_stat(d, "/m/a").version, 0);
    zab_stat m2 = td_stat(d, "/m");
    ck_assert_int_eq(m2.cversion, m.cversion);
    ck_assert_int_eq(m2.pzxid, m.pzxid);
    ck_assert_uint_eq(td_nevents(d), 0);

    /* The watches are still armed. */
    ck_assert_int_eq(td_create(d, S1, "/m/c", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_count_events(d, S2, ZAB_EVENT_CREATED, "/m/c"), 1);
    ck_assert_uint_eq(td_count_events(d, S2, ZAB_EVENT_CHILDREN_CHANGED, "/m"), 1);
    /* And the next create got the next zxid. */
    ck_assert_int_eq(td_stat(d, "/m/c").czxid, zxid + 1);
    td_free(d);
}
END_TEST

/* observed: failing first -> [-110, -2]; failing last -> [0, -110]. */
START_TEST(multi_failure_positions)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/m/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_op first[2] = { op_create("/m/a", "", ZAB_PERSISTENT),
                        op_create("/m/e", "", ZAB_PERSISTENT) };
    assert_failed(td_multi(d, S1, first, 2), 2, 0, ZAB_ENODEEXISTS);
    zab_op last[2] = { op_create("/m/e", "", ZAB_PERSISTENT),
                       op_create("/m/e", "", ZAB_PERSISTENT) };
    assert_failed(td_multi(d, S1, last, 2), 2, 1, ZAB_ENODEEXISTS);
    ck_assert(!td_node_exists(d, "/m/e"));
    /* observed: create of an ephemeral then a child under it -> [0, -108]. */
    zab_op eph[2] = { op_create("/m/eee", "", ZAB_EPHEMERAL),
                      op_create("/m/eee/x", "", ZAB_PERSISTENT) };
    assert_failed(td_multi(d, S1, eph, 2), 2, 1, ZAB_ENOCHILDRENFOREPHEMERALS);
    ck_assert(!td_node_exists(d, "/m/eee"));
    ck_assert_uint_eq(td_stats(d).ephemerals, 0);
    /* observed: check of a missing node -> [-101]; of a bad path -> [-8]. */
    zab_op chk = zab_op_check("/m/nope", -1);
    assert_failed(td_multi(d, S1, &chk, 1), 1, 0, ZAB_ENONODE);
    chk = zab_op_check("/m/", -1);
    assert_failed(td_multi(d, S1, &chk, 1), 1, 0, ZAB_EBADARGUMENTS);
    td_free(d);
}
END_TEST

/* observed: a failed multi leaves the parent's sequence counter where it
 * was: the next sequential name is the one the rolled-back create would
 * have got. */
START_TEST(multi_failure_keeps_sequence_counter)
{
    td *d = new_driver();
    zab_op ops[2] = { op_create("/m/s", "", ZAB_PERSISTENT_SEQUENTIAL),
                      zab_op_check("/m/nope", -1) };
    assert_failed(td_multi(d, S1, ops, 2), 2, 1, ZAB_ENONODE);
    const td_reply *r = td_create(d, S1, "/m/s", "", ZAB_PERSISTENT_SEQUENTIAL);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->r->path, "/m/s0000000000");
    td_free(d);
}
END_TEST

/* observed: a failure after a delete-then-create of the same path leaves
 * the original node exactly as it was ([0, 0, -103]). */
START_TEST(multi_failure_restores_replaced_node)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/m/d", "orig", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_stat before = td_stat(d, "/m/d");
    zab_op ops[3] = {
        zab_op_delete("/m/d", -1),
        op_create("/m/d", "new", ZAB_PERSISTENT),
        op_set("/m/d", "z", 5),
    };
    assert_failed(td_multi(d, S1, ops, 3), 3, 2, ZAB_EBADVERSION);
    const td_reply *g = td_get(d, S1, "/m/d", 0);
    ck_assert_int_eq(g->err, ZAB_OK);
    ck_assert_str_eq(g->r->data, "orig");
    ck_assert_int_eq(g->r->stat.czxid, before.czxid);
    td_free(d);
}
END_TEST

/* observed: an empty multi answers no results, header err 0, and still
 * consumes a zxid. */
START_TEST(multi_empty)
{
    td *d = new_driver();
    int64_t zxid = td_next_zxid(d);
    const td_reply *r = td_multi(d, S1, NULL, 0);
    ck_assert_int_eq(r->rc, ZAB_OK);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->nresults, 0);
    ck_assert_int_eq(r->zxid, zxid);
    ck_assert_int_eq(td_stats(d).last_zxid, zxid);
    td_free(d);
}
END_TEST

/* observed: a read op inside a write multi is a marshalling error for the
 * whole request (header err -5), which still consumes a zxid. */
START_TEST(multi_with_read_op)
{
    td *d = new_driver();
    zab_tree_stats before = td_stats(d);
    zab_op ops[2] = { zab_op_read(ZAB_OP_GET_DATA, "/m", 0),
                      op_create("/m/z", "", ZAB_PERSISTENT) };
    int64_t zxid = td_next_zxid(d);
    const td_reply *r = td_multi(d, S1, ops, 2);
    ck_assert_int_eq(r->rc, ZAB_OK);
    ck_assert_int_eq(r->err, ZAB_EMARSHALLING);
    ck_assert_int_eq(r->zxid, zxid);
    ck_assert(!td_node_exists(d, "/m/z"));
    ck_assert_uint_eq(td_stats(d).digest, before.digest);
    td_free(d);
}
END_TEST

/* observed: a sub-op type a multi may not carry (setACL here) is a
 * marshalling error for the whole request; the zxid is consumed. */
START_TEST(multi_with_unsupported_op)
{
    td *d = new_driver();
    zab_op ops[2] = { op_create("/m/z", "", ZAB_PERSISTENT),
                      zab_op_set_acl("/m", zab_acl_open, 1, -1) };
    int64_t zxid = td_next_zxid(d);
    const td_reply *r = td_multi(d, S1, ops, 2);
    ck_assert_int_eq(r->rc, ZAB_OK);
    ck_assert_int_eq(r->err, ZAB_EMARSHALLING);
    ck_assert_int_eq(r->zxid, zxid);
    ck_assert(!td_node_exists(d, "/m/z"));
    ck_assert_int_eq(td_stat(d, "/m").aversion, 0);
    td_free(d);
}
END_TEST

/* observed: deleting, in the same multi, a node given a child earlier in
 * it -> [0, 0, -111]. */
START_TEST(multi_delete_not_empty)
{
    td *d = new_driver();
    zab_op ops[3] = { op_create("/m/p", "", ZAB_PERSISTENT),
                      op_create("/m/p/c", "", ZAB_PERSISTENT), zab_op_delete("/m/p", -1) };
    assert_failed(td_multi(d, S1, ops, 3), 3, 2, ZAB_ENOTEMPTY);
    ck_assert(!td_node_exists(d, "/m/p"));
    td_free(d);
}
END_TEST

/* A multi by a session the tree does not know fails in its first sub-op
 * (each sub-op makes the session check) and applies nothing. */
START_TEST(multi_unknown_session)
{
    td *d = new_driver();
    zab_op ops[2] = { op_create("/m/a", "", ZAB_PERSISTENT),
                      op_create("/m/b", "", ZAB_PERSISTENT) };
    assert_failed(td_multi(d, GONE, ops, 2), 2, 0, ZAB_ESESSIONEXPIRED);
    ck_assert(!td_node_exists(d, "/m/a"));
    td_free(d);
}
END_TEST

/* Watches fire for each applied sub-op, in sub-op order, with the multi's
 * zxid. */
START_TEST(multi_fires_watches_in_order)
{
    td *d = new_driver();
    ck_assert_int_eq(td_add_watch(d, S2, "/m/a", ZAB_WATCH_PERSISTENT)->err, ZAB_OK);
    zab_op ops[3] = {
        op_create("/m/a", "", ZAB_PERSISTENT),
        op_set("/m/a", "x", -1),
        zab_op_delete("/m/a", -1),
    };
    int64_t zxid = td_next_zxid(d);
    ck_assert_int_eq(td_multi(d, S1, ops, 3)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 3);
    const int32_t want[3] = { ZAB_EVENT_CREATED, ZAB_EVENT_DATA_CHANGED, ZAB_EVENT_DELETED };
    for (size_t i = 0; i < 3; i++) {
        const td_event *e = td_event_at(d, i);
        ck_assert_int_eq(e->watcher, S2);
        ck_assert_int_eq(e->type, want[i]);
        ck_assert_str_eq(e->path, "/m/a");
        ck_assert_int_eq(e->zxid, zxid);
    }
    td_free(d);
}
END_TEST

/* Followers apply the same multi to the same state. */
START_TEST(multi_replicates)
{
    td *d = driver_with_followers(2);
    ck_assert_int_eq(td_create(d, S1, "/m/x", "", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_op ok[3] = { op_create("/m/s", "", ZAB_PERSISTENT_SEQUENTIAL),
                     op_create2("/m/e", "", ZAB_EPHEMERAL), op_set("/m/x", "v", 0) };
    ck_assert_int_eq(td_multi(d, S1, ok, 3)->err, ZAB_OK);
    zab_op bad[2] = { zab_op_delete("/m/x", -1), zab_op_check("/m/x", -1) };
    assert_failed(td_multi(d, S1, bad, 2), 2, 1, ZAB_ENONODE);
    td_assert_replicas_agree(d);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* multiRead                                                                 */
/* ------------------------------------------------------------------------ */

/* observed: [getData /m/a, getChildren /nope, getChildren /m, getData
 * /nope] -> [data+Stat, error -101, children, error -101]; header err 0; no
 * zxid consumed. */
START_TEST(multi_read_partial_failure)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/m/a", "x", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/m/b", "", ZAB_PERSISTENT)->err, ZAB_OK);
    int64_t last = td_last_zxid(d);
    zab_op ops[4] = {
        zab_op_read(ZAB_OP_GET_DATA, "/m/a", 0),
        zab_op_read(ZAB_OP_GET_CHILDREN, "/nope", 0),
        zab_op_read(ZAB_OP_GET_CHILDREN, "/m", 0),
        zab_op_read(ZAB_OP_GET_DATA, "/nope", 0),
    };
    const td_reply *r = td_read_multi(d, S1, ops, 4);
    ck_assert_int_eq(r->rc, ZAB_OK);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->nresults, 4);
    ck_assert_int_eq(r->zxid, last);

    ck_assert_int_eq(r->results[0].type, ZAB_OP_GET_DATA);
    ck_assert_int_eq(r->results[0].err, ZAB_OK);
    ck_assert_int_eq(r->results[0].data_len, 1);
    ck_assert_str_eq(r->results[0].data, "x");
    ck_assert_int_eq(r->results[0].stat.czxid, last - 1);

    ck_assert_int_eq(r->results[1].type, ZAB_OP_ERROR);
    ck_assert_int_eq(r->results[1].err, ZAB_ENONODE);

    ck_assert_int_eq(r->results[2].type, ZAB_OP_GET_CHILDREN);
    ck_assert_int_eq(r->results[2].err, ZAB_OK);
    ck_assert_uint_eq(r->results[2].nnames, 2);
    ck_assert_str_eq(r->results[2].names[0], "a");
    ck_assert_str_eq(r->results[2].names[1], "b");

    ck_assert_int_eq(r->results[3].type, ZAB_OP_ERROR);
    ck_assert_int_eq(r->results[3].err, ZAB_ENONODE);
    ck_assert_int_eq(td_stats(d).last_zxid, last);
    td_free(d);
}
END_TEST

/* observed: multiRead checks READ per op (ZNOAUTH in that slot only); it
 * never leaves a watch, even when the op asks for one. */
START_TEST(multi_read_acl_and_no_watch)
{
    td *d = new_driver();
    zab_acl no_read = { ZAB_PERM_ALL & ~ZAB_PERM_READ, { ZAB_STR("world"), ZAB_STR("anyone") } };
    ck_assert_int_eq(td_create_acl(d, S1, "/m/nr", "", &no_read, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/m/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_op ops[3] = {
        zab_op_read(ZAB_OP_GET_DATA, "/m/nr", 1),
        zab_op_read(ZAB_OP_GET_DATA, "/m/a", 1),
        zab_op_read(ZAB_OP_GET_CHILDREN, "/m", 1),
    };
    const td_reply *r = td_read_multi(d, S2, ops, 3);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->results[0].type, ZAB_OP_ERROR);
    ck_assert_int_eq(r->results[0].err, ZAB_ENOAUTH);
    ck_assert_int_eq(r->results[1].err, ZAB_OK);
    ck_assert_int_eq(r->results[2].err, ZAB_OK);
    ck_assert_uint_eq(td_stats(d).watches, 0);
    ck_assert_int_eq(td_set(d, S1, "/m/a", "x", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/m/b", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 0);
    td_free(d);
}
END_TEST

/* observed: a write op inside a multiRead -> ZMARSHALLINGERROR for the
 * whole request, nothing written, no zxid consumed. */
START_TEST(multi_read_with_write_op)
{
    td *d = new_driver();
    int64_t last = td_last_zxid(d);
    zab_op ops[2] = { zab_op_read(ZAB_OP_GET_DATA, "/m", 0),
                      op_create("/m/x", "", ZAB_PERSISTENT) };
    const td_reply *r = td_read_multi(d, S1, ops, 2);
    ck_assert_int_eq(r->rc, ZAB_OK);
    ck_assert_int_eq(r->err, ZAB_EMARSHALLING);
    ck_assert(!td_node_exists(d, "/m/x"));
    ck_assert_int_eq(td_stats(d).last_zxid, last);
    td_free(d);
}
END_TEST

START_TEST(multi_read_empty)
{
    td *d = new_driver();
    const td_reply *r = td_read_multi(d, S1, NULL, 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->nresults, 0);
    td_free(d);
}
END_TEST

static Suite *tree_multi_suite(void)
{
    Suite *s = suite_create("tree_multi");
    TCase *tc = tcase_create("success");
    tcase_add_test(tc, multi_success_results);
    tcase_add_test(tc, multi_container_and_ttl_report_create2);
    tcase_add_test(tc, multi_create2_ephemeral_stat);
    tcase_add_test(tc, multi_sees_earlier_ops);
    tcase_add_test(tc, multi_one_zxid);
    tcase_add_test(tc, multi_fires_watches_in_order);
    tcase_add_test(tc, multi_replicates);
    suite_add_tcase(s, tc);

    tc = tcase_create("failure");
    tcase_add_test(tc, multi_failure_rolls_back);
    tcase_add_test(tc, multi_failure_positions);
    tcase_add_test(tc, multi_failure_keeps_sequence_counter);
    tcase_add_test(tc, multi_failure_restores_replaced_node);
    tcase_add_test(tc, multi_empty);
    tcase_add_test(tc, multi_with_read_op);
    tcase_add_test(tc, multi_unknown_session);
    tcase_add_test(tc, multi_with_unsupported_op);
    tcase_add_test(tc, multi_delete_not_empty);
    suite_add_tcase(s, tc);

    tc = tcase_create("multi_read");
    tcase_add_test(tc, multi_read_partial_failure);
    tcase_add_test(tc, multi_read_acl_and_no_watch);
    tcase_add_test(tc, multi_read_empty);
    tcase_add_test(tc, multi_read_with_write_op);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(tree_multi_suite)
