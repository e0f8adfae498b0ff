#include "helpers/tmpdir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tmpdir_make(char *out, size_t cap, const char *prefix)
{
    int n = snprintf(out, cap, "/tmp/%sXXXXXX", prefix);
    if (n < 0 || (size_t)n >= cap) return NULL;
    return mkdtemp(out);
}

void tmpdir_remove(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) tmpdir_remove(p);
        else unlink(p);
    }
    closedir(d);
    rmdir(path);
}
