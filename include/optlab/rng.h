/* rng.h: the seeded pseudo-random generator every optlab module uses.
 *
 * xoshiro256** (Blackman & Vigna 2018), state seeded from a 64-bit seed through splitmix64.
 * Its output depends only on the seed and the number of draws, never on threads: code that draws
 * in parallel must give each worker its own generator, seeded in a fixed order.
 * Normal deviates use the Box-Muller transform in double precision, one pair per two uniforms,
 * the second cached. The state (ol_rng) is plain data: copy it to save and restore it. */
#ifndef OPTLAB_RNG_H
#define OPTLAB_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
    double spare_normal;   /* cached second Box-Muller deviate */
    int has_spare;         /* 1 when spare_normal is valid */
} ol_rng;

void ol_rng_seed(ol_rng *r, uint64_t seed);      /* same seed -> same sequence */
uint64_t ol_rng_next(ol_rng *r);                 /* 64 uniform random bits */
double ol_rng_uniform(ol_rng *r);                /* U[0, 1), 53 bits */
double ol_rng_uniform_range(ol_rng *r, double lo, double hi); /* U[lo, hi) */
uint64_t ol_rng_below(ol_rng *r, uint64_t n);    /* uniform in [0, n), unbiased (Lemire); n > 0 */
double ol_rng_normal(ol_rng *r);                 /* N(0, 1) */
/* Fisher-Yates shuffle of idx[0..n). */
void ol_rng_shuffle(ol_rng *r, uint32_t *idx, uint32_t n);

#endif
