/*
 * watch.c - the watch manager.
 *
 * Three pools of fixed-size records, addressed by 32-bit index and each
 * found through a chained hash index:
 *
 *   paths     one per watched path; owns the only copy of its string
 *   watchers  one per connection holding a watch; owns its identities
 *   regs      one per (watcher, path) pair: the kind bits plus the links that
 *             thread it into its path's list and its watcher's list
 *
 * A registration costs its 32-byte record in a pool array plus one bucket
 * slot of 4 bytes at most, never an allocation of its own. The lists are
 * doubly linked, so consuming a one-shot watch or removing one is O(1),
 * dropping a watcher is O(its registrations), and firing on a path nobody
 * watches is one hash lookup. A path (watcher) record is released with its
 * last registration; pool capacity is kept for reuse until no registration
 * is left at all.
 *
 * Only zab_watches_add allocates, and it reserves everything it may need
 * before it changes anything, so ZAB_ENOMEM leaves the state as it was.
 *
 * ZooKeeper keeps two tables, data and child. Here one reg carries bits for
 * both: ZAB_W_DATA and ZAB_W_RECURSIVE live in the data table, ZAB_W_CHILD in
 * the child table, ZAB_W_PERSISTENT in both. So the data table at P is the
 * regs at P with DATA, PERSISTENT or RECURSIVE, the child table those with
 * CHILD or PERSISTENT.
 *
 * What ZooKeeper 3.9 does when a change fires (WatchManager.triggerWatch,
 * DataTree.createNode/deleteNode/setData, NIOServerCnxn/NettyServerCnxn
 * .process), and so what zab_watches_fire does:
 *  - the watchers of one trigger form a set: a watcher that matches several
 *    ways (standard and persistent on P, a recursive watch on two ancestors,
 *    a data and a child watch on a deleted node) is sent one event;
 *  - at the changed path every mode fires and the standard mode is removed;
 *    on an ancestor only PERSISTENT_RECURSIVE fires, and the walk up is
 *    skipped while no recursive watch exists;
 *  - the one-shot entries leave the table before any event is delivered; the
 *    delivery then checks READ against the ACL list the trigger was given
 *    and silently drops the event when the connection lacks it. So a
 *    filtered event still consumes the one-shot watch;
 *  - that list is the changed node's for NodeCreated, NodeDeleted and
 *    NodeDataChanged (also when the watch is a recursive one on an ancestor:
 *    the ancestor's own ACL plays no part) and the parent's for
 *    NodeChildrenChanged. The check applies alike to standard, persistent
 *    and recursive watches. A 3.8.0 server shows the same: an exist watch
 *    on a node then created with an ACL the watcher cannot read sends
 *    nothing and is gone, and a child watch fires under a readable parent
 *    whatever the new child's ACL.
 */
#include "tree/watch.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/prim.h"

#define NIL UINT32_MAX
#define KIND_ALL (ZAB_W_DATA | ZAB_W_CHILD | ZAB_W_PERSISTENT | ZAB_W_RECURSIVE)
#define KIND_ONESHOT (ZAB_W_DATA | ZAB_W_CHILD)
/* Pool and bucket counts stay well below NIL. */
#define POOL_MAX (UINT32_MAX / 2)
#define POOL_MIN 16

enum { BY_PATH, BY_WATCHER };

/* A list head's prev link points at the tail, so appending is O(1) and
 * events go out in registration order. */
typedef struct wreg {
    uint32_t watcher, path;
    uint32_t next[2], prev[2]; /* [BY_PATH], [BY_WATCHER] */
    uint32_t hnext;            /* index chain; free list */
    uint32_t kind;             /* ZAB_W_* bits; 0 = free record */
} wreg;

typedef struct wpath {
    char *str;
    uint64_t hash;
    uint32_t len;
    uint32_t head;  /* first reg; NIL = free record */
    uint32_t hnext;
} wpath;

typedef struct wwatcher {
    int64_t id;
    zab_id *auth;   /* one allocation: the array, then the string bytes */
    uint32_t nauth;
    uint32_t head;  /* first reg; NIL = free record */
    uint32_t hnext;
    uint32_t stamp; /* the fire that last delivered to it */
} wwatcher;

/* A pool's bookkeeping: records [0, len) have been used, free ones are
 * chained through hnext from free. */
typedef struct wpool {
    uint32_t len, cap, live, free;
} wpool;

/* Chained hash index: mask + 1 buckets (a power of two), or none. */
typedef struct windex {
    uint32_t *bucket;
    uint32_t mask;
} windex;

struct zab_watches {
    zab_watch_fn fn;
    void *ctx;
    uint64_t seed;
    wreg *regs;
    wpath *paths;
    wwatcher *watchers;
    wpool reg_pool, path_pool, watcher_pool;
    windex reg_index, path_index, watcher_index;
    uint64_t kinds;     /* (watcher, path, kind) triples: bits over all regs */
    uint64_t recursive; /* regs holding ZAB_W_RECURSIVE */
    uint32_t stamp;     /* current fire, for one event per watcher */
    int firing;         /* inside a callback: re-entry is a caller bug */
};

/* ------------------------------------------------------------------------ */
/* Hashing and lookup                                                        */
/* ------------------------------------------------------------------------ */

static uint64_t hash_path(const zab_watches *w, zab_str path)
{
    return zab_hash64(path.ptr, path.len, w->seed);
}

static uint64_t hash_watcher(const zab_watches *w, int64_t id)
{
    return zab_hash64(&id, sizeof id, w->seed);
}

static uint64_t hash_pair(const zab_watches *w, uint32_t watcher, uint32_t path)
{
    uint32_t key[2] = { watcher, path };
    return zab_hash64(key, sizeof key, w->seed);
}

static uint32_t *bucket_of(const windex *x, uint64_t hash)
{
    assert(x->bucket);
    return &x->bucket[hash & x->mask];
}

static uint32_t path_find(const zab_watches *w, zab_str path, uint64_t hash)
{
    if (!w->path_index.bucket)
        return NIL;
    uint32_t i = *bucket_of(&w->path_index, hash);
    for (; i != NIL; i = w->paths[i].hnext) {
        const wpath *p = &w->paths[i];
        if (p->hash == hash && p->len == path.len &&
            (path.len == 0 || memcmp(p->str, path.ptr, path.len) == 0))
            return i;
    }
    return NIL;
}

static uint32_t watcher_find(const zab_watches *w, int64_t id)
{
    if (!w->watcher_index.bucket)
        return NIL;
    uint32_t i = *bucket_of(&w->watcher_index, hash_watcher(w, id));
    while (i != NIL && w->watchers[i].id != id)
        i = w->watchers[i].hnext;
    return i;
}

static uint32_t reg_find(const zab_watches *w, uint32_t watcher, uint32_t path,
                         uint64_t hash)
{
    if (!w->reg_index.bucket)
        return NIL;
    uint32_t i = *bucket_of(&w->reg_index, hash);
    while (i != NIL && (w->regs[i].watcher != watcher || w->regs[i].path != path))
        i = w->regs[i].hnext;
    return i;
}

/* ------------------------------------------------------------------------ */
/* Growth: everything add may need is reserved before anything changes       */
/* ------------------------------------------------------------------------ */

/* arr, or arr moved to a bigger block, with room for one more record;
 * NULL when memory runs out (arr is then untouched). */
static void *pool_reserve(void *arr, wpool *p, size_t elem)
{
    if (p->free != NIL || p->len < p->cap)
        return arr;
    uint32_t cap = p->cap ? p->cap * 2 : POOL_MIN;
    if (cap > POOL_MAX || cap > SIZE_MAX / elem)
        return NULL;
    void *grown = realloc(arr, (size_t)cap * elem);
    if (grown)
        p->cap = cap;
    return grown;
}

/* A bigger bucket array for x when live + 1 records would exceed one per
 * bucket, all NIL; *fresh stays NULL when x is big enough. */
static int index_prepare(const windex *x, uint32_t live, uint32_t **fresh,
                         uint32_t *mask)
{
    *fresh = NULL;
    uint64_t size = x->bucket ? (uint64_t)x->mask + 1 : 0;
    if (live + (uint64_t)1 <= size)
        return ZAB_OK;
    size = size ? size * 2 : POOL_MIN;
    if (size > POOL_MAX || size > SIZE_MAX / sizeof(uint32_t))
        return ZAB_ENOMEM;
    *fresh = malloc((size_t)size * sizeof(uint32_t));
    if (!*fresh)
        return ZAB_ENOMEM;
    memset(*fresh, 0xff, (size_t)size * sizeof(uint32_t)); /* every one NIL */
    *mask = (uint32_t)(size - 1);
    return ZAB_OK;
}

static void rehash_paths(zab_watches *w)
{
    for (uint32_t i = 0; i < w->path_pool.len; i++) {
        wpath *p = &w->paths[i];
        if (p->head == NIL)
            continue;
        uint32_t *b = bucket_of(&w->path_index, p->hash);
        p->hnext = *b;
        *b = i;
    }
}

static void rehash_watchers(zab_watches *w)
{
    for (uint32_t i = 0; i < w->watcher_pool.len; i++) {
        wwatcher *a = &w->watchers[i];
        if (a->head == NIL)
            continue;
        uint32_t *b = bucket_of(&w->watcher_index, hash_watcher(w, a->id));
        a->hnext = *b;
        *b = i;
    }
}

static void rehash_regs(zab_watches *w)
{
    for (uint32_t i = 0; i < w->reg_pool.len; i++) {
        wreg *r = &w->regs[i];
        if (!r->kind)
            continue;
        uint32_t *b = bucket_of(&w->reg_index, hash_pair(w, r->watcher, r->path));
        r->hnext = *b;
        *b = i;
    }
}

/* Swap in a bucket array from index_prepare; the free lists thread through
 * hnext too, but only through free records, which rehashing skips. */
static void index_install(zab_watches *w, windex *x, uint32_t *fresh, uint32_t mask,
                          void (*rehash)(zab_watches *))
{
    if (!fresh)
        return;
    free(x->bucket);
    x->bucket = fresh;
    x->mask = mask;
    rehash(w);
}

/* Capacity for one new record of each kind asked for. A pool that grew
 * stays grown on failure, which changes nothing visible. */
static int reserve(zab_watches *w, int watcher, int path, int reg)
{
    uint32_t *fresh[3] = { NULL, NULL, NULL };
    uint32_t mask[3] = { 0, 0, 0 };
    void *v;
    if (watcher) {
        if (!(v = pool_reserve(w->watchers, &w->watcher_pool, sizeof *w->watchers)))
            goto oom;
        w->watchers = v;
        if (index_prepare(&w->watcher_index, w->watcher_pool.live, &fresh[0], &mask[0]))
            goto oom;
    }
    if (path) {
        if (!(v = pool_reserve(w->paths, &w->path_pool, sizeof *w->paths)))
            goto oom;
        w->paths = v;
        if (index_prepare(&w->path_index, w->path_pool.live, &fresh[1], &mask[1]))
            goto oom;
    }
    if (reg) {
        if (!(v = pool_reserve(w->regs, &w->reg_pool, sizeof *w->regs)))
            goto oom;
        w->regs = v;
        if (index_prepare(&w->reg_index, w->reg_pool.live, &fresh[2], &mask[2]))
            goto oom;
    }
    index_install(w, &w->watcher_index, fresh[0], mask[0], rehash_watchers);
    index_install(w, &w->path_index, fresh[1], mask[1], rehash_paths);
    index_install(w, &w->reg_index, fresh[2], mask[2], rehash_regs);
    return ZAB_OK;

oom:
    free(fresh[0]);
    free(fresh[1]);
    free(fresh[2]);
    return ZAB_ENOMEM;
}

/* One allocation holding a copy of auth[0..n) and its strings. */
static zab_id *ids_copy(const zab_id *auth, uint32_t n)
{
    if (n && SIZE_MAX / n < sizeof(zab_id))
        return NULL;
    size_t total = (size_t)n * sizeof(zab_id);
    for (uint32_t i = 0; i < n; i++) {
        size_t more = (size_t)auth[i].scheme.len + auth[i].id.len;
        if (more > SIZE_MAX - total)
            return NULL;
        total += more;
    }
    zab_id *out = malloc(total ? total : 1);
    if (!out)
        return NULL;
    char *s = (char *)(out + n);
    for (uint32_t i = 0; i < n; i++) {
        const zab_str *from[2] = { &auth[i].scheme, &auth[i].id };
        zab_str *to[2] = { &out[i].scheme, &out[i].id };
        for (int k = 0; k < 2; k++) {
            if (from[k]->len)
                memcpy(s, from[k]->ptr, from[k]->len);
            *to[k] = (zab_str){ s, from[k]->len };
            s += from[k]->len;
        }
    }
    return out;
}

/* ------------------------------------------------------------------------ */
/* Records and lists (nothing here allocates)                                */
/* ------------------------------------------------------------------------ */

static void list_append(wreg *regs, uint32_t *head, int by, uint32_t r)
{
    regs[r].next[by] = NIL;
    if (*head == NIL) {
        regs[r].prev[by] = r;
        *head = r;
        return;
    }
    uint32_t tail = regs[*head].prev[by];
    regs[tail].next[by] = r;
    regs[r].prev[by] = tail;
    regs[*head].prev[by] = r;
}

static void list_unlink(wreg *regs, uint32_t *head, int by, uint32_t r)
{
    uint32_t next = regs[r].next[by], prev = regs[r].prev[by];
    if (r == *head)
        *head = next;
    else
        regs[prev].next[by] = next;
    if (next != NIL)
        regs[next].prev[by] = prev;
    else if (*head != NIL)
        regs[*head].prev[by] = prev; /* r was the tail */
}

/* Claim a record: the head of the free list (next_free is its hnext), else
 * the first never-used one. Capacity was reserved beforehand. */
static uint32_t pool_take(wpool *p, uint32_t next_free)
{
    uint32_t i = p->free;
    if (i != NIL) {
        p->free = next_free;
    } else {
        assert(p->len < p->cap);
        i = p->len++;
    }
    p->live++;
    return i;
}

static uint32_t watcher_new(zab_watches *w, int64_t id)
{
    wpool *p = &w->watcher_pool;
    uint32_t i = pool_take(p, p->free != NIL ? w->watchers[p->free].hnext : NIL);
    uint32_t *b = bucket_of(&w->watcher_index, hash_watcher(w, id));
    w->watchers[i] = (wwatcher){ .id = id, .head = NIL, .hnext = *b };
    *b = i;
    return i;
}

/* str (len bytes) becomes the record's. */
static uint32_t path_new(zab_watches *w, char *str, uint32_t len, uint64_t hash)
{
    wpool *p = &w->path_pool;
    uint32_t i = pool_take(p, p->free != NIL ? w->paths[p->free].hnext : NIL);
    uint32_t *b = bucket_of(&w->path_index, hash);
    w->paths[i] = (wpath){ .str = str, .hash = hash, .len = len, .head = NIL,
                           .hnext = *b };
    *b = i;
    return i;
}

static uint32_t reg_new(zab_watches *w, uint32_t wi, uint32_t pi, uint64_t hash)
{
    wpool *p = &w->reg_pool;
    uint32_t i = pool_take(p, p->free != NIL ? w->regs[p->free].hnext : NIL);
    uint32_t *b = bucket_of(&w->reg_index, hash);
    w->regs[i] = (wreg){ .watcher = wi, .path = pi, .hnext = *b };
    *b = i;
    list_append(w->regs, &w->paths[pi].head, BY_PATH, i);
    list_append(w->regs, &w->watchers[wi].head, BY_WATCHER, i);
    return i;
}

static void path_release(zab_watches *w, uint32_t i)
{
    wpath *p = &w->paths[i];
    assert(p->head == NIL);
    uint32_t *link = bucket_of(&w->path_index, p->hash);
    while (*link != i)
        link = &w->paths[*link].hnext;
    *link = p->hnext;
    free(p->str);
    p->str = NULL;
    p->hnext = w->path_pool.free;
    w->path_pool.free = i;
    w->path_pool.live--;
}

static void watcher_release(zab_watches *w, uint32_t i)
{
    wwatcher *a = &w->watchers[i];
    assert(a->head == NIL);
    uint32_t *link = bucket_of(&w->watcher_index, hash_watcher(w, a->id));
    while (*link != i)
        link = &w->watchers[*link].hnext;
    *link = a->hnext;
    free(a->auth);
    a->auth = NULL;
    a->nauth = 0;
    a->hnext = w->watcher_pool.free;
    w->watcher_pool.free = i;
    w->watcher_pool.live--;
}

/* Release every record and all pool and index memory. */
static void storage_free(zab_watches *w)
{
    for (uint32_t i = 0; i < w->path_pool.len; i++)
        free(w->paths[i].str);
    for (uint32_t i = 0; i < w->watcher_pool.len; i++)
        free(w->watchers[i].auth);
    free(w->regs);
    free(w->paths);
    free(w->watchers);
    free(w->reg_index.bucket);
    free(w->path_index.bucket);
    free(w->watcher_index.bucket);
    w->regs = NULL;
    w->paths = NULL;
    w->watchers = NULL;
    w->reg_index = w->path_index = w->watcher_index = (windex){ NULL, 0 };
    w->reg_pool = w->path_pool = w->watcher_pool = (wpool){ 0, 0, 0, NIL };
    w->kinds = w->recursive = 0;
}

/* Unlink reg r everywhere; its path and watcher go with their last reg. */
static void reg_release(zab_watches *w, uint32_t r)
{
    wreg *g = &w->regs[r];
    uint32_t pi = g->path, wi = g->watcher;
    list_unlink(w->regs, &w->paths[pi].head, BY_PATH, r);
    list_unlink(w->regs, &w->watchers[wi].head, BY_WATCHER, r);
    uint32_t *link = bucket_of(&w->reg_index, hash_pair(w, wi, pi));
    while (*link != r)
        link = &w->regs[*link].hnext;
    *link = g->hnext;
    g->kind = 0;
    g->hnext = w->reg_pool.free;
    w->reg_pool.free = r;
    w->reg_pool.live--;
    if (w->paths[pi].head == NIL)
        path_release(w, pi);
    if (w->watchers[wi].head == NIL)
        watcher_release(w, wi);
    /* Once the last registration goes, a burst of watches leaves no pools
     * behind; the smallest ones stay so a lone watch set and fired over
     * and over does not allocate each time. */
    if (!w->reg_pool.live && w->reg_pool.cap > POOL_MIN)
        storage_free(w);
}

static unsigned kind_bits(unsigned kind)
{
    return (kind & 1) + (kind >> 1 & 1) + (kind >> 2 & 1) + (kind >> 3 & 1);
}

/* Give reg r the kind bits `kind`; none left releases it. */
static void reg_set_kind(zab_watches *w, uint32_t r, unsigned kind)
{
    unsigned old = w->regs[r].kind;
    w->kinds = w->kinds - kind_bits(old) + kind_bits(kind);
    w->recursive = w->recursive - !!(old & ZAB_W_RECURSIVE) + !!(kind & ZAB_W_RECURSIVE);
    if (kind)
        w->regs[r].kind = kind;
    else
        reg_release(w, r);
}

/* ------------------------------------------------------------------------ */
/* The API                                                                   */
/* ------------------------------------------------------------------------ */

zab_watches *zab_watches_new(zab_watch_fn fn, void *ctx)
{
    zab_watches *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->fn = fn;
    w->ctx = ctx;
    /* Paths are chosen by clients, so the index is seeded against collision
     * flooding. No result depends on hash order (events follow list order),
     * so an address-derived seed costs replicas nothing. */
    w->seed = (uint64_t)(uintptr_t)w * UINT64_C(0x9e3779b97f4a7c15);
    storage_free(w);
    return w;
}

void zab_watches_clear(zab_watches *w)
{
    assert(!w->firing);
    storage_free(w);
}

void zab_watches_free(zab_watches *w)
{
    if (!w)
        return;
    zab_watches_clear(w);
    free(w);
}

int zab_watches_add(zab_watches *w, int64_t watcher, zab_str path, unsigned kind,
                    const zab_id *auth, uint32_t nauth)
{
    assert(!w->firing);
    assert(kind && !(kind & ~(unsigned)KIND_ALL));
    kind &= KIND_ALL;
    if (!kind)
        return ZAB_OK;
    uint64_t hash = hash_path(w, path);
    uint32_t wi = watcher_find(w, watcher), pi = path_find(w, path, hash);
    int known = wi != NIL && pi != NIL;
    uint64_t pair = known ? hash_pair(w, wi, pi) : 0;
    uint32_t ri = known ? reg_find(w, wi, pi, pair) : NIL;
    uint32_t had = wi != NIL ? w->watchers[wi].nauth : 0;
    zab_id *ids = NULL;
    char *str = NULL;

    if (nauth > had && !(ids = ids_copy(auth, nauth)))
        return ZAB_ENOMEM;
    if (pi == NIL && !(str = malloc(path.len ? path.len : 1)))
        goto oom;
    if (reserve(w, wi == NIL, pi == NIL, ri == NIL) != ZAB_OK)
        goto oom;

    /* From here on nothing can fail. */
    if (wi == NIL)
        wi = watcher_new(w, watcher);
    if (ids) {
        free(w->watchers[wi].auth);
        w->watchers[wi].auth = ids;
        w->watchers[wi].nauth = nauth;
    }
    if (pi == NIL) {
        if (path.len)
            memcpy(str, path.ptr, path.len);
        pi = path_new(w, str, path.len, hash);
    }
    if (ri == NIL)
        ri = reg_new(w, wi, pi, known ? pair : hash_pair(w, wi, pi));
    reg_set_kind(w, ri, w->regs[ri].kind | kind);
    return ZAB_OK;

oom:
    free(ids);
    free(str);
    return ZAB_ENOMEM;
}

static void notify(zab_watches *w, int64_t watcher, const zab_event *ev)
{
    if (!w->fn)
        return;
    w->firing = 1;
    w->fn(w->ctx, watcher, ev);
    w->firing = 0;
}

/* The regs at path record pi that hold a bit of match: one event to each
 * watcher not yet served by this fire, then their one-shot bits go. */
static void fire_at(zab_watches *w, uint32_t pi, unsigned match, const zab_event *ev,
                    const zab_acl *acl, uint32_t nacl, const zab_acl_policy *pol)
{
    uint32_t r = w->paths[pi].head;
    while (r != NIL) {
        /* Consuming r may release it, the path record or (with the last
         * registration) all storage, but never another reg, so its
         * successor stays valid and is NIL in those last cases. */
        uint32_t next = w->regs[r].next[BY_PATH];
        unsigned kind = w->regs[r].kind, hit = kind & match;
        if (hit) {
            wwatcher *a = &w->watchers[w->regs[r].watcher];
            if (a->stamp != w->stamp) {
                a->stamp = w->stamp;
                if (w->fn && zab_acl_check(pol, acl, nacl, ZAB_PERM_READ, a->auth,
                                           a->nauth) == ZAB_OK)
                    notify(w, a->id, ev);
            }
            if (hit & KIND_ONESHOT)
                reg_set_kind(w, r, kind & ~(hit & KIND_ONESHOT));
        }
        r = next;
    }
}

/* Shorten *p to its parent ("/a/b" to "/a" to "/"); 0 past the root. */
static int path_up(zab_str *p)
{
    if (p->len <= 1)
        return 0;
    uint32_t i = p->len - 1;
    while (i > 0 && p->ptr[i] != '/')
        i--;
    if (i == 0 && p->ptr[0] != '/')
        return 0;
    p->len = i ? i : 1;
    return 1;
}

static void next_stamp(zab_watches *w)
{
    if (++w->stamp != 0)
        return;
    /* Wrapped: forget every old stamp so none can equal a new one. */
    for (uint32_t i = 0; i < w->watcher_pool.len; i++)
        w->watchers[i].stamp = 0;
    w->stamp = 1;
}

void zab_watches_fire(zab_watches *w, int32_t type, zab_str path, int64_t zxid,
                      const zab_acl *acl, uint32_t nacl, const zab_acl_policy *pol)
{
    assert(!w->firing);
    unsigned match;
    switch (type) {
    case ZAB_EVENT_CREATED:
    case ZAB_EVENT_DATA_CHANGED:
        match = ZAB_W_DATA | ZAB_W_PERSISTENT | ZAB_W_RECURSIVE;
        break;
    case ZAB_EVENT_DELETED:
        match = KIND_ALL; /* both tables: one NodeDeleted per watcher */
        break;
    case ZAB_EVENT_CHILDREN_CHANGED:
        match = ZAB_W_CHILD | ZAB_W_PERSISTENT;
        break;
    default:
        return;
    }
    if (!w->reg_pool.live)
        return;
    zab_acl_policy none = { 0, { NULL, 0 } };
    if (!pol)
        pol = &none;
    zab_event ev = { type, ZAB_STATE_SYNC_CONNECTED, path, zxid };
    next_stamp(w);

    uint32_t pi = path_find(w, path, hash_path(w, path));
    if (pi != NIL)
        fire_at(w, pi, match, &ev, acl, nacl, pol);
    if (type == ZAB_EVENT_CHILDREN_CHANGED || !w->recursive)
        return;
    zab_str up = path;
    while (path_up(&up)) {
        pi = path_find(w, up, hash_path(w, up));
        if (pi != NIL)
            fire_at(w, pi, ZAB_W_RECURSIVE, &ev, acl, nacl, pol);
    }
}

void zab_watches_send(zab_watches *w, int64_t watcher, int32_t type, zab_str path,
                      int64_t zxid)
{
    assert(!w->firing);
    zab_event ev = { type, ZAB_STATE_SYNC_CONNECTED, path, zxid };
    notify(w, watcher, &ev);
}

/* The kind bits a ZAB_WATCHER_* type selects (DataTree.containsWatcher). */
static unsigned kinds_of_type(int32_t watcher_type)
{
    switch (watcher_type) {
    case ZAB_WATCHER_CHILDREN:
        return ZAB_W_CHILD;
    case ZAB_WATCHER_DATA:
        return ZAB_W_DATA;
    case ZAB_WATCHER_ANY:
        return KIND_ALL;
    case ZAB_WATCHER_PERSISTENT:
        return ZAB_W_PERSISTENT;
    case ZAB_WATCHER_PERSISTENT_RECURSIVE:
        return ZAB_W_RECURSIVE;
    default:
        return 0;
    }
}

int zab_watches_remove(zab_watches *w, int64_t watcher, zab_str path,
                       int32_t watcher_type, int only_check)
{
    assert(!w->firing);
    uint32_t wi = watcher_find(w, watcher);
    uint32_t pi = wi == NIL ? NIL : path_find(w, path, hash_path(w, path));
    uint32_t r = pi == NIL ? NIL : reg_find(w, wi, pi, hash_pair(w, wi, pi));
    unsigned hit = r == NIL ? 0 : w->regs[r].kind & kinds_of_type(watcher_type);
    if (!hit)
        return ZAB_ENOWATCHER;
    if (!only_check)
        reg_set_kind(w, r, w->regs[r].kind & ~hit);
    return ZAB_OK;
}

void zab_watches_drop(zab_watches *w, int64_t watcher)
{
    assert(!w->firing);
    uint32_t wi = watcher_find(w, watcher);
    if (wi == NIL)
        return;
    /* Releasing r leaves its successor in place; after the last one the
     * watcher record (or all storage) is gone, so it is not read again. */
    for (uint32_t r = w->watchers[wi].head, next; r != NIL; r = next) {
        next = w->regs[r].next[BY_WATCHER];
        reg_set_kind(w, r, 0);
    }
}

void zab_watches_count(const zab_watches *w, uint64_t *registrations,
                       uint64_t *paths, uint64_t *watchers)
{
    if (registrations)
        *registrations = w->kinds;
    if (paths)
        *paths = w->path_pool.live;
    if (watchers)
        *watchers = w->watcher_pool.live;
}
