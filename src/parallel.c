/* parallel.c: the thread count; see include/optlab/parallel.h. */
#include "optlab/parallel.h"

#include <omp.h>

static int current_threads = 0;

void ol_parallel_set_threads(int threads) {
    if (threads <= 0) return;
    current_threads = threads;
    omp_set_num_threads(threads);
}

int ol_parallel_threads(void) { return current_threads > 0 ? current_threads : omp_get_max_threads(); }

int ol_parallel_cap_environment(void) {
    int asked = omp_get_max_threads();
    if (asked <= OL_PARALLEL_MAX_THREADS) return 0;
    omp_set_num_threads(OL_PARALLEL_MAX_THREADS);
    return asked;
}
