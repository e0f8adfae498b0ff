#include "core/log.h"

#include <stdlib.h>
#include <string.h>

#include "zab.h"

static int make_room(zab_log *l)
{
    if (l->start > 0 && l->start * 2 >= l->end) {
        /* More than half the array is trimmed space: slide down. */
        memmove(l->v, l->v + l->start, (l->end - l->start) * sizeof(*l->v));
        l->end -= l->start;
        l->start = 0;
    }
    if (l->end < l->cap) return 0;
    size_t cap = l->cap ? l->cap * 2 : 64;
    zab_rec *v = realloc(l->v, cap * sizeof(*v));
    if (!v) return ZAB_ENOMEM;
    l->v = v;
    l->cap = cap;
    return 0;
}

int zab_log_append(zab_log *l, int64_t zxid, const void *txn, size_t len, int64_t origin,
                   uint64_t cookie)
{
    if (len > UINT32_MAX || make_room(l)) return ZAB_ENOMEM;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return ZAB_ENOMEM;
    if (len) memcpy(copy, txn, len);
    l->v[l->end++] = (zab_rec){ zxid, origin, cookie, (uint32_t)len, copy };
    return 0;
}

static size_t lower_bound(const zab_log *l, int64_t zxid)
{
    size_t lo = l->start, hi = l->end;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->v[mid].zxid < zxid) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

zab_rec *zab_log_find(const zab_log *l, int64_t zxid)
{
    size_t i = lower_bound(l, zxid);
    return i < l->end && l->v[i].zxid == zxid ? &l->v[i] : NULL;
}

zab_rec *zab_log_after(const zab_log *l, int64_t zxid)
{
    size_t i = lower_bound(l, zxid);
    if (i < l->end && l->v[i].zxid == zxid) i++;
    return i < l->end ? &l->v[i] : NULL;
}

zab_rec *zab_log_prev(const zab_log *l, const zab_rec *rec)
{
    size_t i = (size_t)(rec - l->v);
    return i > l->start ? &l->v[i - 1] : NULL;
}

void zab_log_truncate(zab_log *l, int64_t zxid)
{
    while (l->end > l->start && l->v[l->end - 1].zxid > zxid) free(l->v[--l->end].txn);
}

void zab_log_trim(zab_log *l, int64_t upto, size_t keep)
{
    while (l->end - l->start > keep && l->v[l->start].zxid <= upto) {
        l->base = l->v[l->start].zxid;
        free(l->v[l->start++].txn);
    }
}

void zab_log_reset(zab_log *l, int64_t base)
{
    zab_log_truncate(l, INT64_MIN);
    l->start = l->end = 0;
    l->base = base;
}

void zab_log_free(zab_log *l)
{
    zab_log_reset(l, 0);
    free(l->v);
    memset(l, 0, sizeof(*l));
}
