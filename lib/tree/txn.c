#include "tree/txn.h"

#include <string.h>

#include "util/codec.h"

enum { PASSWD_LEN = 16 };

static int is_create(int32_t type)
{
    return type == ZAB_OP_CREATE || type == ZAB_OP_CREATE2 ||
           type == ZAB_OP_CREATE_CONTAINER || type == ZAB_OP_CREATE_TTL;
}

int zab_txn_op_type_valid(int32_t type)
{
    switch (type) {
    case ZAB_OP_CREATE: case ZAB_OP_CREATE2: case ZAB_OP_CREATE_CONTAINER:
    case ZAB_OP_CREATE_TTL: case ZAB_OP_DELETE: case ZAB_OP_DELETE_CONTAINER:
    case ZAB_OP_SET_DATA: case ZAB_OP_SET_ACL: case ZAB_OP_CHECK:
    case ZAB_OP_CREATE_SESSION: case ZAB_OP_CLOSE_SESSION:
        return 1;
    default:
        return 0;
    }
}

static int put_acl(zab_buf *b, const zab_acl *acl, uint32_t n)
{
    int rc = zab_put_u32(b, n);
    for (uint32_t i = 0; i < n && !rc; i++) {
        rc = zab_put_i32(b, acl[i].perms);
        if (!rc) rc = zab_put_str(b, acl[i].id.scheme);
        if (!rc) rc = zab_put_str(b, acl[i].id.id);
    }
    return rc;
}

static int put_op(zab_buf *b, const zab_txn_op *op)
{
    int rc = zab_put_i32(b, op->type);
    if (rc) return rc;
    if (is_create(op->type)) {
        rc = zab_put_str(b, op->path);
        if (!rc) rc = zab_put_blob(b, op->data, op->data_len);
        if (!rc) rc = put_acl(b, op->acl, op->nacl);
        if (!rc) rc = zab_put_i64(b, op->owner);
        return rc;
    }
    switch (op->type) {
    case ZAB_OP_DELETE:
    case ZAB_OP_DELETE_CONTAINER:
        return zab_put_str(b, op->path);
    case ZAB_OP_SET_DATA:
        rc = zab_put_str(b, op->path);
        if (!rc) rc = zab_put_blob(b, op->data, op->data_len);
        if (!rc) rc = zab_put_i32(b, op->version);
        return rc;
    case ZAB_OP_SET_ACL:
        rc = zab_put_str(b, op->path);
        if (!rc) rc = put_acl(b, op->acl, op->nacl);
        if (!rc) rc = zab_put_i32(b, op->version);
        return rc;
    case ZAB_OP_CREATE_SESSION:
        rc = zab_put_i32(b, op->timeout);
        if (!rc) rc = zab_put_bytes(b, op->passwd, PASSWD_LEN);
        return rc;
    default: /* check, closeSession: the type says it all */
        return 0;
    }
}

int zab_txn_encode(const zab_txn *txn, zab_buf *b)
{
    size_t start = b->len;
    int rc = zab_put_u8(b, ZAB_TXN_FORMAT);
    if (!rc) rc = zab_put_i64(b, txn->time);
    if (!rc) rc = zab_put_i64(b, txn->session);
    if (!rc) rc = zab_put_u8(b, txn->kind);
    switch (txn->kind) {
    case ZAB_TXN_SINGLE:
        if (!rc) rc = put_op(b, &txn->ops[0]);
        break;
    case ZAB_TXN_MULTI:
        if (!rc) rc = zab_put_u32(b, txn->nops);
        for (uint32_t i = 0; i < txn->nops && !rc; i++) rc = put_op(b, &txn->ops[i]);
        break;
    case ZAB_TXN_FAILED:
        if (!rc) rc = zab_put_i32(b, txn->err_type);
        if (!rc) rc = zab_put_i32(b, txn->err);
        break;
    default:
        if (!rc) rc = zab_put_u32(b, txn->nops);
        if (!rc) rc = zab_put_u32(b, txn->fail_index);
        if (!rc) rc = zab_put_i32(b, txn->err);
        break;
    }
    if (rc) b->len = start;
    return rc;
}

/* Smallest encodings, to bound counts by the bytes that remain. */
enum { MIN_ACL_BYTES = 12, MIN_OP_BYTES = 4 };

static const zab_acl *get_acl(zab_reader *r, uint32_t *n, zab_arena *a, int *oom)
{
    uint32_t count = zab_get_u32(r);
    if (r->err || count > zab_reader_left(r) / MIN_ACL_BYTES) {
        r->err = 1;
        return NULL;
    }
    *n = count;
    if (count == 0) return NULL;
    zab_acl *acl = zab_arena_alloc(a, count * sizeof(*acl));
    if (!acl) {
        *oom = 1;
        r->err = 1;
        return NULL;
    }
    for (uint32_t i = 0; i < count; i++) {
        acl[i].perms = zab_get_i32(r);
        acl[i].id.scheme = zab_get_str(r);
        acl[i].id.id = zab_get_str(r);
    }
    return acl;
}

static void get_op(zab_reader *r, zab_txn_op *op, zab_arena *a, int *oom)
{
    memset(op, 0, sizeof(*op));
    op->type = zab_get_i32(r);
    if (r->err) return;
    if (!zab_txn_op_type_valid(op->type)) {
        r->err = 1;
        return;
    }
    if (op->type == ZAB_OP_CREATE_SESSION) {
        op->timeout = zab_get_i32(r);
        op->passwd = zab_get_bytes(r, PASSWD_LEN);
        return;
    }
    if (op->type == ZAB_OP_CHECK || op->type == ZAB_OP_CLOSE_SESSION) return;
    op->path = zab_get_str(r);
    if (!r->err && !op->path.ptr) r->err = 1; /* every op names a real path */
    if (is_create(op->type) || op->type == ZAB_OP_SET_DATA) {
        zab_str d = zab_get_str(r);
        op->data = d.ptr;
        op->data_len = d.ptr ? (int32_t)d.len : -1;
    }
    if (is_create(op->type) || op->type == ZAB_OP_SET_ACL) op->acl = get_acl(r, &op->nacl, a, oom);
    if (is_create(op->type)) op->owner = zab_get_i64(r);
    if (op->type == ZAB_OP_SET_DATA || op->type == ZAB_OP_SET_ACL) op->version = zab_get_i32(r);
}

int zab_txn_decode(const void *bytes, size_t len, zab_txn *txn, zab_arena *a)
{
    zab_reader r = zab_reader_init(bytes, len);
    int oom = 0;
    memset(txn, 0, sizeof(*txn));
    if (zab_get_u8(&r) != ZAB_TXN_FORMAT) return ZAB_ECORRUPT;
    txn->time = zab_get_i64(&r);
    txn->session = zab_get_i64(&r);
    txn->kind = zab_get_u8(&r);
    switch (txn->kind) {
    case ZAB_TXN_SINGLE:
    case ZAB_TXN_MULTI: {
        uint32_t n = 1;
        if (txn->kind == ZAB_TXN_MULTI) {
            n = zab_get_u32(&r);
            if (n > zab_reader_left(&r) / MIN_OP_BYTES || n > ZAB_TXN_MAX_OPS) r.err = 1;
        }
        if (r.err) break;
        txn->nops = n;
        txn->ops = n ? zab_arena_alloc(a, n * sizeof(*txn->ops)) : NULL;
        if (n && !txn->ops) return ZAB_ENOMEM;
        for (uint32_t i = 0; i < n && !r.err; i++) {
            get_op(&r, &txn->ops[i], a, &oom);
            /* Sessions come and go alone, never inside a multi. */
            int32_t t = txn->ops[i].type;
            if (txn->kind == ZAB_TXN_MULTI && (t == ZAB_OP_CREATE_SESSION || t == ZAB_OP_CLOSE_SESSION))
                r.err = 1;
        }
        break;
    }
    case ZAB_TXN_FAILED:
        txn->err_type = zab_get_i32(&r);
        txn->err = zab_get_i32(&r);
        if (!r.err && txn->err >= 0) r.err = 1;
        break;
    case ZAB_TXN_FAILED_MULTI:
        txn->nops = zab_get_u32(&r);
        txn->fail_index = zab_get_u32(&r);
        txn->err = zab_get_i32(&r);
        if (!r.err && (txn->fail_index >= txn->nops || txn->nops > ZAB_TXN_MAX_OPS || txn->err >= 0))
            r.err = 1;
        break;
    default:
        r.err = 1;
    }
    if (oom) return ZAB_ENOMEM;
    if (r.err || zab_reader_left(&r) != 0) return ZAB_ECORRUPT;
    return 0;
}

int zab_txn_peek(const void *bytes, size_t len, int64_t *session, int32_t *type)
{
    zab_reader r = zab_reader_init(bytes, len);
    if (zab_get_u8(&r) != ZAB_TXN_FORMAT) return ZAB_ECORRUPT;
    (void)zab_get_i64(&r); /* time */
    *session = zab_get_i64(&r);
    if (zab_get_u8(&r) != ZAB_TXN_SINGLE) return ZAB_ECORRUPT;
    *type = zab_get_i32(&r);
    return r.err ? ZAB_ECORRUPT : 0;
}
