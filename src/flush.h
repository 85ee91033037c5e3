/* flush.h: float32 values below FLT_MIN in magnitude (subnormals) stored as zero, sign kept, as a
 * flush-to-zero unit would. Private to the kernels that store float32 training state
 * (optim_kernels.h, autodiff_kernels.h).
 *
 * Why: Intel cores take a microcode assist (about 100 cycles) for each operation on a subnormal
 * float, and a float32 training run makes them where a value decays geometrically with nothing to
 * renew it (a momentum or second moment whose gradient is exactly 0: a pixel that is 0 in every
 * image, a dead ReLU unit; a weight under decay; a softmax probability below FLT_MIN). Round to
 * nearest makes such a decay stick: 0.9 k ulp rounds back to k ulp for k <= 5, so the value stays
 * subnormal and slow for the rest of the run. Flushing in the code, rather than setting the CPU's
 * FTZ/DAZ bits, gives the same bytes on every CPU, in every thread and in WebAssembly (which has no
 * such bits), and leaves a program that embeds optlab its own floating-point environment.
 * A value below 1.2e-38 changes no sum it enters at float precision in practice; the tests check that
 * values that never underflow keep the written formula's bits. float64 (the analytic functions of
 * `optlab optimize`, checked against torch in float64) keeps IEEE gradual underflow: OL_FLUSH is the
 * identity there. */
#ifndef OPTLAB_FLUSH_H
#define OPTLAB_FLUSH_H

#include <float.h>
#include <math.h>

/* branch-free (a compare and a blend in vector loops); NaN and infinities pass */
static inline float ol_flush_f32(float v) { return fabsf(v) < FLT_MIN ? copysignf(0.0f, v) : v; }
static inline double ol_flush_none(double v) { return v; }

#endif
