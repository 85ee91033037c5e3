/* train.c: the training loop; see include/optlab/train.h.
 * One graph with gradients for the training batch, one without for evaluation, both over the
 * model's flat parameter block; the batch is converted from uint8 straight into the graph's input
 * buffer. Nothing is allocated inside the loop. */
#include "optlab/train.h"
#include "optlab/train_settings.h"
#include "train_internal.h"

#include <limits.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#else /* the WebAssembly build: one thread */
static int omp_get_max_threads(void) { return 1; }
static int omp_in_parallel(void) { return 0; }
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "optlab/checkpoint.h"
#include "optlab/common.h"
#include "optlab/optim.h"
#include "optlab/parallel.h"
#include "optlab/rng.h"

#define MAX_MODEL_BYTES OL_TRAIN_MAX_MODEL_BYTES

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
    c.max_rollbacks = 3;
    return c;
}

int ol_evaluate(ol_mlp *m, ol_mlp_graph *eval, const ol_dataset *d, double *loss, double *acc) {
    uint32_t idx[OL_TRAIN_EVAL_BATCH];
    double loss_sum = 0;
    long correct = 0;
    if (d->n == 0) return ol_fail(OL_EARG, "cannot evaluate on an empty data set");
    for (uint32_t start = 0; start < d->n; start += OL_TRAIN_EVAL_BATCH) {
        uint32_t n = d->n - start < OL_TRAIN_EVAL_BATCH ? d->n - start : OL_TRAIN_EVAL_BATCH;
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


static void run_free(run_state *s) {
    ol_sampler_free(&s->sampler);
    ol_optim_free(s->opt);
    ol_mlp_graph_free(&s->graph);
    ol_mlp_graph_free(&s->eval);
    ol_mlp_free(&s->own_model);
    ol_dataset_free(&s->val);
    free(s->log);
    free(s->step_log);
    free(s->snapshot);
    free(s->accum);
}

static int log_append(run_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int log_append(run_state *s, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) return ol_fail(OL_EARG, "log line too long");
    if (s->log_len + (size_t)n + 1 > s->log_cap) {
        size_t cap = s->log_cap ? s->log_cap * 2 : 4096;
        while (cap < s->log_len + (size_t)n + 1) cap *= 2;
        char *p = realloc(s->log, cap);
        if (!p) return ol_fail(OL_ENOMEM, "out of memory for the log");
        s->log = p;
        s->log_cap = cap;
    }
    memcpy(s->log + s->log_len, line, (size_t)n + 1);
    s->log_len += (size_t)n;
    return OL_OK;
}

size_t ol_train_step_row(char *buf, size_t cap, long step, double lr, double loss) {
    int n = snprintf(buf, cap, "%ld,%.17g,%.17g\n", step, lr, loss);
    return n < 0 ? 0 : (size_t)n;
}

/* --step-log: its text kept in memory and written whole at the end (or up to a divergence) */
static int step_log_append_text(run_state *s, const char *text) {
    size_t n = strlen(text);
    if (s->step_log_len + n + 1 > s->step_log_cap) {
        size_t cap = s->step_log_cap ? s->step_log_cap * 2 : 4096;
        while (cap < s->step_log_len + n + 1) cap *= 2;
        char *p = realloc(s->step_log, cap);
        if (!p) return ol_fail(OL_ENOMEM, "out of memory for the step log");
        s->step_log = p;
        s->step_log_cap = cap;
    }
    memcpy(s->step_log + s->step_log_len, text, n + 1);
    s->step_log_len += n;
    return OL_OK;
}

/* the row of the step just taken */
static int step_log_append(run_state *s, double lr, double loss) {
    char row[96];
    if (ol_train_step_row(row, sizeof row, s->steps, lr, loss) >= sizeof row) return ol_fail(OL_EARG, "step log row too long");
    return step_log_append_text(s, row);
}

/* A diverged run writes its log so far (the epochs before the one that diverged) and keeps the
 * divergence error, saying where the log is. */
static int log_divergence(const run_state *s, const char *path) {
    char why[1024];
    snprintf(why, sizeof why, "%s", ol_error());
    if (ol_write_file_atomic(path, s->log, s->log_len)) {
        char werr[600];
        snprintf(werr, sizeof werr, "%s", ol_error());
        return ol_fail(OL_ENUMERIC, "%s; the log could not be written either: %s", why, werr);
    }
    return ol_fail(OL_ENUMERIC, "%s; the log up to it is in %s", why, path);
}

static int check_config(const ol_train_config *c) {
    if (!(c->lr >= 0) || !isfinite(c->lr)) return ol_fail(OL_EARG, "--lr must be a finite number >= 0, got %g", c->lr);
    if (c->batch < 0) return ol_fail(OL_EARG, "--batch must be a positive whole number or 'full', got %ld", c->batch);
    if (c->epochs < 1 || c->epochs > 1000000) return ol_fail(OL_EARG, "--epochs must be in [1, 1000000], got %ld", c->epochs);
    if (!(c->val_split >= 0 && c->val_split < 1))
        return ol_fail(OL_EARG, "--val-split must be in [0, 1), got %g", c->val_split);
    if (!(c->clip_norm >= 0) || !(c->clip_value >= 0)) return ol_fail(OL_EARG, "--clip-norm and --clip-value must be >= 0");
    if (c->clip_norm > 0 && c->clip_value > 0) return ol_fail(OL_EARG, "use --clip-norm or --clip-value, not both");
    if (c->warmup < 0) return ol_fail(OL_EARG, "--warmup must be >= 0, got %ld", c->warmup);
    if (!(c->time_budget >= 0) || !isfinite(c->time_budget))
        return ol_fail(OL_EARG, "--time-budget must be a number of seconds >= 0 (0: no budget), got %g", c->time_budget);
    if (c->max_steps < 0) return ol_fail(OL_EARG, "--max-steps must be >= 1, got %ld", c->max_steps);
    if (c->threads < 0 || c->threads > OL_PARALLEL_MAX_THREADS)
        return ol_fail(OL_EARG, "--threads must be in [1, %d], got %d", OL_PARALLEL_MAX_THREADS, c->threads);
    if (c->checkpoint_every < 0) return ol_fail(OL_EARG, "--checkpoint-every must be >= 1 or 'epoch'");
    if ((c->checkpoint_every || c->checkpoint_epoch) && !c->checkpoint_path)
        return ol_fail(OL_EARG, "--checkpoint-every needs --checkpoint F");
    if (c->max_rollbacks < 0 || c->max_rollbacks > 1000) return ol_fail(OL_EARG, "--max-rollbacks must be in [0, 1000]");
    if (!(c->perturb >= 0) || !isfinite(c->perturb))
        return ol_fail(OL_EARG, "--perturb must be a finite standard deviation >= 0 (e.g. 0.2), got %g", c->perturb);
    if (c->test_subset < 0) return ol_fail(OL_EARG, "--test-subset must be >= 1, got %ld", c->test_subset);
    if (c->accumulate < 0 || c->accumulate > 1000000)
        return ol_fail(OL_EARG, "--accumulate must be in [1, 1000000], got %ld", c->accumulate);
    if (c->dist_size > 1 && (!c->allreduce || !c->agree || c->dist_rank < 0 || c->dist_rank >= c->dist_size))
        return ol_fail(OL_EARG, "data-parallel training needs an all-reduce, an agreement and a rank in [0, %d)", c->dist_size);
    if (c->dist_size > 1 && c->time_budget > 0) /* each process would measure its own seconds */
        return ol_fail(OL_EARG, "a time budget is not data-parallel: the processes would stop after different steps");
    return OL_OK;
}

int ol_train_add_groups(ol_optim *o, ol_mlp *m, int no_decay_bias) {
    size_t rows[2 * OL_MLP_MAX_LAYERS], cols[2 * OL_MLP_MAX_LAYERS];
    for (int l = 0; l < m->n_layers; l++) {   /* weight (in x out), then bias (out), layer after layer */
        rows[2 * l] = (size_t)m->sizes[l];
        cols[2 * l] = (size_t)m->sizes[l + 1];
        rows[2 * l + 1] = (size_t)m->sizes[l + 1];
        cols[2 * l + 1] = 1;
    }
    if (!no_decay_bias) {
        int rc = ol_optim_add_group(o, m->params, m->grads, m->n_params, -1, -1);
        return rc ? rc : ol_optim_set_tensors(o, 0, 2 * m->n_layers, rows, cols);
    }
    for (int l = 0; l < m->n_layers; l++) {
        size_t nw = (size_t)m->sizes[l] * m->sizes[l + 1];
        int rc = ol_optim_add_group(o, m->params + m->w_off[l], m->grads + m->w_off[l], nw, -1, -1);
        if (!rc) rc = ol_optim_set_tensors(o, 2 * l, 1, rows + 2 * l, cols + 2 * l);
        if (!rc) rc = ol_optim_add_group(o, m->params + m->b_off[l], m->grads + m->b_off[l], (size_t)m->sizes[l + 1], -1, 0);
        if (!rc) rc = ol_optim_set_tensors(o, 2 * l + 1, 1, rows + 2 * l + 1, cols + 2 * l + 1);
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

/* --eval-average's check, and --ema's average set up (before the groups are added) */
static int check_eval_average(const ol_train_config *c, ol_optim *o) {
    if (c->ema != 0 && ol_optim_evaluates_average(o))
        return ol_fail(OL_EARG, "--ema: %s evaluates and saves its own averaged iterate x already; leave --ema out",
                       ol_optim_kind_name(ol_optim_kind(o)));
    if (c->eval_average && ol_optim_kind(o) != OL_OPTIM_ASGD && !ol_optim_evaluates_average(o))
        return ol_fail(OL_EARG, "--eval-average: only asgd keeps an averaged iterate; the optimizer is %s",
                       ol_optim_kind_name(ol_optim_kind(o)));
    if (c->ema != 0 && c->eval_average)
        return ol_fail(OL_EARG, "--ema and --eval-average both pick the weights to evaluate; give one of them");
    if (c->ema != 0 && !(c->ema > 0 && c->ema < 1))
        return ol_fail(OL_EARG, "--ema must be in (0, 1) (e.g. 0.999: an average over about 1000 steps), got %g", c->ema);
    return c->ema != 0 ? ol_optim_set_ema(o, c->ema) : OL_OK;
}

/* --accumulate N > 1: refused where a step needs more than its gradient (a closure evaluates the
 * step's one batch again; random search compares losses on it) or where there is one batch */
static int check_accumulate(const ol_train_config *c, const ol_optim *o, uint32_t batch, uint32_t n) {
    const char *name = ol_optim_is_wrapped(o) && ol_optim_needs_closure(o) ? "sam" : ol_optim_kind_name(ol_optim_kind(o));
    if (ol_optim_needs_closure(o) || ol_optim_kind(o) == OL_OPTIM_RANDOM)
        return ol_fail(OL_EARG, "--accumulate: %s evaluates the loss again on its step's batch, which is split into "
                       "micro-batches here; give the whole batch with --batch %ld instead", name,
                       (long)batch * c->accumulate);
    if (batch >= n)
        return ol_fail(OL_EARG, "--accumulate %ld with a batch of the whole training set (%u examples) has one "
                       "micro-batch an epoch to add up; give --batch B with B below it", c->accumulate, n);
    return OL_OK;
}

/* Model and optimizer from the specs (before any data is read, so a typo costs nothing). */
static int prepare(const ol_train_config *c, run_state *s) {
    int rc;
    if (c->model) s->m = c->model;
    else {
        if ((rc = ol_mlp_create(&s->own_model, c->model_spec, MAX_MODEL_BYTES))) return rc;
        s->m = &s->own_model;
    }
    if ((rc = ol_optim_create(&s->opt, c->opt, c->lr)) || (rc = check_eval_average(c, s->opt))) return rc;
    if ((rc = ol_optim_set_schedule(s->opt, c->schedule ? c->schedule : "constant", c->warmup))) return rc;
    if ((rc = ol_optim_set_clip(s->opt, c->clip_norm, c->clip_value))) return rc;
    return ol_train_settings_text(c, s->m->spec, s->settings, sizeof s->settings);
}

/* The specs and the settings text checked as prepare would build them, allocating nothing of
 * the model's size (before any data is read, so a typo costs nothing). */
static int check_specs(const ol_train_config *c) {
    ol_mlp layout;
    int rc = c->model ? OL_OK : ol_mlp_layout(&layout, c->model_spec, MAX_MODEL_BYTES);
    if (rc) return rc;
    ol_optim *o = NULL;
    if (!(rc = ol_optim_create(&o, c->opt, c->lr)) &&
        !(rc = ol_optim_set_schedule(o, c->schedule ? c->schedule : "constant", c->warmup)))
        rc = ol_optim_set_clip(o, c->clip_norm, c->clip_value);
    if (!rc) rc = check_eval_average(c, o);
    ol_optim_free(o);
    if (rc) return rc;
    char settings[OL_TRAIN_SETTINGS_CAP];
    return ol_train_settings_text(c, c->model ? c->model->spec : layout.spec, settings, sizeof settings);
}

int ol_train_check(const ol_train_config *c) {
    int rc = check_config(c);
    return rc ? rc : check_specs(c);
}

int ol_train_check_data(const ol_mlp *m, const ol_dataset *d) {
    if (ol_dataset_dim(d) != (size_t)m->sizes[0])
        return ol_fail(OL_EARG, "the data's images have %zu pixels (%ux%u) but the model %s expects %d inputs; use mlp:%zu-...",
                       ol_dataset_dim(d), d->rows, d->cols, m->spec, m->sizes[0], ol_dataset_dim(d));
    int rc = ol_mlp_check_shape(m, d->rows, d->cols); /* a model that records its shape: the same one */
    if (rc) return rc;
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
    int rc = ol_train_check(c);
    if (rc) return rc;
    /* no output may be an input or another output (a checkpoint may be written where it was resumed
     * from); the data's files are found now, and found again when it is read. A resumed run reads
     * its checkpoint first: a missing or corrupt one is reported before the data is read, and it
     * says where the run's data was when the path given leads nowhere from here */
    ol_train_config run = *c;
    char data_files[4][OL_PATH_CAP], data[OL_PATH_CAP], data_dir[PATH_MAX];
    if (c->resume_path) {
        ol_ckpt ck;
        if ((rc = ol_ckpt_read(&ck, c->resume_path))) return rc;
        rc = ol_train_resume_data(&ck, c->resume_path, c->data, !c->quiet && c->dist_rank == 0, data, sizeof data,
                                  data_files);
        ol_ckpt_free(&ck);
        if (rc) return rc;
        run.data = data;
    } else if ((rc = ol_data_files(c->data, data_files))) return rc;
    const ol_file_role inputs[5] = {{data_files[0], "the training images"}, {data_files[1], "the training labels"},
                                    {data_files[2], "the test images"},     {data_files[3], "the test labels"},
                                    {c->resume_path, "--resume"}};
    const ol_file_role written[4] = {{c->save_path, "--save"}, {c->log_path, "--log"},
                                     {c->checkpoint_path, "--checkpoint"}, {c->step_log_path, "--step-log"}};
    const int allow[4] = {-1, -1, 4, -1};
    if ((rc = ol_check_outputs(inputs, 5, written, 4, allow))) return rc;
    /* every output's directory is checked now: a typo must not cost the whole run */
    const char *outputs[4] = {c->save_path, c->log_path, c->checkpoint_path, c->step_log_path};
    for (int i = 0; i < 4; i++)
        if (outputs[i] && (rc = ol_afile_check(outputs[i]))) return rc;
    /* the data's directory as an absolute path, for checkpoints (a resume from elsewhere finds it) */
    if (realpath(data_files[0], data_dir)) {
        char *slash = strrchr(data_dir, '/');
        if (slash) *slash = 0;
        run.data_dir = data_dir[0] ? data_dir : "/";
    }
    /* one run writes a checkpoint at a time: a second one is refused now (the process that writes
     * it: rank 0 of a data-parallel run) */
    ol_ckpt_lock lock;
    if (c->checkpoint_path && (c->dist_size <= 1 || c->dist_rank == 0)) {
        if ((rc = ol_train_lock_checkpoint(&lock, c->checkpoint_path))) return rc;
    } else lock.fd = -1;
    if (!(rc = ol_data_load(run.data, &train, &test))) rc = ol_train_fit(&run, &train, &test, r);
    ol_dataset_free(&train);
    ol_dataset_free(&test);
    ol_train_unlock_checkpoint(&lock);
    return rc;
}

/* Handles a non-finite loss or gradient: returns OL_OK after a rollback (the state is the last
 * good one, the lr halved), or the divergence error. The loss and gradient found at step N + 1 are
 * those of the parameters step N made: the lr named is the one step N used. */
static int diverged(run_state *s, const ol_train_config *c, const char *what, double value) {
    const char *shown = isnan(value) ? "NaN" : value > 0 ? "Inf" : "-Inf";
    char when[160];
    if (isnan(s->step_lr)) /* no step of this process made these parameters: the lr this one would use */
        snprintf(when, sizeof when, "lr %g", ol_optim_get_lr(s->opt, 0));
    else
        snprintf(when, sizeof when, "after step %ld with lr %g", s->steps, s->step_lr);
    const int rollback = c->on_divergence == OL_DIVERGE_ROLLBACK && s->snapshot;
    if (rollback && s->rollbacks < c->max_rollbacks) {
        int rollbacks = s->rollbacks + 1;
        double scale = s->lr_scale * 0.5;
        long at = s->steps + 1;
        int rc = ol_train_restore_bytes(s, s->snapshot, s->snapshot_len, "the last good state");
        if (rc) return rc;
        s->rollbacks = rollbacks;
        s->lr_scale = scale;
        s->step_lr = NAN;
        ol_optim_set_lr_scale(s->opt, scale);
        if (!c->quiet && (c->dist_size <= 1 || c->dist_rank == 0))
            fprintf(stderr, "optlab: the %s became %s at step %ld (%s): rolled back to step %ld, learning rate x%g (rollback %d of %d)\n",
                    what, shown, at, when, s->steps, scale, rollbacks, c->max_rollbacks);
        return OL_OK;
    }
    char advice[256]; /* with rollbacks on, rolling back again is not on offer: say what is */
    if (!rollback)
        snprintf(advice, sizeof advice, "the learning rate is likely too high: try a smaller --lr, a warm-up, --clip-norm, or --on-divergence rollback");
    else if (!c->max_rollbacks)
        snprintf(advice, sizeof advice, "--max-rollbacks 0 allows no rollback: try a smaller --lr, a warm-up, --clip-norm, or a larger --max-rollbacks");
    else
        snprintf(advice, sizeof advice, "the %d rollback%s of --max-rollbacks are used up: try a smaller --lr, a warm-up, --clip-norm, or a larger --max-rollbacks",
                 c->max_rollbacks, c->max_rollbacks == 1 ? "" : "s");
    return ol_fail(OL_ENUMERIC, "the %s became %s at step %ld (epoch %ld, %s): training diverged; %s%s", what, shown,
                   s->steps + 1, s->epoch, when, advice, c->checkpoint_path ? "; the last good checkpoint is kept" : "");
}

/* Loss and parameter gradients (of the mean loss) of one global batch of n examples. Data-parallel:
 * this process's share of the rows, its gradient weighted by share/n, then one all-reduce of the
 * flat gradient block with the weighted loss in its last slot. */
static int batch_gradient(run_state *s, const ol_train_config *c, const ol_dataset *train, const uint32_t *idx,
                          uint32_t n, double *loss) {
    ol_mlp *m = s->m;
    int procs = c->dist_size > 1 ? c->dist_size : 1, rank = procs > 1 ? c->dist_rank : 0;
    uint32_t lo = (uint32_t)((uint64_t)n * (uint64_t)rank / (uint64_t)procs);
    uint32_t hi = (uint32_t)((uint64_t)n * (uint64_t)(rank + 1) / (uint64_t)procs), local = hi - lo;
    double weight = procs > 1 ? (double)local / n : 1.0;
    int rc;
    *loss = 0;
    if (local > 0) { /* the backward pass sets every parameter gradient: no zeroing first */
        ol_ad_set_batch(s->graph.g, (int)local);
        ol_data_batch(train, idx + lo, local, ol_ad_value(s->graph.g, s->graph.x), ol_ad_labels(s->graph.g, s->graph.loss),
                      m->input_mean, m->input_inv_std);
        if ((rc = ol_ad_forward(s->graph.g)) || (rc = ol_ad_backward_set(s->graph.g, s->graph.loss, weight))) return rc;
        *loss = ol_ad_scalar(s->graph.g, s->graph.loss);
    } else {
        memset(m->grads, 0, m->n_params * sizeof(float));
    }
    if (procs == 1) return OL_OK;
    m->grads[m->n_params] = (float)(*loss * weight);
    if ((rc = c->allreduce(c->dist_userdata, m->grads, m->n_params + 1))) return rc;
    *loss = m->grads[m->n_params];
    return OL_OK;
}

/* The closure of optimizers that evaluate the loss themselves (lbfgs; sam's second gradient): loss
 * and gradient of the step's batch at the parameters as they are. */
static int batch_closure(void *userdata, double *f) {
    run_state *s = userdata;
    return batch_gradient(s, s->cfg, s->train, s->batch_idx, s->batch_n, f);
}

/* --eval-average, --ema, or always for schedule-free (its x): asgd's averaged iterate, the weights'
 * moving average or schedule-free's x takes the parameters' place while the model is evaluated or
 * saved (called again, it swaps back) */
static int swap_average(run_state *s, const ol_train_config *c) {
    return c->eval_average || c->ema != 0 || ol_optim_evaluates_average(s->opt) ? ol_optim_swap_average(s->opt) : OL_OK;
}

/* --threads not given (0): the thread count that makes this model's step fastest on this machine.
 * More threads are not always faster: on a 2-core Intel Xeon the batch-128 784-256-10 step took as
 * long on two as on one (issue 14), a loaded core slows a team down, and each team's start and
 * join costs about 20 us under the passive wait policy. Results do not depend on the count (the
 * products' blocks and every reduction are fixed by the shapes), so choosing by speed changes no
 * number. Timed: whole steps (batch conversion, forward, backward, optimizer step) on the first
 * batch of the training set, a warm-up round, then 3 interleaved rounds of 3 steps for each
 * candidate (1 and all threads, and half of them from 4 up), the best step of each; more threads
 * must be at least 5% faster to be chosen. The parameters and the optimizer's state are saved
 * first and restored after, so the run starts where it would have. Runs only for a single process
 * with more than one thread available, outside any parallel region, when the run plans at least
 * 200 steps (the test takes about 40), and when the copies fit in memory. Returns the count (0:
 * nothing measured) and the milliseconds a step took at each candidate. */
#define AUTO_MIN_STEPS 200
#define AUTO_CANDIDATES 3
static int auto_threads(run_state *s, const ol_train_config *c, uint32_t batch, long planned, int *cand, double *ms,
                        int *n_cand) {
    int all = omp_get_max_threads();
    *n_cand = 0;
    if (c->threads || c->dist_size > 1 || all < 2 || omp_in_parallel() || planned < AUTO_MIN_STEPS ||
        ol_optim_kind(s->opt) == OL_OPTIM_RANDOM || ol_optim_needs_closure(s->opt))
        return 0;
    ol_mlp *m = s->m;
    size_t state_len = ol_optim_state_size(s->opt);
    uint32_t *idx = malloc((size_t)batch * sizeof *idx);
    unsigned char *state = malloc(state_len);
    float *params = malloc(m->n_params * sizeof *params);
    int ok = idx && state && params && ol_optim_state_save(s->opt, state, state_len) == OL_OK;
    if (ok) {
        memcpy(params, m->params, m->n_params * sizeof *params);
        for (uint32_t i = 0; i < batch; i++) idx[i] = i;
        int k = 0;
        cand[k++] = 1;
        if (all >= 4) cand[k++] = all / 2;
        cand[k++] = all;
        for (int i = 0; i < k; i++) ms[i] = INFINITY;
        for (int round = 0; round < 4 && ok; round++)
            for (int i = 0; i < k && ok; i++) {
                ol_parallel_set_threads(cand[i]);
                for (int step = 0; step < 3 && ok; step++) {
                    double t0 = ol_now_seconds(), loss;
                    ok = batch_gradient(s, c, s->train, idx, batch, &loss) == OL_OK && ol_optim_step(s->opt) == OL_OK;
                    double dt = (ol_now_seconds() - t0) * 1e3;
                    if (round > 0 && dt < ms[i]) ms[i] = dt; /* round 0 warms the caches and the team */
                }
            }
        /* back to the run's start: the parameters, and the optimizer's buffers, step count and schedule */
        memcpy(m->params, params, m->n_params * sizeof *params);
        if (ol_optim_state_load(s->opt, state, state_len) != OL_OK) ok = 0; /* cannot happen: its own blob */
        if (ok) *n_cand = k;
    }
    free(idx);
    free(state);
    free(params);
    if (!*n_cand) { /* nothing measured (no memory, or a step failed: the real one will say why) */
        ol_parallel_set_threads(all);
        return 0;
    }
    int best = 0;
    for (int i = 1; i < *n_cand; i++)
        if (ms[i] < 0.95 * ms[best]) best = i;
    ol_parallel_set_threads(cand[best]);
    return cand[best];
}

/* ---- the loop: a step, an epoch ---- */

static void next_epoch(run_state *s) {
    s->epoch++;
    s->epoch_done = 0;
    s->loss_sum = 0;
    s->seen = 0;
}

enum { STEP_DONE, STEP_ROLLED_BACK, STEP_BUDGET_SPENT };

static long micro_batches(const ol_train_config *c) { return c->accumulate > 1 ? c->accumulate : 1; }

/* The gradient and mean loss of one optimizer step from the batch idx[0..n): with --accumulate N,
 * that batch and up to N - 1 more from the sampler (fewer at the epoch's end), each micro-batch's
 * mean-loss gradient weighted by its examples, so that the step sees the mean loss of all of them
 * (as one batch of their union would, to float rounding: the sums run in another order). *n_step:
 * the examples of the step. A non-finite loss rolls back (*what = STEP_ROLLED_BACK) or fails. */
static int step_gradient(run_state *s, const ol_train_config *c, const uint32_t *idx, uint32_t n, double *loss,
                         uint32_t *n_step, int *what) {
    long micro = micro_batches(c);
    ol_mlp *m = s->m;
    double loss_sum = 0;
    uint32_t total = 0;
    int rc;
    for (long j = 0;; j++) {
        if ((rc = batch_gradient(s, c, s->train, idx, n, loss))) return rc;
        if (!isfinite(*loss)) {
            if ((rc = diverged(s, c, "loss", *loss))) return rc;
            *what = STEP_ROLLED_BACK;
            return OL_OK;
        }
        if (micro == 1) return OL_OK;   /* *loss, *n_step = n: the step's own */
        for (size_t i = 0; i < m->n_params; i++) s->accum[i] = (j ? s->accum[i] : 0) + (double)n * m->grads[i];
        loss_sum += *loss * n;
        total += n;
        if (j + 1 == micro || s->sampler.position >= s->sampler.n_batches || !(n = ol_sampler_next(&s->sampler, &idx)))
            break;
    }
    for (size_t i = 0; i < m->n_params; i++) m->grads[i] = (float)(s->accum[i] / total);
    *loss = loss_sum / total;
    *n_step = total;
    return OL_OK;
}

/* One step on the batch idx[0..n) of epoch `epoch` (which started at t0, with t_before seconds of
 * training before it): gradient, divergence guard (a rollback restores the last good state),
 * optimizer step, counters, progress, periodic checkpoint, stop request, budgets. *what: STEP_*. */
static int train_step(run_state *s, const ol_train_config *c, const uint32_t *idx, uint32_t n, long epoch, double t0,
                      double t_before, int *what) {
    double loss;
    int rc;
    *what = STEP_DONE;
    if ((rc = step_gradient(s, c, idx, n, &loss, &n, what)) || *what == STEP_ROLLED_BACK) return rc;
    double lr_now = ol_optim_get_lr(s->opt, 0);
    s->batch_idx = idx; /* for the closure */
    s->batch_n = n;
    if ((rc = ol_optim_step(s->opt))) {
        if (rc != OL_ENUMERIC) return rc;
        if ((rc = diverged(s, c, "gradient norm", ol_optim_last_grad_norm(s->opt)))) return rc;
        *what = STEP_ROLLED_BACK;
        return OL_OK;
    }
    ol_optim_report_loss(s->opt, loss);
    s->step_lr = lr_now;
    s->steps++;
    s->loss_sum += loss * n;
    s->seen += n;
    s->seconds = t_before + ol_now_seconds() - t0;
    if (c->step_log_path && s->leader && (rc = step_log_append(s, lr_now, loss))) return rc;
    if (c->on_step) c->on_step(c->userdata, s->steps, s->seconds, loss, lr_now);
    if (s->show_progress && (s->sampler.position % 8 == 0 || s->sampler.position == s->sampler.n_batches))
        progress(epoch, c->epochs, s->sampler.position, s->sampler.n_batches, ol_now_seconds() - t0, s->seconds,
                 s->steps > 0 ? s->seconds / ((double)s->steps * micro_batches(c) / s->sampler.n_batches) : 0);
    int stop_now = c->stop && *c->stop;
    if ((c->checkpoint_every > 0 && s->steps % c->checkpoint_every == 0) || stop_now)
        if ((rc = ol_train_save_state(s, c, s->leader))) return rc;
    if (stop_now) {
        if (s->show_progress) fprintf(stderr, "\r%*s\r", 90, "");
        return ol_fail(OL_ESTOPPED, "stopped at step %ld (epoch %ld)%s%s%s", s->steps, epoch,
                       c->checkpoint_path ? "; checkpoint written to " : "; no --checkpoint was given, nothing saved",
                       c->checkpoint_path ? c->checkpoint_path : "", c->checkpoint_path ? "; continue with --resume" : "");
    }
    if ((c->time_budget > 0 && s->seconds >= c->time_budget) || (c->max_steps > 0 && s->steps >= c->max_steps))
        *what = STEP_BUDGET_SPENT;
    return OL_OK;
}

/* The epoch in progress, from where the sampler stands: its steps, then (unless a rollback cut it
 * short) its evaluations, line, log row, checkpoint; *stop = 1 when a budget was spent. */
static int train_epoch(run_state *s, const ol_train_config *c, ol_train_result *r, int *stop) {
    double t0 = ol_now_seconds(), t_before = s->seconds;
    long epoch = s->epoch;
    const uint32_t *idx;
    uint32_t n;
    int rc;
    while ((n = ol_sampler_next(&s->sampler, &idx)) > 0) {
        int what;
        if ((rc = train_step(s, c, idx, n, epoch, t0, t_before, &what))) return rc;
        if (what == STEP_ROLLED_BACK) {
            if (s->epoch_done) next_epoch(s); /* the snapshot was taken at the end of an epoch */
            return OL_OK;
        }
        if (what == STEP_BUDGET_SPENT) {
            *stop = 1;
            break;
        }
    }
    ol_mlp *m = s->m;
    r->train_loss = s->loss_sum / (s->seen ? s->seen : 1);
    if ((rc = swap_average(s, c))) return rc;
    if (s->val.n) rc = ol_evaluate(m, &s->eval, &s->val, &r->val_loss, &r->val_acc);
    if (!rc && s->test) rc = ol_evaluate(m, &s->eval, s->test, &r->test_loss, &r->test_acc);
    if (!rc && c->eval_train) {
        double acc;
        rc = ol_evaluate(m, &s->eval, s->train, &r->train_loss_full, &acc);
    }
    int back = swap_average(s, c);
    if (rc || (rc = back)) return rc;
    /* plateau watches the validation loss, or the training loss without a split */
    if ((rc = ol_optim_report_metric(s->opt, s->val.n ? r->val_loss : r->train_loss))) return rc;
    double dt = s->seconds - t_before;
    if (s->show_progress) fprintf(stderr, "\r%*s\r", 90, "");
    if (!s->quiet) {
        printf("epoch %ld/%ld  train_loss %.4f", epoch, c->epochs, r->train_loss);
        if (s->val.n) printf("  val_loss %.4f  val_acc %.2f%%", r->val_loss, 100 * r->val_acc);
        if (s->test) printf("  test_loss %.4f  test_acc %.2f%%", r->test_loss, 100 * r->test_acc);
        printf("  %.2fs\n", dt);
        fflush(stdout);
    }
    r->epochs_done = epoch;
    if (c->on_epoch) c->on_epoch(c->userdata, epoch, r);
    if ((rc = log_append(s, "%ld,%ld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", epoch, s->steps, ol_optim_get_lr(s->opt, 0),
                         r->train_loss, r->val_loss, r->val_acc, r->test_loss, r->test_acc, dt)))
        return rc;
    s->epoch_done = 1;
    if (c->checkpoint_epoch || (c->on_divergence == OL_DIVERGE_ROLLBACK && !c->checkpoint_every))
        if ((rc = ol_train_save_state(s, c, c->checkpoint_epoch && s->leader))) return rc;
    next_epoch(s);
    return OL_OK;
}

/* A resumed run cannot be taken back to an earlier epoch: --epochs below the epoch the checkpoint
 * is in (or has completed) is refused; --epochs equal to the epochs it has completed evaluates it
 * ("the run was already complete after N epochs"). */
static int check_resume_epochs(const run_state *s, const ol_train_config *c) {
    if (c->epochs >= s->epoch) return OL_OK;
    long done = s->epoch_done ? s->epoch : s->epoch - 1;
    char where[96] = "";
    if (!s->epoch_done) snprintf(where, sizeof where, " and is part-way through epoch %ld", s->epoch);
    return ol_fail(OL_EARG, "%s: its run is past --epochs %ld: it has completed %ld epoch%s%s (step %ld); give --epochs %ld "
                   "%s (a run cannot be taken back to an earlier epoch)",
                   c->resume_path, c->epochs, done, done == 1 ? "" : "s", where, s->steps, s->epoch,
                   s->epoch_done ? "to evaluate it, or more to train further" : "or more to go on");
}

/* Data-parallel: before the first step, the processes check that they run the same job (c->agree):
 * each one's settings come from its own command line (mpirun -np 1 A : -np 1 B), and ranks that
 * differ would train a wrong model (another --lr or --seed), wait forever in an all-reduce the
 * others never make (--epochs, --batch, --subset: another step count) or all-reduce blocks of
 * another size (--model: heap corruption). Compared: every setting the table marks OL_TS_RUN or
 * OL_TS_RANKS but the data's path (machines may hold the data at different paths: its identity
 * is compared instead, after the settings, so that --subset is named rather than the data),
 * --checkpoint-every (the rollback points), max_steps, the parameter count, and the state the
 * first step starts from (another --resume file). */
#define AGREE_MAX 48
static int agree_on_the_run(const run_state *s, const ol_train_config *c, int *collective) {
    *collective = 0; /* a failure before c->agree is this process's alone */
    if (c->dist_size <= 1) return OL_OK;
    const char *names[AGREE_MAX], *values[AGREE_MAX];
    char(*text)[OL_PATH_CAP + 64] = ol_malloc_array(AGREE_MAX, sizeof *text);
    if (!text) return OL_ENOMEM;
    int n_table, n = 0, rc = OL_OK;
    const ol_train_setting *table = ol_train_setting_table(&n_table);
    ol_train_config shown = *c;
    shown.model_spec = s->m->spec; /* the canonical spec (mlp:64-32-4,act=relu is mlp:64-32-4) */
    for (int i = 0; i < n_table && n < AGREE_MAX - 5; i++) {
        if (!(table[i].flags & (OL_TS_RUN | OL_TS_RANKS)) || table[i].offset == offsetof(ol_train_config, data)) continue;
        if ((rc = ol_train_setting_show(&table[i], &shown, text[n], sizeof text[n]))) break;
        names[n] = table[i].flag;
        values[n] = text[n];
        n++;
    }
    if (c->checkpoint_every) snprintf(text[n], sizeof text[n], "every %ld steps", c->checkpoint_every);
    else snprintf(text[n], sizeof text[n], "%s", c->checkpoint_epoch ? "every epoch" : "none");
    names[n] = "--checkpoint-every", values[n] = text[n], n++;
    snprintf(text[n], sizeof text[n], "%ld", c->max_steps);
    names[n] = "the step limit", values[n] = text[n], n++;
    snprintf(text[n], sizeof text[n], "%s", s->data_id);
    names[n] = "the data (--data)", values[n] = text[n], n++;
    snprintf(text[n], sizeof text[n], "%zu", s->m->n_params);
    names[n] = "the parameter count", values[n] = text[n], n++;
    uint32_t crc = ol_crc32(0, s->m->params, s->m->n_params * sizeof(float));
    const float norm[2] = {s->m->input_mean, s->m->input_inv_std};
    snprintf(text[n], sizeof text[n], "epoch %ld, step %ld, parameters crc %08x", s->epoch, s->steps,
             (unsigned)ol_crc32(crc, norm, sizeof norm));
    names[n] = "the starting state (--resume)", values[n] = text[n], n++;
    if (!rc) {
        *collective = 1;
        rc = c->agree(c->dist_userdata, names, values, n);
    }
    free(text);
    return rc;
}

void ol_train_init_model(ol_mlp *m, const ol_train_config *c) {
    ol_mlp_init(m, c->init_seed.set ? c->init_seed.value : c->seed);
    if (!(c->perturb > 0)) return;
    ol_rng r;
    ol_rng_seed(&r, c->seed ^ 0x9e27ull);
    for (size_t i = 0; i < m->n_params; i++) m->params[i] = (float)(m->params[i] + c->perturb * ol_rng_normal(&r));
}

/* --step-log: written whole (at the end, or up to a divergence) */
static int write_step_log(const run_state *s, const ol_train_config *c) {
    if (!s->leader || !c->step_log_path) return OL_OK;
    return ol_write_file_atomic(c->step_log_path, s->step_log ? s->step_log : "", s->step_log_len);
}

int ol_train_fit(const ol_train_config *c, ol_dataset *train, const ol_dataset *test, ol_train_result *r) {
    run_state s;
    memset(&s, 0, sizeof s);
    memset(r, 0, sizeof *r);
    const uint32_t full_n = train->n;
    r->val_loss = r->val_acc = r->test_loss = r->test_acc = r->train_loss_full = NAN;
    int rc = check_config(c);
    if (rc) return rc;
    const int threads_before = omp_get_max_threads();
    if (c->threads) ol_parallel_set_threads(c->threads);
    const int leader = c->dist_size <= 1 || c->dist_rank == 0; /* prints, logs and writes files */
    const int quiet = c->quiet || !leader;
    s.leader = leader;
    s.quiet = quiet;
    s.fixed_inputs = !c->normalize && !c->model;
    ol_ckpt ck; /* --resume: read once, checked before the model is allocated, restored below */
    int have_ck = 0;
    if (c->resume_path) {
        ol_mlp layout;
        char settings[OL_TRAIN_SETTINGS_CAP];
        if ((rc = ol_ckpt_read(&ck, c->resume_path))) goto out;
        have_ck = 1;
        if (c->model) layout = *c->model;
        else if ((rc = ol_mlp_layout(&layout, c->model_spec, MAX_MODEL_BYTES))) goto out;
        if ((rc = ol_train_settings_text(c, layout.spec, settings, sizeof settings)) ||
            (rc = ol_train_check_resume(&ck, settings, &layout, c->resume_path)))
            goto out;
    }
    if ((rc = prepare(c, &s))) goto out;
    if (c->dist_size > 1 && ol_optim_kind(s.opt) == OL_OPTIM_RANDOM) {
        rc = ol_fail(OL_EARG, "random search is not data-parallel: run it in one process");
        goto out;
    }
    ol_mlp *m = s.m;
    if ((rc = ol_train_check_data(m, train))) goto out;
    if (test && test->n && (rc = ol_train_check_data(m, test))) goto out;
    m->in_rows = train->rows; /* recorded in the model file: it will refuse images of another shape */
    m->in_cols = train->cols;
    s.train = train;
    ol_dataset test_view; /* --test-subset: its first examples */
    if (test && c->test_subset > 0 && (uint64_t)c->test_subset < test->n) {
        test_view = *test;
        test_view.n = (uint32_t)c->test_subset;
        test_view.owns = 0;
        test = &test_view;
    }
    s.test = test && test->n && !c->skip_test ? test : NULL;
    if (c->train_subset > 0 && (uint64_t)c->train_subset < train->n) train->n = (uint32_t)c->train_subset;
    snprintf(s.data_id, sizeof s.data_id, "train %u x %ux%u, %d classes, labels crc %08x", train->n, train->rows,
             train->cols, train->n_classes, (unsigned)ol_crc32(0, train->labels, train->n));
    /* the pixels' CRC-32, for the states a run saves (16-24 ms for Fashion-MNIST's 47 MB here,
     * against 0.6-0.8 s to load it; not taken for the labs' many runs that save none) */
    if (c->checkpoint_path || c->resume_path || c->on_divergence == OL_DIVERGE_ROLLBACK)
        s.pixels_crc = ol_crc32(0, train->pixels, (size_t)train->n * ol_dataset_dim(train));
    s.data_dir = c->data_dir;
    if (c->val_split > 0 && (rc = ol_data_split(train, c->val_split, c->seed ^ 0x5eed5ull, &s.val))) goto out;
    r->train_examples = train->n;
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
    if (!c->model) ol_train_init_model(m, c);
    if ((rc = ol_mlp_graph_build(m, &s.graph, (int)batch, 1))) goto out;
    if ((rc = ol_mlp_graph_build(m, &s.eval, OL_TRAIN_EVAL_BATCH, 0))) goto out;
    if ((rc = ol_train_add_groups(s.opt, m, c->no_decay_bias))) goto out;
    ol_optim_seed(s.opt, c->seed ^ 0x0b7ull);
    ol_optim_set_objective(s.opt, batch_objective, &s);
    s.cfg = c;
    ol_optim_set_closure(s.opt, batch_closure, &s);
    if (ol_optim_kind(s.opt) == OL_OPTIM_LBFGS && batch < train->n && !c->lbfgs_minibatch) {
        rc = ol_fail(OL_EARG, "lbfgs is for full-batch training: its line search and curvature pairs compare the "
                     "loss and gradient of one objective across evaluations, which a new mini-batch changes; "
                     "use --batch full (--batch %u here, the training set has %u examples), or --lbfgs-minibatch to insist",
                     batch, train->n);
        goto out;
    }
    if (c->accumulate > 1 && (rc = check_accumulate(c, s.opt, batch, train->n))) goto out;
    if (c->accumulate > 1 && !(s.accum = ol_malloc_array(m->n_params, sizeof *s.accum))) {
        rc = OL_ENOMEM;
        goto out;
    }
    if ((rc = ol_sampler_init(&s.sampler, c->sampler, train->n, batch, c->seed ^ 0xda7aull))) goto out;
    /* optimizer steps an epoch: its batches, or with --accumulate N one per N of them (the last
     * step of an epoch takes what is left) */
    long per_epoch = ((long)s.sampler.n_batches + micro_batches(c) - 1) / micro_batches(c);
    long planned = c->epochs > LONG_MAX / per_epoch ? LONG_MAX : c->epochs * per_epoch;
    if (c->max_steps > 0 && c->max_steps < planned) planned = c->max_steps;
    long can_take = ol_optim_max_steps(s.opt);
    if (planned > can_take && c->resume_path) { /* refused now, not after hours of training */
        rc = ol_fail(OL_EARG, "%s: its onecycle schedule can take %ld steps in all but --epochs %ld plans %ld (%ld %s an "
                     "epoch); resume with --epochs %ld at most", c->resume_path, can_take, c->epochs,
                     planned, per_epoch, c->accumulate > 1 ? "steps" : "batches", can_take / per_epoch);
        goto out;
    }
    if (planned > can_take) {
        /* a onecycle inside a sequential starts at a milestone: its total_steps needs what is missing */
        int inside = c->schedule && strncmp(c->schedule, "onecycle", 8) != 0;
        char fix[96];
        if (inside) snprintf(fix, sizeof fix, "raise its onecycle's total_steps by %ld", planned - can_take);
        else snprintf(fix, sizeof fix, "raise total_steps to at least %ld", planned - c->warmup);
        rc = ol_fail(OL_EARG, "--schedule: %s can take %ld steps%s but this run plans %ld (%ld epoch%s of %ld %s); "
                     "%s or train fewer epochs", inside ? "the schedule" : "onecycle",
                     can_take, c->warmup ? " including the warm-up" : "", planned, c->epochs,
                     c->epochs == 1 ? "" : "s", per_epoch, c->accumulate > 1 ? "steps" : "batches", fix);
        goto out;
    }
    s.epoch = 1;
    s.lr_scale = 1;
    s.step_lr = NAN;
    if ((rc = log_append(&s, OL_TRAIN_LOG_HEADER))) goto out;
    if (c->step_log_path && leader && (rc = step_log_append_text(&s, OL_TRAIN_STEP_LOG_HEADER))) goto out;
    if (have_ck) {
        rc = ol_train_restore(&s, &ck, c->resume_path);
        ol_ckpt_free(&ck);
        have_ck = 0;
        if (rc) goto out;
        if ((rc = check_resume_epochs(&s, c))) goto out;
        ol_optim_set_lr_scale(s.opt, s.lr_scale);
        r->resumed = 1;
        if (s.epoch_done) next_epoch(&s);
        if (!quiet) printf("resuming %s at epoch %ld, step %ld\n", c->resume_path, s.epoch, s.steps);
    }
    int together;
    if ((rc = agree_on_the_run(&s, c, &together))) {
        r->ranks_disagree = together;
        goto out;
    }
    /* the state at the start is the first good one */
    if (c->on_divergence == OL_DIVERGE_ROLLBACK && (rc = ol_train_save_state(&s, c, 0))) goto out;
    int cand[AUTO_CANDIDATES], n_cand;
    double cand_ms[AUTO_CANDIDATES];
    r->threads = auto_threads(&s, c, batch, planned - s.steps, cand, cand_ms, &n_cand);
    if (r->threads && !quiet) {
        printf("threads: %d (a training step took", r->threads);
        for (int i = 0; i < n_cand; i++) printf("%s %.2f ms at %d", i ? "," : "", cand_ms[i], cand[i]);
        printf("; --threads sets it)\n");
    }

    s.show_progress = !quiet && isatty(2);
    int stop = 0;
    while (s.epoch <= c->epochs && !stop)
        if ((rc = train_epoch(&s, c, r, &stop))) {
            if (rc == OL_ENUMERIC && c->step_log_path && leader) {
                char why[1024];
                snprintf(why, sizeof why, "%s", ol_error());
                if (write_step_log(&s, c)) {
                    char werr[600];
                    snprintf(werr, sizeof werr, "%s", ol_error());
                    rc = ol_fail(OL_ENUMERIC, "%s; the step log could not be written either: %s", why, werr);
                }
                else rc = ol_fail(OL_ENUMERIC, "%s; the step log up to it is in %s", why, c->step_log_path);
            }
            if (rc == OL_ENUMERIC && leader && c->log_path) rc = log_divergence(&s, c->log_path);
            goto out;
        }
    if (r->epochs_done == 0 && s.epoch > 1) { /* resumed a run already complete: evaluate it */
        r->epochs_done = s.epoch - 1;
        r->train_loss = NAN;
        if ((rc = swap_average(&s, c))) goto out;
        if (s.val.n) rc = ol_evaluate(m, &s.eval, &s.val, &r->val_loss, &r->val_acc);
        if (!rc && s.test) rc = ol_evaluate(m, &s.eval, s.test, &r->test_loss, &r->test_acc);
        int back = swap_average(&s, c);
        if (rc || (rc = back)) goto out;
        if (!quiet) printf("the run was already complete after %ld epochs; give --epochs N > %ld to train further\n",
                           r->epochs_done, r->epochs_done);
    }
    r->steps = s.steps;
    r->seconds = s.seconds;
    r->seconds_per_epoch = r->epochs_done ? s.seconds / (double)r->epochs_done : s.seconds;
    r->rollbacks = s.rollbacks;
    if (leader && c->log_path && (rc = ol_write_file_atomic(c->log_path, s.log, s.log_len))) goto out;
    if ((rc = write_step_log(&s, c))) goto out;
    if (leader && c->save_path) {
        if ((rc = swap_average(&s, c))) goto out;
        if (!(rc = ol_train_check_params_finite(&s))) rc = ol_mlp_save(m, c->save_path);
        int back = swap_average(&s, c);
        if (rc || (rc = back)) goto out;
    }
    /* schedule-free: the caller's model is left holding x, the model to evaluate (y goes with the
     * optimizer; a checkpoint holds y and the state, and resumes from them) */
    if (c->model && ol_optim_evaluates_average(s.opt) && (rc = ol_optim_swap_average(s.opt))) goto out;
    rc = OL_OK;
out:
    if (have_ck) ol_ckpt_free(&ck);
    r->steps = s.steps;
    train->n = full_n;
    if (r->threads) ol_parallel_set_threads(threads_before); /* the caller's count again */
    run_free(&s);
    return rc;
}
