/*
 * file.c - file helpers over struct zab_sys.
 */
#include "storage/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { IO_CHUNK = 1 << 20, WRITE_CHUNK = 1 << 30 };

int zab_serr_set(zab_serr *e, int code, int errnum, const char *fmt, ...)
{
    if (!e) return code;
    e->code = code;
    e->errnum = errnum;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    if (errnum && n >= 0 && (size_t)n < sizeof(e->msg))
        snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", strerror(errnum));
    return code;
}

int zab_serr_io(zab_serr *e, const char *call, const char *path)
{
    int errnum = errno ? errno : EIO;
    return zab_serr_set(e, ZAB_EIO, errnum, "%s %s", call, path);
}

void zab_path(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, ZAB_PATH_CAP, "%s/%s", dir, name);
    (void)n;
}

int zab_file_write(const struct zab_sys *sys, int fd, const void *bytes, size_t len,
                   uint64_t off, const char *path, zab_serr *e)
{
    const uint8_t *p = bytes;
    while (len) {
        size_t part = len < WRITE_CHUNK ? len : WRITE_CHUNK;
        ssize_t n = sys->pwrite(fd, p, part, (off_t)off);
        if (n < 0) return zab_serr_io(e, "write", path);
        if ((size_t)n != part) {
            /* On a regular file a short write means the device is full; the
             * bytes that did land are never trusted. */
            return zab_serr_set(e, ZAB_EIO, ENOSPC, "short write (%zd of %zu bytes) to %s", n,
                                part, path);
        }
        p += part;
        off += part;
        len -= part;
    }
    return 0;
}

int zab_file_read(const struct zab_sys *sys, int fd, void *bytes, size_t len, uint64_t off,
                  size_t *got, const char *path, zab_serr *e)
{
    uint8_t *p = bytes;
    size_t done = 0;
    while (done < len) {
        ssize_t n = sys->pread(fd, p + done, len - done, (off_t)(off + done));
        if (n < 0) return zab_serr_io(e, "read", path);
        if (n == 0) break;
        done += (size_t)n;
    }
    *got = done;
    return 0;
}

int zab_file_size(const struct zab_sys *sys, int fd, uint64_t *size, const char *path,
                  zab_serr *e)
{
    struct stat st;
    if (sys->fstat(fd, &st) < 0) return zab_serr_io(e, "stat", path);
    *size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    return 0;
}

static int write_zeros(const struct zab_sys *sys, int fd, uint64_t off, uint64_t len,
                       const char *path, zab_serr *e)
{
    static const uint8_t zeros[64 * 1024];
    while (len) {
        size_t part = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
        int rc = zab_file_write(sys, fd, zeros, part, off, path, e);
        if (rc) return rc;
        off += part;
        len -= part;
    }
    return 0;
}

int zab_file_prealloc(const struct zab_sys *sys, int fd, uint64_t off, uint64_t len,
                      const char *path, zab_serr *e)
{
    if (!len) return 0;
    if (sys->fallocate(fd, (off_t)off, (off_t)len) == 0) return 0;
    if (errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
        return zab_serr_io(e, "preallocate", path);
    return write_zeros(sys, fd, off, len, path, e);
}

int zab_file_is_zero(const struct zab_sys *sys, int fd, uint64_t off, uint64_t end, int *zero,
                     const char *path, zab_serr *e)
{
    static const uint8_t zeros[4096];
    uint8_t buf[4096];
    *zero = 1;
    while (off < end) {
        size_t want = end - off < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
        size_t got = 0;
        int rc = zab_file_read(sys, fd, buf, want, off, &got, path, e);
        if (rc) return rc;
        if (memcmp(buf, zeros, got)) {
            *zero = 0;
            return 0;
        }
        if (got < want) return 0; /* the file ended early */
        off += got;
    }
    return 0;
}

int zab_dir_sync(const struct zab_sys *sys, const char *dir, zab_serr *e)
{
    int fd = sys->open(dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) return zab_serr_io(e, "open directory", dir);
    int rc = 0;
    if (sys->fsync(fd) < 0) rc = zab_serr_io(e, "fsync directory", dir);
    sys->close(fd);
    return rc;
}

int zab_file_remove(const struct zab_sys *sys, const char *dir, const char *name, zab_serr *e)
{
    char path[ZAB_PATH_CAP];
    zab_path(path, dir, name);
    if (sys->unlink(path) < 0 && errno != ENOENT) return zab_serr_io(e, "unlink", path);
    return 0;
}

int zab_file_replace(const struct zab_sys *sys, const char *dir, const char *name,
                     const void *a, size_t alen, const void *b, size_t blen, zab_serr *e)
{
    char path[ZAB_PATH_CAP], tmp[ZAB_PATH_CAP + 8];
    zab_path(path, dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = sys->open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return zab_serr_io(e, "create", tmp);
    int rc = zab_file_write(sys, fd, a, alen, 0, tmp, e);
    if (!rc && blen) rc = zab_file_write(sys, fd, b, blen, alen, tmp, e);
    if (!rc && sys->fsync(fd) < 0) rc = zab_serr_io(e, "fsync", tmp);
    if (sys->close(fd) < 0 && !rc) rc = zab_serr_io(e, "close", tmp);
    if (!rc && sys->rename(tmp, path) < 0) rc = zab_serr_io(e, "rename", tmp);
    if (!rc) rc = zab_dir_sync(sys, dir, e);
    return rc;
}

int zab_file_open_read(const struct zab_sys *sys, const char *dir, const char *name, int *fd,
                       zab_serr *e)
{
    char path[ZAB_PATH_CAP];
    zab_path(path, dir, name);
    *fd = sys->open(path, O_RDONLY, 0);
    if (*fd < 0) return zab_serr_io(e, "open", path);
    return 0;
}

int zab_hex_name(const char *name, const char *prefix, uint64_t *value)
{
    size_t plen = strlen(prefix);
    if (strncmp(name, prefix, plen)) return 0;
    const char *h = name + plen;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = h[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return 0;
        v = v << 4 | (uint64_t)d;
    }
    if (h[16]) return 0;
    *value = v;
    return 1;
}
