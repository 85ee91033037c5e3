/* optim_layerwise.h: the update of one tensor for the kinds with a trust ratio per tensor (lamb,
 * lars), private to optim_modern.c, which includes it with REAL = float, SUFFIX = f32 and REAL =
 * double, SUFFIX = f64. Two passes over the tensor: the first updates the state, forms the update
 * u and sums ||x||^2 and ||u||^2 in double (in element order: the same bytes at any thread count);
 * the second recomputes u from the same values (the same bits) and moves x by lr r u. No scratch
 * memory. Clip-value, the gradient's sum of squares and the clip-norm scale as in optim_kernels.h;
 * state through FLUSH, x through FLUSH_X. Returns the tensor's sum of squared clipped gradients. */

#define LW_CAT_(a, b) a##_##b
#define LW_CAT(a, b) LW_CAT_(a, b)
#define LW(name) LW_CAT(name, SUFFIX)

/* g_i clamped to [-clip, clip], then scaled by the clip-norm coefficient */
#define LW_GRAD(i) (((g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]))) * gscale)

static double LW(ratio)(double pn2, double un2, double coef, double eps) {
    /* optax's scale_by_trust_ratio: 1 where either norm is 0 */
    if (pn2 == 0 || un2 == 0) return 1;
    return coef * sqrt(pn2) / (sqrt(un2) + eps);
}

/* LAMB (You et al. 2019; optax.lamb): m, v as adam; u = (m / bc1) / (sqrt(v / bc2) + eps) + wd x;
 * x -= lr (u r), r = ||x|| / ||u|| */
static double LW(lamb_tensor)(REAL *restrict x, const REAL *restrict g, REAL *restrict m, REAL *restrict v, size_t n,
                              const kargs *a) {
    const REAL clip = (REAL)a->clip, gscale = (REAL)a->gscale, wd = (REAL)a->wd, lr = (REAL)a->lr;
    const REAL b1 = (REAL)a->beta1, omb1 = (REAL)a->omb1, b2 = (REAL)a->beta2, omb2 = (REAL)a->omb2;
    const REAL bc1 = (REAL)a->bc1, bc2 = (REAL)a->bc2, eps = (REAL)a->eps;
    double sumsq = 0, pn2 = 0, un2 = 0;
    for (size_t i = 0; i < n; i++) {
        REAL gc = g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]);
        sumsq += (double)gc * (double)gc;
        REAL gi = gc * gscale;
        REAL mi = FLUSH(m[i] * b1 + omb1 * gi), vi = FLUSH(v[i] * b2 + omb2 * gi * gi);
        m[i] = mi;
        v[i] = vi;
        REAL ui = (mi / bc1) / (SQRT(vi / bc2) + eps) + wd * x[i];
        pn2 += (double)x[i] * (double)x[i];
        un2 += (double)ui * (double)ui;
    }
    const REAL r = (REAL)LW(ratio)(pn2, un2, 1, 0);
    for (size_t i = 0; i < n; i++) {
        REAL ui = (m[i] / bc1) / (SQRT(v[i] / bc2) + eps) + wd * x[i];
        x[i] = FLUSH_X(x[i] - lr * (ui * r));
    }
    return sumsq;
}

/* LARS (You et al. 2017; optax.lars): u = g + wd x; r = trust ||x|| / (||u|| + eps);
 * m = momentum m + u r; x -= lr m */
static double LW(lars_tensor)(REAL *restrict x, const REAL *restrict g, REAL *restrict m, size_t n, const kargs *a) {
    const REAL clip = (REAL)a->clip, gscale = (REAL)a->gscale, wd = (REAL)a->wd, lr = (REAL)a->lr;
    const REAL mom = (REAL)a->momentum;
    double sumsq = 0, pn2 = 0, un2 = 0;
    for (size_t i = 0; i < n; i++) {
        REAL gc = g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]);
        sumsq += (double)gc * (double)gc;
        REAL ui = gc * gscale + wd * x[i];
        pn2 += (double)x[i] * (double)x[i];
        un2 += (double)ui * (double)ui;
    }
    const REAL r = (REAL)LW(ratio)(pn2, un2, a->trust, a->eps);
    for (size_t i = 0; i < n; i++) {
        REAL ui = LW_GRAD(i) + wd * x[i];
        REAL mi = FLUSH(ui * r + mom * m[i]);
        m[i] = mi;
        x[i] = FLUSH_X(x[i] - lr * mi);
    }
    return sumsq;
}

/* every tensor of the group in order (one: the whole group when none were declared) */
static double LW(layerwise_group)(int kind, group *gr, const kargs *a) {
    REAL *x = gr->x, *st = gr->state;
    const REAL *g = gr->g;
    int nt = gr->n_tensors ? gr->n_tensors : 1;
    double sumsq = 0;
    size_t off = 0;
    for (int t = 0; t < nt; t++) {
        size_t len = gr->n_tensors ? gr->tensors[2 * t] * gr->tensors[2 * t + 1] : gr->n;
        if (kind == OL_OPTIM_LAMB) sumsq += LW(lamb_tensor)(x + off, g + off, st + off, st + gr->n + off, len, a);
        else sumsq += LW(lars_tensor)(x + off, g + off, st + off, len, a);
        off += len;
    }
    return sumsq;
}

#undef LW
#undef LW_GRAD
#undef LW_CAT
#undef LW_CAT_
