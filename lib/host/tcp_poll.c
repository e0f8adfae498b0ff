/*
 * tcp_poll.c - zab_tcp_poll: timers (dials, dial and hello deadlines),
 * accepting and checking hellos, the poll(2) set, and dispatching what it
 * reports.
 *
 * A callback may close any connection (zab_tcp_disconnect, an overflowing
 * zab_tcp_send), and a closed descriptor's number may be reused at once, so
 * every entry of the poll set remembers the generation of what it stood
 * for, and an entry whose link or pending connection changed is skipped.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/tcp.h"

enum {
    MAX_ACCEPTS = 16,      /* per wake */
    LISTEN_PAUSE_MS = 100  /* out of descriptors: stop accepting this long */
};

/* ---- dialing ---- */

static void start_dial(zab_tcp *tcp, zab_tcp_link *l, int64_t now)
{
    int done = 0;
    int fd = zab_tcp_dial(&l->addrs[l->next_addr], &done);
    l->state = ZAB_TCP_DIALING;
    l->fd = fd;
    l->deadline = now + ZAB_TCP_CONNECT_MS;
    if (fd < 0)
        zab_tcp_link_close(tcp, l); /* failed at once: next address or back-off */
    else if (done)
        zab_tcp_link_up(tcp, l, fd, 1);
}

static void dial_ready(zab_tcp *tcp, zab_tcp_link *l)
{
    if (zab_tcp_dial_result(l->fd) == 0)
        zab_tcp_link_up(tcp, l, l->fd, 1);
    else
        zab_tcp_link_close(tcp, l);
}

/* ---- accepted connections awaiting their hello ---- */

static void drop_pending(zab_tcp *tcp, uint32_t i, int close_fd)
{
    if (close_fd) zab_tcp_close_fd(tcp->pending[i].fd);
    memmove(&tcp->pending[i], &tcp->pending[i + 1],
            (tcp->npending - i - 1) * sizeof tcp->pending[0]);
    tcp->npending--;
}

static void add_pending(zab_tcp *tcp, int fd, int64_t now)
{
    /* A flood of silent connections evicts the oldest, never a link. */
    if (tcp->npending == ZAB_TCP_MAX_PENDING) drop_pending(tcp, 0, 1);
    zab_tcp_pending *p = &tcp->pending[tcp->npending++];
    memset(p, 0, sizeof *p);
    p->id = ++tcp->next_pending_id;
    p->fd = fd;
    p->deadline = now + ZAB_TCP_HELLO_MS;
}

/* Take the hello off an accepted connection: exactly its bytes, so the
 * frames behind it stay in the socket for the link. A valid one names a
 * known server with a larger sid (only those dial us). */
static void read_hello(zab_tcp *tcp, uint32_t i)
{
    zab_tcp_pending *p = &tcp->pending[i];
    ssize_t r;
    do {
        r = recv(p->fd, p->hello + p->got, ZAB_TCP_HELLO - p->got, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (r <= 0) {
        drop_pending(tcp, i, 1);
        return;
    }
    p->got += (uint32_t)r;
    if (p->got < ZAB_TCP_HELLO) return;
    int64_t sid = zab_tcp_hello_decode(p->hello);
    zab_tcp_link *l = sid > tcp->sid ? zab_tcp_link_of(tcp, sid) : NULL;
    int fd = p->fd;
    drop_pending(tcp, i, !l);
    if (!l) return;
    zab_tcp_link_up(tcp, l, fd, 0);
    /* Frames may have come with the hello; on_up may have closed it. */
    if (l->state == ZAB_TCP_UP) zab_tcp_link_read(tcp, l);
}

static void accept_some(zab_tcp *tcp, int64_t now)
{
    for (int n = 0; n < MAX_ACCEPTS; n++) {
        int fd = accept(tcp->listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
            /* Out of descriptors or buffers: the listener stays readable,
             * so stop polling it a while rather than spin. */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                tcp->listen_paused = now + LISTEN_PAUSE_MS;
            return;
        }
        if (zab_tcp_sock_setup(fd, 1) < 0) {
            zab_tcp_close_fd(fd);
            continue;
        }
        add_pending(tcp, fd, now);
    }
}

/* ---- timers ---- */

static void run_timers(zab_tcp *tcp, int64_t now)
{
    for (uint32_t i = 0; i < tcp->npending;)
        if (tcp->pending[i].deadline <= now)
            drop_pending(tcp, i, 1);
        else
            i++;
    for (uint32_t i = 0; i < tcp->nlinks; i++) {
        zab_tcp_link *l = &tcp->links[i];
        if (!l->dialer || l->deadline > now) continue;
        if (l->state == ZAB_TCP_IDLE)
            start_dial(tcp, l, now);
        else if (l->state == ZAB_TCP_DIALING)
            zab_tcp_link_close(tcp, l); /* no answer in time */
    }
    if (tcp->listen_paused && tcp->listen_paused <= now) tcp->listen_paused = 0;
}

/* The poll timeout: the caller's, cut at the next timer. */
static int wait_ms(const zab_tcp *tcp, int timeout_ms, int64_t now)
{
    int64_t due = timeout_ms < 0 ? INT64_MAX : now + timeout_ms;
    for (uint32_t i = 0; i < tcp->npending; i++)
        if (tcp->pending[i].deadline < due) due = tcp->pending[i].deadline;
    for (uint32_t i = 0; i < tcp->nlinks; i++) {
        const zab_tcp_link *l = &tcp->links[i];
        if (l->dialer && l->state != ZAB_TCP_UP && l->deadline < due) due = l->deadline;
    }
    if (tcp->listen_paused && tcp->listen_paused < due) due = tcp->listen_paused;
    if (due == INT64_MAX) return -1;
    if (due <= now) return 0;
    return due - now > INT_MAX ? INT_MAX : (int)(due - now);
}

/* ---- reports and writes before waiting ---- */

static int report_downs(zab_tcp *tcp)
{
    int any = 0;
    for (uint32_t i = 0; i < tcp->nlinks; i++) {
        any |= tcp->links[i].down_pending;
        zab_tcp_link_report(tcp, &tcp->links[i]);
    }
    return any;
}

/* Report every pending down and write every queue, until a write breaks no
 * connection: a down's callbacks may queue messages that must go out
 * before we wait. Each round closes at least one link, so it ends. */
static void flush(zab_tcp *tcp)
{
    for (uint32_t round = 0; round <= tcp->nlinks; round++) {
        report_downs(tcp);
        for (uint32_t i = 0; i < tcp->nlinks; i++) zab_tcp_link_write(tcp, &tcp->links[i]);
        int pending = 0;
        for (uint32_t i = 0; i < tcp->nlinks; i++) pending |= tcp->links[i].down_pending;
        if (!pending) return;
    }
    report_downs(tcp);
}

/* ---- the poll set ---- */

static void add(zab_tcp *tcp, int *n, int fd, short events, int kind, uint32_t idx, uint64_t gen)
{
    tcp->pfd[*n] = (struct pollfd){ fd, events, 0 };
    tcp->slots[*n] = (zab_tcp_slot){ kind, idx, gen };
    (*n)++;
}

static int build(zab_tcp *tcp)
{
    int n = 0;
    add(tcp, &n, tcp->wake_fd[0], POLLIN, ZAB_TCP_SLOT_WAKE, 0, 0);
    if (!tcp->listen_paused) add(tcp, &n, tcp->listen_fd, POLLIN, ZAB_TCP_SLOT_LISTEN, 0, 0);
    for (uint32_t i = 0; i < tcp->npending; i++)
        add(tcp, &n, tcp->pending[i].fd, POLLIN, ZAB_TCP_SLOT_PENDING, 0, tcp->pending[i].id);
    for (uint32_t i = 0; i < tcp->nlinks; i++) {
        const zab_tcp_link *l = &tcp->links[i];
        short ev = l->state == ZAB_TCP_DIALING ? POLLOUT
                 : l->state == ZAB_TCP_UP ? (short)(POLLIN | (l->head ? POLLOUT : 0))
                 : 0;
        if (ev) add(tcp, &n, l->fd, ev, ZAB_TCP_SLOT_LINK, i, l->gen);
    }
    for (uint32_t i = 0; i < tcp->nwatch; i++)
        add(tcp, &n, tcp->watch[i].fd, POLLIN, ZAB_TCP_SLOT_WATCH, i, 0);
    return n;
}

static void drain_wake(zab_tcp *tcp)
{
    char buf[64];
    for (int i = 0; i < 16; i++) {
        ssize_t r = read(tcp->wake_fd[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r < (ssize_t)sizeof buf) return;
    }
}

static void on_link(zab_tcp *tcp, zab_tcp_link *l, short revents)
{
    if (l->state == ZAB_TCP_DIALING) {
        if (revents & (POLLOUT | POLLERR | POLLHUP)) dial_ready(tcp, l);
        return;
    }
    uint64_t gen = l->gen;
    if (revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) zab_tcp_link_read(tcp, l);
    if (l->gen == gen && (revents & POLLOUT)) zab_tcp_link_write(tcp, l);
}

static void on_pending(zab_tcp *tcp, uint64_t id)
{
    for (uint32_t i = 0; i < tcp->npending; i++)
        if (tcp->pending[i].id == id) {
            read_hello(tcp, i);
            return;
        }
}

static void dispatch(zab_tcp *tcp, int n)
{
    int64_t now = zab_tcp_now_ms();
    for (int i = 0; i < n; i++) {
        short rev = tcp->pfd[i].revents;
        const zab_tcp_slot *s = &tcp->slots[i];
        if (!rev) continue;
        switch (s->kind) {
        case ZAB_TCP_SLOT_WAKE: drain_wake(tcp); break;
        case ZAB_TCP_SLOT_LISTEN: accept_some(tcp, now); break;
        case ZAB_TCP_SLOT_PENDING: on_pending(tcp, s->gen); break;
        case ZAB_TCP_SLOT_LINK:
            if (tcp->links[s->idx].gen == s->gen) on_link(tcp, &tcp->links[s->idx], rev);
            break;
        case ZAB_TCP_SLOT_WATCH:
            tcp->watch[s->idx].on_ready(tcp->watch[s->idx].ctx);
            break;
        }
    }
}

ZAB_API int zab_tcp_poll(zab_tcp *tcp, int timeout_ms)
{
    run_timers(tcp, zab_tcp_now_ms());
    flush(tcp);
    int n = build(tcp);
    int rc = poll(tcp->pfd, (nfds_t)n, wait_ms(tcp, timeout_ms, zab_tcp_now_ms()));
    if (rc < 0) return errno == EINTR ? 0 : ZAB_EIO; /* a signal ends the wait */
    if (rc > 0) dispatch(tcp, n);
    run_timers(tcp, zab_tcp_now_ms());
    report_downs(tcp);
    return 0;
}
