/*
 * check.c - the invariant checker.
 */
#include "sim/check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zab.h"

#define X(zxid) ((uint64_t)(zxid))

void zab_sim_check_fail(zab_sim_check *c, const char *fmt, ...)
{
    if (c->violation[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->violation, sizeof c->violation, fmt, ap);
    va_end(ap);
    if (!c->violation[0]) snprintf(c->violation, sizeof c->violation, "violation");
}

const char *zab_sim_check_violation(const zab_sim_check *c)
{
    return c->violation[0] ? c->violation : NULL;
}

/* The index of the first point with zxid >= zxid. */
static size_t lower_bound(const zab_sim_check *c, int64_t zxid)
{
    size_t lo = 0, hi = c->npts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->pts[mid].zxid < zxid) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

const zab_sim_point *zab_sim_check_point(const zab_sim_check *c, int64_t zxid)
{
    size_t i = lower_bound(c, zxid);
    return i < c->npts && c->pts[i].zxid == zxid ? &c->pts[i] : NULL;
}

static zab_sim_point *insert_point(zab_sim_check *c, size_t i, int64_t zxid)
{
    if (c->npts == c->cappts) {
        size_t cap = c->cappts ? c->cappts * 2 : 256;
        zab_sim_point *p = realloc(c->pts, cap * sizeof *p);
        if (!p) return NULL;
        c->pts = p;
        c->cappts = cap;
    }
    memmove(&c->pts[i + 1], &c->pts[i], (c->npts - i) * sizeof *c->pts);
    c->npts++;
    zab_sim_point *p = &c->pts[i];
    memset(p, 0, sizeof *p);
    p->zxid = zxid;
    return p;
}

static int failed(zab_sim_check *c)
{
    return c->violation[0] ? -1 : 0;
}

/* A node arrives first at the point at index i, coming from prev. A correct
 * first arrival applies the point's own transaction right after the one
 * before it, so no known point may lie between prev and zxid, and the point
 * after it cannot have been reached from before zxid. */
static int check_first_arrival(zab_sim_check *c, size_t i, int64_t sid, int64_t prev,
                               int64_t zxid)
{
    if (i > 0 && c->pts[i - 1].zxid > prev) {
        const zab_sim_point *g = &c->pts[i - 1];
        zab_sim_check_fail(c,
                           "node %" PRId64 " applied zxid 0x%" PRIx64 " right after 0x%" PRIx64
                           ", skipping zxid 0x%" PRIx64 "%s",
                           sid, X(zxid), X(prev), X(g->zxid),
                           g->acked ? " (acknowledged: the write is lost)"
                                    : " (applied by another node)");
        return -1;
    }
    if (i + 1 < c->npts && c->pts[i + 1].sid && c->pts[i + 1].prev < zxid) {
        const zab_sim_point *s = &c->pts[i + 1];
        zab_sim_check_fail(c,
                           "node %" PRId64 " applied zxid 0x%" PRIx64 " right after 0x%" PRIx64
                           ", skipping zxid 0x%" PRIx64 " that node %" PRId64 " applied",
                           s->sid, X(s->zxid), X(s->prev), X(zxid), sid);
        return -1;
    }
    return 0;
}

int zab_sim_check_apply(zab_sim_check *c, int64_t sid, int64_t prev, int64_t zxid,
                        uint64_t digest)
{
    if (zxid < prev) {
        zab_sim_check_fail(c,
                           "node %" PRId64 " applied zxid 0x%" PRIx64 " after 0x%" PRIx64
                           ": applied zxids must increase",
                           sid, X(zxid), X(prev));
        return -1;
    }
    size_t i = lower_bound(c, zxid);
    zab_sim_point *p = i < c->npts && c->pts[i].zxid == zxid ? &c->pts[i] : NULL;
    if (p && p->sid) {
        if (p->digest == digest) return 0;
        zab_sim_check_fail(c,
                           "node %" PRId64 " applied zxid 0x%" PRIx64 " with digest 0x%016" PRIx64
                           " but node %" PRId64 " had 0x%016" PRIx64 "%s",
                           sid, X(zxid), digest, p->sid, p->digest,
                           p->acked ? " (acknowledged write)" : "");
        return -1;
    }
    if (!p) {
        p = insert_point(c, i, zxid);
        if (!p) return ZAB_ENOMEM;
    }
    p->sid = sid;
    p->prev = prev;
    p->digest = digest;
    if (check_first_arrival(c, i, sid, prev, zxid)) return -1;
    return failed(c);
}

int zab_sim_check_ack(zab_sim_check *c, int64_t sid, int64_t zxid)
{
    size_t i = lower_bound(c, zxid);
    zab_sim_point *p = i < c->npts && c->pts[i].zxid == zxid ? &c->pts[i] : NULL;
    if (!p) {
        /* Acknowledged before its node reported the apply: the point waits
         * for its first arrival. */
        p = insert_point(c, i, zxid);
        if (!p) return ZAB_ENOMEM;
    }
    if (!p->acked) {
        p->acked = 1;
        c->acked++;
    }
    if (zxid > c->max_acked) c->max_acked = zxid;
    (void)sid;
    return failed(c);
}

int zab_sim_check_leader(zab_sim_check *c, int64_t sid, int64_t epoch)
{
    for (size_t i = c->nreigns; i-- > 0;) {
        if (c->reigns[i].epoch != epoch) continue;
        if (c->reigns[i].sid == sid) return failed(c);
        zab_sim_check_fail(c,
                           "node %" PRId64 " leads epoch %" PRId64 " but node %" PRId64
                           " already led it",
                           sid, epoch, c->reigns[i].sid);
        return -1;
    }
    if (c->nreigns == c->capreigns) {
        size_t cap = c->capreigns ? c->capreigns * 2 : 16;
        zab_sim_reign *r = realloc(c->reigns, cap * sizeof *r);
        if (!r) return ZAB_ENOMEM;
        c->reigns = r;
        c->capreigns = cap;
    }
    c->reigns[c->nreigns].epoch = epoch;
    c->reigns[c->nreigns].sid = sid;
    c->nreigns++;
    return failed(c);
}

int zab_sim_check_epochs(zab_sim_check *c, int64_t sid, int64_t old_accepted,
                         int64_t old_current, int64_t accepted, int64_t current)
{
    if (accepted < old_accepted || current < old_current) {
        zab_sim_check_fail(c,
                           "node %" PRId64 " stored epochs accepted %" PRId64 " current %" PRId64
                           " over accepted %" PRId64 " current %" PRId64
                           ": epochs on disk went backwards",
                           sid, accepted, current, old_accepted, old_current);
        return -1;
    }
    if (accepted < current) {
        zab_sim_check_fail(c,
                           "node %" PRId64 " stored acceptedEpoch %" PRId64
                           " below currentEpoch %" PRId64,
                           sid, accepted, current);
        return -1;
    }
    return failed(c);
}

void zab_sim_check_free(zab_sim_check *c)
{
    free(c->pts);
    free(c->reigns);
    memset(c, 0, sizeof *c);
}
