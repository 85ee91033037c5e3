/* gemm_portable.h: the portable matrix product (src/gemm_portable.c), called by ol_gemm_f32 and
 * ol_gemm_f64 (gemm.c) when it is the kernel in use; same arguments as they take (row-major, no
 * strides). Its summation order is fixed (see gemm_portable.c): the same bytes in every build. */
#ifndef OL_GEMM_PORTABLE_H
#define OL_GEMM_PORTABLE_H

void ol_gemm_portable_f32(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                          const float *b, float beta, float *c);
void ol_gemm_portable_f64(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
                          const double *b, double beta, double *c);

#endif
