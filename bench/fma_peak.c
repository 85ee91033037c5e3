/* fma_peak.c: the floating-point peak of one core, in GFLOP/s, for 256-bit (AVX2) and, where the
 * CPU has it, 512-bit (AVX-512) fused multiply-adds.
 *
 *   fma_peak [seconds]
 *
 * 12 independent FMA chains in registers (no memory traffic), so the number is the core's issue
 * rate: the most any float32 matrix product written for that vector width can reach. It says how
 * close OpenBLAS's sgemm (sgemm_rate) is to the limit of the kernel set it runs (OPENBLAS_CORETYPE
 * may hold it to AVX2 on an AVX-512 CPU). Run pinned to one thread; prints one JSON line with the
 * median of 5 chunks for each width (null where the CPU or the compiler lacks it). */
#include <immintrin.h>

#include "bench_util.h"

#define CHAINS 12

/* 12 accumulators as named variables (an array would live in memory and make the loop wait on
 * stores); one FMA of each per iteration. Each starts from its own value: chains that start equal
 * compute equal values, and the compiler folds them into one chain (it did: until 2026-12-06 this
 * program timed one dependent FMA per iteration and reported 12 times the rate of that chain,
 * about 1.47x the core's real peak on the Zen 5 machine) */
#define CHAIN_VARS(T, SET1) T c0 = SET1(1.00f), c1 = SET1(1.01f), c2 = SET1(1.02f), c3 = SET1(1.03f), \
                                c4 = SET1(1.04f), c5 = SET1(1.05f), c6 = SET1(1.06f), c7 = SET1(1.07f), \
                                c8 = SET1(1.08f), c9 = SET1(1.09f), c10 = SET1(1.10f), c11 = SET1(1.11f)
#define CHAIN_STEP(F)                                                                         \
    c0 = F(c0, a, b), c1 = F(c1, a, b), c2 = F(c2, a, b), c3 = F(c3, a, b), c4 = F(c4, a, b), \
    c5 = F(c5, a, b), c6 = F(c6, a, b), c7 = F(c7, a, b), c8 = F(c8, a, b), c9 = F(c9, a, b), \
    c10 = F(c10, a, b), c11 = F(c11, a, b)
#define CHAIN_SUM(ADD) ADD(ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(c4, c5), ADD(c6, c7))), ADD(ADD(c8, c9), ADD(c10, c11)))

__attribute__((target("avx2,fma"))) static double run_avx2(long iters) {
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    CHAIN_VARS(__m256, _mm256_set1_ps);
    for (long i = 0; i < iters; i++) CHAIN_STEP(_mm256_fmadd_ps);
    float out[8], sum = 0;
    _mm256_storeu_ps(out, CHAIN_SUM(_mm256_add_ps));
    for (int j = 0; j < 8; j++) sum += out[j];
    return sum;
}

__attribute__((target("avx512f"))) static double run_avx512(long iters) {
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    CHAIN_VARS(__m512, _mm512_set1_ps);
    for (long i = 0; i < iters; i++) CHAIN_STEP(_mm512_fmadd_ps);
    return _mm512_reduce_add_ps(CHAIN_SUM(_mm512_add_ps));
}

/* GFLOP/s of fn, median of 5 chunks of about seconds/5 each; 2 flops per lane per FMA */
static double rate(double (*fn)(long), int lanes, double seconds, double *sink) {
    const long iters = 1L << 20;
    double r[5];
    *sink += fn(iters); /* warm-up: clock ramp */
    for (int k = 0; k < 5; k++) {
        long calls = 0;
        double t0 = bench_now(), t;
        do {
            *sink += fn(iters);
            calls++;
            t = bench_now() - t0;
        } while (t < seconds / 5);
        r[k] = 2.0 * lanes * CHAINS * (double)iters * (double)calls / t * 1e-9;
    }
    return bench_median(r, 5);
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 1.0, sink = 0;
    if (!(seconds > 0)) {
        fprintf(stderr, "usage: fma_peak [seconds > 0]\n");
        return 2;
    }
    __builtin_cpu_init();
    char avx2[32] = "null", avx512[32] = "null";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        snprintf(avx2, sizeof avx2, "%.3f", rate(run_avx2, 8, seconds, &sink));
    if (__builtin_cpu_supports("avx512f"))
        snprintf(avx512, sizeof avx512, "%.3f", rate(run_avx512, 16, seconds, &sink));
    printf("{\"avx2_gflops\": %s, \"avx512_gflops\": %s, \"sink\": %.3g}\n", avx2, avx512, sink);
    return 0;
}
