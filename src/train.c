/* train.c: the training loop; see include/optlab/train.h.
 * One graph with gradients for the training batch, one without for evaluation, both over the
 * model's flat parameter block; the batch is converted from uint8 straight into the graph's input
 * buffer. Nothing is allocated inside the loop. */
#include "optlab/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "optlab/common.h"
#include "optlab/optim.h"
#include "optlab/tensor.h"

#define EVAL_BATCH 1000
#define MAX_MODEL_BYTES ((size_t)8 << 30)

ol_train_config ol_train_default_config(void) {
    ol_train_config c;
    memset(&c, 0, sizeof c);
    c.data = "fashion-mnist";
    c.model_spec = "mlp:784-256-10";
    c.opt = "sgd";
    c.lr = 0.1;
    c.batch = 128;
    c.epochs = 5;
    c.seed = 1;
    c.sampler = OL_SAMPLER_SHUFFLE;
    return c;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int ol_evaluate(ol_mlp *m, ol_mlp_graph *eval, const ol_dataset *d, double *loss, double *acc) {
    uint32_t idx[EVAL_BATCH];
    double loss_sum = 0;
    long correct = 0;
    if (d->n == 0) return ol_fail(OL_EARG, "cannot evaluate on an empty data set");
    for (uint32_t start = 0; start < d->n; start += EVAL_BATCH) {
        uint32_t n = d->n - start < EVAL_BATCH ? d->n - start : EVAL_BATCH;
        for (uint32_t i = 0; i < n; i++) idx[i] = start + i;
        int rc = ol_ad_set_batch(eval->g, (int)n);
        if (rc) return rc;
        ol_data_batch(d, idx, n, ol_ad_value(eval->g, eval->x), ol_ad_labels(eval->g, eval->loss), m->input_mean,
                      m->input_inv_std);
        if ((rc = ol_ad_forward(eval->g))) return rc;
        loss_sum += ol_ad_scalar(eval->g, eval->loss) * n;
        correct += ol_mlp_graph_correct(eval);
    }
    *loss = loss_sum / d->n;
    *acc = (double)correct / d->n;
    return OL_OK;
}

/* ---- progress bar on stderr (only when it is a terminal) ---- */
static void progress(long epoch, long epochs, uint32_t done, uint32_t total, double elapsed_epoch,
                     double elapsed_all, double epoch_guess) {
    const int width = 30;
    double frac = total ? (double)done / total : 1;
    int filled = (int)(frac * width);
    double per_epoch = frac > 0 ? elapsed_epoch / frac : epoch_guess;
    double eta = per_epoch * (1 - frac) + per_epoch * (double)(epochs - epoch);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "\repoch %ld/%ld [%s] %3.0f%%  %.1fs elapsed  ETA %.1fs  ", epoch, epochs, bar, 100 * frac,
            elapsed_all, eta);
    fflush(stderr);
}

/* ---- the run ---- */

typedef struct {
    ol_dataset *train, val;
    const ol_dataset *test;
    ol_mlp own_model, *m;
    ol_mlp_graph graph, eval;
    ol_optim *opt;
    ol_sampler sampler;
    ol_afile log;
    int log_open;
} run_state;

static void run_free(run_state *s) {
    if (s->log_open) ol_afile_abort(&s->log);
    ol_sampler_free(&s->sampler);
    ol_optim_free(s->opt);
    ol_mlp_graph_free(&s->graph);
    ol_mlp_graph_free(&s->eval);
    ol_mlp_free(&s->own_model);
    ol_dataset_free(&s->val);
}

static int check_config(const ol_train_config *c) {
    if (!(c->lr >= 0) || !isfinite(c->lr)) return ol_fail(OL_EARG, "--lr must be a finite number >= 0, got %g", c->lr);
    if (c->batch < 0) return ol_fail(OL_EARG, "--batch must be a positive whole number or 'full', got %ld", c->batch);
    if (c->epochs < 1 || c->epochs > 1000000) return ol_fail(OL_EARG, "--epochs must be in [1, 1000000], got %ld", c->epochs);
    if (!(c->val_split >= 0 && c->val_split < 1))
        return ol_fail(OL_EARG, "--val-split must be in [0, 1), got %g", c->val_split);
    if (c->clip_norm < 0 || c->clip_value < 0) return ol_fail(OL_EARG, "--clip-norm and --clip-value must be >= 0");
    if (c->clip_norm > 0 && c->clip_value > 0) return ol_fail(OL_EARG, "use --clip-norm or --clip-value, not both");
    if (c->warmup < 0) return ol_fail(OL_EARG, "--warmup must be >= 0, got %ld", c->warmup);
    if (c->threads < 0 || c->threads > 1024) return ol_fail(OL_EARG, "--threads must be in [1, 1024], got %d", c->threads);
    return OL_OK;
}

/* Registers the model's parameters: one group over the whole block, or (no_decay_bias) one per
 * weight and per bias, the biases with weight decay 0. */
static int add_groups(ol_optim *o, ol_mlp *m, int no_decay_bias) {
    if (!no_decay_bias) return ol_optim_add_group(o, m->params, m->grads, m->n_params, -1, -1);
    for (int l = 0; l < m->n_layers; l++) {
        size_t nw = (size_t)m->sizes[l] * m->sizes[l + 1];
        int rc = ol_optim_add_group(o, m->params + m->w_off[l], m->grads + m->w_off[l], nw, -1, -1);
        if (!rc) rc = ol_optim_add_group(o, m->params + m->b_off[l], m->grads + m->b_off[l], (size_t)m->sizes[l + 1], -1, 0);
        if (rc) return rc;
    }
    return OL_OK;
}

/* Loss of the batch now in the training graph, for derivative-free optimizers (random search). */
static double batch_objective(const void *x, void *userdata) {
    (void)x; /* the optimizer wrote the candidate into the parameter block itself */
    run_state *s = userdata;
    if (ol_ad_forward(s->graph.g)) return NAN;
    return ol_ad_scalar(s->graph.g, s->graph.loss);
}

/* Checks the model and optimizer specs and the data against the model before any work. */
static int prepare(const ol_train_config *c, run_state *s, ol_train_result *r) {
    int rc;
    if (c->model) s->m = c->model;
    else {
        if ((rc = ol_mlp_create(&s->own_model, c->model_spec, MAX_MODEL_BYTES))) return rc;
        s->m = &s->own_model;
    }
    if ((rc = ol_optim_create(&s->opt, c->opt, c->lr))) return rc;
    if ((rc = ol_optim_set_schedule(s->opt, c->schedule ? c->schedule : "constant", c->warmup))) return rc;
    if ((rc = ol_optim_set_clip(s->opt, c->clip_norm, c->clip_value))) return rc;
    (void)r;
    return OL_OK;
}

static int check_data_fits(const ol_mlp *m, const ol_dataset *d) {
    if (ol_dataset_dim(d) != (size_t)m->sizes[0])
        return ol_fail(OL_EARG, "the data's images have %zu pixels (%ux%u) but the model %s expects %d inputs; use mlp:%zu-...",
                       ol_dataset_dim(d), d->rows, d->cols, m->spec, m->sizes[0], ol_dataset_dim(d));
    if (d->n_classes > m->sizes[m->n_layers])
        return ol_fail(OL_EARG, "the data has %d classes but the model %s has only %d outputs", d->n_classes, m->spec,
                       m->sizes[m->n_layers]);
    return OL_OK;
}

int ol_train_run(const ol_train_config *c, ol_train_result *r) {
    ol_dataset train, test;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    memset(r, 0, sizeof *r);
    int rc = check_config(c);
    if (rc) return rc;
    /* the specs are checked before the data is read: a typo costs no loading time */
    run_state probe;
    memset(&probe, 0, sizeof probe);
    rc = prepare(c, &probe, r);
    run_free(&probe);
    if (rc) return rc;
    if ((rc = ol_data_load(c->data, &train, &test))) return rc;
    rc = ol_train_fit(c, &train, &test, r);
    ol_dataset_free(&train);
    ol_dataset_free(&test);
    return rc;
}

int ol_train_fit(const ol_train_config *c, ol_dataset *train, const ol_dataset *test, ol_train_result *r) {
    run_state s;
    memset(&s, 0, sizeof s);
    memset(r, 0, sizeof *r);
    const uint32_t full_n = train->n;
    r->val_loss = r->val_acc = r->test_loss = r->test_acc = r->train_loss_full = NAN;
    int rc = check_config(c);
    if (rc) return rc;
    if (c->threads) ol_set_threads(c->threads);
    if ((rc = prepare(c, &s, r))) goto out;
    ol_mlp *m = s.m;
    if ((rc = check_data_fits(m, train))) goto out;
    if (test && test->n && (rc = check_data_fits(m, test))) goto out;
    s.train = train;
    s.test = test && test->n && !c->skip_test ? test : NULL;
    if (c->train_subset > 0 && (uint64_t)c->train_subset < train->n) train->n = (uint32_t)c->train_subset;
    if (c->val_split > 0 && (rc = ol_data_split(train, c->val_split, c->seed ^ 0x5eed5ull, &s.val))) goto out;
    if (c->normalize) {
        double mean, std;
        if ((rc = ol_data_stats(train, &mean, &std))) goto out;
        if (!(std > 0)) { rc = ol_fail(OL_EARG, "--normalize: the training images are constant (std 0)"); goto out; }
        m->input_mean = (float)mean;
        m->input_inv_std = (float)(1.0 / std);
    }

    uint32_t batch = c->batch == 0 || (uint64_t)c->batch > train->n ? train->n : (uint32_t)c->batch;
    /* activations: every layer's value, gradient and pre-activation gradient, float32 */
    double per_example = 0;
    for (int l = 0; l <= m->n_layers; l++) per_example += 3.0 * 4.0 * m->sizes[l];
    if (per_example * batch > (double)MAX_MODEL_BYTES) {
        rc = ol_fail(OL_ENOMEM, "a batch of %u examples would need about %.0f bytes of activations; use a smaller --batch",
                     batch, per_example * batch);
        goto out;
    }
    if (!c->model) ol_mlp_init(m, c->seed);
    if ((rc = ol_mlp_graph_build(m, &s.graph, (int)batch, 1))) goto out;
    if ((rc = ol_mlp_graph_build(m, &s.eval, EVAL_BATCH, 0))) goto out;
    if ((rc = add_groups(s.opt, m, c->no_decay_bias))) goto out;
    ol_optim_seed(s.opt, c->seed ^ 0x0b7ull);
    ol_optim_set_objective(s.opt, batch_objective, &s);
    if ((rc = ol_sampler_init(&s.sampler, c->sampler, train->n, batch, c->seed ^ 0xda7aull))) goto out;

    if (c->log_path) {
        if ((rc = ol_afile_open(&s.log, c->log_path))) goto out;
        s.log_open = 1;
        fprintf(s.log.f, "epoch,step,lr,train_loss,val_loss,val_acc,test_loss,test_acc,seconds\n");
    }

    int show_progress = !c->quiet && isatty(2);
    float *x = ol_ad_value(s.graph.g, s.graph.x);
    int32_t *y = ol_ad_labels(s.graph.g, s.graph.loss);
    double t_all = 0;
    int stop = 0;
    for (long epoch = 1; epoch <= c->epochs && !stop; epoch++) {
        double t0 = now_seconds(), loss_sum = 0;
        long seen = 0;
        const uint32_t *idx;
        uint32_t n;
        while ((n = ol_sampler_next(&s.sampler, &idx)) > 0) {
            ol_ad_set_batch(s.graph.g, (int)n);
            ol_data_batch(train, idx, n, x, y, m->input_mean, m->input_inv_std);
            memset(m->grads, 0, m->n_params * sizeof(float));
            if ((rc = ol_ad_forward(s.graph.g)) || (rc = ol_ad_backward(s.graph.g, s.graph.loss))) goto out;
            double loss = ol_ad_scalar(s.graph.g, s.graph.loss);
            double lr_now = ol_optim_get_lr(s.opt, 0);
            if (!isfinite(loss)) {
                rc = ol_fail(OL_ENUMERIC, "the loss became %g at step %ld (epoch %ld, lr %g): training diverged; the learning rate is likely too high: try a smaller --lr, a warm-up or --clip-norm",
                             loss, r->steps + 1, epoch, lr_now);
                goto out;
            }
            if ((rc = ol_optim_step(s.opt))) {
                if (rc == OL_ENUMERIC) {
                    char why[512];
                    snprintf(why, sizeof why, "%s", ol_error());
                    rc = ol_fail(OL_ENUMERIC, "%s (step %ld, epoch %ld, lr %g): training diverged; the learning rate is likely too high",
                                 why, r->steps + 1, epoch, lr_now);
                }
                goto out;
            }
            r->steps++;
            loss_sum += loss * n;
            seen += n;
            double elapsed = t_all + now_seconds() - t0;
            if (c->on_step) c->on_step(c->userdata, r->steps, elapsed, loss, lr_now);
            if (show_progress && (s.sampler.position % 8 == 0 || s.sampler.position == s.sampler.n_batches))
                progress(epoch, c->epochs, s.sampler.position, s.sampler.n_batches, now_seconds() - t0, elapsed,
                         r->seconds_per_epoch);
            if ((c->time_budget > 0 && elapsed >= c->time_budget) || (c->max_steps > 0 && r->steps >= c->max_steps)) {
                stop = 1;
                break;
            }
        }
        double dt = now_seconds() - t0;
        t_all += dt;
        r->epochs_done = epoch;
        r->seconds = t_all;
        r->seconds_per_epoch = t_all / epoch;
        r->train_loss = loss_sum / (seen ? seen : 1);
        if (s.val.n && (rc = ol_evaluate(m, &s.eval, &s.val, &r->val_loss, &r->val_acc))) goto out;
        if (s.test && (rc = ol_evaluate(m, &s.eval, s.test, &r->test_loss, &r->test_acc))) goto out;
        if (c->eval_train) {
            double acc;
            if ((rc = ol_evaluate(m, &s.eval, train, &r->train_loss_full, &acc))) goto out;
        }
        /* plateau watches the validation loss, or the training loss without a split */
        if ((rc = ol_optim_report_metric(s.opt, s.val.n ? r->val_loss : r->train_loss))) goto out;
        if (show_progress) fprintf(stderr, "\r%*s\r", 90, "");
        if (!c->quiet) {
            printf("epoch %ld/%ld  train_loss %.4f", epoch, c->epochs, r->train_loss);
            if (s.val.n) printf("  val_loss %.4f  val_acc %.2f%%", r->val_loss, 100 * r->val_acc);
            if (s.test) printf("  test_loss %.4f  test_acc %.2f%%", r->test_loss, 100 * r->test_acc);
            printf("  %.2fs\n", dt);
            fflush(stdout);
        }
        if (c->on_epoch) c->on_epoch(c->userdata, epoch, r);
        if (s.log_open)
            fprintf(s.log.f, "%ld,%ld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", epoch, r->steps, ol_optim_get_lr(s.opt, 0),
                    r->train_loss, r->val_loss, r->val_acc, r->test_loss, r->test_acc, dt);
    }
    if (s.log_open) {
        s.log_open = 0;
        if ((rc = ol_afile_commit(&s.log))) goto out;
    }
    if (c->save_path && (rc = ol_mlp_save(m, c->save_path))) goto out;
    rc = OL_OK;
out:
    train->n = full_n;
    run_free(&s);
    return rc;
}
