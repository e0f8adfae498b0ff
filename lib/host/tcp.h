/*
 * tcp.h - the TCP peer transport, shared by its parts:
 *
 *   tcp.c       open, close, configuration and the public calls
 *   tcp_sock.c  sockets: name resolution, the listener, dialing, options
 *   tcp_link.c  one connection: the output queue, writes, framed reads,
 *               up and down reports
 *   tcp_poll.c  the loop: timers, accepting and checking handshakes, the
 *               poll(2) set and dispatching what it reports
 *
 * Wire format (big-endian). The dialer, always the server with the larger
 * sid, first sends a hello: u32 ZAB_TCP_MAGIC, u16 ZAB_TCP_VERSION, i64 its
 * sid. After it, in both directions, frames: u32 length, then that many
 * bytes of one message.
 *
 * Callbacks run only from zab_tcp_poll: a connection closed by a call
 * (zab_tcp_send overflowing, zab_tcp_disconnect), typically made by the node
 * from inside one of its own calls, is closed at once but reported down by
 * the next zab_tcp_poll, so the host never re-enters its node.
 */
#ifndef ZAB_HOST_TCP_H
#define ZAB_HOST_TCP_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "zab.h"

enum {
    ZAB_TCP_MAGIC = 0x5a414254, /* "ZABT" */
    ZAB_TCP_VERSION = 1,
    ZAB_TCP_HELLO = 14,         /* magic, version, sid */
    ZAB_TCP_MAX_WATCH = 8,
    ZAB_TCP_MAX_PENDING = 32,   /* accepted connections awaiting a hello */
    ZAB_TCP_MAX_ADDRS = 8,      /* addresses kept per resolved name */
    ZAB_TCP_HELLO_MS = 5000,    /* a hello must arrive within this */
    ZAB_TCP_CONNECT_MS = 5000,  /* a dial must complete within this */
    ZAB_TCP_IN_BASE = 64 << 10  /* read buffer kept between frames */
};

/* Link states. */
enum {
    ZAB_TCP_IDLE = 0, /* no connection (a dialer waits for its next dial) */
    ZAB_TCP_DIALING,  /* non-blocking connect under way */
    ZAB_TCP_UP        /* connected, reported up */
};

/* One queued frame: its length prefix and message, written from off. */
typedef struct zab_tcp_frame {
    struct zab_tcp_frame *next;
    size_t len;
    size_t off;
    uint8_t bytes[];
} zab_tcp_frame;

typedef struct zab_tcp_addr {
    struct sockaddr_storage sa;
    socklen_t len;
} zab_tcp_addr;

/* Everything about one peer and the one connection to it. */
typedef struct zab_tcp_link {
    int64_t sid;
    char *host;
    uint16_t port;
    int dialer;              /* we dial it (our sid is the larger) */
    zab_tcp_addr addrs[ZAB_TCP_MAX_ADDRS]; /* dialer: where to dial */
    uint32_t naddrs, next_addr;

    int fd;                  /* -1 when IDLE */
    int state;
    uint64_t gen;            /* bumped whenever fd is closed */
    int down_pending;        /* closed after an up, down not yet reported */
    int64_t deadline;        /* IDLE dialer: next dial; DIALING: give up */
    uint32_t backoff_ms;     /* delay before the next dial after a failure */
    int64_t up_ms;           /* when it came up */
    int heard;               /* a frame arrived on this connection */

    zab_tcp_frame *head, *tail;
    uint64_t queued;         /* bytes held by the queue, overhead included */

    uint8_t *in;             /* unparsed input: whole frames, then a part */
    size_t in_len, in_cap;
    int delivering;          /* inside on_message: keep `in` allocated */
} zab_tcp_link;

/* An accepted connection that has not yet named itself. */
typedef struct zab_tcp_pending {
    uint64_t id;             /* unique over the transport's life */
    int fd;
    uint32_t got;
    int64_t deadline;
    uint8_t hello[ZAB_TCP_HELLO];
} zab_tcp_pending;

typedef struct zab_tcp_watch {
    int fd;
    void (*on_ready)(void *ctx);
    void *ctx;
} zab_tcp_watch;

/* What one entry of the poll set stands for. */
typedef struct zab_tcp_slot {
    int kind;     /* ZAB_TCP_SLOT_* */
    uint32_t idx; /* into links or watch */
    uint64_t gen; /* the link's gen, or the pending entry's id, at build time */
} zab_tcp_slot;

enum { ZAB_TCP_SLOT_WAKE, ZAB_TCP_SLOT_LISTEN, ZAB_TCP_SLOT_PENDING, ZAB_TCP_SLOT_LINK,
       ZAB_TCP_SLOT_WATCH };

struct zab_tcp {
    int64_t sid;
    uint32_t max_frame;
    uint64_t max_queued;
    uint32_t backoff_min, backoff_max;
    void *ctx;
    void (*on_message)(void *ctx, int64_t from, const void *bytes, size_t len);
    void (*on_up)(void *ctx, int64_t sid);
    void (*on_down)(void *ctx, int64_t sid);

    zab_tcp_link *links;     /* every peer but this server */
    uint32_t nlinks;

    int listen_fd;
    uint16_t port;
    int64_t listen_paused;   /* out of descriptors: accept again after this */
    int wake_fd[2];          /* non-blocking pipe: read end, write end */

    zab_tcp_pending pending[ZAB_TCP_MAX_PENDING]; /* oldest first */
    uint32_t npending;
    uint64_t next_pending_id;

    zab_tcp_watch watch[ZAB_TCP_MAX_WATCH];
    uint32_t nwatch;

    struct pollfd *pfd;      /* room for every descriptor above */
    zab_tcp_slot *slots;
    struct iovec *iov;
    int iov_max;
};

/* ---- tcp.c ---- */
int64_t zab_tcp_now_ms(void);
zab_tcp_link *zab_tcp_link_of(zab_tcp *tcp, int64_t sid);

/* ---- tcp_sock.c ---- */
/* Resolve host:port into at most max addresses. 0, or ZAB_EIO with err. */
int zab_tcp_resolve(const char *host, uint16_t port, int passive, zab_tcp_addr *out,
                    uint32_t max, uint32_t *n, char *err, size_t errlen);
/* A listening socket on the first of addrs that binds; 0, or ZAB_EIO. */
int zab_tcp_listen(const zab_tcp_addr *addrs, uint32_t n, const char *host, uint16_t port,
                   int *fd, uint16_t *bound, char *err, size_t errlen);
/* Non-blocking, close-on-exec, no SIGPIPE; and TCP_NODELAY and keep-alive
 * for a connection. 0 or -1 (errno). */
int zab_tcp_sock_setup(int fd, int connection);
/* Start a non-blocking connect: the descriptor, with *done set when it
 * completed at once; -1 when it failed at once. */
int zab_tcp_dial(const zab_tcp_addr *addr, int *done);
/* The outcome of a dial the poll reported ready: 0, or the socket's error. */
int zab_tcp_dial_result(int fd);
/* Close (a negative fd is ignored), keeping errno. */
void zab_tcp_close_fd(int fd);
/* The hello a dialer with sid sends. */
void zab_tcp_hello_encode(int64_t sid, uint8_t out[ZAB_TCP_HELLO]);
/* The sid a hello names, or 0 when it is not a hello of this protocol. */
int64_t zab_tcp_hello_decode(const uint8_t hello[ZAB_TCP_HELLO]);

/* ---- tcp_link.c ---- */
/* Take fd as the link's connection and report it up (a down still pending
 * for the link is reported first). With hello set, queue our hello. */
void zab_tcp_link_up(zab_tcp *tcp, zab_tcp_link *l, int fd, int hello);
/* Close the link's connection and free its queue; a reported up becomes a
 * pending down. A dialer schedules its next dial. */
void zab_tcp_link_close(zab_tcp *tcp, zab_tcp_link *l);
/* Report a pending down (callbacks). */
void zab_tcp_link_report(zab_tcp *tcp, zab_tcp_link *l);
/* Queue one message (closing the connection when it cannot be queued). */
void zab_tcp_link_send(zab_tcp *tcp, zab_tcp_link *l, const void *bytes, size_t len);
/* Write what the socket takes. */
void zab_tcp_link_write(zab_tcp *tcp, zab_tcp_link *l);
/* Read what the socket holds and deliver every whole frame. */
void zab_tcp_link_read(zab_tcp *tcp, zab_tcp_link *l);
/* Free the queue and the input buffer. */
void zab_tcp_link_free(zab_tcp_link *l);

#endif
