/*
 * path.h - ZooKeeper path rules (PathUtils.validatePath) and path slicing.
 * Paths are UTF-8 bytes; the rules are ZooKeeper's, which judges UTF-16 code
 * units of the decoded string (so invalid UTF-8, which Java decodes to
 * U+FFFD, is refused, as is every code point above U+FFFF).
 */
#ifndef ZAB_TREE_PATH_H
#define ZAB_TREE_PATH_H

#include "zab.h"

/* The full validation: ZAB_OK or ZAB_EBADARGUMENTS. */
int zab_path_validate(zab_str path);

/* The light check create and delete make before anything else: the path
 * contains a '/' and no NUL byte. ZAB_OK or ZAB_EBADARGUMENTS. */
int zab_path_light_check(zab_str path);

/* Non-zero when the path contains a NUL byte. */
int zab_path_has_nul(zab_str path);

/* Everything before the last '/' ("/" for a child of the root, the empty view
 * for "/" itself or a path with no '/'): ZooKeeper's parent name. */
zab_str zab_path_parent(zab_str path);

/* Everything after the last '/'. */
zab_str zab_path_name(zab_str path);

/* One of /, /zookeeper, /zookeeper/quota, /zookeeper/config (which delete
 * refuses with ZAB_EBADARGUMENTS). */
int zab_path_is_special(zab_str path);

#endif
