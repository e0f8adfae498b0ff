/*
 * host.c - what the simulation does as the host of each node: the zab_io
 * callbacks (which only record and schedule: a callback never calls into a
 * node), starting a node from its disk, crashing it, and the node calls that
 * each event makes.
 */
#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "sim/sim.h"
#include "util/prim.h"

#define X(zxid) ((uint64_t)(zxid))

static zab_sim_host *peer_host(zab_sim_host *h, int64_t sid)
{
    zab_sim_host *p = zab_sim_host_of(h->sim, sid);
    return p && p != h ? p : NULL;
}

/* ---- zab_io ---- */

static void io_send(void *ctx, int64_t to, const void *bytes, size_t len)
{
    zab_sim_host *h = ctx;
    zab_sim_host *p = peer_host(h, to);
    if (!p) return;
    zab_sim *sim = h->sim;
    zab_sim_oom(sim, zab_sim_net_send(&sim->net, sim->now, h->idx, p->idx, bytes, len));
}

static void io_disconnect(void *ctx, int64_t to)
{
    zab_sim_host *h = ctx;
    zab_sim_host *p = peer_host(h, to);
    if (!p) return;
    zab_sim *sim = h->sim;
    zab_sim_oom(sim, zab_sim_net_break(&sim->net, sim->now, h->idx, p->idx));
}

static int io_log_append(void *ctx, const zab_entry *entries, size_t n)
{
    zab_sim_host *h = ctx;
    zab_sim *sim = h->sim;
    int rc = zab_sim_disk_append(&h->disk, entries, n);
    if (rc == ZAB_EINVAL) {
        zab_sim_check_fail(&sim->check,
                           "node %" PRId64 " appended zxid 0x%" PRIx64 " to a log ending at 0x%" PRIx64
                           ": log zxids must increase",
                           h->sid, n ? X(entries[0].zxid) : 0, X(zab_sim_disk_last(&h->disk)));
        return rc;
    }
    if (rc) return zab_sim_oom(sim, rc);
    int64_t delay = zab_sim_rng_range(&sim->rng, sim->cfg.fsync_min_ms, sim->cfg.fsync_max_ms);
    rc = zab_sim_queue_push(&sim->q, sim->now + delay, ZAB_SIM_EV_SYNC, h->idx, 0,
                            sim->net.life[h->idx], zab_sim_disk_mark(&h->disk));
    return zab_sim_oom(sim, rc);
}

static int io_log_truncate(void *ctx, int64_t zxid)
{
    zab_sim_host *h = ctx;
    int rc = zab_sim_disk_truncate(&h->disk, zxid);
    if (rc)
        zab_sim_check_fail(&h->sim->check,
                           "node %" PRId64 " truncated its log to 0x%" PRIx64
                           ", below its snapshot at 0x%" PRIx64,
                           h->sid, X(zxid), X(h->disk.snap_zxid));
    return rc;
}

static int io_save_epochs(void *ctx, int64_t accepted, int64_t current)
{
    zab_sim_host *h = ctx;
    zab_sim_check_epochs(&h->sim->check, h->sid, h->disk.accepted, h->disk.current, accepted,
                         current);
    h->disk.accepted = accepted;
    h->disk.current = current;
    return 0;
}

static int io_save_snapshot(void *ctx, const zab_tree *tree)
{
    zab_sim_host *h = ctx;
    return zab_sim_oom(h->sim, zab_sim_disk_save_snapshot(&h->disk, tree));
}

static void io_on_result(void *ctx, uint64_t cookie, const zab_reply *reply)
{
    zab_sim_host *h = ctx;
    zab_sim *sim = h->sim;
    if (cookie == 0 || cookie > sim->noutcomes) {
        zab_sim_check_fail(&sim->check, "node %" PRId64 " answered unknown request %" PRIu64,
                           h->sid, cookie);
        return;
    }
    zab_sim_outcome *o = &sim->outcomes[cookie - 1];
    if (o->done || o->sid != h->sid) {
        zab_sim_check_fail(&sim->check, "node %" PRId64 " answered request %" PRIu64 " %s",
                           h->sid, cookie, o->done ? "twice" : "submitted elsewhere");
        return;
    }
    o->done = 1;
    sim->pending--;
    o->err = reply->err;
    o->zxid = reply->zxid;
    if (reply->err == ZAB_OK && o->write)
        zab_sim_oom(sim, zab_sim_check_ack(&sim->check, h->sid, reply->zxid));
    if (sim->on_reply) sim->on_reply(sim->observer, h->sid, cookie, reply);
}

static void io_on_watch(void *ctx, int64_t watcher, const zab_event *ev)
{
    zab_sim_host *h = ctx;
    if (h->sim->on_watch) h->sim->on_watch(h->sim->observer, h->sid, watcher, ev);
}

static void io_on_role(void *ctx, int role, int64_t leader, int64_t epoch)
{
    zab_sim_host *h = ctx;
    h->role = role;
    h->role_leader = leader;
    h->role_epoch = epoch;
    if (role != ZAB_LEADING) return;
    if (leader != h->sid)
        zab_sim_check_fail(&h->sim->check,
                           "node %" PRId64 " reports leading epoch %" PRId64 " with leader %" PRId64,
                           h->sid, epoch, leader);
    zab_sim_oom(h->sim, zab_sim_check_leader(&h->sim->check, h->sid, epoch));
}

/* Compare the node's tree at zxid with the history (and remember zxid). */
static void note_applied(zab_sim_host *h, int64_t zxid)
{
    zab_tree_stats st;
    zab_tree_stats_get(zab_node_tree(h->node), &st);
    if (st.last_zxid != zxid) {
        zab_sim_check_fail(&h->sim->check,
                           "node %" PRId64 " reported zxid 0x%" PRIx64 " applied but its tree is at 0x%" PRIx64,
                           h->sid, X(zxid), X(st.last_zxid));
        return;
    }
    int rc = zab_sim_check_apply(&h->sim->check, h->sid, h->applied, zxid, st.digest);
    zab_sim_oom(h->sim, rc);
    h->applied = zxid;
}

static void io_on_apply(void *ctx, int64_t zxid)
{
    zab_sim_host *h = ctx;
    if (h->node) note_applied(h, zxid);
}

/* ---- life cycle ---- */

typedef struct mem_reader {
    const uint8_t *p;
    size_t left;
} mem_reader;

static long mem_read(void *ctx, void *bytes, size_t len)
{
    mem_reader *r = ctx;
    size_t n = len < r->left ? len : r->left;
    if (n > (size_t)LONG_MAX) n = (size_t)LONG_MAX;
    memcpy(bytes, r->p, n);
    r->p += n;
    r->left -= n;
    return (long)n;
}

static zab_node *new_node(zab_sim_host *h)
{
    const zab_sim_config *c = &h->sim->cfg;
    zab_node_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.sid = h->sid;
    cfg.members = h->sim->members;
    cfg.nmembers = h->sim->n;
    cfg.tick_ms = c->tick_ms;
    cfg.init_limit = c->init_limit;
    cfg.sync_limit = c->sync_limit;
    cfg.log_window = c->log_window;
    cfg.snap_chunk = c->snap_chunk;
    /* Digests compare across replicas only when the trees hash alike. */
    cfg.tree.hash_seed = c->seed ^ 0x5a6b5a6b5a6b5a6bull;
    cfg.tree.on_watch = io_on_watch;
    cfg.tree.watch_ctx = h;
    zab_io io = {
        .ctx = h,
        .send = io_send,
        .disconnect = io_disconnect,
        .log_append = io_log_append,
        .log_truncate = io_log_truncate,
        .save_epochs = io_save_epochs,
        .save_snapshot = io_save_snapshot,
        .on_result = io_on_result,
        .on_role = io_on_role,
        .on_apply = io_on_apply,
    };
    zab_node_state st = { h->disk.accepted, h->disk.current };
    return zab_node_new(&cfg, &io, &st);
}

/* Hand the node what survived on disk: the snapshot, then every intact
 * record after it (recovery has cut the log at the first torn one). */
static int restore(zab_sim_host *h)
{
    zab_sim_check *check = &h->sim->check;
    if (h->disk.snap.len) {
        mem_reader r = { h->disk.snap.data, h->disk.snap.len };
        int rc = zab_node_restore_snapshot(h->node, mem_read, &r);
        if (rc == ZAB_ENOMEM) return rc;
        if (rc) {
            zab_sim_check_fail(check, "node %" PRId64 " refused its own snapshot at 0x%" PRIx64 ": %s",
                               h->sid, X(h->disk.snap_zxid), zab_strerror(rc));
            return 0;
        }
    }
    size_t n = zab_sim_disk_recover(&h->disk);
    for (size_t i = 0; i < n; i++) {
        const zab_sim_record *rec = &h->disk.log[i];
        zab_entry e = { rec->zxid, rec->bytes, rec->len };
        int rc = zab_node_restore_entry(h->node, &e);
        if (rc == ZAB_ENOMEM) return rc;
        if (rc) {
            zab_sim_check_fail(check, "node %" PRId64 " refused its own log entry 0x%" PRIx64 ": %s",
                               h->sid, X(rec->zxid), zab_strerror(rc));
            return 0;
        }
    }
    /* Whether or not the node reported it, what it holds now must fit the
     * history. */
    zab_tree_stats st;
    zab_tree_stats_get(zab_node_tree(h->node), &st);
    note_applied(h, st.last_zxid);
    return 0;
}

int zab_sim_host_start(zab_sim_host *h)
{
    zab_sim *sim = h->sim;
    assert(!h->node);
    h->applied = 0;
    h->timer_at = INT64_MAX;
    h->role = ZAB_LOOKING;
    h->role_leader = 0;
    h->role_epoch = 0;
    h->node = new_node(h);
    if (!h->node) return ZAB_ENOMEM; /* the configuration is always valid */
    int rc = restore(h);
    if (!rc) rc = zab_node_start(h->node, sim->now);
    h->clock = sim->now;
    if (rc && rc != ZAB_ENOMEM) {
        zab_sim_check_fail(&sim->check, "node %" PRId64 " failed to start: %s", h->sid,
                           zab_strerror(rc));
        rc = 0;
    }
    if (!rc) rc = zab_sim_net_start(&sim->net, sim->now, h->idx);
    if (rc) return zab_sim_oom(sim, rc);
    zab_sim_host_rearm(h, 0);
    return 0;
}

int zab_sim_host_crash(zab_sim_host *h)
{
    zab_sim *sim = h->sim;
    zab_node *node = h->node;
    if (!node) return 0;
    h->node = NULL;
    zab_node_free(node);
    h->role = ZAB_LOOKING;
    zab_sim_disk_crash(&h->disk, &sim->rng, sim->cfg.torn_per_million);
    int rc = zab_sim_oom(sim, zab_sim_net_crash(&sim->net, sim->now, h->idx));
    /* Its clients lose their connection with their writes in doubt. */
    for (uint64_t i = 0; i < sim->noutcomes; i++) {
        zab_sim_outcome *o = &sim->outcomes[i];
        if (o->sid != h->sid || o->done) continue;
        o->done = 1;
        o->err = ZAB_ECONNECTIONLOSS;
        sim->pending--;
    }
    return rc;
}

/* ---- events ---- */

void zab_sim_host_clock(zab_sim_host *h)
{
    int64_t now = h->sim->now;
    if (now <= h->clock) return;
    h->clock = now;
    zab_node_tick(h->node, now);
}

void zab_sim_host_rearm(zab_sim_host *h, int after_tick)
{
    if (!h->node) return;
    zab_sim *sim = h->sim;
    int64_t due = zab_node_next_deadline(h->node);
    /* A node still due right after its tick would spin at one instant. */
    int64_t soonest = after_tick ? sim->now + 1 : sim->now;
    if (due < soonest) due = soonest;
    if (due >= h->timer_at) return;
    h->timer_at = due;
    zab_sim_oom(sim, zab_sim_queue_push(&sim->q, due, ZAB_SIM_EV_TIMER, h->idx, 0,
                                        sim->net.life[h->idx], 0));
}

static zab_sim_host *live_host(zab_sim *sim, uint32_t idx, uint32_t life)
{
    zab_sim_host *h = &sim->hosts[idx];
    return h->node && sim->net.life[idx] == life ? h : NULL;
}

static void on_deliver(zab_sim *sim, const zab_sim_event *ev)
{
    zab_sim_msg *m = zab_sim_net_deliver(&sim->net, ev);
    if (!m) return;
    sim->trace = zab_hash64(m->bytes, m->len, sim->trace);
    zab_sim_host *h = &sim->hosts[ev->b];
    assert(h->node);
    zab_sim_host_clock(h);
    zab_node_recv(h->node, sim->hosts[ev->a].sid, m->bytes, m->len);
    zab_sim_msg_free(m);
    zab_sim_host_rearm(h, 0);
}

static void on_timer(zab_sim *sim, const zab_sim_event *ev)
{
    zab_sim_host *h = live_host(sim, ev->a, ev->tag);
    if (!h) return;
    if (h->timer_at == ev->at) h->timer_at = INT64_MAX;
    zab_sim_host_clock(h);
    if (zab_node_next_deadline(h->node) <= sim->now) zab_node_tick(h->node, sim->now);
    zab_sim_host_rearm(h, 1);
}

static void on_sync(zab_sim *sim, const zab_sim_event *ev)
{
    zab_sim_host *h = live_host(sim, ev->a, ev->tag);
    int64_t zxid;
    if (!h || !zab_sim_disk_sync(&h->disk, ev->arg, &zxid)) return;
    zab_sim_host_clock(h);
    zab_node_log_synced(h->node, zxid);
    zab_sim_host_rearm(h, 0);
}

static void on_link_up(zab_sim *sim, const zab_sim_event *ev)
{
    if (!zab_sim_net_link_up(&sim->net, ev)) return;
    zab_sim_host *a = &sim->hosts[ev->a], *b = &sim->hosts[ev->b];
    zab_sim_host_clock(a);
    zab_node_peer_up(a->node, b->sid);
    zab_sim_host_rearm(a, 0);
    zab_sim_host_clock(b);
    zab_node_peer_up(b->node, a->sid);
    zab_sim_host_rearm(b, 0);
}

static void on_peer_down(zab_sim *sim, const zab_sim_event *ev)
{
    zab_sim_host *h = live_host(sim, ev->a, ev->tag);
    if (!h) return;
    zab_sim_host_clock(h);
    zab_node_peer_down(h->node, sim->hosts[ev->b].sid);
    zab_sim_host_rearm(h, 0);
}

void zab_sim_host_dispatch(zab_sim *sim, const zab_sim_event *ev)
{
    switch (ev->kind) {
    case ZAB_SIM_EV_DELIVER: on_deliver(sim, ev); break;
    case ZAB_SIM_EV_TIMER: on_timer(sim, ev); break;
    case ZAB_SIM_EV_SYNC: on_sync(sim, ev); break;
    case ZAB_SIM_EV_LINK_UP: on_link_up(sim, ev); break;
    case ZAB_SIM_EV_PEER_DOWN: on_peer_down(sim, ev); break;
    default: assert(0 && "unknown event kind");
    }
}
