#include "tree/pending.h"

#include <stdlib.h>
#include <string.h>

#include "util/prim.h"

static zab_str path_key(const void *item)
{
    const zab_change *c = item;
    zab_str k = { c->path, c->path_len };
    return k;
}

static zab_str session_key(const void *item)
{
    const zab_change *c = item;
    zab_str k = { (const char *)&c->session, sizeof(c->session) };
    return k;
}

static uint64_t path_hash(zab_str path)
{
    return zab_hash64(path.ptr, path.len, 0x9e4d);
}

static uint64_t session_hash(int64_t id)
{
    return zab_hash64(&id, sizeof(id), 0x9e55);
}

static int is_session(const zab_change *c)
{
    return c->session != 0;
}

static zab_ptab *table_of(zab_pending *p, const zab_change *c)
{
    return is_session(c) ? &p->sessions : &p->paths;
}

static zab_key_fn key_fn_of(const zab_change *c)
{
    return is_session(c) ? session_key : path_key;
}

zab_change *zab_pending_path(const zab_pending *p, zab_str path)
{
    if (!p->count) return NULL;
    return zab_ptab_find(&p->paths, path_hash(path), path, path_key);
}

zab_change *zab_pending_session(const zab_pending *p, int64_t session)
{
    if (!p->count) return NULL;
    zab_str k = { (const char *)&session, sizeof(session) };
    return zab_ptab_find(&p->sessions, session_hash(session), k, session_key);
}

/* Link c at the tail and make it the newest record of its key. */
static int publish(zab_pending *p, zab_change *c)
{
    zab_ptab *t = table_of(p, c);
    zab_key_fn key_of = key_fn_of(c);
    zab_change *old = zab_ptab_find(t, c->hash, key_of(c), key_of);
    if (old) {
        zab_ptab_replace(t, c->hash, key_of(c), key_of, c);
    } else if (zab_ptab_insert(t, c->hash, c)) {
        return ZAB_ENOMEM;
    }
    c->shadow = old;
    c->prev = p->tail;
    c->next = NULL;
    if (p->tail) p->tail->next = c;
    else p->head = c;
    p->tail = c;
    p->count++;
    return 0;
}

int zab_pending_put_path(zab_pending *p, int64_t zxid, zab_str path, const zab_nview *v)
{
    zab_change *c = malloc(sizeof(*c) + path.len + 1);
    if (!c) return ZAB_ENOMEM;
    memset(c, 0, sizeof(*c));
    c->zxid = zxid;
    c->v = *v;
    c->hash = path_hash(path);
    c->path_len = path.len;
    if (path.len) memcpy(c->path, path.ptr, path.len);
    c->path[path.len] = 0;
    if (publish(p, c)) {
        free(c);
        return ZAB_ENOMEM;
    }
    return 0;
}

int zab_pending_put_session(zab_pending *p, int64_t zxid, int64_t session, int open)
{
    zab_change *c = calloc(1, sizeof(*c) + 1);
    if (!c) return ZAB_ENOMEM;
    c->zxid = zxid;
    c->session = session;
    c->session_open = open;
    c->hash = session_hash(session);
    if (publish(p, c)) {
        free(c);
        return ZAB_ENOMEM;
    }
    return 0;
}

static void release(zab_change *c, zab_unref_fn unref, void *ctx)
{
    if (!is_session(c) && c->v.exists) unref(ctx, c->v.acl);
    free(c);
}

void zab_pending_rollback(zab_pending *p, zab_change *mark, zab_unref_fn unref, void *ctx)
{
    while (p->tail != mark) {
        zab_change *c = p->tail;
        zab_ptab *t = table_of(p, c);
        zab_key_fn key_of = key_fn_of(c);
        if (c->shadow) zab_ptab_replace(t, c->hash, key_of(c), key_of, c->shadow);
        else zab_ptab_remove(t, c->hash, key_of(c), key_of);
        p->tail = c->prev;
        if (p->tail) p->tail->next = NULL;
        else p->head = NULL;
        p->count--;
        release(c, unref, ctx);
    }
}

static void drop_head(zab_pending *p, zab_unref_fn unref, void *ctx)
{
    zab_change *c = p->head;
    zab_ptab *t = table_of(p, c);
    zab_key_fn key_of = key_fn_of(c);
    if (zab_ptab_find(t, c->hash, key_of(c), key_of) == c) zab_ptab_remove(t, c->hash, key_of(c), key_of);
    p->head = c->next;
    if (p->head) p->head->prev = NULL;
    else p->tail = NULL;
    p->count--;
    release(c, unref, ctx);
}

void zab_pending_applied(zab_pending *p, int64_t zxid, zab_unref_fn unref, void *ctx)
{
    while (p->head && p->head->zxid <= zxid) drop_head(p, unref, ctx);
}

void zab_pending_clear(zab_pending *p, zab_unref_fn unref, void *ctx)
{
    while (p->head) drop_head(p, unref, ctx);
    zab_ptab_free(&p->paths);
    zab_ptab_free(&p->sessions);
}
