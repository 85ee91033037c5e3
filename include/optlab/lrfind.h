/* lrfind.h: the learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training Neural
 * Networks", sec. 3.3; fastai's lr_find). `optlab lr-find` and the tuning lab share it.
 *
 * From a fresh initialization, one mini-batch per step, the learning rate grows exponentially
 * from start_lr to end_lr: step i (0-based) of n uses lr_i = start (end/start)^(i/(n-1)). Each
 * step records the mini-batch loss (computed before that step's update) and its exponentially
 * smoothed value with bias correction, avg_i = beta avg_{i-1} + (1 - beta) loss_i,
 * smooth_i = avg_i / (1 - beta^(i+1)). The test stops early (diverged) after the first step whose
 * loss is not finite or whose smoothed loss exceeds diverge_factor x the lowest smoothed loss so far;
 * that step is recorded too.
 *
 * Two candidate rates are reported (fastai's lr_steep and lr_min):
 *   steep_lr  the lr where the smoothed loss falls fastest per decade of lr (central differences
 *             of smooth against log10 lr, between the first tenth of the points and the minimum);
 *   min_lr    the lr at the lowest smoothed loss: past it the rate is too high to make progress;
 *             the rule of thumb takes min_lr / 10.
 * The suggestion is suggested_lr = steep_lr: the rate at which the loss fell fastest, below the
 * region where it turns up. min_lr / 10 puts a fixed one-decade margin below a minimum that the
 * smoothing has moved to the right: the average spans about 1/(1 - beta) = 50 steps, which over 100
 * steps from 1e-6 to 10 is more than 3 decades of lr, so the lag is not one fixed decade and the
 * rule can land on either side of the good rates (the tuning lab measures both against a sweep of
 * full runs, for SGD and for Adam; docs/lab-tuning.md).
 *
 * Deliberately not here: restoring the model afterwards (the model is consumed; train a new one),
 * momentum cycling, a validation set. Errors: 0 or an OL_E* code with ol_error(). */
#ifndef OPTLAB_LRFIND_H
#define OPTLAB_LRFIND_H

#include <stdint.h>

#include "optlab/data.h"
#include "optlab/nn.h"
#include "optlab/plot.h"

typedef struct {
    const char *model_spec;    /* "mlp:784-64-10" (ignored when model is set) */
    const char *opt;           /* optimizer spec (its own lr is replaced at every step); "sgd" */
    long batch;                /* examples per step, >= 1 (capped at the training set); 64 */
    double start_lr, end_lr;   /* 0 < start_lr < end_lr, both finite; 1e-6 and 10 */
    long steps;                /* steps of the sweep, in [2, 1e7]; 100 */
    double beta;               /* loss smoothing, in [0, 1); 0.98 */
    double diverge_factor;     /* stop when the smoothed loss > factor x its minimum, > 1; 4 */
    uint64_t seed;             /* model initialization and mini-batch order; 1 */
    int normalize;             /* 1: standardize inputs with the training set's pixel mean and std */
    long train_subset;         /* use only the first N training examples (0 = all) */
    ol_mlp *model;             /* a created, initialized model trained in place (spec, seed init and
                                  normalize ignored: its own input_mean/inv_std are used), or NULL */
} ol_lrfind_config;

ol_lrfind_config ol_lrfind_default_config(void);

typedef struct {
    long n_points;             /* steps recorded (steps, or fewer after a divergence) */
    long *step;                /* (n_points) 1, 2, ... */
    double *lr;                /* (n_points) the lr of that step */
    double *loss;              /* (n_points) the mini-batch loss, before the update */
    double *smooth;            /* (n_points) smoothed loss (NaN on a non-finite loss) */
    int diverged;              /* 1: stopped early (see above); the last point is the divergent one */
    double initial_loss;       /* loss of the first batch */
    long min_index;            /* index of the lowest smoothed loss */
    double min_lr, min_smooth;
    long steep_index;          /* index of the steepest descent of the smoothed loss */
    double steep_lr;
    double suggested_lr;       /* = steep_lr, inside [start_lr, end_lr] */
} ol_lrfind_result;

/* Checks the settings, the model spec and the optimizer spec without any data (OL_EARG). */
int ol_lrfind_check(const ol_lrfind_config *c);
/* Runs the test on train (not modified). On success r holds the curve (free with
 * ol_lrfind_result_free); on failure r is empty. */
int ol_lrfind_run(const ol_lrfind_config *c, const ol_dataset *train, ol_lrfind_result *r);
void ol_lrfind_result_free(ol_lrfind_result *r);

/* The curve as CSV: step,lr,loss,smooth_loss (one row per recorded step), written atomically. */
int ol_lrfind_write_csv(const ol_lrfind_result *r, const char *path);
/* The figure: loss and smoothed loss against lr on a log axis, the minimum, the steepest descent
 * and the suggestion marked. NULL when out of memory. */
ol_plot *ol_lrfind_plot(const ol_lrfind_result *r, const char *title);

#endif
