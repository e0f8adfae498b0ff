/*
 * bench_host.c - the ready host end to end: three zab_servers, each in a
 * process of its own on 127.0.0.1, with file storage (group commit, fsync
 * on) and the TCP transport, one in-process client per server.
 *
 *  - host_3node_set1k_per_s, host_3node_set1k_p99_us: every client keeps
 *    WINDOW setData requests of 1 KiB in flight for MEASURE_S seconds
 *    (after a warm-up); the rate is the acknowledged writes of all three
 *    clients per second, the latency each write's, submission to
 *    completion.
 *  - host_failover_ms: every client writes one request at a time; the
 *    leader's process is killed with SIGKILL, and the figure is the time
 *    from the kill to the acknowledgement of the first write sent after it
 *    by a client of a surviving server (the median of FAILOVER_RUNS runs).
 *
 * Children report over pipes; CLOCK_MONOTONIC is one clock for every
 * process on the machine, so their times compare with the parent's.
 * Output: "bench: <name> <value> <unit>" lines; comments start with '#'.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zab.h"

enum {
    SERVERS = 3,
    WINDOW = 100,
    PAYLOAD = 1024,
    HIST_US = 1000000,
    FAILOVER_RUNS = 3,
    BASE_PORT = 24180
};

static const double WARMUP_S = 0.5;
static const double MEASURE_S = 2.0;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_host: %s: %s\n", what, zab_strerror(rc));
    exit(1);
}

/* ---- one server process ---- */

typedef struct child {
    zab_server *server;
    zab_client *client;
    int out;                   /* pipe to the parent */
    char dir[64];
} child;

static void log_line(void *ctx, int level, const char *line)
{
    (void)ctx;
    if (level <= 2 && getenv("ZAB_BENCH_LOG"))
        fprintf(stderr, "# %.3f %s\n", (double)(now_ns() / 1000000 % 100000), line);
}

static void start_server(child *c, int64_t sid, uint16_t base)
{
    zab_server_member members[SERVERS];
    for (int i = 0; i < SERVERS; i++)
        members[i] = (zab_server_member){ i + 1, "127.0.0.1", (uint16_t)(base + i), 0 };
    zab_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.sid = sid;
    cfg.members = members;
    cfg.nmembers = SERVERS;
    cfg.data_dir = c->dir;
    cfg.tick_ms = 100;
    cfg.log = log_line;
    char err[256];
    int rc = zab_server_start(&cfg, &c->server, err, sizeof err);
    if (rc) {
        fprintf(stderr, "bench_host: server %" PRId64 ": %s\n", sid, err);
        exit(1);
    }
    if (zab_server_wait_serving(c->server, 20000)) die("no leader", ZAB_EOPERATIONTIMEOUT);
    rc = zab_client_open(c->server, 10000, NULL, NULL, &c->client);
    if (rc) die("client", rc);
}

/* Report one line to the parent; dropped if the pipe is full (the pipe
 * is non-blocking so that a slow reader never slows a writer down). */
static void report(child *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(child *c, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0 && write(c->out, line, (size_t)n) < 0 && errno != EAGAIN) _exit(1);
}

/* ---- throughput ---- */

typedef struct load {
    child *c;
    zab_op op;
    zab_request req;
    uint64_t submitted_at[WINDOW];
    uint32_t next_slot;
    uint64_t done, errors, measuring_from, measuring_to;
    uint32_t *hist;
    uint64_t in_hist;
    uint64_t in_flight;
} load;

typedef struct slot_ctx {
    load *l;
    uint32_t slot;
} slot_ctx;

static slot_ctx slots[WINDOW];

static void submit_one(load *l, uint32_t slot);

/* On the server's thread: count it, and keep the window full. */
static void on_done(void *ctx, const zab_reply *reply)
{
    slot_ctx *s = ctx;
    load *l = s->l;
    uint64_t t = now_ns();
    if (reply->err) l->errors++;
    if (t >= l->measuring_from && t < l->measuring_to && !reply->err) {
        l->done++;
        uint64_t us = (t - l->submitted_at[s->slot]) / 1000;
        l->hist[us < HIST_US ? us : HIST_US - 1]++;
        l->in_hist++;
    }
    __atomic_sub_fetch(&l->in_flight, 1, __ATOMIC_RELAXED);
    if (t < l->measuring_to) submit_one(l, s->slot);
}

static void submit_one(load *l, uint32_t slot)
{
    l->submitted_at[slot] = now_ns();
    __atomic_add_fetch(&l->in_flight, 1, __ATOMIC_RELAXED);
    if (zab_client_submit(l->c->client, &l->req, on_done, &slots[slot])) {
        __atomic_sub_fetch(&l->in_flight, 1, __ATOMIC_RELAXED);
        l->errors++;
    }
}

static double percentile(const uint32_t *hist, uint64_t n, double p)
{
    uint64_t want = (uint64_t)(p * (double)n), seen = 0;
    for (uint32_t us = 0; us < HIST_US; us++) {
        seen += hist[us];
        if (seen > want) return us;
    }
    return HIST_US;
}

static void run_load(child *c, int64_t sid)
{
    static char payload[PAYLOAD];
    memset(payload, 'x', sizeof payload);
    char path[32];
    snprintf(path, sizeof path, "/bench%" PRId64, sid);
    int rc = zab_client_create(c->client, path, "", 0, zab_acl_open, 1, ZAB_PERSISTENT, NULL, 0);
    if (rc && rc != ZAB_ENODEEXISTS) die("create", rc);
    load l;
    memset(&l, 0, sizeof l);
    l.c = c;
    l.hist = calloc(HIST_US, sizeof *l.hist);
    if (!l.hist) die("memory", ZAB_ENOMEM);
    l.op = zab_op_set_data(path, payload, PAYLOAD, -1);
    l.req = (zab_request){ ZAB_OP_SET_DATA, 0, NULL, 0, &l.op, 1 };
    uint64_t t0 = now_ns();
    l.measuring_from = t0 + (uint64_t)(WARMUP_S * 1e9);
    l.measuring_to = l.measuring_from + (uint64_t)(MEASURE_S * 1e9);
    for (uint32_t i = 0; i < WINDOW; i++) {
        slots[i] = (slot_ctx){ &l, i };
        submit_one(&l, i);
    }
    while (now_ns() < l.measuring_to + 2000000000ull &&
           __atomic_load_n(&l.in_flight, __ATOMIC_RELAXED) > 0)
        usleep(10000);
    report(c, "load %" PRIu64 " %.0f %" PRIu64 "\n", l.done, percentile(l.hist, l.in_hist, 0.99),
           l.errors);
    free(l.hist);
}

/* ---- failover ---- */

/* Write one request at a time until killed, reporting the time of every
 * acknowledgement after the parent says "go" (a byte on in). */
static void run_writer(child *c, int64_t sid)
{
    char path[32];
    snprintf(path, sizeof path, "/fo%" PRId64, sid);
    (void)zab_client_create(c->client, path, "", 0, zab_acl_open, 1, ZAB_PERSISTENT, NULL, 0);
    zab_node_stats st;
    zab_server_stats(c->server, &st);
    report(c, "role %d\n", st.role);
    for (;;) {
        uint64_t sent = now_ns();
        int rc = zab_client_set(c->client, path, "v", 1, -1, NULL);
        if (rc == 0) report(c, "ack %" PRIu64 " %" PRIu64 "\n", sent, now_ns());
        else usleep(1000);
    }
}

static pid_t spawn(int64_t sid, uint16_t base, int mode, int *from_child)
{
    int fds[2];
    if (pipe(fds)) die("pipe", ZAB_EIO);
    pid_t pid = fork();
    if (pid < 0) die("fork", ZAB_EIO);
    if (pid == 0) {
        close(fds[0]);
        (void)fcntl(fds[1], F_SETFL, O_NONBLOCK);
        child c;
        memset(&c, 0, sizeof c);
        c.out = fds[1];
        snprintf(c.dir, sizeof c.dir, "/tmp/zab-bench-host-%d-%" PRId64, (int)getppid(), sid);
        start_server(&c, sid, base);
        if (mode == 0) {
            run_load(&c, sid);
            zab_client_close(c.client);
            zab_server_stop(c.server);
            _exit(0);
        }
        run_writer(&c, sid);
        _exit(0);
    }
    close(fds[1]);
    *from_child = fds[0];
    return pid;
}

/* One line from fd (blocking, bounded by cap). Lines are written whole
 * by one write, so a line that has begun arrives whole. */
static int read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0) return -1;
        if (buf[n] == '\n') break;
        n++;
    }
    buf[n] = 0;
    return (int)n;
}

/* Wait up to ms for one of fds to have a line; its index, or -1. */
static int wait_line(const int *fds, const int *skip, int n, int ms)
{
    struct pollfd p[SERVERS];
    int idx[SERVERS], k = 0;
    for (int i = 0; i < n; i++) {
        if (skip[i]) continue;
        p[k] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
        idx[k++] = i;
    }
    if (poll(p, (nfds_t)k, ms) <= 0) return -1;
    for (int j = 0; j < k; j++)
        if (p[j].revents & POLLIN) return idx[j];
    return -1;
}

static void cleanup_dirs(void)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/zab-bench-host-%d-*", (int)getpid());
    if (system(cmd)) fprintf(stderr, "# could not remove the data directories\n");
}

static void bench_throughput(void)
{
    pid_t pids[SERVERS];
    int from[SERVERS];
    for (int i = 0; i < SERVERS; i++) pids[i] = spawn(i + 1, BASE_PORT, 0, &from[i]);
    uint64_t total = 0, errors = 0;
    double p99 = 0;
    for (int i = 0; i < SERVERS; i++) {
        char line[256];
        uint64_t done = 0, errs = 0;
        double lat = 0;
        if (read_line(from[i], line, sizeof line) < 0 ||
            sscanf(line, "load %" SCNu64 " %lf %" SCNu64, &done, &lat, &errs) != 3)
            die("a server process failed", ZAB_EFAILED);
        total += done;
        errors += errs;
        if (lat > p99) p99 = lat;
    }
    for (int i = 0; i < SERVERS; i++) {
        waitpid(pids[i], NULL, 0);
        close(from[i]);
    }
    cleanup_dirs();
    printf("# %d servers, a client each with %d setData of %d bytes in flight, %.1f s; %" PRIu64
           " errors\n", SERVERS, WINDOW, PAYLOAD, MEASURE_S, errors);
    printf("bench: host_3node_set1k_per_s %.0f ops/s\n", (double)total / MEASURE_S);
    printf("bench: host_3node_set1k_p99_us %.0f us\n", p99);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double failover_once(int run)
{
    uint16_t base = (uint16_t)(BASE_PORT + 10 + run * 10);
    pid_t pids[SERVERS];
    int from[SERVERS], leader = -1;
    for (int i = 0; i < SERVERS; i++) pids[i] = spawn(i + 1, base, 1, &from[i]);
    for (int i = 0; i < SERVERS; i++) {
        char line[256];
        int role = 0;
        while (read_line(from[i], line, sizeof line) >= 0 && sscanf(line, "role %d", &role) != 1) {}
        if (role == ZAB_LEADING) leader = i;
    }
    if (leader < 0) die("no leader among the processes", ZAB_EFAILED);
    usleep(300000); /* let the writers run */
    uint64_t killed = now_ns();
    if (getenv("ZAB_BENCH_LOG")) fprintf(stderr, "# %.3f kill\n", (double)(killed / 1000000 % 100000));
    kill(pids[leader], SIGKILL);
    waitpid(pids[leader], NULL, 0);
    /* The first acknowledgement after the kill, from either survivor. */
    uint64_t first = 0;
    uint64_t deadline = killed + 10000000000ull;
    int skip[SERVERS] = { 0 };
    skip[leader] = 1;
    while (!first && now_ns() < deadline) {
        int i = wait_line(from, skip, SERVERS, 100);
        char line[256];
        uint64_t sent, t;
        if (i < 0) continue;
        /* A write sent after the kill: one the old leader cannot have
         * committed. */
        if (read_line(from[i], line, sizeof line) < 0) skip[i] = 1;
        else if (sscanf(line, "ack %" SCNu64 " %" SCNu64, &sent, &t) == 2 && sent > killed) first = t;
    }
    for (int i = 0; i < SERVERS; i++) {
        if (i != leader) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
        }
        close(from[i]);
    }
    cleanup_dirs();
    if (!first) die("no write after the kill", ZAB_EOPERATIONTIMEOUT);
    return (double)(first - killed) / 1e6;
}

int main(void)
{
    bench_throughput();
    double ms[FAILOVER_RUNS];
    for (int r = 0; r < FAILOVER_RUNS; r++) ms[r] = failover_once(r);
    qsort(ms, FAILOVER_RUNS, sizeof ms[0], cmp_double);
    printf("bench: host_failover_ms %.1f ms\n", ms[FAILOVER_RUNS / 2]);
    return 0;
}
