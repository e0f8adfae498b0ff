/*
 * recover.c - recovery at open, and replay into a node.
 *
 * Recovery reads before it writes: it lists the files, reads the epochs,
 * picks the newest snapshot whose header and body check out (a damaged
 * newer one is noted and skipped), and walks the log chain from that
 * snapshot's floor: segment seqs consecutive, each header's prev_zxid equal
 * to the last zxid before it, the first one not past the snapshot, and
 * every record valid and following the one before (the next counter of its
 * epoch, or counter 1 of a later epoch; across the snapshot, following the
 * snapshot's zxid). Only when all of that is decided does it change
 * anything: remove leftover .tmp files, cut a torn tail, or (with
 * truncate_corrupt) cut the log at the first damage, and sync what it read
 * so nothing the node is about to rely on is still only in the page cache.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/epochs.h"
#include "storage/segment.h"
#include "storage/snapfile.h"
#include "storage/storage.h"

#define X(v) ((uint64_t)(v))

typedef struct found {
    int64_t *snaps;
    size_t nsnaps, snaps_cap;
    uint64_t *segs;
    size_t nsegs, segs_cap;
    char (*tmps)[ZAB_NAME_CAP];
    unsigned char *tmp_in_log; /* the tmp file lives in log_dir */
    size_t ntmps, tmps_cap;
} found;

typedef struct listing {
    found *f;
    int snaps, logs; /* what this directory holds */
} listing;

typedef struct rctx {
    zab_storage *s;
    int truncate_corrupt;
    zab_serr *e;
    char *note;
    size_t notelen;
    found f;
    const zab_snap_info *chosen;
    int64_t z;              /* the chosen snapshot's zxid, or 0 */
    size_t first;           /* index in f.segs of the chain's first segment */
    size_t present;         /* chain segments present on disk */
    uint64_t records;       /* valid records seen in the chain */
    int cut;                /* the log is to be cut */
    size_t keep;            /* chain segments that stay */
    uint64_t cut_off;       /* non-zero: cut segs[keep - 1] there */
} rctx;

enum { STOP = 1 };

static void add_note(rctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_note(rctx *c, const char *fmt, ...)
{
    if (!c->note || !c->notelen) return;
    size_t used = strlen(c->note);
    if (used && used + 2 < c->notelen) {
        strcpy(c->note + used, "; ");
        used += 2;
    }
    if (used + 1 >= c->notelen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->note + used, c->notelen - used, fmt, ap);
    va_end(ap);
}

/* ---- listing ---- */

static int grow(void **p, size_t *cap, size_t need, size_t item)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * item);
    if (!q) return ZAB_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static int is_tmp(const char *name, int snaps, int logs)
{
    size_t len = strlen(name);
    if (len < 5 || len >= ZAB_NAME_CAP || strcmp(name + len - 4, ".tmp")) return 0;
    char base[ZAB_NAME_CAP];
    memcpy(base, name, len - 4);
    base[len - 4] = 0;
    uint64_t v;
    if (snaps && (!strcmp(base, "epochs") || zab_hex_name(base, "snap.", &v))) return 1;
    return logs && zab_hex_name(base, "log.", &v);
}

static int on_name(void *ctx, const char *name)
{
    listing *l = ctx;
    found *f = l->f;
    int64_t zxid;
    uint64_t seq;
    if (l->snaps && zab_snap_parse_name(name, &zxid)) {
        if (grow((void **)&f->snaps, &f->snaps_cap, f->nsnaps + 1, sizeof(*f->snaps)))
            return ZAB_ENOMEM;
        f->snaps[f->nsnaps++] = zxid;
    } else if (l->logs && zab_seg_parse_name(name, &seq)) {
        if (grow((void **)&f->segs, &f->segs_cap, f->nsegs + 1, sizeof(*f->segs)))
            return ZAB_ENOMEM;
        f->segs[f->nsegs++] = seq;
    } else if (is_tmp(name, l->snaps, l->logs)) {
        size_t cap = f->tmps_cap;
        if (grow((void **)&f->tmps, &f->tmps_cap, f->ntmps + 1, sizeof(*f->tmps)))
            return ZAB_ENOMEM;
        if (grow((void **)&f->tmp_in_log, &cap, f->ntmps + 1, 1)) return ZAB_ENOMEM;
        snprintf(f->tmps[f->ntmps], ZAB_NAME_CAP, "%s", name);
        f->tmp_in_log[f->ntmps++] = (unsigned char)(l->logs && !l->snaps ? 1 : 0);
    }
    return 0;
}

static int cmp_desc_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_asc_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int list_files(rctx *c)
{
    zab_storage *s = c->s;
    int same = !strcmp(s->dir, s->log_dir);
    listing a = { &c->f, 1, same }, b = { &c->f, 0, 1 };
    const char *dir = s->dir;
    int rc = s->sys->list(dir, on_name, &a);
    if (!rc && !same) rc = s->sys->list(dir = s->log_dir, on_name, &b);
    if (rc == ZAB_ENOMEM) return zab_serr_set(c->e, rc, 0, "out of memory listing %s", dir);
    if (rc) return zab_serr_io(c->e, "list", dir);
    if (c->f.nsnaps > 1) qsort(c->f.snaps, c->f.nsnaps, sizeof(*c->f.snaps), cmp_desc_i64);
    if (c->f.nsegs > 1) qsort(c->f.segs, c->f.nsegs, sizeof(*c->f.segs), cmp_asc_u64);
    return 0;
}

static void found_free(found *f)
{
    free(f->snaps);
    free(f->segs);
    free(f->tmps);
    free(f->tmp_in_log);
}

/* ---- the snapshot ---- */

static int choose_snapshot(rctx *c)
{
    zab_storage *s = c->s;
    int rc = zab_storage_reserve(s, 1, c->f.nsnaps + 1);
    if (rc) return zab_serr_set(c->e, rc, 0, "out of memory");
    for (size_t i = 0; i < c->f.nsnaps; i++) {
        zab_snap_info *si = &s->snaps[s->nsnaps++];
        zab_snap_meta m = { 0, 0, 0 };
        const char *why = NULL;
        /* Only the chosen one and those newer are read whole. */
        rc = zab_snap_check(s->sys, s->dir, c->f.snaps[i], !c->chosen, &m, &why, c->e);
        *si = (zab_snap_info){ c->f.snaps[i], m.floor, m.length, ZAB_SNAPFILE_BAD };
        if (rc == ZAB_EVERSION)
            return zab_serr_set(c->e, ZAB_ECORRUPT, 0, "%s/snap.%016" PRIx64 ": %s", s->dir,
                                X(si->zxid), why);
        if (rc == ZAB_ECORRUPT) {
            add_note(c, "skipped %s/snap.%016" PRIx64 ": %s", s->dir, X(si->zxid), why);
            continue;
        }
        if (rc) return rc;
        si->state = c->chosen ? ZAB_SNAPFILE_HEADER : ZAB_SNAPFILE_VALID;
        if (!c->chosen) {
            c->chosen = si;
            c->z = si->zxid;
        }
    }
    return 0;
}

/* ---- the log chain ---- */

static void seg_path(const zab_storage *s, uint64_t seq, char *path)
{
    char name[ZAB_NAME_CAP];
    zab_seg_name(name, seq);
    zab_path(path, s->log_dir, name);
}

/* Damage at chain segment i (at offset off, or the whole segment when off
 * is 0): refuse, or with truncate_corrupt plan to cut the log there. */
static int damage(rctx *c, size_t i, uint64_t seq, uint64_t off, const char *why)
{
    char where[ZAB_PATH_CAP + 48];
    char path[ZAB_PATH_CAP];
    seg_path(c->s, seq, path);
    if (off) snprintf(where, sizeof(where), "%s offset %" PRIu64, path, off);
    else snprintf(where, sizeof(where), "%s", path);
    if (!c->truncate_corrupt)
        return zab_serr_set(c->e, ZAB_ECORRUPT, 0,
                            "corrupt log at %s: %s (opening with truncate_corrupt cuts the log "
                            "there, losing what follows)",
                            where, why);
    add_note(c, "cut the log at %s: %s", where, why);
    c->cut = 1;
    c->keep = off ? i + 1 : i;
    c->cut_off = off;
    return STOP;
}

static int scan_records(rctx *c, size_t i, zab_seg_scan *sc, zab_seg_info *si)
{
    zab_serr *e = c->e;
    int last_present = i + 1 == c->present;
    for (;;) {
        zab_seg_rec rec;
        int rc = zab_seg_scan_next(sc, &rec, e);
        if (rc == ZAB_SCAN_END) return 0;
        if (rc == ZAB_SCAN_BAD) {
            if (last_present && sc->tail_zero) {
                add_note(c, "cut a torn record at %s offset %" PRIu64 " (%s)", sc->path,
                         sc->bad_off, sc->why);
                c->cut = 1;
                c->keep = i + 1;
                c->cut_off = sc->bad_off;
                return STOP;
            }
            return damage(c, i, si->seq, sc->bad_off, sc->why);
        }
        if (rc < 0) return rc;
        int64_t last = si->last;
        int64_t ref = last < c->z && rec.zxid > c->z ? c->z : last;
        if (rec.zxid <= last || !zab_zxid_follows(ref, rec.zxid)) {
            char why[96];
            snprintf(why, sizeof(why), "zxid 0x%" PRIx64 " does not follow 0x%" PRIx64,
                     X(rec.zxid), X(ref));
            return damage(c, i, si->seq, rec.off, why);
        }
        si->last = rec.zxid;
        si->end = sc->off;
        c->records++;
    }
}

/* Read chain segment i (seq) into s->segs; STOP when the chain ends here. */
static int scan_segment(rctx *c, size_t i, uint64_t seq, int64_t last)
{
    zab_storage *s = c->s;
    char path[ZAB_PATH_CAP];
    seg_path(s, seq, path);
    int fd;
    uint64_t size = 0;
    int rc = zab_seg_open(s->sys, s->log_dir, seq, &fd, c->e);
    if (rc) return rc;
    zab_seg_scan sc;
    zab_seg_scan_init(&sc, s->sys, fd, 0, path);
    rc = zab_file_size(s->sys, fd, &size, path, c->e);
    sc.size = size;
    uint64_t hseq = 0;
    int64_t prev = 0;
    if (!rc) rc = zab_seg_scan_header(&sc, &hseq, &prev, c->e);
    char why[128];
    if (rc == ZAB_EVERSION) {
        rc = zab_serr_set(c->e, ZAB_ECORRUPT, 0, "%s: %s", path, sc.why);
    } else if (rc == ZAB_ECORRUPT) {
        rc = damage(c, i, seq, 0, sc.why);
    } else if (rc) {
        /* an I/O error, already described */
    } else if (hseq != seq) {
        rc = damage(c, i, seq, 0, "header names another seq than the file name");
    } else if (i == 0 && !c->chosen && prev != 0) {
        rc = zab_serr_set(c->e, ZAB_ECORRUPT, 0,
                          "%s: no valid snapshot, and the log does not start at zxid 0 "
                          "(it starts after 0x%" PRIx64 ")",
                          path, X(prev));
    } else if (i == 0 && prev > c->z) {
        snprintf(why, sizeof(why),
                 "starts after 0x%" PRIx64 ", past the snapshot at 0x%" PRIx64, X(prev),
                 X(c->z));
        rc = damage(c, i, seq, 0, why);
    } else if (i > 0 && prev != last) {
        snprintf(why, sizeof(why),
                 "prev_zxid 0x%" PRIx64 " differs from the last zxid 0x%" PRIx64 " before it",
                 X(prev), X(last));
        rc = damage(c, i, seq, 0, why);
    } else {
        zab_seg_info *si = &s->segs[s->nsegs++];
        *si = (zab_seg_info){ seq, prev, prev, ZAB_SEG_HEADER, size };
        rc = scan_records(c, i, &sc, si);
    }
    zab_seg_scan_free(&sc);
    s->sys->close(fd);
    return rc;
}

static int scan_chain(rctx *c)
{
    zab_storage *s = c->s;
    uint64_t floor = c->chosen ? c->chosen->floor : c->f.nsegs ? c->f.segs[0] : 1;
    while (c->first < c->f.nsegs && c->f.segs[c->first] < floor) c->first++;
    c->present = c->f.nsegs - c->first;
    int rc = zab_storage_reserve(s, c->present + 1, 0);
    if (rc) return zab_serr_set(c->e, rc, 0, "out of memory");
    s->next_seq = floor;
    for (size_t i = 0; i < c->present; i++) {
        uint64_t seq = c->f.segs[c->first + i], want = i ? c->f.segs[c->first + i - 1] + 1 : floor;
        if (seq != want) {
            char why[64];
            snprintf(why, sizeof(why), "segment log.%016" PRIx64 " is missing", want);
            return damage(c, i, seq, 0, why);
        }
        int64_t last = s->nsegs ? s->segs[s->nsegs - 1].last : 0;
        if ((rc = scan_segment(c, i, seq, last))) return rc;
    }
    return 0;
}

/* ---- changes, once everything is decided ---- */

static int remove_tmps(rctx *c)
{
    zab_storage *s = c->s;
    int in_dir = 0, in_log = 0;
    for (size_t i = 0; i < c->f.ntmps; i++) {
        const char *dir = c->f.tmp_in_log[i] ? s->log_dir : s->dir;
        int rc = zab_file_remove(s->sys, dir, c->f.tmps[i], c->e);
        if (rc) return rc;
        if (c->f.tmp_in_log[i]) in_log = 1;
        else in_dir = 1;
    }
    int rc = in_dir ? zab_dir_sync(s->sys, s->dir, c->e) : 0;
    if (!rc && in_log) rc = zab_dir_sync(s->sys, s->log_dir, c->e);
    return rc;
}

/* Later segments go first, newest first, so a crash part way leaves a
 * consistent prefix of the log; the kept segment is cut last. */
static int apply_cut(rctx *c)
{
    zab_storage *s = c->s;
    char name[ZAB_NAME_CAP], path[ZAB_PATH_CAP];
    for (size_t i = c->present; i-- > c->keep;) {
        zab_seg_name(name, c->f.segs[c->first + i]);
        int rc = zab_file_remove(s->sys, s->log_dir, name, c->e);
        if (rc) return rc;
    }
    int rc = zab_dir_sync(s->sys, s->log_dir, c->e);
    if (rc) return rc;
    if (s->nsegs > c->keep) s->nsegs = c->keep;
    if (!c->cut_off) return 0;
    zab_seg_info *si = &s->segs[c->keep - 1];
    int fd;
    if ((rc = zab_seg_open(s->sys, s->log_dir, si->seq, &fd, c->e))) return rc;
    seg_path(s, si->seq, path);
    rc = zab_seg_cut(s->sys, fd, c->cut_off, si->size, path, c->e);
    s->sys->close(fd);
    si->end = c->cut_off;
    return rc;
}

/* Make durable what a crashed predecessor may have left in the page cache:
 * the node is about to rely on it. */
static int sync_found(rctx *c)
{
    zab_storage *s = c->s;
    int rc = zab_dir_sync(s->sys, s->dir, c->e);
    if (!rc && strcmp(s->dir, s->log_dir)) rc = zab_dir_sync(s->sys, s->log_dir, c->e);
    if (rc || !s->nsegs) return rc;
    zab_seg_info *si = &s->segs[s->nsegs - 1];
    char path[ZAB_PATH_CAP];
    seg_path(s, si->seq, path);
    if ((rc = zab_seg_open(s->sys, s->log_dir, si->seq, &s->fd, c->e))) return rc;
    if (s->sys->fdatasync(s->fd) < 0) return zab_serr_io(c->e, "fdatasync", path);
    return 0;
}

static int recover(rctx *c)
{
    zab_storage *s = c->s;
    int present;
    int rc = zab_epochs_read(s->sys, s->dir, &present, &s->accepted, &s->current, c->e);
    if (rc == ZAB_EVERSION) rc = c->e->code = ZAB_ECORRUPT;
    if (rc) return rc;
    if ((rc = list_files(c))) return rc;
    if ((rc = choose_snapshot(c))) return rc;
    if ((rc = scan_chain(c)) < 0) return rc;
    if (!present && (c->f.nsnaps || c->records))
        return zab_serr_set(c->e, ZAB_ECORRUPT, 0,
                            "%s/epochs is missing, but the store holds %s: refusing to start "
                            "over at epoch 0",
                            s->dir, c->f.nsnaps ? "snapshots" : "logged records");
    if ((rc = remove_tmps(c))) return rc;
    if (c->cut && (rc = apply_cut(c))) return rc;
    if ((rc = sync_found(c))) return rc;
    s->log_last = s->nsegs ? s->segs[s->nsegs - 1].last : c->z;
    s->queued_last = s->log_last > c->z ? s->log_last : c->z;
    atomic_store(&s->synced, s->queued_last);
    return 0;
}

int zab_storage_recover(zab_storage *s, int truncate_corrupt, zab_serr *e, char *note,
                        size_t notelen)
{
    rctx c;
    memset(&c, 0, sizeof(c));
    c.s = s;
    c.truncate_corrupt = truncate_corrupt;
    c.e = e;
    c.note = note;
    c.notelen = notelen;
    if (note && notelen) note[0] = 0;
    int rc = recover(&c);
    found_free(&c.f);
    return rc;
}

/* ---- replay ---- */

static int replay_segment(zab_storage *s, const zab_seg_info *si, int64_t z, zab_node *node,
                          zab_serr *e)
{
    char path[ZAB_PATH_CAP];
    seg_path(s, si->seq, path);
    int own = si == &s->segs[s->nsegs - 1] && s->fd >= 0;
    int fd = s->fd;
    if (!own) {
        int rc = zab_seg_open(s->sys, s->log_dir, si->seq, &fd, e);
        if (rc) return rc;
    }
    zab_seg_scan sc;
    zab_seg_scan_init(&sc, s->sys, fd, si->size, path);
    uint64_t seq;
    int64_t prev;
    int rc = zab_seg_scan_header(&sc, &seq, &prev, e);
    if (rc == ZAB_ECORRUPT || rc == ZAB_EVERSION)
        rc = zab_serr_set(e, ZAB_EIO, 0, "%s changed since it was opened", path);
    while (!rc && sc.off < si->end) {
        zab_seg_rec rec;
        rc = zab_seg_scan_next(&sc, &rec, e);
        if (rc != ZAB_SCAN_REC) {
            if (rc >= 0) rc = zab_serr_set(e, ZAB_EIO, 0, "%s changed since it was opened", path);
            break;
        }
        rc = 0;
        if (rec.zxid <= z) continue;
        zab_entry entry = { rec.zxid, rec.txn, rec.len };
        rc = zab_node_restore_entry(node, &entry);
    }
    zab_seg_scan_free(&sc);
    if (!own) s->sys->close(fd);
    return rc;
}

int zab_storage_replay(zab_storage *s, zab_node *node, zab_serr *e)
{
    const zab_snap_info *snap = zab_storage_newest_snap(s);
    int64_t z = 0;
    if (snap) {
        zab_snap_reader r;
        int rc = zab_snap_reader_open(&r, s->sys, s->dir, snap->zxid, snap->length, e);
        if (rc) return rc;
        rc = zab_node_restore_snapshot(node, zab_snap_read, &r);
        zab_snap_reader_close(&r);
        if (rc) return rc;
        z = snap->zxid;
    }
    for (size_t i = 0; i < s->nsegs; i++) {
        if (s->segs[i].last <= z) continue;
        int rc = replay_segment(s, &s->segs[i], z, node, e);
        if (rc) return rc;
    }
    return 0;
}
