/* sampler.h: which examples make each mini-batch (src/sampler.c): shuffled epochs or IID draws,
 * seeded, with a state that checkpoints save and restore bit for bit. Depends on rng and common. */
#ifndef OPTLAB_SAMPLER_H
#define OPTLAB_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "optlab/rng.h"

enum { OL_SAMPLER_SHUFFLE, OL_SAMPLER_IID };

/* Plain data apart from `order`; read the fields, change them only through the functions. */
typedef struct {
    int kind;              /* OL_SAMPLER_SHUFFLE or OL_SAMPLER_IID */
    uint32_t n, batch;     /* examples, batch size (1 <= batch <= n) */
    uint32_t n_batches;    /* batches per epoch: ceil(n / batch) */
    uint32_t position;     /* batches already returned in the current epoch (0..n_batches) */
    uint64_t epoch;        /* current epoch, from 0 */
    uint64_t seed;         /* the seed given to ol_sampler_init */
    ol_rng epoch_rng;      /* generator state at the start of the current epoch */
    ol_rng rng;            /* generator state now */
    uint32_t *order;       /* shuffle: this epoch's permutation (n); iid: the last batch (batch) */
} ol_sampler;

/* shuffle: a new seeded permutation every epoch, cut into batches in order, the last one smaller
 *          when batch does not divide n (torch's DataLoader, shuffle=True, drop_last=False).
 * iid:     ceil(n / batch) batches per epoch, each of `batch` indices drawn uniformly from [0, n)
 *          with replacement, independently of every other batch.
 * batch == n gives full-batch. Same kind, n, batch and seed -> same batches. */
int ol_sampler_init(ol_sampler *s, int kind, uint32_t n, uint32_t batch, uint64_t seed);
/* Points *idx at the next batch's indices (valid until the next call) and returns its size; returns
 * 0 at the end of an epoch, and the call after that starts the next epoch. */
uint32_t ol_sampler_next(ol_sampler *s, const uint32_t **idx);
void ol_sampler_free(ol_sampler *s);
/* "shuffle" -> OL_SAMPLER_SHUFFLE, "iid" -> OL_SAMPLER_IID; OL_EARG with the valid names otherwise. */
int ol_sampler_parse_kind(const char *text, int *kind);
/* "shuffle" or "iid". */
const char *ol_sampler_kind_name(int kind);

/* State save/load for bit-exact resumption (checkpoints): a fixed-size little-endian record with
 * a CRC-32. Load into a sampler initialized with the same kind, n and batch; it is validated whole
 * (format, checksum, settings, and the generator state replayed from the epoch's start) before
 * anything is changed, and the next batch is then exactly the one the saved sampler would give. */
size_t ol_sampler_state_size(const ol_sampler *s);
int ol_sampler_state_save(const ol_sampler *s, void *buf, size_t cap);
int ol_sampler_state_load(ol_sampler *s, const void *buf, size_t len);

#endif
