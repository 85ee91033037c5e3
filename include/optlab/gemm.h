/* gemm.h: the deterministic matrix product of optlab (src/gemm.c, with optlab's own float32 kernel
 * in src/sgemm.c and OpenBLAS for the rest). Row-major; transposes folded into flags, never
 * copied. The same bytes at any thread count: the product is cut into blocks fixed by the shapes
 * (OpenBLAS path) or into whole tiles per thread (optlab's kernel), never into partial sums that
 * depend on the threads. Deliberately not here: strides, broadcasting, views. */
#ifndef OPTLAB_GEMM_H
#define OPTLAB_GEMM_H

/* C (m, n) = alpha * op(A) op(B) + beta * C, op(X) = X or X^T (trans_a / trans_b); A is (m, k)
 * or (k, m) when transposed, B is (k, n) or (n, k). Row-major. Threads: OpenMP's current count
 * (optlab/parallel.h). */
void ol_gemm_f32(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                 const float *b, float beta, float *c);
void ol_gemm_f64(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
                 const double *b, double beta, double *c);

/* The float32 product's kernel: "avx512" or "avx2" (optlab's own, src/sgemm.c: the same bytes
 * for both and at any thread count) or "openblas". By default avx512 where the CPU has it, else
 * openblas (faster than optlab's avx2 kernel); the environment variable OPTLAB_GEMM picks one for
 * a whole run.
 * ol_gemm_set_kernel("auto") goes back to the default; a name the CPU cannot run fails
 * (OL_EARG) and changes nothing. float64 products always run on OpenBLAS. */
int ol_gemm_set_kernel(const char *name);
const char *ol_gemm_kernel(void);

/* The kernel set OpenBLAS runs ("Haswell", "SkylakeX", ...): its own choice for this CPU, or the
 * one OPENBLAS_CORETYPE forced when it was loaded. `optlab version` prints it. OpenBLAS itself
 * always runs single-threaded (set when the library loads): optlab splits the work. */
const char *ol_gemm_blas_core(void);

#endif
