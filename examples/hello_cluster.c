/*
 * hello_cluster - three zab nodes in one process, over the simulator's
 * in-memory network and disks: a first ZooKeeper session's writes and
 * reads, then the leader stops, the others elect a new one, the data is
 * still there, and the old leader comes back and catches up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zab.h"
#include "zab_sim.h"

static zab_sim *sim;

static void die(const char *what)
{
    fprintf(stderr, "hello_cluster: %s (%s)\n", what,
            zab_sim_violation(sim) ? zab_sim_violation(sim) : "no violation");
    exit(1);
}

static int has_leader(zab_sim *s, void *arg)
{
    (void)arg;
    return zab_sim_leader(s) != 0;
}

static int64_t wait_leader(void)
{
    if (zab_sim_run_until(sim, 30000, has_leader, NULL) != 1) die("no leader elected");
    return zab_sim_leader(sim);
}

static int64_t epoch_of(int64_t sid)
{
    zab_node_stats st;
    zab_node_stats_get(zab_sim_node(sim, sid), &st);
    return st.current_epoch;
}

typedef struct pending {
    uint64_t id;
} pending;

static int answered(zab_sim *s, void *arg)
{
    int32_t err;
    int64_t zxid;
    return zab_sim_result(s, ((pending *)arg)->id, &err, &zxid);
}

/* Submit one write at node sid and wait for its outcome. */
static int64_t write_at(int64_t sid, zab_op op)
{
    zab_request req = { op.type, 0, NULL, 0, &op, 1 };
    pending p;
    /* A node that is not yet serving (still synchronizing with its leader)
     * answers ZAB_ECONNECTIONLOSS: a client retries, as ZooKeeper's do. */
    int rc, tries = 0;
    while ((rc = zab_sim_submit(sim, sid, &req, &p.id)) == ZAB_ECONNECTIONLOSS && tries++ < 100)
        if (zab_sim_run(sim, 50)) die("invariant broken");
    if (rc) die(zab_strerror(rc));
    if (zab_sim_run_until(sim, 10000, answered, &p) != 1) die("write not answered");
    int32_t err;
    int64_t zxid;
    zab_sim_result(sim, p.id, &err, &zxid);
    if (err) die(zab_strerror(err));
    return zxid;
}

static void show(int64_t sid, const char *path)
{
    zab_op op = zab_op_read(ZAB_OP_GET_DATA, path, 0);
    zab_request req = { op.type, 0, NULL, 0, &op, 1 };
    zab_reply r;
    if (zab_tree_read(zab_node_tree(zab_sim_node(sim, sid)), &req, &r) != 0) die("read failed");
    const zab_result *res = &r.results[0];
    printf("  node %lld reads %s = \"%.*s\" (version %d, mzxid 0x%llx)\n", (long long)sid, path,
           (int)res->data_len, (const char *)res->data, res->stat.version,
           (unsigned long long)res->stat.mzxid);
}

int main(void)
{
    zab_sim_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.voters = 3;
    cfg.seed = 42;
    sim = zab_sim_new(&cfg);
    if (!sim) die("out of memory");

    int64_t leader = wait_leader();
    printf("1. three nodes started; node %lld leads epoch %lld (at %lld ms)\n", (long long)leader,
           (long long)epoch_of(leader), (long long)zab_sim_now(sim));

    int64_t follower = leader == 1 ? 2 : 1;
    int64_t zxid = write_at(follower, zab_op_create("/test", "hello", 5, zab_acl_open, 1, ZAB_PERSISTENT));
    printf("2. create /test \"hello\" through follower %lld: committed at zxid 0x%llx\n",
           (long long)follower, (unsigned long long)zxid);
    /* Another replica may apply it a moment later, as a ZooKeeper follower
     * may: let every node catch up before reading everywhere. */
    if (zab_sim_settle(sim, 10000) != 1) die("nodes did not converge");
    for (int64_t s = 1; s <= 3; s++) show(s, "/test");

    zxid = write_at(leader, zab_op_set_data("/test", "world", 5, 0));
    printf("3. set /test \"world\" (expected version 0) at the leader: zxid 0x%llx\n",
           (unsigned long long)zxid);
    show(leader, "/test");

    if (zab_sim_crash(sim, leader)) die("crash failed");
    printf("4. node %lld (the leader) stops\n", (long long)leader);
    int64_t next = wait_leader();
    printf("5. node %lld now leads epoch %lld; the data survived:\n", (long long)next,
           (long long)epoch_of(next));
    show(next, "/test");

    zxid = write_at(next, zab_op_set_data("/test", "again", 5, -1));
    printf("6. set /test \"again\" under the new leader: zxid 0x%llx\n", (unsigned long long)zxid);

    if (zab_sim_restart(sim, leader)) die("restart failed");
    if (zab_sim_settle(sim, 30000) != 1) die("nodes did not converge");
    printf("7. node %lld is back and has caught up:\n", (long long)leader);
    show(leader, "/test");

    zab_tree_stats a, b, c;
    zab_tree_stats_get(zab_node_tree(zab_sim_node(sim, 1)), &a);
    zab_tree_stats_get(zab_node_tree(zab_sim_node(sim, 2)), &b);
    zab_tree_stats_get(zab_node_tree(zab_sim_node(sim, 3)), &c);
    if (a.digest != b.digest || b.digest != c.digest) die("replicas differ");
    printf("8. all three replicas at zxid 0x%llx with digest %016llx\n",
           (unsigned long long)a.last_zxid, (unsigned long long)a.digest);
    printf("hello_cluster: ok\n");
    zab_sim_free(sim);
    return 0;
}
