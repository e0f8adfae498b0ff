/*
 * sim.c - the public face of the simulation: configuration, the event loop,
 * faults driven by the caller (crashes, partitions), client writes and the
 * settle procedure.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "tree/tree.h"
#include "util/prim.h"

/* Beyond this many nodes the per-pair tables stop being small. */
#define ZAB_SIM_MAX_NODES 1024u

/* How long a broken link takes to reconnect. */
#define ZAB_SIM_RECONNECT_MIN_MS 10
#define ZAB_SIM_RECONNECT_MAX_MS 50

int zab_sim_oom(zab_sim *sim, int rc)
{
    if (rc == ZAB_ENOMEM) zab_sim_check_fail(&sim->check, "the simulation ran out of memory");
    return rc;
}

zab_sim_host *zab_sim_host_of(zab_sim *sim, int64_t sid)
{
    if (sid < 1 || sid > (int64_t)sim->n) return NULL;
    return &sim->hosts[sid - 1];
}

uint64_t zab_sim_trace(const zab_sim *sim)
{
    return sim->trace;
}

static void apply_defaults(zab_sim_config *c)
{
    if (!c->voters) c->voters = 3;
    if (!c->tick_ms) c->tick_ms = 100;
    if (!c->init_limit) c->init_limit = 10;
    if (!c->sync_limit) c->sync_limit = 5;
    if (!c->latency_min_ms && !c->latency_max_ms) {
        c->latency_min_ms = 1;
        c->latency_max_ms = 5;
    }
    if (c->latency_max_ms < c->latency_min_ms) c->latency_max_ms = c->latency_min_ms;
    if (!c->fsync_min_ms && !c->fsync_max_ms) {
        c->fsync_min_ms = 1;
        c->fsync_max_ms = 3;
    }
    if (c->fsync_max_ms < c->fsync_min_ms) c->fsync_max_ms = c->fsync_min_ms;
}

static zab_sim_faults faults_of(const zab_sim_config *c)
{
    zab_sim_faults f = {
        .latency_min = c->latency_min_ms,
        .latency_max = c->latency_max_ms,
        .reconnect_min = ZAB_SIM_RECONNECT_MIN_MS,
        .reconnect_max = ZAB_SIM_RECONNECT_MAX_MS,
        .break_ppm = c->break_per_million,
        .dup_ppm = c->dup_per_million,
        .reorder_ppm = c->reorder_per_million,
    };
    return f;
}

zab_sim *zab_sim_new(const zab_sim_config *cfg)
{
    zab_sim_config c;
    memset(&c, 0, sizeof c);
    if (cfg) c = *cfg;
    apply_defaults(&c);
    if (c.voters > ZAB_SIM_MAX_NODES || c.observers > ZAB_SIM_MAX_NODES - c.voters) return NULL;

    zab_sim *sim = calloc(1, sizeof *sim);
    if (!sim) return NULL;
    sim->cfg = c;
    sim->n = c.voters + c.observers;
    zab_sim_rng_seed(&sim->rng, c.seed);
    zab_sim_faults f = faults_of(&c);
    sim->members = calloc(sim->n, sizeof *sim->members);
    sim->hosts = calloc(sim->n, sizeof *sim->hosts);
    if (!sim->members || !sim->hosts || zab_sim_net_init(&sim->net, sim->n, &sim->q, &sim->rng, &f)) {
        zab_sim_free(sim);
        return NULL;
    }
    for (uint32_t i = 0; i < sim->n; i++) {
        sim->members[i].sid = (int64_t)i + 1;
        sim->members[i].observer = i >= c.voters;
        sim->hosts[i].sim = sim;
        sim->hosts[i].idx = i;
        sim->hosts[i].sid = (int64_t)i + 1;
    }
    for (uint32_t i = 0; i < sim->n; i++) {
        if (zab_sim_host_start(&sim->hosts[i])) {
            zab_sim_free(sim);
            return NULL;
        }
    }
    return sim;
}

void zab_sim_free(zab_sim *sim)
{
    if (!sim) return;
    for (uint32_t i = 0; sim->hosts && i < sim->n; i++) {
        zab_sim_host *h = &sim->hosts[i];
        zab_node *node = h->node;
        h->node = NULL;
        zab_node_free(node);
        zab_sim_disk_free(&h->disk);
    }
    zab_sim_net_free(&sim->net);
    zab_sim_queue_free(&sim->q);
    zab_sim_check_free(&sim->check);
    free(sim->outcomes);
    free(sim->hosts);
    free(sim->members);
    free(sim);
}

/* ---- the loop ---- */

static int violated(const zab_sim *sim)
{
    return zab_sim_check_violation(&sim->check) != NULL;
}

static void mix_trace(zab_sim *sim, const zab_sim_event *ev)
{
    uint64_t words[3] = { (uint64_t)ev->at, ev->kind, ((uint64_t)ev->a << 32) | ev->b };
    sim->trace = zab_hash64(words, sizeof words, sim->trace);
}

/* Dispatch the next event due by until: 1, or 0 when there is none. */
static int step(zab_sim *sim, int64_t until)
{
    const zab_sim_event *next = zab_sim_queue_peek(&sim->q);
    if (!next || next->at > until) return 0;
    zab_sim_event ev;
    zab_sim_queue_pop(&sim->q, &ev);
    assert(ev.at >= sim->now);
    sim->now = ev.at;
    sim->events++;
    mix_trace(sim, &ev);
    zab_sim_host_dispatch(sim, &ev);
    return 1;
}

static int64_t deadline_after(const zab_sim *sim, int64_t ms)
{
    if (ms < 0) ms = 0;
    return ms > INT64_MAX - sim->now ? INT64_MAX : sim->now + ms;
}

static int run(zab_sim *sim, int64_t ms, int (*pred)(zab_sim *, void *), void *arg)
{
    if (violated(sim)) return ZAB_EFAILED;
    int64_t until = deadline_after(sim, ms);
    if (pred && pred(sim, arg)) return 1;
    while (step(sim, until)) {
        if (violated(sim)) return ZAB_EFAILED;
        if (pred && pred(sim, arg)) return 1;
    }
    sim->now = until;
    return 0;
}

int zab_sim_run(zab_sim *sim, int64_t ms)
{
    return run(sim, ms, NULL, NULL) < 0 ? ZAB_EFAILED : 0;
}

int zab_sim_run_until(zab_sim *sim, int64_t ms, int (*pred)(zab_sim *, void *), void *arg)
{
    return run(sim, ms, pred, arg);
}

int64_t zab_sim_now(const zab_sim *sim)
{
    return sim->now;
}

const char *zab_sim_violation(const zab_sim *sim)
{
    return zab_sim_check_violation(&sim->check);
}

uint64_t zab_sim_acked(const zab_sim *sim)
{
    return sim->check.acked;
}

/* ---- the ensemble ---- */

int64_t zab_sim_leader(const zab_sim *sim)
{
    int64_t best = 0, best_epoch = -1;
    for (uint32_t i = 0; i < sim->n; i++) {
        const zab_sim_host *h = &sim->hosts[i];
        if (!h->node || h->role != ZAB_LEADING) continue;
        zab_node_stats st;
        zab_node_stats_get(h->node, &st);
        if (st.role != ZAB_LEADING || st.stopped) continue;
        if (h->role_epoch > best_epoch) {
            best_epoch = h->role_epoch;
            best = h->sid;
        }
    }
    return best;
}

zab_node *zab_sim_node(zab_sim *sim, int64_t sid)
{
    zab_sim_host *h = zab_sim_host_of(sim, sid);
    return h ? h->node : NULL;
}

int zab_sim_crash(zab_sim *sim, int64_t sid)
{
    zab_sim_host *h = zab_sim_host_of(sim, sid);
    if (!h) return ZAB_EINVAL;
    return zab_sim_host_crash(h);
}

int zab_sim_restart(zab_sim *sim, int64_t sid)
{
    zab_sim_host *h = zab_sim_host_of(sim, sid);
    if (!h) return ZAB_EINVAL;
    if (h->node) return 0;
    return zab_sim_host_start(h);
}

int zab_sim_partition(zab_sim *sim, int64_t a, int64_t b, int one_way)
{
    zab_sim_host *ha = zab_sim_host_of(sim, a), *hb = zab_sim_host_of(sim, b);
    if (!ha || !hb || ha == hb) return ZAB_EINVAL;
    return zab_sim_oom(sim, zab_sim_net_cut(&sim->net, sim->now, ha->idx, hb->idx, one_way));
}

int zab_sim_stall(zab_sim *sim, int64_t a, int64_t b, int one_way)
{
    zab_sim_host *ha = zab_sim_host_of(sim, a), *hb = zab_sim_host_of(sim, b);
    if (!ha || !hb || ha == hb) return ZAB_EINVAL;
    zab_sim_net_stall(&sim->net, ha->idx, hb->idx, one_way);
    return 0;
}

void zab_sim_heal(zab_sim *sim)
{
    zab_sim_oom(sim, zab_sim_net_heal(&sim->net, sim->now));
}

int zab_sim_isolate(zab_sim *sim, int64_t sid)
{
    zab_sim_host *h = zab_sim_host_of(sim, sid);
    if (!h) return ZAB_EINVAL;
    for (uint32_t i = 0; i < sim->n; i++) {
        if (i == h->idx) continue;
        int rc = zab_sim_net_cut(&sim->net, sim->now, h->idx, i, 0);
        if (rc) return zab_sim_oom(sim, rc);
    }
    return 0;
}

/* ---- clients ---- */

static zab_sim_outcome *new_outcome(zab_sim *sim, int64_t sid)
{
    if (sim->noutcomes == sim->capoutcomes) {
        uint64_t cap = sim->capoutcomes ? sim->capoutcomes * 2 : 64;
        zab_sim_outcome *o = realloc(sim->outcomes, cap * sizeof *o);
        if (!o) return NULL;
        sim->outcomes = o;
        sim->capoutcomes = cap;
    }
    zab_sim_outcome *o = &sim->outcomes[sim->noutcomes++];
    memset(o, 0, sizeof *o);
    o->sid = sid;
    return o;
}

/* Call into node sid for a new request: start(node, cookie) returns what
 * the node returned, recorded as the outcome when it is an error. */
static int client_call(zab_sim *sim, int64_t sid, int write, uint64_t *id,
                       int (*start)(zab_node *, const void *, uint64_t), const void *arg)
{
    zab_sim_host *h = zab_sim_host_of(sim, sid);
    if (!h) return ZAB_EINVAL;
    zab_sim_outcome *o = new_outcome(sim, sid);
    if (!o) return ZAB_ENOMEM;
    o->write = write;
    uint64_t cookie = sim->noutcomes;
    if (id) *id = cookie;
    int rc = ZAB_ECONNECTIONLOSS;
    sim->pending++;
    if (h->node) {
        zab_sim_host_clock(h);
        rc = start(h->node, arg, cookie);
        zab_sim_host_rearm(h, 0);
    }
    o = &sim->outcomes[cookie - 1];
    if (rc && !o->done) {
        o->done = 1;
        o->err = rc;
        sim->pending--;
    }
    return rc;
}

static int start_submit(zab_node *node, const void *req, uint64_t cookie)
{
    return zab_node_submit(node, req, cookie);
}

int zab_sim_submit(zab_sim *sim, int64_t sid, const zab_request *req, uint64_t *id)
{
    if (!req) return ZAB_EINVAL;
    int write = req->type != ZAB_OP_SYNC && !zab_tree_is_read(req->type);
    return client_call(sim, sid, write, id, start_submit, req);
}

typedef struct reconnect {
    int64_t session;
    const uint8_t *passwd;
    int64_t last_zxid_seen;
} reconnect;

static int start_revalidate(zab_node *node, const void *arg, uint64_t cookie)
{
    const reconnect *r = arg;
    return zab_node_revalidate(node, r->session, r->passwd, r->last_zxid_seen, cookie);
}

int zab_sim_revalidate(zab_sim *sim, int64_t sid, int64_t session, const uint8_t passwd[16],
                       int64_t last_zxid_seen, uint64_t *id)
{
    reconnect r = { session, passwd, last_zxid_seen };
    return client_call(sim, sid, 0, id, start_revalidate, &r);
}

void zab_sim_observe(zab_sim *sim, zab_sim_reply_fn on_reply, zab_sim_watch_fn on_watch, void *ctx)
{
    sim->on_reply = on_reply;
    sim->on_watch = on_watch;
    sim->observer = ctx;
}

int zab_sim_result(const zab_sim *sim, uint64_t id, int32_t *err, int64_t *zxid)
{
    if (id == 0 || id > sim->noutcomes || !sim->outcomes[id - 1].done) return 0;
    const zab_sim_outcome *o = &sim->outcomes[id - 1];
    if (err) *err = o->err;
    if (zxid) *zxid = o->zxid;
    return 1;
}

/* ---- settle ---- */

typedef struct agreement {
    int all_running;    /* every node up and not stopped */
    int same_state;     /* equal last applied zxid and digest everywhere */
    int served;         /* one leader, followed by every other node */
    int64_t applied;
} agreement;

static agreement assess(zab_sim *sim)
{
    agreement a = { 1, 1, 1, 0 };
    int64_t leader = zab_sim_leader(sim);
    uint64_t digest = 0;
    if (!leader) a.served = 0;
    for (uint32_t i = 0; i < sim->n; i++) {
        zab_sim_host *h = &sim->hosts[i];
        if (!h->node) {
            a.all_running = a.same_state = a.served = 0;
            return a;
        }
        zab_node_stats st;
        zab_node_stats_get(h->node, &st);
        zab_tree_stats ts;
        zab_tree_stats_get(zab_node_tree(h->node), &ts);
        if (st.stopped) a.all_running = 0;
        if (i == 0) {
            a.applied = st.last_applied;
            digest = ts.digest;
        } else if (st.last_applied != a.applied || ts.digest != digest) {
            a.same_state = 0;
        }
        /* Served: announced through on_role, which comes once the node
         * serves, and not left since. */
        if (h->sid != leader && (h->role == ZAB_LOOKING || h->role == ZAB_LEADING ||
                                 h->role_leader != leader || st.role != h->role))
            a.served = 0;
    }
    return a;
}

static int settled(zab_sim *sim, void *unused)
{
    (void)unused;
    agreement a = assess(sim);
    return a.all_running && a.same_state && a.served && !sim->pending &&
           a.applied >= sim->check.max_acked;
}

int zab_sim_settle(zab_sim *sim, int64_t ms)
{
    if (violated(sim)) return ZAB_EFAILED;
    zab_sim_faults saved = sim->net.f;
    uint32_t torn = sim->cfg.torn_per_million;
    sim->net.f.break_ppm = sim->net.f.dup_ppm = sim->net.f.reorder_ppm = 0;
    sim->cfg.torn_per_million = 0;

    zab_sim_heal(sim);
    for (uint32_t i = 0; i < sim->n && !violated(sim); i++) {
        if (!sim->hosts[i].node) zab_sim_host_start(&sim->hosts[i]);
    }
    int rc = run(sim, ms, settled, NULL);
    if (rc == 0) {
        agreement a = assess(sim);
        if (a.all_running && a.same_state && a.applied < sim->check.max_acked) {
            zab_sim_check_fail(&sim->check,
                               "every node settled at zxid 0x%" PRIx64
                               " but zxid 0x%" PRIx64 " was acknowledged: the write is lost",
                               (uint64_t)a.applied, (uint64_t)sim->check.max_acked);
            rc = ZAB_EFAILED;
        }
    }
    sim->net.f = saved;
    sim->cfg.torn_per_million = torn;
    return rc;
}
