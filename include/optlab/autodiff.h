/* autodiff.h: reverse-mode automatic differentiation over a graph defined once and run many times.
 *
 * Build a graph of nodes (each an int handle) for a model and a largest batch, compile it (every
 * node's value and gradient buffer is allocated then, once), and per batch: feed the inputs,
 * ol_ad_forward, ol_ad_backward. Nothing is allocated in forward or backward; a smaller batch
 * (the last of an epoch) reuses the same buffers through ol_ad_set_batch.
 *
 * Values are (rows, cols) row-major. A graph holds float or double values
 * (OL_F32 / OL_F64): double graphs serve the analytic objectives of `optlab optimize` and the
 * gradient checks; float graphs the MLPs. Parameters live outside the graph, in caller-owned flat
 * blocks (ol_ad_param points into them), so optimizers, checkpoints and all-reduce see one buffer.
 * Backward accumulates (+=) into parameter gradients; ol_ad_zero_grad clears them
 * (ol_ad_backward_set overwrites them instead). Reductions run in a fixed order: results do not
 * depend on the thread count.
 *
 * Shapes: "batch" nodes have a row count that follows ol_ad_set_batch (inputs created with
 * batch = 1 and everything computed from them row-wise). Errors in graph construction (shape
 * mismatch, bad handle) return -1 with a message in ol_error(); later calls on such a graph fail. */
#ifndef OPTLAB_AUTODIFF_H
#define OPTLAB_AUTODIFF_H

#include <stddef.h>
#include <stdint.h>


enum { OL_F32 = 0, OL_F64 = 1 };   /* element types of a graph */

typedef struct ol_graph ol_graph;

ol_graph *ol_ad_new(int dtype);                 /* OL_F32 or OL_F64; NULL on OOM */
void ol_ad_free(ol_graph *g);

/* ---- leaves ---- */
/* Input fed by the caller (write into ol_ad_value before forward); batch = 1: rows follows the batch. */
int ol_ad_input(ol_graph *g, int rows, int cols, int batch);
/* Parameter: value and grad (may be NULL: no gradient) are caller buffers of rows*cols elements of
 * the graph's dtype; they must outlive the graph. */
int ol_ad_param(ol_graph *g, int rows, int cols, void *value, void *grad);

/* ---- ops (forward and backward side by side in autodiff.c) ---- */
int ol_ad_matmul(ol_graph *g, int a, int b);    /* (m,k) x (k,n) -> (m,n); b not a batch node */
int ol_ad_add(ol_graph *g, int a, int b);       /* a + b; b same shape or a row (1, cols) broadcast */
int ol_ad_sub(ol_graph *g, int a, int b);       /* a - b; broadcast as add */
int ol_ad_mul(ol_graph *g, int a, int b);       /* a * b element-wise; broadcast as add */
int ol_ad_scale(ol_graph *g, int a, double s);  /* s * a */
int ol_ad_shift(ol_graph *g, int a, double s);  /* a + s */
int ol_ad_relu(ol_graph *g, int a);             /* max(0, a); derivative 0 at 0 (as torch) */
int ol_ad_tanh(ol_graph *g, int a);             /* tanh(a) */
int ol_ad_sigmoid(ol_graph *g, int a);          /* 1 / (1 + exp(-a)), stable for large |a| */
int ol_ad_exp(ol_graph *g, int a);              /* exp(a) */
int ol_ad_log(ol_graph *g, int a);              /* log(a) */
int ol_ad_square(ol_graph *g, int a);           /* a^2 */
int ol_ad_cos(ol_graph *g, int a);              /* cos(a) */
int ol_ad_sum(ol_graph *g, int a);              /* sum of all elements -> (1,1) */
int ol_ad_mean(ol_graph *g, int a);             /* mean of all elements -> (1,1) */
int ol_ad_mse(ol_graph *g, int a, int b);       /* mean((a - b)^2) -> (1,1) */
/* Fused softmax cross-entropy, mean over rows: -1/B sum_i log softmax(z_i)[y_i], computed stably
 * with the max subtracted; labels are written through ol_ad_labels(g, node) before forward. */
int ol_ad_softmax_xent(ol_graph *g, int logits);
/* Fused linear layer out = x w + b (b a row, may be -1), with act 0 none, 1 relu, 2 tanh,
 * 3 sigmoid applied in the same pass: the MLP's hot path. Same result as the separate ops. */
int ol_ad_linear(ol_graph *g, int x, int w, int b, int act);

/* ---- running ---- */
/* Allocates every buffer for the largest batch max_batch; with_grad = 0 builds an evaluation
 * graph (no gradient buffers, backward refused). */
int ol_ad_compile(ol_graph *g, int max_batch, int with_grad);
int ol_ad_set_batch(ol_graph *g, int batch);    /* 1 <= batch <= max_batch */
int ol_ad_forward(ol_graph *g);
/* Gradient of scalar node `loss`, accumulated into every parameter gradient. */
int ol_ad_backward(ol_graph *g, int loss);
/* The same with d(output)/d(loss) = seed instead of 1: the gradient of seed * loss (data-parallel
 * training weights each rank's mean loss by its share of the global batch this way). */
int ol_ad_backward_seed(ol_graph *g, int loss, double seed);
/* The same, but every parameter gradient is set to this pass's gradient instead of accumulated
 * into (0 for a parameter the loss does not reach): no ol_ad_zero_grad needed before it, and one
 * pass over the gradients fewer (the training step's way). Parameters with overlapping gradient
 * buffers (tied weights) are handled: they are zeroed first and accumulated into. */
int ol_ad_backward_set(ol_graph *g, int loss, double seed);
void ol_ad_zero_grad(ol_graph *g);              /* clears every parameter gradient */

/* ---- access ---- */
void *ol_ad_value(ol_graph *g, int node);       /* the node's value buffer (graph dtype) */
void *ol_ad_grad(ol_graph *g, int node);        /* its gradient buffer, NULL if none */
int ol_ad_rows(const ol_graph *g, int node);
int ol_ad_cols(const ol_graph *g, int node);
int32_t *ol_ad_labels(ol_graph *g, int xent_node); /* the label buffer of a softmax_xent node */
double ol_ad_scalar(ol_graph *g, int node);     /* value of a (1,1) node as double */

#endif
