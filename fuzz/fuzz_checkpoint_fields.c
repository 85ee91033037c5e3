/* fuzz_checkpoint_fields.c: fuzzes what `optlab train --resume` does with a checkpoint whose
 * checksums all hold: the checks of every field of every section and of the sections against each
 * other (src/train_checkpoint.c, ol_optim_state_load, ol_sampler_state_load), which the
 * checkpoint target reaches only by luck (a mutated byte fails a section's own checksum first).
 *
 * Input: a checkpoint made on this file's data set (fuzz_ckf_data; the seeds are checkpoints of
 * the runs gen_seeds.c makes with fuzz_ckf_run). After the mutation every checksum is
 * recomputed: each section's own (fuzz_fix_section_crcs) and the file's. The run then resumes from
 * it as `optlab train --resume F` does: the settings from the checkpoint, one thread, and a stop
 * request already raised (as by SIGINT), so that after one step it writes a checkpoint and stops.
 * Checked: a refusal is an OL_E* code with a message; a checkpoint the run wrote resumes in turn
 * (whatever the checks refuse, optlab itself never writes). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "optlab/checkpoint.h"
#include "optlab/train.h"
#include "optlab/train_settings.h"

/* 40 training images of 4x4 pixels, 3 classes: class c lights band c (learnable, so steps stay finite) */
#define FUZZ_CKF_N 40
#define FUZZ_CKF_SIDE 4

static void fuzz_ckf_data(ol_dataset *d, uint8_t *pixels, uint8_t *labels) {
    for (uint32_t i = 0; i < FUZZ_CKF_N; i++) {
        labels[i] = (uint8_t)(i % 3);
        for (int j = 0; j < FUZZ_CKF_SIDE * FUZZ_CKF_SIDE; j++)
            pixels[i * FUZZ_CKF_SIDE * FUZZ_CKF_SIDE + j] = (uint8_t)(j / 6 == (int)(i % 3) ? 200 : 20 + j + i % 7);
    }
    memset(d, 0, sizeof *d);
    d->n = FUZZ_CKF_N, d->rows = d->cols = FUZZ_CKF_SIDE;
    d->pixels = pixels, d->labels = labels, d->n_classes = 3;
}

/* Trains (seeds) or resumes a run on the data set: settings text as in a checkpoint (every=N for
 * --checkpoint-every), model mlp:16-8-3 unless it says otherwise; resume: the checkpoint to
 * continue (its settings then come from it); stop: one step, then the checkpoint and OL_ESTOPPED. */
static int fuzz_ckf_run(const char *settings_text, const char *resume, const char *checkpoint, int stop) {
    uint8_t pixels[FUZZ_CKF_N * FUZZ_CKF_SIDE * FUZZ_CKF_SIDE], labels[FUZZ_CKF_N];
    ol_dataset train;
    fuzz_ckf_data(&train, pixels, labels);
    ol_train_config c = ol_train_default_config();
    c.data = "fuzz-ckf", c.model_spec = "mlp:16-8-3";
    char *text = NULL;
    int rc = resume ? ol_train_checkpoint_settings(resume, &text) : OL_OK;
    int given[64] = {0};
    if (!rc && resume) rc = ol_train_settings_apply(&c, text, given);
    if (!rc && resume) c.on_divergence = OL_DIVERGE_ROLLBACK, c.max_rollbacks = 3; /* rollbacks restore what was restored */
    if (!rc && !resume && !(text = strdup(settings_text ? settings_text : ""))) rc = OL_ENOMEM;
    if (!rc && !resume) { /* a seed's run: every line a setting (values point into text), but every=N */
        c.checkpoint_epoch = 1;
        for (char *line = text, *next; line && *line && !rc; line = next) {
            next = strchr(line, '\n');
            if (next) *next++ = 0;
            char *eq = strchr(line, '=');
            if (!eq) continue;
            *eq = 0;
            const ol_train_setting *st = ol_train_setting_find(line);
            if (!strcmp(line, "every")) c.checkpoint_every = atol(eq + 1), c.checkpoint_epoch = 0;
            else rc = st ? ol_train_setting_parse(st, eq + 1, &c, line) : ol_fail(OL_EARG, "no setting %s", line);
        }
    }
    if (!rc) {
        static volatile sig_atomic_t raised = 1;
        c.threads = 1, c.quiet = 1, c.skip_test = 1;
        c.resume_path = resume, c.checkpoint_path = checkpoint;
        if (stop) c.stop = &raised;
        ol_train_result r;
        rc = ol_train_fit(&c, &train, NULL, &r);
    }
    free(text);
    return rc;
}

/* The input as a checkpoint with every checksum right (malloc'ed), or NULL when it is no container. */
static unsigned char *fuzz_ckf_fix(const uint8_t *data, size_t size, size_t *out_len) {
    if (size < 20) return NULL;
    uint8_t *fixed = malloc(size);
    if (!fixed) return NULL;
    memcpy(fixed, data, size);
    fuzz_fix_crc_trailer(fixed, size);
    ol_ckpt c, d;
    int rc = ol_ckpt_parse(&c, fixed, size, "fuzz.ckpt");
    free(fixed);
    if (rc) return NULL;
    ol_ckpt_init(&d);
    for (int i = 0; i < c.n && !rc; i++) {
        fuzz_fix_section_crcs(c.tag[i], c.data[i], c.len[i]);
        rc = ol_ckpt_add(&d, c.tag[i], c.data[i], c.len[i]);
    }
    unsigned char *out = NULL;
    if (!rc && ol_ckpt_serialize(&d, &out, out_len)) out = NULL;
    ol_ckpt_free(&c);
    ol_ckpt_free(&d);
    return out;
}

int fuzz_checkpoint_fields_one(const uint8_t *data, size_t size) {
    size_t len;
    unsigned char *ck = fuzz_ckf_fix(data, size, &len);
    if (!ck) return 0; /* not a container: the checkpoint target's business */
    char first[512], written[512], again[512];
    fuzz_tmp_path(first, sizeof first, "ckf-in");
    fuzz_tmp_path(written, sizeof written, "ckf-written");
    fuzz_tmp_path(again, sizeof again, "ckf-again");
    int bad = 0;
    remove(written);
    if (fuzz_write_file(first, ck, len, 0) == 0) {
        fuzz_clear_error();
        int rc = fuzz_ckf_run(NULL, first, written, 1);
        if (rc != OL_ESTOPPED) bad = fuzz_check_rc(rc, "resume");
        if (rc == OL_ESTOPPED && access(written, F_OK) == 0) {
            fuzz_clear_error();
            int rc2 = fuzz_ckf_run(NULL, written, again, 1);
            if (rc2 != OL_OK && rc2 != OL_ESTOPPED && rc2 != OL_ENUMERIC) {
                fprintf(stderr, "fuzz_checkpoint_fields: a checkpoint optlab wrote does not resume: %s\n", ol_error());
                bad = 1;
            }
        }
    }
    remove(first);
    remove(written);
    remove(again);
    free(ck);
    return bad;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (fuzz_checkpoint_fields_one(data, size)) abort();
    return 0;
}
#endif
