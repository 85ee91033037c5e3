/* sweep_internal.h: a sweep's trials and state, shared by sweep.c (the runner) and sweep_report.c
 * (results.csv and index.html). Not a public header. */
#ifndef OPTLAB_SWEEP_INTERNAL_H
#define OPTLAB_SWEEP_INTERNAL_H

#include <stddef.h>

#include "optlab/sweep.h"

enum { ST_NONE = 0, ST_OK, ST_DIVERGED, ST_FAILED, ST_PRUNED };
extern const char *const ol_sweep_status_names[]; /* "", "ok", "diverged", "failed", "pruned" */

typedef struct {
    size_t combo;
    int seed;
    char id[16];
    char setting[1024];   /* "opt=adam lr=0.1 batch=32 seed=1" */
    /* the result (trials/<id>.txt), once finished */
    int status;
    long epochs;
    double final_val_loss, final_val_acc, best_val_loss, best_val_acc, test_loss, test_acc, seconds;
    long best_epoch;
    double *val_losses;   /* per epoch (epochs of them) */
    char message[512];
} trial_t;

/* A trial's training log (log.csv, rewritten whole by each child). */
typedef struct {
    long n;
    double *val_loss, *val_acc, *test_loss, *test_acc, *seconds;
} trial_log;

typedef struct {
    const ol_sweep_config *c;
    ol_sweep_grid grid;
    trial_t *trials;
    size_t n_trials;
    long rungs[64];
    int n_rungs;
    int threads;
    char **envp;          /* the environment of the children: ours + OPTLAB_DIST=0 */
    long done_here;       /* trials finished by this process in this run */
    long to_run;          /* this rank's unfinished trials at the start */
} sweep_t;

/* results.csv: one row per trial, the best first */
int ol_sweep_write_results_csv(sweep_t *S);
/* index.html: loss against each hyperparameter, the best trials' curves, every trial */
int ol_sweep_write_html(sweep_t *S, const trial_t *best, long counts[5]);

#endif
