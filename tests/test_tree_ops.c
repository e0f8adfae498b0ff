/*
 * test_tree_ops.c - every data-tree operation as a ZooKeeper client sees it:
 * create modes and their results, delete, setData, getData, exists,
 * getChildren(2), getACL/setACL, getAllChildrenNumber, getEphemerals, the
 * built-in nodes of a fresh server, and null versus empty data.
 *
 * Expected values come from ZooKeeper's behaviour; "observed" marks values
 * read from a stock ZooKeeper 3.8 standalone server.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "helpers/tree_driver.h"
#include "zab.h"

#define S1 INT64_C(0x0100000b26e90000)
#define S2 INT64_C(0x0100000b26e90001)

static td *new_driver(int extended_types)
{
    zab_tree_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.extended_types = extended_types;
    td *d = td_new(&cfg);
    ck_assert_int_eq(td_session_open(d, S1, 30000)->err, ZAB_OK);
    ck_assert_int_eq(td_session_open(d, S2, 30000)->err, ZAB_OK);
    return d;
}

static void assert_names(const td_result *r, const char *const *want, uint32_t n)
{
    ck_assert_uint_eq(r->nnames, n);
    for (uint32_t i = 0; i < n; i++) ck_assert_str_eq(r->names[i], want[i]);
}

static void assert_stat_eq(zab_stat a, zab_stat b)
{
    ck_assert_int_eq(a.czxid, b.czxid);
    ck_assert_int_eq(a.mzxid, b.mzxid);
    ck_assert_int_eq(a.ctime, b.ctime);
    ck_assert_int_eq(a.mtime, b.mtime);
    ck_assert_int_eq(a.version, b.version);
    ck_assert_int_eq(a.cversion, b.cversion);
    ck_assert_int_eq(a.aversion, b.aversion);
    ck_assert_int_eq(a.ephemeral_owner, b.ephemeral_owner);
    ck_assert_int_eq(a.data_length, b.data_length);
    ck_assert_int_eq(a.num_children, b.num_children);
    ck_assert_int_eq(a.pzxid, b.pzxid);
}

/* ------------------------------------------------------------------------ */
/* Built-in nodes                                                            */
/* ------------------------------------------------------------------------ */

/* observed on ZooKeeper 3.8: a fresh server's /, /zookeeper,
 * /zookeeper/quota and /zookeeper/config carry all-zero zxids and times;
 * / has cversion -1 (one child, stored counter 0), /zookeeper -2,
 * /zookeeper/config aversion -1. */
START_TEST(builtin_nodes_stat)
{
    td *d = td_new(NULL);
    zab_stat root = td_stat(d, "/");
    zab_stat want = { 0 };
    want.cversion = -1;
    want.num_children = 1;
    assert_stat_eq(root, want);

    want.cversion = -2;
    want.num_children = 2;
    assert_stat_eq(td_stat(d, "/zookeeper"), want);

    memset(&want, 0, sizeof(want));
    assert_stat_eq(td_stat(d, "/zookeeper/quota"), want);

    want.aversion = -1;
    assert_stat_eq(td_stat(d, "/zookeeper/config"), want);
    td_free(d);
}
END_TEST

START_TEST(builtin_nodes_acl)
{
    td *d = td_new(NULL);
    const char *open[] = { "/", "/zookeeper", "/zookeeper/quota" };
    for (int i = 0; i < 3; i++) {
        const td_reply *r = td_get_acl(d, 0, open[i]);
        ck_assert_int_eq(r->err, ZAB_OK);
        ck_assert_uint_eq(r->r->nacl, 1);
        ck_assert_int_eq(r->r->acl[0].perms, ZAB_PERM_ALL);
        ck_assert_str_eq(r->r->acl[0].scheme, "world");
        ck_assert_str_eq(r->r->acl[0].id, "anyone");
    }
    /* observed: /zookeeper/config is world:anyone READ only. */
    const td_reply *r = td_get_acl(d, 0, "/zookeeper/config");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->r->nacl, 1);
    ck_assert_int_eq(r->r->acl[0].perms, ZAB_PERM_READ);
    ck_assert_str_eq(r->r->acl[0].scheme, "world");
    ck_assert_str_eq(r->r->acl[0].id, "anyone");
    ck_assert_int_eq(r->r->stat.aversion, -1);
    td_free(d);
}
END_TEST

START_TEST(builtin_nodes_children_and_data)
{
    td *d = td_new(NULL);
    const td_reply *r = td_children(d, 0, "/", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    const char *root_kids[] = { "zookeeper" };
    assert_names(r->r, root_kids, 1);

    r = td_children(d, 0, "/zookeeper", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    const char *zk_kids[] = { "config", "quota" };
    assert_names(r->r, zk_kids, 2);

    /* observed: every built-in node holds empty (not null) data in a
     * standalone server. */
    const char *all[] = { "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config" };
    for (int i = 0; i < 4; i++) {
        r = td_get(d, 0, all[i], 0);
        ck_assert_int_eq(r->err, ZAB_OK);
        ck_assert_int_eq(r->r->data_len, 0);
        ck_assert_int_eq(r->r->stat.data_length, 0);
    }
    zab_tree_stats st = td_stats(d);
    ck_assert_uint_eq(st.nodes, 4);
    ck_assert_uint_eq(st.ephemerals, 0);
    ck_assert_uint_eq(st.sessions, 0);
    td_free(d);
}
END_TEST

/* observed: create under /zookeeper/config -> ZNOAUTH, setData and setACL
 * on it -> ZNOAUTH (its ACL is read-only); creating under /zookeeper is
 * allowed. */
START_TEST(builtin_config_is_read_only)
{
    td *d = new_driver(0);
    ck_assert_int_eq(td_create(d, S1, "/zookeeper/config/x", "", ZAB_PERSISTENT)->err,
                     ZAB_ENOAUTH);
    ck_assert_int_eq(td_set(d, S1, "/zookeeper/config", "x", -1)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_set_acl(d, S1, "/zookeeper/config", zab_acl_open, 1, -1)->err,
                     ZAB_ENOAUTH);
    ck_assert_int_eq(td_create(d, S1, "/zookeeper/mine", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/zookeeper/quota/app", "", ZAB_PERSISTENT)->err,
                     ZAB_OK);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Create modes                                                              */
/* ------------------------------------------------------------------------ */

START_TEST(create_returns_path)
{
    td *d = new_driver(0);
    const td_reply *r = td_create(d, S1, "/a", "hello", ZAB_PERSISTENT);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->nresults, 1);
    ck_assert_str_eq(r->r->path, "/a");
    ck_assert_int_eq(r->zxid, td_last_zxid(d));
    td_free(d);
}
END_TEST

/* observed: create2 of "/a" with "hello" answers path and the new node's
 * Stat: czxid = mzxid = pzxid = the txn zxid, ctime = mtime = the txn time,
 * versions 0, ephemeralOwner 0, dataLength 5, numChildren 0. */
START_TEST(create2_returns_stat)
{
    td *d = new_driver(0);
    int64_t zxid = td_next_zxid(d);
    int64_t now = td_clock(d);
    const td_reply *r = td_create2(d, S1, "/a", "hello", ZAB_PERSISTENT);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->zxid, zxid);
    ck_assert_str_eq(r->r->path, "/a");
    zab_stat want = { .czxid = zxid, .mzxid = zxid, .ctime = now, .mtime = now,
                      .data_length = 5, .pzxid = zxid };
    assert_stat_eq(r->r->stat, want);
    /* exists reports the same Stat. */
    assert_stat_eq(td_stat(d, "/a"), want);
    td_free(d);
}
END_TEST

/* observed: an ephemeral's ephemeralOwner is the creating session id, in
 * create2's Stat as in exists/getData. */
START_TEST(create_ephemeral)
{
    td *d = new_driver(0);
    ck_assert_int_eq(td_create(d, S1, "/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    const td_reply *r = td_create2(d, S1, "/a/e", "", ZAB_EPHEMERAL);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->r->path, "/a/e");
    ck_assert_int_eq(r->r->stat.ephemeral_owner, S1);
    ck_assert_int_eq(td_stat(d, "/a/e").ephemeral_owner, S1);
    const td_reply *g = td_get(d, S2, "/a/e", 0);
    ck_assert_int_eq(g->err, ZAB_OK);
    ck_assert_int_eq(g->r->stat.ephemeral_owner, S1);
    ck_assert_uint_eq(td_stats(d).ephemerals, 1);
    td_free(d);
}
END_TEST

START_TEST(create_persistent_sequential)
{
    td *d = new_driver(0);
    ck_assert_int_eq(td_create(d, S1, "/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    const td_reply *r = td_create2(d, S1, "/a/s-", "x", ZAB_PERSISTENT_SEQUENTIAL);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->r->path, "/a/s-0000000000");
    ck_assert_int_eq(r->r->stat.ephemeral_owner, 0);
    ck_assert_int_eq(r->r->stat.data_length, 1);
    ck_assert(td_node_exists(d, "/a/s-0000000000"));
    ck_assert(!td_node_exists(d, "/a/s-"));
    td_free(d);
}
END_TEST

/* observed: "/a/es-" after one other child of /a -> "/a/es-0000000001"
 * owned by the session, with null data reported as dataLength 0. */
START_TEST(create_ephemeral_sequential)
{
    td *d = new_driver(0);
    ck_assert_int_eq(td_create(d, S1, "/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/a/e", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    const td_reply *r = td_create2(d, S1, "/a/es-", NULL, ZAB_EPHEMERAL_SEQUENTIAL);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->r->path, "/a/es-0000000001");
    ck_assert_int_eq(r->r->stat.ephemeral_owner, S1);
    ck_assert_int_eq(r->r->stat.data_length, 0);
    ck_assert_uint_eq(td_stats(d).ephemerals, 2);
    td_free(d);
}
END_TEST

/* observed: a container (createContainer, opcode 19) reports
 * ephemeralOwner 0 and may have children; its create2-style result carries
 * the Stat. */
START_TEST(create_container)
{
    td *d = new_driver(0);
    int64_t zxid = td_next_zxid(d);
    const td_reply *r = td_create_container(d, S1, "/cont", "c");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->r->path, "/cont");
    ck_assert_int_eq(r->r->stat.czxid, zxid);
    ck_assert_int_eq(r->r->stat.ephemeral_owner, 0);
    ck_assert_int_eq(r->r->stat.data_length, 1);
    ck_assert_int_eq(td_create(d, S1, "/cont/kid", "", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_stat st = td_stat(d, "/cont");
    ck_assert_int_eq(st.ephemeral_owner, 0);
    ck_assert_int_eq(st.num_children, 1);
    /* A container is not the session's: closing it leaves the node. */
    ck_assert_int_eq(td_session_close(d, S1)->err, ZAB_OK);
    ck_assert(td_node_exists(d, "/cont"));
    ck_assert_uint_eq(td_stats(d).ephemerals, 0);
    td_free(d);
}
END_TEST

/* observed with zookeeper.extendedTypesEnabled=true: TTL nodes report
 * ephemeralOwner 0, may have children (then cversion 1, numChildren 1), and
 * the sequential TTL mode appends the parent's counter. */
START_TEST(create_ttl_enabled)
{
    td *d = new_driver(1);
    const td_reply *r = td_create_ttl(d, S1, "/ttl", "t", ZAB_PERSISTENT_WITH_TTL, 1000);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->r->path, "/ttl");
    ck_assert_int_eq(r->r->stat.ephemeral_owner, 0);
    ck_assert_int_eq(r->r->stat.data_length, 1);
    ck_assert_int_eq(td_create(d, S1, "/ttl/kid", "", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_stat st = td_stat(d, "/ttl");
    ck_assert_int_eq(st.ephemeral_owner, 0);
    ck_assert_int_eq(st.cversion, 1);
    ck_assert_int_eq(st.num_children, 1);

    /* / has had one user create (/ttl) so the counter is 1. */
    r = td_create_ttl(d, S1, "/ttls-", "t", ZAB_PERSISTENT_SEQUENTIAL_WITH_TTL, 1000);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->r->path, "/ttls-0000000001");
    ck_assert_int_eq(r->r->stat.ephemeral_owner, 0);

    /* observed: the largest TTL, 0xFFFFFFFFFF ms, is accepted. */
    r = td_create_ttl(d, S1, "/tmax", "", ZAB_PERSISTENT_WITH_TTL, INT64_C(0xFFFFFFFFFF));
    ck_assert_int_eq(r->err, ZAB_OK);
    /* TTL nodes are not the session's. */
    ck_assert_int_eq(td_session_close(d, S1)->err, ZAB_OK);
    ck_assert(td_node_exists(d, "/ttl"));
    ck_assert(td_node_exists(d, "/ttls-0000000001"));
    td_free(d);
}
END_TEST

/* observed on a server without extendedTypesEnabled: createTTL with mode 5
 * or 6 -> ZUNIMPLEMENTED; the zxid is still consumed. */
START_TEST(create_ttl_disabled)
{
    td *d = new_driver(0);
    int64_t zxid = td_next_zxid(d);
    const td_reply *r = td_create_ttl(d, S1, "/t", "", ZAB_PERSISTENT_WITH_TTL, 100);
    ck_assert_int_eq(r->err, ZAB_EUNIMPLEMENTED);
    ck_assert_int_eq(r->zxid, zxid);
    r = td_create_ttl(d, S1, "/t", "", ZAB_PERSISTENT_SEQUENTIAL_WITH_TTL, 100);
    ck_assert_int_eq(r->err, ZAB_EUNIMPLEMENTED);
    ck_assert(!td_node_exists(d, "/t"));
    ck_assert_int_eq(td_stat(d, "/").num_children, 1);
    ck_assert_int_eq(td_next_zxid(d), zxid + 2);
    td_free(d);
}
END_TEST

/* deleteContainer (the container reaper's request, sent by the system
 * session): PrepRequestProcessor checks the path (special paths ->
 * ZBADARGUMENTS), then existence, then children (ZNOTEMPTY), then refuses a
 * session's ephemeral (ZBADVERSION); no ACL is consulted. A delete it makes
 * is a delete like any other: the parent's pzxid and cversion move and the
 * watches fire. */
START_TEST(delete_container)
{
    td *d = new_driver(0);
    zab_acl no_delete = { ZAB_PERM_ALL & ~ZAB_PERM_DELETE, { ZAB_STR("world"), ZAB_STR("anyone") } };
    ck_assert_int_eq(td_create_acl(d, S1, "/p", "", &no_delete, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create_container(d, S1, "/p/c", "")->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/p/c/kid", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/p/e", "", ZAB_EPHEMERAL)->err, ZAB_OK);

    zab_op op = zab_op_delete("/p/c", -1);
    op.type = ZAB_OP_DELETE_CONTAINER;
    ck_assert_int_eq(td_write(d, 0, op)->err, ZAB_ENOTEMPTY);
    ck_assert_int_eq(td_delete(d, S1, "/p/c/kid", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_exists(d, S2, "/p/c", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_children(d, S2, "/p", 1)->err, ZAB_OK);
    zab_stat before = td_stat(d, "/p");
    int64_t zxid = td_next_zxid(d);
    ck_assert_int_eq(td_write(d, 0, op)->err, ZAB_OK);
    ck_assert(!td_node_exists(d, "/p/c"));
    zab_stat after = td_stat(d, "/p");
    ck_assert_int_eq(after.pzxid, zxid);
    ck_assert_int_eq(after.cversion, before.cversion + 1);
    ck_assert_uint_eq(td_count_events(d, S2, ZAB_EVENT_DELETED, "/p/c"), 1);
    ck_assert_uint_eq(td_count_events(d, S2, ZAB_EVENT_CHILDREN_CHANGED, "/p"), 1);

    ck_assert_int_eq(td_write(d, 0, op)->err, ZAB_ENONODE);
    op.path = ZAB_STR("/p/e");
    ck_assert_int_eq(td_write(d, 0, op)->err, ZAB_EBADVERSION);
    ck_assert(td_node_exists(d, "/p/e"));
    op.path = ZAB_STR("/zookeeper");
    ck_assert_int_eq(td_write(d, 0, op)->err, ZAB_EBADARGUMENTS);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Data                                                                      */
/* ------------------------------------------------------------------------ */

/* observed: data created null comes back null (length -1) and data created
 * empty comes back empty; dataLength is 0 for both. */
START_TEST(null_and_empty_data)
{
    td *d = new_driver(0);
    ck_assert_int_eq(td_create(d, S1, "/nul", NULL, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/emp", "", ZAB_PERSISTENT)->err, ZAB_OK);

    const td_reply *r = td_get(d, S1, "/nul", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->data_len, -1);
    ck_assert_int_eq(r->r->stat.data_length, 0);

    r = td_get(d, S1, "/emp", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->data_len, 0);
    ck_assert_int_eq(r->r->stat.data_length, 0);

    /* observed: setData with null data, then getData -> null. */
    ck_assert_int_eq(td_set(d, S1, "/emp", NULL, -1)->err, ZAB_OK);
    r = td_get(d, S1, "/emp", 0);
    ck_assert_int_eq(r->r->data_len, -1);
    ck_assert_int_eq(r->r->stat.data_length, 0);
    ck_assert_int_eq(r->r->stat.version, 1);

    ck_assert_int_eq(td_set(d, S1, "/nul", "", -1)->err, ZAB_OK);
    r = td_get(d, S1, "/nul", 0);
    ck_assert_int_eq(r->r->data_len, 0);
    td_free(d);
}
END_TEST

/* Data is bytes: embedded NULs and high bytes survive. */
START_TEST(binary_data_round_trip)
{
    td *d = new_driver(0);
    static const char bytes[] = { 'a', 0, (char)0xff, 0, 'z' };
    zab_op op = zab_op_create("/bin", bytes, 5, zab_acl_open, 1, ZAB_PERSISTENT);
    ck_assert_int_eq(td_write(d, S1, op)->err, ZAB_OK);
    const td_reply *r = td_get(d, S1, "/bin", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->data_len, 5);
    ck_assert_int_eq(r->r->stat.data_length, 5);
    ck_assert(memcmp(r->r->data, bytes, 5) == 0);
    td_free(d);
}
END_TEST

START_TEST(set_data_then_get)
{
    td *d = new_driver(0);
    ck_assert_int_eq(td_create(d, S1, "/a", "one", ZAB_PERSISTENT)->err, ZAB_OK);
    int64_t zxid = td_next_zxid(d);
    int64_t now = td_clock(d);
    const td_reply *r = td_set(d, S1, "/a", "three", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->stat.version, 1);
    ck_assert_int_eq(r->r->stat.mzxid, zxid);
    ck_assert_int_eq(r->r->stat.mtime, now);
    ck_assert_int_eq(r->r->stat.data_length, 5);

    r = td_get(d, S2, "/a", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->data_len, 5);
    ck_assert_str_eq(r->r->data, "three");
    ck_assert_int_eq(r->r->stat.version, 1);
    ck_assert_int_eq(r->zxid, zxid);
    td_free(d);
}
END_TEST

START_TEST(delete_removes_node)
{
    td *d = new_driver(0);
    ck_assert_int_eq(td_create(d, S1, "/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/a/b", "", ZAB_PERSISTENT)->err, ZAB_OK);
    uint64_t nodes = td_stats(d).nodes;
    const td_reply *r = td_delete(d, S1, "/a/b", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(td_exists(d, S1, "/a/b", 0)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_get(d, S1, "/a/b", 0)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_stat(d, "/a").num_children, 0);
    ck_assert_uint_eq(td_stats(d).nodes, nodes - 1);
    /* The name is free again. */
    ck_assert_int_eq(td_create(d, S1, "/a/b", "", ZAB_PERSISTENT)->err, ZAB_OK);
    td_free(d);
}
END_TEST

START_TEST(missing_node_reads)
{
    td *d = new_driver(0);
    ck_assert_int_eq(td_exists(d, S1, "/nope", 0)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_get(d, S1, "/nope", 0)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_children(d, S1, "/nope", 0)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_children2(d, S1, "/nope", 0)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_get_acl(d, S1, "/nope")->err, ZAB_ENONODE);
    ck_assert_int_eq(td_all_children(d, S1, "/nope")->err, ZAB_ENONODE);
    td_free(d);
}
END_TEST

/* observed: getData("") answers the root (the root is also stored under
 * the empty name; clients never send "" because they validate first). */
START_TEST(empty_path_reads_root)
{
    td *d = new_driver(0);
    const td_reply *r = td_exists(d, S1, "", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->stat.cversion, -1);
    ck_assert_int_eq(r->r->stat.num_children, 1);
    ck_assert_int_eq(td_get(d, S1, "", 0)->err, ZAB_OK);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Children                                                                  */
/* ------------------------------------------------------------------------ */

/* observed: getChildren answers child names (not paths); getChildren2 adds
 * the parent's Stat (cversion 3, numChildren 3, pzxid of the last create). */
START_TEST(get_children_names_and_parent_stat)
{
    td *d = new_driver(0);
    ck_assert_int_eq(td_create(d, S1, "/a", "hello", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/a/e", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/a/s-", "", ZAB_PERSISTENT_SEQUENTIAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/a/es-", "", ZAB_EPHEMERAL_SEQUENTIAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/a/e2", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, S1, "/a/e2", -1)->err, ZAB_OK);
    int64_t del = td_last_zxid(d);

    const td_reply *r = td_children(d, S2, "/a", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    const char *want[] = { "e", "es-0000000002", "s-0000000001" };
    assert_names(r->r, want, 3);

    r = td_children2(d, S2, "/a", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    assert_names(r->r, want, 3);
    zab_stat st = r->r->stat;
    ck_assert_int_eq(st.num_children, 3);
    ck_assert_int_eq(st.cversion, 5); /* 4 creates + 1 delete */
    ck_assert_int_eq(st.pzxid, del);
    ck_assert_int_eq(st.data_length, 5);
    ck_assert_int_eq(st.version, 0);

    r = td_children(d, S2, "/a/e", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->r->nnames, 0);
    td_free(d);
}
END_TEST

START_TEST(get_children_many)
{
    td *d = new_driver(0);
    ck_assert_int_eq(td_create(d, S1, "/p", "", ZAB_PERSISTENT)->err, ZAB_OK);
    char path[32];
    for (int i = 0; i < 300; i++) {
        snprintf(path, sizeof(path), "/p/c%03d", i);
        ck_assert_int_eq(td_create(d, S1, path, "", ZAB_PERSISTENT)->err, ZAB_OK);
    }
    for (int i = 0; i < 300; i += 3) {
        snprintf(path, sizeof(path), "/p/c%03d", i);
        ck_assert_int_eq(td_delete(d, S1, path, -1)->err, ZAB_OK);
    }
    const td_reply *r = td_children2(d, S1, "/p", 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->r->nnames, 200);
    ck_assert_int_eq(r->r->stat.num_children, 200);
    ck_assert_int_eq(r->r->stat.cversion, 400);
    uint32_t k = 0;
    for (int i = 0; i < 300; i++) {
        if (i % 3 == 0) continue;
        snprintf(path, sizeof(path), "c%03d", i);
        ck_assert_str_eq(r->r->names[k++], path);
    }
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* ACLs                                                                      */
/* ------------------------------------------------------------------------ */

START_TEST(set_acl_then_get_acl)
{
    td *d = new_driver(0);
    ck_assert_int_eq(td_create(d, S1, "/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_acl acl[2] = {
        { ZAB_PERM_READ | ZAB_PERM_ADMIN, { ZAB_STR("world"), ZAB_STR("anyone") } },
        { ZAB_PERM_ALL, { ZAB_STR("ip"), ZAB_STR("10.0.0.0/8") } },
    };
    const td_reply *r = td_set_acl(d, S1, "/a", acl, 2, 0);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->stat.aversion, 1);

    r = td_get_acl(d, S1, "/a");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->r->nacl, 2);
    ck_assert_int_eq(r->r->acl[0].perms, ZAB_PERM_READ | ZAB_PERM_ADMIN);
    ck_assert_str_eq(r->r->acl[0].scheme, "world");
    ck_assert_str_eq(r->r->acl[0].id, "anyone");
    ck_assert_int_eq(r->r->acl[1].perms, ZAB_PERM_ALL);
    ck_assert_str_eq(r->r->acl[1].scheme, "ip");
    ck_assert_str_eq(r->r->acl[1].id, "10.0.0.0/8");
    ck_assert_int_eq(r->r->stat.aversion, 1);
    td_free(d);
}
END_TEST

/* observed: a reader with READ but not ADMIN sees digest ids as "user:x";
 * the owner (ADMIN) sees the hash. */
START_TEST(get_acl_masks_digest_without_admin)
{
    td *d = new_driver(0);
    td_auth_add_digest(d, S1, "alice:pw");
    const char *alice = td_digest(d, "alice:pw");
    ck_assert_str_eq(alice, "alice:V55/p2T0OpjQ+low3NVAH4aLvm0=");
    zab_acl acl[2] = {
        { ZAB_PERM_ALL, { ZAB_STR("digest"), zab_str_c(alice) } },
        { ZAB_PERM_READ, { ZAB_STR("world"), ZAB_STR("anyone") } },
    };
    ck_assert_int_eq(td_create_acl(d, S1, "/rd", "", acl, 2, ZAB_PERSISTENT)->err, ZAB_OK);

    const td_reply *r = td_get_acl(d, S2, "/rd");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->r->nacl, 2);
    ck_assert_str_eq(r->r->acl[0].scheme, "digest");
    ck_assert_str_eq(r->r->acl[0].id, "alice:x");
    ck_assert_int_eq(r->r->acl[0].perms, ZAB_PERM_ALL);
    ck_assert_str_eq(r->r->acl[1].id, "anyone");

    r = td_get_acl(d, S1, "/rd");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->r->acl[0].id, alice);
    td_free(d);
}
END_TEST

/* observed: getACL needs READ or ADMIN: world perms 30 (no READ) -> the
 * list; perms 2 -> ZNOAUTH; perms 0 -> ZNOAUTH. */
START_TEST(get_acl_needs_read_or_admin)
{
    td *d = new_driver(0);
    zab_acl no_read[1] = { { ZAB_PERM_ALL & ~ZAB_PERM_READ,
                             { ZAB_STR("world"), ZAB_STR("anyone") } } };
    zab_acl write_only[1] = { { ZAB_PERM_WRITE, { ZAB_STR("world"), ZAB_STR("anyone") } } };
    zab_acl none[1] = { { 0, { ZAB_STR("world"), ZAB_STR("anyone") } } };
    ck_assert_int_eq(td_create_acl(d, S1, "/nr", "", no_read, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create_acl(d, S1, "/wo", "", write_only, 1, ZAB_PERSISTENT)->err,
                     ZAB_OK);
    ck_assert_int_eq(td_create_acl(d, S1, "/zero", "", none, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    const td_reply *r = td_get_acl(d, S2, "/nr");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->acl[0].perms, 30);
    ck_assert_int_eq(td_get_acl(d, S2, "/wo")->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_get_acl(d, S2, "/zero")->err, ZAB_ENOAUTH);
    td_free(d);
}
END_TEST

/* observed: duplicate entries are dropped (first kept, order preserved);
 * perms are stored as given, even 0 or above 31. */
START_TEST(acl_duplicates_and_perms)
{
    td *d = new_driver(0);
    zab_acl dup[3] = {
        { ZAB_PERM_ALL, { ZAB_STR("world"), ZAB_STR("anyone") } },
        { ZAB_PERM_ALL, { ZAB_STR("world"), ZAB_STR("anyone") } },
        { ZAB_PERM_READ, { ZAB_STR("world"), ZAB_STR("anyone") } },
    };
    ck_assert_int_eq(td_create_acl(d, S1, "/dup", "", dup, 3, ZAB_PERSISTENT)->err, ZAB_OK);
    const td_reply *r = td_get_acl(d, S1, "/dup");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->r->nacl, 2);
    ck_assert_int_eq(r->r->acl[0].perms, ZAB_PERM_ALL);
    ck_assert_int_eq(r->r->acl[1].perms, ZAB_PERM_READ);

    zab_acl big[1] = { { 99, { ZAB_STR("world"), ZAB_STR("anyone") } } };
    ck_assert_int_eq(td_create_acl(d, S1, "/p99", "", big, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    r = td_get_acl(d, S1, "/p99");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->acl[0].perms, 99);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* getAllChildrenNumber, getEphemerals                                       */
/* ------------------------------------------------------------------------ */

/* observed: "/" counts every node but the root (3 on a fresh server);
 * other paths count all descendants. */
START_TEST(get_all_children_number)
{
    td *d = new_driver(0);
    const td_reply *r = td_all_children(d, S1, "/");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->count, 3);
    ck_assert_int_eq(td_all_children(d, S1, "/zookeeper")->r->count, 2);

    ck_assert_int_eq(td_create(d, S1, "/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/a/b", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/a/b/c", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/a/d", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/ab", "", ZAB_PERSISTENT)->err, ZAB_OK);

    ck_assert_int_eq(td_all_children(d, S1, "/")->r->count, 8);
    r = td_all_children(d, S1, "/a");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->count, 3); /* not /ab */
    ck_assert_int_eq(td_all_children(d, S1, "/a/b")->r->count, 1);
    ck_assert_int_eq(td_all_children(d, S1, "/a/d")->r->count, 0);
    td_free(d);
}
END_TEST

/* observed: getEphemerals answers the calling session's ephemerals; a
 * prefix of "", "/" or blanks means all, otherwise plain string-prefix
 * matching ("/a/e" also matches "/a/es-..."). */
START_TEST(get_ephemerals_prefix)
{
    td *d = new_driver(0);
    ck_assert_int_eq(td_create(d, S1, "/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/a/e", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/a/es-", "", ZAB_EPHEMERAL_SEQUENTIAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/b", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S2, "/a/other", "", ZAB_EPHEMERAL)->err, ZAB_OK);

    const char *all[] = { "/a/e", "/a/es-0000000001", "/b" };
    const char *blanks[] = { "/", "", " ", " / " };
    for (int i = 0; i < 4; i++) {
        const td_reply *r = td_ephemerals(d, S1, blanks[i]);
        ck_assert_int_eq(r->err, ZAB_OK);
        assert_names(r->r, all, 3);
    }
    const td_reply *r = td_ephemerals(d, S1, "/a/e");
    const char *ae[] = { "/a/e", "/a/es-0000000001" };
    assert_names(r->r, ae, 2);
    r = td_ephemerals(d, S1, "/a/es");
    const char *aes[] = { "/a/es-0000000001" };
    assert_names(r->r, aes, 1);
    r = td_ephemerals(d, S1, "/a/");
    assert_names(r->r, ae, 2);
    ck_assert_uint_eq(td_ephemerals(d, S1, "/c")->r->nnames, 0);
    ck_assert_uint_eq(td_ephemerals(d, S1, "a")->r->nnames, 0);

    r = td_ephemerals(d, S2, "/");
    const char *other[] = { "/a/other" };
    assert_names(r->r, other, 1);
    /* The system session owns none. */
    r = td_ephemerals(d, 0, "/");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->r->nnames, 0);
    td_free(d);
}
END_TEST

/* data_bytes counts every node's path and data length. */
START_TEST(stats_data_bytes)
{
    td *d = new_driver(0);
    uint64_t base = td_stats(d).data_bytes;
    ck_assert_int_eq(td_create(d, S1, "/abc", "12345", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_stats(d).data_bytes, base + 4 + 5);
    ck_assert_int_eq(td_set(d, S1, "/abc", "1", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_stats(d).data_bytes, base + 4 + 1);
    ck_assert_int_eq(td_set(d, S1, "/abc", NULL, -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_stats(d).data_bytes, base + 4);
    ck_assert_uint_eq(td_stats(d).nodes, 5);
    ck_assert_int_eq(td_delete(d, S1, "/abc", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_stats(d).data_bytes, base);
    ck_assert_uint_eq(td_stats(d).nodes, 4);
    td_free(d);
}
END_TEST

/* An ip entry matches connections whose address lies in its network. */
START_TEST(ip_acl_matches_network)
{
    td *d = new_driver(0);
    zab_acl net[1] = { { ZAB_PERM_ALL, { ZAB_STR("ip"), ZAB_STR("10.0.0.0/8") } } };
    ck_assert_int_eq(td_create_acl(d, S1, "/net", "v", net, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    td_auth_add(d, S1, "ip", "10.1.2.3");
    td_auth_add(d, S2, "ip", "11.0.0.1");
    ck_assert_int_eq(td_get(d, S1, "/net", 0)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, S2, "/net", 0)->err, ZAB_ENOAUTH);
    /* observed: a 127.0.0.1 client is refused by 10.0.0.0/8. */
    td_auth_clear(d, S2);
    td_auth_add(d, S2, "ip", "127.0.0.1");
    ck_assert_int_eq(td_get(d, S2, "/net", 0)->err, ZAB_ENOAUTH);
    td_free(d);
}
END_TEST

/* A read is not a write: the tree refuses read-class requests in prepare
 * and write-class requests in read. */
START_TEST(read_and_write_classes)
{
    td *d = new_driver(0);
    zab_buf txn = { 0 };
    zab_op get = zab_op_read(ZAB_OP_GET_DATA, "/", 0);
    zab_request req = { .type = ZAB_OP_GET_DATA, .ops = &get, .nops = 1 };
    ck_assert_int_eq(zab_tree_prepare(td_tree(d), &req, td_next_zxid(d), td_clock(d), &txn),
                     ZAB_EINVAL);
    ck_assert_uint_eq(txn.len, 0);
    zab_op del = zab_op_delete("/x", -1);
    zab_request wreq = { .type = ZAB_OP_DELETE, .ops = &del, .nops = 1 };
    zab_reply reply;
    ck_assert_int_eq(zab_tree_read(td_tree(d), &wreq, &reply), ZAB_EINVAL);
    zab_buf_free(&txn);
    td_free(d);
}
END_TEST

static Suite *tree_ops_suite(void)
{
    Suite *s = suite_create("tree_ops");
    TCase *tc = tcase_create("builtin");
    tcase_add_test(tc, builtin_nodes_stat);
    tcase_add_test(tc, builtin_nodes_acl);
    tcase_add_test(tc, builtin_nodes_children_and_data);
    tcase_add_test(tc, builtin_config_is_read_only);
    suite_add_tcase(s, tc);

    tc = tcase_create("create");
    tcase_add_test(tc, create_returns_path);
    tcase_add_test(tc, create2_returns_stat);
    tcase_add_test(tc, create_ephemeral);
    tcase_add_test(tc, create_persistent_sequential);
    tcase_add_test(tc, create_ephemeral_sequential);
    tcase_add_test(tc, create_container);
    tcase_add_test(tc, create_ttl_enabled);
    tcase_add_test(tc, create_ttl_disabled);
    tcase_add_test(tc, delete_container);
    suite_add_tcase(s, tc);

    tc = tcase_create("data");
    tcase_add_test(tc, null_and_empty_data);
    tcase_add_test(tc, binary_data_round_trip);
    tcase_add_test(tc, set_data_then_get);
    tcase_add_test(tc, delete_removes_node);
    tcase_add_test(tc, missing_node_reads);
    tcase_add_test(tc, empty_path_reads_root);
    tcase_add_test(tc, read_and_write_classes);
    tcase_add_test(tc, stats_data_bytes);
    suite_add_tcase(s, tc);

    tc = tcase_create("children");
    tcase_add_test(tc, get_children_names_and_parent_stat);
    tcase_add_test(tc, get_children_many);
    tcase_add_test(tc, get_all_children_number);
    tcase_add_test(tc, get_ephemerals_prefix);
    suite_add_tcase(s, tc);

    tc = tcase_create("acl");
    tcase_add_test(tc, set_acl_then_get_acl);
    tcase_add_test(tc, get_acl_masks_digest_without_admin);
    tcase_add_test(tc, get_acl_needs_read_or_admin);
    tcase_add_test(tc, acl_duplicates_and_perms);
    tcase_add_test(tc, ip_acl_matches_network);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(tree_ops_suite)
