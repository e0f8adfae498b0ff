/*
 * file.h - file helpers for storage, built on the replaceable system calls
 * of sys.h: whole writes (a short write is a failure), reads to a length,
 * preallocation, directory sync, atomic replacement of a small file, and
 * error descriptions that name the file and the failed call.
 */
#ifndef ZAB_STORAGE_FILE_H
#define ZAB_STORAGE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "storage/sys.h"
#include "zab.h"

/* Room for dir + "/" + the longest file name storage uses. */
enum { ZAB_PATH_CAP = 4096, ZAB_NAME_CAP = 40 };

/* A failure: the zab code, the errno behind it (0 if none), and a sentence
 * naming the file. */
typedef struct zab_serr {
    int code;
    int errnum;
    char msg[320];
} zab_serr;

/* Fill *e (unless e is NULL) and return code. errnum non-zero appends its
 * strerror text. */
int zab_serr_set(zab_serr *e, int code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ZAB_EIO for call failing on path with the current errno. */
int zab_serr_io(zab_serr *e, const char *call, const char *path);

/* dir + "/" + name into out (ZAB_PATH_CAP bytes). Callers check lengths at
 * open, so this always fits. */
void zab_path(char *out, const char *dir, const char *name);

/* Write all len bytes at off; a short write is ZAB_EIO (errno ENOSPC). */
int zab_file_write(const struct zab_sys *sys, int fd, const void *bytes, size_t len,
                   uint64_t off, const char *path, zab_serr *e);

/* Read up to len bytes at off, stopping early only at the end of the file;
 * *got says how many. */
int zab_file_read(const struct zab_sys *sys, int fd, void *bytes, size_t len, uint64_t off,
                  size_t *got, const char *path, zab_serr *e);

int zab_file_size(const struct zab_sys *sys, int fd, uint64_t *size, const char *path,
                  zab_serr *e);

/* Reserve [off, off + len) so later writes there change no metadata but the
 * extents: fallocate, or zeros where the file system cannot preallocate. */
int zab_file_prealloc(const struct zab_sys *sys, int fd, uint64_t off, uint64_t len,
                      const char *path, zab_serr *e);

/* Whether every byte of [off, end) reads as zero (*zero 1 or 0). */
int zab_file_is_zero(const struct zab_sys *sys, int fd, uint64_t off, uint64_t end, int *zero,
                     const char *path, zab_serr *e);

/* fsync a directory, making creations, renames and unlinks in it durable. */
int zab_dir_sync(const struct zab_sys *sys, const char *dir, zab_serr *e);

/* Remove dir/name; a missing file is not an error. The caller syncs dir. */
int zab_file_remove(const struct zab_sys *sys, const char *dir, const char *name, zab_serr *e);

/* Durably make dir/name hold a + b (b may be NULL): write name.tmp, fsync it,
 * rename it over name, fsync dir. A crash leaves the old file or the new. */
int zab_file_replace(const struct zab_sys *sys, const char *dir, const char *name,
                     const void *a, size_t alen, const void *b, size_t blen, zab_serr *e);

/* Open dir/name read-only; ZAB_EIO on failure. */
int zab_file_open_read(const struct zab_sys *sys, const char *dir, const char *name, int *fd,
                       zab_serr *e);

/* Big-endian stores into fixed-size headers. */
static inline void zab_be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void zab_be64_put(uint8_t *p, uint64_t v)
{
    zab_be32_put(p, (uint32_t)(v >> 32));
    zab_be32_put(p + 4, (uint32_t)v);
}

/* 1 and *value when name is exactly prefix + 16 lowercase hex digits. */
int zab_hex_name(const char *name, const char *prefix, uint64_t *value);

#endif
