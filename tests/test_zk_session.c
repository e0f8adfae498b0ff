/*
 * test_zk_session.c - the ZooKeeper session layer codec: the handshake, the
 * request and reply headers, notifications, SetWatches, auth packets and
 * whoAmI's reply, checked against bytes captured between ZooKeeper 3.8's
 * own clients (the Java client and libzookeeper_mt) and a ZooKeeper 3.8.0
 * server, and against the protocol reference's byte-level examples; then
 * every truncation, hostile lengths and counts, and encoder refusals.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "zab.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct hexbytes {
    uint8_t b[1024];
    size_t len;
} hexbytes;

/* Hex digits to bytes; spaces are for the reader. */
static void hex_parse(hexbytes *h, const char *s)
{
    h->len = 0;
    int half = -1;
    for (; *s; s++) {
        if (*s == ' ') continue;
        int v = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
        ck_assert_msg(v >= 0, "bad hex digit '%c'", *s);
        if (half < 0) {
            half = v;
        } else {
            ck_assert_uint_lt(h->len, sizeof h->b);
            h->b[h->len++] = (uint8_t)(half << 4 | v);
            half = -1;
        }
    }
    ck_assert_msg(half < 0, "odd number of hex digits");
}

/* out->data[from..] must be exactly the bytes of hex. */
static void assert_bytes_from(const zab_buf *out, size_t from, const char *hex)
{
    hexbytes want;
    hex_parse(&want, hex);
    ck_assert_uint_eq(out->len - from, want.len);
    for (size_t i = 0; i < want.len; i++)
        ck_assert_msg(out->data[from + i] == want.b[i], "byte %zu: got %02x, want %02x", i,
                      out->data[from + i], want.b[i]);
}

static void assert_bytes(const zab_buf *out, const char *hex)
{
    assert_bytes_from(out, 0, hex);
}

static void assert_view(zab_str v, const char *want)
{
    size_t n = strlen(want);
    ck_assert_ptr_nonnull(v.ptr);
    ck_assert_uint_eq(v.len, n);
    ck_assert_msg(memcmp(v.ptr, want, n) == 0, "got '%.*s', want '%s'", (int)v.len, v.ptr, want);
}

/* v lies inside the len bytes at base. */
static void assert_inside(const void *p, size_t n, const hexbytes *h)
{
    const uint8_t *b = p;
    ck_assert(b >= h->b && b + n <= h->b + h->len);
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Captured bytes                                                            */
/* ------------------------------------------------------------------------ */

/* Payloads (no frame length) between ZooKeeper 3.8's clients and a 3.8.0
 * server, through a recording proxy on 127.0.0.1. */

#define J_PASSWD "8b010b52bcbbcb94e1a2ba2665c8db06"
#define J_SESSION "010000ae1ea70000"
/* The Java client's first ConnectRequest: 30 s, new session, readOnly false. */
#define J_CONNECT_NEW \
    "00000000 0000000000000000 00007530 0000000000000000 00000010 " \
    "00000000000000000000000000000000 00"
/* Its reconnect after the connection broke, having seen zxid 3. */
#define J_CONNECT_RESUME \
    "00000000 0000000000000003 00007530 " J_SESSION " 00000010 " J_PASSWD " 00"
#define S_CONNECT_REPLY "00000000 00007530 " J_SESSION " 00000010 " J_PASSWD " 00"

/* addauth digest user:pw: header, then the AuthPacket; and its reply. */
#define J_AUTH_HEADER "fffffffc 00000064"
#define J_AUTH_BODY "00000000 00000006 646967657374 00000007 757365723a7077"
#define S_AUTH_REPLY "fffffffc 0000000000000000 00000000"

/* whoami after that: the request header and the reply. */
#define J_WHO_AM_I "00000003 0000006b"
#define S_WHO_AM_I_HEADER "00000003 0000000000000003 00000000"
#define S_WHO_AM_I_BODY \
    "00000002 00000006 646967657374 00000004 75736572 00000002 6970 00000009 3132372e302e302e31"

/* After the reconnect the Java client 3.8 re-sent its watches as
 * SetWatches2 (under an ordinary xid, 9): getData -w /a, stat -w
 * /nonexist, ls -w /c, and two recursive watches, /p and /r. */
#define J_SET_WATCHES2_HEADER "00000009 00000069"
#define J_SET_WATCHES2_BODY                                          \
    "0000000000000003 00000001 00000002 2f61 00000001 00000009 "     \
    "2f6e6f6e6578697374 00000001 00000002 2f63 00000000 00000002 "   \
    "00000002 2f70 00000002 2f72"
#define S_SET_WATCHES2_REPLY "00000009 0000000000000003 00000000"

/* The NodeDataChanged a set /a then caused (3.8 sends zxid -1). */
#define S_NOTIFICATION \
    "ffffffff ffffffffffffffff 00000000 00000003 00000003 00000002 2f61"

/* libzookeeper_mt's reconnect, having seen zxid 6, and its SetWatches for
 * the same three kinds of watch, with xid -8. */
#define C_CONNECT_RESUME                                                    \
    "00000000 0000000000000006 00007530 010000ae1ea70001 00000010 "         \
    "9e2205525c07abd9d6e521523951f0d3 00"
#define C_SET_WATCHES_HEADER "fffffff8 00000065"
#define C_SET_WATCHES_BODY                                         \
    "0000000000000006 00000001 00000002 2f61 00000001 00000009 "   \
    "2f6e6f6e6578697374 00000001 00000002 2f63"
#define S_SET_WATCHES_REPLY "fffffff8 0000000000000006 00000000"

/* The server's answers to raw handshakes: a client without the readOnly
 * byte gets none back; an unknown session gets all zeros. */
#define S_CONNECT_REPLY_OLD \
    "00000000 00007530 010000ae1ea70002 00000010 65bf16527c240d0bf71ceccfbeb6b26c"
#define S_CONNECT_REPLY_EXPIRED \
    "00000000 00000000 0000000000000000 00000010 00000000000000000000000000000000 00"

/* The reference's examples: ping and its reply, getData("/a", watch) with
 * xid 7, a ZNONODE reply. */
#define R_PING "fffffffe 0000000b"
#define R_GET_DATA "00000007 00000004 00000002 2f61 01"
#define R_NONODE_REPLY "00000007 0000000000000042 ffffff9b"

/* ------------------------------------------------------------------------ */
/* The handshake                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_connect_new_session)
{
    hexbytes in;
    hex_parse(&in, J_CONNECT_NEW);
    ck_assert_uint_eq(in.len, 45); /* the C client's HANDSHAKE_REQ_SIZE */
    zab_zk_connect req;
    ck_assert_int_eq(zab_zk_decode_connect(in.b, in.len, &req), 0);
    ck_assert_int_eq(req.protocol_version, 0);
    ck_assert_int_eq(req.last_zxid_seen, 0);
    ck_assert_int_eq(req.timeout, 30000);
    ck_assert_int_eq(req.session, 0);
    ck_assert_int_eq(req.passwd_len, 16);
    assert_inside(req.passwd, 16, &in);
    ck_assert(all_zero(req.passwd, 16));
    ck_assert_int_eq(req.has_read_only, 1);
    ck_assert_int_eq(req.read_only, 0);

    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_connect(&req, &out), 0);
    assert_bytes(&out, J_CONNECT_NEW);
    zab_buf_free(&out);
}
END_TEST

START_TEST(test_connect_resume)
{
    static const char *const captures[] = { J_CONNECT_RESUME, C_CONNECT_RESUME };
    static const int64_t zxids[] = { 3, 6 };
    static const int64_t sessions[] = { 0x010000ae1ea70000LL, 0x010000ae1ea70001LL };
    for (int i = 0; i < 2; i++) {
        hexbytes in;
        hex_parse(&in, captures[i]);
        zab_zk_connect req;
        ck_assert_int_eq(zab_zk_decode_connect(in.b, in.len, &req), 0);
        ck_assert_int_eq(req.last_zxid_seen, zxids[i]);
        ck_assert_int_eq(req.timeout, 30000);
        ck_assert_int_eq(req.session, sessions[i]);
        ck_assert_int_eq(req.passwd_len, 16);
        ck_assert_ptr_eq(req.passwd, in.b + 28);
        ck_assert_int_eq(req.has_read_only, 1);
        ck_assert_int_eq(req.read_only, 0);
        zab_buf out = { 0 };
        ck_assert_int_eq(zab_zk_encode_connect(&req, &out), 0);
        assert_bytes(&out, captures[i]);
        zab_buf_free(&out);
    }
}
END_TEST

START_TEST(test_connect_read_only_byte)
{
    /* Without the byte (clients before 3.4): 44 bytes, and the encoder
     * leaves it out again. */
    hexbytes in;
    hex_parse(&in, J_CONNECT_NEW);
    zab_zk_connect req;
    ck_assert_int_eq(zab_zk_decode_connect(in.b, 44, &req), 0);
    ck_assert_int_eq(req.has_read_only, 0);
    ck_assert_int_eq(req.read_only, 0);
    ck_assert_int_eq(req.passwd_len, 16);
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_connect(&req, &out), 0);
    ck_assert_uint_eq(out.len, 44);
    ck_assert(memcmp(out.data, in.b, 44) == 0);

    /* Any non-zero byte is true (Java's readBoolean); bytes after it are
     * ignored, as ZooKeeper 3.8 answered such a handshake normally. */
    static const uint8_t tails[][6] = { { 0x01 }, { 0x07, 'e', 'x', 't', 'r', 'a' }, { 0x80 } };
    static const size_t tail_lens[] = { 1, 6, 1 };
    for (int i = 0; i < 3; i++) {
        memcpy(in.b + 44, tails[i], tail_lens[i]);
        ck_assert_int_eq(zab_zk_decode_connect(in.b, 44 + tail_lens[i], &req), 0);
        ck_assert_int_eq(req.has_read_only, 1);
        ck_assert_int_eq(req.read_only, 1);
        out.len = 0;
        ck_assert_int_eq(zab_zk_encode_connect(&req, &out), 0);
        ck_assert_uint_eq(out.len, 45);
        ck_assert_uint_eq(out.data[44], 1);
    }
    zab_buf_free(&out);
}
END_TEST

START_TEST(test_connect_password_lengths)
{
    /* ZooKeeper takes whatever password buffer comes (3.8 opened a session
     * for a 3-byte one); a resume with anything but the session's 16 bytes
     * then simply fails its check. */
    hexbytes in;
    zab_zk_connect req;
    hex_parse(&in, "00000000 0000000000000000 00007530 0000000000000000 00000003 616263 01");
    ck_assert_int_eq(zab_zk_decode_connect(in.b, in.len, &req), 0);
    ck_assert_int_eq(req.passwd_len, 3);
    ck_assert(memcmp(req.passwd, "abc", 3) == 0);
    ck_assert_int_eq(req.read_only, 1);

    hex_parse(&in, "00000000 0000000000000000 00007530 0000000000000000 00000000");
    ck_assert_int_eq(zab_zk_decode_connect(in.b, in.len, &req), 0);
    ck_assert_int_eq(req.passwd_len, 0);
    ck_assert_ptr_nonnull(req.passwd);
    ck_assert_int_eq(req.has_read_only, 0);

    /* A null buffer decodes as NULL, -1 and encodes back to -1. */
    hex_parse(&in, "00000000 0000000000000000 00007530 0000000000000001 ffffffff 00");
    ck_assert_int_eq(zab_zk_decode_connect(in.b, in.len, &req), 0);
    ck_assert_ptr_null(req.passwd);
    ck_assert_int_eq(req.passwd_len, -1);
    ck_assert_int_eq(req.session, 1);
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_connect(&req, &out), 0);
    assert_bytes(&out, "00000000 0000000000000000 00007530 0000000000000001 ffffffff 00");

    /* A 20-byte password, longer than any client sends, still decodes. */
    hex_parse(&in, "00000000 0000000000000000 00007530 0000000000000000 00000014 "
                   "0102030405060708090a0b0c0d0e0f1011121314 00");
    ck_assert_int_eq(zab_zk_decode_connect(in.b, in.len, &req), 0);
    ck_assert_int_eq(req.passwd_len, 20);
    ck_assert_uint_eq(req.passwd[19], 0x14);
    ck_assert_int_eq(req.has_read_only, 1);

    /* Lengths the bytes cannot hold (17 would take the readOnly byte as
     * the password's last), or below -1. */
    static const char *const bad[] = { "00000012", "7fffffff", "80000000", "fffffffe" };
    for (int i = 0; i < 4; i++) {
        char hex[256];
        snprintf(hex, sizeof hex,
                 "00000000 0000000000000000 00007530 0000000000000000 %s "
                 "00000000000000000000000000000000 00",
                 bad[i]);
        hex_parse(&in, hex);
        req.timeout = 1;
        ck_assert_int_eq(zab_zk_decode_connect(in.b, in.len, &req), ZAB_EMARSHALLING);
        ck_assert_int_eq(req.timeout, 0); /* zeroed on error */
    }
    zab_buf_free(&out);
}
END_TEST

START_TEST(test_connect_truncated)
{
    hexbytes in;
    hex_parse(&in, J_CONNECT_RESUME);
    for (size_t len = 0; len < 44; len++) {
        zab_zk_connect req;
        ck_assert_msg(zab_zk_decode_connect(in.b, len, &req) == ZAB_EMARSHALLING,
                      "length %zu decoded", len);
        ck_assert_int_eq(req.session, 0);
        ck_assert_ptr_null(req.passwd);
    }
    zab_zk_connect req;
    ck_assert_int_eq(zab_zk_decode_connect(NULL, 0, &req), ZAB_EMARSHALLING);
    ck_assert_int_eq(zab_zk_decode_connect(NULL, 45, &req), ZAB_EMARSHALLING);
    ck_assert_int_eq(zab_zk_decode_connect(in.b, (size_t)INT32_MAX + 1, &req), ZAB_EMARSHALLING);
}
END_TEST

START_TEST(test_connect_reply_bytes)
{
    static const uint8_t passwd[16] = { 0x8b, 0x01, 0x0b, 0x52, 0xbc, 0xbb, 0xcb, 0x94,
                                        0xe1, 0xa2, 0xba, 0x26, 0x65, 0xc8, 0xdb, 0x06 };
    zab_zk_connect_reply rsp = { 0 };
    rsp.timeout = 30000;
    rsp.session = 0x010000ae1ea70000LL;
    memcpy(rsp.passwd, passwd, 16);
    rsp.has_read_only = 1;
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_connect_reply(&rsp, &out), 0);
    ck_assert_uint_eq(out.len, 37); /* 41 with the frame length, as the C client needs */
    assert_bytes(&out, S_CONNECT_REPLY);

    /* A read-only server says so in the last byte. */
    rsp.read_only = 1;
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_connect_reply(&rsp, &out), 0);
    assert_bytes(&out, "00000000 00007530 " J_SESSION " 00000010 " J_PASSWD " 01");

    /* An expired or unknown session: all zeros. */
    zab_zk_connect_reply expired = { 0 };
    expired.has_read_only = 1;
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_connect_reply(&expired, &out), 0);
    assert_bytes(&out, S_CONNECT_REPLY_EXPIRED);
    zab_buf_free(&out);
}
END_TEST

START_TEST(test_connect_reply_mirrors_old_client)
{
    /* The server's answer to a 44-byte handshake: 36 bytes, no readOnly. */
    hexbytes in;
    hex_parse(&in, J_CONNECT_NEW);
    zab_zk_connect req;
    ck_assert_int_eq(zab_zk_decode_connect(in.b, 44, &req), 0);

    hexbytes want;
    hex_parse(&want, S_CONNECT_REPLY_OLD);
    zab_zk_connect_reply rsp = { 0 };
    rsp.timeout = 30000;
    rsp.session = 0x010000ae1ea70002LL;
    memcpy(rsp.passwd, want.b + 20, 16);
    rsp.has_read_only = req.has_read_only;
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_connect_reply(&rsp, &out), 0);
    assert_bytes(&out, S_CONNECT_REPLY_OLD);
    zab_buf_free(&out);
}
END_TEST

START_TEST(test_connect_reply_decode)
{
    hexbytes in;
    zab_zk_connect_reply rsp;
    hex_parse(&in, S_CONNECT_REPLY);
    ck_assert_int_eq(zab_zk_decode_connect_reply(in.b, in.len, &rsp), 0);
    ck_assert_int_eq(rsp.protocol_version, 0);
    ck_assert_int_eq(rsp.timeout, 30000);
    ck_assert_int_eq(rsp.session, 0x010000ae1ea70000LL);
    ck_assert(memcmp(rsp.passwd, in.b + 20, 16) == 0);
    ck_assert_int_eq(rsp.has_read_only, 1);
    ck_assert_int_eq(rsp.read_only, 0);
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_connect_reply(&rsp, &out), 0);
    assert_bytes(&out, S_CONNECT_REPLY);

    hex_parse(&in, S_CONNECT_REPLY_OLD);
    ck_assert_int_eq(zab_zk_decode_connect_reply(in.b, in.len, &rsp), 0);
    ck_assert_int_eq(rsp.has_read_only, 0);
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_connect_reply(&rsp, &out), 0);
    assert_bytes(&out, S_CONNECT_REPLY_OLD);

    /* Every shorter prefix fails; so does a password of another length. */
    for (size_t len = 0; len < 36; len++) {
        ck_assert_int_eq(zab_zk_decode_connect_reply(in.b, len, &rsp), ZAB_EMARSHALLING);
        ck_assert_int_eq(rsp.timeout, 0);
    }
    hex_parse(&in, "00000000 00007530 0000000000000001 0000000f 000000000000000000000000000000 00");
    ck_assert_int_eq(zab_zk_decode_connect_reply(in.b, in.len, &rsp), ZAB_EMARSHALLING);
    hex_parse(&in, "00000000 00007530 0000000000000001 ffffffff 00");
    ck_assert_int_eq(zab_zk_decode_connect_reply(in.b, in.len, &rsp), ZAB_EMARSHALLING);
    zab_buf_free(&out);
}
END_TEST

START_TEST(test_connect_encode_refuses)
{
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_buf_append(&out, "xyz", 3), 0);
    zab_zk_connect req = { 0 };
    req.passwd_len = 16; /* and no passwd */
    ck_assert_int_eq(zab_zk_encode_connect(&req, &out), ZAB_EINVAL);
    ck_assert_uint_eq(out.len, 3);
    zab_buf_free(&out);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Headers and notifications                                                 */
/* ------------------------------------------------------------------------ */

START_TEST(test_request_header)
{
    hexbytes in;
    int32_t xid, opcode;
    size_t at;
    hex_parse(&in, R_PING);
    ck_assert_int_eq(zab_zk_decode_request_header(in.b, in.len, &xid, &opcode, &at), 0);
    ck_assert_int_eq(xid, ZAB_XID_PING);
    ck_assert_int_eq(opcode, ZAB_OP_PING);
    ck_assert_uint_eq(at, in.len); /* a ping has no body */

    /* The body after the header is what the request decoder takes. */
    hex_parse(&in, R_GET_DATA);
    ck_assert_int_eq(zab_zk_decode_request_header(in.b, in.len, &xid, &opcode, &at), 0);
    ck_assert_int_eq(xid, 7);
    ck_assert_int_eq(opcode, ZAB_OP_GET_DATA);
    ck_assert_uint_eq(at, 8);
    zab_request req;
    zab_buf scratch = { 0 };
    ck_assert_int_eq(zab_zk_decode_request(opcode, in.b + at, in.len - at, &req, &scratch), 0);
    assert_view(req.ops[0].path, "/a");
    ck_assert_int_eq(req.ops[0].watch, 1);
    zab_buf_free(&scratch);

    static const char *const headers[] = { J_AUTH_HEADER, J_WHO_AM_I, J_SET_WATCHES2_HEADER,
                                           C_SET_WATCHES_HEADER };
    static const int32_t xids[] = { ZAB_XID_AUTH, 3, 9, ZAB_XID_SET_WATCHES };
    static const int32_t ops[] = { ZAB_OP_AUTH, ZAB_OP_WHO_AM_I, ZAB_OP_SET_WATCHES2,
                                   ZAB_OP_SET_WATCHES };
    for (int i = 0; i < 4; i++) {
        hex_parse(&in, headers[i]);
        ck_assert_int_eq(zab_zk_decode_request_header(in.b, in.len, &xid, &opcode, &at), 0);
        ck_assert_int_eq(xid, xids[i]);
        ck_assert_int_eq(opcode, ops[i]);
        zab_buf out = { 0 };
        ck_assert_int_eq(zab_zk_encode_request_header(xid, opcode, &out), 0);
        assert_bytes(&out, headers[i]);
        zab_buf_free(&out);
    }

    hex_parse(&in, R_GET_DATA);
    for (size_t len = 0; len < 8; len++) {
        xid = opcode = 5;
        at = 5;
        ck_assert_int_eq(zab_zk_decode_request_header(in.b, len, &xid, &opcode, &at),
                         ZAB_EMARSHALLING);
        ck_assert_int_eq(xid, 0);
        ck_assert_int_eq(opcode, 0);
        ck_assert_uint_eq(at, 0);
    }
    ck_assert_int_eq(zab_zk_decode_request_header(NULL, 8, &xid, &opcode, &at),
                     ZAB_EMARSHALLING);
}
END_TEST

START_TEST(test_reply_header)
{
    zab_buf out = { 0 };
    /* The ping reply carries the server's last zxid. */
    ck_assert_int_eq(zab_zk_encode_reply_header(ZAB_XID_PING, 0x100000005LL, 0, &out), 0);
    assert_bytes(&out, "fffffffe 0000000100000005 00000000");
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_reply_header(7, 0x42, ZAB_ENONODE, &out), 0);
    assert_bytes(&out, R_NONODE_REPLY);
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_reply_header(ZAB_XID_AUTH, 0, ZAB_OK, &out), 0);
    assert_bytes(&out, S_AUTH_REPLY);
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_reply_header(ZAB_XID_SET_WATCHES, 6, ZAB_OK, &out), 0);
    assert_bytes(&out, S_SET_WATCHES_REPLY);
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_reply_header(ZAB_XID_AUTH, 0, ZAB_EAUTHFAILED, &out), 0);
    assert_bytes(&out, "fffffffc 0000000000000000 ffffff8d");

    hexbytes in;
    int32_t xid, err;
    int64_t zxid;
    size_t at;
    hex_parse(&in, S_WHO_AM_I_HEADER S_WHO_AM_I_BODY);
    ck_assert_int_eq(zab_zk_decode_reply_header(in.b, in.len, &xid, &zxid, &err, &at), 0);
    ck_assert_int_eq(xid, 3);
    ck_assert_int_eq(zxid, 3);
    ck_assert_int_eq(err, 0);
    ck_assert_uint_eq(at, 16);
    for (size_t len = 0; len < 16; len++) {
        xid = err = 1;
        zxid = 1;
        ck_assert_int_eq(zab_zk_decode_reply_header(in.b, len, &xid, &zxid, &err, &at),
                         ZAB_EMARSHALLING);
        ck_assert(xid == 0 && zxid == 0 && err == 0 && at == 0);
    }
    hex_parse(&in, R_NONODE_REPLY);
    ck_assert_int_eq(zab_zk_decode_reply_header(in.b, in.len, &xid, &zxid, &err, &at), 0);
    ck_assert_int_eq(err, ZAB_ENONODE);
    ck_assert_uint_eq(at, in.len);
    zab_buf_free(&out);
}
END_TEST

START_TEST(test_event_bytes)
{
    /* ZooKeeper 3.8's notification: zxid -1. */
    zab_event ev = { ZAB_EVENT_DATA_CHANGED, ZAB_STATE_SYNC_CONNECTED, ZAB_STR("/a"), -1 };
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_event(&ev, &out), 0);
    ck_assert_uint_eq(out.len, 0x1e); /* the reference's frame length */
    assert_bytes(&out, S_NOTIFICATION);

    /* 3.9 and later: the triggering transaction's zxid. */
    zab_event created = { ZAB_EVENT_CREATED, ZAB_STATE_SYNC_CONNECTED, ZAB_STR("/x/y"),
                          0x0000000200000007LL };
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_event(&created, &out), 0);
    assert_bytes(&out, "ffffffff 0000000200000007 00000000 00000001 00000003 00000004 2f782f79");

    /* Appends after what the buffer holds (several frames queued). */
    size_t first = out.len;
    ck_assert_uint_eq(first, 32);
    ck_assert_int_eq(zab_zk_encode_event(&ev, &out), 0);
    assert_bytes_from(&out, first, S_NOTIFICATION);
    zab_buf_free(&out);
}
END_TEST

START_TEST(test_event_decode)
{
    hexbytes in;
    zab_event ev;
    hex_parse(&in, S_NOTIFICATION);
    ck_assert_int_eq(zab_zk_decode_event(in.b, in.len, &ev), 0);
    ck_assert_int_eq(ev.type, ZAB_EVENT_DATA_CHANGED);
    ck_assert_int_eq(ev.state, ZAB_STATE_SYNC_CONNECTED);
    ck_assert_int_eq(ev.zxid, -1);
    assert_view(ev.path, "/a");
    assert_inside(ev.path.ptr, ev.path.len, &in);
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_event(&ev, &out), 0);
    assert_bytes(&out, S_NOTIFICATION);

    /* Trailing bytes are ignored; every shorter prefix fails. */
    in.b[in.len++] = 0x55;
    ck_assert_int_eq(zab_zk_decode_event(in.b, in.len, &ev), 0);
    for (size_t len = 0; len < 30; len++) {
        ck_assert_int_eq(zab_zk_decode_event(in.b, len, &ev), ZAB_EMARSHALLING);
        ck_assert_ptr_null(ev.path.ptr);
        ck_assert_int_eq(ev.type, 0);
    }

    /* Only xid -1 is a notification. */
    hex_parse(&in, "fffffffe ffffffffffffffff 00000000 00000003 00000003 00000002 2f61");
    ck_assert_int_eq(zab_zk_decode_event(in.b, in.len, &ev), ZAB_EMARSHALLING);
    /* A path length past the end, or below -1. */
    hex_parse(&in, "ffffffff ffffffffffffffff 00000000 00000003 00000003 00000003 2f61");
    ck_assert_int_eq(zab_zk_decode_event(in.b, in.len, &ev), ZAB_EMARSHALLING);
    hex_parse(&in, "ffffffff ffffffffffffffff 00000000 00000003 00000003 fffffffe");
    ck_assert_int_eq(zab_zk_decode_event(in.b, in.len, &ev), ZAB_EMARSHALLING);
    zab_buf_free(&out);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* SetWatches                                                                */
/* ------------------------------------------------------------------------ */

static void assert_list(const zab_zk_set_watches *sw, int kind, const char *const *want,
                        uint32_t n, const hexbytes *in)
{
    ck_assert_uint_eq(sw->npaths[kind], n);
    if (!n) {
        ck_assert_ptr_null(sw->paths[kind]);
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        assert_view(sw->paths[kind][i], want[i]);
        assert_inside(sw->paths[kind][i].ptr, sw->paths[kind][i].len, in);
    }
}

START_TEST(test_set_watches_c_client)
{
    hexbytes in;
    hex_parse(&in, C_SET_WATCHES_BODY);
    zab_zk_set_watches sw;
    zab_buf scratch = { 0 };
    ck_assert_int_eq(zab_zk_decode_set_watches(ZAB_OP_SET_WATCHES, in.b, in.len, &sw, &scratch),
                     0);
    ck_assert_int_eq(sw.relative_zxid, 6);
    static const char *const data[] = { "/a" }, *const exist[] = { "/nonexist" },
                             *const child[] = { "/c" };
    assert_list(&sw, ZAB_SETWATCH_DATA, data, 1, &in);
    assert_list(&sw, ZAB_SETWATCH_EXIST, exist, 1, &in);
    assert_list(&sw, ZAB_SETWATCH_CHILD, child, 1, &in);
    assert_list(&sw, ZAB_SETWATCH_PERSISTENT, NULL, 0, &in);
    assert_list(&sw, ZAB_SETWATCH_PERSISTENT_RECURSIVE, NULL, 0, &in);
    ck_assert_uint_le(scratch.len, 4 * in.len);

    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_set_watches(ZAB_OP_SET_WATCHES, &sw, &out), 0);
    assert_bytes(&out, C_SET_WATCHES_BODY);
    zab_buf_free(&out);
    zab_buf_free(&scratch);
}
END_TEST

START_TEST(test_set_watches2_java_client)
{
    hexbytes in;
    hex_parse(&in, J_SET_WATCHES2_BODY);
    zab_zk_set_watches sw;
    zab_buf scratch = { 0 };
    ck_assert_int_eq(
        zab_zk_decode_set_watches(ZAB_OP_SET_WATCHES2, in.b, in.len, &sw, &scratch), 0);
    ck_assert_int_eq(sw.relative_zxid, 3);
    static const char *const data[] = { "/a" }, *const exist[] = { "/nonexist" },
                             *const child[] = { "/c" }, *const recursive[] = { "/p", "/r" };
    assert_list(&sw, ZAB_SETWATCH_DATA, data, 1, &in);
    assert_list(&sw, ZAB_SETWATCH_EXIST, exist, 1, &in);
    assert_list(&sw, ZAB_SETWATCH_CHILD, child, 1, &in);
    assert_list(&sw, ZAB_SETWATCH_PERSISTENT, NULL, 0, &in);
    assert_list(&sw, ZAB_SETWATCH_PERSISTENT_RECURSIVE, recursive, 2, &in);

    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_set_watches(ZAB_OP_SET_WATCHES2, &sw, &out), 0);
    assert_bytes(&out, J_SET_WATCHES2_BODY);

    /* The same bytes as a 101 end after the child list: the rest is
     * trailing and ignored. */
    ck_assert_int_eq(zab_zk_decode_set_watches(ZAB_OP_SET_WATCHES, in.b, in.len, &sw, &scratch),
                     0);
    assert_list(&sw, ZAB_SETWATCH_CHILD, child, 1, &in);
    assert_list(&sw, ZAB_SETWATCH_PERSISTENT_RECURSIVE, NULL, 0, &in);
    zab_buf_free(&out);
    zab_buf_free(&scratch);
}
END_TEST

START_TEST(test_set_watches_every_list)
{
    /* Each SetWatches2 list lands at its kind, several paths each. */
    static const char *const lists[ZAB_SETWATCH_KINDS][3] = {
        { "/d1", "/d2", "/d3" }, { "/e1" }, { "/c1", "/c2" }, { "/p1" }, { "/r1", "/r2", "/" }
    };
    static const uint32_t counts[ZAB_SETWATCH_KINDS] = { 3, 1, 2, 1, 3 };
    zab_str views[ZAB_SETWATCH_KINDS][3];
    zab_zk_set_watches sw = { 0 };
    sw.relative_zxid = 0x0000000500000009LL;
    for (int k = 0; k < ZAB_SETWATCH_KINDS; k++) {
        for (uint32_t i = 0; i < counts[k]; i++) views[k][i] = zab_str_c(lists[k][i]);
        sw.paths[k] = views[k];
        sw.npaths[k] = counts[k];
    }
    zab_buf out = { 0 }, scratch = { 0 };
    ck_assert_int_eq(zab_zk_encode_set_watches(ZAB_OP_SET_WATCHES2, &sw, &out), 0);
    assert_bytes(&out, "0000000500000009"
                       " 00000003 00000003 2f6431 00000003 2f6432 00000003 2f6433"
                       " 00000001 00000003 2f6531"
                       " 00000002 00000003 2f6331 00000003 2f6332"
                       " 00000001 00000003 2f7031"
                       " 00000003 00000003 2f7231 00000003 2f7232 00000001 2f");
    hexbytes in;
    memcpy(in.b, out.data, out.len);
    in.len = out.len;
    zab_zk_set_watches back;
    ck_assert_int_eq(
        zab_zk_decode_set_watches(ZAB_OP_SET_WATCHES2, in.b, in.len, &back, &scratch), 0);
    ck_assert_int_eq(back.relative_zxid, sw.relative_zxid);
    for (int k = 0; k < ZAB_SETWATCH_KINDS; k++)
        assert_list(&back, k, lists[k], counts[k], &in);
    /* One array in scratch, lists in wire order. */
    ck_assert_uint_eq(scratch.len, 10 * sizeof(zab_str));
    ck_assert_ptr_eq(back.paths[ZAB_SETWATCH_DATA], (const zab_str *)(void *)scratch.data);
    ck_assert_ptr_eq(back.paths[ZAB_SETWATCH_EXIST], back.paths[ZAB_SETWATCH_DATA] + 3);
    zab_buf_free(&out);
    zab_buf_free(&scratch);
}
END_TEST

START_TEST(test_set_watches_empty_lists)
{
    hexbytes in;
    zab_zk_set_watches sw;
    zab_buf scratch = { 0 };
    hex_parse(&in, "0000000000000000 00000000 00000000 00000000 00000000 00000000");
    ck_assert_int_eq(
        zab_zk_decode_set_watches(ZAB_OP_SET_WATCHES2, in.b, in.len, &sw, &scratch), 0);
    for (int k = 0; k < ZAB_SETWATCH_KINDS; k++) {
        ck_assert_uint_eq(sw.npaths[k], 0);
        ck_assert_ptr_null(sw.paths[k]);
    }
    ck_assert_uint_eq(scratch.len, 0);
    ck_assert_ptr_null(scratch.data); /* nothing allocated */

    /* An empty path is a path (the tree refuses it later, not the codec). */
    hex_parse(&in, "0000000000000001 00000001 00000000 00000000 00000000");
    ck_assert_int_eq(zab_zk_decode_set_watches(ZAB_OP_SET_WATCHES, in.b, in.len, &sw, &scratch),
                     0);
    ck_assert_uint_eq(sw.npaths[ZAB_SETWATCH_DATA], 1);
    ck_assert_ptr_nonnull(sw.paths[ZAB_SETWATCH_DATA][0].ptr);
    ck_assert_uint_eq(sw.paths[ZAB_SETWATCH_DATA][0].len, 0);

    zab_zk_set_watches none = { 0 };
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_set_watches(ZAB_OP_SET_WATCHES, &none, &out), 0);
    assert_bytes(&out, "0000000000000000 00000000 00000000 00000000");
    zab_buf_free(&out);
    zab_buf_free(&scratch);
}
END_TEST

START_TEST(test_set_watches_truncated)
{
    /* No proper prefix of a SetWatches is one. */
    static const struct {
        int32_t opcode;
        const char *hex;
    } bodies[] = { { ZAB_OP_SET_WATCHES, C_SET_WATCHES_BODY },
                   { ZAB_OP_SET_WATCHES2, J_SET_WATCHES2_BODY } };
    zab_buf scratch = { 0 };
    for (int b = 0; b < 2; b++) {
        hexbytes in;
        hex_parse(&in, bodies[b].hex);
        for (size_t len = 0; len < in.len; len++) {
            zab_zk_set_watches sw;
            int rc = zab_zk_decode_set_watches(bodies[b].opcode, in.b, len, &sw, &scratch);
            ck_assert_msg(rc == ZAB_EMARSHALLING, "opcode %d, %zu of %zu bytes: %d",
                          (int)bodies[b].opcode, len, in.len, rc);
            ck_assert_int_eq(sw.relative_zxid, 0);
            for (int k = 0; k < ZAB_SETWATCH_KINDS; k++) {
                ck_assert_uint_eq(sw.npaths[k], 0);
                ck_assert_ptr_null(sw.paths[k]);
            }
        }
    }
    zab_buf_free(&scratch);
}
END_TEST

START_TEST(test_set_watches_hostile_counts)
{
    /* Counts no body could hold, negative ones, jute's null list (-1) and
     * null or negative path lengths: refused before anything is built. */
    static const char *const bodies[] = {
        "0000000000000000 7fffffff",
        "0000000000000000 80000000 00000000 00000000",
        "0000000000000000 ffffffff 00000000 00000000",
        "0000000000000000 00000000 ffffffff 00000000",
        "0000000000000000 00000000 00000000 fffffffe",
        /* 3 paths announced, room for 2 at 4 bytes each */
        "0000000000000000 00000003 00000000 00000000",
        "0000000000000000 00000001 ffffffff 00000000 00000000",
        "0000000000000000 00000001 fffffffe 00000000 00000000",
        "0000000000000000 00000001 7fffffff 2f 00000000 00000000",
        "0000000000000000 00000001 00000002 2f 00000000 00000000",
        "0000000000000000 00000000 00000000 00000000 00000001",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        hexbytes in;
        hex_parse(&in, bodies[i]);
        zab_buf scratch = { 0 };
        zab_zk_set_watches sw;
        int32_t opcode = i + 1 == sizeof bodies / sizeof bodies[0] ? ZAB_OP_SET_WATCHES2
                                                                   : ZAB_OP_SET_WATCHES;
        int rc = zab_zk_decode_set_watches(opcode, in.b, in.len, &sw, &scratch);
        ck_assert_msg(rc == ZAB_EMARSHALLING, "body %zu: %d", i, rc);
        ck_assert_ptr_null(scratch.data);
        ck_assert_uint_eq(sw.npaths[ZAB_SETWATCH_DATA], 0);
    }
}
END_TEST

START_TEST(test_set_watches_many_tiny_paths)
{
    /* The most paths a body can hold: every one empty, 4 bytes each. The
     * array stays within 4 x len. */
    enum { N = 200 };
    uint8_t body[8 + 4 + 4 * N + 8];
    memset(body, 0, sizeof body);
    body[8 + 2] = N >> 8;
    body[8 + 3] = N & 0xff;
    zab_zk_set_watches sw;
    zab_buf scratch = { 0 };
    ck_assert_int_eq(
        zab_zk_decode_set_watches(ZAB_OP_SET_WATCHES, body, sizeof body, &sw, &scratch), 0);
    ck_assert_uint_eq(sw.npaths[ZAB_SETWATCH_DATA], N);
    ck_assert_uint_le(scratch.len, 4 * sizeof body);
    for (uint32_t i = 0; i < N; i++) ck_assert_uint_eq(sw.paths[ZAB_SETWATCH_DATA][i].len, 0);

    /* Scratch is reused: a later decode starts it over. */
    hexbytes in;
    hex_parse(&in, C_SET_WATCHES_BODY);
    ck_assert_int_eq(zab_zk_decode_set_watches(ZAB_OP_SET_WATCHES, in.b, in.len, &sw, &scratch),
                     0);
    ck_assert_uint_eq(scratch.len, 3 * sizeof(zab_str));
    zab_buf_free(&scratch);
}
END_TEST

START_TEST(test_set_watches_refuses)
{
    hexbytes in;
    hex_parse(&in, C_SET_WATCHES_BODY);
    zab_zk_set_watches sw;
    zab_buf scratch = { 0 }, out = { 0 };
    static const int32_t others[] = { ZAB_OP_AUTH, ZAB_OP_GET_DATA, 0, 104, 106 };
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(zab_zk_decode_set_watches(others[i], in.b, in.len, &sw, &scratch),
                         ZAB_EINVAL);
    ck_assert_int_eq(zab_zk_decode_set_watches(ZAB_OP_SET_WATCHES, NULL, 20, &sw, &scratch),
                     ZAB_EMARSHALLING);

    ck_assert_int_eq(zab_buf_append(&out, "xyz", 3), 0);
    zab_str one = ZAB_STR("/p");
    zab_zk_set_watches bad = { 0 };
    bad.paths[ZAB_SETWATCH_PERSISTENT] = &one;
    bad.npaths[ZAB_SETWATCH_PERSISTENT] = 1;
    /* A 101 cannot carry persistent watches. */
    ck_assert_int_eq(zab_zk_encode_set_watches(ZAB_OP_SET_WATCHES, &bad, &out), ZAB_EINVAL);
    ck_assert_int_eq(zab_zk_encode_set_watches(ZAB_OP_GET_DATA, &bad, &out), ZAB_EINVAL);
    /* A count without an array; a path with no pointer; a count past a jute int. */
    zab_zk_set_watches no_array = { 0 };
    no_array.npaths[ZAB_SETWATCH_DATA] = 1;
    ck_assert_int_eq(zab_zk_encode_set_watches(ZAB_OP_SET_WATCHES, &no_array, &out), ZAB_EINVAL);
    zab_str null_path = { NULL, 0 };
    zab_zk_set_watches nulls = { 0 };
    nulls.paths[ZAB_SETWATCH_CHILD] = &null_path;
    nulls.npaths[ZAB_SETWATCH_CHILD] = 1;
    ck_assert_int_eq(zab_zk_encode_set_watches(ZAB_OP_SET_WATCHES, &nulls, &out), ZAB_EINVAL);
    zab_zk_set_watches huge = { 0 };
    huge.paths[ZAB_SETWATCH_DATA] = &one;
    huge.npaths[ZAB_SETWATCH_DATA] = (uint32_t)INT32_MAX + 1;
    ck_assert_int_eq(zab_zk_encode_set_watches(ZAB_OP_SET_WATCHES, &huge, &out), ZAB_EINVAL);
    ck_assert_uint_eq(out.len, 3);
    /* The same persistent list is fine in a 105. */
    ck_assert_int_eq(zab_zk_encode_set_watches(ZAB_OP_SET_WATCHES2, &bad, &out), 0);
    assert_bytes_from(&out, 3, "0000000000000000 00000000 00000000 00000000 "
                               "00000001 00000002 2f70 00000000");
    zab_buf_free(&out);
    zab_buf_free(&scratch);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Auth and whoAmI                                                           */
/* ------------------------------------------------------------------------ */

START_TEST(test_auth_packet)
{
    hexbytes in;
    hex_parse(&in, J_AUTH_BODY);
    zab_zk_auth auth;
    ck_assert_int_eq(zab_zk_decode_auth(in.b, in.len, &auth), 0);
    ck_assert_int_eq(auth.type, 0);
    assert_view(auth.scheme, "digest");
    assert_view(auth.auth, "user:pw");
    assert_inside(auth.auth.ptr, auth.auth.len, &in);
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_auth(&auth, &out), 0);
    assert_bytes(&out, J_AUTH_BODY);

    /* The credential is what zab_digest_id turns into the identity. */
    char id[64];
    ck_assert_int_gt(zab_digest_id(auth.auth, id, sizeof id), 0);
    ck_assert_str_eq(id, "user:2Om+GBbT2q/tS6pdvACZbbm7/1A=");

    /* Trailing bytes ignored; null strings kept apart from empty ones. */
    in.b[in.len++] = 0x99;
    ck_assert_int_eq(zab_zk_decode_auth(in.b, in.len, &auth), 0);
    hex_parse(&in, "00000000 ffffffff ffffffff");
    ck_assert_int_eq(zab_zk_decode_auth(in.b, in.len, &auth), 0);
    ck_assert_ptr_null(auth.scheme.ptr);
    ck_assert_ptr_null(auth.auth.ptr);
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_auth(&auth, &out), 0);
    assert_bytes(&out, "00000000 ffffffff ffffffff");
    hex_parse(&in, "00000007 00000002 6970 00000000");
    ck_assert_int_eq(zab_zk_decode_auth(in.b, in.len, &auth), 0);
    ck_assert_int_eq(auth.type, 7);
    assert_view(auth.scheme, "ip");
    ck_assert_ptr_nonnull(auth.auth.ptr);
    ck_assert_uint_eq(auth.auth.len, 0);

    /* Every proper prefix, and lengths the body cannot hold. */
    hex_parse(&in, J_AUTH_BODY);
    for (size_t len = 0; len < in.len; len++) {
        ck_assert_int_eq(zab_zk_decode_auth(in.b, len, &auth), ZAB_EMARSHALLING);
        ck_assert_ptr_null(auth.scheme.ptr);
        ck_assert_ptr_null(auth.auth.ptr);
    }
    static const char *const bad[] = {
        "00000000 7fffffff 646967657374",
        "00000000 80000000",
        "00000000 fffffffe 00000000",
        "00000000 00000006 646967657374 00000008 757365723a7077",
        "00000000 00000006 646967657374 fffffff0",
    };
    for (int i = 0; i < 5; i++) {
        hex_parse(&in, bad[i]);
        ck_assert_int_eq(zab_zk_decode_auth(in.b, in.len, &auth), ZAB_EMARSHALLING);
    }

    /* An encoder refusal leaves out as it was. */
    out.len = 0;
    zab_zk_auth broken = { 0, { NULL, 3 }, ZAB_STR("x") };
    ck_assert_int_eq(zab_zk_encode_auth(&broken, &out), ZAB_EINVAL);
    ck_assert_uint_eq(out.len, 0);
    zab_buf_free(&out);
}
END_TEST

START_TEST(test_who_am_i_bytes)
{
    /* What ZooKeeper 3.8 answered after addauth digest user:pw. */
    const zab_id ids[2] = {
        { ZAB_STR("digest"), ZAB_STR("user:2Om+GBbT2q/tS6pdvACZbbm7/1A=") },
        { ZAB_STR("ip"), ZAB_STR("127.0.0.1") },
    };
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_reply_header(3, 3, ZAB_OK, &out), 0);
    ck_assert_int_eq(zab_zk_encode_who_am_i(ids, 2, &out), 0);
    assert_bytes(&out, S_WHO_AM_I_HEADER S_WHO_AM_I_BODY);

    /* No identity: an empty vector. */
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_who_am_i(NULL, 0, &out), 0);
    assert_bytes(&out, "00000000");

    /* A digest id without ':' is all user; other schemes report the whole
     * id, colons and all; super's empty id stays empty; a NULL view is an
     * empty string, never jute's null. */
    const zab_id odd[4] = {
        { ZAB_STR("digest"), ZAB_STR("solo") },
        { ZAB_STR("x509"), ZAB_STR("CN=a:b") },
        { ZAB_STR("super"), ZAB_STR("") },
        { ZAB_STR("ip"), { NULL, 0 } },
    };
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_who_am_i(odd, 4, &out), 0);
    assert_bytes(&out, "00000004"
                       " 00000006 646967657374 00000004 736f6c6f"
                       " 00000004 78353039 00000006 434e3d613a62"
                       " 00000005 7375706572 00000000"
                       " 00000002 6970 00000000");

    /* Refusals leave out unchanged. */
    size_t before = out.len;
    ck_assert_int_eq(zab_zk_encode_who_am_i(NULL, 1, &out), ZAB_EINVAL);
    const zab_id broken = { ZAB_STR("ip"), { NULL, 5 } };
    ck_assert_int_eq(zab_zk_encode_who_am_i(&broken, 1, &out), ZAB_EINVAL);
    ck_assert_int_eq(zab_zk_encode_who_am_i(ids, (uint32_t)INT32_MAX + 1, &out), ZAB_EINVAL);
    ck_assert_uint_eq(out.len, before);
    zab_buf_free(&out);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A whole exchange                                                          */
/* ------------------------------------------------------------------------ */

/* The server's side of the captured Java session after its reconnect,
 * rebuilt from the decoded requests: every reply byte for byte. */
START_TEST(test_server_side_of_a_reconnect)
{
    hexbytes in;
    zab_buf out = { 0 }, scratch = { 0 };

    hex_parse(&in, J_CONNECT_RESUME);
    zab_zk_connect req;
    ck_assert_int_eq(zab_zk_decode_connect(in.b, in.len, &req), 0);
    zab_zk_connect_reply rsp = { 0 };
    rsp.timeout = req.timeout;
    rsp.session = req.session;
    ck_assert_int_eq(req.passwd_len, 16);
    memcpy(rsp.passwd, req.passwd, 16);
    rsp.has_read_only = req.has_read_only;
    ck_assert_int_eq(zab_zk_encode_connect_reply(&rsp, &out), 0);
    assert_bytes(&out, S_CONNECT_REPLY);

    int32_t xid, opcode;
    size_t at;
    hex_parse(&in, J_AUTH_HEADER J_AUTH_BODY);
    ck_assert_int_eq(zab_zk_decode_request_header(in.b, in.len, &xid, &opcode, &at), 0);
    ck_assert_int_eq(opcode, ZAB_OP_AUTH);
    zab_zk_auth auth;
    ck_assert_int_eq(zab_zk_decode_auth(in.b + at, in.len - at, &auth), 0);
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_reply_header(xid, 0, ZAB_OK, &out), 0);
    assert_bytes(&out, S_AUTH_REPLY);

    hex_parse(&in, J_SET_WATCHES2_HEADER J_SET_WATCHES2_BODY);
    ck_assert_int_eq(zab_zk_decode_request_header(in.b, in.len, &xid, &opcode, &at), 0);
    zab_zk_set_watches sw;
    ck_assert_int_eq(zab_zk_decode_set_watches(opcode, in.b + at, in.len - at, &sw, &scratch),
                     0);
    ck_assert_uint_eq(sw.npaths[ZAB_SETWATCH_PERSISTENT_RECURSIVE], 2);
    /* The reply echoes the request's xid, whatever the client chose. */
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_reply_header(xid, sw.relative_zxid, ZAB_OK, &out), 0);
    assert_bytes(&out, S_SET_WATCHES2_REPLY);

    zab_buf_free(&out);
    zab_buf_free(&scratch);
}
END_TEST

static Suite *zk_session_suite(void)
{
    Suite *s = suite_create("zk_session");
    TCase *tc = tcase_create("handshake");
    tcase_add_test(tc, test_connect_new_session);
    tcase_add_test(tc, test_connect_resume);
    tcase_add_test(tc, test_connect_read_only_byte);
    tcase_add_test(tc, test_connect_password_lengths);
    tcase_add_test(tc, test_connect_truncated);
    tcase_add_test(tc, test_connect_reply_bytes);
    tcase_add_test(tc, test_connect_reply_mirrors_old_client);
    tcase_add_test(tc, test_connect_reply_decode);
    tcase_add_test(tc, test_connect_encode_refuses);
    suite_add_tcase(s, tc);

    tc = tcase_create("headers");
    tcase_add_test(tc, test_request_header);
    tcase_add_test(tc, test_reply_header);
    tcase_add_test(tc, test_event_bytes);
    tcase_add_test(tc, test_event_decode);
    suite_add_tcase(s, tc);

    tc = tcase_create("set_watches");
    tcase_add_test(tc, test_set_watches_c_client);
    tcase_add_test(tc, test_set_watches2_java_client);
    tcase_add_test(tc, test_set_watches_every_list);
    tcase_add_test(tc, test_set_watches_empty_lists);
    tcase_add_test(tc, test_set_watches_truncated);
    tcase_add_test(tc, test_set_watches_hostile_counts);
    tcase_add_test(tc, test_set_watches_many_tiny_paths);
    tcase_add_test(tc, test_set_watches_refuses);
    suite_add_tcase(s, tc);

    tc = tcase_create("auth");
    tcase_add_test(tc, test_auth_packet);
    tcase_add_test(tc, test_who_am_i_bytes);
    tcase_add_test(tc, test_server_side_of_a_reconnect);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(zk_session_suite)
