/*
 * test_tree_seq.c - sequential names: the requested path plus the parent's
 * count of children ever created (before this create), as "%010d".
 *
 * "observed" marks names read from a stock ZooKeeper 3.8 server.
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

static td *new_driver(void)
{
    td *d = td_new(NULL);
    ck_assert_int_eq(td_session_open(d, S1, 30000)->err, ZAB_OK);
    ck_assert_int_eq(td_session_open(d, S2, 30000)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/t", "", ZAB_PERSISTENT)->err, ZAB_OK);
    return d;
}

/* Create a sequential node and check the name it got. */
static void expect_seq(td *d, const char *path, int32_t mode, const char *want)
{
    const td_reply *r = td_create(d, S1, path, "", mode);
    ck_assert_msg(r->err == ZAB_OK, "create %s: %d", path, r->err);
    ck_assert_str_eq(r->r->path, want);
    ck_assert(td_node_exists(d, want));
}

START_TEST(first_child_is_zero)
{
    td *d = new_driver();
    expect_seq(d, "/t/s-", ZAB_PERSISTENT_SEQUENTIAL, "/t/s-0000000000");
    expect_seq(d, "/t/s-", ZAB_PERSISTENT_SEQUENTIAL, "/t/s-0000000001");
    expect_seq(d, "/t/other", ZAB_PERSISTENT_SEQUENTIAL, "/t/other0000000002");
    td_free(d);
}
END_TEST

/* observed: after a non-sequential child the next number skips one. */
START_TEST(plain_creates_advance_counter)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/t/x", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/t/y", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    expect_seq(d, "/t/s", ZAB_PERSISTENT_SEQUENTIAL, "/t/s0000000002");
    ck_assert_int_eq(td_create_container(d, S1, "/t/c", "")->err, ZAB_OK);
    expect_seq(d, "/t/s", ZAB_PERSISTENT_SEQUENTIAL, "/t/s0000000004");
    td_free(d);
}
END_TEST

/* observed: after creating s-0..s-2 and deleting s-1, the next is
 * s-0000000003; deletes never lower the counter. */
START_TEST(deletes_do_not_lower_counter)
{
    td *d = new_driver();
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(td_create(d, S1, "/t/s-", "", ZAB_PERSISTENT_SEQUENTIAL)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, S1, "/t/s-0000000001", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, S1, "/t/s-0000000002", -1)->err, ZAB_OK);
    expect_seq(d, "/t/s-", ZAB_PERSISTENT_SEQUENTIAL, "/t/s-0000000003");
    /* Even when every child is gone. */
    ck_assert_int_eq(td_delete(d, S1, "/t/s-0000000000", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, S1, "/t/s-0000000003", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_stat(d, "/t").num_children, 0);
    expect_seq(d, "/t/s-", ZAB_PERSISTENT_SEQUENTIAL, "/t/s-0000000004");
    td_free(d);
}
END_TEST

/* Failed creates leave the counter alone: NODEEXISTS, NOAUTH, a bad path
 * after the suffix, a failed multi. */
START_TEST(failed_creates_do_not_advance)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/t/x", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/t/x", "", ZAB_PERSISTENT)->err, ZAB_ENODEEXISTS);
    ck_assert_int_eq(td_create(d, S1, "/t/x/.", "", ZAB_PERSISTENT)->err, ZAB_EBADARGUMENTS);
    ck_assert_int_eq(td_create(d, S1, "/t/x/y/", "", ZAB_PERSISTENT_SEQUENTIAL)->err,
                     ZAB_ENONODE);
    ck_assert_int_eq(td_create_acl(d, S1, "/t/z", "", NULL, 0, ZAB_PERSISTENT)->err,
                     ZAB_EINVALIDACL);
    zab_op ops[2] = { zab_op_create("/t/m", "", 0, zab_acl_open, 1, ZAB_PERSISTENT_SEQUENTIAL),
                      zab_op_check("/t/nope", -1) };
    const td_reply *r = td_multi(d, S1, ops, 2);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->results[1].err, ZAB_ENONODE);
    expect_seq(d, "/t/s", ZAB_PERSISTENT_SEQUENTIAL, "/t/s0000000001");
    td_free(d);
}
END_TEST

/* observed: a sequential create whose suffixed name exists already fails
 * with ZNODEEXISTS and, like every failed create, leaves the counter alone:
 * the next attempt computes the same name and fails the same way until some
 * other create under the parent moves the counter on. */
START_TEST(sequential_name_collision)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/t/s0000000001", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/t/s", "", ZAB_PERSISTENT_SEQUENTIAL)->err,
                     ZAB_ENODEEXISTS);
    ck_assert_int_eq(td_create(d, S1, "/t/s", "", ZAB_PERSISTENT_SEQUENTIAL)->err,
                     ZAB_ENODEEXISTS);
    ck_assert_int_eq(td_create(d, S1, "/t/other", "", ZAB_PERSISTENT)->err, ZAB_OK);
    expect_seq(d, "/t/s", ZAB_PERSISTENT_SEQUENTIAL, "/t/s0000000002");
    td_free(d);
}
END_TEST

/* observed: "/t/" with sequential mode creates "/t/0000000004" (the
 * suffix is appended to the path as given, trailing '/' included); "/t/x/"
 * works the same under /t/x; "/t/x//" fails with ZNONODE (its parent
 * "/t/x/" does not exist); the same path without the sequential flag is a
 * bad path -> ZBADARGUMENTS. */
START_TEST(trailing_slash)
{
    td *d = new_driver();
    for (int i = 0; i < 4; i++) {
        char p[16];
        snprintf(p, sizeof(p), "/t/n%d", i);
        ck_assert_int_eq(td_create(d, S1, p, "", ZAB_PERSISTENT)->err, ZAB_OK);
    }
    expect_seq(d, "/t/", ZAB_PERSISTENT_SEQUENTIAL, "/t/0000000004");
    expect_seq(d, "/t/n0/", ZAB_PERSISTENT_SEQUENTIAL, "/t/n0/0000000000");
    expect_seq(d, "/t/n0/", ZAB_EPHEMERAL_SEQUENTIAL, "/t/n0/0000000001");
    ck_assert_int_eq(td_create(d, S1, "/t/n0//", "", ZAB_PERSISTENT_SEQUENTIAL)->err,
                     ZAB_ENONODE);
    ck_assert_int_eq(td_create(d, S1, "/t/n0/", "", ZAB_PERSISTENT)->err, ZAB_EBADARGUMENTS);
    td_free(d);
}
END_TEST

/* observed: "/" with sequential mode names a child of the root from the
 * root's counter ("/0000000006" after six user creates under /), and the
 * built-in /zookeeper counts from 0 although it holds two children. */
START_TEST(root_and_builtin_counters)
{
    td *d = td_new(NULL);
    ck_assert_int_eq(td_session_open(d, S1, 30000)->err, ZAB_OK);
    expect_seq(d, "/", ZAB_PERSISTENT_SEQUENTIAL, "/0000000000");
    ck_assert_int_eq(td_create(d, 0, "/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    expect_seq(d, "/r", ZAB_PERSISTENT_SEQUENTIAL, "/r0000000002");
    expect_seq(d, "/zookeeper/", ZAB_PERSISTENT_SEQUENTIAL, "/zookeeper/0000000000");
    td_free(d);
}
END_TEST

/* Ten digits, zero padded: the eleventh child is 0000000010. */
START_TEST(ten_digit_padding)
{
    td *d = new_driver();
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(td_create(d, S1, "/t/q", "", ZAB_PERSISTENT_SEQUENTIAL)->err, ZAB_OK);
    expect_seq(d, "/t/q", ZAB_PERSISTENT_SEQUENTIAL, "/t/q0000000010");
    for (int i = 11; i < 100; i++)
        ck_assert_int_eq(td_create(d, S1, "/t/q", "", ZAB_PERSISTENT_SEQUENTIAL)->err, ZAB_OK);
    expect_seq(d, "/t/q", ZAB_PERSISTENT_SEQUENTIAL, "/t/q0000000100");
    const td_reply *r = td_children(d, S1, "/t", 0);
    ck_assert_uint_eq(r->r->nnames, 101);
    ck_assert_str_eq(r->r->names[0], "q0000000000");
    ck_assert_str_eq(r->r->names[100], "q0000000100");
    td_free(d);
}
END_TEST

/* Ephemeral-sequential: the suffix plus the session's ownership. */
START_TEST(ephemeral_sequential)
{
    td *d = new_driver();
    const td_reply *r = td_create2(d, S2, "/t/lock-", "", ZAB_EPHEMERAL_SEQUENTIAL);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->r->path, "/t/lock-0000000000");
    ck_assert_int_eq(r->r->stat.ephemeral_owner, S2);
    r = td_create2(d, S1, "/t/lock-", "", ZAB_EPHEMERAL_SEQUENTIAL);
    ck_assert_str_eq(r->r->path, "/t/lock-0000000001");
    ck_assert_int_eq(r->r->stat.ephemeral_owner, S1);
    ck_assert_int_eq(td_session_close(d, S2)->err, ZAB_OK);
    ck_assert(!td_node_exists(d, "/t/lock-0000000000"));
    /* The session's delete does not give the number back. */
    r = td_create(d, S1, "/t/lock-", "", ZAB_EPHEMERAL_SEQUENTIAL);
    ck_assert_str_eq(r->r->path, "/t/lock-0000000002");
    td_free(d);
}
END_TEST

/* Counters belong to parents: siblings' children do not interfere. */
START_TEST(counters_are_per_parent)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/u", "", ZAB_PERSISTENT)->err, ZAB_OK);
    expect_seq(d, "/t/a", ZAB_PERSISTENT_SEQUENTIAL, "/t/a0000000000");
    expect_seq(d, "/t/a", ZAB_PERSISTENT_SEQUENTIAL, "/t/a0000000001");
    expect_seq(d, "/u/a", ZAB_PERSISTENT_SEQUENTIAL, "/u/a0000000000");
    expect_seq(d, "/t/a0000000000/b", ZAB_PERSISTENT_SEQUENTIAL, "/t/a0000000000/b0000000000");
    expect_seq(d, "/t/a", ZAB_PERSISTENT_SEQUENTIAL, "/t/a0000000002");
    td_free(d);
}
END_TEST

/* Pipelined creates see the counter of earlier prepared, unapplied ones. */
START_TEST(pending_creates_advance_counter)
{
    td *d = new_driver();
    zab_op a = zab_op_create("/t/p", "", 0, zab_acl_open, 1, ZAB_PERSISTENT_SEQUENTIAL);
    zab_op b = zab_op_create("/t/p", "", 0, zab_acl_open, 1, ZAB_PERSISTENT_SEQUENTIAL);
    zab_request ra = { .type = a.type, .session = S1, .ops = &a, .nops = 1 };
    zab_request rb = { .type = b.type, .session = S1, .ops = &b, .nops = 1 };
    td_txn ta, tb;
    ck_assert_int_eq(td_prepare(d, &ra, &ta), ZAB_OK);
    ck_assert_int_eq(td_prepare(d, &rb, &tb), ZAB_OK);
    const td_reply *r1 = td_apply(d, &ta);
    const td_reply *r2 = td_apply(d, &tb);
    ck_assert_int_eq(r1->err, ZAB_OK);
    ck_assert_int_eq(r2->err, ZAB_OK);
    ck_assert_str_eq(r1->r->path, "/t/p0000000000");
    ck_assert_str_eq(r2->r->path, "/t/p0000000001");
    td_free(d);
}
END_TEST

/* A prepared, unapplied delete does not lower the counter either. */
START_TEST(pending_delete_keeps_counter)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/t/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/t/b", "", ZAB_PERSISTENT)->err, ZAB_OK);
    zab_op del = zab_op_delete("/t/b", -1);
    zab_op seq = zab_op_create("/t/s", "", 0, zab_acl_open, 1, ZAB_PERSISTENT_SEQUENTIAL);
    zab_request rd = { .type = del.type, .session = S1, .ops = &del, .nops = 1 };
    zab_request rs = { .type = seq.type, .session = S1, .ops = &seq, .nops = 1 };
    td_txn td1, td2;
    ck_assert_int_eq(td_prepare(d, &rd, &td1), ZAB_OK);
    ck_assert_int_eq(td_prepare(d, &rs, &td2), ZAB_OK);
    ck_assert_int_eq(td_apply(d, &td1)->err, ZAB_OK);
    const td_reply *r = td_apply(d, &td2);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->r->path, "/t/s0000000002");
    td_free(d);
}
END_TEST

/* The counter is a signed 32-bit int that wraps to "-2147483648" after
 * 2^31 - 1 creates; reaching it takes 2^31 creates under one parent, far
 * beyond a unit test, so the wrap is not exercised here. */

static Suite *tree_seq_suite(void)
{
    Suite *s = suite_create("tree_seq");
    TCase *tc = tcase_create("seq");
    tcase_add_test(tc, first_child_is_zero);
    tcase_add_test(tc, plain_creates_advance_counter);
    tcase_add_test(tc, deletes_do_not_lower_counter);
    tcase_add_test(tc, failed_creates_do_not_advance);
    tcase_add_test(tc, sequential_name_collision);
    tcase_add_test(tc, trailing_slash);
    tcase_add_test(tc, root_and_builtin_counters);
    tcase_add_test(tc, ten_digit_padding);
    tcase_add_test(tc, ephemeral_sequential);
    tcase_add_test(tc, counters_are_per_parent);
    tcase_add_test(tc, pending_creates_advance_counter);
    tcase_add_test(tc, pending_delete_keeps_counter);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(tree_seq_suite)
