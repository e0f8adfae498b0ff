/*
 * leader.c - the leader's side of discovery, synchronization and broadcast.
 *
 * Discovery: the new epoch is one more than the largest acceptedEpoch among
 * a quorum of voters (the leader included), made durable before anyone is
 * told. Learners acknowledge it with their history's position; one whose
 * history is more recent than the leader's is refused.
 *
 * Synchronization: once a quorum acknowledged the epoch, each learner gets
 * what it lacks (DIFF), loses what the leader never had (TRUNC), or gets the
 * whole tree (SNAP, streamed in chunks under flow control), then NEWLEADER.
 * The epoch is established when a quorum, the leader included, has made that
 * history durable and acknowledged NEWLEADER; only then is anything new
 * proposed.
 *
 * Broadcast: proposals carry dense zxids and many may be in flight; a
 * learner's ACK covers everything up to its zxid (it logs in order and acks
 * after syncing), so a zxid commits once a quorum's acknowledged positions
 * reach it, and commits are therefore always in zxid order.
 */
#include <stdlib.h>
#include <string.h>

#include "core/node.h"
#include "tree/tree.h"
#include "tree/txn.h"

enum { SNAP_WINDOW_CHUNKS = 4 };

static int64_t ticks(const zab_node *n, uint32_t t)
{
    return (int64_t)t * n->cfg.tick_ms;
}

static int is_voter_peer(const zab_peer *p) { return !p->observer; }

static int64_t quorum_position(const zab_node *n, int64_t own, int64_t (*pos)(const zab_peer *),
                               int64_t below);
static int64_t round_of(const zab_peer *p);
static void answer(zab_node *n, zab_peer *p, uint64_t cookie, int32_t err, int64_t zxid);

/* ---- quorum questions ---- */

/* Do the voters with lstate >= state (and, if counted, the leader) form a
 * quorum? filter_epoch_vote: only ACKEPOCHs that count. */
static int quorum_at(const zab_node *n, int state, int leader_counts, int filter_epoch_vote)
{
    int64_t sids[64];
    uint32_t k = 0, total = 0;
    if (leader_counts && !n->observer) sids[k++] = n->cfg.sid, total++;
    for (uint32_t i = 0; i < n->npeers; i++) {
        const zab_peer *p = &n->peers[i];
        if (!is_voter_peer(p) || !p->up || p->lstate < state) continue;
        if (filter_epoch_vote && !p->epoch_vote) continue;
        if (k < 64) sids[k++] = p->sid;
        total++;
    }
    return n->quorum.contains(&n->quorum, sids, total);
}

/* ---- discovery ---- */

static void send_leaderinfo(zab_node *n, zab_peer *p)
{
    zab_msg m = { .type = ZAB_MSG_LEADERINFO, .epoch = n->epoch };
    zab_node_send(n, p, &m);
    p->lstate = LEARNER_EPOCH;
}

static void sync_learner(zab_node *n, zab_peer *p);
static void check_newleader_quorum(zab_node *n);

static void establish_epoch_quorum(zab_node *n)
{
    if (n->phase != PHASE_DISCOVERY || !n->epoch_fixed) return;
    if (!quorum_at(n, LEARNER_ACKED, 1, 1)) return;
    /* Recording currentEpoch claims our whole log as the epoch's initial
     * history: it must be durable first, or a crash leaves a node that
     * claims the epoch with a shorter log (ZOOKEEPER-4643, leader side). */
    if (n->last_synced < zab_log_last(&n->log)) return;
    /* A quorum promised the epoch and none is ahead of us: from now on we
     * hold its initial history (currentEpoch). */
    if (zab_node_save_epochs(n, n->epoch, n->epoch)) return;
    n->phase = PHASE_SYNC;
    for (uint32_t i = 0; i < n->npeers; i++)
        if (n->peers[i].lstate == LEARNER_ACKED) sync_learner(n, &n->peers[i]);
    check_newleader_quorum(n);
}

static void try_fix_epoch(zab_node *n)
{
    if (n->epoch_fixed || !quorum_at(n, LEARNER_INFO, 1, 0)) return;
    /* ZOOKEEPER-1291: the promise is durable before anyone hears of it. */
    if (zab_node_save_epochs(n, n->epoch, n->current_epoch)) return;
    n->epoch_fixed = 1;
    for (uint32_t i = 0; i < n->npeers; i++)
        if (n->peers[i].lstate == LEARNER_INFO) send_leaderinfo(n, &n->peers[i]);
    establish_epoch_quorum(n);
}

static void on_learnerinfo(zab_node *n, zab_peer *p, const zab_msg *m)
{
    p->lstate = LEARNER_INFO;
    p->accepted = m->epoch;
    p->want_snap = (m->flags & 2) != 0;
    p->epoch_vote = 0;
    p->acked = 0;
    p->round = 0;
    if (n->role != ZAB_LEADING) return; /* kept until we know whether we lead */
    if (!n->epoch_fixed) {
        /* Observers' epochs raise the new epoch too; only voters count. */
        if (m->epoch >= n->epoch) n->epoch = m->epoch + 1;
        try_fix_epoch(n);
    } else {
        send_leaderinfo(n, p);
    }
}

static void on_ackepoch(zab_node *n, zab_peer *p, const zab_msg *m)
{
    if (p->lstate != LEARNER_EPOCH) {
        zab_node_break(n, p);
        return;
    }
    int64_t mine = zab_log_last(&n->log);
    if (m->epoch != -1 && (m->epoch > n->current_epoch ||
                           (m->epoch == n->current_epoch && m->zxid > mine))) {
        /* Its history is more recent than ours: we must not lead it. */
        zab_node_break(n, p);
        return;
    }
    p->last_zxid = m->zxid;
    p->applied = m->applied;
    p->epoch_vote = m->epoch != -1;
    p->lstate = LEARNER_ACKED;
    if (n->phase == PHASE_DISCOVERY) establish_epoch_quorum(n);
    else sync_learner(n, p);
}

/* ---- synchronization ---- */

static void send_zxid(zab_node *n, zab_peer *p, uint8_t type, int64_t zxid)
{
    zab_msg m = { .type = type, .zxid = zxid };
    zab_node_send(n, p, &m);
}

static void send_proposal(zab_node *n, zab_peer *p, const zab_rec *r, uint8_t type)
{
    zab_msg m = { .type = type, .zxid = r->zxid, .origin = r->origin, .cookie = r->cookie,
                  .data = r->txn, .len = r->len };
    zab_node_send(n, p, &m);
}

/* What the learner may treat as committed of what it is sent: everything,
 * while the epoch is being established (the whole log becomes the initial
 * history); afterwards, what has committed. */
static int64_t commit_point(const zab_node *n)
{
    return n->phase == PHASE_BROADCAST ? n->last_committed : zab_log_last(&n->log);
}

/* Stream the log after `from` as PROPOSAL (+ COMMIT when committed). */
static void send_history(zab_node *n, zab_peer *p, int64_t from)
{
    int64_t cp = commit_point(n);
    for (zab_rec *r = zab_log_after(&n->log, from); r; r = zab_log_after(&n->log, r->zxid)) {
        /* Observers learn of a transaction only once it commits (INFORM). */
        if (p->observer && r->zxid > cp) break;
        send_proposal(n, p, r, ZAB_MSG_PROPOSAL);
        if (r->zxid <= cp) send_zxid(n, p, ZAB_MSG_COMMIT, r->zxid);
    }
}

static void pump_snapshot(zab_node *n, zab_peer *p)
{
    uint64_t window = (uint64_t)SNAP_WINDOW_CHUNKS * n->cfg.snap_chunk;
    while (p->snap_sent < p->snap.len && p->snap_sent - p->snap_acked < window && !n->stopped) {
        uint64_t len = p->snap.len - p->snap_sent;
        if (len > n->cfg.snap_chunk) len = n->cfg.snap_chunk;
        zab_msg m = { .type = ZAB_MSG_SNAP_DATA, .offset = p->snap_sent,
                      .data = p->snap.data + p->snap_sent, .len = (uint32_t)len };
        p->snap_sent += len;
        zab_node_send(n, p, &m);
    }
    if (p->snap.len && p->snap_sent == p->snap.len && p->snap_acked == p->snap.len) {
        zab_buf_free(&p->snap);
        p->snap_sent = p->snap_acked = 0;
    }
    if (p->snap_sent == p->snap.len) zab_node_flush_held(n, p);
}

static int save_to_buf(void *ctx, const void *b, size_t len)
{
    return zab_buf_append(ctx, b, len);
}

static void start_snapshot(zab_node *n, zab_peer *p)
{
    /* A learner refuses a snapshot older than its tree (installing it would
     * drop durable, committed state). A leader that restarted holds its
     * history in its log, not yet in its tree: but whatever the learner
     * applied was committed, and every committed transaction sits at its
     * zxid in this log, so the tree may take that much now. */
    if (p->applied > n->last_applied && p->applied <= zab_log_last(&n->log)) {
        if (p->applied > n->last_committed) n->last_committed = p->applied;
        zab_node_apply_upto(n, p->applied);
        if (n->stopped) return;
    }
    zab_buf_free(&p->snap);
    zab_buf_free(&p->held);
    p->snap_sent = p->snap_acked = 0;
    int rc = zab_tree_save(n->tree, save_to_buf, &p->snap);
    if (rc) {
        zab_node_fail(n, rc);
        return;
    }
    zab_msg m = { .type = ZAB_MSG_SNAP, .zxid = n->last_applied, .offset = p->snap.len };
    zab_node_send(n, p, &m);
    pump_snapshot(n, p);
}

/* Choose how to bring the learner to our history, queue that history and
 * register it for live traffic, all in one step (nothing can be proposed in
 * between, so there is no gap and no duplicate), then NEWLEADER. */
static void sync_learner(zab_node *n, zab_peer *p)
{
    int64_t pz = p->last_zxid, last = zab_log_last(&n->log), base = n->log.base;
    int64_t cp = commit_point(n);
    if (p->want_snap || pz < base) {
        start_snapshot(n, p);
        send_history(n, p, n->last_applied);
    } else if (pz == base || zab_log_find(&n->log, pz)) {
        /* Our histories agree up to pz (a zxid names one transaction). */
        send_zxid(n, p, ZAB_MSG_DIFF, pz);
        if ((pz < cp ? pz : cp) > 0) send_zxid(n, p, ZAB_MSG_COMMIT, pz < cp ? pz : cp);
        send_history(n, p, pz);
    } else {
        /* It holds a zxid we never had: cut it back to the last zxid we
         * share, which must lie in the same epoch (its log is dense within
         * an epoch); across epochs only a snapshot is safe. */
        zab_rec *after = zab_log_after(&n->log, pz);
        zab_rec *prev = after ? zab_log_prev(&n->log, after) : NULL;
        int64_t t = after ? (prev ? prev->zxid : base) : last;
        if (ZAB_EPOCH(t) == ZAB_EPOCH(pz) && ZAB_COUNTER(t) > 0) {
            send_zxid(n, p, ZAB_MSG_TRUNC, t);
            if ((t < cp ? t : cp) > 0) send_zxid(n, p, ZAB_MSG_COMMIT, t < cp ? t : cp);
            send_history(n, p, t);
        } else {
            start_snapshot(n, p);
            send_history(n, p, n->last_applied);
        }
    }
    p->lstate = LEARNER_SYNCING;
    p->acked = 0;
    p->heard = n->now;
    send_zxid(n, p, ZAB_MSG_NEWLEADER, ZAB_ZXID(n->epoch, 0));
}

/* ---- sessions ---- */

/* A new leader knows no client's last activity: every session gets its
 * whole timeout from now (as ZooKeeper's leader does), so a leader change
 * never expires a live client early. */
static void track_all_sessions(zab_node *n)
{
    zab_expiry_free(&n->expiry);
    zab_expiry_init(&n->expiry, n->cfg.tick_ms, n->now);
    void *item;
    for (uint32_t i = 0; zab_ptab_next(&n->tree->sessions.tab, &i, &item);) {
        const zab_session *se = item;
        if (zab_expiry_touch(&n->expiry, se->id, se->timeout, n->now)) zab_node_fail(n, ZAB_ENOMEM);
    }
}

void zab_leader_touch(zab_node *n, int64_t session)
{
    int32_t timeout;
    if (n->phase != PHASE_BROADCAST || zab_tree_session(n->tree, session, &timeout, NULL)) return;
    if (zab_expiry_touch(&n->expiry, session, timeout, n->now)) zab_node_fail(n, ZAB_ENOMEM);
}

void zab_leader_applied(zab_node *n, const zab_rec *r, const zab_reply *reply)
{
    int64_t session;
    int32_t type;
    if (reply->err || zab_txn_peek(r->txn, r->len, &session, &type)) return;
    if (type == ZAB_OP_CREATE_SESSION) {
        zab_leader_touch(n, session);
        if (r->origin) (void)zab_expiry_claim(&n->expiry, session, r->origin, 1);
    }
    else if (type == ZAB_OP_CLOSE_SESSION) zab_expiry_remove(&n->expiry, session);
}

/* ---- rounds: proof that this node still leads ---- */

/* Every PING carries the next round number; a voter's echo of it shows the
 * voter still followed this leader after the round was sent. */
static void send_round(zab_node *n)
{
    zab_msg ping = { .type = ZAB_MSG_PING, .round = ++n->round_sent };
    for (uint32_t i = 0; i < n->npeers; i++)
        if (n->peers[i].lstate >= LEARNER_SYNCING) zab_node_send(n, &n->peers[i], &ping);
    n->next_ping = n->now + n->cfg.tick_ms / 2;
    /* A leader that is a quorum alone confirms its round as it sends it. */
    if (quorum_position(n, n->round_sent, round_of, n->round_confirmed) == n->round_sent)
        n->round_confirmed = n->round_sent;
}

/* Answer every sync whose round a quorum has echoed: no other leader can
 * have committed anything between its arrival and that echo (a quorum was
 * still following us), so what we had committed at its arrival is all
 * there is. */
static void confirm_syncs(zab_node *n)
{
    int64_t r = quorum_position(n, n->round_sent, round_of, n->round_confirmed);
    if (r <= n->round_confirmed) return;
    n->round_confirmed = r;
    uint32_t k = 0;
    while (k < n->nconfirms && n->confirms[k].round <= r) k++;
    for (uint32_t i = 0; i < k && n->role == ZAB_LEADING; i++) {
        zab_confirm *c = &n->confirms[i];
        if (c->origin == n->cfg.sid) {
            zab_clients_answer(n, c->cookie, ZAB_OK, c->zxid);
        } else {
            zab_peer *p = zab_node_peer(n, c->origin);
            if (p && p->lstate == LEARNER_SYNCED) answer(n, p, c->cookie, ZAB_OK, c->zxid);
        }
    }
    if (n->role != ZAB_LEADING) return;
    if (k) memmove(n->confirms, n->confirms + k, (n->nconfirms - k) * sizeof(*n->confirms));
    n->nconfirms -= k;
    if (n->nconfirms && n->round_confirmed == n->round_sent) send_round(n);
}

int zab_leader_sync(zab_node *n, int64_t session, int64_t origin, uint64_t cookie)
{
    if (n->phase != PHASE_BROADCAST) return ZAB_ECONNECTIONLOSS;
    /* A sync is a request like a write: a moved session's is refused. */
    if (session && zab_expiry_claim(&n->expiry, session, origin, 0) == ZAB_ESESSIONMOVED)
        return ZAB_ESESSIONMOVED;
    if (n->nconfirms == n->capconfirms) {
        uint32_t cap = n->capconfirms ? n->capconfirms * 2 : 16;
        zab_confirm *c = realloc(n->confirms, cap * sizeof(*c));
        if (!c) return ZAB_ENOMEM;
        n->confirms = c;
        n->capconfirms = cap;
    }
    /* It needs a round sent after it arrived: the next one. One round is
     * in flight at a time, so syncs that arrive meanwhile share the next. */
    zab_confirm *c = &n->confirms[n->nconfirms++];
    *c = (zab_confirm){ origin, cookie, n->last_committed, n->round_sent + 1 };
    if (n->round_confirmed == n->round_sent) send_round(n);
    /* Only a leader that is a quorum alone has confirmed the round it just
     * sent: a local sync is then done (the caller finishes it). */
    if (n->round_confirmed < c->round) return 0;
    n->nconfirms--;
    if (origin == n->cfg.sid) return 1;
    zab_peer *p = zab_node_peer(n, origin);
    if (p) answer(n, p, cookie, ZAB_OK, n->last_committed);
    return 0;
}

int zab_leader_revalidate(zab_node *n, int64_t session, int64_t origin)
{
    if (n->phase != PHASE_BROADCAST) return ZAB_ECONNECTIONLOSS;
    int rc = zab_expiry_claim(&n->expiry, session, origin, 1);
    if (!rc) zab_leader_touch(n, session);
    return rc;
}

/* A learner's PING reply echoes the round and lists the sessions its
 * clients kept alive. */
static void on_ping(zab_node *n, zab_peer *p, const zab_msg *m)
{
    if (p->lstate == LEARNER_SYNCED && m->round > p->round && m->round <= n->round_sent) {
        p->round = m->round;
        /* Even with no sync waiting: a sync that arrives later must know
         * whether a round is still in flight. */
        confirm_syncs(n);
    }
    const uint8_t *b = m->data;
    for (uint32_t at = 0; at + 8 <= m->len; at += 8) {
        uint64_t id = 0;
        for (int k = 0; k < 8; k++) id = id << 8 | b[at + k];
        zab_leader_touch(n, (int64_t)id);
    }
}

/* Sessions nobody kept alive become closeSession transactions: each is
 * taken out of the queue as it is proposed, so it expires exactly once. */
static void expire_sessions(zab_node *n)
{
    int64_t due[64];
    size_t k = zab_expiry_due(&n->expiry, n->now, due, 64);
    for (size_t i = 0; i < k && n->role == ZAB_LEADING; i++) {
        zab_op op = { .type = ZAB_OP_CLOSE_SESSION, .ttl = -1 };
        zab_request req = { ZAB_OP_CLOSE_SESSION, due[i], NULL, 0, &op, 1 };
        if (zab_leader_submit(n, &req, 0, 0) == ZAB_ETHROTTLED)
            zab_expiry_touch(&n->expiry, due[i], 0, n->now); /* again next tick */
    }
}

/* The container manager's pass: every empty container that had a child
 * and every TTL node past its time becomes a deleteContainer transaction,
 * which prepare re-checks (a child created since wins). */
enum { REAP_MAX_PER_PASS = 10000 };

static void reap(zab_node *n)
{
    if (n->now < n->next_reap) return;
    n->next_reap = n->now + n->cfg.reap_interval_ms;
    zab_str *paths;
    uint32_t count;
    if (zab_tree_reapable(n->tree, n->now, n->cfg.container_max_never_used_ms, REAP_MAX_PER_PASS,
                          &paths, &count)) {
        zab_node_fail(n, ZAB_ENOMEM);
        return;
    }
    /* The paths live in the tree's scratch, which each prepare reuses:
     * take them out first (length-prefixed, one buffer). */
    zab_buf all = { 0 };
    for (uint32_t i = 0; i < count; i++) {
        uint8_t len4[4] = { (uint8_t)(paths[i].len >> 24), (uint8_t)(paths[i].len >> 16),
                            (uint8_t)(paths[i].len >> 8), (uint8_t)paths[i].len };
        if (zab_buf_append(&all, len4, 4) || zab_buf_append(&all, paths[i].ptr, paths[i].len)) {
            zab_buf_free(&all);
            return; /* the next pass tries again */
        }
    }
    for (size_t at = 0; at + 4 <= all.len && n->role == ZAB_LEADING;) {
        const uint8_t *h = all.data + at;
        uint32_t len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
        zab_op op = { .type = ZAB_OP_DELETE_CONTAINER, .path = { (const char *)h + 4, len },
                      .version = -1, .ttl = -1 };
        zab_request req = { ZAB_OP_DELETE_CONTAINER, 0, NULL, 0, &op, 1 };
        /* Throttled or refused: the next pass tries again. */
        (void)zab_leader_submit(n, &req, 0, 0);
        at += 4 + len;
    }
    zab_buf_free(&all);
}

/* ---- establishment ---- */

static void establish(zab_node *n)
{
    n->phase = PHASE_BROADCAST;
    n->deadline = 0;
    n->last_committed = zab_log_last(&n->log);
    /* Applying the initial history reports sessions to the deadlines:
     * they must exist (track_all_sessions then rebuilds them whole). */
    zab_expiry_init(&n->expiry, n->cfg.tick_ms, n->now);
    zab_node_apply_upto(n, n->last_committed);
    n->next_zxid = ZAB_ZXID(n->epoch, 1);
    n->next_reap = n->now + n->cfg.reap_interval_ms;
    track_all_sessions(n);
    n->vote.epoch = n->epoch; /* advertise the established regime */
    n->vote.leader = n->cfg.sid;
    for (uint32_t i = 0; i < n->npeers; i++)
        if (n->peers[i].lstate == LEARNER_SYNCED) send_zxid(n, &n->peers[i], ZAB_MSG_UPTODATE, -1);
    zab_node_announce(n);
}

static void check_newleader_quorum(zab_node *n)
{
    if (n->phase != PHASE_SYNC) return;
    /* The leader's own vote needs its whole history durable too. */
    int self = n->last_synced >= zab_log_last(&n->log);
    if (quorum_at(n, LEARNER_SYNCED, self, 0)) establish(n);
}

/* ---- broadcast ---- */

/* The highest position that a quorum of voters has reached, the leader
 * (at `own`) included; positions only grow, so each one reported is a
 * candidate to test. below: what is already known. */
static int64_t quorum_position(const zab_node *n, int64_t own, int64_t (*pos)(const zab_peer *),
                               int64_t below)
{
    int64_t best = below;
    int64_t cand[65];
    uint32_t nc = 0;
    if (!n->observer) cand[nc++] = own;
    for (uint32_t i = 0; i < n->npeers && nc < 65; i++) {
        const zab_peer *p = &n->peers[i];
        if (is_voter_peer(p) && p->up && p->lstate == LEARNER_SYNCED) cand[nc++] = pos(p);
    }
    for (uint32_t c = 0; c < nc; c++) {
        if (cand[c] <= best) continue;
        int64_t sids[65];
        uint32_t k = 0;
        if (!n->observer && own >= cand[c]) sids[k++] = n->cfg.sid;
        for (uint32_t i = 0; i < n->npeers; i++) {
            const zab_peer *p = &n->peers[i];
            if (is_voter_peer(p) && p->up && p->lstate == LEARNER_SYNCED && pos(p) >= cand[c] && k < 65)
                sids[k++] = p->sid;
        }
        if (n->quorum.contains(&n->quorum, sids, k)) best = cand[c];
    }
    return best;
}

static int64_t acked_of(const zab_peer *p) { return p->acked; }
static int64_t round_of(const zab_peer *p) { return p->round; }

/* The highest zxid a quorum has made durable (the leader's own log
 * included). */
static int64_t quorum_durable(const zab_node *n)
{
    return quorum_position(n, n->last_synced, acked_of, n->last_committed);
}

static void try_commit(zab_node *n)
{
    int64_t upto = quorum_durable(n);
    int64_t last = zab_log_last(&n->log);
    if (upto > last) upto = last;
    if (upto <= n->last_committed) return;
    int64_t from = n->last_committed;
    n->last_committed = upto;
    for (uint32_t i = 0; i < n->npeers; i++) {
        zab_peer *p = &n->peers[i];
        if (p->lstate < LEARNER_SYNCING) continue;
        if (is_voter_peer(p)) {
            send_zxid(n, p, ZAB_MSG_COMMIT, upto);
        } else {
            for (zab_rec *r = zab_log_after(&n->log, from); r && r->zxid <= upto;
                 r = zab_log_after(&n->log, r->zxid))
                send_proposal(n, p, r, ZAB_MSG_INFORM);
        }
    }
    zab_node_apply_upto(n, upto);
}

void zab_leader_synced(zab_node *n)
{
    /* A stall is no progress, not an unfinished log: under steady load the
     * disk always trails the newest append, and that is healthy. */
    n->unsynced_since = n->last_synced >= zab_log_last(&n->log) ? 0 : n->now;
    if (n->phase == PHASE_DISCOVERY) establish_epoch_quorum(n);
    else if (n->phase == PHASE_SYNC) check_newleader_quorum(n);
    else if (n->phase == PHASE_BROADCAST) try_commit(n);
}

uint64_t zab_leader_in_flight(const zab_node *n)
{
    /* This epoch's proposals are dense: count those after the commit point. */
    int64_t floor = ZAB_ZXID(n->epoch, 0);
    int64_t done = n->last_committed > floor ? n->last_committed : floor;
    return n->phase == PHASE_BROADCAST && n->next_zxid - 1 > done ? (uint64_t)(n->next_zxid - 1 - done) : 0;
}

static int counter_exhausted(const zab_node *n)
{
    return ZAB_COUNTER(n->next_zxid) == UINT32_MAX;
}

/* A client's request through a server that does not hold its session: the
 * session moved (its client reconnected elsewhere), and what the old
 * connection still sends fails with SESSIONMOVED, as ZooKeeper's does.
 * Closing a session is exempt (the expiry that proposes it owns nothing). */
static int owned_elsewhere(zab_node *n, const zab_request *req, int64_t origin)
{
    if (!origin || !req->session || req->type == ZAB_OP_CREATE_SESSION ||
        req->type == ZAB_OP_CLOSE_SESSION)
        return 0;
    return zab_expiry_claim(&n->expiry, req->session, origin, 0) == ZAB_ESESSIONMOVED;
}

int zab_leader_submit(zab_node *n, const zab_request *req, int64_t origin, uint64_t cookie)
{
    if (n->phase != PHASE_BROADCAST) return ZAB_ECONNECTIONLOSS;
    if (zab_leader_in_flight(n) >= n->cfg.max_outstanding) return ZAB_ETHROTTLED;
    /* ZOOKEEPER-1277: a counter about to run into the epoch bits ends the
     * reign at the next tick; the next leader starts a new epoch. */
    if (counter_exhausted(n)) return ZAB_ECONNECTIONLOSS;
    n->scratch.len = 0;
    int rc = owned_elsewhere(n, req, origin)
                 ? zab_tree_prepare_failed(n->tree, req, n->next_zxid, n->now, ZAB_ESESSIONMOVED,
                                           &n->scratch)
                 : zab_tree_prepare(n->tree, req, n->next_zxid, n->now, &n->scratch);
    if (rc) return rc;
    int64_t zxid = n->next_zxid++;
    if (zab_log_append(&n->log, zxid, n->scratch.data, n->scratch.len, origin, cookie)) {
        zab_node_fail(n, ZAB_ENOMEM);
        return ZAB_ENOMEM;
    }
    zab_entry e = { zxid, n->scratch.data, n->scratch.len };
    if ((rc = n->io.log_append(n->io.ctx, &e, 1))) {
        zab_node_fail(n, rc);
        return rc;
    }
    if (!n->unsynced_since) n->unsynced_since = n->now;
    zab_rec *r = zab_log_find(&n->log, zxid);
    for (uint32_t i = 0; i < n->npeers; i++) {
        zab_peer *p = &n->peers[i];
        if (is_voter_peer(p) && p->lstate >= LEARNER_SYNCING) send_proposal(n, p, r, ZAB_MSG_PROPOSAL);
    }
    return 0;
}

static void answer(zab_node *n, zab_peer *p, uint64_t cookie, int32_t err, int64_t zxid)
{
    zab_msg m = { .type = ZAB_MSG_ANSWER, .cookie = cookie, .err = err, .zxid = zxid };
    if (n->role == ZAB_LEADING) zab_node_send(n, p, &m);
}

static void on_request(zab_node *n, zab_peer *p, const zab_msg *m)
{
    zab_request req;
    int rc = zab_msg_request_decode(m->data, m->len, &req, &n->req_scratch);
    if (!rc) rc = zab_leader_submit(n, &req, p->sid, m->cookie);
    if (rc) answer(n, p, m->cookie, rc, 0);
}

static void on_sync(zab_node *n, zab_peer *p, const zab_msg *m)
{
    int rc = zab_leader_sync(n, m->session, p->sid, m->cookie);
    if (rc < 0) answer(n, p, m->cookie, rc, 0);
}

static void on_revalidate(zab_node *n, zab_peer *p, const zab_msg *m)
{
    answer(n, p, m->cookie, zab_leader_revalidate(n, m->session, p->sid), 0);
}

static void on_ack(zab_node *n, zab_peer *p, const zab_msg *m)
{
    if (m->zxid == ZAB_ZXID(n->epoch, 0)) {
        if (p->lstate != LEARNER_SYNCING) return;
        /* It made our history durable and recorded the epoch. */
        p->lstate = LEARNER_SYNCED;
        if (n->phase == PHASE_SYNC) check_newleader_quorum(n);
        else if (n->phase == PHASE_BROADCAST) send_zxid(n, p, ZAB_MSG_UPTODATE, -1);
        return;
    }
    if (p->lstate != LEARNER_SYNCED || ZAB_COUNTER(m->zxid) == 0) return;
    if (m->zxid > p->acked) p->acked = m->zxid;
    if (n->phase == PHASE_BROADCAST) try_commit(n);
}

static void on_snap_ack(zab_node *n, zab_peer *p, const zab_msg *m)
{
    if (!p->snap.len || m->offset > p->snap_sent || m->offset < p->snap_acked) {
        zab_node_break(n, p);
        return;
    }
    p->snap_acked = m->offset;
    pump_snapshot(n, p);
}

void zab_leader_recv(zab_node *n, zab_peer *p, const zab_msg *m)
{
    p->heard = n->now;
    switch (m->type) {
    case ZAB_MSG_LEARNERINFO: on_learnerinfo(n, p, m); break;
    case ZAB_MSG_ACKEPOCH: on_ackepoch(n, p, m); break;
    case ZAB_MSG_ACK: on_ack(n, p, m); break;
    case ZAB_MSG_SNAP_ACK: on_snap_ack(n, p, m); break;
    case ZAB_MSG_PING: on_ping(n, p, m); break;
    case ZAB_MSG_REQUEST: on_request(n, p, m); break;
    case ZAB_MSG_SYNC: on_sync(n, p, m); break;
    case ZAB_MSG_REVALIDATE: on_revalidate(n, p, m); break;
    default: zab_node_break(n, p); break;
    }
}

/* ---- life ---- */

void zab_leader_start(zab_node *n)
{
    n->phase = PHASE_DISCOVERY;
    n->epoch = n->accepted_epoch + 1;
    n->epoch_fixed = 0;
    n->deadline = n->now + ticks(n, n->cfg.init_limit);
    n->next_ping = n->now;
    /* A log still waiting on the disk counts against the stall limit from
     * the start of the reign. */
    n->unsynced_since = n->last_synced < zab_log_last(&n->log) ? n->now : 0;
    for (uint32_t i = 0; i < n->npeers; i++) {
        zab_peer *p = &n->peers[i];
        if (p->lstate == LEARNER_INFO && p->accepted >= n->epoch) n->epoch = p->accepted + 1;
        p->heard = n->now;
    }
    try_fix_epoch(n);
}

void zab_leader_stop(zab_node *n)
{
    for (uint32_t i = 0; i < n->npeers; i++) {
        zab_peer *p = &n->peers[i];
        /* End the reign on every learner's channel (one channel, one reign). */
        if (p->lstate != LEARNER_NONE && p->up) zab_node_break(n, p);
        p->lstate = LEARNER_NONE;
        p->acked = 0;
        zab_buf_free(&p->snap);
        zab_buf_free(&p->held);
        p->snap_sent = p->snap_acked = 0;
    }
    n->unsynced_since = 0;
    n->nconfirms = 0; /* their learners lose the channel; ours lose the leader */
    n->round_confirmed = n->round_sent;
    zab_expiry_free(&n->expiry);
}

void zab_leader_peer_down(zab_node *n, zab_peer *p)
{
    p->lstate = LEARNER_NONE;
    p->acked = 0;
    zab_buf_free(&p->snap);
    zab_buf_free(&p->held);
    p->snap_sent = p->snap_acked = 0;
    (void)n;
}

/* Learners heard from within syncLimit, with the leader, must be a quorum,
 * or the leader steps down: a leader cut off from its quorum must not keep
 * answering as if it led. */
static int quorum_alive(zab_node *n)
{
    int64_t sids[64];
    uint32_t k = 0;
    if (!n->observer) sids[k++] = n->cfg.sid;
    int64_t limit = ticks(n, n->cfg.sync_limit);
    for (uint32_t i = 0; i < n->npeers; i++) {
        zab_peer *p = &n->peers[i];
        if (!is_voter_peer(p) || p->lstate != LEARNER_SYNCED) continue;
        if (n->now - p->heard > limit) {
            zab_node_break(n, p); /* silent too long: let it resync */
            continue;
        }
        if (k < 64) sids[k++] = p->sid;
    }
    return n->quorum.contains(&n->quorum, sids, k);
}

void zab_leader_tick(zab_node *n)
{
    if (n->unsynced_since && n->now - n->unsynced_since > ticks(n, n->cfg.disk_stall_ticks)) {
        zab_node_look(n, "own log sync stalled");
        return;
    }
    if (n->phase != PHASE_BROADCAST) {
        if (n->now >= n->deadline) zab_node_look(n, "epoch not established in time");
        return;
    }
    if (!quorum_alive(n)) {
        zab_node_look(n, "lost quorum");
        return;
    }
    if (counter_exhausted(n)) {
        zab_node_look(n, "zxid counter exhausted");
        return;
    }
    expire_sessions(n);
    if (n->role == ZAB_LEADING) reap(n);
    if (n->role != ZAB_LEADING) return;
    if (n->now >= n->next_ping) send_round(n);
}
