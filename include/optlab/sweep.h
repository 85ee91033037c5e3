/* sweep.h: hyperparameter sweeps: every setting of a grid (or random draws from it), each with K
 * seeds, trained as separate `optlab train` processes (fork/exec: a trial that crashes takes
 * nothing else down), J at a time, spread over MPI ranks when launched by mpirun; early stopping of
 * hopeless trials (median rule or successive halving); results in DIR/results.csv and DIR/index.html.
 * `optlab sweep` is a thin layer over ol_sweep_run. Not an optimizer of hyperparameters (no model of
 * the loss surface): it runs what the grid says, reliably, and restarts where it stopped.
 *
 * The grid's grammar: optlab/sweep_grid.h; the pruning rules: optlab/sweep_prune.h.
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

#include "optlab/sweep_grid.h"
#include "optlab/sweep_prune.h"

typedef struct {
    const char *grid;         /* see above */
    long random;              /* N distinct settings drawn from the grid (0: all of them) */
    uint64_t draw_seed;       /* seed of those draws */
    int seeds;                /* seeds per setting: the trials use --seed 1..seeds */
    long epochs;              /* >= 1 */
    const char *out_dir;      /* DIR: missing, empty, or a sweep's own (its .optlab or sweep.txt); see outdir.h */
    int force;                /* 1: write into a DIR holding files optlab did not write */
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
 * then. Errors: OL_EARG (bad settings, a DIR of another sweep, a DIR of files optlab did not write
 * without force), OL_EIO, OL_ESTOPPED. */
int ol_sweep_run(const ol_sweep_config *c, ol_sweep_summary *summary);

#endif
