/*
 * File storage faults. First through the replaceable system calls: a short
 * write, EIO from pwrite, fsync and fdatasync, ENOSPC from a write and from
 * preallocation, EIO from rename. Each must stop the storage for good: the
 * status turns non-zero, every later call returns the error, the synced
 * zxid never moves past what was durable before the fault (even when the
 * next fsync would succeed: an fsync is never retried), and a node driven
 * by the storage stops.
 *
 * Then damage done to the files by hand, which recovery must report as
 * zab-storage(7) says: a torn record at the end of the log is cut; a bit
 * flipped anywhere else (segment header, a record's length, zxid, body or
 * CRC, the snapshot, the epochs file) or a missing segment refuses to open
 * with ZAB_ECORRUPT and a message naming the file; a damaged newest
 * snapshot is passed over for an older valid one; truncate_corrupt cuts the
 * log at the damage instead. Nothing damaged is ever handed to a node.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "helpers/tmpdir.h"
#include "storage/sys.h"
#include "util/codec.h"
#include "util/prim.h"
#include "zab.h"

enum {
    SEGMENT_BYTES = 4096, /* a few dozen records: logs span several segments */
    WAIT_MS = 5000,
    SEG_HEADER = 64,
    REC_HEADER = 16,
    SNAP_HEADER = 48,
    EPOCHS_BYTES = 32
};

static const uint64_t HASH_SEED = 0xfa017;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- the fault layer ---- */

enum { C_NONE, C_PWRITE, C_FSYNC, C_FDATASYNC, C_FALLOCATE, C_RENAME, C_FTRUNCATE, C_UNLINK, C_COUNT };

/* One fault at a time: the next call of kind `call` (after `skip` more)
 * fails once with err, or for a short write writes half and says so. The
 * calls after it succeed again, as a real disk's may: the storage must not
 * take that as a recovery. Written by the test thread, read by the writer
 * thread, hence atomics. */
static struct {
    atomic_int call;
    atomic_long skip;
    atomic_int fired;
    atomic_int err;
    atomic_int short_write;
    atomic_long calls[C_COUNT];
} F;

static void fault_reset(void)
{
    atomic_store(&F.call, C_NONE);
    atomic_store(&F.skip, 0);
    atomic_store(&F.fired, 0);
    atomic_store(&F.err, 0);
    atomic_store(&F.short_write, 0);
    for (int i = 0; i < C_COUNT; i++) atomic_store(&F.calls[i], 0);
}

static void fault_arm(int call, int err, long skip)
{
    atomic_store(&F.fired, 0);
    atomic_store(&F.err, err);
    atomic_store(&F.skip, skip);
    atomic_store(&F.call, call);
}

static int fault_hit(int call)
{
    atomic_fetch_add(&F.calls[call], 1);
    if (atomic_load(&F.call) != call) return 0;
    if (atomic_fetch_sub(&F.skip, 1) > 0) return 0;
    int expected = call;
    if (!atomic_compare_exchange_strong(&F.call, &expected, C_NONE)) return 0;
    atomic_fetch_add(&F.fired, 1);
    errno = atomic_load(&F.err);
    return 1;
}

static ssize_t f_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    if (fault_hit(C_PWRITE)) {
        if (atomic_load(&F.short_write) && len > 1) return zab_sys_posix()->pwrite(fd, buf, len / 2, off);
        return -1;
    }
    return zab_sys_posix()->pwrite(fd, buf, len, off);
}

static int f_fsync(int fd)
{
    return fault_hit(C_FSYNC) ? -1 : zab_sys_posix()->fsync(fd);
}

static int f_fdatasync(int fd)
{
    return fault_hit(C_FDATASYNC) ? -1 : zab_sys_posix()->fdatasync(fd);
}

static int f_fallocate(int fd, off_t off, off_t len)
{
    return fault_hit(C_FALLOCATE) ? -1 : zab_sys_posix()->fallocate(fd, off, len);
}

static int f_rename(const char *from, const char *to)
{
    return fault_hit(C_RENAME) ? -1 : zab_sys_posix()->rename(from, to);
}

static int f_ftruncate(int fd, off_t len)
{
    return fault_hit(C_FTRUNCATE) ? -1 : zab_sys_posix()->ftruncate(fd, len);
}

static int f_unlink(const char *path)
{
    return fault_hit(C_UNLINK) ? -1 : zab_sys_posix()->unlink(path);
}

static struct zab_sys faulty_sys(void)
{
    struct zab_sys s = *zab_sys_posix();
    s.pwrite = f_pwrite;
    s.fsync = f_fsync;
    s.fdatasync = f_fdatasync;
    s.fallocate = f_fallocate;
    s.rename = f_rename;
    s.ftruncate = f_ftruncate;
    s.unlink = f_unlink;
    return s;
}

/* ---- a history of real transactions ---- */

/* Transaction i (1-based) creates /n<i> in epoch 1: zxid (1, i). */
typedef struct history {
    zab_tree *tree;
    zab_buf *txn;
    size_t n;
} history;

static zab_tree *tree_new(void)
{
    zab_tree_config cfg = { .hash_seed = HASH_SEED };
    zab_tree *t = zab_tree_new(&cfg);
    ck_assert_ptr_nonnull(t);
    return t;
}

static history history_make(size_t n)
{
    history h = { tree_new(), calloc(n + 1, sizeof(zab_buf)), n };
    ck_assert_ptr_nonnull(h.txn);
    for (size_t i = 1; i <= n; i++) {
        char path[32], data[48];
        snprintf(path, sizeof path, "/n%06zu", i);
        int len = snprintf(data, sizeof data, "payload of transaction %06zu....", i);
        zab_op op = zab_op_create(path, data, len, zab_acl_open, 1, ZAB_PERSISTENT);
        zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
        int64_t zxid = ZAB_ZXID(1, i);
        ck_assert_int_eq(zab_tree_prepare(h.tree, &req, zxid, 1000 + (int64_t)i, &h.txn[i]), 0);
        zab_reply rep;
        ck_assert_int_eq(zab_tree_apply(h.tree, zxid, h.txn[i].data, h.txn[i].len, &rep), 0);
    }
    return h;
}

static void history_free(history *h)
{
    for (size_t i = 0; i <= h->n; i++) zab_buf_free(&h->txn[i]);
    free(h->txn);
    zab_tree_free(h->tree);
}

/* A tree holding transactions 1..upto. */
static zab_tree *history_tree(const history *h, size_t upto)
{
    zab_tree *t = tree_new();
    for (size_t i = 1; i <= upto; i++) {
        zab_reply rep;
        ck_assert_int_eq(zab_tree_apply(t, ZAB_ZXID(1, i), h->txn[i].data, h->txn[i].len, &rep), 0);
    }
    return t;
}

/* ---- storage helpers ---- */

static zab_storage *store_open(const char *dir, const struct zab_sys *sys, int truncate_corrupt)
{
    zab_storage_config cfg = { .dir = dir, .segment_bytes = SEGMENT_BYTES, .sys = sys,
                               .truncate_corrupt = truncate_corrupt };
    zab_storage *s = NULL;
    char err[512] = "";
    int rc = zab_storage_open(&cfg, &s, err, sizeof err);
    ck_assert_msg(rc == 0, "open %s: %s (%s)", dir, zab_strerror(rc), err);
    return s;
}

/* Append transactions from..to in one call. */
static int append_range(zab_storage *s, const history *h, size_t from, size_t to)
{
    size_t n = to - from + 1;
    zab_entry *e = calloc(n, sizeof *e);
    ck_assert_ptr_nonnull(e);
    for (size_t i = 0; i < n; i++)
        e[i] = (zab_entry){ ZAB_ZXID(1, from + i), h->txn[from + i].data, h->txn[from + i].len };
    int rc = zab_storage_append(s, e, n);
    free(e);
    return rc;
}

/* Wait until synced reaches zxid (1) or the storage fails (0). */
static int wait_synced(zab_storage *s, int64_t zxid)
{
    int64_t deadline = now_ms() + WAIT_MS;
    while (zab_storage_synced(s) < zxid) {
        if (zab_storage_status(s)) return 0;
        ck_assert_msg(now_ms() < deadline, "synced stuck at 0x%" PRIx64 " below 0x%" PRIx64,
                      (uint64_t)zab_storage_synced(s), (uint64_t)zxid);
        struct pollfd p = { zab_storage_fd(s), POLLIN, 0 };
        poll(&p, 1, 20);
    }
    return 1;
}

static int wait_failed(zab_storage *s, long ms)
{
    int64_t deadline = now_ms() + ms;
    while (!zab_storage_status(s) && now_ms() < deadline) sleep_ms(5);
    return zab_storage_status(s);
}

static void path_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    ck_assert(n > 0 && (size_t)n < cap);
}

static int file_exists(const char *dir, const char *name)
{
    char path[512];
    path_join(path, sizeof path, dir, name);
    return access(path, F_OK) == 0;
}

static void snap_name(char *out, size_t cap, int64_t zxid)
{
    snprintf(out, cap, "snap.%016" PRIx64, (uint64_t)zxid);
}

/* zab_storage_snapshot and wait for its file to appear (renamed into place
 * only once its bytes are synced). */
static void take_snapshot(zab_storage *s, const char *dir, const zab_tree *tree)
{
    zab_tree_stats st;
    zab_tree_stats_get(tree, &st);
    ck_assert_int_eq(zab_storage_snapshot(s, tree), 0);
    char name[40];
    snap_name(name, sizeof name, st.last_zxid);
    int64_t deadline = now_ms() + WAIT_MS;
    while (!file_exists(dir, name)) {
        ck_assert_int_eq(zab_storage_status(s), 0);
        ck_assert_msg(now_ms() < deadline, "%s never appeared", name);
        sleep_ms(2);
    }
}

/* ---- recovering into a node ---- */

typedef struct null_host {
    int role;
    int64_t appended;
} null_host;

static void nh_send(void *ctx, int64_t to, const void *b, size_t len) { (void)ctx, (void)to, (void)b, (void)len; }
static void nh_disconnect(void *ctx, int64_t to) { (void)ctx, (void)to; }
static int nh_append(void *ctx, const zab_entry *e, size_t n)
{
    ((null_host *)ctx)->appended = e[n - 1].zxid;
    return 0;
}
static int nh_truncate(void *ctx, int64_t zxid) { (void)ctx, (void)zxid; return 0; }
static int nh_epochs(void *ctx, int64_t a, int64_t c) { (void)ctx, (void)a, (void)c; return 0; }
static int nh_snapshot(void *ctx, const zab_tree *t) { (void)ctx, (void)t; return 0; }
static void nh_role(void *ctx, int role, int64_t leader, int64_t epoch)
{
    (void)leader, (void)epoch;
    ((null_host *)ctx)->role = role;
}

typedef struct recovered {
    zab_node_state epochs;
    int64_t snap_zxid;  /* the restored snapshot's (0: none) */
    int64_t last;       /* the last restored log zxid */
    char note[512];     /* what the open said it repaired or skipped */
} recovered;

static zab_node *node_new(const zab_node_state *st, null_host *nh)
{
    zab_member self = { 1, 0 };
    zab_node_config cfg = { .sid = 1, .members = &self, .nmembers = 1, .tick_ms = 100,
                            .finalize_wait_ms = 10, .tree = { .hash_seed = HASH_SEED } };
    zab_io io = { .ctx = nh, .send = nh_send, .disconnect = nh_disconnect,
                  .log_append = nh_append, .log_truncate = nh_truncate,
                  .save_epochs = nh_epochs, .save_snapshot = nh_snapshot, .on_role = nh_role };
    zab_node *node = zab_node_new(&cfg, &io, st);
    ck_assert_ptr_nonnull(node);
    return node;
}

/* Lead alone (on a host that keeps nothing) and compare the tree with the
 * history's first `last` transactions. */
static void check_content(zab_node *node, null_host *nh, const history *h, int64_t last)
{
    ck_assert_int_eq(zab_node_start(node, 0), 0);
    zab_node_stats ns;
    int64_t t = 0;
    for (int i = 0;; i++) {
        ck_assert_msg(i < 100000, "the recovered node never led");
        ck_assert_int_eq(zab_node_log_synced(node, nh->appended), 0);
        zab_node_stats_get(node, &ns);
        if (nh->role == ZAB_LEADING && ns.last_applied >= last) break;
        int64_t due = zab_node_next_deadline(node);
        t = due > t ? due : t + 1;
        ck_assert_int_eq(zab_node_tick(node, t), 0);
    }
    zab_tree *want = history_tree(h, (size_t)ZAB_COUNTER(last));
    zab_tree_stats a, b;
    zab_tree_stats_get(zab_node_tree(node), &a);
    zab_tree_stats_get(want, &b);
    ck_assert_msg(a.digest == b.digest && a.nodes == b.nodes,
                  "the recovered tree differs from the history up to 0x%" PRIx64, (uint64_t)last);
    zab_tree_free(want);
}

/* Open cfg's directories, restore into a node, check its content against
 * the history. 0 and *out, or the open's code with err filled. */
static int recover_cfg(const zab_storage_config *cfg, const history *h, recovered *out,
                       char *err, size_t errlen)
{
    zab_storage *s = NULL;
    err[0] = 0;
    int rc = zab_storage_open(cfg, &s, err, errlen);
    if (rc) return rc;
    zab_storage_state(s, &out->epochs);
    null_host nh = { ZAB_LOOKING, 0 };
    zab_node *node = node_new(&out->epochs, &nh);
    rc = zab_storage_restore(s, node);
    ck_assert_msg(rc == 0, "restore after a successful open: %s", zab_strerror(rc));
    zab_storage_close(s);
    snprintf(out->note, sizeof out->note, "%s", err);
    zab_node_stats ns;
    zab_node_stats_get(node, &ns);
    out->snap_zxid = ns.last_applied;
    out->last = ns.last_logged;
    ck_assert_int_eq(ZAB_EPOCH(out->last), out->last ? 1 : 0);
    ck_assert_uint_le(ZAB_COUNTER(out->last), h->n);
    check_content(node, &nh, h, out->last);
    zab_node_free(node);
    return 0;
}

/* The same on dir with the real system calls. */
static int recover(const char *dir, int truncate_corrupt, const history *h, recovered *out,
                   char *err, size_t errlen)
{
    zab_storage_config cfg = { .dir = dir, .segment_bytes = SEGMENT_BYTES,
                               .truncate_corrupt = truncate_corrupt };
    return recover_cfg(&cfg, h, out, err, errlen);
}

static recovered recover_ok(const char *dir, int truncate_corrupt, const history *h)
{
    recovered r;
    char err[512];
    int rc = recover(dir, truncate_corrupt, h, &r, err, sizeof err);
    ck_assert_msg(rc == 0, "recovery of %s failed: %s (%s)", dir, zab_strerror(rc), err);
    return r;
}

/* Recovery must refuse with ZAB_ECORRUPT and a message naming `name` (or,
 * with alt, one of the two). */
static void recover_corrupt2(const char *dir, const history *h, const char *name, const char *alt,
                             const char *what)
{
    recovered r;
    char err[512];
    int rc = recover(dir, 0, h, &r, err, sizeof err);
    ck_assert_msg(rc == ZAB_ECORRUPT, "%s: open gave %s (%d), not ZAB_ECORRUPT; recovered up to 0x%" PRIx64,
                  what, zab_strerror(rc), rc, rc ? 0 : (uint64_t)r.last);
    ck_assert_msg(strstr(err, name) || (alt && strstr(err, alt)),
                  "%s: the message \"%s\" does not name %s", what, err, name);
}

static void recover_corrupt(const char *dir, const history *h, const char *name, const char *what)
{
    recover_corrupt2(dir, h, name, NULL, what);
}

/* ---- the storage failing under a fault ---- */

/* After the storage stopped: every call fails, synced stays where it was. */
static void check_stopped(zab_storage *s, const history *h, size_t next, int64_t synced)
{
    int st = zab_storage_status(s);
    ck_assert_msg(st != 0, "the storage did not stop");
    ck_assert_msg(st == ZAB_EIO, "status %s, want ZAB_EIO", zab_strerror(st));
    ck_assert_int_eq(append_range(s, h, next, next), st);
    ck_assert_int_eq(zab_storage_truncate(s, synced), st);
    ck_assert_int_eq(zab_storage_save_epochs(s, 5, 5), st);
    zab_tree *t = history_tree(h, next);
    ck_assert_int_eq(zab_storage_snapshot(s, t), st);
    ck_assert_int_eq(zab_storage_save_snapshot(s, t), st);
    zab_tree_free(t);
    sleep_ms(50);
    ck_assert_int_eq(zab_storage_synced(s), synced);
    ck_assert_int_eq(zab_storage_status(s), st);
}

/* zab_storage_error once stopped: the code, and words naming the file
 * (or directory) and, when given, the system's text for errnum. */
static void check_error_text(const zab_storage *s, const char *file, int errnum)
{
    char msg[512];
    ck_assert_int_eq(zab_storage_error(s, msg, sizeof msg), ZAB_EIO);
    ck_assert_msg(strstr(msg, file) != NULL, "the error \"%s\" does not name %s", msg, file);
    if (errnum)
        ck_assert_msg(strstr(msg, strerror(errnum)) != NULL, "the error \"%s\" does not say \"%s\"",
                      msg, strerror(errnum));
}

static void check_running(const zab_storage *s)
{
    char msg[64] = "x";
    ck_assert_int_eq(zab_storage_error(s, msg, sizeof msg), 0);
    ck_assert_str_eq(msg, "");
}

/* Appends in batches of `batch` records until the armed fault stops the
 * storage. Checks that synced stayed at what the batches before the
 * failing one made durable, and that recovery keeps at least that. */
static void append_until_failure(const struct zab_sys *sys, int call, int err, int short_write,
                                 size_t batch, const char *names)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    history h = history_make(400);
    fault_reset();
    zab_storage *s = store_open(dir, sys, 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    ck_assert_int_eq(append_range(s, &h, 1, 3), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 3)));
    check_running(s);
    atomic_store(&F.short_write, short_write);
    fault_arm(call, err, 0);
    size_t next = 4;
    int64_t durable = ZAB_ZXID(1, 3);
    for (;;) {
        ck_assert_msg(next + batch <= h.n, "the fault (call %d) never fired", call);
        int rc = append_range(s, &h, next, next + batch - 1);
        if (rc) {
            ck_assert_int_ge(atomic_load(&F.fired), 1);
            break;
        }
        next += batch;
        if (!wait_synced(s, ZAB_ZXID(1, next - 1))) break;
        durable = ZAB_ZXID(1, next - 1);
    }
    ck_assert_int_eq(atomic_load(&F.fired), 1);
    ck_assert_int_eq(wait_failed(s, WAIT_MS), ZAB_EIO);
    ck_assert_msg(zab_storage_synced(s) == durable,
                  "synced 0x%" PRIx64 " after the fault; 0x%" PRIx64 " was durable before it",
                  (uint64_t)zab_storage_synced(s), (uint64_t)durable);
    check_stopped(s, &h, next, durable);
    check_error_text(s, names ? names : dir, short_write ? 0 : err);
    zab_storage_close(s);
    recovered r = recover_ok(dir, 0, &h);
    ck_assert_int_ge(r.last, durable);
    ck_assert_int_le(r.last, ZAB_ZXID(1, next - 1));
    ck_assert_int_eq(r.epochs.accepted_epoch, 1);
    history_free(&h);
    tmpdir_remove(dir);
}

START_TEST(test_eio_on_pwrite)
{
    struct zab_sys sys = faulty_sys();
    append_until_failure(&sys, C_PWRITE, EIO, 0, 5, "log.");
}
END_TEST

START_TEST(test_short_write)
{
    struct zab_sys sys = faulty_sys();
    append_until_failure(&sys, C_PWRITE, ENOSPC, 1, 5, "log.");
}
END_TEST

START_TEST(test_enospc_on_pwrite)
{
    struct zab_sys sys = faulty_sys();
    append_until_failure(&sys, C_PWRITE, ENOSPC, 0, 5, "log.");
}
END_TEST

/* The fsync that fails is followed by ones that succeed: a storage that
 * retried would then report records whose pages the kernel may have
 * dropped. */
START_TEST(test_eio_on_fdatasync_is_final)
{
    struct zab_sys sys = faulty_sys();
    append_until_failure(&sys, C_FDATASYNC, EIO, 0, 5, "log.");
}
END_TEST

/* fsync covers new segments and the directory: batches large enough to
 * roll segments reach it. */
START_TEST(test_eio_on_fsync_at_segment_roll)
{
    struct zab_sys sys = faulty_sys();
    append_until_failure(&sys, C_FSYNC, EIO, 0, 20, NULL);
}
END_TEST

START_TEST(test_enospc_on_fallocate)
{
    struct zab_sys sys = faulty_sys();
    append_until_failure(&sys, C_FALLOCATE, ENOSPC, 0, 20, "log.");
}
END_TEST

/* Preallocation that the file system cannot do is not a failure: storage
 * writes zeros instead and goes on. */
START_TEST(test_fallocate_unsupported_falls_back)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    history h = history_make(150);
    fault_reset();
    struct zab_sys sys = faulty_sys();
    fault_arm(C_FALLOCATE, EOPNOTSUPP, 0);
    zab_storage *s = store_open(dir, &sys, 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    for (size_t i = 1; i <= 150; i += 10) {
        ck_assert_int_eq(append_range(s, &h, i, i + 9), 0);
        ck_assert(wait_synced(s, ZAB_ZXID(1, i + 9)));
        if (atomic_load(&F.call) == C_NONE) fault_arm(C_FALLOCATE, EOPNOTSUPP, 0);
    }
    ck_assert_int_ge(atomic_load(&F.calls[C_FALLOCATE]), 2);
    ck_assert_int_eq(zab_storage_status(s), 0);
    zab_storage_close(s);
    recovered r = recover_ok(dir, 0, &h);
    ck_assert_int_eq(r.last, ZAB_ZXID(1, 150));
    history_free(&h);
    tmpdir_remove(dir);
}
END_TEST

/* save_epochs is synchronous: its failure is the call's result, and the
 * epochs on disk are the old ones or the new, never a mix. */
static void epochs_fault(int call, int err)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    history h = history_make(20);
    fault_reset();
    struct zab_sys sys = faulty_sys();
    zab_storage *s = store_open(dir, &sys, 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    ck_assert_int_eq(append_range(s, &h, 1, 5), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 5)));
    fault_arm(call, err, 0);
    ck_assert_int_ne(zab_storage_save_epochs(s, 2, 2), 0);
    ck_assert_int_eq(atomic_load(&F.fired), 1);
    check_stopped(s, &h, 6, ZAB_ZXID(1, 5));
    check_error_text(s, "epochs", err);
    zab_storage_close(s);
    recovered r = recover_ok(dir, 0, &h);
    ck_assert_int_eq(r.last, ZAB_ZXID(1, 5));
    ck_assert_msg((r.epochs.accepted_epoch == 1 && r.epochs.current_epoch == 1) ||
                      (r.epochs.accepted_epoch == 2 && r.epochs.current_epoch == 2),
                  "epochs %" PRId64 "/%" PRId64 " after a failed save", r.epochs.accepted_epoch,
                  r.epochs.current_epoch);
    history_free(&h);
    tmpdir_remove(dir);
}

START_TEST(test_eio_on_rename_of_epochs)
{
    epochs_fault(C_RENAME, EIO);
}
END_TEST

START_TEST(test_eio_on_fsync_of_epochs)
{
    epochs_fault(C_FSYNC, EIO);
}
END_TEST

START_TEST(test_enospc_on_write_of_epochs)
{
    epochs_fault(C_PWRITE, ENOSPC);
}
END_TEST

/* A periodic snapshot is written by the writer thread: its failure shows
 * in the status, and the next calls fail. */
START_TEST(test_eio_on_rename_of_snapshot)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    history h = history_make(20);
    fault_reset();
    struct zab_sys sys = faulty_sys();
    zab_storage *s = store_open(dir, &sys, 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    ck_assert_int_eq(append_range(s, &h, 1, 10), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 10)));
    fault_arm(C_RENAME, EIO, 0);
    zab_tree *t = history_tree(&h, 10);
    int rc = zab_storage_snapshot(s, t);
    zab_tree_free(t);
    ck_assert_msg(rc == 0 || rc == ZAB_EIO, "snapshot: %s", zab_strerror(rc));
    ck_assert_int_eq(wait_failed(s, WAIT_MS), ZAB_EIO);
    ck_assert_int_eq(atomic_load(&F.fired), 1);
    check_stopped(s, &h, 11, ZAB_ZXID(1, 10));
    check_error_text(s, "snap.", EIO);
    zab_storage_close(s);
    char name[40];
    snap_name(name, sizeof name, ZAB_ZXID(1, 10));
    ck_assert_msg(!file_exists(dir, name), "%s exists though its rename failed", name);
    recovered r = recover_ok(dir, 0, &h);
    ck_assert_int_eq(r.last, ZAB_ZXID(1, 10));
    ck_assert_int_eq(r.snap_zxid, 0);
    history_free(&h);
    tmpdir_remove(dir);
}
END_TEST

START_TEST(test_eio_on_save_snapshot)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    history h = history_make(40);
    fault_reset();
    struct zab_sys sys = faulty_sys();
    zab_storage *s = store_open(dir, &sys, 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    ck_assert_int_eq(append_range(s, &h, 1, 10), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 10)));
    fault_arm(C_RENAME, EIO, 0);
    zab_tree *t = history_tree(&h, 30);
    ck_assert_int_ne(zab_storage_save_snapshot(s, t), 0);
    zab_tree_free(t);
    ck_assert_int_eq(atomic_load(&F.fired), 1);
    check_stopped(s, &h, 11, zab_storage_synced(s));
    check_error_text(s, dir, EIO);
    zab_storage_close(s);
    /* Either the old state or the installed snapshot, nothing between. */
    recovered r = recover_ok(dir, 0, &h);
    ck_assert_msg((r.snap_zxid == 0 && r.last == ZAB_ZXID(1, 10)) ||
                      (r.snap_zxid == ZAB_ZXID(1, 30) && r.last == ZAB_ZXID(1, 30)),
                  "after a failed save_snapshot: snapshot 0x%" PRIx64 ", last 0x%" PRIx64,
                  (uint64_t)r.snap_zxid, (uint64_t)r.last);
    history_free(&h);
    tmpdir_remove(dir);
}
END_TEST

/* A truncation that fails half way (each call it makes failing in turn)
 * stops the storage; what recovery then finds keeps everything up to the
 * cut and is some prefix of the old log, never a mix. */
START_TEST(test_failed_truncate)
{
    static const struct { int call, err; } faults[] = {
        { C_PWRITE, EIO }, { C_FTRUNCATE, EIO }, { C_FALLOCATE, ENOSPC },
        { C_FSYNC, EIO }, { C_FDATASYNC, EIO }, { C_UNLINK, EIO },
    };
    int fired = 0;
    for (size_t f = 0; f < sizeof faults / sizeof faults[0]; f++) {
        char dir[32];
        ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
        history h = history_make(130);
        fault_reset();
        struct zab_sys sys = faulty_sys();
        zab_storage *s = store_open(dir, &sys, 0);
        ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
        for (size_t i = 1; i <= 120; i += 10) ck_assert_int_eq(append_range(s, &h, i, i + 9), 0);
        ck_assert(wait_synced(s, ZAB_ZXID(1, 120)));
        fault_arm(faults[f].call, faults[f].err, 0);
        int rc = zab_storage_truncate(s, ZAB_ZXID(1, 30));
        int64_t lo = ZAB_ZXID(1, 30), hi = ZAB_ZXID(1, 30);
        if (atomic_load(&F.fired)) {
            fired++;
            ck_assert_msg(rc == ZAB_EIO, "truncate with call %d failing: %s", faults[f].call,
                          zab_strerror(rc));
            check_stopped(s, &h, 31, zab_storage_synced(s));
            hi = ZAB_ZXID(1, 120);
        } else {
            ck_assert_int_eq(rc, 0);
            ck_assert_int_eq(zab_storage_synced(s), ZAB_ZXID(1, 30));
        }
        zab_storage_close(s);
        recovered r = recover_ok(dir, 0, &h);
        ck_assert_msg(r.last >= lo && r.last <= hi,
                      "call %d failing in truncate: recovered up to 0x%" PRIx64, faults[f].call,
                      (uint64_t)r.last);
        history_free(&h);
        tmpdir_remove(dir);
    }
    /* Cutting across segments deletes files and syncs: at least those. */
    ck_assert_int_ge(fired, 2);
}
END_TEST

/* A record over max_record is refused at the door; the storage goes on. */
START_TEST(test_record_over_max_record)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    history h = history_make(10);
    zab_storage_config cfg = { .dir = dir, .segment_bytes = SEGMENT_BYTES, .max_record = 300 };
    zab_storage *s = NULL;
    ck_assert_int_eq(zab_storage_open(&cfg, &s, NULL, 0), 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    ck_assert_int_eq(append_range(s, &h, 1, 2), 0);
    static uint8_t big[301];
    zab_entry e = { ZAB_ZXID(1, 3), big, sizeof big };
    ck_assert_int_eq(zab_storage_append(s, &e, 1), ZAB_ETOOBIG);
    ck_assert_int_eq(zab_storage_status(s), 0);
    ck_assert_int_eq(append_range(s, &h, 3, 4), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 4)));
    zab_storage_close(s);
    ck_assert_int_eq(recover_ok(dir, 0, &h).last, ZAB_ZXID(1, 4));
    history_free(&h);
    tmpdir_remove(dir);
}
END_TEST

/* A record larger than a whole segment still gets logged (in a segment of
 * its own size) and recovered. */
START_TEST(test_record_larger_than_a_segment)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    zab_tree *t = tree_new();
    history h = { t, calloc(4, sizeof(zab_buf)), 3 };
    ck_assert_ptr_nonnull(h.txn);
    static char data[3 * SEGMENT_BYTES];
    memset(data, 'b', sizeof data);
    for (size_t i = 1; i <= 3; i++) {
        char path[16];
        snprintf(path, sizeof path, "/n%06zu", i);
        zab_op op = zab_op_create(path, data, i == 2 ? (int32_t)sizeof data : 10, zab_acl_open, 1,
                                  ZAB_PERSISTENT);
        zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
        ck_assert_int_eq(zab_tree_prepare(t, &req, ZAB_ZXID(1, i), 1000, &h.txn[i]), 0);
        zab_reply rep;
        ck_assert_int_eq(zab_tree_apply(t, ZAB_ZXID(1, i), h.txn[i].data, h.txn[i].len, &rep), 0);
    }
    zab_storage *s = store_open(dir, NULL, 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    for (size_t i = 1; i <= 3; i++) ck_assert_int_eq(append_range(s, &h, i, i), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 3)));
    zab_storage_close(s);
    ck_assert_int_eq(recover_ok(dir, 0, &h).last, ZAB_ZXID(1, 3));
    history_free(&h);
    tmpdir_remove(dir);
}
END_TEST

/* ---- a node on a failing storage ---- */

typedef struct node_host {
    zab_storage *s;
    int role;
    int64_t max_ack;
    uint32_t in_flight;
} node_host;

static int n_append(void *ctx, const zab_entry *e, size_t n) { return zab_storage_append(((node_host *)ctx)->s, e, n); }
static int n_truncate(void *ctx, int64_t z) { return zab_storage_truncate(((node_host *)ctx)->s, z); }
static int n_epochs(void *ctx, int64_t a, int64_t c) { return zab_storage_save_epochs(((node_host *)ctx)->s, a, c); }
static int n_snapshot(void *ctx, const zab_tree *t) { return zab_storage_save_snapshot(((node_host *)ctx)->s, t); }

static void n_result(void *ctx, uint64_t cookie, const zab_reply *reply)
{
    node_host *h = ctx;
    (void)cookie;
    h->in_flight--;
    if (reply->err == ZAB_OK && reply->zxid > h->max_ack) h->max_ack = reply->zxid;
}

static void n_role(void *ctx, int role, int64_t leader, int64_t epoch)
{
    (void)leader, (void)epoch;
    ((node_host *)ctx)->role = role;
}

START_TEST(test_node_stops_on_failed_fsync)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    fault_reset();
    struct zab_sys sys = faulty_sys();
    node_host h = { store_open(dir, &sys, 0), ZAB_LOOKING, 0, 0 };
    zab_member self = { 1, 0 };
    zab_node_config cfg = { .sid = 1, .members = &self, .nmembers = 1, .tick_ms = 50,
                            .finalize_wait_ms = 5, .tree = { .hash_seed = HASH_SEED } };
    zab_io io = { .ctx = &h, .send = nh_send, .disconnect = nh_disconnect,
                  .log_append = n_append, .log_truncate = n_truncate, .save_epochs = n_epochs,
                  .save_snapshot = n_snapshot, .on_result = n_result, .on_role = n_role };
    zab_node_state st;
    zab_storage_state(h.s, &st);
    zab_node *node = zab_node_new(&cfg, &io, &st);
    ck_assert_ptr_nonnull(node);
    ck_assert_int_eq(zab_storage_restore(h.s, node), 0);
    ck_assert_int_eq(zab_node_start(node, now_ms()), 0);
    uint64_t cookie = 1;
    int64_t synced_at_fault = -1, deadline = now_ms() + 3 * WAIT_MS;
    zab_node_stats ns;
    for (;;) {
        ck_assert_msg(now_ms() < deadline, "the node never stopped (storage status %d)",
                      zab_storage_status(h.s));
        if (h.role == ZAB_LEADING && h.in_flight < 16) {
            char path[32];
            snprintf(path, sizeof path, "/w%" PRIu64, cookie);
            zab_op op = zab_op_create(path, "x", 1, zab_acl_open, 1, ZAB_PERSISTENT);
            zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
            if (zab_node_submit(node, &req, cookie) == 0) {
                cookie++;
                h.in_flight++;
            }
        }
        if (cookie == 200 && synced_at_fault < 0) {
            synced_at_fault = zab_storage_synced(h.s);
            fault_arm(C_FDATASYNC, EIO, 0);
        }
        struct pollfd p = { zab_storage_fd(h.s), POLLIN, 0 };
        poll(&p, 1, 5);
        zab_node_log_synced(node, zab_storage_synced(h.s));
        if (zab_node_next_deadline(node) <= now_ms()) zab_node_tick(node, now_ms());
        zab_node_stats_get(node, &ns);
        if (ns.stopped) break;
    }
    ck_assert_int_eq(atomic_load(&F.fired), 1);
    ck_assert_int_ne(zab_storage_status(h.s), 0);
    ck_assert_int_ne(zab_node_tick(node, now_ms() + 1000000), 0);
    /* Nothing acknowledged past what the storage reported durable. */
    ck_assert_int_le(h.max_ack, zab_storage_synced(h.s));
    ck_assert_int_le(ns.last_committed, zab_storage_synced(h.s));
    ck_assert_int_ge(zab_storage_synced(h.s), synced_at_fault);
    zab_node_free(node);
    zab_storage_close(h.s);
    tmpdir_remove(dir);
}
END_TEST

/* ---- damage on disk ---- */

typedef struct seg_rec {
    size_t off;     /* of the record header in the file */
    uint32_t len;
    int64_t zxid;
} seg_rec;

typedef struct seg_map {
    seg_rec recs[256];
    size_t n;
    size_t end;     /* offset after the last record */
    size_t size;    /* of the file */
} seg_map;

static uint8_t *read_all(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

static void write_at(const char *path, size_t off, const void *bytes, size_t len)
{
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, bytes, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static void flip_bit(const char *dir, const char *name, size_t off, int bit)
{
    char path[512];
    path_join(path, sizeof path, dir, name);
    size_t len;
    uint8_t *buf = read_all(path, &len);
    ck_assert_uint_lt(off, len);
    uint8_t b = buf[off] ^ (uint8_t)(1u << bit);
    free(buf);
    write_at(path, off, &b, 1);
}

/* The records of a segment, read as zab-storage(7) lays them out. */
static seg_map map_segment(const char *dir, const char *name)
{
    char path[512];
    path_join(path, sizeof path, dir, name);
    size_t len;
    uint8_t *buf = read_all(path, &len);
    seg_map m;
    memset(&m, 0, sizeof m);
    m.size = len;
    ck_assert_uint_ge(len, SEG_HEADER);
    ck_assert_msg(memcmp(buf, "ZABLOG\0\1", 8) == 0, "%s: magic", name);
    zab_reader hr = zab_reader_init(buf + 32, 4);
    ck_assert_msg(zab_crc32c(0, buf, 32) == zab_get_u32(&hr), "%s: header crc", name);
    size_t off = SEG_HEADER;
    while (off + REC_HEADER <= len && m.n < 256) {
        zab_reader r = zab_reader_init(buf + off, len - off);
        uint32_t rlen = zab_get_u32(&r);
        if (!rlen) break;
        int64_t zxid = zab_get_i64(&r);
        uint32_t crc = zab_get_u32(&r);
        const uint8_t *body = zab_get_bytes(&r, rlen);
        ck_assert_msg(body && crc == zab_crc32c(zab_crc32c(0, buf + off, 12), body, rlen),
                      "%s: record at %zu fails its crc before any damage", name, off);
        m.recs[m.n++] = (seg_rec){ off, rlen, zxid };
        off += REC_HEADER + rlen;
    }
    m.end = off;
    free(buf);
    return m;
}

static void seg_file(char *out, size_t cap, uint64_t seq)
{
    snprintf(out, cap, "log.%016" PRIx64, seq);
}

static int count_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* How many segments dir holds; they must be log.1 .. log.n. */
static uint64_t count_segments(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    uint64_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, "log.", 4) == 0 && strlen(e->d_name) == 20) n++;
    closedir(d);
    char name[40];
    for (uint64_t seq = 1; seq <= n; seq++) {
        seg_file(name, sizeof name, seq);
        ck_assert_msg(file_exists(dir, name), "segments are not log.1 to log.%" PRIu64, n);
    }
    return n;
}

/* A store with epochs 1/1 and transactions 1..n over several segments. */
static void build_log(const char *dir, const history *h, size_t n)
{
    zab_storage *s = store_open(dir, NULL, 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    for (size_t i = 1; i <= n; i += 10) {
        size_t to = i + 9 <= n ? i + 9 : n;
        ck_assert_int_eq(append_range(s, h, i, to), 0);
    }
    ck_assert(wait_synced(s, ZAB_ZXID(1, n)));
    zab_storage_close(s);
}

enum { LOG_RECORDS = 120 };

typedef struct damage_env {
    char dir[32];
    history h;
    uint64_t segs;
} damage_env;

static void env_log(damage_env *env)
{
    ck_assert_ptr_nonnull(tmpdir_make(env->dir, sizeof env->dir, "zab-faults-"));
    env->h = history_make(LOG_RECORDS + 10);
    build_log(env->dir, &env->h, LOG_RECORDS);
    env->segs = count_segments(env->dir);
    ck_assert_msg(env->segs >= 3, "%u records should span several %d-byte segments",
                  (unsigned)LOG_RECORDS, SEGMENT_BYTES);
}

static void env_free(damage_env *env)
{
    history_free(&env->h);
    tmpdir_remove(env->dir);
}

/* Recovery after the damage left the whole log but the last record. */
START_TEST(test_torn_last_record_cut_mid_record)
{
    damage_env env;
    env_log(&env);
    char name[40], path[512];
    seg_file(name, sizeof name, env.segs);
    path_join(path, sizeof path, env.dir, name);
    seg_map m = map_segment(env.dir, name);
    ck_assert_uint_ge(m.n, 2);
    seg_rec last = m.recs[m.n - 1];
    ck_assert_int_eq(last.zxid, ZAB_ZXID(1, LOG_RECORDS));
    /* Zero the second half of the last record: the write stopped there. */
    size_t cut = last.off + (REC_HEADER + last.len) / 2;
    uint8_t zeros[512] = { 0 };
    write_at(path, cut, zeros, last.off + REC_HEADER + last.len - cut);
    recovered r = recover_ok(env.dir, 0, &env.h);
    ck_assert_int_eq(r.last, ZAB_ZXID(1, LOG_RECORDS - 1));
    ck_assert_msg(strstr(r.note, name) != NULL, "the cut is not reported: \"%s\"", r.note);
    /* The tail was cut for good: the file is zero from the torn record on. */
    size_t len;
    uint8_t *buf = read_all(path, &len);
    for (size_t i = last.off; i < len; i++) ck_assert_msg(buf[i] == 0, "byte %zu not cut", i);
    free(buf);
    /* And the log goes on from there. */
    zab_storage *s = store_open(env.dir, NULL, 0);
    ck_assert_int_eq(append_range(s, &env.h, LOG_RECORDS, LOG_RECORDS + 2), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, LOG_RECORDS + 2)));
    zab_storage_close(s);
    ck_assert_int_eq(recover_ok(env.dir, 0, &env.h).last, ZAB_ZXID(1, LOG_RECORDS + 2));
    env_free(&env);
}
END_TEST

/* The file ends inside the last record (its size was never extended). */
START_TEST(test_torn_last_record_at_end_of_file)
{
    damage_env env;
    env_log(&env);
    char name[40], path[512];
    seg_file(name, sizeof name, env.segs);
    path_join(path, sizeof path, env.dir, name);
    seg_map m = map_segment(env.dir, name);
    seg_rec last = m.recs[m.n - 1];
    ck_assert_int_eq(truncate(path, (off_t)(last.off + REC_HEADER + 3)), 0);
    recovered r = recover_ok(env.dir, 0, &env.h);
    ck_assert_int_eq(r.last, ZAB_ZXID(1, LOG_RECORDS - 1));
    env_free(&env);
}
END_TEST

/* A record begun after the last one, partly written, zeros after it. */
START_TEST(test_partial_record_followed_by_zeros)
{
    damage_env env;
    env_log(&env);
    char name[40], path[512];
    seg_file(name, sizeof name, env.segs);
    path_join(path, sizeof path, env.dir, name);
    seg_map m = map_segment(env.dir, name);
    ck_assert_uint_ge(m.size - m.end, 200);
    zab_buf b = { 0 };
    zab_put_u32(&b, 90);
    zab_put_i64(&b, ZAB_ZXID(1, LOG_RECORDS + 1));
    zab_put_u32(&b, 0x12345678);
    zab_put_bytes(&b, "half a transacti", 16);
    write_at(path, m.end, b.data, b.len);
    zab_buf_free(&b);
    recovered r = recover_ok(env.dir, 0, &env.h);
    ck_assert_int_eq(r.last, ZAB_ZXID(1, LOG_RECORDS));
    ck_assert_msg(strstr(r.note, name) != NULL, "the cut is not reported: \"%s\"", r.note);
    size_t len;
    uint8_t *buf = read_all(path, &len);
    for (size_t i = m.end; i < len; i++) ck_assert_msg(buf[i] == 0, "byte %zu not cut", i);
    free(buf);
    env_free(&env);
}
END_TEST

/* Every field of a segment header, in the first, a middle and the last
 * segment. */
START_TEST(test_bit_flip_in_segment_header)
{
    static const struct { size_t off; const char *field; } fields[] = {
        { 2, "magic" }, { 11, "version" }, { 23, "seq" }, { 31, "prev_zxid" }, { 33, "crc" },
    };
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        damage_env env;
        env_log(&env);
        uint64_t which[3] = { 1, env.segs / 2 + 1, env.segs };
        uint64_t seq = which[f % 3];
        char name[40], what[96];
        seg_file(name, sizeof name, seq);
        flip_bit(env.dir, name, fields[f].off, 1);
        snprintf(what, sizeof what, "%s of %s", fields[f].field, name);
        recover_corrupt(env.dir, &env.h, name, what);
        env_free(&env);
    }
}
END_TEST

/* One field of one record, in a record with valid records after it. */
static void flip_record(uint64_t seq, size_t rec_index, size_t field_off, const char *field)
{
    damage_env env;
    env_log(&env);
    if (seq == 0) seq = env.segs;
    char name[40], what[128];
    seg_file(name, sizeof name, seq);
    seg_map m = map_segment(env.dir, name);
    if (rec_index == SIZE_MAX) rec_index = m.n - 1;
    ck_assert_uint_lt(rec_index, m.n);
    flip_bit(env.dir, name, m.recs[rec_index].off + field_off, 2);
    snprintf(what, sizeof what, "%s of record %zu of %s", field, rec_index, name);
    recover_corrupt(env.dir, &env.h, name, what);
    env_free(&env);
}

START_TEST(test_bit_flip_in_record_length)
{
    flip_record(1, 3, 2, "length");
    flip_record(1, 5, 3, "length");
}
END_TEST

START_TEST(test_bit_flip_in_record_zxid)
{
    flip_record(1, 3, 4 + 7, "zxid");
    flip_record(2, 0, 4 + 3, "zxid (epoch)");
}
END_TEST

START_TEST(test_bit_flip_in_record_body)
{
    flip_record(1, 3, REC_HEADER + 10, "body");
    flip_record(0, 1, REC_HEADER, "body");
}
END_TEST

START_TEST(test_bit_flip_in_record_crc)
{
    flip_record(1, 3, 12 + 1, "crc");
}
END_TEST

/* The last record of a segment that is not the last: later segments follow,
 * so it cannot be a torn tail. */
START_TEST(test_bit_flip_at_end_of_middle_segment)
{
    flip_record(1, SIZE_MAX, REC_HEADER + 5, "body");
}
END_TEST

/* The very last record damaged: indistinguishable from a torn write, so
 * recovery may cut it or refuse; it must never serve it. */
START_TEST(test_bit_flip_in_last_record)
{
    damage_env env;
    env_log(&env);
    char name[40];
    seg_file(name, sizeof name, env.segs);
    seg_map m = map_segment(env.dir, name);
    flip_bit(env.dir, name, m.recs[m.n - 1].off + REC_HEADER + 4, 0);
    recovered r;
    char err[512];
    int rc = recover(env.dir, 0, &env.h, &r, err, sizeof err);
    if (rc == 0) ck_assert_int_eq(r.last, ZAB_ZXID(1, LOG_RECORDS - 1));
    else ck_assert_int_eq(rc, ZAB_ECORRUPT);
    env_free(&env);
}
END_TEST

START_TEST(test_missing_middle_segment)
{
    damage_env env;
    env_log(&env);
    char name[40], path[512];
    seg_file(name, sizeof name, 2);
    path_join(path, sizeof path, env.dir, name);
    ck_assert_int_eq(unlink(path), 0);
    recover_corrupt(env.dir, &env.h, "log.", "a missing segment");
    env_free(&env);
}
END_TEST

START_TEST(test_truncate_corrupt_cuts_there)
{
    damage_env env;
    env_log(&env);
    char name[40];
    seg_file(name, sizeof name, 1);
    seg_map m = map_segment(env.dir, name);
    ck_assert_uint_ge(m.n, 6);
    int64_t before = m.recs[4].zxid;
    flip_bit(env.dir, name, m.recs[5].off + REC_HEADER + 7, 5);
    recover_corrupt(env.dir, &env.h, name, "a record before truncate_corrupt");
    recovered r = recover_ok(env.dir, 1, &env.h);
    ck_assert_int_eq(r.last, before);
    ck_assert_msg(strstr(r.note, name) != NULL, "the cut is not reported: \"%s\"", r.note);
    ck_assert_int_eq(count_segments(env.dir), 1);
    /* Cut for good: a plain open now agrees, with nothing to report, and
     * the log continues. */
    r = recover_ok(env.dir, 0, &env.h);
    ck_assert_int_eq(r.last, before);
    ck_assert_str_eq(r.note, "");
    zab_storage *s = store_open(env.dir, NULL, 0);
    size_t next = ZAB_COUNTER(before) + 1;
    ck_assert_int_eq(append_range(s, &env.h, next, next + 1), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, next + 1)));
    zab_storage_close(s);
    ck_assert_int_eq(recover_ok(env.dir, 0, &env.h).last, ZAB_ZXID(1, next + 1));
    env_free(&env);
}
END_TEST

START_TEST(test_bit_flip_in_epochs)
{
    static const struct { size_t off; const char *field; } fields[] = {
        { 1, "magic" }, { 10, "version" }, { 19, "accepted" }, { 27, "current" }, { 29, "crc" },
    };
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        damage_env env;
        env_log(&env);
        flip_bit(env.dir, "epochs", fields[f].off, 0);
        char what[64];
        snprintf(what, sizeof what, "%s of the epochs file", fields[f].field);
        recover_corrupt(env.dir, &env.h, "epochs", what);
        env_free(&env);
    }
}
END_TEST

/* accepted < current, with a valid CRC: a value no node ever saves. */
START_TEST(test_epochs_out_of_order)
{
    damage_env env;
    env_log(&env);
    zab_buf b = { 0 };
    zab_put_bytes(&b, "ZABEPOCH", 8);
    zab_put_u32(&b, 1);
    zab_put_i64(&b, 1);
    zab_put_i64(&b, 2);
    zab_put_u32(&b, zab_crc32c(0, b.data, 28));
    char path[512];
    path_join(path, sizeof path, env.dir, "epochs");
    write_at(path, 0, b.data, b.len);
    zab_buf_free(&b);
    recover_corrupt(env.dir, &env.h, "epochs", "accepted below current");
    env_free(&env);
}
END_TEST

START_TEST(test_missing_epochs)
{
    damage_env env;
    env_log(&env);
    char path[512];
    path_join(path, sizeof path, env.dir, "epochs");
    ck_assert_int_eq(unlink(path), 0);
    recover_corrupt(env.dir, &env.h, "epochs", "a missing epochs file");
    env_free(&env);
}
END_TEST

/* Rewrite a record's zxid and give it a CRC that matches: whole, but out
 * of order. */
static void rezxid_record(const char *dir, const char *name, const seg_rec *r, int64_t zxid)
{
    char path[512];
    path_join(path, sizeof path, dir, name);
    size_t len;
    uint8_t *buf = read_all(path, &len);
    ck_assert_uint_le(r->off + REC_HEADER + r->len, len);
    zab_buf b = { 0 };
    zab_put_u32(&b, r->len);
    zab_put_i64(&b, zxid);
    uint32_t crc = zab_crc32c(zab_crc32c(0, b.data, 12), buf + r->off + REC_HEADER, r->len);
    zab_put_u32(&b, crc);
    write_at(path, r->off, b.data, b.len);
    zab_buf_free(&b);
    free(buf);
}

START_TEST(test_whole_record_out_of_order_in_middle)
{
    damage_env env;
    env_log(&env);
    char name[40];
    seg_file(name, sizeof name, 1);
    seg_map m = map_segment(env.dir, name);
    rezxid_record(env.dir, name, &m.recs[5], m.recs[5].zxid + 1);
    recover_corrupt(env.dir, &env.h, name, "a record skipping a zxid");
    env_free(&env);
}
END_TEST

/* At the very end a whole record with a good CRC is no torn write: its
 * wrong zxid is corruption, not something to cut quietly. */
START_TEST(test_whole_record_out_of_order_at_tail)
{
    damage_env env;
    env_log(&env);
    char name[40];
    seg_file(name, sizeof name, env.segs);
    seg_map m = map_segment(env.dir, name);
    rezxid_record(env.dir, name, &m.recs[m.n - 1], ZAB_ZXID(2, 2));
    recover_corrupt(env.dir, &env.h, name, "a last record starting an epoch at counter 2");
    env_free(&env);
}
END_TEST

/* A header with a good CRC but a version this library never wrote. */
START_TEST(test_unknown_segment_version)
{
    damage_env env;
    env_log(&env);
    char name[40], path[512];
    seg_file(name, sizeof name, 2);
    path_join(path, sizeof path, env.dir, name);
    size_t len;
    uint8_t *buf = read_all(path, &len);
    buf[11] = 2;
    zab_buf b = { 0 };
    zab_put_u32(&b, zab_crc32c(0, buf, 32));
    memcpy(buf + 32, b.data, 4);
    write_at(path, 0, buf, SEG_HEADER);
    zab_buf_free(&b);
    free(buf);
    recover_corrupt(env.dir, &env.h, name, "segment version 2");
    env_free(&env);
}
END_TEST

/* Files a crash can leave half written before their rename are never
 * taken for the real ones. */
START_TEST(test_leftover_tmp_files_ignored)
{
    damage_env env;
    env_log(&env);
    static const char *names[] = { "epochs.tmp", "snap.00000001000000c8.tmp",
                                   "log.0000000000000063.tmp" };
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        path_join(path, sizeof path, env.dir, names[i]);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(i == 0 ? "ZABEPOCH half" : "ZABSNAPF\1garbage", f);
        fclose(f);
    }
    recovered r = recover_ok(env.dir, 0, &env.h);
    ck_assert_int_eq(r.last, ZAB_ZXID(1, LOG_RECORDS));
    ck_assert_int_eq(r.snap_zxid, 0);
    ck_assert_int_eq(r.epochs.accepted_epoch, 1);
    ck_assert_int_eq(r.epochs.current_epoch, 1);
    env_free(&env);
}
END_TEST

/* save_snapshot's log floor hides the old log even when its segments are
 * still there (a crash before the deletes became durable). */
START_TEST(test_stale_segments_after_save_snapshot)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    history h = history_make(220);
    build_log(dir, &h, LOG_RECORDS);
    uint64_t nold = count_segments(dir);
    ck_assert_uint_ge(nold, 3);
    uint8_t *old[16];
    size_t oldlen[16];
    ck_assert_uint_le(nold, 16);
    for (uint64_t i = 0; i < nold; i++) {
        char name[40], path[512];
        seg_file(name, sizeof name, i + 1);
        path_join(path, sizeof path, dir, name);
        old[i] = read_all(path, &oldlen[i]);
    }
    zab_storage *s = store_open(dir, NULL, 0);
    zab_tree *t = history_tree(&h, 200);
    ck_assert_int_eq(zab_storage_save_snapshot(s, t), 0);
    zab_tree_free(t);
    ck_assert_int_eq(append_range(s, &h, 201, 205), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 205)));
    zab_storage_close(s);
    int restored = 0;
    for (uint64_t i = 0; i < nold; i++) {
        char name[40], path[512];
        seg_file(name, sizeof name, i + 1);
        path_join(path, sizeof path, dir, name);
        if (!file_exists(dir, name)) {
            FILE *f = fopen(path, "w");
            ck_assert_ptr_nonnull(f);
            ck_assert_uint_eq(fwrite(old[i], 1, oldlen[i], f), oldlen[i]);
            fclose(f);
            restored++;
        }
        free(old[i]);
    }
    ck_assert_msg(restored > 0, "save_snapshot removed no old segment");
    recovered r = recover_ok(dir, 0, &h);
    ck_assert_int_eq(r.snap_zxid, ZAB_ZXID(1, 200));
    ck_assert_int_eq(r.last, ZAB_ZXID(1, 205));
    history_free(&h);
    tmpdir_remove(dir);
}
END_TEST

/* Periodic snapshots with snap_retain 2: the two newest stay, the older
 * ones go, and so does every segment only they needed; the log still
 * reaches back to the older kept one, so losing the newest costs
 * nothing. */
START_TEST(test_purge_keeps_what_retained_snapshots_need)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    history h = history_make(160);
    zab_storage_config cfg = { .dir = dir, .segment_bytes = SEGMENT_BYTES, .snap_retain = 2 };
    zab_storage *s = NULL;
    char err[512] = "";
    ck_assert_int_eq(zab_storage_open(&cfg, &s, err, sizeof err), 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    for (size_t i = 1; i <= 160; i += 10) {
        ck_assert_int_eq(append_range(s, &h, i, i + 9), 0);
        ck_assert(wait_synced(s, ZAB_ZXID(1, i + 9)));
        if ((i + 9) % 40 == 0) {
            zab_tree *t = history_tree(&h, i + 9);
            take_snapshot(s, dir, t);
            zab_tree_free(t);
        }
    }
    zab_storage_close(s);
    static const struct { size_t at; int kept; } snaps[] = {
        { 40, 0 }, { 80, 0 }, { 120, 1 }, { 160, 1 },
    };
    for (size_t i = 0; i < 4; i++) {
        char name[40];
        snap_name(name, sizeof name, ZAB_ZXID(1, snaps[i].at));
        ck_assert_msg(file_exists(dir, name) == snaps[i].kept, "%s %s", name,
                      snaps[i].kept ? "was purged" : "was kept");
    }
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int segs = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "log.", 4) != 0 || strlen(e->d_name) != 20) continue;
        seg_map m = map_segment(dir, e->d_name);
        ck_assert_msg(m.n == 0 || m.recs[m.n - 1].zxid > ZAB_ZXID(1, 120),
                      "%s holds only records up to 0x%" PRIx64 ", below every kept snapshot",
                      e->d_name, (uint64_t)m.recs[m.n - 1].zxid);
        segs++;
    }
    closedir(d);
    ck_assert_int_ge(segs, 1);
    recovered r = recover_ok(dir, 0, &h);
    ck_assert_int_eq(r.snap_zxid, ZAB_ZXID(1, 160));
    ck_assert_int_eq(r.last, ZAB_ZXID(1, 160));
    char name[40];
    snap_name(name, sizeof name, ZAB_ZXID(1, 160));
    flip_bit(dir, name, SNAP_HEADER + 9, 4);
    r = recover_ok(dir, 0, &h);
    ck_assert_int_eq(r.snap_zxid, ZAB_ZXID(1, 120));
    ck_assert_int_eq(r.last, ZAB_ZXID(1, 160));
    history_free(&h);
    tmpdir_remove(dir);
}
END_TEST

/* With log_dir apart from dir, segments live in one and snapshots and
 * epochs in the other, and recovery reads both. */
START_TEST(test_separate_log_dir)
{
    char root[32];
    ck_assert_ptr_nonnull(tmpdir_make(root, sizeof root, "zab-faults-"));
    char data[64], logs[64];
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(logs, sizeof logs, "%s/logs", root);
    history h = history_make(70);
    zab_storage_config cfg = { .dir = data, .log_dir = logs, .segment_bytes = SEGMENT_BYTES };
    zab_storage *s = NULL;
    char err[512] = "";
    ck_assert_int_eq(zab_storage_open(&cfg, &s, err, sizeof err), 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    ck_assert_int_eq(append_range(s, &h, 1, 60), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 60)));
    zab_tree *t = history_tree(&h, 60);
    take_snapshot(s, data, t);
    zab_tree_free(t);
    ck_assert_int_eq(append_range(s, &h, 61, 70), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 70)));
    zab_storage_close(s);
    char name[40];
    snap_name(name, sizeof name, ZAB_ZXID(1, 60));
    ck_assert(file_exists(data, "epochs"));
    ck_assert(!file_exists(logs, "epochs"));
    ck_assert(!file_exists(logs, name));
    ck_assert_int_ge(count_prefix(logs, "log."), 1);
    ck_assert_int_eq(count_prefix(data, "log."), 0);
    ck_assert_int_eq(count_prefix(logs, "snap."), 0);
    recovered r;
    ck_assert_int_eq(recover_cfg(&cfg, &h, &r, err, sizeof err), 0);
    ck_assert_int_eq(r.snap_zxid, ZAB_ZXID(1, 60));
    ck_assert_int_eq(r.last, ZAB_ZXID(1, 70));
    tmpdir_remove(root);
    history_free(&h);
}
END_TEST

/* The segment a snapshot's floor names is the first one recovery needs:
 * gone, with later ones still there, is a hole. */
START_TEST(test_missing_floor_segment)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    history h = history_make(160);
    zab_storage *s = store_open(dir, NULL, 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    ck_assert_int_eq(append_range(s, &h, 1, 60), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 60)));
    zab_tree *t = history_tree(&h, 60);
    take_snapshot(s, dir, t);
    zab_tree_free(t);
    for (size_t i = 61; i <= 160; i += 10) ck_assert_int_eq(append_range(s, &h, i, i + 9), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 160)));
    zab_storage_close(s);
    char name[40], path[512];
    snap_name(name, sizeof name, ZAB_ZXID(1, 60));
    path_join(path, sizeof path, dir, name);
    size_t len;
    uint8_t *buf = read_all(path, &len);
    zab_reader rd = zab_reader_init(buf + 24, 8);
    uint64_t floor = zab_get_u64(&rd);
    free(buf);
    char seg[40];
    seg_file(seg, sizeof seg, floor);
    ck_assert_msg(file_exists(dir, seg), "the floor segment %s does not exist", seg);
    seg_file(seg, sizeof seg, floor + 1);
    ck_assert_msg(file_exists(dir, seg), "no segment after the floor");
    seg_file(seg, sizeof seg, floor);
    path_join(path, sizeof path, dir, seg);
    ck_assert_int_eq(unlink(path), 0);
    recover_corrupt(dir, &h, "log.", "the snapshot's floor segment missing");
    history_free(&h);
    tmpdir_remove(dir);
}
END_TEST

/* Snapshots at 40 and 80 over a log of 120. */
static void env_snapshots(damage_env *env)
{
    ck_assert_ptr_nonnull(tmpdir_make(env->dir, sizeof env->dir, "zab-faults-"));
    env->h = history_make(LOG_RECORDS);
    zab_storage *s = store_open(env->dir, NULL, 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    for (size_t i = 1; i <= LOG_RECORDS; i += 10) {
        ck_assert_int_eq(append_range(s, &env->h, i, i + 9), 0);
        ck_assert(wait_synced(s, ZAB_ZXID(1, i + 9)));
        if (i + 9 == 40 || i + 9 == 80) {
            zab_tree *t = history_tree(&env->h, i + 9);
            take_snapshot(s, env->dir, t);
            zab_tree_free(t);
        }
    }
    zab_storage_close(s);
}

static void flip_newest_snapshot(size_t off, const char *field)
{
    damage_env env;
    env_snapshots(&env);
    char name[40];
    snap_name(name, sizeof name, ZAB_ZXID(1, 80));
    if (off == SIZE_MAX) {
        char path[512];
        path_join(path, sizeof path, env.dir, name);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        off = (size_t)st.st_size - 1;
    }
    flip_bit(env.dir, name, off, 3);
    recovered r = recover_ok(env.dir, 0, &env.h);
    ck_assert_msg(r.snap_zxid == ZAB_ZXID(1, 40),
                  "%s of the newest snapshot damaged: restored snapshot 0x%" PRIx64
                  ", want the older one", field, (uint64_t)r.snap_zxid);
    ck_assert_msg(strstr(r.note, name) != NULL, "%s of %s damaged, not reported: \"%s\"", field,
                  name, r.note);
    ck_assert_int_eq(r.last, ZAB_ZXID(1, LOG_RECORDS));
    env_free(&env);
}

START_TEST(test_bit_flip_in_snapshot_header)
{
    flip_newest_snapshot(3, "magic");
    flip_newest_snapshot(10, "version");
    flip_newest_snapshot(20, "zxid");
    flip_newest_snapshot(31, "log_floor");
    flip_newest_snapshot(38, "length");
    flip_newest_snapshot(42, "crc");
}
END_TEST

START_TEST(test_bit_flip_in_snapshot_body)
{
    flip_newest_snapshot(SNAP_HEADER + 1, "first body byte");
    flip_newest_snapshot(SNAP_HEADER + 200, "body");
    flip_newest_snapshot(SIZE_MAX, "last body byte");
}
END_TEST

/* Without a valid snapshot, a log whose start was purged cannot rebuild the
 * state. */
START_TEST(test_only_snapshot_damaged_after_purge)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    history h = history_make(LOG_RECORDS);
    zab_storage *s = store_open(dir, NULL, 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    ck_assert_int_eq(append_range(s, &h, 1, 100), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 100)));
    zab_tree *t = history_tree(&h, 100);
    take_snapshot(s, dir, t);
    zab_tree_free(t);
    ck_assert_int_eq(append_range(s, &h, 101, 110), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 110)));
    zab_storage_close(s);
    ck_assert_msg(!file_exists(dir, "log.0000000000000001"),
                  "segments the snapshot made useless were not purged");
    char name[40];
    snap_name(name, sizeof name, ZAB_ZXID(1, 100));
    flip_bit(dir, name, SNAP_HEADER + 50, 6);
    recover_corrupt2(dir, &h, "snap.", "log.", "the only snapshot, its log purged");
    history_free(&h);
    tmpdir_remove(dir);
}
END_TEST

/* With the whole log still there (it starts at zxid 0), a damaged only
 * snapshot costs nothing: the log rebuilds the state. */
START_TEST(test_only_snapshot_damaged_with_whole_log)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-faults-"));
    history h = history_make(20);
    zab_storage *s = store_open(dir, NULL, 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    ck_assert_int_eq(append_range(s, &h, 1, 10), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 10)));
    zab_tree *t = history_tree(&h, 10);
    take_snapshot(s, dir, t);
    zab_tree_free(t);
    ck_assert_int_eq(append_range(s, &h, 11, 15), 0);
    ck_assert(wait_synced(s, ZAB_ZXID(1, 15)));
    zab_storage_close(s);
    ck_assert_msg(file_exists(dir, "log.0000000000000001"), "the only segment was removed");
    char name[40];
    snap_name(name, sizeof name, ZAB_ZXID(1, 10));
    flip_bit(dir, name, 20, 0);
    recovered r = recover_ok(dir, 0, &h);
    ck_assert_int_eq(r.snap_zxid, 0);
    ck_assert_int_eq(r.last, ZAB_ZXID(1, 15));
    history_free(&h);
    tmpdir_remove(dir);
}
END_TEST

static Suite *storage_faults_suite(void)
{
    Suite *s = suite_create("storage_faults");
    TCase *tc = tcase_create("syscalls");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_eio_on_pwrite);
    tcase_add_test(tc, test_short_write);
    tcase_add_test(tc, test_enospc_on_pwrite);
    tcase_add_test(tc, test_eio_on_fdatasync_is_final);
    tcase_add_test(tc, test_eio_on_fsync_at_segment_roll);
    tcase_add_test(tc, test_enospc_on_fallocate);
    tcase_add_test(tc, test_fallocate_unsupported_falls_back);
    tcase_add_test(tc, test_eio_on_rename_of_epochs);
    tcase_add_test(tc, test_eio_on_fsync_of_epochs);
    tcase_add_test(tc, test_enospc_on_write_of_epochs);
    tcase_add_test(tc, test_eio_on_rename_of_snapshot);
    tcase_add_test(tc, test_eio_on_save_snapshot);
    tcase_add_test(tc, test_failed_truncate);
    tcase_add_test(tc, test_record_over_max_record);
    tcase_add_test(tc, test_record_larger_than_a_segment);
    tcase_add_test(tc, test_node_stops_on_failed_fsync);
    suite_add_tcase(s, tc);
    TCase *dc = tcase_create("damage");
    tcase_set_timeout(dc, 30);
    tcase_add_test(dc, test_torn_last_record_cut_mid_record);
    tcase_add_test(dc, test_torn_last_record_at_end_of_file);
    tcase_add_test(dc, test_partial_record_followed_by_zeros);
    tcase_add_test(dc, test_bit_flip_in_segment_header);
    tcase_add_test(dc, test_bit_flip_in_record_length);
    tcase_add_test(dc, test_bit_flip_in_record_zxid);
    tcase_add_test(dc, test_bit_flip_in_record_body);
    tcase_add_test(dc, test_bit_flip_in_record_crc);
    tcase_add_test(dc, test_bit_flip_at_end_of_middle_segment);
    tcase_add_test(dc, test_bit_flip_in_last_record);
    tcase_add_test(dc, test_whole_record_out_of_order_in_middle);
    tcase_add_test(dc, test_whole_record_out_of_order_at_tail);
    tcase_add_test(dc, test_unknown_segment_version);
    tcase_add_test(dc, test_leftover_tmp_files_ignored);
    tcase_add_test(dc, test_stale_segments_after_save_snapshot);
    tcase_add_test(dc, test_purge_keeps_what_retained_snapshots_need);
    tcase_add_test(dc, test_missing_middle_segment);
    tcase_add_test(dc, test_missing_floor_segment);
    tcase_add_test(dc, test_separate_log_dir);
    tcase_add_test(dc, test_truncate_corrupt_cuts_there);
    tcase_add_test(dc, test_bit_flip_in_epochs);
    tcase_add_test(dc, test_epochs_out_of_order);
    tcase_add_test(dc, test_missing_epochs);
    tcase_add_test(dc, test_bit_flip_in_snapshot_header);
    tcase_add_test(dc, test_bit_flip_in_snapshot_body);
    tcase_add_test(dc, test_only_snapshot_damaged_after_purge);
    tcase_add_test(dc, test_only_snapshot_damaged_with_whole_log);
    suite_add_tcase(s, dc);
    return s;
}

ZAB_CHECK_MAIN(storage_faults_suite)
