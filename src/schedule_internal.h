/* schedule_internal.h: what src/schedule.c (the schedules, warm-up, state) and
 * src/schedule_compose.c (sequential and chain) share; private to the schedule module, whose
 * public header is include/optlab/schedule.h.
 *
 * A schedule is a tree: a leaf (step, cosine, ...) or a composition of children. The top of the
 * tree owns the warm-up and the step count t; below it every schedule is a "body" driven through
 * the sched_* functions below. All of them share one lr per group, torch's group['lr'], and one
 * momentum: a composition copies its lr (and momentum) into the child it drives and back after, so
 * that a chainable child acts on the lr the others left, as torch's schedulers act on the same
 * optimizer. */
#ifndef OPTLAB_SCHEDULE_INTERNAL_H
#define OPTLAB_SCHEDULE_INTERNAL_H

#include <stddef.h>

#include "optlab/common.h"
#include "optlab/schedule.h"

enum {
    SCHED_CONSTANT, SCHED_STEP, SCHED_MULTISTEP, SCHED_EXPONENTIAL, SCHED_COSINE,
    SCHED_COSINE_RESTARTS, SCHED_CYCLIC, SCHED_ONECYCLE, SCHED_LINEAR, SCHED_POLY,
    SCHED_INVERSE, SCHED_INVERSE_SQRT, SCHED_PLATEAU, SCHED_BOLD, SCHED_CONSTANT_FACTOR,
    SCHED_MULTIPLICATIVE, SCHED_SEQUENTIAL, SCHED_CHAIN, SCHED_N_KINDS
};   /* the numbers are saved in states: append only */

/* How a schedule starts at its step 0 (sched_start): as torch's initial step when the scheduler is
 * built (a chainable schedule acts on the lr it finds: linear multiplies it by start_factor), or
 * as torch's step(0) at a SequentialLR milestone (the closed form at 0, from the base lr). */
enum { SCHED_CREATE, SCHED_RESTART };

#define SCHED_MAX_MILESTONES 64
#define SCHED_MAX_CHILDREN 16
#define SCHED_MAX_NEST 3       /* compositions inside one another: sequential:[chain:[chain:...]] is 3 */

struct ol_sched {
    int kind;
    long warmup;                 /* N: linear warm-up steps before the schedule's step 0 (top only) */
    size_t n_groups;
    int depth;                   /* 0 at the top, 1 for a child of the top, ... */
    /* configuration */
    double gamma;                /* step, multistep, exponential, cyclic exp_range */
    long step_size;              /* step */
    long milestones[SCHED_MAX_MILESTONES];
    int n_milestones;            /* multistep, non-decreasing (repeats count twice, torch's Counter);
                                    sequential: strictly increasing, one fewer than the children */
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
    long total_iters;            /* linear, poly, constant-factor */
    double alpha, c;             /* inverse, inverse-sqrt; alpha NaN = c * base lr */
    double factor, threshold, min_lr;       /* plateau; min_lr also bold; factor also constant-factor,
                                               multiplicative */
    long patience, cooldown;
    double up, down, tol;        /* bold: lr factors after a calm / a rising window, relative tol */
    long window;                 /* bold: losses averaged per comparison */
    int cycle_momentum;          /* cyclic, onecycle: 1 = the schedule sets the momentum too */
    double base_momentum, max_momentum;
    struct ol_sched **child;     /* sequential, chain */
    int n_child;
    /* state */
    long t;                      /* steps since creation (the top); since its start (a child) */
    long epoch;                  /* torch's last_epoch: steps since the schedule's step 0 */
    long t_cur, t_i;             /* cosine-restarts */
    double best;                 /* plateau: best metric so far (inf at start);
                                    bold: the previous window's mean loss (the reference) */
    long num_bad, cooldown_counter, metric_epoch; /* plateau; bold: num_bad = losses in the
                                    current window, metric_epoch = windows completed */
    double loss_sum;             /* bold: sum of the current window's losses */
    double momentum;             /* momentum of the next step; NaN: no schedule has set one */
    double *base;                /* per group: base lr (torch's initial_lr) */
    double *l0;                  /* per group: the schedule's lr at its step 0 (from the base) */
    double *lr;                  /* per group: lr of the next step (torch's group['lr']) */
};

/* schedule.c: a body of the tree (no warm-up; depth >= 1 below the top), started (SCHED_CREATE)
 * from the base lrs. */
int sched_new(ol_sched **out, const char *spec, size_t n_groups, const double *base_lrs, int depth);
/* The schedule at its step 0; s->lr holds the lr it finds (the shared one). */
void sched_start(ol_sched *s, int mode);
/* One step of the body: epoch + 1 and the lr (and momentum) of the next step. */
void sched_body_step(ol_sched *s);
/* OL_ESTATE (with message naming the optimizer step `step`) if sched_body_step would pass the end
 * of a onecycle. */
int sched_body_check(const ol_sched *s, long step);
long sched_body_max_steps(const ol_sched *s);   /* body steps it can take: LONG_MAX = no end */
void sched_body_metric(ol_sched *s, double value);
void sched_body_loss(ol_sched *s, double loss);
int sched_scales_lr(const ol_sched *s);   /* 1: it only ever multiplies (or moves, chainably) the lr it finds */
/* "a/b/c" into out[], at most SCHED_MAX_MILESTONES steps >= 1, increasing (strict: no repeats);
 * name is for the messages. */
int sched_parse_milestones(const char *text, const char *name, int strict, long *out, int *n);

/* schedule_compose.c */
int compose_parse(ol_sched *s, ol_spec *sp, const char *name);
void compose_start(ol_sched *s, int mode);
void compose_step(ol_sched *s);
int compose_check(const ol_sched *s, long step);
long compose_max_steps(const ol_sched *s);
void compose_metric(ol_sched *s, double value);
void compose_loss(ol_sched *s, double loss);

#endif
