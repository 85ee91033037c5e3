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
 * Vector lanes run across the elements of a row of C (each lane one element's own chain), so no
 * element's order changes; no sum is ever split across threads, lanes or blocks of k. The build
 * must not contract a * b + s into an FMA: the Makefile compiles with -ffp-contract=off, and the
 * pragma below says so to compilers that read it.
 *
 * Blocking, for speed only (no effect on the values): op(B) is first copied into panels of NR
 * columns, each panel k rows of NR values one after the other (zeros past column n), so that the
 * inner loop reads B at unit stride. C is then done in tiles of MR rows by NR columns (one panel),
 * each tile's MR x NR sums held in registers (MR x NV vectors) while k is streamed whole, each
 * a_ip read once per tile and broadcast across the row's vectors. Rows past m in the last tile
 * repeat the tile's first row, columns past n compute on the zeros; neither is stored. With the
 * GNU C vector extension (gcc, clang: WebAssembly SIMD128, SSE or AVX natively) the vectors are
 * 16 bytes (32 with AVX); other compilers get the same loops on scalars. Natively the tiles go to
 * OpenMP threads when the product is large enough; each element is computed by one thread. Without
 * memory for the panels, a plain loop over the elements in the same order. */
#include "gemm_portable.h"

#include <stdlib.h>
#include <string.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define MR 4         /* rows of C per tile: each B vector loaded serves MR rows */
#define NV 2         /* vectors per row of a tile: MR x NV sums + NV of B + the broadcast fit the 16 \
                        registers of SSE / AVX / V8's SIMD128 */
#define PAR_FLOP 4e6 /* below this many flops one thread: a team costs more than it saves */

#if defined(__GNUC__) || defined(__clang__)
#ifdef __AVX__
#define VBYTES 32
#else
#define VBYTES 16
#endif
typedef float vec_f32 __attribute__((vector_size(VBYTES)));
typedef double vec_f64 __attribute__((vector_size(VBYTES)));
#define LANES(REAL) (VBYTES / (int)sizeof(REAL))
#define UNROLL _Pragma("GCC unroll 8")
#else
typedef float vec_f32; /* a "vector" of one lane: the same loops on scalars */
typedef double vec_f64;
#define LANES(REAL) 1
#define UNROLL
#endif

/* tile t of the product: rows (t / panels) MR.., panel t % panels (NR columns) */
#define TILE_AT(NAME, t)                                                                                \
    do {                                                                                                \
        const int i0_ = (int)((t) / panels) * MR, jp_ = (int)((t) % panels), j0_ = jp_ * NR;            \
        NAME##_tile(i0_, m - i0_ < MR ? m - i0_ : MR, j0_, n - j0_ < NR ? n - j0_ : NR, k, alpha, a, sai, \
                    sap, pb + (size_t)jp_ * NR * (size_t)k, beta, c, (size_t)n);                        \
    } while (0)

#define DEFINE_PORTABLE(NAME, REAL, VEC)                                                                \
    enum { NAME##_NR = NV * LANES(REAL) }; /* columns per tile (and per panel of B) */                   \
                                                                                                        \
    /* the tile of rows i0.. (rows of them) and panel jp (cols columns from j0) of C: a(i, p) =        \
     * a[i sai + p sap], the panel pb (k rows of NR) */                                                 \
    static void NAME##_tile(int i0, int rows, int j0, int cols, int k, REAL alpha, const REAL *a,       \
                            size_t sai, size_t sap, const REAL *pb, REAL beta, REAL *c, size_t ldc) {  \
        enum { NR = NAME##_NR, L = LANES(REAL) };                                                       \
        const REAL *ar[MR];                                                                             \
        UNROLL for (int r = 0; r < MR; r++) ar[r] = a + (size_t)(i0 + (r < rows ? r : 0)) * sai;        \
        VEC s[MR][NV];                                                                                  \
        UNROLL for (int r = 0; r < MR; r++) UNROLL for (int v = 0; v < NV; v++) s[r][v] = (VEC){0};     \
        for (int p = 0; p < k; p++) {                                                                   \
            VEC bv[NV];                                                                                 \
            UNROLL for (int v = 0; v < NV; v++) memcpy(&bv[v], pb + (size_t)p * NR + v * L, sizeof(VEC)); \
            const size_t off = (size_t)p * sap;                                                         \
            UNROLL for (int r = 0; r < MR; r++) {                                                       \
                const REAL air = ar[r][off];                                                            \
                UNROLL for (int v = 0; v < NV; v++) s[r][v] = s[r][v] + air * bv[v];                    \
            }                                                                                           \
        }                                                                                               \
        if (rows == MR && cols == NR) {                                                                 \
            UNROLL for (int r = 0; r < MR; r++) {                                                       \
                REAL *cr = c + (size_t)(i0 + r) * ldc + j0;                                             \
                UNROLL for (int v = 0; v < NV; v++) {                                                   \
                    VEC out = alpha * s[r][v];                                                          \
                    if (beta != 0) {                                                                    \
                        VEC old;                                                                        \
                        memcpy(&old, cr + v * L, sizeof old);                                           \
                        out = out + beta * old;                                                         \
                    }                                                                                   \
                    memcpy(cr + v * L, &out, sizeof out);                                               \
                }                                                                                       \
            }                                                                                           \
            return;                                                                                     \
        }                                                                                               \
        REAL sum[MR][NR];                                                                               \
        memcpy(sum, s, sizeof sum);                                                                     \
        for (int r = 0; r < rows; r++) {                                                                \
            REAL *cr = c + (size_t)(i0 + r) * ldc + j0;                                                 \
            if (beta == 0)                                                                              \
                for (int j = 0; j < cols; j++) cr[j] = alpha * sum[r][j];                               \
            else                                                                                        \
                for (int j = 0; j < cols; j++) cr[j] = alpha * sum[r][j] + beta * cr[j];                \
        }                                                                                               \
    }                                                                                                   \
                                                                                                        \
    void NAME(int trans_a, int trans_b, int m, int n, int k, REAL alpha, const REAL *a, const REAL *b,   \
              REAL beta, REAL *c) {                                                                      \
        enum { NR = NAME##_NR };                                                                        \
        if (m <= 0 || n <= 0) return;                                                                   \
        if (k < 0) k = 0;                                                                               \
        const size_t sai = trans_a ? 1 : (size_t)k, sap = trans_a ? (size_t)m : 1;                     \
        const size_t sbp = trans_b ? 1 : (size_t)n, sbj = trans_b ? (size_t)k : 1;                     \
        const int panels = (n + NR - 1) / NR;                                                           \
        REAL *pb = malloc(sizeof(REAL) * ((size_t)panels * NR * (size_t)k + 1));                       \
        if (!pb) { /* the same order, element by element */                                            \
            for (int i = 0; i < m; i++)                                                                 \
                for (int j = 0; j < n; j++) {                                                           \
                    REAL s = 0;                                                                         \
                    for (int p = 0; p < k; p++)                                                         \
                        s = s + a[(size_t)i * sai + (size_t)p * sap] * b[(size_t)p * sbp + (size_t)j * sbj]; \
                    REAL *cij = c + (size_t)i * n + j;                                                  \
                    *cij = beta == 0 ? alpha * s : alpha * s + beta * *cij;                             \
                }                                                                                       \
            return;                                                                                     \
        }                                                                                               \
        for (int jp = 0; jp < panels; jp++) {                                                           \
            REAL *dst = pb + (size_t)jp * NR * (size_t)k;                                               \
            const int j0 = jp * NR, cols = n - j0 < NR ? n - j0 : NR;                                   \
            for (int p = 0; p < k; p++, dst += NR) {                                                    \
                const REAL *src = b + (size_t)p * sbp + (size_t)j0 * sbj;                               \
                for (int j = 0; j < cols; j++) dst[j] = src[(size_t)j * sbj];                           \
                for (int j = cols; j < NR; j++) dst[j] = 0;                                             \
            }                                                                                           \
        }                                                                                               \
        const long tiles = (long)((m + MR - 1) / MR) * panels;                                          \
        /* a plain branch, not OpenMP's if clause (that one still opens a one-thread team) */           \
        if (2.0 * m * n * k >= PAR_FLOP) {                                                              \
            _Pragma("omp parallel for schedule(static)")                                                \
            for (long t = 0; t < tiles; t++) TILE_AT(NAME, t);                                          \
        } else {                                                                                        \
            for (long t = 0; t < tiles; t++) TILE_AT(NAME, t);                                          \
        }                                                                                               \
        free(pb);                                                                                       \
    }

DEFINE_PORTABLE(ol_gemm_portable_f32, float, vec_f32)
DEFINE_PORTABLE(ol_gemm_portable_f64, double, vec_f64)
