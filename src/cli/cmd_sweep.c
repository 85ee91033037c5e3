/* cmd_sweep.c: `optlab sweep`: flags -> ol_sweep_config -> ol_sweep_run; also as
 * `mpirun -np P optlab sweep ...`, the ranks sharing the trials. */
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "ranks.h"
#include "optlab/common.h"
#include "optlab/dist.h"
#include "optlab/sweep.h"

static int parse_prune(const char *value, void *target) {
    if (!strcmp(value, "none")) *(int *)target = OL_PRUNE_NONE;
    else if (!strcmp(value, "median")) *(int *)target = OL_PRUNE_MEDIAN;
    else if (!strcmp(value, "halving")) *(int *)target = OL_PRUNE_HALVING;
    else return ol_fail(OL_EARG, "'%s' is not a pruning rule; use median, halving or none", value);
    return OL_OK;
}

/* SIGINT / SIGTERM: the running trials checkpoint and stop; the sweep exits, to be run again. */
static volatile sig_atomic_t stop_signal;
static void on_signal(int signo) { stop_signal = signo; }

/* Cores this process may use (its affinity: mpirun may bind a rank to one core), shared among the
 * ranks on this machine when they are not bound. */
static int usable_cores(void) {
    cpu_set_t set;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)online;
    if (cores >= online && ol_dist_local_size() > 1) cores /= ol_dist_local_size();
    return cores > 1 ? cores : 1;
}

static int sweep_command(int argc, char **argv) {
    ol_sweep_config c = ol_sweep_default_config();
    long draw_seed = 1;
    cli_flag flags[] = {
        {"--grid", ARG_STR, &c.grid, "G", "parameters and values: 'opt=sgd:momentum=0.9/adam,lr=0.01/0.1,batch=32/128'", 0, 0, NULL, 1, 0},
        {"--epochs", ARG_LONG, &c.epochs, "E", "epochs per trial", 1, 100000, NULL, 1, 0},
        {"--out", ARG_STR, &c.out_dir, "DIR", "results.csv, index.html and trials/ (new, empty or this sweep's: run again, finished trials are skipped)", 0, 0, NULL, 1, 0},
        {"--force", ARG_BOOL, &c.force, NULL, "write into an --out directory that holds files optlab did not write (refused otherwise)", 0, 0, NULL, 0, 0},
        {"--random", ARG_LONG, &c.random, "N", "N settings drawn at random from the grid (default: all)", 1, OL_SWEEP_MAX_TRIALS, NULL, 0, 0},
        {"--draw-seed", ARG_LONG, &draw_seed, "S", "seed of the random draws (default 1)", 0, 1L << 62, NULL, 0, 0},
        {"--seeds", ARG_INT, &c.seeds, "K", "seeds per setting: trials train with --seed 1..K (default 1)", 1, 1000, NULL, 0, 0},
        {"--jobs", ARG_INT, &c.jobs, "J", "trials at a time (per rank under mpirun; default 1)", 1, 1024, NULL, 0, 0},
        {"--prune", ARG_CUSTOM, &c.prune, "RULE", "stop hopeless trials early: median (rule) or halving (successive halving)", 0, 0, parse_prune, 0, 0},
        {"--eta", ARG_INT, &c.eta, "N", "successive halving keeps the best 1/N at each rung (default 3)", 2, 100, NULL, 0, 0},
        {"--min-completed", ARG_INT, &c.min_completed, "N", "median rule: prune only once N trials have completed (default 3)", 1, 100000, NULL, 0, 0},
        {"--data", ARG_STR, &c.data, "D", "fashion-mnist (default), mnist, or a directory with the 4 MNIST files", 0, 0, NULL, 0, 0},
        {"--model", ARG_STR, &c.model, "SPEC", "model of every trial unless the grid varies it (default mlp:784-256-10)", 0, 0, NULL, 0, 0},
        {"--subset", ARG_LONG, &c.subset, "N", "train on the first N training examples only", 1, 1L << 31, NULL, 0, 0},
        {"--val-split", ARG_DOUBLE, &c.val_split, "F", "validation fraction the trials are compared on (default 0.1)", 0, 0, NULL, 0, 0},
        {"--threads", ARG_INT, &c.threads, "T", "threads per trial (default: the cores divided among the jobs)", 1, 1024, NULL, 0, 0},
        {"--quiet", ARG_BOOL, &c.quiet, NULL, "print only the summary", 0, 0, NULL, 0, 0},
    };
    int n_flags = (int)(sizeof flags / sizeof flags[0]);
    int rc = cli_parse(argc, argv, 2, flags, n_flags, "sweep", "--grid G --epochs E --out DIR [options]");
    int status;
    if (!cli_ranks_go_on(rc, &status)) return status;
    c.draw_seed = (uint64_t)draw_seed;
    c.rank = ol_dist_rank();
    c.size = ol_dist_size();
    if (!c.threads) {
        int per = usable_cores() / c.jobs;
        c.threads = per > 1 ? per : 1;
    }
    /* the trials run this very executable */
    static char self[PATH_MAX];
    if (!realpath("/proc/self/exe", self)) snprintf(self, sizeof self, "%s", argv[0]);
    c.trainer = self;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    c.stop = &stop_signal;
    ol_sweep_summary s;
    rc = ol_sweep_run(&c, &s);
    if (rc == OL_ESTOPPED) {
        if (ol_dist_rank() == 0) fprintf(stderr, "optlab: %s\n", ol_error());
        return 128 + (int)stop_signal;
    }
    /* bad settings or a foreign --out: every rank sees the same; anything else may be one rank's */
    if (rc) return cli_ranks_error(rc, rc == OL_EARG, "sweep");
    if (c.rank != 0) return 0;
    printf("sweep done: %ld trials (%ld ok, %ld pruned, %ld diverged, %ld failed; %ld finished before)\n", s.trials, s.ok,
           s.pruned, s.diverged, s.failed, s.skipped);
    if (s.best_id[0])
        printf("best: trial %s  %s  val_loss %.4f  val_acc %.2f%%\n", s.best_id, s.best_setting, s.best_val_loss,
               100 * s.best_val_acc);
    printf("results: %s/results.csv  %s/index.html\n", c.out_dir, c.out_dir);
    return 0;
}

int cmd_sweep(int argc, char **argv) {
    int rc = ol_dist_init(&argc, &argv);
    if (rc) return cli_report_error(rc);
    int status = sweep_command(argc, argv);
    ol_dist_finalize();
    return status;
}
