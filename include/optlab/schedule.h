/* schedule.h: learning-rate (and momentum) schedules, their compositions and linear warm-up
 * (src/schedule.c, src/schedule_compose.c), for one or more parameter groups; the optimizer
 * (optlab/optim.h) owns one and steps it, and they can be used on their own.
 * Formulas and checks follow torch.optim.lr_scheduler 1.13; errors: 0 or an OL_E* code with
 * ol_error() (common.h).
 *
 * Learning rate at step t (t = steps taken so far; the lr used by step t+1), warm-up of N steps:
 *   t < N:  lr = L0 * (t+1)/N         (L0 = the schedule's own step-0 lr, usually the base lr)
 *   t >= N: the schedule at its step t-N   (torch's value after t-N scheduler.step() calls)
 * i.e. torch's LinearLR(start_factor=1/N, total_iters=N-1) for N steps, then SCHED as if created
 * at step N. tests/ref/torch_optimize.py is the float64 torch reference for all of this.
 *
 * Schedules (torch.optim.lr_scheduler; the chainable ones act on each group's current lr, so
 * ol_optim_set_lr() composes with them as assigning group['lr'] does in torch):
 *   constant                              lr unchanged (not torch's ConstantLR: constant-factor)
 *   step:step_size,gamma=0.1              multistep:milestones=a/b/..,gamma=0.1
 *   exponential:gamma                     cosine:t_max,eta_min=0  (beyond t_max it rises again)
 *   cosine-restarts:t_0,t_mult=1,eta_min=0
 *   cyclic:max_lr,base_lr=<group lr>,step_size_up=2000,step_size_down=<up>,
 *          mode=triangular|triangular2|exp_range,gamma=1          (cycle_momentum: below)
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
 *   constant-factor:factor=1/3,total_iters=5   lr x factor for steps 0..total_iters-1, then back
 *          (torch's ConstantLR; factor in (0, 1])
 *   multiplicative:factor                lr x factor every step, from the lr it finds
 *          (torch's MultiplicativeLR with a constant factor)
 *   cyclic and onecycle take cycle_momentum=0|1 (default 0), base_momentum, max_momentum (torch's
 *          defaults: 0.8/0.9 cyclic, 0.85/0.95 onecycle; each in (0, 1)): with 1 the schedule also
 *          gives the momentum of each step (ol_sched_momentum), torch's formula: from max_momentum
 *          when the lr is lowest to base_momentum when it is highest. The optimizer (optim.h) uses it
 *          as sgd's or rmsprop's momentum, heavyball's beta or the adam family's beta1. torch cycles
 *          by default; optlab does not, so that every run made before keeps its numbers and a spec's
 *          momentum=0.9 means what it says (and plain sgd gets no momentum it was not given).
 *
 * Compositions. A value may carry whole specs in brackets (common.h), one pair per schedule, each
 * written as it would be alone; quote the spec for the shell ([ ] are glob characters):
 *   sequential:schedules=[A]/[B]/...,milestones=m1/m2/...     (torch's SequentialLR)
 *          A from step 0; at step m1 (steps of the sequential, after any warm-up) B starts from its
 *          own step 0, and so on; milestones strictly increasing, one fewer than the schedules.
 *          A schedule starting at a milestone starts as torch's step(0) does: from its closed form
 *          at 0, i.e. from the base lr (linear at base x start_factor, step at base, ...);
 *          multiplicative, plateau and bold take the lr they find. Only the running schedule steps
 *          and hears report_metric / report_loss: plateau and bold are allowed (torch refuses
 *          ReduceLROnPlateau in SequentialLR, pytorch#68978, as it calls step() without a metric).
 *          e.g. sequential:schedules=[linear:start_factor=0.1,total_iters=5]/[cosine:t_max=95],milestones=5
 *   chain:schedules=[A]/[B]/...                               (torch's ChainedScheduler)
 *          every schedule steps each step, in order, each acting on the lr the one before left:
 *          the lr is the product of their factors; metrics and losses go to all of them. Only
 *          schedules that act on the lr they find: step, multistep, exponential, cosine, linear,
 *          poly, constant, constant-factor, multiplicative, plateau, bold, chain. cyclic, onecycle,
 *          cosine-restarts, inverse, inverse-sqrt and sequential set it from the base lr (each step,
 *          or at milestones) and would undo the others' factors, as they do silently in torch
 *          (pytorch#129565): refused.
 *          e.g. chain:schedules=[exponential:gamma=0.95]/[step:step_size=10,gamma=0.5]
 *   They nest (a chain inside a sequential, ...) 3 deep at most. All the schedules of a
 *   composition act on one lr per group, as torch's schedulers on one optimizer: the warm-up,
 *   ol_sched_set_lr and the momentum are the composition's. A schedule's state holds its
 *   children's, so a composition resumes exactly.
 */
#ifndef OPTLAB_SCHEDULE_H
#define OPTLAB_SCHEDULE_H

#include <stddef.h>

typedef struct ol_sched ol_sched;

/* n_groups base lrs; spec as above (NULL = constant); warmup_steps >= 0. */
int ol_sched_create(ol_sched **out, const char *spec, long warmup_steps, size_t n_groups,
                    const double *base_lrs);
void ol_sched_free(ol_sched *s);
double ol_sched_lr(const ol_sched *s, size_t group);      /* lr of the next step */
/* Momentum (or beta1) of the next step: NaN when no schedule of s has set one (cycle_momentum). */
double ol_sched_momentum(const ol_sched *s);
int ol_sched_sets_momentum(const ol_sched *s);   /* 1 if a schedule of s has cycle_momentum=1 */
int ol_sched_set_lr(ol_sched *s, size_t group, double lr);
int ol_sched_check_step(const ol_sched *s);  /* OL_ESTATE (with message) if step() would fail */
long ol_sched_max_steps(const ol_sched *s);  /* steps it can take in all: warm-up + onecycle's total_steps (where
                                                a composition reaches a onecycle's end), else LONG_MAX */
int ol_sched_step(ol_sched *s);              /* after each optimizer step */
int ol_sched_report_metric(ol_sched *s, double value);
int ol_sched_report_loss(ol_sched *s, double loss);   /* bold; no-op for the others */
long ol_sched_steps(const ol_sched *s);       /* steps since creation */
size_t ol_sched_state_size(const ol_sched *s);
int ol_sched_state_save(const ol_sched *s, void *buf, size_t cap);
int ol_sched_state_load(ol_sched *s, const void *buf, size_t len);   /* all or nothing */
/* Every schedule with its keys and defaults, and the composition syntax: the text of --help. */
const char *ol_sched_help(void);

#endif
