/* optim_torch2.c: the rest of torch.optim (issue 19): adadelta, adamax, asgd, rprop and lbfgs.
 * Their defaults, spec keys and checks, their state buffers and scalars, and the per-step scalars
 * of the four element-wise ones, whose update loops are in optim_kernels.h (L-BFGS's step is
 * optim_lbfgs.c). Each follows torch 1.13's torch/optim/<name>.py, _single_tensor_<name>; the
 * formulas and sources are in include/optlab/optim.h. */
#include <math.h>
#include <string.h>

#include "optim_internal.h"
#include "optlab/mathfn.h"

int ol_optim_t2_kind(int kind) { return kind >= OL_OPTIM_ADADELTA && kind <= OL_OPTIM_LBFGS; }

void ol_optim_t2_defaults(ol_optim_params *p) {
    p->rho = 0.9;
    p->lambd = 1e-4;
    p->t0 = 1e6;
    p->eta_minus = 0.5;
    p->eta_plus = 1.2;
    p->step_min = 1e-6;
    p->step_max = 50;
    p->max_iter = 20;
    p->max_eval = 0;   /* max_iter * 5 / 4 */
    p->history_size = 100;
    p->tolerance_grad = 1e-7;
    p->tolerance_change = 1e-9;
    p->line_search = OL_LBFGS_NONE;
    switch (p->kind) {
    case OL_OPTIM_ADADELTA: p->lr = 1.0; p->eps = 1e-6; break;
    case OL_OPTIM_ADAMAX: p->lr = 2e-3; break;
    case OL_OPTIM_ASGD: p->alpha = 0.75; break;
    case OL_OPTIM_LBFGS: p->lr = 1; break;
    default: break;
    }
}

static int get_double(ol_spec *sp, const char *key, double *v) {
    int r = ol_spec_get_double(sp, key, *v, v);
    return r < 0 ? -r : OL_OK;
}

static int get_long(ol_spec *sp, const char *key, long lo, long hi, long *v) {
    int r = ol_spec_get_long(sp, key, *v, lo, hi, v);
    return r < 0 ? -r : OL_OK;
}

#define TRY(expr) do { int rc_ = (expr); if (rc_) return rc_; } while (0)

int ol_optim_t2_parse(ol_spec *sp, ol_optim_params *p) {
    if ((p->kind == OL_OPTIM_RPROP || p->kind == OL_OPTIM_LBFGS) && ol_spec_get_str(sp, "weight_decay"))
        return ol_fail(OL_EARG, "%s: torch's %s has no weight_decay; its keys: %s", ol_optim_kind_name(p->kind),
                       p->kind == OL_OPTIM_RPROP ? "Rprop" : "LBFGS", ol_optim_kind_keys(p->kind));
    switch (p->kind) {
    case OL_OPTIM_ADADELTA:
        TRY(get_double(sp, "rho", &p->rho));
        TRY(get_double(sp, "eps", &p->eps));
        break;
    case OL_OPTIM_ADAMAX:
        TRY(get_double(sp, "beta1", &p->beta1));
        TRY(get_double(sp, "beta2", &p->beta2));
        TRY(get_double(sp, "eps", &p->eps));
        break;
    case OL_OPTIM_ASGD:
        TRY(get_double(sp, "lambd", &p->lambd));
        TRY(get_double(sp, "alpha", &p->alpha));
        TRY(get_double(sp, "t0", &p->t0));
        break;
    case OL_OPTIM_RPROP:
        TRY(get_double(sp, "eta_minus", &p->eta_minus));
        TRY(get_double(sp, "eta_plus", &p->eta_plus));
        TRY(get_double(sp, "step_min", &p->step_min));
        TRY(get_double(sp, "step_max", &p->step_max));
        break;
    case OL_OPTIM_LBFGS: {
        TRY(get_long(sp, "max_iter", 1, 1000000, &p->max_iter));
        TRY(get_long(sp, "max_eval", 1, 1000000000, &p->max_eval));
        TRY(get_long(sp, "history_size", 1, 100000, &p->history_size));
        TRY(get_double(sp, "tolerance_grad", &p->tolerance_grad));
        TRY(get_double(sp, "tolerance_change", &p->tolerance_change));
        const char *ls = ol_spec_get_str(sp, "line_search");
        if (ls && !strcmp(ls, "strong_wolfe")) p->line_search = OL_LBFGS_STRONG_WOLFE;
        else if (ls && strcmp(ls, "none"))
            return ol_fail(OL_EARG, "lbfgs: line_search '%s' is unknown; valid: none, strong_wolfe", ls);
        break;
    }
    default: break;
    }
    return OL_OK;
}

#define CHECK_ARG(cond, ...) do { if (!(cond)) return ol_fail(OL_EARG, __VA_ARGS__); } while (0)

/* torch's constructor checks, and the ranges where torch checks nothing but the formula needs one */
int ol_optim_t2_validate(const ol_optim_params *p) {
    const char *name = ol_optim_kind_name(p->kind);
    int k = p->kind;
    if (k == OL_OPTIM_RPROP || k == OL_OPTIM_LBFGS)
        CHECK_ARG(p->weight_decay == 0, "%s: invalid weight_decay %g (torch's %s has none: must be 0)", name,
                  p->weight_decay, k == OL_OPTIM_RPROP ? "Rprop" : "LBFGS");
    else
        CHECK_ARG(p->weight_decay >= 0 && isfinite(p->weight_decay), "%s: invalid weight_decay %g (must be >= 0)",
                  name, p->weight_decay);
    if (k == OL_OPTIM_ADADELTA || k == OL_OPTIM_ADAMAX)
        CHECK_ARG(p->eps >= 0 && isfinite(p->eps), "%s: invalid eps %g (must be >= 0)", name, p->eps);
    switch (k) {
    case OL_OPTIM_ADADELTA:
        CHECK_ARG(p->rho >= 0 && p->rho <= 1, "adadelta: invalid rho %g (must be in [0, 1])", p->rho);
        break;
    case OL_OPTIM_ADAMAX:
        CHECK_ARG(p->beta1 >= 0 && p->beta1 < 1, "adamax: invalid beta1 %g (must be in [0, 1))", p->beta1);
        CHECK_ARG(p->beta2 >= 0 && p->beta2 < 1, "adamax: invalid beta2 %g (must be in [0, 1))", p->beta2);
        break;
    case OL_OPTIM_ASGD:
        CHECK_ARG(p->lambd >= 0 && isfinite(p->lambd), "asgd: invalid lambd %g (must be >= 0)", p->lambd);
        CHECK_ARG(p->alpha >= 0 && isfinite(p->alpha), "asgd: invalid alpha %g (must be >= 0)", p->alpha);
        CHECK_ARG(p->t0 >= 0 && isfinite(p->t0), "asgd: invalid t0 %g (must be >= 0)", p->t0);
        break;
    case OL_OPTIM_RPROP:
        CHECK_ARG(p->eta_minus > 0 && p->eta_minus < 1, "rprop: invalid eta_minus %g (must be in (0, 1))",
                  p->eta_minus);
        CHECK_ARG(p->eta_plus > 1 && isfinite(p->eta_plus), "rprop: invalid eta_plus %g (must be > 1)", p->eta_plus);
        CHECK_ARG(p->step_min >= 0 && isfinite(p->step_min), "rprop: invalid step_min %g (must be >= 0)", p->step_min);
        CHECK_ARG(p->step_max >= p->step_min && isfinite(p->step_max),
                  "rprop: invalid step_max %g (must be >= step_min %g)", p->step_max, p->step_min);
        break;
    case OL_OPTIM_LBFGS:
        CHECK_ARG(p->max_iter >= 1 && p->max_iter <= 1000000, "lbfgs: invalid max_iter %ld (must be in [1, 1000000])",
                  p->max_iter);
        CHECK_ARG(p->max_eval >= 0 && p->max_eval <= 1000000000,
                  "lbfgs: invalid max_eval %ld (must be in [1, 1000000000], or 0 for max_iter * 5 / 4)", p->max_eval);
        CHECK_ARG(p->history_size >= 1 && p->history_size <= 100000,
                  "lbfgs: invalid history_size %ld (must be in [1, 100000])", p->history_size);
        CHECK_ARG(p->tolerance_grad >= 0 && isfinite(p->tolerance_grad),
                  "lbfgs: invalid tolerance_grad %g (must be >= 0)", p->tolerance_grad);
        CHECK_ARG(p->tolerance_change >= 0 && isfinite(p->tolerance_change),
                  "lbfgs: invalid tolerance_change %g (must be >= 0)", p->tolerance_change);
        CHECK_ARG(p->line_search == OL_LBFGS_NONE || p->line_search == OL_LBFGS_STRONG_WOLFE,
                  "lbfgs: invalid line_search %d (OL_LBFGS_NONE or OL_LBFGS_STRONG_WOLFE)", p->line_search);
        break;
    default: break;
    }
    return OL_OK;
}

/* adadelta: v, u; adamax: m, u; asgd: ax; rprop: prev, step sizes; lbfgs: optim_lbfgs.c */
int ol_optim_t2_buffers(const ol_optim_params *p, int *saved) {
    if (p->kind == OL_OPTIM_LBFGS) return ol_optim_lbfgs_buffers(p, saved);
    *saved = p->kind == OL_OPTIM_ASGD ? 1 : 2;
    return *saved;
}

size_t ol_optim_t2_n_scalars(const ol_optim *o) {
    if (o->p.kind == OL_OPTIM_ASGD) return (size_t)o->n_groups;   /* eta of each group */
    if (o->p.kind == OL_OPTIM_LBFGS) return OL_LBFGS_FIXED_SCALARS + (size_t)o->p.history_size;
    return 0;
}

int ol_optim_t2_check_scalars(const ol_optim *o, const double *v) {
    if (o->p.kind == OL_OPTIM_LBFGS) return ol_optim_lbfgs_check_scalars(o, v);
    for (size_t i = 0; i < o->n_scalars; i++)
        if (!(v[i] >= 0) || !isfinite(v[i]))
            return ol_fail(OL_EFORMAT, "optimizer state: asgd's eta of group %zu is %g (corrupt)", i, v[i]);
    return OL_OK;
}

/* asgd: ax starts as x (torch makes it at the first step, which overwrites it with x) */
void ol_optim_t2_init_group(ol_optim *o, group *gr) {
    if (o->p.kind == OL_OPTIM_ASGD && gr->n) memcpy(gr->state, gr->x, gr->n * (gr->is_f64 ? sizeof(double) : sizeof(float)));
}

void ol_optim_t2_step_scalars(const ol_optim *o, long t, kargs *a) {
    const ol_optim_params *p = &o->p;
    switch (p->kind) {
    case OL_OPTIM_ADADELTA:
        a->alpha = p->rho;
        a->oma = 1 - p->rho;
        break;
    case OL_OPTIM_ASGD: {
        /* torch: mu starts at 1 and becomes 1 / max(1, step - t0) after each step */
        double since = (double)(t - 1) - p->t0;
        a->mu = t == 1 ? 1 : 1 / (since > 1 ? since : 1);
        break;
    }
    case OL_OPTIM_RPROP:
        a->eta_minus = p->eta_minus;
        a->eta_plus = p->eta_plus;
        a->step_min = p->step_min;
        a->step_max = p->step_max;
        break;
    default: break;
    }
}

void ol_optim_t2_group_scalars(ol_optim *o, int k, long t, double lr, kargs *a) {
    group *gr = &o->groups[k];
    switch (o->p.kind) {
    case OL_OPTIM_ADAMAX: a->step_size = lr / a->bc1; break;
    case OL_OPTIM_ASGD:
        if (t == 1) o->scalars[k] = lr;   /* torch: eta starts at the lr of the first step */
        a->eta = o->scalars[k];
        a->shrink = 1 - o->p.lambd * a->eta;
        break;
    case OL_OPTIM_RPROP:
        if (t == 1) {   /* torch: every step size starts at the lr of the first step */
            if (gr->is_f64) {
                double *s = ol_optim_group_buffer(gr, 1);
                for (size_t i = 0; i < gr->n; i++) s[i] = lr;
            } else {
                float *s = ol_optim_group_buffer(gr, 1);
                for (size_t i = 0; i < gr->n; i++) s[i] = (float)lr;
            }
        }
        break;
    default: break;
    }
}

void ol_optim_t2_after_group(ol_optim *o, int k, long t, double lr) {
    if (o->p.kind == OL_OPTIM_ASGD)   /* torch: eta = lr / (1 + lambd lr step)^alpha */
        o->scalars[k] = lr / ol_math_pow(1 + o->p.lambd * lr * (double)t, o->p.alpha);
}
