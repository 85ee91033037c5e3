/* cmd_train.c: `optlab train` and `optlab eval`: flags -> ol_train_config -> ol_train_run. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/sampler.h"
#include "optlab/dist.h"
#include "optlab/nn.h"
#include "optlab/parallel.h"
#include "optlab/train.h"

/* --batch N | full */
static int parse_batch(const char *value, void *target) {
    if (!strcmp(value, "full")) {
        *(long *)target = 0;
        return OL_OK;
    }
    return ol_parse_long(value, "--batch", 1, 1L << 24, (long *)target);
}

static int parse_sampler(const char *value, void *target) { return ol_sampler_parse_kind(value, (int *)target); }

/* --checkpoint-every N | epoch: N > 0 steps, or -1 for "epoch" */
static int parse_every(const char *value, void *target) {
    if (!strcmp(value, "epoch")) {
        *(long *)target = -1;
        return OL_OK;
    }
    return ol_parse_long(value, "--checkpoint-every", 1, 1L << 40, (long *)target);
}

static int parse_divergence(const char *value, void *target) {
    if (!strcmp(value, "stop")) *(int *)target = OL_DIVERGE_STOP;
    else if (!strcmp(value, "rollback")) *(int *)target = OL_DIVERGE_ROLLBACK;
    else return ol_fail(OL_EARG, "'%s' is not a divergence policy; use stop or rollback", value);
    return OL_OK;
}

/* SIGINT / SIGTERM: the loop finishes its step, writes the checkpoint and stops. */
static volatile sig_atomic_t stop_signal;
static void on_signal(int signo) { stop_signal = signo; }

/* --resume: every run-defining flag not given on the command line is taken from the checkpoint;
 * the ones given are compared with it by the training loop (a conflict is refused). */
static int fill_from_checkpoint(cli_flag *flags, int n_flags, const char *path, char **settings_out) {
    char *settings;
    int rc = ol_train_checkpoint_settings(path, &settings);
    if (rc) return rc;
    for (char *line = strtok(settings, "\n"); line && !rc; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = 0;
        const char *key = line, *value = eq + 1;
        char name[64];
        snprintf(name, sizeof name, "--%s", key);
        int given = 0, known = 0;
        for (int k = 0; k < n_flags; k++)
            if (!strcmp(flags[k].name, name)) known = 1, given = flags[k].seen;
        if (!known || given) continue;
        if (!strcmp(key, "subset") && !strcmp(value, "0")) continue; /* 0: the whole set */
        rc = cli_set(flags, n_flags, name, value, "train");
    }
    *settings_out = settings; /* string flags point into it: the caller frees it after the run */
    return rc;
}

/* Under mpirun (data-parallel), how a failure ends the job. collective: every rank fails the same
 * way at the same point (bad flags, divergence: the loss is all-reduced), so every rank returns and
 * rank 0 alone prints. Otherwise the other ranks may be waiting in an all-reduce for this one:
 * MPI_Abort ends the whole job now, never a hang. */
static int train_error(int rc, int collective) {
    if (ol_dist_size() <= 1) return cli_report_error(rc);
    if (collective) return ol_dist_rank() == 0 ? cli_report_error(rc) : ol_exit_status(rc);
    fprintf(stderr, "optlab: rank %d of %d failed: %s; ending the whole job\n", ol_dist_rank(), ol_dist_size(),
            *ol_error() ? ol_error() : "unknown error");
    ol_dist_abort(ol_exit_status(rc));
}

static int train_command(int argc, char **argv);

/* optlab train, also as `mpirun -np P optlab train ...`: P processes train one model data-parallel. */
int cmd_train(int argc, char **argv) {
    int rc = ol_dist_init(&argc, &argv);
    if (rc) return cli_report_error(rc);
    int status = train_command(argc, argv);
    ol_dist_finalize();
    return status;
}

static int train_command(int argc, char **argv) {
    ol_train_config c = ol_train_default_config();
    long every = 0;
    cli_flag flags[] = {
        {"--data", ARG_STR, &c.data, "D", "fashion-mnist (default), mnist, or a directory with the 4 MNIST files", 0, 0, NULL, 0, 0},
        {"--model", ARG_STR, &c.model_spec, "SPEC", "mlp:784-256-10[,act=relu|tanh|sigmoid][,init=torch|xavier|normal:std=S]", 0, 0, NULL, 0, 0},
        {"--opt", ARG_STR, &c.opt, "SPEC", "optimizer: gd, sgd:momentum=0.9, adam, ... (default sgd)", 0, 0, NULL, 0, 0},
        {"--lr", ARG_DOUBLE, &c.lr, "X", "learning rate (default 0.1)", 0, 0, NULL, 0, 0},
        {"--batch", ARG_CUSTOM, &c.batch, "B", "examples per step, or 'full' for full-batch GD (default 128)", 0, 0, parse_batch, 0, 0},
        {"--epochs", ARG_LONG, &c.epochs, "E", "passes over the training set (default 5)", 1, 1000000, NULL, 0, 0},
        {"--schedule", ARG_STR, &c.schedule, "SPEC", "learning-rate schedule: step:step_size=S,gamma=G, cosine:t_max=T, ...", 0, 0, NULL, 0, 0},
        {"--warmup", ARG_LONG, &c.warmup, "N", "linear warm-up over the first N steps", 0, 1L << 40, NULL, 0, 0},
        {"--clip-norm", ARG_DOUBLE, &c.clip_norm, "C", "clip the global gradient L2 norm to C", 0, 0, NULL, 0, 0},
        {"--clip-value", ARG_DOUBLE, &c.clip_value, "C", "clip every gradient element to [-C, C]", 0, 0, NULL, 0, 0},
        {"--seed", ARG_U64, &c.seed, "S", "seed of the init, split and sampler (default 1)", 0, 0, NULL, 0, 0},
        {"--threads", ARG_INT, &c.threads, "T", "threads (default: 1 or all cores, whichever a timed pass finds faster); results do not depend on it", 1, 1024, NULL, 0, 0},
        {"--sampler", ARG_CUSTOM, &c.sampler, "KIND", "shuffle (a permutation per epoch, default) or iid (with replacement)", 0, 0, parse_sampler, 0, 0},
        {"--val-split", ARG_DOUBLE, &c.val_split, "F", "hold out a fraction F of the training set for validation", 0, 0, NULL, 0, 0},
        {"--normalize", ARG_BOOL, &c.normalize, NULL, "standardize inputs with the training set's mean and std", 0, 0, NULL, 0, 0},
        {"--no-decay-bias", ARG_BOOL, &c.no_decay_bias, NULL, "no weight decay on biases", 0, 0, NULL, 0, 0},
        {"--subset", ARG_LONG, &c.train_subset, "N", "train on the first N training examples only", 1, 1L << 31, NULL, 0, 0},
        {"--log", ARG_STR, &c.log_path, "F.csv", "write one CSV row per epoch", 0, 0, NULL, 0, 0},
        {"--save", ARG_STR, &c.save_path, "F", "save the trained model to F", 0, 0, NULL, 0, 0},
        {"--quiet", ARG_BOOL, &c.quiet, NULL, "print only the final result", 0, 0, NULL, 0, 0},
        {"--checkpoint", ARG_STR, &c.checkpoint_path, "F", "checkpoint file (written atomically; also on SIGINT/SIGTERM)", 0, 0, NULL, 0, 0},
        {"--checkpoint-every", ARG_CUSTOM, &every, "N|epoch", "write the checkpoint every N steps or every epoch", 0, 0, parse_every, 0, 0},
        {"--resume", ARG_STR, &c.resume_path, "F", "continue the run saved in checkpoint F (same settings)", 0, 0, NULL, 0, 0},
        {"--on-divergence", ARG_CUSTOM, &c.on_divergence, "stop|rollback", "on NaN/Inf: stop (default) or reload the last good state with half the lr", 0, 0, parse_divergence, 0, 0},
        {"--max-rollbacks", ARG_INT, &c.max_rollbacks, "K", "rollbacks allowed before giving up (default 3)", 0, 1000, NULL, 0, 0},
    };
    int n_flags = (int)(sizeof flags / sizeof flags[0]);
    int rc = cli_parse(argc, argv, 2, flags, n_flags, "train", "[options]");
    if (rc == CLI_HELP) return 0;
    if (rc) return train_error(rc, 1);
    char *settings = NULL;
    if (c.resume_path && (rc = fill_from_checkpoint(flags, n_flags, c.resume_path, &settings))) {
        free(settings);
        return train_error(rc, 0);
    }
    if (every == -1) c.checkpoint_epoch = 1;
    else c.checkpoint_every = every;
    if (c.checkpoint_path && !c.checkpoint_every && !c.checkpoint_epoch) c.checkpoint_epoch = 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    c.stop = &stop_signal;
    if (ol_dist_size() > 1) { /* data-parallel: each rank its share of every batch, one all-reduce per step */
        c.dist_rank = ol_dist_rank();
        c.dist_size = ol_dist_size();
        c.allreduce = ol_dist_allreduce;
        c.stop = ol_dist_watch_stop(&stop_signal); /* all ranks stop after the same step */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        if (!c.threads) c.threads = cores / ol_dist_local_size() > 1 ? (int)(cores / ol_dist_local_size()) : 1;
    }
    ol_train_result r;
    rc = ol_train_run(&c, &r);
    free(settings);
    if (rc == OL_ESTOPPED) {
        if (ol_dist_rank() == 0) fprintf(stderr, "optlab: %s\n", ol_error());
        return 128 + (int)*c.stop;
    }
    if (rc) return train_error(rc, rc == OL_ENUMERIC);
    if (ol_dist_rank() != 0) return 0;
    if (r.rollbacks) printf("(%d divergence rollback%s)\n", r.rollbacks, r.rollbacks > 1 ? "s" : "");
    printf("test accuracy %.2f%%  test loss %.4f  (%ld epochs, %ld steps, %.2f s/epoch)\n", 100 * r.test_acc, r.test_loss,
           r.epochs_done, r.steps, r.seconds_per_epoch);
    return 0;
}

int cmd_eval(int argc, char **argv) {
    const char *model_path = NULL, *data = "fashion-mnist";
    int threads = 0;
    cli_flag flags[] = {
        {"--model", ARG_STR, &model_path, "F", "a model file written by optlab train --save", 0, 0, NULL, 1, 0},
        {"--data", ARG_STR, &data, "D", "fashion-mnist (default), mnist, or a directory with the 4 MNIST files", 0, 0, NULL, 0, 0},
        {"--threads", ARG_INT, &threads, "T", "threads (default: all cores)", 1, 1024, NULL, 0, 0},
    };
    int rc = cli_parse(argc, argv, 2, flags, (int)(sizeof flags / sizeof flags[0]), "eval", "--model F [--data D]");
    if (rc == CLI_HELP) return 0;
    if (rc) return cli_report_error(rc);
    if (threads) ol_parallel_set_threads(threads);
    ol_mlp m;
    ol_dataset train, test;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    if ((rc = ol_mlp_load(&m, model_path))) return cli_report_error(rc);
    ol_mlp_graph eval = {0};
    if ((rc = ol_data_load(data, &train, &test))) goto out;
    ol_dataset_free(&train);
    if (ol_dataset_dim(&test) != (size_t)m.sizes[0]) {
        rc = ol_fail(OL_EARG, "the data's images have %zu pixels but the model %s expects %d inputs", ol_dataset_dim(&test),
                     m.spec, m.sizes[0]);
        goto out;
    }
    if (test.n_classes > m.sizes[m.n_layers]) {
        rc = ol_fail(OL_EARG, "the data has %d classes but the model has %d outputs", test.n_classes, m.sizes[m.n_layers]);
        goto out;
    }
    if ((rc = ol_mlp_graph_build(&m, &eval, 1000, 0))) goto out;
    double loss, acc;
    if ((rc = ol_evaluate(&m, &eval, &test, &loss, &acc))) goto out;
    printf("test loss %.4f  test accuracy %.2f%%  (%u examples, model %s)\n", loss, 100 * acc, test.n, m.spec);
out:
    ol_mlp_graph_free(&eval);
    ol_dataset_free(&test);
    ol_mlp_free(&m);
    return rc ? cli_report_error(rc) : 0;
}
