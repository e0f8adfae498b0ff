/*
 * test_prim.c - CRC-32C, the 64-bit hash, zab_buf, zab_str_c and
 * zab_strerror.
 */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "util/prim.h"
#include "zab.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

/* splitmix64: a reproducible stream of test inputs. */
static uint64_t next_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void fill_rand(uint8_t *out, size_t len, uint64_t *state)
{
    for (size_t i = 0; i < len; i++) out[i] = (uint8_t)next_rand(state);
}

/* CRC-32C one bit at a time, straight from the definition. */
static uint32_t crc32c_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (crc & 1 ? 0x82F63B78u : 0);
    }
    return ~crc;
}

/* How many of the n values repeat an earlier one (an open-addressing set;
 * the values are hashes, so their top bits index it well). */
static size_t count_repeats(const uint64_t *v, size_t n)
{
    int bits = 4;
    while (((size_t)1 << bits) < 2 * n) bits++;
    size_t mask = ((size_t)1 << bits) - 1, repeats = 0;
    uint64_t *slot = calloc(mask + 1, sizeof *slot);
    uint8_t *full = calloc(mask + 1, 1);
    ck_assert_ptr_nonnull(slot);
    ck_assert_ptr_nonnull(full);
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)(v[i] >> (64 - bits));
        while (full[k] && slot[k] != v[i]) k = (k + 1) & mask;
        if (full[k]) repeats++;
        full[k] = 1;
        slot[k] = v[i];
    }
    free(slot);
    free(full);
    return repeats;
}

/* ------------------------------------------------------------------------ */
/* CRC-32C                                                                   */
/* ------------------------------------------------------------------------ */

static uint32_t crc_str(const char *s)
{
    return zab_crc32c(0, s, strlen(s));
}

START_TEST(crc_check_value)
{
    ck_assert_uint_eq(crc_str("123456789"), 0xE3069283u);
    ck_assert_uint_eq(crc_str(""), 0);
    ck_assert_uint_eq(crc_str("a"), 0xC1D04330u);
    ck_assert_uint_eq(crc_str("The quick brown fox jumps over the lazy dog"),
                      0x22620404u);
    ck_assert_uint_eq(zab_crc32c(0, NULL, 0), 0);
    ck_assert_uint_eq(zab_crc32c(0x12345678u, NULL, 0), 0x12345678u);
}
END_TEST

/* The test vectors of RFC 3720 (iSCSI), appendix B.4. */
START_TEST(crc_iscsi_vectors)
{
    uint8_t b[48];

    memset(b, 0, 32);
    ck_assert_uint_eq(zab_crc32c(0, b, 32), 0x8A9136AAu);
    memset(b, 0xff, 32);
    ck_assert_uint_eq(zab_crc32c(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) b[i] = (uint8_t)i;
    ck_assert_uint_eq(zab_crc32c(0, b, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++) b[i] = (uint8_t)(31 - i);
    ck_assert_uint_eq(zab_crc32c(0, b, 32), 0x113FDB5Cu);

    static const uint8_t read_pdu[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    ck_assert_uint_eq(zab_crc32c(0, read_pdu, sizeof read_pdu), 0xD9963A56u);
}
END_TEST

START_TEST(crc_chains_at_every_split)
{
    uint8_t b[200];
    uint64_t rs = 1;
    fill_rand(b, sizeof b, &rs);
    uint32_t whole = zab_crc32c(0, b, sizeof b);
    ck_assert_uint_eq(whole, crc32c_bitwise(0, b, sizeof b));
    for (size_t k = 0; k <= sizeof b; k++) {
        uint32_t c = zab_crc32c(zab_crc32c(0, b, k), b + k, sizeof b - k);
        ck_assert_uint_eq(c, whole);
    }
    /* Three pieces, including empty ones. */
    uint32_t c = zab_crc32c(0, b, 13);
    c = zab_crc32c(c, b + 13, 0);
    c = zab_crc32c(c, b + 13, 100);
    c = zab_crc32c(c, b + 113, sizeof b - 113);
    ck_assert_uint_eq(c, whole);
}
END_TEST

/* Every length across the 8-byte stride, at every start alignment. */
START_TEST(crc_unaligned_starts)
{
    uint8_t src[300], shifted[300 + 8];
    uint64_t rs = 2;
    fill_rand(src, sizeof src, &rs);
    for (size_t len = 0; len <= 70; len++) {
        uint32_t want = crc32c_bitwise(0, src, len);
        for (size_t off = 0; off < 8; off++) {
            memcpy(shifted + off, src, len);
            ck_assert_uint_eq(zab_crc32c(0, shifted + off, len), want);
        }
    }
    for (size_t off = 0; off < 8; off++) {
        memcpy(shifted + off, src, sizeof src);
        ck_assert_uint_eq(zab_crc32c(0, shifted + off, sizeof src),
                          crc32c_bitwise(0, src, sizeof src));
    }
}
END_TEST

/* Every byte value goes through every table. */
START_TEST(crc_matches_definition)
{
    uint8_t b[16];
    for (int v = 0; v < 256; v++) {
        for (size_t pos = 0; pos < sizeof b; pos++) {
            memset(b, 0x5a, sizeof b);
            b[pos] = (uint8_t)v;
            ck_assert_uint_eq(zab_crc32c(0x1234u, b, sizeof b),
                              crc32c_bitwise(0x1234u, b, sizeof b));
        }
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* zab_hash64                                                                */
/* ------------------------------------------------------------------------ */

START_TEST(hash_deterministic_and_alignment_free)
{
    uint8_t src[200], shifted[200 + 8];
    uint64_t rs = 3;
    fill_rand(src, sizeof src, &rs);
    size_t mismatches = 0;
    for (size_t len = 0; len <= sizeof src; len++) {
        uint64_t want = zab_hash64(src, len, 42);
        mismatches += zab_hash64(src, len, 42) != want;
        for (size_t off = 1; off < 8; off++) {
            memcpy(shifted + off, src, len);
            mismatches += zab_hash64(shifted + off, len, 42) != want;
        }
    }
    ck_assert_uint_eq(mismatches, 0);
    ck_assert_uint_eq(zab_hash64(NULL, 0, 7), zab_hash64("", 0, 7));
}
END_TEST

/* Bytes outside [0, len) must not matter, and every length is distinct. */
START_TEST(hash_reads_only_len_bytes)
{
    uint8_t a[80], b[80];
    memset(a, 0, sizeof a);
    memset(b, 0xff, sizeof b);
    uint64_t seen[65];
    for (size_t len = 0; len <= 64; len++) {
        memset(a, 'x', len);
        memset(b, 'x', len);
        ck_assert_uint_eq(zab_hash64(a, len, 0), zab_hash64(b, len, 0));
        seen[len] = zab_hash64(a, len, 0);
    }
    ck_assert_uint_eq(count_repeats(seen, 65), 0);
    /* A trailing NUL is data, not a terminator. */
    ck_assert_uint_ne(zab_hash64("abc", 3, 0), zab_hash64("abc", 4, 0));
}
END_TEST

/* Hash n inputs made by gen(i) and check that all 64-bit values differ and
 * that the low 20 bits (a 1M-slot table) collide about as often as random
 * values would. */
typedef size_t (*gen_fn)(uint32_t i, uint8_t *out, uint64_t *rs);

static void check_spread(const char *what, gen_fn gen, uint32_t n, uint64_t seed)
{
    enum { BITS = 20 };
    const uint32_t slots = 1u << BITS;
    uint8_t *used = calloc(slots, 1);
    uint64_t *all = malloc(n * sizeof *all);
    ck_assert_ptr_nonnull(used);
    ck_assert_ptr_nonnull(all);
    uint64_t rs = 99;
    uint32_t collisions = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t in[64];
        size_t len = gen(i, in, &rs);
        uint64_t h = zab_hash64(in, len, seed);
        all[i] = h;
        uint32_t slot = (uint32_t)h & (slots - 1);
        if (used[slot]) collisions++;
        used[slot] = 1;
    }
    size_t repeats = count_repeats(all, n);
    ck_assert_msg(repeats == 0, "%s: %zu 64-bit collisions", what, repeats);
    /* Throwing n balls into m bins leaves n - m(1 - (1 - 1/m)^n) collisions
     * on average, with a spread of about its square root. */
    double m = slots;
    double expected = n - m * (1.0 - pow(1.0 - 1.0 / m, n));
    double bound = expected + 6.0 * sqrt(expected) + 5.0;
    ck_assert_msg(collisions <= bound, "%s: %u collisions in the low %d bits, "
                  "random values give %.0f", what, collisions, BITS, expected);
    free(used);
    free(all);
}

static size_t gen_decimal(uint32_t i, uint8_t *out, uint64_t *rs)
{
    return (size_t)snprintf((char *)out, 64, "%u", i);
}

/* The names ZooKeeper gives sequential nodes. */
static size_t gen_sequential(uint32_t i, uint8_t *out, uint64_t *rs)
{
    return (size_t)snprintf((char *)out, 64, "lock-%010u", i);
}

static size_t gen_long_prefix(uint32_t i, uint8_t *out, uint64_t *rs)
{
    return (size_t)snprintf((char *)out, 64,
                            "/services/frontend/members/%08x-instance", i);
}

static size_t gen_random(uint32_t i, uint8_t *out, uint64_t *rs)
{
    size_t len = 5 + next_rand(rs) % 26;
    fill_rand(out, len, rs);
    /* i in the first bytes keeps every input distinct. */
    memcpy(out, &i, sizeof i);
    return len;
}

/* 32 zero bytes with one bit set (the first 256 inputs) or two: inputs
 * that differ minimally. */
static size_t gen_sparse_bits(uint32_t i, uint8_t *out, uint64_t *rs)
{
    uint32_t a = i, b = 256;
    if (i >= 256) {
        /* The (i - 256)th pair a < b, in order of b. */
        uint32_t j = i - 256;
        for (b = 1; j >= b; b++) j -= b;
        a = j;
    }
    memset(out, 0, 32);
    out[a / 8] |= (uint8_t)(1u << (a % 8));
    if (b < 256) out[b / 8] |= (uint8_t)(1u << (b % 8));
    return 32;
}

START_TEST(hash_spreads_names)
{
    check_spread("decimal", gen_decimal, 50000, 0);
    check_spread("sequential", gen_sequential, 50000, 0);
    check_spread("sequential, seeded", gen_sequential, 50000, 12345);
    check_spread("long prefix", gen_long_prefix, 50000, 0);
    check_spread("random", gen_random, 50000, 0);
    check_spread("sparse bits", gen_sparse_bits, 256 + 256 * 255 / 2, 0);
}
END_TEST

/* Every rate flips[row * 64 + out] / samples lies strictly inside (lo, hi). */
static void check_flip_rates(const char *what, const uint32_t *flips, size_t rows,
                             int samples, double lo, double hi)
{
    for (size_t row = 0; row < rows; row++) {
        for (int out = 0; out < 64; out++) {
            double p = flips[row * 64 + (size_t)out] / (double)samples;
            if (p > lo && p < hi) continue;
            ck_abort_msg("%s: input bit %zu flips output bit %d with p=%.3f",
                         what, row, out, p);
        }
    }
}

/* Strict avalanche: flipping any one input bit flips each output bit with
 * probability 1/2. Each sample draws a fresh input and seed (short inputs
 * have too few values to sample otherwise). With 300 samples per (input
 * bit, output bit) pair the standard deviation is 0.029, so [0.35, 0.65] is
 * over five of them. */
static void check_avalanche(size_t len)
{
    enum { SAMPLES = 300 };
    uint32_t *flips = calloc(len * 8 * 64, sizeof *flips);
    ck_assert_ptr_nonnull(flips);
    uint64_t rs = 1000 + len;
    uint8_t in[128];
    for (int s = 0; s < SAMPLES; s++) {
        fill_rand(in, len, &rs);
        uint64_t seed = next_rand(&rs);
        uint64_t h = zab_hash64(in, len, seed);
        for (size_t bit = 0; bit < len * 8; bit++) {
            in[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            uint64_t d = h ^ zab_hash64(in, len, seed);
            in[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            for (; d; d &= d - 1) flips[bit * 64 + (size_t)__builtin_ctzll(d)]++;
        }
    }
    char what[32];
    snprintf(what, sizeof what, "length %zu", len);
    check_flip_rates(what, flips, len * 8, SAMPLES, 0.35, 0.65);
    free(flips);
}

START_TEST(hash_avalanche)
{
    static const size_t lens[] = { 1, 3, 5, 8, 13, 16, 24, 33, 64 };
    check_avalanche(lens[_i]);
}
END_TEST

START_TEST(hash_seed_changes_everything)
{
    uint64_t rs = 5;
    uint8_t in[40];
    size_t same = 0;
    for (int s = 0; s < 2000; s++) {
        size_t len = (size_t)s % sizeof in;
        fill_rand(in, len, &rs);
        uint64_t h0 = zab_hash64(in, len, 0);
        same += h0 == zab_hash64(in, len, 1);
        same += h0 == zab_hash64(in, len, UINT64_C(1) << 63);
        same += zab_hash64(in, len, 1) == zab_hash64(in, len, 2);
    }
    ck_assert_uint_eq(same, 0);
    /* Each seed bit avalanches like an input bit. */
    enum { SAMPLES = 500 };
    static uint32_t flips[64][64];
    memset(flips, 0, sizeof flips);
    for (int s = 0; s < SAMPLES; s++) {
        size_t len = 1 + (size_t)s % 30;
        fill_rand(in, len, &rs);
        uint64_t seed = next_rand(&rs);
        uint64_t h = zab_hash64(in, len, seed);
        for (int bit = 0; bit < 64; bit++) {
            uint64_t d = h ^ zab_hash64(in, len, seed ^ (UINT64_C(1) << bit));
            for (; d; d &= d - 1) flips[bit][__builtin_ctzll(d)]++;
        }
    }
    check_flip_rates("seed", &flips[0][0], 64, SAMPLES, 0.38, 0.62);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* zab_buf and zab_str                                                       */
/* ------------------------------------------------------------------------ */

START_TEST(buf_empty_appends)
{
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_buf_append(&b, NULL, 0), 0);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(zab_buf_reserve(&b, 0), 0);
    ck_assert_uint_eq(b.len, 0);
    zab_buf_free(&b);
    zab_buf_free(&b); /* freeing a freed (zeroed) buffer is harmless */
    ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(buf_grows_by_doubling)
{
    zab_buf b = { 0 };
    static uint8_t want[100000];
    size_t grows = 0, last_cap = 0, failures = 0, short_growths = 0;
    for (size_t i = 0; i < sizeof want; i++) {
        want[i] = (uint8_t)(i * 31);
        failures += zab_buf_append(&b, &want[i], 1) != 0;
        failures += b.len > b.cap;
        if (b.cap != last_cap) {
            short_growths += last_cap && b.cap < 2 * last_cap;
            last_cap = b.cap;
            grows++;
        }
    }
    ck_assert_uint_eq(failures, 0);
    ck_assert_uint_eq(short_growths, 0);
    ck_assert_uint_eq(b.len, sizeof want);
    /* Doubling from any start reaches 100000 in at most 17 steps. */
    ck_assert_uint_le(grows, 18);
    ck_assert_mem_eq(b.data, want, sizeof want);
    zab_buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);

    /* Reusable after free. */
    ck_assert_int_eq(zab_buf_append(&b, "again", 5), 0);
    ck_assert_mem_eq(b.data, "again", 5);
    zab_buf_free(&b);
}
END_TEST

START_TEST(buf_reserve_makes_room)
{
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_buf_append(&b, "head", 4), 0);
    ck_assert_int_eq(zab_buf_reserve(&b, 1000), 0);
    ck_assert_uint_ge(b.cap - b.len, 1000);
    ck_assert_uint_eq(b.len, 4);
    uint8_t *before = b.data;
    uint8_t chunk[1000];
    memset(chunk, 7, sizeof chunk);
    ck_assert_int_eq(zab_buf_append(&b, chunk, sizeof chunk), 0);
    ck_assert_ptr_eq(b.data, before); /* the room was really there */
    ck_assert_mem_eq(b.data, "head", 4);
    ck_assert_mem_eq(b.data + 4, chunk, sizeof chunk);
    /* One large append grows past doubling in one step. */
    uint8_t *big = malloc(100000);
    ck_assert_ptr_nonnull(big);
    memset(big, 9, 100000);
    ck_assert_int_eq(zab_buf_append(&b, big, 100000), 0);
    ck_assert_uint_eq(b.len, 101004);
    ck_assert_mem_eq(b.data + 1004, big, 100000);
    free(big);
    zab_buf_free(&b);
}
END_TEST

START_TEST(buf_enomem_leaves_buffer_unchanged)
{
    zab_buf b = { 0 };
    ck_assert_int_eq(zab_buf_append(&b, "0123456789", 10), 0);
    zab_buf saved = b;
    /* len + extra overflows size_t. */
    ck_assert_int_eq(zab_buf_reserve(&b, SIZE_MAX), ZAB_ENOMEM);
    ck_assert_int_eq(zab_buf_reserve(&b, SIZE_MAX - 5), ZAB_ENOMEM);
    /* Larger than any object may be. */
    ck_assert_int_eq(zab_buf_reserve(&b, (size_t)PTRDIFF_MAX), ZAB_ENOMEM);
    /* The length is refused before the bytes are read. */
    ck_assert_int_eq(zab_buf_append(&b, "x", SIZE_MAX - 3), ZAB_ENOMEM);
    ck_assert_ptr_eq(b.data, saved.data);
    ck_assert_uint_eq(b.len, saved.len);
    ck_assert_uint_eq(b.cap, saved.cap);
    ck_assert_mem_eq(b.data, "0123456789", 10);
    /* Still usable. */
    ck_assert_int_eq(zab_buf_append(&b, "!", 1), 0);
    ck_assert_mem_eq(b.data, "0123456789!", 11);
    zab_buf_free(&b);

    zab_buf empty = { 0 };
    ck_assert_int_eq(zab_buf_reserve(&empty, SIZE_MAX), ZAB_ENOMEM);
    ck_assert_ptr_null(empty.data);
    ck_assert_uint_eq(empty.cap, 0);
}
END_TEST

START_TEST(str_views)
{
    const char *s = "/zookeeper/quota";
    zab_str v = zab_str_c(s);
    ck_assert_ptr_eq(v.ptr, s);
    ck_assert_uint_eq(v.len, 16);
    zab_str none = zab_str_c(NULL);
    ck_assert_uint_eq(none.len, 0);
    zab_str e = zab_str_c("");
    ck_assert_uint_eq(e.len, 0);
    zab_str lit = ZAB_STR("a\0b");
    ck_assert_uint_eq(lit.len, 3);
    ck_assert_mem_eq(lit.ptr, "a\0b", 3);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* zab_strerror                                                              */
/* ------------------------------------------------------------------------ */

static const int every_code[] = {
    ZAB_OK,
    ZAB_ESYSTEM,
    ZAB_ERUNTIMEINCONSISTENCY,
    ZAB_EDATAINCONSISTENCY,
    ZAB_ECONNECTIONLOSS,
    ZAB_EMARSHALLING,
    ZAB_EUNIMPLEMENTED,
    ZAB_EOPERATIONTIMEOUT,
    ZAB_EBADARGUMENTS,
    ZAB_EAPI,
    ZAB_ENONODE,
    ZAB_ENOAUTH,
    ZAB_EBADVERSION,
    ZAB_ENOCHILDRENFOREPHEMERALS,
    ZAB_ENODEEXISTS,
    ZAB_ENOTEMPTY,
    ZAB_ESESSIONEXPIRED,
    ZAB_EINVALIDCALLBACK,
    ZAB_EINVALIDACL,
    ZAB_EAUTHFAILED,
    ZAB_ESESSIONMOVED,
    ZAB_ENOTREADONLY,
    ZAB_EEPHEMERALONLOCALSESSION,
    ZAB_ENOWATCHER,
    ZAB_EQUOTAEXCEEDED,
    ZAB_ETHROTTLED,
    ZAB_ENOMEM,
    ZAB_EINVAL,
    ZAB_ECORRUPT,
    ZAB_ETOOBIG,
    ZAB_EIO,
    ZAB_EFAILED,
};

START_TEST(strerror_names_every_code)
{
    const size_t n = sizeof every_code / sizeof every_code[0];
    for (size_t i = 0; i < n; i++) {
        const char *msg = zab_strerror(every_code[i]);
        ck_assert_ptr_nonnull(msg);
        ck_assert_msg(msg[0] != 0, "code %d: empty description", every_code[i]);
        ck_assert_msg(strcmp(msg, "unknown error") != 0,
                      "code %d has no description", every_code[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(msg, zab_strerror(every_code[j])) != 0,
                          "codes %d and %d share \"%s\"", every_code[i],
                          every_code[j], msg);
    }
    ck_assert_str_eq(zab_strerror(ZAB_ENONODE), "node does not exist");
    ck_assert_str_eq(zab_strerror(-101), "node does not exist");
}
END_TEST

START_TEST(strerror_unknown_codes)
{
    /* Neighbours of real codes and ZooKeeper codes zab does not use. */
    static const int unknown[] = { 1, 42, -9, -99, -104, -122, -123, -126,
                                   -1000, -1007, INT_MIN, INT_MAX };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *msg = zab_strerror(unknown[i]);
        ck_assert_ptr_nonnull(msg);
        ck_assert_str_eq(msg, "unknown error");
    }
}
END_TEST

static Suite *prim_suite(void)
{
    Suite *s = suite_create("prim");

    TCase *crc = tcase_create("crc32c");
    tcase_add_test(crc, crc_check_value);
    tcase_add_test(crc, crc_iscsi_vectors);
    tcase_add_test(crc, crc_chains_at_every_split);
    tcase_add_test(crc, crc_unaligned_starts);
    tcase_add_test(crc, crc_matches_definition);
    suite_add_tcase(s, crc);

    TCase *hash = tcase_create("hash64");
    tcase_set_timeout(hash, 30);
    tcase_add_test(hash, hash_deterministic_and_alignment_free);
    tcase_add_test(hash, hash_reads_only_len_bytes);
    tcase_add_test(hash, hash_spreads_names);
    tcase_add_loop_test(hash, hash_avalanche, 0, 9);
    tcase_add_test(hash, hash_seed_changes_everything);
    suite_add_tcase(s, hash);

    TCase *buf = tcase_create("buf");
    tcase_add_test(buf, buf_empty_appends);
    tcase_add_test(buf, buf_grows_by_doubling);
    tcase_add_test(buf, buf_reserve_makes_room);
    tcase_add_test(buf, buf_enomem_leaves_buffer_unchanged);
    tcase_add_test(buf, str_views);
    suite_add_tcase(s, buf);

    TCase *err = tcase_create("strerror");
    tcase_add_test(err, strerror_names_every_code);
    tcase_add_test(err, strerror_unknown_codes);
    suite_add_tcase(s, err);
    return s;
}

ZAB_CHECK_MAIN(prim_suite)
