/* lab_random_search.c: lab 1, "Random search is costly -> gradient descent".
 *
 * (a) On f(x) = 1/2 ||x||^2 in d = 1, 2, 4, ... dimensions (quadratic:kappa=1, start at distance 1):
 *     the function evaluations random search (`random:sigma=S`, best S of a grid per d, median over
 *     seeds, capped) needs to reach f < EPS, against the gradient steps gradient descent needs.
 * (b) On the MLP (a subset of the data): the change in the subset loss along 100 random directions
 *     of the same length as one gradient step, against that step's own change, at initialization
 *     and after a little SGD training.
 * Not here: adaptive-step random search (1/5th rule, evolution strategies); the lab shows the
 * lecture's plain accept-if-better search. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/functions.h"
#include "optlab/lab.h"
#include "optlab/nn.h"
#include "optlab/optim.h"
#include "optlab/rng.h"
#include "optlab/train.h"

#define EPS 1e-3           /* target: f(x) < EPS; f(x0) = 0.5 (distance 1 from the minimum) */
#define MAX_DIMS 8
#define MAX_SEEDS 9
#define N_DIRECTIONS 100   /* random directions on the MLP */
#define HIDDEN 64
#define BUDGET(quick) ((quick) ? 20000L : 100000L)   /* evaluations per random-search run */
#define SEEDS(quick) ((quick) ? 5 : 9)

static const double sigma_grid[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0};
#define N_SIGMAS (int)(sizeof sigma_grid / sizeof sigma_grid[0])

/* ---- (a) random search against gradient descent on quadratics ---- */

static void start_point(double *x, int d) {
    for (int i = 0; i < d; i++) x[i] = 1.0 / sqrt((double)d);   /* ||x0|| = 1, f(x0) = 1/2 */
}

/* Evaluations random search with this sigma and seed needs to reach f < EPS (capped at budget;
 * *reached = 0 then). */
static int random_search_run(ol_objective *fn, double sigma, uint64_t seed, long budget, long *evaluations,
                             int *reached) {
    ol_optim_params p = ol_optim_default_params(OL_OPTIM_RANDOM);
    p.sigma = sigma;
    p.samples = 1;
    ol_optim *o;
    int rc = ol_optim_create_params(&o, &p);
    if (rc) return rc;
    start_point(fn->x, fn->d);
    ol_fn_minimize_result res = {0};
    if (!(rc = ol_optim_add_group_f64(o, fn->x, NULL, (size_t)fn->d, -1, -1))) {
        ol_optim_seed(o, seed);
        ol_fn_minimize_opts mo = ol_fn_minimize_defaults();
        mo.max_steps = LONG_MAX;
        mo.max_evaluations = budget;
        mo.target = nextafter(EPS, -INFINITY);   /* f < EPS */
        rc = ol_fn_minimize(fn, o, &mo, &res);
    }
    *evaluations = ol_optim_evaluations(o);
    *reached = res.outcome == OL_MIN_TARGET;
    ol_optim_free(o);
    return rc;
}

/* Gradient steps plain gradient descent with lr needs to reach f < EPS (-1 if not within max_steps). */
static int gd_run(ol_objective *fn, double lr, long max_steps, long *steps) {
    ol_optim *o;
    int rc = ol_optim_create(&o, "gd", lr);
    if (rc) return rc;
    start_point(fn->x, fn->d);
    *steps = -1;
    if (!(rc = ol_optim_add_group_f64(o, fn->x, fn->grad, (size_t)fn->d, -1, -1))) {
        ol_fn_minimize_opts mo = ol_fn_minimize_defaults();
        mo.max_steps = max_steps;
        mo.target = nextafter(EPS, -INFINITY);   /* f < EPS */
        mo.diverge_above = 1e12;
        ol_fn_minimize_result res;
        if (!(rc = ol_fn_minimize(fn, o, &mo, &res)) && res.outcome == OL_MIN_TARGET) *steps = res.steps;
    }
    ol_optim_free(o);
    return rc;
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

typedef struct {
    int d;
    double sigma;                    /* the chosen (best) sigma */
    long median, min, max;           /* evaluations over seeds at that sigma */
    int capped;                      /* seeds that hit their budget at that sigma */
    long budget;                     /* that sigma's evaluation budget per run */
    double gd_lr;                    /* best lr on the grid */
    long gd_steps, gd_steps_lr01;    /* gradient steps at the best lr and at lr 0.1 */
} dim_result;

static uint64_t run_seed(uint64_t base, int d, int s) {
    uint64_t z = base + 0x9E3779B97F4A7C15ull * (uint64_t)(1000 * d + s + 1);   /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int dimension_experiment(ol_lab_ctx *ctx, dim_result *res, int *n_dims_out, int *n_seeds_out,
                                 long *budget_out) {
    static const int dims_full[] = {1, 2, 4, 8, 16, 32, 64}, dims_quick[] = {1, 2, 4, 8, 16};
    const int *dims = ctx->quick ? dims_quick : dims_full;
    int n_dims = ctx->quick ? 5 : 7, n_seeds = SEEDS(ctx->quick);
    long budget = BUDGET(ctx->quick);
    *n_dims_out = n_dims;
    *n_seeds_out = n_seeds;
    *budget_out = budget;
    char path[4096];
    ol_csv *runs = NULL;
    int prev_best = N_SIGMAS - 1;
    int rc = ol_csv_open(&runs, ol_lab_path(ctx, "random_search_runs.csv", path, sizeof path),
                         "d,sigma,seed,evaluations,reached,budget");
    if (rc) return rc;
    for (int di = 0; di < n_dims && !rc; di++) {
        int d = dims[di];
        ol_objective fn;
        if ((rc = ol_fn_create(&fn, "quadratic:kappa=1", d))) break;
        dim_result *r = &res[di];
        memset(r, 0, sizeof *r);
        int best_index = prev_best;
        r->d = d;
        r->median = -1;
        /* Each sigma of the grid over all seeds, the previous d's best sigma first. Once a best median
         * is known, runs stop at twice it: a sigma with more than half its runs stopped so cannot win
         * (its median exceeds the best; its remaining seeds are skipped), and the median of any sigma
         * whose middle run finished is exact. So the choice is the same as with the full grid. */
        int order[N_SIGMAS], n_order = 0;
        for (int dist = 0; dist < N_SIGMAS; dist++)   /* nearest to the previous d's best first: prunes most */
            for (int sign = -1; sign <= 1; sign += 2) {
                int si = prev_best - sign * dist;
                if (si >= 0 && si < N_SIGMAS && (dist > 0 || sign < 0)) order[n_order++] = si;
            }
        for (int oi = 0; oi < n_order && !rc; oi++) {
            int si = order[oi];
            long ev[MAX_SEEDS];
            int reached[MAX_SEEDS], capped = 0;
            long run_budget = budget;
            if (r->median > 0 && 2 * r->median < run_budget) run_budget = 2 * r->median;
            for (int s = 0; s < n_seeds && !rc; s++) {
                if (run_budget < budget && capped > n_seeds / 2) break;   /* cannot win: skip the rest */
                rc = random_search_run(&fn, sigma_grid[si], run_seed(ctx->seed, d, s), run_budget, &ev[s], &reached[s]);
                capped += !reached[s];
                if (!rc) {
                    double row[6] = {d, sigma_grid[si], s, (double)ev[s], reached[s], (double)run_budget};
                    rc = ol_csv_row(runs, row, 6);
                }
            }
            if (rc) break;
            if (capped > n_seeds / 2 && run_budget < budget) continue;   /* pruned: not a candidate */
            long sorted[MAX_SEEDS];
            memcpy(sorted, ev, sizeof(long) * n_seeds);
            qsort(sorted, (size_t)n_seeds, sizeof(long), cmp_long);
            long median = sorted[n_seeds / 2];
            if (r->median < 0 || median < r->median) {
                r->median = median;
                r->min = sorted[0];
                r->max = sorted[n_seeds - 1];
                r->sigma = sigma_grid[si];
                r->capped = capped;
                r->budget = run_budget;
                best_index = si;
            }
        }
        /* the chosen sigma's runs stopped at a pruning budget (its slowest seeds): rerun those at the
         * full budget, so the spread drawn is the true one (rows with budget = the full budget) */
        if (!rc && r->capped > 0 && r->budget < budget) {
            long ev[MAX_SEEDS];
            int capped = 0;
            for (int s = 0; s < n_seeds && !rc; s++) {
                int reached;
                rc = random_search_run(&fn, r->sigma, run_seed(ctx->seed, d, s), budget, &ev[s], &reached);
                capped += !reached;
                if (!rc) {
                    double row[6] = {d, r->sigma, s, (double)ev[s], reached, (double)budget};
                    rc = ol_csv_row(runs, row, 6);
                }
            }
            if (!rc) {
                qsort(ev, (size_t)n_seeds, sizeof(long), cmp_long);
                r->median = ev[n_seeds / 2];
                r->min = ev[0];
                r->max = ev[n_seeds - 1];
                r->capped = capped;
                r->budget = budget;
            }
        }
        /* gradient descent: best lr of a log grid (4 per decade, 0.01 .. 1.78), and lr 0.1 */
        for (int k = 0; k <= 9 && !rc; k++) {
            double lr = pow(10.0, -2.0 + 0.25 * k);
            long steps;
            if ((rc = gd_run(&fn, lr, 100000, &steps))) break;
            if (steps >= 0 && (r->gd_steps <= 0 || steps < r->gd_steps)) {
                r->gd_steps = steps;
                r->gd_lr = lr;
            }
        }
        if (!rc) rc = gd_run(&fn, 0.1, 100000, &r->gd_steps_lr01);
        ol_fn_free(&fn);
        prev_best = best_index;
        if (!rc)
            ol_lab_log(ctx, "d=%d: random search %ld evaluations (sigma %g, %d/%d capped), GD %ld steps (lr %g)", d,
                       r->median, r->sigma, r->capped, n_seeds, r->gd_steps, r->gd_lr);
    }
    if (rc) {
        ol_csv_abort(runs);
        return rc;
    }
    return ol_csv_close(runs);
}

/* ---- (b) random directions against the gradient step on the MLP ---- */

typedef struct {
    ol_mlp *m;
    ol_mlp_graph *graph;   /* holds the fixed subset as one batch */
} mlp_loss;

static int subset_loss(mlp_loss *l, double *loss) {
    int rc = ol_ad_forward(l->graph->g);
    if (rc) return rc;
    *loss = ol_ad_scalar(l->graph->g, l->graph->loss);
    return isfinite(*loss) ? OL_OK : ol_fail(OL_ENUMERIC, "the MLP's loss is %g", *loss);
}

typedef struct {
    double loss;                     /* subset loss at the point */
    double step_length;              /* lr ||g||: the gradient step's length in parameter space */
    double gd_change;                /* loss change of the gradient step */
    double changes[N_DIRECTIONS];    /* loss change along each random direction of that length */
    int n_lower;                     /* random directions that lowered the loss */
    double best_random;              /* most negative random change */
} direction_result;

/* Loss changes along the gradient step and N_DIRECTIONS random directions of the same length from
 * the model's current parameters (restored afterwards); writes csv_name. */
static int direction_experiment(ol_lab_ctx *ctx, mlp_loss *l, double lr, uint64_t seed, const char *csv_name,
                                direction_result *out) {
    ol_mlp *m = l->m;
    size_t n = m->n_params;
    float *w0 = ol_malloc_array(n, sizeof(float));
    double *u = ol_malloc_array(n, sizeof(double));
    int rc = w0 && u ? OL_OK : OL_ENOMEM;
    ol_csv *csv = NULL;
    char path[4096];
    if (!rc) rc = ol_csv_open(&csv, ol_lab_path(ctx, csv_name, path, sizeof path),
                              "direction,is_gradient,step_length,loss_before,loss_change");
    if (rc) goto out;
    memcpy(w0, m->params, n * sizeof(float));
    if ((rc = subset_loss(l, &out->loss)) || (rc = ol_ad_backward_set(l->graph->g, l->graph->loss, 1.0))) goto out;
    double g2 = 0;
    for (size_t i = 0; i < n; i++) g2 += (double)m->grads[i] * m->grads[i];
    out->step_length = lr * sqrt(g2);
    double after;
    for (size_t i = 0; i < n; i++) m->params[i] = (float)(w0[i] - lr * (double)m->grads[i]);
    if ((rc = subset_loss(l, &after))) goto out;
    out->gd_change = after - out->loss;
    double row[5] = {0, 1, out->step_length, out->loss, out->gd_change};
    if ((rc = ol_csv_row(csv, row, 5))) goto out;
    ol_rng rng;
    ol_rng_seed(&rng, seed);
    out->n_lower = 0;
    out->best_random = INFINITY;
    for (int k = 0; k < N_DIRECTIONS; k++) {
        double norm2 = 0;
        for (size_t i = 0; i < n; i++) {
            u[i] = ol_rng_normal(&rng);
            norm2 += u[i] * u[i];
        }
        double scale = out->step_length / sqrt(norm2);   /* a uniform direction on the sphere */
        for (size_t i = 0; i < n; i++) m->params[i] = (float)(w0[i] + scale * u[i]);
        if ((rc = subset_loss(l, &after))) goto out;
        double change = after - out->loss;
        out->changes[k] = change;
        out->n_lower += change < 0;
        if (change < out->best_random) out->best_random = change;
        double r[5] = {k + 1, 0, out->step_length, out->loss, change};
        if ((rc = ol_csv_row(csv, r, 5))) goto out;
    }
    rc = ol_csv_close(csv);
    csv = NULL;
out:
    ol_csv_abort(csv);
    if (w0) memcpy(m->params, w0, n * sizeof(float));
    free(w0);
    free(u);
    return rc;
}

static int direction_figure(ol_lab_ctx *ctx, const direction_result *r, const char *when, const char *svg,
                            const char *csv, int n_subset, size_t n_params) {
    char title[256], text[128], caption[1024];
    snprintf(title, sizeof title, "Loss change of one step on the MLP, %s", when);
    ol_plot *p = ol_plot_new(title, "change in the subset's loss after the step (nats; < 0: better)",
                             "random directions (count)");
    if (!p) return OL_ENOMEM;
    ol_plot_hist_bins(p, 40);
    ol_plot_histogram(p, "100 random directions", r->changes, N_DIRECTIONS);
    snprintf(text, sizeof text, "gradient step: %.3g", r->gd_change);
    ol_plot_vline(p, r->gd_change, text);
    ol_plot_vline(p, 0, "no change");
    char outcome[256];
    if (r->best_random < 0 && r->gd_change < 0)
        snprintf(outcome, sizeof outcome, "%d of %d random directions lowered the loss, the best by %.2g; the gradient "
                 "step lowered it by %.3g, %.0fx more", r->n_lower, N_DIRECTIONS, -r->best_random, -r->gd_change,
                 r->gd_change / r->best_random);
    else if (r->gd_change < 0)
        snprintf(outcome, sizeof outcome, "None of the %d random directions lowered the loss; the gradient step "
                 "lowered it by %.3g", N_DIRECTIONS, -r->gd_change);
    else
        snprintf(outcome, sizeof outcome, "%d of %d random directions lowered the loss, the best by %.2g; the "
                 "gradient step did not (change %+.3g: the lr is too large here)", r->n_lower, N_DIRECTIONS,
                 r->best_random < 0 ? -r->best_random : 0.0, r->gd_change);
    snprintf(caption, sizeof caption,
             "Each step has the same length in parameter space (lr x gradient norm = %.3g) from the same point "
             "(%s; loss %.3f on %d training examples). %s. The random changes crowd around 0: in %zu "
             "dimensions a random direction is almost orthogonal to the gradient.",
             r->step_length, when, r->loss, n_subset, outcome, n_params);
    int rc = ol_lab_figure(ctx, p, svg, csv, caption);
    ol_plot_free(p);
    return rc;
}

static double mean_of(const double *v, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += v[i];
    return sum / n;
}

/* ---- the lab ---- */

int ol_lab_random_search(ol_lab_ctx *ctx) {
    dim_result res[MAX_DIMS];
    int n_dims, n_seeds;
    long budget;
    ol_report_paragraph(ctx->report, "%s",
        "Random search is the simplest optimizer: try a random point near the current one and keep it if "
        "the objective is lower. It needs only function values, no derivatives. But in d dimensions a "
        "random step is almost always nearly orthogonal to the way downhill, so the chance of improving "
        "shrinks as d grows. Gradient descent instead computes the downhill direction (by automatic "
        "differentiation, at the cost of about one extra pass) and steps along it: its number of "
        "iterations does not depend on the dimension.");
    ol_report_paragraph(ctx->report,
        "Experiment (a): f(x) = 1/2 ||x||^2 in d dimensions, start at distance 1 (f = 0.5), stop when "
        "f < %g. Random search tries x + sigma N(0, I) and accepts it only if f drops; for each d the "
        "sigma with the fewest evaluations (median over %d seeds) is picked from the grid 0.001 ... 1, so "
        "every d gets its best step size. Gradient descent uses its best learning rate from a log grid, "
        "and also lr = 0.1. Runs stop at %ld evaluations; capped runs would be shown at that cap.", EPS,
        SEEDS(ctx->quick), BUDGET(ctx->quick));
    int rc = dimension_experiment(ctx, res, &n_dims, &n_seeds, &budget);
    if (rc) return rc;

    /* figure 1: cost against dimension */
    double xd[MAX_DIMS], med[MAX_DIMS], lo[MAX_DIMS], hi[MAX_DIMS], gd[MAX_DIMS], gd01[MAX_DIMS];
    int any_capped = 0, gd_same = 1;
    char path[4096];
    ol_csv *csv = NULL;
    if ((rc = ol_csv_open(&csv, ol_lab_path(ctx, "random_search_vs_gd.csv", path, sizeof path),
                          "d,rs_sigma,rs_evals_median,rs_evals_min,rs_evals_max,rs_seeds,rs_capped,rs_budget,"
                          "gd_lr,gd_iters,gd_iters_lr01")))
        return rc;
    for (int i = 0; i < n_dims; i++) {
        dim_result *r = &res[i];
        xd[i] = r->d;
        med[i] = (double)r->median;
        lo[i] = (double)r->min;
        hi[i] = (double)r->max;
        gd[i] = (double)r->gd_steps;
        gd01[i] = (double)r->gd_steps_lr01;
        any_capped |= r->capped > 0;
        gd_same &= r->gd_steps == res[0].gd_steps;
        double row[11] = {r->d,      r->sigma, med[i], lo[i], hi[i], n_seeds, r->capped, (double)budget,
                          r->gd_lr, gd[i],    gd01[i]};
        if ((rc = ol_csv_row(csv, row, 11))) {
            ol_csv_abort(csv);
            return rc;
        }
        char key[64];
        snprintf(key, sizeof key, "rs_evals_d%d", r->d);
        ol_lab_record(ctx, key, med[i]);
        snprintf(key, sizeof key, "rs_sigma_d%d", r->d);
        ol_lab_record(ctx, key, r->sigma);
        snprintf(key, sizeof key, "gd_iters_d%d", r->d);
        ol_lab_record(ctx, key, gd[i]);
    }
    if ((rc = ol_csv_close(csv))) return rc;

    /* growth exponent: least-squares slope of log(median evaluations) against log d */
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n_dims; i++) {
        double a = log(xd[i]), b = log(med[i]);
        sx += a; sy += b; sxx += a * a; sxy += a * b;
    }
    double slope = (n_dims * sxy - sx * sy) / (n_dims * sxx - sx * sx);
    ol_lab_record(ctx, "rs_loglog_slope", slope);

    ol_plot *p = ol_plot_new("Cost to reach f < 0.001 on 1/2 ||x||^2 against dimension", "dimension d (coordinates)",
                             "cost (function evaluations or gradient steps)");
    if (!p) return OL_ENOMEM;
    ol_plot_log_x(p, 1);
    ol_plot_log_y(p, 1);
    ol_plot_y_range(p, 0.5, NAN);
    char label[128];
    snprintf(label, sizeof label, "random search: evaluations (median, min-max of %d seeds)", n_seeds);
    ol_plot_errorbars(p, label, xd, med, lo, hi, (size_t)n_dims);
    int s = ol_plot_line(p, "gradient descent, best lr: gradient steps", xd, gd, (size_t)n_dims);
    ol_plot_markers(p, s, 1);
    s = ol_plot_line(p, "gradient descent, lr = 0.1: gradient steps", xd, gd01, (size_t)n_dims);
    ol_plot_markers(p, s, 1);
    ol_plot_dashed(p, s, 1);
    if (any_capped) ol_plot_hline(p, (double)budget, "evaluation budget (capped runs stop here)");
    char caption[1024];
    const dim_result *first = &res[0], *last = &res[n_dims - 1];
    snprintf(caption, sizeof caption,
             "Random search's evaluations grow with the dimension: %ld at d = %d, %ld at d = %d (x%.0f; on "
             "log-log axes a slope of %.2f, i.e. cost ~ d^%.1f with the best fixed sigma per d). Gradient "
             "descent's steps do not grow: %ld at the best lr (%g) and %ld at lr 0.1 %s. %s",
             first->median, first->d, last->median, last->d, (double)last->median / (double)first->median, slope,
             slope, first->gd_steps, first->gd_lr, first->gd_steps_lr01, gd_same ? "at every d" : "(varying with d)",
             any_capped ? "Some random-search runs hit the evaluation budget; they are drawn at the budget line."
                        : "No run of the chosen sigmas hit the evaluation budget.");
    rc = ol_lab_figure(ctx, p, "random_search_vs_gd.svg", "random_search_vs_gd.csv", caption);
    ol_plot_free(p);
    if (!rc)
        rc = ol_report_panel(ctx->report, "dimension",
                             "Random search is a derivative-free algorithm: it only uses function evaluations, and "
                             "the probability of finding an improved point randomly decreases with dimension. Move d "
                             "and sigma, and compare the evaluations it needs with gradient descent's steps: "
                             "derivative-free vs. dimension-free, choose one!");
    if (rc) return rc;
    ol_report_paragraph(ctx->report,
        "All random-search runs of the sigma grid (each d, sigma and seed) are in random_search_runs.csv. "
        "Why the growth: from distance R, a step of length sigma sqrt(d) helps only if it points into a "
        "cone around the way downhill, and in d dimensions almost all directions are nearly at right angles "
        "to it. "
        "To keep improving near the target the step must shrink like 1/d, so crossing the same distance takes "
        "about d times more tries. (The lecture's (1/eps)^d counts a grid search; accept-if-better random search "
        "with a well-chosen step grows more slowly, but it still grows with d, while gradient descent does not.)");

    /* (b) the MLP */
    ol_dataset *train, *test;
    if ((rc = ol_lab_data(ctx, &train, &test))) return rc;
    int n_in = (int)ol_dataset_dim(train), n_classes = train->n_classes;
    int n_subset = ctx->quick ? 500 : 2000;
    long n_train = ctx->quick ? 2000 : 10000;
    if ((uint32_t)n_subset > train->n) n_subset = (int)train->n;
    if ((uint64_t)n_train > train->n) n_train = train->n;
    const double lr = 0.1;
    char spec[128];
    snprintf(spec, sizeof spec, "mlp:%d-%d-%d", n_in, HIDDEN, n_classes);
    ol_mlp m;
    ol_mlp_graph graph;
    memset(&graph, 0, sizeof graph);
    if ((rc = ol_mlp_create(&m, spec, 0))) return rc;
    ol_report_paragraph(ctx->report,
        "Experiment (b): the same question on a neural network, %s (%d inputs = %ux%u pixels, %d classes, "
        "%zu parameters). From one point "
        "in parameter space we compute the loss on the first %d training examples, take one gradient step "
        "with lr = %g, and compare it with 100 steps of exactly the same length in random directions. We do "
        "this at initialization and again after 2 epochs of SGD (batch 64, lr %g) on the first %ld examples.",
        spec, n_in, train->rows, train->cols, n_classes, m.n_params, n_subset, lr, lr,
        n_train);
    ol_mlp_init(&m, ctx->seed);
    double mean, std;
    if ((rc = ol_data_stats(train, &mean, &std))) goto out;
    m.input_mean = (float)mean;
    m.input_inv_std = (float)(std > 0 ? 1.0 / std : 1.0);
    if ((rc = ol_mlp_graph_build(&m, &graph, n_subset, 1))) goto out;
    {
        uint32_t *idx = ol_malloc_array((size_t)n_subset, sizeof(uint32_t));
        if (!idx) { rc = OL_ENOMEM; goto out; }
        for (int i = 0; i < n_subset; i++) idx[i] = (uint32_t)i;
        ol_ad_set_batch(graph.g, n_subset);
        ol_data_batch(train, idx, (uint32_t)n_subset, ol_ad_value(graph.g, graph.x),
                      ol_ad_labels(graph.g, graph.loss), m.input_mean, m.input_inv_std);
        free(idx);
    }
    mlp_loss l = {&m, &graph};
    direction_result at_init, trained;
    if ((rc = direction_experiment(ctx, &l, lr, ctx->seed ^ 0xd1ec7ull, "random_directions_init.csv", &at_init)))
        goto out;
    ol_train_config c = ol_train_default_config();
    c.model = &m;
    c.opt = "sgd";
    c.lr = lr;
    c.batch = 64;
    c.epochs = 2;
    c.train_subset = n_train;
    c.seed = ctx->seed;
    c.threads = ctx->threads;
    c.skip_test = 1;
    c.quiet = 1;
    ol_train_result tr;
    if ((rc = ol_train_fit(&c, train, NULL, &tr))) goto out;
    ol_lab_log(ctx, "MLP trained %ld steps, train loss %.3f", tr.steps, tr.train_loss);
    if ((rc = direction_experiment(ctx, &l, lr, ctx->seed ^ 0xd1ec8ull, "random_directions_trained.csv", &trained)))
        goto out;
    if ((rc = direction_figure(ctx, &at_init, "at initialization", "random_directions_init.svg",
                               "random_directions_init.csv", n_subset, m.n_params)))
        goto out;
    char when[128];
    snprintf(when, sizeof when, "after %ld SGD steps", tr.steps);
    if ((rc = direction_figure(ctx, &trained, when, "random_directions_trained.svg", "random_directions_trained.csv",
                               n_subset, m.n_params)))
        goto out;

    /* zoom: the random directions only, in units of the gradient step's decrease */
    {
        ol_csv *zc = NULL;
        double rel[2][N_DIRECTIONS];
        if ((rc = ol_csv_open(&zc, ol_lab_path(ctx, "random_directions_relative.csv", path, sizeof path),
                              "trained,direction,relative_change")))
            goto out;
        const direction_result *both[2] = {&at_init, &trained};
        for (int k = 0; k < 2 && !rc; k++)
            for (int j = 0; j < N_DIRECTIONS && !rc; j++) {
                rel[k][j] = both[k]->changes[j] / fabs(both[k]->gd_change);
                double row[3] = {k, j + 1, rel[k][j]};
                rc = ol_csv_row(zc, row, 3);
            }
        if (rc) {
            ol_csv_abort(zc);
            goto out;
        }
        if ((rc = ol_csv_close(zc))) goto out;   /* frees zc either way */
        ol_plot *zp = ol_plot_new("Random directions, zoomed: loss change relative to the gradient step",
                                  "loss change / |loss change of the gradient step| (gradient step = -1)",
                                  "random directions (count)");
        if (!zp) { rc = OL_ENOMEM; goto out; }
        ol_plot_hist_bins(zp, 30);
        ol_plot_histogram(zp, "at initialization", rel[0], N_DIRECTIONS);
        ol_plot_histogram(zp, when, rel[1], N_DIRECTIONS);
        ol_plot_vline(zp, 0, "no change");
        double expect = 1 / sqrt((double)m.n_params);
        snprintf(caption, sizeof caption,
                 "The random directions of the two figures above on one scale: each change divided by how much the "
                 "gradient step of the same length lowered the loss. A random unit direction's component along the "
                 "gradient is about 1/sqrt(n) = %.4f of the gradient's own length for n = %zu parameters, so to "
                 "first order a random step achieves about +-%.4f of the gradient step; the best of 100 reached "
                 "%.4f (initialization) and %.4f (after training); the mean change was %+.4f and %+.4f.",
                 expect, m.n_params, expect, at_init.best_random / fabs(at_init.gd_change),
                 trained.best_random / fabs(trained.gd_change), mean_of(rel[0], N_DIRECTIONS),
                 mean_of(rel[1], N_DIRECTIONS));
        rc = ol_lab_figure(ctx, zp, "random_directions_relative.svg", "random_directions_relative.csv", caption);
        ol_plot_free(zp);
        if (rc) goto out;
    }
    if ((rc = ol_lab_page_data(ctx))) goto out;
    if ((rc = ol_report_panel(ctx->report, "templates",
                              "A model the eye can read: train a linear softmax model with gradient steps and watch "
                              "its class templates (the weights of each class, drawn as images) take the shapes of "
                              "the classes; change the learning rate, the batch or the epochs and train again."))) goto out;

    const direction_result *rr[2] = {&at_init, &trained};
    const char *names[2] = {"init", "trained"};
    for (int k = 0; k < 2; k++) {
        char key[64];
        snprintf(key, sizeof key, "mlp_%s_pct_lower", names[k]);
        ol_lab_record(ctx, key, (double)rr[k]->n_lower);   /* 100 directions: count = percent */
        snprintf(key, sizeof key, "mlp_%s_best_random_drop", names[k]);
        ol_lab_record(ctx, key, rr[k]->best_random < 0 ? -rr[k]->best_random : 0.0);
        snprintf(key, sizeof key, "mlp_%s_gd_drop", names[k]);
        ol_lab_record(ctx, key, -rr[k]->gd_change);
    }
    ol_lab_record(ctx, "rs_evals_first_d", (double)first->median);
    ol_lab_record(ctx, "rs_evals_last_d", (double)last->median);
    ol_lab_record(ctx, "gd_iters", (double)first->gd_steps);
    const dim_result *mid = first;
    for (int i = 0; i < n_dims; i++)
        if (res[i].d == 8) mid = &res[i];
    ol_lab_record(ctx, "rs_evals_ratio", (double)last->median / (double)first->median);
    rc = ol_lab_takeaway(ctx,
        "Random search needed {rs_evals_d%d:.0f} evaluations at d=%d, {rs_evals_d%d:.0f} at d=%d and {rs_evals_d%d:.0f} "
        "at d=%d (x{rs_evals_ratio:.0f}), gradient descent {gd_iters:.0f} iteration%s %s; "
        "on the MLP after training, {mlp_trained_pct_lower:.0f}%% of 100 random directions lowered the loss, by at "
        "most {mlp_trained_best_random_drop:.2g}, while one gradient step of the same length lowered it by "
        "{mlp_trained_gd_drop:.3g} (at initialization: {mlp_init_pct_lower:.0f}%%, at most "
        "{mlp_init_best_random_drop:.2g}, against {mlp_init_gd_drop:.3g}).",
        first->d, first->d, mid->d, mid->d, last->d, last->d, first->gd_steps == 1 ? "" : "s",
        gd_same ? "at every d" : "(not constant in d)");
out:
    ol_mlp_graph_free(&graph);
    ol_mlp_free(&m);
    return rc;
}
