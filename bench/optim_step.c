/* optim_step.c: the optimizer step alone, through the public optim API, on one flat buffer.
 *
 *   optim_step SPEC LR N STEPS THREADS      e.g. optim_step adam 1e-3 10000000 20 1
 *
 * Registers x[N] and g[N] (float32, one group) with ol_optim_create(SPEC, LR), takes 2 warm-up
 * steps (first touch of the state), then times STEPS steps one by one and prints the median and the
 * best step time as one JSON line; the driver turns that into bytes moved per second (Adam: reads
 * x, g, m, v and writes x, m, v = 28 bytes a parameter; SGD+momentum: x, g, b read, x, b written =
 * 20). The gradient is fixed random data: the step's cost does not depend on its values.
 * THREADS goes to OpenMP (omp_set_num_threads), in case the step ever runs in parallel. */
#include <math.h>
#include <omp.h>

#include "bench_util.h"
#include "optlab/common.h"
#include "optlab/optim.h"

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: optim_step SPEC LR N STEPS THREADS\n");
        return 2;
    }
    const char *spec = argv[1];
    double lr = atof(argv[2]);
    long n = atol(argv[3]), steps = atol(argv[4]);
    int threads = atoi(argv[5]);
    if (n < 1 || steps < 1 || steps > 100000 || threads < 1) {
        fprintf(stderr, "optim_step: N >= 1, STEPS in [1, 100000], THREADS >= 1\n");
        return 2;
    }
    omp_set_num_threads(threads);
    float *x = bench_alloc((size_t)n * sizeof(float)), *g = bench_alloc((size_t)n * sizeof(float));
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (long i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(s >> 40) / (double)(1ull << 24) - 0.5);
        g[i] = 1e-2f * (float)((double)((s >> 16) & 0xffffff) / (double)(1ull << 24) - 0.5);
    }
    ol_optim *o;
    int rc = ol_optim_create(&o, spec, lr);
    if (!rc) rc = ol_optim_add_group(o, x, g, (size_t)n, -1, -1);
    for (int w = 0; w < 2 && !rc; w++) rc = ol_optim_step(o);
    if (rc) {
        fprintf(stderr, "optim_step: %s\n", ol_error());
        return 1;
    }
    double *t = malloc((size_t)steps * sizeof *t), best = INFINITY;
    if (!t) return 2;
    for (long k = 0; k < steps; k++) {
        double t0 = bench_now();
        rc = ol_optim_step(o);
        t[k] = bench_now() - t0;
        if (rc) {
            fprintf(stderr, "optim_step: %s\n", ol_error());
            return 1;
        }
        if (t[k] < best) best = t[k];
    }
    double checksum = 0;
    for (long i = 0; i < n; i += 997) checksum += x[i];
    if (!isfinite(checksum)) {
        fprintf(stderr, "optim_step: parameters became non-finite\n");
        return 1;
    }
    printf("{\"spec\": \"%s\", \"n\": %ld, \"steps\": %ld, \"threads\": %d, \"seconds\": %.6e, \"seconds_best\": %.6e, "
           "\"checksum\": %.6g}\n",
           spec, n, steps, threads, bench_median(t, (int)steps), best, checksum);
    ol_optim_free(o);
    free(t);
    free(x);
    free(g);
    return 0;
}
