/*
 * test_watch.c - the watch manager against ZooKeeper's watch semantics:
 * one-shot data/exist/child watches, persistent and persistent-recursive
 * watches, one event per watcher per change, checkWatches/removeWatches,
 * dropping a connection, ACL filtering at delivery, and scale.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "tree/watch.h"
#include "zab.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct seen {
    int64_t watcher;
    int32_t type, state;
    int64_t zxid;
    char path[64];
} seen;

typedef struct recorder {
    seen ev[512];
    int n;
} recorder;

static void record(void *ctx, int64_t watcher, const zab_event *ev)
{
    recorder *r = ctx;
    ck_assert_int_lt(r->n, (int)(sizeof r->ev / sizeof r->ev[0]));
    ck_assert_uint_lt(ev->path.len, sizeof r->ev[0].path);
    seen *s = &r->ev[r->n++];
    s->watcher = watcher;
    s->type = ev->type;
    s->state = ev->state;
    s->zxid = ev->zxid;
    memcpy(s->path, ev->path.ptr, ev->path.len);
    s->path[ev->path.len] = '\0';
}

static recorder rec;
static zab_watches *w;

static void setup(void)
{
    memset(&rec, 0, sizeof rec);
    w = zab_watches_new(record, &rec);
    ck_assert_ptr_nonnull(w);
}

static void teardown(void)
{
    zab_watches_free(w);
    w = NULL;
}

/* A connection with only its automatic ip identity. */
static const zab_id ip_only[] = { { ZAB_STR("ip"), ZAB_STR("10.0.0.7") } };

static void add(int64_t watcher, const char *path, unsigned kind)
{
    ck_assert_int_eq(zab_watches_add(w, watcher, zab_str_c(path), kind, ip_only, 1),
                     ZAB_OK);
}

/* A change under an open ACL, as the tree reports it. */
static void fire(int32_t type, const char *path, int64_t zxid)
{
    zab_acl_policy pol = { 0, { NULL, 0 } };
    zab_watches_fire(w, type, zab_str_c(path), zxid, zab_acl_open, 1, &pol);
}

static int rm(int64_t watcher, const char *path, int32_t type)
{
    return zab_watches_remove(w, watcher, zab_str_c(path), type, 0);
}

static int check(int64_t watcher, const char *path, int32_t type)
{
    return zab_watches_remove(w, watcher, zab_str_c(path), type, 1);
}

#define ck_counts(regs, npaths, nwatchers)                               \
    do {                                                                 \
        uint64_t r_, p_, w_;                                             \
        zab_watches_count(w, &r_, &p_, &w_);                             \
        ck_assert_uint_eq(r_, (regs));                                   \
        ck_assert_uint_eq(p_, (npaths));                                 \
        ck_assert_uint_eq(w_, (nwatchers));                              \
    } while (0)

#define ck_event(i, watcher_, type_, path_, zxid_)                       \
    do {                                                                 \
        ck_assert_int_gt(rec.n, (i));                                    \
        ck_assert_int_eq(rec.ev[i].watcher, (watcher_));                 \
        ck_assert_int_eq(rec.ev[i].type, (type_));                       \
        ck_assert_int_eq(rec.ev[i].state, ZAB_STATE_SYNC_CONNECTED);     \
        ck_assert_str_eq(rec.ev[i].path, (path_));                       \
        ck_assert_int_eq(rec.ev[i].zxid, (zxid_));                       \
    } while (0)

/* The number of recorded events for watcher. */
static int events_for(int64_t watcher)
{
    int n = 0;
    for (int i = 0; i < rec.n; i++)
        n += rec.ev[i].watcher == watcher;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Standard (one-shot) watches                                               */
/* ------------------------------------------------------------------------ */

START_TEST(data_watch_fires_once)
{
    add(1, "/a", ZAB_W_DATA);
    ck_counts(1, 1, 1);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 5);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 1, ZAB_EVENT_DATA_CHANGED, "/a", 5);
    ck_counts(0, 0, 0);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 6);
    ck_assert_int_eq(rec.n, 1);
}
END_TEST

START_TEST(data_watch_ignores_other_paths_and_types)
{
    add(1, "/a", ZAB_W_DATA);
    fire(ZAB_EVENT_DATA_CHANGED, "/ab", 2);
    fire(ZAB_EVENT_DATA_CHANGED, "/a/b", 3);
    fire(ZAB_EVENT_DATA_CHANGED, "/", 4);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/a", 5); /* a data watch is not a child watch */
    ck_assert_int_eq(rec.n, 0);
    ck_counts(1, 1, 1);
    fire(ZAB_EVENT_DELETED, "/a", 6);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 1, ZAB_EVENT_DELETED, "/a", 6);
    ck_counts(0, 0, 0);
}
END_TEST

START_TEST(exist_watch_fires_created)
{
    /* exists() on a missing node leaves a data-table watch. */
    add(3, "/new", ZAB_W_DATA);
    fire(ZAB_EVENT_CREATED, "/new", 10);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/", 10);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 3, ZAB_EVENT_CREATED, "/new", 10);
    ck_counts(0, 0, 0);
    fire(ZAB_EVENT_DATA_CHANGED, "/new", 11);
    ck_assert_int_eq(rec.n, 1);
}
END_TEST

START_TEST(child_watch_fires_on_parent_path)
{
    add(1, "/p", ZAB_W_CHILD);
    /* create of /p/c: data table at /p/c, then the child table at /p */
    fire(ZAB_EVENT_CREATED, "/p/c", 7);
    ck_assert_int_eq(rec.n, 0);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/p", 7);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 1, ZAB_EVENT_CHILDREN_CHANGED, "/p", 7);
    ck_counts(0, 0, 0);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/p", 8);
    ck_assert_int_eq(rec.n, 1);
}
END_TEST

START_TEST(child_watch_survives_data_change_and_create)
{
    /* setData and create of /p look only at the data table at /p. */
    add(1, "/p", ZAB_W_CHILD);
    fire(ZAB_EVENT_DATA_CHANGED, "/p", 2);
    fire(ZAB_EVENT_CREATED, "/p", 3);
    ck_assert_int_eq(rec.n, 0);
    ck_counts(1, 1, 1);
    fire(ZAB_EVENT_DELETED, "/p", 4);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 1, ZAB_EVENT_DELETED, "/p", 4);
    ck_counts(0, 0, 0);
}
END_TEST

START_TEST(child_watch_on_root)
{
    add(1, "/", ZAB_W_CHILD);
    fire(ZAB_EVENT_CREATED, "/x", 2);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/", 2);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 1, ZAB_EVENT_CHILDREN_CHANGED, "/", 2);
}
END_TEST

START_TEST(delete_with_data_and_child_watch_sends_one_event)
{
    add(1, "/a", ZAB_W_DATA);
    add(1, "/a", ZAB_W_CHILD);
    add(2, "/a", ZAB_W_CHILD);
    add(2, "/", ZAB_W_CHILD);
    ck_counts(4, 2, 2);
    /* delete of /a: NodeDeleted at /a, then NodeChildrenChanged at / */
    fire(ZAB_EVENT_DELETED, "/a", 9);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/", 9);
    ck_assert_int_eq(rec.n, 3);
    ck_event(0, 1, ZAB_EVENT_DELETED, "/a", 9);
    ck_event(1, 2, ZAB_EVENT_DELETED, "/a", 9);
    ck_event(2, 2, ZAB_EVENT_CHILDREN_CHANGED, "/", 9);
    ck_counts(0, 0, 0);
}
END_TEST

START_TEST(data_change_leaves_the_child_watch)
{
    /* getData and getChildren on one path: the two tables are separate. */
    add(1, "/a", ZAB_W_DATA | ZAB_W_CHILD);
    ck_counts(2, 1, 1);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 2);
    ck_assert_int_eq(rec.n, 1);
    ck_counts(1, 1, 1);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_DATA), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_CHILDREN), ZAB_OK);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/a", 3);
    ck_assert_int_eq(rec.n, 2);
    ck_event(1, 1, ZAB_EVENT_CHILDREN_CHANGED, "/a", 3);
    ck_counts(0, 0, 0);
}
END_TEST

START_TEST(two_watchers_on_one_path_both_fire)
{
    add(1, "/a", ZAB_W_DATA);
    add(2, "/a", ZAB_W_DATA);
    ck_counts(2, 1, 2);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 4);
    ck_assert_int_eq(rec.n, 2);
    ck_assert_int_eq(events_for(1), 1);
    ck_assert_int_eq(events_for(2), 1);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(rec.ev[i].type, ZAB_EVENT_DATA_CHANGED);
        ck_assert_str_eq(rec.ev[i].path, "/a");
    }
    ck_counts(0, 0, 0);
}
END_TEST

START_TEST(repeated_registration_is_one_watch)
{
    /* Ten getData(watch) calls: one server entry, one event. */
    for (int i = 0; i < 10; i++)
        add(1, "/a", ZAB_W_DATA);
    ck_counts(1, 1, 1);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 2);
    ck_assert_int_eq(rec.n, 1);
    ck_counts(0, 0, 0);
}
END_TEST

START_TEST(many_watchers_mixed_kinds_on_one_path)
{
    /* Every even watcher's entry is one-shot, every odd one persistent:
     * consuming half the list while walking it must reach every entry. */
    for (int64_t i = 0; i < 100; i++)
        add(i, "/hot", i % 2 ? ZAB_W_PERSISTENT : ZAB_W_DATA);
    ck_counts(100, 1, 100);
    fire(ZAB_EVENT_DATA_CHANGED, "/hot", 3);
    ck_assert_int_eq(rec.n, 100);
    for (int64_t i = 0; i < 100; i++)
        ck_assert_int_eq(events_for(i), 1);
    ck_counts(50, 1, 50);
    rec.n = 0;
    fire(ZAB_EVENT_DATA_CHANGED, "/hot", 4);
    ck_assert_int_eq(rec.n, 50);
    for (int i = 0; i < rec.n; i++)
        ck_assert_int_eq(rec.ev[i].watcher % 2, 1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Persistent and recursive watches                                          */
/* ------------------------------------------------------------------------ */

START_TEST(persistent_fires_repeatedly)
{
    add(1, "/a", ZAB_W_PERSISTENT);
    ck_counts(1, 1, 1);
    fire(ZAB_EVENT_CREATED, "/a", 1);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 2);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 3);
    fire(ZAB_EVENT_CREATED, "/a/b", 4);       /* not recursive */
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/a", 4);
    fire(ZAB_EVENT_DATA_CHANGED, "/a/b", 5);
    fire(ZAB_EVENT_DELETED, "/a/b", 6);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/a", 6);
    fire(ZAB_EVENT_DELETED, "/a", 7);         /* both tables, one event */
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/", 7);
    ck_assert_int_eq(rec.n, 6);
    ck_event(0, 1, ZAB_EVENT_CREATED, "/a", 1);
    ck_event(1, 1, ZAB_EVENT_DATA_CHANGED, "/a", 2);
    ck_event(2, 1, ZAB_EVENT_DATA_CHANGED, "/a", 3);
    ck_event(3, 1, ZAB_EVENT_CHILDREN_CHANGED, "/a", 4);
    ck_event(4, 1, ZAB_EVENT_CHILDREN_CHANGED, "/a", 6);
    ck_event(5, 1, ZAB_EVENT_DELETED, "/a", 7);
    ck_counts(1, 1, 1);
    fire(ZAB_EVENT_CREATED, "/a", 8);
    ck_assert_int_eq(rec.n, 7);
    ck_event(6, 1, ZAB_EVENT_CREATED, "/a", 8);
}
END_TEST

START_TEST(recursive_fires_for_descendants)
{
    add(1, "/a", ZAB_W_RECURSIVE);
    ck_counts(1, 1, 1);
    fire(ZAB_EVENT_CREATED, "/a/b", 1);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/a", 1);
    fire(ZAB_EVENT_CREATED, "/a/b/c", 2);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/a/b", 2);
    fire(ZAB_EVENT_DATA_CHANGED, "/a/b/c", 3);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 4);
    fire(ZAB_EVENT_DELETED, "/a/b/c", 5);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/a/b", 5);
    ck_assert_int_eq(rec.n, 5);
    ck_event(0, 1, ZAB_EVENT_CREATED, "/a/b", 1);
    ck_event(1, 1, ZAB_EVENT_CREATED, "/a/b/c", 2);
    ck_event(2, 1, ZAB_EVENT_DATA_CHANGED, "/a/b/c", 3);
    ck_event(3, 1, ZAB_EVENT_DATA_CHANGED, "/a", 4);
    ck_event(4, 1, ZAB_EVENT_DELETED, "/a/b/c", 5);
    ck_counts(1, 1, 1);
}
END_TEST

START_TEST(recursive_stays_inside_its_subtree)
{
    add(1, "/a", ZAB_W_RECURSIVE);
    fire(ZAB_EVENT_CREATED, "/ab", 1);    /* shares a prefix, not an ancestor */
    fire(ZAB_EVENT_DATA_CHANGED, "/", 2);
    fire(ZAB_EVENT_CREATED, "/b/a", 3);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/a", 4);
    ck_assert_int_eq(rec.n, 0);
}
END_TEST

START_TEST(only_recursive_watches_look_down)
{
    /* With a recursive watch somewhere, the walk up from a change visits
     * every ancestor; the other kinds there must neither fire nor go. */
    add(1, "/a", ZAB_W_DATA | ZAB_W_CHILD | ZAB_W_PERSISTENT);
    add(2, "/z", ZAB_W_RECURSIVE);
    fire(ZAB_EVENT_CREATED, "/a/b", 1);
    fire(ZAB_EVENT_DATA_CHANGED, "/a/b", 2);
    fire(ZAB_EVENT_DELETED, "/a/b", 3);
    ck_assert_int_eq(rec.n, 0);
    ck_counts(4, 2, 2);
}
END_TEST

START_TEST(recursive_on_root_sees_everything)
{
    add(1, "/", ZAB_W_RECURSIVE);
    fire(ZAB_EVENT_CREATED, "/x", 1);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/", 1);
    fire(ZAB_EVENT_DATA_CHANGED, "/x/y/z", 2);
    fire(ZAB_EVENT_DATA_CHANGED, "/", 3);
    ck_assert_int_eq(rec.n, 3);
    ck_event(0, 1, ZAB_EVENT_CREATED, "/x", 1);
    ck_event(1, 1, ZAB_EVENT_DATA_CHANGED, "/x/y/z", 2);
    ck_event(2, 1, ZAB_EVENT_DATA_CHANGED, "/", 3);
}
END_TEST

START_TEST(nested_recursive_watches_send_one_event)
{
    add(1, "/", ZAB_W_RECURSIVE);
    add(1, "/a", ZAB_W_RECURSIVE);
    add(1, "/a/b", ZAB_W_RECURSIVE | ZAB_W_DATA | ZAB_W_PERSISTENT);
    add(2, "/a", ZAB_W_RECURSIVE);
    ck_counts(6, 3, 2);
    fire(ZAB_EVENT_DATA_CHANGED, "/a/b", 4);
    ck_assert_int_eq(rec.n, 2);
    ck_event(0, 1, ZAB_EVENT_DATA_CHANGED, "/a/b", 4);
    ck_event(1, 2, ZAB_EVENT_DATA_CHANGED, "/a/b", 4);
    ck_counts(5, 3, 2); /* only the standard data watch went */
    fire(ZAB_EVENT_DELETED, "/a/b/c", 5);
    ck_assert_int_eq(rec.n, 4);
    ck_assert_int_eq(events_for(1), 2);
    ck_assert_int_eq(events_for(2), 2);
}
END_TEST

START_TEST(standard_and_persistent_coexist)
{
    /* ZooKeeper 3.9 (ZOOKEEPER-4466): one event per write, the standard
     * watch consumed, the persistent one kept. */
    add(1, "/a", ZAB_W_DATA);
    add(1, "/a", ZAB_W_PERSISTENT);
    ck_counts(2, 1, 1);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 1);
    ck_assert_int_eq(rec.n, 1);
    ck_counts(1, 1, 1);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_DATA), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_PERSISTENT), ZAB_OK);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 2);
    ck_assert_int_eq(rec.n, 2);
    ck_event(1, 1, ZAB_EVENT_DATA_CHANGED, "/a", 2);
    ck_counts(1, 1, 1);
}
END_TEST

START_TEST(standard_child_and_recursive_coexist)
{
    /* 3.8 kept one mode per entry, so a recursive watch hid a standard
     * child watch on the same path; 3.9 keeps both. */
    add(1, "/t", ZAB_W_CHILD);
    add(1, "/t", ZAB_W_RECURSIVE);
    ck_counts(2, 1, 1);
    fire(ZAB_EVENT_CREATED, "/t/x", 1);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/t", 1);
    ck_assert_int_eq(rec.n, 2);
    ck_event(0, 1, ZAB_EVENT_CREATED, "/t/x", 1);
    ck_event(1, 1, ZAB_EVENT_CHILDREN_CHANGED, "/t", 1);
    ck_counts(1, 1, 1);
    ck_assert_int_eq(check(1, "/t", ZAB_WATCHER_CHILDREN), ZAB_ENOWATCHER);
}
END_TEST

START_TEST(recursive_ancestor_and_data_watch_send_one_event)
{
    add(1, "/a", ZAB_W_RECURSIVE);
    add(1, "/a/b", ZAB_W_DATA);
    add(1, "/a/b", ZAB_W_CHILD);
    ck_counts(3, 2, 1);
    fire(ZAB_EVENT_DELETED, "/a/b", 3);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 1, ZAB_EVENT_DELETED, "/a/b", 3);
    ck_counts(1, 1, 1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* checkWatches / removeWatches                                              */
/* ------------------------------------------------------------------------ */

START_TEST(check_and_remove_data)
{
    add(1, "/a", ZAB_W_DATA);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_DATA), ZAB_OK);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_ANY), ZAB_OK);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_CHILDREN), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_PERSISTENT), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_PERSISTENT_RECURSIVE), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(2, "/a", ZAB_WATCHER_DATA), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/b", ZAB_WATCHER_DATA), ZAB_ENOWATCHER);
    ck_counts(1, 1, 1); /* checking removes nothing */
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_CHILDREN), ZAB_ENOWATCHER);
    ck_counts(1, 1, 1);
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_DATA), ZAB_OK);
    ck_counts(0, 0, 0);
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_DATA), ZAB_ENOWATCHER);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 1);
    ck_assert_int_eq(rec.n, 0);
}
END_TEST

START_TEST(check_and_remove_children)
{
    add(1, "/a", ZAB_W_CHILD);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_CHILDREN), ZAB_OK);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_ANY), ZAB_OK);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_DATA), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_PERSISTENT), ZAB_ENOWATCHER);
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_DATA), ZAB_ENOWATCHER);
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_CHILDREN), ZAB_OK);
    ck_counts(0, 0, 0);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/a", 1);
    ck_assert_int_eq(rec.n, 0);
}
END_TEST

START_TEST(check_and_remove_persistent)
{
    add(1, "/a", ZAB_W_PERSISTENT);
    /* Data and Children match only standard watches. */
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_DATA), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_CHILDREN), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_PERSISTENT_RECURSIVE), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_PERSISTENT), ZAB_OK);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_ANY), ZAB_OK);
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_DATA), ZAB_ENOWATCHER);
    ck_counts(1, 1, 1);
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_PERSISTENT), ZAB_OK);
    ck_counts(0, 0, 0);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 1);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/a", 1);
    ck_assert_int_eq(rec.n, 0);
}
END_TEST

START_TEST(check_and_remove_recursive)
{
    add(1, "/a", ZAB_W_RECURSIVE);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_PERSISTENT), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_DATA), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/a/b", ZAB_WATCHER_PERSISTENT_RECURSIVE), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_PERSISTENT_RECURSIVE), ZAB_OK);
    ck_assert_int_eq(check(1, "/a", ZAB_WATCHER_ANY), ZAB_OK);
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_PERSISTENT_RECURSIVE), ZAB_OK);
    ck_counts(0, 0, 0);
    fire(ZAB_EVENT_CREATED, "/a/b", 1);
    ck_assert_int_eq(rec.n, 0);
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_PERSISTENT_RECURSIVE), ZAB_ENOWATCHER);
}
END_TEST

START_TEST(remove_one_kind_keeps_the_others)
{
    add(1, "/a", ZAB_W_DATA | ZAB_W_CHILD | ZAB_W_PERSISTENT | ZAB_W_RECURSIVE);
    ck_counts(4, 1, 1);
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_DATA), ZAB_OK);
    ck_counts(3, 1, 1);
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_PERSISTENT), ZAB_OK);
    ck_counts(2, 1, 1);
    /* The child watch still fires for children, the recursive one for
     * descendants. */
    fire(ZAB_EVENT_CREATED, "/a/x", 2);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/a", 2);
    ck_assert_int_eq(rec.n, 2);
    ck_event(0, 1, ZAB_EVENT_CREATED, "/a/x", 2);
    ck_event(1, 1, ZAB_EVENT_CHILDREN_CHANGED, "/a", 2);
    ck_counts(1, 1, 1);
}
END_TEST

START_TEST(remove_any_takes_every_kind_of_one_pair)
{
    add(1, "/a", ZAB_W_DATA | ZAB_W_CHILD | ZAB_W_PERSISTENT);
    add(1, "/b", ZAB_W_DATA);
    add(2, "/a", ZAB_W_DATA);
    ck_counts(5, 2, 2);
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_ANY), ZAB_OK);
    ck_counts(2, 2, 2);
    ck_assert_int_eq(rm(1, "/a", ZAB_WATCHER_ANY), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/b", ZAB_WATCHER_DATA), ZAB_OK);
    ck_assert_int_eq(check(2, "/a", ZAB_WATCHER_DATA), ZAB_OK);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 3);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 2, ZAB_EVENT_DATA_CHANGED, "/a", 3);
    ck_counts(1, 1, 1);
}
END_TEST

START_TEST(remove_unknown_type_matches_nothing)
{
    add(1, "/a", ZAB_W_DATA | ZAB_W_CHILD | ZAB_W_PERSISTENT | ZAB_W_RECURSIVE);
    ck_assert_int_eq(rm(1, "/a", 0), ZAB_ENOWATCHER);
    ck_assert_int_eq(rm(1, "/a", 6), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(1, "/a", -1), ZAB_ENOWATCHER);
    ck_counts(4, 1, 1);
}
END_TEST

START_TEST(remove_on_empty_manager)
{
    ck_assert_int_eq(check(1, "/", ZAB_WATCHER_ANY), ZAB_ENOWATCHER);
    ck_assert_int_eq(rm(1, "/", ZAB_WATCHER_ANY), ZAB_ENOWATCHER);
    zab_watches_drop(w, 1);
    ck_counts(0, 0, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Dropping watchers, clearing, direct sends                                 */
/* ------------------------------------------------------------------------ */

START_TEST(drop_forgets_one_watcher)
{
    add(1, "/a", ZAB_W_DATA | ZAB_W_CHILD);
    add(1, "/b", ZAB_W_PERSISTENT);
    add(1, "/", ZAB_W_RECURSIVE);
    add(2, "/a", ZAB_W_DATA);
    add(2, "/c", ZAB_W_CHILD);
    ck_counts(6, 4, 2);
    zab_watches_drop(w, 1);
    ck_counts(2, 2, 1);
    zab_watches_drop(w, 99); /* unknown: nothing */
    ck_counts(2, 2, 1);
    fire(ZAB_EVENT_DATA_CHANGED, "/b", 1);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 2);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 2, ZAB_EVENT_DATA_CHANGED, "/a", 2);
    zab_watches_drop(w, 2);
    ck_counts(0, 0, 0);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/c", 3);
    ck_assert_int_eq(rec.n, 1);
    /* Records freed above are reused correctly. */
    add(3, "/c", ZAB_W_CHILD);
    add(4, "/c", ZAB_W_CHILD);
    ck_counts(2, 1, 2);
    fire(ZAB_EVENT_CHILDREN_CHANGED, "/c", 4);
    ck_assert_int_eq(rec.n, 3);
    ck_event(1, 3, ZAB_EVENT_CHILDREN_CHANGED, "/c", 4);
    ck_event(2, 4, ZAB_EVENT_CHILDREN_CHANGED, "/c", 4);
}
END_TEST

START_TEST(last_registration_going_mid_fire_or_drop)
{
    /* Enough registrations that the manager's storage grows; consuming or
     * dropping the last of them releases it while a fire or a drop is
     * still walking its list, and the manager must carry on. */
    for (int64_t i = 0; i < 300; i++)
        add(i, "/hot", ZAB_W_DATA);
    ck_counts(300, 1, 300);
    fire(ZAB_EVENT_DELETED, "/hot", 1);
    ck_assert_int_eq(rec.n, 300);
    ck_counts(0, 0, 0);
    char path[32];
    for (int i = 0; i < 300; i++) {
        snprintf(path, sizeof path, "/n%d", i);
        add(7, path, ZAB_W_CHILD | ZAB_W_RECURSIVE);
    }
    ck_counts(600, 300, 1);
    zab_watches_drop(w, 7);
    ck_counts(0, 0, 0);
    rec.n = 0;
    fire(ZAB_EVENT_CREATED, "/n1/x", 2);
    add(8, "/n1", ZAB_W_RECURSIVE);
    fire(ZAB_EVENT_CREATED, "/n1/x", 3);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 8, ZAB_EVENT_CREATED, "/n1/x", 3);
}
END_TEST

START_TEST(clear_forgets_everything)
{
    add(1, "/a", ZAB_W_DATA);
    add(2, "/b", ZAB_W_RECURSIVE);
    zab_watches_clear(w);
    ck_counts(0, 0, 0);
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 1);
    fire(ZAB_EVENT_DATA_CHANGED, "/b/c", 1);
    ck_assert_int_eq(rec.n, 0);
    add(1, "/a", ZAB_W_DATA); /* usable again */
    fire(ZAB_EVENT_DATA_CHANGED, "/a", 2);
    ck_assert_int_eq(rec.n, 1);
}
END_TEST

START_TEST(send_delivers_directly)
{
    zab_watches_send(w, 42, ZAB_EVENT_DELETED, ZAB_STR("/gone"), -1);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 42, ZAB_EVENT_DELETED, "/gone", -1);
    ck_counts(0, 0, 0);
}
END_TEST

START_TEST(null_callback_still_consumes)
{
    zab_watches *q = zab_watches_new(NULL, NULL);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(zab_watches_add(q, 1, ZAB_STR("/a"), ZAB_W_DATA, NULL, 0), ZAB_OK);
    zab_watches_fire(q, ZAB_EVENT_DATA_CHANGED, ZAB_STR("/a"), 1, zab_acl_open, 1, NULL);
    zab_watches_send(q, 1, ZAB_EVENT_CREATED, ZAB_STR("/a"), -1);
    uint64_t regs, paths, watchers;
    zab_watches_count(q, &regs, &paths, &watchers);
    ck_assert_uint_eq(regs + paths + watchers, 0);
    zab_watches_free(q);
    zab_watches_free(NULL);
}
END_TEST

START_TEST(paths_are_bytes)
{
    /* A path is compared as its bytes, embedded NULs included. */
    zab_str a = { "/a\0x", 4 }, b = { "/a\0y", 4 };
    ck_assert_int_eq(zab_watches_add(w, 1, a, ZAB_W_DATA, NULL, 0), ZAB_OK);
    ck_assert_int_eq(zab_watches_add(w, 1, b, ZAB_W_DATA, NULL, 0), ZAB_OK);
    ck_counts(2, 2, 1);
    zab_watches_fire(w, ZAB_EVENT_DATA_CHANGED, b, 1, NULL, 0, NULL);
    ck_assert_int_eq(rec.n, 1);
    ck_counts(1, 1, 1);
    ck_assert_int_eq(zab_watches_remove(w, 1, a, ZAB_WATCHER_DATA, 0), ZAB_OK);
    ck_counts(0, 0, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* ACL filtering at delivery                                                 */
/* ------------------------------------------------------------------------ */

static const zab_id alice[] = {
    { ZAB_STR("ip"), ZAB_STR("10.0.0.7") },
    { ZAB_STR("digest"), ZAB_STR("alice:ZmFrZWhhc2hmYWtlaGFzaGZha2U=") },
};
static const zab_acl alice_reads[] = {
    { ZAB_PERM_READ, { ZAB_STR("digest"), ZAB_STR("alice:ZmFrZWhhc2hmYWtlaGFzaGZha2U=") } },
};
static const zab_acl alice_writes[] = {
    { ZAB_PERM_ALL & ~ZAB_PERM_READ,
      { ZAB_STR("digest"), ZAB_STR("alice:ZmFrZWhhc2hmYWtlaGFzaGZha2U=") } },
};

static void add_as(int64_t watcher, const char *path, unsigned kind, const zab_id *auth,
                   uint32_t nauth)
{
    ck_assert_int_eq(zab_watches_add(w, watcher, zab_str_c(path), kind, auth, nauth),
                     ZAB_OK);
}

static void fire_acl(int32_t type, const char *path, const zab_acl *acl, uint32_t nacl,
                     const zab_acl_policy *pol)
{
    zab_watches_fire(w, type, zab_str_c(path), 1, acl, nacl, pol);
}

START_TEST(acl_filters_delivery_and_still_consumes)
{
    zab_acl_policy pol = { 0, { NULL, 0 } };
    add_as(1, "/s", ZAB_W_DATA, alice, 2);
    add_as(2, "/s", ZAB_W_DATA, ip_only, 1);
    add_as(3, "/s", ZAB_W_PERSISTENT, ip_only, 1);
    ck_counts(3, 1, 3);
    fire_acl(ZAB_EVENT_DATA_CHANGED, "/s", alice_reads, 1, &pol);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 1, ZAB_EVENT_DATA_CHANGED, "/s", 1);
    /* Watcher 2's one-shot watch was consumed without an event; watcher
     * 3's persistent one stays. */
    ck_counts(1, 1, 1);
    ck_assert_int_eq(check(2, "/s", ZAB_WATCHER_DATA), ZAB_ENOWATCHER);
    ck_assert_int_eq(check(3, "/s", ZAB_WATCHER_PERSISTENT), ZAB_OK);
}
END_TEST

START_TEST(acl_needs_read_permission)
{
    zab_acl_policy pol = { 0, { NULL, 0 } };
    add_as(1, "/p", ZAB_W_CHILD, alice, 2);
    /* NodeChildrenChanged is checked against the parent's list, which the
     * caller passes: every permission but READ is not enough. */
    fire_acl(ZAB_EVENT_CHILDREN_CHANGED, "/p", alice_writes, 1, &pol);
    ck_assert_int_eq(rec.n, 0);
    ck_counts(0, 0, 0);
    add_as(1, "/p", ZAB_W_CHILD, alice, 2);
    fire_acl(ZAB_EVENT_CHILDREN_CHANGED, "/p", alice_reads, 1, &pol);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 1, ZAB_EVENT_CHILDREN_CHANGED, "/p", 1);
}
END_TEST

START_TEST(acl_applies_to_recursive_watches_with_the_changed_nodes_list)
{
    zab_acl_policy pol = { 0, { NULL, 0 } };
    add_as(1, "/", ZAB_W_RECURSIVE, ip_only, 1);
    add_as(2, "/", ZAB_W_RECURSIVE, alice, 2);
    fire_acl(ZAB_EVENT_CREATED, "/secret/x", alice_reads, 1, &pol);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 2, ZAB_EVENT_CREATED, "/secret/x", 1);
    fire_acl(ZAB_EVENT_CREATED, "/open", zab_acl_open, 1, &pol);
    ck_assert_int_eq(rec.n, 3);
    ck_counts(2, 1, 2);
}
END_TEST

START_TEST(acl_identities_grow_with_the_connection)
{
    zab_acl_policy pol = { 0, { NULL, 0 } };
    add_as(1, "/a", ZAB_W_DATA, ip_only, 1);
    /* A later request after addAuth carries more identities; they hold for
     * every watch of the connection. */
    add_as(1, "/b", ZAB_W_DATA, alice, 2);
    fire_acl(ZAB_EVENT_DATA_CHANGED, "/a", alice_reads, 1, &pol);
    ck_assert_int_eq(rec.n, 1);
    ck_event(0, 1, ZAB_EVENT_DATA_CHANGED, "/a", 1);
}
END_TEST

START_TEST(acl_skip_super_and_empty_list)
{
    zab_acl_policy skip = { 1, { NULL, 0 } };
    zab_acl_policy none = { 0, { NULL, 0 } };
    static const zab_id root[] = {
        { ZAB_STR("digest"), ZAB_STR("root:cm9vdHJvb3Ryb290cm9vdHJvb3Q=") },
    };
    zab_acl_policy super = { 0, ZAB_STR("root:cm9vdHJvb3Ryb290cm9vdHJvb3Q=") };

    add_as(1, "/a", ZAB_W_PERSISTENT, ip_only, 1);
    add_as(2, "/a", ZAB_W_PERSISTENT, root, 1);
    fire_acl(ZAB_EVENT_DATA_CHANGED, "/a", alice_reads, 1, &skip);
    ck_assert_int_eq(rec.n, 2);
    fire_acl(ZAB_EVENT_DATA_CHANGED, "/a", alice_reads, 1, &super);
    ck_assert_int_eq(rec.n, 3);
    ck_assert_int_eq(rec.ev[2].watcher, 2);
    fire_acl(ZAB_EVENT_DATA_CHANGED, "/a", alice_reads, 1, &none);
    ck_assert_int_eq(rec.n, 3);
    fire_acl(ZAB_EVENT_DATA_CHANGED, "/a", NULL, 0, &none); /* empty list: open */
    ck_assert_int_eq(rec.n, 5);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Against a plain model                                                     */
/* ------------------------------------------------------------------------ */

/* The rules restated naively over a small (watcher x path) grid: random
 * adds, removes, drops and fires must agree with it on every event and
 * count, which exercises record reuse and list surgery in every order. */
enum { MW = 6, MP = 9 };
static const char *const model_paths[MP] = { "/",     "/a",   "/a/b", "/a/b/c", "/ab",
                                             "/b",    "/b/a", "/a/c", "/ab/b" };

/* Index of path's parent in model_paths, -1 for the root. */
static int model_parent(int p)
{
    static const int parent[MP] = { -1, 0, 1, 2, 0, 0, 5, 1, 4 };
    return parent[p];
}

static uint64_t model_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void model_fire(unsigned kinds[MW][MP], int32_t type, int p, int expect[MW])
{
    unsigned match = type == ZAB_EVENT_CHILDREN_CHANGED ? ZAB_W_CHILD | ZAB_W_PERSISTENT
                     : type == ZAB_EVENT_DELETED        ? 15u
                                                        : ZAB_W_DATA | ZAB_W_PERSISTENT |
                                                              ZAB_W_RECURSIVE;
    for (int i = 0; i < MW; i++) {
        unsigned hit = kinds[i][p] & match;
        expect[i] = hit != 0;
        kinds[i][p] &= ~(hit & (ZAB_W_DATA | ZAB_W_CHILD));
        if (type == ZAB_EVENT_CHILDREN_CHANGED)
            continue;
        for (int a = model_parent(p); a >= 0; a = model_parent(a))
            expect[i] |= (kinds[i][a] & ZAB_W_RECURSIVE) != 0;
    }
}

static void model_counts(unsigned kinds[MW][MP])
{
    uint64_t regs = 0, paths = 0, watchers = 0;
    for (int p = 0; p < MP; p++) {
        int any = 0;
        for (int i = 0; i < MW; i++)
            any |= kinds[i][p] != 0;
        paths += any;
    }
    for (int i = 0; i < MW; i++) {
        int any = 0;
        for (int p = 0; p < MP; p++) {
            for (unsigned k = kinds[i][p]; k; k &= k - 1)
                regs++;
            any |= kinds[i][p] != 0;
        }
        watchers += any;
    }
    ck_counts(regs, paths, watchers);
}

START_TEST(random_operations_match_the_model)
{
    static const int32_t types[4] = { ZAB_EVENT_CREATED, ZAB_EVENT_DELETED,
                                      ZAB_EVENT_DATA_CHANGED, ZAB_EVENT_CHILDREN_CHANGED };
    static const int32_t wtypes[5] = { ZAB_WATCHER_CHILDREN, ZAB_WATCHER_DATA,
                                       ZAB_WATCHER_ANY, ZAB_WATCHER_PERSISTENT,
                                       ZAB_WATCHER_PERSISTENT_RECURSIVE };
    static const unsigned wkinds[5] = { ZAB_W_CHILD, ZAB_W_DATA, 15u, ZAB_W_PERSISTENT,
                                        ZAB_W_RECURSIVE };
    unsigned kinds[MW][MP];
    memset(kinds, 0, sizeof kinds);
    uint64_t seed = 7;
    for (int step = 0; step < 20000; step++) {
        uint64_t r = model_rand(&seed);
        int op = (int)(r % 10), i = (int)((r >> 8) % MW), p = (int)((r >> 16) % MP);
        if (op < 4) {
            unsigned kind = 1u << (r >> 24) % 4;
            add(i + 100, model_paths[p], kind);
            kinds[i][p] |= kind;
        } else if (op < 6) {
            int t = (int)((r >> 24) % 5), only = (int)((r >> 40) & 1);
            unsigned hit = kinds[i][p] & wkinds[t];
            int rc = zab_watches_remove(w, i + 100, zab_str_c(model_paths[p]), wtypes[t], only);
            ck_assert_int_eq(rc, hit ? ZAB_OK : ZAB_ENOWATCHER);
            if (!only)
                kinds[i][p] &= ~hit;
        } else if (op < 7) {
            if ((r >> 24) % 8 == 0) {
                zab_watches_drop(w, i + 100);
                memset(kinds[i], 0, sizeof kinds[i]);
            }
        } else {
            int32_t type = types[(r >> 24) % 4];
            int expect[MW];
            model_fire(kinds, type, p, expect);
            rec.n = 0;
            fire(type, model_paths[p], step);
            int want = 0;
            for (int k = 0; k < MW; k++) {
                want += expect[k];
                ck_assert_int_eq(events_for(k + 100), expect[k]);
            }
            ck_assert_int_eq(rec.n, want);
            for (int e = 0; e < rec.n; e++)
                ck_event(e, rec.ev[e].watcher, type, model_paths[p], step);
        }
        model_counts(kinds);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Scale                                                                     */
/* ------------------------------------------------------------------------ */

static void count_only(void *ctx, int64_t watcher, const zab_event *ev)
{
    (void)watcher;
    (void)ev;
    (*(uint64_t *)ctx)++;
}

START_TEST(million_registrations)
{
    enum { NW = 1000, NP = 1000 };
    uint64_t delivered = 0;
    zab_watches *q = zab_watches_new(count_only, &delivered);
    ck_assert_ptr_nonnull(q);
    static char names[NP][24];
    for (int p = 0; p < NP; p++)
        snprintf(names[p], sizeof names[p], "/app/node%04d", p);
    /* One check at the end: Check records every assertion it evaluates. */
    int failed = 0;
    for (int64_t id = 1; id <= NW; id++) {
        for (int p = 0; p < NP; p++) {
            unsigned kind = p % 2 ? ZAB_W_DATA : ZAB_W_CHILD;
            failed += zab_watches_add(q, id, zab_str_c(names[p]), kind, ip_only, 1) != ZAB_OK;
        }
    }
    ck_assert_int_eq(failed, 0);
    uint64_t regs, paths, watchers;
    zab_watches_count(q, &regs, &paths, &watchers);
    ck_assert_uint_eq(regs, (uint64_t)NW * NP);
    ck_assert_uint_eq(paths, NP);
    ck_assert_uint_eq(watchers, NW);

    /* One write on a watched path reaches every watcher once. */
    zab_watches_fire(q, ZAB_EVENT_DATA_CHANGED, ZAB_STR("/app/node0001"), 1, NULL, 0, NULL);
    ck_assert_uint_eq(delivered, NW);
    zab_watches_count(q, &regs, &paths, &watchers);
    ck_assert_uint_eq(regs, (uint64_t)NW * NP - NW);
    ck_assert_uint_eq(paths, NP - 1);

    for (int64_t id = 1; id <= NW; id++)
        zab_watches_drop(q, id);
    zab_watches_count(q, &regs, &paths, &watchers);
    ck_assert_uint_eq(regs, 0);
    ck_assert_uint_eq(paths, 0);
    ck_assert_uint_eq(watchers, 0);
    zab_watches_fire(q, ZAB_EVENT_DATA_CHANGED, ZAB_STR("/app/node0002"), 2, NULL, 0, NULL);
    ck_assert_uint_eq(delivered, NW);
    zab_watches_free(q);
}
END_TEST

static Suite *watch_suite(void)
{
    Suite *s = suite_create("watch");
    TCase *t = tcase_create("standard");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, data_watch_fires_once);
    tcase_add_test(t, data_watch_ignores_other_paths_and_types);
    tcase_add_test(t, exist_watch_fires_created);
    tcase_add_test(t, child_watch_fires_on_parent_path);
    tcase_add_test(t, child_watch_survives_data_change_and_create);
    tcase_add_test(t, child_watch_on_root);
    tcase_add_test(t, delete_with_data_and_child_watch_sends_one_event);
    tcase_add_test(t, data_change_leaves_the_child_watch);
    tcase_add_test(t, two_watchers_on_one_path_both_fire);
    tcase_add_test(t, repeated_registration_is_one_watch);
    tcase_add_test(t, many_watchers_mixed_kinds_on_one_path);
    suite_add_tcase(s, t);

    t = tcase_create("persistent");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, persistent_fires_repeatedly);
    tcase_add_test(t, recursive_fires_for_descendants);
    tcase_add_test(t, recursive_stays_inside_its_subtree);
    tcase_add_test(t, only_recursive_watches_look_down);
    tcase_add_test(t, recursive_on_root_sees_everything);
    tcase_add_test(t, nested_recursive_watches_send_one_event);
    tcase_add_test(t, standard_and_persistent_coexist);
    tcase_add_test(t, standard_child_and_recursive_coexist);
    tcase_add_test(t, recursive_ancestor_and_data_watch_send_one_event);
    suite_add_tcase(s, t);

    t = tcase_create("remove");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, check_and_remove_data);
    tcase_add_test(t, check_and_remove_children);
    tcase_add_test(t, check_and_remove_persistent);
    tcase_add_test(t, check_and_remove_recursive);
    tcase_add_test(t, remove_one_kind_keeps_the_others);
    tcase_add_test(t, remove_any_takes_every_kind_of_one_pair);
    tcase_add_test(t, remove_unknown_type_matches_nothing);
    tcase_add_test(t, remove_on_empty_manager);
    tcase_add_test(t, drop_forgets_one_watcher);
    tcase_add_test(t, last_registration_going_mid_fire_or_drop);
    tcase_add_test(t, clear_forgets_everything);
    tcase_add_test(t, send_delivers_directly);
    tcase_add_test(t, null_callback_still_consumes);
    tcase_add_test(t, paths_are_bytes);
    suite_add_tcase(s, t);

    t = tcase_create("acl");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, acl_filters_delivery_and_still_consumes);
    tcase_add_test(t, acl_needs_read_permission);
    tcase_add_test(t, acl_applies_to_recursive_watches_with_the_changed_nodes_list);
    tcase_add_test(t, acl_identities_grow_with_the_connection);
    tcase_add_test(t, acl_skip_super_and_empty_list);
    suite_add_tcase(s, t);

    t = tcase_create("model");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, random_operations_match_the_model);
    suite_add_tcase(s, t);

    t = tcase_create("scale");
    /* Well under a second natively; valgrind needs far longer. */
    tcase_set_timeout(t, 120);
    tcase_add_test(t, million_registrations);
    suite_add_tcase(s, t);
    return s;
}

ZAB_CHECK_MAIN(watch_suite)
