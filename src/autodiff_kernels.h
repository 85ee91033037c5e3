/* autodiff_kernels.h: forward and backward of every op, side by side, written once for a REAL
 * type and included twice by autodiff.c (float with SUF f32, double with SUF f64).
 * Each backward accumulates (+=) into its inputs' gradients. Element-wise loops run in parallel
 * (element-wise results do not depend on the split); reductions run serially in a fixed order
 * with double accumulators, so the result is the same whatever the thread count. */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SUF)
#define PAR_MIN 32768 /* below this many elements, threads cost more than they save */
/* for (T i = 0; i < n; i++) body, in parallel when cond holds. A plain branch, not OpenMP's if
 * clause: that one still opens a one-thread team (a futex round trip) on every call. */
#define PAR_FOR(cond, T, i, n, ...)                                                      \
    do {                                                                                 \
        if (cond) {                                                                      \
            _Pragma("omp parallel for schedule(static)") for (T i = 0; i < (n); i++) __VA_ARGS__ \
        } else {                                                                         \
            for (T i = 0; i < (n); i++) __VA_ARGS__                                      \
        }                                                                                \
    } while (0)
/* The same for branch-free arithmetic bodies without calls, vectorized (no effect on the values:
 * element-wise, no reduction) */
#define PAR_FOR_SIMD(cond, T, i, n, ...)                                                 \
    do {                                                                                 \
        if (cond) {                                                                      \
            _Pragma("omp parallel for simd schedule(static)") for (T i = 0; i < (n); i++) __VA_ARGS__ \
        } else {                                                                         \
            _Pragma("omp simd") for (T i = 0; i < (n); i++) __VA_ARGS__                  \
        }                                                                                \
    } while (0)

static void FN(gemm)(int ta, int tb, int m, int n, int k, REAL alpha, const REAL *a, const REAL *b,
                     REAL beta, REAL *c) {
    GEMM(ta, tb, m, n, k, alpha, a, b, beta, c);
}

static REAL FN(act_fwd)(int act, REAL x) {
    switch (act) {
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_TANH: return R_TANH(x);
    case ACT_SIGMOID: {
        if (x >= 0) return 1 / (1 + R_EXP(-x));
        REAL e = R_EXP(x);
        return e / (1 + e);
    }
    default: return x;
    }
}

/* d act / d x expressed through the output y */
static REAL FN(act_dfdy)(int act, REAL y) {
    switch (act) {
    case ACT_RELU: return y > 0 ? 1 : 0;
    case ACT_TANH: return 1 - y * y;
    case ACT_SIGMOID: return y * (1 - y);
    default: return 1;
    }
}

/* column sums of d (rows, cols) added into out (cols), in row order: the bias gradient of a row
 * broadcast */
static void FN(add_colsums)(REAL *restrict out, const REAL *restrict d, int rows, int cols) {
    for (int i = 0; i < rows; i++) {
        const REAL *restrict row = d + (size_t)i * cols;
        _Pragma("omp simd") for (int j = 0; j < cols; j++) out[j] += row[j];
    }
}

/* y = f(y + bias) over (rows, cols), bias a row (may be NULL); one loop per activation so that
 * relu and the identity vectorize (tanh and sigmoid stay scalar calls: same bits as the plain op) */
static void FN(bias_act)(REAL *y, const REAL *bias, int rows, int cols, int act) {
    long size = (long)rows * cols;
    if (act == ACT_RELU) {
        PAR_FOR(size > PAR_MIN, int, i, rows, {
            REAL *restrict row = y + (size_t)i * cols;
            if (bias) {
                _Pragma("omp simd") for (int j = 0; j < cols; j++) {
                    REAL v = row[j] + bias[j];
                    row[j] = v > 0 ? v : 0;
                }
            } else {
                _Pragma("omp simd") for (int j = 0; j < cols; j++) row[j] = row[j] > 0 ? row[j] : 0;
            }
        });
    } else if (act == ACT_NONE) {
        if (!bias) return;
        PAR_FOR(size > PAR_MIN, int, i, rows, {
            REAL *restrict row = y + (size_t)i * cols;
            _Pragma("omp simd") for (int j = 0; j < cols; j++) row[j] += bias[j];
        });
    } else {
        PAR_FOR(size > PAR_MIN, int, i, rows, {
            REAL *row = y + (size_t)i * cols;
            for (int j = 0; j < cols; j++) row[j] = R_FLUSH(FN(act_fwd)(act, bias ? row[j] + bias[j] : row[j]));
        });
    }
}

/* d = dy f'(.) written through y, one loop per activation as above (tanh and sigmoid flush
 * float32 subnormals, flush.h, as their forward does) */
static void FN(act_grad)(REAL *restrict d, const REAL *restrict dy, const REAL *restrict y, long size, int act) {
    if (act == ACT_RELU) {
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { d[i] = y[i] > 0 ? dy[i] : 0; });
    } else {
        PAR_FOR(size > PAR_MIN, long, i, size, { d[i] = R_FLUSH(dy[i] * FN(act_dfdy)(act, y[i])); });
    }
}

static int FN(forward)(ol_graph *g, ol_node *n) {
    ol_node *A = n->a >= 0 ? &g->nodes[n->a] : NULL, *B = n->b >= 0 ? &g->nodes[n->b] : NULL;
    REAL *y = n->value;
    const REAL *a = A ? A->value : NULL, *b = B ? B->value : NULL;
    long size = (long)n->rows * n->cols, na = A ? (long)A->rows * A->cols : 0;
    int cols = n->cols;
    switch (n->op) {
    case OP_INPUT:
    case OP_PARAM:
        return 0;
    case OP_MATMUL:
        FN(gemm)(0, 0, A->rows, B->cols, A->cols, 1, a, b, 0, y);
        return 0;
    case OP_ADD:
    case OP_SUB:
    case OP_MUL: {
        int op = n->op;
        PAR_FOR(size > PAR_MIN, long, i, size, {
            REAL bv = b[n->bcast ? i % cols : i];
            y[i] = op == OP_ADD ? a[i] + bv : op == OP_SUB ? a[i] - bv : a[i] * bv;
        });
        return 0;
    }
    case OP_SCALE: {
        REAL s = (REAL)n->s;
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { y[i] = s * a[i]; });
        return 0;
    }
    case OP_SHIFT: {
        REAL s = (REAL)n->s;
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { y[i] = a[i] + s; });
        return 0;
    }
    case OP_RELU:
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { y[i] = a[i] > 0 ? a[i] : 0; });
        return 0;
    case OP_TANH:
    case OP_SIGMOID: {
        int act = n->op == OP_TANH ? ACT_TANH : ACT_SIGMOID;
        PAR_FOR(size > PAR_MIN, long, i, size, { y[i] = FN(act_fwd)(act, a[i]); });
        return 0;
    }
    case OP_EXP:
        PAR_FOR(size > PAR_MIN, long, i, size, { y[i] = R_EXP(a[i]); });
        return 0;
    case OP_LOG:
        PAR_FOR(size > PAR_MIN, long, i, size, { y[i] = R_LOG(a[i]); });
        return 0;
    case OP_SQUARE:
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { y[i] = a[i] * a[i]; });
        return 0;
    case OP_COS:
        PAR_FOR(size > PAR_MIN, long, i, size, { y[i] = R_COS(a[i]); });
        return 0;
    case OP_SUM:
    case OP_MEAN: {
        double acc = 0;
        for (long i = 0; i < na; i++) acc += a[i];
        y[0] = (REAL)(n->op == OP_MEAN ? acc / (double)na : acc);
        return 0;
    }
    case OP_MSE: {
        double acc = 0;
        for (long i = 0; i < na; i++) {
            double d = (double)a[i] - (double)b[i];
            acc += d * d;
        }
        y[0] = (REAL)(acc / (double)na);
        return 0;
    }
    case OP_XENT: {
        int rows = A->rows, k = A->cols;
        REAL *p = n->aux;
        for (int i = 0; i < rows; i++)
            if (n->labels[i] < 0 || n->labels[i] >= k)
                return ol_fail(OL_EARG, "label %d of example %d is outside the model's %d classes",
                               (int)n->labels[i], i, k);
        double *row_loss = n->aux2; /* loss_i = log sum exp(z - m) - (z_y - m) */
        PAR_FOR((long)rows * k > PAR_MIN, int, i, rows, {
            const REAL *z = a + (size_t)i * k;
            REAL *pi = p + (size_t)i * k;
            REAL m = z[0];
            for (int j = 1; j < k; j++) m = z[j] > m ? z[j] : m;
            REAL sum = 0;
            for (int j = 0; j < k; j++) sum += (pi[j] = R_EXP(z[j] - m));
            row_loss[i] = log((double)sum) - (double)(z[n->labels[i]] - m);
            REAL inv = 1 / sum;
            for (int j = 0; j < k; j++) pi[j] *= inv;
        });
        double acc = 0; /* summed in row order */
        for (int i = 0; i < rows; i++) acc += row_loss[i];
        y[0] = (REAL)(acc / rows);
        return 0;
    }
    case OP_LINEAR: {
        const REAL *bias = n->c >= 0 ? g->nodes[n->c].value : NULL;
        int act = n->act;
        FN(gemm)(0, 0, A->rows, B->cols, A->cols, 1, a, b, 0, y);
        FN(bias_act)(y, bias, n->rows, cols, act);
        return 0;
    }
    }
    return ol_fail(OL_ESTATE, "unknown op %d", n->op);
}

static void FN(backward)(ol_graph *g, ol_node *n) {
    ol_node *A = n->a >= 0 ? &g->nodes[n->a] : NULL, *B = n->b >= 0 ? &g->nodes[n->b] : NULL;
    const REAL *dy = n->grad, *y = n->value;
    const REAL *a = A ? A->value : NULL, *b = B ? B->value : NULL;
    REAL *da = A && A->needs_grad ? A->grad : NULL, *db = B && B->needs_grad ? B->grad : NULL;
    long size = (long)n->rows * n->cols, na = A ? (long)A->rows * A->cols : 0;
    int cols = n->cols;
    /* matrix products overwrite a fresh gradient (beta 0); every other op accumulates into it */
    if (n->op != OP_MATMUL && n->op != OP_LINEAR) {
        if (da) grad_ready(g, A);
        if (db) grad_ready(g, B);
    }
    switch (n->op) {
    case OP_INPUT:
    case OP_PARAM:
        return;
    case OP_MATMUL: /* y = a b: da += dy b^T, db += a^T dy */
        if (da) FN(gemm)(0, 1, A->rows, A->cols, B->cols, 1, dy, b, grad_take(A) ? 0 : 1, da);
        if (db) FN(gemm)(1, 0, A->cols, B->cols, A->rows, 1, a, dy, grad_take(B) ? 0 : 1, db);
        return;
    case OP_ADD:
    case OP_SUB: { /* y = a +- b: da += dy, db +-= dy (column sums when b is broadcast) */
        REAL sign = n->op == OP_ADD ? 1 : -1;
        if (da) {
            PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { da[i] += dy[i]; });
        }
        if (db) {
            if (n->bcast) {
                if (sign > 0) FN(add_colsums)(db, dy, n->rows, cols);
                else
                    for (int i = 0; i < n->rows; i++)
                        for (int j = 0; j < cols; j++) db[j] -= dy[(size_t)i * cols + j];
            } else {
                PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { db[i] += sign * dy[i]; });
            }
        }
        return;
    }
    case OP_MUL: /* y = a b: da += dy b, db += dy a */
        if (da) {
            PAR_FOR(size > PAR_MIN, long, i, size, { da[i] += dy[i] * b[n->bcast ? i % cols : i]; });
        }
        if (db) {
            if (n->bcast)
                for (int i = 0; i < n->rows; i++)
                    for (int j = 0; j < cols; j++) db[j] += dy[(size_t)i * cols + j] * a[(size_t)i * cols + j];
            else {
                PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { db[i] += dy[i] * a[i]; });
            }
        }
        return;
    case OP_SCALE: { /* y = s a: da += s dy */
        REAL s = (REAL)n->s;
        if (da) {
            PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { da[i] += s * dy[i]; });
        }
        return;
    }
    case OP_SHIFT: /* y = a + s: da += dy */
        if (da) {
            PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { da[i] += dy[i]; });
        }
        return;
    case OP_RELU:
    case OP_TANH:
    case OP_SIGMOID: { /* da += dy f'(a), f' written through y */
        int act = n->op == OP_RELU ? ACT_RELU : n->op == OP_TANH ? ACT_TANH : ACT_SIGMOID;
        if (da && act == ACT_RELU) {
            PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { da[i] += y[i] > 0 ? dy[i] : 0; });
        } else if (da) {
            PAR_FOR(size > PAR_MIN, long, i, size, { da[i] += dy[i] * FN(act_dfdy)(act, y[i]); });
        }
        return;
    }
    case OP_EXP: /* y = exp a: da += dy y */
        if (da) {
            PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { da[i] += dy[i] * y[i]; });
        }
        return;
    case OP_LOG: /* y = log a: da += dy / a */
        if (da) {
            PAR_FOR(size > PAR_MIN, long, i, size, { da[i] += dy[i] / a[i]; });
        }
        return;
    case OP_SQUARE: /* y = a^2: da += 2 a dy */
        if (da) {
            PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { da[i] += 2 * a[i] * dy[i]; });
        }
        return;
    case OP_COS: /* y = cos a: da -= sin(a) dy */
        if (da) {
            PAR_FOR(size > PAR_MIN, long, i, size, { da[i] -= R_SIN(a[i]) * dy[i]; });
        }
        return;
    case OP_SUM:
    case OP_MEAN: { /* da += dy (/ n for the mean) */
        REAL d = n->op == OP_MEAN ? (REAL)(dy[0] / (double)na) : dy[0];
        if (da) {
            PAR_FOR_SIMD(na > PAR_MIN, long, i, na, { da[i] += d; });
        }
        return;
    }
    case OP_MSE: { /* y = mean (a-b)^2: da += 2 (a-b)/n dy, db -= the same */
        REAL c = (REAL)(2.0 * dy[0] / (double)na);
        for (long i = 0; i < na; i++) {
            REAL d = c * (a[i] - b[i]);
            if (da) da[i] += d;
            if (db) db[i] -= d;
        }
        return;
    }
    case OP_XENT: { /* dz += dy / rows (softmax(z) - onehot(y)); a probability below FLT_MIN (a logit
                     * 87 below the row's largest) adds 0 in float32 (flush.h) */
        if (!da) return;
        int rows = A->rows, k = A->cols;
        const REAL *p = n->aux;
        REAL c = (REAL)(dy[0] / rows);
        PAR_FOR((long)rows * k > PAR_MIN, int, i, rows, {
            REAL *dz = da + (size_t)i * k;
            const REAL *pi = p + (size_t)i * k;
            for (int j = 0; j < k; j++) dz[j] += R_FLUSH(c * pi[j]);
            dz[n->labels[i]] -= c;
        });
        return;
    }
    case OP_LINEAR: { /* y = f(x w + bias): d = dy f'(.), dx += d w^T, dw += x^T d, dbias += colsum d */
        ol_node *C = n->c >= 0 ? &g->nodes[n->c] : NULL;
        REAL *dbias = C && C->needs_grad ? C->grad : NULL;
        REAL *d = n->aux;
        int act = n->act;
        if (act == ACT_NONE) d = (REAL *)dy;
        else FN(act_grad)(d, dy, y, size, act);
        if (da) FN(gemm)(0, 1, A->rows, A->cols, B->cols, 1, d, b, grad_take(A) ? 0 : 1, da);
        if (db) FN(gemm)(1, 0, A->cols, B->cols, A->rows, 1, a, d, grad_take(B) ? 0 : 1, db);
        if (dbias) {
            grad_ready(g, C);
            FN(add_colsums)(dbias, d, n->rows, cols);
        }
        return;
    }
    }
}

#undef CAT_
#undef CAT
#undef FN
#undef PAR_MIN
#undef PAR_FOR
#undef PAR_FOR_SIMD
