/* play_native.c: the report panels' work natively, for `make bench-play` (bench/play_bench.py):
 * the map of rastrigin on a 200 x 200 grid and 500-step `optimize` runs through ol_play_run, timed
 * over repetitions (best), with the portable matrix product (the WebAssembly build's) or the
 * default one. Prints one line per case: "NAME MICROSECONDS".
 *   play_native KERNEL --gemm-seconds < shapes   "m n k ta tb precision rounds reps" a line: the
 *                                                seconds per product (ol_play_gemm_seconds) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/gemm.h"
#include "optlab/play.h"

static double best_us(int reps, void (*fn)(const void *), const void *arg) {
    double best = 1e300;
    fn(arg); /* warm */
    for (int r = 0; r < reps; r++) {
        double t0 = ol_now_seconds();
        fn(arg);
        double us = (ol_now_seconds() - t0) * 1e6;
        if (us < best) best = us;
    }
    return best;
}

static void map(const void *arg) {
    (void)arg;
    double *m = ol_play_map("rastrigin", -5.12, 5.12, -5.12, 5.12, 200, 200);
    if (!m) {
        fprintf(stderr, "play_native: %s\n", ol_play_error());
        exit(1);
    }
    ol_play_free_buffer(m);
}

static void run(const void *flags) {
    ol_play *p = ol_play_run(flags);
    if (!p || ol_play_status(p)) {
        fprintf(stderr, "play_native: %s\n", p ? ol_play_message(p) : "out of memory");
        exit(1);
    }
    ol_play_trace_csv(p);
    ol_play_free(p);
}

int main(int argc, char **argv) {
    const char *kernel = argc > 1 ? argv[1] : "portable";
    if (ol_gemm_set_kernel(kernel)) {
        fprintf(stderr, "play_native: %s\n", ol_error());
        return 2;
    }
    if (argc > 2 && !strcmp(argv[2], "--gemm-seconds")) {
        int m, n, k, ta, tb, prec, rounds, reps;
        while (scanf("%d %d %d %d %d %d %d %d", &m, &n, &k, &ta, &tb, &prec, &rounds, &reps) == 8)
            printf("%.9g\n", ol_play_gemm_seconds(m, n, k, ta, tb, prec, rounds, reps));
        return 0;
    }
    printf("map-rastrigin-200x200 %.1f\n", best_us(10, map, NULL));
    printf("run-gd-rastrigin-500 %.1f\n",
           best_us(20, run, "--fn=rastrigin\n--x0=2.2,-1.3\n--opt=gd\n--lr=0.001\n--steps=500\n"));
    printf("run-adam-rosenbrock-500 %.1f\n",
           best_us(20, run, "--fn=rosenbrock\n--x0=-1.5,2\n--opt=adam\n--lr=0.01\n--steps=500\n"));
    char flags[1024] = "--fn=quadratic:kappa=1\n--x0=";
    for (int i = 0; i < 64; i++) strcat(flags, i ? ",0.125" : "0.125"); /* d = 64 at distance 1 */
    strcat(flags, "\n--opt=random:sigma=0.01\n--lr=0.1\n--steps=2000\n--seed=1\n");
    printf("run-random-quadratic64-2000 %.1f\n", best_us(5, run, flags));
    return 0;
}
