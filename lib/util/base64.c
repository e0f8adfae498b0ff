/*
 * base64.c - standard base64 (RFC 4648 section 4) with '=' padding, the form
 * ZooKeeper's digest provider writes.
 */
#include "util/prim.h"

static const char zab_base64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t zab_base64_encode(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0, i = 0;
    for (; len - i >= 3; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = zab_base64_alphabet[v >> 18];
        out[o++] = zab_base64_alphabet[v >> 12 & 63];
        out[o++] = zab_base64_alphabet[v >> 6 & 63];
        out[o++] = zab_base64_alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = zab_base64_alphabet[v >> 18];
        out[o++] = zab_base64_alphabet[v >> 12 & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = zab_base64_alphabet[v >> 18];
        out[o++] = zab_base64_alphabet[v >> 12 & 63];
        out[o++] = zab_base64_alphabet[v >> 6 & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}
