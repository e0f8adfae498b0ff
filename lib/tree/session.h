/*
 * session.h - the replicated session table: every live global session with
 * its timeout, password and the paths of the ephemerals it owns. Expiry
 * timing is not here (the leader's tracker decides when to close); this is
 * the state that createSession and closeSession transactions change.
 */
#ifndef ZAB_TREE_SESSION_H
#define ZAB_TREE_SESSION_H

#include <stdint.h>

#include "zab.h"
#include "util/ptab.h"

typedef struct zab_session {
    int64_t id;
    int32_t timeout;
    uint8_t passwd[16];
    zab_strset ephemerals; /* full paths */
} zab_session;

typedef struct zab_sessions {
    zab_ptab tab;
} zab_sessions;

zab_session *zab_sessions_find(const zab_sessions *s, int64_t id);
/* Add a session with no ephemerals; NULL on OOM. id must be absent. */
zab_session *zab_sessions_add(zab_sessions *s, int64_t id, int32_t timeout,
                              const uint8_t passwd[16]);
/* Remove and free a session (its ephemeral set must already be handled). */
void zab_sessions_remove(zab_sessions *s, int64_t id);
void zab_sessions_free(zab_sessions *s);

/* The digest contribution of one session. */
uint64_t zab_session_hash(const zab_session *s);

#endif
