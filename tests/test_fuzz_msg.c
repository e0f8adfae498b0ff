/*
 * test_fuzz_msg.c - runs the peer message fuzz target over a seeded corpus:
 * a valid message of every type and a valid request payload of every kind,
 * each mutated many times by a seeded generator. Mutated messages are often
 * resealed (the CRC, or the body length and the CRC, recomputed) so the
 * parser behind the checksum is reached; mutated payloads are often wrapped
 * in a valid REQUEST message.
 *
 * Every case is reproducible from its printed seed. A violation the target
 * detects fails the test with the seed and the input in hex; a crash prints
 * the seed from a signal handler (or the sanitizers' death callback) first.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "fuzz/fuzz_msg.c"
#include "util/prim.h"

#include "fuzz_harness.h"

static void watch_crashes(void)
{
    fuzz_name = "fuzz_msg";
    fuzz_watch_crashes();
}

enum { FUZZ_MAX_INPUT = 2048, FUZZ_ROUNDS = 1500 };

/* ------------------------------------------------------------------------ */
/* The corpus                                                                */
/* ------------------------------------------------------------------------ */

typedef struct fuzz_input {
    uint8_t bytes[FUZZ_MAX_INPUT];
    size_t len;
} fuzz_input;

static void input_from(fuzz_input *in, const zab_buf *b)
{
    ck_assert_uint_le(b->len, sizeof in->bytes);
    memcpy(in->bytes, b->data, b->len);
    in->len = b->len;
}

static const zab_acl seed_acls[2] = {
    { ZAB_PERM_ALL, { { "world", 5 }, { "anyone", 6 } } },
    { ZAB_PERM_READ | ZAB_PERM_WRITE, { { "digest", 6 }, { "u:h", 3 } } },
};
static const zab_id seed_ids[2] = {
    { { "ip", 2 }, { "10.0.0.1", 8 } },
    { { "digest", 6 }, { "u:h", 3 } },
};
static const uint8_t seed_passwd[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0xff, 0x80, 0x7f,
                                         1, 2, 3 };

enum {
    NPAYLOADS = 10,
    NMESSAGES = ZAB_MSG_MAX_TYPE,
    /* every message type, every payload raw, every payload in a REQUEST */
    NSEEDS = NMESSAGES + 2 * NPAYLOADS
};

/* Payload k as a request; ops is room for its ops. */
static zab_request seed_request(size_t k, zab_op *ops)
{
    static const char *const paths[] = { "/m", "/m/1", "/m/2", "/n" };
    zab_request req = { 0 };
    req.session = (int64_t)(0x1000000000ULL * (k + 1) + k);
    req.auth = seed_ids;
    req.nauth = (uint32_t)(k % 3);
    req.ops = ops;
    switch (k) {
    case 0:
        memset(ops, 0, sizeof *ops);
        ops[0].type = ZAB_OP_CREATE_SESSION;
        ops[0].timeout = 4000;
        ops[0].data = seed_passwd;
        ops[0].data_len = 16;
        break;
    case 1:
        memset(ops, 0, sizeof *ops);
        ops[0].type = ZAB_OP_CLOSE_SESSION;
        break;
    case 2:
        ops[0] = zab_op_create("/a/b-", "data", 4, seed_acls, 2, ZAB_EPHEMERAL_SEQUENTIAL);
        break;
    case 3: ops[0] = zab_op_set_data("/a", "x", 1, 5); break;
    case 4: ops[0] = zab_op_delete("/a/b", -1); break;
    case 5: ops[0] = zab_op_set_acl("/a", seed_acls, 1, 2); break;
    case 6: ops[0] = zab_op_read(ZAB_OP_GET_DATA, "/a", 1); break;
    case 7:
        req.type = ZAB_OP_MULTI;
        for (uint32_t i = 0; i < 4; i++)
            ops[req.nops++] = zab_op_create(paths[i], "v", 1, seed_acls, 1, 0);
        ops[req.nops++] = zab_op_check("/m", 0);
        ops[req.nops++] = zab_op_set_data("/m/1", NULL, -1, -1);
        ops[req.nops++] = zab_op_delete("/n", 0);
        return req;
    case 8:
        req.type = ZAB_OP_MULTI_READ;
        ops[req.nops++] = zab_op_read(ZAB_OP_GET_DATA, "/x", 0);
        ops[req.nops++] = zab_op_read(ZAB_OP_GET_CHILDREN, "/y", 0);
        return req;
    default:
        req.type = ZAB_OP_MULTI; /* empty */
        return req;
    }
    req.type = ops[0].type;
    req.nops = 1;
    return req;
}

static void seed_payload(size_t k, zab_buf *out)
{
    zab_op ops[8];
    zab_request req = seed_request(k, ops);
    ck_assert_int_eq(zab_msg_request_encode(&req, out), 0);
}

static void wrap_request(const uint8_t *payload, size_t len, uint32_t seq, zab_buf *out)
{
    zab_msg m = { 0 };
    m.type = ZAB_MSG_REQUEST;
    m.seq = seq;
    m.cookie = 0xfeedfacecafebeefULL;
    m.data = payload;
    m.len = (uint32_t)len;
    ck_assert_int_eq(zab_msg_encode(&m, out), 0);
}

/* A message of type with every carried field set and a short payload. */
static void seed_message(int type, zab_buf *out)
{
    zab_msg m = { 0 };
    m.type = (uint8_t)type;
    m.seq = 0x01020304u;
    m.state = ZAB_FOLLOWING;
    m.flags = 1;
    m.err = ZAB_ETHROTTLED;
    m.leader = 3;
    m.zxid = ZAB_ZXID(2, 7);
    m.round = 11;
    m.epoch = 2;
    m.origin = 5;
    m.cookie = 77;
    m.offset = 4096;
    m.data = "opaque";
    m.len = 6;
    /* Clear what the type does not carry, by decoding its own encoding. */
    zab_buf tmp = { 0 };
    ck_assert_int_eq(zab_msg_encode(&m, &tmp), 0);
    zab_msg clean;
    ck_assert_int_eq(zab_msg_decode(tmp.data, tmp.len, FUZZ_MSG_MAX, &clean), 0);
    ck_assert_int_eq(zab_msg_encode(&clean, out), 0);
    zab_buf_free(&tmp);
}

static int seed_is_payload(size_t k)
{
    return k >= NMESSAGES;
}

static void build_seed(size_t k, fuzz_input *in)
{
    zab_buf b = { 0 };
    if (k < NMESSAGES) {
        seed_message((int)k + 1, &b);
    } else if (k < NMESSAGES + NPAYLOADS) {
        seed_payload(k - NMESSAGES, &b);
    } else {
        zab_buf p = { 0 };
        seed_payload(k - NMESSAGES - NPAYLOADS, &p);
        wrap_request(p.data, p.len, (uint32_t)k, &b);
        zab_buf_free(&p);
    }
    input_from(in, &b);
    zab_buf_free(&b);
}

/* ------------------------------------------------------------------------ */
/* Mutations                                                                 */
/* ------------------------------------------------------------------------ */

static void insert_bytes(uint8_t *b, size_t *len, size_t at, const uint8_t *src, size_t k)
{
    size_t n = *len;
    if (at > n || k > FUZZ_MAX_INPUT - n) return;
    memmove(b + at + k, b + at, n - at);
    memcpy(b + at, src, k);
    *len = n + k;
}

static void mutate_once(uint64_t *rng, uint8_t *b, size_t *len)
{
    static const uint32_t values[] = { 0x7fffffffu, 0xffffffffu, 0xfffffffeu, 0x80000000u,
                                       0x00100000u, 0x00100001u, 0, 1, 3, 16 };
    size_t n = *len;
    switch (fuzz_below(rng, 7)) {
    case 0: /* flip a bit */
        if (n) b[fuzz_below(rng, n)] ^= (uint8_t)(1u << fuzz_below(rng, 8));
        break;
    case 1: /* truncate */
        *len = fuzz_below(rng, n + 1);
        break;
    case 2: /* overwrite a would-be length, count or type */
        if (n >= 4) {
            size_t at = fuzz_below(rng, n - 3);
            uint32_t v = values[fuzz_below(rng, sizeof values / sizeof values[0])];
            if (fuzz_below(rng, 4) == 0) v = (uint32_t)(n - at - 4 + fuzz_below(rng, 3));
            put_be32(b + at, v);
        }
        break;
    case 3: /* insert random bytes */
    {
        uint8_t tmp[8];
        size_t k = 1 + fuzz_below(rng, sizeof tmp);
        for (size_t i = 0; i < k; i++) tmp[i] = (uint8_t)fuzz_next(rng);
        insert_bytes(b, len, fuzz_below(rng, n + 1), tmp, k);
        break;
    }
    case 4: /* delete a range */
        if (n) {
            size_t at = fuzz_below(rng, n);
            size_t k = 1 + fuzz_below(rng, n - at);
            memmove(b + at, b + at + k, n - at - k);
            *len = n - k;
        }
        break;
    case 5: /* duplicate a slice (repeats identities, multi sub-ops) */
        if (n) {
            size_t from = fuzz_below(rng, n);
            size_t k = 1 + fuzz_below(rng, n - from);
            uint8_t tmp[FUZZ_MAX_INPUT];
            memcpy(tmp, b + from, k);
            insert_bytes(b, len, fuzz_below(rng, n + 1), tmp, k);
        }
        break;
    default: /* a boundary byte: versions, types, states */
        if (n) {
            static const uint8_t bytes[] = { 0, 1, 2, 3, 4, 18, 19, 0x7f, 0x80, 0xff };
            b[fuzz_below(rng, n)] = bytes[fuzz_below(rng, sizeof bytes)];
        }
        break;
    }
}

/* Make a mutated message get past the checks a forger could satisfy: the
 * CRC (mode 1), or the body length and the CRC (mode 2). */
static void reseal(uint8_t *b, size_t len, size_t mode)
{
    if (mode == 2 && len >= ZAB_MSG_HEADER + ZAB_MSG_TRAILER)
        put_be32(b + 6, (uint32_t)(len - ZAB_MSG_HEADER - ZAB_MSG_TRAILER));
    if (mode >= 1 && len >= ZAB_MSG_TRAILER)
        put_be32(b + len - ZAB_MSG_TRAILER, zab_crc32c(0, b, len - ZAB_MSG_TRAILER));
}

static void fuzz_run(const uint8_t *b, size_t len, uint64_t seed)
{
    fuzz_current_seed = seed;
    const char *why = zab_fuzz_msg_check(b, len);
    if (why) fuzz_fail(seed, why, b, len);
}

/* A case's seed names its corpus entry (bits 16-31) and round (bits 0-15). */
static uint64_t case_seed(size_t k, uint32_t round)
{
    return 0x7a61626dULL << 32 ^ (uint64_t)k << 16 ^ round;
}

static void fuzz_case(size_t k, uint32_t round)
{
    fuzz_input in;
    build_seed(k, &in);
    uint64_t s = case_seed(k, round);
    uint64_t rng = s;
    int n = 1 + (int)fuzz_below(&rng, 3);
    for (int i = 0; i < n; i++) mutate_once(&rng, in.bytes, &in.len);
    if (seed_is_payload(k) && fuzz_below(&rng, 2)) {
        /* A mutated payload in a sound envelope: the payload decoder is
         * reached through the message decoder. */
        zab_buf b = { 0 };
        wrap_request(in.bytes, in.len, round, &b);
        input_from(&in, &b);
        zab_buf_free(&b);
    } else {
        reseal(in.bytes, in.len, fuzz_below(&rng, 3));
    }
    fuzz_run(in.bytes, in.len, s);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_seeds_decode)
{
    /* Unmutated, every seed decodes as what it is, and passes the target. */
    fuzz_input in;
    size_t k = (size_t)_i;
    build_seed(k, &in);
    zab_msg m;
    int rc = zab_msg_decode(in.bytes, in.len, FUZZ_MSG_MAX, &m);
    if (k < NMESSAGES) {
        ck_assert_int_eq(rc, 0);
        ck_assert_uint_eq(m.type, k + 1);
    } else {
        const uint8_t *payload = in.bytes;
        size_t len = in.len;
        if (k >= NMESSAGES + NPAYLOADS) {
            ck_assert_int_eq(rc, 0);
            ck_assert_uint_eq(m.type, ZAB_MSG_REQUEST);
            payload = m.data;
            len = m.len;
        }
        zab_buf scratch = { 0 };
        zab_request req;
        ck_assert_int_eq(zab_msg_request_decode(payload, len, &req, &scratch), 0);
        zab_buf_free(&scratch);
    }
    fuzz_run(in.bytes, in.len, case_seed(k, 0));
}
END_TEST

START_TEST(test_mutations)
{
    for (uint32_t round = 1; round <= FUZZ_ROUNDS; round++) fuzz_case((size_t)_i, round);
}
END_TEST

START_TEST(test_short_inputs)
{
    /* Every input of up to two bytes, and headers of every version and type
     * with an empty body, sealed. */
    uint8_t b[ZAB_MSG_HEADER + ZAB_MSG_TRAILER];
    for (size_t len = 0; len <= 2; len++)
        for (uint32_t v = 0; v < (1u << (8 * len)); v++) {
            b[0] = (uint8_t)v;
            b[1] = (uint8_t)(v >> 8);
            fuzz_run(b, len, v << 8 | len);
        }
    for (uint32_t vt = 0; vt < 0x10000; vt += vt < 0x200 ? 1 : 251) {
        memset(b, 0, sizeof b);
        b[0] = (uint8_t)(vt >> 8);
        b[1] = (uint8_t)vt;
        reseal(b, sizeof b, 1);
        fuzz_run(b, sizeof b, 0x100000000ULL | vt);
    }
}
END_TEST

static Suite *fuzz_msg_suite(void)
{
    Suite *s = suite_create("fuzz_msg");
    TCase *tc = tcase_create("corpus");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, watch_crashes, NULL);
    tcase_add_loop_test(tc, test_seeds_decode, 0, NSEEDS);
    tcase_add_loop_test(tc, test_mutations, 0, NSEEDS);
    tcase_add_test(tc, test_short_inputs);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(fuzz_msg_suite)
