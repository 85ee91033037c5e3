/* lab_minibatch.c: lab 4, "full gradients are expensive -> mini-batch SGD".
 *
 * Three measured experiments on one small MLP (mlp:<inputs>-64-<classes>, inputs standardized with
 * the training set's mean and std, plain SGD without momentum):
 *   1. the cost of one gradient: forward+backward wall-clock time against the number N of
 *      examples in it (one graph built for the largest N, ol_ad_set_batch for the others, the
 *      examples converted by ol_data_batch; median of repeats after a warm-up pass);
 *   2. the training loss on a fixed subset of training examples against training wall-clock
 *      time, for batch sizes from 8 to the whole training set, every run under the same time
 *      budget; the loop is our own so that only the steps are timed (evaluation excluded);
 *   3. IID sampling (with replacement) against shuffled epochs: the training loss per epoch for
 *      the same batch size, learning rate and seeds (paired: same initialization per seed).
 * Deliberately not here: momentum and adaptive methods (lab 5), a learning-rate search per
 * batch size (a fixed scaling rule, see lr_for_batch; full-batch GD gets three rates). */
#include "optlab/lab.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optlab/common.h"
#include "optlab/nn.h"
#include "optlab/optim.h"
#include "optlab/train.h"

#define HIDDEN 64
#define MAX_NS 8
#define MAX_RUNS 8
#define MAX_POINTS 40
#define MAX_SEEDS 8
#define MAX_EPOCHS 16
#define EVAL_GRAPH_BATCH 1000   /* ol_evaluate feeds up to 1000 rows at a time */

/* The size of every experiment; quick shrinks them for the tests. */
typedef struct {
    long grad_ns[MAX_NS];       /* examples per gradient (capped at the training set) */
    int n_grad_ns;
    long batches[MAX_RUNS];     /* mini-batch sizes; full batch is added after them */
    int n_batches;
    double gd_lrs[3];           /* full-batch GD's learning rates (the best one is reported) */
    double budget;              /* seconds of training per run */
    int n_grid;                 /* evaluation times per run (log-spaced up to the budget) */
    uint32_t eval_n;            /* training examples in the fixed evaluation subset */
    uint32_t sampler_n;         /* training examples of the sampler experiment */
    long sampler_batch;
    int sampler_epochs, sampler_seeds;
} mb_plan;

static const mb_plan plan_full = {
    {100, 300, 1000, 3000, 10000, 30000, 60000}, 7,
    {8, 32, 128, 1024}, 4,
    {0.1, 0.3, 1.0},
    3.0, 30, 2000,
    6000, 32, 10, 5,
};

static const mb_plan plan_quick = {
    {100, 300, 1000, 3000}, 4,
    {8, 32, 256}, 3,
    {0.1, 0.3, 1.0},
    0.4, 16, 1000,
    1000, 32, 4, 3,
};

/* Plain SGD's learning rate for batch size B: the square-root scaling rule (the gradient's noise
 * std falls as 1/sqrt(B); Krizhevsky 2014, Hoffer et al. 2017), 0.03 at B = 8, capped at 0.3 where
 * larger steps make full-batch GD oscillate. On Fashion-MNIST a grid {0.01, 0.03, 0.1, 0.3, 1}
 * per batch size under a 2 s budget put the best rate within a factor 2 of this rule. */
#define LR_AT_8 0.03   /* the rule's rate at batch 8 */
#define LR_CAP 0.3     /* and its ceiling */
static double lr_for_batch(long batch) {
    double lr = LR_AT_8 * sqrt((double)batch / 8.0);
    return lr < LR_CAP ? lr : LR_CAP;
}

/* Progress: the wall-clock and processor time of the part just done. */
static void part_done(const ol_lab_ctx *ctx, double *t, clock_t *cpu) {
    double now = ol_now_seconds();
    clock_t cpu_now = clock();
    ol_lab_log(ctx, "  done in %.1f s (processor time %.1f s)", now - *t, (double)(cpu_now - *cpu) / CLOCKS_PER_SEC);
    *t = now;
    *cpu = cpu_now;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v). */
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ==== 1. the cost of one gradient ==== */

typedef struct {
    long n;
    int repeats;
    double convert_ms, grad_ms, grad_min_ms, grad_max_ms;   /* medians, min, max over repeats */
} mb_cost;

/* Repeats per N: fixed (so the CSV's repeat column is deterministic), more where a pass is cheap;
 * quick: 5 each. */
static int repeats_for(long n, int quick) { return quick ? 5 : n <= 3000 ? 15 : n <= 10000 ? 7 : 3; }

static int gradient_cost(const ol_lab_ctx *ctx, ol_mlp *m, ol_mlp_graph *mg, const ol_dataset *train,
                         const uint32_t *identity, const mb_plan *p, mb_cost *cost, int *n_cost) {
    float *x = ol_ad_value(mg->g, mg->x);
    int32_t *y = ol_ad_labels(mg->g, mg->loss);
    *n_cost = 0;
    for (int k = 0; k < p->n_grad_ns; k++) {
        long n = p->grad_ns[k] < (long)train->n ? p->grad_ns[k] : (long)train->n;
        if (*n_cost && cost[*n_cost - 1].n >= n) continue;      /* capped twice at the set's size */
        int reps = repeats_for(n, ctx->quick);
        double conv[16], grad[16];
        int rc = ol_ad_set_batch(mg->g, (int)n);
        if (rc) return rc;
        for (int r = -1; r < reps; r++) {                        /* r = -1: untimed warm-up */
            double t0 = ol_now_seconds();
            ol_data_batch(train, identity, (uint32_t)n, x, y, m->input_mean, m->input_inv_std);
            double t1 = ol_now_seconds();
            if ((rc = ol_ad_forward(mg->g)) || (rc = ol_ad_backward_set(mg->g, mg->loss, 1.0))) return rc;
            double t2 = ol_now_seconds();
            if (r >= 0) {
                conv[r] = 1e3 * (t1 - t0);
                grad[r] = 1e3 * (t2 - t1);
            }
        }
        mb_cost *c = &cost[(*n_cost)++];
        c->n = n;
        c->repeats = reps;
        c->convert_ms = median(conv, reps);
        c->grad_ms = median(grad, reps);             /* sorted now */
        c->grad_min_ms = grad[0];
        c->grad_max_ms = grad[reps - 1];
        ol_lab_log(ctx, "gradient over %ld examples: %.3f ms (median of %d)", n, c->grad_ms, reps);
    }
    return OL_OK;
}

/* ==== 2. loss against wall-clock time under one budget ==== */

typedef struct {
    long batch;                  /* examples per step (the training set's size for full batch) */
    double lr;
    int full;                    /* 1: full-batch GD */
    int n_points;
    double seconds[MAX_POINTS];  /* training time so far, evaluation excluded */
    long steps[MAX_POINTS];
    double examples[MAX_POINTS]; /* examples processed so far */
    double loss[MAX_POINTS], acc[MAX_POINTS];
    int diverged;
} mb_run;

static int record_point(ol_mlp *m, ol_mlp_graph *eval, const ol_dataset *eval_set, mb_run *run, double t,
                        long steps, double examples) {
    if (run->n_points >= MAX_POINTS) return OL_OK;
    int i = run->n_points++;
    run->seconds[i] = t;
    run->steps[i] = steps;
    run->examples[i] = examples;
    return ol_evaluate(m, eval, eval_set, &run->loss[i], &run->acc[i]);
}

/* Trains m from the same initialization (seed) with plain SGD at run->lr and batch run->batch
 * (shuffled epochs) until the training time reaches grid[n_grid - 1]; after the step that crosses
 * each grid time, the loss on eval_set is recorded (its time is not counted). */
static int timed_run(ol_mlp *m, ol_mlp_graph *mg, ol_mlp_graph *eval, const ol_dataset *train,
                     const ol_dataset *eval_set, const double *grid, int n_grid, uint64_t seed, mb_run *run) {
    ol_sampler sampler;
    ol_optim *opt = NULL;
    memset(&sampler, 0, sizeof sampler);
    ol_mlp_init(m, seed);
    int rc = ol_sampler_init(&sampler, OL_SAMPLER_SHUFFLE, train->n, (uint32_t)run->batch, seed ^ 0xda7aull);
    if (!rc) rc = ol_optim_create(&opt, "sgd", run->lr);
    if (!rc) rc = ol_optim_add_group(opt, m->params, m->grads, m->n_params, -1, -1);
    if (!rc) rc = record_point(m, eval, eval_set, run, 0, 0, 0);
    float *x = ol_ad_value(mg->g, mg->x);
    int32_t *y = ol_ad_labels(mg->g, mg->loss);
    double t = 0, examples = 0;
    long steps = 0;
    int next = 0;
    while (!rc && t < grid[n_grid - 1]) {
        double t0 = ol_now_seconds();
        const uint32_t *idx;
        uint32_t n = ol_sampler_next(&sampler, &idx);
        if (n == 0) n = ol_sampler_next(&sampler, &idx);    /* the next epoch */
        if ((rc = ol_ad_set_batch(mg->g, (int)n))) break;
        ol_data_batch(train, idx, n, x, y, m->input_mean, m->input_inv_std);
        if ((rc = ol_ad_forward(mg->g)) || (rc = ol_ad_backward_set(mg->g, mg->loss, 1.0))) break;
        int bad = !isfinite(ol_ad_scalar(mg->g, mg->loss));
        if (!bad) {
            rc = ol_optim_step(opt);
            if (rc == OL_ENUMERIC) bad = 1, rc = OL_OK;
        }
        t += ol_now_seconds() - t0;
        if (rc) break;
        steps++;
        examples += n;
        if (bad) {
            run->diverged = 1;
            rc = record_point(m, eval, eval_set, run, t, steps, examples);
            break;
        }
        if (t >= grid[next]) {
            rc = record_point(m, eval, eval_set, run, t, steps, examples);
            while (next < n_grid - 1 && grid[next] <= t) next++;
        }
    }
    ol_optim_free(opt);
    ol_sampler_free(&sampler);
    return rc;
}

static double final_loss(const mb_run *r) {
    double v = r->loss[r->n_points - 1];
    return isfinite(v) && !r->diverged ? v : INFINITY;
}

/* ==== 3. IID against shuffled epochs ==== */

typedef struct {
    double loss[2][MAX_SEEDS][MAX_EPOCHS + 1];   /* [sampler][seed][epoch], epoch 0 = initial */
    long steps[MAX_EPOCHS + 1];
    int sampler, seed;                           /* the run on_epoch writes for */
} mb_sampling;

static void on_epoch(void *userdata, long epoch, const ol_train_result *r) {
    mb_sampling *s = userdata;
    if (epoch >= 1 && epoch <= MAX_EPOCHS) {
        s->loss[s->sampler][s->seed][epoch] = r->train_loss_full;
        s->steps[epoch] = r->steps;
    }
}

/* The fraction of examples an IID epoch (n draws with replacement) reaches at least once. */
static double iid_coverage(uint32_t n, uint32_t batch, uint64_t seed) {
    ol_sampler s;
    unsigned char *seen = calloc(n, 1);
    if (!seen || ol_sampler_init(&s, OL_SAMPLER_IID, n, batch, seed)) {
        free(seen);
        return NAN;
    }
    const uint32_t *idx;
    uint32_t k, distinct = 0;
    while ((k = ol_sampler_next(&s, &idx)) > 0)
        for (uint32_t i = 0; i < k; i++)
            if (!seen[idx[i]]) seen[idx[i]] = 1, distinct++;
    ol_sampler_free(&s);
    free(seen);
    return (double)distinct / n;
}

static int sampling_experiment(const ol_lab_ctx *ctx, ol_mlp *m, ol_mlp_graph *eval, ol_dataset *train,
                               const mb_plan *p, double lr, mb_sampling *out) {
    static const int kinds[2] = {OL_SAMPLER_SHUFFLE, OL_SAMPLER_IID};
    ol_dataset subset = *train;
    subset.n = p->sampler_n < train->n ? p->sampler_n : train->n;
    subset.owns = 0;
    /* the rate decays to 0 along a cosine over the run, the same for both samplers: at a constant
     * rate the noise of the last steps moves the end loss more than the samplers differ */
    long steps_per_epoch = ((long)subset.n + p->sampler_batch - 1) / p->sampler_batch;
    char schedule[96];
    snprintf(schedule, sizeof schedule, "cosine:t_max=%ld,eta_min=0", steps_per_epoch * p->sampler_epochs);
    for (int seed = 0; seed < p->sampler_seeds; seed++) {
        for (int k = 0; k < 2; k++) {
            ol_train_config c = ol_train_default_config();
            c.model = m;
            c.opt = "sgd";
            c.lr = lr;
            c.batch = p->sampler_batch;
            c.epochs = p->sampler_epochs;
            c.seed = ctx->seed * 1000003u + 101u * (uint64_t)seed;   /* same for both samplers */
            c.sampler = kinds[k];
            c.schedule = schedule;
            c.quiet = 1;
            c.skip_test = 1;
            c.eval_train = 1;
            c.on_epoch = on_epoch;
            c.userdata = out;
            out->sampler = k;
            out->seed = seed;
            ol_mlp_init(m, c.seed);
            double acc;
            int rc = ol_evaluate(m, eval, &subset, &out->loss[k][seed][0], &acc);
            ol_train_result r;
            if (!rc) rc = ol_train_fit(&c, &subset, NULL, &r);
            if (rc) return rc;
        }
        ol_lab_log(ctx, "sampling seed %d: shuffle %.4f, iid %.4f after %d epochs", seed,
                   out->loss[0][seed][p->sampler_epochs], out->loss[1][seed][p->sampler_epochs], p->sampler_epochs);
    }
    out->steps[0] = 0;
    return OL_OK;
}

/* Mean, min and max over seeds at each epoch. */
static void seed_stats(const mb_sampling *s, int kind, int n_seeds, int n_epochs, double *mean, double *lo, double *hi) {
    for (int e = 0; e <= n_epochs; e++) {
        double sum = 0, a = INFINITY, b = -INFINITY;
        for (int k = 0; k < n_seeds; k++) {
            double v = s->loss[kind][k][e];
            sum += v;
            a = fmin(a, v);
            b = fmax(b, v);
        }
        mean[e] = sum / n_seeds;
        lo[e] = a;
        hi[e] = b;
    }
}

/* ==== the report ==== */

static int figure_cost(ol_lab_ctx *ctx, const char *spec, const mb_cost *cost, int n_cost) {
    char path[4096];
    ol_csv *csv = NULL;
    int rc = ol_csv_open(&csv, ol_lab_path(ctx, "minibatch_gradient_cost.csv", path, sizeof path),
                         "n_examples,repeats,convert_ms,grad_ms,grad_min_ms,grad_max_ms,grad_us_per_example");
    for (int i = 0; !rc && i < n_cost; i++) {
        double row[7] = {(double)cost[i].n, cost[i].repeats, cost[i].convert_ms, cost[i].grad_ms,
                         cost[i].grad_min_ms, cost[i].grad_max_ms, 1e3 * cost[i].grad_ms / (double)cost[i].n};
        rc = ol_csv_row(csv, row, 7);
    }
    if (rc) { ol_csv_abort(csv); return rc; }
    if ((rc = ol_csv_close(csv))) return rc;

    double n[MAX_NS], t[MAX_NS], lo[MAX_NS], hi[MAX_NS], conv[MAX_NS], ref[MAX_NS];
    const mb_cost *last = &cost[n_cost - 1];
    for (int i = 0; i < n_cost; i++) {
        n[i] = (double)cost[i].n;
        t[i] = cost[i].grad_ms;
        lo[i] = cost[i].grad_min_ms;
        hi[i] = cost[i].grad_max_ms;
        conv[i] = cost[i].convert_ms;
        ref[i] = last->grad_ms * n[i] / (double)last->n;
    }
    ol_plot *plot = ol_plot_new("The cost of one gradient against the examples in it",
                                "examples in the gradient N (log scale)", "wall-clock time (ms, log scale)");
    if (!plot) return OL_ENOMEM;
    ol_plot_log_x(plot, 1);
    ol_plot_log_y(plot, 1);
    int s = ol_plot_line(plot, "forward + backward (median, bars: min-max)", n, t, (size_t)n_cost);
    if (s >= 0) ol_plot_color(plot, s, 0);
    s = ol_plot_errorbars(plot, NULL, n, t, lo, hi, (size_t)n_cost);
    if (s >= 0) ol_plot_color(plot, s, 0);
    s = ol_plot_line(plot, "proportional to N (through the largest N)", n, ref, (size_t)n_cost);
    if (s >= 0) { ol_plot_color(plot, s, 6); ol_plot_dashed(plot, s, 1); }
    s = ol_plot_line(plot, "uint8 -> float conversion of the examples", n, conv, (size_t)n_cost);
    if (s >= 0) { ol_plot_color(plot, s, 1); ol_plot_markers(plot, s, 1); }
    double us_small = 1e3 * cost[0].grad_ms / (double)cost[0].n, us_large = 1e3 * last->grad_ms / (double)last->n;
    const char *why = us_small > 1.5 * us_large ? "; small products use the processor less well, so per example "
                                                  "the smallest batches are dearer"
                    : us_large > 1.5 * us_small ? "; the largest batches no longer fit in the processor's "
                                                  "caches, so per example they are dearer"
                                                : ", about the same per example";
    char caption[1024];
    snprintf(caption, sizeof caption,
             "Wall-clock time of one forward and backward pass of the %s over the first N training "
             "examples (median of %s repeats after a warm-up pass; threads as in the settings). "
             "Both axes are logarithmic: a line of slope 1 means time proportional to N. Over all %ld "
             "examples one exact gradient took %.1f ms, %.2f us per example; at N = %ld it took %.3f ms "
             "(%.2f us per example%s). One full-batch GD step costs as much as %.0f steps of %ld examples.",
             spec, ctx->quick ? "5" : "3 to 15", last->n, last->grad_ms, us_large, cost[0].n, cost[0].grad_ms, us_small, why,
             last->grad_ms / cost[0].grad_ms, cost[0].n);
    rc = ol_lab_figure(ctx, plot, "minibatch_gradient_cost.svg", "minibatch_gradient_cost.csv", caption);
    ol_plot_free(plot);
    return rc;
}

static int figure_time(ol_lab_ctx *ctx, const mb_plan *p, const mb_run *runs, int n_runs, int best_gd, int best_mb,
                       uint32_t n_train) {
    char path[4096];
    ol_csv *csv = NULL;
    int rc = ol_csv_open(&csv, ol_lab_path(ctx, "minibatch_loss_vs_time.csv", path, sizeof path),
                         "run,batch,lr,seconds,steps,epochs,loss,accuracy,diverged");
    for (int r = 0; !rc && r < n_runs; r++)
        for (int i = 0; !rc && i < runs[r].n_points; i++) {
            double row[9] = {r, (double)runs[r].batch, runs[r].lr, runs[r].seconds[i], (double)runs[r].steps[i],
                             runs[r].examples[i] / n_train, runs[r].loss[i], runs[r].acc[i], runs[r].diverged};
            rc = ol_csv_row(csv, row, 9);
        }
    if (rc) { ol_csv_abort(csv); return rc; }
    if ((rc = ol_csv_close(csv))) return rc;

    char title[128];
    const mb_run *gd = &runs[best_gd], *mb = &runs[best_mb];
    if (final_loss(mb) < final_loss(gd))
        snprintf(title, sizeof title, "Same %.1f s: mini-batches get much further than GD", p->budget);
    else
        snprintf(title, sizeof title, "Training loss against time, %.1f s per run", p->budget);
    ol_plot *plot = ol_plot_new(title, "training wall-clock time (s, log scale; evaluation excluded)",
                                "training loss (cross-entropy)");
    if (!plot) return OL_ENOMEM;
    ol_plot_log_x(plot, 1);
    ol_plot_x_range(plot, p->budget * 1e-3, NAN);
    /* up to a little above the initial loss: a diverging run leaves through the top */
    ol_plot_y_range(plot, 0, 1.15 * runs[0].loss[0]);
    int colour = 0;
    for (int r = 0; r < n_runs; r++) {
        const mb_run *run = &runs[r];
        char label[128];
        if (run->full)
            snprintf(label, sizeof label, "full batch (%ld), lr %g%s%s", run->batch, run->lr,
                     r == best_gd ? ", best of 3" : "", run->diverged ? ", diverged" : "");
        else
            snprintf(label, sizeof label, "batch %ld, lr %.3g%s", run->batch, run->lr, run->diverged ? ", diverged" : "");
        /* the t = 0 point has no place on a log axis: it is the reference line below */
        int s = ol_plot_line(plot, label, run->seconds + 1, run->loss + 1, (size_t)(run->n_points - 1));
        if (s < 0) continue;
        if (run->full) {
            ol_plot_color(plot, s, 6);
            ol_plot_markers(plot, s, 1);
            if (r != best_gd) ol_plot_dashed(plot, s, 1);
        } else {
            ol_plot_color(plot, s, colour++);
        }
    }
    ol_plot_hline(plot, runs[0].loss[0], "loss at initialization");
    char caption[1536];
    snprintf(caption, sizeof caption,
             "Plain SGD on the same MLP from the same initialization, each run stopped after %.1f s of "
             "training (the step in progress finishes); the training loss is measured on the first %u "
             "training examples at log-spaced times, and that evaluation is not counted. Batches are shuffled "
             "epochs; learning rates follow lr = %g sqrt(B/8), capped at %g; full-batch GD (black, "
             "a marker after each step) gets three rates: the best is solid, the others dashed; a curve "
             "that leaves through the top had too large a rate. In the budget, batch %ld took "
             "%ld steps (%.1f epochs) and reached %.3f; full-batch GD took %ld steps and reached %.3f. "
             "Time is wall-clock: the curves differ from run to run and machine to machine.",
             p->budget, p->eval_n < n_train ? p->eval_n : n_train, LR_AT_8, LR_CAP, mb->batch, mb->steps[mb->n_points - 1],
             mb->examples[mb->n_points - 1] / n_train, mb->loss[mb->n_points - 1], gd->steps[gd->n_points - 1],
             gd->loss[gd->n_points - 1]);
    rc = ol_lab_figure(ctx, plot, "minibatch_loss_vs_time.svg", "minibatch_loss_vs_time.csv", caption);
    ol_plot_free(plot);
    if (rc) return rc;

    /* the same runs as numbers */
    static const char *const header[6] = {"batch", "lr", "steps", "epochs", "ms per step", "final loss"};
    char cells[MAX_RUNS][6][32];
    const char *cell_ptr[MAX_RUNS * 6];
    for (int r = 0; r < n_runs; r++) {
        const mb_run *run = &runs[r];
        int last = run->n_points - 1;
        if (run->full) snprintf(cells[r][0], 32, "full (%ld)", run->batch);
        else snprintf(cells[r][0], 32, "%ld", run->batch);
        snprintf(cells[r][1], 32, "%.3g", run->lr);
        snprintf(cells[r][2], 32, "%ld", run->steps[last]);
        snprintf(cells[r][3], 32, "%.2f", run->examples[last] / n_train);
        snprintf(cells[r][4], 32, "%.3f", run->steps[last] ? 1e3 * run->seconds[last] / run->steps[last] : NAN);
        if (run->diverged) snprintf(cells[r][5], 32, "diverged");
        else snprintf(cells[r][5], 32, "%.4f", run->loss[last]);
        for (int c = 0; c < 6; c++) cell_ptr[r * 6 + c] = cells[r][c];
    }
    return ol_report_table(ctx->report, 6, header, n_runs, cell_ptr);
}

static int figure_sampling(ol_lab_ctx *ctx, const mb_plan *p, const mb_sampling *s, double lr, uint32_t n,
                           double shuffle_final, double iid_final) {
    char path[4096];
    ol_csv *csv = NULL;
    int rc = ol_csv_open(&csv, ol_lab_path(ctx, "minibatch_sampling.csv", path, sizeof path),
                         "sampler,seed,epoch,steps,loss");
    for (int k = 0; !rc && k < 2; k++)
        for (int seed = 0; !rc && seed < p->sampler_seeds; seed++)
            for (int e = 0; !rc && e <= p->sampler_epochs; e++) {
                if (!rc) rc = ol_csv_str(csv, k == 0 ? "shuffle" : "iid");
                if (!rc) rc = ol_csv_int(csv, seed);
                if (!rc) rc = ol_csv_int(csv, e);
                if (!rc) rc = ol_csv_int(csv, s->steps[e]);
                if (!rc) rc = ol_csv_num(csv, s->loss[k][seed][e]);
                if (!rc) rc = ol_csv_end_row(csv);
            }
    if (rc) { ol_csv_abort(csv); return rc; }
    if ((rc = ol_csv_close(csv))) return rc;

    int epochs = p->sampler_epochs, seeds = p->sampler_seeds;
    double x[MAX_EPOCHS + 1], mean[MAX_EPOCHS + 1], lo[MAX_EPOCHS + 1], hi[MAX_EPOCHS + 1];
    for (int e = 0; e <= epochs; e++) x[e] = e;
    char title[160];
    snprintf(title, sizeof title, "Shuffled epochs against IID sampling (batch %ld)", p->sampler_batch);
    ol_plot *plot = ol_plot_new(title, "epoch (n examples drawn per epoch)",
                                "training loss (cross-entropy, log scale)");
    if (!plot) return OL_ENOMEM;
    ol_plot_log_y(plot, 1);
    ol_plot_y_range(plot, NAN, 1.1 * s->loss[0][0][0]);
    for (int k = 0; k < 2; k++) {
        seed_stats(s, k, seeds, epochs, mean, lo, hi);
        int b = ol_plot_band(plot, NULL, x, lo, hi, (size_t)epochs + 1);
        if (b >= 0) ol_plot_color(plot, b, k);
        char label[96];
        snprintf(label, sizeof label, "%s (mean of %d seeds, band: min-max)",
                 k == 0 ? "shuffled epochs" : "IID, with replacement", seeds);
        int l = ol_plot_line(plot, label, x, mean, (size_t)epochs + 1);
        if (l >= 0) { ol_plot_color(plot, l, k); ol_plot_markers(plot, l, 1); }
    }
    char caption[1024];
    snprintf(caption, sizeof caption,
             "Plain SGD on the first n = %u training examples, batch %ld, lr %.3g decaying to 0 along a "
             "cosine over the %d epochs (the same for both), %d seeds; each seed starts both samplers "
             "from the same initialization. An epoch is %ld steps either way: shuffling visits every "
             "example once, IID draws n examples with replacement. The two curves nearly coincide; after "
             "%d epochs the mean loss is %.4f with shuffled epochs and %.4f with IID sampling (the next "
             "figure shows the difference).",
             n, p->sampler_batch, lr, epochs, seeds, s->steps[1], epochs, shuffle_final, iid_final);
    rc = ol_lab_figure(ctx, plot, "minibatch_sampling.svg", "minibatch_sampling.csv", caption);
    ol_plot_free(plot);
    if (rc) return rc;

    /* the paired difference, seed by seed */
    double gap_mean[MAX_EPOCHS + 1], gap_lo[MAX_EPOCHS + 1], gap_hi[MAX_EPOCHS + 1];
    int ahead[MAX_EPOCHS + 1];
    if ((rc = ol_csv_open(&csv, ol_lab_path(ctx, "minibatch_sampling_gap.csv", path, sizeof path),
                          "epoch,gap_mean,gap_min,gap_max,seeds_shuffle_lower")))
        return rc;
    for (int e = 0; e <= epochs; e++) {
        double sum = 0, a = INFINITY, b = -INFINITY;
        ahead[e] = 0;
        for (int k = 0; k < seeds; k++) {
            double gap = s->loss[1][k][e] - s->loss[0][k][e];
            sum += gap;
            a = fmin(a, gap);
            b = fmax(b, gap);
            ahead[e] += gap > 0;
        }
        gap_mean[e] = sum / seeds;
        gap_lo[e] = a;
        gap_hi[e] = b;
        double row[5] = {e, gap_mean[e], a, b, ahead[e]};
        if (!rc) rc = ol_csv_row(csv, row, 5);
    }
    if (rc) { ol_csv_abort(csv); return rc; }
    if ((rc = ol_csv_close(csv))) return rc;
    plot = ol_plot_new("IID loss minus shuffled loss, seed by seed", "epoch",
                       "loss difference, IID - shuffled (> 0: shuffling is ahead)");
    if (!plot) return OL_ENOMEM;
    int b = ol_plot_band(plot, NULL, x + 1, gap_lo + 1, gap_hi + 1, (size_t)epochs);
    if (b >= 0) ol_plot_color(plot, b, 2);
    char label[96];
    snprintf(label, sizeof label, "mean over %d seeds (band: min-max)", seeds);
    int l = ol_plot_line(plot, label, x + 1, gap_mean + 1, (size_t)epochs);
    if (l >= 0) { ol_plot_color(plot, l, 2); ol_plot_markers(plot, l, 1); }
    ol_plot_hline(plot, 0, "no difference");
    int from = epochs + 1;                      /* first epoch from which shuffling leads every seed */
    while (from > 1 && ahead[from - 1] == seeds) from--;
    char since[160] = "";
    if (from == 1) snprintf(since, sizeof since, " Shuffling leads for every seed at every epoch.");
    else if (from < epochs)
        snprintf(since, sizeof since, " From epoch %d on, shuffling leads for every seed (before, not for all).", from);
    snprintf(caption, sizeof caption,
             "The same runs as the previous figure, as the difference of the two samplers' losses for "
             "each seed (same initialization, same learning rates). Above zero, shuffled epochs have the "
             "lower loss. At the last epoch shuffling is ahead for %d of %d seeds; the mean difference is "
             "%+.4f (%+.1f%% of the IID loss).%s",
             ahead[epochs], seeds, gap_mean[epochs], 100.0 * gap_mean[epochs] / iid_final, since);
    rc = ol_lab_figure(ctx, plot, "minibatch_sampling_gap.svg", "minibatch_sampling_gap.csv", caption);
    ol_plot_free(plot);
    return rc;
}

int ol_lab_minibatch(ol_lab_ctx *ctx) {
    const mb_plan *p = ctx->quick ? &plan_quick : &plan_full;
    ol_dataset *train, *test;
    int rc = ol_lab_data(ctx, &train, &test);
    if (rc) return rc;
    if (train->n < 16) return ol_fail(OL_EARG, "the minibatch lab needs at least 16 training examples, got %u", train->n);

    ol_mlp m;
    ol_mlp_graph mg, eval;
    memset(&m, 0, sizeof m);
    memset(&mg, 0, sizeof mg);
    memset(&eval, 0, sizeof eval);
    uint32_t *identity = NULL;
    mb_cost cost[MAX_NS];
    mb_run *runs = calloc(MAX_RUNS, sizeof *runs);
    mb_sampling *sampling = calloc(1, sizeof *sampling);
    int n_cost = 0, n_runs = 0;
    if (!runs || !sampling) { rc = ol_fail(OL_ENOMEM, "out of memory"); goto out; }

    char spec[128];
    snprintf(spec, sizeof spec, "mlp:%zu-%d-%d", ol_dataset_dim(train), HIDDEN, train->n_classes);
    if ((rc = ol_mlp_create(&m, spec, 0))) goto out;
    double mean, std;
    if ((rc = ol_data_stats(train, &mean, &std))) goto out;
    m.input_mean = (float)mean;
    m.input_inv_std = (float)(std > 0 ? 1.0 / std : 1.0);
    ol_mlp_init(&m, ctx->seed);
    /* one graph for every batch size up to the whole training set, one for evaluation */
    if ((rc = ol_mlp_graph_build(&m, &mg, (int)train->n, 1))) goto out;
    if ((rc = ol_mlp_graph_build(&m, &eval, EVAL_GRAPH_BATCH, 0))) goto out;
    if (!(identity = ol_malloc_array(train->n, sizeof *identity))) { rc = OL_ENOMEM; goto out; }
    for (uint32_t i = 0; i < train->n; i++) identity[i] = i;

    /* 1. */
    double t_part = ol_now_seconds();
    clock_t cpu_part = clock();
    ol_lab_log(ctx, "1/3 the cost of one gradient (%s)", spec);
    if ((rc = gradient_cost(ctx, &m, &mg, train, identity, p, cost, &n_cost))) goto out;

    /* 2. */
    part_done(ctx, &t_part, &cpu_part);
    ol_lab_log(ctx, "2/3 loss against time, %.1f s per run", p->budget);
    double grid[MAX_POINTS];
    for (int k = 0; k < p->n_grid; k++) grid[k] = p->budget * pow(10.0, -2.5 * (1.0 - (double)k / (p->n_grid - 1)));
    ol_dataset eval_set = *train;
    eval_set.n = p->eval_n < train->n ? p->eval_n : train->n;
    eval_set.owns = 0;
    uint64_t run_seed = ctx->seed ^ 0x4d42ull;
    for (int b = 0; b < p->n_batches && p->batches[b] < (long)train->n; b++) {
        mb_run *run = &runs[n_runs++];
        run->batch = p->batches[b];
        run->lr = lr_for_batch(run->batch);
        if ((rc = timed_run(&m, &mg, &eval, train, &eval_set, grid, p->n_grid, run_seed, run))) goto out;
        ol_lab_log(ctx, "batch %ld lr %.3g: %ld steps, loss %.4f", run->batch, run->lr, run->steps[run->n_points - 1],
                   run->loss[run->n_points - 1]);
    }
    int first_gd = n_runs, best_gd = -1, best_mb = -1;
    for (int k = 0; k < 3; k++) {
        mb_run *run = &runs[n_runs++];
        run->batch = train->n;
        run->full = 1;
        run->lr = p->gd_lrs[k];
        if ((rc = timed_run(&m, &mg, &eval, train, &eval_set, grid, p->n_grid, run_seed, run))) goto out;
        ol_lab_log(ctx, "full batch lr %.3g: %ld steps, loss %.4f", run->lr, run->steps[run->n_points - 1],
                   run->loss[run->n_points - 1]);
    }
    for (int r = 0; r < n_runs; r++) {
        int *best = r < first_gd ? &best_mb : &best_gd;
        if (*best < 0 || final_loss(&runs[r]) < final_loss(&runs[*best])) *best = r;
    }
    if (best_mb < 0) { rc = ol_fail(OL_EARG, "the training set (%u examples) is too small for mini-batches", train->n); goto out; }

    /* 3. */
    part_done(ctx, &t_part, &cpu_part);
    ol_lab_log(ctx, "3/3 shuffled epochs against IID sampling");
    double sampler_lr = lr_for_batch(p->sampler_batch);
    if ((rc = sampling_experiment(ctx, &m, &eval, train, p, sampler_lr, sampling))) goto out;
    uint32_t sampler_n = p->sampler_n < train->n ? p->sampler_n : train->n;
    double mean_curve[2][MAX_EPOCHS + 1], lo[MAX_EPOCHS + 1], hi[MAX_EPOCHS + 1];
    for (int k = 0; k < 2; k++) seed_stats(sampling, k, p->sampler_seeds, p->sampler_epochs, mean_curve[k], lo, hi);
    part_done(ctx, &t_part, &cpu_part);
    double shuffle_final = mean_curve[0][p->sampler_epochs], iid_final = mean_curve[1][p->sampler_epochs];
    int shuffle_wins = 0;
    for (int seed = 0; seed < p->sampler_seeds; seed++)
        shuffle_wins += sampling->loss[0][seed][p->sampler_epochs] < sampling->loss[1][seed][p->sampler_epochs];
    double coverage = iid_coverage(sampler_n, (uint32_t)p->sampler_batch, ctx->seed);

    /* ---- the section: the challenge, the takeaway, then the three experiments ---- */
    const mb_cost *big = &cost[n_cost - 1];
    const mb_run *gd = &runs[best_gd], *mb = &runs[best_mb];
    int gd_last = gd->n_points - 1, mb_last = mb->n_points - 1;
    ol_report_paragraph(ctx->report,
        "Gradient descent takes one step per pass over the whole training set: the exact gradient is "
        "the average of n per-example gradients, so it costs n times one example. Mini-batch SGD "
        "takes a step after only B examples, with a noisy estimate of that average: each step is "
        "worse, but for the price of one exact step it takes n/B of them. The lab measures the price "
        "of one gradient against the number of examples in it, then gives SGD with batch sizes from "
        "8 up to the whole training set (n = %u) the same wall-clock budget, and finally compares the "
        "two ways to pick the mini-batches: IID draws with replacement and shuffled epochs.",
        train->n);
    ol_lab_record(ctx, "grad_n", (double)big->n);
    ol_lab_record(ctx, "grad_ms", big->grad_ms);
    ol_lab_record(ctx, "grad_us_per_example", 1e3 * big->grad_ms / (double)big->n);
    ol_lab_record(ctx, "grad_n_small", (double)cost[0].n);
    ol_lab_record(ctx, "grad_ms_small", cost[0].grad_ms);
    ol_lab_record(ctx, "budget_seconds", p->budget);
    ol_lab_record(ctx, "best_batch", (double)mb->batch);
    ol_lab_record(ctx, "best_batch_lr", mb->lr);
    ol_lab_record(ctx, "best_batch_steps", (double)mb->steps[mb_last]);
    ol_lab_record(ctx, "best_batch_loss", mb->loss[mb_last]);
    ol_lab_record(ctx, "full_batch_n", (double)gd->batch);
    ol_lab_record(ctx, "full_batch_lr", gd->lr);
    ol_lab_record(ctx, "full_batch_steps", (double)gd->steps[gd_last]);
    ol_lab_record(ctx, "full_batch_loss", gd->loss[gd_last]);
    ol_lab_record(ctx, "sampler_epochs", p->sampler_epochs);
    ol_lab_record(ctx, "sampler_seeds", p->sampler_seeds);
    ol_lab_record(ctx, "shuffle_final_loss", shuffle_final);
    ol_lab_record(ctx, "iid_final_loss", iid_final);
    ol_lab_record(ctx, "shuffle_wins", shuffle_wins);
    rc = ol_lab_takeaway(ctx,
        "One full gradient over {grad_n:.0f} examples took {grad_ms:.1f} ms ({grad_us_per_example:.2f} us per example); "
        "in {budget_seconds:.1f} s of training, batch {best_batch:.0f} ({best_batch_steps:.0f} steps) reached loss "
        "{best_batch_loss:.3g} while full-batch GD ({full_batch_steps:.0f} step%s, best of %d learning rates) reached "
        "{full_batch_loss:.3g}; after {sampler_epochs:.0f} epochs shuffled epochs ended at {shuffle_final_loss:.4g} vs "
        "IID {iid_final_loss:.4g} (mean of {sampler_seeds:.0f} seeds).",
        gd->steps[gd_last] == 1 ? "" : "s", (int)(sizeof p->gd_lrs / sizeof p->gd_lrs[0]));
    if (rc) goto out;
    ol_lab_record(ctx, "iid_epoch_coverage", coverage);

    ol_report_heading(ctx->report, "The price of one gradient");
    ol_report_paragraph(ctx->report,
        "One forward and backward pass of the %s over the first N training examples, timed with a "
        "wall clock: the exact gradient is an average over N examples, so its cost grows in step with N.",
        spec);
    if ((rc = figure_cost(ctx, spec, cost, n_cost))) goto out;
    /* issue 18's demo 4: the same measurement in the page, then the race under a time budget */
    if ((rc = ol_lab_page_data(ctx))) goto out;
    if ((rc = ol_report_panel(ctx->report, "gradcost",
                              "Time one forward and backward pass in this page, from one example to all of them: "
                              "see how much less than in proportion a gradient over many examples costs, and how "
                              "many small-batch steps one full-batch step is worth."))) goto out;

    ol_report_heading(ctx->report, "The same time budget for every batch size");
    ol_report_paragraph(ctx->report,
        "Each run trains the same network from the same initialization with plain SGD for %.1f s of "
        "wall-clock time. Small batches take many cheap, noisy steps; full-batch GD takes a few exact "
        "but expensive ones. Larger batches average away more noise and can take a larger learning "
        "rate (here lr = %g sqrt(B/8), capped at %g: the square-root rule); full-batch GD runs at "
        "lr %g, %g and %g and the best of the three counts, so that its learning rate is not what "
        "holds it back.",
        p->budget, LR_AT_8, LR_CAP, p->gd_lrs[0], p->gd_lrs[1], p->gd_lrs[2]);
    if ((rc = figure_time(ctx, p, runs, n_runs, best_gd, best_mb, train->n))) goto out;
    if ((rc = ol_report_panel(ctx->report, "race",
                              "Type batch sizes and learning rates, pick a time budget and race them one after "
                              "another: which batch size gets the training loss below 0.5 within 5 seconds?"))) goto out;

    ol_report_heading(ctx->report, "Picking the mini-batches: IID draws or shuffled epochs");
    ol_report_paragraph(ctx->report,
        "The lecture allows both: draw each mini-batch at random (IID, with replacement), or shuffle "
        "the training set once per epoch and cut it into batches in order. With IID draws some examples "
        "come twice in an epoch and others not at all: in this run one IID epoch over %u examples "
        "reached %.1f%% of them (1 - 1/e = 63.2%% in expectation). Shuffled epochs see every example "
        "exactly once per epoch; in theory this 'random reshuffling' converges faster once the noise "
        "of the steps dominates (Gürbüzbalaban, Ozdaglar and Parrilo 2021). Both samplers run with the "
        "same seeds, batch size and learning rate, which decays to 0 along a cosine so that the noise "
        "of the last steps does not hide the difference. Here shuffling ended lower for %d of %d seeds.",
        sampler_n, 100 * coverage, shuffle_wins, p->sampler_seeds);
    if ((rc = figure_sampling(ctx, p, sampling, sampler_lr, sampler_n, shuffle_final, iid_final))) goto out;

out:
    free(identity);
    ol_mlp_graph_free(&eval);
    ol_mlp_graph_free(&mg);
    ol_mlp_free(&m);
    free(runs);
    free(sampling);
    return rc;
}
