/*
 * node.c - the node's life cycle, its channels to peers, the dispatch of
 * events to the role that handles them, timers, and the one path by which
 * committed transactions reach the tree.
 */
#include "core/node.h"

#include <stdlib.h>
#include <string.h>

#include "util/prim.h"

enum {
    DEFAULT_TICK_MS = 2000,
    DEFAULT_INIT_LIMIT = 10,
    DEFAULT_SYNC_LIMIT = 5,
    DEFAULT_FINALIZE_WAIT_MS = 200,
    DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024,
    DEFAULT_MAX_OUTSTANDING = 1000,
    DEFAULT_LOG_WINDOW = 10000,
    DEFAULT_SNAP_CHUNK = 256 * 1024,
    HELD_LIMIT_MESSAGES = 64 /* in max_message units, behind one snapshot */
};

/* ---- configuration ---- */

static void apply_defaults(zab_node_config *c)
{
    if (!c->tick_ms) c->tick_ms = DEFAULT_TICK_MS;
    if (!c->init_limit) c->init_limit = DEFAULT_INIT_LIMIT;
    if (!c->sync_limit) c->sync_limit = DEFAULT_SYNC_LIMIT;
    if (!c->finalize_wait_ms) c->finalize_wait_ms = DEFAULT_FINALIZE_WAIT_MS;
    if (!c->max_message) c->max_message = DEFAULT_MAX_MESSAGE;
    if (!c->max_outstanding) c->max_outstanding = DEFAULT_MAX_OUTSTANDING;
    if (!c->log_window) c->log_window = DEFAULT_LOG_WINDOW;
    if (!c->snap_chunk) c->snap_chunk = DEFAULT_SNAP_CHUNK;
    if (c->snap_chunk > c->max_message / 2) c->snap_chunk = c->max_message / 2;
    if (!c->disk_stall_ticks) c->disk_stall_ticks = c->sync_limit;
    if (!c->min_session_timeout_ms) c->min_session_timeout_ms = 2 * c->tick_ms;
    if (!c->max_session_timeout_ms) c->max_session_timeout_ms = 20 * c->tick_ms;
    if (!c->reap_interval_ms) c->reap_interval_ms = 60000;
    if (c->max_session_timeout_ms < c->min_session_timeout_ms)
        c->max_session_timeout_ms = c->min_session_timeout_ms;
}

/* Every sid positive and unique; this node among them; at least one voter. */
static int config_valid(const zab_node_config *c)
{
    int found = 0, voters = 0;
    for (uint32_t i = 0; i < c->nmembers; i++) {
        if (c->members[i].sid <= 0) return 0;
        for (uint32_t k = 0; k < i; k++)
            if (c->members[k].sid == c->members[i].sid) return 0;
        found |= c->members[i].sid == c->sid;
        voters += !c->members[i].observer;
    }
    return found && voters > 0;
}

zab_node *zab_node_new(const zab_node_config *cfg, const zab_io *io, const zab_node_state *state)
{
    if (!cfg || !io || !cfg->members || !config_valid(cfg)) return NULL;
    zab_node *n = calloc(1, sizeof(*n));
    if (!n) return NULL;
    n->cfg = *cfg;
    apply_defaults(&n->cfg);
    n->io = *io;
    n->members = malloc(cfg->nmembers * sizeof(*n->members));
    n->peers = calloc(cfg->nmembers, sizeof(*n->peers));
    /* A transaction must fit a PROPOSAL: refuse bigger ones in prepare. */
    zab_tree_config tc = cfg->tree;
    if (!tc.max_txn || tc.max_txn > n->cfg.max_message) tc.max_txn = n->cfg.max_message;
    n->tree = zab_tree_new(&tc);
    if (!n->members || !n->peers || !n->tree) {
        zab_node_free(n);
        return NULL;
    }
    memcpy(n->members, cfg->members, cfg->nmembers * sizeof(*n->members));
    n->cfg.members = n->members;
    uint32_t voters = 0;
    for (uint32_t i = 0; i < cfg->nmembers; i++) {
        const zab_member *m = &cfg->members[i];
        voters += !m->observer;
        if (m->sid == cfg->sid) {
            n->observer = m->observer;
            continue;
        }
        n->peers[n->npeers].sid = m->sid;
        n->peers[n->npeers++].observer = m->observer;
    }
    n->quorum = zab_majority(voters);
    if (state) {
        n->accepted_epoch = state->accepted_epoch;
        n->current_epoch = state->current_epoch;
    }
    n->role = ZAB_LOOKING;
    return n;
}

static void peer_clear(zab_peer *p)
{
    zab_buf_free(&p->snap);
    zab_buf_free(&p->held);
}

void zab_node_free(zab_node *n)
{
    if (!n) return;
    for (uint32_t i = 0; i < n->npeers; i++) peer_clear(&n->peers[i]);
    free(n->peers);
    free(n->members);
    zab_tree_free(n->tree);
    zab_log_free(&n->log);
    zab_buf_free(&n->scratch);
    zab_buf_free(&n->req_scratch);
    zab_buf_free(&n->req_out);
    zab_buf_free(&n->snap_in);
    zab_expiry_free(&n->expiry);
    free(n->touched);
    free(n->confirms);
    zab_clients_free(&n->clients);
    free(n);
}

/* ---- restoring ---- */

int zab_node_restore_snapshot(zab_node *n, zab_read_fn read, void *ctx)
{
    if (n->started || zab_log_count(&n->log)) return ZAB_EINVAL;
    int rc = zab_tree_load(n->tree, read, ctx);
    if (rc) return rc;
    zab_tree_stats st;
    zab_tree_stats_get(n->tree, &st);
    n->last_applied = n->last_committed = n->last_synced = st.last_zxid;
    zab_log_reset(&n->log, st.last_zxid);
    return 0;
}

int zab_node_restore_entry(zab_node *n, const zab_entry *e)
{
    if (n->started) return ZAB_EINVAL;
    int64_t last = zab_log_last(&n->log);
    /* The same continuity a live proposal needs: the next counter of the
     * epoch, or the first of a later one. A gap means lost records. */
    if (e->zxid <= last || ZAB_COUNTER(e->zxid) == 0) return ZAB_ECORRUPT;
    if (ZAB_EPOCH(e->zxid) == ZAB_EPOCH(last) ? e->zxid != last + 1 : ZAB_COUNTER(e->zxid) != 1)
        return ZAB_ECORRUPT;
    if (e->len > n->cfg.max_message) return ZAB_ECORRUPT;
    int rc = zab_log_append(&n->log, e->zxid, e->txn, e->len, 0, 0);
    if (!rc) n->last_synced = e->zxid;
    return rc;
}

/* ---- shared helpers ---- */

int64_t zab_node_tick_ms(const zab_node *n) { return n->cfg.tick_ms; }

zab_peer *zab_node_peer(zab_node *n, int64_t sid)
{
    for (uint32_t i = 0; i < n->npeers; i++)
        if (n->peers[i].sid == sid) return &n->peers[i];
    return NULL;
}

int zab_node_is_voter(const zab_node *n, int64_t sid)
{
    if (sid == n->cfg.sid) return !n->observer;
    for (uint32_t i = 0; i < n->npeers; i++)
        if (n->peers[i].sid == sid) return !n->peers[i].observer;
    return 0;
}

void zab_node_fail(zab_node *n, int code)
{
    if (!n->stopped) n->stopped = code ? code : ZAB_EFAILED;
    n->stats.stopped = 1;
}

/* Give a held message its place on the channel: patch the sequence number
 * and recompute the CRC (messages held behind a snapshot learn their
 * position only when they are finally sent). */
static void seal(uint8_t *bytes, size_t len, uint32_t seq)
{
    for (int i = 0; i < 4; i++) bytes[2 + i] = (uint8_t)(seq >> (24 - 8 * i));
    uint32_t crc = zab_crc32c(0, bytes, len - ZAB_MSG_TRAILER);
    for (int i = 0; i < 4; i++) bytes[len - 4 + i] = (uint8_t)(crc >> (24 - 8 * i));
}

/* Send an encoded message that already carries sequence number send_seq. */
static void transmit(zab_node *n, zab_peer *p, uint8_t *bytes, size_t len)
{
    p->send_seq++;
    n->stats.bytes_sent += len;
    n->stats.messages_sent++;
    n->io.send(n->io.ctx, p->sid, bytes, len);
}

static int snapshot_streaming(const zab_peer *p)
{
    return p->snap.len && p->snap_sent < p->snap.len;
}

void zab_node_send(zab_node *n, zab_peer *p, zab_msg *m)
{
    if (!p->up || p->broken || n->stopped) return;
    n->scratch.len = 0;
    m->seq = p->send_seq;
    if (zab_msg_encode(m, &n->scratch)) {
        zab_node_fail(n, ZAB_ENOMEM);
        return;
    }
    /* Behind a snapshot in flight, everything else waits its turn, so the
     * learner sees the stream in protocol order. Snapshot chunks go out. */
    if (snapshot_streaming(p) && m->type != ZAB_MSG_SNAP_DATA && m->type != ZAB_MSG_SNAP) {
        /* A learner that cannot take the snapshot as fast as the ensemble
         * moves is dropped (it resynchronizes later) rather than letting
         * what waits for it grow without bound. */
        if (p->held.len > (size_t)HELD_LIMIT_MESSAGES * n->cfg.max_message) {
            zab_node_break(n, p);
            return;
        }
        uint8_t len4[4] = { (uint8_t)(n->scratch.len >> 24), (uint8_t)(n->scratch.len >> 16),
                            (uint8_t)(n->scratch.len >> 8), (uint8_t)n->scratch.len };
        if (zab_buf_append(&p->held, len4, 4) ||
            zab_buf_append(&p->held, n->scratch.data, n->scratch.len))
            zab_node_fail(n, ZAB_ENOMEM);
        return;
    }
    transmit(n, p, n->scratch.data, n->scratch.len);
}

void zab_node_flush_held(zab_node *n, zab_peer *p)
{
    size_t at = 0;
    while (at + 4 <= p->held.len) {
        const uint8_t *h = p->held.data + at;
        size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
        seal(p->held.data + at + 4, len, p->send_seq);
        transmit(n, p, p->held.data + at + 4, len);
        at += 4 + len;
    }
    zab_buf_free(&p->held);
}

void zab_node_broadcast(zab_node *n, zab_msg *m, int voters_only)
{
    for (uint32_t i = 0; i < n->npeers; i++)
        if (!voters_only || !n->peers[i].observer) zab_node_send(n, &n->peers[i], m);
}

void zab_node_break(zab_node *n, zab_peer *p)
{
    if (p->broken) return;
    p->broken = 1;
    if (n->io.disconnect) n->io.disconnect(n->io.ctx, p->sid);
}

int zab_node_save_epochs(zab_node *n, int64_t accepted, int64_t current)
{
    int rc = n->io.save_epochs(n->io.ctx, accepted, current);
    if (rc) {
        zab_node_fail(n, rc);
        return rc;
    }
    n->accepted_epoch = accepted;
    n->current_epoch = current;
    return 0;
}

void zab_node_announce(zab_node *n)
{
    n->stats.role = n->role;
    n->stats.leader = n->leader;
    if (n->io.on_role) n->io.on_role(n->io.ctx, n->role, n->leader, n->epoch);
}

int zab_node_serving(const zab_node *n)
{
    if (n->stopped) return 0;
    if (n->role == ZAB_LEADING) return n->phase == PHASE_BROADCAST;
    return (n->role == ZAB_FOLLOWING || n->role == ZAB_OBSERVING) && n->uptodate;
}

/* ---- applying committed transactions ---- */

void zab_node_apply_upto(zab_node *n, int64_t zxid)
{
    while (!n->stopped && n->last_applied < zxid) {
        zab_rec *r = zab_log_after(&n->log, n->last_applied);
        if (!r || r->zxid > zxid) break;
        zab_reply reply;
        int rc = zab_tree_apply(n->tree, r->zxid, r->txn, r->len, &reply);
        if (rc) {
            /* A committed transaction every replica must apply does not
             * apply here: this replica cannot continue. */
            zab_node_fail(n, rc);
            return;
        }
        /* The outcome may start the session's next write, which appends
         * to the log and may move r: keep what follows from it first. */
        int64_t applied = r->zxid;
        int mine = r->origin == n->cfg.sid;
        uint64_t cookie = r->cookie;
        n->last_applied = applied;
        if (n->role == ZAB_LEADING) zab_leader_applied(n, r, &reply);
        if (mine) zab_clients_result(n, cookie, &reply);
        if (n->io.on_apply) n->io.on_apply(n->io.ctx, applied);
    }
    zab_clients_applied(n);
    zab_log_trim(&n->log, n->last_applied, n->cfg.log_window);
}

/* ---- role changes ---- */

void zab_node_look(zab_node *n, const char *why)
{
    (void)why;
    if (n->role == ZAB_LEADING) zab_leader_stop(n);
    else if (n->role != ZAB_LOOKING) zab_learner_stop(n);
    zab_clients_fail_all(n);
    zab_tree_prepare_reset(n->tree);
    n->role = ZAB_LOOKING;
    n->phase = PHASE_ELECTION;
    n->leader = 0;
    n->deadline = 0;
    zab_node_announce(n);
    zab_election_start(n);
}

/* ---- the host's entry points ---- */

int zab_node_start(zab_node *n, int64_t now_ms)
{
    if (n->started) return ZAB_EINVAL;
    n->started = 1;
    n->now = now_ms;
    n->last_committed = n->last_applied;
    zab_node_look(n, "start");
    return n->stopped;
}

int zab_node_tick(zab_node *n, int64_t now_ms)
{
    if (n->stopped || !n->started) return n->stopped ? n->stopped : ZAB_EINVAL;
    if (now_ms > n->now) n->now = now_ms;
    switch (n->role) {
    case ZAB_LOOKING: zab_election_tick(n); break;
    case ZAB_LEADING: zab_leader_tick(n); break;
    default: zab_learner_tick(n); break;
    }
    return n->stopped;
}

int zab_node_recv(zab_node *n, int64_t from, const void *bytes, size_t len)
{
    if (n->stopped || !n->started) return n->stopped ? n->stopped : ZAB_EINVAL;
    zab_peer *p = zab_node_peer(n, from);
    if (!p || !p->up || p->broken) return 0;
    zab_msg m;
    if (zab_msg_decode(bytes, len, n->cfg.max_message, &m) || m.seq != p->recv_seq) {
        zab_node_break(n, p);
        return 0;
    }
    p->recv_seq++;
    if (m.type == ZAB_MSG_NOTIFY) zab_election_recv(n, p, &m);
    else if (n->role == ZAB_LEADING || (n->role == ZAB_LOOKING && m.type == ZAB_MSG_LEARNERINFO))
        zab_leader_recv(n, p, &m);
    else if (n->role == ZAB_FOLLOWING || n->role == ZAB_OBSERVING) zab_learner_recv(n, p, &m);
    return n->stopped;
}

int zab_node_peer_up(zab_node *n, int64_t sid)
{
    zab_peer *p = zab_node_peer(n, sid);
    if (!p || n->stopped) return n->stopped;
    p->up = 1;
    p->broken = 0;
    p->send_seq = p->recv_seq = 0;
    if (!n->started) return 0;
    zab_election_peer_up(n, p);
    if (n->role == ZAB_FOLLOWING || n->role == ZAB_OBSERVING) zab_learner_peer_up(n, p);
    return n->stopped;
}

int zab_node_peer_down(zab_node *n, int64_t sid)
{
    zab_peer *p = zab_node_peer(n, sid);
    if (!p || n->stopped) return n->stopped;
    p->up = 0;
    p->broken = 0;
    p->send_seq = p->recv_seq = 0;
    if (!n->started) return 0;
    if (n->role == ZAB_LEADING) zab_leader_peer_down(n, p);
    else if ((n->role == ZAB_FOLLOWING || n->role == ZAB_OBSERVING) && sid == n->leader)
        zab_node_look(n, "leader channel down");
    else p->lstate = LEARNER_NONE;
    return n->stopped;
}

int zab_node_log_synced(zab_node *n, int64_t zxid)
{
    if (n->stopped) return n->stopped;
    if (zxid > zab_log_last(&n->log)) zxid = zab_log_last(&n->log);
    if (zxid <= n->last_synced) return 0;
    n->stats.syncs++;
    n->stats.synced_entries += ZAB_EPOCH(zxid) == ZAB_EPOCH(n->last_synced)
                                   ? (uint64_t)(zxid - n->last_synced) : ZAB_COUNTER(zxid);
    n->last_synced = zxid;
    if (n->role == ZAB_LEADING) zab_leader_synced(n);
    else if (n->role != ZAB_LOOKING) zab_learner_synced(n);
    return n->stopped;
}

static int64_t earliest(int64_t a, int64_t b)
{
    if (!a) return b;
    if (!b) return a;
    return a < b ? a : b;
}

int64_t zab_node_next_deadline(const zab_node *n)
{
    int64_t t = 0;
    if (n->role == ZAB_LOOKING) t = earliest(n->finalize_at, n->notify_at);
    else t = earliest(n->deadline, n->next_ping);
    if (n->role == ZAB_LEADING && n->unsynced_since)
        t = earliest(t, n->unsynced_since + (int64_t)n->cfg.disk_stall_ticks * n->cfg.tick_ms);
    /* A tick now and then keeps liveness checks honest. */
    return earliest(t, n->now + n->cfg.tick_ms);
}

int zab_node_submit(zab_node *n, const zab_request *req, uint64_t cookie)
{
    if (n->stopped) return n->stopped;
    if (!req) return ZAB_EINVAL;
    return zab_clients_submit(n, req, cookie);
}

int zab_node_revalidate(zab_node *n, int64_t session, const uint8_t passwd[16],
                        int64_t last_zxid_seen, uint64_t cookie)
{
    if (n->stopped) return n->stopped;
    /* A client that saw more than this replica holds must not read here:
     * it would go back in time (ZooKeeper closes such a connection). */
    if (!zab_node_serving(n) || last_zxid_seen > n->last_applied) return ZAB_ECONNECTIONLOSS;
    uint8_t want[16];
    int rc = zab_tree_session(n->tree, session, NULL, want);
    if (rc) return rc;
    if (!passwd || memcmp(want, passwd, sizeof want)) return ZAB_EAUTHFAILED;
    return zab_clients_revalidate(n, session, cookie);
}

int32_t zab_node_session_timeout(const zab_node *n, int32_t requested)
{
    if (requested < (int32_t)n->cfg.min_session_timeout_ms) return (int32_t)n->cfg.min_session_timeout_ms;
    if (requested > (int32_t)n->cfg.max_session_timeout_ms) return (int32_t)n->cfg.max_session_timeout_ms;
    return requested;
}

int zab_node_touch(zab_node *n, int64_t session)
{
    if (n->stopped) return n->stopped;
    if (n->role == ZAB_LEADING) {
        zab_leader_touch(n, session);
        return n->stopped;
    }
    if (n->role == ZAB_LOOKING || n->ntouched > n->cfg.max_message / 16) return 0;
    /* Reported in the next PING reply; a repeat costs 8 bytes there. */
    if (n->ntouched && n->touched[n->ntouched - 1] == session) return 0;
    if (n->ntouched == n->captouched) {
        uint32_t cap = n->captouched ? n->captouched * 2 : 64;
        int64_t *t = realloc(n->touched, cap * sizeof(*t));
        if (!t) return 0; /* activity is advisory: the next touch will do */
        n->touched = t;
        n->captouched = cap;
    }
    n->touched[n->ntouched++] = session;
    return 0;
}

zab_tree *zab_node_tree(zab_node *n)
{
    return n->tree;
}

void zab_node_stats_get(const zab_node *n, zab_node_stats *out)
{
    *out = n->stats;
    out->role = n->role;
    out->leader = n->leader;
    out->accepted_epoch = n->accepted_epoch;
    out->current_epoch = n->current_epoch;
    out->last_logged = zab_log_last(&n->log);
    out->last_synced = n->last_synced;
    out->last_committed = n->last_committed;
    out->last_applied = n->last_applied;
    out->in_flight = n->role == ZAB_LEADING ? zab_leader_in_flight(n) : 0;
    out->learners_synced = 0;
    out->max_learner_lag = 0;
    if (n->role == ZAB_LEADING && n->phase == PHASE_BROADCAST) {
        int64_t last = zab_log_last(&n->log), floor = ZAB_ZXID(n->epoch, 0);
        for (uint32_t i = 0; i < n->npeers; i++) {
            const zab_peer *p = &n->peers[i];
            if (p->lstate != LEARNER_SYNCED) continue;
            out->learners_synced++;
            if (p->observer) continue;
            int64_t acked = p->acked > floor ? p->acked : floor;
            uint64_t lag = last > acked ? (uint64_t)(last - acked) : 0;
            if (lag > out->max_learner_lag) out->max_learner_lag = lag;
        }
    }
    out->serving = !n->stopped && ((n->role == ZAB_LEADING && n->phase == PHASE_BROADCAST) ||
                                   ((n->role == ZAB_FOLLOWING || n->role == ZAB_OBSERVING) && n->uptodate));
    out->stopped = n->stopped != 0;
}
