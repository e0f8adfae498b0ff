/*
 * segment.c - the log segment format.
 *
 * A segment is the file log_dir/log.<seq as 16 lowercase hex digits>. Its
 * size is fixed when it is created (preallocated, so appending never changes
 * it); every integer is big-endian.
 *
 *   offset  size  header (64 bytes)
 *        0     8  magic "ZABLOG" 0x00 0x01
 *        8     4  u32 format version, 1
 *       12     4  u32 reserved, 0
 *       16     8  u64 seq, the number in the file name
 *       24     8  i64 prev_zxid: the zxid just before the first record (the
 *                 last zxid of the previous segment, or the snapshot zxid
 *                 the segment follows; 0 for the first segment ever)
 *       32     4  u32 CRC-32C of bytes 0..31
 *       36    28  zero
 *
 *   records, back to back from offset 64:
 *        0     4  u32 len, the transaction's length, > 0
 *        4     8  i64 zxid
 *       12     4  u32 CRC-32C of the 12 bytes at 0..11, then the transaction
 *       16   len  the transaction
 *
 * The rest of the file is zeros: a length field of 0 marks the end of the
 * log in this segment. A record that does not fit in the space left starts
 * the next segment; a record larger than segment_bytes - 64 gets a segment
 * of exactly its size.
 *
 * A reader refuses a version it does not know; a new format is a new version
 * number, and an upgrade path is documented in zab-storage(7).
 */
#include "storage/segment.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/codec.h"
#include "util/prim.h"

static const uint8_t MAGIC[8] = { 'Z', 'A', 'B', 'L', 'O', 'G', 0, 1 };
enum { CRC_COVERS = 32, SCAN_CHUNK = 1 << 20 };

void zab_seg_name(char *out, uint64_t seq)
{
    snprintf(out, ZAB_NAME_CAP, "log.%016" PRIx64, seq);
}

int zab_seg_parse_name(const char *name, uint64_t *seq)
{
    return zab_hex_name(name, "log.", seq);
}

void zab_seg_header_encode(uint8_t out[ZAB_SEG_HEADER], uint64_t seq, int64_t prev_zxid)
{
    memset(out, 0, ZAB_SEG_HEADER);
    memcpy(out, MAGIC, sizeof(MAGIC));
    zab_be32_put(out + 8, ZAB_SEG_VERSION);
    zab_be64_put(out + 16, seq);
    zab_be64_put(out + 24, (uint64_t)prev_zxid);
    zab_be32_put(out + CRC_COVERS, zab_crc32c(0, out, CRC_COVERS));
}

int zab_seg_header_decode(const uint8_t in[ZAB_SEG_HEADER], uint64_t *seq, int64_t *prev_zxid,
                          const char **why)
{
    zab_reader r = zab_reader_init(in, ZAB_SEG_HEADER);
    const uint8_t *magic = zab_get_bytes(&r, 8);
    uint32_t version = zab_get_u32(&r);
    uint32_t reserved = zab_get_u32(&r);
    *seq = zab_get_u64(&r);
    *prev_zxid = zab_get_i64(&r);
    uint32_t crc = zab_get_u32(&r);
    if (r.err || memcmp(magic, MAGIC, sizeof(MAGIC))) {
        *why = "not a log segment (bad magic)";
        return ZAB_ECORRUPT;
    }
    if (crc != zab_crc32c(0, in, CRC_COVERS)) {
        *why = "segment header checksum mismatch";
        return ZAB_ECORRUPT;
    }
    if (version != ZAB_SEG_VERSION) {
        *why = "segment format version unknown to this library";
        return ZAB_EVERSION;
    }
    if (reserved || *prev_zxid < 0) {
        *why = "segment header holds invalid values";
        return ZAB_ECORRUPT;
    }
    return 0;
}

void zab_rec_header_encode(uint8_t out[ZAB_REC_HEADER], int64_t zxid, const void *txn,
                           uint32_t len)
{
    zab_be32_put(out, len);
    zab_be64_put(out + 4, (uint64_t)zxid);
    uint32_t crc = zab_crc32c(0, out, 12);
    zab_be32_put(out + 12, zab_crc32c(crc, txn, len));
}

int zab_seg_create(const struct zab_sys *sys, const char *dir, uint64_t seq, int64_t prev_zxid,
                   uint64_t size, int *fd, zab_serr *e)
{
    char name[ZAB_NAME_CAP], path[ZAB_PATH_CAP], tmp[ZAB_PATH_CAP + 8];
    zab_seg_name(name, seq);
    zab_path(path, dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    uint8_t header[ZAB_SEG_HEADER];
    zab_seg_header_encode(header, seq, prev_zxid);
    *fd = sys->open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (*fd < 0) return zab_serr_io(e, "create", tmp);
    int rc = zab_file_write(sys, *fd, header, sizeof(header), 0, tmp, e);
    if (!rc) rc = zab_file_prealloc(sys, *fd, ZAB_SEG_HEADER, size - ZAB_SEG_HEADER, tmp, e);
    /* fsync, not fdatasync: the file's size and allocation are new. */
    if (!rc && sys->fsync(*fd) < 0) rc = zab_serr_io(e, "fsync", tmp);
    if (!rc && sys->rename(tmp, path) < 0) rc = zab_serr_io(e, "rename", tmp);
    if (!rc) rc = zab_dir_sync(sys, dir, e);
    if (rc) {
        sys->close(*fd);
        *fd = -1;
    }
    return rc;
}

int zab_seg_open(const struct zab_sys *sys, const char *dir, uint64_t seq, int *fd, zab_serr *e)
{
    char name[ZAB_NAME_CAP], path[ZAB_PATH_CAP];
    zab_seg_name(name, seq);
    zab_path(path, dir, name);
    *fd = sys->open(path, O_RDWR, 0);
    if (*fd < 0) return zab_serr_io(e, "open", path);
    return 0;
}

int zab_seg_cut(const struct zab_sys *sys, int fd, uint64_t off, uint64_t size, const char *path,
                zab_serr *e)
{
    if (sys->ftruncate(fd, (off_t)off) < 0) return zab_serr_io(e, "truncate", path);
    int rc = size > off ? zab_file_prealloc(sys, fd, off, size - off, path, e) : 0;
    if (!rc && sys->fsync(fd) < 0) rc = zab_serr_io(e, "fsync", path);
    return rc;
}

/* ---- scanning ---- */

void zab_seg_scan_init(zab_seg_scan *sc, const struct zab_sys *sys, int fd, uint64_t size,
                       const char *path)
{
    memset(sc, 0, sizeof(*sc));
    sc->sys = sys;
    sc->fd = fd;
    sc->size = size;
    sc->path = path;
    sc->off = ZAB_SEG_HEADER;
}

void zab_seg_scan_free(zab_seg_scan *sc)
{
    free(sc->buf);
    sc->buf = NULL;
    sc->cap = sc->len = 0;
}

/* Make [off, off + n) of the file (n <= size - off) available at *p. The
 * window grows to the largest record seen, which the file size bounds. */
static int window(zab_seg_scan *sc, uint64_t off, size_t n, const uint8_t **p, zab_serr *e)
{
    if (off >= sc->buf_off && off + n <= sc->buf_off + sc->len) {
        *p = sc->buf + (off - sc->buf_off);
        return 0;
    }
    size_t want = n > SCAN_CHUNK ? n : SCAN_CHUNK;
    if (want > sc->size - off) want = (size_t)(sc->size - off);
    if (want > sc->cap) {
        uint8_t *grown = realloc(sc->buf, want);
        if (!grown) return zab_serr_set(e, ZAB_ENOMEM, 0, "out of memory reading %s", sc->path);
        sc->buf = grown;
        sc->cap = want;
    }
    size_t got = 0;
    int rc = zab_file_read(sc->sys, sc->fd, sc->buf, want, off, &got, sc->path, e);
    if (rc) return rc;
    sc->buf_off = off;
    sc->len = got;
    if (got < n) {
        /* The file shrank under us. */
        return zab_serr_set(e, ZAB_EIO, 0, "%s ended while being read", sc->path);
    }
    *p = sc->buf;
    return 0;
}

int zab_seg_scan_header(zab_seg_scan *sc, uint64_t *seq, int64_t *prev_zxid, zab_serr *e)
{
    if (sc->size < ZAB_SEG_HEADER) {
        sc->why = "file shorter than a segment header";
        return ZAB_ECORRUPT;
    }
    const uint8_t *p;
    int rc = window(sc, 0, ZAB_SEG_HEADER, &p, e);
    if (rc) return rc;
    sc->off = ZAB_SEG_HEADER;
    return zab_seg_header_decode(p, seq, prev_zxid, &sc->why);
}

static int bad(zab_seg_scan *sc, uint64_t off, uint64_t end, const char *why, zab_serr *e)
{
    sc->bad_off = off;
    sc->bad_end = end;
    sc->why = why;
    int rc = zab_file_is_zero(sc->sys, sc->fd, end, sc->size, &sc->tail_zero, sc->path, e);
    return rc ? rc : ZAB_SCAN_BAD;
}

int zab_seg_scan_next(zab_seg_scan *sc, zab_seg_rec *rec, zab_serr *e)
{
    uint64_t off = sc->off, left = sc->size - off;
    if (left == 0) return ZAB_SCAN_END;
    const uint8_t *p;
    int zero, rc;
    if (left < ZAB_REC_HEADER) {
        if ((rc = zab_file_is_zero(sc->sys, sc->fd, off, sc->size, &zero, sc->path, e))) return rc;
        return zero ? ZAB_SCAN_END : bad(sc, off, sc->size, "record header cut short", e);
    }
    if ((rc = window(sc, off, ZAB_REC_HEADER, &p, e))) return rc;
    zab_reader r = zab_reader_init(p, ZAB_REC_HEADER);
    uint32_t len = zab_get_u32(&r);
    int64_t zxid = zab_get_i64(&r);
    uint32_t crc = zab_get_u32(&r);
    if (len == 0) {
        if ((rc = zab_file_is_zero(sc->sys, sc->fd, off, sc->size, &zero, sc->path, e))) return rc;
        if (zero) return ZAB_SCAN_END;
        return bad(sc, off, off + ZAB_REC_HEADER, "record with length 0 before more data", e);
    }
    if (len > left - ZAB_REC_HEADER)
        return bad(sc, off, sc->size, "record length runs past the end of the file", e);
    if ((rc = window(sc, off, ZAB_REC_HEADER + (size_t)len, &p, e))) return rc;
    uint32_t want = zab_crc32c(zab_crc32c(0, p, 12), p + ZAB_REC_HEADER, len);
    uint64_t end = off + ZAB_REC_HEADER + len;
    if (crc != want) return bad(sc, off, end, "record checksum mismatch", e);
    rec->zxid = zxid;
    rec->txn = p + ZAB_REC_HEADER;
    rec->len = len;
    rec->off = off;
    sc->off = end;
    return ZAB_SCAN_REC;
}
