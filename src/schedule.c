/* schedule.c: learning-rate schedules with torch.optim.lr_scheduler 1.13 semantics, plus linear
 * warm-up and the state (see include/optlab/schedule.h for the list and the warm-up formula);
 * sequential and chain are in schedule_compose.c.
 *
 * Where torch computes a schedule recursively from the group's current lr (the "chainable" form:
 * step, multistep, exponential, cosine, linear, poly, constant-factor, multiplicative) we do the
 * same, with the same expressions in the same order, so values agree with torch to the last bit or
 * nearly; where torch uses a closed form (cosine-restarts, cyclic, onecycle) we use that. Not here:
 * per-group hyper-parameters other than the lr, ReduceLROnPlateau's mode max / abs.
 * `bold` is not torch's: the "bold driver" (Vogl et al. 1988, Battiti 1989), the lecture's rule
 * "decrease the rate if the loss varies wildly, otherwise increase it", driven by report_loss(). */
#include "optlab/common.h"
#include "optlab/schedule.h"
#include "schedule_internal.h"
#include "optlab/mathfn.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* name; the keys it takes (for messages); its keys with their defaults and what it does (--help) */
static const struct { const char *name, *keys, *usage, *what; } sched_table[SCHED_N_KINDS] = {
    {"constant", "", "constant", "the base lr throughout (not torch's ConstantLR: that is constant-factor)"},
    {"step", "step_size, gamma", "step:step_size,gamma=0.1", "lr x gamma every step_size steps (StepLR)"},
    {"multistep", "milestones, gamma", "multistep:milestones=a/b/...,gamma=0.1", "lr x gamma at each milestone (MultiStepLR)"},
    {"exponential", "gamma", "exponential:gamma", "lr x gamma every step (ExponentialLR)"},
    {"cosine", "t_max, eta_min", "cosine:t_max,eta_min=0",
     "half a cosine down to eta_min in t_max steps, then up again (CosineAnnealingLR)"},
    {"cosine-restarts", "t_0, t_mult, eta_min", "cosine-restarts:t_0,t_mult=1,eta_min=0",
     "cosine restarted after t_0, t_0 t_mult, ... steps (CosineAnnealingWarmRestarts)"},
    {"cyclic", "base_lr, max_lr, step_size_up, step_size_down, mode, gamma, cycle_momentum, base_momentum, max_momentum",
     "cyclic:max_lr,base_lr=LR,step_size_up=2000,step_size_down=UP,mode=triangular|triangular2|exp_range,gamma=1,"
     "cycle_momentum=0,base_momentum=0.8,max_momentum=0.9",
     "triangles between base_lr and max_lr (CyclicLR); cycle_momentum=1: momentum from max down to base and back"},
    {"onecycle",
     "max_lr, total_steps, pct_start, anneal, div_factor, final_div_factor, cycle_momentum, base_momentum, max_momentum",
     "onecycle:total_steps,max_lr=LR,pct_start=0.3,anneal=cos|linear,div_factor=25,final_div_factor=1e4,"
     "cycle_momentum=0,base_momentum=0.85,max_momentum=0.95",
     "up to max_lr in pct_start of total_steps, then down to its 1/(div x final_div); stepping past total_steps is "
     "refused (OneCycleLR); cycle_momentum=1: momentum the other way"},
    {"linear", "start_factor, end_factor, total_iters", "linear:start_factor=1/3,end_factor=1,total_iters=5",
     "lr x a factor going linearly from start_factor to end_factor in total_iters steps (LinearLR)"},
    {"poly", "total_iters, power", "poly:total_iters=5,power=1", "lr x (1 - t/total_iters)^power (PolynomialLR)"},
    {"inverse", "alpha, c", "inverse:alpha=c*LR,c=1", "alpha/(c + t) (the lecture's)"},
    {"inverse-sqrt", "alpha, c", "inverse-sqrt:alpha=c*LR,c=1", "alpha/(c + sqrt t) (the lecture's)"},
    {"plateau", "factor, patience, threshold, cooldown, min_lr",
     "plateau:factor=0.1,patience=10,threshold=1e-4,cooldown=0,min_lr=0",
     "lr x factor when the metric (validation loss in train, f in optimize) stops falling (ReduceLROnPlateau)"},
    {"bold", "up, down, window, tol, min_lr, max_lr", "bold:up=1.05,down=0.5,window=1,tol=0,min_lr=0,max_lr=10*LR",
     "the bold driver: lr x down when the loss (mean of a window) rises, else x up"},
    {"constant-factor", "factor, total_iters", "constant-factor:factor=1/3,total_iters=5",
     "lr x factor for the first total_iters steps (ConstantLR)"},
    {"multiplicative", "factor", "multiplicative:factor",
     "lr x factor every step, from the lr it finds (MultiplicativeLR with a constant factor)"},
    {"sequential", "schedules, milestones", "sequential:schedules=[A]/[B]/...,milestones=m1/m2/...",
     "A from step 0, B from its own step 0 at step m1, ... (SequentialLR; plateau and bold allowed)"},
    {"chain", "schedules", "chain:schedules=[A]/[B]/...",
     "every one acts on the lr in turn each step: the product of their factors (ChainedScheduler)"},
};

enum { CYCLIC_TRIANGULAR, CYCLIC_TRIANGULAR2, CYCLIC_EXP_RANGE };

/* Python's a % m for m > 0 (always in [0, m)). */
static long py_mod(long a, long m) {
    long r = a % m;
    return r < 0 ? r + m : r;
}

/* ---- spec parsing ---- */

static int get_double(ol_spec *sp, const char *key, double def, double *out, int *present) {
    int r = ol_spec_get_double(sp, key, def, out);
    if (r < 0) return -r;
    if (present) *present = r;
    return OL_OK;
}

static int get_long(ol_spec *sp, const char *key, long def, long lo, long hi, long *out, int *present) {
    int r = ol_spec_get_long(sp, key, def, lo, hi, out);
    if (r < 0) return -r;
    if (present) *present = r;
    return OL_OK;
}

static int need(int present, const char *sched, const char *key, const char *example) {
    if (present) return OL_OK;
    return ol_fail(OL_EARG, "schedule '%s' needs %s (e.g. %s)", sched, key, example);
}

#define TRY(expr) do { int rc_ = (expr); if (rc_) return rc_; } while (0)
#define RANGE(cond, ...) do { if (!(cond)) return ol_fail(OL_EARG, __VA_ARGS__); } while (0)

int sched_parse_milestones(const char *text, const char *name, int strict, long *out, int *n) {
    const char *p = text, *order = strict ? "strictly increasing" : "increasing";
    *n = 0;
    while (*p) {
        char *end;
        if (*p < '0' || *p > '9')
            return ol_fail(OL_EARG, "%s: milestones '%s': expected whole numbers separated by '/'", name, text);
        long v = strtol(p, &end, 10);
        if (v < 1 || v == LONG_MAX)
            return ol_fail(OL_EARG, "%s: milestones '%s': each must be a step >= 1", name, text);
        if (*n == SCHED_MAX_MILESTONES) return ol_fail(OL_EARG, "%s: more than %d milestones", name, SCHED_MAX_MILESTONES);
        if (*n > 0 && (v < out[*n - 1] || (strict && v == out[*n - 1])))
            return ol_fail(OL_EARG, "%s: milestones '%s' must be %s", name, text, order);
        out[(*n)++] = v;
        if (*end == '/' && end[1]) p = end + 1;
        else if (*end == 0) p = end;
        else return ol_fail(OL_EARG, "%s: milestones '%s': expected whole numbers separated by '/'", name, text);
    }
    return OL_OK;
}

/* cycle_momentum, base_momentum, max_momentum of cyclic and onecycle (torch's defaults: base, max) */
static int parse_momentum(ol_sched *s, ol_spec *sp, const char *name, double base, double max) {
    long cycle;
    int has_base, has_max;
    TRY(get_long(sp, "cycle_momentum", 0, 0, 1, &cycle, NULL));
    s->cycle_momentum = (int)cycle;
    TRY(get_double(sp, "base_momentum", base, &s->base_momentum, &has_base));
    TRY(get_double(sp, "max_momentum", max, &s->max_momentum, &has_max));
    RANGE(cycle || (!has_base && !has_max), "%s: %s is used only with cycle_momentum=1 (the momentum is not cycled "
          "by default)", name, has_base ? "base_momentum" : "max_momentum");
    RANGE(s->base_momentum > 0 && s->base_momentum < 1, "%s: base_momentum must be in (0, 1), got %g", name,
          s->base_momentum);
    RANGE(s->max_momentum > 0 && s->max_momentum < 1, "%s: max_momentum must be in (0, 1), got %g", name,
          s->max_momentum);
    return OL_OK;
}

/* The spec into s (kind and settings; a composition creates its children). sp: scratch. */
static int parse_into(ol_sched *s, ol_spec *sp, const char *text) {
    TRY(ol_spec_parse(sp, text, "schedule"));
    int kind = -1;
    for (int k = 0; k < SCHED_N_KINDS; k++)
        if (!strcmp(sp->name, sched_table[k].name)) kind = k;
    if (kind < 0) {
        char names[512] = "";
        for (int k = 0; k < SCHED_N_KINDS; k++) {
            strcat(names, sched_table[k].name);
            if (k + 1 < SCHED_N_KINDS) strcat(names, ", ");
        }
        return ol_fail(OL_EARG, "unknown schedule '%s'; valid: %s", sp->name, names);
    }
    s->kind = kind;
    const char *name = sched_table[kind].name;
    int has;
    switch (kind) {
    case SCHED_CONSTANT: break;
    case SCHED_STEP:
        TRY(get_long(sp, "step_size", 0, 1, LONG_MAX, &s->step_size, &has));
        TRY(need(has, name, "step_size", "step:step_size=30,gamma=0.1"));
        TRY(get_double(sp, "gamma", 0.1, &s->gamma, NULL));
        RANGE(s->gamma >= 0, "step: gamma must be >= 0, got %g", s->gamma);
        break;
    case SCHED_MULTISTEP: {
        const char *m = ol_spec_get_str(sp, "milestones");
        TRY(need(m != NULL, name, "milestones", "multistep:milestones=10/25,gamma=0.1"));
        TRY(sched_parse_milestones(m, "multistep", 0, s->milestones, &s->n_milestones));
        TRY(get_double(sp, "gamma", 0.1, &s->gamma, NULL));
        RANGE(s->gamma >= 0, "multistep: gamma must be >= 0, got %g", s->gamma);
        break;
    }
    case SCHED_EXPONENTIAL:
        TRY(get_double(sp, "gamma", 0, &s->gamma, &has));
        TRY(need(has, name, "gamma", "exponential:gamma=0.95"));
        RANGE(s->gamma >= 0, "exponential: gamma must be >= 0, got %g", s->gamma);
        break;
    case SCHED_COSINE:
        TRY(get_long(sp, "t_max", 0, 1, LONG_MAX / 2, &s->t_max, &has));
        TRY(need(has, name, "t_max", "cosine:t_max=100"));
        TRY(get_double(sp, "eta_min", 0, &s->eta_min, NULL));
        RANGE(s->eta_min >= 0, "cosine: eta_min must be >= 0, got %g", s->eta_min);
        break;
    case SCHED_COSINE_RESTARTS:
        TRY(get_long(sp, "t_0", 0, 1, LONG_MAX, &s->t_0, &has));
        TRY(need(has, name, "t_0", "cosine-restarts:t_0=10,t_mult=2"));
        TRY(get_long(sp, "t_mult", 1, 1, 1L << 20, &s->t_mult, NULL));
        TRY(get_double(sp, "eta_min", 0, &s->eta_min, NULL));
        RANGE(s->eta_min >= 0, "cosine-restarts: eta_min must be >= 0, got %g", s->eta_min);
        break;
    case SCHED_CYCLIC: {
        long up, down;
        TRY(get_double(sp, "max_lr", 0, &s->max_lr, &has));
        TRY(need(has, name, "max_lr", "cyclic:base_lr=0.001,max_lr=0.1,step_size_up=20"));
        RANGE(s->max_lr >= 0, "cyclic: max_lr must be >= 0, got %g", s->max_lr);
        TRY(get_double(sp, "base_lr", NAN, &s->cyc_base_lr, &has));
        RANGE(!has || s->cyc_base_lr >= 0, "cyclic: base_lr must be >= 0, got %g", s->cyc_base_lr);
        TRY(get_long(sp, "step_size_up", 2000, 1, LONG_MAX / 2, &up, NULL));
        TRY(get_long(sp, "step_size_down", up, 0, LONG_MAX / 2, &down, NULL));
        s->step_size_up = (double)up;
        s->step_size_down = (double)down;
        const char *mode = ol_spec_get_str(sp, "mode");
        if (!mode || !strcmp(mode, "triangular")) s->cyclic_mode = CYCLIC_TRIANGULAR;
        else if (!strcmp(mode, "triangular2")) s->cyclic_mode = CYCLIC_TRIANGULAR2;
        else if (!strcmp(mode, "exp_range")) s->cyclic_mode = CYCLIC_EXP_RANGE;
        else return ol_fail(OL_EARG, "cyclic: mode '%s' is unknown; valid: triangular, triangular2, exp_range", mode);
        TRY(get_double(sp, "gamma", 1.0, &s->gamma, NULL));
        RANGE(s->gamma > 0, "cyclic: gamma must be > 0, got %g", s->gamma);
        TRY(parse_momentum(s, sp, name, 0.8, 0.9));
        break;
    }
    case SCHED_ONECYCLE: {
        TRY(get_long(sp, "total_steps", 0, 1, LONG_MAX / 2, &s->total_steps, &has));
        TRY(need(has, name, "total_steps", "onecycle:max_lr=0.1,total_steps=1000"));
        TRY(get_double(sp, "max_lr", NAN, &s->max_lr, &has));
        RANGE(!has || s->max_lr >= 0, "onecycle: max_lr must be >= 0, got %g", s->max_lr);
        TRY(get_double(sp, "pct_start", 0.3, &s->pct_start, NULL));
        RANGE(s->pct_start >= 0 && s->pct_start <= 1,
              "onecycle: pct_start must be in [0, 1], got %g", s->pct_start);
        double end0 = s->pct_start * (double)s->total_steps - 1, end1 = (double)s->total_steps - 1;
        /* torch divides by end0 in phase 1 and by end1 - end0 in phase 2: both must be nonzero */
        RANGE(end0 != 0, "onecycle: pct_start * total_steps must not be exactly 1 (torch divides by zero)");
        RANGE(end1 != end0, "onecycle: pct_start * total_steps must be < total_steps");
        const char *anneal = ol_spec_get_str(sp, "anneal");
        if (!anneal || !strcmp(anneal, "cos")) s->anneal_linear = 0;
        else if (!strcmp(anneal, "linear")) s->anneal_linear = 1;
        else return ol_fail(OL_EARG, "onecycle: anneal '%s' is unknown; valid: cos, linear", anneal);
        TRY(get_double(sp, "div_factor", 25.0, &s->div_factor, NULL));
        RANGE(s->div_factor > 0, "onecycle: div_factor must be > 0, got %g", s->div_factor);
        TRY(get_double(sp, "final_div_factor", 1e4, &s->final_div_factor, NULL));
        RANGE(s->final_div_factor > 0, "onecycle: final_div_factor must be > 0, got %g", s->final_div_factor);
        TRY(parse_momentum(s, sp, name, 0.85, 0.95));
        break;
    }
    case SCHED_LINEAR:
        TRY(get_double(sp, "start_factor", 1.0 / 3, &s->start_factor, NULL));
        RANGE(s->start_factor > 0 && s->start_factor <= 1,
              "linear: start_factor must be in (0, 1], got %g", s->start_factor);
        TRY(get_double(sp, "end_factor", 1.0, &s->end_factor, NULL));
        RANGE(s->end_factor >= 0 && s->end_factor <= 1,
              "linear: end_factor must be in [0, 1], got %g", s->end_factor);
        TRY(get_long(sp, "total_iters", 5, 1, LONG_MAX, &s->total_iters, NULL));
        break;
    case SCHED_POLY:
        TRY(get_long(sp, "total_iters", 5, 1, LONG_MAX, &s->total_iters, NULL));
        TRY(get_double(sp, "power", 1.0, &s->power, NULL));
        RANGE(s->power >= 0, "poly: power must be >= 0, got %g", s->power);
        break;
    case SCHED_INVERSE:
    case SCHED_INVERSE_SQRT:
        TRY(get_double(sp, "c", 1.0, &s->c, NULL));
        RANGE(s->c > 0, "%s: c must be > 0, got %g", name, s->c);
        TRY(get_double(sp, "alpha", NAN, &s->alpha, &has));
        RANGE(!has || s->alpha >= 0, "%s: alpha must be >= 0, got %g", name, s->alpha);
        /* the first lr is alpha / c: a tiny c (1e-319) would make it infinite */
        RANGE(!has || isfinite(s->alpha / s->c), "%s: alpha / c = %g / %g is not a finite learning rate", name,
              s->alpha, s->c);
        RANGE(has || s->c >= 1e-300, "%s: c must be >= 1e-300, got %g", name, s->c);
        break;
    case SCHED_PLATEAU:
        TRY(get_double(sp, "factor", 0.1, &s->factor, NULL));
        RANGE(s->factor >= 0 && s->factor < 1, "plateau: factor must be in [0, 1), got %g", s->factor);
        TRY(get_long(sp, "patience", 10, 0, LONG_MAX, &s->patience, NULL));
        TRY(get_double(sp, "threshold", 1e-4, &s->threshold, NULL));
        RANGE(s->threshold >= 0, "plateau: threshold must be >= 0, got %g", s->threshold);
        TRY(get_long(sp, "cooldown", 0, 0, LONG_MAX, &s->cooldown, NULL));
        TRY(get_double(sp, "min_lr", 0, &s->min_lr, NULL));
        RANGE(s->min_lr >= 0, "plateau: min_lr must be >= 0, got %g", s->min_lr);
        break;
    case SCHED_BOLD:
        TRY(get_double(sp, "up", 1.05, &s->up, NULL));
        RANGE(s->up >= 1 && isfinite(s->up), "bold: up must be a finite number >= 1, got %g", s->up);
        TRY(get_double(sp, "down", 0.5, &s->down, NULL));
        RANGE(s->down > 0 && s->down <= 1, "bold: down must be in (0, 1], got %g", s->down);
        TRY(get_long(sp, "window", 1, 1, 1L << 30, &s->window, NULL));
        TRY(get_double(sp, "tol", 0, &s->tol, NULL));
        RANGE(s->tol >= 0 && isfinite(s->tol), "bold: tol must be a finite number >= 0, got %g", s->tol);
        TRY(get_double(sp, "min_lr", 0, &s->min_lr, NULL));
        RANGE(s->min_lr >= 0 && isfinite(s->min_lr), "bold: min_lr must be a finite number >= 0, got %g", s->min_lr);
        TRY(get_double(sp, "max_lr", NAN, &s->max_lr, &has));
        RANGE(!has || (s->max_lr > 0 && isfinite(s->max_lr)), "bold: max_lr must be a finite number > 0, got %g",
              s->max_lr);
        RANGE(!has || s->min_lr <= s->max_lr, "bold: min_lr (%g) must not exceed max_lr (%g)", s->min_lr, s->max_lr);
        break;
    case SCHED_CONSTANT_FACTOR:
        /* torch allows factor 0 and then divides by it at total_iters */
        TRY(get_double(sp, "factor", 1.0 / 3, &s->factor, NULL));
        RANGE(s->factor > 0 && s->factor <= 1, "constant-factor: factor must be in (0, 1], got %g", s->factor);
        TRY(get_long(sp, "total_iters", 5, 1, LONG_MAX, &s->total_iters, NULL));
        break;
    case SCHED_MULTIPLICATIVE:
        TRY(get_double(sp, "factor", 0, &s->factor, &has));
        TRY(need(has, name, "factor", "multiplicative:factor=0.95"));
        RANGE(s->factor >= 0, "multiplicative: factor must be >= 0, got %g", s->factor);
        break;
    case SCHED_SEQUENTIAL:
    case SCHED_CHAIN: TRY(compose_parse(s, sp, name)); break;
    }
    return ol_spec_check_unused(sp, *sched_table[kind].keys ? sched_table[kind].keys : NULL);
}

/* The spec (17 KB of scratch, on the heap: compositions parse their children recursively) */
static int parse_spec(ol_sched *s, const char *text) {
    ol_spec *sp = ol_calloc(1, sizeof *sp);
    if (!sp) return OL_ENOMEM;
    int rc = parse_into(s, sp, text);
    free(sp);
    return rc;
}

/* ---- values ---- */

/* The schedule's lr at its step 0 for a group with base lr `base`. */
static double initial_lr(const ol_sched *s, double base) {
    switch (s->kind) {
    case SCHED_CYCLIC: return isnan(s->cyc_base_lr) ? base : s->cyc_base_lr;
    case SCHED_ONECYCLE: return (isnan(s->max_lr) ? base : s->max_lr) / s->div_factor;
    case SCHED_LINEAR: return base * s->start_factor;
    case SCHED_CONSTANT_FACTOR: return base * s->factor;
    case SCHED_INVERSE:
    case SCHED_INVERSE_SQRT: return (isnan(s->alpha) ? s->c * base : s->alpha) / s->c;
    default: return base;
    }
}

/* torch's OneCycleLR: its phase at step e (0 up, 1 down) and the fraction of it done. */
static int onecycle_phase(const ol_sched *s, long e, double *pct) {
    double end0 = s->pct_start * (double)s->total_steps - 1, end1 = (double)s->total_steps - 1;
    if ((double)e <= end0) {
        *pct = (double)e / end0;
        return 0;
    }
    *pct = ((double)e - end0) / (end1 - end0);
    return 1;
}

/* torch's _annealing_cos / _annealing_linear from start to end */
static double onecycle_anneal(const ol_sched *s, double start, double end, double pct) {
    if (s->anneal_linear) return (end - start) * pct + start;
    double cos_out = ol_math_cos(M_PI * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
}

/* torch's OneCycleLR.get_lr (two phases) at step e. */
static double onecycle_lr(const ol_sched *s, double base, long e) {
    double max_lr = isnan(s->max_lr) ? base : s->max_lr;
    double init = max_lr / s->div_factor, min_lr = init / s->final_div_factor, pct;
    if (onecycle_phase(s, e, &pct) == 0) return onecycle_anneal(s, init, max_lr, pct);
    return onecycle_anneal(s, max_lr, min_lr, pct);
}

/* torch's CyclicLR at step e: the position in the triangle (0 at base_lr, 1 at max_lr) and the
 * mode's scale of the amplitude */
static void cyclic_position(const ol_sched *s, long e, double *scale_factor, double *mode_scale) {
    double total = s->step_size_up + s->step_size_down, ratio = s->step_size_up / total;
    double cycle = floor(1 + (double)e / total);
    double x = 1. + (double)e / total - cycle;
    *scale_factor = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
    switch (s->cyclic_mode) {
    case CYCLIC_TRIANGULAR2: *mode_scale = 1 / ol_math_pow(2., cycle - 1); break;
    case CYCLIC_EXP_RANGE: *mode_scale = ol_math_pow(s->gamma, (double)e); break;
    default: *mode_scale = 1.; break;
    }
}

/* torch's CyclicLR.get_lr at step e. */
static double cyclic_lr(const ol_sched *s, double base, long e) {
    double base_lr = isnan(s->cyc_base_lr) ? base : s->cyc_base_lr, scale_factor, mode_scale;
    cyclic_position(s, e, &scale_factor, &mode_scale);
    double height = (s->max_lr - base_lr) * scale_factor;
    double lr = base_lr + height * mode_scale;
    /* exp_range with gamma > 1 and max_lr < base_lr goes below zero (torch's too): a negative lr
     * would climb the loss, so it stops at 0 (a deliberate difference, in the README) */
    return lr > 0 ? lr : 0;
}

/* The momentum (or beta1) at step e of a cyclic or onecycle with cycle_momentum=1: torch's formula,
 * kept between base_momentum and max_momentum (a rounding could leave them by an ulp). */
static double momentum_at(const ol_sched *s, long e) {
    double lo = fmin(s->base_momentum, s->max_momentum), hi = fmax(s->base_momentum, s->max_momentum), m;
    if (s->kind == SCHED_ONECYCLE) {
        double pct;
        m = onecycle_phase(s, e, &pct) == 0 ? onecycle_anneal(s, s->max_momentum, s->base_momentum, pct)
                                             : onecycle_anneal(s, s->base_momentum, s->max_momentum, pct);
    } else {
        double scale_factor, mode_scale;
        cyclic_position(s, e, &scale_factor, &mode_scale);
        m = s->max_momentum - (s->max_momentum - s->base_momentum) * scale_factor * mode_scale;
    }
    return fmin(fmax(m, lo), hi);
}

/* The lr after the schedule's e-th step, from the group's current lr (torch's get_lr). */
static double next_lr(const ol_sched *s, size_t g, long e, double lr) {
    double base = s->base[g];
    switch (s->kind) {
    case SCHED_STEP:
        return (e == 0 || e % s->step_size != 0) ? lr : lr * s->gamma;
    case SCHED_MULTISTEP: {
        int count = 0;
        for (int i = 0; i < s->n_milestones; i++) count += s->milestones[i] == e;
        return count ? lr * ol_math_pow(s->gamma, count) : lr;
    }
    case SCHED_EXPONENTIAL:
        return e == 0 ? lr : lr * s->gamma;
    case SCHED_COSINE: {
        double T = (double)s->t_max;
        if (e == 0) return lr;
        if (py_mod(e - 1 - s->t_max, 2 * s->t_max) == 0)
            return lr + (base - s->eta_min) * (1 - ol_math_cos(M_PI / T)) / 2;
        return (1 + ol_math_cos(M_PI * (double)e / T)) / (1 + ol_math_cos(M_PI * (double)(e - 1) / T)) *
                   (lr - s->eta_min) +
               s->eta_min;
    }
    case SCHED_COSINE_RESTARTS:
        return s->eta_min + (base - s->eta_min) * (1 + ol_math_cos(M_PI * (double)s->t_cur / (double)s->t_i)) / 2;
    case SCHED_CYCLIC: return cyclic_lr(s, base, e);
    case SCHED_ONECYCLE: return onecycle_lr(s, base, e);
    case SCHED_LINEAR: {
        if (e == 0) return lr * s->start_factor;
        if (e > s->total_iters) return lr;
        double span = s->end_factor - s->start_factor;
        return lr * (1. + span / ((double)s->total_iters * s->start_factor + (double)(e - 1) * span));
    }
    case SCHED_POLY: {
        if (e == 0 || e > s->total_iters) return lr;
        double T = (double)s->total_iters;
        double f = ol_math_pow((1.0 - (double)e / T) / (1.0 - (double)(e - 1) / T), s->power);
        return lr * f;
    }
    case SCHED_INVERSE:
    case SCHED_INVERSE_SQRT: {
        double alpha = isnan(s->alpha) ? s->c * base : s->alpha;
        double denom = s->kind == SCHED_INVERSE ? s->c + (double)e : s->c + sqrt((double)e);
        return alpha / denom;
    }
    case SCHED_CONSTANT_FACTOR:   /* torch's ConstantLR.get_lr: back up by 1/factor at total_iters */
        if (e == 0) return lr * s->factor;
        return e == s->total_iters ? lr * (1.0 / s->factor) : lr;
    case SCHED_MULTIPLICATIVE: return e > 0 ? lr * s->factor : lr;
    default: return lr;   /* constant, plateau, bold: only report_metric / report_loss change it */
    }
}

int sched_scales_lr(const ol_sched *s) {
    switch (s->kind) {
    case SCHED_COSINE_RESTARTS:
    case SCHED_CYCLIC:
    case SCHED_ONECYCLE:
    case SCHED_INVERSE:
    case SCHED_INVERSE_SQRT:
    case SCHED_SEQUENTIAL: return 0;   /* closed forms from the base lr (sequential: at its milestones) */
    default: return 1;
    }
}

/* ---- starting and stepping a body ---- */

/* A leaf's lr at its step 0, given the lr it finds, cur: torch's initial step (a chainable
 * schedule acts on cur) or torch's step(0) at a milestone (the closed form at 0, from the base;
 * multiplicative, which has none in torch, and plateau and bold act on cur either way). */
static double start_lr(const ol_sched *s, size_t g, double cur, int mode) {
    double base = s->base[g];
    int restart = mode == SCHED_RESTART;
    switch (s->kind) {
    case SCHED_MULTIPLICATIVE:
    case SCHED_PLATEAU:
    case SCHED_BOLD: return cur;
    case SCHED_LINEAR: return (restart ? base : cur) * s->start_factor;
    case SCHED_CONSTANT_FACTOR: return (restart ? base : cur) * s->factor;
    case SCHED_COSINE: return restart ? s->eta_min + (base - s->eta_min) * (1 + cos(0.0)) / 2 : cur;
    case SCHED_CONSTANT:
    case SCHED_STEP:
    case SCHED_MULTISTEP:
    case SCHED_EXPONENTIAL:
    case SCHED_POLY: return restart ? base : cur;
    default: return s->l0[g];   /* closed forms: cyclic, onecycle, cosine-restarts, inverse, inverse-sqrt */
    }
}

void sched_start(ol_sched *s, int mode) {
    s->epoch = 0;
    if (s->n_child) {
        compose_start(s, mode);
        return;
    }
    s->t_cur = 0;
    s->t_i = s->t_0;
    s->best = s->kind == SCHED_BOLD ? 0 : INFINITY;
    s->num_bad = s->cooldown_counter = s->metric_epoch = 0;
    s->loss_sum = 0;
    for (size_t g = 0; g < s->n_groups; g++) s->lr[g] = start_lr(s, g, s->lr[g], mode);
    if (s->cycle_momentum) s->momentum = momentum_at(s, 0);
}

void sched_body_step(ol_sched *s) {
    s->epoch++;
    if (s->n_child) {
        compose_step(s);
        return;
    }
    if (s->kind == SCHED_COSINE_RESTARTS) {
        /* torch: T_cur += 1; past T_i it restarts with T_i *= T_mult */
        s->t_cur++;
        if (s->t_cur >= s->t_i) {
            s->t_cur -= s->t_i;
            s->t_i = s->t_i > LONG_MAX / s->t_mult ? LONG_MAX : s->t_i * s->t_mult;
        }
    }
    for (size_t g = 0; g < s->n_groups; g++) {
        double lr = next_lr(s, g, s->epoch, s->lr[g]);
        /* With lrs and eta_min >= 0 every schedule but onecycle stays >= 0 in exact arithmetic; torch's
         * chainable formulas can round below zero (linear: -2.5e-18; cosine with eta_min = 7e67:
         * -4e53). A negative lr would climb the loss, so it stops at 0. onecycle keeps torch's value
         * after its last step: that lr is never used (the next step is refused). */
        s->lr[g] = lr < 0 && s->kind != SCHED_ONECYCLE ? 0 : lr;
    }
    if (s->cycle_momentum) s->momentum = momentum_at(s, s->epoch);
}

int sched_body_check(const ol_sched *s, long step) {
    if (s->n_child) return compose_check(s, step);
    if (s->kind == SCHED_ONECYCLE && s->epoch + 1 > s->total_steps)
        return ol_fail(OL_ESTATE, "step %ld: the onecycle schedule has total_steps=%ld%s and cannot step past it", step,
                       s->total_steps, s->depth ? " (counted from its start in the composition)"
                                       : s->warmup ? " (after warm-up)" : "");
    return OL_OK;
}

long sched_body_max_steps(const ol_sched *s) {
    if (s->n_child) return compose_max_steps(s);
    return s->kind == SCHED_ONECYCLE ? s->total_steps : LONG_MAX;
}

/* torch's ReduceLROnPlateau.step(metric), mode min, threshold_mode rel */
void sched_body_metric(ol_sched *s, double value) {
    if (s->n_child) {
        compose_metric(s, value);
        return;
    }
    if (s->kind != SCHED_PLATEAU) return;
    s->metric_epoch++;
    if (value < s->best * (1. - s->threshold)) {
        s->best = value;
        s->num_bad = 0;
    } else {
        s->num_bad++;
    }
    if (s->cooldown_counter > 0) {
        s->cooldown_counter--;
        s->num_bad = 0;
    }
    if (s->num_bad > s->patience) {
        for (size_t g = 0; g < s->n_groups; g++) {
            double old_lr = s->lr[g], new_lr = fmax(old_lr * s->factor, s->min_lr);
            if (old_lr - new_lr > 1e-8) s->lr[g] = new_lr;
        }
        s->cooldown_counter = s->cooldown;
        s->num_bad = 0;
    }
}

/* The bold driver: losses are averaged over windows of `window` reports; after each window but the
 * first, every group's lr is multiplied by `down` if the window's mean rose above the previous
 * window's mean by more than tol * |previous mean| (the loss "varies wildly"), else by `up`, then
 * kept in [min_lr, max_lr]. A non-finite loss multiplies by `down` at once and restarts the
 * window. window 1, tol 0 is the classic rule for full-batch GD; with mini-batches the loss of one
 * batch is too noisy to compare, so a window of tens of steps compares averages instead. */
void sched_body_loss(ol_sched *s, double loss) {
    if (s->n_child) {
        compose_loss(s, loss);
        return;
    }
    if (s->kind != SCHED_BOLD) return;
    int rise = !isfinite(loss);
    if (!rise) {
        s->loss_sum += loss;
        if (++s->num_bad < s->window) return;
        double mean = s->loss_sum / (double)s->window, ref = s->best;
        s->loss_sum = 0;
        s->num_bad = 0;
        int first = s->metric_epoch == 0;
        s->metric_epoch++;
        s->best = mean;
        if (first) return;          /* nothing to compare with yet */
        rise = mean - ref > s->tol * fabs(ref);
    } else {
        s->loss_sum = 0;
        s->num_bad = 0;
    }
    for (size_t g = 0; g < s->n_groups; g++) {
        double max_lr = isnan(s->max_lr) ? 10 * s->base[g] : s->max_lr;
        double lr = s->lr[g] * (rise ? s->down : s->up);
        s->lr[g] = fmax(fmin(lr, max_lr), s->min_lr);
    }
}

/* ---- the top: creation, warm-up, the public calls ---- */

static void set_warmup_lr(ol_sched *s) {
    /* lr_t = L0 (t+1)/N for t < N */
    for (size_t g = 0; g < s->n_groups; g++)
        s->lr[g] = s->l0[g] * (double)(s->t + 1) / (double)s->warmup;
}

/* The top starts (at creation, and again when the warm-up ends) from the base lrs, as a schedule
 * built then. */
static void start_top(ol_sched *s) {
    memcpy(s->lr, s->base, s->n_groups * sizeof *s->lr);
    sched_start(s, SCHED_CREATE);
}

int sched_new(ol_sched **out, const char *spec, size_t n_groups, const double *base_lrs, int depth) {
    *out = NULL;
    ol_sched *s = ol_calloc(1, sizeof *s);
    if (!s) return OL_ENOMEM;
    s->depth = depth;
    s->n_groups = n_groups;
    s->momentum = NAN;
    s->base = ol_calloc(3 * (n_groups ? n_groups : 1), sizeof(double));
    if (!s->base) {
        free(s);
        return OL_ENOMEM;
    }
    s->l0 = s->base + n_groups;
    s->lr = s->l0 + n_groups;
    if (n_groups) memcpy(s->base, base_lrs, n_groups * sizeof *s->base);   /* base_lrs may be NULL then */
    int rc = parse_spec(s, spec);   /* a composition's children need the base lrs */
    if (rc) {
        ol_sched_free(s);
        return rc;
    }
    for (size_t g = 0; g < n_groups; g++) s->l0[g] = initial_lr(s, base_lrs[g]);
    start_top(s);
    if (s->n_child) memcpy(s->l0, s->lr, n_groups * sizeof *s->l0);   /* what its children start from */
    *out = s;
    return OL_OK;
}

int ol_sched_create(ol_sched **out, const char *spec, long warmup_steps, size_t n_groups,
                    const double *base_lrs) {
    *out = NULL;
    if (warmup_steps < 0) return ol_fail(OL_EARG, "warm-up steps must be >= 0, got %ld", warmup_steps);
    for (size_t g = 0; g < n_groups; g++)
        if (!(base_lrs[g] >= 0) || !isfinite(base_lrs[g]))
            return ol_fail(OL_EARG, "schedule: base lr of group %zu must be a finite number >= 0, got %g", g,
                           base_lrs[g]);
    ol_sched *s;
    TRY(sched_new(&s, spec && *spec ? spec : "constant", n_groups, base_lrs, 0));
    s->warmup = warmup_steps;
    if (s->warmup > 0) set_warmup_lr(s);
    *out = s;
    return OL_OK;
}

void ol_sched_free(ol_sched *s) {
    if (!s) return;
    for (int k = 0; k < s->n_child; k++) ol_sched_free(s->child[k]);
    free(s->child);
    free(s->base);
    free(s);
}

double ol_sched_lr(const ol_sched *s, size_t group) { return group < s->n_groups ? s->lr[group] : NAN; }

double ol_sched_momentum(const ol_sched *s) { return s->momentum; }

int ol_sched_sets_momentum(const ol_sched *s) {
    if (s->cycle_momentum) return 1;
    for (int k = 0; k < s->n_child; k++)
        if (ol_sched_sets_momentum(s->child[k])) return 1;
    return 0;
}

int ol_sched_set_lr(ol_sched *s, size_t group, double lr) {
    if (group >= s->n_groups) return ol_fail(OL_EARG, "no parameter group %zu (there are %zu)", group, s->n_groups);
    if (!(lr >= 0) || !isfinite(lr)) return ol_fail(OL_EARG, "learning rate must be a finite number >= 0, got %g", lr);
    s->lr[group] = lr;
    return OL_OK;
}

long ol_sched_steps(const ol_sched *s) { return s->t; }

long ol_sched_max_steps(const ol_sched *s) {
    long body = sched_body_max_steps(s);
    if (body == LONG_MAX) return LONG_MAX;
    return body > LONG_MAX - s->warmup ? LONG_MAX : s->warmup + body;
}

int ol_sched_check_step(const ol_sched *s) {
    if (s->t == LONG_MAX) return ol_fail(OL_ESTATE, "schedule: step count overflows");
    if (s->t + 1 <= s->warmup) return OL_OK;   /* a warm-up step, or the one that starts the schedule */
    return sched_body_check(s, s->t + 1);
}

int ol_sched_step(ol_sched *s) {
    TRY(ol_sched_check_step(s));
    s->t++;
    if (s->t < s->warmup) set_warmup_lr(s);
    else if (s->t == s->warmup) start_top(s);
    else sched_body_step(s);
    return OL_OK;
}

int ol_sched_report_metric(ol_sched *s, double value) {
    if (s->t >= s->warmup) sched_body_metric(s, value);   /* metrics during warm-up are ignored */
    return OL_OK;
}

int ol_sched_report_loss(ol_sched *s, double loss) {
    if (s->t >= s->warmup) sched_body_loss(s, loss);
    return OL_OK;
}

/* Appends words to text at n, indented, lines broken after a `brk` (',' or ' ') past 96 columns. */
static size_t help_wrap(char *text, size_t cap, size_t n, const char *words, int indent, char brk) {
    int col = 0;
    for (const char *w = words; *w && n + 8 < cap; w++) {
        if (col == 0) {
            n += (size_t)snprintf(text + n, cap - n, "%*s", indent, "");
            col = indent;
        }
        text[n++] = *w;
        col++;
        if (*w == brk && col > 96 && w[1]) {
            if (brk == ' ') n--;
            text[n++] = '\n';
            col = 0;
            indent = 8;
        }
    }
    text[n++] = '\n';
    text[n] = 0;
    return n;
}

const char *ol_sched_help(void) {
    static char text[8192];
    if (text[0]) return text;
    size_t n = (size_t)snprintf(text, sizeof text,
                                "schedules (--schedule NAME:key=value,...; a key left out takes the default shown; LR is "
                                "the group's lr):\n");
    for (int k = 0; k < SCHED_N_KINDS; k++) {
        n = help_wrap(text, sizeof text - 1024, n, sched_table[k].usage, 2, ',');
        n = help_wrap(text, sizeof text - 1024, n, sched_table[k].what, 6, ' ');
    }
    if (n < sizeof text)
        snprintf(text + n, sizeof text - n,
                 "  A schedule inside sequential or chain goes in brackets, one pair each, as written alone; quote\n"
                 "  the whole spec for the shell, e.g.\n"
                 "      --schedule 'sequential:schedules=[linear:start_factor=0.1,total_iters=5]/[cosine:t_max=95],milestones=5'\n"
                 "  At milestone m the next schedule starts from its own step 0 (from the base lr; multiplicative,\n"
                 "  plateau and bold from the lr they find). chain takes only schedules that scale the lr it finds\n"
                 "  (not cyclic, onecycle, cosine-restarts, inverse, inverse-sqrt or sequential). The two nest %d\n"
                 "  deep at most.\n"
                 "  cycle_momentum=1 (cyclic, onecycle) also sets sgd's or rmsprop's momentum (which must be > 0),\n"
                 "  heavyball's beta or the adam family's beta1 each step, inversely to the lr; off by default.\n"
                 "  --warmup N: lr (t+1)/N x the schedule's first lr for t < N, then the schedule from its step 0.\n",
                 SCHED_MAX_NEST);
    return text;
}

/* ---- state: little-endian, versioned, CRC-checked ----
 * Version 1, a schedule that neither composes nor sets the momentum (as before version 2 existed):
 *   the header (SCHED_HEADER bytes), then per group its base lr, step-0 lr and lr (f64 each), then
 *   the CRC-32 of all before it.
 * Version 2, sequential, chain, and cyclic / onecycle with cycle_momentum=1: the same, with before
 *   the CRC the momentum (f64; NaN: none set yet), the number of children (u32) and each child's
 *   whole state, its length (u64) first. A composition's state is thus all of its children's. */

#define SCHED_MAGIC 0x43534c4fu   /* "OLSC" */
#define SCHED_HEADER 96           /* bytes before the per-group lrs (88..95: bold's loss_sum, 0 for others) */

static uint32_t state_version(const ol_sched *s) { return s->n_child || s->cycle_momentum ? 2u : 1u; }

size_t ol_sched_state_size(const ol_sched *s) {
    size_t size = SCHED_HEADER + 24 * s->n_groups + 4;
    if (state_version(s) == 2) {
        size += 12;
        for (int k = 0; k < s->n_child; k++) size += 8 + ol_sched_state_size(s->child[k]);
    }
    return size;
}

int ol_sched_state_save(const ol_sched *s, void *buf, size_t cap) {
    size_t need_len = ol_sched_state_size(s);
    if (cap < need_len) return ol_fail(OL_EARG, "schedule state needs %zu bytes, buffer has %zu", need_len, cap);
    unsigned char *p = buf;
    memset(p, 0, SCHED_HEADER);
    ol_put_u32(p + 0, SCHED_MAGIC);
    ol_put_u32(p + 4, state_version(s));
    ol_put_u32(p + 8, (uint32_t)s->kind);
    ol_put_u32(p + 12, (uint32_t)s->n_groups);
    ol_put_u64(p + 16, (uint64_t)s->warmup);
    ol_put_u64(p + 24, (uint64_t)s->t);
    ol_put_u64(p + 32, (uint64_t)s->epoch);
    ol_put_u64(p + 40, (uint64_t)s->t_cur);
    ol_put_u64(p + 48, (uint64_t)s->t_i);
    ol_put_f64(p + 56, s->best);
    ol_put_u64(p + 64, (uint64_t)s->num_bad);
    ol_put_u64(p + 72, (uint64_t)s->cooldown_counter);
    ol_put_u64(p + 80, (uint64_t)s->metric_epoch);
    ol_put_f64(p + 88, s->loss_sum);
    unsigned char *q = p + SCHED_HEADER;
    for (size_t g = 0; g < s->n_groups; g++, q += 24) {
        ol_put_f64(q, s->base[g]);
        ol_put_f64(q + 8, s->l0[g]);
        ol_put_f64(q + 16, s->lr[g]);
    }
    if (state_version(s) == 2) {
        ol_put_f64(q, s->momentum);
        ol_put_u32(q + 8, (uint32_t)s->n_child);
        q += 12;
        for (int k = 0; k < s->n_child; k++) {
            size_t len = ol_sched_state_size(s->child[k]);
            ol_put_u64(q, len);
            TRY(ol_sched_state_save(s->child[k], q + 8, len));
            q += 8 + len;
        }
    }
    ol_put_u32(q, ol_crc32(0, p, (size_t)(q - p)));
    return OL_OK;
}

/* Checks a state against s, its children's too, changing nothing. */
static int state_check(const ol_sched *s, const unsigned char *p, size_t len) {
    size_t need_len = ol_sched_state_size(s);
    if (len < SCHED_HEADER + 4 || ol_get_u32(p) != SCHED_MAGIC)
        return ol_fail(OL_EFORMAT, "schedule state: not a schedule state (bad magic or too short)");
    uint32_t version = ol_get_u32(p + 4), kind = ol_get_u32(p + 8);
    if (version != 1 && version != 2)
        return ol_fail(OL_EFORMAT, "schedule state: version %u, this build reads versions 1 and 2", version);
    if (kind != (uint32_t)s->kind)
        return ol_fail(OL_EFORMAT, "schedule state is for schedule '%s', this one is '%s'",
                       kind < SCHED_N_KINDS ? sched_table[kind].name : "?", sched_table[s->kind].name);
    if (version != state_version(s))
        return ol_fail(OL_EFORMAT, "schedule state of '%s' is version %u, this one's is %u (one cycles the momentum, "
                       "the other not)", sched_table[s->kind].name, version, state_version(s));
    if (ol_get_u32(p + 12) != s->n_groups)
        return ol_fail(OL_EFORMAT, "schedule state has %u groups, this schedule has %zu", ol_get_u32(p + 12),
                       s->n_groups);
    if (len != need_len)
        return ol_fail(OL_EFORMAT, "schedule state has %zu bytes, expected %zu", len, need_len);
    if (ol_get_u32(p + len - 4) != ol_crc32(0, p, len - 4))
        return ol_fail(OL_EFORMAT, "schedule state: checksum mismatch (corrupt)");
    if ((long)ol_get_u64(p + 16) != s->warmup)
        return ol_fail(OL_EFORMAT, "schedule state has %ld warm-up steps, this schedule has %ld",
                       (long)ol_get_u64(p + 16), s->warmup);
    long t = (long)ol_get_u64(p + 24), epoch = (long)ol_get_u64(p + 32), t_cur = (long)ol_get_u64(p + 40),
         t_i = (long)ol_get_u64(p + 48);
    if (t < 0 || epoch < 0 || (t >= s->warmup && epoch != t - s->warmup) ||
        (s->kind == SCHED_COSINE_RESTARTS && (t_i < 1 || t_cur < 0 || t_cur >= t_i)))
        return ol_fail(OL_EFORMAT, "schedule state: inconsistent counters (corrupt)");
    if (s->kind == SCHED_BOLD) {
        long in_window = (long)ol_get_u64(p + 64), windows = (long)ol_get_u64(p + 80);
        double ref = ol_get_f64(p + 56), sum = ol_get_f64(p + 88);
        if (in_window < 0 || in_window >= s->window || windows < 0 || !isfinite(ref) || !isfinite(sum))
            return ol_fail(OL_EFORMAT, "schedule state: inconsistent bold counters or losses (corrupt)");
    }
    /* base and step-0 lrs are >= 0 and finite; the current lr is not checked: onecycle with linear
     * annealing is, as in torch, negative once stepped to total_steps (its next step is refused), and
     * absurd settings (gamma = 9e86) overflow it (the training's divergence guard stops those runs) */
    const unsigned char *q = p + SCHED_HEADER;
    for (size_t g = 0; g < s->n_groups; g++, q += 24) {
        double base = ol_get_f64(q), l0 = ol_get_f64(q + 8);
        if (!(base >= 0) || !(l0 >= 0) || !isfinite(base) || !isfinite(l0))
            return ol_fail(OL_EFORMAT, "schedule state: negative, infinite or NaN lr (corrupt)");
    }
    if (version == 1) return OL_OK;
    /* the momentum: a cycling schedule's (always, from its start); a child's copy of the one its
     * composition shares; or NaN, none yet, or never at a top that sets none */
    double m = ol_get_f64(q);
    if (isnan(m) ? s->cycle_momentum : !(m >= 0 && m < 1) || (s->depth == 0 && !ol_sched_sets_momentum(s)))
        return ol_fail(OL_EFORMAT, "schedule state: momentum %g where this schedule sets %s (corrupt)", m,
                       ol_sched_sets_momentum(s) ? "one in [0, 1)" : "none");
    if (ol_get_u32(q + 8) != (uint32_t)s->n_child)
        return ol_fail(OL_EFORMAT, "schedule state of '%s' has %u schedules, this one has %d", sched_table[s->kind].name,
                       ol_get_u32(q + 8), s->n_child);
    q += 12;
    for (int k = 0; k < s->n_child; k++) {
        size_t child_len = ol_sched_state_size(s->child[k]);
        if (ol_get_u64(q) != child_len)
            return ol_fail(OL_EFORMAT, "schedule state of '%s': schedule %d has %llu bytes, expected %zu",
                           sched_table[s->kind].name, k + 1, (unsigned long long)ol_get_u64(q), child_len);
        TRY(state_check(s->child[k], q + 8, child_len));
        q += 8 + child_len;
    }
    return OL_OK;
}

/* Loads a state that state_check accepted. */
static void state_apply(ol_sched *s, const unsigned char *p) {
    s->t = (long)ol_get_u64(p + 24);
    s->epoch = (long)ol_get_u64(p + 32);
    s->t_cur = (long)ol_get_u64(p + 40);
    s->t_i = (long)ol_get_u64(p + 48);
    s->best = ol_get_f64(p + 56);
    s->num_bad = (long)ol_get_u64(p + 64);
    s->cooldown_counter = (long)ol_get_u64(p + 72);
    s->metric_epoch = (long)ol_get_u64(p + 80);
    s->loss_sum = ol_get_f64(p + 88);
    const unsigned char *q = p + SCHED_HEADER;
    for (size_t g = 0; g < s->n_groups; g++, q += 24) {
        s->base[g] = ol_get_f64(q);
        s->l0[g] = ol_get_f64(q + 8);
        s->lr[g] = ol_get_f64(q + 16);
    }
    if (state_version(s) == 1) return;
    s->momentum = ol_get_f64(q);
    q += 12;
    for (int k = 0; k < s->n_child; k++) {
        state_apply(s->child[k], q + 8);
        q += 8 + ol_get_u64(q);
    }
}

int ol_sched_state_load(ol_sched *s, const void *buf, size_t len) {
    TRY(state_check(s, buf, len));   /* all checked: now write */
    state_apply(s, buf);
    return OL_OK;
}
