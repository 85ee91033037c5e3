/* copy_bw.c: the machine's memory copy bandwidth, in GB/s (10^9 bytes per second).
 *
 *   copy_bw MiB threads [reps]
 *
 * Copies a buffer of MiB mebibytes (choose it far larger than the last-level cache) into another
 * with memcpy, each of `threads` OpenMP threads copying its own contiguous slice (each slice first
 * touched by the thread that copies it). A copy of B bytes counts 2 B bytes moved (B read + B
 * written), the STREAM "copy" convention. Prints the median and the best of reps copies as one
 * JSON line. This is the ceiling a memory-bound kernel (the optimizer step) is held against.
 * Deliberately not: the other STREAM kernels, or NUMA placement. */
#include <omp.h>

#include "bench_util.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: copy_bw MiB threads [reps]\n");
        return 2;
    }
    long mib = atol(argv[1]);
    int threads = atoi(argv[2]);
    int reps = argc > 3 ? atoi(argv[3]) : 10;
    if (mib < 1 || threads < 1 || reps < 1 || reps > 1000) {
        fprintf(stderr, "copy_bw: MiB >= 1, threads >= 1, reps in [1, 1000]\n");
        return 2;
    }
    size_t bytes = (size_t)mib << 20;
    char *src = bench_alloc(bytes), *dst = bench_alloc(bytes);
    omp_set_num_threads(threads);
#pragma omp parallel
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        size_t lo = bytes / (size_t)nt * (size_t)t, hi = t == nt - 1 ? bytes : bytes / (size_t)nt * (size_t)(t + 1);
        for (size_t i = lo; i < hi; i++) src[i] = (char)(i * 31);
        memset(dst + lo, 0, hi - lo);
    }
    double *rate = malloc((size_t)reps * sizeof *rate), best = 0;
    if (!rate) return 2;
    int used_threads = 1;
    for (int r = 0; r < reps + 1; r++) {
        double t0 = bench_now();
#pragma omp parallel
        {
            int t = omp_get_thread_num(), nt = omp_get_num_threads();
            size_t lo = bytes / (size_t)nt * (size_t)t, hi = t == nt - 1 ? bytes : bytes / (size_t)nt * (size_t)(t + 1);
            memcpy(dst + lo, src + lo, hi - lo);
            if (t == 0) used_threads = nt;
        }
        double t = bench_now() - t0;
        if (r == 0) continue; /* warm-up */
        rate[r - 1] = 2.0 * (double)bytes / t * 1e-9;
        if (rate[r - 1] > best) best = rate[r - 1];
    }
    long check = 0;
    for (size_t i = 0; i < bytes; i += 4099) check += dst[i];
    printf("{\"mib\": %ld, \"threads\": %d, \"reps\": %d, \"gbps\": %.3f, \"gbps_best\": %.3f, \"check\": %ld}\n", mib,
           used_threads, reps, bench_median(rate, reps), best, check);
    free(rate);
    free(src);
    free(dst);
    return 0;
}
