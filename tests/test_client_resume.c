/*
 * Clients that a host relays (zabd's connections): a session resumed on
 * another server with its password and last zxid, the old connection's
 * writes then refused with SESSIONMOVED; liveness left to the host; the
 * connection's identities in ACL checks; watches re-registered after a
 * move, with the change missed in between delivered at once.
 *
 * Three zab_servers in this process on 127.0.0.1.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "zab.h"

enum { SERVERS = 3 };

static zab_server *servers[SERVERS];
static char root[64];

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* Ports below the ephemeral range (32768 and up on Linux), so that no
 * outgoing connection holds one; another test may, so a start that finds
 * its port in use tries the next block. */
static int start_at(uint16_t base)
{
    zab_server_member members[SERVERS];
    for (int i = 0; i < SERVERS; i++)
        members[i] = (zab_server_member){ i + 1, "127.0.0.1", (uint16_t)(base + i), 0 };
    for (int i = 0; i < SERVERS; i++) {
        char dir[96];
        snprintf(dir, sizeof dir, "%s/%d", root, i + 1);
        zab_server_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.sid = i + 1;
        cfg.members = members;
        cfg.nmembers = SERVERS;
        cfg.data_dir = dir;
        cfg.tick_ms = 50;
        cfg.segment_bytes = 1 << 20;
        char err[256];
        int rc = zab_server_start(&cfg, &servers[i], err, sizeof err);
        if (rc == ZAB_EIO && strstr(err, "in use")) {
            while (i-- > 0) ck_assert_int_eq(zab_server_stop(servers[i]), 0);
            return 0;
        }
        ck_assert_msg(rc == 0, "%s", err);
    }
    return 1;
}

static void start_all(void)
{
    snprintf(root, sizeof root, "/tmp/zab-resume-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    uint16_t base = (uint16_t)(20000 + (getpid() % 1000) * 12);
    int started = 0;
    for (int tries = 0; tries < 20 && !started; tries++, base = (uint16_t)(base + 3))
        started = start_at(base);
    ck_assert_msg(started, "no free ports");
    for (int i = 0; i < SERVERS; i++) ck_assert_int_eq(zab_server_wait_serving(servers[i], 20000), 0);
}

static void stop_all(void)
{
    for (int i = 0; i < SERVERS; i++) ck_assert_int_eq(zab_server_stop(servers[i]), 0);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    ck_assert_int_eq(system(cmd), 0);
}

static zab_client *open_on(int i)
{
    zab_client *c = NULL;
    ck_assert_int_eq(zab_client_open(servers[i], 2000, NULL, NULL, &c), 0);
    return c;
}

static int64_t applied(int i)
{
    zab_node_stats st;
    zab_server_stats(servers[i], &st);
    return st.last_applied;
}

START_TEST(resume_moves_the_session)
{
    start_all();
    zab_client *a = open_on(0);
    ck_assert_int_eq(zab_client_create(a, "/e", "x", 1, zab_acl_open, 1, ZAB_EPHEMERAL, NULL, 0), 0);
    ck_assert_int_eq(zab_client_sync(a, "/"), 0);
    uint8_t pw[16], wrong[16] = { 0 };
    zab_client_password(a, pw);
    int64_t id = zab_client_session(a);
    zab_client *b = NULL;
    ck_assert_int_eq(zab_client_resume(servers[1], id, wrong, 0, NULL, NULL, &b), ZAB_EAUTHFAILED);
    ck_assert_int_eq(zab_client_resume(servers[1], id + 1, pw, 0, NULL, NULL, &b),
                     ZAB_ESESSIONEXPIRED);
    ck_assert_int_eq(zab_client_resume(servers[1], id, pw, INT64_MAX, NULL, NULL, &b),
                     ZAB_ECONNECTIONLOSS);
    ck_assert_ptr_null(b);
    /* Wait until server 2 holds what the client has seen, then move. */
    for (int i = 0; i < 200 && applied(1) < applied(0); i++) sleep_ms(10);
    ck_assert_int_eq(zab_client_resume(servers[1], id, pw, applied(0), NULL, NULL, &b), 0);
    ck_assert_int_eq(zab_client_session(b), id);
    ck_assert_int_eq(zab_client_timeout(b), zab_client_timeout(a));
    /* The old connection's writes are refused; the new one's work. */
    ck_assert_int_eq(zab_client_create(a, "/old", "", 0, zab_acl_open, 1, ZAB_PERSISTENT, NULL, 0),
                     ZAB_ESESSIONMOVED);
    ck_assert_int_eq(zab_client_create(b, "/new", "", 0, zab_acl_open, 1, ZAB_PERSISTENT, NULL, 0),
                     0);
    zab_client_abandon(a);
    /* The session lives on through b: its ephemeral stays, then goes with it. */
    ck_assert_int_eq(zab_client_exists(b, "/e", 0, NULL), 0);
    ck_assert_int_eq(zab_client_close(b), 0);
    zab_client *c = open_on(2);
    ck_assert_int_eq(zab_client_sync(c, "/"), 0);
    ck_assert_int_eq(zab_client_exists(c, "/e", 0, NULL), ZAB_ENONODE);
    ck_assert_int_eq(zab_client_exists(c, "/old", 0, NULL), ZAB_ENONODE);
    zab_client_close(c);
    stop_all();
}
END_TEST

START_TEST(host_driven_liveness)
{
    start_all();
    zab_client *quiet = open_on(1), *pinged = open_on(1), *watcher = open_on(0);
    zab_client_keep_alive(quiet, 0);
    zab_client_keep_alive(pinged, 0);
    ck_assert_int_eq(zab_client_create(quiet, "/q", "", 0, zab_acl_open, 1, ZAB_EPHEMERAL, NULL, 0), 0);
    ck_assert_int_eq(zab_client_create(pinged, "/p", "", 0, zab_acl_open, 1, ZAB_EPHEMERAL, NULL, 0), 0);
    int32_t timeout = zab_client_timeout(quiet);
    /* Twice the timeout: the silent one expires, the pinged one lives. */
    for (int t = 0; t < 2 * timeout + 1000; t += 50) {
        zab_client_touch(pinged);
        sleep_ms(50);
    }
    ck_assert_int_eq(zab_client_sync(watcher, "/"), 0);
    ck_assert_int_eq(zab_client_exists(watcher, "/q", 0, NULL), ZAB_ENONODE);
    ck_assert_int_eq(zab_client_exists(watcher, "/p", 0, NULL), 0);
    zab_client_abandon(quiet);
    zab_client_close(pinged);
    zab_client_close(watcher);
    stop_all();
}
END_TEST

START_TEST(connection_identities_pass_acl_checks)
{
    start_all();
    zab_client *owner = open_on(0), *other = open_on(1);
    ck_assert_int_eq(zab_client_add_auth(owner, ZAB_STR("digest"), ZAB_STR("")), 0);
    char id[128];
    ck_assert_int_gt(zab_digest_id(ZAB_STR("alice:secret"), id, sizeof id), 0);
    ck_assert_int_eq(zab_client_add_auth(owner, ZAB_STR("digest"), zab_str_c(id)), 0);
    ck_assert_int_eq(zab_client_add_auth(owner, (zab_str){ NULL, 0 }, ZAB_STR("x")), ZAB_EINVAL);
    /* CREATOR_ALL_ACL takes the creator's identities. */
    ck_assert_int_eq(zab_client_create(owner, "/secret", "s", 1, zab_acl_creator, 1,
                                       ZAB_PERSISTENT, NULL, 0), 0);
    ck_assert_int_eq(zab_client_sync(other, "/"), 0);
    zab_buf data = { 0 };
    ck_assert_int_eq(zab_client_get(other, "/secret", 0, &data, NULL), ZAB_ENOAUTH);
    ck_assert_int_eq(zab_client_get(owner, "/secret", 0, &data, NULL), 0);
    ck_assert_uint_eq(data.len, 1);
    zab_buf_free(&data);
    zab_client_close(owner);
    zab_client_close(other);
    stop_all();
}
END_TEST

typedef struct events {
    pthread_mutex_t lock;
    int n;
    int32_t type;
} events;

static void on_event(void *ctx, const zab_event *ev)
{
    events *e = ctx;
    pthread_mutex_lock(&e->lock);
    e->n++;
    e->type = ev->type;
    pthread_mutex_unlock(&e->lock);
}

static int count(events *e)
{
    pthread_mutex_lock(&e->lock);
    int n = e->n;
    pthread_mutex_unlock(&e->lock);
    return n;
}

START_TEST(watches_follow_a_moved_session)
{
    start_all();
    events before = { PTHREAD_MUTEX_INITIALIZER, 0, 0 }, after = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };
    zab_client *writer = open_on(2);
    ck_assert_int_eq(zab_client_create(writer, "/w", "0", 1, zab_acl_open, 1, ZAB_PERSISTENT, NULL, 0), 0);
    zab_client *a = NULL;
    ck_assert_int_eq(zab_client_open(servers[0], 2000, on_event, &before, &a), 0);
    ck_assert_int_eq(zab_client_sync(a, "/"), 0);
    ck_assert_int_eq(zab_client_exists(a, "/w", 1, NULL), 0);
    int64_t seen = applied(0);
    uint8_t pw[16];
    zab_client_password(a, pw);
    /* The client loses its server; /w changes while it is away. */
    zab_client_keep_alive(a, 0);
    int64_t id = zab_client_session(a);
    zab_client_abandon(a);
    ck_assert_int_eq(zab_client_set(writer, "/w", "1", 1, -1, NULL), 0);
    for (int i = 0; i < 200 && applied(1) < applied(2); i++) sleep_ms(10);
    zab_client *b = NULL;
    ck_assert_int_eq(zab_client_resume(servers[1], id, pw, seen, on_event, &after, &b), 0);
    /* exists() on a node that exists leaves a data watch: a client sends
     * it back among its data watches. */
    zab_str path = ZAB_STR("/w");
    ck_assert_int_eq(zab_client_set_watches(b, seen, ZAB_SETWATCH_DATA, &path, 1), 0);
    ck_assert_int_eq(zab_client_set_watches(b, seen, 99, &path, 1), ZAB_EINVAL);
    /* The missed change arrives at once, to the new connection only. */
    ck_assert_int_eq(count(&after), 1);
    ck_assert_int_eq(after.type, ZAB_EVENT_DATA_CHANGED);
    ck_assert_int_eq(count(&before), 0);
    zab_client_close(b);
    zab_client_close(writer);
    stop_all();
}
END_TEST

/* What a monitoring command reads: every replica's tree counts agree with
 * what the clients did. */
START_TEST(tree_statistics_follow_the_replicas)
{
    start_all();
    zab_tree_stats before;
    zab_server_tree_stats(servers[0], &before);
    zab_client *c = open_on(1);
    ck_assert_int_eq(zab_client_create(c, "/n", "12345", 5, zab_acl_open, 1, ZAB_PERSISTENT, NULL, 0), 0);
    ck_assert_int_eq(zab_client_create(c, "/n/e", "", 0, zab_acl_open, 1, ZAB_EPHEMERAL, NULL, 0), 0);
    ck_assert_int_eq(zab_client_exists(c, "/n", 1, NULL), 0);
    ck_assert_int_eq(zab_client_sync(c, "/"), 0);
    zab_tree_stats st;
    zab_server_tree_stats(servers[1], &st);
    for (int i = 0; i < 100 && st.ephemerals != before.ephemerals + 1; i++) {
        sleep_ms(10); /* published at the end of the server's turn */
        zab_server_tree_stats(servers[1], &st);
    }
    ck_assert_uint_eq(st.nodes, before.nodes + 2);
    ck_assert_uint_eq(st.ephemerals, before.ephemerals + 1);
    ck_assert_uint_eq(st.sessions, before.sessions + 1);
    ck_assert_uint_eq(st.watches, before.watches + 1);
    /* Every replica reaches the same tree. */
    for (int i = 0; i < SERVERS; i++) {
        zab_tree_stats other;
        zab_server_tree_stats(servers[i], &other);
        for (int k = 0; k < 200 && other.last_zxid < st.last_zxid; k++) {
            sleep_ms(10);
            zab_server_tree_stats(servers[i], &other);
        }
        ck_assert_uint_eq(other.nodes, st.nodes);
        ck_assert_uint_eq(other.digest, st.digest);
    }
    zab_client_close(c);
    stop_all();
}
END_TEST

static Suite *resume_suite(void)
{
    Suite *s = suite_create("client_resume");
    TCase *tc = tcase_create("relayed");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, resume_moves_the_session);
    tcase_add_test(tc, host_driven_liveness);
    tcase_add_test(tc, connection_identities_pass_acl_checks);
    tcase_add_test(tc, watches_follow_a_moved_session);
    tcase_add_test(tc, tree_statistics_follow_the_replicas);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(resume_suite)
