/* optim_internal.h: the optimizer object's innards, shared by optim.c (the object, groups,
 * clipping, the element-wise step, the state blob), optim_torch2.c (the rest of torch.optim:
 * adadelta, adamax, asgd, rprop and lbfgs's keys, checks and per-step scalars) and optim_lbfgs.c
 * (the L-BFGS step and its line search). Not a public header: see include/optlab/optim.h. */
#ifndef OPTLAB_OPTIM_INTERNAL_H
#define OPTLAB_OPTIM_INTERNAL_H

#include <stddef.h>

#include "optlab/common.h"
#include "optlab/optim.h"
#include "optlab/rng.h"

/* Per-step scalars handed to the kernels (all computed in double, once per step and group). */
typedef struct {
    double lr, wd, decay;        /* lr; coupled weight decay (g += wd x); adamw's x *= decay */
    double gscale, clip;         /* clip-norm coefficient (1 = off); clip-value bound (inf = off) */
    double momentum;             /* heavyball beta, rmsprop momentum */
    double cb, cg, kg, kb;       /* sgd: b = cb b + cg g; x -= lr (kg g + kb b) */
    double alpha, oma;           /* rmsprop: alpha, 1 - alpha; adadelta: rho, 1 - rho */
    double beta1, omb1, beta2, omb2;
    double eps, eps_in;          /* eps_in: rmsprop's eps under the sqrt (eps_inside) */
    double step_size;            /* adam: lr / bc1; adagrad: lr / (1 + (t-1) lr_decay); adamax: lr / bc1 */
    double bc1, bc2, bc2_sqrt;   /* 1 - beta1^t, 1 - beta2^t, sqrt(bc2) */
    double rect;                 /* radam rectification, 0 on the un-rectified branch */
    double nadam_cg, nadam_cm;   /* nadam's coefficients of g / d and m / d */
    double eta, shrink, mu;      /* asgd: x = x (1 - lambd eta) - eta g (shrink = 1 - lambd eta);
                                  * ax += (x - ax) mu, or ax = x when mu = 1 */
    double eta_minus, eta_plus, step_min, step_max;   /* rprop */
    double sf_c, sf_omc, sf_zdecay;   /* schedule-free: x's weight c of z, 1 - c; sf-adamw's lr wd */
    double trust;                /* lars's trust_coefficient */
    double rho, eps2, d;         /* adafactor: min(lr, 1 / sqrt(t)), eps2, d; omb2 = t^beta2_decay, eps = eps1 */
    double ns_a, ns_b, ns_c, ns_eps;   /* muon's Newton-Schulz coefficients and normalization floor */
    long ns_steps;
    int nesterov;                /* muon */
} kargs;

typedef struct {
    void *x;                 /* (n) float or double parameters */
    const void *g;           /* (n) gradient, same type; NULL for random search */
    size_t n;
    int is_f64;
    double base_lr, weight_decay;
    void *state;             /* n_buffers * n values of the group's type, 64-byte aligned */
    int n_buffers;           /* buffers in state; the first saved_buffers of them are saved */
    size_t *tensors;         /* n_tensors (rows, cols) pairs covering the group (ol_optim_set_tensors) */
    int n_tensors;           /* 0: the group is one vector */
    double *ns_scratch;      /* muon: 2 n + 2 k^2 doubles for its largest 2-D tensor (k: the smaller side) */
} group;

struct ol_optim {
    ol_optim_params p;
    group *groups;
    int n_groups, cap_groups;
    ol_sched *sched;
    char sched_spec[1024];   /* "" = constant */
    long warmup;
    double clip_norm, clip_value;
    long t;                  /* steps taken */
    double last_grad_norm;
    double mu_product;       /* nadam: prod_{i<=t} mu_i */
    double lr_scale;         /* multiplies every group's lr (divergence rollbacks); not in the state */
    double own_momentum;     /* the momentum (beta, beta1) of the spec or ol_optim_set_momentum: used when
                                the schedule sets none; not in the state (the schedule's is) */
    /* random search */
    double (*f)(const void *x, void *userdata);
    void *userdata;
    ol_rng rng;
    double fx;               /* f at the current point, valid when fx_valid */
    int fx_valid;
    long evaluations;        /* calls of f (random) or of the closure (lbfgs) */
    /* kinds that evaluate the objective themselves (lbfgs) */
    ol_optim_closure closure;
    void *closure_userdata;
    /* the kind's scalar state, saved after the groups' buffers (none for the first ten kinds):
     * asgd's eta per group, lbfgs's counters, step, scale and 1 / (y s) per curvature pair */
    double *scalars;
    size_t n_scalars;
    double *scratch;         /* lbfgs: history_size doubles (torch's al), not saved */
    struct ol_wrap *wrap;    /* lookahead/sam layers over this (base) optimizer, optim_wrap.c; NULL: none */
};

/* ---- optim.c ---- */
/* Buffer k of the group's state (its type's values, n of them). */
void *ol_optim_group_buffer(const group *gr, int k);
/* Sum of the squares of the group's gradient clamped to [-clip, clip] (inf: no clamp), in double. */
double ol_optim_group_grad_sumsq(const group *gr, double clip);
/* The group's lr for the next step: the schedule's times the rollback scale. */
double ol_optim_group_lr(const ol_optim *o, int k);

/* ---- optim_torch2.c: adadelta, adamax, asgd, rprop, lbfgs ---- */
int ol_optim_t2_kind(int kind);                           /* 1 for the five kinds of this file */
void ol_optim_t2_defaults(ol_optim_params *p);
int ol_optim_t2_parse(ol_spec *sp, ol_optim_params *p);   /* the kind's keys from the spec */
int ol_optim_t2_validate(const ol_optim_params *p);
int ol_optim_t2_buffers(const ol_optim_params *p, int *saved);   /* state buffers a group, saved ones */
size_t ol_optim_t2_n_scalars(const ol_optim *o);          /* for o's kind and groups */
int ol_optim_t2_check_scalars(const ol_optim *o, const double *v);   /* a loaded state's */
void ol_optim_t2_init_group(ol_optim *o, group *gr);      /* after the group's state is zeroed */
/* Scalars of step t (step_scalars) and of group k at lr (group_scalars; rprop's step sizes and
 * asgd's eta start there on the first step); after_group: asgd's eta for the next step. */
void ol_optim_t2_step_scalars(const ol_optim *o, long t, kargs *a);
void ol_optim_t2_group_scalars(ol_optim *o, int k, long t, double lr, kargs *a);
void ol_optim_t2_after_group(ol_optim *o, int k, long t, double lr);

/* ---- optim_modern.c: lion, sf-sgd, sf-adamw, lamb, lars (issue 19, section 2) ---- */
int ol_optim_m_kind(int kind);                            /* 1 for the kinds of this file */
void ol_optim_m_defaults(ol_optim_params *p);
int ol_optim_m_parse(ol_spec *sp, ol_optim_params *p);
int ol_optim_m_validate(const ol_optim_params *p);
int ol_optim_m_buffers(const ol_optim_params *p, int *saved);
int ol_optim_m_average_buffer(int kind);                  /* x's buffer (schedule-free), or -1 */
size_t ol_optim_m_n_scalars(const ol_optim *o);
int ol_optim_m_check_scalars(const ol_optim *o, const double *v);
void ol_optim_m_init_group(ol_optim *o, group *gr);       /* z = x = the parameters */
void ol_optim_m_step_scalars(const ol_optim *o, long t, kargs *a);
void ol_optim_m_group_scalars(ol_optim *o, int k, long t, double lr, kargs *a);
int ol_optim_m_layerwise(int kind);                       /* lamb, lars: a trust ratio per tensor */
double ol_optim_m_run_layerwise(const ol_optim *o, group *gr, const kargs *a);   /* sum of g^2 */

/* ---- optim_lbfgs.c ---- */
#define OL_LBFGS_FIXED_SCALARS 6   /* n_iter, t, H_diag, prev_loss, num_old, head; then ro[history] */
int ol_optim_lbfgs_buffers(const ol_optim_params *p, int *saved);
int ol_optim_lbfgs_check_scalars(const ol_optim *o, const double *v);
int ol_optim_lbfgs_step(ol_optim *o);

/* ---- optim_wrap.c: lookahead and sam over the base optimizer of o ---- */
int ol_optim_base_step(ol_optim *o);                      /* optim.c: the step without the wrappers */
int ol_optim_is_wrapper_spec(const char *spec);
int ol_optim_wrap_create(ol_optim **out, const char *spec, double lr);
void ol_optim_wrap_free(ol_optim *o);
int ol_optim_wrap_add_group(ol_optim *o);                 /* the buffers of the group just added */
int ol_optim_wrap_needs_closure(const ol_optim *o);
void *const *ol_optim_wrap_ema(const ol_optim *o);       /* the ema's buffer per group, or NULL */
int ol_optim_wrap_swap_ema(ol_optim *o);
void ol_optim_swap_bytes(void *a, void *b, size_t bytes); /* optim.c: exchanges two buffers' bytes */
int ol_optim_wrap_step(ol_optim *o);
size_t ol_optim_wrap_state_size(const ol_optim *o);       /* 0 without wrappers */
void ol_optim_wrap_state_save(const ol_optim *o, unsigned char *p);
int ol_optim_wrap_state_check(const ol_optim *o, const unsigned char *p, size_t len);
void ol_optim_wrap_state_load(ol_optim *o, const unsigned char *p);

#endif
