/*
 * fuzz_harness.h - what the seeded fuzz tests share: a small seedable PRNG
 * to pick mutations, and a crash report that names the seed being run, so
 * that a crash (signal or sanitizer) can be replayed exactly.
 */
#ifndef ZAB_TESTS_FUZZ_HARNESS_H
#define ZAB_TESTS_FUZZ_HARNESS_H

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

#endif
