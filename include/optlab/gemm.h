/* gemm.h: the deterministic matrix product of optlab (src/gemm.c, with optlab's own float32 kernel
 * in src/sgemm.c and OpenBLAS for the rest on x86-64, and the portable kernel of
 * src/gemm_portable.c). Row-major; transposes folded into flags. The same bytes at any thread
 * count: the product is cut into blocks fixed by the shapes (OpenBLAS path) or into whole tiles
 * per thread (optlab's kernels), never into partial sums that depend on the threads.
 * Deliberately not here: strides, broadcasting, views. */
#ifndef OPTLAB_GEMM_H
#define OPTLAB_GEMM_H

/* C (m, n) = alpha * op(A) op(B) + beta * C, op(X) = X or X^T (trans_a / trans_b); A is (m, k)
 * or (k, m) when transposed, B is (k, n) or (n, k). Row-major. Threads: OpenMP's current count
 * (optlab/parallel.h). */
void ol_gemm_f32(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                 const float *b, float beta, float *c);
void ol_gemm_f64(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
                 const double *b, double beta, double *c);

/* The kernel: on x86-64, "avx512" or "avx2" (optlab's own float32 kernels, src/sgemm.c: the same
 * bytes for both and at any thread count) or "openblas" for float32 products, float64 ones always
 * on OpenBLAS; by default avx512 where the CPU has it, else openblas (faster than optlab's avx2
 * kernel). "portable" (src/gemm_portable.c) runs both precisions in plain C with a fixed
 * summation order: each element's sum over k in order from 0, product then sum rounded, no FMA;
 * so it gives the same bytes natively, at any thread count, on any CPU and in the WebAssembly
 * build. It is the only kernel (and the default) where the CPU is not x86-64 or the target is
 * WebAssembly (or where OL_GEMM_PORTABLE_ONLY is defined). The environment variable OPTLAB_GEMM
 * picks one for a whole run. ol_gemm_set_kernel("auto") goes back to the default; a name the
 * CPU or the build cannot run fails (OL_EARG) and changes nothing. */
int ol_gemm_set_kernel(const char *name);
const char *ol_gemm_kernel(void);

/* The kernel set OpenBLAS runs ("Haswell", "SkylakeX", ...): its own choice for this CPU, or the
 * one OPENBLAS_CORETYPE forced when it was loaded; "none (portable build)" without OpenBLAS.
 * `optlab version` prints it. OpenBLAS itself always runs single-threaded (set when the library
 * loads): optlab splits the work. */
const char *ol_gemm_blas_core(void);

#endif
