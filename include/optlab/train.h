/* train.h: the training loop: data -> model -> loss -> gradients -> optimizer, epoch after epoch,
 * with evaluation, per-epoch metrics, a CSV log, a progress bar, and the divergence guard.
 * `optlab train` is a thin layer over ol_train_run; the labs call the same loop in-process. */
#ifndef OPTLAB_TRAIN_H
#define OPTLAB_TRAIN_H

#include <stdint.h>
#ifndef __wasi__
#include <signal.h>
#else
typedef int sig_atomic_t; /* wasi-libc has no signals: the page's Stop sets the flag itself */
#endif

#include "optlab/data.h"
#include "optlab/sampler.h"
#include "optlab/nn.h"
#include "optlab/optim.h"

struct ol_train_result;

/* --init-seed: the seed of the model's initialization when set, else --seed's */
typedef struct {
    int set;
    uint64_t value;
} ol_train_seed_opt;

typedef struct {
    const char *data;         /* "fashion-mnist", "mnist" or a directory (ol_data_load) */
    const char *data_dir;     /* the data's directory as an absolute path, kept in checkpoints so that a
                                 resume from elsewhere finds it (ol_train_run sets it), or NULL */
    const char *model_spec;   /* "mlp:784-256-10[,act=...,init=...]" */
    const char *opt;          /* optimizer spec, e.g. "sgd:momentum=0.9" */
    double lr;                /* base learning rate, >= 0 */
    long batch;               /* examples per step; 0 = full batch */
    long epochs;              /* >= 1 */
    const char *schedule;     /* schedule spec, NULL = constant */
    long warmup;              /* linear warm-up steps, 0 = none */
    double clip_norm;         /* 0 = off */
    double clip_value;        /* 0 = off */
    uint64_t seed;            /* model init, split and sampler all derive from it */
    int threads;              /* 0 = all cores */
    int sampler;              /* OL_SAMPLER_SHUFFLE or OL_SAMPLER_IID */
    double val_split;         /* fraction of the training set held out, [0, 1) */
    int normalize;            /* 1: standardize inputs with the training set's mean and std */
    int no_decay_bias;        /* 1: biases get no weight decay */
    int lbfgs_minibatch;      /* 1: let lbfgs run on mini-batches (refused without: it needs --batch full) */
    int eval_average;         /* 1: asgd: evaluate and save the averaged iterate ax instead of x */
    long accumulate;          /* > 1: micro-batches (of batch examples) per optimizer step; 0 or 1: off */
    double ema;               /* > 0: evaluate and save an exponential moving average of the weights
                               * with this decay (ol_optim_set_ema); 0: off */
    long train_subset;        /* use only the first N training examples (0 = all) */
    long test_subset;         /* evaluate on the first N test examples only (0 = all) */
    ol_train_seed_opt init_seed; /* seed of the model's initialization (unset: seed) */
    double perturb;           /* > 0: N(0, perturb^2) noise drawn from seed added to every initial
                                 parameter (one base model, --init-seed, perturbed by --seed) */
    const char *log_path;     /* CSV, one row per epoch, or NULL */
    const char *step_log_path; /* CSV, one row per optimizer step (OL_TRAIN_STEP_LOG_HEADER), or NULL */
    const char *save_path;    /* model file written at the end, or NULL */
    int quiet;                /* 1: no per-epoch lines, no progress bar */
    /* for programs that drive the loop (the labs) */
    double time_budget;       /* stop after this many seconds of training (0 = none) */
    long max_steps;           /* stop after this many steps (0 = none) */
    int skip_test;            /* 1: no test-set evaluation per epoch (test_loss/acc stay NaN) */
    int eval_train;           /* 1: after each epoch, the loss over the whole training set too */
    void (*on_step)(void *userdata, long step, double seconds, double loss, double lr);
    void (*on_epoch)(void *userdata, long epoch, const struct ol_train_result *r);
    void *userdata;
    ol_mlp *model;            /* a created, initialized model to train in place (not freed, not
                                 re-initialized; model spec ignored), or NULL; after a schedule-free
                                 run (sf-sgd, sf-adamw) it holds the x sequence, the one to evaluate */
    /* reliability */
    const char *checkpoint_path;  /* checkpoint file, or NULL */
    long checkpoint_every;        /* write it every N steps (0: only at epoch ends / on a stop) */
    int checkpoint_epoch;         /* 1: write it at the end of every epoch */
    const char *resume_path;      /* continue the run saved in this checkpoint, or NULL */
    volatile sig_atomic_t *stop;  /* when *stop becomes nonzero: finish the step, write the
                                     checkpoint (if any), return OL_ESTOPPED */
    int on_divergence;            /* OL_DIVERGE_STOP or OL_DIVERGE_ROLLBACK */
    int max_rollbacks;            /* rollbacks allowed before giving up (default 3) */
    /* data-parallel training (MPI): dist_size processes run the same loop on the same global
     * batches; each computes the gradient of its share of every batch (rows [n r/P, n (r+1)/P)),
     * weighted by share/n, and allreduce sums buf[0..count) over all processes in place: the
     * parameter gradients followed by one float, the weighted loss. Every process then takes the
     * same optimizer step. Only rank 0 prints, logs, saves and writes checkpoints. */
    int dist_rank, dist_size;     /* 0, 1 (or 0, 0) for a single process */
    int (*allreduce)(void *userdata, float *buf, size_t count);
    /* Before the first step the processes check that they run the same job: agree gets n (name,
     * value) pairs, the settings every process must share (OL_TS_RUN and OL_TS_RANKS in the
     * settings table, --checkpoint-every, max_steps), the data's identity, the parameter count and
     * the starting state (a --resume), and returns OL_OK when every process holds the same values,
     * else an error with the message on every process at once (ol_dist_agree). Required when
     * dist_size > 1. */
    int (*agree)(void *userdata, const char *const *names, const char *const *values, int n);
    void *dist_userdata;
} ol_train_config;

enum { OL_DIVERGE_STOP = 0, OL_DIVERGE_ROLLBACK = 1 };

/* Defaults: sgd, lr 0.1, batch 128, 5 epochs, mlp:784-256-10, fashion-mnist, seed 1, shuffle. */
ol_train_config ol_train_default_config(void);

typedef struct ol_train_result {
    long epochs_done, steps;
    double train_loss;        /* mean loss over the last epoch's steps (weighted by batch size) */
    double val_loss, val_acc; /* NAN without a validation split */
    double test_loss, test_acc;
    double seconds;           /* training time, evaluation excluded */
    double seconds_per_epoch;
    double train_loss_full;   /* loss over the whole training set (eval_train), else NaN */
    int rollbacks;            /* divergences rolled back */
    int resumed;              /* 1 when the run continued a checkpoint */
    int threads;              /* the thread count chosen by timing (threads = 0 in the config), else 0 */
    int ranks_disagree;       /* data-parallel: c->agree failed, on every process alike (none waits) */
    long train_examples;      /* the examples it trained on: the first --subset of them, less a --val-split
                               * (after ol_train_fit: the first rows of the set it was given) */
} ol_train_result;

/* The settings that define a run's bits ("key=value" lines, made from the settings table of
 * optlab/train_settings.h) are stored in checkpoints: --resume fills unspecified settings from them
 * and refuses explicit ones that conflict. */
/* The settings text stored in a checkpoint file (malloc'ed, caller frees). */
int ol_train_checkpoint_settings(const char *path, char **settings);

/* The largest model a run makes (its parameters, gradients and a batch's activations) */
#if SIZE_MAX > 0xffffffffu
#define OL_TRAIN_MAX_MODEL_BYTES ((size_t)8 << 30)
#else
#define OL_TRAIN_MAX_MODEL_BYTES ((size_t)1 << 30) /* the WebAssembly build's 32-bit memory */
#endif

/* The checks ol_train_run makes before it reads any data: the settings' values and ranges, then
 * the model, optimizer, schedule and clipping specs (OL_EARG with the command's message). */
int ol_train_check(const ol_train_config *c);

/* Runs the whole job: load data, split, build and initialize the model, train, evaluate, log, save.
 * Returns 0 or an OL_E* code with a message (OL_ENUMERIC: the run diverged). */
int ol_train_run(const ol_train_config *c, ol_train_result *r);
/* The same on data already loaded (c->data ignored); test may be NULL (no test evaluation). With
 * c->val_split > 0 the rows of train are permuted in place (its count is restored on return). */
int ol_train_fit(const ol_train_config *c, ol_dataset *train, const ol_dataset *test, ol_train_result *r);
/* Registers m's parameters with o as train does: one group over the whole block, or (no_decay_bias)
 * one per weight and per bias, the biases with weight decay 0; either way every layer's weight
 * (in x out) and bias (out) are declared as separate tensors (ol_optim_set_tensors: lamb's and
 * lars's trust ratios are per tensor). */
int ol_train_add_groups(ol_optim *o, ol_mlp *m, int no_decay_bias);

/* The model's initial parameters for run c: ol_mlp_init from --init-seed (or --seed), then
 * --perturb's noise. ol_train_fit calls it for a model of its own. */
void ol_train_init_model(ol_mlp *m, const ol_train_config *c);

/* --step-log: its header, and one row per optimizer step (the step's lr and mean batch loss,
 * printf %.17g) into buf; the row's length, or the length it needs when that is cap or more (as
 * snprintf). The page's log (optlab/play_train.h) is made of the same rows. */
#define OL_TRAIN_STEP_LOG_HEADER "step,lr,loss\n"
size_t ol_train_step_row(char *buf, size_t cap, long step, double lr, double loss);

/* OL_OK when the images of d fit model m (its inputs, and the image shape it records, if any) and
 * its outputs cover d's classes; else OL_EARG saying which, and what model would fit. */
int ol_train_check_data(const ol_mlp *m, const ol_dataset *d);

/* The batch of evaluation graphs: ol_evaluate takes up to this many rows at a time. */
#define OL_TRAIN_EVAL_BATCH 1000
/* Mean loss and accuracy (fraction) of model m on d through an evaluation graph of up to
 * graph batch rows (built by ol_mlp_graph_build with_grad = 0); fixed summation order. */
int ol_evaluate(ol_mlp *m, ol_mlp_graph *eval, const ol_dataset *d, double *loss, double *acc);

#endif
