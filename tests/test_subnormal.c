/* test_subnormal.c: no subnormal float ever stays in what a float32 training run stores.
 *
 * Subnormal operands take a slow microcode path on Intel cores (about 100 cycles an operation):
 * a run whose optimizer state or parameters fill with them slows down epoch after epoch (issue
 * 14: 0.56 -> 1.54 s an epoch). They arise where a value decays geometrically with nothing to
 * renew it: the momentum or second moment of a weight whose gradient is exactly 0 (a pixel that is
 * 0 in every image, a dead ReLU unit), or a weight under decay; and where a softmax probability
 * falls below FLT_MIN. Round to nearest makes such a decay stick: 0.9 k ulp rounds back to k ulp for
 * k <= 5, so a momentum buffer stays subnormal forever. optlab stores 0 instead (sign kept, as a
 * flush-to-zero unit would); these tests count what is stored, on any CPU, with no timing. */
#include "test.h"

#include "optlab/autodiff.h"
#include "optlab/common.h"
#include "optlab/optim.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static long count_subnormal_f32(const float *v, size_t n) {
    long c = 0;
    for (size_t i = 0; i < n; i++) c += fpclassify(v[i]) == FP_SUBNORMAL;
    return c;
}

/* Subnormal floats in the state buffers of an optimizer with one float group (read from its
 * saved state: header, one group record, the schedule's state, then the group's buffers). */
static long state_subnormals(const ol_optim *o) {
    size_t size = ol_optim_state_size(o);
    unsigned char *buf = malloc(size);
    if (!buf || ol_optim_state_save(o, buf, size)) {
        free(buf);
        return -1;
    }
    enum { HEADER = 120, RECORD = 16 };
    uint32_t nbuf = ol_get_u32(buf + HEADER + 4);
    uint64_t n = ol_get_u64(buf + HEADER + 8), sched_len = ol_get_u64(buf + 112);
    const unsigned char *p = buf + HEADER + RECORD + sched_len;
    long c = 0;
    for (uint64_t i = 0; i < (uint64_t)nbuf * n; i++) {
        float f;
        uint32_t u = ol_get_u32(p + 4 * i);
        memcpy(&f, &u, 4);
        c += fpclassify(f) == FP_SUBNORMAL;
    }
    free(buf);
    return c;
}

/* Every float optimizer: a few steps with a gradient, then 60,000 with a gradient of exactly 0 (a
 * dead input), some weights under decay. Before the fix sgd's and adam's buffers held subnormals
 * after about 800 such steps, adamw's and weight-decayed sgd's parameters after a few thousand. */
TEST(float_optimizers_store_no_subnormals_under_zero_gradients) {
    static const char *const specs[] = {
        "gd:weight_decay=0.5", "sgd:momentum=0.9", "sgd:momentum=0.9,nesterov=1,weight_decay=0.1",
        "sgd:momentum=0.5,dampening=0.5", "heavyball:beta=0.9,weight_decay=0.2", "adagrad:weight_decay=0.3",
        "rmsprop", "rmsprop:centered=1,momentum=0.9", "rmsprop:momentum=0.5,eps_inside=1",
        "adam", "adam:amsgrad=1", "adamw:weight_decay=0.5", "nadam", "radam:weight_decay=0.1",
        "adadelta", "adadelta:weight_decay=0.3", "adamax:weight_decay=0.3", "asgd:t0=10,weight_decay=0.3",
        "rprop:step_min=0", "lion", "lion:weight_decay=0.5", "sf-sgd", "sf-sgd:weight_decay=0.3", "sf-adamw:beta2=0.99",
        "sf-adamw:weight_decay=0.3,warmup_steps=3", "lamb", "lamb:weight_decay=0.3", "lars:trust_coefficient=1",
        "lars:weight_decay=0.3,trust_coefficient=1", "adafactor", "adafactor:weight_decay=0.3", "muon"};
    enum { N = 24, WARM = 5, STEPS = 60000 };
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
        float x[N], g[N];
        for (int i = 0; i < N; i++) x[i] = (float)(i % 7 - 3) * 0.25f + 0.01f * (float)i;
        ol_optim *o = NULL;
        CHECK_MSG(ol_optim_create(&o, specs[s], 0.1) == 0, "%s: %s", specs[s], ol_error());
        CHECK(ol_optim_add_group(o, x, g, N, -1, -1) == 0);
        long worst = 0;
        for (int t = 0; t < STEPS; t++) {
            for (int i = 0; i < N; i++) g[i] = t < WARM ? (float)(i + 1) * 1e-3f * (i % 2 ? 1 : -1) : 0.0f;
            CHECK_MSG(ol_optim_step(o) == 0, "%s step %d: %s", specs[s], t, ol_error());
            if (t % 1000 == 999 || t == STEPS - 1) {
                long in_x = count_subnormal_f32(x, N), in_state = state_subnormals(o);
                CHECK_MSG(in_state >= 0, "%s: state save failed", specs[s]);
                if (in_x + in_state > worst) worst = in_x + in_state;
                CHECK_MSG(in_x == 0 && in_state == 0, "%s after %d steps: %ld subnormal parameters, %ld in the state",
                          specs[s], t + 1, in_x, in_state);
            }
        }
        ol_optim_free(o);
        (void)worst;
    }
}

/* L-BFGS's closure: f = sum c_i x_i^2 / 2 with c_i = 1e-38 for the last half of x, so that those
 * gradients (and the directions and curvature pairs made of them) are subnormal floats. */
static int tiny_closure(void *userdata, double *f) {
    float *xg = userdata;   /* x[0..24), then g[0..24) */
    *f = 0;
    for (int i = 0; i < 24; i++) {
        float c = i < 12 ? 1.0f : 1e-38f;
        xg[24 + i] = c * xg[i];
        *f += 0.5 * c * (double)xg[i] * xg[i];
    }
    return 0;
}

/* L-BFGS (issue 19) stores its direction, last gradient and curvature pairs flushed like the
 * element-wise optimizers' state; a gradient that is itself subnormal leaves none in the state. */
TEST(float_lbfgs_stores_no_subnormals) {
    float xg[48];
    for (int i = 0; i < 24; i++) xg[i] = 0.05f * (float)(i + 1) * (i % 2 ? 1 : -1);
    ol_optim *o = NULL;
    CHECK(ol_optim_create(&o, "lbfgs:history_size=3,max_iter=5", 0.5) == 0);
    CHECK(ol_optim_add_group(o, xg, xg + 24, 24, -1, -1) == 0);
    ol_optim_set_closure(o, tiny_closure, xg);
    for (int t = 0; t < 6; t++) {
        CHECK_MSG(ol_optim_step(o) == 0, "step %d: %s", t, ol_error());
        long in_state = state_subnormals(o);
        CHECK_MSG(in_state == 0, "after step %d: %ld subnormal floats in lbfgs's state", t + 1, in_state);
    }
    ol_optim_free(o);
}

/* The flush changes nothing else: a state that stays normal gives the bytes of the formula. */
TEST(float_adam_values_unchanged_where_nothing_is_subnormal) {
    float x[4] = {0.5f, -1.25f, 2.0f, 3.0f}, g[4] = {0.1f, -0.2f, 0.3f, -0.4f};
    float xr[4];
    memcpy(xr, x, sizeof x);
    float m[4] = {0}, v[4] = {0};
    ol_optim *o = NULL;
    CHECK(ol_optim_create(&o, "adam", 0.01) == 0);
    CHECK(ol_optim_add_group(o, x, g, 4, -1, -1) == 0);
    for (int t = 1; t <= 20; t++) {
        CHECK(ol_optim_step(o) == 0);
        /* the kernel's float formula: step_size and sqrt(bc2) are computed in double, rounded once */
        double bc1 = 1 - pow(0.9, t), bc2 = 1 - pow(0.999, t);
        float ss = (float)(0.01 / bc1), bc2s = (float)sqrt(bc2);
        for (int i = 0; i < 4; i++) {
            m[i] = m[i] * 0.9f + (float)(1 - 0.9) * g[i];
            v[i] = v[i] * 0.999f + (float)(1 - 0.999) * g[i] * g[i];
            xr[i] = xr[i] - ss * (m[i] / (sqrtf(v[i]) / bc2s + 1e-8f));
        }
    }
    for (int i = 0; i < 4; i++) CHECK_MSG(memcmp(&x[i], &xr[i], 4) == 0, "x[%d] = %.9g, formula %.9g", i, x[i], xr[i]);
    ol_optim_free(o);
}

/* Cross-entropy of logits that trail the largest by more than 87: softmax probabilities below
 * FLT_MIN. The gradient stored for the logits holds no subnormal. */
TEST(float_cross_entropy_gradient_has_no_subnormals) {
    ol_graph *g = ol_ad_new(OL_F32);
    CHECK(g);
    enum { ROWS = 4, K = 6 };
    float z[ROWS * K], dz[ROWS * K];
    for (int i = 0; i < ROWS * K; i++) z[i] = i % K == 0 ? 10.0f : 10.0f - 80.0f - (float)(i % K) * 4.0f;
    int zn = ol_ad_param(g, ROWS, K, z, dz);
    int loss = ol_ad_softmax_xent(g, zn);
    CHECK(zn >= 0 && loss >= 0);
    CHECK(ol_ad_compile(g, ROWS, 1) == 0);
    int32_t *labels = ol_ad_labels(g, loss);
    for (int i = 0; i < ROWS; i++) labels[i] = 0;
    CHECK(ol_ad_forward(g) == 0);
    CHECK(ol_ad_backward_set(g, loss, 1.0) == 0);
    CHECK_EQ_INT(count_subnormal_f32(dz, ROWS * K), 0);
    /* e^-84 / 4 is normal and stays; e^-88 and below are subnormal and become 0 */
    CHECK(dz[2] == 0.0f && dz[5] == 0.0f);
    CHECK(dz[1] > 0.0f);
    ol_ad_free(g);
}
