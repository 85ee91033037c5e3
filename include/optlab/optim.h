/* optim.h: optimizers, learning-rate schedules and gradient clipping on flat parameter buffers.
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
 * Learning rate at step t (t = steps taken so far; the lr used by step t+1), warm-up of N steps:
 *   t < N:  lr = L0 * (t+1)/N         (L0 = the schedule's own step-0 lr, usually the base lr)
 *   t >= N: the schedule at its step t-N   (torch's value after t-N scheduler.step() calls)
 * i.e. torch's LinearLR(start_factor=1/N, total_iters=N-1) for N steps, then SCHED as if created
 * at step N. tests/ref/torch_optimize.py is the float64 torch reference for all of this.
 *
 * Schedules (torch.optim.lr_scheduler; the chainable ones act on each group's current lr, so
 * ol_optim_set_lr() composes with them as assigning group['lr'] does in torch):
 *   constant                              lr unchanged (not torch's ConstantLR)
 *   step:step_size,gamma=0.1              multistep:milestones=a/b/..,gamma=0.1
 *   exponential:gamma                     cosine:t_max,eta_min=0  (beyond t_max it rises again)
 *   cosine-restarts:t_0,t_mult=1,eta_min=0
 *   cyclic:max_lr,base_lr=<group lr>,step_size_up=2000,step_size_down=<up>,
 *          mode=triangular|triangular2|exp_range,gamma=1          (momentum not cycled)
 *   onecycle:total_steps,max_lr=<group lr>,pct_start=0.3,anneal=cos|linear,div_factor=25,
 *          final_div_factor=1e4      (starts at max_lr/div_factor; a step past total_steps
 *          (plus warm-up) is refused with OL_ESTATE before anything changes)
 *   linear:start_factor=1/3,end_factor=1,total_iters=5     poly:total_iters=5,power=1
 *   inverse:alpha=c*<group lr>,c=1       lr_t = alpha/(c+t)        (so lr_0 = the base lr)
 *   inverse-sqrt:alpha=c*<group lr>,c=1  lr_t = alpha/(c+sqrt t)
 *   plateau:factor=0.1,patience=10,threshold=1e-4,cooldown=0,min_lr=0
 *          ReduceLROnPlateau(mode min, rel threshold, eps 1e-8), driven by report_metric();
 *          metrics reported during warm-up are ignored.
 *   bold:up=1.05,down=0.5,window=1,tol=0,min_lr=0,max_lr=10*<group lr>
 *          the "bold driver", the lecture's "decrease the rate if the loss varies wildly, otherwise
 *          increase it", driven by report_loss(): the losses are averaged over windows of `window`
 *          reports; after each window but the first, lr *= down if the window's mean loss exceeds
 *          the previous window's by more than tol * |previous|, else lr *= up, then clamped to
 *          [min_lr, max_lr]; a non-finite loss gives lr *= down at once. window=1 is the classic
 *          rule for full-batch GD; with mini-batches compare means over several steps with a
 *          tolerance (one batch's loss is too noisy: e.g. window = 1/16 epoch, tol=0.1, as the
 *          tuning lab). Losses reported during warm-up are ignored.
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

typedef struct ol_optim ol_optim;
typedef struct ol_sched ol_sched;

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
 * and schedule kind/warm-up against this optimizer and changes nothing unless all is valid. */
size_t ol_optim_state_size(const ol_optim *o);
int ol_optim_state_save(const ol_optim *o, void *buf, size_t cap);
int ol_optim_state_load(ol_optim *o, const void *buf, size_t len);

/* ---- schedules on their own (the optimizer uses these) ---- */
/* n_groups base lrs; spec as above (NULL = constant); warmup_steps >= 0. */
int ol_sched_create(ol_sched **out, const char *spec, long warmup_steps, size_t n_groups,
                    const double *base_lrs);
void ol_sched_free(ol_sched *s);
double ol_sched_lr(const ol_sched *s, size_t group);      /* lr of the next step */
int ol_sched_set_lr(ol_sched *s, size_t group, double lr);
int ol_sched_check_step(const ol_sched *s);  /* OL_ESTATE (with message) if step() would fail */
long ol_sched_max_steps(const ol_sched *s);  /* steps it can take in all: warm-up + onecycle's total_steps, else LONG_MAX */
int ol_sched_step(ol_sched *s);              /* after each optimizer step */
int ol_sched_report_metric(ol_sched *s, double value);
int ol_sched_report_loss(ol_sched *s, double loss);   /* bold; no-op for the others */
long ol_sched_steps(const ol_sched *s);       /* steps since creation */
const char *ol_sched_name(const ol_sched *s);
size_t ol_sched_state_size(const ol_sched *s);
int ol_sched_state_save(const ol_sched *s, void *buf, size_t cap);
int ol_sched_state_load(ol_sched *s, const void *buf, size_t len);   /* all or nothing */

#endif
