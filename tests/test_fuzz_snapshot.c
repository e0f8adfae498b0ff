/*
 * Runs the snapshot fuzz target over a seeded corpus: real snapshots of
 * small random trees, each damaged in many ways by a seeded generator
 * (bit flips, truncation, inserted and deleted bytes, length and count
 * fields overwritten with huge or negative values).
 */
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "fuzz/fuzz_snapshot.c"

typedef struct frng {
    uint64_t s;
} frng;

static uint32_t frand(frng *r)
{
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(r->s >> 33);
}

static void must(int rc)
{
    ck_assert_int_eq(rc, 0);
}

/* A small tree with every kind of node, an ACL or two and sessions. */
static zab_buf corpus_snapshot(uint32_t seed)
{
    zab_tree *t = zab_tree_new(NULL);
    zab_buf txn = { 0 }, out = { 0 };
    int64_t zxid = 0;
    uint8_t pw[16] = { 1, 2, 3 };
    const zab_acl digest[1] = { { ZAB_PERM_READ, { ZAB_STR("digest"), ZAB_STR("a:b") } } };
    char path[64], data[64];
    for (uint32_t i = 0; i < 3 + seed % 5; i++) {
        zab_op op = { 0 };
        op.type = ZAB_OP_CREATE_SESSION;
        op.data = pw;
        op.data_len = 16;
        op.timeout = 4000 + (int32_t)i;
        zab_request req = { op.type, (int64_t)(0x0200000000000000ULL + i), NULL, 0, &op, 1 };
        txn.len = 0;
        must(zab_tree_prepare(t, &req, ++zxid, 100, &txn));
        zab_reply r;
        must(zab_tree_apply(t, zxid, txn.data, txn.len, &r));
    }
    for (uint32_t i = 0; i < 20 + seed % 30; i++) {
        snprintf(path, sizeof(path), i % 3 ? "/n%u/c%u" : "/n%u", (i / 3) % 7, i);
        int len = snprintf(data, sizeof(data), "data-%u", i * seed);
        zab_op op = zab_op_create(path, i % 4 ? data : NULL, len, i % 5 ? zab_acl_open : digest, 1,
                                  (int32_t)(i % 4 == 1 ? ZAB_EPHEMERAL : i % 4 == 2 ? ZAB_PERSISTENT_SEQUENTIAL : 0));
        zab_request req = { op.type, (int64_t)(0x0200000000000000ULL + i % 3), NULL, 0, &op, 1 };
        txn.len = 0;
        must(zab_tree_prepare(t, &req, ++zxid, 200 + i, &txn));
        zab_reply r;
        must(zab_tree_apply(t, zxid, txn.data, txn.len, &r));
    }
    must(zab_tree_save(t, fuzz_append, &out));
    zab_buf_free(&txn);
    zab_tree_free(t);
    return out;
}

static size_t mutate(frng *r, uint8_t *buf, size_t len, size_t cap)
{
    uint32_t n = 1 + frand(r) % 4;
    for (uint32_t k = 0; k < n && len; k++) {
        size_t at = frand(r) % len;
        switch (frand(r) % 6) {
        case 0: buf[at] ^= (uint8_t)(1u << (frand(r) % 8)); break;
        case 1: len = at; break;
        case 2: /* a 32-bit field overwritten with an extreme value */
            if (at + 4 <= len) {
                static const uint32_t extremes[] = { 0xffffffffu, 0x7fffffffu, 0x80000000u, 0x10000000u, 0, 1 };
                uint32_t v = extremes[frand(r) % 6];
                for (int i = 0; i < 4; i++) buf[at + i] = (uint8_t)(v >> (24 - 8 * i));
            }
            break;
        case 3: /* delete a byte */
            memmove(buf + at, buf + at + 1, len - at - 1);
            len--;
            break;
        case 4: /* insert a byte */
            if (len < cap) {
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = (uint8_t)frand(r);
                len++;
            }
            break;
        default: buf[at] = (uint8_t)frand(r); break;
        }
    }
    return len;
}

START_TEST(snapshot_loader_survives_damage)
{
    frng r = { 12345 };
    for (uint32_t seed = 0; seed < 6; seed++) {
        zab_buf snap = corpus_snapshot(seed);
        zab_fuzz_snapshot(snap.data, snap.len); /* the undamaged one loads */
        size_t cap = snap.len + 64;
        uint8_t *buf = malloc(cap);
        for (int iter = 0; iter < 1500; iter++) {
            memcpy(buf, snap.data, snap.len);
            size_t len = mutate(&r, buf, snap.len, cap);
            zab_fuzz_snapshot(buf, len);
        }
        free(buf);
        zab_buf_free(&snap);
    }
    /* Degenerate inputs. */
    zab_fuzz_snapshot(NULL, 0);
    const uint8_t magic_only[] = { 'Z', 'A', 'B', 'S', 'N', 'A', 'P', 0 };
    zab_fuzz_snapshot(magic_only, sizeof(magic_only));
}
END_TEST

static Suite *fuzz_suite(void)
{
    Suite *s = suite_create("fuzz snapshot");
    TCase *tc = tcase_create("fuzz");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, snapshot_loader_survives_damage);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(fuzz_suite)
