/*
 * tcp_link.c - one peer connection: its output queue and writes, framed
 * reads, and the up and down reports.
 *
 * Every way a connection can end (EOF, a socket error, an oversized frame,
 * a full queue, zab_tcp_disconnect) goes through zab_tcp_link_close, which
 * turns a reported up into exactly one pending down.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/tcp.h"
#include "util/codec.h"

#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0 /* SO_NOSIGPIPE is set on the socket instead */
#endif

enum { MAX_READS = 16 }; /* per connection per wake, so no peer starves the rest */

/* ---- the output queue ---- */

static size_t frame_cost(const zab_tcp_frame *f)
{
    return sizeof *f + f->len;
}

static void free_queue(zab_tcp_link *l)
{
    zab_tcp_frame *f = l->head;
    while (f) {
        zab_tcp_frame *next = f->next;
        free(f);
        f = next;
    }
    l->head = l->tail = NULL;
    l->queued = 0;
}

/* Queue prefix (when has_prefix: the u32 length) and len bytes as one
 * frame. 0, or -1 when the queue may not or cannot hold it. */
static int enqueue(zab_tcp *tcp, zab_tcp_link *l, int has_prefix, const void *bytes, size_t len)
{
    size_t body = (has_prefix ? 4 : 0) + len;
    size_t cost = sizeof(zab_tcp_frame) + body;
    if (cost > tcp->max_queued || l->queued > tcp->max_queued - cost) return -1;
    zab_tcp_frame *f = malloc(cost);
    if (!f) return -1;
    f->next = NULL;
    f->len = body;
    f->off = 0;
    uint8_t *p = f->bytes;
    if (has_prefix) {
        uint32_t n = (uint32_t)len;
        p[0] = (uint8_t)(n >> 24);
        p[1] = (uint8_t)(n >> 16);
        p[2] = (uint8_t)(n >> 8);
        p[3] = (uint8_t)n;
        p += 4;
    }
    if (len) memcpy(p, bytes, len);
    if (l->tail)
        l->tail->next = f;
    else
        l->head = f;
    l->tail = f;
    l->queued += cost;
    return 0;
}

/* Drop n written bytes from the front of the queue. */
static void consume(zab_tcp_link *l, size_t n)
{
    while (n) {
        zab_tcp_frame *f = l->head;
        assert(f);
        size_t left = f->len - f->off;
        if (n < left) {
            f->off += n;
            return;
        }
        n -= left;
        l->head = f->next;
        if (!l->head) l->tail = NULL;
        l->queued -= frame_cost(f);
        free(f);
    }
}

/* ---- life cycle ---- */

void zab_tcp_link_report(zab_tcp *tcp, zab_tcp_link *l)
{
    if (!l->down_pending) return;
    l->down_pending = 0;
    if (tcp->on_down) tcp->on_down(tcp->ctx, l->sid);
}

static void free_input(zab_tcp_link *l)
{
    free(l->in);
    l->in = NULL;
    l->in_len = l->in_cap = 0;
}

/* When a dialer dials next: at once on the next address of a name that
 * has several, else after the back-off, which doubles on every failure
 * and starts over once a connection proved itself. */
static void schedule_dial(zab_tcp *tcp, zab_tcp_link *l, int was, int64_t now)
{
    if (was == ZAB_TCP_DIALING && l->next_addr + 1 < l->naddrs) {
        l->next_addr++;
        l->deadline = now;
        return;
    }
    if (was == ZAB_TCP_DIALING) l->next_addr = 0;
    /* A connection the acceptor refuses is still "connected" for a moment;
     * only one that carried a message, or lasted, resets the back-off. */
    if (was == ZAB_TCP_UP && (l->heard || now - l->up_ms >= tcp->backoff_max))
        l->backoff_ms = tcp->backoff_min;
    l->deadline = now + l->backoff_ms;
    l->backoff_ms = l->backoff_ms > tcp->backoff_max / 2 ? tcp->backoff_max : l->backoff_ms * 2;
}

void zab_tcp_link_close(zab_tcp *tcp, zab_tcp_link *l)
{
    int was = l->state;
    if (was == ZAB_TCP_IDLE) return;
    zab_tcp_close_fd(l->fd);
    l->fd = -1;
    l->gen++;
    l->state = ZAB_TCP_IDLE;
    if (was == ZAB_TCP_UP) l->down_pending = 1;
    free_queue(l);
    l->in_len = 0;
    if (!l->delivering) free_input(l);
    if (l->dialer) schedule_dial(tcp, l, was, zab_tcp_now_ms());
}

void zab_tcp_link_up(zab_tcp *tcp, zab_tcp_link *l, int fd, int hello)
{
    /* An accepted connection replaces the one it finds; a dial completes
     * its own. */
    if (l->fd != fd) zab_tcp_link_close(tcp, l);
    zab_tcp_link_report(tcp, l);
    l->fd = fd;
    l->state = ZAB_TCP_UP;
    l->up_ms = zab_tcp_now_ms();
    l->heard = 0;
    if (hello) {
        uint8_t h[ZAB_TCP_HELLO];
        zab_tcp_hello_encode(tcp->sid, h);
        if (enqueue(tcp, l, 0, h, sizeof h) < 0) {
            /* Never reported up, so nothing to report down. */
            zab_tcp_link_close(tcp, l);
            l->down_pending = 0;
            return;
        }
    }
    if (tcp->on_up) tcp->on_up(tcp->ctx, l->sid);
}

void zab_tcp_link_free(zab_tcp_link *l)
{
    if (l->fd >= 0) zab_tcp_close_fd(l->fd);
    l->fd = -1;
    free_queue(l);
    free_input(l);
}

/* ---- writing ---- */

void zab_tcp_link_send(zab_tcp *tcp, zab_tcp_link *l, const void *bytes, size_t len)
{
    if (l->state != ZAB_TCP_UP) return;
    /* A message the channel cannot carry breaks it: dropping it alone would
     * leave a gap the node, which expects FIFO or a break, never sees. */
    if (len > tcp->max_frame || enqueue(tcp, l, 1, bytes, len) < 0) zab_tcp_link_close(tcp, l);
}

void zab_tcp_link_write(zab_tcp *tcp, zab_tcp_link *l)
{
    while (l->state == ZAB_TCP_UP && l->head) {
        int n = 0;
        size_t total = 0;
        for (zab_tcp_frame *f = l->head; f && n < tcp->iov_max; f = f->next, n++) {
            tcp->iov[n].iov_base = f->bytes + f->off;
            tcp->iov[n].iov_len = f->len - f->off;
            total += f->len - f->off;
        }
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_iov = tcp->iov;
        m.msg_iovlen = n;
        ssize_t w;
        do {
            w = sendmsg(l->fd, &m, SEND_FLAGS);
        } while (w < 0 && errno == EINTR);
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) zab_tcp_link_close(tcp, l);
            return;
        }
        consume(l, (size_t)w);
        if ((size_t)w < total) return; /* the socket is full: wait for POLLOUT */
    }
}

/* ---- reading ---- */

static uint32_t announced(const uint8_t *p)
{
    zab_reader r = zab_reader_init(p, 4);
    return zab_get_u32(&r);
}

/* Room to read into: the base buffer, or exactly the frame under way when
 * it is larger (its length was checked against max_frame). */
static int make_room(zab_tcp_link *l)
{
    size_t want = ZAB_TCP_IN_BASE;
    if (l->in_len >= 4) {
        size_t need = 4 + (size_t)announced(l->in);
        if (need > want) want = need;
    }
    if (l->in_cap >= want) return 0;
    uint8_t *p = realloc(l->in, want);
    if (!p) return -1;
    l->in = p;
    l->in_cap = want;
    return 0;
}

/* Deliver every whole frame in the buffer. 0, or -1 once the connection
 * closed (a bad length, or a callback closed it). */
static int deliver(zab_tcp *tcp, zab_tcp_link *l)
{
    uint64_t gen = l->gen;
    size_t pos = 0;
    while (l->in_len - pos >= 4) {
        uint32_t n = announced(l->in + pos);
        if (n > tcp->max_frame) {
            zab_tcp_link_close(tcp, l);
            return -1;
        }
        if (l->in_len - pos - 4 < n) break;
        l->heard = 1;
        l->delivering = 1;
        if (tcp->on_message) tcp->on_message(tcp->ctx, l->sid, l->in + pos + 4, n);
        l->delivering = 0;
        if (l->gen != gen) {
            free_input(l);
            return -1;
        }
        pos += 4 + (size_t)n;
    }
    l->in_len -= pos;
    if (pos && l->in_len) memmove(l->in, l->in + pos, l->in_len);
    /* A large frame's buffer goes back once it is delivered. */
    if (l->in_len == 0 && l->in_cap > ZAB_TCP_IN_BASE) free_input(l);
    return 0;
}

void zab_tcp_link_read(zab_tcp *tcp, zab_tcp_link *l)
{
    for (int i = 0; i < MAX_READS && l->state == ZAB_TCP_UP; i++) {
        if (make_room(l) < 0) {
            zab_tcp_link_close(tcp, l);
            return;
        }
        size_t room = l->in_cap - l->in_len;
        ssize_t r;
        do {
            r = recv(l->fd, l->in + l->in_len, room, 0);
        } while (r < 0 && errno == EINTR);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (r <= 0) {
            zab_tcp_link_close(tcp, l);
            return;
        }
        l->in_len += (size_t)r;
        if (deliver(tcp, l) < 0) return;
        if ((size_t)r < room) return; /* drained */
    }
}
