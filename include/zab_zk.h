/*
 * zab_zk.h - the ZooKeeper client wire protocol (jute): request and reply
 * bodies, and the session layer (handshake, headers, notifications,
 * SetWatches, auth, whoAmI), for a host that serves unmodified ZooKeeper
 * clients. Part of the public API: zab.h includes it, and the conventions
 * stated at the top of zab.h hold here too. The 4-byte frame length is the
 * host's.
 */
#ifndef ZAB_ZK_H
#define ZAB_ZK_H

#include "zab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* The ZooKeeper client wire protocol (jute)                                 */
/* ------------------------------------------------------------------------ */

/* Decode the body of a client request (the bytes after its RequestHeader)
 * for opcode into *req, whose pointers then point into body and into
 * scratch (a caller-owned buffer the decoder reuses; keep both alive while
 * req is used). The session and auth fields of req are left zero for the
 * caller to fill. Returns 0; ZAB_EMARSHALLING for bytes that do not decode;
 * ZAB_EUNIMPLEMENTED for an opcode with no request body to decode here;
 * ZAB_ENOMEM. Allocation is bounded by a small multiple of len. */
ZAB_API int zab_zk_decode_request(int32_t opcode, const void *body, size_t len,
                          zab_request *req, zab_buf *scratch);

/* Append the encoding of a request's body (the inverse of the above; fields
 * an op's record does not carry decode as 0, ttl as -1). Returns 0;
 * ZAB_EINVAL for a request the wire cannot express (a single op whose type
 * differs from req->type, a sub-op of the wrong kind, a length over
 * INT32_MAX, a count with a NULL array); ZAB_EUNIMPLEMENTED for an opcode
 * decoded elsewhere; ZAB_ENOMEM. On error out is unchanged. */
ZAB_API int zab_zk_encode_request(const zab_request *req, zab_buf *out);

/* Append the body of the reply to a request of type opcode (what follows
 * the ReplyHeader): nothing when reply->err is not ZAB_OK, else the response
 * record ZooKeeper sends for that opcode. Returns 0; ZAB_EUNIMPLEMENTED for
 * whoAmI (zab_zk_encode_who_am_i), sasl, reconfig and unknown opcodes;
 * ZAB_EINVAL for a reply with no result for a single op, or a multi result
 * type no client can read; ZAB_ENOMEM. On error out is unchanged. */
ZAB_API int zab_zk_encode_reply(int32_t opcode, const zab_reply *reply, zab_buf *out);

/* ------------------------------------------------------------------------ */
/* The ZooKeeper client session layer (jute)                                 */
/* ------------------------------------------------------------------------ */

/* The records around the request and reply bodies: the connection
 * handshake, the RequestHeader and ReplyHeader, watch notifications, the
 * packets a client sends outside the request pipeline (SetWatches, auth)
 * and whoAmI's response. The server's direction of each record is here and
 * so is its inverse, so that a client or a test can speak to such a server.
 * Framing (the 4-byte length in front of every frame) is the caller's.
 *
 * Decoders read untrusted bytes, never past len, and allocate nothing
 * sized by a field they have not checked. Their outputs point into the
 * bytes (and, for SetWatches, into scratch): keep those alive while the
 * output is used. On error the output is zeroed. Bytes after a complete
 * record are ignored, as ZooKeeper ignores them. Encoders append to out
 * and leave it unchanged on error. Nothing keeps state: calls that share
 * no buffer may run on any threads at once. */

/* The xids that mark packets outside the request order. */
enum {
    ZAB_XID_NOTIFICATION = -1, /* a watch event, server to client */
    ZAB_XID_PING = -2,
    ZAB_XID_AUTH = -4,
    ZAB_XID_SET_WATCHES = -8
};

/* ConnectRequest: the first frame a client sends. */
typedef struct zab_zk_connect {
    int32_t protocol_version;  /* 0 from every client; not checked */
    int64_t last_zxid_seen;    /* the highest zxid the client has seen */
    int32_t timeout;           /* requested session timeout, ms */
    int64_t session;           /* 0: a new session; else the one to resume */
    const uint8_t *passwd;     /* passwd_len bytes; NULL for a null buffer */
    int32_t passwd_len;        /* 16 from every client (zeros for a new
                                  session); any length decodes, as ZooKeeper
                                  takes it: one that is not the session's 16
                                  bytes is a wrong password. -1: null */
    int read_only;             /* the client accepts a read-only server */
    int has_read_only;         /* the readOnly byte was there (clients before
                                  3.4 omit it): the reply must mirror this */
} zab_zk_connect;

/* Decode a ConnectRequest (a frame's payload). Returns 0;
 * ZAB_EMARSHALLING for bytes that end before the password does (ZooKeeper
 * closes the connection). */
ZAB_API int zab_zk_decode_connect(const void *body, size_t len, zab_zk_connect *req);
/* Append a ConnectRequest: the readOnly byte only with has_read_only, a
 * NULL passwd as a null buffer. 0; ZAB_EINVAL (passwd_len > 0 with a NULL
 * passwd); ZAB_ENOMEM. */
ZAB_API int zab_zk_encode_connect(const zab_zk_connect *req, zab_buf *out);

/* ConnectResponse: the first frame the server sends. An expired, unknown
 * or wrongly authenticated session is answered with timeout 0, session 0
 * and a zero password (all fields zero), after which ZooKeeper closes the
 * connection. */
typedef struct zab_zk_connect_reply {
    int32_t protocol_version;  /* 0 */
    int32_t timeout;           /* negotiated session timeout, ms */
    int64_t session;
    uint8_t passwd[16];        /* always 16 bytes on the wire: the C client
                                  reads exactly that */
    int read_only;             /* this server is read-only */
    int has_read_only;         /* write the readOnly byte: copy it from the
                                  request's has_read_only */
} zab_zk_connect_reply;

/* Append a ConnectResponse (36 bytes, or 37 with the readOnly byte).
 * 0 or ZAB_ENOMEM. */
ZAB_API int zab_zk_encode_connect_reply(const zab_zk_connect_reply *rsp, zab_buf *out);
/* Decode one. 0; ZAB_EMARSHALLING for bytes too short or a password that
 * is not 16 bytes. */
ZAB_API int zab_zk_decode_connect_reply(const void *body, size_t len, zab_zk_connect_reply *rsp);

/* RequestHeader (xid, opcode) at the front of every later client frame;
 * *body_at is where the body starts (the bytes for zab_zk_decode_request
 * are body + *body_at, len - *body_at). 0; ZAB_EMARSHALLING for fewer than
 * 8 bytes. */
ZAB_API int zab_zk_decode_request_header(const void *payload, size_t len, int32_t *xid,
                                         int32_t *opcode, size_t *body_at);
/* 0 or ZAB_ENOMEM. */
ZAB_API int zab_zk_encode_request_header(int32_t xid, int32_t opcode, zab_buf *out);

/* ReplyHeader (xid, zxid, err) at the front of every later server frame:
 * the request's xid, the server's last zxid (a write's own), and 0 or
 * ZooKeeper's code, after which zab_zk_encode_reply appends any body. A
 * ping is answered with the header alone: (ZAB_XID_PING, last zxid, 0); an
 * auth packet with (ZAB_XID_AUTH, 0, 0 or ZAB_EAUTHFAILED). 0 or
 * ZAB_ENOMEM. */
ZAB_API int zab_zk_encode_reply_header(int32_t xid, int64_t zxid, int32_t err, zab_buf *out);
/* 0; ZAB_EMARSHALLING for fewer than 16 bytes. */
ZAB_API int zab_zk_decode_reply_header(const void *payload, size_t len, int32_t *xid,
                                       int64_t *zxid, int32_t *err, size_t *body_at);

/* Append a whole notification frame's payload: ReplyHeader(xid -1,
 * ev->zxid, err 0), then WatcherEvent(ev->type, ev->state, ev->path).
 * ev->zxid as the tree reports it is what ZooKeeper 3.9 sends (the
 * triggering transaction, -1 for an event replayed by SetWatches); 3.8
 * sends -1 for every event. Clients accept either. 0; ZAB_EINVAL (a path
 * longer than a jute int); ZAB_ENOMEM. */
ZAB_API int zab_zk_encode_event(const zab_event *ev, zab_buf *out);
/* Decode a notification frame's payload into *ev (path borrowed from the
 * bytes). 0; ZAB_EMARSHALLING for bytes too short or an xid other than -1. */
ZAB_API int zab_zk_decode_event(const void *payload, size_t len, zab_event *ev);

/* SetWatches (opcode 101: data, exist and child lists) and SetWatches2
 * (105: also persistent and persistent-recursive), which a reconnecting
 * client sends with ZAB_XID_SET_WATCHES. The lists are indexed by
 * ZAB_SETWATCH_* kind, as zab_tree_set_watches and zab_client_set_watches
 * take them; the two a 101 does not carry are empty. An empty list has
 * paths NULL. */
enum { ZAB_SETWATCH_KINDS = 5 };
typedef struct zab_zk_set_watches {
    int64_t relative_zxid;     /* the client's last seen zxid */
    const zab_str *paths[ZAB_SETWATCH_KINDS];
    uint32_t npaths[ZAB_SETWATCH_KINDS];
} zab_zk_set_watches;

/* Decode the body of a SetWatches (opcode ZAB_OP_SET_WATCHES) or
 * SetWatches2 (ZAB_OP_SET_WATCHES2). Paths point into body; the arrays are
 * built in scratch (a caller-owned buffer the decoder empties and reuses,
 * at most 4 x len bytes of zab_str). Returns 0; ZAB_EMARSHALLING for bytes
 * that do not decode, including a null list or path (count or length -1:
 * no client sends one, and ZooKeeper fails the request with
 * ZAB_EMARSHALLING); ZAB_EINVAL for another opcode; ZAB_ENOMEM. */
ZAB_API int zab_zk_decode_set_watches(int32_t opcode, const void *body, size_t len,
                                      zab_zk_set_watches *sw, zab_buf *scratch);
/* Append one (the inverse). 0; ZAB_EINVAL for another opcode, a 101 with
 * persistent paths, a count or length past a jute int, a NULL array with
 * a count or a path with a NULL ptr; ZAB_ENOMEM. */
ZAB_API int zab_zk_encode_set_watches(int32_t opcode, const zab_zk_set_watches *sw,
                                      zab_buf *out);

/* AuthPacket (opcode 100, sent with ZAB_XID_AUTH): scheme "digest" with
 * auth "user:password" (zab_digest_id makes the identity), or any scheme
 * the server knows. A NULL ptr stands for jute's null. */
typedef struct zab_zk_auth {
    int32_t type;              /* 0 from every client; ZooKeeper ignores it */
    zab_str scheme;
    zab_str auth;              /* the credential bytes */
} zab_zk_auth;

/* Decode an auth packet's body. 0; ZAB_EMARSHALLING for bytes that do not
 * decode (ZooKeeper closes the connection). */
ZAB_API int zab_zk_decode_auth(const void *body, size_t len, zab_zk_auth *auth);
/* 0; ZAB_EINVAL (a length past a jute int); ZAB_ENOMEM. */
ZAB_API int zab_zk_encode_auth(const zab_zk_auth *auth, zab_buf *out);

/* Append whoAmI's response body (WhoAmIResponse): one ClientInfo per
 * identity of the connection, in order, holding the scheme and the user
 * name ZooKeeper reports for it: a digest id up to its first ':', any
 * other id whole. (ZooKeeper lists a super user's extra identity as
 * super with an empty id; a host that wants the same output includes it.)
 * 0; ZAB_EINVAL (a count or length past a jute int, a NULL array with a
 * count); ZAB_ENOMEM. */
ZAB_API int zab_zk_encode_who_am_i(const zab_id *ids, uint32_t nids, zab_buf *out);

#ifdef __cplusplus
}
#endif
#endif /* ZAB_ZK_H */
