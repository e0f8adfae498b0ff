/*
 * acl.h - ACL lists: interning, validation of a request's list, and the
 * permission check, exactly as ZooKeeper's ZooKeeperServer.checkACL,
 * PrepRequestProcessor.fixupACL and the world/auth/digest/ip providers do.
 */
#ifndef ZAB_TREE_ACL_H
#define ZAB_TREE_ACL_H

#include <stdint.h>

#include "zab.h"
#include "util/arena.h"

/* Who is asking, and under which rules. */
typedef struct zab_acl_policy {
    int skip;             /* zookeeper.skipACL */
    zab_str super_digest; /* a digest identity that is super; empty = none */
} zab_acl_policy;

/* ZAB_OK when the identities auth (plus world:anyone) hold perm on a node
 * whose ACL is acl[0..n): the list is empty, skip is set, an identity is
 * super (scheme "super", or a digest equal to the super digest), or an entry
 * grants a bit of perm to a matching identity (world:anyone; digest by exact
 * equality; ip by address under the entry's mask). Else ZAB_ENOAUTH. */
int zab_acl_check(const zab_acl_policy *pol, const zab_acl *acl, uint32_t n,
                  int32_t perm, const zab_id *auth, uint32_t nauth);

/* Validate a create/setACL list and expand it as ZooKeeper's fixupACL does:
 * drop duplicates (first kept), refuse an empty list, replace each "auth"
 * entry by one entry per authenticated identity of the connection (digest,
 * not ip, not super), refuse world ids other than "anyone", digest ids that
 * are not exactly "x:y" by Java's split rule, ip ids that are not an address
 * with an optional valid prefix length, and any other scheme. The output
 * array comes from the arena; its strings point into in[] and auth[].
 * ZAB_OK, ZAB_EINVALIDACL or ZAB_ENOMEM. */
int zab_acl_fixup(const zab_acl *in, uint32_t n, const zab_id *auth,
                  uint32_t nauth, zab_arena *scratch, const zab_acl **out,
                  uint32_t *nout);

/* A copy of acl in which every digest id is masked to "user:x" (what getACL
 * returns to a caller without ADMIN). Output in the arena; NULL on OOM. */
const zab_acl *zab_acl_masked(const zab_acl *acl, uint32_t n, zab_arena *scratch);

/* Interned ACL lists. Each distinct list is stored once, with a reference
 * count, and named by a small index: a million nodes with the same ACL cost
 * four bytes each. Indices are assigned deterministically (lowest free
 * index first), so replicas that apply the same history agree on them. */
typedef struct zab_acl_entry {
    uint32_t refs;     /* 0 = free slot */
    uint32_t n;
    uint64_t hash;     /* of the content; feeds the tree digest */
    zab_acl *list;     /* one allocation holding the entries and strings */
} zab_acl_entry;

typedef struct zab_acl_cache {
    zab_acl_entry *v;
    uint32_t len, cap;  /* slots in use / allocated in v */
    uint32_t *index;    /* open-addressed table of v positions + 1; 0 empty */
    uint32_t mask;      /* index has mask + 1 slots */
    uint32_t live;      /* entries with refs > 0 */
    uint32_t free_root; /* heap of free slots below len (slot + 1; 0 none) */
} zab_acl_cache;

void zab_acl_cache_init(zab_acl_cache *c);
void zab_acl_cache_fini(zab_acl_cache *c);
/* Find or store (copying) acl[0..n) and take one reference: *idx. ZAB_OK or
 * ZAB_ENOMEM. */
int zab_acl_intern(zab_acl_cache *c, const zab_acl *acl, uint32_t n, uint32_t *idx);
void zab_acl_ref(zab_acl_cache *c, uint32_t idx);
/* Drop one reference; the last one frees the list and its slot. */
void zab_acl_unref(zab_acl_cache *c, uint32_t idx);
/* The list at idx (borrowed) and its length. */
const zab_acl *zab_acl_get(const zab_acl_cache *c, uint32_t idx, uint32_t *n);
/* The content hash of the list at idx. */
uint64_t zab_acl_hash(const zab_acl_cache *c, uint32_t idx);
/* The content hash of any list (what zab_acl_hash gives once interned). */
uint64_t zab_acl_hash_list(const zab_acl *acl, uint32_t n);

#endif
