/*
 * snapshot.c - the whole tree as bytes, and back.
 *
 * Format (version 1), big-endian; str = u32 length + bytes, or 0xffffffff
 * for null data:
 *
 *   header   8  magic "ZABSNAP\0"
 *            4  u32 format version (1)
 *            4  u32 reserved, 0
 *            8  i64 last applied zxid
 *            8  u64 digest of nodes and sessions (zab_tree_stats_get)
 *            8  u64 number of nodes
 *            8  u64 number of sessions
 *   sessions n x { i64 id, i32 timeout, 16 bytes password }
 *   acls     u32 count, count x { u32 entries, entries x { i32 perms,
 *            str scheme, str id } }; nodes name a list by its position
 *   nodes    depth first, parents before children, the root first:
 *            { str name (empty for the root), u32 children that follow,
 *              i64 czxid, mzxid, pzxid, ctime, mtime, owner,
 *              i32 version, cversion (children ever created), aversion,
 *              u32 acl position, str data }
 *   trailer  4  u32 CRC-32C of every byte before it
 *
 * Loading trusts nothing: lengths are bounded before anything is allocated
 * for them, counts only ever describe items that must then be read, names
 * must be non-empty, free of '/' and NUL and unique among siblings, owners
 * of ephemerals must be listed sessions, and both the checksum and the
 * digest recomputed from the loaded content must match. The snapshot is
 * built into a separate tree and swapped in only when all of that holds.
 *
 * A new format version is a new number here; a loader refuses versions it
 * does not know.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tree/tree.h"
#include "util/prim.h"

static const char MAGIC[8] = { 'Z', 'A', 'B', 'S', 'N', 'A', 'P', 0 };
enum { FORMAT = 1, HEADER_LEN = 56, IO_CHUNK = 64 * 1024, NAME_MAX_LEN = 1024 * 1024 };

/* ---- buffered output with a running CRC ---- */

typedef struct out {
    zab_write_fn write;
    void *ctx;
    uint32_t crc;
    size_t len;
    int err;
    uint8_t buf[IO_CHUNK];
} out;

static void flush(out *o)
{
    if (o->err || !o->len) return;
    o->crc = zab_crc32c(o->crc, o->buf, o->len);
    o->err = o->write(o->ctx, o->buf, o->len);
    o->len = 0;
}

static void put(out *o, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n && !o->err) {
        if (o->len == IO_CHUNK) flush(o);
        size_t k = IO_CHUNK - o->len < n ? IO_CHUNK - o->len : n;
        memcpy(o->buf + o->len, b, k);
        o->len += k;
        b += k;
        n -= k;
    }
}

static void put_u32(out *o, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    put(o, b, 4);
}

static void put_u64(out *o, uint64_t v)
{
    put_u32(o, (uint32_t)(v >> 32));
    put_u32(o, (uint32_t)v);
}

static void put_str(out *o, const void *p, int64_t len)
{
    put_u32(o, len < 0 ? UINT32_MAX : (uint32_t)len);
    if (len > 0) put(o, p, (size_t)len);
}

/* ---- save ---- */

static void save_sessions(out *o, const zab_tree *t)
{
    void *item;
    for (uint32_t i = 0; zab_ptab_next(&t->sessions.tab, &i, &item);) {
        const zab_session *se = item;
        put_u64(o, (uint64_t)se->id);
        put_u32(o, (uint32_t)se->timeout);
        put(o, se->passwd, sizeof(se->passwd));
    }
}

/* Live lists in index order; *position maps a cache index to its place. */
static int save_acls(out *o, const zab_tree *t, uint32_t **position)
{
    const zab_acl_cache *c = &t->acls;
    *position = malloc((c->len ? c->len : 1) * sizeof(**position));
    if (!*position) return ZAB_ENOMEM;
    put_u32(o, c->live);
    uint32_t next = 0;
    for (uint32_t i = 0; i < c->len; i++) {
        if (!c->v[i].refs) continue;
        (*position)[i] = next++;
        put_u32(o, c->v[i].n);
        for (uint32_t k = 0; k < c->v[i].n; k++) {
            const zab_acl *a = &c->v[i].list[k];
            put_u32(o, (uint32_t)a->perms);
            put_str(o, a->id.scheme.ptr, a->id.scheme.len);
            put_str(o, a->id.id.ptr, a->id.id.len);
        }
    }
    return 0;
}

static void save_node(out *o, const zab_znode *n, const uint32_t *position)
{
    put_str(o, n->bytes, n->name_len);
    put_u32(o, n->nchildren);
    int64_t f[6] = { n->czxid, n->mzxid, n->pzxid, n->ctime, n->mtime, n->owner };
    for (int i = 0; i < 6; i++) put_u64(o, (uint64_t)f[i]);
    put_u32(o, (uint32_t)n->version);
    put_u32(o, (uint32_t)n->cversion);
    put_u32(o, (uint32_t)n->aversion);
    put_u32(o, position[n->acl]);
    put_str(o, zab_znode_data(n), n->data_len);
}

/* Depth first without recursion: a stack of nodes yet to write. */
static int save_nodes(out *o, const zab_tree *t, const uint32_t *position)
{
    size_t cap = 256, len = 0;
    const zab_znode **stack = malloc(cap * sizeof(*stack));
    if (!stack) return ZAB_ENOMEM;
    stack[len++] = t->root;
    while (len && !o->err) {
        const zab_znode *n = stack[--len];
        save_node(o, n, position);
        if (len + n->nchildren > cap) {
            while (len + n->nchildren > cap) cap *= 2;
            const zab_znode **grown = realloc(stack, cap * sizeof(*stack));
            if (!grown) {
                free(stack);
                return ZAB_ENOMEM;
            }
            stack = grown;
        }
        /* Pushed in reverse so they pop (and are written) in table order. */
        size_t first = len;
        uint32_t i = 0;
        for (zab_znode *c; (c = zab_znode_next_child(n, &i));) stack[len++] = c;
        for (size_t a = first, b = len; a + 1 < b; a++, b--) {
            const zab_znode *tmp = stack[a];
            stack[a] = stack[b - 1];
            stack[b - 1] = tmp;
        }
    }
    free(stack);
    return 0;
}

int zab_tree_save(const zab_tree *t, zab_write_fn write, void *ctx)
{
    if (t->failed) return ZAB_EFAILED;
    out *o = calloc(1, sizeof(*o));
    if (!o) return ZAB_ENOMEM;
    o->write = write;
    o->ctx = ctx;
    put(o, MAGIC, sizeof(MAGIC));
    put_u32(o, FORMAT);
    put_u32(o, 0);
    put_u64(o, (uint64_t)t->last_zxid);
    put_u64(o, t->digest);
    put_u64(o, t->nodes);
    put_u64(o, t->sessions.tab.count);
    save_sessions(o, t);
    uint32_t *position = NULL;
    int rc = save_acls(o, t, &position);
    if (!rc) rc = save_nodes(o, t, position);
    free(position);
    if (!rc) {
        flush(o);
        uint32_t crc = o->crc;
        put_u32(o, crc);
        o->crc = 0;
        flush(o);
        rc = o->err;
    }
    free(o);
    return rc;
}

/* ---- buffered input with a running CRC ---- */

typedef struct in {
    zab_read_fn read;
    void *ctx;
    uint32_t crc;       /* of every byte consumed before buf[crc_from] */
    size_t crc_from;
    size_t pos, len;
    int err;
    uint8_t buf[IO_CHUNK];
} in;

static void fold_crc(in *s)
{
    s->crc = zab_crc32c(s->crc, s->buf + s->crc_from, s->pos - s->crc_from);
    s->crc_from = s->pos;
}

/* Next n bytes into dst. The checksum covers consumed bytes only, so the
 * reader may run ahead into the trailer. */
static void get(in *s, void *dst, size_t n)
{
    uint8_t *d = dst;
    while (n && !s->err) {
        if (s->pos == s->len) {
            fold_crc(s);
            long got = s->read(s->ctx, s->buf, IO_CHUNK);
            if (got <= 0 || (size_t)got > IO_CHUNK) {
                s->err = got < 0 && got >= INT32_MIN ? (int)got : ZAB_ECORRUPT;
                return;
            }
            s->pos = s->crc_from = 0;
            s->len = (size_t)got;
        }
        size_t k = s->len - s->pos < n ? s->len - s->pos : n;
        memcpy(d, s->buf + s->pos, k);
        s->pos += k;
        d += k;
        n -= k;
    }
}

static uint32_t get_u32(in *s)
{
    uint8_t b[4] = { 0 };
    get(s, b, 4);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t get_u64(in *s)
{
    uint64_t hi = get_u32(s);
    return hi << 32 | get_u32(s);
}

/* A string of at most max bytes into a fresh allocation (NULL for the
 * empty and the null string; *len -1 for null when allow_null). */
static char *get_str(in *s, uint32_t max, int allow_null, int64_t *len)
{
    uint32_t n = get_u32(s);
    *len = 0;
    if (s->err) return NULL;
    if (n == UINT32_MAX && allow_null) {
        *len = -1;
        return NULL;
    }
    if (n > max) {
        s->err = ZAB_ECORRUPT;
        return NULL;
    }
    *len = n;
    if (!n) return NULL;
    char *p = malloc(n);
    if (!p) {
        s->err = ZAB_ENOMEM;
        return NULL;
    }
    get(s, p, n);
    if (s->err) {
        free(p);
        return NULL;
    }
    return p;
}

static void fail(in *s, int rc)
{
    if (!s->err) s->err = rc;
}

/* ---- load ---- */

static void load_sessions(in *s, zab_tree *t, uint64_t count)
{
    for (uint64_t i = 0; i < count && !s->err; i++) {
        int64_t id = (int64_t)get_u64(s);
        int32_t timeout = (int32_t)get_u32(s);
        uint8_t passwd[16];
        get(s, passwd, sizeof(passwd));
        if (s->err) return;
        if (id == 0 || zab_sessions_find(&t->sessions, id)) return fail(s, ZAB_ECORRUPT);
        zab_session *se = zab_sessions_add(&t->sessions, id, timeout, passwd);
        if (!se) return fail(s, ZAB_ENOMEM);
        t->digest += zab_session_hash(se);
    }
}

/* One ACL list, interned into t; *idx its cache index. */
static void load_acl(in *s, zab_tree *t, uint32_t *idx)
{
    uint32_t n = get_u32(s);
    zab_acl *list = NULL;
    char **strings = NULL;
    uint32_t nstr = 0;
    /* Grow as entries are actually read: n is only a claim. */
    for (uint32_t i = 0; i < n && !s->err; i++) {
        if ((i & (i - 1)) == 0) {
            size_t cap = i ? (size_t)i * 2 : 1;
            zab_acl *l = realloc(list, cap * sizeof(*l));
            char **st = l ? realloc(strings, cap * 2 * sizeof(*st)) : NULL;
            if (l) list = l;
            if (st) strings = st;
            if (!l || !st) {
                fail(s, ZAB_ENOMEM);
                break;
            }
        }
        int64_t slen, ilen;
        list[i].perms = (int32_t)get_u32(s);
        char *scheme = get_str(s, NAME_MAX_LEN, 0, &slen);
        strings[nstr++] = scheme;
        char *id = get_str(s, NAME_MAX_LEN, 0, &ilen);
        strings[nstr++] = id;
        list[i].id.scheme = (zab_str){ scheme ? scheme : "", (uint32_t)slen };
        list[i].id.id = (zab_str){ id ? id : "", (uint32_t)ilen };
    }
    if (!s->err && zab_acl_intern(&t->acls, list, n, idx)) fail(s, ZAB_ENOMEM);
    for (uint32_t i = 0; i < nstr; i++) free(strings[i]);
    free(strings);
    free(list);
}

/* The lists, interned; *loaded counts those that hold a reference in the
 * returned map (the claimed count is only a claim). */
static uint32_t *load_acls(in *s, zab_tree *t, uint32_t *loaded)
{
    uint32_t claimed = get_u32(s);
    uint32_t *map = NULL;
    *loaded = 0;
    for (uint32_t i = 0; i < claimed && !s->err; i++) {
        if ((i & (i - 1)) == 0) {
            uint32_t *m = realloc(map, (i ? (size_t)i * 2 : 1) * sizeof(*m));
            if (!m) {
                fail(s, ZAB_ENOMEM);
                break;
            }
            map = m;
        }
        load_acl(s, t, &map[i]);
        if (!s->err) *loaded = i + 1;
    }
    return map;
}

/* The loader's path to the current node and the children still to come at
 * each level. */
typedef struct frame {
    zab_znode *node;
    uint32_t children_left;
    uint32_t path_len;
} frame;

typedef struct loader {
    in *s;
    zab_tree *t;
    const uint32_t *acl_map;
    uint32_t nacl;
    frame *stack;
    size_t depth, cap;
    char *path;
    size_t path_len, path_cap;
} loader;

static int name_ok(const char *name, int64_t len)
{
    if (len <= 0) return 0;
    for (int64_t i = 0; i < len; i++)
        if (name[i] == '/' || name[i] == 0) return 0;
    return 1;
}

static int path_append(loader *l, const char *name, uint32_t len, int is_root)
{
    size_t need = l->path_len + len + 1;
    if (need > l->path_cap) {
        size_t cap = l->path_cap ? l->path_cap : 256;
        while (cap < need) cap *= 2;
        char *p = realloc(l->path, cap);
        if (!p) return ZAB_ENOMEM;
        l->path = p;
        l->path_cap = cap;
    }
    if (is_root) {
        l->path[0] = '/';
        l->path_len = 1;
        return 0;
    }
    if (l->path_len > 1) l->path[l->path_len++] = '/';
    memcpy(l->path + l->path_len, name, len);
    l->path_len += len;
    return 0;
}

/* Read one node record into a new node, hung under the top of the stack. */
static zab_znode *load_node(loader *l, int is_root, uint32_t *nchildren)
{
    in *s = l->s;
    zab_tree *t = l->t;
    int64_t name_len, data_len;
    char *name = get_str(s, NAME_MAX_LEN, 0, &name_len);
    *nchildren = get_u32(s);
    int64_t f[6];
    for (int i = 0; i < 6; i++) f[i] = (int64_t)get_u64(s);
    int32_t version = (int32_t)get_u32(s), cversion = (int32_t)get_u32(s);
    int32_t aversion = (int32_t)get_u32(s);
    uint32_t acl = get_u32(s);
    char *data = get_str(s, t->cfg.max_data, 1, &data_len);
    zab_znode *n = NULL;
    if (s->err) goto done;
    if (is_root ? name_len != 0 : !name_ok(name, name_len)) goto corrupt;
    if (acl >= l->nacl) goto corrupt;
    zab_str nm = { name ? name : "", (uint32_t)name_len };
    zab_znode *parent = is_root ? NULL : l->stack[l->depth - 1].node;
    if (parent && zab_znode_child(parent, nm, t->seed, NULL)) goto corrupt;
    zab_kind kind = zab_owner_kind(f[5]);
    zab_session *owner = kind == ZAB_KIND_EPHEMERAL ? zab_sessions_find(&t->sessions, f[5]) : NULL;
    if (kind == ZAB_KIND_EPHEMERAL && !owner) goto corrupt;
    n = zab_znode_new(nm, data, (int32_t)data_len);
    if (!n || (parent && zab_znode_reserve_child(parent, t->seed))) {
        zab_znode_free(n);
        n = NULL;
        fail(s, ZAB_ENOMEM);
        goto done;
    }
    n->czxid = f[0], n->mzxid = f[1], n->pzxid = f[2], n->ctime = f[3], n->mtime = f[4];
    n->owner = f[5];
    n->version = version, n->cversion = cversion, n->aversion = aversion;
    n->acl = l->acl_map[acl];
    zab_acl_ref(&t->acls, n->acl);
    if (parent) zab_znode_add_child(parent, n, t->seed);
    else t->root = n;
    /* From here on the node belongs to the tree being built. */
    int rc = path_append(l, nm.ptr, nm.len, is_root);
    zab_str path = { l->path, (uint32_t)l->path_len };
    if (!rc && owner) rc = zab_strset_add(&owner->ephemerals, path);
    if (rc) {
        fail(s, rc);
        n = NULL;
        goto done;
    }
    t->ephemerals += owner != NULL;
    t->nodes++;
    t->data_bytes += path.len + (data_len > 0 ? (uint64_t)data_len : 0);
    goto done;
corrupt:
    fail(s, ZAB_ECORRUPT);
done:
    free(name);
    free(data);
    return n;
}

static int push(loader *l, zab_znode *n, uint32_t children)
{
    if (l->depth == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        frame *f = realloc(l->stack, cap * sizeof(*f));
        if (!f) return ZAB_ENOMEM;
        l->stack = f;
        l->cap = cap;
    }
    l->stack[l->depth++] = (frame){ n, children, (uint32_t)l->path_len };
    return 0;
}

/* Digest contribution of a loaded node (its children are not counted yet,
 * so it is added once the node's subtree is complete). */
static void finish_node(loader *l, const frame *f)
{
    zab_str path = { l->path, f->path_len };
    l->t->digest += zab_znode_meta_hash(l->t, path, f->node) + zab_znode_data_hash(path, f->node);
}

static void load_nodes(loader *l, uint64_t count)
{
    in *s = l->s;
    uint64_t seen = 0;
    do {
        /* Close every level whose children have all been read. */
        while (l->depth && l->stack[l->depth - 1].children_left == 0) {
            frame *f = &l->stack[--l->depth];
            l->path_len = f->path_len;
            finish_node(l, f);
            if (l->depth) {
                frame *up = &l->stack[l->depth - 1];
                l->path_len = up->path_len;
            }
        }
        if (seen && !l->depth) break;
        if (++seen > count) return fail(s, ZAB_ECORRUPT);
        if (l->depth) l->stack[l->depth - 1].children_left--;
        uint32_t nchildren;
        zab_znode *n = load_node(l, seen == 1, &nchildren);
        if (!n) return;
        if (nchildren > count - seen) return fail(s, ZAB_ECORRUPT);
        if (push(l, n, nchildren)) return fail(s, ZAB_ENOMEM);
    } while (!s->err);
    if (!s->err && seen != count) fail(s, ZAB_ECORRUPT);
}

/* Exchange everything a snapshot carries between two trees. */
static void swap_contents(zab_tree *a, zab_tree *b)
{
    zab_tree tmp = *a;
    a->root = b->root, b->root = tmp.root;
    a->acls = b->acls, b->acls = tmp.acls;
    a->sessions = b->sessions, b->sessions = tmp.sessions;
    a->last_zxid = b->last_zxid, b->last_zxid = tmp.last_zxid;
    a->digest = b->digest, b->digest = tmp.digest;
    a->nodes = b->nodes, b->nodes = tmp.nodes;
    a->ephemerals = b->ephemerals, b->ephemerals = tmp.ephemerals;
    a->data_bytes = b->data_bytes, b->data_bytes = tmp.data_bytes;
}

int zab_tree_load(zab_tree *t, zab_read_fn read, void *ctx)
{
    if (t->failed) return ZAB_EFAILED;
    in *s = calloc(1, sizeof(*s));
    zab_tree *fresh = calloc(1, sizeof(*fresh));
    if (!s || !fresh) {
        free(s);
        free(fresh);
        return ZAB_ENOMEM;
    }
    s->read = read;
    s->ctx = ctx;
    fresh->cfg = t->cfg;
    fresh->seed = t->seed;
    zab_acl_cache_init(&fresh->acls);

    char magic[8];
    get(s, magic, sizeof(magic));
    if (!s->err && (memcmp(magic, MAGIC, 8) || get_u32(s) != FORMAT || get_u32(s) != 0))
        fail(s, ZAB_ECORRUPT);
    int64_t last_zxid = (int64_t)get_u64(s);
    uint64_t digest = get_u64(s), nodes = get_u64(s), sessions = get_u64(s);
    load_sessions(s, fresh, sessions);
    loader l = { .s = s, .t = fresh };
    uint32_t *map = load_acls(s, fresh, &l.nacl);
    l.acl_map = map;
    if (!s->err) load_nodes(&l, nodes);
    /* Each loaded list holds one reference for the map; nodes hold theirs. */
    for (uint32_t i = 0; i < l.nacl; i++) zab_acl_unref(&fresh->acls, map[i]);
    free(map);
    free(l.stack);
    free(l.path);
    if (!s->err) {
        fold_crc(s);
        uint32_t expect = s->crc; /* of every byte before the trailer */
        uint32_t got = get_u32(s);
        uint8_t extra;
        /* Nothing may follow the trailer. */
        if (!s->err && (s->pos < s->len || s->read(s->ctx, &extra, 1) != 0)) fail(s, ZAB_ECORRUPT);
        if (!s->err && (got != expect || fresh->digest != digest)) fail(s, ZAB_ECORRUPT);
    }
    int rc = s->err;
    if (!rc) {
        fresh->last_zxid = last_zxid;
        swap_contents(t, fresh);
        zab_pending_clear(&t->pending, zab_tree_unref_acl, t);
        t->last_prepared = t->last_zxid;
        zab_watches_clear(t->watches);
    }
    free(s);
    zab_tree_free(fresh);
    return rc;
}

typedef struct mem_src {
    const uint8_t *p;
    size_t left;
} mem_src;

static long read_mem(void *ctx, void *bytes, size_t len)
{
    mem_src *m = ctx;
    if (len > m->left) len = m->left;
    if (len > LONG_MAX) len = LONG_MAX;
    if (!len) return 0;
    memcpy(bytes, m->p, len);
    m->p += len;
    m->left -= len;
    return (long)len;
}

int zab_tree_load_mem(zab_tree *t, const void *bytes, size_t len)
{
    mem_src m = { bytes, len };
    return zab_tree_load(t, read_mem, &m);
}
