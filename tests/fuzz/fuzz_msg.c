/*
 * fuzz_msg.c - fuzz target for the peer message codec.
 *
 * The input is decoded twice: as a peer message (a maximum of 1 MiB) and as
 * the request payload a REQUEST carries; a decoded REQUEST's data is also
 * decoded as a payload. Whatever the bytes, nothing may crash, and each
 * decoder may fail only with ZAB_ECORRUPT. A message that decodes must
 * encode back to exactly the input (the encoding is canonical). A payload
 * that decodes must encode, decode again to an equal request, and encode
 * again to the same bytes.
 *
 * zab_fuzz_msg_check() reports a violation as a message; the target
 * zab_fuzz_msg() aborts on one. Built with -DZAB_LIBFUZZER it is a
 * libFuzzer target.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg.h"
#include "zab.h"

enum { FUZZ_MSG_MAX = 1u << 20 };

int zab_fuzz_msg(const uint8_t *data, size_t len);
const char *zab_fuzz_msg_check(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static int fuzz_msg_str_eq(zab_str a, zab_str b)
{
    if ((a.ptr == NULL) != (b.ptr == NULL) || a.len != b.len) return 0;
    return a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0;
}

static int fuzz_msg_op_eq(const zab_op *a, const zab_op *b)
{
    if (a->type != b->type || !fuzz_msg_str_eq(a->path, b->path) ||
        a->data_len != b->data_len || a->flags != b->flags || a->version != b->version ||
        a->watch != b->watch || a->timeout != b->timeout || a->ttl != b->ttl ||
        a->nacl != b->nacl)
        return 0;
    if ((a->data == NULL) != (b->data == NULL)) return 0;
    if (a->data_len > 0 && memcmp(a->data, b->data, (size_t)a->data_len) != 0) return 0;
    if ((a->acl == NULL) != (b->acl == NULL)) return 0;
    for (uint32_t i = 0; i < a->nacl; i++)
        if (a->acl[i].perms != b->acl[i].perms ||
            !fuzz_msg_str_eq(a->acl[i].id.scheme, b->acl[i].id.scheme) ||
            !fuzz_msg_str_eq(a->acl[i].id.id, b->acl[i].id.id))
            return 0;
    return 1;
}

static int fuzz_msg_request_eq(const zab_request *a, const zab_request *b)
{
    if (a->type != b->type || a->session != b->session || a->nauth != b->nauth ||
        a->nops != b->nops)
        return 0;
    for (uint32_t i = 0; i < a->nauth; i++)
        if (!fuzz_msg_str_eq(a->auth[i].scheme, b->auth[i].scheme) ||
            !fuzz_msg_str_eq(a->auth[i].id, b->auth[i].id))
            return 0;
    for (uint32_t i = 0; i < a->nops; i++)
        if (!fuzz_msg_op_eq(&a->ops[i], &b->ops[i])) return 0;
    return 1;
}

/* A decoded payload's own invariants, whatever the bytes were. */
static const char *fuzz_msg_request_sane(const zab_request *req, size_t len)
{
    if ((req->nauth == 0) != (req->auth == NULL)) return "auth and nauth disagree";
    if ((req->nops == 0) != (req->ops == NULL)) return "ops and nops disagree";
    /* Each identity takes at least 8 bytes of the payload. */
    if (req->nauth > len / 8) return "more identities than the payload can hold";
    int multi = req->type == ZAB_OP_MULTI || req->type == ZAB_OP_MULTI_READ;
    if (!multi && (req->nops != 1 || req->ops[0].type != req->type))
        return "a single request is not one op of its type";
    if (req->type == ZAB_OP_CREATE_SESSION &&
        (req->ops[0].data_len != 16 || req->ops[0].data == NULL))
        return "a createSession without its 16-byte password";
    return NULL;
}

static const char *fuzz_msg_request(const uint8_t *data, size_t len)
{
    zab_buf scratch = { 0 }, scratch2 = { 0 }, enc = { 0 }, enc2 = { 0 };
    zab_request req, again;
    const char *why = NULL;
    int rc = zab_msg_request_decode(data, len, &req, &scratch);
    if (rc == 0) {
        why = fuzz_msg_request_sane(&req, len);
        if (!why && zab_msg_request_encode(&req, &enc) != 0)
            why = "a decoded request payload does not encode";
        if (!why && zab_msg_request_decode(enc.data, enc.len, &again, &scratch2) != 0)
            why = "an encoded request payload does not decode";
        if (!why && !fuzz_msg_request_eq(&req, &again))
            why = "decode(encode(payload)) differs from the payload";
        if (!why && zab_msg_request_encode(&again, &enc2) != 0)
            why = "a re-decoded request payload does not encode";
        if (!why && (enc.len != enc2.len || memcmp(enc.data, enc2.data, enc.len) != 0))
            why = "the request payload encoding is not stable";
    } else if (rc != ZAB_ECORRUPT) {
        why = "request payload decoding failed with an unexpected code";
    }
    zab_buf_free(&scratch);
    zab_buf_free(&scratch2);
    zab_buf_free(&enc);
    zab_buf_free(&enc2);
    return why;
}

static const char *fuzz_msg_message(const uint8_t *data, size_t len)
{
    zab_msg m;
    int rc = zab_msg_decode(data, len, FUZZ_MSG_MAX, &m);
    if (rc != 0) return rc == ZAB_ECORRUPT ? NULL : "decoding failed with an unexpected code";
    if (m.len > FUZZ_MSG_MAX) return "data longer than the maximum";
    if (m.len && (m.data < (const void *)data || (const uint8_t *)m.data + m.len > data + len))
        return "data does not point into the input";
    zab_buf enc = { 0 };
    const char *why = NULL;
    if (zab_msg_encode(&m, &enc) != 0)
        why = "a decoded message does not encode";
    else if (enc.len != len || memcmp(enc.data, data, len) != 0)
        why = "a decoded message does not encode to its own bytes";
    zab_buf_free(&enc);
    if (!why && m.type == ZAB_MSG_REQUEST) why = fuzz_msg_request(m.data, m.len);
    return why;
}

const char *zab_fuzz_msg_check(const uint8_t *data, size_t len)
{
    const char *why = fuzz_msg_message(data, len);
    return why ? why : fuzz_msg_request(data, len);
}

int zab_fuzz_msg(const uint8_t *data, size_t len)
{
    const char *why = zab_fuzz_msg_check(data, len);
    if (why) {
        fprintf(stderr, "fuzz_msg: %s\n", why);
        abort();
    }
    return 0;
}

#ifdef ZAB_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    return zab_fuzz_msg(data, len);
}
#endif
