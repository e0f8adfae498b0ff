/*
 * test_fuzz_request.c - runs the request fuzz target over a seeded corpus:
 * a valid encoding of every request kind, each mutated many times by a
 * seeded generator (bit flips, truncations, length fields overwritten with
 * huge or negative values, insertions, deletions, duplicated slices).
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
#include "fuzz/fuzz_request.c"

#include "fuzz_harness.h"

static void watch_crashes(void)
{
    fuzz_name = "fuzz_request";
    fuzz_watch_crashes();
}

enum { FUZZ_MAX_INPUT = 4096, FUZZ_ROUNDS = 1000 };

/* ------------------------------------------------------------------------ */
/* The corpus: one valid request of every kind, built with the encoder      */
/* ------------------------------------------------------------------------ */

typedef struct fuzz_seed {
    uint8_t bytes[FUZZ_MAX_INPUT];
    size_t len;
} fuzz_seed;

static const zab_acl seed_acls[2] = {
    { ZAB_PERM_ALL, { { "world", 5 }, { "anyone", 6 } } },
    { ZAB_PERM_READ, { { "digest", 6 }, { "u:h", 3 } } },
};

static zab_op seed_op(int32_t type)
{
    zab_op op = { 0 };
    op.type = type;
    op.path = ZAB_STR("/fuzz/a");
    op.ttl = -1;
    op.version = 3;
    op.watch = 1;
    switch (type) {
    case ZAB_OP_CREATE: case ZAB_OP_CREATE2: case ZAB_OP_CREATE_CONTAINER:
    case ZAB_OP_CREATE_TTL: case ZAB_OP_SET_ACL:
        op.acl = seed_acls;
        op.nacl = 2;
        break;
    default:
        break;
    }
    switch (type) {
    case ZAB_OP_CREATE: case ZAB_OP_CREATE2: case ZAB_OP_SET_DATA:
        op.data = "payload";
        op.data_len = 7;
        op.flags = ZAB_EPHEMERAL_SEQUENTIAL;
        break;
    case ZAB_OP_CREATE_CONTAINER:
        op.data_len = -1;
        op.flags = ZAB_CONTAINER;
        break;
    case ZAB_OP_CREATE_TTL:
        op.data = "";
        op.flags = ZAB_PERSISTENT_WITH_TTL;
        op.ttl = 60000;
        break;
    case ZAB_OP_CHECK_WATCHES: case ZAB_OP_REMOVE_WATCHES:
        op.flags = ZAB_WATCHER_ANY;
        break;
    case ZAB_OP_ADD_WATCH:
        op.flags = ZAB_WATCH_PERSISTENT_RECURSIVE;
        break;
    case ZAB_OP_PING: case ZAB_OP_CLOSE_SESSION: case ZAB_OP_WHO_AM_I:
        op.path = (zab_str){ NULL, 0 };
        break;
    default:
        break;
    }
    return op;
}

static size_t fuzz_index_of(int32_t opcode)
{
    for (size_t i = 0; i < FUZZ_NOPCODES; i++)
        if (fuzz_opcodes[i] == opcode) return i;
    ck_abort_msg("opcode %d is not in the fuzz table", (int)opcode);
    return 0;
}

static void seed_from_request(fuzz_seed *seed, const zab_request *req)
{
    zab_buf body = { 0 };
    ck_assert_int_eq(zab_zk_encode_request(req, &body), 0);
    ck_assert_uint_le(body.len + 4, sizeof seed->bytes);
    uint32_t idx = (uint32_t)fuzz_index_of(req->type);
    seed->bytes[0] = (uint8_t)(idx >> 24);
    seed->bytes[1] = (uint8_t)(idx >> 16);
    seed->bytes[2] = (uint8_t)(idx >> 8);
    seed->bytes[3] = (uint8_t)idx;
    if (body.len) memcpy(seed->bytes + 4, body.data, body.len);
    seed->len = body.len + 4;
    zab_buf_free(&body);
}

static const int32_t seed_singles[] = {
    ZAB_OP_CREATE, ZAB_OP_CREATE2, ZAB_OP_CREATE_CONTAINER, ZAB_OP_CREATE_TTL,
    ZAB_OP_DELETE, ZAB_OP_EXISTS, ZAB_OP_GET_DATA, ZAB_OP_SET_DATA,
    ZAB_OP_GET_ACL, ZAB_OP_SET_ACL, ZAB_OP_GET_CHILDREN, ZAB_OP_SYNC,
    ZAB_OP_GET_CHILDREN2, ZAB_OP_CHECK, ZAB_OP_CHECK_WATCHES,
    ZAB_OP_REMOVE_WATCHES, ZAB_OP_DELETE_CONTAINER, ZAB_OP_GET_EPHEMERALS,
    ZAB_OP_GET_ALL_CHILDREN_NUMBER, ZAB_OP_ADD_WATCH, ZAB_OP_PING,
    ZAB_OP_CLOSE_SESSION, ZAB_OP_WHO_AM_I,
};
static const int32_t seed_writes[] = {
    ZAB_OP_CREATE, ZAB_OP_CREATE2, ZAB_OP_CREATE_CONTAINER, ZAB_OP_CREATE_TTL,
    ZAB_OP_DELETE, ZAB_OP_SET_DATA, ZAB_OP_CHECK,
};
static const int32_t seed_reads[] = { ZAB_OP_GET_DATA, ZAB_OP_GET_CHILDREN };

enum {
    NSINGLES = sizeof seed_singles / sizeof seed_singles[0],
    /* singles, a full multi, a multiRead, an empty multi, a refused opcode */
    NSEEDS = NSINGLES + 4
};

static void build_seed(size_t k, fuzz_seed *seed)
{
    zab_op ops[8];
    zab_request req = { 0 };
    req.ops = ops;
    if (k < NSINGLES) {
        ops[0] = seed_op(seed_singles[k]);
        req.type = seed_singles[k];
        req.nops = 1;
    } else if (k == NSINGLES) {
        req.type = ZAB_OP_MULTI;
        for (size_t i = 0; i < sizeof seed_writes / sizeof seed_writes[0]; i++)
            ops[req.nops++] = seed_op(seed_writes[i]);
    } else if (k == NSINGLES + 1) {
        req.type = ZAB_OP_MULTI_READ;
        ops[req.nops++] = seed_op(seed_reads[0]);
        ops[req.nops++] = seed_op(seed_reads[1]);
        ops[req.nops++] = seed_op(seed_reads[0]);
    } else if (k == NSINGLES + 2) {
        req.type = ZAB_OP_MULTI;
    } else {
        /* An auth packet's bytes under a refused opcode. */
        static const uint8_t auth[] = { 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 6, 'd', 'i',
                                        'g', 'e', 's', 't', 0, 0, 0, 3, 'u', ':', 'p' };
        uint32_t idx = (uint32_t)fuzz_index_of(ZAB_OP_AUTH);
        memcpy(seed->bytes, auth, sizeof auth);
        seed->bytes[3] = (uint8_t)idx;
        seed->len = sizeof auth;
        return;
    }
    seed_from_request(seed, &req);
}

/* ------------------------------------------------------------------------ */
/* Mutations                                                                 */
/* ------------------------------------------------------------------------ */

/* Insert k bytes at offset at, unless the input would outgrow its buffer. */
static void mutate_once(uint64_t *rng, uint8_t *b, size_t *len)
{
    static const uint32_t lengths[] = { 0x7fffffffu, 0xffffffffu, 0xfffffffeu,
                                        0x80000000u, 0x0fffffffu, 0x00010000u,
                                        0, 1, 2, 12 };
    /* Leave the opcode selector alone most of the time. */
    fuzz_mutate(rng, b, len, FUZZ_MAX_INPUT, 4, lengths, sizeof lengths / sizeof lengths[0]);
}

static void fuzz_run(const uint8_t *b, size_t len, uint64_t seed)
{
    fuzz_current_seed = seed;
    const char *why = zab_fuzz_request_check(b, len);
    if (why) fuzz_fail(seed, why, b, len);
}

/* A case's seed names its corpus entry (bits 16-31) and round (bits 0-15). */
static uint64_t case_seed(size_t k, uint32_t round)
{
    return 0x6a757465ULL << 32 ^ (uint64_t)k << 16 ^ round;
}

static void fuzz_case(size_t k, uint32_t round)
{
    fuzz_seed seed;
    build_seed(k, &seed);
    uint64_t s = case_seed(k, round);
    uint64_t rng = s;
    int n = 1 + (int)fuzz_below(&rng, 4);
    for (int i = 0; i < n; i++) mutate_once(&rng, seed.bytes, &seed.len);
    fuzz_run(seed.bytes, seed.len, s);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_seeds_decode)
{
    /* Unmutated, every seed but the refused one decodes and round-trips. */
    fuzz_seed seed;
    build_seed((size_t)_i, &seed);
    zab_buf scratch = { 0 };
    zab_request req;
    uint32_t idx = (uint32_t)seed.bytes[3];
    int rc = zab_zk_decode_request(fuzz_opcodes[idx], seed.bytes + 4, seed.len - 4, &req,
                                   &scratch);
    ck_assert_int_eq(rc, _i == NSEEDS - 1 ? ZAB_EUNIMPLEMENTED : 0);
    zab_buf_free(&scratch);
    fuzz_run(seed.bytes, seed.len, case_seed((size_t)_i, 0));
}
END_TEST

START_TEST(test_mutations)
{
    for (uint32_t round = 1; round <= FUZZ_ROUNDS; round++) fuzz_case((size_t)_i, round);
}
END_TEST

START_TEST(test_short_inputs)
{
    /* Every opcode with empty and tiny bodies. */
    uint8_t b[6];
    for (size_t which = 0; which < FUZZ_NOPCODES; which++) {
        put_be32(b, (uint32_t)which);
        for (size_t len = 4; len <= 6; len++) {
            size_t tails = (size_t)1 << (8 * (len - 4));
            for (size_t t = 0; t < tails; t += len == 6 ? 97 : 1) {
                if (len > 4) b[4] = (uint8_t)t;
                if (len > 5) b[5] = (uint8_t)(t >> 8);
                fuzz_run(b, len, (uint64_t)which << 32 | t << 8 | len);
            }
        }
    }
    /* Shorter than the selector: ignored. */
    ck_assert_ptr_null(zab_fuzz_request_check(b, 3));
}
END_TEST

static Suite *fuzz_request_suite(void)
{
    Suite *s = suite_create("fuzz_request");
    TCase *tc = tcase_create("corpus");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, watch_crashes, NULL);
    tcase_add_loop_test(tc, test_seeds_decode, 0, NSEEDS);
    tcase_add_loop_test(tc, test_mutations, 0, NSEEDS);
    tcase_add_test(tc, test_short_inputs);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(fuzz_request_suite)
