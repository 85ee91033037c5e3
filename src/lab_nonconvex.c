/* lab_nonconvex.c: the lecture's third challenge, non-convexity, and its answer, overparametrization.
 *
 * Three experiments, all driven by ctx->seed:
 *   1. Overparametrization: MLPs with one hidden layer of width 2..512 (and two hidden layers for a
 *      few widths), each from n_seeds random initializations, trained by full-batch gradient
 *      descent on the first 500 training examples with ONE budget (same lr, same steps). The spread
 *      (max - min) of the final training losses per width says how much the outcome depends on the
 *      initialization.
 *   2. A non-convex 2-D function (rastrigin) with GD from random starts: each run ends in the
 *      local minimum of the basin it started in.
 *   3. The loss of a trained narrow and a trained wide network on a plane through the trained
 *      point spanned by two filter-normalized random directions (Li et al. 2018, "Visualizing the
 *      Loss Landscape of Neural Nets").
 * The trainings are independent, so they run in parallel, one per thread, each single-threaded
 * inside; every result lands in its own slot, so the CSVs do not depend on the thread count.
 * Deliberately not here: stochastic gradients (lab 4) and lr tuning (lab 5): one fixed, stable lr. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/functions.h"
#include "optlab/lab.h"
#include "optlab/nn.h"
#include "optlab/optim.h"
#include "optlab/rng.h"
#include "optlab/parallel.h"
#include "optlab/train.h"

/* ---- the plan: what full and quick runs do ---- */

typedef struct {
    const int *widths;       /* one hidden layer: widths, ascending */
    int n_widths;
    const int *deep_widths;  /* two hidden layers of this width each, ascending */
    int n_deep;
    int n_seeds;             /* random initializations per architecture, >= 7 */
    long steps;              /* full-batch GD steps, the same for every run */
    double lr;               /* the same for every run: stable for all widths (see docs) */
    int normalize;           /* 1: inputs standardized with the subset's pixel mean and std */
    uint32_t n_subset;       /* training examples: the first n_subset of the training set */
    int landscape_n;         /* loss-landscape samples per axis */
    int narrow_width;        /* one-hidden-layer widths whose landscapes are drawn */
    int wide_width;
    int fn_starts;           /* rastrigin: GD runs from random starts */
    long fn_steps;
} nc_plan;

static const int FULL_WIDTHS[] = {2, 4, 8, 16, 32, 64, 128, 256, 512};
static const int FULL_DEEP[] = {2, 8, 32, 128};
static const int QUICK_WIDTHS[] = {2, 8, 32, 128};
static const int QUICK_DEEP[] = {2, 8, 32};

static nc_plan make_plan(int quick) {
    nc_plan p;
    memset(&p, 0, sizeof p);
    if (quick) {
        p.widths = QUICK_WIDTHS, p.n_widths = (int)(sizeof QUICK_WIDTHS / sizeof *QUICK_WIDTHS);
        p.deep_widths = QUICK_DEEP, p.n_deep = (int)(sizeof QUICK_DEEP / sizeof *QUICK_DEEP);
        p.steps = 60;
        p.landscape_n = 11;
        p.wide_width = 128;
    } else {
        p.widths = FULL_WIDTHS, p.n_widths = (int)(sizeof FULL_WIDTHS / sizeof *FULL_WIDTHS);
        p.deep_widths = FULL_DEEP, p.n_deep = (int)(sizeof FULL_DEEP / sizeof *FULL_DEEP);
        p.steps = 150;
        p.landscape_n = 25;
        p.wide_width = 512;
    }
    p.n_seeds = 7;
    p.lr = 0.03;
    p.normalize = 1;
    p.n_subset = 500;
    p.narrow_width = 8;
    p.fn_starts = 8;
    p.fn_steps = 40;
    return p;
}

/* ---- experiment 1: many trainings ---- */

typedef struct {
    int hidden_layers, width;  /* hidden_layers hidden layers of `width` units each */
    int seed_index;            /* 0..n_seeds-1 */
    uint64_t seed;             /* the model's initialization seed */
    size_t n_params;
    double initial_loss, initial_acc; /* at the initialization, over the subset (nats, fraction) */
    double final_loss;         /* mean cross-entropy over the subset after the last step (nats) */
    double final_acc;          /* fraction of the subset classified right */
    double *curve;             /* (steps + 1): loss at the parameters after 0..steps steps */
    float *params;             /* the trained parameters, kept for the landscape (else NULL) */
    float input_mean, input_inv_std; /* the input standardization the run trained with */
    int increases;             /* steps after which the loss was higher than before */
    int keep;
    int rc;
    char error[512];
} nc_run;

static void model_spec(char *buf, size_t cap, const ol_dataset *d, int hidden_layers, int width) {
    if (hidden_layers == 1)
        snprintf(buf, cap, "mlp:%zu-%d-%d", ol_dataset_dim(d), width, d->n_classes);
    else
        snprintf(buf, cap, "mlp:%zu-%d-%d-%d", ol_dataset_dim(d), width, width, d->n_classes);
}

/* Full batch: one step per epoch, and the epoch's train_loss is the loss before that step. */
static void record_curve(void *userdata, long epoch, const ol_train_result *r) {
    nc_run *run = userdata;
    run->curve[epoch - 1] = r->train_loss;
}

/* subset: a view of the first n_subset examples (owns nothing; a private copy per thread, since
 * ol_train_fit changes and restores the count of the set it is given). */
static void train_one(const nc_plan *p, const ol_dataset *subset_view, nc_run *run) {
    ol_dataset subset = *subset_view;
    ol_mlp m;
    ol_mlp_graph eval;
    memset(&m, 0, sizeof m);
    memset(&eval, 0, sizeof eval);
    char spec[128];
    model_spec(spec, sizeof spec, &subset, run->hidden_layers, run->width);
    int rc = ol_mlp_create(&m, spec, 0);
    if (!rc) rc = ol_mlp_graph_build(&m, &eval, (int)subset.n, 0);
    if (!rc) {
        ol_mlp_init(&m, run->seed);
        run->n_params = m.n_params;
        if (p->normalize) { /* as ol_train_fit will: the subset's pixel mean and std */
            double mean, std;
            if (!(rc = ol_data_stats(&subset, &mean, &std)) && std > 0) {
                m.input_mean = (float)mean;
                m.input_inv_std = (float)(1.0 / std);
            }
        }
    }
    /* evaluated here, apart from the training loop, so the curve's first point can be checked */
    if (!rc) rc = ol_evaluate(&m, &eval, &subset, &run->initial_loss, &run->initial_acc);
    if (!rc) {
        ol_train_config c = ol_train_default_config();
        c.model_spec = spec;
        c.model = &m;
        c.opt = "gd";
        c.lr = p->lr;
        c.batch = 0;                /* full batch: the whole subset every step */
        c.epochs = p->steps;        /* = steps */
        c.seed = run->seed;
        c.normalize = p->normalize;
        c.train_subset = subset.n;
        c.skip_test = 1;
        c.quiet = 1;
        c.on_epoch = record_curve;
        c.userdata = run;
        ol_train_result r;
        /* the final loss is evaluated once below rather than with eval_train, which would cost a
         * forward pass after every step */
        rc = ol_train_fit(&c, &subset, NULL, &r);
    }
    if (!rc) rc = ol_evaluate(&m, &eval, &subset, &run->final_loss, &run->final_acc);
    if (!rc) {
        run->curve[p->steps] = run->final_loss;
        run->input_mean = m.input_mean;
        run->input_inv_std = m.input_inv_std;
        for (long t = 1; t <= p->steps; t++) run->increases += run->curve[t] > run->curve[t - 1];
        if (run->keep) {
            run->params = ol_malloc_array(m.n_params, sizeof(float));
            if (!run->params) rc = OL_ENOMEM;
            else memcpy(run->params, m.params, m.n_params * sizeof(float));
        }
    }
    if (rc) snprintf(run->error, sizeof run->error, "%s (%s, seed %llu)", ol_error(), spec, (unsigned long long)run->seed);
    run->rc = rc;
    ol_mlp_graph_free(&eval);
    ol_mlp_free(&m);
}

/* Runs every training, the largest first (the threads finish together); results by index. */
static int train_all(const nc_plan *p, const ol_dataset *subset, nc_run *runs, int n_runs) {
    int *order = ol_malloc_array((size_t)n_runs, sizeof *order);
    if (!order) return OL_ENOMEM;
    for (int i = 0; i < n_runs; i++) order[i] = i;
    /* cost ~ width * (inputs + width * (hidden_layers - 1)): sort by it, descending (insertion sort) */
    size_t dim = ol_dataset_dim(subset);
    for (int i = 1; i < n_runs; i++) {
        int v = order[i], j = i;
        double cv = (double)runs[v].width * ((double)dim + (double)runs[v].width * (runs[v].hidden_layers - 1));
        while (j > 0) {
            const nc_run *u = &runs[order[j - 1]];
            double cu = (double)u->width * ((double)dim + (double)u->width * (u->hidden_layers - 1));
            if (cu >= cv) break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    int threads = ol_parallel_threads();
    if (threads > n_runs) threads = n_runs;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int i = 0; i < n_runs; i++) {
        omp_set_num_threads(1); /* this thread's inner (GEMM) regions: one thread each */
        train_one(p, subset, &runs[order[i]]);
    }
    free(order);
    for (int i = 0; i < n_runs; i++)
        if (runs[i].rc) return ol_fail(runs[i].rc, "nonconvex: training failed: %s", runs[i].error);
    return OL_OK;
}

/* ---- statistics over the seeds of one architecture ---- */

typedef struct {
    int hidden_layers, width;
    size_t n_params;
    double min, median, max, spread;
} nc_stats;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The runs of architecture `arch` are runs[arch * n_seeds ...]. */
static nc_stats arch_stats(const nc_run *runs, int n_seeds) {
    double v[64];
    nc_stats s;
    int n = n_seeds < 64 ? n_seeds : 64;
    for (int k = 0; k < n; k++) v[k] = runs[k].final_loss;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s.hidden_layers = runs[0].hidden_layers;
    s.width = runs[0].width;
    s.n_params = runs[0].n_params;
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    s.spread = s.max - s.min;
    return s;
}

/* ---- experiment 3: the loss on a plane of two filter-normalized directions ---- */

/* A Gaussian direction, each output neuron's column (layer l's weight is (in, out) row-major, so a
 * neuron's incoming weights are column j) rescaled to the norm of the trained column; the biases'
 * direction is 0 (Li et al. 2018, sec. 4, ignore biases as they do batch-norm parameters). */
static void filter_normalized_direction(const ol_mlp *m, const float *theta, ol_rng *rng, float *d) {
    memset(d, 0, m->n_params * sizeof *d);
    for (int l = 0; l < m->n_layers; l++) {
        int in = m->sizes[l], out = m->sizes[l + 1];
        float *w = d + m->w_off[l];
        const float *t = theta + m->w_off[l];
        for (size_t i = 0; i < (size_t)in * out; i++) w[i] = (float)ol_rng_normal(rng);
        for (int j = 0; j < out; j++) {
            double nd = 0, nt = 0;
            for (int i = 0; i < in; i++) {
                nd += (double)w[(size_t)i * out + j] * w[(size_t)i * out + j];
                nt += (double)t[(size_t)i * out + j] * t[(size_t)i * out + j];
            }
            double scale = nd > 0 ? sqrt(nt / nd) : 0;
            for (int i = 0; i < in; i++) w[(size_t)i * out + j] = (float)(w[(size_t)i * out + j] * scale);
        }
    }
}

/* z[j * n + i] = loss(theta + alpha_i d1 + beta_j d2) on the subset, alpha, beta in [-1, 1]. */
static int landscape(const ol_dataset *subset_view, const nc_run *run, uint64_t seed, int n, double *z) {
    ol_dataset subset = *subset_view;
    ol_mlp probe;
    char spec[128];
    memset(&probe, 0, sizeof probe);
    model_spec(spec, sizeof spec, &subset, run->hidden_layers, run->width);
    int rc = ol_mlp_create(&probe, spec, 0);
    if (rc) return rc;
    size_t np = probe.n_params;
    float *d1 = ol_malloc_array(np, sizeof *d1), *d2 = ol_malloc_array(np, sizeof *d2);
    if (!d1 || !d2) {
        free(d1), free(d2), ol_mlp_free(&probe);
        return OL_ENOMEM;
    }
    ol_rng rng;
    ol_rng_seed(&rng, seed);
    filter_normalized_direction(&probe, run->params, &rng, d1);
    filter_normalized_direction(&probe, run->params, &rng, d2);
    int failed = OL_OK;
    int threads = ol_parallel_threads();
#pragma omp parallel num_threads(threads)
    {
        omp_set_num_threads(1);
        ol_mlp m;
        ol_mlp_graph eval;
        memset(&m, 0, sizeof m);
        memset(&eval, 0, sizeof eval);
        int trc = ol_mlp_create(&m, spec, 0);
        m.input_mean = run->input_mean;
        m.input_inv_std = run->input_inv_std;
        if (!trc) trc = ol_mlp_graph_build(&m, &eval, (int)subset.n, 0);
#pragma omp for schedule(dynamic, 1)
        for (int cell = 0; cell < n * n; cell++) {
            if (trc) continue;
            double a = -1 + 2.0 * (cell % n) / (n - 1), b = -1 + 2.0 * (cell / n) / (n - 1), acc;
            for (size_t i = 0; i < np; i++) m.params[i] = (float)(run->params[i] + a * d1[i] + b * d2[i]);
            trc = ol_evaluate(&m, &eval, &subset, &z[cell], &acc);
        }
        if (trc) {
#pragma omp critical(nc_landscape_error)
            failed = trc;
        }
        ol_mlp_graph_free(&eval);
        ol_mlp_free(&m);
    }
    free(d1);
    free(d2);
    ol_mlp_free(&probe);
    return failed ? ol_fail(failed, "nonconvex: loss landscape of %s failed", spec) : OL_OK;
}

/* Share of the interior grid points where the 2-D slice is locally convex: the finite-difference
 * Hessian [[fxx, fxy], [fxy, fyy]] is positive semi-definite. */
static double convex_fraction(const double *z, int n) {
    long convex = 0, total = 0;
    for (int j = 1; j < n - 1; j++)
        for (int i = 1; i < n - 1; i++) {
            double c = z[j * n + i];
            double fxx = z[j * n + i + 1] - 2 * c + z[j * n + i - 1];
            double fyy = z[(j + 1) * n + i] - 2 * c + z[(j - 1) * n + i];
            double fxy = 0.25 * (z[(j + 1) * n + i + 1] - z[(j + 1) * n + i - 1] - z[(j - 1) * n + i + 1] +
                                 z[(j - 1) * n + i - 1]);
            convex += fxx >= 0 && fyy >= 0 && fxx * fyy - fxy * fxy >= 0;
            total++;
        }
    return total ? (double)convex / total : NAN;
}

static const nc_run *find_run(const nc_run *runs, int n_runs, int hidden_layers, int width, int seed_index) {
    for (int i = 0; i < n_runs; i++)
        if (runs[i].hidden_layers == hidden_layers && runs[i].width == width && runs[i].seed_index == seed_index)
            return &runs[i];
    return NULL;
}

/* One computed landscape. */
typedef struct {
    const nc_run *run;
    const char *which;     /* "narrow" or "wide" */
    double *z;             /* (n, n), alpha fastest */
    double center, zmin, zmax, convex;
} nc_landscape;

/* Iso-line levels shared by the landscapes, so that the lines mean the same losses in each:
 * 1, 1.5, 2, 3, 5, 7 x 10^k inside (lo, hi), framed by lo and hi themselves (explicit levels widen
 * a heat map's colour range to include them, so both maps get the colour range [lo, hi]).
 * Returns the count (0: no shared levels, e.g. a loss <= 0). */
static int shared_levels(double lo, double hi, double *levels, int cap) {
    static const double mantissa[] = {1, 1.5, 2, 3, 5, 7};
    int n = 0;
    if (!(lo > 0) || !(hi > lo) || !isfinite(hi) || cap < 2) return 0;
    levels[n++] = lo;
    for (int e = (int)floor(log10(lo)); e <= (int)ceil(log10(hi)) && n < cap - 1; e++)
        for (int i = 0; i < 6 && n < cap - 1; i++) {
            double v = mantissa[i] * pow(10, e);
            if (v > lo && v < hi) levels[n++] = v;
        }
    levels[n++] = hi;
    return n;
}

/* CSV, figure and recorded numbers of one landscape; other: the landscape it is compared with. */
static int landscape_figure(ol_lab_ctx *ctx, const nc_plan *p, const nc_landscape *l, const nc_landscape *other,
                            const double *levels, int n_levels) {
    int n = p->landscape_n, rc;
    const nc_run *run = l->run;
    char name[128], path[4096], key[64];
    snprintf(name, sizeof name, "nonconvex_landscape_%s.csv", l->which);
    ol_csv *csv = NULL;
    if ((rc = ol_csv_open(&csv, ol_lab_path(ctx, name, path, sizeof path), "width,params,seed,alpha,beta,loss"))) return rc;
    for (int cell = 0; cell < n * n && !rc; cell++) {
        double row[6] = {run->width, (double)run->n_params, (double)run->seed, -1 + 2.0 * (cell % n) / (n - 1),
                         -1 + 2.0 * (cell / n) / (n - 1), l->z[cell]};
        rc = ol_csv_row(csv, row, 6);
    }
    if (rc) {
        ol_csv_abort(csv);
        return rc;
    }
    if ((rc = ol_csv_close(csv))) return rc;
    snprintf(key, sizeof key, "landscape_%s_width", l->which);
    ol_lab_record(ctx, key, run->width);
    snprintf(key, sizeof key, "landscape_%s_center_loss", l->which);
    ol_lab_record(ctx, key, l->center);
    snprintf(key, sizeof key, "landscape_%s_max_loss", l->which);
    ol_lab_record(ctx, key, l->zmax);
    snprintf(key, sizeof key, "landscape_%s_convex_fraction", l->which);
    ol_lab_record(ctx, key, l->convex);

    char title[160];
    snprintf(title, sizeof title, "Loss landscape, width %d (%zu parameters)", run->width, run->n_params);
    ol_plot *plot = ol_plot_new(title, "alpha (along direction d1, filter-normalized)",
                                "beta (along direction d2, filter-normalized)");
    if (!plot) return OL_ENOMEM;
    ol_plot_grid grid = {.z = l->z, .nx = n, .ny = n, .x0 = -1, .x1 = 1, .y0 = -1, .y1 = 1,
                         .n_levels = n_levels > 0 ? n_levels : 0, .levels = n_levels > 0 ? levels : NULL,
                         .log_scale = n_levels > 0 || (l->zmin > 0 && l->zmax / l->zmin > 30), .equal_aspect = 1,
                         .z_label = "training loss (nats)"};
    rc = ol_plot_heatmap(plot, &grid);
    if (!rc) {
        int idx = ol_plot_point(plot, 0, 0, "trained");
        if (idx < 0) rc = -idx;
    }
    if (!rc) {
        char svg[128], caption[1536], compare[512] = "";
        snprintf(svg, sizeof svg, "nonconvex_landscape_%s.svg", l->which);
        if (other)
            snprintf(compare, sizeof compare,
                     " Compared with width %d (previous figure: from %.3f up to %.3f, x%.1f), the loss here rises "
                     "%s.",
                     other->run->width, other->center, other->zmax, other->zmax / other->center,
                     l->zmax / l->center < other->zmax / other->center ? "less: the valley is flatter and wider"
                                                                       : "as much or more");
        snprintf(caption, sizeof caption,
                 "The training loss of the trained width-%d network (seed %llu, at the centre) on the plane "
                 "theta + alpha d1 + beta d2, with d1, d2 Gaussian directions rescaled per neuron to the norm of "
                 "its trained weights (filter normalization, Li et al. 2018; biases not moved), on the same %u "
                 "examples. The loss rises from %.3f at the centre to at most %.3f on the plane (x%.1f)%s; "
                 "%.0f%% of the grid points are locally convex (finite-difference Hessian positive "
                 "semi-definite).%s%s",
                 run->width, (unsigned long long)run->seed, p->n_subset, l->center, l->zmax, l->zmax / l->center,
                 grid.log_scale && n_levels <= 0 ? " (log colour scale)" : "", 100 * l->convex, compare,
                 n_levels > 0 ? " Both landscapes share one log colour scale and the same iso-lines (1, 1.5, 2, 3, "
                                "5, 7 x 10^k nats), so equal colours mean equal losses."
                              : "");
        rc = ol_lab_figure(ctx, plot, svg, name, caption);
    }
    ol_plot_free(plot);
    return rc;
}

/* Computes the landscape of run into l (l->z allocated here). */
static int landscape_compute(ol_lab_ctx *ctx, const nc_plan *p, const ol_dataset *subset, const nc_run *run,
                             const char *which, nc_landscape *l) {
    int n = p->landscape_n;
    memset(l, 0, sizeof *l);
    l->run = run;
    l->which = which;
    l->z = ol_malloc_array((size_t)n * n, sizeof *l->z);
    if (!l->z) return OL_ENOMEM;
    ol_lab_log(ctx, "loss landscape of width %d (%dx%d grid)", run->width, n, n);
    /* the same directions' seed for both networks (their sizes differ, so the draws do too) */
    int rc = landscape(subset, run, ctx->seed ^ 0x11a5dull, n, l->z);
    if (rc) return rc;
    l->zmin = INFINITY, l->zmax = -INFINITY;
    for (int cell = 0; cell < n * n; cell++)
        if (isfinite(l->z[cell])) l->zmin = fmin(l->zmin, l->z[cell]), l->zmax = fmax(l->zmax, l->z[cell]);
    l->center = l->z[(n / 2) * n + n / 2];
    l->convex = convex_fraction(l->z, n);
    return OL_OK;
}

/* ---- experiment 2: GD on rastrigin from random starts ---- */

typedef struct {
    int n_starts;
    long steps;
    double *x0, *x1, *f;  /* (n_starts, steps + 1) */
    int distinct_minima, reached_global;
    double best_f, worst_f;
} nc_fn_runs;

#define FN_LO (-3.0)
#define FN_HI 3.0
#define FN_LR 0.002 /* below 2 / (2 + 40 pi^2), the largest curvature at a minimum: stable */

/* ol_fn_minimize's on_point: each point of a run (x0, x1, f) into the runs' arrays from `first` on */
typedef struct {
    nc_fn_runs *runs;
    size_t first;
} path_record;
static int record_point(void *userdata, long step, double f, const double *x) {
    path_record *r = userdata;
    size_t k = r->first + (size_t)step;
    r->runs->x0[k] = x[0];
    r->runs->x1[k] = x[1];
    r->runs->f[k] = f;
    return 0;
}

static int rastrigin_runs(ol_lab_ctx *ctx, const nc_plan *p, nc_fn_runs *out) {
    ol_objective o;
    ol_optim *opt = NULL;
    memset(out, 0, sizeof *out);
    int rc = ol_fn_create(&o, "rastrigin", 2);
    if (rc) return rc;
    size_t n = (size_t)p->fn_starts * (p->fn_steps + 1);
    out->n_starts = p->fn_starts;
    out->steps = p->fn_steps;
    out->x0 = ol_malloc_array(n, sizeof(double));
    out->x1 = ol_malloc_array(n, sizeof(double));
    out->f = ol_malloc_array(n, sizeof(double));
    if (!out->x0 || !out->x1 || !out->f) {
        rc = OL_ENOMEM;
        goto out;
    }
    ol_rng rng;
    ol_rng_seed(&rng, ctx->seed ^ 0x7a5d1ull);
    for (int s = 0; s < p->fn_starts; s++) {
        o.x[0] = ol_rng_uniform_range(&rng, FN_LO + 0.2, FN_HI - 0.2);
        o.x[1] = ol_rng_uniform_range(&rng, FN_LO + 0.2, FN_HI - 0.2);
        if ((rc = ol_optim_create(&opt, "gd", FN_LR))) goto out;
        if ((rc = ol_optim_add_group_f64(opt, o.x, o.grad, 2, -1, -1))) goto out;
        path_record rec = {out, (size_t)s * (p->fn_steps + 1)};
        ol_fn_minimize_opts mo = ol_fn_minimize_defaults();
        mo.max_steps = p->fn_steps;
        mo.on_point = record_point;
        mo.userdata = &rec;
        ol_fn_minimize_result res;
        if ((rc = ol_fn_minimize(&o, opt, &mo, &res))) goto out;
        ol_optim_free(opt);
        opt = NULL;
    }
    /* where each run ended: the rastrigin minima sit near the integer points */
    long seen_x[64], seen_y[64];
    int n_seen = 0;
    out->best_f = INFINITY, out->worst_f = -INFINITY;
    for (int s = 0; s < p->fn_starts; s++) {
        size_t k = (size_t)s * (p->fn_steps + 1) + p->fn_steps;
        long ix = lround(out->x0[k]), iy = lround(out->x1[k]);
        int found = 0;
        for (int i = 0; i < n_seen; i++) found |= seen_x[i] == ix && seen_y[i] == iy;
        if (!found && n_seen < 64) seen_x[n_seen] = ix, seen_y[n_seen] = iy, n_seen++;
        out->reached_global += ix == 0 && iy == 0;
        out->best_f = fmin(out->best_f, out->f[k]);
        out->worst_f = fmax(out->worst_f, out->f[k]);
    }
    out->distinct_minima = n_seen;
out:
    ol_optim_free(opt);
    ol_fn_free(&o);
    return rc;
}

static void fn_runs_free(nc_fn_runs *r) {
    free(r->x0);
    free(r->x1);
    free(r->f);
}

static int rastrigin_figure(ol_lab_ctx *ctx, const nc_plan *p, nc_fn_runs *fr) {
    char path[4096];
    ol_csv *csv = NULL;
    int rc = ol_csv_open(&csv, ol_lab_path(ctx, "nonconvex_rastrigin.csv", path, sizeof path), "start,step,x0,x1,f");
    if (rc) return rc;
    for (int s = 0; s < fr->n_starts && !rc; s++)
        for (long t = 0; t <= fr->steps && !rc; t++) {
            size_t k = (size_t)s * (fr->steps + 1) + t;
            double row[5] = {s, (double)t, fr->x0[k], fr->x1[k], fr->f[k]};
            rc = ol_csv_row(csv, row, 5);
        }
    if (rc) {
        ol_csv_abort(csv);
        return rc;
    }
    if ((rc = ol_csv_close(csv))) return rc;

    /* the surface itself */
    enum { GRID = 151 };
    double *z = ol_malloc_array((size_t)GRID * GRID, sizeof *z);
    ol_objective o;
    if (!z) return OL_ENOMEM;
    if ((rc = ol_fn_create(&o, "rastrigin", 2))) {
        free(z);
        return rc;
    }
    for (int j = 0; j < GRID; j++)
        for (int i = 0; i < GRID; i++) {
            o.x[0] = FN_LO + (FN_HI - FN_LO) * i / (GRID - 1);
            o.x[1] = FN_LO + (FN_HI - FN_LO) * j / (GRID - 1);
            z[j * GRID + i] = ol_fn_eval(&o, 0);
        }
    ol_fn_free(&o);
    ol_plot *plot = ol_plot_new("Gradient descent on rastrigin from random starts", "x0 (no unit)", "x1 (no unit)");
    if (!plot) {
        free(z);
        return OL_ENOMEM;
    }
    static const double levels[] = {2, 5, 10, 15, 20, 25, 30, 40};
    ol_plot_grid grid = {.z = z, .nx = GRID, .ny = GRID, .x0 = FN_LO, .x1 = FN_HI, .y0 = FN_LO, .y1 = FN_HI,
                         .n_levels = (int)(sizeof levels / sizeof *levels), .levels = levels, .equal_aspect = 1,
                         .z_label = "rastrigin f(x)"};
    rc = ol_plot_heatmap(plot, &grid);
    char label[128];
    snprintf(label, sizeof label, "GD, lr %g, %ld steps, %d starts", FN_LR, fr->steps, fr->n_starts);
    for (int s = 0; s < fr->n_starts && !rc; s++) {
        size_t k = (size_t)s * (fr->steps + 1);
        int idx = ol_plot_path(plot, s == 0 ? label : NULL, fr->x0 + k, fr->x1 + k, (size_t)fr->steps + 1);
        if (idx < 0) rc = -idx;
        else rc = ol_plot_color(plot, idx, 1);
    }
    if (!rc) {
        int idx = ol_plot_point(plot, 0, 0, "global minimum");
        if (idx < 0) rc = -idx;
    }
    if (!rc) {
        char caption[1024];
        snprintf(caption, sizeof caption,
                 "Rastrigin has a local minimum near every integer point; only (0, 0) is global (f = 0). Gradient "
                 "descent from %d random starts (open circles) walks downhill into the basin it starts in and "
                 "stops there (filled dots): the runs end in %d different minima, with f from %.3f to %.3f, and "
                 "%d of %d reach the global one. Where you start decides where you end: initialization matters.",
                 fr->n_starts, fr->distinct_minima, fr->best_f, fr->worst_f, fr->reached_global, fr->n_starts);
        rc = ol_lab_figure(ctx, plot, "nonconvex_rastrigin.svg", "nonconvex_rastrigin.csv", caption);
    }
    (void)p;
    ol_plot_free(plot);
    free(z);
    return rc;
}

/* ---- figures of experiment 1 ---- */

static int write_runs_csv(ol_lab_ctx *ctx, const nc_run *runs, int n_runs) {
    char path[4096];
    ol_csv *csv = NULL;
    int rc = ol_csv_open(&csv, ol_lab_path(ctx, "nonconvex_runs.csv", path, sizeof path),
                         "hidden_layers,width,params,seed_index,seed,initial_loss,final_loss,final_accuracy");
    if (rc) return rc;
    for (int i = 0; i < n_runs && !rc; i++) {
        const nc_run *r = &runs[i];
        if (!rc) rc = ol_csv_int(csv, r->hidden_layers);
        if (!rc) rc = ol_csv_int(csv, r->width);
        if (!rc) rc = ol_csv_int(csv, (long long)r->n_params);
        if (!rc) rc = ol_csv_int(csv, r->seed_index);
        if (!rc) rc = ol_csv_int(csv, (long long)r->seed);
        if (!rc) rc = ol_csv_num(csv, r->initial_loss);
        if (!rc) rc = ol_csv_num(csv, r->final_loss);
        if (!rc) rc = ol_csv_num(csv, r->final_acc);
        if (!rc) rc = ol_csv_end_row(csv);
    }
    if (rc) {
        ol_csv_abort(csv);
        return rc;
    }
    return ol_csv_close(csv);
}

static int write_spread_csv(ol_lab_ctx *ctx, const nc_stats *st, int n_arch, int n_seeds) {
    char path[4096];
    ol_csv *csv = NULL;
    int rc = ol_csv_open(&csv, ol_lab_path(ctx, "nonconvex_spread.csv", path, sizeof path),
                         "hidden_layers,width,params,seeds,loss_min,loss_median,loss_max,spread");
    if (rc) return rc;
    for (int a = 0; a < n_arch && !rc; a++) {
        double row[8] = {st[a].hidden_layers, st[a].width, (double)st[a].n_params, n_seeds,
                         st[a].min, st[a].median, st[a].max, st[a].spread};
        rc = ol_csv_row(csv, row, 8);
    }
    if (rc) {
        ol_csv_abort(csv);
        return rc;
    }
    return ol_csv_close(csv);
}

/* Errorbars (min, median, max over the seeds) against the parameter count, one series per depth. */
static int spread_figure(ol_lab_ctx *ctx, const nc_plan *p, const nc_stats *st, int n_arch, int n_classes) {
    ol_plot *plot = ol_plot_new("Final training loss over random initializations",
                                "parameters (count, log scale)", "final training loss (nats)");
    if (!plot) return OL_ENOMEM;
    ol_plot_log_x(plot, 1);
    int rc = OL_OK;
    for (int depth = 1; depth <= 2 && !rc; depth++) {
        double x[32], y[32], lo[32], hi[32];
        int n = 0;
        for (int a = 0; a < n_arch && n < 32; a++)
            if (st[a].hidden_layers == depth) {
                x[n] = (double)st[a].n_params, y[n] = st[a].median, lo[n] = st[a].min, hi[n] = st[a].max;
                n++;
            }
        if (!n) continue;
        int idx = ol_plot_errorbars(plot, depth == 1 ? "1 hidden layer: median, bar = min to max"
                                                     : "2 hidden layers: median, bar = min to max",
                                    x, y, lo, hi, (size_t)n);
        if (idx < 0) rc = -idx;
        else if (!(rc = ol_plot_color(plot, idx, depth - 1))) {
            int line = ol_plot_line(plot, NULL, x, y, (size_t)n);
            if (line < 0) rc = -line;
            else rc = ol_plot_color(plot, line, depth - 1);
        }
    }
    char text[96];
    int largest = 0;
    for (int a = 1; a < p->n_widths; a++)
        if (st[a].spread > st[largest].spread) largest = a;
    snprintf(text, sizeof text, "constant guess: ln %d = %.2f", n_classes, log((double)n_classes));
    if (!rc) {
        int idx = ol_plot_hline(plot, log((double)n_classes), text);
        if (idx < 0) rc = -idx;
    }
    if (!rc) {
        char caption[1024];
        snprintf(caption, sizeof caption,
                 "Each architecture trained from %d random initializations with one budget: full-batch gradient "
                 "descent, lr %g, %ld steps, on the first %u training examples. The dot is the median final "
                 "training loss, the bar spans the best and the worst seed: a long bar means the outcome "
                 "depended on the initialization. One hidden layer: the bar is %.3f long at width %d, %.3f at "
                 "width %d (largest: %.3f at width %d). Two hidden layers: %.3f at width %d, %.3f at width %d. "
                 "Dashed: the loss of a constant guess (uniform over the %d classes), where a network that "
                 "learned nothing stays.",
                 p->n_seeds, p->lr, p->steps, p->n_subset, st[0].spread, st[0].width, st[p->n_widths - 1].spread,
                 st[p->n_widths - 1].width, st[largest].spread, st[largest].width, st[p->n_widths].spread,
                 st[p->n_widths].width, st[n_arch - 1].spread, st[n_arch - 1].width, n_classes);
        rc = ol_lab_figure(ctx, plot, "nonconvex_spread.svg", "nonconvex_spread.csv", caption);
    }
    ol_plot_free(plot);
    return rc;
}

static int scatter_figure(ol_lab_ctx *ctx, const nc_plan *p, const nc_run *runs, int n_runs) {
    ol_plot *plot = ol_plot_new("Every run's final training loss", "parameters (count, log scale)",
                                "final training loss (nats)");
    if (!plot) return OL_ENOMEM;
    ol_plot_log_x(plot, 1);
    double *x = ol_malloc_array((size_t)n_runs, sizeof *x), *y = ol_malloc_array((size_t)n_runs, sizeof *y);
    int rc = x && y ? OL_OK : OL_ENOMEM;
    for (int depth = 1; depth <= 2 && !rc; depth++) {
        size_t n = 0;
        for (int i = 0; i < n_runs; i++)
            if (runs[i].hidden_layers == depth) x[n] = (double)runs[i].n_params, y[n] = runs[i].final_loss, n++;
        if (!n) continue;
        int idx = ol_plot_scatter(plot, depth == 1 ? "1 hidden layer (one dot per seed)" : "2 hidden layers (one dot per seed)",
                                  x, y, n);
        if (idx < 0) rc = -idx;
        else rc = ol_plot_color(plot, idx, depth - 1);
    }
    if (!rc) {
        char caption[512];
        snprintf(caption, sizeof caption,
                 "The same %d runs as above, one dot per random initialization (%d per architecture, "
                 "same GD budget). Where the dots of an architecture lie on top of each other, its seed hardly "
                 "mattered; where they scatter, the seed decided the outcome.",
                 n_runs, p->n_seeds);
        rc = ol_lab_figure(ctx, plot, "nonconvex_runs.svg", "nonconvex_runs.csv", caption);
    }
    free(x);
    free(y);
    ol_plot_free(plot);
    return rc;
}

/* Loss against step for every seed of three widths: the narrowest, one in the middle, the widest. */
static const int CURVE_COLORS[3] = {0, 3, 2};

static int curves_figure(ol_lab_ctx *ctx, const nc_plan *p, const nc_run *runs, int n_runs) {
    int shown[3] = {p->widths[0], p->widths[p->n_widths / 2], p->widths[p->n_widths - 1]};
    char path[4096];
    ol_csv *csv = NULL;
    int rc = ol_csv_open(&csv, ol_lab_path(ctx, "nonconvex_curves.csv", path, sizeof path),
                         "hidden_layers,width,params,seed,step,loss");
    if (rc) return rc;
    ol_plot *plot = ol_plot_new("Training loss during gradient descent, every seed",
                                "step (full-batch GD steps)", "training loss (nats)");
    double *steps = ol_malloc_array((size_t)p->steps + 1, sizeof *steps);
    if (!plot || !steps) rc = OL_ENOMEM;
    for (long t = 0; !rc && t <= p->steps; t++) steps[t] = (double)t;
    for (int w = 0; w < 3 && !rc; w++)
        for (int k = 0; k < p->n_seeds && !rc; k++) {
            const nc_run *r = find_run(runs, n_runs, 1, shown[w], k);
            if (!r) continue;
            for (long t = 0; t <= p->steps && !rc; t++) {
                double row[6] = {1, r->width, (double)r->n_params, (double)r->seed, (double)t, r->curve[t]};
                rc = ol_csv_row(csv, row, 6);
            }
            char label[96];
            snprintf(label, sizeof label, "width %d (%d seeds)", shown[w], p->n_seeds);
            int idx = rc ? -rc : ol_plot_line(plot, k == 0 ? label : NULL, steps, r->curve, (size_t)p->steps + 1);
            if (idx < 0) rc = -idx;
            else rc = ol_plot_color(plot, idx, CURVE_COLORS[w]); /* not 1: that is "2 hidden layers" above */
            if (!rc && w == 1) rc = ol_plot_dashed(plot, idx, 1);
        }
    if (rc) {
        ol_csv_abort(csv);
        ol_plot_free(plot);
        free(steps);
        return rc;
    }
    rc = ol_csv_close(csv);
    if (!rc) {
        char caption[1024], ranges[3][96];
        for (int w = 0; w < 3; w++) {
            double lo = INFINITY, hi = -INFINITY;
            for (int k = 0; k < p->n_seeds; k++) {
                const nc_run *r = find_run(runs, n_runs, 1, shown[w], k);
                if (r) lo = fmin(lo, r->final_loss), hi = fmax(hi, r->final_loss);
            }
            snprintf(ranges[w], sizeof ranges[w], "width %d from %.3f to %.3f", shown[w], lo, hi);
        }
        snprintf(caption, sizeof caption,
                 "Training loss after each full-batch GD step (lr %g) for every initialization of a narrow "
                 "(%d units), a middle (%d) and a wide (%d) hidden layer. Curves that bundle together mean the "
                 "seed hardly matters. Final losses: %s; %s; %s.",
                 p->lr, shown[0], shown[1], shown[2], ranges[0], ranges[1], ranges[2]);
        rc = ol_lab_figure(ctx, plot, "nonconvex_curves.svg", "nonconvex_curves.csv", caption);
    }
    ol_plot_free(plot);
    free(steps);
    return rc;
}

/* ---- the lab ---- */

static void record_stats(ol_lab_ctx *ctx, const nc_stats *s) {
    char key[96], prefix[48];
    if (s->hidden_layers == 1) snprintf(prefix, sizeof prefix, "width%d", s->width);
    else snprintf(prefix, sizeof prefix, "2layers_width%d", s->width);
    snprintf(key, sizeof key, "min_%s", prefix);
    ol_lab_record(ctx, key, s->min);
    snprintf(key, sizeof key, "median_%s", prefix);
    ol_lab_record(ctx, key, s->median);
    snprintf(key, sizeof key, "max_%s", prefix);
    ol_lab_record(ctx, key, s->max);
    snprintf(key, sizeof key, "spread_%s", prefix);
    ol_lab_record(ctx, key, s->spread);
}

int ol_lab_nonconvex(ol_lab_ctx *ctx) {
    nc_plan p = make_plan(ctx->quick);
    ol_dataset *train, *test;
    int rc = ol_lab_data(ctx, &train, &test);
    if (rc) return rc;
    if (train->n < 2) return ol_fail(OL_EARG, "nonconvex: the training set has %u examples; need at least 2", train->n);
    ol_dataset subset = *train; /* a view of the first n_subset examples */
    subset.owns = 0;
    if (subset.n > p.n_subset) subset.n = p.n_subset;
    p.n_subset = subset.n;

    /* ---- experiment 1 ---- */
    int n_arch = p.n_widths + p.n_deep, n_runs = n_arch * p.n_seeds;
    nc_run *runs = ol_calloc((size_t)n_runs, sizeof *runs);
    nc_stats *st = ol_calloc((size_t)n_arch, sizeof *st);
    double *curves = ol_malloc_array((size_t)n_runs * (p.steps + 1), sizeof *curves);
    nc_fn_runs fr;
    nc_landscape land[2];
    memset(&fr, 0, sizeof fr);
    memset(land, 0, sizeof land);
    if (!runs || !st || !curves) {
        rc = OL_ENOMEM;
        goto out;
    }
    for (int a = 0; a < n_arch; a++)
        for (int k = 0; k < p.n_seeds; k++) {
            nc_run *r = &runs[a * p.n_seeds + k];
            r->hidden_layers = a < p.n_widths ? 1 : 2;
            r->width = a < p.n_widths ? p.widths[a] : p.deep_widths[a - p.n_widths];
            r->seed_index = k;
            r->seed = ctx->seed * 1000 + (uint64_t)k;
            r->curve = curves + (size_t)(a * p.n_seeds + k) * (p.steps + 1);
            for (long t = 0; t <= p.steps; t++) r->curve[t] = NAN;
            r->keep = r->hidden_layers == 1 && k == 0 && (r->width == p.narrow_width || r->width == p.wide_width);
        }
    ol_lab_log(ctx, "training %d networks (%d architectures x %d seeds), %ld GD steps each", n_runs, n_arch,
               p.n_seeds, p.steps);
    if ((rc = train_all(&p, &subset, runs, n_runs))) goto out;
    for (int a = 0; a < n_arch; a++) st[a] = arch_stats(&runs[a * p.n_seeds], p.n_seeds);
    int monotone = 0;
    double worst_rise = 0; /* largest relative rise of the loss in one step, over all runs */
    for (int i = 0; i < n_runs; i++) {
        monotone += runs[i].increases == 0;
        for (long t = 1; t <= p.steps; t++)
            worst_rise = fmax(worst_rise, runs[i].curve[t] / runs[i].curve[t - 1] - 1);
    }

    ol_report_paragraph(ctx->report,
                        "A neural network's training loss is not convex: its landscape has many valleys, and "
                        "gradient descent ends in the one it walks into from where it started. So the "
                        "initialization matters. The lecture's answer is overparametrization: wider networks "
                        "are less sensitive to the initialization and easier to train.");
    char stability[256];
    if (monotone == n_runs)
        snprintf(stability, sizeof stability, "the loss fell at every step of all %d runs", n_runs);
    else
        snprintf(stability, sizeof stability,
                 "the loss fell at every step in %d of the %d runs; in the others it rose now and then, by at most "
                 "%.1f%% in one step",
                 monotone, n_runs, 100 * worst_rise);
    ol_report_paragraph(ctx->report,
                        "The experiment: networks with one hidden layer of %d to %d ReLU units (and two hidden "
                        "layers of %d to %d units) are each trained from %d random initializations, all with "
                        "the same budget: full-batch gradient descent with lr %g for %ld steps on the first %u "
                        "training examples (pixels standardized to mean 0, standard deviation 1). The lr is "
                        "one that is stable for every width (%s). We compare the final training losses across the seeds: a small spread "
                        "means the initialization hardly matters.",
                        p.widths[0], p.widths[p.n_widths - 1], p.deep_widths[0], p.deep_widths[p.n_deep - 1],
                        p.n_seeds, p.lr, p.steps, p.n_subset, stability);

    if ((rc = write_runs_csv(ctx, runs, n_runs))) goto out;
    if ((rc = write_spread_csv(ctx, st, n_arch, p.n_seeds))) goto out;
    ol_report_heading(ctx->report, "Overparametrization: wider networks are less sensitive to initialization");
    if ((rc = spread_figure(ctx, &p, st, n_arch, subset.n_classes))) goto out;
    if ((rc = scatter_figure(ctx, &p, runs, n_runs))) goto out;
    if ((rc = curves_figure(ctx, &p, runs, n_runs))) goto out;
    if ((rc = ol_lab_page_data(ctx))) goto out;
    if ((rc = ol_report_panel(ctx->report, "overparam",
                              "Overparametrization to the rescue: choose a width, train it from several "
                              "initializations with full-batch gradient descent, and watch whether the curves "
                              "bundle together as the network grows; then compare the train and test accuracy: "
                              "does the wide network overfit?"))) goto out;

    ol_lab_record(ctx, "lr", p.lr);
    ol_lab_record(ctx, "steps", (double)p.steps);
    ol_lab_record(ctx, "seeds", p.n_seeds);
    ol_lab_record(ctx, "examples", p.n_subset);
    ol_lab_record(ctx, "runs", n_runs);
    ol_lab_record(ctx, "runs_loss_fell_every_step", monotone);
    for (int a = 0; a < n_arch; a++) record_stats(ctx, &st[a]);
    const nc_stats *narrow = &st[0], *wide = &st[p.n_widths - 1];
    double ratio = wide->spread > 0 ? narrow->spread / wide->spread : INFINITY;
    ol_lab_record(ctx, "spread_ratio", ratio);

    /* ---- experiment 2 ---- */
    ol_report_heading(ctx->report, "Landscapes: initialization decides which valley you end in");
    ol_report_paragraph(ctx->report,
                        "A 2-D non-convex function shows why: gradient descent only ever walks downhill, so it "
                        "ends in the valley around its start. Then the training loss of two of the networks "
                        "above, seen on a random plane through the trained parameters (the method of Li et al. "
                        "2018: two random directions, each neuron's part rescaled to the size of its trained "
                        "weights so that narrow and wide networks are on a comparable scale).");
    if ((rc = rastrigin_runs(ctx, &p, &fr))) goto out;
    if ((rc = rastrigin_figure(ctx, &p, &fr))) goto out;
    if ((rc = ol_report_panel(ctx->report, "explorer",
                              "Interactive break: click on the landscape to start runs (initialization matters!), "
                              "then play with the learning rate, the optimizer and its momentum: watch which valley "
                              "each run ends in, and where a too-large learning rate makes it diverge. \"Same start, "
                              "two optimizers\" runs two of them from each click."))) goto out;
    ol_lab_record(ctx, "rastrigin_starts", fr.n_starts);
    ol_lab_record(ctx, "rastrigin_distinct_minima", fr.distinct_minima);
    ol_lab_record(ctx, "rastrigin_reached_global", fr.reached_global);

    /* ---- experiment 3 ---- */
    const nc_run *rn = find_run(runs, n_runs, 1, p.narrow_width, 0), *rw = find_run(runs, n_runs, 1, p.wide_width, 0);
    if (!rn || !rw) {
        rc = ol_fail(OL_ESTATE, "nonconvex: no trained network of width %d or %d for the landscapes", p.narrow_width,
                     p.wide_width);
        goto out;
    }
    if ((rc = landscape_compute(ctx, &p, &subset, rn, "narrow", &land[0]))) goto out;
    if ((rc = landscape_compute(ctx, &p, &subset, rw, "wide", &land[1]))) goto out;
    double levels[64];
    int n_levels = shared_levels(fmin(land[0].zmin, land[1].zmin), fmax(land[0].zmax, land[1].zmax), levels, 64);
    if ((rc = landscape_figure(ctx, &p, &land[0], NULL, levels, n_levels))) goto out;
    if ((rc = landscape_figure(ctx, &p, &land[1], &land[0], levels, n_levels))) goto out;

    /* ---- the takeaway: numbers from this run ---- */
    char verdict[256];   /* its number, too, comes from the record */
    if (wide->spread < narrow->spread)
        snprintf(verdict, sizeof verdict, "{spread_ratio:.%df}x smaller: the wider, the less the initialization matters",
                 ratio < 10 ? 1 : 0);
    else
        snprintf(verdict, sizeof verdict,
                 "not smaller on this data (the narrow one's spread is {spread_ratio:.2f}x the wide one's)");
    int nw = narrow->width, ww = wide->width;
    rc = ol_lab_takeaway(ctx,
                         "Over {seeds:.0f} seeds with one GD budget (lr {lr:g}, {steps:.0f} steps, {examples:.0f} "
                         "examples), the final training loss of width %d ranged from {min_width%d:.3f} to "
                         "{max_width%d:.3f} (spread {spread_width%d:.3f}, median {median_width%d:.3f}); width %d "
                         "from {min_width%d:.3f} to {max_width%d:.3f} (spread {spread_width%d:.3f}, median "
                         "{median_width%d:.3f}): %s. On rastrigin, GD from {rastrigin_starts:.0f} random starts "
                         "ended in {rastrigin_distinct_minima:.0f} different minima.",
                         nw, nw, nw, nw, nw, ww, ww, ww, ww, ww, verdict);
out:
    if (runs)
        for (int i = 0; i < n_runs; i++) free(runs[i].params);
    free(runs);
    free(st);
    free(curves);
    fn_runs_free(&fr);
    free(land[0].z);
    free(land[1].z);
    return rc;
}
