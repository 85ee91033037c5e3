/* nn.h: multilayer perceptrons from a spec, their initialization, their graphs, and model files.
 *
 * Spec: "mlp:784-256-10[,act=relu|tanh|sigmoid][,init=torch|xavier|normal:std=S]" (any depth:
 * sizes from input to classes). Every weight and bias lives in ONE flat parameter block (and its
 * gradient in one flat gradient block), layer after layer, weight (in, out) row-major then bias (out):
 * optimizers, clipping, checkpoints and all-reduce each see one (float *x, float *g, size_t n).
 *
 * Initialization (drawn layer by layer, weights then biases, from one seeded ol_rng):
 *   torch (default): as torch.nn.Linear: weights kaiming-uniform with a = sqrt(5), i.e.
 *                    U(-1/sqrt(fan_in), 1/sqrt(fan_in)); biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 *   xavier:          weights U(-sqrt(6/(fan_in+fan_out)), +...) (Glorot & Bengio 2010); biases 0.
 *   normal:std=S:    weights N(0, S^2); biases 0. */
#ifndef OPTLAB_NN_H
#define OPTLAB_NN_H

#include <stddef.h>
#include <stdint.h>

#include "optlab/autodiff.h"

#define OL_MLP_MAX_LAYERS 16

enum { OL_ACT_RELU = 1, OL_ACT_TANH = 2, OL_ACT_SIGMOID = 3 };   /* as ol_ad_linear's act */
enum { OL_INIT_TORCH = 0, OL_INIT_XAVIER = 1, OL_INIT_NORMAL = 2 };

typedef struct {
    char spec[256];                     /* canonical spec string */
    int n_layers;                       /* linear layers */
    int sizes[OL_MLP_MAX_LAYERS + 1];   /* sizes[0] = inputs, sizes[n_layers] = classes */
    int act;                            /* hidden activation, OL_ACT_* */
    int init;                           /* OL_INIT_* */
    double init_std;                    /* normal's std */
    size_t n_params;
    size_t w_off[OL_MLP_MAX_LAYERS];    /* offset of layer l's weight (sizes[l], sizes[l+1]) */
    size_t b_off[OL_MLP_MAX_LAYERS];    /* offset of layer l's bias (sizes[l+1]) */
    float *params;                      /* (n_params), 64-byte aligned */
    float *grads;                       /* (n_params + 1): the last slot carries the loss in all-reduces */
    float input_mean, input_inv_std;    /* input normalization the model was trained with (0, 1: none) */
    uint32_t in_rows, in_cols;          /* the image shape it was trained on (rows * cols = sizes[0]);
                                           0, 0: not known (a model file of format 1, an untrained model) */
} ol_mlp;

/* Parses and validates a spec, allocates the blocks (zeroed); sizes checked for overflow and
 * against max_bytes (0 = no limit) with the bytes it would need in the message. */
int ol_mlp_create(ol_mlp *m, const char *spec, size_t max_bytes);
/* The same checks and layout (sizes, offsets, n_params, canonical spec) without allocating the
 * blocks (params and grads stay NULL; nothing to free): validating a spec costs nothing. */
int ol_mlp_layout(ol_mlp *m, const char *spec, size_t max_bytes);
void ol_mlp_free(ol_mlp *m);
/* OL_OK when data of images rows x cols fits m: sizes[0] = rows * cols and, when m records the
 * shape it was trained on, the same shape; else OL_EARG saying which (a 28x28 model refuses 14x56
 * images, although they have its 784 pixels). */
int ol_mlp_check_shape(const ol_mlp *m, uint32_t rows, uint32_t cols);
/* Draws the initial parameters from seed (see the scheme above). */
void ol_mlp_init(ol_mlp *m, uint64_t seed);

/* A compiled graph of the model for batches of up to max_batch rows. */
typedef struct {
    ol_graph *g;
    int x;          /* input node (batch, sizes[0]): write the batch into ol_ad_value(g, x) */
    int logits;     /* (batch, classes) */
    int loss;       /* mean softmax cross-entropy; labels in ol_ad_labels(g, loss) */
} ol_mlp_graph;
int ol_mlp_graph_build(ol_mlp *m, ol_mlp_graph *mg, int max_batch, int with_grad);
void ol_mlp_graph_free(ol_mlp_graph *mg);
/* Number of rows whose arg-max logit equals the label, after a forward pass. */
long ol_mlp_graph_correct(ol_mlp_graph *mg);

/* Model file: magic "OLMODEL1", u32 format version, u32 spec length, spec, f32 input_mean,
 * f32 input_inv_std, [format 2: u32 in_rows, u32 in_cols,] u64 n_params, n_params float32, u32
 * CRC-32 of all before; little-endian. Written atomically, in format 2; format 1 (no image shape)
 * still loads, with in_rows = in_cols = 0. */
int ol_mlp_save(const ol_mlp *m, const char *path);
/* Loads a model file into a new model; corrupt, truncated, foreign or newer files are refused. */
int ol_mlp_load(ol_mlp *m, const char *path);
/* The same format in memory (for checkpoints): bytes malloc'ed / parsed into a new model; what
 * names the source in messages. */
int ol_mlp_serialize(const ol_mlp *m, unsigned char **buf, size_t *len);
int ol_mlp_deserialize(ol_mlp *m, const unsigned char *buf, size_t len, const char *what);

#endif
