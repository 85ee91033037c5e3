/* play.h: the entry points of the report's interactive panels (src/play.c), built into
 * build/wasm/optlab.wasm (`make wasm`) and, natively, into liboptlab (the tests). A run of the page
 * is the run `optlab optimize` makes with the same flags: the settings arrive as the command's flag
 * texts, are read by the same parsers in the same order (so a setting the command refuses is refused
 * here with the message the command prints after "optlab: "), build the same objective and
 * optimizer and run the same loop; the trace is the command's --trace file, byte for byte.
 *
 * Errors: 0 or an OL_E* code with ol_error() (common.h); a run keeps its own message. */
#ifndef OPTLAB_PLAY_H
#define OPTLAB_PLAY_H

#include <stddef.h>
#include <stdint.h>

#include "optlab/functions.h"
#include "optlab/optim.h"

/* In the WebAssembly build these are the module's exports (the rest of the library is hidden). */
#ifdef __wasm__
#define OL_PLAY_EXPORT __attribute__((visibility("default")))
#else
#define OL_PLAY_EXPORT
#endif

/* ---- `optlab optimize`, piece by piece (the command's own steps, for it to share) ---- */

/* "a,b,c" -> *x (malloc'ed, caller frees) and *d; "--x0"'s checks and messages. */
int ol_play_parse_point(const char *text, double **x, int *d);
/* The objective fn at x[0..d) and the optimizer on it: spec, lr, schedule (NULL: constant), warm-up
 * steps, clip-norm and clip-value (0: off), seed; in the command's order, with its messages (the
 * command refuses a negative clip before it reads --x0). On failure nothing is left allocated. */
int ol_play_setup(ol_objective *obj, ol_optim **o, const char *fn, const double *x, int d, const char *opt,
                  double lr, const char *schedule, long warmup, double clip_norm, double clip_value,
                  uint64_t seed);
/* --diverge-factor's default: a run has diverged when f > f(x0) + F max(|f(x0)|, 1) (or f is not
 * finite). An objective a million times its start (or, from a start at or near 0, above a million)
 * is not being minimized; the bound leaves room for the overshoot of momentum and of large rates
 * (the torch reference cases of tests/ref/cases.txt that converge rise by at most 0.8 f(x0)). */
#define OL_PLAY_DIVERGE_FACTOR 1e6
/* ol_fn_minimize with the command's options: `steps` steps at most, f reported to the schedule
 * after every step, a non-finite f or one past the bound of diverge_factor (0: none) stops the run
 * (OL_MIN_DIVERGED); on_point (may be NULL) sees the start (step 0) and every step before the one
 * that diverged. */
int ol_play_minimize(ol_objective *obj, ol_optim *o, long steps, double diverge_factor,
                     int (*on_point)(void *userdata, long step, double f, const double *x), void *userdata,
                     ol_fn_minimize_result *r);
/* The command's message for a run that diverged (r->outcome == OL_MIN_DIVERGED) at r->steps, the
 * step that used lr_used; at step 0 the start itself is out of range (a usage error); trace (or
 * NULL) is where the trace up to it was written. */
int ol_play_diverged(const ol_fn_minimize_result *r, double lr_used, double diverge_factor, const char *trace);
/* One trace row "step,lr,f,x0,...[,ax0,...]\n" (printf %.17g; ax: asgd's average, or NULL) into
 * buf; its length, or the length it needs when that is cap or more (as snprintf). */
size_t ol_play_trace_row(char *buf, size_t cap, long step, double lr, double f, const double *x, const double *ax,
                         int d);
/* The trace's header "step,lr,f,x0,...[,ax0,...]\n" into buf, as ol_play_trace_row. */
size_t ol_play_trace_header(char *buf, size_t cap, int d, int with_average);

/* ---- a run, from flag texts ---- */

typedef struct ol_play ol_play;

/* Runs `optlab optimize` with the flags in `flags`: one "--name=value" a line, as on the command
 * line (--fn, --x0, --opt, --lr, --steps required; --schedule, --warmup, --clip-norm, --clip-value,
 * --diverge-factor, --seed optional; --trace and --quiet are the command's output and are not taken). Returns the
 * run (NULL only when out of memory): refused settings, a run that fails or diverges all come back
 * in it, with the trace of the points it reached. */
OL_PLAY_EXPORT ol_play *ol_play_run(const char *flags);
/* ol_play_run up to the run itself: the flags read, the objective and optimizer made, no step
 * taken and no point evaluated (status and message say whether the command would start). */
OL_PLAY_EXPORT ol_play *ol_play_check(const char *flags);
OL_PLAY_EXPORT void ol_play_free(ol_play *p);
/* 0: the run completed (the command exits 0); else the OL_E* code the command fails with. */
OL_PLAY_EXPORT int ol_play_status(const ol_play *p);
/* The command's message when it fails ("" when it succeeds): a refused setting, the divergence,
 * an optimizer's error (a onecycle schedule stepped past its end...). */
OL_PLAY_EXPORT const char *ol_play_message(const ol_play *p);
OL_PLAY_EXPORT int ol_play_outcome(const ol_play *p);      /* OL_MIN_* (functions.h); -1 if it never ran */
OL_PLAY_EXPORT long ol_play_steps(const ol_play *p);       /* optimizer steps taken */
OL_PLAY_EXPORT double ol_play_f(const ol_play *p);         /* f at the last point (NaN if none) */
OL_PLAY_EXPORT long ol_play_evaluations(const ol_play *p); /* evaluations of f of random search, lbfgs, sam (else 0) */
OL_PLAY_EXPORT int ol_play_dim(const ol_play *p);          /* d (0 if the settings were refused) */
/* The trace: rows() rows of width() doubles (step, lr, f, x0..x{d-1}, and asgd's average
 * ax0..ax{d-1}: width 3 + d, or 3 + 2d with the average), row k the point after k steps and the lr
 * step k+1 uses, as the command's --trace; and the same as the command's CSV text. A diverged run
 * keeps the points up to and with the one where it diverged, as the command's trace; a refused one
 * has none. */
OL_PLAY_EXPORT long ol_play_rows(const ol_play *p);
OL_PLAY_EXPORT int ol_play_width(const ol_play *p);
OL_PLAY_EXPORT const double *ol_play_trace(const ol_play *p);
OL_PLAY_EXPORT const char *ol_play_trace_csv(ol_play *p);   /* NULL: out of memory */

/* ---- the landscape ---- */

/* f (spec as --fn, in 2 dimensions) on a w x h grid over [x_lo, x_hi] x [y_lo, y_hi]: out[r w + c] =
 * f(x_lo + (x_hi - x_lo) c / (w - 1), y_lo + (y_hi - y_lo) r / (h - 1)), row 0 at y_lo. A malloc'ed
 * array (free with ol_play_free_buffer), or NULL with ol_error(). w, h in [2, 4096]. */
OL_PLAY_EXPORT double *ol_play_map(const char *fn, double x_lo, double x_hi, double y_lo, double y_hi, int w,
                                   int h);

/* ---- a check of the build: the matrix product's bytes ----
 * CRC-32 of C after C = 0.7 op(A) op(B) + 0.3 C, A, B, C filled from ol_rng seeded with seed, in
 * float32 (precision 32) or float64 (64): the same number natively with the portable kernel and
 * in the WebAssembly build (tests/test_play.c); 0 for bad sizes (each in [1, 4096]) or no memory. */
OL_PLAY_EXPORT uint32_t ol_play_gemm_digest(int m, int n, int k, int trans_a, int trans_b, int precision,
                                            uint32_t seed);
/* The product's speed, for `make bench-play` (bench/play_bench.py): with A, B, C filled as
 * ol_play_gemm_digest fills them (seed 1) and one product untimed, `rounds` rounds of `reps`
 * products; the best round's seconds per product (the current kernel: natively ol_gemm_set_kernel's).
 * 0 for bad sizes (as ol_play_gemm_digest), rounds or reps below 1, or no memory. */
OL_PLAY_EXPORT double ol_play_gemm_seconds(int m, int n, int k, int trans_a, int trans_b, int precision, int rounds,
                                           int reps);

/* ---- for the page's script: memory and messages ---- */
OL_PLAY_EXPORT void *ol_play_alloc(size_t bytes);          /* NULL when out of memory */
OL_PLAY_EXPORT void ol_play_free_buffer(void *p);
OL_PLAY_EXPORT const char *ol_play_error(void);             /* ol_error() */

#endif
