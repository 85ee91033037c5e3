/* eval_time.c: time to evaluate a saved model on a data set's 10k test images, in-process.
 *
 *   eval_time MODEL DATA THREADS REPS
 *
 * Loads the model file and the data (not timed), builds the evaluation graph as `optlab eval` does
 * (batches of 1000, no gradients), runs ol_evaluate once to warm up, then REPS more times, timing
 * each; prints the median and best time with the loss and accuracy as one JSON line. The whole
 * `optlab eval` command is dominated by reading the gzip'ed training set, which is why the
 * benchmark times the evaluation here instead. */
#include <math.h>

#include "bench_util.h"
#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/nn.h"
#include "optlab/parallel.h"
#include "optlab/train.h"

static int fail(void) {
    fprintf(stderr, "eval_time: %s\n", ol_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: eval_time MODEL DATA THREADS REPS\n");
        return 2;
    }
    int threads = atoi(argv[3]), reps = atoi(argv[4]);
    if (threads < 1 || reps < 1 || reps > 10000) {
        fprintf(stderr, "eval_time: THREADS >= 1, REPS in [1, 10000]\n");
        return 2;
    }
    ol_parallel_set_threads(threads);
    ol_mlp m;
    ol_dataset train, test;
    ol_mlp_graph graph = {0};
    if (ol_mlp_load(&m, argv[1])) return fail();
    if (ol_data_load(argv[2], &train, &test)) return fail();
    ol_dataset_free(&train);
    if (ol_mlp_graph_build(&m, &graph, 1000, 0)) return fail();
    double loss, acc;
    if (ol_evaluate(&m, &graph, &test, &loss, &acc)) return fail();
    double *t = malloc((size_t)reps * sizeof *t), best = INFINITY;
    if (!t) return 2;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        if (ol_evaluate(&m, &graph, &test, &loss, &acc)) return fail();
        t[r] = bench_now() - t0;
        if (t[r] < best) best = t[r];
    }
    printf("{\"n\": %u, \"threads\": %d, \"reps\": %d, \"seconds\": %.6e, \"seconds_best\": %.6e, \"test_loss\": %.6f, "
           "\"test_acc\": %.6f}\n",
           test.n, threads, reps, bench_median(t, reps), best, loss, acc);
    free(t);
    ol_mlp_graph_free(&graph);
    ol_dataset_free(&test);
    ol_mlp_free(&m);
    return 0;
}
