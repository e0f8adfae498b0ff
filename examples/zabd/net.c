/*
 * net.c - the client listener and the net thread's poll loop (see net.h).
 *
 * Each turn the loop polls the listener, a wake pipe and every socket;
 * then it takes the jobs the pool has finished, looks at the connections
 * other threads woke, accepts, reads and writes, and every CHECK_MS keeps
 * the time limits. A connection leaves the table only once it may be
 * freed: its socket closed, no job running, its client let go.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "net.h"
#include "pool.h"

enum {
    CHECK_MS = 100,               /* time limits are kept this often */
    ACCEPT_PAUSE_MS = 100,        /* after accept failed for want of resources */
    DEFAULT_MAX_OUTPUT = 32 << 20,
    DEFAULT_MAX_INFLIGHT = 1000,
    DEFAULT_HANDSHAKE_MS = 10000,
    DEFAULT_THREADS = 4
};

struct peer_count {
    char ip[64];
    uint32_t n;
};

struct zabd_net {
    struct zabd_net_config cfg;   /* defaults applied; host is ours */
    zab_server *server;
    int listen_fd;
    uint16_t port;
    int wake_rd, wake_wr;
    int64_t started_ms;
    struct zabd_pool *pool;
    pthread_t thread;

    /* Shared: under lock. */
    pthread_mutex_t lock;
    struct zabd_conn *woken;      /* connections other threads have news for */
    struct zabd_task *done, *done_tail; /* jobs the pool has finished */
    int stop;
    int drain_ms;

    pthread_mutex_t stats_lock;
    struct zabd_net_stats stats;

    /* The net thread's. */
    struct zabd_conn **conns;
    uint32_t nconns, cap;
    struct pollfd *pfds;
    struct zabd_conn **polled;    /* the connection of each pollfd */
    uint32_t pcap;
    struct zabd_conn **batch;     /* the woken connections being looked at */
    uint32_t batch_cap;
    struct peer_count *peers;
    uint32_t npeers, peers_cap;
    int stopping;
    int64_t drain_until;
    int64_t accept_after;         /* the listener rests until then */
    int64_t accept_warned;        /* when that was last logged */
};

#define NET_SAY(net, level, ...) zabd_say((net)->cfg.log, level, __VA_ARGS__)

int64_t zabd_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t zabd_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- accessors and counters ---- */

zab_server *zabd_net_server(const struct zabd_net *net) { return net->server; }
struct zabd_log *zabd_net_log(const struct zabd_net *net) { return net->cfg.log; }
const struct zabd_net_config *zabd_net_config(const struct zabd_net *net) { return &net->cfg; }
int64_t zabd_net_started_ms(const struct zabd_net *net) { return net->started_ms; }
uint16_t zabd_net_port(const struct zabd_net *net) { return net->port; }

void zabd_net_count_received(struct zabd_net *net)
{
    pthread_mutex_lock(&net->stats_lock);
    net->stats.received++;
    pthread_mutex_unlock(&net->stats_lock);
}

void zabd_net_count_sent(struct zabd_net *net, uint64_t frames)
{
    pthread_mutex_lock(&net->stats_lock);
    net->stats.sent += frames;
    pthread_mutex_unlock(&net->stats_lock);
}

void zabd_net_count_answered(struct zabd_net *net, int64_t latency_ms)
{
    pthread_mutex_lock(&net->stats_lock);
    struct zabd_net_stats *s = &net->stats;
    s->answered++;
    s->latency_sum_ms += (uint64_t)latency_ms;
    if (s->latency_min_ms < 0 || latency_ms < s->latency_min_ms) s->latency_min_ms = latency_ms;
    if (latency_ms > s->latency_max_ms) s->latency_max_ms = latency_ms;
    pthread_mutex_unlock(&net->stats_lock);
}

void zabd_net_count_auth_failed(struct zabd_net *net)
{
    pthread_mutex_lock(&net->stats_lock);
    net->stats.auth_failed++;
    pthread_mutex_unlock(&net->stats_lock);
}

void zabd_net_count_outstanding(struct zabd_net *net, int delta)
{
    pthread_mutex_lock(&net->stats_lock);
    net->stats.outstanding += (uint64_t)(int64_t)delta;
    pthread_mutex_unlock(&net->stats_lock);
}

void zabd_net_stats(struct zabd_net *net, struct zabd_net_stats *out)
{
    pthread_mutex_lock(&net->stats_lock);
    *out = net->stats;
    pthread_mutex_unlock(&net->stats_lock);
}

/* ---- other threads' news ---- */

static void poke(struct zabd_net *net)
{
    static const char b = 'w';
    /* A full pipe is already readable: the loop will wake. */
    ssize_t n = write(net->wake_wr, &b, 1);
    (void)n;
}

void zabd_net_wake(struct zabd_net *net, struct zabd_conn *c)
{
    pthread_mutex_lock(&net->lock);
    int first = net->woken == NULL;
    if (!c->woken) {
        c->woken = 1;
        c->next_woken = net->woken;
        net->woken = c;
    }
    pthread_mutex_unlock(&net->lock);
    if (first) poke(net);
}

static void task_finished(void *ctx, struct zabd_task *task)
{
    struct zabd_net *net = ctx;
    pthread_mutex_lock(&net->lock);
    task->next = NULL;
    if (net->done_tail) net->done_tail->next = task;
    else net->done = task;
    net->done_tail = task;
    pthread_mutex_unlock(&net->lock);
    poke(net);
}

void zabd_net_run(struct zabd_net *net, struct zabd_task *task)
{
    zabd_pool_push(net->pool, task);
}

/* ---- the table of connections ---- */

static struct peer_count *peer_of(struct zabd_net *net, const char *ip)
{
    for (uint32_t i = 0; i < net->npeers; i++)
        if (!strcmp(net->peers[i].ip, ip)) return &net->peers[i];
    return NULL;
}

static void peer_gone(struct zabd_net *net, const char *ip)
{
    struct peer_count *p = peer_of(net, ip);
    if (!p || --p->n) return;
    *p = net->peers[--net->npeers];
}

static int peer_add(struct zabd_net *net, const char *ip)
{
    struct peer_count *p = peer_of(net, ip);
    if (p) {
        p->n++;
        return 0;
    }
    if (net->npeers == net->peers_cap) {
        uint32_t cap = net->peers_cap ? 2 * net->peers_cap : 16;
        struct peer_count *grown = realloc(net->peers, cap * sizeof *grown);
        if (!grown) return -1;
        net->peers = grown;
        net->peers_cap = cap;
    }
    p = &net->peers[net->npeers++];
    snprintf(p->ip, sizeof p->ip, "%s", ip);
    p->n = 1;
    return 0;
}

static void count_connections(struct zabd_net *net)
{
    uint32_t open = 0;
    for (uint32_t i = 0; i < net->nconns; i++) open += net->conns[i]->fd >= 0;
    pthread_mutex_lock(&net->stats_lock);
    net->stats.connections = open;
    pthread_mutex_unlock(&net->stats_lock);
}

/* Close a connection's socket; it is freed once zabd_conn_finish allows. */
static void close_conn(struct zabd_net *net, struct zabd_conn *c)
{
    if (c->fd < 0) return;
    peer_gone(net, c->ip);
    if (zabd_conn_finish(c) == ZABD_FREE) c->gone = 1;
}

static void act(struct zabd_net *net, struct zabd_conn *c, int what)
{
    if (what == ZABD_CLOSE) close_conn(net, c);
    else if (what == ZABD_FREE) c->gone = 1;
}

/* Free the connections that may go. */
static void reap(struct zabd_net *net)
{
    for (uint32_t i = 0; i < net->nconns;) {
        struct zabd_conn *c = net->conns[i];
        if (!c->gone) {
            i++;
            continue;
        }
        pthread_mutex_lock(&net->lock);
        if (c->woken) {
            struct zabd_conn **at = &net->woken;
            while (*at != c) at = &(*at)->next_woken;
            *at = c->next_woken;
        }
        pthread_mutex_unlock(&net->lock);
        net->conns[i] = net->conns[--net->nconns];
        zabd_conn_free(c);
    }
    count_connections(net);
}

void zabd_net_close_session(struct zabd_net *net, int64_t session, const struct zabd_conn *keep)
{
    for (uint32_t i = 0; i < net->nconns; i++) {
        struct zabd_conn *c = net->conns[i];
        if (c == keep || c->session != session || c->fd < 0) continue;
        NET_SAY(net, ZABD_INFO, "%s: session 0x%" PRIx64 " reconnected elsewhere: closing", c->addr,
            (uint64_t)session);
        close_conn(net, c);
    }
}

void zabd_net_each_conn(struct zabd_net *net, void (*fn)(void *ctx, struct zabd_conn *c),
                        void *ctx)
{
    for (uint32_t i = 0; i < net->nconns; i++)
        if (net->conns[i]->fd >= 0) fn(ctx, net->conns[i]);
}

/* ---- accepting ---- */

/* The peer's address as ZooKeeper prints it (IPv4 without its IPv6 dress). */
static void peer_name(const struct sockaddr_storage *ss, char *ip, size_t cap, unsigned *port)
{
    *port = 0;
    snprintf(ip, cap, "?");
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, (socklen_t)cap);
        *port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
            inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, (socklen_t)cap);
        else
            inet_ntop(AF_INET6, &a->sin6_addr, ip, (socklen_t)cap);
        *port = ntohs(a->sin6_port);
    }
}

static int add_conn(struct zabd_net *net, struct zabd_conn *c)
{
    if (net->nconns == net->cap) {
        uint32_t cap = net->cap ? 2 * net->cap : 64;
        struct zabd_conn **grown = realloc(net->conns, cap * sizeof *grown);
        if (!grown) return -1;
        net->conns = grown;
        net->cap = cap;
    }
    net->conns[net->nconns++] = c;
    return 0;
}

static void accept_one(struct zabd_net *net, int fd, const struct sockaddr_storage *ss)
{
    char ip[64];
    unsigned port;
    peer_name(ss, ip, sizeof ip, &port);
    struct peer_count *p = peer_of(net, ip);
    uint32_t max = net->cfg.max_client_cnxns;
    if (max && p && p->n >= max) {
        NET_SAY(net, ZABD_WARN, "too many connections from /%s: the most is %" PRIu32, ip, max);
        pthread_mutex_lock(&net->stats_lock);
        net->stats.rejected++;
        pthread_mutex_unlock(&net->stats_lock);
        close(fd);
        return;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct zabd_conn *c = zabd_conn_new(net, fd, ip, port);
    if (!c || add_conn(net, c) || peer_add(net, ip)) {
        if (c && net->nconns && net->conns[net->nconns - 1] == c) net->nconns--;
        zabd_conn_free(c);
        close(fd);
        NET_SAY(net, ZABD_WARN, "no memory for a connection from /%s:%u", ip, port);
        return;
    }
    NET_SAY(net, ZABD_DEBUG, "/%s:%u: connected", ip, port);
}

/* Non-blocking and closed on exec. 0 or -1. */
static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK)) return -1;
    int fdfl = fcntl(fd, F_GETFD);
    return fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) ? -1 : 0;
}

static void accept_all(struct zabd_net *net)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept(net->listen_fd, (struct sockaddr *)&ss, &len);
        if (fd >= 0 && set_flags(fd)) {
            close(fd);
            continue;
        }
        if (fd >= 0) {
            accept_one(net, fd, &ss);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            /* Out of descriptors or memory: the listener stays readable,
             * so it rests a while rather than spin. */
            int64_t now = zabd_mono_ms();
            if (now - net->accept_warned >= 1000) {
                NET_SAY(net, ZABD_WARN, "accept: %s: pausing", strerror(errno));
                net->accept_warned = now;
            }
            net->accept_after = now + ACCEPT_PAUSE_MS;
        }
        return;
    }
}

/* ---- the loop ---- */

static void take_news(struct zabd_net *net)
{
    char sink[256];
    while (read(net->wake_rd, sink, sizeof sink) > 0) {
    }
    pthread_mutex_lock(&net->lock);
    struct zabd_task *done = net->done;
    net->done = net->done_tail = NULL;
    /* Copied out: once unflagged, a connection may be woken again and
     * relinked while we look at the others. */
    uint32_t n = 0;
    for (struct zabd_conn *c = net->woken; c; c = c->next_woken) n++;
    if (n > net->batch_cap) {
        struct zabd_conn **grown = realloc(net->batch, n * sizeof *grown);
        if (grown) {
            net->batch = grown;
            net->batch_cap = n;
        }
    }
    uint32_t taken = 0;
    while (net->woken && taken < net->batch_cap) {
        struct zabd_conn *c = net->woken;
        net->woken = c->next_woken;
        c->woken = 0;
        net->batch[taken++] = c;
    }
    pthread_mutex_unlock(&net->lock);

    while (done) {
        struct zabd_job *job = (struct zabd_job *)done;
        done = done->next;
        struct zabd_conn *c = job->conn;
        act(net, c, zabd_conn_job_done(job));
    }
    /* Any left on the list (no memory for the batch) wait for the next turn. */
    for (uint32_t i = 0; i < taken; i++)
        if (!net->batch[i]->gone) act(net, net->batch[i], zabd_conn_woken(net->batch[i]));
}

static int build_poll(struct zabd_net *net)
{
    uint32_t need = net->nconns + 2;
    if (need > net->pcap) {
        struct pollfd *p = realloc(net->pfds, need * sizeof *p);
        if (p) net->pfds = p;
        struct zabd_conn **q = realloc(net->polled, need * sizeof *q);
        if (q) net->polled = q;
        if (!p || !q) return -1;
        net->pcap = need;
    }
    uint32_t n = 0;
    net->pfds[n++] = (struct pollfd){ .fd = net->wake_rd, .events = POLLIN };
    int resting = zabd_mono_ms() < net->accept_after;
    net->pfds[n++] = (struct pollfd){ .fd = net->stopping || resting ? -1 : net->listen_fd,
                                      .events = POLLIN };
    for (uint32_t i = 0; i < net->nconns; i++) {
        struct zabd_conn *c = net->conns[i];
        if (c->fd < 0) continue;
        net->polled[n] = c;
        net->pfds[n++] = (struct pollfd){ .fd = c->fd, .events = zabd_conn_events(c) };
    }
    return (int)n;
}

static void serve_sockets(struct zabd_net *net, int n)
{
    for (int i = 2; i < n; i++) {
        short ev = net->pfds[i].revents;
        struct zabd_conn *c = net->polled[i];
        if (!ev || c->gone || c->fd < 0) continue;
        int what = ZABD_KEEP;
        if (ev & (POLLIN | POLLHUP | POLLERR)) what = zabd_conn_read(c);
        if (ev & POLLNVAL) what = ZABD_CLOSE;
        if (what == ZABD_KEEP && (ev & POLLOUT)) what = zabd_conn_write(c);
        act(net, c, what);
    }
}

/* A server that stops serving (it lost its leader, or stopped) closes its
 * clients' connections, as ZooKeeper's do: their clients move to a server
 * that serves, or come back once this one does. */
static void watch_serving(struct zabd_net *net)
{
    zab_node_stats st;
    zab_server_stats(net->server, &st);
    if (st.serving && !st.stopped) return;
    uint32_t closed = 0;
    for (uint32_t i = 0; i < net->nconns; i++) {
        struct zabd_conn *c = net->conns[i];
        if (c->state != ZABD_CONN_READY || c->fd < 0) continue;
        close_conn(net, c);
        closed++;
    }
    if (closed)
        NET_SAY(net, ZABD_WARN, "not serving (no leader): %" PRIu32 " client connections closed",
                closed);
}

static void keep_time(struct zabd_net *net, int64_t now)
{
    watch_serving(net);
    for (uint32_t i = 0; i < net->nconns; i++) {
        struct zabd_conn *c = net->conns[i];
        if (!c->gone) act(net, c, zabd_conn_check_time(c, now));
    }
}

/* Stopping: no more requests; a connection closes once its requests are
 * answered and written, or when the drain time is up. */
static void wind_down(struct zabd_net *net, int64_t now)
{
    if (!net->stopping) {
        net->stopping = 1;
        close(net->listen_fd);
        net->listen_fd = -1;
        pthread_mutex_lock(&net->lock);
        net->drain_until = now + net->drain_ms;
        pthread_mutex_unlock(&net->lock);
        for (uint32_t i = 0; i < net->nconns; i++) zabd_conn_stop_reading(net->conns[i]);
    }
    for (uint32_t i = 0; i < net->nconns; i++) {
        struct zabd_conn *c = net->conns[i];
        if (c->fd >= 0 && (now >= net->drain_until || !zabd_conn_draining(c))) close_conn(net, c);
    }
}

static void *net_main(void *arg)
{
    struct zabd_net *net = arg;
    int64_t next_check = zabd_mono_ms() + CHECK_MS;
    for (;;) {
        int64_t now = zabd_mono_ms();
        pthread_mutex_lock(&net->lock);
        int stop = net->stop;
        pthread_mutex_unlock(&net->lock);
        if (stop) {
            wind_down(net, now);
            reap(net);
            if (net->nconns == 0) break;
        }
        int n = build_poll(net);
        if (n < 0) {
            NET_SAY(net, ZABD_ERROR, "no memory to poll the connections");
            n = 2;
        }
        int wait = (int)(next_check > now ? next_check - now : 0);
        int ready = poll(net->pfds, (nfds_t)n, stop ? (wait < 10 ? wait : 10) : wait);
        if (ready < 0 && errno != EINTR) NET_SAY(net, ZABD_ERROR, "poll: %s", strerror(errno));
        take_news(net);
        if (ready > 0 && (net->pfds[1].revents & POLLIN)) accept_all(net);
        if (ready > 0) serve_sockets(net, n);
        now = zabd_mono_ms();
        if (now >= next_check) {
            keep_time(net, now);
            next_check = now + CHECK_MS;
        }
        reap(net);
    }
    return NULL;
}

/* ---- start and stop ---- */

void zabd_net_config_from(const struct zabd_config *zoo, struct zabd_log *log,
                          struct zabd_net_config *out)
{
    uint32_t maxbuffer = zoo->jute_maxbuffer ? zoo->jute_maxbuffer : ZABD_DEFAULT_MAXBUFFER;
    *out = (struct zabd_net_config){
        .host = zoo->client_host,
        .port = zoo->client_port,
        .max_client_cnxns = zoo->max_client_cnxns,
        .max_frame = maxbuffer + ZABD_FRAME_SLACK,
        .zoo = zoo,
        .log = log,
    };
}

static int listen_on(struct zabd_net *net, char *err, size_t errlen)
{
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)net->cfg.port);
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
    /* Every interface: IPv6's wildcard also takes IPv4 where it can. */
    const char *host = net->cfg.host;
    hints.ai_family = host ? AF_UNSPEC : AF_INET6;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc && !host) {
        hints.ai_family = AF_INET;
        rc = getaddrinfo(NULL, port, &hints, &res);
    }
    if (rc) {
        snprintf(err, errlen, "client address %s: %s", host ? host : "*", gai_strerror(rc));
        return ZAB_EIO;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, 0);
        if (fd >= 0 && set_flags(fd)) {
            close(fd);
            fd = -1;
        }
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1, zero = 0;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (a->ai_family == AF_INET6 && !host)
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        if (bind(fd, a->ai_addr, a->ai_addrlen) || listen(fd, SOMAXCONN)) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%u: %s", host ? host : "*",
                 (unsigned)net->cfg.port, strerror(saved));
        return ZAB_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    unsigned bound = net->cfg.port;
    char ip[64];
    if (!getsockname(fd, (struct sockaddr *)&ss, &len)) peer_name(&ss, ip, sizeof ip, &bound);
    net->listen_fd = fd;
    net->port = (uint16_t)bound;
    return 0;
}

static void net_free(struct zabd_net *net)
{
    if (net->listen_fd >= 0) close(net->listen_fd);
    if (net->wake_rd >= 0) close(net->wake_rd);
    if (net->wake_wr >= 0) close(net->wake_wr);
    pthread_mutex_destroy(&net->lock);
    pthread_mutex_destroy(&net->stats_lock);
    free((char *)net->cfg.host);
    free(net->conns);
    free(net->pfds);
    free(net->polled);
    free(net->batch);
    free(net->peers);
    free(net);
}

int zabd_net_start(const struct zabd_net_config *cfg, zab_server *server, struct zabd_net **out,
                   char *err, size_t errlen)
{
    *out = NULL;
    struct zabd_net *net = calloc(1, sizeof *net);
    if (!net) return ZAB_ENOMEM;
    net->listen_fd = net->wake_rd = net->wake_wr = -1;
    pthread_mutex_init(&net->lock, NULL);
    pthread_mutex_init(&net->stats_lock, NULL);
    net->cfg = *cfg;
    net->cfg.host = cfg->host ? strdup(cfg->host) : NULL;
    if (!net->cfg.max_frame) net->cfg.max_frame = ZABD_DEFAULT_MAXBUFFER + ZABD_FRAME_SLACK;
    if (!net->cfg.max_output) net->cfg.max_output = DEFAULT_MAX_OUTPUT;
    if (!net->cfg.max_inflight) net->cfg.max_inflight = DEFAULT_MAX_INFLIGHT;
    if (!net->cfg.handshake_ms) net->cfg.handshake_ms = DEFAULT_HANDSHAKE_MS;
    if (!net->cfg.threads) net->cfg.threads = DEFAULT_THREADS;
    net->server = server;
    net->started_ms = zabd_wall_ms();
    net->stats.latency_min_ms = -1;
    int fds[2];
    int piped = pipe(fds) == 0;
    if (piped && (set_flags(fds[0]) || set_flags(fds[1]))) {
        close(fds[0]);
        close(fds[1]);
        piped = 0;
    }
    if ((cfg->host && !net->cfg.host) || !piped) {
        snprintf(err, errlen, "no memory or descriptors for the client listener");
        net_free(net);
        return ZAB_ENOMEM;
    }
    net->wake_rd = fds[0];
    net->wake_wr = fds[1];
    int rc = listen_on(net, err, errlen);
    if (rc) {
        net_free(net);
        return rc;
    }
    if (zabd_pool_start(&net->pool, net->cfg.threads, task_finished, net)) {
        snprintf(err, errlen, "cannot start the session threads");
        net_free(net);
        return ZAB_ENOMEM;
    }
    if (pthread_create(&net->thread, NULL, net_main, net)) {
        snprintf(err, errlen, "cannot start the client thread");
        zabd_pool_stop(net->pool);
        net_free(net);
        return ZAB_ENOMEM;
    }
    NET_SAY(net, ZABD_INFO, "serving clients on %s:%u", net->cfg.host ? net->cfg.host : "*",
        (unsigned)net->port);
    *out = net;
    return 0;
}

void zabd_net_stop(struct zabd_net *net, int drain_ms)
{
    if (!net) return;
    pthread_mutex_lock(&net->lock);
    net->stop = 1;
    net->drain_ms = drain_ms < 0 ? 0 : drain_ms;
    pthread_mutex_unlock(&net->lock);
    poke(net);
    pthread_join(net->thread, NULL);
    /* Every connection is gone, so no job is left. */
    zabd_pool_stop(net->pool);
    NET_SAY(net, ZABD_INFO, "client listener closed");
    net_free(net);
}
