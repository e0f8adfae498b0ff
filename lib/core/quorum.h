/*
 * quorum.h - which sets of servers form a quorum. Every protocol decision
 * that needs "a quorum agreed" (election, the new epoch, NEWLEADER, commit,
 * the leader's liveness) asks this one interface, so that grouped or
 * weighted quorums can replace the majority rule without touching the
 * protocol. Any two quorums must share a voter; that is all ZAB needs.
 */
#ifndef ZAB_CORE_QUORUM_H
#define ZAB_CORE_QUORUM_H

#include <stdint.h>

typedef struct zab_quorum {
    /* Non-zero when the voters sids[0..n) (distinct, voters only) form a
     * quorum. */
    int (*contains)(const struct zab_quorum *q, const int64_t *sids, uint32_t n);
    uint32_t voters;
} zab_quorum;

/* Majority: more than half of the voters. */
static inline int zab_majority_contains(const zab_quorum *q, const int64_t *sids, uint32_t n)
{
    (void)sids;
    return n > q->voters / 2;
}

static inline zab_quorum zab_majority(uint32_t voters)
{
    zab_quorum q = { zab_majority_contains, voters };
    return q;
}

#endif
