/*
 * disk.h - a node's simulated storage: the epochs, a snapshot and a
 * transaction log that tells written records from synced ones.
 *
 * Appends are written but not durable until a sync covers them: a sync is a
 * mark (how many records had ever been appended when it was requested) and
 * completing it makes every record appended before the mark durable. A crash
 * loses every record not yet durable, except that it may tear the first of
 * them: that record stays in the log with its bytes cut short or garbled, as
 * a write in progress leaves a real file. Each record keeps the CRC-32C and
 * length computed when it was appended, so recovery finds the tear the way a
 * real log does and discards it with everything after it.
 *
 * Epochs, truncation and snapshots are synchronous and durable.
 */
#ifndef ZAB_SIM_DISK_H
#define ZAB_SIM_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "sim/rng.h"
#include "zab.h"

typedef struct zab_sim_record {
    int64_t zxid;
    uint64_t mark;      /* append order, for syncs */
    uint32_t crc;       /* of the txn as appended */
    uint32_t len;       /* as appended */
    uint32_t have;      /* bytes actually stored (less when torn) */
    uint8_t *bytes;
} zab_sim_record;

typedef struct zab_sim_disk {
    zab_sim_record *log;
    size_t n, cap;
    size_t synced;      /* log[0 .. synced) is durable */
    uint64_t next_mark;
    int64_t accepted, current;
    zab_buf snap;       /* empty: no snapshot */
    int64_t snap_zxid;
} zab_sim_disk;

/* Append n records (their zxids increasing, above every logged zxid and the
 * snapshot's). 0, ZAB_EINVAL for zxids out of order or a txn over 4 GiB, or
 * ZAB_ENOMEM; on error nothing was appended. */
int zab_sim_disk_append(zab_sim_disk *d, const zab_entry *e, size_t n);

/* The mark a sync requested now would carry. */
uint64_t zab_sim_disk_mark(const zab_sim_disk *d);

/* Complete a sync requested at mark: 1 and *zxid (the highest durable zxid)
 * when it made a record durable, 0 when there was nothing left to sync. */
int zab_sim_disk_sync(zab_sim_disk *d, uint64_t mark, int64_t *zxid);

/* Drop every record with zxid > zxid. 0, or ZAB_EINVAL when zxid lies below
 * the snapshot (the snapshot cannot be unwritten). */
int zab_sim_disk_truncate(zab_sim_disk *d, int64_t zxid);

/* Replace everything by the tree's snapshot and an empty log. 0, or what
 * zab_tree_save reported (ZAB_ENOMEM); on error the disk is unchanged. */
int zab_sim_disk_save_snapshot(zab_sim_disk *d, const zab_tree *tree);

/* Lose every record that is not durable; with chance torn_ppm / 1e6 the
 * first of them survives torn. */
void zab_sim_disk_crash(zab_sim_disk *d, zab_sim_rng *rng, uint32_t torn_ppm);

/* Recovery: check every record against its CRC and length, cut the log at
 * the first bad one, and return how many remain. Every remaining record is
 * durable. */
size_t zab_sim_disk_recover(zab_sim_disk *d);

/* The highest logged zxid, or the snapshot's when the log is empty. */
int64_t zab_sim_disk_last(const zab_sim_disk *d);

void zab_sim_disk_free(zab_sim_disk *d);

#endif
