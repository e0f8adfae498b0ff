/*
 * hello_tree.c - a first session against one zab data tree.
 *
 * The tree is driven the way a replica drives it: every write is turned
 * into a transaction by zab_tree_prepare (the leader's half) and executed
 * by zab_tree_apply (every replica's half), with a zxid counter and a clock
 * kept by the host; reads go straight to zab_tree_read. The program walks
 * through what a ZooKeeper user's first session does and checks every
 * answer against what ZooKeeper would say; it exits non-zero when one is
 * not as expected.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zab.h>

/* The host's side of the tree: the zxid counter, the clock, and a buffer
 * for transaction bytes. */
typedef struct replica {
    zab_tree *tree;
    int64_t zxid;   /* the last zxid handed out */
    int64_t now_ms; /* the leader's clock */
    zab_buf txn;
} replica;

static const int64_t session = INT64_C(0x0100000a3c5e0001);

/* One write: prepare it for the next zxid, then apply the transaction.
 * A request that fails ZooKeeper's checks still becomes a transaction and
 * consumes its zxid; its apply reports the error in reply->err. */
static int write_request(replica *r, const zab_request *req, zab_reply *reply)
{
    int64_t zxid = r->zxid + 1;
    r->txn.len = 0;
    int rc = zab_tree_prepare(r->tree, req, zxid, r->now_ms, &r->txn);
    if (rc) return rc;
    r->zxid = zxid;
    r->now_ms += 1000;
    return zab_tree_apply(r->tree, zxid, r->txn.data, r->txn.len, reply);
}

/* A single-op write: 0 when it applied with the expected error code, else
 * the code it got (ZAB_EAPI for an unexpected success). */
static int write_op(replica *r, zab_op op, int32_t want, zab_reply *reply)
{
    zab_request req = { .type = op.type, .session = session, .ops = &op, .nops = 1 };
    int rc = write_request(r, &req, reply);
    if (rc) return rc;
    return reply->err == want ? 0 : reply->err ? reply->err : ZAB_EAPI;
}

/* A single-op read: 0 when it answered with the expected error code, else
 * the code it got (ZAB_EAPI for an unexpected success). */
static int read_op(replica *r, zab_op op, int32_t want, zab_reply *reply)
{
    zab_request req = { .type = op.type, .session = session, .ops = &op, .nops = 1 };
    int rc = zab_tree_read(r->tree, &req, reply);
    return rc == want ? 0 : rc ? rc : ZAB_EAPI;
}

/* What the on_watch callback saw. The event's path is borrowed for the
 * callback only, so it is copied. */
typedef struct watch_log {
    int events;
    int64_t watcher;
    zab_event last;
    char path[64];
} watch_log;

/* One line of output: the request, then what the tree answered. */
static void step(const char *request, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%-34s -> ", request);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

static void fail(const char *what, int rc)
{
    fprintf(stderr, "hello_tree: unexpected result at \"%s\": %d (%s)\n", what, rc,
            zab_strerror(rc));
    exit(1);
}

static const char *event_name(int32_t type)
{
    switch (type) {
    case ZAB_EVENT_CREATED: return "NodeCreated";
    case ZAB_EVENT_DELETED: return "NodeDeleted";
    case ZAB_EVENT_DATA_CHANGED: return "NodeDataChanged";
    case ZAB_EVENT_CHILDREN_CHANGED: return "NodeChildrenChanged";
    default: return "None";
    }
}

/* Called from inside zab_tree_apply, before it returns; it must not call
 * back into the tree. */
static void on_watch(void *ctx, int64_t watcher, const zab_event *ev)
{
    watch_log *log = ctx;
    uint32_t len = ev->path.len < sizeof(log->path) - 1 ? ev->path.len : sizeof(log->path) - 1;
    memcpy(log->path, ev->path.ptr, len);
    log->path[len] = '\0';
    log->events++;
    log->watcher = watcher;
    log->last = *ev;
    log->last.path = (zab_str){ log->path, len };
}

static int save_to_buf(void *ctx, const void *bytes, size_t len)
{
    return zab_buf_append(ctx, bytes, len);
}

static int str_is(zab_str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static void open_session(replica *r)
{
    static const uint8_t passwd[16] = { 0x3c, 0x5e, 0x01, 0x7a, 0x92, 0x10, 0x4b, 0xe8,
                                        0x61, 0x0d, 0xc4, 0x27, 0x5f, 0xa3, 0x08, 0x9e };
    zab_op op = { .type = ZAB_OP_CREATE_SESSION, .data = passwd, .data_len = 16,
                  .timeout = 30000, .version = -1, .ttl = -1 };
    zab_reply reply;
    int rc = write_op(r, op, ZAB_OK, &reply);
    if (rc) fail("createSession", rc);
    step("createSession, timeout 30000 ms", "session 0x%" PRIx64 ", zxid 0x%" PRIx64,
         (uint64_t)session, (uint64_t)reply.zxid);
}

static void create_and_read(replica *r)
{
    zab_reply reply;
    int rc = write_op(r, zab_op_create("/test", "hello", 5, zab_acl_open, 1, ZAB_PERSISTENT),
                      ZAB_OK, &reply);
    if (rc) fail("create /test", rc);
    step("create /test \"hello\"", "%.*s, zxid 0x%" PRIx64, (int)reply.results[0].path.len,
         reply.results[0].path.ptr, (uint64_t)reply.zxid);

    rc = read_op(r, zab_op_read(ZAB_OP_GET_DATA, "/test", 0), ZAB_OK, &reply);
    const zab_result *res = &reply.results[0];
    if (!rc && (res->data_len != 5 || memcmp(res->data, "hello", 5) || res->stat.version != 0))
        rc = ZAB_EAPI;
    if (rc) fail("getData /test", rc);
    step("getData /test", "\"%.*s\", version %d, dataLength %d, numChildren %d",
         (int)res->data_len, (const char *)res->data, res->stat.version,
         res->stat.data_length, res->stat.num_children);
    printf("%-34s    czxid 0x%" PRIx64 ", mzxid 0x%" PRIx64 ", ctime %" PRId64 "\n", "",
           (uint64_t)res->stat.czxid, (uint64_t)res->stat.mzxid, res->stat.ctime);
}

/* setData with the version just read: the write succeeds only if nobody
 * changed the node in between. */
static void conditional_set(replica *r)
{
    zab_reply reply;
    int rc = write_op(r, zab_op_set_data("/test", "world", 5, 0), ZAB_OK, &reply);
    if (!rc && reply.results[0].stat.version != 1) rc = ZAB_EAPI;
    if (rc) fail("setData /test version 0", rc);
    step("setData /test \"world\" version 0", "version %d, mzxid 0x%" PRIx64,
         reply.results[0].stat.version, (uint64_t)reply.results[0].stat.mzxid);

    rc = read_op(r, zab_op_read(ZAB_OP_GET_DATA, "/test", 1), ZAB_OK, &reply);
    const zab_result *res = &reply.results[0];
    if (!rc && (res->data_len != 5 || memcmp(res->data, "world", 5))) rc = ZAB_EAPI;
    if (rc) fail("getData /test watch", rc);
    step("getData /test, watch", "\"%.*s\", version %d; a data watch is left on /test",
         (int)res->data_len, (const char *)res->data, res->stat.version);
}

/* The watch fires inside zab_tree_apply, before the write's reply. */
static void watch_fires(replica *r, const watch_log *log)
{
    zab_reply reply;
    int rc = write_op(r, zab_op_set_data("/test", "again", 5, -1), ZAB_OK, &reply);
    if (!rc && (log->events != 1 || log->last.type != ZAB_EVENT_DATA_CHANGED ||
                log->last.zxid != reply.zxid || log->watcher != session ||
                strcmp(log->path, "/test") != 0))
        rc = ZAB_EAPI;
    if (rc) fail("setData /test fires the watch", rc);
    step("setData /test \"again\" version -1", "version %d, zxid 0x%" PRIx64,
         reply.results[0].stat.version, (uint64_t)reply.zxid);
    printf("%-34s    on_watch: %s %s, zxid 0x%" PRIx64 "\n", "", event_name(log->last.type),
           log->path, (uint64_t)log->last.zxid);
}

static void sequential_and_ephemeral(replica *r)
{
    zab_reply reply;
    int rc = write_op(r, zab_op_create("/test/job-", "", 0, zab_acl_open, 1,
                                       ZAB_PERSISTENT_SEQUENTIAL),
                      ZAB_OK, &reply);
    if (!rc && !str_is(reply.results[0].path, "/test/job-0000000000")) rc = ZAB_EAPI;
    if (rc) fail("create /test/job- sequential", rc);
    step("create /test/job- sequential", "%.*s", (int)reply.results[0].path.len,
         reply.results[0].path.ptr);

    rc = write_op(r, zab_op_create("/test/owner", "me", 2, zab_acl_open, 1, ZAB_EPHEMERAL),
                  ZAB_OK, &reply);
    if (!rc && reply.results[0].stat.ephemeral_owner != session) rc = ZAB_EAPI;
    if (rc) fail("create /test/owner ephemeral", rc);
    step("create /test/owner ephemeral", "ephemeralOwner 0x%" PRIx64,
         (uint64_t)reply.results[0].stat.ephemeral_owner);
}

/* A multi is all or nothing: the setData's stale version fails it, so the
 * create before it is not applied and the delete after it never runs. */
static void failed_multi(replica *r)
{
    zab_op ops[3] = {
        zab_op_create("/test/never", "", 0, zab_acl_open, 1, ZAB_PERSISTENT),
        zab_op_set_data("/test", "stale", 5, 1),
        zab_op_delete("/test/job-0000000000", -1),
    };
    zab_request req = { .type = ZAB_OP_MULTI, .session = session, .ops = ops, .nops = 3 };
    zab_reply reply;
    int rc = write_request(r, &req, &reply);
    static const int32_t want[3] = { ZAB_OK, ZAB_EBADVERSION, ZAB_ERUNTIMEINCONSISTENCY };
    if (!rc && (reply.err != ZAB_OK || reply.nresults != 3)) rc = ZAB_EAPI;
    for (uint32_t i = 0; !rc && i < 3; i++)
        if (reply.results[i].type != ZAB_OP_ERROR || reply.results[i].err != want[i])
            rc = ZAB_EAPI;
    if (rc) fail("multi", rc);
    step("multi: create, setData v1, delete", "err %d, results [%d, %d, %d], zxid 0x%" PRIx64,
         reply.err, reply.results[0].err, reply.results[1].err, reply.results[2].err,
         (uint64_t)reply.zxid);

    rc = read_op(r, zab_op_read(ZAB_OP_EXISTS, "/test/never", 0), ZAB_ENONODE, &reply);
    if (rc) fail("exists /test/never", rc);
    step("exists /test/never", "%d (%s): nothing of the multi applied", reply.err,
         zab_strerror(reply.err));
}

static void close_session(replica *r)
{
    zab_op op = { .type = ZAB_OP_CLOSE_SESSION, .data_len = -1, .version = -1, .ttl = -1 };
    zab_reply reply;
    int rc = write_op(r, op, ZAB_OK, &reply);
    if (rc) fail("closeSession", rc);
    step("closeSession", "zxid 0x%" PRIx64, (uint64_t)reply.zxid);

    rc = read_op(r, zab_op_read(ZAB_OP_EXISTS, "/test/owner", 0), ZAB_ENONODE, &reply);
    zab_tree_stats st;
    zab_tree_stats_get(r->tree, &st);
    if (!rc && (st.ephemerals != 0 || st.sessions != 0)) rc = ZAB_EAPI;
    if (rc) fail("exists /test/owner after close", rc);
    step("exists /test/owner", "%d (%s): gone with its session", reply.err,
         zab_strerror(reply.err));
}

/* A snapshot carries the whole tree; a second tree loaded from it holds the
 * same nodes and sessions, which the digests confirm. */
static void snapshot(replica *r)
{
    zab_buf snap = { 0 };
    int rc = zab_tree_save(r->tree, save_to_buf, &snap);
    if (rc) fail("zab_tree_save", rc);
    zab_tree *copy = zab_tree_new(NULL);
    if (!copy) fail("zab_tree_new", ZAB_ENOMEM);
    rc = zab_tree_load_mem(copy, snap.data, snap.len);
    zab_tree_stats a, b;
    zab_tree_stats_get(r->tree, &a);
    zab_tree_stats_get(copy, &b);
    if (!rc && (a.digest != b.digest || a.nodes != b.nodes || a.last_zxid != b.last_zxid))
        rc = ZAB_EAPI;
    if (rc) fail("snapshot round trip", rc);
    step("zab_tree_save", "%zu bytes: %" PRIu64 " nodes, last zxid 0x%" PRIx64, snap.len,
         a.nodes, (uint64_t)a.last_zxid);
    step("zab_tree_load_mem into a new tree", "digest %016" PRIx64 " == %016" PRIx64, a.digest,
         b.digest);
    zab_tree_free(copy);
    zab_buf_free(&snap);
}

int main(void)
{
    watch_log log = { 0 };
    zab_tree_config cfg = { .on_watch = on_watch, .watch_ctx = &log };
    replica r = { .tree = zab_tree_new(&cfg), .zxid = INT64_C(1) << 32,
                  .now_ms = INT64_C(1700000000000) };
    if (!r.tree) fail("zab_tree_new", ZAB_ENOMEM);
    printf("zab %s: one data tree, every write through prepare + apply\n",
           ZAB_VERSION_STRING);

    open_session(&r);
    create_and_read(&r);
    conditional_set(&r);
    watch_fires(&r, &log);
    sequential_and_ephemeral(&r);
    failed_multi(&r);
    close_session(&r);
    snapshot(&r);

    zab_buf_free(&r.txn);
    zab_tree_free(r.tree);
    printf("hello_tree: every step answered as ZooKeeper does\n");
    return 0;
}
