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

void ol_gemm_f32(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                 const float *b, float beta, float *c) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
}

void ol_gemm_f64(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
                 const double *b, double beta, double *c) {
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
}

static int current_threads = 0;

void ol_set_threads(int threads) {
    if (threads <= 0) return;
    current_threads = threads;
    openblas_set_num_threads(threads);
    omp_set_num_threads(threads);
}

int ol_get_threads(void) { return current_threads > 0 ? current_threads : omp_get_max_threads(); }
