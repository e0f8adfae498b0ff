/*
 * session.c - the jute records around request and reply bodies: the
 * connection handshake, the request and reply headers, watch notifications,
 * SetWatches, auth packets and whoAmI's response.
 *
 * Leftover bytes: ZooKeeper reads each of these records from the front of
 * its frame and never checks that the frame ends there, so bytes after a
 * complete record are ignored here too. The handshake is the one place
 * where they mean something: the byte after the password is the optional
 * readOnly flag, which clients before 3.4 leave out.
 */
#include <assert.h>
#include <limits.h>
#include <string.h>

#include "util/codec.h"

enum {
    REQUEST_HEADER_BYTES = 8,
    REPLY_HEADER_BYTES = 16,
    PASSWD_BYTES = 16,
    STR_MIN_BYTES = 4 /* a string is at least its length */
};

/* A frame's length is a jute int, so no genuine record is longer; and a
 * NULL pointer may only come with nothing to read. */
static int input_ok(const void *bytes, size_t len)
{
    return len <= INT32_MAX && (bytes || len == 0);
}

/* What a jute length field can say about a view. */
static int str_fits(zab_str s)
{
    return s.len <= INT32_MAX && (s.ptr || s.len == 0);
}

/* The writers fail only with ZAB_ENOMEM, so chains of them are joined with
 * || and this turns the chain's truth into the code, rolling out back. */
static int appended(zab_buf *out, size_t mark, int failed)
{
    if (!failed) return 0;
    out->len = mark;
    return ZAB_ENOMEM;
}

/* ------------------------------------------------------------------------ */
/* The handshake                                                             */
/* ------------------------------------------------------------------------ */

int zab_zk_decode_connect(const void *body, size_t len, zab_zk_connect *req)
{
    memset(req, 0, sizeof *req);
    if (!input_ok(body, len)) return ZAB_EMARSHALLING;
    zab_reader r = zab_reader_init(body, len);
    req->protocol_version = zab_get_i32(&r);
    req->last_zxid_seen = zab_get_i64(&r);
    req->timeout = zab_get_i32(&r);
    req->session = zab_get_i64(&r);
    zab_str passwd = zab_get_str(&r);
    if (r.err) {
        memset(req, 0, sizeof *req);
        return ZAB_EMARSHALLING;
    }
    req->passwd = (const uint8_t *)passwd.ptr;
    req->passwd_len = passwd.ptr ? (int32_t)passwd.len : -1;
    /* ZooKeeper tries one more boolean and takes its absence for an old
     * client, whose reply then goes without the byte too. */
    if (zab_reader_left(&r)) {
        req->has_read_only = 1;
        req->read_only = zab_get_u8(&r) != 0; /* Java's readBoolean */
    }
    return 0;
}

int zab_zk_encode_connect(const zab_zk_connect *req, zab_buf *out)
{
    if (req->passwd_len > 0 && !req->passwd) return ZAB_EINVAL;
    size_t mark = out->len;
    int failed = zab_put_i32(out, req->protocol_version) ||
                 zab_put_i64(out, req->last_zxid_seen) || zab_put_i32(out, req->timeout) ||
                 zab_put_i64(out, req->session) ||
                 zab_put_blob(out, req->passwd, req->passwd ? req->passwd_len : -1) ||
                 (req->has_read_only && zab_put_u8(out, req->read_only != 0));
    return appended(out, mark, failed);
}

int zab_zk_encode_connect_reply(const zab_zk_connect_reply *rsp, zab_buf *out)
{
    size_t mark = out->len;
    int failed = zab_put_i32(out, rsp->protocol_version) || zab_put_i32(out, rsp->timeout) ||
                 zab_put_i64(out, rsp->session) ||
                 zab_put_blob(out, rsp->passwd, PASSWD_BYTES) ||
                 (rsp->has_read_only && zab_put_u8(out, rsp->read_only != 0));
    return appended(out, mark, failed);
}

int zab_zk_decode_connect_reply(const void *body, size_t len, zab_zk_connect_reply *rsp)
{
    memset(rsp, 0, sizeof *rsp);
    if (!input_ok(body, len)) return ZAB_EMARSHALLING;
    zab_reader r = zab_reader_init(body, len);
    rsp->protocol_version = zab_get_i32(&r);
    rsp->timeout = zab_get_i32(&r);
    rsp->session = zab_get_i64(&r);
    int32_t n = zab_get_i32(&r);
    const uint8_t *passwd = n == PASSWD_BYTES ? zab_get_bytes(&r, PASSWD_BYTES) : NULL;
    if (r.err || !passwd) {
        memset(rsp, 0, sizeof *rsp);
        return ZAB_EMARSHALLING;
    }
    memcpy(rsp->passwd, passwd, PASSWD_BYTES);
    if (zab_reader_left(&r)) {
        rsp->has_read_only = 1;
        rsp->read_only = zab_get_u8(&r) != 0;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Headers and notifications                                                 */
/* ------------------------------------------------------------------------ */

int zab_zk_decode_request_header(const void *payload, size_t len, int32_t *xid,
                                 int32_t *opcode, size_t *body_at)
{
    *xid = *opcode = 0;
    *body_at = 0;
    if (!input_ok(payload, len) || len < REQUEST_HEADER_BYTES) return ZAB_EMARSHALLING;
    zab_reader r = zab_reader_init(payload, len);
    *xid = zab_get_i32(&r);
    *opcode = zab_get_i32(&r);
    assert(!r.err);
    *body_at = REQUEST_HEADER_BYTES;
    return 0;
}

int zab_zk_encode_request_header(int32_t xid, int32_t opcode, zab_buf *out)
{
    size_t mark = out->len;
    return appended(out, mark, zab_put_i32(out, xid) || zab_put_i32(out, opcode));
}

int zab_zk_encode_reply_header(int32_t xid, int64_t zxid, int32_t err, zab_buf *out)
{
    size_t mark = out->len;
    return appended(out, mark,
                    zab_put_i32(out, xid) || zab_put_i64(out, zxid) || zab_put_i32(out, err));
}

int zab_zk_decode_reply_header(const void *payload, size_t len, int32_t *xid, int64_t *zxid,
                               int32_t *err, size_t *body_at)
{
    *xid = *err = 0;
    *zxid = 0;
    *body_at = 0;
    if (!input_ok(payload, len) || len < REPLY_HEADER_BYTES) return ZAB_EMARSHALLING;
    zab_reader r = zab_reader_init(payload, len);
    *xid = zab_get_i32(&r);
    *zxid = zab_get_i64(&r);
    *err = zab_get_i32(&r);
    assert(!r.err);
    *body_at = REPLY_HEADER_BYTES;
    return 0;
}

int zab_zk_encode_event(const zab_event *ev, zab_buf *out)
{
    if (!str_fits(ev->path)) return ZAB_EINVAL;
    size_t mark = out->len;
    int failed = zab_zk_encode_reply_header(ZAB_XID_NOTIFICATION, ev->zxid, ZAB_OK, out) ||
                 zab_put_i32(out, ev->type) || zab_put_i32(out, ev->state) ||
                 zab_put_str(out, ev->path);
    return appended(out, mark, failed);
}

/* Clients ignore a notification's err, and so does this. */
int zab_zk_decode_event(const void *payload, size_t len, zab_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (!input_ok(payload, len)) return ZAB_EMARSHALLING;
    zab_reader r = zab_reader_init(payload, len);
    int32_t xid = zab_get_i32(&r);
    ev->zxid = zab_get_i64(&r);
    (void)zab_get_i32(&r);
    ev->type = zab_get_i32(&r);
    ev->state = zab_get_i32(&r);
    ev->path = zab_get_str(&r);
    if (r.err || xid != ZAB_XID_NOTIFICATION) {
        memset(ev, 0, sizeof *ev);
        return ZAB_EMARSHALLING;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* SetWatches and SetWatches2                                                */
/* ------------------------------------------------------------------------ */

/* The lists come on the wire in the order of the ZAB_SETWATCH_* kinds. */
_Static_assert(ZAB_SETWATCH_DATA == 0 && ZAB_SETWATCH_EXIST == 1 && ZAB_SETWATCH_CHILD == 2 &&
                   ZAB_SETWATCH_PERSISTENT == 3 && ZAB_SETWATCH_PERSISTENT_RECURSIVE == 4 &&
                   ZAB_SETWATCH_KINDS == 5,
               "SetWatches2 field order");

static int set_watches_lists(int32_t opcode)
{
    if (opcode == ZAB_OP_SET_WATCHES) return 3;
    if (opcode == ZAB_OP_SET_WATCHES2) return ZAB_SETWATCH_KINDS;
    return 0;
}

/* One pass over the lists: with fill NULL it only validates and counts
 * (into *total); with fill it also stores the paths there, in order, and
 * points sw's lists at them. A null list or path is refused: ZooKeeper
 * would fail on it while replaying, after the lists before it took effect. */
static int get_watch_lists(zab_reader *r, int nlists, zab_zk_set_watches *sw, zab_str *fill,
                           size_t *total)
{
    size_t at = 0;
    sw->relative_zxid = zab_get_i64(r);
    for (int k = 0; k < nlists; k++) {
        uint32_t n = zab_get_count(r, STR_MIN_BYTES);
        if (r->err) return ZAB_EMARSHALLING;
        for (uint32_t i = 0; i < n; i++) {
            zab_str path = zab_get_str(r);
            if (r->err || !path.ptr) return ZAB_EMARSHALLING;
            if (fill) fill[at + i] = path;
        }
        sw->npaths[k] = n;
        sw->paths[k] = fill && n ? fill + at : NULL;
        at += n;
    }
    *total = at;
    return r->err ? ZAB_EMARSHALLING : 0;
}

int zab_zk_decode_set_watches(int32_t opcode, const void *body, size_t len,
                              zab_zk_set_watches *sw, zab_buf *scratch)
{
    memset(sw, 0, sizeof *sw);
    int nlists = set_watches_lists(opcode);
    if (!nlists) return ZAB_EINVAL;
    if (!input_ok(body, len)) return ZAB_EMARSHALLING;

    /* Count first, then carve one exactly-sized array out of scratch, so
     * no pointer handed out moves as scratch grows. Every path costs at
     * least its 4-byte length, which bounds the array by len / 4. */
    size_t total = 0;
    zab_reader r = zab_reader_init(body, len);
    int rc = get_watch_lists(&r, nlists, sw, NULL, &total);
    if (rc) {
        memset(sw, 0, sizeof *sw);
        return rc;
    }
    assert(total <= len / STR_MIN_BYTES);
    scratch->len = 0;
    size_t need = total * sizeof(zab_str);
    if (total > SIZE_MAX / sizeof(zab_str) || (need && zab_buf_reserve(scratch, need))) {
        memset(sw, 0, sizeof *sw);
        return ZAB_ENOMEM;
    }
    assert(!need || (uintptr_t)scratch->data % _Alignof(zab_str) == 0);
    zab_str *fill = need ? (zab_str *)(void *)scratch->data : NULL;
    scratch->len = need;

    size_t filled = 0;
    r = zab_reader_init(body, len);
    rc = get_watch_lists(&r, nlists, sw, fill, &filled);
    assert(rc == 0 && filled == total);
    (void)rc;
    return 0;
}

static int watch_list_fits(const zab_str *paths, uint32_t n)
{
    if (n > INT32_MAX || (n && !paths)) return 0;
    for (uint32_t i = 0; i < n; i++)
        if (!paths[i].ptr || paths[i].len > INT32_MAX) return 0;
    return 1;
}

int zab_zk_encode_set_watches(int32_t opcode, const zab_zk_set_watches *sw, zab_buf *out)
{
    int nlists = set_watches_lists(opcode);
    if (!nlists) return ZAB_EINVAL;
    for (int k = 0; k < ZAB_SETWATCH_KINDS; k++) {
        if (k >= nlists && sw->npaths[k]) return ZAB_EINVAL;
        if (!watch_list_fits(sw->paths[k], sw->npaths[k])) return ZAB_EINVAL;
    }
    size_t mark = out->len;
    int failed = zab_put_i64(out, sw->relative_zxid);
    for (int k = 0; k < nlists && !failed; k++) {
        failed = zab_put_i32(out, (int32_t)sw->npaths[k]);
        for (uint32_t i = 0; i < sw->npaths[k] && !failed; i++)
            failed = zab_put_str(out, sw->paths[k][i]);
    }
    return appended(out, mark, failed);
}

/* ------------------------------------------------------------------------ */
/* Auth and whoAmI                                                           */
/* ------------------------------------------------------------------------ */

int zab_zk_decode_auth(const void *body, size_t len, zab_zk_auth *auth)
{
    memset(auth, 0, sizeof *auth);
    if (!input_ok(body, len)) return ZAB_EMARSHALLING;
    zab_reader r = zab_reader_init(body, len);
    auth->type = zab_get_i32(&r);
    auth->scheme = zab_get_str(&r);
    auth->auth = zab_get_str(&r);
    if (r.err) {
        memset(auth, 0, sizeof *auth);
        return ZAB_EMARSHALLING;
    }
    return 0;
}

int zab_zk_encode_auth(const zab_zk_auth *auth, zab_buf *out)
{
    if (!str_fits(auth->scheme) || !str_fits(auth->auth)) return ZAB_EINVAL;
    size_t mark = out->len;
    int failed = zab_put_i32(out, auth->type) || zab_put_str(out, auth->scheme) ||
                 zab_put_str(out, auth->auth);
    return appended(out, mark, failed);
}

static int is_scheme(zab_str s, const char *name)
{
    size_t n = strlen(name);
    return s.len == n && s.ptr && memcmp(s.ptr, name, n) == 0;
}

/* The user name ZooKeeper's provider gives an identity: the digest
 * provider's is the id before its first ':', the others' the whole id. */
static zab_str user_of(const zab_id *id)
{
    zab_str user = id->id;
    if (is_scheme(id->scheme, "digest") && user.ptr) {
        const char *colon = memchr(user.ptr, ':', user.len);
        if (colon) user.len = (uint32_t)(colon - user.ptr);
    }
    return user;
}

/* ZooKeeper never sends a null here: a missing name is an empty one. */
static int put_nonnull_str(zab_buf *out, zab_str s)
{
    if (!s.ptr) s = (zab_str){ "", 0 };
    return zab_put_str(out, s);
}

int zab_zk_encode_who_am_i(const zab_id *ids, uint32_t nids, zab_buf *out)
{
    if (nids > INT32_MAX || (nids && !ids)) return ZAB_EINVAL;
    for (uint32_t i = 0; i < nids; i++)
        if (!str_fits(ids[i].scheme) || !str_fits(ids[i].id)) return ZAB_EINVAL;
    size_t mark = out->len;
    int failed = zab_put_i32(out, (int32_t)nids);
    for (uint32_t i = 0; i < nids && !failed; i++)
        failed = put_nonnull_str(out, ids[i].scheme) || put_nonnull_str(out, user_of(&ids[i]));
    return appended(out, mark, failed);
}
