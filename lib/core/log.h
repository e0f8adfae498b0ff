/*
 * log.h - the node's in-memory view of its log: every entry it has accepted
 * and not yet trimmed, in zxid order, with the transaction bytes, so that a
 * leader can bring a lagging learner up to date by DIFF and a learner can
 * apply what becomes committed.
 *
 * `base` is the zxid just before the first entry held: the node's state up
 * to base is in its tree (or, after a trim, was committed and applied).
 * Committed entries beyond the window are trimmed; uncommitted ones never.
 */
#ifndef ZAB_CORE_LOG_H
#define ZAB_CORE_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct zab_rec {
    int64_t zxid;
    int64_t origin;   /* sid the request came from (0: unknown) */
    uint64_t cookie;  /* the origin's cookie */
    uint32_t len;
    uint8_t *txn;
} zab_rec;

typedef struct zab_log {
    zab_rec *v;
    size_t start, end, cap; /* entries v[start..end) */
    int64_t base;
} zab_log;

static inline size_t zab_log_count(const zab_log *l) { return l->end - l->start; }

static inline int64_t zab_log_last(const zab_log *l)
{
    return l->end > l->start ? l->v[l->end - 1].zxid : l->base;
}

/* Append (zxid must exceed the last). 0 or ZAB_ENOMEM. */
int zab_log_append(zab_log *l, int64_t zxid, const void *txn, size_t len, int64_t origin,
                   uint64_t cookie);
/* The entry with zxid, or NULL. */
zab_rec *zab_log_find(const zab_log *l, int64_t zxid);
/* The first entry with a zxid greater than zxid, or NULL. */
zab_rec *zab_log_after(const zab_log *l, int64_t zxid);
/* The entry before rec, or NULL. */
zab_rec *zab_log_prev(const zab_log *l, const zab_rec *rec);
/* Drop every entry with a zxid greater than zxid. */
void zab_log_truncate(zab_log *l, int64_t zxid);
/* Drop entries <= upto while more than keep entries remain; base follows. */
void zab_log_trim(zab_log *l, int64_t upto, size_t keep);
/* Drop everything; the log now starts after base. */
void zab_log_reset(zab_log *l, int64_t base);
void zab_log_free(zab_log *l);

#endif
