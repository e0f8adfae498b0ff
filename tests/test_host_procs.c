/*
 * Three zab_servers as three processes on 127.0.0.1, each with an
 * in-process client writing continuously: the leader's process is killed
 * with SIGKILL, a new leader takes over and the writes resume, the old
 * leader comes back and catches up, and after all three are killed and
 * restarted every write a client saw acknowledged is still there.
 *
 * Children report over pipes ("role <n>", "ack <name>"); the parent owns
 * every process it forks and kills each by its pid (and a child dies with
 * its parent). ZAB_PROCS_LOG=1 prints the servers' logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "zab.h"

enum { SERVERS = 3, MAX_ACKED = 200000 };

static uint16_t base_port;
static char root[64];

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the child ---- */

static int out_fd;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n <= 0 || write(out_fd, line, (size_t)n) != n) _exit(3);
}

static void log_line(void *ctx, int level, const char *line)
{
    (void)ctx;
    if (level <= 2 && getenv("ZAB_PROCS_LOG"))
        fprintf(stderr, "%llu %s\n", (unsigned long long)now_ms() % 100000, line);
}

static zab_server *start(int64_t sid)
{
    zab_server_member members[SERVERS];
    for (int i = 0; i < SERVERS; i++)
        members[i] = (zab_server_member){ i + 1, "127.0.0.1", (uint16_t)(base_port + i), 0 };
    char dir[96];
    snprintf(dir, sizeof dir, "%s/%" PRId64, root, sid);
    zab_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.sid = sid;
    cfg.members = members;
    cfg.nmembers = SERVERS;
    cfg.data_dir = dir;
    cfg.tick_ms = 100;
    cfg.init_limit = 30;
    cfg.log = log_line;
    cfg.segment_bytes = 4 << 20;
    zab_server *s = NULL;
    char err[256];
    if (zab_server_start(&cfg, &s, err, sizeof err)) {
        fprintf(stderr, "server %" PRId64 ": %s\n", sid, err);
        _exit(2);
    }
    return s;
}

/* Write /w<sid>-<n> for n = 0, 1, ... reporting each acknowledged one. */
static void writer(int64_t sid)
{
    zab_server *s = start(sid);
    if (zab_server_wait_serving(s, 20000)) _exit(4);
    zab_node_stats st;
    zab_server_stats(s, &st);
    say("role %d\n", st.role);
    zab_client *c = NULL;
    while (zab_client_open(s, 4000, NULL, NULL, &c)) usleep(10000);
    for (uint64_t n = 0;; n++) {
        char path[48];
        snprintf(path, sizeof path, "/w%" PRId64 "-%" PRIu64, sid, n);
        int rc;
        do {
            rc = zab_client_create(c, path, "x", 1, zab_acl_open, 1, ZAB_PERSISTENT, NULL, 0);
            if (rc == ZAB_ENODEEXISTS) rc = 0; /* an earlier try's, whose outcome was lost */
            if (rc) usleep(5000);
        } while (rc);
        say("ack %s\n", path);
    }
}

/* Check that every path listed in the file exists; report the misses. */
static void verifier(int64_t sid, const char *list)
{
    zab_server *s = start(sid);
    if (zab_server_wait_serving(s, 20000)) _exit(4);
    zab_client *c = NULL;
    while (zab_client_open(s, 4000, NULL, NULL, &c)) usleep(10000);
    if (zab_client_sync(c, "/")) _exit(5);
    FILE *f = fopen(list, "r");
    if (!f) _exit(6);
    char path[64];
    unsigned long missing = 0, checked = 0;
    while (fgets(path, sizeof path, f)) {
        path[strcspn(path, "\n")] = 0;
        checked++;
        int rc;
        /* A leader change while we read: ask again, as a client would. */
        for (int tries = 0; (rc = zab_client_exists(c, path, 0, NULL)) == ZAB_ECONNECTIONLOSS &&
                            tries < 1000; tries++)
            usleep(10000);
        if (rc != ZAB_OK) {
            if (!missing) fprintf(stderr, "server %" PRId64 ": %s: %s\n", sid, path, zab_strerror(rc));
            missing++;
        }
    }
    fclose(f);
    say("checked %lu missing %lu\n", checked, missing);
    /* Keep serving until the parent ends us: the others may still read. */
    for (;;) pause();
}

/* ---- the parent ---- */

typedef struct proc {
    pid_t pid;
    int from;
    char buf[256];
    size_t len;
} proc;

static proc procs[SERVERS];

static void spawn(int i, const char *list)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* A parent that dies (a failed assertion) takes its children along. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(fds[0]);
        out_fd = fds[1];
        if (list) verifier(i + 1, list);
        writer(i + 1);
        _exit(0);
    }
    close(fds[1]);
    (void)fcntl(fds[0], F_SETFL, O_NONBLOCK);
    procs[i] = (proc){ pid, fds[0], { 0 }, 0 };
}

static void kill_proc(int i)
{
    if (procs[i].pid <= 0) return;
    kill(procs[i].pid, SIGKILL);
    waitpid(procs[i].pid, NULL, 0);
    close(procs[i].from);
    procs[i].pid = 0;
}

static char **acked;
static size_t nacked;

/* Read what the children said for up to ms; on_line gets each line. */
static void listen_for(uint64_t ms, void (*on_line)(int i, const char *line, void *), void *arg)
{
    uint64_t until = now_ms() + ms;
    while (now_ms() < until) {
        struct pollfd p[SERVERS];
        int idx[SERVERS], k = 0;
        for (int i = 0; i < SERVERS; i++) {
            if (procs[i].pid <= 0) continue;
            p[k] = (struct pollfd){ .fd = procs[i].from, .events = POLLIN };
            idx[k++] = i;
        }
        if (poll(p, (nfds_t)k, 20) <= 0) continue;
        for (int j = 0; j < k; j++) {
            proc *pr = &procs[idx[j]];
            if (!(p[j].revents & (POLLIN | POLLHUP))) continue;
            ssize_t r = read(pr->from, pr->buf + pr->len, sizeof pr->buf - 1 - pr->len);
            if (r <= 0) continue;
            pr->len += (size_t)r;
            char *nl;
            while ((nl = memchr(pr->buf, '\n', pr->len))) {
                *nl = 0;
                on_line(idx[j], pr->buf, arg);
                size_t used = (size_t)(nl - pr->buf) + 1;
                memmove(pr->buf, nl + 1, pr->len - used);
                pr->len -= used;
            }
        }
    }
}

typedef struct tally {
    int leader;
    uint64_t acks[SERVERS];
    unsigned long checked, missing;
    int verified;
} tally;

static void on_line(int i, const char *line, void *arg)
{
    tally *t = arg;
    int role;
    char path[64];
    unsigned long a, b;
    if (sscanf(line, "role %d", &role) == 1 && role == ZAB_LEADING) t->leader = i;
    if (sscanf(line, "ack %63s", path) == 1 && nacked < MAX_ACKED) {
        acked[nacked++] = strdup(path);
        t->acks[i]++;
    }
    if (sscanf(line, "checked %lu missing %lu", &a, &b) == 2) {
        t->checked += a;
        t->missing += b;
        t->verified++;
    }
}

/* Every server running has acknowledged a write since `before`. */
static int all_wrote(const tally *t, const uint64_t *before)
{
    for (int i = 0; i < SERVERS; i++)
        if (procs[i].pid > 0 && t->acks[i] <= before[i]) return 0;
    return 1;
}

/* Listen until every running server wrote again, or ms pass. */
static void until_all_wrote(tally *t, uint64_t ms)
{
    uint64_t before[SERVERS];
    memcpy(before, t->acks, sizeof before);
    for (uint64_t until = now_ms() + ms; !all_wrote(t, before) && now_ms() < until;)
        listen_for(50, on_line, t);
}

START_TEST(leader_killed_nothing_acknowledged_lost)
{
    signal(SIGPIPE, SIG_IGN);
    base_port = (uint16_t)(20000 + (getpid() % 4000) * 3); /* below the ephemeral range */
    snprintf(root, sizeof root, "/tmp/zab-procs-%d", (int)getpid());
    ck_assert_int_eq(mkdir(root, 0700), 0);
    acked = calloc(MAX_ACKED, sizeof *acked);
    ck_assert_ptr_nonnull(acked);

    tally t = { .leader = -1 };
    for (int i = 0; i < SERVERS; i++) spawn(i, NULL);
    until_all_wrote(&t, 15000);
    listen_for(1000, on_line, &t);
    ck_assert_msg(t.leader >= 0, "no leader reported");
    for (int i = 0; i < SERVERS; i++) ck_assert_uint_gt(t.acks[i], 0);

    /* SIGKILL the leader: the others carry on under a new one. */
    int old = t.leader;
    kill_proc(old);
    uint64_t before[SERVERS];
    memcpy(before, t.acks, sizeof before);
    until_all_wrote(&t, 15000);
    listen_for(1000, on_line, &t);
    for (int i = 0; i < SERVERS; i++)
        if (i != old) ck_assert_msg(t.acks[i] > before[i], "server %d wrote nothing after the kill", i + 1);

    /* The old leader comes back, catches up and writes again. */
    spawn(old, NULL);
    memcpy(before, t.acks, sizeof before);
    until_all_wrote(&t, 15000);
    listen_for(500, on_line, &t);
    ck_assert_msg(t.acks[old] > before[old], "the restarted server wrote nothing");

    /* Kill everything, restart everything: every acknowledged write is there. */
    for (int i = 0; i < SERVERS; i++) kill_proc(i);
    char list[96];
    snprintf(list, sizeof list, "%s/acked", root);
    FILE *f = fopen(list, "w");
    ck_assert_ptr_nonnull(f);
    for (size_t k = 0; k < nacked; k++) fprintf(f, "%s\n", acked[k]);
    fclose(f);
    for (int i = 0; i < SERVERS; i++) spawn(i, list);
    for (uint64_t until = now_ms() + 30000; t.verified < SERVERS && now_ms() < until;)
        listen_for(100, on_line, &t);
    for (int i = 0; i < SERVERS; i++) kill_proc(i);
    ck_assert_int_eq(t.verified, SERVERS);
    ck_assert_uint_eq(t.checked, (unsigned long)nacked * SERVERS);
    ck_assert_msg(t.missing == 0, "%lu acknowledged writes missing", t.missing);

    for (size_t k = 0; k < nacked; k++) free(acked[k]);
    free(acked);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *procs_suite(void)
{
    Suite *s = suite_create("host_procs");
    TCase *tc = tcase_create("failover");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, leader_killed_nothing_acknowledged_lost);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(procs_suite)
