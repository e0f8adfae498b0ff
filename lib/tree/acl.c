/*
 * acl.c - ACL lists as ZooKeeper's server treats them: the permission check,
 * validation and expansion of a request's list, getACL masking, the digest
 * identity, and the interning cache that stores each distinct list once.
 *
 * Identifiers are judged as ZooKeeper's Java code judges them, quirks
 * included: digest ids by String.split(":") (trailing empty parts vanish),
 * ip ids by Integer.parseInt (a sign is allowed, and so is any Unicode
 * decimal digit of the BMP), and IPv6 by ZooKeeper's own parser, which
 * knows no embedded IPv4 and no zone suffix.
 */
#include "tree/acl.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/prim.h"

const zab_acl zab_acl_open[1] = { { ZAB_PERM_ALL, { { "world", 5 }, { "anyone", 6 } } } };
const zab_acl zab_acl_read[1] = { { ZAB_PERM_READ, { { "world", 5 }, { "anyone", 6 } } } };
const zab_acl zab_acl_creator[1] = { { ZAB_PERM_ALL, { { "auth", 4 }, { "", 0 } } } };

/* Seeds the content hash; part of the tree digest, so it never changes. */
#define ZAB_ACL_HASH_SEED UINT64_C(0x61636c6c69737473)

/* ------------------------------------------------------------------------ */
/* Strings                                                                   */
/* ------------------------------------------------------------------------ */

static int zab_str_eq(zab_str a, zab_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int zab_str_is(zab_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && (n == 0 || memcmp(s.ptr, lit, n) == 0);
}

static int zab_id_is_world_anyone(const zab_id *id)
{
    return zab_str_is(id->scheme, "world") && zab_str_is(id->id, "anyone");
}

int zab_digest_id(zab_str user_password, char *out, size_t cap)
{
    const char *colon = user_password.len ? memchr(user_password.ptr, ':', user_password.len)
                                          : NULL;
    if (!colon) return ZAB_EINVAL;
    size_t user = (size_t)(colon - user_password.ptr);
    if (user > (size_t)INT_MAX - 30 || cap < user + 30) return ZAB_ETOOBIG;

    uint8_t sha[20];
    zab_sha1(user_password.ptr, user_password.len, sha);
    memcpy(out, user_password.ptr, user + 1);
    size_t n = zab_base64_encode(sha, sizeof sha, out + user + 1);
    assert(n == 28);
    return (int)(user + 1 + n);
}

/* ------------------------------------------------------------------------ */
/* Java's number parsing, as the ip provider applies it                      */
/* ------------------------------------------------------------------------ */

/* The next code point of well-formed UTF-8, or -1 for a malformed sequence
 * (Java decodes it to U+FFFD, which is no digit). Advances *i. */
static int32_t zab_utf8_next(const uint8_t *s, size_t len, size_t *i)
{
    uint8_t b = s[*i];
    (*i)++;
    if (b < 0x80) return b;
    int need = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
    uint32_t cp = b & (0x3f >> need);
    uint8_t lo = 0x80, hi = 0xbf;
    if (b < 0xc2 || b > 0xf4) return -1;
    if (b == 0xe0) lo = 0xa0;
    else if (b == 0xed) hi = 0x9f;
    else if (b == 0xf0) lo = 0x90;
    else if (b == 0xf4) hi = 0x8f;
    for (; need > 0; need--, lo = 0x80, hi = 0xbf) {
        if (*i >= len || s[*i] < lo || s[*i] > hi) return -1;
        cp = cp << 6 | (s[(*i)++] & 0x3f);
    }
    return (int32_t)cp;
}

/* Java's Character.digit(ch, radix) for a char (a BMP code point): the
 * decimal digits of every script (each block of ten starts at one of these
 * zeros), then the ASCII and fullwidth Latin letters for radix > 10. */
static int zab_java_digit(int32_t cp, int radix)
{
    static const uint16_t zeros[] = {
        0x0030, 0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, 0x0a66, 0x0ae6, 0x0b66, 0x0be6,
        0x0c66, 0x0ce6, 0x0d66, 0x0de6, 0x0e50, 0x0ed0, 0x0f20, 0x1040, 0x1090, 0x17e0,
        0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620,
        0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10
    };
    int d = -1;
    if (cp >= 'a' && cp <= 'z') d = cp - 'a' + 10;
    else if (cp >= 'A' && cp <= 'Z') d = cp - 'A' + 10;
    else if (cp >= 0xff41 && cp <= 0xff5a) d = cp - 0xff41 + 10;
    else if (cp >= 0xff21 && cp <= 0xff3a) d = cp - 0xff21 + 10;
    else
        for (size_t k = 0; k < sizeof zeros / sizeof zeros[0]; k++)
            if (cp >= zeros[k] && cp < zeros[k] + 10) {
                d = cp - zeros[k];
                break;
            }
    return d < radix ? d : -1;
}

/* Java's Integer.parseInt(s, radix): an optional '+' or '-', then at least
 * one digit. Values that overflow saturate far outside every range the
 * callers accept, so they are refused as Java refuses them. *chars gets the
 * length in chars, which a successful parse makes the code point count. */
static int zab_java_parse_int(const uint8_t *s, size_t len, int radix, int64_t *value,
                              size_t *chars)
{
    size_t i = 0;
    int neg = len > 0 && s[0] == '-';
    if (len > 0 && (s[0] == '-' || s[0] == '+')) i = 1;
    if (i == len) return 0;
    int64_t v = 0;
    *chars = i;
    while (i < len) {
        int d = zab_java_digit(zab_utf8_next(s, len, &i), radix);
        if (d < 0) return 0;
        if (v < INT64_C(1) << 40) v = v * radix + d;
        (*chars)++;
    }
    *value = neg ? -v : v;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* The ip provider                                                           */
/* ------------------------------------------------------------------------ */

typedef struct zab_ip {
    uint8_t b[16];
    int len; /* 4 or 16 */
} zab_ip;

/* Four '.'-separated decimal octets. */
static int zab_ip_parse_v4(const uint8_t *s, size_t len, uint8_t out[4])
{
    int part = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') continue;
        int64_t v;
        size_t chars;
        if (part == 4 || !zab_java_parse_int(s + start, i - start, 10, &v, &chars) ||
            v < 0 || v > 255)
            return 0;
        out[part++] = (uint8_t)v;
        start = i + 1;
    }
    return part == 4;
}

/* The groups of a non-empty ':'-separated run. */
static size_t zab_ip_v6_count(const uint8_t *s, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++) n += s[i] == ':';
    return n;
}

/* Parse each group (one to four chars of a signed hex int) into two bytes,
 * keeping the low 16 bits of negative values as Java's casts do. */
static int zab_ip_v6_groups(const uint8_t *s, size_t len, uint8_t *out)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ':') continue;
        int64_t v;
        size_t chars;
        if (!zab_java_parse_int(s + start, i - start, 16, &v, &chars) || chars > 4) return 0;
        *out++ = (uint8_t)((uint64_t)v >> 8);
        *out++ = (uint8_t)v;
        start = i + 1;
    }
    return 1;
}

static const uint8_t *zab_find_double_colon(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == ':' && s[i + 1] == ':') return s + i;
    return NULL;
}

/* Eight groups, or fewer around a single "::" that stands for at least one
 * zero group. */
static int zab_ip_parse_v6(const uint8_t *s, size_t len, uint8_t out[16])
{
    memset(out, 0, 16);
    const uint8_t *gap = zab_find_double_colon(s, len);
    if (!gap) return zab_ip_v6_count(s, len) == 8 && zab_ip_v6_groups(s, len, out);

    size_t left = (size_t)(gap - s), right = len - left - 2;
    if (zab_find_double_colon(gap + 2, right)) return 0;
    size_t nleft = left ? zab_ip_v6_count(s, left) : 0;
    size_t nright = right ? zab_ip_v6_count(gap + 2, right) : 0;
    if (nleft + nright >= 8) return 0;
    return (!nleft || zab_ip_v6_groups(s, left, out)) &&
           (!nright || zab_ip_v6_groups(gap + 2, right, out + 16 - 2 * nright));
}

/* An address: IPv6 when it holds a ':', else IPv4 when it holds a '.'. */
static int zab_ip_parse(const uint8_t *s, size_t len, zab_ip *ip)
{
    if (len && memchr(s, ':', len)) {
        ip->len = 16;
        return zab_ip_parse_v6(s, len, ip->b);
    }
    if (len && memchr(s, '.', len)) {
        ip->len = 4;
        return zab_ip_parse_v4(s, len, ip->b);
    }
    return 0;
}

/* An ip ACL id: an address and an optional "/bits" no longer than it. */
static int zab_ip_parse_expr(zab_str id, zab_ip *ip, int *bits)
{
    const uint8_t *s = (const uint8_t *)id.ptr;
    const uint8_t *slash = id.len ? memchr(s, '/', id.len) : NULL;
    size_t alen = slash ? (size_t)(slash - s) : id.len;
    if (!zab_ip_parse(s, alen, ip)) return 0;
    *bits = ip->len * 8;
    if (!slash) return 1;
    int64_t v;
    size_t chars;
    if (!zab_java_parse_int(slash + 1, id.len - alen - 1, 10, &v, &chars) || v < 0 ||
        v > ip->len * 8)
        return 0;
    *bits = (int)v;
    return 1;
}

static int zab_ip_id_valid(zab_str id)
{
    zab_ip ip;
    int bits;
    return zab_ip_parse_expr(id, &ip, &bits);
}

static void zab_ip_mask(zab_ip *ip, int bits)
{
    for (int i = 0; i < ip->len; i++) {
        int keep = bits - 8 * i;
        if (keep <= 0) ip->b[i] = 0;
        else if (keep < 8) ip->b[i] &= (uint8_t)(0xff << (8 - keep));
    }
}

/* A connection's address (its whole text, no prefix) against an ACL id. */
static int zab_ip_matches(zab_str have, zab_str want)
{
    zab_ip acl, addr;
    int bits;
    if (!zab_ip_parse_expr(want, &acl, &bits)) return 0;
    if (!zab_ip_parse((const uint8_t *)have.ptr, have.len, &addr)) return 0;
    if (addr.len != acl.len) return 0;
    zab_ip_mask(&acl, bits);
    zab_ip_mask(&addr, bits);
    return memcmp(acl.b, addr.b, (size_t)acl.len) == 0;
}

/* ------------------------------------------------------------------------ */
/* The check                                                                 */
/* ------------------------------------------------------------------------ */

/* Exactly two parts under Java's split(":"), which drops trailing empty
 * strings: "a:b", ":b" and "a:b:" pass; "a:", "a", "a:b:c" do not. */
static int zab_digest_id_valid(zab_str id)
{
    uint32_t n = id.len;
    while (n > 0 && id.ptr[n - 1] == ':') n--;
    uint32_t colons = 0;
    for (uint32_t i = 0; i < n; i++) colons += id.ptr[i] == ':';
    return colons == 1;
}

/* The scheme-specific match of an identity against an entry's id; schemes
 * without a provider never match. */
static int zab_id_matches(zab_str scheme, zab_str have, zab_str want)
{
    if (zab_str_is(scheme, "digest")) return zab_str_eq(have, want);
    if (zab_str_is(scheme, "ip")) return zab_ip_matches(have, want);
    return 0;
}

static int zab_acl_is_super(const zab_acl_policy *pol, const zab_id *auth, uint32_t nauth)
{
    for (uint32_t i = 0; i < nauth; i++) {
        if (zab_str_is(auth[i].scheme, "super")) return 1;
        if (pol && pol->super_digest.len && zab_str_is(auth[i].scheme, "digest") &&
            zab_str_eq(auth[i].id, pol->super_digest))
            return 1;
    }
    return 0;
}

int zab_acl_check(const zab_acl_policy *pol, const zab_acl *acl, uint32_t n, int32_t perm,
                  const zab_id *auth, uint32_t nauth)
{
    if ((pol && pol->skip) || n == 0 || zab_acl_is_super(pol, auth, nauth)) return ZAB_OK;
    for (uint32_t i = 0; i < n; i++) {
        if (!(acl[i].perms & perm)) continue;
        if (zab_id_is_world_anyone(&acl[i].id)) return ZAB_OK;
        for (uint32_t k = 0; k < nauth; k++)
            if (zab_str_eq(auth[k].scheme, acl[i].id.scheme) &&
                zab_id_matches(acl[i].id.scheme, auth[k].id, acl[i].id.id))
                return ZAB_OK;
    }
    return ZAB_ENOAUTH;
}

/* ------------------------------------------------------------------------ */
/* Validation and expansion                                                  */
/* ------------------------------------------------------------------------ */

/* Bytes for n items of the given size plus one (so an empty array still
 * gets a distinct block); 0 when that overflows. */
static size_t zab_array_bytes(uint64_t n, size_t size)
{
    if (n > (SIZE_MAX - 1) / size) return 0;
    return (size_t)n * size + 1;
}

static void zab_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Chains one entry into h. The lengths go in first, so no two different
 * entries feed the same bytes. */
static uint64_t zab_acl_entry_hash(const zab_acl *a, uint64_t h)
{
    uint8_t rec[12];
    zab_put_be32(rec, (uint32_t)a->perms);
    zab_put_be32(rec + 4, a->id.scheme.len);
    zab_put_be32(rec + 8, a->id.id.len);
    h = zab_hash64(rec, sizeof rec, h);
    if (a->id.scheme.len) h = zab_hash64(a->id.scheme.ptr, a->id.scheme.len, h);
    if (a->id.id.len) h = zab_hash64(a->id.id.ptr, a->id.id.len, h);
    return h;
}

static int zab_acl_entry_eq(const zab_acl *a, const zab_acl *b)
{
    return a->perms == b->perms && zab_str_eq(a->id.scheme, b->id.scheme) &&
           zab_str_eq(a->id.id, b->id.id);
}

/* An arena copy of v[0..n) without repeats, first occurrence kept, in order.
 * A hash set keeps this linear: the list comes from the network. */
static int zab_acl_unique(const zab_acl *v, uint32_t n, zab_arena *a, zab_acl **out,
                          uint32_t *nout)
{
    size_t slots = 2;
    while (slots < (uint64_t)n * 2 && slots <= SIZE_MAX / 4) slots *= 2;
    if (slots < (uint64_t)n * 2) return ZAB_ENOMEM;
    size_t ubytes = zab_array_bytes(n, sizeof(zab_acl));
    size_t sbytes = zab_array_bytes(slots, sizeof(uint32_t));
    if (!ubytes || !sbytes) return ZAB_ENOMEM;
    zab_acl *u = zab_arena_alloc(a, ubytes);
    uint32_t *set = zab_arena_alloc(a, sbytes);
    if (!u || !set) return ZAB_ENOMEM;
    memset(set, 0, slots * sizeof *set);

    uint32_t nu = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t s = (size_t)zab_acl_entry_hash(&v[i], 0) & (slots - 1);
        while (set[s] && !zab_acl_entry_eq(&u[set[s] - 1], &v[i])) s = (s + 1) & (slots - 1);
        if (set[s]) continue;
        u[nu++] = v[i];
        set[s] = nu;
    }
    *out = u;
    *nout = nu;
    return ZAB_OK;
}

/* The identities an "auth" entry expands to: the connection's distinct
 * identities from an authenticating provider. Of the providers here only
 * digest authenticates; ip is given, not proven, and super has no provider.
 * The connection's identities form a set, so repeats count once. */
static int zab_acl_auth_ids(const zab_id *auth, uint32_t nauth, zab_arena *a, zab_acl **out,
                            uint32_t *nout)
{
    size_t bytes = zab_array_bytes(nauth, sizeof(zab_acl));
    zab_acl *ids = bytes ? zab_arena_alloc(a, bytes) : NULL;
    if (!ids) return ZAB_ENOMEM;
    uint32_t n = 0;
    for (uint32_t i = 0; i < nauth; i++)
        if (zab_str_is(auth[i].scheme, "digest")) ids[n++] = (zab_acl){ 0, auth[i] };
    return zab_acl_unique(ids, n, a, out, nout);
}

/* How many entries one unique input entry becomes, or 0 when it is invalid. */
static uint32_t zab_acl_fixup_width(const zab_acl *e, uint32_t nids)
{
    const zab_str scheme = e->id.scheme;
    if (zab_id_is_world_anyone(&e->id)) return 1;
    if (zab_str_is(scheme, "auth")) return nids;
    if (zab_str_is(scheme, "digest")) return zab_digest_id_valid(e->id.id);
    if (zab_str_is(scheme, "ip")) return (uint32_t)zab_ip_id_valid(e->id.id);
    return 0;
}

int zab_acl_fixup(const zab_acl *in, uint32_t n, const zab_id *auth, uint32_t nauth,
                  zab_arena *scratch, const zab_acl **out, uint32_t *nout)
{
    zab_acl *uniq, *ids;
    uint32_t nuniq, nids;
    int rc = zab_acl_unique(in, n, scratch, &uniq, &nuniq);
    if (rc == ZAB_OK) rc = zab_acl_auth_ids(auth, nauth, scratch, &ids, &nids);
    if (rc != ZAB_OK) return rc;
    if (nuniq == 0) return ZAB_EINVALIDACL;

    uint64_t total = 0;
    for (uint32_t i = 0; i < nuniq; i++) {
        uint32_t w = zab_acl_fixup_width(&uniq[i], nids);
        if (w == 0) return ZAB_EINVALIDACL;
        total += w;
    }
    size_t bytes = zab_array_bytes(total, sizeof(zab_acl));
    if (total > UINT32_MAX || !bytes) return ZAB_ENOMEM;
    zab_acl *res = zab_arena_alloc(scratch, bytes);
    if (!res) return ZAB_ENOMEM;

    uint32_t k = 0;
    for (uint32_t i = 0; i < nuniq; i++) {
        if (zab_str_is(uniq[i].id.scheme, "auth")) {
            for (uint32_t j = 0; j < nids; j++) res[k++] = (zab_acl){ uniq[i].perms, ids[j].id };
        } else {
            res[k++] = uniq[i];
        }
    }
    assert(k == total);
    *out = res;
    *nout = k;
    return ZAB_OK;
}

/* Java's line terminators, which stop a regex '.': \n, \r, U+0085, U+2028
 * and U+2029. Their UTF-8 forms begin with bytes that never continue a
 * sequence, so a byte match is a character match. */
static int zab_is_line_end(const uint8_t *s, size_t left)
{
    if (s[0] == '\n' || s[0] == '\r') return 1;
    if (left >= 2 && s[0] == 0xc2 && s[1] == 0x85) return 1;
    return left >= 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9);
}

/* ZooKeeper masks with id.replaceAll(":.*", ":x"): each ':' and the rest
 * of its line become ":x". Writes to out when given; returns the length. */
static size_t zab_digest_mask(zab_str id, char *out)
{
    const uint8_t *s = (const uint8_t *)id.ptr;
    size_t o = 0, i = 0;
    while (i < id.len) {
        if (s[i] != ':') {
            if (out) out[o] = (char)s[i];
            o++;
            i++;
            continue;
        }
        if (out) memcpy(out + o, ":x", 2);
        o += 2;
        for (i++; i < id.len && !zab_is_line_end(s + i, id.len - i); i++) {}
    }
    return o;
}

const zab_acl *zab_acl_masked(const zab_acl *acl, uint32_t n, zab_arena *scratch)
{
    size_t bytes = zab_array_bytes(n, sizeof(zab_acl));
    zab_acl *res = bytes ? zab_arena_alloc(scratch, bytes) : NULL;
    if (!res) return NULL;
    for (uint32_t i = 0; i < n; i++) {
        res[i] = acl[i];
        if (!zab_str_is(acl[i].id.scheme, "digest")) continue;
        size_t len = zab_digest_mask(acl[i].id.id, NULL);
        char *text = zab_arena_alloc(scratch, len + 1);
        if (!text) return NULL;
        zab_digest_mask(acl[i].id.id, text);
        res[i].id.id = (zab_str){ text, (uint32_t)len };
    }
    return res;
}

/* ------------------------------------------------------------------------ */
/* The interning cache                                                       */
/* ------------------------------------------------------------------------ */

/*
 * Free slots (refs 0, list NULL) are kept in a skew heap ordered by index,
 * so the lowest one is found in logarithmic time however many there are.
 * A free slot's n field links its left child and its hash field its right
 * child (slot + 1; 0 for none); the cache's free_root names the root.
 */

static uint32_t zab_acl_free_merge(zab_acl_entry *v, uint32_t a, uint32_t b)
{
    uint32_t root = 0, *link = &root;
    while (a && b) {
        if (b < a) {
            uint32_t t = a;
            a = b;
            b = t;
        }
        /* a stays on top; its right subtree merges with b and becomes its
         * left, its old left becomes its right. */
        zab_acl_entry *e = &v[a - 1];
        uint32_t right = (uint32_t)e->hash;
        e->hash = e->n;
        *link = a;
        link = &e->n;
        a = right;
    }
    *link = a ? a : b;
    return root;
}

static void zab_acl_free_push(zab_acl_cache *c, uint32_t pos)
{
    c->v[pos].n = 0;
    c->v[pos].hash = 0;
    c->free_root = zab_acl_free_merge(c->v, c->free_root, pos + 1);
}

/* The lowest free slot, taken out of the heap; UINT32_MAX when none. */
static uint32_t zab_acl_free_pop(zab_acl_cache *c)
{
    if (!c->free_root) return UINT32_MAX;
    uint32_t pos = c->free_root - 1;
    zab_acl_entry *e = &c->v[pos];
    c->free_root = zab_acl_free_merge(c->v, e->n, (uint32_t)e->hash);
    e->n = 0;
    e->hash = 0;
    return pos;
}

static int zab_acl_slot_free(const zab_acl_cache *c)
{
    return c->free_root != 0;
}

void zab_acl_cache_init(zab_acl_cache *c)
{
    memset(c, 0, sizeof *c);
}

void zab_acl_cache_fini(zab_acl_cache *c)
{
    for (uint32_t i = 0; i < c->len; i++) free(c->v[i].list);
    free(c->v);
    free(c->index);
    memset(c, 0, sizeof *c);
}

uint64_t zab_acl_hash_list(const zab_acl *acl, uint32_t n)
{
    uint8_t count[4];
    zab_put_be32(count, n);
    uint64_t h = zab_hash64(count, sizeof count, ZAB_ACL_HASH_SEED);
    for (uint32_t i = 0; i < n; i++) h = zab_acl_entry_hash(&acl[i], h);
    return h;
}

/* One allocation: the n entries, then every string they point to. */
static zab_acl *zab_acl_copy(const zab_acl *acl, uint32_t n)
{
    size_t size = zab_array_bytes(n, sizeof(zab_acl)); /* an empty list still owns a block */
    if (!size) return NULL;
    for (uint32_t i = 0; i < n; i++) {
        size_t more = (size_t)acl[i].id.scheme.len + acl[i].id.id.len;
        if (more < acl[i].id.id.len || size > SIZE_MAX - more) return NULL;
        size += more;
    }
    zab_acl *copy = malloc(size);
    if (!copy) return NULL;
    char *text = (char *)(copy + n);
    for (uint32_t i = 0; i < n; i++) {
        const zab_id *id = &acl[i].id;
        copy[i].perms = acl[i].perms;
        if (id->scheme.len) memcpy(text, id->scheme.ptr, id->scheme.len);
        copy[i].id.scheme = (zab_str){ text, id->scheme.len };
        text += id->scheme.len;
        if (id->id.len) memcpy(text, id->id.ptr, id->id.len);
        copy[i].id.id = (zab_str){ text, id->id.len };
        text += id->id.len;
    }
    return copy;
}

static int zab_acl_list_eq(const zab_acl *a, const zab_acl *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!zab_acl_entry_eq(&a[i], &b[i])) return 0;
    return 1;
}

/* The table slot holding pos, or of the equal list when pos is UINT32_MAX;
 * UINT32_MAX when absent. */
static uint32_t zab_acl_lookup(const zab_acl_cache *c, const zab_acl *acl, uint32_t n,
                               uint64_t hash, uint32_t pos)
{
    if (!c->index) return UINT32_MAX;
    for (uint32_t s = (uint32_t)hash & c->mask; c->index[s]; s = (s + 1) & c->mask) {
        uint32_t at = c->index[s] - 1;
        const zab_acl_entry *e = &c->v[at];
        if (pos != UINT32_MAX ? at == pos
                              : e->hash == hash && e->n == n && zab_acl_list_eq(e->list, acl, n))
            return s;
    }
    return UINT32_MAX;
}

static void zab_acl_table_put(uint32_t *index, uint32_t mask, uint64_t hash, uint32_t pos)
{
    uint32_t s = (uint32_t)hash & mask;
    while (index[s]) s = (s + 1) & mask;
    index[s] = pos + 1;
}

/* Remove a slot by shifting later members of its probe run back, so no
 * tombstones accumulate. */
static void zab_acl_table_remove(zab_acl_cache *c, uint32_t s)
{
    for (uint32_t j = (s + 1) & c->mask; c->index[j]; j = (j + 1) & c->mask) {
        uint32_t home = (uint32_t)c->v[c->index[j] - 1].hash & c->mask;
        /* The member at j may move to s unless its home lies cyclically in
         * (s, j]. */
        int stays = s < j ? (home > s && home <= j) : (home > s || home <= j);
        if (stays) continue;
        c->index[s] = c->index[j];
        s = j;
    }
    c->index[s] = 0;
}

/* Room for one more live list: a free or appendable slot, and a table at
 * most half full. Either allocation failing leaves the cache as it was. */
static int zab_acl_reserve(zab_acl_cache *c)
{
    if (!zab_acl_slot_free(c) && c->len == c->cap) {
        if (c->cap >= UINT32_MAX / 4) return ZAB_ENOMEM;
        uint32_t cap = c->cap ? c->cap * 2 : 8;
        zab_acl_entry *v = realloc(c->v, (size_t)cap * sizeof *v);
        if (!v) return ZAB_ENOMEM;
        memset(v + c->cap, 0, ((size_t)cap - c->cap) * sizeof *v);
        c->v = v;
        c->cap = cap;
    }
    size_t slots = c->index ? (size_t)c->mask + 1 : 0;
    if (((size_t)c->live + 1) * 2 > slots) {
        size_t grown = slots ? slots * 2 : 16;
        if (grown > (size_t)UINT32_MAX / 2 + 1) return ZAB_ENOMEM;
        uint32_t *index = calloc(grown, sizeof *index);
        if (!index) return ZAB_ENOMEM;
        for (uint32_t i = 0; i < c->len; i++)
            if (c->v[i].refs) zab_acl_table_put(index, (uint32_t)grown - 1, c->v[i].hash, i);
        free(c->index);
        c->index = index;
        c->mask = (uint32_t)grown - 1;
    }
    return ZAB_OK;
}

int zab_acl_intern(zab_acl_cache *c, const zab_acl *acl, uint32_t n, uint32_t *idx)
{
    uint64_t hash = zab_acl_hash_list(acl, n);
    uint32_t s = zab_acl_lookup(c, acl, n, hash, UINT32_MAX);
    if (s != UINT32_MAX) {
        *idx = c->index[s] - 1;
        zab_acl_ref(c, *idx);
        return ZAB_OK;
    }
    zab_acl *copy = zab_acl_copy(acl, n);
    if (!copy) return ZAB_ENOMEM;
    if (zab_acl_reserve(c) != ZAB_OK) {
        free(copy);
        return ZAB_ENOMEM;
    }
    uint32_t pos = zab_acl_free_pop(c);
    if (pos == UINT32_MAX) pos = c->len++;
    c->v[pos] = (zab_acl_entry){ 1, n, hash, copy };
    zab_acl_table_put(c->index, c->mask, hash, pos);
    c->live++;
    *idx = pos;
    return ZAB_OK;
}

void zab_acl_ref(zab_acl_cache *c, uint32_t idx)
{
    assert(idx < c->len && c->v[idx].refs > 0 && c->v[idx].refs < UINT32_MAX);
    c->v[idx].refs++;
}

void zab_acl_unref(zab_acl_cache *c, uint32_t idx)
{
    assert(idx < c->len && c->v[idx].refs > 0);
    zab_acl_entry *e = &c->v[idx];
    if (--e->refs) return;
    uint32_t s = zab_acl_lookup(c, NULL, 0, e->hash, idx);
    assert(s != UINT32_MAX);
    zab_acl_table_remove(c, s);
    free(e->list);
    e->list = NULL;
    zab_acl_free_push(c, idx);
    c->live--;
}

const zab_acl *zab_acl_get(const zab_acl_cache *c, uint32_t idx, uint32_t *n)
{
    /* An index from a damaged snapshot must not read out of bounds. */
    if (idx >= c->len || !c->v[idx].refs) {
        *n = 0;
        return NULL;
    }
    *n = c->v[idx].n;
    return c->v[idx].list;
}

uint64_t zab_acl_hash(const zab_acl_cache *c, uint32_t idx)
{
    assert(idx < c->len && c->v[idx].refs > 0);
    return c->v[idx].hash;
}
