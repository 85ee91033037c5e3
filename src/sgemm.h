/* sgemm.h: optlab's own float32 matrix product (src/sgemm.c), called by ol_gemm_f32 (gemm.c).
 * Its kernel choice is public as ol_gemm_set_kernel / ol_gemm_kernel (optlab/gemm.h). */
#ifndef OL_SGEMM_H
#define OL_SGEMM_H

/* 1 where optlab's x86 kernels and OpenBLAS are built (x86-64, unless OL_GEMM_PORTABLE_ONLY);
 * 0 where the portable kernel (gemm_portable.c) is the only one */
#if defined(__x86_64__) && !defined(OL_GEMM_PORTABLE_ONLY)
#define OL_GEMM_X86 1
#else
#define OL_GEMM_X86 0
#endif

/* C (m x n, rows ldc apart) = alpha op(A) op(B) + beta C; op(A) m x k, op(B) k x n, stored
 * row-major with rows lda and ldb apart (A k x m when ta, B n x k when tb). beta = 0 ignores C's
 * contents. Returns 0 when done, -1 when it did nothing: the kernel in use is OpenBLAS, or no
 * memory for the packed operands (the caller then runs OpenBLAS). Deterministic: the same bytes
 * at any thread count and for either vector kernel (see sgemm.c). */
int ol_sgemm_own(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc);

/* the kernel choice behind ol_gemm_set_kernel and ol_gemm_kernel (optlab/gemm.h) */
int ol_sgemm_set_kernel(const char *name);
const char *ol_sgemm_kernel(void);

#endif
