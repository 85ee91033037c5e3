/* sgemm_rate.c: how fast OpenBLAS's cblas_sgemm runs on one shape, in GFLOP/s.
 *
 *   sgemm_rate M K N [seconds]      C (M, N) = A (M, K) . B (K, N), row-major, float32
 *
 * Threads come from the environment (OPENBLAS_NUM_THREADS, as the driver sets it), so the number
 * is "what the BLAS alone does on this shape with T threads": the ceiling the training step's
 * matrix products are held against. After one warm-up call it times 5 chunks of about
 * seconds/5 each and prints the median and the best chunk as one JSON line (2 M K N flops a call).
 * Deliberately not: a search over shapes, or any other BLAS. */
#include <cblas.h>

#include "bench_util.h"

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: sgemm_rate M K N [seconds]\n");
        return 2;
    }
    long m = atol(argv[1]), k = atol(argv[2]), n = atol(argv[3]);
    double seconds = argc > 4 ? atof(argv[4]) : 1.0;
    if (m < 1 || k < 1 || n < 1 || !(seconds > 0)) {
        fprintf(stderr, "sgemm_rate: M, K, N must be >= 1 and seconds > 0\n");
        return 2;
    }
    float *a = bench_alloc((size_t)m * k * sizeof(float));
    float *b = bench_alloc((size_t)k * n * sizeof(float));
    float *c = bench_alloc((size_t)m * n * sizeof(float));
    for (long i = 0; i < m * k; i++) a[i] = (float)((i * 7919) % 1000) * 1e-3f;
    for (long i = 0; i < k * n; i++) b[i] = (float)((i * 104729) % 1000) * 1e-3f - 0.5f;
    memset(c, 0, (size_t)m * n * sizeof(float));

    double flops = 2.0 * (double)m * (double)k * (double)n;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)k, b, (int)n, 0.0f,
                c, (int)n); /* warm-up: thread pool, page faults */
    enum { CHUNKS = 5 };
    double rate[CHUNKS], best = 0;
    long calls_total = 0;
    for (int r = 0; r < CHUNKS; r++) {
        long calls = 0;
        double t0 = bench_now(), t;
        do {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)k, b, (int)n,
                        0.0f, c, (int)n);
            calls++;
            t = bench_now() - t0;
        } while (t < seconds / CHUNKS);
        rate[r] = flops * (double)calls / t * 1e-9;
        if (rate[r] > best) best = rate[r];
        calls_total += calls;
    }
    double checksum = 0;
    for (long i = 0; i < m * n; i += 97) checksum += c[i];
    printf("{\"m\": %ld, \"k\": %ld, \"n\": %ld, \"threads\": %d, \"calls\": %ld, \"gflops\": %.3f, "
           "\"gflops_best\": %.3f, \"checksum\": %.6g}\n",
           m, k, n, openblas_get_num_threads(), calls_total, bench_median(rate, CHUNKS), best, checksum);
    free(a);
    free(b);
    free(c);
    return 0;
}
