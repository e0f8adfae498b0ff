/*
 * path.c - ZooKeeper's path rules and path slicing.
 *
 * ZooKeeper validates the Java string it decoded from the path's UTF-8
 * bytes, one UTF-16 code unit at a time. Two consequences shape this file:
 * malformed UTF-8 becomes U+FFFD, which the rules refuse (U+FFF0-U+FFFF),
 * and every code point above U+FFFF becomes a surrogate pair, which the
 * rules also refuse (U+D800-U+F8FF). So a path is valid exactly when its
 * bytes are well-formed UTF-8, its structure is right, and every code point
 * is in the allowed set. The structural characters ('/', '.', NUL) are
 * ASCII, and an ASCII byte never belongs to a multi-byte sequence, so the
 * structure can be judged on bytes.
 */
#include "tree/path.h"

#include <string.h>

/* The next code point of well-formed UTF-8 (Unicode's table 3-7: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or -1 for a
 * malformed sequence. Advances *i by at least one byte. */
static int32_t zab_utf8_next(const uint8_t *s, size_t len, size_t *i)
{
    uint8_t b = s[*i];
    if (b < 0x80) {
        (*i)++;
        return b;
    }
    int need;
    uint32_t cp;
    uint8_t lo = 0x80, hi = 0xbf; /* range of the first continuation byte */
    if (b >= 0xc2 && b <= 0xdf) {
        need = 1;
        cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        cp = b & 0x0f;
        if (b == 0xe0) lo = 0xa0;       /* overlong */
        else if (b == 0xed) hi = 0x9f;  /* surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        cp = b & 0x07;
        if (b == 0xf0) lo = 0x90;       /* overlong */
        else if (b == 0xf4) hi = 0x8f;  /* past U+10FFFF */
    } else {
        (*i)++;
        return -1;
    }
    size_t j = *i + 1;
    for (int k = 0; k < need; k++, j++) {
        if (j >= len || s[j] < lo || s[j] > hi) {
            *i = j;
            return -1;
        }
        cp = cp << 6 | (s[j] & 0x3f);
        lo = 0x80;
        hi = 0xbf;
    }
    *i = j;
    return (int32_t)cp;
}

/* PathUtils' character rule, applied to a code point: control characters,
 * the surrogate and private-use range, the specials block and (as surrogate
 * pairs) everything beyond the BMP are refused. A malformed sequence (-1)
 * stands for U+FFFD and is refused with the specials. */
static int zab_path_char_ok(int32_t cp)
{
    if (cp < 0 || cp > 0xffff) return 0;
    if (cp <= 0x1f) return 0;
    if (cp >= 0x7f && cp <= 0x9f) return 0;
    if (cp >= 0xd800 && cp <= 0xf8ff) return 0;
    if (cp >= 0xfff0) return 0;
    return 1;
}

static int zab_path_component_ok(const uint8_t *c, size_t len)
{
    if (len == 0) return 0;
    if (len == 1 && c[0] == '.') return 0;
    if (len == 2 && c[0] == '.' && c[1] == '.') return 0;
    return 1;
}

int zab_path_validate(zab_str path)
{
    const uint8_t *s = (const uint8_t *)path.ptr;
    size_t n = path.len;
    if (n == 0 || s[0] != '/') return ZAB_EBADARGUMENTS;
    if (n == 1) return ZAB_OK;
    if (s[n - 1] == '/') return ZAB_EBADARGUMENTS;

    size_t start = 1; /* first byte of the current component */
    size_t i = 1;
    while (i <= n) {
        if (i == n || s[i] == '/') {
            if (!zab_path_component_ok(s + start, i - start)) return ZAB_EBADARGUMENTS;
            start = ++i;
            continue;
        }
        if (!zab_path_char_ok(zab_utf8_next(s, n, &i))) return ZAB_EBADARGUMENTS;
    }
    return ZAB_OK;
}

int zab_path_has_nul(zab_str path)
{
    return path.len && memchr(path.ptr, '\0', path.len) != NULL;
}

int zab_path_light_check(zab_str path)
{
    if (!path.len || !memchr(path.ptr, '/', path.len)) return ZAB_EBADARGUMENTS;
    return zab_path_has_nul(path) ? ZAB_EBADARGUMENTS : ZAB_OK;
}

/* Offset of the last '/', or -1. */
static int64_t zab_path_last_slash(zab_str path)
{
    for (uint32_t i = path.len; i > 0; i--)
        if (path.ptr[i - 1] == '/') return (int64_t)i - 1;
    return -1;
}

zab_str zab_path_parent(zab_str path)
{
    int64_t slash = zab_path_last_slash(path);
    zab_str parent = { path.ptr, 0 };
    if (slash < 0 || path.len == 1) return parent;
    /* The root is both a parent and the only path whose parent is empty:
     * "/a" has parent "/", not the empty text before its slash. */
    parent.len = slash == 0 ? 1 : (uint32_t)slash;
    return parent;
}

zab_str zab_path_name(zab_str path)
{
    zab_str name = path;
    if (path.len) {
        uint32_t from = (uint32_t)(zab_path_last_slash(path) + 1);
        name.ptr += from;
        name.len -= from;
    }
    return name;
}

static int zab_str_is(zab_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && (n == 0 || memcmp(s.ptr, lit, n) == 0);
}

int zab_path_is_special(zab_str path)
{
    return zab_str_is(path, "/") || zab_str_is(path, "/zookeeper") ||
           zab_str_is(path, "/zookeeper/quota") || zab_str_is(path, "/zookeeper/config");
}
