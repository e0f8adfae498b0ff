/*
 * zabd's configuration: ZooKeeper's zoo.cfg and myid, read as ZooKeeper
 * reads them. The expected values are ZooKeeper's: its documented
 * three-server zoo.cfg, and the defaults and verdicts QuorumPeerConfig of
 * ZooKeeper 3.8 gives (tickTime 3000 when absent, session bounds of 2 and 20
 * ticks, maxClientCnxns 60, snapRetainCount at least 3, a ';' client
 * address that must agree with clientPort, one participant meaning
 * standalone, the properties syntax). Each refusal is checked to name the
 * file, the line and the key.
 *
 * Files live in a temporary directory under /tmp, removed after each test.
 */
#include "../examples/zabd/config.c"

#include <dirent.h>
#include <sys/stat.h>

#include "check_main.h"

/* ---- files ---- */

static char tdir[64], cfg_path[128], data_dir[128], err[512];
static struct zabd_config cfg;

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) rm_tree(sub);
        else unlink(sub);
    }
    closedir(d);
    rmdir(path);
}

static void setup(void)
{
    strcpy(tdir, "/tmp/zabd-config-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tdir));
    snprintf(cfg_path, sizeof cfg_path, "%s/zoo.cfg", tdir);
    snprintf(data_dir, sizeof data_dir, "%s/data", tdir);
    ck_assert_int_eq(mkdir(data_dir, 0700), 0);
    memset(&cfg, 0, sizeof cfg);
    err[0] = '\0';
}

static void teardown(void)
{
    zabd_config_free(&cfg);
    rm_tree(tdir);
}

static void write_bytes(const char *path, const char *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* zoo.cfg from text, with every "DATADIR" standing for the data directory. */
static void write_cfg(const char *text)
{
    static char out[16384];
    size_t n = 0;
    for (const char *s = text; *s;) {
        if (!strncmp(s, "DATADIR", 7)) {
            ck_assert_uint_lt(n + strlen(data_dir), sizeof out);
            memcpy(out + n, data_dir, strlen(data_dir));
            n += strlen(data_dir);
            s += 7;
        } else {
            ck_assert_uint_lt(n + 1, sizeof out);
            out[n++] = *s++;
        }
    }
    write_bytes(cfg_path, out, n);
}

static void write_myid(const char *text)
{
    char path[160];
    snprintf(path, sizeof path, "%s/myid", data_dir);
    write_bytes(path, text, strlen(text));
}

static int load(const char *text)
{
    write_cfg(text);
    return zabd_config_load(cfg_path, &cfg, err, sizeof err);
}

static void load_ok(const char *text)
{
    int rc = load(text);
    ck_assert_msg(rc == 0, "load: %s: %s", zab_strerror(rc), err);
}

/* Whether some warning holds every fragment given. */
static int warned(const char *a, const char *b)
{
    for (uint32_t i = 0; i < cfg.nwarnings; i++)
        if (strstr(cfg.warnings[i], a) && (!b || strstr(cfg.warnings[i], b))) return 1;
    return 0;
}

#define DOCS_3                                                                               \
    "tickTime=2000\n"                                                                        \
    "dataDir=DATADIR\n"                                                                      \
    "clientPort=2181\n"                                                                      \
    "initLimit=5\n"                                                                          \
    "syncLimit=2\n"                                                                          \
    "server.1=zoo1:2888:3888\n"                                                              \
    "server.2=zoo2:2888:3888\n"                                                              \
    "server.3=zoo3:2888:3888\n"

/* ---- a cluster, standalone, observers ---- */

/* The replicated setup of ZooKeeper's Getting Started guide. */
START_TEST(test_three_servers_from_docs)
{
    write_myid("2\n");
    load_ok(DOCS_3);
    ck_assert_int_eq(cfg.myid, 2);
    ck_assert_int_eq(cfg.standalone, 0);
    ck_assert_int_eq(cfg.observer, 0);
    ck_assert_uint_eq(cfg.nservers, 3);
    for (uint32_t i = 0; i < 3; i++) {
        char host[8];
        snprintf(host, sizeof host, "zoo%u", i + 1);
        ck_assert_int_eq(cfg.servers[i].sid, i + 1);
        ck_assert_str_eq(cfg.servers[i].host, host);
        ck_assert_uint_eq(cfg.servers[i].quorum_port, 2888);
        ck_assert_uint_eq(cfg.servers[i].election_port, 3888);
        ck_assert_int_eq(cfg.servers[i].observer, 0);
        ck_assert_ptr_null(cfg.servers[i].client_host);
        ck_assert_uint_eq(cfg.servers[i].client_port, 0);
        ck_assert_uint_eq(cfg.servers[i].line, 6 + i);
    }
    ck_assert_str_eq(cfg.data_dir, data_dir);
    ck_assert_ptr_null(cfg.data_log_dir);
    ck_assert_uint_eq(cfg.tick_ms, 2000);
    ck_assert_uint_eq(cfg.init_limit, 5);
    ck_assert_uint_eq(cfg.sync_limit, 2);
    ck_assert_uint_eq(cfg.min_session_timeout_ms, 4000);
    ck_assert_uint_eq(cfg.max_session_timeout_ms, 40000);
    ck_assert_ptr_null(cfg.client_host);
    ck_assert_uint_eq(cfg.client_port, 2181);
    ck_assert_uint_eq(cfg.max_client_cnxns, 60);
    ck_assert_uint_eq(cfg.snap_retain_count, 3);
    ck_assert_uint_eq(cfg.purge_interval_hours, 0);
    ck_assert_uint_eq(cfg.snap_count, 100000);
    ck_assert_uint_eq(cfg.prealloc_bytes, 64u << 20);
    ck_assert_uint_eq(cfg.jute_maxbuffer, 0);
    ck_assert_uint_eq(cfg.four_letter_words, ZABD_4LW_SRVR);
    ck_assert_int_eq(cfg.extended_types, 0);
    ck_assert_int_eq(cfg.standalone_enabled, 1);
    ck_assert_uint_eq(cfg.nwarnings, 0);
}
END_TEST

START_TEST(test_three_servers_to_zab)
{
    write_myid("3");
    load_ok(DOCS_3 "dataLogDir=/var/log/zk\npreAllocSize=1024\nautopurge.snapRetainCount=5\n"
                   "snapCount=5000\n");
    zab_server_config sc;
    zab_server_member members[ZABD_MAX_SERVERS];
    ck_assert_int_eq(zabd_config_server(&cfg, &sc, members, 2), ZAB_ETOOBIG);
    ck_assert_int_eq(zabd_config_server(&cfg, &sc, members, 3), 3);
    ck_assert_int_eq(sc.sid, 3);
    ck_assert_ptr_eq(sc.members, members);
    ck_assert_uint_eq(sc.nmembers, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(members[i].sid, i + 1);
        ck_assert_str_eq(members[i].host, cfg.servers[i].host);
        ck_assert_uint_eq(members[i].port, 2888); /* the quorum port, not the election one */
        ck_assert_int_eq(members[i].observer, 0);
    }
    ck_assert_str_eq(sc.data_dir, data_dir);
    ck_assert_str_eq(sc.log_dir, "/var/log/zk");
    ck_assert_ptr_null(sc.listen_host);
    ck_assert_uint_eq(sc.tick_ms, 2000);
    ck_assert_uint_eq(sc.init_limit, 5);
    ck_assert_uint_eq(sc.sync_limit, 2);
    ck_assert_uint_eq(sc.min_session_timeout_ms, 4000);
    ck_assert_uint_eq(sc.max_session_timeout_ms, 40000);
    ck_assert_uint_eq(sc.snap_count, 5000);
    ck_assert_uint_eq(sc.snap_retain, 5);
    ck_assert_uint_eq(sc.segment_bytes, 1 << 20);
    ck_assert_uint_eq(sc.max_message, 0);
    ck_assert_uint_eq(sc.tree.max_data, 0);
    ck_assert_int_eq(sc.tree.extended_types, 0);
    ck_assert_int_eq(sc.tree.skip_acl, 0);
    ck_assert_ptr_null(sc.tree.super_digest.ptr);
    ck_assert_ptr_null(sc.log);
}
END_TEST

/* No server.N line: standalone, and no myid needed; ZooKeeper's defaults. */
START_TEST(test_standalone_defaults)
{
    load_ok("dataDir=DATADIR\nclientPort=2181\n");
    ck_assert_int_eq(cfg.standalone, 1);
    ck_assert_int_eq(cfg.myid, 1);
    ck_assert_uint_eq(cfg.nservers, 0);
    ck_assert_uint_eq(cfg.tick_ms, 3000);
    ck_assert_uint_eq(cfg.init_limit, 0);
    ck_assert_uint_eq(cfg.sync_limit, 0);
    ck_assert_uint_eq(cfg.min_session_timeout_ms, 6000);
    ck_assert_uint_eq(cfg.max_session_timeout_ms, 60000);
    ck_assert_uint_eq(cfg.max_client_cnxns, 60);
    ck_assert_uint_eq(cfg.nwarnings, 0);

    zab_server_config sc;
    zab_server_member members[1];
    ck_assert_int_eq(zabd_config_server(&cfg, &sc, members, 1), 1);
    ck_assert_int_eq(sc.sid, 1);
    ck_assert_int_eq(members[0].sid, 1);
    ck_assert_str_eq(members[0].host, "127.0.0.1");
    ck_assert_uint_eq(members[0].port, 0);
    ck_assert_uint_eq(sc.tick_ms, 3000);
    ck_assert_uint_eq(sc.init_limit, 0);
}
END_TEST

START_TEST(test_standalone_with_myid)
{
    write_myid("  7 \n");
    load_ok("dataDir=DATADIR\nclientPort=2181\n");
    ck_assert_int_eq(cfg.standalone, 1);
    ck_assert_int_eq(cfg.myid, 7);
    zab_server_config sc;
    zab_server_member members[1];
    ck_assert_int_eq(zabd_config_server(&cfg, &sc, members, 1), 1);
    ck_assert_int_eq(sc.sid, 7);
    ck_assert_int_eq(members[0].sid, 7);
}
END_TEST

/* ZooKeeper ignores a lone participant line while standaloneEnabled is true
 * ("only one server specified"); with it false, that one server is an
 * ensemble and needs its myid and limits. */
START_TEST(test_one_server_line)
{
    load_ok("dataDir=DATADIR\nclientPort=2181\nserver.1=zoo1:2888:3888\n");
    ck_assert_int_eq(cfg.standalone, 1);
    ck_assert_uint_eq(cfg.nservers, 1);
    ck_assert(warned("/zoo.cfg:3: server.N: ", "standalone"));
    zabd_config_free(&cfg);

    const char *text = "dataDir=DATADIR\nclientPort=2181\nstandaloneEnabled=false\n"
                       "initLimit=10\nsyncLimit=5\nserver.1=zoo1:2888:3888\n";
    ck_assert_int_eq(load(text), ZAB_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "/data/myid is missing"));
    write_myid("1");
    load_ok(text);
    ck_assert_int_eq(cfg.standalone, 0);
    ck_assert_int_eq(cfg.standalone_enabled, 0);
    zab_server_config sc;
    zab_server_member members[1];
    ck_assert_int_eq(zabd_config_server(&cfg, &sc, members, 1), 1);
    ck_assert_str_eq(members[0].host, "zoo1");
    ck_assert_uint_eq(members[0].port, 2888);
}
END_TEST

START_TEST(test_observers)
{
    const char *text = DOCS_3 "server.4=zoo4:2888:3888:observer\n"
                              "server.5=zoo5:2888:3888:PARTICIPANT\n"
                              "peerType=observer\n";
    write_myid("4");
    load_ok(text);
    ck_assert_int_eq(cfg.observer, 1);
    ck_assert_uint_eq(cfg.nservers, 5);
    ck_assert_int_eq(cfg.servers[3].observer, 1);
    ck_assert_int_eq(cfg.servers[4].observer, 0);
    ck_assert_uint_eq(cfg.nwarnings, 0);
    zab_server_config sc;
    zab_server_member members[5];
    ck_assert_int_eq(zabd_config_server(&cfg, &sc, members, 5), 5);
    ck_assert_int_eq(members[3].observer, 1);
    ck_assert_int_eq(members[4].observer, 0);
    zabd_config_free(&cfg);

    /* The server list wins over a peerType that disagrees, with a warning. */
    write_myid("1");
    load_ok(text);
    ck_assert_int_eq(cfg.observer, 0);
    ck_assert(warned("/zoo.cfg:11: peerType: ", "participant"));
}
END_TEST

/* The 3.5+ form: a client address after ';', a port alone or host:port. */
START_TEST(test_client_address_after_semicolon)
{
    const char *text = "dataDir=DATADIR\ninitLimit=5\nsyncLimit=2\n"
                       "server.1=zoo1:2888:3888;2181\n"
                       "server.2=zoo2:2888:3888:participant;0.0.0.0:2182\n"
                       "server.3=[::1]:2888:3888 ; [::1]:2183\n";
    write_myid("3");
    load_ok(text);
    ck_assert_ptr_null(cfg.servers[0].client_host);
    ck_assert_uint_eq(cfg.servers[0].client_port, 2181);
    ck_assert_str_eq(cfg.servers[1].client_host, "0.0.0.0");
    ck_assert_uint_eq(cfg.servers[1].client_port, 2182);
    ck_assert_str_eq(cfg.servers[2].host, "::1");
    ck_assert_str_eq(cfg.servers[2].client_host, "::1");
    ck_assert_str_eq(cfg.client_host, "::1");
    ck_assert_uint_eq(cfg.client_port, 2183);
    zabd_config_free(&cfg);

    write_myid("1");
    load_ok(text);
    ck_assert_ptr_null(cfg.client_host);
    ck_assert_uint_eq(cfg.client_port, 2181);
    zabd_config_free(&cfg);

    /* A clientPort that agrees is fine (ZooKeeper compares the port alone
     * when clientPortAddress is a wildcard). */
    write_myid("2");
    load_ok(text);
    ck_assert_str_eq(cfg.client_host, "0.0.0.0");
    zabd_config_free(&cfg);
    char both[512];
    snprintf(both, sizeof both, "%sclientPort=2182\n", text);
    load_ok(both);
    ck_assert_str_eq(cfg.client_host, "0.0.0.0");
    ck_assert_uint_eq(cfg.client_port, 2182);
}
END_TEST

/* ---- syntax ---- */

/* java.util.Properties: '#' and '!' comments, blanks, ':' or blank as the
 * separator, '\' continuing a line, escapes, CR LF; keys and values
 * trimmed. */
START_TEST(test_properties_syntax)
{
    load_ok("# ZooKeeper\r\n"
            "   ! another comment\r\n"
            "\r\n"
            "  tickTime   =   2500   \r\n"
            "dataDir : DATADIR\r\n"
            "clientPort 2181\r\n"
            "maxClientCnxns=\\\r\n"
            "     100\r\n"
            "clientPortAddress=127.0.0.\\u0031\n"
            "syncLimit\t=\t2\rinitLimit=4\n"
            "4lw.commands.whitelist = ruok \\\n"
            "   , stat\n"
            "# tickTime=1\n");
    ck_assert_uint_eq(cfg.tick_ms, 2500);
    ck_assert_str_eq(cfg.data_dir, data_dir);
    ck_assert_uint_eq(cfg.client_port, 2181);
    ck_assert_uint_eq(cfg.max_client_cnxns, 100);
    ck_assert_str_eq(cfg.client_host, "127.0.0.1");
    ck_assert_uint_eq(cfg.sync_limit, 2);
    ck_assert_uint_eq(cfg.init_limit, 4);
    ck_assert(zabd_config_allows(&cfg, "ruok"));
    ck_assert(zabd_config_allows(&cfg, "stat"));
    ck_assert_uint_eq(cfg.nwarnings, 0);
}
END_TEST

/* A later line replaces an earlier one, and says so. */
START_TEST(test_later_lines_override)
{
    load_ok("tickTime=2000\ndataDir=/elsewhere\ndataDir=DATADIR\nclientPort=2181\n"
            "tickTime=1000\nmaxSessionTimeout=30000\n");
    ck_assert_uint_eq(cfg.tick_ms, 1000);
    ck_assert_str_eq(cfg.data_dir, data_dir);
    ck_assert_uint_eq(cfg.min_session_timeout_ms, 2000);
    ck_assert_uint_eq(cfg.max_session_timeout_ms, 30000);
    ck_assert(warned("/zoo.cfg:3: dataDir given again", "line 2"));
    ck_assert(warned("/zoo.cfg:5: tickTime given again", "line 1"));
    ck_assert_uint_eq(cfg.nwarnings, 2);
}
END_TEST

START_TEST(test_unknown_keys_warn)
{
    load_ok("dataDir=DATADIR\nclientPort=2181\nadmin.serverPort=8080\n"
            "metricsProvider.className=x\nzookeeper.tickTime=5\nfoo\n");
    ck_assert_uint_eq(cfg.tick_ms, 3000); /* tickTime takes no "zookeeper." prefix */
    ck_assert_uint_eq(cfg.nwarnings, 4);
    ck_assert(warned("/zoo.cfg:3: ", "'admin.serverPort'"));
    ck_assert(warned("/zoo.cfg:4: ", "'metricsProvider.className'"));
    ck_assert(warned("/zoo.cfg:5: ", "'zookeeper.tickTime'"));
    ck_assert(warned("/zoo.cfg:6: ", "'foo'"));
    zabd_config_free(&cfg);

    /* Kept up to a bound, the rest counted. */
    static char many[8192];
    size_t n = (size_t)snprintf(many, sizeof many, "dataDir=DATADIR\nclientPort=2181\n");
    for (int i = 0; i < ZABD_MAX_WARNINGS + 36; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "unknown%d=1\n", i);
    load_ok(many);
    ck_assert_uint_eq(cfg.nwarnings, ZABD_MAX_WARNINGS);
    ck_assert_uint_eq(cfg.warnings_dropped, 36);
}
END_TEST

START_TEST(test_four_letter_words)
{
    load_ok("dataDir=DATADIR\nclientPort=2181\n");
    ck_assert(zabd_config_allows(&cfg, "srvr"));
    ck_assert(!zabd_config_allows(&cfg, "ruok"));
    ck_assert(!zabd_config_allows(&cfg, "xyzw"));
    zabd_config_free(&cfg);

    load_ok("dataDir=DATADIR\nclientPort=2181\n4lw.commands.whitelist=mntr,conf, bogus ,,\n");
    ck_assert(zabd_config_allows(&cfg, "mntr"));
    ck_assert(zabd_config_allows(&cfg, "conf"));
    ck_assert(zabd_config_allows(&cfg, "srvr"));
    ck_assert(!zabd_config_allows(&cfg, "ruok"));
    ck_assert(warned("/zoo.cfg:3: 4lw.commands.whitelist: ", "'bogus'"));
    ck_assert_uint_eq(cfg.nwarnings, 1);
    zabd_config_free(&cfg);

    load_ok("dataDir=DATADIR\nclientPort=2181\nzookeeper.4lw.commands.whitelist=stat, *\n");
    ck_assert_uint_eq(cfg.four_letter_words, ZABD_4LW_ALL);
    ck_assert(zabd_config_allows(&cfg, "wchs"));
    ck_assert(zabd_config_allows(&cfg, "isro"));
}
END_TEST

/* Keys ZooKeeper reads as system properties, with or without "zookeeper.",
 * and its corrections of small values. */
START_TEST(test_system_property_keys)
{
    load_ok("dataDir=DATADIR\nclientPort=2181\nextendedTypesEnabled=TRUE\n"
            "zookeeper.snapCount=1\nautopurge.snapRetainCount=1\nautopurge.purgeInterval=24\n"
            "zookeeper.preAllocSize=2048\njute.maxbuffer=8388608\nzookeeper.skipACL=yes\n"
            "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n"
            "minSessionTimeout=-1\nmaxSessionTimeout=-1\n");
    ck_assert_int_eq(cfg.extended_types, 1);
    ck_assert_uint_eq(cfg.snap_count, 2);
    ck_assert(warned("/zoo.cfg:4: snapCount: ", NULL));
    ck_assert_uint_eq(cfg.snap_retain_count, 3);
    ck_assert(warned("/zoo.cfg:5: autopurge.snapRetainCount: ", NULL));
    ck_assert_uint_eq(cfg.purge_interval_hours, 24);
    ck_assert_uint_eq(cfg.prealloc_bytes, 2048 * 1024);
    ck_assert_uint_eq(cfg.jute_maxbuffer, 8 << 20);
    ck_assert_int_eq(cfg.skip_acl, 1);
    ck_assert_uint_eq(cfg.min_session_timeout_ms, 6000);
    ck_assert_uint_eq(cfg.max_session_timeout_ms, 60000);

    zab_server_config sc;
    zab_server_member members[1];
    ck_assert_int_eq(zabd_config_server(&cfg, &sc, members, 1), 1);
    ck_assert_int_eq(sc.tree.extended_types, 1);
    ck_assert_int_eq(sc.tree.skip_acl, 1);
    ck_assert_uint_eq(sc.tree.max_data, 8 << 20);
    ck_assert_uint_ge(sc.max_message, (8 << 20) + 4096);
    ck_assert_uint_eq(sc.segment_bytes, 2 << 20);
    ck_assert_uint_eq(sc.snap_retain, 3);
    ck_assert_uint_eq(sc.tree.super_digest.len, strlen("super:D/InIHSb7yEEbrWz8b9l71RjZJU="));
    ck_assert(!memcmp(sc.tree.super_digest.ptr, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
                      sc.tree.super_digest.len));
    zabd_config_free(&cfg);

    load_ok("dataDir=DATADIR\nclientPort=2181\nzookeeper.extendedTypesEnabled=true\n");
    ck_assert_int_eq(cfg.extended_types, 1);
}
END_TEST

START_TEST(test_quorum_listen_on_all_ips)
{
    write_myid("1");
    load_ok(DOCS_3 "quorumListenOnAllIPs=true\n");
    zab_server_config sc;
    zab_server_member members[3];
    ck_assert_int_eq(zabd_config_server(&cfg, &sc, members, 3), 3);
    ck_assert_str_eq(sc.listen_host, "0.0.0.0");
}
END_TEST

/* What zabd_config_server fills is what zab_server_start takes. */
START_TEST(test_server_starts_from_zoo_cfg)
{
    load_ok("tickTime=50\ndataDir=DATADIR\nclientPort=2181\n");
    zab_server_config sc;
    zab_server_member members[1];
    ck_assert_int_eq(zabd_config_server(&cfg, &sc, members, 1), 1);
    zab_server *s = NULL;
    char serr[256];
    int rc = zab_server_start(&sc, &s, serr, sizeof serr);
    ck_assert_msg(rc == 0, "start: %s: %s", zab_strerror(rc), serr);
    ck_assert_int_eq(zab_server_wait_serving(s, 3000), 0);
    ck_assert_int_eq(zab_server_stop(s), 0);
}
END_TEST

/* ---- refusals ---- */

#define BASE "dataDir=DATADIR\nclientPort=2181\n"
#define ENSEMBLE BASE "initLimit=5\nsyncLimit=2\nserver.1=zoo1:2888:3888\nserver.2=zoo2:2888:3888\n"

static const struct bad {
    const char *text;
    const char *myid;  /* NULL: "1" */
    const char *where; /* how the message starts, after the directory */
    const char *also;  /* NULL, or what else it says */
} bad[] = {
    { BASE "tickTime=abc\n", NULL, "/zoo.cfg:3: tickTime: ", "'abc' is not a number" },
    { BASE "tickTime=0\n", NULL, "/zoo.cfg:3: tickTime: ", "0 is out of range" },
    { BASE "tickTime=2000 # two seconds\n", NULL, "/zoo.cfg:3: tickTime: ", "not a number" },
    { BASE "tickTime=99999999999999999999\n", NULL, "/zoo.cfg:3: tickTime: ", "out of range" },
    { BASE "initLimit=-1\n", NULL, "/zoo.cfg:3: initLimit: ", "out of range" },
    { BASE "syncLimit=2.5\n", NULL, "/zoo.cfg:3: syncLimit: ", "not a number" },
    { "dataDir=DATADIR\nclientPort=65536\n", NULL, "/zoo.cfg:2: clientPort: ", "out of range" },
    { BASE "maxClientCnxns=lots\n", NULL, "/zoo.cfg:3: maxClientCnxns: ", NULL },
    { BASE "minSessionTimeout=0\n", NULL, "/zoo.cfg:3: minSessionTimeout: ", "not 0" },
    { BASE "maxSessionTimeout=-2\n", NULL, "/zoo.cfg:3: maxSessionTimeout: ", "out of range" },
    { BASE "minSessionTimeout=5000\nmaxSessionTimeout=4000\n", NULL,
      "/zoo.cfg:3: minSessionTimeout 5000 ms is more than maxSessionTimeout 4000 ms", NULL },
    { BASE "maxSessionTimeout=5000\n", NULL, "/zoo.cfg:3: minSessionTimeout 6000 ms", NULL },
    { BASE "autopurge.purgeInterval=-1\n", NULL, "/zoo.cfg:3: autopurge.purgeInterval: ", NULL },
    { BASE "autopurge.snapRetainCount=x\n", NULL, "/zoo.cfg:3: autopurge.snapRetainCount: ",
      NULL },
    { BASE "extendedTypesEnabled=yes\n", NULL, "/zoo.cfg:3: extendedTypesEnabled: ",
      "neither true nor false" },
    { BASE "standaloneEnabled=maybe\n", NULL, "/zoo.cfg:3: standaloneEnabled: ", NULL },
    { BASE "skipACL=true\n", NULL, "/zoo.cfg:3: skipACL: ", "neither yes nor no" },
    { BASE "peerType=leader\n", NULL, "/zoo.cfg:3: peerType: ", "'leader'" },
    { BASE "preAllocSize=0\n", NULL, "/zoo.cfg:3: preAllocSize: ", NULL },
    { BASE "zookeeper.preAllocSize=big\n", NULL, "/zoo.cfg:3: zookeeper.preAllocSize: ", NULL },
    { BASE "jute.maxbuffer=-5\n", NULL, "/zoo.cfg:3: jute.maxbuffer: ", NULL },
    { BASE "snapCount=3000000000\n", NULL, "/zoo.cfg:3: snapCount: ", "out of range" },
    { BASE "dataDir=\n", NULL, "/zoo.cfg:3: dataDir: ", "empty" },
    { BASE "dataLogDir=  \n", NULL, "/zoo.cfg:3: dataLogDir: ", "empty" },
    { "clientPort=2181\n", NULL, "/zoo.cfg: dataDir is not set", NULL },
    { "dataDir=DATADIR\n", NULL, "/zoo.cfg: clientPort is not set", NULL },
    { "dataDir=DATADIR\nclientPortAddress=127.0.0.1\n", NULL,
      "/zoo.cfg:2: clientPortAddress: set, but clientPort is not", NULL },
    { BASE "group.1=1:2:3\n", NULL, "/zoo.cfg:3: group.1: ", "not supported" },
    { BASE "dynamicConfigFile=/etc/zoo.cfg.dynamic\n", NULL, "/zoo.cfg:3: dynamicConfigFile: ",
      "not supported" },
    { BASE "tickTime=\\u00zz\n", NULL, "/zoo.cfg:3: ", "malformed \\uXXXX" },
    { BASE "tickTime=\\u0000\n", NULL, "/zoo.cfg:3: ", "no character" },
    { BASE "standaloneEnabled=false\n", NULL, "/zoo.cfg:3: standaloneEnabled: ", NULL },
    /* server.N */
    { BASE "server.0=zoo1:2888:3888\n", NULL, "/zoo.cfg:3: server.0: ", "1 to 255" },
    { BASE "server.256=zoo1:2888:3888\n", NULL, "/zoo.cfg:3: server.256: ", "1 to 255" },
    { BASE "server.x=zoo1:2888:3888\n", NULL, "/zoo.cfg:3: server.x: ", NULL },
    { ENSEMBLE "server.3=zoo3:2888\n", NULL, "/zoo.cfg:7: server.3: ",
      "'zoo3:2888' is not host:quorumPort:electionPort" },
    { ENSEMBLE "server.3=zoo3:2888:3888:observer:x\n", NULL, "/zoo.cfg:7: server.3: ",
      "is not host:quorumPort" },
    { ENSEMBLE "server.3=zoo3:2888:65536\n", NULL, "/zoo.cfg:7: server.3: ",
      "election port '65536'" },
    { ENSEMBLE "server.3=zoo3:quorum:3888\n", NULL, "/zoo.cfg:7: server.3: ",
      "quorum port 'quorum'" },
    { ENSEMBLE "server.3=zoo3:0:3888\n", NULL, "/zoo.cfg:7: server.3: ", "quorum port '0'" },
    { ENSEMBLE "server.3=zoo3:2888:2888\n", NULL, "/zoo.cfg:7: server.3: ", "must differ" },
    { ENSEMBLE "server.3=zoo3:2888:3888:voter\n", NULL, "/zoo.cfg:7: server.3: ", "'voter'" },
    { ENSEMBLE "server.3=:2888:3888\n", NULL, "/zoo.cfg:7: server.3: ", "host is empty" },
    { ENSEMBLE "server.3=zoo3:2888:3888;port\n", NULL, "/zoo.cfg:7: server.3: ",
      "client port 'port'" },
    { ENSEMBLE "server.3=zoo3:2888:3888;a:b:2181\n", NULL, "/zoo.cfg:7: server.3: ",
      "client address 'a:b:2181'" },
    { ENSEMBLE "server.3=zoo3:2888:3888;2181;2182\n", NULL, "/zoo.cfg:7: server.3: ",
      "more than one ';'" },
    { ENSEMBLE "server.3=zoo3:2888:3888|zoo4:2888:3888\n", NULL, "/zoo.cfg:7: server.3: ",
      "several addresses" },
    { ENSEMBLE "server.3=[::1:2888:3888\n", NULL, "/zoo.cfg:7: server.3: ", NULL },
    { ENSEMBLE "server.2=zoo9:2888:3888\n", NULL, "/zoo.cfg:7: server.2: ",
      "server id 2 given twice (first on line 6)" },
    { ENSEMBLE "server.02=zoo9:2888:3888\n", NULL, "/zoo.cfg:7: server.02: ",
      "server id 2 given twice" },
    { BASE "server.1=zoo1:2888:3888:observer\n", NULL, "/zoo.cfg:3: server.N: ",
      "without a participant" },
    { BASE "server.1=zoo1:2888:3888\nserver.2=zoo2:2888:3888:observer\n", NULL,
      "/zoo.cfg:3: server.N: ", "two participants" },
    { ENSEMBLE "tickTime=1000\ninitLimit=3000000\n", NULL, "/zoo.cfg:8: initLimit: ",
      "3000000 ticks of 1000 ms" },
    { "dataDir=DATADIR\nclientPort=2181\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\n", NULL,
      "/zoo.cfg: initLimit is not set", NULL },
    { "dataDir=DATADIR\nclientPort=2181\ninitLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\n", NULL,
      "/zoo.cfg: syncLimit is not set", NULL },
    /* myid */
    { ENSEMBLE, "", "/zoo.cfg: ", "/data/myid: '' is not a server id" },
    { ENSEMBLE, "abc\n", "/zoo.cfg: ", "/data/myid: 'abc' is not a server id (1 to 255)" },
    { ENSEMBLE, "0", "/zoo.cfg: ", "/data/myid: '0' is not a server id" },
    { ENSEMBLE, "256", "/zoo.cfg: ", "/data/myid: '256' is not a server id" },
    { ENSEMBLE, "9", "/zoo.cfg: ", "server id 9 has no server.9 line" },
    { BASE, "x", "/zoo.cfg: ", "/data/myid: 'x' is not a server id" },
    /* the client address from clientPort against the server's own ';' part */
    { "dataDir=DATADIR\nclientPort=2181\ninitLimit=5\nsyncLimit=2\n"
      "server.1=zoo1:2888:3888;2182\nserver.2=zoo2:2888:3888\n",
      NULL, "/zoo.cfg:2: clientPort: ", "differs from the client address of server.1 (line 5)" },
    { "dataDir=DATADIR\nclientPort=2181\nclientPortAddress=127.0.0.1\ninitLimit=5\nsyncLimit=2\n"
      "server.1=zoo1:2888:3888;127.0.0.2:2181\nserver.2=zoo2:2888:3888\n",
      NULL, "/zoo.cfg:2: clientPort: ", "127.0.0.1:2181 differs" },
};

START_TEST(test_bad_values_refused)
{
    const struct bad *b = &bad[_i];
    if (b->myid) write_myid(b->myid);
    else write_myid("1");
    int rc = load(b->text);
    ck_assert_msg(rc == ZAB_EINVAL, "case %d: %s (%s)", _i, zab_strerror(rc), err);
    char want[256];
    snprintf(want, sizeof want, "%s%s", tdir, b->where);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "case %d: '%s' should start '%s'", _i,
                  err, want);
    if (b->also) ck_assert_msg(strstr(err, b->also), "case %d: '%s' should say '%s'", _i, err, b->also);
    /* Nothing is left behind. */
    ck_assert_ptr_null(cfg.data_dir);
    ck_assert_ptr_null(cfg.servers);
    ck_assert_ptr_null(cfg.warnings);
}
END_TEST

START_TEST(test_nul_byte_refused)
{
    static const char text[] = "dataDir=/tmp\nclientPort=2181\ntickTime=20\0000\n";
    write_bytes(cfg_path, text, sizeof text - 1);
    ck_assert_int_eq(zabd_config_load(cfg_path, &cfg, err, sizeof err), ZAB_EINVAL);
    char want[256];
    snprintf(want, sizeof want, "%s:3: a NUL byte", cfg_path);
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_bounds)
{
    /* A line over ZABD_MAX_LINE, also when continuations make it so. */
    static char text[3 * ZABD_MAX_LINE];
    int n = snprintf(text, sizeof text, "dataDir=DATADIR\nclientPort=2181\ndataLogDir=/");
    memset(text + n, 'a', ZABD_MAX_LINE);
    strcpy(text + n + ZABD_MAX_LINE, "\n");
    ck_assert_int_eq(load(text), ZAB_ETOOBIG);
    char want[256];
    snprintf(want, sizeof want, "%s:3: a line longer than %d bytes", cfg_path, ZABD_MAX_LINE);
    ck_assert_str_eq(err, want);

    n = snprintf(text, sizeof text, "dataDir=DATADIR\nclientPort=2181\ndataLogDir=/");
    for (int i = 0; i < 3; i++) {
        memset(text + n, 'a', ZABD_MAX_LINE / 2);
        n += ZABD_MAX_LINE / 2;
        n += snprintf(text + n, sizeof text - (size_t)n, "\\\n");
    }
    ck_assert_int_eq(load(text), ZAB_ETOOBIG);
    ck_assert_str_eq(err, want);

    /* A line of exactly ZABD_MAX_LINE bytes is fine. */
    n = snprintf(text, sizeof text, "dataDir=DATADIR\nclientPort=2181\ndataLogDir=/");
    int pad = ZABD_MAX_LINE - (int)strlen("dataLogDir=/");
    memset(text + n, 'a', (size_t)pad);
    strcpy(text + n + pad, "\n");
    load_ok(text);
    ck_assert_uint_eq(strlen(cfg.data_log_dir), ZABD_MAX_LINE - strlen("dataLogDir="));
    zabd_config_free(&cfg);

    /* A file over ZABD_MAX_FILE, even of comments. */
    char *big = malloc(ZABD_MAX_FILE + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, '#', ZABD_MAX_FILE + 1);
    write_bytes(cfg_path, big, ZABD_MAX_FILE + 1);
    free(big);
    ck_assert_int_eq(zabd_config_load(cfg_path, &cfg, err, sizeof err), ZAB_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err, "larger than 1048576 bytes"));
}
END_TEST

START_TEST(test_unreadable_files)
{
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.cfg", tdir);
    ck_assert_int_eq(zabd_config_load(missing, &cfg, err, sizeof err), ZAB_EIO);
    ck_assert_ptr_nonnull(strstr(err, "none.cfg"));
    ck_assert_int_eq(zabd_config_load(tdir, &cfg, err, sizeof err), ZAB_EIO);

    /* A myid larger than any id file is refused, not read whole. */
    char *big = malloc(8192);
    ck_assert_ptr_nonnull(big);
    memset(big, '1', 8192);
    char path[160];
    snprintf(path, sizeof path, "%s/myid", data_dir);
    write_bytes(path, big, 8192);
    free(big);
    ck_assert_int_eq(load(ENSEMBLE), ZAB_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err, "/data/myid is larger than"));
}
END_TEST

static Suite *zabd_config_suite(void)
{
    Suite *s = suite_create("zabd_config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_three_servers_from_docs);
    tcase_add_test(tc, test_three_servers_to_zab);
    tcase_add_test(tc, test_standalone_defaults);
    tcase_add_test(tc, test_standalone_with_myid);
    tcase_add_test(tc, test_one_server_line);
    tcase_add_test(tc, test_observers);
    tcase_add_test(tc, test_client_address_after_semicolon);
    tcase_add_test(tc, test_properties_syntax);
    tcase_add_test(tc, test_later_lines_override);
    tcase_add_test(tc, test_unknown_keys_warn);
    tcase_add_test(tc, test_four_letter_words);
    tcase_add_test(tc, test_system_property_keys);
    tcase_add_test(tc, test_quorum_listen_on_all_ips);
    tcase_add_test(tc, test_server_starts_from_zoo_cfg);
    tcase_add_loop_test(tc, test_bad_values_refused, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_nul_byte_refused);
    tcase_add_test(tc, test_bounds);
    tcase_add_test(tc, test_unreadable_files);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(zabd_config_suite)
