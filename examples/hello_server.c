/*
 * hello_server.c - a ZooKeeper-style server inside your program.
 *
 *   hello_server            one server: a client creates /test "hello",
 *                           reads it, sets "world", reads it, deletes it
 *   hello_server cluster    three servers on 127.0.0.1; a client of a
 *                           follower keeps writing while the leader stops
 *
 * The data lives in /tmp/zab-hello-server-1 and /tmp/zab-hello-cluster-*;
 * each run continues the history of the last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zab.h>

static void check(int rc, const char *what)
{
    if (rc == ZAB_OK) return;
    fprintf(stderr, "hello_server: %s: %s\n", what, zab_strerror(rc));
    exit(1);
}

static void show(zab_client *c, const char *path)
{
    zab_buf data = { 0 };
    zab_stat st;
    check(zab_client_get(c, path, 0, &data, &st), "get");
    printf("   get %s: \"%.*s\" (version %d)\n", path, (int)data.len, (const char *)data.data,
           st.version);
    zab_buf_free(&data);
}

static zab_server *start(int64_t sid, const zab_server_member *members, uint32_t n)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/zab-hello-%s-%lld", n > 1 ? "cluster" : "server",
             (long long)sid);
    zab_server_config cfg = { .sid = sid, .members = members, .nmembers = n, .data_dir = dir,
                              .tick_ms = 200 };
    zab_server *s;
    char err[256];
    int rc = zab_server_start(&cfg, &s, err, sizeof err);
    if (rc) {
        fprintf(stderr, "hello_server: start %lld: %s: %s\n", (long long)sid, zab_strerror(rc), err);
        exit(1);
    }
    return s;
}

static void one_server(void)
{
    static const zab_server_member me[] = { { 1, "127.0.0.1", 0, 0 } };
    zab_server *s = start(1, me, 1);
    check(zab_server_wait_serving(s, 10000), "wait for the server");
    printf("1. server 1 started and leads\n");

    zab_client *c;
    check(zab_client_open(s, 10000, NULL, NULL, &c), "open");
    printf("2. client connected, session 0x%llx, timeout %d ms\n",
           (unsigned long long)zab_client_session(c), zab_client_timeout(c));

    check(zab_client_create(c, "/test", "hello", 5, zab_acl_open, 1, ZAB_PERSISTENT, NULL, 0),
          "create");
    printf("3. create /test \"hello\"\n");
    show(c, "/test");
    check(zab_client_set(c, "/test", "world", 5, 0, NULL), "set");
    printf("4. set /test \"world\"\n");
    show(c, "/test");
    check(zab_client_delete(c, "/test", -1), "delete");
    printf("5. delete /test: %s\n", zab_strerror(zab_client_exists(c, "/test", 0, NULL)));

    check(zab_client_close(c), "close");
    check(zab_server_stop(s), "stop");
    printf("6. client closed, server stopped\n");
}

/* A write retried through the election, as a ZooKeeper client retries
 * after a connection loss. */
static void set_retrying(zab_client *c, const char *path, const char *value)
{
    int rc, tries = 0;
    while ((rc = zab_client_set(c, path, value, (int32_t)strlen(value), -1, NULL)) ==
               ZAB_ECONNECTIONLOSS && tries++ < 500) {
        nanosleep(&(struct timespec){ 0, 20 * 1000000 }, NULL);
    }
    check(rc, "set");
    printf("   set %s \"%s\" after %d connection losses\n", path, value, tries);
}

static void cluster(void)
{
    static const zab_server_member members[] = {
        { 1, "127.0.0.1", 28881, 0 }, { 2, "127.0.0.1", 28882, 0 }, { 3, "127.0.0.1", 28883, 0 }
    };
    zab_server *s[3];
    for (int i = 0; i < 3; i++) s[i] = start(i + 1, members, 3);
    for (int i = 0; i < 3; i++) check(zab_server_wait_serving(s[i], 10000), "wait for a leader");
    int leader = 0;
    for (int i = 0; i < 3; i++) {
        zab_node_stats st;
        zab_server_stats(s[i], &st);
        if (st.role == ZAB_LEADING) leader = i;
    }
    int follower = (leader + 1) % 3;
    printf("1. three servers started; server %d leads\n", leader + 1);

    zab_client *c;
    check(zab_client_open(s[follower], 10000, NULL, NULL, &c), "open");
    printf("2. client connected to server %d\n", follower + 1);
    check(zab_client_create(c, "/test", "hello", 5, zab_acl_open, 1, ZAB_PERSISTENT, NULL, 0),
          "create");
    printf("3. create /test \"hello\"\n");
    show(c, "/test");

    check(zab_server_stop(s[leader]), "stop the leader");
    s[leader] = NULL;
    printf("4. server %d (the leader) stopped\n", leader + 1);
    set_retrying(c, "/test", "world");
    for (int i = 0; i < 3; i++) {
        zab_node_stats st;
        if (!s[i]) continue;
        zab_server_stats(s[i], &st);
        if (st.role == ZAB_LEADING) printf("5. server %d leads now\n", i + 1);
    }
    show(c, "/test");
    check(zab_client_delete(c, "/test", -1), "delete");
    check(zab_client_close(c), "close");
    for (int i = 0; i < 3; i++)
        if (s[i]) check(zab_server_stop(s[i]), "stop");
    printf("6. client closed, servers stopped\n");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "cluster") == 0) cluster();
    else one_server();
    printf("hello_server: ok\n");
    return 0;
}
