/*
 * txn.h - the transaction: what the leader's prepare produces and every
 * replica applies. It is logged and sent to peers, so its bytes are a stable,
 * versioned format, and decoding treats them as untrusted.
 *
 * Layout (big-endian; str = i32 length + bytes, -1 for null; acl = u32
 * count then count x { i32 perms, str scheme, str id }):
 *
 *   u8  format            ZAB_TXN_FORMAT (1); other values are refused
 *   i64 time              the leader's clock when prepared (ms)
 *   i64 session           the requesting session
 *   u8  kind              1 single op, 2 multi, 3 failed op, 4 failed multi
 *   kind 1:  op
 *   kind 2:  u32 count, count x op
 *   kind 3:  i32 op type, i32 error
 *   kind 4:  u32 count, u32 index of the failing op, i32 error
 *
 *   op = i32 type, then by type:
 *     create 1 / create2 15 / container 19 / TTL 21:
 *                         str path, str data, acl, i64 owner
 *     delete 2, deleteContainer 20:  str path
 *     setData 5:          str path, str data, i32 new version
 *     setACL 7:           str path, acl, i32 new aversion
 *     check 13:           (nothing)
 *     createSession -10:  i32 timeout, 16 bytes password
 *     closeSession -11:   (nothing)
 *
 * A failed request still becomes a transaction: ZooKeeper consumes a zxid for
 * it, and a failed multi reports [0.., error, -2..] from these few bytes.
 */
#ifndef ZAB_TREE_TXN_H
#define ZAB_TREE_TXN_H

#include <stdint.h>

#include "zab.h"
#include "util/arena.h"

enum { ZAB_TXN_FORMAT = 1 };

/* The most ops a multi may carry: more than a 1 MiB request can hold (each
 * op takes at least 17 bytes on the wire), so only hostile bytes hit it. */
enum { ZAB_TXN_MAX_OPS = 65536 };

enum {
    ZAB_TXN_SINGLE = 1,
    ZAB_TXN_MULTI = 2,
    ZAB_TXN_FAILED = 3,
    ZAB_TXN_FAILED_MULTI = 4
};

typedef struct zab_txn_op {
    int32_t type;
    zab_str path;
    const void *data;
    int32_t data_len;
    const zab_acl *acl;
    uint32_t nacl;
    int64_t owner;
    int32_t version;        /* setData: new version; setACL: new aversion */
    int32_t timeout;        /* createSession */
    const uint8_t *passwd;  /* createSession: 16 bytes */
} zab_txn_op;

typedef struct zab_txn {
    int64_t time;
    int64_t session;
    uint8_t kind;
    int32_t err;            /* failed kinds */
    int32_t err_type;       /* failed op: its type */
    uint32_t fail_index;    /* failed multi */
    uint32_t nops;          /* multi: ops; failed multi: the op count */
    zab_txn_op *ops;
} zab_txn;

/* Append the encoding of txn (ops from txn->ops). 0 or ZAB_ENOMEM, with buf
 * restored to its length on entry. */
int zab_txn_encode(const zab_txn *txn, zab_buf *buf);

/* Decode len untrusted bytes; op arrays and ACL arrays come from the arena,
 * strings point into bytes. 0, ZAB_ECORRUPT or ZAB_ENOMEM. */
int zab_txn_decode(const void *bytes, size_t len, zab_txn *txn, zab_arena *arena);

/* The session and op type of a single-op transaction (kind 1) without
 * decoding the rest: 0, or ZAB_ECORRUPT for anything else. */
int zab_txn_peek(const void *bytes, size_t len, int64_t *session, int32_t *type);

/* Non-zero for the op types a transaction may carry. */
int zab_txn_op_type_valid(int32_t type);

#endif
