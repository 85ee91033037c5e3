/* fixtures.h: small IDX data sets that tests make themselves (tests never download data). */
#ifndef OPTLAB_TEST_FIXTURES_H
#define OPTLAB_TEST_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

/* Writes an IDX image file (n, rows, cols) and a label file; gz = 1 writes them gzip-compressed. */
int fixture_write_idx(const char *images_path, const char *labels_path, const uint8_t *pixels,
                      const uint8_t *labels, uint32_t n, uint32_t rows, uint32_t cols, int gz);
/* Makes dir with the four standard MNIST file names holding a learnable synthetic task: images
 * of side x side pixels, `classes` classes, class c lighting a band of pixels of its own over
 * noise. Returns 0 on success. */
int fixture_make_dataset(const char *dir, uint32_t n_train, uint32_t n_test, uint32_t side, int classes,
                         uint64_t seed, int gz);

/* An optimizer from spec and lr over one double group x[n] with gradient g[n]; NULL (the reason on
 * stderr) when the spec or the group is refused. */
struct ol_optim;
struct ol_optim *fixture_optim_f64(const char *spec, double lr, double *x, double *g, size_t n);

#endif
