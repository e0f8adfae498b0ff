/*
 * tcp.c - the TCP peer transport's public calls: open (checking the
 * configuration, resolving names, listening), close, send, disconnect,
 * watched descriptors and wake. The loop itself is in tcp_poll.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/tcp.h"

enum {
    DEFAULT_MAX_FRAME = (4 << 20) + 64,
    DEFAULT_BACKOFF_MIN = 20,
    DEFAULT_BACKOFF_MAX = 1000,
    MAX_IOV = 1024
};
#define DEFAULT_MAX_QUEUED ((uint64_t)64 << 20)

int64_t zab_tcp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

zab_tcp_link *zab_tcp_link_of(zab_tcp *tcp, int64_t sid)
{
    for (uint32_t i = 0; i < tcp->nlinks; i++)
        if (tcp->links[i].sid == sid) return &tcp->links[i];
    return NULL;
}

/* ---- open ---- */

static int fail(char *err, size_t errlen, int code, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    return code;
}

static const zab_tcp_peer *self_of(const zab_tcp_config *cfg)
{
    for (uint32_t i = 0; i < cfg->npeers; i++)
        if (cfg->peers[i].sid == cfg->sid) return &cfg->peers[i];
    return NULL;
}

/* Every sid positive and unique, this server among them, an address for
 * every server we dial and for our own listener. */
static int check_config(const zab_tcp_config *cfg, char *err, size_t errlen)
{
    char msg[160];
    if (!cfg || !cfg->peers || cfg->npeers == 0)
        return fail(err, errlen, ZAB_EINVAL, "no peers configured");
    for (uint32_t i = 0; i < cfg->npeers; i++) {
        const zab_tcp_peer *p = &cfg->peers[i];
        if (p->sid <= 0) {
            snprintf(msg, sizeof msg, "peer %lld: a sid must be positive", (long long)p->sid);
            return fail(err, errlen, ZAB_EINVAL, msg);
        }
        for (uint32_t j = 0; j < i; j++)
            if (cfg->peers[j].sid == p->sid) {
                snprintf(msg, sizeof msg, "peer %lld is listed twice", (long long)p->sid);
                return fail(err, errlen, ZAB_EINVAL, msg);
            }
        int needs_host = p->sid < cfg->sid || (p->sid == cfg->sid && !cfg->listen_host);
        if (needs_host && (!p->host || !p->host[0])) {
            snprintf(msg, sizeof msg, "peer %lld has no host", (long long)p->sid);
            return fail(err, errlen, ZAB_EINVAL, msg);
        }
        if (p->sid < cfg->sid && p->port == 0) {
            snprintf(msg, sizeof msg, "peer %lld has no port to dial", (long long)p->sid);
            return fail(err, errlen, ZAB_EINVAL, msg);
        }
    }
    if (!self_of(cfg)) {
        snprintf(msg, sizeof msg, "sid %lld is not among the peers", (long long)cfg->sid);
        return fail(err, errlen, ZAB_EINVAL, msg);
    }
    return 0;
}

static void apply_limits(zab_tcp *tcp, const zab_tcp_config *cfg)
{
    tcp->sid = cfg->sid;
    tcp->max_frame = cfg->max_frame ? cfg->max_frame : DEFAULT_MAX_FRAME;
    tcp->max_queued = cfg->max_queued ? cfg->max_queued : DEFAULT_MAX_QUEUED;
    tcp->backoff_min = cfg->reconnect_min_ms ? cfg->reconnect_min_ms : DEFAULT_BACKOFF_MIN;
    tcp->backoff_max = cfg->reconnect_max_ms ? cfg->reconnect_max_ms : DEFAULT_BACKOFF_MAX;
    if (tcp->backoff_max < tcp->backoff_min) tcp->backoff_max = tcp->backoff_min;
    tcp->ctx = cfg->ctx;
    tcp->on_message = cfg->on_message;
    tcp->on_up = cfg->on_up;
    tcp->on_down = cfg->on_down;
}

static int open_wake_pipe(zab_tcp *tcp, char *err, size_t errlen)
{
    if (pipe(tcp->wake_fd) < 0) {
        tcp->wake_fd[0] = tcp->wake_fd[1] = -1;
        char msg[128];
        snprintf(msg, sizeof msg, "pipe: %s", strerror(errno));
        return fail(err, errlen, ZAB_EIO, msg);
    }
    for (int i = 0; i < 2; i++)
        if (zab_tcp_sock_setup(tcp->wake_fd[i], 0) < 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "fcntl on the wake pipe: %s", strerror(errno));
            return fail(err, errlen, ZAB_EIO, msg);
        }
    return 0;
}

/* Copy every other peer; resolve the ones we dial. */
static int add_links(zab_tcp *tcp, const zab_tcp_config *cfg, char *err, size_t errlen)
{
    tcp->links = calloc(cfg->npeers, sizeof *tcp->links);
    if (!tcp->links) return ZAB_ENOMEM;
    for (uint32_t i = 0; i < cfg->npeers; i++) {
        const zab_tcp_peer *p = &cfg->peers[i];
        if (p->sid == cfg->sid) continue;
        zab_tcp_link *l = &tcp->links[tcp->nlinks++];
        l->sid = p->sid;
        l->port = p->port;
        l->fd = -1;
        l->dialer = p->sid < cfg->sid;
        l->backoff_ms = tcp->backoff_min;
        l->deadline = zab_tcp_now_ms();
        if (p->host && !(l->host = strdup(p->host))) return ZAB_ENOMEM;
        if (!l->dialer) continue;
        char why[256];
        if (zab_tcp_resolve(p->host, p->port, 0, l->addrs, ZAB_TCP_MAX_ADDRS, &l->naddrs, why,
                            sizeof why)) {
            if (err && errlen)
                snprintf(err, errlen, "peer %lld: %s", (long long)p->sid, why);
            return ZAB_EIO;
        }
    }
    return 0;
}

static int start_listening(zab_tcp *tcp, const zab_tcp_config *cfg, char *err, size_t errlen)
{
    const zab_tcp_peer *self = self_of(cfg);
    const char *host = cfg->listen_host ? cfg->listen_host : self->host;
    zab_tcp_addr addrs[ZAB_TCP_MAX_ADDRS];
    uint32_t n = 0;
    char why[256];
    if (zab_tcp_resolve(host, self->port, 1, addrs, ZAB_TCP_MAX_ADDRS, &n, why, sizeof why)) {
        if (err && errlen) snprintf(err, errlen, "listen address: %s", why);
        return ZAB_EIO;
    }
    return zab_tcp_listen(addrs, n, host, self->port, &tcp->listen_fd, &tcp->port, err, errlen);
}

static int alloc_poll_set(zab_tcp *tcp)
{
    size_t n = 2 + ZAB_TCP_MAX_PENDING + (size_t)tcp->nlinks + ZAB_TCP_MAX_WATCH;
    long iov = sysconf(_SC_IOV_MAX);
    tcp->iov_max = iov <= 0 ? 16 : iov > MAX_IOV ? MAX_IOV : (int)iov;
    tcp->pfd = calloc(n, sizeof *tcp->pfd);
    tcp->slots = calloc(n, sizeof *tcp->slots);
    tcp->iov = calloc((size_t)tcp->iov_max, sizeof *tcp->iov);
    return tcp->pfd && tcp->slots && tcp->iov ? 0 : ZAB_ENOMEM;
}

ZAB_API int zab_tcp_open(const zab_tcp_config *cfg, zab_tcp **out, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    if (!out) return fail(err, errlen, ZAB_EINVAL, "no place for the transport");
    *out = NULL;
    int rc = check_config(cfg, err, errlen);
    if (rc) return rc;
    zab_tcp *tcp = calloc(1, sizeof *tcp);
    if (!tcp) return fail(err, errlen, ZAB_ENOMEM, "out of memory");
    tcp->listen_fd = tcp->wake_fd[0] = tcp->wake_fd[1] = -1;
    apply_limits(tcp, cfg);
    rc = open_wake_pipe(tcp, err, errlen);
    if (!rc) rc = add_links(tcp, cfg, err, errlen);
    if (!rc) rc = alloc_poll_set(tcp);
    if (!rc) rc = start_listening(tcp, cfg, err, errlen);
    if (rc) {
        if (rc == ZAB_ENOMEM) fail(err, errlen, rc, "out of memory");
        zab_tcp_close(tcp);
        return rc;
    }
    *out = tcp;
    return 0;
}

/* ---- close ---- */

ZAB_API void zab_tcp_close(zab_tcp *tcp)
{
    if (!tcp) return;
    for (uint32_t i = 0; i < tcp->nlinks; i++) {
        zab_tcp_link_free(&tcp->links[i]);
        free(tcp->links[i].host);
    }
    for (uint32_t i = 0; i < tcp->npending; i++) zab_tcp_close_fd(tcp->pending[i].fd);
    zab_tcp_close_fd(tcp->listen_fd);
    zab_tcp_close_fd(tcp->wake_fd[0]);
    zab_tcp_close_fd(tcp->wake_fd[1]);
    free(tcp->links);
    free(tcp->pfd);
    free(tcp->slots);
    free(tcp->iov);
    free(tcp);
}

/* ---- the rest of the public calls ---- */

ZAB_API uint16_t zab_tcp_port(const zab_tcp *tcp)
{
    return tcp->port;
}

ZAB_API void zab_tcp_send(zab_tcp *tcp, int64_t to, const void *bytes, size_t len)
{
    zab_tcp_link *l = zab_tcp_link_of(tcp, to);
    if (l && (bytes || len == 0)) zab_tcp_link_send(tcp, l, bytes, len);
}

ZAB_API void zab_tcp_disconnect(zab_tcp *tcp, int64_t to)
{
    zab_tcp_link *l = zab_tcp_link_of(tcp, to);
    if (l && l->state == ZAB_TCP_UP) zab_tcp_link_close(tcp, l);
}

ZAB_API int zab_tcp_watch_fd(zab_tcp *tcp, int fd, void (*on_ready)(void *ctx), void *ctx)
{
    if (fd < 0 || !on_ready) return ZAB_EINVAL;
    if (tcp->nwatch == ZAB_TCP_MAX_WATCH) return ZAB_ETOOBIG;
    tcp->watch[tcp->nwatch++] = (zab_tcp_watch){ fd, on_ready, ctx };
    return 0;
}

/* One byte makes the read end readable; a full pipe already is, so a
 * failed write loses nothing. write(2) is async-signal-safe, and errno is
 * kept for a caller that is a signal handler. */
ZAB_API void zab_tcp_wake(zab_tcp *tcp)
{
    int saved = errno;
    char b = 1;
    ssize_t n;
    do {
        n = write(tcp->wake_fd[1], &b, 1);
    } while (n < 0 && errno == EINTR);
    errno = saved;
}
