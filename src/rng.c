/* rng.c: xoshiro256** with splitmix64 seeding; see include/optlab/rng.h. */
#include "optlab/rng.h"
#include "optlab/mathfn.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void ol_rng_seed(ol_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare_normal = 0;
}

uint64_t ol_rng_next(ol_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ol_rng_uniform(ol_rng *r) { return (double)(ol_rng_next(r) >> 11) * 0x1.0p-53; }

double ol_rng_uniform_range(ol_rng *r, double lo, double hi) { return lo + (hi - lo) * ol_rng_uniform(r); }

uint64_t ol_rng_below(ol_rng *r, uint64_t n) {
    /* Lemire's multiply-shift with rejection: unbiased. */
    unsigned __int128 m = (unsigned __int128)ol_rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            m = (unsigned __int128)ol_rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double ol_rng_normal(ol_rng *r) {
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare_normal;
    }
    double u1 = ol_rng_uniform(r), u2 = ol_rng_uniform(r);
    double radius = sqrt(-2.0 * ol_math_log(1.0 - u1)); /* 1 - u1 in (0, 1]: log never sees 0 */
    double angle = 6.283185307179586 * u2;
    r->spare_normal = radius * ol_math_sin(angle);
    r->has_spare = 1;
    return radius * ol_math_cos(angle);
}

void ol_rng_shuffle(ol_rng *r, uint32_t *idx, uint32_t n) {
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)ol_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
