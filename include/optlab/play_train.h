/* play_train.h: training an MLP in the report's page (src/play_train.c; issue 18). The page holds a
 * subset of the report's data set (the first training and test images); a run in the page is
 * `optlab train` on that subset: the same settings table and parsers (so a setting the command
 * refuses is refused here with the message it prints after "optlab: "), the same loop
 * (ol_train_fit), the same numbers: its step log is the command's `--step-log` file byte for byte
 * when the command runs with OPTLAB_GEMM=portable on the same subset (`--subset`, `--test-subset`).
 *
 * Built into build/wasm/optlab.wasm (exports: OL_PLAY_EXPORT, play.h) and natively into liboptlab
 * (tests/test_play_train.c). Errors: NULL or an OL_E* code, with ol_play_error() / the run's message. */
#ifndef OPTLAB_PLAY_TRAIN_H
#define OPTLAB_PLAY_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "optlab/play.h"

/* ---- the page's data ---- */

typedef struct ol_play_data ol_play_data;

/* The subset as the page holds it (after inflating its gzip): four IDX files one after the other,
 * train images, train labels, test images, test labels, uncompressed (ol_data_subset_bytes in
 * data.h writes them). Every header field is checked as ol_data_load_idx checks a file's; the
 * label counts must match the image counts; train and test images of one shape; n_classes = 1 +
 * the largest label over both. NULL with ol_play_error() on bad bytes. */
OL_PLAY_EXPORT ol_play_data *ol_play_data_load(const uint8_t *bytes, size_t len);
OL_PLAY_EXPORT void ol_play_data_free(ol_play_data *d);
/* which: 0 the training images, 1 the test images */
OL_PLAY_EXPORT long ol_play_data_count(const ol_play_data *d, int which);
OL_PLAY_EXPORT int ol_play_data_rows(const ol_play_data *d);          /* image height (28) */
OL_PLAY_EXPORT int ol_play_data_cols(const ol_play_data *d);          /* image width (28) */
OL_PLAY_EXPORT int ol_play_data_classes(const ol_play_data *d);
OL_PLAY_EXPORT const uint8_t *ol_play_data_pixels(const ol_play_data *d, int which); /* count x rows*cols */
OL_PLAY_EXPORT const uint8_t *ol_play_data_labels(const ol_play_data *d, int which); /* count */

/* ---- a run ---- */

typedef struct ol_play_fit ol_play_fit;

/* `optlab train` on d with `flags`, one "--name=value" a line ("--normalize" alone for a boolean,
 * which takes no value, as on the command line):
 * the settings of the table in optlab/train_settings.h that define a run (--model, --opt, --lr,
 * --batch, --epochs, --schedule, --warmup, --clip-norm, --clip-value, --seed, --sampler,
 * --normalize, --subset, --test-subset, --init-seed, --perturb, --accumulate, --ema, ...), read by
 * the same parser; the command's settings about files, threads and processes (--data, --log,
 * --step-log, --save, --checkpoint, --resume, --threads, ...) are refused with a message saying the
 * page has none; --max-steps N and --time-budget S (the race) stop it early, as they stop the
 * command. The run is ol_train_fit's,
 * with its messages (a diverged run: OL_ENUMERIC and the command's message; its log up to there is
 * kept). Returns the run (NULL only when out of memory). */
OL_PLAY_EXPORT ol_play_fit *ol_play_fit_run(const ol_play_data *d, const char *flags);
OL_PLAY_EXPORT void ol_play_fit_free(ol_play_fit *f);
/* 0: the run completed (the command would exit 0); else the OL_E* code it fails with */
OL_PLAY_EXPORT int ol_play_fit_status(const ol_play_fit *f);
OL_PLAY_EXPORT const char *ol_play_fit_message(const ol_play_fit *f); /* "" when it succeeded */
/* The step log: rows() rows of 4 doubles: step (1, 2, ...), seconds of training so far, the lr of
 * that step, the step's mean batch loss; and the same as the command's --step-log text
 * ("step,lr,loss\n", then one row a step, numbers as printf %.17g: no seconds, which differ). */
OL_PLAY_EXPORT long ol_play_fit_rows(const ol_play_fit *f);
OL_PLAY_EXPORT const double *ol_play_fit_trace(const ol_play_fit *f);
OL_PLAY_EXPORT const char *ol_play_fit_log_csv(ol_play_fit *f); /* NULL: out of memory */
/* After the run (NaN when it did not complete): mean loss and accuracy (a fraction) of the trained
 * model on the training examples it used (which 0: the first --subset of them, less --val-split's)
 * and on the test set (which 1: the first --test-subset); the seconds of training, evaluation
 * excluded. The model is the run's last weights (schedule-free's x): with --ema or --eval-average
 * the command evaluates the average instead, and its printed test accuracy is the average's. */
OL_PLAY_EXPORT double ol_play_fit_loss(const ol_play_fit *f, int which);
OL_PLAY_EXPORT double ol_play_fit_accuracy(const ol_play_fit *f, int which);
OL_PLAY_EXPORT double ol_play_fit_seconds(const ol_play_fit *f);
/* The trained model (0 / NULL if the settings were refused): its parameters, one flat block as
 * nn.h lays them out (layer l's weight, sizes[l] x sizes[l+1] row-major, then its bias), and its
 * layer sizes (layers() + 1 of them, inputs first). */
OL_PLAY_EXPORT long ol_play_fit_n_params(const ol_play_fit *f);
OL_PLAY_EXPORT const float *ol_play_fit_params(const ol_play_fit *f);
OL_PLAY_EXPORT int ol_play_fit_layers(const ol_play_fit *f);
OL_PLAY_EXPORT int ol_play_fit_size(const ol_play_fit *f, int l);

/* ---- progress ----
 * During ol_play_fit_run every optimizer step reports (step, seconds, loss, lr, params, n_params):
 * in the WebAssembly build to the page's import "optlab" "progress" (the script throttles what it
 * shows and copies the parameters only when it draws them); natively to the function set here
 * (NULL, the default: nobody). params is the live parameter block, valid during the call only. */
typedef void (*ol_play_progress_fn)(long step, double seconds, double loss, double lr, const float *params,
                                    long n_params);
void ol_play_fit_set_progress(ol_play_progress_fn fn);
/* Asks the run in progress to stop after its current step, from the progress report (a program
 * that embeds the library, node's scripts; the page's Stop button ends the run faster, by ending
 * its worker): the run ends with OL_ESTOPPED, "stopped at step N", its log up to there kept. */
OL_PLAY_EXPORT void ol_play_fit_stop(void);

#endif
