/*
 * frame.h - frames as zabd writes them: a 4-byte big-endian length, then
 * the payload (a ReplyHeader and its record, an event, a handshake reply).
 */
#ifndef ZABD_FRAME_H
#define ZABD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <zab.h>

static inline uint32_t zabd_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reserve a frame's length in b, at *mark; zabd_frame_close fills it in.
 * 0 or ZAB_ENOMEM. */
static inline int zabd_frame_open(zab_buf *b, size_t *mark)
{
    static const uint8_t none[4];
    *mark = b->len;
    return zab_buf_append(b, none, 4);
}

static inline void zabd_frame_close(zab_buf *b, size_t mark)
{
    uint32_t n = (uint32_t)(b->len - mark - 4);
    uint8_t *p = b->data + mark;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
}

/* Append a frame of a bare ReplyHeader. 0 or ZAB_ENOMEM (b unchanged). */
static inline int zabd_frame_header(zab_buf *b, int32_t xid, int64_t zxid, int32_t err)
{
    size_t mark;
    if (zabd_frame_open(b, &mark) || zab_zk_encode_reply_header(xid, zxid, err, b)) {
        b->len = mark;
        return ZAB_ENOMEM;
    }
    zabd_frame_close(b, mark);
    return 0;
}

/* Append a reply's frame: the header and, on success, the record for
 * opcode. 0 or zab_zk_encode_reply's code (b unchanged). */
static inline int zabd_frame_reply(zab_buf *b, int32_t xid, int32_t opcode, const zab_reply *r)
{
    size_t mark;
    int rc = zabd_frame_open(b, &mark);
    if (!rc) rc = zab_zk_encode_reply_header(xid, r->zxid, r->err, b);
    if (!rc) rc = zab_zk_encode_reply(opcode, r, b);
    if (rc) {
        b->len = mark;
        return rc;
    }
    zabd_frame_close(b, mark);
    return 0;
}

#endif
