/*
 * fuzz_session.c - fuzz target for the session layer decoders (handshake,
 * headers, notifications, SetWatches, auth packets).
 *
 * Input: 1 byte choosing a record (modulo FUZZ_NRECORDS), then the bytes.
 * Whatever they are, decoding must not crash, must fail only with
 * ZAB_EMARSHALLING and then leave its output zeroed, must point only into
 * the input (and scratch, which stays within 4 x the input), and a record
 * that decodes must encode back to exactly the bytes it was read from (a
 * non-zero boolean becomes 1, a notification's ignored err 0), then decode
 * again to the same record.
 *
 * zab_fuzz_session_check() reports a violation as a message; the target
 * zab_fuzz_session() aborts on one. Built with -DZAB_LIBFUZZER it is a
 * libFuzzer target (which also replays the files named on its command
 * line).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zab.h"

enum fuzz_record {
    FUZZ_CONNECT,
    FUZZ_CONNECT_REPLY,
    FUZZ_REQUEST_HEADER,
    FUZZ_REPLY_HEADER,
    FUZZ_EVENT,
    FUZZ_SET_WATCHES,
    FUZZ_SET_WATCHES2,
    FUZZ_AUTH,
    FUZZ_NRECORDS
};

int zab_fuzz_session(const uint8_t *data, size_t len);
const char *zab_fuzz_session_check(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

typedef struct fuzz_input {
    const uint8_t *b;
    size_t len;
} fuzz_input;

static int fuzz_inside(const fuzz_input *in, const void *p, size_t n)
{
    const uint8_t *q = p;
    return q >= in->b && n <= in->len && q - in->b <= (ptrdiff_t)(in->len - n);
}

static int fuzz_view_ok(const fuzz_input *in, zab_str s)
{
    return s.ptr ? fuzz_inside(in, s.ptr, s.len) : s.len == 0;
}

static int fuzz_zeroed(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

static int fuzz_str_eq(zab_str a, zab_str b)
{
    if ((a.ptr == NULL) != (b.ptr == NULL) || a.len != b.len) return 0;
    return a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0;
}

/* The encoding equals the input's first enc->len bytes, except bytes
 * [skip_at, skip_at + skip) and a trailing boolean the encoder writes as 1. */
static const char *fuzz_same_prefix(const fuzz_input *in, const zab_buf *enc, size_t skip_at,
                                    size_t skip, int last_is_bool)
{
    if (enc->len > in->len) return "the encoding is longer than the input it came from";
    for (size_t i = 0; i < enc->len; i++) {
        if (i >= skip_at && i < skip_at + skip) continue;
        uint8_t want = in->b[i];
        if (last_is_bool && i + 1 == enc->len) want = want != 0;
        if (enc->data[i] != want) return "the encoding differs from the bytes decoded";
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* One checker per record                                                    */
/* ------------------------------------------------------------------------ */

static int fuzz_connect_eq(const zab_zk_connect *a, const zab_zk_connect *b)
{
    if (a->protocol_version != b->protocol_version || a->last_zxid_seen != b->last_zxid_seen ||
        a->timeout != b->timeout || a->session != b->session ||
        a->passwd_len != b->passwd_len || a->read_only != b->read_only ||
        a->has_read_only != b->has_read_only || (a->passwd == NULL) != (b->passwd == NULL))
        return 0;
    return a->passwd_len <= 0 || memcmp(a->passwd, b->passwd, (size_t)a->passwd_len) == 0;
}

static const char *fuzz_connect(const fuzz_input *in, zab_buf *enc)
{
    zab_zk_connect req, again;
    int rc = zab_zk_decode_connect(in->b, in->len, &req);
    if (rc) return rc != ZAB_EMARSHALLING ? "unexpected code" :
                   fuzz_zeroed(&req, sizeof req) ? NULL : "output not zeroed on error";
    if (req.passwd_len < -1 || (req.passwd == NULL) != (req.passwd_len == -1))
        return "passwd and passwd_len disagree";
    if (req.passwd_len > 0 && !fuzz_inside(in, req.passwd, (size_t)req.passwd_len))
        return "passwd outside the input";
    size_t end = 28 + (req.passwd_len > 0 ? (size_t)req.passwd_len : 0);
    if (req.has_read_only != (in->len > end)) return "readOnly presence misread";
    if (zab_zk_encode_connect(&req, enc)) return "a decoded handshake does not encode";
    const char *why = fuzz_same_prefix(in, enc, 0, 0, req.has_read_only);
    if (why) return why;
    if (zab_zk_decode_connect(enc->data, enc->len, &again) || !fuzz_connect_eq(&req, &again))
        return "decode(encode(handshake)) differs";
    return NULL;
}

static const char *fuzz_connect_reply(const fuzz_input *in, zab_buf *enc)
{
    zab_zk_connect_reply rsp, again;
    int rc = zab_zk_decode_connect_reply(in->b, in->len, &rsp);
    if (rc) return rc != ZAB_EMARSHALLING ? "unexpected code" :
                   fuzz_zeroed(&rsp, sizeof rsp) ? NULL : "output not zeroed on error";
    if (rsp.has_read_only != (in->len > 36)) return "readOnly presence misread";
    if (zab_zk_encode_connect_reply(&rsp, enc)) return "a decoded reply does not encode";
    const char *why = fuzz_same_prefix(in, enc, 0, 0, rsp.has_read_only);
    if (why) return why;
    if (zab_zk_decode_connect_reply(enc->data, enc->len, &again) ||
        memcmp(&rsp, &again, sizeof rsp) != 0)
        return "decode(encode(connect reply)) differs";
    return NULL;
}

static const char *fuzz_headers(const fuzz_input *in, zab_buf *enc)
{
    int32_t xid, opcode, err;
    int64_t zxid;
    size_t at;
    int rc = zab_zk_decode_request_header(in->b, in->len, &xid, &opcode, &at);
    if (rc) {
        if (rc != ZAB_EMARSHALLING || in->len >= 8) return "a request header was refused";
        if (xid || opcode || at) return "output not zeroed on error";
    } else {
        if (at != 8) return "the request body does not start after 8 bytes";
        if (zab_zk_encode_request_header(xid, opcode, enc)) return "encode failed";
        const char *why = fuzz_same_prefix(in, enc, 0, 0, 0);
        if (why) return why;
    }
    enc->len = 0;
    rc = zab_zk_decode_reply_header(in->b, in->len, &xid, &zxid, &err, &at);
    if (rc) {
        if (rc != ZAB_EMARSHALLING || in->len >= 16) return "a reply header was refused";
        if (xid || zxid || err || at) return "output not zeroed on error";
        return NULL;
    }
    if (at != 16) return "the reply body does not start after 16 bytes";
    if (zab_zk_encode_reply_header(xid, zxid, err, enc)) return "encode failed";
    return fuzz_same_prefix(in, enc, 0, 0, 0);
}

static const char *fuzz_event(const fuzz_input *in, zab_buf *enc)
{
    zab_event ev, again;
    int rc = zab_zk_decode_event(in->b, in->len, &ev);
    if (rc) return rc != ZAB_EMARSHALLING ? "unexpected code" :
                   fuzz_zeroed(&ev, sizeof ev) ? NULL : "output not zeroed on error";
    if (!fuzz_view_ok(in, ev.path)) return "event path outside the input";
    if (zab_zk_encode_event(&ev, enc)) return "a decoded event does not encode";
    const char *why = fuzz_same_prefix(in, enc, 12, 4, 0);
    if (why) return why;
    if (zab_zk_decode_event(enc->data, enc->len, &again) || again.type != ev.type ||
        again.state != ev.state || again.zxid != ev.zxid || !fuzz_str_eq(again.path, ev.path))
        return "decode(encode(event)) differs";
    return NULL;
}

static int fuzz_watches_eq(const zab_zk_set_watches *a, const zab_zk_set_watches *b)
{
    if (a->relative_zxid != b->relative_zxid) return 0;
    for (int k = 0; k < ZAB_SETWATCH_KINDS; k++) {
        if (a->npaths[k] != b->npaths[k]) return 0;
        for (uint32_t i = 0; i < a->npaths[k]; i++)
            if (!fuzz_str_eq(a->paths[k][i], b->paths[k][i])) return 0;
    }
    return 1;
}

static const char *fuzz_watches_sane(const fuzz_input *in, int32_t opcode,
                                     const zab_zk_set_watches *sw, const zab_buf *scratch)
{
    size_t total = 0;
    for (int k = 0; k < ZAB_SETWATCH_KINDS; k++) {
        if ((sw->npaths[k] == 0) != (sw->paths[k] == NULL)) return "paths and npaths disagree";
        if (opcode == ZAB_OP_SET_WATCHES && k >= 3 && sw->npaths[k])
            return "a SetWatches grew persistent lists";
        for (uint32_t i = 0; i < sw->npaths[k]; i++)
            if (!sw->paths[k][i].ptr || !fuzz_view_ok(in, sw->paths[k][i]))
                return "a path is null or outside the input";
        total += sw->npaths[k];
    }
    if (total > in->len / 4) return "more paths than the input can hold";
    if (scratch->len != total * sizeof(zab_str) || scratch->len > 4 * in->len)
        return "scratch beyond the paths it holds";
    return NULL;
}

static const char *fuzz_set_watches(const fuzz_input *in, int32_t opcode, zab_buf *enc)
{
    zab_zk_set_watches sw, again;
    zab_buf scratch = { 0 }, scratch2 = { 0 };
    const char *why = NULL;
    int rc = zab_zk_decode_set_watches(opcode, in->b, in->len, &sw, &scratch);
    if (rc) {
        if (rc != ZAB_EMARSHALLING) why = "unexpected code";
        else if (!fuzz_zeroed(&sw, sizeof sw)) why = "output not zeroed on error";
        else if (scratch.len) why = "scratch holds something after an error";
    } else if (!(why = fuzz_watches_sane(in, opcode, &sw, &scratch))) {
        if (zab_zk_encode_set_watches(opcode, &sw, enc)) why = "a decoded SetWatches does not encode";
        else if (!(why = fuzz_same_prefix(in, enc, 0, 0, 0)) &&
                 (zab_zk_decode_set_watches(opcode, enc->data, enc->len, &again, &scratch2) ||
                  !fuzz_watches_eq(&sw, &again)))
            why = "decode(encode(SetWatches)) differs";
    }
    zab_buf_free(&scratch);
    zab_buf_free(&scratch2);
    return why;
}

static const char *fuzz_auth(const fuzz_input *in, zab_buf *enc)
{
    zab_zk_auth auth, again;
    int rc = zab_zk_decode_auth(in->b, in->len, &auth);
    if (rc) return rc != ZAB_EMARSHALLING ? "unexpected code" :
                   fuzz_zeroed(&auth, sizeof auth) ? NULL : "output not zeroed on error";
    if (!fuzz_view_ok(in, auth.scheme) || !fuzz_view_ok(in, auth.auth))
        return "auth strings outside the input";
    if (zab_zk_encode_auth(&auth, enc)) return "a decoded auth packet does not encode";
    const char *why = fuzz_same_prefix(in, enc, 0, 0, 0);
    if (why) return why;
    if (zab_zk_decode_auth(enc->data, enc->len, &again) || again.type != auth.type ||
        !fuzz_str_eq(again.scheme, auth.scheme) || !fuzz_str_eq(again.auth, auth.auth))
        return "decode(encode(auth)) differs";
    return NULL;
}

const char *zab_fuzz_session_check(const uint8_t *data, size_t len)
{
    if (len < 1) return NULL;
    fuzz_input in = { data + 1, len - 1 };
    zab_buf enc = { 0 };
    const char *why = NULL;
    switch (data[0] % FUZZ_NRECORDS) {
    case FUZZ_CONNECT: why = fuzz_connect(&in, &enc); break;
    case FUZZ_CONNECT_REPLY: why = fuzz_connect_reply(&in, &enc); break;
    case FUZZ_REQUEST_HEADER:
    case FUZZ_REPLY_HEADER: why = fuzz_headers(&in, &enc); break;
    case FUZZ_EVENT: why = fuzz_event(&in, &enc); break;
    case FUZZ_SET_WATCHES: why = fuzz_set_watches(&in, ZAB_OP_SET_WATCHES, &enc); break;
    case FUZZ_SET_WATCHES2: why = fuzz_set_watches(&in, ZAB_OP_SET_WATCHES2, &enc); break;
    default: why = fuzz_auth(&in, &enc); break;
    }
    zab_buf_free(&enc);
    return why;
}

int zab_fuzz_session(const uint8_t *data, size_t len)
{
    const char *why = zab_fuzz_session_check(data, len);
    if (why) {
        fprintf(stderr, "fuzz_session: %s\n", why);
        abort();
    }
    return 0;
}

#ifdef ZAB_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    return zab_fuzz_session(data, len);
}
#endif
