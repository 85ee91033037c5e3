/* optim_kernels.h: the per-element update loops of every gradient optimizer, private to optim.c.
 *
 * Included twice by optim.c, with REAL = float, SUFFIX = f32 and REAL = double, SUFFIX = f64, so
 * float and double groups run the same code; state lives in the group's precision and every
 * scalar (lr, bias corrections, clip coefficient) arrives precomputed in `kargs` (double, once per
 * step) and is rounded to REAL once per call. Each loop is one pass over the group's memory: it
 * clamps g (clip-value), accumulates sum g^2 in double for the gradient norm, scales g (clip-norm),
 * adds coupled weight decay and updates state and x, all in the same iteration. The expressions
 * follow torch's order of operations (torch/optim/_functional) so double groups agree with torch
 * float64 to a few ulps per step. Loops are plain and branch-free so they vectorize (omp simd
 * under -fopenmp). Every state value stored goes through FLUSH, and x through FLUSH_X: float32
 * subnormals become 0 (flush.h, on why), float64 values stay as computed. The plain instantiation
 * leaves x as computed: without weight decay nothing pulls it geometrically towards 0, and each
 * flush costs about a tenth of the Adam loop. */

#ifndef OL_OPTIM_KERNELS_COMMON
#define OL_OPTIM_KERNELS_COMMON
#define OL_CAT_(a, b) a##_##b
#define OL_CAT(a, b) OL_CAT_(a, b)
#ifdef _OPENMP
#define OL_SIMD_SUM _Pragma("omp simd reduction(+:sumsq)")
#else
#define OL_SIMD_SUM
#endif
/* Loops with a sqrt: with errno semantics sqrt may write memory and cannot be vectorized, and an
 * omp simd loop that fails to vectorize runs about 2x slower than a plain one; so the pragma only
 * where the compiler was told -fno-math-errno. */
#if defined(_OPENMP) && defined(__NO_MATH_ERRNO__)
#define OL_SIMD_SUM_SQRT OL_SIMD_SUM
#else
#define OL_SIMD_SUM_SQRT
#endif
#endif

#define K(name) OL_CAT(name, SUFFIX)

#ifndef OL_PLAIN
/* g_i as the update sees it: clamped to [-clip, clip] (NaN passes), counted in sumsq, scaled by
 * the clip-norm coefficient, plus coupled weight decay. */
#define OL_GRAD(gi, i, xi)                                             \
    REAL gi = g[i];                                                    \
    gi = gi < -clip ? -clip : (gi > clip ? clip : gi);                 \
    sumsq += (double)gi * (double)gi;                                  \
    gi = gi * gscale + wd * (xi)

#define OL_COMMON_SCALARS                                              \
    const REAL clip = (REAL)a->clip, gscale = (REAL)a->gscale;         \
    const REAL wd = (REAL)a->wd, lr = (REAL)a->lr;                     \
    const REAL decay = (REAL)a->decay;                                 \
    double sumsq = 0;                                                  \
    (void)lr, (void)decay

/* adamw's decoupled decay of x */
#define OL_DECAY(xi) ((xi) * decay)
#else
/* The plain instantiation, for steps without clip-value, clip-norm scaling, coupled or decoupled
 * weight decay (the common case): g as it is. Same values as the full one with those settings
 * off (clamping to +-inf, *1, +0 x and *1 change nothing), except that an infinite x no longer
 * turns g into NaN through 0 x, as in torch, which skips those terms when they are off, and that x
 * is stored unflushed (FLUSH_X). */
#define OL_GRAD(gi, i, xi)                                             \
    REAL gi = g[i];                                                    \
    sumsq += (double)gi * (double)gi

#define OL_COMMON_SCALARS                                              \
    const REAL lr = (REAL)a->lr;                                       \
    double sumsq = 0;                                                  \
    (void)lr

#define OL_DECAY(xi) (xi)
#endif

/* x -= lr g */
static double K(kernel_gd)(REAL *restrict x, const REAL *restrict g, size_t n, const kargs *a) {
    OL_COMMON_SCALARS;
    OL_SIMD_SUM
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        x[i] = FLUSH_X(xi - lr * gi);
    }
    return sumsq;
}

/* b = cb b + cg g (cb = 0, cg = 1 on the first step: b = g); d = kg g + kb b; x -= lr d */
static double K(kernel_sgd)(REAL *restrict x, const REAL *restrict g, REAL *restrict b, size_t n,
                            const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL cb = (REAL)a->cb, cg = (REAL)a->cg, kg = (REAL)a->kg, kb = (REAL)a->kb;
    OL_SIMD_SUM
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL bi = FLUSH(b[i] * cb + cg * gi);
        b[i] = bi;
        x[i] = FLUSH_X(xi - lr * (kg * gi + kb * bi));
    }
    return sumsq;
}

/* w+ = w - lr g + beta (w - w_prev); w_prev = w */
static double K(kernel_heavyball)(REAL *restrict x, const REAL *restrict g, REAL *restrict prev, size_t n,
                                  const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL beta = (REAL)a->momentum;
    OL_SIMD_SUM
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        x[i] = FLUSH_X(xi - lr * gi + beta * (xi - prev[i]));
        prev[i] = xi;
    }
    return sumsq;
}

/* s += g^2; x -= clr g / (sqrt(s) + eps) */
static double K(kernel_adagrad)(REAL *restrict x, const REAL *restrict g, REAL *restrict s, size_t n,
                                const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL clr = (REAL)a->step_size, eps = (REAL)a->eps;
    OL_SIMD_SUM_SQRT
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL si = FLUSH(s[i] + gi * gi);
        s[i] = si;
        x[i] = FLUSH_X(xi - clr * (gi / (SQRT(si) + eps)));
    }
    return sumsq;
}

/* RMSprop: v = a v + (1-a) g^2; d = sqrt(v [- ga^2] + eps_in) + eps_out (eps_in = eps only with
 * eps_inside); x -= lr g / d, or with momentum b = mom b + g / d, x -= lr b. */
static double K(kernel_rmsprop)(REAL *restrict x, const REAL *restrict g, REAL *restrict v, size_t n,
                                const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL al = (REAL)a->alpha, omal = (REAL)a->oma, ein = (REAL)a->eps_in, eout = (REAL)a->eps;
    OL_SIMD_SUM_SQRT
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL vi = FLUSH(v[i] * al + omal * gi * gi);
        v[i] = vi;
        x[i] = FLUSH_X(xi - lr * (gi / (SQRT(vi + ein) + eout)));
    }
    return sumsq;
}

static double K(kernel_rmsprop_centered)(REAL *restrict x, const REAL *restrict g, REAL *restrict v,
                                         REAL *restrict ga, size_t n, const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL al = (REAL)a->alpha, omal = (REAL)a->oma, ein = (REAL)a->eps_in, eout = (REAL)a->eps;
    OL_SIMD_SUM_SQRT
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL vi = FLUSH(v[i] * al + omal * gi * gi), gai = FLUSH(ga[i] * al + omal * gi);
        v[i] = vi;
        ga[i] = gai;
        x[i] = FLUSH_X(xi - lr * (gi / (SQRT(vi - gai * gai + ein) + eout)));
    }
    return sumsq;
}

static double K(kernel_rmsprop_momentum)(REAL *restrict x, const REAL *restrict g, REAL *restrict v,
                                         REAL *restrict b, size_t n, const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL al = (REAL)a->alpha, omal = (REAL)a->oma, ein = (REAL)a->eps_in, eout = (REAL)a->eps;
    const REAL mom = (REAL)a->momentum;
    OL_SIMD_SUM_SQRT
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL vi = FLUSH(v[i] * al + omal * gi * gi);
        v[i] = vi;
        REAL bi = FLUSH(b[i] * mom + gi / (SQRT(vi + ein) + eout));
        b[i] = bi;
        x[i] = FLUSH_X(xi - lr * bi);
    }
    return sumsq;
}

static double K(kernel_rmsprop_centered_momentum)(REAL *restrict x, const REAL *restrict g, REAL *restrict v,
                                                  REAL *restrict ga, REAL *restrict b, size_t n,
                                                  const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL al = (REAL)a->alpha, omal = (REAL)a->oma, ein = (REAL)a->eps_in, eout = (REAL)a->eps;
    const REAL mom = (REAL)a->momentum;
    OL_SIMD_SUM_SQRT
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL vi = FLUSH(v[i] * al + omal * gi * gi), gai = FLUSH(ga[i] * al + omal * gi);
        v[i] = vi;
        ga[i] = gai;
        REAL bi = FLUSH(b[i] * mom + gi / (SQRT(vi - gai * gai + ein) + eout));
        b[i] = bi;
        x[i] = FLUSH_X(xi - lr * bi);
    }
    return sumsq;
}

/* Adam / AdamW: x *= decay (1 - lr wd for adamw, else 1); m = b1 m + (1-b1) g;
 * v = b2 v + (1-b2) g^2; x -= step_size m / (sqrt(v) / sqrt(bc2) + eps), step_size = lr / bc1 */
static double K(kernel_adam)(REAL *restrict x, const REAL *restrict g, REAL *restrict m, REAL *restrict v,
                             size_t n, const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL b1 = (REAL)a->beta1, omb1 = (REAL)a->omb1, b2 = (REAL)a->beta2, omb2 = (REAL)a->omb2;
    const REAL ss = (REAL)a->step_size, bc2s = (REAL)a->bc2_sqrt, eps = (REAL)a->eps;
    OL_SIMD_SUM_SQRT
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL mi = FLUSH(m[i] * b1 + omb1 * gi), vi = FLUSH(v[i] * b2 + omb2 * gi * gi);
        m[i] = mi;
        v[i] = vi;
        x[i] = FLUSH_X(OL_DECAY(xi) - ss * (mi / (SQRT(vi) / bc2s + eps)));
    }
    return sumsq;
}

/* AMSGrad: as Adam with vmax = max(vmax, v) in the denominator */
static double K(kernel_adam_amsgrad)(REAL *restrict x, const REAL *restrict g, REAL *restrict m,
                                     REAL *restrict v, REAL *restrict vmax, size_t n, const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL b1 = (REAL)a->beta1, omb1 = (REAL)a->omb1, b2 = (REAL)a->beta2, omb2 = (REAL)a->omb2;
    const REAL ss = (REAL)a->step_size, bc2s = (REAL)a->bc2_sqrt, eps = (REAL)a->eps;
    OL_SIMD_SUM_SQRT
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL mi = FLUSH(m[i] * b1 + omb1 * gi), vi = FLUSH(v[i] * b2 + omb2 * gi * gi);
        REAL vm = vmax[i] > vi ? vmax[i] : vi;
        m[i] = mi;
        v[i] = vi;
        vmax[i] = vm;
        x[i] = FLUSH_X(OL_DECAY(xi) - ss * (mi / (SQRT(vm) / bc2s + eps)));
    }
    return sumsq;
}

/* NAdam (torch >= 2.0): m, v as Adam; d = sqrt(v / bc2) + eps; x -= cg g / d + cm m / d with
 * cg = lr (1 - mu_t) / (1 - P_t), cm = lr mu_{t+1} / (1 - P_t mu_{t+1}) */
static double K(kernel_nadam)(REAL *restrict x, const REAL *restrict g, REAL *restrict m, REAL *restrict v,
                              size_t n, const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL b1 = (REAL)a->beta1, omb1 = (REAL)a->omb1, b2 = (REAL)a->beta2, omb2 = (REAL)a->omb2;
    const REAL bc2 = (REAL)a->bc2, eps = (REAL)a->eps, cg = (REAL)a->nadam_cg, cm = (REAL)a->nadam_cm;
    OL_SIMD_SUM_SQRT
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL mi = FLUSH(m[i] * b1 + omb1 * gi), vi = FLUSH(v[i] * b2 + omb2 * gi * gi);
        m[i] = mi;
        v[i] = vi;
        REAL d = SQRT(vi / bc2) + eps;
        x[i] = FLUSH_X(xi - cg * (gi / d) - cm * (mi / d));
    }
    return sumsq;
}

/* RAdam, rectified branch (r_t > 5): x -= (m / bc1) lr (sqrt(bc2) / (sqrt(v) + eps)) rect;
 * plain branch (rect = 0 marks it): x -= (m / bc1) lr */
static double K(kernel_radam)(REAL *restrict x, const REAL *restrict g, REAL *restrict m, REAL *restrict v,
                              size_t n, const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL b1 = (REAL)a->beta1, omb1 = (REAL)a->omb1, b2 = (REAL)a->beta2, omb2 = (REAL)a->omb2;
    const REAL bc1 = (REAL)a->bc1, bc2s = (REAL)a->bc2_sqrt, eps = (REAL)a->eps, rect = (REAL)a->rect;
    if (a->rect > 0) {
        OL_SIMD_SUM_SQRT
        for (size_t i = 0; i < n; i++) {
            REAL xi = x[i];
            OL_GRAD(gi, i, xi);
            REAL mi = FLUSH(m[i] * b1 + omb1 * gi), vi = FLUSH(v[i] * b2 + omb2 * gi * gi);
            m[i] = mi;
            v[i] = vi;
            x[i] = FLUSH_X(xi - mi / bc1 * lr * (bc2s / (SQRT(vi) + eps)) * rect);
        }
    } else {
        OL_SIMD_SUM
        for (size_t i = 0; i < n; i++) {
            REAL xi = x[i];
            OL_GRAD(gi, i, xi);
            REAL mi = FLUSH(m[i] * b1 + omb1 * gi), vi = FLUSH(v[i] * b2 + omb2 * gi * gi);
            m[i] = mi;
            v[i] = vi;
            x[i] = FLUSH_X(xi - mi / bc1 * lr);
        }
    }
    return sumsq;
}

/* Adadelta: v = rho v + (1-rho) g^2; delta = sqrt(u + eps) / sqrt(v + eps) g;
 * u = rho u + (1-rho) delta^2; x -= lr delta */
static double K(kernel_adadelta)(REAL *restrict x, const REAL *restrict g, REAL *restrict v, REAL *restrict u,
                                 size_t n, const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL rho = (REAL)a->alpha, omr = (REAL)a->oma, eps = (REAL)a->eps;
    OL_SIMD_SUM_SQRT
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL vi = FLUSH(v[i] * rho + omr * gi * gi);
        v[i] = vi;
        REAL delta = SQRT(u[i] + eps) / SQRT(vi + eps) * gi;
        u[i] = FLUSH(u[i] * rho + omr * delta * delta);
        x[i] = FLUSH_X(xi - lr * delta);
    }
    return sumsq;
}

/* Adamax: m = b1 m + (1-b1) g; u = max(b2 u, |g| + eps) (NaN wins, as torch.amax);
 * x -= step_size m / u, step_size = lr / bc1 */
static double K(kernel_adamax)(REAL *restrict x, const REAL *restrict g, REAL *restrict m, REAL *restrict u,
                               size_t n, const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL b1 = (REAL)a->beta1, omb1 = (REAL)a->omb1, b2 = (REAL)a->beta2, eps = (REAL)a->eps;
    const REAL ss = (REAL)a->step_size;
    OL_SIMD_SUM
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL mi = FLUSH(m[i] * b1 + omb1 * gi);
        REAL decayed = u[i] * b2, fresh = (gi < 0 ? -gi : gi) + eps;
        REAL ui = FLUSH(decayed > fresh || decayed != decayed ? decayed : fresh);
        m[i] = mi;
        u[i] = ui;
        x[i] = FLUSH_X(xi - ss * (mi / ui));
    }
    return sumsq;
}

/* ASGD: x = x shrink - eta g (shrink = 1 - lambd eta); ax += (x - ax) mu, or ax = x when mu = 1 */
static double K(kernel_asgd)(REAL *restrict x, const REAL *restrict g, REAL *restrict ax, size_t n,
                             const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL shrink = (REAL)a->shrink, eta = (REAL)a->eta, mu = (REAL)a->mu;
    const int copy = a->mu == 1;
    OL_SIMD_SUM
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL xn = FLUSH_X(xi * shrink - eta * gi);
        x[i] = xn;
        ax[i] = FLUSH(copy ? xn : ax[i] + (xn - ax[i]) * mu);
    }
    return sumsq;
}

/* Rprop: s = clamp(s f, step_min, step_max) with f = eta_plus where g prev > 0, eta_minus where
 * < 0, else 1 (NaN too: torch's sign(NaN) is 0); where g prev < 0 the gradient counts as 0 (no
 * move, prev = 0); x -= sign(g) s; prev = g */
static double K(kernel_rprop)(REAL *restrict x, const REAL *restrict g, REAL *restrict prev, REAL *restrict s,
                              size_t n, const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL ep = (REAL)a->eta_plus, em = (REAL)a->eta_minus, lo = (REAL)a->step_min, hi = (REAL)a->step_max;
    OL_SIMD_SUM
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL prod = gi * prev[i];
        REAL f = prod > 0 ? ep : prod < 0 ? em : (REAL)1;
        REAL si = s[i] * f;
        si = FLUSH(si < lo ? lo : si > hi ? hi : si);
        REAL gz = prod < 0 ? (REAL)0 : gi;
        REAL sign = (REAL)((gz > 0) - (gz < 0));
        s[i] = si;
        prev[i] = FLUSH(gz);
        x[i] = FLUSH_X(xi - sign * si);
    }
    return sumsq;
}

#include "optim_modern_kernels.h"

/* The update of n elements of a group; returns their sum of squared (value-clipped) gradients.
 * The group's state buffers lie `stride` elements apart (st, st + stride, ...): a chunk of a group
 * passes pointers offset into each and its own n. */
static double K(update_group)(int kind, const ol_optim_params *p, REAL *x, const REAL *g, REAL *st, size_t n,
                              size_t stride, const kargs *a) {
    switch (kind) {
    case OL_OPTIM_GD: return K(kernel_gd)(x, g, n, a);
    case OL_OPTIM_SGD: return p->momentum != 0 ? K(kernel_sgd)(x, g, st, n, a) : K(kernel_gd)(x, g, n, a);
    case OL_OPTIM_HEAVYBALL: return K(kernel_heavyball)(x, g, st, n, a);
    case OL_OPTIM_ADAGRAD: return K(kernel_adagrad)(x, g, st, n, a);
    case OL_OPTIM_RMSPROP:
        if (p->centered && p->momentum > 0)
            return K(kernel_rmsprop_centered_momentum)(x, g, st, st + stride, st + 2 * stride, n, a);
        if (p->centered) return K(kernel_rmsprop_centered)(x, g, st, st + stride, n, a);
        if (p->momentum > 0) return K(kernel_rmsprop_momentum)(x, g, st, st + stride, n, a);
        return K(kernel_rmsprop)(x, g, st, n, a);
    case OL_OPTIM_ADAM:
    case OL_OPTIM_ADAMW:
        if (p->amsgrad) return K(kernel_adam_amsgrad)(x, g, st, st + stride, st + 2 * stride, n, a);
        return K(kernel_adam)(x, g, st, st + stride, n, a);
    case OL_OPTIM_NADAM: return K(kernel_nadam)(x, g, st, st + stride, n, a);
    case OL_OPTIM_RADAM: return K(kernel_radam)(x, g, st, st + stride, n, a);
    case OL_OPTIM_ADADELTA: return K(kernel_adadelta)(x, g, st, st + stride, n, a);
    case OL_OPTIM_ADAMAX: return K(kernel_adamax)(x, g, st, st + stride, n, a);
    case OL_OPTIM_ASGD: return K(kernel_asgd)(x, g, st, n, a);
    case OL_OPTIM_RPROP: return K(kernel_rprop)(x, g, st, st + stride, n, a);
    case OL_OPTIM_LION: return K(kernel_lion)(x, g, st, n, a);
    case OL_OPTIM_SF_SGD: return K(kernel_sf_sgd)(x, g, st, st + stride, n, a);
    case OL_OPTIM_SF_ADAMW: return K(kernel_sf_adamw)(x, g, st, st + stride, st + 2 * stride, n, a);
    default: return 0;
    }
}

#ifndef OL_PLAIN
/* sum of squared gradients after clamping to [-clip, clip] (the clip-norm pre-pass) */
/* The sum in an order fixed by n alone: 8 running sums (element i in sum i mod 8), then added in
 * lane order (below 8 elements: the plain order); the same bits whatever the vector width (an omp
 * simd reduction's order follows it, and the WebAssembly build, without OpenMP, summed in plain
 * order: --clip-norm's runs differed in the last bits), and it still vectorizes. */
static double K(grad_sumsq)(const REAL *restrict g, size_t n, double clip_d) {
    const REAL clip = (REAL)clip_d;
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) {
            REAL gi = g[i + l];
            gi = gi < -clip ? -clip : (gi > clip ? clip : gi);
            acc[l] += (double)gi * (double)gi;
        }
    for (int l = 0; i < n; i++, l++) {
        REAL gi = g[i];
        gi = gi < -clip ? -clip : (gi > clip ? clip : gi);
        acc[l] += (double)gi * (double)gi;
    }
    double sumsq = 0;
    for (int l = 0; l < 8; l++) sumsq += acc[l];
    return sumsq;
}
#endif

#undef K
#undef OL_GRAD
#undef OL_COMMON_SCALARS
#undef OL_DECAY
