/*
 * prim.h - small primitives libc lacks: a seeded 64-bit hash, CRC32C, SHA-1
 * and base64. Pure functions; any thread.
 */
#ifndef ZAB_UTIL_PRIM_H
#define ZAB_UTIL_PRIM_H

#include <stddef.h>
#include <stdint.h>

/* A fast, well-mixed, deterministic 64-bit hash (same value on every
 * platform and run for the same bytes and seed). Not cryptographic. */
uint64_t zab_hash64(const void *bytes, size_t len, uint64_t seed);

/* CRC-32C (Castagnoli), chainable: start with crc = 0. */
uint32_t zab_crc32c(uint32_t crc, const void *bytes, size_t len);

/* SHA-1 of len bytes. */
void zab_sha1(const void *bytes, size_t len, uint8_t out[20]);

/* Standard base64 with '=' padding; writes 4 * ((len + 2) / 3) chars and a
 * NUL, returns the number of chars (without the NUL). */
size_t zab_base64_encode(const uint8_t *in, size_t len, char *out);

#endif
