/* test_nn.c: MLP specs, initialization schemes, graph gradients, model files and their errors. */
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/nn.h"
#include "test.h"

TEST(nn_spec_gives_layer_sizes_and_parameter_count) {
    ol_mlp m;
    CHECK(ol_mlp_create(&m, "mlp:784-256-10", 0) == 0);
    CHECK_EQ_INT(m.n_layers, 2);
    CHECK_EQ_INT(m.n_params, 784 * 256 + 256 + 256 * 10 + 10);
    CHECK(m.act == OL_ACT_RELU);
    CHECK(!strcmp(m.spec, "mlp:784-256-10,act=relu"));
    ol_mlp_free(&m);
    CHECK(ol_mlp_create(&m, "mlp:4-8-8-8-3,act=tanh,init=normal:std=0.5", 0) == 0);
    CHECK_EQ_INT(m.n_layers, 4);
    CHECK(m.act == OL_ACT_TANH && m.init == OL_INIT_NORMAL && m.init_std == 0.5);
    ol_mlp_free(&m);
}

TEST(nn_bad_specs_are_rejected_with_a_message) {
    const char *bad[] = {"mlp", "mlp:", "mlp:784", "mlp:784-0-10", "mlp:784--10", "mlp:784-256-10,act=gelu",
                         "mlp:784-256-10,init=he", "mlp:784-256-10,foo=1", "cnn:784-10", "mlp:784-256-1",
                         "mlp:784-256-10,init=normal:std=-1", "mlp:784-99999999-10", "mlp:7a-10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ol_mlp m;
        int rc = ol_mlp_create(&m, bad[i], 0);
        CHECK_MSG(rc == OL_EARG, "spec '%s' gave %d", bad[i], rc);
        CHECK_MSG(strlen(ol_error()) > 10, "spec '%s' has no message", bad[i]);
    }
}

TEST(nn_model_too_big_for_the_memory_limit_is_refused_with_its_bytes) {
    ol_mlp m;
    CHECK(ol_mlp_create(&m, "mlp:100000-100000-10", (size_t)1 << 30) == OL_ENOMEM);
    CHECK(strstr(ol_error(), "bytes") != NULL);
}

TEST(nn_torch_init_is_uniform_within_one_over_sqrt_fan_in) {
    ol_mlp m;
    CHECK(ol_mlp_create(&m, "mlp:100-50-10", 0) == 0);
    ol_mlp_init(&m, 1);
    double bound = 1 / sqrt(100.0), maxabs = 0, sum = 0, sumsq = 0;
    size_t nw = 100 * 50;
    for (size_t i = 0; i < nw; i++) {
        double v = m.params[m.w_off[0] + i];
        maxabs = fmax(maxabs, fabs(v));
        sum += v;
        sumsq += v * v;
    }
    CHECK(maxabs <= bound);
    CHECK(maxabs > 0.95 * bound);
    /* U(-b, b) has variance b^2 / 3 */
    CHECK_NEAR(sumsq / nw, bound * bound / 3, 0.1 * bound * bound / 3);
    CHECK(fabs(sum / nw) < 0.05 * bound);
    for (int j = 0; j < 50; j++) CHECK(fabs(m.params[m.b_off[0] + j]) <= bound);
    ol_mlp_free(&m);
}

TEST(nn_xavier_and_normal_inits_have_their_spread_and_zero_biases) {
    ol_mlp m;
    CHECK(ol_mlp_create(&m, "mlp:200-100-10,init=xavier", 0) == 0);
    ol_mlp_init(&m, 2);
    double bound = sqrt(6.0 / 300), sumsq = 0;
    for (size_t i = 0; i < 20000; i++) {
        CHECK(fabs(m.params[i]) <= bound);
        sumsq += m.params[i] * m.params[i];
    }
    CHECK_NEAR(sumsq / 20000, bound * bound / 3, 0.05 * bound * bound);
    CHECK(m.params[m.b_off[0]] == 0);
    ol_mlp_free(&m);
    CHECK(ol_mlp_create(&m, "mlp:200-100-10,init=normal:std=0.2", 0) == 0);
    ol_mlp_init(&m, 2);
    sumsq = 0;
    for (size_t i = 0; i < 20000; i++) sumsq += m.params[i] * m.params[i];
    CHECK_NEAR(sqrt(sumsq / 20000), 0.2, 0.01);
    ol_mlp_free(&m);
}

TEST(nn_same_seed_same_bytes_other_seed_other_bytes) {
    ol_mlp a, b;
    CHECK(ol_mlp_create(&a, "mlp:30-20-5", 0) == 0 && ol_mlp_create(&b, "mlp:30-20-5", 0) == 0);
    ol_mlp_init(&a, 9);
    ol_mlp_init(&b, 9);
    CHECK(memcmp(a.params, b.params, a.n_params * 4) == 0);
    ol_mlp_init(&b, 10);
    CHECK(memcmp(a.params, b.params, a.n_params * 4) != 0);
    ol_mlp_free(&a);
    ol_mlp_free(&b);
}

TEST(nn_mlp_graph_gradient_matches_finite_differences) {
    ol_mlp m;
    CHECK(ol_mlp_create(&m, "mlp:5-7-3,act=tanh", 0) == 0);
    ol_mlp_init(&m, 4);
    ol_mlp_graph mg;
    CHECK(ol_mlp_graph_build(&m, &mg, 4, 1) == 0);
    float *x = ol_ad_value(mg.g, mg.x);
    for (int i = 0; i < 4 * 5; i++) x[i] = (float)((i * 37 % 11) / 11.0 - 0.4);
    for (int i = 0; i < 4; i++) ol_ad_labels(mg.g, mg.loss)[i] = i % 3;
    memset(m.grads, 0, m.n_params * 4);
    CHECK(ol_ad_forward(mg.g) == 0 && ol_ad_backward(mg.g, mg.loss) == 0);
    for (size_t i = 0; i < m.n_params; i += 3) {
        float keep = m.params[i];
        float h = 1e-2f;
        m.params[i] = keep + h;
        ol_ad_forward(mg.g);
        double fp = ol_ad_scalar(mg.g, mg.loss);
        m.params[i] = keep - h;
        ol_ad_forward(mg.g);
        double fm = ol_ad_scalar(mg.g, mg.loss);
        m.params[i] = keep;
        /* float32 with h = 1e-2: the central difference is good to about 1e-4 */
        CHECK_NEAR(m.grads[i], (fp - fm) / (2 * h), 2e-3);
    }
    ol_mlp_graph_free(&mg);
    ol_mlp_free(&m);
}

TEST(nn_model_file_round_trips_exactly) {
    char path[512];
    snprintf(path, sizeof path, "%s/model.bin", ol_test_tmpdir());
    ol_mlp a, b;
    CHECK(ol_mlp_create(&a, "mlp:6-4-3,act=sigmoid,init=xavier", 0) == 0);
    ol_mlp_init(&a, 5);
    CHECK(ol_mlp_save(&a, path) == 0);
    CHECK(ol_mlp_load(&b, path) == 0);
    CHECK(!strcmp(a.spec, b.spec));
    CHECK(a.n_params == b.n_params && memcmp(a.params, b.params, a.n_params * 4) == 0);
    ol_mlp_free(&a);
    ol_mlp_free(&b);
}

/* Writes a valid model, applies `damage` to its bytes, and returns load's code. */
static int load_damaged(void (*damage)(unsigned char *buf, size_t *len), const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", ol_test_tmpdir(), name);
    ol_mlp a, b;
    ol_mlp_create(&a, "mlp:6-4-3", 0);
    ol_mlp_init(&a, 5);
    ol_mlp_save(&a, path);
    ol_mlp_free(&a);
    unsigned char *buf;
    size_t len;
    ol_read_file(path, 1 << 20, &buf, &len);
    damage(buf, &len);
    ol_write_file_atomic(path, buf, len);
    free(buf);
    int rc = ol_mlp_load(&b, path);
    if (rc == 0) ol_mlp_free(&b);
    return rc;
}
static void flip_weight(unsigned char *buf, size_t *len) { buf[*len - 20] ^= 0x40; }
static void truncate_half(unsigned char *buf, size_t *len) { (void)buf; *len /= 2; }
static void wrong_magic(unsigned char *buf, size_t *len) { (void)len; memcpy(buf, "PK\3\4", 4); }
/* a file of a newer format: its version and a checksum that matches */
static void newer_version(unsigned char *buf, size_t *len) {
    buf[8] = 99;
    ol_put_u32(buf + *len - 4, ol_crc32(0, buf, *len - 4));
}
/* one flipped bit in the version field: corruption (the checksum is believed first), not "newer" */
static void version_bit(unsigned char *buf, size_t *len) { (void)len; buf[8] ^= 8; }
static void truncate_to_4(unsigned char *buf, size_t *len) { (void)buf; *len = 4; }

TEST(nn_corrupt_model_file_is_refused_with_checksum_message) {
    CHECK(load_damaged(flip_weight, "flip") == OL_EFORMAT);
    CHECK(strstr(ol_error(), "checksum") != NULL);
}
TEST(nn_truncated_model_file_is_refused) {
    CHECK(load_damaged(truncate_half, "half") == OL_EFORMAT);
    CHECK(strstr(ol_error(), "truncated") != NULL);
    CHECK(load_damaged(truncate_to_4, "four") == OL_EFORMAT);
}
TEST(nn_foreign_file_is_refused_as_not_a_model) {
    CHECK(load_damaged(wrong_magic, "magic") == OL_EFORMAT);
    CHECK(strstr(ol_error(), "not an optlab model") != NULL);
}
TEST(nn_newer_model_version_is_refused) {
    CHECK(load_damaged(newer_version, "v99") == OL_EFORMAT);
    CHECK_MSG(strstr(ol_error(), "is newer than this optlab's") != NULL, "%s", ol_error());
    CHECK(load_damaged(version_bit, "vbit") == OL_EFORMAT);
    CHECK_MSG(strstr(ol_error(), "checksum mismatch") != NULL, "%s", ol_error());
}
/* Issue 16: a model holding NaN loaded and evaluated ("accuracy 11%", exit 0); the file is valid
 * (its checksum matches), so only the values can tell. */
TEST(nn_model_file_with_a_nan_or_inf_parameter_is_refused) {
    char path[512];
    snprintf(path, sizeof path, "%s/nan-model.bin", ol_test_tmpdir());
    for (int k = 0; k < 2; k++) {
        ol_mlp a, b;
        CHECK(ol_mlp_create(&a, "mlp:6-4-3", 0) == 0);
        ol_mlp_init(&a, 5);
        a.params[7] = k == 0 ? NAN : -INFINITY;
        a.params[9] = NAN;
        CHECK(ol_mlp_save(&a, path) == 0);
        ol_mlp_free(&a);
        CHECK(ol_mlp_load(&b, path) == OL_EFORMAT);
        CHECK_MSG(strstr(ol_error(), "2 of its 43 parameters are NaN or Inf (the first is number 7)"), "%s", ol_error());
    }
}

TEST(nn_missing_model_file_is_an_io_error) {
    ol_mlp m;
    CHECK(ol_mlp_load(&m, "/nonexistent/model.bin") == OL_EIO);
}
