/* optim_layerwise.h: the update of one tensor for the kinds that need a tensor's norms or shape
 * (lamb, lars: a trust ratio per tensor; adafactor: factored second moments; muon: Newton-Schulz), private to optim_modern.c, which includes it with REAL = float, SUFFIX = f32 and REAL =
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

/* torch's lerp: a + w (b - a) for w < 0.5, else b - (b - a) (1 - w) */
static REAL LW(lerp)(REAL a, REAL b, REAL w) { return w < (REAL)0.5 ? a + w * (b - a) : b - (b - a) * ((REAL)1 - w); }

/* Adafactor as torch >= 2.5's _single_tensor_adafactor: alpha = max(eps2, ||x|| / sqrt(n)) rho_t
 * (rho_t = min(lr, 1 / sqrt(t)), ||x|| before the decay); x *= 1 - lr wd; a rows x cols tensor with
 * both >= 2 keeps row and column means of g^2 (r, c: its first rows + cols slots of s), lerped
 * towards this step's by 1 - beta2_t = t^beta2_decay, and estimates v = r c^T / max(mean(r), eps1);
 * a vector keeps v itself; u = g / sqrt(max(v, eps1^2)); x -= alpha / max(1, ||u|| / (sqrt(n) d)) u */
static double LW(adafactor_tensor)(REAL *restrict x, const REAL *restrict g, REAL *restrict s, size_t rows,
                                   size_t cols, const kargs *a) {
    const REAL clip = (REAL)a->clip, gscale = (REAL)a->gscale, w = (REAL)a->omb2, decay = (REAL)a->decay;
    const size_t n = rows * cols;
    const int factored = rows >= 2 && cols >= 2;
    const REAL eps1 = (REAL)a->eps, eps1sq = eps1 * eps1;
    double sumsq = 0, pn2 = 0, un2 = 0;
    for (size_t i = 0; i < n; i++) {
        REAL gc = g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]);
        sumsq += (double)gc * (double)gc;
        pn2 += (double)x[i] * (double)x[i];
    }
    double alpha_d = fmax(a->eps2, sqrt(pn2) / sqrt((double)n)) * a->rho;
    REAL *r = s, *c = s + rows, rmean = 0;
    if (factored) {
        double rsum = 0;
        for (size_t i = 0; i < rows; i++) {
            double ss = 0;
            for (size_t j = 0; j < cols; j++) {
                REAL gi = LW_GRAD(i * cols + j);
                ss += (double)gi * (double)gi;
            }
            r[i] = FLUSH(LW(lerp)(r[i], (REAL)(ss / (double)cols), w));
            rsum += r[i];
        }
        for (size_t j = 0; j < cols; j++) {
            double ss = 0;
            for (size_t i = 0; i < rows; i++) {
                REAL gi = LW_GRAD(i * cols + j);
                ss += (double)gi * (double)gi;
            }
            c[j] = FLUSH(LW(lerp)(c[j], (REAL)(ss / (double)rows), w));
        }
        rmean = (REAL)(rsum / (double)rows);
        if (rmean < eps1) rmean = eps1;
    } else
        for (size_t i = 0; i < n; i++) {
            REAL gi = LW_GRAD(i);
            s[i] = FLUSH(LW(lerp)(s[i], gi * gi, w));
        }
    /* u_i = g_i / sqrt(max(v_i, eps1^2)), twice: for its norm, then for the step */
#define LW_U(i) (LW_GRAD(i) * ((REAL)1 / SQRT(LW_V(i) > eps1sq ? LW_V(i) : eps1sq)))
#define LW_V(i) (factored ? r[(i) / cols] * c[(i) % cols] / rmean : s[i])
    for (size_t i = 0; i < n; i++) {
        REAL ui = LW_U(i);
        un2 += (double)ui * (double)ui;
    }
    double denom = fmax(1.0, sqrt(un2) / (sqrt((double)n) * a->d));
    const REAL step = (REAL)(alpha_d / denom);
    for (size_t i = 0; i < n; i++) x[i] = FLUSH_X(x[i] * decay - step * LW_U(i));
#undef LW_U
#undef LW_V
    return sumsq;
}

/* Muon (torch >= 2.9's torch.optim.Muon) on a rows x cols (fan_in x fan_out) tensor with both >= 2:
 * b = lerp(b, g, 1 - momentum); u = lerp(g, b, momentum) (nesterov) or b; O = the Newton-Schulz
 * orthogonalization of u (in double; torch runs it in bfloat16): X = u, or its transpose so that
 * X is k x K with k <= K; X /= max(||X||, eps); ns_steps times X = a X + (b A + c A A) X, A = X X^T;
 * x *= 1 - lr wd; x -= lr sqrt(max(1, fan_out / fan_in)) O. Other tensors: AdamW (m, v). */
static double LW(muon_tensor)(REAL *restrict x, const REAL *restrict g, REAL *restrict b, REAL *restrict v, size_t rows,
                              size_t cols, double *ns, const kargs *a) {
    const REAL clip = (REAL)a->clip, gscale = (REAL)a->gscale, decay = (REAL)a->decay, lr = (REAL)a->lr;
    const size_t n = rows * cols;
    double sumsq = 0;
    for (size_t i = 0; i < n; i++) {
        REAL gc = g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]);
        sumsq += (double)gc * (double)gc;
    }
    if (rows < 2 || cols < 2 || !ns) {   /* AdamW, as torch's for the parameters Muon does not take */
        const REAL b1 = (REAL)a->beta1, omb1 = (REAL)a->omb1, b2 = (REAL)a->beta2, omb2 = (REAL)a->omb2;
        const REAL ss = (REAL)(a->lr / a->bc1), bc2s = (REAL)a->bc2_sqrt, eps = (REAL)a->eps;
        for (size_t i = 0; i < n; i++) {
            REAL gi = LW_GRAD(i);
            REAL mi = FLUSH(b[i] * b1 + omb1 * gi), vi = FLUSH(v[i] * b2 + omb2 * gi * gi);
            b[i] = mi;
            v[i] = vi;
            x[i] = FLUSH_X(x[i] * decay - ss * (mi / (SQRT(vi) / bc2s + eps)));
        }
        return sumsq;
    }
    const REAL mu = (REAL)a->momentum, omm = (REAL)a->oma;
    const int tr = rows > cols;   /* X = u^T: X is k x K, k = min(rows, cols) */
    const size_t k = tr ? cols : rows, K = tr ? rows : cols;
    double *X = ns, *Y = ns + n, *A = ns + 2 * n, *B = A + k * k, norm2 = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            size_t e = i * cols + j;
            REAL gi = LW_GRAD(e);
            REAL bi = FLUSH(LW(lerp)(b[e], gi, omm));
            b[e] = bi;
            REAL ui = a->nesterov ? LW(lerp)(gi, bi, mu) : bi;
            X[tr ? j * K + i : e] = (double)ui;
            norm2 += (double)ui * (double)ui;
        }
    double scale = 1 / fmax(sqrt(norm2), a->ns_eps);
    for (size_t e = 0; e < n; e++) X[e] *= scale;
    for (long s = 0; s < a->ns_steps; s++) {
        for (size_t i = 0; i < k; i++)   /* A = X X^T */
            for (size_t j = 0; j < k; j++) {
                double acc = 0;
                for (size_t l = 0; l < K; l++) acc += X[i * K + l] * X[j * K + l];
                A[i * k + j] = acc;
            }
        for (size_t i = 0; i < k; i++)   /* B = b A + c A A */
            for (size_t j = 0; j < k; j++) {
                double acc = 0;
                for (size_t l = 0; l < k; l++) acc += A[i * k + l] * A[l * k + j];
                B[i * k + j] = a->ns_b * A[i * k + j] + a->ns_c * acc;
            }
        for (size_t i = 0; i < k; i++)   /* Y = a X + B X */
            for (size_t j = 0; j < K; j++) {
                double acc = 0;
                for (size_t l = 0; l < k; l++) acc += B[i * k + l] * X[l * K + j];
                Y[i * K + j] = a->ns_a * X[i * K + j] + acc;
            }
        double *t = X;
        X = Y;
        Y = t;
    }
    const REAL step = (REAL)(a->lr * sqrt(fmax(1.0, (double)cols / (double)rows)));
    (void)lr;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            size_t e = i * cols + j;
            x[e] = FLUSH_X(x[e] * decay - step * (REAL)X[tr ? j * K + i : e]);
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
        size_t rows = gr->n_tensors ? gr->tensors[2 * t] : gr->n, cols = gr->n_tensors ? gr->tensors[2 * t + 1] : 1;
        size_t len = rows * cols;
        if (kind == OL_OPTIM_ADAFACTOR) sumsq += LW(adafactor_tensor)(x + off, g + off, st + off, rows, cols, a);
        else if (kind == OL_OPTIM_MUON)
            sumsq += LW(muon_tensor)(x + off, g + off, st + off, st + gr->n + off, rows, cols, gr->ns_scratch, a);
        else if (kind == OL_OPTIM_LAMB) sumsq += LW(lamb_tensor)(x + off, g + off, st + off, st + gr->n + off, len, a);
        else sumsq += LW(lars_tensor)(x + off, g + off, st + off, len, a);
        off += len;
    }
    return sumsq;
}

#undef LW
#undef LW_GRAD
#undef LW_CAT
#undef LW_CAT_
