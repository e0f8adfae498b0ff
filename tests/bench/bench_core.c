/*
 * bench_core.c - the ZAB core: committed writes per second through whole
 * 3- and 5-node ensembles, the latency a write sees at the leader, the heap
 * allocations each committed write costs, and how long the simulator takes
 * (in virtual time) to replace a crashed leader.
 *
 * Throughput and latency run every node in this one process, on one thread,
 * over a minimal host (bench/mini_cluster.h): one FIFO of messages (every
 * channel's order kept), delivered as fast as the nodes take them, no disk
 * (log_append records the highest zxid; after each pass over the queue
 * every node is told that all it appended is durable: one group commit per
 * pass). The leader holds WINDOW setData requests in flight, refilled
 * after every call into it that finished some (a callback may not call back
 * into its node). Each figure is the median of RUNS runs, each on a fresh
 * ensemble, timed with CLOCK_MONOTONIC after a warm-up (the clock reads
 * that time each write are part of the timed work). Since every replica
 * runs on the same core, a commit's cost is the whole ensemble's.
 *
 * Output: "bench: <name> <value> <unit>" lines; comments start with '#'.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zab.h"
#include "zab_sim.h"

#define BENCH_NAME "bench_core"
#include "bench/mini_cluster.h"

enum {
    RUNS = 3,
    WINDOW = 1000,          /* the node's default max_outstanding */
    KEYS = 8,               /* znodes the writes rotate over */
    PAYLOAD = 100,
    SLOTS = 2048,           /* submit times, by cookie; > WINDOW */
    HIST_US = 1000000,      /* latency histogram: 1 us bins up to 1 s */
    FAILOVER_SEEDS = 21
};

static const double WARMUP_S = 0.3;
static const double MEASURE_S = 1.5;
static const uint64_t SEED = 0x5eedf00dULL;

/* ---- heap allocations, counted ---- */

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_SANITIZED 1
#endif
#endif

#if defined(__GLIBC__) && !defined(BENCH_SANITIZED)
#define BENCH_COUNT_ALLOCS 1
/* glibc lets a program replace malloc; these forward to its own allocator
 * and count. The counter has to be global: malloc has no context. The
 * process is single-threaded. */
extern void *__libc_malloc(size_t len);
extern void *__libc_calloc(size_t n, size_t len);
extern void *__libc_realloc(void *p, size_t len);
extern void __libc_free(void *p);

static uint64_t heap_allocs, heap_kept; /* kept: a realloc that did not move */

void *malloc(size_t len)
{
    heap_allocs++;
    return __libc_malloc(len);
}

void *calloc(size_t n, size_t len)
{
    heap_allocs++;
    return __libc_calloc(n, len);
}

void *realloc(void *p, size_t len)
{
    heap_allocs++;
    void *q = __libc_realloc(p, len);
    heap_kept += p && q == p;
    return q;
}

void free(void *p)
{
    __libc_free(p);
}

static uint64_t allocs_so_far(void) { return heap_allocs; }
static uint64_t reallocs_kept(void) { return heap_kept; }
#else
static uint64_t allocs_so_far(void) { return 0; }
static uint64_t reallocs_kept(void) { return 0; }
#endif

/* ---- the workload ---- */

typedef struct cluster {
    mini_cluster net;       /* first: the hooks get it and mean this */
    zab_op ops[KEYS];
    char paths[KEYS][16];
    uint8_t payload[PAYLOAD];
    int writing;
    uint64_t submitted, done, throttled;
    uint64_t sent_at[SLOTS];
    uint32_t *hist;         /* latency, 1 us bins (NULL: not recorded) */
    uint64_t hist_n;
} cluster;

static void on_result(mini_cluster *m, uint32_t idx, uint64_t cookie, const zab_reply *reply)
{
    cluster *c = (cluster *)m;
    (void)idx;
    if (reply->err != ZAB_OK) {
        fprintf(stderr, "bench_core: write %llu failed: %s\n", (unsigned long long)cookie,
                zab_strerror(reply->err));
        c->net.broken = 1;
        return;
    }
    c->done++;
    if (!c->hist) return;
    uint64_t us = (now_ns() - c->sent_at[cookie % SLOTS]) / 1000;
    c->hist[us < HIST_US ? us : HIST_US - 1]++;
    c->hist_n++;
}

/* Keep WINDOW writes in flight at the leader. Never called from inside a
 * node: a callback may not call back into it. */
static void top_up(cluster *c)
{
    if (!c->writing || c->net.leader < 0) return;
    zab_node *leader = c->net.nodes[c->net.leader];
    while (c->submitted - c->done < WINDOW) {
        uint64_t cookie = c->submitted + 1;
        zab_request req = { ZAB_OP_SET_DATA, 0, NULL, 0, &c->ops[cookie % KEYS], 1 };
        if (c->hist) c->sent_at[cookie % SLOTS] = now_ns();
        int rc = zab_node_submit(leader, &req, cookie);
        if (rc == ZAB_ETHROTTLED) {
            c->throttled++;
            return;
        }
        mini_check(&c->net, rc, "submit");
        c->submitted = cookie;
    }
}

static void top_up_leader(mini_cluster *m, uint32_t idx)
{
    if ((int)idx == m->leader) top_up((cluster *)m);
}

static cluster *cluster_new(uint32_t n)
{
    cluster *c = xcalloc(1, sizeof(*c));
    mini_start(&c->net, n, on_result, top_up_leader);
    memset(c->payload, 'p', sizeof(c->payload));
    for (int k = 0; k < KEYS; k++) {
        snprintf(c->paths[k], sizeof(c->paths[k]), "/core-%d", k);
        c->ops[k] = zab_op_set_data(c->paths[k], c->payload, PAYLOAD, -1);
    }
    return c;
}

static void cluster_free(cluster *c)
{
    mini_free(&c->net);
    free(c->hist);
    free(c);
}

/* Create the znodes the writes go to, one at a time. */
static void create_keys(cluster *c)
{
    for (int k = 0; k < KEYS; k++) {
        zab_op op = zab_op_create(c->paths[k], "", 0, zab_acl_open, 1, ZAB_PERSISTENT);
        zab_request req = { op.type, 0, NULL, 0, &op, 1 };
        mini_check(&c->net, zab_node_submit(c->net.nodes[c->net.leader], &req, ++c->submitted),
                   "create");
        while (c->done < c->submitted) mini_step(&c->net);
    }
}

/* Run the pipeline for `seconds` of wall time. */
static void run_for(cluster *c, double seconds)
{
    uint64_t until = now_ns() + (uint64_t)(seconds * 1e9);
    top_up(c);
    while (now_ns() < until) mini_step(&c->net);
}

/* Stop writing, deliver everything, and check that every replica applied
 * every write and holds the same tree. */
static void drain_and_verify(cluster *c)
{
    c->writing = 0;
    while (c->net.q[c->net.fill].len || c->done < c->submitted) mini_step(&c->net);
    zab_tree_stats first;
    mini_same_trees(&c->net, &first);
    if (ZAB_COUNTER(first.last_zxid) != c->submitted) die("a write went missing", ZAB_EFAILED);
}

typedef struct run_figures {
    double commits_per_s;
    double allocs_per_commit;   /* the library's; host's subtracted */
    double kept_per_commit;     /* of which reallocs that kept their block */
    double host_allocs;
    double p50_us, p99_us;
} run_figures;

static double percentile(const uint32_t *hist, uint64_t n, double p)
{
    uint64_t want = (uint64_t)(p * (double)n), seen = 0;
    for (uint32_t us = 0; us < HIST_US; us++) {
        seen += hist[us];
        if (seen > want) return us + 0.5;
    }
    return HIST_US;
}

static void bench_run(uint32_t n, run_figures *f)
{
    cluster *c = cluster_new(n);
    mini_elect(&c->net);
    create_keys(c);
    c->hist = xcalloc(HIST_US, sizeof(*c->hist));
    c->writing = 1;
    run_for(c, WARMUP_S);
    memset(c->hist, 0, HIST_US * sizeof(*c->hist));
    c->hist_n = 0;

    uint64_t done0 = c->done, allocs0 = allocs_so_far(), host0 = c->net.host_allocs;
    uint64_t kept0 = reallocs_kept();
    uint64_t t0 = now_ns();
    run_for(c, MEASURE_S);
    uint64_t t1 = now_ns();
    uint64_t commits = c->done - done0;
    uint64_t allocs = allocs_so_far() - allocs0, host_allocs = c->net.host_allocs - host0;
    uint64_t kept = reallocs_kept() - kept0;

    f->commits_per_s = (double)commits / ((double)(t1 - t0) / 1e9);
    f->allocs_per_commit = (double)(allocs - host_allocs) / (double)commits;
    f->kept_per_commit = (double)kept / (double)commits;
    f->host_allocs = (double)host_allocs;
    f->p50_us = percentile(c->hist, c->hist_n, 0.50);
    f->p99_us = percentile(c->hist, c->hist_n, 0.99);
    if (c->throttled) printf("# %u nodes: the leader throttled %llu submits\n", n,
                             (unsigned long long)c->throttled);
    drain_and_verify(c);
    cluster_free(c);
}

static void bench_ensemble(uint32_t n, run_figures *out)
{
    double rate[RUNS], allocs[RUNS], kept[RUNS], own[RUNS], p50[RUNS], p99[RUNS];
    for (int r = 0; r < RUNS; r++) {
        run_figures f;
        bench_run(n, &f);
        rate[r] = f.commits_per_s;
        allocs[r] = f.allocs_per_commit;
        kept[r] = f.kept_per_commit;
        own[r] = f.host_allocs;
        p50[r] = f.p50_us;
        p99[r] = f.p99_us;
    }
    out->commits_per_s = median(rate, RUNS);
    out->allocs_per_commit = median(allocs, RUNS);
    out->kept_per_commit = median(kept, RUNS);
    out->host_allocs = median(own, RUNS);
    out->p50_us = median(p50, RUNS);
    out->p99_us = median(p99, RUNS);
}

/* ---- failover in the simulator ---- */

static int new_leader(zab_sim *sim, void *arg)
{
    int64_t l = zab_sim_leader(sim);
    return l != 0 && l != *(const int64_t *)arg;
}

static int any_leader(zab_sim *sim, void *arg)
{
    (void)arg;
    return zab_sim_leader(sim) != 0;
}

/* Virtual ms from the leader's crash until another leader is established. */
static double failover_ms(uint64_t seed)
{
    zab_sim_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.voters = 3;
    cfg.seed = seed;
    zab_sim *sim = zab_sim_new(&cfg);
    if (!sim) die("zab_sim_new", ZAB_ENOMEM);
    if (zab_sim_run_until(sim, 60000, any_leader, NULL) != 1) die("no first leader", ZAB_EFAILED);
    /* Let the followers finish synchronizing and settle into broadcast. */
    if (zab_sim_run(sim, 1000)) die("simulation", ZAB_EFAILED);
    int64_t old = zab_sim_leader(sim);
    if (!old) die("the leader stepped down before the crash", ZAB_EFAILED);
    if (zab_sim_crash(sim, old)) die("crash", ZAB_EFAILED);
    int64_t t0 = zab_sim_now(sim);
    if (zab_sim_run_until(sim, 60000, new_leader, &old) != 1) die("no leader after the crash", ZAB_EFAILED);
    double ms = (double)(zab_sim_now(sim) - t0);
    zab_sim_free(sim);
    return ms;
}

static void bench_failover(void)
{
    double ms[FAILOVER_SEEDS];
    for (int s = 0; s < FAILOVER_SEEDS; s++) ms[s] = failover_ms(SEED + (uint64_t)s);
    double mid = median(ms, FAILOVER_SEEDS);
    printf("# failover: 3 voters in the simulator (tick 100 ms, finalize wait 200 ms, "
           "one-way latency 1..5 ms, log sync 1..3 ms); %d seeds, min %.0f ms, max %.0f ms\n",
           FAILOVER_SEEDS, ms[0], ms[FAILOVER_SEEDS - 1]);
    printf("bench: core_failover_virtual_ms %.0f ms\n", mid);
}

int main(void)
{
    printf("# zab core: every node in this process on one thread, one FIFO of messages, "
           "no disk (one log sync report per pass over the queue); %d setData of %d bytes "
           "in flight at the leader; median of %d runs of %.1f s after %.1f s of warm-up\n",
           WINDOW, PAYLOAD, RUNS, MEASURE_S, WARMUP_S);
    run_figures three, five;
    bench_ensemble(3, &three);
    printf("bench: core_3node_commits_per_s %.0f ops/s\n", three.commits_per_s);
    printf("bench: core_3node_commit_p50_us %.0f us\n", three.p50_us);
    printf("bench: core_3node_commit_p99_us %.0f us\n", three.p99_us);
    bench_ensemble(5, &five);
    printf("bench: core_5node_commits_per_s %.0f ops/s\n", five.commits_per_s);
#ifdef BENCH_COUNT_ALLOCS
    if (three.host_allocs > 0)
        printf("# the host itself allocated %.0f times while measured (subtracted)\n", three.host_allocs);
    printf("# allocations are malloc, calloc and realloc calls by every node in the process; "
           "per commit, %.2f were reallocs that kept their block (3 nodes); 5 nodes: %.2f "
           "allocations per commit\n", three.kept_per_commit, five.allocs_per_commit);
    printf("bench: core_allocs_per_commit %.2f allocs\n", three.allocs_per_commit);
#else
    printf("# core_allocs_per_commit skipped: counting needs glibc's allocator (not a sanitizer's)\n");
#endif
    bench_failover();
    return 0;
}
