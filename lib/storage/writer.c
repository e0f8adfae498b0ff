/*
 * writer.c - the writer thread.
 *
 * It takes the whole queue at once (every record appended since it last
 * looked, and the latest periodic snapshot), writes the records with one
 * pwrite per segment they land in, makes them durable with one fdatasync,
 * and only then publishes the batch's last zxid: that is group commit, one
 * sync for however many records arrived while the previous sync ran. A
 * record that does not fit in the current segment rolls to a new one, which
 * is created whole (header, preallocation, fsync, directory fsync) before
 * any record is written into it; the old segment is synced first, so only
 * the last segment can ever hold an unfinished record.
 *
 * A snapshot is written after the batch it was queued behind, then purging
 * runs. The thread never touches a node or a tree: the tree was serialized
 * on the node's thread.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/segment.h"
#include "storage/snapfile.h"
#include "storage/storage.h"
#include "util/codec.h"

enum { KEEP_BUF = 8 << 20 };

static void cur_path(const zab_storage *s, char *path)
{
    char name[ZAB_NAME_CAP];
    zab_seg_name(name, s->segs[s->nsegs - 1].seq);
    zab_path(path, s->log_dir, name);
}

static int sync_current(zab_storage *s, zab_serr *e)
{
    if (!s->dirty) return 0;
    if (s->sys->fdatasync(s->fd) < 0) {
        char path[ZAB_PATH_CAP];
        cur_path(s, path);
        return zab_serr_io(e, "fdatasync", path);
    }
    s->dirty = 0;
    return 0;
}

static int write_run(zab_storage *s, const uint8_t *bytes, size_t len, uint64_t off, zab_serr *e)
{
    if (!len) return 0;
    char path[ZAB_PATH_CAP];
    cur_path(s, path);
    s->dirty = 1;
    return zab_file_write(s->sys, s->fd, bytes, len, off, path, e);
}

/* Start the next segment, big enough for a record of need bytes. */
static int roll(zab_storage *s, uint64_t need, zab_serr *e)
{
    int rc = s->fd >= 0 ? sync_current(s, e) : 0;
    if (rc) return rc;
    if ((rc = zab_storage_reserve(s, s->nsegs + 1, 0)))
        return zab_serr_set(e, rc, 0, "out of memory adding a log segment");
    uint64_t seq = zab_storage_next_seq(s);
    uint64_t size = s->segment_bytes;
    if (size - ZAB_SEG_HEADER < need) size = ZAB_SEG_HEADER + need;
    if (s->fd >= 0) s->sys->close(s->fd);
    s->fd = -1;
    int fd;
    if ((rc = zab_seg_create(s->sys, s->log_dir, seq, s->log_last, size, &fd, e))) return rc;
    s->fd = fd;
    s->dirty = 0;
    s->segs[s->nsegs++] = (zab_seg_info){ seq, s->log_last, s->log_last, ZAB_SEG_HEADER, size };
    return 0;
}

static int write_batch(zab_storage *s, const zab_buf *b, zab_serr *e)
{
    size_t i = 0, run = 0;
    uint64_t run_off = 0;
    int64_t zxid = 0;
    int rc;
    while (i < b->len) {
        zab_reader r = zab_reader_init(b->data + i, b->len - i);
        uint32_t len = zab_get_u32(&r);
        int64_t z = zab_get_i64(&r);
        assert(!r.err && len > 0 && len <= b->len - i - ZAB_REC_HEADER);
        size_t total = ZAB_REC_HEADER + (size_t)len;
        zab_seg_info *cur = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;
        if (!cur || s->fd < 0 || total > cur->size - cur->end) {
            if ((rc = write_run(s, b->data + run, i - run, run_off, e))) return rc;
            if ((rc = roll(s, total, e))) return rc;
            cur = &s->segs[s->nsegs - 1];
            run = i;
        }
        if (run == i) run_off = cur->end;
        cur->end += total;
        cur->last = s->log_last = zxid = z;
        i += total;
        if (s->sync_each) {
            if ((rc = write_run(s, b->data + run, i - run, run_off, e))) return rc;
            if ((rc = sync_current(s, e))) return rc;
            zab_storage_publish(s, zxid);
            run = i;
        }
    }
    if ((rc = write_run(s, b->data + run, i - run, run_off, e))) return rc;
    if ((rc = sync_current(s, e))) return rc;
    if (zxid) zab_storage_publish(s, zxid);
    return 0;
}

/* ---- periodic snapshots and purging ---- */

/* The segment holding the first record after zxid, or the one the next
 * record goes to when there is none. */
static uint64_t floor_for(const zab_storage *s, int64_t zxid)
{
    for (size_t i = 0; i < s->nsegs; i++)
        if (s->segs[i].last > zxid) return s->segs[i].seq;
    return s->nsegs ? s->segs[s->nsegs - 1].seq : s->next_seq;
}

static int add_snap(zab_storage *s, const zab_snap_meta *m)
{
    size_t at = 0;
    while (at < s->nsnaps && s->snaps[at].zxid > m->zxid) at++;
    if (at == s->nsnaps || s->snaps[at].zxid != m->zxid) {
        if (zab_storage_reserve(s, 0, s->nsnaps + 1)) return ZAB_ENOMEM;
        memmove(&s->snaps[at + 1], &s->snaps[at], (s->nsnaps - at) * sizeof(*s->snaps));
        s->nsnaps++;
    }
    s->snaps[at] = (zab_snap_info){ m->zxid, m->floor, m->length, ZAB_SNAPFILE_VALID };
    return 0;
}

typedef struct rm_ctx {
    zab_storage *s;
    uint64_t below;
    zab_serr *e;
    int removed;
} rm_ctx;

static int rm_segment(void *ctx, const char *name)
{
    rm_ctx *c = ctx;
    uint64_t seq;
    if (!zab_seg_parse_name(name, &seq) || seq >= c->below) return 0;
    int rc = zab_file_remove(c->s->sys, c->s->log_dir, name, c->e);
    c->removed++;
    return rc;
}

int zab_storage_remove_segments(zab_storage *s, uint64_t below, zab_serr *e)
{
    rm_ctx c = { s, below, e, 0 };
    int rc = s->sys->list(s->log_dir, rm_segment, &c);
    if (rc == -1) return zab_serr_io(e, "list", s->log_dir);
    if (rc) return rc;
    return c.removed ? zab_dir_sync(s->sys, s->log_dir, e) : 0;
}

/* Keep the newest snap_retain snapshots that are not known bad, and always
 * the newest valid one (a run of bad newer files must never cost the last
 * good snapshot); delete the rest, then every segment below the lowest
 * floor of those kept. Bad snapshots newer than the newest valid one stay
 * for inspection: recovery skips them anyway. */
static int purge(zab_storage *s, zab_serr *e)
{
    const zab_snap_info *newest = zab_storage_newest_snap(s);
    size_t valid = newest ? (size_t)(newest - s->snaps) : SIZE_MAX;
    int64_t valid_zxid = newest ? newest->zxid : INT64_MAX;
    uint64_t floor = zab_storage_next_seq(s);
    if (s->nsegs && s->segs[s->nsegs - 1].seq < floor) floor = s->segs[s->nsegs - 1].seq;
    size_t rank = 0, out = 0;
    int removed = 0;
    for (size_t i = 0; i < s->nsnaps; i++) {
        zab_snap_info si = s->snaps[i];
        int keep;
        if (si.state == ZAB_SNAPFILE_BAD) keep = si.zxid > valid_zxid;
        else keep = rank++ < s->snap_retain || i == valid;
        if (keep) {
            if (si.state != ZAB_SNAPFILE_BAD && si.floor < floor) floor = si.floor;
            s->snaps[out++] = si;
            continue;
        }
        char name[ZAB_NAME_CAP];
        zab_snap_name(name, si.zxid);
        int rc = zab_file_remove(s->sys, s->dir, name, e);
        if (rc) return rc;
        removed = 1;
    }
    s->nsnaps = out;
    if (removed) {
        int rc = zab_dir_sync(s->sys, s->dir, e);
        if (rc) return rc;
    }
    int rc = zab_storage_remove_segments(s, floor, e);
    if (rc) return rc;
    size_t drop = 0;
    while (drop < s->nsegs && s->segs[drop].seq < floor) drop++;
    memmove(s->segs, s->segs + drop, (s->nsegs - drop) * sizeof(*s->segs));
    s->nsegs -= drop;
    return 0;
}

static int write_snapshot(zab_storage *s, const zab_buf *body, int64_t zxid, zab_serr *e)
{
    zab_snap_meta m = { zxid, floor_for(s, zxid), body->len };
    int rc = zab_snap_write(s->sys, s->dir, &m, body->data, e);
    if (rc) return rc;
    /* Without room to list it, the snapshot still serves the next open;
     * purging waits for a later one. */
    if (add_snap(s, &m)) return 0;
    return purge(s, e);
}

/* ---- the thread ---- */

void *zab_storage_writer(void *arg)
{
    zab_storage *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->pending.len && !s->has_job && !s->stop) pthread_cond_wait(&s->work, &s->mu);
        if (!s->pending.len && !s->has_job) break;
        zab_buf batch = s->pending;
        s->pending = s->writing;
        s->writing = batch;
        zab_buf job = s->job;
        int64_t job_zxid = s->job_zxid;
        int has_job = s->has_job;
        memset(&s->job, 0, sizeof(s->job));
        s->has_job = 0;
        s->busy = 1;
        pthread_mutex_unlock(&s->mu);

        zab_serr e = { 0, 0, "" };
        int rc = 0;
        if (!atomic_load(&s->error)) {
            if (s->writing.len) rc = write_batch(s, &s->writing, &e);
            if (!rc && has_job) rc = write_snapshot(s, &job, job_zxid, &e);
            if (rc) zab_storage_fail(s, &e);
        }
        zab_buf_free(&job);
        s->writing.len = 0;
        if (s->writing.cap > KEEP_BUF) zab_buf_free(&s->writing);

        pthread_mutex_lock(&s->mu);
        s->busy = 0;
        pthread_cond_broadcast(&s->idle);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}
