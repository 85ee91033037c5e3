/* fuzz_idx.c: fuzzes the IDX reader, ol_data_load_idx (raw and gzip files), and the same parser over
 * memory, ol_data_load_subset (the report page's four joined IDX files: the payload as it is).
 *
 * Input: byte 0 = flags, bytes 1..4 = split (little-endian u32), then the payload.
 *   flags bit 0: gzip the image part before writing it     bit 1: gzip the label part
 *   flags bit 2: read the image file as the label file too (one file, both roles)
 * The payload is cut at split % (payload length + 1): the bytes before are the image file, the
 * rest the label file. The payload itself may also be gzip data (zlib detects it by content), so
 * the corpus holds raw and pre-compressed files; the flags add compression of fuzzed raw bytes.
 * Checked on success: the dataset is non-empty and consistent (every label < n_classes <= 256). */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "optlab/data.h"

/* a loaded set is non-empty and consistent, and its last pixel is there (ASan reads it) */
static int set_is_sound(const ol_dataset *d, const char *what) {
    if (d->n == 0 || d->rows == 0 || d->cols == 0 || !d->pixels || !d->labels || d->n_classes < 1 ||
        d->n_classes > OL_DATA_MAX_CLASSES || !d->owns) {
        fprintf(stderr, "fuzz_idx: %s: an inconsistent dataset (n %u, %ux%u, %d classes)\n", what, d->n, d->rows,
                d->cols, d->n_classes);
        return 0;
    }
    for (uint32_t i = 0; i < d->n; i++)
        if (d->labels[i] >= d->n_classes) {
            fprintf(stderr, "fuzz_idx: %s: label %u >= n_classes %d\n", what, d->labels[i], d->n_classes);
            return 0;
        }
    volatile uint8_t sink = d->pixels[ol_dataset_dim(d) * d->n - 1];
    (void)sink;
    return 1;
}

/* the payload as a page's subset: loaded whole and sound, or refused leaving both sets zeroed */
static int fuzz_subset(const uint8_t *payload, size_t len) {
    ol_dataset train, test;
    fuzz_clear_error();
    int rc = ol_data_load_subset(payload, len, &train, &test);
    int bad = fuzz_check_rc(rc, "ol_data_load_subset");
    if (rc == OL_OK) {
        bad |= !set_is_sound(&train, "subset train") || !set_is_sound(&test, "subset test");
        ol_dataset_free(&train);
        ol_dataset_free(&test);
    } else if (train.n || train.pixels || train.labels || test.n || test.pixels || test.labels) {
        fprintf(stderr, "fuzz_idx: the subset failed (%s) but left data behind\n", ol_error());
        bad = 1;
    }
    return bad;
}

int fuzz_idx_one(const uint8_t *data, size_t size) {
    if (size < 5) return 0;
    unsigned flags = data[0];
    const uint8_t *payload = data + 5;
    size_t len = size - 5;
    size_t split = (size_t)fuzz_le32(data + 1) % (len + 1);
    char images[512], labels[512];
    fuzz_tmp_path(images, sizeof images, "images");
    fuzz_tmp_path(labels, sizeof labels, "labels");
    if (fuzz_write_file(images, payload, split, flags & 1) ||
        fuzz_write_file(labels, payload + split, len - split, (flags >> 1) & 1)) {
        fprintf(stderr, "fuzz_idx: cannot write temporary files %s, %s\n", images, labels);
        unlink(images);
        unlink(labels);
        return 1;
    }
    ol_dataset d;
    fuzz_clear_error();
    int rc = ol_data_load_idx(&d, images, (flags & 4) ? images : labels);
    int bad = fuzz_check_rc(rc, "ol_data_load_idx");
    if (rc == OL_OK) {
        bad |= !set_is_sound(&d, "files");
        ol_dataset_free(&d);
    } else if (d.n || d.pixels || d.labels) {
        fprintf(stderr, "fuzz_idx: failed (%s) but left data in *out\n", ol_error());
        bad = 1;
    }
    unlink(images);
    unlink(labels);
    return bad | fuzz_subset(payload, len);
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (fuzz_idx_one(data, size)) abort();
    return 0;
}
#endif
