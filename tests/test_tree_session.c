/*
 * test_tree_session.c - sessions in the tree (createSession, closeSession,
 * their ephemerals, what a closed or unknown session may do) and the
 * identities a request carries: the "auth" ACL scheme, digest identities,
 * the super digest and skipACL.
 *
 * "observed" marks behaviour read from a stock ZooKeeper 3.8 server.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "helpers/tree_driver.h"
#include "zab.h"

#define S1 INT64_C(0x0100000b26e90000)
#define S2 INT64_C(0x0100000b26e90001)
#define S3 INT64_C(0x0100000b26e90002)

#define SUPER_DIGEST "super:lK75jTNcA+U9vtVEw5vB51mj/w4=" /* super:secret */

static td *new_driver(void)
{
    td *d = td_new(NULL);
    ck_assert_int_eq(td_session_open(d, S1, 30000)->err, ZAB_OK);
    ck_assert_int_eq(td_session_open(d, S2, 10000)->err, ZAB_OK);
    return d;
}

static zab_acl digest_acl(td *d, int32_t perms, const char *user_password)
{
    zab_acl a = { perms, { ZAB_STR("digest"), zab_str_c(td_digest(d, user_password)) } };
    return a;
}

/* ------------------------------------------------------------------------ */
/* Lifetime                                                                  */
/* ------------------------------------------------------------------------ */

START_TEST(create_session_records_timeout_and_password)
{
    td *d = td_new(NULL);
    ck_assert_uint_eq(td_stats(d).sessions, 0);
    int64_t zxid = td_next_zxid(d);
    const td_reply *r = td_session_open(d, S1, 12345);
    ck_assert_int_eq(r->rc, ZAB_OK);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->zxid, zxid);
    ck_assert_uint_eq(td_stats(d).sessions, 1);

    int32_t timeout = 0;
    uint8_t pw[16], want[16];
    memset(pw, 0, sizeof(pw));
    ck_assert_int_eq(zab_tree_session(td_tree(d), S1, &timeout, pw), ZAB_OK);
    td_session_password(S1, want);
    ck_assert_int_eq(timeout, 12345);
    ck_assert(memcmp(pw, want, 16) == 0);

    ck_assert_int_eq(zab_tree_session(td_tree(d), S2, &timeout, pw), ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(zab_tree_session(td_tree(d), 0, &timeout, pw), ZAB_ESESSIONEXPIRED);
    td_free(d);
}
END_TEST

/* Followers learn sessions from the same transactions. */
START_TEST(sessions_replicate)
{
    td *d = td_new(NULL);
    int f = td_add_follower(d);
    ck_assert_int_eq(td_session_open(d, S1, 4000)->err, ZAB_OK);
    int32_t timeout = 0;
    uint8_t pw[16], want[16];
    ck_assert_int_eq(zab_tree_session(td_replica(d, f), S1, &timeout, pw), ZAB_OK);
    td_session_password(S1, want);
    ck_assert_int_eq(timeout, 4000);
    ck_assert(memcmp(pw, want, 16) == 0);
    ck_assert_int_eq(td_create(d, S1, "/e", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_session_close(d, S1)->err, ZAB_OK);
    ck_assert_int_eq(zab_tree_session(td_replica(d, f), S1, &timeout, pw),
                     ZAB_ESESSIONEXPIRED);
    td_assert_replicas_agree(d);
    td_free(d);
}
END_TEST

START_TEST(close_session_forgets_it)
{
    td *d = new_driver();
    int64_t zxid = td_next_zxid(d);
    const td_reply *r = td_session_close(d, S1);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->zxid, zxid);
    int32_t timeout;
    uint8_t pw[16];
    ck_assert_int_eq(zab_tree_session(td_tree(d), S1, &timeout, pw), ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(zab_tree_session(td_tree(d), S2, &timeout, pw), ZAB_OK);
    ck_assert_int_eq(timeout, 10000);
    ck_assert_uint_eq(td_stats(d).sessions, 1);
    td_free(d);
}
END_TEST

/* closeSession deletes exactly that session's ephemerals, all with its one
 * zxid; other sessions' ephemerals and every persistent, container and TTL
 * node stay. */
START_TEST(close_session_removes_its_ephemerals)
{
    zab_tree_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.extended_types = 1;
    td *d = td_new(&cfg);
    ck_assert_int_eq(td_session_open(d, S1, 30000)->err, ZAB_OK);
    ck_assert_int_eq(td_session_open(d, S2, 30000)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/app", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/app/a", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/app/lock-", "", ZAB_EPHEMERAL_SEQUENTIAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/top", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/app/p", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create_container(d, S1, "/app/c", "")->err, ZAB_OK);
    ck_assert_int_eq(td_create_ttl(d, S1, "/app/t", "", ZAB_PERSISTENT_WITH_TTL, 9000)->err,
                     ZAB_OK);
    ck_assert_int_eq(td_create(d, S2, "/app/b", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_uint_eq(td_stats(d).ephemerals, 4);
    uint64_t nodes = td_stats(d).nodes;

    int64_t zxid = td_next_zxid(d);
    ck_assert_int_eq(td_session_close(d, S1)->err, ZAB_OK);
    ck_assert(!td_node_exists(d, "/app/a"));
    ck_assert(!td_node_exists(d, "/app/lock-0000000001"));
    ck_assert(!td_node_exists(d, "/top"));
    ck_assert(td_node_exists(d, "/app/p"));
    ck_assert(td_node_exists(d, "/app/c"));
    ck_assert(td_node_exists(d, "/app/t"));
    ck_assert(td_node_exists(d, "/app/b"));
    ck_assert_uint_eq(td_stats(d).ephemerals, 1);
    ck_assert_uint_eq(td_stats(d).nodes, nodes - 3);
    ck_assert_int_eq(td_stat(d, "/app").pzxid, zxid);
    ck_assert_int_eq(td_stat(d, "/").pzxid, zxid);
    ck_assert_int_eq(td_ephemerals(d, S2, "/")->r->nnames, 1);
    td_free(d);
}
END_TEST

/* A closed session, like one never created, may not write:
 * ZSESSIONEXPIRED for create, delete, setData, setACL and each multi. */
START_TEST(closed_session_cannot_write)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S2, "/x", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_session_close(d, S1)->err, ZAB_OK);
    zab_tree_stats before = td_stats(d);
    int64_t zxid = td_next_zxid(d);
    const td_reply *r = td_create(d, S1, "/y", "", ZAB_PERSISTENT);
    ck_assert_int_eq(r->err, ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(r->zxid, zxid);
    ck_assert_int_eq(td_create(d, S1, "/y", "", ZAB_EPHEMERAL)->err, ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(td_delete(d, S1, "/x", -1)->err, ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(td_set(d, S1, "/x", "v", -1)->err, ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(td_set_acl(d, S1, "/x", zab_acl_open, 1, -1)->err, ZAB_ESESSIONEXPIRED);
    zab_op op = zab_op_check("/x", -1);
    r = td_multi(d, S1, &op, 1);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->type, ZAB_OP_ERROR);
    ck_assert_int_eq(r->r->err, ZAB_ESESSIONEXPIRED);
    ck_assert_uint_eq(td_stats(d).digest, before.digest);
    ck_assert(td_node_exists(d, "/x"));
    ck_assert_int_eq(td_stat(d, "/x").version, 0);
    td_free(d);
}
END_TEST

/* observed: an ephemeral deleted by another session and re-created by it
 * belongs to the new owner, and a persistent node re-created at an
 * ephemeral's path belongs to nobody: closing the first session removes
 * neither. */
START_TEST(close_session_spares_recreated_paths)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S1, "/e1", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, S2, "/e1", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S2, "/e1", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/e2", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, S1, "/e2", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/e2", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_ephemerals(d, S1, "/")->r->nnames, 0);
    ck_assert_int_eq(td_session_close(d, S1)->err, ZAB_OK);
    ck_assert(td_node_exists(d, "/e1"));
    ck_assert(td_node_exists(d, "/e2"));
    ck_assert_int_eq(td_stat(d, "/e1").ephemeral_owner, S2);
    const td_reply *r = td_ephemerals(d, S2, "/");
    ck_assert_uint_eq(r->r->nnames, 1);
    ck_assert_str_eq(r->r->names[0], "/e1");
    ck_assert_uint_eq(td_stats(d).ephemerals, 1);
    td_free(d);
}
END_TEST

/* The system session needs no createSession for persistent nodes. */
START_TEST(system_session_writes)
{
    td *d = td_new(NULL);
    ck_assert_int_eq(td_create(d, 0, "/sys", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, 0, "/sys", "v", 0)->err, ZAB_OK);
    ck_assert_int_eq(td_set_acl(d, 0, "/sys", zab_acl_open, 1, 0)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, 0, "/sys", 1)->err, ZAB_OK);
    ck_assert_int_ne(td_create(d, 0, "/e", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert(!td_node_exists(d, "/e"));
    ck_assert_uint_eq(td_stats(d).sessions, 0);
    td_free(d);
}
END_TEST

/* Closing a session twice: the second close finds nothing to delete and
 * leaves the tree alone. */
START_TEST(close_session_twice)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, S2, "/keep", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_session_close(d, S1)->err, ZAB_OK);
    zab_tree_stats before = td_stats(d);
    const td_reply *r = td_session_close(d, S1);
    ck_assert_int_eq(r->rc, ZAB_OK);
    ck_assert(td_node_exists(d, "/keep"));
    ck_assert_uint_eq(td_stats(d).nodes, before.nodes);
    ck_assert_uint_eq(td_stats(d).sessions, 1);
    td_free(d);
}
END_TEST

/* Pipelined: a close prepared after an ephemeral create that is prepared
 * but not yet applied still deletes it. */
START_TEST(close_after_pending_ephemeral)
{
    td *d = new_driver();
    zab_op c = zab_op_create("/pe", "", 0, zab_acl_open, 1, ZAB_EPHEMERAL);
    zab_request rc = { .type = c.type, .session = S1, .ops = &c, .nops = 1 };
    zab_op x;
    memset(&x, 0, sizeof(x));
    x.type = ZAB_OP_CLOSE_SESSION;
    x.data_len = -1;
    x.ttl = -1;
    zab_request rx = { .type = ZAB_OP_CLOSE_SESSION, .session = S1, .ops = &x, .nops = 1 };
    td_txn tc, tx;
    ck_assert_int_eq(td_prepare(d, &rc, &tc), ZAB_OK);
    ck_assert_int_eq(td_prepare(d, &rx, &tx), ZAB_OK);
    ck_assert_int_eq(td_apply(d, &tc)->err, ZAB_OK);
    ck_assert(td_node_exists(d, "/pe"));
    ck_assert_int_eq(td_apply(d, &tx)->err, ZAB_OK);
    ck_assert(!td_node_exists(d, "/pe"));
    ck_assert_uint_eq(td_stats(d).ephemerals, 0);
    td_free(d);
}
END_TEST

/* A write prepared after a pending close of its session is refused. */
START_TEST(write_after_pending_close)
{
    td *d = new_driver();
    zab_op x;
    memset(&x, 0, sizeof(x));
    x.type = ZAB_OP_CLOSE_SESSION;
    x.data_len = -1;
    x.ttl = -1;
    zab_request rx = { .type = ZAB_OP_CLOSE_SESSION, .session = S1, .ops = &x, .nops = 1 };
    zab_op c = zab_op_create("/late", "", 0, zab_acl_open, 1, ZAB_EPHEMERAL);
    zab_request rc = { .type = c.type, .session = S1, .ops = &c, .nops = 1 };
    td_txn tx, tc;
    ck_assert_int_eq(td_prepare(d, &rx, &tx), ZAB_OK);
    ck_assert_int_eq(td_prepare(d, &rc, &tc), ZAB_OK);
    ck_assert_int_eq(td_apply(d, &tx)->err, ZAB_OK);
    ck_assert_int_eq(td_apply(d, &tc)->err, ZAB_ESESSIONEXPIRED);
    ck_assert(!td_node_exists(d, "/late"));
    ck_assert_uint_eq(td_stats(d).ephemerals, 0);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Identities                                                                */
/* ------------------------------------------------------------------------ */

/* observed: the "auth" scheme expands to the connection's digest identity,
 * whatever id the entry carried; ip identities do not count. */
START_TEST(auth_scheme_expands_to_digest)
{
    td *d = new_driver();
    td_auth_add(d, S1, "ip", "127.0.0.1");
    td_auth_add_digest(d, S1, "alice:pw");
    zab_acl auth[1] = { { ZAB_PERM_ALL, { ZAB_STR("auth"), ZAB_STR("") } } };
    zab_acl auth_id[1] = { { ZAB_PERM_READ, { ZAB_STR("auth"), ZAB_STR("whatever") } } };
    ck_assert_int_eq(td_create_acl(d, S1, "/mine", "", auth, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create_acl(d, S1, "/mine2", "", auth_id, 1, ZAB_PERSISTENT)->err,
                     ZAB_OK);
    const td_reply *r = td_get_acl(d, S1, "/mine");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->r->nacl, 1);
    ck_assert_int_eq(r->r->acl[0].perms, ZAB_PERM_ALL);
    ck_assert_str_eq(r->r->acl[0].scheme, "digest");
    ck_assert_str_eq(r->r->acl[0].id, "alice:V55/p2T0OpjQ+low3NVAH4aLvm0=");
    /* alice holds READ but not ADMIN on /mine2: her own id comes back
     * masked. */
    r = td_get_acl(d, S1, "/mine2");
    ck_assert_uint_eq(r->r->nacl, 1);
    ck_assert_int_eq(r->r->acl[0].perms, ZAB_PERM_READ);
    ck_assert_str_eq(r->r->acl[0].scheme, "digest");
    ck_assert_str_eq(r->r->acl[0].id, "alice:x");

    /* setACL expands "auth" the same way. */
    ck_assert_int_eq(td_create(d, S1, "/later", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_set_acl(d, S1, "/later", auth, 1, -1)->err, ZAB_OK);
    r = td_get_acl(d, S1, "/later");
    ck_assert_str_eq(r->r->acl[0].scheme, "digest");

    /* Another connection is shut out. */
    ck_assert_int_eq(td_get(d, S2, "/mine", 0)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_get_acl(d, S2, "/mine")->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_get(d, S1, "/mine", 0)->err, ZAB_OK);
    td_free(d);
}
END_TEST

/* observed: with two digest identities, "auth" with perms 7 expands to
 * one entry per identity (order aside), and a reader without ADMIN sees
 * them masked. */
START_TEST(auth_scheme_with_two_identities)
{
    td *d = new_driver();
    td_auth_add_digest(d, S1, "alice:pw");
    td_auth_add_digest(d, S1, "bob:pw2");
    zab_acl auth[1] = { { 7, { ZAB_STR("auth"), ZAB_STR("") } } };
    ck_assert_int_eq(td_create_acl(d, S1, "/two", "", auth, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    const td_reply *r = td_get_acl(d, S1, "/two");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_uint_eq(r->r->nacl, 2);
    int alice = 0, bob = 0;
    for (uint32_t i = 0; i < 2; i++) {
        ck_assert_int_eq(r->r->acl[i].perms, 7);
        ck_assert_str_eq(r->r->acl[i].scheme, "digest");
        alice += strcmp(r->r->acl[i].id, "alice:x") == 0;
        bob += strcmp(r->r->acl[i].id, "bob:x") == 0;
    }
    ck_assert_int_eq(alice, 1);
    ck_assert_int_eq(bob, 1);
    td_free(d);
}
END_TEST

/* A digest identity grants what its entry grants, and only that. */
START_TEST(digest_identity_grants)
{
    td *d = new_driver();
    td_auth_add_digest(d, S1, "alice:pw");
    td_auth_add_digest(d, S2, "bob:pw");
    zab_acl acl[2] = { digest_acl(d, ZAB_PERM_ALL, "alice:pw"),
                       digest_acl(d, ZAB_PERM_READ, "bob:pw") };
    ck_assert_int_eq(td_create_acl(d, S1, "/d", "v", acl, 2, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, S2, "/d", 0)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, S2, "/d", "w", -1)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_set(d, S1, "/d", "w", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S2, "/d/k", "", ZAB_PERSISTENT)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_create(d, S1, "/d/k", "", ZAB_PERSISTENT)->err, ZAB_OK);
    /* The wrong password is a different identity. */
    td_auth_clear(d, S2);
    td_auth_add_digest(d, S2, "alice:wrong");
    ck_assert_int_eq(td_get(d, S2, "/d", 0)->err, ZAB_ENOAUTH);
    td_free(d);
}
END_TEST

/* observed: a connection holding the super digest passes every check: it
 * reads and writes nodes it has no entry for and can setACL the read-only
 * /zookeeper/config (aversion -1 -> 0). */
START_TEST(super_digest_passes_everything)
{
    zab_tree_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.super_digest = ZAB_STR(SUPER_DIGEST);
    td *d = td_new(&cfg);
    ck_assert_int_eq(td_session_open(d, S1, 30000)->err, ZAB_OK);
    ck_assert_int_eq(td_session_open(d, S3, 30000)->err, ZAB_OK);
    td_auth_add_digest(d, S1, "alice:pw");
    td_auth_add_digest(d, S3, "super:secret");
    zab_acl alice = digest_acl(d, ZAB_PERM_ALL, "alice:pw");
    zab_acl nothing = { 0, { ZAB_STR("world"), ZAB_STR("anyone") } };
    ck_assert_int_eq(td_create_acl(d, S1, "/mine", "v", &alice, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create_acl(d, S1, "/none", "", &nothing, 1, ZAB_PERSISTENT)->err,
                     ZAB_OK);

    const td_reply *r = td_get_acl(d, S3, "/mine");
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_str_eq(r->r->acl[0].id, td_digest(d, "alice:pw")); /* unmasked */
    ck_assert_int_eq(td_get(d, S3, "/mine", 0)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, S3, "/mine", "x", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S3, "/none/k", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, S3, "/none/k", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_children(d, S3, "/none", 0)->err, ZAB_OK);
    r = td_set_acl(d, S3, "/zookeeper/config", zab_acl_open, 1, -1);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(r->r->stat.aversion, 0);
    ck_assert_int_eq(td_set(d, S3, "/zookeeper/config", "x", -1)->err, ZAB_OK);
    /* Everyone else is still checked. */
    ck_assert_int_eq(td_get(d, S1, "/none", 0)->err, ZAB_ENOAUTH);
    td_free(d);
}
END_TEST

/* Without a configured super digest a "super" user is an ordinary digest
 * identity. */
START_TEST(super_needs_configuration)
{
    td *d = new_driver();
    td_auth_add_digest(d, S2, "super:secret");
    zab_acl nothing = { 0, { ZAB_STR("world"), ZAB_STR("anyone") } };
    ck_assert_int_eq(td_create_acl(d, S1, "/none", "", &nothing, 1, ZAB_PERSISTENT)->err,
                     ZAB_OK);
    ck_assert_int_eq(td_get(d, S2, "/none", 0)->err, ZAB_ENOAUTH);
    td_free(d);
}
END_TEST

/* skipACL turns every check off. */
START_TEST(skip_acl)
{
    zab_tree_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.skip_acl = 1;
    td *d = td_new(&cfg);
    ck_assert_int_eq(td_session_open(d, S1, 30000)->err, ZAB_OK);
    zab_acl nothing = { 0, { ZAB_STR("world"), ZAB_STR("anyone") } };
    ck_assert_int_eq(td_create_acl(d, S1, "/none", "v", &nothing, 1, ZAB_PERSISTENT)->err,
                     ZAB_OK);
    ck_assert_int_eq(td_get(d, S1, "/none", 0)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, S1, "/none", "w", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, S1, "/none/k", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, S1, "/zookeeper/config", "x", -1)->err, ZAB_OK);
    td_free(d);
}
END_TEST

static Suite *tree_session_suite(void)
{
    Suite *s = suite_create("tree_session");
    TCase *tc = tcase_create("lifetime");
    tcase_add_test(tc, create_session_records_timeout_and_password);
    tcase_add_test(tc, sessions_replicate);
    tcase_add_test(tc, close_session_forgets_it);
    tcase_add_test(tc, close_session_removes_its_ephemerals);
    tcase_add_test(tc, closed_session_cannot_write);
    tcase_add_test(tc, system_session_writes);
    tcase_add_test(tc, close_session_twice);
    tcase_add_test(tc, close_session_spares_recreated_paths);
    tcase_add_test(tc, close_after_pending_ephemeral);
    tcase_add_test(tc, write_after_pending_close);
    suite_add_tcase(s, tc);

    tc = tcase_create("identity");
    tcase_add_test(tc, auth_scheme_expands_to_digest);
    tcase_add_test(tc, auth_scheme_with_two_identities);
    tcase_add_test(tc, digest_identity_grants);
    tcase_add_test(tc, super_digest_passes_everything);
    tcase_add_test(tc, super_needs_configuration);
    tcase_add_test(tc, skip_acl);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(tree_session_suite)
