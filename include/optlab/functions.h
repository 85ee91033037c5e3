/* functions.h: the analytic test objectives of `optlab optimize` and the labs, built from autodiff
 * ops in double precision, so that optimize exercises the same engine the MLPs use.
 *   quadratic:kappa=K  f(x) = 1/2 sum_i l_i x_i^2, l_i = K^(i/(d-1)) (l = 1 when d = 1); min 0 at 0
 *   rosenbrock         f(x) = sum_{i<d-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 (d >= 2); min 0 at 1
 *   rastrigin          f(x) = 10 d + sum_i (x_i^2 - 10 cos(2 pi x_i)); min 0 at 0, many local minima
 *   himmelblau (d = 2) f(x) = (x0^2 + x1 - 11)^2 + (x0 + x1^2 - 7)^2; four minima of value 0 */
#ifndef OPTLAB_FUNCTIONS_H
#define OPTLAB_FUNCTIONS_H

#include "optlab/autodiff.h"

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

#endif
