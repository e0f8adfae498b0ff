/*
 * test_path.c - ZooKeeper's path rules (PathUtils.validatePath) and path
 * slicing. The verdicts are ZooKeeper's: the rule table of the protocol
 * reference, and what PathUtils answers for the same bytes decoded as the
 * server decodes them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "tree/path.h"

/* A view of a literal that may hold NUL bytes. */
#define P(lit) ((zab_str){ (lit), (uint32_t)(sizeof(lit) - 1) })

static const char *show(zab_str s)
{
    static char buf[256];
    size_t o = 0;
    for (uint32_t i = 0; i < s.len && o + 5 < sizeof buf; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c >= 0x20 && c < 0x7f) buf[o++] = (char)c;
        else o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x", c);
    }
    buf[o] = 0;
    return buf;
}

static void expect_valid(zab_str p)
{
    ck_assert_msg(zab_path_validate(p) == ZAB_OK, "expected valid: \"%s\"", show(p));
}

static void expect_invalid(zab_str p)
{
    ck_assert_msg(zab_path_validate(p) == ZAB_EBADARGUMENTS, "expected invalid: \"%s\"",
                  show(p));
}

/* UTF-8 of one code point (no checks: callers pass scalar values or, on
 * purpose, surrogates). */
static uint32_t utf8(uint32_t cp, char *out)
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
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* "/a" followed by one code point. */
static zab_str path_with(uint32_t cp, char *buf)
{
    buf[0] = '/';
    buf[1] = 'a';
    return (zab_str){ buf, 2 + utf8(cp, buf + 2) };
}

START_TEST(structure)
{
    expect_valid(P("/"));
    expect_valid(P("/a"));
    expect_valid(P("/a/b"));
    expect_valid(P("/a/b/c/d"));
    expect_valid(P("/a b"));
    expect_valid(P("/zookeeper"));
    expect_valid(P("/zookeeper/quota"));
    expect_valid(P("/app/0000000007"));

    expect_invalid(P(""));
    expect_invalid((zab_str){ NULL, 0 });
    expect_invalid(P("a"));
    expect_invalid(P("a/b"));
    expect_invalid(P("/a/"));
    expect_invalid(P("/app/")); /* legal only before a sequence suffix */
    expect_invalid(P("//"));
    expect_invalid(P("/a//b"));
    expect_invalid(P("/a/b//"));
}
END_TEST

START_TEST(dots)
{
    expect_invalid(P("/."));
    expect_invalid(P("/.."));
    expect_invalid(P("/a/./b"));
    expect_invalid(P("/a/../b"));
    expect_invalid(P("/a/."));
    expect_invalid(P("/a/.."));
    expect_invalid(P("/./a"));
    expect_invalid(P("/../a"));

    expect_valid(P("/..."));
    expect_valid(P("/.a"));
    expect_valid(P("/a."));
    expect_valid(P("/..a"));
    expect_valid(P("/a.."));
    expect_valid(P("/a/.../b"));
    expect_valid(P("/.a./b"));
}
END_TEST

START_TEST(nul)
{
    expect_invalid(P("/a\0b"));
    expect_invalid(P("/a/\0"));
    expect_invalid(P("\0"));
    expect_invalid(P("/\0"));
}
END_TEST

/* Every ASCII byte after "/a": control characters and DEL are refused,
 * '/' only because it would end the path, everything else is fine. */
START_TEST(ascii)
{
    char buf[8];
    for (uint32_t c = 0; c < 0x80; c++) {
        zab_str p = path_with(c, buf);
        if (c < 0x20 || c == 0x7f || c == '/') expect_invalid(p);
        else expect_valid(p);
    }
}
END_TEST

/* Every BMP code point after "/a", against the reference's ranges:
 * U+0080-U+009F, U+D800-U+F8FF (surrogates and private use) and
 * U+FFF0-U+FFFF are refused. A surrogate can only be written as the
 * ill-formed three-byte sequence, which the server decodes to U+FFFD. */
START_TEST(bmp)
{
    char buf[8];
    for (uint32_t cp = 0x80; cp <= 0xffff; cp++) {
        int bad = (cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xf8ff) || cp >= 0xfff0;
        zab_str p = path_with(cp, buf);
        if (bad) expect_invalid(p);
        else expect_valid(p);
    }
}
END_TEST

START_TEST(unicode_examples)
{
    expect_valid(P("/a\xc2\xa0"));                 /* U+00A0 */
    expect_valid(P("/\xc3\xa9t\xc3\xa9"));         /* été */
    expect_valid(P("/\xe4\xb8\xad\xe6\x96\x87"));  /* 中文 */
    expect_valid(P("/\xed\x9f\xbf"));              /* U+D7FF */
    expect_valid(P("/\xef\xa4\x80"));              /* U+F900 */
    expect_valid(P("/\xef\xbf\xaf"));              /* U+FFEF */
    expect_valid(P("/\xef\xbb\xbf"));              /* U+FEFF inside a name */

    expect_invalid(P("/a\x01"));
    expect_invalid(P("/a\x1f"));
    expect_invalid(P("/a\x7f"));
    expect_invalid(P("/a\xc2\x80"));               /* U+0080 */
    expect_invalid(P("/a\xc2\x9f"));               /* U+009F */
    expect_invalid(P("/\xee\x80\x80"));            /* U+E000 private use */
    expect_invalid(P("/\xef\xa3\xbf"));            /* U+F8FF private use */
    expect_invalid(P("/\xef\xbf\xb0"));            /* U+FFF0 */
    expect_invalid(P("/\xef\xbf\xbd"));            /* U+FFFD itself */
    expect_invalid(P("/\xef\xbf\xbf"));            /* U+FFFF */
    expect_invalid(P("\xef\xbb\xbf/a"));           /* a BOM is not '/' */
}
END_TEST

/* Code points above U+FFFF are surrogate pairs to the server: refused. */
START_TEST(beyond_bmp)
{
    expect_invalid(P("/\xf0\x9f\x98\x80"));        /* U+1F600 emoji */
    expect_invalid(P("/a/\xf0\x9f\x90\x98/b"));    /* U+1F418 in the middle */
    expect_invalid(P("/\xf4\x8f\xbf\xbf"));        /* U+10FFFF */
    char buf[8];
    for (uint32_t cp = 0x10000; cp <= 0x10ffff; cp += 0x7ff)
        expect_invalid(path_with(cp, buf));
}
END_TEST

/* Malformed UTF-8 decodes to U+FFFD, which the rules refuse. */
START_TEST(malformed_utf8)
{
    expect_invalid(P("/\xff"));
    expect_invalid(P("/\xfe"));
    expect_invalid(P("/\x80"));                    /* lone continuation */
    expect_invalid(P("/a\xbf"));
    expect_invalid(P("/\xc0\xaf"));                /* overlong '/' */
    expect_invalid(P("/\xc1\xbf"));                /* overlong */
    expect_invalid(P("/\xc0\x80"));                /* overlong NUL */
    expect_invalid(P("/\xe0\x80\xaf"));            /* overlong */
    expect_invalid(P("/\xe0\x9f\xbf"));            /* overlong */
    expect_invalid(P("/\xf0\x8f\xbf\xbf"));        /* overlong */
    expect_invalid(P("/\xed\xa0\x80"));            /* encoded surrogate */
    expect_invalid(P("/\xed\xbf\xbf"));
    expect_invalid(P("/\xf4\x90\x80\x80"));        /* past U+10FFFF */
    expect_invalid(P("/\xf5\x80\x80\x80"));
    expect_invalid(P("/\xf8\x88\x80\x80\x80"));    /* five-byte form */
    expect_invalid(P("/\xc3"));                    /* truncated */
    expect_invalid(P("/\xe4\xb8"));
    expect_invalid(P("/\xf0\x9f\x98"));
    expect_invalid(P("/a\xc3/b"));                 /* truncated mid-path */
    expect_invalid(P("/\xc3\xc3\xa9"));
    /* The smallest well-formed three-byte sequence is fine. */
    expect_valid(P("/\xe0\xa0\x80"));              /* U+0800 */
}
END_TEST

START_TEST(long_path)
{
    enum { N = 200000 };
    char *buf = malloc(N);
    ck_assert_ptr_nonnull(buf);
    for (int i = 0; i < N; i += 2) {
        buf[i] = '/';
        buf[i + 1] = 'x';
    }
    zab_str p = { buf, N };
    expect_valid(p);
    buf[N - 1] = '.';
    expect_invalid(p);
    buf[N - 1] = 'x';
    buf[N / 2 + 1] = '/';
    expect_invalid(p); /* "//" in the middle */
    free(buf);
}
END_TEST

START_TEST(light_check)
{
    ck_assert_int_eq(zab_path_light_check(P("/a")), ZAB_OK);
    ck_assert_int_eq(zab_path_light_check(P("/")), ZAB_OK);
    /* Only a '/' and no NUL: what full validation refuses passes here. */
    ck_assert_int_eq(zab_path_light_check(P("a/b")), ZAB_OK);
    ck_assert_int_eq(zab_path_light_check(P("/t/./b")), ZAB_OK);
    ck_assert_int_eq(zab_path_light_check(P("/t/b/")), ZAB_OK);
    ck_assert_int_eq(zab_path_light_check(P("/\xff")), ZAB_OK);

    ck_assert_int_eq(zab_path_light_check(P("")), ZAB_EBADARGUMENTS);
    ck_assert_int_eq(zab_path_light_check((zab_str){ NULL, 0 }), ZAB_EBADARGUMENTS);
    ck_assert_int_eq(zab_path_light_check(P("abc")), ZAB_EBADARGUMENTS);
    ck_assert_int_eq(zab_path_light_check(P("/a\0b")), ZAB_EBADARGUMENTS);
    ck_assert_int_eq(zab_path_light_check(P("\0/")), ZAB_EBADARGUMENTS);
}
END_TEST

START_TEST(has_nul)
{
    ck_assert(!zab_path_has_nul(P("/a/b")));
    ck_assert(!zab_path_has_nul(P("")));
    ck_assert(!zab_path_has_nul((zab_str){ NULL, 0 }));
    ck_assert(zab_path_has_nul(P("/a\0")));
    ck_assert(zab_path_has_nul(P("\0")));
}
END_TEST

static void expect_slices(zab_str path, const char *parent, const char *name)
{
    zab_str p = zab_path_parent(path), n = zab_path_name(path);
    ck_assert_msg(p.len == strlen(parent) && memcmp(p.ptr, parent, p.len) == 0,
                  "parent of \"%s\"", show(path));
    ck_assert_msg(n.len == strlen(name) && memcmp(n.ptr, name, n.len) == 0,
                  "name of \"%s\"", show(path));
    /* Views into the path itself, not copies. */
    if (p.len) ck_assert_ptr_eq(p.ptr, path.ptr);
    if (n.len) ck_assert_ptr_eq(n.ptr + n.len, path.ptr + path.len);
}

START_TEST(slicing)
{
    expect_slices(P("/a"), "/", "a");
    expect_slices(P("/a/b"), "/a", "b");
    expect_slices(P("/a/b/c"), "/a/b", "c");
    expect_slices(P("/zookeeper/quota"), "/zookeeper", "quota");
    expect_slices(P("/"), "", "");
    expect_slices(P("/a/"), "/a", "");
    expect_slices(P("abc"), "", "abc");
    expect_slices(P(""), "", "");
    expect_slices(P("/\xc3\xa9t\xc3\xa9/x"), "/\xc3\xa9t\xc3\xa9", "x");

    zab_str none = zab_path_parent((zab_str){ NULL, 0 });
    ck_assert_uint_eq(none.len, 0);
    none = zab_path_name((zab_str){ NULL, 0 });
    ck_assert_uint_eq(none.len, 0);
}
END_TEST

START_TEST(special)
{
    ck_assert(zab_path_is_special(P("/")));
    ck_assert(zab_path_is_special(P("/zookeeper")));
    ck_assert(zab_path_is_special(P("/zookeeper/quota")));
    ck_assert(zab_path_is_special(P("/zookeeper/config")));

    ck_assert(!zab_path_is_special(P("")));
    ck_assert(!zab_path_is_special(P("/zookeeper/")));
    ck_assert(!zab_path_is_special(P("/zookeeperx")));
    ck_assert(!zab_path_is_special(P("/zookeeper/quota/x")));
    ck_assert(!zab_path_is_special(P("/zookeeper/other")));
    ck_assert(!zab_path_is_special(P("/a/zookeeper")));
    ck_assert(!zab_path_is_special(P("/Zookeeper")));
    ck_assert(!zab_path_is_special(P("/zookeeper\0")));
}
END_TEST

static Suite *path_suite(void)
{
    Suite *s = suite_create("path");
    TCase *tc = tcase_create("validate");
    tcase_add_test(tc, structure);
    tcase_add_test(tc, dots);
    tcase_add_test(tc, nul);
    tcase_add_test(tc, ascii);
    tcase_add_test(tc, bmp);
    tcase_add_test(tc, unicode_examples);
    tcase_add_test(tc, beyond_bmp);
    tcase_add_test(tc, malformed_utf8);
    tcase_add_test(tc, long_path);
    suite_add_tcase(s, tc);

    tc = tcase_create("slices");
    tcase_add_test(tc, light_check);
    tcase_add_test(tc, has_nul);
    tcase_add_test(tc, slicing);
    tcase_add_test(tc, special);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(path_suite)
