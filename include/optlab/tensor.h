/* tensor.h: dense row-major 2-D arrays of float (or double) and the BLAS-backed matrix product.
 *
 * A tensor is (rows, cols), contiguous, row-major; a vector is (1, n), a scalar (1, 1). optlab's
 * models need no more than two dimensions: a batch of examples is (batch, features). The matrix
 * product goes through OpenBLAS (cblas_sgemm / cblas_dgemm) with transposes folded into its flags,
 * never copied. Deliberately not here: broadcasting rules beyond a row vector, strides, views. */
#ifndef OPTLAB_TENSOR_H
#define OPTLAB_TENSOR_H

#include <stddef.h>

enum { OL_F32 = 0, OL_F64 = 1 };   /* element types */

typedef struct {
    int rows, cols;
    int dtype;        /* OL_F32 or OL_F64 */
    void *data;       /* rows * cols elements, 64-byte aligned when owned */
    int owns;         /* 1 when data is freed by ol_tensor_free */
} ol_tensor;

/* Allocates a zeroed (rows, cols) tensor; OL_ENOMEM on overflow or failure. */
int ol_tensor_alloc(ol_tensor *t, int rows, int cols, int dtype);
void ol_tensor_free(ol_tensor *t);
size_t ol_tensor_size(const ol_tensor *t);   /* rows * cols */
size_t ol_dtype_bytes(int dtype);            /* 4 or 8 */

/* C (m, n) = alpha * op(A) op(B) + beta * C, op(X) = X or X^T (trans_a / trans_b); A is (m, k)
 * or (k, m) when transposed, B is (k, n) or (n, k). Row-major. cblas_sgemm underneath. */
void ol_gemm_f32(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                 const float *b, float beta, float *c);
void ol_gemm_f64(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
                 const double *b, double beta, double *c);

/* Threads used by BLAS and by optlab's own parallel loops (OpenMP); 0 = leave as is. Results do
 * not depend on this number: reductions run in a fixed order. */
void ol_set_threads(int threads);
int ol_get_threads(void);

/* The kernel set OpenBLAS runs ("Haswell", "SkylakeX", ...): its own choice for this CPU, or the
 * one OPENBLAS_CORETYPE forced when it was loaded. `optlab version` prints it. */
const char *ol_blas_core(void);

/* The float32 product's kernel: "avx512" or "avx2" (optlab's own, src/sgemm.c: the same bytes
 * for both and at any thread count) or "openblas". By default avx512 where the CPU has it, else
 * openblas (faster than optlab's avx2 kernel); the environment variable OPTLAB_GEMM picks one for
 * a whole run.
 * ol_gemm_set_kernel("auto") goes back to the default; a name the CPU cannot run fails
 * (OL_EARG) and changes nothing. float64 products always run on OpenBLAS. */
int ol_gemm_set_kernel(const char *name);
const char *ol_gemm_kernel(void);

#endif
