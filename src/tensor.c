/* tensor.c: 2-D tensors and the BLAS-backed matrix product; see include/optlab/tensor.h. */
#include "optlab/tensor.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"

/* OpenBLAS's thread control (declared in its cblas.h on Debian, repeated for other layouts). */
void openblas_set_num_threads(int num_threads);

size_t ol_dtype_bytes(int dtype) { return dtype == OL_F64 ? 8 : 4; }

size_t ol_tensor_size(const ol_tensor *t) { return (size_t)t->rows * (size_t)t->cols; }

int ol_tensor_alloc(ol_tensor *t, int rows, int cols, int dtype) {
    memset(t, 0, sizeof *t);
    if (rows <= 0 || cols <= 0) return ol_fail(OL_EARG, "tensor shape (%d, %d) must be positive", rows, cols);
    if (ol_mul_overflows((size_t)rows, (size_t)cols, "tensor")) return OL_ENOMEM;
    t->data = ol_aligned_calloc((size_t)rows * (size_t)cols, ol_dtype_bytes(dtype));
    if (!t->data) return OL_ENOMEM;
    t->rows = rows;
    t->cols = cols;
    t->dtype = dtype;
    t->owns = 1;
    return OL_OK;
}

void ol_tensor_free(ol_tensor *t) {
    if (t->owns) free(t->data);
    memset(t, 0, sizeof *t);
}

/* Deterministic parallel GEMM. OpenBLAS's own threading splits the work differently for 1 and 2
 * threads and the results differ in the last bits (measured: thousands of elements of a 784x256
 * product). So OpenBLAS always runs single-threaded, and optlab splits C into blocks whose layout
 * depends only on the shapes, never on the thread count; OpenMP threads take the blocks. Each
 * block is one cblas call over the whole k, so every element sees the same operations whatever
 * the number of threads. Small products run as one call: fewer, larger blocks repack less. */
#ifndef GEMM_BLOCK_FLOP
#define GEMM_BLOCK_FLOP 16e6 /* least work (2 m n k) per block: each block repacks an operand */
#endif
#define GEMM_MAX_BLOCKS 8

/* Number of blocks along a side of length len for a product of `flop` work: a power of two (so
 * 2, 4 or 8 threads share them evenly), at most GEMM_MAX_BLOCKS, each at least 64 long and
 * GEMM_BLOCK_FLOP of work. A function of the shapes only, never of the thread count. */
static int block_count(int len, double flop) {
    int b = 1;
    while (b < GEMM_MAX_BLOCKS && len / (2 * b) >= 64 && flop / (2 * b) >= GEMM_BLOCK_FLOP) b *= 2;
    return b;
}

/* Block size for `blocks` blocks along len: a multiple of 16 (whole register tiles). */
static int block_size(int len, int blocks) {
    int b = (len + blocks - 1) / blocks;
    return (b + 15) / 16 * 16;
}

/* beta = 0 runs as a memset of C and beta = 1: the same values (0 + x), and glibc's memset is
 * several times faster than the BLAS's own pass that zeroes C first (measured: 5% of a training
 * step went to that pass). */
static void zero_rows(void *c, int rows, int cols, size_t elem) { memset(c, 0, (size_t)rows * (size_t)cols * elem); }

#define DEFINE_GEMM(NAME, REAL, CBLAS)                                                                  \
    void NAME(int trans_a, int trans_b, int m, int n, int k, REAL alpha, const REAL *a, const REAL *b,   \
              REAL beta, REAL *c) {                                                                    \
        int lda = trans_a ? m : k, ldb = trans_b ? k : n;                                              \
        enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans; \
        /* split the longer side of C: the other operand is packed once per block */                   \
        int split_rows = m >= n, len = split_rows ? m : n;                                             \
        int blocks = block_count(len, 2.0 * m * n * k);                                                \
        if (blocks == 1) {                                                                             \
            if (beta == 0) zero_rows(c, m, n, sizeof(REAL));                                           \
            CBLAS(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta == 0 ? 1 : beta, c, n);  \
            return;                                                                                    \
        }                                                                                              \
        int bs = block_size(len, blocks);                                                              \
        blocks = (len + bs - 1) / bs;                                                                  \
        _Pragma("omp parallel for schedule(static)")                                                   \
        for (int blk = 0; blk < blocks; blk++) {                                                       \
            int start = blk * bs, count = len - start < bs ? len - start : bs;                         \
            if (split_rows) {                                                                          \
                const REAL *ab = trans_a ? a + start : a + (size_t)start * lda;                        \
                REAL *cb = c + (size_t)start * n;                                                      \
                if (beta == 0) zero_rows(cb, count, n, sizeof(REAL));                                  \
                CBLAS(CblasRowMajor, ta, tb, count, n, k, alpha, ab, lda, b, ldb, beta == 0 ? 1 : beta, cb, n); \
            } else {                                                                                   \
                const REAL *bb = trans_b ? b + (size_t)start * ldb : b + start;                        \
                if (beta == 0)                                                                         \
                    for (int i = 0; i < m; i++) memset(c + (size_t)i * n + start, 0, (size_t)count * sizeof(REAL)); \
                CBLAS(CblasRowMajor, ta, tb, m, count, k, alpha, a, lda, bb, ldb, beta == 0 ? 1 : beta, c + start, n); \
            }                                                                                          \
        }                                                                                              \
    }

DEFINE_GEMM(ol_gemm_f32, float, cblas_sgemm)
DEFINE_GEMM(ol_gemm_f64, double, cblas_dgemm)

static int current_threads = 0;

void ol_set_threads(int threads) {
    if (threads <= 0) return;
    current_threads = threads;
    openblas_set_num_threads(1); /* always: see the deterministic GEMM above */
    omp_set_num_threads(threads);
}

/* OpenBLAS runs single-threaded from the start, whether or not ol_set_threads is called. */
__attribute__((constructor)) static void blas_single_threaded(void) { openblas_set_num_threads(1); }

int ol_get_threads(void) { return current_threads > 0 ? current_threads : omp_get_max_threads(); }
