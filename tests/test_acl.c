/*
 * test_acl.c - ACL checks, validation, masking, the interning cache, the
 * digest identity and the SHA-1/base64 primitives under it.
 *
 * Expected verdicts are ZooKeeper's: ZooKeeperServer.checkACL,
 * PrepRequestProcessor.fixupACL, the digest and ip providers' isValid and
 * matches, and FinalRequestProcessor's getACL masking, as the protocol
 * reference describes them and as those classes answer for the same input.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "tree/acl.h"
#include "util/prim.h"

#define S(lit) ZAB_STR(lit)

static zab_acl entry(int32_t perms, const char *scheme, const char *id)
{
    return (zab_acl){ perms, { zab_str_c(scheme), zab_str_c(id) } };
}

static zab_id ident(const char *scheme, const char *id)
{
    return (zab_id){ zab_str_c(scheme), zab_str_c(id) };
}

static int str_is(zab_str s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* ------------------------------------------------------------------------ */
/* SHA-1 (FIPS 180) and base64 (RFC 4648)                                    */
/* ------------------------------------------------------------------------ */

static void expect_sha1(const void *data, size_t len, const char *hex)
{
    uint8_t d[20];
    char got[41];
    zab_sha1(data, len, d);
    for (int i = 0; i < 20; i++) snprintf(got + 2 * i, 3, "%02x", d[i]);
    ck_assert_str_eq(got, hex);
}

START_TEST(sha1_vectors)
{
    expect_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    expect_sha1(two, strlen(two), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");

    char *a = malloc(1000000);
    ck_assert_ptr_nonnull(a);
    memset(a, 'a', 1000000);
    expect_sha1(a, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    /* Lengths around the padding boundaries. */
    expect_sha1(a, 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    expect_sha1(a, 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    expect_sha1(a, 63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5");
    expect_sha1(a, 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
    expect_sha1(a, 65, "11655326c708d70319be2610e8a57d9a5b959d3b");
    expect_sha1(a, 119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56");
    expect_sha1(a, 120, "f34c1488385346a55709ba056ddd08280dd4c6d6");
    free(a);
}
END_TEST

static void expect_base64(const char *in, size_t len, const char *want)
{
    char out[64];
    memset(out, '#', sizeof out);
    size_t n = zab_base64_encode((const uint8_t *)in, len, out);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_uint_eq(n, 4 * ((len + 2) / 3));
    ck_assert_str_eq(out, want); /* NUL-terminated */
    ck_assert_int_eq(out[n + 1], '#');
}

START_TEST(base64_vectors)
{
    expect_base64("", 0, "");
    expect_base64("f", 1, "Zg==");
    expect_base64("fo", 2, "Zm8=");
    expect_base64("foo", 3, "Zm9v");
    expect_base64("foob", 4, "Zm9vYg==");
    expect_base64("fooba", 5, "Zm9vYmE=");
    expect_base64("foobar", 6, "Zm9vYmFy");
    expect_base64("\xfb\xff", 2, "+/8=");
    expect_base64("\xff\xff\xff", 3, "////");
    expect_base64("\0", 1, "AA==");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The digest identity and the well-known lists                              */
/* ------------------------------------------------------------------------ */

static void expect_digest(const char *in, const char *want)
{
    char out[128];
    int n = zab_digest_id(zab_str_c(in), out, sizeof out);
    ck_assert_int_eq(n, (int)strlen(want));
    ck_assert_str_eq(out, want);
}

START_TEST(digest_id_values)
{
    /* What DigestAuthenticationProvider.generateDigest gives. */
    expect_digest("super:test", "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    expect_digest("user:password", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");
    /* The user is everything before the first ':', the hash covers all. */
    expect_digest("a:b:c", "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0=");
    expect_digest(":", ":BaefBs8/Z/cm2uaNGKIpD2yaUMk=");
}
END_TEST

START_TEST(digest_id_errors)
{
    char out[64];
    ck_assert_int_eq(zab_digest_id(S("nocolon"), out, sizeof out), ZAB_EINVAL);
    ck_assert_int_eq(zab_digest_id(S(""), out, sizeof out), ZAB_EINVAL);
    ck_assert_int_eq(zab_digest_id((zab_str){ NULL, 0 }, out, sizeof out), ZAB_EINVAL);

    /* "user" + 30 is exactly enough: "user:" + 28 chars + NUL. */
    memset(out, '#', sizeof out);
    ck_assert_int_eq(zab_digest_id(S("user:password"), out, 4 + 29), ZAB_ETOOBIG);
    ck_assert_int_eq(out[0], '#');
    ck_assert_int_eq(zab_digest_id(S("user:password"), out, 0), ZAB_ETOOBIG);
    ck_assert_int_eq(zab_digest_id(S("user:password"), out, 4 + 30), 33);
    ck_assert_str_eq(out, "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");
    ck_assert_int_eq(out[34], '#');
}
END_TEST

START_TEST(well_known_lists)
{
    ck_assert_int_eq(zab_acl_open[0].perms, ZAB_PERM_ALL);
    ck_assert(str_is(zab_acl_open[0].id.scheme, "world"));
    ck_assert(str_is(zab_acl_open[0].id.id, "anyone"));
    ck_assert_int_eq(zab_acl_read[0].perms, ZAB_PERM_READ);
    ck_assert(str_is(zab_acl_read[0].id.scheme, "world"));
    ck_assert(str_is(zab_acl_read[0].id.id, "anyone"));
    ck_assert_int_eq(zab_acl_creator[0].perms, ZAB_PERM_ALL);
    ck_assert(str_is(zab_acl_creator[0].id.scheme, "auth"));
    ck_assert_uint_eq(zab_acl_creator[0].id.id.len, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* zab_acl_check                                                             */
/* ------------------------------------------------------------------------ */

static const zab_acl_policy plain = { 0, { NULL, 0 } };

static int check1(const zab_acl_policy *pol, zab_acl a, int32_t perm, const zab_id *auth,
                  uint32_t nauth)
{
    return zab_acl_check(pol, &a, 1, perm, auth, nauth);
}

START_TEST(check_empty_and_skip)
{
    /* An empty list protects nothing, whoever asks. */
    ck_assert_int_eq(zab_acl_check(&plain, NULL, 0, ZAB_PERM_ADMIN, NULL, 0), ZAB_OK);
    zab_acl locked = entry(ZAB_PERM_ALL, "digest", "u:h");
    ck_assert_int_eq(check1(&plain, locked, ZAB_PERM_READ, NULL, 0), ZAB_ENOAUTH);
    zab_acl_policy skip = { 1, { NULL, 0 } };
    ck_assert_int_eq(check1(&skip, locked, ZAB_PERM_READ, NULL, 0), ZAB_OK);
    ck_assert_int_eq(check1(NULL, locked, ZAB_PERM_READ, NULL, 0), ZAB_ENOAUTH);
}
END_TEST

START_TEST(check_world_and_perms)
{
    zab_acl r = entry(ZAB_PERM_READ, "world", "anyone");
    /* world:anyone needs no identity at all. */
    ck_assert_int_eq(check1(&plain, r, ZAB_PERM_READ, NULL, 0), ZAB_OK);
    ck_assert_int_eq(check1(&plain, r, ZAB_PERM_WRITE, NULL, 0), ZAB_ENOAUTH);
    ck_assert_int_eq(check1(&plain, r, ZAB_PERM_ADMIN, NULL, 0), ZAB_ENOAUTH);
    /* Any shared bit suffices (getACL asks for READ|ADMIN). */
    ck_assert_int_eq(check1(&plain, r, ZAB_PERM_READ | ZAB_PERM_ADMIN, NULL, 0), ZAB_OK);
    zab_acl cd = entry(ZAB_PERM_CREATE | ZAB_PERM_DELETE, "world", "anyone");
    ck_assert_int_eq(check1(&plain, cd, ZAB_PERM_CREATE, NULL, 0), ZAB_OK);
    ck_assert_int_eq(check1(&plain, cd, ZAB_PERM_DELETE, NULL, 0), ZAB_OK);
    ck_assert_int_eq(check1(&plain, cd, ZAB_PERM_WRITE, NULL, 0), ZAB_ENOAUTH);
    zab_acl none = entry(0, "world", "anyone");
    ck_assert_int_eq(check1(&plain, none, ZAB_PERM_ALL, NULL, 0), ZAB_ENOAUTH);

    /* world with another id has no provider: it matches nobody, not even
     * a connection claiming that identity. */
    zab_id w = ident("world", "someone");
    ck_assert_int_eq(check1(&plain, entry(31, "world", "someone"), 1, &w, 1), ZAB_ENOAUTH);

    /* The first entry lacks the bit, the second grants it. */
    zab_acl two[2] = { entry(ZAB_PERM_WRITE, "world", "anyone"),
                       entry(ZAB_PERM_READ, "world", "anyone") };
    ck_assert_int_eq(zab_acl_check(&plain, two, 2, ZAB_PERM_READ, NULL, 0), ZAB_OK);
    ck_assert_int_eq(zab_acl_check(&plain, two, 2, ZAB_PERM_DELETE, NULL, 0), ZAB_ENOAUTH);
}
END_TEST

START_TEST(check_digest)
{
    zab_acl a = entry(ZAB_PERM_ALL, "digest", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");
    zab_id good = ident("digest", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");
    zab_id other = ident("digest", "user:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    zab_id longer = ident("digest", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=x");
    zab_id as_ip = ident("ip", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");
    zab_id caps = ident("DIGEST", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");

    ck_assert_int_eq(check1(&plain, a, ZAB_PERM_READ, &good, 1), ZAB_OK);
    ck_assert_int_eq(check1(&plain, a, ZAB_PERM_READ, &other, 1), ZAB_ENOAUTH);
    ck_assert_int_eq(check1(&plain, a, ZAB_PERM_READ, &longer, 1), ZAB_ENOAUTH);
    ck_assert_int_eq(check1(&plain, a, ZAB_PERM_READ, &as_ip, 1), ZAB_ENOAUTH);
    ck_assert_int_eq(check1(&plain, a, ZAB_PERM_READ, &caps, 1), ZAB_ENOAUTH);
    ck_assert_int_eq(check1(&plain, a, ZAB_PERM_READ, NULL, 0), ZAB_ENOAUTH);

    /* Any of several identities may match. */
    zab_id many[3] = { ident("ip", "127.0.0.1"), other, good };
    ck_assert_int_eq(check1(&plain, a, ZAB_PERM_READ, many, 3), ZAB_OK);
    ck_assert_int_eq(check1(&plain, a, ZAB_PERM_READ, many, 2), ZAB_ENOAUTH);
}
END_TEST

struct ip_case {
    const char *have; /* the connection's address */
    const char *want; /* the ACL id */
    int match;
};

/* IPAuthenticationProvider.matches for these pairs. */
static const struct ip_case ip_cases[] = {
    { "1.2.3.4", "1.2.3.4", 1 },
    { "1.2.3.5", "1.2.3.4", 0 },
    { "1.2.3.5", "1.2.3.4/24", 1 },
    { "1.2.4.5", "1.2.3.4/24", 0 },
    { "1.2.3.200", "1.2.3.128/25", 1 },
    { "1.2.3.100", "1.2.3.128/25", 0 },
    { "1.2.3.4", "1.2.3.7/30", 1 },
    { "1.2.3.8", "1.2.3.7/30", 0 },
    { "9.9.9.9", "1.2.3.4/0", 1 },
    { "10.1.2.3", "10.0.0.0/8", 1 },
    { "11.1.2.3", "10.0.0.0/8", 0 },
    { "1.2.3.4", "1.2.3.4/-0", 1 },
    { "1.2.3.4", "+1.2.3.4", 1 },
    { "01.2.3.4", "1.2.3.4", 1 },
    { "1.2.3.4", "1.2.3.4/32", 1 },
    /* The connection's text is an address, never a range. */
    { "1.2.3.4/32", "1.2.3.4", 0 },
    { "0:0:0:0:0:0:0:1", "::1", 1 },
    { "::1", "0:0:0:0:0:0:0:1", 1 },
    { "0:0:0:0:0:0:0:2", "::1", 0 },
    { "fe80:0:0:0:0:0:0:1", "fe80::/10", 1 },
    { "febf:ffff:0:0:0:0:0:1", "fe80::/10", 1 },
    { "fec0:0:0:0:0:0:0:1", "fe80::/10", 0 },
    { "2001:db8:0:0:0:0:0:1", "2001:DB8::/32", 1 },
    { "2001:db9:0:0:0:0:0:1", "2001:db8::/32", 0 },
    { "ffff:0:0:0:0:0:0:0", "-1::", 1 },
    { "f001::", "-fff::", 1 },
    /* A zone suffix is no hex group. */
    { "fe80:0:0:0:0:0:0:1%eth0", "fe80::/10", 0 },
    /* The families never meet, even under a zero-length prefix. */
    { "::1", "1.2.3.4/0", 0 },
    { "1.2.3.4", "::/0", 0 },
    /* Invalid entries match nothing. */
    { "1.2.3.4", "1.2.3.4/33", 0 },
    { "1.2.3.4", "1.2.3.4/", 0 },
    { "a", "a", 0 },
    { "", "", 0 },
};

START_TEST(check_ip)
{
    for (size_t i = 0; i < sizeof ip_cases / sizeof ip_cases[0]; i++) {
        const struct ip_case *c = &ip_cases[i];
        zab_id who = ident("ip", c->have);
        int rc = check1(&plain, entry(ZAB_PERM_READ, "ip", c->want), ZAB_PERM_READ, &who, 1);
        ck_assert_msg(rc == (c->match ? ZAB_OK : ZAB_ENOAUTH), "ip %s against %s: %d",
                      c->have, c->want, rc);
    }
    /* A digest identity with the same text is no address. */
    zab_id d = ident("digest", "1.2.3.4");
    ck_assert_int_eq(check1(&plain, entry(1, "ip", "1.2.3.4"), 1, &d, 1), ZAB_ENOAUTH);
}
END_TEST

START_TEST(check_super)
{
    zab_acl locked = entry(ZAB_PERM_READ, "digest", "owner:AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    zab_id super = ident("super", "");
    ck_assert_int_eq(check1(&plain, locked, ZAB_PERM_ADMIN, &super, 1), ZAB_OK);
    /* Any super id passes, even with an odd id text, and even where the
     * requested bit is in no entry at all. */
    zab_id super2 = ident("super", "whatever");
    zab_acl nobits = entry(0, "world", "anyone");
    ck_assert_int_eq(check1(&plain, nobits, ZAB_PERM_WRITE, &super2, 1), ZAB_OK);

    /* The configured super digest makes its holder super. */
    zab_acl_policy pol = { 0, S("super:D/InIHSb7yEEbrWz8b9l71RjZJU=") };
    zab_id holder[2] = { ident("ip", "127.0.0.1"),
                         ident("digest", "super:D/InIHSb7yEEbrWz8b9l71RjZJU=") };
    ck_assert_int_eq(check1(&pol, locked, ZAB_PERM_ADMIN, holder, 2), ZAB_OK);
    ck_assert_int_eq(check1(&plain, locked, ZAB_PERM_ADMIN, holder, 2), ZAB_ENOAUTH);
    zab_id near = ident("digest", "super:D/InIHSb7yEEbrWz8b9l71RjZJU");
    ck_assert_int_eq(check1(&pol, locked, ZAB_PERM_ADMIN, &near, 1), ZAB_ENOAUTH);
    /* Only a digest identity counts. */
    zab_id wrong_scheme = ident("ip", "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    ck_assert_int_eq(check1(&pol, locked, ZAB_PERM_ADMIN, &wrong_scheme, 1), ZAB_ENOAUTH);
    /* No super digest configured: an empty digest id is nobody. */
    zab_id empty = ident("digest", "");
    ck_assert_int_eq(check1(&plain, locked, ZAB_PERM_ADMIN, &empty, 1), ZAB_ENOAUTH);
}
END_TEST

START_TEST(check_unknown_schemes)
{
    /* No provider for these: entries never match, even an identical id. */
    const char *schemes[] = { "sasl", "x509", "auth", "", "Digest" };
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        zab_id who = ident(schemes[i], "u");
        ck_assert_int_eq(check1(&plain, entry(31, schemes[i], "u"), 1, &who, 1), ZAB_ENOAUTH);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* zab_acl_fixup                                                             */
/* ------------------------------------------------------------------------ */

static int fixup(const zab_acl *in, uint32_t n, const zab_id *auth, uint32_t nauth,
                 zab_arena *a, const zab_acl **out, uint32_t *nout)
{
    *out = NULL;
    *nout = 0;
    return zab_acl_fixup(in, n, auth, nauth, a, out, nout);
}

static int fixup_one(zab_acl e)
{
    zab_arena a = { 0 };
    const zab_acl *out;
    uint32_t n;
    int rc = fixup(&e, 1, NULL, 0, &a, &out, &n);
    if (rc == ZAB_OK) {
        ck_assert_uint_eq(n, 1);
        ck_assert_ptr_eq(out[0].id.id.ptr, e.id.id.ptr);
    }
    zab_arena_free(&a);
    return rc;
}

START_TEST(fixup_keeps_valid_lists)
{
    zab_arena a = { 0 };
    zab_acl in[3] = { entry(ZAB_PERM_READ, "world", "anyone"),
                      entry(ZAB_PERM_ALL, "digest", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="),
                      entry(ZAB_PERM_WRITE, "ip", "10.0.0.0/8") };
    const zab_acl *out;
    uint32_t n;
    ck_assert_int_eq(fixup(in, 3, NULL, 0, &a, &out, &n), ZAB_OK);
    ck_assert_uint_eq(n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(out[i].perms, in[i].perms);
        ck_assert_ptr_eq(out[i].id.scheme.ptr, in[i].id.scheme.ptr); /* views of in[] */
        ck_assert_ptr_eq(out[i].id.id.ptr, in[i].id.id.ptr);
    }
    zab_arena_free(&a);
}
END_TEST

START_TEST(fixup_duplicates)
{
    zab_arena a = { 0 };
    const zab_acl *out;
    uint32_t n;
    zab_acl in[6] = { entry(31, "world", "anyone"), entry(31, "digest", "u:h"),
                      entry(31, "world", "anyone"), entry(1, "world", "anyone"),
                      entry(31, "digest", "u:h"),   entry(31, "digest", "u:H") };
    ck_assert_int_eq(fixup(in, 6, NULL, 0, &a, &out, &n), ZAB_OK);
    /* First occurrences, in order; perms and case make entries distinct. */
    ck_assert_uint_eq(n, 4);
    ck_assert_ptr_eq(out[0].id.id.ptr, in[0].id.id.ptr);
    ck_assert_ptr_eq(out[1].id.id.ptr, in[1].id.id.ptr);
    ck_assert_int_eq(out[2].perms, 1);
    ck_assert(str_is(out[3].id.id, "u:H"));

    /* Duplicates go before anything else: a repeated bad entry is still
     * refused, a repeated good one collapses. */
    zab_acl bad[2] = { entry(31, "world", "nobody"), entry(31, "world", "nobody") };
    ck_assert_int_eq(fixup(bad, 2, NULL, 0, &a, &out, &n), ZAB_EINVALIDACL);
    zab_arena_free(&a);
}
END_TEST

START_TEST(fixup_many_duplicates)
{
    enum { N = 200000 };
    zab_acl *in = malloc(N * sizeof *in);
    ck_assert_ptr_nonnull(in);
    char ids[16][8];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i % 16], sizeof ids[0], "u%d:h", i % 16);
        in[i] = entry(31, "digest", ids[i % 16]);
    }
    zab_arena a = { 0 };
    const zab_acl *out;
    uint32_t n;
    ck_assert_int_eq(fixup(in, N, NULL, 0, &a, &out, &n), ZAB_OK);
    ck_assert_uint_eq(n, 16);
    for (int i = 0; i < 16; i++) ck_assert_ptr_eq(out[i].id.id.ptr, ids[i]);
    zab_arena_free(&a);
    free(in);
}
END_TEST

START_TEST(fixup_empty)
{
    zab_arena a = { 0 };
    const zab_acl *out;
    uint32_t n;
    ck_assert_int_eq(fixup(NULL, 0, NULL, 0, &a, &out, &n), ZAB_EINVALIDACL);
    zab_id d = ident("digest", "u:h");
    ck_assert_int_eq(fixup(NULL, 0, &d, 1, &a, &out, &n), ZAB_EINVALIDACL);
    zab_arena_free(&a);
}
END_TEST

START_TEST(fixup_auth)
{
    zab_arena a = { 0 };
    const zab_acl *out;
    uint32_t n;
    zab_acl creator = entry(ZAB_PERM_READ | ZAB_PERM_CREATE, "auth", "");

    /* No identity, or only the automatic ip one, or only super: nothing
     * authenticated to expand to. */
    ck_assert_int_eq(fixup(&creator, 1, NULL, 0, &a, &out, &n), ZAB_EINVALIDACL);
    zab_id ip = ident("ip", "127.0.0.1");
    ck_assert_int_eq(fixup(&creator, 1, &ip, 1, &a, &out, &n), ZAB_EINVALIDACL);
    zab_id super[2] = { ident("super", ""), ident("ip", "::1") };
    ck_assert_int_eq(fixup(&creator, 1, super, 2, &a, &out, &n), ZAB_EINVALIDACL);
    zab_id unknown = ident("sasl", "someone");
    ck_assert_int_eq(fixup(&creator, 1, &unknown, 1, &a, &out, &n), ZAB_EINVALIDACL);

    /* One entry per digest identity, same perms; repeats count once. */
    zab_id auth[5] = { ident("ip", "127.0.0.1"), ident("digest", "u1:h1"), ident("super", ""),
                       ident("digest", "u2:h2"), ident("digest", "u1:h1") };
    ck_assert_int_eq(fixup(&creator, 1, auth, 5, &a, &out, &n), ZAB_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0].perms, ZAB_PERM_READ | ZAB_PERM_CREATE);
    ck_assert_int_eq(out[1].perms, ZAB_PERM_READ | ZAB_PERM_CREATE);
    ck_assert(str_is(out[0].id.scheme, "digest"));
    ck_assert_ptr_eq(out[0].id.id.ptr, auth[1].id.ptr); /* views of auth[] */
    ck_assert_ptr_eq(out[1].id.id.ptr, auth[3].id.ptr);

    /* Expansion keeps its place in the list, whatever the auth entry's id;
     * each distinct auth entry expands on its own. */
    zab_acl mixed[4] = { entry(1, "world", "anyone"), entry(31, "auth", "ignored"),
                         entry(2, "auth", ""), entry(4, "ip", "1.2.3.4") };
    ck_assert_int_eq(fixup(mixed, 4, auth, 5, &a, &out, &n), ZAB_OK);
    ck_assert_uint_eq(n, 6);
    const int32_t perms[6] = { 1, 31, 31, 2, 2, 4 };
    const char *ids[6] = { "anyone", "u1:h1", "u2:h2", "u1:h1", "u2:h2", "1.2.3.4" };
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(out[i].perms, perms[i]);
        ck_assert(str_is(out[i].id.id, ids[i]));
    }

    /* The expansion is not deduplicated again. */
    zab_acl same[2] = { entry(31, "auth", ""), entry(31, "digest", "u1:h1") };
    zab_id one = ident("digest", "u1:h1");
    ck_assert_int_eq(fixup(same, 2, &one, 1, &a, &out, &n), ZAB_OK);
    ck_assert_uint_eq(n, 2);
    zab_arena_free(&a);
}
END_TEST

START_TEST(fixup_world)
{
    ck_assert_int_eq(fixup_one(entry(31, "world", "anyone")), ZAB_OK);
    ck_assert_int_eq(fixup_one(entry(31, "world", "someone")), ZAB_EINVALIDACL);
    ck_assert_int_eq(fixup_one(entry(31, "world", "Anyone")), ZAB_EINVALIDACL);
    ck_assert_int_eq(fixup_one(entry(31, "world", "")), ZAB_EINVALIDACL);
    ck_assert_int_eq(fixup_one(entry(31, "World", "anyone")), ZAB_EINVALIDACL);
}
END_TEST

struct id_case {
    const char *id;
    int valid;
};

/* DigestAuthenticationProvider.isValid: split(":") gives two parts. */
static const struct id_case digest_ids[] = {
    { "a:b", 1 },    { ":a", 1 },     { "a:b:", 1 },  { "a:b::", 1 },
    { "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=", 1 },
    { "a:", 0 },     { "a:b:c", 0 },  { "a::", 0 },   { "::a", 0 },
    { ":", 0 },      { "::", 0 },     { "", 0 },      { "a", 0 },
};

/* IPAuthenticationProvider.isValid. */
static const struct id_case ip_ids[] = {
    { "1.2.3.4", 1 },
    { "+1.2.3.4", 1 },             /* Integer.parseInt takes a sign */
    { "-0.0.0.0", 1 },
    { "1.2.3.-0", 1 },
    { "01.002.3.4", 1 },
    { "0000000000000000001.2.3.4", 1 },
    { "\xd9\xa1.2.3.4", 1 },       /* ARABIC-INDIC DIGIT ONE */
    { "\xef\xbc\x91.2.3.4", 1 },   /* FULLWIDTH DIGIT ONE */
    { "1.2.3.4/0", 1 },
    { "1.2.3.4/32", 1 },
    { "1.2.3.4/-0", 1 },
    { "1.2.3.4/+8", 1 },
    { "1.2.3.4/08", 1 },
    { "::", 1 },
    { "::1", 1 },
    { "1::", 1 },
    { "1:2:3:4:5:6:7:8", 1 },
    { "1:2:3::5:6:7:8", 1 },
    { "-1::", 1 },
    { "+fff::", 1 },
    { "-fff::", 1 },
    { "\xef\xbd\x81::", 1 },       /* FULLWIDTH LATIN SMALL LETTER A */
    { "FFFF:ffff::", 1 },
    { "::/128", 1 },
    { "::/0", 1 },

    { "1.2.3.256", 0 },
    { "1.2.3.-1", 0 },
    { "1.2.3", 0 },
    { "1.2.3.4.", 0 },
    { "1.2.3.4.5", 0 },
    { "1..3.4", 0 },
    { "1.2.3.4/", 0 },
    { "1.2.3.4/33", 0 },
    { "1.2.3.4/8/9", 0 },
    { "1.2.3.4/99999999999", 0 },
    { "1.2.3.4/-1", 0 },
    { "1.2.3.4 ", 0 },
    { " 1.2.3.4", 0 },
    { "1.2.3.+", 0 },
    { "1.2.3.0x1", 0 },
    { "1.2.3.99999999999999999999", 0 },
    { "1.2.3.\xff", 0 },
    { "1.2.3.\xf0\x9d\x9f\x8e", 0 },  /* MATHEMATICAL BOLD DIGIT ZERO: not a Java char */
    { "1.2.3.\xd9", 0 },
    { ":::", 0 },
    { "::::", 0 },
    { ":1::", 0 },
    { "1:::2", 0 },
    { "1::2::3", 0 },
    { "1:", 0 },
    { "1:2:3:4:5:6:7", 0 },
    { "1:2:3:4:5:6:7:8:9", 0 },
    { "1:2:3:4::5:6:7:8", 0 },
    { "12345::", 0 },
    { "-ffff::", 0 },
    { "g::", 0 },
    { "::ffff:1.2.3.4", 0 },
    { "fe80::1%eth0", 0 },
    { "::/129", 0 },
    { "::/", 0 },
    { "a", 0 },
    { "", 0 },
    { ".", 0 },
    { "/8", 0 },
    { "localhost", 0 },
};

START_TEST(fixup_digest_ids)
{
    for (size_t i = 0; i < sizeof digest_ids / sizeof digest_ids[0]; i++) {
        int rc = fixup_one(entry(ZAB_PERM_ALL, "digest", digest_ids[i].id));
        ck_assert_msg(rc == (digest_ids[i].valid ? ZAB_OK : ZAB_EINVALIDACL),
                      "digest id \"%s\": %d", digest_ids[i].id, rc);
    }
}
END_TEST

START_TEST(fixup_ip_ids)
{
    for (size_t i = 0; i < sizeof ip_ids / sizeof ip_ids[0]; i++) {
        int rc = fixup_one(entry(ZAB_PERM_READ, "ip", ip_ids[i].id));
        ck_assert_msg(rc == (ip_ids[i].valid ? ZAB_OK : ZAB_EINVALIDACL), "ip id \"%s\": %d",
                      ip_ids[i].id, rc);
    }
}
END_TEST

START_TEST(fixup_unknown_schemes)
{
    const char *schemes[] = { "super", "sasl", "x509", "", "IP", "digest " };
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        ck_assert_int_eq(fixup_one(entry(31, schemes[i], "a:b")), ZAB_EINVALIDACL);
    ck_assert_int_eq(fixup_one((zab_acl){ 31, { { NULL, 0 }, S("anyone") } }), ZAB_EINVALIDACL);

    /* One bad entry spoils the list. */
    zab_arena a = { 0 };
    const zab_acl *out;
    uint32_t n;
    zab_acl in[3] = { entry(31, "world", "anyone"), entry(31, "ip", "1.2.3.4"),
                      entry(31, "digest", "nocolon") };
    ck_assert_int_eq(fixup(in, 3, NULL, 0, &a, &out, &n), ZAB_EINVALIDACL);
    ck_assert_int_eq(fixup(in, 2, NULL, 0, &a, &out, &n), ZAB_OK);
    zab_arena_free(&a);
}
END_TEST

START_TEST(fixup_perms_not_validated)
{
    const int32_t perms[] = { 0, 32, 1000, -1, INT32_MIN };
    for (size_t i = 0; i < sizeof perms / sizeof perms[0]; i++) {
        zab_arena a = { 0 };
        const zab_acl *out;
        uint32_t n;
        zab_acl e = entry(perms[i], "world", "anyone");
        ck_assert_int_eq(fixup(&e, 1, NULL, 0, &a, &out, &n), ZAB_OK);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(out[0].perms, perms[i]);
        zab_arena_free(&a);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Masking                                                                   */
/* ------------------------------------------------------------------------ */

struct mask_case {
    const char *in, *out;
};

/* What id.replaceAll(":.*", ":x") makes of these digest ids. */
static const struct mask_case mask_cases[] = {
    { "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=", "user:x" },
    { "user:abc", "user:x" },
    { "a:b:c", "a:x" },
    { "::", ":x" },
    { ":", ":x" },
    { "nocolon", "nocolon" },
    { "", "" },
    /* '.' stops at a line terminator; the next line is masked anew. */
    { "user:a\nb:c", "user:x\nb:x" },
    { "u:a\rb", "u:x\rb" },
    { "u:a\r\nb", "u:x\r\nb" },
    { "u:a\xc2\x85" "b", "u:x\xc2\x85" "b" },
    { "u:a\xe2\x80\xa8" "b:c", "u:x\xe2\x80\xa8" "b:x" },
    { "u:a\xe2\x80\xa9" "b", "u:x\xe2\x80\xa9" "b" },
    { "u:a\x0b" "b", "u:x" },
    { "u:a\x0c" "b", "u:x" },
};

START_TEST(masking)
{
    enum { N = sizeof mask_cases / sizeof mask_cases[0] };
    zab_acl in[N + 2];
    for (size_t i = 0; i < N; i++) in[i] = entry((int32_t)i, "digest", mask_cases[i].in);
    in[N] = entry(7, "ip", "1.2.3.4:5");
    in[N + 1] = entry(9, "world", "anyone");
    zab_arena a = { 0 };
    const zab_acl *out = zab_acl_masked(in, N + 2, &a);
    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < N; i++) {
        ck_assert_int_eq(out[i].perms, (int32_t)i);
        ck_assert(str_is(out[i].id.scheme, "digest"));
        ck_assert_msg(str_is(out[i].id.id, mask_cases[i].out), "mask of case %zu", i);
    }
    /* Other schemes are left alone. */
    ck_assert(str_is(out[N].id.id, "1.2.3.4:5"));
    ck_assert_int_eq(out[N + 1].perms, 9);
    ck_assert(str_is(out[N + 1].id.id, "anyone"));
    /* The input is untouched. */
    ck_assert(str_is(in[0].id.id, mask_cases[0].in));

    ck_assert_ptr_nonnull(zab_acl_masked(NULL, 0, &a));
    zab_arena_free(&a);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The interning cache                                                       */
/* ------------------------------------------------------------------------ */

static int lists_equal(const zab_acl *a, uint32_t na, const zab_acl *b, uint32_t nb)
{
    if (na != nb) return 0;
    for (uint32_t i = 0; i < na; i++)
        if (a[i].perms != b[i].perms || a[i].id.scheme.len != b[i].id.scheme.len ||
            a[i].id.id.len != b[i].id.id.len ||
            memcmp(a[i].id.scheme.ptr, b[i].id.scheme.ptr, a[i].id.scheme.len) ||
            memcmp(a[i].id.id.ptr, b[i].id.id.ptr, a[i].id.id.len))
            return 0;
    return 1;
}

START_TEST(cache_same_list_same_index)
{
    zab_acl_cache c;
    zab_acl_cache_init(&c);
    uint32_t i0, i1, i2, i3;
    char scheme[] = "world", id[] = "anyone";
    zab_acl mine = { ZAB_PERM_ALL, { { scheme, 5 }, { id, 6 } } };
    ck_assert_int_eq(zab_acl_intern(&c, &mine, 1, &i0), ZAB_OK);
    ck_assert_int_eq(zab_acl_intern(&c, zab_acl_read, 1, &i1), ZAB_OK);
    /* Equal content from other memory finds the same slot. */
    ck_assert_int_eq(zab_acl_intern(&c, zab_acl_open, 1, &i2), ZAB_OK);
    ck_assert_int_eq(zab_acl_intern(&c, &mine, 1, &i3), ZAB_OK);
    ck_assert_uint_eq(i0, 0);
    ck_assert_uint_eq(i1, 1);
    ck_assert_uint_eq(i2, 0);
    ck_assert_uint_eq(i3, 0);
    ck_assert_uint_eq(c.v[0].refs, 3);
    ck_assert_uint_eq(c.v[1].refs, 1);
    ck_assert_uint_eq(c.live, 2);

    /* The cache keeps its own copy. */
    scheme[0] = 'W';
    uint32_t n;
    const zab_acl *l = zab_acl_get(&c, 0, &n);
    ck_assert(lists_equal(l, n, zab_acl_open, 1));
    ck_assert_ptr_ne(l[0].id.scheme.ptr, scheme);

    zab_acl_ref(&c, 1);
    ck_assert_uint_eq(c.v[1].refs, 2);
    zab_acl_unref(&c, 1);
    zab_acl_unref(&c, 1);
    ck_assert_uint_eq(c.live, 1);
    ck_assert_ptr_null(zab_acl_get(&c, 1, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(zab_acl_get(&c, 99, &n));
    /* The last references go; the list is freed (valgrind sees it). */
    zab_acl_unref(&c, 0);
    zab_acl_unref(&c, 0);
    ck_assert_ptr_nonnull(zab_acl_get(&c, 0, &n));
    zab_acl_unref(&c, 0);
    ck_assert_ptr_null(zab_acl_get(&c, 0, &n));
    ck_assert_uint_eq(c.live, 0);
    zab_acl_cache_fini(&c);
}
END_TEST

START_TEST(cache_one_allocation)
{
    zab_acl_cache c;
    zab_acl_cache_init(&c);
    zab_acl in[3] = { entry(1, "world", "anyone"), entry(31, "digest", "u:h"),
                      entry(4, "ip", "10.0.0.0/8") };
    uint32_t idx, n;
    ck_assert_int_eq(zab_acl_intern(&c, in, 3, &idx), ZAB_OK);
    const zab_acl *l = zab_acl_get(&c, idx, &n);
    ck_assert(lists_equal(l, n, in, 3));
    /* Strings follow the entries, back to back, in the same block. */
    const char *at = (const char *)(l + 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_ptr_eq(l[i].id.scheme.ptr, at);
        at += l[i].id.scheme.len;
        ck_assert_ptr_eq(l[i].id.id.ptr, at);
        at += l[i].id.id.len;
    }
    zab_acl_unref(&c, idx);
    zab_acl_cache_fini(&c);
}
END_TEST

START_TEST(cache_empty_list)
{
    zab_acl_cache c;
    zab_acl_cache_init(&c);
    uint32_t a, b, n = 99;
    ck_assert_int_eq(zab_acl_intern(&c, NULL, 0, &a), ZAB_OK);
    ck_assert_int_eq(zab_acl_intern(&c, zab_acl_open, 1, &b), ZAB_OK);
    ck_assert_uint_ne(a, b);
    ck_assert_ptr_nonnull(zab_acl_get(&c, a, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(zab_acl_intern(&c, NULL, 0, &b), ZAB_OK);
    ck_assert_uint_eq(a, b);
    zab_acl_cache_fini(&c); /* with live entries: fini frees them */
}
END_TEST

static zab_acl numbered(char *buf, size_t cap, unsigned i)
{
    snprintf(buf, cap, "u%u:h", i);
    return entry(ZAB_PERM_ALL, "digest", buf);
}

START_TEST(cache_lowest_free_index)
{
    zab_acl_cache c;
    zab_acl_cache_init(&c);
    char buf[32];
    uint32_t idx;
    for (unsigned i = 0; i < 6; i++) {
        zab_acl e = numbered(buf, sizeof buf, i);
        ck_assert_int_eq(zab_acl_intern(&c, &e, 1, &idx), ZAB_OK);
        ck_assert_uint_eq(idx, i);
    }
    zab_acl_unref(&c, 4);
    zab_acl_unref(&c, 1);
    zab_acl_unref(&c, 3);
    ck_assert_uint_eq(c.live, 3);
    /* New lists fill 1, 3, 4, then append. */
    const uint32_t want[4] = { 1, 3, 4, 6 };
    for (unsigned i = 0; i < 4; i++) {
        zab_acl e = numbered(buf, sizeof buf, 100 + i);
        ck_assert_int_eq(zab_acl_intern(&c, &e, 1, &idx), ZAB_OK);
        ck_assert_uint_eq(idx, want[i]);
    }
    /* An old list, interned again after its slot was reused, is new. */
    zab_acl e = numbered(buf, sizeof buf, 1);
    ck_assert_int_eq(zab_acl_intern(&c, &e, 1, &idx), ZAB_OK);
    ck_assert_uint_eq(idx, 7);
    uint32_t n;
    ck_assert(str_is(zab_acl_get(&c, 1, &n)[0].id.id, "u100:h"));
    zab_acl_cache_fini(&c);
}
END_TEST

/* A long random history against a plain model: each step interns one of a
 * pool of lists or drops a reference. The model assigns the lowest free
 * index; the cache must agree at every step, and a second cache fed the
 * same history must agree with the first. */
START_TEST(cache_history)
{
    enum { POOL = 700, STEPS = 60000 };
    static int model_owner[POOL * 2]; /* index -> pool item, -1 free */
    static uint32_t model_refs[POOL * 2];
    static int where[POOL];           /* pool item -> index, -1 absent */
    char (*ids)[16] = malloc(POOL * sizeof *ids);
    zab_acl *lists = malloc(POOL * 2 * sizeof *lists);
    ck_assert(ids && lists);
    for (int i = 0; i < POOL; i++) {
        snprintf(ids[i], sizeof ids[0], "u%d:h", i);
        /* Two-entry lists: the pair order also distinguishes items. */
        lists[2 * i] = entry(i % 32, "digest", ids[i]);
        lists[2 * i + 1] = entry(1, "world", "anyone");
        where[i] = -1;
    }
    for (int i = 0; i < POOL * 2; i++) model_owner[i] = -1, model_refs[i] = 0;

    zab_acl_cache c, d;
    zab_acl_cache_init(&c);
    zab_acl_cache_init(&d);
    uint64_t rng = 0x9e3779b97f4a7c15u;
    for (int step = 0; step < STEPS; step++) {
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        int item = (int)((rng >> 33) % POOL);
        int drop = (rng >> 20) % 100 < 48;
        if (drop && where[item] < 0) drop = 0;
        if (drop) {
            int at = where[item];
            zab_acl_unref(&c, (uint32_t)at);
            zab_acl_unref(&d, (uint32_t)at);
            if (--model_refs[at] == 0) {
                model_owner[at] = -1;
                where[item] = -1;
            }
            continue;
        }
        int want = where[item];
        if (want < 0) {
            for (want = 0; model_owner[want] >= 0; want++) {}
            model_owner[want] = item;
            where[item] = want;
        }
        model_refs[want]++;
        uint32_t got, got2;
        ck_assert_int_eq(zab_acl_intern(&c, &lists[2 * item], 2, &got), ZAB_OK);
        ck_assert_int_eq(zab_acl_intern(&d, &lists[2 * item], 2, &got2), ZAB_OK);
        ck_assert_uint_eq(got, (uint32_t)want);
        ck_assert_uint_eq(got2, got);
    }
    uint32_t live = 0;
    for (int i = 0; i < POOL * 2; i++) {
        if (model_owner[i] < 0) continue;
        live++;
        uint32_t n;
        const zab_acl *l = zab_acl_get(&c, (uint32_t)i, &n);
        ck_assert(lists_equal(l, n, &lists[2 * model_owner[i]], 2));
        ck_assert_uint_eq(c.v[i].refs, model_refs[i]);
        ck_assert_uint_eq(zab_acl_hash(&c, (uint32_t)i), zab_acl_hash(&d, (uint32_t)i));
    }
    ck_assert_uint_eq(c.live, live);
    ck_assert_uint_eq(d.live, live);
    zab_acl_cache_fini(&c);
    zab_acl_cache_fini(&d);
    free(ids);
    free(lists);
}
END_TEST

START_TEST(cache_hash)
{
    zab_acl ab[2] = { entry(1, "world", "anyone"), entry(31, "digest", "u:h") };
    zab_acl ba[2] = { ab[1], ab[0] };
    uint64_t h = zab_acl_hash_list(ab, 2);
    /* Stable for equal content wherever it lives. */
    char s1[] = "world", s2[] = "anyone", s3[] = "digest", s4[] = "u:h";
    zab_acl again[2] = { { 1, { { s1, 5 }, { s2, 6 } } }, { 31, { { s3, 6 }, { s4, 3 } } } };
    ck_assert_uint_eq(zab_acl_hash_list(again, 2), h);
    /* Order, perms, scheme, id and the boundary between them all count. */
    ck_assert_uint_ne(zab_acl_hash_list(ba, 2), h);
    zab_acl p = ab[0];
    p.perms = 3;
    ck_assert_uint_ne(zab_acl_hash_list(&p, 1), zab_acl_hash_list(ab, 1));
    zab_acl x = entry(1, "ab", "c"), y = entry(1, "a", "bc");
    ck_assert_uint_ne(zab_acl_hash_list(&x, 1), zab_acl_hash_list(&y, 1));
    zab_acl i1 = entry(1, "digest", "u:h1"), i2 = entry(1, "digest", "u:h2");
    ck_assert_uint_ne(zab_acl_hash_list(&i1, 1), zab_acl_hash_list(&i2, 1));
    ck_assert_uint_ne(zab_acl_hash_list(ab, 1), zab_acl_hash_list(ab, 2));
    ck_assert_uint_ne(zab_acl_hash_list(NULL, 0), zab_acl_hash_list(ab, 1));

    /* The cache reports the content hash, and it survives slot reuse. */
    zab_acl_cache c;
    zab_acl_cache_init(&c);
    uint32_t i, j;
    ck_assert_int_eq(zab_acl_intern(&c, ab, 2, &i), ZAB_OK);
    ck_assert_uint_eq(zab_acl_hash(&c, i), h);
    zab_acl_unref(&c, i);
    ck_assert_int_eq(zab_acl_intern(&c, ba, 2, &j), ZAB_OK);
    ck_assert_uint_eq(j, i);
    ck_assert_uint_eq(zab_acl_hash(&c, j), zab_acl_hash_list(ba, 2));
    zab_acl_cache_fini(&c);
}
END_TEST

START_TEST(cache_many_lists)
{
    enum { N = 50000 };
    zab_acl_cache c;
    zab_acl_cache_init(&c);
    char buf[32];
    uint32_t idx;
    for (unsigned i = 0; i < N; i++) {
        zab_acl e = numbered(buf, sizeof buf, i);
        ck_assert_int_eq(zab_acl_intern(&c, &e, 1, &idx), ZAB_OK);
        ck_assert_uint_eq(idx, i);
    }
    /* Free every other slot from the top down, then refill: the lowest
     * free slot comes first each time. */
    for (unsigned i = N; i-- > 0;)
        if (i % 2) zab_acl_unref(&c, i);
    for (unsigned i = 0; i < N / 2; i++) {
        zab_acl e = numbered(buf, sizeof buf, N + i);
        ck_assert_int_eq(zab_acl_intern(&c, &e, 1, &idx), ZAB_OK);
        ck_assert_uint_eq(idx, 2 * i + 1);
    }
    for (unsigned i = 0; i < N; i += 997) {
        zab_acl e = numbered(buf, sizeof buf, i % 2 ? N + i / 2 : i);
        uint32_t n;
        const zab_acl *l = zab_acl_get(&c, i, &n);
        ck_assert(lists_equal(l, n, &e, 1));
    }
    zab_acl_cache_fini(&c);
}
END_TEST

static Suite *acl_suite(void)
{
    Suite *s = suite_create("acl");
    TCase *tc = tcase_create("primitives");
    tcase_add_test(tc, sha1_vectors);
    tcase_add_test(tc, base64_vectors);
    tcase_add_test(tc, digest_id_values);
    tcase_add_test(tc, digest_id_errors);
    tcase_add_test(tc, well_known_lists);
    suite_add_tcase(s, tc);

    tc = tcase_create("check");
    tcase_add_test(tc, check_empty_and_skip);
    tcase_add_test(tc, check_world_and_perms);
    tcase_add_test(tc, check_digest);
    tcase_add_test(tc, check_ip);
    tcase_add_test(tc, check_super);
    tcase_add_test(tc, check_unknown_schemes);
    suite_add_tcase(s, tc);

    tc = tcase_create("fixup");
    tcase_add_test(tc, fixup_keeps_valid_lists);
    tcase_add_test(tc, fixup_duplicates);
    tcase_add_test(tc, fixup_many_duplicates);
    tcase_add_test(tc, fixup_empty);
    tcase_add_test(tc, fixup_auth);
    tcase_add_test(tc, fixup_world);
    tcase_add_test(tc, fixup_digest_ids);
    tcase_add_test(tc, fixup_ip_ids);
    tcase_add_test(tc, fixup_unknown_schemes);
    tcase_add_test(tc, fixup_perms_not_validated);
    tcase_add_test(tc, masking);
    suite_add_tcase(s, tc);

    tc = tcase_create("cache");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, cache_same_list_same_index);
    tcase_add_test(tc, cache_one_allocation);
    tcase_add_test(tc, cache_empty_list);
    tcase_add_test(tc, cache_lowest_free_index);
    tcase_add_test(tc, cache_history);
    tcase_add_test(tc, cache_hash);
    tcase_add_test(tc, cache_many_lists);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(acl_suite)
