/* test_schedule.c: learning-rate schedules and warm-up as a specification. Each schedule's lr is
 * checked step by step against values worked out from torch's definition (in the comment beside
 * each test); lrs[t] is the lr the step after t optimizer steps uses. */
#include "test.h"

#include "optlab/common.h"
#include "optlab/optim.h"

#include <stdlib.h>
#include <string.h>

#define TOL 1e-12

/* Checks the first n lrs of spec (one group, base lr `base`) against want[]. */
static int lrs_match(const char *spec, long warmup, double base, const double *want, int n) {
    ol_sched *s;
    if (ol_sched_create(&s, spec, warmup, 1, &base)) {
        fprintf(stderr, "    %s: %s\n", spec, ol_error());
        return 0;
    }
    int ok = 1;
    for (int t = 0; t < n && ok; t++) {
        double lr = ol_sched_lr(s, 0);
        if (!(fabs(lr - want[t]) <= TOL * fmax(1, fabs(want[t])))) {
            fprintf(stderr, "    %s: lr after %d steps = %.17g, expected %.17g\n", spec, t, lr, want[t]);
            ok = 0;
        }
        if (ok && t + 1 < n && ol_sched_step(s)) {
            fprintf(stderr, "    %s: step %d: %s\n", spec, t + 1, ol_error());
            ok = 0;
        }
    }
    ol_sched_free(s);
    return ok;
}

#define LRS(spec, warmup, base, ...)                                              \
    do {                                                                          \
        const double want_[] = {__VA_ARGS__};                                     \
        CHECK(lrs_match(spec, warmup, base, want_, (int)(sizeof want_ / sizeof *want_))); \
    } while (0)

TEST(sched_constant_keeps_the_base_lr) { LRS("constant", 0, 0.1, 0.1, 0.1, 0.1, 0.1); }

TEST(sched_step_multiplies_by_gamma_every_step_size_steps) {
    /* step_size 3, gamma 0.5: base * 0.5^floor(t/3) */
    LRS("step:step_size=3,gamma=0.5", 0, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25);
}

TEST(sched_step_gamma_defaults_to_0_1) { LRS("step:step_size=1", 0, 1, 1, 0.1, 0.01, 0.001); }

TEST(sched_multistep_multiplies_at_each_milestone) {
    /* milestones 2, 5: 1 until t = 2, 0.1 until t = 5, then 0.01 */
    LRS("multistep:milestones=2/5", 0, 1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01);
}

TEST(sched_multistep_repeated_milestone_counts_twice) {
    /* torch keeps milestones in a Counter: 2/2 multiplies by gamma^2 at t = 2 */
    LRS("multistep:milestones=2/2,gamma=0.5", 0, 1, 1, 1, 0.25, 0.25);
}

TEST(sched_exponential_multiplies_every_step) { LRS("exponential:gamma=0.5", 0, 2, 2, 1, 0.5, 0.25); }

TEST(sched_cosine_follows_half_cosine_and_rises_after_t_max) {
    /* t_max 4: (1 + cos(pi t/4))/2 = 1, .85355339059327, .5, .14644660940673, 0 (eta_min at t_max),
     * then back up as torch's recursion does: .14644660940673, .5, .85355339059327, 1 at 2 t_max */
    LRS("cosine:t_max=4", 0, 1, 1, 0.8535533905932737, 0.5, 0.14644660940672627, 0, 0.14644660940672616, 0.5,
        0.8535533905932737, 1.0);
}

TEST(sched_cosine_reaches_eta_min_at_t_max) {
    /* eta_min 0.1, base 1: eta_min + 0.9 (1 + cos(pi t/2))/2 = 1, 0.55, 0.1 */
    LRS("cosine:t_max=2,eta_min=0.1", 0, 1, 1, 0.55, 0.1, 0.55, 1);
}

TEST(sched_cosine_restarts_with_growing_periods) {
    /* t_0 2, t_mult 2: periods 2, 4, 8; lr = (1 + cos(pi T_cur/T_i))/2:
     * t0 T_cur 0/2 -> 1; t1 1/2 -> .5; t2 restart 0/4 -> 1; t3 1/4 -> .85355339059327; t4 2/4 -> .5;
     * t5 3/4 -> .14644660940673; t6 restart 0/8 -> 1; t7 1/8 -> .96193976625564 */
    LRS("cosine-restarts:t_0=2,t_mult=2", 0, 1, 1, 0.5, 1, 0.8535533905932737, 0.5, 0.14644660940672627, 1,
        0.9619397662556434);
}

TEST(sched_cosine_restarts_with_fixed_period_and_eta_min) {
    /* t_0 2, eta_min 0.5: 1, 0.75, 1, 0.75 */
    LRS("cosine-restarts:t_0=2,eta_min=0.5", 0, 1, 1, 0.75, 1, 0.75);
}

TEST(sched_cyclic_triangular_starts_at_base_lr) {
    /* base 0.1, max 1, up 2 (= down): 0.1, 0.55, 1, 0.55, 0.1, 0.55; the group's own lr (5) is replaced */
    LRS("cyclic:base_lr=0.1,max_lr=1,step_size_up=2", 0, 5, 0.1, 0.55, 1, 0.55, 0.1, 0.55);
}

TEST(sched_cyclic_triangular2_halves_the_amplitude_each_cycle) {
    /* cycle 2 has amplitude 0.45: t5 = 0.1 + 0.45/2 = 0.325, t6 = 0.1 + 0.9/2 = 0.55 */
    LRS("cyclic:base_lr=0.1,max_lr=1,step_size_up=2,mode=triangular2", 0, 1, 0.1, 0.55, 1, 0.55, 0.1, 0.325, 0.55);
}

TEST(sched_cyclic_exp_range_scales_by_gamma_per_iteration) {
    /* height * 0.5^t: t1 0.1 + 0.45*0.5 = 0.325, t2 0.1 + 0.9*0.25 = 0.325, t3 0.1 + 0.45*0.125 = 0.15625 */
    LRS("cyclic:base_lr=0.1,max_lr=1,step_size_up=2,mode=exp_range,gamma=0.5", 0, 1, 0.1, 0.325, 0.325, 0.15625);
}

TEST(sched_cyclic_asymmetric_cycle) {
    /* up 1, down 3, cycle 4: x = t/4; t2: x = .5 > 1/4: scale = (.5-1)/(.25-1) = 2/3 -> 0.7; t3 -> 0.4 */
    LRS("cyclic:base_lr=0.1,max_lr=1,step_size_up=1,step_size_down=3", 0, 1, 0.1, 1, 0.7, 0.4, 0.1);
}

TEST(sched_cyclic_base_lr_defaults_to_group_lr) { LRS("cyclic:max_lr=1,step_size_up=2", 0, 0.2, 0.2, 0.6, 1); }

TEST(sched_onecycle_cos_warms_up_then_anneals_to_min) {
    /* max 1, total 10, pct 0.3: initial 1/25 = 0.04, min 0.04/1e4 = 4e-6, phase ends at steps 2 and 9.
     * t1: pct 1/2: 1 + (0.04 - 1)/2 (cos(pi/2) + 1) = 0.52; t2: 1;
     * t3: pct 1/7: 4e-6 + (1 - 4e-6)/2 (cos(pi/7) + 1) = 0.95048463201347; t9: min; t10: pct 8/7 */
    LRS("onecycle:max_lr=1,total_steps=10", 0, 7, 0.04, 0.52, 1, 0.9504846320134737);
    ol_sched *s;
    double base = 7;
    CHECK_EQ_INT(ol_sched_create(&s, "onecycle:max_lr=1,total_steps=10", 0, 1, &base), 0);
    for (int t = 0; t < 9; t++) CHECK_EQ_INT(ol_sched_step(s), 0);
    CHECK_NEAR(ol_sched_lr(s, 0), 4e-6, TOL);
    CHECK_EQ_INT(ol_sched_step(s), 0);
    CHECK_NEAR(ol_sched_lr(s, 0), 0.04951936798652623, TOL);
    ol_sched_free(s);
}

TEST(sched_onecycle_linear_anneal) {
    /* t1: 0.04 + 0.96/2 = 0.52; t3: 1 + (4e-6 - 1)/7 = 0.85714342857143 */
    LRS("onecycle:max_lr=1,total_steps=10,anneal=linear", 0, 1, 0.04, 0.52, 1, 0.8571434285714286);
}

TEST(sched_onecycle_max_lr_defaults_to_group_lr) { LRS("onecycle:total_steps=10", 0, 2.5, 0.1, 1.3, 2.5); }

TEST(sched_onecycle_past_total_steps_is_an_error) {
    ol_sched *s;
    double base = 1;
    CHECK_EQ_INT(ol_sched_create(&s, "onecycle:total_steps=3", 0, 1, &base), 0);
    for (int t = 0; t < 3; t++) CHECK_EQ_INT(ol_sched_step(s), 0);
    double lr = ol_sched_lr(s, 0);
    CHECK_EQ_INT(ol_sched_check_step(s), OL_ESTATE);
    CHECK_EQ_INT(ol_sched_step(s), OL_ESTATE);
    CHECK(strstr(ol_error(), "total_steps=3") != NULL);
    CHECK(ol_sched_lr(s, 0) == lr && ol_sched_steps(s) == 3);
    ol_sched_free(s);
}

TEST(sched_onecycle_exhausted_refuses_the_optimizer_step_unchanged) {
    double x[1] = {1}, g[1] = {1};
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "sgd:momentum=0.9", 0.1), 0);
    ol_optim_add_group_f64(o, x, g, 1, -1, -1);
    CHECK_EQ_INT(ol_optim_set_schedule(o, "onecycle:total_steps=4", 2), 0);
    for (int t = 0; t < 6; t++) CHECK_EQ_INT(ol_optim_step(o), 0);   /* 2 warm-up + 4 */
    double before = x[0];
    CHECK_EQ_INT(ol_optim_step(o), OL_ESTATE);
    CHECK(x[0] == before);
    CHECK_EQ_INT(ol_optim_step_count(o), 6);
    ol_optim_free(o);
}

TEST(sched_linear_interpolates_factor) {
    /* start 0.5, end 1, 4 iters: 0.5 + 0.5 min(t, 4)/4 */
    LRS("linear:start_factor=0.5,total_iters=4", 0, 1, 0.5, 0.625, 0.75, 0.875, 1, 1);
}

TEST(sched_linear_defaults_are_a_third_to_one_over_5) {
    LRS("linear", 0, 3, 1, 1 + 2.0 / 5, 1 + 4.0 / 5, 1 + 6.0 / 5, 1 + 8.0 / 5, 3, 3);
}

TEST(sched_poly_decays_to_zero_at_total_iters) {
    /* power 2, 4 iters: (1 - t/4)^2 = 1, .5625, .25, .0625, 0, 0 */
    LRS("poly:total_iters=4,power=2", 0, 1, 1, 0.5625, 0.25, 0.0625, 0, 0);
}

TEST(sched_inverse_alpha_defaults_to_c_times_base_lr) {
    /* alpha = c base: lr_0 = base; c = 1, base 0.5: 0.5/(1 + t) */
    LRS("inverse", 0, 0.5, 0.5, 0.25, 0.5 / 3, 0.125);
    /* c = 2, base 0.5: alpha 1, 1/(2 + t) */
    LRS("inverse:c=2", 0, 0.5, 0.5, 1.0 / 3, 0.25);
    /* explicit alpha: 3/(1 + t) whatever the base */
    LRS("inverse:alpha=3", 0, 0.5, 3, 1.5, 1);
}

TEST(sched_inverse_sqrt_divides_by_c_plus_root_t) {
    /* base 1, c 1: 1/(1 + sqrt t) */
    LRS("inverse-sqrt", 0, 1, 1, 0.5, 1 / (1 + sqrt(2.0)), 1 / (1 + sqrt(3.0)), 1.0 / 3);
}

TEST(sched_plateau_reduces_after_patience_bad_metrics) {
    /* factor 0.5, patience 2, threshold 0.1 (better means < best 0.9), cooldown 1, min_lr 0.1 (checked
     * against torch.optim.lr_scheduler.ReduceLROnPlateau):
     * 10 best; 9.5, 9.2 bad 1, 2; 9.1 bad 3 > 2 -> 0.5, cooldown 1; 9.0 cooldown; 8.95 best;
     * 8.9, 8.85 bad; 8.8 -> 0.25; 8.7 cooldown; 8.6, 8.5 bad; 8.4 -> 0.125; 8.3 cooldown; 8.2 bad;
     * 1.0 best; 1.0 1.0 bad; 1.0 -> max(0.0625, min_lr 0.1) = 0.1; later reductions are below eps */
    const double metric[] = {10, 9.5, 9.2, 9.1, 9.0, 8.95, 8.9, 8.85, 8.8, 8.7, 8.6, 8.5, 8.4, 8.3, 8.2,
                             1, 1, 1, 1, 1, 1, 1, 1, 1};
    const double want[] = {1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125,
                           0.125, 0.125, 0.125, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
    ol_sched *s;
    double base = 1;
    CHECK_EQ_INT(ol_sched_create(&s, "plateau:factor=0.5,patience=2,threshold=0.1,cooldown=1,min_lr=0.1", 0, 1,
                                 &base), 0);
    for (size_t i = 0; i < sizeof metric / sizeof *metric; i++) {
        CHECK_EQ_INT(ol_sched_step(s), 0);   /* steps do not change it */
        CHECK_EQ_INT(ol_sched_report_metric(s, metric[i]), 0);
        CHECK_MSG(ol_sched_lr(s, 0) == want[i], "after metric %zu: %g, expected %g", i, ol_sched_lr(s, 0), want[i]);
    }
    ol_sched_free(s);
}

TEST(sched_plateau_defaults_wait_ten_bad_epochs) {
    ol_sched *s;
    double base = 1;
    CHECK_EQ_INT(ol_sched_create(&s, "plateau", 0, 1, &base), 0);
    for (int i = 0; i < 11; i++) ol_sched_report_metric(s, 5);   /* 1 best + 10 bad: not yet */
    CHECK(ol_sched_lr(s, 0) == 1);
    ol_sched_report_metric(s, 5);
    CHECK_NEAR(ol_sched_lr(s, 0), 0.1, TOL);
    ol_sched_free(s);
}

TEST(sched_report_metric_is_a_noop_for_other_schedules) {
    ol_sched *s;
    double base = 1;
    CHECK_EQ_INT(ol_sched_create(&s, "exponential:gamma=0.5", 0, 1, &base), 0);
    for (int i = 0; i < 30; i++) CHECK_EQ_INT(ol_sched_report_metric(s, 5), 0);
    CHECK(ol_sched_lr(s, 0) == 1);
    ol_sched_free(s);
}

TEST(sched_warmup_ramps_linearly_to_the_schedule_start) {
    /* N = 4: lr_t = base (t+1)/4 for t < 4, then cosine t_max 4 from its step 0 */
    LRS("cosine:t_max=4", 4, 1, 0.25, 0.5, 0.75, 1, 1, 0.8535533905932737, 0.5, 0.14644660940672627, 0);
}

TEST(sched_warmup_ramps_to_the_schedules_own_initial_lr) {
    /* onecycle starts at max_lr/25 = 0.04: warm-up 0.02, 0.04, then 0.04, 0.52, 1 */
    LRS("onecycle:max_lr=1,total_steps=10", 2, 1, 0.02, 0.04, 0.04, 0.52, 1);
    /* linear starts at base * start_factor */
    LRS("linear:start_factor=0.5,total_iters=2", 2, 1, 0.25, 0.5, 0.5, 0.75, 1);
}

TEST(sched_warmup_alone_then_constant) { LRS("constant", 2, 0.1, 0.05, 0.1, 0.1, 0.1); }

TEST(sched_plateau_ignores_metrics_during_warmup) {
    ol_sched *s;
    double base = 1;
    CHECK_EQ_INT(ol_sched_create(&s, "plateau:patience=0", 3, 1, &base), 0);
    for (int i = 0; i < 3; i++) {
        ol_sched_report_metric(s, 10 + i);   /* would reduce with patience 0 */
        ol_sched_step(s);
    }
    CHECK(ol_sched_lr(s, 0) == 1);
    ol_sched_report_metric(s, 5);
    ol_sched_report_metric(s, 6);
    CHECK_NEAR(ol_sched_lr(s, 0), 0.1, TOL);
    ol_sched_free(s);
}

TEST(sched_chainable_schedules_continue_from_an_assigned_lr) {
    /* as assigning group['lr'] in torch: exponential continues from the new value */
    ol_sched *s;
    double base = 1;
    CHECK_EQ_INT(ol_sched_create(&s, "exponential:gamma=0.5", 0, 1, &base), 0);
    ol_sched_step(s);
    CHECK_EQ_INT(ol_sched_set_lr(s, 0, 4), 0);
    ol_sched_step(s);
    CHECK_NEAR(ol_sched_lr(s, 0), 2, TOL);
    CHECK_EQ_INT(ol_sched_set_lr(s, 0, -1), OL_EARG);
    CHECK_EQ_INT(ol_sched_set_lr(s, 1, 1), OL_EARG);
    ol_sched_free(s);
}

TEST(sched_each_group_scales_from_its_own_base_lr) {
    double x1[1] = {0}, g1[1] = {0}, x2[1] = {0}, g2[1] = {0};
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "sgd", 1.0), 0);
    CHECK_EQ_INT(ol_optim_set_schedule(o, "cosine:t_max=2", 0), 0);   /* before the groups: fine */
    ol_optim_add_group_f64(o, x1, g1, 1, -1, -1);
    ol_optim_add_group_f64(o, x2, g2, 1, 0.1, -1);
    CHECK(ol_optim_get_lr(o, 0) == 1 && ol_optim_get_lr(o, 1) == 0.1);
    ol_optim_step(o);
    CHECK_NEAR(ol_optim_get_lr(o, 0), 0.5, TOL);
    CHECK_NEAR(ol_optim_get_lr(o, 1), 0.05, TOL);
    CHECK(isnan(ol_optim_get_lr(o, 2)));
    ol_optim_free(o);
}

TEST(sched_optimizer_step_uses_the_lr_then_advances_it) {
    /* gd, g = 1, step:step_size=1,gamma=0.5 from lr 1: x moves -1, -0.5, -0.25 */
    double x[1] = {0}, g[1] = {1};
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "gd", 1.0), 0);
    ol_optim_add_group_f64(o, x, g, 1, -1, -1);
    ol_optim_set_schedule(o, "step:step_size=1,gamma=0.5", 0);
    ol_optim_step(o);
    CHECK_NEAR(x[0], -1, TOL);
    ol_optim_step(o);
    CHECK_NEAR(x[0], -1.5, TOL);
    ol_optim_step(o);
    CHECK_NEAR(x[0], -1.75, TOL);
    CHECK_NEAR(ol_optim_get_lr(o, 0), 0.125, TOL);
    CHECK_EQ_INT(ol_optim_set_lr(o, -1, 2), 0);
    CHECK(ol_optim_get_lr(o, 0) == 2);
    ol_optim_free(o);
}

TEST(sched_plateau_through_the_optimizer) {
    double x[1] = {0}, g[1] = {0};
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "adam", 0.01), 0);
    ol_optim_add_group_f64(o, x, g, 1, -1, -1);
    ol_optim_set_schedule(o, "plateau:patience=1,factor=0.5", 0);
    ol_optim_report_metric(o, 1);
    ol_optim_report_metric(o, 1);
    CHECK(ol_optim_get_lr(o, 0) == 0.01);
    ol_optim_report_metric(o, 1);
    CHECK_NEAR(ol_optim_get_lr(o, 0), 0.005, TOL);
    ol_optim_free(o);
}

TEST(sched_state_round_trip_keeps_plateau_counters) {
    ol_sched *a, *b;
    double base = 1;
    const char *spec = "plateau:patience=3,factor=0.5,cooldown=2";
    CHECK_EQ_INT(ol_sched_create(&a, spec, 1, 1, &base), 0);
    CHECK_EQ_INT(ol_sched_create(&b, spec, 1, 1, &base), 0);
    ol_sched_step(a);
    const double m[] = {5, 6, 6, 6, 6, 6, 4, 7, 7, 7, 7, 7, 7};
    for (int i = 0; i < 6; i++) ol_sched_report_metric(a, m[i]);
    size_t size = ol_sched_state_size(a);
    unsigned char *blob = malloc(size);
    CHECK_EQ_INT(ol_sched_state_save(a, blob, size), 0);
    CHECK_EQ_INT(ol_sched_state_load(b, blob, size), 0);
    for (int i = 6; i < 13; i++) {
        ol_sched_report_metric(a, m[i]);
        ol_sched_report_metric(b, m[i]);
        CHECK(ol_sched_lr(a, 0) == ol_sched_lr(b, 0));
    }
    CHECK(ol_sched_lr(a, 0) < 0.5);
    blob[20] ^= 1;
    CHECK_EQ_INT(ol_sched_state_load(b, blob, size), OL_EFORMAT);
    free(blob);
    ol_sched_free(a);
    ol_sched_free(b);
}

/* ---- bold: the lecture's "decrease the rate if the loss varies wildly, otherwise increase it" ---- */

/* Feeds losses[] to spec's schedule (one group, base lr `base`, warm-up 0) and checks the lr after
 * each report against want[]; a step before each report, as the training loop does. */
static int bold_lrs_match(const char *spec, double base, const double *losses, const double *want, int n) {
    ol_sched *s;
    if (ol_sched_create(&s, spec, 0, 1, &base)) {
        fprintf(stderr, "    %s: %s\n", spec, ol_error());
        return 0;
    }
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        ok = ol_sched_step(s) == 0 && ol_sched_report_loss(s, losses[i]) == 0;
        double lr = ol_sched_lr(s, 0);
        if (ok && !(fabs(lr - want[i]) <= TOL * fmax(1, fabs(want[i])))) {
            fprintf(stderr, "    %s: lr after loss %d (%g) = %.17g, expected %.17g\n", spec, i, losses[i], lr, want[i]);
            ok = 0;
        }
    }
    ol_sched_free(s);
    return ok;
}

TEST(sched_bold_classic_doubles_on_a_fall_halves_on_a_rise) {
    /* up 2, down 0.5, window 1, tol 0, base 1, so max_lr = 10 x base = 10:
     * 5: first loss, nothing to compare with: 1 (reference 5)
     * 4 < 5: x2 -> 2;   6 > 4: x0.5 -> 1;   3 < 6: x2 -> 2;   3 = 3 is not a rise: x2 -> 4
     * inf: x0.5 at once -> 2 (the reference stays 3);   2 < 3: x2 -> 4;   1 < 2: x2 -> 8
     * 0.5 < 1: x2 -> 16, capped at max_lr 10;   0.7 > 0.5: x0.5 -> 5 */
    const double losses[] = {5, 4, 6, 3, 3, INFINITY, 2, 1, 0.5, 0.7};
    const double want[] = {1, 2, 1, 2, 4, 2, 4, 8, 10, 5};
    CHECK(bold_lrs_match("bold:up=2,down=0.5", 1, losses, want, 10));
}

TEST(sched_bold_defaults_are_up_1_05_down_0_5) {
    /* 3, 2 (fall): 1.05;  2.5 (rise): 0.525 */
    const double losses[] = {3, 2, 2.5};
    const double want[] = {1, 1.05, 0.525};
    CHECK(bold_lrs_match("bold", 1, losses, want, 3));
}

TEST(sched_bold_compares_window_means_with_a_tolerance) {
    /* window 2, tol 0.1, up 1.5, down 0.5, base 0.2, min_lr 0.05, max_lr 1:
     * window 1: 10, 8 -> mean 9: the first, no change: 0.2
     * window 2: 9.5, 10.2 -> 9.85; 9.85 - 9 = 0.85 <= 0.1 x 9: calm, x1.5 -> 0.3
     * window 3: 11, 12 -> 11.5; 11.5 - 9.85 = 1.65 > 0.985: a rise, x0.5 -> 0.15
     * window 4: 12, 12 -> 12; 0.5 <= 1.15: x1.5 -> 0.225
     * window 5: 20, 20 -> rise: 0.1125;  window 6: 30, 30 -> rise: 0.05625
     * window 7: 40, 40 -> rise: 0.028125, raised to min_lr 0.05
     * The lr changes only at the end of a window. */
    const double losses[] = {10, 8, 9.5, 10.2, 11, 12, 12, 12, 20, 20, 30, 30, 40, 40};
    const double want[] = {0.2, 0.2, 0.2, 0.3, 0.3, 0.15, 0.15, 0.225, 0.225, 0.1125, 0.1125, 0.05625, 0.05625, 0.05};
    CHECK(bold_lrs_match("bold:up=1.5,down=0.5,window=2,tol=0.1,min_lr=0.05,max_lr=1", 0.2, losses, want, 14));
}

TEST(sched_bold_ignores_losses_during_warmup) {
    ol_sched *s;
    double base = 1;
    CHECK_EQ_INT(ol_sched_create(&s, "bold:up=2", 2, 1, &base), 0);
    CHECK(ol_sched_lr(s, 0) == 0.5);               /* warm-up: base (t+1)/2 */
    CHECK_EQ_INT(ol_sched_report_loss(s, 100), 0);  /* ignored */
    ol_sched_step(s);
    CHECK_EQ_INT(ol_sched_report_loss(s, 1), 0);    /* ignored: would be a fall */
    CHECK(ol_sched_lr(s, 0) == 1);
    ol_sched_step(s);                               /* warm-up over: bold starts from scratch */
    ol_sched_report_loss(s, 5);
    CHECK(ol_sched_lr(s, 0) == 1);
    ol_sched_report_loss(s, 4);
    CHECK(ol_sched_lr(s, 0) == 2);
    ol_sched_free(s);
}

TEST(sched_report_loss_is_a_noop_for_other_schedules) {
    ol_sched *s;
    double base = 1;
    CHECK_EQ_INT(ol_sched_create(&s, "plateau:patience=0", 0, 1, &base), 0);
    for (int i = 0; i < 30; i++) CHECK_EQ_INT(ol_sched_report_loss(s, 5 + i), 0);
    CHECK(ol_sched_lr(s, 0) == 1);
    ol_sched_free(s);
}

TEST(sched_bold_through_the_optimizer) {
    /* g fixed at 1: the lr follows the reported losses only, and each step uses the lr before it */
    double x[1] = {0}, g[1] = {1};
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "gd", 0.1), 0);
    ol_optim_add_group_f64(o, x, g, 1, -1, -1);
    CHECK_EQ_INT(ol_optim_set_schedule(o, "bold:up=1.5,down=0.5", 0), 0);
    const double losses[] = {3, 2, 4};
    const double want[] = {0.1, 0.15, 0.075};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(ol_optim_step(o), 0);
        CHECK_EQ_INT(ol_optim_report_loss(o, losses[i]), 0);
        CHECK_NEAR(ol_optim_get_lr(o, 0), want[i], TOL);
    }
    /* x moved by -0.1 (step 1), -0.1 (step 2, lr still 0.1 then), -0.15 (step 3) */
    CHECK_NEAR(x[0], -0.35, TOL);
    ol_optim_free(o);
}

TEST(sched_state_round_trip_keeps_bold_window_and_reference) {
    ol_sched *a, *b;
    double base = 1;
    const char *spec = "bold:up=1.25,down=0.5,window=3";
    CHECK_EQ_INT(ol_sched_create(&a, spec, 0, 1, &base), 0);
    CHECK_EQ_INT(ol_sched_create(&b, spec, 0, 1, &base), 0);
    /* saved mid-window: two windows done (reference 5), two losses of the third summed */
    const double l[] = {6, 6, 6, 5, 5, 5, 4, 9, 2, 1, 1, 1, 7, 7, 7};
    for (int i = 0; i < 8; i++) ol_sched_step(a), ol_sched_report_loss(a, l[i]);
    size_t size = ol_sched_state_size(a);
    unsigned char *blob = malloc(size);
    CHECK_EQ_INT(ol_sched_state_save(a, blob, size), 0);
    CHECK_EQ_INT(ol_sched_state_load(b, blob, size), 0);
    CHECK(ol_sched_lr(b, 0) == 1.25 && ol_sched_steps(b) == 8);
    for (int i = 8; i < 15; i++) {
        ol_sched_step(a), ol_sched_report_loss(a, l[i]);
        ol_sched_step(b), ol_sched_report_loss(b, l[i]);
        CHECK(ol_sched_lr(a, 0) == ol_sched_lr(b, 0));
    }
    /* window 3 (4, 9, 2: mean 5 = 5) calm -> 1.5625; window 4 (mean 1) -> 1.953125; window 5 (7) -> half */
    CHECK_NEAR(ol_sched_lr(b, 0), 0.9765625, TOL);
    /* a state from another schedule kind is refused; a corrupt one too */
    ol_sched *c;
    CHECK_EQ_INT(ol_sched_create(&c, "plateau", 0, 1, &base), 0);
    CHECK_EQ_INT(ol_sched_state_load(c, blob, size), OL_EFORMAT);
    ol_sched_free(c);
    blob[90] ^= 1;
    CHECK_EQ_INT(ol_sched_state_load(b, blob, size), OL_EFORMAT);
    free(blob);
    ol_sched_free(a);
    ol_sched_free(b);
}

/* ---- invalid schedules: one each ---- */

static int sched_fails(const char *spec, long warmup, const char *needle) {
    ol_sched *s = NULL;
    double base = 0.1;
    int rc = ol_sched_create(&s, spec, warmup, 1, &base);
    if (rc != OL_EARG || s) { ol_sched_free(s); return 0; }
    if (needle && !strstr(ol_error(), needle)) {
        fprintf(stderr, "    message '%s' lacks '%s'\n", ol_error(), needle);
        return 0;
    }
    return 1;
}

TEST(sched_invalid_unknown_name_lists_valid_ones) { CHECK(sched_fails("cosin:t_max=3", 0, "cosine-restarts")); }
TEST(sched_invalid_missing_required_key_says_which) { CHECK(sched_fails("cosine", 0, "t_max")); }
TEST(sched_invalid_unknown_key_is_rejected) { CHECK(sched_fails("step:step_size=2,gama=0.5", 0, "gama")); }
TEST(sched_invalid_decreasing_milestones_are_rejected) { CHECK(sched_fails("multistep:milestones=5/2", 0, "increasing")); }
TEST(sched_invalid_malformed_milestones_are_rejected) { CHECK(sched_fails("multistep:milestones=5/x", 0, "milestones")); }
TEST(sched_invalid_zero_t_max_is_rejected) { CHECK(sched_fails("cosine:t_max=0", 0, "t_max")); }
TEST(sched_invalid_t_mult_below_one_is_rejected) { CHECK(sched_fails("cosine-restarts:t_0=2,t_mult=0", 0, "t_mult")); }
TEST(sched_invalid_plateau_factor_of_one_is_rejected) { CHECK(sched_fails("plateau:factor=1", 0, "factor")); }
TEST(sched_invalid_cyclic_mode_is_rejected) { CHECK(sched_fails("cyclic:max_lr=1,mode=sine", 0, "triangular2")); }
TEST(sched_invalid_cyclic_without_max_lr_is_rejected) { CHECK(sched_fails("cyclic:base_lr=0.1", 0, "max_lr")); }
TEST(sched_invalid_onecycle_anneal_is_rejected) { CHECK(sched_fails("onecycle:total_steps=5,anneal=exp", 0, "anneal")); }
TEST(sched_invalid_onecycle_pct_start_dividing_by_zero_is_rejected) {
    CHECK(sched_fails("onecycle:total_steps=10,pct_start=0.1", 0, "pct_start"));
}
TEST(sched_invalid_linear_start_factor_zero_is_rejected) { CHECK(sched_fails("linear:start_factor=0", 0, "start_factor")); }
TEST(sched_invalid_inverse_c_zero_is_rejected) { CHECK(sched_fails("inverse:c=0", 0, "c must be")); }
TEST(sched_invalid_negative_warmup_is_rejected) { CHECK(sched_fails("constant", -1, "warm-up")); }
TEST(sched_invalid_negative_gamma_is_rejected) { CHECK(sched_fails("exponential:gamma=-0.5", 0, "gamma")); }
TEST(sched_invalid_bold_up_below_one_is_rejected) { CHECK(sched_fails("bold:up=0.9", 0, "up must be")); }
TEST(sched_invalid_bold_down_zero_is_rejected) { CHECK(sched_fails("bold:down=0", 0, "down must be")); }
TEST(sched_invalid_bold_window_zero_is_rejected) { CHECK(sched_fails("bold:window=0", 0, "window")); }
TEST(sched_invalid_bold_min_above_max_is_rejected) { CHECK(sched_fails("bold:min_lr=2,max_lr=1", 0, "must not exceed")); }

TEST(sched_invalid_spec_leaves_the_optimizer_schedule_alone) {
    double x[1] = {0}, g[1] = {0};
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "gd", 1.0), 0);
    ol_optim_add_group_f64(o, x, g, 1, -1, -1);
    CHECK_EQ_INT(ol_optim_set_schedule(o, "exponential:gamma=0.5", 0), 0);
    CHECK_EQ_INT(ol_optim_set_schedule(o, "exponential", 0), OL_EARG);
    ol_optim_step(o);
    CHECK_NEAR(ol_optim_get_lr(o, 0), 0.5, TOL);
    ol_optim_free(o);
}
