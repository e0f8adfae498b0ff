#include "core/expiry.h"

#include <stdlib.h>

#include "util/prim.h"
#include "zab.h"

typedef struct entry entry;
typedef struct bucket {
    int64_t deadline;
    entry *head;
} bucket;

struct entry {
    int64_t session;
    int32_t timeout;
    int64_t owner;      /* the server whose clients hold it; 0 unknown */
    bucket *in;
    entry *prev, *next;
};

static zab_str key64(const int64_t *v)
{
    zab_str k = { (const char *)v, sizeof(*v) };
    return k;
}

static zab_str entry_key(const void *item) { return key64(&((const entry *)item)->session); }
static zab_str bucket_key(const void *item) { return key64(&((const bucket *)item)->deadline); }
static uint64_t hash64(int64_t v) { return zab_hash64(&v, sizeof(v), 0xe791); }

void zab_expiry_init(zab_expiry *e, int64_t width, int64_t now)
{
    e->sessions = (zab_ptab){ 0 };
    e->buckets = (zab_ptab){ 0 };
    e->width = width > 0 ? width : 1;
    e->next = (now / e->width + 1) * e->width;
}

static void unlink_entry(zab_expiry *e, entry *en)
{
    bucket *b = en->in;
    if (en->prev) en->prev->next = en->next;
    else b->head = en->next;
    if (en->next) en->next->prev = en->prev;
    en->in = NULL;
    en->prev = en->next = NULL;
    if (!b->head) free(zab_ptab_remove(&e->buckets, hash64(b->deadline), key64(&b->deadline), bucket_key));
}

int zab_expiry_touch(zab_expiry *e, int64_t session, int32_t timeout, int64_t now)
{
    /* Round up to the next bucket boundary, never into one already popped. */
    int64_t deadline = ((now + timeout) / e->width + 1) * e->width;
    if (deadline < e->next) deadline = e->next;
    entry *en = zab_ptab_find(&e->sessions, hash64(session), key64(&session), entry_key);
    if (en && en->in->deadline == deadline) return 0;
    bucket *b = zab_ptab_find(&e->buckets, hash64(deadline), key64(&deadline), bucket_key);
    if (!b) {
        if (!(b = calloc(1, sizeof(*b)))) return ZAB_ENOMEM;
        b->deadline = deadline;
        if (zab_ptab_insert(&e->buckets, hash64(deadline), b)) {
            free(b);
            return ZAB_ENOMEM;
        }
    }
    if (!en) {
        if (!(en = calloc(1, sizeof(*en)))) goto oom;
        en->session = session;
        if (zab_ptab_insert(&e->sessions, hash64(session), en)) {
            free(en);
            goto oom;
        }
    } else {
        unlink_entry(e, en);
    }
    en->timeout = timeout;
    en->in = b;
    en->next = b->head;
    if (b->head) b->head->prev = en;
    b->head = en;
    return 0;
oom:
    if (!b->head) free(zab_ptab_remove(&e->buckets, hash64(deadline), key64(&deadline), bucket_key));
    return ZAB_ENOMEM;
}

void zab_expiry_remove(zab_expiry *e, int64_t session)
{
    entry *en = zab_ptab_remove(&e->sessions, hash64(session), key64(&session), entry_key);
    if (!en) return;
    unlink_entry(e, en);
    free(en);
}

size_t zab_expiry_due(zab_expiry *e, int64_t now, int64_t *out, size_t max)
{
    size_t n = 0;
    while (e->next <= now && n < max) {
        bucket *b = zab_ptab_find(&e->buckets, hash64(e->next), key64(&e->next), bucket_key);
        if (!b) {
            e->next += e->width;
            continue;
        }
        /* Take from the bucket until it is empty (which frees it). */
        int64_t deadline = e->next;
        while (n < max && b) {
            entry *en = b->head;
            out[n++] = en->session;
            int last = en->next == NULL;
            zab_expiry_remove(e, en->session);
            b = last ? NULL : b;
        }
        if (!zab_ptab_find(&e->buckets, hash64(deadline), key64(&deadline), bucket_key))
            e->next += e->width;
    }
    return n;
}

int zab_expiry_claim(zab_expiry *e, int64_t session, int64_t owner, int force)
{
    entry *en = zab_ptab_find(&e->sessions, hash64(session), key64(&session), entry_key);
    if (!en) return ZAB_ESESSIONEXPIRED;
    if (en->owner && en->owner != owner && !force) return ZAB_ESESSIONMOVED;
    en->owner = owner;
    return 0;
}

size_t zab_expiry_count(const zab_expiry *e)
{
    return e->sessions.count;
}

void zab_expiry_free(zab_expiry *e)
{
    void *item;
    for (uint32_t i = 0; zab_ptab_next(&e->sessions, &i, &item);) free(item);
    for (uint32_t i = 0; zab_ptab_next(&e->buckets, &i, &item);) free(item);
    zab_ptab_free(&e->sessions);
    zab_ptab_free(&e->buckets);
}
