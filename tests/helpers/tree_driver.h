/*
 * tree_driver.h - drive one zab_tree (and optionally follower replicas) the
 * way a server would, for tests.
 *
 * A driver owns a tree, a zxid counter (epoch << 32 | counter, starting at
 * counter 1), a fake clock (TD_CLOCK_START ms, advanced by one step per
 * prepared write unless set), per-session connection identities, and a
 * recorder of every watch event each replica delivers.
 *
 * Writes are prepared on the leader tree and the same transaction bytes are
 * applied to the leader and then to every follower; a follower that answers
 * differently from the leader fails the test. Replies are copied into memory
 * the driver owns until td_free(), so a test may keep any number of them.
 *
 * Every function fails the running Check test on a broken invariant of the
 * driver itself (allocation failure, a follower that disagrees); errors of
 * the tree under test are reported in the reply for the test to judge.
 */
#ifndef ZAB_TESTS_TREE_DRIVER_H
#define ZAB_TESTS_TREE_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "zab.h"

enum { TD_MAX_FOLLOWERS = 4 };

#define TD_CLOCK_START INT64_C(1700000000000)

/* Wildcards for td_count_events. */
#define TD_ANY_WATCHER INT64_MIN
#define TD_ANY_TYPE 0

/* One delivered watch event, copied. */
typedef struct td_event {
    int64_t watcher;
    int32_t type;
    int32_t state;
    char *path;        /* NUL-terminated copy */
    uint32_t path_len;
    int64_t zxid;
} td_event;

typedef struct td_acl {
    int32_t perms;
    char *scheme;      /* NUL-terminated copies */
    char *id;
} td_acl;

/* An owned copy of a zab_result. */
typedef struct td_result {
    int32_t type;
    int32_t err;
    zab_stat stat;
    char *path;        /* NUL-terminated; NULL when the result has none */
    char *data;        /* data_len bytes plus a NUL; NULL for null data */
    int32_t data_len;
    char **names;      /* NUL-terminated copies, sorted with strcmp */
    uint32_t nnames;
    td_acl *acl;
    uint32_t nacl;
    int64_t count;
} td_result;

/* An owned copy of a zab_reply, plus the library's return code. */
typedef struct td_reply {
    int rc;            /* zab_tree_prepare's code when it refused, else
                          zab_tree_apply's or zab_tree_read's */
    int32_t err;       /* ReplyHeader.err; rc itself when rc is not ZAB_OK
                          and the tree gave no reply */
    int64_t zxid;
    td_result *results;
    uint32_t nresults;
    const td_result *r; /* results[0], or an all-zero result when there is
                           none: never NULL */
} td_reply;

typedef struct td td;

/* A driver around a new tree built from cfg (NULL: defaults). The driver
 * installs its own event recorder in place of cfg->on_watch. */
td *td_new(const zab_tree_config *cfg);
void td_free(td *d);

zab_tree *td_tree(td *d);

/* Add a follower replica built from the same configuration; returns its
 * replica number (1, 2, ...). The leader is replica 0. Followers must be
 * added before the first write, so that every replica applies the same
 * history. */
int td_add_follower(td *d);
zab_tree *td_replica(td *d, int replica);
/* Fail the test unless every replica reports the same last zxid, digest and
 * node, ephemeral and session counts as the leader. */
void td_assert_replicas_agree(td *d);

/* The zxid counter: the next write gets epoch << 32 | counter. */
void td_set_epoch(td *d, uint32_t epoch);
int64_t td_next_zxid(const td *d);
/* The zxid of the last transaction applied through the driver (0 if none). */
int64_t td_last_zxid(const td *d);

/* The fake clock: each prepared write is stamped with the current value and
 * then the clock moves on by step (default 1 ms). */
void td_set_clock(td *d, int64_t now_ms);
int64_t td_clock(const td *d);
void td_set_clock_step(td *d, int64_t step_ms);

/* Identities of a session's connection, sent with every request of that
 * session (world:anyone is implied by the tree). */
void td_auth_add(td *d, int64_t session, const char *scheme, const char *id);
/* Add digest:user:BASE64(SHA1(user:password)) for "user:password". */
void td_auth_add_digest(td *d, int64_t session, const char *user_password);
void td_auth_clear(td *d, int64_t session);
/* The digest identity of "user:password" in a buffer the driver owns. */
const char *td_digest(td *d, const char *user_password);

/* ---- writes: prepare on the leader, apply everywhere -------------------- */

/* req->auth is replaced by the identities of req->session. */
const td_reply *td_request(td *d, const zab_request *req);
const td_reply *td_write(td *d, int64_t session, zab_op op);
const td_reply *td_multi(td *d, int64_t session, const zab_op *ops, uint32_t nops);

/* data: NUL-terminated text, or NULL for null data. The ACL is world:anyone
 * with every permission unless given. */
const td_reply *td_create(td *d, int64_t session, const char *path, const char *data,
                          int32_t mode);
const td_reply *td_create_acl(td *d, int64_t session, const char *path, const char *data,
                              const zab_acl *acl, uint32_t nacl, int32_t mode);
/* create2 (opcode 15): the result carries the Stat. */
const td_reply *td_create2(td *d, int64_t session, const char *path, const char *data,
                           int32_t mode);
/* createContainer (19). */
const td_reply *td_create_container(td *d, int64_t session, const char *path,
                                    const char *data);
/* createTTL (21) with the given mode and ttl. */
const td_reply *td_create_ttl(td *d, int64_t session, const char *path, const char *data,
                              int32_t mode, int64_t ttl);
const td_reply *td_delete(td *d, int64_t session, const char *path, int32_t version);
const td_reply *td_set(td *d, int64_t session, const char *path, const char *data,
                       int32_t version);
const td_reply *td_set_acl(td *d, int64_t session, const char *path, const zab_acl *acl,
                           uint32_t nacl, int32_t version);

/* createSession with a password derived from the id (td_session_password)
 * and closeSession. */
const td_reply *td_session_open(td *d, int64_t session, int32_t timeout_ms);
const td_reply *td_session_close(td *d, int64_t session);
void td_session_password(int64_t session, uint8_t out[16]);

/* ---- pipelined writes ---------------------------------------------------- */

typedef struct td_txn {
    int64_t zxid;
    zab_buf bytes;
} td_txn;

/* Prepare without applying; takes the next zxid when the tree accepts. Returns
 * zab_tree_prepare's code (txn->bytes is left empty on error). */
int td_prepare(td *d, const zab_request *req, td_txn *txn);
/* Apply a prepared transaction on every replica and release its bytes. */
const td_reply *td_apply(td *d, td_txn *txn);

/* ---- reads ------------------------------------------------------------- */

const td_reply *td_read(td *d, const zab_request *req);
const td_reply *td_read_op(td *d, int64_t session, zab_op op);
const td_reply *td_read_multi(td *d, int64_t session, const zab_op *ops, uint32_t nops);
const td_reply *td_get(td *d, int64_t session, const char *path, int watch);
const td_reply *td_exists(td *d, int64_t session, const char *path, int watch);
const td_reply *td_children(td *d, int64_t session, const char *path, int watch);
const td_reply *td_children2(td *d, int64_t session, const char *path, int watch);
const td_reply *td_get_acl(td *d, int64_t session, const char *path);
const td_reply *td_all_children(td *d, int64_t session, const char *path);
const td_reply *td_ephemerals(td *d, int64_t session, const char *prefix);
const td_reply *td_add_watch(td *d, int64_t session, const char *path, int32_t mode);
const td_reply *td_check_watches(td *d, int64_t session, const char *path, int32_t type);
const td_reply *td_remove_watches(td *d, int64_t session, const char *path, int32_t type);

/* The Stat of an existing node read by the system session; fails the test
 * when the node cannot be read. */
zab_stat td_stat(td *d, const char *path);
/* Non-zero when exists(path) by the system session answers ZAB_OK. */
int td_node_exists(td *d, const char *path);

/* zab_tree_set_watches on the leader with the session's identities. */
int td_set_watches(td *d, int64_t watcher, int64_t relative_zxid, int kind,
                   const char *const *paths, uint32_t npaths);

/* ---- events -------------------------------------------------------------- */

/* Events delivered by the leader, in delivery order. */
size_t td_nevents(const td *d);
const td_event *td_event_at(const td *d, size_t i);
/* Events matching watcher (or TD_ANY_WATCHER), type (or TD_ANY_TYPE) and
 * path (or NULL). */
size_t td_count_events(const td *d, int64_t watcher, int32_t type, const char *path);
/* Forget the events recorded so far, on every replica. */
void td_events_reset(td *d);
size_t td_replica_nevents(const td *d, int replica);
const td_event *td_replica_event_at(const td *d, int replica, size_t i);

zab_tree_stats td_stats(const td *d);

#endif
