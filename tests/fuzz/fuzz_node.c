/*
 * Fuzz target: a node receiving arbitrary protocol messages from its peers.
 *
 * The input is a script: each record picks a sender, a message type and its
 * fields, and the target encodes it as a well-formed message with the right
 * sequence number (so it reaches the protocol logic, not just the decoder),
 * interleaved with ticks, channel changes and log syncs. Whatever peers say,
 * the node must not crash, must keep its applied zxid from going backwards,
 * and must answer every call with 0 or a clean negative code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg.h"
#include "zab.h"

typedef struct fz {
    const uint8_t *p, *end;
    int64_t appended;
    uint32_t seq[4];
} fz;

static uint64_t take(fz *f, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = v << 8 | (f->p < f->end ? *f->p++ : 0);
    return v;
}

static void fz_send(void *ctx, int64_t to, const void *b, size_t len) { (void)ctx; (void)to; (void)b; (void)len; }
static void fz_disconnect(void *ctx, int64_t to) { (void)ctx; (void)to; }
static int fz_append(void *ctx, const zab_entry *e, size_t n) { ((fz *)ctx)->appended = e[n - 1].zxid; return 0; }
static int fz_truncate(void *ctx, int64_t z) { fz *f = ctx; if (f->appended > z) f->appended = z; return 0; }
static int fz_epochs(void *ctx, int64_t a, int64_t c) { (void)ctx; (void)a; (void)c; return 0; }
static int fz_snapshot(void *ctx, const zab_tree *t) { (void)t; ((fz *)ctx)->appended = 0; return 0; }

/* Fields worth hitting: small numbers near the node's own, and extremes. */
static int64_t pick_zxid(fz *f)
{
    switch (take(f, 1) % 4) {
    case 0: return ZAB_ZXID(take(f, 1) % 4, take(f, 1) % 8);
    case 1: return (int64_t)take(f, 8);
    case 2: return -1;
    default: return ZAB_ZXID(1, take(f, 1));
    }
}

int zab_fuzz_node(const uint8_t *data, size_t len);

int zab_fuzz_node(const uint8_t *data, size_t len)
{
    fz f = { data, data + len, 0, { 0 } };
    zab_member mem[3] = { { 1, 0 }, { 2, 0 }, { 3, 0 } };
    zab_node_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.sid = 1;
    cfg.members = mem;
    cfg.nmembers = 3;
    cfg.tick_ms = 100;
    cfg.max_message = 64 * 1024;
    cfg.snap_chunk = 64;
    zab_io io = { .ctx = &f, .send = fz_send, .disconnect = fz_disconnect, .log_append = fz_append,
                  .log_truncate = fz_truncate, .save_epochs = fz_epochs, .save_snapshot = fz_snapshot };
    zab_node *n = zab_node_new(&cfg, &io, NULL);
    if (!n) return 0;
    zab_node_peer_up(n, 2);
    zab_node_peer_up(n, 3);
    zab_node_start(n, 0);
    int64_t now = 0, applied = 0;
    uint8_t payload[256];
    zab_buf out = { 0 };
    while (f.p < f.end) {
        uint8_t what = (uint8_t)take(&f, 1);
        int64_t from = 2 + (what & 1);
        int rc = 0;
        switch (what >> 5) {
        case 0:
            now += (int64_t)(take(&f, 1) * 10);
            rc = zab_node_tick(n, now);
            break;
        case 1:
            rc = (what & 2) ? zab_node_peer_down(n, from) : zab_node_peer_up(n, from);
            f.seq[from] = 0;
            break;
        case 2:
            rc = zab_node_log_synced(n, f.appended);
            break;
        default: {
            zab_msg m;
            memset(&m, 0, sizeof(m));
            m.type = (uint8_t)(1 + take(&f, 1) % ZAB_MSG_MAX_TYPE);
            m.seq = f.seq[from]++;
            m.state = (int32_t)(take(&f, 1) % 4);
            m.flags = (int32_t)(take(&f, 1) % 4);
            m.err = -(int32_t)take(&f, 1);
            m.leader = (int64_t)(take(&f, 1) % 4);
            m.zxid = pick_zxid(&f);
            m.round = (int64_t)(take(&f, 1) % 4);
            m.epoch = (int64_t)(take(&f, 1) % 4) - 1;
            m.origin = (int64_t)(take(&f, 1) % 4);
            m.cookie = take(&f, 1);
            m.offset = take(&f, 2);
            m.len = (uint32_t)(take(&f, 1) % sizeof(payload));
            for (uint32_t i = 0; i < m.len; i++) payload[i] = (uint8_t)take(&f, 1);
            m.data = payload;
            out.len = 0;
            if (zab_msg_encode(&m, &out)) break;
            rc = zab_node_recv(n, from, out.data, out.len);
            break;
        }
        }
        if (rc > 0) abort();
        zab_node_stats st;
        zab_node_stats_get(n, &st);
        /* A snapshot may replace the tree, but never with an older one. */
        if (st.last_applied < applied) abort();
        applied = st.last_applied;
        if (rc) break; /* stopped: nothing more to drive */
    }
    zab_buf_free(&out);
    zab_node_free(n);
    return 0;
}

#ifdef ZAB_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    return zab_fuzz_node(data, len);
}
#endif
