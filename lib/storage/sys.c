/*
 * sys.c - the POSIX implementation of struct zab_sys.
 */
#include "storage/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int sys_open(const char *path, int flags, mode_t mode)
{
    int fd;
    do {
        fd = open(path, flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

/* close is not retried on EINTR: on Linux the descriptor is gone either way. */
static int sys_close(int fd)
{
    return close(fd);
}

static ssize_t sys_pread(int fd, void *buf, size_t len, off_t off)
{
    ssize_t n;
    do {
        n = pread(fd, buf, len, off);
    } while (n < 0 && errno == EINTR);
    return n;
}

static ssize_t sys_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    ssize_t n;
    do {
        n = pwrite(fd, buf, len, off);
    } while (n < 0 && errno == EINTR);
    return n;
}

static int sys_fsync(int fd)
{
    return fsync(fd);
}

static int sys_fdatasync(int fd)
{
    return fdatasync(fd);
}

static int sys_ftruncate(int fd, off_t len)
{
    int rc;
    do {
        rc = ftruncate(fd, len);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

static int sys_fallocate(int fd, off_t off, off_t len)
{
    int rc;
    do {
        rc = posix_fallocate(fd, off, len);
    } while (rc == EINTR);
    if (rc == 0) return 0;
    errno = rc;
    return -1;
}

static int sys_rename(const char *from, const char *to)
{
    return rename(from, to);
}

static int sys_unlink(const char *path)
{
    return unlink(path);
}

static int sys_mkdir(const char *path, mode_t mode)
{
    return mkdir(path, mode);
}

static int sys_list(const char *path, int (*each)(void *ctx, const char *name), void *ctx)
{
    DIR *d = opendir(path);
    if (!d) return -1;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno) rc = -1;
            break;
        }
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        rc = each(ctx, e->d_name);
        if (rc) break;
    }
    int saved = errno;
    closedir(d);
    errno = saved;
    return rc;
}

static int sys_fstat(int fd, struct stat *st)
{
    return fstat(fd, st);
}

static const struct zab_sys posix_sys = {
    .open = sys_open,
    .close = sys_close,
    .pread = sys_pread,
    .pwrite = sys_pwrite,
    .fsync = sys_fsync,
    .fdatasync = sys_fdatasync,
    .ftruncate = sys_ftruncate,
    .fallocate = sys_fallocate,
    .rename = sys_rename,
    .unlink = sys_unlink,
    .mkdir = sys_mkdir,
    .list = sys_list,
    .fstat = sys_fstat,
};

const struct zab_sys *zab_sys_posix(void)
{
    return &posix_sys;
}
