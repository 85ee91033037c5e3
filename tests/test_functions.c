/* test_functions.c: the analytic objectives' values and gradients against their closed forms. */
#include <string.h>

#include "optlab/common.h"
#include "optlab/functions.h"
#include "test.h"

TEST(functions_quadratic_value_and_gradient_follow_the_curvatures) {
    ol_objective o;
    CHECK(ol_fn_create(&o, "quadratic:kappa=100", 3) == 0);
    o.x[0] = 1, o.x[1] = -2, o.x[2] = 0.5;
    /* l = (1, 10, 100): f = (1*1 + 10*4 + 100*0.25) / 2 = 33, grad = l x = (1, -20, 50) */
    CHECK_NEAR(ol_fn_eval(&o, 1), 33.0, 1e-12);
    CHECK_NEAR(o.grad[0], 1, 1e-12);
    CHECK_NEAR(o.grad[1], -20, 1e-12);
    CHECK_NEAR(o.grad[2], 50, 1e-12);
    ol_fn_free(&o);
    CHECK(ol_fn_create(&o, "quadratic", 1) == 0);
    o.x[0] = 3;
    CHECK_NEAR(ol_fn_eval(&o, 1), 4.5, 1e-12);
    ol_fn_free(&o);
}

TEST(functions_rosenbrock_matches_its_closed_form) {
    ol_objective o;
    CHECK(ol_fn_create(&o, "rosenbrock", 3) == 0);
    double x[3] = {-1.2, 1.0, 0.7};
    memcpy(o.x, x, sizeof x);
    double f = 0, g[3] = {0};
    for (int i = 0; i < 2; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
        f += 100 * a * a + b * b;
        g[i] += -400 * x[i] * a - 2 * b;
        g[i + 1] += 200 * a;
    }
    CHECK_NEAR(ol_fn_eval(&o, 1), f, 1e-12);
    for (int i = 0; i < 3; i++) CHECK_NEAR(o.grad[i], g[i], 1e-12);
    o.x[0] = o.x[1] = o.x[2] = 1;
    CHECK_NEAR(ol_fn_eval(&o, 0), 0, 1e-15);
    ol_fn_free(&o);
}

TEST(functions_rastrigin_matches_its_closed_form) {
    ol_objective o;
    CHECK(ol_fn_create(&o, "rastrigin", 2) == 0);
    o.x[0] = 0.3, o.x[1] = -1.7;
    double f = 20, g[2];
    for (int i = 0; i < 2; i++) {
        f += o.x[i] * o.x[i] - 10 * cos(2 * M_PI * o.x[i]);
        g[i] = 2 * o.x[i] + 20 * M_PI * sin(2 * M_PI * o.x[i]);
    }
    CHECK_NEAR(ol_fn_eval(&o, 1), f, 1e-12);
    CHECK_NEAR(o.grad[0], g[0], 1e-11);
    CHECK_NEAR(o.grad[1], g[1], 1e-11);
    ol_fn_free(&o);
}

TEST(functions_himmelblau_is_zero_at_3_2_with_zero_gradient) {
    ol_objective o;
    CHECK(ol_fn_create(&o, "himmelblau", 2) == 0);
    o.x[0] = 3, o.x[1] = 2;
    CHECK_NEAR(ol_fn_eval(&o, 1), 0, 1e-15);
    CHECK_NEAR(o.grad[0], 0, 1e-12);
    CHECK_NEAR(o.grad[1], 0, 1e-12);
    o.x[0] = 0, o.x[1] = 0; /* (0 + 0 - 11)^2 + (0 + 0 - 7)^2 = 170, grad = (2*-7, 2*-11) = (-14, -22) */
    CHECK_NEAR(ol_fn_eval(&o, 1), 170, 1e-12);
    CHECK_NEAR(o.grad[0], -14, 1e-12);
    CHECK_NEAR(o.grad[1], -22, 1e-12);
    ol_fn_free(&o);
}

TEST(functions_bad_specs_and_dimensions_are_rejected) {
    ol_objective o;
    CHECK(ol_fn_create(&o, "sphere", 2) == OL_EARG);
    CHECK(strstr(ol_error(), "unknown function") != NULL);
    CHECK(ol_fn_create(&o, "himmelblau", 3) == OL_EARG);
    CHECK(ol_fn_create(&o, "rosenbrock", 1) == OL_EARG);
    CHECK(ol_fn_create(&o, "quadratic:kappa=0.5", 2) == OL_EARG);
    CHECK(ol_fn_create(&o, "quadratic:kapa=10", 2) == OL_EARG);
    CHECK(strstr(ol_error(), "unknown key") != NULL);
}
