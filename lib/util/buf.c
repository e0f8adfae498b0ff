/*
 * buf.c - zab_buf, the caller-owned growable byte buffer, and zab_str_c.
 */
#include "zab.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The first allocation: small enough for a short reply, large enough that
 * typical records do not regrow it several times. */
enum { ZAB_BUF_MIN_CAP = 64 };

ZAB_API int zab_buf_reserve(zab_buf *buf, size_t extra)
{
    assert(buf->len <= buf->cap && (buf->data || buf->cap == 0));
    if (buf->cap - buf->len >= extra) return 0;
    /* No object may exceed PTRDIFF_MAX bytes; refusing here also keeps an
     * absurd request from ever reaching the allocator. */
    if (extra > (size_t)PTRDIFF_MAX - buf->len) return ZAB_ENOMEM;
    size_t need = buf->len + extra;
    size_t cap = buf->cap ? buf->cap : ZAB_BUF_MIN_CAP;
    while (cap < need) cap = cap > (size_t)PTRDIFF_MAX / 2 ? need : cap * 2;
    uint8_t *data = realloc(buf->data, cap);
    if (!data) return ZAB_ENOMEM;
    buf->data = data;
    buf->cap = cap;
    return 0;
}

ZAB_API int zab_buf_append(zab_buf *buf, const void *bytes, size_t len)
{
    if (len == 0) return 0;
    int rc = zab_buf_reserve(buf, len);
    if (rc) return rc;
    memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    return 0;
}

ZAB_API void zab_buf_free(zab_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

ZAB_API zab_str zab_str_c(const char *s)
{
    if (!s) return (zab_str){ "", 0 };
    size_t len = strlen(s);
    /* A view's length is 32 bits; a longer string is cut, never wrapped. */
    if (len > UINT32_MAX) len = UINT32_MAX;
    return (zab_str){ s, (uint32_t)len };
}
