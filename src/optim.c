/* optim.c: the optimizer object: creation and validation of hyper-parameters, parameter groups,
 * clipping, the step (scalars once per step, then src/optim_kernels.h per group), random search
 * and the state blob. Schedules live in schedule.c. See include/optlab/optim.h. The kinds added
 * from torch.optim in issue 19 keep their keys, checks and scalars in optim_torch2.c and L-BFGS
 * its step in optim_lbfgs.c; the object itself is in optim_internal.h.
 *
 * Not here: sparse gradients, per-group hyper-parameters beyond lr and weight decay, maximize,
 * threads inside a step. */
#include "optlab/optim.h"

#include "optlab/common.h"
#include "optlab/rng.h"
#include "optlab/mathfn.h"

#include "flush.h"
#include "optim_internal.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef __clang__
/* clang reports each omp simd loop it leaves scalar (the sqrt ones, see below) as a warning */
#pragma clang diagnostic ignored "-Wpass-failed"
#endif
/* The loops with a sqrt vectorize only under -fno-math-errno (errno makes sqrt a call that may
 * write memory); without it they run scalar: about 2-3x slower for the Adam family, same results
 * up to the order of the norm's sum. */
#define REAL float
#define SUFFIX f32
#define SQRT sqrtf
#define FLUSH ol_flush_f32
#define FLUSH_X ol_flush_f32
#include "optim_kernels.h"
#undef REAL
#undef SUFFIX
#undef SQRT
#undef FLUSH
#undef FLUSH_X
#define REAL double
#define SUFFIX f64
#define SQRT sqrt
#define FLUSH ol_flush_none
#define FLUSH_X ol_flush_none
#include "optim_kernels.h"
#undef REAL
#undef SUFFIX
#undef SQRT
#undef FLUSH
#undef FLUSH_X
/* again without clipping and weight decay (OL_PLAIN): fewer operations a parameter, the same values */
#define OL_PLAIN
#define REAL float
#define SUFFIX f32_plain
#define SQRT sqrtf
#define FLUSH ol_flush_f32
#define FLUSH_X(v) (v)
#include "optim_kernels.h"
#undef REAL
#undef SUFFIX
#undef SQRT
#undef FLUSH
#undef FLUSH_X
#define REAL double
#define SUFFIX f64_plain
#define SQRT sqrt
#define FLUSH ol_flush_none
#define FLUSH_X(v) (v)
#include "optim_kernels.h"
#undef REAL
#undef SUFFIX
#undef SQRT
#undef FLUSH
#undef FLUSH_X
#undef OL_PLAIN

#define TRY(expr) do { int rc_ = (expr); if (rc_) return rc_; } while (0)

static const char *const kind_names[OL_OPTIM_N_KINDS] = {
    "gd", "sgd", "heavyball", "adagrad", "rmsprop", "adam", "adamw", "nadam", "radam", "random",
    "adadelta", "adamax", "asgd", "rprop", "lbfgs", "lion", "sf-sgd", "sf-adamw", "lamb", "lars", "adafactor", "muon"};
static const char *const kind_keys[OL_OPTIM_N_KINDS] = {
    "weight_decay",
    "momentum, dampening, nesterov, weight_decay",
    "beta, weight_decay",
    "lr_decay, weight_decay, initial_accumulator_value, eps",
    "alpha, eps, weight_decay, momentum, centered, eps_inside",
    "beta1, beta2, eps, weight_decay, amsgrad",
    "beta1, beta2, eps, weight_decay, amsgrad",
    "beta1, beta2, eps, weight_decay, momentum_decay",
    "beta1, beta2, eps, weight_decay",
    "sigma, samples",
    "rho, eps, weight_decay",
    "beta1, beta2, eps, weight_decay",
    "lambd, alpha, t0, weight_decay",
    "eta_minus, eta_plus, step_min, step_max",
    "max_iter, max_eval, history_size, tolerance_grad, tolerance_change, line_search",
    "beta1, beta2, weight_decay",
    "momentum, weight_decay, warmup_steps",
    "beta1, beta2, eps, weight_decay, warmup_steps",
    "beta1, beta2, eps, weight_decay",
    "momentum, trust_coefficient, eps, weight_decay",
    "beta2_decay, eps1, eps2, d, weight_decay",
    "momentum, nesterov, ns_steps, weight_decay, beta1, beta2, eps"};

/* what each is for, one line (the command line's --help lists them) */
static const char *const kind_help[OL_OPTIM_N_KINDS] = {
    "x -= lr g: the baseline",
    "momentum, dampening, nesterov: the workhorse of vision models",
    "the lecture's heavy ball: w - lr g + beta (w - w_prev)",
    "per-weight rates that shrink with the summed squared gradients: sparse features",
    "per-weight rates from a running mean square: non-stationary problems",
    "momentum and per-weight rates, bias-corrected: the default for most networks",
    "adam with decoupled weight decay: for regularized models (transformers)",
    "adam with Nesterov momentum",
    "adam with its early steps' variance rectified: no warm-up needed",
    "derivative-free random search: the baseline gradients beat",
    "per-weight rates with no lr to tune (torch's lr 1.0 multiplies the step)",
    "adam with the infinity norm: steps bounded by lr, robust to rare huge gradients",
    "SGD averaging its iterates from step t0 on (ax, train --eval-average): noisy convex problems",
    "sign-based per-weight step sizes that grow and shrink: full-batch training",
    "quasi-Newton from curvature pairs, line_search=strong_wolfe: smooth full-batch problems",
    "sign of an interpolated momentum, each weight moves by lr: adam's results, half its memory",
    "schedule-free SGD: no schedule to tune; train evaluates and saves the average x",
    "schedule-free AdamW: no schedule or run length to know; train evaluates and saves x",
    "adam rescaled per layer by ||w|| / ||update||: large-batch training (transformers)",
    "momentum SGD rescaled per layer by a trust ratio: large-batch training of vision models",
    "factored second moments and relative steps: adam-like training in sub-linear memory",
    "orthogonalized momentum for 2-D weights (AdamW for biases): fast training of hidden layers",
};

int ol_optim_kind_from_name(const char *name) {
    for (int k = 0; k < OL_OPTIM_N_KINDS; k++)
        if (name && !strcmp(name, kind_names[k])) return k;
    return -1;
}

const char *ol_optim_kind_name(int kind) {
    return kind >= 0 && kind < OL_OPTIM_N_KINDS ? kind_names[kind] : "?";
}

const char *ol_optim_kind_help(int kind) {
    return kind >= 0 && kind < OL_OPTIM_N_KINDS ? kind_help[kind] : "?";
}

const char *ol_optim_kind_keys(int kind) {
    return kind >= 0 && kind < OL_OPTIM_N_KINDS ? kind_keys[kind] : "";
}

const char *ol_optim_kind_names(void) {
    return "gd, sgd, heavyball, adagrad, rmsprop, adam, adamw, nadam, radam, random, adadelta, adamax, asgd, rprop, "
           "lbfgs, lion, sf-sgd, sf-adamw, lamb, lars, adafactor, muon";
}

int ol_optim_kind(const ol_optim *o) { return o->p.kind; }

ol_optim_params ol_optim_default_params(int kind) {
    ol_optim_params p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.lr = 0.01;
    p.beta = 0.9;
    p.beta1 = 0.9;
    p.beta2 = 0.999;
    p.eps = 1e-8;
    p.momentum_decay = 4e-3;
    p.alpha = 0.99;
    p.sigma = 0.1;
    p.samples = 1;
    switch (kind) {
    case OL_OPTIM_ADAGRAD: p.eps = 1e-10; break;
    case OL_OPTIM_ADAM:
    case OL_OPTIM_RADAM: p.lr = 1e-3; break;
    case OL_OPTIM_ADAMW: p.lr = 1e-3; p.weight_decay = 1e-2; break;
    case OL_OPTIM_NADAM: p.lr = 2e-3; break;
    case OL_OPTIM_RANDOM: p.lr = 0; break;
    default: break;
    }
    ol_optim_t2_defaults(&p);
    ol_optim_m_defaults(&p);
    return p;
}

/* ---- creation ---- */

#define CHECK_ARG(cond, ...) do { if (!(cond)) return ol_fail(OL_EARG, __VA_ARGS__); } while (0)

static int uses_betas(int kind) {
    return kind == OL_OPTIM_ADAM || kind == OL_OPTIM_ADAMW || kind == OL_OPTIM_NADAM || kind == OL_OPTIM_RADAM;
}

/* torch's constructor checks (plus finiteness and 0/1 flags); every number the kind reads. */
static int validate(const ol_optim_params *p) {
    CHECK_ARG(p->kind >= 0 && p->kind < OL_OPTIM_N_KINDS, "unknown optimizer kind %d; valid: %s", p->kind,
              ol_optim_kind_names());
    const char *name = kind_names[p->kind];
    int k = p->kind;
    CHECK_ARG(p->lr >= 0 && isfinite(p->lr), "%s: invalid learning rate %g (must be >= 0)", name, p->lr);
    if (ol_optim_t2_kind(k)) return ol_optim_t2_validate(p);
    if (ol_optim_m_kind(k)) return ol_optim_m_validate(p);
    if (k != OL_OPTIM_RANDOM)
        CHECK_ARG(p->weight_decay >= 0 && isfinite(p->weight_decay),
                  "%s: invalid weight_decay %g (must be >= 0)", name, p->weight_decay);
    if (k == OL_OPTIM_ADAGRAD || k == OL_OPTIM_RMSPROP || uses_betas(k))
        CHECK_ARG(p->eps >= 0 && isfinite(p->eps), "%s: invalid eps %g (must be >= 0)", name, p->eps);
    if (uses_betas(k)) {
        CHECK_ARG(p->beta1 >= 0 && p->beta1 < 1, "%s: invalid beta1 %g (must be in [0, 1))", name, p->beta1);
        CHECK_ARG(p->beta2 >= 0 && p->beta2 < 1, "%s: invalid beta2 %g (must be in [0, 1))", name, p->beta2);
    }
    switch (k) {
    case OL_OPTIM_SGD:
        CHECK_ARG(p->momentum >= 0 && isfinite(p->momentum), "sgd: invalid momentum %g (must be >= 0)",
                  p->momentum);
        CHECK_ARG(isfinite(p->dampening), "sgd: invalid dampening %g", p->dampening);
        CHECK_ARG(p->nesterov == 0 || p->nesterov == 1, "sgd: nesterov must be 0 or 1");
        CHECK_ARG(!p->nesterov || (p->momentum > 0 && p->dampening == 0),
                  "sgd: nesterov momentum requires a momentum > 0 and zero dampening");
        break;
    case OL_OPTIM_HEAVYBALL:
        CHECK_ARG(p->beta >= 0 && isfinite(p->beta), "heavyball: invalid beta %g (must be >= 0)", p->beta);
        break;
    case OL_OPTIM_ADAGRAD:
        CHECK_ARG(p->lr_decay >= 0 && isfinite(p->lr_decay), "adagrad: invalid lr_decay %g (must be >= 0)",
                  p->lr_decay);
        CHECK_ARG(p->initial_accumulator_value >= 0 && isfinite(p->initial_accumulator_value),
                  "adagrad: invalid initial_accumulator_value %g (must be >= 0)", p->initial_accumulator_value);
        break;
    case OL_OPTIM_RMSPROP:
        CHECK_ARG(p->momentum >= 0 && isfinite(p->momentum), "rmsprop: invalid momentum %g (must be >= 0)",
                  p->momentum);
        CHECK_ARG(p->alpha >= 0 && isfinite(p->alpha), "rmsprop: invalid alpha %g (must be >= 0)", p->alpha);
        CHECK_ARG(p->centered == 0 || p->centered == 1, "rmsprop: centered must be 0 or 1");
        CHECK_ARG(p->eps_inside == 0 || p->eps_inside == 1, "rmsprop: eps_inside must be 0 or 1");
        break;
    case OL_OPTIM_ADAM:
    case OL_OPTIM_ADAMW:
        CHECK_ARG(p->amsgrad == 0 || p->amsgrad == 1, "%s: amsgrad must be 0 or 1", name);
        break;
    case OL_OPTIM_NADAM:
        CHECK_ARG(p->momentum_decay >= 0 && isfinite(p->momentum_decay),
                  "nadam: invalid momentum_decay %g (must be >= 0)", p->momentum_decay);
        break;
    case OL_OPTIM_RANDOM:
        CHECK_ARG(p->sigma > 0 && isfinite(p->sigma), "random: sigma must be > 0, got %g", p->sigma);
        CHECK_ARG(p->samples >= 1 && p->samples <= 1000000, "random: samples must be in [1, 1000000], got %ld",
                  p->samples);
        break;
    default: break;
    }
    return OL_OK;
}

/* (Re)allocates the kind's scalars for its groups; new ones start at 0. */
static int resize_scalars(ol_optim *o) {
    size_t n = ol_optim_t2_kind(o->p.kind) ? ol_optim_t2_n_scalars(o)
               : ol_optim_m_kind(o->p.kind) ? ol_optim_m_n_scalars(o) : 0;
    if (n == o->n_scalars) return OL_OK;
    double *v = realloc(o->scalars, (n ? n : 1) * sizeof *v);
    if (!v) return ol_fail(OL_ENOMEM, "out of memory for the optimizer's scalars");
    for (size_t i = o->n_scalars; i < n; i++) v[i] = 0;
    o->scalars = v;
    o->n_scalars = n;
    return OL_OK;
}

/* The hyper-parameter a momentum schedule sets (cycle_momentum: torch's group['momentum'] or
 * group['betas'][0]), or NULL for a kind without one. */
static double *momentum_field(ol_optim_params *p) {
    switch (p->kind) {
    case OL_OPTIM_SGD:
    case OL_OPTIM_RMSPROP: return &p->momentum;
    case OL_OPTIM_HEAVYBALL: return &p->beta;
    case OL_OPTIM_ADAM:
    case OL_OPTIM_ADAMW:
    case OL_OPTIM_NADAM:
    case OL_OPTIM_RADAM:
    case OL_OPTIM_ADAMAX: return &p->beta1;
    default: return NULL;
    }
}

/* sgd and rmsprop keep a momentum buffer only when created with a momentum > 0 */
static int takes_momentum(const ol_optim *o) {
    if (o->p.kind == OL_OPTIM_SGD || o->p.kind == OL_OPTIM_RMSPROP) return o->own_momentum > 0;
    ol_optim_params p = o->p;
    return momentum_field(&p) != NULL;
}

int ol_optim_create_params(ol_optim **out, const ol_optim_params *p) {
    *out = NULL;
    TRY(validate(p));
    ol_optim *o = ol_calloc(1, sizeof *o);
    if (!o) return OL_ENOMEM;
    o->p = *p;
    o->last_grad_norm = NAN;
    o->mu_product = 1.0;
    o->lr_scale = 1.0;
    double *m = momentum_field(&o->p);
    o->own_momentum = m ? *m : NAN;
    ol_rng_seed(&o->rng, 0);
    int rc = ol_sched_create(&o->sched, NULL, 0, 0, NULL);
    if (rc) { free(o); return rc; }
    if ((rc = resize_scalars(o))) { ol_optim_free(o); return rc; }
    if (o->p.kind == OL_OPTIM_LBFGS && !(o->scratch = ol_calloc((size_t)o->p.history_size, sizeof(double)))) {
        ol_optim_free(o);
        return OL_ENOMEM;
    }
    *out = o;
    return OL_OK;
}

static int spec_double(ol_spec *sp, const char *key, double *v) {
    int r = ol_spec_get_double(sp, key, *v, v);
    return r < 0 ? -r : OL_OK;
}

static int spec_flag(ol_spec *sp, const char *key, int *v) {
    long l;
    int r = ol_spec_get_long(sp, key, *v, 0, 1, &l);
    if (r < 0) return -r;
    *v = (int)l;
    return OL_OK;
}

int ol_optim_create(ol_optim **out, const char *spec, double lr) {
    *out = NULL;
    if (ol_optim_is_wrapper_spec(spec)) return ol_optim_wrap_create(out, spec, lr);
    ol_spec sp;
    TRY(ol_spec_parse(&sp, spec, "optimizer"));
    int kind = ol_optim_kind_from_name(sp.name);
    if (kind < 0)
        return ol_fail(OL_EARG, "unknown optimizer '%s'; valid: %s; wrappers: lookahead, sam (WRAPPER:keys,inner=SPEC)",
                       sp.name, ol_optim_kind_names());
    ol_optim_params p = ol_optim_default_params(kind);
    p.lr = lr;
    if (kind != OL_OPTIM_RANDOM && kind != OL_OPTIM_RPROP && kind != OL_OPTIM_LBFGS)
        TRY(spec_double(&sp, "weight_decay", &p.weight_decay));
    switch (kind) {
    case OL_OPTIM_SGD:
        TRY(spec_double(&sp, "momentum", &p.momentum));
        TRY(spec_double(&sp, "dampening", &p.dampening));
        TRY(spec_flag(&sp, "nesterov", &p.nesterov));
        break;
    case OL_OPTIM_HEAVYBALL: TRY(spec_double(&sp, "beta", &p.beta)); break;
    case OL_OPTIM_ADAGRAD:
        TRY(spec_double(&sp, "lr_decay", &p.lr_decay));
        TRY(spec_double(&sp, "initial_accumulator_value", &p.initial_accumulator_value));
        TRY(spec_double(&sp, "eps", &p.eps));
        break;
    case OL_OPTIM_RMSPROP:
        TRY(spec_double(&sp, "alpha", &p.alpha));
        TRY(spec_double(&sp, "eps", &p.eps));
        TRY(spec_double(&sp, "momentum", &p.momentum));
        TRY(spec_flag(&sp, "centered", &p.centered));
        TRY(spec_flag(&sp, "eps_inside", &p.eps_inside));
        break;
    case OL_OPTIM_ADAM:
    case OL_OPTIM_ADAMW:
    case OL_OPTIM_NADAM:
    case OL_OPTIM_RADAM:
        TRY(spec_double(&sp, "beta1", &p.beta1));
        TRY(spec_double(&sp, "beta2", &p.beta2));
        TRY(spec_double(&sp, "eps", &p.eps));
        if (kind == OL_OPTIM_NADAM) TRY(spec_double(&sp, "momentum_decay", &p.momentum_decay));
        if (kind == OL_OPTIM_ADAM || kind == OL_OPTIM_ADAMW) TRY(spec_flag(&sp, "amsgrad", &p.amsgrad));
        break;
    case OL_OPTIM_RANDOM: {
        TRY(spec_double(&sp, "sigma", &p.sigma));
        int r = ol_spec_get_long(&sp, "samples", 1, 1, 1000000, &p.samples);
        if (r < 0) return -r;
        break;
    }
    default: TRY(ol_optim_m_kind(kind) ? ol_optim_m_parse(&sp, &p) : ol_optim_t2_parse(&sp, &p)); break;
    }
    TRY(ol_spec_check_unused(&sp, kind_keys[kind]));
    return ol_optim_create_params(out, &p);
}

void ol_optim_free(ol_optim *o) {
    if (!o) return;
    ol_optim_wrap_free(o);
    for (int i = 0; i < o->n_groups; i++) {
        free(o->groups[i].state);
        free(o->groups[i].tensors);
        free(o->groups[i].ns_scratch);
    }
    free(o->groups);
    ol_sched_free(o->sched);
    free(o->scalars);
    free(o->scratch);
    free(o);
}

/* ---- groups ---- */

/* State buffers of a group, and how many of them (the first) are saved. */
static int buffers_for(const ol_optim_params *p, int *saved) {
    if (ol_optim_t2_kind(p->kind)) return ol_optim_t2_buffers(p, saved);
    if (ol_optim_m_kind(p->kind)) return ol_optim_m_buffers(p, saved);
    int n = 0;
    switch (p->kind) {
    case OL_OPTIM_SGD: n = p->momentum != 0; break;
    case OL_OPTIM_HEAVYBALL:
    case OL_OPTIM_ADAGRAD:
    case OL_OPTIM_RANDOM: n = 1; break;
    case OL_OPTIM_RMSPROP: n = 1 + p->centered + (p->momentum > 0); break;
    case OL_OPTIM_ADAM:
    case OL_OPTIM_ADAMW: n = 2 + p->amsgrad; break;
    case OL_OPTIM_NADAM:
    case OL_OPTIM_RADAM: n = 2; break;
    default: break;
    }
    *saved = p->kind == OL_OPTIM_RANDOM ? 0 : n;   /* random's buffer is scratch */
    return n;
}

static int saved_buffers(const ol_optim *o, const group *gr) {
    (void)gr;
    int saved;
    buffers_for(&o->p, &saved);
    return saved;
}

static int rebuild_schedule(ol_optim *o, const char *spec, long warmup) {
    double *lrs = ol_malloc_array(o->n_groups ? (size_t)o->n_groups : 1, sizeof *lrs);
    if (!lrs) return OL_ENOMEM;
    for (int i = 0; i < o->n_groups; i++) lrs[i] = o->groups[i].base_lr;
    ol_sched *s;
    int rc = ol_sched_create(&s, spec, warmup, (size_t)o->n_groups, lrs);
    free(lrs);
    if (rc) return rc;
    if (ol_sched_sets_momentum(s) && !takes_momentum(o)) {
        ol_sched_free(s);
        const char *name = kind_names[o->p.kind];
        if (o->p.kind == OL_OPTIM_SGD || o->p.kind == OL_OPTIM_RMSPROP)
            return ol_fail(OL_EARG, "schedule: cycle_momentum=1 cycles the momentum, but this %s has none; give it one "
                           "(%s:momentum=0.9: torch would switch one on unasked) or leave cycle_momentum out", name, name);
        return ol_fail(OL_EARG, "schedule: cycle_momentum=1 cycles the momentum, which %s does not have (sgd and rmsprop "
                       "with momentum > 0, heavyball, adam, adamw, nadam and radam do); leave cycle_momentum out", name);
    }
    ol_sched_free(o->sched);
    o->sched = s;
    return OL_OK;
}

static int add_group(ol_optim *o, void *x, const void *g, size_t n, double lr, double weight_decay, int is_f64) {
    const char *name = kind_names[o->p.kind];
    if (o->t > 0) return ol_fail(OL_ESTATE, "%s: parameter groups must be added before the first step", name);
    if (n > 0 && !x) return ol_fail(OL_EARG, "%s: parameter buffer is NULL", name);
    if (n > 0 && !g && o->p.kind != OL_OPTIM_RANDOM)
        return ol_fail(OL_EARG, "%s: gradient buffer is NULL (only random search works without one)", name);
    if (isnan(lr) || isinf(lr)) return ol_fail(OL_EARG, "%s: group learning rate %g is not finite", name, lr);
    if (isnan(weight_decay) || isinf(weight_decay))
        return ol_fail(OL_EARG, "%s: group weight_decay %g is not finite", name, weight_decay);
    if (o->p.kind == OL_OPTIM_RANDOM && weight_decay > 0)
        return ol_fail(OL_EARG, "random: random search has no weight decay");
    if ((o->p.kind == OL_OPTIM_RPROP || o->p.kind == OL_OPTIM_LBFGS) && weight_decay > 0)
        return ol_fail(OL_EARG, "%s: torch's %s has no weight decay; give the group weight_decay 0 (or -1)", name,
                       o->p.kind == OL_OPTIM_RPROP ? "Rprop" : "LBFGS");
    if (o->p.kind == OL_OPTIM_LBFGS && o->n_groups > 0 && (lr < 0 ? o->p.lr : lr) != o->groups[0].base_lr)
        return ol_fail(OL_EARG, "lbfgs: every parameter group takes group 0's learning rate %g (torch's LBFGS has a "
                       "single group), got %g", o->groups[0].base_lr, lr);
    if (o->n_groups == o->cap_groups) {
        int cap = o->cap_groups ? 2 * o->cap_groups : 4;
        group *ng = realloc(o->groups, (size_t)cap * sizeof *ng);
        if (!ng) return ol_fail(OL_ENOMEM, "out of memory adding a parameter group");
        o->groups = ng;
        o->cap_groups = cap;
    }
    group *gr = &o->groups[o->n_groups];
    memset(gr, 0, sizeof *gr);
    gr->x = x;
    gr->g = g;
    gr->n = n;
    gr->is_f64 = is_f64;
    gr->base_lr = lr < 0 ? o->p.lr : lr;
    gr->weight_decay = weight_decay < 0 ? o->p.weight_decay : weight_decay;
    int saved;
    gr->n_buffers = buffers_for(&o->p, &saved);
    size_t elem = is_f64 ? sizeof(double) : sizeof(float);
    if (gr->n_buffers > 0) {
        if (ol_mul_overflows(n, (size_t)gr->n_buffers, "optimizer state")) return OL_ENOMEM;
        gr->state = ol_aligned_calloc(n * (size_t)gr->n_buffers, elem);
        if (!gr->state) return OL_ENOMEM;
    }
    if (o->p.kind == OL_OPTIM_ADAGRAD)   /* torch: state_sum starts at initial_accumulator_value */
        for (size_t i = 0; i < n; i++) {
            if (is_f64) ((double *)gr->state)[i] = o->p.initial_accumulator_value;
            else ((float *)gr->state)[i] = (float)o->p.initial_accumulator_value;
        }
    if (ol_optim_t2_kind(o->p.kind)) ol_optim_t2_init_group(o, gr);
    if (ol_optim_m_kind(o->p.kind)) ol_optim_m_init_group(o, gr);
    o->n_groups++;
    int rc = resize_scalars(o);
    if (!rc) rc = rebuild_schedule(o, o->sched_spec, o->warmup);
    if (!rc && o->wrap) rc = ol_optim_wrap_add_group(o);
    if (rc) {
        o->n_groups--;
        free(gr->state);
        resize_scalars(o);   /* back to the smaller size: cannot fail in practice, harmless if it does */
        return rc;
    }
    return OL_OK;
}

int ol_optim_add_group(ol_optim *o, float *x, const float *g, size_t n, double lr, double weight_decay) {
    return add_group(o, x, g, n, lr, weight_decay, 0);
}

int ol_optim_add_group_f64(ol_optim *o, double *x, const double *g, size_t n, double lr, double weight_decay) {
    return add_group(o, x, g, n, lr, weight_decay, 1);
}

int ol_optim_n_groups(const ol_optim *o) { return o->n_groups; }

/* ---- settings ---- */

int ol_optim_set_schedule(ol_optim *o, const char *sched_spec, long warmup_steps) {
    const char *spec = sched_spec ? sched_spec : "";
    if (strlen(spec) >= sizeof o->sched_spec) return ol_fail(OL_EARG, "schedule spec is too long");
    TRY(rebuild_schedule(o, spec, warmup_steps));
    strcpy(o->sched_spec, spec);
    o->warmup = warmup_steps;
    return OL_OK;
}

int ol_optim_set_momentum(ol_optim *o, double momentum) {
    double *m = momentum_field(&o->p);
    const char *name = kind_names[o->p.kind];
    if (!m || !takes_momentum(o))
        return ol_fail(OL_EARG, "%s: no momentum to set (sgd and rmsprop created with momentum > 0, heavyball, adam, "
                       "adamw, nadam and radam have one)", name);
    int beta1 = m == &o->p.beta1, positive = m == &o->p.momentum;   /* sgd and rmsprop keep theirs > 0 */
    if (!isfinite(momentum) || !(positive ? momentum > 0 : momentum >= 0) || (beta1 && momentum >= 1))
        return ol_fail(OL_EARG, "%s: momentum %g is out of range (%s)", name, momentum,
                       beta1 ? "beta1 in [0, 1)" : positive ? "> 0" : ">= 0");
    *m = o->own_momentum = momentum;
    return OL_OK;
}

double ol_optim_get_momentum(const ol_optim *o) {
    double m = ol_sched_momentum(o->sched);
    return isnan(m) ? o->own_momentum : m;
}

int ol_optim_set_clip(ol_optim *o, double clip_norm, double clip_value) {
    if (!(clip_norm >= 0) || !isfinite(clip_norm))
        return ol_fail(OL_EARG, "clip-norm must be a finite number >= 0 (0 = off), got %g", clip_norm);
    if (!(clip_value >= 0) || !isfinite(clip_value))
        return ol_fail(OL_EARG, "clip-value must be a finite number >= 0 (0 = off), got %g", clip_value);
    o->clip_norm = clip_norm;
    o->clip_value = clip_value;
    return OL_OK;
}

int ol_optim_report_metric(ol_optim *o, double value) { return ol_sched_report_metric(o->sched, value); }
int ol_optim_report_loss(ol_optim *o, double loss) { return ol_sched_report_loss(o->sched, loss); }

double ol_optim_get_lr(const ol_optim *o, int group) {
    return group >= 0 && group < o->n_groups ? ol_optim_group_lr(o, group) : NAN;
}

long ol_optim_max_steps(const ol_optim *o) { return o->sched ? ol_sched_max_steps(o->sched) : LONG_MAX; }

int ol_optim_set_lr_scale(ol_optim *o, double scale) {
    if (!(scale > 0) || !isfinite(scale)) return ol_fail(OL_EARG, "lr scale must be a finite number > 0, got %g", scale);
    o->lr_scale = scale;
    return OL_OK;
}

int ol_optim_set_lr(ol_optim *o, int group, double lr) {
    if (group < -1 || group >= o->n_groups)
        return ol_fail(OL_EARG, "no parameter group %d (there are %d)", group, o->n_groups);
    if (!(lr >= 0) || !isfinite(lr)) return ol_fail(OL_EARG, "learning rate must be a finite number >= 0, got %g", lr);
    for (int i = 0; i < o->n_groups; i++)
        if (group < 0 || i == group) ol_sched_set_lr(o->sched, (size_t)i, lr);
    return OL_OK;
}

double ol_optim_last_grad_norm(const ol_optim *o) { return o->last_grad_norm; }
long ol_optim_step_count(const ol_optim *o) { return o->t; }
long ol_optim_schedule_steps(const ol_optim *o) { return ol_sched_steps(o->sched); }

void ol_optim_set_objective(ol_optim *o, double (*f)(const void *x, void *userdata), void *userdata) {
    o->f = f;
    o->userdata = userdata;
    o->fx_valid = 0;
}

void ol_optim_seed(ol_optim *o, uint64_t seed) { ol_rng_seed(&o->rng, seed); }
long ol_optim_evaluations(const ol_optim *o) { return o->evaluations; }

void ol_optim_set_closure(ol_optim *o, ol_optim_closure fn, void *userdata) {
    o->closure = fn;
    o->closure_userdata = userdata;
}

int ol_optim_needs_closure(const ol_optim *o) {
    return o->p.kind == OL_OPTIM_LBFGS || ol_optim_wrap_needs_closure(o);
}

/* the state buffer holding the average: asgd's ax (0), schedule-free's x; -1: none */
static int average_buffer(int kind) { return kind == OL_OPTIM_ASGD ? 0 : ol_optim_m_average_buffer(kind); }

const void *ol_optim_average(const ol_optim *o, int group) {
    if (group >= 0 && group < o->n_groups && ol_optim_wrap_ema(o)) return ol_optim_wrap_ema(o)[group];
    int b = average_buffer(o->p.kind);
    if (b < 0 || group < 0 || group >= o->n_groups) return NULL;
    return ol_optim_group_buffer(&o->groups[group], b);
}

int ol_optim_evaluates_average(const ol_optim *o) { return ol_optim_m_average_buffer(o->p.kind) >= 0; }

void ol_optim_swap_bytes(void *a, void *b, size_t bytes) {
    unsigned char *x = a, *y = b, tmp[256];
    for (size_t done = 0; done < bytes; done += sizeof tmp) {
        size_t len = bytes - done < sizeof tmp ? bytes - done : sizeof tmp;
        memcpy(tmp, x + done, len);
        memcpy(x + done, y + done, len);
        memcpy(y + done, tmp, len);
    }
}

int ol_optim_swap_average(ol_optim *o) {
    if (ol_optim_wrap_ema(o)) return ol_optim_wrap_swap_ema(o);
    int b = average_buffer(o->p.kind);
    if (b < 0)
        return ol_fail(OL_ESTATE, "%s keeps no averaged iterate (only asgd, sf-sgd and sf-adamw do, or an ema: "
                       "ol_optim_set_ema)", kind_names[o->p.kind]);
    for (int k = 0; k < o->n_groups; k++) {
        group *gr = &o->groups[k];
        ol_optim_swap_bytes(gr->x, ol_optim_group_buffer(gr, b), gr->n * (gr->is_f64 ? sizeof(double) : sizeof(float)));
    }
    return OL_OK;
}

void *ol_optim_group_buffer(const group *gr, int k) {
    return (unsigned char *)gr->state + (size_t)k * gr->n * (gr->is_f64 ? sizeof(double) : sizeof(float));
}

double ol_optim_group_grad_sumsq(const group *gr, double clip) {
    if (gr->n == 0) return 0;
    return gr->is_f64 ? grad_sumsq_f64(gr->g, gr->n, clip) : grad_sumsq_f32(gr->g, gr->n, clip);
}

double ol_optim_group_lr(const ol_optim *o, int k) { return o->lr_scale * ol_sched_lr(o->sched, (size_t)k); }

/* ---- the step ---- */

/* Scalars shared by every group of step t (lr-dependent ones are set per group). */
static void step_scalars(const ol_optim *o, long t, kargs *a) {
    const ol_optim_params *p = &o->p;
    double td = (double)t;
    memset(a, 0, sizeof *a);
    a->decay = 1;
    a->beta1 = p->beta1;
    a->omb1 = 1 - p->beta1;
    a->beta2 = p->beta2;
    a->omb2 = 1 - p->beta2;
    a->bc1 = 1 - ol_math_pow(p->beta1, td);
    a->bc2 = 1 - ol_math_pow(p->beta2, td);
    a->bc2_sqrt = sqrt(a->bc2);
    a->eps = p->eps;
    switch (p->kind) {
    case OL_OPTIM_SGD:
        /* torch: the first step sets b = g; later b = mu b + (1 - dampening) g */
        a->cb = t == 1 ? 0 : p->momentum;
        a->cg = t == 1 ? 1 : 1 - p->dampening;
        a->kg = p->nesterov ? 1 : 0;
        a->kb = p->nesterov ? p->momentum : 1;
        break;
    case OL_OPTIM_HEAVYBALL: a->momentum = p->beta; break;
    case OL_OPTIM_RMSPROP:
        a->alpha = p->alpha;
        a->oma = 1 - p->alpha;
        a->momentum = p->momentum;
        a->eps_in = p->eps_inside ? p->eps : 0;
        a->eps = p->eps_inside ? 0 : p->eps;
        break;
    case OL_OPTIM_RADAM: {
        /* rho_inf = 2/(1-b2) - 1; rho_t = rho_inf - 2 t b2^t / (1 - b2^t) */
        double rho_inf = 2 / (1 - p->beta2) - 1;
        double rho_t = rho_inf - 2 * td * ol_math_pow(p->beta2, td) / a->bc2;
        a->rect = rho_t > 5. ? sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                             : 0;
        break;
    }
    default:
        if (ol_optim_t2_kind(p->kind)) ol_optim_t2_step_scalars(o, t, a);
        if (ol_optim_m_kind(p->kind)) ol_optim_m_step_scalars(o, t, a);
        break;
    }
}

/* Per-group scalars of step t for a group with learning rate lr; mu, mu_next, prod: nadam's. */
static void group_scalars(const ol_optim *o, const group *gr, long t, double lr, double mu, double mu_next,
                          double prod, kargs *a) {
    const ol_optim_params *p = &o->p;
    a->lr = lr;
    a->wd = gr->weight_decay;
    switch (p->kind) {
    case OL_OPTIM_ADAGRAD: a->step_size = lr / (1 + (double)(t - 1) * p->lr_decay); break;
    case OL_OPTIM_ADAM: a->step_size = lr / a->bc1; break;
    case OL_OPTIM_ADAMW:
        a->step_size = lr / a->bc1;
        a->decay = 1 - lr * gr->weight_decay;   /* decoupled: x *= 1 - lr wd, no L2 in g */
        a->wd = 0;
        break;
    case OL_OPTIM_NADAM:
        a->nadam_cg = lr * (1. - mu) / (1. - prod);
        a->nadam_cm = lr * mu_next / (1. - prod * mu_next);
        break;
    default: break;
    }
}

/* A group is updated in chunks, in parallel over OpenMP threads; the chunking depends only on the
 * group's size (chunks of UPDATE_CHUNK elements, longer ones past MAX_CHUNKS of them), and the
 * chunks' gradient sums are added in chunk order, so the result is the same whatever the thread
 * count. Chunks of 16384 keep two threads' shares within 7% of each other on the 203,530
 * parameters of 784-256-10 (chunks of 65536 split it 131,072 / 72,458). */
#define UPDATE_CHUNK 16384
#define MAX_CHUNKS 1024
/* Groups smaller than this are updated on the calling thread: waking a sleeping team (optlab's
 * OpenMP threads wait passively) and joining it cost about 20 us on this project's VM, more than
 * a second thread saves on 784-256-10's 203,530 parameters (bench/step_time at 2 threads, SGD:
 * 74 us a step in parallel, 49 on one thread); 10M parameters take 2.4 ms at 2 threads, 5.0 at 1.
 * The chunks and the order of their sums are the same either way. */
#define PAR_UPDATE_MIN ((size_t)1 << 19)

static double run_chunk(const ol_optim *o, group *gr, size_t lo, size_t len, const kargs *a) {
    int plain = a->clip == INFINITY && a->gscale == 1 && a->wd == 0 && a->decay == 1;
    if (gr->is_f64) {
        double *x = (double *)gr->x + lo, *st = gr->state ? (double *)gr->state + lo : NULL;
        const double *g = (const double *)gr->g + lo;
        return plain ? update_group_f64_plain(o->p.kind, &o->p, x, g, st, len, gr->n, a)
                     : update_group_f64(o->p.kind, &o->p, x, g, st, len, gr->n, a);
    }
    float *x = (float *)gr->x + lo, *st = gr->state ? (float *)gr->state + lo : NULL;
    const float *g = (const float *)gr->g + lo;
    return plain ? update_group_f32_plain(o->p.kind, &o->p, x, g, st, len, gr->n, a)
                 : update_group_f32(o->p.kind, &o->p, x, g, st, len, gr->n, a);
}

static double run_group(const ol_optim *o, group *gr, const kargs *a) {
    if (gr->n == 0) return 0;
    size_t chunk = UPDATE_CHUNK;
    if ((gr->n + chunk - 1) / chunk > MAX_CHUNKS) chunk = (gr->n + MAX_CHUNKS - 1) / MAX_CHUNKS;
    size_t n_chunks = (gr->n + chunk - 1) / chunk;
    if (n_chunks == 1) return run_chunk(o, gr, 0, gr->n, a);
    double partial[MAX_CHUNKS];
    if (gr->n >= PAR_UPDATE_MIN) {
#pragma omp parallel for schedule(static)
        for (size_t c = 0; c < n_chunks; c++) {
            size_t lo = c * chunk, len = gr->n - lo < chunk ? gr->n - lo : chunk;
            partial[c] = run_chunk(o, gr, lo, len, a);
        }
    } else {
        for (size_t c = 0; c < n_chunks; c++) {
            size_t lo = c * chunk, len = gr->n - lo < chunk ? gr->n - lo : chunk;
            partial[c] = run_chunk(o, gr, lo, len, a);
        }
    }
    double sumsq = 0;
    for (size_t c = 0; c < n_chunks; c++) sumsq += partial[c];
    return sumsq;
}

static double nan_to_inf(double v) { return isnan(v) ? INFINITY : v; }

/* x_i = x0_i + sigma z_i for every group, z from o->rng */
static void draw_candidate(ol_optim *o) {
    double sigma = o->p.sigma;
    for (int k = 0; k < o->n_groups; k++) {
        group *gr = &o->groups[k];
        if (gr->is_f64) {
            double *x = gr->x;
            const double *x0 = gr->state;
            for (size_t i = 0; i < gr->n; i++) x[i] = x0[i] + sigma * ol_rng_normal(&o->rng);
        } else {
            float *x = gr->x;
            const float *x0 = gr->state;
            for (size_t i = 0; i < gr->n; i++) x[i] = (float)((double)x0[i] + sigma * ol_rng_normal(&o->rng));
        }
    }
}

static int random_step(ol_optim *o) {
    if (!o->f) return ol_fail(OL_ESTATE, "random: no objective; call ol_optim_set_objective first");
    TRY(ol_sched_check_step(o->sched));
    const void *x_first = o->groups[0].x;
    if (!o->fx_valid) {
        o->fx = o->f(x_first, o->userdata);
        o->evaluations++;
        o->fx_valid = 1;
    }
    for (int k = 0; k < o->n_groups; k++) {
        group *gr = &o->groups[k];
        if (gr->n) memcpy(gr->state, gr->x, gr->n * (gr->is_f64 ? sizeof(double) : sizeof(float)));
    }
    double best = nan_to_inf(o->fx), best_f = o->fx;
    long best_k = -1;
    ol_rng best_rng = o->rng;
    for (long s = 0; s < o->p.samples; s++) {
        ol_rng before = o->rng;
        draw_candidate(o);
        double fc = o->f(x_first, o->userdata);
        o->evaluations++;
        if (nan_to_inf(fc) < best) {   /* strictly better only: never accept a worse point */
            best = fc;
            best_f = fc;
            best_k = s;
            best_rng = before;
        }
    }
    if (best_k < 0) {
        for (int k = 0; k < o->n_groups; k++) {
            group *gr = &o->groups[k];
            if (gr->n) memcpy(gr->x, gr->state, gr->n * (gr->is_f64 ? sizeof(double) : sizeof(float)));
        }
    } else if (best_k != o->p.samples - 1) {
        /* regenerate the best candidate from its generator state instead of keeping a copy */
        ol_rng after = o->rng;
        o->rng = best_rng;
        draw_candidate(o);
        o->rng = after;
    }
    o->fx = best_f;
    o->t++;
    return ol_sched_step(o->sched);
}

int ol_optim_step(ol_optim *o) {
    if (o->wrap && o->n_groups) return ol_optim_wrap_step(o);
    return ol_optim_base_step(o);
}

int ol_optim_base_step(ol_optim *o) {
    const char *name = kind_names[o->p.kind];
    if (o->n_groups == 0) return ol_fail(OL_ESTATE, "%s: no parameter groups to step", name);
    if (o->p.kind == OL_OPTIM_RANDOM) return random_step(o);
    if (o->p.kind == OL_OPTIM_LBFGS) return ol_optim_lbfgs_step(o);
    TRY(ol_sched_check_step(o->sched));
    long t = o->t + 1;
    double *momentum = momentum_field(&o->p);
    if (momentum) *momentum = ol_optim_get_momentum(o);   /* the schedule's, else the optimizer's own */
    kargs a;
    step_scalars(o, t, &a);
    a.clip = o->clip_value > 0 ? o->clip_value : INFINITY;
    a.gscale = 1;
    if (o->clip_norm > 0) {
        /* torch.nn.utils.clip_grad_norm_: coef = max_norm / (norm + 1e-6), applied when < 1 */
        double sumsq = 0;
        for (int k = 0; k < o->n_groups; k++) {
            const group *gr = &o->groups[k];
            if (gr->n == 0) continue;
            sumsq += gr->is_f64 ? grad_sumsq_f64(gr->g, gr->n, a.clip) : grad_sumsq_f32(gr->g, gr->n, a.clip);
        }
        double norm = sqrt(sumsq);
        o->last_grad_norm = norm;
        if (!isfinite(norm))
            return ol_fail(OL_ENUMERIC, "%s: step %ld: the gradient norm is %g (not finite); step refused, "
                           "parameters unchanged", name, t, norm);
        double coef = o->clip_norm / (norm + 1e-6);
        if (coef < 1) a.gscale = coef;
    }
    /* nadam: mu_t = b1 (1 - 0.5 0.96^(t psi)), P_t = P_{t-1} mu_t */
    double mu = 0, mu_next = 0, prod = 0;
    if (o->p.kind == OL_OPTIM_NADAM) {
        mu = o->p.beta1 * (1. - 0.5 * ol_math_pow(0.96, (double)t * o->p.momentum_decay));
        mu_next = o->p.beta1 * (1. - 0.5 * ol_math_pow(0.96, (double)(t + 1) * o->p.momentum_decay));
        prod = o->mu_product * mu;
    }
    double sumsq = 0;
    for (int k = 0; k < o->n_groups; k++) {
        group *gr = &o->groups[k];
        if (o->p.kind == OL_OPTIM_HEAVYBALL && t == 1 && gr->n)   /* w_prev = w at the start */
            memcpy(gr->state, gr->x, gr->n * (gr->is_f64 ? sizeof(double) : sizeof(float)));
        kargs ga = a;
        double lr = ol_optim_group_lr(o, k);
        group_scalars(o, gr, t, lr, mu, mu_next, prod, &ga);
        if (ol_optim_t2_kind(o->p.kind)) ol_optim_t2_group_scalars(o, k, t, lr, &ga);
        if (ol_optim_m_kind(o->p.kind)) ol_optim_m_group_scalars(o, k, t, lr, &ga);
        sumsq += ol_optim_m_layerwise(o->p.kind) ? ol_optim_m_run_layerwise(o, gr, &ga) : run_group(o, gr, &ga);
        if (ol_optim_t2_kind(o->p.kind)) ol_optim_t2_after_group(o, k, t, lr);
    }
    o->t = t;
    if (o->p.kind == OL_OPTIM_NADAM) o->mu_product = prod;
    ol_sched_step(o->sched);   /* checked above: cannot fail */
    if (o->clip_norm == 0) {
        o->last_grad_norm = sqrt(sumsq);
        if (!isfinite(o->last_grad_norm))
            return ol_fail(OL_ENUMERIC, "%s: step %ld: the gradient norm is %g (not finite); the update was "
                           "applied (set clip-norm to have such steps refused)", name, t, o->last_grad_norm);
    }
    return OL_OK;
}

/* ---- state ---- */

#define STATE_MAGIC 0x504f4c4fu   /* "OLOP" */
#define STATE_VERSION 1u
#define STATE_HEADER 120
#define GROUP_RECORD 16
/* Layout: header, a record per group, the schedule's part, each group's saved buffers, then the
 * kind's scalars (n_scalars little-endian doubles: none for the first ten kinds, whose states keep
 * the bytes they always had), then the CRC-32 of all before it. */


static int host_is_little_endian(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Copies count values of elem bytes between host order and little-endian (a byte swap on
 * big-endian hosts, memcpy otherwise). */
static void copy_le(unsigned char *dst, const unsigned char *src, size_t count, size_t elem) {
    if (count == 0) return;
    if (host_is_little_endian()) { memcpy(dst, src, count * elem); return; }
    for (size_t i = 0; i < count; i++)
        for (size_t b = 0; b < elem; b++) dst[i * elem + b] = src[i * elem + elem - 1 - b];
}

static size_t group_bytes(const ol_optim *o, const group *gr) {
    return (size_t)saved_buffers(o, gr) * gr->n * (gr->is_f64 ? 8 : 4);
}

static size_t base_state_size(const ol_optim *o) {
    size_t size = STATE_HEADER + GROUP_RECORD * (size_t)o->n_groups + ol_sched_state_size(o->sched) + 4 +
                  8 * o->n_scalars;
    for (int k = 0; k < o->n_groups; k++) size += group_bytes(o, &o->groups[k]);
    return size;
}

/* Whether buffer b of this optimizer holds squared gradients (never negative). */
static int second_moment(const ol_optim_params *p, int b) {
    switch (p->kind) {
    case OL_OPTIM_ADAGRAD:
    case OL_OPTIM_RMSPROP: return b == 0;
    case OL_OPTIM_ADAM:
    case OL_OPTIM_ADAMW: return b >= 1; /* v, and amsgrad's running maximum of v */
    case OL_OPTIM_NADAM:
    case OL_OPTIM_RADAM: return b == 1;
    default: return 0;
    }
}

/* What no step writes into a group's saved buffers (little-endian at q), or NULL: a NaN anywhere
 * (the next step would spread it over the parameters), a negative second moment (its square root
 * is NaN). */
static const char *impossible_buffers(const ol_optim *o, const group *gr, const unsigned char *q) {
    for (int b = 0; b < saved_buffers(o, gr); b++) {
        int nonneg = second_moment(&o->p, b);
        for (size_t i = 0; i < gr->n; i++) {
            size_t at = (size_t)b * gr->n + i;
            double v;
            if (gr->is_f64) v = ol_get_f64(q + 8 * at);
            else {
                uint32_t bits = ol_get_u32(q + 4 * at);
                float f;
                memcpy(&f, &bits, 4);
                v = f;
            }
            if (isnan(v)) return "a NaN in its buffers";
            if (nonneg && v < 0) return "a negative mean of squared gradients";
        }
    }
    return NULL;
}

size_t ol_optim_state_size(const ol_optim *o) { return base_state_size(o) + ol_optim_wrap_state_size(o); }

int ol_optim_state_save(const ol_optim *o, void *buf, size_t cap) {
    size_t size = ol_optim_state_size(o);
    if (!buf || cap < size) return ol_fail(OL_EARG, "optimizer state needs %zu bytes, buffer has %zu", size, cap);
    unsigned char *p = buf;
    memset(p, 0, STATE_HEADER);
    ol_put_u32(p + 0, STATE_MAGIC);
    ol_put_u32(p + 4, STATE_VERSION);
    ol_put_u32(p + 8, (uint32_t)o->p.kind);
    ol_put_u32(p + 12, (uint32_t)o->n_groups);
    ol_put_u64(p + 16, (uint64_t)o->t);
    ol_put_u64(p + 24, (uint64_t)o->evaluations);
    ol_put_f64(p + 32, o->last_grad_norm);
    ol_put_f64(p + 40, o->mu_product);
    ol_put_f64(p + 48, o->fx);
    ol_put_u32(p + 56, (uint32_t)o->fx_valid);
    for (int i = 0; i < 4; i++) ol_put_u64(p + 64 + 8 * i, o->rng.s[i]);
    ol_put_f64(p + 96, o->rng.spare_normal);
    ol_put_u32(p + 104, (uint32_t)o->rng.has_spare);
    size_t sched_len = ol_sched_state_size(o->sched);
    ol_put_u64(p + 112, sched_len);
    unsigned char *q = p + STATE_HEADER;
    for (int k = 0; k < o->n_groups; k++, q += GROUP_RECORD) {
        const group *gr = &o->groups[k];
        ol_put_u32(q, gr->is_f64 ? 8 : 4);
        ol_put_u32(q + 4, (uint32_t)saved_buffers(o, gr));
        ol_put_u64(q + 8, gr->n);
    }
    TRY(ol_sched_state_save(o->sched, q, sched_len));
    q += sched_len;
    for (int k = 0; k < o->n_groups; k++) {
        const group *gr = &o->groups[k];
        size_t bytes = group_bytes(o, gr), elem = gr->is_f64 ? 8 : 4;
        copy_le(q, gr->state, bytes / elem, elem);
        /* what the load refuses is never saved: a NaN comes from a step that diverged */
        const char *bad = impossible_buffers(o, gr, q);
        if (bad) return ol_fail(OL_ENUMERIC, "optimizer state: %s: the steps diverged; it is not saved", bad);
        q += bytes;
    }
    for (size_t i = 0; i < o->n_scalars; i++, q += 8) ol_put_f64(q, o->scalars[i]);
    ol_put_u32(q, ol_crc32(0, p, (size_t)(q - p)));
    if (o->wrap) ol_optim_wrap_state_save(o, q + 4);   /* the wrappers' part, after the base's */
    return OL_OK;
}

static int load_base(ol_optim *o, const void *buf, size_t len);

int ol_optim_state_load(ol_optim *o, const void *buf, size_t len) {
    size_t wrap_len = ol_optim_wrap_state_size(o);
    if (wrap_len) {   /* the wrappers' part is checked first, loaded last: all or nothing */
        size_t base_len = base_state_size(o);
        if (!buf || len != base_len + wrap_len)
            return ol_fail(OL_EFORMAT, "optimizer state has %zu bytes, this optimizer's needs %zu", len,
                           base_len + wrap_len);
        const unsigned char *w = (const unsigned char *)buf + base_len;
        TRY(ol_optim_wrap_state_check(o, w, wrap_len));
        TRY(load_base(o, buf, base_len));
        ol_optim_wrap_state_load(o, w);
        return OL_OK;
    }
    return load_base(o, buf, len);
}

static int load_base(ol_optim *o, const void *buf, size_t len) {
    const unsigned char *p = buf;
    if (!buf || len < STATE_HEADER + 4 || ol_get_u32(p) != STATE_MAGIC)
        return ol_fail(OL_EFORMAT, "optimizer state: not an optimizer state (bad magic or too short)");
    if (ol_get_u32(p + 4) != STATE_VERSION)
        return ol_fail(OL_EFORMAT, "optimizer state: version %u, this build reads version %u", ol_get_u32(p + 4),
                       STATE_VERSION);
    if (ol_get_u32(p + len - 4) != ol_crc32(0, p, len - 4))
        return ol_fail(OL_EFORMAT, "optimizer state: checksum mismatch (corrupt or truncated)");
    uint32_t kind = ol_get_u32(p + 8);
    if (kind != (uint32_t)o->p.kind)
        return ol_fail(OL_EFORMAT, "optimizer state is for '%s', this optimizer is '%s'",
                       ol_optim_kind_name(kind < OL_OPTIM_N_KINDS ? (int)kind : -1), kind_names[o->p.kind]);
    if (ol_get_u32(p + 12) != (uint32_t)o->n_groups)
        return ol_fail(OL_EFORMAT, "optimizer state has %u parameter groups, this optimizer has %d",
                       ol_get_u32(p + 12), o->n_groups);
    if (len < STATE_HEADER + GROUP_RECORD * (size_t)o->n_groups + 4)
        return ol_fail(OL_EFORMAT, "optimizer state: truncated (%zu bytes)", len);
    const unsigned char *q = p + STATE_HEADER;
    for (int k = 0; k < o->n_groups; k++, q += GROUP_RECORD) {
        const group *gr = &o->groups[k];
        if (ol_get_u32(q) != (gr->is_f64 ? 8u : 4u) || ol_get_u32(q + 4) != (uint32_t)saved_buffers(o, gr) ||
            ol_get_u64(q + 8) != gr->n)
            return ol_fail(OL_EFORMAT,
                           "optimizer state: group %d has %" PRIu64 " %s values and %u buffers; this optimizer's "
                           "has %zu %s values and %d buffers", k, ol_get_u64(q + 8),
                           ol_get_u32(q) == 8 ? "double" : "float", ol_get_u32(q + 4), gr->n,
                           gr->is_f64 ? "double" : "float", saved_buffers(o, gr));
    }
    if (len != base_state_size(o))
        return ol_fail(OL_EFORMAT, "optimizer state has %zu bytes, this optimizer's needs %zu", len,
                       base_state_size(o));
    long t = (long)ol_get_u64(p + 16), evaluations = (long)ol_get_u64(p + 24);
    uint32_t fx_valid = ol_get_u32(p + 56), has_spare = ol_get_u32(p + 104);
    if (t < 0 || evaluations < 0 || fx_valid > 1 || has_spare > 1)
        return ol_fail(OL_EFORMAT, "optimizer state: inconsistent counters (corrupt)");
    size_t sched_len = (size_t)ol_get_u64(p + 112);
    if (sched_len != ol_sched_state_size(o->sched))
        return ol_fail(OL_EFORMAT, "optimizer state: schedule part has %zu bytes, expected %zu", sched_len,
                       ol_sched_state_size(o->sched));
    /* every field as no step writes it (the checksum only says these are the bytes written) */
    double grad_norm = ol_get_f64(p + 32), mu_product = ol_get_f64(p + 40), spare = ol_get_f64(p + 96);
    uint64_t rng_any = ol_get_u64(p + 64) | ol_get_u64(p + 72) | ol_get_u64(p + 80) | ol_get_u64(p + 88);
    const char *bad = !(isnan(grad_norm) || grad_norm >= 0) ? "a negative gradient norm"
                    : !(mu_product >= 0 && mu_product <= 1) ? "a momentum product outside [0, 1]"
                    : has_spare && !isfinite(spare) ? "a spare normal draw that is not finite"
                    : o->p.kind == OL_OPTIM_RANDOM && !rng_any ? "a generator state of all zeros"
                    : o->p.kind == OL_OPTIM_RANDOM && evaluations < t ? "fewer evaluations than steps"
                    : NULL;
    const unsigned char *data = q + sched_len;
    for (int k = 0; k < o->n_groups && !bad; k++) {
        bad = impossible_buffers(o, &o->groups[k], data);
        data += group_bytes(o, &o->groups[k]);
    }
    if (bad) return ol_fail(OL_EFORMAT, "optimizer state: %s (corrupt)", bad);
    double *scalars = NULL;   /* the kind's scalars, at the end: checked before anything changes */
    if (o->n_scalars && !(scalars = ol_malloc_array(o->n_scalars, sizeof *scalars))) return OL_ENOMEM;
    for (size_t i = 0; i < o->n_scalars; i++) scalars[i] = ol_get_f64(p + len - 4 - 8 * (o->n_scalars - i));
    int rc = !o->n_scalars ? OL_OK
             : ol_optim_m_kind(o->p.kind) ? ol_optim_m_check_scalars(o, scalars) : ol_optim_t2_check_scalars(o, scalars);
    /* everything of ours is checked; the schedule checks its part and loads it all or nothing */
    if (!rc) rc = ol_sched_state_load(o->sched, q, sched_len);
    if (rc) {
        free(scalars);
        return rc;
    }
    q += sched_len;
    o->t = t;
    o->evaluations = evaluations;
    o->last_grad_norm = ol_get_f64(p + 32);
    o->mu_product = ol_get_f64(p + 40);
    o->fx = ol_get_f64(p + 48);
    o->fx_valid = (int)fx_valid;
    for (int i = 0; i < 4; i++) o->rng.s[i] = ol_get_u64(p + 64 + 8 * i);
    o->rng.spare_normal = ol_get_f64(p + 96);
    o->rng.has_spare = (int)has_spare;
    for (int k = 0; k < o->n_groups; k++) {
        group *gr = &o->groups[k];
        size_t bytes = group_bytes(o, gr), elem = gr->is_f64 ? 8 : 4;
        copy_le(gr->state, q, bytes / elem, elem);
        q += bytes;
    }
    if (scalars) memcpy(o->scalars, scalars, o->n_scalars * sizeof *scalars);
    free(scalars);
    return OL_OK;
}
