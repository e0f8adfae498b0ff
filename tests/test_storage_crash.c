/*
 * File storage under real process crashes. A child process runs a
 * single-member node on the storage, keeps writes in flight and reports
 * every acknowledged one through a pipe; the parent SIGKILLs it at a seeded
 * random moment, recovers the directory with a new node and checks that
 * every acknowledged write is there with its data, that what survived is a
 * prefix of what was submitted, and that the log ends clean (any torn
 * record at its tail was cut).
 *
 * Each iteration runs ROUNDS children on the same directory, so recovery
 * also starts from a directory an earlier recovery left. Some rounds leave
 * a torn record behind the last one before recovery (what a power cut in
 * the middle of a write leaves), which recovery must cut.
 *
 * ZAB_CRASH_ITERATIONS overrides the number of iterations (e.g. for soak
 * runs or valgrind); ZAB_CRASH_SEED the first seed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "helpers/tmpdir.h"
#include "sim/rng.h"
#include "util/codec.h"
#include "util/prim.h"
#include "zab.h"

enum {
    ITERATIONS = 30,
    ROUNDS = 2,
    IN_FLIGHT = 48,           /* writes the child keeps submitted */
    SNAP_EVERY = 150,         /* acknowledged writes between snapshots */
    SEGMENT_BYTES = 8192,     /* small, so segments roll and get purged */
    MAX_KILL_AFTER = 3000,    /* acknowledgements read before the kill, at most */
    CHILD_SILENCE_MS = 10000, /* a child that acknowledges nothing this long is stuck */
    LEAD_TIMEOUT_MS = 10000,
    SEG_HEADER = 64,
    REC_HEADER = 16
};

static const uint32_t BASE_SEED = 0x5eed0001u;

/* One acknowledged write, as the child sends it. */
typedef struct ack {
    uint32_t round;
    uint32_t index;
    int64_t zxid;
} ack;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the host: a node on file storage, driven by a poll loop ---- */

typedef struct host {
    zab_storage *s;
    zab_node *node;
    int ack_fd;            /* child: where acknowledgements go; -1 otherwise */
    int role;
    uint32_t round;
    uint32_t next;         /* the next write's index */
    uint32_t in_flight;
    uint64_t acked;
    uint64_t next_snap;
} host;

static void h_send(void *ctx, int64_t to, const void *bytes, size_t len)
{
    (void)ctx, (void)to, (void)bytes, (void)len;
}

static void h_disconnect(void *ctx, int64_t to)
{
    (void)ctx, (void)to;
}

static int h_append(void *ctx, const zab_entry *e, size_t n)
{
    return zab_storage_append(((host *)ctx)->s, e, n);
}

static int h_truncate(void *ctx, int64_t zxid)
{
    return zab_storage_truncate(((host *)ctx)->s, zxid);
}

static int h_epochs(void *ctx, int64_t accepted, int64_t current)
{
    return zab_storage_save_epochs(((host *)ctx)->s, accepted, current);
}

static int h_snapshot(void *ctx, const zab_tree *tree)
{
    return zab_storage_save_snapshot(((host *)ctx)->s, tree);
}

static void h_result(void *ctx, uint64_t cookie, const zab_reply *reply)
{
    host *h = ctx;
    h->in_flight--;
    if (reply->err != ZAB_OK || h->ack_fd < 0) return;
    h->acked++;
    ack a = { (uint32_t)(cookie >> 32), (uint32_t)cookie, reply->zxid };
    /* Smaller than PIPE_BUF, so the write is atomic. */
    if (write(h->ack_fd, &a, sizeof a) != (ssize_t)sizeof a) _exit(5);
}

static void h_role(void *ctx, int role, int64_t leader, int64_t epoch)
{
    (void)leader, (void)epoch;
    ((host *)ctx)->role = role;
}

/* Open the storage in dir, build a node from what it recovered and start
 * it. 0, or a code with a description in err. */
static int host_open(host *h, const char *dir, char *err, size_t errlen)
{
    zab_storage_config sc = { .dir = dir, .segment_bytes = SEGMENT_BYTES, .snap_retain = 2 };
    int rc = zab_storage_open(&sc, &h->s, err, errlen);
    if (rc) return rc;
    zab_member self = { 1, 0 };
    zab_node_config nc = {
        .sid = 1, .members = &self, .nmembers = 1,
        .tick_ms = 50, .sync_limit = 40, .finalize_wait_ms = 5,
        .tree = { .hash_seed = 7 },
    };
    zab_io io = {
        .ctx = h, .send = h_send, .disconnect = h_disconnect,
        .log_append = h_append, .log_truncate = h_truncate,
        .save_epochs = h_epochs, .save_snapshot = h_snapshot,
        .on_result = h_result, .on_role = h_role,
    };
    zab_node_state st;
    zab_storage_state(h->s, &st);
    h->role = ZAB_LOOKING;
    h->node = zab_node_new(&nc, &io, &st);
    if (!h->node) {
        snprintf(err, errlen, "zab_node_new failed");
        return ZAB_ENOMEM;
    }
    rc = zab_storage_restore(h->s, h->node);
    if (rc) {
        snprintf(err, errlen, "zab_storage_restore: %s", zab_strerror(rc));
        return rc;
    }
    rc = zab_node_start(h->node, now_ms());
    if (rc) snprintf(err, errlen, "zab_node_start: %s", zab_strerror(rc));
    return rc;
}

static void host_close(host *h)
{
    if (h->node) zab_node_free(h->node);
    if (h->s) zab_storage_close(h->s);
    h->node = NULL;
    h->s = NULL;
}

/* One pass of the poll loop: wait for the storage (at most until the
 * node's next deadline), report what is durable, fire due timers. 0, or
 * the code that stopped the node or the storage. */
static int host_step(host *h, int max_wait_ms)
{
    int64_t now = now_ms();
    int64_t due = zab_node_next_deadline(h->node);
    int64_t wait = due <= now ? 0 : due - now;
    if (wait > max_wait_ms) wait = max_wait_ms;
    struct pollfd p = { zab_storage_fd(h->s), POLLIN, 0 };
    if (poll(&p, 1, (int)wait) < 0 && errno != EINTR) return ZAB_EIO;
    int rc = zab_node_log_synced(h->node, zab_storage_synced(h->s));
    if (!rc && zab_node_next_deadline(h->node) <= now_ms()) rc = zab_node_tick(h->node, now_ms());
    if (!rc) rc = zab_storage_status(h->s);
    return rc;
}

/* ---- the child: write until killed ---- */

static void key_path(char *out, size_t cap, uint32_t round, uint32_t create_index)
{
    snprintf(out, cap, "/r%uk%u", (unsigned)round, (unsigned)create_index);
}

/* Write i: even ones create /r<round>k<i>, odd ones set the node the
 * previous write created, so every value tells which write put it there. */
static int submit_write(host *h)
{
    uint32_t i = h->next;
    char path[32], data[32];
    key_path(path, sizeof path, h->round, i & ~1u);
    int len = snprintf(data, sizeof data, "%c%u.%u", i % 2 ? 's' : 'c', (unsigned)h->round,
                       (unsigned)i);
    zab_op op = i % 2 ? zab_op_set_data(path, data, len, -1)
                      : zab_op_create(path, data, len, zab_acl_open, 1, ZAB_PERSISTENT);
    zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
    int rc = zab_node_submit(h->node, &req, (uint64_t)h->round << 32 | i);
    if (rc == 0) {
        h->next++;
        h->in_flight++;
    }
    return rc;
}

static void child_fail(const char *what, int rc)
{
    fprintf(stderr, "crash child: %s: %s\n", what, zab_strerror(rc));
    _exit(3);
}

static void child_run(const char *dir, uint32_t round, int ack_fd)
{
    host h = { .ack_fd = ack_fd, .round = round, .next_snap = SNAP_EVERY };
    char err[256] = "";
    int rc = host_open(&h, dir, err, sizeof err);
    if (rc) {
        fprintf(stderr, "crash child: open: %s (%s)\n", zab_strerror(rc), err);
        _exit(3);
    }
    for (;;) {
        while (h.role == ZAB_LEADING && h.in_flight < IN_FLIGHT) {
            rc = submit_write(&h);
            if (rc == ZAB_ECONNECTIONLOSS || rc == ZAB_ETHROTTLED) break;
            if (rc) child_fail("submit", rc);
        }
        rc = host_step(&h, 20);
        if (rc) child_fail("step", rc);
        if (h.acked >= h.next_snap) {
            h.next_snap += SNAP_EVERY;
            rc = zab_storage_snapshot(h.s, zab_node_tree(h.node));
            if (rc) child_fail("snapshot", rc);
        }
    }
}

/* ---- reading the log as zab-storage(7) lays it out ---- */

typedef struct dir_list {
    char **names;
    size_t n;
} dir_list;

static void list_free(dir_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory's entries named prefix + 16 hex digits, sorted (so in
 * numeric order); temporary files are left out. */
static dir_list list_dir(const char *dir, const char *prefix)
{
    dir_list l = { NULL, 0 };
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t plen = strlen(prefix);
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, prefix, plen) != 0 || strlen(e->d_name) != plen + 16 ||
            strspn(e->d_name + plen, "0123456789abcdef") != 16)
            continue;
        l.names = realloc(l.names, (l.n + 1) * sizeof *l.names);
        ck_assert_ptr_nonnull(l.names);
        l.names[l.n] = strdup(e->d_name);
        ck_assert_ptr_nonnull(l.names[l.n]);
        l.n++;
    }
    closedir(d);
    if (l.n) qsort(l.names, l.n, sizeof *l.names, cmp_names);
    return l;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    ck_assert_ptr_nonnull(buf);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
        ck_assert_msg(r > 0, "read %s", path);
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return buf;
}

/* Where one segment's records end: the offset of the first length field
 * that reads zero (or of the first record that fails its CRC, which then
 * is returned through *bad), and the zxid of the last good record (0 when
 * none). */
typedef struct seg_scan {
    size_t end;
    int64_t last_zxid;
    size_t records;
    int bad;
} seg_scan;

static seg_scan scan_segment(const uint8_t *buf, size_t len)
{
    seg_scan sc = { SEG_HEADER, 0, 0, 0 };
    zab_reader hr = zab_reader_init(buf, len);
    const uint8_t *magic = zab_get_bytes(&hr, 8);
    ck_assert_msg(magic && memcmp(magic, "ZABLOG\0\1", 8) == 0, "segment magic");
    (void)zab_get_bytes(&hr, 24); /* version, reserved, seq, prev_zxid */
    uint32_t hcrc = zab_get_u32(&hr);
    ck_assert_msg(!hr.err && hcrc == zab_crc32c(0, buf, 32), "segment header crc");
    while (sc.end + 4 <= len) {
        zab_reader r = zab_reader_init(buf + sc.end, len - sc.end);
        uint32_t rlen = zab_get_u32(&r);
        if (rlen == 0) break;
        int64_t zxid = zab_get_i64(&r);
        uint32_t crc = zab_get_u32(&r);
        const uint8_t *body = zab_get_bytes(&r, rlen);
        if (r.err || crc != zab_crc32c(zab_crc32c(0, buf + sc.end, 12), body, rlen)) {
            sc.bad = 1;
            break;
        }
        sc.last_zxid = zxid;
        sc.records++;
        sc.end += REC_HEADER + rlen;
    }
    return sc;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static void path_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    ck_assert(n > 0 && (size_t)n < cap);
}

/* Leave a torn record after the last one of the newest segment, as a
 * write cut short by power loss would: a record header whose body is only
 * partly there (or a few bytes of garbage), zeros after it. 0 when there
 * was no room. */
static int tear_tail(const char *dir, zab_sim_rng *rng)
{
    dir_list segs = list_dir(dir, "log.");
    if (!segs.n) return 0;
    char path[512];
    path_join(path, sizeof path, dir, segs.names[segs.n - 1]);
    list_free(&segs);
    size_t len;
    uint8_t *buf = read_file(path, &len);
    seg_scan sc = scan_segment(buf, len);
    ck_assert_msg(!sc.bad, "%s damaged before any tearing", path);
    free(buf);
    if (len - sc.end < 96) return 0;
    uint8_t junk[64];
    size_t n;
    if (zab_sim_rng_next(rng) % 2) {
        /* A whole record header, 40 bytes announced, 9 of them written. */
        zab_buf b = { 0 };
        zab_put_u32(&b, 40);
        zab_put_i64(&b, sc.last_zxid + 1);
        zab_put_u32(&b, 0);
        for (int i = 0; i < 9; i++) zab_put_u8(&b, (uint8_t)zab_sim_rng_next(rng));
        uint8_t full[40 + REC_HEADER] = { 0 };
        memcpy(full, b.data, b.len);
        uint32_t crc = zab_crc32c(zab_crc32c(0, full, 12), full + REC_HEADER, 40) ^ 1u;
        uint8_t c[4] = { (uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc };
        memcpy(b.data + 12, c, 4);
        memcpy(junk, b.data, b.len);
        n = b.len;
        zab_buf_free(&b);
    } else {
        /* Garbage no longer than a record header: whatever length it
         * announces, the record runs into zeros. */
        n = (size_t)zab_sim_rng_range(rng, 4, REC_HEADER);
        for (size_t i = 0; i < n; i++) junk[i] = (uint8_t)zab_sim_rng_next(rng);
        junk[0] |= 1;
    }
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, junk, n, (off_t)sc.end), (ssize_t)n);
    close(fd);
    return 1;
}

/* The newest snapshot (by its header) and the lowest segment it needs;
 * 0 and floor 1 when there is none. Segments below the floor are stale:
 * purging deletes them, but a crash may stop it half way, in any order. */
static int64_t newest_snapshot(const char *dir, uint64_t *floor)
{
    dir_list snaps = list_dir(dir, "snap.");
    int64_t zxid = 0;
    *floor = 1;
    for (size_t i = snaps.n; i-- > 0 && !zxid;) {
        char path[512];
        path_join(path, sizeof path, dir, snaps.names[i]);
        size_t len;
        uint8_t *buf = read_file(path, &len);
        zab_reader r = zab_reader_init(buf, len);
        const uint8_t *magic = zab_get_bytes(&r, 8);
        (void)zab_get_bytes(&r, 8); /* version, reserved */
        int64_t z = zab_get_i64(&r);
        uint64_t f = zab_get_u64(&r);
        (void)zab_get_u64(&r); /* body length */
        uint32_t crc = zab_get_u32(&r);
        if (!r.err && memcmp(magic, "ZABSNAPF", 8) == 0 && crc == zab_crc32c(0, buf, 40)) {
            zxid = z;
            *floor = f;
        }
        free(buf);
    }
    list_free(&snaps);
    return zxid;
}

/* After recovery: from the newest snapshot's floor on, the segments are
 * numbered without a gap, every one parses, the first starts no later
 * than the snapshot, each later one where the one before it ended, and
 * the newest has nothing but zeros after its last record. Returns the
 * last logged zxid (0 when there is no segment). */
static int64_t check_log_clean(const char *dir, uint32_t seed)
{
    uint64_t floor;
    int64_t snap = newest_snapshot(dir, &floor);
    dir_list segs = list_dir(dir, "log.");
    int64_t last = 0;
    uint64_t expect_seq = 0;
    for (size_t i = 0; i < segs.n; i++) {
        uint64_t seq = strtoull(segs.names[i] + 4, NULL, 16);
        if (seq < floor) continue;
        char path[512];
        path_join(path, sizeof path, dir, segs.names[i]);
        size_t len;
        uint8_t *buf = read_file(path, &len);
        seg_scan sc = scan_segment(buf, len);
        zab_reader r = zab_reader_init(buf + 16, 16);
        uint64_t hseq = zab_get_u64(&r);
        int64_t prev = zab_get_i64(&r);
        ck_assert_msg(hseq == seq, "seed %u: %s holds seq %" PRIu64, seed, segs.names[i], hseq);
        if (expect_seq) {
            ck_assert_msg(seq == expect_seq, "seed %u: log.%016" PRIx64 " is missing", seed,
                          expect_seq);
            ck_assert_msg(prev == last, "seed %u: %s starts after 0x%" PRIx64 ", not 0x%" PRIx64,
                          seed, segs.names[i], (uint64_t)prev, (uint64_t)last);
        } else {
            ck_assert_msg(prev <= snap,
                          "seed %u: %s starts after 0x%" PRIx64 ", past the snapshot at 0x%" PRIx64,
                          seed, segs.names[i], (uint64_t)prev, (uint64_t)snap);
        }
        expect_seq = seq + 1;
        ck_assert_msg(!sc.bad, "seed %u: %s has a bad record at offset %zu after recovery", seed,
                      segs.names[i], sc.end);
        if (i + 1 == segs.n)
            ck_assert_msg(all_zero(buf + sc.end, len - sc.end),
                          "seed %u: %s has garbage after its last record (offset %zu)", seed,
                          segs.names[i], sc.end);
        last = sc.records ? sc.last_zxid : prev;
        free(buf);
    }
    list_free(&segs);
    return last;
}

/* ---- the parent: recover and check ---- */

typedef struct acks {
    ack *v;
    size_t n, cap;
} acks;

static void acks_push(acks *a, const ack *x)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 1024;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        ck_assert_ptr_nonnull(a->v);
    }
    a->v[a->n++] = *x;
}

/* The data of path in tree into buf; the read's error code. */
static int get_data(zab_tree *tree, const char *path, char *buf, size_t cap)
{
    zab_op op = zab_op_read(ZAB_OP_GET_DATA, path, 0);
    zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
    zab_reply rep;
    int rc = zab_tree_read(tree, &req, &rep);
    if (rc) return rc;
    int32_t n = rep.results[0].data_len;
    ck_assert(n >= 0 && (size_t)n < cap);
    memcpy(buf, rep.results[0].data, (size_t)n);
    buf[n] = 0;
    return 0;
}

/* Which creates of each round exist: they must be exactly 0, 2, ..., an
 * unbroken prefix of what the child submitted (the log is a prefix). */
static void check_prefix(zab_tree *tree, uint32_t rounds, uint32_t seed)
{
    zab_op op = zab_op_read(ZAB_OP_GET_CHILDREN, "/", 0);
    zab_request req = { .type = op.type, .ops = &op, .nops = 1 };
    zab_reply rep;
    ck_assert_int_eq(zab_tree_read(tree, &req, &rep), 0);
    uint64_t count[ROUNDS] = { 0 };
    uint64_t sum[ROUNDS] = { 0 };
    uint32_t max[ROUNDS] = { 0 };
    for (uint32_t i = 0; i < rep.results[0].nnames; i++) {
        zab_str name = rep.results[0].names[i];
        char s[64];
        unsigned r, k;
        if (name.len >= sizeof s) continue;
        memcpy(s, name.ptr, name.len);
        s[name.len] = 0;
        if (sscanf(s, "r%uk%u", &r, &k) != 2) continue;
        ck_assert_msg(r < rounds && k % 2 == 0, "seed %u: unexpected node /%s", seed, s);
        count[r]++;
        sum[r] += k;
        if (k > max[r]) max[r] = k;
    }
    for (uint32_t r = 0; r < rounds; r++) {
        if (!count[r]) continue;
        /* Distinct even keys whose count and sum are those of 0..max. */
        uint64_t m = max[r] / 2 + 1;
        ck_assert_msg(count[r] == m && sum[r] == m * (m - 1),
                      "seed %u: round %u left %" PRIu64 " creates up to /r%uk%u: a hole", seed,
                      (unsigned)r, count[r], (unsigned)r, (unsigned)max[r]);
    }
}

/* Has write index of round been acknowledged? (acks of one round arrive in
 * order, so a binary search would do; the lists are small.) */
static int acked(const acks *a, uint32_t round, uint32_t index)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].round == round && a->v[i].index == index) return 1;
    return 0;
}

static void check_acks(zab_tree *tree, const acks *a, uint32_t seed)
{
    for (size_t i = 0; i < a->n; i++) {
        const ack *x = &a->v[i];
        char path[32], data[64], want[32], alt[32];
        key_path(path, sizeof path, x->round, x->index & ~1u);
        int rc = get_data(tree, path, data, sizeof data);
        ck_assert_msg(rc == 0, "seed %u: acknowledged write %u of round %u (zxid 0x%" PRIx64
                      ") lost: %s is missing", seed, (unsigned)x->index, (unsigned)x->round,
                      (uint64_t)x->zxid, path);
        uint32_t create = x->index & ~1u;
        snprintf(want, sizeof want, "s%u.%u", (unsigned)x->round, (unsigned)(create + 1));
        snprintf(alt, sizeof alt, "c%u.%u", (unsigned)x->round, (unsigned)create);
        int set_acked = x->index % 2 || acked(a, x->round, create + 1);
        if (set_acked)
            ck_assert_msg(strcmp(data, want) == 0, "seed %u: %s holds \"%s\", acknowledged \"%s\"",
                          seed, path, data, want);
        else
            ck_assert_msg(strcmp(data, want) == 0 || strcmp(data, alt) == 0,
                          "seed %u: %s holds \"%s\", written \"%s\"", seed, path, data, alt);
    }
}

/* Recover dir with a new node, let it lead alone, check every
 * acknowledged write and the shape of the log. */
static void recover_and_check(const char *dir, const acks *a, uint32_t rounds, uint32_t seed)
{
    host h = { .ack_fd = -1 };
    char err[256] = "";
    int rc = host_open(&h, dir, err, sizeof err);
    ck_assert_msg(rc == 0, "seed %u: recovery failed: %s (%s)", seed, zab_strerror(rc), err);
    int64_t deadline = now_ms() + LEAD_TIMEOUT_MS;
    zab_node_stats st;
    for (;;) {
        rc = host_step(&h, 10);
        ck_assert_msg(rc == 0, "seed %u: recovered node stopped: %s", seed, zab_strerror(rc));
        zab_node_stats_get(h.node, &st);
        if (h.role == ZAB_LEADING && st.last_applied >= st.last_logged) break;
        ck_assert_msg(now_ms() < deadline, "seed %u: recovered node never led (role %d)", seed,
                      h.role);
    }
    int64_t max_ack = 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].zxid > max_ack) max_ack = a->v[i].zxid;
    ck_assert_msg(st.last_applied >= max_ack,
                  "seed %u: recovered to 0x%" PRIx64 ", acknowledged up to 0x%" PRIx64, seed,
                  (uint64_t)st.last_applied, (uint64_t)max_ack);
    zab_tree *tree = zab_node_tree(h.node);
    check_acks(tree, a, seed);
    check_prefix(tree, rounds, seed);
    int64_t logged = st.last_logged;
    host_close(&h);
    int64_t last = check_log_clean(dir, seed);
    ck_assert_msg(last == 0 || last == logged,
                  "seed %u: the log ends at 0x%" PRIx64 ", the node logged up to 0x%" PRIx64, seed,
                  (uint64_t)last, (uint64_t)logged);
}

/* Read acknowledgements from fd into a until want arrived (1), or (with
 * want SIZE_MAX) until the child is gone (0); -1 when the child went
 * silent for CHILD_SILENCE_MS. */
static int read_acks(int fd, acks *a, size_t want, uint8_t *part, size_t *npart)
{
    int64_t silent_since = now_ms();
    while (a->n < want) {
        struct pollfd p = { fd, POLLIN, 0 };
        int pr = poll(&p, 1, 100);
        if (pr < 0 && errno == EINTR) continue;
        ck_assert_int_ge(pr, 0);
        if (pr == 0) {
            if (want != SIZE_MAX && now_ms() - silent_since >= CHILD_SILENCE_MS) return -1;
            continue;
        }
        ssize_t n = read(fd, part + *npart, sizeof(ack) * 64 - *npart);
        if (n < 0 && errno == EINTR) continue;
        ck_assert_int_ge(n, 0);
        if (n == 0) return 0;
        silent_since = now_ms();
        *npart += (size_t)n;
        size_t whole = *npart / sizeof(ack);
        for (size_t i = 0; i < whole; i++) {
            ack x;
            memcpy(&x, part + i * sizeof(ack), sizeof x);
            acks_push(a, &x);
        }
        memmove(part, part + whole * sizeof(ack), *npart - whole * sizeof(ack));
        *npart -= whole * sizeof(ack);
    }
    return 1;
}

/* One child life: run it, kill it after a seeded number of
 * acknowledgements, collect everything it acknowledged before dying. */
static void crash_round(const char *dir, uint32_t round, zab_sim_rng *rng, acks *a, uint32_t seed)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        child_run(dir, round, fds[1]);
        _exit(4);
    }
    close(fds[1]);
    uint8_t part[sizeof(ack) * 64];
    size_t npart = 0;
    size_t want = a->n + (size_t)zab_sim_rng_range(rng, 0, MAX_KILL_AFTER);
    int alive = read_acks(fds[0], a, want, part, &npart);
    if (alive == 1) {
        struct timespec pause = { 0, (long)zab_sim_rng_range(rng, 0, 3000) * 1000 };
        nanosleep(&pause, NULL);
    }
    kill(pid, SIGKILL);
    if (alive == 1) read_acks(fds[0], a, SIZE_MAX, part, &npart);
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) ck_assert_int_eq(errno, EINTR);
    ck_assert_msg(alive >= 0, "seed %u round %u: the child acknowledged nothing for %d ms", seed,
                  (unsigned)round, CHILD_SILENCE_MS);
    ck_assert_msg(alive && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "seed %u round %u: the child ended by itself (status 0x%x)", seed,
                  (unsigned)round, (unsigned)status);
    ck_assert_msg(npart == 0, "seed %u: a torn acknowledgement", seed);
}

static void run_seed(uint32_t seed)
{
    char dir[32];
    ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-crash-"));
    zab_sim_rng rng;
    zab_sim_rng_seed(&rng, seed);
    acks a = { NULL, 0, 0 };
    for (uint32_t round = 0; round < ROUNDS; round++) {
        crash_round(dir, round, &rng, &a, seed);
        if (zab_sim_rng_next(&rng) % 3 == 0) tear_tail(dir, &rng);
        recover_and_check(dir, &a, round + 1, seed);
    }
    free(a.v);
    tmpdir_remove(dir);
}

static uint32_t env_u32(const char *name, uint32_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? (uint32_t)strtoul(v, NULL, 0) : dflt;
}

START_TEST(test_acknowledged_writes_survive_sigkill)
{
    uint32_t iterations = env_u32("ZAB_CRASH_ITERATIONS", ITERATIONS);
    uint32_t first = env_u32("ZAB_CRASH_SEED", BASE_SEED);
    for (uint32_t i = 0; i < iterations; i++) run_seed(first + i);
}
END_TEST

/* A child killed before its node ever led leaves a directory that must
 * still open: nothing but epochs, perhaps half-written. */
START_TEST(test_kill_during_startup)
{
    for (uint32_t seed = 1; seed <= 5; seed++) {
        char dir[32];
        ck_assert_ptr_nonnull(tmpdir_make(dir, sizeof dir, "zab-crash-"));
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) child_run(dir, 0, -1);
        struct timespec pause = { 0, (long)seed * 2000000L };
        nanosleep(&pause, NULL);
        kill(pid, SIGKILL);
        int status;
        while (waitpid(pid, &status, 0) < 0) ck_assert_int_eq(errno, EINTR);
        ck_assert_msg(WIFSIGNALED(status), "seed %u: the child ended by itself", seed);
        acks none = { NULL, 0, 0 };
        recover_and_check(dir, &none, 1, seed);
        tmpdir_remove(dir);
    }
}
END_TEST

static Suite *storage_crash_suite(void)
{
    Suite *s = suite_create("storage_crash");
    TCase *tc = tcase_create("sigkill");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_acknowledged_writes_survive_sigkill);
    tcase_add_test(tc, test_kill_during_startup);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(storage_crash_suite)
