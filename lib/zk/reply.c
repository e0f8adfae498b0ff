/*
 * reply.c - the jute response records ZooKeeper sends after a ReplyHeader,
 * one layout per opcode, and the MultiResponse of multi and multiRead.
 */
#include <assert.h>

#include "util/codec.h"

/* Every writer below fails only with ZAB_ENOMEM, so chains of them are
 * joined with || and the caller rolls the buffer back. */

static int put_stat(zab_buf *out, const zab_stat *st)
{
    return zab_put_i64(out, st->czxid) || zab_put_i64(out, st->mzxid) ||
           zab_put_i64(out, st->ctime) || zab_put_i64(out, st->mtime) ||
           zab_put_i32(out, st->version) || zab_put_i32(out, st->cversion) ||
           zab_put_i32(out, st->aversion) || zab_put_i64(out, st->ephemeral_owner) ||
           zab_put_i32(out, st->data_length) || zab_put_i32(out, st->num_children) ||
           zab_put_i64(out, st->pzxid);
}

static int put_names(zab_buf *out, const zab_str *names, uint32_t n)
{
    if (zab_put_i32(out, (int32_t)n)) return 1;
    for (uint32_t i = 0; i < n; i++)
        if (zab_put_str(out, names[i])) return 1;
    return 0;
}

static int put_acls(zab_buf *out, const zab_acl *acl, uint32_t n)
{
    if (zab_put_i32(out, (int32_t)n)) return 1;
    for (uint32_t i = 0; i < n; i++)
        if (zab_put_i32(out, acl[i].perms) || zab_put_str(out, acl[i].id.scheme) ||
            zab_put_str(out, acl[i].id.id))
            return 1;
    return 0;
}

static int put_data(zab_buf *out, const zab_result *res)
{
    return zab_put_blob(out, res->data, res->data_len);
}

/* The body of one result inside a MultiResponse (MultiResponse.serialize):
 * creates made as createContainer or createTTL are reported as create2. */
static int put_multi_result(zab_buf *out, const zab_result *res)
{
    int32_t err = res->type == ZAB_OP_ERROR ? res->err : 0;
    if (zab_put_i32(out, res->type) || zab_put_u8(out, 0) || zab_put_i32(out, err))
        return ZAB_ENOMEM;
    switch (res->type) {
    case ZAB_OP_CREATE:
        return zab_put_str(out, res->path) ? ZAB_ENOMEM : 0;
    case ZAB_OP_CREATE2:
        return zab_put_str(out, res->path) || put_stat(out, &res->stat) ? ZAB_ENOMEM : 0;
    case ZAB_OP_DELETE: case ZAB_OP_CHECK:
        return 0;
    case ZAB_OP_SET_DATA:
        return put_stat(out, &res->stat) ? ZAB_ENOMEM : 0;
    case ZAB_OP_GET_DATA:
        return put_data(out, res) || put_stat(out, &res->stat) ? ZAB_ENOMEM : 0;
    case ZAB_OP_GET_CHILDREN:
        return put_names(out, res->names, res->nnames) ? ZAB_ENOMEM : 0;
    case ZAB_OP_ERROR:
        return zab_put_i32(out, res->err) ? ZAB_ENOMEM : 0;
    default:
        return ZAB_EINVAL; /* no client could read it */
    }
}

static int put_multi(zab_buf *out, const zab_reply *reply)
{
    if (reply->nresults && !reply->results) return ZAB_EINVAL;
    for (uint32_t i = 0; i < reply->nresults; i++) {
        int rc = put_multi_result(out, &reply->results[i]);
        if (rc) return rc;
    }
    if (zab_put_i32(out, -1) || zab_put_u8(out, 1) || zab_put_i32(out, -1))
        return ZAB_ENOMEM;
    return 0;
}

/* The response records of single-op replies (the reference's table of
 * responses); RECORD_HOST marks opcodes whose record is not encoded here:
 * whoAmI's ClientInfo list, SASL tokens, reconfig's data, unknown opcodes. */
enum reply_record {
    RECORD_HOST,
    RECORD_NONE,       /* a bare ReplyHeader */
    RECORD_PATH,       /* CreateResponse, SyncResponse */
    RECORD_PATH_STAT,  /* Create2Response */
    RECORD_STAT,       /* ExistsResponse, SetDataResponse, SetACLResponse */
    RECORD_DATA_STAT,  /* GetDataResponse */
    RECORD_ACL_STAT,   /* GetACLResponse */
    RECORD_NAMES,      /* GetChildrenResponse, GetEphemeralsResponse */
    RECORD_NAMES_STAT, /* GetChildren2Response */
    RECORD_COUNT,      /* GetAllChildrenNumberResponse */
    RECORD_ZERO        /* ErrorResponse(0), addWatch's reply */
};

static enum reply_record record_of(int32_t opcode)
{
    switch (opcode) {
    case ZAB_OP_DELETE: case ZAB_OP_CHECK: case ZAB_OP_PING:
    case ZAB_OP_CLOSE_SESSION: case ZAB_OP_CHECK_WATCHES:
    case ZAB_OP_REMOVE_WATCHES: case ZAB_OP_SET_WATCHES:
    case ZAB_OP_SET_WATCHES2: case ZAB_OP_AUTH: case ZAB_OP_DELETE_CONTAINER:
        return RECORD_NONE;
    case ZAB_OP_CREATE: case ZAB_OP_SYNC:
        return RECORD_PATH;
    case ZAB_OP_CREATE2: case ZAB_OP_CREATE_CONTAINER: case ZAB_OP_CREATE_TTL:
        return RECORD_PATH_STAT;
    case ZAB_OP_EXISTS: case ZAB_OP_SET_DATA: case ZAB_OP_SET_ACL:
        return RECORD_STAT;
    case ZAB_OP_GET_DATA:
        return RECORD_DATA_STAT;
    case ZAB_OP_GET_ACL:
        return RECORD_ACL_STAT;
    case ZAB_OP_GET_CHILDREN: case ZAB_OP_GET_EPHEMERALS:
        return RECORD_NAMES;
    case ZAB_OP_GET_CHILDREN2:
        return RECORD_NAMES_STAT;
    case ZAB_OP_GET_ALL_CHILDREN_NUMBER:
        return RECORD_COUNT;
    case ZAB_OP_ADD_WATCH:
        return RECORD_ZERO;
    default:
        return RECORD_HOST;
    }
}

/* Returns non-zero when memory ran out. */
static int put_record(zab_buf *out, enum reply_record rec, const zab_result *res)
{
    switch (rec) {
    case RECORD_PATH:
        return zab_put_str(out, res->path);
    case RECORD_PATH_STAT:
        return zab_put_str(out, res->path) || put_stat(out, &res->stat);
    case RECORD_STAT:
        return put_stat(out, &res->stat);
    case RECORD_DATA_STAT:
        return put_data(out, res) || put_stat(out, &res->stat);
    case RECORD_ACL_STAT:
        return put_acls(out, res->acl, res->nacl) || put_stat(out, &res->stat);
    case RECORD_NAMES:
        return put_names(out, res->names, res->nnames);
    case RECORD_NAMES_STAT:
        return put_names(out, res->names, res->nnames) || put_stat(out, &res->stat);
    case RECORD_COUNT:
        return zab_put_i32(out, (int32_t)res->count); /* totalNumber is an int */
    case RECORD_ZERO:
        return zab_put_i32(out, 0);
    default:
        assert(0);
        return 0;
    }
}

static int put_reply(int32_t opcode, const zab_reply *reply, zab_buf *out)
{
    if (opcode == ZAB_OP_MULTI || opcode == ZAB_OP_MULTI_READ) return put_multi(out, reply);
    enum reply_record rec = record_of(opcode);
    if (rec == RECORD_HOST) return ZAB_EUNIMPLEMENTED;
    if (rec == RECORD_NONE) return 0;
    if (reply->nresults < 1 || !reply->results) return ZAB_EINVAL;
    return put_record(out, rec, &reply->results[0]) ? ZAB_ENOMEM : 0;
}

int zab_zk_encode_reply(int32_t opcode, const zab_reply *reply, zab_buf *out)
{
    if (reply->err != ZAB_OK) return 0;
    size_t mark = out->len;
    int rc = put_reply(opcode, reply, out);
    if (rc) out->len = mark;
    return rc;
}
