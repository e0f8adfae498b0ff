/*
 * check_main.h - the main() every Check test program shares.
 *
 * A test file defines its suite and ends with ZAB_CHECK_MAIN(its_suite).
 * CK_FORK is left to Check's default (fork per test), so a crash in one test
 * is reported as that test's error and the rest still run.
 */
#ifndef ZAB_TESTS_CHECK_MAIN_H
#define ZAB_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define ZAB_CHECK_MAIN(suite_fn)                                    \
    int main(void)                                                  \
    {                                                               \
        SRunner *sr = srunner_create(suite_fn());                   \
        srunner_run_all(sr, CK_NORMAL);                             \
        int failed = srunner_ntests_failed(sr);                     \
        srunner_free(sr);                                           \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                \
    }

#endif
