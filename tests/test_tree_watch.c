/*
 * test_tree_watch.c - watch events end to end through the tree: standard
 * one-shot watches left by getData/exists/getChildren, persistent and
 * persistent-recursive watches (addWatch), checkWatches/removeWatches,
 * dropping a watcher, event order and zxids, closeSession deletions, ACL
 * filtering at delivery, and setWatches replay on reconnect.
 *
 * Semantics follow ZooKeeper 3.9 (DataTree, WatchManager); "observed" marks
 * behaviour read from a stock ZooKeeper 3.8 server, noting where 3.9
 * differs (3.8 events carry zxid -1; 3.8.0 kept one watch mode per path).
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "helpers/tree_driver.h"
#include "zab.h"

#define A INT64_C(0x0100000b26e90000)  /* the writer */
#define W1 INT64_C(0x0100000b26e90001) /* watchers */
#define W2 INT64_C(0x0100000b26e90002)
#define E INT64_C(0x0100000b26e90003)  /* owns ephemerals */

/* Followers join before the first write so they see every transaction. */
static td *driver_with(const zab_tree_config *cfg, int followers)
{
    td *d = td_new(cfg);
    for (int i = 0; i < followers; i++) td_add_follower(d);
    const int64_t sessions[] = { A, W1, W2, E };
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(td_session_open(d, sessions[i], 30000)->err, ZAB_OK);
    td_events_reset(d);
    return d;
}

static td *new_driver(void)
{
    return driver_with(NULL, 0);
}

/* The n-th event delivered to watcher. */
static const td_event *nth_event(const td *d, int64_t watcher, size_t n)
{
    for (size_t i = 0; i < td_nevents(d); i++) {
        const td_event *e = td_event_at(d, i);
        if (e->watcher == watcher && n-- == 0) return e;
    }
    ck_abort_msg("watcher has fewer events than asked for");
    return NULL;
}

static void assert_event(const td_event *e, int64_t watcher, int32_t type, const char *path,
                         int64_t zxid)
{
    ck_assert_int_eq(e->watcher, watcher);
    ck_assert_int_eq(e->type, type);
    ck_assert_str_eq(e->path, path);
    ck_assert_int_eq(e->zxid, zxid);
    ck_assert_int_eq(e->state, ZAB_STATE_SYNC_CONNECTED);
}

static size_t events_for(const td *d, int64_t watcher)
{
    return td_count_events(d, watcher, TD_ANY_TYPE, NULL);
}

/* ------------------------------------------------------------------------ */
/* Standard watches                                                          */
/* ------------------------------------------------------------------------ */

/* A getData watch fires NodeDataChanged once, with the setData's zxid
 * (3.9; observed 3.8 sends -1), state SyncConnected. */
START_TEST(get_data_watch_is_one_shot)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_uint_eq(td_stats(d).watches, 1);
    int64_t zxid = td_next_zxid(d);
    ck_assert_int_eq(td_set(d, A, "/w", "x", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 1);
    assert_event(td_event_at(d, 0), W1, ZAB_EVENT_DATA_CHANGED, "/w", zxid);
    ck_assert_uint_eq(td_stats(d).watches, 0);
    ck_assert_int_eq(td_set(d, A, "/w", "y", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, A, "/w", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 1);
    td_free(d);
}
END_TEST

START_TEST(data_watch_fires_on_delete)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_exists(d, W2, "/w", 1)->err, ZAB_OK);
    int64_t zxid = td_next_zxid(d);
    ck_assert_int_eq(td_delete(d, A, "/w", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 2);
    assert_event(nth_event(d, W1, 0), W1, ZAB_EVENT_DELETED, "/w", zxid);
    assert_event(nth_event(d, W2, 0), W2, ZAB_EVENT_DELETED, "/w", zxid);
    td_free(d);
}
END_TEST

/* observed: exists on a missing node answers ZNONODE and leaves a watch
 * that fires NodeCreated; getData and getChildren on a missing node leave
 * none. */
START_TEST(exists_on_missing_node_watches_creation)
{
    td *d = new_driver();
    ck_assert_int_eq(td_exists(d, W1, "/w", 1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_get(d, W2, "/w", 1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_children(d, W2, "/w", 1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_children2(d, W2, "/w", 1)->err, ZAB_ENONODE);
    ck_assert_uint_eq(td_stats(d).watches, 1);
    int64_t zxid = td_next_zxid(d);
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 1);
    assert_event(td_event_at(d, 0), W1, ZAB_EVENT_CREATED, "/w", zxid);
    ck_assert_int_eq(td_delete(d, A, "/w", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 1);
    td_free(d);
}
END_TEST

/* observed: a read refused with ZNOAUTH leaves no watch (getData,
 * getChildren; exists too, which checks READ in 3.9). */
START_TEST(refused_reads_leave_no_watch)
{
    td *d = new_driver();
    zab_acl no_read = { ZAB_PERM_ALL & ~ZAB_PERM_READ, { ZAB_STR("world"), ZAB_STR("anyone") } };
    ck_assert_int_eq(td_create_acl(d, A, "/nr", "", &no_read, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W1, "/nr", 1)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_children(d, W1, "/nr", 1)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_children2(d, W1, "/nr", 1)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_exists(d, W1, "/nr", 1)->err, ZAB_ENOAUTH);
    ck_assert_int_eq(td_check_watches(d, W1, "/nr", ZAB_WATCHER_ANY)->err, ZAB_ENOWATCHER);
    ck_assert_uint_eq(td_stats(d).watches, 0);
    td_free(d);
}
END_TEST

/* A child watch fires NodeChildrenChanged on the parent's path for a child
 * create or delete, NodeDeleted when the watched node itself goes, and
 * nothing for the node's own setData. */
START_TEST(child_watch)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_children(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, A, "/w", "x", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 0);
    int64_t zxid = td_next_zxid(d);
    ck_assert_int_eq(td_create(d, A, "/w/c", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 1);
    assert_event(td_event_at(d, 0), W1, ZAB_EVENT_CHILDREN_CHANGED, "/w", zxid);
    ck_assert_int_eq(td_create(d, A, "/w/d", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 1);

    ck_assert_int_eq(td_children2(d, W1, "/w", 1)->err, ZAB_OK);
    zxid = td_next_zxid(d);
    ck_assert_int_eq(td_delete(d, A, "/w/c", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 2);
    assert_event(td_event_at(d, 1), W1, ZAB_EVENT_CHILDREN_CHANGED, "/w", zxid);

    ck_assert_int_eq(td_delete(d, A, "/w/d", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_children(d, W1, "/w", 1)->err, ZAB_OK);
    zxid = td_next_zxid(d);
    ck_assert_int_eq(td_delete(d, A, "/w", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 3);
    assert_event(td_event_at(d, 2), W1, ZAB_EVENT_DELETED, "/w", zxid);
    td_free(d);
}
END_TEST

/* For children of the root the parent's watch key is "/". */
START_TEST(root_child_watch)
{
    td *d = new_driver();
    ck_assert_int_eq(td_children(d, W1, "/", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/x", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 1);
    assert_event(td_event_at(d, 0), W1, ZAB_EVENT_CHILDREN_CHANGED, "/", td_last_zxid(d));
    td_free(d);
}
END_TEST

/* observed: a watcher holding a data, an exist and a child watch on /w/x
 * plus a child watch on /w gets, for delete /w/x, exactly NodeDeleted
 * /w/x then NodeChildrenChanged /w. */
START_TEST(delete_event_order)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/w/x", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W1, "/w/x", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_children(d, W1, "/w/x", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_children(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_exists(d, W1, "/w/x", 1)->err, ZAB_OK);
    int64_t zxid = td_next_zxid(d);
    ck_assert_int_eq(td_delete(d, A, "/w/x", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 2);
    assert_event(td_event_at(d, 0), W1, ZAB_EVENT_DELETED, "/w/x", zxid);
    assert_event(td_event_at(d, 1), W1, ZAB_EVENT_CHILDREN_CHANGED, "/w", zxid);
    /* Every one of those watches was consumed. */
    ck_assert_uint_eq(td_stats(d).watches, 0);
    td_free(d);
}
END_TEST

/* One event per watcher however many times it asked; each watcher gets
 * its own. */
START_TEST(one_event_per_watcher)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    for (int i = 0; i < 5; i++) ck_assert_int_eq(td_get(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_exists(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W2, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, A, "/w", "x", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 2);
    ck_assert_uint_eq(td_count_events(d, W1, ZAB_EVENT_DATA_CHANGED, "/w"), 1);
    ck_assert_uint_eq(td_count_events(d, W2, ZAB_EVENT_DATA_CHANGED, "/w"), 1);
    td_free(d);
}
END_TEST

/* observed: setACL fires nothing and leaves the watch armed; identical
 * data still fires NodeDataChanged. */
START_TEST(set_acl_fires_nothing)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/w", "same", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_children(d, W1, "/", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_set_acl(d, A, "/w", zab_acl_open, 1, -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 0);
    ck_assert_int_eq(td_set(d, A, "/w", "same", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 1);
    assert_event(td_event_at(d, 0), W1, ZAB_EVENT_DATA_CHANGED, "/w", td_last_zxid(d));
    td_free(d);
}
END_TEST

/* Failed writes fire nothing and leave the watches armed. */
START_TEST(failed_writes_fire_nothing)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/w/c", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_children(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_exists(d, W1, "/w/n", 1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_set(d, A, "/w", "x", 9)->err, ZAB_EBADVERSION);
    ck_assert_int_eq(td_delete(d, A, "/w", -1)->err, ZAB_ENOTEMPTY);
    ck_assert_int_eq(td_create(d, A, "/w/c", "", ZAB_PERSISTENT)->err, ZAB_ENODEEXISTS);
    ck_assert_int_eq(td_create(d, A, "/w/n/x", "", ZAB_PERSISTENT)->err, ZAB_ENONODE);
    ck_assert_uint_eq(td_nevents(d), 0);
    ck_assert_uint_eq(td_stats(d).watches, 3);
    td_free(d);
}
END_TEST

/* Watches live in the replica that served the read: a follower applying
 * the same transactions delivers nothing for the leader's watchers. */
START_TEST(watches_are_per_replica)
{
    td *d = driver_with(NULL, 1);
    const int f = 1;
    ck_assert_int_eq(td_exists(d, W1, "/w", 1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 1);
    ck_assert_uint_eq(td_replica_nevents(d, f), 0);
    td_assert_replicas_agree(d);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* closeSession                                                              */
/* ------------------------------------------------------------------------ */

/* observed: closing a session deletes its ephemerals, each firing NodeDeleted
 * on the node then NodeChildrenChanged on the parent, all with the
 * closeSession's zxid. */
START_TEST(close_session_events)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, E, "/w/e1", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, E, "/w/e2", "", ZAB_EPHEMERAL)->err, ZAB_OK);
    ck_assert_int_eq(td_exists(d, W1, "/w/e1", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W1, "/w/e2", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_children(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_add_watch(d, W2, "/w", ZAB_WATCH_PERSISTENT)->err, ZAB_OK);
    td_events_reset(d);

    int64_t zxid = td_next_zxid(d);
    ck_assert_int_eq(td_session_close(d, E)->err, ZAB_OK);
    ck_assert_uint_eq(events_for(d, W1), 3);
    const td_event *first = nth_event(d, W1, 0);
    ck_assert_int_eq(first->type, ZAB_EVENT_DELETED);
    assert_event(nth_event(d, W1, 1), W1, ZAB_EVENT_CHILDREN_CHANGED, "/w", zxid);
    const td_event *third = nth_event(d, W1, 2);
    ck_assert_int_eq(third->type, ZAB_EVENT_DELETED);
    ck_assert_int_eq(first->zxid, zxid);
    ck_assert_int_eq(third->zxid, zxid);
    ck_assert_uint_eq(td_count_events(d, W1, ZAB_EVENT_DELETED, "/w/e1"), 1);
    ck_assert_uint_eq(td_count_events(d, W1, ZAB_EVENT_DELETED, "/w/e2"), 1);
    /* The persistent watcher hears both child deletions. */
    ck_assert_uint_eq(events_for(d, W2), 2);
    ck_assert_uint_eq(td_count_events(d, W2, ZAB_EVENT_CHILDREN_CHANGED, "/w"), 2);
    for (size_t i = 0; i < td_nevents(d); i++) ck_assert_int_eq(td_event_at(d, i)->zxid, zxid);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Persistent watches                                                        */
/* ------------------------------------------------------------------------ */

/* PERSISTENT on P: NodeCreated/NodeDataChanged/NodeDeleted for P itself and
 * NodeChildrenChanged for P's direct children, never removed by firing; the
 * path need not exist. */
START_TEST(persistent_watch)
{
    td *d = new_driver();
    const td_reply *r = td_add_watch(d, W1, "/p", ZAB_WATCH_PERSISTENT);
    ck_assert_int_eq(r->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/p", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, A, "/p", "x", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/p/c", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, A, "/p/c", "x", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/p/c/g", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, A, "/p/c/g", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, A, "/p/c", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, A, "/p", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/p", "", ZAB_PERSISTENT)->err, ZAB_OK);

    const int32_t want[] = { ZAB_EVENT_CREATED, ZAB_EVENT_DATA_CHANGED,
                             ZAB_EVENT_CHILDREN_CHANGED, ZAB_EVENT_CHILDREN_CHANGED,
                             ZAB_EVENT_DELETED, ZAB_EVENT_CREATED };
    ck_assert_uint_eq(td_nevents(d), 6);
    for (size_t i = 0; i < 6; i++) {
        ck_assert_int_eq(td_event_at(d, i)->type, want[i]);
        ck_assert_str_eq(td_event_at(d, i)->path, "/p");
        ck_assert_int_eq(td_event_at(d, i)->watcher, W1);
    }
    td_free(d);
}
END_TEST

/* PERSISTENT_RECURSIVE on P: NodeCreated, NodeDataChanged, NodeDeleted for
 * P and every descendant (the event names the changed node), never
 * NodeChildrenChanged; a sibling sharing P's prefix is not a descendant. */
START_TEST(persistent_recursive_watch)
{
    td *d = new_driver();
    ck_assert_int_eq(td_add_watch(d, W1, "/r", ZAB_WATCH_PERSISTENT_RECURSIVE)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/r", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/r/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/r/a/b", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, A, "/r/a/b", "x", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, A, "/r/a/b", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/rx", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/rx/y", "", ZAB_PERSISTENT)->err, ZAB_OK);

    ck_assert_uint_eq(td_nevents(d), 5);
    assert_event(td_event_at(d, 0), W1, ZAB_EVENT_CREATED, "/r", td_event_at(d, 0)->zxid);
    ck_assert_int_eq(td_event_at(d, 1)->type, ZAB_EVENT_CREATED);
    ck_assert_str_eq(td_event_at(d, 1)->path, "/r/a");
    ck_assert_int_eq(td_event_at(d, 2)->type, ZAB_EVENT_CREATED);
    ck_assert_str_eq(td_event_at(d, 2)->path, "/r/a/b");
    ck_assert_int_eq(td_event_at(d, 3)->type, ZAB_EVENT_DATA_CHANGED);
    ck_assert_str_eq(td_event_at(d, 3)->path, "/r/a/b");
    ck_assert_int_eq(td_event_at(d, 4)->type, ZAB_EVENT_DELETED);
    ck_assert_str_eq(td_event_at(d, 4)->path, "/r/a/b");
    ck_assert_uint_eq(td_count_events(d, W1, ZAB_EVENT_CHILDREN_CHANGED, NULL), 0);
    td_free(d);
}
END_TEST

/* A recursive watch on "/" sees everything. */
START_TEST(recursive_watch_on_root)
{
    td *d = new_driver();
    ck_assert_int_eq(td_add_watch(d, W1, "/", ZAB_WATCH_PERSISTENT_RECURSIVE)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/a", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/a/b", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_count_events(d, W1, ZAB_EVENT_CREATED, "/a"), 1);
    ck_assert_uint_eq(td_count_events(d, W1, ZAB_EVENT_CREATED, "/a/b"), 1);
    ck_assert_uint_eq(td_nevents(d), 2);
    td_free(d);
}
END_TEST

/* 3.9: standard and persistent watches of one watcher on one path coexist:
 * a write sends one event, consumes the standard watch and keeps the
 * persistent one. (observed on 3.8.0, which predates this: the standard
 * watch replaced the persistent mode and the second create sent nothing.) */
START_TEST(standard_and_persistent_coexist)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_add_watch(d, W1, "/w", ZAB_WATCH_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_children(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/w/n1", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 1);
    ck_assert_int_eq(td_check_watches(d, W1, "/w", ZAB_WATCHER_CHILDREN)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_check_watches(d, W1, "/w", ZAB_WATCHER_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/w/n2", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 2);
    ck_assert_int_eq(td_event_at(d, 1)->type, ZAB_EVENT_CHILDREN_CHANGED);

    /* A recursive watch on an ancestor plus a data watch on the node: one
     * event for the watcher. */
    ck_assert_int_eq(td_add_watch(d, W2, "/", ZAB_WATCH_PERSISTENT_RECURSIVE)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W2, "/w/n1", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, A, "/w/n1", "x", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_count_events(d, W2, ZAB_EVENT_DATA_CHANGED, "/w/n1"), 1);
    ck_assert_int_eq(td_check_watches(d, W2, "/w/n1", ZAB_WATCHER_DATA)->err, ZAB_ENOWATCHER);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* checkWatches / removeWatches / drop                                       */
/* ------------------------------------------------------------------------ */

/* Data and Children match only standard watches of their table; Any
 * matches every kind; Persistent and PersistentRecursive their own. No
 * match -> ZNOWATCHER. */
START_TEST(check_and_remove_standard)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/w", ZAB_WATCHER_DATA)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/w", ZAB_WATCHER_ANY)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/w", ZAB_WATCHER_CHILDREN)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_check_watches(d, W1, "/w", ZAB_WATCHER_PERSISTENT)->err,
                     ZAB_ENOWATCHER);
    ck_assert_int_eq(td_check_watches(d, W2, "/w", ZAB_WATCHER_ANY)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_check_watches(d, W1, "/nope", ZAB_WATCHER_ANY)->err, ZAB_ENOWATCHER);

    ck_assert_int_eq(td_remove_watches(d, W1, "/w", ZAB_WATCHER_CHILDREN)->err,
                     ZAB_ENOWATCHER);
    ck_assert_int_eq(td_remove_watches(d, W1, "/w", ZAB_WATCHER_DATA)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/w", ZAB_WATCHER_ANY)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_remove_watches(d, W1, "/w", ZAB_WATCHER_DATA)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_set(d, A, "/w", "x", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 0);

    /* An exist watch on a missing node is a data watch. */
    ck_assert_int_eq(td_exists(d, W1, "/m", 1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_check_watches(d, W1, "/m", ZAB_WATCHER_DATA)->err, ZAB_OK);
    /* Any removes the child watch and the data watch. */
    ck_assert_int_eq(td_children(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/w", ZAB_WATCHER_CHILDREN)->err, ZAB_OK);
    ck_assert_int_eq(td_remove_watches(d, W1, "/w", ZAB_WATCHER_ANY)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/w", ZAB_WATCHER_CHILDREN)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_check_watches(d, W1, "/w", ZAB_WATCHER_DATA)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_create(d, A, "/w/c", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 0);
    td_free(d);
}
END_TEST

/* 3.9 WatcherType semantics for persistent watches (observed 3.8.0 knew
 * neither type 4 nor 5 and answered ZMARSHALLINGERROR). */
START_TEST(check_and_remove_persistent)
{
    td *d = new_driver();
    ck_assert_int_eq(td_add_watch(d, W1, "/p", ZAB_WATCH_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_add_watch(d, W1, "/r", ZAB_WATCH_PERSISTENT_RECURSIVE)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/p", ZAB_WATCHER_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/p", ZAB_WATCHER_ANY)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/p", ZAB_WATCHER_DATA)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_check_watches(d, W1, "/p", ZAB_WATCHER_CHILDREN)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_check_watches(d, W1, "/p", ZAB_WATCHER_PERSISTENT_RECURSIVE)->err,
                     ZAB_ENOWATCHER);
    ck_assert_int_eq(td_check_watches(d, W1, "/r", ZAB_WATCHER_PERSISTENT_RECURSIVE)->err,
                     ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/r", ZAB_WATCHER_PERSISTENT)->err,
                     ZAB_ENOWATCHER);

    ck_assert_int_eq(td_remove_watches(d, W1, "/p", ZAB_WATCHER_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/p", ZAB_WATCHER_ANY)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_remove_watches(d, W1, "/r", ZAB_WATCHER_ANY)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/r", ZAB_WATCHER_ANY)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_create(d, A, "/p", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/r", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 0);
    ck_assert_uint_eq(td_stats(d).watches, 0);
    td_free(d);
}
END_TEST

/* Removing one kind leaves the others: removing the standard data watch
 * keeps the persistent watch on the same path. */
START_TEST(remove_one_kind_keeps_others)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_add_watch(d, W1, "/w", ZAB_WATCH_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_remove_watches(d, W1, "/w", ZAB_WATCHER_DATA)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/w", ZAB_WATCHER_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, A, "/w", "x", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_count_events(d, W1, ZAB_EVENT_DATA_CHANGED, "/w"), 1);
    td_free(d);
}
END_TEST

/* Dropping a watcher forgets every registration it had, and only its. */
START_TEST(drop_watcher)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/w", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_children(d, W1, "/w", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_exists(d, W1, "/x", 1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_add_watch(d, W1, "/", ZAB_WATCH_PERSISTENT_RECURSIVE)->err, ZAB_OK);
    ck_assert_int_eq(td_add_watch(d, W1, "/w", ZAB_WATCH_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W2, "/w", 1)->err, ZAB_OK);
    zab_tree_stats st = td_stats(d);
    ck_assert_uint_eq(st.watchers, 2);

    zab_tree_drop_watcher(td_tree(d), W1);
    st = td_stats(d);
    ck_assert_uint_eq(st.watchers, 1);
    ck_assert_uint_eq(st.watches, 1);
    ck_assert_int_eq(td_check_watches(d, W1, "/w", ZAB_WATCHER_ANY)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_create(d, A, "/x", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/w/c", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, A, "/w", "x", -1)->err, ZAB_OK);
    ck_assert_uint_eq(events_for(d, W1), 0);
    ck_assert_uint_eq(events_for(d, W2), 1);
    /* Dropping an unknown watcher is harmless. */
    zab_tree_drop_watcher(td_tree(d), W1);
    zab_tree_drop_watcher(td_tree(d), INT64_C(12345));
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* ACL filtering                                                             */
/* ------------------------------------------------------------------------ */

/* observed: an event is delivered only if the watching connection could
 * READ the node (the parent, for NodeChildrenChanged) when it fires; a
 * filtered one-shot watch is still consumed. */
START_TEST(acl_filters_delivery)
{
    td *d = new_driver();
    td_auth_add_digest(d, A, "alice:pw");
    td_auth_add_digest(d, W2, "alice:pw");
    zab_acl alice[1] = { { ZAB_PERM_ALL, { ZAB_STR("digest"),
                                           zab_str_c(td_digest(d, "alice:pw")) } } };
    ck_assert_int_eq(td_create(d, A, "/acl", "", ZAB_PERSISTENT)->err, ZAB_OK);

    ck_assert_int_eq(td_exists(d, W1, "/acl/x", 1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_exists(d, W2, "/acl/x", 1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_create_acl(d, A, "/acl/x", "", alice, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(events_for(d, W1), 0);
    ck_assert_uint_eq(td_count_events(d, W2, ZAB_EVENT_CREATED, "/acl/x"), 1);
    ck_assert_int_eq(td_check_watches(d, W1, "/acl/x", ZAB_WATCHER_DATA)->err, ZAB_ENOWATCHER);

    /* NodeChildrenChanged is judged by the parent's ACL. */
    ck_assert_int_eq(td_children(d, W1, "/acl", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_set_acl(d, A, "/acl", alice, 1, -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/acl/y", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(events_for(d, W1), 0);
    ck_assert_int_eq(td_check_watches(d, W1, "/acl", ZAB_WATCHER_CHILDREN)->err,
                     ZAB_ENOWATCHER);

    /* NodeDeleted by the deleted node's ACL; persistent watches too
     * (observed: only the final NodeCreated of the readable node arrives). */
    ck_assert_int_eq(td_create(d, A, "/open", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_get(d, W1, "/open", 1)->err, ZAB_OK);
    ck_assert_int_eq(td_add_watch(d, W1, "/open", ZAB_WATCH_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_set_acl(d, A, "/open", alice, 1, -1)->err, ZAB_OK);
    ck_assert_int_eq(td_set(d, A, "/open", "x", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, A, "/open", -1)->err, ZAB_OK);
    ck_assert_uint_eq(events_for(d, W1), 0);
    /* The persistent watch was not consumed: a readable node fires again. */
    ck_assert_int_eq(td_create(d, A, "/open", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_count_events(d, W1, ZAB_EVENT_CREATED, "/open"), 1);
    td_free(d);
}
END_TEST

/* A watcher holding the super digest hears events on nodes it has no ACL
 * entry for. */
START_TEST(acl_filter_passes_super)
{
    zab_tree_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.super_digest = ZAB_STR("super:lK75jTNcA+U9vtVEw5vB51mj/w4=");
    td *d = driver_with(&cfg, 0);
    td_auth_add_digest(d, A, "alice:pw");
    td_auth_add_digest(d, W1, "super:secret");
    ck_assert_str_eq(td_digest(d, "super:secret"), "super:lK75jTNcA+U9vtVEw5vB51mj/w4=");
    zab_acl alice[1] = { { ZAB_PERM_ALL, { ZAB_STR("digest"),
                                           zab_str_c(td_digest(d, "alice:pw")) } } };
    ck_assert_int_eq(td_exists(d, W1, "/x", 1)->err, ZAB_ENONODE);
    ck_assert_int_eq(td_create_acl(d, A, "/x", "", alice, 1, ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_count_events(d, W1, ZAB_EVENT_CREATED, "/x"), 1);
    td_free(d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* setWatches replay                                                         */
/* ------------------------------------------------------------------------ */

/* observed (SetWatches after changes past relativeZxid): data watches ->
 * NodeDeleted for a missing node, NodeDataChanged when mzxid > rel, else
 * re-registered; exist watches -> NodeCreated for a present node, else
 * re-registered; child watches -> NodeDeleted for a missing node,
 * NodeChildrenChanged when pzxid > rel, else re-registered. Replayed events
 * carry zxid -1. */
START_TEST(set_watches_replay)
{
    td *d = new_driver();
    const char *made[] = { "/sw", "/sw/same", "/sw/chg", "/sw/gone", "/sw/kids" };
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(td_create(d, A, made[i], "", ZAB_PERSISTENT)->err, ZAB_OK);
    int64_t rel = td_last_zxid(d);
    ck_assert_int_eq(td_set(d, A, "/sw/chg", "x", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_delete(d, A, "/sw/gone", -1)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/sw/kids/k", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/sw/new", "", ZAB_PERSISTENT)->err, ZAB_OK);
    td_events_reset(d);

    const char *data[] = { "/sw/same", "/sw/chg", "/sw/gone", "/sw/kids" };
    ck_assert_int_eq(td_set_watches(d, W1, rel, ZAB_SETWATCH_DATA, data, 4), ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 2);
    assert_event(td_event_at(d, 0), W1, ZAB_EVENT_DATA_CHANGED, "/sw/chg", -1);
    assert_event(td_event_at(d, 1), W1, ZAB_EVENT_DELETED, "/sw/gone", -1);

    const char *exist[] = { "/sw/new", "/sw/absent", "/sw/same" };
    ck_assert_int_eq(td_set_watches(d, W1, rel, ZAB_SETWATCH_EXIST, exist, 3), ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 4);
    assert_event(td_event_at(d, 2), W1, ZAB_EVENT_CREATED, "/sw/new", -1);
    assert_event(td_event_at(d, 3), W1, ZAB_EVENT_CREATED, "/sw/same", -1);

    const char *child[] = { "/sw/kids", "/sw/same", "/sw/gone", "/sw" };
    ck_assert_int_eq(td_set_watches(d, W1, rel, ZAB_SETWATCH_CHILD, child, 4), ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 7);
    assert_event(td_event_at(d, 4), W1, ZAB_EVENT_CHILDREN_CHANGED, "/sw/kids", -1);
    assert_event(td_event_at(d, 5), W1, ZAB_EVENT_DELETED, "/sw/gone", -1);
    assert_event(td_event_at(d, 6), W1, ZAB_EVENT_CHILDREN_CHANGED, "/sw", -1);

    /* What was re-registered, and only that. */
    ck_assert_int_eq(td_check_watches(d, W1, "/sw/same", ZAB_WATCHER_DATA)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/sw/kids", ZAB_WATCHER_DATA)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/sw/absent", ZAB_WATCHER_DATA)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/sw/same", ZAB_WATCHER_CHILDREN)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/sw/chg", ZAB_WATCHER_ANY)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_check_watches(d, W1, "/sw/new", ZAB_WATCHER_ANY)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_check_watches(d, W1, "/sw", ZAB_WATCHER_ANY)->err, ZAB_ENOWATCHER);
    ck_assert_int_eq(td_check_watches(d, W1, "/sw/kids", ZAB_WATCHER_CHILDREN)->err,
                     ZAB_ENOWATCHER);
    ck_assert_int_eq(td_check_watches(d, W1, "/sw/gone", ZAB_WATCHER_ANY)->err, ZAB_ENOWATCHER);

    /* Re-registered watches fire like any other, with the write's zxid. */
    td_events_reset(d);
    ck_assert_int_eq(td_create(d, A, "/sw/absent", "", ZAB_PERSISTENT)->err, ZAB_OK);
    assert_event(td_event_at(d, 0), W1, ZAB_EVENT_CREATED, "/sw/absent", td_last_zxid(d));
    ck_assert_int_eq(td_create(d, A, "/sw/same/c", "", ZAB_PERSISTENT)->err, ZAB_OK);
    assert_event(td_event_at(d, 1), W1, ZAB_EVENT_CHILDREN_CHANGED, "/sw/same",
                 td_last_zxid(d));
    ck_assert_uint_eq(td_nevents(d), 2);
    td_free(d);
}
END_TEST

/* With relativeZxid current, nothing has changed: data and child watches
 * are re-registered silently; exist watches on present nodes still fire
 * NodeCreated. */
START_TEST(set_watches_nothing_missed)
{
    td *d = new_driver();
    ck_assert_int_eq(td_create(d, A, "/n", "", ZAB_PERSISTENT)->err, ZAB_OK);
    int64_t rel = td_last_zxid(d);
    td_events_reset(d);
    const char *paths[] = { "/n" };
    ck_assert_int_eq(td_set_watches(d, W1, rel, ZAB_SETWATCH_DATA, paths, 1), ZAB_OK);
    ck_assert_int_eq(td_set_watches(d, W1, rel, ZAB_SETWATCH_CHILD, paths, 1), ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 0);
    ck_assert_int_eq(td_set_watches(d, W1, rel, ZAB_SETWATCH_EXIST, paths, 1), ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 1);
    assert_event(td_event_at(d, 0), W1, ZAB_EVENT_CREATED, "/n", -1);
    ck_assert_int_eq(td_delete(d, A, "/n", -1)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 2);
    assert_event(td_event_at(d, 1), W1, ZAB_EVENT_DELETED, "/n", td_last_zxid(d));
    td_free(d);
}
END_TEST

/* observed (SetWatches2): persistent and recursive kinds only register, send
 * nothing, and then fire as usual. observed: replay itself applies no ACL
 * check (an unreadable node changed since relativeZxid is reported). */
START_TEST(set_watches_persistent_and_no_acl)
{
    td *d = new_driver();
    td_auth_add_digest(d, A, "alice:pw");
    zab_acl alice[1] = { { ZAB_PERM_ALL, { ZAB_STR("digest"),
                                           zab_str_c(td_digest(d, "alice:pw")) } } };
    ck_assert_int_eq(td_create_acl(d, A, "/secret", "", alice, 1, ZAB_PERSISTENT)->err,
                     ZAB_OK);
    int64_t rel = td_last_zxid(d);
    ck_assert_int_eq(td_set(d, A, "/secret", "x", -1)->err, ZAB_OK);
    td_events_reset(d);

    const char *p[] = { "/sw/p" };
    const char *r[] = { "/sw/r" };
    ck_assert_int_eq(td_set_watches(d, W1, rel, ZAB_SETWATCH_PERSISTENT, p, 1), ZAB_OK);
    ck_assert_int_eq(td_set_watches(d, W1, rel, ZAB_SETWATCH_PERSISTENT_RECURSIVE, r, 1),
                     ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 0);
    ck_assert_int_eq(td_check_watches(d, W1, "/sw/p", ZAB_WATCHER_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_check_watches(d, W1, "/sw/r", ZAB_WATCHER_PERSISTENT_RECURSIVE)->err,
                     ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/sw", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/sw/p", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/sw/r", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_int_eq(td_create(d, A, "/sw/r/x", "", ZAB_PERSISTENT)->err, ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 3);
    ck_assert_str_eq(td_event_at(d, 0)->path, "/sw/p");
    ck_assert_str_eq(td_event_at(d, 1)->path, "/sw/r");
    ck_assert_str_eq(td_event_at(d, 2)->path, "/sw/r/x");

    /* An unreadable node changed since rel: the replay still tells. */
    td_events_reset(d);
    const char *s[] = { "/secret" };
    ck_assert_int_eq(td_set_watches(d, W1, rel, ZAB_SETWATCH_DATA, s, 1), ZAB_OK);
    ck_assert_uint_eq(td_nevents(d), 1);
    assert_event(td_event_at(d, 0), W1, ZAB_EVENT_DATA_CHANGED, "/secret", -1);
    td_free(d);
}
END_TEST

static Suite *tree_watch_suite(void)
{
    Suite *s = suite_create("tree_watch");
    TCase *tc = tcase_create("standard");
    tcase_add_test(tc, get_data_watch_is_one_shot);
    tcase_add_test(tc, data_watch_fires_on_delete);
    tcase_add_test(tc, exists_on_missing_node_watches_creation);
    tcase_add_test(tc, refused_reads_leave_no_watch);
    tcase_add_test(tc, child_watch);
    tcase_add_test(tc, root_child_watch);
    tcase_add_test(tc, delete_event_order);
    tcase_add_test(tc, one_event_per_watcher);
    tcase_add_test(tc, set_acl_fires_nothing);
    tcase_add_test(tc, failed_writes_fire_nothing);
    tcase_add_test(tc, watches_are_per_replica);
    tcase_add_test(tc, close_session_events);
    suite_add_tcase(s, tc);

    tc = tcase_create("persistent");
    tcase_add_test(tc, persistent_watch);
    tcase_add_test(tc, persistent_recursive_watch);
    tcase_add_test(tc, recursive_watch_on_root);
    tcase_add_test(tc, standard_and_persistent_coexist);
    suite_add_tcase(s, tc);

    tc = tcase_create("manage");
    tcase_add_test(tc, check_and_remove_standard);
    tcase_add_test(tc, check_and_remove_persistent);
    tcase_add_test(tc, remove_one_kind_keeps_others);
    tcase_add_test(tc, drop_watcher);
    suite_add_tcase(s, tc);

    tc = tcase_create("acl");
    tcase_add_test(tc, acl_filters_delivery);
    tcase_add_test(tc, acl_filter_passes_super);
    suite_add_tcase(s, tc);

    tc = tcase_create("set_watches");
    tcase_add_test(tc, set_watches_replay);
    tcase_add_test(tc, set_watches_nothing_missed);
    tcase_add_test(tc, set_watches_persistent_and_no_acl);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(tree_watch_suite)
