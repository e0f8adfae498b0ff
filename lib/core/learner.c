/*
 * learner.c - a follower's or observer's side of discovery, synchronization
 * and broadcast.
 *
 * The order of durable steps is the point of this file (ZooKeeper lost data
 * whenever it got one wrong):
 *  - acceptedEpoch is durable before ACKEPOCH promises the epoch;
 *  - everything the leader sent before NEWLEADER (a snapshot, truncation,
 *    proposals) is durable before currentEpoch is recorded, and currentEpoch
 *    is durable before NEWLEADER is acknowledged (ZOOKEEPER-3911, -4643,
 *    -1282, -3642);
 *  - a proposal is acknowledged only once the log holds it durably;
 *  - the tree receives only transactions known committed: the synchronized
 *    history once UPTODATE proves a quorum accepted it, then each COMMIT.
 */
#include <stdlib.h>
#include <string.h>

#include "core/node.h"

static int64_t ticks(const zab_node *n, uint32_t t)
{
    return (int64_t)t * n->cfg.tick_ms;
}

static zab_peer *leader_peer(zab_node *n)
{
    return zab_node_peer(n, n->leader);
}

static void send_to_leader(zab_node *n, zab_msg *m)
{
    zab_peer *p = leader_peer(n);
    if (p) zab_node_send(n, p, m);
}

static void register_with_leader(zab_node *n)
{
    zab_peer *p = leader_peer(n);
    if (!p || !p->up || n->registered) return;
    zab_msg m = { .type = ZAB_MSG_LEARNERINFO, .epoch = n->accepted_epoch,
                  .flags = (n->observer ? 1 : 0) | (n->want_snap ? 2 : 0) };
    zab_node_send(n, p, &m);
    n->registered = 1;
}

/* This leader's history cannot be reconciled with ours by DIFF or TRUNC:
 * ask for a snapshot next time. */
static void need_snapshot(zab_node *n, const char *why)
{
    n->want_snap = 1;
    zab_node_look(n, why);
}

void zab_learner_start(zab_node *n)
{
    n->phase = PHASE_DISCOVERY;
    n->registered = 0;
    n->uptodate = 0;
    n->commit_point = 0;
    n->newleader_at = 0;
    n->snapshot_mode = 0;
    n->ack_sent = 0;
    n->epoch = 0;
    n->deadline = n->now + ticks(n, n->cfg.init_limit);
    n->next_ping = 0;
    register_with_leader(n);
}

void zab_learner_stop(zab_node *n)
{
    /* One channel carries one reign: whatever the old leader still sends
     * on it must never reach the next one (ZooKeeper closes the socket). */
    zab_peer *p = leader_peer(n);
    if (p && p->up && n->registered) zab_node_break(n, p);
    zab_buf_free(&n->snap_in);
    n->snap_total = 0;
    n->registered = 0;
    n->uptodate = 0;
    n->newleader_at = 0;
}

void zab_learner_peer_up(zab_node *n, zab_peer *p)
{
    if (p->sid == n->leader) register_with_leader(n);
}

/* ---- discovery ---- */

static void on_leaderinfo(zab_node *n, const zab_msg *m)
{
    if (n->phase != PHASE_DISCOVERY || m->epoch < n->accepted_epoch) {
        zab_node_look(n, "leader's epoch is behind our promise");
        return;
    }
    int64_t reported = n->current_epoch;
    if (m->epoch > n->accepted_epoch) {
        /* The promise is durable before it is made. */
        if (zab_node_save_epochs(n, m->epoch, n->current_epoch)) return;
    } else {
        reported = -1; /* already promised: not a new vote for the epoch */
    }
    n->epoch = m->epoch;
    n->phase = PHASE_SYNC;
    zab_msg ack = { .type = ZAB_MSG_ACKEPOCH, .epoch = reported, .zxid = zab_log_last(&n->log),
                    .applied = n->last_applied };
    send_to_leader(n, &ack);
}

/* ---- synchronization ---- */

static void on_diff(zab_node *n, const zab_msg *m)
{
    if (m->zxid != zab_log_last(&n->log)) need_snapshot(n, "DIFF does not match our log");
}

static void on_trunc(zab_node *n, const zab_msg *m)
{
    int64_t t = m->zxid;
    if (t < n->last_applied || (t != n->log.base && !zab_log_find(&n->log, t))) {
        need_snapshot(n, "cannot truncate to the leader's point");
        return;
    }
    int rc = n->io.log_truncate(n->io.ctx, t);
    if (rc) {
        zab_node_fail(n, rc);
        return;
    }
    zab_log_truncate(&n->log, t);
    if (n->last_synced > t) n->last_synced = t;
}

static void on_snap(zab_node *n, const zab_msg *m)
{
    if (m->zxid < n->last_applied) {
        /* The leader's tree lags what we already applied (it has not yet
         * applied its initial history): installing it would roll committed
         * state back. Try again once it is established. */
        zab_node_look(n, "snapshot older than our state");
        return;
    }
    zab_buf_free(&n->snap_in);
    n->snap_total = m->offset;
    n->snap_zxid = m->zxid;
    if (!n->snap_total) need_snapshot(n, "empty snapshot");
}

/* The whole snapshot arrived: it becomes the tree, durably, at once. */
static void install_snapshot(zab_node *n)
{
    int rc = zab_tree_load_mem(n->tree, n->snap_in.data, n->snap_in.len);
    zab_buf_free(&n->snap_in);
    n->snap_total = 0;
    zab_tree_stats st;
    zab_tree_stats_get(n->tree, &st);
    if (rc || st.last_zxid != n->snap_zxid) {
        zab_node_look(n, "snapshot does not load");
        return;
    }
    /* ZOOKEEPER-3642: the snapshot is on disk before anything builds on it. */
    if ((rc = n->io.save_snapshot(n->io.ctx, n->tree))) {
        zab_node_fail(n, rc);
        return;
    }
    n->last_applied = n->last_committed = n->last_synced = n->snap_zxid;
    zab_log_reset(&n->log, n->snap_zxid);
    n->snapshot_mode = 1;
    n->want_snap = 0;
    if (n->io.on_apply) n->io.on_apply(n->io.ctx, n->snap_zxid);
}

static void on_snap_data(zab_node *n, const zab_msg *m)
{
    if (!n->snap_total || m->offset != n->snap_in.len || m->len > n->snap_total - n->snap_in.len) {
        need_snapshot(n, "snapshot stream out of order");
        return;
    }
    if (zab_buf_append(&n->snap_in, m->data, m->len)) {
        zab_node_fail(n, ZAB_ENOMEM);
        return;
    }
    zab_msg ack = { .type = ZAB_MSG_SNAP_ACK, .offset = n->snap_in.len };
    send_to_leader(n, &ack);
    if (n->snap_in.len == n->snap_total) install_snapshot(n);
}

/* A proposal must continue our log: the next counter of the same epoch, or
 * the first of a later one. */
static int continues_log(const zab_node *n, int64_t zxid)
{
    int64_t last = zab_log_last(&n->log);
    if (zxid <= last) return 0;
    if (ZAB_EPOCH(zxid) == ZAB_EPOCH(last)) return zxid == last + 1;
    return ZAB_COUNTER(zxid) == 1;
}

static void accept_txn(zab_node *n, const zab_msg *m)
{
    if (!continues_log(n, m->zxid) || m->len > n->cfg.max_message) {
        need_snapshot(n, "proposal does not continue our log");
        return;
    }
    if (zab_log_append(&n->log, m->zxid, m->data, m->len, m->origin, m->cookie)) {
        zab_node_fail(n, ZAB_ENOMEM);
        return;
    }
    zab_entry e = { m->zxid, m->data, m->len };
    int rc = n->io.log_append(n->io.ctx, &e, 1);
    if (rc) zab_node_fail(n, rc);
}

static void on_commit(zab_node *n, const zab_msg *m)
{
    if (m->zxid > zab_log_last(&n->log) || m->zxid < n->last_committed) {
        zab_node_look(n, "commit for a proposal we do not hold");
        return;
    }
    if (!n->uptodate) {
        if (m->zxid > n->commit_point) n->commit_point = m->zxid;
        return;
    }
    n->last_committed = m->zxid;
    zab_node_apply_upto(n, m->zxid);
}

static void on_inform(zab_node *n, const zab_msg *m)
{
    if (!n->observer || !n->uptodate) {
        zab_node_look(n, "unexpected INFORM");
        return;
    }
    accept_txn(n, m);
    if (n->stopped || n->role == ZAB_LOOKING) return;
    n->last_committed = m->zxid;
    zab_node_apply_upto(n, m->zxid);
}

/* Acknowledge NEWLEADER once everything before it is durable. */
static void try_ack_newleader(zab_node *n)
{
    if (!n->newleader_at || n->last_synced < zab_log_last(&n->log)) return;
    if (zab_node_save_epochs(n, n->accepted_epoch, n->epoch)) return;
    zab_msg ack = { .type = ZAB_MSG_ACK, .zxid = n->newleader_at };
    send_to_leader(n, &ack);
    n->newleader_at = 0;
}

static void on_newleader(zab_node *n, const zab_msg *m)
{
    if (m->zxid != ZAB_ZXID(n->epoch, 0) || n->snap_total) {
        zab_node_look(n, "NEWLEADER out of place");
        return;
    }
    n->newleader_at = m->zxid;
    try_ack_newleader(n);
}

static void send_ack(zab_node *n)
{
    if (n->observer || !n->uptodate || n->last_synced <= n->ack_sent) return;
    if (ZAB_COUNTER(n->last_synced) == 0) return;
    zab_msg ack = { .type = ZAB_MSG_ACK, .zxid = n->last_synced };
    send_to_leader(n, &ack);
    n->ack_sent = n->last_synced;
}

static void on_uptodate(zab_node *n)
{
    if (n->newleader_at || n->current_epoch != n->epoch) {
        zab_node_look(n, "UPTODATE before our NEWLEADER acknowledgement");
        return;
    }
    /* A quorum accepted the history we were sent: it is committed. */
    n->uptodate = 1;
    n->phase = PHASE_BROADCAST;
    n->want_snap = 0;
    if (n->commit_point > n->last_committed) n->last_committed = n->commit_point;
    zab_node_apply_upto(n, n->last_committed);
    n->vote.epoch = n->epoch;
    n->deadline = n->now + ticks(n, n->cfg.sync_limit);
    zab_node_announce(n);
    send_ack(n);
}

void zab_learner_recv(zab_node *n, zab_peer *p, const zab_msg *m)
{
    if (p->sid != n->leader) return; /* a former leader's stragglers */
    n->deadline = n->now + ticks(n, n->uptodate ? n->cfg.sync_limit : n->cfg.init_limit);
    switch (m->type) {
    case ZAB_MSG_LEADERINFO: on_leaderinfo(n, m); return;
    case ZAB_MSG_PING: {
        /* The reply carries our clients' activity since the last one. */
        uint8_t *ids = NULL;
        uint32_t len = n->ntouched * 8;
        if (len && (ids = malloc(len))) {
            for (uint32_t i = 0; i < n->ntouched; i++)
                for (int b = 0; b < 8; b++) ids[i * 8 + b] = (uint8_t)((uint64_t)n->touched[i] >> (56 - 8 * b));
        }
        zab_msg pong = { .type = ZAB_MSG_PING, .round = m->round, .data = ids, .len = ids ? len : 0 };
        send_to_leader(n, &pong);
        free(ids);
        if (ids) n->ntouched = 0;
        return;
    }
    case ZAB_MSG_ANSWER: zab_clients_answer(n, m->cookie, m->err, m->zxid); return;
    default: break;
    }
    if (n->phase == PHASE_DISCOVERY) {
        zab_node_look(n, "sync before discovery");
        return;
    }
    switch (m->type) {
    case ZAB_MSG_DIFF: on_diff(n, m); break;
    case ZAB_MSG_TRUNC: on_trunc(n, m); break;
    case ZAB_MSG_SNAP: on_snap(n, m); break;
    case ZAB_MSG_SNAP_DATA: on_snap_data(n, m); break;
    case ZAB_MSG_PROPOSAL: accept_txn(n, m); break;
    case ZAB_MSG_COMMIT: on_commit(n, m); break;
    case ZAB_MSG_INFORM: on_inform(n, m); break;
    case ZAB_MSG_NEWLEADER: on_newleader(n, m); break;
    case ZAB_MSG_UPTODATE: on_uptodate(n); break;
    default: zab_node_break(n, p); break;
    }
}

void zab_learner_synced(zab_node *n)
{
    try_ack_newleader(n);
    send_ack(n);
}

void zab_learner_tick(zab_node *n)
{
    if (n->now >= n->deadline) zab_node_look(n, "leader silent");
}

int zab_learner_submit(zab_node *n, const void *req, size_t len, uint64_t cookie)
{
    zab_peer *p = leader_peer(n);
    if (!p || !p->up) return ZAB_ECONNECTIONLOSS;
    zab_msg m = { .type = ZAB_MSG_REQUEST, .cookie = cookie, .data = req, .len = (uint32_t)len };
    zab_node_send(n, p, &m);
    return 0;
}

int zab_learner_ask(zab_node *n, uint8_t type, int64_t session, uint64_t cookie)
{
    zab_peer *p = leader_peer(n);
    if (!p || !p->up) return ZAB_ECONNECTIONLOSS;
    zab_msg m = { .type = type, .cookie = cookie, .session = session };
    zab_node_send(n, p, &m);
    return 0;
}
