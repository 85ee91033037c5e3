/* lab_conditioning.c: lab 2, "Poor conditioning -> momentum".
 *
 * (a) On quadratic:kappa=K in D dimensions (curvatures l_i from 1 to K, log-spaced) from x0_i = 1/sqrt(l_i):
 *     the iterations gradient descent and heavy-ball momentum need to reach f(x) <= 1e-6 f(x0),
 *     each at its best learning rate (and beta) on a grid, against the theory: GD at lr = 2/(L+mu)
 *     contracts by (K-1)/(K+1) per step, heavy ball at Polyak's lr = 4/(sqrt L + sqrt mu)^2,
 *     beta = ((sqrt K - 1)/(sqrt K + 1))^2 by (sqrt K - 1)/(sqrt K + 1).
 * (b) On a 2-D quadratic with kappa = 50: GD at lr = 2/(L+mu) and heavy ball at the same lr (best
 *     beta for it) over the contour plot, and each coordinate's distance to the optimum.
 * Not here: Nesterov's method, stochastic gradients, non-quadratic objectives. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/functions.h"
#include "optlab/lab.h"
#include "optlab/optim.h"

#define TARGET 1e-6        /* stop at f(x) <= TARGET * f(x0) */
#define DIM 10             /* dimension of the quadratics in (a) */
#define MAX_KAPPAS 6
#define DIVERGED 1e8       /* f > DIVERGED * f(x0): the run diverged */
#define PATH_KAPPA 50.0
#define PATH_STEPS 60      /* iterations drawn on the contour plot */
#define COORD_STEPS 150    /* iterations in the per-coordinate figure */

static const double beta_grid[] = {0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99};
#define N_BETAS (int)(sizeof beta_grid / sizeof beta_grid[0])

enum { METHOD_GD = 0, METHOD_MOMENTUM = 1 };
enum { OUT_DIVERGED = -1, OUT_BUDGET = 0, OUT_REACHED = 1 };

/* An optimizer over fn's point: gd (beta < 0) or heavy ball with beta. */
static int make_optimizer(ol_objective *fn, double lr, double beta, ol_optim **o) {
    ol_optim_params p = ol_optim_default_params(beta < 0 ? OL_OPTIM_GD : OL_OPTIM_HEAVYBALL);
    p.lr = lr;
    if (beta >= 0) p.beta = beta;
    int rc = ol_optim_create_params(o, &p);
    if (rc) return rc;
    if ((rc = ol_optim_add_group_f64(*o, fn->x, fn->grad, (size_t)fn->d, -1, -1))) ol_optim_free(*o);
    return rc;
}

/* The start: x0_i = 1/sqrt(l_i), so that every coordinate holds the same share 1/2 of f(x0) = d/2
 * (the curvatures l_i are read off the gradient at (1, ..., 1)). */
static void start_point(ol_objective *fn) {
    for (int i = 0; i < fn->d; i++) fn->x[i] = 1;
    ol_fn_eval(fn, 1);
    for (int i = 0; i < fn->d; i++) fn->x[i] = 1 / sqrt(fn->grad[i]);
}

/* Iterations from x0 (NULL: start_point) until f <= TARGET f(x0), at most budget; *outcome OUT_*. */
static int run_from(ol_objective *fn, const double *x0, double lr, double beta, long budget, long *iterations,
                    int *outcome) {
    ol_optim *o;
    if (x0) memcpy(fn->x, x0, (size_t)fn->d * sizeof(double));
    else start_point(fn);
    int rc = make_optimizer(fn, lr, beta, &o);
    if (rc) return rc;
    double f0 = ol_fn_eval(fn, 1);
    ol_fn_minimize_opts mo = ol_fn_minimize_defaults();
    mo.max_steps = budget;
    mo.target = TARGET * f0;
    mo.diverge_above = DIVERGED * f0;
    mo.tolerate_nonfinite_grad = 1;   /* a non-finite gradient is a divergence, seen in f */
    ol_fn_minimize_result res;
    rc = ol_fn_minimize(fn, o, &mo, &res);
    *iterations = res.steps;
    *outcome = res.outcome == OL_MIN_TARGET ? OUT_REACHED : res.outcome == OL_MIN_DIVERGED ? OUT_DIVERGED : OUT_BUDGET;
    ol_optim_free(o);
    return rc;
}
static int run_to_target(ol_objective *fn, double lr, double beta, long budget, long *iterations, int *outcome) {
    return run_from(fn, NULL, lr, beta, budget, iterations, outcome);
}

/* Theory: iterations for the squared error to shrink by TARGET at contraction q per step. */
static double theory_iterations(double q) {
    if (q <= 0) return 1;
    double k = log(1 / TARGET) / (2 * log(1 / q));
    return k < 1 ? 1 : k;
}
static double gd_rate(double kappa) { return (kappa - 1) / (kappa + 1); }
static double momentum_rate(double kappa) { return (sqrt(kappa) - 1) / (sqrt(kappa) + 1); }

typedef struct {
    double kappa;
    double lr[2], beta[2];     /* best on the grid, per method */
    long iters[2];
    long theory_measured[2];   /* measured at the theory's parameters */
    double theory_lr[2], theory_beta[2];
    double theory[2];          /* the rate bound's iterations */
} kappa_result;

static int kappa_experiment(ol_lab_ctx *ctx, const double *kappas, int n_kappas, kappa_result *res,
                            int per_decade) {
    char path[4096];
    ol_csv *grid = NULL;
    int rc = ol_csv_open(&grid, ol_lab_path(ctx, "conditioning_grid.csv", path, sizeof path),
                         "kappa,method,lr,beta,iterations,outcome,budget");
    if (rc) return rc;
    const long budget = 1000000;
    /* lr grid: per_decade points per decade from 1e-5 up to 1.78, largest first (divergent runs
     * stop at once; the first converging one gives the budget that prunes the rest) */
    int n_lrs = 5 * per_decade + per_decade / 4 + 1;
    for (int ki = 0; ki < n_kappas && !rc; ki++) {
        double kappa = kappas[ki];
        kappa_result *r = &res[ki];
        memset(r, 0, sizeof *r);
        r->kappa = kappa;
        ol_objective fn;
        char spec[64];
        snprintf(spec, sizeof spec, "quadratic:kappa=%.17g", kappa);
        if ((rc = ol_fn_create(&fn, spec, DIM))) break;
        /* betas nearest to Polyak's first: the best count is found early and prunes the other runs
         * (a run stops once it cannot beat the best; the minimum found is the same in any order) */
        int beta_order[N_BETAS];
        double polyak = momentum_rate(kappa) * momentum_rate(kappa), dist[N_BETAS];
        for (int i = 0; i < N_BETAS; i++) {   /* insertion sort by distance, ties keep grid order */
            double di = fabs(beta_grid[i] - polyak);
            int j = i;
            for (; j > 0 && di < dist[j - 1]; j--) {
                dist[j] = dist[j - 1];
                beta_order[j] = beta_order[j - 1];
            }
            dist[j] = di;
            beta_order[j] = i;
        }
        for (int method = 0; method < 2 && !rc; method++) {
            long best = -1;
            int n_b = method == METHOD_GD ? 1 : N_BETAS;
            for (int bi = 0; bi < n_b && !rc; bi++) {
                double beta = method == METHOD_GD ? -1 : beta_grid[beta_order[bi]];
                for (int j = n_lrs - 1; j >= 0 && !rc; j--) {
                    double lr = pow(10.0, -5.0 + (double)j / per_decade);
                    long run_budget = best >= 0 ? best : budget, it;
                    int outcome;
                    if ((rc = run_to_target(&fn, lr, beta, run_budget, &it, &outcome))) break;
                    double row[7] = {kappa, method, lr, beta < 0 ? 0 : beta, outcome == OUT_REACHED ? (double)it : NAN,
                                     outcome, (double)run_budget};
                    if ((rc = ol_csv_row(grid, row, 7))) break;
                    if (outcome == OUT_REACHED && (best < 0 || it < best)) {
                        best = it;
                        r->lr[method] = lr;
                        r->beta[method] = beta < 0 ? 0 : beta;
                    }
                }
            }
            r->iters[method] = best;
        }
        /* the theory's parameters, measured */
        double L = kappa, mu = 1;
        r->theory_lr[METHOD_GD] = 2 / (L + mu);
        r->theory_beta[METHOD_GD] = 0;
        r->theory_lr[METHOD_MOMENTUM] = 4 / ((sqrt(L) + sqrt(mu)) * (sqrt(L) + sqrt(mu)));
        r->theory_beta[METHOD_MOMENTUM] = momentum_rate(kappa) * momentum_rate(kappa);
        r->theory[METHOD_GD] = theory_iterations(gd_rate(kappa));
        r->theory[METHOD_MOMENTUM] = theory_iterations(momentum_rate(kappa));
        for (int method = 0; method < 2 && !rc; method++) {
            int outcome;
            rc = run_to_target(&fn, r->theory_lr[method], method == METHOD_GD ? -1 : r->theory_beta[method], budget,
                               &r->theory_measured[method], &outcome);
            if (!rc && outcome != OUT_REACHED) r->theory_measured[method] = -1;
        }
        ol_fn_free(&fn);
        if (!rc)
            ol_lab_log(ctx, "kappa=%g: GD %ld iterations (lr %.3g), momentum %ld (lr %.3g, beta %g)", kappa,
                       r->iters[0], r->lr[0], r->iters[1], r->lr[1], r->beta[1]);
    }
    if (rc) {
        ol_csv_abort(grid);
        return rc;
    }
    return ol_csv_close(grid);
}

/* Least-squares slope of log y against log x over points with x >= x_min. */
static double loglog_slope(const double *x, const double *y, int n, double x_min) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (x[i] < x_min || !(y[i] > 0)) continue;
        double a = log(x[i]), b = log(y[i]);
        sx += a; sy += b; sxx += a * a; sxy += a * b;
        m++;
    }
    return m >= 2 ? (m * sxy - sx * sy) / (m * sxx - sx * sx) : NAN;
}

static int iterations_figure(ol_lab_ctx *ctx, const kappa_result *res, int n, double *gd_slope,
                             double *momentum_slope) {
    char path[4096];
    ol_csv *csv = NULL;
    int rc = ol_csv_open(&csv, ol_lab_path(ctx, "conditioning_iterations.csv", path, sizeof path),
                         "kappa,gd_lr,gd_iters,momentum_lr,momentum_beta,momentum_iters,gd_theory_lr,gd_theory_iters,"
                         "momentum_theory_lr,momentum_theory_beta,momentum_theory_iters,gd_bound,momentum_bound");
    if (rc) return rc;
    double kx[MAX_KAPPAS], gd[MAX_KAPPAS], mom[MAX_KAPPAS];
    for (int i = 0; i < n; i++) {
        const kappa_result *r = &res[i];
        kx[i] = r->kappa;
        gd[i] = r->iters[0] >= 0 ? (double)r->iters[0] : NAN;
        mom[i] = r->iters[1] >= 0 ? (double)r->iters[1] : NAN;
        double row[13] = {r->kappa, r->lr[0], gd[i], r->lr[1], r->beta[1], mom[i], r->theory_lr[0],
                          r->theory_measured[0] >= 0 ? (double)r->theory_measured[0] : NAN, r->theory_lr[1],
                          r->theory_beta[1], r->theory_measured[1] >= 0 ? (double)r->theory_measured[1] : NAN,
                          r->theory[0], r->theory[1]};
        if ((rc = ol_csv_row(csv, row, 13))) {
            ol_csv_abort(csv);
            return rc;
        }
    }
    if ((rc = ol_csv_close(csv))) return rc;
    *gd_slope = loglog_slope(kx, gd, n, 10);
    *momentum_slope = loglog_slope(kx, mom, n, 10);

    /* theory curves on a fine kappa grid */
    enum { N_FINE = 61 };
    double fk[N_FINE], fgd[N_FINE], fmom[N_FINE];
    double k_max = res[n - 1].kappa;
    for (int i = 0; i < N_FINE; i++) {
        fk[i] = pow(k_max, (double)i / (N_FINE - 1));
        fgd[i] = theory_iterations(gd_rate(fk[i]));
        fmom[i] = theory_iterations(momentum_rate(fk[i]));
    }
    ol_plot *p = ol_plot_new("Iterations to reduce f by 10^6 against the condition number",
                             "condition number kappa = L / mu", "iterations to f <= 1e-6 f(x0)");
    if (!p) return OL_ENOMEM;
    ol_plot_log_x(p, 1);
    ol_plot_log_y(p, 1);
    int s = ol_plot_line(p, "GD, best lr (measured)", kx, gd, (size_t)n);
    ol_plot_markers(p, s, 1);
    ol_plot_color(p, s, 0);
    s = ol_plot_line(p, "momentum, best lr, beta (measured)", kx, mom, (size_t)n);
    ol_plot_markers(p, s, 1);
    ol_plot_color(p, s, 1);
    s = ol_plot_line(p, "theory, GD: ~ kappa", fk, fgd, N_FINE);
    ol_plot_dashed(p, s, 1);
    ol_plot_color(p, s, 0);
    s = ol_plot_line(p, "theory, momentum: ~ sqrt(kappa)", fk, fmom, N_FINE);
    ol_plot_dashed(p, s, 1);
    ol_plot_color(p, s, 1);
    char caption[1024];
    const kappa_result *last = &res[n - 1];
    snprintf(caption, sizeof caption,
             "Quadratics in %d dimensions with curvatures from 1 to kappa, from x0_i = 1/sqrt(l_i); each method at its "
             "best lr (and beta) on a log grid. On these log-log axes gradient descent's iterations rise with slope "
             "%.2f (theory: 1, iterations ~ kappa) and momentum's with slope %.2f (theory: 0.5, ~ sqrt(kappa)), "
             "fitted over kappa >= 10. At kappa = %g: %ld against %ld iterations. Dashed: the iterations the "
             "convergence rates q predict, ln(1e6) / (2 ln(1/q)), for GD at lr = 2/(L+mu) (q = (k-1)/(k+1)) and "
             "for heavy ball at Polyak's lr = 4/(sqrt L + sqrt mu)^2, beta = ((sqrt k - 1)/(sqrt k + 1))^2 "
             "(q = (sqrt k - 1)/(sqrt k + 1)); measured at those parameters: %ld and %ld iterations.",
             DIM, *gd_slope, *momentum_slope, last->kappa, last->iters[0], last->iters[1], last->theory_measured[0],
             last->theory_measured[1]);
    rc = ol_lab_figure(ctx, p, "conditioning_iterations.svg", "conditioning_iterations.csv", caption);
    ol_plot_free(p);
    return rc;
}

/* ---- (b) the 2-D picture ---- */

/* ol_fn_minimize's on_point: the iterates into xs (n+1, 2) */
static int record_iterate(void *userdata, long step, double f, const double *x) {
    double *xs = userdata;
    (void)f;
    xs[2 * step] = x[0];
    xs[2 * step + 1] = x[1];
    return 0;
}

/* n+1 iterates (x0 and n steps) of an optimizer on fn from start into xs (n+1, 2). */
static int trajectory(ol_objective *fn, double lr, double beta, const double *start, int n, double *xs) {
    ol_optim *o;
    fn->x[0] = start[0];
    fn->x[1] = start[1];
    int rc = make_optimizer(fn, lr, beta, &o);
    if (rc) return rc;
    ol_fn_minimize_opts mo = ol_fn_minimize_defaults();
    mo.max_steps = n;
    mo.on_point = record_iterate;
    mo.userdata = xs;
    ol_fn_minimize_result res;
    rc = ol_fn_minimize(fn, o, &mo, &res);
    ol_optim_free(o);
    return rc;
}

/* max |x0| over iterations end-9 .. end of a trajectory xs (n+1, 2) */
static double envelope(const double *xs, int end) {
    double m = 0;
    for (int k = end - 9; k <= end; k++) m = fmax(m, fabs(xs[2 * k]));
    return m;
}

static int picture(ol_lab_ctx *ctx, double *gd_rate_measured, double *mom_rate_measured, double *beta_out) {
    ol_objective fn;
    char spec[64];
    snprintf(spec, sizeof spec, "quadratic:kappa=%g", PATH_KAPPA);
    int rc = ol_fn_create(&fn, spec, 2);
    if (rc) return rc;
    const double start[2] = {-9, 1.5};
    /* GD at its best constant lr; heavy ball at the SAME lr with the beta (0.00 .. 0.99) that reaches
     * f <= TARGET f(x0) first from this start: the difference is momentum alone. */
    double gd_lr = 2 / (PATH_KAPPA + 1), mom_lr = gd_lr, mom_beta = 0;
    long best = -1;
    double *gd = ol_calloc(2 * (COORD_STEPS + 1), sizeof(double));    /* (iterations + 1, 2) */
    double *mom = ol_calloc(2 * (COORD_STEPS + 1), sizeof(double));
    enum { NX = 221, NY = 81 };
    double *z = ol_calloc((size_t)NX * NY, sizeof(double));
    double *px = ol_calloc(COORD_STEPS + 1, sizeof(double)), *py = ol_calloc(COORD_STEPS + 1, sizeof(double));
    ol_csv *csv = NULL;
    ol_plot *p = NULL;
    char path[4096], caption[1024];
    if (!gd || !mom || !z || !px || !py) { rc = OL_ENOMEM; goto out; }
    for (int b = 0; b < 100; b++) {
        long it;
        int outcome;
        if ((rc = run_from(&fn, start, mom_lr, b / 100.0, 100000, &it, &outcome))) goto out;
        if (outcome == OUT_REACHED && (best < 0 || it < best)) {
            best = it;
            mom_beta = b / 100.0;
        }
    }
    *beta_out = mom_beta;
    if ((rc = trajectory(&fn, gd_lr, -1, start, COORD_STEPS, gd)) ||
        (rc = trajectory(&fn, mom_lr, mom_beta, start, COORD_STEPS, mom)))
        goto out;
    if ((rc = ol_csv_open(&csv, ol_lab_path(ctx, "conditioning_paths.csv", path, sizeof path),
                          "iteration,gd_x0,gd_x1,gd_f,momentum_x0,momentum_x1,momentum_f")))
        goto out;
    for (int k = 0; k <= COORD_STEPS; k++) {
        double row[7] = {k, gd[2 * k], gd[2 * k + 1], 0, mom[2 * k], mom[2 * k + 1], 0};
        row[3] = 0.5 * (row[1] * row[1] + PATH_KAPPA * row[2] * row[2]);
        row[6] = 0.5 * (row[4] * row[4] + PATH_KAPPA * row[5] * row[5]);
        if ((rc = ol_csv_row(csv, row, 7))) goto out;
    }
    rc = ol_csv_close(csv);
    csv = NULL;
    if (rc) goto out;

    /* contour plot with both paths */
    const double x_lo = -10, x_hi = 3, y_lo = -2.2, y_hi = 2.2;
    for (int j = 0; j < NY; j++)
        for (int i = 0; i < NX; i++) {
            fn.x[0] = x_lo + i * (x_hi - x_lo) / (NX - 1);
            fn.x[1] = y_lo + j * (y_hi - y_lo) / (NY - 1);
            z[(size_t)j * NX + i] = ol_fn_eval(&fn, 0);
        }
    char title[128];
    snprintf(title, sizeof title, "Paths on 1/2 (x0^2 + %g x1^2)", PATH_KAPPA);
    char y_label[64];
    snprintf(y_label, sizeof y_label, "x1 (steep, curvature %g)", PATH_KAPPA);
    if (!(p = ol_plot_new(title, "x0 (flat direction, curvature 1)", y_label))) {
        rc = OL_ENOMEM;
        goto out;
    }
    ol_plot_grid grid = {z, NX, NY, x_lo, x_hi, y_lo, y_hi, 0, NULL, 1, 0, 1, "f(x) (log colour scale)"};
    ol_plot_heatmap(p, &grid);
    for (int k = 0; k <= PATH_STEPS; k++) { px[k] = gd[2 * k]; py[k] = gd[2 * k + 1]; }
    char label[128];
    snprintf(label, sizeof label, "gradient descent, lr = 2/(L+mu) = %.3f", gd_lr);
    ol_plot_path(p, label, px, py, PATH_STEPS + 1);
    for (int k = 0; k <= PATH_STEPS; k++) { px[k] = mom[2 * k]; py[k] = mom[2 * k + 1]; }
    snprintf(label, sizeof label, "heavy ball, same lr, beta = %.2f", mom_beta);
    ol_plot_path(p, label, px, py, PATH_STEPS + 1);
    double gd_end = hypot(gd[2 * PATH_STEPS], gd[2 * PATH_STEPS + 1]);
    double mom_end = hypot(mom[2 * PATH_STEPS], mom[2 * PATH_STEPS + 1]);
    snprintf(caption, sizeof caption,
             "%d iterations of each method from (%g, %g). Gradient descent at its best constant lr, 2/(L+mu): "
             "the step is limited by the steep direction (lr < 2/L = %.3g), so it bounces across the narrow valley "
             "(the zig-zag) while creeping along the flat floor; after %d steps it is still %.2g from the minimum. "
             "Heavy ball uses the same lr plus beta (w - w_prev), beta = %.2f (the best of 0.00 .. 0.99 for this "
             "lr): across the valley successive steps alternate and partly cancel, along it they add up; it ends %.2g "
             "from the minimum.",
             PATH_STEPS, start[0], start[1], 2 / PATH_KAPPA, PATH_STEPS, gd_end, mom_beta, mom_end);
    if ((rc = ol_lab_figure(ctx, p, "conditioning_paths.svg", "conditioning_paths.csv", caption))) goto out;
    ol_plot_free(p);
    p = NULL;

    /* per-coordinate distance to the optimum (0) */
    if (!(p = ol_plot_new("Distance to the optimum per coordinate (kappa = 50)", "iteration",
                          "|x_i - x*_i| (log scale)"))) { rc = OL_ENOMEM; goto out; }
    ol_plot_log_y(p, 1);
    double it[COORD_STEPS + 1];
    for (int k = 0; k <= COORD_STEPS; k++) it[k] = k;
    const char *labels[4] = {"gradient descent: x0 (flat)", "gradient descent: x1 (steep)",
                             "heavy ball: x0 (flat)", "heavy ball: x1 (steep)"};
    for (int s = 0; s < 4; s++) {
        const double *xs = s < 2 ? gd : mom;
        for (int k = 0; k <= COORD_STEPS; k++) px[k] = fabs(xs[2 * k + (s & 1)]);
        int series = ol_plot_line(p, labels[s], it, px, COORD_STEPS + 1);
        ol_plot_color(p, series, s < 2 ? 0 : 1);
        ol_plot_dashed(p, series, s & 1);
    }
    ol_plot_y_range(p, 1e-12, NAN);
    /* per-step contraction of the flat coordinate over the second half, from its envelope (the largest
     * |x0| of the last 10 iterations before each end), so that momentum's zero crossings do not matter */
    int h = COORD_STEPS / 2;
    *gd_rate_measured = pow(envelope(gd, COORD_STEPS) / envelope(gd, h), 1.0 / (COORD_STEPS - h));
    *mom_rate_measured = pow(envelope(mom, COORD_STEPS) / envelope(mom, h), 1.0 / (COORD_STEPS - h));
    snprintf(caption, sizeof caption,
             "The same runs as above, %d iterations. Gradient descent shrinks the flat coordinate x0 by only a "
             "factor %.3f per step (theory at lr = 2/(L+mu): (k-1)/(k+1) = %.3f); the steep one x1 flips sign every "
             "step and shrinks no faster. With momentum at the same lr the flat coordinate shrinks by %.3f per step "
             "(sqrt(beta) = %.3f; with Polyak's lr and beta the best possible is (sqrt k - 1)/(sqrt k + 1) = %.3f); "
             "the wiggles are the momentum overshooting and coming back.",
             COORD_STEPS, *gd_rate_measured, gd_rate(PATH_KAPPA), *mom_rate_measured, sqrt(mom_beta),
             momentum_rate(PATH_KAPPA));
    rc = ol_lab_figure(ctx, p, "conditioning_coordinates.svg", "conditioning_paths.csv", caption);
    if (!rc)
        rc = ol_report_panel(ctx->report, "momentum",
                             "Gradient descent moves slowly along flat directions and oscillates along sharp ones; "
                             "momentum accelerates along flat directions and slows down along sharp ones. Move the "
                             "learning rate, beta and the steps, and see which of the two gets f below a millionth "
                             "of its start within 100 iterations.");
    /* issue 18's demo 2: the same two methods on two weights of a real model (its figure is this
     * lab's: the paths and each coordinate's distance to the optimum, on a real loss) */
    if (!rc) rc = ol_lab_page_data(ctx);
    if (!rc)
        rc = ol_report_panel(ctx->report, "twoweights",
                             "The same contest on a real model: a linear softmax model trained here, frozen but for "
                             "one pixel's weight and its class's bias; choose a pixel at the image's edge (ill-"
                             "conditioned) or nearer its centre, and move the learning rate, beta and the steps to "
                             "see which of gradient descent and heavy ball gets closer to Newton's minimum.");
out:
    ol_plot_free(p);
    ol_csv_abort(csv);
    free(gd);
    free(mom);
    free(z);
    free(px);
    free(py);
    ol_fn_free(&fn);
    return rc;
}

int ol_lab_conditioning(ol_lab_ctx *ctx) {
    static const double kappas_full[] = {1, 10, 100, 1000, 10000}, kappas_quick[] = {1, 10, 100, 1000};
    const double *kappas = ctx->quick ? kappas_quick : kappas_full;
    int n_kappas = ctx->quick ? 4 : 5;
    ol_report_paragraph(ctx->report, "%s",
        "The condition number kappa = L / mu of a problem is the ratio of its steepest curvature L to its "
        "flattest mu. Gradient descent must take a step small enough for the steepest direction (lr < 2/L), "
        "and with that step it crawls along the flattest one: it needs about kappa times log(1/eps) iterations. "
        "Heavy-ball momentum, w+ = w - lr grad + beta (w - w_prev), adds a part of the last step: in the flat "
        "direction the steps add up (it accelerates), in the steep one they alternate and cancel (it damps the "
        "oscillation). With Polyak's parameters it needs only about sqrt(kappa) times log(1/eps) iterations.");
    ol_report_paragraph(ctx->report,
        "Experiment: f(x) = 1/2 sum_i l_i x_i^2 in %d dimensions with curvatures l_i from 1 to kappa "
        "(log-spaced), started at x0_i = 1/sqrt(l_i), so that every coordinate holds the same share of "
        "f(x0) = %d/2 whatever kappa is. We count the iterations until f(x) <= 10^-6 f(x0) (relative to the "
        "start; here the same as f <= %g). Each method is tuned on a grid: lr log-spaced from 1e-5 to 1.78 "
        "(%d per decade), beta in {0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99} (beta = 0 is plain gradient "
        "descent); the best setting counts.",
        DIM, DIM, TARGET * DIM / 2, ctx->quick ? 8 : 16);
    kappa_result res[MAX_KAPPAS];
    int rc = kappa_experiment(ctx, kappas, n_kappas, res, ctx->quick ? 8 : 16);
    if (rc) return rc;
    double gd_slope, mom_slope;
    if ((rc = iterations_figure(ctx, res, n_kappas, &gd_slope, &mom_slope))) return rc;
    ol_report_paragraph(ctx->report, "%s",
        "Every run of the grid is in conditioning_grid.csv. To see why, look at a 2-D quadratic with kappa = 50: "
        "a long, narrow valley.");
    double gd_r = NAN, mom_r = NAN, path_beta = NAN;
    if ((rc = picture(ctx, &gd_r, &mom_r, &path_beta))) return rc;

    const kappa_result *k1000 = NULL;
    for (int i = 0; i < n_kappas; i++) {
        char key[64];
        snprintf(key, sizeof key, "gd_iters_kappa%g", res[i].kappa);
        ol_lab_record(ctx, key, (double)res[i].iters[0]);
        snprintf(key, sizeof key, "momentum_iters_kappa%g", res[i].kappa);
        ol_lab_record(ctx, key, (double)res[i].iters[1]);
        snprintf(key, sizeof key, "gd_lr_kappa%g", res[i].kappa);
        ol_lab_record(ctx, key, res[i].lr[0]);
        snprintf(key, sizeof key, "momentum_lr_kappa%g", res[i].kappa);
        ol_lab_record(ctx, key, res[i].lr[1]);
        snprintf(key, sizeof key, "momentum_beta_kappa%g", res[i].kappa);
        ol_lab_record(ctx, key, res[i].beta[1]);
        if (res[i].kappa == 1000) k1000 = &res[i];
    }
    ol_lab_record(ctx, "gd_slope", gd_slope);
    ol_lab_record(ctx, "momentum_slope", mom_slope);
    ol_lab_record(ctx, "gd_rate_kappa50", gd_r);
    ol_lab_record(ctx, "momentum_rate_kappa50", mom_r);
    ol_lab_record(ctx, "momentum_beta_kappa50", path_beta);
    if (!k1000 || k1000->iters[0] <= 0 || k1000->iters[1] <= 0)
        return ol_fail(OL_ESTATE, "conditioning: a method did not reach the target at kappa = 1000");
    ol_lab_record(ctx, "speedup_kappa1000", (double)k1000->iters[0] / (double)k1000->iters[1]);
    ol_lab_record(ctx, "largest_kappa", res[n_kappas - 1].kappa);
    return ol_lab_takeaway(ctx,
        "At kappa=1000, gradient descent needed {gd_iters_kappa1000:.0f} iterations to reach f <= %g f(x0) and "
        "heavy-ball momentum {momentum_iters_kappa1000:.0f} (x{speedup_kappa1000:.1f} faster), each at its best tuned "
        "lr (and beta); over kappa = 10..{largest_kappa:g} their iteration counts grew with log-log slopes "
        "{gd_slope:.2f} and {momentum_slope:.2f} (theory: kappa vs sqrt(kappa) scaling, slopes 1 and 0.5).",
        TARGET);
}
