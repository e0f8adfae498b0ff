/*
 * tmpdir.h - a scratch directory for a test that writes files: made fresh
 * under /tmp, removed with everything in it when the test is done.
 */
#ifndef ZAB_TESTS_TMPDIR_H
#define ZAB_TESTS_TMPDIR_H

#include <stddef.h>

/* Make a new directory /tmp/<prefix>XXXXXX (the X's made unique) and write
 * its path to out, which holds cap bytes. Returns out, or NULL when the
 * path does not fit or the directory cannot be made. */
char *tmpdir_make(char *out, size_t cap, const char *prefix);

/* Remove path and everything below it, without following symbolic links.
 * Whatever cannot be removed stays: a test's leftovers are no failure. */
void tmpdir_remove(const char *path);

#endif
