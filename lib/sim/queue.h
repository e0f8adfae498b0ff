/*
 * queue.h - the simulation's event queue: a binary min-heap ordered by
 * (virtual time, sequence number). The sequence number is assigned at push,
 * so events due at the same instant run in the order they were scheduled and
 * a run never depends on how the heap happens to break ties.
 */
#ifndef ZAB_SIM_QUEUE_H
#define ZAB_SIM_QUEUE_H

#include <stddef.h>
#include <stdint.h>

enum {
    ZAB_SIM_EV_DELIVER = 1, /* a: sender, b: receiver, tag: link generation */
    ZAB_SIM_EV_TIMER,       /* a: node, tag: node life */
    ZAB_SIM_EV_SYNC,        /* a: node, tag: node life, arg: append mark */
    ZAB_SIM_EV_LINK_UP,     /* a, b: the two ends */
    ZAB_SIM_EV_PEER_DOWN    /* a: node told, b: its lost peer, tag: a's life */
};

typedef struct zab_sim_event {
    int64_t at;
    uint64_t seq;
    uint64_t arg;
    uint32_t kind;
    uint32_t a, b;  /* node indices (sid - 1) */
    uint32_t tag;
} zab_sim_event;

typedef struct zab_sim_queue {
    zab_sim_event *heap;
    size_t n, cap;
    uint64_t next_seq;
} zab_sim_queue;

/* Schedule an event. 0 or ZAB_ENOMEM (queue unchanged). */
int zab_sim_queue_push(zab_sim_queue *q, int64_t at, uint32_t kind, uint32_t a, uint32_t b,
                       uint32_t tag, uint64_t arg);

/* The earliest event, or NULL when the queue is empty. */
const zab_sim_event *zab_sim_queue_peek(const zab_sim_queue *q);

/* Remove the earliest event into *out: 1, or 0 when the queue is empty. */
int zab_sim_queue_pop(zab_sim_queue *q, zab_sim_event *out);

void zab_sim_queue_free(zab_sim_queue *q);

#endif
