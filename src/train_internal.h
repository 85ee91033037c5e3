/* train_internal.h: the training loop's state, shared by train.c (the loop) and
 * train_checkpoint.c (what a checkpoint holds of it, and its restoring). Not a public header. */
#ifndef OPTLAB_TRAIN_INTERNAL_H
#define OPTLAB_TRAIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

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
    /* the last good state, serialized, for rollbacks */
    unsigned char *snapshot;
    size_t snapshot_len;
    /* output: leader prints, logs and writes files (rank 0 of a data-parallel run) */
    int leader, quiet, show_progress;
    /* the closure of optimizers that evaluate the loss themselves (lbfgs): the step's batch */
    const ol_train_config *cfg;
    const uint32_t *batch_idx;
    uint32_t batch_n;
    double *accum;         /* --accumulate N > 1: the step's summed (example-weighted) gradients */
} run_state;

/* OL_OK when every parameter is finite; else OL_ENUMERIC saying how many are not and where. */
int ol_train_check_params_finite(const run_state *s);
/* Saves the state as the last good one (for rollbacks) and, when to_file, to c's checkpoint file;
 * a state with a non-finite parameter is never kept: that is the divergence error above. */
int ol_train_save_state(run_state *s, const ol_train_config *c, int to_file);
/* Restores s from checkpoint bytes or a parsed checkpoint; what names it in messages. The
 * settings and the data are checked first; nothing of s is changed unless all is valid, but the
 * optimizer and sampler states, which load all or nothing themselves. */
int ol_train_restore(run_state *s, const ol_ckpt *ck, const char *what);
int ol_train_restore_bytes(run_state *s, const unsigned char *buf, size_t len, const char *what);
/* --resume: the data to read for the run of checkpoint ck (what names it): data itself when its
 * files are found from here; else, when data is the checkpoint's own setting, the directory its run
 * read (section DDIR), with a note on stderr when note; else the error, saying to give --data.
 * The data found into use (cap bytes), its files into files. */
int ol_train_resume_data(const ol_ckpt *ck, const char *what, const char *data, int note, char *use, size_t cap,
                         char files[4][OL_PATH_CAP]);
#endif
