#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct zab_arena_block {
    zab_arena_block *next;
    size_t size;  /* usable bytes after the header */
    size_t used;
    max_align_t data[];
};

enum { ARENA_MIN_BLOCK = 4096 };

void *zab_arena_alloc(zab_arena *a, size_t len)
{
    const size_t align = sizeof(max_align_t);
    size_t need = (len + align - 1) & ~(align - 1);
    if (need < len) return NULL; /* overflow */
    zab_arena_block *b = a->head;
    if (!b || b->size - b->used < need) {
        size_t size = b ? b->size * 2 : ARENA_MIN_BLOCK;
        if (size < need) size = need;
        if (size > SIZE_MAX - sizeof(zab_arena_block)) return NULL;
        zab_arena_block *nb = malloc(sizeof(zab_arena_block) + size);
        if (!nb) return NULL;
        nb->next = b;
        nb->size = size;
        nb->used = 0;
        a->head = b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += need;
    return p;
}

char *zab_arena_dup(zab_arena *a, const void *bytes, size_t len)
{
    if (len == SIZE_MAX) return NULL;
    char *p = zab_arena_alloc(a, len + 1);
    if (!p) return NULL;
    if (len) memcpy(p, bytes, len);
    p[len] = 0;
    return p;
}

void zab_arena_reset(zab_arena *a)
{
    zab_arena_block *keep = NULL, *b = a->head;
    while (b) {
        zab_arena_block *next = b->next;
        if (!keep || b->size > keep->size) {
            if (keep) free(keep);
            keep = b;
        } else {
            free(b);
        }
        b = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
}

void zab_arena_free(zab_arena *a)
{
    zab_arena_block *b = a->head;
    while (b) {
        zab_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}
