/* optim_modern.c: issue 19's modern optimizers: lion (Chen et al. 2023) and schedule-free SGD and
 * AdamW (Defazio et al. 2024). Their defaults, spec keys and checks, their state buffers and
 * scalars, and the per-step scalars; the update loops are in optim_modern_kernels.h. Formulas and
 * sources: include/optlab/optim.h.
 *
 * Schedule-free keeps z, x (and sf-adamw's v) in each group's state; the parameters are y. x is
 * stored rather than recovered from y and z (the reference's eval() does x = lerp(y, z, 1 - 1/b)),
 * so that swapping it in for evaluation and back is exact, and a checkpoint (parameters y plus z, x,
 * v and each group's lr_max and weight sum) resumes bit-exactly. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flush.h"
#include "optim_internal.h"
#include "optlab/mathfn.h"

#define REAL float
#define SUFFIX f32
#define SQRT sqrtf
#define FLUSH ol_flush_f32
#define FLUSH_X ol_flush_f32
#include "optim_layerwise.h"
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
#include "optim_layerwise.h"

/* schedule-free's warmup_steps at most 10^12 (where long has 64 bits; the WebAssembly build's has 32) */
#if LONG_MAX > 0x7fffffffL
#define SF_WARMUP_MAX 1000000000000L
#else
#define SF_WARMUP_MAX LONG_MAX
#endif
#undef REAL
#undef SUFFIX
#undef SQRT
#undef FLUSH
#undef FLUSH_X

int ol_optim_m_kind(int kind) { return kind >= OL_OPTIM_LION && kind <= OL_OPTIM_MUON; }

int ol_optim_m_layerwise(int kind) {
    return kind == OL_OPTIM_LAMB || kind == OL_OPTIM_LARS || kind == OL_OPTIM_ADAFACTOR || kind == OL_OPTIM_MUON;
}

static int schedule_free(int kind) { return kind == OL_OPTIM_SF_SGD || kind == OL_OPTIM_SF_ADAMW; }

void ol_optim_m_defaults(ol_optim_params *p) {
    p->warmup_steps = 0;
    p->beta2_decay = -0.8;   /* torch's Adafactor */
    p->eps1 = -1;
    p->eps2 = 1e-3;
    p->d = 1;
    p->ns_steps = 5;
    switch (p->kind) {
    case OL_OPTIM_LION: p->lr = 1e-4; p->beta2 = 0.99; break;   /* the paper's and lion-pytorch's */
    case OL_OPTIM_SF_SGD: p->lr = 1.0; p->momentum = 0.9; break;   /* the reference code's defaults */
    case OL_OPTIM_SF_ADAMW: p->lr = 0.0025; break;
    case OL_OPTIM_LAMB: p->lr = 1e-3; p->eps = 1e-6; break;   /* optax.lamb's */
    case OL_OPTIM_MUON: p->lr = 1e-3; p->momentum = 0.95; p->nesterov = 1; p->weight_decay = 0.1; break;   /* torch's */
    case OL_OPTIM_LARS: p->lr = 1.0; p->momentum = 0.9; p->trust_coefficient = 1e-3; p->eps = 0; break;   /* optax.lars's */
    default: break;
    }
}

#define TRY(expr) do { int rc_ = (expr); if (rc_) return rc_; } while (0)

static int get_double(ol_spec *sp, const char *key, double *v) {
    int r = ol_spec_get_double(sp, key, *v, v);
    return r < 0 ? -r : OL_OK;
}

int ol_optim_m_parse(ol_spec *sp, ol_optim_params *p) {
    if (p->kind == OL_OPTIM_MUON) {
        TRY(get_double(sp, "momentum", &p->momentum));
        long nest = p->nesterov;
        int r = ol_spec_get_long(sp, "nesterov", nest, 0, 1, &nest);
        if (r < 0) return -r;
        p->nesterov = (int)nest;
        r = ol_spec_get_long(sp, "ns_steps", p->ns_steps, 1, 99, &p->ns_steps);
        if (r < 0) return -r;
        TRY(get_double(sp, "beta1", &p->beta1));
        TRY(get_double(sp, "beta2", &p->beta2));
        return get_double(sp, "eps", &p->eps);
    }
    if (p->kind == OL_OPTIM_ADAFACTOR) {
        TRY(get_double(sp, "beta2_decay", &p->beta2_decay));
        TRY(get_double(sp, "eps1", &p->eps1));
        TRY(get_double(sp, "eps2", &p->eps2));
        return get_double(sp, "d", &p->d);
    }
    if (p->kind == OL_OPTIM_LARS) {
        TRY(get_double(sp, "momentum", &p->momentum));
        TRY(get_double(sp, "trust_coefficient", &p->trust_coefficient));
        return get_double(sp, "eps", &p->eps);
    }
    if (p->kind == OL_OPTIM_SF_SGD) TRY(get_double(sp, "momentum", &p->momentum));
    else {
        TRY(get_double(sp, "beta1", &p->beta1));
        TRY(get_double(sp, "beta2", &p->beta2));
    }
    if (p->kind == OL_OPTIM_SF_ADAMW || p->kind == OL_OPTIM_LAMB) TRY(get_double(sp, "eps", &p->eps));
    if (schedule_free(p->kind)) {
        int r = ol_spec_get_long(sp, "warmup_steps", p->warmup_steps, 0, SF_WARMUP_MAX, &p->warmup_steps);
        if (r < 0) return -r;
    }
    return OL_OK;
}

#define CHECK_ARG(cond, ...) do { if (!(cond)) return ol_fail(OL_EARG, __VA_ARGS__); } while (0)

int ol_optim_m_validate(const ol_optim_params *p) {
    const char *name = ol_optim_kind_name(p->kind);
    CHECK_ARG(p->weight_decay >= 0 && isfinite(p->weight_decay), "%s: invalid weight_decay %g (must be >= 0)", name,
              p->weight_decay);
    if (p->kind == OL_OPTIM_MUON) {
        CHECK_ARG(p->momentum >= 0 && p->momentum < 1, "muon: invalid momentum %g (must be in [0, 1))", p->momentum);
        CHECK_ARG(p->nesterov == 0 || p->nesterov == 1, "muon: nesterov must be 0 or 1");
        CHECK_ARG(p->ns_steps >= 1 && p->ns_steps < 100, "muon: invalid ns_steps %ld (must be in [1, 99])", p->ns_steps);
        CHECK_ARG(p->beta1 >= 0 && p->beta1 < 1, "muon: invalid beta1 %g (must be in [0, 1))", p->beta1);
        CHECK_ARG(p->beta2 >= 0 && p->beta2 < 1, "muon: invalid beta2 %g (must be in [0, 1))", p->beta2);
        CHECK_ARG(p->eps >= 0 && isfinite(p->eps), "muon: invalid eps %g (must be >= 0)", p->eps);
        return OL_OK;
    }
    if (p->kind == OL_OPTIM_ADAFACTOR) {   /* torch's checks; eps1 < 0 stands for its None */
        CHECK_ARG(p->beta2_decay <= 0 && isfinite(p->beta2_decay),
                  "adafactor: invalid beta2_decay %g (must be <= 0)", p->beta2_decay);
        CHECK_ARG(isfinite(p->eps1), "adafactor: invalid eps1 %g (must be >= 0)", p->eps1);
        CHECK_ARG(p->eps2 >= 0 && isfinite(p->eps2), "adafactor: invalid eps2 %g (must be >= 0)", p->eps2);
        CHECK_ARG(p->d > 0 && isfinite(p->d), "adafactor: invalid d %g (must be > 0)", p->d);
        return OL_OK;
    }
    if (p->kind == OL_OPTIM_LARS) {
        CHECK_ARG(p->momentum >= 0 && isfinite(p->momentum), "lars: invalid momentum %g (must be >= 0)", p->momentum);
        CHECK_ARG(p->trust_coefficient > 0 && isfinite(p->trust_coefficient),
                  "lars: invalid trust_coefficient %g (must be > 0)", p->trust_coefficient);
        CHECK_ARG(p->eps >= 0 && isfinite(p->eps), "lars: invalid eps %g (must be >= 0)", p->eps);
        return OL_OK;
    }
    if (p->kind == OL_OPTIM_SF_SGD)
        CHECK_ARG(p->momentum >= 0 && p->momentum < 1, "sf-sgd: invalid momentum %g (must be in [0, 1))", p->momentum);
    else {
        CHECK_ARG(p->beta1 >= 0 && p->beta1 < 1, "%s: invalid beta1 %g (must be in [0, 1))", name, p->beta1);
        CHECK_ARG(p->beta2 >= 0 && p->beta2 < 1, "%s: invalid beta2 %g (must be in [0, 1))", name, p->beta2);
    }
    if (p->kind == OL_OPTIM_SF_ADAMW || p->kind == OL_OPTIM_LAMB)
        CHECK_ARG(p->eps >= 0 && isfinite(p->eps), "%s: invalid eps %g (must be >= 0)", name, p->eps);
    if (schedule_free(p->kind))
        CHECK_ARG(p->warmup_steps >= 0 && p->warmup_steps <= SF_WARMUP_MAX,
                  "%s: invalid warmup_steps %ld (must be in [0, %ld])", name, p->warmup_steps, (long)SF_WARMUP_MAX);
    return OL_OK;
}

/* lion: m; sf-sgd: z, x; sf-adamw: z, x, v; lamb: m, v; lars: m; adafactor: one of n values
 * per tensor (row and column means in its first rows + cols, or v); muon: its momentum (AdamW's m
 * for vectors), AdamW's v (unused by 2-D tensors). All saved. */
int ol_optim_m_buffers(const ol_optim_params *p, int *saved) {
    *saved = p->kind == OL_OPTIM_LION || p->kind == OL_OPTIM_LARS || p->kind == OL_OPTIM_ADAFACTOR ? 1
             : p->kind == OL_OPTIM_SF_SGD || p->kind == OL_OPTIM_LAMB || p->kind == OL_OPTIM_MUON ? 2 : 3;
    return *saved;
}

int ol_optim_m_average_buffer(int kind) { return schedule_free(kind) ? 1 : -1; }

/* schedule-free: lr_max and the sum of the weights, per group */
size_t ol_optim_m_n_scalars(const ol_optim *o) { return schedule_free(o->p.kind) ? 2 * (size_t)o->n_groups : 0; }

int ol_optim_m_check_scalars(const ol_optim *o, const double *v) {
    for (size_t i = 0; i < o->n_scalars; i++)
        if (!(v[i] >= 0) || !isfinite(v[i]))
            return ol_fail(OL_EFORMAT, "optimizer state: %s's %s of group %zu is %g (corrupt)",
                           ol_optim_kind_name(o->p.kind), i % 2 ? "weight sum" : "lr_max", i / 2, v[i]);
    return OL_OK;
}

void ol_optim_m_init_group(ol_optim *o, group *gr) {
    if (!schedule_free(o->p.kind) || !gr->n) return;
    size_t bytes = gr->n * (gr->is_f64 ? sizeof(double) : sizeof(float));
    memcpy(ol_optim_group_buffer(gr, 0), gr->x, bytes);   /* z_1 = x_1 = y_1 */
    memcpy(ol_optim_group_buffer(gr, 1), gr->x, bytes);
}

void ol_optim_m_step_scalars(const ol_optim *o, long t, kargs *a) {
    (void)t;
    a->ns_a = 3.4445;   /* torch's Muon: ns_coefficients, eps */
    a->ns_b = -4.7750;
    a->ns_c = 2.0315;
    a->ns_eps = 1e-7;
    a->ns_steps = o->p.ns_steps;
    a->nesterov = o->p.nesterov;
    if (o->p.kind == OL_OPTIM_SF_SGD || o->p.kind == OL_OPTIM_LARS || o->p.kind == OL_OPTIM_MUON) {
        a->momentum = o->p.momentum;
        a->oma = 1 - o->p.momentum;
    }
    a->trust = o->p.trust_coefficient;
}

void ol_optim_m_group_scalars(ol_optim *o, int k, long t, double lr, kargs *a) {
    const ol_optim_params *p = &o->p;
    double wd = o->groups[k].weight_decay;
    if (p->kind == OL_OPTIM_ADAFACTOR) {   /* torch: x *= 1 - lr wd, rho_t = min(lr, 1 / sqrt(t)) */
        a->decay = 1 - lr * wd;
        a->rho = fmin(lr, 1 / sqrt((double)t));
        a->omb2 = ol_math_pow((double)t, p->beta2_decay);
        a->eps = p->eps1 >= 0 ? p->eps1 : o->groups[k].is_f64 ? DBL_EPSILON : FLT_EPSILON;
        a->eps2 = p->eps2;
        a->d = p->d;
        return;
    }
    if (p->kind == OL_OPTIM_MUON) {   /* decoupled: x *= 1 - lr wd */
        a->decay = 1 - lr * wd;
        a->wd = 0;
        return;
    }
    if (ol_optim_m_layerwise(p->kind)) return;   /* lr and wd as set: lamb adds wd x to u, lars to g */
    if (p->kind == OL_OPTIM_LION) {   /* decoupled: x *= 1 - lr wd, no L2 in g */
        a->decay = 1 - lr * wd;
        a->wd = 0;
        return;
    }
    /* the reference: linear warm-up over warmup_steps; sf-adamw's lr carries sqrt(1 - b2^t); the
     * average's weight of step t is lr_max^2 (weight_lr_power 2, r 0), c = weight / sum */
    double eff = lr;
    if (t <= p->warmup_steps) eff *= (double)t / (double)p->warmup_steps;
    if (p->kind == OL_OPTIM_SF_ADAMW) eff *= sqrt(1 - ol_math_pow(p->beta2, (double)t));
    double *lr_max = &o->scalars[2 * k], *weight_sum = &o->scalars[2 * k + 1];
    if (eff > *lr_max) *lr_max = eff;
    double weight = *lr_max * *lr_max;
    *weight_sum += weight;
    a->sf_c = *weight_sum > 0 ? weight / *weight_sum : 0;
    a->sf_omc = 1 - a->sf_c;
    a->lr = eff;
    if (p->kind == OL_OPTIM_SF_ADAMW) {   /* decoupled, at y: z -= lr wd y */
        a->sf_zdecay = eff * wd;
        a->wd = 0;
    }
}

double ol_optim_m_run_layerwise(const ol_optim *o, group *gr, const kargs *a) {
    if (gr->n == 0) return 0;
    return gr->is_f64 ? layerwise_group_f64(o->p.kind, gr, a) : layerwise_group_f32(o->p.kind, gr, a);
}

/* Declared here with the kinds that read them; a group's tensors are configuration, not state. */
int ol_optim_set_tensors(ol_optim *o, int k, int n, const size_t *rows, const size_t *cols) {
    const char *name = ol_optim_kind_name(o->p.kind);
    if (o->t > 0) return ol_fail(OL_ESTATE, "%s: tensors must be declared before the first step", name);
    if (k < 0 || k >= o->n_groups) return ol_fail(OL_EARG, "no parameter group %d (there are %d)", k, o->n_groups);
    if (n < 1 || !rows || !cols) return ol_fail(OL_EARG, "%s: group %d: no tensors given", name, k);
    group *gr = &o->groups[k];
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (rows[i] < 1 || cols[i] < 1 || rows[i] > gr->n / cols[i] || total > gr->n - rows[i] * cols[i])
            return ol_fail(OL_EARG, "%s: group %d: tensor %d (%zu x %zu) is empty or runs past the group's %zu values",
                           name, k, i, rows[i], cols[i], gr->n);
        total += rows[i] * cols[i];
    }
    if (total != gr->n)
        return ol_fail(OL_EARG, "%s: group %d: the tensors hold %zu values, the group %zu", name, k, total, gr->n);
    size_t *t = ol_malloc_array(2 * (size_t)n, sizeof *t), ns = 0;
    if (!t) return OL_ENOMEM;
    for (int i = 0; o->p.kind == OL_OPTIM_MUON && i < n; i++) {   /* muon's Newton-Schulz scratch */
        size_t k = rows[i] < cols[i] ? rows[i] : cols[i], need = 2 * rows[i] * cols[i] + 2 * k * k;
        if (k >= 2 && need > ns) ns = need;
    }
    double *scratch = ns ? ol_malloc_array(ns, sizeof *scratch) : NULL;
    if (ns && !scratch) {
        free(t);
        return OL_ENOMEM;
    }
    free(gr->ns_scratch);
    gr->ns_scratch = scratch;
    for (int i = 0; i < n; i++) {
        t[2 * i] = rows[i];
        t[2 * i + 1] = cols[i];
    }
    free(gr->tensors);
    gr->tensors = t;
    gr->n_tensors = n;
    return OL_OK;
}
