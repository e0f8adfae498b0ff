/*
 * reply_copy.c - a reply that outlives the tree call that produced it.
 *
 * A reply's results point into the tree and are overwritten by its next
 * call, so a client waiting on another thread gets a deep copy: one block
 * holding the reply, its results, their arrays, then every string and data
 * byte, so that zab_reply_free is a single free().
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"

/* Where the next array and the next bytes go while a copy is built. */
typedef struct layout {
    char *base;
    size_t arrays; /* offset of the next array */
    size_t bytes;  /* offset of the next string or data byte */
} layout;

static size_t align_up(size_t n)
{
    size_t a = alignof(max_align_t);
    return (n + a - 1) / a * a;
}

static size_t data_bytes(const zab_result *r)
{
    size_t n = r->path.len + (r->data_len > 0 ? (size_t)r->data_len : 0);
    for (uint32_t i = 0; i < r->nnames; i++) n += r->names[i].len;
    for (uint32_t i = 0; i < r->nacl; i++) n += r->acl[i].id.scheme.len + r->acl[i].id.id.len;
    return n;
}

static size_t array_bytes(const zab_result *r)
{
    return align_up(r->nnames * sizeof(zab_str)) + align_up(r->nacl * sizeof(zab_acl));
}

static void *take_array(layout *l, size_t size)
{
    void *at = l->base + l->arrays;
    l->arrays += align_up(size);
    return at;
}

/* A copy of s among the bytes; an empty view keeps its pointer's nullness
 * (a null path and an empty one mean different things to a client). */
static zab_str copy_str(layout *l, zab_str s)
{
    zab_str out = { NULL, s.len };
    if (!s.ptr) return out;
    out.ptr = l->base + l->bytes;
    if (s.len) memcpy(l->base + l->bytes, s.ptr, s.len);
    l->bytes += s.len;
    return out;
}

static void copy_result(layout *l, zab_result *dst, const zab_result *src)
{
    *dst = *src;
    dst->path = copy_str(l, src->path);
    if (src->data_len >= 0 && src->data) {
        zab_str d = copy_str(l, (zab_str){ src->data, (uint32_t)src->data_len });
        dst->data = d.ptr;
    } else {
        dst->data = NULL;
    }
    zab_str *names = NULL;
    if (src->nnames) {
        names = take_array(l, src->nnames * sizeof(zab_str));
        for (uint32_t i = 0; i < src->nnames; i++) names[i] = copy_str(l, src->names[i]);
    }
    dst->names = names;
    zab_acl *acl = NULL;
    if (src->nacl) {
        acl = take_array(l, src->nacl * sizeof(zab_acl));
        for (uint32_t i = 0; i < src->nacl; i++) {
            acl[i].perms = src->acl[i].perms;
            acl[i].id.scheme = copy_str(l, src->acl[i].id.scheme);
            acl[i].id.id = copy_str(l, src->acl[i].id.id);
        }
    }
    dst->acl = acl;
}

zab_reply *zab_host_reply_copy(const zab_reply *reply)
{
    /* Every size below counts memory the reply already occupies, so the
     * sums cannot overflow a size_t. */
    size_t arrays = align_up(sizeof(zab_reply)) + align_up(reply->nresults * sizeof(zab_result));
    size_t bytes = 0;
    for (uint32_t i = 0; i < reply->nresults; i++) {
        arrays += array_bytes(&reply->results[i]);
        bytes += data_bytes(&reply->results[i]);
    }
    char *base = malloc(arrays + bytes + 1);
    if (!base) return NULL;
    layout l = { base, 0, arrays };
    zab_reply *out = take_array(&l, sizeof(zab_reply));
    *out = *reply;
    zab_result *results = NULL;
    if (reply->nresults) {
        results = take_array(&l, reply->nresults * sizeof(zab_result));
        for (uint32_t i = 0; i < reply->nresults; i++)
            copy_result(&l, &results[i], &reply->results[i]);
    }
    out->results = results;
    return out;
}

void zab_reply_free(zab_reply *reply)
{
    free(reply);
}
