/* play_two.c: two weights of a real model, and the price of a gradient (issue 18's demos 2 and 4);
 * see include/optlab/play_two.h. The two-weight loss is an ol_objective (functions.h) whose graph
 * is made of the engine's float64 ops, so that `optlab optimize`'s loop (ol_play_minimize) runs any
 * optimizer on it and its map, Newton's method and the runs all evaluate the same function. */
#include "optlab/play_two.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/mathfn.h"
#include "optlab/nn.h"

#define NEWTON_MAX 50          /* iterations at most */
#define NEWTON_GRAD_TOL 1e-10  /* converged when the gradient's norm is this small and Newton's */
#define NEWTON_STEP_TOL 1e-9   /* step this small (relative): a loss that falls towards a limit at
                                * infinity has small gradients but no small steps */
#define NEWTON_NEAR 1e-6       /* steps this small (relative) are taken whole, without line search */
#define WINDOW_RISE 0.01       /* D of the window (play_two.h) */
#define WINDOW_MARGIN 1.6
#define START_FRACTION 0.7     /* the default start: this many half-widths from the minimum */
#define MAX_STEPS 100000
#define N_INFO 22
#define REPEAT_SECONDS 2e-3    /* a timed repeat of the gradient lasts about this long */
#define MAX_PASSES 1000

struct ol_play_two {
    int status;
    char message[1024];
    ol_objective obj;          /* x = (w, b); the graph of the mean cross-entropy */
    double info[N_INFO];
    double *newton;            /* (iterations + 1) x 4 */
    long newton_rows;
};

struct ol_play_two_run {
    int status;
    char message[1024];
    double w_star, b_star;
    double *rows;              /* n_rows x RUN_WIDTH */
    long n_rows, cap_rows;
    ol_optim *o;               /* during the run: the lr of each row */
    char *csv;
};
#define RUN_WIDTH 7

static void keep_failure(int *status, char *message, size_t cap, int rc) {
    *status = rc;
    snprintf(message, cap, "%s", *ol_error() ? ol_error() : "unknown error");
}

/* ---- the objective ----
 * Per example k: the log-sum-exp l_k of the frozen logits of every class but c, and class c's frozen
 * part s_k = z_kc - W[i][c] x_ki - b[c]. Then with y'_k = 1 for an example of class c, else 0, and
 * d_k = l_k - z_k,y_k for the others (0 for class c's), the mean cross-entropy is
 *   L(w, b) = mean_k xent([l_k, s_k + w x_ki + b], y'_k) + mean_k d_k,
 * built as xent(mul(F, x) E + Z) + D: F = [x_ki, 1] (n x 2), E = [[0, 1], [0, 1]] picks w x_ki + b
 * into the second column, Z = [l_k, s_k]. Exact in float64 up to rounding: softmax over two columns
 * in place of C. */
static int build_objective(ol_objective *o, const double *xi, const double *lse, const double *s, const int32_t *y2,
                           double d_mean, long n) {
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "two-weights");
    o->d = 2;
    size_t nc = (size_t)n * 4 + 4;
    o->x = ol_calloc(2, sizeof(double));
    o->grad = ol_calloc(2, sizeof(double));
    o->consts = ol_calloc(nc, sizeof(double));
    o->g = ol_ad_new(OL_F64);
    if (!o->x || !o->grad || !o->consts || !o->g) return OL_ENOMEM;
    double *F = o->consts, *Z = F + 2 * n, *E = Z + 2 * n;
    for (long k = 0; k < n; k++) {
        F[2 * k] = xi[k];
        F[2 * k + 1] = 1;
        Z[2 * k] = lse[k];
        Z[2 * k + 1] = s[k];
    }
    E[1] = E[3] = 1;
    ol_graph *g = o->g;
    int x = o->x_node = ol_ad_param(g, 1, 2, o->x, o->grad);
    int f = ol_ad_param(g, (int)n, 2, F, NULL), e = ol_ad_param(g, 2, 2, E, NULL), z = ol_ad_param(g, (int)n, 2, Z, NULL);
    int logits = ol_ad_add(g, ol_ad_matmul(g, ol_ad_mul(g, f, x), e), z);
    int xent = ol_ad_softmax_xent(g, logits);
    o->f_node = ol_ad_shift(g, xent, d_mean);
    int rc = o->f_node < 0 ? OL_EARG : ol_ad_compile(g, 1, 1);
    if (rc) return rc;
    memcpy(ol_ad_labels(g, xent), y2, (size_t)n * sizeof *y2);
    return OL_OK;
}

/* The model's checks: a linear model, its parameters, the data's shape and labels. */
static int check_inputs(ol_mlp *m, const char *model, long n_params, const uint8_t *labels, long n, int features,
                        int weight, int cls) {
    int rc = ol_mlp_layout(m, model ? model : "", 0);
    if (rc) return rc;
    if (m->n_layers != 1)
        return ol_fail(OL_EARG, "%s has %d layers: two weights of a real model need a linear model (one layer, "
                       "mlp:IN-C), whose loss is convex in them; train mlp:%d-%d", model, m->n_layers, m->sizes[0],
                       m->sizes[m->n_layers]);
    int in = m->sizes[0], classes = m->sizes[1];
    if (n_params != (long)m->n_params)
        return ol_fail(OL_EARG, "%s has %zu parameters, got %ld", model, m->n_params, n_params);
    if (features != in)
        return ol_fail(OL_EARG, "the examples have %d pixels, %s takes %d inputs", features, model, in);
    if (n < 1 || n > (1L << 24)) return ol_fail(OL_EARG, "%ld examples: need between 1 and %ld", n, 1L << 24);
    if (weight < 0 || weight >= in)
        return ol_fail(OL_EARG, "weight index %d is out of range: the model's inputs are pixels 0 to %d", weight, in - 1);
    if (cls < 0 || cls >= classes)
        return ol_fail(OL_EARG, "class %d is out of range: the model's classes are 0 to %d", cls, classes - 1);
    for (long k = 0; k < n; k++)
        if (labels[k] >= classes)
            return ol_fail(OL_EARG, "example %ld has label %d, not one of the model's %d classes", k, labels[k], classes);
    return OL_OK;
}

/* The examples as the model sees them (float32, as ol_data_batch makes them for training), then the
 * objective's constants in float64. */
static int make_objective(ol_play_two *t, const ol_mlp *m, const float *params, const uint8_t *pixels,
                          const uint8_t *labels, long n, int normalize, int weight, int cls) {
    int in = m->sizes[0], classes = m->sizes[1];
    ol_dataset view = {(uint32_t)n, 1, (uint32_t)in, (uint8_t *)pixels, (uint8_t *)labels, classes, 0};
    float mean = 0, inv_std = 1;
    int rc = OL_OK;
    if (normalize) {
        double mu, sd;
        if ((rc = ol_data_stats(&view, &mu, &sd))) return rc;
        if (!(sd > 0)) return ol_fail(OL_EARG, "--normalize: the training images are constant (std 0)");
        mean = (float)mu;
        inv_std = (float)(1.0 / sd);
    }
    float *x = ol_malloc_array((size_t)n * (size_t)in, sizeof(float));
    uint32_t *idx = ol_malloc_array((size_t)n, sizeof *idx);
    double *buf = ol_malloc_array((size_t)n * 3 + (size_t)classes, sizeof(double));
    int32_t *y2 = ol_malloc_array((size_t)n, sizeof *y2);
    if (!x || !idx || !buf || !y2) rc = OL_ENOMEM;
    if (!rc) {
        for (long k = 0; k < n; k++) idx[k] = (uint32_t)k;
        ol_data_batch(&view, idx, (uint32_t)n, x, NULL, mean, inv_std);
        double *xi = buf, *lse = xi + n, *s = lse + n, *z = s + n, d_sum = 0, lo = INFINITY, hi = -INFINITY;
        const float *W = params + m->w_off[0], *b = params + m->b_off[0];
        for (long k = 0; k < n; k++) {
            const float *row = x + (size_t)k * (size_t)in;
            for (int j = 0; j < classes; j++) z[j] = b[j];
            for (int p = 0; p < in; p++)
                for (int j = 0; j < classes; j++) z[j] += (double)row[p] * (double)W[(size_t)p * classes + j];
            xi[k] = row[weight];
            lo = fmin(lo, xi[k]);
            hi = fmax(hi, xi[k]);
            s[k] = z[cls] - (double)W[(size_t)weight * classes + cls] * xi[k] - (double)b[cls];
            double top = -INFINITY, sum = 0;
            for (int j = 0; j < classes; j++) if (j != cls) top = fmax(top, z[j]);
            for (int j = 0; j < classes; j++) if (j != cls) sum += ol_math_exp(z[j] - top);
            lse[k] = top + ol_math_log(sum);
            y2[k] = labels[k] == cls;
            if (!y2[k]) d_sum += lse[k] - z[labels[k]];
        }
        if (!(hi > lo))
            rc = ol_fail(OL_EARG, "pixel %d has the same value in all %ld examples: its weight moves the loss as the bias "
                         "does, so the loss has no single minimum over the two; choose a pixel that varies (nearer "
                         "the image's centre)", weight, n);
        else
            rc = build_objective(&t->obj, xi, lse, s, y2, d_sum / (double)n, n);
        t->info[0] = W[(size_t)weight * classes + cls];
        t->info[1] = b[cls];
    }
    free(x);
    free(idx);
    free(buf);
    free(y2);
    return rc;
}

double ol_play_two_gradient(ol_play_two *t, double w, double b, double *g) {
    if (!t->obj.g) {
        g[0] = g[1] = NAN;
        return NAN;
    }
    t->obj.x[0] = w;
    t->obj.x[1] = b;
    double f = ol_fn_eval(&t->obj, 1);
    g[0] = t->obj.grad[0];
    g[1] = t->obj.grad[1];
    return f;
}

double ol_play_two_loss(ol_play_two *t, double w, double b) {
    if (!t->obj.g) return NAN;
    t->obj.x[0] = w;
    t->obj.x[1] = b;
    return ol_fn_eval(&t->obj, 0);
}

int ol_play_two_hessian(ol_play_two *t, double w, double b, double *h) {
    double at[2] = {w, b}, gp[2], gm[2], col[2][2];
    for (int j = 0; j < 2; j++) {
        double step = 1e-5 * (1 + fabs(at[j])), p[2] = {w, b}, q[2] = {w, b};
        p[j] += step;
        q[j] -= step;
        ol_play_two_gradient(t, p[0], p[1], gp);
        ol_play_two_gradient(t, q[0], q[1], gm);
        double hstep = p[j] - q[j]; /* the step as represented */
        for (int i = 0; i < 2; i++) col[j][i] = (gp[i] - gm[i]) / hstep;
    }
    h[0] = col[0][0];
    h[3] = col[1][1];
    h[1] = h[2] = 0.5 * (col[0][1] + col[1][0]);
    for (int i = 0; i < 4; i++)
        if (!isfinite(h[i])) return ol_fail(OL_ENUMERIC, "the Hessian at (%g, %g) is not finite", w, b);
    return OL_OK;
}

/* Damped Newton from the model's own (w, b): the step -H^-1 g, halved until the loss falls enough
 * (Armijo, 1e-4; the loss is convex in (w, b), so each step is a descent), taken whole once it is
 * small; done when both the step and the gradient are small. */
static int newton(ol_play_two *t) {
    t->newton = ol_malloc_array((NEWTON_MAX + 1) * 4, sizeof(double));
    if (!t->newton) return OL_ENOMEM;
    double th[2] = {t->info[0], t->info[1]}, g[2], h[4];
    for (int it = 0;; it++) {
        double f = ol_play_two_gradient(t, th[0], th[1], g), gn = sqrt(g[0] * g[0] + g[1] * g[1]);
        double *row = t->newton + 4 * it;
        row[0] = th[0], row[1] = th[1], row[2] = f, row[3] = gn;
        t->newton_rows = it + 1;
        if (!isfinite(f) || !isfinite(gn))
            return ol_fail(OL_ENUMERIC, "Newton's method: the loss is %g at (%g, %g) after %d iterations", f, th[0], th[1], it);
        int rc = ol_play_two_hessian(t, th[0], th[1], h);
        if (rc) return rc;
        double det = h[0] * h[3] - h[1] * h[2];
        if (!(h[0] > 0) || !(det > 1e-12 * h[0] * h[3]))
            return ol_fail(OL_ENUMERIC, "Newton's method: the Hessian at (%g, %g) is not positive definite (%g %g; %g %g): "
                           "the loss has no single minimum over this weight and bias; choose another pixel or class",
                           th[0], th[1], h[0], h[1], h[2], h[3]);
        double d[2] = {-(h[3] * g[0] - h[1] * g[1]) / det, -(h[0] * g[1] - h[2] * g[0]) / det};
        if (gn <= NEWTON_GRAD_TOL && fabs(d[0]) <= NEWTON_STEP_TOL * (1 + fabs(th[0])) &&
            fabs(d[1]) <= NEWTON_STEP_TOL * (1 + fabs(th[1]))) {
            t->info[2] = th[0], t->info[3] = th[1], t->info[4] = f, t->info[5] = gn;
            memcpy(t->info + 6, h, sizeof h);
            double mid = 0.5 * (h[0] + h[3]), rad = sqrt(0.25 * (h[0] - h[3]) * (h[0] - h[3]) + h[1] * h[1]);
            t->info[11] = mid + rad;
            t->info[10] = det / t->info[11]; /* the smaller, without cancellation */
            t->info[19] = 1 / t->info[11];
            t->info[20] = 2 / t->info[11];
            t->info[21] = t->info[11] / t->info[10];
            t->info[12] = it;
            for (int j = 0; j < 2; j++) {
                double half = WINDOW_MARGIN * sqrt(2 * WINDOW_RISE * (j ? h[0] : h[3]) / det);
                t->info[13 + 2 * j] = th[j] - half;
                t->info[14 + 2 * j] = th[j] + half;
            }
            /* the default start: along the valley (the flat direction), where gradient descent is slow */
            double hw = 0.5 * (t->info[14] - t->info[13]), hb = 0.5 * (t->info[16] - t->info[15]);
            t->info[17] = th[0] - START_FRACTION * hw;
            t->info[18] = th[1] + (h[1] > 0 ? 1 : -1) * START_FRACTION * hb;
            return OL_OK;
        }
        if (it == NEWTON_MAX)
            return ol_fail(OL_ENUMERIC, "Newton's method did not converge in %d iterations (gradient norm %g at (%g, %g)): "
                           "the loss may have no minimum over this weight and bias; choose another pixel or class",
                           NEWTON_MAX, gn, th[0], th[1]);
        /* near the minimum the full step (the loss's decrease is then below its rounding) */
        int near = fabs(d[0]) <= NEWTON_NEAR * (1 + fabs(th[0])) && fabs(d[1]) <= NEWTON_NEAR * (1 + fabs(th[1]));
        double slope = g[0] * d[0] + g[1] * d[1], step = 1, fn = near ? f : NAN;
        for (int k = 0; k < 60 && !near; k++, step *= 0.5) {
            fn = ol_play_two_loss(t, th[0] + step * d[0], th[1] + step * d[1]);
            if (fn <= f + 1e-4 * step * slope) break;
        }
        if (!(fn <= f)) { /* no decrease at any step: rounding's floor; the gradient decides */
            return ol_fail(OL_ENUMERIC, "Newton's method stalled at (%g, %g) with gradient norm %g after %d iterations",
                           th[0], th[1], gn, it);
        }
        th[0] += step * d[0];
        th[1] += step * d[1];
    }
}

ol_play_two *ol_play_two_new(const char *model, const float *params, long n_params, const uint8_t *pixels,
                             const uint8_t *labels, long n, int features, int normalize, int weight, int cls) {
    ol_play_two *t = ol_calloc(1, sizeof *t);
    if (!t) return NULL;
    for (int i = 0; i < N_INFO; i++) t->info[i] = NAN;
    ol_mlp m;
    int rc = params && pixels && labels ? OL_OK : ol_fail(OL_EARG, "no model parameters or no examples");
    if (!rc) rc = check_inputs(&m, model, n_params, labels, n, features, weight, cls);
    if (!rc) rc = make_objective(t, &m, params, pixels, labels, n, normalize, weight, cls);
    if (!rc) rc = newton(t);
    if (rc) keep_failure(&t->status, t->message, sizeof t->message, rc);
    if (rc && rc != OL_ENUMERIC) ol_fn_free(&t->obj); /* a refused input: nothing to evaluate */
    return t;
}

void ol_play_two_free(ol_play_two *t) {
    if (!t) return;
    ol_fn_free(&t->obj);
    free(t->newton);
    free(t);
}

int ol_play_two_status(const ol_play_two *t) { return t->status; }
const char *ol_play_two_message(const ol_play_two *t) { return t->message; }
double ol_play_two_info(const ol_play_two *t, int which) { return which >= 0 && which < N_INFO ? t->info[which] : NAN; }
long ol_play_two_newton_rows(const ol_play_two *t) { return t->newton_rows; }
const double *ol_play_two_newton_trace(const ol_play_two *t) { return t->newton; }

double *ol_play_two_map(ol_play_two *t, double w_lo, double w_hi, double b_lo, double b_hi, int w_cells, int b_cells) {
    if (!t->obj.g) {
        ol_fail(OL_EARG, "no loss to map: %s", t->message);
        return NULL;
    }
    if (w_cells < 2 || b_cells < 2 || w_cells > 4096 || b_cells > 4096) {
        ol_fail(OL_EARG, "map of %d x %d points: each side must be in [2, 4096]", w_cells, b_cells);
        return NULL;
    }
    if (!isfinite(w_lo) || !isfinite(w_hi) || !isfinite(b_lo) || !isfinite(b_hi) || !(w_lo < w_hi) || !(b_lo < b_hi)) {
        ol_fail(OL_EARG, "map over [%g, %g] x [%g, %g]: each range must be finite and not empty", w_lo, w_hi, b_lo, b_hi);
        return NULL;
    }
    double *out = ol_malloc_array((size_t)w_cells * (size_t)b_cells, sizeof(double));
    if (out)
        for (int r = 0; r < b_cells; r++)
            for (int c = 0; c < w_cells; c++)
                out[(size_t)r * w_cells + c] = ol_play_two_loss(t, w_lo + (w_hi - w_lo) * c / (w_cells - 1),
                                                                b_lo + (b_hi - b_lo) * r / (b_cells - 1));
    return out;
}

/* ---- runs ---- */

/* log10 through optlab's own log (the same bits in every build; libm's log10 differs) */
static double log10_of(double v) { return v > 0 ? ol_math_log(v) / M_LN10 : v == 0 ? -INFINITY : NAN; }

static int run_point(void *userdata, long step, double f, const double *x) {
    ol_play_two_run *r = userdata;
    if (r->n_rows == r->cap_rows) {
        long cap = r->cap_rows ? 2 * r->cap_rows : 256;
        double *rows = realloc(r->rows, (size_t)cap * RUN_WIDTH * sizeof(double));
        if (!rows) {
            ol_fail(OL_ENOMEM, "out of memory keeping the run's %ld points; ask for fewer steps", r->n_rows + 1);
            return 1;
        }
        r->rows = rows;
        r->cap_rows = cap;
    }
    double *row = r->rows + (size_t)r->n_rows++ * RUN_WIDTH;
    row[0] = (double)step;
    row[1] = r->o ? ol_optim_get_lr(r->o, 0) : NAN;
    row[2] = f;
    row[3] = x[0];
    row[4] = x[1];
    row[5] = log10_of(fabs(x[0] - r->w_star));
    row[6] = log10_of(fabs(x[1] - r->b_star));
    return 0;
}

ol_play_two_run *ol_play_two_descend(ol_play_two *t, const char *opt, double lr, long steps, double w0, double b0) {
    ol_play_two_run *r = ol_calloc(1, sizeof *r);
    if (!r) return NULL;
    int rc = OL_OK;
    if (t->status) rc = ol_fail(t->status, "no loss to descend: %s", t->message);
    else if (steps < 0 || steps > MAX_STEPS) rc = ol_fail(OL_EARG, "steps: %ld is out of range [0, %d]", steps, MAX_STEPS);
    else if (!isfinite(w0) || !isfinite(b0)) rc = ol_fail(OL_EARG, "the start (%g, %g) is not a finite point", w0, b0);
    if (!rc) rc = ol_optim_create(&r->o, opt ? opt : "", lr);
    if (!rc) rc = ol_optim_add_group_f64(r->o, t->obj.x, t->obj.grad, 2, -1, -1);
    if (!rc) {
        r->w_star = t->info[2];
        r->b_star = t->info[3];
        t->obj.x[0] = w0;
        t->obj.x[1] = b0;
        ol_fn_minimize_result res;
        rc = ol_play_minimize(&t->obj, r->o, steps, OL_PLAY_DIVERGE_FACTOR, run_point, r, &res);
        if (!rc && res.outcome == OL_MIN_STOPPED) rc = OL_ENOMEM;
        if (!rc && res.outcome == OL_MIN_DIVERGED) {
            double lr_used = r->n_rows ? r->rows[(size_t)(r->n_rows - 1) * RUN_WIDTH + 1] : lr;
            if (res.steps > 0 && run_point(r, res.steps, res.f, t->obj.x)) rc = OL_ENOMEM;
            else rc = ol_play_diverged(&res, lr_used, OL_PLAY_DIVERGE_FACTOR, NULL);
        }
    }
    if (rc) keep_failure(&r->status, r->message, sizeof r->message, rc);
    ol_optim_free(r->o);
    r->o = NULL;
    return r;
}

void ol_play_two_run_free(ol_play_two_run *r) {
    if (!r) return;
    free(r->rows);
    free(r->csv);
    free(r);
}

int ol_play_two_run_status(const ol_play_two_run *r) { return r->status; }
const char *ol_play_two_run_message(const ol_play_two_run *r) { return r->message; }
long ol_play_two_run_rows(const ol_play_two_run *r) { return r->n_rows; }
const double *ol_play_two_run_trace(const ol_play_two_run *r) { return r->rows; }

const char *ol_play_two_run_csv(ol_play_two_run *r) {
    if (r->csv) return r->csv;
    size_t cap = 64 + 26 * 5 * (size_t)(r->n_rows + 1), len;
    char *s = malloc(cap);
    if (!s) return NULL;
    len = ol_play_trace_header(s, cap, 2, 0);
    for (long k = 0; k < r->n_rows; k++) {
        const double *row = r->rows + (size_t)k * RUN_WIDTH;
        len += ol_play_trace_row(s + len, cap - len, (long)row[0], row[1], row[2], row + 3, NULL, 2);
    }
    return r->csv = s;
}

/* ---- demo 4 ---- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* k forward and backward passes; *seconds (may be NULL) what they took */
static int gradient_passes(ol_mlp_graph *mg, int k, double *seconds) {
    double t0 = ol_now_seconds();
    int rc = OL_OK;
    for (int j = 0; j < k && !rc; j++) {
        rc = ol_ad_forward(mg->g);
        if (!rc) rc = ol_ad_backward_set(mg->g, mg->loss, 1.0);
    }
    if (seconds) *seconds = ol_now_seconds() - t0;
    return rc;
}

int ol_play_two_gradient_ms(const char *model, const uint8_t *pixels, const uint8_t *labels, long count, int features,
                            long n, int repeats, uint32_t seed, double *out) {
    if (!pixels || !labels || count < 1) return ol_fail(OL_EARG, "no examples to time the gradient on");
    if (n < 1 || n > count) return ol_fail(OL_EARG, "%ld examples: choose between 1 and %ld", n, count);
    if (repeats < 1 || repeats > 50) return ol_fail(OL_EARG, "%d repeats: choose between 1 and 50", repeats);
    ol_mlp m;
    ol_mlp_graph mg;
    memset(&mg, 0, sizeof mg);
    int rc = ol_mlp_create(&m, model ? model : "", 0);
    if (rc) return rc;
    if (m.sizes[0] != features) {
        rc = ol_fail(OL_EARG, "the examples have %d pixels, %s takes %d inputs", features, model, m.sizes[0]);
        ol_mlp_free(&m);
        return rc;
    }
    for (long k = 0; k < n && !rc; k++)
        if (labels[k] >= m.sizes[m.n_layers])
            rc = ol_fail(OL_EARG, "example %ld has label %d, not one of %s's %d classes", k, labels[k], model,
                         m.sizes[m.n_layers]);
    ol_mlp_init(&m, seed);
    uint32_t *idx = ol_malloc_array((size_t)n, sizeof *idx);
    double times[50];
    int passes = 1;
    if (!rc && !idx) rc = OL_ENOMEM;
    if (!rc) rc = ol_mlp_graph_build(&m, &mg, (int)n, 1);
    if (!rc) {
        ol_dataset view = {(uint32_t)n, 1, (uint32_t)features, (uint8_t *)pixels, (uint8_t *)labels,
                           m.sizes[m.n_layers], 0};
        for (long k = 0; k < n; k++) idx[k] = (uint32_t)k;
        ol_data_batch(&view, idx, (uint32_t)n, ol_ad_value(mg.g, mg.x), ol_ad_labels(mg.g, mg.loss), 0, 1);
        /* the warm-up (not counted): three passes, then 1, 2, 4, ... passes until they last about 2 ms:
         * that many passes make a timed repeat, so that a clock that counts in steps of 0.1 ms (a
         * browser's) still resolves a one-example gradient */
        rc = gradient_passes(&mg, 3, NULL); /* the first passes of fresh code and memory are slow */
        for (double took = 0; !rc && passes < MAX_PASSES; passes *= 2) {
            if ((rc = gradient_passes(&mg, passes, &took)) || took >= REPEAT_SECONDS) break;
        }
        if (passes > MAX_PASSES) passes = MAX_PASSES;
        for (int r = 0; r < repeats && !rc; r++) {
            double took;
            rc = gradient_passes(&mg, passes, &took);
            times[r] = 1e3 * took / passes;
        }
    }
    if (!rc) {
        qsort(times, (size_t)repeats, sizeof *times, cmp_double);
        out[0] = repeats % 2 ? times[repeats / 2] : 0.5 * (times[repeats / 2 - 1] + times[repeats / 2]);
        out[1] = times[0];
        out[2] = times[repeats - 1];
        out[3] = passes;
    }
    ol_mlp_graph_free(&mg);
    ol_mlp_free(&m);
    free(idx);
    return rc;
}

double ol_play_two_race_smooth(const double *trace, long rows, long batch, long window, double goal, double *out) {
    if (rows < 0 || batch < 1 || window < 1 || (rows > 0 && (!trace || !out))) return NAN;
    long m = window / batch + (window % batch != 0); /* ceil, without window + batch overflowing a 32-bit long */
    double reached = -1;
    for (long k = 0; k < rows; k++) {
        long first = k + 1 > m ? k + 1 - m : 0;
        double sum = 0;
        for (long j = first; j <= k; j++) sum += trace[4 * j + 3];
        out[k] = sum / (double)(k + 1 - first);
        if (reached < 0 && out[k] <= goal) reached = trace[4 * k + 1];
    }
    return reached;
}
