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
#include <string.h>
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

/* Insert k bytes at `at` of the input b (len bytes, room for cap); a
 * mutation that would not fit is skipped. */
static inline void fuzz_insert(uint8_t *b, size_t *len, size_t cap, size_t at, const uint8_t *src,
                        size_t k)
{
    size_t n = *len;
    if (at > n || k > cap - n) return;
    memmove(b + at + k, b + at, n - at);
    memcpy(b + at, src, k);
    *len = n + k;
}

/* The mutations of a structured record: flip a bit, truncate, overwrite a
 * would-be length or count with one of lengths[] (or one just around what
 * remains), insert random bytes, delete a range, duplicate a slice (repeats
 * list entries), or set a boundary byte. The first `keep` bytes (the
 * record's selector) are left alone seven times in eight. */
static inline void fuzz_mutate(uint64_t *rng, uint8_t *b, size_t *len, size_t cap, size_t keep,
                        const uint32_t *lengths, size_t nlengths)
{
    size_t n = *len;
    size_t lo = n > keep && fuzz_below(rng, 8) ? keep : 0;
    size_t span = n - lo;
    switch (fuzz_below(rng, 7)) {
    case 0: /* flip a bit */
        if (span) {
            size_t at = lo + fuzz_below(rng, span);
            b[at] ^= (uint8_t)(1u << fuzz_below(rng, 8));
        }
        break;
    case 1: /* truncate */
        *len = lo + fuzz_below(rng, span + 1);
        break;
    case 2: /* overwrite a would-be length or count */
        if (span >= 4) {
            size_t at = lo + fuzz_below(rng, span - 3);
            uint32_t v = lengths[fuzz_below(rng, nlengths)];
            if (fuzz_below(rng, 4) == 0) v = (uint32_t)(n - at - 4 + fuzz_below(rng, 3));
            put_be32(b + at, v);
        }
        break;
    case 3: /* insert random bytes */
    {
        uint8_t tmp[8];
        size_t k = 1 + fuzz_below(rng, sizeof tmp);
        for (size_t i = 0; i < k; i++) tmp[i] = (uint8_t)fuzz_next(rng);
        fuzz_insert(b, len, cap, lo + fuzz_below(rng, span + 1), tmp, k);
        break;
    }
    case 4: /* delete a range */
        if (span) {
            size_t at = lo + fuzz_below(rng, span);
            size_t k = 1 + fuzz_below(rng, n - at);
            memmove(b + at, b + at + k, n - at - k);
            *len = n - k;
        }
        break;
    case 5: /* duplicate a slice elsewhere */
        if (span) {
            size_t from = lo + fuzz_below(rng, span);
            size_t k = 1 + fuzz_below(rng, n - from);
            uint8_t tmp[8192];
            if (k > sizeof tmp) k = sizeof tmp;
            memcpy(tmp, b + from, k);
            fuzz_insert(b, len, cap, lo + fuzz_below(rng, span + 1), tmp, k);
        }
        break;
    default: /* a boundary byte */
        if (span) {
            static const uint8_t bytes[] = { 0, 1, 0x7f, 0x80, 0xff };
            b[lo + fuzz_below(rng, span)] = bytes[fuzz_below(rng, sizeof bytes)];
        }
        break;
    }
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
