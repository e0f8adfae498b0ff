/*
 * config.c - zoo.cfg and myid for zabd (see config.h for what is read).
 *
 * Reading happens in two passes: the lines, each checked on its own and
 * kept per key (a later line replacing an earlier one), then the rules that
 * join keys (defaults, session timeouts, standalone or ensemble, myid, the
 * client address). Every message names the file, and the line and key
 * when there is one.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define FORMAT(a, b) __attribute__((format(printf, a, b)))

enum {
    DEFAULT_TICK_MS = 3000,
    DEFAULT_MAX_CNXNS = 60,
    DEFAULT_SNAP_COUNT = 100000,
    DEFAULT_PREALLOC_KIB = 64 * 1024,
    MIN_SNAP_RETAIN = 3,
    MIN_SNAP_COUNT = 2,
    MAX_MYID_FILE = 4096,
    MAX_HOST = 255,
    SHOWN = 64 /* bytes of a value quoted in a message */
};

/* ---- the keys ---- */

enum key_id {
    K_TICK, K_INIT, K_SYNC, K_DATA_DIR, K_LOG_DIR, K_CLIENT_PORT, K_CLIENT_ADDR, K_MAX_CNXNS,
    K_MIN_SESSION, K_MAX_SESSION, K_PEER_TYPE, K_SNAP_RETAIN, K_PURGE, K_4LW, K_EXTENDED,
    K_SNAP_COUNT, K_PREALLOC, K_JUTE, K_STANDALONE, K_LISTEN_ALL, K_SKIP_ACL, K_SUPER,
    K_COUNT
};

enum value_type { T_INT, T_BOOL, T_YESNO, T_TEXT };

enum {
    F_SYSPROP = 1, /* ZooKeeper reads it as a system property: "zookeeper." may lead */
    F_EMPTY = 2,   /* an empty value is allowed */
    F_NONZERO = 4  /* 0 is refused (it means nothing useful) */
};

static const struct key_def {
    const char *name;
    uint8_t type;
    uint8_t flags;
    int64_t min, max;
} keys[K_COUNT] = {
    [K_TICK] = { "tickTime", T_INT, 0, 1, INT32_MAX / 20 },
    [K_INIT] = { "initLimit", T_INT, 0, 0, INT32_MAX },
    [K_SYNC] = { "syncLimit", T_INT, 0, 0, INT32_MAX },
    [K_DATA_DIR] = { "dataDir", T_TEXT, 0, 0, 0 },
    [K_LOG_DIR] = { "dataLogDir", T_TEXT, 0, 0, 0 },
    [K_CLIENT_PORT] = { "clientPort", T_INT, 0, 0, 65535 },
    [K_CLIENT_ADDR] = { "clientPortAddress", T_TEXT, 0, 0, 0 },
    [K_MAX_CNXNS] = { "maxClientCnxns", T_INT, 0, 0, INT32_MAX },
    [K_MIN_SESSION] = { "minSessionTimeout", T_INT, F_NONZERO, -1, INT32_MAX },
    [K_MAX_SESSION] = { "maxSessionTimeout", T_INT, F_NONZERO, -1, INT32_MAX },
    [K_PEER_TYPE] = { "peerType", T_TEXT, 0, 0, 0 },
    [K_SNAP_RETAIN] = { "autopurge.snapRetainCount", T_INT, 0, INT32_MIN, INT32_MAX },
    [K_PURGE] = { "autopurge.purgeInterval", T_INT, 0, 0, INT32_MAX },
    [K_4LW] = { "4lw.commands.whitelist", T_TEXT, F_SYSPROP | F_EMPTY, 0, 0 },
    [K_EXTENDED] = { "extendedTypesEnabled", T_BOOL, F_SYSPROP, 0, 1 },
    [K_SNAP_COUNT] = { "snapCount", T_INT, F_SYSPROP, INT32_MIN, INT32_MAX },
    [K_PREALLOC] = { "preAllocSize", T_INT, F_SYSPROP, 1, 1 << 20 },
    [K_JUTE] = { "jute.maxbuffer", T_INT, 0, 1, 256 << 20 },
    [K_STANDALONE] = { "standaloneEnabled", T_BOOL, 0, 0, 1 },
    [K_LISTEN_ALL] = { "quorumListenOnAllIPs", T_BOOL, 0, 0, 1 },
    [K_SKIP_ACL] = { "skipACL", T_YESNO, F_SYSPROP, 0, 1 },
    [K_SUPER] = { "DigestAuthenticationProvider.superDigest", T_TEXT, F_SYSPROP, 0, 0 },
};

/* ZooKeeper's four-letter words, in the order of the ZABD_4LW_* bits. */
static const char words[][5] = { "conf", "cons", "crst", "dirs", "dump", "envi",
                                 "gtmk", "hash", "isro", "mntr", "ruok", "srst",
                                 "srvr", "stat", "stmk", "wchc", "wchp", "wchs" };

/* What one key was last set to, and where. */
struct setting {
    uint32_t line; /* 0 = not set */
    int64_t num;
    char *text;
};

struct parser {
    const char *path;
    struct zabd_config *cfg;
    struct setting set[K_COUNT];
    uint32_t line; /* of the entry being read; 0 for the whole file */
    uint32_t servers_cap;
    char *myid_path;
    int have_myid;
    char *err;
    size_t errlen;
};

/* ---- messages ---- */

static void vmessage(const struct parser *p, uint32_t line, char *out, size_t cap,
                     const char *fmt, va_list ap)
{
    int n = line ? snprintf(out, cap, "%s:%u: ", p->path, line)
                 : snprintf(out, cap, "%s: ", p->path);
    if (n >= 0 && (size_t)n < cap) vsnprintf(out + n, cap - (size_t)n, fmt, ap);
}

static int fail_at(struct parser *p, uint32_t line, int rc, const char *fmt, ...) FORMAT(4, 5);
static int fail_at(struct parser *p, uint32_t line, int rc, const char *fmt, ...)
{
    if (p->err && p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vmessage(p, line, p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

#define refuse(p, rc, ...) fail_at((p), (p)->line, (rc), __VA_ARGS__)

static int warn_at(struct parser *p, uint32_t line, const char *fmt, ...) FORMAT(3, 4);
static int warn_at(struct parser *p, uint32_t line, const char *fmt, ...)
{
    struct zabd_config *c = p->cfg;
    if (c->nwarnings == ZABD_MAX_WARNINGS) {
        c->warnings_dropped++;
        return 0;
    }
    if (!c->warnings && !(c->warnings = calloc(ZABD_MAX_WARNINGS, sizeof *c->warnings)))
        return fail_at(p, 0, ZAB_ENOMEM, "out of memory");
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vmessage(p, line, buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!(c->warnings[c->nwarnings] = strdup(buf)))
        return fail_at(p, 0, ZAB_ENOMEM, "out of memory");
    c->nwarnings++;
    return 0;
}

/* A value as a message quotes it: at most SHOWN bytes, control bytes as '?'. */
static const char *shown(const char *value, char out[SHOWN + 4])
{
    size_t n = strnlen(value, SHOWN + 1);
    size_t k = n > SHOWN ? SHOWN : n;
    for (size_t i = 0; i < k; i++) {
        unsigned char ch = (unsigned char)value[i];
        out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    strcpy(out + k, n > k ? "..." : "");
    return out;
}

/* ---- small parsers ---- */

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\f';
}

/* Trim as Java's String.trim does: every byte up to and including ' '. */
static char *trim(char *s)
{
    while (*s && (unsigned char)*s <= ' ') s++;
    size_t n = strlen(s);
    while (n && (unsigned char)s[n - 1] <= ' ') n--;
    s[n] = '\0';
    return s;
}

/* A decimal integer with an optional sign. 0, or -1 for no number and -2
 * for one that does not fit. */
static int parse_int(const char *s, int64_t *out)
{
    int neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    if (!*s) return -1;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        if (v > (INT64_MAX - (*s - '0')) / 10) return -2;
        v = v * 10 + (*s - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

static int parse_port(const char *s, uint16_t *out)
{
    int64_t v;
    if (parse_int(s, &v) || v < 1 || v > 65535) return -1;
    *out = (uint16_t)v;
    return 0;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- reading files ---- */

/* The whole file, NUL-terminated, if it holds at most max bytes. */
static int read_file(struct parser *p, const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_at(p, 0, ZAB_EIO, "cannot open %s: %s", path, strerror(errno));
    char *buf = malloc(max + 2); /* one byte more than allowed tells a file too large */
    if (!buf) {
        close(fd);
        return fail_at(p, 0, ZAB_ENOMEM, "out of memory");
    }
    size_t n = 0;
    int error = 0;
    while (n <= max) {
        ssize_t got = read(fd, buf + n, max + 1 - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) error = errno;
        if (got <= 0) break;
        n += (size_t)got;
    }
    close(fd);
    if (error || n > max) {
        free(buf);
        if (error) return fail_at(p, 0, ZAB_EIO, "cannot read %s: %s", path, strerror(error));
        return fail_at(p, 0, ZAB_ETOOBIG, "%s is larger than %zu bytes", path, max);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* ---- lines, as java.util.Properties reads them ---- */

/* The next logical line into buf (at most ZABD_MAX_LINE bytes, NUL-
 * terminated): natural lines (ended by \n, \r or \r\n) joined where one
 * ends in an odd number of backslashes, the joining backslash and the next
 * line's leading blanks dropped. Blank and comment lines are skipped; *n =
 * 0 at the end of the text. *first is the line the entry starts on. */
static int next_line(struct parser *p, const char *text, size_t len, size_t *pos,
                     uint32_t *lineno, char *buf, size_t *n, uint32_t *first)
{
    int joining = 0;
    *n = 0;
    while (*pos < len) {
        const char *s = text + *pos;
        size_t avail = len - *pos, end = 0;
        while (end < avail && s[end] != '\n' && s[end] != '\r') end++;
        size_t step = end;
        if (step < avail)
            step += s[step] == '\r' && step + 1 < avail && s[step + 1] == '\n' ? 2 : 1;
        *pos += step;
        p->line = ++*lineno;
        if (memchr(s, '\0', end)) return refuse(p, ZAB_EINVAL, "a NUL byte");
        size_t i = 0;
        while (i < end && is_blank(s[i])) i++;
        if (!joining && (i == end || s[i] == '#' || s[i] == '!')) continue;
        if (!joining) *first = *lineno;
        if (end - i > ZABD_MAX_LINE - *n)
            return fail_at(p, *first, ZAB_ETOOBIG, "a line longer than %d bytes", ZABD_MAX_LINE);
        memcpy(buf + *n, s + i, end - i);
        *n += end - i;
        size_t slashes = 0;
        while (slashes < end - i && s[end - 1 - slashes] == '\\') slashes++;
        if (slashes % 2 == 0) break;
        (*n)--;
        joining = 1;
    }
    buf[*n] = '\0';
    return 0;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    out[0] = (char)(0xe0 | cp >> 12);
    out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

/* Undo the escapes in place: \t \n \r \f, \uXXXX (written as UTF-8), and a
 * backslash before any other byte standing for that byte. Never grows.
 * Returns the new length, or -1 for a malformed \u and -2 for a \u that
 * is NUL or half of a surrogate pair. */
static long unescape(char *s, size_t n)
{
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
        if (s[r] != '\\') {
            s[w++] = s[r];
            continue;
        }
        if (++r == n) break;
        char ch = s[r];
        if (ch != 'u') {
            s[w++] = ch == 't' ? '\t' : ch == 'n' ? '\n' : ch == 'r' ? '\r' : ch == 'f' ? '\f' : ch;
            continue;
        }
        unsigned cp = 0;
        for (int i = 1; i <= 4; i++) {
            int h = r + (size_t)i < n ? hex_digit(s[r + (size_t)i]) : -1;
            if (h < 0) return -1;
            cp = cp << 4 | (unsigned)h;
        }
        r += 4;
        if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) return -2;
        w += put_utf8(s + w, cp);
    }
    return (long)w;
}

/* Split an entry at the first unescaped '=', ':' or blank, with blanks and
 * one '=' or ':' between key and value; unescape and trim both. */
static int split_entry(struct parser *p, char *buf, size_t n, char **key, char **value)
{
    size_t k = 0;
    for (int escaped = 0; k < n; k++) {
        char ch = buf[k];
        if (!escaped && (ch == '=' || ch == ':' || is_blank(ch))) break;
        escaped = ch == '\\' && !escaped;
    }
    size_t v = k;
    int separated = 0;
    for (; v < n; v++) {
        if ((buf[v] == '=' || buf[v] == ':') && !separated) separated = 1;
        else if (!is_blank(buf[v])) break;
    }
    long kn = unescape(buf, k), vn = unescape(buf + v, n - v);
    if (kn < 0 || vn < 0)
        return refuse(p, ZAB_EINVAL, "%s",
                      kn == -1 || vn == -1 ? "a malformed \\uXXXX escape"
                                           : "a \\u escape that is no character");
    buf[v + (size_t)vn] = '\0';
    buf[kn] = '\0';
    *key = trim(buf);
    *value = trim(buf + v);
    return 0;
}

/* ---- keys ---- */

static int find_key(const char *name)
{
    int sysprop = starts_with(name, "zookeeper.");
    for (int k = 0; k < K_COUNT; k++) {
        if (!strcmp(name, keys[k].name)) return k;
        if (sysprop && (keys[k].flags & F_SYSPROP) && !strcmp(name + 10, keys[k].name)) return k;
    }
    return -1;
}

/* The whitelist as ZooKeeper reads it: a comma list, "*" for every word;
 * srvr is always allowed. */
static int parse_words(struct parser *p, const char *name, const char *list, int64_t *bits)
{
    *bits = ZABD_4LW_SRVR;
    char item[SHOWN + 1], q[SHOWN + 4];
    for (const char *s = list; *s;) {
        size_t len = strcspn(s, ",");
        snprintf(item, sizeof item, "%.*s", (int)(len < SHOWN ? len : SHOWN), s);
        char *word = trim(item);
        s += len + (s[len] == ',');
        if (!strcmp(word, "*")) {
            *bits = ZABD_4LW_ALL;
            return 0;
        }
        uint32_t i = 0;
        while (i < sizeof words / sizeof words[0] && strcmp(word, words[i])) i++;
        if (i < sizeof words / sizeof words[0]) *bits |= 1 << i;
        else if (*word) {
            int rc = warn_at(p, p->line, "%s: unknown command '%s', ignored", name, shown(word, q));
            if (rc) return rc;
        }
    }
    return 0;
}

/* Check a value against its key's type and range; *num and *text take it. */
static int parse_value(struct parser *p, int k, const char *name, const char *value, int64_t *num,
                       char **text)
{
    const struct key_def *d = &keys[k];
    char q[SHOWN + 4];
    if (d->type == T_INT) {
        int rc = parse_int(value, num);
        if (rc == -1)
            return refuse(p, ZAB_EINVAL, "%s: '%s' is not a number", name, shown(value, q));
        if (rc || *num < d->min || *num > d->max || (*num == 0 && (d->flags & F_NONZERO)))
            return refuse(p, ZAB_EINVAL, "%s: %s is out of range (%lld to %lld%s)", name,
                          shown(value, q), (long long)d->min, (long long)d->max,
                          d->flags & F_NONZERO ? ", not 0" : "");
        return 0;
    }
    if (d->type == T_BOOL || d->type == T_YESNO) {
        const char *yes = d->type == T_BOOL ? "true" : "yes";
        const char *no = d->type == T_BOOL ? "false" : "no";
        *num = !strcasecmp(value, yes);
        if (*num || !strcasecmp(value, no)) return 0;
        return refuse(p, ZAB_EINVAL, "%s: '%s' is neither %s nor %s", name, shown(value, q),
                      yes, no);
    }
    if (!*value && !(d->flags & F_EMPTY))
        return refuse(p, ZAB_EINVAL, "%s: an empty value", name);
    if (k == K_PEER_TYPE) {
        *num = !strcasecmp(value, "observer");
        if (!*num && strcasecmp(value, "participant"))
            return refuse(p, ZAB_EINVAL, "%s: '%s' is neither observer nor participant", name,
                          shown(value, q));
    }
    if (k == K_4LW) return parse_words(p, name, value, num);
    if (!(*text = strdup(value))) return refuse(p, ZAB_ENOMEM, "out of memory");
    return 0;
}

static int set_key(struct parser *p, int k, const char *name, const char *value)
{
    int64_t num = 0;
    char *text = NULL;
    int rc = parse_value(p, k, name, value, &num, &text);
    struct setting *s = &p->set[k];
    if (!rc && s->line)
        rc = warn_at(p, p->line, "%s given again, replacing line %u", name, s->line);
    if (rc) {
        free(text);
        return rc;
    }
    free(s->text);
    *s = (struct setting){ p->line, num, text };
    return 0;
}

/* ---- server.N ---- */

/* Split "host:a:b..." in place at ':' (a host in brackets may hold ':'),
 * each field trimmed: *n fields, or max + 1 when there are more than max.
 * -1 for a '[' without its ']' or with something else than ':' after it. */
static int split_fields(char *s, char **fields, int max, int *n)
{
    char *next = s;
    *n = 0;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close || (close[1] && close[1] != ':')) return -1;
        *close = '\0';
        fields[(*n)++] = s + 1;
        next = close[1] ? close + 2 : NULL;
    }
    for (; next; (*n)++) {
        if (*n == max) {
            *n = max + 1;
            break;
        }
        char *colon = strchr(next, ':');
        if (colon) *colon = '\0';
        fields[*n] = trim(next);
        next = colon ? colon + 1 : NULL;
    }
    return 0;
}

static int copy_host(struct parser *p, const char *key, const char *host, char **out)
{
    if (!*host || strlen(host) > MAX_HOST)
        return refuse(p, ZAB_EINVAL, "%s: a host is empty or longer than %d bytes", key,
                      MAX_HOST);
    if (!(*out = strdup(host))) return refuse(p, ZAB_ENOMEM, "out of memory");
    return 0;
}

/* The 3.5+ client address after ';': "port" or "host:port". */
static int parse_client(struct parser *p, const char *key, char *text, struct zabd_server *srv)
{
    char *f[3], q[SHOWN + 4];
    int n;
    text = trim(text);
    shown(text, q);
    if (split_fields(text, f, 2, &n) || n > 2)
        return refuse(p, ZAB_EINVAL, "%s: the client address '%s' is not [host:]port", key, q);
    if (parse_port(f[n - 1], &srv->client_port))
        return refuse(p, ZAB_EINVAL, "%s: the client port '%s' is not a port (1 to 65535)",
                      key, shown(f[n - 1], q));
    return n == 2 ? copy_host(p, key, f[0], &srv->client_host) : 0;
}

/* host:quorumPort:electionPort[:participant|:observer][;[host:]port] */
static int parse_address(struct parser *p, const char *key, char *value, struct zabd_server *srv)
{
    char *f[5], q[SHOWN + 4], q2[SHOWN + 4];
    int n;
    shown(value, q);
    char *client = strchr(value, ';');
    if (client) *client++ = '\0';
    if (client && strchr(client, ';'))
        return refuse(p, ZAB_EINVAL, "%s: '%s' has more than one ';'", key, q);
    if (strchr(value, '|'))
        return refuse(p, ZAB_EINVAL,
                      "%s: several addresses for one server (a|b) are not supported", key);
    if (split_fields(value, f, 4, &n) || n < 3 || n > 4)
        return refuse(p, ZAB_EINVAL,
                      "%s: '%s' is not host:quorumPort:electionPort[:participant|:observer]",
                      key, q);
    if (parse_port(f[1], &srv->quorum_port))
        return refuse(p, ZAB_EINVAL, "%s: the quorum port '%s' is not a port (1 to 65535)",
                      key, shown(f[1], q2));
    if (parse_port(f[2], &srv->election_port))
        return refuse(p, ZAB_EINVAL, "%s: the election port '%s' is not a port (1 to 65535)",
                      key, shown(f[2], q2));
    if (srv->quorum_port == srv->election_port)
        return refuse(p, ZAB_EINVAL, "%s: the quorum and election ports must differ (both %u)",
                      key, srv->quorum_port);
    if (n == 4) {
        srv->observer = !strcasecmp(f[3], "observer");
        if (!srv->observer && strcasecmp(f[3], "participant"))
            return refuse(p, ZAB_EINVAL, "%s: '%s' is neither participant nor observer", key,
                          shown(f[3], q2));
    }
    int rc = copy_host(p, key, f[0], &srv->host);
    return rc || !client ? rc : parse_client(p, key, client, srv);
}

static int add_server(struct parser *p, const struct zabd_server *srv)
{
    struct zabd_config *c = p->cfg;
    assert(c->nservers < ZABD_MAX_SERVERS); /* ids are distinct, from 1 to 255 */
    if (c->nservers == p->servers_cap) {
        uint32_t cap = p->servers_cap ? p->servers_cap * 2 : 8;
        if (cap > ZABD_MAX_SERVERS) cap = ZABD_MAX_SERVERS;
        struct zabd_server *grown = realloc(c->servers, cap * sizeof *grown);
        if (!grown) return refuse(p, ZAB_ENOMEM, "out of memory");
        c->servers = grown;
        p->servers_cap = cap;
    }
    c->servers[c->nservers++] = *srv;
    return 0;
}

static int parse_server(struct parser *p, const char *key, char *value)
{
    char q[SHOWN + 4];
    shown(key, q);
    int64_t sid;
    if (parse_int(key + strlen("server."), &sid) || sid < 1 || sid > ZABD_MAX_SERVERS)
        return refuse(p, ZAB_EINVAL, "%s: a server id is a number from 1 to %d", q,
                      ZABD_MAX_SERVERS);
    const struct zabd_config *c = p->cfg;
    for (uint32_t i = 0; i < c->nservers; i++)
        if (c->servers[i].sid == sid)
            return refuse(p, ZAB_EINVAL, "%s: server id %lld given twice (first on line %u)", q,
                          (long long)sid, c->servers[i].line);
    struct zabd_server srv = { .sid = sid, .line = p->line };
    int rc = parse_address(p, q, value, &srv);
    if (!rc) rc = add_server(p, &srv);
    if (rc) {
        free(srv.host);
        free(srv.client_host);
    }
    return rc;
}

/* ---- one entry ---- */

static int parse_entry(struct parser *p, char *buf, size_t n)
{
    char *key = NULL, *value = NULL, q[SHOWN + 4];
    int rc = split_entry(p, buf, n, &key, &value);
    if (rc) return rc;
    if (starts_with(key, "server.")) return parse_server(p, key, value);
    if (starts_with(key, "group.") || starts_with(key, "weight."))
        return refuse(p, ZAB_EINVAL,
                      "%s: hierarchical quorums (group.N, weight.N) are not supported",
                      shown(key, q));
    if (!strcmp(key, "dynamicConfigFile"))
        return refuse(p, ZAB_EINVAL,
                      "dynamicConfigFile: not supported; give the server.N lines here");
    int k = find_key(key);
    if (k >= 0) return set_key(p, k, key, value);
    return warn_at(p, p->line, "unknown or unsupported key '%s', ignored", shown(key, q));
}

static int parse_text(struct parser *p, const char *text, size_t len)
{
    char *buf = malloc(ZABD_MAX_LINE + 1);
    if (!buf) return fail_at(p, 0, ZAB_ENOMEM, "out of memory");
    size_t pos = 0, n;
    uint32_t lineno = 0, first = 0;
    int rc = 0;
    while (!rc && pos < len) {
        rc = next_line(p, text, len, &pos, &lineno, buf, &n, &first);
        p->line = first;
        if (!rc && n) rc = parse_entry(p, buf, n);
    }
    free(buf);
    p->line = 0;
    return rc;
}

/* ---- the rules that join keys ---- */

static int64_t num_or(const struct parser *p, int k, int64_t fallback)
{
    return p->set[k].line ? p->set[k].num : fallback;
}

static char *take_text(struct parser *p, int k)
{
    char *text = p->set[k].text;
    p->set[k].text = NULL;
    return text;
}

/* Plain values, ZooKeeper's defaults for those not set. */
static int take_values(struct parser *p)
{
    struct zabd_config *c = p->cfg;
    if (!p->set[K_DATA_DIR].line) return fail_at(p, 0, ZAB_EINVAL, "dataDir is not set");
    c->data_dir = take_text(p, K_DATA_DIR);
    c->data_log_dir = take_text(p, K_LOG_DIR);
    c->super_digest = take_text(p, K_SUPER);
    c->tick_ms = (uint32_t)num_or(p, K_TICK, DEFAULT_TICK_MS);
    c->init_limit = (uint32_t)num_or(p, K_INIT, 0);
    c->sync_limit = (uint32_t)num_or(p, K_SYNC, 0);
    c->max_client_cnxns = (uint32_t)num_or(p, K_MAX_CNXNS, DEFAULT_MAX_CNXNS);
    c->purge_interval_hours = (uint32_t)num_or(p, K_PURGE, 0);
    c->prealloc_bytes = (uint64_t)num_or(p, K_PREALLOC, DEFAULT_PREALLOC_KIB) * 1024;
    c->jute_maxbuffer = (uint32_t)num_or(p, K_JUTE, 0);
    c->four_letter_words = (uint32_t)num_or(p, K_4LW, ZABD_4LW_SRVR);
    c->extended_types = (int)num_or(p, K_EXTENDED, 0);
    c->skip_acl = (int)num_or(p, K_SKIP_ACL, 0);
    c->standalone_enabled = (int)num_or(p, K_STANDALONE, 1);
    c->quorum_listen_on_all_ips = (int)num_or(p, K_LISTEN_ALL, 0);
    if (c->data_dir[0] == '/') return 0;
    return warn_at(p, p->set[K_DATA_DIR].line, "dataDir: a relative path, from the working "
                                               "directory");
}

/* A count ZooKeeper raises to its floor when set below it, with a warning. */
static int floored(struct parser *p, int k, int64_t fallback, int64_t least, uint32_t *out)
{
    int64_t v = num_or(p, k, fallback);
    *out = (uint32_t)(v < least ? least : v);
    if (v >= least) return 0;
    return warn_at(p, p->set[k].line, "%s: %lld is below %lld, %lld is used", keys[k].name,
                   (long long)v, (long long)least, (long long)least);
}

static int take_counts(struct parser *p)
{
    struct zabd_config *c = p->cfg;
    int rc = floored(p, K_SNAP_RETAIN, MIN_SNAP_RETAIN, MIN_SNAP_RETAIN, &c->snap_retain_count);
    return rc ? rc : floored(p, K_SNAP_COUNT, DEFAULT_SNAP_COUNT, MIN_SNAP_COUNT, &c->snap_count);
}

/* Times in ms: the session bounds default to 2 and 20 ticks (-1 asks for
 * the default), and every limit stays within ZooKeeper's int. */
static int check_times(struct parser *p)
{
    struct zabd_config *c = p->cfg;
    static const int limits[] = { K_INIT, K_SYNC };
    for (int i = 0; i < 2; i++) {
        int64_t ticks = num_or(p, limits[i], 0);
        if (ticks * c->tick_ms > INT32_MAX)
            return fail_at(p, p->set[limits[i]].line, ZAB_EINVAL,
                           "%s: %lld ticks of %u ms are more than %d ms", keys[limits[i]].name,
                           (long long)ticks, c->tick_ms, INT32_MAX);
    }
    int64_t min = num_or(p, K_MIN_SESSION, -1), max = num_or(p, K_MAX_SESSION, -1);
    c->min_session_timeout_ms = (uint32_t)(min == -1 ? 2 * c->tick_ms : min);
    c->max_session_timeout_ms = (uint32_t)(max == -1 ? 20 * c->tick_ms : max);
    if (c->min_session_timeout_ms > c->max_session_timeout_ms) {
        uint32_t line = p->set[K_MIN_SESSION].line;
        if (!line) line = p->set[K_MAX_SESSION].line;
        return fail_at(p, line, ZAB_EINVAL,
                       "minSessionTimeout %u ms is more than maxSessionTimeout %u ms",
                       c->min_session_timeout_ms, c->max_session_timeout_ms);
    }
    return 0;
}

/* ZooKeeper's rule: standalone with no participant, or with one while
 * standaloneEnabled is true; an ensemble otherwise. */
static int choose_mode(struct parser *p)
{
    struct zabd_config *c = p->cfg;
    uint32_t observers = 0;
    for (uint32_t i = 0; i < c->nservers; i++) observers += (uint32_t)c->servers[i].observer;
    uint32_t participants = c->nservers - observers;
    uint32_t first = c->nservers ? c->servers[0].line : 0;
    if (participants == 0 && observers)
        return fail_at(p, first, ZAB_EINVAL, "server.N: observers without a participant");
    if (participants == 0 && !c->standalone_enabled)
        return fail_at(p, p->set[K_STANDALONE].line, ZAB_EINVAL,
                       "standaloneEnabled: false, but no server.N line names a participant");
    if (participants == 1 && c->standalone_enabled && observers)
        return fail_at(p, first, ZAB_EINVAL,
                       "server.N: observers need two participants, or standaloneEnabled=false");
    c->standalone = participants == 0 || (participants == 1 && c->standalone_enabled);
    if (c->standalone && c->nservers)
        return warn_at(p, first, "server.N: one server and standaloneEnabled: standalone, the "
                                 "server.N line is not used");
    if (!c->standalone && !c->init_limit) return fail_at(p, 0, ZAB_EINVAL, "initLimit is not set");
    if (!c->standalone && !c->sync_limit) return fail_at(p, 0, ZAB_EINVAL, "syncLimit is not set");
    return 0;
}

/* dataDir/myid, if it is a file: its first line, blanks around it allowed. */
static int read_myid(struct parser *p)
{
    struct zabd_config *c = p->cfg;
    size_t len = strlen(c->data_dir) + sizeof "/myid";
    if (!(p->myid_path = malloc(len))) return fail_at(p, 0, ZAB_ENOMEM, "out of memory");
    snprintf(p->myid_path, len, "%s/myid", c->data_dir);
    struct stat st;
    if (stat(p->myid_path, &st) || !S_ISREG(st.st_mode)) {
        if (!c->standalone)
            return fail_at(p, 0, ZAB_EINVAL, "%s is missing: it holds this server's id",
                           p->myid_path);
        c->myid = 1;
        return 0;
    }
    char *text, q[SHOWN + 4];
    size_t n;
    int rc = read_file(p, p->myid_path, MAX_MYID_FILE, &text, &n);
    if (rc) return rc;
    text[strcspn(text, "\r\n")] = '\0';
    char *id = trim(text);
    if (parse_int(id, &c->myid) || c->myid < 1 || c->myid > ZABD_MAX_SERVERS)
        rc = fail_at(p, 0, ZAB_EINVAL, "%s: '%s' is not a server id (1 to %d)", p->myid_path,
                     shown(id, q), ZABD_MAX_SERVERS);
    free(text);
    p->have_myid = 1;
    return rc;
}

static const struct zabd_server *own_server(const struct parser *p)
{
    const struct zabd_config *c = p->cfg;
    for (uint32_t i = 0; p->have_myid && i < c->nservers; i++)
        if (c->servers[i].sid == c->myid) return &c->servers[i];
    return NULL;
}

/* This server's role: its server.N line decides, as in ZooKeeper, and a
 * peerType saying otherwise is a warning. */
static int choose_role(struct parser *p)
{
    struct zabd_config *c = p->cfg;
    const struct zabd_server *me = own_server(p);
    if (!c->standalone && !me)
        return fail_at(p, 0, ZAB_EINVAL, "%s: server id %lld has no server.%lld line", p->myid_path,
                       (long long)c->myid, (long long)c->myid);
    c->observer = !c->standalone && me->observer;
    const struct setting *peer = &p->set[K_PEER_TYPE];
    if (peer->line && peer->num != c->observer)
        return warn_at(p, peer->line,
                       "peerType: this server is %s by its server.N line, which wins",
                       c->observer ? "an observer" : "a participant");
    return 0;
}

static int is_any_host(const char *host)
{
    return !host || !strcmp(host, "0.0.0.0") || !strcmp(host, "::");
}

/* The client address: from this server's ";[host:]port" if it has one, else
 * from clientPortAddress and clientPort; the two must agree (on the port
 * only when clientPortAddress is a wildcard), as ZooKeeper requires. */
static int choose_client_address(struct parser *p)
{
    struct zabd_config *c = p->cfg;
    const struct setting *port = &p->set[K_CLIENT_PORT], *addr = &p->set[K_CLIENT_ADDR];
    if (addr->line && !port->num)
        return fail_at(p, addr->line, ZAB_EINVAL, "clientPortAddress: set, but clientPort is not");
    const struct zabd_server *me = own_server(p);
    if (me && me->client_port) {
        if (port->num && (port->num != me->client_port ||
                          (!is_any_host(addr->text) &&
                           (!me->client_host || strcmp(addr->text, me->client_host)))))
            return fail_at(p, port->line, ZAB_EINVAL,
                           "clientPort: %s:%lld differs from the client address of server.%lld "
                           "(line %u)",
                           addr->text ? addr->text : "*", (long long)port->num, (long long)me->sid,
                           me->line);
        c->client_port = me->client_port;
        if (me->client_host && !(c->client_host = strdup(me->client_host)))
            return fail_at(p, 0, ZAB_ENOMEM, "out of memory");
        return 0;
    }
    if (!port->num)
        return fail_at(p, 0, ZAB_EINVAL, "clientPort is not set (nor a ';port' on server.%lld)",
                       (long long)c->myid);
    c->client_port = (uint16_t)port->num;
    c->client_host = take_text(p, K_CLIENT_ADDR);
    return 0;
}

static int finish(struct parser *p)
{
    int rc = take_values(p);
    if (!rc) rc = take_counts(p);
    if (!rc) rc = check_times(p);
    if (!rc) rc = choose_mode(p);
    if (!rc) rc = read_myid(p);
    if (!rc) rc = choose_role(p);
    if (!rc) rc = choose_client_address(p);
    return rc;
}

/* ---- the calls ---- */

int zabd_config_load(const char *path, struct zabd_config *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (err && errlen) err[0] = '\0';
    struct parser p = { .path = path, .cfg = out, .err = err, .errlen = errlen };
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(&p, path, ZABD_MAX_FILE, &text, &len);
    if (!rc) rc = parse_text(&p, text, len);
    free(text);
    if (!rc) rc = finish(&p);
    for (int k = 0; k < K_COUNT; k++) free(p.set[k].text);
    free(p.myid_path);
    if (rc) zabd_config_free(out);
    return rc;
}

void zabd_config_free(struct zabd_config *cfg)
{
    for (uint32_t i = 0; i < cfg->nservers; i++) {
        free(cfg->servers[i].host);
        free(cfg->servers[i].client_host);
    }
    free(cfg->servers);
    for (uint32_t i = 0; i < cfg->nwarnings; i++) free(cfg->warnings[i]);
    free(cfg->warnings);
    free(cfg->data_dir);
    free(cfg->data_log_dir);
    free(cfg->client_host);
    free(cfg->super_digest);
    memset(cfg, 0, sizeof *cfg);
}

int zabd_config_server(const struct zabd_config *cfg, zab_server_config *out,
                       zab_server_member *members, uint32_t cap)
{
    uint32_t n = cfg->standalone ? 1 : cfg->nservers;
    if (cap < n) return ZAB_ETOOBIG;
    if (cfg->standalone) members[0] = (zab_server_member){ cfg->myid, "127.0.0.1", 0, 0 };
    for (uint32_t i = 0; !cfg->standalone && i < n; i++) {
        const struct zabd_server *s = &cfg->servers[i];
        members[i] = (zab_server_member){ s->sid, s->host, s->quorum_port, s->observer };
    }
    /* A znode as large as jute.maxbuffer must fit in a peer message, with
     * room for its path and ACL. */
    uint32_t max_message = cfg->jute_maxbuffer > (3u << 20) ? cfg->jute_maxbuffer + (1u << 20) : 0;
    *out = (zab_server_config){
        .sid = cfg->myid,
        .members = members,
        .nmembers = n,
        .data_dir = cfg->data_dir,
        .log_dir = cfg->data_log_dir,
        .listen_host = cfg->quorum_listen_on_all_ips && !cfg->standalone ? "0.0.0.0" : NULL,
        .tick_ms = cfg->tick_ms,
        .init_limit = cfg->init_limit,
        .sync_limit = cfg->sync_limit,
        .min_session_timeout_ms = cfg->min_session_timeout_ms,
        .max_session_timeout_ms = cfg->max_session_timeout_ms,
        .snap_count = cfg->snap_count,
        .snap_retain = cfg->snap_retain_count,
        .segment_bytes = cfg->prealloc_bytes,
        .max_message = max_message,
        .tree = { .max_data = cfg->jute_maxbuffer, .extended_types = cfg->extended_types,
                  .skip_acl = cfg->skip_acl },
    };
    if (cfg->super_digest)
        out->tree.super_digest =
            (zab_str){ cfg->super_digest, (uint32_t)strlen(cfg->super_digest) };
    return (int)n;
}

int zabd_config_allows(const struct zabd_config *cfg, const char *word)
{
    for (uint32_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strcmp(word, words[i])) return (cfg->four_letter_words >> i) & 1;
    return 0;
}
