/*
 * check.h - the ensemble invariants, checked incrementally as the hosts
 * report what their nodes do.
 *
 * History: every zxid some node applied is a point of the committed history,
 * holding the tree digest of the first node that reached it and the zxid
 * that node had applied just before. A node must reach every point with the
 * same digest; the zxids one node applies only increase; and the first node
 * to reach a point reaches it by applying its transaction (a snapshot always
 * comes from a node that got there before), so a first arrival that passes
 * over an acknowledged point lost that write.
 *
 * Leaders: at most one sid establishes leadership in each epoch.
 * Epochs: what a node stores never decreases and accepted >= current.
 *
 * The first violation is kept as a message; later ones are ignored.
 */
#ifndef ZAB_SIM_CHECK_H
#define ZAB_SIM_CHECK_H

#include <stddef.h>
#include <stdint.h>

typedef struct zab_sim_point {
    int64_t zxid;
    int64_t prev;       /* what the first node to arrive had applied before */
    uint64_t digest;
    int64_t sid;        /* the first node to arrive; 0 while only acknowledged */
    int acked;
} zab_sim_point;

typedef struct zab_sim_reign {
    int64_t epoch, sid;
} zab_sim_reign;

typedef struct zab_sim_check {
    zab_sim_point *pts;     /* sorted by zxid */
    size_t npts, cappts;
    zab_sim_reign *reigns;
    size_t nreigns, capreigns;
    uint64_t acked;
    int64_t max_acked;
    char violation[320];    /* empty while none */
} zab_sim_check;

/* Node sid, which had applied prev, now holds every transaction up to zxid
 * with the given tree digest. 0, -1 after recording a violation, or
 * ZAB_ENOMEM. */
int zab_sim_check_apply(zab_sim_check *c, int64_t sid, int64_t prev, int64_t zxid,
                        uint64_t digest);

/* Node sid acknowledged the write at zxid to its client. */
int zab_sim_check_ack(zab_sim_check *c, int64_t sid, int64_t zxid);

/* Node sid established its leadership of epoch. */
int zab_sim_check_leader(zab_sim_check *c, int64_t sid, int64_t epoch);

/* Node sid replaces its stored epochs (old_*) by new ones. */
int zab_sim_check_epochs(zab_sim_check *c, int64_t sid, int64_t old_accepted,
                         int64_t old_current, int64_t accepted, int64_t current);

/* Record a violation found elsewhere (printf format), unless one is known. */
void zab_sim_check_fail(zab_sim_check *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The first violation, or NULL. */
const char *zab_sim_check_violation(const zab_sim_check *c);

/* The point recorded for zxid, or NULL. */
const zab_sim_point *zab_sim_check_point(const zab_sim_check *c, int64_t zxid);

void zab_sim_check_free(zab_sim_check *c);

#endif
