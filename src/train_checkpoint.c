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
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
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

/* "WHAT: corrupt SECTION section (DETAIL); the checkpoint cannot be resumed", exit 1: a field the
 * CRC vouches for (the bytes are those written) that no run writes. */
static int corrupt(const char *what, const char *section, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int corrupt(const char *what, const char *section, const char *fmt, ...) {
    char detail[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return ol_fail(OL_EFORMAT, "%s: corrupt %s section (%s); the checkpoint cannot be resumed", what, section, detail);
}

/* The same for a state module's own refusal (the optimizer's, the sampler's): its message, less its
 * "optimizer state: " prefix and " (corrupt)" suffix, as the detail. */
static int corrupt_state(const char *what, const char *section, const char *prefix) {
    char why[700];
    snprintf(why, sizeof why, "%s", ol_error());
    size_t n = strlen(prefix), len = strlen(why);
    if (len >= 10 && !strcmp(why + len - 10, " (corrupt)")) why[len - 10] = 0;
    return corrupt(what, section, "%s", strncmp(why, prefix, n) ? why : why + n);
}

typedef struct {
    uint64_t epoch, steps, seen;
    uint32_t epoch_done, rollbacks;
    double loss_sum, seconds, lr_scale;
} progress;

/* The progress section's fields, each possible on its own and together (a CRC only says the bytes
 * are those written). */
static int read_progress(const ol_ckpt *ck, const char *what, progress *g) {
    size_t len;
    const unsigned char *prog = ol_ckpt_get(ck, "PROG", &len);
    if (!prog || len != PROG_LEN || ol_get_u32(prog) != PROG_VERSION)
        return ol_fail(OL_EFORMAT, "%s: corrupt or unknown progress section", what);
    const unsigned char *p = prog + 4;
    g->epoch = ol_get_u64(p), g->steps = ol_get_u64(p + 12), g->seen = ol_get_u64(p + 28);
    g->epoch_done = ol_get_u32(p + 8), g->rollbacks = ol_get_u32(p + 44);
    g->loss_sum = ol_get_f64(p + 20), g->seconds = ol_get_f64(p + 36), g->lr_scale = ol_get_f64(p + 48);
    const char *bad = g->epoch < 1 || g->epoch > 1000001 ? "epoch" : g->epoch_done > 1 ? "epoch_done"
                    : g->steps > ((uint64_t)1 << 52) ? "steps" : g->seen > ((uint64_t)1 << 52) ? "examples seen"
                    : !(isfinite(g->loss_sum) && g->loss_sum >= 0) ? "loss sum"
                    : !(isfinite(g->seconds) && g->seconds >= 0) ? "seconds"
                    : g->rollbacks > 1000 ? "rollbacks" : !(g->lr_scale > 0 && g->lr_scale <= 1) ? "lr scale" : NULL;
    if (bad) return corrupt(what, "progress", "its %s is impossible", bad);
    /* every rollback halves the lr scale, and nothing else changes it */
    if (g->lr_scale != ldexp(1.0, -(int)g->rollbacks))
        return corrupt(what, "progress", "its lr scale %g is not 2^-%u, for %u rollbacks", g->lr_scale, g->rollbacks,
                       g->rollbacks);
    if (g->seen == 0 && g->loss_sum != 0)
        return corrupt(what, "progress", "a loss sum of %g over no examples", g->loss_sum);
    return OL_OK;
}

/* The log so far: its header, then one row per finished epoch, numbered from 1. */
static int check_log(const char *log, size_t len, long finished, const char *what) {
    size_t head = strlen(OL_TRAIN_LOG_HEADER);
    if (len < head || memcmp(log, OL_TRAIN_LOG_HEADER, head) || memchr(log, 0, len) || log[len - 1] != '\n')
        return corrupt(what, "log", "not a training log");
    long rows = 0;
    for (const char *p = log + head, *end = log + len; p < end; p = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1) {
        const char *after = p; /* the epoch, digits only: the section has no terminating NUL */
        long e = 0;
        while (after < end && *after >= '0' && *after <= '9' && e <= finished) e = 10 * e + (*after++ - '0');
        if (after == p || after == end || *after != ',' || e != rows + 1)
            return corrupt(what, "log", "its row %ld is not the row of epoch %ld", rows + 1, rows + 1);
        rows++;
    }
    if (rows != finished)
        return corrupt(what, "log", "%ld rows for %ld finished epochs", rows, finished);
    return OL_OK;
}

/* The sections against each other, once each is loaded: the optimizer and its schedule took the
 * progress's steps, the sampler stands where they lead, and the examples seen are its batches'. */
static int check_consistent(const run_state *s, const progress *g, const char *what) {
    long opt_steps = ol_optim_step_count(s->opt), sched_steps = ol_optim_schedule_steps(s->opt);
    if ((uint64_t)opt_steps != g->steps)
        return corrupt(what, "optimizer", "its step count %ld is not the progress section's %llu", opt_steps,
                       (unsigned long long)g->steps);
    if ((uint64_t)sched_steps != g->steps)
        return corrupt(what, "optimizer", "its schedule's step count %ld is not the progress section's %llu", sched_steps,
                       (unsigned long long)g->steps);
    const ol_sampler *sp = &s->sampler;
    uint64_t nb = sp->n_batches, pos = sp->position, se = sp->epoch;
    /* --accumulate A: an optimizer step takes A batches (the epoch's last one what is left), and a
     * checkpoint falls between steps: ceil(nb / A) steps an epoch, ceil(pos / A) of this one */
    uint64_t a = s->cfg && s->cfg->accumulate > 1 ? (uint64_t)s->cfg->accumulate : 1;
    uint64_t per_epoch = (nb + a - 1) / a, steps_in = (pos + a - 1) / a;
    /* epoch E in progress: the sampler finished E - 1 epochs; an epoch's end rolls it over to
     * epoch E, batch 0 (unless a step or time budget ended the epoch early: E - 1, batch >= 1) */
    int where_ok = g->epoch_done ? (se == g->epoch && pos == 0) || (se + 1 == g->epoch && pos >= 1)
                                 : se + 1 == g->epoch;
    if (!where_ok || se > ((uint64_t)1 << 40) || g->steps != se * per_epoch + steps_in || (pos % a && pos != nb))
        return corrupt(what, "sampler", "it stands at batch %llu of %llu after %llu epochs, but the progress section says step %llu in epoch %llu%s",
                       (unsigned long long)pos, (unsigned long long)nb, (unsigned long long)se, (unsigned long long)g->steps,
                       (unsigned long long)g->epoch, g->epoch_done ? " (finished)" : "");
    uint64_t batches = g->epoch_done && pos == 0 ? nb : pos;
    uint64_t seen = sp->kind == OL_SAMPLER_SHUFFLE && batches * sp->batch > sp->n ? sp->n : batches * sp->batch;
    if (g->seen != seen)
        return corrupt(what, "progress", "%llu examples seen in the %llu batches of this epoch, which hold %llu",
                       (unsigned long long)g->seen, (unsigned long long)batches, (unsigned long long)seen);
    return OL_OK;
}

/* The checkpoint's settings against the run's (a conflict is the user's: OL_EARG). */
static int check_settings(const ol_ckpt *ck, const char *settings, const char *what) {
    size_t len;
    const char *conf = ol_ckpt_get(ck, "CONF", &len);
    if (!conf) return ol_fail(OL_EFORMAT, "%s: not a training checkpoint (no settings section)", what);
    char saved[OL_TRAIN_SETTINGS_CAP];
    if (len >= sizeof saved || memchr(conf, 0, len)) return ol_fail(OL_EFORMAT, "%s: corrupt settings section", what);
    memcpy(saved, conf, len);
    saved[len] = 0;
    char ours[OL_PATH_CAP + 64], theirs[OL_PATH_CAP + 64]; /* a setting line: a path of the longest */
    if (first_difference(settings, saved, ours, theirs, sizeof ours)) {
        return ol_fail(OL_EARG, "%s: the run's settings conflict with the checkpoint's: %s here, %s there; resume with the checkpoint's settings (give only --resume and --epochs) or start a new run",
                       what, ours, theirs);
    }
    return OL_OK;
}

/* The model section against the model the settings make (spec, parameter count). */
static int check_model(const ol_mlp *saved, const char *spec, size_t n_params, const char *what) {
    if (strcmp(saved->spec, spec) || saved->n_params != n_params)
        return corrupt(what, "model", "it holds a %s model of %zu parameters, the settings section's is %s", saved->spec,
                       saved->n_params, spec);
    return OL_OK;
}

int ol_train_check_resume(const ol_ckpt *ck, const char *settings, const ol_mlp *layout, const char *what) {
    int rc = check_settings(ck, settings, what);
    if (rc) return rc;
    size_t len;
    const unsigned char *model = ol_ckpt_get(ck, "MODL", &len);
    if (!model) return ol_fail(OL_EFORMAT, "%s: no model section", what);
    ol_mlp saved; /* its allocation is bounded by the section's length */
    if ((rc = ol_mlp_deserialize(&saved, model, len, what))) return rc;
    rc = check_model(&saved, layout->spec, layout->n_params, what);
    ol_mlp_free(&saved);
    return rc;
}

int ol_train_restore(run_state *s, const ol_ckpt *ck, const char *what) {
    size_t len;
    int rc = check_settings(ck, s->settings, what);
    if (rc) return rc;
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
    progress g = {0};
    rc = read_progress(ck, what, &g);
    if (rc) return rc;
    const char *log = ol_ckpt_get(ck, "LOGR", &len);
    size_t log_len = len;
    if (!log) return ol_fail(OL_EFORMAT, "%s: no log section", what);
    if ((rc = check_log(log, log_len, (long)g.epoch - 1 + (long)g.epoch_done, what))) return rc;
    const unsigned char *model = ol_ckpt_get(ck, "MODL", &len);
    if (!model) return ol_fail(OL_EFORMAT, "%s: no model section", what);
    ol_mlp saved_model;
    if ((rc = ol_mlp_deserialize(&saved_model, model, len, what))) return rc;
    /* the settings section matched the run's, the run's model is the settings' model */
    rc = check_model(&saved_model, s->m->spec, s->m->n_params, what);
    if (!rc && s->fixed_inputs && (saved_model.input_mean != 0 || saved_model.input_inv_std != 1))
        rc = corrupt(what, "model", "it normalizes its inputs (mean %g, 1/std %g) but the settings section says normalize=0",
                     saved_model.input_mean, saved_model.input_inv_std);
    const unsigned char *opt = rc ? NULL : ol_ckpt_get(ck, "OPTM", &len);
    if (!rc && !opt) rc = ol_fail(OL_EFORMAT, "%s: no optimizer section", what);
    if (!rc && (rc = ol_optim_state_load(s->opt, opt, len)) != OL_ENOMEM && rc)
        rc = corrupt_state(what, "optimizer", "optimizer state: ");
    const unsigned char *samp = rc ? NULL : ol_ckpt_get(ck, "SAMP", &len);
    if (!rc && !samp) rc = ol_fail(OL_EFORMAT, "%s: no sampler section", what);
    if (!rc && (rc = ol_sampler_state_load(&s->sampler, samp, len)) != OL_ENOMEM && rc)
        rc = corrupt_state(what, "sampler", "sampler state: ");
    if (!rc) rc = check_consistent(s, &g, what);
    if (!rc && log_len + 1 > s->log_cap) {
        char *nl = realloc(s->log, log_len + 1);
        if (!nl) rc = ol_fail(OL_ENOMEM, "out of memory for the log");
        else s->log = nl, s->log_cap = log_len + 1;
    }
    if (rc) {
        ol_mlp_free(&saved_model);
        return rc;
    }
    memcpy(s->m->params, saved_model.params, s->m->n_params * sizeof(float));
    s->m->input_mean = saved_model.input_mean;
    s->m->input_inv_std = saved_model.input_inv_std;
    ol_mlp_free(&saved_model);
    s->epoch = (long)g.epoch;
    s->epoch_done = (int)g.epoch_done;
    s->steps = (long)g.steps;
    s->loss_sum = g.loss_sum;
    s->seen = (long)g.seen;
    s->seconds = g.seconds;
    s->rollbacks = (int)g.rollbacks;
    s->lr_scale = g.lr_scale;
    memcpy(s->log, log, log_len);
    s->log[log_len] = 0;
    s->log_len = log_len;
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

/* ---- one writer per checkpoint ---- */

static int same_inode(int fd, const char *path) {
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int ol_train_lock_checkpoint(ol_ckpt_lock *l, const char *checkpoint) {
    l->fd = -1;
    struct stat st;
    if (!strcmp(checkpoint, "-") || (stat(checkpoint, &st) == 0 && !S_ISREG(st.st_mode))) return OL_OK;
    /* the file's own name (a link is followed), or its directory's when it is not there yet */
    char real[PATH_MAX], dir[PATH_MAX];
    const char *slash = strrchr(checkpoint, '/'), *base = slash ? slash + 1 : checkpoint;
    if (!slash) snprintf(dir, sizeof dir, ".");
    else snprintf(dir, sizeof dir, "%.*s", slash == checkpoint ? 1 : (int)(slash - checkpoint), checkpoint);
    int n;
    if (realpath(checkpoint, real)) n = snprintf(l->path, sizeof l->path, "%s.lock", real);
    else if (realpath(dir, real)) n = snprintf(l->path, sizeof l->path, "%s/%s.lock", real, base);
    else n = snprintf(l->path, sizeof l->path, "%s.lock", checkpoint);
    if (n < 0 || (size_t)n >= sizeof l->path) return ol_fail(OL_EARG, "path too long: %s.lock", checkpoint);
    for (int attempt = 0; attempt < 16; attempt++) {
        int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
            return ol_fail(OL_EIO, "cannot create %s (the lock of the checkpoint %s): %s", l->path, checkpoint, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            char who[64] = "";
            ssize_t got = pread(fd, who, sizeof who - 1, 0);
            who[got > 0 ? got : 0] = 0;
            who[strcspn(who, "\n")] = 0;
            close(fd);
            if (e == EWOULDBLOCK)
                return ol_fail(OL_ESTATE, "%s is being written by another optlab run (%s, holding %s); wait for it to end, or give this run another --checkpoint",
                               checkpoint, !strncmp(who, "pid ", 4) ? who : "a process", l->path);
            return ol_fail(OL_EIO, "cannot lock %s: %s", l->path, strerror(e));
        }
        if (same_inode(fd, l->path)) { /* not removed (and made anew) by its holder since the open */
            char text[32];
            int len = snprintf(text, sizeof text, "pid %ld\n", (long)getpid());
            int noted = ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)len, 0) == len;
            (void)noted; /* without the note the lock still holds; a refusal then says "a process" */
            l->fd = fd;
            return OL_OK;
        }
        close(fd);
    }
    return ol_fail(OL_ESTATE, "cannot lock %s: it keeps being replaced", l->path);
}

void ol_train_unlock_checkpoint(ol_ckpt_lock *l) {
    if (l->fd < 0) return;
    if (same_inode(l->fd, l->path)) unlink(l->path); /* before the release: no one else holds it now */
    close(l->fd);
    l->fd = -1;
}

/* ---- the run ---- */

