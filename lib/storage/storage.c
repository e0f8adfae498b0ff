/*
 * storage.c - the public file storage functions: open and close, the
 * node's durability callbacks, and the operations that run synchronously
 * on the node's thread (truncate, epochs, snapshot install).
 *
 * A synchronous operation first drains the writer (everything queued is
 * written and synced), so it sees, and may change, the log state alone;
 * see storage.h for the hand-over rules.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/epochs.h"
#include "storage/segment.h"
#include "storage/snapfile.h"
#include "storage/storage.h"

enum {
    DEFAULT_SEGMENT = 64 << 20,
    DEFAULT_RETAIN = 3,
    DEFAULT_RECORD = 4 << 20,
    MIN_SEGMENT = 128,
    MAX_DIR = ZAB_PATH_CAP - 2 * ZAB_NAME_CAP
};

/* ---- shared helpers ---- */

const zab_snap_info *zab_storage_newest_snap(const zab_storage *s)
{
    for (size_t i = 0; i < s->nsnaps; i++)
        if (s->snaps[i].state == ZAB_SNAPFILE_VALID) return &s->snaps[i];
    return NULL;
}

static int grow(void **p, size_t *cap, size_t need, size_t item)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap * 2 : 8;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * item);
    if (!q) return ZAB_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

int zab_storage_reserve(zab_storage *s, size_t segs, size_t snaps)
{
    if (grow((void **)&s->segs, &s->segs_cap, segs, sizeof(*s->segs))) return ZAB_ENOMEM;
    return grow((void **)&s->snaps, &s->snaps_cap, snaps, sizeof(*s->snaps));
}

/* A byte on the pipe makes zab_storage_fd readable; a full pipe is already
 * readable, so a failed write loses nothing. */
static void wake(zab_storage *s)
{
    char b = 1;
    if (write(s->notify[1], &b, 1) < 0) {
        /* EAGAIN: full, hence readable */
    }
}

void zab_storage_publish(zab_storage *s, int64_t zxid)
{
    atomic_store(&s->synced, zxid);
    wake(s);
}

void zab_storage_fail(zab_storage *s, const zab_serr *e)
{
    pthread_mutex_lock(&s->mu);
    if (!atomic_load(&s->error)) {
        s->fail = *e;
        atomic_store(&s->error, e->code == ZAB_ENOMEM ? ZAB_ENOMEM : ZAB_EIO);
    }
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
    wake(s);
}

static int failed(zab_storage *s, const zab_serr *e)
{
    zab_storage_fail(s, e);
    return atomic_load(&s->error);
}

/* Wait until the writer has written and synced everything queued. */
static int drain(zab_storage *s)
{
    pthread_mutex_lock(&s->mu);
    while ((s->pending.len || s->has_job || s->busy) && !atomic_load(&s->error))
        pthread_cond_wait(&s->idle, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return atomic_load(&s->error);
}

/* ---- open and close ---- */

static int report(char *err, size_t errlen, const zab_serr *e)
{
    if (err && errlen) snprintf(err, errlen, "%s", e->msg);
    return e->code;
}

/* Create dir if missing, and make its entry in the parent durable. */
static int make_dir(const struct zab_sys *sys, const char *dir, zab_serr *e)
{
    if (sys->mkdir(dir, 0755) < 0) return errno == EEXIST ? 0 : zab_serr_io(e, "mkdir", dir);
    char parent[ZAB_PATH_CAP];
    snprintf(parent, sizeof(parent), "%s", dir);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/') parent[--n] = 0;
    char *slash = strrchr(parent, '/');
    if (!slash) snprintf(parent, sizeof(parent), ".");
    else if (slash == parent) parent[1] = 0;
    else *slash = 0;
    return zab_dir_sync(sys, parent, e);
}

static int check_config(const zab_storage_config *cfg, zab_serr *e)
{
    if (!cfg || !cfg->dir || !cfg->dir[0])
        return zab_serr_set(e, ZAB_EINVAL, 0, "no storage directory given");
    if (strlen(cfg->dir) > MAX_DIR || (cfg->log_dir && strlen(cfg->log_dir) > MAX_DIR))
        return zab_serr_set(e, ZAB_EINVAL, 0, "directory name longer than %d bytes", MAX_DIR);
    if (cfg->log_dir && !cfg->log_dir[0])
        return zab_serr_set(e, ZAB_EINVAL, 0, "empty log directory name");
    if (cfg->segment_bytes && cfg->segment_bytes < MIN_SEGMENT)
        return zab_serr_set(e, ZAB_EINVAL, 0, "segment_bytes below %d", MIN_SEGMENT);
    return 0;
}

static void destroy(zab_storage *s)
{
    if (s->fd >= 0) s->sys->close(s->fd);
    if (s->notify[0] >= 0) close(s->notify[0]);
    if (s->notify[1] >= 0) close(s->notify[1]);
    pthread_cond_destroy(&s->idle);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->mu);
    zab_buf_free(&s->pending);
    zab_buf_free(&s->writing);
    zab_buf_free(&s->job);
    free(s->segs);
    free(s->snaps);
    free(s->dir);
    free(s->log_dir);
    free(s);
}

static int open_pipe(zab_storage *s, zab_serr *e)
{
    if (pipe(s->notify) < 0) {
        s->notify[0] = s->notify[1] = -1;
        return zab_serr_io(e, "pipe", "for zab_storage_fd");
    }
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(s->notify[i], F_GETFL);
        if (fl < 0 || fcntl(s->notify[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
            fcntl(s->notify[i], F_SETFD, FD_CLOEXEC) < 0)
            return zab_serr_io(e, "fcntl", "on the notify pipe");
    }
    return 0;
}

static zab_storage *create(const zab_storage_config *cfg)
{
    zab_storage *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->fd = s->notify[0] = s->notify[1] = -1;
    if (pthread_mutex_init(&s->mu, NULL)) {
        free(s);
        return NULL;
    }
    if (pthread_cond_init(&s->work, NULL)) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    if (pthread_cond_init(&s->idle, NULL)) {
        pthread_cond_destroy(&s->work);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    s->sys = cfg->sys ? cfg->sys : zab_sys_posix();
    s->segment_bytes = cfg->segment_bytes ? cfg->segment_bytes : DEFAULT_SEGMENT;
    s->snap_retain = cfg->snap_retain ? cfg->snap_retain : DEFAULT_RETAIN;
    s->max_record = cfg->max_record ? cfg->max_record : DEFAULT_RECORD;
    s->sync_each = cfg->sync_each;
    s->next_seq = 1;
    s->dir = strdup(cfg->dir);
    s->log_dir = strdup(cfg->log_dir ? cfg->log_dir : cfg->dir);
    if (!s->dir || !s->log_dir) {
        destroy(s);
        return NULL;
    }
    return s;
}

/* The writer runs with every signal blocked, so the host's handlers keep
 * running on the threads the host chose. */
static int start_writer(zab_storage *s, zab_serr *e)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, zab_storage_writer, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) return zab_serr_set(e, ZAB_ENOMEM, rc, "cannot start the writer thread");
    return 0;
}

ZAB_API int zab_storage_open(const zab_storage_config *cfg, zab_storage **out, char *err,
                             size_t errlen)
{
    zab_serr e = { 0, 0, "" };
    if (err && errlen) err[0] = 0;
    if (!out) return ZAB_EINVAL;
    *out = NULL;
    int rc = check_config(cfg, &e);
    if (rc) return report(err, errlen, &e);
    zab_storage *s = create(cfg);
    if (!s) return report(err, errlen, &(zab_serr){ ZAB_ENOMEM, 0, "out of memory" });
    rc = make_dir(s->sys, s->dir, &e);
    if (!rc && strcmp(s->dir, s->log_dir)) rc = make_dir(s->sys, s->log_dir, &e);
    if (!rc) rc = zab_storage_recover(s, cfg->truncate_corrupt, &e, err, errlen);
    if (!rc) rc = open_pipe(s, &e);
    if (!rc) rc = start_writer(s, &e);
    if (rc) {
        destroy(s);
        return report(err, errlen, &e);
    }
    s->started = 1;
    *out = s;
    return 0;
}

ZAB_API void zab_storage_close(zab_storage *s)
{
    if (!s) return;
    if (s->started) {
        /* The writer empties the queue before it sees stop. */
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_cond_signal(&s->work);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    destroy(s);
}

/* ---- state for a new node ---- */

ZAB_API void zab_storage_state(const zab_storage *s, zab_node_state *out)
{
    out->accepted_epoch = s->accepted;
    out->current_epoch = s->current;
}

ZAB_API int zab_storage_restore(zab_storage *s, zab_node *node)
{
    int rc = drain(s);
    if (rc) return rc;
    if (!node) return ZAB_EINVAL;
    zab_serr e = { 0, 0, "" };
    return zab_storage_replay(s, node, &e);
}

/* ---- the node's callbacks ---- */

ZAB_API int zab_storage_append(zab_storage *s, const zab_entry *entries, size_t n)
{
    int rc = atomic_load(&s->error);
    if (rc || !n) return rc;
    if (!entries) return ZAB_EINVAL;
    int64_t last = s->queued_last;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const zab_entry *en = &entries[i];
        if (!en->len || !en->txn) return ZAB_EINVAL;
        if (en->len > s->max_record) return ZAB_ETOOBIG;
        /* Recovery accepts only a gap-free log; refuse here what it would
         * later call corruption. */
        if (!zab_zxid_follows(last, en->zxid)) return ZAB_EINVAL;
        if (total > SIZE_MAX - ZAB_REC_HEADER - en->len) return ZAB_ENOMEM;
        total += ZAB_REC_HEADER + en->len;
        last = en->zxid;
    }
    pthread_mutex_lock(&s->mu);
    rc = zab_buf_reserve(&s->pending, total);
    if (!rc) {
        for (size_t i = 0; i < n; i++) {
            uint8_t *at = s->pending.data + s->pending.len;
            zab_rec_header_encode(at, entries[i].zxid, entries[i].txn, (uint32_t)entries[i].len);
            memcpy(at + ZAB_REC_HEADER, entries[i].txn, entries[i].len);
            s->pending.len += ZAB_REC_HEADER + entries[i].len;
        }
        pthread_cond_signal(&s->work);
    }
    pthread_mutex_unlock(&s->mu);
    if (!rc) s->queued_last = last;
    return rc;
}

/* Find where the first record after zxid starts in segment si (open as
 * fd), and the zxid before it. */
static int find_cut(zab_storage *s, const zab_seg_info *si, int fd, int64_t zxid, uint64_t *off,
                    int64_t *before, zab_serr *e)
{
    char name[ZAB_NAME_CAP], path[ZAB_PATH_CAP];
    zab_seg_name(name, si->seq);
    zab_path(path, s->log_dir, name);
    zab_seg_scan sc;
    zab_seg_scan_init(&sc, s->sys, fd, si->size, path);
    uint64_t seq;
    int64_t prev;
    int rc = zab_seg_scan_header(&sc, &seq, &prev, e);
    *before = si->prev;
    while (rc >= 0) {
        zab_seg_rec rec;
        rc = zab_seg_scan_next(&sc, &rec, e);
        if (rc != ZAB_SCAN_REC) break;
        if (rec.zxid > zxid) {
            *off = rec.off;
            zab_seg_scan_free(&sc);
            return 0;
        }
        *before = rec.zxid;
    }
    zab_seg_scan_free(&sc);
    if (rc >= 0 || rc == ZAB_ECORRUPT || rc == ZAB_EVERSION)
        rc = zab_serr_set(e, ZAB_EIO, 0, "%s changed under the storage", path);
    return rc;
}

/* Cut the log after zxid: later segments go first (newest first, then a
 * directory sync), the segment holding the cut last, so a crash part way
 * leaves a consistent prefix of the old log. */
static int cut_log(zab_storage *s, int64_t zxid, zab_serr *e)
{
    size_t k = 0;
    while (k < s->nsegs && s->segs[k].last <= zxid) k++;
    assert(k < s->nsegs);
    zab_seg_info *si = &s->segs[k];
    int fd = s->fd;
    int rc = k + 1 == s->nsegs ? 0 : zab_seg_open(s->sys, s->log_dir, si->seq, &fd, e);
    if (rc) return rc;
    if (fd != s->fd) {
        if (s->fd >= 0) s->sys->close(s->fd);
        s->fd = fd;
    }
    s->dirty = 0;
    uint64_t off = 0;
    int64_t before = 0;
    if ((rc = find_cut(s, si, fd, zxid, &off, &before, e))) return rc;
    for (size_t j = s->nsegs; j-- > k + 1;) {
        char name[ZAB_NAME_CAP];
        zab_seg_name(name, s->segs[j].seq);
        if ((rc = zab_file_remove(s->sys, s->log_dir, name, e))) return rc;
    }
    if (s->nsegs > k + 1 && (rc = zab_dir_sync(s->sys, s->log_dir, e))) return rc;
    s->nsegs = k + 1;
    char name[ZAB_NAME_CAP], path[ZAB_PATH_CAP];
    zab_seg_name(name, si->seq);
    zab_path(path, s->log_dir, name);
    if ((rc = zab_seg_cut(s->sys, fd, off, si->size, path, e))) return rc;
    si->end = off;
    si->last = s->log_last = before;
    return 0;
}

ZAB_API int zab_storage_truncate(zab_storage *s, int64_t zxid)
{
    int rc = drain(s);
    if (rc) return rc;
    if (zxid < 0) return ZAB_EINVAL;
    if (zxid >= s->log_last) return 0;
    const zab_snap_info *snap = zab_storage_newest_snap(s);
    int64_t z = snap ? snap->zxid : 0;
    /* A snapshot cannot be unwritten. */
    if (zxid < z) return ZAB_EINVAL;
    zab_serr e = { 0, 0, "" };
    if ((rc = cut_log(s, zxid, &e))) return failed(s, &e);
    s->queued_last = s->log_last > z ? s->log_last : z;
    if (atomic_load(&s->synced) > zxid) atomic_store(&s->synced, zxid);
    return 0;
}

ZAB_API int zab_storage_save_epochs(zab_storage *s, int64_t accepted, int64_t current)
{
    int rc = drain(s);
    if (rc) return rc;
    if (current < 0 || accepted < current) return ZAB_EINVAL;
    zab_serr e = { 0, 0, "" };
    if ((rc = zab_epochs_write(s->sys, s->dir, accepted, current, &e))) return failed(s, &e);
    s->accepted = accepted;
    s->current = current;
    return 0;
}

/* Remove every snapshot file but the one at keep. */
static int remove_snapshots(zab_storage *s, int64_t keep, zab_serr *e)
{
    int removed = 0;
    for (size_t i = 0; i < s->nsnaps; i++) {
        if (s->snaps[i].zxid == keep) continue;
        char name[ZAB_NAME_CAP];
        zab_snap_name(name, s->snaps[i].zxid);
        int rc = zab_file_remove(s->sys, s->dir, name, e);
        if (rc) return rc;
        removed = 1;
    }
    return removed ? zab_dir_sync(s->sys, s->dir, e) : 0;
}

/* The snapshot goes first, naming a floor no existing segment reaches:
 * once it is renamed into place, recovery uses it and ignores every older
 * segment, whether or not the deletions that follow happen. */
ZAB_API int zab_storage_save_snapshot(zab_storage *s, const zab_tree *tree)
{
    int rc = drain(s);
    if (rc) return rc;
    if (!tree) return ZAB_EINVAL;
    if ((rc = zab_storage_reserve(s, 1, 1))) return rc;
    uint64_t seq = zab_storage_next_seq(s);
    zab_snap_meta m;
    zab_serr e = { 0, 0, "" };
    rc = zab_snap_write_tree(s->sys, s->dir, tree, seq, &m, &e);
    if (rc == ZAB_ENOMEM || rc == ZAB_EFAILED) return rc;
    if (rc) return failed(s, &e);
    if (s->fd >= 0) s->sys->close(s->fd);
    s->fd = -1;
    s->dirty = 0;
    s->nsegs = 0;
    s->next_seq = seq;
    s->log_last = s->queued_last = m.zxid;
    rc = remove_snapshots(s, m.zxid, &e);
    s->snaps[0] = (zab_snap_info){ m.zxid, m.floor, m.length, ZAB_SNAPFILE_VALID };
    s->nsnaps = 1;
    if (!rc) rc = zab_storage_remove_segments(s, seq, &e);
    /* The new log's first segment now, not at the first append: a store
     * whose snapshot floor names a missing segment is one crash window. */
    int fd = -1;
    if (!rc) rc = zab_seg_create(s->sys, s->log_dir, seq, m.zxid, s->segment_bytes, &fd, &e);
    if (rc) return failed(s, &e);
    s->fd = fd;
    s->segs[s->nsegs++] = (zab_seg_info){ seq, m.zxid, m.zxid, ZAB_SEG_HEADER, s->segment_bytes };
    zab_storage_publish(s, m.zxid);
    return 0;
}

static int append_bytes(void *ctx, const void *bytes, size_t len)
{
    return zab_buf_append(ctx, bytes, len);
}

ZAB_API int zab_storage_snapshot(zab_storage *s, const zab_tree *tree)
{
    int rc = atomic_load(&s->error);
    if (rc) return rc;
    if (!tree) return ZAB_EINVAL;
    zab_buf body = { 0 };
    if ((rc = zab_tree_save(tree, append_bytes, &body))) {
        zab_buf_free(&body);
        return rc;
    }
    zab_tree_stats st;
    zab_tree_stats_get(tree, &st);
    pthread_mutex_lock(&s->mu);
    /* A snapshot still waiting is superseded by this newer one. */
    zab_buf_free(&s->job);
    s->job = body;
    s->job_zxid = st.last_zxid;
    s->has_job = 1;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* ---- any thread ---- */

ZAB_API int64_t zab_storage_synced(const zab_storage *s)
{
    zab_storage *m = (zab_storage *)s; /* atomics and the pipe only */
    char buf[64];
    /* Drain first, then read: a publish after the read leaves a byte. */
    while (read(m->notify[0], buf, sizeof(buf)) > 0) {
    }
    return atomic_load(&m->synced);
}

ZAB_API int zab_storage_fd(const zab_storage *s)
{
    return s->notify[0];
}

ZAB_API int zab_storage_status(const zab_storage *s)
{
    return atomic_load(&((zab_storage *)s)->error);
}

ZAB_API int zab_storage_error(const zab_storage *s, char *buf, size_t len)
{
    zab_storage *m = (zab_storage *)s;
    int code = atomic_load(&m->error);
    if (buf && len) {
        /* fail is written once, under the mutex, before error is set. */
        pthread_mutex_lock(&m->mu);
        snprintf(buf, len, "%s", code ? m->fail.msg : "");
        pthread_mutex_unlock(&m->mu);
    }
    return code;
}
