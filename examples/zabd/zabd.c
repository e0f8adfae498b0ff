/*
 * zabd.c - a ZooKeeper-compatible server: `zabd [-v|-q] path/to/zoo.cfg`.
 *
 * Reads zoo.cfg (and dataDir/myid), starts the ready host's server with
 * its storage and its peers, and serves ZooKeeper clients on
 * clientPortAddress:clientPort. Runs in the foreground and logs to stderr.
 * SIGTERM or SIGINT stops it cleanly: no new requests are taken, those
 * under way are answered, the connections close (their sessions live on,
 * so clients reconnect to another server or to this one once it is back),
 * and the server syncs its log before it exits.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zab.h>

#include "config.h"
#include "log.h"
#include "net.h"

enum {
    DRAIN_MS = 5000,       /* on shutdown, for requests under way */
    CHECK_EVERY_S = 1      /* how often the main thread looks at the server */
};

static int usage(void)
{
    fprintf(stderr, "usage: zabd [-v|-q] path/to/zoo.cfg\n"
                    "  -v  also log debugging lines\n"
                    "  -q  log only warnings and errors\n");
    return 2;
}

/* Wait for SIGTERM or SIGINT (blocked in every thread), or for the server
 * to stop on its own. Returns the signal, or 0 for a stopped server. */
static int wait_for_end(const sigset_t *set, zab_server *server)
{
    for (;;) {
        struct timespec ts = { CHECK_EVERY_S, 0 };
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig > 0) return sig;
        zab_node_stats st;
        zab_server_stats(server, &st);
        if (st.stopped) return 0;
    }
}

static int run(const char *path, struct zabd_log *log)
{
    struct zabd_config cfg;
    char err[512];
    int rc = zabd_config_load(path, &cfg, err, sizeof err);
    if (rc) {
        zabd_say(log, ZABD_ERROR, "%s", err);
        return 1;
    }
    for (uint32_t i = 0; i < cfg.nwarnings; i++) zabd_say(log, ZABD_WARN, "%s", cfg.warnings[i]);
    if (cfg.warnings_dropped)
        zabd_say(log, ZABD_WARN, "%s: %" PRIu32 " more warnings", path, cfg.warnings_dropped);

    zab_server_member members[ZABD_MAX_SERVERS];
    zab_server_config sc;
    (void)zabd_config_server(&cfg, &sc, members, ZABD_MAX_SERVERS);
    sc.log = zabd_log_server_line;
    sc.log_ctx = log;
    zabd_say(log, ZABD_INFO, "zabd %s: server %" PRId64 " (%s), data in %s", ZAB_VERSION_STRING,
             cfg.myid, cfg.standalone ? "standalone" : cfg.observer ? "observer" : "participant",
             cfg.data_dir);

    zab_server *server;
    rc = zab_server_start(&sc, &server, err, sizeof err);
    if (rc) {
        zabd_say(log, ZABD_ERROR, "cannot start the server: %s: %s", zab_strerror(rc), err);
        zabd_config_free(&cfg);
        return 1;
    }
    struct zabd_net_config nc;
    zabd_net_config_from(&cfg, log, &nc);
    struct zabd_net *net;
    rc = zabd_net_start(&nc, server, &net, err, sizeof err);
    if (rc) {
        zabd_say(log, ZABD_ERROR, "cannot serve clients: %s", err);
        (void)zab_server_stop(server);
        zabd_config_free(&cfg);
        return 1;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = wait_for_end(&set, server);
    if (sig) zabd_say(log, ZABD_INFO, "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    else zabd_say(log, ZABD_ERROR, "the server stopped: shutting down");

    zabd_net_stop(net, sig ? DRAIN_MS : 0);
    rc = zab_server_stop(server);
    if (rc) zabd_say(log, ZABD_ERROR, "the server had stopped: %s", zab_strerror(rc));
    else zabd_say(log, ZABD_INFO, "stopped");
    zabd_config_free(&cfg);
    return rc || !sig ? 1 : 0;
}

int main(int argc, char **argv)
{
    int level = ZABD_INFO, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-v")) level = ZABD_DEBUG;
        else if (!strcmp(argv[i], "-q")) level = ZABD_WARN;
        else return usage();
    }
    if (i != argc - 1) return usage();

    /* Blocked before any thread starts, so every thread inherits it and
     * only the main thread takes them (sigtimedwait). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct zabd_log log;
    zabd_log_init(&log, stderr, level);
    int rc = run(argv[i], &log);
    zabd_log_destroy(&log);
    return rc;
}
