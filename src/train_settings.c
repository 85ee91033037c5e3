/* train_settings.c: the table of a training run's settings; see include/optlab/train_settings.h.
 * One line a setting. The run-defining ones (OL_TS_RUN) come first, in the order of a checkpoint's
 * settings text (checkpoints written before this table store the same text). */
#include "optlab/train_settings.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/parallel.h"
#include "optlab/sampler.h"

/* --batch N | full (0 in the config) */
static int parse_batch(const char *text, void *field) {
    if (!strcmp(text, "full")) {
        *(long *)field = 0;
        return OL_OK;
    }
    return ol_parse_long(text, "--batch", 1, 1L << 24, (long *)field);
}
static int format_batch(const void *field, char *buf, size_t cap) {
    long b = *(const long *)field;
    return b == 0 ? snprintf(buf, cap, "full") : snprintf(buf, cap, "%ld", b);
}

static int parse_sampler(const char *text, void *field) { return ol_sampler_parse_kind(text, (int *)field); }
static int format_sampler(const void *field, char *buf, size_t cap) {
    return snprintf(buf, cap, "%s", ol_sampler_kind_name(*(const int *)field));
}

/* --init-seed S: a seed (unset: --seed's) */
static int parse_seed_opt(const char *text, void *field) {
    ol_train_seed_opt *o = field;
    int rc = ol_parse_seed(text, "--init-seed", &o->value);
    o->set = rc == OL_OK;
    return rc;
}
static int format_seed_opt(const void *field, char *buf, size_t cap) {
    const ol_train_seed_opt *o = field;
    return o->set ? snprintf(buf, cap, "%" PRIu64, o->value) : snprintf(buf, cap, "seed");
}

static int parse_divergence(const char *text, void *field) {
    if (!strcmp(text, "stop")) *(int *)field = OL_DIVERGE_STOP;
    else if (!strcmp(text, "rollback")) *(int *)field = OL_DIVERGE_ROLLBACK;
    else return ol_fail(OL_EARG, "'%s' is not a divergence policy; use stop or rollback", text);
    return OL_OK;
}
static int format_divergence(const void *field, char *buf, size_t cap) {
    return snprintf(buf, cap, "%s", *(const int *)field == OL_DIVERGE_ROLLBACK ? "rollback" : "stop");
}

#define AT(field) offsetof(ol_train_config, field)
#define CHOICE(p, f) 0, 0, parse_##p, format_##f
#define RANGE(lo, hi) lo, hi, NULL, NULL
#define NONE 0, 0, NULL, NULL

static const ol_train_setting table[] = {
    /* run-defining, in the checkpoint text's order */
    {"data", "--data", OL_TS_STR, AT(data), NONE, "", "D", "fashion-mnist, mnist, or a directory with the 4 MNIST files",
     OL_TS_RUN | OL_TS_DEFAULT},
    {"model", "--model", OL_TS_STR, AT(model_spec), NONE, NULL, "SPEC",
     "mlp:784-256-10[,act=relu|tanh|sigmoid][,init=torch|xavier|normal:std=S]", OL_TS_RUN | OL_TS_SWEEP | OL_TS_SPEC | OL_TS_DEFAULT},
    {"opt", "--opt", OL_TS_STR, AT(opt), NONE, NULL, "SPEC", "optimizer: gd, sgd:momentum=0.9, adam, ...",
     OL_TS_RUN | OL_TS_SWEEP | OL_TS_SPEC | OL_TS_DEFAULT},
    {"lr", "--lr", OL_TS_DOUBLE, AT(lr), NONE, NULL, "X", "learning rate", OL_TS_RUN | OL_TS_SWEEP | OL_TS_DEFAULT},
    {"batch", "--batch", OL_TS_CHOICE, AT(batch), CHOICE(batch, batch), NULL, "B",
     "examples per step, or 'full' for full-batch GD", OL_TS_RUN | OL_TS_SWEEP | OL_TS_DEFAULT},
    {"schedule", "--schedule", OL_TS_STR, AT(schedule), NONE, "constant", "SPEC",
     "learning-rate schedule: step:step_size=S,gamma=G, cosine:t_max=T, ...", OL_TS_RUN | OL_TS_SWEEP | OL_TS_SPEC},
    {"warmup", "--warmup", OL_TS_LONG, AT(warmup), RANGE(0, OL_LONG_UPTO(40)), NULL, "N", "linear warm-up over the first N steps",
     OL_TS_RUN | OL_TS_SWEEP},
    {"clip-norm", "--clip-norm", OL_TS_DOUBLE, AT(clip_norm), NONE, NULL, "C", "clip the global gradient L2 norm to C",
     OL_TS_RUN | OL_TS_SWEEP},
    {"clip-value", "--clip-value", OL_TS_DOUBLE, AT(clip_value), NONE, NULL, "C", "clip every gradient element to [-C, C]",
     OL_TS_RUN | OL_TS_SWEEP},
    {"seed", "--seed", OL_TS_U64, AT(seed), NONE, NULL, "S", "seed of the init, split and sampler", OL_TS_RUN | OL_TS_DEFAULT},
    {"sampler", "--sampler", OL_TS_CHOICE, AT(sampler), CHOICE(sampler, sampler), NULL, "KIND",
     "shuffle (a permutation per epoch) or iid (with replacement)", OL_TS_RUN | OL_TS_SWEEP | OL_TS_DEFAULT},
    {"val-split", "--val-split", OL_TS_DOUBLE, AT(val_split), NONE, NULL, "F",
     "hold out a fraction F of the training set for validation", OL_TS_RUN},
    {"normalize", "--normalize", OL_TS_BOOL, AT(normalize), NONE, NULL, NULL,
     "standardize inputs with the training set's mean and std", OL_TS_RUN | OL_TS_SWEEP},
    {"no-decay-bias", "--no-decay-bias", OL_TS_BOOL, AT(no_decay_bias), NONE, NULL, NULL, "no weight decay on biases",
     OL_TS_RUN | OL_TS_SWEEP},
    {"subset", "--subset", OL_TS_LONG, AT(train_subset), RANGE(1, OL_LONG_UPTO(31)), NULL, "N",
     "train on the first N training examples only", OL_TS_RUN | OL_TS_SWEEP},
    {"epochs", "--epochs", OL_TS_LONG, AT(epochs), RANGE(1, 1000000), NULL, "E", "passes over the training set",
     OL_TS_RUN | OL_TS_DEFAULT},
    /* run-defining settings added after checkpoints existed: in their text only when set */
    {"eval-average", "--eval-average", OL_TS_BOOL, AT(eval_average), NONE, NULL, NULL,
     "asgd: evaluate and save the averaged iterate ax instead of the last one", OL_TS_RUN | OL_TS_SPARSE | OL_TS_SWEEP},
    {"lbfgs-minibatch", "--lbfgs-minibatch", OL_TS_BOOL, AT(lbfgs_minibatch), NONE, NULL, NULL,
     "let lbfgs run on mini-batches (it is for --batch full)", OL_TS_RUN | OL_TS_SPARSE | OL_TS_SWEEP},
    {"accumulate", "--accumulate", OL_TS_LONG, AT(accumulate), RANGE(1, 1000000), NULL, "N",
     "N micro-batches of --batch examples per optimizer step (their mean gradient: as --batch N*B)",
     OL_TS_RUN | OL_TS_SPARSE | OL_TS_SWEEP},
    {"ema", "--ema", OL_TS_DOUBLE, AT(ema), NONE, NULL, "D",
     "evaluate and save an exponential moving average of the weights, decay D (e.g. 0.999)",
     OL_TS_RUN | OL_TS_SPARSE | OL_TS_SWEEP},
    {"test-subset", "--test-subset", OL_TS_LONG, AT(test_subset), RANGE(1, OL_LONG_UPTO(31)), NULL, "N",
     "evaluate on the first N test examples only", OL_TS_RUN | OL_TS_SPARSE | OL_TS_SWEEP},
    {"init-seed", "--init-seed", OL_TS_CHOICE, AT(init_seed), CHOICE(seed_opt, seed_opt), NULL, "S",
     "seed of the model's initialization (default: --seed)", OL_TS_RUN | OL_TS_SPARSE | OL_TS_SWEEP},
    {"perturb", "--perturb", OL_TS_DOUBLE, AT(perturb), NONE, NULL, "SIGMA",
     "add N(0, SIGMA^2) noise drawn from --seed to every initial parameter (one --init-seed model, perturbed)",
     OL_TS_RUN | OL_TS_SPARSE | OL_TS_SWEEP},
    /* where the run stops early: the steps it takes are those of the run without them */
    {"max-steps", "--max-steps", OL_TS_LONG, AT(max_steps), RANGE(1, OL_LONG_UPTO(40)), NULL, "N",
     "stop after N optimizer steps, whatever --epochs plans", 0},
    {"time-budget", "--time-budget", OL_TS_DOUBLE, AT(time_budget), NONE, NULL, "S",
     "stop after S seconds of training (how many steps that is depends on the machine)", 0},
    /* how the run is carried out: no effect on its numbers */
    {"threads", "--threads", OL_TS_INT, AT(threads), RANGE(1, OL_PARALLEL_MAX_THREADS), NULL, "T",
     "threads (default: 1 or all cores, whichever a timed pass finds faster); results do not depend on it", 0},
    {"log", "--log", OL_TS_STR, AT(log_path), NONE, NULL, "F.csv", "write one CSV row per epoch", 0},
    {"step-log", "--step-log", OL_TS_STR, AT(step_log_path), NONE, NULL, "F.csv",
     "write one CSV row per optimizer step (step,lr,loss)", 0},
    {"save", "--save", OL_TS_STR, AT(save_path), NONE, NULL, "F", "save the trained model to F", 0},
    {"quiet", "--quiet", OL_TS_BOOL, AT(quiet), NONE, NULL, NULL, "print only the final result", 0},
    {"checkpoint", "--checkpoint", OL_TS_STR, AT(checkpoint_path), NONE, NULL, "F",
     "checkpoint file (written atomically; also on SIGINT/SIGTERM)", 0},
    {"resume", "--resume", OL_TS_STR, AT(resume_path), NONE, NULL, "F", "continue the run saved in checkpoint F (same settings)",
     0},
    {"on-divergence", "--on-divergence", OL_TS_CHOICE, AT(on_divergence), CHOICE(divergence, divergence), NULL,
     "stop|rollback", "on NaN/Inf: stop, or reload the last good state with half the lr", OL_TS_DEFAULT | OL_TS_RANKS},
    {"max-rollbacks", "--max-rollbacks", OL_TS_INT, AT(max_rollbacks), RANGE(0, 1000), NULL, "K",
     "rollbacks allowed before giving up", OL_TS_DEFAULT | OL_TS_RANKS},
};
#define N_SETTINGS ((int)(sizeof table / sizeof table[0]))

const ol_train_setting *ol_train_setting_table(int *n) {
    *n = N_SETTINGS;
    return table;
}

const ol_train_setting *ol_train_setting_find(const char *name) {
    for (int i = 0; i < N_SETTINGS; i++)
        if (name && !strcmp(table[i].name, name)) return &table[i];
    return NULL;
}

void *ol_train_setting_field(const ol_train_setting *s, ol_train_config *c) { return (char *)c + s->offset; }

int ol_train_setting_parse(const ol_train_setting *s, const char *text, ol_train_config *c, const char *what) {
    void *field = ol_train_setting_field(s, c);
    long v;
    int rc;
    switch (s->type) {
    case OL_TS_STR: *(const char **)field = text; return OL_OK;
    case OL_TS_DOUBLE: return ol_parse_double(text, what, (double *)field);
    case OL_TS_LONG: return ol_parse_long(text, what, s->lo, s->hi, (long *)field);
    case OL_TS_INT:
        if (!(rc = ol_parse_long(text, what, s->lo, s->hi, &v))) *(int *)field = (int)v;
        return rc;
    case OL_TS_U64:
        return ol_parse_seed(text, what, (uint64_t *)field);
    case OL_TS_BOOL:
        if (strcmp(text, "0") && strcmp(text, "1")) return ol_fail(OL_EARG, "%s: values are 0 or 1, not '%s'", what, text);
        *(int *)field = text[0] == '1';
        return OL_OK;
    case OL_TS_CHOICE:
        if ((rc = s->parse(text, field))) {
            char why[900];
            snprintf(why, sizeof why, "%s", ol_error());
            if (!strncmp(why, s->flag, strlen(s->flag))) return ol_fail(rc, "%s%s", what, why + strlen(s->flag));
            return ol_fail(rc, "%s: %s", what, why);
        }
        return OL_OK;
    }
    return ol_fail(OL_EARG, "%s: unknown setting type %d", what, s->type);
}

int ol_train_setting_format(const ol_train_setting *s, const ol_train_config *c, char *buf, size_t cap) {
    const void *field = (const char *)c + s->offset;
    int n = -1;
    switch (s->type) {
    case OL_TS_STR: {
        const char *v = *(const char *const *)field;
        n = snprintf(buf, cap, "%s", v ? v : s->null_text ? s->null_text : "");
        break;
    }
    case OL_TS_DOUBLE: n = snprintf(buf, cap, "%.17g", *(const double *)field); break;
    case OL_TS_LONG: n = snprintf(buf, cap, "%ld", *(const long *)field); break;
    case OL_TS_INT: n = snprintf(buf, cap, "%d", *(const int *)field); break;
    case OL_TS_U64: n = snprintf(buf, cap, "%" PRIu64, *(const uint64_t *)field); break;
    case OL_TS_BOOL: n = snprintf(buf, cap, "%d", *(const int *)field != 0); break;
    case OL_TS_CHOICE: n = s->format(field, buf, cap); break;
    }
    if (n < 0 || (size_t)n >= cap) return ol_fail(OL_EARG, "the value of %s is too long (over %zu bytes)", s->name, cap);
    return OL_OK;
}

/* A text value in the one-line-a-setting record: a backslash as two, a control character (a
 * newline in a directory's name) as \xHH, so that every value stays on its line. */
static int escape(const char *in, char *out, size_t cap) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        char e[8];
        int k;
        if (*p == '\\') k = snprintf(e, sizeof e, "\\\\");
        else if (*p < 0x20 || *p == 0x7f) k = snprintf(e, sizeof e, "\\x%02x", *p);
        else e[0] = (char)*p, k = 1;
        if (n + (size_t)k >= cap) return OL_EARG;
        memcpy(out + n, e, (size_t)k);
        n += (size_t)k;
    }
    out[n] = 0;
    return OL_OK;
}

/* The inverse, in place. Any other backslash stays as it is (records written before values were
 * escaped hold plain text). */
static void unescape(char *s) {
    char *w = s;
    for (const char *r = s; *r;) {
        int hex;
        if (r[0] == '\\' && r[1] == '\\') *w++ = '\\', r += 2;
        else if (r[0] == '\\' && r[1] == 'x' && isxdigit((unsigned char)r[2]) && isxdigit((unsigned char)r[3]) &&
                 sscanf(r + 2, "%2x", &hex) == 1)
            *w++ = (char)hex, r += 4;
        else *w++ = *r++;
    }
    *w = 0;
}

int ol_train_setting_show(const ol_train_setting *s, const ol_train_config *c, char *buf, size_t cap) {
    if (s->type != OL_TS_DOUBLE) return ol_train_setting_format(s, c, buf, cap);
    double v = *(const double *)((const char *)c + s->offset);
    for (int digits = 1; digits <= 17; digits++) {
        int n = snprintf(buf, cap, "%.*g", digits, v);
        if (n < 0 || (size_t)n >= cap) return ol_fail(OL_EARG, "the value of %s is too long (over %zu bytes)", s->name, cap);
        if (strtod(buf, NULL) == v) break;
    }
    return OL_OK;
}

int ol_train_settings_text(const ol_train_config *c, const char *model_spec, char *buf, size_t cap) {
    ol_train_config with_model = *c;
    with_model.model_spec = model_spec;
    const ol_train_config defaults = ol_train_default_config();
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < N_SETTINGS; i++) {
        if (!(table[i].flags & OL_TS_RUN)) continue;
        char value[OL_PATH_CAP + 64], dflt[OL_PATH_CAP + 64], escaped[4 * (OL_PATH_CAP + 64)]; /* a path of the system's longest, or a spec */
        if (ol_train_setting_format(&table[i], &with_model, value, sizeof value) ||
            (table[i].type == OL_TS_STR && escape(value, escaped, sizeof escaped)))
            return ol_fail(OL_EARG, "run settings too long (a spec or path over %zu bytes?)", sizeof value);
        if ((table[i].flags & OL_TS_SPARSE) && !ol_train_setting_format(&table[i], &defaults, dflt, sizeof dflt) &&
            !strcmp(dflt, value))
            continue;
        int n = snprintf(buf + len, cap - len, "%s=%s\n", table[i].name, table[i].type == OL_TS_STR ? escaped : value);
        if (n < 0 || (size_t)n >= cap - len) return ol_fail(OL_EARG, "run settings too long (a spec or path over %zu bytes?)", cap);
        len += (size_t)n;
    }
    return OL_OK;
}

int ol_train_settings_apply(ol_train_config *c, char *text, const int *given) {
    const ol_train_config defaults = ol_train_default_config();
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = 0;
        const char *value = eq + 1;
        const ol_train_setting *s = ol_train_setting_find(line);
        if (!s || !(s->flags & OL_TS_RUN) || given[s - table]) continue;
        if (s->type == OL_TS_STR) unescape(eq + 1);
        char dflt[OL_PATH_CAP + 64];
        if (!ol_train_setting_format(s, &defaults, dflt, sizeof dflt) && !strcmp(dflt, value)) continue; /* as by default */
        char what[96];
        snprintf(what, sizeof what, "optlab train %s", s->flag);
        int rc = ol_train_setting_parse(s, value, c, what);
        if (rc) return rc;
    }
    return OL_OK;
}

int ol_train_settings_get(const char *text, const char *name, char *value, size_t cap) {
    size_t name_len = strlen(name);
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > name_len && !strncmp(line, name, name_len) && line[name_len] == '=') {
            if (len - name_len - 1 >= cap) return 0;
            memcpy(value, line + name_len + 1, len - name_len - 1);
            value[len - name_len - 1] = 0;
            const ol_train_setting *s = ol_train_setting_find(name);
            if (s && s->type == OL_TS_STR) unescape(value);
            return 1;
        }
        line = end ? end + 1 : NULL;
    }
    return 0;
}
