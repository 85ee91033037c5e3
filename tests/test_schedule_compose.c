/* test_schedule_compose.c: schedules of issue 19: constant-factor and multiplicative, sequential and
 * chain, momentum schedules (cycle_momentum), and that every schedule and composition resumes
 * bit for bit from its state. Values are torch's (run with Debian's torch 1.13, quoted beside
 * each) or worked by hand (in the comments); the float64 torch traces of `optlab optimize` are in
 * tests/ref (test_torch_reference.c). */
#include "test.h"

#include "optlab/common.h"
#include "optlab/optim.h"
#include "optlab/sweep_grid.h"
#include "fixtures.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-12

/* The lrs (and, unless mom is NULL, the momentums) of the first n steps of spec, one group of base
 * lr `base`, against want; a metric is reported after each step when metrics is not NULL. */
static int trace_is(const char *spec, long warmup, double base, const double *lr, const double *mom,
                    const double *metrics, int n) {
    ol_sched *s;
    if (ol_sched_create(&s, spec, warmup, 1, &base)) {
        fprintf(stderr, "    %s: %s\n", spec, ol_error());
        return 0;
    }
    int ok = 1;
    for (int t = 0; t < n && ok; t++) {
        double got = ol_sched_lr(s, 0), m = ol_sched_momentum(s);
        if (!(fabs(got - lr[t]) <= TOL * fmax(1, fabs(lr[t])))) {
            fprintf(stderr, "    %s: lr after %d steps = %.17g, expected %.17g\n", spec, t, got, lr[t]);
            ok = 0;
        }
        if (mom && !(fabs(m - mom[t]) <= TOL)) {
            fprintf(stderr, "    %s: momentum after %d steps = %.17g, expected %.17g\n", spec, t, m, mom[t]);
            ok = 0;
        }
        if (ok && t + 1 < n) {
            ok = ol_sched_step(s) == 0 && (!metrics || ol_sched_report_metric(s, metrics[t]) == 0);
            if (!ok) fprintf(stderr, "    %s: step %d: %s\n", spec, t + 1, ol_error());
        }
    }
    ol_sched_free(s);
    return ok;
}

#define LR_TRACE(spec, warmup, base, ...)                                                        \
    do {                                                                                         \
        const double want_[] = {__VA_ARGS__};                                                    \
        CHECK(trace_is(spec, warmup, base, want_, NULL, NULL, (int)(sizeof want_ / sizeof *want_))); \
    } while (0)

/* ---- the two new leaves ---- */

TEST(compose_constant_factor_is_torchs_constantlr) {
    /* factor 0.5 for steps 0..2, back to the base at total_iters 3 */
    LR_TRACE("constant-factor:factor=0.5,total_iters=3", 0, 1, 0.5, 0.5, 0.5, 1, 1);
    LR_TRACE("constant-factor", 0, 3, 1, 1, 1, 1, 1, 3, 3);   /* torch's defaults: 1/3 for 5 steps */
}

TEST(compose_multiplicative_multiplies_every_step) { LR_TRACE("multiplicative:factor=0.5", 0, 2, 2, 1, 0.5, 0.25); }

/* ---- sequential ---- */

TEST(compose_sequential_is_torchs_sequentiallr) {
    /* torch 1.13: SequentialLR([ConstantLR(factor=0.1, total_iters=2), ExponentialLR(0.9)], [2]) from
     * lr 1 gives 0.1, 0.1, 1.0, 0.9, 0.81, 0.7290000000000001: exponential starts over from the base
     * lr at the milestone (its docstring's 0.9 at step 2 is wrong) */
    LR_TRACE("sequential:schedules=[constant-factor:factor=0.1,total_iters=2]/[exponential:gamma=0.9],milestones=2", 0,
             1, 0.1, 0.1, 1.0, 0.9, 0.81, 0.7290000000000001);
    /* torch: SequentialLR([LinearLR(start_factor=0.5, total_iters=2), CosineAnnealingLR(T_max=2)], [2]):
     * 0.5, 0.75, 1.0, 0.5, 0.0, 0.49999999999999994, 1.0 */
    LR_TRACE("sequential:schedules=[linear:start_factor=0.5,total_iters=2]/[cosine:t_max=2],milestones=2", 0, 1, 0.5,
             0.75, 1.0, 0.5, 0.0, 0.49999999999999994, 1.0);
}

TEST(compose_sequential_of_three_starts_each_at_its_milestone) {
    /* step:step_size=1,gamma=0.5 on base 8 for steps 0..1: 8, 4; exponential 0.5 from the base at 2:
     * 8, 4, 2; multistep at 5: 8 (restart), milestone 1 of it at step 6: 0.8 */
    LR_TRACE("sequential:schedules=[step:step_size=1,gamma=0.5]/[exponential:gamma=0.5]/"
             "[multistep:milestones=1,gamma=0.1],milestones=2/5",
             0, 8, 8, 4, 8, 4, 2, 8, 0.8, 0.8);
}

TEST(compose_sequential_multiplicative_and_plateau_go_on_from_the_lr_they_find) {
    /* linear 0.5 -> 1 over 2 steps: 0.5, 0.75, 1; multiplicative 0.5 from the 1 it finds at step 3 */
    LR_TRACE("sequential:schedules=[linear:start_factor=0.5,total_iters=2]/[multiplicative:factor=0.5],milestones=3",
             0, 1, 0.5, 0.75, 1, 1, 0.5, 0.25);
    /* exponential 0.5: 1, 0.5, 0.25; plateau from 0.25 at step 3, patience 0: the metric 5 is the best
     * (no change), then 5 again is bad: x 0.1 */
    const double lr[] = {1, 0.5, 0.25, 0.25, 0.025, 0.0025};
    const double metric[] = {9, 9, 5, 5, 5};   /* reported after steps 1..5: those before step 3 go to exponential */
    CHECK(trace_is("sequential:schedules=[exponential:gamma=0.5]/[plateau:patience=0],milestones=3", 0, 1, lr, NULL,
                   metric, 6));
}

TEST(compose_sequential_after_warmup_counts_from_its_start) {
    /* warm-up 2 on the sequential's first lr (constant-factor 0.5 of 1): 0.25, 0.5; then its step 0
     * (0.5), 1, and exponential from the base at its milestone 2: 1, 0.5 */
    LR_TRACE("sequential:schedules=[constant-factor:factor=0.5,total_iters=1]/[exponential:gamma=0.5],milestones=2", 2, 1,
             0.25, 0.5, 0.5, 1, 1, 0.5);
}

/* ---- chain ---- */

TEST(compose_chain_is_torchs_chainedscheduler) {
    /* torch 1.13: ChainedScheduler([ConstantLR(factor=0.1, total_iters=2), ExponentialLR(0.9)]) from lr 1:
     * 0.1, 0.09000000000000001, 0.8100000000000002, 0.7290000000000002, 0.6561000000000002 */
    LR_TRACE("chain:schedules=[constant-factor:factor=0.1,total_iters=2]/[exponential:gamma=0.9]", 0, 1, 0.1,
             0.09000000000000001, 0.8100000000000002, 0.7290000000000002, 0.6561000000000002);
    /* exponential 0.5 x step (3, 0.1) from 1: 1, 0.5, 0.25, 0.0125 (both at step 3), 0.00625 */
    LR_TRACE("chain:schedules=[exponential:gamma=0.5]/[step:step_size=3,gamma=0.1]", 0, 1, 1, 0.5, 0.25, 0.0125,
             0.00625);
}

TEST(compose_chain_with_plateau_scales_the_product) {
    /* exponential 0.5 and plateau (patience 0, factor 0.5) on one lr: metrics 3 (best), 3 (bad: x 0.5)
     * 1: 0.5 (step) -> 0.5; 0.25 (step) -> 0.125; 0.0625 then best 1 */
    const double lr[] = {1, 0.5, 0.125, 0.0625};
    const double metric[] = {3, 3, 1};
    CHECK(trace_is("chain:schedules=[exponential:gamma=0.5]/[plateau:patience=0,factor=0.5]", 0, 1, lr, NULL, metric,
                   4));
}

TEST(compose_nested_chain_inside_sequential) {
    /* constant 2 for 2 steps, then chain(exponential 0.5, constant-factor 0.5 for 1 step) from the base 2:
     * 1 at its start, then 2 x 0.5 x (0.5 / 0.5) = 1, 0.5 */
    LR_TRACE("sequential:schedules=[constant]/[chain:schedules=[exponential:gamma=0.5]/"
             "[constant-factor:factor=0.5,total_iters=1]],milestones=2",
             0, 2, 2, 2, 1, 1, 0.5);
}

/* ---- momentum ---- */

TEST(compose_onecycle_cycles_momentum_as_torch) {
    /* total 10, pct 0.3: phase ends at 2 and 9; momentum max 0.95 -> base 0.85 -> max:
     * 0.95, 0.9 (half way, cos), 0.85; step 3: 0.95 + (0.85 - 0.95)/2 (cos(pi/7) + 1) = 0.854951556604879 */
    const double lr[] = {0.04, 0.52, 1, 0.9504846320134737};
    const double mom[] = {0.95, 0.9, 0.85, 0.854951556604879};
    CHECK(trace_is("onecycle:max_lr=1,total_steps=10,cycle_momentum=1", 0, 7, lr, mom, NULL, 4));
    /* without cycle_momentum (the default) there is none */
    ol_sched *s;
    double base = 1;
    CHECK_EQ_INT(ol_sched_create(&s, "onecycle:total_steps=10", 0, 1, &base), 0);
    CHECK(isnan(ol_sched_momentum(s)) && !ol_sched_sets_momentum(s));
    ol_sched_free(s);
}

TEST(compose_cyclic_cycles_momentum_inversely_to_the_lr) {
    /* base 0.1, max 1, up 2; momentum 0.9 at base_lr, 0.8 at max_lr; triangular2 halves the swing in cycle 2 */
    const double lr[] = {0.1, 0.55, 1, 0.55, 0.1, 0.325};
    const double mom[] = {0.9, 0.85, 0.8, 0.85, 0.9, 0.875};
    CHECK(trace_is("cyclic:base_lr=0.1,max_lr=1,step_size_up=2,mode=triangular2,cycle_momentum=1", 0, 1, lr, mom, NULL,
                   6));
    /* own bounds, and the momentum is kept through a sequential after the cycling schedule ends, as
     * torch leaves group['momentum'] where the last scheduler put it */
    const double lr2[] = {0.1, 1, 1, 0.5};
    const double mom2[] = {0.7, 0.6, 0.6, 0.6};
    CHECK(trace_is("sequential:schedules=[cyclic:base_lr=0.1,max_lr=1,step_size_up=1,cycle_momentum=1,base_momentum=0.6,"
                   "max_momentum=0.7]/[exponential:gamma=0.5],milestones=2",
                   0, 1, lr2, mom2, NULL, 4));
}

TEST(compose_optimizer_steps_with_the_scheduled_momentum) {
    /* sgd, g = 1 throughout, onecycle max_lr 1 over 10 steps: lrs 0.04, 0.52, 1; momentum at steps 2, 3:
     * 0.9, 0.85. b1 = g = 1, x = -0.04; b2 = 0.9 + 1 = 1.9, x = -0.04 - 0.52 x 1.9 = -1.028;
     * b3 = 0.85 x 1.9 + 1 = 2.615, x = -3.643 */
    double x[1] = {0}, g[1] = {1};
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "sgd:momentum=0.5", 1), 0);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, x, g, 1, -1, -1), 0);
    CHECK(ol_optim_get_momentum(o) == 0.5);
    CHECK_EQ_INT(ol_optim_set_schedule(o, "onecycle:total_steps=10,cycle_momentum=1", 0), 0);
    CHECK_NEAR(ol_optim_get_momentum(o), 0.95, TOL);
    for (int t = 0; t < 3; t++) CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_NEAR(x[0], -3.643, TOL);
    /* removing the schedule gives the optimizer its own momentum back */
    CHECK_EQ_INT(ol_optim_set_schedule(o, NULL, 0), 0);
    CHECK(ol_optim_get_momentum(o) == 0.5);
    ol_optim_free(o);
}

/* Runs opt on f = x^2/2 (g = x) three ways: with the schedule `cycling`, which cycles the momentum;
 * with `plain`, the same lrs without, and before each step the first run's momentum given by hand
 * (ol_optim_set_momentum); and with `plain` alone. The first two must agree to the bit, and differ
 * from the third (the momentum mattered). */
static int momentum_paths_agree(const char *opt, const char *cycling, const char *plain) {
    double x[3][2] = {{1, -2}, {1, -2}, {1, -2}}, g[3][2];
    ol_optim *o[3] = {NULL, NULL, NULL};
    int ok = 1;
    for (int k = 0; k < 3 && ok; k++)
        ok = !ol_optim_create(&o[k], opt, 0.05) && !ol_optim_add_group_f64(o[k], x[k], g[k], 2, -1, -1) &&
             !ol_optim_set_schedule(o[k], k ? plain : cycling, 0);
    for (int t = 0; t < 25 && ok; t++) {
        memcpy(g, x, sizeof g);
        ok = !ol_optim_set_momentum(o[1], ol_optim_get_momentum(o[0]));
        for (int k = 0; k < 3 && ok; k++) ok = !ol_optim_step(o[k]);
        ok = ok && x[0][0] == x[1][0] && x[0][1] == x[1][1];
    }
    if (!ok) fprintf(stderr, "    %s: the two paths differ or fail (%s)\n", opt, ol_error());
    if (ok && x[0][0] == x[2][0] && x[0][1] == x[2][1]) {
        fprintf(stderr, "    %s: the cycled momentum changed nothing\n", opt);
        ok = 0;
    }
    for (int k = 0; k < 3; k++) ol_optim_free(o[k]);
    return ok;
}

TEST(compose_every_momentum_kind_takes_the_scheduled_value) {
    const char *cyc = "onecycle:total_steps=30,cycle_momentum=1", *plain = "onecycle:total_steps=30";
    const char *opts[] = {"sgd:momentum=0.9", "sgd:momentum=0.9,nesterov=1", "rmsprop:momentum=0.5",
                          "rmsprop:momentum=0.5,centered=1", "heavyball", "adam", "adam:amsgrad=1", "adamw", "nadam", "radam"};
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) CHECK(momentum_paths_agree(opts[i], cyc, plain));
    CHECK(momentum_paths_agree("sgd:momentum=0.9", "cyclic:max_lr=0.2,step_size_up=4,cycle_momentum=1",
                               "cyclic:max_lr=0.2,step_size_up=4"));
}

TEST(compose_momentum_schedule_needs_an_optimizer_with_momentum) {
    const char *bad[] = {"gd", "sgd", "rmsprop", "adagrad", "random"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ol_optim *o;
        CHECK_EQ_INT(ol_optim_create(&o, bad[i], 0.1), 0);
        CHECK_EQ_INT(ol_optim_set_schedule(o, "sequential:schedules=[constant]/[onecycle:total_steps=5,cycle_momentum=1],"
                                              "milestones=2", 0), OL_EARG);
        CHECK_MSG(strstr(ol_error(), "cycle_momentum") != NULL, "%s: %s", bad[i], ol_error());
        CHECK_EQ_INT(ol_optim_set_momentum(o, 0.9), OL_EARG);
        ol_optim_free(o);
    }
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "adam", 0.1), 0);
    CHECK_EQ_INT(ol_optim_set_momentum(o, 1), OL_EARG);
    CHECK_EQ_INT(ol_optim_set_momentum(o, 0.5), 0);
    CHECK(ol_optim_get_momentum(o) == 0.5);
    ol_optim_free(o);
}

/* ---- resume: every schedule and composition, saved at every step, goes on bit for bit ---- */

static const char *const every_spec[] = {
    "constant", "step:step_size=3,gamma=0.5", "multistep:milestones=2/5,gamma=0.5", "exponential:gamma=0.9",
    "cosine:t_max=4,eta_min=0.01", "cosine-restarts:t_0=2,t_mult=2", "cyclic:max_lr=1,step_size_up=3,cycle_momentum=1",
    "cyclic:max_lr=1,step_size_up=2,mode=triangular2", "onecycle:total_steps=40,cycle_momentum=1,anneal=linear",
    "linear:total_iters=4", "poly:total_iters=6,power=2", "inverse:c=2", "inverse-sqrt", "plateau:patience=1,factor=0.5",
    "bold:up=1.2,window=2", "constant-factor:factor=0.5,total_iters=3", "multiplicative:factor=0.95",
    "sequential:schedules=[linear:start_factor=0.1,total_iters=3]/[cosine:t_max=5]/[plateau:patience=0,factor=0.5],"
    "milestones=3/9",
    "chain:schedules=[exponential:gamma=0.95]/[step:step_size=4,gamma=0.5]/[bold:up=1.1]",
    "sequential:schedules=[onecycle:total_steps=8,cycle_momentum=1]/[chain:schedules=[multiplicative:factor=0.9]/"
    "[plateau:patience=1]],milestones=8",
    "chain:schedules=[constant-factor:factor=0.25,total_iters=4]/[chain:schedules=[linear:total_iters=3]/[cosine:t_max=6]]",
    "sequential:schedules=[sequential:schedules=[constant]/[exponential:gamma=0.8],milestones=2]/"
    "[cyclic:max_lr=0.5,step_size_up=2,cycle_momentum=1],milestones=5",
};

#define RESUME_STEPS 30

/* k steps of s, each followed by a metric and a loss (a wavy sequence: plateau and bold both act) */
static int run_steps(ol_sched *s, int from, int to, double *lr, double *mom) {
    for (int t = from; t < to; t++) {
        if (ol_sched_step(s) || ol_sched_report_metric(s, 1.0 / (1 + t % 7)) || ol_sched_report_loss(s, 2.0 + (t % 5)))
            return 0;
        if (lr) {
            lr[2 * t] = ol_sched_lr(s, 0), lr[2 * t + 1] = ol_sched_lr(s, 1);
            mom[t] = ol_sched_momentum(s);
        }
    }
    return 1;
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* saved after k steps, loaded into a new schedule, the rest of the run is the same to the bit */
static int resumes_exactly(const char *spec, long warmup) {
    const double base[2] = {0.1, 0.3};
    double lr[2 * RESUME_STEPS], mom[RESUME_STEPS], lr2[2 * RESUME_STEPS], mom2[RESUME_STEPS];
    ol_sched *whole;
    if (ol_sched_create(&whole, spec, warmup, 2, base) || !run_steps(whole, 0, RESUME_STEPS, lr, mom)) {
        fprintf(stderr, "    %s: %s\n", spec, ol_error());
        return 0;
    }
    ol_sched_free(whole);
    int ok = 1;
    for (int k = 0; k < RESUME_STEPS && ok; k++) {
        ol_sched *a = NULL, *b = NULL;
        ok = !ol_sched_create(&a, spec, warmup, 2, base) && !ol_sched_create(&b, spec, warmup, 2, base) &&
             run_steps(a, 0, k, NULL, NULL);
        size_t size = ok ? ol_sched_state_size(a) : 0;
        unsigned char *blob = malloc(size ? size : 1);
        ok = ok && blob && !ol_sched_state_save(a, blob, size) && !ol_sched_state_load(b, blob, size) &&
             ol_sched_steps(b) == k && run_steps(b, k, RESUME_STEPS, lr2, mom2);
        for (int t = k; t < RESUME_STEPS && ok; t++)
            ok = same_bits(lr[2 * t], lr2[2 * t]) && same_bits(lr[2 * t + 1], lr2[2 * t + 1]) && same_bits(mom[t], mom2[t]);
        if (!ok) fprintf(stderr, "    %s (warm-up %ld): resumed after %d steps, it differs (%s)\n", spec, warmup, k, ol_error());
        free(blob);
        ol_sched_free(a);
        ol_sched_free(b);
    }
    return ok;
}

TEST(compose_every_schedule_and_composition_resumes_bit_for_bit) {
    for (size_t i = 0; i < sizeof every_spec / sizeof *every_spec; i++) {
        CHECK(resumes_exactly(every_spec[i], 0));
        CHECK(resumes_exactly(every_spec[i], 3));
    }
}

TEST(compose_plain_schedules_keep_the_state_format_of_earlier_builds) {
    /* version 1 (so the checkpoints of earlier builds load) for what neither composes nor cycles the
     * momentum; version 2 with the momentum and the children's states otherwise */
    const double base = 0.1;
    const char *v1[] = {"cosine:t_max=5", "onecycle:total_steps=5", "constant-factor", "multiplicative:factor=0.5"};
    const char *v2[] = {"onecycle:total_steps=5,cycle_momentum=1", "chain:schedules=[constant]/[constant]"};
    for (int i = 0; i < 6; i++) {
        ol_sched *s;
        CHECK_EQ_INT(ol_sched_create(&s, i < 4 ? v1[i] : v2[i - 4], 0, 1, &base), 0);
        unsigned char blob[4096];
        CHECK(ol_sched_state_size(s) <= sizeof blob);
        CHECK_EQ_INT(ol_sched_state_save(s, blob, sizeof blob), 0);
        CHECK_EQ_INT(ol_get_u32(blob + 4), i < 4 ? 1 : 2);
        CHECK_EQ_INT(ol_sched_state_size(s), i < 4 ? 96 + 24 + 4 : i == 4 ? 96 + 24 + 12 + 4 : 96 + 24 + 12 + 2 * (8 + 124) + 4);
        ol_sched_free(s);
    }
}

/* The states of s (before, after a refused load) are the same bytes. */
static int load_refused_unchanged(ol_sched *s, const unsigned char *blob, size_t len, const char *needle) {
    size_t size = ol_sched_state_size(s);
    unsigned char *before = malloc(size), *after = malloc(size);
    int ok = before && after && !ol_sched_state_save(s, before, size) && ol_sched_state_load(s, blob, len) == OL_EFORMAT &&
             strstr(ol_error(), needle) && !ol_sched_state_save(s, after, size) && !memcmp(before, after, size);
    if (!ok) fprintf(stderr, "    load not refused, or changed something (%s; wanted '%s')\n", ol_error(), needle);
    free(before);
    free(after);
    return ok;
}

TEST(compose_state_loads_all_or_nothing) {
    const double base = 1;
    const char *spec = "sequential:schedules=[exponential:gamma=0.5]/[chain:schedules=[step:step_size=2]/"
                       "[plateau:patience=0]],milestones=3";
    ol_sched *a, *b;
    CHECK_EQ_INT(ol_sched_create(&a, spec, 0, 1, &base), 0);
    CHECK_EQ_INT(ol_sched_create(&b, spec, 0, 1, &base), 0);
    CHECK(run_steps(a, 0, 7, NULL, NULL));
    ol_sched_step(b);
    size_t len = ol_sched_state_size(a);
    unsigned char *blob = malloc(len);
    CHECK_EQ_INT(ol_sched_state_save(a, blob, len), 0);
    /* the second child's (the chain's) kind changed and the outer checksum made right: its own check
     * refuses it after the outer header and the first child passed, and nothing is loaded */
    size_t off = 96 + 24 + 12, first = ol_get_u64(blob + off);
    off += 8 + first + 8;   /* the chain's state */
    ol_put_u32(blob + off + 8, 1);   /* kind: step */
    ol_put_u32(blob + len - 4, ol_crc32(0, blob, len - 4));
    CHECK(load_refused_unchanged(b, blob, len, "is for schedule 'step', this one is 'chain'"));
    /* a byte flipped anywhere: the checksum */
    CHECK_EQ_INT(ol_sched_state_save(a, blob, len), 0);
    blob[len / 2] ^= 4;
    CHECK(load_refused_unchanged(b, blob, len, "checksum"));
    /* another composition's state */
    ol_sched *c;
    CHECK_EQ_INT(ol_sched_create(&c, "sequential:schedules=[exponential:gamma=0.5]/[cosine:t_max=3],milestones=3", 0, 1,
                                 &base), 0);
    size_t clen = ol_sched_state_size(c);
    unsigned char *cblob = malloc(clen);
    CHECK_EQ_INT(ol_sched_state_save(c, cblob, clen), 0);
    CHECK(load_refused_unchanged(b, cblob, clen, "bytes"));
    free(cblob);
    ol_sched_free(c);
    free(blob);
    ol_sched_free(a);
    ol_sched_free(b);
}

TEST(compose_optimizer_with_a_composed_schedule_resumes_bit_for_bit) {
    /* the library's kill-and-resume: adam with a sequential of a warm-up-like linear and a chain holding
     * a plateau, and cycled beta1, saved at every step and resumed in a new optimizer (a wrapper
     * optimizer, lookahead or sam, does not exist yet: the composed schedule alone) */
    const char *spec = "sequential:schedules=[onecycle:total_steps=6,cycle_momentum=1]/[chain:schedules=[cosine:t_max=20]/"
                       "[plateau:patience=1,factor=0.5]],milestones=6";
    enum { STEPS = 24 };
    double whole[STEPS][3];
    for (int k = -1; k < STEPS; k++) {   /* k = -1: the uninterrupted run */
        float x[3] = {1, -2, 0.5f}, g[3];
        ol_optim *a, *b = NULL;
        CHECK_EQ_INT(ol_optim_create(&a, "adam", 0.05), 0);
        CHECK_EQ_INT(ol_optim_add_group(a, x, g, 3, -1, -1), 0);
        CHECK_EQ_INT(ol_optim_set_schedule(a, spec, 2), 0);
        ol_optim *o = a;
        for (int t = 0; t < STEPS; t++) {
            if (t == k) {   /* save, and go on in a new optimizer loaded from it */
                size_t size = ol_optim_state_size(a);
                unsigned char *blob = malloc(size);
                CHECK_EQ_INT(ol_optim_state_save(a, blob, size), 0);
                CHECK_EQ_INT(ol_optim_create(&b, "adam", 0.05), 0);
                CHECK_EQ_INT(ol_optim_add_group(b, x, g, 3, -1, -1), 0);
                CHECK_EQ_INT(ol_optim_set_schedule(b, spec, 2), 0);
                CHECK_EQ_INT(ol_optim_state_load(b, blob, size), 0);
                free(blob);
                ol_optim_free(a);
                a = NULL;
                o = b;
            }
            for (int i = 0; i < 3; i++) g[i] = x[i] * (float)(i + 1);
            CHECK_EQ_INT(ol_optim_step(o), 0);
            CHECK_EQ_INT(ol_optim_report_metric(o, (double)(x[0] * x[0]) + 1), 0);
            for (int i = 0; i < 3; i++) {
                if (k < 0) whole[t][i] = x[i];
                else CHECK_MSG(whole[t][i] == x[i], "resumed at step %d: x%d differs at step %d", k, i, t + 1);
            }
        }
        ol_optim_free(a);
        ol_optim_free(b);
    }
}

/* ---- bad specs: exit 2 with what is wrong ---- */

static int refused(const char *spec, const char *needle) {
    ol_sched *s = NULL;
    double base = 0.1;
    int rc = ol_sched_create(&s, spec, 0, 1, &base);
    if (rc != OL_EARG || s || !strstr(ol_error(), needle)) {
        fprintf(stderr, "    %s: rc %d, '%s' (wanted '%s')\n", spec, rc, ol_error(), needle);
        ol_sched_free(s);
        return 0;
    }
    return 1;
}

TEST(compose_bad_specs_say_what_is_wrong) {
    CHECK(refused("sequential:schedules=[bogus]/[constant],milestones=2",
                  "sequential: schedule 1 of 2: unknown schedule 'bogus'; valid: constant,"));
    CHECK(refused("sequential:schedules=[constant]/[cosine],milestones=2", "schedule 2 of 2: schedule 'cosine' needs t_max"));
    CHECK(refused("sequential:schedules=[constant]/[constant]/[constant],milestones=5/5", "must be strictly increasing"));
    CHECK(refused("sequential:schedules=[constant]/[constant]/[constant],milestones=5/3", "must be strictly increasing"));
    CHECK(refused("sequential:schedules=[constant]/[constant]/[constant],milestones=5",
                  "3 schedules need 2 milestones (where each after the first starts), got 1"));
    CHECK(refused("sequential:schedules=[constant]/[constant],milestones=0", "each must be a step >= 1"));
    CHECK(refused("sequential:schedules=[constant]/[constant]", "needs milestones"));
    CHECK(refused("sequential:milestones=3", "needs schedules"));
    CHECK(refused("sequential:schedules=[constant]/[],milestones=2", "schedule 2 is empty ('[]')"));
    CHECK(refused("chain:schedules=[exponential:gamma=0.9]", "chain needs at least 2 schedules, got 1"));
    CHECK(refused("chain:schedules=exponential:gamma=0.9/step:step_size=2", "expected [SPEC]/[SPEC]/..."));
    CHECK(refused("chain:schedules=[exponential:gamma=0.9]step", "expected [SPEC]/[SPEC]/..."));
    CHECK(refused("chain:schedules=[exponential:gamma=0.9/[step:step_size=2]", "a '[' is never closed"));
    CHECK(refused("chain:schedules=[exponential:gamma=0.9]]/[step:step_size=2]", "a ']' closes nothing"));
    CHECK(refused("chain:schedules=[exponential:gamma=0.9]/[step:step_size=2],milestones=3",
                  "unknown key 'milestones' for 'chain'; valid keys: schedules"));
    CHECK(refused("chain:schedules=[exponential:gamma=0.9]/[cyclic:max_lr=1]",
                  "chain: schedule 2 (cyclic:max_lr=1) sets the lr from the base lr"));
    CHECK(refused("chain:schedules=[exponential:gamma=0.9]/[sequential:schedules=[constant]/[constant],milestones=1]",
                  "sets the lr from the base lr"));
    /* four compositions inside one another: the innermost is one too many */
    CHECK(refused("chain:schedules=[chain:schedules=[chain:schedules=[chain:schedules=[constant]/[constant]]/[constant]]/"
                  "[constant]]/[constant]",
                  "sequential and chain nest 3 deep at most"));
    CHECK(refused("constant-factor:factor=0", "constant-factor: factor must be in (0, 1], got 0"));
    CHECK(refused("multiplicative", "schedule 'multiplicative' needs factor"));
    CHECK(refused("multiplicative:factor=-1", "multiplicative: factor must be >= 0"));
    CHECK(refused("onecycle:total_steps=9,base_momentum=0.8", "base_momentum is used only with cycle_momentum=1"));
    CHECK(refused("cyclic:max_lr=1,cycle_momentum=1,max_momentum=1", "max_momentum must be in (0, 1)"));
    CHECK(refused("cyclic:max_lr=1,cycle_momentum=2", "cycle_momentum: 2 is out of range [0, 1]"));
    /* three deep is fine */
    ol_sched *s;
    double base = 1;
    CHECK_EQ_INT(ol_sched_create(&s, "chain:schedules=[chain:schedules=[chain:schedules=[constant]/[constant]]/[constant]]/"
                                     "[constant]", 0, 1, &base), 0);
    ol_sched_free(s);
}

TEST(compose_max_steps_finds_a_onecycle_inside) {
    ol_sched *s;
    double base = 1;
    /* onecycle from step 4 of the sequential, 10 steps: 14, plus 2 warm-up */
    CHECK_EQ_INT(ol_sched_create(&s, "sequential:schedules=[constant]/[onecycle:total_steps=10],milestones=4", 2, 1, &base), 0);
    CHECK_EQ_INT(ol_sched_max_steps(s), 16);
    for (int t = 0; t < 16; t++) CHECK_EQ_INT(ol_sched_step(s), 0);
    CHECK_EQ_INT(ol_sched_step(s), OL_ESTATE);
    CHECK_MSG(strstr(ol_error(), "step 17: the onecycle schedule has total_steps=10 (counted from its start in the "
                                 "composition)"), "%s", ol_error());
    ol_sched_free(s);
    /* a onecycle that a milestone ends before its end is no limit */
    CHECK_EQ_INT(ol_sched_create(&s, "sequential:schedules=[onecycle:total_steps=10]/[constant],milestones=11", 0, 1, &base), 0);
    CHECK(ol_sched_max_steps(s) == LONG_MAX);
    for (int t = 0; t < 30; t++) CHECK_EQ_INT(ol_sched_step(s), 0);
    ol_sched_free(s);
    CHECK_EQ_INT(ol_sched_create(&s, "sequential:schedules=[onecycle:total_steps=10]/[constant],milestones=12", 0, 1, &base), 0);
    CHECK_EQ_INT(ol_sched_max_steps(s), 10);
    ol_sched_free(s);
    CHECK_EQ_INT(ol_sched_create(&s, "sequential:schedules=[constant]/[sequential:schedules=[constant]/"
                                     "[onecycle:total_steps=5],milestones=3],milestones=4", 0, 1, &base), 0);
    CHECK_EQ_INT(ol_sched_max_steps(s), 12);
    ol_sched_free(s);
}

/* ---- the spec through the command line, sweep grids and checkpoints ---- */

static char out[1 << 15];
#define sh(...) ol_test_sh(out, sizeof out, __VA_ARGS__)

TEST(compose_optimize_sequential_with_plateau_hand_worked) {
    /* gd on x^2/2 from x = 1, base lr 2: linear 0.25 -> 1 in 2 steps gives the lrs 0.5, 1.25, 2; at
     * step 3 plateau (patience 1, factor 0.5) starts from the 2 it finds. x: 0.5, -0.125, 0.125, then
     * with lr 2 it flips between -0.125 and 0.125, f stays 0.0078125: best after step 3, bad after 4
     * and 5 -> lr 1 after 5; step 6 lands on 0 (f 0, best), 7 and 8 are bad -> 0.5 after 8. Rows:
     * step, the lr of the next step, f, x. torch refuses a plateau in SequentialLR. */
    const char *want =
        "step,lr,f,x0\n"
        "0,0.5,0.5,1\n"
        "1,1.25,0.125,0.5\n"
        "2,2,0.0078125,-0.125\n"
        "3,2,0.0078125,0.125\n"
        "4,2,0.0078125,-0.125\n"
        "5,1,0.0078125,0.125\n"
        "6,1,0,0\n"
        "7,1,0,0\n"
        "8,0.5,0,0\n";
    const char *trace = ol_test_path("plateau-trace.csv");
    int rc = sh("%s optimize --fn quadratic --x0 1 --opt gd --lr 2 --steps 8 --quiet --trace %s --schedule "
                "'sequential:schedules=[linear:start_factor=0.25,total_iters=2]/[plateau:factor=0.5,patience=1],milestones=3'"
                " && cat %s", ol_test_bin(), trace, trace);
    CHECK_MSG(rc == 0, "%s", out);
    const char *csv = strstr(out, "step,lr");
    CHECK_MSG(csv && !strcmp(csv, want), "trace:\n%s", out);
}

static const char *compose_data(void) {
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/compose-data", ol_test_tmpdir());
        if (fixture_make_dataset(dir, 60, 30, 4, 3, 7, 0)) fprintf(stderr, "cannot make %s\n", dir);
    }
    return dir;
}

TEST(compose_train_follows_a_composed_schedule) {
    /* 60 examples, batch 10: 6 steps an epoch. constant-factor 0.5 for the first epoch, then from step 6
     * exponential 0.5 from the base 0.1: the log's lr (the next step's) is 0.1 after epoch 1 and
     * 0.1 x 0.5^6 = 0.0015625 after epoch 2 */
    const char *log = ol_test_path("compose-train.csv");
    int rc = sh("%s train --data %s --model mlp:16-8-3 --epochs 2 --batch 10 --threads 1 --quiet --lr 0.1 --log %s "
                "--schedule 'sequential:schedules=[constant-factor:factor=0.5,total_iters=100]/[exponential:gamma=0.5],"
                "milestones=6' && cut -d, -f1-3 %s",
                ol_test_bin(), compose_data(), log, log);
    CHECK_MSG(rc == 0, "%s", out);
    CHECK_MSG(strstr(out, "1,6,0.1\n2,12,0.0015625\n"), "%s", out);
    /* a onecycle inside a sequential that ends before the run: refused before the first step, with
     * how much longer its own total_steps must be (it starts at step 2 of 6) */
    rc = sh("%s train --data %s --model mlp:16-8-3 --epochs 1 --batch 10 --threads 1 --quiet "
            "--schedule 'sequential:schedules=[constant]/[onecycle:total_steps=2],milestones=2'", ol_test_bin(), compose_data());
    CHECK_MSG(rc == 2 && strstr(out, "the schedule can take 4 steps but this run plans 6 (1 epoch of 6 batches); raise its "
                                     "onecycle's total_steps by 2"), "%d: %s", rc, out);
    /* a momentum schedule on sgd without momentum is a usage error before any work */
    rc = sh("%s train --data %s --model mlp:16-8-3 --epochs 1 --batch 10 --threads 1 --quiet --opt sgd "
            "--schedule onecycle:total_steps=6,cycle_momentum=1", ol_test_bin(), compose_data());
    CHECK_MSG(rc == 2 && strstr(out, "cycle_momentum=1 cycles the momentum, but this sgd has none"), "%d: %s", rc, out);
}

TEST(compose_sweep_grid_takes_nested_specs_as_single_values) {
    ol_sweep_grid g;
    const char *grid = "schedule=sequential:schedules=[linear:start_factor=0.5,total_iters=2]/[cosine:t_max=9],milestones=2/"
                       "chain:schedules=[step:step_size=3,gamma=0.5]/[exponential:gamma=0.9]/constant,lr=0.1/0.2";
    CHECK_MSG(ol_sweep_grid_parse(&g, grid) == 0, "%s", ol_error());
    CHECK_EQ_INT(g.n_params, 2);
    CHECK_EQ_INT(g.n_values[0], 3);
    CHECK(!strcmp(g.value[0][0], "sequential:schedules=[linear:start_factor=0.5,total_iters=2]/[cosine:t_max=9],milestones=2"));
    CHECK(!strcmp(g.value[0][1], "chain:schedules=[step:step_size=3,gamma=0.5]/[exponential:gamma=0.9]"));
    CHECK(!strcmp(g.value[0][2], "constant"));
    CHECK_EQ_INT(g.n_values[1], 2);
    /* a bad nested spec is named with the grid parameter */
    CHECK_EQ_INT(ol_sweep_grid_parse(&g, "schedule=chain:schedules=[bogus]/[constant]"), OL_EARG);
    CHECK_MSG(strstr(ol_error(), "--grid schedule: 'chain:schedules=[bogus]/[constant]': chain: schedule 1 of 2: unknown "
                                 "schedule 'bogus'"), "%s", ol_error());
}

TEST(compose_sweep_runs_trials_with_nested_specs) {
    const char *dir = ol_test_path("compose-sweep");
    int rc = sh("%s sweep --grid 'schedule=chain:schedules=[step:step_size=3,gamma=0.5]/[exponential:gamma=0.9]/"
                "sequential:schedules=[constant]/[plateau:patience=0],milestones=3' --out %s --data %s --model mlp:16-8-3 "
                "--epochs 2 --quiet && cat %s/results.csv",
                ol_test_bin(), dir, compose_data(), dir);
    CHECK_MSG(rc == 0, "%s", out);
    CHECK_MSG(strstr(out, "2 trials (2 ok"), "%s", out);
    /* the specs, commas and all, are one quoted field each */
    CHECK_MSG(strstr(out, "\"chain:schedules=[step:step_size=3,gamma=0.5]/[exponential:gamma=0.9]\""), "%s", out);
    CHECK_MSG(strstr(out, "sequential:schedules=[constant]/[plateau:patience=0],milestones=3"), "%s", out);
}

TEST(compose_help_lists_every_schedule_and_the_nesting) {
    for (int i = 0; i < 3; i++) {
        const char *cmd = i == 0 ? "train" : i == 1 ? "optimize" : "sweep";
        int rc = sh("%s %s --help", ol_test_bin(), cmd);
        CHECK_EQ_INT(rc, 0);
        CHECK_MSG(strstr(out, "sequential:schedules=[A]/[B]/...,milestones=m1/m2/...") &&
                  strstr(out, "chain:schedules=[A]/[B]/...") && strstr(out, "constant-factor:factor=1/3,total_iters=5") &&
                  strstr(out, "multiplicative:factor") && strstr(out, "cycle_momentum=0,base_momentum=0.85") &&
                  strstr(out, "quote\n  the whole spec for the shell"),
                  "optlab %s --help: %s", cmd, out);
    }
}
