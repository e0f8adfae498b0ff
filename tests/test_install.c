/*
 * test_install.c - `make install` into a fresh prefix gives an outside
 * program everything it needs: the header, both libraries, a pkg-config
 * file that finds them, and the manual.
 *
 * Runs from the repository root. CC (and SANITIZE, when set) come from the
 * environment so that the flavour under test is the one installed and the
 * outside program is built the same way.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "zab.h"

/* The install is shared by every test of the case: made once by the
 * unchecked fixture, removed at the end. */
static char prefix[512];
static int install_status = -1;

static const char outside_program[] =
    "#include <stdio.h>\n"
    "#include <string.h>\n"
    "#include <zab.h>\n"
    "\n"
    "int main(void)\n"
    "{\n"
    "    if (strcmp(zab_strerror(ZAB_ENONODE), \"node does not exist\") != 0)\n"
    "        return 2;\n"
    "    zab_tree *tree = zab_tree_new(NULL);\n"
    "    if (!tree) return 3;\n"
    "    zab_tree_free(tree);\n"
    "    printf(\"zab %s\\n\", ZAB_VERSION_STRING);\n"
    "    return 0;\n"
    "}\n";

/* Sanitizer flags matching the Makefile's SANITIZE=1. */
static const char *sanitize_flags(void)
{
    const char *s = getenv("SANITIZE");
    if (s && strcmp(s, "1") == 0)
        return "-fsanitize=address,undefined -fno-sanitize-recover=all "
               "-fno-omit-frame-pointer";
    return "";
}

/* Run a shell command made from fmt with its output appended to the log in
 * the prefix; the exit status, or -1 when it did not exit normally. */
static int run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    ck_assert_int_lt(n, (int)sizeof cmd);

    char full[4096 + 600];
    snprintf(full, sizeof full, "( %s ) >>'%s/log' 2>&1", cmd, prefix);
    int st = system(full);
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

/* The standard output of a shell command (at most cap - 1 bytes, NUL-
 * terminated); the exit status as run() gives it. */
static int capture(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    ck_assert_int_lt(n, (int)sizeof cmd);

    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t len = 0, got;
    while (len + 1 < cap && (got = fread(out + len, 1, cap - 1 - len, p)) > 0)
        len += got;
    out[len] = 0;
    char sink[256];
    while (fread(sink, 1, sizeof sink, p) > 0) continue;
    int st = pclose(p);
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

/* The log so far, to explain a failure. */
static void dump_log(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/log", prefix);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[512];
    fprintf(stderr, "---- %s\n", path);
    while (fgets(line, sizeof line, f)) fputs(line, stderr);
    fclose(f);
}

#define ck_assert_run(...)                                                \
    do {                                                                  \
        int rc_ = run(__VA_ARGS__);                                       \
        if (rc_ != 0) dump_log();                                         \
        ck_assert_msg(rc_ == 0, "command failed (exit %d): see log", rc_); \
    } while (0)

static int exists(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", prefix, rel);
    struct stat st;
    return lstat(path, &st) == 0;
}

static void install_setup(void)
{
    if (!getenv("CC")) setenv("CC", "cc", 1);
    const char *tmp = getenv("TMPDIR");
    snprintf(prefix, sizeof prefix, "%s/zab-install-XXXXXX",
             tmp && *tmp && strlen(tmp) < 400 ? tmp : "/tmp");
    if (!mkdtemp(prefix) || strchr(prefix, '\'')) {
        fprintf(stderr, "test_install: no temporary prefix: %s\n", strerror(errno));
        prefix[0] = 0;
        return;
    }
    /* A make above us would hand down its job server and command line;
     * this make gets only what is said here. The directory variables come
     * from PREFIX alone. */
    install_status = run("unset MAKEFLAGS MFLAGS MAKELEVEL DESTDIR LIBDIR "
                         "INCLUDEDIR MANDIR BINDIR PKGCONFIGDIR; "
                         "make install PREFIX='%s' CC=\"$CC\" "
                         "${SANITIZE+SANITIZE=\"$SANITIZE\"}", prefix);
    if (install_status != 0) dump_log();
}

static void install_teardown(void)
{
    if (prefix[0]) run("rm -rf '%s'", prefix);
}

#define PKG_CONFIG "PKG_CONFIG_PATH='%s/lib/pkgconfig' pkg-config"

START_TEST(install_succeeds)
{
    ck_assert_msg(access("Makefile", R_OK) == 0 && access("include/zab.h", R_OK) == 0,
                  "run from the repository root");
    ck_assert_msg(prefix[0], "no temporary prefix");
    ck_assert_int_eq(install_status, 0);
}
END_TEST

START_TEST(install_lays_out_files)
{
    ck_assert_int_eq(install_status, 0);
    static const char *const files[] = {
        "include/zab.h",   "lib/libzab.a",          "lib/libzab.so",
        "lib/libzab.so.0", "lib/pkgconfig/zab.pc",  "share/man/man7/zab.7",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        ck_assert_msg(exists(files[i]), "%s was not installed", files[i]);

    char out[8192];
    ck_assert_int_eq(capture(out, sizeof out, "ls '%s/share/man/man3'", prefix), 0);
    ck_assert_msg(strstr(out, ".3\n") != NULL, "no page in share/man/man3: %s", out);

    /* The installed header is the one in the tree. */
    ck_assert_run("cmp include/zab.h '%s/include/zab.h'", prefix);

    /* Programs linked against libzab.so record libzab.so.0. */
    ck_assert_int_eq(capture(out, sizeof out, "readelf -d '%s/lib/libzab.so'", prefix), 0);
    ck_assert_msg(strstr(out, "Library soname: [libzab.so.0]") != NULL,
                  "no SONAME libzab.so.0 in:\n%s", out);
}
END_TEST

START_TEST(pkg_config_describes_install)
{
    ck_assert_int_eq(install_status, 0);
    char out[1024], want[1100];

    ck_assert_int_eq(capture(out, sizeof out, PKG_CONFIG " --modversion zab", prefix), 0);
    ck_assert_str_eq(out, ZAB_VERSION_STRING "\n");

    ck_assert_int_eq(capture(out, sizeof out, PKG_CONFIG " --cflags zab", prefix), 0);
    snprintf(want, sizeof want, "-I%s/include", prefix);
    ck_assert_msg(strstr(out, want) != NULL, "cflags: %s", out);

    ck_assert_int_eq(capture(out, sizeof out, PKG_CONFIG " --libs zab", prefix), 0);
    snprintf(want, sizeof want, "-L%s/lib", prefix);
    ck_assert_msg(strstr(out, want) != NULL, "libs: %s", out);
    ck_assert_msg(strstr(out, "-lzab") != NULL, "libs: %s", out);

    ck_assert_int_eq(capture(out, sizeof out, PKG_CONFIG " --static --libs zab", prefix), 0);
    ck_assert_msg(strstr(out, "-lpthread") != NULL, "static libs: %s", out);
}
END_TEST

static void write_outside_program(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/prog.c", prefix);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(outside_program, 1, sizeof outside_program - 1, f),
                      sizeof outside_program - 1);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(shared_library_links_and_runs)
{
    ck_assert_int_eq(install_status, 0);
    write_outside_program();
    /* Strict flags: the public header must compile cleanly for users. */
    ck_assert_run("cd '%s' && $CC -std=c11 -Wall -Wextra -Werror %s prog.c "
                  "-o prog_shared $(" PKG_CONFIG " --cflags --libs zab)",
                  prefix, sanitize_flags(), prefix);

    char out[8192], want[700];
    ck_assert_int_eq(capture(out, sizeof out, "readelf -d '%s/prog_shared'", prefix), 0);
    ck_assert_msg(strstr(out, "Shared library: [libzab.so.0]") != NULL,
                  "prog_shared does not need libzab.so.0:\n%s", out);

    ck_assert_int_eq(capture(out, sizeof out,
                             "LD_LIBRARY_PATH='%s/lib' ldd '%s/prog_shared'",
                             prefix, prefix), 0);
    snprintf(want, sizeof want, "%s/lib/libzab.so.0", prefix);
    ck_assert_msg(strstr(out, want) != NULL, "not the installed library:\n%s", out);

    ck_assert_int_eq(capture(out, sizeof out,
                             "LD_LIBRARY_PATH='%s/lib' '%s/prog_shared' 2>&1",
                             prefix, prefix), 0);
    ck_assert_str_eq(out, "zab " ZAB_VERSION_STRING "\n");
}
END_TEST

START_TEST(static_library_links_and_runs)
{
    ck_assert_int_eq(install_status, 0);
    write_outside_program();
    /* -Bstatic makes -lzab pick libzab.a; the system libraries after it
     * stay shared. */
    ck_assert_run("cd '%s' && $CC -std=c11 -Wall -Wextra -Werror %s prog.c "
                  "-o prog_static $(" PKG_CONFIG " --cflags zab) -Wl,-Bstatic "
                  "$(" PKG_CONFIG " --libs zab) -Wl,-Bdynamic "
                  "$(" PKG_CONFIG " --static --libs-only-l zab | sed 's/-lzab//')",
                  prefix, sanitize_flags(), prefix, prefix, prefix);

    char out[8192];
    ck_assert_int_eq(capture(out, sizeof out, "readelf -d '%s/prog_static'", prefix), 0);
    ck_assert_msg(strstr(out, "libzab") == NULL,
                  "prog_static still needs a shared libzab:\n%s", out);
    ck_assert_int_eq(capture(out, sizeof out, "'%s/prog_static' 2>&1", prefix), 0);
    ck_assert_str_eq(out, "zab " ZAB_VERSION_STRING "\n");
}
END_TEST

static Suite *install_suite(void)
{
    Suite *s = suite_create("install");
    TCase *tc = tcase_create("install");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, install_setup, install_teardown);
    tcase_add_test(tc, install_succeeds);
    tcase_add_test(tc, install_lays_out_files);
    tcase_add_test(tc, pkg_config_describes_install);
    tcase_add_test(tc, shared_library_links_and_runs);
    tcase_add_test(tc, static_library_links_and_runs);
    suite_add_tcase(s, tc);
    return s;
}

ZAB_CHECK_MAIN(install_suite)
