/*
 * election.c - Fast Leader Election, as ZooKeeper runs it.
 *
 * Votes are ordered by (candidate's currentEpoch, its last zxid, its sid):
 * the candidate with the most recent history wins, because every committed
 * transaction is in the log of at least one member of any quorum. Logical
 * clocks (rounds) keep stale votes out of a new election. A decision waits
 * finalize_wait after a quorum agrees, in case a better vote is on its way,
 * unless every voter that can still speak (its channel is up) has already
 * voted the same: no better vote can come, so waiting would only lengthen
 * a failover.
 * A node that finds an ensemble already established joins its leader when
 * a quorum reports following it and the leader itself says it leads.
 *
 * The result is only a hint: safety rests on discovery (a quorum promising
 * the new epoch) and synchronization, never on the election.
 */
#include "core/node.h"

enum { MAX_NOTIFY_INTERVAL_MS = 60000 };

/* The vote a node starts each election with. A non-voter proposes no one:
 * any real vote beats it. */
static zab_vote initial_vote(const zab_node *n)
{
    zab_vote v = { 0 };
    v.valid = 1;
    if (n->observer) {
        v.zxid = INT64_MIN;
        v.epoch = INT64_MIN;
        return v;
    }
    /* Only what is durable counts: every committed transaction is durable
     * on a quorum, so the best durable history among any quorum holds them
     * all, while a node whose disk stalls does not win on entries it may
     * never keep. */
    int64_t last = zab_log_last(&n->log);
    v.leader = n->cfg.sid;
    v.zxid = n->last_synced < last ? n->last_synced : last;
    v.epoch = n->current_epoch;
    return v;
}

/* ZooKeeper's totalOrderPredicate; a non-voter can never be better. */
static int better(const zab_node *n, const zab_vote *a, const zab_vote *b)
{
    if (!zab_node_is_voter(n, a->leader)) return 0;
    if (a->epoch != b->epoch) return a->epoch > b->epoch;
    if (a->zxid != b->zxid) return a->zxid > b->zxid;
    return a->leader > b->leader;
}

static zab_vote vote_of(const zab_msg *m)
{
    zab_vote v = { m->leader, m->zxid, m->epoch, m->round, m->state, 1 };
    return v;
}

static int same_vote(const zab_vote *a, const zab_vote *b)
{
    return a->leader == b->leader && a->zxid == b->zxid && a->epoch == b->epoch;
}

static void send_notify(zab_node *n, zab_peer *p, int32_t state, const zab_vote *v)
{
    zab_msg m = { .type = ZAB_MSG_NOTIFY, .state = state, .leader = v->leader,
                  .zxid = v->zxid, .round = n->round, .epoch = v->epoch };
    zab_node_send(n, p, &m);
}

/* My current vote to every voter (observers ask when they need it). */
static void broadcast_vote(zab_node *n)
{
    for (uint32_t i = 0; i < n->npeers; i++)
        if (!n->peers[i].observer) send_notify(n, &n->peers[i], ZAB_LOOKING, &n->vote);
}

void zab_election_send_vote(zab_node *n, zab_peer *p)
{
    send_notify(n, p, n->role, &n->vote);
}

/* Sids (me included) whose vote in this round equals mine. */
static int looking_quorum(const zab_node *n)
{
    int64_t sids[64];
    uint32_t k = 0, total = 0;
    if (!n->observer) sids[k++] = n->cfg.sid, total++;
    for (uint32_t i = 0; i < n->npeers; i++) {
        const zab_peer *p = &n->peers[i];
        const zab_vote *v = &p->recv;
        if (p->observer || !v->valid || v->round != n->round || !same_vote(v, &n->vote)) continue;
        if (k < 64) sids[k++] = p->sid;
        total++;
    }
    return n->quorum.contains(&n->quorum, sids, total);
}

static void decide(zab_node *n, int64_t leader);

/* Every voter whose channel is up has voted the same as me this round. */
static int all_reachable_agree(const zab_node *n)
{
    for (uint32_t i = 0; i < n->npeers; i++) {
        const zab_peer *p = &n->peers[i];
        if (p->observer || !p->up || p->broken) continue;
        const zab_vote *v = &p->recv;
        if (!v->valid || v->round != n->round || !same_vote(v, &n->vote)) return 0;
    }
    return 1;
}

/* A quorum agrees with my vote: decide now if no reachable voter can
 * still change it, else after finalize_wait. Returns 1 when decided. */
static int try_decide(zab_node *n)
{
    if (n->observer || !looking_quorum(n)) return 0;
    if (all_reachable_agree(n)) {
        decide(n, n->vote.leader);
        return 1;
    }
    if (!n->finalize_at) n->finalize_at = n->now + n->cfg.finalize_wait_ms;
    return 0;
}

/* A quorum of voters not LOOKING that agree on (leader, epoch), and the
 * leader itself saying it leads: an established ensemble to join. Vote
 * equality ignores zxid and round here, since members that joined at
 * different times report different ones. */
static int established(const zab_node *n, int outside, int64_t leader, int64_t epoch, int64_t round)
{
    int64_t sids[64];
    uint32_t k = 0, total = 0;
    int leader_confirms = 0;
    for (uint32_t i = 0; i < n->npeers; i++) {
        const zab_peer *p = &n->peers[i];
        const zab_vote *v = outside ? &p->outside : &p->recv;
        if (p->observer || !v->valid || v->state == ZAB_LOOKING) continue;
        if (!outside && v->round != n->round) continue;
        if (v->leader != leader || v->epoch != epoch) continue;
        if (k < 64) sids[k++] = p->sid;
        total++;
        leader_confirms |= p->sid == leader && v->state == ZAB_LEADING;
    }
    if (!n->quorum.contains(&n->quorum, sids, total)) return 0;
    /* checkLeader: never follow a crashed leader on its followers' word. */
    return leader == n->cfg.sid ? n->round == round : leader_confirms;
}

/* The election is over: take the role the vote gives. */
static void decide(zab_node *n, int64_t leader)
{
    n->finalize_at = n->notify_at = 0;
    n->leader = leader;
    n->vote.leader = leader;
    n->stats.last_election_ms = n->now - n->election_start;
    if (leader == n->cfg.sid) {
        n->role = ZAB_LEADING;
        zab_leader_start(n);
    } else {
        n->role = n->observer ? ZAB_OBSERVING : ZAB_FOLLOWING;
        zab_learner_start(n);
    }
}

void zab_election_start(zab_node *n)
{
    n->round++;
    n->stats.elections++;
    n->election_start = n->now;
    n->vote = initial_vote(n);
    n->finalize_at = 0;
    /* Every election starts from nothing: a vote kept from an earlier one
     * (a crashed leader saying LEADING) must never confirm a regime. */
    for (uint32_t i = 0; i < n->npeers; i++) n->peers[i].recv.valid = n->peers[i].outside.valid = 0;
    n->notify_interval = n->cfg.finalize_wait_ms;
    n->notify_at = n->now + n->notify_interval;
    broadcast_vote(n);
    (void)try_decide(n); /* a single voter is its own quorum */
}

static void adopt(zab_node *n, const zab_vote *v)
{
    n->vote.leader = v->leader;
    n->vote.zxid = v->zxid;
    n->vote.epoch = v->epoch;
    n->finalize_at = 0; /* a changed vote must gather its quorum anew */
    broadcast_vote(n);
}

static void recv_looking(zab_node *n, zab_peer *p, const zab_msg *m)
{
    zab_vote v = vote_of(m);
    if (p->observer) {
        send_notify(n, p, ZAB_LOOKING, &n->vote); /* tell it what we think */
        return;
    }
    if (m->round > n->round) {
        n->round = m->round;
        for (uint32_t i = 0; i < n->npeers; i++) n->peers[i].recv.valid = 0;
        zab_vote mine = initial_vote(n);
        adopt(n, better(n, &v, &mine) ? &v : &mine);
    } else if (m->round < n->round) {
        send_notify(n, p, ZAB_LOOKING, &n->vote); /* let it catch up */
        return;
    } else if (better(n, &v, &n->vote)) {
        adopt(n, &v);
    } else if (!same_vote(&v, &n->vote)) {
        /* It has not heard our better vote (it sent this one before ours
         * reached it, or ours reached it while it still followed someone):
         * tell it now rather than at the next periodic resend. */
        send_notify(n, p, ZAB_LOOKING, &n->vote);
    }
    p->recv = v;
    (void)try_decide(n);
}

static void recv_established(zab_node *n, zab_peer *p, const zab_msg *m)
{
    if (p->observer || m->state == ZAB_OBSERVING) return;
    zab_vote v = vote_of(m);
    if (m->round == n->round) {
        p->recv = v;
        if (established(n, 0, v.leader, v.epoch, m->round)) {
            decide(n, v.leader);
            return;
        }
    }
    p->outside = v;
    if (established(n, 1, v.leader, v.epoch, m->round)) {
        n->round = m->round;
        n->vote.epoch = v.epoch;
        decide(n, v.leader);
    }
}

void zab_election_recv(zab_node *n, zab_peer *p, const zab_msg *m)
{
    if (n->role != ZAB_LOOKING) {
        /* Someone is looking: tell it who leads. */
        if (m->state == ZAB_LOOKING) zab_election_send_vote(n, p);
        return;
    }
    if (m->state == ZAB_LOOKING) recv_looking(n, p, m);
    else recv_established(n, p, m);
}

void zab_election_tick(zab_node *n)
{
    if (n->finalize_at && n->now >= n->finalize_at) {
        if (looking_quorum(n)) {
            decide(n, n->vote.leader);
            return;
        }
        n->finalize_at = 0;
    }
    if (n->now >= n->notify_at) {
        broadcast_vote(n);
        n->notify_interval *= 2;
        if (n->notify_interval > MAX_NOTIFY_INTERVAL_MS) n->notify_interval = MAX_NOTIFY_INTERVAL_MS;
        n->notify_at = n->now + n->notify_interval;
    }
}

void zab_election_peer_up(zab_node *n, zab_peer *p)
{
    /* A channel that comes up learns our latest vote (ZooKeeper re-sends
     * the last notification on reconnect). */
    if (n->role == ZAB_LOOKING) send_notify(n, p, ZAB_LOOKING, &n->vote);
}
