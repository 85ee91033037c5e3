/* cmd_train.c: `optlab train` and `optlab eval`: flags -> ol_train_config -> ol_train_run. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "ranks.h"
#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/sampler.h"
#include "optlab/dist.h"
#include "optlab/nn.h"
#include "optlab/parallel.h"
#include "optlab/train.h"
#include "optlab/train_settings.h"

/* SIGINT / SIGTERM: the loop finishes its step, writes the checkpoint and stops. */
static volatile sig_atomic_t stop_signal;
static void on_signal(int signo) { stop_signal = signo; }

/* --resume: every run-defining setting not given on the command line is taken from the
 * checkpoint (the library's settings table); the ones given are compared with it by the training
 * loop (a conflict is refused). */
static int fill_from_checkpoint(ol_train_config *c, const cli_flag *flags, const int *setting_of, int n_flags,
                                const char *path, char **settings_out) {
    char *settings;
    int rc = ol_train_checkpoint_settings(path, &settings);
    if (rc) return rc;
    int given[CLI_TRAIN_MAX_FLAGS] = {0};
    for (int k = 0; k < n_flags; k++)
        if (setting_of[k] >= 0 && flags[k].seen) given[setting_of[k]] = 1;
    rc = ol_train_settings_apply(c, settings, given);
    *settings_out = settings; /* string settings point into it: the caller frees it after the run */
    return rc;
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
    cli_flag flags[CLI_TRAIN_MAX_FLAGS];
    int setting_of[CLI_TRAIN_MAX_FLAGS];
    int n_flags = cli_train_flags(&c, &every, flags, setting_of, CLI_TRAIN_MAX_FLAGS);
    int rc = cli_parse(argc, argv, 2, flags, n_flags, "train", "[options]"), status;
    if (rc == CLI_HELP) cli_print_optimizers();
    if (!cli_ranks_go_on(rc, &status)) return status;
    char *settings = NULL;
    if (c.resume_path && (rc = fill_from_checkpoint(&c, flags, setting_of, n_flags, c.resume_path, &settings))) {
        free(settings);
        return cli_ranks_error(rc, 0, "job");
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
        c.agree = ol_dist_agree; /* before the first step: every rank was given the same run */
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
    /* a divergence happens on every rank at once (the loss is all-reduced), and so does the
     * ranks' disagreement; anything else may be one rank's */
    if (rc) return cli_ranks_error(rc, rc == OL_ENUMERIC || r.ranks_disagree, "job");
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
    if ((rc = ol_mlp_check_shape(&m, test.rows, test.cols))) goto out; /* its inputs, and its image shape if known */
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
