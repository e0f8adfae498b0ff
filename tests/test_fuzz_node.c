/*
 * Runs the node fuzz target over seeded random scripts of peer messages,
 * ticks, channel changes and syncs, in every role the node reaches.
 */
#include <stdio.h>

#include "check_main.h"
#include "fuzz/fuzz_node.c"

START_TEST(node_survives_hostile_peers)
{
    uint8_t script[4096];
    uint64_t s = 0x2545F4914F6CDD1DULL;
    for (int run = 0; run < 400; run++) {
        for (size_t i = 0; i < sizeof(script); i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            script[i] = (uint8_t)s;
        }
        zab_fuzz_node(script, (size_t)(run * 97) % sizeof(script));
    }
}
END_TEST

static Suite *fuzz_node_suite(void)
{
    Suite *su = suite_create("fuzz node");
    TCase *tc = tcase_create("fuzz");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, node_survives_hostile_peers);
    suite_add_tcase(su, tc);
    return su;
}

ZAB_CHECK_MAIN(fuzz_node_suite)
