/*
 * snapfile.c - the snapshot file format.
 *
 * A snapshot is the file dir/snap.<zxid as 16 lowercase hex digits>: an
 * exact image of the tree after zxid was applied. Integers are big-endian.
 *
 *   offset  size  header (48 bytes)
 *        0     8  magic "ZABSNAPF"
 *        8     4  u32 format version, 1
 *       12     4  u32 reserved, 0
 *       16     8  i64 zxid, the one in the file name
 *       24     8  u64 log_floor: the lowest log segment seq whose records
 *                 may be needed after this snapshot; recovery from this
 *                 snapshot ignores every segment below it
 *       32     8  u64 length of the body
 *       40     4  u32 CRC-32C of bytes 0..39
 *       44     4  zero
 *       48   len  body: exactly what zab_tree_save writes (the tree's own
 *                 format, with its own magic "ZABSNAP\0", zxid at body
 *                 offset 16, digest, and a CRC-32C trailer over the rest)
 *
 * The file is exactly 48 + length bytes. It is written as snap.<zxid>.tmp,
 * fsynced, renamed into place, and the directory fsynced, so a snapshot is
 * whole or absent; a damaged one (bit rot) fails its checks and recovery
 * falls back to an older one.
 *
 * A reader refuses a version it does not know (see segment.c).
 */
#include "storage/snapfile.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/segment.h"
#include "util/codec.h"
#include "util/prim.h"

static const uint8_t MAGIC[8] = { 'Z', 'A', 'B', 'S', 'N', 'A', 'P', 'F' };
static const uint8_t BODY_MAGIC[8] = { 'Z', 'A', 'B', 'S', 'N', 'A', 'P', 0 };
enum { CRC_COVERS = 40, BODY_MIN = 24 + 4, CHUNK = 1 << 20 };

void zab_snap_name(char *out, int64_t zxid)
{
    snprintf(out, ZAB_NAME_CAP, "snap.%016" PRIx64, (uint64_t)zxid);
}

int zab_snap_parse_name(const char *name, int64_t *zxid)
{
    uint64_t v;
    if (!zab_hex_name(name, "snap.", &v) || v > INT64_MAX) return 0;
    *zxid = (int64_t)v;
    return 1;
}

void zab_snap_header_encode(uint8_t out[ZAB_SNAP_HEADER], const zab_snap_meta *m)
{
    memset(out, 0, ZAB_SNAP_HEADER);
    memcpy(out, MAGIC, sizeof(MAGIC));
    zab_be32_put(out + 8, ZAB_SNAP_VERSION);
    zab_be64_put(out + 16, (uint64_t)m->zxid);
    zab_be64_put(out + 24, m->floor);
    zab_be64_put(out + 32, m->length);
    zab_be32_put(out + CRC_COVERS, zab_crc32c(0, out, CRC_COVERS));
}

int zab_snap_header_decode(const uint8_t in[ZAB_SNAP_HEADER], zab_snap_meta *m,
                           const char **why)
{
    zab_reader r = zab_reader_init(in, ZAB_SNAP_HEADER);
    const uint8_t *magic = zab_get_bytes(&r, 8);
    uint32_t version = zab_get_u32(&r);
    uint32_t reserved = zab_get_u32(&r);
    m->zxid = zab_get_i64(&r);
    m->floor = zab_get_u64(&r);
    m->length = zab_get_u64(&r);
    uint32_t crc = zab_get_u32(&r);
    if (r.err || memcmp(magic, MAGIC, sizeof(MAGIC))) {
        *why = "not a snapshot (bad magic)";
        return ZAB_ECORRUPT;
    }
    if (crc != zab_crc32c(0, in, CRC_COVERS)) {
        *why = "snapshot header checksum mismatch";
        return ZAB_ECORRUPT;
    }
    if (version != ZAB_SNAP_VERSION) {
        *why = "snapshot format version unknown to this library";
        return ZAB_EVERSION;
    }
    if (reserved || m->zxid < 0 || m->floor == 0 || m->length < BODY_MIN) {
        *why = "snapshot header holds invalid values";
        return ZAB_ECORRUPT;
    }
    return 0;
}

/* The body's CRC trailer, magic and zxid, read in chunks. */
static int check_body(const struct zab_sys *sys, int fd, const zab_snap_meta *m, const char *path,
                      const char **why, zab_serr *e)
{
    uint8_t *buf = malloc(CHUNK);
    if (!buf) return zab_serr_set(e, ZAB_ENOMEM, 0, "out of memory checking %s", path);
    uint64_t body_end = ZAB_SNAP_HEADER + m->length, off = ZAB_SNAP_HEADER;
    uint32_t crc = 0;
    int rc = 0;
    size_t got = 0;
    while (!rc && off < body_end - 4) {
        uint64_t left = body_end - 4 - off;
        size_t want = left < CHUNK ? (size_t)left : CHUNK;
        rc = zab_file_read(sys, fd, buf, want, off, &got, path, e);
        if (rc) break;
        if (got < want) {
            *why = "snapshot file shorter than its header says";
            rc = ZAB_ECORRUPT;
            break;
        }
        if (off == ZAB_SNAP_HEADER) {
            zab_reader r = zab_reader_init(buf, got);
            const uint8_t *magic = zab_get_bytes(&r, 8);
            zab_get_bytes(&r, 8);
            int64_t zxid = zab_get_i64(&r);
            if (r.err || memcmp(magic, BODY_MAGIC, sizeof(BODY_MAGIC)) || zxid != m->zxid) {
                *why = "snapshot body is not a tree image of its zxid";
                rc = ZAB_ECORRUPT;
                break;
            }
        }
        crc = zab_crc32c(crc, buf, got);
        off += got;
    }
    if (!rc) rc = zab_file_read(sys, fd, buf, 4, body_end - 4, &got, path, e);
    if (!rc && got < 4) {
        *why = "snapshot file shorter than its header says";
        rc = ZAB_ECORRUPT;
    }
    if (!rc) {
        zab_reader r = zab_reader_init(buf, 4);
        if (zab_get_u32(&r) != crc) {
            *why = "snapshot body checksum mismatch";
            rc = ZAB_ECORRUPT;
        }
    }
    free(buf);
    return rc;
}

int zab_snap_check(const struct zab_sys *sys, const char *dir, int64_t zxid, int body,
                   zab_snap_meta *m, const char **why, zab_serr *e)
{
    char name[ZAB_NAME_CAP], path[ZAB_PATH_CAP];
    zab_snap_name(name, zxid);
    zab_path(path, dir, name);
    int fd;
    int rc = zab_file_open_read(sys, dir, name, &fd, e);
    if (rc) return rc;
    uint8_t header[ZAB_SNAP_HEADER];
    size_t got = 0;
    uint64_t size = 0;
    rc = zab_file_read(sys, fd, header, sizeof(header), 0, &got, path, e);
    if (!rc) rc = zab_file_size(sys, fd, &size, path, e);
    if (!rc && got < sizeof(header)) {
        *why = "file shorter than a snapshot header";
        rc = ZAB_ECORRUPT;
    }
    if (!rc) rc = zab_snap_header_decode(header, m, why);
    if (!rc && m->zxid != zxid) {
        *why = "snapshot header names another zxid than its file name";
        rc = ZAB_ECORRUPT;
    }
    if (!rc && size != ZAB_SNAP_HEADER + m->length) {
        *why = "snapshot file size differs from its header";
        rc = ZAB_ECORRUPT;
    }
    if (!rc && body) rc = check_body(sys, fd, m, path, why, e);
    sys->close(fd);
    return rc;
}

int zab_snap_write(const struct zab_sys *sys, const char *dir, const zab_snap_meta *m,
                   const void *body, zab_serr *e)
{
    char name[ZAB_NAME_CAP];
    uint8_t header[ZAB_SNAP_HEADER];
    zab_snap_name(name, m->zxid);
    zab_snap_header_encode(header, m);
    return zab_file_replace(sys, dir, name, header, sizeof(header), body, (size_t)m->length, e);
}

typedef struct tree_out {
    const struct zab_sys *sys;
    int fd;
    uint64_t off;
    const char *path;
    zab_serr *e;
} tree_out;

static int write_tree_bytes(void *ctx, const void *bytes, size_t len)
{
    tree_out *o = ctx;
    int rc = zab_file_write(o->sys, o->fd, bytes, len, o->off, o->path, o->e);
    o->off += len;
    return rc;
}

int zab_snap_write_tree(const struct zab_sys *sys, const char *dir, const zab_tree *tree,
                        uint64_t floor, zab_snap_meta *m, zab_serr *e)
{
    zab_tree_stats st;
    zab_tree_stats_get(tree, &st);
    char name[ZAB_NAME_CAP], path[ZAB_PATH_CAP], tmp[ZAB_PATH_CAP + 8];
    zab_snap_name(name, st.last_zxid);
    zab_path(path, dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    tree_out o = { sys, sys->open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644), ZAB_SNAP_HEADER, tmp, e };
    if (o.fd < 0) return zab_serr_io(e, "create", tmp);
    int rc = zab_tree_save(tree, write_tree_bytes, &o);
    if (rc && rc != ZAB_EIO) zab_serr_set(e, rc, 0, "serializing the tree into %s", tmp);
    if (!rc) {
        /* The header goes last: only now is the body's length known. */
        *m = (zab_snap_meta){ st.last_zxid, floor, o.off - ZAB_SNAP_HEADER };
        uint8_t header[ZAB_SNAP_HEADER];
        zab_snap_header_encode(header, m);
        rc = zab_file_write(sys, o.fd, header, sizeof(header), 0, tmp, e);
    }
    if (!rc && sys->fsync(o.fd) < 0) rc = zab_serr_io(e, "fsync", tmp);
    if (sys->close(o.fd) < 0 && !rc) rc = zab_serr_io(e, "close", tmp);
    if (!rc && sys->rename(tmp, path) < 0) rc = zab_serr_io(e, "rename", tmp);
    if (!rc) return zab_dir_sync(sys, dir, e);
    sys->unlink(tmp);
    return rc;
}

int zab_snap_reader_open(zab_snap_reader *r, const struct zab_sys *sys, const char *dir,
                         int64_t zxid, uint64_t length, zab_serr *e)
{
    char name[ZAB_NAME_CAP];
    zab_snap_name(name, zxid);
    zab_path(r->path, dir, name);
    r->sys = sys;
    r->off = ZAB_SNAP_HEADER;
    r->left = length;
    r->e = e;
    return zab_file_open_read(sys, dir, name, &r->fd, e);
}

long zab_snap_read(void *ctx, void *bytes, size_t len)
{
    zab_snap_reader *r = ctx;
    if (len > r->left) len = (size_t)r->left;
    if (len > CHUNK) len = CHUNK;
    if (!len) return 0;
    size_t got = 0;
    int rc = zab_file_read(r->sys, r->fd, bytes, len, r->off, &got, r->path, r->e);
    if (rc) return rc;
    if (got == 0) return zab_serr_set(r->e, ZAB_ECORRUPT, 0, "%s ended early", r->path);
    r->off += got;
    r->left -= got;
    return (long)got;
}

void zab_snap_reader_close(zab_snap_reader *r)
{
    if (r->fd >= 0) r->sys->close(r->fd);
    r->fd = -1;
}
