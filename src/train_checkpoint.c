/* train_checkpoint.c: what a training checkpoint holds and how a run comes back from it
 * (sections CONF settings, DATA identity, PIXL the pixels' CRC-32, DDIR the data's directory, PROG
 * progress, MODL model, OPTM optimizer, SAMP sampler, LOGR the log so far; the file format itself:
 * checkpoint.c). See include/optlab/train.h.
 *
 * The data's identity is its count, shape, classes and labels (DATA) and its pixels (PIXL, since
 * issue 16). A checkpoint without PIXL, written before, is resumed with a note: refusing it would
 * strand every run in progress at the upgrade, while its count, shape and labels are still checked
 * (only images changed under the same labels get through), and the first checkpoint the resumed
 * run writes has the CRC. The path the run was given is a setting like any other but not part of
 * the identity: a resume may read the same data from elsewhere (--data), and finds it in DDIR when
 * the path it was given (relative, say) leads nowhere from where it resumes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "optlab/checkpoint.h"
#include "optlab/common.h"
#include "optlab/train_settings.h"
#include "train_internal.h"

#define PROG_VERSION 1u
#define PROG_LEN (4 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 8)

static int build_checkpoint(run_state *s, unsigned char **buf, size_t *len) {
    ol_ckpt c;
    ol_ckpt_init(&c);
    unsigned char prog[PROG_LEN], *p = prog;
    ol_put_u32(p, PROG_VERSION), p += 4;
    ol_put_u64(p, (uint64_t)s->epoch), p += 8;
    ol_put_u32(p, (uint32_t)s->epoch_done), p += 4;
    ol_put_u64(p, (uint64_t)s->steps), p += 8;
    ol_put_f64(p, s->loss_sum), p += 8;
    ol_put_u64(p, (uint64_t)s->seen), p += 8;
    ol_put_f64(p, s->seconds), p += 8;
    ol_put_u32(p, (uint32_t)s->rollbacks), p += 4;
    ol_put_f64(p, s->lr_scale);
    unsigned char *model = NULL, *opt = NULL, *samp = NULL;
    size_t model_len, opt_len = ol_optim_state_size(s->opt), samp_len = ol_sampler_state_size(&s->sampler);
    int rc = ol_mlp_serialize(s->m, &model, &model_len);
    if (!rc && !(opt = ol_malloc_array(opt_len ? opt_len : 1, 1))) rc = OL_ENOMEM;
    if (!rc && !(samp = ol_malloc_array(samp_len ? samp_len : 1, 1))) rc = OL_ENOMEM;
    if (!rc) rc = ol_optim_state_save(s->opt, opt, opt_len);
    if (!rc) rc = ol_sampler_state_save(&s->sampler, samp, samp_len);
    if (!rc) rc = ol_ckpt_add(&c, "CONF", s->settings, strlen(s->settings));
    char pixels[32];
    snprintf(pixels, sizeof pixels, "crc32 %08x", (unsigned)s->pixels_crc);
    if (!rc) rc = ol_ckpt_add(&c, "DATA", s->data_id, strlen(s->data_id));
    if (!rc) rc = ol_ckpt_add(&c, "PIXL", pixels, strlen(pixels));
    if (!rc && s->data_dir) rc = ol_ckpt_add(&c, "DDIR", s->data_dir, strlen(s->data_dir));
    if (!rc) rc = ol_ckpt_add(&c, "PROG", prog, sizeof prog);
    if (!rc) rc = ol_ckpt_add(&c, "MODL", model, model_len);
    if (!rc) rc = ol_ckpt_add(&c, "OPTM", opt, opt_len);
    if (!rc) rc = ol_ckpt_add(&c, "SAMP", samp, samp_len);
    if (!rc) rc = ol_ckpt_add(&c, "LOGR", s->log ? s->log : "", s->log_len);
    if (!rc) rc = ol_ckpt_serialize(&c, buf, len);
    free(model);
    free(opt);
    free(samp);
    ol_ckpt_free(&c);
    return rc;
}

int ol_train_check_params_finite(const run_state *s) {
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < s->m->n_params; i++)
        if (!isfinite(s->m->params[i]) && !bad++) first = i;
    if (!bad) return OL_OK;
    return ol_fail(OL_ENUMERIC, "%zu of the %zu parameters hold NaN or Inf at step %ld (epoch %ld; the first is number %zu) although the loss is finite (units a ReLU switched off hide them): training diverged; try a smaller --lr, a warm-up or --clip-norm",
                   bad, s->m->n_params, s->steps, s->epoch, first);
}

int ol_train_save_state(run_state *s, const ol_train_config *c, int to_file) {
    int rc = ol_train_check_params_finite(s); /* never keep a diverged state, and never skip one silently */
    if (rc) return rc;
    unsigned char *buf;
    size_t len;
    if ((rc = build_checkpoint(s, &buf, &len))) return rc;
    if (to_file && c->checkpoint_path && (rc = ol_write_file_atomic(c->checkpoint_path, buf, len))) {
        free(buf);
        return rc;
    }
    free(s->snapshot);
    s->snapshot = buf;
    s->snapshot_len = len;
    return OL_OK;
}

/* 1 when lines a and b both set the key `key=` */
static int both_set(const char *a, const char *b, const char *key) {
    size_t n = strlen(key);
    return !strncmp(a, key, n) && !strncmp(b, key, n);
}

/* First differing line of two settings texts, for the conflict message; 0 when they agree.
 * "epochs=" lines may differ: a resumed run may train for longer or shorter; "data=" lines too:
 * the data is checked by its identity, wherever it is read from. */
static int first_difference(const char *a, const char *b, char *ours, char *theirs, size_t cap) {
    while (*a || *b) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
        int free_key = both_set(a, b, "epochs=") || both_set(a, b, "data=");
        if (!free_key && (la != lb || memcmp(a, b, la))) {
            snprintf(ours, cap, "%.*s", (int)la, a);
            snprintf(theirs, cap, "%.*s", (int)lb, b);
            return 1;
        }
        a += la + (ea != NULL);
        b += lb + (eb != NULL);
    }
    ours[0] = theirs[0] = 0;
    return 0;
}

int ol_train_restore(run_state *s, const ol_ckpt *ck, const char *what) {
    size_t len;
    const char *conf = ol_ckpt_get(ck, "CONF", &len);
    if (!conf) return ol_fail(OL_EFORMAT, "%s: not a training checkpoint (no settings section)", what);
    char saved[OL_TRAIN_SETTINGS_CAP];
    if (len >= sizeof saved) return ol_fail(OL_EFORMAT, "%s: corrupt settings section", what);
    memcpy(saved, conf, len);
    saved[len] = 0;
    char ours[OL_PATH_CAP + 64], theirs[OL_PATH_CAP + 64]; /* a setting line: a path of the longest */
    if (first_difference(s->settings, saved, ours, theirs, sizeof ours)) {
        return ol_fail(OL_EARG, "%s: the run's settings conflict with the checkpoint's: %s here, %s there; resume with the checkpoint's settings (give only --resume and --epochs) or start a new run",
                       what, ours, theirs);
    }
    size_t dir_len;
    const char *dir = ol_ckpt_get(ck, "DDIR", &dir_len);
    char read_from[OL_PATH_CAP + 32] = ""; /* where its run read the data, for the messages */
    if (dir && dir_len < OL_PATH_CAP) snprintf(read_from, sizeof read_from, " (its run read %.*s)", (int)dir_len, dir);
    const char *data = ol_ckpt_get(ck, "DATA", &len);
    if (!data || len != strlen(s->data_id) || memcmp(data, s->data_id, len))
        return ol_fail(OL_EARG, "%s: the checkpoint was made on other data%s: %.*s there, %s here", what, read_from,
                       data ? (int)len : 0, data ? data : "", s->data_id);
    char pixels[32];
    snprintf(pixels, sizeof pixels, "crc32 %08x", (unsigned)s->pixels_crc);
    const char *saved_pixels = ol_ckpt_get(ck, "PIXL", &len);
    if (saved_pixels && (len != strlen(pixels) || memcmp(saved_pixels, pixels, len)))
        return ol_fail(OL_EARG, "%s: the training images differ from those the checkpoint was made on%s: pixels %.*s there, %s "
                       "here (their count, shape and labels agree); resume on the data it was made on, or start a new run",
                       what, read_from, len < 32 ? (int)len : 32, saved_pixels, pixels);
    if (!saved_pixels && s->leader && !s->quiet)
        fprintf(stderr, "optlab: note: %s was written before checkpoints held the data's pixel CRC: the images' count, shape "
                "and labels were checked, not their pixels\n", what);
    const unsigned char *prog = ol_ckpt_get(ck, "PROG", &len);
    if (!prog || len != PROG_LEN || ol_get_u32(prog) != PROG_VERSION)
        return ol_fail(OL_EFORMAT, "%s: corrupt or unknown progress section", what);
    const unsigned char *p = prog + 4;
    uint64_t epoch = ol_get_u64(p), steps = ol_get_u64(p + 12), seen = ol_get_u64(p + 28);
    uint32_t epoch_done = ol_get_u32(p + 8), rollbacks = ol_get_u32(p + 44);
    double loss_sum = ol_get_f64(p + 20), seconds = ol_get_f64(p + 36), lr_scale = ol_get_f64(p + 48);
    /* every field checked before anything is restored (a CRC only says the bytes are those written) */
    const char *bad = epoch < 1 || epoch > 1000001 ? "epoch" : epoch_done > 1 ? "epoch_done"
                    : steps > ((uint64_t)1 << 52) ? "steps" : seen > ((uint64_t)1 << 52) ? "examples seen"
                    : !(isfinite(loss_sum) && loss_sum >= 0) ? "loss sum" : !(isfinite(seconds) && seconds >= 0) ? "seconds"
                    : rollbacks > 1000 ? "rollbacks" : !(lr_scale > 0 && lr_scale <= 1) ? "lr scale" : NULL;
    if (bad)
        return ol_fail(OL_EFORMAT, "%s: corrupt progress section (its %s is impossible); the checkpoint cannot be resumed", what,
                       bad);
    const unsigned char *model = ol_ckpt_get(ck, "MODL", &len);
    if (!model) return ol_fail(OL_EFORMAT, "%s: no model section", what);
    ol_mlp saved_model;
    int rc = ol_mlp_deserialize(&saved_model, model, len, what);
    if (rc) return rc;
    if (strcmp(saved_model.spec, s->m->spec) || saved_model.n_params != s->m->n_params) {
        ol_mlp_free(&saved_model);
        return ol_fail(OL_EARG, "%s: holds a %s model, not %s", what, saved_model.spec, s->m->spec);
    }
    const unsigned char *opt = ol_ckpt_get(ck, "OPTM", &len);
    if (!opt || (rc = ol_optim_state_load(s->opt, opt, len))) {
        ol_mlp_free(&saved_model);
        if (!opt) return ol_fail(OL_EFORMAT, "%s: no optimizer section", what);
        char why[600];
        snprintf(why, sizeof why, "%s", ol_error());
        return ol_fail(rc, "%s: optimizer state: %s", what, why);
    }
    const unsigned char *samp = ol_ckpt_get(ck, "SAMP", &len);
    if (!samp || (rc = ol_sampler_state_load(&s->sampler, samp, len))) {
        ol_mlp_free(&saved_model);
        if (!samp) return ol_fail(OL_EFORMAT, "%s: no sampler section", what);
        char why[600];
        snprintf(why, sizeof why, "%s", ol_error());
        return ol_fail(rc, "%s: sampler state: %s", what, why);
    }
    memcpy(s->m->params, saved_model.params, s->m->n_params * sizeof(float));
    s->m->input_mean = saved_model.input_mean;
    s->m->input_inv_std = saved_model.input_inv_std;
    ol_mlp_free(&saved_model);
    s->epoch = (long)epoch;
    s->epoch_done = (int)epoch_done;
    s->steps = (long)steps;
    s->loss_sum = loss_sum;
    s->seen = (long)seen;
    s->seconds = seconds;
    s->rollbacks = (int)rollbacks;
    s->lr_scale = lr_scale;
    const char *log = ol_ckpt_get(ck, "LOGR", &len);
    s->log_len = 0;
    if (log && len) {
        if (len + 1 > s->log_cap) {
            char *nl = realloc(s->log, len + 1);
            if (!nl) return OL_ENOMEM;
            s->log = nl;
            s->log_cap = len + 1;
        }
        memcpy(s->log, log, len);
        s->log[len] = 0;
        s->log_len = len;
    }
    return OL_OK;
}

int ol_train_restore_bytes(run_state *s, const unsigned char *buf, size_t len, const char *what) {
    ol_ckpt ck;
    int rc = ol_ckpt_parse(&ck, buf, len, what);
    if (rc) return rc;
    rc = ol_train_restore(s, &ck, what);
    ol_ckpt_free(&ck);
    return rc;
}

int ol_train_resume_data(const ol_ckpt *ck, const char *what, const char *data, int note, char *use, size_t cap,
                         char files[4][OL_PATH_CAP]) {
    int rc = ol_data_files(data, files);
    if (!rc) {
        if (strlen(data) >= cap) return ol_fail(OL_EARG, "--data: the path is too long (%zu bytes)", strlen(data));
        snprintf(use, cap, "%s", data);
        return OL_OK;
    }
    /* data is the checkpoint's own setting, and no such directory from here: another directory? */
    size_t len;
    const char *conf = ol_ckpt_get(ck, "CONF", &len);
    char text[OL_TRAIN_SETTINGS_CAP], saved[OL_PATH_CAP];
    if (!conf || len >= sizeof text) return rc;
    memcpy(text, conf, len);
    text[len] = 0;
    if (!ol_train_settings_get(text, "data", saved, sizeof saved) || strcmp(saved, data)) return rc;
    if (!strcmp(data, "fashion-mnist") || !strcmp(data, "mnist") || access(data, F_OK) == 0) return rc;
    const char *dir = ol_ckpt_get(ck, "DDIR", &len);
    char saved_dir[OL_PATH_CAP] = "";
    if (dir && len && len < sizeof saved_dir && len < cap) {
        memcpy(saved_dir, dir, len);
        saved_dir[len] = 0;
        if (!ol_data_files(saved_dir, files)) {
            if (note)
                fprintf(stderr, "optlab: note: %s: its data '%s' is not found from here; reading %s, where its run read it\n",
                        what, data, saved_dir);
            snprintf(use, cap, "%s", saved_dir);
            return OL_OK;
        }
    }
    if (saved_dir[0])
        return ol_fail(rc, "%s: its data '%s' is not found from here, nor in %s, where its run read it: give --data DIR, "
                       "the directory that holds it now", what, data, saved_dir);
    return ol_fail(rc, "%s: its data '%s' is not found from here%s: give --data DIR, the directory that holds it now", what,
                   data, data[0] == '/' ? "" : " (a path relative to the directory the run was started in?)");
}

int ol_train_checkpoint_settings(const char *path, char **settings) {
    ol_ckpt ck;
    int rc = ol_ckpt_read(&ck, path);
    if (rc) return rc;
    size_t len;
    const char *conf = ol_ckpt_get(&ck, "CONF", &len);
    if (!conf) {
        ol_ckpt_free(&ck);
        return ol_fail(OL_EFORMAT, "%s: not a training checkpoint (no settings section)", path);
    }
    *settings = ol_malloc_array(len + 1, 1);
    if (*settings) {
        memcpy(*settings, conf, len);
        (*settings)[len] = 0;
    }
    ol_ckpt_free(&ck);
    return *settings ? OL_OK : OL_ENOMEM;
}

/* ---- the run ---- */

