/*
 * File storage: the formats round trip, recovery (fresh, log only, snapshot
 * and log, rolled segments, torn tails, corruption, missing pieces), log
 * truncation, snapshot install and periodic snapshots with purging, group
 * commit and its notification descriptor, fail-stop after an injected sync
 * failure, and a node restored from the files ending where it stood.
 *
 * Each test works in its own directory under /tmp, removed afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "helpers/tmpdir.h"
#include "storage/epochs.h"
#include "storage/segment.h"
#include "storage/snapfile.h"
#include "storage/storage.h"
#include "storage/sys.h"
#include "util/prim.h"
#include "zab.h"

#define Z(e, c) ZAB_ZXID(e, c)

static char tdir[64];

/* ---- directories and files ---- */

static void setup(void)
{
    ck_assert_ptr_nonnull(tmpdir_make(tdir, sizeof tdir, "zab-storage-test."));
}

static void teardown(void)
{
    tmpdir_remove(tdir);
}

static void path_of(char *out, const char *name)
{
    snprintf(out, 256, "%s/%s", tdir, name);
}

static int exists(const char *name)
{
    char p[256];
    path_of(p, name);
    return access(p, F_OK) == 0;
}

static const char *seg(uint64_t seq)
{
    static char name[ZAB_NAME_CAP];
    zab_seg_name(name, seq);
    return name;
}

static const char *snap(int64_t zxid)
{
    static char name[ZAB_NAME_CAP];
    zab_snap_name(name, zxid);
    return name;
}

static int count_prefix(const char *prefix)
{
    DIR *d = opendir(tdir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix))) n++;
    closedir(d);
    return n;
}

static void read_file(const char *name, uint8_t *buf, size_t len, off_t off)
{
    char p[256];
    path_of(p, name);
    int fd = open(p, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, buf, len, off), (ssize_t)len);
    close(fd);
}

static void write_file(const char *name, const void *buf, size_t len, off_t off)
{
    char p[256];
    path_of(p, name);
    int fd = open(p, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, buf, len, off), (ssize_t)len);
    close(fd);
}

static void flip_byte(const char *name, off_t off)
{
    uint8_t b;
    read_file(name, &b, 1, off);
    b ^= 0x5a;
    write_file(name, &b, 1, off);
}

/* ---- opening ---- */

static zab_storage_config config(void)
{
    return (zab_storage_config){ .dir = tdir, .segment_bytes = 4096 };
}

static char note[1024];

static zab_storage *open_cfg(const zab_storage_config *cfg)
{
    zab_storage *s = NULL;
    int rc = zab_storage_open(cfg, &s, note, sizeof(note));
    ck_assert_msg(rc == 0, "open failed: %s: %s", zab_strerror(rc), note);
    ck_assert_ptr_nonnull(s);
    return s;
}

static zab_storage *open_default(void)
{
    zab_storage_config cfg = config();
    return open_cfg(&cfg);
}

/* Opening must fail with code; the description lands in note. */
static void open_fails(const zab_storage_config *cfg, int code)
{
    zab_storage *s = (zab_storage *)1;
    int rc = zab_storage_open(cfg, &s, note, sizeof(note));
    ck_assert_msg(rc == code, "open returned %s, wanted %s (%s)", zab_strerror(rc),
                  zab_strerror(code), note);
    ck_assert_ptr_null(s);
    ck_assert_msg(note[0], "no description of the failure");
}

/* ---- records ---- */

/* The txn bytes of zxid in generation gen: a pattern any damage shows. */
static void fill(uint8_t *b, size_t len, int64_t zxid, int gen)
{
    uint64_t x = (uint64_t)zxid * 0x9e3779b97f4a7c15u + (uint64_t)gen;
    for (size_t i = 0; i < len; i++) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9u;
        b[i] = (uint8_t)(x >> 56);
    }
}

enum { REC_LEN = 200 };

/* Append counters from..to of epoch, one call each, REC_LEN bytes. */
static void append_range(zab_storage *s, int64_t epoch, uint32_t from, uint32_t to, int gen)
{
    uint8_t b[REC_LEN];
    for (uint32_t c = from; c <= to; c++) {
        fill(b, sizeof(b), Z(epoch, c), gen);
        zab_entry e = { Z(epoch, c), b, sizeof(b) };
        ck_assert_int_eq(zab_storage_append(s, &e, 1), 0);
    }
}

static void wait_synced(zab_storage *s, int64_t zxid)
{
    struct pollfd p = { zab_storage_fd(s), POLLIN, 0 };
    for (int i = 0; i < 400 && zab_storage_synced(s) < zxid; i++) poll(&p, 1, 10);
    ck_assert_msg(zab_storage_synced(s) == zxid, "synced 0x%llx, wanted 0x%llx",
                  (unsigned long long)zab_storage_synced(s), (unsigned long long)zxid);
}

/* What a restore would hand a node after the snapshot: every record of the
 * chain after the newest valid snapshot, each checked against fill(gen). */
typedef struct logged {
    int64_t zxid[4096];
    size_t n;
    int64_t snap; /* the newest valid snapshot's zxid, -1 if none */
} logged;

static void read_log(zab_storage *s, logged *out, int gen)
{
    /* Every queued record reaches the disk before anything is read. */
    ck_assert_int_eq(zab_storage_save_epochs(s, s->accepted, s->current), 0);
    const zab_snap_info *si = zab_storage_newest_snap(s);
    out->snap = si ? si->zxid : -1;
    out->n = 0;
    for (size_t i = 0; i < s->nsegs; i++) {
        char path[ZAB_PATH_CAP];
        snprintf(path, sizeof(path), "%s/%s", s->log_dir, seg(s->segs[i].seq));
        int fd = open(path, O_RDONLY);
        ck_assert_int_ge(fd, 0);
        zab_seg_scan sc;
        zab_seg_scan_init(&sc, zab_sys_posix(), fd, s->segs[i].size, path);
        uint64_t seq;
        int64_t prev;
        ck_assert_int_eq(zab_seg_scan_header(&sc, &seq, &prev, NULL), 0);
        ck_assert_uint_eq(seq, s->segs[i].seq);
        zab_seg_rec rec;
        int rc;
        while ((rc = zab_seg_scan_next(&sc, &rec, NULL)) == ZAB_SCAN_REC) {
            if (rec.zxid <= out->snap) continue;
            uint8_t want[REC_LEN];
            ck_assert_uint_eq(rec.len, REC_LEN);
            fill(want, sizeof(want), rec.zxid, gen);
            ck_assert_msg(!memcmp(want, rec.txn, REC_LEN), "record 0x%llx differs",
                          (unsigned long long)rec.zxid);
            ck_assert_uint_lt(out->n, 4096);
            out->zxid[out->n++] = rec.zxid;
        }
        ck_assert_int_eq(rc, ZAB_SCAN_END);
        zab_seg_scan_free(&sc);
        close(fd);
    }
}

/* The log after the snapshot holds exactly counters from..to of epoch. */
static void expect_log(zab_storage *s, int64_t epoch, uint32_t from, uint32_t to, int gen)
{
    logged l;
    read_log(s, &l, gen);
    ck_assert_uint_eq(l.n, to >= from ? to - from + 1 : 0);
    for (size_t i = 0; i < l.n; i++) ck_assert_int_eq(l.zxid[i], Z(epoch, from + i));
}

/* ---- formats ---- */

START_TEST(names_round_trip)
{
    char name[ZAB_NAME_CAP];
    uint64_t seq;
    int64_t zxid;
    zab_seg_name(name, 0x1a2b);
    ck_assert_str_eq(name, "log.0000000000001a2b");
    ck_assert(zab_seg_parse_name(name, &seq));
    ck_assert_uint_eq(seq, 0x1a2b);
    zab_snap_name(name, Z(3, 7));
    ck_assert_str_eq(name, "snap.0000000300000007");
    ck_assert(zab_snap_parse_name(name, &zxid));
    ck_assert_int_eq(zxid, Z(3, 7));
    /* Near misses are not ours. */
    ck_assert(!zab_seg_parse_name("log.0000000000001a2b.tmp", &seq));
    ck_assert(!zab_seg_parse_name("log.000000000001a2b", &seq));
    ck_assert(!zab_seg_parse_name("log.0000000000001A2B", &seq));
    ck_assert(!zab_snap_parse_name("snap.8000000000000000", &zxid));
    ck_assert(!zab_snap_parse_name("snapshot.0000000000000001", &zxid));
}
END_TEST

START_TEST(segment_header_round_trip)
{
    uint8_t h[ZAB_SEG_HEADER];
    zab_seg_header_encode(h, 42, Z(5, 9));
    ck_assert(!memcmp(h, "ZABLOG\0\1", 8));
    ck_assert_int_eq(h[11], 1); /* version */
    uint32_t crc = (uint32_t)h[32] << 24 | (uint32_t)h[33] << 16 | (uint32_t)h[34] << 8 | h[35];
    ck_assert_uint_eq(crc, zab_crc32c(0, h, 32));
    for (int i = 36; i < ZAB_SEG_HEADER; i++) ck_assert_int_eq(h[i], 0);
    uint64_t seq;
    int64_t prev;
    const char *why = NULL;
    ck_assert_int_eq(zab_seg_header_decode(h, &seq, &prev, &why), 0);
    ck_assert_uint_eq(seq, 42);
    ck_assert_int_eq(prev, Z(5, 9));
    h[20] ^= 1;
    ck_assert_int_eq(zab_seg_header_decode(h, &seq, &prev, &why), ZAB_ECORRUPT);
    ck_assert_ptr_nonnull(why);
    /* A version this library does not know, with a valid checksum. */
    zab_seg_header_encode(h, 42, 0);
    h[11] = 2;
    uint32_t c2 = zab_crc32c(0, h, 32);
    h[32] = (uint8_t)(c2 >> 24);
    h[33] = (uint8_t)(c2 >> 16);
    h[34] = (uint8_t)(c2 >> 8);
    h[35] = (uint8_t)c2;
    ck_assert_int_eq(zab_seg_header_decode(h, &seq, &prev, &why), ZAB_EVERSION);
}
END_TEST

START_TEST(record_round_trip)
{
    uint8_t txn[37], h[ZAB_REC_HEADER];
    fill(txn, sizeof(txn), 77, 0);
    zab_rec_header_encode(h, Z(2, 5), txn, sizeof(txn));
    ck_assert_int_eq(h[3], 37);
    ck_assert_int_eq(h[4 + 3], 2);  /* epoch, big-endian */
    ck_assert_int_eq(h[4 + 7], 5);  /* counter */
    uint32_t crc = zab_crc32c(zab_crc32c(0, h, 12), txn, sizeof(txn));
    ck_assert_int_eq(h[12], (uint8_t)(crc >> 24));
    ck_assert_int_eq(h[15], (uint8_t)crc);
}
END_TEST

START_TEST(snapshot_header_round_trip)
{
    zab_snap_meta m = { Z(4, 100), 17, 123456 }, back;
    uint8_t h[ZAB_SNAP_HEADER];
    zab_snap_header_encode(h, &m);
    ck_assert(!memcmp(h, "ZABSNAPF", 8));
    uint32_t crc = (uint32_t)h[40] << 24 | (uint32_t)h[41] << 16 | (uint32_t)h[42] << 8 | h[43];
    ck_assert_uint_eq(crc, zab_crc32c(0, h, 40));
    const char *why;
    ck_assert_int_eq(zab_snap_header_decode(h, &back, &why), 0);
    ck_assert_int_eq(back.zxid, m.zxid);
    ck_assert_uint_eq(back.floor, 17);
    ck_assert_uint_eq(back.length, 123456);
    h[30] ^= 4;
    ck_assert_int_eq(zab_snap_header_decode(h, &back, &why), ZAB_ECORRUPT);
}
END_TEST

START_TEST(epochs_round_trip)
{
    int present;
    int64_t acc, cur;
    ck_assert_int_eq(zab_epochs_read(zab_sys_posix(), tdir, &present, &acc, &cur, NULL), 0);
    ck_assert_int_eq(present, 0);
    ck_assert_int_eq(zab_epochs_write(zab_sys_posix(), tdir, 9, 8, NULL), 0);
    ck_assert(!exists("epochs.tmp"));
    uint8_t b[32];
    read_file("epochs", b, sizeof(b), 0);
    ck_assert(!memcmp(b, "ZABEPOCH", 8));
    ck_assert_int_eq(b[19], 9);
    ck_assert_int_eq(b[27], 8);
    ck_assert_int_eq(zab_epochs_read(zab_sys_posix(), tdir, &present, &acc, &cur, NULL), 0);
    ck_assert_int_eq(present, 1);
    ck_assert_int_eq(acc, 9);
    ck_assert_int_eq(cur, 8);
    flip_byte("epochs", 14);
    zab_serr e;
    ck_assert_int_eq(zab_epochs_read(zab_sys_posix(), tdir, &present, &acc, &cur, &e),
                     ZAB_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(e.msg, "epochs"));
}
END_TEST

/* ---- recovery ---- */

START_TEST(fresh_directory)
{
    zab_storage_config cfg = config();
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/data", tdir);
    cfg.dir = sub;
    zab_storage *s = open_cfg(&cfg);
    ck_assert_str_eq(note, "");
    zab_node_state st = { -1, -1 };
    zab_storage_state(s, &st);
    ck_assert_int_eq(st.accepted_epoch, 0);
    ck_assert_int_eq(st.current_epoch, 0);
    ck_assert_int_eq(zab_storage_synced(s), 0);
    ck_assert_int_eq(zab_storage_status(s), 0);
    ck_assert_int_ge(zab_storage_fd(s), 0);
    zab_storage_close(s);
    s = open_cfg(&cfg);
    zab_storage_close(s);
    ck_assert_int_eq(access(sub, F_OK), 0);
}
END_TEST

START_TEST(log_only)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 10, 0);
    wait_synced(s, Z(1, 10));
    zab_storage_close(s);

    s = open_default();
    zab_node_state st;
    zab_storage_state(s, &st);
    ck_assert_int_eq(st.accepted_epoch, 1);
    ck_assert_int_eq(st.current_epoch, 1);
    ck_assert_int_eq(zab_storage_synced(s), Z(1, 10));
    expect_log(s, 1, 1, 10, 0);
    /* The log continues where it stopped, in a later epoch too. */
    append_range(s, 2, 1, 3, 0);
    wait_synced(s, Z(2, 3));
    zab_storage_close(s);
    s = open_default();
    logged l;
    read_log(s, &l, 0);
    ck_assert_uint_eq(l.n, 13);
    ck_assert_int_eq(l.zxid[10], Z(2, 1));
    zab_storage_close(s);
}
END_TEST

START_TEST(append_refuses_what_recovery_would)
{
    zab_storage_config cfg = config();
    cfg.max_record = 300;
    zab_storage *s = open_cfg(&cfg);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    uint8_t b[301] = { 0 };
    zab_entry gap = { Z(1, 2), b, 10 }, zero_counter = { Z(1, 0), b, 10 };
    zab_entry big = { Z(1, 1), b, 301 }, empty = { Z(1, 1), b, 0 };
    ck_assert_int_eq(zab_storage_append(s, &gap, 1), ZAB_EINVAL);
    ck_assert_int_eq(zab_storage_append(s, &zero_counter, 1), ZAB_EINVAL);
    ck_assert_int_eq(zab_storage_append(s, &big, 1), ZAB_ETOOBIG);
    ck_assert_int_eq(zab_storage_append(s, &empty, 1), ZAB_EINVAL);
    zab_entry two[2] = { { Z(1, 1), b, 300 }, { Z(1, 1), b, 1 } };
    ck_assert_int_eq(zab_storage_append(s, two, 2), ZAB_EINVAL); /* not increasing */
    ck_assert_int_eq(zab_storage_append(s, two, 1), 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 3, 2), 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 2), ZAB_EINVAL); /* accepted < current */
    ck_assert_int_eq(zab_storage_status(s), 0);
    wait_synced(s, Z(1, 1));
    zab_storage_close(s);
}
END_TEST

START_TEST(segments_roll)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    /* 216-byte records: 18 fit in the 4032 bytes after a header. */
    append_range(s, 1, 1, 100, 0);
    wait_synced(s, Z(1, 100));
    zab_storage_close(s);
    ck_assert_int_eq(count_prefix("log."), 6);
    /* Each segment keeps its size and starts where the previous ended. */
    for (uint64_t q = 1; q <= 6; q++) {
        char p[256];
        path_of(p, seg(q));
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_eq(st.st_size, 4096);
        uint8_t h[ZAB_SEG_HEADER];
        read_file(seg(q), h, sizeof(h), 0);
        uint64_t sq;
        int64_t prev;
        const char *why;
        ck_assert_int_eq(zab_seg_header_decode(h, &sq, &prev, &why), 0);
        ck_assert_int_eq(prev, q == 1 ? 0 : Z(1, 18 * (q - 1)));
    }
    s = open_default();
    expect_log(s, 1, 1, 100, 0);
    zab_storage_close(s);
}
END_TEST

START_TEST(record_larger_than_a_segment)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 2, 0);
    static uint8_t big[10000];
    memset(big, 7, sizeof(big));
    zab_entry e = { Z(1, 3), big, sizeof(big) };
    ck_assert_int_eq(zab_storage_append(s, &e, 1), 0);
    wait_synced(s, Z(1, 3));
    zab_storage_close(s);
    char p[256];
    path_of(p, seg(2));
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(st.st_size, ZAB_SEG_HEADER + ZAB_REC_HEADER + sizeof(big));
    s = open_default();
    ck_assert_int_eq(zab_storage_synced(s), Z(1, 3));
    append_range(s, 1, 4, 4, 0);
    wait_synced(s, Z(1, 4));
    ck_assert_uint_eq(s->nsegs, 3);
    zab_storage_close(s);
}
END_TEST

START_TEST(separate_log_dir)
{
    zab_storage_config cfg = config();
    char logs[128];
    snprintf(logs, sizeof(logs), "%s/logs", tdir);
    cfg.log_dir = logs;
    zab_storage *s = open_cfg(&cfg);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 30, 0);
    wait_synced(s, Z(1, 30));
    zab_storage_close(s);
    ck_assert_int_eq(count_prefix("log."), 0);
    ck_assert(exists("logs/log.0000000000000001"));
    ck_assert(exists("logs/log.0000000000000002"));
    s = open_cfg(&cfg);
    expect_log(s, 1, 1, 30, 0);
    zab_storage_close(s);
}
END_TEST

START_TEST(torn_tail_is_cut)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 10, 0);
    wait_synced(s, Z(1, 10));
    zab_storage_close(s);
    /* A write of record 11 that stopped part way: header and a few bytes. */
    uint8_t txn[REC_LEN], h[ZAB_REC_HEADER];
    fill(txn, sizeof(txn), Z(1, 11), 0);
    zab_rec_header_encode(h, Z(1, 11), txn, sizeof(txn));
    off_t end = ZAB_SEG_HEADER + 10 * (ZAB_REC_HEADER + REC_LEN);
    write_file(seg(1), h, sizeof(h), end);
    write_file(seg(1), txn, 50, end + ZAB_REC_HEADER);

    s = open_default();
    ck_assert_msg(strstr(note, "torn") && strstr(note, seg(1)), "note: %s", note);
    expect_log(s, 1, 1, 10, 0);
    uint8_t after[ZAB_REC_HEADER + 50], zeros[sizeof(after)];
    memset(zeros, 0, sizeof(zeros));
    read_file(seg(1), after, sizeof(after), end);
    ck_assert(!memcmp(after, zeros, sizeof(after)));
    append_range(s, 1, 11, 12, 1);
    wait_synced(s, Z(1, 12));
    zab_storage_close(s);
    s = open_default();
    ck_assert_str_eq(note, "");
    ck_assert_int_eq(zab_storage_synced(s), Z(1, 12));
    zab_storage_close(s);
}
END_TEST

START_TEST(torn_length_past_the_end)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 3, 0);
    wait_synced(s, Z(1, 3));
    zab_storage_close(s);
    uint8_t junk[7] = { 0x7f, 0xff, 0xff, 0xff, 1, 2, 3 };
    write_file(seg(1), junk, sizeof(junk), ZAB_SEG_HEADER + 3 * (ZAB_REC_HEADER + REC_LEN));
    s = open_default();
    ck_assert_ptr_nonnull(strstr(note, "torn"));
    expect_log(s, 1, 1, 3, 0);
    zab_storage_close(s);
}
END_TEST

START_TEST(corruption_mid_log_refused_or_cut)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 10, 0);
    wait_synced(s, Z(1, 10));
    zab_storage_close(s);
    /* One byte of record 5's transaction: valid records follow it. */
    off_t rec5 = ZAB_SEG_HEADER + 4 * (ZAB_REC_HEADER + REC_LEN);
    flip_byte(seg(1), rec5 + ZAB_REC_HEADER + 3);
    zab_storage_config cfg = config();
    open_fails(&cfg, ZAB_ECORRUPT);
    char where[64];
    snprintf(where, sizeof(where), "offset %lld", (long long)rec5);
    ck_assert_msg(strstr(note, seg(1)) && strstr(note, where) && strstr(note, "checksum"),
                  "message: %s", note);
    /* Nothing was changed by the refusal. */
    open_fails(&cfg, ZAB_ECORRUPT);

    cfg.truncate_corrupt = 1;
    s = open_cfg(&cfg);
    ck_assert_msg(strstr(note, "cut") && strstr(note, where), "note: %s", note);
    expect_log(s, 1, 1, 4, 0);
    ck_assert_int_eq(zab_storage_synced(s), Z(1, 4));
    zab_storage_close(s);
    cfg.truncate_corrupt = 0;
    s = open_cfg(&cfg);
    expect_log(s, 1, 1, 4, 0);
    zab_storage_close(s);
}
END_TEST

START_TEST(corruption_in_earlier_segment_drops_later_ones)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 50, 0); /* segments 1..3 */
    wait_synced(s, Z(1, 50));
    zab_storage_close(s);
    /* Record 20 is the second of segment 2; its damaged length is a torn
     * record only at the end of the last segment, not here. */
    uint8_t zero[4] = { 0, 0, 0, 0 };
    write_file(seg(2), zero, sizeof(zero), ZAB_SEG_HEADER + ZAB_REC_HEADER + REC_LEN);
    zab_storage_config cfg = config();
    open_fails(&cfg, ZAB_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(note, seg(2)));
    cfg.truncate_corrupt = 1;
    s = open_cfg(&cfg);
    expect_log(s, 1, 1, 19, 0);
    zab_storage_close(s);
    ck_assert(exists(seg(2)));
    ck_assert(!exists(seg(3)));
}
END_TEST

START_TEST(zxid_out_of_order_is_corruption)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 5, 0);
    wait_synced(s, Z(1, 5));
    zab_storage_close(s);
    /* Rewrite record 3 as zxid 1:7 with a valid checksum: a gap. */
    uint8_t txn[REC_LEN], h[ZAB_REC_HEADER];
    fill(txn, sizeof(txn), Z(1, 7), 0);
    zab_rec_header_encode(h, Z(1, 7), txn, sizeof(txn));
    off_t rec3 = ZAB_SEG_HEADER + 2 * (ZAB_REC_HEADER + REC_LEN);
    write_file(seg(1), h, sizeof(h), rec3);
    write_file(seg(1), txn, sizeof(txn), rec3 + ZAB_REC_HEADER);
    zab_storage_config cfg = config();
    open_fails(&cfg, ZAB_ECORRUPT);
    ck_assert_msg(strstr(note, "does not follow"), "message: %s", note);
}
END_TEST

START_TEST(missing_middle_segment_refused)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 50, 0);
    wait_synced(s, Z(1, 50));
    zab_storage_close(s);
    char p[256];
    path_of(p, seg(2));
    ck_assert_int_eq(unlink(p), 0);
    zab_storage_config cfg = config();
    open_fails(&cfg, ZAB_ECORRUPT);
    ck_assert_msg(strstr(note, "missing") && strstr(note, seg(2)), "message: %s", note);
    cfg.truncate_corrupt = 1;
    s = open_cfg(&cfg);
    expect_log(s, 1, 1, 18, 0);
    append_range(s, 1, 19, 20, 1);
    wait_synced(s, Z(1, 20));
    zab_storage_close(s);
}
END_TEST

START_TEST(first_segment_gone_without_snapshot_refused)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 30, 0);
    wait_synced(s, Z(1, 30));
    zab_storage_close(s);
    char p[256];
    path_of(p, seg(1));
    ck_assert_int_eq(unlink(p), 0);
    zab_storage_config cfg = config();
    cfg.truncate_corrupt = 1; /* nothing to cut: the start itself is gone */
    open_fails(&cfg, ZAB_ECORRUPT);
    ck_assert_msg(strstr(note, "zxid 0"), "message: %s", note);
}
END_TEST

START_TEST(missing_epochs_with_data_refused)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 2, 2), 0);
    append_range(s, 2, 1, 3, 0);
    wait_synced(s, Z(2, 3));
    zab_storage_close(s);
    char p[256];
    path_of(p, "epochs");
    ck_assert_int_eq(unlink(p), 0);
    zab_storage_config cfg = config();
    open_fails(&cfg, ZAB_ECORRUPT);
    ck_assert_msg(strstr(note, "epochs"), "message: %s", note);
    cfg.truncate_corrupt = 1;
    open_fails(&cfg, ZAB_ECORRUPT);
}
END_TEST

START_TEST(damaged_epochs_refused)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 2, 1), 0);
    zab_storage_close(s);
    flip_byte("epochs", 20);
    zab_storage_config cfg = config();
    open_fails(&cfg, ZAB_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(note, "epochs"));
}
END_TEST

START_TEST(leftover_tmp_files_removed)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    zab_storage_close(s);
    const char *names[] = { "epochs.tmp", "snap.0000000100000005.tmp", "log.0000000000000001.tmp",
                            "unrelated.tmp" };
    for (int i = 0; i < 4; i++) {
        char p[256];
        path_of(p, names[i]);
        int fd = open(p, O_CREAT | O_WRONLY, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "x", 1), 1);
        close(fd);
    }
    s = open_default();
    zab_storage_close(s);
    for (int i = 0; i < 3; i++) ck_assert_msg(!exists(names[i]), "%s left", names[i]);
    ck_assert(exists("unrelated.tmp"));
}
END_TEST

static void put_crc(uint8_t *at, const uint8_t *bytes, size_t len)
{
    uint32_t c = zab_crc32c(0, bytes, len);
    at[0] = (uint8_t)(c >> 24);
    at[1] = (uint8_t)(c >> 16);
    at[2] = (uint8_t)(c >> 8);
    at[3] = (uint8_t)c;
}

START_TEST(unknown_versions_refused)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 3, 0);
    zab_storage_close(s);
    /* A segment header of version 2, its checksum valid: a newer format. */
    uint8_t h[ZAB_SEG_HEADER];
    read_file(seg(1), h, sizeof(h), 0);
    h[11] = 2;
    put_crc(h + 32, h, 32);
    write_file(seg(1), h, sizeof(h), 0);
    zab_storage_config cfg = config();
    cfg.truncate_corrupt = 1; /* not damage: nothing to cut */
    open_fails(&cfg, ZAB_ECORRUPT);
    ck_assert_msg(strstr(note, "version") && strstr(note, seg(1)), "message: %s", note);
    h[11] = 1;
    put_crc(h + 32, h, 32);
    write_file(seg(1), h, sizeof(h), 0);
    /* The same for the epochs file. */
    uint8_t ep[32];
    read_file("epochs", ep, sizeof(ep), 0);
    ep[11] = 9;
    put_crc(ep + 28, ep, 28);
    write_file("epochs", ep, sizeof(ep), 0);
    open_fails(&cfg, ZAB_ECORRUPT);
    ck_assert_msg(strstr(note, "version"), "message: %s", note);
}
END_TEST

/* ---- truncation ---- */

START_TEST(truncate_inside_a_segment)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 15, 0);
    ck_assert_int_eq(zab_storage_truncate(s, Z(1, 9)), 0);
    ck_assert_int_le(zab_storage_synced(s), Z(1, 9));
    expect_log(s, 1, 1, 9, 0);
    /* Appends continue after the cut, in a new epoch. */
    append_range(s, 2, 1, 4, 0);
    wait_synced(s, Z(2, 4));
    zab_storage_close(s);
    s = open_default();
    logged l;
    read_log(s, &l, 0);
    ck_assert_uint_eq(l.n, 13);
    ck_assert_int_eq(l.zxid[8], Z(1, 9));
    ck_assert_int_eq(l.zxid[9], Z(2, 1));
    zab_storage_close(s);
}
END_TEST

START_TEST(truncate_across_segments)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 80, 0); /* segments 1..5 */
    wait_synced(s, Z(1, 80));
    ck_assert_int_eq(count_prefix("log."), 5);
    ck_assert_int_eq(zab_storage_truncate(s, Z(1, 20)), 0);
    ck_assert_int_eq(zab_storage_synced(s), Z(1, 20));
    ck_assert_int_eq(count_prefix("log."), 2);
    ck_assert(!exists(seg(3)));
    append_range(s, 1, 21, 40, 0);
    wait_synced(s, Z(1, 40));
    zab_storage_close(s);
    s = open_default();
    expect_log(s, 1, 1, 40, 0);
    zab_storage_close(s);
}
END_TEST

START_TEST(truncate_at_segment_start)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 40, 0);
    /* 1:19 opens segment 2; cutting after 1:18 leaves it empty. */
    ck_assert_int_eq(zab_storage_truncate(s, Z(1, 18)), 0);
    ck_assert(exists(seg(2)));
    ck_assert(!exists(seg(3)));
    expect_log(s, 1, 1, 18, 0);
    /* Truncating at or past the end changes nothing. */
    ck_assert_int_eq(zab_storage_truncate(s, Z(1, 18)), 0);
    ck_assert_int_eq(zab_storage_truncate(s, Z(7, 1)), 0);
    append_range(s, 1, 19, 19, 0);
    wait_synced(s, Z(1, 19));
    zab_storage_close(s);
    s = open_default();
    expect_log(s, 1, 1, 19, 0);
    zab_storage_close(s);
}
END_TEST

/* ---- trees and snapshots ---- */

/* Create /n<i> in tree at zxid, returning the transaction in txn. */
static void tree_create(zab_tree *t, int64_t zxid, int i, zab_buf *txn)
{
    char path[32];
    snprintf(path, sizeof(path), "/n%d", i);
    zab_op op = zab_op_create(path, path, (int32_t)strlen(path), zab_acl_open, 1, ZAB_PERSISTENT);
    zab_request req = { .type = ZAB_OP_CREATE, .ops = &op, .nops = 1 };
    txn->len = 0;
    ck_assert_int_eq(zab_tree_prepare(t, &req, zxid, 1000 + i, txn), 0);
    zab_reply rep;
    ck_assert_int_eq(zab_tree_apply(t, zxid, txn->data, txn->len, &rep), 0);
    ck_assert_int_eq(rep.err, 0);
}

/* Apply counters from..to of epoch to t and log them in s. */
static void tree_log(zab_storage *s, zab_tree *t, int64_t epoch, uint32_t from, uint32_t to)
{
    zab_buf txn = { 0 };
    for (uint32_t c = from; c <= to; c++) {
        tree_create(t, Z(epoch, c), (int)(epoch * 100000 + c), &txn);
        zab_entry e = { Z(epoch, c), txn.data, txn.len };
        ck_assert_int_eq(zab_storage_append(s, &e, 1), 0);
    }
    zab_buf_free(&txn);
}

static uint64_t digest_of(const zab_tree *t)
{
    zab_tree_stats st;
    zab_tree_stats_get(t, &st);
    return st.digest;
}

/* Load the storage's newest snapshot into a new tree. */
static zab_tree *load_newest(zab_storage *s)
{
    const zab_snap_info *si = zab_storage_newest_snap(s);
    ck_assert_ptr_nonnull(si);
    zab_snap_reader r;
    ck_assert_int_eq(zab_snap_reader_open(&r, s->sys, s->dir, si->zxid, si->length, NULL), 0);
    zab_tree *t = zab_tree_new(NULL);
    ck_assert_int_eq(zab_tree_load(t, zab_snap_read, &r), 0);
    zab_snap_reader_close(&r);
    return t;
}

/* Records after the newest snapshot, counted; their zxids increase. */
static size_t count_after_snapshot(zab_storage *s, int64_t *first, int64_t *last)
{
    ck_assert_int_eq(zab_storage_save_epochs(s, s->accepted, s->current), 0);
    const zab_snap_info *si = zab_storage_newest_snap(s);
    int64_t z = si ? si->zxid : 0;
    size_t n = 0;
    *first = *last = 0;
    for (size_t i = 0; i < s->nsegs; i++) {
        char path[ZAB_PATH_CAP];
        snprintf(path, sizeof(path), "%s/%s", s->log_dir, seg(s->segs[i].seq));
        int fd = open(path, O_RDONLY);
        ck_assert_int_ge(fd, 0);
        zab_seg_scan sc;
        zab_seg_scan_init(&sc, zab_sys_posix(), fd, s->segs[i].size, path);
        uint64_t seq;
        int64_t prev;
        ck_assert_int_eq(zab_seg_scan_header(&sc, &seq, &prev, NULL), 0);
        zab_seg_rec rec;
        while (zab_seg_scan_next(&sc, &rec, NULL) == ZAB_SCAN_REC) {
            if (rec.zxid <= z) continue;
            ck_assert(rec.zxid > *last);
            if (!n) *first = rec.zxid;
            *last = rec.zxid;
            n++;
        }
        zab_seg_scan_free(&sc);
        close(fd);
    }
    return n;
}

START_TEST(snapshot_and_log)
{
    zab_tree *t = zab_tree_new(NULL);
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    tree_log(s, t, 1, 1, 30);
    uint64_t at30 = digest_of(t);
    ck_assert_int_eq(zab_storage_snapshot(s, t), 0);
    tree_log(s, t, 1, 31, 45);
    wait_synced(s, Z(1, 45));
    zab_storage_close(s);
    ck_assert(exists(snap(Z(1, 30))));

    s = open_default();
    ck_assert_str_eq(note, "");
    const zab_snap_info *si = zab_storage_newest_snap(s);
    ck_assert_ptr_nonnull(si);
    ck_assert_int_eq(si->zxid, Z(1, 30));
    /* Its floor is the segment holding 1:31. */
    uint8_t h[ZAB_SNAP_HEADER];
    read_file(snap(Z(1, 30)), h, sizeof(h), 0);
    zab_snap_meta m;
    const char *why;
    ck_assert_int_eq(zab_snap_header_decode(h, &m, &why), 0);
    ck_assert_uint_eq(s->segs[0].seq, m.floor);
    ck_assert_int_lt(s->segs[0].prev, Z(1, 31));
    ck_assert_int_ge(s->segs[0].last, Z(1, 31));
    zab_tree *back = load_newest(s);
    ck_assert_uint_eq(digest_of(back), at30);
    int64_t first, last;
    ck_assert_uint_eq(count_after_snapshot(s, &first, &last), 15);
    ck_assert_int_eq(first, Z(1, 31));
    ck_assert_int_eq(last, Z(1, 45));
    zab_tree_free(back);
    zab_tree_free(t);
    zab_storage_close(s);
}
END_TEST

START_TEST(bad_newest_snapshot_falls_back)
{
    zab_tree *t = zab_tree_new(NULL);
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    tree_log(s, t, 1, 1, 10);
    uint64_t at10 = digest_of(t);
    ck_assert_int_eq(zab_storage_snapshot(s, t), 0);
    /* Drain: a snapshot still queued would be superseded by the next. */
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    tree_log(s, t, 1, 11, 20);
    ck_assert_int_eq(zab_storage_snapshot(s, t), 0);
    tree_log(s, t, 1, 21, 25);
    wait_synced(s, Z(1, 25));
    zab_storage_close(s);
    /* Rot inside the newest snapshot's body. */
    flip_byte(snap(Z(1, 20)), ZAB_SNAP_HEADER + 100);
    s = open_default();
    ck_assert_msg(strstr(note, snap(Z(1, 20))), "note: %s", note);
    const zab_snap_info *si = zab_storage_newest_snap(s);
    ck_assert_int_eq(si->zxid, Z(1, 10));
    zab_tree *back = load_newest(s);
    ck_assert_uint_eq(digest_of(back), at10);
    int64_t first, last;
    ck_assert_uint_eq(count_after_snapshot(s, &first, &last), 15);
    ck_assert_int_eq(first, Z(1, 11));
    zab_tree_free(back);
    zab_tree_free(t);
    zab_storage_close(s);
}
END_TEST

START_TEST(periodic_snapshots_purge)
{
    zab_storage_config cfg = config();
    cfg.snap_retain = 2;
    zab_tree *t = zab_tree_new(NULL);
    zab_storage *s = open_cfg(&cfg);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    uint32_t c = 0;
    for (int round = 0; round < 5; round++) {
        tree_log(s, t, 1, c + 1, c + 60);
        c += 60;
        ck_assert_int_eq(zab_storage_snapshot(s, t), 0);
        ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    }
    tree_log(s, t, 1, c + 1, c + 5);
    /* Draining: a synchronous call waits for the queued snapshot too. */
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    ck_assert_int_eq(count_prefix("snap."), 2);
    ck_assert(exists(snap(Z(1, 300))));
    ck_assert(exists(snap(Z(1, 240))));
    /* Segments below the older kept snapshot's floor are gone, and the
     * one holding 1:241 (the first record after it) is kept. */
    uint8_t h[ZAB_SNAP_HEADER];
    read_file(snap(Z(1, 240)), h, sizeof(h), 0);
    zab_snap_meta m;
    const char *why;
    ck_assert_int_eq(zab_snap_header_decode(h, &m, &why), 0);
    ck_assert(m.floor > 1);
    ck_assert(!exists(seg(m.floor - 1)));
    ck_assert(exists(seg(m.floor)));
    zab_storage_close(s);

    /* The older kept snapshot still recovers: its log is all there. */
    flip_byte(snap(Z(1, 300)), ZAB_SNAP_HEADER + 40);
    s = open_cfg(&cfg);
    ck_assert_int_eq(zab_storage_newest_snap(s)->zxid, Z(1, 240));
    int64_t first, last;
    ck_assert_uint_eq(count_after_snapshot(s, &first, &last), 65);
    ck_assert_int_eq(first, Z(1, 241));
    ck_assert_int_eq(last, Z(1, 305));
    /* The bad file is not counted: the next purge keeps 1:305 and 1:240
     * and removes it. */
    ck_assert_int_eq(zab_storage_snapshot(s, t), 0); /* 1:305 */
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    ck_assert(exists(snap(Z(1, 305))));
    ck_assert(exists(snap(Z(1, 240))));
    ck_assert(!exists(snap(Z(1, 300))));
    zab_storage_close(s);
    zab_tree_free(t);
}
END_TEST

START_TEST(save_snapshot_replaces_everything)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 60, 0); /* a log this learner will discard */
    wait_synced(s, Z(1, 60));
    zab_tree *old = zab_tree_new(NULL);
    zab_buf txn = { 0 };
    for (int i = 1; i <= 5; i++) tree_create(old, Z(1, i), i, &txn);
    ck_assert_int_eq(zab_storage_snapshot(s, old), 0);
    ck_assert_int_eq(zab_storage_save_epochs(s, 2, 1), 0);
    /* Keep a copy of an old segment, as if a crash had stopped its delete. */
    uint8_t keep[4096];
    read_file(seg(2), keep, sizeof(keep), 0);

    zab_tree *t = zab_tree_new(NULL);
    for (int i = 1; i <= 7; i++) tree_create(t, Z(2, i), 100 + i, &txn);
    ck_assert_int_eq(zab_storage_save_snapshot(s, t), 0);
    ck_assert_int_eq(zab_storage_synced(s), Z(2, 7));
    ck_assert_int_eq(count_prefix("snap."), 1);
    ck_assert(exists(snap(Z(2, 7))));
    ck_assert_int_eq(count_prefix("log."), 1);
    ck_assert(exists(seg(5)));
    /* The log continues from the snapshot. */
    tree_log(s, t, 2, 8, 9);
    wait_synced(s, Z(2, 9));
    zab_storage_close(s);

    char p[256];
    path_of(p, seg(2));
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, keep, sizeof(keep)), (ssize_t)sizeof(keep));
    close(fd);

    s = open_default();
    ck_assert_int_eq(zab_storage_newest_snap(s)->zxid, Z(2, 7));
    zab_tree *back = load_newest(s);
    zab_tree_stats st;
    zab_tree_stats_get(back, &st);
    ck_assert_int_eq(st.last_zxid, Z(2, 7));
    int64_t first, last;
    ck_assert_uint_eq(count_after_snapshot(s, &first, &last), 2);
    ck_assert_int_eq(first, Z(2, 8));
    ck_assert_int_eq(last, Z(2, 9));
    ck_assert_int_eq(zab_storage_synced(s), Z(2, 9));
    /* A snapshot cannot be truncated away. */
    ck_assert_int_eq(zab_storage_truncate(s, Z(2, 6)), ZAB_EINVAL);
    ck_assert_int_eq(zab_storage_truncate(s, Z(2, 8)), 0);
    ck_assert_int_eq(zab_storage_status(s), 0);
    zab_storage_close(s);
    zab_buf_free(&txn);
    zab_tree_free(back);
    zab_tree_free(t);
    zab_tree_free(old);
}
END_TEST

START_TEST(save_snapshot_on_fresh_store)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 3, 3), 0);
    zab_tree *t = zab_tree_new(NULL);
    zab_buf txn = { 0 };
    for (int i = 1; i <= 3; i++) tree_create(t, Z(3, i), i, &txn);
    ck_assert_int_eq(zab_storage_save_snapshot(s, t), 0);
    zab_storage_close(s);
    s = open_default();
    ck_assert_int_eq(zab_storage_synced(s), Z(3, 3));
    ck_assert_int_eq(zab_storage_newest_snap(s)->zxid, Z(3, 3));
    tree_log(s, t, 3, 4, 4);
    wait_synced(s, Z(3, 4));
    zab_storage_close(s);
    zab_buf_free(&txn);
    zab_tree_free(t);
}
END_TEST

/* ---- group commit, notification, failure ---- */

static atomic_int syncs;
static atomic_int fail_syncs;

static int counting_fdatasync(int fd)
{
    atomic_fetch_add(&syncs, 1);
    /* A disk that takes a moment, so appends pile up behind a sync. */
    struct timespec ts = { 0, 2 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    return zab_sys_posix()->fdatasync(fd);
}

static int failing_fdatasync(int fd)
{
    (void)fd;
    if (atomic_load(&fail_syncs)) {
        errno = EIO;
        return -1;
    }
    return 0;
}

static int failing_fsync(int fd)
{
    if (atomic_load(&fail_syncs)) {
        errno = EIO;
        return -1;
    }
    return zab_sys_posix()->fsync(fd);
}

START_TEST(group_commit)
{
    struct zab_sys sys = *zab_sys_posix();
    sys.fdatasync = counting_fdatasync;
    zab_storage_config cfg = config();
    cfg.sys = &sys;
    cfg.segment_bytes = 1 << 20;
    zab_storage *s = open_cfg(&cfg);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    atomic_store(&syncs, 0);
    append_range(s, 1, 1, 1000, 0);
    struct pollfd p = { zab_storage_fd(s), POLLIN, 0 };
    ck_assert_int_eq(poll(&p, 1, 2000), 1);
    ck_assert(p.revents & POLLIN);
    wait_synced(s, Z(1, 1000));
    /* Reading synced clears the descriptor until it advances again. */
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    ck_assert_int_eq(zab_storage_synced(s), Z(1, 1000));
    p.revents = 0;
    ck_assert_int_eq(poll(&p, 1, 0), 0);
    ck_assert_msg(atomic_load(&syncs) < 100, "%d syncs for 1000 appends",
                  atomic_load(&syncs));
    ck_assert_int_ge(atomic_load(&syncs), 1);
    zab_storage_close(s);
    s = open_default();
    expect_log(s, 1, 1, 1000, 0);
    zab_storage_close(s);
}
END_TEST

START_TEST(sync_each_record)
{
    struct zab_sys sys = *zab_sys_posix();
    sys.fdatasync = counting_fdatasync;
    zab_storage_config cfg = config();
    cfg.sys = &sys;
    cfg.sync_each = 1;
    cfg.segment_bytes = 1 << 20;
    zab_storage *s = open_cfg(&cfg);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    atomic_store(&syncs, 0);
    uint8_t b[REC_LEN];
    zab_entry e[20];
    for (int i = 0; i < 20; i++) e[i] = (zab_entry){ Z(1, i + 1), b, sizeof(b) };
    memset(b, 1, sizeof(b));
    ck_assert_int_eq(zab_storage_append(s, e, 20), 0);
    wait_synced(s, Z(1, 20));
    ck_assert_int_eq(atomic_load(&syncs), 20);
    zab_storage_close(s);
}
END_TEST

START_TEST(close_flushes)
{
    zab_storage *s = open_default();
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 200, 0);
    zab_storage_close(s);
    s = open_default();
    ck_assert_int_eq(zab_storage_synced(s), Z(1, 200));
    expect_log(s, 1, 1, 200, 0);
    /* A snapshot still queued is written too. */
    zab_tree *t = zab_tree_new(NULL);
    zab_buf txn = { 0 };
    tree_create(t, Z(1, 1), 1, &txn);
    ck_assert_int_eq(zab_storage_snapshot(s, t), 0);
    zab_storage_close(s);
    ck_assert(exists(snap(Z(1, 1))));
    zab_buf_free(&txn);
    zab_tree_free(t);
}
END_TEST

START_TEST(fdatasync_failure_is_final)
{
    struct zab_sys sys = *zab_sys_posix();
    sys.fdatasync = failing_fdatasync;
    zab_storage_config cfg = config();
    cfg.sys = &sys;
    atomic_store(&fail_syncs, 0);
    zab_storage *s = open_cfg(&cfg);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    append_range(s, 1, 1, 3, 0);
    wait_synced(s, Z(1, 3));
    atomic_store(&fail_syncs, 1);
    append_range(s, 1, 4, 4, 0); /* accepted: the failure comes later */
    struct pollfd p = { zab_storage_fd(s), POLLIN, 0 };
    for (int i = 0; i < 200 && !zab_storage_status(s); i++) poll(&p, 1, 10);
    ck_assert_int_eq(zab_storage_status(s), ZAB_EIO);
    ck_assert_int_eq(zab_storage_synced(s), Z(1, 3));
    /* Even with the disk healthy again, nothing is retried or accepted. */
    atomic_store(&fail_syncs, 0);
    uint8_t b[8] = { 0 };
    zab_entry e = { Z(1, 5), b, sizeof(b) };
    ck_assert_int_eq(zab_storage_append(s, &e, 1), ZAB_EIO);
    ck_assert_int_eq(zab_storage_truncate(s, Z(1, 1)), ZAB_EIO);
    ck_assert_int_eq(zab_storage_save_epochs(s, 2, 2), ZAB_EIO);
    ck_assert_int_eq(zab_storage_snapshot(s, NULL), ZAB_EIO);
    ck_assert_int_eq(zab_storage_synced(s), Z(1, 3));
    ck_assert_int_eq(s->fail.errnum, EIO);
    ck_assert_msg(strstr(s->fail.msg, "fdatasync") && strstr(s->fail.msg, seg(1)), "%s",
                  s->fail.msg);
    char why[400];
    ck_assert_int_eq(zab_storage_error(s, why, sizeof(why)), ZAB_EIO);
    ck_assert_str_eq(why, s->fail.msg);
    zab_storage_close(s);
}
END_TEST

START_TEST(fsync_failure_in_epochs_is_final)
{
    struct zab_sys sys = *zab_sys_posix();
    sys.fsync = failing_fsync;
    zab_storage_config cfg = config();
    cfg.sys = &sys;
    atomic_store(&fail_syncs, 0);
    zab_storage *s = open_cfg(&cfg);
    ck_assert_int_eq(zab_storage_save_epochs(s, 1, 1), 0);
    atomic_store(&fail_syncs, 1);
    ck_assert_int_eq(zab_storage_save_epochs(s, 2, 1), ZAB_EIO);
    atomic_store(&fail_syncs, 0);
    ck_assert_int_eq(zab_storage_status(s), ZAB_EIO);
    ck_assert_int_eq(zab_storage_save_epochs(s, 2, 1), ZAB_EIO);
    zab_storage_close(s);
    /* The file kept its old content: the failed write never replaced it. */
    s = open_default();
    zab_node_state st;
    zab_storage_state(s, &st);
    ck_assert_int_eq(st.accepted_epoch, 1);
    zab_storage_close(s);
}
END_TEST

/* ---- a node on the storage ---- */

typedef struct host {
    zab_storage *s;
    zab_node *node;
    int64_t now;
    int results;
    int role;
} host;

static void h_send(void *ctx, int64_t to, const void *b, size_t len)
{
    (void)ctx, (void)to, (void)b, (void)len;
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
    (void)cookie;
    ck_assert_int_eq(reply->err, 0);
    ((host *)ctx)->results++;
}

static void h_role(void *ctx, int role, int64_t leader, int64_t epoch)
{
    (void)leader, (void)epoch;
    ((host *)ctx)->role = role;
}

static const zab_member one[1] = { { 1, 0 } };

static void host_start(host *h)
{
    zab_io io = { h, h_send, h_disconnect, h_append, h_truncate, h_epochs, h_snapshot,
                  h_result, h_role, NULL };
    zab_node_config cfg = { .sid = 1, .members = one, .nmembers = 1, .tick_ms = 100 };
    zab_node_state st;
    zab_storage_state(h->s, &st);
    h->node = zab_node_new(&cfg, &io, &st);
    ck_assert_ptr_nonnull(h->node);
    ck_assert_int_eq(zab_storage_restore(h->s, h->node), 0);
    ck_assert_int_eq(zab_node_start(h->node, h->now), 0);
}

/* One turn of a host's loop: time, then durability reports. The node's
 * clock must not outrun the disk: it judges a log that makes no sync
 * progress for disk_stall_ticks as stalled, so a turn waits (in real time)
 * as long as it advances the clock, unless the disk reports progress. */
static void host_turn(host *h)
{
    struct pollfd p = { zab_storage_fd(h->s), POLLIN, 0 };
    poll(&p, 1, 50);
    h->now += 50;
    ck_assert_int_eq(zab_node_tick(h->node, h->now), 0);
    ck_assert_int_eq(zab_node_log_synced(h->node, zab_storage_synced(h->s)), 0);
}

static void host_serve(host *h)
{
    zab_node_stats st;
    for (int i = 0; i < 400; i++) {
        zab_node_stats_get(h->node, &st);
        if (st.serving) return;
        host_turn(h);
    }
    ck_abort_msg("the node never served");
}

START_TEST(node_restores_where_it_stood)
{
    host h = { .s = open_default(), .now = 1000 };
    host_start(&h);
    host_serve(&h);
    int want = 0;
    for (int i = 0; i < 120; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/k%d", i);
        zab_op op = zab_op_create(path, "v", 1, zab_acl_open, 1, ZAB_PERSISTENT);
        zab_request req = { .type = ZAB_OP_CREATE, .ops = &op, .nops = 1 };
        ck_assert_int_eq(zab_node_submit(h.node, &req, (uint64_t)i + 1), 0);
        want++;
        if (i % 10 == 9) host_turn(&h);
        if (i == 70) {
            while (h.results < want) host_turn(&h);
            ck_assert_int_eq(zab_storage_snapshot(h.s, zab_node_tree(h.node)), 0);
        }
    }
    while (h.results < want) host_turn(&h);
    zab_tree_stats before;
    zab_tree_stats_get(zab_node_tree(h.node), &before);
    ck_assert_int_ge(before.nodes, 120);
    zab_node_free(h.node);
    zab_storage_close(h.s);

    host r = { .s = open_default(), .now = 100000 };
    ck_assert_str_eq(note, "");
    host_start(&r);
    zab_node_stats st;
    zab_node_stats_get(r.node, &st);
    ck_assert_int_eq(st.last_logged, before.last_zxid);
    host_serve(&r);
    for (int i = 0; i < 20; i++) host_turn(&r);
    zab_tree_stats after;
    zab_tree_stats_get(zab_node_tree(r.node), &after);
    ck_assert_uint_eq(after.nodes, before.nodes);
    ck_assert_uint_eq(after.digest, before.digest);
    /* A new leader's epoch may add its own marker transaction; the tree
     * holds everything that was there, and the zxid never goes back. */
    ck_assert_int_ge(after.last_zxid, before.last_zxid);
    zab_node_free(r.node);
    zab_storage_close(r.s);
}
END_TEST

static Suite *storage_suite(void)
{
    Suite *s = suite_create("storage");
    TCase *f = tcase_create("formats");
    tcase_add_checked_fixture(f, setup, teardown);
    tcase_add_test(f, names_round_trip);
    tcase_add_test(f, segment_header_round_trip);
    tcase_add_test(f, record_round_trip);
    tcase_add_test(f, snapshot_header_round_trip);
    tcase_add_test(f, epochs_round_trip);
    suite_add_tcase(s, f);

    TCase *r = tcase_create("recovery");
    tcase_add_checked_fixture(r, setup, teardown);
    tcase_add_test(r, fresh_directory);
    tcase_add_test(r, log_only);
    tcase_add_test(r, append_refuses_what_recovery_would);
    tcase_add_test(r, segments_roll);
    tcase_add_test(r, record_larger_than_a_segment);
    tcase_add_test(r, separate_log_dir);
    tcase_add_test(r, torn_tail_is_cut);
    tcase_add_test(r, torn_length_past_the_end);
    tcase_add_test(r, corruption_mid_log_refused_or_cut);
    tcase_add_test(r, corruption_in_earlier_segment_drops_later_ones);
    tcase_add_test(r, zxid_out_of_order_is_corruption);
    tcase_add_test(r, missing_middle_segment_refused);
    tcase_add_test(r, first_segment_gone_without_snapshot_refused);
    tcase_add_test(r, missing_epochs_with_data_refused);
    tcase_add_test(r, damaged_epochs_refused);
    tcase_add_test(r, leftover_tmp_files_removed);
    tcase_add_test(r, unknown_versions_refused);
    suite_add_tcase(s, r);

    TCase *t = tcase_create("truncate");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, truncate_inside_a_segment);
    tcase_add_test(t, truncate_across_segments);
    tcase_add_test(t, truncate_at_segment_start);
    suite_add_tcase(s, t);

    TCase *n = tcase_create("snapshots");
    tcase_add_checked_fixture(n, setup, teardown);
    tcase_set_timeout(n, 20);
    tcase_add_test(n, snapshot_and_log);
    tcase_add_test(n, bad_newest_snapshot_falls_back);
    tcase_add_test(n, periodic_snapshots_purge);
    tcase_add_test(n, save_snapshot_replaces_everything);
    tcase_add_test(n, save_snapshot_on_fresh_store);
    tcase_add_test(n, node_restores_where_it_stood);
    suite_add_tcase(s, n);

    TCase *w = tcase_create("writer");
    tcase_add_checked_fixture(w, setup, teardown);
    tcase_set_timeout(w, 20);
    tcase_add_test(w, group_commit);
    tcase_add_test(w, sync_each_record);
    tcase_add_test(w, close_flushes);
    tcase_add_test(w, fdatasync_failure_is_final);
    tcase_add_test(w, fsync_failure_in_epochs_is_final);
    suite_add_tcase(s, w);
    return s;
}

ZAB_CHECK_MAIN(storage_suite)
