/* test_lrfind.c: the learning-rate range test (include/optlab/lrfind.h) and `optlab lr-find` on small
 * generated data: the exponential lr sweep, the bias-corrected smoothing, the stop on divergence,
 * the suggestion (steepest descent, inside [start, end]), the files, and bad arguments (exit 2,
 * no files left behind). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fixtures.h"
#include "lab_fixture.h"
#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/lrfind.h"
#include "optlab/csv.h"
#include "test.h"

/* A learnable 8x8, 4-class data set in <tmp>/lrfind-data (made once). */
static const char *data_dir(void) {
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/lrfind-data", ol_test_tmpdir());
        if (fixture_make_dataset(dir, 600, 100, 8, 4, 17, 0)) fprintf(stderr, "cannot make %s\n", dir);
    }
    return dir;
}

static int load(ol_dataset *train) {
    ol_dataset test;
    int rc = ol_data_load(data_dir(), train, &test);
    ol_dataset_free(&test);
    return rc;
}

static ol_lrfind_config small_config(void) {
    ol_lrfind_config c = ol_lrfind_default_config();
    c.model_spec = "mlp:64-16-4";
    c.batch = 32;
    c.start_lr = 1e-4;
    c.end_lr = 1;
    c.steps = 40;
    c.seed = 3;
    return c;
}

TEST(lrfind_lr_grows_exponentially_from_start_to_end) {
    ol_dataset train;
    CHECK_EQ_INT(load(&train), 0);
    ol_lrfind_config c = small_config();
    ol_lrfind_result r;
    int rc = ol_lrfind_run(&c, &train, &r);
    ol_dataset_free(&train);
    CHECK_MSG(rc == 0, "%s", ol_error());
    CHECK_MSG(!r.diverged && r.n_points == c.steps, "diverged at step %ld below lr 1", r.n_points);
    double ratio = pow(c.end_lr / c.start_lr, 1.0 / (double)(c.steps - 1));   /* 10^(4/39) */
    CHECK(r.lr[0] == c.start_lr && r.lr[c.steps - 1] == c.end_lr);
    int ok = 1;
    for (long i = 0; i + 1 < r.n_points; i++) ok = ok && fabs(r.lr[i + 1] / r.lr[i] - ratio) < 1e-9 && r.step[i] == i + 1;
    CHECK_MSG(ok, "the lr is not a geometric sequence from start to end");
    ol_lrfind_result_free(&r);
}

TEST(lrfind_smooths_with_a_bias_corrected_moving_average) {
    ol_dataset train;
    CHECK_EQ_INT(load(&train), 0);
    ol_lrfind_config c = small_config();
    c.beta = 0.9;
    ol_lrfind_result r;
    CHECK_EQ_INT(ol_lrfind_run(&c, &train, &r), 0);
    ol_dataset_free(&train);
    /* avg_i = 0.9 avg_{i-1} + 0.1 loss_i; smooth_i = avg_i / (1 - 0.9^(i+1)): smooth_0 = loss_0 */
    double avg = 0;
    int ok = r.smooth[0] == r.loss[0];
    for (long i = 0; i < r.n_points; i++) {
        avg = 0.9 * avg + 0.1 * r.loss[i];
        ok = ok && fabs(r.smooth[i] - avg / (1 - pow(0.9, (double)(i + 1)))) <= 1e-12 * fabs(r.smooth[i]);
    }
    CHECK_MSG(ok, "smooth_loss is not the bias-corrected moving average of loss");
    /* it learns at the larger rates: the smoothed loss falls below the first loss */
    CHECK_MSG(r.min_smooth < 0.9 * r.initial_loss, "min smoothed loss %g, initial %g", r.min_smooth, r.initial_loss);
    ol_lrfind_result_free(&r);
}

/* Random pixels with random labels: nothing to learn, so the loss cannot fall to ~0 and escape the
 * divergence test by vanishing gradients (the generated tasks are separable: with them the loss only
 * keeps falling as the rate grows). */
static void noise_dataset(ol_dataset *d, uint8_t *pixels, uint8_t *labels, uint32_t n, uint32_t side) {
    uint64_t x = 88172645463325252ull;
    for (uint32_t i = 0; i < n * side * side; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;   /* xorshift64 */
        pixels[i] = (uint8_t)(x >> 56);
    }
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        labels[i] = (uint8_t)(x >> 62);
    }
    memset(d, 0, sizeof *d);
    d->n = n;
    d->rows = d->cols = side;
    d->pixels = pixels;
    d->labels = labels;
    d->n_classes = 4;
}

TEST(lrfind_stops_when_the_loss_diverges) {
    static uint8_t pixels[256 * 16], labels[256];
    ol_dataset noise;
    noise_dataset(&noise, pixels, labels, 256, 4);
    ol_lrfind_config c = small_config();
    c.model_spec = "mlp:16-16-4";
    c.end_lr = 1e4;            /* far too large at the end */
    c.steps = 60;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        c.seed = seed;
        ol_lrfind_result r;
        CHECK_EQ_INT(ol_lrfind_run(&c, &noise, &r), 0);
        CHECK_MSG(r.diverged && r.n_points < c.steps, "seed %d: no stop: %ld of %ld points", (int)seed, r.n_points,
                  c.steps);
        /* the last point is the one that diverged: non-finite, or smoothed above 4x the minimum before it */
        long last = r.n_points - 1;
        double min_before = INFINITY;
        for (long i = 0; i < last; i++) min_before = fmin(min_before, r.smooth[i]);
        CHECK(!isfinite(r.loss[last]) || !(r.smooth[last] <= 4 * min_before));
        for (long i = 0; i < last; i++) CHECK(isfinite(r.smooth[i]) && r.smooth[i] <= 4 * min_before);
        CHECK(r.suggested_lr >= c.start_lr && r.suggested_lr <= r.lr[last]);
        ol_lrfind_result_free(&r);
    }
}

TEST(lrfind_suggests_the_steepest_descent_inside_the_range) {
    ol_dataset train;
    CHECK_EQ_INT(load(&train), 0);
    ol_lrfind_config c = small_config();
    c.end_lr = 1e3;
    c.steps = 60;
    ol_lrfind_result r;
    CHECK_EQ_INT(ol_lrfind_run(&c, &train, &r), 0);
    ol_dataset_free(&train);
    CHECK(r.suggested_lr >= c.start_lr && r.suggested_lr <= c.end_lr);
    CHECK(r.suggested_lr == r.steep_lr && r.steep_lr == r.lr[r.steep_index]);
    /* the minimum is the lowest smoothed loss of the points before the divergent one */
    long n = r.n_points - (r.diverged ? 1 : 0);
    for (long i = 0; i < n; i++) CHECK(r.smooth[i] >= r.min_smooth);
    CHECK(r.min_lr == r.lr[r.min_index] && r.min_smooth == r.smooth[r.min_index]);
    /* the steepest descent lies at or before the minimum, and the loss falls there */
    CHECK(r.steep_index <= r.min_index);
    long a = r.steep_index > 0 ? r.steep_index - 1 : 0, b = r.steep_index + 1 < n ? r.steep_index + 1 : n - 1;
    CHECK_MSG(r.smooth[b] < r.smooth[a], "the smoothed loss does not fall at the suggestion");
    ol_lrfind_result_free(&r);
}

TEST(lrfind_same_seed_same_curve) {
    ol_dataset train;
    CHECK_EQ_INT(load(&train), 0);
    ol_lrfind_config c = small_config();
    ol_lrfind_result a, b;
    CHECK_EQ_INT(ol_lrfind_run(&c, &train, &a), 0);
    CHECK_EQ_INT(ol_lrfind_run(&c, &train, &b), 0);
    c.seed = 4;
    ol_lrfind_result other;
    CHECK_EQ_INT(ol_lrfind_run(&c, &train, &other), 0);
    ol_dataset_free(&train);
    CHECK(a.n_points == b.n_points && !memcmp(a.loss, b.loss, (size_t)a.n_points * sizeof(double)));
    CHECK(memcmp(a.loss, other.loss, (size_t)a.n_points * sizeof(double)) != 0);
    ol_lrfind_result_free(&a);
    ol_lrfind_result_free(&b);
    ol_lrfind_result_free(&other);
}

TEST(lrfind_bad_settings_are_refused_before_any_work) {
    ol_lrfind_config c = small_config();
    c.start_lr = 0;
    CHECK_EQ_INT(ol_lrfind_check(&c), OL_EARG);
    c = small_config();
    c.end_lr = c.start_lr;
    CHECK_EQ_INT(ol_lrfind_check(&c), OL_EARG);
    c = small_config();
    c.steps = 1;
    CHECK_EQ_INT(ol_lrfind_check(&c), OL_EARG);
    c = small_config();
    c.beta = 1;
    CHECK_EQ_INT(ol_lrfind_check(&c), OL_EARG);
    c = small_config();
    c.opt = "random";
    CHECK_EQ_INT(ol_lrfind_check(&c), OL_EARG);
    CHECK(strstr(ol_error(), "learning rate") != NULL);
    c = small_config();
    c.model_spec = "mlp:64";
    CHECK_EQ_INT(ol_lrfind_check(&c), OL_EARG);
    c = ol_lrfind_default_config();   /* no model spec */
    CHECK_EQ_INT(ol_lrfind_check(&c), OL_EARG);
    CHECK(strstr(ol_error(), "model") != NULL);
}

TEST(lrfind_model_that_does_not_fit_the_data_is_refused) {
    ol_dataset train;
    CHECK_EQ_INT(load(&train), 0);
    ol_lrfind_config c = small_config();
    c.model_spec = "mlp:784-16-4";
    ol_lrfind_result r;
    CHECK_EQ_INT(ol_lrfind_run(&c, &train, &r), OL_EARG);
    CHECK(strstr(ol_error(), "64 pixels") != NULL || strstr(ol_error(), "pixels") != NULL);
    CHECK(r.n_points == 0 && r.lr == NULL);
    ol_dataset_free(&train);
}

/* ---- the command ---- */

static char out[1 << 16];

static int lrfind(const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s lr-find %s", ol_test_bin(), args);
    return ol_test_run(cmd, out, sizeof out);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

TEST(cli_lrfind_prints_a_suggestion_and_writes_the_curve) {
    char args[2048], csv_path[512], svg_path[512];
    snprintf(csv_path, sizeof csv_path, "%s/lf.csv", ol_test_tmpdir());
    snprintf(svg_path, sizeof svg_path, "%s/lf.svg", ol_test_tmpdir());
    snprintf(args, sizeof args,
             "--data %s --model mlp:64-16-4 --opt sgd:momentum=0.9 --batch 32 --start 1e-4 --end 100 --steps 50 "
             "--seed 2 --threads 1 --csv %s --svg %s",
             data_dir(), csv_path, svg_path);
    int rc = lrfind(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    const char *p = strstr(out, "suggested lr ");
    CHECK_MSG(p != NULL, "no suggestion in: %s", out);
    double lr = atof(p + strlen("suggested lr "));
    CHECK_MSG(lr >= 1e-4 && lr <= 100, "suggested lr %g outside [1e-4, 100]", lr);
    ol_csv_table t;
    CHECK_EQ_INT(ol_csv_read(csv_path, &t), 0);
    int cs = ol_csv_column(&t, "step"), cl = ol_csv_column(&t, "lr"), closs = ol_csv_column(&t, "loss"),
        cm = ol_csv_column(&t, "smooth_loss");
    int ok = cs >= 0 && cl >= 0 && closs >= 0 && cm >= 0 && t.n_rows >= 2 && t.n_rows <= 50;
    for (size_t i = 0; ok && i + 1 < t.n_rows; i++) ok = t.values[(i + 1) * t.n_cols + cl] > t.values[i * t.n_cols + cl];
    double first = ok ? t.values[cl] : 0;
    ol_csv_table_free(&t);
    CHECK_MSG(ok, "lf.csv: missing columns or an lr that does not grow");
    CHECK(first == 1e-4);
    CHECK(lab_fixture_xml_ok(svg_path));
}

TEST(cli_lrfind_same_seed_same_csv_at_one_and_two_threads) {
    char args[2048], a[512], b[512];
    snprintf(a, sizeof a, "%s/lf1.csv", ol_test_tmpdir());
    snprintf(b, sizeof b, "%s/lf2.csv", ol_test_tmpdir());
    snprintf(args, sizeof args, "--data %s --model mlp:64-16-4 --opt adam --steps 30 --threads 1 --csv %s", data_dir(), a);
    CHECK_EQ_INT(lrfind(args), 0);
    snprintf(args, sizeof args, "--data %s --model mlp:64-16-4 --opt adam --steps 30 --threads 2 --csv %s", data_dir(), b);
    CHECK_EQ_INT(lrfind(args), 0);
    char cmd[1200], buf[64];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    CHECK(ol_test_run(cmd, buf, sizeof buf) == 0);
}

/* Each bad invocation exits 2 with a message naming the problem and leaves no file. */
TEST(cli_lrfind_bad_arguments_exit_2_and_write_nothing) {
    static const struct { const char *args, *needle; } cases[] = {
        {"--opt sgd", "--model"},
        {"--model mlp:64-16-4", "--opt"},
        {"--model mlp:64-16-4 --opt sgd --start 0", "start"},
        {"--model mlp:64-16-4 --opt sgd --start 1 --end 0.5", "end"},
        {"--model mlp:64-16-4 --opt sgd --steps 1", "--steps"},
        {"--model mlp:64-16-4 --opt sgd --beta 1", "beta"},
        {"--model mlp:64-16-4 --opt random", "learning rate"},
        {"--model mlp:64-16-4 --opt adam:beta9=1", "beta9"},
        {"--model mlp:64-16-4 --opt sgd --batch 0", "--batch"},
        {"--model mlp:64-16-4 --opt sgd --bogus 1", "--bogus"},
        {"--model mlp:784-16-4 --opt sgd", "pixels"},
    };
    char csv_path[512], args[2048];
    snprintf(csv_path, sizeof csv_path, "%s/never.csv", ol_test_tmpdir());
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(args, sizeof args, "--data %s %s --csv %s", data_dir(), cases[i].args, csv_path);
        int rc = lrfind(args);
        CHECK_MSG(rc == 2, "'%s': exit %d, expected 2: %s", cases[i].args, rc, out);
        CHECK_MSG(strstr(out, cases[i].needle) != NULL, "'%s': message lacks '%s': %s", cases[i].args,
                  cases[i].needle, out);
        CHECK_MSG(!exists(csv_path), "'%s' left %s behind", cases[i].args, csv_path);
    }
}

TEST(cli_lrfind_missing_data_exits_1_and_writes_nothing) {
    char args[2048], csv_path[512], svg_path[512];
    snprintf(csv_path, sizeof csv_path, "%s/none.csv", ol_test_tmpdir());
    snprintf(svg_path, sizeof svg_path, "%s/none.svg", ol_test_tmpdir());
    snprintf(args, sizeof args, "--data %s/no-such-dir --model mlp:64-16-4 --opt sgd --csv %s --svg %s",
             ol_test_tmpdir(), csv_path, svg_path);
    int rc = lrfind(args);
    CHECK_MSG(rc == 1, "exit %d: %s", rc, out);
    CHECK(!exists(csv_path) && !exists(svg_path));
}
