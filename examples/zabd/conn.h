/*
 * conn.h - a client connection: its state, and what conn.c does with it
 * (frames in, replies out in order, events, four-letter words, time
 * limits, the connection's end); session.c says what the frames mean.
 *
 * Input is the net thread's alone. Output is shared: the server thread
 * completes requests and delivers events into it, so it lives under the
 * connection's lock. Replies leave in the order their requests came:
 * each request that a client matches to its reply takes a slot in a FIFO,
 * filled when its outcome is known, and only the filled slots at the head
 * are written. Events, pings and auth replies are not matched, so they go
 * straight to the output; an event therefore always precedes the reply of
 * any request answered after it, as ZooKeeper orders them.
 */
#ifndef ZABD_CONN_H
#define ZABD_CONN_H

#include <pthread.h>
#include <stdint.h>

#include <zab.h>

#include "pool.h"

struct zabd_net;

/* A request a client matches to its reply, waiting for its outcome. */
struct zabd_slot {
    struct zabd_slot *next;
    struct zabd_conn *conn;
    int32_t xid;
    int32_t opcode;
    int64_t arrived_ms;
    int ready;                 /* frame holds the reply (or nothing: close) */
    int local;                 /* answered here, with the zxid of its arrival */
    int then;                  /* ZABD_THEN_*: what follows the reply */
    zab_buf frame;             /* the whole frame, length prefix included */
    char *sync_path;           /* sync: the path its reply echoes */
    uint32_t sync_len;
};

/* What a reply is followed by. */
enum {
    ZABD_THEN_GO_ON,           /* more requests */
    ZABD_THEN_CLOSE,           /* the connection closes once it is written */
    ZABD_THEN_DROP             /* no reply; the connection closes at once */
};

/* The session calls that wait, run on the pool. */
enum { ZABD_JOB_OPEN, ZABD_JOB_RESUME, ZABD_JOB_WATCHES, ZABD_JOB_CLOSE, ZABD_JOB_ABANDON };

struct zabd_job {
    struct zabd_task task;     /* first: the pool hands this back */
    struct zabd_conn *conn;
    int kind;
    int rc;                    /* the call's outcome */
    zab_client *client;        /* open, resume: the new client */
    int32_t timeout_ms;        /* open: requested */
    int has_read_only;         /* open, resume: mirrored in the reply */
    int64_t session;           /* resume */
    int64_t last_zxid;         /* resume */
    uint8_t passwd[16];        /* resume */
    struct zabd_slot *slot;    /* setWatches, close: the reply's place */
    zab_buf frame;             /* setWatches: the request, which sw points into */
    zab_buf scratch;
    zab_zk_set_watches sw;
};

enum { ZABD_CONN_NEW, ZABD_CONN_READY, ZABD_CONN_CLOSING };

struct zabd_conn {
    struct zabd_net *net;
    char addr[80];             /* "/ip:port", as ZooKeeper names a peer */
    char ip[64];
    int64_t established_ms;    /* wall clock */

    /* The net thread's. */
    int fd;                    /* -1 once closed */
    int state;                 /* ZABD_CONN_* */
    int busy;                  /* a job runs: no input is taken meanwhile */
    zab_buf in;
    size_t in_at;              /* bytes of in already taken */
    zab_buf sending;           /* taken from output, being written */
    size_t sent_at;
    zab_buf scratch;           /* decoded requests point into it */
    zab_client *client;        /* NULL before the handshake and after close */
    int64_t session;
    int32_t timeout_ms;
    int64_t opened_mono_ms;
    int64_t heard_mono_ms;     /* the last frame read */
    zab_id *ids;               /* the connection's identities, for whoAmI */
    uint32_t nids;
    uint64_t received;
    int32_t last_op;
    int32_t last_xid;

    /* Shared with the server thread: under lock. */
    pthread_mutex_t lock;
    struct zabd_slot *head, *tail;
    uint32_t nslots;
    zab_buf output;            /* whole frames, in the order they leave */
    zab_buf early;             /* events that came before the handshake reply */
    int greeted;               /* the handshake reply is in output */
    int then;                  /* ZABD_THEN_*: once set, no more output */
    uint64_t sent;
    uint64_t answered;
    int64_t latency_sum_ms, latency_min_ms, latency_max_ms, last_latency_ms;
    int64_t last_zxid;         /* the highest zxid told to the client */
    int64_t last_reply_wall_ms;

    /* The net's lock: on its list of connections to look at. */
    struct zabd_conn *next_woken;
    int woken;
    /* The net thread's: freed at the end of its turn. */
    int gone;
};

/* A new connection on fd (accepted, non-blocking) from ip, port. NULL when
 * memory runs out. */
struct zabd_conn *zabd_conn_new(struct zabd_net *net, int fd, const char *ip, unsigned port);
/* Free a connection that zabd_conn_finish said may go. */
void zabd_conn_free(struct zabd_conn *c);

/* What the net thread does next with a connection. */
enum { ZABD_KEEP, ZABD_CLOSE, ZABD_FREE };

/* Net thread. Read what the socket has and take the frames: ZABD_KEEP or
 * ZABD_CLOSE. */
int zabd_conn_read(struct zabd_conn *c);
/* Write what is waiting: ZABD_KEEP or ZABD_CLOSE (an error, a dropped
 * connection, or everything written before a close). */
int zabd_conn_write(struct zabd_conn *c);
/* After a wake: take any input that waited, then write. */
int zabd_conn_woken(struct zabd_conn *c);
/* The poll events the connection wants now (0: none). */
short zabd_conn_events(struct zabd_conn *c);
/* Time limits: a connection with no session after handshake_ms, a session
 * silent for its timeout. ZABD_KEEP or ZABD_CLOSE. */
int zabd_conn_check_time(struct zabd_conn *c, int64_t now_mono_ms);
/* Whether requests are still under way or output still waits. */
int zabd_conn_draining(struct zabd_conn *c);
/* Stop taking requests (the server is stopping). */
void zabd_conn_stop_reading(struct zabd_conn *c);
/* Close the socket and let the session go (abandon: it lives on until it
 * expires or the client reconnects). ZABD_FREE when the connection may be
 * freed now, ZABD_KEEP when a job must end first (zabd_conn_job_done then
 * says ZABD_FREE). */
int zabd_conn_finish(struct zabd_conn *c);
/* A job has run: what now (ZABD_KEEP, ZABD_CLOSE, ZABD_FREE). Net thread. */
int zabd_conn_job_done(struct zabd_job *job);

/* ---- for session.c ---- */

/* The server's last applied zxid (for replies answered here). Any thread. */
int64_t zabd_conn_last_zxid(struct zabd_conn *c);
/* The handshake's reply (a whole frame) goes out first, then the events
 * that came before it unless then closes the connection. */
void zabd_conn_greet(struct zabd_conn *c, const zab_buf *reply, int then);
/* Output no request waits for (a ping's or an auth's reply), then what
 * follows it (ZABD_THEN_*). */
void zabd_conn_send(struct zabd_conn *c, const zab_buf *frames, int then);
/* A ping was answered (for the latency counters). */
void zabd_conn_count_ping(struct zabd_conn *c);
/* A request whose reply the client matches: its place in the order.
 * NULL when memory runs out. */
struct zabd_slot *zabd_conn_slot_add(struct zabd_conn *c, int32_t xid, int32_t opcode);
/* The slot's outcome: its frame (possibly none) is ready, then what
 * follows (ZABD_THEN_*). Any thread; one other than the net thread then
 * wakes it (zabd_net_wake). */
void zabd_conn_slot_fill(struct zabd_slot *s, int then);
/* Fill a slot with a bare ReplyHeader carrying err. Net thread. */
void zabd_conn_slot_answer(struct zabd_slot *s, int32_t err, int then);
/* The watch callback of every connection's client (ctx: the connection).
 * Server thread. */
void zabd_conn_on_event(void *ctx, const zab_event *ev);

/* One line for cons (full) or stat (short), appended to out. Net thread. */
void zabd_conn_describe(struct zabd_conn *c, int full, zab_buf *out);

#endif
