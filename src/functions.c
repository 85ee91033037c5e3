/* functions.c: analytic objectives as small autodiff graphs; see include/optlab/functions.h.
 * Coordinates are picked out of x with constant selection matrices (x S, one matmul), so every
 * objective is made of the engine's own ops. */
#include "optlab/functions.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/mathfn.h"

const char *ol_fn_names(void) { return "quadratic:kappa=K, rosenbrock, rastrigin, himmelblau, styblinski-tang"; }

/* A constant (rows, cols) matrix node in the objective's constant pool, zeroed. */
static int constant(ol_objective *o, size_t *used, int rows, int cols, double **values) {
    *values = o->consts + *used;
    *used += (size_t)rows * cols;
    return ol_ad_param(o->g, rows, cols, *values, NULL);
}

/* x S with S (d, count) picking coordinates first, first+1, ..., first+count-1 */
static int select_coords(ol_objective *o, size_t *used, int first, int count) {
    double *s;
    int node = constant(o, used, o->d, count, &s);
    for (int j = 0; j < count; j++) s[(size_t)(first + j) * count + j] = 1;
    return ol_ad_matmul(o->g, o->x_node, node);
}

int ol_fn_create(ol_objective *o, const char *spec_text, int d) {
    memset(o, 0, sizeof *o);
    ol_spec spec;
    int rc = ol_spec_parse(&spec, spec_text, "function");
    if (rc) return rc;
    if (d < 1 || d > 100000) return ol_fail(OL_EARG, "dimension %d outside [1, 100000]", d);
    snprintf(o->name, sizeof o->name, "%s", spec.name);
    o->d = d;
    int is_quad = !strcmp(spec.name, "quadratic"), is_rosen = !strcmp(spec.name, "rosenbrock"),
        is_rastrigin = !strcmp(spec.name, "rastrigin"), is_himmel = !strcmp(spec.name, "himmelblau"),
        is_styblinski = !strcmp(spec.name, "styblinski-tang");
    if (!is_quad && !is_rosen && !is_rastrigin && !is_himmel && !is_styblinski)
        return ol_fail(OL_EARG, "unknown function '%s'; use %s", spec.name, ol_fn_names());
    if (is_quad) {
        if (ol_spec_get_double(&spec, "kappa", 1, &o->kappa) < 0) return OL_EARG;
        if (!(o->kappa >= 1)) return ol_fail(OL_EARG, "quadratic: kappa must be >= 1, got %g", o->kappa);
    }
    if ((rc = ol_spec_check_unused(&spec, is_quad ? "kappa" : ""))) return rc;
    if (is_rosen && d < 2) return ol_fail(OL_EARG, "rosenbrock needs at least 2 coordinates in --x0, got %d", d);
    if (is_himmel && d != 2) return ol_fail(OL_EARG, "himmelblau needs exactly 2 coordinates in --x0, got %d", d);
    if (is_rosen && d > 2000) return ol_fail(OL_EARG, "rosenbrock: dimension %d too large (at most 2000)", d);

    size_t n_consts = is_quad ? (size_t)d : is_rosen ? 2 * (size_t)d * (size_t)(d - 1) : is_himmel ? 4 : 0;
    o->x = ol_calloc((size_t)d, sizeof(double));
    o->grad = ol_calloc((size_t)d, sizeof(double));
    o->consts = ol_calloc(n_consts ? n_consts : 1, sizeof(double));
    o->g = ol_ad_new(OL_F64);
    if (!o->x || !o->grad || !o->consts || !o->g) {
        ol_fn_free(o);
        return OL_ENOMEM;
    }
    ol_graph *g = o->g;
    size_t used = 0;
    int x = o->x_node = ol_ad_param(g, 1, d, o->x, o->grad), f;
    if (is_quad) {
        double *l;
        int curv = constant(o, &used, 1, d, &l);
        for (int i = 0; i < d; i++) l[i] = d == 1 ? 1.0 : ol_math_pow(o->kappa, (double)i / (d - 1));
        f = ol_ad_scale(g, ol_ad_sum(g, ol_ad_mul(g, ol_ad_square(g, x), curv)), 0.5);
    } else if (is_rosen) {
        int lo = select_coords(o, &used, 0, d - 1), hi = select_coords(o, &used, 1, d - 1);
        int valley = ol_ad_square(g, ol_ad_sub(g, hi, ol_ad_square(g, lo)));          /* (x_{i+1} - x_i^2)^2 */
        int offset = ol_ad_square(g, ol_ad_shift(g, ol_ad_scale(g, lo, -1), 1));      /* (1 - x_i)^2 */
        f = ol_ad_add(g, ol_ad_scale(g, ol_ad_sum(g, valley), 100), ol_ad_sum(g, offset));
    } else if (is_rastrigin) {
        int wave = ol_ad_scale(g, ol_ad_cos(g, ol_ad_scale(g, x, 2 * M_PI)), 10);      /* 10 cos(2 pi x) */
        f = ol_ad_shift(g, ol_ad_sum(g, ol_ad_sub(g, ol_ad_square(g, x), wave)), 10.0 * d);
    } else if (is_styblinski) {
        int sq = ol_ad_square(g, x);                                                   /* x^4 - 16 x^2 + 5 x */
        int terms = ol_ad_add(g, ol_ad_sub(g, ol_ad_square(g, sq), ol_ad_scale(g, sq, 16)), ol_ad_scale(g, x, 5));
        f = ol_ad_scale(g, ol_ad_sum(g, terms), 0.5);
    } else {
        int x0 = select_coords(o, &used, 0, 1), x1 = select_coords(o, &used, 1, 1);
        int a = ol_ad_shift(g, ol_ad_add(g, ol_ad_square(g, x0), x1), -11);           /* x0^2 + x1 - 11 */
        int b = ol_ad_shift(g, ol_ad_add(g, x0, ol_ad_square(g, x1)), -7);            /* x0 + x1^2 - 7 */
        f = ol_ad_add(g, ol_ad_square(g, a), ol_ad_square(g, b));
    }
    o->f_node = f;
    if (f < 0 || (rc = ol_ad_compile(g, 1, 1))) {
        rc = rc ? rc : OL_EARG;
        ol_fn_free(o);
        return rc;
    }
    return OL_OK;
}

void ol_fn_free(ol_objective *o) {
    ol_ad_free(o->g);
    free(o->x);
    free(o->grad);
    free(o->consts);
    memset(o, 0, sizeof *o);
}

double ol_fn_eval(ol_objective *o, int want_grad) {
    if (ol_ad_forward(o->g)) return NAN;
    if (want_grad) {
        memset(o->grad, 0, (size_t)o->d * sizeof(double));
        if (ol_ad_backward(o->g, o->f_node)) return NAN;
    }
    return ol_ad_scalar(o->g, o->f_node);
}

/* ---- the minimize loop ---- */

ol_fn_minimize_opts ol_fn_minimize_defaults(void) {
    ol_fn_minimize_opts m;
    memset(&m, 0, sizeof m);
    m.target = -INFINITY;
    m.diverge_above = NAN;
    return m;
}

typedef struct {
    ol_objective *fn;
    double best;
    int closure_best;   /* 1: the closure's points count toward best (lbfgs's; not sam's ascent points) */
} min_state;

/* random search's objective: the candidate is in fn->x (group 0's buffer) */
static double min_objective(const void *x, void *userdata) {
    min_state *s = userdata;
    (void)x;
    double f = ol_fn_eval(s->fn, 0);
    if (f < s->best) s->best = f;
    return f;
}

/* the closure of kinds that evaluate f themselves (lbfgs): f and its gradient at fn->x */
static int min_closure(void *userdata, double *f) {
    min_state *s = userdata;
    *f = ol_fn_eval(s->fn, 1);
    if (s->closure_best && *f < s->best) s->best = *f;
    return OL_OK;
}

int ol_fn_minimize(ol_objective *fn, ol_optim *o, const ol_fn_minimize_opts *opts, ol_fn_minimize_result *r) {
    const int random = ol_optim_kind(o) == OL_OPTIM_RANDOM;
    min_state st = {fn, INFINITY, ol_optim_kind(o) == OL_OPTIM_LBFGS};
    if (random) ol_optim_set_objective(o, min_objective, &st);
    ol_optim_set_closure(o, min_closure, &st);
    r->outcome = OL_MIN_STEPS;
    r->steps = 0;
    r->f = r->best = NAN;
    r->diverge_bound = INFINITY;
    for (long k = 0;; k++) {
        /* f at x (random search: its gradient is not needed, its evaluations are the optimizer's) */
        double f = ol_fn_eval(fn, !random);
        if (!random && f < st.best) st.best = f;
        r->steps = k;
        r->f = f;
        r->best = st.best;
        int rc;
        if (k > 0 && opts->feed_schedule && isfinite(f)) { /* plateau and bold watch f after every step */
            if ((rc = ol_optim_report_metric(o, f))) return rc;
            if ((rc = ol_optim_report_loss(o, f))) return rc;
        }
        if (k == 0 && opts->diverge_factor > 0 && isfinite(f))
            r->diverge_bound = f + opts->diverge_factor * fmax(fabs(f), 1);
        if ((!isnan(opts->diverge_above) && (!isfinite(f) || f > opts->diverge_above)) || f > r->diverge_bound) {
            r->outcome = OL_MIN_DIVERGED;
            return OL_OK;
        }
        if (opts->on_point && opts->on_point(opts->userdata, k, f, fn->x)) {
            r->outcome = OL_MIN_STOPPED;
            return OL_OK;
        }
        if ((random ? st.best : f) <= opts->target) {
            r->outcome = OL_MIN_TARGET;
            return OL_OK;
        }
        if (k >= opts->max_steps) return OL_OK;
        if (opts->max_evaluations > 0 && ol_optim_evaluations(o) >= opts->max_evaluations) {
            r->outcome = OL_MIN_EVALUATIONS;
            return OL_OK;
        }
        rc = ol_optim_step(o);
        if (rc && !(rc == OL_ENUMERIC && opts->tolerate_nonfinite_grad)) return rc;
    }
}
