/*
 * expiry.h - the leader's session deadlines, kept in buckets one tick wide
 * (as ZooKeeper's ExpiryQueue does): a touch moves a session to the bucket
 * of its new deadline in O(1), and each tick pops only the buckets whose
 * time has come, so a million idle sessions cost nothing per tick.
 */
#ifndef ZAB_CORE_EXPIRY_H
#define ZAB_CORE_EXPIRY_H

#include <stddef.h>
#include <stdint.h>

#include "util/ptab.h"

typedef struct zab_expiry {
    zab_ptab sessions; /* id -> entry */
    zab_ptab buckets;  /* deadline -> bucket */
    int64_t width;     /* bucket width (the tick), > 0 */
    int64_t next;      /* the earliest bucket deadline not yet popped */
} zab_expiry;

void zab_expiry_init(zab_expiry *e, int64_t width, int64_t now);
/* Keep session alive until now + timeout (rounded up to a bucket). 0 or
 * ZAB_ENOMEM. */
int zab_expiry_touch(zab_expiry *e, int64_t session, int32_t timeout, int64_t now);
void zab_expiry_remove(zab_expiry *e, int64_t session);
/* Sessions have owners (the server a client is connected through), as
 * ZooKeeper's session tracker has: a session nobody owns yet (a new
 * leader's) is claimed by the first server to act for it; force moves it
 * (the client reconnected elsewhere). 0, ZAB_ESESSIONMOVED when another
 * server owns it, or ZAB_ESESSIONEXPIRED when it is not tracked (unknown,
 * or expiring). */
int zab_expiry_claim(zab_expiry *e, int64_t session, int64_t owner, int force);
/* Pop up to max sessions whose deadline has passed into out; the count. */
size_t zab_expiry_due(zab_expiry *e, int64_t now, int64_t *out, size_t max);
size_t zab_expiry_count(const zab_expiry *e);
void zab_expiry_free(zab_expiry *e);

#endif
