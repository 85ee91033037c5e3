/* autodiff_internal.h: the graph's private layout, shared by autodiff.c and the kernels it
 * instantiates for float and double (autodiff_kernels.h). Not a public header. */
#ifndef OPTLAB_AUTODIFF_INTERNAL_H
#define OPTLAB_AUTODIFF_INTERNAL_H

#include <stdint.h>

#include "optlab/autodiff.h"

enum {
    OP_INPUT, OP_PARAM, OP_MATMUL, OP_ADD, OP_SUB, OP_MUL, OP_SCALE, OP_SHIFT, OP_RELU, OP_TANH,
    OP_SIGMOID, OP_EXP, OP_LOG, OP_SQUARE, OP_COS, OP_SUM, OP_MEAN, OP_MSE, OP_XENT, OP_LINEAR
};
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_TANH = 2, ACT_SIGMOID = 3 };

typedef struct {
    int op;
    int a, b, c;        /* inputs (-1: none); linear: a = x, b = w, c = bias */
    int act;            /* linear's activation */
    int rows, cols;     /* current shape (rows follows the batch for batch nodes) */
    int batch;          /* 1 when rows follows ol_ad_set_batch */
    int bcast;          /* add/sub/mul: b is a row broadcast over a's rows */
    double s;           /* scale/shift constant */
    void *value;        /* rows * cols (max rows when batch) */
    void *grad;         /* same size, NULL when no gradient flows here */
    void *aux;          /* xent: probabilities; linear: gradient before the activation */
    double *aux2;       /* xent: each row's loss */
    int32_t *labels;    /* xent: one label per row */
    int needs_grad;     /* a parameter with a gradient is upstream */
    int external;       /* param: value/grad belong to the caller */
    int fresh;          /* backward: grad not yet written this pass (holds stale values, reads as 0) */
} ol_node;

struct ol_graph {
    int dtype;
    int n_nodes, cap;
    ol_node *nodes;
    int compiled, with_grad, max_batch, batch;
    int broken;          /* a construction error happened */
    int grads_alias;     /* two parameters' gradient buffers overlap (tied weights) */
};

#endif
