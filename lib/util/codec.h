/*
 * codec.h - big-endian encoding into a zab_buf, and bounds-checked decoding
 * from untrusted bytes.
 *
 * A zab_reader never reads past its end: a read that does not fit sets the
 * reader's error flag, returns zero, and leaves the cursor where it was, so a
 * decoder can read a whole record and test r->err once at the end. Every
 * length read from the input is checked against what remains before anything
 * is allocated for it.
 */
#ifndef ZAB_UTIL_CODEC_H
#define ZAB_UTIL_CODEC_H

#include <stdint.h>
#include <string.h>

#include "zab.h"

typedef struct zab_reader {
    const uint8_t *p;
    const uint8_t *end;
    int err; /* non-zero once any read ran out of input or hit a bad value */
} zab_reader;

static inline zab_reader zab_reader_init(const void *bytes, size_t len)
{
    zab_reader r = { NULL, NULL, 0 };
    if (bytes) {
        r.p = (const uint8_t *)bytes;
        r.end = r.p + len;
    }
    return r;
}

static inline size_t zab_reader_left(const zab_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* Borrow n bytes; NULL (and err set) when fewer remain. */
static inline const uint8_t *zab_get_bytes(zab_reader *r, size_t n)
{
    if (r->err || zab_reader_left(r) < n) {
        r->err = 1;
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += n;
    return at;
}

static inline uint8_t zab_get_u8(zab_reader *r)
{
    const uint8_t *b = zab_get_bytes(r, 1);
    return b ? b[0] : 0;
}

static inline uint32_t zab_get_u32(zab_reader *r)
{
    const uint8_t *b = zab_get_bytes(r, 4);
    if (!b) return 0;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline uint64_t zab_get_u64(zab_reader *r)
{
    const uint8_t *b = zab_get_bytes(r, 8);
    if (!b) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | b[i];
    return v;
}

static inline int32_t zab_get_i32(zab_reader *r) { return (int32_t)zab_get_u32(r); }
static inline int64_t zab_get_i64(zab_reader *r) { return (int64_t)zab_get_u64(r); }

/* A jute-style length-prefixed string: int32 length then bytes. Length -1
 * (null) yields an empty view with ptr NULL; any other negative length, or
 * one longer than what remains, is an error. */
static inline zab_str zab_get_str(zab_reader *r)
{
    zab_str s = { NULL, 0 };
    int32_t n = zab_get_i32(r);
    if (r->err || n == -1) return s;
    if (n < 0) {
        r->err = 1;
        return s;
    }
    const uint8_t *b = zab_get_bytes(r, (size_t)n);
    if (b) {
        s.ptr = (const char *)b;
        s.len = (uint32_t)n;
    }
    return s;
}

/* A count that announces items of at least min_item bytes each: bounded by
 * what remains, so no allocation can exceed a small multiple of the input. */
static inline uint32_t zab_get_count(zab_reader *r, size_t min_item)
{
    int32_t n = zab_get_i32(r);
    if (r->err) return 0;
    if (n < 0 || (min_item && (size_t)n > zab_reader_left(r) / min_item)) {
        r->err = 1;
        return 0;
    }
    return (uint32_t)n;
}

/* Writers: append to a zab_buf. They return 0 or ZAB_ENOMEM; callers that
 * reserve first may ignore the result of the fixed-size ones. */
static inline int zab_put_bytes(zab_buf *b, const void *p, size_t n)
{
    return zab_buf_append(b, p, n);
}

static inline int zab_put_u8(zab_buf *b, uint8_t v)
{
    return zab_buf_append(b, &v, 1);
}

static inline int zab_put_u32(zab_buf *b, uint32_t v)
{
    uint8_t t[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    return zab_buf_append(b, t, 4);
}

static inline int zab_put_u64(zab_buf *b, uint64_t v)
{
    uint8_t t[8];
    for (int i = 7; i >= 0; i--, v >>= 8) t[i] = (uint8_t)v;
    return zab_buf_append(b, t, 8);
}

static inline int zab_put_i32(zab_buf *b, int32_t v) { return zab_put_u32(b, (uint32_t)v); }
static inline int zab_put_i64(zab_buf *b, int64_t v) { return zab_put_u64(b, (uint64_t)v); }

/* A length-prefixed string; a NULL ptr encodes jute's null (-1). */
static inline int zab_put_str(zab_buf *b, zab_str s)
{
    if (!s.ptr) return zab_put_i32(b, -1);
    if (zab_put_i32(b, (int32_t)s.len)) return ZAB_ENOMEM;
    return zab_put_bytes(b, s.ptr, s.len);
}

/* Length-prefixed bytes; len -1 encodes null. */
static inline int zab_put_blob(zab_buf *b, const void *p, int32_t len)
{
    if (zab_put_i32(b, len < 0 ? -1 : len)) return ZAB_ENOMEM;
    return len > 0 ? zab_put_bytes(b, p, (size_t)len) : 0;
}

#endif
