/* play_two.h: the C side of two of the report's in-page demos on a real model (src/play_two.c;
 * issue 18, demos 2 and 4).
 *
 * Demo 2, "two weights of a real model": a linear softmax model (mlp:IN-C, trained in the page by
 * ol_play_fit_run) with every parameter frozen but one weight W[i][c] and the bias b[c]. Its mean
 * cross-entropy over n examples, as a function of (w, b), is an optlab objective (functions.h) built
 * in float64 from the engine's own ops: the frozen logits are computed once, and only class c's logit
 * moves, z_kc = s_k + w x_ki + b. On it: the loss map over a window, the minimum by Newton's method
 * (the 2 x 2 Hessian from central differences of the autodiff gradient, damped by backtracking), and
 * runs of any optimizer spec through `optlab optimize`'s loop (ol_play_minimize), whose traces have
 * the command's --trace format, with each coordinate's log10 distance to the minimum.
 *
 * Demo 4, "the price of a gradient": the wall-clock time of one forward and backward pass of a model
 * over the first n examples, the median of a few repetitions after an untimed warm-up (lab 4's
 * measurement, in the page); and the race's smoothing of a step log (play_train.h) and its goal.
 *
 * Built into build/wasm/optlab.wasm (OL_PLAY_EXPORT) and natively into liboptlab
 * (tests/test_play_two.c). Errors: NULL or an OL_E* code with ol_play_error(), or the object's
 * status and message. */
#ifndef OPTLAB_PLAY_TWO_H
#define OPTLAB_PLAY_TWO_H

#include <stddef.h>
#include <stdint.h>

#include "optlab/play.h"

/* ---- demo 2: two weights of a linear model ---- */

typedef struct ol_play_two ol_play_two;

/* The loss over (W[weight][cls], b[cls]) of the linear model `model` ("mlp:IN-C": one layer, its
 * n_params parameters as nn.h lays them out: W (IN x C) row-major, then b) on n examples: pixels
 * (n x features bytes) and labels (n bytes, each < C), the inputs scaled to [0, 1] and, with
 * normalize, standardized by the mean and std of these n images as `train --normalize` does
 * (ol_data_stats, ol_data_batch). Then Newton's method from the model's own (w, b) to the minimum.
 * Returns the object (NULL only when out of memory); a refused input or a minimum Newton cannot
 * find comes back in its status and message. */
OL_PLAY_EXPORT ol_play_two *ol_play_two_new(const char *model, const float *params, long n_params,
                                            const uint8_t *pixels, const uint8_t *labels, long n, int features,
                                            int normalize, int weight, int cls);
OL_PLAY_EXPORT void ol_play_two_free(ol_play_two *t);
OL_PLAY_EXPORT int ol_play_two_status(const ol_play_two *t);          /* 0 or an OL_E* code */
OL_PLAY_EXPORT const char *ol_play_two_message(const ol_play_two *t); /* "" when status is 0 */
/* The loss at (w, b) (NaN when the object was refused). */
OL_PLAY_EXPORT double ol_play_two_loss(ol_play_two *t, double w, double b);
/* Its gradient at (w, b) into g[2] (d/dw, d/db); returns the loss. */
OL_PLAY_EXPORT double ol_play_two_gradient(ol_play_two *t, double w, double b, double *g);
/* The Hessian at (w, b) into h[4] (row-major, symmetrized) from central differences of the autodiff
 * gradient, steps of 1e-5 (1 + |coordinate|); returns 0 or OL_ENUMERIC when it is not finite. */
OL_PLAY_EXPORT int ol_play_two_hessian(ol_play_two *t, double w, double b, double *h);
/* What the object found, which:
 *   0, 1  the model's own w and b (the start of Newton's method)
 *   2, 3  the minimum w*, b*          4  the loss there          5  the gradient's norm there
 *   6..9  the Hessian there (row-major)    10, 11  its eigenvalues, smaller first
 *   12    Newton's iterations          13..16  the window of the map and the runs: w_lo, w_hi,
 *         b_lo, b_hi, centred on the minimum, each half-width 1.6 sqrt(2 D (H^-1)_jj) with D = 0.01
 *         (the ellipse where the quadratic model rises by D nats fits inside with room; a small rise,
 *         where the loss is close to its quadratic model: further out, along an ill-conditioned
 *         valley, the few examples that light the pixel saturate and the valley flattens)
 *   17, 18  the runs' default start: 0.7 half-widths from the minimum, down in w and along the
 *         valley in b (up when the Hessian's off-diagonal is positive), where gradient descent is slow
 *   19    1 / the larger eigenvalue (a good lr for gradient descent)   20  2 / it (above it, gradient
 *         descent diverges on the quadratic model)   21  the condition number, larger / smaller
 * NaN for an unknown which or a refused object. */
OL_PLAY_EXPORT double ol_play_two_info(const ol_play_two *t, int which);
/* Newton's iterates: rows 0..iterations (the start, then each step), 4 doubles a row: w, b, loss,
 * gradient norm. */
OL_PLAY_EXPORT long ol_play_two_newton_rows(const ol_play_two *t);
OL_PLAY_EXPORT const double *ol_play_two_newton_trace(const ol_play_two *t);
/* The loss on a w_cells x b_cells grid over [w_lo, w_hi] x [b_lo, b_hi], as ol_play_map (row 0 at
 * b_lo; free with ol_play_free_buffer); NULL with ol_play_error(). */
OL_PLAY_EXPORT double *ol_play_two_map(ol_play_two *t, double w_lo, double w_hi, double b_lo, double b_hi,
                                       int w_cells, int b_cells);

/* A run of optimizer `opt` (a spec of optim.h: "gd", "heavyball:beta=0.9", "sgd:momentum=0.9", ...)
 * at learning rate lr from (w0, b0) for `steps` steps on the object's loss: `optlab optimize`'s loop
 * (ol_play_minimize, its divergence bound and messages). */
typedef struct ol_play_two_run ol_play_two_run;
OL_PLAY_EXPORT ol_play_two_run *ol_play_two_descend(ol_play_two *t, const char *opt, double lr, long steps, double w0,
                                                    double b0);
OL_PLAY_EXPORT void ol_play_two_run_free(ol_play_two_run *r);
OL_PLAY_EXPORT int ol_play_two_run_status(const ol_play_two_run *r);
OL_PLAY_EXPORT const char *ol_play_two_run_message(const ol_play_two_run *r);
/* rows of 7 doubles: step, lr, loss, w, b, log10 |w - w*|, log10 |b - b*| (-inf where equal; by
 * ol_math_log, the same bits in every build); row k
 * the point after k steps (the trace of `optlab optimize` with two more columns); a diverged run
 * keeps its rows up to and with the point where it diverged */
OL_PLAY_EXPORT long ol_play_two_run_rows(const ol_play_two_run *r);
OL_PLAY_EXPORT const double *ol_play_two_run_trace(const ol_play_two_run *r);
/* the trace's first five columns as `optlab optimize --trace` writes them (NULL: out of memory) */
OL_PLAY_EXPORT const char *ol_play_two_run_csv(ol_play_two_run *r);

/* ---- demo 4: the price of a gradient, the mini-batch race ---- */

/* Milliseconds of one forward and backward pass of `model` (an MLP spec, initialized from seed) over
 * the first n of the `count` examples (pixels count x features, labels count), the examples
 * converted once beforehand. After untimed passes (three, then 1, 2, 4, ... until they last about 2 ms:
 * k, at most 1000; a browser's clock counts in steps of 0.1 ms), `repeats` timed repeats of k passes,
 * each giving their mean: out[0] the median repeat, out[1] the fastest, out[2] the slowest, out[3] k.
 * repeats in [1, 50]; n in [1, count]. 0 or OL_EARG / OL_ENOMEM with ol_play_error(). */
OL_PLAY_EXPORT int ol_play_two_gradient_ms(const char *model, const uint8_t *pixels, const uint8_t *labels,
                                           long count, int features, long n, int repeats, uint32_t seed,
                                           double *out);
/* A race run's step log (rows x 4, play_train.h: step, seconds, lr, loss) smoothed: out[k] the mean
 * loss of the steps k-m+1..k, m = ceil(window / batch) (the last `window` examples or more; fewer
 * at the start). Returns the seconds at which the smoothed loss first falls to `goal` or below, or
 * -1 when it never does (NaN for bad arguments: rows < 0, batch < 1, window < 1). */
OL_PLAY_EXPORT double ol_play_two_race_smooth(const double *trace, long rows, long batch, long window, double goal,
                                              double *out);

#endif
