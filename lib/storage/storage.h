/*
 * storage.h - the file storage object, shared by its parts:
 *
 *   recover.c  recovery at open (choose the snapshot, validate the log
 *              chain, cut a torn tail) and replay into a node
 *   writer.c   the writer thread: group commit of appended records,
 *              segment rolls, periodic snapshots and purging
 *   storage.c  the public functions and the synchronous operations
 *
 * Ownership. The fields under "node thread" belong to the thread that
 * drives the node. The log state belongs to the writer thread while it runs
 * a job (busy) and to the node thread while the writer is idle with nothing
 * queued: the node thread only touches it after zab_storage_drain() has
 * seen that under the mutex, and the writer only after taking a job under
 * the mutex, so every hand-over is ordered by the mutex. The queue fields
 * are under the mutex; synced and error are atomics.
 */
#ifndef ZAB_STORAGE_STORAGE_H
#define ZAB_STORAGE_STORAGE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "storage/file.h"
#include "zab.h"

/* One segment of the log chain: the segments recovery reads, from the
 * floor of the newest valid snapshot to the last one. */
typedef struct zab_seg_info {
    uint64_t seq;
    int64_t prev;       /* prev_zxid of its header */
    int64_t last;       /* zxid of its last record; prev when it has none */
    uint64_t end;       /* offset just past its last record */
    uint64_t size;      /* its fixed file size */
} zab_seg_info;

enum {
    ZAB_SNAPFILE_BAD = 0,    /* failed its checks */
    ZAB_SNAPFILE_HEADER = 1, /* header checked, body not (an older one) */
    ZAB_SNAPFILE_VALID = 2   /* header and body checked, or written here */
};

typedef struct zab_snap_info {
    int64_t zxid;
    uint64_t floor;
    uint64_t length;
    int state;
} zab_snap_info;

struct zab_storage {
    /* Fixed at open. */
    const struct zab_sys *sys;
    char *dir, *log_dir;
    uint64_t segment_bytes;
    uint32_t snap_retain, max_record;
    int sync_each;
    int notify[2];          /* read end, write end; both non-blocking */

    /* Node thread. */
    int64_t accepted, current;
    int64_t queued_last;    /* the zxid the next appended record follows */

    /* Log state (see ownership above). */
    zab_seg_info *segs;
    size_t nsegs, segs_cap;
    int fd;                 /* of segs[nsegs - 1], or -1 */
    int dirty;              /* fd written since its last sync */
    uint64_t next_seq;      /* the seq of the first segment when nsegs == 0 */
    int64_t log_last;       /* the chain's last zxid, or where it starts */
    zab_snap_info *snaps;   /* every snapshot file, newest first */
    size_t nsnaps, snaps_cap;

    /* Queue, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t work;    /* signalled when something is queued or stop */
    pthread_cond_t idle;    /* broadcast when the writer finishes a job */
    zab_buf pending;        /* encoded records waiting for the writer */
    zab_buf job;            /* a serialized tree waiting to be written */
    int64_t job_zxid;
    int has_job, busy, stop;
    zab_serr fail;          /* what stopped the storage */

    zab_buf writing;        /* the writer's batch */
    pthread_t thread;
    int started;            /* the thread runs (node thread) */

    _Atomic int64_t synced;
    _Atomic int error;
};

/* Whether zxid may directly follow last in a log: the next counter of the
 * same epoch, or counter 1 of a later one. */
static inline int zab_zxid_follows(int64_t last, int64_t zxid)
{
    if (zxid <= last) return 0;
    if (ZAB_EPOCH(zxid) == ZAB_EPOCH(last)) return zxid == last + 1;
    return ZAB_COUNTER(zxid) == 1;
}

/* The seq the next new segment gets. */
static inline uint64_t zab_storage_next_seq(const zab_storage *s)
{
    return s->nsegs ? s->segs[s->nsegs - 1].seq + 1 : s->next_seq;
}

/* The newest snapshot known valid, or NULL. */
const zab_snap_info *zab_storage_newest_snap(const zab_storage *s);

/* recover.c: fill the log state, snapshots and epochs from disk. note
 * receives what recovery repaired or skipped (may stay empty). */
int zab_storage_recover(zab_storage *s, int truncate_corrupt, zab_serr *e, char *note,
                        size_t notelen);
/* recover.c: the newest valid snapshot and the chain's records after it. */
int zab_storage_replay(zab_storage *s, zab_node *node, zab_serr *e);

/* writer.c */
void *zab_storage_writer(void *arg);
/* Delete every log segment file with seq < below and sync log_dir (by the
 * thread holding the log state; the chain is not changed). */
int zab_storage_remove_segments(zab_storage *s, uint64_t below, zab_serr *e);

/* storage.c: enter the failed state (first failure wins) and wake the host. */
void zab_storage_fail(zab_storage *s, const zab_serr *e);
/* storage.c: publish a new synced zxid and wake the host. */
void zab_storage_publish(zab_storage *s, int64_t zxid);
/* storage.c: make room for one more chain segment / snapshot entry. */
int zab_storage_reserve(zab_storage *s, size_t segs, size_t snaps);

#endif
