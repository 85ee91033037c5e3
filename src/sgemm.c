/* sgemm.c: optlab's own float32 matrix product, C = alpha op(A) op(B) + beta C (row-major), for
 * CPUs with AVX2 and FMA, with a wider kernel where the CPU has AVX-512.
 *
 * Why not OpenBLAS alone: on the AVX-512 machines we run on, OpenBLAS must be held to its Haswell
 * kernels (OPENBLAS_CORETYPE=Haswell: older builds compute wrong results on these CPUs), and those
 * reach about 63% of the AVX2 FMA peak there (bench/fma_peak against bench/sgemm_rate). A plain
 * packed product in the manner of BLIS/GotoBLAS does better, and it lets the bits be ours:
 *
 * - every element of C is the same chain of operations whatever the kernel (AVX2 or AVX-512) and
 *   whatever the thread count: the inner side k is cut into chunks that depend on k alone; within
 *   a chunk, acc = fma(a_ip, b_pj, acc) for p in order from acc = 0; then c = fma(alpha, acc, c)
 *   (or c = alpha acc for the first chunk when beta = 0). Each thread computes its own strip of
 *   whole tiles of C, never part of a sum.
 * - no scratch copies of C and no reduction across threads (the OpenBLAS path in gemm.c needs
 *   both to stay deterministic).
 *
 * What it is not: a general BLAS. One precision, no strides other than the packed row-major
 * layouts optlab uses (lda, ldb, ldc are the rows' lengths), and no tuning beyond the block sizes
 * below. CPUs without AVX-512 use OpenBLAS by default (gemm.c; see best_kernel). */
#include "sgemm.h"

#if OL_GEMM_X86 /* the whole file: other CPUs and WebAssembly have the portable kernel alone */
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"

/* Block sizes. KC_MAX bounds a chunk of k (a packed micro-panel of B, KC x NR floats, is meant
 * to stay in L1: 24 KiB at NR = 16, 48 KiB at 32); MC_MAX rows of packed A (MC x KC, 360 KiB) stay in L2; NC_MAX columns
 * of packed B. MC_MAX is a multiple of both kernels' MR (6 and 12), NC_MAX of both NR (16 and 32). */
#define KC_MAX 384
#define MC_MAX 240
#define NC_MAX 1536
/* products below this many flops run on the calling thread: a team costs more than it saves */
#define SGEMM_PAR_FLOP 4e6

typedef void (*micro_kernel)(int kc, const float *ap, const float *bp, float alpha, int overwrite, float *c,
                             int ldc, int rows, int cols);

/* The part of a finished tile (acc, mr x nr, row-major) that lies inside C: rows x cols. The same
 * operations as the vector update (fmaf rounds once, like the FMA instruction). */
static void tile_update(const float *acc, int nr, float alpha, int overwrite, float *c, int ldc, int rows, int cols) {
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++) {
            float *cj = c + (size_t)r * ldc + j;
            *cj = overwrite ? alpha * acc[r * nr + j] : fmaf(alpha, acc[r * nr + j], *cj);
        }
}

/* ---- AVX2 + FMA: a 6 x 16 tile in 12 registers ---- */

#define K6_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

__attribute__((target("avx2,fma"))) static void kernel_avx2_6x16(int kc, const float *ap, const float *bp,
                                                                  float alpha, int overwrite, float *c, int ldc,
                                                                  int rows, int cols) {
#define DECL(r) __m256 c##r##0 = _mm256_setzero_ps(), c##r##1 = _mm256_setzero_ps();
    K6_ROWS(DECL)
#undef DECL
    for (int p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
#define STEP(r)                                                 \
    {                                                           \
        const __m256 a = _mm256_broadcast_ss(ap + r);           \
        c##r##0 = _mm256_fmadd_ps(a, b0, c##r##0);              \
        c##r##1 = _mm256_fmadd_ps(a, b1, c##r##1);              \
    }
        K6_ROWS(STEP)
#undef STEP
        ap += 6;
        bp += 16;
    }
    const __m256 va = _mm256_set1_ps(alpha);
    if (rows == 6 && cols == 16) {
#define STORE(r)                                                                                         \
    {                                                                                                    \
        float *cr = c + (size_t)(r)*ldc;                                                                 \
        if (overwrite) {                                                                                 \
            _mm256_storeu_ps(cr, _mm256_mul_ps(va, c##r##0));                                            \
            _mm256_storeu_ps(cr + 8, _mm256_mul_ps(va, c##r##1));                                        \
        } else {                                                                                         \
            _mm256_storeu_ps(cr, _mm256_fmadd_ps(va, c##r##0, _mm256_loadu_ps(cr)));                     \
            _mm256_storeu_ps(cr + 8, _mm256_fmadd_ps(va, c##r##1, _mm256_loadu_ps(cr + 8)));             \
        }                                                                                                \
    }
        K6_ROWS(STORE)
#undef STORE
        return;
    }
    float acc[6 * 16];
#define SPILL(r) _mm256_storeu_ps(acc + (r)*16, c##r##0), _mm256_storeu_ps(acc + (r)*16 + 8, c##r##1);
    K6_ROWS(SPILL)
#undef SPILL
    tile_update(acc, 16, alpha, overwrite, c, ldc, rows, cols);
}

/* ---- AVX-512: a 12 x 32 tile in 24 registers ---- */

#define K12_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((target("avx512f"))) static void kernel_avx512_12x32(int kc, const float *ap, const float *bp,
                                                                   float alpha, int overwrite, float *c, int ldc,
                                                                   int rows, int cols) {
#define DECL(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();
    K12_ROWS(DECL)
#undef DECL
    for (int p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
#define STEP(r)                                                 \
    {                                                           \
        const __m512 a = _mm512_set1_ps(ap[r]);                 \
        c##r##0 = _mm512_fmadd_ps(a, b0, c##r##0);              \
        c##r##1 = _mm512_fmadd_ps(a, b1, c##r##1);              \
    }
        K12_ROWS(STEP)
#undef STEP
        ap += 12;
        bp += 32;
    }
    const __m512 va = _mm512_set1_ps(alpha);
    if (rows == 12 && cols == 32) {
#define STORE(r)                                                                                         \
    {                                                                                                    \
        float *cr = c + (size_t)(r)*ldc;                                                                 \
        if (overwrite) {                                                                                 \
            _mm512_storeu_ps(cr, _mm512_mul_ps(va, c##r##0));                                            \
            _mm512_storeu_ps(cr + 16, _mm512_mul_ps(va, c##r##1));                                       \
        } else {                                                                                         \
            _mm512_storeu_ps(cr, _mm512_fmadd_ps(va, c##r##0, _mm512_loadu_ps(cr)));                     \
            _mm512_storeu_ps(cr + 16, _mm512_fmadd_ps(va, c##r##1, _mm512_loadu_ps(cr + 16)));           \
        }                                                                                                \
    }
        K12_ROWS(STORE)
#undef STORE
        return;
    }
    float acc[12 * 32];
#define SPILL(r) _mm512_storeu_ps(acc + (r)*32, c##r##0), _mm512_storeu_ps(acc + (r)*32 + 16, c##r##1);
    K12_ROWS(SPILL)
#undef SPILL
    tile_update(acc, 32, alpha, overwrite, c, ldc, rows, cols);
}

/* ---- AVX-512, narrow: a 12 x 16 tile in 12 registers, for products at most 16 columns wide (the
 * output layer's 10 classes: 62% of its lanes useful, against 31% in the 12 x 32 tile) ---- */

__attribute__((target("avx512f"))) static void kernel_avx512_12x16(int kc, const float *ap, const float *bp,
                                                                   float alpha, int overwrite, float *c, int ldc,
                                                                   int rows, int cols) {
#define DECL(r) __m512 c##r = _mm512_setzero_ps();
    K12_ROWS(DECL)
#undef DECL
    for (int p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(bp);
#define STEP(r) c##r = _mm512_fmadd_ps(_mm512_set1_ps(ap[r]), b0, c##r);
        K12_ROWS(STEP)
#undef STEP
        ap += 12;
        bp += 16;
    }
    const __m512 va = _mm512_set1_ps(alpha);
    if (rows == 12 && cols == 16) {
#define STORE(r)                                                                                         \
    {                                                                                                    \
        float *cr = c + (size_t)(r)*ldc;                                                                 \
        _mm512_storeu_ps(cr, overwrite ? _mm512_mul_ps(va, c##r) : _mm512_fmadd_ps(va, c##r, _mm512_loadu_ps(cr))); \
    }
        K12_ROWS(STORE)
#undef STORE
        return;
    }
    float acc[12 * 16];
#define SPILL(r) _mm512_storeu_ps(acc + (r)*16, c##r);
    K12_ROWS(SPILL)
#undef SPILL
    tile_update(acc, 16, alpha, overwrite, c, ldc, rows, cols);
}

/* ---- kernel choice ---- */

typedef struct {
    const char *name;
    int mr, nr;
    micro_kernel kernel;
} kernel_set;

static const kernel_set kernels[] = {
    {"openblas", 0, 0, NULL},
    {"avx2", 6, 16, kernel_avx2_6x16},
    {"avx512", 12, 32, kernel_avx512_12x32},
};
static const kernel_set avx512_narrow = {"avx512", 12, 16, kernel_avx512_12x16};
enum { K_OPENBLAS, K_AVX2, K_AVX512 };

static int cpu_has(int which) {
    __builtin_cpu_init();
    if (which == K_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (which == K_AVX512) return cpu_has(K_AVX2) && __builtin_cpu_supports("avx512f");
    return 1;
}

/* The default: AVX-512 where the CPU has it (1.5x OpenBLAS's Haswell kernels on the step's
 * products, bench/step_time); otherwise OpenBLAS, whose AVX2 kernels beat the 6 x 16 one here
 * (measured: 89 against 100 GFLOP/s on 128 x 784 by 784 x 256). The AVX2 kernel stays
 * selectable: it gives the AVX-512 kernel's bytes on AVX2-only CPUs. */
static int best_kernel(void) { return cpu_has(K_AVX512) ? K_AVX512 : K_OPENBLAS; }

static int current = -1; /* index into kernels, set at load */

int ol_sgemm_set_kernel(const char *name) {
    if (!name || !strcmp(name, "auto")) {
        current = best_kernel();
        return OL_OK;
    }
    for (int i = 0; i < (int)(sizeof kernels / sizeof kernels[0]); i++)
        if (!strcmp(name, kernels[i].name)) {
            if (!cpu_has(i)) return ol_fail(OL_EARG, "matrix-product kernel '%s' needs a CPU with %s", name,
                                            i == K_AVX512 ? "AVX-512" : "AVX2 and FMA");
            current = i;
            return OL_OK;
        }
    return ol_fail(OL_EARG, "unknown matrix-product kernel '%s' (auto, openblas, avx2, avx512 or portable)", name);
}

const char *ol_sgemm_kernel(void) { return kernels[current < 0 ? best_kernel() : current].name; }

/* ---- packing ---- */

/* Rows of A (not transposed) into a 12-row panel, 8 values of k at a time: rows 0-7 by an 8 x 8
 * transpose in registers, rows 8-11 by a 4 x 8 one; the rest of k one by one. A plain copy (the
 * same values as the scalar loop below), about 4x faster than it: the forward product's panels of
 * the batch (128 x 784) took 57-60 us to pack the scalar way, a quarter of the product's time. */
__attribute__((target("avx2"))) static void pack_a_rows12(const float *a, int lda, int i0, int rows, int p0, int kc,
                                                          float *dst) {
    const float *src[12];
    for (int r = 0; r < 12; r++) src[r] = a + (size_t)(i0 + (r < rows ? r : 0)) * lda + p0;
    const __m256 zero = _mm256_setzero_ps();
    int p = 0;
    for (; p + 8 <= kc; p += 8) {
        __m256 v[12];
        for (int r = 0; r < 12; r++) v[r] = r < rows ? _mm256_loadu_ps(src[r] + p) : zero;
        __m256 t[8], u[8];
        for (int q = 0; q < 4; q++) {
            t[2 * q] = _mm256_unpacklo_ps(v[2 * q], v[2 * q + 1]);
            t[2 * q + 1] = _mm256_unpackhi_ps(v[2 * q], v[2 * q + 1]);
        }
        for (int q = 0; q < 2; q++) {
            u[4 * q + 0] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
            u[4 * q + 1] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0xee);
            u[4 * q + 2] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
            u[4 * q + 3] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xee);
        }
        /* u[j] (j < 4) holds k = p+j in its low half and p+j+4 in its high half, rows 0-3; u[4+j] rows 4-7 */
        __m256 w0 = _mm256_unpacklo_ps(v[8], v[9]), w1 = _mm256_unpackhi_ps(v[8], v[9]);
        __m256 w2 = _mm256_unpacklo_ps(v[10], v[11]), w3 = _mm256_unpackhi_ps(v[10], v[11]);
        __m256 x[4] = {_mm256_shuffle_ps(w0, w2, 0x44), _mm256_shuffle_ps(w0, w2, 0xee),
                       _mm256_shuffle_ps(w1, w3, 0x44), _mm256_shuffle_ps(w1, w3, 0xee)};
        float *d = dst + (size_t)p * 12;
        for (int j = 0; j < 4; j++) {
            _mm256_storeu_ps(d + 12 * j, _mm256_permute2f128_ps(u[j], u[4 + j], 0x20));
            _mm_storeu_ps(d + 12 * j + 8, _mm256_castps256_ps128(x[j]));
            _mm256_storeu_ps(d + 12 * (j + 4), _mm256_permute2f128_ps(u[j], u[4 + j], 0x31));
            _mm_storeu_ps(d + 12 * (j + 4) + 8, _mm256_extractf128_ps(x[j], 1));
        }
    }
    for (; p < kc; p++)
        for (int r = 0; r < 12; r++) dst[(size_t)p * 12 + r] = r < rows ? src[r][p] : 0;
}

/* op(A) rows i0.., chunk p0..p0+kc into panels of mr rows, each kc x mr (k-major), rows past m
 * zero */
static void pack_a_panel(int trans, const float *a, int lda, int i0, int rows, int p0, int kc, int mr, float *dst) {
    if (!trans && mr == 12) {
        pack_a_rows12(a, lda, i0, rows, p0, kc, dst);
    } else if (trans) { /* A is stored k x m: a row of the chunk is contiguous in i */
        for (int p = 0; p < kc; p++) {
            const float *src = a + (size_t)(p0 + p) * lda + i0;
            float *d = dst + (size_t)p * mr;
            int r = 0;
            for (; r < rows; r++) d[r] = src[r];
            for (; r < mr; r++) d[r] = 0;
        }
    } else { /* rows of A: read mr rows side by side, write the panel in order */
        const float *src[16];
        for (int r = 0; r < mr; r++) src[r] = a + (size_t)(i0 + (r < rows ? r : 0)) * lda + p0;
        for (int p = 0; p < kc; p++) {
            float *d = dst + (size_t)p * mr;
            for (int r = 0; r < mr; r++) d[r] = r < rows ? src[r][p] : 0;
        }
    }
}

/* op(B) chunk p0..p0+kc, columns j0..j0+cols into a kc x nr panel (k-major), columns past n zero */
static void pack_b_panel(int trans, const float *b, int ldb, int p0, int kc, int j0, int cols, int nr, float *dst) {
    if (trans) { /* B is stored n x k: read nr rows of it side by side */
        const float *src[32];
        for (int j = 0; j < nr; j++) src[j] = b + (size_t)(j0 + (j < cols ? j : 0)) * ldb + p0;
        for (int p = 0; p < kc; p++) {
            float *d = dst + (size_t)p * nr;
            for (int j = 0; j < nr; j++) d[j] = j < cols ? src[j][p] : 0;
        }
    } else {
        for (int p = 0; p < kc; p++) {
            const float *src = b + (size_t)(p0 + p) * ldb + j0;
            float *d = dst + (size_t)p * nr;
            if (cols == nr) { /* a loop the compiler vectorizes: cheaper than a memcpy call of 64 bytes */
                for (int j = 0; j < nr; j++) d[j] = src[j];
            } else {
                for (int j = 0; j < nr; j++) d[j] = j < cols ? src[j] : 0;
            }
        }
    }
}

/* ---- the product ---- */

/* The share [lo, hi) of n work items that thread `tid` of `nt` takes (contiguous) */
static void share(int n, int tid, int nt, int *lo, int *hi) {
    *lo = (int)((long)n * tid / nt);
    *hi = (int)((long)n * (tid + 1) / nt);
}

/* The whole product on the calling thread, with its own packing buffers. No OpenMP inside: it
 * also runs alone from inside somebody else's parallel region (a lab that trains several models
 * at once), where an orphaned `omp for` or barrier would bind to that region's team and wait for
 * threads that never come. */
static void sgemm_serial(const kernel_set *ks, int ta, int tb, int m, int n, int k, float alpha, const float *a,
                         int lda, const float *b, int ldb, float beta, float *c, int ldc, int chunks, int kcs,
                         float *apack, float *bpack) {
    const int mr = ks->mr, nr = ks->nr;
    for (int jc = 0; jc < n; jc += NC_MAX) {
        int nc = n - jc < NC_MAX ? n - jc : NC_MAX, npj = (nc + nr - 1) / nr;
        for (int chunk = 0; chunk < chunks; chunk++) {
            int pc = chunk * kcs, kc = k - pc < kcs ? k - pc : kcs;
            int overwrite = chunk == 0 && beta == 0;
            for (int jp = 0; jp < npj; jp++) {
                int j0 = jp * nr, cols = nc - j0 < nr ? nc - j0 : nr;
                pack_b_panel(tb, b, ldb, pc, kc, jc + j0, cols, nr, bpack + (size_t)jp * nr * kc);
            }
            for (int ic = 0; ic < m; ic += MC_MAX) {
                int mc = m - ic < MC_MAX ? m - ic : MC_MAX, npi = (mc + mr - 1) / mr;
                for (int ip = 0; ip < npi; ip++) {
                    int i0 = ip * mr, rows = mc - i0 < mr ? mc - i0 : mr;
                    pack_a_panel(ta, a, lda, ic + i0, rows, pc, kc, mr, apack + (size_t)ip * mr * kc);
                }
                /* column panel by column panel: a B micro-panel stays in L1 across all of A's */
                for (int jp = 0; jp < npj; jp++)
                    for (int ip = 0; ip < npi; ip++) {
                        int i0 = ip * mr, j0 = jp * nr;
                        int rows = mc - i0 < mr ? mc - i0 : mr, cols = nc - j0 < nr ? nc - j0 : nr;
                        ks->kernel(kc, apack + (size_t)ip * mr * kc, bpack + (size_t)jp * nr * kc, alpha, overwrite,
                                   c + (size_t)(ic + i0) * ldc + jc + j0, ldc, rows, cols);
                    }
            }
        }
    }
}

/* Thread tid of nt computes its strip of C as a product of its own: no barrier, no shared
 * buffer. Strips of whole row panels when m > n (each thread packs all of op(B), the smaller
 * operand, again), else of whole column panels (each packs all of op(A)). The elements' chains
 * do not change: the same bytes as sgemm_serial on the whole. */
static void sgemm_strip(const kernel_set *ks, int ta, int tb, int m, int n, int k, float alpha, const float *a,
                        int lda, const float *b, int ldb, float beta, float *c, int ldc, int chunks, int kcs,
                        float *apack, float *bpack, int tid, int nt) {
    int lo, hi;
    if (m > n) {
        share((m + ks->mr - 1) / ks->mr, tid, nt, &lo, &hi);
        int i0 = lo * ks->mr, i1 = hi * ks->mr < m ? hi * ks->mr : m;
        if (i0 >= i1) return;
        sgemm_serial(ks, ta, tb, i1 - i0, n, k, alpha, ta ? a + i0 : a + (size_t)i0 * lda, lda, b, ldb, beta,
                     c + (size_t)i0 * ldc, ldc, chunks, kcs, apack, bpack);
    } else {
        share((n + ks->nr - 1) / ks->nr, tid, nt, &lo, &hi);
        int j0 = lo * ks->nr, j1 = hi * ks->nr < n ? hi * ks->nr : n;
        if (j0 >= j1) return;
        sgemm_serial(ks, ta, tb, m, j1 - j0, k, alpha, a, lda, tb ? b + (size_t)j0 * ldb : b + j0, ldb, beta, c + j0,
                     ldc, chunks, kcs, apack, bpack);
    }
}

int ol_sgemm_own(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc) {
    if (current < 0) current = best_kernel();
    const kernel_set *ks = current == K_AVX512 && n <= 16 ? &avx512_narrow : &kernels[current];
    if (!ks->kernel) return -1;
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) { /* C = beta C */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = beta == 0 ? 0 : beta * c[(size_t)i * ldc + j];
        return 0;
    }
    /* k's chunks: as few as KC_MAX allows, of equal length (the last may be shorter): a function
     * of k alone, the same for every kernel */
    int chunks = (k + KC_MAX - 1) / KC_MAX, kcs = (k + chunks - 1) / chunks;
    int mrows = m < MC_MAX ? m : MC_MAX, ncols = n < NC_MAX ? n : NC_MAX;
    size_t a_floats = ((size_t)((mrows + ks->mr - 1) / ks->mr) * ks->mr * kcs + 15) / 16 * 16;
    size_t b_floats = (size_t)((ncols + ks->nr - 1) / ks->nr) * ks->nr * kcs, per_thread = a_floats + b_floats;
    double flop = 2.0 * m * n * k;
    int nt = flop >= SGEMM_PAR_FLOP && !omp_in_parallel() ? omp_get_max_threads() : 1;
    /* a multiple of 16 floats a part; plain aligned memory: huge pages (ol_alloc_big) would cost
     * an madvise call per product for a buffer that lives one call */
    float *pack = aligned_alloc(64, sizeof(float) * per_thread * (size_t)nt);
    if (!pack) return -1;
    /* c = beta c first (after the allocation, the one thing that can fail); each chunk adds to it */
    if (beta != 0 && beta != 1)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] *= beta;
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        {
            float *own = pack + per_thread * (size_t)omp_get_thread_num();
            sgemm_strip(ks, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, chunks, kcs, own, own + a_floats,
                        omp_get_thread_num(), omp_get_num_threads());
        }
    } else {
        sgemm_serial(ks, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, chunks, kcs, pack, pack + a_floats);
    }
    free(pack);
    return 0;
}

#endif /* OL_GEMM_X86 */
