/*
 * snapfile.h - snapshot files: naming, the header, writing (from memory or
 * streamed from a tree), validating, and reading the body back for
 * zab_tree_load. snapfile.c describes the format byte by byte.
 */
#ifndef ZAB_STORAGE_SNAPFILE_H
#define ZAB_STORAGE_SNAPFILE_H

#include <stdint.h>

#include "storage/file.h"

enum { ZAB_SNAP_HEADER = 48, ZAB_SNAP_VERSION = 1 };

typedef struct zab_snap_meta {
    int64_t zxid;       /* the tree's last applied zxid */
    uint64_t floor;     /* lowest segment seq recovery may need after it */
    uint64_t length;    /* of the body */
} zab_snap_meta;

/* "snap.<zxid as 16 hex digits>" into out (ZAB_NAME_CAP bytes). */
void zab_snap_name(char *out, int64_t zxid);
/* 1 and *zxid when name is exactly a snapshot's name, else 0. */
int zab_snap_parse_name(const char *name, int64_t *zxid);

void zab_snap_header_encode(uint8_t out[ZAB_SNAP_HEADER], const zab_snap_meta *m);
/* 0, ZAB_ECORRUPT or ZAB_EVERSION (segment.h) with *why set. */
int zab_snap_header_decode(const uint8_t in[ZAB_SNAP_HEADER], zab_snap_meta *m,
                           const char **why);

/* Check dir/snap.<zxid>: its header, that it names the same zxid, that the
 * file is exactly header + body long, and, when body is non-zero, that the
 * body is a tree snapshot of that zxid whose CRC trailer matches. 0 and *m;
 * ZAB_ECORRUPT or ZAB_EVERSION with *why; ZAB_EIO, ZAB_ENOMEM with e. */
int zab_snap_check(const struct zab_sys *sys, const char *dir, int64_t zxid, int body,
                   zab_snap_meta *m, const char **why, zab_serr *e);

/* Durably write dir/snap.<m->zxid> holding body (m->length bytes, the
 * output of zab_tree_save): tmp file, fsync, rename, fsync dir. */
int zab_snap_write(const struct zab_sys *sys, const char *dir, const zab_snap_meta *m,
                   const void *body, zab_serr *e);

/* The same, serializing tree straight into the file (no copy in memory);
 * *m receives what the header says. A failure of zab_tree_save itself
 * (ZAB_ENOMEM, ZAB_EFAILED) leaves no file behind. */
int zab_snap_write_tree(const struct zab_sys *sys, const char *dir, const zab_tree *tree,
                        uint64_t floor, zab_snap_meta *m, zab_serr *e);

/* A zab_read_fn over a snapshot's body. */
typedef struct zab_snap_reader {
    const struct zab_sys *sys;
    int fd;
    uint64_t off, left;
    zab_serr *e;
    char path[ZAB_PATH_CAP];
} zab_snap_reader;

/* Open dir/snap.<zxid> (checked earlier) for reading its body of length. */
int zab_snap_reader_open(zab_snap_reader *r, const struct zab_sys *sys, const char *dir,
                         int64_t zxid, uint64_t length, zab_serr *e);
long zab_snap_read(void *ctx, void *bytes, size_t len);
void zab_snap_reader_close(zab_snap_reader *r);

#endif
