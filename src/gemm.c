/* gemm.c: the deterministic matrix product; see include/optlab/gemm.h. Two families of kernels:
 * the portable one (gemm_portable.c: plain C, the only one where the CPU is not x86-64 or the target
 * is WebAssembly) and, on x86-64, OpenBLAS in fixed blocks (below) with optlab's own float32
 * kernels (sgemm.c). */
#include "optlab/gemm.h"

#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "gemm_portable.h"
#include "sgemm.h"

#if OL_GEMM_X86
#include <cblas.h>

/* 1: the portable kernel runs (natively with OPTLAB_GEMM=portable) */
static int use_portable = 0;

#ifdef __clang__
/* clang reports an omp simd loop it leaves scalar (at -O1, as in the fuzz build) as a warning */
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

/* OpenBLAS's thread control and core name (declared in its cblas.h on Debian, repeated for other
 * layouts). */
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);

/* Deterministic parallel GEMM over OpenBLAS: the path of every float64 product, and of float32
 * ones where optlab's own kernel (sgemm.c) does not run. OpenBLAS's own threading splits the work
 * differently for 1 and 2 threads and the results differ in the last bits (measured: thousands
 * of elements of a 784x256 product). So OpenBLAS always runs single-threaded, and optlab splits
 * the product into blocks whose layout depends only on the shapes, never on the thread count;
 * OpenMP threads take the blocks. Every element sees the same operations whatever the number of threads. Small products
 * run as one call: fewer, larger blocks repack less.
 *
 * The split is along one of the three sides, whichever costs least besides the product itself:
 *   rows of C (m): each block packs all of op(B) again: (blocks - 1) k n extra;
 *   columns of C (n): each block packs all of op(A) again: (blocks - 1) m k extra;
 *   the inner side (k): no operand is packed twice, but every block after the first writes its
 *     partial product into scratch, added to C in block order: about 2 (blocks - 1) m n extra.
 * Block lengths are multiples of 16, so the last block along a side can be shorter than the others.
 * The first layer's forward product (128 x 784 by 784 x 256) splits along k: at one thread its two
 * column blocks packed the 128 x 784 input twice (measured in docs/performance.md). */
#ifndef GEMM_BLOCK_FLOP
#define GEMM_BLOCK_FLOP 16e6 /* least work (2 m n k) per block */
#endif
#define GEMM_MAX_BLOCKS 8

/* Number of blocks along a side of length len for a product of `flop` work: a power of two (so
 * 2, 4 or 8 threads share them evenly), at most GEMM_MAX_BLOCKS, each at least min_len long and
 * GEMM_BLOCK_FLOP of work. A function of the shapes only, never of the thread count. */
static int block_count(int len, double flop, int min_len) {
    int b = 1;
    while (b < GEMM_MAX_BLOCKS && len / (2 * b) >= min_len && flop / (2 * b) >= GEMM_BLOCK_FLOP) b *= 2;
    return b;
}

/* Block size for `blocks` blocks along len: a multiple of 16 (whole register tiles). */
static int block_size(int len, int blocks) {
    int b = (len + blocks - 1) / blocks;
    return (b + 15) / 16 * 16;
}

enum { SPLIT_M, SPLIT_N, SPLIT_K };

/* The side to split and the number of blocks: the most blocks any side allows (parallelism
 * first), and among the sides that allow that many, the cheapest (see above). k blocks are about
 * 128 long at least, so each call still streams a long inner product. */
static int choose_split(int m, int n, int k, int *blocks) {
    double flop = 2.0 * m * n * k;
    int b[3] = {block_count(m, flop, 64), block_count(n, flop, 64), block_count(k, flop, 128)};
    double cost[3] = {(double)k * n, (double)m * k, 2.0 * m * n};
    int best = m >= n ? SPLIT_M : SPLIT_N;
    for (int s = SPLIT_M; s <= SPLIT_K; s++)
        if (b[s] > b[best] || (b[s] == b[best] && cost[s] < cost[best])) best = s;
    *blocks = b[best];
    return best;
}

/* beta = 0 runs as a memset of C and beta = 1: the same values (0 + x), and glibc's memset is
 * several times faster than the BLAS's own pass that zeroes C first (measured: 5% of a training
 * step went to that pass). */
static void zero_rows(void *c, int rows, int cols, size_t elem) { memset(c, 0, (size_t)rows * (size_t)cols * elem); }

/* float32 products run on optlab's own kernel where the CPU has one (sgemm.h: -1 when not);
 * float64 ones always here */
#define NO_OWN_DGEMM(...) (-1)

#define DEFINE_GEMM(NAME, REAL, CBLAS, OWN)                                                             \
    static void NAME(int trans_a, int trans_b, int m, int n, int k, REAL alpha, const REAL *a,          \
                     const REAL *b, REAL beta, REAL *c) {                                                   \
        int lda = trans_a ? m : k, ldb = trans_b ? k : n;                                              \
        if (OWN(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, n) == 0) return;             \
        enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans; \
        int blocks, split = choose_split(m, n, k, &blocks);                                            \
        REAL *scratch = NULL;                                                                          \
        if (blocks > 1 && split == SPLIT_K) {                                                          \
            /* the partial products of the blocks after the first. If there is no memory for them:   \
             * the split along C's longer side, whose last bits differ (still the same at any        \
             * thread count) */                                                                       \
            scratch = malloc(sizeof(REAL) * (size_t)m * (size_t)n * (size_t)(blocks - 1));             \
            if (!scratch) {                                                                            \
                split = m >= n ? SPLIT_M : SPLIT_N;                                                    \
                blocks = block_count(split == SPLIT_M ? m : n, 2.0 * m * n * k, 64);                   \
            }                                                                                          \
        }                                                                                              \
        if (blocks == 1) {                                                                             \
            if (beta == 0) zero_rows(c, m, n, sizeof(REAL));                                           \
            CBLAS(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta == 0 ? 1 : beta, c, n);  \
            return;                                                                                    \
        }                                                                                              \
        int len = split == SPLIT_M ? m : split == SPLIT_N ? n : k, bs = block_size(len, blocks);       \
        blocks = (len + bs - 1) / bs;                                                                  \
        size_t mn = (size_t)m * (size_t)n;                                                             \
        _Pragma("omp parallel")                                                                        \
        {                                                                                              \
            _Pragma("omp for schedule(static)")                                                        \
            for (int blk = 0; blk < blocks; blk++) {                                                   \
                int start = blk * bs, count = len - start < bs ? len - start : bs;                     \
                if (split == SPLIT_M) {                                                                \
                    const REAL *ab = trans_a ? a + start : a + (size_t)start * lda;                    \
                    REAL *cb = c + (size_t)start * n;                                                  \
                    if (beta == 0) zero_rows(cb, count, n, sizeof(REAL));                              \
                    CBLAS(CblasRowMajor, ta, tb, count, n, k, alpha, ab, lda, b, ldb, beta == 0 ? 1 : beta, cb, n); \
                } else if (split == SPLIT_N) {                                                         \
                    const REAL *bb = trans_b ? b + (size_t)start * ldb : b + start;                    \
                    if (beta == 0)                                                                     \
                        for (int i = 0; i < m; i++) memset(c + (size_t)i * n + start, 0, (size_t)count * sizeof(REAL)); \
                    CBLAS(CblasRowMajor, ta, tb, m, count, k, alpha, a, lda, bb, ldb, beta == 0 ? 1 : beta, c + start, n); \
                } else {                                                                               \
                    /* op(A)'s columns and op(B)'s rows start..start+count; block 0 into C (with      \
                     * beta), the others into their scratch (beta 0) */                                \
                    const REAL *ab = trans_a ? a + (size_t)start * lda : a + start;                    \
                    const REAL *bb = trans_b ? b + start : b + (size_t)start * ldb;                    \
                    REAL *cb = blk == 0 ? c : scratch + (size_t)(blk - 1) * mn;                        \
                    REAL bbeta = blk == 0 ? beta : 0;                                                  \
                    if (bbeta == 0) zero_rows(cb, m, n, sizeof(REAL));                                 \
                    CBLAS(CblasRowMajor, ta, tb, m, n, count, alpha, ab, lda, bb, ldb, bbeta == 0 ? 1 : bbeta, cb, n); \
                }                                                                                      \
            }                                                                                          \
            if (split == SPLIT_K) { /* C += partial of block 1, + that of block 2, ... in order */    \
                _Pragma("omp for schedule(static)")                                                    \
                for (int i = 0; i < m; i++) {                                                          \
                    REAL *ci = c + (size_t)i * n;                                                      \
                    for (int blk = 1; blk < blocks; blk++) {                                           \
                        const REAL *si = scratch + (size_t)(blk - 1) * mn + (size_t)i * n;             \
                        _Pragma("omp simd")                                                            \
                        for (int j = 0; j < n; j++) ci[j] += si[j];                                    \
                    }                                                                                  \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
        free(scratch);                                                                                 \
    }

DEFINE_GEMM(blas_gemm_f32, float, cblas_sgemm, ol_sgemm_own)
DEFINE_GEMM(blas_gemm_f64, double, cblas_dgemm, NO_OWN_DGEMM)

const char *ol_gemm_blas_core(void) {
    const char *name = openblas_get_corename();
    return name && *name ? name : "unknown";
}

int ol_gemm_set_kernel(const char *name) {
    if (name && !strcmp(name, "portable")) {
        use_portable = 1;
        return OL_OK;
    }
    int rc = ol_sgemm_set_kernel(name);
    if (rc == OL_OK) use_portable = 0;
    return rc;
}

const char *ol_gemm_kernel(void) { return use_portable ? "portable" : ol_sgemm_kernel(); }

/* OpenBLAS runs single-threaded from the start: optlab splits the products itself (above); and
 * OPTLAB_GEMM=portable|openblas|avx2|avx512 picks the kernel for a whole run (benchmarks compare
 * them; an unknown or unsupported name keeps the best the CPU has). */
__attribute__((constructor)) static void gemm_at_load(void) {
    openblas_set_num_threads(1);
    const char *env = getenv("OPTLAB_GEMM");
    if (!env || !*env || ol_gemm_set_kernel(env) != OL_OK) ol_gemm_set_kernel("auto");
}

void ol_gemm_f32(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, const float *b,
                 float beta, float *c) {
    if (use_portable) ol_gemm_portable_f32(trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
    else blas_gemm_f32(trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
}

void ol_gemm_f64(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a, const double *b,
                 double beta, double *c) {
    if (use_portable) ol_gemm_portable_f64(trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
    else blas_gemm_f64(trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
}

#else /* the portable kernel alone */

const char *ol_gemm_blas_core(void) { return "none (portable build)"; }

int ol_gemm_set_kernel(const char *name) {
    if (!name || !strcmp(name, "auto") || !strcmp(name, "portable")) return OL_OK;
    return ol_fail(OL_EARG, "matrix-product kernel '%s' is not in this build, which has only the portable one "
                            "(auto or portable)", name);
}

const char *ol_gemm_kernel(void) { return "portable"; }

void ol_gemm_f32(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, const float *b,
                 float beta, float *c) {
    ol_gemm_portable_f32(trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
}

void ol_gemm_f64(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a, const double *b,
                 double beta, double *c) {
    ol_gemm_portable_f64(trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
}

#endif
