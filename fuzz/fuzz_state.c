/* fuzz_state.c: fuzzes the saved-state loaders a checkpoint is made of: ol_optim_state_load
 * (optimizer with its schedule and warm-up) and ol_sampler_state_load.
 *
 * Input: byte 0 = selector, then the state blob.
 *   selector & 0x0f picks a setup (mod FUZZ_STATE_N_SETUPS): an optimizer from the table below
 *     (kind, groups, schedule, warm-up), or a sampler; the sampler's kind, n and batch are taken
 *     from the blob's own fields when they are sane (n <= 4096), so mutations reach past the
 *     "same settings" check.
 *   selector bit 7: rewrite the blob's checksums first (the schedule part's, found by its magic
 *     "OLSC", and the trailer), so the fuzzer reaches the checks behind them.
 * Checked on success: the optimizer steps (a loaded counter or lr must not break the arithmetic),
 * the sampler returns in-range batches, and a state saved after that loads back. fuzz/gen_seeds.c
 * writes the seed corpus with ol_optim_state_save / ol_sampler_state_save for every setup. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "optlab/data.h"
#include "optlab/sampler.h"
#include "optlab/optim.h"

typedef struct {
    const char *opt;        /* optimizer spec; NULL = a sampler */
    const char *schedule;   /* NULL = constant */
    long warmup;
    int n_f32, n_f64;       /* a float group of n_f32 values and/or a double group of n_f64 */
    int sampler_kind;
} fuzz_state_setup;

static const fuzz_state_setup fuzz_state_setups[] = {
    {"adam", "cosine:t_max=50", 3, 5, 0, 0},
    {"sgd:momentum=0.9,nesterov=1", "step:step_size=4,gamma=0.5", 0, 3, 2, 0},
    {"nadam", "onecycle:total_steps=60", 0, 4, 0, 0},
    {"rmsprop:centered=1,momentum=0.5", "plateau:patience=1", 0, 4, 0, 0},
    {"adagrad", "cosine-restarts:t_0=3,t_mult=2", 2, 0, 3, 0},
    {"random:sigma=0.5,samples=2", NULL, 0, 4, 0, 0},
    {"adamw:amsgrad=1", "cyclic:max_lr=0.1,step_size_up=3", 0, 6, 0, 0},
    {"radam", "multistep:milestones=2/5", 1, 4, 0, 0},
    {"heavyball", "linear", 0, 3, 0, 0},
    {"gd", NULL, 0, 2, 0, 0},
    {NULL, NULL, 0, 0, 0, OL_SAMPLER_SHUFFLE},
    {NULL, NULL, 0, 0, 0, OL_SAMPLER_IID},
    /* issue 19: scalars after the buffers (lbfgs's counters and ring, asgd's eta per group) */
    {"lbfgs:history_size=3,max_iter=3,line_search=strong_wolfe", "cosine:t_max=50", 0, 4, 0, 0},
    {"asgd:t0=2,lambd=0.01", "step:step_size=3,gamma=0.5", 1, 3, 2, 0},
    {"rprop", "plateau:patience=1", 0, 4, 2, 0},
    {"adadelta:weight_decay=0.1", NULL, 0, 3, 3, 0},
};
#define FUZZ_STATE_N_SETUPS ((int)(sizeof fuzz_state_setups / sizeof fuzz_state_setups[0]))

/* The buffers an optimizer setup works on. */
typedef struct {
    float x32[8], g32[8];
    double x64[8], g64[8];
} fuzz_state_params;

static double fuzz_state_objective(const void *x, void *userdata) {
    (void)userdata;
    const float *v = x;
    double f = 0;
    for (int i = 0; i < 4; i++) f += (double)(v[i] - 1) * (v[i] - 1);
    return f;
}

/* lbfgs's closure: f = sum (x - 1)^2 / 2 over the float buffer */
static int fuzz_state_closure(void *userdata, double *f) {
    fuzz_state_params *p = userdata;
    *f = 0;
    for (int i = 0; i < 8; i++) {
        p->g32[i] = p->x32[i] - 1;
        *f += 0.5 * (double)p->g32[i] * p->g32[i];
    }
    return 0;
}

/* Builds setup k's optimizer over p (deterministic: the seeds depend on it). Returns 0 or an error
 * code (with a message): the setups are fixed, so an error here is a broken harness. */
int fuzz_state_make_optim(int k, ol_optim **out, fuzz_state_params *p) {
    const fuzz_state_setup *st = &fuzz_state_setups[k];
    for (int i = 0; i < 8; i++) {
        p->x32[i] = 0.25f * (float)i - 1;
        p->g32[i] = 0.5f - 0.125f * (float)i;
        p->x64[i] = 0.5 * i;
        p->g64[i] = 0.1 * i - 0.3;
    }
    ol_optim *o;
    int rc = ol_optim_create(&o, st->opt, 0.05);
    if (rc) return rc;
    if (st->n_f32) rc = ol_optim_add_group(o, p->x32, p->g32, (size_t)st->n_f32, -1, -1);
    if (!rc && st->n_f64) rc = ol_optim_add_group_f64(o, p->x64, p->g64, (size_t)st->n_f64, 0.02, -1);
    if (!rc && (st->schedule || st->warmup)) rc = ol_optim_set_schedule(o, st->schedule, st->warmup);
    if (rc) {
        ol_optim_free(o);
        return rc;
    }
    if (ol_optim_kind(o) == OL_OPTIM_RANDOM) ol_optim_set_objective(o, fuzz_state_objective, NULL);
    ol_optim_set_closure(o, fuzz_state_closure, p);
    *out = o;
    return OL_OK;
}

/* Rewrites the schedule part's CRC (located by its magic "OLSC" and the length the optimizer
 * header records at offset 112) and the trailer. */
static void fuzz_state_fix_optim_crcs(uint8_t *b, size_t len) {
    if (len >= 120) {
        uint64_t sched_len = fuzz_le64(b + 112);
        for (size_t s = 0; s + 4 <= len; s++)
            if (!memcmp(b + s, "OLSC", 4)) {
                if (sched_len >= 8 && sched_len <= len - 4 - s) fuzz_fix_crc_trailer(b + s, (size_t)sched_len);
                break;
            }
    }
    fuzz_fix_crc_trailer(b, len);
}

static int fuzz_state_optim(int k, const uint8_t *blob, size_t len) {
    fuzz_state_params p;
    ol_optim *o;
    if (fuzz_state_make_optim(k, &o, &p)) {
        fprintf(stderr, "fuzz_state: setup %d fails: %s\n", k, ol_error());
        return 1;
    }
    fuzz_clear_error();
    int rc = ol_optim_state_load(o, blob, len);
    int bad = fuzz_check_rc(rc, "ol_optim_state_load");
    if (!rc) {
        for (int s = 0; s < 3 && !bad; s++) {
            fuzz_clear_error();
            int r = ol_optim_step(o);
            if (r == OL_ESTATE || r == OL_ENUMERIC) break; /* schedule exhausted; loaded state diverges */
            bad |= fuzz_check_rc(r, "ol_optim_step after a load");
            if (r) break;
            (void)ol_optim_get_lr(o, 0);
        }
        if (ol_optim_step_count(o) < 0) {
            fprintf(stderr, "fuzz_state: negative step count %ld after a load\n", ol_optim_step_count(o));
            bad = 1;
        }
        size_t size = ol_optim_state_size(o);
        uint8_t *again = malloc(size);
        if (again && !bad) {
            fuzz_clear_error();
            rc = ol_optim_state_save(o, again, size);
            bad |= fuzz_check_rc(rc, "ol_optim_state_save");
            if (!rc && ol_optim_state_load(o, again, size)) {
                fprintf(stderr, "fuzz_state: an optimizer cannot load the state it saved: %s\n", ol_error());
                bad = 1;
            }
        }
        free(again);
    }
    ol_optim_free(o);
    return bad;
}

static int fuzz_state_sampler(int k, const uint8_t *blob, size_t len) {
    int kind = fuzz_state_setups[k].sampler_kind;
    uint32_t n = 10, batch = 3;
    if (len >= 24) {
        uint32_t bk = fuzz_le32(blob + 12), bn = fuzz_le32(blob + 16), bb = fuzz_le32(blob + 20);
        if (bk == OL_SAMPLER_SHUFFLE || bk == OL_SAMPLER_IID) kind = (int)bk;
        if (bn >= 1 && bn <= 4096 && bb >= 1 && bb <= bn) n = bn, batch = bb;
    }
    ol_sampler s;
    if (ol_sampler_init(&s, kind, n, batch, 7)) {
        fprintf(stderr, "fuzz_state: ol_sampler_init(%d, %u, %u) fails: %s\n", kind, n, batch, ol_error());
        return 1;
    }
    fuzz_clear_error();
    int rc = ol_sampler_state_load(&s, blob, len);
    int bad = fuzz_check_rc(rc, "ol_sampler_state_load");
    if (!rc) {
        for (uint32_t b = 0; b < s.n_batches + 2 && !bad; b++) {
            const uint32_t *idx;
            uint32_t got = ol_sampler_next(&s, &idx);
            if (got > batch) bad = 1;
            for (uint32_t i = 0; i < got && !bad; i++) bad = idx[i] >= n;
            if (bad) fprintf(stderr, "fuzz_state: the sampler returned a bad batch after a load\n");
        }
        uint8_t again[512];
        size_t size = ol_sampler_state_size(&s);
        if (!bad && size <= sizeof again) {
            fuzz_clear_error();
            rc = ol_sampler_state_save(&s, again, size);
            bad |= fuzz_check_rc(rc, "ol_sampler_state_save");
            if (!rc && ol_sampler_state_load(&s, again, size)) {
                fprintf(stderr, "fuzz_state: a sampler cannot load the state it saved: %s\n", ol_error());
                bad = 1;
            }
        }
    }
    ol_sampler_free(&s);
    return bad;
}

int fuzz_state_one(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int k = (data[0] & 0x0f) % FUZZ_STATE_N_SETUPS;
    size_t len = size - 1;
    uint8_t *blob = malloc(len ? len : 1);
    if (!blob) return 0;
    if (len) memcpy(blob, data + 1, len);
    if (data[0] & 0x80) {
        if (fuzz_state_setups[k].opt) fuzz_state_fix_optim_crcs(blob, len);
        else fuzz_fix_crc_trailer(blob, len);
    }
    int bad = fuzz_state_setups[k].opt ? fuzz_state_optim(k, blob, len) : fuzz_state_sampler(k, blob, len);
    free(blob);
    return bad;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (fuzz_state_one(data, size)) abort();
    return 0;
}
#endif
