/*
 * net.h - the simulated network: a FIFO channel for every ordered pair of
 * nodes, grouped in links (one per unordered pair) that are up or down as a
 * whole, the way a TCP connection is.
 *
 * A message sent on an up link is delivered after a random latency, never
 * before the message sent ahead of it on the same channel. Faults drawn per
 * message: the link breaks (the message and everything in flight both ways
 * is lost, both ends get a PEER_DOWN event, and the link reconnects after a
 * short delay); the message is delivered twice; or it overtakes the message
 * ahead of it. The nodes see the last two through the sequence numbers of
 * their protocol and ask for the link to be closed.
 *
 * Partitions are per direction. Cutting a->b breaks the link once; while the
 * cut lasts, a message sent from a to b fails (and breaks the link again),
 * and a link cut both ways cannot reconnect at all. So a one-way cut leaves a
 * link that reconnects, carries b's messages and breaks at a's first one.
 * A stall is a silent partition instead: the link stays up, and what a
 * sends to b waits in a's socket, as TCP's retransmissions wait, until the
 * heal, when all of it arrives in order.
 *
 * Every time the network schedules an event it pushes it on the shared
 * queue; node calls are the host's business (sim/host.c).
 */
#ifndef ZAB_SIM_NET_H
#define ZAB_SIM_NET_H

#include <stddef.h>
#include <stdint.h>

#include "sim/queue.h"
#include "sim/rng.h"

typedef struct zab_sim_msg zab_sim_msg;
struct zab_sim_msg {
    zab_sim_msg *next;
    int64_t at;         /* delivery time; fixed to the position in the queue */
    uint8_t *bytes;
    size_t len;
};

typedef struct zab_sim_chan {
    zab_sim_msg *head, *tail;
} zab_sim_chan;

typedef struct zab_sim_faults {
    uint32_t latency_min, latency_max;     /* ms */
    uint32_t reconnect_min, reconnect_max; /* ms after a break */
    uint32_t break_ppm, dup_ppm, reorder_ppm;
} zab_sim_faults;

typedef struct zab_sim_net_counts {
    uint64_t sent, delivered, dropped, breaks, dups, reorders;
} zab_sim_net_counts;

typedef struct zab_sim_net {
    uint32_t n;
    zab_sim_chan *chan;  /* [from * n + to] */
    uint8_t *up;         /* [lo * n + hi], lo < hi */
    uint32_t *gen;       /* [lo * n + hi]: bumped at every break */
    uint8_t *cut;        /* [from * n + to] */
    uint8_t *alive;      /* [node] */
    uint32_t *life;      /* [node]: bumped at every crash */
    zab_sim_queue *q;
    zab_sim_rng *rng;
    zab_sim_faults f;
    zab_sim_net_counts count;
} zab_sim_net;

/* n nodes, every one down and every link down. 0 or ZAB_ENOMEM. */
int zab_sim_net_init(zab_sim_net *net, uint32_t n, zab_sim_queue *q, zab_sim_rng *rng,
                     const zab_sim_faults *f);
void zab_sim_net_free(zab_sim_net *net);

/* Queue len bytes from node `from` to node `to` at time now. A send on a
 * link that is down is dropped silently (its ends have been or will be told).
 * 0 or ZAB_ENOMEM. */
int zab_sim_net_send(zab_sim_net *net, int64_t now, uint32_t from, uint32_t to,
                     const void *bytes, size_t len);

/* The message a DELIVER event stands for, detached (free it with
 * zab_sim_msg_free), or NULL when the link broke since it was sent. */
zab_sim_msg *zab_sim_net_deliver(zab_sim_net *net, const zab_sim_event *ev);
void zab_sim_msg_free(zab_sim_msg *m);

/* Break the link between a and b if it is up. 0 or ZAB_ENOMEM. */
int zab_sim_net_break(zab_sim_net *net, int64_t now, uint32_t a, uint32_t b);

/* A LINK_UP event (tagged with the link's generation when it was planned):
 * 1 when the link came up (the host then tells both ends), 0 when it is up
 * already, may not come up, or broke again since it was planned. */
int zab_sim_net_link_up(zab_sim_net *net, const zab_sim_event *ev);

int zab_sim_net_is_up(const zab_sim_net *net, uint32_t a, uint32_t b);

/* Cut a->b (and b->a unless one_way), breaking the link. */
int zab_sim_net_cut(zab_sim_net *net, int64_t now, uint32_t a, uint32_t b, int one_way);

/* Stall a->b (and b->a unless one_way): a silent partition. */
void zab_sim_net_stall(zab_sim_net *net, uint32_t a, uint32_t b, int one_way);
/* Remove every cut and stall, deliver what the stalls held, and reconnect every link between running nodes. */
int zab_sim_net_heal(zab_sim_net *net, int64_t now);

/* A node stops (every link to it breaks) or starts (its links reconnect to
 * every running node it is not cut from both ways). 0 or ZAB_ENOMEM. */
int zab_sim_net_crash(zab_sim_net *net, int64_t now, uint32_t node);
int zab_sim_net_start(zab_sim_net *net, int64_t now, uint32_t node);

#endif
