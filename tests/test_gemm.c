/* test_gemm.c: the deterministic matrix product (src/gemm.c over OpenBLAS, src/sgemm.c its own
 * kernels) and the aligned buffers tensors live in (ol_aligned_calloc, src/common.c). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/rng.h"
#include "optlab/gemm.h"
#include "optlab/parallel.h"
#include "test.h"

/* Shapes that run as one call and as 2, 4 and 8 blocks, split by rows, by columns and along k
 * (128x256x784: 2 blocks, 64x64x8192: 4, 96x80x20000: 8), with every transposition, lengths that
 * are not multiples of 16; products 16 columns wide or less (the output layer's, which the AVX-512
 * kernel runs 16 wide) with every transposition. */
static const int shapes[][5] = {
    /* m, n, k, trans_a, trans_b */
    {7, 5, 3, 0, 0},       {128, 256, 784, 0, 0}, {784, 256, 128, 1, 0}, {128, 784, 256, 0, 1},
    {1000, 256, 784, 0, 0}, {300, 37, 1100, 1, 1}, {70, 1500, 300, 0, 0}, {2049, 65, 200, 1, 0},
    {64, 64, 8192, 0, 1},  {64, 64, 8192, 1, 0},  {96, 80, 20000, 1, 1}, {128, 256, 784, 1, 1},
    {128, 10, 256, 0, 0},  {256, 10, 128, 1, 0},  {1000, 16, 900, 0, 1},  {500, 13, 3000, 1, 1},
};

static void fill(float *v, size_t n, ol_rng *r) {
    for (size_t i = 0; i < n; i++) v[i] = (float)ol_rng_uniform_range(r, -1, 1);
}

/* C = op(A) op(B) (+ beta C) in double, the reference */
static double ref_at(const float *a, const float *b, const float *c0, float alpha, float beta, int m, int n, int k,
                     int ta, int tb, int i, int j) {
    double s = 0;
    for (int p = 0; p < k; p++) {
        double x = ta ? a[(size_t)p * m + i] : a[(size_t)i * k + p];
        double y = tb ? b[(size_t)j * k + p] : b[(size_t)p * n + j];
        s += x * y;
    }
    return alpha * s + (beta != 0 ? (double)beta * c0[(size_t)i * n + j] : 0);
}

/* For every kernel the CPU runs (OpenBLAS in blocks, optlab's AVX2 and AVX-512 kernels): beta = 0
 * ignores whatever C held (NaN included), beta = 1 and 0.5 add to it, alpha scales; the values
 * match a double-precision product; the bytes are the same at 1, 2 and 3 threads; and optlab's
 * two kernels give the same bytes as each other (the same chain of operations per element). */
TEST(gemm_gives_the_product_and_the_same_bytes_at_any_thread_count_for_every_kernel) {
    static const char *names[] = {"openblas", "avx2", "avx512"};
    ol_rng r;
    ol_rng_seed(&r, 5);
    int threads_before = ol_parallel_threads(), kernels_run = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], ta = shapes[s][3], tb = shapes[s][4];
        size_t mn = (size_t)m * n;
        float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n);
        float *c0 = malloc(sizeof(float) * mn), *c[3], *own = malloc(sizeof(float) * mn);
        for (int t = 0; t < 3; t++) c[t] = malloc(sizeof(float) * mn);
        CHECK(a && b && c0 && c[0] && c[1] && c[2] && own);
        fill(a, (size_t)m * k, &r);
        fill(b, (size_t)k * n, &r);
        fill(c0, mn, &r);
        const float alphas[3] = {1, 1, -0.5f}, betas[3] = {0, 1, 0.5f};
        for (int bi = 0; bi < 3; bi++) {
            int own_done = 0;
            for (int kn = 0; kn < 3; kn++) {
                if (ol_gemm_set_kernel(names[kn]) != OL_OK) continue; /* not on this CPU */
                kernels_run += s == 0 && bi == 0;
                for (int t = 0; t < 3; t++) {
                    if (betas[bi] == 0)
                        for (size_t i = 0; i < mn; i++) c[t][i] = NAN;
                    else
                        memcpy(c[t], c0, sizeof(float) * mn);
                    ol_parallel_set_threads(t + 1);
                    ol_gemm_f32(ta, tb, m, n, k, alphas[bi], a, b, betas[bi], c[t]);
                }
                ol_parallel_set_threads(threads_before);
                CHECK_MSG(memcmp(c[0], c[1], sizeof(float) * mn) == 0 && memcmp(c[0], c[2], sizeof(float) * mn) == 0,
                          "%s, shape %zu beta %g: bytes differ between 1, 2 and 3 threads", names[kn], s, betas[bi]);
                for (int probe = 0; probe < 50; probe++) {
                    int i = (int)ol_rng_below(&r, (uint64_t)m), j = (int)ol_rng_below(&r, (uint64_t)n);
                    double want = ref_at(a, b, c0, alphas[bi], betas[bi], m, n, k, ta, tb, i, j);
                    CHECK_NEAR(c[0][(size_t)i * n + j], want, 1e-4 * sqrt((double)k));
                }
                if (kn > 0) { /* optlab's kernels */
                    if (own_done)
                        CHECK_MSG(memcmp(own, c[0], sizeof(float) * mn) == 0,
                                  "shape %zu beta %g: avx2 and avx512 bytes differ", s, betas[bi]);
                    memcpy(own, c[0], sizeof(float) * mn);
                    own_done = 1;
                }
            }
        }
        free(a), free(b), free(c0), free(c[0]), free(c[1]), free(c[2]), free(own);
    }
    CHECK(ol_gemm_set_kernel("auto") == OL_OK);
    CHECK(kernels_run >= 1); /* OpenBLAS always runs */
}

/* A kernel name that does not exist fails with OL_EARG and a message listing the names, and
 * leaves the kernel as it was; "auto" is the CPU's best. */
TEST(gemm_set_kernel_refuses_unknown_names_and_keeps_the_kernel) {
    CHECK(ol_gemm_set_kernel("auto") == OL_OK);
    const char *before = ol_gemm_kernel();
    CHECK(ol_gemm_set_kernel("avx1024") == OL_EARG);
    CHECK(strstr(ol_error(), "avx1024") && strstr(ol_error(), "openblas"));
    CHECK(!strcmp(ol_gemm_kernel(), before));
    CHECK(ol_gemm_set_kernel("openblas") == OL_OK);
    CHECK(!strcmp(ol_gemm_kernel(), "openblas"));
    CHECK(ol_gemm_set_kernel(NULL) == OL_OK);
    CHECK(!strcmp(ol_gemm_kernel(), before));
}

/* Big buffers start on a 2 MiB boundary (so transparent huge pages can back them) when whole 2 MiB
 * pages add at most a quarter, and are zeroed to the last byte asked for; the others keep the
 * 64-byte alignment; sizes that would overflow are refused. */
TEST(aligned_calloc_puts_big_buffers_on_2mib_boundaries_and_zeroes_them) {
    const size_t mib = (size_t)1 << 20;
    struct {
        size_t bytes, align;
    } cases[] = {{1, 64},          {64, 64},          {1000, 64}, {mib / 2, 64}, {mib, 64} /* 2 MiB would double it */,
                 {mib * 17 / 10, 2 * mib} /* 1.7 MiB: +18% */, {2 * mib + 4, 64} /* 4 MiB: +100% */,
                 {5 * mib, 2 * mib}, {7 * mib + 3, 2 * mib}};
    for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
        unsigned char *p = ol_aligned_calloc(cases[s].bytes, 1);
        CHECK(p != NULL);
        CHECK_MSG((uintptr_t)p % cases[s].align == 0, "%zu bytes at %p: not %zu-aligned", cases[s].bytes, (void *)p,
                  cases[s].align);
        size_t nonzero = 0;
        for (size_t i = 0; i < cases[s].bytes; i++) nonzero += p[i] != 0;
        CHECK_MSG(nonzero == 0, "%zu bytes: %zu not zeroed", cases[s].bytes, nonzero);
        memset(p, 0xab, cases[s].bytes); /* the whole size is writable (ASan checks the bounds) */
        free(p);
    }
    CHECK(ol_aligned_calloc(SIZE_MAX / 2, 4) == NULL); /* the product overflows */
    CHECK(ol_aligned_calloc(SIZE_MAX, 1) == NULL);     /* the product does not, the rounding would */
    CHECK(ol_aligned_calloc(SIZE_MAX / 4, 4) == NULL);
}
