/* test_portable.c: the portable core of issue 17: the portable matrix product (src/gemm_portable.c)
 * against the documented summation order, the other kernels and itself at other thread counts. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/gemm.h"
#include "optlab/parallel.h"
#include "optlab/rng.h"
#include "test.h"

/* m, n, k, trans_a, trans_b: one tile and many, edges that are not whole tiles (4 rows by 8 or 16
 * float32 columns, 4 or 8 float64 ones), k = 1, every transposition, products big enough to run on
 * threads, the products of training a 784-100-100-10 MLP at batch 128 */
static const int shapes[][5] = {
    {1, 1, 1, 0, 0},      {7, 5, 3, 0, 0},       {7, 5, 3, 1, 1},      {2, 2, 2, 0, 1},
    {130, 70, 300, 0, 0}, {130, 70, 300, 1, 0},  {130, 70, 300, 0, 1}, {130, 70, 300, 1, 1},
    {128, 256, 784, 0, 0}, {256, 10, 128, 1, 0}, {3, 200, 1000, 0, 1}, {65, 129, 0, 0, 0},
    {4, 16, 1, 0, 0},     {5, 17, 1, 1, 1},      {3, 9, 1, 0, 1},      {9, 33, 2, 1, 0},
    {4, 8, 5, 1, 1},      {6, 15, 7, 0, 0},      {13, 31, 4, 0, 1},    {17, 7, 1, 1, 0},
    {128, 100, 784, 0, 0}, {784, 100, 128, 1, 0}, {128, 100, 100, 0, 1}, {100, 10, 128, 1, 0},
};

/* The documented order, one element at a time: s = 0; s = s + a_ip b_pj for p = 0..k-1 (the product
 * rounded, then the sum); c = alpha s, or alpha s + beta c. Compiled with -ffp-contract=off as the
 * library is. */
#define DEFINE_REFERENCE(NAME, REAL)                                                                   \
    static void NAME(int ta, int tb, int m, int n, int k, REAL alpha, const REAL *a, const REAL *b,    \
                     REAL beta, REAL *c) {                                                            \
        for (int i = 0; i < m; i++)                                                                    \
            for (int j = 0; j < n; j++) {                                                              \
                REAL s = 0;                                                                            \
                for (int p = 0; p < k; p++) {                                                          \
                    REAL x = ta ? a[(size_t)p * m + i] : a[(size_t)i * k + p];                         \
                    REAL y = tb ? b[(size_t)j * k + p] : b[(size_t)p * n + j];                         \
                    REAL prod = x * y;                                                                 \
                    s = s + prod;                                                                      \
                }                                                                                      \
                REAL *cij = c + (size_t)i * n + j;                                                     \
                *cij = beta == 0 ? alpha * s : alpha * s + beta * *cij;                                \
            }                                                                                          \
    }
DEFINE_REFERENCE(order_f32, float)
DEFINE_REFERENCE(order_f64, double)

/* One precision: for each shape and (alpha, beta), the portable kernel at 1, 2 and 3 threads gives
 * the documented order's bytes; the default kernel (OpenBLAS or optlab's AVX kernels) agrees with it
 * within the rounding of a k-term sum. */
#define DEFINE_CHECK(NAME, REAL, GEMM, ORDER, EPS)                                                      \
    static int NAME(ol_rng *r, char *why, size_t cap) {                                                 \
        int threads_before = ol_parallel_threads();                                                     \
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {                                 \
            int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], ta = shapes[s][3], tb = shapes[s][4]; \
            size_t mn = (size_t)m * n, na = (size_t)m * k + 1, nb = (size_t)k * n + 1;                  \
            REAL *a = malloc(sizeof(REAL) * na), *b = malloc(sizeof(REAL) * nb);                         \
            REAL *c0 = malloc(sizeof(REAL) * mn), *want = malloc(sizeof(REAL) * mn);                     \
            REAL *got = malloc(sizeof(REAL) * mn), *other = malloc(sizeof(REAL) * mn);                   \
            if (!a || !b || !c0 || !want || !got || !other) return snprintf(why, cap, "no memory"), 1;   \
            for (size_t i = 0; i < na; i++) a[i] = (REAL)ol_rng_uniform_range(r, -1, 1);                \
            for (size_t i = 0; i < nb; i++) b[i] = (REAL)ol_rng_uniform_range(r, -1, 1);                \
            for (size_t i = 0; i < mn; i++) c0[i] = (REAL)ol_rng_uniform_range(r, -1, 1);               \
            const REAL alphas[3] = {1, 1, (REAL)-0.7}, betas[3] = {0, 1, (REAL)0.3};                    \
            int bad = 0;                                                                                \
            for (int ab = 0; ab < 3 && !bad; ab++) {                                                    \
                memcpy(want, c0, sizeof(REAL) * mn);                                                    \
                ORDER(ta, tb, m, n, k, alphas[ab], a, b, betas[ab], want);                              \
                ol_gemm_set_kernel("portable");                                                         \
                for (int t = 1; t <= 3 && !bad; t++) {                                                  \
                    ol_parallel_set_threads(t);                                                         \
                    for (size_t i = 0; i < mn; i++) got[i] = betas[ab] == 0 ? (REAL)NAN : c0[i];        \
                    GEMM(ta, tb, m, n, k, alphas[ab], a, b, betas[ab], got);                            \
                    if (memcmp(got, want, sizeof(REAL) * mn))                                           \
                        bad = snprintf(why, cap, "shape %zu (%dx%dx%d, ta %d tb %d) beta %g, %d threads: "  \
                                       "bytes differ from the documented order", s, m, n, k, ta, tb,     \
                                       (double)betas[ab], t);                                           \
                }                                                                                       \
                ol_parallel_set_threads(threads_before);                                                \
                ol_gemm_set_kernel("auto");                                                             \
                memcpy(other, c0, sizeof(REAL) * mn);                                                   \
                GEMM(ta, tb, m, n, k, alphas[ab], a, b, betas[ab], other);                              \
                for (size_t i = 0; i < mn && !bad; i++)                                                 \
                    if (!(fabs((double)other[i] - (double)want[i]) <= EPS * (k + 2)))                   \
                        bad = snprintf(why, cap, "shape %zu beta %g element %zu: %s %.9g, portable %.9g", s, \
                                       (double)betas[ab], i, ol_gemm_kernel(), (double)other[i],        \
                                       (double)want[i]);                                                \
            }                                                                                           \
            free(a), free(b), free(c0), free(want), free(got), free(other);                             \
            if (bad) return 1;                                                                          \
        }                                                                                               \
        return 0;                                                                                       \
    }
DEFINE_CHECK(check_f32, float, ol_gemm_f32, order_f32, 1e-6)
DEFINE_CHECK(check_f64, double, ol_gemm_f64, order_f64, 1e-14)

TEST(portable_gemm_follows_its_documented_order_at_any_thread_count_and_agrees_with_the_other_kernels) {
    ol_rng r;
    ol_rng_seed(&r, 17);
    char why[512] = "";
    CHECK_MSG(!check_f32(&r, why, sizeof why), "float32: %s", why);
    CHECK_MSG(!check_f64(&r, why, sizeof why), "float64: %s", why);
    CHECK(!strcmp(ol_gemm_kernel(), "avx512") || !strcmp(ol_gemm_kernel(), "openblas") ||
          !strcmp(ol_gemm_kernel(), "portable")); /* back to the default */
}

/* "portable" is a kernel name like the others: set, named back, and left by "auto"; an unknown
 * name's message lists it. */
TEST(portable_gemm_is_chosen_by_name) {
    CHECK(ol_gemm_set_kernel("auto") == OL_OK);
    const char *best = ol_gemm_kernel();
    CHECK(ol_gemm_set_kernel("portable") == OL_OK);
    CHECK(!strcmp(ol_gemm_kernel(), "portable"));
    CHECK(ol_gemm_set_kernel("nonsense") == OL_EARG);
    CHECK(strstr(ol_error(), "portable") != NULL);
    CHECK(!strcmp(ol_gemm_kernel(), "portable"));
    CHECK(ol_gemm_set_kernel("auto") == OL_OK);
    CHECK(!strcmp(ol_gemm_kernel(), best));
    char out[512];
    int rc = ol_test_sh(out, sizeof out, "OPTLAB_GEMM=portable %s version", ol_test_bin());
    CHECK_MSG(rc == 0 && strstr(out, "gemm kernel: portable"), "optlab version: %s", out);
}
