/*
 * net.h - zabd's client side: the listener on clientPortAddress:clientPort
 * and one thread that polls every client connection, reads their frames,
 * writes what the server has for them, and keeps their time limits.
 *
 * Three kinds of thread meet here. The net thread owns the sockets and
 * every connection's input. The ready host's server thread completes
 * requests and delivers watch events: it only appends a connection's
 * output (under that connection's lock) and wakes the net thread. The pool
 * threads run the session calls that wait (open, resume, setWatches,
 * close, abandon) and hand each finished one back to the net thread.
 */
#ifndef ZABD_NET_H
#define ZABD_NET_H

#include <stddef.h>
#include <stdint.h>

#include <zab.h>

struct zabd_config;
struct zabd_log;
struct zabd_conn;
struct zabd_task;
struct zabd_net;

struct zabd_net_config {
    const char *host;              /* address to listen on; NULL = every interface */
    uint16_t port;                 /* 0: any free port (see zabd_net_port) */
    uint32_t max_client_cnxns;     /* connections per client address; 0 = no limit */
    uint32_t max_frame;            /* largest frame a client may send;
                                      0 = jute.maxbuffer + ZABD_FRAME_SLACK */
    uint64_t max_output;           /* bytes waiting for one client before its
                                      connection is dropped; 0 = 32 MiB */
    uint32_t max_inflight;         /* a connection's requests under way before
                                      its reading pauses; 0 = 1000 */
    uint32_t handshake_ms;         /* a connection without a session is closed
                                      after this; 0 = 10000 */
    unsigned threads;              /* pool threads; 0 = 4 */
    const struct zabd_config *zoo; /* whitelist and conf for four-letter words;
                                      must outlive the net */
    struct zabd_log *log;          /* may be NULL */
};

/* ZooKeeper refuses a frame over jute.maxbuffer; a request also carries its
 * path, ACL and headers around a znode's data, which may itself be that
 * large, hence some room above it. */
enum { ZABD_FRAME_SLACK = 64 * 1024, ZABD_DEFAULT_MAXBUFFER = 1024 * 1024 };

/* Counters of the whole listener, for the four-letter words. */
struct zabd_net_stats {
    uint64_t received;             /* frames (and four-letter words) read */
    uint64_t sent;                 /* frames written */
    uint64_t answered;             /* requests answered (for the latency) */
    uint64_t latency_sum_ms;
    int64_t latency_min_ms;        /* -1 before the first */
    int64_t latency_max_ms;
    uint64_t auth_failed;
    uint64_t rejected;             /* connections refused (maxClientCnxns) */
    uint64_t outstanding;          /* requests under way */
    uint32_t connections;
};

/* The settings zoo.cfg gives (its client address and port, maxClientCnxns,
 * jute.maxbuffer, the four-letter words), the rest left to the defaults. */
void zabd_net_config_from(const struct zabd_config *zoo, struct zabd_log *log,
                          struct zabd_net_config *out);

/* Listen and start the net thread and the pool. 0, or ZAB_EIO (the address
 * cannot be listened on) / ZAB_ENOMEM with err (errlen bytes) saying why. */
int zabd_net_start(const struct zabd_net_config *cfg, zab_server *server, struct zabd_net **out,
                   char *err, size_t errlen);
/* The port listened on. */
uint16_t zabd_net_port(const struct zabd_net *net);
/* Stop: refuse new connections, stop reading requests, give those under
 * way up to drain_ms to be answered and written, then close every
 * connection (their sessions live on, as after any disconnection), join
 * the threads and free. */
void zabd_net_stop(struct zabd_net *net, int drain_ms);

/* ---- for conn.c and words.c ---- */

zab_server *zabd_net_server(const struct zabd_net *net);
struct zabd_log *zabd_net_log(const struct zabd_net *net);
const struct zabd_net_config *zabd_net_config(const struct zabd_net *net);
int64_t zabd_net_started_ms(const struct zabd_net *net);

/* Run a blocking task on the pool; the net thread hears of its end
 * (zabd_conn_job_done). */
void zabd_net_run(struct zabd_net *net, struct zabd_task *task);
/* The connection has new output or news: the net thread looks at it soon.
 * Any thread. */
void zabd_net_wake(struct zabd_net *net, struct zabd_conn *conn);
/* Net thread: close every other connection of session (a client that
 * reconnects takes its session over, as ZooKeeper closes the older
 * connection). */
void zabd_net_close_session(struct zabd_net *net, int64_t session, const struct zabd_conn *keep);
/* Net thread: the connections, for cons and stat. */
void zabd_net_each_conn(struct zabd_net *net, void (*fn)(void *ctx, struct zabd_conn *c),
                        void *ctx);

/* Counters; any thread. */
void zabd_net_count_received(struct zabd_net *net);
void zabd_net_count_sent(struct zabd_net *net, uint64_t frames);
void zabd_net_count_answered(struct zabd_net *net, int64_t latency_ms);
void zabd_net_count_auth_failed(struct zabd_net *net);
void zabd_net_count_outstanding(struct zabd_net *net, int delta);
void zabd_net_stats(struct zabd_net *net, struct zabd_net_stats *out);

/* The milliseconds of CLOCK_MONOTONIC and of the wall clock. */
int64_t zabd_mono_ms(void);
int64_t zabd_wall_ms(void);

#endif
