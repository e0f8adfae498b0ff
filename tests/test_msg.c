/*
 * test_msg.c - the peer message codec: the byte layout of msg.h pinned by
 * messages written out by hand, round trips of every type at extreme values,
 * every refusal the decoder owes, and the client request a REQUEST carries.
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "core/msg.h"
#include "util/prim.h"
#include "zab.h"

enum { TEST_MAX = 1000 };

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static void be32(uint8_t *at, uint32_t v)
{
    at[0] = (uint8_t)(v >> 24);
    at[1] = (uint8_t)(v >> 16);
    at[2] = (uint8_t)(v >> 8);
    at[3] = (uint8_t)v;
}

static void be64(uint8_t *at, uint64_t v)
{
    be32(at, (uint32_t)(v >> 32));
    be32(at + 4, (uint32_t)v);
}

/* Recompute the trailer of a len-byte message in place, as a forger would. */
static void reseal(uint8_t *b, size_t len)
{
    be32(b + len - 4, zab_crc32c(0, b, len - 4));
}

/* Rewrite body_len to what the bytes hold, then reseal. */
static void reframe(uint8_t *b, size_t len)
{
    be32(b + 6, (uint32_t)(len - ZAB_MSG_HEADER - ZAB_MSG_TRAILER));
    reseal(b, len);
}

static void assert_bytes(const zab_buf *got, const uint8_t *want, size_t len)
{
    ck_assert_uint_eq(got->len, len);
    for (size_t i = 0; i < len; i++)
        ck_assert_msg(got->data[i] == want[i], "byte %zu: got 0x%02x, want 0x%02x", i,
                      got->data[i], want[i]);
}

static int decode(const void *b, size_t len, zab_msg *m)
{
    return zab_msg_decode(b, len, TEST_MAX, m);
}

/* Every field compared; data by content. */
static void assert_msg_eq(const zab_msg *a, const zab_msg *b)
{
    ck_assert_uint_eq(a->type, b->type);
    ck_assert_uint_eq(a->seq, b->seq);
    ck_assert_int_eq(a->state, b->state);
    ck_assert_int_eq(a->flags, b->flags);
    ck_assert_int_eq(a->err, b->err);
    ck_assert(a->leader == b->leader);
    ck_assert(a->zxid == b->zxid);
    ck_assert(a->round == b->round);
    ck_assert(a->epoch == b->epoch);
    ck_assert(a->origin == b->origin);
    ck_assert(a->cookie == b->cookie);
    ck_assert(a->session == b->session);
    ck_assert(a->applied == b->applied);
    ck_assert(a->offset == b->offset);
    ck_assert_uint_eq(a->len, b->len);
    if (a->len) ck_assert_mem_eq(a->data, b->data, a->len);
}

static int carries_data(int type)
{
    return type == ZAB_MSG_SNAP_DATA || type == ZAB_MSG_PROPOSAL || type == ZAB_MSG_INFORM ||
           type == ZAB_MSG_PING || type == ZAB_MSG_REQUEST;
}

/* A message of type with every field its body carries set to an extreme
 * (which extreme depends on flavour), and every other field zero. */
static zab_msg extreme_msg(int type, int flavour, const void *data, uint32_t len)
{
    zab_msg m;
    memset(&m, 0, sizeof m);
    m.type = (uint8_t)type;
    m.seq = flavour ? UINT32_MAX : 0;
    int64_t i64 = flavour ? INT64_MIN : INT64_MAX;
    uint64_t u64 = flavour ? 0 : UINT64_MAX;
    switch (type) {
    case ZAB_MSG_NOTIFY:
        m.state = flavour ? ZAB_OBSERVING : ZAB_LOOKING;
        m.leader = i64;
        m.zxid = flavour ? INT64_MAX : INT64_MIN;
        m.round = i64;
        m.epoch = -1;
        break;
    case ZAB_MSG_LEARNERINFO:
        m.epoch = i64;
        m.flags = flavour ? INT32_MIN : INT32_MAX;
        break;
    case ZAB_MSG_LEADERINFO: m.epoch = i64; break;
    case ZAB_MSG_ACKEPOCH:
        m.epoch = -1;
        m.zxid = i64;
        m.applied = flavour ? 0 : INT64_MAX;
        break;
    case ZAB_MSG_SNAP:
        m.zxid = i64;
        m.offset = u64;
        break;
    case ZAB_MSG_SNAP_DATA: case ZAB_MSG_SNAP_ACK: m.offset = u64; break;
    case ZAB_MSG_PROPOSAL: case ZAB_MSG_INFORM:
        m.zxid = i64;
        m.origin = flavour ? INT64_MAX : INT64_MIN;
        m.cookie = u64;
        break;
    case ZAB_MSG_REQUEST: m.cookie = u64; break;
    case ZAB_MSG_ANSWER:
        m.cookie = u64;
        m.err = flavour ? INT32_MIN : ZAB_ECONNECTIONLOSS;
        m.zxid = i64;
        break;
    case ZAB_MSG_SYNC: case ZAB_MSG_REVALIDATE:
        m.cookie = u64;
        m.session = flavour ? INT64_MIN : -1;
        break;
    case ZAB_MSG_PING: m.round = i64; break;
    case ZAB_MSG_UPTODATE: break;
    default: m.zxid = i64; break; /* DIFF, TRUNC, COMMIT, ACK, NEWLEADER */
    }
    if (carries_data(type)) {
        m.data = data;
        m.len = len;
    }
    return m;
}

static uint8_t big[TEST_MAX + 1];

static void fill_big(void)
{
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7 + 3);
}

/* A valid encoding of a message with some data, for the refusal tests. */
static zab_buf sample(int type)
{
    zab_buf b = { 0 };
    zab_msg m = extreme_msg(type, 1, "abc", 3);
    ck_assert_int_eq(zab_msg_encode(&m, &b), 0);
    return b;
}

/* ------------------------------------------------------------------------ */
/* The byte layout, written out by hand                                      */
/* ------------------------------------------------------------------------ */

START_TEST(crc_is_castagnoli)
{
    /* The trailer's checksum is CRC-32C; this is its standard check value. */
    ck_assert_uint_eq(zab_crc32c(0, "123456789", 9), 0xE3069283u);
}
END_TEST

START_TEST(layout_commit)
{
    uint8_t want[] = {
        2, ZAB_MSG_COMMIT,                     /* version, type */
        0, 0, 0, 7,                            /* seq */
        0, 0, 0, 8,                            /* body_len */
        0, 0, 0, 1, 0, 0, 0, 2,                /* zxid */
        0, 0, 0, 0                             /* crc */
    };
    reseal(want, sizeof want);
    zab_msg m = { 0 };
    m.type = ZAB_MSG_COMMIT;
    m.seq = 7;
    m.zxid = ZAB_ZXID(1, 2);
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_msg_encode(&m, &b), 0);
    assert_bytes(&b, want, sizeof want);

    zab_msg got;
    ck_assert_int_eq(decode(want, sizeof want, &got), 0);
    assert_msg_eq(&got, &m);
    zab_buf_free(&b);
}
END_TEST

START_TEST(layout_notify)
{
    uint8_t want[10 + 36 + 4] = { 2, ZAB_MSG_NOTIFY, 0, 0, 1, 0, 0, 0, 0, 36 };
    be32(want + 10, ZAB_LEADING);
    be64(want + 14, 3);                   /* leader */
    be64(want + 22, 0x500000009ull);      /* zxid */
    be64(want + 30, 0xffffffffffffffffull); /* round -1 */
    be64(want + 38, 5);                   /* epoch */
    reseal(want, sizeof want);
    zab_msg m = { 0 };
    m.type = ZAB_MSG_NOTIFY;
    m.seq = 256;
    m.state = ZAB_LEADING;
    m.leader = 3;
    m.zxid = ZAB_ZXID(5, 9);
    m.round = -1;
    m.epoch = 5;
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_msg_encode(&m, &b), 0);
    assert_bytes(&b, want, sizeof want);
    zab_buf_free(&b);
}
END_TEST

START_TEST(layout_proposal)
{
    /* zxid, origin, cookie, then the data with its u32 length. */
    uint8_t want[10 + 24 + 4 + 3 + 4] = { 2, ZAB_MSG_PROPOSAL, 0xff, 0xff, 0xff, 0xff,
                                          0, 0, 0, 31 };
    be64(want + 10, 0x0000000200000001ull);
    be64(want + 18, 2);
    be64(want + 26, 0x0102030405060708ull);
    be32(want + 34, 3);
    memcpy(want + 38, "txn", 3);
    reseal(want, sizeof want);
    zab_msg m = { 0 };
    m.type = ZAB_MSG_PROPOSAL;
    m.seq = UINT32_MAX;
    m.zxid = ZAB_ZXID(2, 1);
    m.origin = 2;
    m.cookie = 0x0102030405060708ull;
    m.data = "txn";
    m.len = 3;
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_msg_encode(&m, &b), 0);
    assert_bytes(&b, want, sizeof want);
    zab_buf_free(&b);
}
END_TEST

START_TEST(layout_small_bodies)
{
    /* UPTODATE: an empty body. */
    uint8_t up[14] = { 2, ZAB_MSG_UPTODATE, 0, 0, 0, 2, 0, 0, 0, 0 };
    reseal(up, sizeof up);
    zab_msg m = { 0 };
    m.type = ZAB_MSG_UPTODATE;
    m.seq = 2;
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_msg_encode(&m, &b), 0);
    assert_bytes(&b, up, sizeof up);

    /* ANSWER: cookie, i32 err, then zxid. */
    uint8_t refused[10 + 20 + 4] = { 2, ZAB_MSG_ANSWER, 0, 0, 0, 0, 0, 0, 0, 20 };
    be64(refused + 10, 99);
    be32(refused + 18, (uint32_t)ZAB_ETHROTTLED);
    be64(refused + 22, 0x500000007);
    reseal(refused, sizeof refused);
    memset(&m, 0, sizeof m);
    m.type = ZAB_MSG_ANSWER;
    m.cookie = 99;
    m.err = ZAB_ETHROTTLED;
    m.zxid = 0x500000007;
    b.len = 0;
    ck_assert_int_eq(zab_msg_encode(&m, &b), 0);
    assert_bytes(&b, refused, sizeof refused);

    /* LEARNERINFO: epoch then flags. */
    uint8_t info[10 + 12 + 4] = { 2, ZAB_MSG_LEARNERINFO, 0, 0, 0, 1, 0, 0, 0, 12 };
    be64(info + 10, 4);
    be32(info + 18, 1);
    reseal(info, sizeof info);
    memset(&m, 0, sizeof m);
    m.type = ZAB_MSG_LEARNERINFO;
    m.seq = 1;
    m.epoch = 4;
    m.flags = 1;
    b.len = 0;
    ck_assert_int_eq(zab_msg_encode(&m, &b), 0);
    assert_bytes(&b, info, sizeof info);
    zab_buf_free(&b);
}
END_TEST

START_TEST(null_data_encodes_empty)
{
    uint8_t want[10 + 12 + 4] = { 2, ZAB_MSG_PING, 0, 0, 0, 0, 0, 0, 0, 12 };
    be64(want + 10, 42);
    reseal(want, sizeof want);
    zab_msg m = { 0 };
    m.type = ZAB_MSG_PING;
    m.round = 42;
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_msg_encode(&m, &b), 0);
    assert_bytes(&b, want, sizeof want);
    zab_msg got;
    ck_assert_int_eq(decode(b.data, b.len, &got), 0);
    ck_assert_uint_eq(got.len, 0);
    zab_buf_free(&b);
}
END_TEST

START_TEST(encode_appends)
{
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_buf_append(&b, "xy", 2), 0);
    zab_msg a = extreme_msg(ZAB_MSG_ACK, 0, NULL, 0);
    zab_msg p = extreme_msg(ZAB_MSG_PROPOSAL, 1, "hello", 5);
    ck_assert_int_eq(zab_msg_encode(&a, &b), 0);
    size_t first = b.len;
    ck_assert_uint_eq(first, 2 + 10 + 8 + 4);
    ck_assert_int_eq(zab_msg_encode(&p, &b), 0);
    ck_assert_mem_eq(b.data, "xy", 2);
    zab_msg got;
    ck_assert_int_eq(decode(b.data + 2, first - 2, &got), 0);
    assert_msg_eq(&got, &a);
    ck_assert_int_eq(decode(b.data + first, b.len - first, &got), 0);
    assert_msg_eq(&got, &p);
    zab_buf_free(&b);
}
END_TEST

START_TEST(encode_refuses_unsizable_body)
{
    /* A body whose length no u32 can state is refused before a byte is read
     * or written, and out is as it was. */
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_buf_append(&b, "keep", 4), 0);
    zab_msg m = { 0 };
    m.type = ZAB_MSG_PROPOSAL;
    m.data = "x";
    m.len = UINT32_MAX - 20;
    ck_assert_int_eq(zab_msg_encode(&m, &b), ZAB_ENOMEM);
    ck_assert_uint_eq(b.len, 4);
    ck_assert_mem_eq(b.data, "keep", 4);
    zab_buf_free(&b);
}
END_TEST

START_TEST(names)
{
    static const char *const want[] = {
        "?", "NOTIFY", "LEARNERINFO", "LEADERINFO", "ACKEPOCH", "DIFF", "TRUNC", "SNAP",
        "SNAP_DATA", "SNAP_ACK", "PROPOSAL", "INFORM", "COMMIT", "ACK", "NEWLEADER",
        "UPTODATE", "PING", "REQUEST", "ANSWER", "SYNC", "REVALIDATE"
    };
    for (int t = 0; t <= ZAB_MSG_MAX_TYPE; t++) ck_assert_str_eq(zab_msg_name(t), want[t]);
    ck_assert_str_eq(zab_msg_name(ZAB_MSG_MAX_TYPE + 1), "?");
    ck_assert_str_eq(zab_msg_name(-1), "?");
    ck_assert_str_eq(zab_msg_name(INT32_MAX), "?");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Round trips                                                               */
/* ------------------------------------------------------------------------ */

static void round_trip(const zab_msg *m)
{
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_msg_encode(m, &b), 0);
    zab_msg got;
    memset(&got, 0xa5, sizeof got);
    ck_assert_msg(decode(b.data, b.len, &got) == 0, "%s does not decode", zab_msg_name(m->type));
    /* Every field: the carried ones equal, the rest zero (m has them zero). */
    assert_msg_eq(&got, m);
    if (got.len) {
        ck_assert(got.data == b.data + b.len - 4 - got.len); /* zero-copy */
    }
    /* Canonical: encoding the decoded message gives the same bytes. */
    zab_buf again = { 0 };
    ck_assert_int_eq(zab_msg_encode(&got, &again), 0);
    assert_bytes(&again, b.data, b.len);
    zab_buf_free(&again);
    zab_buf_free(&b);
}

START_TEST(round_trip_every_type)
{
    fill_big();
    int type = _i;
    for (int flavour = 0; flavour < 2; flavour++) {
        zab_msg m = { 0 };
        m.type = (uint8_t)type; /* every field zero */
        round_trip(&m);
        m = extreme_msg(type, flavour, big, 0);
        round_trip(&m);
        if (!carries_data(type)) continue;
        m = extreme_msg(type, flavour, big, 1);
        round_trip(&m);
        m = extreme_msg(type, flavour, big, TEST_MAX); /* exactly max */
        round_trip(&m);
    }
}
END_TEST

START_TEST(notify_states)
{
    for (int32_t s = ZAB_LOOKING; s <= ZAB_OBSERVING; s++) {
        zab_msg m = extreme_msg(ZAB_MSG_NOTIFY, 0, NULL, 0);
        m.state = s;
        round_trip(&m);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Refusals                                                                  */
/* ------------------------------------------------------------------------ */

static void assert_refused(const void *b, size_t len, const char *what)
{
    zab_msg m;
    memset(&m, 0x5a, sizeof m);
    ck_assert_msg(decode(b, len, &m) == ZAB_ECORRUPT, "%s was accepted", what);
    /* A refused message leaves nothing behind. */
    static const zab_msg zero;
    ck_assert_msg(memcmp(&m, &zero, sizeof m) == 0, "%s left fields set", what);
}

START_TEST(refuses_empty_and_null)
{
    zab_msg m;
    ck_assert_int_eq(zab_msg_decode(NULL, 0, TEST_MAX, &m), ZAB_ECORRUPT);
    ck_assert_int_eq(zab_msg_decode("", 0, TEST_MAX, &m), ZAB_ECORRUPT);
}
END_TEST

START_TEST(refuses_every_truncation)
{
    zab_buf b = sample(_i);
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b.data, n);
        assert_refused(copy, n, "a truncated message");
        /* Truncated and resealed: the lengths disagree. */
        if (n >= ZAB_MSG_HEADER + ZAB_MSG_TRAILER) {
            reseal(copy, n);
            assert_refused(copy, n, "a truncated, resealed message");
        }
        free(copy);
    }
    zab_buf_free(&b);
}
END_TEST

START_TEST(refuses_every_bit_flip)
{
    zab_buf b = sample(_i);
    for (size_t i = 0; i < b.len; i++)
        for (int bit = 0; bit < 8; bit++) {
            b.data[i] ^= (uint8_t)(1u << bit);
            assert_refused(b.data, b.len, "a message with a flipped bit");
            b.data[i] ^= (uint8_t)(1u << bit);
        }
    zab_msg m;
    ck_assert_int_eq(decode(b.data, b.len, &m), 0);
    zab_buf_free(&b);
}
END_TEST

START_TEST(refuses_forged_body_len)
{
    /* A correct CRC over a header whose body_len lies. */
    zab_buf b = sample(_i);
    uint32_t real = (uint32_t)(b.len - ZAB_MSG_HEADER - ZAB_MSG_TRAILER);
    const uint32_t lies[] = { real + 1, real - 1, 0, 1, UINT32_MAX, 0x80000000u, real + 4 };
    for (size_t k = 0; k < sizeof lies / sizeof lies[0]; k++) {
        if (lies[k] == real) continue;
        be32(b.data + 6, lies[k]);
        reseal(b.data, b.len);
        assert_refused(b.data, b.len, "a forged body_len");
    }
    zab_buf_free(&b);
}
END_TEST

START_TEST(refuses_short_and_long_bodies)
{
    /* Each shorter body, framed and sealed consistently: a field runs past
     * the body. Each longer body: trailing bytes after the type's fields. */
    zab_buf b = sample(_i);
    size_t body = b.len - ZAB_MSG_HEADER - ZAB_MSG_TRAILER;
    uint8_t buf[ZAB_MSG_HEADER + 64 + 8 + ZAB_MSG_TRAILER];
    ck_assert_uint_le(b.len + 8, sizeof buf);
    for (size_t keep = 0; keep < body; keep++) {
        size_t n = ZAB_MSG_HEADER + keep + ZAB_MSG_TRAILER;
        memcpy(buf, b.data, ZAB_MSG_HEADER + keep);
        reframe(buf, n);
        assert_refused(buf, n, "a body cut short");
    }
    for (size_t extra = 1; extra <= 8; extra++) {
        size_t n = b.len + extra;
        memcpy(buf, b.data, b.len - ZAB_MSG_TRAILER);
        memset(buf + b.len - ZAB_MSG_TRAILER, 0, extra);
        reframe(buf, n);
        assert_refused(buf, n, "a body with trailing bytes");
    }
    /* Bytes after the CRC: the CRC no longer ends the message. */
    memcpy(buf, b.data, b.len);
    buf[b.len] = 0;
    assert_refused(buf, b.len + 1, "a byte after the trailer");
    zab_buf_free(&b);
}
END_TEST

START_TEST(refuses_bad_version_and_type)
{
    zab_buf b = sample(ZAB_MSG_COMMIT);
    const uint8_t versions[] = { 0, 1, 3, 0x81, 0xff };
    for (size_t k = 0; k < sizeof versions; k++) {
        b.data[0] = versions[k];
        reseal(b.data, b.len);
        assert_refused(b.data, b.len, "an unknown version");
    }
    b.data[0] = ZAB_MSG_VERSION;
    /* Types 0 and 19..255 are unknown, whatever the body. */
    for (int t = 0; t < 256; t++) {
        if (t >= 1 && t <= ZAB_MSG_MAX_TYPE) continue;
        b.data[1] = (uint8_t)t;
        reseal(b.data, b.len);
        assert_refused(b.data, b.len, "an unknown type");
    }
    b.data[1] = ZAB_MSG_COMMIT;
    reseal(b.data, b.len);
    zab_msg m;
    ck_assert_int_eq(decode(b.data, b.len, &m), 0);
    zab_buf_free(&b);
}
END_TEST

START_TEST(refuses_notify_state)
{
    const int32_t bad[] = { -1, 4, 5, INT32_MIN, INT32_MAX };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        zab_buf b = sample(ZAB_MSG_NOTIFY);
        be32(b.data + ZAB_MSG_HEADER, (uint32_t)bad[k]);
        reseal(b.data, b.len);
        assert_refused(b.data, b.len, "a NOTIFY with an unknown state");
        zab_buf_free(&b);
    }
}
END_TEST

START_TEST(respects_max)
{
    fill_big();
    int type = _i;
    if (!carries_data(type)) return;
    zab_msg m = extreme_msg(type, 0, big, TEST_MAX);
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_msg_encode(&m, &b), 0);
    zab_msg got;
    ck_assert_int_eq(zab_msg_decode(b.data, b.len, TEST_MAX, &got), 0);
    ck_assert_int_eq(zab_msg_decode(b.data, b.len, TEST_MAX - 1, &got), ZAB_ECORRUPT);
    ck_assert_int_eq(zab_msg_decode(b.data, b.len, 0, &got), ZAB_ECORRUPT);
    ck_assert_int_eq(zab_msg_decode(b.data, b.len, UINT32_MAX, &got), 0);
    b.len = 0;
    m.len = TEST_MAX + 1;
    ck_assert_int_eq(zab_msg_encode(&m, &b), 0);
    assert_refused(b.data, b.len, "data one byte over max");
    /* Empty data passes a max of 0. */
    b.len = 0;
    m.len = 0;
    ck_assert_int_eq(zab_msg_encode(&m, &b), 0);
    ck_assert_int_eq(zab_msg_decode(b.data, b.len, 0, &got), 0);
    zab_buf_free(&b);
}
END_TEST

START_TEST(refuses_data_length_past_body)
{
    /* A data length that overruns the body, or stops short of it, with the
     * header and CRC made consistent. */
    int type = _i;
    if (!carries_data(type)) return;
    zab_buf b = sample(type);
    size_t at = b.len - ZAB_MSG_TRAILER - 3 - 4; /* the data's length field */
    const uint32_t lens[] = { 4, 2, 0, 0x7fffffffu, UINT32_MAX, 0x80000000u };
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        be32(b.data + at, lens[k]);
        reseal(b.data, b.len);
        zab_msg m;
        ck_assert_int_eq(zab_msg_decode(b.data, b.len, UINT32_MAX, &m), ZAB_ECORRUPT);
    }
    zab_buf_free(&b);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Request payloads                                                          */
/* ------------------------------------------------------------------------ */

static const uint8_t passwd[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 0xf8, 0xf9, 0xfa, 0xfb,
                                    0xfc, 0xfd, 0xfe, 0xff };

static const zab_id ids[3] = {
    { { "ip", 2 }, { "127.0.0.1", 9 } },
    { { "digest", 6 }, { "bob:HG7hFCoA5aY2q0gzJYBcC6K+jGE=", 32 } },
    { { "x", 1 }, { "", 0 } },
};

static const zab_acl acls[2] = {
    { ZAB_PERM_ALL, { { "auth", 4 }, { "", 0 } } },
    { ZAB_PERM_READ, { { "world", 5 }, { "anyone", 6 } } },
};

static int str_eq(zab_str a, zab_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* got, decoded, against want: the fields got's record carries equal, the
 * others zero (ttl -1), as the jute codec and the session ops decode them. */
static void assert_op_eq(const zab_op *got, const zab_op *want)
{
    int32_t t = want->type;
    int create = t == ZAB_OP_CREATE || t == ZAB_OP_CREATE2 || t == ZAB_OP_CREATE_CONTAINER ||
                 t == ZAB_OP_CREATE_TTL;
    int has_path = t != ZAB_OP_CREATE_SESSION && t != ZAB_OP_CLOSE_SESSION;
    int has_data = create || t == ZAB_OP_SET_DATA || t == ZAB_OP_CREATE_SESSION;
    int has_version = t == ZAB_OP_DELETE || t == ZAB_OP_CHECK || t == ZAB_OP_SET_DATA ||
                      t == ZAB_OP_SET_ACL;
    ck_assert_int_eq(got->type, t);
    ck_assert(str_eq(got->path, has_path ? want->path : (zab_str){ NULL, 0 }));
    ck_assert_int_eq(got->data_len, has_data ? want->data_len : 0);
    if (got->data_len > 0) ck_assert_mem_eq(got->data, want->data, (size_t)got->data_len);
    if (!has_data) ck_assert_ptr_null(got->data);
    ck_assert_int_eq(got->flags, create ? want->flags : 0);
    ck_assert_int_eq(got->version, has_version ? want->version : 0);
    ck_assert_int_eq(got->watch, 0);
    ck_assert_int_eq(got->timeout, t == ZAB_OP_CREATE_SESSION ? want->timeout : 0);
    ck_assert(got->ttl == (t == ZAB_OP_CREATE_TTL ? want->ttl : -1));
    ck_assert_uint_eq(got->nacl, create || t == ZAB_OP_SET_ACL ? want->nacl : 0);
    for (uint32_t i = 0; i < got->nacl; i++) {
        ck_assert_int_eq(got->acl[i].perms, want->acl[i].perms);
        ck_assert(str_eq(got->acl[i].id.scheme, want->acl[i].id.scheme));
        ck_assert(str_eq(got->acl[i].id.id, want->acl[i].id.id));
    }
}

static void assert_request_eq(const zab_request *got, const zab_request *want)
{
    ck_assert_int_eq(got->type, want->type);
    ck_assert(got->session == want->session);
    ck_assert_uint_eq(got->nauth, want->nauth);
    for (uint32_t i = 0; i < want->nauth; i++) {
        ck_assert(str_eq(got->auth[i].scheme, want->auth[i].scheme));
        ck_assert(str_eq(got->auth[i].id, want->auth[i].id));
    }
    ck_assert_uint_eq(got->nops, want->nops);
    for (uint32_t i = 0; i < want->nops; i++) assert_op_eq(&got->ops[i], &want->ops[i]);
}

/* Encode, decode (into a scratch that already holds junk), compare, and
 * check the encoding is stable. Returns the encoding. */
static zab_buf request_round_trip(const zab_request *req)
{
    zab_buf enc = { 0 }, scratch = { 0 }, again = { 0 };
    ck_assert_int_eq(zab_msg_request_encode(req, &enc), 0);
    ck_assert_int_eq(zab_buf_append(&scratch, "junk", 4), 0);
    zab_request got;
    ck_assert_int_eq(zab_msg_request_decode(enc.data, enc.len, &got, &scratch), 0);
    assert_request_eq(&got, req);
    ck_assert_int_eq(zab_msg_request_encode(&got, &again), 0);
    assert_bytes(&again, enc.data, enc.len);
    zab_buf_free(&again);
    zab_buf_free(&scratch);
    return enc;
}

static zab_op session_op(int32_t type)
{
    zab_op op;
    memset(&op, 0, sizeof op);
    op.type = type;
    op.ttl = -1;
    if (type == ZAB_OP_CREATE_SESSION) {
        op.timeout = 30000;
        op.data = passwd;
        op.data_len = 16;
    }
    return op;
}

START_TEST(request_create_session_layout)
{
    zab_op op = session_op(ZAB_OP_CREATE_SESSION);
    zab_request req = { ZAB_OP_CREATE_SESSION, 0x0123456789abcdefll, ids, 1, &op, 1 };
    uint8_t want[8 + 4 + 4 + 2 + 4 + 9 + 4 + 4 + 16];
    uint8_t *p = want;
    be64(p, 0x0123456789abcdefull), p += 8;
    be32(p, 1), p += 4;                       /* nauth */
    be32(p, 2), p += 4;
    memcpy(p, "ip", 2), p += 2;
    be32(p, 9), p += 4;
    memcpy(p, "127.0.0.1", 9), p += 9;
    be32(p, (uint32_t)ZAB_OP_CREATE_SESSION), p += 4;
    be32(p, 30000), p += 4;
    memcpy(p, passwd, 16), p += 16;
    ck_assert_uint_eq((size_t)(p - want), sizeof want);

    zab_buf enc = request_round_trip(&req);
    assert_bytes(&enc, want, sizeof want);

    /* The decoded op is a createSession with the password pointing into the
     * payload. */
    zab_buf scratch = { 0 };
    zab_request got;
    ck_assert_int_eq(zab_msg_request_decode(want, sizeof want, &got, &scratch), 0);
    ck_assert_uint_eq(got.nops, 1);
    ck_assert_int_eq(got.ops[0].type, ZAB_OP_CREATE_SESSION);
    ck_assert_int_eq(got.ops[0].timeout, 30000);
    ck_assert_int_eq(got.ops[0].data_len, 16);
    ck_assert(got.ops[0].data == want + sizeof want - 16);
    zab_buf_free(&scratch);
    zab_buf_free(&enc);
}
END_TEST

START_TEST(request_close_session_layout)
{
    zab_op op = session_op(ZAB_OP_CLOSE_SESSION);
    zab_request req = { ZAB_OP_CLOSE_SESSION, -1, NULL, 0, &op, 1 };
    uint8_t want[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
    be32(want + 12, (uint32_t)ZAB_OP_CLOSE_SESSION);
    zab_buf enc = request_round_trip(&req);
    assert_bytes(&enc, want, sizeof want);
    zab_buf_free(&enc);
    /* With identities too. */
    req.auth = ids;
    req.nauth = 3;
    enc = request_round_trip(&req);
    zab_buf_free(&enc);
}
END_TEST

START_TEST(request_create_with_acl_and_auth)
{
    zab_op op = zab_op_create("/app/node-", "value", 5, acls, 2, ZAB_EPHEMERAL_SEQUENTIAL);
    zab_request req = { ZAB_OP_CREATE, 0x100000001ll, ids, 3, &op, 1 };
    zab_buf enc = request_round_trip(&req);

    /* Head written out by hand; the rest is the jute body exactly. */
    zab_buf jute = { 0 };
    ck_assert_int_eq(zab_zk_encode_request(&req, &jute), 0);
    size_t head = 8 + 4 + (4 + 2 + 4 + 9) + (4 + 6 + 4 + 32) + (4 + 1 + 4 + 0) + 4;
    ck_assert_uint_eq(enc.len, head + jute.len);
    ck_assert_mem_eq(enc.data + head, jute.data, jute.len);
    uint8_t type[4];
    be32(type, ZAB_OP_CREATE);
    ck_assert_mem_eq(enc.data + head - 4, type, 4);
    ck_assert_mem_eq(enc.data + 8, "\0\0\0\3\0\0\0\2ip", 10);
    zab_buf_free(&jute);
    zab_buf_free(&enc);
}
END_TEST

START_TEST(request_set_data_and_delete)
{
    zab_op set = zab_op_set_data("/a", "\0\1\2", 3, 7);
    zab_request req = { ZAB_OP_SET_DATA, 5, ids + 1, 1, &set, 1 };
    zab_buf enc = request_round_trip(&req);
    zab_buf_free(&enc);
    set = zab_op_set_data("/a", NULL, -1, -1); /* null data */
    enc = request_round_trip(&req);
    zab_buf_free(&enc);

    zab_op del = zab_op_delete("/a/b", -1);
    zab_request dreq = { ZAB_OP_DELETE, INT64_MIN, NULL, 0, &del, 1 };
    enc = request_round_trip(&dreq);
    zab_buf_free(&enc);
}
END_TEST

static void build_multi(zab_op *ops, uint32_t *n)
{
    *n = 0;
    ops[(*n)++] = zab_op_create("/m", "d", 1, acls + 1, 1, ZAB_PERSISTENT);
    ops[(*n)++] = zab_op_create("/m/e", NULL, -1, acls, 2, ZAB_EPHEMERAL);
    ops[(*n)++] = zab_op_set_data("/m", "new data", 8, 0);
    ops[(*n)++] = zab_op_check("/m", 1);
    ops[(*n)++] = zab_op_delete("/m/e", -1);
    ops[(*n)++] = zab_op_delete("/old", 3);
}

START_TEST(request_multi)
{
    zab_op ops[8];
    uint32_t n;
    build_multi(ops, &n);
    zab_request req = { ZAB_OP_MULTI, 77, ids, 3, ops, n };
    zab_buf enc = request_round_trip(&req);
    zab_buf_free(&enc);
    /* An empty multi. */
    zab_request empty = { ZAB_OP_MULTI, 77, ids, 2, NULL, 0 };
    enc = request_round_trip(&empty);
    zab_buf_free(&enc);
}
END_TEST

START_TEST(request_scratch_growth)
{
    /* However many identities follow the ops, every array stays valid:
     * scratch grows before the pointers are handed out (ASan checks). */
    zab_op ops[8];
    uint32_t n;
    build_multi(ops, &n);
    zab_id many[40];
    for (size_t i = 0; i < 40; i++) many[i] = ids[i % 3];
    for (uint32_t nauth = 0; nauth <= 40; nauth++)
        for (uint32_t nops = 0; nops <= n; nops++) {
            zab_request req = { ZAB_OP_MULTI, nauth, many, nauth, nops ? ops : NULL, nops };
            zab_buf enc = { 0 }, scratch = { 0 };
            ck_assert_int_eq(zab_msg_request_encode(&req, &enc), 0);
            zab_request got;
            ck_assert_int_eq(zab_msg_request_decode(enc.data, enc.len, &got, &scratch), 0);
            assert_request_eq(&got, &req);
            /* Reused scratch: a second decode over the first. */
            ck_assert_int_eq(zab_msg_request_decode(enc.data, enc.len, &got, &scratch), 0);
            assert_request_eq(&got, &req);
            zab_buf_free(&enc);
            zab_buf_free(&scratch);
        }
}
END_TEST

START_TEST(request_encode_refusals)
{
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_buf_append(&out, "keep", 4), 0);
    zab_op op = session_op(ZAB_OP_CREATE_SESSION);
    zab_request req = { ZAB_OP_CREATE_SESSION, 1, NULL, 0, &op, 1 };
    op.data_len = 15;
    ck_assert_int_eq(zab_msg_request_encode(&req, &out), ZAB_EINVAL);
    op.data_len = 17;
    ck_assert_int_eq(zab_msg_request_encode(&req, &out), ZAB_EINVAL);
    op.data_len = -1;
    ck_assert_int_eq(zab_msg_request_encode(&req, &out), ZAB_EINVAL);
    op.data_len = 16;
    op.data = NULL;
    ck_assert_int_eq(zab_msg_request_encode(&req, &out), ZAB_EINVAL);
    op = session_op(ZAB_OP_CREATE_SESSION);
    req.nops = 0;
    ck_assert_int_eq(zab_msg_request_encode(&req, &out), ZAB_EINVAL);
    req.nops = 1;
    /* Identities the payload cannot hold. */
    req.nauth = 1;
    req.auth = NULL;
    ck_assert_int_eq(zab_msg_request_encode(&req, &out), ZAB_EINVAL);
    zab_id bad = { { NULL, 3 }, { "x", 1 } };
    req.auth = &bad;
    ck_assert_int_eq(zab_msg_request_encode(&req, &out), ZAB_EINVAL);
    req.nauth = 0;
    /* Opcodes with no jute body here, and an op whose type differs. */
    zab_op other = zab_op_delete("/x", 1);
    zab_request auth_req = { ZAB_OP_AUTH, 1, NULL, 0, &other, 1 };
    ck_assert_int_eq(zab_msg_request_encode(&auth_req, &out), ZAB_EINVAL);
    zab_request mismatch = { ZAB_OP_SET_DATA, 1, NULL, 0, &other, 1 };
    ck_assert_int_eq(zab_msg_request_encode(&mismatch, &out), ZAB_EINVAL);
    /* A jute refusal after the head was written leaves out as it was. */
    zab_op in_multi = zab_op_read(ZAB_OP_GET_DATA, "/x", 0);
    zab_request multi = { ZAB_OP_MULTI, 1, ids, 3, &in_multi, 1 };
    ck_assert_int_eq(zab_msg_request_encode(&multi, &out), ZAB_EINVAL);
    ck_assert_uint_eq(out.len, 4);
    ck_assert_mem_eq(out.data, "keep", 4);
    zab_buf_free(&out);
}
END_TEST

static void assert_request_refused(const void *b, size_t len, const char *what)
{
    zab_buf scratch = { 0 };
    zab_request got;
    memset(&got, 0x5a, sizeof got);
    ck_assert_msg(zab_msg_request_decode(b, len, &got, &scratch) == ZAB_ECORRUPT,
                  "%s was accepted", what);
    ck_assert_ptr_null(got.ops);
    ck_assert_ptr_null(got.auth);
    ck_assert_uint_eq(got.nops, 0);
    ck_assert_uint_eq(got.nauth, 0);
    zab_buf_free(&scratch);
}

START_TEST(request_refuses_truncations)
{
    zab_op ops[8];
    uint32_t n;
    build_multi(ops, &n);
    zab_op cs = session_op(ZAB_OP_CREATE_SESSION);
    zab_op cl = session_op(ZAB_OP_CLOSE_SESSION);
    zab_op del = zab_op_delete("/a/b", 4);
    const zab_request reqs[] = {
        { ZAB_OP_MULTI, 1, ids, 3, ops, n },
        { ZAB_OP_CREATE_SESSION, 2, ids, 2, &cs, 1 },
        { ZAB_OP_CLOSE_SESSION, 3, ids, 1, &cl, 1 },
        { ZAB_OP_DELETE, 4, ids, 3, &del, 1 },
    };
    for (size_t k = 0; k < sizeof reqs / sizeof reqs[0]; k++) {
        zab_buf enc = { 0 };
        ck_assert_int_eq(zab_msg_request_encode(&reqs[k], &enc), 0);
        for (size_t len = 0; len < enc.len; len++) {
            uint8_t *copy = malloc(len ? len : 1);
            memcpy(copy, enc.data, len);
            assert_request_refused(copy, len, "a truncated request");
            free(copy);
        }
        zab_buf_free(&enc);
    }
}
END_TEST

START_TEST(request_refuses_bad_heads)
{
    uint8_t b[64];
    memset(b, 0, sizeof b);
    /* nauth far beyond what the bytes could hold. */
    const uint32_t counts[] = { UINT32_MAX, 0x80000000u, 0x7fffffffu, 0x10000000u, 7 };
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        be32(b + 8, counts[k]);
        assert_request_refused(b, 8 + 4 + 8 * 6 - 1, "an nauth larger than the payload");
    }
    /* An identity string with a bad length. */
    be32(b + 8, 1);
    be32(b + 12, (uint32_t)-2);
    assert_request_refused(b, sizeof b, "a negative identity length");
    be32(b + 12, 1000);
    assert_request_refused(b, sizeof b, "an identity longer than the payload");
    /* Unknown types and a createSession with bytes after its password. */
    uint8_t t[8 + 4 + 4 + 4 + 16 + 1];
    memset(t, 0, sizeof t);
    const int32_t types[] = { ZAB_OP_AUTH, ZAB_OP_SET_WATCHES, ZAB_OP_SASL, 0, 10, 9999,
                              INT32_MIN, ZAB_OP_ERROR };
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        be32(t + 12, (uint32_t)types[k]);
        assert_request_refused(t, 16, "an unknown request type");
        assert_request_refused(t, sizeof t - 1, "an unknown request type with a body");
    }
    be32(t + 12, (uint32_t)ZAB_OP_CREATE_SESSION);
    assert_request_refused(t, sizeof t, "a createSession with a trailing byte");
    zab_buf scratch = { 0 };
    zab_request got;
    ck_assert_int_eq(zab_msg_request_decode(t, sizeof t - 1, &got, &scratch), 0);
    be32(t + 12, (uint32_t)ZAB_OP_CLOSE_SESSION);
    assert_request_refused(t, 17, "a closeSession with a trailing byte");
    ck_assert_int_eq(zab_msg_request_decode(t, 16, &got, &scratch), 0);
    ck_assert_int_eq(got.type, ZAB_OP_CLOSE_SESSION);
    ck_assert_uint_eq(got.nops, 1);
    ck_assert_int_eq(got.ops[0].type, ZAB_OP_CLOSE_SESSION);
    zab_buf_free(&scratch);
    assert_request_refused(NULL, 0, "no bytes");
}
END_TEST

START_TEST(request_refuses_bad_jute)
{
    zab_op ops[8];
    uint32_t n;
    build_multi(ops, &n);
    zab_request req = { ZAB_OP_MULTI, 1, ids, 1, ops, n };
    zab_buf enc = { 0 };
    ck_assert_int_eq(zab_msg_request_encode(&req, &enc), 0);
    size_t head = 8 + 4 + 4 + 2 + 4 + 9 + 4;
    /* A multi whose first sub-op is a read: a marshalling error in jute. */
    be32(enc.data + head, ZAB_OP_GET_DATA);
    assert_request_refused(enc.data, enc.len, "a multi holding a read");
    /* A multi with a byte after its terminator. */
    be32(enc.data + head, ZAB_OP_CREATE);
    ck_assert_int_eq(zab_buf_append(&enc, "", 1), 0);
    assert_request_refused(enc.data, enc.len, "a multi with trailing bytes");
    /* A create whose path length runs past the payload. */
    zab_op op = zab_op_create("/p", "v", 1, acls, 1, 0);
    zab_request creq = { ZAB_OP_CREATE, 1, NULL, 0, &op, 1 };
    enc.len = 0;
    ck_assert_int_eq(zab_msg_request_encode(&creq, &enc), 0);
    be32(enc.data + 16, 0x7fffffffu);
    assert_request_refused(enc.data, enc.len, "a create with a huge path length");
    be32(enc.data + 16, 2);
    be32(enc.data + 22, (uint32_t)-5); /* the data length */
    assert_request_refused(enc.data, enc.len, "a create with a negative data length");
    zab_buf_free(&enc);
}
END_TEST

START_TEST(request_inside_a_message)
{
    zab_op ops[8];
    uint32_t n;
    build_multi(ops, &n);
    zab_request req = { ZAB_OP_MULTI, 9, ids, 3, ops, n };
    zab_buf payload = { 0 }, wire = { 0 }, scratch = { 0 };
    ck_assert_int_eq(zab_msg_request_encode(&req, &payload), 0);
    zab_msg m = { 0 };
    m.type = ZAB_MSG_REQUEST;
    m.seq = 3;
    m.cookie = 12345;
    m.data = payload.data;
    m.len = (uint32_t)payload.len;
    ck_assert_int_eq(zab_msg_encode(&m, &wire), 0);
    zab_msg got;
    ck_assert_int_eq(zab_msg_decode(wire.data, wire.len, 4u << 20, &got), 0);
    ck_assert(got.cookie == 12345);
    zab_request back;
    ck_assert_int_eq(zab_msg_request_decode(got.data, got.len, &back, &scratch), 0);
    assert_request_eq(&back, &req);
    zab_buf_free(&payload);
    zab_buf_free(&wire);
    zab_buf_free(&scratch);
}
END_TEST

static Suite *msg_suite(void)
{
    Suite *s = suite_create("msg");
    TCase *layout = tcase_create("layout");
    tcase_add_test(layout, crc_is_castagnoli);
    tcase_add_test(layout, layout_commit);
    tcase_add_test(layout, layout_notify);
    tcase_add_test(layout, layout_proposal);
    tcase_add_test(layout, layout_small_bodies);
    tcase_add_test(layout, null_data_encodes_empty);
    tcase_add_test(layout, encode_appends);
    tcase_add_test(layout, encode_refuses_unsizable_body);
    tcase_add_test(layout, names);
    suite_add_tcase(s, layout);

    TCase *trip = tcase_create("round_trip");
    tcase_add_loop_test(trip, round_trip_every_type, 1, ZAB_MSG_MAX_TYPE + 1);
    tcase_add_test(trip, notify_states);
    suite_add_tcase(s, trip);

    TCase *refuse = tcase_create("refusals");
    tcase_add_test(refuse, refuses_empty_and_null);
    tcase_add_loop_test(refuse, refuses_every_truncation, 1, ZAB_MSG_MAX_TYPE + 1);
    tcase_add_loop_test(refuse, refuses_every_bit_flip, 1, ZAB_MSG_MAX_TYPE + 1);
    tcase_add_loop_test(refuse, refuses_forged_body_len, 1, ZAB_MSG_MAX_TYPE + 1);
    tcase_add_loop_test(refuse, refuses_short_and_long_bodies, 1, ZAB_MSG_MAX_TYPE + 1);
    tcase_add_test(refuse, refuses_bad_version_and_type);
    tcase_add_test(refuse, refuses_notify_state);
    tcase_add_loop_test(refuse, respects_max, 1, ZAB_MSG_MAX_TYPE + 1);
    tcase_add_loop_test(refuse, refuses_data_length_past_body, 1, ZAB_MSG_MAX_TYPE + 1);
    suite_add_tcase(s, refuse);

    TCase *request = tcase_create("request");
    tcase_add_test(request, request_create_session_layout);
    tcase_add_test(request, request_close_session_layout);
    tcase_add_test(request, request_create_with_acl_and_auth);
    tcase_add_test(request, request_set_data_and_delete);
    tcase_add_test(request, request_multi);
    tcase_add_test(request, request_scratch_growth);
    tcase_add_test(request, request_encode_refusals);
    tcase_add_test(request, request_refuses_truncations);
    tcase_add_test(request, request_refuses_bad_heads);
    tcase_add_test(request, request_refuses_bad_jute);
    tcase_add_test(request, request_inside_a_message);
    suite_add_tcase(s, request);
    return s;
}

ZAB_CHECK_MAIN(msg_suite)
