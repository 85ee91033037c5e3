/* test_tensor.c: the deterministic block-parallel matrix product (src/tensor.c) and the aligned
 * buffers tensors live in (ol_aligned_calloc, src/common.c). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/rng.h"
#include "optlab/tensor.h"
#include "test.h"

/* Shapes that run as one call and as 2, 4 and 8 blocks, split by rows, by columns and along k
 * (128x256x784: 2 blocks, 64x64x8192: 4, 96x80x20000: 8), with every transposition, lengths that
 * are not multiples of 16. */
static const int shapes[][5] = {
    /* m, n, k, trans_a, trans_b */
    {7, 5, 3, 0, 0},       {128, 256, 784, 0, 0}, {784, 256, 128, 1, 0}, {128, 784, 256, 0, 1},
    {1000, 256, 784, 0, 0}, {300, 37, 1100, 1, 1}, {70, 1500, 300, 0, 0}, {2049, 65, 200, 1, 0},
    {64, 64, 8192, 0, 1},  {64, 64, 8192, 1, 0},  {96, 80, 20000, 1, 1}, {128, 256, 784, 1, 1},
};

static void fill(float *v, size_t n, ol_rng *r) {
    for (size_t i = 0; i < n; i++) v[i] = (float)ol_rng_uniform_range(r, -1, 1);
}

/* C = op(A) op(B) (+ beta C) in double, the reference */
static double ref_at(const float *a, const float *b, const float *c0, float beta, int m, int n, int k, int ta, int tb,
                     int i, int j) {
    double s = 0;
    for (int p = 0; p < k; p++) {
        double x = ta ? a[(size_t)p * m + i] : a[(size_t)i * k + p];
        double y = tb ? b[(size_t)j * k + p] : b[(size_t)p * n + j];
        s += x * y;
    }
    return s + (beta != 0 ? (double)beta * c0[(size_t)i * n + j] : 0);
}

/* beta = 0 ignores whatever C held (NaN included: it runs as a memset and beta = 1), beta = 1 and
 * 0.5 add to it; the values match a double-precision product; and the bytes are the same at 1, 2
 * and 3 threads (the block layout depends only on the shapes). */
TEST(gemm_blocks_give_the_product_and_the_same_bytes_at_any_thread_count) {
    ol_rng r;
    ol_rng_seed(&r, 5);
    int threads_before = ol_get_threads();
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], ta = shapes[s][3], tb = shapes[s][4];
        float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n);
        float *c0 = malloc(sizeof(float) * (size_t)m * n), *c[3];
        for (int t = 0; t < 3; t++) c[t] = malloc(sizeof(float) * (size_t)m * n);
        CHECK(a && b && c0 && c[0] && c[1] && c[2]);
        fill(a, (size_t)m * k, &r);
        fill(b, (size_t)k * n, &r);
        fill(c0, (size_t)m * n, &r);
        const float betas[3] = {0, 1, 0.5f};
        for (int bi = 0; bi < 3; bi++) {
            for (int t = 0; t < 3; t++) {
                if (betas[bi] == 0)
                    for (size_t i = 0; i < (size_t)m * n; i++) c[t][i] = NAN;
                else
                    memcpy(c[t], c0, sizeof(float) * (size_t)m * n);
                ol_set_threads(t + 1);
                ol_gemm_f32(ta, tb, m, n, k, 1, a, b, betas[bi], c[t]);
            }
            ol_set_threads(threads_before);
            CHECK_MSG(memcmp(c[0], c[1], sizeof(float) * (size_t)m * n) == 0 &&
                          memcmp(c[0], c[2], sizeof(float) * (size_t)m * n) == 0,
                      "shape %zu beta %g: bytes differ between 1, 2 and 3 threads", s, betas[bi]);
            for (int probe = 0; probe < 50; probe++) {
                int i = (int)ol_rng_below(&r, (uint64_t)m), j = (int)ol_rng_below(&r, (uint64_t)n);
                double want = ref_at(a, b, c0, betas[bi], m, n, k, ta, tb, i, j);
                CHECK_NEAR(c[0][(size_t)i * n + j], want, 1e-4 * sqrt((double)k));
            }
        }
        free(a), free(b), free(c0), free(c[0]), free(c[1]), free(c[2]);
    }
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
