/* lrfind.c: the learning-rate range test (see include/optlab/lrfind.h): an exponential sweep of
 * the lr over one mini-batch per step, the smoothed loss curve, and the suggested lr. Its own
 * small training loop (sampler -> batch -> forward/backward -> set lr -> step), as train.c's,
 * so that every step can use its own lr. Not here: plotting beyond the one figure, the CLI. */
#include "optlab/lrfind.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/csv.h"
#include "optlab/optim.h"
#include "optlab/sampler.h"
#include "optlab/train.h"

ol_lrfind_config ol_lrfind_default_config(void) {
    ol_lrfind_config c;
    memset(&c, 0, sizeof c);
    c.opt = "sgd";
    c.batch = 64;
    c.start_lr = 1e-6;
    c.end_lr = 10;
    c.steps = 100;
    c.beta = 0.98;
    c.diverge_factor = 4;
    c.seed = 1;
    return c;
}

void ol_lrfind_result_free(ol_lrfind_result *r) {
    free(r->step);   /* one block for the four columns */
    memset(r, 0, sizeof *r);
}

static int check_config(const ol_lrfind_config *c) {
    if (!(c->start_lr > 0) || !isfinite(c->start_lr))
        return ol_fail(OL_EARG, "lr-find: the start lr must be a finite number > 0, got %g", c->start_lr);
    if (!(c->end_lr > c->start_lr) || !isfinite(c->end_lr))
        return ol_fail(OL_EARG, "lr-find: the end lr must be finite and above the start lr %g, got %g", c->start_lr,
                       c->end_lr);
    if (c->steps < 2 || c->steps > 10000000)
        return ol_fail(OL_EARG, "lr-find: steps must be in [2, 10000000], got %ld", c->steps);
    if (c->batch < 1) return ol_fail(OL_EARG, "lr-find: the batch must be >= 1, got %ld", c->batch);
    if (!(c->beta >= 0 && c->beta < 1)) return ol_fail(OL_EARG, "lr-find: beta must be in [0, 1), got %g", c->beta);
    if (!(c->diverge_factor > 1) || !isfinite(c->diverge_factor))
        return ol_fail(OL_EARG, "lr-find: the divergence factor must be a finite number > 1, got %g", c->diverge_factor);
    if (c->train_subset < 0) return ol_fail(OL_EARG, "lr-find: the subset must be >= 0, got %ld", c->train_subset);
    if (!c->model && !c->model_spec) return ol_fail(OL_EARG, "lr-find: no model spec");
    return OL_OK;
}

int ol_lrfind_check(const ol_lrfind_config *c) {
    int rc = check_config(c);
    if (rc) return rc;
    ol_optim *opt;
    if ((rc = ol_optim_create(&opt, c->opt ? c->opt : "sgd", c->start_lr))) return rc;
    int kind = ol_optim_kind(opt);
    ol_optim_free(opt);
    if (kind == OL_OPTIM_RANDOM)
        return ol_fail(OL_EARG, "lr-find: random search does not use a learning rate; pick a gradient method");
    if (kind == OL_OPTIM_RPROP)
        return ol_fail(OL_EARG, "lr-find: rprop takes the lr only as its first step size and adapts each weight's "
                       "own from there, so sweeping the lr measures nothing; choose its lr by a short training run");
    if (c->model) return OL_OK;
    ol_mlp m;
    if ((rc = ol_mlp_create(&m, c->model_spec, (size_t)8 << 30))) return rc;
    ol_mlp_free(&m);
    return OL_OK;
}

/* The lr of step i of the sweep: start (end/start)^(i/(steps-1)), the last one exactly end. ratio is
 * log(end/start), or log(end) - log(start) when end/start overflows (1e-300 to 1e300); a product
 * that overflows on the way up is taken in logarithms (the usual sweeps keep their exact values). */
static double sweep_lr(const ol_lrfind_config *c, double ratio, long i) {
    if (i + 1 == c->steps) return c->end_lr;
    double e = ratio * (double)i / (double)(c->steps - 1), lr = c->start_lr * exp(e);
    return isfinite(lr) && lr > 0 ? lr : exp(log(c->start_lr) + e);
}

/* The closure of optimizers that evaluate the loss themselves (lbfgs): loss and gradient of the
 * step's batch, already in the graph's input */
static int batch_closure(void *userdata, double *f) {
    ol_mlp_graph *mg = userdata;
    int rc = ol_ad_forward(mg->g);
    if (!rc) rc = ol_ad_backward_set(mg->g, mg->loss, 1.0);
    *f = rc ? NAN : ol_ad_scalar(mg->g, mg->loss);
    return rc;
}

/* The minimum, the steepest descent and the suggestion from the recorded curve. */
static void summarize(ol_lrfind_result *r) {
    long n = r->n_points - (r->diverged ? 1 : 0);   /* the divergent point takes no part */
    if (n < 1) n = 1;
    long imin = 0;
    for (long i = 1; i < n; i++)
        if (r->smooth[i] < r->smooth[imin]) imin = i;
    r->min_index = imin;
    r->min_lr = r->lr[imin];
    r->min_smooth = r->smooth[imin];
    /* slope of smooth against log10 lr: central differences inside, one-sided at the ends
     * (numpy.gradient), from the first tenth of the points on (the first averages hold few losses
     * and jump, as fastai's skip_start) up to the minimum (past it the loss rises) */
    long isteep = imin, from = n / 10 > 1 ? n / 10 : 1;
    double best_slope = INFINITY;
    for (long i = from; i <= imin; i++) {
        long a = i > 0 ? i - 1 : 0, b = i + 1 < n ? i + 1 : n - 1;
        double slope = (r->smooth[b] - r->smooth[a]) / (log10(r->lr[b]) - log10(r->lr[a]));
        if (slope < best_slope) best_slope = slope, isteep = i;
    }
    r->steep_index = isteep;
    r->steep_lr = r->lr[isteep];
    r->suggested_lr = r->steep_lr;
}

int ol_lrfind_run(const ol_lrfind_config *c, const ol_dataset *train_in, ol_lrfind_result *r) {
    memset(r, 0, sizeof *r);
    int rc = ol_lrfind_check(c);
    if (rc) return rc;
    if (train_in->n == 0) return ol_fail(OL_EARG, "lr-find: the training set is empty");
    ol_dataset train = *train_in;                       /* a view: only n may shrink */
    train.owns = 0;
    if (c->train_subset > 0 && (uint64_t)c->train_subset < train.n) train.n = (uint32_t)c->train_subset;

    ol_mlp own, *m = c->model;
    ol_mlp_graph mg;
    ol_sampler sampler;
    ol_optim *opt = NULL;
    memset(&own, 0, sizeof own);
    memset(&mg, 0, sizeof mg);
    memset(&sampler, 0, sizeof sampler);
    if (!m) {
        if ((rc = ol_mlp_create(&own, c->model_spec, (size_t)8 << 30))) return rc;
        m = &own;
    }
    if ((rc = ol_train_check_data(m, &train))) goto out;
    if (!c->model) {
        if (c->normalize) {
            double mean, std;
            if ((rc = ol_data_stats(&train, &mean, &std))) goto out;
            if (!(std > 0)) { rc = ol_fail(OL_EARG, "--normalize: the training images are constant (std 0)"); goto out; }
            m->input_mean = (float)mean;
            m->input_inv_std = (float)(1.0 / std);
        }
        ol_mlp_init(m, c->seed);
    }
    uint32_t batch = (uint64_t)c->batch > train.n ? train.n : (uint32_t)c->batch;
    if ((rc = ol_mlp_graph_build(m, &mg, (int)batch, 1))) goto out;
    if ((rc = ol_optim_create(&opt, c->opt ? c->opt : "sgd", c->start_lr))) goto out;
    if ((rc = ol_train_add_groups(opt, m, 0))) goto out;
    ol_optim_set_closure(opt, batch_closure, &mg);
    /* the same derivation of the sampler seed as the training loop */
    if ((rc = ol_sampler_init(&sampler, OL_SAMPLER_SHUFFLE, train.n, batch, c->seed ^ 0xda7aull))) goto out;

    /* one allocation for the four columns */
    size_t n = (size_t)c->steps;
    r->step = ol_malloc_array(n, sizeof(long) + 3 * sizeof(double));
    if (!r->step) { rc = OL_ENOMEM; goto out; }
    r->lr = (double *)(r->step + n);
    r->loss = r->lr + n;
    r->smooth = r->loss + n;

    float *x = ol_ad_value(mg.g, mg.x);
    int32_t *y = ol_ad_labels(mg.g, mg.loss);
    double ratio = isfinite(c->end_lr / c->start_lr) ? log(c->end_lr / c->start_lr) : log(c->end_lr) - log(c->start_lr);
    double avg = 0, best = INFINITY, beta_pow = 1;
    for (long i = 0; i < c->steps; i++) {
        const uint32_t *idx;
        uint32_t k = ol_sampler_next(&sampler, &idx);
        if (k == 0) k = ol_sampler_next(&sampler, &idx);         /* the next epoch */
        if ((rc = ol_ad_set_batch(mg.g, (int)k))) goto out;
        ol_data_batch(&train, idx, k, x, y, m->input_mean, m->input_inv_std);
        if ((rc = ol_ad_forward(mg.g)) || (rc = ol_ad_backward_set(mg.g, mg.loss, 1.0))) goto out;
        double lr = sweep_lr(c, ratio, i);
        double loss = ol_ad_scalar(mg.g, mg.loss), smooth = NAN;
        int stop = !isfinite(loss);
        if (!stop) {
            avg = c->beta * avg + (1 - c->beta) * loss;
            beta_pow *= c->beta;
            smooth = avg / (1 - beta_pow);
            stop = smooth > c->diverge_factor * best;
            if (smooth < best) best = smooth;
        }
        r->step[i] = i + 1;
        r->lr[i] = lr;
        r->loss[i] = loss;
        r->smooth[i] = smooth;
        r->n_points = i + 1;
        if (i == 0) r->initial_loss = loss;
        if (stop) {
            r->diverged = 1;
            break;
        }
        if ((rc = ol_optim_set_lr(opt, -1, lr))) goto out;
        rc = ol_optim_step(opt);
        if (rc == OL_ENUMERIC) {            /* a non-finite gradient: the next loss would be too */
            rc = OL_OK;
            if (i + 1 < c->steps) {
                r->step[i + 1] = i + 2;
                r->lr[i + 1] = sweep_lr(c, ratio, i + 1);
                r->loss[i + 1] = r->smooth[i + 1] = NAN;
                r->n_points = i + 2;
            }
            r->diverged = 1;
            break;
        }
        if (rc) goto out;
    }
    if (r->n_points == 1 && r->diverged) {
        rc = ol_fail(OL_ENUMERIC, "lr-find: the loss of the first batch is %g: the model or data is broken", r->loss[0]);
        goto out;
    }
    summarize(r);
out:
    if (rc) ol_lrfind_result_free(r);
    ol_optim_free(opt);
    ol_sampler_free(&sampler);
    ol_mlp_graph_free(&mg);
    ol_mlp_free(&own);
    return rc;
}

int ol_lrfind_write_csv(const ol_lrfind_result *r, const char *path) {
    ol_csv *csv;
    int rc = ol_csv_open(&csv, path, "step,lr,loss,smooth_loss");
    for (long i = 0; !rc && i < r->n_points; i++) {
        double row[4] = {(double)r->step[i], r->lr[i], r->loss[i], r->smooth[i]};
        rc = ol_csv_row(csv, row, 4);
    }
    if (rc) {
        ol_csv_abort(csv);
        return rc;
    }
    return ol_csv_close(csv);
}

ol_plot *ol_lrfind_plot(const ol_lrfind_result *r, const char *title) {
    ol_plot *plot = ol_plot_new(title, "learning rate (log scale)", "training loss (cross-entropy, nats)");
    if (!plot) return NULL;
    ol_plot_log_x(plot, 1);
    /* up to 1.6x the initial loss: the blow-up at the end leaves through the top instead of
     * flattening the interesting part */
    double hi = fmax(r->initial_loss, r->smooth[0]);
    if (isfinite(hi) && hi > 0) ol_plot_y_range(plot, 0, 1.6 * hi);
    size_t n = (size_t)r->n_points;
    int s = ol_plot_line(plot, "mini-batch loss", r->lr, r->loss, n);
    if (s >= 0) ol_plot_color(plot, s, 5);
    s = ol_plot_line(plot, "smoothed loss (bias-corrected moving average)", r->lr, r->smooth, n);
    if (s >= 0) ol_plot_color(plot, s, 0);
    char text[96];
    snprintf(text, sizeof text, "lowest smoothed loss, lr %.3g", r->min_lr);
    ol_plot_point(plot, r->min_lr, r->min_smooth, text);
    snprintf(text, sizeof text, "suggested: steepest descent, lr %.3g", r->steep_lr);
    ol_plot_point(plot, r->steep_lr, r->smooth[r->steep_index], text);
    snprintf(text, sizeof text, "lowest / 10 = %.3g", r->min_lr / 10);
    ol_plot_vline(plot, r->min_lr / 10, text);
    return plot;
}
