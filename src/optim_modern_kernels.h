/* optim_modern_kernels.h: the per-element loops of issue 19's modern optimizers (lion, sf-sgd,
 * sf-adamw), included by optim_kernels.h inside its float/double (and plain) instantiations: the
 * same REAL, K(), OL_GRAD, FLUSH conventions; the scalars come from optim_modern.c. The formulas and
 * their sources are in include/optlab/optim.h. */

/* Lion (Chen et al. 2023, Algorithm 2): c = b1 m + (1-b1) g; x = x (1 - lr wd) - lr sign(c);
 * m = b2 m + (1-b2) g. sign(0) = 0; a NaN c passes into x (as torch.sign). */
static double K(kernel_lion)(REAL *restrict x, const REAL *restrict g, REAL *restrict m, size_t n,
                             const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL b1 = (REAL)a->beta1, omb1 = (REAL)a->omb1, b2 = (REAL)a->beta2, omb2 = (REAL)a->omb2;
    OL_SIMD_SUM
    for (size_t i = 0; i < n; i++) {
        REAL xi = x[i];
        OL_GRAD(gi, i, xi);
        REAL ci = m[i] * b1 + omb1 * gi;
        REAL sign = ci > 0 ? (REAL)1 : ci < 0 ? (REAL)-1 : ci;
        x[i] = FLUSH_X(OL_DECAY(xi) - lr * sign);
        m[i] = FLUSH(m[i] * b2 + omb2 * gi);
    }
    return sumsq;
}

/* Schedule-free (Defazio et al. 2024, the reference's simplified form): the parameters are y, the
 * gradient is taken at y; z -= step; x = (1 - c) x + c z; y = b x + (1 - b) z. sf-sgd: step =
 * lr g (coupled weight decay in g). sf-adamw: z -= lr wd y first (decoupled, at y), then
 * v = b2 v + (1-b2) g^2, step = lr g / (sqrt(v) + eps) (lr carries sqrt(1 - b2^t)). */
static double K(kernel_sf_sgd)(REAL *restrict x, const REAL *restrict g, REAL *restrict z, REAL *restrict xa,
                               size_t n, const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL c = (REAL)a->sf_c, omc = (REAL)a->sf_omc, b = (REAL)a->momentum, omb = (REAL)a->oma;
    OL_SIMD_SUM
    for (size_t i = 0; i < n; i++) {
        OL_GRAD(gi, i, x[i]);
        REAL zi = FLUSH(z[i] - lr * gi);
        REAL xai = FLUSH(xa[i] * omc + zi * c);
        z[i] = zi;
        xa[i] = xai;
        x[i] = FLUSH(xai * b + zi * omb);
    }
    return sumsq;
}

static double K(kernel_sf_adamw)(REAL *restrict x, const REAL *restrict g, REAL *restrict z, REAL *restrict xa,
                                 REAL *restrict v, size_t n, const kargs *a) {
    OL_COMMON_SCALARS;
    const REAL c = (REAL)a->sf_c, omc = (REAL)a->sf_omc, b = (REAL)a->beta1, omb = (REAL)a->omb1;
    const REAL b2 = (REAL)a->beta2, omb2 = (REAL)a->omb2, eps = (REAL)a->eps, zd = (REAL)a->sf_zdecay;
    OL_SIMD_SUM_SQRT
    for (size_t i = 0; i < n; i++) {
        REAL yi = x[i];
        OL_GRAD(gi, i, yi);
        REAL vi = FLUSH(v[i] * b2 + omb2 * gi * gi);
        REAL zi = FLUSH((z[i] - zd * yi) - lr * (gi / (SQRT(vi) + eps)));
        REAL xai = FLUSH(xa[i] * omc + zi * c);
        v[i] = vi;
        z[i] = zi;
        xa[i] = xai;
        x[i] = FLUSH(xai * b + zi * omb);
    }
    return sumsq;
}
