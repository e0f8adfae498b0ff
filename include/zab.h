/*
 * zab.h - the public API of zab, an embeddable ZooKeeper-compatible
 * consensus library.
 *
 * Conventions that hold for every declaration below unless it says otherwise:
 *
 *  - Errors are negative int codes; zab_strerror() names them. The data tree
 *    answers with ZooKeeper's own numbers (ZAB_ENONODE is ZNONODE, -101), so a
 *    host that speaks the ZooKeeper protocol maps nothing. The library's own
 *    conditions (memory, corrupt input, limits) use codes below -1000.
 *  - Strings are zab_str views (pointer + length, not NUL-terminated). The
 *    library never keeps a pointer it was given: what it needs later, it copies.
 *  - Pointers the library hands out (results, event paths) are borrowed: valid
 *    until the next call on the same object, never to be freed by the caller.
 *  - Objects are not thread-safe. One thread at a time may call into one
 *    object; distinct objects may be used from distinct threads freely. No
 *    function keeps global state.
 */
#ifndef ZAB_H
#define ZAB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(ZAB_BUILDING)
#define ZAB_API __attribute__((visibility("default")))
#else
#define ZAB_API
#endif

#define ZAB_VERSION_MAJOR 0
#define ZAB_VERSION_MINOR 1
#define ZAB_VERSION_PATCH 0
#define ZAB_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------ */
/* Error codes                                                               */
/* ------------------------------------------------------------------------ */

enum {
    ZAB_OK = 0,
    /* ZooKeeper's codes, same numbers (KeeperException.Code / zookeeper.h). */
    ZAB_ESYSTEM = -1,
    ZAB_ERUNTIMEINCONSISTENCY = -2, /* multi: an op after the one that failed */
    ZAB_EDATAINCONSISTENCY = -3,
    ZAB_ECONNECTIONLOSS = -4,
    ZAB_EMARSHALLING = -5,          /* a request body that does not decode */
    ZAB_EUNIMPLEMENTED = -6,        /* unknown op; TTL without extended types */
    ZAB_EOPERATIONTIMEOUT = -7,
    ZAB_EBADARGUMENTS = -8,         /* bad path, flags, TTL; special paths */
    ZAB_EAPI = -100,
    ZAB_ENONODE = -101,
    ZAB_ENOAUTH = -102,
    ZAB_EBADVERSION = -103,
    ZAB_ENOCHILDRENFOREPHEMERALS = -108,
    ZAB_ENODEEXISTS = -110,
    ZAB_ENOTEMPTY = -111,
    ZAB_ESESSIONEXPIRED = -112,
    ZAB_EINVALIDCALLBACK = -113,
    ZAB_EINVALIDACL = -114,
    ZAB_EAUTHFAILED = -115,
    ZAB_ESESSIONMOVED = -118,
    ZAB_ENOTREADONLY = -119,
    ZAB_EEPHEMERALONLOCALSESSION = -120,
    ZAB_ENOWATCHER = -121,
    ZAB_EQUOTAEXCEEDED = -125,
    ZAB_ETHROTTLED = -127,
    /* The library's own conditions. */
    ZAB_ENOMEM = -1001,   /* an allocation failed; nothing was changed */
    ZAB_EINVAL = -1002,   /* the caller broke an API rule (documented per call) */
    ZAB_ECORRUPT = -1003, /* bytes (snapshot, transaction) fail validation */
    ZAB_ETOOBIG = -1004,  /* a length or count over a configured limit */
    ZAB_EIO = -1005,      /* a write or sync failed (storage, host callback) */
    ZAB_EFAILED = -1006   /* the object stopped after an earlier fatal error */
};

/* A static English description of any code; never NULL. Any thread. */
ZAB_API const char *zab_strerror(int code);

/* ------------------------------------------------------------------------ */
/* Small value types                                                         */
/* ------------------------------------------------------------------------ */

/* A string view: len bytes at ptr, not NUL-terminated, may contain any byte. */
typedef struct zab_str {
    const char *ptr;
    uint32_t len;
} zab_str;

/* A view of a string literal. */
#define ZAB_STR(lit) ((zab_str){ (lit), (uint32_t)(sizeof(lit) - 1) })

/* A view of a NUL-terminated string (NULL gives the empty view). */
ZAB_API zab_str zab_str_c(const char *s);

/* A growable byte buffer owned by the caller. Start it zeroed ({0}); release
 * its memory with zab_buf_free(). Functions that produce bytes append to it. */
typedef struct zab_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} zab_buf;

/* Make room for at least extra more bytes. 0 or ZAB_ENOMEM (buf unchanged). */
ZAB_API int zab_buf_reserve(zab_buf *buf, size_t extra);
/* Append len bytes. 0 or ZAB_ENOMEM (buf unchanged). */
ZAB_API int zab_buf_append(zab_buf *buf, const void *bytes, size_t len);
/* Free the memory and zero the struct; the buffer may be used again. */
ZAB_API void zab_buf_free(zab_buf *buf);

/* Permissions (ZooDefs.Perms). */
enum {
    ZAB_PERM_READ = 1,
    ZAB_PERM_WRITE = 2,
    ZAB_PERM_CREATE = 4,
    ZAB_PERM_DELETE = 8,
    ZAB_PERM_ADMIN = 16,
    ZAB_PERM_ALL = 31
};

/* An identity: scheme "world", "auth", "digest", "ip" or "super". */
typedef struct zab_id {
    zab_str scheme;
    zab_str id;
} zab_id;

/* One ACL entry. */
typedef struct zab_acl {
    int32_t perms;
    zab_id id;
} zab_acl;

/* ZooKeeper's well-known lists, one entry each: world:anyone with every
 * permission (OPEN_ACL_UNSAFE), world:anyone read (READ_ACL_UNSAFE), and every
 * permission for the creator's authenticated identities (CREATOR_ALL_ACL). */
ZAB_API extern const zab_acl zab_acl_open[1];
ZAB_API extern const zab_acl zab_acl_read[1];
ZAB_API extern const zab_acl zab_acl_creator[1];

/* The digest identity for "user:password": writes "user:BASE64(SHA1(
 * user:password))" to out (NUL-terminated) and returns its length, or
 * ZAB_EINVAL when the input has no ':' (ZooKeeper's digest provider refuses
 * it too) and ZAB_ETOOBIG when cap is too small (cap >= user length + 30
 * always suffices). Any thread. */
ZAB_API int zab_digest_id(zab_str user_password, char *out, size_t cap);

/* Node metadata, exactly ZooKeeper's Stat as a client sees it. */
typedef struct zab_stat {
    int64_t czxid;
    int64_t mzxid;
    int64_t ctime;
    int64_t mtime;
    int32_t version;
    int32_t cversion;
    int32_t aversion;
    int64_t ephemeral_owner;
    int32_t data_length;
    int32_t num_children;
    int64_t pzxid;
} zab_stat;

/* ------------------------------------------------------------------------ */
/* Operations and requests                                                   */
/* ------------------------------------------------------------------------ */

/* Operation types: ZooKeeper's opcode numbers (ZooDefs.OpCode). */
enum {
    ZAB_OP_ERROR = -1,          /* result slot of a failed multi */
    ZAB_OP_CREATE = 1,
    ZAB_OP_DELETE = 2,
    ZAB_OP_EXISTS = 3,
    ZAB_OP_GET_DATA = 4,
    ZAB_OP_SET_DATA = 5,
    ZAB_OP_GET_ACL = 6,
    ZAB_OP_SET_ACL = 7,
    ZAB_OP_GET_CHILDREN = 8,
    ZAB_OP_SYNC = 9,
    ZAB_OP_PING = 11,
    ZAB_OP_GET_CHILDREN2 = 12,
    ZAB_OP_CHECK = 13,          /* only inside a multi */
    ZAB_OP_MULTI = 14,
    ZAB_OP_CREATE2 = 15,
    ZAB_OP_RECONFIG = 16,
    ZAB_OP_CHECK_WATCHES = 17,
    ZAB_OP_REMOVE_WATCHES = 18,
    ZAB_OP_CREATE_CONTAINER = 19,
    ZAB_OP_DELETE_CONTAINER = 20,
    ZAB_OP_CREATE_TTL = 21,
    ZAB_OP_MULTI_READ = 22,
    ZAB_OP_AUTH = 100,
    ZAB_OP_SET_WATCHES = 101,
    ZAB_OP_SASL = 102,
    ZAB_OP_GET_EPHEMERALS = 103,
    ZAB_OP_GET_ALL_CHILDREN_NUMBER = 104,
    ZAB_OP_SET_WATCHES2 = 105,
    ZAB_OP_ADD_WATCH = 106,
    ZAB_OP_WHO_AM_I = 107,
    ZAB_OP_CREATE_SESSION = -10,
    ZAB_OP_CLOSE_SESSION = -11
};

/* Create modes (CreateMode). */
enum {
    ZAB_PERSISTENT = 0,
    ZAB_EPHEMERAL = 1,
    ZAB_PERSISTENT_SEQUENTIAL = 2,
    ZAB_EPHEMERAL_SEQUENTIAL = 3,
    ZAB_CONTAINER = 4,
    ZAB_PERSISTENT_WITH_TTL = 5,
    ZAB_PERSISTENT_SEQUENTIAL_WITH_TTL = 6
};

/* addWatch modes (AddWatchMode). */
enum { ZAB_WATCH_PERSISTENT = 0, ZAB_WATCH_PERSISTENT_RECURSIVE = 1 };

/* Watcher types for checkWatches / removeWatches (WatcherType). */
enum {
    ZAB_WATCHER_CHILDREN = 1,
    ZAB_WATCHER_DATA = 2,
    ZAB_WATCHER_ANY = 3,
    ZAB_WATCHER_PERSISTENT = 4,
    ZAB_WATCHER_PERSISTENT_RECURSIVE = 5
};

/* One operation. Fields an operation does not use are ignored. Every pointer
 * is borrowed for the duration of the call it is passed to. */
typedef struct zab_op {
    int32_t type;         /* ZAB_OP_* */
    zab_str path;         /* the znode; getEphemerals: the prefix */
    const void *data;     /* create, setData; createSession: 16-byte password */
    int32_t data_len;     /* bytes at data; -1 = null data (ZooKeeper's null) */
    int32_t flags;        /* create: ZAB_PERSISTENT..; addWatch: ZAB_WATCH_*;
                             check/removeWatches: ZAB_WATCHER_* */
    int32_t version;      /* delete, setData, setACL, check: expected version,
                             -1 for any */
    int32_t watch;        /* exists, getData, getChildren(2): leave a watch */
    int32_t timeout;      /* createSession: session timeout in ms */
    int64_t ttl;          /* createTTL: milliseconds; -1 otherwise */
    const zab_acl *acl;   /* create, setACL: nacl entries */
    uint32_t nacl;
} zab_op;

/* Builders for the common operations; path is NUL-terminated and borrowed.
 * They only fill a struct: any thread. */
ZAB_API zab_op zab_op_create(const char *path, const void *data, int32_t len,
                     const zab_acl *acl, uint32_t nacl, int32_t mode);
ZAB_API zab_op zab_op_delete(const char *path, int32_t version);
ZAB_API zab_op zab_op_set_data(const char *path, const void *data, int32_t len,
                       int32_t version);
ZAB_API zab_op zab_op_set_acl(const char *path, const zab_acl *acl, uint32_t nacl,
                      int32_t version);
ZAB_API zab_op zab_op_check(const char *path, int32_t version);
ZAB_API zab_op zab_op_read(int32_t type, const char *path, int32_t watch);

/* A client request: one operation, or a multi / multiRead of several.
 * session is the requesting session (0: the system session, which needs no
 * createSession and is used for internal requests; an ephemeral create by it
 * fails with ZAB_ESESSIONEXPIRED, as ZooKeeper's does for an unknown
 * session); closing a session that is already closed succeeds and changes
 * nothing, as in ZooKeeper;
 * auth lists the identities of the client's connection (e.g. ip:127.0.0.1,
 * digest:user:hash); world:anyone is implied. */
typedef struct zab_request {
    int32_t type;          /* ops[0].type, or ZAB_OP_MULTI / ZAB_OP_MULTI_READ */
    int64_t session;
    const zab_id *auth;
    uint32_t nauth;
    const zab_op *ops;
    uint32_t nops;         /* 1 unless type is a multi */
} zab_request;

/* The outcome of one operation. Borrowed pointers stay valid until the next
 * call on the tree that produced them. */
typedef struct zab_result {
    int32_t type;          /* the op's type (create2, createContainer and
                              createTTL report ZAB_OP_CREATE2 inside a multi);
                              ZAB_OP_ERROR for a failed multi's slots */
    int32_t err;           /* ZAB_OK or ZooKeeper's code */
    zab_stat stat;         /* of the node (getChildren2: the parent) */
    zab_str path;          /* create: the actual path, with any sequence */
    const void *data;      /* getData */
    int32_t data_len;      /* -1 for null data */
    const zab_str *names;  /* getChildren(2): child names, in no set order;
                              getEphemerals: full paths */
    uint32_t nnames;
    const zab_acl *acl;    /* getACL */
    uint32_t nacl;
    int64_t count;         /* getAllChildrenNumber */
} zab_result;

/* The outcome of a request. */
typedef struct zab_reply {
    int32_t err;           /* ReplyHeader.err: the op's code for a single op;
                              ZAB_OK for multi and multiRead (see results) */
    int64_t zxid;          /* apply: the transaction's; reads: last applied */
    const zab_result *results;
    uint32_t nresults;
} zab_reply;

/* ------------------------------------------------------------------------ */
/* The data tree                                                             */
/* ------------------------------------------------------------------------ */

/* Watch event types (Watcher.Event.EventType) and the one state a server sends. */
enum {
    ZAB_EVENT_NONE = -1,
    ZAB_EVENT_CREATED = 1,
    ZAB_EVENT_DELETED = 2,
    ZAB_EVENT_DATA_CHANGED = 3,
    ZAB_EVENT_CHILDREN_CHANGED = 4
};
enum { ZAB_STATE_SYNC_CONNECTED = 3 };

typedef struct zab_event {
    int32_t type;          /* ZAB_EVENT_* */
    int32_t state;         /* ZAB_STATE_SYNC_CONNECTED */
    zab_str path;          /* borrowed for the callback only */
    int64_t zxid;          /* the triggering transaction; -1 for setWatches */
} zab_event;

/* Called once per event per watcher, synchronously from inside the tree call
 * that triggered it (apply or set_watches), on that call's thread, in
 * ZooKeeper's order. It must not call back into the same tree. */
typedef void (*zab_watch_fn)(void *ctx, int64_t watcher, const zab_event *ev);

typedef struct zab_tree_config {
    uint32_t max_data;     /* largest znode data; 0 = 1 MiB */
    int extended_types;    /* non-zero allows TTL nodes (zookeeper.extendedTypesEnabled) */
    int skip_acl;          /* non-zero disables ACL checks (zookeeper.skipACL) */
    zab_str super_digest;  /* "super:BASE64(SHA1(super:password))": a connection
                              holding digest identity with this value passes
                              every ACL check; copied */
    uint64_t hash_seed;    /* seeds the child tables; same on every replica */
    uint32_t max_txn;      /* largest transaction prepare may produce (bytes);
                              0 = no limit. A request whose transaction would
                              be larger is refused with ZAB_ETOOBIG */
    zab_watch_fn on_watch; /* may be NULL: events are then discarded */
    void *watch_ctx;
} zab_tree_config;

typedef struct zab_tree zab_tree;

/* A new tree holding /, /zookeeper, /zookeeper/quota and /zookeeper/config as
 * a fresh ZooKeeper server has them; cfg may be NULL for the defaults and is
 * copied. Returns NULL when memory runs out. */
ZAB_API zab_tree *zab_tree_new(const zab_tree_config *cfg);
ZAB_API void zab_tree_free(zab_tree *tree);

/* Execute a read-class request locally against the applied tree: exists,
 * getData, getACL, getChildren, getChildren2, getAllChildrenNumber,
 * getEphemerals, multiRead (one holding any other op: ZAB_EMARSHALLING),
 * and the watch-table requests addWatch,
 * checkWatches and removeWatches. A watch left by a read belongs to watcher
 * req->session. Fills *reply (borrowed) and returns reply->err; ZAB_EINVAL
 * for a write-class type, ZAB_ENOMEM when memory runs out (nothing changed). */
ZAB_API int zab_tree_read(zab_tree *tree, const zab_request *req, zab_reply *reply);

/* The leader's half of a write: validate a write-class request (create*,
 * delete, setData, setACL, multi, createSession, closeSession,
 * deleteContainer) in ZooKeeper's check order against the applied tree plus
 * every change prepared but not yet applied, and append the transaction for
 * zxid, timestamped now_ms, to txn. A request that fails validation still
 * yields a transaction (an error transaction: ZooKeeper consumes the zxid)
 * whose apply reports the error. A multi holding an op that may not appear
 * in one (a host that could not decode a client's multi passes one op of
 * type ZAB_OP_ERROR) fails whole with ZAB_EMARSHALLING, as ZooKeeper's does.
 * zxid must exceed every zxid prepared or applied before. Returns 0;
 * ZAB_ETOOBIG for data over max_data, a multi of over 65536 ops or a
 * transaction over max_txn (no transaction: refuse it at the edge); ZAB_EUNIMPLEMENTED for a top-level
 * check (ZooKeeper answers it so and closes the connection); ZAB_EINVAL for
 * a read-class request, a malformed request struct or a zxid out of order;
 * ZAB_ENOMEM. On error txn is unchanged. */
ZAB_API int zab_tree_prepare(zab_tree *tree, const zab_request *req, int64_t zxid,
                     int64_t now_ms, zab_buf *txn);

/* Forget every prepared-but-unapplied change (a leader that stops leading). */
ZAB_API void zab_tree_prepare_reset(zab_tree *tree);

/* Every replica's half: apply the transaction txn (len bytes, untrusted) for
 * zxid, which must exceed the last applied zxid. Fires the watches and fills
 * *reply (borrowed) with what the requesting client is to be told. Returns 0
 * when applied (reply->err may still carry the request's error);
 * ZAB_ECORRUPT when the bytes do not decode or do not fit the tree (nothing
 * changed); ZAB_EINVAL for a zxid out of order; ZAB_ENOMEM, after which the
 * tree may be half-changed and answers ZAB_EFAILED from then on (fail-stop:
 * rebuild the replica from its snapshot and log). */
ZAB_API int zab_tree_apply(zab_tree *tree, int64_t zxid, const void *txn, size_t len,
                   zab_reply *reply);

/* Re-register a reconnecting client's watches (SetWatches / SetWatches2) for
 * watcher, with the client's last seen zxid: per path, send the events the
 * client missed or leave the watch, as ZooKeeper does. kind is one of
 * ZAB_SETWATCH_*. Returns 0; ZAB_EINVAL for another kind; ZAB_ENOMEM. */
enum {
    ZAB_SETWATCH_DATA = 0,
    ZAB_SETWATCH_EXIST = 1,
    ZAB_SETWATCH_CHILD = 2,
    ZAB_SETWATCH_PERSISTENT = 3,
    ZAB_SETWATCH_PERSISTENT_RECURSIVE = 4
};
ZAB_API int zab_tree_set_watches(zab_tree *tree, int64_t watcher, const zab_id *auth,
                         uint32_t nauth, int64_t relative_zxid, int kind,
                         const zab_str *paths, uint32_t npaths);

/* Drop every watch of watcher (its connection closed). */
ZAB_API void zab_tree_drop_watcher(zab_tree *tree, int64_t watcher);

/* A live session's timeout and 16-byte password: ZAB_OK, or
 * ZAB_ESESSIONEXPIRED when the tree knows no such session. */
ZAB_API int zab_tree_session(const zab_tree *tree, int64_t session, int32_t *timeout,
                     uint8_t passwd[16]);

typedef struct zab_tree_stats {
    int64_t last_zxid;     /* last applied */
    uint64_t digest;       /* of nodes and sessions; equal on equal replicas */
    uint64_t nodes;        /* including / and /zookeeper's nodes */
    uint64_t ephemerals;
    uint64_t sessions;
    uint64_t data_bytes;   /* sum of data and path lengths */
    uint64_t watches;      /* (watcher, path, kind) registrations */
    uint64_t watched_paths;
    uint64_t watchers;
    uint64_t pending;      /* prepared changes not yet applied */
} zab_tree_stats;
ZAB_API void zab_tree_stats_get(const zab_tree *tree, zab_tree_stats *out);

/* Snapshots. A write function consumes all len bytes and returns 0, or a
 * negative code to stop. A read function copies up to len bytes into bytes
 * and returns how many (0 only at the end of the input), or a negative code
 * to stop; like read(2), it may return fewer than asked. */
typedef int (*zab_write_fn)(void *ctx, const void *bytes, size_t len);
typedef long (*zab_read_fn)(void *ctx, void *bytes, size_t len);

/* Serialize the whole tree, its sessions and its digest. Returns 0, or the
 * first negative code the write function returned. The tree is unchanged. */
ZAB_API int zab_tree_save(const zab_tree *tree, zab_write_fn write, void *ctx);

/* Replace the tree's contents with a snapshot read from the read function.
 * The bytes are untrusted: every length and count is bounded and the digest
 * is checked. Watches and prepared changes are dropped. Returns 0;
 * ZAB_ECORRUPT for bytes that are not a valid snapshot, ZAB_ENOMEM, or the
 * read function's code: on any error the tree is exactly as it was.
 * ZAB_EFAILED for a tree stopped by an earlier failed apply: rebuild such a
 * replica by loading into a new tree. */
ZAB_API int zab_tree_load(zab_tree *tree, zab_read_fn read, void *ctx);

/* zab_tree_load from len bytes in memory. */
ZAB_API int zab_tree_load_mem(zab_tree *tree, const void *bytes, size_t len);

/* ------------------------------------------------------------------------ */
/* The ZAB node                                                              */
/* ------------------------------------------------------------------------ */

/* A node is one server of an ensemble: a pure state machine that makes every
 * protocol decision (leader election, discovery, synchronization, atomic
 * broadcast) and owns the replica's data tree, while the host performs every
 * side effect through the zab_io callbacks: it moves bytes between nodes,
 * makes the log and the epochs durable, and keeps time. No threads, no
 * sockets, no clock reads, no randomness: the same calls in the same order
 * give the same results.
 *
 * Thread rule: one thread at a time drives a node (every zab_node_* call and
 * every callback happen on that thread). Callbacks must not call back into
 * the node, except where a callback's comment allows it. */

typedef struct zab_node zab_node;

/* Roles (ZooKeeper's ServerState numbers). */
enum {
    ZAB_LOOKING = 0,
    ZAB_FOLLOWING = 1,
    ZAB_LEADING = 2,
    ZAB_OBSERVING = 3
};

/* zxid arithmetic: epoch in the high 32 bits, counter in the low 32. */
#define ZAB_ZXID(epoch, counter) ((int64_t)(((uint64_t)(epoch) << 32) | (uint32_t)(counter)))
#define ZAB_EPOCH(zxid) ((int64_t)((uint64_t)(zxid) >> 32))
#define ZAB_COUNTER(zxid) ((uint32_t)(zxid))

/* One server of the ensemble. */
typedef struct zab_member {
    int64_t sid;           /* server id, > 0 and unique */
    int observer;          /* non-zero: receives commits, never votes */
} zab_member;

/* A logged transaction: borrowed for the call it is passed to. */
typedef struct zab_entry {
    int64_t zxid;
    const void *txn;
    size_t len;
} zab_entry;

/* What the host does for a node. Every callback receives ctx. Buffers are
 * borrowed for the call only. A callback that fails (returns non-zero) makes
 * the node stop (fail-stop): a node never continues past a durability
 * failure (the fsync-retry trap). */
typedef struct zab_io {
    void *ctx;
    /* Queue len bytes for peer `to` on the FIFO channel to it. Delivery may
     * fail (the channel then breaks and the host reports zab_node_peer_down
     * on both ends); messages on one channel are never reordered. */
    void (*send)(void *ctx, int64_t to, const void *bytes, size_t len);
    /* Close the channel to `to`: the node received bytes from it that break
     * the protocol (malformed, duplicated, out of order) and will ignore it
     * until the host reports zab_node_peer_down and, later, _peer_up. */
    void (*disconnect)(void *ctx, int64_t to);
    /* Append entries (strictly increasing zxids) to the log. May return
     * before they are durable; the host later calls zab_node_log_synced with
     * the highest zxid that is. Group commit and batching are the host's. */
    int (*log_append)(void *ctx, const zab_entry *entries, size_t n);
    /* Durably discard every logged entry with zxid > zxid, then return. */
    int (*log_truncate)(void *ctx, int64_t zxid);
    /* Durably record acceptedEpoch and currentEpoch, then return. */
    int (*save_epochs)(void *ctx, int64_t accepted, int64_t current);
    /* Durably replace the whole state by tree (a snapshot at its last zxid,
     * zab_tree_save) and an empty log, then return. Used when a learner is
     * synchronized by SNAP. */
    int (*save_snapshot)(void *ctx, const zab_tree *tree);
    /* A request submitted on this node finished: reply is borrowed (valid
     * for the call); cookie is the submitter's. ZAB_ECONNECTIONLOSS when the
     * node lost its leader before the outcome was known (a write may or may
     * not commit). May be called from inside zab_node_submit (a read served
     * at once) and from any other zab_node_* call. */
    void (*on_result)(void *ctx, uint64_t cookie, const zab_reply *reply);
    /* The role changed (leader: the leader's sid, 0 when unknown). LEADING
     * and FOLLOWING/OBSERVING are reported once the epoch is established
     * (the node serves from then on); LOOKING when an election begins. */
    void (*on_role)(void *ctx, int role, int64_t leader, int64_t epoch);
    /* Optional: the tree now holds every transaction up to zxid (after each
     * applied transaction, and after a snapshot replaced the tree). The
     * callback may read the tree (zab_node_tree, zab_tree_stats_get). */
    void (*on_apply)(void *ctx, int64_t zxid);
} zab_io;

typedef struct zab_node_config {
    int64_t sid;               /* this server's id */
    const zab_member *members; /* every server, this one included; copied */
    uint32_t nmembers;
    uint32_t tick_ms;          /* 0 = 2000 */
    uint32_t init_limit;       /* ticks for discovery + sync; 0 = 10 */
    uint32_t sync_limit;       /* ticks of silence tolerated; 0 = 5 */
    uint32_t finalize_wait_ms; /* election finalize wait; 0 = 200 */
    uint32_t max_message;      /* largest peer message; 0 = 4 MiB */
    uint32_t max_outstanding;  /* proposals in flight at the leader; 0 = 1000 */
    uint32_t log_window;       /* transactions kept in memory for DIFF; 0 = 10000 */
    uint32_t snap_chunk;       /* SNAP transfer chunk size; 0 = 256 KiB */
    uint32_t disk_stall_ticks; /* a leader whose log sync lags this long steps
                                  down; 0 = sync_limit */
    uint32_t min_session_timeout_ms; /* 0 = 2 ticks (minSessionTimeout) */
    uint32_t max_session_timeout_ms; /* 0 = 20 ticks (maxSessionTimeout) */
    uint32_t reap_interval_ms; /* leader: how often empty containers and expired
                                  TTL nodes are deleted; 0 = 60000
                                  (znode.container.checkIntervalMs) */
    uint32_t container_max_never_used_ms; /* reap a container that never had a
                                  child once it is this old; 0 = never */
    zab_tree_config tree;      /* the replica's data tree (copied) */
} zab_node_config;

/* What the host restores from its storage before starting the node: the
 * epochs and the durable log after the snapshot it loaded with
 * zab_node_restore_snapshot. */
typedef struct zab_node_state {
    int64_t accepted_epoch;
    int64_t current_epoch;
} zab_node_state;

/* A new node in LOOKING with an empty tree at zxid 0. cfg and io are copied.
 * NULL on OOM or an invalid configuration (unknown sid, duplicate sids). */
ZAB_API zab_node *zab_node_new(const zab_node_config *cfg, const zab_io *io,
                               const zab_node_state *state);
ZAB_API void zab_node_free(zab_node *node);

/* Restoring from storage, before zab_node_start: load the snapshot, then
 * hand every durable log entry after it, in order. ZAB_ECORRUPT for a
 * snapshot or entry that does not fit (an entry whose zxid does not follow
 * the last one). */
ZAB_API int zab_node_restore_snapshot(zab_node *node, zab_read_fn read, void *ctx);
ZAB_API int zab_node_restore_entry(zab_node *node, const zab_entry *entry);

/* Begin: the node enters leader election at time now_ms. */
ZAB_API int zab_node_start(zab_node *node, int64_t now_ms);

/* Drive the node. zab_node_tick advances time (never backwards) and fires
 * due timers; zab_node_recv hands it one message from peer `from` (bytes
 * untrusted; a malformed message breaks that channel: the node asks the
 * host to close it through io->disconnect); zab_node_peer_up / _down report the
 * channel to a peer (re)established or lost; zab_node_log_synced reports
 * every appended entry up to zxid durable. Each returns 0, or a negative
 * code once the node has stopped (ZAB_EFAILED, or the code of the callback
 * that failed). */
ZAB_API int zab_node_tick(zab_node *node, int64_t now_ms);
ZAB_API int zab_node_recv(zab_node *node, int64_t from, const void *bytes, size_t len);
ZAB_API int zab_node_peer_up(zab_node *node, int64_t sid);
ZAB_API int zab_node_peer_down(zab_node *node, int64_t sid);
ZAB_API int zab_node_log_synced(zab_node *node, int64_t zxid);

/* The time at which zab_node_tick should next be called. */
ZAB_API int64_t zab_node_next_deadline(const zab_node *node);

/* Submit a client's request on this node: any request type zab_tree_prepare
 * (writes, createSession, closeSession) or zab_tree_read (reads and the
 * watch-table requests) takes, or ZAB_OP_SYNC. The request is copied. Its
 * outcome comes through io->on_result with cookie, and a session's requests
 * complete in the order they were submitted, as ZooKeeper answers them:
 *  - a write completes once committed and applied on this node;
 *  - a read is served from this node's tree, never waiting on the leader;
 *    when its session has earlier requests under way it runs right after
 *    they complete (a client reads its own writes); otherwise at once,
 *    which means on_result is called before zab_node_submit returns;
 *  - a sync completes once this node has applied everything the leader had
 *    committed when the sync reached it, and only after the leader proved
 *    with a quorum round that it still leads: a read submitted after it
 *    sees every write acknowledged before the sync began (linearizable,
 *    even across a deposed leader). Its reply carries err and zxid only.
 * A write or sync of a session that moved to another node (see
 * zab_node_revalidate) fails with ZAB_ESESSIONMOVED. Cookies must be unique
 * over the node's whole history, restarts included (a proposal carries its
 * cookie, and one from before a restart may still commit). Returns 0 (the
 * outcome will come), or without calling on_result: ZAB_ETOOBIG for a
 * write over max_message (refused at the edge, never logged);
 * ZAB_ECONNECTIONLOSS when the node is not serving (no established
 * leader); ZAB_ETHROTTLED when max_outstanding writes are in flight at the
 * leader or 4 x max_outstanding requests wait on this node; ZAB_EINVAL;
 * ZAB_ENOMEM. When the node loses its leader, every request under way ends
 * with ZAB_ECONNECTIONLOSS, in order (a write may still commit). */
ZAB_API int zab_node_submit(zab_node *node, const zab_request *req, uint64_t cookie);

/* A client reconnects to this node with session id and its 16-byte
 * password (ZooKeeper's connect with a session id), having seen zxid
 * last_zxid_seen. Checked here: ZAB_ECONNECTIONLOSS when the node is not
 * serving or has applied less than the client has seen (the client must try
 * another server: reading here would take it back in time);
 * ZAB_ESESSIONEXPIRED for a session this node's tree does not hold;
 * ZAB_EAUTHFAILED for a wrong password. Otherwise returns 0 and the leader
 * then decides: on_result with cookie reports ZAB_OK (the session is alive,
 * its timeout restarts, and it now belongs to this node: writes sent for it
 * through its former node fail with ZAB_ESESSIONMOVED) or
 * ZAB_ESESSIONEXPIRED. The session's requests submitted after this wait
 * for the outcome. Re-register the client's watches after it with
 * zab_tree_set_watches and last_zxid_seen. */
ZAB_API int zab_node_revalidate(zab_node *node, int64_t session, const uint8_t passwd[16],
                                int64_t last_zxid_seen, uint64_t cookie);

/* A client's requested session timeout clamped to the node's bounds, as
 * ZooKeeper negotiates it: what a createSession should carry. Any thread
 * that may read the node. */
ZAB_API int32_t zab_node_session_timeout(const zab_node *node, int32_t requested_ms);

/* A client of this node showed life (any request or ping): its session
 * stays alive. The leader tracks every session's deadline in buckets one
 * tick wide; learners report their clients' activity in their PING replies.
 * A session nobody touches for its timeout becomes a closeSession
 * transaction, which removes its ephemerals everywhere. Returns 0, or a
 * negative code once the node has stopped. */
ZAB_API int zab_node_touch(zab_node *node, int64_t session);

/* The node's replica of the data tree, for reads (zab_tree_read) and watch
 * registration. Borrowed: valid for the node's life; writes must go through
 * zab_node_submit. */
ZAB_API zab_tree *zab_node_tree(zab_node *node);

typedef struct zab_node_stats {
    int role;                  /* ZAB_LOOKING ... */
    int64_t leader;            /* sid of the known leader, 0 if none */
    int64_t accepted_epoch, current_epoch;
    int64_t last_logged;       /* highest zxid appended to the log */
    int64_t last_synced;       /* highest zxid reported durable */
    int64_t last_committed;    /* highest zxid known committed */
    int64_t last_applied;      /* highest zxid applied to the tree */
    uint64_t in_flight;        /* leader: proposals not yet committed */
    uint64_t elections;        /* elections entered */
    int64_t last_election_ms;  /* duration of the last completed election */
    uint64_t bytes_sent, messages_sent;
    uint64_t syncs;            /* zab_node_log_synced calls that advanced */
    uint64_t synced_entries;   /* entries they covered (batch size = this / syncs) */
    uint32_t learners_synced;  /* leader: learners that acknowledged NEWLEADER */
    uint64_t max_learner_lag;  /* leader: proposals the slowest synced voter
                                  has not yet acknowledged */
    int serving;               /* established (leader) or up to date
                                  (learner): writes and reads are served */
    int stopped;               /* non-zero after a fail-stop */
} zab_node_stats;
ZAB_API void zab_node_stats_get(const zab_node *node, zab_node_stats *out);

/* ------------------------------------------------------------------------ */
/* File storage (optional): the log, snapshots and epochs on a POSIX disk    */
/* ------------------------------------------------------------------------ */

/* A ready implementation of the node's durability callbacks on local files
 * (zab-storage(7) documents the format). A node never needs it: any host may
 * persist its own way.
 *
 * Thread rules: every function is called from the thread that drives the
 * node, except zab_storage_synced, zab_storage_fd and zab_storage_status,
 * which any thread may call. The storage runs one writer thread of its own
 * that writes and fsyncs appended records (group commit: one fsync covers
 * every record appended before it) and never calls into the node: the host
 * reads zab_storage_synced and reports it with zab_node_log_synced.
 *
 * Failure is final: once a write or fsync fails, every call returns that
 * error (never retry an fsync: the kernel may have dropped the dirty pages). */

typedef struct zab_storage zab_storage;
struct zab_sys; /* replaceable system calls, for fault injection in tests */

typedef struct zab_storage_config {
    const char *dir;           /* snapshots and epochs (ZooKeeper's dataDir);
                                  created if missing; copied */
    const char *log_dir;       /* log segments (dataLogDir); NULL = dir */
    uint64_t segment_bytes;    /* preallocated size of a log segment; 0 = 64 MiB */
    uint32_t snap_retain;      /* snapshots purging keeps (autopurge.snapRetainCount);
                                  0 = 3 */
    uint32_t max_record;       /* largest log record; 0 = 4 MiB */
    int sync_each;             /* one fsync per append, no group commit */
    int truncate_corrupt;      /* recovery cuts the log at a corrupt record in the
                                  middle instead of refusing to open (loses data) */
    const struct zab_sys *sys; /* NULL = the real system calls */
} zab_storage_config;

/* Open (creating if needed) and recover: find the newest valid snapshot,
 * read the log after it, cut a torn or unfinished record at the tail.
 * Corruption before the tail (a bad CRC followed by valid records, a
 * missing segment, a damaged epoch file) refuses to open. Returns 0 and
 * *out (err then notes what recovery repaired or skipped, or is empty);
 * ZAB_ECORRUPT or ZAB_EIO with a description in err (NUL-terminated, at
 * most errlen bytes, may be NULL); ZAB_ENOMEM. */
ZAB_API int zab_storage_open(const zab_storage_config *cfg, zab_storage **out, char *err,
                             size_t errlen);
/* Write and sync what was appended, stop the writer thread, free. */
ZAB_API void zab_storage_close(zab_storage *s);

/* The recovered epochs (for zab_node_new), and the recovered snapshot and
 * log entries handed to a new node (zab_node_restore_snapshot and
 * zab_node_restore_entry). restore returns their codes. */
ZAB_API void zab_storage_state(const zab_storage *s, zab_node_state *out);
ZAB_API int zab_storage_restore(zab_storage *s, zab_node *node);

/* The node's durability callbacks; call them from its zab_io callbacks.
 * append buffers (durable later, see zab_storage_synced); the others are
 * durable when they return. Each returns 0, or the storage's error. */
ZAB_API int zab_storage_append(zab_storage *s, const zab_entry *entries, size_t n);
ZAB_API int zab_storage_truncate(zab_storage *s, int64_t zxid);
ZAB_API int zab_storage_save_epochs(zab_storage *s, int64_t accepted, int64_t current);
ZAB_API int zab_storage_save_snapshot(zab_storage *s, const zab_tree *tree);

/* Take a snapshot of tree for faster recovery: serialized at once (an exact
 * image at the tree's last zxid, not a fuzzy one), written and synced by the
 * writer thread, after which snapshots beyond snap_retain and the log
 * segments only they needed are purged. 0 or the storage's error. */
ZAB_API int zab_storage_snapshot(zab_storage *s, const zab_tree *tree);

/* The highest zxid durable in the log. Any thread. */
ZAB_API int64_t zab_storage_synced(const zab_storage *s);
/* A descriptor that becomes readable whenever synced advances (for a poll
 * loop; zab_storage_synced clears it). Any thread. */
ZAB_API int zab_storage_fd(const zab_storage *s);
/* 0, or the error that stopped the storage. Any thread. */
ZAB_API int zab_storage_status(const zab_storage *s);
/* zab_storage_status, and what happened in words (the operation, the file
 * and the system's error text) into buf (NUL-terminated, at most len
 * bytes; empty while the storage runs). Any thread. */
ZAB_API int zab_storage_error(const zab_storage *s, char *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* TCP peer transport (optional): the node's messages between servers       */
/* ------------------------------------------------------------------------ */

/* A poll-based transport that carries peer messages between the servers of
 * an ensemble over TCP, as the node's send / disconnect / peer_up /
 * peer_down expect: one connection per pair of servers (the server with the
 * larger sid dials, so two dials never leave two connections), a handshake
 * that names the dialer, frames of a u32 length and the message, reconnects
 * with back-off, and bounds on every frame and on what waits for a peer (a
 * peer that stops reading loses its connection, not our memory). A closed
 * connection is reported at once. Sends are queued and written by the next
 * zab_tcp_poll, one writev per connection per wake.
 *
 * Thread rule: one thread calls every function (the thread that drives the
 * node), except zab_tcp_wake, which any thread may call. Callbacks run on
 * that thread, from inside zab_tcp_poll, and may call zab_tcp_send and
 * zab_tcp_disconnect. */

typedef struct zab_tcp zab_tcp;

/* One server's peer address. */
typedef struct zab_tcp_peer {
    int64_t sid;
    const char *host;          /* name or numeric address; copied */
    uint16_t port;             /* its peer port */
} zab_tcp_peer;

typedef struct zab_tcp_config {
    int64_t sid;               /* this server: its entry in peers gives the
                                  address to listen on */
    const zab_tcp_peer *peers; /* every server, this one included; copied */
    uint32_t npeers;
    const char *listen_host;   /* NULL = this server's entry (use "0.0.0.0"
                                  to accept on every interface) */
    uint32_t max_frame;        /* largest message; 0 = 4 MiB + 64 */
    uint64_t max_queued;       /* bytes waiting for one peer before its
                                  connection is dropped; 0 = 64 MiB */
    uint32_t reconnect_min_ms; /* back-off between dials: 0 = 20 */
    uint32_t reconnect_max_ms; /* doubling up to this; 0 = 1000 */
    void *ctx;                 /* for the callbacks */
    /* A whole message from peer `from` (bytes borrowed for the call). */
    void (*on_message)(void *ctx, int64_t from, const void *bytes, size_t len);
    /* The connection to sid came up / went down (each up is followed by
     * exactly one down before the next up). */
    void (*on_up)(void *ctx, int64_t sid);
    void (*on_down)(void *ctx, int64_t sid);
} zab_tcp_config;

/* Listen and start dialing. Returns 0 and *out; ZAB_EINVAL (a bad
 * configuration: unknown or duplicate sid, no address), ZAB_EIO (the port
 * is in use, a name does not resolve) with a description in err
 * (NUL-terminated, at most errlen bytes; may be NULL); ZAB_ENOMEM. */
ZAB_API int zab_tcp_open(const zab_tcp_config *cfg, zab_tcp **out, char *err, size_t errlen);
/* Close every connection and the listener; free. */
ZAB_API void zab_tcp_close(zab_tcp *tcp);

/* The port actually listened on (useful with port 0 in the configuration). */
ZAB_API uint16_t zab_tcp_port(const zab_tcp *tcp);

/* Queue len bytes (copied) as one message to peer `to`. Dropped when there
 * is no connection to it (the node has been or will be told it is down). */
ZAB_API void zab_tcp_send(zab_tcp *tcp, int64_t to, const void *bytes, size_t len);
/* Close the connection to `to` (reported through on_down); a new one
 * follows after the back-off. */
ZAB_API void zab_tcp_disconnect(zab_tcp *tcp, int64_t to);

/* Also wait for fd to become readable; on_ready(ctx) is then called from
 * zab_tcp_poll (e.g. zab_storage_fd). At most 8. 0 or ZAB_ETOOBIG. */
ZAB_API int zab_tcp_watch_fd(zab_tcp *tcp, int fd, void (*on_ready)(void *ctx), void *ctx);

/* Write what is queued, then wait up to timeout_ms (-1: no limit) for
 * I/O, a watched fd or zab_tcp_wake, and handle it all (callbacks).
 * Returns 0, or ZAB_EIO when polling itself failed. */
ZAB_API int zab_tcp_poll(zab_tcp *tcp, int timeout_ms);
/* Make a zab_tcp_poll in progress (or the next) return at once. Any thread. */
ZAB_API void zab_tcp_wake(zab_tcp *tcp);

/* ------------------------------------------------------------------------ */
/* The ready host: a server on a thread of its own, and in-process clients  */
/* ------------------------------------------------------------------------ */

/* zab_server runs one node with the file storage and the TCP transport on
 * a thread of its own; zab_client_* are a ZooKeeper client's operations
 * against it from the same process, without a socket.
 *
 * Thread rules: every zab_server_* and zab_client_* function may be called
 * from any thread except the server's own (so never from a completion or
 * watch callback, unless the function says so). Completions and watch
 * events are delivered on the server's thread: keep them short, and do not
 * call a synchronous zab_client_* function from them. */

typedef struct zab_server zab_server;
typedef struct zab_client zab_client;

/* One server of the ensemble, as zoo.cfg's server.N=host:port:... names it. */
typedef struct zab_server_member {
    int64_t sid;               /* 1..255: a session id carries it in its top
                                  byte, as ZooKeeper's do */
    const char *host;          /* copied */
    uint16_t port;             /* its peer (quorum) port */
    int observer;
} zab_server_member;

typedef struct zab_server_config {
    int64_t sid;               /* this server (zoo.cfg's myid) */
    const zab_server_member *members; /* every server, this one included */
    uint32_t nmembers;
    const char *data_dir;      /* snapshots and epochs (dataDir) */
    const char *log_dir;       /* the log (dataLogDir); NULL = data_dir */
    const char *listen_host;   /* peer listener; NULL = this member's host */
    uint32_t tick_ms;          /* tickTime; 0 = 2000 */
    uint32_t init_limit;       /* initLimit in ticks; 0 = 10 */
    uint32_t sync_limit;       /* syncLimit in ticks; 0 = 5 */
    uint32_t min_session_timeout_ms; /* 0 = 2 ticks */
    uint32_t max_session_timeout_ms; /* 0 = 20 ticks */
    uint32_t snap_count;       /* transactions between snapshots (snapCount);
                                  0 = 100000 */
    uint32_t snap_retain;      /* autopurge.snapRetainCount; 0 = 3 */
    uint64_t segment_bytes;    /* preallocated log segment size; 0 = 64 MiB */
    uint32_t max_message;      /* largest peer message; 0 = 4 MiB */
    uint32_t max_outstanding;  /* writes in flight at the leader; 0 = 1000 */
    zab_tree_config tree;      /* max_data, extended_types, skip_acl,
                                  super_digest; its on_watch is the server's */
    /* Optional: a line of the server's log (level 0 error .. 3 debug), on
     * the server's thread. */
    void (*log)(void *ctx, int level, const char *line);
    void *log_ctx;
} zab_server_config;

/* Open the storage, recover, listen, and start the node on a new thread.
 * Returns 0 and *out; on error nothing is left running and err (at most
 * errlen bytes, NUL-terminated; may be NULL) says what failed: ZAB_EINVAL
 * (a bad configuration), ZAB_EIO (a port in use, an unreadable or
 * unwritable directory), ZAB_ECORRUPT (a damaged log or snapshot),
 * ZAB_ENOMEM. */
ZAB_API int zab_server_start(const zab_server_config *cfg, zab_server **out, char *err,
                             size_t errlen);
/* Stop: a leader first closes its followers' connections, so they elect at
 * once rather than after a timeout; every request under way ends with
 * ZAB_ECONNECTIONLOSS; the storage is synced and closed; the thread is
 * joined and everything freed. Returns 0, or the error that had stopped the
 * server (a failed fsync, a node that stopped). */
ZAB_API int zab_server_stop(zab_server *server);
/* A consistent copy of the node's statistics. */
ZAB_API void zab_server_stats(zab_server *server, zab_node_stats *out);
/* A consistent copy of the replica's tree statistics (nodes, ephemerals,
 * sessions, watches, data size), as the server's thread published them at
 * the end of its last turn. Any thread (for mntr-style monitoring). */
ZAB_API void zab_server_tree_stats(zab_server *server, zab_tree_stats *out);
/* Wait until the server serves (an established leader, or a learner up to
 * date) or timeout_ms pass: 0 or ZAB_EOPERATIONTIMEOUT (at once for a
 * server that has stopped). */
ZAB_API int zab_server_wait_serving(zab_server *server, int timeout_ms);
/* The port the peer listener uses (the configured one, or the one chosen
 * for port 0). */
ZAB_API uint16_t zab_server_port(zab_server *server);

/* A watch event for the client's session (borrowed for the call). */
typedef void (*zab_client_watch_fn)(void *ctx, const zab_event *ev);
/* An asynchronous request finished: reply borrowed for the call. */
typedef void (*zab_client_done_fn)(void *ctx, const zab_reply *reply);

/* Open a session on server with the requested timeout (negotiated within
 * the server's bounds). watch (may be NULL) receives the session's watch
 * events, on the server's thread, in order. While the client is open the
 * server keeps its session alive. Returns 0 and *out, or the error:
 * ZAB_ECONNECTIONLOSS (no leader within the timeout), ZAB_EFAILED (the
 * server stopped), ZAB_EINVAL, ZAB_ENOMEM. */
ZAB_API int zab_client_open(zab_server *server, int32_t timeout_ms, zab_client_watch_fn watch,
                            void *ctx, zab_client **out);
/* Close the session (its ephemerals go, everywhere) and free the client.
 * Returns the closeSession's code. */
ZAB_API int zab_client_close(zab_client *client);
/* Free the client without closing its session, which then expires after
 * its timeout (as a client that vanished). */
ZAB_API void zab_client_abandon(zab_client *client);
/* The session's id and negotiated timeout. */
ZAB_API int64_t zab_client_session(const zab_client *client);
ZAB_API int32_t zab_client_timeout(const zab_client *client);
/* The session's 16-byte password (what a ZooKeeper client keeps to
 * reconnect with). */
ZAB_API void zab_client_password(const zab_client *client, uint8_t out[16]);

/* Resume an existing session through server: a client that lost its
 * connection (to this server or another) reconnects with the session's id,
 * its password and the last zxid it saw (zab_node_revalidate). Returns 0
 * and *out; ZAB_EAUTHFAILED (a wrong password), ZAB_ESESSIONEXPIRED,
 * ZAB_ECONNECTIONLOSS (this server does not serve, or has applied less
 * than the client saw: try another), ZAB_EFAILED (a stopped server),
 * ZAB_ENOMEM. Requests for the session through any other server then fail
 * with ZAB_ESESSIONMOVED. */
ZAB_API int zab_client_resume(zab_server *server, int64_t session, const uint8_t passwd[16],
                              int64_t last_zxid_seen, zab_client_watch_fn watch, void *ctx,
                              zab_client **out);

/* Add an identity to the client's connection (ZooKeeper's addAuth: scheme
 * "digest" with id "user:BASE64(SHA1(user:password))", see zab_digest_id;
 * "ip" with the peer's address), used in the ACL checks of every later
 * request. Copied. 0, ZAB_EINVAL (an empty scheme), ZAB_ENOMEM. */
ZAB_API int zab_client_add_auth(zab_client *client, zab_str scheme, zab_str id);

/* By default the server keeps an open client's session alive. A host that
 * relays a remote client turns that off (on = 0) and reports the client's
 * pings and requests with zab_client_touch, so that a client that falls
 * silent expires as ZooKeeper's do. */
ZAB_API void zab_client_keep_alive(zab_client *client, int on);
ZAB_API int zab_client_touch(zab_client *client);

/* Re-register a reconnected client's watches (SetWatches): kind is one of
 * ZAB_SETWATCH_*, relative_zxid the last zxid the client saw; events it
 * missed come at once to the watch callback (zab_tree_set_watches).
 * Waits. 0, ZAB_EINVAL, ZAB_EFAILED, ZAB_ENOMEM. */
ZAB_API int zab_client_set_watches(zab_client *client, int64_t relative_zxid, int kind,
                                   const zab_str *paths, uint32_t npaths);

/* Any request (see zab_node_submit: writes, reads, sync, multi), for the
 * client's session; req->session and req->auth are ignored (the session is
 * the client's, with the identities of zab_client_add_auth). Asynchronous: copied, queued
 * in order, and done(ctx, reply) is called once, on the server's thread.
 * Returns 0, or an error without calling done (ZAB_EINVAL, ZAB_ENOMEM,
 * ZAB_EFAILED for a stopped server). */
ZAB_API int zab_client_submit(zab_client *client, const zab_request *req,
                              zab_client_done_fn done, void *ctx);
/* The same, waiting: the reply is copied to *out (free it with
 * zab_reply_free). Returns reply->err, or an error of zab_client_submit
 * (then *out is NULL). */
ZAB_API int zab_client_call(zab_client *client, const zab_request *req, zab_reply **out);
/* Free a reply from zab_client_call (NULL is ignored). */
ZAB_API void zab_reply_free(zab_reply *reply);

/* The common operations, waiting; each returns ZooKeeper's code. Optional
 * outputs may be NULL. */
ZAB_API int zab_client_create(zab_client *client, const char *path, const void *data,
                              int32_t len, const zab_acl *acl, uint32_t nacl, int32_t mode,
                              char *created, size_t cap);
/* getData: the data (appended to *data, which the caller owns) and Stat. */
ZAB_API int zab_client_get(zab_client *client, const char *path, int watch, zab_buf *data,
                           zab_stat *stat);
ZAB_API int zab_client_set(zab_client *client, const char *path, const void *data,
                           int32_t len, int32_t version, zab_stat *stat);
ZAB_API int zab_client_delete(zab_client *client, const char *path, int32_t version);
ZAB_API int zab_client_exists(zab_client *client, const char *path, int watch, zab_stat *stat);
/* getChildren2: the names appended to *names, each NUL-terminated, *count
 * of them; the parent's Stat. */
ZAB_API int zab_client_children(zab_client *client, const char *path, int watch,
                                zab_buf *names, uint32_t *count, zab_stat *stat);
ZAB_API int zab_client_sync(zab_client *client, const char *path);

#ifdef __cplusplus
}
#endif

/* The ZooKeeper client wire protocol, for hosts that serve ZooKeeper
 * clients, in a header of its own. */
#include "zab_zk.h"

#endif /* ZAB_H */
