/*
 * The durability contract every storage behind a node must keep, checked
 * against two of them: the simulator's in-memory disk (lib/sim/disk.h) and
 * the POSIX file storage (with group commit, and with sync_each). The same scripts of appends, syncs, truncations,
 * epoch saves and installed snapshots run on both, each life ending in a
 * crash: for the simulated disk its crash model (unsynced records lost, the
 * first of them perhaps torn); for the files a child process that did the
 * writes and is SIGKILLed. After each crash the store is recovered into a
 * node, and what it holds is checked against a model of the contract:
 *
 *  - every record reported synced survives; what survives is a prefix of
 *    what was appended (never more, never a record with a hole before it);
 *  - a truncation is durable when it returns: nothing above it comes back;
 *  - epochs are durable when save_epochs returns;
 *  - after save_snapshot, recovery yields exactly that snapshot and the
 *    records appended after it.
 *
 * The two differ by design in what happens to unsynced records (the
 * simulated crash drops them, a killed process leaves them to the page
 * cache), so only the bounds above are compared, never which of the
 * unsynced records survived. The recovered node is then made to lead alone
 * and its tree is compared with the model's.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "sim/disk.h"
#include "sim/rng.h"
#include "zab.h"

enum { SEGMENT_BYTES = 4096, SYNC_TIMEOUT_MS = 10000, MAX_BATCH = 7 };

static const uint64_t HASH_SEED = 0x0c0ffee;

/* ---- scripts ---- */

enum {
    S_END,
    S_APPEND,   /* a records, in calls of up to MAX_BATCH */
    S_SYNC,     /* wait until every record appended so far is durable */
    S_TRUNCATE, /* keep the first a records after the snapshot (a clamped) */
    S_EPOCHS,   /* save_epochs(a, b) */
    S_EPOCH,    /* later records belong to the next epoch */
    S_SNAP,     /* a leader installs its tree, a records ahead of ours */
    S_CRASH     /* end of a life: crash, recover, check */
};

typedef struct step {
    int op;
    int64_t a, b;
} step;

/* ---- the model: what the store must hold ---- */

typedef struct rec {
    int64_t zxid;
    zab_buf txn;
} rec;

typedef struct model {
    zab_tree *tree;     /* snapshot + every record of the log applied */
    zab_buf snap;       /* the installed snapshot's bytes; empty: none */
    int64_t snap_zxid;
    rec *log;           /* records after the snapshot */
    size_t n, cap;
    int64_t durable;    /* every zxid up to this one must survive a crash */
    int64_t pending;    /* last zxid appended since the last sync, 0: none */
    int64_t accepted, current;
    uint32_t epoch;     /* of the next record */
} model;

static zab_tree *tree_new(void)
{
    zab_tree_config cfg = { .hash_seed = HASH_SEED };
    zab_tree *t = zab_tree_new(&cfg);
    ck_assert_ptr_nonnull(t);
    return t;
}

static void model_init(model *m)
{
    memset(m, 0, sizeof *m);
    m->tree = tree_new();
    m->epoch = 1;
}

static void model_free(model *m)
{
    for (size_t i = 0; i < m->n; i++) zab_buf_free(&m->log[i].txn);
    free(m->log);
    zab_buf_free(&m->snap);
    zab_tree_free(m->tree);
}

static int64_t model_last(const model *m)
{
    return m->n ? m->log[m->n - 1].zxid : m->snap_zxid;
}

static int64_t tree_last(const zab_tree *t)
{
    zab_tree_stats st;
    zab_tree_stats_get(t, &st);
    return st.last_zxid;
}

/* The next transaction of the history, prepared and applied on the
 * model's tree: a create whose path names its zxid. */
static int64_t model_next(model *m, zab_buf *txn)
{
    int64_t last = tree_last(m->tree);
    if (m->epoch < ZAB_EPOCH(last)) m->epoch = (uint32_t)ZAB_EPOCH(last);
    int64_t zxid = ZAB_EPOCH(last) == m->epoch ? last + 1 : ZAB_ZXID(m->epoch, 1);
    char path[48], data[48];
    snprintf(path, sizeof path, "/e%" PRId64 "n%u", ZAB_EPOCH(zxid), (unsigned)ZAB_COUNTER(zxid));
    int len = snprintf(data, sizeof data, "value of %016" PRIx64, (uint64_t)zxid);
    zab_op op = zab_op_create(path, data, len, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
    ck_assert_int_eq(zab_tree_prepare(m->tree, &req, zxid, 1000 + ZAB_COUNTER(zxid), txn), 0);
    zab_reply rep;
    ck_assert_int_eq(zab_tree_apply(m->tree, zxid, txn->data, txn->len, &rep), 0);
    ck_assert_int_eq(rep.err, 0);
    return zxid;
}

static void model_push(model *m, int64_t zxid, zab_buf txn)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->log = realloc(m->log, m->cap * sizeof *m->log);
        ck_assert_ptr_nonnull(m->log);
    }
    m->log[m->n++] = (rec){ zxid, txn };
}

/* Rebuild the tree from the snapshot and the log (after records were cut). */
static void model_rebuild(model *m)
{
    zab_tree_free(m->tree);
    m->tree = tree_new();
    if (m->snap.len) ck_assert_int_eq(zab_tree_load_mem(m->tree, m->snap.data, m->snap.len), 0);
    for (size_t i = 0; i < m->n; i++) {
        zab_reply rep;
        ck_assert_int_eq(zab_tree_apply(m->tree, m->log[i].zxid, m->log[i].txn.data,
                                        m->log[i].txn.len, &rep), 0);
    }
}

/* Drop every record above zxid. */
static void model_cut(model *m, int64_t zxid)
{
    size_t keep = m->n;
    while (keep > 0 && m->log[keep - 1].zxid > zxid) keep--;
    if (keep == m->n) return;
    for (size_t i = keep; i < m->n; i++) zab_buf_free(&m->log[i].txn);
    m->n = keep;
    model_rebuild(m);
}

static int buf_write(void *ctx, const void *bytes, size_t len)
{
    return zab_buf_append(ctx, bytes, len);
}

/* ---- the stores ---- */

/* One storage's side of the node's durability callbacks. */
typedef struct store_if {
    int (*append)(void *s, const zab_entry *e, size_t n);
    /* Wait until target is durable; *synced: the highest durable zxid. */
    int (*sync)(void *s, int64_t target, int64_t *synced);
    int (*truncate)(void *s, int64_t zxid);
    int (*save_epochs)(void *s, int64_t accepted, int64_t current);
    int (*save_snapshot)(void *s, const zab_tree *tree);
} store_if;

/* Run one life's steps from *pos up to a crash (consumed) or the end.
 * With ifc NULL only the model moves (it moves the same way, since every
 * step is deterministic). 0, or the code of the store call that failed
 * with a description in why. */
static int run_life(model *m, const store_if *ifc, void *s, const step *steps, size_t *pos,
                    char *why, size_t whylen)
{
    for (; steps[*pos].op != S_END; (*pos)++) {
        const step *st = &steps[*pos];
        int rc = 0;
        switch (st->op) {
        case S_APPEND:
            for (int64_t done = 0; done < st->a && !rc;) {
                zab_entry e[MAX_BATCH];
                zab_buf txn[MAX_BATCH];
                size_t k = 0;
                for (; k < MAX_BATCH && done < st->a; k++, done++) {
                    memset(&txn[k], 0, sizeof txn[k]);
                    e[k].zxid = model_next(m, &txn[k]);
                    e[k].txn = txn[k].data;
                    e[k].len = txn[k].len;
                }
                if (ifc) rc = ifc->append(s, e, k);
                for (size_t i = 0; i < k; i++) model_push(m, e[i].zxid, txn[i]);
                m->pending = e[k - 1].zxid;
                if (rc) snprintf(why, whylen, "append up to 0x%" PRIx64, (uint64_t)e[k - 1].zxid);
            }
            break;
        case S_SYNC:
            if (!m->pending) break;
            if (ifc) {
                int64_t synced = 0;
                rc = ifc->sync(s, m->pending, &synced);
                if (!rc && synced != m->pending) {
                    snprintf(why, whylen, "synced 0x%" PRIx64 " after appending up to 0x%" PRIx64,
                             (uint64_t)synced, (uint64_t)m->pending);
                    rc = ZAB_EINVAL;
                } else if (rc) {
                    snprintf(why, whylen, "sync to 0x%" PRIx64, (uint64_t)m->pending);
                }
            }
            m->durable = m->pending;
            m->pending = 0;
            break;
        case S_TRUNCATE: {
            size_t keep = (size_t)st->a <= m->n ? (size_t)st->a : m->n;
            int64_t zxid = keep ? m->log[keep - 1].zxid : m->snap_zxid;
            if (ifc) rc = ifc->truncate(s, zxid);
            if (rc) snprintf(why, whylen, "truncate to 0x%" PRIx64, (uint64_t)zxid);
            model_cut(m, zxid);
            if (m->durable > zxid) m->durable = zxid;
            m->pending = 0;
            break;
        }
        case S_EPOCHS:
            if (ifc) rc = ifc->save_epochs(s, st->a, st->b);
            if (rc) snprintf(why, whylen, "save_epochs(%" PRId64 ", %" PRId64 ")", st->a, st->b);
            m->accepted = st->a;
            m->current = st->b;
            break;
        case S_EPOCH:
            m->epoch++;
            break;
        case S_SNAP: {
            for (int64_t i = 0; i < st->a; i++) {
                zab_buf txn = { 0 };
                model_next(m, &txn);
                zab_buf_free(&txn);
            }
            if (ifc) rc = ifc->save_snapshot(s, m->tree);
            if (rc) snprintf(why, whylen, "save_snapshot at 0x%" PRIx64, (uint64_t)tree_last(m->tree));
            zab_buf_free(&m->snap);
            ck_assert_int_eq(zab_tree_save(m->tree, buf_write, &m->snap), 0);
            m->snap_zxid = tree_last(m->tree);
            for (size_t i = 0; i < m->n; i++) zab_buf_free(&m->log[i].txn);
            m->n = 0;
            m->durable = m->snap_zxid;
            m->pending = 0;
            break;
        }
        case S_CRASH:
            (*pos)++;
            return 0;
        default:
            ck_abort_msg("bad step %d", st->op);
        }
        if (rc) return rc;
    }
    return 0;
}

/* -- the simulator's disk -- */

typedef struct sim_store {
    zab_sim_disk disk;
    zab_sim_rng rng;
} sim_store;

static int sim_append(void *s, const zab_entry *e, size_t n)
{
    return zab_sim_disk_append(&((sim_store *)s)->disk, e, n);
}

static int sim_sync(void *s, int64_t target, int64_t *synced)
{
    zab_sim_disk *d = &((sim_store *)s)->disk;
    (void)target;
    if (!zab_sim_disk_sync(d, zab_sim_disk_mark(d), synced)) return ZAB_EINVAL;
    return 0;
}

static int sim_truncate(void *s, int64_t zxid)
{
    return zab_sim_disk_truncate(&((sim_store *)s)->disk, zxid);
}

static int sim_epochs(void *s, int64_t accepted, int64_t current)
{
    zab_sim_disk *d = &((sim_store *)s)->disk;
    d->accepted = accepted;
    d->current = current;
    return 0;
}

static int sim_snapshot(void *s, const zab_tree *tree)
{
    return zab_sim_disk_save_snapshot(&((sim_store *)s)->disk, tree);
}

static const store_if sim_if = { sim_append, sim_sync, sim_truncate, sim_epochs, sim_snapshot };

/* -- the file storage -- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int file_append(void *s, const zab_entry *e, size_t n)
{
    return zab_storage_append(s, e, n);
}

static int file_sync(void *s, int64_t target, int64_t *synced)
{
    int64_t deadline = now_ms() + SYNC_TIMEOUT_MS;
    while ((*synced = zab_storage_synced(s)) < target) {
        int rc = zab_storage_status(s);
        if (rc) return rc;
        if (now_ms() > deadline) return ZAB_EOPERATIONTIMEOUT;
        struct pollfd p = { zab_storage_fd(s), POLLIN, 0 };
        poll(&p, 1, 50);
    }
    return 0;
}

static int file_truncate(void *s, int64_t zxid)
{
    return zab_storage_truncate(s, zxid);
}

static int file_epochs(void *s, int64_t accepted, int64_t current)
{
    return zab_storage_save_epochs(s, accepted, current);
}

static int file_snapshot(void *s, const zab_tree *tree)
{
    return zab_storage_save_snapshot(s, tree);
}

static const store_if file_if = { file_append, file_sync, file_truncate, file_epochs, file_snapshot };

static int file_open(const char *dir, int sync_each, zab_storage **s, char *err, size_t errlen)
{
    zab_storage_config cfg = { .dir = dir, .segment_bytes = SEGMENT_BYTES, .sync_each = sync_each };
    return zab_storage_open(&cfg, s, err, errlen);
}

/* ---- the two kinds behind one interface ---- */

typedef struct kind {
    const char *name;
    void *(*create)(void);
    void (*destroy)(void *store);
    /* Run one life of the script and crash. */
    void (*life)(void *store, model *m, const step *steps, size_t *pos);
    /* Recover into a new node (restored, not started) and the epochs. */
    zab_node *(*recover)(void *store, zab_node_state *st, const zab_io *io);
} kind;

static zab_node *node_new(const zab_node_state *st, const zab_io *io)
{
    zab_member self = { 1, 0 };
    zab_node_config cfg = { .sid = 1, .members = &self, .nmembers = 1, .tick_ms = 100,
                            .finalize_wait_ms = 10, .tree = { .hash_seed = HASH_SEED } };
    zab_node *node = zab_node_new(&cfg, io, st);
    ck_assert_ptr_nonnull(node);
    return node;
}

static void *sim_create(void)
{
    sim_store *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    zab_sim_rng_seed(&s->rng, 42);
    return s;
}

static void sim_destroy(void *store)
{
    sim_store *s = store;
    zab_sim_disk_free(&s->disk);
    free(s);
}

static void sim_life(void *store, model *m, const step *steps, size_t *pos)
{
    sim_store *s = store;
    char why[160] = "";
    int rc = run_life(m, &sim_if, s, steps, pos, why, sizeof why);
    ck_assert_msg(rc == 0, "simulated disk: %s: %s", why, zab_strerror(rc));
    /* Half the crashes tear the first record not yet durable. */
    zab_sim_disk_crash(&s->disk, &s->rng, 500000);
}

typedef struct mem_reader {
    const uint8_t *p;
    size_t left;
} mem_reader;

static long mem_read(void *ctx, void *bytes, size_t len)
{
    mem_reader *r = ctx;
    size_t n = len < r->left ? len : r->left;
    memcpy(bytes, r->p, n);
    r->p += n;
    r->left -= n;
    return (long)n;
}

/* What the simulator's host does at a restart. */
static zab_node *sim_recover(void *store, zab_node_state *st, const zab_io *io)
{
    zab_sim_disk *d = &((sim_store *)store)->disk;
    st->accepted_epoch = d->accepted;
    st->current_epoch = d->current;
    zab_node *node = node_new(st, io);
    if (d->snap.len) {
        mem_reader r = { d->snap.data, d->snap.len };
        ck_assert_int_eq(zab_node_restore_snapshot(node, mem_read, &r), 0);
    }
    size_t n = zab_sim_disk_recover(d);
    for (size_t i = 0; i < n; i++) {
        zab_entry e = { d->log[i].zxid, d->log[i].bytes, d->log[i].len };
        ck_assert_int_eq(zab_node_restore_entry(node, &e), 0);
    }
    return node;
}

typedef struct file_store {
    char dir[32];
    int sync_each;
} file_store;

static void *file_create(void)
{
    file_store *f = calloc(1, sizeof *f);
    ck_assert_ptr_nonnull(f);
    strcpy(f->dir, "/tmp/zab-contract-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    return f;
}

static void file_destroy(void *store)
{
    file_store *f = store;
    DIR *d = opendir(f->dir);
    if (d) {
        char path[512];
        for (struct dirent *e; (e = readdir(d));) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
}

/* The life runs in a child that is SIGKILLed once its steps are done; the
 * parent's model then takes the same steps without a store. */
static void file_life(void *store, model *m, const step *steps, size_t *pos)
{
    file_store *f = store;
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        char why[512] = "";
        zab_storage *s = NULL;
        int rc = file_open(f->dir, f->sync_each, &s, why, sizeof why);
        if (!rc) rc = run_life(m, &file_if, s, steps, pos, why, sizeof why);
        char msg[640];
        int len = rc ? snprintf(msg, sizeof msg, "E%s: %s", why, zab_strerror(rc))
                     : snprintf(msg, sizeof msg, "K");
        if (write(fds[1], msg, (size_t)len) != len) _exit(2);
        for (;;) pause();
    }
    close(fds[1]);
    char msg[640];
    ssize_t len = read(fds[0], msg, sizeof msg - 1);
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0) ck_assert_int_eq(errno, EINTR);
    close(fds[0]);
    if (len < 0) len = 0;
    msg[len] = 0;
    ck_assert_msg(len > 0 && msg[0] == 'K', "file storage: %s", len ? msg + 1 : "child died");
    char why[160] = "";
    ck_assert_int_eq(run_life(m, NULL, NULL, steps, pos, why, sizeof why), 0);
}

/* The same files, written with one sync per record (no group commit). */
static void *file_each_create(void)
{
    file_store *f = file_create();
    f->sync_each = 1;
    return f;
}

static zab_node *file_recover(void *store, zab_node_state *st, const zab_io *io)
{
    file_store *f = store;
    zab_storage *s;
    char err[512] = "";
    int rc = file_open(f->dir, f->sync_each, &s, err, sizeof err);
    ck_assert_msg(rc == 0, "file storage: recovery: %s (%s)", zab_strerror(rc), err);
    zab_storage_state(s, st);
    zab_node *node = node_new(st, io);
    rc = zab_storage_restore(s, node);
    ck_assert_msg(rc == 0, "file storage: restore: %s", zab_strerror(rc));
    zab_storage_close(s);
    return node;
}

static const kind kinds[] = {
    { "simulated disk", sim_create, sim_destroy, sim_life, sim_recover },
    { "file storage", file_create, file_destroy, file_life, file_recover },
    { "file storage (sync_each)", file_each_create, file_destroy, file_life, file_recover },
};

/* ---- checking a recovered store ---- */

/* A host that keeps nothing: the recovered node leads on it so its tree
 * can be compared, without writing to the store under test. */
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

static int nh_truncate(void *ctx, int64_t zxid)
{
    null_host *h = ctx;
    if (h->appended > zxid) h->appended = zxid;
    return 0;
}

static int nh_epochs(void *ctx, int64_t a, int64_t c) { (void)ctx, (void)a, (void)c; return 0; }
static int nh_snapshot(void *ctx, const zab_tree *t) { (void)ctx, (void)t; return 0; }

static void nh_role(void *ctx, int role, int64_t leader, int64_t epoch)
{
    (void)leader, (void)epoch;
    ((null_host *)ctx)->role = role;
}

/* Compare what kind k recovered with the model, then make the model hold
 * exactly what survived (so later lives continue from it). */
static void check_recovered(const kind *k, void *store, model *m, const char *script)
{
    null_host nh = { ZAB_LOOKING, 0 };
    zab_io io = { .ctx = &nh, .send = nh_send, .disconnect = nh_disconnect,
                  .log_append = nh_append, .log_truncate = nh_truncate,
                  .save_epochs = nh_epochs, .save_snapshot = nh_snapshot, .on_role = nh_role };
    zab_node_state st;
    zab_node *node = k->recover(store, &st, &io);
    ck_assert_msg(st.accepted_epoch == m->accepted && st.current_epoch == m->current,
                  "%s, %s: epochs %" PRId64 "/%" PRId64 " recovered, %" PRId64 "/%" PRId64
                  " saved", k->name, script, st.accepted_epoch, st.current_epoch, m->accepted,
                  m->current);
    zab_node_stats ns;
    zab_node_stats_get(node, &ns);
    ck_assert_msg(ns.last_applied == m->snap_zxid,
                  "%s, %s: snapshot at 0x%" PRIx64 " recovered, 0x%" PRIx64 " installed", k->name,
                  script, (uint64_t)ns.last_applied, (uint64_t)m->snap_zxid);
    int64_t got = ns.last_logged;
    ck_assert_msg(got >= m->durable,
                  "%s, %s: recovered up to 0x%" PRIx64 ", but 0x%" PRIx64 " was durable", k->name,
                  script, (uint64_t)got, (uint64_t)m->durable);
    ck_assert_msg(got <= model_last(m),
                  "%s, %s: recovered up to 0x%" PRIx64 ", beyond the last record 0x%" PRIx64,
                  k->name, script, (uint64_t)got, (uint64_t)model_last(m));
    int known = got == m->snap_zxid;
    for (size_t i = 0; i < m->n && !known; i++) known = m->log[i].zxid == got;
    ck_assert_msg(known, "%s, %s: recovered zxid 0x%" PRIx64 " was never appended", k->name,
                  script, (uint64_t)got);
    model_cut(m, got);
    m->durable = got;
    m->pending = 0;

    /* Lead alone: the node commits what it recovered, and its tree must be
     * the model's, record for record. */
    ck_assert_int_eq(zab_node_start(node, 0), 0);
    int64_t t = 0;
    for (int i = 0;; i++) {
        ck_assert_msg(i < 100000, "%s, %s: the recovered node never led", k->name, script);
        ck_assert_int_eq(zab_node_log_synced(node, nh.appended), 0);
        zab_node_stats_get(node, &ns);
        if (nh.role == ZAB_LEADING && ns.last_applied >= got) break;
        int64_t due = zab_node_next_deadline(node);
        t = due > t ? due : t + 1;
        ck_assert_int_eq(zab_node_tick(node, t), 0);
    }
    zab_tree_stats have, want;
    zab_tree_stats_get(zab_node_tree(node), &have);
    zab_tree_stats_get(m->tree, &want);
    ck_assert_msg(have.last_zxid == want.last_zxid && have.digest == want.digest &&
                      have.nodes == want.nodes,
                  "%s, %s: the recovered tree (0x%" PRIx64 ", %" PRIu64 " nodes) is not the "
                  "model's (0x%" PRIx64 ", %" PRIu64 " nodes)",
                  k->name, script, (uint64_t)have.last_zxid, have.nodes,
                  (uint64_t)want.last_zxid, want.nodes);
    zab_node_free(node);
}

/* Run script on kind k from an empty store; the final model (what the
 * store holds after the last recovery) is left in *m. */
static void run_script(const kind *k, const step *script, const char *name, model *m)
{
    model_init(m);
    void *store = k->create();
    size_t pos = 0;
    while (script[pos].op != S_END) {
        k->life(store, m, script, &pos);
        check_recovered(k, store, m, name);
    }
    k->destroy(store);
}

#define NKINDS (sizeof kinds / sizeof kinds[0])

/* ---- the contract, one property per test ---- */

START_TEST(test_synced_records_survive)
{
    static const step script[] = {
        { S_EPOCHS, 1, 1 }, { S_APPEND, 20, 0 }, { S_SYNC, 0, 0 }, { S_APPEND, 5, 0 },
        { S_CRASH, 0, 0 },
        { S_APPEND, 9, 0 }, { S_SYNC, 0, 0 }, { S_CRASH, 0, 0 }, { S_END, 0, 0 },
    };
    for (size_t k = 0; k < NKINDS; k++) {
        model m;
        run_script(&kinds[k], script, "synced records", &m);
        /* Life two synced its nine on top of whatever of the five survived. */
        int64_t last = model_last(&m);
        ck_assert_int_eq(ZAB_EPOCH(last), 1);
        ck_assert_uint_ge(ZAB_COUNTER(last), 29);
        ck_assert_uint_le(ZAB_COUNTER(last), 34);
        model_free(&m);
    }
}
END_TEST

START_TEST(test_truncate_is_durable)
{
    static const step script[] = {
        { S_EPOCHS, 1, 1 }, { S_APPEND, 10, 0 }, { S_SYNC, 0, 0 }, { S_TRUNCATE, 4, 0 },
        { S_CRASH, 0, 0 },
        { S_EPOCHS, 2, 2 }, { S_EPOCH, 0, 0 }, { S_APPEND, 3, 0 }, { S_SYNC, 0, 0 },
        { S_APPEND, 6, 0 }, { S_TRUNCATE, 9, 0 }, { S_CRASH, 0, 0 },
        { S_TRUNCATE, 0, 0 }, { S_CRASH, 0, 0 }, { S_END, 0, 0 },
    };
    for (size_t k = 0; k < NKINDS; k++) {
        model m;
        model_init(&m);
        void *store = kinds[k].create();
        size_t pos = 0;
        kinds[k].life(store, &m, script, &pos);
        check_recovered(&kinds[k], store, &m, "truncate");
        ck_assert_int_eq(model_last(&m), ZAB_ZXID(1, 4));
        kinds[k].life(store, &m, script, &pos);
        check_recovered(&kinds[k], store, &m, "truncate");
        /* (2,1..3) synced; of (2,4..5) kept by the truncation, any prefix. */
        ck_assert_int_ge(model_last(&m), ZAB_ZXID(2, 3));
        ck_assert_int_le(model_last(&m), ZAB_ZXID(2, 5));
        kinds[k].life(store, &m, script, &pos);
        check_recovered(&kinds[k], store, &m, "truncate");
        ck_assert_int_eq(model_last(&m), 0);
        ck_assert_int_eq(m.n, 0);
        kinds[k].destroy(store);
        model_free(&m);
    }
}
END_TEST

START_TEST(test_epochs_are_durable)
{
    static const step script[] = {
        { S_EPOCHS, 1, 0 }, { S_CRASH, 0, 0 },
        { S_EPOCHS, 1, 1 }, { S_APPEND, 5, 0 }, { S_EPOCHS, 2, 1 }, { S_CRASH, 0, 0 },
        { S_EPOCHS, 2, 2 }, { S_EPOCH, 0, 0 }, { S_APPEND, 3, 0 }, { S_CRASH, 0, 0 },
        { S_END, 0, 0 },
    };
    for (size_t k = 0; k < NKINDS; k++) {
        model m;
        run_script(&kinds[k], script, "epochs", &m);
        ck_assert_int_eq(m.accepted, 2);
        ck_assert_int_eq(m.current, 2);
        model_free(&m);
    }
}
END_TEST

START_TEST(test_snapshot_replaces_the_log)
{
    static const step script[] = {
        { S_EPOCHS, 1, 1 }, { S_APPEND, 10, 0 }, { S_SYNC, 0, 0 }, { S_APPEND, 3, 0 },
        { S_SNAP, 5, 0 }, { S_APPEND, 4, 0 }, { S_SYNC, 0, 0 }, { S_CRASH, 0, 0 },
        { S_APPEND, 2, 0 }, { S_CRASH, 0, 0 },
        { S_EPOCHS, 2, 2 }, { S_EPOCH, 0, 0 }, { S_SNAP, 3, 0 }, { S_CRASH, 0, 0 },
        { S_APPEND, 40, 0 }, { S_SYNC, 0, 0 }, { S_CRASH, 0, 0 }, { S_END, 0, 0 },
    };
    for (size_t k = 0; k < NKINDS; k++) {
        model m;
        model_init(&m);
        void *store = kinds[k].create();
        size_t pos = 0;
        kinds[k].life(store, &m, script, &pos);
        check_recovered(&kinds[k], store, &m, "snapshot");
        /* 13 appended (10 synced), the leader's tree 5 further: (1,18). */
        ck_assert_int_eq(m.snap_zxid, ZAB_ZXID(1, 18));
        ck_assert_int_eq(model_last(&m), ZAB_ZXID(1, 22));
        ck_assert_int_eq(m.n, 4);
        kinds[k].life(store, &m, script, &pos);
        check_recovered(&kinds[k], store, &m, "snapshot");
        ck_assert_int_eq(m.snap_zxid, ZAB_ZXID(1, 18));
        int64_t before = model_last(&m);
        ck_assert_int_ge(before, ZAB_ZXID(1, 22));
        kinds[k].life(store, &m, script, &pos);
        check_recovered(&kinds[k], store, &m, "snapshot");
        ck_assert_int_eq(m.snap_zxid, ZAB_ZXID(2, 3));
        ck_assert_int_eq(m.n, 0);
        kinds[k].life(store, &m, script, &pos);
        check_recovered(&kinds[k], store, &m, "snapshot");
        ck_assert_int_eq(m.snap_zxid, ZAB_ZXID(2, 3));
        ck_assert_int_eq(model_last(&m), ZAB_ZXID(2, 43));
        kinds[k].destroy(store);
        model_free(&m);
    }
}
END_TEST

/* A seeded random script: a few lives of random steps. */
static step *random_script(uint64_t seed)
{
    zab_sim_rng rng;
    zab_sim_rng_seed(&rng, seed);
    size_t cap = 64, n = 0;
    step *s = calloc(cap, sizeof *s);
    ck_assert_ptr_nonnull(s);
    int64_t epoch = 1;
    s[n++] = (step){ S_EPOCHS, 1, 1, };
    int lives = (int)zab_sim_rng_range(&rng, 2, 4);
    for (int l = 0; l < lives; l++) {
        int nsteps = (int)zab_sim_rng_range(&rng, 2, 9);
        for (int i = 0; i < nsteps && n + 3 < cap; i++) {
            switch (zab_sim_rng_range(&rng, 0, 9)) {
            case 0: case 1: case 2:
                s[n++] = (step){ S_APPEND, zab_sim_rng_range(&rng, 1, 60), 0 };
                break;
            case 3: case 4:
                s[n++] = (step){ S_SYNC, 0, 0 };
                break;
            case 5:
                s[n++] = (step){ S_TRUNCATE, zab_sim_rng_range(&rng, 0, 80), 0 };
                break;
            case 6:
                epoch++;
                s[n++] = (step){ S_EPOCHS, epoch, epoch - 1 };
                s[n++] = (step){ S_EPOCHS, epoch, epoch };
                s[n++] = (step){ S_EPOCH, 0, 0 };
                break;
            case 7:
                s[n++] = (step){ S_SNAP, zab_sim_rng_range(&rng, 0, 6), 0 };
                break;
            default:
                s[n++] = (step){ S_APPEND, zab_sim_rng_range(&rng, 1, 5), 0 };
                s[n++] = (step){ S_SYNC, 0, 0 };
                break;
            }
        }
        s[n++] = (step){ S_CRASH, 0, 0 };
    }
    s[n] = (step){ S_END, 0, 0 };
    return s;
}

START_TEST(test_random_scripts)
{
    for (uint64_t seed = 1; seed <= 12; seed++) {
        step *script = random_script(seed);
        char name[32];
        snprintf(name, sizeof name, "random seed %" PRIu64, seed);
        for (size_t k = 0; k < NKINDS; k++) {
            model m;
            run_script(&kinds[k], script, name, &m);
            model_free(&m);
        }
        free(script);
    }
}
END_TEST

static Suite *storage_contract_suite(void)
{
    Suite *s = suite_create("storage_contract");
    TCase *tc = tcase_create("contract");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_synced_records_survive);
    tcase_add_test(tc, test_truncate_is_durable);
    tcase_add_test(tc, test_epochs_are_durable);
    tcase_add_test(tc, test_snapshot_replaces_the_log);
    tcase_add_test(tc, test_random_scripts);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(storage_contract_suite)
