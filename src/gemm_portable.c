/* gemm_portable.c: the portable matrix product, plain C with no intrinsics and no BLAS: the only
 * product where the CPU is not x86-64 or the target is WebAssembly, and natively with
 * OPTLAB_GEMM=portable (see include/optlab/gemm.h).
 *
 * Its summation order is fixed, so that every build that runs it gives the same bytes (native
 * x86-64, another CPU, WebAssembly with or without SIMD, any thread count). For each element of C:
 *     s = 0;  for p = 0, 1, ..., k-1:  s = s + a_ip * b_pj      (in REAL: the product rounded, then
 *                                                                 the sum; never fused into an FMA)
 *     c_ij = alpha * s                 when beta = 0 (C's old contents ignored, NaN included)
 *     c_ij = alpha * s + beta * c_ij   otherwise
 * The loops run over j innermost, so the compiler may vectorize across the elements of a row of C
 * (each lane one element's own chain) without changing any element's order; no sum is ever split
 * across threads, lanes or blocks of k. The build must not contract a * b + s into an FMA: the
 * Makefile compiles with -ffp-contract=off, and the pragma below says so to compilers that read it.
 *
 * Blocking, for the cache only (no effect on the values): C is done in tiles of ROWS rows by COLS
 * columns, each tile's partial sums in a local array, k streamed whole; op(B) transposed is first
 * copied into k x n rows (a copy: the same values). Natively the row tiles go to OpenMP threads
 * when the product is large enough; each element is computed by one thread. */
#include "gemm_portable.h"

#include <stdlib.h>
#include <string.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define ROWS 4       /* rows of C per tile: each b_pj loaded serves ROWS elements */
#define COLS 64      /* columns per tile: a tile's sums (4 x 64) stay in registers and L1 */
#define PAR_FLOP 4e6 /* below this many flops one thread: a team costs more than it saves */

/* tile t of the product (row tiles of ROWS, each cut into col_tiles tiles of COLS) */
#define TILE_AT(NAME, t)                                                                                \
    do {                                                                                                \
        int i0_ = (int)((t) / col_tiles) * ROWS, j0_ = (int)((t) % col_tiles) * COLS;                   \
        NAME##_tile(i0_, m - i0_ < ROWS ? m - i0_ : ROWS, j0_, n - j0_ < COLS ? n - j0_ : COLS, k, alpha, a, \
                    sai, sap, bk, sbp, sbj, beta, c, (size_t)n);                                        \
    } while (0)

#define DEFINE_PORTABLE(NAME, REAL)                                                                     \
    /* rows i0.. and columns j0.. of C: a(i, p) = a[i sai + p sap], b(p, j) = b[p sbp + j sbj] */         \
    static void NAME##_tile(int i0, int rows, int j0, int cols, int k, REAL alpha, const REAL *a,       \
                            size_t sai, size_t sap, const REAL *b, size_t sbp, size_t sbj, REAL beta,      \
                            REAL *c, size_t ldc) {                                                       \
        REAL s[ROWS][COLS];                                                                             \
        for (int r = 0; r < rows; r++)                                                                  \
            for (int j = 0; j < cols; j++) s[r][j] = 0;                                                 \
        for (int p = 0; p < k; p++) {                                                                   \
            const REAL *bp = b + (size_t)p * sbp + (size_t)j0 * sbj;                                    \
            for (int r = 0; r < rows; r++) {                                                            \
                const REAL air = a[(size_t)(i0 + r) * sai + (size_t)p * sap];                           \
                REAL *sr = s[r];                                                                        \
                if (sbj == 1)                                                                           \
                    for (int j = 0; j < cols; j++) sr[j] = sr[j] + air * bp[j];                         \
                else                                                                                    \
                    for (int j = 0; j < cols; j++) sr[j] = sr[j] + air * bp[(size_t)j * sbj];           \
            }                                                                                           \
        }                                                                                               \
        for (int r = 0; r < rows; r++) {                                                                \
            REAL *cr = c + (size_t)(i0 + r) * ldc + j0;                                                 \
            if (beta == 0)                                                                              \
                for (int j = 0; j < cols; j++) cr[j] = alpha * s[r][j];                                 \
            else                                                                                        \
                for (int j = 0; j < cols; j++) cr[j] = alpha * s[r][j] + beta * cr[j];                  \
        }                                                                                               \
    }                                                                                                   \
                                                                                                        \
    void NAME(int trans_a, int trans_b, int m, int n, int k, REAL alpha, const REAL *a, const REAL *b,   \
              REAL beta, REAL *c) {                                                                      \
        if (m <= 0 || n <= 0) return;                                                                   \
        /* op(B) as k rows of n: B itself, or a transposed copy of B (stored n x k); without memory    \
         * for the copy, B read in place (strided: slower, the same values) */                          \
        const REAL *bk = b;                                                                             \
        size_t sbp = (size_t)n, sbj = 1;                                                                \
        REAL *copy = NULL;                                                                              \
        if (trans_b) {                                                                                  \
            copy = k > 0 ? malloc(sizeof(REAL) * (size_t)k * (size_t)n) : NULL;                         \
            if (copy) {                                                                                 \
                for (int j = 0; j < n; j++)                                                             \
                    for (int p = 0; p < k; p++) copy[(size_t)p * n + j] = b[(size_t)j * k + p];          \
                bk = copy;                                                                              \
            } else {                                                                                    \
                sbp = 1;                                                                                \
                sbj = (size_t)k;                                                                        \
            }                                                                                           \
        }                                                                                               \
        const size_t sai = trans_a ? 1 : (size_t)k, sap = trans_a ? (size_t)m : 1;                     \
        const int col_tiles = (n + COLS - 1) / COLS;                                                    \
        const long tiles = (long)((m + ROWS - 1) / ROWS) * col_tiles;                                    \
        /* a plain branch, not OpenMP's if clause (that one still opens a one-thread team) */           \
        if (2.0 * m * n * k >= PAR_FLOP) {                                                              \
            _Pragma("omp parallel for schedule(static)")                                                \
            for (long t = 0; t < tiles; t++) TILE_AT(NAME, t);                                          \
        } else {                                                                                        \
            for (long t = 0; t < tiles; t++) TILE_AT(NAME, t);                                          \
        }                                                                                               \
        free(copy);                                                                                     \
    }

DEFINE_PORTABLE(ol_gemm_portable_f32, float)
DEFINE_PORTABLE(ol_gemm_portable_f64, double)
