/*
 * sha1.c - SHA-1 (FIPS 180-4), needed only for ZooKeeper's digest identities
 * ("user:BASE64(SHA1(user:password))"). Not used for anything that relies on
 * collision resistance.
 */
#include "util/prim.h"

#include <string.h>

typedef struct zab_sha1_ctx {
    uint32_t h[5];
    uint8_t block[64];
    size_t used;     /* bytes waiting in block */
    uint64_t total;  /* bytes hashed so far */
} zab_sha1_ctx;

static uint32_t zab_rol32(uint32_t x, unsigned n)
{
    return x << n | x >> (32 - n);
}

static uint32_t zab_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void zab_sha1_block(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++) w[i] = zab_load_be32(p + 4 * i);
    for (int i = 16; i < 80; i++)
        w[i] = zab_rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        uint32_t t = zab_rol32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = zab_rol32(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

static void zab_sha1_update(zab_sha1_ctx *c, const uint8_t *p, size_t len)
{
    c->total += len;
    if (c->used) {
        size_t take = 64 - c->used < len ? 64 - c->used : len;
        memcpy(c->block + c->used, p, take);
        c->used += take;
        p += take;
        len -= take;
        if (c->used < 64) return;
        zab_sha1_block(c->h, c->block);
        c->used = 0;
    }
    for (; len >= 64; p += 64, len -= 64) zab_sha1_block(c->h, p);
    if (len) memcpy(c->block, p, len);
    c->used = len;
}

void zab_sha1(const void *bytes, size_t len, uint8_t out[20])
{
    zab_sha1_ctx c = { { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 },
                       { 0 }, 0, 0 };
    if (len) zab_sha1_update(&c, bytes, len);

    /* Padding: 0x80, zeros up to 56 mod 64, then the bit length. */
    uint64_t bits = c.total * 8;
    uint8_t pad[72] = { 0x80 };
    size_t padlen = c.used < 56 ? 56 - c.used : 120 - c.used;
    for (int i = 0; i < 8; i++) pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
    zab_sha1_update(&c, pad, padlen + 8);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(c.h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c.h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c.h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c.h[i];
    }
}
