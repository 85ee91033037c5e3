/* test_optim.c: the optimizers as a specification. Each update rule is checked for its first
 * steps on a tiny vector against values worked out from the formula (derivation beside the test),
 * then clipping, validation, state save/load and random search. Schedules: test_schedule.c. */
#include "fixtures.h"
#include "test.h"

#include "optlab/common.h"
#include "optlab/optim.h"

#include <stdlib.h>
#include <string.h>

#define TOL 1e-12


/* ---- gd, sgd, heavy ball ---- */

TEST(gd_step_is_x_minus_lr_g) {
    /* x = (1, -2), g = (0.5, 1), lr 0.1: x1 = (0.95, -2.1), x2 = (0.9, -2.2) */
    double x[2] = {1, -2}, g[2] = {0.5, 1};
    ol_optim *o = fixture_optim_f64("gd", 0.1, x, g, 2);
    CHECK(o);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_NEAR(x[0], 0.95, TOL);
    CHECK_NEAR(x[1], -2.1, TOL);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_NEAR(x[0], 0.9, TOL);
    CHECK_NEAR(x[1], -2.2, TOL);
    CHECK_EQ_INT(ol_optim_step_count(o), 2);
    ol_optim_free(o);
}

TEST(sgd_first_step_sets_momentum_buffer_to_gradient) {
    /* mu 0.9, dampening 0.5, lr 0.1, g = 1 always.
     * t1: b = g = 1 (torch clones g; no dampening on the first step), x = 1 - 0.1 = 0.9
     * t2: b = 0.9*1 + 0.5*1 = 1.4, x = 0.9 - 0.14 = 0.76
     * t3: b = 0.9*1.4 + 0.5 = 1.76, x = 0.76 - 0.176 = 0.584 */
    double x[1] = {1}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("sgd:momentum=0.9,dampening=0.5", 0.1, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.9, TOL);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.76, TOL);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.584, TOL);
    ol_optim_free(o);
}

TEST(sgd_nesterov_steps_along_g_plus_mu_b) {
    /* f = x^2/2 (g = x), mu 0.9, lr 0.1, x0 = 1.
     * t1: g = 1, b = 1, d = g + 0.9 b = 1.9, x = 1 - 0.19 = 0.81
     * t2: g = 0.81, b = 0.9 + 0.81 = 1.71, d = 0.81 + 1.539 = 2.349, x = 0.81 - 0.2349 = 0.5751 */
    double x[1] = {1}, g[1];
    ol_optim *o = fixture_optim_f64("sgd:momentum=0.9,nesterov=1", 0.1, x, g, 1);
    CHECK(o);
    g[0] = x[0];
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.81, TOL);
    g[0] = x[0];
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.5751, TOL);
    ol_optim_free(o);
}

TEST(sgd_weight_decay_adds_wd_times_x_to_gradient) {
    /* wd 0.1, x = 2, g = 1: g' = 1 + 0.2 = 1.2, x = 2 - 0.1*1.2 = 1.88 */
    double x[1] = {2}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("sgd:weight_decay=0.1", 0.1, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 1.88, TOL);
    ol_optim_free(o);
}

TEST(sgd_group_weight_decay_and_lr_override_the_optimizer_defaults) {
    /* group 2 has lr 1 and wd 0.5: x = 2, g = 1 -> g' = 2, x = 2 - 2 = 0; group 1 uses lr 0.1 */
    double x1[1] = {2}, g1[1] = {1}, x2[1] = {2}, g2[1] = {1};
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "sgd", 0.1), 0);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, x1, g1, 1, -1, -1), 0);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, x2, g2, 1, 1.0, 0.5), 0);
    CHECK_EQ_INT(ol_optim_n_groups(o), 2);
    ol_optim_step(o);
    CHECK_NEAR(x1[0], 1.9, TOL);
    CHECK_NEAR(x2[0], 0.0, TOL);
    ol_optim_free(o);
}

TEST(heavyball_adds_beta_times_last_move) {
    /* f = x^2/2, beta 0.5, lr 0.1, x0 = 1, w_prev = w at the start.
     * t1: x = 1 - 0.1 + 0.5 (1 - 1) = 0.9
     * t2: x = 0.9 - 0.09 + 0.5 (0.9 - 1) = 0.76
     * t3: x = 0.76 - 0.076 + 0.5 (0.76 - 0.9) = 0.614 */
    double x[1] = {1}, g[1];
    ol_optim *o = fixture_optim_f64("heavyball:beta=0.5", 0.1, x, g, 1);
    CHECK(o);
    double expect[3] = {0.9, 0.76, 0.614};
    for (int t = 0; t < 3; t++) {
        g[0] = x[0];
        CHECK_EQ_INT(ol_optim_step(o), 0);
        CHECK_NEAR(x[0], expect[t], TOL);
    }
    ol_optim_free(o);
}

/* ---- adaptive methods ---- */

TEST(adagrad_divides_by_root_of_accumulated_squares) {
    /* lr 0.1, g = 2: s1 = 4, x1 = 1 - 0.1*2/2 = 0.9 (+ eps 1e-10 in the denominator);
     * with lr_decay 0.5 the second step uses clr = 0.1/(1 + 0.5): s2 = 8,
     * x2 = 0.9 - 0.1/1.5 * 2/sqrt(8) = 0.85285954792756... */
    double x[1] = {1}, g[1] = {2};
    ol_optim *o = fixture_optim_f64("adagrad:lr_decay=0.5", 0.1, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 1 - 0.1 * 2 / (2 + 1e-10), TOL);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.8528595479275636, TOL);
    ol_optim_free(o);
}

TEST(adagrad_accumulator_starts_at_initial_value) {
    /* s0 = 1, g = 2: s1 = 5, x1 = 1 - 0.1*2/sqrt(5) = 0.91055728090000... */
    double x[1] = {1}, g[1] = {2};
    ol_optim *o = fixture_optim_f64("adagrad:initial_accumulator_value=1", 0.1, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 1 - 0.2 / (sqrt(5.0) + 1e-10), TOL);
    ol_optim_free(o);
}

TEST(rmsprop_divides_by_root_of_running_mean_square) {
    /* alpha 0.99, eps 1e-8, lr 0.01, g = 1: v1 = 0.01, x1 = 1 - 0.01/(0.1 + 1e-8) = 0.90000001;
     * v2 = 0.99*0.01 + 0.01 = 0.0199, x2 = x1 - 0.01/(sqrt(0.0199) + 1e-8) = 0.82911189452429 */
    double x[1] = {1}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("rmsprop", 0.01, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.9000000099999991, TOL);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.8291118945242908, TOL);
    ol_optim_free(o);
}

TEST(rmsprop_centered_subtracts_squared_mean_gradient) {
    /* ga1 = 0.01, v1 = 0.01: d = sqrt(0.01 - 0.0001) + eps, x1 = 1 - 0.01/d = 0.89949622857509;
     * t2: v = 0.0199, ga = 0.0199, d = sqrt(0.0199 - 0.0199^2) + eps -> x2 = 0.82789207158019 */
    double x[1] = {1}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("rmsprop:centered=1", 0.01, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.8994962285750879, TOL);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.8278920715801895, TOL);
    ol_optim_free(o);
}

TEST(rmsprop_momentum_accumulates_scaled_gradients) {
    /* b1 = 1/(0.1 + 1e-8) = 9.999999, x1 = 1 - 0.01 b1; b2 = 0.9 b1 + 1/(sqrt(0.0199) + 1e-8)
     * = 16.08881064757, x2 = x1 - 0.01 b2 = 0.73911190352429 */
    double x[1] = {1}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("rmsprop:momentum=0.9", 0.01, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.9000000099999991, TOL);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.7391119035242899, TOL);
    ol_optim_free(o);
}

TEST(rmsprop_eps_inside_puts_eps_under_the_root) {
    /* eps 0.01 inside: x1 = 1 - 0.01/sqrt(0.01 + 0.01) = 0.92928932188135;
     * outside it would be 1 - 0.01/(0.1 + 0.01) = 0.90909090909 */
    double x[1] = {1}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("rmsprop:eps=0.01,eps_inside=1", 0.01, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.9292893218813453, TOL);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 0.8714578286847212, TOL);
    ol_optim_free(o);
}

TEST(adam_first_step_moves_lr_times_sign_of_g) {
    /* t1: m = 0.1 g, v = 0.001 g^2; m/(1-b1) = g, sqrt(v)/sqrt(1-b2) = |g|, so
     * x -= lr g/(|g| + eps) = lr sign(g) up to eps/|g| */
    double x[3] = {1, -1, 0.5}, g[3] = {3, -0.001, 100};
    ol_optim *o = fixture_optim_f64("adam", 0.1, x, g, 3);
    CHECK(o);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 1 - 0.1 * 3 / (3 + 1e-8), TOL);
    CHECK_NEAR(x[1], -1 + 0.1 * 0.001 / (0.001 + 1e-8), TOL);
    CHECK_NEAR(x[2], 0.4, 1e-9);
    ol_optim_free(o);
}

TEST(adam_bias_correction_on_second_step) {
    /* g1 = 1, g2 = -1, lr 0.1: x1 = -0.1/(1 + 1e-8);
     * m2 = 0.9*0.1 - 0.1 = -0.01, mhat = -0.01/0.19; v2 = 0.001999 = 1 - 0.999^2, vhat = 1;
     * x2 = x1 + 0.1 (0.01/0.19)/(1 + 1e-8) = -0.09473684115789 */
    double x[1] = {0}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("adam", 0.1, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    CHECK_NEAR(x[0], -0.09999999900000002, TOL);
    g[0] = -1;
    ol_optim_step(o);
    CHECK_NEAR(x[0], -0.0947368411578948, TOL);
    ol_optim_free(o);
}

TEST(amsgrad_uses_running_max_of_second_moment) {
    /* g = 2, 0, 0, lr 0.1: v1 = 0.004, v2 = 0.003996, v3 = 0.003992004: v falls, vmax stays 0.004.
     * t2: x2 = x1 - 0.1 (0.18/0.19) / (sqrt(0.004)/sqrt(0.001999) + eps) = -0.16697231314758
     *     (Adam, with v2 instead of vmax: -0.16700582443973)
     * t3: m3 = 0.162, x3 = -0.21871621425097 (Adam: -0.21880152123947) */
    double x[1] = {0}, g[1] = {2}, xa[1] = {0}, ga[1] = {2};
    ol_optim *o = fixture_optim_f64("adam:amsgrad=1", 0.1, x, g, 1), *a = fixture_optim_f64("adam", 0.1, xa, ga, 1);
    CHECK(o && a);
    ol_optim_step(o);
    ol_optim_step(a);
    CHECK_NEAR(x[0], -0.0999999995, TOL);
    g[0] = ga[0] = 0;
    ol_optim_step(o);
    ol_optim_step(a);
    CHECK_NEAR(x[0], -0.16697231314758104, TOL);
    CHECK_NEAR(xa[0], -0.1670058244397326, TOL);
    ol_optim_step(o);
    ol_optim_step(a);
    CHECK_NEAR(x[0], -0.21871621425096952, TOL);
    CHECK_NEAR(xa[0], -0.21880152123947247, TOL);
    ol_optim_free(o);
    ol_optim_free(a);
}

TEST(adamw_decays_weights_before_the_adam_step) {
    /* wd 0.5, lr 0.1, x = 2, g = 1: x *= 1 - 0.05 -> 1.9, then -0.1 g/(|g| + eps) -> 1.8.
     * Adam with the same wd adds it to g instead: g' = 2, step 0.1 sign(g') -> 1.9. */
    double x[1] = {2}, g[1] = {1}, xa[1] = {2}, ga[1] = {1};
    ol_optim *o = fixture_optim_f64("adamw:weight_decay=0.5", 0.1, x, g, 1), *a = fixture_optim_f64("adam:weight_decay=0.5", 0.1, xa, ga, 1);
    CHECK(o && a);
    ol_optim_step(o);
    ol_optim_step(a);
    CHECK_NEAR(x[0], 1.9 - 0.1 / (1 + 1e-8), TOL);
    CHECK_NEAR(xa[0], 2 - 0.1 * 2 / (2 + 1e-8), TOL);
    ol_optim_free(o);
    ol_optim_free(a);
}

TEST(adamw_default_weight_decay_is_0_01) {
    /* x = 2: 2 (1 - 0.1*0.01) = 1.998, minus 0.1/(1 + 1e-8) */
    double x[1] = {2}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("adamw", 0.1, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    CHECK_NEAR(x[0], 1.998 - 0.1 / (1 + 1e-8), TOL);
    ol_optim_free(o);
}

TEST(nadam_follows_torch2_momentum_schedule) {
    /* psi 0.004, g = 1, lr 0.1: mu_t = 0.9 (1 - 0.5 * 0.96^(0.004 t)),
     * mu1 = 0.45007347359130, mu2 = 0.45014693518622, mu3 = 0.45022038478672, P1 = mu1, P2 = mu1 mu2.
     * t1: d = sqrt(0.001/0.001) + eps; x1 = -lr (1-mu1)/(1-P1) g/d - lr mu2/(1 - P1 mu2) m1/d
     *     = -0.10564517677909 (m1 = 0.1)
     * t2: x2 = -0.18401361167452 (m2 = 0.19, d = 1 + eps).
     * torch 1.13 would use P1 mu1 mu2 in the last denominator and differ. */
    double x[1] = {0}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("nadam", 0.1, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    CHECK_NEAR(x[0], -0.10564517677908707, TOL);
    ol_optim_step(o);
    CHECK_NEAR(x[0], -0.18401361167452496, TOL);
    ol_optim_free(o);
}

TEST(radam_takes_plain_momentum_steps_while_rho_at_most_5) {
    /* beta2 0.999: rho_inf = 1999, rho_t = rho_inf - 2 t b2^t/(1 - b2^t) = 1, 1.9995, 2.9987, 3.9975,
     * 4.9960, 5.9942: for t <= 5, x -= lr m/(1 - b1^t) = lr (g = 1), so x_t = -0.1 t;
     * t = 6 is rectified: rect = sqrt((r-4)(r-2) r_inf/((r_inf-4)(r_inf-2) r)) = 0.025821112801859,
     * x6 = -0.5 - 0.1 * 1 * rect / (1 + eps/sqrt(v)...) = -0.50258211094642 */
    double x[1] = {0}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("radam", 0.1, x, g, 1);
    CHECK(o);
    for (int t = 1; t <= 5; t++) {
        ol_optim_step(o);
        CHECK_NEAR(x[0], -0.1 * t, TOL);
    }
    ol_optim_step(o);
    CHECK_NEAR(x[0], -0.5025821109464198, TOL);
    ol_optim_step(o);
    CHECK_NEAR(x[0], -0.5058559919955252, TOL);
    ol_optim_free(o);
}

TEST(float_group_agrees_with_double_group) {
    /* the same kernels in float: within float rounding of the double result */
    const char *specs[] = {"sgd:momentum=0.9", "adam:amsgrad=1", "adamw", "rmsprop:centered=1,momentum=0.5",
                           "nadam", "radam", "adagrad", "heavyball"};
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
        float xf[3] = {1, -0.5f, 2}, gf[3];
        double xd[3] = {1, -0.5, 2}, gd[3];
        ol_optim *of, *od;
        CHECK_EQ_INT(ol_optim_create(&of, specs[s], 0.01), 0);
        CHECK_EQ_INT(ol_optim_create(&od, specs[s], 0.01), 0);
        CHECK_EQ_INT(ol_optim_add_group(of, xf, gf, 3, -1, -1), 0);
        CHECK_EQ_INT(ol_optim_add_group_f64(od, xd, gd, 3, -1, -1), 0);
        for (int t = 0; t < 10; t++) {
            for (int i = 0; i < 3; i++) { gf[i] = xf[i] * (float)(i + 1); gd[i] = xd[i] * (i + 1); }
            CHECK_EQ_INT(ol_optim_step(of), 0);
            CHECK_EQ_INT(ol_optim_step(od), 0);
        }
        for (int i = 0; i < 3; i++) CHECK_MSG(fabs(xf[i] - xd[i]) < 1e-5, "%s: %g vs %g", specs[s], xf[i], xd[i]);
        ol_optim_free(of);
        ol_optim_free(od);
    }
}

/* ---- clipping ---- */

TEST(clip_norm_scales_by_max_norm_over_norm_plus_1e6) {
    /* two groups, g = (3) and (4): global norm 5, clip 1: coef = 1/(5 + 1e-6); gd with lr 1 */
    double x1[1] = {0}, g1[1] = {3}, x2[1] = {0}, g2[1] = {4};
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "gd", 1), 0);
    ol_optim_add_group_f64(o, x1, g1, 1, -1, -1);
    ol_optim_add_group_f64(o, x2, g2, 1, -1, -1);
    CHECK_EQ_INT(ol_optim_set_clip(o, 1, 0), 0);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_NEAR(x1[0], -3 / (5 + 1e-6), TOL);
    CHECK_NEAR(x2[0], -4 / (5 + 1e-6), TOL);
    CHECK_NEAR(ol_optim_last_grad_norm(o), 5, TOL);
    CHECK(g1[0] == 3 && g2[0] == 4);   /* gradients are read, not written */
    ol_optim_free(o);
}

TEST(clip_norm_leaves_small_gradients_alone) {
    /* norm 0.5 < clip 1: coef = 1/(0.5 + 1e-6) > 1 is capped at 1 */
    double x[2] = {0, 0}, g[2] = {0.3, 0.4};
    ol_optim *o = fixture_optim_f64("gd", 1, x, g, 2);
    CHECK(o);
    ol_optim_set_clip(o, 1, 0);
    ol_optim_step(o);
    CHECK(x[0] == -0.3 && x[1] == -0.4);
    ol_optim_free(o);
}

TEST(clip_value_clamps_each_component) {
    double x[3] = {0, 0, 0}, g[3] = {-3, 0.5, 2};
    ol_optim *o = fixture_optim_f64("gd", 1, x, g, 3);
    CHECK(o);
    ol_optim_set_clip(o, 0, 1);
    ol_optim_step(o);
    CHECK(x[0] == 1 && x[1] == -0.5 && x[2] == -1);
    ol_optim_free(o);
}

TEST(clip_value_applies_before_clip_norm) {
    /* g = (3, 4) clamped to (1, 1): norm sqrt(2), coef = 1/(sqrt 2 + 1e-6) = 0.70710628118690 */
    double x[2] = {0, 0}, g[2] = {3, 4};
    ol_optim *o = fixture_optim_f64("gd", 1, x, g, 2);
    CHECK(o);
    ol_optim_set_clip(o, 1, 1);
    ol_optim_step(o);
    CHECK_NEAR(x[0], -0.7071062811869011, TOL);
    CHECK_NEAR(ol_optim_last_grad_norm(o), sqrt(2.0), TOL);
    ol_optim_free(o);
}

TEST(clip_norm_on_float_groups_uses_double_norm) {
    float x[2] = {0, 0}, g[2] = {3e20f, 4e20f};   /* squares overflow float, not double */
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "gd", 1), 0);
    ol_optim_add_group(o, x, g, 2, -1, -1);
    ol_optim_set_clip(o, 1, 0);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_NEAR(x[0], -0.6, 1e-6);
    CHECK_NEAR(x[1], -0.8, 1e-6);
    ol_optim_free(o);
}

TEST(nonfinite_gradient_norm_refuses_the_step_and_leaves_parameters) {
    double x[2] = {1, 2}, g[2] = {NAN, 1};
    ol_optim *o = fixture_optim_f64("adam", 0.1, x, g, 2);
    CHECK(o);
    ol_optim_set_clip(o, 1, 0);
    CHECK_EQ_INT(ol_optim_step(o), OL_ENUMERIC);
    CHECK(strstr(ol_error(), "step 1") != NULL);
    CHECK(x[0] == 1 && x[1] == 2);
    CHECK_EQ_INT(ol_optim_step_count(o), 0);
    /* a good gradient afterwards gives exactly Adam's first step, so the state was not touched:
     * g = (1, 1) clipped by c = 1/(sqrt 2 + 1e-6), x -= lr c/(c + eps) */
    g[0] = 1;
    CHECK_EQ_INT(ol_optim_step(o), 0);
    double c = 1 / (sqrt(2.0) + 1e-6);
    CHECK_NEAR(x[0], 1 - 0.1 * c / (c + 1e-8), TOL);
    CHECK_NEAR(x[1], 2 - 0.1 * c / (c + 1e-8), TOL);
    ol_optim_free(o);
}

TEST(nonfinite_gradient_without_clip_norm_is_reported) {
    double x[1] = {1}, g[1] = {INFINITY};
    ol_optim *o = fixture_optim_f64("sgd", 0.1, x, g, 1);
    CHECK(o);
    CHECK_EQ_INT(ol_optim_step(o), OL_ENUMERIC);
    CHECK(strstr(ol_error(), "step 1") != NULL);
    CHECK(isinf(ol_optim_last_grad_norm(o)));
    ol_optim_free(o);
}

/* ---- invalid settings: one each ---- */

static int create_fails(const char *spec, double lr, const char *needle) {
    ol_optim *o = NULL;
    int rc = ol_optim_create(&o, spec, lr);
    if (rc != OL_EARG || o != NULL) { ol_optim_free(o); return 0; }
    if (needle && !strstr(ol_error(), needle)) {
        fprintf(stderr, "    message '%s' lacks '%s'\n", ol_error(), needle);
        return 0;
    }
    return 1;
}

TEST(invalid_negative_lr_is_rejected) { CHECK(create_fails("adam", -0.1, "learning rate")); }
TEST(invalid_negative_eps_is_rejected) { CHECK(create_fails("adam:eps=-1e-8", 0.1, "eps")); }
TEST(invalid_negative_momentum_is_rejected) { CHECK(create_fails("sgd:momentum=-0.5", 0.1, "momentum")); }
TEST(invalid_beta1_of_one_is_rejected) { CHECK(create_fails("adam:beta1=1", 0.1, "beta1")); }
TEST(invalid_negative_beta2_is_rejected) { CHECK(create_fails("radam:beta2=-0.1", 0.1, "beta2")); }
TEST(invalid_nesterov_without_momentum_is_rejected) { CHECK(create_fails("sgd:nesterov=1", 0.1, "nesterov")); }
TEST(invalid_nesterov_with_dampening_is_rejected) {
    CHECK(create_fails("sgd:momentum=0.9,nesterov=1,dampening=0.1", 0.1, "dampening"));
}
TEST(invalid_negative_weight_decay_is_rejected) { CHECK(create_fails("adamw:weight_decay=-1", 0.1, "weight_decay")); }
TEST(invalid_negative_alpha_is_rejected) { CHECK(create_fails("rmsprop:alpha=-0.9", 0.1, "alpha")); }
TEST(invalid_negative_lr_decay_is_rejected) { CHECK(create_fails("adagrad:lr_decay=-1", 0.1, "lr_decay")); }
TEST(invalid_negative_initial_accumulator_is_rejected) {
    CHECK(create_fails("adagrad:initial_accumulator_value=-1", 0.1, "initial_accumulator_value"));
}
TEST(invalid_negative_momentum_decay_is_rejected) { CHECK(create_fails("nadam:momentum_decay=-1", 0.1, "momentum_decay")); }
TEST(invalid_flag_value_is_rejected) { CHECK(create_fails("adam:amsgrad=2", 0.1, "amsgrad")); }
TEST(invalid_unknown_key_is_rejected_with_valid_keys) { CHECK(create_fails("adam:beta3=0.9", 0.1, "beta1, beta2")); }
TEST(invalid_key_of_another_optimizer_is_rejected) { CHECK(create_fails("sgd:beta1=0.9", 0.1, "beta1")); }
TEST(invalid_unknown_optimizer_lists_valid_names) { CHECK(create_fails("adamx", 0.1, "gd, sgd, heavyball")); }
TEST(invalid_random_sigma_is_rejected) { CHECK(create_fails("random:sigma=0", 0.1, "sigma")); }
TEST(invalid_random_samples_is_rejected) { CHECK(create_fails("random:samples=0", 0.1, "samples")); }
TEST(invalid_nonnumeric_value_is_rejected) { CHECK(create_fails("sgd:momentum=fast", 0.1, "momentum")); }

TEST(invalid_params_struct_is_rejected_at_creation) {
    ol_optim_params p = ol_optim_default_params(OL_OPTIM_RMSPROP);
    p.momentum = -1;
    ol_optim *o = NULL;
    CHECK_EQ_INT(ol_optim_create_params(&o, &p), OL_EARG);
    CHECK(o == NULL);
    p = ol_optim_default_params(OL_OPTIM_N_KINDS);
    CHECK_EQ_INT(ol_optim_create_params(&o, &p), OL_EARG);
}

TEST(default_params_follow_torch) {
    ol_optim_params p = ol_optim_default_params(OL_OPTIM_ADAM);
    CHECK(p.lr == 1e-3 && p.beta1 == 0.9 && p.beta2 == 0.999 && p.eps == 1e-8 && p.weight_decay == 0);
    p = ol_optim_default_params(OL_OPTIM_ADAMW);
    CHECK(p.weight_decay == 0.01);
    p = ol_optim_default_params(OL_OPTIM_ADAGRAD);
    CHECK(p.eps == 1e-10 && p.lr == 0.01);
    p = ol_optim_default_params(OL_OPTIM_RMSPROP);
    CHECK(p.alpha == 0.99 && p.eps == 1e-8 && p.lr == 0.01);
    p = ol_optim_default_params(OL_OPTIM_NADAM);
    CHECK(p.lr == 2e-3 && p.momentum_decay == 4e-3);
    CHECK_EQ_INT(ol_optim_kind_from_name("radam"), OL_OPTIM_RADAM);
    CHECK(!strcmp(ol_optim_kind_name(OL_OPTIM_HEAVYBALL), "heavyball"));
}

TEST(invalid_clip_is_rejected) {
    double x[1] = {0}, g[1] = {0};
    ol_optim *o = fixture_optim_f64("gd", 0.1, x, g, 1);
    CHECK(o);
    CHECK_EQ_INT(ol_optim_set_clip(o, -1, 0), OL_EARG);
    CHECK_EQ_INT(ol_optim_set_clip(o, 0, NAN), OL_EARG);
    ol_optim_free(o);
}

TEST(step_without_groups_is_a_state_error) {
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "sgd", 0.1), 0);
    CHECK_EQ_INT(ol_optim_step(o), OL_ESTATE);
    ol_optim_free(o);
}

TEST(group_without_gradient_is_rejected) {
    double x[1] = {0};
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "sgd", 0.1), 0);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, x, NULL, 1, -1, -1), OL_EARG);
    ol_optim_free(o);
}

TEST(groups_cannot_be_added_after_the_first_step) {
    double x[1] = {0}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("sgd", 0.1, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, x, g, 1, -1, -1), OL_ESTATE);
    ol_optim_free(o);
}

/* ---- state save / load ---- */

static double quad_f64(const void *x, void *ud) {
    const double *v = x;
    size_t n = *(size_t *)ud;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += 0.5 * v[i] * v[i];
    return s;
}

/* Runs spec on a float group (n = 5) and a double group (n = 3) with g = (i+1) x - 0.1 t
 * for `steps` steps starting at step t0. */
static int run_steps(ol_optim *o, float *xf, float *gf, double *xd, double *gd, int t0, int steps) {
    for (int t = t0; t < t0 + steps; t++) {
        for (int i = 0; i < 5; i++) gf[i] = xf[i] * (float)(i + 1) - 0.1f * (float)t;
        for (int i = 0; i < 3; i++) gd[i] = xd[i] * (i + 1) - 0.1 * t;
        int rc = ol_optim_step(o);
        if (rc) return rc;
        ol_optim_report_metric(o, (double)(t % 4));
    }
    return 0;
}

static size_t n_quad = 3;

static ol_optim *make_two_groups(const char *spec, const char *sched, long warmup, float *xf, float *gf,
                                 double *xd, double *gd) {
    ol_optim *o;
    if (ol_optim_create(&o, spec, 0.05)) return NULL;
    ol_optim_add_group(o, xf, gf, 5, -1, -1);
    ol_optim_add_group_f64(o, xd, gd, 3, 0.02, -1);
    if (sched && ol_optim_set_schedule(o, sched, warmup)) { ol_optim_free(o); return NULL; }
    ol_optim_set_objective(o, quad_f64, &n_quad);   /* random search reads group 0... */
    return o;
}

TEST(state_round_trip_continues_bit_exactly) {
    struct { const char *spec, *sched; long warmup; } cases[] = {
        {"sgd:momentum=0.9,nesterov=1", "cosine:t_max=7", 3},
        {"heavyball:beta=0.8", "step:step_size=2,gamma=0.5", 0},
        {"adagrad:lr_decay=0.1", "plateau:patience=1,factor=0.5", 2},
        {"rmsprop:centered=1,momentum=0.5", "cyclic:max_lr=0.2,step_size_up=3", 0},
        {"adam:amsgrad=1", "onecycle:total_steps=40", 4},
        {"adamw", "cosine-restarts:t_0=3,t_mult=2", 0},
        {"nadam", "linear", 1},
        {"radam", "inverse-sqrt", 0},
        {"gd", "multistep:milestones=3/6", 0},
        {"adadelta:weight_decay=0.1", "cosine:t_max=9", 2},
        {"adamax:beta1=0.8", "exponential:gamma=0.9", 1},
        {"asgd:t0=2,lambd=0.01", "plateau:patience=1,factor=0.5", 0},   /* ax and eta per group */
        {"rprop:eta_plus=1.5", "step:step_size=2,gamma=0.5", 3},        /* step sizes from the first lr */
        {"lion:weight_decay=0.1", "cosine:t_max=9", 2},
        {"sf-sgd:warmup_steps=3,weight_decay=0.01", "step:step_size=2,gamma=0.5", 0},   /* z, x, lr_max, sum */
        {"sf-adamw:warmup_steps=4,weight_decay=0.1", "plateau:patience=1,factor=0.5", 1},
        {"lamb:weight_decay=0.1", "cosine:t_max=9", 2},
        {"lars:weight_decay=0.1,trust_coefficient=0.1", "step:step_size=2,gamma=0.5", 1},
        {"adafactor:weight_decay=0.1", "cosine:t_max=9", 2},
        {"muon:nesterov=0", "step:step_size=2,gamma=0.5", 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        float xf[5] = {1, -1, 0.5f, 2, -0.25f}, gf[5];
        double xd[3] = {0.3, -0.7, 1.1}, gd[3];
        ol_optim *o = make_two_groups(cases[c].spec, cases[c].sched, cases[c].warmup, xf, gf, xd, gd);
        CHECK_MSG(o, "%s: %s", cases[c].spec, ol_error());
        CHECK_EQ_INT(run_steps(o, xf, gf, xd, gd, 0, 6), 0);
        size_t size = ol_optim_state_size(o);
        unsigned char *blob = malloc(size);
        CHECK_EQ_INT(ol_optim_state_save(o, blob, size), 0);
        float xf2[5];
        double xd2[3], gd2[3];
        float gf2[5];
        memcpy(xf2, xf, sizeof xf);
        memcpy(xd2, xd, sizeof xd);
        CHECK_EQ_INT(run_steps(o, xf, gf, xd, gd, 6, 7), 0);
        ol_optim *r = make_two_groups(cases[c].spec, cases[c].sched, cases[c].warmup, xf2, gf2, xd2, gd2);
        CHECK(r);
        CHECK_MSG(ol_optim_state_load(r, blob, size) == 0, "%s: %s", cases[c].spec, ol_error());
        CHECK_EQ_INT(ol_optim_step_count(r), 6);
        CHECK_EQ_INT(run_steps(r, xf2, gf2, xd2, gd2, 6, 7), 0);
        CHECK_MSG(!memcmp(xf, xf2, sizeof xf) && !memcmp(xd, xd2, sizeof xd), "%s differs after resume",
                  cases[c].spec);
        CHECK(ol_optim_get_lr(o, 1) == ol_optim_get_lr(r, 1));
        free(blob);
        ol_optim_free(o);
        ol_optim_free(r);
    }
}

TEST(state_round_trip_of_random_search_continues_identically) {
    double x[3] = {1, 1, 1}, x2[3];
    ol_optim *o = fixture_optim_f64("random:sigma=0.3,samples=2", 0, x, NULL, 3);
    CHECK(o);
    ol_optim_set_objective(o, quad_f64, &n_quad);
    ol_optim_seed(o, 42);
    for (int t = 0; t < 5; t++) CHECK_EQ_INT(ol_optim_step(o), 0);
    size_t size = ol_optim_state_size(o);
    unsigned char *blob = malloc(size);
    CHECK_EQ_INT(ol_optim_state_save(o, blob, size), 0);
    memcpy(x2, x, sizeof x);
    for (int t = 0; t < 5; t++) ol_optim_step(o);
    ol_optim *r = fixture_optim_f64("random:sigma=0.3,samples=2", 0, x2, NULL, 3);
    ol_optim_set_objective(r, quad_f64, &n_quad);
    CHECK_EQ_INT(ol_optim_state_load(r, blob, size), 0);
    for (int t = 0; t < 5; t++) ol_optim_step(r);
    CHECK(!memcmp(x, x2, sizeof x));
    CHECK_EQ_INT(ol_optim_evaluations(o), ol_optim_evaluations(r));
    free(blob);
    ol_optim_free(o);
    ol_optim_free(r);
}

TEST(state_load_refuses_corrupt_or_mismatched_state_and_changes_nothing) {
    float xf[5] = {1, -1, 0.5f, 2, -0.25f}, gf[5];
    double xd[3] = {0.3, -0.7, 1.1}, gd[3];
    ol_optim *o = make_two_groups("adam", "cosine:t_max=9", 0, xf, gf, xd, gd);
    CHECK(o);
    run_steps(o, xf, gf, xd, gd, 0, 4);
    size_t size = ol_optim_state_size(o);
    unsigned char *blob = malloc(size), *before = malloc(size), *after = malloc(size);
    CHECK_EQ_INT(ol_optim_state_save(o, blob, size), 0);
    CHECK_EQ_INT(ol_optim_state_save(o, blob, size - 1), OL_EARG);   /* too small a buffer */

    ol_optim *r = make_two_groups("adam", "cosine:t_max=9", 0, xf, gf, xd, gd);
    run_steps(r, xf, gf, xd, gd, 0, 1);
    CHECK_EQ_INT(ol_optim_state_save(r, before, size), 0);

    blob[size / 2] ^= 0x10;                                          /* a flipped bit */
    CHECK_EQ_INT(ol_optim_state_load(r, blob, size), OL_EFORMAT);
    blob[size / 2] ^= 0x10;
    CHECK_EQ_INT(ol_optim_state_load(r, blob, size - 7), OL_EFORMAT); /* truncated */
    CHECK_EQ_INT(ol_optim_state_load(r, blob, 10), OL_EFORMAT);
    ol_optim_state_save(r, after, size);
    CHECK(!memcmp(before, after, size));                              /* nothing half-loaded */

    ol_optim *other_kind = make_two_groups("nadam", "cosine:t_max=9", 0, xf, gf, xd, gd);
    CHECK_EQ_INT(ol_optim_state_load(other_kind, blob, size), OL_EFORMAT);
    CHECK(strstr(ol_error(), "adam") != NULL);
    ol_optim *other_sched = make_two_groups("adam", "step:step_size=3", 0, xf, gf, xd, gd);
    CHECK_EQ_INT(ol_optim_state_load(other_sched, blob, size), OL_EFORMAT);
    CHECK(strstr(ol_error(), "cosine") != NULL);
    ol_optim *other_warmup = make_two_groups("adam", "cosine:t_max=9", 2, xf, gf, xd, gd);
    CHECK_EQ_INT(ol_optim_state_load(other_warmup, blob, size), OL_EFORMAT);

    ol_optim *other_size;                                             /* double group of 4, not 3 */
    double xd4[4] = {0}, gd4[4] = {0};
    CHECK_EQ_INT(ol_optim_create(&other_size, "adam", 0.05), 0);
    ol_optim_add_group(other_size, xf, gf, 5, -1, -1);
    ol_optim_add_group_f64(other_size, xd4, gd4, 4, -1, -1);
    ol_optim_set_schedule(other_size, "cosine:t_max=9", 0);
    CHECK_EQ_INT(ol_optim_state_load(other_size, blob, size), OL_EFORMAT);

    ol_optim *other_type;                                             /* float group where double was */
    float xf3[3] = {0}, gf3[3] = {0};
    CHECK_EQ_INT(ol_optim_create(&other_type, "adam", 0.05), 0);
    ol_optim_add_group(other_type, xf, gf, 5, -1, -1);
    ol_optim_add_group(other_type, xf3, gf3, 3, -1, -1);
    ol_optim_set_schedule(other_type, "cosine:t_max=9", 0);
    CHECK_EQ_INT(ol_optim_state_load(other_type, blob, size), OL_EFORMAT);
    CHECK(strstr(ol_error(), "group 1") != NULL);

    ol_optim *amsgrad = make_two_groups("adam:amsgrad=1", "cosine:t_max=9", 0, xf, gf, xd, gd);
    CHECK_EQ_INT(ol_optim_state_load(amsgrad, blob, size), OL_EFORMAT);   /* one more buffer */

    unsigned char newer[8];
    memcpy(newer, blob, 8);
    blob[4] = 9;                                                      /* a newer version */
    CHECK_EQ_INT(ol_optim_state_load(r, blob, size), OL_EFORMAT);
    CHECK(strstr(ol_error(), "version") != NULL);
    memcpy(blob, newer, 8);
    CHECK_EQ_INT(ol_optim_state_load(r, blob, size), 0);

    free(blob);
    free(before);
    free(after);
    ol_optim_free(o);
    ol_optim_free(r);
    ol_optim_free(other_kind);
    ol_optim_free(other_sched);
    ol_optim_free(other_warmup);
    ol_optim_free(other_size);
    ol_optim_free(other_type);
    ol_optim_free(amsgrad);
}

TEST(state_is_little_endian_with_magic_and_version) {
    double x[1] = {0}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("sgd:momentum=0.5", 0.1, x, g, 1);
    CHECK(o);
    ol_optim_step(o);
    size_t size = ol_optim_state_size(o);
    unsigned char *blob = malloc(size);
    CHECK_EQ_INT(ol_optim_state_save(o, blob, size), 0);
    CHECK(!memcmp(blob, "OLOP", 4));
    CHECK(blob[4] == 1 && blob[5] == 0 && blob[6] == 0 && blob[7] == 0);
    CHECK(blob[16] == 1 && blob[17] == 0);   /* step count 1, least significant byte first */
    free(blob);
    ol_optim_free(o);
}

/* ---- random search ---- */

typedef struct { size_t n; long calls; } quad_ctx;

static double quad_counted(const void *x, void *ud) {
    quad_ctx *c = ud;
    const double *v = x;
    double s = 0;
    for (size_t i = 0; i < c->n; i++) s += 0.5 * v[i] * v[i];
    c->calls++;
    return s;
}

TEST(random_search_never_accepts_a_worse_point) {
    for (long samples = 1; samples <= 3; samples += 2) {
        double x[4] = {1, -1, 0.5, 2};
        quad_ctx c = {4, 0};
        char spec[64];
        snprintf(spec, sizeof spec, "random:sigma=0.5,samples=%ld", samples);
        ol_optim *o = fixture_optim_f64(spec, 0, x, NULL, 4);
        CHECK(o);
        ol_optim_set_objective(o, quad_counted, &c);
        ol_optim_seed(o, 7);
        double f = quad_counted(x, &c);
        int moved = 0;
        for (int t = 0; t < 300; t++) {
            CHECK_EQ_INT(ol_optim_step(o), 0);
            double fn = quad_counted(x, &c);
            CHECK_MSG(fn <= f, "step %d: f rose from %g to %g", t + 1, f, fn);
            moved += fn < f;
            f = fn;
        }
        CHECK(moved > 10);
        CHECK_EQ_INT(ol_optim_evaluations(o), 1 + 300 * samples);   /* f(x0) once, then samples per step */
        ol_optim_free(o);
    }
}

TEST(random_search_is_reproducible_from_its_seed) {
    double a[2] = {1, 1}, b[2] = {1, 1};
    quad_ctx ca = {2, 0}, cb = {2, 0};
    ol_optim *oa = fixture_optim_f64("random", 0, a, NULL, 2), *ob = fixture_optim_f64("random", 0, b, NULL, 2);
    CHECK(oa && ob);
    ol_optim_set_objective(oa, quad_counted, &ca);
    ol_optim_set_objective(ob, quad_counted, &cb);
    ol_optim_seed(oa, 123);
    ol_optim_seed(ob, 123);
    for (int t = 0; t < 50; t++) { ol_optim_step(oa); ol_optim_step(ob); }
    CHECK(a[0] == b[0] && a[1] == b[1]);
    ol_optim_free(oa);
    ol_optim_free(ob);
}

TEST(random_search_without_objective_is_a_state_error) {
    double x[1] = {1};
    ol_optim *o = fixture_optim_f64("random", 0, x, NULL, 1);
    CHECK(o);
    CHECK_EQ_INT(ol_optim_step(o), OL_ESTATE);
    ol_optim_free(o);
}

/* Evaluations random search (sigma 0.1) needs to bring f = 1/2 |x|^2 below eps = 1/2 0.1^2 from
 * |x0| = 0.5, mean over 32 seeds (deterministic); and the iterations gd (lr 0.5) needs. */
static double random_search_cost(size_t d, double eps) {
    double total = 0;
    for (uint64_t seed = 1; seed <= 32; seed++) {
        double x[8];
        for (size_t i = 0; i < d; i++) x[i] = 0.5 / sqrt((double)d);
        quad_ctx c = {d, 0};
        ol_optim *o = fixture_optim_f64("random:sigma=0.1", 0, x, NULL, d);
        ol_optim_set_objective(o, quad_counted, &c);
        ol_optim_seed(o, seed);
        for (int t = 0; t < 1000000 && quad_counted(x, &c) >= eps; t++) ol_optim_step(o);
        total += (double)ol_optim_evaluations(o);
        ol_optim_free(o);
    }
    return total / 32;
}

static long gd_iterations(size_t d, double eps) {
    double x[8], g[8];
    for (size_t i = 0; i < d; i++) x[i] = 0.5 / sqrt((double)d);
    quad_ctx c = {d, 0};
    ol_optim *o = fixture_optim_f64("gd", 0.5, x, g, d);
    long t = 0;
    while (quad_counted(x, &c) >= eps && t < 10000) {
        for (size_t i = 0; i < d; i++) g[i] = x[i];
        ol_optim_step(o);
        t++;
    }
    ol_optim_free(o);
    return t;
}

TEST(random_search_cost_grows_with_dimension_while_gd_does_not) {
    /* measured: about 13, 16, 43 and 1000 evaluations for d = 1, 2, 4, 8 */
    double eps = 0.5 * 0.1 * 0.1;
    double prev = 0;
    long gd1 = gd_iterations(1, eps);
    for (size_t d = 1; d <= 8; d *= 2) {
        double cost = random_search_cost(d, eps);
        CHECK_MSG(cost > prev * 1.2, "d = %zu: %g evaluations, d/2 needed %g", d, cost, prev);
        prev = cost;
        CHECK_EQ_INT(gd_iterations(d, eps), gd1);
    }
    CHECK_EQ_INT(gd1, 3);   /* |x| halves per step: 0.5, .25, .125, .0625 < 0.1 */
}

TEST(lr_scale_multiplies_every_group_lr_on_top_of_the_schedule) {
    /* gd, g = 1, exponential gamma 0.5 from lr 1 and 0.1, scale 0.5: moves 0.5 and 0.05, then the
     * scaled schedule 0.25 and 0.025 */
    double x1[1] = {0}, g1[1] = {1}, x2[1] = {0}, g2[1] = {1};
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "gd", 1.0), 0);
    ol_optim_add_group_f64(o, x1, g1, 1, -1, -1);
    ol_optim_add_group_f64(o, x2, g2, 1, 0.1, -1);
    ol_optim_set_schedule(o, "exponential:gamma=0.5", 0);
    CHECK_EQ_INT(ol_optim_set_lr_scale(o, 0.5), 0);
    CHECK_NEAR(ol_optim_get_lr(o, 1), 0.05, TOL);
    ol_optim_step(o);
    CHECK_NEAR(x1[0], -0.5, TOL);
    CHECK_NEAR(x2[0], -0.05, TOL);
    CHECK_NEAR(ol_optim_get_lr(o, 0), 0.25, TOL);
    CHECK_EQ_INT(ol_optim_set_lr_scale(o, 0), OL_EARG);
    CHECK_EQ_INT(ol_optim_set_lr_scale(o, INFINITY), OL_EARG);
    ol_optim_free(o);
}
