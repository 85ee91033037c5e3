/* schedule_compose.c: schedules made of schedules (see include/optlab/schedule.h):
 *   sequential:schedules=[A]/[B]/...,milestones=m1/m2/...   torch's SequentialLR
 *   chain:schedules=[A]/[B]/...                             torch's ChainedScheduler
 *
 * As in torch, every schedule of the tree acts on the same lr per group (the optimizer's
 * group['lr']) and the same momentum: before a child starts, steps or hears a metric, it gets the
 * composition's lr and momentum; after, the composition takes them back.
 * - sequential: child 0 starts with the composition; at step m_k (the composition's own steps
 *   since its start) child k+1 starts from its own step 0 as torch's step(0) does (the closed form
 *   at 0, from the base lr: multiplicative, plateau and bold take the lr they find), and from then
 *   on only child k+1 steps and hears metrics and losses. torch refuses ReduceLROnPlateau there
 *   (pytorch#68978: SequentialLR calls step() without a metric); here plateau and bold are
 *   children like the others, fed by report_metric / report_loss while they are the one running.
 * - chain: every child steps in order each step, each on the lr the one before it left, so the
 *   lr is the product of their factors; metrics and losses go to every child. Only schedules that
 *   act on the lr they find may be chained: torch also takes closed forms (cyclic, onecycle,
 *   cosine-restarts), which set the lr outright each step and so silently undo every factor
 *   before them (pytorch#129565); those are refused here, with a sequential that would restart
 *   from the base lr at its milestones. */
#include "schedule_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The composition's lr and momentum into child c, and back. */
static void to_child(const ol_sched *s, ol_sched *c) {
    memcpy(c->lr, s->lr, s->n_groups * sizeof *s->lr);
    c->momentum = s->momentum;
}

static void from_child(ol_sched *s, const ol_sched *c) {
    memcpy(s->lr, c->lr, s->n_groups * sizeof *s->lr);
    s->momentum = c->momentum;
}

static void start_child(ol_sched *s, ol_sched *c, int mode) {
    to_child(s, c);
    c->t = 0;
    sched_start(c, mode);
    from_child(s, c);
}

static void step_child(ol_sched *s, ol_sched *c) {
    to_child(s, c);
    c->t++;
    sched_body_step(c);
    from_child(s, c);
}

/* sequential: the child running at the composition's step e (torch's bisect_right) */
static int running(const ol_sched *s, long e) {
    int k = 0;
    while (k < s->n_milestones && s->milestones[k] <= e) k++;
    return k;
}

/* The "[A]/[B]/..." list of schedules: each child created below s; ol_spec_parse has checked that
 * the brackets balance. */
static int parse_children(ol_sched *s, const char *list, const char *name) {
    char *buf = malloc(strlen(list) + 1), *texts[SCHED_MAX_CHILDREN];
    if (!buf) return ol_fail(OL_ENOMEM, "out of memory parsing a schedule");
    strcpy(buf, list);
    int n = 0, rc = OL_OK;
    for (char *p = buf;; p++) {
        if (*p != '[') {
            rc = ol_fail(OL_EARG, "%s: schedules '%s': expected [SPEC]/[SPEC]/..., each schedule in its own brackets",
                         name, list);
            break;
        }
        char *close = p + 1;
        for (int depth = 1; depth > 0; close++) depth += *close == '[' ? 1 : *close == ']' ? -1 : 0;
        close--;   /* on the ']' that closes p's '[' */
        if (n == SCHED_MAX_CHILDREN) {
            rc = ol_fail(OL_EARG, "%s: more than %d schedules", name, SCHED_MAX_CHILDREN);
            break;
        }
        if (close == p + 1) {
            rc = ol_fail(OL_EARG, "%s: schedule %d is empty ('[]'); give a spec, e.g. [cosine:t_max=100]", name, n + 1);
            break;
        }
        *close = 0;
        texts[n++] = p + 1;
        p = close + 1;
        if (!*p) break;
        if (*p != '/') {
            rc = ol_fail(OL_EARG, "%s: schedules '%s': expected [SPEC]/[SPEC]/..., each schedule in its own brackets",
                         name, list);
            break;
        }
    }
    if (!rc && n < 2)
        rc = ol_fail(OL_EARG, "%s needs at least 2 schedules, got %d (one alone is just that schedule)", name, n);
    if (!rc && !(s->child = calloc((size_t)n, sizeof *s->child))) rc = ol_fail(OL_ENOMEM, "out of memory");
    for (int k = 0; k < n && !rc; k++) {
        rc = sched_new(&s->child[k], texts[k], s->n_groups, s->base, s->depth + 1);
        if (rc) {
            char why[1024];
            snprintf(why, sizeof why, "%s", ol_error());
            rc = ol_fail(rc, "%s: schedule %d of %d: %s", name, k + 1, n, why);
        } else {
            s->n_child++;
            if (s->kind == SCHED_CHAIN && !sched_scales_lr(s->child[k]))
                rc = ol_fail(OL_EARG, "chain: schedule %d (%s) sets the lr from the base lr, undoing the factors of "
                             "the schedules before it (torch's ChainedScheduler does so silently, pytorch#129565); chain "
                             "only step, multistep, exponential, cosine, linear, poly, constant, constant-factor, "
                             "multiplicative, plateau, bold or chain, or use sequential", k + 1, texts[k]);
        }
    }
    free(buf);
    return rc;
}

int compose_parse(ol_sched *s, ol_spec *sp, const char *name) {
    int seq = s->kind == SCHED_SEQUENTIAL;
    if (s->depth >= SCHED_MAX_NEST)
        return ol_fail(OL_EARG, "%s: sequential and chain nest %d deep at most (one inside another inside another); "
                       "flatten the spec", name, SCHED_MAX_NEST);
    const char *list = ol_spec_get_str(sp, "schedules");
    if (!list)
        return ol_fail(OL_EARG, "schedule '%s' needs schedules (e.g. %s)", name,
                       seq ? "sequential:schedules=[linear:start_factor=0.1,total_iters=5]/[cosine:t_max=95],milestones=5"
                           : "chain:schedules=[exponential:gamma=0.99]/[step:step_size=30,gamma=0.5]");
    const char *milestones = seq ? ol_spec_get_str(sp, "milestones") : NULL;
    if (seq && !milestones)
        return ol_fail(OL_EARG, "schedule 'sequential' needs milestones, the steps where each schedule after the first "
                       "starts (e.g. milestones=5 for two schedules)");
    if (seq) {
        int rc = sched_parse_milestones(milestones, name, 1, s->milestones, &s->n_milestones);
        if (rc) return rc;
    }
    int rc = parse_children(s, list, name);
    if (rc) return rc;
    if (seq && s->n_milestones != s->n_child - 1)
        return ol_fail(OL_EARG, "sequential: %d schedules need %d milestones (where each after the first starts), got %d",
                       s->n_child, s->n_child - 1, s->n_milestones);
    return OL_OK;
}

void compose_start(ol_sched *s, int mode) {
    if (s->kind == SCHED_SEQUENTIAL) {
        start_child(s, s->child[0], mode);
        return;
    }
    /* as torch builds a chain's schedulers one after the other: each starts on the lr the one before left */
    for (int k = 0; k < s->n_child; k++) start_child(s, s->child[k], k == 0 ? mode : SCHED_CREATE);
}

void compose_step(ol_sched *s) {
    if (s->kind == SCHED_CHAIN) {
        for (int k = 0; k < s->n_child; k++) step_child(s, s->child[k]);
        return;
    }
    int k = running(s, s->epoch);
    if (k > 0 && s->milestones[k - 1] == s->epoch) start_child(s, s->child[k], SCHED_RESTART);
    else step_child(s, s->child[k]);
}

int compose_check(const ol_sched *s, long step) {
    if (s->kind == SCHED_CHAIN) {
        for (int k = 0; k < s->n_child; k++) {
            int rc = sched_body_check(s->child[k], step);
            if (rc) return rc;
        }
        return OL_OK;
    }
    long e = s->epoch + 1;
    int k = running(s, e);
    if (k > 0 && s->milestones[k - 1] == e) return OL_OK;   /* a start, not a step */
    return sched_body_check(s->child[k], step);
}

long compose_max_steps(const ol_sched *s) {
    long most = LONG_MAX;
    for (int k = 0; k < s->n_child; k++) {
        long m = sched_body_max_steps(s->child[k]);
        if (m == LONG_MAX) continue;
        if (s->kind == SCHED_CHAIN) {
            most = m < most ? m : most;
            continue;
        }
        /* child k starts at step `from` and takes the steps before the next milestone */
        long from = k ? s->milestones[k - 1] : 0;
        if (k < s->n_milestones && m >= s->milestones[k] - 1 - from) continue;   /* it ends before its end */
        long limit = from > LONG_MAX - m ? LONG_MAX : from + m;
        most = limit < most ? limit : most;
    }
    return most;
}

void compose_metric(ol_sched *s, double value) {
    for (int k = 0; k < s->n_child; k++) {
        if (s->kind == SCHED_SEQUENTIAL && k != running(s, s->epoch)) continue;
        to_child(s, s->child[k]);
        sched_body_metric(s->child[k], value);
        from_child(s, s->child[k]);
    }
}

void compose_loss(ol_sched *s, double loss) {
    for (int k = 0; k < s->n_child; k++) {
        if (s->kind == SCHED_SEQUENTIAL && k != running(s, s->epoch)) continue;
        to_child(s, s->child[k]);
        sched_body_loss(s->child[k], loss);
        from_child(s, s->child[k]);
    }
}
