/*
 * hash.c - zab_hash64, a seeded 64-bit hash for table lookups.
 *
 * The mixing step multiplies two 64-bit words to a 128-bit product and folds
 * the halves together: every input bit then reaches most output bits in one
 * multiply. Input is read as little-endian words assembled byte by byte, so
 * the same bytes give the same value on every platform.
 *
 * Inputs of up to 16 bytes (most znode names) take one branch chain to two
 * overlapping word loads and two multiplies, after the two that derive the
 * secrets from the seed.
 */
#include "util/prim.h"

#include <string.h>

/* Odd constants with evenly spread bits (the 64-bit golden ratio and
 * well-known finalizer multipliers); any such values would do. */
#define ZAB_HASH_K0 UINT64_C(0x9e3779b97f4a7c15)
#define ZAB_HASH_K1 UINT64_C(0xbf58476d1ce4e5b9)
#define ZAB_HASH_K2 UINT64_C(0x94d049bb133111eb)
#define ZAB_HASH_K3 UINT64_C(0xc2b2ae3d27d4eb4f)

/* The 128-bit product of a and b as two halves. */
static inline void zab_hash_mul(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi)
{
#ifdef __SIZEOF_INT128__
    __extension__ typedef unsigned __int128 zab_u128;
    zab_u128 r = (zab_u128)a * b;
    *lo = (uint64_t)r;
    *hi = (uint64_t)(r >> 64);
#else
    uint64_t ah = a >> 32, al = (uint32_t)a, bh = b >> 32, bl = (uint32_t)b;
    uint64_t hh = ah * bh, hl = ah * bl, lh = al * bh, ll = al * bl;
    uint64_t mid = (ll >> 32) + (uint32_t)hl + (uint32_t)lh;
    *lo = (mid << 32) | (uint32_t)ll;
    *hi = hh + (hl >> 32) + (lh >> 32) + (mid >> 32);
#endif
}

/* The 128-bit product folded to 64 bits. */
static inline uint64_t zab_hash_fold(uint64_t a, uint64_t b)
{
    uint64_t lo, hi;
    zab_hash_mul(a, b, &lo, &hi);
    return lo ^ hi;
}

static inline uint64_t zab_hash_load64(const uint8_t *p)
{
    uint8_t b[8];
    memcpy(b, p, 8);
    return (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
           (uint64_t)b[3] << 24 | (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 |
           (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56;
}

static inline uint64_t zab_hash_load32(const uint8_t *p)
{
    uint8_t b[4];
    memcpy(b, p, 4);
    return (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
           (uint64_t)b[3] << 24;
}

uint64_t zab_hash64(const void *bytes, size_t len, uint64_t seed)
{
    const uint8_t *p = bytes;
    /* Two secrets derived from the seed. A product is zero when either
     * factor is, and multiplication commutes, so the words that collapse a
     * step and the word pairs that swap into a collision depend on the
     * secrets: on the seed, not on public constants. */
    const uint64_t s = zab_hash_fold(seed ^ ZAB_HASH_K0, ZAB_HASH_K1) ^ seed;
    uint64_t h = zab_hash_fold(seed ^ ZAB_HASH_K2, ZAB_HASH_K3) ^ seed;
    uint64_t a, b;

    if (len <= 16) {
        if (len >= 8) {
            a = zab_hash_load64(p);
            b = zab_hash_load64(p + len - 8);
        } else if (len >= 4) {
            a = zab_hash_load32(p);
            b = zab_hash_load32(p + len - 4);
        } else if (len > 0) {
            /* First, middle and last byte: covers every byte of 1..3. */
            a = (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t left = len;
        if (left > 32) {
            /* Two independent lanes keep two multiplies in flight. */
            uint64_t g = h ^ ZAB_HASH_K1;
            do {
                h = zab_hash_fold(zab_hash_load64(p) ^ s,
                                  zab_hash_load64(p + 8) ^ h);
                g = zab_hash_fold(zab_hash_load64(p + 16) ^ s ^ ZAB_HASH_K2,
                                  zab_hash_load64(p + 24) ^ g);
                p += 32;
                left -= 32;
            } while (left > 32);
            h ^= g;
        }
        if (left > 16) {
            h = zab_hash_fold(zab_hash_load64(p) ^ s, zab_hash_load64(p + 8) ^ h);
        }
        /* The last 16 bytes, overlapping what came before: len > 16. */
        a = zab_hash_load64(p + left - 16);
        b = zab_hash_load64(p + left - 8);
    }
    /* The final step multiplies the two halves of a product by each other,
     * so each output bit depends on every input bit through two multiplies.
     * Overlapping loads make distinct lengths share words; len separates
     * them. */
    uint64_t lo, hi;
    zab_hash_mul(a ^ s ^ ZAB_HASH_K1, b ^ h, &lo, &hi);
    return zab_hash_fold(lo ^ ZAB_HASH_K0 ^ (uint64_t)len, hi ^ s);
}
