/* nn.c: MLPs from a spec over one flat parameter block; init schemes; graphs; model files.
 * See include/optlab/nn.h. */
#include "optlab/nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/rng.h"

#define MODEL_MAGIC "OLMODEL1"
#define MODEL_VERSION 2u   /* 2: the image shape after the normalization; 1 still loads */
#define MAX_WIDTH 1000000

static int parse_act(const char *text, int *act) {
    if (!strcmp(text, "relu")) *act = OL_ACT_RELU;
    else if (!strcmp(text, "tanh")) *act = OL_ACT_TANH;
    else if (!strcmp(text, "sigmoid")) *act = OL_ACT_SIGMOID;
    else return ol_fail(OL_EARG, "unknown activation '%s'; use act=relu, tanh or sigmoid", text);
    return OL_OK;
}

static int parse_init(ol_mlp *m, const char *text) {
    ol_spec s;
    int rc = ol_spec_parse(&s, text, "init");
    if (rc) return rc;
    double std = 0;
    if (!strcmp(s.name, "torch")) m->init = OL_INIT_TORCH;
    else if (!strcmp(s.name, "xavier")) m->init = OL_INIT_XAVIER;
    else if (!strcmp(s.name, "normal")) {
        m->init = OL_INIT_NORMAL;
        if (ol_spec_get_double(&s, "std", 0.01, &std) < 0) return OL_EARG;
        if (!(std > 0)) return ol_fail(OL_EARG, "init=normal: std must be > 0, got %g", std);
        m->init_std = std;
    } else
        return ol_fail(OL_EARG, "unknown init '%s'; use init=torch, xavier or normal:std=S", s.name);
    return ol_spec_check_unused(&s, m->init == OL_INIT_NORMAL ? "std" : "");
}

/* "mlp:784-256-10,act=relu,init=xavier" */
static int parse_spec(ol_mlp *m, const char *spec) {
    const char *usage = "expected mlp:IN-HIDDEN-...-CLASSES[,act=relu|tanh|sigmoid][,init=torch|xavier|normal:std=S]";
    if (strncmp(spec, "mlp:", 4) != 0) return ol_fail(OL_EARG, "unknown model '%s': %s", spec, usage);
    const char *p = spec + 4;
    m->n_layers = -1;
    while (1) {
        char *end;
        if (*p < '0' || *p > '9') return ol_fail(OL_EARG, "bad model spec '%s': %s", spec, usage);
        long v = strtol(p, &end, 10);
        if (v < 1 || v > MAX_WIDTH)
            return ol_fail(OL_EARG, "bad model spec '%s': layer size %ld outside [1, %d]", spec, v, MAX_WIDTH);
        if (m->n_layers + 1 > OL_MLP_MAX_LAYERS)
            return ol_fail(OL_EARG, "bad model spec '%s': more than %d layers", spec, OL_MLP_MAX_LAYERS);
        m->sizes[++m->n_layers] = (int)v;
        p = end;
        if (*p == '-') { p++; continue; }
        if (*p == 0 || *p == ',') break;
        return ol_fail(OL_EARG, "bad model spec '%s': %s", spec, usage);
    }
    if (m->n_layers < 1) return ol_fail(OL_EARG, "bad model spec '%s': needs at least an input and an output size", spec);
    if (m->sizes[m->n_layers] < 2) return ol_fail(OL_EARG, "bad model spec '%s': needs at least 2 classes", spec);
    m->act = OL_ACT_RELU;
    m->init = OL_INIT_TORCH;
    if (*p == ',') {
        char buf[300];
        snprintf(buf, sizeof buf, "mlp:%s", p + 1);
        ol_spec s;
        int rc = ol_spec_parse(&s, buf, "model");
        if (rc) return rc;
        const char *act = ol_spec_get_str(&s, "act"), *init = ol_spec_get_str(&s, "init");
        if (act && (rc = parse_act(act, &m->act))) return rc;
        if (init && (rc = parse_init(m, init))) return rc;
        if ((rc = ol_spec_check_unused(&s, "act, init"))) return rc;
    }
    return OL_OK;
}

static void canonical_spec(ol_mlp *m) {
    static const char *acts[] = {"", "relu", "tanh", "sigmoid"};
    int len = snprintf(m->spec, sizeof m->spec, "mlp:");
    for (int l = 0; l <= m->n_layers; l++)
        len += snprintf(m->spec + len, sizeof m->spec - (size_t)len, l ? "-%d" : "%d", m->sizes[l]);
    len += snprintf(m->spec + len, sizeof m->spec - (size_t)len, ",act=%s", acts[m->act]);
    if (m->init == OL_INIT_XAVIER) snprintf(m->spec + len, sizeof m->spec - (size_t)len, ",init=xavier");
    else if (m->init == OL_INIT_NORMAL)
        snprintf(m->spec + len, sizeof m->spec - (size_t)len, ",init=normal:std=%.9g", m->init_std);
}

int ol_mlp_layout(ol_mlp *m, const char *spec, size_t max_bytes) {
    memset(m, 0, sizeof *m);
    if (strlen(spec) > 200) return ol_fail(OL_EARG, "model spec too long (%zu characters)", strlen(spec));
    int rc = parse_spec(m, spec);
    if (rc) return rc;
    size_t n = 0;
    for (int l = 0; l < m->n_layers; l++) {
        size_t in = (size_t)m->sizes[l], out = (size_t)m->sizes[l + 1];
        m->w_off[l] = n;
        n += in * out; /* sizes <= 1e6 each: in*out <= 1e12, no overflow in 64-bit size_t */
        m->b_off[l] = n;
        n += out;
    }
    m->n_params = n;
    m->input_mean = 0.0f;
    m->input_inv_std = 1.0f;
    double bytes = 2.0 * (double)n * sizeof(float);
    if (max_bytes && bytes > (double)max_bytes)
        return ol_fail(OL_ENOMEM, "model %s has %zu parameters: its weights and gradients need %.0f bytes, more than the %zu allowed",
                       spec, n, bytes, max_bytes);
    canonical_spec(m);
    return OL_OK;
}

int ol_mlp_create(ol_mlp *m, const char *spec, size_t max_bytes) {
    int rc = ol_mlp_layout(m, spec, max_bytes);
    if (rc) return rc;
    size_t n = m->n_params;
    double bytes = 2.0 * (double)n * sizeof(float);
    m->params = ol_aligned_calloc(n, sizeof(float));
    m->grads = ol_aligned_calloc(n + 1, sizeof(float)); /* + 1: room for the loss in an all-reduce */
    if (!m->params || !m->grads) {
        ol_mlp_free(m);
        return ol_fail(OL_ENOMEM, "model %s: out of memory for %zu parameters (%.0f bytes)", spec, n, bytes);
    }
    return OL_OK;
}

void ol_mlp_free(ol_mlp *m) {
    free(m->params);
    free(m->grads);
    m->params = m->grads = NULL;
}

void ol_mlp_init(ol_mlp *m, uint64_t seed) {
    ol_rng r;
    ol_rng_seed(&r, seed);
    for (int l = 0; l < m->n_layers; l++) {
        int in = m->sizes[l], out = m->sizes[l + 1];
        float *w = m->params + m->w_off[l], *b = m->params + m->b_off[l];
        size_t nw = (size_t)in * out;
        double bound_torch = 1.0 / sqrt((double)in);
        double bound_xavier = sqrt(6.0 / (double)(in + out));
        for (size_t i = 0; i < nw; i++) {
            switch (m->init) {
            case OL_INIT_XAVIER: w[i] = (float)ol_rng_uniform_range(&r, -bound_xavier, bound_xavier); break;
            case OL_INIT_NORMAL: w[i] = (float)(m->init_std * ol_rng_normal(&r)); break;
            default: w[i] = (float)ol_rng_uniform_range(&r, -bound_torch, bound_torch); break;
            }
        }
        for (int j = 0; j < out; j++)
            b[j] = m->init == OL_INIT_TORCH ? (float)ol_rng_uniform_range(&r, -bound_torch, bound_torch) : 0.0f;
    }
}

int ol_mlp_graph_build(ol_mlp *m, ol_mlp_graph *mg, int max_batch, int with_grad) {
    memset(mg, 0, sizeof *mg);
    ol_graph *g = ol_ad_new(OL_F32);
    if (!g) return OL_ENOMEM;
    int h = mg->x = ol_ad_input(g, 1, m->sizes[0], 1);
    for (int l = 0; l < m->n_layers; l++) {
        int in = m->sizes[l], out = m->sizes[l + 1];
        int w = ol_ad_param(g, in, out, m->params + m->w_off[l], with_grad ? m->grads + m->w_off[l] : NULL);
        int b = ol_ad_param(g, 1, out, m->params + m->b_off[l], with_grad ? m->grads + m->b_off[l] : NULL);
        h = ol_ad_linear(g, h, w, b, l + 1 < m->n_layers ? m->act : 0);
    }
    mg->logits = h;
    mg->loss = ol_ad_softmax_xent(g, h);
    int rc = mg->loss < 0 ? OL_EARG : ol_ad_compile(g, max_batch, with_grad);
    if (rc) {
        ol_ad_free(g);
        return rc;
    }
    mg->g = g;
    return OL_OK;
}

void ol_mlp_graph_free(ol_mlp_graph *mg) {
    ol_ad_free(mg->g);
    mg->g = NULL;
}

long ol_mlp_graph_correct(ol_mlp_graph *mg) {
    const float *z = ol_ad_value(mg->g, mg->logits);
    const int32_t *y = ol_ad_labels(mg->g, mg->loss);
    int rows = ol_ad_rows(mg->g, mg->logits), k = ol_ad_cols(mg->g, mg->logits);
    long correct = 0;
    for (int i = 0; i < rows; i++) {
        const float *zi = z + (size_t)i * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (zi[j] > zi[best]) best = j;
        correct += best == y[i];
    }
    return correct;
}

/* ---- model files ---- */

static void put_f32(unsigned char *p, float v) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    ol_put_u32(p, bits);
}
static float get_f32(const unsigned char *p) {
    uint32_t bits = ol_get_u32(p);
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

int ol_mlp_check_shape(const ol_mlp *m, uint32_t rows, uint32_t cols) {
    size_t dim = (size_t)rows * cols;
    if (dim != (size_t)m->sizes[0])
        return ol_fail(OL_EARG, "the data's images have %zu pixels (%ux%u) but the model %s expects %d inputs", dim, rows,
                       cols, m->spec, m->sizes[0]);
    if (m->in_rows && (m->in_rows != rows || m->in_cols != cols))
        return ol_fail(OL_EARG, "the data's images are %ux%u but the model %s was trained on %ux%u images (the same %zu "
                       "pixels, arranged otherwise): give it data of %ux%u images",
                       rows, cols, m->spec, m->in_rows, m->in_cols, dim, m->in_rows, m->in_cols);
    return OL_OK;
}

int ol_mlp_serialize(const ol_mlp *m, unsigned char **out, size_t *out_len) {
    size_t spec_len = strlen(m->spec);
    size_t len = 8 + 4 + 4 + spec_len + 8 + 8 + 8 + m->n_params * 4 + 4;
    unsigned char *buf = ol_malloc_array(len, 1);
    if (!buf) return OL_ENOMEM;
    unsigned char *p = buf;
    memcpy(p, MODEL_MAGIC, 8), p += 8;
    ol_put_u32(p, MODEL_VERSION), p += 4;
    ol_put_u32(p, (uint32_t)spec_len), p += 4;
    memcpy(p, m->spec, spec_len), p += spec_len;
    put_f32(p, m->input_mean), p += 4;
    put_f32(p, m->input_inv_std), p += 4;
    ol_put_u32(p, m->in_rows), p += 4;
    ol_put_u32(p, m->in_cols), p += 4;
    ol_put_u64(p, m->n_params), p += 8;
    for (size_t i = 0; i < m->n_params; i++, p += 4) put_f32(p, m->params[i]);
    ol_put_u32(p, ol_crc32(0, buf, (size_t)(p - buf)));
    *out = buf;
    *out_len = len;
    return OL_OK;
}

int ol_mlp_save(const ol_mlp *m, const char *path) {
    unsigned char *buf;
    size_t len;
    int rc = ol_mlp_serialize(m, &buf, &len);
    if (rc) return rc;
    rc = ol_write_file_atomic(path, buf, len);
    free(buf);
    return rc;
}

int ol_mlp_deserialize(ol_mlp *m, const unsigned char *buf, size_t len, const char *what) {
    memset(m, 0, sizeof *m);
    const int rc = OL_EFORMAT;
    if (len < 8 || memcmp(buf, MODEL_MAGIC, 8) != 0)
        return ol_fail(rc, "%s is not an optlab model file (wrong magic); save one with optlab train --save", what);
    if (len < 16 + 8 + 8 + 4) return ol_fail(rc, "%s: truncated model file (%zu bytes)", what, len);
    uint32_t version = ol_get_u32(buf + 8), spec_len = ol_get_u32(buf + 12);
    /* the version is believed only once the checksum holds (a flipped bit is corruption, not
     * "newer"); a file whose lengths do not add up is reported as truncated below */
    int crc_ok = ol_crc32(0, buf, len - 4) == ol_get_u32(buf + len - 4);
    if (crc_ok && version > MODEL_VERSION)
        return ol_fail(rc, "%s: model format version %u is newer than this optlab's (%u); upgrade optlab", what, version,
                       MODEL_VERSION);
    /* the header after the spec: normalization (8 bytes), the shape (8, format 2), n_params (8) */
    const size_t head = version >= 2 ? 24 : 16;
    if (spec_len == 0 || spec_len > 255 || 16 + (size_t)spec_len + head + 4 > len)
        return ol_fail(rc, "%s: truncated or corrupt model file (spec length %u)", what, spec_len);
    const unsigned char *norm = buf + 16 + spec_len;
    uint64_t n_params = ol_get_u64(norm + head - 8);
    if (n_params > (len - 16 - spec_len - head - 4) / 4 || 16 + spec_len + head + n_params * 4 + 4 != len)
        return ol_fail(rc, "%s: truncated or corrupt model file (%zu bytes for %llu parameters)", what, len,
                       (unsigned long long)n_params);
    if (!crc_ok) return ol_fail(rc, "%s: checksum mismatch: the model file is corrupt", what);
    char spec[256];
    memcpy(spec, buf + 16, spec_len);
    spec[spec_len] = 0;
    /* the header's parameter count is bounded by the file's length: a spec that needs more is
     * refused before anything is allocated */
    if (ol_mlp_create(m, spec, (size_t)n_params * 2 * sizeof(float) + 64)) {
        char why[512];
        snprintf(why, sizeof why, "%s", ol_error());
        return ol_fail(rc, "%s: bad model spec inside: %s", what, why);
    }
    if (m->n_params != n_params) {
        size_t expected = m->n_params;
        ol_mlp_free(m);
        return ol_fail(rc, "%s: holds %llu parameters but %s has %zu", what, (unsigned long long)n_params, spec, expected);
    }
    m->input_mean = get_f32(norm);
    m->input_inv_std = get_f32(norm + 4);
    if (!isfinite(m->input_mean) || !(m->input_inv_std > 0) || !isfinite(m->input_inv_std)) {
        ol_mlp_free(m);
        return ol_fail(rc, "%s: corrupt input normalization in the model file", what);
    }
    if (version >= 2) {
        m->in_rows = ol_get_u32(norm + 8);
        m->in_cols = ol_get_u32(norm + 12);
        if ((m->in_rows || m->in_cols) && (uint64_t)m->in_rows * m->in_cols != (uint64_t)m->sizes[0]) {
            uint32_t rows = m->in_rows, cols = m->in_cols;
            ol_mlp_free(m);
            return ol_fail(rc, "%s: corrupt image shape in the model file (%ux%u for %s)", what, rows, cols, spec);
        }
    }
    const unsigned char *p = norm + head;
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < m->n_params; i++, p += 4)
        if (!isfinite(m->params[i] = get_f32(p)) && !bad++) first = i;
    if (bad) { /* a model that diverged: its predictions would be meaningless, not merely poor */
        size_t n = m->n_params;
        ol_mlp_free(m);
        return ol_fail(rc, "%s: %zu of its %zu parameters are NaN or Inf (the first is number %zu): the model diverged before it was saved; train it again",
                       what, bad, n, first);
    }
    return OL_OK;
}

int ol_mlp_load(ol_mlp *m, const char *path) {
    memset(m, 0, sizeof *m);
    unsigned char *buf;
    size_t len;
    /* 16 GiB, or all that a 32-bit size_t counts */
    int rc = ol_read_file_magic(path, MODEL_MAGIC, 8,
                                (size_t)((uint64_t)SIZE_MAX < (uint64_t)1 << 34 ? (uint64_t)SIZE_MAX : (uint64_t)1 << 34),
                                &buf, &len);
    if (rc) return rc;
    rc = ol_mlp_deserialize(m, buf, len, path);
    free(buf);
    return rc;
}
