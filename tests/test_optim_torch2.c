/* test_optim_torch2.c: the rest of torch.optim (issue 19: adadelta, adamax, asgd, rprop, lbfgs) as a
 * specification. Each update rule against its first steps worked by hand from torch 1.13's formula
 * (the derivation beside the test); L-BFGS's secant step, its closure semantics, its groups and its
 * refusals; asgd's average; the checks of every hyper-parameter; L-BFGS's and asgd's state blobs.
 * Against torch itself: tests/ref (test_torch_reference.c). */
#include "test.h"

#include "fixtures.h"
#include "optlab/common.h"
#include "optlab/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-12


/* steps with the gradient g[0] = seq[k] at step k */
static int steps_with(ol_optim *o, double *g, const double *seq, int n) {
    for (int k = 0; k < n; k++) {
        g[0] = seq[k];
        int rc = ol_optim_step(o);
        if (rc) return rc;
    }
    return 0;
}

/* ---- adadelta ---- */

TEST(adadelta_scales_the_step_by_the_rms_of_past_steps) {
    /* rho 0.5, eps 1, lr 1, g = 2, x = 1.
     * t1: v = 0.5*4 = 2; delta = sqrt(0 + 1) / sqrt(2 + 1) * 2 = 2/sqrt(3); u = 0.5 delta^2 = 2/3;
     *     x = 1 - 2/sqrt(3)
     * t2: v = 0.5*2 + 2 = 3; delta = sqrt(2/3 + 1) / sqrt(3 + 1) * 2 = sqrt(5/3); u = 1/3 + 5/6 = 7/6;
     *     x = 1 - 2/sqrt(3) - sqrt(5/3)
     * t3: v = 1.5 + 2 = 3.5; delta = sqrt(7/6 + 1) / sqrt(4.5) * 2 */
    double x[1] = {1}, g[1] = {2};
    ol_optim *o = fixture_optim_f64("adadelta:rho=0.5,eps=1", 1.0, x, g, 1);
    CHECK(o);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_NEAR(x[0], 1 - 2 / sqrt(3), TOL);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_NEAR(x[0], 1 - 2 / sqrt(3) - sqrt(5. / 3), TOL);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_NEAR(x[0], 1 - 2 / sqrt(3) - sqrt(5. / 3) - sqrt(13. / 6) / sqrt(4.5) * 2, TOL);
    ol_optim_free(o);
}

TEST(adadelta_default_lr_is_torchs_1_and_weight_decay_is_coupled) {
    ol_optim_params p = ol_optim_default_params(OL_OPTIM_ADADELTA);
    CHECK(p.lr == 1.0 && p.rho == 0.9 && p.eps == 1e-6 && p.weight_decay == 0);
    /* wd 0.5, x = 2, g = 0: the step sees g + wd x = 1; rho 0.5, eps 1: delta = 1/sqrt(1.5) */
    double x[1] = {2}, g[1] = {0};
    ol_optim *o = fixture_optim_f64("adadelta:rho=0.5,eps=1,weight_decay=0.5", 0.1, x, g, 1);
    CHECK(o);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_NEAR(x[0], 2 - 0.1 / sqrt(1.5), TOL);
    ol_optim_free(o);
}

/* ---- adamax ---- */

TEST(adamax_divides_by_the_decayed_infinity_norm) {
    /* beta1 = beta2 = 0.5, eps 0, lr 0.1, x = 0; g = 2, 0.5, -3.
     * t1: m = 1; u = max(0, 2) = 2; x -= 0.1/(1-0.5) * 1/2 -> -0.1
     * t2: m = 0.5 + 0.25 = 0.75; u = max(0.5*2, 0.5) = 1 (the decayed one); x -= 0.1/0.75 * 0.75 -> -0.2
     * t3: m = 0.375 - 1.5 = -1.125; u = max(0.5, 3) = 3 (the new one); x += 0.1/0.875 * 0.375 */
    double x[1] = {0}, g[1], seq[3] = {2, 0.5, -3};
    ol_optim *o = fixture_optim_f64("adamax:beta1=0.5,beta2=0.5,eps=0", 0.1, x, g, 1);
    CHECK(o);
    CHECK_EQ_INT(steps_with(o, g, seq, 1), 0);
    CHECK_NEAR(x[0], -0.1, TOL);
    CHECK_EQ_INT(steps_with(o, g, seq + 1, 1), 0);
    CHECK_NEAR(x[0], -0.2, TOL);
    CHECK_EQ_INT(steps_with(o, g, seq + 2, 1), 0);
    CHECK_NEAR(x[0], -0.2 + 0.1 / 0.875 * 0.375, TOL);
    ol_optim_params p = ol_optim_default_params(OL_OPTIM_ADAMAX);
    CHECK(p.lr == 2e-3 && p.beta1 == 0.9 && p.beta2 == 0.999 && p.eps == 1e-8);
    ol_optim_free(o);
}

TEST(adamax_adds_eps_to_the_gradient_before_the_max) {
    /* eps 1, g = 0: u = max(0, |0| + 1) = 1; m = 0: no move; then g = 1: m = 0.5, u = max(0.5, 2) = 2 */
    double x[1] = {0}, g[1], seq[2] = {0, 1};
    ol_optim *o = fixture_optim_f64("adamax:beta1=0.5,beta2=0.5,eps=1", 0.1, x, g, 1);
    CHECK(o);
    CHECK_EQ_INT(steps_with(o, g, seq, 2), 0);
    CHECK_NEAR(x[0], -0.1 / 0.75 * 0.5 / 2, TOL);
    ol_optim_free(o);
}

/* ---- asgd ---- */

TEST(asgd_decays_eta_and_averages_the_iterates_after_t0) {
    /* lr 0.1, lambd 0.5, alpha 1, t0 1, g = 1, x = 1. Step t uses eta_t and mu_t:
     * eta_1 = lr, eta_t = lr / (1 + lambd lr (t-1))^alpha; mu_1 = 1, mu_t = 1 / max(1, t - 1 - t0);
     * x_t = x_{t-1} (1 - lambd eta_t) - eta_t g; ax = x while mu = 1 (steps 1..3), then
     * ax += (x - ax) mu: ax_4 = (x3 + x4)/2, ax_5 = (x3 + x4 + x5)/3 */
    double x[1] = {1}, g[1] = {1}, xs[6] = {1};
    ol_optim *o = fixture_optim_f64("asgd:lambd=0.5,alpha=1,t0=1", 0.1, x, g, 1);
    CHECK(o);
    for (int t = 1; t <= 5; t++) {
        double eta = t == 1 ? 0.1 : 0.1 / (1 + 0.5 * 0.1 * (t - 1));
        xs[t] = xs[t - 1] * (1 - 0.5 * eta) - eta;
        CHECK_EQ_INT(ol_optim_step(o), 0);
        CHECK_NEAR(x[0], xs[t], TOL);
        const double *ax = ol_optim_average(o, 0);
        CHECK(ax != NULL);
        double want = t <= 3 ? xs[t] : t == 4 ? (xs[3] + xs[4]) / 2 : (xs[3] + xs[4] + xs[5]) / 3;
        CHECK_NEAR(ax[0], want, TOL);
    }
    ol_optim_free(o);
}

TEST(asgd_eta_follows_the_lr_of_the_step_before_as_torch) {
    /* torch's eta of step t is computed at step t-1 from that step's lr: an lr set after step 1
     * changes step 3's eta, not step 2's. lambd 0 (no shrink), alpha 1: eta = lr. */
    double x[1] = {0}, g[1] = {1};
    ol_optim *o = fixture_optim_f64("asgd:lambd=0", 0.1, x, g, 1);
    CHECK(o);
    CHECK_EQ_INT(ol_optim_step(o), 0);   /* eta 0.1 */
    CHECK_EQ_INT(ol_optim_set_lr(o, -1, 0.5), 0);
    CHECK_EQ_INT(ol_optim_step(o), 0);   /* eta 0.1, computed after step 1 */
    CHECK_NEAR(x[0], -0.2, TOL);
    CHECK_EQ_INT(ol_optim_step(o), 0);   /* eta 0.5 */
    CHECK_NEAR(x[0], -0.7, TOL);
    ol_optim_free(o);
}

TEST(asgd_average_starts_as_x_and_swaps_back_exactly) {
    float xf[3] = {1.5f, -2, 0.25f}, gf[3] = {0.1f, 0.2f, -0.3f};
    double xd[2] = {3, 4}, gd[2] = {1, -1};
    ol_optim *o;
    CHECK_EQ_INT(ol_optim_create(&o, "asgd:t0=1,lambd=0.01", 0.1), 0);
    CHECK_EQ_INT(ol_optim_add_group(o, xf, gf, 3, -1, -1), 0);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, xd, gd, 2, -1, -1), 0);
    const float *af = ol_optim_average(o, 0);
    CHECK(af && !memcmp(af, xf, sizeof xf));   /* before any step: x itself */
    for (int t = 0; t < 6; t++) CHECK_EQ_INT(ol_optim_step(o), 0);
    float xf0[3], af0[3];
    double xd0[2];
    memcpy(xf0, xf, sizeof xf);
    memcpy(xd0, xd, sizeof xd);
    memcpy(af0, af, sizeof af0);
    CHECK(memcmp(af0, xf0, sizeof xf0) != 0);   /* averaging since step 2 */
    CHECK_EQ_INT(ol_optim_swap_average(o), 0);
    CHECK(!memcmp(xf, af0, sizeof xf) && !memcmp(af, xf0, sizeof xf0));
    CHECK(!memcmp(ol_optim_average(o, 1), xd0, sizeof xd0));
    CHECK_EQ_INT(ol_optim_swap_average(o), 0);
    CHECK(!memcmp(xf, xf0, sizeof xf) && !memcmp(xd, xd0, sizeof xd) && !memcmp(af, af0, sizeof af0));
    CHECK(ol_optim_average(o, 2) == NULL && ol_optim_average(o, -1) == NULL);
    ol_optim_free(o);

    double x[1] = {0}, g[1] = {1};
    ol_optim *adam = fixture_optim_f64("adam", 0.1, x, g, 1);
    CHECK(adam);
    CHECK(ol_optim_average(adam, 0) == NULL);
    CHECK_EQ_INT(ol_optim_swap_average(adam), OL_ESTATE);
    CHECK(strstr(ol_error(), "only asgd") != NULL);
    ol_optim_free(adam);
}

/* ---- rprop ---- */

TEST(rprop_grows_the_step_while_the_sign_holds_and_cuts_it_on_a_flip) {
    /* lr 0.1, eta_minus 0.5, eta_plus 2, step sizes in [0.01, 0.3]; g = +1 +1 +1 -1 -1 -1.
     * t1: prev 0: s = 0.1, x = -0.1;  t2: s = 0.2, x = -0.3;  t3: s = 0.4 -> 0.3, x = -0.6
     * t4: flip: s = 0.15, no move, prev = 0;  t5: prev 0: s = 0.15, x = -0.45;  t6: s = 0.3, x = -0.15 */
    double x[1] = {0}, g[1], seq[6] = {1, 1, 1, -1, -1, -1}, want[6] = {-0.1, -0.3, -0.6, -0.6, -0.45, -0.15};
    ol_optim *o = fixture_optim_f64("rprop:eta_minus=0.5,eta_plus=2,step_min=0.01,step_max=0.3", 0.1, x, g, 1);
    CHECK(o);
    for (int t = 0; t < 6; t++) {
        CHECK_EQ_INT(steps_with(o, g, seq + t, 1), 0);
        CHECK_NEAR(x[0], want[t], TOL);
    }
    ol_optim_free(o);
}

TEST(rprop_step_size_stops_at_step_min_and_ignores_later_lrs) {
    /* alternating signs: the step halves at each flip (0.1, 0.05, 0.025, 0.0125, then 0.01 = step_min)
     * and moves every other step: x = -0.1 -0.05 -0.025 -0.0125 -0.01 = -0.1975. An lr set after the
     * first step changes nothing (torch reads it only to fill the step sizes). */
    double x[1] = {0}, g[1];
    ol_optim *o = fixture_optim_f64("rprop:eta_minus=0.5,eta_plus=2,step_min=0.01,step_max=1", 0.1, x, g, 1);
    CHECK(o);
    for (int t = 0; t < 9; t++) {
        g[0] = t % 2 ? -1 : 1;
        CHECK_EQ_INT(ol_optim_step(o), 0);
        if (t == 0) CHECK_EQ_INT(ol_optim_set_lr(o, -1, 100), 0);
    }
    CHECK_NEAR(x[0], -0.1975, TOL);
    ol_optim_free(o);
}

/* ---- lbfgs ---- */

/* f = sum_i c_i x_i^2 / 2 over the double groups of `ctx`, in order; counts calls */
typedef struct {
    double *x[2], *g[2];
    size_t n[2];
    int groups;
    const double *c;
    long calls, fail_at;
    double f_override;   /* NaN: none */
} quad;

static int quad_closure(void *userdata, double *f) {
    quad *q = userdata;
    q->calls++;
    if (q->fail_at && q->calls == q->fail_at) return ol_fail(OL_EIO, "the closure failed at call %ld", q->calls);
    double s = 0;
    size_t k = 0;
    for (int j = 0; j < q->groups; j++)
        for (size_t i = 0; i < q->n[j]; i++, k++) {
            q->g[j][i] = q->c[k] * q->x[j][i];
            s += 0.5 * q->c[k] * q->x[j][i] * q->x[j][i];
        }
    *f = isnan(q->f_override) ? s : q->f_override;
    return OL_OK;
}

static const double unit[1] = {2};

TEST(lbfgs_takes_the_secant_step_to_the_minimum_of_a_parabola) {
    /* f = x^2 (c = 2) from 3, lr 1, one iteration a step (max_iter 1).
     * step 1: g = 6, d = -6, t = min(1, 1/|g|_1) lr = 1/6: x = 2 (one evaluation: none after the
     *         last iteration)
     * step 2: g = 4; y = 4 - 6 = -2, s = d t = -1, y.s = 2 > 1e-10: kept, ro = 1/2, H_diag = y.s/y.y
     *         = 1/2; q = -4, al = s.q ro = 2, q -= al y: 0; d = q H_diag = 0; be = y.d ro = 0,
     *         d += (al - be) s = -2; t = lr = 1: x = 0, the minimum */
    double x[1] = {3}, g[1];
    quad q = {{x}, {g}, {1}, 1, unit, 0, 0, NAN};
    ol_optim *o = fixture_optim_f64("lbfgs:max_iter=1", 1, x, g, 1);
    CHECK(o);
    CHECK(ol_optim_needs_closure(o));
    ol_optim_set_closure(o, quad_closure, &q);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_NEAR(x[0], 2, TOL);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_NEAR(x[0], 0, TOL);
    CHECK_EQ_INT(ol_optim_evaluations(o), 2);
    CHECK_EQ_INT(q.calls, 2);
    CHECK_EQ_INT(ol_optim_step_count(o), 2);
    ol_optim_free(o);
}

TEST(lbfgs_one_step_iterates_until_the_gradient_is_small_within_max_eval) {
    static const double c[3] = {1, 10, 100};
    double x[3] = {1, -1, 0.5}, g[3];
    quad q = {{x}, {g}, {3}, 1, c, 0, 0, NAN};
    ol_optim *o = fixture_optim_f64("lbfgs", 1, x, g, 3);
    CHECK(o);
    ol_optim_set_closure(o, quad_closure, &q);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_EQ_INT(ol_optim_step_count(o), 1);
    CHECK_MSG(q.calls > 1 && q.calls <= 25, "one step evaluated f %ld times (at most max_eval = 25)", q.calls);
    CHECK_EQ_INT(ol_optim_evaluations(o), q.calls);
    double f;
    quad_closure(&q, &f);
    CHECK_MSG(f < 1e-6, "f = %g after one step of up to 20 iterations", f);
    /* with max_eval 3, the step ends after 3 evaluations whatever max_iter says */
    double y[3] = {1, -1, 0.5}, gy[3];
    quad qy = {{y}, {gy}, {3}, 1, c, 0, 0, NAN};
    ol_optim *few = fixture_optim_f64("lbfgs:max_iter=50,max_eval=3", 1, y, gy, 3);
    CHECK(few);
    ol_optim_set_closure(few, quad_closure, &qy);
    CHECK_EQ_INT(ol_optim_step(few), 0);
    CHECK_EQ_INT(qy.calls, 3);
    ol_optim_free(o);
    ol_optim_free(few);
}

TEST(lbfgs_strong_wolfe_solves_a_quadratic_in_a_step) {
    static const double c[2] = {1, 30};
    double x[2] = {2, 1}, g[2];
    quad q = {{x}, {g}, {2}, 1, c, 0, 0, NAN};
    ol_optim *o = fixture_optim_f64("lbfgs:line_search=strong_wolfe", 1, x, g, 2);
    CHECK(o);
    ol_optim_set_closure(o, quad_closure, &q);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    /* f from 17 to below tolerance_change = 1e-9, where the change of f (< 1e-9) ends the step: x is
     * within 1e-5 of the minimum, as torch's (tests/ref has the traces) */
    double f;
    quad_closure(&q, &f);
    CHECK_MSG(f < 1e-9 && fabs(x[0]) < 1e-5 && fabs(x[1]) < 1e-5, "f = %g at x = (%g, %g) after one step", f, x[0],
              x[1]);
    ol_optim_free(o);
}

/* L-BFGS sees the groups as one vector: x split 2 + 1 over two groups steps as one group of 3 */
TEST(lbfgs_over_two_groups_computes_as_over_one) {
    static const double c[3] = {1, 7, 40};
    const char *specs[2] = {"lbfgs:max_iter=3,history_size=2", "lbfgs:max_iter=4,line_search=strong_wolfe"};
    for (int s = 0; s < 2; s++) {
        double one[3] = {1, -2, 0.3}, g1[3], a[2] = {1, -2}, b[1] = {0.3}, ga[2], gb[1];
        quad q1 = {{one}, {g1}, {3}, 1, c, 0, 0, NAN}, q2 = {{a, b}, {ga, gb}, {2, 1}, 2, c, 0, 0, NAN};
        ol_optim *o1 = fixture_optim_f64(specs[s], 0.8, one, g1, 3), *o2 = fixture_optim_f64(specs[s], 0.8, a, ga, 2);
        CHECK(o1 && o2);
        CHECK_EQ_INT(ol_optim_add_group_f64(o2, b, gb, 1, -1, -1), 0);
        ol_optim_set_closure(o1, quad_closure, &q1);
        ol_optim_set_closure(o2, quad_closure, &q2);
        for (int t = 0; t < 4; t++) {
            CHECK_EQ_INT(ol_optim_step(o1), 0);
            CHECK_EQ_INT(ol_optim_step(o2), 0);
        }
        CHECK_MSG(one[0] == a[0] && one[1] == a[1] && one[2] == b[0], "%s: (%.17g %.17g %.17g) vs (%.17g %.17g %.17g)",
                  specs[s], one[0], one[1], one[2], a[0], a[1], b[0]);
        CHECK_EQ_INT(q1.calls, q2.calls);
        ol_optim_free(o1);
        ol_optim_free(o2);
    }
}

TEST(lbfgs_refuses_a_missing_closure_a_nonfinite_start_and_passes_closure_errors_on) {
    double x[2] = {1, 2}, g[2];
    quad q = {{x}, {g}, {2}, 1, (const double[]){1, 1}, 0, 0, NAN};
    ol_optim *o = fixture_optim_f64("lbfgs", 1, x, g, 2);
    CHECK(o);
    CHECK_EQ_INT(ol_optim_step(o), OL_ESTATE);
    CHECK(strstr(ol_error(), "ol_optim_set_closure") != NULL);
    ol_optim_set_closure(o, quad_closure, &q);
    q.f_override = INFINITY;   /* f = inf at the start */
    CHECK_EQ_INT(ol_optim_step(o), OL_ENUMERIC);
    CHECK(strstr(ol_error(), "refused") != NULL);
    CHECK(x[0] == 1 && x[1] == 2 && ol_optim_step_count(o) == 0);
    q.f_override = NAN;
    q.fail_at = q.calls + 2;   /* the evaluation after the first move */
    CHECK_EQ_INT(ol_optim_step(o), OL_EIO);
    CHECK(strstr(ol_error(), "closure failed") != NULL);
    CHECK_EQ_INT(ol_optim_step_count(o), 0);
    ol_optim_free(o);
}

TEST(lbfgs_groups_share_one_lr_and_take_no_weight_decay) {
    double x[2] = {0}, g[2] = {0};
    ol_optim *o = fixture_optim_f64("lbfgs", 1, x, g, 1);
    CHECK(o);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, x + 1, g + 1, 1, 0.5, -1), OL_EARG);
    CHECK(strstr(ol_error(), "group 0's learning rate") != NULL);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, x + 1, g + 1, 1, -1, 0.1), OL_EARG);
    CHECK(strstr(ol_error(), "no weight decay") != NULL);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, x + 1, g + 1, 1, 1, 0), 0);
    ol_optim_free(o);
    ol_optim_params p = ol_optim_default_params(OL_OPTIM_LBFGS);
    CHECK(p.lr == 1 && p.max_iter == 20 && p.max_eval == 0 && p.history_size == 100 && p.tolerance_grad == 1e-7 &&
          p.tolerance_change == 1e-9 && p.line_search == OL_LBFGS_NONE);
}

/* ---- bad hyper-parameters: each names the key and its range ---- */

static int create_fails(const char *spec, const char *needle) {
    ol_optim *o = NULL;
    int rc = ol_optim_create(&o, spec, 0.1);
    if (rc != OL_EARG || o) {
        ol_optim_free(o);
        return 0;
    }
    if (!strstr(ol_error(), needle)) {
        fprintf(stderr, "    %s: message '%s' lacks '%s'\n", spec, ol_error(), needle);
        return 0;
    }
    return 1;
}

TEST(invalid_hyper_parameters_of_the_new_kinds_are_refused_with_key_and_range) {
    CHECK(create_fails("adadelta:rho=1.5", "invalid rho 1.5 (must be in [0, 1])"));
    CHECK(create_fails("adadelta:eps=-1", "invalid eps -1 (must be >= 0)"));
    CHECK(create_fails("adadelta:weight_decay=-1", "weight_decay -1 (must be >= 0)"));
    CHECK(create_fails("adamax:beta1=1", "invalid beta1 1 (must be in [0, 1))"));
    CHECK(create_fails("adamax:beta2=-0.5", "invalid beta2 -0.5 (must be in [0, 1))"));
    CHECK(create_fails("asgd:lambd=-1", "invalid lambd -1 (must be >= 0)"));
    CHECK(create_fails("asgd:alpha=-0.5", "invalid alpha -0.5 (must be >= 0)"));
    CHECK(create_fails("asgd:t0=-3", "invalid t0 -3 (must be >= 0)"));
    CHECK(create_fails("rprop:eta_minus=1", "invalid eta_minus 1 (must be in (0, 1))"));
    CHECK(create_fails("rprop:eta_plus=0.9", "invalid eta_plus 0.9 (must be > 1)"));
    CHECK(create_fails("rprop:step_min=-1", "invalid step_min -1 (must be >= 0)"));
    CHECK(create_fails("rprop:step_min=1,step_max=0.5", "invalid step_max 0.5 (must be >= step_min 1)"));
    CHECK(create_fails("rprop:weight_decay=0.1", "torch's Rprop has no weight_decay"));
    CHECK(create_fails("lbfgs:max_iter=0", "max_iter: 0 is out of range [1, 1000000]"));
    CHECK(create_fails("lbfgs:max_eval=0", "max_eval: 0 is out of range"));
    CHECK(create_fails("lbfgs:history_size=0", "history_size: 0 is out of range [1, 100000]"));
    CHECK(create_fails("lbfgs:tolerance_grad=-1", "invalid tolerance_grad -1 (must be >= 0)"));
    CHECK(create_fails("lbfgs:tolerance_change=-1", "invalid tolerance_change -1 (must be >= 0)"));
    CHECK(create_fails("lbfgs:line_search=backtracking", "line_search 'backtracking' is unknown; valid: none, strong_wolfe"));
    CHECK(create_fails("lbfgs:weight_decay=0", "torch's LBFGS has no weight_decay"));
    CHECK(create_fails("asgd:momentum=0.9", "valid keys: lambd, alpha, t0, weight_decay"));
    ol_optim_params p = ol_optim_default_params(OL_OPTIM_RPROP);
    p.weight_decay = 0.1;   /* through the struct too */
    ol_optim *o = NULL;
    CHECK_EQ_INT(ol_optim_create_params(&o, &p), OL_EARG);
    CHECK(strstr(ol_error(), "must be 0") != NULL);
}

/* ---- state ---- */

/* f = sum c_i x_i^2 / 2 over a float group of 4 and a double group of 3 */
typedef struct {
    float *xf, *gf;
    double *xd, *gd;
} mixed;

static int mixed_closure(void *userdata, double *f) {
    mixed *m = userdata;
    double s = 0;
    for (int i = 0; i < 4; i++) {
        m->gf[i] = (float)(i + 1) * m->xf[i];
        s += 0.5 * (i + 1) * (double)m->xf[i] * m->xf[i];
    }
    for (int i = 0; i < 3; i++) {
        m->gd[i] = (i + 5) * m->xd[i] + 0.1;
        s += 0.5 * (i + 5) * m->xd[i] * m->xd[i] + 0.1 * m->xd[i];
    }
    *f = s;
    return OL_OK;
}

static ol_optim *make_mixed(const char *spec, const char *sched, mixed *m) {
    ol_optim *o;
    if (ol_optim_create(&o, spec, 0.7)) return NULL;
    if (ol_optim_add_group(o, m->xf, m->gf, 4, -1, -1) || ol_optim_add_group_f64(o, m->xd, m->gd, 3, -1, -1) ||
        ol_optim_set_schedule(o, sched, 1)) {
        ol_optim_free(o);
        return NULL;
    }
    ol_optim_set_closure(o, mixed_closure, m);
    return o;
}

/* L-BFGS's direction, history ring (history_size 2: it wraps), scalars and counters come back from
 * the state blob: a run resumed from it continues to the same bits, float and double groups alike. */
TEST(lbfgs_state_round_trip_continues_bit_exactly) {
    const char *specs[2] = {"lbfgs:history_size=2,max_iter=3", "lbfgs:history_size=3,max_iter=4,line_search=strong_wolfe"};
    for (int s = 0; s < 2; s++) {
        float xf[4] = {1, -1, 0.5f, 2}, gf[4], xf2[4], gf2[4];
        double xd[3] = {0.3, -0.7, 1.1}, gd[3], xd2[3], gd2[3];
        mixed m = {xf, gf, xd, gd}, m2 = {xf2, gf2, xd2, gd2};
        ol_optim *o = make_mixed(specs[s], "cosine:t_max=20", &m);
        CHECK_MSG(o, "%s: %s", specs[s], ol_error());
        for (int t = 0; t < 3; t++) CHECK_EQ_INT(ol_optim_step(o), 0);
        size_t size = ol_optim_state_size(o);
        unsigned char *blob = malloc(size);
        CHECK_EQ_INT(ol_optim_state_save(o, blob, size), 0);
        long evaluations = ol_optim_evaluations(o);
        memcpy(xf2, xf, sizeof xf);
        memcpy(xd2, xd, sizeof xd);
        for (int t = 0; t < 3; t++) CHECK_EQ_INT(ol_optim_step(o), 0);
        ol_optim *r = make_mixed(specs[s], "cosine:t_max=20", &m2);
        CHECK(r);
        CHECK_MSG(ol_optim_state_load(r, blob, size) == 0, "%s: %s", specs[s], ol_error());
        CHECK_EQ_INT(ol_optim_evaluations(r), evaluations);
        for (int t = 0; t < 3; t++) CHECK_EQ_INT(ol_optim_step(r), 0);
        CHECK_MSG(!memcmp(xf, xf2, sizeof xf) && !memcmp(xd, xd2, sizeof xd), "%s differs after resume", specs[s]);
        CHECK_EQ_INT(ol_optim_evaluations(o), ol_optim_evaluations(r));
        free(blob);
        ol_optim_free(o);
        ol_optim_free(r);
    }
}

/* Corrupt scalars (checksum made right) are refused and change nothing. */
TEST(lbfgs_and_asgd_states_with_impossible_scalars_are_refused) {
    float xf[4] = {1, -1, 0.5f, 2}, gf[4];
    double xd[3] = {0.3, -0.7, 1.1}, gd[3];
    mixed m = {xf, gf, xd, gd};
    ol_optim *o = make_mixed("lbfgs:history_size=2", "constant", &m);
    CHECK(o);
    for (int t = 0; t < 2; t++) CHECK_EQ_INT(ol_optim_step(o), 0);
    size_t size = ol_optim_state_size(o);
    unsigned char *blob = malloc(size), *before = malloc(size), *after = malloc(size);
    CHECK_EQ_INT(ol_optim_state_save(o, blob, size), 0);
    CHECK_EQ_INT(ol_optim_state_save(o, before, size), 0);
    /* the scalars are the last 8 (6 + history 2) doubles before the CRC; the ring's fill is the 5th */
    unsigned char *num_old = blob + size - 4 - 8 * 8 + 4 * 8;
    CHECK(ol_get_f64(num_old) >= 1 && ol_get_f64(num_old) <= 2);
    ol_put_f64(num_old, 3);
    ol_put_u32(blob + size - 4, ol_crc32(0, blob, size - 4));
    CHECK_EQ_INT(ol_optim_state_load(o, blob, size), OL_EFORMAT);
    CHECK(strstr(ol_error(), "lbfgs's counters") != NULL);
    CHECK_EQ_INT(ol_optim_state_save(o, after, size), 0);
    CHECK(!memcmp(before, after, size));
    free(blob);
    free(before);
    free(after);
    ol_optim_free(o);

    double x[2] = {1, 2}, g[2] = {1, 1};
    ol_optim *a = fixture_optim_f64("asgd", 0.1, x, g, 2);
    CHECK(a);
    CHECK_EQ_INT(ol_optim_step(a), 0);
    size = ol_optim_state_size(a);
    blob = malloc(size);
    CHECK_EQ_INT(ol_optim_state_save(a, blob, size), 0);
    ol_put_f64(blob + size - 12, NAN);   /* group 0's eta */
    ol_put_u32(blob + size - 4, ol_crc32(0, blob, size - 4));
    CHECK_EQ_INT(ol_optim_state_load(a, blob, size), OL_EFORMAT);
    CHECK(strstr(ol_error(), "eta") != NULL);
    free(blob);
    ol_optim_free(a);
}

/* ---- the command line: train, lr-find, sweep, optimize, --help ---- */

static char out[1 << 15];
#define sh(...) ol_test_sh(out, sizeof out, __VA_ARGS__)

static const char *data(void) { return ol_test_dataset("t2-data", 300, 60, 8, 3, 19); }

#define TRAIN "%s train --data %s --model mlp:64-16-3 --epochs 2 --threads 1 --quiet"

TEST(train_runs_lbfgs_full_batch_and_refuses_mini_batches_unless_insisted) {
    CHECK_EQ_INT(sh(TRAIN " --opt lbfgs:max_iter=3 --lr 0.5", ol_test_bin(), data()), 2);
    CHECK_MSG(strstr(out, "lbfgs is for full-batch training") && strstr(out, "--batch full") &&
              strstr(out, "--lbfgs-minibatch"), "%s", out);
    CHECK_MSG(sh(TRAIN " --opt lbfgs:max_iter=3 --lr 0.5 --batch full", ol_test_bin(), data()) == 0, "%s", out);
    CHECK_MSG(strstr(out, "2 steps"), "full batch: one step an epoch: %s", out);
    CHECK_MSG(sh(TRAIN " --opt lbfgs:max_iter=3 --lr 0.5 --lbfgs-minibatch", ol_test_bin(), data()) == 0, "%s", out);
    CHECK_MSG(sh(TRAIN " --opt lbfgs:max_iter=3,line_search=strong_wolfe --lr 1 --batch full --no-decay-bias",
                 ol_test_bin(), data()) == 0, "groups of weights and biases: %s", out);
}

TEST(train_eval_average_evaluates_and_saves_asgds_average) {
    const char *plain = ol_test_path("asgd-x.bin"), *avg = ol_test_path("asgd-ax.bin"), *late = ol_test_path("asgd-late.bin");
    CHECK_MSG(sh(TRAIN " --opt asgd:t0=1 --lr 0.1 --save %s", ol_test_bin(), data(), plain) == 0, "%s", out);
    CHECK_MSG(sh(TRAIN " --opt asgd:t0=1 --lr 0.1 --eval-average --save %s", ol_test_bin(), data(), avg) == 0, "%s", out);
    CHECK_MSG(!ol_test_same_file(plain, avg), "averaging from step 4 of 6 on (mu = 1 / (t - 1 - t0) < 1), the saved average must differ from the last iterate");
    /* t0 past the run's 6 steps: no averaging yet, ax = x */
    CHECK_MSG(sh(TRAIN " --opt asgd:t0=1000 --lr 0.1 --eval-average --save %s", ol_test_bin(), data(), late) == 0, "%s", out);
    CHECK_MSG(sh(TRAIN " --opt asgd:t0=1000 --lr 0.1 --save %s", ol_test_bin(), data(), plain) == 0, "%s", out);
    CHECK(ol_test_same_file(plain, late));
    CHECK_EQ_INT(sh(TRAIN " --opt adam --eval-average", ol_test_bin(), data()), 2);
    CHECK_MSG(strstr(out, "--eval-average: only asgd keeps an averaged iterate; the optimizer is adam"), "%s", out);
}

TEST(lr_find_runs_the_new_kinds_and_refuses_rprop_with_the_reason) {
    const char *kinds[4] = {"adadelta", "adamax", "asgd", "lbfgs:max_iter=2"};
    for (int k = 0; k < 4; k++)
        CHECK_MSG(sh("%s lr-find --data %s --model mlp:64-16-3 --opt %s --steps 12 --threads 1", ol_test_bin(), data(),
                     kinds[k]) == 0 && strstr(out, "suggested lr"), "%s: %s", kinds[k], out);
    CHECK_EQ_INT(sh("%s lr-find --data %s --model mlp:64-16-3 --opt rprop", ol_test_bin(), data()), 2);
    CHECK_MSG(strstr(out, "rprop takes the lr only as its first step size"), "%s", out);
}

TEST(sweep_trains_the_new_kinds) {
    const char *dir = ol_test_path("t2-sweep");
    CHECK_MSG(sh("%s sweep --grid 'opt=adadelta/adamax/asgd/rprop/lbfgs:max_iter=2,lr=0.05,batch=full' --epochs 1 "
                 "--data %s --model mlp:64-16-3 --out %s --quiet",
                 ol_test_bin(), data(), dir) == 0, "%s", out);
    CHECK_MSG(strstr(out, "5 trials (5 ok"), "%s", out);
}

TEST(optimize_traces_asgds_average_and_counts_lbfgss_evaluations) {
    const char *trace = ol_test_path("asgd.csv");
    CHECK_MSG(sh("%s optimize --fn quadratic --x0 1,2 --opt asgd:t0=2 --lr 0.1 --steps 5 --trace %s --quiet && head -1 %s",
                 ol_test_bin(), trace, trace) == 0, "%s", out);
    CHECK_MSG(strstr(out, "\nax = ") && strstr(out, "step,lr,f,x0,x1,ax0,ax1"), "%s", out);
    CHECK_MSG(sh("%s optimize --fn rosenbrock --x0 -1,1 --opt lbfgs --lr 1 --steps 2 --quiet", ol_test_bin()) == 0,
              "%s", out);
    CHECK_MSG(strstr(out, "function evaluations)"), "%s", out);
}

TEST(help_says_what_every_optimizer_is_for) {
    const char *commands[3] = {"train", "optimize", "lr-find"};
    for (int c = 0; c < 3; c++) {
        CHECK_EQ_INT(sh("%s %s --help", ol_test_bin(), commands[c]), 0);
        for (int k = 0; k < OL_OPTIM_N_KINDS; k++) {
            char line[256];
            snprintf(line, sizeof line, "  %-24s %s\n", ol_optim_kind_name(k), ol_optim_kind_help(k));
            CHECK_MSG(strstr(out, line), "%s --help lacks the line of %s", commands[c], ol_optim_kind_name(k));
        }
    }
}
