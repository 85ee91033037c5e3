/* sweep.h: hyperparameter sweeps: every setting of a grid (or random draws from it), each with K
 * seeds, trained as separate `optlab train` processes (fork/exec: a trial that crashes takes
 * nothing else down), J at a time, spread over MPI ranks when launched by mpirun; early stopping of
 * hopeless trials (median rule or successive halving); results in DIR/results.csv and DIR/index.html.
 * `optlab sweep` is a thin layer over ol_sweep_run. Not an optimizer of hyperparameters (no model of
 * the loss surface): it runs what the grid says, reliably, and restarts where it stopped.
 *
 * The grid: parameters separated by ',' and values by '/':
 *     opt=sgd:momentum=0.9/adam,lr=0.01/0.1/1,batch=32/128
 * Specs hold ',' and ':' themselves (sgd:momentum=0.9,nesterov=1), so the rule is:
 *   - a parameter starts at the beginning or at a ',' directly followed by NAME= where NAME is one
 *     of the parameters below; any other ',' belongs to the value being read;
 *   - values of a spec parameter (opt, schedule, model) are separated by a '/' followed by a letter
 *     (the start of the next spec's name); a '/' followed by anything else stays in the spec (lists
 *     of numbers: multistep:milestones=10/25); values of the other parameters split at every '/'.
 * Parameters: opt, lr, batch (a number or full), schedule, warmup, clip-norm, clip-value, model,
 * sampler (shuffle|iid), normalize (0|1), no-decay-bias (0|1), subset. Those not in the grid take
 * `optlab train`'s defaults (model: the sweep's --model).
 *
 * The output directory DIR:
 *   sweep.txt           the sweep's definition; running again with other settings is refused
 *   trials/<id>.txt     one finished trial (key=value lines, written atomically): its settings,
 *                       status ok|diverged|failed|pruned, metrics, validation loss per epoch
 *   trials/<id>/        the trial's work: ckpt (checkpoint every epoch), log.csv, out.txt
 *   results.csv         one row per trial, assembled at the end from trials/<id>.txt
 *   index.html          loss against each hyperparameter, the best settings, every trial
 * Run again with the same DIR, a sweep skips the finished trials and resumes the unfinished ones
 * from their last epoch's checkpoint. */
#ifndef OPTLAB_SWEEP_H
#define OPTLAB_SWEEP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define OL_SWEEP_MAX_PARAMS 12
#define OL_SWEEP_MAX_VALUES 64
#define OL_SWEEP_MAX_TRIALS 100000

/* A parsed grid; values point into text (a copy of the grid with NULs between the values). */
typedef struct {
    int n_params;
    const char *name[OL_SWEEP_MAX_PARAMS];
    int n_values[OL_SWEEP_MAX_PARAMS];
    const char *value[OL_SWEEP_MAX_PARAMS][OL_SWEEP_MAX_VALUES];
    char text[4096];
} ol_sweep_grid;

/* Parses and checks a grid (names, numbers, and every spec value by creating it). */
int ol_sweep_grid_parse(ol_sweep_grid *grid, const char *text);
/* Number of settings (the product of the value counts). */
size_t ol_sweep_grid_count(const ol_sweep_grid *grid);
/* value_index[p] of setting number combo (the first parameter varies slowest). */
void ol_sweep_grid_setting(const ol_sweep_grid *grid, size_t combo, int *value_index);

enum { OL_PRUNE_NONE = 0, OL_PRUNE_MEDIAN = 1, OL_PRUNE_HALVING = 2 };

/* Median rule (Golovin et al. 2017, Vizier; as optuna's MedianPruner): after epoch e, stop a trial
 * whose best validation loss so far is worse than the median of the completed trials' validation
 * losses at epoch e; only once at least min_completed of them exist. 1 = prune. */
int ol_sweep_median_prune(double best_so_far, const double *completed_at_epoch, size_t n, size_t min_completed);

/* Successive halving (Jamieson & Talwalkar 2016): the epochs at which the surviving trials are
 * ranked, ascending, the last = epochs. From n trials, each rung keeps the best ceil(n / eta); the
 * first rung is at about epochs / eta^K, K = min(ceil(log_eta epochs), floor(log_eta n)). Returns
 * the number of rungs (<= cap). */
int ol_sweep_halving_rungs(long epochs, long n_trials, int eta, long *rungs, int cap);

typedef struct {
    const char *grid;         /* see above */
    long random;              /* N distinct settings drawn from the grid (0: all of them) */
    uint64_t draw_seed;       /* seed of those draws */
    int seeds;                /* seeds per setting: the trials use --seed 1..seeds */
    long epochs;              /* >= 1 */
    const char *out_dir;      /* DIR */
    int jobs;                 /* trials at a time in this process (>= 1) */
    int prune;                /* OL_PRUNE_* */
    int eta;                  /* successive halving's reduction factor (>= 2, default 3) */
    int min_completed;        /* median rule: completed trials needed before pruning (default 3) */
    const char *data;         /* --data of every trial */
    const char *model;        /* --model unless the grid has model */
    long subset;              /* --subset (0: the whole training set) */
    double val_split;         /* --val-split, in (0, 1) */
    int threads;              /* --threads per trial (0: the cores divided among the jobs) */
    const char *trainer;      /* the optlab executable that runs `train` */
    int quiet;                /* 1: no line per trial */
    volatile sig_atomic_t *stop; /* nonzero: stop the running trials (they checkpoint), return OL_ESTOPPED */
    int rank, size;           /* MPI: this process runs the trials at positions rank, rank + size, ... */
} ol_sweep_config;

/* Defaults: 1 seed, 1 job, no pruning, eta 3, median after 3, val-split 0.1, fashion-mnist,
 * mlp:784-256-10, trainer "optlab", rank 0 of 1. */
ol_sweep_config ol_sweep_default_config(void);

typedef struct {
    long trials;              /* in the sweep */
    long skipped;             /* finished before this run started */
    long ok, diverged, failed, pruned;
    char best_id[32];         /* the trial with the lowest best validation loss ("" when none) */
    char best_setting[1024];  /* its settings, "opt=adam lr=0.01 batch=32 seed=1" */
    double best_val_loss, best_val_acc;
} ol_sweep_summary;

/* Runs the sweep. Under MPI (size > 1) every rank calls it: the ranks split the trials, wait for
 * each other (ol_dist_barrier) and rank 0 writes results.csv and index.html; the summary is filled
 * on rank 0. A trial that diverges or fails is recorded and the others go on; the return code is 0
 * then. Errors: OL_EARG (bad settings, a DIR of another sweep), OL_EIO, OL_ESTOPPED. */
int ol_sweep_run(const ol_sweep_config *c, ol_sweep_summary *summary);

#endif
