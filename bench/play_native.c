/* play_native.c: the report panels' work natively, for `make bench-play` (bench/play_bench.py):
 * the map of rastrigin on a 200 x 200 grid and 500-step `optimize` runs through ol_play_run, timed
 * over repetitions (best), with the portable matrix product (the WebAssembly build's) or the
 * default one. Prints one line per case: "NAME MICROSECONDS".
 *   play_native KERNEL --gemm-seconds < shapes   "m n k ta tb precision rounds reps" a line: the
 *                                                seconds per product (ol_play_gemm_seconds)
 *   play_native KERNEL --subset DATA N_TRAIN N_TEST OUT   the page's subset of data set DATA (the first
 *                                                N_TRAIN training and N_TEST test examples, four IDX
 *                                                files one after the other: ol_data_subset_bytes)
 *   play_native KERNEL --train SUBSET RUNS < flags   RUNS runs of ol_play_fit_run (the page's
 *                                                training) on SUBSET with the flags ("--name=value" a
 *                                                line): "SECONDS STEPS" a run (seconds of training) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/gemm.h"
#include "optlab/play.h"
#include "optlab/play_train.h"

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

static int fail(const char *what) {
    fprintf(stderr, "play_native: %s\n", what);
    return 1;
}

/* the first n_train / n_test examples of data set `data` as the page holds them, into `out` */
static int write_subset(const char *data, const char *n_train, const char *n_test, const char *out) {
    ol_dataset train, test;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (ol_data_load(data, &train, &test)) return fail(ol_error());
    int rc = ol_data_subset_bytes(&train, &test, (uint32_t)atol(n_train), (uint32_t)atol(n_test), &bytes, &len);
    ol_dataset_free(&train);
    ol_dataset_free(&test);
    if (rc) return fail(ol_error());
    FILE *f = fopen(out, "wb");
    rc = !f || fwrite(bytes, 1, len, f) != len;
    if (f && fclose(f)) rc = 1;
    free(bytes);
    return rc ? fail("cannot write the subset") : 0;
}

/* `runs` runs of the page's training on the subset file with the flags on stdin */
static int train_runs(const char *subset, int runs) {
    unsigned char *bytes = NULL;
    size_t len = 0;
    char flags[4096];
    size_t n = fread(flags, 1, sizeof flags - 1, stdin);
    flags[n] = 0;
    if (ol_read_file(subset, (size_t)1 << 30, &bytes, &len)) return fail(ol_error());
    ol_play_data *d = ol_play_data_load(bytes, len);
    free(bytes);
    if (!d) return fail(ol_play_error());
    for (int r = 0; r < runs; r++) {
        ol_play_fit *f = ol_play_fit_run(d, flags);
        if (!f || ol_play_fit_status(f)) {
            fail(f ? ol_play_fit_message(f) : "out of memory");
            ol_play_fit_free(f);
            ol_play_data_free(d);
            return 1;
        }
        printf("%.9g %ld\n", ol_play_fit_seconds(f), ol_play_fit_rows(f));
        ol_play_fit_free(f);
    }
    ol_play_data_free(d);
    return 0;
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
    if (argc > 6 && !strcmp(argv[2], "--subset")) return write_subset(argv[3], argv[4], argv[5], argv[6]);
    if (argc > 4 && !strcmp(argv[2], "--train")) return train_runs(argv[3], atoi(argv[4]));
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
