/*
 * net.c - FIFO channels, links, faults and partitions.
 */
#include "sim/net.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "zab.h"

static size_t link_at(const zab_sim_net *net, uint32_t a, uint32_t b)
{
    assert(a != b && a < net->n && b < net->n);
    return a < b ? (size_t)a * net->n + b : (size_t)b * net->n + a;
}

static zab_sim_chan *chan_of(zab_sim_net *net, uint32_t from, uint32_t to)
{
    return &net->chan[(size_t)from * net->n + to];
}

int zab_sim_net_init(zab_sim_net *net, uint32_t n, zab_sim_queue *q, zab_sim_rng *rng,
                     const zab_sim_faults *f)
{
    memset(net, 0, sizeof *net);
    size_t cells = (size_t)n * n;
    net->n = n;
    net->q = q;
    net->rng = rng;
    net->f = *f;
    net->chan = calloc(cells ? cells : 1, sizeof *net->chan);
    net->up = calloc(cells ? cells : 1, 1);
    net->gen = calloc(cells ? cells : 1, sizeof *net->gen);
    net->cut = calloc(cells ? cells : 1, 1);
    net->alive = calloc(n ? n : 1, 1);
    net->life = calloc(n ? n : 1, sizeof *net->life);
    if (!net->chan || !net->up || !net->gen || !net->cut || !net->alive || !net->life) {
        zab_sim_net_free(net);
        return ZAB_ENOMEM;
    }
    return 0;
}

void zab_sim_msg_free(zab_sim_msg *m)
{
    if (!m) return;
    free(m->bytes);
    free(m);
}

static void chan_clear(zab_sim_chan *c)
{
    while (c->head) {
        zab_sim_msg *m = c->head;
        c->head = m->next;
        zab_sim_msg_free(m);
    }
    c->tail = NULL;
}

void zab_sim_net_free(zab_sim_net *net)
{
    if (net->chan) {
        for (size_t i = 0; i < (size_t)net->n * net->n; i++) chan_clear(&net->chan[i]);
    }
    free(net->chan);
    free(net->up);
    free(net->gen);
    free(net->cut);
    free(net->alive);
    free(net->life);
    memset(net, 0, sizeof *net);
}

/* cut[] values, and the delivery time of a message held by a stall. */
enum { CUT_NONE, CUT_BREAK, CUT_STALL };
#define HELD INT64_MAX

static zab_sim_msg *msg_new(int64_t at, const void *bytes, size_t len)
{
    zab_sim_msg *m = malloc(sizeof *m);
    if (!m) return NULL;
    m->bytes = malloc(len ? len : 1);
    if (!m->bytes) {
        free(m);
        return NULL;
    }
    if (len) memcpy(m->bytes, bytes, len);
    m->len = len;
    m->at = at;
    m->next = NULL;
    return m;
}

static void chan_append(zab_sim_chan *c, zab_sim_msg *m)
{
    if (c->tail) c->tail->next = m;
    else c->head = m;
    c->tail = m;
}

/* Put m on the channel and schedule its delivery. */
static int enqueue(zab_sim_net *net, uint32_t from, uint32_t to, zab_sim_msg *m)
{
    uint32_t gen = net->gen[link_at(net, from, to)];
    int rc = zab_sim_queue_push(net->q, m->at, ZAB_SIM_EV_DELIVER, from, to, gen, 0);
    if (rc) {
        zab_sim_msg_free(m);
        return rc;
    }
    chan_append(chan_of(net, from, to), m);
    return 0;
}

/* The delivery slots stay in time order; overtaking swaps the contents of
 * the last two, which is the same as swapping their delivery times. */
static void overtake(zab_sim_msg *prev, zab_sim_msg *m)
{
    uint8_t *bytes = prev->bytes;
    size_t len = prev->len;
    prev->bytes = m->bytes;
    prev->len = m->len;
    m->bytes = bytes;
    m->len = len;
}

int zab_sim_net_send(zab_sim_net *net, int64_t now, uint32_t from, uint32_t to,
                     const void *bytes, size_t len)
{
    if (from >= net->n || to >= net->n || from == to) return 0;
    net->count.sent++;
    if (!net->up[link_at(net, from, to)]) {
        net->count.dropped++;
        return 0;
    }
    uint8_t cut = net->cut[(size_t)from * net->n + to];
    if (cut == CUT_BREAK || zab_sim_rng_chance(net->rng, net->f.break_ppm))
        return zab_sim_net_break(net, now, from, to);

    zab_sim_chan *c = chan_of(net, from, to);
    if (cut == CUT_STALL || (c->tail && c->tail->at == HELD)) {
        /* Held in the sender's socket until the partition heals. */
        zab_sim_msg *held = msg_new(HELD, bytes, len);
        if (!held) return ZAB_ENOMEM;
        chan_append(c, held);
        return 0;
    }
    zab_sim_msg *prev = c->tail;
    int64_t at = now + zab_sim_rng_range(net->rng, net->f.latency_min, net->f.latency_max);
    if (prev && prev->at > at) at = prev->at;
    zab_sim_msg *m = msg_new(at, bytes, len);
    if (!m) return ZAB_ENOMEM;
    int rc = enqueue(net, from, to, m);
    if (rc) return rc;

    if (zab_sim_rng_chance(net->rng, net->f.dup_ppm)) {
        zab_sim_msg *copy = msg_new(at, bytes, len);
        if (!copy) return ZAB_ENOMEM;
        net->count.dups++;
        return enqueue(net, from, to, copy);
    }
    if (prev && zab_sim_rng_chance(net->rng, net->f.reorder_ppm)) {
        net->count.reorders++;
        overtake(prev, m);
    }
    return 0;
}

zab_sim_msg *zab_sim_net_deliver(zab_sim_net *net, const zab_sim_event *ev)
{
    size_t l = link_at(net, ev->a, ev->b);
    if (!net->up[l] || net->gen[l] != ev->tag) return NULL;
    zab_sim_chan *c = chan_of(net, ev->a, ev->b);
    zab_sim_msg *m = c->head;
    assert(m && m->at == ev->at);
    c->head = m->next;
    if (!c->head) c->tail = NULL;
    m->next = NULL;
    net->count.delivered++;
    return m;
}

static int cut_both_ways(const zab_sim_net *net, uint32_t a, uint32_t b)
{
    return net->cut[(size_t)a * net->n + b] && net->cut[(size_t)b * net->n + a];
}

int zab_sim_net_break(zab_sim_net *net, int64_t now, uint32_t a, uint32_t b)
{
    size_t l = link_at(net, a, b);
    if (!net->up[l]) return 0;
    net->up[l] = 0;
    net->gen[l]++;
    net->count.breaks++;
    chan_clear(chan_of(net, a, b));
    chan_clear(chan_of(net, b, a));
    int rc = 0;
    if (net->alive[a])
        rc = zab_sim_queue_push(net->q, now, ZAB_SIM_EV_PEER_DOWN, a, b, net->life[a], 0);
    if (!rc && net->alive[b])
        rc = zab_sim_queue_push(net->q, now, ZAB_SIM_EV_PEER_DOWN, b, a, net->life[b], 0);
    if (!rc && net->alive[a] && net->alive[b]) {
        int64_t delay = zab_sim_rng_range(net->rng, net->f.reconnect_min, net->f.reconnect_max);
        rc = zab_sim_queue_push(net->q, now + delay, ZAB_SIM_EV_LINK_UP, a, b, net->gen[l], 0);
    }
    return rc;
}

int zab_sim_net_link_up(zab_sim_net *net, const zab_sim_event *ev)
{
    uint32_t a = ev->a, b = ev->b;
    size_t l = link_at(net, a, b);
    /* A reconnect planned before a later break is stale: that break's
     * ends have yet to hear of it, and it plans its own. */
    if (net->gen[l] != ev->tag) return 0;
    if (net->up[l] || !net->alive[a] || !net->alive[b] || cut_both_ways(net, a, b)) return 0;
    net->up[l] = 1;
    return 1;
}

int zab_sim_net_is_up(const zab_sim_net *net, uint32_t a, uint32_t b)
{
    return net->up[link_at(net, a, b)];
}

int zab_sim_net_cut(zab_sim_net *net, int64_t now, uint32_t a, uint32_t b, int one_way)
{
    net->cut[(size_t)a * net->n + b] = CUT_BREAK;
    if (!one_way) net->cut[(size_t)b * net->n + a] = CUT_BREAK;
    return zab_sim_net_break(net, now, a, b);
}

void zab_sim_net_stall(zab_sim_net *net, uint32_t a, uint32_t b, int one_way)
{
    if (!net->cut[(size_t)a * net->n + b]) net->cut[(size_t)a * net->n + b] = CUT_STALL;
    if (!one_way && !net->cut[(size_t)b * net->n + a]) net->cut[(size_t)b * net->n + a] = CUT_STALL;
}

/* Schedule every held message of channel from->to, in order. */
static int release(zab_sim_net *net, int64_t now, uint32_t from, uint32_t to)
{
    zab_sim_chan *c = chan_of(net, from, to);
    uint32_t gen = net->gen[link_at(net, from, to)];
    int64_t last = now;
    for (zab_sim_msg *m = c->head; m; m = m->next) {
        if (m->at != HELD) {
            last = m->at > last ? m->at : last;
            continue;
        }
        int64_t at = now + zab_sim_rng_range(net->rng, net->f.latency_min, net->f.latency_max);
        m->at = at > last ? at : last;
        last = m->at;
        int rc = zab_sim_queue_push(net->q, m->at, ZAB_SIM_EV_DELIVER, from, to, gen, 0);
        if (rc) return rc;
    }
    return 0;
}

int zab_sim_net_heal(zab_sim_net *net, int64_t now)
{
    memset(net->cut, 0, (size_t)net->n * net->n);
    for (uint32_t a = 0; a < net->n; a++) {
        for (uint32_t b = 0; b < net->n; b++) {
            int rc = a == b ? 0 : release(net, now, a, b);
            if (rc) return rc;
        }
    }
    for (uint32_t a = 0; a < net->n; a++) {
        for (uint32_t b = a + 1; b < net->n; b++) {
            if (net->up[link_at(net, a, b)] || !net->alive[a] || !net->alive[b]) continue;
            int rc = zab_sim_queue_push(net->q, now, ZAB_SIM_EV_LINK_UP, a, b,
                                        net->gen[link_at(net, a, b)], 0);
            if (rc) return rc;
        }
    }
    return 0;
}

int zab_sim_net_crash(zab_sim_net *net, int64_t now, uint32_t node)
{
    if (!net->alive[node]) return 0;
    net->alive[node] = 0;
    net->life[node]++;
    for (uint32_t other = 0; other < net->n; other++) {
        if (other == node) continue;
        int rc = zab_sim_net_break(net, now, node, other);
        if (rc) return rc;
    }
    return 0;
}

int zab_sim_net_start(zab_sim_net *net, int64_t now, uint32_t node)
{
    if (net->alive[node]) return 0;
    net->alive[node] = 1;
    for (uint32_t other = 0; other < net->n; other++) {
        if (other == node || !net->alive[other]) continue;
        uint32_t lo = node < other ? node : other, hi = node < other ? other : node;
        int rc = zab_sim_queue_push(net->q, now, ZAB_SIM_EV_LINK_UP, lo, hi,
                                    net->gen[link_at(net, lo, hi)], 0);
        if (rc) return rc;
    }
    return 0;
}
