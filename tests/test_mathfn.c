/* test_mathfn.c: optlab's own exp, log, pow, sin and cos (src/mathfn.c): their error in ulps
 * against long double references (64-bit or longer mantissas, where the C library has them), their
 * special values (C99 Annex F), exact cases, huge arguments of sin and cos. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/mathfn.h"
#include "optlab/rng.h"
#include "test.h"

#define MAX_ULP 0.52     /* the documented accuracy (0.51) and the reference's own error */
#define MAX_ULP_SUB 1.0  /* subnormal results: rounded twice (to 53 bits, then to the subnormal) */

/* |got - want| in units in the last place of want rounded to a double */
static double ulp_error(double got, long double want) {
    double w = (double)want;
    if (w == 0 || !isfinite(w)) return got == w ? 0 : INFINITY;
    int e;
    frexp(w, &e);
    double ulp = ldexp(1.0, (e - 53 < -1074 ? -1074 : e - 53));
    return (double)(fabsl((long double)got - want) / ulp);
}

typedef struct {
    const char *name;
    double worst, at, at2, worst_sub;
    long n, differs_from_libm;
} tally;

static void count(tally *t, double got, long double want, double libm, double x, double y) {
    double err = ulp_error(got, want);
    t->n++;
    t->differs_from_libm += memcmp(&got, &libm, sizeof got) != 0;
    if (fabsl(want) < DBL_MIN && err == err) {
        if (err > t->worst_sub) t->worst_sub = err;
    } else if (err > t->worst || err != err) {
        t->worst = err, t->at = x, t->at2 = y;
    }
}

static int report(const tally *t) {
    printf("    %-4s %8ld arguments: worst %.4f ulp (at %.17g, %.17g), %.4f on subnormal results; %ld differ from the "
           "C library's\n", t->name, t->n, t->worst, t->at, t->at2, t->worst_sub, t->differs_from_libm);
    return t->worst <= MAX_ULP && t->worst_sub <= MAX_ULP_SUB;
}

TEST(mathfn_is_within_half_an_ulp_and_a_hair_of_the_exact_values) {
    if (LDBL_MANT_DIG < 64) SKIP("long double has %d bits here: no reference precise enough", LDBL_MANT_DIG);
    ol_rng r;
    ol_rng_seed(&r, 2024);
    tally te = {"exp", 0, 0, 0, 0, 0, 0}, tl = {"log", 0, 0, 0, 0, 0, 0}, tp = {"pow", 0, 0, 0, 0, 0, 0};
    tally ts = {"sin", 0, 0, 0, 0, 0, 0}, tc = {"cos", 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 200000; i++) {
        double u = ol_rng_uniform(&r), v = ol_rng_uniform(&r);
        double x = -745 + 1455 * u; /* exp's whole range */
        if (i % 4 == 1) x = (u - 0.5) * 2;
        if (i % 4 == 2) x = (u - 0.5) * 1e-6;
        count(&te, ol_math_exp(x), expl((long double)x), exp(x), x, 0);
        double lx = ldexp(0.5 + u, (int)(v * 2098) - 1074); /* every binade, subnormals too */
        if (i % 3 == 1) lx = 1 + (u - 0.5) * 0.01;
        count(&tl, ol_math_log(lx), logl((long double)lx), log(lx), lx, 0);
        /* pow: the bases and exponents optlab meets (curvatures, bias corrections, decays) and wide ones */
        double px = i % 2 ? 0.5 + 2 * u : ldexp(0.5 + u, (int)(v * 40) - 20);
        double py = i % 2 ? (v - 0.5) * 200 : (v - 0.5) * 30;
        if (i % 5 == 0) px = 0.9 + 0.0999 * u, py = floor(v * 100000);
        count(&tp, ol_math_pow(px, py), powl((long double)px, (long double)py), pow(px, py), px, py);
        double sx = (u - 0.5) * 200; /* rastrigin's 2 pi x on the explorer's maps, and beyond */
        if (i % 4 == 1) sx = (u - 0.5) * 4e6;
        if (i % 4 == 2) sx = ldexp(0.5 + u, (int)(v * 1084) - 60) * (i % 8 < 4 ? 1 : -1);
        count(&ts, ol_math_sin(sx), sinl((long double)sx), sin(sx), sx, 0);
        count(&tc, ol_math_cos(sx), cosl((long double)sx), cos(sx), sx, 0);
    }
    /* near multiples of pi/2, where the reduction cancels most bits */
    for (int k = 1; k < 20000; k++) {
        double x = nextafter(k * (M_PI / 2), (k & 1) ? 0 : INFINITY);
        count(&ts, ol_math_sin(x), sinl((long double)x), sin(x), x, 0);
        count(&tc, ol_math_cos(x), cosl((long double)x), cos(x), x, 0);
    }
    int ok = report(&te) & report(&tl) & report(&tp) & report(&ts) & report(&tc);
    CHECK_MSG(ok, "an error above %.2f ulp (see above)", MAX_ULP);
}

/* Special values as C99 Annex F has them, and exact cases. */
TEST(mathfn_special_values_and_exact_cases) {
    const double inf = INFINITY, nan_ = NAN;
    CHECK(ol_math_exp(0) == 1 && ol_math_exp(-inf) == 0 && ol_math_exp(inf) == inf && ol_math_exp(710) == inf);
    CHECK(ol_math_exp(-746) == 0 && ol_math_exp(-745) > 0 && isnan(ol_math_exp(nan_)));
    CHECK(ol_math_log(1) == 0 && ol_math_log(0) == -inf && ol_math_log(-0.0) == -inf && ol_math_log(inf) == inf);
    CHECK(isnan(ol_math_log(-1)) && isnan(ol_math_log(nan_)) && !signbit(ol_math_log(-1)));
    CHECK(ol_math_log(2) == M_LN2 && ol_math_log(DBL_MIN / 4) == log(DBL_MIN / 4));
    CHECK(ol_math_pow(nan_, 0) == 1 && ol_math_pow(1, nan_) == 1 && ol_math_pow(-1, inf) == 1);
    CHECK(isnan(ol_math_pow(-8, 1.0 / 3)) && ol_math_pow(-2, 3) == -8 && ol_math_pow(-2, -2) == 0.25);
    CHECK(ol_math_pow(0.0, -1) == inf && ol_math_pow(-0.0, -1) == -inf && ol_math_pow(-0.0, -2) == inf);
    CHECK(ol_math_pow(-0.0, 3) == 0 && signbit(ol_math_pow(-0.0, 3)) && !signbit(ol_math_pow(-0.0, 2)));
    CHECK(ol_math_pow(0.5, inf) == 0 && ol_math_pow(0.5, -inf) == inf && ol_math_pow(2, inf) == inf);
    CHECK(ol_math_pow(-inf, 3) == -inf && ol_math_pow(-inf, -3) == 0 && signbit(ol_math_pow(-inf, -3)));
    CHECK(ol_math_pow(-inf, 0.5) == inf && ol_math_pow(inf, -1) == 0 && ol_math_pow(10, 400) == inf);
    CHECK(ol_math_pow(10, -400) == 0 && ol_math_pow(2, 1e300) == inf && ol_math_pow(0.5, 1e300) == 0);
    for (int k = -1074; k <= 1023; k++) CHECK_MSG(ol_math_pow(2, k) == ldexp(1, k), "pow(2, %d)", k);
    for (int k = 0; k <= 22; k++) CHECK_MSG(ol_math_pow(10, k) == pow(10, k), "pow(10, %d)", k); /* exact */
    CHECK(ol_math_pow(7.25, 1) == 7.25 && ol_math_pow(4, 0.5) == 2 && ol_math_pow(0.96, 0) == 1);
    CHECK(ol_math_sin(0) == 0 && signbit(ol_math_sin(-0.0)) && ol_math_cos(0) == 1 && ol_math_cos(-0.0) == 1);
    CHECK(isnan(ol_math_sin(inf)) && isnan(ol_math_cos(-inf)) && isnan(ol_math_sin(nan_)));
    CHECK(ol_math_sin(1e-300) == 1e-300 && ol_math_cos(1e-300) == 1);
    /* huge arguments: the classic sin(1e22) and the largest double, reduced exactly */
    CHECK(ol_math_sin(1e22) == -0.85220084976718879 && ol_math_cos(1e22) == 0.52321478539513899);
    CHECK(ol_math_sin(DBL_MAX) == 0.004961954789184062 && ol_math_cos(DBL_MAX) == -0.99998768942655991);
    CHECK(ol_math_sin(-1e22) == 0.85220084976718879 && ol_math_cos(-1e300) == -0.57538611195754907);
}

/* ---- the training's: float exp, log, tanh and double tanh (issue 18) ---- */

#define MAX_ULP_F 0.501 /* float: one rounding of a double within 2^-50 of the exact value */

/* |got - want| in ulps of want rounded to a float (subnormal floats: the ulp 2^-149) */
static double ulp_error_f(float got, long double want) {
    float w = (float)want;
    if (w == 0 && want != 0) { /* a result below half the smallest subnormal */
        return (double)(fabsl((long double)got - want) / 0x1p-149L);
    }
    if (!isfinite(w)) return got == w ? 0 : INFINITY;
    int e;
    frexpf(w, &e);
    double ulp = ldexp(1.0, e - 24 < -149 ? -149 : e - 24);
    return (double)(fabsl((long double)got - want) / ulp);
}

typedef struct {
    const char *name;
    double worst, at;
    long n, differs_from_libm;
} tally_f;

static void count_f(tally_f *t, float got, long double want, float libm, float x) {
    double err = ulp_error_f(got, want);
    t->n++;
    t->differs_from_libm += memcmp(&got, &libm, sizeof got) != 0;
    if (err > t->worst || err != err) t->worst = err, t->at = x;
}

static int report_f(const tally_f *t) {
    printf("    %-6s %8ld arguments: worst %.4f ulp (at %.9g); %ld differ from the C library's\n", t->name, t->n, t->worst,
           (double)t->at, t->differs_from_libm);
    return t->worst <= MAX_ULP_F;
}

TEST(mathfn_float_exp_log_tanh_and_tanh_are_within_half_an_ulp_and_a_hair) {
    if (LDBL_MANT_DIG < 64) SKIP("long double has %d bits here: no reference precise enough", LDBL_MANT_DIG);
    ol_rng r;
    ol_rng_seed(&r, 18);
    tally_f te = {"expf", 0, 0, 0, 0}, tl = {"logf", 0, 0, 0, 0}, tt = {"tanhf", 0, 0, 0, 0};
    tally tt64 = {"tanh", 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 3000000; i++) {
        double u = ol_rng_uniform(&r), v = ol_rng_uniform(&r);
        /* exp: the softmax's z - max (<= 0) mostly, and the float's whole range */
        float x = (float)(i % 3 == 0 ? -104 + 193 * u : i % 3 == 1 ? -30 * u : (u - 0.5) * 1e-3);
        count_f(&te, ol_math_expf(x), expl((long double)x), expf(x), x);
        float lx = (float)ldexp(0.5 + u, (int)(v * 277) - 149); /* every binade, subnormals too */
        if (i % 3 == 1) lx = (float)(1 + (u - 0.5) * 0.01);
        count_f(&tl, ol_math_logf(lx), logl((long double)lx), logf(lx), lx);
        /* tanh: a hidden unit's pre-activations, and every binade below */
        float tx = (float)(i % 3 == 0 ? (u - 0.5) * 24 : i % 3 == 1 ? (u - 0.5) * 1.2 : ldexp(u, -(int)(v * 40)));
        count_f(&tt, ol_math_tanhf(tx), tanhl((long double)tx), tanhf(tx), tx);
        double dx = i % 3 == 0 ? (u - 0.5) * 50 : i % 3 == 1 ? (u - 0.5) * 0.6 : ldexp(u - 0.5, -(int)(v * 60));
        if (i % 10 == 0) count(&tt64, ol_math_tanh(dx), tanhl((long double)dx), tanh(dx), dx, 0);
    }
    int ok = report_f(&te) & report_f(&tl) & report_f(&tt) & report(&tt64);
    CHECK_MSG(ok, "an error above %.3f ulp (float) or %.2f ulp (double) (see above)", MAX_ULP_F, MAX_ULP);
    /* special values */
    const float inf = INFINITY;
    CHECK(ol_math_expf(0) == 1 && ol_math_expf(-inf) == 0 && ol_math_expf(inf) == inf && ol_math_expf(89) == inf);
    CHECK(ol_math_expf(-104) == 0 && ol_math_expf(-103.9f) > 0 && isnan(ol_math_expf(NAN)) && ol_math_expf(88.72f) < inf);
    CHECK(ol_math_logf(1) == 0 && ol_math_logf(0) == -inf && isnan(ol_math_logf(-1)) && ol_math_logf(inf) == inf);
    CHECK(ol_math_tanhf(0) == 0 && signbit(ol_math_tanhf(-0.0f)) && ol_math_tanhf(inf) == 1 && ol_math_tanhf(-inf) == -1);
    CHECK(ol_math_tanhf(9.5f) == 1 && ol_math_tanhf(-20) == -1 && isnan(ol_math_tanhf(NAN)) && ol_math_tanhf(1e-30f) == 1e-30f);
    CHECK(ol_math_tanh(0) == 0 && signbit(ol_math_tanh(-0.0)) && ol_math_tanh(INFINITY) == 1 && ol_math_tanh(-30) == -1);
    CHECK(isnan(ol_math_tanh(NAN)) && ol_math_tanh(1e-300) == 1e-300);
    /* odd functions */
    for (float t = 0.01f; t < 12; t *= 1.37f) CHECK(ol_math_tanhf(-t) == -ol_math_tanhf(t) && ol_math_tanh(-t) == -ol_math_tanh(t));
}

/* Fast enough for every logit and hidden unit of every step: printed beside the C library's */
TEST(mathfn_float_exp_and_tanh_cost_about_what_the_c_librarys_do) {
    enum { N = 1 << 22 };
    static float in[1024];
    for (int i = 0; i < 1024; i++) in[i] = -8 + 16.0f * (float)i / 1024;
    float sink = 0;
    double t[4];
    float (*fns[4])(float) = {ol_math_expf, expf, ol_math_tanhf, tanhf};
    for (int f = 0; f < 4; f++) {
        double t0 = ol_now_seconds();
        for (int i = 0; i < N; i++) sink += fns[f](in[i & 1023]);
        t[f] = (ol_now_seconds() - t0) / N * 1e9;
    }
    printf("    ns a call: expf %.1f (C library %.1f), tanhf %.1f (C library %.1f) [%g]\n", t[0], t[1], t[2], t[3], (double)(sink * 0));
    CHECK(isfinite(sink));
    CHECK_MSG(t[0] < 5 * t[1] + 5 && t[2] < 5 * t[3] + 5, "far slower than the C library's (see above)");
}
