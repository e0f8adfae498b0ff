/*
 * test_jute.c - the ZooKeeper client wire codec: request bodies decoded from
 * bytes ZooKeeper's own clients send (captured from libzookeeper_mt 3.8 and
 * the Java client 3.8 talking to a listening socket, or taken from the
 * protocol reference's byte-level examples), encoded back to the same bytes,
 * every malformed case refused, and reply bodies byte for byte.
 */
#include <check.h>
#include <limits.h>
#include <string.h>

#include "check_main.h"
#include "zab.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct hexbytes {
    uint8_t b[4096];
    size_t len;
} hexbytes;

/* Hex digits to bytes; spaces are for the reader. */
static void hex_parse(hexbytes *h, const char *s)
{
    h->len = 0;
    int half = -1;
    for (; *s; s++) {
        if (*s == ' ') continue;
        int v = *s >= '0' && *s <= '9' ? *s - '0'
              : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
              : -1;
        ck_assert_msg(v >= 0, "bad hex digit '%c'", *s);
        if (half < 0) {
            half = v;
        } else {
            ck_assert_uint_lt(h->len, sizeof h->b);
            h->b[h->len++] = (uint8_t)(half << 4 | v);
            half = -1;
        }
    }
    ck_assert_msg(half < 0, "odd number of hex digits");
}

static void assert_view(zab_str v, const char *want)
{
    size_t n = strlen(want);
    ck_assert_ptr_nonnull(v.ptr);
    ck_assert_uint_eq(v.len, n);
    ck_assert_msg(memcmp(v.ptr, want, n) == 0, "got '%.*s', want '%s'", (int)v.len, v.ptr, want);
}

static void assert_null_view(zab_str v)
{
    ck_assert_ptr_null(v.ptr);
    ck_assert_uint_eq(v.len, 0);
}

static void assert_data(const zab_op *op, const char *want)
{
    size_t n = strlen(want);
    ck_assert_ptr_nonnull(op->data);
    ck_assert_int_eq(op->data_len, (int32_t)n);
    ck_assert(memcmp(op->data, want, n) == 0);
}

static void assert_acl(const zab_acl *a, int32_t perms, const char *scheme, const char *id)
{
    ck_assert_int_eq(a->perms, perms);
    assert_view(a->id.scheme, scheme);
    assert_view(a->id.id, id);
}

/* out->data[from..] must be exactly the bytes of hex. */
static void assert_bytes_from(const zab_buf *out, size_t from, const char *hex)
{
    hexbytes want;
    hex_parse(&want, hex);
    ck_assert_uint_eq(out->len - from, want.len);
    for (size_t i = 0; i < want.len; i++)
        ck_assert_msg(out->data[from + i] == want.b[i], "byte %zu: got %02x, want %02x", i,
                      out->data[from + i], want.b[i]);
}

static void assert_bytes(const zab_buf *out, const char *hex)
{
    assert_bytes_from(out, 0, hex);
}

/* A decoded request with the bytes and scratch it points into. */
typedef struct decoded {
    hexbytes in;
    zab_buf scratch;
    zab_request req;
    int rc;
} decoded;

static int dec(decoded *d, int32_t opcode, const char *hex)
{
    hex_parse(&d->in, hex);
    d->rc = zab_zk_decode_request(opcode, d->in.b, d->in.len, &d->req, &d->scratch);
    return d->rc;
}

static void dec_free(decoded *d)
{
    zab_buf_free(&d->scratch);
}

/* Encoding the decoded request gives back exactly the input. */
static void assert_reencodes(const decoded *d)
{
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_request(&d->req, &out), 0);
    ck_assert_uint_eq(out.len, d->in.len);
    ck_assert(out.len == 0 || memcmp(out.data, d->in.b, out.len) == 0);
    zab_buf_free(&out);
}

/* A decoded single op, after checking the request wraps exactly one. */
static const zab_op *single(const decoded *d, int32_t type)
{
    ck_assert_int_eq(d->rc, 0);
    ck_assert_int_eq(d->req.type, type);
    ck_assert_uint_eq(d->req.nops, 1);
    ck_assert_int_eq(d->req.ops[0].type, type);
    ck_assert_int_eq(d->req.session, 0);
    ck_assert_ptr_null(d->req.auth);
    return &d->req.ops[0];
}

/* ------------------------------------------------------------------------ */
/* Bytes ZooKeeper's clients send                                            */
/* ------------------------------------------------------------------------ */

#define OPEN_ACL "0000001f 00000005 776f726c64 00000006 616e796f6e65" /* world:anyone ALL */
#define DIGEST_READ_ACL "00000001 00000006 646967657374 00000003 753a68" /* digest:u:h READ */

/* libzookeeper_mt 3.8 */
#define C_CREATE "00000002 2f61 00000002 7879 00000001 " OPEN_ACL " 00000003"
#define C_CREATE_NULL_DATA \
    "00000002 2f6e ffffffff 00000002 " OPEN_ACL " " DIGEST_READ_ACL " 00000000"
#define C_CREATE2 "00000002 2f62 00000000 00000001 " OPEN_ACL " 00000000"
#define C_CREATE_CONTAINER "00000002 2f63 00000001 64 00000001 " OPEN_ACL " 00000004"
#define C_CREATE_TTL \
    "00000002 2f74 00000001 64 00000001 " OPEN_ACL " 00000005 00000000000003e8"
#define C_DELETE "00000002 2f61 00000003"
#define C_EXISTS "00000002 2f61 01"
#define C_GET_DATA "00000002 2f61 01"
#define C_SET_DATA "00000002 2f61 00000003 6e6577 ffffffff"
#define C_GET_ACL "00000002 2f61"
#define C_SET_ACL "00000002 2f61 00000002 " OPEN_ACL " " DIGEST_READ_ACL " 00000007"
#define C_GET_CHILDREN "00000001 2f 00"
#define C_SYNC "00000002 2f73"
#define C_GET_CHILDREN2 "00000001 2f 01"
#define C_REMOVE_WATCHES "00000002 2f61 00000002"
#define C_MULTI                                                   \
    "00000001 00 ffffffff 00000002 2f6d 00000001 76 00000001 "    \
    OPEN_ACL " 00000000"                                          \
    " 00000002 00 ffffffff 00000002 2f6d 00000004"                \
    " 00000005 00 ffffffff 00000002 2f6d 00000001 77 00000002"    \
    " 0000000d 00 ffffffff 00000002 2f6d 00000005"                \
    " ffffffff 01 ffffffff"

/* The Java client 3.8 */
#define J_ADD_WATCH "00000002 2f77 00000001"
#define J_GET_EPHEMERALS "00000002 2f65"
#define J_GET_ALL_CHILDREN_NUMBER "00000001 2f"
#define J_CHECK_WATCHES "00000002 2f71 00000002"
#define J_CREATE_CREATOR_ALL \
    "00000002 2f78 ffffffff 00000001 0000001f 00000004 61757468 00000000 00000000"
#define J_MULTI_READ                                              \
    "00000004 00 ffffffff 00000002 2f72 00"                       \
    " 00000008 00 ffffffff 00000001 2f 00"                        \
    " ffffffff 01 ffffffff"
#define J_MULTI                                                   \
    "00000013 00 ffffffff 00000002 2f6b 00000001 01 00000001 "    \
    OPEN_ACL " 00000004"                                          \
    " 00000015 00 ffffffff 00000002 2f6c 00000000 00000001 "      \
    OPEN_ACL " 00000005 0000000000001388"                         \
    " ffffffff 01 ffffffff"

/* The reference's getData("/a", watch=true) frame with xid 7. */
#define REF_GET_DATA_FRAME "0000000f 00000007 00000004 00000002 2f61 01"

/* Every captured body with its opcode. */
static const struct capture {
    int32_t opcode;
    const char *hex;
} captures[] = {
    { ZAB_OP_CREATE, C_CREATE },
    { ZAB_OP_CREATE, C_CREATE_NULL_DATA },
    { ZAB_OP_CREATE2, C_CREATE2 },
    { ZAB_OP_CREATE_CONTAINER, C_CREATE_CONTAINER },
    { ZAB_OP_CREATE_TTL, C_CREATE_TTL },
    { ZAB_OP_DELETE, C_DELETE },
    { ZAB_OP_EXISTS, C_EXISTS },
    { ZAB_OP_GET_DATA, C_GET_DATA },
    { ZAB_OP_SET_DATA, C_SET_DATA },
    { ZAB_OP_GET_ACL, C_GET_ACL },
    { ZAB_OP_SET_ACL, C_SET_ACL },
    { ZAB_OP_GET_CHILDREN, C_GET_CHILDREN },
    { ZAB_OP_SYNC, C_SYNC },
    { ZAB_OP_GET_CHILDREN2, C_GET_CHILDREN2 },
    { ZAB_OP_REMOVE_WATCHES, C_REMOVE_WATCHES },
    { ZAB_OP_MULTI, C_MULTI },
    { ZAB_OP_ADD_WATCH, J_ADD_WATCH },
    { ZAB_OP_GET_EPHEMERALS, J_GET_EPHEMERALS },
    { ZAB_OP_GET_ALL_CHILDREN_NUMBER, J_GET_ALL_CHILDREN_NUMBER },
    { ZAB_OP_CHECK_WATCHES, J_CHECK_WATCHES },
    { ZAB_OP_CREATE, J_CREATE_CREATOR_ALL },
    { ZAB_OP_MULTI_READ, J_MULTI_READ },
    { ZAB_OP_MULTI, J_MULTI },
    { ZAB_OP_DELETE_CONTAINER, "00000002 2f63" },
    { ZAB_OP_CHECK, "00000002 2f61 00000009" },
};
enum { NCAPTURES = sizeof captures / sizeof captures[0] };

/* ------------------------------------------------------------------------ */
/* Decoding: creates                                                         */
/* ------------------------------------------------------------------------ */

START_TEST(test_decode_create)
{
    decoded d = { 0 };
    dec(&d, ZAB_OP_CREATE, C_CREATE);
    const zab_op *op = single(&d, ZAB_OP_CREATE);
    assert_view(op->path, "/a");
    assert_data(op, "xy");
    ck_assert_uint_eq(op->nacl, 1);
    assert_acl(&op->acl[0], ZAB_PERM_ALL, "world", "anyone");
    ck_assert_int_eq(op->flags, ZAB_EPHEMERAL_SEQUENTIAL);
    ck_assert_int_eq(op->ttl, -1);
    /* Zero-copy: the path and data point into the body. */
    ck_assert_ptr_eq(op->path.ptr, (const char *)d.in.b + 4);
    ck_assert_ptr_eq(op->data, d.in.b + 10);
    dec_free(&d);
}
END_TEST

START_TEST(test_decode_create_null_data_two_acls)
{
    decoded d = { 0 };
    dec(&d, ZAB_OP_CREATE, C_CREATE_NULL_DATA);
    const zab_op *op = single(&d, ZAB_OP_CREATE);
    assert_view(op->path, "/n");
    ck_assert_ptr_null(op->data);
    ck_assert_int_eq(op->data_len, -1);
    ck_assert_uint_eq(op->nacl, 2);
    assert_acl(&op->acl[0], ZAB_PERM_ALL, "world", "anyone");
    assert_acl(&op->acl[1], ZAB_PERM_READ, "digest", "u:h");
    ck_assert_int_eq(op->flags, ZAB_PERSISTENT);
    dec_free(&d);
}
END_TEST

START_TEST(test_decode_create_creator_all)
{
    /* CREATOR_ALL_ACL is auth with an empty (not null) id. */
    decoded d = { 0 };
    dec(&d, ZAB_OP_CREATE, J_CREATE_CREATOR_ALL);
    const zab_op *op = single(&d, ZAB_OP_CREATE);
    assert_view(op->path, "/x");
    ck_assert_int_eq(op->data_len, -1);
    ck_assert_uint_eq(op->nacl, 1);
    assert_acl(&op->acl[0], ZAB_PERM_ALL, "auth", "");
    dec_free(&d);
}
END_TEST

START_TEST(test_decode_create2_empty_data)
{
    decoded d = { 0 };
    dec(&d, ZAB_OP_CREATE2, C_CREATE2);
    const zab_op *op = single(&d, ZAB_OP_CREATE2);
    assert_view(op->path, "/b");
    /* Empty is not null. */
    ck_assert_ptr_nonnull(op->data);
    ck_assert_int_eq(op->data_len, 0);
    ck_assert_int_eq(op->flags, ZAB_PERSISTENT);
    ck_assert_int_eq(op->ttl, -1);
    dec_free(&d);
}
END_TEST

START_TEST(test_decode_create_container)
{
    decoded d = { 0 };
    dec(&d, ZAB_OP_CREATE_CONTAINER, C_CREATE_CONTAINER);
    const zab_op *op = single(&d, ZAB_OP_CREATE_CONTAINER);
    assert_view(op->path, "/c");
    assert_data(op, "d");
    ck_assert_int_eq(op->flags, ZAB_CONTAINER);
    ck_assert_int_eq(op->ttl, -1);
    dec_free(&d);

    /* The flags are passed on as sent, for the tree to judge. */
    decoded e = { 0 };
    dec(&e, ZAB_OP_CREATE_CONTAINER, "00000002 2f63 00000000 00000000 00000001");
    ck_assert_int_eq(single(&e, ZAB_OP_CREATE_CONTAINER)->flags, ZAB_EPHEMERAL);
    dec_free(&e);
}
END_TEST

START_TEST(test_decode_create_ttl)
{
    decoded d = { 0 };
    dec(&d, ZAB_OP_CREATE_TTL, C_CREATE_TTL);
    const zab_op *op = single(&d, ZAB_OP_CREATE_TTL);
    assert_view(op->path, "/t");
    assert_data(op, "d");
    ck_assert_uint_eq(op->nacl, 1);
    ck_assert_int_eq(op->flags, ZAB_PERSISTENT_WITH_TTL);
    ck_assert_int_eq(op->ttl, 1000);
    dec_free(&d);
}
END_TEST

START_TEST(test_decode_acl_vectors)
{
    /* A null vector (-1) and an empty one both decode to no list. */
    decoded d = { 0 };
    dec(&d, ZAB_OP_CREATE, "00000002 2f61 00000000 ffffffff 00000000");
    const zab_op *op = single(&d, ZAB_OP_CREATE);
    ck_assert_uint_eq(op->nacl, 0);
    ck_assert_ptr_null(op->acl);
    dec_free(&d);

    decoded e = { 0 };
    dec(&e, ZAB_OP_SET_ACL, "00000002 2f61 00000000 00000004");
    op = single(&e, ZAB_OP_SET_ACL);
    ck_assert_uint_eq(op->nacl, 0);
    ck_assert_ptr_null(op->acl);
    ck_assert_int_eq(op->version, 4);
    dec_free(&e);

    /* Null scheme and id strings inside an entry. */
    decoded f = { 0 };
    dec(&f, ZAB_OP_SET_ACL, "00000002 2f61 00000001 00000003 ffffffff ffffffff ffffffff");
    op = single(&f, ZAB_OP_SET_ACL);
    ck_assert_uint_eq(op->nacl, 1);
    ck_assert_int_eq(op->acl[0].perms, 3);
    assert_null_view(op->acl[0].id.scheme);
    assert_null_view(op->acl[0].id.id);
    ck_assert_int_eq(op->version, -1);
    assert_reencodes(&f);
    dec_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Decoding: the other single ops                                            */
/* ------------------------------------------------------------------------ */

START_TEST(test_decode_delete_and_check)
{
    decoded d = { 0 };
    dec(&d, ZAB_OP_DELETE, C_DELETE);
    const zab_op *op = single(&d, ZAB_OP_DELETE);
    assert_view(op->path, "/a");
    ck_assert_int_eq(op->version, 3);
    ck_assert_int_eq(op->ttl, -1);
    dec_free(&d);

    decoded e = { 0 };
    dec(&e, ZAB_OP_DELETE, "00000002 2f61 ffffffff");
    ck_assert_int_eq(single(&e, ZAB_OP_DELETE)->version, -1);
    dec_free(&e);

    /* A top-level check decodes; refusing it is the server's business. */
    decoded f = { 0 };
    dec(&f, ZAB_OP_CHECK, "00000002 2f61 00000009");
    op = single(&f, ZAB_OP_CHECK);
    assert_view(op->path, "/a");
    ck_assert_int_eq(op->version, 9);
    dec_free(&f);

    decoded g = { 0 };
    dec(&g, ZAB_OP_DELETE_CONTAINER, "00000002 2f63");
    assert_view(single(&g, ZAB_OP_DELETE_CONTAINER)->path, "/c");
    dec_free(&g);
}
END_TEST

START_TEST(test_decode_reads_with_watch)
{
    static const struct {
        int32_t opcode;
        const char *hex;
        const char *path;
        int32_t watch;
    } cases[] = {
        { ZAB_OP_EXISTS, C_EXISTS, "/a", 1 },
        { ZAB_OP_EXISTS, J_CHECK_WATCHES, "/q", 0 }, /* trailing bytes are ignored */
        { ZAB_OP_GET_DATA, C_GET_DATA, "/a", 1 },
        { ZAB_OP_GET_CHILDREN, C_GET_CHILDREN, "/", 0 },
        { ZAB_OP_GET_CHILDREN2, C_GET_CHILDREN2, "/", 1 },
        { ZAB_OP_GET_DATA, "00000002 2f61 02", "/a", 1 }, /* any non-zero byte is true */
        { ZAB_OP_GET_DATA, "00000002 2f61 ff", "/a", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        decoded d = { 0 };
        dec(&d, cases[i].opcode, cases[i].hex);
        const zab_op *op = single(&d, cases[i].opcode);
        assert_view(op->path, cases[i].path);
        ck_assert_int_eq(op->watch, cases[i].watch);
        ck_assert_int_eq(op->ttl, -1);
        ck_assert_ptr_null(op->data);
        dec_free(&d);
    }
}
END_TEST

START_TEST(test_decode_reference_get_data_frame)
{
    /* The reference's frame: length, xid 7, opcode 4, then the body. */
    hexbytes frame;
    hex_parse(&frame, REF_GET_DATA_FRAME);
    ck_assert_uint_eq(frame.len, 4 + 0x0f);
    int32_t opcode = (int32_t)((uint32_t)frame.b[8] << 24 | (uint32_t)frame.b[9] << 16 |
                               (uint32_t)frame.b[10] << 8 | frame.b[11]);
    ck_assert_int_eq(opcode, ZAB_OP_GET_DATA);
    zab_buf scratch = { 0 };
    zab_request req;
    ck_assert_int_eq(
        zab_zk_decode_request(opcode, frame.b + 12, frame.len - 12, &req, &scratch), 0);
    ck_assert_uint_eq(req.nops, 1);
    assert_view(req.ops[0].path, "/a");
    ck_assert_int_eq(req.ops[0].watch, 1);
    zab_buf_free(&scratch);
}
END_TEST

START_TEST(test_decode_set_data)
{
    decoded d = { 0 };
    dec(&d, ZAB_OP_SET_DATA, C_SET_DATA);
    const zab_op *op = single(&d, ZAB_OP_SET_DATA);
    assert_view(op->path, "/a");
    assert_data(op, "new");
    ck_assert_int_eq(op->version, -1);
    dec_free(&d);

    decoded e = { 0 };
    dec(&e, ZAB_OP_SET_DATA, "00000002 2f61 ffffffff 00000005");
    op = single(&e, ZAB_OP_SET_DATA);
    ck_assert_ptr_null(op->data);
    ck_assert_int_eq(op->data_len, -1);
    ck_assert_int_eq(op->version, 5);
    dec_free(&e);
}
END_TEST

START_TEST(test_decode_acl_ops)
{
    decoded d = { 0 };
    dec(&d, ZAB_OP_GET_ACL, C_GET_ACL);
    assert_view(single(&d, ZAB_OP_GET_ACL)->path, "/a");
    dec_free(&d);

    decoded e = { 0 };
    dec(&e, ZAB_OP_SET_ACL, C_SET_ACL);
    const zab_op *op = single(&e, ZAB_OP_SET_ACL);
    assert_view(op->path, "/a");
    ck_assert_uint_eq(op->nacl, 2);
    assert_acl(&op->acl[0], ZAB_PERM_ALL, "world", "anyone");
    assert_acl(&op->acl[1], ZAB_PERM_READ, "digest", "u:h");
    ck_assert_int_eq(op->version, 7);
    dec_free(&e);
}
END_TEST

START_TEST(test_decode_path_only_ops)
{
    static const struct {
        int32_t opcode;
        const char *hex;
        const char *path;
    } cases[] = {
        { ZAB_OP_SYNC, C_SYNC, "/s" },
        { ZAB_OP_GET_EPHEMERALS, J_GET_EPHEMERALS, "/e" },
        { ZAB_OP_GET_ALL_CHILDREN_NUMBER, J_GET_ALL_CHILDREN_NUMBER, "/" },
        { ZAB_OP_GET_EPHEMERALS, "00000000", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        decoded d = { 0 };
        dec(&d, cases[i].opcode, cases[i].hex);
        const zab_op *op = single(&d, cases[i].opcode);
        assert_view(op->path, cases[i].path);
        ck_assert_int_eq(op->flags, 0);
        ck_assert_int_eq(op->ttl, -1);
        dec_free(&d);
    }
    /* A null prefix: getEphemerals treats it as "all". */
    decoded d = { 0 };
    dec(&d, ZAB_OP_GET_EPHEMERALS, "ffffffff");
    assert_null_view(single(&d, ZAB_OP_GET_EPHEMERALS)->path);
    dec_free(&d);
}
END_TEST

START_TEST(test_decode_watch_ops)
{
    static const struct {
        int32_t opcode;
        const char *hex;
        const char *path;
        int32_t flags;
    } cases[] = {
        { ZAB_OP_REMOVE_WATCHES, C_REMOVE_WATCHES, "/a", ZAB_WATCHER_DATA },
        { ZAB_OP_CHECK_WATCHES, J_CHECK_WATCHES, "/q", ZAB_WATCHER_DATA },
        { ZAB_OP_ADD_WATCH, J_ADD_WATCH, "/w", ZAB_WATCH_PERSISTENT_RECURSIVE },
        { ZAB_OP_ADD_WATCH, "00000002 2f77 00000000", "/w", ZAB_WATCH_PERSISTENT },
        { ZAB_OP_REMOVE_WATCHES, "00000002 2f61 00000003", "/a", ZAB_WATCHER_ANY },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        decoded d = { 0 };
        dec(&d, cases[i].opcode, cases[i].hex);
        const zab_op *op = single(&d, cases[i].opcode);
        assert_view(op->path, cases[i].path);
        ck_assert_int_eq(op->flags, cases[i].flags);
        dec_free(&d);
    }
}
END_TEST

START_TEST(test_decode_no_body_ops)
{
    /* ping (the reference's frame has no body), closeSession and whoAmI as
     * both clients send them: an empty body. */
    static const int32_t ops[] = { ZAB_OP_PING, ZAB_OP_CLOSE_SESSION, ZAB_OP_WHO_AM_I };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        decoded d = { 0 };
        dec(&d, ops[i], "");
        const zab_op *op = single(&d, ops[i]);
        assert_null_view(op->path);
        ck_assert_int_eq(op->ttl, -1);
        assert_reencodes(&d);
        dec_free(&d);

        /* NULL with length 0 is a valid empty body too; extra bytes are
         * ignored as ZooKeeper ignores them. */
        zab_buf scratch = { 0 };
        zab_request req;
        ck_assert_int_eq(zab_zk_decode_request(ops[i], NULL, 0, &req, &scratch), 0);
        ck_assert_uint_eq(req.nops, 1);
        ck_assert_int_eq(zab_zk_decode_request(ops[i], "\x01\x02", 2, &req, &scratch), 0);
        ck_assert_int_eq(req.ops[0].type, ops[i]);
        zab_buf_free(&scratch);
    }
}
END_TEST

START_TEST(test_decode_null_path)
{
    decoded d = { 0 };
    dec(&d, ZAB_OP_GET_DATA, "ffffffff 01");
    const zab_op *op = single(&d, ZAB_OP_GET_DATA);
    assert_null_view(op->path);
    ck_assert_int_eq(op->watch, 1);
    assert_reencodes(&d);
    dec_free(&d);

    /* An empty path is not null. */
    decoded e = { 0 };
    dec(&e, ZAB_OP_DELETE, "00000000 00000001");
    op = single(&e, ZAB_OP_DELETE);
    ck_assert_ptr_nonnull(op->path.ptr);
    ck_assert_uint_eq(op->path.len, 0);
    dec_free(&e);
}
END_TEST

START_TEST(test_decode_trailing_bytes_ignored)
{
    /* ZooKeeper reads a record from the frame and never checks what is
     * left, so a single record followed by more bytes still decodes. */
    decoded d = { 0 };
    dec(&d, ZAB_OP_GET_DATA, C_GET_DATA " ffff 00000000");
    const zab_op *op = single(&d, ZAB_OP_GET_DATA);
    assert_view(op->path, "/a");
    ck_assert_int_eq(op->watch, 1);
    dec_free(&d);

    decoded e = { 0 };
    dec(&e, ZAB_OP_CREATE_TTL, C_CREATE_TTL " 00");
    ck_assert_int_eq(single(&e, ZAB_OP_CREATE_TTL)->ttl, 1000);
    dec_free(&e);
}
END_TEST

START_TEST(test_decode_unimplemented)
{
    /* auth, setWatches, setWatches2, sasl, reconfig, createSession: the
     * host's records; anything unknown, including notification (0), unused
     * 10 and the error marker. */
    static const int32_t ops[] = { ZAB_OP_AUTH, ZAB_OP_SET_WATCHES, ZAB_OP_SET_WATCHES2,
                                   ZAB_OP_SASL, ZAB_OP_RECONFIG, ZAB_OP_CREATE_SESSION,
                                   0, 10, 23, 99, 108, ZAB_OP_ERROR, INT32_MAX, INT32_MIN };
    hexbytes auth;
    hex_parse(&auth, "00000000 00000006 646967657374 00000003 753a70");
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        zab_buf scratch = { 0 };
        zab_request req;
        memset(&req, 0xa5, sizeof req);
        ck_assert_int_eq(zab_zk_decode_request(ops[i], auth.b, auth.len, &req, &scratch),
                         ZAB_EUNIMPLEMENTED);
        ck_assert_int_eq(req.type, 0);
        ck_assert_uint_eq(req.nops, 0);
        ck_assert_ptr_null(req.ops);
        ck_assert_uint_eq(scratch.cap, 0);
        zab_buf_free(&scratch);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Decoding: multi and multiRead                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_decode_multi_c_client)
{
    decoded d = { 0 };
    ck_assert_int_eq(dec(&d, ZAB_OP_MULTI, C_MULTI), 0);
    ck_assert_int_eq(d.req.type, ZAB_OP_MULTI);
    ck_assert_uint_eq(d.req.nops, 4);
    const zab_op *ops = d.req.ops;

    ck_assert_int_eq(ops[0].type, ZAB_OP_CREATE);
    assert_view(ops[0].path, "/m");
    assert_data(&ops[0], "v");
    ck_assert_uint_eq(ops[0].nacl, 1);
    assert_acl(&ops[0].acl[0], ZAB_PERM_ALL, "world", "anyone");
    ck_assert_int_eq(ops[0].flags, ZAB_PERSISTENT);
    ck_assert_int_eq(ops[0].ttl, -1);

    ck_assert_int_eq(ops[1].type, ZAB_OP_DELETE);
    assert_view(ops[1].path, "/m");
    ck_assert_int_eq(ops[1].version, 4);

    ck_assert_int_eq(ops[2].type, ZAB_OP_SET_DATA);
    assert_data(&ops[2], "w");
    ck_assert_int_eq(ops[2].version, 2);

    ck_assert_int_eq(ops[3].type, ZAB_OP_CHECK);
    assert_view(ops[3].path, "/m");
    ck_assert_int_eq(ops[3].version, 5);
    for (int i = 1; i < 4; i++) ck_assert_int_eq(ops[i].ttl, -1);
    dec_free(&d);
}
END_TEST

START_TEST(test_decode_multi_java_container_ttl)
{
    decoded d = { 0 };
    ck_assert_int_eq(dec(&d, ZAB_OP_MULTI, J_MULTI), 0);
    ck_assert_uint_eq(d.req.nops, 2);
    const zab_op *ops = d.req.ops;
    ck_assert_int_eq(ops[0].type, ZAB_OP_CREATE_CONTAINER);
    assert_view(ops[0].path, "/k");
    assert_data(&ops[0], "\x01");
    ck_assert_int_eq(ops[0].flags, ZAB_CONTAINER);
    ck_assert_int_eq(ops[0].ttl, -1);
    ck_assert_int_eq(ops[1].type, ZAB_OP_CREATE_TTL);
    assert_view(ops[1].path, "/l");
    ck_assert_int_eq(ops[1].data_len, 0);
    ck_assert_int_eq(ops[1].flags, ZAB_PERSISTENT_WITH_TTL);
    ck_assert_int_eq(ops[1].ttl, 5000);
    ck_assert_uint_eq(ops[1].nacl, 1);
    assert_acl(&ops[1].acl[0], ZAB_PERM_ALL, "world", "anyone");
    dec_free(&d);
}
END_TEST

START_TEST(test_decode_multi_create2)
{
    decoded d = { 0 };
    ck_assert_int_eq(dec(&d, ZAB_OP_MULTI,
                         "0000000f 00 ffffffff 00000002 2f62 00000000 00000001 " OPEN_ACL
                         " 00000002  ffffffff 01 ffffffff"),
                     0);
    ck_assert_uint_eq(d.req.nops, 1);
    ck_assert_int_eq(d.req.ops[0].type, ZAB_OP_CREATE2);
    assert_view(d.req.ops[0].path, "/b");
    ck_assert_int_eq(d.req.ops[0].flags, ZAB_PERSISTENT_SEQUENTIAL);
    assert_reencodes(&d);
    dec_free(&d);
}
END_TEST

START_TEST(test_decode_multi_read)
{
    decoded d = { 0 };
    ck_assert_int_eq(dec(&d, ZAB_OP_MULTI_READ, J_MULTI_READ), 0);
    ck_assert_int_eq(d.req.type, ZAB_OP_MULTI_READ);
    ck_assert_uint_eq(d.req.nops, 2);
    ck_assert_int_eq(d.req.ops[0].type, ZAB_OP_GET_DATA);
    assert_view(d.req.ops[0].path, "/r");
    ck_assert_int_eq(d.req.ops[1].type, ZAB_OP_GET_CHILDREN);
    assert_view(d.req.ops[1].path, "/");
    dec_free(&d);
}
END_TEST

START_TEST(test_decode_multi_empty)
{
    static const int32_t kinds[] = { ZAB_OP_MULTI, ZAB_OP_MULTI_READ };
    for (size_t i = 0; i < 2; i++) {
        decoded d = { 0 };
        ck_assert_int_eq(dec(&d, kinds[i], "ffffffff 01 ffffffff"), 0);
        ck_assert_int_eq(d.req.type, kinds[i]);
        ck_assert_uint_eq(d.req.nops, 0);
        ck_assert_ptr_null(d.req.ops);
        assert_reencodes(&d);
        dec_free(&d);
    }
}
END_TEST

START_TEST(test_decode_multi_header_leniency)
{
    /* ZooKeeper reads but never checks a header's err, and any non-zero
     * done byte is true. */
    decoded d = { 0 };
    ck_assert_int_eq(dec(&d, ZAB_OP_MULTI,
                         "00000002 00 00000000 00000002 2f61 ffffffff"
                         " 00000002 00 7fffffff 00000002 2f62 00000001"
                         " ffffffff 02 00000000"),
                     0);
    ck_assert_uint_eq(d.req.nops, 2);
    assert_view(d.req.ops[1].path, "/b");
    ck_assert_int_eq(d.req.ops[1].version, 1);
    dec_free(&d);
}
END_TEST

static int multi_rc(int32_t kind, const char *hex)
{
    decoded d = { 0 };
    int rc = dec(&d, kind, hex);
    if (rc) {
        ck_assert_uint_eq(d.req.nops, 0);
        ck_assert_ptr_null(d.req.ops);
    }
    dec_free(&d);
    return rc;
}

#define SUB_DELETE "00000002 00 ffffffff 00000002 2f61 ffffffff"
#define SUB_GET_DATA "00000004 00 ffffffff 00000002 2f61 00"
#define TERMINATOR "ffffffff 01 ffffffff"

START_TEST(test_decode_multi_malformed)
{
    /* Sub-op types outside the multi's kind, or no sub-op at all. */
    static const char *bad_in_multi[] = {
        "00000003 00 ffffffff 00000002 2f61 00 " TERMINATOR,       /* exists */
        SUB_GET_DATA " " TERMINATOR,                               /* a read */
        SUB_DELETE " " SUB_GET_DATA " " TERMINATOR,                /* mixed kinds */
        "00000009 00 ffffffff 00000002 2f61 " TERMINATOR,          /* sync */
        "00000006 00 ffffffff 00000002 2f61 " TERMINATOR,          /* getACL */
        "00000007 00 ffffffff 00000002 2f61 00000000 00000000 " TERMINATOR,
        "00000014 00 ffffffff 00000002 2f61 " TERMINATOR,          /* deleteContainer */
        "0000000e 00 ffffffff " TERMINATOR " " TERMINATOR,         /* nested multi */
        "ffffffff 00 ffffffff " TERMINATOR,                        /* -1, not done */
        "0000000b 00 ffffffff " TERMINATOR,                        /* ping */
        "00000001 01 ffffffff",                                    /* done, type 1 */
        SUB_DELETE " 00000002 01 ffffffff",                        /* done, type 2 */
        "00000000 01 ffffffff",                                    /* done, type 0 */
        SUB_DELETE,                                                /* no terminator */
        SUB_DELETE " ffffffff 01",                                 /* cut terminator */
        "",                                                        /* empty body */
        TERMINATOR " 00",                                          /* trailing byte */
        SUB_DELETE " " TERMINATOR " " TERMINATOR,                  /* trailing header */
        "00000002 00 ffffffff 00000002 2f61 " TERMINATOR,          /* record cut short */
    };
    for (size_t i = 0; i < sizeof bad_in_multi / sizeof bad_in_multi[0]; i++)
        ck_assert_msg(multi_rc(ZAB_OP_MULTI, bad_in_multi[i]) == ZAB_EMARSHALLING,
                      "multi case %zu decoded", i);

    static const char *bad_in_read[] = {
        SUB_DELETE " " TERMINATOR,                                 /* a write */
        SUB_GET_DATA " " SUB_DELETE " " TERMINATOR,                /* mixed kinds */
        "00000001 00 ffffffff 00000002 2f61 00000000 00000000 00000000 " TERMINATOR,
        "0000000d 00 ffffffff 00000002 2f61 00000000 " TERMINATOR, /* check */
        "0000000c 00 ffffffff 00000002 2f61 00 " TERMINATOR,       /* getChildren2 */
        "00000003 00 ffffffff 00000002 2f61 00 " TERMINATOR,       /* exists */
        SUB_GET_DATA,                                              /* no terminator */
        SUB_GET_DATA " " TERMINATOR " ff",                         /* trailing byte */
    };
    for (size_t i = 0; i < sizeof bad_in_read / sizeof bad_in_read[0]; i++)
        ck_assert_msg(multi_rc(ZAB_OP_MULTI_READ, bad_in_read[i]) == ZAB_EMARSHALLING,
                      "multiRead case %zu decoded", i);

    /* The good counterparts decode. */
    ck_assert_int_eq(multi_rc(ZAB_OP_MULTI, SUB_DELETE " " TERMINATOR), 0);
    ck_assert_int_eq(multi_rc(ZAB_OP_MULTI_READ, SUB_GET_DATA " " TERMINATOR), 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Decoding: malformed single records                                        */
/* ------------------------------------------------------------------------ */

START_TEST(test_decode_every_truncation)
{
    /* Every strict prefix of every captured body is refused. */
    for (size_t c = 0; c < NCAPTURES; c++) {
        hexbytes in;
        hex_parse(&in, captures[c].hex);
        zab_buf scratch = { 0 };
        zab_request req;
        for (size_t n = 0; n < in.len; n++) {
            int rc = zab_zk_decode_request(captures[c].opcode, in.b, n, &req, &scratch);
            ck_assert_msg(rc == ZAB_EMARSHALLING, "capture %zu cut to %zu: %d", c, n, rc);
            ck_assert_uint_eq(req.nops, 0);
        }
        ck_assert_int_eq(
            zab_zk_decode_request(captures[c].opcode, in.b, in.len, &req, &scratch), 0);
        zab_buf_free(&scratch);
    }
}
END_TEST

static int single_rc(int32_t opcode, const char *hex, zab_buf *scratch)
{
    hexbytes in;
    hex_parse(&in, hex);
    zab_request req;
    int rc = zab_zk_decode_request(opcode, in.b, in.len, &req, scratch);
    if (rc) ck_assert_ptr_null(req.ops);
    return rc;
}

START_TEST(test_decode_bad_lengths)
{
    static const struct {
        int32_t opcode;
        const char *hex;
    } bad[] = {
        { ZAB_OP_GET_DATA, "00000003 2f61 01" },            /* path runs past the end */
        { ZAB_OP_GET_DATA, "7fffffff 2f61 01" },
        { ZAB_OP_GET_DATA, "fffffffe 2f61 01" },            /* -2 */
        { ZAB_OP_GET_DATA, "80000000 2f61 01" },            /* INT32_MIN */
        { ZAB_OP_SYNC, "00000001" },
        { ZAB_OP_SET_DATA, "00000002 2f61 fffffffe 00000000" },   /* data -2 */
        { ZAB_OP_SET_DATA, "00000002 2f61 7fffffff 00000000" },   /* data too long */
        { ZAB_OP_SET_DATA, "00000002 2f61 00000005 6162 ffffffff" },
        { ZAB_OP_CREATE, "00000002 2f61 00000000 7fffffff 00000000" }, /* ACL count */
        { ZAB_OP_CREATE, "00000002 2f61 00000000 fffffffe 00000000" }, /* count -2 */
        { ZAB_OP_CREATE, "00000002 2f61 00000000 80000000 00000000" },
        { ZAB_OP_CREATE, "00000002 2f61 00000000 00000002 " OPEN_ACL " 00000000" },
        { ZAB_OP_SET_ACL, "00000002 2f61 00000001 0000001f 00000005 776f726c64 fffffffe" },
        { ZAB_OP_SET_ACL, "00000002 2f61 00000001 0000001f 00000009 776f726c64 00000000" },
        { ZAB_OP_CREATE_TTL, "00000002 2f61 00000000 00000000 00000005 00000000" },
        { ZAB_OP_DELETE, "00000002 2f61 000000" },
        { ZAB_OP_EXISTS, "00000002 2f61" },
        { ZAB_OP_ADD_WATCH, "00000002 2f61 0000" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zab_buf scratch = { 0 };
        ck_assert_msg(single_rc(bad[i].opcode, bad[i].hex, &scratch) == ZAB_EMARSHALLING,
                      "case %zu decoded", i);
        /* Refused before anything was allocated for it. */
        ck_assert_uint_eq(scratch.cap, 0);
        zab_buf_free(&scratch);
    }
}
END_TEST

START_TEST(test_decode_huge_counts_allocate_nothing)
{
    /* ACL and op counts are bounded by the bytes that hold them: a count
     * announcing more entries than could fit fails before allocation, and
     * a valid body never needs more scratch than a small multiple of it. */
    zab_buf scratch = { 0 };
    ck_assert_int_eq(single_rc(ZAB_OP_SET_ACL, "00000002 2f61 00000002 " OPEN_ACL " 00000000",
                               &scratch),
                     ZAB_EMARSHALLING);
    ck_assert_uint_eq(scratch.cap, 0);

    /* Many ACL entries: scratch grows by exactly the arrays. */
    char hex[8192] = "00000002 2f61 00000100";
    for (int i = 0; i < 256; i++) strcat(hex, " 00000001 00000000 00000000");
    strcat(hex, " 00000000");
    hexbytes in;
    hex_parse(&in, hex);
    zab_request req;
    ck_assert_int_eq(zab_zk_decode_request(ZAB_OP_SET_ACL, in.b, in.len, &req, &scratch), 0);
    ck_assert_uint_eq(req.ops[0].nacl, 256);
    ck_assert_uint_le(scratch.len, sizeof(zab_op) + 256 * sizeof(zab_acl));
    ck_assert_uint_le(scratch.len, 4 * in.len);
    for (int i = 0; i < 256; i++) {
        ck_assert_int_eq(req.ops[0].acl[i].perms, 1);
        ck_assert_uint_eq(req.ops[0].acl[i].id.scheme.len, 0);
    }

    /* A body longer than any frame can carry is refused unread. */
    ck_assert_int_eq(zab_zk_decode_request(ZAB_OP_PING, in.b, (size_t)INT32_MAX + 1, &req,
                                           &scratch),
                     ZAB_EMARSHALLING);
    zab_buf_free(&scratch);
}
END_TEST

START_TEST(test_decode_scratch_reuse)
{
    /* One scratch serves call after call; each result is complete. */
    zab_buf scratch = { 0 };
    hexbytes a, b;
    hex_parse(&a, C_MULTI);
    hex_parse(&b, C_SET_ACL);
    zab_request req;
    for (int round = 0; round < 3; round++) {
        ck_assert_int_eq(zab_zk_decode_request(ZAB_OP_MULTI, a.b, a.len, &req, &scratch), 0);
        ck_assert_uint_eq(req.nops, 4);
        assert_acl(&req.ops[0].acl[0], ZAB_PERM_ALL, "world", "anyone");
        ck_assert_int_eq(req.ops[3].version, 5);
        ck_assert_int_eq(zab_zk_decode_request(ZAB_OP_SET_ACL, b.b, b.len, &req, &scratch), 0);
        ck_assert_uint_eq(req.nops, 1);
        assert_acl(&req.ops[0].acl[1], ZAB_PERM_READ, "digest", "u:h");
        /* A failure leaves req empty. */
        ck_assert_int_eq(zab_zk_decode_request(ZAB_OP_SET_ACL, b.b, 5, &req, &scratch),
                         ZAB_EMARSHALLING);
        ck_assert_uint_eq(req.nops, 0);
    }
    zab_buf_free(&scratch);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Encoding requests                                                         */
/* ------------------------------------------------------------------------ */

START_TEST(test_encode_matches_clients)
{
    /* decode then encode gives back every captured body byte for byte. */
    for (size_t c = 0; c < NCAPTURES; c++) {
        decoded d = { 0 };
        ck_assert_msg(dec(&d, captures[c].opcode, captures[c].hex) == 0, "capture %zu", c);
        assert_reencodes(&d);
        dec_free(&d);
    }
}
END_TEST

START_TEST(test_encode_from_builders)
{
    /* A request built in memory encodes as the C client would send it. */
    static const zab_acl open[1] = { { ZAB_PERM_ALL, { { "world", 5 }, { "anyone", 6 } } } };
    zab_op op = { 0 };
    op.type = ZAB_OP_CREATE;
    op.path = ZAB_STR("/a");
    op.data = "xy";
    op.data_len = 2;
    op.acl = open;
    op.nacl = 1;
    op.flags = ZAB_EPHEMERAL_SEQUENTIAL;
    op.ttl = -1;
    zab_request req = { .type = ZAB_OP_CREATE, .ops = &op, .nops = 1 };
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_request(&req, &out), 0);
    assert_bytes(&out, C_CREATE);

    /* Appends after what the buffer holds. */
    ck_assert_int_eq(zab_zk_encode_request(&req, &out), 0);
    assert_bytes_from(&out, out.len / 2, C_CREATE);

    /* No list and null data: an empty vector and length -1. */
    op.acl = NULL;
    op.nacl = 0;
    op.data = NULL;
    op.data_len = -1;
    op.flags = 0;
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_request(&req, &out), 0);
    assert_bytes(&out, "00000002 2f61 ffffffff 00000000 00000000");

    /* A multi of the same create and a check. */
    zab_op ops[2] = { op, { 0 } };
    ops[1].type = ZAB_OP_CHECK;
    ops[1].path = ZAB_STR("/a");
    ops[1].version = -1;
    zab_request multi = { .type = ZAB_OP_MULTI, .ops = ops, .nops = 2 };
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_request(&multi, &out), 0);
    assert_bytes(&out, "00000001 00 ffffffff 00000002 2f61 ffffffff 00000000 00000000"
                       " 0000000d 00 ffffffff 00000002 2f61 ffffffff"
                       " ffffffff 01 ffffffff");
    zab_buf_free(&out);
}
END_TEST

START_TEST(test_encode_refuses_bad_requests)
{
    zab_op get = { 0 }, create = { 0 };
    get.type = ZAB_OP_GET_DATA;
    get.path = ZAB_STR("/a");
    create.type = ZAB_OP_CREATE;
    create.path = ZAB_STR("/a");
    zab_op mixed[2] = { create, get };

    zab_buf out = { 0 };
    ck_assert_int_eq(zab_buf_append(&out, "keep", 4), 0);

    zab_request none = { .type = ZAB_OP_GET_DATA, .ops = NULL, .nops = 0 };
    zab_request two = { .type = ZAB_OP_GET_DATA, .ops = mixed, .nops = 2 };
    zab_request other = { .type = ZAB_OP_EXISTS, .ops = &get, .nops = 1 };
    zab_request read_in_multi = { .type = ZAB_OP_MULTI, .ops = mixed, .nops = 2 };
    zab_request write_in_read = { .type = ZAB_OP_MULTI_READ, .ops = mixed, .nops = 1 };
    zab_request auth = { .type = ZAB_OP_AUTH, .ops = &get, .nops = 1 };
    ck_assert_int_eq(zab_zk_encode_request(&none, &out), ZAB_EINVAL);
    ck_assert_int_eq(zab_zk_encode_request(&two, &out), ZAB_EINVAL);
    ck_assert_int_eq(zab_zk_encode_request(&other, &out), ZAB_EINVAL);
    ck_assert_int_eq(zab_zk_encode_request(&read_in_multi, &out), ZAB_EINVAL);
    ck_assert_int_eq(zab_zk_encode_request(&write_in_read, &out), ZAB_EINVAL);
    ck_assert_int_eq(zab_zk_encode_request(&auth, &out), ZAB_EUNIMPLEMENTED);

    /* An ACL count without entries. */
    create.nacl = 1;
    zab_request no_entries = { .type = ZAB_OP_CREATE, .ops = &create, .nops = 1 };
    ck_assert_int_eq(zab_zk_encode_request(&no_entries, &out), ZAB_EINVAL);

    /* Nothing was appended. */
    ck_assert_uint_eq(out.len, 4);
    ck_assert(memcmp(out.data, "keep", 4) == 0);
    zab_buf_free(&out);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Encoding replies                                                          */
/* ------------------------------------------------------------------------ */

/* A Stat whose every field has distinct bytes, and its 68-byte encoding in
 * the reference's order: czxid, mzxid, ctime, mtime, version, cversion,
 * aversion, ephemeralOwner, dataLength, numChildren, pzxid. */
static zab_stat test_stat(void)
{
    zab_stat st;
    st.czxid = 0x0102030405060708;
    st.mzxid = 0x1112131415161718;
    st.ctime = 0x2122232425262728;
    st.mtime = 0x3132333435363738;
    st.version = 0x41424344;
    st.cversion = 0x45464748;
    st.aversion = 0x494a4b4c;
    st.ephemeral_owner = 0x5152535455565758;
    st.data_length = 0x595a5b5c;
    st.num_children = 0x5d5e5f60;
    st.pzxid = 0x6162636465666768;
    return st;
}

#define STAT_HEX                                                  \
    "0102030405060708 1112131415161718 2122232425262728"          \
    " 3132333435363738 41424344 45464748 494a4b4c"                \
    " 5152535455565758 595a5b5c 5d5e5f60 6162636465666768"

static void reply_of(zab_reply *reply, zab_result *res)
{
    memset(reply, 0, sizeof *reply);
    reply->zxid = 42;
    reply->results = res;
    reply->nresults = 1;
}

static zab_result result_of(int32_t type)
{
    zab_result r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.stat = test_stat();
    r.data_len = -1;
    return r;
}

static void assert_reply(int32_t opcode, const zab_reply *reply, const char *hex)
{
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_buf_append(&out, "hdr", 3), 0);
    ck_assert_msg(zab_zk_encode_reply(opcode, reply, &out) == 0, "opcode %d", (int)opcode);
    ck_assert(memcmp(out.data, "hdr", 3) == 0);
    assert_bytes_from(&out, 3, hex);
    zab_buf_free(&out);
}

START_TEST(test_reply_stat_layout)
{
    zab_result res = result_of(ZAB_OP_EXISTS);
    zab_reply reply;
    reply_of(&reply, &res);
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_zk_encode_reply(ZAB_OP_EXISTS, &reply, &out), 0);
    ck_assert_uint_eq(out.len, 68);
    /* The reference's offsets. */
    static const struct {
        size_t at;
        uint8_t first;
    } fields[] = { { 0, 0x01 }, { 8, 0x11 }, { 16, 0x21 }, { 24, 0x31 },
                   { 32, 0x41 }, { 36, 0x45 }, { 40, 0x49 }, { 44, 0x51 },
                   { 52, 0x59 }, { 56, 0x5d }, { 60, 0x61 } };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        ck_assert_uint_eq(out.data[fields[i].at], fields[i].first);
    assert_bytes(&out, STAT_HEX);

    /* Negative fields in two's complement: cversion -1, ephemeralOwner of
     * a session with the high bit set. */
    res.stat = (zab_stat){ 0 };
    res.stat.cversion = -1;
    res.stat.ephemeral_owner = (int64_t)0x8100000000000001ULL;
    out.len = 0;
    ck_assert_int_eq(zab_zk_encode_reply(ZAB_OP_EXISTS, &reply, &out), 0);
    assert_bytes(&out, "0000000000000000 0000000000000000 0000000000000000"
                       " 0000000000000000 00000000 ffffffff 00000000"
                       " 8100000000000001 00000000 00000000 0000000000000000");
    zab_buf_free(&out);
}
END_TEST

START_TEST(test_reply_creates)
{
    zab_result res = result_of(ZAB_OP_CREATE);
    res.path = ZAB_STR("/a0000000007");
    zab_reply reply;
    reply_of(&reply, &res);
    /* CreateResponse: the path only. */
    assert_reply(ZAB_OP_CREATE, &reply, "0000000c 2f61303030303030303030 37");
    /* Create2Response: path and Stat, for create2, createContainer, createTTL. */
    assert_reply(ZAB_OP_CREATE2, &reply, "0000000c 2f61303030303030303030 37 " STAT_HEX);
    assert_reply(ZAB_OP_CREATE_CONTAINER, &reply, "0000000c 2f61303030303030303030 37 " STAT_HEX);
    assert_reply(ZAB_OP_CREATE_TTL, &reply, "0000000c 2f61303030303030303030 37 " STAT_HEX);
}
END_TEST

START_TEST(test_reply_stat_only)
{
    zab_result res = result_of(ZAB_OP_SET_DATA);
    zab_reply reply;
    reply_of(&reply, &res);
    assert_reply(ZAB_OP_EXISTS, &reply, STAT_HEX);
    assert_reply(ZAB_OP_SET_DATA, &reply, STAT_HEX);
    assert_reply(ZAB_OP_SET_ACL, &reply, STAT_HEX);
}
END_TEST

START_TEST(test_reply_get_data)
{
    zab_result res = result_of(ZAB_OP_GET_DATA);
    res.data = "xy";
    res.data_len = 2;
    zab_reply reply;
    reply_of(&reply, &res);
    assert_reply(ZAB_OP_GET_DATA, &reply, "00000002 7879 " STAT_HEX);
    /* Null data goes back as -1, empty data as 0. */
    res.data = NULL;
    res.data_len = -1;
    assert_reply(ZAB_OP_GET_DATA, &reply, "ffffffff " STAT_HEX);
    res.data = "";
    res.data_len = 0;
    assert_reply(ZAB_OP_GET_DATA, &reply, "00000000 " STAT_HEX);
}
END_TEST

START_TEST(test_reply_get_acl)
{
    static const zab_acl acl[2] = {
        { ZAB_PERM_ALL, { { "world", 5 }, { "anyone", 6 } } },
        { ZAB_PERM_READ, { { "digest", 6 }, { "u:h", 3 } } },
    };
    zab_result res = result_of(ZAB_OP_GET_ACL);
    res.acl = acl;
    res.nacl = 2;
    zab_reply reply;
    reply_of(&reply, &res);
    assert_reply(ZAB_OP_GET_ACL, &reply, "00000002 " OPEN_ACL " " DIGEST_READ_ACL " " STAT_HEX);
}
END_TEST

START_TEST(test_reply_children)
{
    static const zab_str names[2] = { { "a", 1 }, { "bc", 2 } };
    zab_result res = result_of(ZAB_OP_GET_CHILDREN);
    res.names = names;
    res.nnames = 2;
    zab_reply reply;
    reply_of(&reply, &res);
    assert_reply(ZAB_OP_GET_CHILDREN, &reply, "00000002 00000001 61 00000002 6263");
    assert_reply(ZAB_OP_GET_CHILDREN2, &reply, "00000002 00000001 61 00000002 6263 " STAT_HEX);
    /* No children: an empty vector. */
    res.names = NULL;
    res.nnames = 0;
    assert_reply(ZAB_OP_GET_CHILDREN, &reply, "00000000");
    assert_reply(ZAB_OP_GET_CHILDREN2, &reply, "00000000 " STAT_HEX);
}
END_TEST

START_TEST(test_reply_sync_ephemerals_count_add_watch)
{
    static const zab_str paths[2] = { { "/e/1", 4 }, { "/e2", 3 } };
    zab_result res = result_of(ZAB_OP_SYNC);
    res.path = ZAB_STR("/s");
    res.names = paths;
    res.nnames = 2;
    res.count = 7;
    zab_reply reply;
    reply_of(&reply, &res);
    /* SyncResponse echoes the path. */
    assert_reply(ZAB_OP_SYNC, &reply, "00000002 2f73");
    /* GetEphemeralsResponse: full paths. */
    assert_reply(ZAB_OP_GET_EPHEMERALS, &reply, "00000002 00000004 2f652f31 00000003 2f6532");
    /* GetAllChildrenNumberResponse: one int. */
    assert_reply(ZAB_OP_GET_ALL_CHILDREN_NUMBER, &reply, "00000007");
    /* addWatch: ErrorResponse(0), 4 bytes. */
    assert_reply(ZAB_OP_ADD_WATCH, &reply, "00000000");
}
END_TEST

START_TEST(test_reply_bare_header_ops)
{
    /* These replies are the ReplyHeader alone, results or not. */
    static const int32_t ops[] = { ZAB_OP_DELETE, ZAB_OP_CHECK, ZAB_OP_PING,
                                   ZAB_OP_CLOSE_SESSION, ZAB_OP_CHECK_WATCHES,
                                   ZAB_OP_REMOVE_WATCHES, ZAB_OP_SET_WATCHES,
                                   ZAB_OP_SET_WATCHES2, ZAB_OP_AUTH,
                                   ZAB_OP_DELETE_CONTAINER };
    zab_result res = result_of(ZAB_OP_DELETE);
    res.path = ZAB_STR("/a");
    zab_reply with, without = { 0 };
    reply_of(&with, &res);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        assert_reply(ops[i], &with, "");
        assert_reply(ops[i], &without, "");
    }
}
END_TEST

START_TEST(test_reply_error_has_no_body)
{
    /* A non-zero ReplyHeader err: clients ignore any body, none is sent. */
    static const int32_t ops[] = { ZAB_OP_GET_DATA, ZAB_OP_CREATE2, ZAB_OP_EXISTS,
                                   ZAB_OP_GET_CHILDREN2, ZAB_OP_MULTI, ZAB_OP_MULTI_READ,
                                   ZAB_OP_WHO_AM_I, ZAB_OP_ADD_WATCH };
    zab_result res = result_of(ZAB_OP_GET_DATA);
    zab_reply reply;
    reply_of(&reply, &res);
    reply.err = ZAB_ENONODE;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) assert_reply(ops[i], &reply, "");
    reply.err = ZAB_EMARSHALLING;
    assert_reply(ZAB_OP_MULTI, &reply, "");
}
END_TEST

START_TEST(test_reply_host_records)
{
    /* whoAmI's ClientInfo list, SASL and reconfig replies are the host's;
     * nothing is appended. */
    static const int32_t ops[] = { ZAB_OP_WHO_AM_I, ZAB_OP_SASL, ZAB_OP_RECONFIG, 0, 99 };
    zab_result res = result_of(ZAB_OP_WHO_AM_I);
    zab_reply reply;
    reply_of(&reply, &res);
    zab_buf out = { 0 };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        ck_assert_int_eq(zab_zk_encode_reply(ops[i], &reply, &out), ZAB_EUNIMPLEMENTED);
        ck_assert_uint_eq(out.len, 0);
    }
    /* A single-op reply needs its result. */
    reply.nresults = 0;
    ck_assert_int_eq(zab_zk_encode_reply(ZAB_OP_GET_DATA, &reply, &out), ZAB_EINVAL);
    ck_assert_uint_eq(out.len, 0);
    zab_buf_free(&out);
}
END_TEST

START_TEST(test_reply_multi_success)
{
    static const zab_str names[1] = { { "c", 1 } };
    zab_result res[5];
    res[0] = result_of(ZAB_OP_CREATE);
    res[0].path = ZAB_STR("/m");
    res[1] = result_of(ZAB_OP_CREATE2);
    res[1].path = ZAB_STR("/n");
    res[2] = result_of(ZAB_OP_DELETE);
    res[3] = result_of(ZAB_OP_SET_DATA);
    res[4] = result_of(ZAB_OP_CHECK);
    res[4].names = names; /* ignored: check has no body */
    zab_reply reply = { .err = 0, .zxid = 9, .results = res, .nresults = 5 };
    assert_reply(ZAB_OP_MULTI, &reply,
                 "00000001 00 00000000 00000002 2f6d"
                 " 0000000f 00 00000000 00000002 2f6e " STAT_HEX
                 " 00000002 00 00000000"
                 " 00000005 00 00000000 " STAT_HEX
                 " 0000000d 00 00000000"
                 " ffffffff 01 ffffffff");
}
END_TEST

START_TEST(test_reply_multi_failed)
{
    /* The reference's observed failed multi: [0, -103, -2], all typed -1,
     * each an ErrorResponse repeating the header's err. */
    zab_result res[3];
    static const int32_t errs[3] = { ZAB_OK, ZAB_EBADVERSION, ZAB_ERUNTIMEINCONSISTENCY };
    for (int i = 0; i < 3; i++) {
        res[i] = result_of(ZAB_OP_ERROR);
        res[i].err = errs[i];
    }
    zab_reply reply = { .err = 0, .zxid = 12, .results = res, .nresults = 3 };
    assert_reply(ZAB_OP_MULTI, &reply,
                 "ffffffff 00 00000000 00000000"
                 " ffffffff 00 ffffff99 ffffff99"
                 " ffffffff 00 fffffffe fffffffe"
                 " ffffffff 01 ffffffff");
}
END_TEST

START_TEST(test_reply_multi_read)
{
    /* The reference's observed multiRead: getData OK and getChildren of a
     * missing node -> [data, ErrorResult -101]. */
    static const zab_str names[2] = { { "x", 1 }, { "y", 1 } };
    zab_result res[3];
    res[0] = result_of(ZAB_OP_GET_DATA);
    res[0].data = "hi";
    res[0].data_len = 2;
    res[1] = result_of(ZAB_OP_ERROR);
    res[1].err = ZAB_ENONODE;
    res[2] = result_of(ZAB_OP_GET_CHILDREN);
    res[2].names = names;
    res[2].nnames = 2;
    zab_reply reply = { .err = 0, .zxid = 3, .results = res, .nresults = 3 };
    assert_reply(ZAB_OP_MULTI_READ, &reply,
                 "00000004 00 00000000 00000002 6869 " STAT_HEX
                 " ffffffff 00 ffffff9b ffffff9b"
                 " 00000008 00 00000000 00000002 00000001 78 00000001 79"
                 " ffffffff 01 ffffffff");
}
END_TEST

START_TEST(test_reply_multi_empty_and_bad)
{
    zab_reply empty = { 0 };
    assert_reply(ZAB_OP_MULTI, &empty, "ffffffff 01 ffffffff");
    assert_reply(ZAB_OP_MULTI_READ, &empty, "ffffffff 01 ffffffff");

    /* A result type no MultiResponse can carry: refused, buffer untouched. */
    zab_result res[2] = { result_of(ZAB_OP_DELETE), result_of(ZAB_OP_EXISTS) };
    zab_reply reply = { .err = 0, .results = res, .nresults = 2 };
    zab_buf out = { 0 };
    ck_assert_int_eq(zab_buf_append(&out, "hdr", 3), 0);
    ck_assert_int_eq(zab_zk_encode_reply(ZAB_OP_MULTI, &reply, &out), ZAB_EINVAL);
    ck_assert_uint_eq(out.len, 3);
    zab_buf_free(&out);
}
END_TEST

static Suite *jute_suite(void)
{
    Suite *s = suite_create("jute");

    TCase *tc = tcase_create("decode");
    tcase_add_test(tc, test_decode_create);
    tcase_add_test(tc, test_decode_create_null_data_two_acls);
    tcase_add_test(tc, test_decode_create_creator_all);
    tcase_add_test(tc, test_decode_create2_empty_data);
    tcase_add_test(tc, test_decode_create_container);
    tcase_add_test(tc, test_decode_create_ttl);
    tcase_add_test(tc, test_decode_acl_vectors);
    tcase_add_test(tc, test_decode_delete_and_check);
    tcase_add_test(tc, test_decode_reads_with_watch);
    tcase_add_test(tc, test_decode_reference_get_data_frame);
    tcase_add_test(tc, test_decode_set_data);
    tcase_add_test(tc, test_decode_acl_ops);
    tcase_add_test(tc, test_decode_path_only_ops);
    tcase_add_test(tc, test_decode_watch_ops);
    tcase_add_test(tc, test_decode_no_body_ops);
    tcase_add_test(tc, test_decode_null_path);
    tcase_add_test(tc, test_decode_trailing_bytes_ignored);
    tcase_add_test(tc, test_decode_unimplemented);
    suite_add_tcase(s, tc);

    tc = tcase_create("multi");
    tcase_add_test(tc, test_decode_multi_c_client);
    tcase_add_test(tc, test_decode_multi_java_container_ttl);
    tcase_add_test(tc, test_decode_multi_create2);
    tcase_add_test(tc, test_decode_multi_read);
    tcase_add_test(tc, test_decode_multi_empty);
    tcase_add_test(tc, test_decode_multi_header_leniency);
    tcase_add_test(tc, test_decode_multi_malformed);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_test(tc, test_decode_every_truncation);
    tcase_add_test(tc, test_decode_bad_lengths);
    tcase_add_test(tc, test_decode_huge_counts_allocate_nothing);
    tcase_add_test(tc, test_decode_scratch_reuse);
    suite_add_tcase(s, tc);

    tc = tcase_create("encode");
    tcase_add_test(tc, test_encode_matches_clients);
    tcase_add_test(tc, test_encode_from_builders);
    tcase_add_test(tc, test_encode_refuses_bad_requests);
    suite_add_tcase(s, tc);

    tc = tcase_create("reply");
    tcase_add_test(tc, test_reply_stat_layout);
    tcase_add_test(tc, test_reply_creates);
    tcase_add_test(tc, test_reply_stat_only);
    tcase_add_test(tc, test_reply_get_data);
    tcase_add_test(tc, test_reply_get_acl);
    tcase_add_test(tc, test_reply_children);
    tcase_add_test(tc, test_reply_sync_ephemerals_count_add_watch);
    tcase_add_test(tc, test_reply_bare_header_ops);
    tcase_add_test(tc, test_reply_error_has_no_body);
    tcase_add_test(tc, test_reply_host_records);
    tcase_add_test(tc, test_reply_multi_success);
    tcase_add_test(tc, test_reply_multi_failed);
    tcase_add_test(tc, test_reply_multi_read);
    tcase_add_test(tc, test_reply_multi_empty_and_bad);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(jute_suite)
