/*
 * arena.h - a bump allocator for per-call scratch memory.
 *
 * Allocations stay where they are until zab_arena_reset(), so results that
 * point into an arena remain valid while more is allocated. Reset keeps the
 * largest block for reuse, so a steady workload stops calling malloc.
 */
#ifndef ZAB_UTIL_ARENA_H
#define ZAB_UTIL_ARENA_H

#include <stddef.h>

typedef struct zab_arena_block zab_arena_block;

typedef struct zab_arena {
    zab_arena_block *head; /* newest block first */
} zab_arena;

/* len bytes aligned for any scalar type; NULL when memory runs out. */
void *zab_arena_alloc(zab_arena *a, size_t len);
/* A copy of len bytes (NUL-terminated for convenience); NULL on OOM. */
char *zab_arena_dup(zab_arena *a, const void *bytes, size_t len);
/* Forget every allocation; keep one block for reuse. */
void zab_arena_reset(zab_arena *a);
/* Release everything. */
void zab_arena_free(zab_arena *a);

#endif
