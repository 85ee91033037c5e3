/* autodiff.c: reverse-mode automatic differentiation on a graph defined once and run many times
 * (see include/optlab/autodiff.h). Construction checks shapes; compile allocates every buffer;
 * forward and backward walk the nodes in creation order (a topological order by construction)
 * and never allocate. The op kernels are in autodiff_kernels.h, instantiated for float and double. */
#include "optlab/autodiff.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff_internal.h"
#include "optlab/gemm.h"
#include "flush.h"
#include "optlab/common.h"
#include "optlab/mathfn.h"

static size_t dtype_bytes(int dtype) { return dtype == OL_F64 ? 8 : 4; }

/* ---- gradient buffers during backward ----
 * A pass starts with every gradient it will write marked fresh instead of zeroed: the first op
 * that writes one either overwrites it (a matrix product with beta 0: grad_take) or zeroes it
 * and accumulates (every other op: grad_ready). This saves a zeroing pass and a read of every
 * buffer; -0 may come out as +0, nothing else changes. */
static void grad_ready(const ol_graph *g, ol_node *x) {
    if (!x->fresh) return;
    memset(x->grad, 0, (size_t)x->rows * (size_t)x->cols * dtype_bytes(g->dtype));
    x->fresh = 0;
}

/* 1 when the caller may overwrite x's gradient instead of adding to it */
static int grad_take(ol_node *x) {
    int fresh = x->fresh;
    x->fresh = 0;
    return fresh;
}

/* ---- kernels, float then double ---- */
#define REAL float
#define SUF f32
#define GEMM ol_gemm_f32
#define R_EXP ol_math_expf /* the same bits in every build (mathfn.h) */
#define R_LOG ol_math_logf
#define R_TANH ol_math_tanhf
#define R_COS cosf
#define R_SIN sinf
#define R_FLUSH ol_flush_f32
#ifdef __clang__
/* clang reports an omp simd loop it leaves scalar (at -O1, as in the fuzz build) as a warning */
#pragma clang diagnostic ignored "-Wpass-failed"
#endif
#include "autodiff_kernels.h"
#undef REAL
#undef SUF
#undef GEMM
#undef R_EXP
#undef R_LOG
#undef R_TANH
#undef R_COS
#undef R_SIN
#undef R_FLUSH
#define REAL double
#define SUF f64
#define GEMM ol_gemm_f64
#define R_EXP ol_math_exp
#define R_LOG ol_math_log
#define R_TANH ol_math_tanh
#define R_COS ol_math_cos /* the same bits in every build (mathfn.h) */
#define R_SIN ol_math_sin
#define R_FLUSH ol_flush_none
#include "autodiff_kernels.h"

/* ---- construction ---- */

ol_graph *ol_ad_new(int dtype) {
    if (dtype != OL_F32 && dtype != OL_F64) {
        ol_fail(OL_EARG, "unknown element type %d", dtype);
        return NULL;
    }
    ol_graph *g = ol_calloc(1, sizeof *g);
    if (g) g->dtype = dtype;
    return g;
}

void ol_ad_free(ol_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_nodes; i++) {
        ol_node *n = &g->nodes[i];
        if (!n->external) {
            free(n->value);
            free(n->grad);
        }
        free(n->aux);
        free(n->aux2);
        free(n->labels);
    }
    free(g->nodes);
    free(g);
}

/* Marks the graph broken (every later call fails) and returns -1 with the message set. */
__attribute__((format(printf, 2, 3))) static int graph_error(ol_graph *g, const char *fmt, ...) {
    g->broken = 1;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ol_fail(OL_EARG, "%s", msg);
    return -1;
}

/* Appends a node; returns its handle or -1. */
static int push(ol_graph *g, ol_node n) {
    if (g->broken) return -1;
    if (g->compiled) return graph_error(g, "cannot add a node: the graph is already compiled");
    if (g->n_nodes == g->cap) {
        int cap = g->cap ? g->cap * 2 : 16;
        ol_node *nodes = realloc(g->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes) {
            g->broken = 1;
            ol_fail(OL_ENOMEM, "out of memory building the graph");
            return -1;
        }
        g->nodes = nodes;
        g->cap = cap;
    }
    g->nodes[g->n_nodes] = n;
    return g->n_nodes++;
}

static ol_node blank(int op, int rows, int cols) {
    ol_node n;
    memset(&n, 0, sizeof n);
    n.op = op;
    n.a = n.b = n.c = -1;
    n.rows = rows;
    n.cols = cols;
    return n;
}

static int valid(ol_graph *g, int a) { return !g->broken && a >= 0 && a < g->n_nodes; }

int ol_ad_input(ol_graph *g, int rows, int cols, int batch) {
    if (rows <= 0 || cols <= 0) return graph_error(g, "%s: shape (%d, %d) must be positive", "input", rows, cols);
    ol_node n = blank(OP_INPUT, rows, cols);
    n.batch = batch != 0;
    return push(g, n);
}

int ol_ad_param(ol_graph *g, int rows, int cols, void *value, void *grad) {
    if (rows <= 0 || cols <= 0) return graph_error(g, "%s: shape (%d, %d) must be positive", "param", rows, cols);
    if (!value) return graph_error(g, "%s: no value buffer (%d, %d)", "param", rows, cols);
    ol_node n = blank(OP_PARAM, rows, cols);
    n.value = value;
    n.grad = grad;
    n.external = 1;
    n.needs_grad = grad != NULL;
    return push(g, n);
}

static int unary(ol_graph *g, int op, int a, double s, const char *name) {
    if (!valid(g, a)) return graph_error(g, "%s: bad input node %d", name, a);
    ol_node *A = &g->nodes[a];
    ol_node n = blank(op, A->rows, A->cols);
    n.a = a;
    n.batch = A->batch;
    n.s = s;
    n.needs_grad = A->needs_grad;
    return push(g, n);
}

static int binary(ol_graph *g, int op, int a, int b, const char *name) {
    if (!valid(g, a) || !valid(g, b)) return graph_error(g, "%s: bad input nodes %d, %d", name, a, b);
    ol_node *A = &g->nodes[a], *B = &g->nodes[b];
    ol_node n = blank(op, A->rows, A->cols);
    n.a = a;
    n.b = b;
    n.batch = A->batch;
    n.needs_grad = A->needs_grad || B->needs_grad;
    if (A->cols != B->cols) return graph_error(g, "%s: column counts differ (%d vs %d)", name, A->cols, B->cols);
    if (B->rows == 1 && !B->batch && (A->rows != 1 || A->batch)) n.bcast = 1;
    else if (A->rows != B->rows || A->batch != B->batch)
        return graph_error(g, "%s: row counts differ (%d vs %d) and the second is not a row", name, A->rows, B->rows);
    return push(g, n);
}

int ol_ad_matmul(ol_graph *g, int a, int b) {
    if (!valid(g, a) || !valid(g, b)) return graph_error(g, "%s: bad input nodes %d, %d", "matmul", a, b);
    ol_node *A = &g->nodes[a], *B = &g->nodes[b];
    if (A->cols != B->rows) return graph_error(g, "%s: inner sizes differ (%d vs %d)", "matmul", A->cols, B->rows);
    if (B->batch) return graph_error(g, "%s: right operand %d follows the batch", "matmul", b);
    ol_node n = blank(OP_MATMUL, A->rows, B->cols);
    n.a = a;
    n.b = b;
    n.batch = A->batch;
    n.needs_grad = A->needs_grad || B->needs_grad;
    return push(g, n);
}

int ol_ad_linear(ol_graph *g, int x, int w, int b, int act) {
    if (act < ACT_NONE || act > ACT_SIGMOID) return graph_error(g, "%s: unknown activation %d", "linear", act);
    if (b >= 0 && !valid(g, b)) return graph_error(g, "%s: bad bias node %d", "linear", b);
    int m = ol_ad_matmul(g, x, w); /* validates x and w; removed again below */
    if (m < 0) return -1;
    g->n_nodes--;
    ol_node *W = &g->nodes[w];
    if (b >= 0 && (g->nodes[b].rows != 1 || g->nodes[b].cols != W->cols || g->nodes[b].batch))
        return graph_error(g, "%s: bias must be a row of %d values", "linear", W->cols);
    ol_node n = blank(OP_LINEAR, g->nodes[x].rows, W->cols);
    n.a = x;
    n.b = w;
    n.c = b;
    n.act = act;
    n.batch = g->nodes[x].batch;
    n.needs_grad = g->nodes[x].needs_grad || W->needs_grad || (b >= 0 && g->nodes[b].needs_grad);
    return push(g, n);
}

int ol_ad_add(ol_graph *g, int a, int b) { return binary(g, OP_ADD, a, b, "add"); }
int ol_ad_sub(ol_graph *g, int a, int b) { return binary(g, OP_SUB, a, b, "sub"); }
int ol_ad_mul(ol_graph *g, int a, int b) { return binary(g, OP_MUL, a, b, "mul"); }
int ol_ad_scale(ol_graph *g, int a, double s) { return unary(g, OP_SCALE, a, s, "scale"); }
int ol_ad_shift(ol_graph *g, int a, double s) { return unary(g, OP_SHIFT, a, s, "shift"); }
int ol_ad_relu(ol_graph *g, int a) { return unary(g, OP_RELU, a, 0, "relu"); }
int ol_ad_tanh(ol_graph *g, int a) { return unary(g, OP_TANH, a, 0, "tanh"); }
int ol_ad_sigmoid(ol_graph *g, int a) { return unary(g, OP_SIGMOID, a, 0, "sigmoid"); }
int ol_ad_exp(ol_graph *g, int a) { return unary(g, OP_EXP, a, 0, "exp"); }
int ol_ad_log(ol_graph *g, int a) { return unary(g, OP_LOG, a, 0, "log"); }
int ol_ad_square(ol_graph *g, int a) { return unary(g, OP_SQUARE, a, 0, "square"); }
int ol_ad_cos(ol_graph *g, int a) { return unary(g, OP_COS, a, 0, "cos"); }

static int reduce(ol_graph *g, int op, int a, const char *name) {
    int n = unary(g, op, a, 0, name);
    if (n >= 0) {
        g->nodes[n].rows = g->nodes[n].cols = 1;
        g->nodes[n].batch = 0;
    }
    return n;
}

int ol_ad_sum(ol_graph *g, int a) { return reduce(g, OP_SUM, a, "sum"); }
int ol_ad_mean(ol_graph *g, int a) { return reduce(g, OP_MEAN, a, "mean"); }

int ol_ad_mse(ol_graph *g, int a, int b) {
    if (!valid(g, a) || !valid(g, b)) return graph_error(g, "%s: bad input nodes %d, %d", "mse", a, b);
    ol_node *A = &g->nodes[a], *B = &g->nodes[b];
    if (A->rows != B->rows || A->cols != B->cols || A->batch != B->batch)
        return graph_error(g, "%s: shapes differ (%d vs %d rows)", "mse", A->rows, B->rows);
    int n = binary(g, OP_MSE, a, b, "mse");
    if (n >= 0) {
        g->nodes[n].rows = g->nodes[n].cols = 1;
        g->nodes[n].batch = 0;
    }
    return n;
}

int ol_ad_softmax_xent(ol_graph *g, int logits) {
    if (valid(g, logits) && g->nodes[logits].cols < 2)
        return graph_error(g, "%s: needs at least 2 classes, got %d", "softmax_xent", g->nodes[logits].cols);
    return reduce(g, OP_XENT, logits, "softmax_xent");
}

/* ---- compile and run ---- */

/* rows of node i at batch size `batch` */
static void reshape(ol_graph *g, int batch) {
    for (int i = 0; i < g->n_nodes; i++) {
        ol_node *n = &g->nodes[i];
        if (n->batch) n->rows = batch;
    }
}

int ol_ad_compile(ol_graph *g, int max_batch, int with_grad) {
    if (g->broken) return ol_fail(OL_EARG, "graph has a construction error");
    if (g->compiled) return ol_fail(OL_ESTATE, "graph already compiled");
    if (max_batch < 1) return ol_fail(OL_EARG, "batch size %d must be at least 1", max_batch);
    size_t elem = dtype_bytes(g->dtype);
    reshape(g, max_batch);
    for (int i = 0; i < g->n_nodes; i++) {
        ol_node *n = &g->nodes[i];
        if (n->external) continue;
        size_t count = (size_t)n->rows * (size_t)n->cols;
        if (ol_mul_overflows(count, elem, "graph buffer")) return OL_ENOMEM;
        n->value = ol_aligned_calloc(count, elem);
        if (!n->value) return OL_ENOMEM;
        if (with_grad && n->needs_grad) {
            n->grad = ol_aligned_calloc(count, elem);
            if (!n->grad) return OL_ENOMEM;
        }
        if (n->op == OP_XENT) {
            ol_node *A = &g->nodes[n->a];
            n->aux = ol_aligned_calloc((size_t)A->rows * (size_t)A->cols, elem);
            n->aux2 = ol_calloc((size_t)A->rows, sizeof(double));
            n->labels = ol_calloc((size_t)A->rows, sizeof(int32_t));
            if (!n->aux || !n->aux2 || !n->labels) return OL_ENOMEM;
        }
        if (n->op == OP_LINEAR && with_grad && n->needs_grad && n->act != ACT_NONE) {
            n->aux = ol_aligned_calloc(count, elem);
            if (!n->aux) return OL_ENOMEM;
        }
    }
    /* parameters whose gradient buffers overlap (tied weights): backward_set cannot let the first
     * writer of one overwrite the buffer, the other's share would be lost */
    for (int i = 0; i < g->n_nodes && !g->grads_alias; i++) {
        const ol_node *p = &g->nodes[i];
        if (!p->external || !p->grad) continue;
        const char *p0 = p->grad, *p1 = p0 + (size_t)p->rows * (size_t)p->cols * elem;
        for (int j = i + 1; j < g->n_nodes; j++) {
            const ol_node *q = &g->nodes[j];
            if (!q->external || !q->grad) continue;
            const char *q0 = q->grad, *q1 = q0 + (size_t)q->rows * (size_t)q->cols * elem;
            if (p0 < q1 && q0 < p1) g->grads_alias = 1;
        }
    }
    g->compiled = 1;
    g->with_grad = with_grad;
    g->max_batch = g->batch = max_batch;
    return OL_OK;
}

int ol_ad_set_batch(ol_graph *g, int batch) {
    if (!g->compiled) return ol_fail(OL_ESTATE, "graph not compiled");
    if (batch < 1 || batch > g->max_batch)
        return ol_fail(OL_EARG, "batch size %d outside [1, %d] of the compiled graph", batch, g->max_batch);
    if (batch != g->batch) reshape(g, batch);
    g->batch = batch;
    return OL_OK;
}

int ol_ad_forward(ol_graph *g) {
    if (!g->compiled) return ol_fail(OL_ESTATE, "graph not compiled");
    for (int i = 0; i < g->n_nodes; i++) {
        int rc = g->dtype == OL_F32 ? forward_f32(g, &g->nodes[i]) : forward_f64(g, &g->nodes[i]);
        if (rc) return rc;
    }
    return OL_OK;
}

int ol_ad_backward(ol_graph *g, int loss) { return ol_ad_backward_seed(g, loss, 1.0); }

/* Every parameter gradient the caller owns, zeroed (backward_set's answer where no gradient flows). */
static void zero_param_grads(ol_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        ol_node *n = &g->nodes[i];
        if (n->external && n->grad) {
            n->fresh = 1;
            grad_ready(g, n);
        }
    }
}

static int backward(ol_graph *g, int loss, double seed, int set_params) {
    if (!g->compiled) return ol_fail(OL_ESTATE, "graph not compiled");
    if (!g->with_grad) return ol_fail(OL_ESTATE, "graph was compiled without gradients");
    if (loss < 0 || loss >= g->n_nodes) return ol_fail(OL_EARG, "bad loss node %d", loss);
    ol_node *L = &g->nodes[loss];
    if (L->rows != 1 || L->cols != 1) return ol_fail(OL_EARG, "loss node must be a scalar");
    if (!L->needs_grad) { /* no parameter upstream */
        if (set_params) zero_param_grads(g);
        return OL_OK;
    }
    if (set_params && g->grads_alias) { /* tied weights: zero them all first, then accumulate */
        zero_param_grads(g);
        set_params = 0;
    }
    /* fresh: internal gradients up to the loss; with set_params every parameter's (reached or not) */
    for (int i = 0; i < g->n_nodes; i++) {
        ol_node *n = &g->nodes[i];
        n->fresh = n->grad && (n->external ? set_params : i <= loss);
    }
    if (g->dtype == OL_F32) *(float *)L->grad = (float)seed;
    else *(double *)L->grad = seed;
    L->fresh = 0;
    for (int i = loss; i >= 0; i--) {
        ol_node *n = &g->nodes[i];
        if (!n->needs_grad || n->external) continue;
        grad_ready(g, n); /* nothing flowed into n: its gradient is 0 */
        if (g->dtype == OL_F32) backward_f32(g, n);
        else backward_f64(g, n);
    }
    for (int i = 0; i < g->n_nodes; i++) /* parameters no gradient reached */
        if (g->nodes[i].fresh) grad_ready(g, &g->nodes[i]);
    return OL_OK;
}

int ol_ad_backward_seed(ol_graph *g, int loss, double seed) { return backward(g, loss, seed, 0); }

int ol_ad_backward_set(ol_graph *g, int loss, double seed) { return backward(g, loss, seed, 1); }

void ol_ad_zero_grad(ol_graph *g) {
    size_t elem = dtype_bytes(g->dtype);
    for (int i = 0; i < g->n_nodes; i++) {
        ol_node *n = &g->nodes[i];
        if (n->op == OP_PARAM && n->grad) memset(n->grad, 0, (size_t)n->rows * (size_t)n->cols * elem);
    }
}

void *ol_ad_value(ol_graph *g, int node) { return node >= 0 && node < g->n_nodes ? g->nodes[node].value : NULL; }
void *ol_ad_grad(ol_graph *g, int node) { return node >= 0 && node < g->n_nodes ? g->nodes[node].grad : NULL; }
int ol_ad_rows(const ol_graph *g, int node) { return node >= 0 && node < g->n_nodes ? g->nodes[node].rows : 0; }
int ol_ad_cols(const ol_graph *g, int node) { return node >= 0 && node < g->n_nodes ? g->nodes[node].cols : 0; }

int32_t *ol_ad_labels(ol_graph *g, int node) {
    return node >= 0 && node < g->n_nodes && g->nodes[node].op == OP_XENT ? g->nodes[node].labels : NULL;
}

double ol_ad_scalar(ol_graph *g, int node) {
    if (node < 0 || node >= g->n_nodes || !g->nodes[node].value) return NAN;
    return g->dtype == OL_F32 ? (double)*(float *)g->nodes[node].value : *(double *)g->nodes[node].value;
}
