/*
 * bench_tree.c - the data tree on a million znodes: creates through the
 * leader's full write path (prepare + apply) and through a follower's
 * (apply alone), getData, setData, snapshot save and load, and the heap a
 * znode costs. When a JDK and ZooKeeper's jars are installed, the same
 * workload also runs against ZooKeeper's own DataTree (ZkTreeBench.java,
 * next to this file) and the two are printed side by side.
 *
 * Output: "bench: <name> <value> <unit>" lines; comments start with '#'.
 * Every rate is the median of RUNS runs, timed with CLOCK_MONOTONIC on one
 * thread.
 *
 * Environment: ZAB_BENCH_SRC (directory of ZkTreeBench.java, default the
 * directory of this file), ZAB_ZOOKEEPER_CLASSPATH (default Debian's
 * /usr/share/java/zookeeper.jar, whose manifest names its dependencies),
 * ZAB_BENCH_NO_ZOOKEEPER=1 to skip the comparison.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zab.h"

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define BENCH_HAVE_MALLINFO2 1
#endif

enum {
    PARENTS = 100,
    CHILDREN = 10000,
    NODES = PARENTS * CHILDREN,
    RUNS = 3,
    READS = 500000,
    WRITES = 250000,
    DATA_LEN = 32,
    PATH_STRIDE = 32,          /* "/bench/dir-NNN/node-NNNNNNNNNNN" and NUL */
    TXNS = 1 + PARENTS + NODES /* /bench, its parents, their children */
};

static const uint64_t SEED = 0x5eedf00dULL;
static const int64_t NOW_MS = 1700000000000LL;

/* ---- small helpers ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_tree: %s: %s (%d)\n", what, zab_strerror(rc), rc);
    exit(1);
}

static void *xmalloc(size_t len)
{
    void *p = malloc(len);
    if (!p) die("malloc", ZAB_ENOMEM);
    return p;
}

static zab_tree *tree_new(void)
{
    zab_tree_config cfg = { .hash_seed = SEED };
    zab_tree *t = zab_tree_new(&cfg);
    if (!t) die("zab_tree_new", ZAB_ENOMEM);
    return t;
}

static double median(const double *v, int n)
{
    double s[RUNS];
    memcpy(s, v, (size_t)n * sizeof(*s));
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && s[j - 1] > s[j]; j--) {
            double x = s[j];
            s[j] = s[j - 1];
            s[j - 1] = x;
        }
    return s[n / 2];
}

/* splitmix64; ZkTreeBench.java draws the same sequence. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(rng_next(s) % n);
}

/* Heap in use, malloc headers and mmapped blocks included. */
static size_t heap_in_use(void)
{
#ifdef BENCH_HAVE_MALLINFO2
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#else
    return 0;
#endif
}

/* ---- the workload ---- */

typedef struct bench {
    char *paths;                /* NODES paths, PATH_STRIDE bytes apart */
    char parents[PARENTS][16];
    uint8_t data[DATA_LEN];
    uint8_t data2[DATA_LEN];
    zab_buf log;                /* every transaction of the last build */
    size_t *ends;               /* transaction i (zxid i + 1) ends at ends[i] */
    uint32_t ntxn;
} bench;

static const char *node_path(const bench *b, uint32_t k)
{
    return b->paths + (size_t)k * PATH_STRIDE;
}

/* Node k hangs under parent k % PARENTS: creates visit the parents in
 * turn, so every child table grows throughout the build. */
static void bench_init(bench *b)
{
    memset(b, 0, sizeof(*b));
    b->paths = xmalloc((size_t)NODES * PATH_STRIDE);
    for (uint32_t d = 0; d < PARENTS; d++)
        snprintf(b->parents[d], sizeof(b->parents[d]), "/bench/dir-%03u", (unsigned)d);
    for (uint32_t k = 0; k < NODES; k++) {
        int n = snprintf(b->paths + (size_t)k * PATH_STRIDE, PATH_STRIDE, "%s/node-%011u",
                         b->parents[k % PARENTS], (unsigned)k);
        if (n != PATH_STRIDE - 1) die("path layout", ZAB_EINVAL);
    }
    memset(b->data, 'x', sizeof(b->data));
    memset(b->data2, 'y', sizeof(b->data2));
    b->ends = xmalloc((size_t)TXNS * sizeof(*b->ends));
    /* Room for every create transaction, so the log never moves while
     * creates are timed. */
    if (zab_buf_reserve(&b->log, (size_t)TXNS * 192)) die("log", ZAB_ENOMEM);
}

static void bench_free(bench *b)
{
    free(b->paths);
    free(b->ends);
    zab_buf_free(&b->log);
}

static void apply_logged(bench *b, zab_tree *t, uint32_t i)
{
    size_t start = i ? b->ends[i - 1] : 0;
    zab_reply reply;
    int rc = zab_tree_apply(t, (int64_t)i + 1, b->log.data + start, b->ends[i] - start, &reply);
    if (rc || reply.err) die("apply", rc ? rc : reply.err);
}

/* The leader's write path: prepare straight into the log, then apply. */
static void write_logged(bench *b, zab_tree *t, const zab_op *op)
{
    zab_request req = { .type = op->type, .ops = op, .nops = 1 };
    int rc = zab_tree_prepare(t, &req, (int64_t)b->ntxn + 1, NOW_MS, &b->log);
    if (rc) die("prepare", rc);
    b->ends[b->ntxn] = b->log.len;
    apply_logged(b, t, b->ntxn++);
}

static zab_tree *build_leader(bench *b, double *rate)
{
    zab_tree *t = tree_new();
    b->log.len = 0;
    b->ntxn = 0;
    zab_op op = zab_op_create("/bench", "", 0, zab_acl_open, 1, ZAB_PERSISTENT);
    write_logged(b, t, &op);
    for (uint32_t d = 0; d < PARENTS; d++) {
        op = zab_op_create(b->parents[d], "", 0, zab_acl_open, 1, ZAB_PERSISTENT);
        write_logged(b, t, &op);
    }
    double t0 = now_s();
    for (uint32_t k = 0; k < NODES; k++) {
        op = zab_op_create(node_path(b, k), b->data, DATA_LEN, zab_acl_open, 1, ZAB_PERSISTENT);
        write_logged(b, t, &op);
    }
    *rate = NODES / (now_s() - t0);
    return t;
}

typedef struct weight {
    size_t heap;
    zab_tree_stats stats;
} weight;

/* A follower replays the leader's log; w (if given) gets the heap and
 * stats of the empty tree and of the built one. */
static zab_tree *build_follower(bench *b, double *rate, weight w[2])
{
    zab_tree *t = tree_new();
    if (w) {
        w[0].heap = heap_in_use();
        zab_tree_stats_get(t, &w[0].stats);
    }
    uint32_t i = 0;
    for (; i < TXNS - NODES; i++) apply_logged(b, t, i);
    double t0 = now_s();
    for (; i < TXNS; i++) apply_logged(b, t, i);
    *rate = NODES / (now_s() - t0);
    if (w) {
        w[1].heap = heap_in_use();
        zab_tree_stats_get(t, &w[1].stats);
    }
    return t;
}

/* What the C side measured, for the comparison. */
typedef struct figures {
    double create, apply, getdata, setdata;
    double save_s, load_s;
    size_t snapshot_bytes;
    double overhead;            /* negative when not measured */
} figures;

static zab_tree *bench_creates(bench *b, weight w[2], figures *f)
{
    double create[RUNS], apply[RUNS];
    zab_tree *leader = NULL;
    for (int r = 0; r < RUNS; r++) {
        zab_tree_free(leader);
        leader = build_leader(b, &create[r]);
        zab_tree_free(build_follower(b, &apply[r], r == 0 ? w : NULL));
    }
    f->create = median(create, RUNS);
    f->apply = median(apply, RUNS);
    printf("bench: tree_create_per_s %.0f ops/s\n", f->create);
    printf("bench: tree_apply_create_per_s %.0f ops/s\n", f->apply);
    return leader;
}

/* One request per pick, built before the clock starts. */
typedef struct batch {
    zab_op *ops;
    zab_request *reqs;
    uint32_t n;
} batch;

static void batch_init(batch *bt, uint32_t n)
{
    bt->ops = xmalloc((size_t)n * sizeof(*bt->ops));
    bt->reqs = xmalloc((size_t)n * sizeof(*bt->reqs));
    bt->n = n;
}

static void batch_set(batch *bt, uint32_t i, zab_op op)
{
    bt->ops[i] = op;
    bt->reqs[i] = (zab_request){ .type = op.type, .ops = &bt->ops[i], .nops = 1 };
}

static void batch_free(batch *bt)
{
    free(bt->ops);
    free(bt->reqs);
}

static double bench_reads(const bench *b, zab_tree *t, uint64_t *rng)
{
    batch bt;
    batch_init(&bt, READS);
    for (uint32_t i = 0; i < READS; i++)
        batch_set(&bt, i, zab_op_read(ZAB_OP_GET_DATA, node_path(b, rng_below(rng, NODES)), 0));
    double rate[RUNS];
    uint64_t bytes = 0;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_s();
        for (uint32_t i = 0; i < READS; i++) {
            zab_reply reply;
            if (zab_tree_read(t, &bt.reqs[i], &reply)) die("getData", reply.err);
            bytes += (uint64_t)reply.results[0].data_len;
        }
        rate[r] = READS / (now_s() - t0);
    }
    if (bytes != (uint64_t)RUNS * READS * DATA_LEN) die("getData returned the wrong data", ZAB_EINVAL);
    batch_free(&bt);
    printf("bench: tree_getdata_per_s %.0f ops/s\n", median(rate, RUNS));
    return median(rate, RUNS);
}

static double bench_writes(const bench *b, zab_tree *t, uint64_t *rng)
{
    batch bt;
    batch_init(&bt, WRITES);
    for (uint32_t i = 0; i < WRITES; i++)
        batch_set(&bt, i, zab_op_set_data(node_path(b, rng_below(rng, NODES)),
                                          i & 1 ? b->data : b->data2, DATA_LEN, -1));
    zab_tree_stats st;
    zab_tree_stats_get(t, &st);
    int64_t zxid = st.last_zxid;
    zab_buf txn = { 0 };
    if (zab_buf_reserve(&txn, 4096)) die("txn", ZAB_ENOMEM);
    double rate[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_s();
        for (uint32_t i = 0; i < WRITES; i++) {
            zab_reply reply;
            txn.len = 0;
            int rc = zab_tree_prepare(t, &bt.reqs[i], ++zxid, NOW_MS, &txn);
            if (!rc) rc = zab_tree_apply(t, zxid, txn.data, txn.len, &reply);
            if (rc || reply.err) die("setData", rc ? rc : reply.err);
        }
        rate[r] = WRITES / (now_s() - t0);
    }
    zab_buf_free(&txn);
    batch_free(&bt);
    printf("bench: tree_setdata_per_s %.0f ops/s\n", median(rate, RUNS));
    return median(rate, RUNS);
}

static int append_to_buf(void *ctx, const void *bytes, size_t len)
{
    return zab_buf_append(ctx, bytes, len);
}

static void bench_snapshots(zab_tree *t, figures *f)
{
    zab_buf snap = { 0 };
    /* The first save sizes the buffer; the timed ones then only append. */
    int rc = zab_tree_save(t, append_to_buf, &snap);
    if (rc) die("save", rc);
    double save[RUNS], load[RUNS];
    for (int r = 0; r < RUNS; r++) {
        snap.len = 0;
        double t0 = now_s();
        if ((rc = zab_tree_save(t, append_to_buf, &snap))) die("save", rc);
        save[r] = now_s() - t0;
    }
    zab_tree_stats want, got;
    zab_tree_stats_get(t, &want);
    for (int r = 0; r < RUNS; r++) {
        zab_tree *fresh = tree_new();
        double t0 = now_s();
        if ((rc = zab_tree_load_mem(fresh, snap.data, snap.len))) die("load", rc);
        load[r] = now_s() - t0;
        zab_tree_stats_get(fresh, &got);
        if (got.nodes != want.nodes || got.digest != want.digest) die("load: a different tree", ZAB_ECORRUPT);
        zab_tree_free(fresh);
    }
    f->snapshot_bytes = snap.len;
    f->save_s = median(save, RUNS);
    f->load_s = median(load, RUNS);
    printf("bench: snapshot_bytes %zu bytes\n", f->snapshot_bytes);
    printf("bench: snapshot_save_mb_per_s %.1f MB/s\n", (double)f->snapshot_bytes / 1e6 / f->save_s);
    printf("bench: snapshot_load_mb_per_s %.1f MB/s\n", (double)f->snapshot_bytes / 1e6 / f->load_s);
    zab_buf_free(&snap);
}

/* Heap beyond each node's full path and data: node structs, child tables,
 * malloc headers, everything. Negative when not measurable here. */
static double overhead_per_znode(const weight w[2])
{
#ifdef BENCH_HAVE_MALLINFO2
    /* An allocator other than glibc's (a sanitizer's) leaves mallinfo2 at 0. */
    if (w[1].heap <= w[0].heap) return -1;
    uint64_t nodes = w[1].stats.nodes - w[0].stats.nodes;
    double payload = (double)(w[1].stats.data_bytes - w[0].stats.data_bytes);
    double heap = (double)w[1].heap - (double)w[0].heap;
    double per = (heap - payload) / (double)nodes;
    printf("bench: tree_overhead_bytes_per_znode %.1f bytes\n", per);
    return per;
#else
    (void)w;
    return -1;
#endif
}

/* ---- ZooKeeper's DataTree, measured by ZkTreeBench.java ---- */

typedef struct zk_figures {
    char version[128];
    double create, getdata, setdata, save_s, load_s, heap, overhead, snapshot_bytes;
} zk_figures;

static int find_in_path(const char *name, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    while (path && *path) {
        size_t len = strcspn(path, ":");
        if (len && snprintf(out, cap, "%.*s/%s", (int)len, path, name) < (int)cap &&
            access(out, X_OK) == 0)
            return 1;
        path += len + (path[len] == ':');
    }
    return 0;
}

/* Everything below goes into single quotes on a shell line. */
static int shell_safe(const char *s)
{
    return strchr(s, '\'') == NULL;
}

static void zk_parse(zk_figures *zk, const char *line)
{
    static const struct { const char *name; size_t off; } fields[] = {
        { "create_per_s", offsetof(zk_figures, create) },
        { "getdata_per_s", offsetof(zk_figures, getdata) },
        { "setdata_per_s", offsetof(zk_figures, setdata) },
        { "snapshot_save_s", offsetof(zk_figures, save_s) },
        { "snapshot_load_s", offsetof(zk_figures, load_s) },
        { "heap_bytes_per_znode", offsetof(zk_figures, heap) },
        { "overhead_bytes_per_znode", offsetof(zk_figures, overhead) },
        { "snapshot_bytes", offsetof(zk_figures, snapshot_bytes) },
    };
    if (strncmp(line, "zk version ", 11) == 0) {
        snprintf(zk->version, sizeof(zk->version), "%.*s", (int)strcspn(line + 11, " \n"), line + 11);
        return;
    }
    char name[64];
    double v;
    if (sscanf(line, "zk %63s %lf", name, &v) != 2) return;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strcmp(name, fields[i].name) == 0) *(double *)((char *)zk + fields[i].off) = v;
}

/* Run cmd; "zk" lines feed zk (when given), the first other line is kept
 * as the reason should cmd fail. 1 when cmd exits 0. */
static int run_cmd(const char *cmd, zk_figures *zk, char *why, size_t why_cap)
{
    FILE *p = popen(cmd, "r");
    if (!p) return 0;
    char line[1024];
    why[0] = 0;
    while (fgets(line, sizeof(line), p)) {
        if (zk && strncmp(line, "zk ", 3) == 0) zk_parse(zk, line);
        else if (!why[0]) snprintf(why, why_cap, "%.*s", (int)strcspn(line, "\n"), line);
    }
    return pclose(p) == 0;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        char file[4096];
        for (struct dirent *e; (e = readdir(d));) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            if (snprintf(file, sizeof(file), "%s/%s", dir, e->d_name) < (int)sizeof(file)) unlink(file);
        }
        closedir(d);
    }
    if (rmdir(dir) != 0) printf("# could not remove %s\n", dir);
}

/* 1 when zk was filled; otherwise prints why it was skipped. */
static int zk_measure(zk_figures *zk)
{
    const char *src = getenv("ZAB_BENCH_SRC");
    const char *cp = getenv("ZAB_ZOOKEEPER_CLASSPATH");
    char here[1024], javac[1024], java[1024], source[1200], tmp[] = "/tmp/zab-bench-XXXXXX";
    char cmd[8192], why[512];
    if (getenv("ZAB_BENCH_NO_ZOOKEEPER")) {
        printf("# zookeeper comparison skipped: ZAB_BENCH_NO_ZOOKEEPER is set\n");
        return 0;
    }
    if (!src) {
        snprintf(here, sizeof(here), "%s", __FILE__);
        char *slash = strrchr(here, '/');
        if (slash) *slash = 0;
        else snprintf(here, sizeof(here), ".");
        src = here;
    }
    if (!cp) cp = access("/usr/share/java/slf4j-nop.jar", R_OK) == 0
                      ? "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar"
                      : "/usr/share/java/zookeeper.jar";
    snprintf(source, sizeof(source), "%s/ZkTreeBench.java", src);
    if (!find_in_path("javac", javac, sizeof(javac)) || !find_in_path("java", java, sizeof(java))) {
        printf("# zookeeper comparison skipped: no javac/java on PATH\n");
        return 0;
    }
    snprintf(cmd, sizeof(cmd), "%.*s", (int)strcspn(cp, ":"), cp);
    if (access(source, R_OK) != 0 || access(cmd, R_OK) != 0) {
        printf("# zookeeper comparison skipped: %s or ZooKeeper's jars (%s) not found\n", source, cp);
        return 0;
    }
    if (!shell_safe(source) || !shell_safe(cp) || !shell_safe(javac) || !shell_safe(java)) {
        printf("# zookeeper comparison skipped: a path holds a quote\n");
        return 0;
    }
    if (!mkdtemp(tmp)) {
        printf("# zookeeper comparison skipped: no temporary directory\n");
        return 0;
    }
    int ok = 0;
    snprintf(cmd, sizeof(cmd), "'%s' -nowarn -implicit:none -d '%s' -cp '%s' '%s' 2>&1",
             javac, tmp, cp, source);
    if (!run_cmd(cmd, NULL, why, sizeof(why))) {
        printf("# zookeeper comparison skipped: javac failed: %s\n", why);
        goto done;
    }
    /* The serial collector on a fixed heap: its collections run on the
     * measured thread, and a full one leaves only live objects to weigh. */
    snprintf(cmd, sizeof(cmd),
             "'%s' -XX:+UseSerialGC -XX:-UsePerfData -Xms3g -Xmx3g -cp '%s:%s' ZkTreeBench "
             "%d %d %d %d %d %llu 2>&1",
             java, tmp, cp, PARENTS, CHILDREN, READS, WRITES, RUNS, (unsigned long long)SEED);
    memset(zk, 0, sizeof(*zk));
    fflush(stdout);
    if (!run_cmd(cmd, zk, why, sizeof(why)) || zk->load_s <= 0) {
        printf("# zookeeper comparison skipped: ZkTreeBench failed: %s\n", why);
        goto done;
    }
    ok = 1;
done:
    remove_dir(tmp);
    return ok;
}

static void zk_report(const zk_figures *zk, const figures *f)
{
    printf("# zookeeper %s DataTree measured in this run on the same workload: one JVM, "
           "serial GC, the measured work on one thread\n",
           zk->version[0] ? zk->version : "(unknown version)");
    printf("# its createNode and setData are the apply step alone (no PrepRequestProcessor), so "
           "tree_create_per_s and tree_setdata_per_s (prepare + apply) face less work on its side; "
           "ratios are zab / zookeeper, snapshots by time for the whole tree\n");
    printf("bench: zookeeper_create_per_s %.0f ops/s\n", zk->create);
    printf("bench: zookeeper_getdata_per_s %.0f ops/s\n", zk->getdata);
    printf("bench: zookeeper_setdata_per_s %.0f ops/s\n", zk->setdata);
    printf("bench: zookeeper_snapshot_bytes %.0f bytes\n", zk->snapshot_bytes);
    printf("bench: zookeeper_snapshot_save_mb_per_s %.1f MB/s\n", zk->snapshot_bytes / 1e6 / zk->save_s);
    printf("bench: zookeeper_snapshot_load_mb_per_s %.1f MB/s\n", zk->snapshot_bytes / 1e6 / zk->load_s);
    printf("bench: zookeeper_heap_bytes_per_znode %.1f bytes\n", zk->heap);
    printf("bench: zookeeper_overhead_bytes_per_znode %.1f bytes\n", zk->overhead);
    printf("bench: tree_create_per_s_vs_zookeeper %.2f x\n", f->create / zk->create);
    printf("bench: tree_apply_create_per_s_vs_zookeeper %.2f x\n", f->apply / zk->create);
    printf("bench: tree_getdata_per_s_vs_zookeeper %.2f x\n", f->getdata / zk->getdata);
    printf("bench: tree_setdata_per_s_vs_zookeeper %.2f x\n", f->setdata / zk->setdata);
    printf("bench: snapshot_save_vs_zookeeper %.2f x\n", zk->save_s / f->save_s);
    printf("bench: snapshot_load_vs_zookeeper %.2f x\n", zk->load_s / f->load_s);
    if (f->overhead >= 0)
        printf("bench: tree_overhead_bytes_per_znode_vs_zookeeper %.2f x\n", f->overhead / zk->overhead);
}

int main(void)
{
    printf("# data tree, %d znodes (%d parents x %d children, 16-byte names, %d-byte data); "
           "compared against Apache ZooKeeper's DataTree (a Java ConcurrentHashMap of "
           "DataNode objects keyed by full path)\n",
           NODES, PARENTS, CHILDREN, DATA_LEN);
    bench b;
    bench_init(&b);
    figures f;
    weight w[2];
    zab_tree *t = bench_creates(&b, w, &f);
    zab_buf_free(&b.log);
    uint64_t rng = SEED;
    f.getdata = bench_reads(&b, t, &rng);
    f.setdata = bench_writes(&b, t, &rng);
    bench_snapshots(t, &f);
    f.overhead = overhead_per_znode(w);
    zab_tree_free(t);
    bench_free(&b);

    zk_figures zk;
    if (zk_measure(&zk)) zk_report(&zk, &f);
    return 0;
}
