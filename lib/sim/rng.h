/*
 * rng.h - the simulation's one source of randomness: xorshift64* seeded
 * through splitmix64, so every seed (zero included) gives a good stream and
 * the same seed gives the same stream on every platform.
 */
#ifndef ZAB_SIM_RNG_H
#define ZAB_SIM_RNG_H

#include <stdint.h>

typedef struct zab_sim_rng {
    uint64_t s;
} zab_sim_rng;

static inline void zab_sim_rng_seed(zab_sim_rng *r, uint64_t seed)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    r->s = z ? z : 0x2545f4914f6cdd1dull;
}

static inline uint64_t zab_sim_rng_next(zab_sim_rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in lo..hi inclusive (lo when hi <= lo). The modulo bias is below
 * 2^-40 for the small ranges a simulation draws from. */
static inline int64_t zab_sim_rng_range(zab_sim_rng *r, int64_t lo, int64_t hi)
{
    if (hi <= lo) return lo;
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(zab_sim_rng_next(r) % span);
}

/* True with probability ppm / 1e6. Draws nothing when ppm is 0, so turning a
 * fault off does not shift the stream for the faults that stay on. */
static inline int zab_sim_rng_chance(zab_sim_rng *r, uint32_t ppm)
{
    if (!ppm) return 0;
    return zab_sim_rng_next(r) % 1000000u < ppm;
}

#endif
