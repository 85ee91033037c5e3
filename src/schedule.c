/* schedule.c: learning-rate schedules with torch.optim.lr_scheduler 1.13 semantics, plus linear
 * warm-up (see include/optlab/schedule.h for the list and the warm-up formula).
 *
 * Where torch computes a schedule recursively from the group's current lr (the "chainable" form:
 * step, multistep, exponential, cosine, linear, poly) we do the same, with the same expressions
 * in the same order, so values agree with torch to the last bit or nearly; where torch uses a
 * closed form (cosine-restarts, cyclic, onecycle) we use that. Not here: per-group
 * hyper-parameters other than the lr, momentum cycling, ReduceLROnPlateau's mode max / abs.
 * `bold` is not torch's: the "bold driver" (Vogl et al. 1988, Battiti 1989), the lecture's rule
 * "decrease the rate if the loss varies wildly, otherwise increase it", driven by report_loss(). */
#include "optlab/common.h"
#include "optlab/schedule.h"
#include "optlab/mathfn.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    SCHED_CONSTANT, SCHED_STEP, SCHED_MULTISTEP, SCHED_EXPONENTIAL, SCHED_COSINE,
    SCHED_COSINE_RESTARTS, SCHED_CYCLIC, SCHED_ONECYCLE, SCHED_LINEAR, SCHED_POLY,
    SCHED_INVERSE, SCHED_INVERSE_SQRT, SCHED_PLATEAU, SCHED_BOLD, SCHED_N_KINDS
};

static const struct { const char *name, *keys; } sched_table[SCHED_N_KINDS] = {
    {"constant", ""},
    {"step", "step_size, gamma"},
    {"multistep", "milestones, gamma"},
    {"exponential", "gamma"},
    {"cosine", "t_max, eta_min"},
    {"cosine-restarts", "t_0, t_mult, eta_min"},
    {"cyclic", "base_lr, max_lr, step_size_up, step_size_down, mode, gamma"},
    {"onecycle", "max_lr, total_steps, pct_start, anneal, div_factor, final_div_factor"},
    {"linear", "start_factor, end_factor, total_iters"},
    {"poly", "total_iters, power"},
    {"inverse", "alpha, c"},
    {"inverse-sqrt", "alpha, c"},
    {"plateau", "factor, patience, threshold, cooldown, min_lr"},
    {"bold", "up, down, window, tol, min_lr, max_lr"},
};

#define MAX_MILESTONES 64
enum { CYCLIC_TRIANGULAR, CYCLIC_TRIANGULAR2, CYCLIC_EXP_RANGE };

struct ol_sched {
    int kind;
    long warmup;                 /* N: linear warm-up steps before the schedule's step 0 */
    size_t n_groups;
    /* configuration */
    double gamma;                /* step, multistep, exponential, cyclic exp_range */
    long step_size;              /* step */
    long milestones[MAX_MILESTONES];
    int n_milestones;            /* multistep, non-decreasing; repeats count twice (torch's Counter) */
    double eta_min;              /* cosine, cosine-restarts */
    long t_max, t_0, t_mult;     /* cosine; cosine-restarts */
    double cyc_base_lr;          /* cyclic; NaN = each group's base lr */
    double max_lr;               /* cyclic (required), onecycle (NaN = each group's base lr),
                                    bold (NaN = 10 x each group's base lr) */
    double step_size_up, step_size_down;
    int cyclic_mode;
    long total_steps;            /* onecycle */
    double pct_start, div_factor, final_div_factor;
    int anneal_linear;
    double start_factor, end_factor, power; /* linear, poly */
    long total_iters;            /* linear, poly */
    double alpha, c;             /* inverse, inverse-sqrt; alpha NaN = c * base lr */
    double factor, threshold, min_lr;       /* plateau; min_lr also bold */
    long patience, cooldown;
    double up, down, tol;        /* bold: lr factors after a calm / a rising window, relative tol */
    long window;                 /* bold: losses averaged per comparison */
    /* state */
    long t;                      /* optimizer steps since creation */
    long epoch;                  /* torch's last_epoch: t - warmup once t >= warmup */
    long t_cur, t_i;             /* cosine-restarts */
    double best;                 /* plateau: best metric so far (inf at start);
                                    bold: the previous window's mean loss (the reference) */
    long num_bad, cooldown_counter, metric_epoch; /* plateau; bold: num_bad = losses in the
                                    current window, metric_epoch = windows completed */
    double loss_sum;             /* bold: sum of the current window's losses */
    double *base;                /* per group: base lr (torch's initial_lr) */
    double *l0;                  /* per group: the schedule's lr at its step 0 */
    double *lr;                  /* per group: lr of the next step (torch's group['lr']) */
};

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

static int parse_milestones(ol_sched *s, const char *text) {
    const char *p = text;
    s->n_milestones = 0;
    while (*p) {
        char *end;
        if (*p < '0' || *p > '9')
            return ol_fail(OL_EARG, "multistep: milestones '%s': expected whole numbers separated by '/'", text);
        long v = strtol(p, &end, 10);
        if (v < 1 || v == LONG_MAX)
            return ol_fail(OL_EARG, "multistep: milestones '%s': each must be a step >= 1", text);
        if (s->n_milestones == MAX_MILESTONES)
            return ol_fail(OL_EARG, "multistep: more than %d milestones", MAX_MILESTONES);
        if (s->n_milestones > 0 && v < s->milestones[s->n_milestones - 1])
            return ol_fail(OL_EARG, "multistep: milestones '%s' must be increasing", text);
        s->milestones[s->n_milestones++] = v;
        if (*end == '/' && end[1]) p = end + 1;
        else if (*end == 0) p = end;
        else return ol_fail(OL_EARG, "multistep: milestones '%s': expected whole numbers separated by '/'", text);
    }
    return OL_OK;
}

static int parse_spec(ol_sched *s, const char *text) {
    ol_spec sp;
    TRY(ol_spec_parse(&sp, text, "schedule"));
    int kind = -1;
    for (int k = 0; k < SCHED_N_KINDS; k++)
        if (!strcmp(sp.name, sched_table[k].name)) kind = k;
    if (kind < 0) {
        char names[512] = "";
        for (int k = 0; k < SCHED_N_KINDS; k++) {
            strcat(names, sched_table[k].name);
            if (k + 1 < SCHED_N_KINDS) strcat(names, ", ");
        }
        return ol_fail(OL_EARG, "unknown schedule '%s'; valid: %s", sp.name, names);
    }
    s->kind = kind;
    const char *name = sched_table[kind].name;
    int has;
    switch (kind) {
    case SCHED_CONSTANT: break;
    case SCHED_STEP:
        TRY(get_long(&sp, "step_size", 0, 1, LONG_MAX, &s->step_size, &has));
        TRY(need(has, name, "step_size", "step:step_size=30,gamma=0.1"));
        TRY(get_double(&sp, "gamma", 0.1, &s->gamma, NULL));
        RANGE(s->gamma >= 0, "step: gamma must be >= 0, got %g", s->gamma);
        break;
    case SCHED_MULTISTEP: {
        const char *m = ol_spec_get_str(&sp, "milestones");
        TRY(need(m != NULL, name, "milestones", "multistep:milestones=10/25,gamma=0.1"));
        TRY(parse_milestones(s, m));
        TRY(get_double(&sp, "gamma", 0.1, &s->gamma, NULL));
        RANGE(s->gamma >= 0, "multistep: gamma must be >= 0, got %g", s->gamma);
        break;
    }
    case SCHED_EXPONENTIAL:
        TRY(get_double(&sp, "gamma", 0, &s->gamma, &has));
        TRY(need(has, name, "gamma", "exponential:gamma=0.95"));
        RANGE(s->gamma >= 0, "exponential: gamma must be >= 0, got %g", s->gamma);
        break;
    case SCHED_COSINE:
        TRY(get_long(&sp, "t_max", 0, 1, LONG_MAX / 2, &s->t_max, &has));
        TRY(need(has, name, "t_max", "cosine:t_max=100"));
        TRY(get_double(&sp, "eta_min", 0, &s->eta_min, NULL));
        RANGE(s->eta_min >= 0, "cosine: eta_min must be >= 0, got %g", s->eta_min);
        break;
    case SCHED_COSINE_RESTARTS:
        TRY(get_long(&sp, "t_0", 0, 1, LONG_MAX, &s->t_0, &has));
        TRY(need(has, name, "t_0", "cosine-restarts:t_0=10,t_mult=2"));
        TRY(get_long(&sp, "t_mult", 1, 1, 1L << 20, &s->t_mult, NULL));
        TRY(get_double(&sp, "eta_min", 0, &s->eta_min, NULL));
        RANGE(s->eta_min >= 0, "cosine-restarts: eta_min must be >= 0, got %g", s->eta_min);
        break;
    case SCHED_CYCLIC: {
        long up, down;
        TRY(get_double(&sp, "max_lr", 0, &s->max_lr, &has));
        TRY(need(has, name, "max_lr", "cyclic:base_lr=0.001,max_lr=0.1,step_size_up=20"));
        RANGE(s->max_lr >= 0, "cyclic: max_lr must be >= 0, got %g", s->max_lr);
        TRY(get_double(&sp, "base_lr", NAN, &s->cyc_base_lr, &has));
        RANGE(!has || s->cyc_base_lr >= 0, "cyclic: base_lr must be >= 0, got %g", s->cyc_base_lr);
        TRY(get_long(&sp, "step_size_up", 2000, 1, LONG_MAX / 2, &up, NULL));
        TRY(get_long(&sp, "step_size_down", up, 0, LONG_MAX / 2, &down, NULL));
        s->step_size_up = (double)up;
        s->step_size_down = (double)down;
        const char *mode = ol_spec_get_str(&sp, "mode");
        if (!mode || !strcmp(mode, "triangular")) s->cyclic_mode = CYCLIC_TRIANGULAR;
        else if (!strcmp(mode, "triangular2")) s->cyclic_mode = CYCLIC_TRIANGULAR2;
        else if (!strcmp(mode, "exp_range")) s->cyclic_mode = CYCLIC_EXP_RANGE;
        else return ol_fail(OL_EARG, "cyclic: mode '%s' is unknown; valid: triangular, triangular2, exp_range", mode);
        TRY(get_double(&sp, "gamma", 1.0, &s->gamma, NULL));
        RANGE(s->gamma > 0, "cyclic: gamma must be > 0, got %g", s->gamma);
        break;
    }
    case SCHED_ONECYCLE: {
        TRY(get_long(&sp, "total_steps", 0, 1, LONG_MAX / 2, &s->total_steps, &has));
        TRY(need(has, name, "total_steps", "onecycle:max_lr=0.1,total_steps=1000"));
        TRY(get_double(&sp, "max_lr", NAN, &s->max_lr, &has));
        RANGE(!has || s->max_lr >= 0, "onecycle: max_lr must be >= 0, got %g", s->max_lr);
        TRY(get_double(&sp, "pct_start", 0.3, &s->pct_start, NULL));
        RANGE(s->pct_start >= 0 && s->pct_start <= 1,
              "onecycle: pct_start must be in [0, 1], got %g", s->pct_start);
        double end0 = s->pct_start * (double)s->total_steps - 1, end1 = (double)s->total_steps - 1;
        /* torch divides by end0 in phase 1 and by end1 - end0 in phase 2: both must be nonzero */
        RANGE(end0 != 0, "onecycle: pct_start * total_steps must not be exactly 1 (torch divides by zero)");
        RANGE(end1 != end0, "onecycle: pct_start * total_steps must be < total_steps");
        const char *anneal = ol_spec_get_str(&sp, "anneal");
        if (!anneal || !strcmp(anneal, "cos")) s->anneal_linear = 0;
        else if (!strcmp(anneal, "linear")) s->anneal_linear = 1;
        else return ol_fail(OL_EARG, "onecycle: anneal '%s' is unknown; valid: cos, linear", anneal);
        TRY(get_double(&sp, "div_factor", 25.0, &s->div_factor, NULL));
        RANGE(s->div_factor > 0, "onecycle: div_factor must be > 0, got %g", s->div_factor);
        TRY(get_double(&sp, "final_div_factor", 1e4, &s->final_div_factor, NULL));
        RANGE(s->final_div_factor > 0, "onecycle: final_div_factor must be > 0, got %g", s->final_div_factor);
        break;
    }
    case SCHED_LINEAR:
        TRY(get_double(&sp, "start_factor", 1.0 / 3, &s->start_factor, NULL));
        RANGE(s->start_factor > 0 && s->start_factor <= 1,
              "linear: start_factor must be in (0, 1], got %g", s->start_factor);
        TRY(get_double(&sp, "end_factor", 1.0, &s->end_factor, NULL));
        RANGE(s->end_factor >= 0 && s->end_factor <= 1,
              "linear: end_factor must be in [0, 1], got %g", s->end_factor);
        TRY(get_long(&sp, "total_iters", 5, 1, LONG_MAX, &s->total_iters, NULL));
        break;
    case SCHED_POLY:
        TRY(get_long(&sp, "total_iters", 5, 1, LONG_MAX, &s->total_iters, NULL));
        TRY(get_double(&sp, "power", 1.0, &s->power, NULL));
        RANGE(s->power >= 0, "poly: power must be >= 0, got %g", s->power);
        break;
    case SCHED_INVERSE:
    case SCHED_INVERSE_SQRT:
        TRY(get_double(&sp, "c", 1.0, &s->c, NULL));
        RANGE(s->c > 0, "%s: c must be > 0, got %g", name, s->c);
        TRY(get_double(&sp, "alpha", NAN, &s->alpha, &has));
        RANGE(!has || s->alpha >= 0, "%s: alpha must be >= 0, got %g", name, s->alpha);
        /* the first lr is alpha / c: a tiny c (1e-319) would make it infinite */
        RANGE(!has || isfinite(s->alpha / s->c), "%s: alpha / c = %g / %g is not a finite learning rate", name,
              s->alpha, s->c);
        RANGE(has || s->c >= 1e-300, "%s: c must be >= 1e-300, got %g", name, s->c);
        break;
    case SCHED_PLATEAU:
        TRY(get_double(&sp, "factor", 0.1, &s->factor, NULL));
        RANGE(s->factor >= 0 && s->factor < 1, "plateau: factor must be in [0, 1), got %g", s->factor);
        TRY(get_long(&sp, "patience", 10, 0, LONG_MAX, &s->patience, NULL));
        TRY(get_double(&sp, "threshold", 1e-4, &s->threshold, NULL));
        RANGE(s->threshold >= 0, "plateau: threshold must be >= 0, got %g", s->threshold);
        TRY(get_long(&sp, "cooldown", 0, 0, LONG_MAX, &s->cooldown, NULL));
        TRY(get_double(&sp, "min_lr", 0, &s->min_lr, NULL));
        RANGE(s->min_lr >= 0, "plateau: min_lr must be >= 0, got %g", s->min_lr);
        break;
    case SCHED_BOLD:
        TRY(get_double(&sp, "up", 1.05, &s->up, NULL));
        RANGE(s->up >= 1 && isfinite(s->up), "bold: up must be a finite number >= 1, got %g", s->up);
        TRY(get_double(&sp, "down", 0.5, &s->down, NULL));
        RANGE(s->down > 0 && s->down <= 1, "bold: down must be in (0, 1], got %g", s->down);
        TRY(get_long(&sp, "window", 1, 1, 1L << 30, &s->window, NULL));
        TRY(get_double(&sp, "tol", 0, &s->tol, NULL));
        RANGE(s->tol >= 0 && isfinite(s->tol), "bold: tol must be a finite number >= 0, got %g", s->tol);
        TRY(get_double(&sp, "min_lr", 0, &s->min_lr, NULL));
        RANGE(s->min_lr >= 0 && isfinite(s->min_lr), "bold: min_lr must be a finite number >= 0, got %g", s->min_lr);
        TRY(get_double(&sp, "max_lr", NAN, &s->max_lr, &has));
        RANGE(!has || (s->max_lr > 0 && isfinite(s->max_lr)), "bold: max_lr must be a finite number > 0, got %g",
              s->max_lr);
        RANGE(!has || s->min_lr <= s->max_lr, "bold: min_lr (%g) must not exceed max_lr (%g)", s->min_lr, s->max_lr);
        break;
    }
    return ol_spec_check_unused(&sp, *sched_table[kind].keys ? sched_table[kind].keys : NULL);
}

/* ---- values ---- */

/* The schedule's lr at its step 0 for a group with base lr `base`. */
static double initial_lr(const ol_sched *s, double base) {
    switch (s->kind) {
    case SCHED_CYCLIC: return isnan(s->cyc_base_lr) ? base : s->cyc_base_lr;
    case SCHED_ONECYCLE: return (isnan(s->max_lr) ? base : s->max_lr) / s->div_factor;
    case SCHED_LINEAR: return base * s->start_factor;
    case SCHED_INVERSE:
    case SCHED_INVERSE_SQRT: return (isnan(s->alpha) ? s->c * base : s->alpha) / s->c;
    default: return base;
    }
}

/* torch's OneCycleLR.get_lr (two phases) at step e. */
static double onecycle_lr(const ol_sched *s, double base, long e) {
    double max_lr = isnan(s->max_lr) ? base : s->max_lr;
    double init = max_lr / s->div_factor, min_lr = init / s->final_div_factor;
    double end0 = s->pct_start * (double)s->total_steps - 1, end1 = (double)s->total_steps - 1;
    double start, end, pct;
    if ((double)e <= end0) { start = init; end = max_lr; pct = (double)e / end0; }
    else { start = max_lr; end = min_lr; pct = ((double)e - end0) / (end1 - end0); }
    if (s->anneal_linear) return (end - start) * pct + start;
    double cos_out = ol_math_cos(M_PI * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
}

/* torch's CyclicLR.get_lr at step e. */
static double cyclic_lr(const ol_sched *s, double base, long e) {
    double base_lr = isnan(s->cyc_base_lr) ? base : s->cyc_base_lr;
    double total = s->step_size_up + s->step_size_down, ratio = s->step_size_up / total;
    double cycle = floor(1 + (double)e / total);
    double x = 1. + (double)e / total - cycle;
    double scale = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
    double height = (s->max_lr - base_lr) * scale, lr;
    switch (s->cyclic_mode) {
    case CYCLIC_TRIANGULAR2: lr = base_lr + height * (1 / ol_math_pow(2., cycle - 1)); break;
    case CYCLIC_EXP_RANGE: lr = base_lr + height * ol_math_pow(s->gamma, (double)e); break;
    default: lr = base_lr + height * 1.; break;
    }
    /* exp_range with gamma > 1 and max_lr < base_lr goes below zero (torch's too): a negative lr
     * would climb the loss, so it stops at 0 (a deliberate difference, in the README) */
    return lr > 0 ? lr : 0;
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
    default: return lr;   /* constant, plateau, bold: only report_metric / report_loss change it */
    }
}

/* Puts the schedule at its step 0 (after warm-up, or at creation without warm-up). */
static void start_schedule(ol_sched *s) {
    s->epoch = 0;
    s->t_cur = 0;
    s->t_i = s->t_0;
    s->best = s->kind == SCHED_BOLD ? 0 : INFINITY;
    s->num_bad = s->cooldown_counter = s->metric_epoch = 0;
    s->loss_sum = 0;
    for (size_t g = 0; g < s->n_groups; g++) s->lr[g] = s->l0[g];
}

static void set_warmup_lr(ol_sched *s) {
    /* lr_t = L0 (t+1)/N for t < N */
    for (size_t g = 0; g < s->n_groups; g++)
        s->lr[g] = s->l0[g] * (double)(s->t + 1) / (double)s->warmup;
}

int ol_sched_create(ol_sched **out, const char *spec, long warmup_steps, size_t n_groups,
                    const double *base_lrs) {
    *out = NULL;
    if (warmup_steps < 0) return ol_fail(OL_EARG, "warm-up steps must be >= 0, got %ld", warmup_steps);
    for (size_t g = 0; g < n_groups; g++)
        if (!(base_lrs[g] >= 0) || !isfinite(base_lrs[g]))
            return ol_fail(OL_EARG, "schedule: base lr of group %zu must be a finite number >= 0, got %g", g,
                           base_lrs[g]);
    ol_sched *s = ol_calloc(1, sizeof *s);
    if (!s) return OL_ENOMEM;
    int rc = parse_spec(s, spec && *spec ? spec : "constant");
    if (rc) { free(s); return rc; }
    s->warmup = warmup_steps;
    s->n_groups = n_groups;
    s->base = ol_calloc(3 * (n_groups ? n_groups : 1), sizeof(double));
    if (!s->base) { free(s); return OL_ENOMEM; }
    s->l0 = s->base + n_groups;
    s->lr = s->l0 + n_groups;
    for (size_t g = 0; g < n_groups; g++) {
        s->base[g] = base_lrs[g];
        s->l0[g] = initial_lr(s, base_lrs[g]);
    }
    start_schedule(s);
    if (s->warmup > 0) set_warmup_lr(s);
    *out = s;
    return OL_OK;
}

void ol_sched_free(ol_sched *s) {
    if (!s) return;
    free(s->base);
    free(s);
}

double ol_sched_lr(const ol_sched *s, size_t group) { return group < s->n_groups ? s->lr[group] : NAN; }

int ol_sched_set_lr(ol_sched *s, size_t group, double lr) {
    if (group >= s->n_groups) return ol_fail(OL_EARG, "no parameter group %zu (there are %zu)", group, s->n_groups);
    if (!(lr >= 0) || !isfinite(lr)) return ol_fail(OL_EARG, "learning rate must be a finite number >= 0, got %g", lr);
    s->lr[group] = lr;
    return OL_OK;
}

long ol_sched_steps(const ol_sched *s) { return s->t; }

long ol_sched_max_steps(const ol_sched *s) {
    if (s->kind != SCHED_ONECYCLE) return LONG_MAX;
    return s->total_steps > LONG_MAX - s->warmup ? LONG_MAX : s->warmup + s->total_steps;
}

int ol_sched_check_step(const ol_sched *s) {
    if (s->t == LONG_MAX) return ol_fail(OL_ESTATE, "schedule: step count overflows");
    if (s->kind == SCHED_ONECYCLE && s->t + 1 > s->warmup && s->t + 1 - s->warmup > s->total_steps)
        return ol_fail(OL_ESTATE,
                       "step %ld: the onecycle schedule has total_steps=%ld%s and cannot step past it",
                       s->t + 1, s->total_steps, s->warmup ? " (after warm-up)" : "");
    return OL_OK;
}

int ol_sched_step(ol_sched *s) {
    TRY(ol_sched_check_step(s));
    s->t++;
    if (s->t < s->warmup) { set_warmup_lr(s); return OL_OK; }
    if (s->t == s->warmup) { start_schedule(s); return OL_OK; }
    s->epoch++;
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
    return OL_OK;
}

int ol_sched_report_metric(ol_sched *s, double value) {
    if (s->kind != SCHED_PLATEAU || s->t < s->warmup) return OL_OK;
    /* torch's ReduceLROnPlateau.step(metric), mode min, threshold_mode rel */
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
    return OL_OK;
}

/* The bold driver: losses are averaged over windows of `window` reports; after each window but the
 * first, every group's lr is multiplied by `down` if the window's mean rose above the previous
 * window's mean by more than tol * |previous mean| (the loss "varies wildly"), else by `up`, then
 * kept in [min_lr, max_lr]. A non-finite loss multiplies by `down` at once and restarts the
 * window. window 1, tol 0 is the classic rule for full-batch GD; with mini-batches the loss of one
 * batch is too noisy to compare, so a window of tens of steps compares averages instead. */
int ol_sched_report_loss(ol_sched *s, double loss) {
    if (s->kind != SCHED_BOLD || s->t < s->warmup) return OL_OK;
    int rise = !isfinite(loss);
    if (!rise) {
        s->loss_sum += loss;
        if (++s->num_bad < s->window) return OL_OK;
        double mean = s->loss_sum / (double)s->window, ref = s->best;
        s->loss_sum = 0;
        s->num_bad = 0;
        int first = s->metric_epoch == 0;
        s->metric_epoch++;
        s->best = mean;
        if (first) return OL_OK;          /* nothing to compare with yet */
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
    return OL_OK;
}

/* ---- state: little-endian, versioned, CRC-checked ---- */

#define SCHED_MAGIC 0x43534c4fu   /* "OLSC" */
#define SCHED_VERSION 1u
#define SCHED_HEADER 96           /* bytes before the per-group lrs (88..95: bold's loss_sum, 0 for others) */


size_t ol_sched_state_size(const ol_sched *s) { return SCHED_HEADER + 24 * s->n_groups + 4; }

int ol_sched_state_save(const ol_sched *s, void *buf, size_t cap) {
    size_t need_len = ol_sched_state_size(s);
    if (cap < need_len) return ol_fail(OL_EARG, "schedule state needs %zu bytes, buffer has %zu", need_len, cap);
    unsigned char *p = buf;
    memset(p, 0, SCHED_HEADER);
    ol_put_u32(p + 0, SCHED_MAGIC);
    ol_put_u32(p + 4, SCHED_VERSION);
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
    ol_put_u32(q, ol_crc32(0, p, (size_t)(q - p)));
    return OL_OK;
}

int ol_sched_state_load(ol_sched *s, const void *buf, size_t len) {
    const unsigned char *p = buf;
    size_t need_len = ol_sched_state_size(s);
    if (len < SCHED_HEADER + 4 || ol_get_u32(p) != SCHED_MAGIC)
        return ol_fail(OL_EFORMAT, "schedule state: not a schedule state (bad magic or too short)");
    if (ol_get_u32(p + 4) != SCHED_VERSION)
        return ol_fail(OL_EFORMAT, "schedule state: version %u, this build reads version %u", ol_get_u32(p + 4),
                       SCHED_VERSION);
    if (ol_get_u32(p + 8) != (uint32_t)s->kind)
        return ol_fail(OL_EFORMAT, "schedule state is for schedule '%s', this one is '%s'",
                       ol_get_u32(p + 8) < SCHED_N_KINDS ? sched_table[ol_get_u32(p + 8)].name : "?",
                       sched_table[s->kind].name);
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
    for (size_t g = 0; g < s->n_groups; g++) {
        const unsigned char *q = p + SCHED_HEADER + 24 * g;
        double base = ol_get_f64(q), l0 = ol_get_f64(q + 8), lr = ol_get_f64(q + 16);
        (void)lr; /* whatever the schedule computed, even +Inf or NaN from absurd settings, loads back */
        if (!(base >= 0) || !(l0 >= 0) || !isfinite(base) || !isfinite(l0))
            return ol_fail(OL_EFORMAT, "schedule state: negative, infinite or NaN lr (corrupt)");
    }
    /* all checked: now write */
    s->t = t;
    s->epoch = epoch;
    s->t_cur = t_cur;
    s->t_i = t_i;
    s->best = ol_get_f64(p + 56);
    s->num_bad = (long)ol_get_u64(p + 64);
    s->cooldown_counter = (long)ol_get_u64(p + 72);
    s->metric_epoch = (long)ol_get_u64(p + 80);
    s->loss_sum = ol_get_f64(p + 88);
    for (size_t g = 0; g < s->n_groups; g++) {
        const unsigned char *q = p + SCHED_HEADER + 24 * g;
        s->base[g] = ol_get_f64(q);
        s->l0[g] = ol_get_f64(q + 8);
        s->lr[g] = ol_get_f64(q + 16);
    }
    return OL_OK;
}
