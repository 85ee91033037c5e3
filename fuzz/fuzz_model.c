/* fuzz_model.c: fuzzes the model file loader, ol_mlp_load.
 *
 * Input: a model file as optlab train --save writes it (the corpus holds real ones and cut or
 * bit-flipped copies). It is loaded as it is, then, when its CRC-32 trailer is wrong, once more
 * with the trailer rewritten, so that the fuzzer gets past the checksum to the checks behind it.
 * Checked on success: the model is consistent, runs forward on a small batch, and saves and loads
 * back to the same spec, normalization, image shape and bits. On failure: the model holds no buffers, and the
 * loader did not run out of memory (a file of n bytes never needs more than about 2n bytes; under
 * a memory limit, as in the regression test, a loader that allocates what the spec inside says
 * before checking it against the file fails this). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "optlab/autodiff.h"
#include "optlab/nn.h"

#define FUZZ_MODEL_RUN_PARAMS 20000  /* run a forward pass only below this */

static int fuzz_model_check(ol_mlp *m) {
    size_t n = 0;
    for (int l = 0; l < m->n_layers; l++) n += (size_t)m->sizes[l] * m->sizes[l + 1] + m->sizes[l + 1];
    if (m->n_layers < 1 || m->n_layers > OL_MLP_MAX_LAYERS || n != m->n_params || !m->params) {
        fprintf(stderr, "fuzz_model: loaded an inconsistent model (%d layers, %zu parameters)\n", m->n_layers,
                m->n_params);
        return 1;
    }
    int bad = 0;
    if (m->n_params <= FUZZ_MODEL_RUN_PARAMS) {
        ol_mlp_graph mg;
        fuzz_clear_error();
        int rc = ol_mlp_graph_build(m, &mg, 1, 0);
        bad |= fuzz_check_rc(rc, "ol_mlp_graph_build");
        if (!rc) {
            float *x = ol_ad_value(mg.g, mg.x);
            for (int i = 0; i < m->sizes[0]; i++) x[i] = (float)(i % 3);
            ol_ad_labels(mg.g, mg.loss)[0] = 1;
            fuzz_clear_error();
            rc = ol_ad_set_batch(mg.g, 1);
            if (!rc) rc = ol_ad_forward(mg.g);
            bad |= fuzz_check_rc(rc, "forward");
            ol_mlp_graph_free(&mg);
        }
    }
    /* round trip */
    char path[512];
    fuzz_tmp_path(path, sizeof path, "model-resaved");
    fuzz_clear_error();
    int rc = ol_mlp_save(m, path);
    bad |= fuzz_check_rc(rc, "ol_mlp_save");
    if (!rc) {
        ol_mlp back;
        fuzz_clear_error();
        rc = ol_mlp_load(&back, path);
        if (rc) {
            fprintf(stderr, "fuzz_model: a saved model does not load back: %s\n", ol_error());
            bad = 1;
        } else {
            if (strcmp(back.spec, m->spec) || back.n_params != m->n_params ||
                memcmp(&back.input_mean, &m->input_mean, sizeof(float)) ||
                memcmp(&back.input_inv_std, &m->input_inv_std, sizeof(float)) || back.in_rows != m->in_rows ||
                back.in_cols != m->in_cols ||
                memcmp(back.params, m->params, m->n_params * sizeof(float))) {
                fprintf(stderr, "fuzz_model: a saved model loads back different (%s vs %s)\n", back.spec, m->spec);
                bad = 1;
            }
            ol_mlp_free(&back);
        }
    }
    unlink(path);
    return bad;
}

static int fuzz_model_load(const uint8_t *data, size_t size) {
    char path[512];
    fuzz_tmp_path(path, sizeof path, "model");
    if (fuzz_write_file(path, data, size, 0)) {
        fprintf(stderr, "fuzz_model: cannot write %s\n", path);
        return 1;
    }
    ol_mlp m;
    fuzz_clear_error();
    int rc = ol_mlp_load(&m, path);
    unlink(path);
    int bad = fuzz_check_rc(rc, "ol_mlp_load");
    if (!rc) {
        bad |= fuzz_model_check(&m);
        ol_mlp_free(&m);
    } else if (m.params || m.grads) {
        fprintf(stderr, "fuzz_model: failed (%s) but left buffers in the model\n", ol_error());
        bad = 1;
    } else if (strstr(ol_error(), "out of memory") && !memmem(data, size, "memory", 6)) {
        /* (the message quotes the spec inside the file: the fuzzer learns to write the words there) */
        /* a file of `size` bytes holds at most size/4 parameters: no need to allocate more */
        fprintf(stderr, "fuzz_model: a %zu-byte file made the loader allocate more than the memory limit: %s\n",
                size, ol_error());
        bad = 1;
    }
    return bad;
}

int fuzz_model_one(const uint8_t *data, size_t size) {
    int bad = fuzz_model_load(data, size);
    if (bad || size < 12) return bad;
    uint8_t *fixed = malloc(size);
    if (!fixed) return 0;
    memcpy(fixed, data, size);
    fuzz_fix_crc_trailer(fixed, size);
    if (memcmp(fixed, data, size)) bad = fuzz_model_load(fixed, size);
    free(fixed);
    return bad;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (fuzz_model_one(data, size)) abort();
    return 0;
}
#endif
