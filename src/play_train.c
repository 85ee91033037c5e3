/* play_train.c: `optlab train` in the report's page; see include/optlab/play_train.h.
 * The flags are read with the settings table (optlab/train_settings.h) and its parser, checked as
 * the command checks them before it reads its data (ol_train_check), and the run is ol_train_fit's
 * on the page's subset; the model is made here (ol_train_init_model: the command's initialization)
 * so that every step's progress report can show its parameters. */
#include "optlab/play_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/nn.h"
#include "optlab/train.h"
#include "optlab/train_settings.h"

#define COMMAND "optlab train"

/* ---- the page's data ---- */

struct ol_play_data {
    ol_dataset set[2]; /* train, test */
};

ol_play_data *ol_play_data_load(const uint8_t *bytes, size_t len) {
    ol_play_data *d = ol_calloc(1, sizeof *d);
    if (!d) return NULL;
    if (ol_data_load_subset(bytes, len, &d->set[0], &d->set[1])) {
        free(d);
        return NULL;
    }
    return d;
}

void ol_play_data_free(ol_play_data *d) {
    if (!d) return;
    ol_dataset_free(&d->set[0]);
    ol_dataset_free(&d->set[1]);
    free(d);
}

long ol_play_data_count(const ol_play_data *d, int which) { return which == 0 || which == 1 ? (long)d->set[which].n : 0; }
int ol_play_data_rows(const ol_play_data *d) { return (int)d->set[0].rows; }
int ol_play_data_cols(const ol_play_data *d) { return (int)d->set[0].cols; }
int ol_play_data_classes(const ol_play_data *d) { return d->set[0].n_classes; }
const uint8_t *ol_play_data_pixels(const ol_play_data *d, int which) {
    return which == 0 || which == 1 ? d->set[which].pixels : NULL;
}
const uint8_t *ol_play_data_labels(const ol_play_data *d, int which) {
    return which == 0 || which == 1 ? d->set[which].labels : NULL;
}

/* ---- progress ---- */

#ifdef __wasm__
__attribute__((import_module("optlab"), import_name("progress"))) void ol_play_progress_import(
    long step, double seconds, double loss, double lr, const float *params, long n_params);
#endif

static ol_play_progress_fn progress_fn;

void ol_play_fit_set_progress(ol_play_progress_fn fn) { progress_fn = fn; }

static void report_progress(long step, double seconds, double loss, double lr, const float *params, long n_params) {
#ifdef __wasm__
    ol_play_progress_import(step, seconds, loss, lr, params, n_params);
#else
    if (progress_fn) progress_fn(step, seconds, loss, lr, params, n_params);
#endif
}

static volatile sig_atomic_t stop_request;

void ol_play_fit_stop(void) { stop_request = 1; }

/* ---- a run ---- */

struct ol_play_fit {
    int status;
    char message[1024];
    double *rows; /* n_rows x 4: step, seconds, lr, loss */
    long n_rows, cap_rows;
    char *csv;
    double loss[2], acc[2], seconds;
    ol_mlp model;
    int have_model;
};

/* the command's settings the page has no use for: files, threads (and processes: mpirun is no flag) */
static const char *refusal(const char *name) {
    static const char *const files[] = {"log", "step-log", "save", "checkpoint", "resume", "checkpoint-every"};
    if (!strcmp(name, "data")) return "the page trains on the subset of the data set it holds and reads no files; leave it out";
    if (!strcmp(name, "threads")) return "the page trains on one thread; leave it out";
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (!strcmp(name, files[i]))
            return "the page writes and reads no files (it keeps the run's step log and parameters itself); leave it out";
    return NULL;
}

/* "--name=value" lines into c, in order, with the command's parsers and messages */
static int read_flags(char *buf, ol_train_config *c) {
    int n_table;
    const ol_train_setting *table = ol_train_setting_table(&n_table);
    int seen[128] = {0}; /* a flag given twice is refused, as on the command line */
    if (n_table > (int)(sizeof seen / sizeof seen[0])) /* every run fails at once: a test catches it */
        return ol_fail(OL_ESTATE, "the settings table has %d rows, play_train.c's seen[] %d: enlarge it", n_table,
                       (int)(sizeof seen / sizeof seen[0]));
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (!*line) continue;
        char *eq = strchr(line, '=');
        if (eq) *eq = 0;
        const char *name = line, *value = eq ? eq + 1 : NULL;
        char what[96];
        snprintf(what, sizeof what, COMMAND " %s", name);
        if (strncmp(name, "--", 2)) return ol_fail(OL_EARG, COMMAND ": unexpected argument '%s'; options start with --", name);
        const char *why = refusal(name + 2);
        if (why) return ol_fail(OL_EARG, "%s: %s", what, why);
        int i = 0;
        while (i < n_table && strcmp(table[i].flag, name)) i++;
        if (i == n_table) return ol_fail(OL_EARG, COMMAND ": unknown option '%s'; see " COMMAND " --help", name);
        const ol_train_setting *s = &table[i];
        if (seen[i]++) return ol_fail(OL_EARG, COMMAND ": option %s given twice", name);
        if (s->type == OL_TS_BOOL) { /* a flag alone, as on the command line */
            if (value) return ol_fail(OL_EARG, COMMAND ": option %s takes no value", name);
            value = "1";
        }
        if (!value) return ol_fail(OL_EARG, COMMAND ": option %s needs a value (%s)", name, s->metavar);
        if (s->type == OL_TS_STR && (s->flags & OL_TS_SPEC) && !*value)
            return ol_fail(OL_EARG, "%s: an empty spec: give one, or leave the flag out for the default", what);
        int rc = ol_train_setting_parse(s, value, c, what);
        if (rc) return rc;
    }
    return OL_OK;
}

static int grow_rows(ol_play_fit *f) {
    if (f->n_rows < f->cap_rows) return OL_OK;
    long cap = f->cap_rows ? 2 * f->cap_rows : 256;
    double *rows = realloc(f->rows, (size_t)cap * 4 * sizeof(double));
    if (!rows) return ol_fail(OL_ENOMEM, "out of memory for the step log");
    f->rows = rows;
    f->cap_rows = cap;
    return OL_OK;
}

static int out_of_memory;

static void on_step(void *userdata, long step, double seconds, double loss, double lr) {
    ol_play_fit *f = userdata;
    if (grow_rows(f)) {
        out_of_memory = 1;
        stop_request = 1; /* the run stops after this step */
        return;
    }
    double *row = f->rows + 4 * (size_t)f->n_rows++;
    row[0] = (double)step;
    row[1] = seconds;
    row[2] = lr;
    row[3] = loss;
    report_progress(step, seconds, loss, lr, f->model.params, (long)f->model.n_params);
}

/* the first n examples of d (all when n is 0): a view */
static ol_dataset first(const ol_dataset *d, long n) {
    ol_dataset v = *d;
    v.owns = 0;
    if (n > 0 && (uint64_t)n < v.n) v.n = (uint32_t)n;
    return v;
}

static int fit(ol_play_fit *f, const ol_play_data *d, char *flags) {
    ol_train_config c = ol_train_default_config();
    int rc = read_flags(flags, &c);
    if (!rc) rc = ol_train_check(&c);
    /* more than the page holds: the command would read further into the data set */
    if (!rc && c.train_subset > (long)d->set[0].n)
        rc = ol_fail(OL_EARG, COMMAND " --subset: %ld, but the page holds the first %u training images only; use at most %u",
                     c.train_subset, d->set[0].n, d->set[0].n);
    if (!rc && c.test_subset > (long)d->set[1].n)
        rc = ol_fail(OL_EARG, COMMAND " --test-subset: %ld, but the page holds the first %u test images only; use at most %u",
                     c.test_subset, d->set[1].n, d->set[1].n);
    if (!rc) rc = ol_mlp_create(&f->model, c.model_spec, OL_TRAIN_MAX_MODEL_BYTES);
    if (rc) return rc;
    f->have_model = 1;
    ol_train_init_model(&f->model, &c);
    c.model = &f->model;
    c.quiet = 1;
    c.skip_test = 1; /* evaluated once, after the run */
    c.on_step = on_step;
    c.userdata = f;
    stop_request = 0;
    out_of_memory = 0;
    c.stop = &stop_request;
    /* the run's own training set: a view, or with --val-split (which permutes rows) a copy */
    ol_dataset train = first(&d->set[0], 0), test = first(&d->set[1], c.test_subset);
    uint8_t *copy = NULL;
    if (c.val_split > 0) {
        size_t bytes = (size_t)train.n * (ol_dataset_dim(&train) + 1);
        if (!(copy = malloc(bytes))) return ol_fail(OL_ENOMEM, "out of memory for a copy of the training set");
        memcpy(copy, train.pixels, (size_t)train.n * ol_dataset_dim(&train));
        memcpy(copy + (size_t)train.n * ol_dataset_dim(&train), train.labels, train.n);
        train.pixels = copy;
        train.labels = copy + (size_t)train.n * ol_dataset_dim(&train);
    }
    ol_train_result r;
    rc = ol_train_fit(&c, &train, &test, &r);
    f->seconds = r.seconds;
    if (rc == OL_ESTOPPED)
        rc = out_of_memory ? ol_fail(OL_ENOMEM, "out of memory for the step log")
                           : ol_fail(OL_ESTOPPED, "stopped at step %ld", r.steps);
    if (!rc) { /* the model after the run on the training examples it used, and on the test set */
        ol_mlp_graph eval;
        ol_dataset used = first(&train, r.train_examples);
        if (!(rc = ol_mlp_graph_build(&f->model, &eval, OL_TRAIN_EVAL_BATCH, 0))) {
            if (!(rc = ol_evaluate(&f->model, &eval, &used, &f->loss[0], &f->acc[0])))
                rc = ol_evaluate(&f->model, &eval, &test, &f->loss[1], &f->acc[1]);
            ol_mlp_graph_free(&eval);
        }
    }
    free(copy);
    return rc;
}

ol_play_fit *ol_play_fit_run(const ol_play_data *d, const char *flags) {
    ol_play_fit *f = ol_calloc(1, sizeof *f);
    char *buf = strdup(flags ? flags : "");
    if (!f || !buf) {
        free(f);
        free(buf);
        return NULL;
    }
    f->loss[0] = f->loss[1] = f->acc[0] = f->acc[1] = f->seconds = NAN;
    int rc = d ? fit(f, d, buf) : ol_fail(OL_EARG, "no data: load the page's subset first (ol_play_data_load)");
    free(buf);
    if (rc) {
        f->status = rc;
        snprintf(f->message, sizeof f->message, "%s", ol_error());
        f->loss[0] = f->loss[1] = f->acc[0] = f->acc[1] = NAN;
    }
    return f;
}

void ol_play_fit_free(ol_play_fit *f) {
    if (!f) return;
    if (f->have_model) ol_mlp_free(&f->model);
    free(f->rows);
    free(f->csv);
    free(f);
}

int ol_play_fit_status(const ol_play_fit *f) { return f->status; }
const char *ol_play_fit_message(const ol_play_fit *f) { return f->message; }
long ol_play_fit_rows(const ol_play_fit *f) { return f->n_rows; }
const double *ol_play_fit_trace(const ol_play_fit *f) { return f->rows; }
double ol_play_fit_loss(const ol_play_fit *f, int which) { return which == 0 || which == 1 ? f->loss[which] : NAN; }
double ol_play_fit_accuracy(const ol_play_fit *f, int which) { return which == 0 || which == 1 ? f->acc[which] : NAN; }
double ol_play_fit_seconds(const ol_play_fit *f) { return f->seconds; }
long ol_play_fit_n_params(const ol_play_fit *f) { return f->have_model ? (long)f->model.n_params : 0; }
const float *ol_play_fit_params(const ol_play_fit *f) { return f->have_model ? f->model.params : NULL; }
int ol_play_fit_layers(const ol_play_fit *f) { return f->have_model ? f->model.n_layers : 0; }
int ol_play_fit_size(const ol_play_fit *f, int l) {
    return f->have_model && l >= 0 && l <= f->model.n_layers ? f->model.sizes[l] : 0;
}

const char *ol_play_fit_log_csv(ol_play_fit *f) {
    if (f->csv) return f->csv;
    size_t cap = sizeof OL_TRAIN_STEP_LOG_HEADER + 80 * (size_t)(f->n_rows + 1), len;
    char *s = malloc(cap);
    if (!s) return NULL;
    memcpy(s, OL_TRAIN_STEP_LOG_HEADER, sizeof OL_TRAIN_STEP_LOG_HEADER);
    len = sizeof OL_TRAIN_STEP_LOG_HEADER - 1;
    for (long k = 0; k < f->n_rows; k++) {
        const double *row = f->rows + 4 * (size_t)k;
        len += ol_train_step_row(s + len, cap - len, (long)row[0], row[2], row[3]);
    }
    return f->csv = s;
}
