/*
 * server.c - zab_server: one node with the file storage and the TCP
 * transport, driven by a thread of its own (server_loop.c). Here: the
 * configuration's checks, start and stop, the statistics, the clock and
 * randomness both files use, and the reference count clients share.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "host/host.h"

enum {
    MAX_SID = 255,           /* a session id holds the sid in one byte */
    MAX_MEMBERS = MAX_SID,
    DEFAULT_SNAP_COUNT = 100000
};

#define FORMAT(a, b) __attribute__((format(printf, a, b)))

/* ---- time and randomness ---- */

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t zab_host_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

/* The node's clock: monotonic, so its timers never jump, but counted from
 * the epoch, so the ctime and mtime it stamps on znodes are wall-clock
 * times as ZooKeeper's are. */
int64_t zab_host_node_now(const zab_server *s)
{
    return zab_host_mono_ms() + s->clock_offset;
}

int zab_host_random(void *bytes, size_t n)
{
    uint8_t *p = bytes;
    while (n) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        p += got, n -= (size_t)got;
    }
    if (!n) return 0;
    /* Kernels without getrandom(2). */
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ZAB_EIO;
    while (n) {
        ssize_t got = read(fd, p, n);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        p += got, n -= (size_t)got;
    }
    close(fd);
    return n ? ZAB_EIO : 0;
}

/* ---- start and stop ---- */

static void set_err(char *err, size_t errlen, const char *fmt, ...) FORMAT(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int check_config(const zab_server_config *cfg, char *err, size_t errlen)
{
    if (!cfg->data_dir || !cfg->data_dir[0]) {
        set_err(err, errlen, "no data directory");
        return ZAB_EINVAL;
    }
    if (!cfg->members || cfg->nmembers == 0 || cfg->nmembers > MAX_MEMBERS) {
        set_err(err, errlen, "an ensemble has 1 to %d members", MAX_MEMBERS);
        return ZAB_EINVAL;
    }
    int self = 0;
    for (uint32_t i = 0; i < cfg->nmembers; i++) {
        const zab_server_member *m = &cfg->members[i];
        if (m->sid <= 0 || m->sid > MAX_SID || !m->host || !m->host[0]) {
            set_err(err, errlen, "member %u: a server id from 1 to %d and a host are required", i,
                    MAX_SID);
            return ZAB_EINVAL;
        }
        for (uint32_t j = 0; j < i; j++)
            if (cfg->members[j].sid == m->sid) {
                set_err(err, errlen, "server id %lld appears twice", (long long)m->sid);
                return ZAB_EINVAL;
            }
        if (m->sid == cfg->sid) self = 1;
    }
    if (!self) {
        set_err(err, errlen, "server id %lld is not a member", (long long)cfg->sid);
        return ZAB_EINVAL;
    }
    return 0;
}

/* Release what start made; the thread is not running. */
static void discard(zab_server *s)
{
    if (s->tcp) zab_tcp_close(s->tcp);
    s->tcp = NULL;
    if (s->node) zab_node_free(s->node);
    s->node = NULL;
    zab_storage_close(s->storage);
    s->storage = NULL;
    zab_imap_free(&s->pending);
    zab_imap_free(&s->sessions);
    zab_buf_free(&s->scratch);
}

static int open_storage(zab_server *s, const zab_server_config *cfg, char *err, size_t errlen)
{
    zab_storage_config sc = { .dir = cfg->data_dir, .log_dir = cfg->log_dir,
                              .snap_retain = cfg->snap_retain, .max_record = cfg->max_message,
                              .segment_bytes = cfg->segment_bytes };
    char note[sizeof s->start_note];
    int rc = zab_storage_open(&sc, &s->storage, note, sizeof note);
    if (rc) {
        set_err(err, errlen, "storage: %s", note);
        return rc;
    }
    memcpy(s->start_note, note, sizeof note);
    return 0;
}

static int make_node(zab_server *s, const zab_server_config *cfg, char *err, size_t errlen)
{
    zab_member members[MAX_MEMBERS];
    for (uint32_t i = 0; i < cfg->nmembers; i++)
        members[i] = (zab_member){ cfg->members[i].sid, cfg->members[i].observer };
    zab_node_config nc = { .sid = cfg->sid, .members = members, .nmembers = cfg->nmembers,
                           .tick_ms = cfg->tick_ms, .init_limit = cfg->init_limit,
                           .sync_limit = cfg->sync_limit,
                           .min_session_timeout_ms = cfg->min_session_timeout_ms,
                           .max_session_timeout_ms = cfg->max_session_timeout_ms,
                           .max_message = cfg->max_message,
                           .max_outstanding = cfg->max_outstanding, .tree = cfg->tree };
    zab_io io;
    zab_host_wire_node(s, &io, &nc.tree);
    zab_node_state st;
    zab_storage_state(s->storage, &st);
    s->node = zab_node_new(&nc, &io, &st);
    if (!s->node) {
        set_err(err, errlen, "out of memory for the node");
        return ZAB_ENOMEM;
    }
    int rc = zab_storage_restore(s->storage, s->node);
    if (rc) set_err(err, errlen, "recovering the node from %s: %s", cfg->data_dir, zab_strerror(rc));
    return rc;
}

static int open_transport(zab_server *s, const zab_server_config *cfg, char *err, size_t errlen)
{
    zab_tcp_peer peers[MAX_MEMBERS];
    for (uint32_t i = 0; i < cfg->nmembers; i++)
        peers[i] = (zab_tcp_peer){ cfg->members[i].sid, cfg->members[i].host,
                                   cfg->members[i].port };
    zab_tcp_config tc = { .sid = cfg->sid, .peers = peers, .npeers = cfg->nmembers,
                          .listen_host = cfg->listen_host,
                          .max_frame = cfg->max_message ? cfg->max_message + 64 : 0 };
    zab_host_wire_tcp(s, &tc);
    int rc = zab_tcp_open(&tc, &s->tcp, err, errlen);
    if (rc) return rc;
    s->port = zab_tcp_port(s->tcp);
    rc = zab_tcp_watch_fd(s->tcp, zab_storage_fd(s->storage), zab_host_storage_synced, s);
    if (rc) set_err(err, errlen, "watching the storage: %s", zab_strerror(rc));
    return rc;
}

static int init_sync(zab_server *s)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca)) return ZAB_ENOMEM;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc) return ZAB_ENOMEM;
    if (pthread_mutex_init(&s->lock, NULL)) {
        pthread_cond_destroy(&s->cond);
        return ZAB_ENOMEM;
    }
    return 0;
}

static void init_counters(zab_server *s)
{
    int64_t wall = clock_ms(CLOCK_REALTIME);
    s->clock_offset = wall - zab_host_mono_ms();
    /* Cookies and session ids start from the wall clock so that a restarted
     * server never repeats one: a cookie from before a restart may still
     * come back with a committed proposal. 2^20 cookies per millisecond of
     * uptime is more than any server submits. */
    s->next_cookie = (uint64_t)wall << 20;
    /* ZooKeeper's layout: the server id in the top byte, 40 bits of the
     * start time, a 16-bit counter. */
    s->next_session = (int64_t)(((uint64_t)wall << 24) >> 8 | (uint64_t)(s->sid & 0xff) << 56);
    s->next_touch = 0;
    zab_host_next_snapshot_point(s);
}

int zab_server_start(const zab_server_config *cfg, zab_server **out, char *err, size_t errlen)
{
    set_err(err, errlen, "%s", "");
    if (!cfg || !out) {
        set_err(err, errlen, "no configuration");
        return ZAB_EINVAL;
    }
    *out = NULL;
    int rc = check_config(cfg, err, errlen);
    if (rc) return rc;
    zab_server *s = calloc(1, sizeof *s);
    if (!s || init_sync(s)) {
        free(s);
        set_err(err, errlen, "out of memory");
        return ZAB_ENOMEM;
    }
    s->sid = cfg->sid;
    s->tick_ms = cfg->tick_ms ? cfg->tick_ms : 2000;
    s->snap_count = cfg->snap_count ? cfg->snap_count : DEFAULT_SNAP_COUNT;
    s->log = cfg->log;
    s->log_ctx = cfg->log_ctx;
    s->refs = 1;
    init_counters(s);

    rc = open_storage(s, cfg, err, errlen);
    if (!rc) rc = make_node(s, cfg, err, errlen);
    if (!rc) rc = open_transport(s, cfg, err, errlen);
    if (!rc) {
        rc = zab_node_start(s->node, zab_host_node_now(s));
        if (rc) set_err(err, errlen, "starting the node: %s", zab_strerror(rc));
    }
    if (!rc) {
        zab_node_stats_get(s->node, &s->stats);
        if (pthread_create(&s->thread, NULL, zab_host_run, s)) {
            set_err(err, errlen, "no thread for the server");
            rc = ZAB_ENOMEM;
        }
    }
    if (rc) {
        discard(s);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int zab_server_stop(zab_server *s)
{
    if (!s) return 0;
    assert(!pthread_equal(pthread_self(), s->thread));
    pthread_mutex_lock(&s->lock);
    s->stop_requested = 1;
    if (s->tcp) zab_tcp_wake(s->tcp);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);

    int rc = s->error;
    if (!rc) rc = zab_storage_status(s->storage);
    discard(s);
    zab_host_release(s);
    return rc;
}

void zab_server_stats(zab_server *s, zab_node_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

void zab_server_tree_stats(zab_server *s, zab_tree_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->tree_stats;
    pthread_mutex_unlock(&s->lock);
}

uint16_t zab_server_port(zab_server *s)
{
    return s->port;
}

/* An absolute CLOCK_MONOTONIC time ms from now. */
static struct timespec deadline_in(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

int zab_server_wait_serving(zab_server *s, int timeout_ms)
{
    struct timespec until = deadline_in(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    while (!s->stats.serving && !s->stopped && rc == 0)
        rc = pthread_cond_timedwait(&s->cond, &s->lock, &until);
    int serving = s->stats.serving && !s->stopped;
    pthread_mutex_unlock(&s->lock);
    return serving ? 0 : ZAB_EOPERATIONTIMEOUT;
}

/* ---- for the clients ---- */

int64_t zab_host_new_session(zab_server *s)
{
    pthread_mutex_lock(&s->lock);
    int64_t id = s->next_session++;
    if (id == 0) id = s->next_session++; /* 0 is the system session */
    pthread_mutex_unlock(&s->lock);
    return id;
}

void zab_host_hold(zab_server *s)
{
    pthread_mutex_lock(&s->lock);
    s->refs++;
    pthread_mutex_unlock(&s->lock);
}

void zab_host_release(zab_server *s)
{
    pthread_mutex_lock(&s->lock);
    unsigned left = --s->refs;
    pthread_mutex_unlock(&s->lock);
    if (left) return;
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}
