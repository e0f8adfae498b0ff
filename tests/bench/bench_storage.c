/*
 * bench_storage.c - the POSIX file storage on a real file system: durable
 * transactions per second with group commit and with one fsync per
 * transaction, the time to recover a log of a million transactions, and
 * snapshot files written and loaded. When a JDK and ZooKeeper's jars are
 * installed, ZooKeeper's own transaction log (FileTxnLog, driven by
 * ZkLogBench.java next to this file) runs the same 100-byte workload on the
 * same file system and the two are printed side by side.
 *
 * Output: "bench: <name> <value> <unit>" lines; comments start with '#'.
 *
 * Environment: ZAB_BENCH_DIR (where the temporary directory goes, default
 * /tmp), ZAB_BENCH_SRC (directory of ZkLogBench.java, default the directory
 * of this file), ZAB_ZOOKEEPER_CLASSPATH (default Debian's
 * /usr/share/java/zookeeper.jar, whose manifest names its dependencies),
 * ZAB_BENCH_NO_ZOOKEEPER=1 to skip the comparison.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "zab.h"

enum {
    WINDOW = 1000,          /* appended but not yet durable, at most */
    BATCH = 100,            /* records per append call */
    LOG_TXNS = 1000000,     /* the group-commit run, then recovered */
    LOG_MAX_S = 30,
    EACH_MAX_S = 2,
    KB_TXNS = 300000,
    KB_MAX_S = 4,
    PARENTS = 100,
    CHILDREN = 10000,
    DATA_LEN = 32
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc, const char *detail)
{
    fprintf(stderr, "bench_storage: %s: %s (%d)%s%s\n", what, zab_strerror(rc), rc,
            detail && *detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static void *xmalloc(size_t len)
{
    void *p = malloc(len);
    if (!p) die("malloc", ZAB_ENOMEM, NULL);
    return p;
}

static void sub_dir(char *out, size_t cap, const char *root, const char *name)
{
    if (snprintf(out, cap, "%s/%s", root, name) >= (int)cap) die("path", ZAB_ETOOBIG, root);
}

/* Remove dir and everything under it (two levels are all this bench makes). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        char path[4096];
        for (struct dirent *e; (e = readdir(d));) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
            struct stat st;
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(path);
            else unlink(path);
        }
        closedir(d);
    }
    if (rmdir(dir) != 0) printf("# could not remove %s: %s\n", dir, strerror(errno));
}

static const char *fs_name(const char *dir)
{
    struct statfs st;
    if (statfs(dir, &st) != 0) return "unknown";
    switch ((unsigned long)st.f_type) {
    case 0xEF53: return "ext2/3/4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs (fsync costs nothing here)";
    case 0x794c7630: return "overlayfs";
    case 0x2fc12fc1: return "zfs";
    case 0xF2F52010: return "f2fs";
    default: return "other";
    }
}

/* ---- the log ---- */

static zab_storage *open_store(const char *dir, int sync_each)
{
    zab_storage_config cfg = { .dir = dir, .sync_each = sync_each };
    zab_storage *s;
    char err[512] = "";
    int rc = zab_storage_open(&cfg, &s, err, sizeof err);
    if (rc) die("zab_storage_open", rc, err);
    return s;
}

static int64_t wait_synced(zab_storage *s, int timeout_ms)
{
    struct pollfd p = { zab_storage_fd(s), POLLIN, 0 };
    poll(&p, 1, timeout_ms);
    int rc = zab_storage_status(s);
    if (rc) die("storage failed", rc, NULL);
    return zab_storage_synced(s);
}

/* Durable appends of txn_len-byte records into a new storage in dir,
 * keeping up to WINDOW appended but not yet durable: count records, or as
 * many as max_s seconds allow. Returns records per second from the first
 * append until the last is durable; *done says how many. The storage is
 * left closed. */
static double log_durable(const char *dir, size_t txn_len, int sync_each, uint64_t count,
                          double max_s, uint64_t *done)
{
    zab_storage *s = open_store(dir, sync_each);
    int rc = zab_storage_save_epochs(s, 1, 1);
    if (rc) die("save_epochs", rc, NULL);
    uint8_t *txn = xmalloc(txn_len);
    for (size_t i = 0; i < txn_len; i++) txn[i] = (uint8_t)('a' + i % 26);
    zab_entry e[BATCH];
    uint64_t appended = 0;
    int64_t synced = 0;
    double t0 = now_s();
    while (appended < count && now_s() - t0 < max_s) {
        while (appended - (uint64_t)synced + BATCH <= WINDOW && appended < count) {
            size_t n = 0;
            for (; n < BATCH && appended < count; n++) {
                appended++;
                e[n] = (zab_entry){ ZAB_ZXID(1, appended), txn, txn_len };
            }
            rc = zab_storage_append(s, e, n);
            if (rc) die("append", rc, NULL);
        }
        synced = ZAB_COUNTER(wait_synced(s, 100));
    }
    while ((uint64_t)synced < appended) synced = ZAB_COUNTER(wait_synced(s, 100));
    double t = now_s() - t0;
    zab_storage_close(s);
    free(txn);
    *done = appended;
    return (double)appended / t;
}

/* ---- recovery ---- */

static void nop_send(void *ctx, int64_t to, const void *b, size_t len) { (void)ctx, (void)to, (void)b, (void)len; }
static void nop_disconnect(void *ctx, int64_t to) { (void)ctx, (void)to; }
static int nop_append(void *ctx, const zab_entry *e, size_t n) { (void)ctx, (void)e, (void)n; return 0; }
static int nop_truncate(void *ctx, int64_t z) { (void)ctx, (void)z; return 0; }
static int nop_epochs(void *ctx, int64_t a, int64_t c) { (void)ctx, (void)a, (void)c; return 0; }
static int nop_snapshot(void *ctx, const zab_tree *t) { (void)ctx, (void)t; return 0; }

static zab_node *node_new(const zab_node_state *st)
{
    zab_member self = { 1, 0 };
    zab_node_config cfg = { .sid = 1, .members = &self, .nmembers = 1 };
    zab_io io = { .send = nop_send, .disconnect = nop_disconnect, .log_append = nop_append,
                  .log_truncate = nop_truncate, .save_epochs = nop_epochs,
                  .save_snapshot = nop_snapshot };
    zab_node *n = zab_node_new(&cfg, &io, st);
    if (!n) die("zab_node_new", ZAB_ENOMEM, NULL);
    return n;
}

/* Open dir and restore it into a new node; seconds taken. */
static double open_and_restore(const char *dir, int64_t *last_logged, int64_t *snap_zxid)
{
    double t0 = now_s();
    zab_storage *s = open_store(dir, 0);
    zab_node_state st;
    zab_storage_state(s, &st);
    zab_node *node = node_new(&st);
    int rc = zab_storage_restore(s, node);
    if (rc) die("zab_storage_restore", rc, NULL);
    double t = now_s() - t0;
    zab_node_stats ns;
    zab_node_stats_get(node, &ns);
    *last_logged = ns.last_logged;
    *snap_zxid = ns.last_applied;
    zab_storage_close(s);
    zab_node_free(node);
    return t;
}

/* ---- snapshots ---- */

static zab_tree *build_tree(uint64_t *nodes)
{
    zab_tree_config cfg = { .hash_seed = 1 };
    zab_tree *t = zab_tree_new(&cfg);
    if (!t) die("zab_tree_new", ZAB_ENOMEM, NULL);
    zab_buf txn = { 0 };
    uint8_t data[DATA_LEN];
    memset(data, 'x', sizeof data);
    int64_t zxid = 0;
    char path[64];
    for (int64_t k = -1 - PARENTS; k < (int64_t)PARENTS * CHILDREN; k++) {
        if (k == -1 - PARENTS) snprintf(path, sizeof path, "/bench");
        else if (k < 0) snprintf(path, sizeof path, "/bench/dir-%03d", (int)(k + PARENTS));
        else snprintf(path, sizeof path, "/bench/dir-%03d/node-%011" PRId64, (int)(k % PARENTS), k);
        zab_op op = zab_op_create(path, data, DATA_LEN, zab_acl_open, 1, ZAB_PERSISTENT);
        zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
        zxid = ZAB_ZXID(1, ZAB_COUNTER(zxid) + 1);
        txn.len = 0;
        int rc = zab_tree_prepare(t, &req, zxid, 1700000000000LL, &txn);
        zab_reply rep;
        if (!rc) rc = zab_tree_apply(t, zxid, txn.data, txn.len, &rep);
        if (rc) die("building the tree", rc, path);
    }
    zab_buf_free(&txn);
    zab_tree_stats st;
    zab_tree_stats_get(t, &st);
    *nodes = st.nodes;
    return t;
}

/* zab_storage_snapshot, then wait for the file to be renamed into place
 * (after its bytes are fsynced) and close the storage (which waits for the
 * directory fsync). Seconds taken; *bytes: the file's size. */
static double snapshot_save(const char *dir, const zab_tree *tree, uint64_t *bytes)
{
    zab_storage *s = open_store(dir, 0);
    int rc = zab_storage_save_epochs(s, 1, 1);
    if (rc) die("save_epochs", rc, NULL);
    zab_tree_stats st;
    zab_tree_stats_get(tree, &st);
    char name[40], path[4400];
    snprintf(name, sizeof name, "snap.%016" PRIx64, (uint64_t)st.last_zxid);
    sub_dir(path, sizeof path, dir, name);
    double t0 = now_s();
    rc = zab_storage_snapshot(s, tree);
    if (rc) die("zab_storage_snapshot", rc, NULL);
    struct stat fst;
    while (stat(path, &fst) != 0) {
        rc = zab_storage_status(s);
        if (rc) die("snapshot write", rc, NULL);
        if (now_s() - t0 > 120) die("snapshot file never appeared", ZAB_EIO, path);
        struct timespec ts = { 0, 200000 };
        nanosleep(&ts, NULL);
    }
    zab_storage_close(s);
    double t = now_s() - t0;
    *bytes = (uint64_t)fst.st_size;
    return t;
}

/* ---- ZooKeeper's FileTxnLog, measured by ZkLogBench.java ---- */

typedef struct zk_figures {
    char version[128];
    double rate, txn_bytes, txns;
    int force_sync;
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
    char name[64], value[128];
    if (strncmp(line, "zk version ", 11) == 0) {
        snprintf(zk->version, sizeof zk->version, "%.*s", (int)strcspn(line + 11, "- ,\n"), line + 11);
        return;
    }
    if (sscanf(line, "zk %63s %127s", name, value) != 2) return;
    if (strcmp(name, "log_durable_per_s") == 0) zk->rate = strtod(value, NULL);
    else if (strcmp(name, "txn_bytes") == 0) zk->txn_bytes = strtod(value, NULL);
    else if (strcmp(name, "txns") == 0) zk->txns = strtod(value, NULL);
    else if (strcmp(name, "force_sync") == 0) zk->force_sync = strcmp(value, "true") == 0;
}

/* Run cmd; "zk" lines feed zk (when given), the first other line is kept
 * as the reason should cmd fail. 1 when cmd exits 0. */
static int run_cmd(const char *cmd, zk_figures *zk, char *why, size_t why_cap)
{
    FILE *p = popen(cmd, "r");
    if (!p) return 0;
    char line[1024];
    why[0] = 0;
    while (fgets(line, sizeof line, p)) {
        if (zk && strncmp(line, "zk ", 3) == 0) zk_parse(zk, line);
        else if (!why[0]) snprintf(why, why_cap, "%.*s", (int)strcspn(line, "\n"), line);
    }
    return pclose(p) == 0;
}

/* 1 when zk was filled; otherwise prints why it was skipped. The log goes
 * under root (the same file system as ours); the classes into a temporary
 * directory, removed afterwards. */
static int zk_measure(const char *root, zk_figures *zk)
{
    const char *src = getenv("ZAB_BENCH_SRC");
    const char *cp = getenv("ZAB_ZOOKEEPER_CLASSPATH");
    char here[1024], javac[1024], java[1024], source[1200], classes[] = "/tmp/zab-bench-XXXXXX";
    char logdir[4200], cmd[16384], why[512];
    if (getenv("ZAB_BENCH_NO_ZOOKEEPER")) {
        printf("# zookeeper comparison skipped: ZAB_BENCH_NO_ZOOKEEPER is set\n");
        return 0;
    }
    if (!src) {
        snprintf(here, sizeof here, "%s", __FILE__);
        char *slash = strrchr(here, '/');
        if (slash) *slash = 0;
        else snprintf(here, sizeof here, ".");
        src = here;
    }
    if (!cp) cp = access("/usr/share/java/slf4j-nop.jar", R_OK) == 0
                      ? "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar"
                      : "/usr/share/java/zookeeper.jar";
    snprintf(source, sizeof source, "%s/ZkLogBench.java", src);
    if (!find_in_path("javac", javac, sizeof javac) || !find_in_path("java", java, sizeof java)) {
        printf("# zookeeper comparison skipped: no javac/java on PATH\n");
        return 0;
    }
    snprintf(cmd, sizeof cmd, "%.*s", (int)strcspn(cp, ":"), cp);
    if (access(source, R_OK) != 0 || access(cmd, R_OK) != 0) {
        printf("# zookeeper comparison skipped: %s or ZooKeeper's jars (%s) not found\n", source, cp);
        return 0;
    }
    sub_dir(logdir, sizeof logdir, root, "zookeeper");
    if (!shell_safe(source) || !shell_safe(cp) || !shell_safe(javac) || !shell_safe(java) ||
        !shell_safe(logdir)) {
        printf("# zookeeper comparison skipped: a path holds a quote\n");
        return 0;
    }
    if (!mkdtemp(classes)) {
        printf("# zookeeper comparison skipped: no temporary directory\n");
        return 0;
    }
    int ok = 0;
    snprintf(cmd, sizeof cmd, "'%s' -nowarn -implicit:none -d '%s' -cp '%s' '%s' 2>&1", javac,
             classes, cp, source);
    if (!run_cmd(cmd, NULL, why, sizeof why)) {
        printf("# zookeeper comparison skipped: javac failed: %s\n", why);
        goto done;
    }
    if (mkdir(logdir, 0700) != 0) {
        printf("# zookeeper comparison skipped: mkdir %s: %s\n", logdir, strerror(errno));
        goto done;
    }
    snprintf(cmd, sizeof cmd,
             "'%s' -XX:-UsePerfData -Dzookeeper.forceSync=yes -cp '%s:%s' ZkLogBench '%s' %d %d %d %d 2>&1",
             java, classes, cp, logdir, LOG_TXNS, WINDOW, 100, LOG_MAX_S);
    memset(zk, 0, sizeof *zk);
    fflush(stdout);
    if (!run_cmd(cmd, zk, why, sizeof why) || zk->rate <= 0) {
        printf("# zookeeper comparison skipped: ZkLogBench failed: %s\n", why);
        goto done;
    }
    ok = 1;
done:
    remove_tree(classes);
    return ok;
}

int main(void)
{
    const char *base = getenv("ZAB_BENCH_DIR");
    char root[4096];
    snprintf(root, sizeof root, "%s/zab-bench-storage-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(root)) die("mkdtemp", ZAB_EIO, strerror(errno));
    printf("# file storage in %s: file system %s; group commit keeps up to %d records appended "
           "but not durable, appending %d per call; every figure is one run\n",
           root, fs_name(root), WINDOW, BATCH);

    char dir[4200];
    uint64_t done;
    sub_dir(dir, sizeof dir, root, "group100");
    double group = log_durable(dir, 100, 0, LOG_TXNS, LOG_MAX_S, &done);
    printf("# log_durable_100b_group: %" PRIu64 " records of 100 bytes (16 more of framing each)\n",
           done);
    printf("bench: log_durable_100b_group_per_s %.0f txn/s\n", group);

    int64_t last, snap;
    double rec_s = open_and_restore(dir, &last, &snap);
    if ((uint64_t)ZAB_COUNTER(last) != done) die("recovery lost records", ZAB_ECORRUPT, dir);
    printf("# log_recovery: zab_storage_open (finds the segments, checks every record's CRC and "
           "the zxid chain) + zab_storage_restore into a new node (each record handed to "
           "zab_node_restore_entry, which keeps it in the node's log; nothing is applied) of "
           "%" PRIu64 " records\n", done);
    printf("bench: log_recovery_1m_txns_s %.3f s\n", rec_s * 1e6 / (double)done);
    remove_tree(dir);

    sub_dir(dir, sizeof dir, root, "each100");
    uint64_t each_done;
    double each = log_durable(dir, 100, 1, LOG_TXNS, EACH_MAX_S, &each_done);
    printf("# log_durable_100b_each_sync: sync_each (one fdatasync per record), %" PRIu64
           " records in about %d s\n", each_done, EACH_MAX_S);
    printf("bench: log_durable_100b_each_sync_per_s %.0f txn/s\n", each);
    printf("# one fdatasync of a preallocated segment takes about %.0f us on this disk\n",
           1e6 / each);
    remove_tree(dir);

    sub_dir(dir, sizeof dir, root, "group1k");
    double kb = log_durable(dir, 1024, 0, KB_TXNS, KB_MAX_S, &done);
    printf("# log_durable_1k_group: %" PRIu64 " records of 1024 bytes\n", done);
    printf("bench: log_durable_1k_group_per_s %.0f txn/s\n", kb);
    remove_tree(dir);

    uint64_t nodes, bytes;
    zab_tree *tree = build_tree(&nodes);
    sub_dir(dir, sizeof dir, root, "snap");
    double save_s = snapshot_save(dir, tree, &bytes);
    zab_tree_free(tree);
    double load_s = open_and_restore(dir, &last, &snap);
    if (snap != last || ZAB_COUNTER(snap) != 1 + PARENTS + (uint64_t)PARENTS * CHILDREN)
        die("the snapshot did not come back", ZAB_ECORRUPT, dir);
    printf("# snapshot_file: a tree of %" PRIu64 " znodes (%d-byte data), a %.1f MB file; save: "
           "zab_storage_snapshot (serializes on the calling thread) until the file is renamed into "
           "place (after its fsync) and the storage closed (directory fsynced); load: "
           "zab_storage_open (validates the snapshot) + zab_storage_restore into a new node\n",
           nodes, DATA_LEN, (double)bytes / 1e6);
    printf("bench: snapshot_file_save_mb_per_s %.1f MB/s\n", (double)bytes / 1e6 / save_s);
    printf("bench: snapshot_file_load_mb_per_s %.1f MB/s\n", (double)bytes / 1e6 / load_s);
    remove_tree(dir);

    zk_figures zk;
    if (zk_measure(root, &zk)) {
        printf("# zookeeper %s FileTxnLog (forceSync=%s) on the same file system: %.0f "
               "transactions of %.0f bytes (TxnHeader + SetDataTxn), committed every %d appends "
               "as SyncRequestProcessor does at its maxBatchSize (appending waits while it commits; "
               "zab's writer thread syncs while appends go on); one JVM run, warm-up included\n",
               zk.version[0] ? zk.version : "(unknown version)", zk.force_sync ? "yes" : "no",
               zk.txns, zk.txn_bytes, WINDOW);
        printf("bench: zookeeper_log_durable_100b_group_per_s %.0f txn/s\n", zk.rate);
        printf("bench: log_durable_100b_group_per_s_vs_zookeeper %.2f x\n", group / zk.rate);
    }
    remove_tree(root);
    return 0;
}
