/*
 * fuzz_request.c - fuzz target for the client request decoder.
 *
 * Input: 4 bytes choosing an opcode (an index into fuzz_opcodes, modulo its
 * size), then the request body. Whatever the bytes, decoding must not crash,
 * must fail only with ZAB_EMARSHALLING (ZAB_EUNIMPLEMENTED exactly for the
 * opcodes without a body here), and must keep scratch within a small
 * multiple of the input. A request that decodes must encode, decode again to
 * an equal request, and encode again to the same bytes.
 *
 * zab_fuzz_request_check() reports a violation as a message; the target
 * zab_fuzz_request() aborts on one. Built with -DZAB_LIBFUZZER it is a
 * libFuzzer target (which also replays the files named on its command
 * line).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zab.h"

/* Every opcode the decoder accepts, then some it must refuse. */
static const int32_t fuzz_opcodes[] = {
    ZAB_OP_CREATE, ZAB_OP_CREATE2, ZAB_OP_CREATE_CONTAINER, ZAB_OP_CREATE_TTL,
    ZAB_OP_DELETE, ZAB_OP_EXISTS, ZAB_OP_GET_DATA, ZAB_OP_SET_DATA,
    ZAB_OP_GET_ACL, ZAB_OP_SET_ACL, ZAB_OP_GET_CHILDREN, ZAB_OP_SYNC,
    ZAB_OP_GET_CHILDREN2, ZAB_OP_CHECK, ZAB_OP_MULTI, ZAB_OP_MULTI_READ,
    ZAB_OP_CHECK_WATCHES, ZAB_OP_REMOVE_WATCHES, ZAB_OP_DELETE_CONTAINER,
    ZAB_OP_GET_EPHEMERALS, ZAB_OP_GET_ALL_CHILDREN_NUMBER, ZAB_OP_ADD_WATCH,
    ZAB_OP_PING, ZAB_OP_CLOSE_SESSION, ZAB_OP_WHO_AM_I,
    /* refused */
    0, 10, ZAB_OP_RECONFIG, ZAB_OP_AUTH, ZAB_OP_SET_WATCHES, ZAB_OP_SASL,
    ZAB_OP_SET_WATCHES2, ZAB_OP_CREATE_SESSION, ZAB_OP_ERROR, 23, 108, INT32_MIN
};
enum {
    FUZZ_NOPCODES = sizeof fuzz_opcodes / sizeof fuzz_opcodes[0],
    FUZZ_NDECODABLE = 25
};

int zab_fuzz_request(const uint8_t *data, size_t len);
const char *zab_fuzz_request_check(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static int fuzz_str_eq(zab_str a, zab_str b)
{
    if ((a.ptr == NULL) != (b.ptr == NULL) || a.len != b.len) return 0;
    return a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0;
}

static int fuzz_op_eq(const zab_op *a, const zab_op *b)
{
    if (a->type != b->type || !fuzz_str_eq(a->path, b->path) ||
        a->data_len != b->data_len || a->flags != b->flags ||
        a->version != b->version || a->watch != b->watch ||
        a->timeout != b->timeout || a->ttl != b->ttl || a->nacl != b->nacl)
        return 0;
    if ((a->data == NULL) != (b->data == NULL)) return 0;
    if (a->data_len > 0 && memcmp(a->data, b->data, (size_t)a->data_len) != 0) return 0;
    if ((a->acl == NULL) != (b->acl == NULL)) return 0;
    for (uint32_t i = 0; i < a->nacl; i++)
        if (a->acl[i].perms != b->acl[i].perms ||
            !fuzz_str_eq(a->acl[i].id.scheme, b->acl[i].id.scheme) ||
            !fuzz_str_eq(a->acl[i].id.id, b->acl[i].id.id))
            return 0;
    return 1;
}

static int fuzz_request_eq(const zab_request *a, const zab_request *b)
{
    if (a->type != b->type || a->nops != b->nops || a->session != b->session ||
        a->nauth != b->nauth)
        return 0;
    for (uint32_t i = 0; i < a->nops; i++)
        if (!fuzz_op_eq(&a->ops[i], &b->ops[i])) return 0;
    return 1;
}

/* The decoded form's own invariants, whatever the bytes were. */
static const char *fuzz_request_sane(const zab_request *req, size_t len, const zab_buf *scratch)
{
    int multi = req->type == ZAB_OP_MULTI || req->type == ZAB_OP_MULTI_READ;
    if (!multi && (req->nops != 1 || req->ops[0].type != req->type))
        return "a single request is not one op of its type";
    if ((req->nops == 0) != (req->ops == NULL)) return "ops and nops disagree";
    /* At most one op, or one per 9 bytes (a multi header), and one ACL per
     * 12 bytes: scratch stays within a small multiple of the input. */
    if (scratch->len > sizeof(zab_op) + len / 9 * sizeof(zab_op) + len / 12 * sizeof(zab_acl))
        return "scratch grew beyond a small multiple of the input";
    for (uint32_t i = 0; i < req->nops; i++) {
        const zab_op *op = &req->ops[i];
        if ((op->nacl == 0) != (op->acl == NULL)) return "acl and nacl disagree";
        int has_data = op->type == ZAB_OP_SET_DATA || op->type == ZAB_OP_CREATE ||
                       op->type == ZAB_OP_CREATE2 || op->type == ZAB_OP_CREATE_CONTAINER ||
                       op->type == ZAB_OP_CREATE_TTL;
        if (has_data ? op->data_len < -1 || (op->data_len == -1) != (op->data == NULL)
                     : op->data != NULL || op->data_len != 0)
            return "data and data_len disagree";
        if (op->ttl != -1 && op->type != ZAB_OP_CREATE_TTL) return "ttl outside createTTL";
    }
    return NULL;
}

static const char *fuzz_roundtrip(const zab_request *req, zab_buf *enc, zab_buf *enc2,
                                  zab_buf *scratch2)
{
    zab_request again;
    if (zab_zk_encode_request(req, enc) != 0) return "a decoded request does not encode";
    if (zab_zk_decode_request(req->type, enc->data, enc->len, &again, scratch2) != 0)
        return "an encoded request does not decode";
    if (!fuzz_request_eq(req, &again)) return "decode(encode(req)) differs from req";
    if (zab_zk_encode_request(&again, enc2) != 0) return "a re-decoded request does not encode";
    if (enc->len != enc2->len || (enc->len && memcmp(enc->data, enc2->data, enc->len)))
        return "encoding is not stable";
    return NULL;
}

const char *zab_fuzz_request_check(const uint8_t *data, size_t len)
{
    if (len < 4) return NULL;
    uint32_t pick = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                    (uint32_t)data[2] << 8 | data[3];
    size_t which = pick % FUZZ_NOPCODES;
    int32_t opcode = fuzz_opcodes[which];
    const uint8_t *body = data + 4;
    size_t body_len = len - 4;

    zab_buf scratch = { 0 }, scratch2 = { 0 }, enc = { 0 }, enc2 = { 0 };
    zab_request req;
    const char *why = NULL;
    int rc = zab_zk_decode_request(opcode, body, body_len, &req, &scratch);
    if (which >= FUZZ_NDECODABLE) {
        if (rc != ZAB_EUNIMPLEMENTED) why = "an opcode without a body here was not refused";
    } else if (rc == ZAB_EUNIMPLEMENTED) {
        why = "a decodable opcode was refused";
    } else if (rc == 0) {
        why = fuzz_request_sane(&req, body_len, &scratch);
        if (!why) why = fuzz_roundtrip(&req, &enc, &enc2, &scratch2);
    } else if (rc != ZAB_EMARSHALLING) {
        why = "decoding failed with an unexpected code";
    }
    zab_buf_free(&scratch);
    zab_buf_free(&scratch2);
    zab_buf_free(&enc);
    zab_buf_free(&enc2);
    return why;
}

int zab_fuzz_request(const uint8_t *data, size_t len)
{
    const char *why = zab_fuzz_request_check(data, len);
    if (why) {
        fprintf(stderr, "fuzz_request: %s\n", why);
        abort();
    }
    return 0;
}

#ifdef ZAB_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    return zab_fuzz_request(data, len);
}
#endif
