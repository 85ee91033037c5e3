/* sweep_prune.c: the pruning rules of sweeps; see include/optlab/sweep_prune.h. */
#include "optlab/sweep_prune.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int ol_sweep_prune_median(double best_so_far, const double *completed, size_t n, size_t min_completed) {
    double v[512];
    size_t m = 0;
    for (size_t i = 0; i < n && m < sizeof v / sizeof v[0]; i++)
        if (isfinite(completed[i])) v[m++] = completed[i];
    if (m == 0 || m < min_completed) return 0;
    qsort(v, m, sizeof v[0], cmp_double);
    double median = m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
    return !(best_so_far <= median); /* NaN (a diverged loss) is worse than anything */
}

int ol_sweep_prune_halving_rungs(long epochs, long n_trials, int eta, long *rungs, int cap) {
    if (epochs < 1 || cap < 1) return 0;
    if (eta < 2) eta = 2;
    int k_epochs = 0, k_trials = 0;
    for (long e = 1; e < epochs; e *= eta) k_epochs++;            /* ceil(log_eta epochs) */
    for (long t = eta; t <= n_trials; t *= eta) k_trials++;        /* floor(log_eta n) */
    int K = k_epochs < k_trials ? k_epochs : k_trials, n = 0;
    for (int k = 0; k <= K && n < cap; k++) {
        double scale = 1;
        for (int j = k; j < K; j++) scale *= eta;
        long r = k == K ? epochs : lround((double)epochs / scale);
        if (r < 1) r = 1;
        if (n > 0 && r <= rungs[n - 1]) continue;
        rungs[n++] = r;
    }
    return n;
}

