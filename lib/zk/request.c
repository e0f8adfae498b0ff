/*
 * request.c - the jute bodies of ZooKeeper client requests (what follows the
 * RequestHeader): decoding untrusted bytes into a zab_request, and encoding a
 * zab_request back into the same bytes.
 *
 * Decoding is zero-copy: paths, data and ACL strings point into the body.
 * Only the arrays (the ops of a multi, the ACL entries) are built, in the
 * caller's scratch buffer. The body is parsed twice: once to validate it and
 * count what it holds, then again to fill arrays carved out of scratch in a
 * single reservation, so no pointer handed out can move when scratch grows.
 *
 * Leftover bytes: ZooKeeper's server deserializes a request record from the
 * frame's buffer and never looks at what remains after it (BinaryInputArchive
 * has no end check), so bytes after a complete single record are ignored
 * here too. A multi is stricter: after its terminating header the body must
 * end, which every ZooKeeper client satisfies.
 */
#include <assert.h>
#include <limits.h>
#include <string.h>

#include "util/codec.h"

/* An ACL entry takes at least 12 bytes (perms and two string lengths),
 * which bounds how many a count may announce. */
enum { ACL_MIN_BYTES = 12, MULTI_TERMINATOR = -1 };

/* Where decoded arrays go. With ops and acls NULL a pass only counts. */
typedef struct jute_sink {
    zab_op *ops;
    zab_acl *acls;
    size_t nops;
    size_t nacls;
    size_t ops_cap;
    size_t acls_cap;
} jute_sink;

static int is_create(int32_t type)
{
    return type == ZAB_OP_CREATE || type == ZAB_OP_CREATE2 ||
           type == ZAB_OP_CREATE_CONTAINER || type == ZAB_OP_CREATE_TTL;
}

/* Opcodes whose request record this file knows, outside a multi. The
 * handshake, auth, SASL, setWatches and reconfig records are the host's. */
static int is_single(int32_t type)
{
    switch (type) {
    case ZAB_OP_CREATE: case ZAB_OP_CREATE2: case ZAB_OP_CREATE_CONTAINER:
    case ZAB_OP_CREATE_TTL: case ZAB_OP_DELETE: case ZAB_OP_EXISTS:
    case ZAB_OP_GET_DATA: case ZAB_OP_SET_DATA: case ZAB_OP_GET_ACL:
    case ZAB_OP_SET_ACL: case ZAB_OP_GET_CHILDREN: case ZAB_OP_SYNC:
    case ZAB_OP_GET_CHILDREN2: case ZAB_OP_CHECK: case ZAB_OP_CHECK_WATCHES:
    case ZAB_OP_REMOVE_WATCHES: case ZAB_OP_DELETE_CONTAINER:
    case ZAB_OP_GET_EPHEMERALS: case ZAB_OP_GET_ALL_CHILDREN_NUMBER:
    case ZAB_OP_ADD_WATCH: case ZAB_OP_PING: case ZAB_OP_CLOSE_SESSION:
    case ZAB_OP_WHO_AM_I:
        return 1;
    default:
        return 0;
    }
}

static int is_multi(int32_t type)
{
    return type == ZAB_OP_MULTI || type == ZAB_OP_MULTI_READ;
}

/* A multi carries write ops only and a multiRead read ops only; anything
 * else in either is a marshalling error, as MultiOperationRecord makes it. */
static int sub_op_allowed(int32_t multi, int32_t type)
{
    if (multi == ZAB_OP_MULTI_READ)
        return type == ZAB_OP_GET_DATA || type == ZAB_OP_GET_CHILDREN;
    return is_create(type) || type == ZAB_OP_DELETE || type == ZAB_OP_SET_DATA ||
           type == ZAB_OP_CHECK;
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                  */
/* ------------------------------------------------------------------------ */

/* A jute buffer: -1 is null (data NULL, data_len -1). */
static void get_data(zab_reader *r, zab_op *op)
{
    zab_str s = zab_get_str(r);
    op->data = s.ptr;
    op->data_len = s.ptr ? (int32_t)s.len : -1;
}

/* vector<ACL>. Count -1 is jute's null vector, which ZooKeeper reads as no
 * list at all; it decodes like an empty one: nacl 0, acl NULL. */
static void get_acl_vector(zab_reader *r, zab_op *op, jute_sink *sink)
{
    zab_reader peek = *r;
    if (zab_get_i32(&peek) == -1 && !peek.err) {
        *r = peek;
        return;
    }
    uint32_t n = zab_get_count(r, ACL_MIN_BYTES);
    zab_acl *out = sink->acls ? sink->acls + sink->nacls : NULL;
    assert(!out || sink->nacls + n <= sink->acls_cap);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        zab_acl a;
        a.perms = zab_get_i32(r);
        a.id.scheme = zab_get_str(r);
        a.id.id = zab_get_str(r);
        if (out) out[i] = a;
    }
    if (r->err) return;
    op->acl = n && out ? out : NULL;
    op->nacl = n;
    sink->nacls += n;
}

/* One op's request record. Fields the record does not carry stay zero,
 * except ttl, which is -1 for every op but createTTL. */
static void get_op(zab_reader *r, int32_t type, zab_op *op, jute_sink *sink)
{
    memset(op, 0, sizeof *op);
    op->type = type;
    op->ttl = -1;
    if (type == ZAB_OP_PING || type == ZAB_OP_CLOSE_SESSION || type == ZAB_OP_WHO_AM_I)
        return;
    op->path = zab_get_str(r);
    switch (type) {
    case ZAB_OP_CREATE: case ZAB_OP_CREATE2: case ZAB_OP_CREATE_CONTAINER:
    case ZAB_OP_CREATE_TTL:
        get_data(r, op);
        get_acl_vector(r, op, sink);
        op->flags = zab_get_i32(r);
        if (type == ZAB_OP_CREATE_TTL) op->ttl = zab_get_i64(r);
        break;
    case ZAB_OP_DELETE: case ZAB_OP_CHECK:
        op->version = zab_get_i32(r);
        break;
    case ZAB_OP_EXISTS: case ZAB_OP_GET_DATA: case ZAB_OP_GET_CHILDREN:
    case ZAB_OP_GET_CHILDREN2:
        op->watch = zab_get_u8(r) != 0; /* Java's readBoolean: non-zero is true */
        break;
    case ZAB_OP_SET_DATA:
        get_data(r, op);
        op->version = zab_get_i32(r);
        break;
    case ZAB_OP_SET_ACL:
        get_acl_vector(r, op, sink);
        op->version = zab_get_i32(r);
        break;
    case ZAB_OP_CHECK_WATCHES: case ZAB_OP_REMOVE_WATCHES: case ZAB_OP_ADD_WATCH:
        op->flags = zab_get_i32(r); /* watcher type, or addWatch's mode */
        break;
    default: /* getACL, sync, deleteContainer, getEphemerals, ...Number: a path */
        assert(is_single(type));
        break;
    }
}

static void sink_op(jute_sink *sink, const zab_op *op)
{
    if (sink->ops) {
        assert(sink->nops < sink->ops_cap);
        sink->ops[sink->nops] = *op;
    }
    sink->nops++;
}

/* MultiHeaders and records up to the terminator. Clients send err -1 in
 * every header; ZooKeeper never looks at it, and neither does this. ZooKeeper
 * also ends at any header with done set, whatever its type; no client sends
 * a terminator other than type -1, so any other is refused here. */
static int get_multi(zab_reader *r, int32_t multi, jute_sink *sink)
{
    for (;;) {
        int32_t type = zab_get_i32(r);
        int done = zab_get_u8(r) != 0;
        (void)zab_get_i32(r);
        if (r->err) return ZAB_EMARSHALLING;
        if (done) return type == MULTI_TERMINATOR ? 0 : ZAB_EMARSHALLING;
        if (!sub_op_allowed(multi, type)) return ZAB_EMARSHALLING;
        zab_op op;
        get_op(r, type, &op, sink);
        if (r->err) return ZAB_EMARSHALLING;
        sink_op(sink, &op);
    }
}

static int decode_pass(int32_t opcode, const void *body, size_t len, jute_sink *sink)
{
    zab_reader r = zab_reader_init(body, len);
    if (is_multi(opcode)) {
        if (get_multi(&r, opcode, sink)) return ZAB_EMARSHALLING;
        return zab_reader_left(&r) ? ZAB_EMARSHALLING : 0;
    }
    zab_op op;
    get_op(&r, opcode, &op, sink);
    if (r.err) return ZAB_EMARSHALLING;
    sink_op(sink, &op);
    return 0;
}

/* Carve exactly-sized arrays out of scratch: ops first, ACLs after them
 * (their alignment divides zab_op's, so the ACLs start aligned too). */
static int sink_reserve(jute_sink *sink, size_t nops, size_t nacls, zab_buf *scratch)
{
    _Static_assert(_Alignof(zab_op) % _Alignof(zab_acl) == 0, "ACLs follow ops");
    scratch->len = 0;
    if (nops > SIZE_MAX / 2 / sizeof(zab_op) || nacls > SIZE_MAX / 2 / sizeof(zab_acl))
        return ZAB_ENOMEM;
    size_t ops_bytes = nops * sizeof(zab_op);
    size_t need = ops_bytes + nacls * sizeof(zab_acl);
    if (need && zab_buf_reserve(scratch, need)) return ZAB_ENOMEM;
    assert(!need || (uintptr_t)scratch->data % _Alignof(zab_op) == 0);
    memset(sink, 0, sizeof *sink);
    sink->ops = nops ? (zab_op *)(void *)scratch->data : NULL;
    sink->acls = nacls ? (zab_acl *)(void *)(scratch->data + ops_bytes) : NULL;
    sink->ops_cap = nops;
    sink->acls_cap = nacls;
    scratch->len = need;
    return 0;
}

int zab_zk_decode_request(int32_t opcode, const void *body, size_t len,
                          zab_request *req, zab_buf *scratch)
{
    memset(req, 0, sizeof *req);
    if (!is_single(opcode) && !is_multi(opcode)) return ZAB_EUNIMPLEMENTED;
    /* A frame's length is a jute int, so no genuine body is longer. */
    if (len > INT32_MAX || (!body && len)) return ZAB_EMARSHALLING;
    if (!body) body = ""; /* an empty body may come as NULL; never offset NULL */

    jute_sink count = { 0 };
    int rc = decode_pass(opcode, body, len, &count);
    if (rc) return rc;

    jute_sink fill;
    rc = sink_reserve(&fill, count.nops, count.nacls, scratch);
    if (rc) return rc;
    rc = decode_pass(opcode, body, len, &fill);
    assert(rc == 0 && fill.nops == count.nops && fill.nacls == count.nacls);
    (void)rc;

    /* Each op costs at least a header and a few bytes, so this fits. */
    assert(fill.nops <= UINT32_MAX);
    req->type = opcode;
    req->ops = fill.ops;
    req->nops = (uint32_t)fill.nops;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                  */
/* ------------------------------------------------------------------------ */

/* What a jute length field can say; anything longer cannot be encoded. */
static int str_fits(zab_str s)
{
    return s.len <= INT32_MAX && (s.ptr || s.len == 0);
}

static int op_fits(const zab_op *op)
{
    if (!str_fits(op->path)) return 0;
    if (op->data_len > 0 && !op->data) return 0;
    if (op->nacl > INT32_MAX || (op->nacl && !op->acl)) return 0;
    for (uint32_t i = 0; i < op->nacl; i++)
        if (!str_fits(op->acl[i].id.scheme) || !str_fits(op->acl[i].id.id)) return 0;
    return 1;
}

/* An empty or absent list is written as an empty vector, as clients do. */
static int put_acl_vector(zab_buf *out, const zab_acl *acl, uint32_t n)
{
    if (zab_put_i32(out, (int32_t)n)) return ZAB_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        if (zab_put_i32(out, acl[i].perms) || zab_put_str(out, acl[i].id.scheme) ||
            zab_put_str(out, acl[i].id.id))
            return ZAB_ENOMEM;
    return 0;
}

/* The inverse of get_op; op has passed op_fits. Negative data_len is null. */
static int put_op(zab_buf *out, const zab_op *op)
{
    int32_t type = op->type;
    if (type == ZAB_OP_PING || type == ZAB_OP_CLOSE_SESSION || type == ZAB_OP_WHO_AM_I)
        return 0;
    if (zab_put_str(out, op->path)) return ZAB_ENOMEM;
    switch (type) {
    case ZAB_OP_CREATE: case ZAB_OP_CREATE2: case ZAB_OP_CREATE_CONTAINER:
    case ZAB_OP_CREATE_TTL:
        if (zab_put_blob(out, op->data, op->data_len) ||
            put_acl_vector(out, op->acl, op->nacl) || zab_put_i32(out, op->flags))
            return ZAB_ENOMEM;
        return type == ZAB_OP_CREATE_TTL ? zab_put_i64(out, op->ttl) : 0;
    case ZAB_OP_DELETE: case ZAB_OP_CHECK:
        return zab_put_i32(out, op->version);
    case ZAB_OP_EXISTS: case ZAB_OP_GET_DATA: case ZAB_OP_GET_CHILDREN:
    case ZAB_OP_GET_CHILDREN2:
        return zab_put_u8(out, op->watch != 0);
    case ZAB_OP_SET_DATA:
        if (zab_put_blob(out, op->data, op->data_len)) return ZAB_ENOMEM;
        return zab_put_i32(out, op->version);
    case ZAB_OP_SET_ACL:
        if (put_acl_vector(out, op->acl, op->nacl)) return ZAB_ENOMEM;
        return zab_put_i32(out, op->version);
    case ZAB_OP_CHECK_WATCHES: case ZAB_OP_REMOVE_WATCHES: case ZAB_OP_ADD_WATCH:
        return zab_put_i32(out, op->flags);
    default:
        return 0;
    }
}

static int put_multi_header(zab_buf *out, int32_t type, int done)
{
    /* err is -1 in every header a client sends. */
    if (zab_put_i32(out, type) || zab_put_u8(out, (uint8_t)done) || zab_put_i32(out, -1))
        return ZAB_ENOMEM;
    return 0;
}

/* ZAB_EINVAL when the request cannot be expressed in jute: a single op whose
 * type differs from the request's, a multi sub-op of the wrong kind, a
 * length or count beyond a jute int. */
static int check_request(const zab_request *req)
{
    if (!is_single(req->type) && !is_multi(req->type)) return ZAB_EUNIMPLEMENTED;
    if (req->nops && !req->ops) return ZAB_EINVAL;
    if (!is_multi(req->type) && (req->nops != 1 || req->ops[0].type != req->type))
        return ZAB_EINVAL;
    for (uint32_t i = 0; i < req->nops; i++) {
        const zab_op *op = &req->ops[i];
        if (is_multi(req->type) && !sub_op_allowed(req->type, op->type)) return ZAB_EINVAL;
        if (!op_fits(op)) return ZAB_EINVAL;
    }
    return 0;
}

static int put_request(const zab_request *req, zab_buf *out)
{
    if (!is_multi(req->type)) return put_op(out, &req->ops[0]);
    for (uint32_t i = 0; i < req->nops; i++)
        if (put_multi_header(out, req->ops[i].type, 0) || put_op(out, &req->ops[i]))
            return ZAB_ENOMEM;
    return put_multi_header(out, MULTI_TERMINATOR, 1);
}

int zab_zk_encode_request(const zab_request *req, zab_buf *out)
{
    int rc = check_request(req);
    if (rc) return rc;
    size_t mark = out->len;
    rc = put_request(req, out);
    if (rc) out->len = mark;
    return rc;
}
