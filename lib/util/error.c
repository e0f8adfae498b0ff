/*
 * error.c - zab_strerror. ZooKeeper's codes are described the way its
 * clients describe them; the library's own codes say what went wrong.
 */
#include "zab.h"

ZAB_API const char *zab_strerror(int code)
{
    switch (code) {
    case ZAB_OK: return "success";
    case ZAB_ESYSTEM: return "system error";
    case ZAB_ERUNTIMEINCONSISTENCY: return "runtime inconsistency";
    case ZAB_EDATAINCONSISTENCY: return "data inconsistency";
    case ZAB_ECONNECTIONLOSS: return "connection loss";
    case ZAB_EMARSHALLING: return "marshalling error";
    case ZAB_EUNIMPLEMENTED: return "operation is unimplemented";
    case ZAB_EOPERATIONTIMEOUT: return "operation timeout";
    case ZAB_EBADARGUMENTS: return "bad arguments";
    case ZAB_EAPI: return "API error";
    case ZAB_ENONODE: return "node does not exist";
    case ZAB_ENOAUTH: return "not authorized";
    case ZAB_EBADVERSION: return "version does not match";
    case ZAB_ENOCHILDRENFOREPHEMERALS: return "ephemeral nodes may not have children";
    case ZAB_ENODEEXISTS: return "node already exists";
    case ZAB_ENOTEMPTY: return "node has children";
    case ZAB_ESESSIONEXPIRED: return "session expired";
    case ZAB_EINVALIDCALLBACK: return "invalid callback";
    case ZAB_EINVALIDACL: return "invalid ACL";
    case ZAB_EAUTHFAILED: return "authentication failed";
    case ZAB_ESESSIONMOVED: return "session moved to another server";
    case ZAB_ENOTREADONLY: return "not a read-only call";
    case ZAB_EEPHEMERALONLOCALSESSION: return "ephemeral node on a local session";
    case ZAB_ENOWATCHER: return "no such watcher";
    case ZAB_EQUOTAEXCEEDED: return "quota exceeded";
    case ZAB_ETHROTTLED: return "request throttled";
    case ZAB_ENOMEM: return "out of memory";
    case ZAB_EINVAL: return "invalid argument";
    case ZAB_ECORRUPT: return "corrupt data";
    case ZAB_ETOOBIG: return "length or count over a limit";
    case ZAB_EIO: return "input/output error";
    case ZAB_EFAILED: return "stopped after an earlier fatal error";
    default: return "unknown error";
    }
}
