/* op.c - builders for the common operations (they only fill a struct). */
#include "zab.h"

static zab_op op_base(int32_t type, const char *path)
{
    zab_op op = { 0 };
    op.type = type;
    op.path = zab_str_c(path);
    op.data_len = -1;
    op.version = -1;
    op.ttl = -1;
    return op;
}

zab_op zab_op_create(const char *path, const void *data, int32_t len, const zab_acl *acl,
                     uint32_t nacl, int32_t mode)
{
    zab_op op = op_base(ZAB_OP_CREATE, path);
    op.data = data;
    op.data_len = data ? len : -1;
    op.acl = acl;
    op.nacl = nacl;
    op.flags = mode;
    return op;
}

zab_op zab_op_delete(const char *path, int32_t version)
{
    zab_op op = op_base(ZAB_OP_DELETE, path);
    op.version = version;
    return op;
}

zab_op zab_op_set_data(const char *path, const void *data, int32_t len, int32_t version)
{
    zab_op op = op_base(ZAB_OP_SET_DATA, path);
    op.data = data;
    op.data_len = data ? len : -1;
    op.version = version;
    return op;
}

zab_op zab_op_set_acl(const char *path, const zab_acl *acl, uint32_t nacl, int32_t version)
{
    zab_op op = op_base(ZAB_OP_SET_ACL, path);
    op.acl = acl;
    op.nacl = nacl;
    op.version = version;
    return op;
}

zab_op zab_op_check(const char *path, int32_t version)
{
    zab_op op = op_base(ZAB_OP_CHECK, path);
    op.version = version;
    return op;
}

zab_op zab_op_read(int32_t type, const char *path, int32_t watch)
{
    zab_op op = op_base(type, path);
    op.watch = watch;
    return op;
}
