/*
 * test_tree_errors.c - which error each operation reports when several
 * checks would fail: ZooKeeper validates in a fixed order (the first failing
 * check decides) and clients observe that order.
 *
 * Order per PrepRequestProcessor (3.9) for writes and FinalRequestProcessor
 * for reads; "observed" marks results read from a stock ZooKeeper 3.8
 * server.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "helpers/tree_driver.h"
#include "zab.h"

#define S1 INT64_C(0x0100000b26e90000)
#define S2 INT64_C(0x0100000b26e90001)
#define GONE INT64_C(0x0100000b26e9ffff) /* never opened */

static const zab_acl acl_read_only[1] = {
    { ZAB_PERM_READ, { { "world", 5 }, { "anyone", 6 } } }
};

static zab_acl world(int32_t perms)
{
    zab_acl a = { perms, { ZAB_STR("world"), ZAB_STR("anyone") } };
    return a;
}

static td *driver_with(int extended_types)
{
    zab_tree_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.extended_types = extended_types;
    td *d = td_new(&cfg);
    ck_assert_int_eq(td_session_open(d, S1, 30000)->err, ZAB_OK);
    ck_assert_int_eq(td_session_open(d, S2, 30000)->err, ZAB_OK);
    return d;
}

static td *new_driver(void)
{
    return driver_with(0);
}

/* A create with an explicit ACL list (possibly empty). */
static const td_reply *create_with(td *d, int64_t s, const char *path, const zab_acl *acl,
                                   uint32_t nacl, int32_t mode)
{
    return td_create_acl(d, s, path, "", acl, nacl, mode);
}

/* A create (opcode 1) whose path is given as bytes (may hold a NUL). */
static const td_reply *create_bytes(td *d, int64_t s, const char *path, uint32_t len)
{
    zab_op op = zab_op_create("/", "", 0, zab_acl_open, 1, ZAB_PERSISTENT);
    op.type = ZAB_OP_CREATE;
    op.path.ptr = path;
    op.path.len = len;
    op.ttl = -1;
    return td_write(d, s, op);
}

static const td_reply *create_flags(td *d, int64_t s, const char *path, int32_t flags,
                                    uint32_t nacl)
{
    zab_op op = zab_op_create(path, "", 0, zab_acl_open, nacl, ZAB_PERSISTENT);
    op.type = ZAB_OP_CREATE;
    op.flags = flags;
    op.ttl = -1;
    return td_write(d, s, op);
}

/* The tree did not change: same digest and node count as before. */
static void assert_unchanged(td *d, zab_tree_stats before)
{
    zab_tree_stats now = td_stats(d);
    ck_assert_uint_eq(now.digest, before.digest);
    ck_assert_uint_eq(now.nodes, before.nodes);
}

/* ------------------------------------------------------------------------ */
/* create                                                                    */
/* ------------------------------------------------------------------------ */

/* observed: a final path is judged as the UTF-16 text Java decodes: é,
 * U+00A0, U+D7FF, U+F900, U+FFEF, a space, "..." and ".a" are fine; U+007F,
 * U+0080, U+E000 (private use), U+FFFF, any code point above U+FFFF (emoji),
 * and bytes that are not UTF-8 (decoded to U+FFFD) -> ZBADARGUMENTS. */
START_TEST(create_path_unicode)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/u", "", ZAB_PERSISTENT)->err, ZAB_OK);
    static const char *const ok[] = { "/u/\xc3\xa9", "/u/\xc2\xa0", "/u/\xed\x9f\xbf",
                                      "/u/\xef\xa4\x80", "/u/\xef\xbf\xaf", "/u/a b",
                                      "/u/...", "/u/.a" };
    static const char *const bad[] = { "/u/\x7f", "/u/\xc2\x80", "/u/\xee\x80\x80",
                                       "/u/\xef\xbf\xbf", "/u/\xf0\x9f\x98\x80", "/u/\xff",
                                       "/u/\xc0\xaf" };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        ck_assert_msg(td_create(d, S1, ok[i], "", ZAB_PERSISTENT)->err == ZAB_OK, "ok %zu", i);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(td_create(d, S1, bad[i], "", ZAB_PERSISTENT)->err == ZAB_EBADARGUMENTS,
                      "bad %zu", i);
    ck_assert_int_eq(td_stat(d, "/u").num_children, (int)(sizeof(ok) / sizeof(ok[0])));
    td_free(d);
}
END_TEST

/* observed: an empty ACL list wins over both NODEEXISTS and a missing
 * parent (the ACL fix-up precedes the parent and existence checks). */
START_TEST(create_empty_acl_first)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/e", "", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_tree_stats before = td_stats(d);
    ck_assert_int_eq(create_with(d, S1, "/e", NULL, 0, ZAB_PERSISTENT)->err, ZAB_EINVALIDACL);
    ck_assert_int_eq(create_with(d, S1, "/nope/x", NULL, 0, ZAB_PERSISTENT)->err,
                     ZAB_EINVALIDACL);
    assert_unchanged(d, before);
    td_free(d);
}
END_TEST

/* observed: malformed paths whose "parent" (text before the last '/')
 * does not exist fail with ZNONODE; once the parent exists, the full path
 * validation after it answers ZBADARGUMENTS. */
START_TEST(create_path_checks_order)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/e", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/nope/./b", "", ZAB_PERSISTENT)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_create(d, S1, "/e/./b", "", ZAB_PERSISTENT)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_create(d, S1, "/e//b", "", ZAB_PERSISTENT)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_create(d, S1, "/e/b/", "", ZAB_PERSISTENT)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_create(d, S1, "/a/../b", "", ZAB_PERSISTENT)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_create(d, S1, "/e/.", "", ZAB_PERSISTENT)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_create(d, S1, "/e/..", "", ZAB_PERSISTENT)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_create(d, S1, "/e/", "", ZAB_PERSISTENT)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_create(d, S1, "/e/a\001b", "", ZAB_PERSISTENT)->err,
                     ZAB_EBADARGUMENTS);
    /* The light check comes first: no '/' at all, empty, or a NUL. */
    ck_assert_int_eq(td_create(d, S1, "abc", "", ZAB_PERSISTENT)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_create(d, S1, "", "", ZAB_PERSISTENT)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(create_bytes(d, S1, "/nope/a\0b", 9)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(create_bytes(d, S1, "/e/a\0b", 6)->err, ZAB_EBADARGUMENTS);
    td_free(d);
}
END_TEST

/* observed: create "/" and "/zookeeper" -> ZNODEEXISTS (they are valid
 * paths whose parent exists). */
START_TEST(create_existing_builtin)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/", "", ZAB_PERSISTENT)->err, ZAB_ENODEEXISTS);
    ck_assert_int_eq(td_create(d, S1, "/zookeeper", "", ZAB_PERSISTENT)->err,
                     ZAB_ENODEEXISTS);
    ck_assert_int_eq(td_create(d, S1, "/zookeeper/quota", "", ZAB_PERSISTENT)->err,
                     ZAB_ENODEEXISTS);
    td_free(d);
}
END_TEST

/* observed: flags 7, -1 and 9 -> ZBADARGUMENTS; the flags are checked
 * before anything else (an empty ACL list does not matter). */
START_TEST(create_unknown_flags)
{
    td *d = new_driver();
    int64_t zxid = td_next_zxid(d);
    ck_assert_int_eq(create_flags(d, S1, "/f", 7, 1)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(create_flags(d, S1, "/f", -1, 1)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(create_flags(d, S1, "/f", 9, 1)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(create_flags(d, S1, "/f", 99, 0)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(create_flags(d, GONE, "bad", 99, 0)->err, ZAB_EBADARGUMENTS);
    ck_assert(!td_node_exists(d, "/f"));
    ck_assert_int_eq(td_next_zxid(d), zxid + 5);
    td_free(d);
}
END_TEST

/* observed without extendedTypesEnabled: any TTL mode -> ZUNIMPLEMENTED,
 * even with an invalid ttl or through opcode 1; unknown flags still
 * ZBADARGUMENTS; a non-TTL mode with ttl >= 0 -> ZBADARGUMENTS. */
START_TEST(create_ttl_without_extended_types)
{
    td *d = driver_with(0);
    ck_assert_int_eq(td_create_ttl(d, S1, "/t", "", ZAB_PERSISTENT_WITH_TTL, 100)->err,
                     ZAB_EUNIMPLEMENTED);
    ck_assert_int_eq(td_create_ttl(d, S1, "/t", "", ZAB_PERSISTENT_WITH_TTL, 0)->err,
                     ZAB_EUNIMPLEMENTED);
    ck_assert_int_eq(
        td_create_ttl(d, S1, "/t", "", ZAB_PERSISTENT_SEQUENTIAL_WITH_TTL, 100)->err,
        ZAB_EUNIMPLEMENTED);
    ck_assert_int_eq(td_create(d, S1, "/t", "", ZAB_PERSISTENT_WITH_TTL)->err,
                     ZAB_EUNIMPLEMENTED);
    ck_assert_int_eq(td_create_ttl(d, S1, "/t", "", 8, 100)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_create_ttl(d, S1, "/t", "", ZAB_PERSISTENT, 100)->err,
                     ZAB_EBADARGUMENTS);
    /* The session check comes after the TTL checks. */
    ck_assert_int_eq(td_create_ttl(d, GONE, "/t", "", ZAB_PERSISTENT_WITH_TTL, 100)->err,
                     ZAB_EUNIMPLEMENTED);
    ck_assert(!td_node_exists(d, "/t"));
    td_free(d);
}
END_TEST

/* observed with extendedTypesEnabled: ttl 0, -5 and 0x10000000000 ->
 * ZBADARGUMENTS; TTL mode with ttl -1 (also opcode 1, which carries -1) ->
 * ZBADARGUMENTS; a non-TTL mode with ttl >= 0 -> ZBADARGUMENTS. */
START_TEST(create_ttl_range)
{
    td *d = driver_with(1);
    ck_assert_int_eq(td_create_ttl(d, S1, "/t", "", ZAB_PERSISTENT_WITH_TTL, 0)->err,
                     ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_create_ttl(d, S1, "/t", "", ZAB_PERSISTENT_WITH_TTL, -5)->err,
                     ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_create_ttl(d, S1, "/t", "", ZAB_PERSISTENT_WITH_TTL,
                                   INT64_C(0x10000000000))->err,
                     ZAB_EBADARGUMENTS);
    ck_assert_int_eq(
        td_create_ttl(d, S1, "/t", "", ZAB_PERSISTENT_SEQUENTIAL_WITH_TTL, -1)->err,
        ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_create(d, S1, "/t", "", ZAB_PERSISTENT_WITH_TTL)->err,
                     ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_create_ttl(d, S1, "/t", "", ZAB_PERSISTENT, 100)->err,
                     ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_create_ttl(d, S1, "/t", "", ZAB_EPHEMERAL, 5)->err,
                     ZAB_EBADARGUMENTS);
    /* Range before session. */
    ck_assert_int_eq(td_create_ttl(d, GONE, "/t", "", ZAB_PERSISTENT_WITH_TTL, 0)->err,
                     ZAB_EBADARGUMENTS);
    ck_assert(!td_node_exists(d, "/t"));
    ck_assert_int_eq(td_create_ttl(d, S1, "/t", "", ZAB_PERSISTENT_WITH_TTL, 1)->err,
                     ZAB_OK);
    td_free(d);
}
END_TEST

/* A plain create by a session the tree does not know -> ZSESSIONEXPIRED,
 * checked before the path and the ACL. */
START_TEST(create_unknown_session)
{
    td *d = new_driver();
    zab_tree_stats before = td_stats(d);
    ck_assert_int_eq(td_create(d, GONE, "/x", "", ZAB_PERSISTENT)->err, ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(td_create(d, GONE, "bad", "", ZAB_PERSISTENT)->err, ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(create_with(d, GONE, "/x", NULL, 0, ZAB_PERSISTENT)->err,
                     ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(td_create(d, GONE, "/x", "", ZAB_EPHEMERAL)->err, ZAB_ESESSIONEXPIRED);
    assert_unchanged(d, before);
    td_free(d);
}
END_TEST

/* The system session may create persistent nodes without createSession but
 * cannot own an ephemeral: the create fails (its zxid consumed) and nothing
 * is created. */
START_TEST(create_ephemeral_on_system_session)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, 0, "/sys", "", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_tree_stats before = td_stats(d);
    int64_t zxid = td_next_zxid(d);
    const td_reply *r = td_create(d, 0, "/sys/e", "", ZAB_EPHEMERAL);
    ck_assert_int_eq(r->rc, ZAB_OK);
    ck_assert_int_ne(r->err, ZAB_OK);
    ck_assert_int_eq(r->zxid, zxid);
    r = td_create(d, 0, "/sys/es", "", ZAB_EPHEMERAL_SEQUENTIAL);
    ck_assert_int_ne(r->err, ZAB_OK);
    ck_assert(!td_node_exists(d, "/sys/e"));
    ck_assert_int_eq(td_stat(d, "/sys").num_children, 0);
    ck_assert_uint_eq(td_stats(d).ephemerals, 0);
    assert_unchanged(d, before);
    td_free(d);
}
END_TEST

/* observed: world ids other than "anyone", "auth" without an authenticated
 * identity, digest ids that do not split into two parts, malformed ip ids
 * and unknown schemes -> ZINVALIDACL. */
START_TEST(create_invalid_acls)
{
    td *d = new_driver();
    zab_acl bad[] = {
        { ZAB_PERM_ALL, { ZAB_STR("world"), ZAB_STR("someone") } },
        { ZAB_PERM_ALL, { ZAB_STR("auth"), ZAB_STR("") } },
        { ZAB_PERM_ALL, { ZAB_STR("digest"), ZAB_STR("nocolon") } },
        { ZAB_PERM_ALL, { ZAB_STR("digest"), ZAB_STR("a:b:c") } },
        { ZAB_PERM_ALL, { ZAB_STR("ip"), ZAB_STR("1.2.3") } },
        { ZAB_PERM_ALL, { ZAB_STR("ip"), ZAB_STR("10.0.0.0/99") } },
        { ZAB_PERM_ALL, { ZAB_STR("foo"), ZAB_STR("bar") } },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(create_with(d, S1, "/zz", &bad[i], 1, ZAB_PERSISTENT)->err ==
                          ZAB_EINVALIDACL,
                      "acl %zu", i);
    /* One bad entry spoils the list. */
    zab_acl mixed[2] = { world(ZAB_PERM_ALL), bad[0] };
    ck_assert_int_eq(create_with(d, S1, "/zz", mixed, 2, ZAB_PERSISTENT)->err,
                     ZAB_EINVALIDACL);
    /* observed: an ip connection identity alone does not satisfy "auth". */
    td_auth_add(d, S2, "ip", "127.0.0.1");
    ck_assert_int_eq(create_with(d, S2, "/zz", &bad[1], 1, ZAB_PERSISTENT)->err,
                     ZAB_EINVALIDACL);
    ck_assert(!td_node_exists(d, "/zz"));

    zab_acl ok[2] = {
        { ZAB_PERM_ALL, { ZAB_STR("ip"), ZAB_STR("10.0.0.0/8") } },
        { ZAB_PERM_ALL, { ZAB_STR("digest"), ZAB_STR("u:hash") } },
    };
    ck_assert_int_eq(create_with(d, S1, "/zip", ok, 2, ZAB_PERSISTENT)->err, ZAB_OK);
    td_free(d);
}
END_TEST

/* observed: create under an ephemeral -> ZNOCHILDRENFOREPHEMERALS, also for
 * sequential children; containers and TTL nodes may have children. */
START_TEST(create_under_ephemeral)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/eph", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/eph/x", "", ZAB_PERSISTENT)->err,
                     ZAB_ENOCHILDRENFOREPHEMERALS);
    ck_assert_int_eq(td_create(d, S2, "/eph/x", "", ZAB_EPHEMERAL_SEQUENTIAL)->err,
                     ZAB_ENOCHILDRENFOREPHEMERALS);
    /* Path validation still comes first once the parent is found. */
    ck_assert_int_eq(td_create(d, S1, "/eph/.", "", ZAB_PERSISTENT)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_stat(d, "/eph").num_children, 0);
    ck_assert_int_eq(td_stat(d, "/eph").cversion, 0);
    td_free(d);
}
END_TEST

/* observed: no CREATE on the parent -> ZNOAUTH, for sequential creates too,
 * for an existing child and for "/nc/.": the ACL check precedes full path
 * validation and the existence check. */
START_TEST(create_without_create_permission)
{
    td *d = new_driver();
    zab_acl no_create = world(ZAB_PERM_ALL & ~ZAB_PERM_CREATE);
    ck_assert_int_eq(td_create(d, S1, "/nc", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/nc/x", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_set_acl(d, S1, "/nc", &no_create, 1, -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/nc/y", "", ZAB_PERSISTENT)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_create(d, S1, "/nc/s", "", ZAB_PERSISTENT_SEQUENTIAL)->err,
                     ZAB_ENOAUTH);
    ck_assert_int_eq(td_create(d, S1, "/nc/x", "", ZAB_PERSISTENT)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_create(d, S1, "/nc/.", "", ZAB_PERSISTENT)->err, ZAB_ENOAUTH);
    /* A malformed path whose parent is missing is still ZNONODE. */
    ck_assert_int_eq(td_create(d, S1, "/nc/y/", "", ZAB_PERSISTENT)->err, ZAB_ENONODE);
    /* But the ACL list is checked before the parent's permission. */
    ck_assert_int_eq(create_with(d, S1, "/nc/y", NULL, 0, ZAB_PERSISTENT)->err,
                     ZAB_EINVALIDACL);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* delete                                                                    */
/* ------------------------------------------------------------------------ */

/* observed: delete of /, /zookeeper, /zookeeper/quota, /zookeeper/config,
 * "", a path without '/' or with a NUL -> ZBADARGUMENTS; /zookeeper/nope ->
 * ZNONODE. */
START_TEST(delete_special_paths)
{
    td *d = new_driver();
    zab_tree_stats before = td_stats(d);
    const char *special[] = { "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "",
                              "abc" };
    for (int i = 0; i < 6; i++)
        ck_assert_msg(td_delete(d, S1, special[i], -1)->err == ZAB_EBADARGUMENTS, "%s",
                      special[i]);
    zab_op op = zab_op_delete("/", -1);
    op.path.ptr = "/e/a\0b";
    op.path.len = 6;
    ck_assert_int_eq(td_write(d, S1, op)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_delete(d, S1, "/zookeeper/nope", -1)->err, ZAB_ENONODE);
    assert_unchanged(d, before);
    td_free(d);
}
END_TEST

/* observed: delete with a missing parent, a missing node, or a malformed
 * path -> ZNONODE (delete validates nothing more). */
START_TEST(delete_missing)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/e", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, S1, "/nope/x", -1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_delete(d, S1, "/e/nope", -1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_delete(d, S1, "/e/./x", -1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_delete(d, S1, "/e/", -1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_delete(d, S1, "/e/nope", 5)->err, ZAB_ENONODE);
    td_free(d);
}
END_TEST

/* observed (3.6+): no DELETE on the parent -> ZNOAUTH even when the child
 * does not exist. */
START_TEST(delete_noauth_before_nonode)
{
    td *d = new_driver();
    zab_acl no_delete = world(ZAB_PERM_ALL & ~ZAB_PERM_DELETE);
    ck_assert_int_eq(create_with(d, S1, "/nd", &no_delete, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/nd/kid", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, S1, "/nd/nope", -1)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_delete(d, S1, "/nd/kid", -1)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_delete(d, S1, "/nd/kid", 9)->err, ZAB_ENOAUTH);
    ck_assert(td_node_exists(d, "/nd/kid"));
    /* The node's own ACL does not matter to its delete. */
    ck_assert_int_eq(create_with(d, S1, "/ro", acl_read_only, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, S1, "/ro", -1)->err, ZAB_OK);
    td_free(d);
}
END_TEST

/* observed: a wrong version on a node with children -> ZBADVERSION; the
 * right version or -1 -> ZNOTEMPTY. */
START_TEST(delete_version_before_notempty)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/e", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/e/kid", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, S1, "/e", 5)->err, ZAB_EBADVERSION);
    ck_assert_int_eq(td_delete(d, S1, "/e", 0)->err, ZAB_ENOTEMPTY);
    ck_assert_int_eq(td_delete(d, S1, "/e", -1)->err, ZAB_ENOTEMPTY);
    ck_assert_int_eq(td_delete(d, S1, "/e/kid", 1)->err, ZAB_EBADVERSION);
    ck_assert_int_eq(td_delete(d, S1, "/e/kid", 0)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, S1, "/e", 0)->err, ZAB_OK);
    td_free(d);
}
END_TEST

/* The session check precedes even the special-path check. */
START_TEST(delete_unknown_session)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/e", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, GONE, "/e", -1)->err, ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(td_delete(d, GONE, "/", -1)->err, ZAB_ESESSIONEXPIRED);
    ck_assert(td_node_exists(d, "/e"));
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* setData, setACL                                                           */
/* ------------------------------------------------------------------------ */

/* observed: setData: bad path (ZBADARGUMENTS) -> missing (ZNONODE) -> no
 * WRITE (ZNOAUTH) -> version (ZBADVERSION). */
START_TEST(set_data_order)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/e", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(create_with(d, S1, "/nw", acl_read_only, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, S1, "/nope/", "x", 5)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_set(d, S1, "/e/", "x", -1)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_set(d, S1, "nope", "x", -1)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_set(d, S1, "/nope", "x", 5)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_set(d, S1, "/nw", "x", 5)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_set(d, S1, "/zookeeper/config", "x", -1)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_set(d, S1, "/e", "x", 5)->err, ZAB_EBADVERSION);
    ck_assert_int_eq(td_set(d, GONE, "/nope/", "x", 5)->err, ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(td_stat(d, "/e").version, 0);
    td_free(d);
}
END_TEST

/* observed: setACL: bad path -> ACL list (ZINVALIDACL) -> missing ->
 * no ADMIN -> aversion. */
START_TEST(set_acl_order)
{
    td *d = new_driver();
    zab_acl no_admin = world(ZAB_PERM_ALL & ~ZAB_PERM_ADMIN);
    ck_assert_int_eq(td_create(d, S1, "/e", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(create_with(d, S1, "/na", &no_admin, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_set_acl(d, S1, "/nope/", NULL, 0, 5)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_set_acl(d, S1, "/nope", NULL, 0, 5)->err, ZAB_EINVALIDACL);
    ck_assert_int_eq(td_set_acl(d, S1, "/na", NULL, 0, 5)->err, ZAB_EINVALIDACL);
    ck_assert_int_eq(td_set_acl(d, S1, "/nope", zab_acl_open, 1, 5)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_set_acl(d, S1, "/na", zab_acl_open, 1, 5)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_set_acl(d, S1, "/zookeeper/config", zab_acl_open, 1, -1)->err,
                     ZAB_ENOAUTH);
    ck_assert_int_eq(td_set_acl(d, S1, "/e", zab_acl_open, 1, 5)->err, ZAB_EBADVERSION);
    ck_assert_int_eq(td_set_acl(d, GONE, "/e", zab_acl_open, 1, -1)->err,
                     ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(td_stat(d, "/e").aversion, 0);
    ck_assert_int_eq(td_stat(d, "/na").aversion, 0);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* check (inside multi)                                                      */
/* ------------------------------------------------------------------------ */

static int32_t check_err(td *d, int64_t s, const char *path, int32_t version)
{
    zab_op op = zab_op_check(path, version);
    const td_reply *r = td_multi(d, s, &op, 1);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->nresults, 1);
    return r->r->err;
}

/* observed: check: bad path -> ZBADARGUMENTS, missing -> ZNONODE; then no
 * READ -> ZNOAUTH, version mismatch -> ZBADVERSION. */
START_TEST(check_order)
{
    td *d = new_driver();
    zab_acl no_read = world(ZAB_PERM_ALL & ~ZAB_PERM_READ);
    ck_assert_int_eq(td_create(d, S1, "/e", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(create_with(d, S1, "/nr", &no_read, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(check_err(d, S1, "/e/", -1), ZAB_EBADARGUMENTS);
    ck_assert_int_eq(check_err(d, S1, "/nope", -1), ZAB_ENONODE);
    ck_assert_int_eq(check_err(d, S1, "/nr", 3), ZAB_ENOAUTH);
    ck_assert_int_eq(check_err(d, S1, "/e", 3), ZAB_EBADVERSION);
    ck_assert_int_eq(check_err(d, S1, "/e", 0), ZAB_OK);
    ck_assert_int_eq(check_err(d, S1, "/e", -1), ZAB_OK);
    ck_assert_int_eq(check_err(d, GONE, "/e", 0), ZAB_ESESSIONEXPIRED);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* reads                                                                     */
/* ------------------------------------------------------------------------ */

static const td_reply *read_bytes(td *d, int32_t type, const char *path, uint32_t len)
{
    zab_op op = zab_op_read(type, "/", 0);
    op.path.ptr = path;
    op.path.len = len;
    return td_read_op(d, S1, op);
}

/* observed: exists with a NUL -> ZBADARGUMENTS; getData/getChildren with
 * a NUL -> ZNONODE (no validation: such a node cannot exist); exists of a
 * malformed path -> ZNONODE. */
START_TEST(read_path_handling)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/e", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(read_bytes(d, ZAB_OP_EXISTS, "/e/a\0b", 6)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(read_bytes(d, ZAB_OP_GET_DATA, "/e/a\0b", 6)->err, ZAB_ENONODE);
    ck_assert_int_eq(read_bytes(d, ZAB_OP_GET_CHILDREN, "/e/a\0b", 6)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_exists(d, S1, "/e/", 0)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_exists(d, S1, "abc", 0)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_get(d, S1, "/e//", 0)->err, ZAB_ENONODE);
    td_free(d);
}
END_TEST

/* Reads without READ -> ZNOAUTH: getData, getChildren(2),
 * getAllChildrenNumber, and exists of an existing node (3.9 checks READ in
 * exists; observed 3.8.0 did not, the check arrived in 3.8.4/3.9.2). */
START_TEST(read_without_read_permission)
{
    td *d = new_driver();
    zab_acl no_read = world(ZAB_PERM_ALL & ~ZAB_PERM_READ);
    ck_assert_int_eq(create_with(d, S1, "/nr", &no_read, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, S2, "/nr", 0)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_children(d, S2, "/nr", 0)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_children2(d, S2, "/nr", 0)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_all_children(d, S2, "/nr")->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_exists(d, S2, "/nr", 0)->err, ZAB_ENOAUTH);
    /* Missing comes first. */
    ck_assert_int_eq(td_get(d, S2, "/nr/nope", 0)->err, ZAB_ENONODE);
    /* getACL takes ADMIN instead. */
    ck_assert_int_eq(td_get_acl(d, S2, "/nr")->err, ZAB_OK);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* limits                                                                    */
/* ------------------------------------------------------------------------ */

/* Data over max_data is refused by prepare itself (ZAB_ETOOBIG): no
 * transaction, no zxid, nothing changed. */
START_TEST(data_over_limit)
{
    zab_tree_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.max_data = 10;
    td *d = td_new(&cfg);
    ck_assert_int_eq(td_create(d, 0, "/ok", "0123456789", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_tree_stats before = td_stats(d);
    int64_t zxid = td_next_zxid(d);

    const td_reply *r = td_create(d, 0, "/big", "0123456789a", ZAB_PERSISTENT);
    ck_assert_int_eq(r->rc, ZAB_ETOOBIG);
    r = td_set(d, 0, "/ok", "0123456789ab", -1);
    ck_assert_int_eq(r->rc, ZAB_ETOOBIG);
    zab_op ops[2] = {
        zab_op_create("/m", "", 0, zab_acl_open, 1, ZAB_PERSISTENT),
        zab_op_set_data("/ok", "0123456789abc", 13, -1),
    };
    r = td_multi(d, 0, ops, 2);
    ck_assert_int_eq(r->rc, ZAB_ETOOBIG);

    ck_assert_int_eq(td_next_zxid(d), zxid);
    zab_tree_stats after = td_stats(d);
    ck_assert_int_eq(after.last_zxid, before.last_zxid);
    ck_assert_uint_eq(after.digest, before.digest);
    ck_assert_uint_eq(after.pending, 0);
    ck_assert(!td_node_exists(d, "/big"));
    ck_assert(!td_node_exists(d, "/m"));
    ck_assert_int_eq(td_stat(d, "/ok").version, 0);
    ck_assert_int_eq(td_create(d, 0, "/next", "", ZAB_PERSISTENT)->zxid, zxid);
    td_free(d);
}
END_TEST

/* The default limit is 1 MiB: exactly 1 MiB is accepted, one byte more is
 * refused. */
START_TEST(data_default_limit)
{
    td *d = td_new(NULL);
    static char big[(1 << 20) + 1];
    memset(big, 'x', sizeof(big));
    zab_op op = zab_op_create("/big", big, 1 << 20, zab_acl_open, 1, ZAB_PERSISTENT);
    ck_assert_int_eq(td_write(d, 0, op)->err, ZAB_OK);
    op = zab_op_set_data("/big", big, (1 << 20) + 1, -1);
    ck_assert_int_eq(td_write(d, 0, op)->rc, ZAB_ETOOBIG);
    ck_assert_int_eq(td_stat(d, "/big").data_length, 1 << 20);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Validation against prepared, unapplied changes                            */
/* ------------------------------------------------------------------------ */

static zab_request one(int64_t session, const zab_op *op)
{
    zab_request req = { .type = op->type, .session = session, .ops = op, .nops = 1 };
    return req;
}

/* Writes are judged against the tree as it will be once everything already
 * prepared commits (ZooKeeper's outstanding changes). */
START_TEST(pending_changes_are_seen)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/e", "", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_op c1 = zab_op_create("/p", "", 0, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_op c2 = zab_op_create("/p", "", 0, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_op kid = zab_op_create("/p/k", "", 0, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_op eph = zab_op_create("/eph", "", 0, zab_acl_open, 1, ZAB_EPHEMERAL);
    zab_op under = zab_op_create("/eph/k", "", 0, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_op del = zab_op_delete("/e", -1);
    zab_op set = zab_op_set_data("/e", "x", 1, -1);
    zab_op set2 = zab_op_set_data("/p", "x", 1, 0);
    zab_op set3 = zab_op_set_data("/p", "y", 1, 0);
    zab_request reqs[9] = { one(S1, &c1), one(S1, &c2), one(S1, &kid), one(S1, &eph),
                            one(S1, &under), one(S1, &del), one(S1, &set), one(S1, &set2),
                            one(S1, &set3) };
    const int32_t want[9] = { ZAB_OK, ZAB_ENODEEXISTS, ZAB_OK, ZAB_OK,
                              ZAB_ENOCHILDRENFOREPHEMERALS, ZAB_OK, ZAB_ENONODE, ZAB_OK,
                              ZAB_EBADVERSION };
    td_txn txns[9];
    for (int i = 0; i < 9; i++) ck_assert_int_eq(td_prepare(d, &reqs[i], &txns[i]), ZAB_OK);
    ck_assert_uint_gt(td_stats(d).pending, 0);
    for (int i = 0; i < 9; i++)
        ck_assert_msg(td_apply(d, &txns[i])->err == want[i], "request %d", i);
    ck_assert_uint_eq(td_stats(d).pending, 0);
    ck_assert_int_eq(td_stat(d, "/p").version, 1);
    ck_assert_int_eq(td_stat(d, "/p").num_children, 1);
    ck_assert(!td_node_exists(d, "/e"));
    td_free(d);
}
END_TEST

/* A prepared setACL governs requests prepared after it: a client whose
 * permission it revokes is refused even before it commits. */
START_TEST(pending_set_acl_governs_later_requests)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_op acl = zab_op_set_acl("/a", acl_read_only, 1, -1);
    zab_op set = zab_op_set_data("/a", "x", 1, -1);
    zab_op kid = zab_op_create("/a/k", "", 0, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_request r1 = one(S1, &acl), r2 = one(S2, &set), r3 = one(S2, &kid);
    td_txn t1, t2, t3;
    ck_assert_int_eq(td_prepare(d, &r1, &t1), ZAB_OK);
    ck_assert_int_eq(td_prepare(d, &r2, &t2), ZAB_OK);
    ck_assert_int_eq(td_prepare(d, &r3, &t3), ZAB_OK);
    ck_assert_int_eq(td_apply(d, &t1)->err, ZAB_OK);
    ck_assert_int_eq(td_apply(d, &t2)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_apply(d, &t3)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_stat(d, "/a").version, 0);
    ck_assert_int_eq(td_stat(d, "/a").aversion, 1);
    td_free(d);
}
END_TEST

/* A prepared multi that fails leaves no pending trace: a later request
 * prepared before it commits sees the tree without it. */
START_TEST(pending_failed_multi_leaves_nothing)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/p", "", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_op ops[3] = { zab_op_create("/p/x", "", 0, zab_acl_open, 1, ZAB_PERSISTENT),
                      zab_op_create("/p/s", "", 0, zab_acl_open, 1, ZAB_PERSISTENT_SEQUENTIAL),
                      zab_op_check("/p/nope", -1) };
    zab_request rm = { .type = ZAB_OP_MULTI, .session = S1, .ops = ops, .nops = 3 };
    zab_op again = zab_op_create("/p/x", "", 0, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_op seq = zab_op_create("/p/s", "", 0, zab_acl_open, 1, ZAB_PERSISTENT_SEQUENTIAL);
    zab_request ra = one(S1, &again), rs = one(S1, &seq);
    td_txn tm, ta, ts;
    ck_assert_int_eq(td_prepare(d, &rm, &tm), ZAB_OK);
    ck_assert_int_eq(td_prepare(d, &ra, &ta), ZAB_OK);
    ck_assert_int_eq(td_prepare(d, &rs, &ts), ZAB_OK);
    const td_reply *r = td_apply(d, &tm);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->results[2].err, ZAB_ENONODE);
    ck_assert_int_eq(td_apply(d, &ta)->err, ZAB_OK);
    r = td_apply(d, &ts);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->r->path, "/p/s0000000001");
    td_free(d);
}
END_TEST

/* A leader that stops leading forgets what it prepared; the same writes
 * can be prepared again. */
START_TEST(prepare_reset_forgets_pending)
{
    td *d = new_driver();
    zab_op c = zab_op_create("/p", "", 0, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_request rc = one(S1, &c);
    td_txn t1, t2;
    ck_assert_int_eq(td_prepare(d, &rc, &t1), ZAB_OK);
    ck_assert_uint_gt(td_stats(d).pending, 0);
    zab_tree_prepare_reset(td_tree(d));
    zab_buf_free(&t1.bytes);
    ck_assert_uint_eq(td_stats(d).pending, 0);
    ck_assert(!td_node_exists(d, "/p"));
    ck_assert_int_eq(td_prepare(d, &rc, &t2), ZAB_OK);
    ck_assert_int_eq(td_apply(d, &t2)->err, ZAB_OK);
    ck_assert(td_node_exists(d, "/p"));
    td_free(d);
}
END_TEST

static Suite *tree_errors_suite(void)
{
    Suite *s = suite_create("tree_errors");
    TCase *tc = tcase_create("create");
    tcase_add_test(tc, create_empty_acl_first);
    tcase_add_test(tc, create_path_checks_order);
    tcase_add_test(tc, create_path_unicode);
    tcase_add_test(tc, create_existing_builtin);
    tcase_add_test(tc, create_unknown_flags);
    tcase_add_test(tc, create_ttl_without_extended_types);
    tcase_add_test(tc, create_ttl_range);
    tcase_add_test(tc, create_unknown_session);
    tcase_add_test(tc, create_ephemeral_on_system_session);
    tcase_add_test(tc, create_invalid_acls);
    tcase_add_test(tc, create_under_ephemeral);
    tcase_add_test(tc, create_without_create_permission);
    suite_add_tcase(s, tc);

    tc = tcase_create("delete");
    tcase_add_test(tc, delete_special_paths);
    tcase_add_test(tc, delete_missing);
    tcase_add_test(tc, delete_noauth_before_nonode);
    tcase_add_test(tc, delete_version_before_notempty);
    tcase_add_test(tc, delete_unknown_session);
    suite_add_tcase(s, tc);

    tc = tcase_create("set_check");
    tcase_add_test(tc, set_data_order);
    tcase_add_test(tc, set_acl_order);
    tcase_add_test(tc, check_order);
    suite_add_tcase(s, tc);

    tc = tcase_create("read");
    tcase_add_test(tc, read_path_handling);
    tcase_add_test(tc, read_without_read_permission);
    suite_add_tcase(s, tc);

    tc = tcase_create("pending");
    tcase_add_test(tc, pending_changes_are_seen);
    tcase_add_test(tc, pending_set_acl_governs_later_requests);
    tcase_add_test(tc, pending_failed_multi_leaves_nothing);
    tcase_add_test(tc, prepare_reset_forgets_pending);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, data_over_limit);
    tcase_add_test(tc, data_default_limit);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(tree_errors_suite)
