/*
 * msg.h - peer messages: what nodes say to each other, and their bytes.
 *
 * Every message is one self-contained byte string (the host frames it on its
 * transport):
 *
 *   u8  version   ZAB_MSG_VERSION (2); other versions are refused
 *   u8  type      ZAB_MSG_*
 *   u32 seq       position on this channel (0, 1, 2, ... since the channel
 *                 came up): a lost, repeated or reordered message is seen
 *   u32 body_len
 *   body          by type, below
 *   u32 crc       CRC-32C of every byte before it
 *
 * Bodies (big-endian; bytes = u32 length + bytes):
 *   NOTIFY        i32 state, i64 leader, i64 zxid, i64 round, i64 epoch
 *   LEARNERINFO   i64 epoch (acceptedEpoch), i32 flags (1 = observer)
 *   LEADERINFO    i64 epoch (the new epoch)
 *   ACKEPOCH      i64 epoch (currentEpoch, -1: already accepted), i64 zxid,
 *                 i64 applied (the learner's tree: all committed up to it)
 *   DIFF, TRUNC   i64 zxid
 *   SNAP          i64 zxid, u64 offset (= total snapshot length)
 *   SNAP_DATA     u64 offset, bytes data (one chunk)
 *   SNAP_ACK      u64 offset (bytes received so far: flow control)
 *   PROPOSAL      i64 zxid, i64 origin, u64 cookie, bytes data (the txn)
 *   INFORM        i64 zxid, i64 origin, u64 cookie, bytes data (the txn)
 *   COMMIT, ACK, NEWLEADER   i64 zxid
 *   UPTODATE      (empty)
 *   PING          i64 round, bytes data: the leader numbers its PINGs; a
 *                 learner echoes the round, with the sessions its clients
 *                 kept alive as data (i64 each)
 *   REQUEST       u64 cookie, bytes data (zab_msg_request_encode)
 *   ANSWER        u64 cookie, i32 err, i64 zxid: the outcome of a request
 *                 that is no transaction (a refused write, a sync confirmed
 *                 at zxid, a revalidation)
 *   SYNC, REVALIDATE   u64 cookie, i64 session
 *
 * Decoding trusts nothing: the CRC, the version, every length against what
 * remains and against the configured maximum, unknown types refused, and no
 * trailing bytes. Decoded data points into the input (zero-copy).
 */
#ifndef ZAB_CORE_MSG_H
#define ZAB_CORE_MSG_H

#include <stdint.h>

#include "zab.h"

enum { ZAB_MSG_VERSION = 2, ZAB_MSG_HEADER = 10, ZAB_MSG_TRAILER = 4 };

enum {
    ZAB_MSG_NOTIFY = 1,
    ZAB_MSG_LEARNERINFO = 2,
    ZAB_MSG_LEADERINFO = 3,
    ZAB_MSG_ACKEPOCH = 4,
    ZAB_MSG_DIFF = 5,
    ZAB_MSG_TRUNC = 6,
    ZAB_MSG_SNAP = 7,
    ZAB_MSG_SNAP_DATA = 8,
    ZAB_MSG_SNAP_ACK = 9,
    ZAB_MSG_PROPOSAL = 10,
    ZAB_MSG_INFORM = 11,
    ZAB_MSG_COMMIT = 12,
    ZAB_MSG_ACK = 13,
    ZAB_MSG_NEWLEADER = 14,
    ZAB_MSG_UPTODATE = 15,
    ZAB_MSG_PING = 16,
    ZAB_MSG_REQUEST = 17,
    ZAB_MSG_ANSWER = 18,
    ZAB_MSG_SYNC = 19,
    ZAB_MSG_REVALIDATE = 20,
    ZAB_MSG_MAX_TYPE = 20
};

/* One message, decoded. Fields a type does not carry are zero. */
typedef struct zab_msg {
    uint8_t type;
    uint32_t seq;
    int32_t state;     /* NOTIFY: sender's role */
    int32_t flags;     /* LEARNERINFO */
    int32_t err;       /* ANSWER */
    int64_t leader;    /* NOTIFY: proposed or current leader */
    int64_t zxid;
    int64_t round;     /* NOTIFY: logical clock; PING: its number */
    int64_t epoch;
    int64_t origin;    /* PROPOSAL, INFORM: sid the request came from */
    uint64_t cookie;   /* PROPOSAL, INFORM, REQUEST, ANSWER, SYNC, REVALIDATE */
    int64_t session;   /* SYNC, REVALIDATE */
    int64_t applied;   /* ACKEPOCH */
    uint64_t offset;   /* SNAP, SNAP_DATA, SNAP_ACK */
    const void *data;  /* borrowed */
    uint32_t len;
} zab_msg;

/* Append the encoding of m (a known type). 0, or ZAB_ENOMEM when memory
 * runs out or a body does not fit its u32 length (out restored). */
int zab_msg_encode(const zab_msg *m, zab_buf *out);

/* Decode one message of len bytes; a `bytes` field longer than max is
 * refused. 0 or ZAB_ECORRUPT. */
int zab_msg_decode(const void *bytes, size_t len, uint32_t max, zab_msg *m);

/* A client request as a REQUEST carries it: session, the connection's
 * identities, and the request itself (a createSession's timeout and
 * password; any other type's ZooKeeper jute body). 0, ZAB_EINVAL for a
 * request that cannot be expressed, or ZAB_ENOMEM (out restored). */
int zab_msg_request_encode(const zab_request *req, zab_buf *out);

/* The inverse: pointers in *req point into bytes and scratch (reset and
 * reused). 0, ZAB_ECORRUPT, or ZAB_ENOMEM. */
int zab_msg_request_decode(const void *bytes, size_t len, zab_request *req, zab_buf *scratch);

/* A name for logs and traces ("PROPOSAL"); "?" for unknown types. */
const char *zab_msg_name(int type);

#endif
