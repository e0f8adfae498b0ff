/*
 * msg.c - peer messages to and from bytes (the layout is in msg.h), and the
 * client request a REQUEST message carries.
 *
 * Each type's body is a fixed list of fields, so one table drives both
 * directions: the encoder and the decoder walk the same list, which keeps
 * them from drifting apart and makes the encoding canonical (a decoded
 * message encodes to exactly the bytes it came from).
 */
#include "core/msg.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

#include "util/codec.h"
#include "util/prim.h"

/* Body fields, in the order a type's list names them. */
enum {
    F_END, F_STATE, F_FLAGS, F_ERR, F_LEADER, F_ZXID, F_ROUND, F_EPOCH,
    F_ORIGIN, F_COOKIE, F_OFFSET, F_DATA, F_SESSION, F_APPLIED
};
enum { MSG_MAX_FIELDS = 5 };

typedef struct msg_kind {
    const char *name;
    uint8_t fields[MSG_MAX_FIELDS + 1]; /* ends at F_END */
} msg_kind;

static const msg_kind msg_kinds[ZAB_MSG_MAX_TYPE + 1] = {
    [ZAB_MSG_NOTIFY] = { "NOTIFY", { F_STATE, F_LEADER, F_ZXID, F_ROUND, F_EPOCH } },
    [ZAB_MSG_LEARNERINFO] = { "LEARNERINFO", { F_EPOCH, F_FLAGS } },
    [ZAB_MSG_LEADERINFO] = { "LEADERINFO", { F_EPOCH } },
    [ZAB_MSG_ACKEPOCH] = { "ACKEPOCH", { F_EPOCH, F_ZXID, F_APPLIED } },
    [ZAB_MSG_DIFF] = { "DIFF", { F_ZXID } },
    [ZAB_MSG_TRUNC] = { "TRUNC", { F_ZXID } },
    [ZAB_MSG_SNAP] = { "SNAP", { F_ZXID, F_OFFSET } },
    [ZAB_MSG_SNAP_DATA] = { "SNAP_DATA", { F_OFFSET, F_DATA } },
    [ZAB_MSG_SNAP_ACK] = { "SNAP_ACK", { F_OFFSET } },
    [ZAB_MSG_PROPOSAL] = { "PROPOSAL", { F_ZXID, F_ORIGIN, F_COOKIE, F_DATA } },
    [ZAB_MSG_INFORM] = { "INFORM", { F_ZXID, F_ORIGIN, F_COOKIE, F_DATA } },
    [ZAB_MSG_COMMIT] = { "COMMIT", { F_ZXID } },
    [ZAB_MSG_ACK] = { "ACK", { F_ZXID } },
    [ZAB_MSG_NEWLEADER] = { "NEWLEADER", { F_ZXID } },
    [ZAB_MSG_UPTODATE] = { "UPTODATE", { F_END } },
    [ZAB_MSG_PING] = { "PING", { F_ROUND, F_DATA } },
    [ZAB_MSG_REQUEST] = { "REQUEST", { F_COOKIE, F_DATA } },
    [ZAB_MSG_ANSWER] = { "ANSWER", { F_COOKIE, F_ERR, F_ZXID } },
    [ZAB_MSG_SYNC] = { "SYNC", { F_COOKIE, F_SESSION } },
    [ZAB_MSG_REVALIDATE] = { "REVALIDATE", { F_COOKIE, F_SESSION } },
};

static int msg_type_known(int type)
{
    return type >= 1 && type <= ZAB_MSG_MAX_TYPE;
}

const char *zab_msg_name(int type)
{
    return msg_type_known(type) ? msg_kinds[type].name : "?";
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

static uint64_t field_size(const zab_msg *m, int field)
{
    switch (field) {
    case F_STATE: case F_FLAGS: case F_ERR:
        return 4;
    case F_DATA:
        return 4 + (uint64_t)m->len;
    default:
        return 8;
    }
}

/* Room has been reserved, so the writes cannot fail. */
static void put_field(zab_buf *out, const zab_msg *m, int field)
{
    switch (field) {
    case F_STATE: (void)zab_put_i32(out, m->state); break;
    case F_FLAGS: (void)zab_put_i32(out, m->flags); break;
    case F_ERR: (void)zab_put_i32(out, m->err); break;
    case F_LEADER: (void)zab_put_i64(out, m->leader); break;
    case F_ZXID: (void)zab_put_i64(out, m->zxid); break;
    case F_ROUND: (void)zab_put_i64(out, m->round); break;
    case F_EPOCH: (void)zab_put_i64(out, m->epoch); break;
    case F_ORIGIN: (void)zab_put_i64(out, m->origin); break;
    case F_SESSION: (void)zab_put_i64(out, m->session); break;
    case F_APPLIED: (void)zab_put_i64(out, m->applied); break;
    case F_COOKIE: (void)zab_put_u64(out, m->cookie); break;
    case F_OFFSET: (void)zab_put_u64(out, m->offset); break;
    case F_DATA:
        (void)zab_put_u32(out, m->len);
        (void)zab_put_bytes(out, m->data, m->len);
        break;
    default:
        assert(!"unknown message field");
    }
}

int zab_msg_encode(const zab_msg *m, zab_buf *out)
{
    assert(msg_type_known(m->type));
    assert(m->data || m->len == 0);
    const uint8_t *fields = msg_kinds[m->type].fields;
    uint64_t body = 0;
    for (const uint8_t *f = fields; *f != F_END; f++) body += field_size(m, *f);
    /* The whole message must be describable by its u32 body length (and fit
     * a size_t anywhere); no buffer could take a bigger one. */
    if (body > UINT32_MAX - ZAB_MSG_HEADER - ZAB_MSG_TRAILER) return ZAB_ENOMEM;
    size_t total = ZAB_MSG_HEADER + (size_t)body + ZAB_MSG_TRAILER;
    if (zab_buf_reserve(out, total)) return ZAB_ENOMEM;

    size_t start = out->len;
    (void)zab_put_u8(out, ZAB_MSG_VERSION);
    (void)zab_put_u8(out, m->type);
    (void)zab_put_u32(out, m->seq);
    (void)zab_put_u32(out, (uint32_t)body);
    for (const uint8_t *f = fields; *f != F_END; f++) put_field(out, m, *f);
    (void)zab_put_u32(out, zab_crc32c(0, out->data + start, out->len - start));
    assert(out->len - start == total);
    return 0;
}

/* A bytes field: its length is checked against max before anything else. */
static void get_data(zab_reader *r, uint32_t max, zab_msg *m)
{
    uint32_t n = zab_get_u32(r);
    if (n > max) r->err = 1;
    const uint8_t *at = zab_get_bytes(r, n);
    if (r->err) return;
    m->data = at;
    m->len = n;
}

static void get_field(zab_reader *r, uint32_t max, zab_msg *m, int field)
{
    switch (field) {
    case F_STATE: m->state = zab_get_i32(r); break;
    case F_FLAGS: m->flags = zab_get_i32(r); break;
    case F_ERR: m->err = zab_get_i32(r); break;
    case F_LEADER: m->leader = zab_get_i64(r); break;
    case F_ZXID: m->zxid = zab_get_i64(r); break;
    case F_ROUND: m->round = zab_get_i64(r); break;
    case F_EPOCH: m->epoch = zab_get_i64(r); break;
    case F_ORIGIN: m->origin = zab_get_i64(r); break;
    case F_SESSION: m->session = zab_get_i64(r); break;
    case F_APPLIED: m->applied = zab_get_i64(r); break;
    case F_COOKIE: m->cookie = zab_get_u64(r); break;
    case F_OFFSET: m->offset = zab_get_u64(r); break;
    case F_DATA: get_data(r, max, m); break;
    default: assert(!"unknown message field");
    }
}

/* The body of a message whose header has been checked. */
static int get_body(zab_reader *r, uint32_t max, zab_msg *m)
{
    for (const uint8_t *f = msg_kinds[m->type].fields; *f != F_END; f++)
        get_field(r, max, m, *f);
    if (r->err || zab_reader_left(r)) return ZAB_ECORRUPT;
    if (m->type == ZAB_MSG_NOTIFY && (m->state < ZAB_LOOKING || m->state > ZAB_OBSERVING))
        return ZAB_ECORRUPT;
    return 0;
}

int zab_msg_decode(const void *bytes, size_t len, uint32_t max, zab_msg *m)
{
    memset(m, 0, sizeof *m);
    if (!bytes || len < ZAB_MSG_HEADER + ZAB_MSG_TRAILER) return ZAB_ECORRUPT;

    /* The CRC comes first: nothing below looks at bytes that may be damaged. */
    size_t covered = len - ZAB_MSG_TRAILER;
    zab_reader trailer = zab_reader_init((const uint8_t *)bytes + covered, ZAB_MSG_TRAILER);
    if (zab_get_u32(&trailer) != zab_crc32c(0, bytes, covered)) return ZAB_ECORRUPT;

    zab_reader r = zab_reader_init(bytes, covered);
    uint8_t version = zab_get_u8(&r);
    uint8_t type = zab_get_u8(&r);
    uint32_t seq = zab_get_u32(&r);
    uint32_t body_len = zab_get_u32(&r);
    assert(!r.err);
    if (version != ZAB_MSG_VERSION || !msg_type_known(type)) return ZAB_ECORRUPT;
    if (body_len != zab_reader_left(&r)) return ZAB_ECORRUPT;

    m->type = type;
    m->seq = seq;
    if (get_body(&r, max, m)) {
        memset(m, 0, sizeof *m);
        return ZAB_ECORRUPT;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The request a REQUEST message carries                                     */
/* ------------------------------------------------------------------------ */

/* A session password's length, and the least an identity takes (two string
 * lengths), which bounds how many a count may announce. */
enum { PASSWORD_LEN = 16, ID_MIN_BYTES = 8 };

static int is_session_type(int32_t type)
{
    return type == ZAB_OP_CREATE_SESSION || type == ZAB_OP_CLOSE_SESSION;
}

static int str_fits(zab_str s)
{
    return s.len <= INT32_MAX && (s.ptr || s.len == 0);
}

/* ZAB_EINVAL for what the payload cannot carry. The jute part is checked by
 * its own encoder. */
static int check_request(const zab_request *req)
{
    if (req->nauth && !req->auth) return ZAB_EINVAL;
    for (uint32_t i = 0; i < req->nauth; i++)
        if (!str_fits(req->auth[i].scheme) || !str_fits(req->auth[i].id)) return ZAB_EINVAL;
    if (!is_session_type(req->type)) return 0;
    if (req->nops != 1 || !req->ops || req->ops[0].type != req->type) return ZAB_EINVAL;
    const zab_op *op = &req->ops[0];
    if (req->type == ZAB_OP_CREATE_SESSION && (op->data_len != PASSWORD_LEN || !op->data))
        return ZAB_EINVAL;
    return 0;
}

static int put_request_head(const zab_request *req, zab_buf *out)
{
    if (zab_put_i64(out, req->session) || zab_put_u32(out, req->nauth)) return ZAB_ENOMEM;
    for (uint32_t i = 0; i < req->nauth; i++)
        if (zab_put_str(out, req->auth[i].scheme) || zab_put_str(out, req->auth[i].id))
            return ZAB_ENOMEM;
    return zab_put_i32(out, req->type);
}

static int put_request_body(const zab_request *req, zab_buf *out)
{
    if (req->type == ZAB_OP_CLOSE_SESSION) return 0;
    if (req->type == ZAB_OP_CREATE_SESSION) {
        if (zab_put_i32(out, req->ops[0].timeout)) return ZAB_ENOMEM;
        return zab_put_bytes(out, req->ops[0].data, PASSWORD_LEN);
    }
    int rc = zab_zk_encode_request(req, out);
    return rc == ZAB_EUNIMPLEMENTED ? ZAB_EINVAL : rc;
}

int zab_msg_request_encode(const zab_request *req, zab_buf *out)
{
    int rc = check_request(req);
    if (rc) return rc;
    size_t mark = out->len;
    rc = put_request_head(req, out);
    if (!rc) rc = put_request_body(req, out);
    if (rc) out->len = mark;
    return rc;
}

/* createSession or closeSession: one op, built in scratch (reset). */
static int get_session_body(zab_reader body, int32_t type, zab_request *req, zab_buf *scratch)
{
    zab_op op;
    memset(&op, 0, sizeof op);
    op.type = type;
    op.ttl = -1; /* as every op but createTTL decodes */
    if (type == ZAB_OP_CREATE_SESSION) {
        op.timeout = zab_get_i32(&body);
        op.data = zab_get_bytes(&body, PASSWORD_LEN);
        op.data_len = PASSWORD_LEN;
    }
    if (body.err || zab_reader_left(&body)) return ZAB_ECORRUPT;
    scratch->len = 0;
    if (zab_buf_reserve(scratch, sizeof op)) return ZAB_ENOMEM;
    memcpy(scratch->data, &op, sizeof op);
    scratch->len = sizeof op;
    memset(req, 0, sizeof *req);
    req->type = type;
    req->ops = (const zab_op *)(const void *)scratch->data;
    req->nops = 1;
    return 0;
}

/* The body after the type; its arrays go to the start of scratch. */
static int get_request_body(zab_reader body, int32_t type, zab_request *req, zab_buf *scratch)
{
    if (is_session_type(type)) return get_session_body(body, type, req, scratch);
    int rc = zab_zk_decode_request(type, body.p, zab_reader_left(&body), req, scratch);
    if (rc == ZAB_ENOMEM) return rc;
    return rc ? ZAB_ECORRUPT : 0;
}

/* nauth identities, validated already, into the array at ids. */
static void get_ids(zab_reader r, uint32_t nauth, zab_id *ids)
{
    for (uint32_t i = 0; i < nauth; i++) {
        ids[i].scheme = zab_get_str(&r);
        ids[i].id = zab_get_str(&r);
    }
    assert(!r.err);
}

int zab_msg_request_decode(const void *bytes, size_t len, zab_request *req, zab_buf *scratch)
{
    memset(req, 0, sizeof *req);
    scratch->len = 0;
    zab_reader r = zab_reader_init(bytes, len);
    int64_t session = zab_get_i64(&r);
    uint32_t nauth = zab_get_u32(&r);
    if (!r.err && nauth > zab_reader_left(&r) / ID_MIN_BYTES) return ZAB_ECORRUPT;
    zab_reader ids_at = r;
    for (uint32_t i = 0; i < nauth && !r.err; i++) {
        (void)zab_get_str(&r);
        (void)zab_get_str(&r);
    }
    int32_t type = zab_get_i32(&r);
    if (r.err) return ZAB_ECORRUPT;

    /* The body's arrays fill the start of scratch; the identities follow
     * them. Growing scratch would move arrays already handed out, so when the
     * identities do not fit, scratch grows first and the body is decoded
     * again into the same, now roomy, memory (the jute decoder resets
     * scratch and reserves exactly its need, so nothing moves the second
     * time). */
    int rc = get_request_body(r, type, req, scratch);
    if (rc) return rc;
    size_t align = _Alignof(zab_id);
    size_t pad = (align - scratch->len % align) % align;
    uint64_t ids_wide = (uint64_t)nauth * sizeof(zab_id); /* only a 32-bit size_t */
    if (ids_wide > SIZE_MAX / 2) return ZAB_ENOMEM;     /* could be too small */
    size_t ids_bytes = (size_t)ids_wide;
    if (ids_bytes && scratch->cap - scratch->len < pad + ids_bytes) {
        if (zab_buf_reserve(scratch, pad + ids_bytes)) {
            memset(req, 0, sizeof *req);
            return ZAB_ENOMEM;
        }
        rc = get_request_body(r, type, req, scratch);
        assert(rc == 0 && scratch->cap - scratch->len >= pad + ids_bytes);
        if (rc) return rc;
    }
    if (ids_bytes) {
        zab_id *ids = (zab_id *)(void *)(scratch->data + scratch->len + pad);
        get_ids(ids_at, nauth, ids);
        scratch->len += pad + ids_bytes;
        req->auth = ids;
    }
    req->nauth = nauth;
    req->session = session;
    return 0;
}
