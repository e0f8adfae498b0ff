/*
 * sim.h - the simulation's internal state, shared by sim.c (the public API
 * and the event loop) and host.c (what a host does for each node: the zab_io
 * callbacks, restarts from disk, crashes, and the node calls each event
 * makes).
 */
#ifndef ZAB_SIM_SIM_H
#define ZAB_SIM_SIM_H

#include <stdint.h>

#include "sim/check.h"
#include "sim/disk.h"
#include "sim/net.h"
#include "sim/queue.h"
#include "sim/rng.h"
#include "zab.h"
#include "zab_sim.h"

/* The host of one node. */
typedef struct zab_sim_host {
    zab_sim *sim;
    uint32_t idx;       /* sid - 1 */
    int64_t sid;
    zab_node *node;     /* NULL while crashed */
    zab_sim_disk disk;
    int64_t clock;      /* the time the node was last given */
    int64_t timer_at;   /* earliest TIMER event pending, INT64_MAX if none */
    int64_t applied;    /* last zxid the node reported applied in this life */
    int role;           /* last on_role: the role it serves in */
    int64_t role_leader, role_epoch;
} zab_sim_host;

/* A write submitted through zab_sim_submit. */
typedef struct zab_sim_outcome {
    int64_t sid;
    int write;          /* a write: its success is an acknowledged write */
    int done;
    int32_t err;
    int64_t zxid;
} zab_sim_outcome;

struct zab_sim {
    zab_sim_config cfg;
    int64_t now;
    zab_sim_rng rng;
    zab_sim_queue q;
    zab_sim_net net;
    zab_sim_check check;
    uint32_t n;
    zab_member *members;
    zab_sim_host *hosts;
    zab_sim_outcome *outcomes;
    uint64_t noutcomes, capoutcomes;
    uint64_t pending;   /* outcomes not known yet */
    uint64_t events;    /* dispatched so far */
    uint64_t trace;     /* a hash of every event dispatched and its payload */
    zab_sim_reply_fn on_reply;  /* optional observers (zab_sim_observe) */
    zab_sim_watch_fn on_watch;
    void *observer;
};

/* ---- host.c ---- */

/* Build the node from what the host's disk holds and start it now. 0 or
 * ZAB_ENOMEM (anything the node refuses is recorded as a violation). */
int zab_sim_host_start(zab_sim_host *h);

/* Stop the node as a power loss would. 0 or ZAB_ENOMEM. */
int zab_sim_host_crash(zab_sim_host *h);

/* Carry out one event. */
void zab_sim_host_dispatch(zab_sim *sim, const zab_sim_event *ev);

/* Bring the node's clock to now (before any other call into it). */
void zab_sim_host_clock(zab_sim_host *h);

/* Schedule the node's next timer after a call into it. */
void zab_sim_host_rearm(zab_sim_host *h, int after_tick);

/* ---- sim.c ---- */

/* Record that the simulation itself ran out of memory (rc ZAB_ENOMEM), which
 * stops it like a violation. Returns rc. */
int zab_sim_oom(zab_sim *sim, int rc);

/* The host of sid, or NULL. */
zab_sim_host *zab_sim_host_of(zab_sim *sim, int64_t sid);

/* A hash of everything dispatched so far: equal traces, equal runs. */
uint64_t zab_sim_trace(const zab_sim *sim);

#endif
