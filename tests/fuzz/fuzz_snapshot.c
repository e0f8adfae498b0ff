/*
 * Fuzz target: loading a snapshot from untrusted bytes.
 *
 * The input is loaded twice: as it is, and re-sealed with a correct
 * checksum trailer so that damage reaches the parser instead of stopping at
 * the CRC. A load must either succeed or fail with ZAB_ECORRUPT/ZAB_ENOMEM,
 * leaving the tree exactly as it was; a load that succeeds must save and
 * load back to the same digest.
 *
 * Build with -DZAB_LIBFUZZER and -fsanitize=fuzzer for libFuzzer; the Check
 * test test_fuzz_snapshot.c runs it over a seeded corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/prim.h"
#include "zab.h"

static int fuzz_append(void *ctx, const void *b, size_t n)
{
    return zab_buf_append(ctx, b, n);
}

static uint64_t fuzz_digest(const zab_tree *t)
{
    zab_tree_stats st;
    zab_tree_stats_get(t, &st);
    return st.digest;
}

static void fuzz_load_once(const uint8_t *data, size_t len)
{
    zab_tree *t = zab_tree_new(NULL);
    if (!t) return;
    uint64_t before = fuzz_digest(t);
    int rc = zab_tree_load_mem(t, data, len);
    if (rc != 0 && rc != ZAB_ECORRUPT && rc != ZAB_ENOMEM) abort();
    if (rc != 0 && fuzz_digest(t) != before) abort();
    if (rc == 0) {
        zab_buf again = { 0 };
        if (zab_tree_save(t, fuzz_append, &again) != 0) abort();
        zab_tree *u = zab_tree_new(NULL);
        if (!u || zab_tree_load_mem(u, again.data, again.len) != 0) abort();
        if (fuzz_digest(u) != fuzz_digest(t)) abort();
        zab_tree_free(u);
        zab_buf_free(&again);
    }
    zab_tree_free(t);
}

int zab_fuzz_snapshot(const uint8_t *data, size_t len);

int zab_fuzz_snapshot(const uint8_t *data, size_t len)
{
    fuzz_load_once(data, len);
    if (len >= 4) {
        uint8_t *sealed = malloc(len);
        if (!sealed) return 0;
        memcpy(sealed, data, len);
        uint32_t crc = zab_crc32c(0, sealed, len - 4);
        for (int i = 0; i < 4; i++) sealed[len - 4 + i] = (uint8_t)(crc >> (24 - 8 * i));
        fuzz_load_once(sealed, len);
        free(sealed);
    }
    return 0;
}

#ifdef ZAB_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    return zab_fuzz_snapshot(data, len);
}
#endif
