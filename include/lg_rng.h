/* lg_rng — a small seeded random number generator (xoshiro256**, seeded by splitmix64),
 * so that every random choice in lingraft is repeatable from a --seed. The state is a
 * value the caller owns; nothing is global. */
#ifndef LG_RNG_H
#define LG_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} lg_rng;

void lg_rng_seed(lg_rng *r, uint64_t seed);
uint64_t lg_rng_next(lg_rng *r);
/* uniform in [0, 1) with 53 bits */
double lg_rng_uniform(lg_rng *r);
/* uniform in [0, 1) with 24 bits, as a float */
float lg_rng_float(lg_rng *r);
/* standard normal (Box–Muller) */
double lg_rng_normal(lg_rng *r);

#endif
