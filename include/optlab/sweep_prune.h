/* sweep_prune.h: when a sweep stops hopeless trials early (src/sweep_prune.c): the median rule
 * and successive halving's rungs. Pure: numbers in, a decision out. */
#ifndef OPTLAB_SWEEP_PRUNE_H
#define OPTLAB_SWEEP_PRUNE_H

#include <stddef.h>

enum { OL_PRUNE_NONE = 0, OL_PRUNE_MEDIAN = 1, OL_PRUNE_HALVING = 2 };

/* Median rule (Golovin et al. 2017, Vizier; as optuna's MedianPruner): after epoch e, stop a trial
 * whose best validation loss so far is worse than the median of the completed trials' validation
 * losses at epoch e; only once at least min_completed of them exist. 1 = prune. */
int ol_sweep_prune_median(double best_so_far, const double *completed_at_epoch, size_t n, size_t min_completed);

/* Successive halving (Jamieson & Talwalkar 2016): the epochs at which the surviving trials are
 * ranked, ascending, the last = epochs. From n trials, each rung keeps the best ceil(n / eta); the
 * first rung is at about epochs / eta^K, K = min(ceil(log_eta epochs), floor(log_eta n)). Returns
 * the number of rungs (<= cap). */
int ol_sweep_prune_halving_rungs(long epochs, long n_trials, int eta, long *rungs, int cap);

#endif
