/*
 * reap.c - which nodes the leader's reaper may delete, as ZooKeeper's
 * ContainerManager decides it: a container with no children that has had
 * one (or, if max_never_used_ms is set, that has been empty and untouched
 * that long), and a TTL node with no children whose mtime is older than its
 * TTL. The deletions themselves are ordinary deleteContainer transactions,
 * which re-check everything in prepare (a child created meanwhile wins).
 */
#include <stdlib.h>
#include <string.h>

#include "tree/tree.h"

static int reapable(const zab_znode *n, int64_t now, uint64_t max_never_used_ms)
{
    if (n->nchildren) return 0;
    switch (zab_owner_kind(n->owner)) {
    case ZAB_KIND_CONTAINER:
        if (n->cversion > 0) return 1;
        return max_never_used_ms && now - n->mtime > (int64_t)max_never_used_ms;
    case ZAB_KIND_TTL: {
        int64_t ttl = n->owner & ZAB_TTL_MAX;
        return ttl && now - n->mtime > ttl;
    }
    default:
        return 0;
    }
}

typedef struct frame {
    const zab_znode *node;
    uint32_t path_len;
} frame;

int zab_tree_reapable(zab_tree *t, int64_t now, uint64_t max_never_used_ms, uint32_t max,
                      zab_str **out, uint32_t *n_out)
{
    zab_arena_reset(&t->scratch);
    *out = NULL;
    *n_out = 0;
    if (!max) return 0;
    zab_str *paths = zab_arena_alloc(&t->scratch, max * sizeof(*paths));
    size_t cap = 64, len = 0, path_cap = 256;
    frame *stack = malloc(cap * sizeof(*stack));
    char *path = malloc(path_cap);
    int rc = 0;
    if (!paths || !stack || !path) {
        rc = ZAB_ENOMEM;
        goto done;
    }
    /* Depth first with an explicit stack; each frame remembers how long the
     * path was when its node was pushed. */
    stack[len++] = (frame){ t->root, 0 };
    while (len && *n_out < max) {
        frame f = stack[--len];
        uint32_t plen = f.path_len;
        if (f.node != t->root) {
            zab_str name = zab_znode_name(f.node);
            if (plen + 1 + name.len > path_cap) {
                while (plen + 1 + name.len > path_cap) path_cap *= 2;
                char *grown = realloc(path, path_cap);
                if (!grown) {
                    rc = ZAB_ENOMEM;
                    goto done;
                }
                path = grown;
            }
            path[plen++] = '/';
            memcpy(path + plen, name.ptr, name.len);
            plen += name.len;
            if (reapable(f.node, now, max_never_used_ms)) {
                char *copy = zab_arena_dup(&t->scratch, path, plen);
                if (!copy) {
                    rc = ZAB_ENOMEM;
                    goto done;
                }
                paths[(*n_out)++] = (zab_str){ copy, plen };
            }
        }
        if (len + f.node->nchildren > cap) {
            while (len + f.node->nchildren > cap) cap *= 2;
            frame *grown = realloc(stack, cap * sizeof(*stack));
            if (!grown) {
                rc = ZAB_ENOMEM;
                goto done;
            }
            stack = grown;
        }
        uint32_t i = 0;
        for (zab_znode *c; (c = zab_znode_next_child(f.node, &i));) stack[len++] = (frame){ c, plen };
    }
    *out = paths;
done:
    if (rc) *n_out = 0;
    free(stack);
    free(path);
    return rc;
}
