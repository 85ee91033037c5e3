/* parallel.c: the thread count; see include/optlab/parallel.h. Built without OpenMP (the
 * WebAssembly build), every parallel loop runs on the calling thread: the count is 1. */
#include "optlab/parallel.h"

#ifdef _OPENMP
#include <omp.h>
#else
static int omp_get_max_threads(void) { return 1; }
static void omp_set_num_threads(int threads) { (void)threads; }
#endif

static int current_threads = 0;

void ol_parallel_set_threads(int threads) {
#ifdef _OPENMP
    if (threads <= 0) return;
    current_threads = threads;
    omp_set_num_threads(threads);
#else
    (void)threads;
#endif
}

int ol_parallel_threads(void) { return current_threads > 0 ? current_threads : omp_get_max_threads(); }

int ol_parallel_cap_environment(void) {
    int asked = omp_get_max_threads();
    if (asked <= OL_PARALLEL_MAX_THREADS) return 0;
    omp_set_num_threads(OL_PARALLEL_MAX_THREADS);
    return asked;
}
