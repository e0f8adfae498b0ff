/*
 * test_lincheck.c - the linearizability checker the simulator tests use:
 * hand-made histories with known answers, a brute-force cross-check on
 * small random histories, histories produced by a real register, and the
 * search's bounds.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "helpers/lincheck.h"

#define BIG_BUDGET UINT64_C(50000000)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t next_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static int64_t rand_below(uint64_t *state, int64_t n)
{
    return (int64_t)(next_rand(state) % (uint64_t)n);
}

static lc_history *new_history(void)
{
    lc_history *h = lc_new();
    ck_assert_ptr_nonnull(h);
    return h;
}

static int write_ok(lc_history *h, int64_t key, int64_t value, int64_t inv, int64_t ret)
{
    int op = lc_invoke_write(h, key, value, inv);
    ck_assert_int_ge(op, 0);
    lc_return_ok(h, op, ret, 0);
    return op;
}

static int write_failed(lc_history *h, int64_t key, int64_t value, int64_t inv, int64_t ret)
{
    int op = lc_invoke_write(h, key, value, inv);
    ck_assert_int_ge(op, 0);
    lc_return_failed(h, op, ret);
    return op;
}

static int write_unknown(lc_history *h, int64_t key, int64_t value, int64_t inv)
{
    int op = lc_invoke_write(h, key, value, inv);
    ck_assert_int_ge(op, 0);
    return op;
}

static int read_ok(lc_history *h, int64_t key, int64_t value, int64_t inv, int64_t ret)
{
    int op = lc_invoke_read(h, key, inv);
    ck_assert_int_ge(op, 0);
    lc_return_ok(h, op, ret, value);
    return op;
}

static char why[4096];

/* lc_check with a budget no hand-made history comes near; frees h. */
static int verdict(lc_history *h)
{
    int rc = lc_check(h, why, sizeof why, BIG_BUDGET);
    lc_free(h);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Hand-made histories                                                       */
/* ------------------------------------------------------------------------ */

START_TEST(sequential_history_is_linearizable)
{
    lc_history *h = new_history();
    read_ok(h, 1, 0, 0, 1);
    write_ok(h, 1, 10, 2, 3);
    read_ok(h, 1, 10, 4, 5);
    write_ok(h, 1, 20, 6, 7);
    write_ok(h, 1, 30, 8, 9);
    read_ok(h, 1, 30, 10, 11);
    read_ok(h, 1, 30, 12, 13);
    ck_assert_int_eq(verdict(h), 1);
    ck_assert_msg(strncmp(why, "linearizable: 7 ops over 1 keys", 31) == 0, "%s", why);
}
END_TEST

START_TEST(empty_history_is_linearizable)
{
    ck_assert_int_eq(verdict(new_history()), 1);
    /* Even with no budget at all: there is nothing to search. */
    lc_history *h = new_history();
    ck_assert_int_eq(lc_check(h, why, sizeof why, 0), 1);
    lc_free(h);
}
END_TEST

START_TEST(stale_read_after_completed_write_is_not)
{
    lc_history *h = new_history();
    write_ok(h, 7, 10, 0, 10);
    int bad = read_ok(h, 7, 0, 20, 30);
    ck_assert_int_eq(verdict(h), 0);
    char name[32];
    snprintf(name, sizeof name, "op %d", bad);
    ck_assert_msg(strstr(why, "key 7:") && strstr(why, name), "explanation: %s", why);

    /* Stale by one write: 10 was overwritten by 20 before the read began. */
    h = new_history();
    write_ok(h, 7, 10, 0, 10);
    write_ok(h, 7, 20, 11, 20);
    read_ok(h, 7, 10, 21, 30);
    ck_assert_int_eq(verdict(h), 0);
}
END_TEST

START_TEST(read_concurrent_with_write_sees_either_value)
{
    for (int64_t seen = 0; seen <= 10; seen += 10) {
        lc_history *h = new_history();
        write_ok(h, 1, 10, 0, 10);
        read_ok(h, 1, seen, 5, 6);
        ck_assert_msg(verdict(h) == 1, "seeing %lld: %s", (long long)seen, why);
    }
    /* Two overlapping readers, one before and one after the write's
     * effect, in either order of invocation. */
    lc_history *h = new_history();
    write_ok(h, 1, 10, 0, 100);
    read_ok(h, 1, 10, 10, 50);
    read_ok(h, 1, 0, 20, 60);
    ck_assert_int_eq(verdict(h), 1);
}
END_TEST

START_TEST(touching_intervals_are_concurrent)
{
    /* The read is invoked exactly when the write returns: either value. */
    lc_history *h = new_history();
    write_ok(h, 1, 10, 0, 10);
    read_ok(h, 1, 0, 10, 20);
    ck_assert_int_eq(verdict(h), 1);
    /* One tick later the write precedes the read. */
    h = new_history();
    write_ok(h, 1, 10, 0, 10);
    read_ok(h, 1, 0, 11, 20);
    ck_assert_int_eq(verdict(h), 0);
    /* A read returning exactly when the write is invoked may see it... */
    h = new_history();
    read_ok(h, 1, 10, 0, 5);
    write_ok(h, 1, 10, 5, 10);
    ck_assert_int_eq(verdict(h), 1);
    /* ...but not one that returned before. */
    h = new_history();
    read_ok(h, 1, 10, 0, 4);
    write_ok(h, 1, 10, 5, 10);
    ck_assert_int_eq(verdict(h), 0);
}
END_TEST

START_TEST(new_then_old_during_write_is_not)
{
    lc_history *h = new_history();
    write_ok(h, 1, 10, 0, 100);
    read_ok(h, 1, 10, 10, 20);
    int old = read_ok(h, 1, 0, 30, 40);
    ck_assert_int_eq(verdict(h), 0);
    char name[32];
    snprintf(name, sizeof name, "Ops around op %d:", old);
    ck_assert_msg(strstr(why, name) != NULL, "explanation: %s", why);

    /* Old then new is what a write in progress may look like. */
    h = new_history();
    write_ok(h, 1, 10, 0, 100);
    read_ok(h, 1, 0, 10, 20);
    read_ok(h, 1, 10, 30, 40);
    ck_assert_int_eq(verdict(h), 1);
}
END_TEST

START_TEST(unknown_write_takes_effect_any_time_after_invocation)
{
    /* Seen long after the client lost its connection. */
    lc_history *h = new_history();
    write_unknown(h, 1, 10, 5);
    read_ok(h, 1, 0, 100, 101);
    read_ok(h, 1, 10, 1000, 1001);
    ck_assert_int_eq(verdict(h), 1);
    /* Never seen at all. */
    h = new_history();
    write_unknown(h, 1, 10, 5);
    read_ok(h, 1, 0, 100, 101);
    ck_assert_int_eq(verdict(h), 1);
    /* After a later completed write: the unknown one landed after it. */
    h = new_history();
    write_unknown(h, 1, 10, 5);
    write_ok(h, 1, 20, 50, 60);
    read_ok(h, 1, 10, 100, 101);
    ck_assert_int_eq(verdict(h), 1);
    /* Once seen it stays until overwritten. */
    h = new_history();
    write_unknown(h, 1, 10, 5);
    read_ok(h, 1, 10, 100, 101);
    read_ok(h, 1, 0, 200, 201);
    ck_assert_int_eq(verdict(h), 0);
}
END_TEST

START_TEST(unknown_write_not_visible_before_invocation)
{
    lc_history *h = new_history();
    read_ok(h, 1, 10, 0, 5);
    write_unknown(h, 1, 10, 6);
    ck_assert_int_eq(verdict(h), 0);
    /* Touching the invocation is concurrent with it. */
    h = new_history();
    read_ok(h, 1, 10, 0, 6);
    write_unknown(h, 1, 10, 6);
    ck_assert_int_eq(verdict(h), 1);
}
END_TEST

START_TEST(failed_write_is_never_visible)
{
    lc_history *h = new_history();
    int w = write_failed(h, 1, 10, 0, 10);
    int r = read_ok(h, 1, 10, 20, 30);
    ck_assert_int_eq(verdict(h), 0);
    char wname[32], rname[32];
    snprintf(wname, sizeof wname, "op %d: write 10 failed", w);
    snprintf(rname, sizeof rname, "op %d reads 10", r);
    ck_assert_msg(strstr(why, wname) && strstr(why, rname), "explanation: %s", why);
    /* Not even while it is in progress. */
    h = new_history();
    write_failed(h, 1, 10, 0, 10);
    read_ok(h, 1, 10, 2, 3);
    ck_assert_int_eq(verdict(h), 0);
    /* A failed write takes nothing away either. */
    h = new_history();
    write_ok(h, 1, 5, 0, 1);
    write_failed(h, 1, 10, 2, 3);
    read_ok(h, 1, 5, 4, 5);
    ck_assert_int_eq(verdict(h), 1);
    /* The same value written successfully elsewhere may be seen. */
    h = new_history();
    write_failed(h, 1, 10, 0, 10);
    write_ok(h, 1, 10, 12, 15);
    read_ok(h, 1, 10, 20, 30);
    ck_assert_int_eq(verdict(h), 1);
}
END_TEST

START_TEST(keys_are_independent)
{
    /* As one register this would be a stale read; as two it is fine. */
    lc_history *h = new_history();
    write_ok(h, 1, 10, 0, 1);
    write_ok(h, 2, 20, 2, 3);
    read_ok(h, 1, 10, 4, 5);
    read_ok(h, 2, 20, 4, 5);
    read_ok(h, 3, 0, 4, 5);
    ck_assert_int_eq(verdict(h), 1);
    ck_assert_ptr_nonnull(strstr(why, "3 keys"));

    /* Only key 2 is wrong, and the explanation says so. */
    h = new_history();
    write_ok(h, 1, 10, 0, 1);
    write_ok(h, 2, 20, 2, 3);
    read_ok(h, 1, 10, 4, 5);
    read_ok(h, 2, 20, 4, 5);
    read_ok(h, 2, 0, 6, 7);
    ck_assert_int_eq(verdict(h), 0);
    ck_assert_msg(strstr(why, "key 2:") && !strstr(why, "key 1:"), "explanation: %s", why);
}
END_TEST

START_TEST(initial_values_per_key)
{
    lc_history *h = new_history();
    lc_set_initial(h, 3, 42);
    lc_set_initial(h, 4, 1);
    lc_set_initial(h, 4, 43); /* the last setting counts */
    read_ok(h, 3, 42, 0, 1);
    read_ok(h, 4, 43, 0, 1);
    read_ok(h, 5, 0, 0, 1);
    ck_assert_int_eq(verdict(h), 1);

    h = new_history();
    lc_set_initial(h, 3, 42);
    read_ok(h, 4, 42, 0, 1);
    ck_assert_int_eq(verdict(h), 0);
}
END_TEST

START_TEST(unfinished_and_failed_reads_count_for_nothing)
{
    lc_history *h = new_history();
    write_ok(h, 1, 10, 0, 1);
    /* Counted as seeing 0, either read would be stale. */
    ck_assert_int_ge(lc_invoke_read(h, 1, 5), 0); /* never returns */
    int r = lc_invoke_read(h, 1, 6);
    lc_return_failed(h, r, 7);
    ck_assert_uint_eq(lc_size(h), 3);
    ck_assert_int_eq(verdict(h), 1);
}
END_TEST

START_TEST(misuse_is_reported_not_judged)
{
    lc_history *h = new_history();
    int w = write_ok(h, 1, 10, 0, 1);
    lc_return_ok(h, w, 2, 0);
    ck_assert_int_eq(verdict(h), -1);
    ck_assert_ptr_nonnull(strstr(why, "twice"));

    h = new_history();
    w = lc_invoke_write(h, 1, 10, 50);
    lc_return_ok(h, w, 49, 0);
    ck_assert_int_eq(verdict(h), -1);
    ck_assert_ptr_nonnull(strstr(why, "before its invocation"));

    h = new_history();
    lc_return_failed(h, 0, 1);
    lc_return_ok(h, -1, 1, 0);
    ck_assert_int_eq(verdict(h), -1);
    ck_assert_ptr_nonnull(strstr(why, "never invoked"));
}
END_TEST

START_TEST(explanation_respects_buffer_size)
{
    lc_history *h = new_history();
    write_ok(h, 1, 10, 0, 10);
    read_ok(h, 1, 0, 20, 30);
    char small[16];
    memset(small, 'x', sizeof small);
    ck_assert_int_eq(lc_check(h, small, 8, BIG_BUDGET), 0);
    ck_assert_uint_eq(strlen(small), 7);
    ck_assert_int_eq(small[8], 'x');
    ck_assert_int_eq(lc_check(h, NULL, 0, BIG_BUDGET), 0);
    lc_free(h);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Bounds                                                                    */
/* ------------------------------------------------------------------------ */

/* n concurrent writes, each seen by a concurrent read, then two later reads
 * that disagree although nothing was written between them: not
 * linearizable, but only a search through the orders of the writes shows
 * it. */
static lc_history *hard_history(int n)
{
    lc_history *h = new_history();
    for (int i = 1; i <= n; i++) {
        write_ok(h, 1, i, 0, 100);
        read_ok(h, 1, i, 0, 100);
    }
    read_ok(h, 1, 1, 200, 201);
    read_ok(h, 1, 2, 202, 203);
    return h;
}

START_TEST(exhaustive_search_finds_the_contradiction)
{
    ck_assert_int_eq(verdict(hard_history(10)), 0);
}
END_TEST

START_TEST(step_bound_gives_up)
{
    lc_history *h = hard_history(18);
    ck_assert_int_eq(lc_check(h, why, sizeof why, 10000), -1);
    ck_assert_msg(strstr(why, "key 1: gave up: the search took more than 10000 steps") != NULL,
                  "%s", why);
    lc_free(h);
}
END_TEST

START_TEST(memory_bound_gives_up)
{
    lc_history *h = hard_history(18);
    lc_set_memory_limit(h, 64 << 10);
    ck_assert_int_eq(lc_check(h, why, sizeof why, BIG_BUDGET), -1);
    ck_assert_msg(strstr(why, "limit of 65536 bytes") != NULL, "%s", why);
    /* Too small even for an empty memo. */
    lc_set_memory_limit(h, 100);
    ck_assert_int_eq(lc_check(h, why, sizeof why, BIG_BUDGET), -1);
    lc_free(h);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Brute force on small random histories                                     */
/* ------------------------------------------------------------------------ */

enum { BF_OK, BF_FAILED, BF_UNKNOWN, BF_UNRETURNED_READ };

typedef struct bf_op {
    int is_write;
    int64_t value;
    int64_t inv, ret;
    int outcome;
} bf_op;

/* Every order of the ops that must take effect, each unknown write either
 * placed or left out, straight from the definition. */
static int bf_search(const bf_op *ops, int n, unsigned done, int64_t value)
{
    int all = 1;
    for (int i = 0; i < n; i++)
        if (!(done >> i & 1) && ops[i].outcome == BF_OK) all = 0;
    if (all) return 1;
    for (int i = 0; i < n; i++) {
        if (done >> i & 1 || ops[i].outcome == BF_FAILED || ops[i].outcome == BF_UNRETURNED_READ)
            continue;
        int blocked = 0;
        for (int j = 0; j < n && !blocked; j++)
            blocked = !(done >> j & 1) && j != i && ops[j].outcome == BF_OK &&
                      ops[j].ret < ops[i].inv;
        if (blocked) continue;
        if (!ops[i].is_write && ops[i].value != value) continue;
        int64_t after = ops[i].is_write ? ops[i].value : value;
        if (bf_search(ops, n, done | 1u << i, after)) return 1;
    }
    return 0;
}

/* A random history of up to 8 ops on key 1 into ops and h. Values come
 * from a small range, or every write has its own, or there are just two;
 * key 1 sometimes starts at 1. */
static int random_small_history(uint64_t *rng, bf_op *ops, lc_history *h, int64_t *initial)
{
    int n = 1 + (int)rand_below(rng, 8);
    int64_t mode = rand_below(rng, 3), next_value = 1;
    *initial = rand_below(rng, 3) == 0;
    if (*initial) lc_set_initial(h, 1, *initial);
    for (int i = 0; i < n; i++) {
        bf_op *o = &ops[i];
        o->is_write = (int)rand_below(rng, 2);
        if (mode == 0)
            o->value = rand_below(rng, 4);
        else if (mode == 1)
            o->value = o->is_write ? next_value++ : rand_below(rng, next_value + 1);
        else
            o->value = rand_below(rng, 2);
        o->inv = rand_below(rng, 20);
        o->ret = o->inv + rand_below(rng, 10);
        int64_t roll = rand_below(rng, 20);
        o->outcome = roll < 16 ? BF_OK
                               : o->is_write ? (roll < 18 ? BF_FAILED : BF_UNKNOWN)
                                             : BF_UNRETURNED_READ;
        int id = o->is_write ? lc_invoke_write(h, 1, o->value, o->inv)
                             : lc_invoke_read(h, 1, o->inv);
        if (o->outcome == BF_OK) lc_return_ok(h, id, o->ret, o->value);
        if (o->outcome == BF_FAILED) lc_return_failed(h, id, o->ret);
    }
    return n;
}

START_TEST(agrees_with_brute_force)
{
    uint64_t rng = 1;
    int yes = 0, no = 0;
    for (int round = 0; round < 5000; round++) {
        bf_op ops[8];
        int64_t initial;
        lc_history *h = new_history();
        int n = random_small_history(&rng, ops, h, &initial);
        int expect = bf_search(ops, n, 0, initial);
        int got = lc_check(h, why, sizeof why, BIG_BUDGET);
        lc_free(h);
        ck_assert_msg(got == expect, "round %d: checker %d, brute force %d (%s)", round, got,
                      expect, why);
        if (expect)
            yes++;
        else
            no++;
    }
    /* Both answers must be common for the comparison to mean anything. */
    ck_assert_int_gt(yes, 1000);
    ck_assert_int_gt(no, 1000);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Histories of a real register                                              */
/* ------------------------------------------------------------------------ */

enum { G_OK, G_FAILED, G_UNKNOWN, G_LOST_READ };

typedef struct gen_op {
    int64_t key;
    int is_write;
    int64_t value; /* written, or seen */
    int64_t inv, lin, ret;
    int outcome;
    int applied; /* takes effect at lin */
} gen_op;

typedef struct gen_params {
    int ops;
    int clients;
    int keys;
    int64_t span;   /* longest wait before and after an op's effect */
    int64_t values; /* writes choose from 1..values; 0: every write its own */
} gen_params;

static int by_lin(const void *a, const void *b)
{
    const gen_op *x = *(gen_op *const *)a, *y = *(gen_op *const *)b;
    return (x->lin > y->lin) - (x->lin < y->lin);
}

/* Clients issuing ops one after another, each taking effect at a random
 * moment inside its interval on one shared set of registers (all 0 at
 * first); the reads see what the registers held at that moment. Always
 * linearizable. */
static gen_op *generate(const gen_params *p, uint64_t seed)
{
    uint64_t rng = seed;
    gen_op *ops = calloc((size_t)p->ops, sizeof *ops);
    gen_op **order = calloc((size_t)p->ops, sizeof *order);
    int64_t *clock = calloc((size_t)p->clients, sizeof *clock);
    int64_t *reg = calloc((size_t)p->keys, sizeof *reg);
    ck_assert(ops && order && clock && reg);
    int64_t next_value = 1;
    for (int i = 0; i < p->ops; i++) {
        gen_op *o = &ops[i];
        int c = (int)rand_below(&rng, p->clients);
        o->key = rand_below(&rng, p->keys);
        o->is_write = rand_below(&rng, 2) == 0;
        if (o->is_write) o->value = p->values ? 1 + rand_below(&rng, p->values) : next_value++;
        o->inv = clock[c] + rand_below(&rng, 3);
        o->lin = o->inv + rand_below(&rng, p->span + 1);
        o->ret = o->lin + rand_below(&rng, p->span + 1);
        int64_t roll = rand_below(&rng, 20);
        o->outcome = G_OK;
        o->applied = 1;
        if (o->is_write && roll == 0) {
            o->outcome = G_FAILED;
            o->applied = 0;
        } else if (o->is_write && roll == 1) {
            /* The client gives up; the write may still land much later. */
            o->outcome = G_UNKNOWN;
            o->applied = rand_below(&rng, 2) == 0;
            o->lin = o->inv + rand_below(&rng, 20 * p->span + 1);
        } else if (!o->is_write && roll == 2) {
            o->outcome = G_LOST_READ;
        }
        clock[c] = o->ret; /* the next op may touch this one */
    }
    int n = 0;
    for (int i = 0; i < p->ops; i++)
        if (ops[i].applied) order[n++] = &ops[i];
    qsort(order, (size_t)n, sizeof *order, by_lin);
    for (int i = 0; i < n; i++) {
        if (order[i]->is_write)
            reg[order[i]->key] = order[i]->value;
        else
            order[i]->value = reg[order[i]->key];
    }
    free(order);
    free(clock);
    free(reg);
    return ops;
}

static lc_history *record(const gen_op *ops, int n)
{
    lc_history *h = new_history();
    for (int i = 0; i < n; i++) {
        const gen_op *o = &ops[i];
        int id = o->is_write ? lc_invoke_write(h, o->key, o->value, o->inv)
                             : lc_invoke_read(h, o->key, o->inv);
        ck_assert_int_eq(id, i);
        if (o->outcome == G_OK) lc_return_ok(h, id, o->ret, o->value);
        if (o->outcome == G_FAILED) lc_return_failed(h, id, o->ret);
    }
    return h;
}

/*
 * Make a completed read see a value x that no order can explain: every
 * write of x returned before some write b of another value began, and b
 * returned before the read began, so b or a later write lies between the
 * last x and the read. The read's index, or -1 if there is no such read.
 */
static int make_stale_read(gen_op *ops, int n, int keys)
{
    /* last[key * stride + x]: when the last write of x to key returned;
     * INT64_MAX when one may land at any time. */
    int64_t stride = 0;
    for (int i = 0; i < n; i++)
        if (ops[i].value + 1 > stride) stride = ops[i].value + 1;
    int64_t *last = malloc((size_t)(keys * stride) * sizeof *last);
    ck_assert_ptr_nonnull(last);
    for (int64_t i = 0; i < keys * stride; i++) last[i] = INT64_MIN;
    for (int i = 0; i < n; i++) {
        const gen_op *o = &ops[i];
        int64_t *at = &last[o->key * stride + o->value];
        if (!o->is_write || o->outcome == G_FAILED) continue;
        if (o->outcome == G_UNKNOWN)
            *at = INT64_MAX;
        else if (o->ret > *at)
            *at = o->ret;
    }
    for (int r = n - 1; r >= 0; r--) {
        gen_op *read = &ops[r];
        if (read->is_write || read->outcome != G_OK) continue;
        for (int b = 0; b < n; b++) {
            const gen_op *over = &ops[b];
            if (!over->is_write || over->outcome != G_OK || over->key != read->key ||
                over->ret >= read->inv)
                continue;
            for (int a = 0; a < n; a++) {
                const gen_op *x = &ops[a];
                if (!x->is_write || x->outcome != G_OK || x->key != read->key ||
                    last[x->key * stride + x->value] >= over->inv)
                    continue;
                read->value = x->value;
                free(last);
                return r;
            }
        }
    }
    free(last);
    return -1;
}

static int first_completed_read(const gen_op *ops, int n)
{
    for (int i = n / 2; i < n; i++)
        if (!ops[i].is_write && ops[i].outcome == G_OK) return i;
    return -1;
}

/* Odd runs write few distinct values, so that reads cannot tell writes
 * apart by value; even runs give every write its own. */
static gen_params small_params(int run)
{
    return (gen_params){ .ops = 300, .clients = 6, .keys = 3, .span = 8,
                         .values = run % 2 ? 4 : 0 };
}

START_TEST(real_register_histories_are_linearizable)
{
    gen_params p = small_params(_i);
    gen_op *ops = generate(&p, (uint64_t)_i + 100);
    lc_history *h = record(ops, p.ops);
    int rc = lc_check(h, why, sizeof why, BIG_BUDGET);
    ck_assert_msg(rc == 1, "run %d: %d %s", _i, rc, why);
    lc_free(h);
    free(ops);
}
END_TEST

START_TEST(never_written_value_is_caught)
{
    gen_params p = small_params(_i);
    gen_op *ops = generate(&p, (uint64_t)_i + 100);
    int r = first_completed_read(ops, p.ops);
    ck_assert_int_ge(r, 0);
    ops[r].value = -1; /* writes write from 1 up, the registers start at 0 */
    lc_history *h = record(ops, p.ops);
    ck_assert_int_eq(lc_check(h, why, sizeof why, BIG_BUDGET), 0);
    char name[32];
    snprintf(name, sizeof name, "op %d reads -1", r);
    ck_assert_msg(strstr(why, name) != NULL, "run %d: %s", _i, why);
    lc_free(h);
    free(ops);
}
END_TEST

START_TEST(stale_read_is_caught)
{
    gen_params p = small_params(_i);
    gen_op *ops = generate(&p, (uint64_t)_i + 100);
    int r = make_stale_read(ops, p.ops, p.keys);
    ck_assert_int_ge(r, 0);
    lc_history *h = record(ops, p.ops);
    int rc = lc_check(h, why, sizeof why, BIG_BUDGET);
    ck_assert_msg(rc == 0, "run %d: %d %s", _i, rc, why);
    char name[32];
    snprintf(name, sizeof name, "key %lld:", (long long)ops[r].key);
    ck_assert_msg(strstr(why, name) != NULL, "run %d: %s", _i, why);
    if (!p.values) {
        /* With one write per value the checker can name the stale read. */
        snprintf(name, sizeof name, "op %d reads", r);
        ck_assert_msg(strstr(why, name) != NULL, "run %d: %s", _i, why);
    }
    lc_free(h);
    free(ops);
}
END_TEST

/* Two reads in a row see a write b's value and then the value of a write
 * that ended before b began: the second read went back in time. The second
 * read begins while b is still in progress, so that real time alone does
 * not always rule it out. Needs one write per value; the first read's
 * index, or -1. */
static int make_inversion(gen_op *ops, int n, int keys)
{
    for (int64_t key = 0; key < keys; key++) {
        const gen_op *earliest = NULL; /* the write to key that returned first */
        for (int a = 0; a < n; a++) {
            const gen_op *o = &ops[a];
            if (o->is_write && o->outcome == G_OK && o->key == key &&
                (!earliest || o->ret < earliest->ret))
                earliest = o;
        }
        for (int b = 0; earliest && b < n; b++) {
            const gen_op *later = &ops[b];
            if (!later->is_write || later->outcome != G_OK || later->key != key ||
                earliest->ret >= later->inv)
                continue;
            for (int r2 = 0; r2 < n; r2++) {
                gen_op *second = &ops[r2];
                if (second->is_write || second->outcome != G_OK || second->key != key ||
                    second->inv > later->ret)
                    continue;
                for (int r1 = 0; r1 < n; r1++) {
                    gen_op *first = &ops[r1];
                    if (first->is_write || first->outcome != G_OK || first->key != key ||
                        first->ret < later->inv || first->ret >= second->inv)
                        continue;
                    first->value = later->value;
                    second->value = earliest->value;
                    return r1;
                }
            }
        }
    }
    return -1;
}

START_TEST(inversions_are_caught)
{
    int by_search = 0;
    for (int run = 0; run < 20; run++) {
        gen_params p = { .ops = 200, .clients = 6, .keys = 2, .span = 8 };
        gen_op *ops = generate(&p, (uint64_t)run + 300);
        ck_assert_int_ge(make_inversion(ops, p.ops, p.keys), 0);
        lc_history *h = record(ops, p.ops);
        int rc = lc_check(h, why, sizeof why, BIG_BUDGET);
        ck_assert_msg(rc == 0, "run %d: %d %s", run, rc, why);
        by_search += strstr(why, "no order of its") != NULL;
        lc_free(h);
        free(ops);
    }
    /* Real time alone rules out some of them; the rest need the search. */
    ck_assert_int_ge(by_search, 5);
}
END_TEST

static int check_generated(const gen_op *ops, const gen_params *p, uint64_t budget)
{
    lc_history *h = record(ops, p->ops);
    int rc = lc_check(h, why, sizeof why, budget);
    lc_free(h);
    return rc;
}

/* 2000 ops, 4 keys, 32 clients whose ops overlap about eight deep on every
 * key: linearizable as generated, and not once one read is made stale or
 * (with one write per value) two reads are inverted. */
static void check_big(const gen_params *p, uint64_t seed)
{
    gen_op *ops = generate(p, seed);
    int rc = check_generated(ops, p, 1000000);
    ck_assert_msg(rc == 1, "%d %s", rc, why);

    gen_op *copy = malloc((size_t)p->ops * sizeof *copy);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, ops, (size_t)p->ops * sizeof *copy);
    ck_assert_int_ge(make_stale_read(copy, p->ops, p->keys), 0);
    rc = check_generated(copy, p, 1000000);
    ck_assert_msg(rc == 0, "%d %s", rc, why);

    if (!p->values) {
        memcpy(copy, ops, (size_t)p->ops * sizeof *copy);
        ck_assert_int_ge(make_inversion(copy, p->ops, p->keys), 0);
        rc = check_generated(copy, p, 1000000);
        ck_assert_msg(rc == 0, "%d %s", rc, why);
    }
    free(copy);
    free(ops);
}

START_TEST(thousands_of_concurrent_ops_check_quickly)
{
    gen_params p = { .ops = 2000, .clients = 32, .keys = 4, .span = 40 };
    check_big(&p, 7);
    p.values = 8;
    check_big(&p, 8);
}
END_TEST

static Suite *lincheck_suite(void)
{
    Suite *s = suite_create("lincheck");

    TCase *hand = tcase_create("hand-made");
    tcase_add_test(hand, sequential_history_is_linearizable);
    tcase_add_test(hand, empty_history_is_linearizable);
    tcase_add_test(hand, stale_read_after_completed_write_is_not);
    tcase_add_test(hand, read_concurrent_with_write_sees_either_value);
    tcase_add_test(hand, touching_intervals_are_concurrent);
    tcase_add_test(hand, new_then_old_during_write_is_not);
    tcase_add_test(hand, unknown_write_takes_effect_any_time_after_invocation);
    tcase_add_test(hand, unknown_write_not_visible_before_invocation);
    tcase_add_test(hand, failed_write_is_never_visible);
    tcase_add_test(hand, keys_are_independent);
    tcase_add_test(hand, initial_values_per_key);
    tcase_add_test(hand, unfinished_and_failed_reads_count_for_nothing);
    tcase_add_test(hand, misuse_is_reported_not_judged);
    tcase_add_test(hand, explanation_respects_buffer_size);
    suite_add_tcase(s, hand);

    TCase *bounds = tcase_create("bounds");
    tcase_add_test(bounds, exhaustive_search_finds_the_contradiction);
    tcase_add_test(bounds, step_bound_gives_up);
    tcase_add_test(bounds, memory_bound_gives_up);
    suite_add_tcase(s, bounds);

    TCase *random = tcase_create("random");
    tcase_add_test(random, agrees_with_brute_force);
    tcase_add_loop_test(random, real_register_histories_are_linearizable, 0, 20);
    tcase_add_loop_test(random, never_written_value_is_caught, 0, 20);
    tcase_add_loop_test(random, stale_read_is_caught, 0, 20);
    tcase_add_test(random, inversions_are_caught);
    tcase_add_test(random, thousands_of_concurrent_ops_check_quickly);
    suite_add_tcase(s, random);
    return s;
}

ZAB_CHECK_MAIN(lincheck_suite)
