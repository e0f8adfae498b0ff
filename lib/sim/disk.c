/*
 * disk.c - the simulated log, epochs and snapshot of one node.
 */
#include "sim/disk.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/prim.h"

int64_t zab_sim_disk_last(const zab_sim_disk *d)
{
    return d->n ? d->log[d->n - 1].zxid : d->snap_zxid;
}

static int reserve(zab_sim_disk *d, size_t extra)
{
    if (extra <= d->cap - d->n) return 0;
    if (extra > SIZE_MAX / sizeof *d->log - d->n) return ZAB_ENOMEM;
    size_t cap = d->cap ? d->cap : 16;
    while (cap < d->n + extra) cap *= 2;
    zab_sim_record *log = realloc(d->log, cap * sizeof *log);
    if (!log) return ZAB_ENOMEM;
    d->log = log;
    d->cap = cap;
    return 0;
}

static void drop_from(zab_sim_disk *d, size_t i)
{
    for (size_t k = i; k < d->n; k++) free(d->log[k].bytes);
    if (d->n > i) d->n = i;
    if (d->synced > d->n) d->synced = d->n;
}

int zab_sim_disk_append(zab_sim_disk *d, const zab_entry *e, size_t n)
{
    int64_t last = zab_sim_disk_last(d);
    for (size_t i = 0; i < n; i++) {
        if (e[i].zxid <= last || e[i].len > UINT32_MAX || (e[i].len && !e[i].txn))
            return ZAB_EINVAL;
        last = e[i].zxid;
    }
    if (reserve(d, n)) return ZAB_ENOMEM;
    size_t start = d->n;
    for (size_t i = 0; i < n; i++) {
        zab_sim_record *r = &d->log[d->n];
        r->bytes = malloc(e[i].len ? e[i].len : 1);
        if (!r->bytes) {
            drop_from(d, start);
            return ZAB_ENOMEM;
        }
        if (e[i].len) memcpy(r->bytes, e[i].txn, e[i].len);
        r->zxid = e[i].zxid;
        r->len = r->have = (uint32_t)e[i].len;
        r->crc = zab_crc32c(0, r->bytes, r->len);
        r->mark = d->next_mark++;
        d->n++;
    }
    return 0;
}

uint64_t zab_sim_disk_mark(const zab_sim_disk *d)
{
    return d->next_mark;
}

int zab_sim_disk_sync(zab_sim_disk *d, uint64_t mark, int64_t *zxid)
{
    size_t before = d->synced;
    while (d->synced < d->n && d->log[d->synced].mark < mark) d->synced++;
    if (d->synced == before) return 0;
    *zxid = d->log[d->synced - 1].zxid;
    return 1;
}

int zab_sim_disk_truncate(zab_sim_disk *d, int64_t zxid)
{
    if (d->snap.len && zxid < d->snap_zxid) return ZAB_EINVAL;
    size_t keep = d->n;
    while (keep > 0 && d->log[keep - 1].zxid > zxid) keep--;
    drop_from(d, keep);
    return 0;
}

static int buf_write(void *ctx, const void *bytes, size_t len)
{
    return zab_buf_append(ctx, bytes, len);
}

int zab_sim_disk_save_snapshot(zab_sim_disk *d, const zab_tree *tree)
{
    zab_buf snap = { 0 };
    int rc = zab_tree_save(tree, buf_write, &snap);
    if (rc) {
        zab_buf_free(&snap);
        return rc;
    }
    zab_tree_stats st;
    zab_tree_stats_get(tree, &st);
    zab_buf_free(&d->snap);
    d->snap = snap;
    d->snap_zxid = st.last_zxid;
    drop_from(d, 0);
    return 0;
}

/* What a write cut off by power loss leaves: a prefix, or the full length
 * with a garbled byte (or, for an empty record, a garbled header). */
static void tear(zab_sim_record *r, zab_sim_rng *rng)
{
    if (r->len && zab_sim_rng_next(rng) % 2) {
        r->have = (uint32_t)zab_sim_rng_range(rng, 0, (int64_t)r->len - 1);
    } else if (r->len) {
        r->bytes[zab_sim_rng_range(rng, 0, (int64_t)r->len - 1)] ^=
            (uint8_t)zab_sim_rng_range(rng, 1, 255);
    } else {
        r->crc ^= 1;
    }
}

void zab_sim_disk_crash(zab_sim_disk *d, zab_sim_rng *rng, uint32_t torn_ppm)
{
    size_t keep = d->synced;
    if (keep < d->n && zab_sim_rng_chance(rng, torn_ppm)) {
        tear(&d->log[keep], rng);
        keep++;
    }
    drop_from(d, keep);
    d->synced = d->n;
}

static int record_intact(const zab_sim_record *r)
{
    return r->have == r->len && zab_crc32c(0, r->bytes, r->have) == r->crc;
}

size_t zab_sim_disk_recover(zab_sim_disk *d)
{
    size_t good = 0;
    while (good < d->n && record_intact(&d->log[good])) good++;
    drop_from(d, good);
    d->synced = d->n;
    return d->n;
}

void zab_sim_disk_free(zab_sim_disk *d)
{
    drop_from(d, 0);
    free(d->log);
    zab_buf_free(&d->snap);
    memset(d, 0, sizeof *d);
}
