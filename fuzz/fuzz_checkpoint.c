/* fuzz_checkpoint.c: fuzzes the checkpoint reader: the container (ol_ckpt_parse) and, behind it,
 * the model section as --resume reads it (ol_mlp_deserialize).
 *
 * Input: a checkpoint file as optlab train --checkpoint writes it (the corpus holds real ones and
 * damaged copies). Parsed as it is, then once more with its CRC-32 trailer rewritten, so that the
 * fuzzer gets past the checksum to the section table. Checked on success: serializing the parsed
 * checkpoint gives back the same bytes (nothing half-read, nothing invented), and a model section,
 * when it parses, is consistent. On failure: an OL_E* code with a message, and nothing handed out. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "optlab/checkpoint.h"
#include "optlab/nn.h"

static int fuzz_checkpoint_parse(const uint8_t *data, size_t size) {
    ol_ckpt c;
    memset(&c, 0, sizeof c);
    fuzz_clear_error();
    int rc = ol_ckpt_parse(&c, data, size, "fuzz.ckpt");
    int bad = fuzz_check_rc(rc, "ol_ckpt_parse");
    if (rc) {
        if (c.n != 0) {
            fprintf(stderr, "fuzz_checkpoint: failed (%s) but handed out %d sections\n", ol_error(), c.n);
            bad = 1;
        }
        return bad;
    }
    unsigned char *again;
    size_t again_len;
    fuzz_clear_error();
    rc = ol_ckpt_serialize(&c, &again, &again_len);
    bad |= fuzz_check_rc(rc, "ol_ckpt_serialize");
    if (!rc) {
        if (again_len != size || memcmp(again, data, size)) {
            fprintf(stderr, "fuzz_checkpoint: a parsed checkpoint serializes to other bytes (%zu vs %zu)\n", again_len,
                    size);
            bad = 1;
        }
        free(again);
    }
    size_t len;
    const unsigned char *model = ol_ckpt_get(&c, "MODL", &len);
    if (model) {
        ol_mlp m;
        fuzz_clear_error();
        rc = ol_mlp_deserialize(&m, model, len, "MODL");
        bad |= fuzz_check_rc(rc, "ol_mlp_deserialize");
        if (!rc) {
            size_t n = 0;
            for (int l = 0; l < m.n_layers; l++) n += (size_t)m.sizes[l] * m.sizes[l + 1] + m.sizes[l + 1];
            if (n != m.n_params || !m.params) {
                fprintf(stderr, "fuzz_checkpoint: inconsistent model section (%zu parameters)\n", m.n_params);
                bad = 1;
            }
            ol_mlp_free(&m);
        } else if (m.params || m.grads) {
            fprintf(stderr, "fuzz_checkpoint: model section failed (%s) but left buffers\n", ol_error());
            bad = 1;
        }
    }
    ol_ckpt_free(&c);
    return bad;
}

int fuzz_checkpoint_one(const uint8_t *data, size_t size) {
    int bad = fuzz_checkpoint_parse(data, size);
    if (bad || size < 20) return bad;
    uint8_t *fixed = malloc(size);
    if (!fixed) return 0;
    memcpy(fixed, data, size);
    fuzz_fix_crc_trailer(fixed, size);
    if (memcmp(fixed, data, size)) bad = fuzz_checkpoint_parse(fixed, size);
    free(fixed);
    return bad;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (fuzz_checkpoint_one(data, size)) abort();
    return 0;
}
#endif
