/*
 * watch.h - the watch manager of one server: which connection watches which
 * path, and the events a change produces, as ZooKeeper's WatchManager does.
 *
 * Memory grows with watched paths plus watchers plus one small record per
 * registration: each path string is stored once however many watchers share
 * it, and a registration is a few integers, not an object.
 */
#ifndef ZAB_TREE_WATCH_H
#define ZAB_TREE_WATCH_H

#include <stdint.h>

#include "zab.h"
#include "tree/acl.h"

/* Registration kinds; a (watcher, path) pair holds any combination. */
enum {
    ZAB_W_DATA = 1,       /* standard data/exist watch (one-shot) */
    ZAB_W_CHILD = 2,      /* standard child watch (one-shot) */
    ZAB_W_PERSISTENT = 4, /* addWatch PERSISTENT: data and child tables */
    ZAB_W_RECURSIVE = 8   /* addWatch PERSISTENT_RECURSIVE: data table, subtree */
};

typedef struct zab_watches zab_watches;

/* fn may be NULL (events are then dropped). NULL on OOM. */
zab_watches *zab_watches_new(zab_watch_fn fn, void *ctx);
void zab_watches_free(zab_watches *w);

/* Register kind for (watcher, path). The watcher's identities are kept (a
 * copy) for the delivery check; a later call with more identities replaces
 * them (a connection's identities only grow). ZAB_OK or ZAB_ENOMEM. */
int zab_watches_add(zab_watches *w, int64_t watcher, zab_str path, unsigned kind,
                    const zab_id *auth, uint32_t nauth);

/* The change `type` (ZAB_EVENT_CREATED, _DELETED, _DATA_CHANGED at the node's
 * path, or _CHILDREN_CHANGED at the parent's path) happened at zxid: deliver
 * one event per watcher as DataTree/WatchManager do (one-shot entries are
 * consumed, persistent ones stay, recursive watches on any ancestor fire for
 * created/deleted/data changed, a watcher that has both a data and a child
 * watch on a deleted node gets one NodeDeleted), delivering only to watchers
 * that hold READ on acl[0..nacl) (the node's list; the parent's for
 * CHILDREN_CHANGED) under pol. */
void zab_watches_fire(zab_watches *w, int32_t type, zab_str path, int64_t zxid,
                      const zab_acl *acl, uint32_t nacl, const zab_acl_policy *pol);

/* Deliver one event to one watcher directly (setWatches replay). */
void zab_watches_send(zab_watches *w, int64_t watcher, int32_t type, zab_str path,
                      int64_t zxid);

/* checkWatches (only_check) / removeWatches for watcher on path with a
 * ZAB_WATCHER_* type: ZAB_OK when something matched (and, unless only_check,
 * was removed), ZAB_ENOWATCHER otherwise. CHILDREN and DATA match only
 * standard watches; PERSISTENT and PERSISTENT_RECURSIVE their own kind; ANY
 * every kind. */
int zab_watches_remove(zab_watches *w, int64_t watcher, zab_str path,
                       int32_t watcher_type, int only_check);

/* Forget every registration of watcher. */
void zab_watches_drop(zab_watches *w, int64_t watcher);

/* Forget everything (a snapshot replaced the tree). */
void zab_watches_clear(zab_watches *w);

void zab_watches_count(const zab_watches *w, uint64_t *registrations,
                       uint64_t *paths, uint64_t *watchers);

#endif
