/*
 * node.h - the ZAB node's internal state, shared by the files that make up
 * the protocol: node.c (life cycle, dispatch, timers, channels),
 * election.c (fast leader election), leader.c (discovery, synchronization
 * and broadcast on the leader), learner.c (the same phases on followers and
 * observers).
 */
#ifndef ZAB_CORE_NODE_H
#define ZAB_CORE_NODE_H

#include <stdint.h>

#include "core/expiry.h"
#include "core/log.h"
#include "core/msg.h"
#include "core/quorum.h"
#include "util/imap.h"
#include "zab.h"

/* Phases within a role. */
enum { PHASE_ELECTION, PHASE_DISCOVERY, PHASE_SYNC, PHASE_BROADCAST };

/* What the leader knows of one learner. */
enum {
    LEARNER_NONE,      /* no LEARNERINFO on this channel yet */
    LEARNER_INFO,      /* LEARNERINFO received, waiting for the epoch */
    LEARNER_EPOCH,     /* LEADERINFO sent, waiting for ACKEPOCH */
    LEARNER_ACKED,     /* ACKEPOCH received, waiting for the epoch quorum */
    LEARNER_SYNCING,   /* history sent (or streaming), NEWLEADER queued */
    LEARNER_SYNCED     /* NEWLEADER acknowledged: counts for commits */
};

typedef struct zab_vote {
    int64_t leader;
    int64_t zxid;
    int64_t epoch;  /* the candidate's currentEpoch (peerEpoch) */
    int64_t round;  /* the sender's logical clock */
    int32_t state;  /* the sender's role */
    int valid;
} zab_vote;

typedef struct zab_peer {
    int64_t sid;
    int observer;
    int up;             /* the host reports the channel up */
    int broken;         /* we asked the host to close it */
    uint32_t send_seq, recv_seq;
    zab_vote recv;      /* last vote in the current round (LOOKING senders) */
    zab_vote outside;   /* last vote from a sender that is not LOOKING */

    /* leader side */
    int lstate;
    int want_snap;      /* the learner asks for a snapshot */
    int epoch_vote;     /* its ACKEPOCH counts toward the epoch quorum */
    int64_t accepted;   /* its acceptedEpoch (LEARNERINFO) */
    int64_t last_zxid;  /* its last logged zxid (ACKEPOCH) */
    int64_t applied;    /* its tree's zxid: committed up to there (ACKEPOCH) */
    int64_t acked;      /* cumulative ACK: everything <= this is durable there */
    int64_t round;      /* highest PING round it answered */
    int64_t heard;      /* when it last spoke */
    zab_buf snap;       /* snapshot being streamed to it */
    uint64_t snap_sent, snap_acked;
    zab_buf held;       /* messages queued behind the snapshot (u32 len + bytes) */
} zab_peer;

/* What a client request asks of this node. */
enum {
    REQ_WRITE,      /* becomes a transaction; done when applied here */
    REQ_READ,       /* served from the local tree */
    REQ_SYNC,       /* done once the leader's commits are applied here */
    REQ_REVALIDATE  /* the session moves to this node */
};

/* A client request on this node, from submission to its outcome. A
 * session's requests complete in the order it submitted them (reads wait
 * behind its writes, as ZooKeeper's commit processor has them wait). */
typedef struct zab_client_req {
    uint64_t cookie;
    int64_t session;
    uint8_t kind;       /* REQ_* */
    uint8_t started;    /* written, sent or asked; reads never wait started */
    uint8_t answered;   /* sync: the leader answered; done once zxid applied */
    int64_t zxid;
    zab_buf req;        /* a read or write not yet started: its encoding */
} zab_client_req;

/* The requests of this node's clients, in submission order. */
typedef struct zab_clients {
    zab_client_req *items;
    uint32_t head, tail, cap;   /* live items are items[head..tail) */
    zab_imap sessions;          /* session -> items << 32 | blocked */
    uint32_t answered;          /* syncs answered, waiting for the apply */
    int pumping;
} zab_clients;

/* A sync waiting at the leader for a round that confirms it still leads. */
typedef struct zab_confirm {
    int64_t origin;     /* the sid that asked (this node: a local sync) */
    uint64_t cookie;
    int64_t zxid;       /* committed when it arrived */
    int64_t round;      /* the first round sent after it arrived */
} zab_confirm;

struct zab_node {
    zab_node_config cfg;
    zab_member *members;
    zab_io io;
    zab_quorum quorum;
    int observer;       /* this node does not vote */

    zab_peer *peers;    /* every other member */
    uint32_t npeers;

    zab_tree *tree;
    zab_log log;
    int64_t accepted_epoch, current_epoch;
    int64_t last_synced;    /* log durable up to here */
    int64_t last_committed; /* known committed */
    int64_t last_applied;   /* in the tree */
    int64_t now;
    int started;
    int stopped;            /* fail-stop code, 0 while running */

    int role, phase;
    int64_t leader;         /* sid, 0 if unknown */

    /* election */
    int64_t round;
    zab_vote vote;          /* my proposal */
    int64_t finalize_at;    /* 0: no decision pending */
    int64_t notify_at;      /* re-send my vote then */
    int64_t notify_interval;
    int64_t election_start;

    /* leader and learner, per reign */
    int64_t epoch;          /* the epoch being established or led */
    int epoch_fixed;
    int64_t deadline;       /* give up the reign at this time */
    int64_t next_ping;
    int64_t next_zxid;      /* leader: the next zxid to propose */
    int64_t unsynced_since; /* leader: oldest append not yet durable, 0 none */
    int64_t next_reap;      /* leader: next container/TTL reaping pass */
    zab_buf scratch;        /* message encoding */
    zab_buf req_scratch;    /* decoding forwarded requests */
    zab_buf req_out;        /* the request being submitted, encoded once */

    /* learner, per reign */
    int registered;         /* LEARNERINFO sent on the current channel */
    int64_t commit_point;   /* history committed once UPTODATE arrives */
    int64_t newleader_at;   /* NEWLEADER zxid waiting for our log to sync */
    int uptodate;
    int want_snap;          /* our log could not be reconciled: ask for SNAP */
    int64_t ack_sent;       /* highest ACK sent to the leader */
    uint64_t snap_total;
    int64_t snap_zxid;
    zab_buf snap_in;
    int snapshot_mode;      /* synced by SNAP: the tree replaced */

    /* sessions: the leader's deadlines; a learner's activity to report */
    zab_expiry expiry;
    int64_t *touched;
    uint32_t ntouched, captouched;

    /* leader: rounds of PING that prove it still leads (for sync) */
    int64_t round_sent, round_confirmed;
    zab_confirm *confirms;
    uint32_t nconfirms, capconfirms;

    /* this node's clients */
    zab_clients clients;

    zab_node_stats stats;
};

/* ---- node.c: shared helpers ---- */

zab_peer *zab_node_peer(zab_node *n, int64_t sid);
/* Encode and send m to peer p (sequence numbered). */
void zab_node_send(zab_node *n, zab_peer *p, zab_msg *m);
/* Send to every peer whose channel is up (voters_only: skip observers). */
void zab_node_broadcast(zab_node *n, zab_msg *m, int voters_only);
/* The channel to p broke the protocol: ask the host to close it. */
void zab_node_break(zab_node *n, zab_peer *p);
/* A callback failed or memory ran out where continuing is unsafe. */
void zab_node_fail(zab_node *n, int code);
/* Persist both epochs (synchronously). 0 or the node is stopped. */
int zab_node_save_epochs(zab_node *n, int64_t accepted, int64_t current);
/* Apply log entries up to zxid to the tree, in order, reporting results. */
void zab_node_apply_upto(zab_node *n, int64_t zxid);
/* Leave the current reign (any role) and start an election. */
void zab_node_look(zab_node *n, const char *why);
/* Report a role change to the host. */
void zab_node_announce(zab_node *n);
/* Serving clients: established leader, or learner up to date. */
int zab_node_serving(const zab_node *n);
/* Send what was held behind a snapshot that has now been sent whole. */
void zab_node_flush_held(zab_node *n, zab_peer *p);
int zab_node_is_voter(const zab_node *n, int64_t sid);
int64_t zab_node_tick_ms(const zab_node *n);

/* ---- clients.c: the per-session order of this node's requests ---- */
int zab_clients_submit(zab_node *n, const zab_request *req, uint64_t cookie);
int zab_clients_revalidate(zab_node *n, int64_t session, uint64_t cookie);
/* The outcome of a started request; unknown cookies are ignored. */
void zab_clients_result(zab_node *n, uint64_t cookie, const zab_reply *reply);
/* The leader's answer to a started request: a sync it confirmed (err 0) is
 * done once this node applied zxid; anything else ends with err. */
void zab_clients_answer(zab_node *n, uint64_t cookie, int32_t err, int64_t zxid);
/* The tree moved on: finish syncs waiting for it. */
void zab_clients_applied(zab_node *n);
/* The leader is gone: every request ends in connection loss, in order. */
void zab_clients_fail_all(zab_node *n);
void zab_clients_free(zab_clients *c);

/* ---- election.c ---- */
void zab_election_start(zab_node *n);
void zab_election_recv(zab_node *n, zab_peer *p, const zab_msg *m);
void zab_election_tick(zab_node *n);
void zab_election_peer_up(zab_node *n, zab_peer *p);
/* The vote this node advertises when it is not LOOKING. */
void zab_election_send_vote(zab_node *n, zab_peer *p);

/* ---- leader.c ---- */
void zab_leader_start(zab_node *n);
void zab_leader_recv(zab_node *n, zab_peer *p, const zab_msg *m);
void zab_leader_tick(zab_node *n);
void zab_leader_peer_down(zab_node *n, zab_peer *p);
void zab_leader_synced(zab_node *n);
int zab_leader_submit(zab_node *n, const zab_request *req, int64_t origin, uint64_t cookie);
/* A sync from origin: answered once a round confirms this leader. */
int zab_leader_sync(zab_node *n, int64_t session, int64_t origin, uint64_t cookie);
/* The session moves to origin's clients: 0, or ZAB_ESESSIONEXPIRED. */
int zab_leader_revalidate(zab_node *n, int64_t session, int64_t origin);
void zab_leader_stop(zab_node *n);
/* A transaction the leader just applied (sessions come and go). */
void zab_leader_applied(zab_node *n, const zab_rec *r, const zab_reply *reply);
/* Activity reported by a learner, or seen by the leader itself. */
void zab_leader_touch(zab_node *n, int64_t session);
/* Proposals of this reign not yet committed. */
uint64_t zab_leader_in_flight(const zab_node *n);

/* ---- learner.c ---- */
void zab_learner_start(zab_node *n);
void zab_learner_recv(zab_node *n, zab_peer *p, const zab_msg *m);
void zab_learner_tick(zab_node *n);
void zab_learner_peer_up(zab_node *n, zab_peer *p);
void zab_learner_synced(zab_node *n);
/* Forward the request encoded in req (len bytes) to the leader. */
int zab_learner_submit(zab_node *n, const void *req, size_t len, uint64_t cookie);
/* Ask the leader for a sync or a revalidation (type ZAB_MSG_SYNC or
 * ZAB_MSG_REVALIDATE). 0 or ZAB_ECONNECTIONLOSS. */
int zab_learner_ask(zab_node *n, uint8_t type, int64_t session, uint64_t cookie);
void zab_learner_stop(zab_node *n);

#endif
