/*
 * sys.h - the system calls file storage makes, behind a table of function
 * pointers so tests can replace any one of them (fault injection: a failing
 * fsync, a short write, ENOSPC) without touching the rest.
 *
 * Each entry takes exactly the arguments of the POSIX call it stands for and
 * follows one convention: it returns -1 (or a negative ssize_t) with errno
 * set on failure. Two entries have no single POSIX call behind them:
 *
 *   fallocate  reserves [off, off + len) like posix_fallocate, but reports
 *              failure as -1 + errno (posix_fallocate returns the error);
 *              storage falls back to writing zeros when it fails with
 *              EINVAL, EOPNOTSUPP or ENOSYS (file systems that cannot
 *              preallocate).
 *   list       calls each(ctx, name) for every entry of directory path
 *              except "." and "..", in no set order; a non-zero return from
 *              each stops the listing and is returned as is.
 *
 * Directories are synced by open(path, O_RDONLY | O_DIRECTORY), fsync,
 * close, so a replaced fsync sees directory syncs too.
 *
 * To inject a fault, copy the real table and swap one entry:
 *
 *     struct zab_sys faulty = *zab_sys_posix();
 *     faulty.fdatasync = failing_fdatasync;
 *     cfg.sys = &faulty;    (must outlive the storage)
 *
 * Entries may be called from the storage's writer thread as well as from the
 * thread that drives the node, so a replacement that keeps state must make it
 * thread-safe (an atomic counter, for instance).
 */
#ifndef ZAB_STORAGE_SYS_H
#define ZAB_STORAGE_SYS_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct zab_sys {
    int (*open)(const char *path, int flags, mode_t mode);
    int (*close)(int fd);
    ssize_t (*pread)(int fd, void *buf, size_t len, off_t off);
    ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
    int (*fsync)(int fd);
    int (*fdatasync)(int fd);
    int (*ftruncate)(int fd, off_t len);
    int (*fallocate)(int fd, off_t off, off_t len);
    int (*rename)(const char *from, const char *to);
    int (*unlink)(const char *path);
    int (*mkdir)(const char *path, mode_t mode);
    int (*list)(const char *path, int (*each)(void *ctx, const char *name), void *ctx);
    int (*fstat)(int fd, struct stat *st);
};

/* The real calls. The table is constant and shared; never NULL. */
const struct zab_sys *zab_sys_posix(void);

#endif
