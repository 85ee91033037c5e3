/* train_internal.h: the training loop's state, shared by train.c (the loop) and
 * train_checkpoint.c (what a checkpoint holds of it, and its restoring). Not a public header. */
#ifndef OPTLAB_TRAIN_INTERNAL_H
#define OPTLAB_TRAIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef __wasi__ /* after the system headers that declare them elsewhere */
/* WASI (the WebAssembly build: the page, optlab/play_train.h) has no absolute paths and no
 * processes; the page's runs read and write no files: a path resolves to nothing (no data
 * directory recorded), a lock is noted with a placeholder pid */
#define realpath(path, out) ((void)(path), (void)(out), (char *)NULL)
#define getpid() 1
#endif

#include "optlab/checkpoint.h"
#include "optlab/data.h"
#include "optlab/nn.h"
#include "optlab/optim.h"
#include "optlab/sampler.h"
#include "optlab/train.h"
#include "optlab/train_settings.h"

typedef struct {
    ol_dataset *train, val;
    const ol_dataset *test;
    ol_mlp own_model, *m;
    ol_mlp_graph graph, eval;
    ol_optim *opt;
    ol_sampler sampler;
    char settings[OL_TRAIN_SETTINGS_CAP];
    char data_id[256];     /* the training data's count, shape, classes and labels CRC (section DATA) */
    uint32_t pixels_crc;   /* CRC-32 of its pixels (section PIXL) */
    const char *data_dir;  /* its directory, absolute (section DDIR), or NULL */
    /* progress: what a checkpoint saves besides the model, optimizer and sampler */
    long epoch;            /* the epoch in progress (1-based) */
    int epoch_done;        /* 1: its end-of-epoch work is done (the next one starts on resume) */
    long steps;
    double loss_sum;       /* this epoch's loss, summed over examples */
    long seen;             /* this epoch's examples */
    double seconds;        /* training time so far */
    int rollbacks;
    double lr_scale;       /* 0.5 per rollback */
    double step_lr;        /* the lr the last step used (NAN: no step since the start, resume or rollback):
                            * the step a divergence found at the next one is blamed on */
    /* the log, kept in memory and written whole at the end, or up to the epoch before a divergence
     * (never a partial file) */
    char *log;
    size_t log_len, log_cap;
    /* --step-log's text, the same way */
    char *step_log;
    size_t step_log_len, step_log_cap;
    /* the last good state, serialized, for rollbacks */
    unsigned char *snapshot;
    size_t snapshot_len;
    /* output: leader prints, logs and writes files (rank 0 of a data-parallel run) */
    int leader, quiet, show_progress;
    /* the closure of optimizers that evaluate the loss themselves (lbfgs): the step's batch */
    const ol_train_config *cfg;
    const uint32_t *batch_idx;
    uint32_t batch_n;
    int fixed_inputs;      /* 1: the run's own model, inputs not normalized (its mean and 1/std stay 0 and 1) */
    double *accum;         /* --accumulate N > 1: the step's summed (example-weighted) gradients */
} run_state;

/* The log's first line (a checkpoint's log section starts with it). */
#define OL_TRAIN_LOG_HEADER "epoch,step,lr,train_loss,val_loss,val_acc,test_loss,test_acc,seconds\n"

/* OL_OK when every parameter is finite; else OL_ENUMERIC saying how many are not and where. */
int ol_train_check_params_finite(const run_state *s);
/* Saves the state as the last good one (for rollbacks) and, when to_file, to c's checkpoint file;
 * a state with a non-finite parameter is never kept: that is the divergence error above. */
int ol_train_save_state(run_state *s, const ol_train_config *c, int to_file);
/* Restores s from checkpoint bytes or a parsed checkpoint; what names it in messages. The
 * settings and the data are checked first (a conflict is OL_EARG), then every field of every
 * section and the sections against each other (progress, model, optimizer, sampler and log tell
 * one story: OL_EFORMAT, "corrupt <section> section (...)"); nothing of s is changed unless all is
 * valid, but the optimizer and sampler states, which load all or nothing themselves. */
int ol_train_restore(run_state *s, const ol_ckpt *ck, const char *what);
int ol_train_restore_bytes(run_state *s, const unsigned char *buf, size_t len, const char *what);
/* --resume: the data to read for the run of checkpoint ck (what names it): data itself when its
 * files are found from here; else, when data is the checkpoint's own setting, the directory its run
 * read (section DDIR), with a note on stderr when note; else the error, saying to give --data.
 * The data found into use (cap bytes), its files into files. */
int ol_train_resume_data(const ol_ckpt *ck, const char *what, const char *data, int note, char *use, size_t cap,
                         char files[4][OL_PATH_CAP]);
/* Before the run allocates its model: the checkpoint's settings against the run's (settings text),
 * and its model section against the model they make (layout: ol_mlp_layout's, nothing allocated),
 * so that a small checkpoint whose settings name a huge model is refused without allocating it. */
int ol_train_check_resume(const ol_ckpt *ck, const char *settings, const ol_mlp *layout, const char *what);
/* One writer per checkpoint: an exclusive flock on "<checkpoint>.lock" beside it (a separate,
 * stable file: the atomic rename replaces the checkpoint's inode at every write), holding the
 * writer's pid for the refusal's message. The kernel releases it when the process ends however it
 * ends, so a killed run's leftover file blocks nothing; a run that ends itself removes it. Nothing
 * is locked for a checkpoint that is a device or a FIFO. */
typedef struct {
    int fd;              /* -1: nothing held */
    char path[OL_PATH_CAP + 8];
} ol_ckpt_lock;
/* OL_ESTATE naming the other run's pid when one holds it; OL_EIO when the file cannot be made. */
int ol_train_lock_checkpoint(ol_ckpt_lock *l, const char *checkpoint);
/* Removes the lock file (when it is still ours) and releases the lock; safe when nothing is held. */
void ol_train_unlock_checkpoint(ol_ckpt_lock *l);
#endif
