/*
 * The ready host: zab_server on its own thread, with files and TCP, and
 * in-process clients. One server: every common operation with ZooKeeper's
 * codes and Stat values, multi and ACLs through zab_client_call, an
 * ephemeral that goes with its session, a watch delivered once, 2000
 * pipelined requests completing in order, a session expiring after its
 * client vanished, a restart keeping the data, and clients of a stopped
 * server. Three servers on 127.0.0.1: the leader stops, another takes
 * over, nothing acknowledged is lost, and the old leader catches up.
 *
 * Data directories live under /tmp and are removed afterwards; servers
 * listen on 127.0.0.1 only; every wait is bounded.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "helpers/tmpdir.h"
#include "zab.h"

enum { TICK_MS = 50, WAIT_MS = 10000 };

/* ---- directories, ports, time ---- */

static char tdir[64];

static void setup(void)
{
    ck_assert_ptr_nonnull(tmpdir_make(tdir, sizeof tdir, "zab-server-test."));
}

static void teardown(void)
{
    tmpdir_remove(tdir);
}

static void subdir(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tdir, name);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* A port nobody listens on right now (the kernel's pick for port 0). */
static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- the server's log, kept for assertions ---- */

typedef struct log_lines {
    pthread_mutex_t lock;
    char text[8192];
    size_t len;
} log_lines;

static void keep_line(void *ctx, int level, const char *line)
{
    log_lines *l = ctx;
    (void)level;
    pthread_mutex_lock(&l->lock);
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s\n", line);
    if (n > 0 && l->len + (size_t)n < sizeof l->text) l->len += (size_t)n;
    pthread_mutex_unlock(&l->lock);
}

static int logged(log_lines *l, const char *needle)
{
    pthread_mutex_lock(&l->lock);
    int found = strstr(l->text, needle) != NULL;
    pthread_mutex_unlock(&l->lock);
    return found;
}

/* ---- one server ---- */

static zab_server_member solo[1] = { { 1, "127.0.0.1", 0, 0 } };

static zab_server_config solo_config(const char *dir)
{
    zab_server_config cfg = { .sid = 1, .members = solo, .nmembers = 1, .data_dir = dir,
                              .tick_ms = TICK_MS };
    return cfg;
}

static zab_server *start(const zab_server_config *cfg)
{
    zab_server *s = NULL;
    char err[256];
    int rc = zab_server_start(cfg, &s, err, sizeof err);
    ck_assert_msg(rc == 0, "start: %s: %s", zab_strerror(rc), err);
    ck_assert_int_eq(zab_server_wait_serving(s, WAIT_MS), 0);
    return s;
}

static zab_server *start_solo(const char *name)
{
    char dir[128];
    subdir(dir, sizeof dir, name);
    zab_server_config cfg = solo_config(dir);
    return start(&cfg);
}

static zab_client *open_client(zab_server *s)
{
    zab_client *c = NULL;
    int rc = zab_client_open(s, 4000, NULL, NULL, &c);
    ck_assert_msg(rc == 0, "open: %s", zab_strerror(rc));
    return c;
}

static void check_data(zab_client *c, const char *path, const char *want)
{
    zab_buf b = { 0 };
    zab_stat st;
    ck_assert_int_eq(zab_client_get(c, path, 0, &b, &st), ZAB_OK);
    ck_assert_int_eq((int)b.len, (int)strlen(want));
    ck_assert(b.len == 0 || memcmp(b.data, want, b.len) == 0);
    ck_assert_int_eq(st.data_length, (int)strlen(want));
    zab_buf_free(&b);
}

START_TEST(test_common_operations)
{
    log_lines log = { .lock = PTHREAD_MUTEX_INITIALIZER };
    char dir[128];
    subdir(dir, sizeof dir, "one");
    zab_server_config cfg = solo_config(dir);
    cfg.log = keep_line;
    cfg.log_ctx = &log;
    zab_server *s = start(&cfg);
    zab_node_stats ns;
    zab_server_stats(s, &ns);
    ck_assert_int_eq(ns.role, ZAB_LEADING);
    ck_assert_int_eq(ns.leader, 1);
    ck_assert(ns.serving);
    ck_assert_uint_ne(zab_server_port(s), 0);

    zab_client *c = open_client(s);
    ck_assert(zab_client_session(c) != 0);
    ck_assert_int_eq((int64_t)zab_client_session(c) >> 56, 1); /* the sid's byte */

    char created[64];
    ck_assert_int_eq(zab_client_create(c, "/test", "hello", 5, zab_acl_open, 1, ZAB_PERSISTENT,
                                       created, sizeof created),
                     ZAB_OK);
    ck_assert_str_eq(created, "/test");
    ck_assert_int_eq(zab_client_create(c, "/test", "again", 5, zab_acl_open, 1, ZAB_PERSISTENT,
                                       NULL, 0),
                     ZAB_ENODEEXISTS);
    /* A sequential node's actual name, cut to the caller's room. */
    ck_assert_int_eq(zab_client_create(c, "/test/seq-", NULL, -1, zab_acl_open, 1,
                                       ZAB_PERSISTENT_SEQUENTIAL, created, sizeof created),
                     ZAB_OK);
    ck_assert_str_eq(created, "/test/seq-0000000000"); /* the parent's cversion */
    char small[8];
    ck_assert_int_eq(zab_client_create(c, "/test/seq-", NULL, -1, zab_acl_open, 1,
                                       ZAB_PERSISTENT_SEQUENTIAL, small, sizeof small),
                     ZAB_OK);
    ck_assert_str_eq(small, "/test/s");

    zab_buf data = { 0 };
    zab_stat st;
    ck_assert_int_eq(zab_client_get(c, "/test", 0, &data, &st), ZAB_OK);
    ck_assert_int_eq((int)data.len, 5);
    ck_assert(memcmp(data.data, "hello", 5) == 0);
    ck_assert_int_eq(st.version, 0);
    ck_assert_int_eq(st.data_length, 5);
    ck_assert_int_eq(st.num_children, 2);
    ck_assert_int_eq(st.cversion, 2);
    ck_assert_int_eq(st.ephemeral_owner, 0);
    ck_assert(st.czxid > 0 && st.czxid == st.mzxid);
    /* ctime is wall-clock milliseconds, as ZooKeeper stamps it. */
    int64_t wall = (int64_t)time(NULL) * 1000;
    ck_assert_msg(st.ctime > wall - 60000 && st.ctime < wall + 60000, "ctime %lld",
                  (long long)st.ctime);
    int64_t czxid = st.czxid;

    zab_stat set;
    ck_assert_int_eq(zab_client_set(c, "/test", "world", 5, 0, &set), ZAB_OK);
    ck_assert_int_eq(set.version, 1);
    ck_assert_int_eq(set.data_length, 5);
    ck_assert_int_eq(set.czxid, czxid);
    ck_assert(set.mzxid > czxid);
    ck_assert_int_eq(zab_client_set(c, "/test", "stale", 5, 0, NULL), ZAB_EBADVERSION);
    data.len = 0;
    ck_assert_int_eq(zab_client_get(c, "/test", 0, &data, &st), ZAB_OK);
    ck_assert(data.len == 5 && memcmp(data.data, "world", 5) == 0);
    ck_assert_int_eq(st.version, 1);
    ck_assert_int_eq(st.mzxid, set.mzxid);

    ck_assert_int_eq(zab_client_exists(c, "/test", 0, &st), ZAB_OK);
    ck_assert_int_eq(st.version, 1);

    zab_buf names = { 0 };
    uint32_t count = 0;
    ck_assert_int_eq(zab_client_children(c, "/test", 0, &names, &count, &st), ZAB_OK);
    ck_assert_uint_eq(count, 2);
    ck_assert_int_eq(st.num_children, 2);
    /* Two NUL-terminated names, in no set order. */
    const char *first = (const char *)names.data, *second = first + strlen(first) + 1;
    ck_assert_uint_eq(names.len, strlen(first) + strlen(second) + 2);
    ck_assert((!strcmp(first, "seq-0000000000") && !strcmp(second, "seq-0000000001")) ||
              (!strcmp(first, "seq-0000000001") && !strcmp(second, "seq-0000000000")));
    zab_buf_free(&names);

    ck_assert_int_eq(zab_client_delete(c, "/test", -1), ZAB_ENOTEMPTY);
    ck_assert_int_eq(zab_client_delete(c, "/test/seq-0000000000", 0), ZAB_OK);
    ck_assert_int_eq(zab_client_delete(c, "/test/seq-0000000001", -1), ZAB_OK);
    ck_assert_int_eq(zab_client_delete(c, "/test", 0), ZAB_EBADVERSION);
    ck_assert_int_eq(zab_client_delete(c, "/test", 1), ZAB_OK);
    ck_assert_int_eq(zab_client_exists(c, "/test", 0, &st), ZAB_ENONODE);
    ck_assert_int_eq(zab_client_get(c, "/test", 0, &data, NULL), ZAB_ENONODE);
    ck_assert_int_eq(zab_client_delete(c, "/test", -1), ZAB_ENONODE);
    ck_assert_int_eq(zab_client_set(c, "/test", "x", 1, -1, NULL), ZAB_ENONODE);
    ck_assert_int_eq(zab_client_children(c, "/test", 0, NULL, &count, NULL), ZAB_ENONODE);
    ck_assert_int_eq(zab_client_create(c, "/a/b", NULL, -1, zab_acl_open, 1, ZAB_PERSISTENT,
                                       NULL, 0),
                     ZAB_ENONODE);
    ck_assert_int_eq(zab_client_create(c, "bad", NULL, -1, zab_acl_open, 1, ZAB_PERSISTENT,
                                       NULL, 0),
                     ZAB_EBADARGUMENTS);
    ck_assert_int_eq(zab_client_sync(c, "/"), ZAB_OK);

    /* The root holds only /zookeeper again. */
    names.len = 0;
    ck_assert_int_eq(zab_client_children(c, "/", 0, &names, &count, NULL), ZAB_OK);
    ck_assert_uint_eq(count, 1);
    ck_assert_str_eq((const char *)names.data, "zookeeper");
    zab_buf_free(&names);
    zab_buf_free(&data);

    ck_assert_int_eq(zab_client_close(c), ZAB_OK);
    ck_assert_int_eq(zab_server_stop(s), 0);
    ck_assert(logged(&log, "leading"));
}
END_TEST

START_TEST(test_multi_and_acl)
{
    zab_server *s = start_solo("multi");
    zab_client *c = open_client(s);

    zab_op ok_ops[3] = {
        zab_op_create("/m1", "a", 1, zab_acl_open, 1, ZAB_PERSISTENT),
        zab_op_create("/m2", NULL, -1, zab_acl_open, 1, ZAB_PERSISTENT),
        zab_op_set_data("/m1", "bb", 2, 0),
    };
    zab_request multi = { .type = ZAB_OP_MULTI, .ops = ok_ops, .nops = 3 };
    zab_reply *r = NULL;
    ck_assert_int_eq(zab_client_call(c, &multi, &r), ZAB_OK);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->nresults, 3);
    ck_assert_int_eq(r->results[0].type, ZAB_OP_CREATE);
    ck_assert_int_eq(r->results[0].path.len, 3);
    ck_assert(memcmp(r->results[0].path.ptr, "/m1", 3) == 0);
    ck_assert_int_eq(r->results[1].type, ZAB_OP_CREATE);
    ck_assert_int_eq(r->results[2].type, ZAB_OP_SET_DATA);
    ck_assert_int_eq(r->results[2].stat.version, 1);
    ck_assert_int_eq(r->results[2].stat.data_length, 2);
    int64_t zxid = r->zxid;
    zab_reply_free(r);

    /* A failed multi changes nothing: slots before the failure report OK,
     * the failure its code, those after ZRUNTIMEINCONSISTENCY. */
    zab_op bad_ops[3] = {
        zab_op_create("/m3", NULL, -1, zab_acl_open, 1, ZAB_PERSISTENT),
        zab_op_check("/m1", 7),
        zab_op_delete("/m2", -1),
    };
    multi.ops = bad_ops;
    ck_assert_int_eq(zab_client_call(c, &multi, &r), ZAB_OK);
    ck_assert_uint_eq(r->nresults, 3);
    ck_assert(r->zxid > zxid);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(r->results[i].type, ZAB_OP_ERROR);
    ck_assert_int_eq(r->results[0].err, ZAB_OK);
    ck_assert_int_eq(r->results[1].err, ZAB_EBADVERSION);
    ck_assert_int_eq(r->results[2].err, ZAB_ERUNTIMEINCONSISTENCY);
    zab_reply_free(r);
    ck_assert_int_eq(zab_client_exists(c, "/m3", 0, NULL), ZAB_ENONODE);
    ck_assert_int_eq(zab_client_exists(c, "/m2", 0, NULL), ZAB_OK);

    /* getACL, setACL to read-only, then a write is refused. */
    zab_op get_acl = zab_op_read(ZAB_OP_GET_ACL, "/m1", 0);
    zab_request req = { .type = ZAB_OP_GET_ACL, .ops = &get_acl, .nops = 1 };
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_OK);
    ck_assert_uint_eq(r->nresults, 1);
    ck_assert_uint_eq(r->results[0].nacl, 1);
    ck_assert_int_eq(r->results[0].acl[0].perms, ZAB_PERM_ALL);
    ck_assert_int_eq(r->results[0].acl[0].id.scheme.len, 5);
    ck_assert(memcmp(r->results[0].acl[0].id.scheme.ptr, "world", 5) == 0);
    ck_assert(memcmp(r->results[0].acl[0].id.id.ptr, "anyone", 6) == 0);
    ck_assert_int_eq(r->results[0].stat.aversion, 0);
    zab_reply_free(r);

    zab_op set_acl = zab_op_set_acl("/m1", zab_acl_read, 1, 3);
    req = (zab_request){ .type = ZAB_OP_SET_ACL, .ops = &set_acl, .nops = 1 };
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_EBADVERSION);
    ck_assert_ptr_nonnull(r);
    zab_reply_free(r);
    set_acl.version = 0;
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_OK);
    ck_assert_int_eq(r->results[0].stat.aversion, 1);
    zab_reply_free(r);
    /* world:anyone lost ADMIN: checked before the version. */
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_ENOAUTH);
    zab_reply_free(r);
    ck_assert_int_eq(zab_client_set(c, "/m1", "x", 1, -1, NULL), ZAB_ENOAUTH);
    req = (zab_request){ .type = ZAB_OP_GET_ACL, .ops = &get_acl, .nops = 1 };
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_OK);
    ck_assert_int_eq(r->results[0].acl[0].perms, ZAB_PERM_READ);
    zab_reply_free(r);

    /* Requests the client refuses before they reach the server. */
    zab_op cs = { .type = ZAB_OP_CREATE_SESSION };
    req = (zab_request){ .type = ZAB_OP_CREATE_SESSION, .ops = &cs, .nops = 1 };
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_EINVAL);
    ck_assert_ptr_null(r);
    zab_op get = zab_op_read(ZAB_OP_GET_DATA, "/m1", 0);
    req = (zab_request){ .type = ZAB_OP_EXISTS, .ops = &get, .nops = 1 };
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_EINVAL);

    ck_assert_int_eq(zab_client_close(c), ZAB_OK);
    ck_assert_int_eq(zab_server_stop(s), 0);
}
END_TEST

/* ---- watches ---- */

typedef struct events {
    pthread_mutex_t lock;
    int count;
    zab_event last;
    char path[64];
    pthread_t thread;
} events;

static void on_event(void *ctx, const zab_event *ev)
{
    events *e = ctx;
    pthread_mutex_lock(&e->lock);
    e->count++;
    e->last = *ev;
    snprintf(e->path, sizeof e->path, "%.*s", (int)ev->path.len, ev->path.ptr);
    e->last.path = (zab_str){ e->path, ev->path.len };
    e->thread = pthread_self();
    pthread_mutex_unlock(&e->lock);
}

static int event_count(events *e)
{
    pthread_mutex_lock(&e->lock);
    int n = e->count;
    pthread_mutex_unlock(&e->lock);
    return n;
}

static void on_done_ignore(void *ctx, const zab_reply *r)
{
    (void)ctx, (void)r;
}

/* Every other request type travels to the server and back intact. */
START_TEST(test_other_requests)
{
    char dir[128];
    subdir(dir, sizeof dir, "other");
    zab_server_config cfg = solo_config(dir);
    cfg.tree.extended_types = 1;
    zab_server *s = start(&cfg);
    events ev = { .lock = PTHREAD_MUTEX_INITIALIZER };
    zab_client *c = NULL;
    ck_assert_int_eq(zab_client_open(s, 4000, on_event, &ev, &c), 0);
    zab_reply *r;

    zab_op op = zab_op_read(ZAB_OP_ADD_WATCH, "/r", 0);
    op.flags = ZAB_WATCH_PERSISTENT_RECURSIVE;
    zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_OK);
    zab_reply_free(r);

    op = zab_op_create("/r", "x", 1, zab_acl_open, 1, ZAB_CONTAINER);
    op.type = ZAB_OP_CREATE_CONTAINER;
    req.type = op.type;
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_OK);
    zab_reply_free(r);
    op = zab_op_create("/r/ttl", NULL, -1, zab_acl_open, 1, ZAB_PERSISTENT_WITH_TTL);
    op.type = ZAB_OP_CREATE_TTL;
    op.ttl = 60000;
    req.type = op.type;
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_OK);
    ck_assert_uint_eq(r->nresults, 1);
    ck_assert_int_eq(r->results[0].path.len, 6);
    zab_reply_free(r);
    /* Clients see no owner for a TTL node (DataNode.copyStat). */
    zab_stat st;
    ck_assert_int_eq(zab_client_exists(c, "/r/ttl", 0, &st), ZAB_OK);
    ck_assert_int_eq(st.ephemeral_owner, 0);
    ck_assert_int_eq(zab_client_create(c, "/r/eph", NULL, -1, zab_acl_open, 1, ZAB_EPHEMERAL,
                                       NULL, 0),
                     ZAB_OK);
    /* The recursive watch saw /r and both children created, and stays. */
    ck_assert_int_eq(event_count(&ev), 3);
    ck_assert_int_eq(ev.last.type, ZAB_EVENT_CREATED);
    ck_assert_str_eq(ev.path, "/r/eph");

    op = zab_op_read(ZAB_OP_GET_ALL_CHILDREN_NUMBER, "/r", 0);
    req.type = op.type;
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_OK);
    ck_assert_int_eq(r->results[0].count, 2);
    zab_reply_free(r);
    op = zab_op_read(ZAB_OP_GET_EPHEMERALS, "/r", 0);
    req.type = op.type;
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_OK);
    ck_assert_uint_eq(r->results[0].nnames, 1);
    ck_assert_int_eq(r->results[0].names[0].len, 6);
    ck_assert(memcmp(r->results[0].names[0].ptr, "/r/eph", 6) == 0);
    zab_reply_free(r);

    zab_op reads[2] = { zab_op_read(ZAB_OP_GET_DATA, "/r", 0),
                        zab_op_read(ZAB_OP_GET_CHILDREN, "/nope", 0) };
    zab_request multi_read = { .type = ZAB_OP_MULTI_READ, .ops = reads, .nops = 2 };
    ck_assert_int_eq(zab_client_call(c, &multi_read, &r), ZAB_OK);
    ck_assert_uint_eq(r->nresults, 2);
    ck_assert_int_eq(r->results[0].type, ZAB_OP_GET_DATA);
    ck_assert_int_eq(r->results[0].data_len, 1);
    ck_assert_int_eq(((const char *)r->results[0].data)[0], 'x');
    ck_assert_int_eq(r->results[1].type, ZAB_OP_ERROR);
    ck_assert_int_eq(r->results[1].err, ZAB_ENONODE);
    zab_reply_free(r);

    op = zab_op_read(ZAB_OP_CHECK_WATCHES, "/r", 0);
    op.flags = ZAB_WATCHER_PERSISTENT_RECURSIVE;
    req.type = op.type;
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_OK);
    zab_reply_free(r);
    op.type = ZAB_OP_REMOVE_WATCHES;
    req.type = op.type;
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_OK);
    zab_reply_free(r);
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_ENOWATCHER);
    zab_reply_free(r);
    ck_assert_int_eq(zab_client_delete(c, "/r/eph", -1), ZAB_OK);
    ck_assert_int_eq(event_count(&ev), 3);

    /* A top-level check, as ZooKeeper answers it. */
    op = zab_op_check("/r", 0);
    req.type = op.type;
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_EUNIMPLEMENTED);
    zab_reply_free(r);
    /* What only a connection sends. */
    op = (zab_op){ .type = ZAB_OP_PING };
    req.type = op.type;
    ck_assert_int_eq(zab_client_call(c, &req, &r), ZAB_EINVAL);
    ck_assert_int_eq(zab_client_submit(c, &req, on_done_ignore, NULL), ZAB_EINVAL);

    ck_assert_int_eq(zab_client_close(c), ZAB_OK);
    ck_assert_int_eq(zab_server_stop(s), 0);
}
END_TEST

START_TEST(test_ephemeral_goes_with_session)
{
    zab_server *s = start_solo("eph");
    zab_client *a = open_client(s), *b = open_client(s);
    ck_assert(zab_client_session(a) != zab_client_session(b));
    ck_assert_int_eq(zab_client_create(a, "/eph", "x", 1, zab_acl_open, 1, ZAB_EPHEMERAL, NULL, 0),
                     ZAB_OK);
    zab_stat st;
    ck_assert_int_eq(zab_client_exists(b, "/eph", 0, &st), ZAB_OK);
    ck_assert_int_eq(st.ephemeral_owner, zab_client_session(a));
    ck_assert_int_eq(zab_client_create(a, "/eph/child", NULL, -1, zab_acl_open, 1,
                                       ZAB_PERSISTENT, NULL, 0),
                     ZAB_ENOCHILDRENFOREPHEMERALS);
    ck_assert_int_eq(zab_client_close(a), ZAB_OK);
    /* closeSession has committed when close returns. */
    ck_assert_int_eq(zab_client_exists(b, "/eph", 0, NULL), ZAB_ENONODE);
    ck_assert_int_eq(zab_client_close(b), ZAB_OK);
    ck_assert_int_eq(zab_server_stop(s), 0);
}
END_TEST

START_TEST(test_watch_delivered_once)
{
    zab_server *s = start_solo("watch");
    events ev = { .lock = PTHREAD_MUTEX_INITIALIZER };
    zab_client *w = NULL, *c = open_client(s);
    ck_assert_int_eq(zab_client_open(s, 4000, on_event, &ev, &w), 0);
    ck_assert_int_eq(zab_client_create(c, "/w", "0", 1, zab_acl_open, 1, ZAB_PERSISTENT, NULL, 0),
                     ZAB_OK);
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_client_get(w, "/w", 1, &b, NULL), ZAB_OK);
    zab_stat st;
    ck_assert_int_eq(zab_client_set(c, "/w", "1", 1, -1, &st), ZAB_OK);
    ck_assert_int_eq(zab_client_set(c, "/w", "2", 1, -1, NULL), ZAB_OK);
    /* The event fires as the first set applies, before the set's reply. */
    ck_assert_int_eq(event_count(&ev), 1);
    ck_assert_int_eq(ev.last.type, ZAB_EVENT_DATA_CHANGED);
    ck_assert_int_eq(ev.last.state, ZAB_STATE_SYNC_CONNECTED);
    ck_assert_str_eq(ev.path, "/w");
    ck_assert_int_eq(ev.last.zxid, st.mzxid);
    ck_assert(!pthread_equal(ev.thread, pthread_self()));

    /* An exists watch on a missing node fires on its creation; a child
     * watch on its parent too. */
    ck_assert_int_eq(zab_client_exists(w, "/w/x", 1, NULL), ZAB_ENONODE);
    ck_assert_int_eq(zab_client_children(w, "/w", 1, NULL, NULL, NULL), ZAB_OK);
    ck_assert_int_eq(zab_client_create(c, "/w/x", NULL, -1, zab_acl_open, 1, ZAB_PERSISTENT,
                                       NULL, 0),
                     ZAB_OK);
    ck_assert_int_eq(event_count(&ev), 3);
    ck_assert_int_eq(zab_client_sync(w, "/"), ZAB_OK);
    ck_assert_int_eq(event_count(&ev), 3);

    /* A watch of an abandoned client never fires again. */
    ck_assert_int_eq(zab_client_get(w, "/w", 1, &b, NULL), ZAB_OK);
    zab_client_abandon(w);
    ck_assert_int_eq(zab_client_set(c, "/w", "3", 1, -1, NULL), ZAB_OK);
    ck_assert_int_eq(event_count(&ev), 3);
    zab_buf_free(&b);
    ck_assert_int_eq(zab_client_close(c), ZAB_OK);
    ck_assert_int_eq(zab_server_stop(s), 0);
}
END_TEST

/* ---- pipelining ---- */

enum { PIPELINE = 2000 };

typedef struct pipeline {
    pthread_mutex_t lock;
    int order[PIPELINE];
    int err[PIPELINE];
    int n;
    int out_of_order;
} pipeline;

typedef struct slot {
    pipeline *p;
    int index;
} slot;

static void on_done(void *ctx, const zab_reply *r)
{
    slot *sl = ctx;
    pipeline *p = sl->p;
    pthread_mutex_lock(&p->lock);
    if (p->n < PIPELINE) {
        if (sl->index != p->n) p->out_of_order++;
        p->order[p->n] = sl->index;
        p->err[p->n] = r->err;
        p->n++;
    }
    pthread_mutex_unlock(&p->lock);
}

static int done_count(pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    int n = p->n;
    pthread_mutex_unlock(&p->lock);
    return n;
}

static int wait_done(pipeline *p, int want)
{
    int64_t until = now_ms() + WAIT_MS;
    while (done_count(p) < want && now_ms() < until) sleep_ms(2);
    return done_count(p);
}

START_TEST(test_pipeline_in_order)
{
    zab_server *s = start_solo("pipe");
    zab_client *c = open_client(s);
    ck_assert_int_eq(zab_client_create(c, "/p", NULL, -1, zab_acl_open, 1, ZAB_PERSISTENT, NULL, 0),
                     ZAB_OK);
    static pipeline p;
    static slot slots[PIPELINE];
    memset(&p, 0, sizeof p);
    pthread_mutex_init(&p.lock, NULL);
    /* Creates, with a read of the node just created every tenth request:
     * it waits for the write before it, and answers ZOK. */
    for (int i = 0; i < PIPELINE; i++) {
        char path[32];
        snprintf(path, sizeof path, "/p/n%04d", i - i % 10);
        zab_op op = i % 10 ? zab_op_read(ZAB_OP_EXISTS, path, 0)
                           : zab_op_create(path, "v", 1, zab_acl_open, 1, ZAB_PERSISTENT);
        zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
        slots[i] = (slot){ &p, i };
        ck_assert_int_eq(zab_client_submit(c, &req, on_done, &slots[i]), 0);
    }
    ck_assert_int_eq(wait_done(&p, PIPELINE), PIPELINE);
    ck_assert_int_eq(p.out_of_order, 0);
    for (int i = 0; i < PIPELINE; i++) ck_assert_msg(p.err[i] == ZAB_OK, "%d: %d", i, p.err[i]);
    zab_stat st;
    ck_assert_int_eq(zab_client_exists(c, "/p", 0, &st), ZAB_OK);
    ck_assert_int_eq(st.num_children, PIPELINE / 10);

    /* 2000 writes in flight: more than max_outstanding, so the server
     * holds some back, still in order. */
    memset(&p, 0, sizeof p);
    pthread_mutex_init(&p.lock, NULL);
    for (int i = 0; i < PIPELINE; i++) {
        zab_op op = zab_op_set_data("/p", "x", 1, i);
        zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
        slots[i] = (slot){ &p, i };
        ck_assert_int_eq(zab_client_submit(c, &req, on_done, &slots[i]), 0);
    }
    ck_assert_int_eq(wait_done(&p, PIPELINE), PIPELINE);
    ck_assert_int_eq(p.out_of_order, 0);
    /* Each expected the version the one before it made. */
    for (int i = 0; i < PIPELINE; i++) ck_assert_msg(p.err[i] == ZAB_OK, "%d: %d", i, p.err[i]);
    ck_assert_int_eq(zab_client_exists(c, "/p", 0, &st), ZAB_OK);
    ck_assert_int_eq(st.version, PIPELINE);

    ck_assert_int_eq(zab_client_close(c), ZAB_OK);
    ck_assert_int_eq(zab_server_stop(s), 0);
}
END_TEST

/* ---- sessions ---- */

START_TEST(test_session_expires_after_abandon)
{
    zab_server *s = start_solo("expiry");
    zab_client *a = NULL, *b = open_client(s);
    /* Negotiated within 2 and 20 ticks. */
    ck_assert_int_eq(zab_client_open(s, 10, NULL, NULL, &a), 0);
    ck_assert_int_eq(zab_client_timeout(a), 2 * TICK_MS);
    zab_client_abandon(a);
    ck_assert_int_eq(zab_client_open(s, 1000000, NULL, NULL, &a), 0);
    ck_assert_int_eq(zab_client_timeout(a), 20 * TICK_MS);
    ck_assert_int_eq(zab_client_close(a), ZAB_OK);

    ck_assert_int_eq(zab_client_open(s, 2 * TICK_MS, NULL, NULL, &a), 0);
    ck_assert_int_eq(zab_client_create(a, "/eph", NULL, -1, zab_acl_open, 1, ZAB_EPHEMERAL, NULL, 0),
                     ZAB_OK);
    /* An open client's session outlives its timeout many times over. */
    sleep_ms(6 * TICK_MS);
    ck_assert_int_eq(zab_client_exists(b, "/eph", 0, NULL), ZAB_OK);
    int64_t t0 = now_ms();
    zab_client_abandon(a);
    int rc = ZAB_OK;
    while (rc == ZAB_OK && now_ms() - t0 < 3000) {
        sleep_ms(10);
        rc = zab_client_exists(b, "/eph", 0, NULL);
    }
    ck_assert_int_eq(rc, ZAB_ENONODE);
    ck_assert_msg(now_ms() - t0 < 2000, "expired after %lld ms", (long long)(now_ms() - t0));
    ck_assert_int_eq(zab_client_close(b), ZAB_OK);
    ck_assert_int_eq(zab_server_stop(s), 0);
}
END_TEST

START_TEST(test_restart_keeps_data)
{
    char dir[128];
    subdir(dir, sizeof dir, "restart");
    zab_server_config cfg = solo_config(dir);
    cfg.snap_count = 20; /* a few snapshots on the way */
    zab_server *s = start(&cfg);
    zab_client *c = open_client(s);
    ck_assert_int_eq(zab_client_create(c, "/keep", "data", 4, zab_acl_open, 1, ZAB_PERSISTENT,
                                       NULL, 0),
                     ZAB_OK);
    for (int i = 0; i < 100; i++) {
        char path[32];
        snprintf(path, sizeof path, "/keep/%d", i);
        ck_assert_int_eq(zab_client_create(c, path, path, (int32_t)strlen(path), zab_acl_open, 1,
                                           ZAB_PERSISTENT, NULL, 0),
                         ZAB_OK);
    }
    ck_assert_int_eq(zab_client_set(c, "/keep", "DATA", 4, 0, NULL), ZAB_OK);
    zab_node_stats before;
    zab_server_stats(s, &before);
    ck_assert_int_eq(zab_client_close(c), ZAB_OK);
    ck_assert_int_eq(zab_server_stop(s), 0);

    s = start(&cfg);
    zab_node_stats after;
    zab_server_stats(s, &after);
    ck_assert(after.current_epoch > before.current_epoch);
    c = open_client(s);
    check_data(c, "/keep", "DATA");
    zab_stat st;
    ck_assert_int_eq(zab_client_exists(c, "/keep", 0, &st), ZAB_OK);
    ck_assert_int_eq(st.num_children, 100);
    ck_assert_int_eq(st.version, 1);
    check_data(c, "/keep/99", "/keep/99");
    ck_assert_int_eq(zab_client_close(c), ZAB_OK);
    ck_assert_int_eq(zab_server_stop(s), 0);

    /* Snapshots were written to the data directory. */
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int snaps = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "snap.", 5)) snaps++;
    closedir(d);
    ck_assert_int_gt(snaps, 0);
}
END_TEST

START_TEST(test_stopped_server)
{
    zab_server *s = start_solo("stop");
    zab_client *c = open_client(s), *idle = open_client(s);
    ck_assert_int_eq(zab_client_create(c, "/s", NULL, -1, zab_acl_open, 1, ZAB_PERSISTENT, NULL, 0),
                     ZAB_OK);
    static pipeline p;
    static slot slots[PIPELINE];
    memset(&p, 0, sizeof p);
    pthread_mutex_init(&p.lock, NULL);
    for (int i = 0; i < 500; i++) {
        zab_op op = zab_op_set_data("/s", "x", 1, -1);
        zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
        slots[i] = (slot){ &p, i };
        ck_assert_int_eq(zab_client_submit(c, &req, on_done, &slots[i]), 0);
    }
    ck_assert_int_eq(zab_server_stop(s), 0);
    /* Every request ended, in order: done, or cut off by the stop. */
    ck_assert_int_eq(done_count(&p), 500);
    ck_assert_int_eq(p.out_of_order, 0);
    for (int i = 0; i < 500; i++)
        ck_assert(p.err[i] == ZAB_OK || p.err[i] == ZAB_ECONNECTIONLOSS);

    ck_assert_int_eq(zab_client_exists(c, "/s", 0, NULL), ZAB_EFAILED);
    zab_op op = zab_op_read(ZAB_OP_GET_DATA, "/s", 0);
    zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
    ck_assert_int_eq(zab_client_submit(c, &req, on_done, &slots[0]), ZAB_EFAILED);
    zab_client *late = NULL;
    ck_assert_int_eq(zab_client_open(s, 1000, NULL, NULL, &late), ZAB_EFAILED);
    ck_assert_ptr_null(late);
    zab_node_stats ns;
    zab_server_stats(s, &ns);
    ck_assert(!ns.serving);
    ck_assert_int_eq(zab_server_wait_serving(s, 100), ZAB_EOPERATIONTIMEOUT);
    ck_assert_int_eq(zab_client_close(c), ZAB_EFAILED);
    zab_client_abandon(idle);
}
END_TEST

START_TEST(test_bad_configurations)
{
    char dir[128], err[256];
    subdir(dir, sizeof dir, "bad");
    zab_server *s = NULL;
    zab_server_config cfg = solo_config(NULL);
    ck_assert_int_eq(zab_server_start(&cfg, &s, err, sizeof err), ZAB_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert(strlen(err) > 0);
    cfg = solo_config(dir);
    cfg.sid = 2;
    ck_assert_int_eq(zab_server_start(&cfg, &s, err, sizeof err), ZAB_EINVAL);
    zab_server_member twice[2] = { { 1, "127.0.0.1", 0, 0 }, { 1, "127.0.0.1", 0, 0 } };
    cfg = solo_config(dir);
    cfg.members = twice;
    cfg.nmembers = 2;
    ck_assert_int_eq(zab_server_start(&cfg, &s, err, sizeof err), ZAB_EINVAL);
    /* A session id holds its server's id in one byte. */
    zab_server_member wide[1] = { { 256, "127.0.0.1", 0, 0 } };
    cfg = solo_config(dir);
    cfg.sid = 256;
    cfg.members = wide;
    ck_assert_int_eq(zab_server_start(&cfg, &s, err, sizeof err), ZAB_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(access(dir, F_OK), -1); /* nothing was created */

    /* A port in use. */
    zab_server *first = start_solo("port");
    zab_server_member taken[1] = { { 1, "127.0.0.1", zab_server_port(first), 0 } };
    cfg = solo_config(dir);
    cfg.members = taken;
    ck_assert_int_eq(zab_server_start(&cfg, &s, err, sizeof err), ZAB_EIO);
    ck_assert_ptr_null(s);
    ck_assert(strlen(err) > 0);
    ck_assert_int_eq(zab_server_stop(first), 0);

    /* A data directory that cannot be created. */
    cfg = solo_config("/proc/zab-no-such-dir");
    ck_assert_int_eq(zab_server_start(&cfg, &s, err, sizeof err), ZAB_EIO);
    ck_assert_ptr_null(s);
}
END_TEST

/* ---- three servers ---- */

enum { N = 3 };

typedef struct ensemble {
    zab_server_member members[N];
    char dirs[N][128];
    zab_server *servers[N];
} ensemble;

static zab_server_config member_config(ensemble *e, int i)
{
    zab_server_config cfg = { .sid = e->members[i].sid, .members = e->members, .nmembers = N,
                              .data_dir = e->dirs[i], .tick_ms = TICK_MS };
    return cfg;
}

static void start_member(ensemble *e, int i)
{
    zab_server_config cfg = member_config(e, i);
    char err[256];
    int rc = zab_server_start(&cfg, &e->servers[i], err, sizeof err);
    ck_assert_msg(rc == 0, "start %d: %s: %s", i + 1, zab_strerror(rc), err);
}

/* The index of the member that leads and serves, or -1. */
static int leader_of(ensemble *e)
{
    for (int i = 0; i < N; i++) {
        if (!e->servers[i]) continue;
        zab_node_stats st;
        zab_server_stats(e->servers[i], &st);
        if (st.role == ZAB_LEADING && st.serving) return i;
    }
    return -1;
}

static int wait_leader(ensemble *e)
{
    int64_t until = now_ms() + WAIT_MS;
    int l;
    while ((l = leader_of(e)) < 0 && now_ms() < until) sleep_ms(5);
    return l;
}

/* A write retried through connection losses, as a ZooKeeper client
 * retries; a create that already happened (its first attempt committed
 * after all) counts as done. */
static int create_retrying(zab_client *c, const char *path)
{
    int64_t until = now_ms() + WAIT_MS;
    int rc, tries = 0;
    do {
        rc = zab_client_create(c, path, path, (int32_t)strlen(path), zab_acl_open, 1,
                               ZAB_PERSISTENT, NULL, 0);
        if (rc == ZAB_ENODEEXISTS && tries > 0) rc = ZAB_OK;
        if (rc == ZAB_ECONNECTIONLOSS) sleep_ms(10);
        tries++;
    } while (rc == ZAB_ECONNECTIONLOSS && now_ms() < until);
    return rc;
}

static int sync_retrying(zab_client *c)
{
    int64_t until = now_ms() + WAIT_MS;
    int rc;
    while ((rc = zab_client_sync(c, "/")) == ZAB_ECONNECTIONLOSS && now_ms() < until) sleep_ms(10);
    return rc;
}

START_TEST(test_three_servers_fail_over)
{
    ensemble e;
    memset(&e, 0, sizeof e);
    for (int i = 0; i < N; i++) {
        e.members[i] = (zab_server_member){ i + 1, "127.0.0.1", free_port(), 0 };
        snprintf(e.dirs[i], sizeof e.dirs[i], "%s/s%d", tdir, i + 1);
    }
    for (int i = 0; i < N; i++) start_member(&e, i);
    for (int i = 0; i < N; i++) ck_assert_int_eq(zab_server_wait_serving(e.servers[i], WAIT_MS), 0);
    int old = wait_leader(&e);
    ck_assert_int_ge(old, 0);
    for (int i = 0; i < N; i++) ck_assert_uint_eq(zab_server_port(e.servers[i]), e.members[i].port);

    /* A client on every server writes; each sees the others' writes after
     * a sync. */
    zab_client *c[N];
    for (int i = 0; i < N; i++) c[i] = open_client(e.servers[i]);
    for (int i = 0; i < N; i++) {
        char path[32];
        snprintf(path, sizeof path, "/before-%d", i + 1);
        ck_assert_int_eq(create_retrying(c[i], path), ZAB_OK);
    }
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(sync_retrying(c[i]), ZAB_OK);
        for (int j = 0; j < N; j++) {
            char path[32];
            snprintf(path, sizeof path, "/before-%d", j + 1);
            check_data(c[i], path, path);
        }
    }

    /* A watch left through one server fires for a write through another. */
    int watcher = (old + 1) % N, writer = (old + 2) % N;
    events ev = { .lock = PTHREAD_MUTEX_INITIALIZER };
    zab_client *w = NULL;
    ck_assert_int_eq(zab_client_open(e.servers[watcher], 4000, on_event, &ev, &w), 0);
    ck_assert_int_eq(zab_client_exists(w, "/watched", 1, NULL), ZAB_ENONODE);
    ck_assert_int_eq(create_retrying(c[writer], "/watched"), ZAB_OK);
    int64_t until = now_ms() + WAIT_MS;
    while (event_count(&ev) < 1 && now_ms() < until) sleep_ms(2);
    ck_assert_int_eq(event_count(&ev), 1);
    ck_assert_int_eq(ev.last.type, ZAB_EVENT_CREATED);
    ck_assert_str_eq(ev.path, "/watched");
    ck_assert_int_eq(zab_client_close(w), ZAB_OK);

    /* The leader's client holds an ephemeral: its session, no longer kept
     * alive once its server is gone, expires under the next leader. */
    ck_assert_int_eq(zab_client_create(c[old], "/eph-old", NULL, -1, zab_acl_open, 1,
                                       ZAB_EPHEMERAL, NULL, 0),
                     ZAB_OK);

    /* The leader stops; the two others elect among themselves. */
    int64_t t0 = now_ms();
    zab_client_abandon(c[old]);
    ck_assert_int_eq(zab_server_stop(e.servers[old]), 0);
    e.servers[old] = NULL;
    int now_leader = wait_leader(&e);
    ck_assert_int_ge(now_leader, 0);
    ck_assert_int_ne(now_leader, old);
    ck_assert_msg(now_ms() - t0 < 5000, "new leader after %lld ms", (long long)(now_ms() - t0));

    /* The surviving clients carry on: retries through the election, then
     * every acknowledged write is there. */
    for (int i = 0; i < N; i++) {
        if (i == old) continue;
        char path[32];
        snprintf(path, sizeof path, "/after-%d", i + 1);
        ck_assert_int_eq(create_retrying(c[i], path), ZAB_OK);
    }
    for (int i = 0; i < N; i++) {
        if (i == old) continue;
        ck_assert_int_eq(sync_retrying(c[i]), ZAB_OK);
        for (int j = 0; j < N; j++) {
            char path[32];
            snprintf(path, sizeof path, "/before-%d", j + 1);
            check_data(c[i], path, path);
            if (j == old) continue;
            snprintf(path, sizeof path, "/after-%d", j + 1);
            check_data(c[i], path, path);
        }
    }

    /* 20 ticks at most after the new leader is established. */
    int rc = ZAB_OK;
    until = now_ms() + WAIT_MS;
    while ((rc = zab_client_exists(c[writer], "/eph-old", 0, NULL)) == ZAB_OK && now_ms() < until)
        sleep_ms(10);
    ck_assert_int_eq(rc, ZAB_ENONODE);

    /* The old leader comes back as a follower and catches up. */
    start_member(&e, old);
    ck_assert_int_eq(zab_server_wait_serving(e.servers[old], WAIT_MS), 0);
    c[old] = open_client(e.servers[old]);
    ck_assert_int_eq(sync_retrying(c[old]), ZAB_OK);
    for (int j = 0; j < N; j++) {
        char path[32];
        snprintf(path, sizeof path, "/before-%d", j + 1);
        check_data(c[old], path, path);
        if (j == old) continue;
        snprintf(path, sizeof path, "/after-%d", j + 1);
        check_data(c[old], path, path);
    }
    zab_node_stats st;
    zab_server_stats(e.servers[old], &st);
    ck_assert_int_ne(st.role, ZAB_LEADING);

    for (int i = 0; i < N; i++) ck_assert_int_eq(zab_client_close(c[i]), ZAB_OK);
    for (int i = 0; i < N; i++) ck_assert_int_eq(zab_server_stop(e.servers[i]), 0);
}
END_TEST

static Suite *server_suite(void)
{
    Suite *s = suite_create("server");
    TCase *one = tcase_create("one server");
    tcase_add_checked_fixture(one, setup, teardown);
    tcase_set_timeout(one, 30);
    tcase_add_test(one, test_common_operations);
    tcase_add_test(one, test_multi_and_acl);
    tcase_add_test(one, test_other_requests);
    tcase_add_test(one, test_ephemeral_goes_with_session);
    tcase_add_test(one, test_watch_delivered_once);
    tcase_add_test(one, test_pipeline_in_order);
    tcase_add_test(one, test_session_expires_after_abandon);
    tcase_add_test(one, test_restart_keeps_data);
    tcase_add_test(one, test_stopped_server);
    tcase_add_test(one, test_bad_configurations);
    suite_add_tcase(s, one);

    TCase *three = tcase_create("three servers");
    tcase_add_checked_fixture(three, setup, teardown);
    tcase_set_timeout(three, 60);
    tcase_add_test(three, test_three_servers_fail_over);
    suite_add_tcase(s, three);
    return s;
}

ZAB_CHECK_MAIN(server_suite)
