/* test_autodiff.c: every op's gradient against central finite differences (in double, where the
 * differences are accurate to ~1e-8), float against double, batch resizing, and graph errors. */
#include <stdlib.h>
#include <string.h>

#include "optlab/autodiff.h"
#include "optlab/common.h"
#include "optlab/rng.h"
#include "test.h"

/* A graph under test: two parameters p0 (r0, c0) and p1 (r1, c1); build returns the op's output. */
typedef int (*build_fn)(ol_graph *g, int p0, int p1);

typedef struct {
    int r0, c0, r1, c1;
    double lo, hi;      /* parameter values drawn from U(lo, hi) */
} case_shape;

static double *rand_array(ol_rng *r, size_t n, double lo, double hi) {
    double *a = calloc(n, sizeof *a);
    for (size_t i = 0; i < n; i++) a[i] = ol_rng_uniform_range(r, lo, hi);
    return a;
}

/* Builds loss = sum(out * R) (R a fixed random weight, so every output element gets its own
 * upstream gradient) or out itself when out is a scalar; returns the max relative error between
 * backward's gradients and central differences (h = 1e-6). */
static double gradcheck(build_fn build, case_shape s, int *labels_node_out) {
    ol_rng r;
    ol_rng_seed(&r, 42);
    size_t n0 = (size_t)s.r0 * s.c0, n1 = (size_t)s.r1 * s.c1;
    double *x0 = rand_array(&r, n0, s.lo, s.hi), *x1 = rand_array(&r, n1, s.lo, s.hi);
    double *g0 = calloc(n0, sizeof(double)), *g1 = calloc(n1, sizeof(double));
    ol_graph *g = ol_ad_new(OL_F64);
    int p0 = ol_ad_param(g, s.r0, s.c0, x0, g0);
    int p1 = ol_ad_param(g, s.r1, s.c1, x1, g1);
    int out = build(g, p0, p1);
    int loss = out, weight = -1;
    if (out >= 0 && (ol_ad_rows(g, out) != 1 || ol_ad_cols(g, out) != 1)) {
        weight = ol_ad_input(g, ol_ad_rows(g, out), ol_ad_cols(g, out), 0);
        loss = ol_ad_sum(g, ol_ad_mul(g, out, weight));
    }
    double worst = 1e9;
    if (loss < 0 || ol_ad_compile(g, 1, 1) != 0) goto done;
    if (weight >= 0) {
        double *w = ol_ad_value(g, weight);
        for (int i = 0; i < ol_ad_rows(g, weight) * ol_ad_cols(g, weight); i++) w[i] = ol_rng_uniform_range(&r, -1, 1);
    }
    if (labels_node_out && *labels_node_out >= 0) {
        int32_t *lab = ol_ad_labels(g, *labels_node_out);
        for (int i = 0; i < s.r0; i++) lab[i] = i % s.c0;
    }
    ol_ad_zero_grad(g);
    if (ol_ad_forward(g) || ol_ad_backward(g, loss)) goto done;
    worst = 0;
    double *xs[2] = {x0, x1}, *gs[2] = {g0, g1};
    size_t ns[2] = {n0, n1};
    for (int p = 0; p < 2; p++) {
        for (size_t i = 0; i < ns[p]; i++) {
            double keep = xs[p][i], h = 1e-6;
            xs[p][i] = keep + h;
            ol_ad_forward(g);
            double fp = ol_ad_scalar(g, loss);
            xs[p][i] = keep - h;
            ol_ad_forward(g);
            double fm = ol_ad_scalar(g, loss);
            xs[p][i] = keep;
            double fd = (fp - fm) / (2 * h);
            double err = fabs(fd - gs[p][i]) / fmax(1.0, fabs(fd));
            if (err > worst) worst = err;
        }
    }
done:
    ol_ad_free(g);
    free(x0), free(x1), free(g0), free(g1);
    return worst;
}

#define GRADCHECK(name, r0, c0, r1, c1, lo, hi, expr)                                    \
    static int build_##name(ol_graph *g, int p0, int p1) { (void)p0; (void)p1; return expr; } \
    TEST(autodiff_gradient_of_##name##_matches_finite_differences) {                    \
        case_shape s = {r0, c0, r1, c1, lo, hi};                                         \
        double err = gradcheck(build_##name, s, NULL);                                   \
        CHECK_MSG(err < 1e-6, "max relative error %g: %s", err, ol_error());            \
    }

GRADCHECK(matmul, 3, 4, 4, 5, -1, 1, ol_ad_matmul(g, p0, p1))
GRADCHECK(add, 3, 4, 3, 4, -1, 1, ol_ad_add(g, p0, p1))
GRADCHECK(add_row_broadcast, 5, 3, 1, 3, -1, 1, ol_ad_add(g, p0, p1))
GRADCHECK(sub, 3, 4, 3, 4, -1, 1, ol_ad_sub(g, p0, p1))
GRADCHECK(sub_row_broadcast, 4, 3, 1, 3, -1, 1, ol_ad_sub(g, p0, p1))
GRADCHECK(mul, 3, 4, 3, 4, -1, 1, ol_ad_mul(g, p0, p1))
GRADCHECK(mul_row_broadcast, 4, 3, 1, 3, -1, 1, ol_ad_mul(g, p0, p1))
GRADCHECK(scale, 3, 4, 1, 1, -1, 1, ol_ad_scale(g, p0, -2.5))
GRADCHECK(shift, 3, 4, 1, 1, -1, 1, ol_ad_shift(g, p0, 0.75))
/* relu: values kept away from the kink at 0, where the derivative is not defined */
GRADCHECK(relu, 3, 4, 1, 1, 0.1, 1, ol_ad_relu(g, ol_ad_shift(g, ol_ad_mul(g, p0, p0), -0.5)))
GRADCHECK(tanh, 3, 4, 1, 1, -2, 2, ol_ad_tanh(g, p0))
GRADCHECK(sigmoid, 3, 4, 1, 1, -4, 4, ol_ad_sigmoid(g, p0))
GRADCHECK(exp, 3, 4, 1, 1, -2, 2, ol_ad_exp(g, p0))
GRADCHECK(log, 3, 4, 1, 1, 0.2, 3, ol_ad_log(g, p0))
GRADCHECK(square, 3, 4, 1, 1, -2, 2, ol_ad_square(g, p0))
GRADCHECK(cos, 3, 4, 1, 1, -3, 3, ol_ad_cos(g, p0))
GRADCHECK(sum, 3, 4, 1, 1, -1, 1, ol_ad_sum(g, ol_ad_square(g, p0)))
GRADCHECK(mean, 3, 4, 1, 1, -1, 1, ol_ad_mean(g, ol_ad_square(g, p0)))
GRADCHECK(mse, 3, 4, 3, 4, -1, 1, ol_ad_mse(g, p0, p1))
GRADCHECK(linear_none, 4, 3, 3, 5, -1, 1, ol_ad_linear(g, p0, p1, -1, 0))
GRADCHECK(linear_tanh, 4, 3, 3, 5, -1, 1, ol_ad_linear(g, p0, p1, -1, 2))
GRADCHECK(linear_sigmoid, 4, 3, 3, 5, -1, 1, ol_ad_linear(g, p0, p1, -1, 3))
/* a deeper composite: two layers with biases, tanh, and a mean of squares */
static int build_mlp_like(ol_graph *g, int p0, int p1) {
    static double b[5] = {0.1, -0.2, 0.3, 0.05, -0.1};
    int bias = ol_ad_param(g, 1, 5, b, NULL);
    int h = ol_ad_linear(g, p0, p1, bias, 2);
    return ol_ad_mean(g, ol_ad_square(g, ol_ad_sub(g, h, ol_ad_scale(g, h, 0.5))));
}
TEST(autodiff_gradient_of_composite_graph_matches_finite_differences) {
    case_shape s = {4, 3, 3, 5, -1, 1};
    double err = gradcheck(build_mlp_like, s, NULL);
    CHECK_MSG(err < 1e-6, "max relative error %g", err);
}

static int xent_node = -1;
static int build_xent(ol_graph *g, int p0, int p1) {
    (void)p1;
    xent_node = ol_ad_softmax_xent(g, ol_ad_scale(g, p0, 3.0));
    return xent_node;
}
TEST(autodiff_gradient_of_softmax_xent_matches_finite_differences) {
    case_shape s = {6, 4, 1, 1, -2, 2};
    xent_node = -1;
    /* gradcheck needs the node index before compile to fill labels: build once to learn it */
    ol_graph *probe = ol_ad_new(OL_F64);
    double v[24], w[1];
    int a = ol_ad_param(probe, 6, 4, v, NULL), b = ol_ad_param(probe, 1, 1, w, NULL);
    build_xent(probe, a, b);
    ol_ad_free(probe);
    int node = xent_node;
    double err = gradcheck(build_xent, s, &node);
    CHECK_MSG(err < 1e-6, "max relative error %g: %s", err, ol_error());
}

/* Relu's bias gradient and linear's relu path: the fused op must equal the separate ops. */
TEST(autodiff_fused_linear_relu_equals_separate_ops) {
    ol_rng r;
    ol_rng_seed(&r, 7);
    float x[4 * 3], w[3 * 5], b[5], gw1[15] = {0}, gb1[5] = {0}, gw2[15] = {0}, gb2[5] = {0};
    for (int i = 0; i < 12; i++) x[i] = (float)ol_rng_uniform_range(&r, -1, 1);
    for (int i = 0; i < 15; i++) w[i] = (float)ol_rng_uniform_range(&r, -1, 1);
    for (int i = 0; i < 5; i++) b[i] = (float)ol_rng_uniform_range(&r, -1, 1);
    ol_graph *g1 = ol_ad_new(OL_F32), *g2 = ol_ad_new(OL_F32);
    int x1 = ol_ad_param(g1, 4, 3, x, NULL), w1 = ol_ad_param(g1, 3, 5, w, gw1), b1 = ol_ad_param(g1, 1, 5, b, gb1);
    int l1 = ol_ad_sum(g1, ol_ad_square(g1, ol_ad_linear(g1, x1, w1, b1, 1)));
    int x2 = ol_ad_param(g2, 4, 3, x, NULL), w2 = ol_ad_param(g2, 3, 5, w, gw2), b2 = ol_ad_param(g2, 1, 5, b, gb2);
    int l2 = ol_ad_sum(g2, ol_ad_square(g2, ol_ad_relu(g2, ol_ad_add(g2, ol_ad_matmul(g2, x2, w2), b2))));
    CHECK(ol_ad_compile(g1, 1, 1) == 0 && ol_ad_compile(g2, 1, 1) == 0);
    CHECK(ol_ad_forward(g1) == 0 && ol_ad_backward(g1, l1) == 0);
    CHECK(ol_ad_forward(g2) == 0 && ol_ad_backward(g2, l2) == 0);
    CHECK(ol_ad_scalar(g1, l1) == ol_ad_scalar(g2, l2));
    CHECK(memcmp(gw1, gw2, sizeof gw1) == 0);
    CHECK(memcmp(gb1, gb2, sizeof gb1) == 0);
    ol_ad_free(g1);
    ol_ad_free(g2);
}

TEST(autodiff_float_graph_agrees_with_double_graph) {
    ol_rng r;
    ol_rng_seed(&r, 3);
    enum { B = 8, I = 20, H = 16, K = 4 };
    float xf[B * I], wf[I * H], vf[H * K], gwf[I * H] = {0}, gvf[H * K] = {0};
    double xd[B * I], wd[I * H], vd[H * K], gwd[I * H] = {0}, gvd[H * K] = {0};
    for (int i = 0; i < B * I; i++) xd[i] = xf[i] = (float)ol_rng_uniform(&r);
    for (int i = 0; i < I * H; i++) wd[i] = wf[i] = (float)ol_rng_uniform_range(&r, -0.3, 0.3);
    for (int i = 0; i < H * K; i++) vd[i] = vf[i] = (float)ol_rng_uniform_range(&r, -0.3, 0.3);
    ol_graph *gf = ol_ad_new(OL_F32), *gd = ol_ad_new(OL_F64);
    int lf = ol_ad_softmax_xent(gf, ol_ad_matmul(gf, ol_ad_relu(gf, ol_ad_matmul(gf, ol_ad_param(gf, B, I, xf, NULL),
                                    ol_ad_param(gf, I, H, wf, gwf))), ol_ad_param(gf, H, K, vf, gvf)));
    int ld = ol_ad_softmax_xent(gd, ol_ad_matmul(gd, ol_ad_relu(gd, ol_ad_matmul(gd, ol_ad_param(gd, B, I, xd, NULL),
                                    ol_ad_param(gd, I, H, wd, gwd))), ol_ad_param(gd, H, K, vd, gvd)));
    CHECK(ol_ad_compile(gf, 1, 1) == 0 && ol_ad_compile(gd, 1, 1) == 0);
    for (int i = 0; i < B; i++) ol_ad_labels(gf, lf)[i] = ol_ad_labels(gd, ld)[i] = i % K;
    CHECK(ol_ad_forward(gf) == 0 && ol_ad_backward(gf, lf) == 0);
    CHECK(ol_ad_forward(gd) == 0 && ol_ad_backward(gd, ld) == 0);
    CHECK_NEAR(ol_ad_scalar(gf, lf), ol_ad_scalar(gd, ld), 1e-5);
    for (int i = 0; i < I * H; i++) CHECK_NEAR(gwf[i], gwd[i], 1e-5);
    for (int i = 0; i < H * K; i++) CHECK_NEAR(gvf[i], gvd[i], 1e-5);
    ol_ad_free(gf);
    ol_ad_free(gd);
}

TEST(autodiff_gradients_accumulate_until_zeroed) {
    double x[2] = {1.5, -2}, gx[2] = {0};
    ol_graph *g = ol_ad_new(OL_F64);
    int loss = ol_ad_sum(g, ol_ad_square(g, ol_ad_param(g, 1, 2, x, gx)));
    CHECK(ol_ad_compile(g, 1, 1) == 0);
    ol_ad_forward(g);
    ol_ad_backward(g, loss);
    ol_ad_backward(g, loss);
    CHECK_NEAR(gx[0], 2 * 2 * 1.5, 1e-12); /* d/dx x^2 = 2x, twice */
    CHECK_NEAR(gx[1], 2 * 2 * -2.0, 1e-12);
    ol_ad_zero_grad(g);
    CHECK(gx[0] == 0 && gx[1] == 0);
    ol_ad_free(g);
}

/* backward_set: parameter gradients are set, never accumulated (whatever they held), equal to
 * zero_grad + backward, including through a matmul, a broadcast add, relu and a stale internal
 * buffer; a parameter the loss does not reach gets 0. */
TEST(autodiff_backward_set_overwrites_parameter_gradients) {
    ol_rng r;
    ol_rng_seed(&r, 11);
    float x[6 * 4], w[4 * 3], b[3], u[2], gw1[12], gb1[3], gu1[2], gw2[12], gb2[3], gu2[2];
    for (int i = 0; i < 24; i++) x[i] = (float)ol_rng_uniform_range(&r, -1, 1);
    for (int i = 0; i < 12; i++) w[i] = (float)ol_rng_uniform_range(&r, -1, 1);
    for (int i = 0; i < 3; i++) b[i] = (float)ol_rng_uniform_range(&r, -1, 1);
    u[0] = u[1] = 1;
    ol_graph *g[2];
    float *gw[2] = {gw1, gw2}, *gb[2] = {gb1, gb2}, *gu[2] = {gu1, gu2};
    int loss[2];
    for (int k = 0; k < 2; k++) {
        g[k] = ol_ad_new(OL_F32);
        int xi = ol_ad_input(g[k], 1, 4, 1), wi = ol_ad_param(g[k], 4, 3, w, gw[k]);
        int bi = ol_ad_param(g[k], 1, 3, b, gb[k]);
        ol_ad_param(g[k], 1, 2, u, gu[k]); /* not on the loss's path */
        int h = ol_ad_relu(g[k], ol_ad_add(g[k], ol_ad_matmul(g[k], xi, wi), bi));
        loss[k] = ol_ad_softmax_xent(g[k], ol_ad_linear(g[k], h, ol_ad_param(g[k], 3, 3, w, NULL), -1, 0));
        CHECK(ol_ad_compile(g[k], 6, 1) == 0);
        memcpy(ol_ad_value(g[k], xi), x, sizeof x);
        for (int i = 0; i < 6; i++) ol_ad_labels(g[k], loss[k])[i] = i % 3;
    }
    for (int pass = 0; pass < 3; pass++) {
        for (int i = 0; i < 12; i++) gw1[i] = 1e6f;       /* garbage: must be overwritten */
        for (int i = 0; i < 3; i++) gb1[i] = -1e6f;
        gu1[0] = gu1[1] = 7;
        ol_ad_zero_grad(g[1]);
        CHECK(ol_ad_forward(g[0]) == 0 && ol_ad_backward_set(g[0], loss[0], 0.5) == 0);
        CHECK(ol_ad_forward(g[1]) == 0 && ol_ad_backward_seed(g[1], loss[1], 0.5) == 0);
        for (int i = 0; i < 12; i++) CHECK(gw1[i] == gw2[i]); /* == : -0 and +0 may differ in bits */
        for (int i = 0; i < 3; i++) CHECK(gb1[i] == gb2[i]);
        CHECK(gu1[0] == 0 && gu1[1] == 0);
        CHECK(fabsf(gw1[0]) > 0);
    }
    ol_ad_free(g[0]);
    ol_ad_free(g[1]);
}

/* backward_set with tied weights (two parameter nodes over one buffer): both shares add up, as
 * with zero_grad + backward; a parameter created after the loss, and every parameter when the loss
 * depends on none, get 0 instead of keeping stale values. */
TEST(autodiff_backward_set_handles_tied_weights_and_unreached_parameters) {
    double x[2] = {1, 2}, w[2] = {0.5, -1.5}, gw_set[2] = {7, 7}, gw_add[2] = {0, 0}, u[1] = {3}, gu[1] = {7};
    ol_graph *g[2];
    double *gw[2] = {gw_set, gw_add};
    int loss[2];
    for (int k = 0; k < 2; k++) {
        g[k] = ol_ad_new(OL_F64);
        int xi = ol_ad_param(g[k], 1, 2, x, NULL);
        int p1 = ol_ad_param(g[k], 2, 1, w, gw[k]), p2 = ol_ad_param(g[k], 2, 1, w, gw[k]); /* tied */
        /* loss = x . w + sum(w^2): d/dw = x + 2 w */
        loss[k] = ol_ad_add(g[k], ol_ad_matmul(g[k], xi, p1), ol_ad_sum(g[k], ol_ad_square(g[k], p2)));
        if (k == 0) ol_ad_param(g[k], 1, 1, u, gu); /* after the loss */
        CHECK(ol_ad_compile(g[k], 1, 1) == 0);
    }
    for (int pass = 0; pass < 2; pass++) {
        gw_set[0] = gw_set[1] = 7;
        gu[0] = 7;
        gw_add[0] = gw_add[1] = 0;
        CHECK(ol_ad_forward(g[0]) == 0 && ol_ad_backward_set(g[0], loss[0], 1) == 0);
        CHECK(ol_ad_forward(g[1]) == 0 && ol_ad_backward(g[1], loss[1]) == 0);
        CHECK_NEAR(gw_add[0], 1 + 2 * 0.5, 1e-15);
        CHECK_NEAR(gw_add[1], 2 + 2 * -1.5, 1e-15);
        CHECK(gw_set[0] == gw_add[0] && gw_set[1] == gw_add[1]);
        CHECK(gu[0] == 0);
    }
    ol_ad_free(g[0]);
    ol_ad_free(g[1]);
    /* a loss no parameter feeds: backward_set leaves every parameter gradient at 0 */
    double c[1] = {2}, gc[1] = {5};
    ol_graph *h = ol_ad_new(OL_F64);
    int in = ol_ad_input(h, 1, 1, 0);
    ol_ad_param(h, 1, 1, c, gc);
    int l = ol_ad_sum(h, ol_ad_square(h, in));
    CHECK(ol_ad_compile(h, 1, 1) == 0);
    CHECK(ol_ad_forward(h) == 0 && ol_ad_backward_set(h, l, 1) == 0);
    CHECK(gc[0] == 0);
    ol_ad_free(h);
}

TEST(autodiff_smaller_batch_reuses_buffers_and_gives_the_right_mean) {
    float w[2] = {1, 2}, gw[2] = {0};
    ol_graph *g = ol_ad_new(OL_F32);
    int x = ol_ad_input(g, 4, 2, 1);
    int loss = ol_ad_mean(g, ol_ad_mul(g, x, ol_ad_param(g, 1, 2, w, gw)));
    CHECK(ol_ad_compile(g, 4, 1) == 0);
    float *xv = ol_ad_value(g, x);
    for (int i = 0; i < 8; i++) xv[i] = (float)(i + 1);
    CHECK(ol_ad_set_batch(g, 2) == 0);
    CHECK(ol_ad_rows(g, x) == 2);
    ol_ad_forward(g);
    /* rows (1,2), (3,4): mean of (1*1, 2*2, 3*1, 4*2) = 16/4 */
    CHECK_NEAR(ol_ad_scalar(g, loss), 4.0, 1e-6);
    ol_ad_backward(g, loss);
    CHECK_NEAR(gw[0], (1 + 3) / 4.0, 1e-6);
    CHECK_NEAR(gw[1], (2 + 4) / 4.0, 1e-6);
    CHECK(ol_ad_set_batch(g, 5) != 0);
    ol_ad_free(g);
}

TEST(autodiff_softmax_xent_is_stable_for_huge_logits) {
    float z[2 * 3] = {1000, 0, -1000, -1000, 1000, 999};
    ol_graph *g = ol_ad_new(OL_F32);
    int loss = ol_ad_softmax_xent(g, ol_ad_param(g, 2, 3, z, NULL));
    CHECK(ol_ad_compile(g, 1, 0) == 0);
    ol_ad_labels(g, loss)[0] = 0;
    ol_ad_labels(g, loss)[1] = 2;
    CHECK(ol_ad_forward(g) == 0);
    /* row 0: log-sum-exp = 1000, loss 0; row 1: lse = 1000 + log(1 + e^-1), loss = lse - 999 */
    double expected = (0.0 + (1.0 + log(1.0 + exp(-1.0)))) / 2;
    CHECK_NEAR(ol_ad_scalar(g, loss), expected, 1e-5);
    ol_ad_free(g);
}

TEST(autodiff_softmax_xent_rejects_a_label_outside_the_classes) {
    float z[3] = {0, 1, 2};
    ol_graph *g = ol_ad_new(OL_F32);
    int loss = ol_ad_softmax_xent(g, ol_ad_param(g, 1, 3, z, NULL));
    CHECK(ol_ad_compile(g, 1, 0) == 0);
    ol_ad_labels(g, loss)[0] = 3;
    CHECK(ol_ad_forward(g) == OL_EARG);
    CHECK(strstr(ol_error(), "outside") != NULL);
    ol_ad_free(g);
}

TEST(autodiff_shape_mismatch_is_an_error_not_a_crash) {
    float a[6], b[6];
    ol_graph *g = ol_ad_new(OL_F32);
    int pa = ol_ad_param(g, 2, 3, a, NULL), pb = ol_ad_param(g, 2, 3, b, NULL);
    CHECK(ol_ad_matmul(g, pa, pb) == -1);
    CHECK(strstr(ol_error(), "inner sizes differ") != NULL);
    CHECK(ol_ad_add(g, pa, pb) == -1); /* the graph stays broken */
    CHECK(ol_ad_compile(g, 1, 1) == OL_EARG);
    ol_ad_free(g);
}

TEST(autodiff_evaluation_graph_has_no_gradients_and_refuses_backward) {
    float w[2] = {1, 2}, gw[2] = {0};
    ol_graph *g = ol_ad_new(OL_F32);
    int loss = ol_ad_sum(g, ol_ad_param(g, 1, 2, w, gw));
    CHECK(ol_ad_compile(g, 1, 0) == 0);
    CHECK(ol_ad_forward(g) == 0);
    CHECK_NEAR(ol_ad_scalar(g, loss), 3.0, 1e-7);
    CHECK(ol_ad_grad(g, loss) == NULL);
    CHECK(ol_ad_backward(g, loss) == OL_ESTATE);
    ol_ad_free(g);
}
