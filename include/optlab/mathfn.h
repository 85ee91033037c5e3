/* mathfn.h: optlab's own exp, log, pow, sin, cos and tanh, and float exp, log and tanh
 * (src/mathfn.c), for the numbers of `optlab optimize`, `optlab train` and the report's panels:
 * the training's softmax and activations, the analytic functions (rastrigin's cos and its
 * gradient's sin, the quadratic's curvatures), the optimizers' bias corrections, the schedules and
 * random search's normal draws. The C library's versions differ between builds (glibc natively,
 * wasi-libc's in the WebAssembly build round some results differently, enough to change a run's
 * trace after a few steps); these are the same code in every build, made of IEEE additions,
 * multiplications and integer operations only (no FMA, no libm call), so every build gives the
 * same bits: the page's run is the command's run to the last digit.
 *
 * Accuracy: within 0.51 ulp of the exact value (measured against 128-bit references in
 * tests/test_mathfn.c; a hair above correct rounding, like glibc's), for every finite argument:
 * sin and cos reduce huge arguments exactly (Payne-Hanek). Special values follow C99 Annex F
 * (pow(x, 0) = 1, pow(-8, 1/3.) = NaN, log(0) = -inf, ...); a NaN result is the positive quiet
 * NaN, or the NaN argument itself. */
#ifndef OPTLAB_MATHFN_H
#define OPTLAB_MATHFN_H

double ol_math_exp(double x);
double ol_math_log(double x);
double ol_math_pow(double x, double y);
double ol_math_sin(double x);
double ol_math_cos(double x);

/* The training's (issue 18): the float kernels' exp, log and tanh (the softmax, the activations)
 * and the double ones' tanh, so that a model trained in the page is the command's to the bit.
 * The float ones compute in double and round once at the end (within 0.5 ulp and a hair; measured
 * in tests/test_mathfn.c); ol_math_tanh in two doubles (within 0.51 ulp). */
float ol_math_expf(float x);
float ol_math_logf(float x);
float ol_math_tanhf(float x);
double ol_math_tanh(double x);

#endif
