/* test_optim_modern.c: issue 19's modern optimizers (lion, sf-sgd, sf-adamw, lamb, lars, adafactor, muon) as a
 * specification:
 * their first steps worked by hand from the papers' formulas (the derivation beside each test),
 * schedule-free's average and its swap, their checks, and the command line (train evaluates and
 * saves schedule-free's x, the C API leaves x in the model; lr-find, sweep, optimize, --help).
 * Against a float64 script written independently from the same papers: tests/ref
 * (test_torch_reference.c); state round trip: test_optim.c; kill and resume: test_checkpoint.c. */
#include "test.h"

#include "fixtures.h"
#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/nn.h"
#include "optlab/optim.h"
#include "optlab/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-14

static int near(double a, double b) { return fabs(a - b) <= TOL * fmax(1.0, fabs(b)); }

/* one step of o with gradient g[0] = gv */
static int step_with(ol_optim *o, double *g, double gv) {
    g[0] = gv;
    return ol_optim_step(o);
}

static ol_optim *make1(const char *spec, double lr, double *x, double *g) {
    ol_optim *o = NULL;
    if (ol_optim_create(&o, spec, lr) || ol_optim_add_group_f64(o, x, g, 1, -1, -1)) {
        fprintf(stderr, "    %s: %s\n", spec, ol_error());
        ol_optim_free(o);
        return NULL;
    }
    return o;
}

/* lr 0.1, wd 0.5 (x *= 1 - 0.05 each step), b1 0.9, b2 0.99, x0 = 1:
 * g 2:    c = 0.1 * 2 = 0.2 > 0;              x = 0.95 - 0.1 = 0.85;          m = 0.02
 * g -0.1: c = 0.018 - 0.01 = 0.008 > 0 (the momentum outvotes the gradient);
 *         x = 0.85 * 0.95 - 0.1 = 0.7075;    m = 0.0198 - 0.001 = 0.0188
 * g -0.5: c = 0.01692 - 0.05 < 0;            x = 0.7075 * 0.95 + 0.1 = 0.772125
 * g 0 with m = 0 (a fresh optimizer): sign(0) = 0, only the decay moves x */
TEST(lion_steps_by_lr_times_the_sign_of_the_interpolated_momentum) {
    double x = 1, g = 0;
    ol_optim *o = make1("lion:weight_decay=0.5", 0.1, &x, &g);
    CHECK(o);
    CHECK_EQ_INT(step_with(o, &g, 2), 0);
    CHECK_MSG(near(x, 0.85), "step 1: %.17g", x);
    CHECK_EQ_INT(step_with(o, &g, -0.1), 0);
    CHECK_MSG(near(x, 0.7075), "step 2: %.17g", x);
    CHECK_EQ_INT(step_with(o, &g, -0.5), 0);
    CHECK_MSG(near(x, 0.772125), "step 3: %.17g", x);
    ol_optim_free(o);
    x = 1;
    o = make1("lion:weight_decay=0.5", 0.1, &x, &g);
    CHECK_EQ_INT(step_with(o, &g, 0), 0);
    CHECK_MSG(x == 0.95, "sign(0) = 0: %.17g", x);
    CHECK(ol_optim_average(o, 0) == NULL && !ol_optim_evaluates_average(o));
    ol_optim_free(o);
}

/* f = x^2 (g = 2y), x0 = 1, momentum 0.5, lr 0.1, constant lr: c_t = 1/t.
 * t=1: g = 2,    z = 0.8,   x = 0.8,                    y = 0.8
 * t=2: g = 1.6,  z = 0.64,  x = 0.8/2 + 0.64/2 = 0.72,  y = 0.36 + 0.32 = 0.68
 * t=3: g = 1.36, z = 0.504, x = 0.72*2/3 + 0.504/3 = 0.648, y = 0.324 + 0.252 = 0.576 */
TEST(sf_sgd_takes_gradients_at_y_and_averages_z_into_x) {
    double y = 1, g = 0;
    ol_optim *o = make1("sf-sgd:momentum=0.5", 0.1, &y, &g);
    CHECK(o);
    const double *x = ol_optim_average(o, 0);
    CHECK(x && *x == 1 && ol_optim_evaluates_average(o));
    const double zs[3] = {0.8, 0.64, 0.504}, xs[3] = {0.8, 0.72, 0.648}, ys[3] = {0.8, 0.68, 0.576};
    for (int t = 0; t < 3; t++) {
        CHECK_EQ_INT(step_with(o, &g, 2 * y), 0);
        CHECK_MSG(near(*x, xs[t]) && near(y, ys[t]), "step %d: x %.17g y %.17g (z %g)", t + 1, *x, y, zs[t]);
    }
    /* the swap is exact both ways */
    double y_before = y, x_before = *x;
    CHECK_EQ_INT(ol_optim_swap_average(o), 0);
    CHECK(y == x_before && *x == y_before);
    CHECK_EQ_INT(ol_optim_swap_average(o), 0);
    CHECK(y == y_before && *x == x_before);
    ol_optim_free(o);
}

/* warmup_steps 2: lr 0.05 then 0.1; the weights lr_max^2: 0.0025, then 0.01, so c_2 = 0.01 / 0.0125
 * = 0.8. t=1: z = 1 - 0.05 * 2 = 0.9 = x = y. t=2: g = 1.8, z = 0.72, x = 0.2 * 0.9 + 0.8 * 0.72
 * = 0.756, y = 0.378 + 0.36 = 0.738 */
TEST(sf_sgd_warmup_weights_the_average_by_lr_max_squared) {
    double y = 1, g = 0;
    ol_optim *o = make1("sf-sgd:momentum=0.5,warmup_steps=2", 0.1, &y, &g);
    CHECK(o);
    const double *x = ol_optim_average(o, 0);
    CHECK_EQ_INT(step_with(o, &g, 2 * y), 0);
    CHECK_MSG(near(*x, 0.9) && near(y, 0.9), "step 1: x %.17g y %.17g", *x, y);
    CHECK_EQ_INT(step_with(o, &g, 2 * y), 0);
    CHECK_MSG(near(*x, 0.756) && near(y, 0.738), "step 2: x %.17g y %.17g", *x, y);
    ol_optim_free(o);
}

/* sf-adamw, lr 0.1, eps 0: step 1's lr is 0.1 sqrt(1 - b2), v = (1 - b2) g^2, so the step
 * lr sqrt(1-b2) g / (sqrt(1-b2) |g|) = 0.1 whatever g: z = x = y = 0.9 from 1 (g = 2).
 * With weight_decay 0.5, z -= lr_1 wd y first: 0.9 - 0.05 sqrt(0.001). */
TEST(sf_adamw_first_step_moves_by_lr_and_decays_at_y) {
    double y = 1, g = 0;
    ol_optim *o = make1("sf-adamw:eps=0", 0.1, &y, &g);
    CHECK(o);
    CHECK_EQ_INT(step_with(o, &g, 2), 0);
    CHECK_MSG(near(y, 0.9) && near(*(const double *)ol_optim_average(o, 0), 0.9), "y %.17g", y);
    ol_optim_free(o);
    y = 1;
    o = make1("sf-adamw:eps=0,weight_decay=0.5", 0.1, &y, &g);
    CHECK_EQ_INT(step_with(o, &g, 2), 0);
    CHECK_MSG(near(y, 0.9 - 0.05 * sqrt(0.001)), "y %.17g", y);
    ol_optim_free(o);
}

/* x = [3, 4 | 1] as two tensors (2 x 1, 1 x 1), lr 0.1.
 * lars (momentum 0, trust 1): g = [1, 0 | 2]: u = g; r = 5 / 1 and 1 / 2: x = [2.5, 4 | 0.9].
 * lamb (eps 0): the first step's u = m^ / sqrt(v^) = sign(g), g = [1, -2 | 3]: r = 5 / sqrt(2) and
 * 1: x = [3 - 0.5 / sqrt(2), 4 + 0.5 / sqrt(2) | 0.9]. One tensor over all three (no declaration):
 * lars's r = sqrt(26 / 5). */
static ol_optim *make3(const char *spec, double *x, double *g, int declare) {
    const size_t rows[2] = {2, 1}, cols[2] = {1, 1};
    ol_optim *o = NULL;
    if (ol_optim_create(&o, spec, 0.1) || ol_optim_add_group_f64(o, x, g, 3, -1, -1) ||
        (declare && ol_optim_set_tensors(o, 0, 2, rows, cols))) {
        fprintf(stderr, "    %s: %s\n", spec, ol_error());
        ol_optim_free(o);
        return NULL;
    }
    return o;
}

TEST(lars_and_lamb_take_a_trust_ratio_per_declared_tensor) {
    double x[3] = {3, 4, 1}, g[3] = {1, 0, 2};
    ol_optim *o = make3("lars:momentum=0,trust_coefficient=1", x, g, 1);
    CHECK(o);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_MSG(near(x[0], 2.5) && x[1] == 4 && near(x[2], 0.9), "lars: %.17g %.17g %.17g", x[0], x[1], x[2]);
    ol_optim_free(o);
    double y[3] = {3, 4, 1};
    o = make3("lars:momentum=0,trust_coefficient=1", y, g, 0);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_MSG(near(y[0], 3 - 0.1 * sqrt(26. / 5)), "one tensor: %.17g", y[0]);
    ol_optim_free(o);
    double z[3] = {3, 4, 1}, h[3] = {1, -2, 3};
    o = make3("lamb:eps=0", z, h, 1);
    CHECK(o);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_MSG(near(z[0], 3 - 0.5 / sqrt(2)) && near(z[1], 4 + 0.5 / sqrt(2)) && near(z[2], 0.9), "lamb: %.17g %.17g %.17g",
              z[0], z[1], z[2]);
    ol_optim_free(o);
}

/* adafactor on a 2 x 2 tensor of ones, lr 0.01, g = [[1, 2], [3, 4]]: step 1 lerps fully (1^-0.8 = 1):
 * row means of g^2 r = [2.5, 12.5], column means c = [5, 10], mean(r) = 7.5, so
 * v = r c^T / 7.5 = [[5/3, 10/3], [25/3, 50/3]]; u = g / sqrt(v); ||u||^2 = 0.6 + 1.2 + 1.08 + 0.96
 * = 3.84 < (sqrt(4) d)^2 = 4: no clipping; alpha = max(1e-3, ||x|| / 2 = 1) min(0.01, 1) = 0.01.
 * The same four values as a vector: v = g^2, u = sign(g), ||u|| / 2 = 1: x = 1 - 0.01. */
TEST(adafactor_factors_a_2x2_tensor_and_not_a_vector) {
    double x[4] = {1, 1, 1, 1}, g[4] = {1, 2, 3, 4};
    const size_t rows[1] = {2}, cols[1] = {2};
    ol_optim *o = NULL;
    CHECK_EQ_INT(ol_optim_create(&o, "adafactor", 0.01), 0);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, x, g, 4, -1, -1), 0);
    CHECK_EQ_INT(ol_optim_set_tensors(o, 0, 1, rows, cols), 0);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    const double v[4] = {5. / 3, 10. / 3, 25. / 3, 50. / 3};
    for (int i = 0; i < 4; i++) CHECK_MSG(near(x[i], 1 - 0.01 * g[i] / sqrt(v[i])), "x[%d] = %.17g", i, x[i]);
    ol_optim_free(o);
    double y[4] = {1, 1, 1, 1};
    CHECK_EQ_INT(ol_optim_create(&o, "adafactor", 0.01), 0);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, y, g, 4, -1, -1), 0);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    for (int i = 0; i < 4; i++) CHECK_MSG(near(y[i], 0.99), "vector: y[%d] = %.17g", i, y[i]);
    ol_optim_free(o);
}

/* Newton-Schulz acts on each singular value s of the normalized update alone: 5 times
 * s = 3.4445 s - 4.7750 s^3 + 2.0315 s^5 */
static double ns5(double s) {
    for (int i = 0; i < 5; i++) s = 3.4445 * s - 4.7750 * s * s * s + 2.0315 * s * s * s * s * s;
    return s;
}

/* muon, lr 0.1, x = 0 (so weight decay moves nothing), step 1: the nesterov update is a multiple
 * of g (b = 0.05 g, u = lerp(g, b, 0.95) = 0.0975 g), normalized to ||u|| = 1.
 * Rank 1, g = [1, 2]^T [1, 0, 2] (2 x 3, ||g|| = 5): one singular value 1, O = ns5(1) g / 5, the step
 * lr sqrt(max(1, 3 / 2)). diag(3, 1) (2 x 2): singular values 3/sqrt(10), 1/sqrt(10), O =
 * diag(ns5(.), ns5(.)), scale 1. A vector (3 x 1) takes AdamW: eps 0, x = -lr sign(g). */
TEST(muon_orthogonalizes_2d_momentum_by_newton_schulz_and_steps_vectors_by_adamw) {
    double x[6] = {0}, g[6] = {1, 0, 2, 2, 0, 4};
    const size_t r23[1] = {2}, c23[1] = {3}, r22[1] = {2}, c22[1] = {2}, r31[1] = {3}, c31[1] = {1};
    ol_optim *o = NULL;
    CHECK_EQ_INT(ol_optim_create(&o, "muon", 0.1), 0);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, x, g, 6, -1, -1), 0);
    CHECK_EQ_INT(ol_optim_set_tensors(o, 0, 1, r23, c23), 0);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    for (int i = 0; i < 6; i++)
        CHECK_MSG(fabs(x[i] + 0.1 * sqrt(1.5) * ns5(1) * g[i] / 5) < 1e-13, "rank 1: x[%d] = %.17g", i, x[i]);
    ol_optim_free(o);
    double y[4] = {0}, h[4] = {3, 0, 0, 1};
    CHECK_EQ_INT(ol_optim_create(&o, "muon:weight_decay=0.5", 0.1), 0);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, y, h, 4, -1, -1), 0);
    CHECK_EQ_INT(ol_optim_set_tensors(o, 0, 1, r22, c22), 0);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_MSG(fabs(y[0] + 0.1 * ns5(3 / sqrt(10))) < 1e-13 && fabs(y[3] + 0.1 * ns5(1 / sqrt(10))) < 1e-13 && y[1] == 0 &&
              y[2] == 0, "diag: %.17g %.17g %.17g %.17g", y[0], y[1], y[2], y[3]);
    ol_optim_free(o);
    double z[3] = {1, 1, 1}, k[3] = {2, -3, 0.5};
    CHECK_EQ_INT(ol_optim_create(&o, "muon:eps=0", 0.1), 0);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, z, k, 3, -1, -1), 0);
    CHECK_EQ_INT(ol_optim_set_tensors(o, 0, 1, r31, c31), 0);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_MSG(near(z[0], 0.99 - 0.1) && near(z[1], 0.99 + 0.1) && near(z[2], 0.99 - 0.1), "adamw: %.17g %.17g %.17g", z[0],
              z[1], z[2]);
    ol_optim_free(o);
}

TEST(set_tensors_must_cover_the_group_exactly_before_the_first_step) {
    double x[3] = {1, 2, 3}, g[3] = {0};
    ol_optim *o = make3("lamb", x, g, 0);
    CHECK(o);
    const size_t r2[2] = {2, 2}, c2[2] = {1, 1}, r1[1] = {3}, c0[1] = {0};
    CHECK_EQ_INT(ol_optim_set_tensors(o, 0, 2, r2, c2), OL_EARG);
    CHECK_MSG(strstr(ol_error(), "tensor 1 (2 x 1) is empty or runs past the group's 3 values"), "%s", ol_error());
    CHECK_EQ_INT(ol_optim_set_tensors(o, 0, 1, r1, c0), OL_EARG);
    CHECK_EQ_INT(ol_optim_set_tensors(o, 1, 1, r1, c2), OL_EARG);
    CHECK_EQ_INT(ol_optim_set_tensors(o, 0, 1, r2, c2), OL_EARG);
    CHECK_MSG(strstr(ol_error(), "the tensors hold 2 values, the group 3"), "%s", ol_error());
    CHECK_EQ_INT(ol_optim_set_tensors(o, 0, 1, r1, c2), 0);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    CHECK_EQ_INT(ol_optim_set_tensors(o, 0, 1, r1, c2), OL_ESTATE);
    ol_optim_free(o);
}

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

TEST(invalid_hyper_parameters_of_the_modern_kinds_are_refused_with_key_and_range) {
    CHECK(create_fails("lion:beta1=1", "lion: invalid beta1 1 (must be in [0, 1))"));
    CHECK(create_fails("lion:beta2=-0.1", "lion: invalid beta2 -0.1 (must be in [0, 1))"));
    CHECK(create_fails("lion:weight_decay=-1", "lion: invalid weight_decay -1 (must be >= 0)"));
    CHECK(create_fails("lion:eps=1e-8", "valid keys: beta1, beta2, weight_decay"));
    CHECK(create_fails("sf-sgd:momentum=1", "sf-sgd: invalid momentum 1 (must be in [0, 1))"));
    CHECK(create_fails("sf-sgd:warmup_steps=-1", "warmup_steps: -1 is out of range"));
    CHECK(create_fails("sf-adamw:beta2=1", "sf-adamw: invalid beta2 1 (must be in [0, 1))"));
    CHECK(create_fails("sf-adamw:eps=-1", "sf-adamw: invalid eps -1 (must be >= 0)"));
    CHECK(create_fails("sf-adamw:warmup_steps=1.5", "warmup_steps"));
    CHECK(create_fails("lamb:beta1=1", "lamb: invalid beta1 1 (must be in [0, 1))"));
    CHECK(create_fails("lamb:eps=-1", "lamb: invalid eps -1 (must be >= 0)"));
    CHECK(create_fails("lars:trust_coefficient=0", "lars: invalid trust_coefficient 0 (must be > 0)"));
    CHECK(create_fails("lars:momentum=-1", "lars: invalid momentum -1 (must be >= 0)"));
    CHECK(create_fails("lars:eps=-1", "lars: invalid eps -1 (must be >= 0)"));
    CHECK(create_fails("lars:beta1=0.9", "valid keys: momentum, trust_coefficient, eps, weight_decay"));
    CHECK(create_fails("adafactor:beta2_decay=0.5", "adafactor: invalid beta2_decay 0.5 (must be <= 0)"));
    CHECK(create_fails("adafactor:eps2=-1", "adafactor: invalid eps2 -1 (must be >= 0)"));
    CHECK(create_fails("adafactor:d=0", "adafactor: invalid d 0 (must be > 0)"));
    CHECK(create_fails("adafactor:beta2=0.9", "valid keys: beta2_decay, eps1, eps2, d, weight_decay"));
    CHECK(create_fails("muon:momentum=1", "muon: invalid momentum 1 (must be in [0, 1))"));
    CHECK(create_fails("muon:ns_steps=0", "ns_steps: 0 is out of range [1, 99]"));
    CHECK(create_fails("muon:nesterov=2", "nesterov: 2 is out of range [0, 1]"));
    CHECK(create_fails("muon:beta2=1", "muon: invalid beta2 1 (must be in [0, 1))"));
    ol_optim_params p = ol_optim_default_params(OL_OPTIM_SF_ADAMW);
    p.warmup_steps = -3;   /* through the struct too */
    ol_optim *o = NULL;
    CHECK_EQ_INT(ol_optim_create_params(&o, &p), OL_EARG);
    CHECK(strstr(ol_error(), "invalid warmup_steps -3") != NULL);
}

TEST(schedule_free_states_with_impossible_scalars_are_refused) {
    double y[2] = {1, 2}, g[2] = {0.5, -0.5};
    ol_optim *o = NULL;
    CHECK_EQ_INT(ol_optim_create(&o, "sf-adamw", 0.1), 0);
    CHECK_EQ_INT(ol_optim_add_group_f64(o, y, g, 2, -1, -1), 0);
    CHECK_EQ_INT(ol_optim_step(o), 0);
    size_t size = ol_optim_state_size(o);
    unsigned char *blob = malloc(size);
    CHECK_EQ_INT(ol_optim_state_save(o, blob, size), 0);
    ol_put_f64(blob + size - 12, -1);   /* the weight sum */
    ol_put_u32(blob + size - 4, ol_crc32(0, blob, size - 4));
    CHECK_EQ_INT(ol_optim_state_load(o, blob, size), OL_EFORMAT);
    CHECK_MSG(strstr(ol_error(), "sf-adamw's weight sum of group 0 is -1 (corrupt)"), "%s", ol_error());
    free(blob);
    ol_optim_free(o);
}

/* ---- the command line and the C API's training loop ---- */

static char out[1 << 15];
#define sh(...) ol_test_sh(out, sizeof out, __VA_ARGS__)

static const char *data(void) { return ol_test_dataset("modern-data", 300, 60, 8, 3, 19); }

#define TRAIN "%s train --data %s --model mlp:64-16-3 --epochs 2 --threads 1 --quiet"

/* sf-sgd with momentum 0 steps y = z exactly as gd steps x (z - lr g, y = 0 x + 1 z): its
 * parameters during training are gd's, so a saved model equal to gd's would be y, not x. */
TEST(train_saves_schedule_free_x_not_the_stepped_y) {
    const char *gd = ol_test_path("gd.bin"), *sf = ol_test_path("sf0.bin"), *sfa = ol_test_path("sfa.bin");
    CHECK_MSG(sh(TRAIN " --opt gd --lr 0.1 --save %s", ol_test_bin(), data(), gd) == 0, "%s", out);
    CHECK_MSG(sh(TRAIN " --opt sf-sgd:momentum=0 --lr 0.1 --save %s", ol_test_bin(), data(), sf) == 0, "%s", out);
    CHECK_MSG(!ol_test_same_file(gd, sf), "sf-sgd saved its y (gd's iterate), not the average x");
    /* --eval-average is accepted (and changes nothing: schedule-free evaluates x always) */
    CHECK_MSG(sh(TRAIN " --opt sf-sgd:momentum=0 --lr 0.1 --eval-average --save %s", ol_test_bin(), data(), sfa) == 0,
              "%s", out);
    CHECK(ol_test_same_file(sf, sfa));
    CHECK_MSG(sh(TRAIN " --opt sf-adamw --lr 0.01 --no-decay-bias --save %s && %s eval --model %s --data %s --threads 1",
                 ol_test_bin(), data(), sfa, ol_test_bin(), sfa, data()) == 0, "%s", out);
}

/* the C API: the caller's model holds x after ol_train_fit, the model the saved file has */
TEST(train_fit_leaves_schedule_free_x_in_the_callers_model) {
    ol_dataset train, test;
    CHECK(ol_data_load(data(), &train, &test) == 0);
    ol_mlp m, saved;
    CHECK(ol_mlp_create(&m, "mlp:64-16-3", 0) == 0);
    ol_mlp_init(&m, 3);
    ol_train_config c = ol_train_default_config();
    c.model = &m;
    c.opt = "sf-adamw:weight_decay=0.01";
    c.lr = 0.01;
    c.batch = 20;
    c.epochs = 1;
    c.quiet = 1;
    c.threads = 1;
    c.save_path = ol_test_path("fit.bin");
    ol_train_result r;
    CHECK_MSG(ol_train_fit(&c, &train, &test, &r) == 0, "%s", ol_error());
    CHECK_MSG(ol_mlp_load(&saved, c.save_path) == 0, "%s", ol_error());
    CHECK(saved.n_params == m.n_params && !memcmp(saved.params, m.params, m.n_params * sizeof(float)));
    ol_mlp_free(&saved);
    ol_mlp_free(&m);
    ol_dataset_free(&train);
    ol_dataset_free(&test);
}

TEST(lr_find_sweep_and_optimize_run_the_modern_kinds) {
    const char *kinds[7] = {"lion", "sf-sgd", "sf-adamw:warmup_steps=3", "lamb", "lars", "adafactor", "muon"};
    for (int k = 0; k < 7; k++)
        CHECK_MSG(sh("%s lr-find --data %s --model mlp:64-16-3 --opt %s --steps 12 --threads 1", ol_test_bin(), data(),
                     kinds[k]) == 0 && strstr(out, "suggested lr"), "%s: %s", kinds[k], out);
    const char *dir = ol_test_path("modern-sweep");
    CHECK_MSG(sh("%s sweep --grid 'opt=lion/sf-sgd/sf-adamw/lamb/lars/adafactor/muon,lr=0.01' --epochs 1 --data %s --model mlp:64-16-3 --out %s --quiet",
                 ol_test_bin(), data(), dir) == 0, "%s", out);
    CHECK_MSG(strstr(out, "7 trials (7 ok"), "%s", out);
    const char *trace = ol_test_path("sf.csv");
    CHECK_MSG(sh("%s optimize --fn quadratic --x0 1,2 --opt sf-adamw --lr 0.1 --steps 5 --trace %s --quiet && head -1 %s",
                 ol_test_bin(), trace, trace) == 0, "%s", out);
    CHECK_MSG(strstr(out, "\nax = ") && strstr(out, "step,lr,f,x0,x1,ax0,ax1"), "%s", out);
    CHECK_MSG(sh("%s train --help", ol_test_bin()) == 0 && strstr(out, "lion ") && strstr(out, "sf-sgd ") &&
              strstr(out, "sf-adamw ") && strstr(out, "lamb ") && strstr(out, "lars ") &&
              strstr(out, "adafactor ") && strstr(out, "muon "), "%s", out);
}

/* train's registration: the whole block with its tensors declared steps as one group per weight
 * and per bias (--no-decay-bias, weight decay 0 here), and not as the block taken as one tensor */
TEST(train_groups_give_lamb_a_trust_ratio_per_weight_and_per_bias) {
    ol_mlp m[3];
    ol_optim *o[3] = {NULL, NULL, NULL};
    for (int k = 0; k < 3; k++) {
        CHECK(ol_mlp_create(&m[k], "mlp:8-5-3", 0) == 0);
        ol_mlp_init(&m[k], 4);
        for (size_t i = 0; i < m[k].n_params; i++) m[k].grads[i] = (float)((int)(i % 7) - 3) * 0.01f;
        CHECK_EQ_INT(ol_optim_create(&o[k], "lamb", 0.01), 0);
    }
    CHECK_EQ_INT(ol_train_add_groups(o[0], &m[0], 0), 0);
    CHECK_EQ_INT(ol_train_add_groups(o[1], &m[1], 1), 0);
    CHECK_EQ_INT(ol_optim_add_group(o[2], m[2].params, m[2].grads, m[2].n_params, -1, -1), 0);
    for (int k = 0; k < 3; k++) CHECK_EQ_INT(ol_optim_step(o[k]), 0);
    size_t bytes = m[0].n_params * sizeof(float);
    CHECK(!memcmp(m[0].params, m[1].params, bytes));
    CHECK(memcmp(m[0].params, m[2].params, bytes) != 0);
    for (int k = 0; k < 3; k++) {
        ol_optim_free(o[k]);
        ol_mlp_free(&m[k]);
    }
}

/* muon's momentum of a 2-D tensor and AdamW's m, v of a vector resume bit-exactly from the state */
static ol_optim *muon_2x3_and_3(float *x, float *g) {
    const size_t rows[2] = {2, 3}, cols[2] = {3, 1};
    ol_optim *o = NULL;
    if (ol_optim_create(&o, "muon:weight_decay=0.01", 0.02) || ol_optim_add_group(o, x, g, 9, -1, -1) ||
        ol_optim_set_tensors(o, 0, 2, rows, cols)) {
        ol_optim_free(o);
        return NULL;
    }
    return o;
}

static void muon_steps(ol_optim *o, float *x, float *g, int from, int to) {
    for (int t = from; t < to; t++) {
        for (int i = 0; i < 9; i++) g[i] = x[i] * (float)(i + 1) + 0.1f * (float)((t + i) % 3);
        if (ol_optim_step(o)) fprintf(stderr, "    step %d: %s\n", t, ol_error());
    }
}

TEST(muon_state_round_trip_continues_bit_exactly) {
    float x[9] = {1, -2, 0.5f, 3, -1, 2, 0.25f, -0.75f, 1.5f}, g[9], x2[9], g2[9];
    ol_optim *o = muon_2x3_and_3(x, g);
    CHECK(o);
    muon_steps(o, x, g, 0, 4);
    size_t size = ol_optim_state_size(o);
    unsigned char *blob = malloc(size);
    CHECK_EQ_INT(ol_optim_state_save(o, blob, size), 0);
    memcpy(x2, x, sizeof x);
    muon_steps(o, x, g, 4, 9);
    ol_optim *r = muon_2x3_and_3(x2, g2);
    CHECK(r);
    CHECK_EQ_INT(ol_optim_state_load(r, blob, size), 0);
    muon_steps(r, x2, g2, 4, 9);
    CHECK(!memcmp(x, x2, sizeof x));
    free(blob);
    ol_optim_free(o);
    ol_optim_free(r);
}

/* --no-decay-bias (pytorch#1402) trains with every modern kind (one group per weight and per bias, each declared as its tensor) */
TEST(train_runs_every_modern_kind_with_no_decay_bias) {
    const char *kinds[7] = {"lion:weight_decay=0.1", "sf-sgd:weight_decay=0.01", "sf-adamw:weight_decay=0.01",
                            "lamb:weight_decay=0.01", "lars:weight_decay=0.01", "adafactor:weight_decay=0.01", "muon"};
    for (int k = 0; k < 7; k++)
        CHECK_MSG(sh(TRAIN " --opt %s --lr 0.01 --no-decay-bias", ol_test_bin(), data(), kinds[k]) == 0, "%s: %s", kinds[k],
                  out);
}
