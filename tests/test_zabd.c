/*
 * zabd, the ZooKeeper-compatible server, driven over TCP by a minimal
 * client that speaks ZooKeeper's wire protocol with the library's own
 * jute encoders and decoders. The server runs in this process (zabd's
 * sources are compiled in) on 127.0.0.1 and a port of its choosing, with
 * its data in a temporary directory removed after each test.
 *
 * Expected values are ZooKeeper's, as the protocol reference states them
 * and as a ZooKeeper 3.8 server was observed to answer: a 41-byte
 * ConnectResponse, a refused reconnection answered with timeout 0,
 * session 0 and a zero password before the close, Stat fields after
 * create and setData, bare headers for errors, pings (xid -2), auth
 * (xid -4, zxid 0) and setWatches (xid -8), events before the reply of
 * any later request, replies in request order, the connection closed
 * without a reply for an oversized frame or a bad handshake, and the
 * four-letter words' texts.
 *
 * When python3 with kazoo is installed, a kazoo script runs against the
 * server too; when the zabd binary has been built ($BUILD/zabd), one test
 * runs it as a process and stops it with SIGTERM.
 */
#include "../examples/zabd/config.c"
#include "../examples/zabd/conn.c"
#include "../examples/zabd/log.c"
#include "../examples/zabd/net.c"
#include "../examples/zabd/pool.c"
#include "../examples/zabd/session.c"
#include "../examples/zabd/words.c"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "check_main.h"
#include "helpers/tmpdir.h"
#include "util/codec.h"

enum { IO_TIMEOUT_S = 10, TICK_MS = 100 };

static const uint8_t zero_passwd[16];

/* ---- files ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

/* ---- a server in this process ---- */

struct daemon {
    char dir[64];
    struct zabd_config cfg;
    struct zabd_log log;
    zab_server *server;
    struct zabd_net *net;
    uint16_t port;
};

static struct daemon d;

static int log_level(void)
{
    const char *v = getenv("ZABD_TEST_LOG");
    return v ? atoi(v) : -1;
}

/* Start the server and its listener of zoo.cfg at cfg_path (without
 * waiting for it to serve), with over's limits where non-zero. */
static void boot(struct daemon *x, const char *cfg_path, const struct zabd_net_config *over)
{
    char err[512];
    ck_assert_msg(zabd_config_load(cfg_path, &x->cfg, err, sizeof err) == 0, "%s", err);
    zabd_log_init(&x->log, stderr, log_level());

    zab_server_member members[ZABD_MAX_SERVERS];
    zab_server_config sc;
    ck_assert_int_ge(zabd_config_server(&x->cfg, &sc, members, ZABD_MAX_SERVERS), 1);
    sc.log = zabd_log_server_line;
    sc.log_ctx = &x->log;
    ck_assert_msg(zab_server_start(&sc, &x->server, err, sizeof err) == 0, "%s", err);

    struct zabd_net_config nc;
    zabd_net_config_from(&x->cfg, &x->log, &nc);
    nc.port = 0;
    if (over) {
        if (over->max_output) nc.max_output = over->max_output;
        if (over->max_frame) nc.max_frame = over->max_frame;
        if (over->handshake_ms) nc.handshake_ms = over->handshake_ms;
    }
    ck_assert_msg(zabd_net_start(&nc, x->server, &x->net, err, sizeof err) == 0, "%s", err);
    x->port = zabd_net_port(x->net);
    ck_assert_int_ne(x->port, 0);
}

static void halt(struct daemon *x)
{
    zabd_net_stop(x->net, 2000);
    ck_assert_int_eq(zab_server_stop(x->server), 0);
    zabd_config_free(&x->cfg);
    zabd_log_destroy(&x->log);
}

/* Start a standalone server with zoo.cfg lines extra (may be NULL). */
static void start_with(const char *extra, const struct zabd_net_config *over)
{
    memset(&d, 0, sizeof d);
    ck_assert_ptr_nonnull(tmpdir_make(d.dir, sizeof d.dir, "zabd-test."));
    char cfg_path[128], text[1024];
    snprintf(cfg_path, sizeof cfg_path, "%s/zoo.cfg", d.dir);
    snprintf(text, sizeof text,
             "tickTime=%d\ndataDir=%s/data\nclientPort=2181\nclientPortAddress=127.0.0.1\n"
             "preAllocSize=1024\n%s",
             TICK_MS, d.dir, extra ? extra : "");
    write_file(cfg_path, text);
    boot(&d, cfg_path, over);
    ck_assert_int_eq(zab_server_wait_serving(d.server, 10000), 0);
}

static void start(void)
{
    start_with(NULL, NULL);
}

static void stop(void)
{
    halt(&d);
    tmpdir_remove(d.dir);
}

/* ---- a minimal client ---- */

static int dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = { IO_TIMEOUT_S, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_all(int fd, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        ck_assert_int_gt(n, 0);
        p += n;
        len -= (size_t)n;
    }
}

static void send_frame(int fd, const zab_buf *payload)
{
    uint8_t len[4];
    uint32_t n = (uint32_t)payload->len;
    len[0] = (uint8_t)(n >> 24);
    len[1] = (uint8_t)(n >> 16);
    len[2] = (uint8_t)(n >> 8);
    len[3] = (uint8_t)n;
    send_all(fd, len, 4);
    if (n) send_all(fd, payload->data, payload->len);
}

/* Read exactly len bytes: 1, 0 at a clean end of stream before the first
 * byte, -1 at a reset or a timeout. */
static int recv_all(int fd, void *bytes, size_t len)
{
    uint8_t *p = bytes;
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, p + got, len - got, 0);
        if (n == 0) return got ? -1 : 0;
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        got += (size_t)n;
    }
    return 1;
}

/* The next frame's payload into f (emptied first): 1, or 0 when the
 * server closed the connection. */
static int read_frame(int fd, zab_buf *f)
{
    uint8_t len[4];
    f->len = 0;
    int rc = recv_all(fd, len, 4);
    if (rc <= 0) {
        ck_assert_msg(rc == 0 || errno == ECONNRESET, "no frame: %s", strerror(errno));
        return 0;
    }
    uint32_t n = zabd_get_be32(len);
    ck_assert_uint_le(n, 16u << 20);
    ck_assert_int_eq(zab_buf_reserve(f, n), 0);
    ck_assert_int_eq(recv_all(fd, f->data, n), 1);
    f->len = n;
    return 1;
}

/* Whether the server closes the connection (after any frames it sends
 * first, which are read and dropped) within the read timeout. */
static int closed_by_server(int fd)
{
    uint8_t b[4096];
    for (;;) {
        ssize_t n = recv(fd, b, sizeof b, 0);
        if (n == 0) return 1;
        if (n < 0) return errno == ECONNRESET;
    }
}

struct zk {
    int fd;
    int64_t session;
    uint8_t passwd[16];
    int32_t timeout;
    int32_t xid;
    int64_t last_zxid;
    zab_buf f;             /* the last frame read */
    zab_buf scratch;
};

/* Send a ConnectRequest; the reply is read by the caller. */
static void send_connect(int fd, int64_t session, const uint8_t *passwd, int32_t timeout,
                         int64_t last_zxid)
{
    zab_zk_connect req = { .last_zxid_seen = last_zxid, .timeout = timeout, .session = session,
                           .passwd = passwd ? passwd : zero_passwd, .passwd_len = 16,
                           .has_read_only = 1 };
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_zk_encode_connect(&req, &b), 0);
    send_frame(fd, &b);
    zab_buf_free(&b);
}

static void zk_open_as(struct zk *z, int64_t session, const uint8_t *passwd, int32_t timeout,
                       int64_t last_zxid)
{
    memset(z, 0, sizeof *z);
    z->fd = dial(d.port);
    send_connect(z->fd, session, passwd, timeout, last_zxid);
    ck_assert_int_eq(read_frame(z->fd, &z->f), 1);
    ck_assert_uint_eq(z->f.len, 37); /* 41 bytes with the length: what the C client reads */
    zab_zk_connect_reply rsp;
    ck_assert_int_eq(zab_zk_decode_connect_reply(z->f.data, z->f.len, &rsp), 0);
    ck_assert_int_gt(rsp.timeout, 0);
    ck_assert_int_ne(rsp.session, 0);
    z->session = rsp.session;
    z->timeout = rsp.timeout;
    memcpy(z->passwd, rsp.passwd, 16);
    z->last_zxid = last_zxid;
}

static void zk_open(struct zk *z)
{
    zk_open_as(z, 0, NULL, 30000, 0);
}

static void zk_close_socket(struct zk *z)
{
    if (z->fd >= 0) close(z->fd);
    z->fd = -1;
    zab_buf_free(&z->f);
    zab_buf_free(&z->scratch);
}

/* Send a request with a fresh xid; returns the xid. */
static int32_t zk_send(struct zk *z, const zab_request *req)
{
    int32_t xid = ++z->xid;
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_zk_encode_request_header(xid, req->type, &b), 0);
    int rc = zab_zk_encode_request(req, &b);
    ck_assert_msg(rc == 0 || rc == ZAB_EUNIMPLEMENTED, "encode: %s", zab_strerror(rc));
    send_frame(z->fd, &b);
    zab_buf_free(&b);
    return xid;
}

static int32_t zk_send_op(struct zk *z, zab_op op)
{
    zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
    return zk_send(z, &req);
}

/* A request with no body (closeSession, whoAmI, ping) or a raw body. */
static void zk_send_raw(struct zk *z, int32_t xid, int32_t opcode, const void *body, size_t len)
{
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_zk_encode_request_header(xid, opcode, &b), 0);
    if (len) ck_assert_int_eq(zab_buf_append(&b, body, len), 0);
    send_frame(z->fd, &b);
    zab_buf_free(&b);
}

struct answer {
    int32_t xid;
    int64_t zxid;
    int32_t err;
    zab_reader body;       /* the record after the header (into z->f) */
};

/* The next frame, which must be a reply (not an event). */
static struct answer zk_read(struct zk *z)
{
    ck_assert_msg(read_frame(z->fd, &z->f), "the server closed the connection");
    struct answer a;
    size_t at;
    ck_assert_int_eq(
        zab_zk_decode_reply_header(z->f.data, z->f.len, &a.xid, &a.zxid, &a.err, &at), 0);
    a.body = zab_reader_init(z->f.data + at, z->f.len - at);
    if (a.zxid > z->last_zxid) z->last_zxid = a.zxid;
    return a;
}

static struct answer zk_reply(struct zk *z, int32_t xid)
{
    struct answer a = zk_read(z);
    ck_assert_int_ne(a.xid, ZAB_XID_NOTIFICATION);
    ck_assert_int_eq(a.xid, xid);
    return a;
}

static struct answer zk_call(struct zk *z, zab_op op)
{
    return zk_reply(z, zk_send_op(z, op));
}

/* The next frame, which must be a watch event. */
static zab_event zk_event(struct zk *z)
{
    ck_assert_msg(read_frame(z->fd, &z->f), "the server closed the connection");
    zab_event ev;
    ck_assert_int_eq(zab_zk_decode_event(z->f.data, z->f.len, &ev), 0);
    return ev;
}

static void get_stat(zab_reader *r, zab_stat *st)
{
    memset(st, 0, sizeof *st); /* the padding too: stats are compared whole */
    st->czxid = zab_get_i64(r);
    st->mzxid = zab_get_i64(r);
    st->ctime = zab_get_i64(r);
    st->mtime = zab_get_i64(r);
    st->version = zab_get_i32(r);
    st->cversion = zab_get_i32(r);
    st->aversion = zab_get_i32(r);
    st->ephemeral_owner = zab_get_i64(r);
    st->data_length = zab_get_i32(r);
    st->num_children = zab_get_i32(r);
    st->pzxid = zab_get_i64(r);
    ck_assert_int_eq(r->err, 0);
}

static void assert_done(zab_reader *r)
{
    ck_assert_int_eq(r->err, 0);
    ck_assert_uint_eq(zab_reader_left(r), 0);
}

static int str_is(zab_str s, const char *c)
{
    return s.len == strlen(c) && !memcmp(s.ptr, c, s.len);
}

static zab_op create_op(const char *path, const char *data, int32_t mode)
{
    zab_op op = zab_op_create(path, data, data ? (int32_t)strlen(data) : -1, zab_acl_open, 1, mode);
    op.type = ZAB_OP_CREATE2;
    return op;
}

/* exists(path): the error code, and the Stat when there is one. */
static int32_t zk_exists(struct zk *z, const char *path, int watch, zab_stat *st)
{
    struct answer a = zk_call(z, zab_op_read(ZAB_OP_EXISTS, path, watch));
    if (a.err == 0 && st) get_stat(&a.body, st);
    return a.err;
}

/* ---- the handshake and the basic operations ---- */

START_TEST(test_create_get_set_delete)
{
    start();
    struct zk z;
    int64_t before = zabd_wall_ms();
    zk_open(&z);
    /* The timeout is negotiated: 30 s asked, 20 ticks at most. */
    ck_assert_int_eq(z.timeout, 20 * TICK_MS);

    struct answer a = zk_call(&z, create_op("/a", "one", ZAB_PERSISTENT));
    ck_assert_int_eq(a.err, 0);
    zab_str path = zab_get_str(&a.body);
    ck_assert(str_is(path, "/a"));
    zab_stat st;
    get_stat(&a.body, &st);
    assert_done(&a.body);
    ck_assert_int_eq(st.czxid, a.zxid);
    ck_assert_int_eq(st.mzxid, a.zxid);
    ck_assert_int_eq(st.pzxid, a.zxid);
    ck_assert_int_eq(st.ctime, st.mtime);
    ck_assert_int_ge(st.ctime, before - 1000);
    ck_assert_int_le(st.ctime, zabd_wall_ms() + 1000);
    ck_assert_int_eq(st.version, 0);
    ck_assert_int_eq(st.cversion, 0);
    ck_assert_int_eq(st.aversion, 0);
    ck_assert_int_eq(st.ephemeral_owner, 0);
    ck_assert_int_eq(st.data_length, 3);
    ck_assert_int_eq(st.num_children, 0);
    int64_t created = a.zxid;

    /* getData: the data and the same Stat. */
    a = zk_call(&z, zab_op_read(ZAB_OP_GET_DATA, "/a", 0));
    ck_assert_int_eq(a.err, 0);
    zab_str data = zab_get_str(&a.body);
    ck_assert(str_is(data, "one"));
    zab_stat st2;
    get_stat(&a.body, &st2);
    assert_done(&a.body);
    ck_assert_mem_eq(&st, &st2, sizeof st);

    /* setData: version and mzxid move, czxid stays. */
    a = zk_call(&z, zab_op_set_data("/a", "three", 5, 0));
    ck_assert_int_eq(a.err, 0);
    get_stat(&a.body, &st2);
    assert_done(&a.body);
    ck_assert_int_gt(a.zxid, created);
    ck_assert_int_eq(st2.czxid, created);
    ck_assert_int_eq(st2.mzxid, a.zxid);
    ck_assert_int_eq(st2.version, 1);
    ck_assert_int_eq(st2.data_length, 5);
    ck_assert_int_eq(st2.pzxid, created);

    /* An error is a bare header. */
    a = zk_call(&z, zab_op_set_data("/a", "x", 1, 0));
    ck_assert_int_eq(a.err, ZAB_EBADVERSION);
    ck_assert_uint_eq(z.f.len, 16);
    a = zk_call(&z, create_op("/a", "again", ZAB_PERSISTENT));
    ck_assert_int_eq(a.err, ZAB_ENODEEXISTS);
    ck_assert_uint_eq(z.f.len, 16);

    /* An ephemeral child: owned by the session, counted by the parent. */
    a = zk_call(&z, create_op("/a/e", NULL, ZAB_EPHEMERAL));
    ck_assert_int_eq(a.err, 0);
    ck_assert_int_eq(zk_exists(&z, "/a/e", 0, &st2), 0);
    ck_assert_int_eq(st2.ephemeral_owner, z.session);
    ck_assert_int_eq(st2.data_length, 0);
    ck_assert_int_eq(zk_exists(&z, "/a", 0, &st2), 0);
    ck_assert_int_eq(st2.num_children, 1);

    /* getChildren lists names. */
    a = zk_call(&z, zab_op_read(ZAB_OP_GET_CHILDREN, "/a", 0));
    ck_assert_int_eq(a.err, 0);
    ck_assert_int_eq(zab_get_i32(&a.body), 1);
    ck_assert(str_is(zab_get_str(&a.body), "e"));
    assert_done(&a.body);

    ck_assert_int_eq(zk_call(&z, zab_op_delete("/a", -1)).err, ZAB_ENOTEMPTY);
    ck_assert_int_eq(zk_call(&z, zab_op_delete("/a/e", -1)).err, 0);
    ck_assert_int_eq(zk_call(&z, zab_op_delete("/a", 0)).err, ZAB_EBADVERSION);
    a = zk_call(&z, zab_op_delete("/a", 1));
    ck_assert_int_eq(a.err, 0);
    ck_assert_uint_eq(z.f.len, 16);
    ck_assert_int_eq(zk_exists(&z, "/a", 0, NULL), ZAB_ENONODE);
    ck_assert_uint_eq(z.f.len, 16);
    zk_close_socket(&z);
    stop();
}
END_TEST

START_TEST(test_pipelined_replies_in_order)
{
    start();
    struct zk z;
    zk_open(&z);
    enum { N = 120 };
    int32_t xids[N];
    int32_t ops[N];
    char path[32];
    /* Writes, reads, syncs and whoAmI, all sent before any reply is read. */
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "/p%d", i / 4);
        static const int32_t kinds[4] = { ZAB_OP_CREATE2, ZAB_OP_GET_DATA, ZAB_OP_SYNC,
                                          ZAB_OP_WHO_AM_I };
        ops[i] = kinds[i % 4];
        if (ops[i] == ZAB_OP_CREATE2) {
            xids[i] = zk_send_op(&z, create_op(path, "v", 0));
        } else if (ops[i] == ZAB_OP_WHO_AM_I) {
            xids[i] = ++z.xid;
            zk_send_raw(&z, xids[i], ZAB_OP_WHO_AM_I, NULL, 0);
        } else {
            xids[i] = zk_send_op(&z, zab_op_read(ops[i], path, 0));
        }
    }
    int64_t last = 0;
    for (int i = 0; i < N; i++) {
        struct answer a = zk_reply(&z, xids[i]);
        ck_assert_int_eq(a.err, 0);
        ck_assert_int_ge(a.zxid, last);
        last = a.zxid;
        snprintf(path, sizeof path, "/p%d", i / 4);
        if (ops[i] == ZAB_OP_GET_DATA) {
            ck_assert(str_is(zab_get_str(&a.body), "v"));
        } else if (ops[i] == ZAB_OP_SYNC) {
            /* A sync's reply echoes its path. */
            ck_assert(str_is(zab_get_str(&a.body), path));
            assert_done(&a.body);
        } else if (ops[i] == ZAB_OP_WHO_AM_I) {
            ck_assert_int_eq(zab_get_i32(&a.body), 1);
            ck_assert(str_is(zab_get_str(&a.body), "ip"));
            ck_assert(str_is(zab_get_str(&a.body), "127.0.0.1"));
            assert_done(&a.body);
        }
    }
    zk_close_socket(&z);
    stop();
}
END_TEST

START_TEST(test_ping)
{
    start();
    struct zk z;
    zk_open(&z);
    struct answer a = zk_call(&z, create_op("/ping", "", 0));
    ck_assert_int_eq(a.err, 0);
    zk_send_raw(&z, ZAB_XID_PING, ZAB_OP_PING, NULL, 0);
    struct answer p = zk_read(&z);
    ck_assert_int_eq(p.xid, ZAB_XID_PING);
    ck_assert_int_eq(p.err, 0);
    ck_assert_int_eq(p.zxid, a.zxid); /* the server's last zxid */
    ck_assert_uint_eq(z.f.len, 16);
    zk_close_socket(&z);
    stop();
}
END_TEST

/* ---- watches ---- */

START_TEST(test_watch_event)
{
    start();
    struct zk a, b;
    zk_open(&a);
    zk_open(&b);
    ck_assert_int_eq(zk_call(&a, create_op("/w", "0", 0)).err, 0);
    ck_assert_int_eq(zk_call(&a, zab_op_read(ZAB_OP_GET_DATA, "/w", 1)).err, 0);
    ck_assert_int_eq(zk_call(&b, zab_op_set_data("/w", "1", 1, -1)).err, 0);
    /* a sent nothing more: the event comes by itself. */
    zab_event ev = zk_event(&a);
    ck_assert_int_eq(ev.type, ZAB_EVENT_DATA_CHANGED);
    ck_assert_int_eq(ev.state, ZAB_STATE_SYNC_CONNECTED);
    ck_assert(str_is(ev.path, "/w"));

    /* The event of a's own create comes before the create's reply. */
    ck_assert_int_eq(zk_exists(&a, "/x", 1, NULL), ZAB_ENONODE);
    int32_t xid = zk_send_op(&a, create_op("/x", "", 0));
    ev = zk_event(&a);
    ck_assert_int_eq(ev.type, ZAB_EVENT_CREATED);
    ck_assert(str_is(ev.path, "/x"));
    ck_assert_int_eq(zk_reply(&a, xid).err, 0);

    /* And before the reply of a later read that shows the change. */
    ck_assert_int_eq(zk_call(&a, zab_op_read(ZAB_OP_GET_CHILDREN, "/", 1)).err, 0);
    ck_assert_int_eq(zk_call(&b, create_op("/y", "", 0)).err, 0);
    xid = zk_send_op(&a, zab_op_read(ZAB_OP_EXISTS, "/y", 0));
    ev = zk_event(&a);
    ck_assert_int_eq(ev.type, ZAB_EVENT_CHILDREN_CHANGED);
    ck_assert(str_is(ev.path, "/"));
    ck_assert_int_eq(zk_reply(&a, xid).err, 0);
    zk_close_socket(&a);
    zk_close_socket(&b);
    stop();
}
END_TEST

/* A client that reconnects re-registers its watches with SetWatches and
 * the last zxid it saw: what changed meanwhile comes at once, before the
 * SetWatches reply. */
START_TEST(test_set_watches_after_reconnect)
{
    start();
    struct zk a, b, other;
    zk_open(&a);
    zk_open(&other);
    ck_assert_int_eq(zk_call(&a, create_op("/sw", "0", 0)).err, 0);
    ck_assert_int_eq(zk_call(&a, create_op("/same", "0", 0)).err, 0);
    int64_t seen = a.last_zxid;
    zk_close_socket(&a);
    ck_assert_int_eq(zk_call(&other, zab_op_set_data("/sw", "1", 1, -1)).err, 0);

    zk_open_as(&b, a.session, a.passwd, 30000, seen);
    zab_str data[2] = { ZAB_STR("/sw"), ZAB_STR("/same") };
    zab_str exist[1] = { ZAB_STR("/later") };
    zab_zk_set_watches sw = { .relative_zxid = seen };
    sw.paths[ZAB_SETWATCH_DATA] = data;
    sw.npaths[ZAB_SETWATCH_DATA] = 2;
    sw.paths[ZAB_SETWATCH_EXIST] = exist;
    sw.npaths[ZAB_SETWATCH_EXIST] = 1;
    zab_buf body = { 0 };
    ck_assert_int_eq(zab_zk_encode_set_watches(ZAB_OP_SET_WATCHES, &sw, &body), 0);
    zk_send_raw(&b, ZAB_XID_SET_WATCHES, ZAB_OP_SET_WATCHES, body.data, body.len);
    zab_buf_free(&body);
    zab_event ev = zk_event(&b);
    ck_assert_int_eq(ev.type, ZAB_EVENT_DATA_CHANGED);
    ck_assert(str_is(ev.path, "/sw"));
    struct answer r = zk_reply(&b, ZAB_XID_SET_WATCHES);
    ck_assert_int_eq(r.err, 0);
    ck_assert_uint_eq(b.f.len, 16);
    /* The watches left in place fire later. */
    ck_assert_int_eq(zk_call(&other, zab_op_set_data("/same", "1", 1, -1)).err, 0);
    ev = zk_event(&b);
    ck_assert_int_eq(ev.type, ZAB_EVENT_DATA_CHANGED);
    ck_assert(str_is(ev.path, "/same"));
    ck_assert_int_eq(zk_call(&other, create_op("/later", "", 0)).err, 0);
    ev = zk_event(&b);
    ck_assert_int_eq(ev.type, ZAB_EVENT_CREATED);
    ck_assert(str_is(ev.path, "/later"));
    zk_close_socket(&b);
    zk_close_socket(&other);
    stop();
}
END_TEST

/* ---- sessions ---- */

START_TEST(test_reconnect_same_session)
{
    start();
    struct zk a, b;
    zk_open(&a);
    ck_assert_int_eq(zk_call(&a, create_op("/r", "", ZAB_EPHEMERAL)).err, 0);
    zk_open_as(&b, a.session, a.passwd, 30000, a.last_zxid);
    ck_assert_int_eq(b.session, a.session);
    ck_assert_mem_eq(b.passwd, a.passwd, 16);
    ck_assert_int_eq(b.timeout, a.timeout);
    /* The session's older connection is closed, as ZooKeeper does. */
    ck_assert(closed_by_server(a.fd));
    zab_stat st;
    ck_assert_int_eq(zk_exists(&b, "/r", 0, &st), 0);
    ck_assert_int_eq(st.ephemeral_owner, a.session);
    zk_close_socket(&a);
    zk_close_socket(&b);
    stop();
}
END_TEST

/* A refused reconnection: timeout 0, session 0, a zero password, then
 * the close (the client then reports its session expired). */
static void assert_refused(int64_t session, const uint8_t *passwd)
{
    int fd = dial(d.port);
    send_connect(fd, session, passwd, 30000, 0);
    zab_buf f = { 0 };
    ck_assert_int_eq(read_frame(fd, &f), 1);
    ck_assert_uint_eq(f.len, 37);
    zab_zk_connect_reply rsp;
    ck_assert_int_eq(zab_zk_decode_connect_reply(f.data, f.len, &rsp), 0);
    ck_assert_int_eq(rsp.timeout, 0);
    ck_assert_int_eq(rsp.session, 0);
    ck_assert_mem_eq(rsp.passwd, zero_passwd, 16);
    ck_assert(closed_by_server(fd));
    zab_buf_free(&f);
    close(fd);
}

START_TEST(test_wrong_password_refused)
{
    start();
    struct zk a;
    zk_open(&a);
    ck_assert_int_eq(zk_call(&a, create_op("/kept", "", ZAB_EPHEMERAL)).err, 0);
    uint8_t wrong[16];
    memcpy(wrong, a.passwd, 16);
    wrong[3] ^= 0x5a;
    assert_refused(a.session, wrong);
    /* So is a session nobody opened. */
    assert_refused(a.session + 12345, a.passwd);
    zk_close_socket(&a);
    stop();
}
END_TEST

START_TEST(test_close_session)
{
    start();
    struct zk a, b;
    zk_open(&a);
    zk_open(&b);
    ck_assert_int_eq(zk_call(&a, create_op("/e", "", ZAB_EPHEMERAL)).err, 0);
    ck_assert_int_eq(zk_exists(&b, "/e", 1, NULL), 0);
    zk_send_raw(&a, 7, ZAB_OP_CLOSE_SESSION, NULL, 0);
    struct answer r = zk_reply(&a, 7);
    ck_assert_int_eq(r.err, 0);
    ck_assert_uint_eq(a.f.len, 16);
    ck_assert(closed_by_server(a.fd));
    /* The ephemeral went with the session, and b's watch saw it go. */
    zab_event ev = zk_event(&b);
    ck_assert_int_eq(ev.type, ZAB_EVENT_DELETED);
    ck_assert(str_is(ev.path, "/e"));
    ck_assert_int_eq(zk_exists(&b, "/e", 0, NULL), ZAB_ENONODE);
    ck_assert_int_ge(b.last_zxid, r.zxid);
    /* The closed session cannot be resumed. */
    assert_refused(a.session, a.passwd);
    zk_close_socket(&a);
    zk_close_socket(&b);
    stop();
}
END_TEST

/* A client that stops talking is cut off after its session's timeout,
 * and its session expires with its ephemerals. */
START_TEST(test_silent_client_expires)
{
    start();
    struct zk a, b;
    zk_open_as(&a, 0, NULL, 1, 0);
    ck_assert_int_eq(a.timeout, 2 * TICK_MS); /* the least the server allows */
    zk_open(&b);
    ck_assert_int_eq(zk_call(&a, create_op("/silent", "", ZAB_EPHEMERAL)).err, 0);
    int64_t t0 = zabd_mono_ms();
    ck_assert(closed_by_server(a.fd));
    ck_assert_int_ge(zabd_mono_ms() - t0, a.timeout - 50);
    int gone = 0;
    for (int i = 0; i < 100 && !gone; i++) {
        gone = zk_exists(&b, "/silent", 0, NULL) == ZAB_ENONODE;
        if (!gone) usleep(50 * 1000);
    }
    ck_assert(gone);
    assert_refused(a.session, a.passwd);
    zk_close_socket(&a);
    zk_close_socket(&b);
    stop();
}
END_TEST

/* ---- auth ---- */

static struct answer zk_auth(struct zk *z, const char *scheme, const char *cred)
{
    zab_zk_auth a = { .scheme = zab_str_c(scheme), .auth = zab_str_c(cred) };
    zab_buf body = { 0 };
    ck_assert_int_eq(zab_zk_encode_auth(&a, &body), 0);
    zk_send_raw(z, ZAB_XID_AUTH, ZAB_OP_AUTH, body.data, body.len);
    zab_buf_free(&body);
    struct answer r = zk_read(z);
    ck_assert_int_eq(r.xid, ZAB_XID_AUTH);
    ck_assert_int_eq(r.zxid, 0);
    ck_assert_uint_eq(z->f.len, 16);
    return r;
}

START_TEST(test_auth_digest_and_who_am_i)
{
    start();
    struct zk a, b;
    zk_open(&a);
    zk_open(&b);
    ck_assert_int_eq(zk_auth(&a, "digest", "alice:secret").err, 0);
    zk_send_raw(&a, 40, ZAB_OP_WHO_AM_I, NULL, 0);
    struct answer r = zk_reply(&a, 40);
    ck_assert_int_eq(r.err, 0);
    ck_assert_int_eq(zab_get_i32(&r.body), 2);
    ck_assert(str_is(zab_get_str(&r.body), "ip"));
    ck_assert(str_is(zab_get_str(&r.body), "127.0.0.1"));
    ck_assert(str_is(zab_get_str(&r.body), "digest"));
    ck_assert(str_is(zab_get_str(&r.body), "alice"));
    assert_done(&r.body);

    /* A node only alice may read. */
    char id[128];
    ck_assert_int_gt(zab_digest_id(zab_str_c("alice:secret"), id, sizeof id), 0);
    zab_acl acl = { ZAB_PERM_ALL, { ZAB_STR("digest"), zab_str_c(id) } };
    zab_op op = zab_op_create("/secret", "s", 1, &acl, 1, ZAB_PERSISTENT);
    ck_assert_int_eq(zk_call(&a, op).err, 0);
    ck_assert_int_eq(zk_call(&a, zab_op_read(ZAB_OP_GET_DATA, "/secret", 0)).err, 0);
    ck_assert_int_eq(zk_call(&b, zab_op_read(ZAB_OP_GET_DATA, "/secret", 0)).err, ZAB_ENOAUTH);
    ck_assert_int_eq(zk_auth(&b, "digest", "alice:wrong").err, 0);
    ck_assert_int_eq(zk_call(&b, zab_op_read(ZAB_OP_GET_DATA, "/secret", 0)).err, ZAB_ENOAUTH);
    ck_assert_int_eq(zk_auth(&b, "digest", "alice:secret").err, 0);
    ck_assert_int_eq(zk_call(&b, zab_op_read(ZAB_OP_GET_DATA, "/secret", 0)).err, 0);

    /* An unknown scheme fails the auth and closes the connection. */
    ck_assert_int_eq(zk_auth(&b, "nosuch", "x").err, ZAB_EAUTHFAILED);
    ck_assert(closed_by_server(b.fd));
    zk_close_socket(&a);
    zk_close_socket(&b);
    stop();
}
END_TEST

/* ---- hostile clients ---- */

START_TEST(test_oversized_frame_dropped)
{
    struct zabd_net_config over = { .max_frame = 4096 };
    start_with(NULL, &over);
    struct zk z;
    zk_open(&z);
    /* A frame one byte over the limit: no reply, the connection closes. */
    zab_op op = create_op("/big", NULL, 0);
    char data[4096];
    memset(data, 'x', sizeof data);
    op.data = data;
    op.data_len = (int32_t)sizeof data;
    zk_send_op(&z, op);
    ck_assert(closed_by_server(z.fd));
    zk_close_socket(&z);
    /* Nothing was created. */
    zk_open(&z);
    ck_assert_int_eq(zk_exists(&z, "/big", 0, NULL), ZAB_ENONODE);
    zk_close_socket(&z);
    /* A negative length on a fresh connection. */
    int fd = dial(d.port);
    static const uint8_t negative[4] = { 0xff, 0xff, 0xff, 0xf0 };
    send_all(fd, negative, 4);
    ck_assert(closed_by_server(fd));
    close(fd);
    stop();
}
END_TEST

START_TEST(test_garbage_handshake_dropped)
{
    start();
    /* Too short to be a ConnectRequest. */
    int fd = dial(d.port);
    static const uint8_t shortie[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
    send_all(fd, shortie, sizeof shortie);
    ck_assert(closed_by_server(fd));
    close(fd);
    /* A password length past the frame. */
    fd = dial(d.port);
    uint8_t bad[4 + 44] = { 0, 0, 0, 44 };
    bad[4 + 24 + 3] = 0x7f; /* passwd length 0x7f after version, zxid, timeout, session */
    send_all(fd, bad, sizeof bad);
    ck_assert(closed_by_server(fd));
    close(fd);
    /* An empty frame. */
    fd = dial(d.port);
    static const uint8_t empty[4] = { 0, 0, 0, 0 };
    send_all(fd, empty, sizeof empty);
    ck_assert(closed_by_server(fd));
    close(fd);
    /* The server still serves. */
    struct zk z;
    zk_open(&z);
    ck_assert_int_eq(zk_exists(&z, "/", 0, NULL), 0);
    zk_close_socket(&z);
    stop();
}
END_TEST

START_TEST(test_unknown_opcode_closes)
{
    start();
    struct zk z;
    zk_open(&z);
    zk_send_raw(&z, 9, 999, NULL, 0);
    struct answer r = zk_reply(&z, 9);
    ck_assert_int_eq(r.err, ZAB_EUNIMPLEMENTED);
    ck_assert(closed_by_server(z.fd));
    zk_close_socket(&z);
    /* A check outside a multi is no request either. */
    zk_open(&z);
    zab_op check = zab_op_check("/", -1);
    int32_t xid = zk_send_op(&z, check);
    r = zk_reply(&z, xid);
    ck_assert_int_eq(r.err, ZAB_EUNIMPLEMENTED);
    ck_assert(closed_by_server(z.fd));
    zk_close_socket(&z);
    /* A body that does not decode is a marshalling error, and no close. */
    zk_open(&z);
    static const uint8_t junk[3] = { 0, 0, 0 };
    zk_send_raw(&z, 11, ZAB_OP_GET_DATA, junk, sizeof junk);
    r = zk_reply(&z, 11);
    ck_assert_int_eq(r.err, ZAB_EMARSHALLING);
    ck_assert_int_eq(zk_exists(&z, "/", 0, NULL), 0);
    zk_close_socket(&z);
    stop();
}
END_TEST

/* A client that sends requests and never reads their replies is dropped
 * once too much waits for it; the server goes on serving the others. */
START_TEST(test_client_that_never_reads)
{
    struct zabd_net_config over = { .max_output = 1 << 20 };
    start_with(NULL, &over);
    struct zk a, b;
    zk_open(&a);
    zk_open(&b);
    static char data[400 * 1024];
    memset(data, 'd', sizeof data);
    zab_op op = create_op("/big", NULL, 0);
    op.data = data;
    op.data_len = (int32_t)sizeof data;
    ck_assert_int_eq(zk_call(&a, op).err, 0);
    /* All the requests in one write: the server may hang up before a
     * second one. */
    enum { N = 64 };
    zab_buf burst = { 0 };
    for (int i = 0; i < N; i++) {
        zab_op get = zab_op_read(ZAB_OP_GET_DATA, "/big", 0);
        zab_request req = { .type = get.type, .ops = &get, .nops = 1 };
        zab_buf one = { 0 };
        ck_assert_int_eq(zab_zk_encode_request_header(i + 1, get.type, &one), 0);
        ck_assert_int_eq(zab_zk_encode_request(&req, &one), 0);
        uint8_t len[4] = { 0, 0, (uint8_t)(one.len >> 8), (uint8_t)one.len };
        ck_assert_int_eq(zab_buf_append(&burst, len, 4), 0);
        ck_assert_int_eq(zab_buf_append(&burst, one.data, one.len), 0);
        zab_buf_free(&one);
    }
    send_all(b.fd, burst.data, burst.len);
    zab_buf_free(&burst);
    usleep(500 * 1000);
    size_t got = 0;
    uint8_t buf[65536];
    for (;;) {
        ssize_t n = recv(b.fd, buf, sizeof buf, 0);
        if (n <= 0) {
            ck_assert_msg(n == 0 || errno == ECONNRESET, "recv: %s", strerror(errno));
            break;
        }
        got += (size_t)n;
    }
    ck_assert_uint_lt(got, (size_t)N * sizeof data / 2);
    ck_assert_int_eq(zk_exists(&a, "/big", 0, NULL), 0);
    zk_close_socket(&a);
    zk_close_socket(&b);
    stop();
}
END_TEST

START_TEST(test_max_client_cnxns)
{
    start_with("maxClientCnxns=3\n", NULL);
    struct zk z[3];
    for (int i = 0; i < 3; i++) zk_open(&z[i]);
    int fd = dial(d.port);
    ck_assert(closed_by_server(fd));
    close(fd);
    zk_close_socket(&z[0]);
    /* Once one has gone, another may come. */
    int ok = 0;
    for (int i = 0; i < 50 && !ok; i++) {
        usleep(20 * 1000);
        fd = dial(d.port);
        send_connect(fd, 0, NULL, 30000, 0);
        zab_buf f = { 0 };
        ok = read_frame(fd, &f);
        zab_buf_free(&f);
        close(fd);
    }
    ck_assert(ok);
    zk_close_socket(&z[1]);
    zk_close_socket(&z[2]);
    stop();
}
END_TEST

/* ---- four-letter words ---- */

static void word(const char *w, zab_buf *out)
{
    int fd = dial(d.port);
    send_all(fd, w, 4);
    out->len = 0;
    for (;;) {
        ck_assert_int_eq(zab_buf_reserve(out, 4096), 0);
        ssize_t n = recv(fd, out->data + out->len, out->cap - out->len - 1, 0);
        ck_assert_int_ge(n, 0);
        if (n == 0) break;
        out->len += (size_t)n;
    }
    out->data[out->len] = '\0';
    close(fd);
}

START_TEST(test_four_letter_words)
{
    start_with("4lw.commands.whitelist=ruok, srvr, mntr, stat, conf, cons, isro, envi, wchs\n", NULL);
    struct zk z;
    zk_open(&z);
    ck_assert_int_eq(zk_call(&z, create_op("/4lw", "", 0)).err, 0);
    zab_buf out = { 0 };
    word("ruok", &out);
    ck_assert_str_eq((char *)out.data, "imok");
    word("isro", &out);
    ck_assert_str_eq((char *)out.data, "rw");
    word("srvr", &out);
    ck_assert_ptr_nonnull(strstr((char *)out.data, "Zookeeper version: 3.8.0"));
    ck_assert_ptr_nonnull(strstr((char *)out.data, "\nMode: standalone\n"));
    char zxid[64];
    snprintf(zxid, sizeof zxid, "\nZxid: 0x%" PRIx64 "\n", (uint64_t)z.last_zxid);
    ck_assert_ptr_nonnull(strstr((char *)out.data, zxid));
    ck_assert_ptr_nonnull(strstr((char *)out.data, "\nConnections: 2\n"));
    /* A fresh ZooKeeper counts 5 (the root twice, /zookeeper, its quota and
     * config); /4lw makes 6. */
    ck_assert_ptr_nonnull(strstr((char *)out.data, "\nNode count: 6\n"));
    word("stat", &out);
    ck_assert_ptr_nonnull(strstr((char *)out.data, "Clients:\n /127.0.0.1:"));
    word("mntr", &out);
    ck_assert_ptr_nonnull(strstr((char *)out.data, "zk_server_state\tstandalone\n"));
    ck_assert_ptr_nonnull(strstr((char *)out.data, "zk_num_alive_connections\t2\n"));
    ck_assert_ptr_nonnull(strstr((char *)out.data, "zk_znode_count\t6\n"));
    ck_assert_ptr_nonnull(strstr((char *)out.data, "zk_global_sessions\t1\n"));
    word("conf", &out);
    char line[64];
    snprintf(line, sizeof line, "tickTime=%d\n", TICK_MS);
    ck_assert_ptr_nonnull(strstr((char *)out.data, line));
    ck_assert_ptr_nonnull(strstr((char *)out.data, "maxSessionTimeout=2000\n"));
    word("cons", &out);
    snprintf(line, sizeof line, "sid=0x%" PRIx64 ",lop=CREA", (uint64_t)z.session);
    ck_assert_ptr_nonnull(strstr((char *)out.data, line));
    word("envi", &out);
    ck_assert_ptr_nonnull(strstr((char *)out.data, "Environment:\nzookeeper.version=3.8.0"));
    ck_assert_int_eq(zk_exists(&z, "/4lw", 1, NULL), 0);
    word("wchs", &out);
    ck_assert_str_eq((char *)out.data, "1 connections watching 1 paths\nTotal watches:1\n");
    word("dump", &out);
    ck_assert_str_eq((char *)out.data,
                     "dump is not executed because it is not in the whitelist.\n");
    zab_buf_free(&out);
    zk_close_socket(&z);
    stop();
}
END_TEST

START_TEST(test_four_letter_words_default_whitelist)
{
    start();
    zab_buf out = { 0 };
    word("ruok", &out);
    ck_assert_str_eq((char *)out.data,
                     "ruok is not executed because it is not in the whitelist.\n");
    word("srvr", &out);
    ck_assert_ptr_nonnull(strstr((char *)out.data, "\nMode: standalone\n"));
    zab_buf_free(&out);
    stop();
}
END_TEST

/* ---- stopping ---- */

/* Every request the server took before it stopped is answered before its
 * connection closes: nothing is done without the client hearing of it. */
START_TEST(test_stop_answers_what_it_took)
{
    start();
    struct zk z;
    zk_open(&z);
    enum { N = 300 };
    zab_buf burst = { 0 };
    char path[32];
    for (int i = 0; i <= N; i++) {
        if (i == 0) snprintf(path, sizeof path, "/d");
        else snprintf(path, sizeof path, "/d/%d", i);
        zab_op op = create_op(path, "", 0);
        zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
        zab_buf one = { 0 };
        ck_assert_int_eq(zab_zk_encode_request_header(i + 1, op.type, &one), 0);
        ck_assert_int_eq(zab_zk_encode_request(&req, &one), 0);
        uint8_t len[4] = { 0, 0, (uint8_t)(one.len >> 8), (uint8_t)one.len };
        ck_assert_int_eq(zab_buf_append(&burst, len, 4), 0);
        ck_assert_int_eq(zab_buf_append(&burst, one.data, one.len), 0);
        zab_buf_free(&one);
    }
    send_all(z.fd, burst.data, burst.len);
    zab_buf_free(&burst);
    ck_assert_int_eq(zk_reply(&z, 1).err, 0);
    /* The listener stops with writes still under way. */
    zabd_net_stop(d.net, 10000);
    int answered = 0;
    while (read_frame(z.fd, &z.f)) {
        int32_t xid, err;
        int64_t zxid;
        size_t at;
        ck_assert_int_eq(zab_zk_decode_reply_header(z.f.data, z.f.len, &xid, &zxid, &err, &at), 0);
        ck_assert_int_eq(xid, answered + 2);
        ck_assert_int_eq(err, 0);
        answered++;
    }
    /* What the server did is exactly what it answered. */
    zab_client *c;
    ck_assert_int_eq(zab_client_open(d.server, 10000, NULL, NULL, &c), 0);
    zab_stat st;
    ck_assert_int_eq(zab_client_exists(c, "/d", 0, &st), 0);
    ck_assert_int_eq(st.num_children, answered);
    ck_assert_int_eq(answered, N);
    ck_assert_int_eq(zab_client_close(c), 0);
    zk_close_socket(&z);
    ck_assert_int_eq(zab_server_stop(d.server), 0);
    zabd_config_free(&d.cfg);
    zabd_log_destroy(&d.log);
    tmpdir_remove(d.dir);
}
END_TEST

/* ---- an ensemble ---- */

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static struct daemon ens[3];

/* Three servers in this process, each with its listener; d.dir holds
 * their directories. */
static void start_ensemble(void)
{
    memset(&d, 0, sizeof d);
    memset(ens, 0, sizeof ens);
    ck_assert_ptr_nonnull(tmpdir_make(d.dir, sizeof d.dir, "zabd-test."));
    char servers[512] = "";
    for (int i = 1; i <= 3; i++) {
        size_t n = strlen(servers);
        snprintf(servers + n, sizeof servers - n, "server.%d=127.0.0.1:%u:%u\n", i,
                 (unsigned)free_port(), (unsigned)free_port());
    }
    for (int i = 1; i <= 3; i++) {
        char dir[128], path[160], text[1024];
        snprintf(dir, sizeof dir, "%s/s%d", d.dir, i);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        snprintf(path, sizeof path, "%s/myid", dir);
        snprintf(text, sizeof text, "%d\n", i);
        write_file(path, text);
        snprintf(path, sizeof path, "%s/zoo.cfg", dir);
        snprintf(text, sizeof text,
                 "tickTime=%d\ninitLimit=20\nsyncLimit=10\ndataDir=%s\nclientPort=2181\n"
                 "clientPortAddress=127.0.0.1\npreAllocSize=1024\n%s",
                 TICK_MS, dir, servers);
        write_file(path, text);
        boot(&ens[i - 1], path, NULL);
    }
    for (int i = 0; i < 3; i++) ck_assert_int_eq(zab_server_wait_serving(ens[i].server, 20000), 0);
}

static void stop_ensemble(void)
{
    for (int i = 0; i < 3; i++) halt(&ens[i]);
    tmpdir_remove(d.dir);
}

/* A client that moves to another server keeps its session there; its
 * old server closes the stale connection instead of answering it. */
START_TEST(test_ensemble_session_moves)
{
    start_ensemble();
    struct zk a, b, w;
    d.port = ens[0].port;
    zk_open(&a);
    ck_assert_int_eq(zk_call(&a, create_op("/m", "1", ZAB_EPHEMERAL)).err, 0);
    d.port = ens[2].port;
    zk_open(&w);
    /* A watch on a third server sees what happens through the others. */
    zab_stat st;
    ck_assert_int_eq(zk_call(&w, zab_op_read(ZAB_OP_SYNC, "/m", 0)).err, 0);
    ck_assert_int_eq(zk_exists(&w, "/m", 1, &st), 0);
    ck_assert_int_eq(st.ephemeral_owner, a.session);

    d.port = ens[1].port;
    zk_open_as(&b, a.session, a.passwd, 30000, a.last_zxid);
    ck_assert_int_eq(b.session, a.session);
    /* The stale connection's write is not answered: the connection closes. */
    zk_send_op(&a, zab_op_set_data("/m", "stale", 5, -1));
    ck_assert(closed_by_server(a.fd));
    /* The session lives on through its new server. */
    ck_assert_int_eq(zk_call(&b, zab_op_set_data("/m", "2", 1, -1)).err, 0);
    zab_event ev = zk_event(&w);
    ck_assert_int_eq(ev.type, ZAB_EVENT_DATA_CHANGED);
    ck_assert(str_is(ev.path, "/m"));
    ck_assert_int_eq(zk_exists(&w, "/m", 1, NULL), 0); /* a watch fires once: again */
    struct answer r = zk_call(&b, zab_op_read(ZAB_OP_GET_DATA, "/m", 0));
    ck_assert_int_eq(r.err, 0);
    ck_assert(str_is(zab_get_str(&r.body), "2"));
    /* Closing it removes the ephemeral everywhere. */
    zk_send_raw(&b, 50, ZAB_OP_CLOSE_SESSION, NULL, 0);
    ck_assert_int_eq(zk_reply(&b, 50).err, 0);
    ev = zk_event(&w);
    ck_assert_int_eq(ev.type, ZAB_EVENT_DELETED);
    ck_assert(str_is(ev.path, "/m"));
    zk_close_socket(&a);
    zk_close_socket(&b);
    zk_close_socket(&w);
    stop_ensemble();
}
END_TEST

/* A server that loses its quorum closes its clients' connections and
 * refuses new ones, so that clients move to a server that serves. */
START_TEST(test_ensemble_lost_quorum_closes)
{
    start_ensemble();
    struct zk z;
    d.port = ens[2].port;
    zk_open(&z);
    ck_assert_int_eq(zk_call(&z, create_op("/q", "", 0)).err, 0);
    halt(&ens[0]);
    halt(&ens[1]);
    /* Pinging, so that only the lost quorum can close the connection. */
    int closed = 0;
    static const uint8_t ping[12] = { 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11 };
    for (int i = 0; i < 100 && !closed; i++) {
        closed = send(z.fd, ping, sizeof ping, MSG_NOSIGNAL) != (ssize_t)sizeof ping ||
                 !read_frame(z.fd, &z.f);
        if (!closed) ck_assert_int_eq(zabd_get_be32(z.f.data), (uint32_t)ZAB_XID_PING);
        usleep(100 * 1000);
    }
    ck_assert(closed);
    zk_close_socket(&z);
    int fd = dial(d.port);
    send_connect(fd, 0, NULL, 30000, 0);
    ck_assert(closed_by_server(fd));
    close(fd);
    zab_buf out = { 0 };
    word("srvr", &out);
    ck_assert_str_eq((char *)out.data,
                     "This ZooKeeper instance is not currently serving requests\n");
    zab_buf_free(&out);
    halt(&ens[2]);
    tmpdir_remove(d.dir);
}
END_TEST

/* ---- real clients ---- */

static const char *find_kazoo_python(void)
{
    static const char *const pythons[] = { "python3", "/usr/bin/python3" };
    for (size_t i = 0; i < sizeof pythons / sizeof pythons[0]; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "%s -c 'import kazoo.client' >/dev/null 2>&1", pythons[i]);
        if (system(cmd) == 0) return pythons[i];
    }
    return NULL;
}

static const char kazoo_script[] =
    "import sys, threading\n"
    "from kazoo.client import KazooClient\n"
    "from kazoo.recipe.lock import Lock\n"
    "hosts = '127.0.0.1:' + sys.argv[1]\n"
    "zk = KazooClient(hosts=hosts, timeout=10)\n"
    "zk.start(timeout=10)\n"
    "zk.ensure_path('/k')\n"
    "zk.create('/k/a', b'hello')\n"
    "data, st = zk.get('/k/a')\n"
    "assert data == b'hello' and st.version == 0 and st.data_length == 5, st\n"
    "st = zk.set('/k/a', b'world')\n"
    "assert st.version == 1, st\n"
    "zk.create('/k/e', b'', ephemeral=True)\n"
    "assert sorted(zk.get_children('/k')) == ['a', 'e']\n"
    "fired = threading.Event()\n"
    "zk.get('/k/a', watch=lambda ev: fired.set())\n"
    "other = KazooClient(hosts=hosts, timeout=10)\n"
    "other.start(timeout=10)\n"
    "other.set('/k/a', b'again')\n"
    "assert fired.wait(10), 'no watch event'\n"
    "lock = Lock(zk, '/k/lock')\n"
    "with lock:\n"
    "    assert len(zk.get_children('/k/lock')) == 1\n"
    "t = zk.transaction()\n"
    "t.create('/k/t', b'x')\n"
    "t.check('/k/a', 2)\n"
    "assert t.commit() == ['/k/t', True]\n"
    "zk.sync('/k')\n"
    "assert zk.exists('/k/none') is None\n"
    "zk.stop()\n"
    "zk.close()\n"
    "assert other.exists('/k/e') is None, 'ephemeral survived its session'\n"
    "other.delete('/k', recursive=True)\n"
    "other.stop()\n"
    "other.close()\n"
    "print('kazoo ok')\n";

START_TEST(test_kazoo)
{
    const char *python = find_kazoo_python();
    if (!python) {
        fprintf(stderr, "test_kazoo: skipped: no python3 with kazoo\n");
        return;
    }
    start();
    char script[128], cmd[512];
    snprintf(script, sizeof script, "%s/kazoo_test.py", d.dir);
    write_file(script, kazoo_script);
    snprintf(cmd, sizeof cmd, "%s %s %u 2>&1", python, script, (unsigned)d.port);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char out[8192];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "kazoo script failed:\n%s", out);
    ck_assert_ptr_nonnull(strstr(out, "kazoo ok"));
    stop();
}
END_TEST

/* The built binary: started on a zoo.cfg, stopped by SIGTERM, exits 0, and
 * what it acknowledged is there when it starts again. */
static pid_t spawn(const char *binary, const char *cfg)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (log_level() < 0) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) dup2(null, 2);
        }
        execl(binary, "zabd", cfg, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void wait_listening(uint16_t port)
{
    for (int i = 0; i < 200; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok) return;
        usleep(25 * 1000);
    }
    ck_abort_msg("zabd did not listen on %u", (unsigned)port);
}

static int stop_process(pid_t pid)
{
    ck_assert_int_eq(kill(pid, SIGTERM), 0);
    for (int i = 0; i < 400; i++) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(25 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_abort_msg("zabd did not stop on SIGTERM");
    return -1;
}

START_TEST(test_binary_sigterm)
{
    const char *build = getenv("BUILD");
    char binary[256];
    snprintf(binary, sizeof binary, "%s/zabd", build ? build : "build/cc");
    if (access(binary, X_OK)) {
        fprintf(stderr, "test_binary_sigterm: skipped: %s not built\n", binary);
        return;
    }
    memset(&d, 0, sizeof d);
    ck_assert_ptr_nonnull(tmpdir_make(d.dir, sizeof d.dir, "zabd-test."));
    d.port = free_port();
    char cfg[128], text[512];
    snprintf(cfg, sizeof cfg, "%s/zoo.cfg", d.dir);
    snprintf(text, sizeof text,
             "tickTime=100\ndataDir=%s/data\nclientPort=%u\nclientPortAddress=127.0.0.1\n"
             "preAllocSize=1024\n",
             d.dir, (unsigned)d.port);
    write_file(cfg, text);

    pid_t pid = spawn(binary, cfg);
    wait_listening(d.port);
    struct zk z;
    zk_open(&z);
    ck_assert_int_eq(zk_call(&z, create_op("/kept", "data", 0)).err, 0);
    zk_close_socket(&z);
    ck_assert_int_eq(stop_process(pid), 0);

    pid = spawn(binary, cfg);
    wait_listening(d.port);
    zk_open(&z);
    struct answer a = zk_call(&z, zab_op_read(ZAB_OP_GET_DATA, "/kept", 0));
    ck_assert_int_eq(a.err, 0);
    ck_assert(str_is(zab_get_str(&a.body), "data"));
    zk_close_socket(&z);
    ck_assert_int_eq(stop_process(pid), 0);
    tmpdir_remove(d.dir);
}
END_TEST

/* ZABD_TEST=name runs only the tests whose names contain it. */
static void add(TCase *tc, const TTest *test)
{
    const char *only = getenv("ZABD_TEST");
    if (!only || strstr(test->name, only)) tcase_add_test(tc, test);
}

static Suite *zabd_suite(void)
{
    Suite *s = suite_create("zabd");
    TCase *tc = tcase_create("zabd");
    tcase_set_timeout(tc, 120);
    add(tc, test_create_get_set_delete);
    add(tc, test_pipelined_replies_in_order);
    add(tc, test_ping);
    add(tc, test_watch_event);
    add(tc, test_set_watches_after_reconnect);
    add(tc, test_reconnect_same_session);
    add(tc, test_wrong_password_refused);
    add(tc, test_close_session);
    add(tc, test_silent_client_expires);
    add(tc, test_auth_digest_and_who_am_i);
    add(tc, test_oversized_frame_dropped);
    add(tc, test_garbage_handshake_dropped);
    add(tc, test_unknown_opcode_closes);
    add(tc, test_client_that_never_reads);
    add(tc, test_max_client_cnxns);
    add(tc, test_four_letter_words);
    add(tc, test_four_letter_words_default_whitelist);
    add(tc, test_stop_answers_what_it_took);
    add(tc, test_ensemble_session_moves);
    add(tc, test_ensemble_lost_quorum_closes);
    add(tc, test_kazoo);
    add(tc, test_binary_sigterm);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(zabd_suite)
