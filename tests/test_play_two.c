/* test_play_two.c: two weights of a real model and the price of a gradient (include/optlab/play_two.h;
 * issue 18, demos 2 and 4): the two-weight loss against the model's whole softmax computed from
 * scratch, its gradient against central differences, Newton's minimum (gradient ~0, the Hessian
 * positive definite and equal to its closed form), runs that are `optlab optimize`'s loop, the bad
 * inputs refused with their messages; the same numbers in the WebAssembly build (node). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/play_two.h"
#include "optlab/rng.h"
#include "test.h"

#define N 300
#define SIDE 4
#define F (SIDE * SIDE)
#define C 3

/* A small learnable task: class k lights pixels 4k..4k+3 by `band` over noise of 0..noise (a band
 * above the noise separates the classes: the loss over such a pixel's weight falls towards a limit
 * as the weight grows, with no minimum); pixel F-1 is 0 everywhere (a pixel that never varies). The
 * model: mlp:16-3 with N(0, 0.3^2) weights and biases. */
typedef struct {
    uint8_t pixels[N * F], labels[N];
    float params[F * C + C];
} toy;

static void make_toy_with(toy *t, uint64_t seed, double band, double noise) {
    ol_rng r;
    ol_rng_seed(&r, seed);
    for (int k = 0; k < N; k++) {
        int y = (int)ol_rng_below(&r, C);
        t->labels[k] = (uint8_t)y;
        for (int p = 0; p < F; p++) {
            double v = noise * ol_rng_uniform(&r) + (p / 4 == y ? band : 0);
            t->pixels[k * F + p] = p == F - 1 ? 0 : (uint8_t)v;
        }
    }
    for (int i = 0; i < F * C + C; i++) t->params[i] = (float)(0.3 * ol_rng_normal(&r));
}
static void make_toy(toy *t, uint64_t seed) { make_toy_with(t, seed, 60, 190); }

/* The examples as the model sees them (standardized as train --normalize) */
static void features(const toy *t, float *x) {
    ol_dataset view = {N, SIDE, SIDE, (uint8_t *)t->pixels, (uint8_t *)t->labels, C, 0};
    double mean, sd;
    ol_data_stats(&view, &mean, &sd);
    uint32_t idx[N];
    for (uint32_t k = 0; k < N; k++) idx[k] = k;
    ol_data_batch(&view, idx, N, x, NULL, (float)mean, (float)(1.0 / sd));
}

/* The model's mean cross-entropy with W[i][c] = w and b[c] = b, every logit computed from scratch;
 * pc (may be NULL): each example's probability of class c */
static double full_loss(const toy *t, const float *x, int i, int c, double w, double b, double *pc) {
    double sum = 0;
    for (int k = 0; k < N; k++) {
        double z[C], top = -INFINITY, s = 0;
        for (int j = 0; j < C; j++) {
            z[j] = j == c ? b : t->params[F * C + j];
            for (int p = 0; p < F; p++) z[j] += (double)x[k * F + p] * (p == i && j == c ? w : (double)t->params[p * C + j]);
            top = fmax(top, z[j]);
        }
        for (int j = 0; j < C; j++) s += exp(z[j] - top);
        sum += top + log(s) - z[t->labels[k]];
        if (pc) pc[k] = exp(z[c] - top) / s;
    }
    return sum / N;
}

static ol_play_two *toy_two(const toy *t, int i, int c) {
    return ol_play_two_new("mlp:16-3", t->params, F * C + C, t->pixels, t->labels, N, F, 1, i, c);
}

TEST(play_two_loss_is_the_models_cross_entropy_and_its_gradient_the_central_differences) {
    static toy t;
    make_toy(&t, 3);
    float x[N * F];
    features(&t, x);
    ol_play_two *two = toy_two(&t, 5, 1);
    CHECK(two);
    CHECK_MSG(ol_play_two_status(two) == 0, "%s", ol_play_two_message(two));
    CHECK_EQ_INT(ol_play_two_info(two, 0) == t.params[5 * C + 1], 1);   /* the model's own w and b */
    CHECK_EQ_INT(ol_play_two_info(two, 1) == t.params[F * C + 1], 1);
    const double pts[3][2] = {{t.params[5 * C + 1], t.params[F * C + 1]}, {1.5, -0.7}, {-2.0, 2.5}};
    for (int p = 0; p < 3; p++) {
        double w = pts[p][0], b = pts[p][1], g[2];
        double f = ol_play_two_gradient(two, w, b, g);
        CHECK_NEAR(f, full_loss(&t, x, 5, 1, w, b, NULL), 1e-13);
        CHECK_NEAR(ol_play_two_loss(two, w, b), f, 0);
        for (int j = 0; j < 2; j++) {
            double h = 1e-6, hi = ol_play_two_loss(two, w + (j ? 0 : h), b + (j ? h : 0)),
                   lo = ol_play_two_loss(two, w - (j ? 0 : h), b - (j ? h : 0));
            CHECK_NEAR(g[j], (hi - lo) / (2 * h), 1e-8);
        }
    }
    ol_play_two_free(two);
}

TEST(play_two_newton_finds_the_minimum_where_the_gradient_vanishes_and_the_hessian_is_positive_definite) {
    static toy t;
    make_toy(&t, 11);
    float x[N * F];
    features(&t, x);
    for (int c = 0; c < C; c++) {
        int i = 4 * c + 1; /* a pixel of class c's band */
        ol_play_two *two = toy_two(&t, i, c);
        CHECK_MSG(ol_play_two_status(two) == 0, "%s", ol_play_two_message(two));
        double w = ol_play_two_info(two, 2), b = ol_play_two_info(two, 3), g[2];
        double f = ol_play_two_gradient(two, w, b, g);
        CHECK_NEAR(f, ol_play_two_info(two, 4), 0);
        CHECK_MSG(hypot(g[0], g[1]) <= 1e-10 && ol_play_two_info(two, 5) <= 1e-10, "gradient %g %g at the minimum", g[0], g[1]);
        long it = (long)ol_play_two_info(two, 12);
        const double *tr = ol_play_two_newton_trace(two);
        CHECK_MSG(it >= 1 && it <= 20 && ol_play_two_newton_rows(two) == it + 1, "%ld iterations", it);
        for (long k = 1; k <= it; k++) CHECK_MSG(tr[4 * k + 2] <= tr[4 * (k - 1) + 2], "Newton's loss rose at %ld", k);
        /* the Hessian: its closed form mean p (1 - p) [x_i, 1][x_i, 1]^T, positive definite */
        double p[N], h[4] = {0, 0, 0, 0};
        full_loss(&t, x, i, c, w, b, p);
        for (int k = 0; k < N; k++) {
            double v = p[k] * (1 - p[k]) / N, xi = x[k * F + i];
            h[0] += v * xi * xi, h[1] += v * xi, h[3] += v;
        }
        h[2] = h[1];
        for (int e = 0; e < 4; e++) CHECK_NEAR(ol_play_two_info(two, 6 + e), h[e], 1e-6);
        double lo = ol_play_two_info(two, 10), hi = ol_play_two_info(two, 11);
        CHECK_MSG(lo > 0 && hi >= lo, "eigenvalues %g %g", lo, hi);
        CHECK_NEAR(lo + hi, h[0] + h[3], 1e-6);
        CHECK_NEAR(lo * hi, h[0] * h[3] - h[1] * h[1], 1e-6);
        CHECK(ol_play_two_info(two, 19) == 1 / hi && ol_play_two_info(two, 20) == 2 / hi && ol_play_two_info(two, 21) == hi / lo);
        /* a minimum: every point around it is higher, the start too */
        for (int d = 0; d < 8; d++) {
            double a = d * M_PI / 4;
            CHECK(ol_play_two_loss(two, w + 1e-3 * cos(a), b + 1e-3 * sin(a)) > f);
        }
        CHECK(f < ol_play_two_loss(two, ol_play_two_info(two, 0), ol_play_two_info(two, 1)));
        /* the window holds the minimum at its centre and the default start */
        CHECK_NEAR(0.5 * (ol_play_two_info(two, 13) + ol_play_two_info(two, 14)), w, 1e-12);
        CHECK_NEAR(0.5 * (ol_play_two_info(two, 15) + ol_play_two_info(two, 16)), b, 1e-12);
        CHECK(ol_play_two_info(two, 17) > ol_play_two_info(two, 13) && ol_play_two_info(two, 17) < w);
        ol_play_two_free(two);
    }
}

TEST(play_two_runs_are_optimizes_loop_with_the_distance_to_the_minimum) {
    static toy t;
    make_toy(&t, 5);
    ol_play_two *two = toy_two(&t, 9, 2);
    CHECK_MSG(ol_play_two_status(two) == 0, "%s", ol_play_two_message(two));
    double w0 = ol_play_two_info(two, 17), b0 = ol_play_two_info(two, 18), lr = 1 / ol_play_two_info(two, 11);
    double ws = ol_play_two_info(two, 2), bs = ol_play_two_info(two, 3);
    ol_play_two_run *r = ol_play_two_descend(two, "gd", lr, 40, w0, b0);
    CHECK_MSG(ol_play_two_run_status(r) == 0, "%s", ol_play_two_run_message(r));
    CHECK_EQ_INT(ol_play_two_run_rows(r), 41);
    /* gradient descent by hand: the same points, bit for bit */
    const double *tr = ol_play_two_run_trace(r);
    double w = w0, b = b0, g[2];
    for (int k = 0; k <= 40; k++) {
        double f = ol_play_two_gradient(two, w, b, g);
        const double *row = tr + 7 * k;
        CHECK_MSG(row[0] == k && row[1] == lr && row[2] == f && row[3] == w && row[4] == b,
                  "row %d: %.17g %.17g %.17g against %.17g %.17g %.17g", k, row[2], row[3], row[4], f, w, b);
        CHECK_NEAR(row[5], log10(fabs(w - ws)), 1e-14);
        CHECK_NEAR(row[6], log10(fabs(b - bs)), 1e-14);
        w -= lr * g[0];
        b -= lr * g[1];
    }
    CHECK(tr[7 * 40 + 2] < tr[2]);
    const char *csv = ol_play_two_run_csv(r);
    CHECK(csv && !strncmp(csv, "step,lr,f,x0,x1\n0,", 18));
    char row40[256];
    snprintf(row40, sizeof row40, "\n40,%.17g,%.17g,%.17g,%.17g\n", lr, tr[7 * 40 + 2], tr[7 * 40 + 3], tr[7 * 40 + 4]);
    CHECK_MSG(strstr(csv, row40), "no %s in %s", row40, csv);
    ol_play_two_run_free(r);
    /* heavy ball at the same lr: every row a point of its own, the minimum approached */
    r = ol_play_two_descend(two, "heavyball:beta=0.9", lr, 200, w0, b0);
    CHECK_MSG(ol_play_two_run_status(r) == 0, "%s", ol_play_two_run_message(r));
    tr = ol_play_two_run_trace(r);
    CHECK(tr[7 * 200 + 5] < tr[5] - 2 && tr[7 * 200 + 6] < tr[6] - 2);
    ol_play_two_run_free(r);
    ol_play_two_free(two);
}

/* the object's or run's message, checked against the words it must hold */
#define CHECK_REFUSED(obj, status_fn, message_fn, code, words)                                            \
    do {                                                                                                  \
        CHECK(obj);                                                                                       \
        CHECK_MSG(status_fn(obj) == (code) && strstr(message_fn(obj), words), "status %d: '%s' (want '%s')", \
                  status_fn(obj), message_fn(obj), words);                                               \
    } while (0)

TEST(play_two_refuses_bad_inputs_with_clear_messages) {
    static toy t;
    make_toy(&t, 7);
    const long np = F * C + C;
    struct {
        const char *model;
        long n_params;
        int features, weight, cls;
        const char *words;
    } bad[] = {
        {"mlp:16-3", np, F, 16, 0, "weight index 16 is out of range: the model's inputs are pixels 0 to 15"},
        {"mlp:16-3", np, F, -1, 0, "weight index -1 is out of range"},
        {"mlp:16-3", np, F, 3, 3, "class 3 is out of range: the model's classes are 0 to 2"},
        {"mlp:16-8-3", 16 * 8 + 8 + 8 * 3 + 3, F, 3, 0, "mlp:16-8-3 has 2 layers: two weights of a real model need a linear model"},
        {"mlp:16-3", np - 1, F, 3, 0, "mlp:16-3 has 51 parameters, got 50"},
        {"mlp:16-3", np, 15, 3, 0, "the examples have 15 pixels, mlp:16-3 takes 16 inputs"},
        {"mlp:16-3", np, F, F - 1, 0, "pixel 15 has the same value in all 300 examples"},
        {"mlp:foo", np, F, 3, 0, "mlp"},
    };
    ol_play_two *two;
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        two = ol_play_two_new(bad[k].model, t.params, bad[k].n_params, t.pixels, t.labels, N, bad[k].features,
                                           1, bad[k].weight, bad[k].cls);
        CHECK_REFUSED(two, ol_play_two_status, ol_play_two_message, OL_EARG, bad[k].words);
        CHECK(isnan(ol_play_two_loss(two, 0, 0)) && isnan(ol_play_two_info(two, 2)));
        CHECK(!ol_play_two_map(two, -1, 1, -1, 1, 8, 8));
        ol_play_two_run *r = ol_play_two_descend(two, "gd", 0.1, 10, 0, 0);
        CHECK_REFUSED(r, ol_play_two_run_status, ol_play_two_run_message, OL_EARG, "no loss to descend");
        ol_play_two_run_free(r);
        ol_play_two_free(two);
    }
    make_toy_with(&t, 7, 150, 60); /* pixel 1 separates class 0: no minimum over its weight */
    two = toy_two(&t, 1, 0);
    CHECK_REFUSED(two, ol_play_two_status, ol_play_two_message, OL_ENUMERIC, "Newton's method did not converge in 50 "
                  "iterations");
    CHECK(strstr(ol_play_two_message(two), "the loss may have no minimum over this weight and bias"));
    ol_play_two_free(two);
    make_toy(&t, 7);
    t.labels[17] = 3;
    two = toy_two(&t, 3, 0);
    CHECK_REFUSED(two, ol_play_two_status, ol_play_two_message, OL_EARG, "example 17 has label 3, not one of the model's 3 classes");
    ol_play_two_free(two);
    t.labels[17] = 0;

    /* the runs: the optimizer's and the loop's own messages */
    two = toy_two(&t, 3, 0);
    CHECK_MSG(ol_play_two_status(two) == 0, "%s", ol_play_two_message(two));
    struct {
        const char *opt;
        double lr;
        long steps;
        int code;
        const char *words;
    } runs[] = {
        {"adamx", 0.1, 10, OL_EARG, "unknown optimizer 'adamx'"},
        {"heavyball:gamma=0.5", 0.1, 10, OL_EARG, "gamma"},
        {"gd", -1, 10, OL_EARG, "invalid learning rate -1"},
        {"gd", NAN, 10, OL_EARG, "learning rate"},
        {"gd", 0.1, -1, OL_EARG, "steps: -1 is out of range [0, 100000]"},
        {"gd", 1e12, 50, OL_ENUMERIC, "the run diverged"},
    };
    for (size_t k = 0; k < sizeof runs / sizeof *runs; k++) {
        ol_play_two_run *r = ol_play_two_descend(two, runs[k].opt, runs[k].lr, runs[k].steps, 0, 0);
        CHECK_REFUSED(r, ol_play_two_run_status, ol_play_two_run_message, runs[k].code, runs[k].words);
        if (runs[k].code == OL_ENUMERIC) CHECK(ol_play_two_run_rows(r) >= 2); /* up to where it diverged */
        ol_play_two_run_free(r);
    }
    ol_play_two_run *r = ol_play_two_descend(two, "gd", 0.1, 5, NAN, 0);
    CHECK_REFUSED(r, ol_play_two_run_status, ol_play_two_run_message, OL_EARG, "is not a finite point");
    ol_play_two_run_free(r);
    CHECK(!ol_play_two_map(two, 1, -1, 0, 1, 8, 8) && strstr(ol_error(), "each range must be finite and not empty"));
    CHECK(!ol_play_two_map(two, -1, 1, 0, 1, 1, 8) && strstr(ol_error(), "each side must be in [2, 4096]"));
    double *map = ol_play_two_map(two, -1, 1, -2, 2, 5, 4);
    CHECK(map);
    CHECK(map[2 * 5 + 3] == ol_play_two_loss(two, -1 + 2.0 * 3 / 4, -2 + 4.0 * 2 / 3));
    free(map);
    ol_play_two_free(two);
}

TEST(play_two_gradient_time_and_the_race_smoothing) {
    static toy t;
    make_toy(&t, 9);
    double ms[4];
    CHECK_MSG(ol_play_two_gradient_ms("mlp:16-32-3", t.pixels, t.labels, N, F, 200, 5, 1, ms) == 0, "%s", ol_error());
    /* times: only their order and sign (a loaded machine may make any of them long) */
    CHECK_MSG(ms[1] > 0 && ms[1] <= ms[0] && ms[0] <= ms[2] && isfinite(ms[2]), "%g %g %g", ms[0], ms[1], ms[2]);
    /* the passes a repeat: 1, a power of two (doubled until about 2 ms) or the cap of 1000 */
    CHECK_MSG(ms[3] >= 1 && ms[3] <= 1000 && ms[3] == floor(ms[3]) && (ms[3] == 1000 || ((long)ms[3] & ((long)ms[3] - 1)) == 0),
              "%g passes a repeat", ms[3]);
    CHECK(ol_play_two_gradient_ms("mlp:16-32-3", t.pixels, t.labels, N, F, N + 1, 5, 1, ms) == OL_EARG &&
          strstr(ol_error(), "301 examples: choose between 1 and 300"));
    CHECK(ol_play_two_gradient_ms("mlp:16-32-3", t.pixels, t.labels, N, F, 10, 0, 1, ms) == OL_EARG &&
          strstr(ol_error(), "0 repeats: choose between 1 and 50"));
    CHECK(ol_play_two_gradient_ms("mlp:20-3", t.pixels, t.labels, N, F, 10, 3, 1, ms) == OL_EARG &&
          strstr(ol_error(), "the examples have 16 pixels, mlp:20-3 takes 20 inputs"));
    /* a step log: step, seconds, lr, loss; batch 250, window 1000: the mean of the last 4 steps */
    double trace[6 * 4], smooth[6];
    const double loss[6] = {2.0, 1.0, 0.6, 0.4, 0.3, 0.2};
    for (int k = 0; k < 6; k++) {
        trace[4 * k] = k + 1, trace[4 * k + 1] = 0.5 * (k + 1), trace[4 * k + 2] = 0.005, trace[4 * k + 3] = loss[k];
    }
    double at = ol_play_two_race_smooth(trace, 6, 250, 1000, 0.5, smooth);
    const double want[6] = {2.0, 1.5, 3.6 / 3, 1.0, 2.3 / 4, 1.5 / 4};
    for (int k = 0; k < 6; k++) CHECK_NEAR(smooth[k], want[k], 1e-15);
    CHECK_NEAR(at, 3.0, 0);                                   /* the sixth step, at 3 s */
    CHECK(ol_play_two_race_smooth(trace, 6, 250, 1000, 0.1, smooth) == -1);
    CHECK(ol_play_two_race_smooth(trace, 6, 2000, 1000, 0.5, smooth) == 0.5 * 4); /* window of one step */
    CHECK(isnan(ol_play_two_race_smooth(trace, 6, 0, 1000, 0.5, smooth)));
}

/* ---- the same numbers in the WebAssembly build (node) ---- */

/* 1 when a and b are the same double (NaN equal to NaN) */
static int same(double a, double b) { return a == b ? signbit(a) == signbit(b) : isnan(a) && isnan(b); }

/* the next number of a list written by JavaScript's String() (strtod reads its NaN and Infinity);
 * a poison value (a NaN that never equals) where there is none */
static double next_number(char **p) {
    char *end;
    double v = strtod(*p, &end);
    if (end == *p) return 12345.678e300;
    *p = end;
    return v;
}

TEST(play_two_the_webassembly_build_gives_the_native_numbers_bit_for_bit) {
    struct stat st;
    if (stat("build/wasm/optlab.wasm", &st) != 0) SKIP("no build/wasm/optlab.wasm (make wasm: clang, lld, wasi-libc)");
    char out[4096];
    if (ol_test_run("command -v node", out, sizeof out) != 0) SKIP("node not found (scripts/setup.sh installs nodejs)");
    static toy t;
    make_toy(&t, 21);
    ol_play_two *two = toy_two(&t, 6, 1);
    CHECK_MSG(ol_play_two_status(two) == 0, "%s", ol_play_two_message(two));
    const double lr = 1 / ol_play_two_info(two, 11), w0 = ol_play_two_info(two, 17), b0 = ol_play_two_info(two, 18);
    const char *opts[4] = {"gd", "heavyball:beta=0.9", "adamx", "gd"};
    const double lrs[4] = {lr, lr, lr, 1e12};
    const double step_log[4 * 5] = {1, 0.1, 0.005, 2.3, 2, 0.2, 0.005, 1.1, 3, 0.3, 0.005, 0.45, 4, 0.4, 0.005, 0.5,
                                    5, 0.5, 0.005, 0.3};
    const char *in = ol_test_path("two-in.json");
    FILE *f = fopen(in, "w");
    CHECK(f);
    fprintf(f, "{\"model\": \"mlp:16-3\", \"costModel\": \"mlp:16-32-3\", \"n\": %d, \"features\": %d, \"normalize\": 1, "
            "\"weight\": 6, \"cls\": 1, \"cells\": 9, \"params\": [", N, F);
    for (int i = 0; i < F * C + C; i++) fprintf(f, "%s%.9g", i ? "," : "", (double)t.params[i]);
    fprintf(f, "], \"pixels\": [");
    for (int i = 0; i < N * F; i++) fprintf(f, "%s%d", i ? "," : "", t.pixels[i]);
    fprintf(f, "], \"labels\": [");
    for (int i = 0; i < N; i++) fprintf(f, "%s%d", i ? "," : "", t.labels[i]);
    fprintf(f, "], \"runs\": [");
    for (int k = 0; k < 4; k++) fprintf(f, "%s{\"opt\": \"%s\", \"lr\": %.17g, \"steps\": 60}", k ? "," : "", opts[k], lrs[k]);
    fprintf(f, "], \"smooth\": [[");
    for (int i = 0; i < 20; i++) fprintf(f, "%s%.17g", i ? "," : "", step_log[i]);
    fprintf(f, "], 250, 500, 0.5]}\n");
    CHECK(fclose(f) == 0);
    const char *dir = ol_test_path("two-node");
    int rc = ol_test_sh(out, sizeof out, "mkdir -p %s && node tests/play_two_node.js build/wasm/optlab.wasm web/play.js "
                        "web/two.js %s %s", dir, in, dir);
    CHECK_MSG(rc == 0, "node: exit %d: %s", rc, out);
    char path[1024], *text, *p;

    /* the object: status, message, the 22 numbers, Newton's iterates, the map */
    snprintf(path, sizeof path, "%s/info.txt", dir);
    CHECK((text = ol_test_slurp(path, NULL)));
    CHECK_MSG(!strncmp(text, "status 0\n\n", 10), "%s", text);
    p = text + 10;
    for (int k = 0; k < 22; k++) {
        double v = next_number(&p);
        CHECK_MSG(same(v, ol_play_two_info(two, k)), "info %d: %.17g in WebAssembly, %.17g natively", k, v, ol_play_two_info(two, k));
    }
    free(text);
    snprintf(path, sizeof path, "%s/newton.txt", dir);
    CHECK((text = ol_test_slurp(path, NULL)));
    p = text;
    const double *nt = ol_play_two_newton_trace(two);
    for (long k = 0; k < 4 * ol_play_two_newton_rows(two); k++) CHECK_MSG(same(next_number(&p), nt[k]), "Newton's value %ld", k);
    free(text);
    double *map = ol_play_two_map(two, ol_play_two_info(two, 13), ol_play_two_info(two, 14), ol_play_two_info(two, 15),
                                  ol_play_two_info(two, 16), 9, 9);
    snprintf(path, sizeof path, "%s/map.txt", dir);
    text = ol_test_slurp(path, NULL);
    p = text;
    for (int k = 0; text && map && k < 81; k++) CHECK_MSG(same(next_number(&p), map[k]), "map value %d", k);
    CHECK(text && map);
    free(text);
    free(map);

    /* the runs: the trace text, the status and message, the distances */
    for (int k = 0; k < 4; k++) {
        ol_play_two_run *r = ol_play_two_descend(two, opts[k], lrs[k], 60, w0, b0);
        snprintf(path, sizeof path, "%s/run%d.csv", dir, k);
        char *csv = ol_test_slurp(path, NULL);
        const char *native = ol_play_two_run_csv(r);
        CHECK_MSG(csv && native && !strcmp(csv, native), "run %d (%s): the traces differ", k, opts[k]);
        free(csv);
        snprintf(path, sizeof path, "%s/run%d.txt", dir, k);
        CHECK((text = ol_test_slurp(path, NULL)));
        char head[1200];
        snprintf(head, sizeof head, "status %d\n%s\n", ol_play_two_run_status(r), ol_play_two_run_message(r));
        CHECK_MSG(!strncmp(text, head, strlen(head)), "run %d: '%s' in WebAssembly, '%s' natively", k, text, head);
        p = text + strlen(head);
        const double *tr = ol_play_two_run_trace(r);
        for (long i = 0; i < ol_play_two_run_rows(r); i++)
            for (int c = 5; c < 7; c++) {
                double v = next_number(&p);
                CHECK_MSG(same(v, tr[7 * i + c]), "run %d row %ld column %d", k, i, c);
            }
        free(text);
        if (k == 0 || k == 1) CHECK(ol_play_two_run_status(r) == 0 && ol_play_two_run_rows(r) == 61);
        if (k == 2) CHECK(ol_play_two_run_status(r) == OL_EARG);
        if (k == 3) CHECK(ol_play_two_run_status(r) == OL_ENUMERIC);
        ol_play_two_run_free(r);
    }
    ol_play_two_free(two);

    /* demo 4: the smoothed race and the gradient's time (a time: only its order checked) */
    double sm[5];
    double reached = ol_play_two_race_smooth(step_log, 5, 250, 500, 0.5, sm);
    snprintf(path, sizeof path, "%s/smooth.txt", dir);
    CHECK((text = ol_test_slurp(path, NULL)));
    p = text;
    CHECK(same(next_number(&p), reached));
    for (int k = 0; k < 5; k++) CHECK(same(next_number(&p), sm[k]));
    free(text);
    snprintf(path, sizeof path, "%s/cost.txt", dir);
    CHECK((text = ol_test_slurp(path, NULL)));
    p = text;
    for (int k = 0; k < 2; k++) {
        double med = next_number(&p), lo = next_number(&p), hi = next_number(&p);
        CHECK_MSG(lo > 0 && lo <= med && med <= hi && isfinite(hi), "gradient time: %g %g %g ms", med, lo, hi);
    }
    free(text);
    printf("    the object, Newton, the map, 4 runs and the smoothing: the same bits in WebAssembly (node)\n");
}
