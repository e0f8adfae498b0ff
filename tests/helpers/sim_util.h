/*
 * sim_util.h - small helpers for ensemble tests on the simulator: writes,
 * waiting for a leader, and reading a replica's data.
 */
#ifndef ZAB_TESTS_SIM_UTIL_H
#define ZAB_TESTS_SIM_UTIL_H

#include <stdint.h>

#include "zab_sim.h"

/* Submit create(path, data) at node sid; returns zab_node_submit's code and
 * stores the write's id in *id. */
int su_create(zab_sim *sim, int64_t sid, const char *path, const char *data, uint64_t *id);
/* Submit setData(path, data). */
int su_set(zab_sim *sim, int64_t sid, const char *path, const char *data, uint64_t *id);
/* Create path at node sid the way a client does: retry while the node is
 * not serving or the outcome was lost (ZAB_ECONNECTIONLOSS), taking
 * ZAB_ENODEEXISTS after a lost outcome as the earlier attempt's success.
 * Returns the final error code (0 on success) or ZAB_EOPERATIONTIMEOUT. */
int su_create_retry(zab_sim *sim, int64_t sid, const char *path, const char *data, int64_t ms);
/* Run until some node leads an established epoch (at most ms); its sid or 0. */
int64_t su_wait_leader(zab_sim *sim, int64_t ms);
/* Run until write id has an outcome (at most ms); 1 and *err when known. */
int su_wait_result(zab_sim *sim, uint64_t id, int64_t ms, int32_t *err);
/* The data of path on node sid's replica into buf (NUL-terminated); the
 * error code of the read. */
int su_get(zab_sim *sim, int64_t sid, const char *path, char *buf, size_t cap);
/* A node's tree digest and last applied zxid. */
uint64_t su_digest(zab_sim *sim, int64_t sid);
int64_t su_applied(zab_sim *sim, int64_t sid);
/* Any follower (not the leader) that is running, or 0. */
int64_t su_follower(zab_sim *sim, uint32_t nodes);

#endif
