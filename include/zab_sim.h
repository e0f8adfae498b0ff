/*
 * zab_sim.h - a deterministic simulation of a zab ensemble, for testing zab
 * and the programs built on it.
 *
 * A simulation holds N nodes (voters and observers) in one process, a
 * virtual clock, a seeded random generator, an in-memory network of FIFO
 * channels between every pair of nodes, and an in-memory disk per node that
 * tells written data from synced data. Everything that happens is a function
 * of the configuration, the seed and the calls made: a failing seed replays
 * exactly.
 *
 * Faults: message delay (uniform between the latency bounds), channel breaks
 * (every message in flight on the channel is lost and both ends are told),
 * duplicated and reordered messages (which the nodes must detect), symmetric
 * and one-way partitions, disk sync delay, and crashes that lose every
 * unsynced write and may tear the last one, followed by restarts from disk.
 *
 * After every event the simulation checks the ensemble's invariants:
 * committed histories are prefixes of one another (same transaction and same
 * tree digest at every zxid on every node); no write acknowledged to a client
 * is ever lost; at most one leader is established per epoch; epochs on disk
 * never go backwards and acceptedEpoch >= currentEpoch. The first violation
 * stops the simulation and is reported by zab_sim_violation().
 *
 * Thread rule: a simulation and its nodes belong to the thread that drives
 * it.
 */
#ifndef ZAB_SIM_H
#define ZAB_SIM_H

#include "zab.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zab_sim zab_sim;

typedef struct zab_sim_config {
    uint32_t voters;            /* sids 1..voters; default 3 */
    uint32_t observers;         /* sids voters+1..; default 0 */
    uint64_t seed;
    uint32_t tick_ms;           /* node tick; default 100 */
    uint32_t init_limit, sync_limit; /* ticks; defaults 10 and 5 */
    uint32_t latency_min_ms;    /* one-way delay bounds; default 1..5 */
    uint32_t latency_max_ms;
    uint32_t fsync_min_ms;      /* log sync delay bounds; default 1..3 */
    uint32_t fsync_max_ms;
    uint32_t break_per_million; /* chance that a message breaks its channel */
    uint32_t dup_per_million;   /* chance that a message is delivered twice */
    uint32_t reorder_per_million; /* chance that a message overtakes its predecessor */
    uint32_t torn_per_million;  /* chance that a crash tears the last unsynced record */
    uint32_t log_window;        /* passed to the nodes (0: their default) */
    uint32_t snap_chunk;        /* passed to the nodes (0: their default) */
} zab_sim_config;

/* A new simulation at virtual time 0 with every node started. cfg may be
 * NULL for the defaults. NULL on OOM. */
ZAB_API zab_sim *zab_sim_new(const zab_sim_config *cfg);
ZAB_API void zab_sim_free(zab_sim *sim);

/* Run until virtual time now + ms, or until an invariant breaks. Returns 0,
 * or ZAB_EFAILED after a violation (see zab_sim_violation). */
ZAB_API int zab_sim_run(zab_sim *sim, int64_t ms);

/* Run until pred(sim, arg) holds (checked after every event) or ms of
 * virtual time pass. Returns 1 when it held, 0 on timeout, ZAB_EFAILED on a
 * violation. */
ZAB_API int zab_sim_run_until(zab_sim *sim, int64_t ms, int (*pred)(zab_sim *, void *),
                              void *arg);

ZAB_API int64_t zab_sim_now(const zab_sim *sim);

/* The sid of the leader established in the highest epoch among running
 * nodes, or 0. */
ZAB_API int64_t zab_sim_leader(const zab_sim *sim);

/* A running node (NULL when sid is crashed or unknown). Borrowed. */
ZAB_API zab_node *zab_sim_node(zab_sim *sim, int64_t sid);

/* Crash a node: it loses every unsynced write (and may tear the last one)
 * and every channel to it breaks. Restart it from what its disk holds. */
ZAB_API int zab_sim_crash(zab_sim *sim, int64_t sid);
ZAB_API int zab_sim_restart(zab_sim *sim, int64_t sid);

/* Cut the link from a to b (and b to a unless one_way): it breaks, and
 * cannot reconnect while cut both ways. zab_sim_heal removes every cut and
 * stall. */
ZAB_API int zab_sim_partition(zab_sim *sim, int64_t a, int64_t b, int one_way);
ZAB_API void zab_sim_heal(zab_sim *sim);

/* A silent partition from a to b (and b to a unless one_way): the channel
 * stays up but nothing sent on it arrives until zab_sim_heal, which
 * delivers all of it in order (TCP through a network that drops packets).
 * Nodes notice only by silence. */
ZAB_API int zab_sim_stall(zab_sim *sim, int64_t a, int64_t b, int one_way);
/* Isolate a node from every other node (both ways). */
ZAB_API int zab_sim_isolate(zab_sim *sim, int64_t sid);

/* Submit a client request at node sid (zab_node_submit: writes, reads,
 * sync). *id (if given) names it for zab_sim_result. Returns what
 * zab_node_submit returns. */
ZAB_API int zab_sim_submit(zab_sim *sim, int64_t sid, const zab_request *req, uint64_t *id);

/* Reconnect session at node sid (zab_node_revalidate); *id names it for
 * zab_sim_result. Returns what zab_node_revalidate returns. */
ZAB_API int zab_sim_revalidate(zab_sim *sim, int64_t sid, int64_t session,
                               const uint8_t passwd[16], int64_t last_zxid_seen, uint64_t *id);
/* Optional observers, for tests that record histories: every reply a node
 * gives to a request of zab_sim_submit / _revalidate (reply borrowed for
 * the call), and every watch event a node's tree fires. Either may be
 * NULL. They must not call into the simulation. */
typedef void (*zab_sim_reply_fn)(void *ctx, int64_t sid, uint64_t id, const zab_reply *reply);
typedef void (*zab_sim_watch_fn)(void *ctx, int64_t sid, int64_t watcher, const zab_event *ev);
ZAB_API void zab_sim_observe(zab_sim *sim, zab_sim_reply_fn on_reply, zab_sim_watch_fn on_watch,
                             void *ctx);
/* The outcome of request id: 1 and *err, *zxid once known; 0 while pending. */
ZAB_API int zab_sim_result(const zab_sim *sim, uint64_t id, int32_t *err, int64_t *zxid);

/* Writes acknowledged to clients so far. */
ZAB_API uint64_t zab_sim_acked(const zab_sim *sim);

/* The first invariant violation, or NULL. */
ZAB_API const char *zab_sim_violation(const zab_sim *sim);

/* Run every node to agreement: heal the network, restart crashed nodes, and
 * run until every node applied the same last zxid with the same digest (or
 * ms pass). Returns 1 when they agree, 0 if not within ms, ZAB_EFAILED on a
 * violation. */
ZAB_API int zab_sim_settle(zab_sim *sim, int64_t ms);

#ifdef __cplusplus
}
#endif
#endif
