/*
 * tcp_sock.c - the socket calls of the TCP transport: resolving names,
 * the listener, non-blocking dials, per-socket options and the hello.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/tcp.h"
#include "util/codec.h"

enum { LISTEN_BACKLOG = 64 };

static int same_addr(const zab_tcp_addr *a, const struct addrinfo *ai)
{
    return a->len == ai->ai_addrlen && memcmp(&a->sa, ai->ai_addr, a->len) == 0;
}

int zab_tcp_resolve(const char *host, uint16_t port, int passive, zab_tcp_addr *out,
                    uint32_t max, uint32_t *n, char *err, size_t errlen)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc) {
        const char *why = rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc);
        if (err) snprintf(err, errlen, "cannot resolve \"%s\": %s", host, why);
        return ZAB_EIO;
    }
    *n = 0;
    for (const struct addrinfo *ai = res; ai && *n < max; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        if (ai->ai_addrlen > sizeof out->sa) continue;
        int dup = 0;
        for (uint32_t i = 0; i < *n; i++) dup |= same_addr(&out[i], ai);
        if (dup) continue;
        memcpy(&out[*n].sa, ai->ai_addr, ai->ai_addrlen);
        out[*n].len = (socklen_t)ai->ai_addrlen;
        (*n)++;
    }
    freeaddrinfo(res);
    if (*n == 0) {
        if (err) snprintf(err, errlen, "\"%s\" has no IPv4 or IPv6 address", host);
        return ZAB_EIO;
    }
    return 0;
}

static int set_int(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value);
}

int zab_tcp_sock_setup(int fd, int connection)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) return -1;
#ifdef SO_NOSIGPIPE
    /* Where MSG_NOSIGNAL is missing, the socket itself must not raise it. */
    if (set_int(fd, SOL_SOCKET, SO_NOSIGPIPE, 1) < 0) return -1;
#endif
    if (!connection) return 0;
    /* Peer messages are small and latency-bound: never wait to coalesce. */
    if (set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1) < 0) return -1;
    return set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
}

void zab_tcp_close_fd(int fd)
{
    if (fd < 0) return;
    int saved = errno;
    close(fd);
    errno = saved;
}

static int listen_one(const zab_tcp_addr *a, int *fd, const char **op)
{
    int s = socket(a->sa.ss_family, SOCK_STREAM, 0);
    *op = "socket";
    if (s < 0) return -1;
    *op = "setsockopt";
    if (zab_tcp_sock_setup(s, 0) < 0 || set_int(s, SOL_SOCKET, SO_REUSEADDR, 1) < 0) goto fail;
    *op = "bind";
    if (bind(s, (const struct sockaddr *)&a->sa, a->len) < 0) goto fail;
    *op = "listen";
    if (listen(s, LISTEN_BACKLOG) < 0) goto fail;
    *fd = s;
    return 0;
fail:
    zab_tcp_close_fd(s);
    return -1;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return 0;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

int zab_tcp_listen(const zab_tcp_addr *addrs, uint32_t n, const char *host, uint16_t port,
                   int *fd, uint16_t *bound, char *err, size_t errlen)
{
    const char *op = "socket";
    int why = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (listen_one(&addrs[i], fd, &op) == 0) {
            *bound = bound_port(*fd);
            if (*bound) return 0;
            op = "getsockname";
            why = errno;
            zab_tcp_close_fd(*fd);
            continue;
        }
        why = errno;
    }
    *fd = -1;
    if (err) snprintf(err, errlen, "listen on %s:%u: %s: %s", host, (unsigned)port, op, strerror(why));
    return ZAB_EIO;
}

int zab_tcp_dial(const zab_tcp_addr *addr, int *done)
{
    int fd = socket(addr->sa.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (zab_tcp_sock_setup(fd, 1) < 0) {
        zab_tcp_close_fd(fd);
        return -1;
    }
    *done = 0;
    if (connect(fd, (const struct sockaddr *)&addr->sa, addr->len) == 0) {
        *done = 1;
        return fd;
    }
    /* An interrupted connect goes on asynchronously, as an in-progress one. */
    if (errno == EINPROGRESS || errno == EINTR) return fd;
    zab_tcp_close_fd(fd);
    return -1;
}

int zab_tcp_dial_result(int fd)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) return errno ? errno : EIO;
    return soerr;
}

void zab_tcp_hello_encode(int64_t sid, uint8_t out[ZAB_TCP_HELLO])
{
    uint32_t magic = ZAB_TCP_MAGIC;
    uint64_t s = (uint64_t)sid;
    for (int i = 0; i < 4; i++) out[i] = (uint8_t)(magic >> (24 - 8 * i));
    out[4] = 0;
    out[5] = ZAB_TCP_VERSION;
    for (int i = 0; i < 8; i++) out[6 + i] = (uint8_t)(s >> (56 - 8 * i));
}

int64_t zab_tcp_hello_decode(const uint8_t hello[ZAB_TCP_HELLO])
{
    zab_reader r = zab_reader_init(hello, ZAB_TCP_HELLO);
    uint32_t magic = zab_get_u32(&r);
    const uint8_t *v = zab_get_bytes(&r, 2);
    int64_t sid = zab_get_i64(&r);
    if (r.err || magic != ZAB_TCP_MAGIC || !v || (v[0] << 8 | v[1]) != ZAB_TCP_VERSION) return 0;
    return sid;
}
