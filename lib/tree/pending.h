/*
 * pending.h - changes prepared but not yet applied (ZooKeeper's
 * outstandingChanges), so that the leader validates each new request against
 * the tree as it will be once everything before it commits.
 *
 * Each record is the future state of one path (or of one session) as of the
 * zxid that produced it; a map finds the newest record of a path, a FIFO in
 * zxid order lets apply drop the records it has caught up with. A multi adds
 * records as it goes and, when one of its ops fails, takes them back
 * (rollback) so that the next request sees the state before the multi.
 */
#ifndef ZAB_TREE_PENDING_H
#define ZAB_TREE_PENDING_H

#include <stdint.h>

#include "zab.h"
#include "util/ptab.h"

/* What prepare needs to know of a node. */
typedef struct zab_nview {
    int exists;
    int64_t owner;
    int32_t version, cversion, aversion;
    uint32_t nchildren;
    uint32_t acl;        /* ACL cache index (a reference held by the record) */
} zab_nview;

typedef struct zab_change zab_change;
struct zab_change {
    zab_change *next;    /* FIFO, oldest first */
    zab_change *prev;
    zab_change *shadow;  /* the record this one hid in the map; valid only
                            while the prepare call that made it runs */
    int64_t zxid;
    int64_t session;     /* session records: the session; else 0 */
    int session_open;    /* session records: 1 created, 0 closing */
    zab_nview v;         /* path records */
    uint64_t hash;
    uint32_t path_len;
    char path[];
};

typedef struct zab_pending {
    zab_change *head, *tail;
    zab_ptab paths;      /* path -> newest record */
    zab_ptab sessions;   /* session id -> newest record */
    uint64_t count;
} zab_pending;

/* The newest record for path / session, or NULL. */
zab_change *zab_pending_path(const zab_pending *p, zab_str path);
zab_change *zab_pending_session(const zab_pending *p, int64_t session);

/* Record the future state v of path (v->acl: the caller's reference moves to
 * the record), or of a session. 0 or ZAB_ENOMEM (nothing recorded; the
 * caller keeps its reference). */
int zab_pending_put_path(zab_pending *p, int64_t zxid, zab_str path, const zab_nview *v);
int zab_pending_put_session(zab_pending *p, int64_t zxid, int64_t session, int open);

/* Everything recorded after mark (the tail when the multi began) is taken
 * back, restoring the records it hid. unref releases ACL references. */
typedef void (*zab_unref_fn)(void *ctx, uint32_t acl);
void zab_pending_rollback(zab_pending *p, zab_change *mark, zab_unref_fn unref, void *ctx);

/* Drop every record of a zxid <= zxid (they are now in the tree). */
void zab_pending_applied(zab_pending *p, int64_t zxid, zab_unref_fn unref, void *ctx);

/* Drop everything. */
void zab_pending_clear(zab_pending *p, zab_unref_fn unref, void *ctx);

#endif
