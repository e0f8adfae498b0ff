#include "helpers/sim_util.h"

#include <string.h>

int su_create(zab_sim *sim, int64_t sid, const char *path, const char *data, uint64_t *id)
{
    zab_op op = zab_op_create(path, data, (int32_t)strlen(data), zab_acl_open, 1, ZAB_PERSISTENT);
    zab_request req = { op.type, 0, NULL, 0, &op, 1 };
    return zab_sim_submit(sim, sid, &req, id);
}

int su_set(zab_sim *sim, int64_t sid, const char *path, const char *data, uint64_t *id)
{
    zab_op op = zab_op_set_data(path, data, (int32_t)strlen(data), -1);
    zab_request req = { op.type, 0, NULL, 0, &op, 1 };
    return zab_sim_submit(sim, sid, &req, id);
}

static int has_leader(zab_sim *sim, void *arg)
{
    (void)arg;
    return zab_sim_leader(sim) != 0;
}

int64_t su_wait_leader(zab_sim *sim, int64_t ms)
{
    return zab_sim_run_until(sim, ms, has_leader, NULL) == 1 ? zab_sim_leader(sim) : 0;
}

typedef struct result_wait {
    uint64_t id;
} result_wait;

static int has_result(zab_sim *sim, void *arg)
{
    int32_t err;
    int64_t zxid;
    return zab_sim_result(sim, ((result_wait *)arg)->id, &err, &zxid);
}

int su_wait_result(zab_sim *sim, uint64_t id, int64_t ms, int32_t *err)
{
    result_wait w = { id };
    if (zab_sim_run_until(sim, ms, has_result, &w) != 1) return 0;
    int64_t zxid;
    return zab_sim_result(sim, id, err, &zxid);
}

int su_get(zab_sim *sim, int64_t sid, const char *path, char *buf, size_t cap)
{
    zab_node *n = zab_sim_node(sim, sid);
    if (!n) return ZAB_ECONNECTIONLOSS;
    zab_op op = zab_op_read(ZAB_OP_GET_DATA, path, 0);
    zab_request req = { op.type, 0, NULL, 0, &op, 1 };
    zab_reply r;
    int rc = zab_tree_read(zab_node_tree(n), &req, &r);
    buf[0] = 0;
    if (rc == 0) {
        size_t len = r.results[0].data_len > 0 ? (size_t)r.results[0].data_len : 0;
        if (len >= cap) len = cap - 1;
        memcpy(buf, r.results[0].data, len);
        buf[len] = 0;
    }
    return rc;
}

uint64_t su_digest(zab_sim *sim, int64_t sid)
{
    zab_node *n = zab_sim_node(sim, sid);
    if (!n) return 0;
    zab_tree_stats st;
    zab_tree_stats_get(zab_node_tree(n), &st);
    return st.digest;
}

int64_t su_applied(zab_sim *sim, int64_t sid)
{
    zab_node *n = zab_sim_node(sim, sid);
    if (!n) return -1;
    zab_node_stats st;
    zab_node_stats_get(n, &st);
    return st.last_applied;
}

int64_t su_follower(zab_sim *sim, uint32_t nodes)
{
    int64_t leader = zab_sim_leader(sim);
    for (uint32_t s = 1; s <= nodes; s++)
        if ((int64_t)s != leader && zab_sim_node(sim, s)) return s;
    return 0;
}

int su_create_retry(zab_sim *sim, int64_t sid, const char *path, const char *data, int64_t ms)
{
    int64_t end = zab_sim_now(sim) + ms;
    int lost = 0;
    while (zab_sim_now(sim) < end) {
        uint64_t id;
        int rc = su_create(sim, sid, path, data, &id);
        int32_t err = rc;
        if (rc == 0 && !su_wait_result(sim, id, end - zab_sim_now(sim), &err)) break;
        if (err == 0 || (lost && err == ZAB_ENODEEXISTS)) return 0;
        if (err != ZAB_ECONNECTIONLOSS) return err;
        lost |= rc == 0; /* submitted, outcome unknown */
        if (zab_sim_run(sim, 50) == ZAB_EFAILED) return ZAB_EFAILED;
    }
    return ZAB_EOPERATIONTIMEOUT;
}
