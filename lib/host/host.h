/*
 * host.h - the ready server and its in-process clients: what server.c,
 * server_loop.c and client.c share.
 *
 * One thread, the server's, drives the node, the storage and the transport.
 * Client threads never touch them: they queue items in the server's inbox
 * (under the server's lock) and wake its poll; the server's thread takes the
 * inbox, submits each request with a fresh cookie and completes it when the
 * node reports the outcome. Whatever a client waits for is published under
 * the server's lock and signalled on the client's condition variable.
 *
 * The server object outlives zab_server_stop while clients still point to
 * it: it is reference counted, and a stopped server answers every client
 * call with ZAB_EFAILED.
 */
#ifndef ZAB_HOST_HOST_H
#define ZAB_HOST_HOST_H

#include <pthread.h>
#include <stdint.h>

#include "util/imap.h"
#include "zab.h"

enum { ZAB_HOST_PASSWD = 16 };

/* What an inbox item asks of the server's thread. */
enum {
    ZAB_HOST_CALL,   /* submit the encoded request, complete through done */
    ZAB_HOST_OPEN,   /* createSession for the client, complete through done */
    ZAB_HOST_RESUME, /* revalidate the client's existing session here */
    ZAB_HOST_WATCHES, /* setWatches: bytes hold zab_host_encode_watches' */
    ZAB_HOST_DETACH  /* forget the client: its calls end, its events stop */
};

typedef struct zab_host_call zab_host_call;
struct zab_host_call {
    zab_host_call *next;      /* in the inbox, the backlog or under way */
    zab_host_call *prev;      /* under way only */
    int kind;                 /* ZAB_HOST_* */
    zab_client *client;
    uint64_t cookie;          /* set when submitted */
    zab_client_done_fn done;  /* called once, on the server's thread */
    void *ctx;
    size_t len;
    uint8_t bytes[];          /* CALL: zab_msg_request_encode's bytes;
                                 RESUME: i64 last zxid seen */
};

struct zab_client {
    zab_server *server;
    int64_t session;
    uint8_t passwd[ZAB_HOST_PASSWD];
    int32_t requested_ms;
    int32_t timeout_ms;       /* negotiated; written by the server's thread */
    zab_client_watch_fn watch;
    void *watch_ctx;
    /* Signalled with the server's lock held when something the client's
     * thread waits for (an open, a call, its detach) has finished. */
    pthread_cond_t cond;
    int detached;             /* under the lock */
    int live;                 /* server's thread: the session is ours here */
    int keep_alive;           /* atomic: the server touches it every turn */
    int touched;              /* atomic: the host saw life (zab_client_touch) */
    /* The connection's identities (zab_client_add_auth), under auth_lock:
     * each request carries a copy. */
    pthread_mutex_t auth_lock;
    zab_id *auth;
    uint32_t nauth;
};

typedef struct zab_host_queue {
    zab_host_call *head, *tail;
} zab_host_queue;

struct zab_server {
    /* Fixed at start. */
    int64_t sid;
    uint16_t port;
    uint32_t tick_ms;
    uint32_t snap_count;
    void (*log)(void *ctx, int level, const char *line);
    void *log_ctx;

    /* Shared: everything below up to the server's own section is guarded
     * by lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;      /* broadcast when stats.serving or stopped change */
    zab_host_queue inbox;
    int stop_requested;
    int stopped;              /* the loop has ended: no call is taken any more */
    int error;                /* what stopped the server, 0 for a requested stop */
    unsigned refs;            /* the server's own, plus one per client */
    int64_t next_session;
    zab_node_stats stats;     /* published by the server's thread each turn */
    zab_tree_stats tree_stats; /* likewise */

    /* The server's thread only (and the starting and stopping threads while
     * it does not run). */
    pthread_t thread;
    int running;              /* the thread has begun: the log is its own */
    zab_node *node;
    zab_storage *storage;
    zab_tcp *tcp;
    int64_t clock_offset;     /* the node's clock: monotonic + offset */
    uint64_t next_cookie;
    zab_host_queue backlog;   /* taken from the inbox, not yet submitted */
    zab_host_call *first, *last; /* under way, in submission order */
    zab_imap pending;         /* cookie -> call under way */
    zab_imap sessions;        /* session -> client, while attached */
    zab_buf scratch;          /* decoded requests point into it */
    int64_t next_touch;
    uint64_t applied;         /* transactions since the last snapshot */
    uint64_t snap_at;         /* take one when applied reaches it */
    int snap_due;
    int failure;              /* the error that ends the loop, once set */
    int in_transport;         /* inside a zab_tcp call made by the node */
    char start_note[256];     /* what storage recovery repaired, for the log */
};

/* server_loop.c, for client.c. */

/* Queue an item for the server's thread and wake it. 0, or ZAB_EFAILED
 * when the server has stopped (the item is not queued). */
int zab_host_post(zab_server *s, zab_host_call *call);

/* server_loop.c, for server.c. */

/* The server's thread, from the start of its loop to its wind-down. */
void *zab_host_run(void *server);
/* Point the node's callbacks and the tree's watch callback at s. */
void zab_host_wire_node(zab_server *s, zab_io *io, zab_tree_config *tree);
/* Point the transport's callbacks at s. */
void zab_host_wire_tcp(zab_server *s, zab_tcp_config *tc);
/* The transport's callback for the storage's sync descriptor; ctx is s. */
void zab_host_storage_synced(void *ctx);
/* Draw how many applied transactions the next snapshot waits for. */
void zab_host_next_snapshot_point(zab_server *s);

/* server.c, for server_loop.c and client.c. */

/* A session id no other session of this ensemble has had. */
int64_t zab_host_new_session(zab_server *s);
/* Take and drop a reference; the last drop frees the server. */
void zab_host_hold(zab_server *s);
void zab_host_release(zab_server *s);
/* The milliseconds of CLOCK_MONOTONIC. */
int64_t zab_host_mono_ms(void);
/* The node's clock, in milliseconds. */
int64_t zab_host_node_now(const zab_server *s);
/* Fill n bytes with randomness from the system. 0 or ZAB_EIO. */
int zab_host_random(void *bytes, size_t n);

/* client.c, for server_loop.c: a setWatches item's bytes. */
typedef struct zab_host_watches {
    int64_t relative_zxid;
    int kind;
    const zab_id *auth;
    uint32_t nauth;
    const zab_str *paths;
    uint32_t npaths;
} zab_host_watches;
/* Decode an item's bytes; the arrays go to scratch (reset). 0, or
 * ZAB_ENOMEM / ZAB_ECORRUPT. */
int zab_host_decode_watches(const void *bytes, size_t len, zab_host_watches *out,
                            zab_buf *scratch);

/* reply_copy.c. */

/* A deep copy of reply in one allocation, freed with zab_reply_free; NULL
 * when memory runs out. */
zab_reply *zab_host_reply_copy(const zab_reply *reply);

#endif
