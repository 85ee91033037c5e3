/* optim.h: optimizers and gradient clipping on flat parameter buffers, with a learning-rate schedule.
 *
 * Works on plain (x, g, n) arrays, float or double, with no dependency on the rest of optlab.
 * The update rules, defaults and checks follow torch.optim 1.13 (NAdam as torch >= 2.0); see
 * DESIGN.md "Optimizers" / "Schedules". Errors: 0 or an OL_E* code with ol_error() (common.h).
 *
 *   ol_optim *o;
 *   ol_optim_create(&o, "adam:beta1=0.9,amsgrad=1", 1e-3);   // spec, base lr
 *   ol_optim_add_group(o, x, g, n, -1, -1);                  // -1: the optimizer's lr / weight_decay
 *   ol_optim_set_schedule(o, "cosine:t_max=1000", 100);      // optional, 100 warm-up steps
 *   ol_optim_set_clip(o, 1.0, 0);                            // optional, clip-norm 1
 *   for (...) { compute g; if (ol_optim_step(o)) fail(ol_error()); }
 *   ol_optim_free(o);
 *
 * One step: clip (value, then norm) -> update every group (one pass over its memory, no
 * allocation) -> advance the schedule. Gradient buffers are read, never written.
 *
 * Learning-rate schedules and warm-up: optlab/schedule.h (the optimizer owns one).
 *
 * Random search ("random:sigma=0.1,samples=1") needs an objective: each step draws `samples`
 * candidates x + sigma N(0, I) (written into the groups' x buffers while f is called; f gets
 * group 0's buffer) and keeps the best only if f(best) < f(x), so it never accepts a worse point.
 * f(x) of the current point is cached between steps: if you change x yourself, call
 * ol_optim_set_objective again (it forgets the cache). lr, schedule and clipping do not affect it. */
#ifndef OPTLAB_OPTIM_H
#define OPTLAB_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "optlab/schedule.h"

typedef struct ol_optim ol_optim;

enum {
    OL_OPTIM_GD, OL_OPTIM_SGD, OL_OPTIM_HEAVYBALL, OL_OPTIM_ADAGRAD, OL_OPTIM_RMSPROP,
    OL_OPTIM_ADAM, OL_OPTIM_ADAMW, OL_OPTIM_NADAM, OL_OPTIM_RADAM, OL_OPTIM_RANDOM,
    OL_OPTIM_N_KINDS
};

/* Every hyper-parameter of every kind; each kind reads only its own (spec keys in brackets). */
typedef struct {
    int kind;                      /* OL_OPTIM_* */
    double lr;                     /* >= 0; ignored by random */
    double weight_decay;           /* >= 0; L2 added to g (g += wd x), decoupled for adamw */
    double momentum;               /* sgd, rmsprop: >= 0 */
    double dampening;              /* sgd */
    int nesterov;                  /* sgd: 0/1; needs momentum > 0 and dampening = 0 */
    double beta;                   /* heavyball: >= 0, w+ = w - lr g + beta (w - w_prev) */
    double beta1, beta2;           /* adam, adamw, nadam, radam: in [0, 1) */
    double eps;                    /* adagrad, rmsprop, adam family: >= 0 */
    int amsgrad;                   /* adam, adamw: 0/1 */
    double momentum_decay;         /* nadam: psi >= 0 */
    double alpha;                  /* rmsprop smoothing: >= 0 */
    int centered;                  /* rmsprop: 0/1 */
    int eps_inside;                /* rmsprop: 0/1, 1 = the lecture's g / sqrt(v + eps) */
    double lr_decay;               /* adagrad: >= 0 */
    double initial_accumulator_value; /* adagrad: >= 0 */
    double sigma;                  /* random: > 0, std of the perturbation */
    long samples;                  /* random: >= 1 candidates per step */
} ol_optim_params;

/* torch's defaults for kind (lr: torch's default, 0.01 for gd/sgd/heavyball; adamw wd 0.01). */
ol_optim_params ol_optim_default_params(int kind);
/* Creates from a params struct; every hyper-parameter is validated here. */
int ol_optim_create_params(ol_optim **out, const ol_optim_params *p);
/* Creates from a spec ("adam:beta2=0.99,amsgrad=1", see DESIGN.md) and a base lr. */
int ol_optim_create(ol_optim **out, const char *spec, double lr);
void ol_optim_free(ol_optim *o);
/* Kind from a name ("adam") or -1; name of a kind; the list of names for messages. */
int ol_optim_kind_from_name(const char *name);
const char *ol_optim_kind_name(int kind);
const char *ol_optim_kind_names(void);
int ol_optim_kind(const ol_optim *o);

/* Registers x[n] with its gradient g[n] (g may be NULL for random); groups are numbered from 0
 * in order of addition. lr < 0 or weight_decay < 0: the optimizer's. The group's state is
 * allocated (zeroed) here; add groups before the first step; the buffers must outlive o. */
int ol_optim_add_group(ol_optim *o, float *x, const float *g, size_t n, double lr, double weight_decay);
int ol_optim_add_group_f64(ol_optim *o, double *x, const double *g, size_t n, double lr,
                           double weight_decay);
int ol_optim_n_groups(const ol_optim *o);

/* Sets (restarts) the schedule from each group's base lr, counting steps from now; spec NULL or
 * "constant" with warmup_steps 0 removes it. warmup_steps >= 0, see the formula above. */
int ol_optim_set_schedule(ol_optim *o, const char *sched_spec, long warmup_steps);
/* clip_norm: scale g by min(1, clip_norm / (||g|| + 1e-6)), ||g|| the L2 norm over all groups in
 * double; clip_value: clamp g to [-clip_value, clip_value] (done first). 0 = off, both >= 0. */
int ol_optim_set_clip(ol_optim *o, double clip_norm, double clip_value);

/* One step. OL_ENUMERIC when the gradient norm is not finite: with clip-norm on, that is found
 * before any change and the step is refused; with it off the norm is accumulated in the update's
 * own pass, so the update has been applied (and counted) when the error comes back.
 * OL_ESTATE: no groups, no objective (random), or a onecycle schedule exhausted. */
int ol_optim_step(ol_optim *o);
/* L2 norm of the (value-clipped, not yet norm-clipped) gradient of the last step; NaN before. */
double ol_optim_last_grad_norm(const ol_optim *o);
long ol_optim_step_count(const ol_optim *o);
/* Steps its schedule has taken (the optimizer's steps since the schedule was set). */
long ol_optim_schedule_steps(const ol_optim *o);

/* Feeds the plateau schedule one metric (e.g. the validation loss, once per epoch); no-op for
 * other schedules. */
int ol_optim_report_metric(ol_optim *o, double value);
/* Feeds the bold schedule the loss of the step just taken (call it after every successful
 * ol_optim_step with the loss computed before that step, e.g. the mini-batch loss); no-op for
 * other schedules. */
int ol_optim_report_loss(ol_optim *o, double loss);
/* The lr the next step of group uses (NaN for a bad group). */
double ol_optim_get_lr(const ol_optim *o, int group);
/* Steps the optimizer can take in all (its schedule's ol_sched_max_steps; LONG_MAX: no limit). */
long ol_optim_max_steps(const ol_optim *o);
/* Assigns the group's current lr (group -1: all), as writing group['lr'] in torch. */
int ol_optim_set_lr(ol_optim *o, int group, double lr);
/* Multiplies every group's lr by scale > 0 from now on, whatever the schedule (1 = none): the
 * training loop halves it after a divergence rollback. Not part of the saved state. */
int ol_optim_set_lr_scale(ol_optim *o, double scale);

/* Random search: objective f(x, userdata), x = group 0's buffer (float* or double*); other groups
 * hold their candidates too, for f to read through userdata. */
void ol_optim_set_objective(ol_optim *o, double (*f)(const void *x, void *userdata), void *userdata);
void ol_optim_seed(ol_optim *o, uint64_t seed);   /* default seed 0 */
long ol_optim_evaluations(const ol_optim *o);     /* calls of f so far */

/* Whole optimizer state (step count, every buffer, schedule, warm-up, rng, counters), not the
 * parameters themselves. Little-endian, versioned, CRC-checked; load checks kind, groups, sizes
 * and schedule kind/warm-up against this optimizer, and every field against what a step can write
 * (no NaN in a buffer, no negative second moment or gradient norm, ...), and changes nothing
 * unless all is valid. Save refuses (OL_ENUMERIC) a state whose buffers hold a NaN (the steps
 * diverged): what it saves loads back. */
size_t ol_optim_state_size(const ol_optim *o);
int ol_optim_state_save(const ol_optim *o, void *buf, size_t cap);
int ol_optim_state_load(ol_optim *o, const void *buf, size_t len);

#endif
