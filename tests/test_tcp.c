/*
 * The TCP peer transport on 127.0.0.1: three transports in one process
 * (sids 1, 2, 3) connect every pair once, carry messages of every size
 * intact and in order, come back after a disconnect from either side and
 * report a closed peer at once; hostile connections from raw sockets
 * (garbage, foreign or impostor hellos, oversized frames, silent and
 * never-reading peers) are closed without touching the real links; and
 * three real nodes elect a leader over it, commit, and elect again when
 * the leader's transport closes.
 *
 * Sid 4 is configured on every transport but has none: raw sockets play
 * it. Every loop is bounded in rounds and in time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "zab.h"

enum { NSID = 5, RAW_SID = 4, MIB = 1 << 20 };

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- message content ---- */

static uint8_t pattern(int64_t from, uint32_t seq, size_t i)
{
    return (uint8_t)(from * 13 + seq * 7 + i * 31 + (i >> 9));
}

static uint8_t *make_msg(int64_t from, uint32_t seq, size_t len)
{
    uint8_t *m = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(m);
    for (size_t i = 0; i < len; i++) m[i] = pattern(from, seq, i);
    return m;
}

/* ---- one transport and what its callbacks saw ---- */

typedef struct side {
    int64_t sid;
    zab_tcp *tcp;
    int up[NSID], ups[NSID], downs[NSID];
    int bad;                 /* an up while up, a down while down, a stranger */
    uint32_t got[NSID];      /* messages from each sender, all checked */
    uint32_t wrong[NSID];    /* of them: wrong length or content */
    const size_t *plan;      /* the length of each expected message */
    uint32_t nplan;
    uint32_t cut_after;      /* non-zero: disconnect a sender after this many */
    int greet;               /* send a 7-byte message from inside on_up */
} side;

typedef struct world {
    side s[NSID];            /* by sid; 1..3 are real */
    uint16_t port[NSID];
    uint32_t max_frame;
    uint64_t max_queued;
} world;

static void on_message(void *ctx, int64_t from, const void *bytes, size_t len)
{
    side *s = ctx;
    if (from <= 0 || from >= NSID || !s->up[from]) {
        s->bad++;
        return;
    }
    uint32_t seq = s->got[from]++;
    const uint8_t *b = bytes;
    int ok = !s->plan || (seq < s->nplan && s->plan[seq] == len);
    for (size_t i = 0; ok && i < len; i++) ok = b[i] == pattern(from, seq, i);
    if (!ok) s->wrong[from]++;
    if (s->cut_after && s->got[from] == s->cut_after) zab_tcp_disconnect(s->tcp, from);
}

static void on_up(void *ctx, int64_t sid)
{
    side *s = ctx;
    if (sid <= 0 || sid >= NSID || s->up[sid]) {
        s->bad++;
        return;
    }
    s->up[sid] = 1;
    s->ups[sid]++;
    if (s->greet) {
        uint8_t m[7];
        for (size_t i = 0; i < sizeof m; i++) m[i] = pattern(s->sid, 0, i);
        zab_tcp_send(s->tcp, sid, m, sizeof m);
    }
}

static void on_down(void *ctx, int64_t sid)
{
    side *s = ctx;
    if (sid <= 0 || sid >= NSID || !s->up[sid]) {
        s->bad++;
        return;
    }
    s->up[sid] = 0;
    s->downs[sid]++;
}

static zab_tcp_config config_for(world *w, int64_t sid, zab_tcp_peer *peers)
{
    for (int i = 0; i < 4; i++)
        peers[i] = (zab_tcp_peer){ i + 1, "127.0.0.1", w->port[i + 1] };
    zab_tcp_config c;
    memset(&c, 0, sizeof c);
    c.sid = sid;
    c.peers = peers;
    c.npeers = 4;
    c.max_frame = w->max_frame;
    c.max_queued = w->max_queued;
    c.reconnect_min_ms = 5;
    c.reconnect_max_ms = 40;
    c.ctx = &w->s[sid];
    c.on_message = on_message;
    c.on_up = on_up;
    c.on_down = on_down;
    return c;
}

static void open_side(world *w, int64_t sid)
{
    zab_tcp_peer peers[4];
    zab_tcp_config c = config_for(w, sid, peers);
    memset(&w->s[sid], 0, sizeof w->s[sid]);
    w->s[sid].sid = sid;
    char err[256];
    int rc = zab_tcp_open(&c, &w->s[sid].tcp, err, sizeof err);
    ck_assert_msg(rc == 0, "open %lld: %s: %s", (long long)sid, zab_strerror(rc), err);
    w->port[sid] = zab_tcp_port(w->s[sid].tcp);
    ck_assert_uint_ne(w->port[sid], 0);
}

/* The smaller sids first: a dialer needs its peers' ports. */
static void open_world(world *w, uint32_t max_frame, uint64_t max_queued)
{
    memset(w, 0, sizeof *w);
    w->max_frame = max_frame;
    w->max_queued = max_queued;
    for (int64_t sid = 1; sid <= 3; sid++) open_side(w, sid);
}

static void close_world(world *w)
{
    for (int sid = 1; sid <= 3; sid++) {
        zab_tcp_close(w->s[sid].tcp);
        w->s[sid].tcp = NULL;
    }
}

static void pump_once(world *w)
{
    for (int sid = 1; sid <= 3; sid++)
        if (w->s[sid].tcp) ck_assert_int_eq(zab_tcp_poll(w->s[sid].tcp, 1), 0);
}

static void pump(world *w, int ms)
{
    int64_t end = now_ms() + ms;
    for (int i = 0; i < 100000 && now_ms() < end; i++) pump_once(w);
}

typedef int (*pred_fn)(world *w, const void *arg);

/* Pump until pred holds; whether it did within ms. */
static int pump_until(world *w, pred_fn pred, const void *arg, int ms)
{
    int64_t end = now_ms() + ms;
    for (int i = 0; i < 100000; i++) {
        if (pred(w, arg)) return 1;
        if (now_ms() > end) return 0;
        pump_once(w);
    }
    return pred(w, arg);
}

static int live(const world *w, int sid)
{
    return w->s[sid].tcp != NULL;
}

static int all_up(world *w, const void *arg)
{
    (void)arg;
    for (int a = 1; a <= 3; a++)
        for (int b = 1; b <= 3; b++)
            if (a != b && live(w, a) && live(w, b) && !w->s[a].up[b]) return 0;
    return 1;
}

static void assert_clean(const world *w)
{
    for (int sid = 1; sid <= 3; sid++) {
        ck_assert_int_eq(w->s[sid].bad, 0);
        for (int from = 1; from < NSID; from++) ck_assert_uint_eq(w->s[sid].wrong[from], 0);
    }
}

static void send_msg(world *w, int from, int to, uint32_t seq, size_t len)
{
    uint8_t *m = make_msg(from, seq, len);
    zab_tcp_send(w->s[from].tcp, to, m, len);
    free(m);
}

typedef struct count_goal {
    int to, from;
    uint32_t n;
} count_goal;

static int got_n(world *w, const void *arg)
{
    const count_goal *g = arg;
    return w->s[g->to].got[g->from] >= g->n;
}

/* from sends one fresh message to to, which must receive it. */
static void exchange(world *w, int from, int to)
{
    uint32_t seq = w->s[to].got[from];
    send_msg(w, from, to, seq, 100 + seq);
    count_goal g = { to, from, seq + 1 };
    ck_assert_msg(pump_until(w, got_n, &g, 2000), "%d -> %d: no delivery", from, to);
}

static void exchange_all(world *w)
{
    for (int a = 1; a <= 3; a++)
        for (int b = 1; b <= 3; b++)
            if (a != b && live(w, a) && live(w, b)) exchange(w, a, b);
}

/* ---- connection rule ---- */

START_TEST(every_pair_up_once)
{
    world w;
    open_world(&w, 0, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    pump(&w, 150); /* no duplicate connection shows up late */
    for (int a = 1; a <= 3; a++)
        for (int b = 1; b <= 3; b++) {
            if (a == b) continue;
            ck_assert_int_eq(w.s[a].ups[b], 1);
            ck_assert_int_eq(w.s[a].downs[b], 0);
        }
    exchange_all(&w);
    assert_clean(&w);
    close_world(&w);
}
END_TEST

/* A transport polled without a time limit still dials when its back-off
 * ends: the wait is cut at the next dial. */
START_TEST(unlimited_poll_still_dials)
{
    world w;
    memset(&w, 0, sizeof w);
    open_side(&w, 1);
    uint16_t port = w.port[1];
    zab_tcp_close(w.s[1].tcp);
    w.s[1].tcp = NULL;
    open_side(&w, 2); /* dials 1: refused, backs off */
    for (int i = 0; i < 5; i++) ck_assert_int_eq(zab_tcp_poll(w.s[2].tcp, 10), 0);
    ck_assert_int_eq(w.s[2].up[1], 0);
    w.port[1] = port;
    open_side(&w, 1); /* same port again */
    ck_assert_uint_eq(w.port[1], port);
    int64_t start = now_ms();
    for (int i = 0; i < 1000 && !w.s[2].up[1]; i++) ck_assert_int_eq(zab_tcp_poll(w.s[2].tcp, -1), 0);
    ck_assert_int_eq(w.s[2].up[1], 1);
    ck_assert_int_lt(now_ms() - start, 1000);
    close_world(&w);
}
END_TEST

/* ---- messages ---- */

static void send_plan(world *w, int from, int to, const size_t *plan, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) send_msg(w, from, to, i, plan[i]);
}

START_TEST(sizes_intact_and_in_order)
{
    world w;
    open_world(&w, 0, 0); /* the default max_frame: 4 MiB + 64 */
    static size_t plan[] = { 0, 1, 64 << 10, (4 << 20) + 64, 0, 3, 1000, (4 << 20) + 64, 1 };
    uint32_t n = sizeof plan / sizeof plan[0];
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    for (int sid = 1; sid <= 3; sid++) {
        w.s[sid].plan = plan;
        w.s[sid].nplan = n;
    }
    for (int a = 1; a <= 3; a++)
        for (int b = 1; b <= 3; b++)
            if (a != b) send_plan(&w, a, b, plan, n);
    for (int a = 1; a <= 3; a++)
        for (int b = 1; b <= 3; b++) {
            if (a == b) continue;
            count_goal g = { b, a, n };
            ck_assert_msg(pump_until(&w, got_n, &g, 5000), "%d -> %d: %u of %u", a, b,
                          w.s[b].got[a], n);
        }
    pump(&w, 20);
    for (int a = 1; a <= 3; a++)
        for (int b = 1; b <= 3; b++)
            if (a != b) ck_assert_uint_eq(w.s[b].got[a], n);
    assert_clean(&w);
    for (int a = 1; a <= 3; a++)
        for (int b = 1; b <= 3; b++)
            if (a != b) ck_assert_int_eq(w.s[a].downs[b], 0);
    close_world(&w);
}
END_TEST

/* A message over max_frame cannot be carried: the channel breaks (down on
 * both ends) instead of silently losing it, and comes back. */
START_TEST(oversized_send_breaks_the_link)
{
    world w;
    open_world(&w, 1000, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    send_msg(&w, 1, 3, 0, 1000);
    send_msg(&w, 1, 3, 1, 1001);
    ck_assert_int_eq(w.s[1].up[3], 1); /* reported by the next poll, not inside send */
    pump_once(&w);
    ck_assert_int_eq(w.s[1].downs[3], 1);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    ck_assert_int_eq(w.s[3].downs[1], 1);
    ck_assert_uint_le(w.s[3].got[1], 1);
    close_world(&w);
}
END_TEST

START_TEST(many_small_messages_batched)
{
    enum { N = 20000 };
    world w;
    open_world(&w, 0, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    static size_t plan[N];
    for (uint32_t i = 0; i < N; i++) plan[i] = i % 17;
    w.s[1].plan = w.s[3].plan = plan;
    w.s[1].nplan = w.s[3].nplan = N;
    send_plan(&w, 3, 1, plan, N);
    send_plan(&w, 1, 3, plan, N);
    /* One message per wake would need N rounds. */
    int rounds = 0;
    while (rounds < 200 && (w.s[1].got[3] < N || w.s[3].got[1] < N)) {
        pump_once(&w);
        rounds++;
    }
    ck_assert_uint_eq(w.s[1].got[3], N);
    ck_assert_uint_eq(w.s[3].got[1], N);
    ck_assert_int_lt(rounds, 200);
    assert_clean(&w);
    close_world(&w);
}
END_TEST

/* ---- going down and coming back ---- */

typedef struct link_goal {
    int a, b;
    int ups;
} link_goal;

static int link_back(world *w, const void *arg)
{
    const link_goal *g = arg;
    return w->s[g->a].ups[g->b] >= g->ups && w->s[g->b].ups[g->a] >= g->ups &&
           w->s[g->a].up[g->b] && w->s[g->b].up[g->a];
}

static void disconnect_from(world *w, int by, int other, int round)
{
    zab_tcp_disconnect(w->s[by].tcp, other);
    /* Closed now, but reported from inside the next poll only. */
    ck_assert_int_eq(w->s[by].up[other], 1);
    link_goal g = { by, other, round + 1 };
    ck_assert_msg(pump_until(w, link_back, &g, 3000), "%d-%d did not come back", by, other);
    ck_assert_int_eq(w->s[by].downs[other], round);
    ck_assert_int_eq(w->s[other].downs[by], round);
    ck_assert_int_eq(w->s[by].ups[other], round + 1);
    ck_assert_int_eq(w->s[other].ups[by], round + 1);
}

START_TEST(disconnect_either_side_and_back)
{
    world w;
    open_world(&w, 0, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    disconnect_from(&w, 1, 3, 1); /* the acceptor */
    exchange_all(&w);
    disconnect_from(&w, 3, 1, 2); /* the dialer */
    exchange_all(&w);
    disconnect_from(&w, 2, 3, 1);
    pump(&w, 100);
    ck_assert_int_eq(w.s[1].downs[3], 2);
    ck_assert_int_eq(w.s[3].downs[1], 2);
    ck_assert_int_eq(w.s[1].downs[2], 0);
    ck_assert_int_eq(w.s[2].downs[1], 0);
    exchange_all(&w);
    assert_clean(&w);
    close_world(&w);
}
END_TEST

/* Messages queued to a peer when its connection breaks go with it: none
 * shows up later on the next connection. */
START_TEST(disconnect_drops_queue)
{
    world w;
    open_world(&w, 0, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    for (uint32_t i = 0; i < 10; i++) send_msg(&w, 3, 1, i, 10);
    zab_tcp_disconnect(w.s[3].tcp, 1);
    zab_tcp_send(w.s[3].tcp, 1, "x", 1); /* no connection: dropped */
    link_goal g = { 3, 1, 2 };
    ck_assert(pump_until(&w, link_back, &g, 3000));
    ck_assert_uint_eq(w.s[1].got[3], 0);
    assert_clean(&w);
    close_world(&w);
}
END_TEST

static int two_sees_down(world *w, const void *arg)
{
    (void)arg;
    return !w->s[1].up[2] && !w->s[3].up[2];
}

START_TEST(closed_peer_reported_at_once)
{
    world w;
    open_world(&w, 0, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    zab_tcp_close(w.s[2].tcp);
    w.s[2].tcp = NULL;
    int64_t start = now_ms();
    ck_assert(pump_until(&w, two_sees_down, NULL, 1000));
    ck_assert_int_lt(now_ms() - start, 200);
    ck_assert_int_eq(w.s[1].downs[2], 1);
    ck_assert_int_eq(w.s[3].downs[2], 1);
    pump(&w, 100); /* 3 redials 2 in vain */
    ck_assert_int_eq(w.s[3].ups[2], 1);
    exchange_all(&w);
    assert_clean(&w);
    close_world(&w);
}
END_TEST

/* A callback that closes the connection it is being handed messages from
 * gets no more of them, even those already read. */
START_TEST(disconnect_inside_on_message)
{
    world w;
    open_world(&w, 0, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    w.s[1].cut_after = 3;
    for (uint32_t i = 0; i < 10; i++) send_msg(&w, 3, 1, i, 50);
    link_goal g = { 1, 3, 2 };
    ck_assert(pump_until(&w, link_back, &g, 3000));
    ck_assert_uint_eq(w.s[1].got[3], 3);
    ck_assert_int_eq(w.s[1].downs[3], 1);
    ck_assert_int_eq(w.s[3].downs[1], 1);
    assert_clean(&w);
    close_world(&w);
}
END_TEST

/* Messages sent from inside on_up go out first on the new connection. */
START_TEST(send_inside_on_up)
{
    world w;
    memset(&w, 0, sizeof w);
    open_side(&w, 1);
    w.s[1].greet = 1;
    open_side(&w, 2);
    w.s[2].greet = 1;
    count_goal a = { 1, 2, 1 }, b = { 2, 1, 1 };
    ck_assert(pump_until(&w, got_n, &a, 3000));
    ck_assert(pump_until(&w, got_n, &b, 3000));
    assert_clean(&w);
    close_world(&w);
}
END_TEST

/* ---- hostile connections ---- */

static int raw_connect(uint16_t port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void raw_write(int fd, const void *bytes, size_t len)
{
    ck_assert_int_eq(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
}

static size_t hello(uint8_t *out, uint32_t magic, uint16_t version, int64_t sid)
{
    uint64_t s = (uint64_t)sid;
    for (int i = 0; i < 4; i++) out[i] = (uint8_t)(magic >> (24 - 8 * i));
    out[4] = (uint8_t)(version >> 8);
    out[5] = (uint8_t)version;
    for (int i = 0; i < 8; i++) out[6 + i] = (uint8_t)(s >> (56 - 8 * i));
    return 14;
}

#define MAGIC 0x5a414254u

/* Message seq of sid as a frame, as the transport would send it. */
static size_t frame_of(uint8_t *out, int64_t sid, uint32_t seq, uint32_t len)
{
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    for (uint32_t i = 0; i < len; i++) out[4 + i] = pattern(sid, seq, i);
    return 4 + (size_t)len;
}

/* Whether the transport closed fd's connection: EOF or a reset, after
 * reading (and discarding) whatever it sent first. */
static int raw_closed(world *w, const void *arg)
{
    int fd = *(const int *)arg;
    uint8_t buf[4096];
    for (int i = 0; i < 1000; i++) {
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0) return 1;
        if (r < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    }
    (void)w;
    return 0;
}

static void expect_closed(world *w, int fd, int ms)
{
    ck_assert_msg(pump_until(w, raw_closed, &fd, ms), "the transport kept a hostile connection");
    close(fd);
}

static void expect_open(world *w, int fd, int ms)
{
    pump(w, ms);
    ck_assert_msg(!raw_closed(w, &fd), "the connection closed too early");
}

static void expect_links_intact(world *w)
{
    for (int a = 1; a <= 3; a++)
        for (int b = 1; b <= 3; b++)
            if (a != b) {
                ck_assert_int_eq(w->s[a].ups[b], 1);
                ck_assert_int_eq(w->s[a].downs[b], 0);
            }
    exchange_all(w);
    assert_clean(w);
}

START_TEST(garbage_hello)
{
    world w;
    open_world(&w, 0, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    int fd = raw_connect(w.port[1], 0);
    raw_write(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
    expect_closed(&w, fd, 2000);
    uint8_t h[14];
    fd = raw_connect(w.port[1], 0);
    raw_write(fd, h, hello(h, MAGIC, 2, 4)); /* a version we do not speak */
    expect_closed(&w, fd, 2000);
    fd = raw_connect(w.port[2], 0);
    raw_write(fd, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 14);
    expect_closed(&w, fd, 2000);
    expect_links_intact(&w);
    close_world(&w);
}
END_TEST

START_TEST(unknown_or_impostor_sid)
{
    world w;
    open_world(&w, 0, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    uint8_t h[14];
    int64_t bad[][2] = {
        { 1, 99 },  /* unknown sid */
        { 1, -5 },  /* not a sid */
        { 3, 1 },   /* a smaller sid dialing a larger */
        { 3, 2 },
        { 2, 2 },   /* itself */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int fd = raw_connect(w.port[bad[i][0]], 0);
        raw_write(fd, h, hello(h, MAGIC, 1, bad[i][1]));
        expect_closed(&w, fd, 2000);
    }
    expect_links_intact(&w);
    close_world(&w);
}
END_TEST

/* A valid hello from sid 4 makes a link; a length over max_frame ends it. */
START_TEST(oversized_frame_from_a_peer)
{
    world w;
    open_world(&w, 4096, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    uint8_t buf[14 + 4 + 10 + 4];
    size_t n = hello(buf, MAGIC, 1, RAW_SID);
    n += frame_of(buf + n, RAW_SID, 0, 10);
    memcpy(buf + n, "\0\0\x10\x01", 4); /* one good frame, then 4097 announced */
    int fd = raw_connect(w.port[2], 0);
    raw_write(fd, buf, n + 4);
    expect_closed(&w, fd, 2000);
    ck_assert_int_eq(w.s[2].ups[RAW_SID], 1);
    ck_assert_int_eq(w.s[2].downs[RAW_SID], 1);
    ck_assert_uint_eq(w.s[2].got[RAW_SID], 1);
    /* A frame announcing 4 GiB - 1 allocates nothing. */
    n = hello(buf, MAGIC, 1, RAW_SID);
    memcpy(buf + n, "\xff\xff\xff\xff", 4);
    fd = raw_connect(w.port[1], 0);
    raw_write(fd, buf, n + 4);
    expect_closed(&w, fd, 2000);
    ck_assert_int_eq(w.s[1].downs[RAW_SID], 1);
    w.s[1].ups[RAW_SID] = w.s[1].downs[RAW_SID] = 0;
    w.s[2].ups[RAW_SID] = w.s[2].downs[RAW_SID] = 0;
    expect_links_intact(&w);
    close_world(&w);
}
END_TEST

/* A new valid connection from a sid replaces the old: down, then up. */
START_TEST(second_connection_replaces_first)
{
    world w;
    open_world(&w, 0, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    uint8_t h[14];
    int first = raw_connect(w.port[1], 0);
    raw_write(first, h, hello(h, MAGIC, 1, RAW_SID));
    pump(&w, 50);
    ck_assert_int_eq(w.s[1].ups[RAW_SID], 1);
    int second = raw_connect(w.port[1], 0);
    raw_write(second, h, hello(h, MAGIC, 1, RAW_SID));
    expect_closed(&w, first, 2000);
    ck_assert_int_eq(w.s[1].downs[RAW_SID], 1);
    ck_assert_int_eq(w.s[1].ups[RAW_SID], 2);
    ck_assert_int_eq(w.s[1].up[RAW_SID], 1);
    uint8_t fr[4 + 3];
    raw_write(second, fr, frame_of(fr, RAW_SID, 0, 3));
    count_goal g = { 1, RAW_SID, 1 };
    ck_assert(pump_until(&w, got_n, &g, 2000));
    close(second);
    pump(&w, 50);
    ck_assert_int_eq(w.s[1].downs[RAW_SID], 2);
    w.s[1].ups[RAW_SID] = w.s[1].downs[RAW_SID] = 0;
    expect_links_intact(&w);
    close_world(&w);
}
END_TEST

/* Part of a hello, then nothing: the connection is held no longer than the
 * hello deadline, and the real links go on meanwhile. */
START_TEST(half_open_hello_times_out)
{
    world w;
    open_world(&w, 0, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    uint8_t h[14];
    hello(h, MAGIC, 1, RAW_SID);
    int64_t start = now_ms();
    int fd = raw_connect(w.port[1], 0);
    raw_write(fd, h, 5);
    expect_open(&w, fd, 300);
    exchange_all(&w);
    expect_closed(&w, fd, 7000);
    int64_t held = now_ms() - start;
    ck_assert_int_ge(held, 4500);
    ck_assert_int_le(held, 6500);
    ck_assert_int_eq(w.s[1].ups[RAW_SID], 0);
    expect_links_intact(&w);
    close_world(&w);
}
END_TEST

/* Silent connections beyond the 32 awaiting a hello evict the oldest. */
START_TEST(silent_flood_is_bounded)
{
    enum { N = 48 };
    world w;
    open_world(&w, 0, 0);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = raw_connect(w.port[1], 0);
        pump_once(&w);
    }
    pump(&w, 100);
    int closed = 0;
    for (int i = 0; i < N; i++) closed += raw_closed(&w, &fds[i]);
    ck_assert_int_ge(closed, N - 32);
    for (int i = 0; i < N - 32; i++) ck_assert(raw_closed(&w, &fds[i])); /* the oldest */
    for (int i = 0; i < N; i++) close(fds[i]);
    expect_links_intact(&w);
    close_world(&w);
}
END_TEST

/* A valid peer that never reads: its queue reaches max_queued and the
 * connection drops, long before memory grows with what we send. */
START_TEST(never_reading_peer_dropped)
{
    world w;
    open_world(&w, 0, MIB);
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    uint8_t h[14];
    int fd = raw_connect(w.port[1], 4096);
    raw_write(fd, h, hello(h, MAGIC, 1, RAW_SID));
    for (int i = 0; i < 100 && !w.s[1].up[RAW_SID]; i++) pump_once(&w);
    ck_assert_int_eq(w.s[1].up[RAW_SID], 1);
    size_t len = 64 << 10;
    uint8_t *m = make_msg(1, 0, len);
    uint64_t sent = 0;
    for (int i = 0; i < 2000 && !w.s[1].downs[RAW_SID]; i++) {
        zab_tcp_send(w.s[1].tcp, RAW_SID, m, len);
        sent += len;
        pump_once(&w);
    }
    free(m);
    ck_assert_int_eq(w.s[1].downs[RAW_SID], 1);
    /* Queue bound plus what the kernel buffers on both ends. */
    ck_assert_uint_le(sent, MIB + 32 * (uint64_t)MIB);
    zab_tcp_send(w.s[1].tcp, RAW_SID, "x", 1); /* dropped: no connection */
    expect_closed(&w, fd, 2000);
    w.s[1].ups[RAW_SID] = w.s[1].downs[RAW_SID] = 0;
    expect_links_intact(&w);
    close_world(&w);
}
END_TEST

/* ---- opening ---- */

START_TEST(open_refuses_bad_configurations)
{
    zab_tcp *t = NULL;
    char err[256];
    zab_tcp_peer peers[3] = { { 1, "127.0.0.1", 0 }, { 2, "127.0.0.1", 0 }, { 3, "127.0.0.1", 0 } };
    zab_tcp_config c;
    memset(&c, 0, sizeof c);
    c.peers = peers;
    c.npeers = 3;
    c.sid = 7; /* not among the peers */
    ck_assert_int_eq(zab_tcp_open(&c, &t, err, sizeof err), ZAB_EINVAL);
    ck_assert_ptr_null(t);
    ck_assert(strlen(err) > 0);
    c.sid = 1;
    peers[2].sid = 2; /* duplicate */
    ck_assert_int_eq(zab_tcp_open(&c, &t, err, sizeof err), ZAB_EINVAL);
    peers[2].sid = 3;
    c.sid = 3; /* dials 1 and 2, which have no port */
    ck_assert_int_eq(zab_tcp_open(&c, &t, err, sizeof err), ZAB_EINVAL);
    c.sid = 1;
    peers[0].host = NULL; /* no address to listen on */
    ck_assert_int_eq(zab_tcp_open(&c, &t, err, sizeof err), ZAB_EINVAL);
    peers[0].host = "bad host!";
    ck_assert_int_eq(zab_tcp_open(&c, &t, err, sizeof err), ZAB_EIO);
    ck_assert_msg(strstr(err, "bad host!") != NULL, "%s", err);
    ck_assert_int_eq(zab_tcp_open(NULL, &t, err, sizeof err), ZAB_EINVAL);

    /* A peer we dial whose name does not resolve. */
    peers[0].host = "127.0.0.1";
    peers[0].port = 1;
    peers[1].port = 2;
    peers[2].host = "127.0.0.1";
    c.sid = 3;
    peers[1].host = "no such host!";
    ck_assert_int_eq(zab_tcp_open(&c, &t, err, sizeof err), ZAB_EIO);
    ck_assert_msg(strstr(err, "no such host!") != NULL && strstr(err, "peer 2"), "%s", err);
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(open_port_in_use)
{
    world w;
    memset(&w, 0, sizeof w);
    open_side(&w, 1);
    zab_tcp_peer peers[4];
    zab_tcp_config c = config_for(&w, 2, peers);
    peers[1].port = w.port[1]; /* 2 listens on 1's port */
    zab_tcp *t = NULL;
    char err[256];
    ck_assert_int_eq(zab_tcp_open(&c, &t, err, sizeof err), ZAB_EIO);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(err, "bind") != NULL, "%s", err);
    /* listen_host overrides the entry's host; "0.0.0.0" takes every interface. */
    peers[1].port = 0;
    c.listen_host = "0.0.0.0";
    ck_assert_int_eq(zab_tcp_open(&c, &t, err, sizeof err), 0);
    w.s[2].tcp = t;
    w.s[2].sid = 2;
    ck_assert(pump_until(&w, all_up, NULL, 3000));
    close_world(&w);
}
END_TEST

/* ---- watched descriptors and wake ---- */

static void count_ready(void *ctx)
{
    int *p = ctx;
    (*p)++;
}

static void *wake_later(void *arg)
{
    struct timespec d = { 0, 50 * 1000 * 1000 };
    nanosleep(&d, NULL);
    zab_tcp_wake(arg);
    return NULL;
}

START_TEST(watch_and_wake)
{
    world w;
    memset(&w, 0, sizeof w);
    open_side(&w, 1);
    zab_tcp *t = w.s[1].tcp;
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    int ready = 0;
    ck_assert_int_eq(zab_tcp_watch_fd(t, p[0], count_ready, &ready), 0);
    ck_assert_int_eq(zab_tcp_poll(t, 0), 0);
    ck_assert_int_eq(ready, 0);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    ck_assert_int_eq(zab_tcp_poll(t, 1000), 0);
    ck_assert_int_eq(ready, 1);
    char c;
    ck_assert_int_eq(read(p[0], &c, 1), 1);
    for (int i = 1; i < 8; i++) ck_assert_int_eq(zab_tcp_watch_fd(t, p[0], count_ready, &ready), 0);
    ck_assert_int_eq(zab_tcp_watch_fd(t, p[0], count_ready, &ready), ZAB_ETOOBIG);

    /* A wake from another thread ends an unlimited wait. */
    pthread_t th;
    int64_t start = now_ms();
    ck_assert_int_eq(pthread_create(&th, NULL, wake_later, t), 0);
    ck_assert_int_eq(zab_tcp_poll(t, -1), 0);
    ck_assert_int_lt(now_ms() - start, 2000);
    pthread_join(th, NULL);
    /* A wake before the poll makes the next one return at once, once. */
    zab_tcp_wake(t);
    zab_tcp_wake(t);
    start = now_ms();
    ck_assert_int_eq(zab_tcp_poll(t, 5000), 0);
    ck_assert_int_lt(now_ms() - start, 1000);
    start = now_ms();
    ck_assert_int_eq(zab_tcp_poll(t, 100), 0);
    ck_assert_int_ge(now_ms() - start, 90);
    ck_assert_int_eq(ready, 1);
    close(p[0]);
    close(p[1]);
    close_world(&w);
}
END_TEST


/* ---- three real nodes over three transports ---- */

typedef struct srv {
    int64_t sid;
    zab_node *node;
    zab_tcp *tcp;
    int64_t appended;        /* the in-memory log's last zxid */
    int role;
    int64_t leader;
    int failed;              /* a node call returned an error */
    uint64_t done_cookie;
    int done_err;
} srv;

static void n_send(void *ctx, int64_t to, const void *bytes, size_t len)
{
    srv *s = ctx;
    if (s->tcp) zab_tcp_send(s->tcp, to, bytes, len);
}

static void n_disconnect(void *ctx, int64_t to)
{
    srv *s = ctx;
    if (s->tcp) zab_tcp_disconnect(s->tcp, to);
}

static int n_append(void *ctx, const zab_entry *e, size_t n)
{
    srv *s = ctx;
    if (n) s->appended = e[n - 1].zxid;
    return 0;
}

static int n_truncate(void *ctx, int64_t zxid)
{
    srv *s = ctx;
    if (s->appended > zxid) s->appended = zxid;
    return 0;
}

static int n_epochs(void *ctx, int64_t accepted, int64_t current)
{
    (void)ctx, (void)accepted, (void)current;
    return 0;
}

static int n_snapshot(void *ctx, const zab_tree *tree)
{
    srv *s = ctx;
    zab_tree_stats st;
    zab_tree_stats_get(tree, &st);
    s->appended = st.last_zxid;
    return 0;
}

static void n_result(void *ctx, uint64_t cookie, const zab_reply *r)
{
    srv *s = ctx;
    s->done_cookie = cookie;
    s->done_err = r->err;
}

static void n_role(void *ctx, int role, int64_t leader, int64_t epoch)
{
    srv *s = ctx;
    (void)epoch;
    s->role = role;
    s->leader = leader;
}

static void t_message(void *ctx, int64_t from, const void *bytes, size_t len)
{
    srv *s = ctx;
    s->failed |= zab_node_recv(s->node, from, bytes, len) != 0;
}

static void t_up(void *ctx, int64_t sid)
{
    srv *s = ctx;
    s->failed |= zab_node_peer_up(s->node, sid) != 0;
}

static void t_down(void *ctx, int64_t sid)
{
    srv *s = ctx;
    s->failed |= zab_node_peer_down(s->node, sid) != 0;
}

static void ensemble_open(srv *S)
{
    static const zab_member members[] = { { 1, 0 }, { 2, 0 }, { 3, 0 } };
    uint16_t port[4] = { 0 };
    memset(S, 0, 4 * sizeof *S);
    for (int i = 1; i <= 3; i++) {
        srv *s = &S[i];
        s->sid = i;
        zab_node_config nc;
        memset(&nc, 0, sizeof nc);
        nc.sid = i;
        nc.members = members;
        nc.nmembers = 3;
        nc.tick_ms = 50;
        nc.finalize_wait_ms = 50;
        zab_io io = { .ctx = s, .send = n_send, .disconnect = n_disconnect,
                      .log_append = n_append, .log_truncate = n_truncate,
                      .save_epochs = n_epochs, .save_snapshot = n_snapshot,
                      .on_result = n_result, .on_role = n_role };
        s->node = zab_node_new(&nc, &io, NULL);
        ck_assert_ptr_nonnull(s->node);
        zab_tcp_peer peers[3];
        for (int j = 0; j < 3; j++) peers[j] = (zab_tcp_peer){ j + 1, "127.0.0.1", port[j + 1] };
        zab_tcp_config tc = { .sid = i, .peers = peers, .npeers = 3, .reconnect_min_ms = 5,
                              .reconnect_max_ms = 40, .ctx = s, .on_message = t_message,
                              .on_up = t_up, .on_down = t_down };
        char err[256];
        ck_assert_msg(zab_tcp_open(&tc, &s->tcp, err, sizeof err) == 0, "%s", err);
        port[i] = zab_tcp_port(s->tcp);
        ck_assert_int_eq(zab_node_start(s->node, now_ms()), 0);
    }
}

/* One turn of each live server's loop: transport, durability, time. */
static void ensemble_turn(srv *S)
{
    for (int i = 1; i <= 3; i++) {
        srv *s = &S[i];
        if (!s->tcp) continue;
        ck_assert_int_eq(zab_tcp_poll(s->tcp, 1), 0);
        s->failed |= zab_node_log_synced(s->node, s->appended) != 0;
        s->failed |= zab_node_tick(s->node, now_ms()) != 0;
        ck_assert_int_eq(s->failed, 0);
    }
}

/* The sid every live server serves under, or 0 while they disagree. */
static int64_t agreed_leader(srv *S)
{
    int64_t leader = 0;
    for (int i = 1; i <= 3; i++) {
        if (!S[i].tcp) continue;
        zab_node_stats st;
        zab_node_stats_get(S[i].node, &st);
        if (!st.serving || !st.leader || (leader && st.leader != leader)) return 0;
        leader = st.leader;
    }
    return leader && S[leader].tcp && S[leader].role == ZAB_LEADING ? leader : 0;
}

static int64_t ensemble_wait_leader(srv *S, int ms)
{
    int64_t end = now_ms() + ms;
    for (int i = 0; i < 200000 && now_ms() < end; i++) {
        int64_t l = agreed_leader(S);
        if (l) return l;
        ensemble_turn(S);
    }
    return agreed_leader(S);
}

static void ensemble_write(srv *S, int on, const char *path, uint64_t cookie)
{
    zab_op op = zab_op_create(path, "v", 1, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_request req = { .type = ZAB_OP_CREATE, .ops = &op, .nops = 1 };
    ck_assert_int_eq(zab_node_submit(S[on].node, &req, cookie), 0);
    int64_t end = now_ms() + 3000;
    for (int i = 0; i < 200000 && S[on].done_cookie != cookie && now_ms() < end; i++)
        ensemble_turn(S);
    ck_assert_uint_eq(S[on].done_cookie, cookie);
    ck_assert_int_eq(S[on].done_err, ZAB_OK);
}

static int has_node(srv *s, const char *path)
{
    zab_op op = zab_op_read(ZAB_OP_EXISTS, path, 0);
    zab_request req = { .type = ZAB_OP_EXISTS, .ops = &op, .nops = 1 };
    zab_reply reply;
    return zab_tree_read(zab_node_tree(s->node), &req, &reply) == ZAB_OK;
}

START_TEST(nodes_elect_commit_and_reelect)
{
    srv S[4];
    ensemble_open(S);
    int64_t first = ensemble_wait_leader(S, 5000);
    ck_assert_int_ne(first, 0);
    int follower = first == 1 ? 2 : 1;
    ensemble_write(S, (int)follower, "/a", 1);
    int64_t end = now_ms() + 2000;
    for (int i = 0; i < 100000 && now_ms() < end; i++) {
        if (has_node(&S[1], "/a") && has_node(&S[2], "/a") && has_node(&S[3], "/a")) break;
        ensemble_turn(S);
    }
    for (int i = 1; i <= 3; i++) ck_assert_msg(has_node(&S[i], "/a"), "server %d lacks /a", i);

    /* The leader's transport goes: its followers see it at once and elect. */
    zab_tcp_close(S[first].tcp);
    S[first].tcp = NULL;
    int64_t second = ensemble_wait_leader(S, 5000);
    ck_assert_int_ne(second, 0);
    ck_assert_int_ne(second, first);
    int other = 6 - (int)first - (int)second;
    ensemble_write(S, other, "/b", 2);
    ck_assert(has_node(&S[second], "/a"));
    ck_assert(has_node(&S[second], "/b"));
    for (int i = 1; i <= 3; i++) {
        if (S[i].tcp) zab_tcp_close(S[i].tcp);
        zab_node_free(S[i].node);
    }
}
END_TEST

Suite *tcp_suite(void);

Suite *tcp_suite(void)
{
    Suite *s = suite_create("tcp");
    TCase *tc = tcase_create("links");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, every_pair_up_once);
    tcase_add_test(tc, unlimited_poll_still_dials);
    tcase_add_test(tc, sizes_intact_and_in_order);
    tcase_add_test(tc, oversized_send_breaks_the_link);
    tcase_add_test(tc, many_small_messages_batched);
    tcase_add_test(tc, disconnect_either_side_and_back);
    tcase_add_test(tc, disconnect_drops_queue);
    tcase_add_test(tc, closed_peer_reported_at_once);
    tcase_add_test(tc, disconnect_inside_on_message);
    tcase_add_test(tc, send_inside_on_up);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, garbage_hello);
    tcase_add_test(tc, unknown_or_impostor_sid);
    tcase_add_test(tc, oversized_frame_from_a_peer);
    tcase_add_test(tc, second_connection_replaces_first);
    tcase_add_test(tc, half_open_hello_times_out);
    tcase_add_test(tc, silent_flood_is_bounded);
    tcase_add_test(tc, never_reading_peer_dropped);
    suite_add_tcase(s, tc);

    tc = tcase_create("open");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, open_refuses_bad_configurations);
    tcase_add_test(tc, open_port_in_use);
    tcase_add_test(tc, watch_and_wake);
    suite_add_tcase(s, tc);

    tc = tcase_create("nodes");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, nodes_elect_commit_and_reelect);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(tcp_suite)
