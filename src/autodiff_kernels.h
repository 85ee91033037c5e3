/* autodiff_kernels.h: every op as one function holding its forward and its backward side by side,
 * and the table that maps the OP_* codes to them; written once for a REAL type and included twice
 * by autodiff.c (float with SUF f32, double with SUF f64). Adding an op: its OP_* code
 * (autodiff_internal.h), its function and table line here, its constructor (autodiff.c), its
 * gradient check (tests/test_autodiff.c).
 * Each backward accumulates (+=) into its inputs' gradients (matrix products may overwrite a fresh one). Element-wise loops run in parallel
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

/* ---- the ops: each one function, forward (bwd = 0) and backward (bwd = 1) side by side ----
 * A forward writes n->value from its inputs' values and returns 0 or an error; a backward adds
 * n->grad's contribution into its inputs' gradients (grad_ready has made them valid: the dispatcher
 * does it, except for the ops marked `sets` in the table, which may overwrite a fresh gradient with
 * beta 0). a, b: the inputs' values, y: this node's value, dy: its gradient, da, db: the inputs'
 * gradients (NULL where none is needed). */

#define OP_ARGS ol_graph *g, ol_node *n, int bwd
/* the locals every op may use (unused ones are fine: they are plain reads) */
#define OP_LOCALS                                                                                         \
    ol_node *A = n->a >= 0 ? &g->nodes[n->a] : NULL, *B = n->b >= 0 ? &g->nodes[n->b] : NULL;            \
    REAL *y = n->value;                                                                                   \
    const REAL *dy = n->grad;                                                                             \
    const REAL *a = A ? A->value : NULL, *b = B ? B->value : NULL;                                        \
    REAL *da = bwd && A && A->needs_grad ? A->grad : NULL, *db = bwd && B && B->needs_grad ? B->grad : NULL; \
    long size = (long)n->rows * n->cols, na = A ? (long)A->rows * A->cols : 0;                            \
    int cols = n->cols;                                                                                   \
    (void)A, (void)B, (void)y, (void)dy, (void)a, (void)b, (void)da, (void)db, (void)size, (void)na, (void)cols

static int FN(op_leaf)(OP_ARGS) { /* inputs and parameters: their values are given */
    (void)g, (void)n, (void)bwd;
    return 0;
}

static int FN(op_matmul)(OP_ARGS) { /* y = a b: da = dy b^T, db = a^T dy */
    OP_LOCALS;
    if (!bwd) {
        FN(gemm)(0, 0, A->rows, B->cols, A->cols, 1, a, b, 0, y);
        return 0;
    }
    if (da) FN(gemm)(0, 1, A->rows, A->cols, B->cols, 1, dy, b, grad_take(A) ? 0 : 1, da);
    if (db) FN(gemm)(1, 0, A->cols, B->cols, A->rows, 1, a, dy, grad_take(B) ? 0 : 1, db);
    return 0;
}

/* y = a + b, a - b or a * b (b the same shape, or a row broadcast over a's rows) */
static void FN(binary_forward)(ol_node *n, int op, REAL *y, const REAL *a, const REAL *b, long size, int cols) {
    PAR_FOR(size > PAR_MIN, long, i, size, {
        REAL bv = b[n->bcast ? i % cols : i];
        y[i] = op == OP_ADD ? a[i] + bv : op == OP_SUB ? a[i] - bv : a[i] * bv;
    });
}

/* y = a +- b: da += dy, db +-= dy (column sums when b is broadcast) */
static void FN(add_sub_backward)(ol_node *n, REAL sign, REAL *da, REAL *db, const REAL *dy, long size, int cols) {
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
}

static int FN(op_add)(OP_ARGS) { /* y = a + b */
    OP_LOCALS;
    if (!bwd) FN(binary_forward)(n, OP_ADD, y, a, b, size, cols);
    else FN(add_sub_backward)(n, 1, da, db, dy, size, cols);
    return 0;
}

static int FN(op_sub)(OP_ARGS) { /* y = a - b */
    OP_LOCALS;
    if (!bwd) FN(binary_forward)(n, OP_SUB, y, a, b, size, cols);
    else FN(add_sub_backward)(n, -1, da, db, dy, size, cols);
    return 0;
}

static int FN(op_mul)(OP_ARGS) { /* y = a b element-wise: da += dy b, db += dy a */
    OP_LOCALS;
    if (!bwd) {
        FN(binary_forward)(n, OP_MUL, y, a, b, size, cols);
        return 0;
    }
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
    return 0;
}

static int FN(op_scale)(OP_ARGS) { /* y = s a: da += s dy */
    OP_LOCALS;
    REAL s = (REAL)n->s;
    if (!bwd) {
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { y[i] = s * a[i]; });
    } else if (da) {
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { da[i] += s * dy[i]; });
    }
    return 0;
}

static int FN(op_shift)(OP_ARGS) { /* y = a + s: da += dy */
    OP_LOCALS;
    REAL s = (REAL)n->s;
    if (!bwd) {
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { y[i] = a[i] + s; });
    } else if (da) {
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { da[i] += dy[i]; });
    }
    return 0;
}

static int FN(op_relu)(OP_ARGS) { /* y = max(0, a): da += dy where y > 0 (0 at 0, as torch) */
    OP_LOCALS;
    if (!bwd) {
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { y[i] = a[i] > 0 ? a[i] : 0; });
    } else if (da) {
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { da[i] += y[i] > 0 ? dy[i] : 0; });
    }
    return 0;
}

/* tanh and sigmoid: y = f(a), da += dy f'(a) with f' written through y */
static int FN(smooth_act)(OP_ARGS, int act) {
    OP_LOCALS;
    if (!bwd) {
        PAR_FOR(size > PAR_MIN, long, i, size, { y[i] = FN(act_fwd)(act, a[i]); });
    } else if (da) {
        PAR_FOR(size > PAR_MIN, long, i, size, { da[i] += dy[i] * FN(act_dfdy)(act, y[i]); });
    }
    return 0;
}
static int FN(op_tanh)(OP_ARGS) { return FN(smooth_act)(g, n, bwd, ACT_TANH); }       /* f' = 1 - y^2 */
static int FN(op_sigmoid)(OP_ARGS) { return FN(smooth_act)(g, n, bwd, ACT_SIGMOID); } /* f' = y (1 - y) */

static int FN(op_exp)(OP_ARGS) { /* y = exp a: da += dy y */
    OP_LOCALS;
    if (!bwd) {
        PAR_FOR(size > PAR_MIN, long, i, size, { y[i] = R_EXP(a[i]); });
    } else if (da) {
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { da[i] += dy[i] * y[i]; });
    }
    return 0;
}

static int FN(op_log)(OP_ARGS) { /* y = log a: da += dy / a */
    OP_LOCALS;
    if (!bwd) {
        PAR_FOR(size > PAR_MIN, long, i, size, { y[i] = R_LOG(a[i]); });
    } else if (da) {
        PAR_FOR(size > PAR_MIN, long, i, size, { da[i] += dy[i] / a[i]; });
    }
    return 0;
}

static int FN(op_square)(OP_ARGS) { /* y = a^2: da += 2 a dy */
    OP_LOCALS;
    if (!bwd) {
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { y[i] = a[i] * a[i]; });
    } else if (da) {
        PAR_FOR_SIMD(size > PAR_MIN, long, i, size, { da[i] += 2 * a[i] * dy[i]; });
    }
    return 0;
}

static int FN(op_cos)(OP_ARGS) { /* y = cos a: da -= sin(a) dy */
    OP_LOCALS;
    if (!bwd) {
        PAR_FOR(size > PAR_MIN, long, i, size, { y[i] = R_COS(a[i]); });
    } else if (da) {
        PAR_FOR(size > PAR_MIN, long, i, size, { da[i] -= R_SIN(a[i]) * dy[i]; });
    }
    return 0;
}

/* sum and mean of all elements (in order, in double): da += dy (/ n for the mean) */
static int FN(reduce)(OP_ARGS, int mean) {
    OP_LOCALS;
    if (!bwd) {
        double acc = 0;
        for (long i = 0; i < na; i++) acc += a[i];
        y[0] = (REAL)(mean ? acc / (double)na : acc);
        return 0;
    }
    REAL d = mean ? (REAL)(dy[0] / (double)na) : dy[0];
    if (da) {
        PAR_FOR_SIMD(na > PAR_MIN, long, i, na, { da[i] += d; });
    }
    return 0;
}
static int FN(op_sum)(OP_ARGS) { return FN(reduce)(g, n, bwd, 0); }
static int FN(op_mean)(OP_ARGS) { return FN(reduce)(g, n, bwd, 1); }

static int FN(op_mse)(OP_ARGS) { /* y = mean (a-b)^2 (in double): da += 2 (a-b)/n dy, db -= the same */
    OP_LOCALS;
    if (!bwd) {
        double acc = 0;
        for (long i = 0; i < na; i++) {
            double d = (double)a[i] - (double)b[i];
            acc += d * d;
        }
        y[0] = (REAL)(acc / (double)na);
        return 0;
    }
    REAL c = (REAL)(2.0 * dy[0] / (double)na);
    for (long i = 0; i < na; i++) {
        REAL d = c * (a[i] - b[i]);
        if (da) da[i] += d;
        if (db) db[i] -= d;
    }
    return 0;
}

/* mean softmax cross-entropy of logits a (rows, k) against the labels:
 * loss_i = log sum exp(z - m) - (z_y - m), summed in row order; the probabilities stay in n->aux.
 * Backward: dz += dy / rows (softmax(z) - onehot(y)); a probability below FLT_MIN (a logit 87 below
 * the row's largest) adds 0 in float32 (flush.h). */
static int FN(op_xent)(OP_ARGS) {
    OP_LOCALS;
    int rows = A->rows, k = A->cols;
    if (!bwd) {
        REAL *p = n->aux;
        for (int i = 0; i < rows; i++)
            if (n->labels[i] < 0 || n->labels[i] >= k)
                return ol_fail(OL_EARG, "label %d of example %d is outside the model's %d classes",
                               (int)n->labels[i], i, k);
        double *row_loss = n->aux2;
        PAR_FOR((long)rows * k > PAR_MIN, int, i, rows, {
            const REAL *z = a + (size_t)i * k;
            REAL *pi = p + (size_t)i * k;
            REAL m = z[0];
            for (int j = 1; j < k; j++) m = z[j] > m ? z[j] : m;
            REAL sum = 0;
            for (int j = 0; j < k; j++) sum += (pi[j] = R_EXP(z[j] - m));
            row_loss[i] = ol_math_log((double)sum) - (double)(z[n->labels[i]] - m);
            REAL inv = 1 / sum;
            for (int j = 0; j < k; j++) pi[j] *= inv;
        });
        double acc = 0; /* summed in row order */
        for (int i = 0; i < rows; i++) acc += row_loss[i];
        y[0] = (REAL)(acc / rows);
        return 0;
    }
    if (!da) return 0;
    const REAL *p = n->aux;
    REAL c = (REAL)(dy[0] / rows);
    PAR_FOR((long)rows * k > PAR_MIN, int, i, rows, {
        REAL *dz = da + (size_t)i * k;
        const REAL *pi = p + (size_t)i * k;
        for (int j = 0; j < k; j++) dz[j] += R_FLUSH(c * pi[j]);
        dz[n->labels[i]] -= c;
    });
    return 0;
}

/* the fused layer y = f(x w + bias), x = a, w = b, bias = node c (optional), f = n->act.
 * Backward: d = dy f'(.) (n->aux), dx = d w^T, dw = x^T d (overwriting fresh gradients), dbias +=
 * colsum d. */
static int FN(op_linear)(OP_ARGS) {
    OP_LOCALS;
    ol_node *C = n->c >= 0 ? &g->nodes[n->c] : NULL;
    int act = n->act;
    if (!bwd) {
        FN(gemm)(0, 0, A->rows, B->cols, A->cols, 1, a, b, 0, y);
        FN(bias_act)(y, C ? C->value : NULL, n->rows, cols, act);
        return 0;
    }
    REAL *dbias = C && C->needs_grad ? C->grad : NULL;
    REAL *d = n->aux;
    if (act == ACT_NONE) d = (REAL *)dy;
    else FN(act_grad)(d, dy, y, size, act);
    if (da) FN(gemm)(0, 1, A->rows, A->cols, B->cols, 1, d, b, grad_take(A) ? 0 : 1, da);
    if (db) FN(gemm)(1, 0, A->cols, B->cols, A->rows, 1, a, d, grad_take(B) ? 0 : 1, db);
    if (dbias) {
        grad_ready(g, C);
        FN(add_colsums)(dbias, d, n->rows, cols);
    }
    return 0;
}

#undef OP_ARGS
#undef OP_LOCALS

/* the op table: one line an op (the order of the OP_* enum, autodiff_internal.h). sets: its
 * backward writes its inputs' fresh gradients itself (matrix products, with beta 0); the others
 * find them ready to be added to. */
static const struct {
    int (*run)(ol_graph *g, ol_node *n, int bwd);
    int sets;
} FN(ops)[] = {
    [OP_INPUT] = {FN(op_leaf), 0},   [OP_PARAM] = {FN(op_leaf), 0},     [OP_MATMUL] = {FN(op_matmul), 1},
    [OP_ADD] = {FN(op_add), 0},      [OP_SUB] = {FN(op_sub), 0},        [OP_MUL] = {FN(op_mul), 0},
    [OP_SCALE] = {FN(op_scale), 0},  [OP_SHIFT] = {FN(op_shift), 0},    [OP_RELU] = {FN(op_relu), 0},
    [OP_TANH] = {FN(op_tanh), 0},    [OP_SIGMOID] = {FN(op_sigmoid), 0}, [OP_EXP] = {FN(op_exp), 0},
    [OP_LOG] = {FN(op_log), 0},      [OP_SQUARE] = {FN(op_square), 0},  [OP_COS] = {FN(op_cos), 0},
    [OP_SUM] = {FN(op_sum), 0},      [OP_MEAN] = {FN(op_mean), 0},      [OP_MSE] = {FN(op_mse), 0},
    [OP_XENT] = {FN(op_xent), 0},    [OP_LINEAR] = {FN(op_linear), 1},
};

static int FN(forward)(ol_graph *g, ol_node *n) {
    if (n->op < 0 || n->op >= (int)(sizeof FN(ops) / sizeof FN(ops)[0]) || !FN(ops)[n->op].run)
        return ol_fail(OL_ESTATE, "unknown op %d", n->op);
    return FN(ops)[n->op].run(g, n, 0);
}

static void FN(backward)(ol_graph *g, ol_node *n) {
    if (!FN(ops)[n->op].sets) {
        ol_node *A = n->a >= 0 ? &g->nodes[n->a] : NULL, *B = n->b >= 0 ? &g->nodes[n->b] : NULL;
        if (A && A->needs_grad) grad_ready(g, A);
        if (B && B->needs_grad) grad_ready(g, B);
    }
    FN(ops)[n->op].run(g, n, 1);
}

#undef CAT_
#undef CAT
#undef FN
#undef PAR_MIN
#undef PAR_FOR
#undef PAR_FOR_SIMD
