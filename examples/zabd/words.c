/*
 * words.c - the four-letter words zabd answers: ruok, srvr, stat, mntr,
 * conf, cons, wchs, isro and envi, in ZooKeeper 3.8's formats. The others
 * ZooKeeper knows are answered with a line saying they are not supported,
 * as are those the whitelist leaves out (in ZooKeeper's words).
 */
#include <dirent.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "net.h"
#include "words.h"

#define VERSION "3.8.0-zabd-" ZAB_VERSION_STRING
#define VERSION_LINE VERSION ", built on zab " ZAB_VERSION_STRING

static const char *const known[] = {
    "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
    "mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs",
};

static const uint8_t telnet_close[4] = { 0xff, 0xf4, 0xff, 0xfd };

int zabd_words_known(const uint8_t p[4])
{
    if (!memcmp(p, telnet_close, 4)) return 1;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!memcmp(p, known[i], 4)) return 1;
    return 0;
}

__attribute__((format(printf, 2, 3)))
static void put(zab_buf *out, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n <= 0) return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    (void)zab_buf_append(out, line, len);
}

/* ---- what the server is doing ---- */

struct view {
    struct zabd_net *net;
    const struct zabd_config *zoo;
    zab_node_stats node;
    zab_tree_stats tree;
    struct zabd_net_stats io;
};

static void look(struct zabd_net *net, struct view *v)
{
    v->net = net;
    v->zoo = zabd_net_config(net)->zoo;
    zab_server_stats(zabd_net_server(net), &v->node);
    zab_server_tree_stats(zabd_net_server(net), &v->tree);
    zabd_net_stats(net, &v->io);
}

static const char *mode(const struct view *v)
{
    if (v->zoo->standalone) return "standalone";
    switch (v->node.role) {
    case ZAB_LEADING: return "leader";
    case ZAB_FOLLOWING: return "follower";
    case ZAB_OBSERVING: return "observer";
    default: return "looking";
    }
}

static int serving(const struct view *v)
{
    return v->node.serving && !v->node.stopped;
}

/* ZooKeeper prints the average latency rounded to four decimals, with at
 * least one ("0.0", "1.2857"). */
static void put_average(zab_buf *out, const struct view *v)
{
    uint64_t n = v->io.answered;
    double avg = n ? (double)v->io.latency_sum_ms / (double)n : 0.0;
    char text[64];
    snprintf(text, sizeof text, "%.4f", avg);
    size_t len = strlen(text);
    while (len > 0 && text[len - 1] == '0' && text[len - 2] != '.') len--;
    (void)zab_buf_append(out, text, len);
}

static int64_t min_latency(const struct view *v)
{
    return v->io.latency_min_ms < 0 ? 0 : v->io.latency_min_ms;
}

/* ---- the words ---- */

static void not_serving(zab_buf *out)
{
    put(out, "This ZooKeeper instance is not currently serving requests\n");
}

static void describe_short(void *ctx, struct zabd_conn *c)
{
    zabd_conn_describe(c, 0, ctx);
}

static void describe_full(void *ctx, struct zabd_conn *c)
{
    zabd_conn_describe(c, 1, ctx);
}

/* ZooKeeper's node count holds the root twice (under "" and "/"). */
static uint64_t node_count(const struct view *v)
{
    return v->tree.nodes + 1;
}

static void srvr(struct view *v, int with_clients, zab_buf *out)
{
    if (!serving(v)) {
        not_serving(out);
        return;
    }
    put(out, "Zookeeper version: %s\n", VERSION_LINE);
    if (with_clients) {
        put(out, "Clients:\n");
        zabd_net_each_conn(v->net, describe_short, out);
        put(out, "\n");
    }
    put(out, "Latency min/avg/max: %" PRId64 "/", min_latency(v));
    put_average(out, v);
    put(out, "/%" PRId64 "\n", v->io.latency_max_ms);
    put(out, "Received: %" PRIu64 "\n", v->io.received);
    put(out, "Sent: %" PRIu64 "\n", v->io.sent);
    put(out, "Connections: %" PRIu32 "\n", v->io.connections);
    put(out, "Outstanding: %" PRIu64 "\n", v->io.outstanding);
    put(out, "Zxid: 0x%" PRIx64 "\n", (uint64_t)v->node.last_applied);
    put(out, "Mode: %s\n", mode(v));
    put(out, "Node count: %" PRIu64 "\n", node_count(v));
}

static void wchs(struct view *v, zab_buf *out)
{
    put(out, "%" PRIu64 " connections watching %" PRIu64 " paths\n", v->tree.watchers,
        v->tree.watched_paths);
    put(out, "Total watches:%" PRIu64 "\n", v->tree.watches);
}

static uint64_t open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 0;
    uint64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* not the one reading the directory */
}

static void mntr(struct view *v, zab_buf *out)
{
    if (!serving(v)) {
        not_serving(out);
        return;
    }
    put(out, "zk_version\t%s\n", VERSION_LINE);
    put(out, "zk_server_state\t%s\n", mode(v));
    put(out, "zk_num_alive_connections\t%" PRIu32 "\n", v->io.connections);
    put(out, "zk_avg_latency\t");
    put_average(out, v);
    put(out, "\n");
    put(out, "zk_min_latency\t%" PRId64 "\n", min_latency(v));
    put(out, "zk_max_latency\t%" PRId64 "\n", v->io.latency_max_ms);
    put(out, "zk_outstanding_requests\t%" PRIu64 "\n", v->io.outstanding);
    put(out, "zk_packets_received\t%" PRIu64 "\n", v->io.received);
    put(out, "zk_packets_sent\t%" PRIu64 "\n", v->io.sent);
    put(out, "zk_auth_failed_count\t%" PRIu64 "\n", v->io.auth_failed);
    put(out, "zk_connection_rejected\t%" PRIu64 "\n", v->io.rejected);
    put(out, "zk_uptime\t%" PRId64 "\n", zabd_wall_ms() - zabd_net_started_ms(v->net));
    put(out, "zk_znode_count\t%" PRIu64 "\n", node_count(v));
    put(out, "zk_watch_count\t%" PRIu64 "\n", v->tree.watches);
    put(out, "zk_ephemerals_count\t%" PRIu64 "\n", v->tree.ephemerals);
    put(out, "zk_approximate_data_size\t%" PRIu64 "\n", v->tree.data_bytes);
    put(out, "zk_global_sessions\t%" PRIu64 "\n", v->tree.sessions);
    put(out, "zk_local_sessions\t0\n");
    put(out, "zk_open_file_descriptor_count\t%" PRIu64 "\n", open_fds());
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl))
        put(out, "zk_max_file_descriptor_count\t%" PRIu64 "\n", (uint64_t)rl.rlim_cur);
    put(out, "zk_election_count\t%" PRIu64 "\n", v->node.elections);
    if (v->node.role == ZAB_LEADING && !v->zoo->standalone) {
        put(out, "zk_synced_followers\t%" PRIu32 "\n", v->node.learners_synced);
        put(out, "zk_pending_proposals\t%" PRIu64 "\n", v->node.in_flight);
    }
}

static void conf(struct view *v, zab_buf *out)
{
    const struct zabd_config *z = v->zoo;
    put(out, "clientPort=%u\n", (unsigned)z->client_port);
    put(out, "secureClientPort=-1\n");
    put(out, "dataDir=%s\n", z->data_dir);
    put(out, "dataLogDir=%s\n", z->data_log_dir ? z->data_log_dir : z->data_dir);
    put(out, "tickTime=%" PRIu32 "\n", z->tick_ms);
    put(out, "maxClientCnxns=%" PRIu32 "\n", z->max_client_cnxns);
    put(out, "minSessionTimeout=%" PRIu32 "\n", z->min_session_timeout_ms);
    put(out, "maxSessionTimeout=%" PRIu32 "\n", z->max_session_timeout_ms);
    put(out, "clientPortListenBacklog=-1\n");
    put(out, "serverId=%" PRId64 "\n", z->myid);
    if (z->standalone) return;
    put(out, "initLimit=%" PRIu32 "\n", z->init_limit);
    put(out, "syncLimit=%" PRIu32 "\n", z->sync_limit);
    put(out, "electionAlg=3\n");
    for (uint32_t i = 0; i < z->nservers; i++) {
        const struct zabd_server *s = &z->servers[i];
        if (s->sid != z->myid) continue;
        put(out, "electionPort=%u\n", (unsigned)s->election_port);
        put(out, "quorumPort=%u\n", (unsigned)s->quorum_port);
    }
    put(out, "peerType=%d\n", z->observer ? 1 : 0);
    put(out, "membership: \n");
    for (uint32_t i = 0; i < z->nservers; i++) {
        const struct zabd_server *s = &z->servers[i];
        put(out, "server.%" PRId64 "=%s:%u:%u:%s", s->sid, s->host, (unsigned)s->quorum_port,
            (unsigned)s->election_port, s->observer ? "observer" : "participant");
        if (s->client_port)
            put(out, ";%s:%u", s->client_host ? s->client_host : "0.0.0.0",
                (unsigned)s->client_port);
        put(out, "\n");
    }
}

static void envi(zab_buf *out)
{
    put(out, "Environment:\n");
    put(out, "zookeeper.version=%s\n", VERSION_LINE);
    char text[4096];
    if (!gethostname(text, sizeof text)) {
        text[sizeof text - 1] = '\0';
        put(out, "host.name=%s\n", text);
    }
    struct utsname u;
    if (!uname(&u)) {
        put(out, "os.name=%s\n", u.sysname);
        put(out, "os.arch=%s\n", u.machine);
        put(out, "os.version=%s\n", u.release);
    }
    struct passwd pw, *found = NULL;
    if (!getpwuid_r(getuid(), &pw, text, sizeof text, &found) && found) {
        put(out, "user.name=%s\n", pw.pw_name);
        put(out, "user.home=%s\n", pw.pw_dir);
    }
    if (getcwd(text, sizeof text)) put(out, "user.dir=%s\n", text);
}

void zabd_words_answer(struct zabd_net *net, const uint8_t p[4], zab_buf *out)
{
    if (!memcmp(p, telnet_close, 4)) return;
    char word[5];
    memcpy(word, p, 4);
    word[4] = '\0';
    struct view v;
    look(net, &v);
    /* srvr is always allowed, as in ZooKeeper 3.5 and later. */
    if (strcmp(word, "srvr") && !zabd_config_allows(v.zoo, word)) {
        put(out, "%s is not executed because it is not in the whitelist.\n", word);
        return;
    }
    if (!strcmp(word, "ruok")) put(out, "imok");
    else if (!strcmp(word, "isro")) put(out, "%s", serving(&v) ? "rw" : "null");
    else if (!strcmp(word, "srvr")) srvr(&v, 0, out);
    else if (!strcmp(word, "stat")) srvr(&v, 1, out);
    else if (!strcmp(word, "mntr")) mntr(&v, out);
    else if (!strcmp(word, "conf")) conf(&v, out);
    else if (!strcmp(word, "envi")) envi(out);
    else if (!strcmp(word, "wchs")) wchs(&v, out);
    else if (!strcmp(word, "cons")) {
        zabd_net_each_conn(net, describe_full, out);
        put(out, "\n");
    } else put(out, "%s is not executed because this server does not support it.\n", word);
}

const char *zabd_words_op_name(int32_t opcode)
{
    switch (opcode) {
    case ZAB_OP_CREATE: case ZAB_OP_CREATE2: case ZAB_OP_CREATE_CONTAINER:
    case ZAB_OP_CREATE_TTL: return "CREA";
    case ZAB_OP_DELETE: case ZAB_OP_DELETE_CONTAINER: return "DELE";
    case ZAB_OP_EXISTS: return "EXIS";
    case ZAB_OP_GET_DATA: return "GETD";
    case ZAB_OP_SET_DATA: return "SETD";
    case ZAB_OP_GET_ACL: return "GETA";
    case ZAB_OP_SET_ACL: return "SETA";
    case ZAB_OP_GET_CHILDREN: case ZAB_OP_GET_CHILDREN2: return "GETC";
    case ZAB_OP_SYNC: return "SYNC";
    case ZAB_OP_PING: return "PING";
    case ZAB_OP_MULTI: return "MULT";
    case ZAB_OP_MULTI_READ: return "MLTR";
    case ZAB_OP_CHECK_WATCHES: return "CHKW";
    case ZAB_OP_REMOVE_WATCHES: return "REMW";
    case ZAB_OP_ADD_WATCH: return "ADDW";
    case ZAB_OP_SET_WATCHES: case ZAB_OP_SET_WATCHES2: return "SETW";
    case ZAB_OP_GET_EPHEMERALS: return "GETE";
    case ZAB_OP_GET_ALL_CHILDREN_NUMBER: return "GTCN";
    case ZAB_OP_WHO_AM_I: return "HOMI";
    case ZAB_OP_CLOSE_SESSION: return "CLOS";
    case ZAB_OP_RECONFIG: return "RECO";
    case -1: return "NA";
    default: return "UNKN";
    }
}
