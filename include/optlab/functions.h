/* functions.h: the analytic test objectives of `optlab optimize` and the labs, built from autodiff
 * ops in double precision, so that optimize exercises the same engine the MLPs use.
 *   quadratic:kappa=K  f(x) = 1/2 sum_i l_i x_i^2, l_i = K^(i/(d-1)) (l = 1 when d = 1); min 0 at 0
 *   rosenbrock         f(x) = sum_{i<d-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 (d >= 2); min 0 at 1
 *   rastrigin          f(x) = 10 d + sum_i (x_i^2 - 10 cos(2 pi x_i)); min 0 at 0, many local minima
 *   himmelblau (d = 2) f(x) = (x0^2 + x1 - 11)^2 + (x0 + x1^2 - 7)^2; four minima of value 0
 *   styblinski-tang    f(x) = 1/2 sum_i (x_i^4 - 16 x_i^2 + 5 x_i); 2^d minima of different depths: each
 *                      coordinate at -2.9035 (-39.166 to f) or 2.7468 (-25.029); global at all -2.9035
 * and ol_fn_minimize, the one step / evaluate / stop loop that `optlab optimize` and the labs run an
 * optimizer on them with. */
#ifndef OPTLAB_FUNCTIONS_H
#define OPTLAB_FUNCTIONS_H

#include "optlab/autodiff.h"
#include "optlab/optim.h"

typedef struct {
    char name[64];
    int d;              /* dimension */
    double kappa;       /* quadratic's condition number */
    double *x;          /* (d) the point: write it, then call ol_fn_eval */
    double *grad;       /* (d) the gradient at x after ol_fn_eval */
    ol_graph *g;
    int x_node, f_node;
    double *consts;     /* constant inputs of the graph (curvatures, selection matrices) */
} ol_objective;

/* Builds the objective for spec ("quadratic:kappa=100", "rosenbrock", ...) in dimension d. */
int ol_fn_create(ol_objective *o, const char *spec, int d);
void ol_fn_free(ol_objective *o);
/* f at o->x; with want_grad, also the gradient into o->grad (overwritten, not accumulated). */
double ol_fn_eval(ol_objective *o, int want_grad);
/* The list of names for messages. */
const char *ol_fn_names(void);

/* ---- minimizing one: the step / evaluate / stop loop ----
 * The optimizer's group 0 must be fn->x (with fn->grad as its gradient; NULL for random search,
 * whose objective ol_fn_minimize sets to f at fn->x; L-BFGS gets f and the gradient at fn->x as
 * its closure, and its evaluations count in best; both point into the call: set your own before
 * stepping o outside it). At the start point and after each step: f (and
 * its gradient) at x, then, in this order: f to the schedule (feed_schedule, after a step, when
 * finite), divergence, on_point (may stop the run), the target, the step and evaluation budgets;
 * then the next step. All limits are optional. */
enum { OL_MIN_STEPS = 0, OL_MIN_TARGET = 1, OL_MIN_DIVERGED = 2, OL_MIN_EVALUATIONS = 3, OL_MIN_STOPPED = 4 };
typedef struct {
    long max_steps;           /* optimizer steps at most (>= 0) */
    long max_evaluations;     /* random search: no step once this many evaluations of f (0: no limit) */
    double target;            /* reached when f <= target (-INFINITY: never); random search: the best f
                               * any evaluation found (candidates included) */
    double diverge_above;     /* diverged when f > this or f is not finite; NAN: never stop for it */
    double diverge_factor;    /* > 0: also diverged when f > f(x0) + diverge_factor * max(|f(x0)|, 1), f(x0)
                               * the value at the start point (a bound relative to the start, for
                               * objectives of any scale); 0: no such bound */
    int feed_schedule;        /* report each finite f to the schedule (plateau, bold) after its step */
    int tolerate_nonfinite_grad; /* a step refused for a non-finite gradient norm (OL_ENUMERIC) is not an
                                  * error: f at the unchanged x decides (the labs' divergence tests) */
    /* after the start point (step 0) and each step: return nonzero to stop (outcome OL_MIN_STOPPED) */
    int (*on_point)(void *userdata, long step, double f, const double *x);
    void *userdata;
} ol_fn_minimize_opts;
typedef struct {
    int outcome;              /* OL_MIN_*: why it stopped */
    long steps;               /* optimizer steps taken */
    double f;                 /* f at the last point evaluated (NaN for random search's: see best) */
    double best;              /* the least f any evaluation returned */
    double diverge_bound;     /* the bound diverge_factor set (INFINITY without one) */
} ol_fn_minimize_result;
/* Options with no limit but max_steps = 0: set what you need. */
ol_fn_minimize_opts ol_fn_minimize_defaults(void);
/* Runs o on fn from fn->x. Returns 0 (whatever the outcome) or the optimizer's error code (with
 * ol_error()); r holds what happened up to then either way. */
int ol_fn_minimize(ol_objective *fn, ol_optim *o, const ol_fn_minimize_opts *opts, ol_fn_minimize_result *r);

#endif
