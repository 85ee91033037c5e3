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
 * The kinds, what each is for, and its source (spec keys and defaults: ol_optim_params below):
 *   gd, sgd, heavyball    plain steps, momentum, Nesterov; the lecture's heavy ball (Polyak 1964)
 *   adagrad               per-weight rates that shrink with the summed squared gradients (Duchi 2011)
 *   rmsprop               per-weight rates from a running mean square (Hinton's lecture 6e, 2012)
 *   adam, adamw           momentum + running mean square, bias-corrected (Kingma & Ba 2015);
 *                         decoupled weight decay (Loshchilov & Hutter 2019); amsgrad (Reddi 2018)
 *   nadam, radam          Adam with Nesterov momentum (Dozat 2016), rectified warm-up (Liu 2020)
 *   adadelta              Adam-like rates with no lr to tune: the step is scaled by a running RMS
 *                         of past steps (Zeiler 2012, arXiv:1212.5701; torch's lr 1.0 multiplies it)
 *   adamax                Adam with the infinity norm: steps bounded by lr, robust to rare
 *                         huge gradients (Kingma & Ba 2015, section 7.1)
 *   asgd                  SGD with a decaying step and Polyak-Ruppert averaging of the iterates
 *                         past step t0 (Polyak & Juditsky 1992; torch's ASGD); the average ax
 *                         is what to evaluate: ol_optim_average, ol_optim_swap_average
 *   rprop                 sign-based steps, each weight's own size grown x eta_plus while its
 *                         gradient keeps its sign and cut x eta_minus when it flips; for full
 *                         batches (Riedmiller & Braun 1993; torch's Rprop). lr is only the first
 *                         step size: schedules and later lr changes do not affect it (as torch)
 *   lbfgs                 limited-memory quasi-Newton for smooth deterministic (full-batch)
 *                         problems, optional strong-Wolfe line search (Nocedal 1980, Liu &
 *                         Nocedal 1989; torch's LBFGS, a port of minFunc). Needs a closure
 *   random                derivative-free random search (the lecture's baseline)
 * Every one of them but random is checked against torch.optim 1.13 in float64 (tests/ref).
 * Issue 19's modern ones, each from its paper or reference code, checked against a float64 script
 * written from the same formulas in another form (tests/ref/torch_optimize.py, by hand):
 *   lion                  sign of an interpolated momentum: every weight moves by exactly lr,
 *                         half the memory of adam; use a 3-10x smaller lr (Chen et al. 2023,
 *                         "Symbolic Discovery of Optimization Algorithms", arXiv:2302.06675,
 *                         Algorithm 2): c = b1 m + (1-b1) g; x = x (1 - lr wd) - lr sign(c);
 *                         m = b2 m + (1-b2) g
 *   sf-sgd, sf-adamw      schedule-free: no lr schedule to tune or to know the length of
 *                         (Defazio et al. 2024, "The Road Less Scheduled", arXiv:2405.15682;
 *                         facebookresearch/schedule_free's *_reference.py). The parameters are
 *                         y, where gradients are taken; z -= lr d (sf-sgd: d = g + wd y;
 *                         sf-adamw: z -= lr wd y, v = b2 v + (1-b2) g^2, d = g / (sqrt(v) + eps),
 *                         lr times sqrt(1 - b2^t)); x = (1 - c) x + c z; y = b x + (1 - b) z
 *                         (b: momentum / beta1), c_t = lr_max^2 / sum of lr_max^2 over steps 1..t,
 *                         lr_max the largest lr so far; lr x t / warmup_steps for t <= warmup_steps.
 *                         x is what to evaluate and save: ol_optim_average returns it,
 *                         ol_optim_evaluates_average says so, and `train` swaps it in itself.
 *   lamb                  adam's update rescaled per tensor by ||x|| / ||u||: large-batch
 *                         training (You et al. 2019, "Large Batch Optimization for Deep Learning",
 *                         arXiv:1904.00962; as optax.lamb): m, v as adam, u = (m / bc1) /
 *                         (sqrt(v / bc2) + eps) + wd x, x -= lr r u, r = ||x|| / ||u|| (1 where
 *                         either is 0)
 *   lars                  SGD with momentum whose step is rescaled per tensor: large-batch
 *                         training of vision models (You et al. 2017, "Large Batch Training of
 *                         Convolutional Networks", arXiv:1708.03888; as optax.lars): u = g + wd x,
 *                         r = trust_coefficient ||x|| / (||u|| + eps) (1 where either norm is 0),
 *                         m = momentum m + r u, x -= lr m
 *   adafactor             factored second moments (a row and a column mean of g^2 for a 2-D
 *                         weight, instead of a value per weight) and relative steps: adam-like
 *                         training in sub-linear memory (Shazeer & Stern 2018, arXiv:1804.04235;
 *                         the formula of torch >= 2.5's torch.optim.Adafactor, see
 *                         optim_layerwise.h): factored for declared tensors of at least 2 x 2,
 *                         unfactored for vectors (biases, optimize's x)
 *   muon                  momentum orthogonalized by 5 Newton-Schulz steps (coefficients
 *                         3.4445, -4.7750, 2.0315), for the 2-D weights of hidden layers (Jordan et
 *                         al. 2024, "Muon: An optimizer for hidden layers"; torch >= 2.9's
 *                         torch.optim.Muon, see optim_layerwise.h): nesterov momentum 0.95, step
 *                         lr sqrt(max(1, fan_out / fan_in)) for a declared fan_in x fan_out tensor
 *                         (torch's sqrt(max(1, A / B)) for its (out, in) weight), weight decay
 *                         decoupled (0.1 by default, as torch); the Newton-Schulz iteration in double
 *                         (torch's in bfloat16). Vectors (biases, optimize's x) and tensors with a
 *                         dimension of 1 take AdamW (beta1, beta2, eps) at the same lr and decay
 *   The trust ratios of lamb and lars are taken over each tensor declared by ol_optim_set_tensors
 *   (train declares every layer's weight and its bias as separate tensors); a group without
 *   declared tensors is one tensor (optimize's x is one vector). Norms are summed in double.
 *
 * L-BFGS needs a closure (ol_optim_set_closure): one ol_optim_step is one torch LBFGS.step(closure),
 * which evaluates f and the gradient at several points (max_iter iterations, max_eval evaluations
 * at most). Clipping applies to every gradient the closure returns; there is no weight decay, and
 * every group uses group 0's lr (torch's LBFGS has a single group). Its vectors (direction, last
 * gradient, history_size curvature pairs, and scratch) are kept in each group's precision:
 * (2 history_size + 3) n values, 4 more n with the line search; dot products in double. A step
 * whose first gradient (or f) is not finite is refused (OL_ENUMERIC) before anything changes.
 *
 * Wrappers take any gradient optimizer (not random or lbfgs, which evaluate f themselves). Spec:
 *     WRAPPER[:key=value,...],inner=SPEC    e.g. lookahead:k=5,alpha=0.5,inner=adam:beta1=0.95
 * inner= comes last and takes the rest of the spec, so specs nest without brackets or quotes:
 *     lookahead:k=5,inner=sam:rho=0.1,inner=sgd:momentum=0.9     (lookahead over sam over sgd)
 * at most OL_OPTIM_MAX_WRAPPERS deep. The object is the innermost optimizer's (ol_optim_kind, groups,
 * schedule, clipping, lr, average are its); ol_optim_step runs the wrappers outermost first.
 *   lookahead  k=5, alpha=0.5: slow weights phi start as x at the first step; after every k-th inner
 *              step phi += alpha (x - phi) (in double), x = phi (Zhang, Lucas, Hinton & Ba 2019,
 *              "Lookahead Optimizer: k steps forward, 1 step back", arXiv:1907.08610). The schedule
 *              and the step count are the inner optimizer's (one per inner step); phi and the
 *              inner-step count are in the saved state.
 *   sam        rho=0.05: the g buffers hold the gradient at w when ol_optim_step is called (as for
 *              every kind); e = rho g / (||g|| + 1e-12), ||g|| over all groups (unclipped); x = w + e;
 *              the closure computes the gradient there; x = w again (restored bit for bit from a
 *              copy); the inner optimizer steps with that gradient (clipping applies to it). Two
 *              gradient evaluations a step, one of them the closure's (Foret, Kleiner, Mobahi &
 *              Neyshabur 2021, "Sharpness-Aware Minimization", arXiv:2010.01412; e and its 1e-12
 *              as the authors' reference code). Needs a closure (ol_optim_needs_closure is 1);
 *              a non-finite ||g|| refuses the step (OL_ENUMERIC) with x unchanged.
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
    OL_OPTIM_ADADELTA, OL_OPTIM_ADAMAX, OL_OPTIM_ASGD, OL_OPTIM_RPROP, OL_OPTIM_LBFGS,
    OL_OPTIM_LION, OL_OPTIM_SF_SGD, OL_OPTIM_SF_ADAMW, OL_OPTIM_LAMB, OL_OPTIM_LARS,
    OL_OPTIM_ADAFACTOR, OL_OPTIM_MUON,
    OL_OPTIM_N_KINDS
};
enum { OL_LBFGS_NONE = 0, OL_LBFGS_STRONG_WOLFE = 1 };   /* lbfgs's line_search */
#define OL_OPTIM_MAX_WRAPPERS 4   /* wrappers one spec may nest */

/* Every hyper-parameter of every kind; each kind reads only its own (spec keys in brackets). */
typedef struct {
    int kind;                      /* OL_OPTIM_* */
    double lr;                     /* >= 0; ignored by random */
    double weight_decay;           /* >= 0; L2 added to g (g += wd x), decoupled for adamw */
    double momentum;               /* sgd, rmsprop, lars: >= 0; sf-sgd, muon: in [0, 1) */
    double dampening;              /* sgd */
    int nesterov;                  /* sgd: 0/1; needs momentum > 0 and dampening = 0; muon: 0/1 */
    double beta;                   /* heavyball: >= 0, w+ = w - lr g + beta (w - w_prev) */
    double beta1, beta2;           /* adam, adamw, nadam, radam, adamax: in [0, 1) */
    double eps;                    /* adagrad, rmsprop, adam family, adadelta, adamax: >= 0 */
    int amsgrad;                   /* adam, adamw: 0/1 */
    double momentum_decay;         /* nadam: psi >= 0 */
    double alpha;                  /* rmsprop smoothing; asgd: eta's decay power; >= 0 */
    int centered;                  /* rmsprop: 0/1 */
    int eps_inside;                /* rmsprop: 0/1, 1 = the lecture's g / sqrt(v + eps) */
    double lr_decay;               /* adagrad: >= 0 */
    double initial_accumulator_value; /* adagrad: >= 0 */
    double sigma;                  /* random: > 0, std of the perturbation */
    long samples;                  /* random: >= 1 candidates per step */
    double rho;                    /* adadelta: in [0, 1], smoothing of both running means */
    double lambd, t0;              /* asgd: >= 0; eta_t = lr / (1 + lambd lr t)^alpha, x *= 1 - lambd
                                    * eta; ax is the mean of the iterates from step t0 + 2 on */
    double eta_minus, eta_plus;    /* rprop: 0 < eta_minus < 1 < eta_plus */
    double step_min, step_max;     /* rprop: 0 <= step_min <= step_max, each weight's step size */
    long max_iter, max_eval;       /* lbfgs: iterations, evaluations of f a step, >= 1 (max_eval 0:
                                    * max_iter * 5 / 4, torch's default) */
    long history_size;             /* lbfgs: curvature pairs kept, >= 1 */
    double tolerance_grad;         /* lbfgs: stop when max |g| <= this, >= 0 */
    double tolerance_change;       /* lbfgs: stop when a step or the change of f is below, >= 0 */
    int line_search;               /* lbfgs: OL_LBFGS_NONE or OL_LBFGS_STRONG_WOLFE */
    long warmup_steps;             /* sf-sgd, sf-adamw: >= 0, the reference's own linear warm-up */
    double trust_coefficient;      /* lars: > 0, eta of the trust ratio */
    double beta2_decay;            /* adafactor: <= 0, 1 - beta2_t = t^beta2_decay */
    double eps1, eps2;             /* adafactor: eps1 >= 0 (< 0: the group's float or double epsilon,
                                    * torch's None), eps2 >= 0 */
    double d;                      /* adafactor: > 0, the update's RMS clipping threshold */
    long ns_steps;                 /* muon: Newton-Schulz iterations, [1, 100) (nesterov: as sgd's) */
} ol_optim_params;

/* torch's defaults for kind (lr: torch's default, 0.01 for gd/sgd/heavyball; adamw wd 0.01;
 * adadelta's lr 1.0, adamax's 2e-3, lbfgs's 1). The command line takes the lr from --lr. */
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
/* What the kind is for (one line), and its spec keys ("beta1, beta2, ..."); "?" and "" for a bad kind. */
const char *ol_optim_kind_help(int kind);
const char *ol_optim_kind_keys(int kind);
int ol_optim_kind(const ol_optim *o);

/* The wrappers (lookahead, sam): count, name, what each is for, spec keys (see above). */
int ol_optim_n_wrappers(void);
const char *ol_optim_wrapper_name(int i);
const char *ol_optim_wrapper_help(int i);
const char *ol_optim_wrapper_keys(int i);
/* The wrappers over o's optimizer (0: none; ol_optim_kind is the innermost optimizer's). */
int ol_optim_is_wrapped(const ol_optim *o);

/* Registers x[n] with its gradient g[n] (g may be NULL for random); groups are numbered from 0
 * in order of addition. lr < 0 or weight_decay < 0: the optimizer's. The group's state is
 * allocated (zeroed) here; add groups before the first step; the buffers must outlive o. */
int ol_optim_add_group(ol_optim *o, float *x, const float *g, size_t n, double lr, double weight_decay);
int ol_optim_add_group_f64(ol_optim *o, double *x, const double *g, size_t n, double lr,
                           double weight_decay);
int ol_optim_n_groups(const ol_optim *o);
/* The tensors of group, in order, covering it exactly: tensor i holds rows[i] x cols[i] values
 * (cols 1: a vector; rows, cols >= 1). lamb and lars take a trust ratio per tensor; the other kinds
 * ignore them; adafactor factors those of at least 2 x 2 and muon orthogonalizes them. Without
 * this call the group is one vector. Before the first step. A saved state does not record the
 * tensors: load it into an optimizer whose groups declare the same ones. */
int ol_optim_set_tensors(ol_optim *o, int group, int n, const size_t *rows, const size_t *cols);

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
/* The momentum of the next step (sgd's and rmsprop's momentum, heavyball's beta, the adam family's
 * beta1): the schedule's when it cycles one (cycle_momentum=1, schedule.h; torch's group['momentum']
 * or group['betas'][0]), else the optimizer's own; NaN for a kind without one. set_momentum assigns
 * the optimizer's own (every group: they share it), which a momentum schedule overrides; sgd and
 * rmsprop need theirs > 0 and to have been created with one (their buffer); beta1 stays in [0, 1).
 * Like the lr scale, a momentum set by hand is not part of the saved state (a schedule's is). */
double ol_optim_get_momentum(const ol_optim *o);
int ol_optim_set_momentum(ol_optim *o, double momentum);
/* Multiplies every group's lr by scale > 0 from now on, whatever the schedule (1 = none): the
 * training loop halves it after a divergence rollback. Not part of the saved state. */
int ol_optim_set_lr_scale(ol_optim *o, double scale);

/* Random search: objective f(x, userdata), x = group 0's buffer (float* or double*); other groups
 * hold their candidates too, for f to read through userdata. */
void ol_optim_set_objective(ol_optim *o, double (*f)(const void *x, void *userdata), void *userdata);
void ol_optim_seed(ol_optim *o, uint64_t seed);   /* default seed 0 */
long ol_optim_evaluations(const ol_optim *o);     /* calls of f (random) or of the closure so far */

/* A closure evaluates the objective at the parameters as they are now (every group's x buffer),
 * writes its gradient into every group's g buffer, stores f in *f and returns 0; or returns an
 * OL_E* code (with ol_fail) that ends the step with that error, the parameters and state then as
 * the failed evaluation left them. Kinds that need one (ol_optim_needs_closure: lbfgs) call it
 * during ol_optim_step, as torch's optimizer.step(closure); the others never call it. After such a
 * step the g buffers hold the gradient of the last evaluation, which may be at a trial point of
 * the line search, not at the new x: evaluate again before using it. */
typedef int (*ol_optim_closure)(void *userdata, double *f);
void ol_optim_set_closure(ol_optim *o, ol_optim_closure fn, void *userdata);
int ol_optim_needs_closure(const ol_optim *o);

/* asgd's averaged iterate ax, or schedule-free's x, of group (float* or double* as the group's
 * x; the ema's when one is set), or NULL for a bad group or a kind without one. It starts as a copy of the parameters when
 * the group is added; from the first step on it is torch's ax (asgd), the x sequence (sf-*). */
const void *ol_optim_average(const ol_optim *o, int group);
/* An exponential moving average of the weights over o (any kind, wrapped or not; train --ema):
 * after every step, ema = x at the first step, then ema = decay ema + (1 - decay) x (torch's
 * AveragedModel with get_ema_multi_avg_fn, and timm's ModelEmaV2: no bias correction, no warm-up;
 * in double, stored in the group's type, float32 flushed below FLT_MIN). Call before adding
 * groups; decay in (0, 1). The average starts as a copy of x when a group is added (as asgd's ax;
 * x again at the first step) and is in the saved state; ol_optim_average gives it and
 * ol_optim_swap_average swaps it with x (in asgd's ax's place). What it is for: evaluating and
 * saving a smoother model than the last iterate (Polyak averaging with exponential weights). */
int ol_optim_set_ema(ol_optim *o, double decay);

/* Swaps every group's parameters with that average (the ema's when set), to evaluate or save it; a
 * second call swaps
 * back (exactly: both are copies). Do not step between the two. OL_ESTATE for other kinds. */
int ol_optim_swap_average(ol_optim *o);
/* 1 when the average, not the stepped parameters, is the model to evaluate and save whatever the
 * user asks (schedule-free's x; asgd's ax only on request); 0 otherwise. */
int ol_optim_evaluates_average(const ol_optim *o);

/* Whole optimizer state (step count, every buffer, schedule, warm-up, rng, counters; asgd's ax
 * and per-group eta, L-BFGS's direction, history and scalars), not the parameters themselves.
 * Little-endian, versioned, CRC-checked; load checks kind, groups, sizes and schedule kind/warm-up
 * against this optimizer, and every field against what a step can write (no NaN in a buffer, no
 * negative second moment or gradient norm, ...), and changes nothing unless all is valid. Save
 * refuses (OL_ENUMERIC) a state whose buffers hold a NaN (the steps diverged): what it saves loads
 * back. */
size_t ol_optim_state_size(const ol_optim *o);
int ol_optim_state_save(const ol_optim *o, void *buf, size_t cap);
int ol_optim_state_load(ol_optim *o, const void *buf, size_t len);

#endif
