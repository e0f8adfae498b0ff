/*
 * segment.h - log segment files: naming, the header, record framing,
 * creation with preallocation, cutting, and a validating scanner.
 * segment.c describes the format byte by byte.
 */
#ifndef ZAB_STORAGE_SEGMENT_H
#define ZAB_STORAGE_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "storage/file.h"

enum {
    ZAB_SEG_HEADER = 64, /* bytes before the first record */
    ZAB_REC_HEADER = 16, /* u32 len, i64 zxid, u32 crc */
    ZAB_SEG_VERSION = 1
};

/* An internal code: a header whose checksum holds but whose version is not
 * one this library knows (written by a newer one). Reported as ZAB_ECORRUPT. */
enum { ZAB_EVERSION = -1900 };

/* "log.<seq as 16 hex digits>" into out (ZAB_NAME_CAP bytes). */
void zab_seg_name(char *out, uint64_t seq);
/* 1 and *seq when name is exactly a segment's name, else 0. */
int zab_seg_parse_name(const char *name, uint64_t *seq);

void zab_seg_header_encode(uint8_t out[ZAB_SEG_HEADER], uint64_t seq, int64_t prev_zxid);
/* 0, ZAB_ECORRUPT or ZAB_EVERSION with *why set. */
int zab_seg_header_decode(const uint8_t in[ZAB_SEG_HEADER], uint64_t *seq, int64_t *prev_zxid,
                          const char **why);

/* The 16 bytes that precede txn in a record. */
void zab_rec_header_encode(uint8_t out[ZAB_REC_HEADER], int64_t zxid, const void *txn,
                           uint32_t len);

/* Create dir/log.<seq> durably, size bytes long (header, then zeros), and
 * return it open for reading and writing in *fd: built as a .tmp file,
 * preallocated, fsynced, renamed, and the directory fsynced, so the segment
 * either exists whole or not at all. */
int zab_seg_create(const struct zab_sys *sys, const char *dir, uint64_t seq, int64_t prev_zxid,
                   uint64_t size, int *fd, zab_serr *e);

/* Open dir/log.<seq> for reading and writing. */
int zab_seg_open(const struct zab_sys *sys, const char *dir, uint64_t seq, int *fd, zab_serr *e);

/* Durably discard everything from off on, keeping the file size bytes long
 * and zero past off: ftruncate, preallocate again, fsync. */
int zab_seg_cut(const struct zab_sys *sys, int fd, uint64_t off, uint64_t size, const char *path,
                zab_serr *e);

/* A scanner reads a segment's records in order and validates each. */
typedef struct zab_seg_scan {
    const struct zab_sys *sys;
    int fd;
    uint64_t size;      /* of the file */
    const char *path;   /* for messages; borrowed */
    uint64_t off;       /* of the next record */
    uint8_t *buf;       /* a window of the file */
    size_t cap, len;
    uint64_t buf_off;
    /* Damage, when next returns ZAB_SCAN_BAD. */
    uint64_t bad_off;   /* where the damaged record starts */
    uint64_t bad_end;   /* where it ends (at most size) */
    int tail_zero;      /* every byte from bad_end to the end of the file is zero */
    const char *why;
} zab_seg_scan;

typedef struct zab_seg_rec {
    int64_t zxid;
    const uint8_t *txn; /* valid until the next call on the scanner */
    uint32_t len;
    uint64_t off;       /* of the record */
} zab_seg_rec;

enum { ZAB_SCAN_END = 0, ZAB_SCAN_REC = 1, ZAB_SCAN_BAD = 2 };

void zab_seg_scan_init(zab_seg_scan *sc, const struct zab_sys *sys, int fd, uint64_t size,
                       const char *path);
void zab_seg_scan_free(zab_seg_scan *sc);

/* Read and check the header: 0; ZAB_ECORRUPT or ZAB_EVERSION with sc->why;
 * ZAB_EIO. The scanner is then at the first record. */
int zab_seg_scan_header(zab_seg_scan *sc, uint64_t *seq, int64_t *prev_zxid, zab_serr *e);

/* The next record: ZAB_SCAN_REC and *rec; ZAB_SCAN_END at the end of the
 * log (a zero length field with nothing but zeros after it, or the end of
 * the file); ZAB_SCAN_BAD for a damaged record (bad_off, bad_end,
 * tail_zero, why); ZAB_EIO or ZAB_ENOMEM. */
int zab_seg_scan_next(zab_seg_scan *sc, zab_seg_rec *rec, zab_serr *e);

#endif
