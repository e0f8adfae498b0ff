/*
 * fuzz_harness.h - what the seeded fuzz tests share: a small seedable PRNG
 * to pick mutations, and a crash report that names the seed being run, so
 * that a crash (signal or sanitizer) can be replayed exactly.
 */
#ifndef ZAB_TESTS_FUZZ_HARNESS_H
#define ZAB_TESTS_FUZZ_HARNESS_H

#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_SANITIZED 1
#endif
#endif
#ifdef FUZZ_SANITIZED
void __sanitizer_set_death_callback(void (*callback)(void));
#endif

/* The target and the case being run, for the crash handlers only. */
static const char *fuzz_name = "fuzz";
static volatile uint64_t fuzz_current_seed;

static void fuzz_print_seed(void)
{
    char line[96];
    int n = snprintf(line, sizeof line, "%s: crashed on seed 0x%016llx\n", fuzz_name,
                     (unsigned long long)fuzz_current_seed);
    if (n > 0) (void)!write(2, line, (size_t)n);
}

static void fuzz_on_signal(int sig)
{
    fuzz_print_seed();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void fuzz_watch_crashes(void)
{
    signal(SIGSEGV, fuzz_on_signal);
    signal(SIGBUS, fuzz_on_signal);
    signal(SIGABRT, fuzz_on_signal);
    signal(SIGFPE, fuzz_on_signal);
#ifdef FUZZ_SANITIZED
    __sanitizer_set_death_callback(fuzz_print_seed);
#endif
}

/* splitmix64: small, seedable, and enough to pick mutations. */
static uint64_t fuzz_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t fuzz_below(uint64_t *s, size_t n)
{
    return n ? (size_t)(fuzz_next(s) % n) : 0;
}

static void put_be32(uint8_t *at, uint32_t v)
{
    for (int i = 0; i < 4; i++) at[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* Fail the test naming the seed, the reason and (the start of) the input,
 * so the case can be replayed and read. */
static void fuzz_fail(uint64_t seed, const char *why, const uint8_t *b, size_t len)
{
    char hex[2 * 256 + 1];
    size_t shown = len < 256 ? len : 256;
    for (size_t i = 0; i < shown; i++) snprintf(hex + 2 * i, 3, "%02x", b[i]);
    hex[2 * shown] = '\0';
    ck_abort_msg("seed 0x%016llx: %s; input (%zu bytes): %s%s", (unsigned long long)seed,
                 why, len, hex, len > shown ? "..." : "");
}

#endif
