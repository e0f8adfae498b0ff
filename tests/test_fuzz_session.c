/*
 * test_fuzz_session.c - runs the session layer fuzz target over a seeded
 * corpus: records captured between ZooKeeper 3.8's clients and server (and
 * a few built by hand), each mutated many times by a seeded generator (bit
 * flips, truncations, length and count fields overwritten with huge or
 * negative values, insertions, deletions, duplicated slices).
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
#include "fuzz/fuzz_session.c"

#include "fuzz_harness.h"

static void watch_crashes(void)
{
    fuzz_name = "fuzz_session";
    fuzz_watch_crashes();
}

enum { FUZZ_MAX_INPUT = 1024, FUZZ_ROUNDS = 2000 };

/* ------------------------------------------------------------------------ */
/* The corpus                                                                */
/* ------------------------------------------------------------------------ */

typedef struct fuzz_seed {
    uint8_t bytes[FUZZ_MAX_INPUT];
    size_t len;
} fuzz_seed;

static const struct {
    enum fuzz_record record;
    const char *hex;
} seeds[] = {
    /* The Java client's handshakes: new, and resuming with zxid 3. */
    { FUZZ_CONNECT, "00000000 0000000000000000 00007530 0000000000000000 00000010 "
                    "00000000000000000000000000000000 00" },
    { FUZZ_CONNECT, "00000000 0000000000000003 00007530 010000ae1ea70000 00000010 "
                    "8b010b52bcbbcb94e1a2ba2665c8db06 00" },
    /* An old client's (no readOnly), and a null password. */
    { FUZZ_CONNECT, "00000000 0000000000000000 00007530 0000000000000000 00000010 "
                    "00000000000000000000000000000000" },
    { FUZZ_CONNECT, "00000000 0000000000000000 00007530 0000000000000001 ffffffff 01" },
    /* The server's replies: normal, to an old client, expired. */
    { FUZZ_CONNECT_REPLY, "00000000 00007530 010000ae1ea70000 00000010 "
                          "8b010b52bcbbcb94e1a2ba2665c8db06 00" },
    { FUZZ_CONNECT_REPLY, "00000000 00007530 010000ae1ea70002 00000010 "
                          "65bf16527c240d0bf71ceccfbeb6b26c" },
    { FUZZ_CONNECT_REPLY, "00000000 00000000 0000000000000000 00000010 "
                          "00000000000000000000000000000000 00" },
    /* Headers: getData with its body, a ping, a reply with a body. */
    { FUZZ_REQUEST_HEADER, "00000007 00000004 00000002 2f61 01" },
    { FUZZ_REQUEST_HEADER, "fffffffe 0000000b" },
    { FUZZ_REPLY_HEADER, "00000003 0000000000000003 00000000 00000001 00000002 6970 "
                         "00000009 3132372e302e302e31" },
    /* Notifications: 3.8's (zxid -1) and one with a zxid. */
    { FUZZ_EVENT, "ffffffff ffffffffffffffff 00000000 00000003 00000003 00000002 2f61" },
    { FUZZ_EVENT, "ffffffff 0000000200000007 00000000 00000001 00000003 00000004 2f782f79" },
    /* The C client's SetWatches and the Java client's SetWatches2. */
    { FUZZ_SET_WATCHES, "0000000000000006 00000001 00000002 2f61 00000001 00000009 "
                        "2f6e6f6e6578697374 00000001 00000002 2f63" },
    { FUZZ_SET_WATCHES2, "0000000000000003 00000001 00000002 2f61 00000001 00000009 "
                         "2f6e6f6e6578697374 00000001 00000002 2f63 00000000 00000002 "
                         "00000002 2f70 00000002 2f72" },
    { FUZZ_SET_WATCHES2, "0000000000000000 00000000 00000000 00000000 00000000 00000000" },
    /* addauth digest user:pw, and nulls. */
    { FUZZ_AUTH, "00000000 00000006 646967657374 00000007 757365723a7077" },
    { FUZZ_AUTH, "00000000 ffffffff ffffffff" },
};
enum { NSEEDS = sizeof seeds / sizeof seeds[0] };

static void build_seed(size_t k, fuzz_seed *seed)
{
    seed->bytes[0] = (uint8_t)seeds[k].record;
    seed->len = 1;
    int half = -1;
    for (const char *s = seeds[k].hex; *s; s++) {
        if (*s == ' ') continue;
        int v = *s <= '9' ? *s - '0' : *s - 'a' + 10;
        if (half < 0) {
            half = v;
        } else {
            ck_assert_uint_lt(seed->len, sizeof seed->bytes);
            seed->bytes[seed->len++] = (uint8_t)(half << 4 | v);
            half = -1;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Mutations                                                                 */
/* ------------------------------------------------------------------------ */

/* Insert k bytes at offset at, unless the input would outgrow its buffer. */
static void mutate_once(uint64_t *rng, uint8_t *b, size_t *len)
{
    static const uint32_t lengths[] = { 0x7fffffffu, 0xffffffffu, 0xfffffffeu,
                                        0x80000000u, 0x0fffffffu, 0x00010000u,
                                        0, 1, 2, 4, 16 };
    /* Leave the record selector alone most of the time. */
    fuzz_mutate(rng, b, len, FUZZ_MAX_INPUT, 1, lengths, sizeof lengths / sizeof lengths[0]);
}

static void fuzz_run(const uint8_t *b, size_t len, uint64_t seed)
{
    fuzz_current_seed = seed;
    const char *why = zab_fuzz_session_check(b, len);
    if (why) fuzz_fail(seed, why, b, len);
}

/* A case's seed names its corpus entry (bits 16-31) and round (bits 0-15). */
static uint64_t case_seed(size_t k, uint32_t round)
{
    return 0x73657373ULL << 32 ^ (uint64_t)k << 16 ^ round;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_seeds_decode)
{
    /* Unmutated, every seed decodes (and round-trips in the target). */
    fuzz_seed seed;
    build_seed((size_t)_i, &seed);
    const uint8_t *b = seed.bytes + 1;
    size_t len = seed.len - 1;
    zab_buf scratch = { 0 };
    int rc;
    switch (seeds[_i].record) {
    case FUZZ_CONNECT: {
        zab_zk_connect req;
        rc = zab_zk_decode_connect(b, len, &req);
        break;
    }
    case FUZZ_CONNECT_REPLY: {
        zab_zk_connect_reply rsp;
        rc = zab_zk_decode_connect_reply(b, len, &rsp);
        break;
    }
    case FUZZ_REQUEST_HEADER:
    case FUZZ_REPLY_HEADER: {
        int32_t xid, op, err;
        int64_t zxid;
        size_t at;
        rc = seeds[_i].record == FUZZ_REQUEST_HEADER
                 ? zab_zk_decode_request_header(b, len, &xid, &op, &at)
                 : zab_zk_decode_reply_header(b, len, &xid, &zxid, &err, &at);
        break;
    }
    case FUZZ_EVENT: {
        zab_event ev;
        rc = zab_zk_decode_event(b, len, &ev);
        break;
    }
    case FUZZ_SET_WATCHES:
    case FUZZ_SET_WATCHES2: {
        zab_zk_set_watches sw;
        rc = zab_zk_decode_set_watches(seeds[_i].record == FUZZ_SET_WATCHES
                                           ? ZAB_OP_SET_WATCHES : ZAB_OP_SET_WATCHES2,
                                       b, len, &sw, &scratch);
        break;
    }
    default: {
        zab_zk_auth auth;
        rc = zab_zk_decode_auth(b, len, &auth);
        break;
    }
    }
    ck_assert_msg(rc == 0, "seed %d does not decode: %d", _i, rc);
    zab_buf_free(&scratch);
    fuzz_run(seed.bytes, seed.len, case_seed((size_t)_i, 0));
}
END_TEST

START_TEST(test_mutations)
{
    for (uint32_t round = 1; round <= FUZZ_ROUNDS; round++) {
        fuzz_seed seed;
        build_seed((size_t)_i, &seed);
        uint64_t s = case_seed((size_t)_i, round);
        uint64_t rng = s;
        int n = 1 + (int)fuzz_below(&rng, 4);
        for (int i = 0; i < n; i++) mutate_once(&rng, seed.bytes, &seed.len);
        fuzz_run(seed.bytes, seed.len, s);
    }
}
END_TEST

START_TEST(test_short_inputs)
{
    /* Every record with bodies of up to two bytes, all values. */
    uint8_t b[3];
    for (uint8_t which = 0; which < FUZZ_NRECORDS; which++) {
        b[0] = which;
        fuzz_run(b, 1, which);
        for (unsigned v = 0; v < 256; v++) {
            b[1] = (uint8_t)v;
            fuzz_run(b, 2, (uint64_t)which << 32 | v << 8 | 2);
            for (unsigned w = 0; w < 256; w += 17) {
                b[2] = (uint8_t)w;
                fuzz_run(b, 3, (uint64_t)which << 32 | v << 16 | w << 8 | 3);
            }
        }
    }
    /* No selector: ignored. */
    ck_assert_ptr_null(zab_fuzz_session_check(b, 0));
}
END_TEST

static Suite *fuzz_session_suite(void)
{
    Suite *s = suite_create("fuzz_session");
    TCase *tc = tcase_create("corpus");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, watch_crashes, NULL);
    tcase_add_loop_test(tc, test_seeds_decode, 0, NSEEDS);
    tcase_add_loop_test(tc, test_mutations, 0, NSEEDS);
    tcase_add_test(tc, test_short_inputs);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(fuzz_session_suite)
