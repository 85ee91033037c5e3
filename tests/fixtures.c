/* fixtures.c: see fixtures.h. */
#include "fixtures.h"

#include "optlab/common.h"
#include "optlab/optim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "optlab/rng.h"

static void be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static int write_blob(const char *path, const unsigned char *head, size_t head_len, const uint8_t *body,
                      size_t body_len, int gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (!f) return -1;
        int ok = gzwrite(f, head, (unsigned)head_len) == (int)head_len &&
                 (body_len == 0 || gzwrite(f, body, (unsigned)body_len) == (int)body_len);
        return gzclose(f) == Z_OK && ok ? 0 : -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(head, 1, head_len, f) == head_len && fwrite(body, 1, body_len, f) == body_len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int fixture_write_idx(const char *images_path, const char *labels_path, const uint8_t *pixels,
                      const uint8_t *labels, uint32_t n, uint32_t rows, uint32_t cols, int gz) {
    unsigned char head[16];
    be32(head, 0x803), be32(head + 4, n), be32(head + 8, rows), be32(head + 12, cols);
    if (write_blob(images_path, head, 16, pixels, (size_t)n * rows * cols, gz)) return -1;
    be32(head, 0x801), be32(head + 4, n);
    return write_blob(labels_path, head, 8, labels, n, gz);
}

static int make_split(const char *dir, const char *prefix, uint32_t n, uint32_t side, int classes, ol_rng *r, int gz) {
    size_t dim = (size_t)side * side;
    uint8_t *pixels = malloc(n * dim), *labels = malloc(n);
    if (!pixels || !labels) return -1;
    for (uint32_t i = 0; i < n; i++) {
        int c = (int)ol_rng_below(r, (uint64_t)classes);
        labels[i] = (uint8_t)c;
        for (size_t j = 0; j < dim; j++) {
            int band = (int)(j * classes / dim);
            double v = 40 * ol_rng_uniform(r) + (band == c ? 150 + 60 * ol_rng_uniform(r) : 0);
            pixels[i * dim + j] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
    char img[1024], lab[1024];
    snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
    snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
    int rc = fixture_write_idx(img, lab, pixels, labels, n, side, side, gz);
    free(pixels);
    free(labels);
    return rc;
}

int fixture_make_dataset(const char *dir, uint32_t n_train, uint32_t n_test, uint32_t side, int classes,
                         uint64_t seed, int gz) {
    mkdir(dir, 0755);
    ol_rng r;
    ol_rng_seed(&r, seed);
    if (make_split(dir, "train", n_train, side, classes, &r, gz)) return -1;
    return make_split(dir, "t10k", n_test, side, classes, &r, gz);
}

ol_optim *fixture_optim_f64(const char *spec, double lr, double *x, double *g, size_t n) {
    ol_optim *o = NULL;
    if (ol_optim_create(&o, spec, lr)) {
        fprintf(stderr, "    create(%s): %s\n", spec, ol_error());
        return NULL;
    }
    if (ol_optim_add_group_f64(o, x, g, n, -1, -1)) {
        fprintf(stderr, "    add_group: %s\n", ol_error());
        ol_optim_free(o);
        return NULL;
    }
    return o;
}
