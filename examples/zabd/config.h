/*
 * config.h - zabd's configuration: ZooKeeper's zoo.cfg and myid files.
 *
 * zoo.cfg is read as ZooKeeper reads it (a Java properties file: '=' or ':'
 * or blank between key and value, '#' and '!' comments, a trailing '\'
 * continuing the line, \t \n \r \f \uXXXX escapes, keys and values
 * trimmed, a later key overriding an earlier one) and checked with
 * ZooKeeper's rules. A few rules are stricter than ZooKeeper's, because
 * what ZooKeeper does there is silent and surprising: a server id given
 * twice, a bad value in a line a later one overrides, 0 for a session
 * timeout, a negative count or an unsupported quorum form (multiple
 * addresses, groups and weights, dynamicConfigFile) are refused.
 *
 * Keys: tickTime (default 3000), initLimit, syncLimit (both required with
 * more than one server), dataDir (required), dataLogDir, clientPort,
 * clientPortAddress, maxClientCnxns (60), minSessionTimeout and
 * maxSessionTimeout (2 and 20 ticks; -1 for the default),
 * server.N=host:quorumPort:electionPort[:participant|:observer][;[host:]port],
 * peerType, autopurge.snapRetainCount (at least 3), autopurge.purgeInterval
 * (hours, 0 = never), 4lw.commands.whitelist, extendedTypesEnabled,
 * snapCount, preAllocSize (KiB), jute.maxbuffer, standaloneEnabled,
 * quorumListenOnAllIPs, skipACL (yes/no) and
 * DigestAuthenticationProvider.superDigest. The keys ZooKeeper reads as
 * system properties (4lw.commands.whitelist, extendedTypesEnabled,
 * snapCount, preAllocSize, skipACL, the super digest) are also accepted
 * with their "zookeeper." prefix. Any other key is a warning, not an error.
 *
 * dataDir/myid holds this server's id. Like ZooKeeper, a configuration
 * with no server.N line, or one participant while standaloneEnabled is
 * true, runs standalone and needs no myid.
 */
#ifndef ZABD_CONFIG_H
#define ZABD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <zab.h>

enum {
    ZABD_MAX_SERVERS = 255,       /* server ids are 1..255 */
    ZABD_MAX_LINE = 4096,         /* bytes in one line, continuations included */
    ZABD_MAX_FILE = 1 << 20,      /* bytes in zoo.cfg */
    ZABD_MAX_WARNINGS = 64        /* kept; the rest are only counted */
};

/* The four-letter words ZooKeeper knows, as bits of four_letter_words. */
enum {
    ZABD_4LW_CONF = 1 << 0, ZABD_4LW_CONS = 1 << 1, ZABD_4LW_CRST = 1 << 2,
    ZABD_4LW_DIRS = 1 << 3, ZABD_4LW_DUMP = 1 << 4, ZABD_4LW_ENVI = 1 << 5,
    ZABD_4LW_GTMK = 1 << 6, ZABD_4LW_HASH = 1 << 7, ZABD_4LW_ISRO = 1 << 8,
    ZABD_4LW_MNTR = 1 << 9, ZABD_4LW_RUOK = 1 << 10, ZABD_4LW_SRST = 1 << 11,
    ZABD_4LW_SRVR = 1 << 12, ZABD_4LW_STAT = 1 << 13, ZABD_4LW_STMK = 1 << 14,
    ZABD_4LW_WCHC = 1 << 15, ZABD_4LW_WCHP = 1 << 16, ZABD_4LW_WCHS = 1 << 17,
    ZABD_4LW_ALL = (1 << 18) - 1
};

/* One server.N line. */
struct zabd_server {
    int64_t sid;
    char *host;                /* without the brackets of an IPv6 address */
    uint16_t quorum_port;      /* zab's peer port */
    /* Recorded but unused: zab keeps one connection per pair of servers,
     * on the quorum port, for elections too. */
    uint16_t election_port;
    int observer;
    char *client_host;         /* from ";host:port"; NULL for ";port" or none */
    uint16_t client_port;      /* 0 when the line has no ';' part */
    uint32_t line;             /* where zoo.cfg gave it */
};

/* Everything zoo.cfg and myid say, defaults applied. Strings are owned. */
struct zabd_config {
    int64_t myid;              /* this server; 1 when standalone without myid */
    int standalone;            /* one server: the server.N lines are ignored */
    int observer;              /* this server observes (its server.N line) */
    struct zabd_server *servers;
    uint32_t nservers;         /* as written, in the order written */

    char *data_dir;
    char *data_log_dir;        /* NULL = data_dir */
    uint32_t tick_ms;
    uint32_t init_limit;       /* ticks; 0 when standalone and unset */
    uint32_t sync_limit;
    uint32_t min_session_timeout_ms;
    uint32_t max_session_timeout_ms;

    char *client_host;         /* NULL = every interface */
    uint16_t client_port;      /* never 0 */
    uint32_t max_client_cnxns; /* per client address; 0 = no limit */

    uint32_t snap_retain_count;
    uint32_t purge_interval_hours; /* 0 = no automatic purge */
    uint32_t snap_count;
    uint64_t prealloc_bytes;   /* preAllocSize: the log segment size */
    uint32_t jute_maxbuffer;   /* largest znode data; 0 = not set (1 MiB) */
    uint32_t four_letter_words; /* ZABD_4LW_* allowed; srvr always is */
    int extended_types;
    int skip_acl;
    char *super_digest;        /* NULL = none */
    int standalone_enabled;
    int quorum_listen_on_all_ips;

    char **warnings;           /* "zoo.cfg:7: ..." for what was ignored */
    uint32_t nwarnings;
    uint32_t warnings_dropped; /* past ZABD_MAX_WARNINGS */
};

/* Read zoo.cfg at path and then dataDir/myid. Returns 0 and fills *out
 * (free it with zabd_config_free), or an error with *out empty and err
 * (errlen bytes, NUL-terminated) naming the file, line and key:
 * ZAB_EINVAL (a bad configuration), ZAB_ETOOBIG (a file, line or list over
 * its bound), ZAB_EIO (a file that cannot be read), ZAB_ENOMEM. */
int zabd_config_load(const char *path, struct zabd_config *out, char *err, size_t errlen);
void zabd_config_free(struct zabd_config *cfg);

/* Fill *out and members (room for cap) for zab_server_start: pointers in
 * *out borrow from cfg and members, which must outlive it; the log
 * callback is left for the caller. Standalone, the one member is this
 * server on 127.0.0.1 with port 0. Returns the number of members, or
 * ZAB_ETOOBIG when cap is too small (ZABD_MAX_SERVERS always suffices). */
int zabd_config_server(const struct zabd_config *cfg, zab_server_config *out,
                       zab_server_member *members, uint32_t cap);

/* Whether a four-letter word (e.g. "ruok") may be answered. */
int zabd_config_allows(const struct zabd_config *cfg, const char *word);

#endif
