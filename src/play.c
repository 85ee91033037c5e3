/* play.c: `optlab optimize` as a library call for the report's panels; see include/optlab/play.h.
 * The first part is the command's own sequence (parse the point, build the objective and the
 * optimizer, run the loop, word a divergence, print a trace row), written to be shared with
 * src/cli/cmd_optimize.c; the second keeps a run and its trace for the page's script. */
#include "optlab/play.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/gemm.h"
#include "optlab/rng.h"

#define MAX_DIM 100000
#define COMMAND "optlab optimize"

/* ---- the command's steps ---- */

int ol_play_parse_point(const char *text, double **out, int *d) {
    int n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    if (n > MAX_DIM) return ol_fail(OL_EARG, "--x0 has %d coordinates, at most %d", n, MAX_DIM);
    double *x = ol_calloc((size_t)n, sizeof(double));
    if (!x) return OL_ENOMEM;
    const char *p = text;
    for (int i = 0; i < n; i++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char num[64], what[48];
        snprintf(what, sizeof what, "--x0 coordinate %d", i);
        if (len == 0 || len >= sizeof num) {
            free(x);
            return ol_fail(OL_EARG, "%s: expected a number, got '%.*s'", what, (int)(len > 20 ? 20 : len), p);
        }
        memcpy(num, p, len);
        num[len] = 0;
        if (ol_parse_double(num, what, &x[i])) {
            free(x);
            return OL_EARG;
        }
        p = end ? end + 1 : p + len;
    }
    *out = x;
    *d = n;
    return OL_OK;
}

int ol_play_setup(ol_objective *obj, ol_optim **o, const char *fn, const double *x, int d, const char *opt,
                  double lr, const char *schedule, long warmup, double clip_norm, double clip_value,
                  uint64_t seed) {
    *o = NULL;
    memset(obj, 0, sizeof *obj);
    int rc = ol_fn_create(obj, fn, d);
    if (rc) return rc;
    memcpy(obj->x, x, (size_t)d * sizeof(double));
    if (!(rc = ol_optim_create(o, opt, lr)) && !(rc = ol_optim_add_group_f64(*o, obj->x, obj->grad, (size_t)d, -1, -1)) &&
        !(rc = ol_optim_set_schedule(*o, schedule, warmup)) && !(rc = ol_optim_set_clip(*o, clip_norm, clip_value))) {
        ol_optim_seed(*o, seed);
        return OL_OK;
    }
    ol_optim_free(*o);
    *o = NULL;
    ol_fn_free(obj);
    return rc;
}

int ol_play_minimize(ol_objective *obj, ol_optim *o, long steps, double diverge_factor,
                     int (*on_point)(void *userdata, long step, double f, const double *x), void *userdata,
                     ol_fn_minimize_result *r) {
    ol_fn_minimize_opts mo = ol_fn_minimize_defaults();
    mo.max_steps = steps;
    mo.diverge_above = INFINITY;
    mo.diverge_factor = diverge_factor;
    mo.feed_schedule = 1;
    mo.on_point = on_point;
    mo.userdata = userdata;
    return ol_fn_minimize(obj, o, &mo, r);
}

int ol_play_diverged(const ol_fn_minimize_result *r, double lr_used, double diverge_factor, const char *trace) {
    char where[1200] = "";
    if (trace) snprintf(where, sizeof where, "; the trace up to it is in %s", trace);
    if (r->steps == 0)
        return ol_fail(OL_EARG, "f(x0) is %g: --x0 is too far out for this function (f overflows); choose a start nearer its minimum",
                       r->f);
    if (!isfinite(r->f))
        return ol_fail(OL_ENUMERIC, "f became %g at step %ld (lr %g): the run diverged; try a smaller --lr or --clip-norm%s",
                       r->f, r->steps, lr_used, where);
    return ol_fail(OL_ENUMERIC, "f rose to %g at step %ld (lr %g), above %g = f(x0) + %g max(|f(x0)|, 1): the run diverged; "
                   "try a smaller --lr or --clip-norm (or a larger --diverge-factor)%s",
                   r->f, r->steps, lr_used, r->diverge_bound, diverge_factor, where);
}

/* snprintf appended at *len (which counts what it needs even past cap) */
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*len < cap ? buf + *len : NULL, *len < cap ? cap - *len : 0, fmt, ap);
    va_end(ap);
    *len += n > 0 ? (size_t)n : 0;
}

size_t ol_play_trace_row(char *buf, size_t cap, long step, double lr, double f, const double *x, const double *ax,
                         int d) {
    size_t len = 0;
    append(buf, cap, &len, "%ld,%.17g,%.17g", step, lr, f);
    for (int i = 0; i < d; i++) append(buf, cap, &len, ",%.17g", x[i]);
    for (int i = 0; ax && i < d; i++) append(buf, cap, &len, ",%.17g", ax[i]);
    append(buf, cap, &len, "\n");
    return len;
}

size_t ol_play_trace_header(char *buf, size_t cap, int d, int with_average) {
    size_t len = 0;
    append(buf, cap, &len, "step,lr,f");
    for (int i = 0; i < d; i++) append(buf, cap, &len, ",x%d", i);
    for (int i = 0; with_average && i < d; i++) append(buf, cap, &len, ",ax%d", i);
    append(buf, cap, &len, "\n");
    return len;
}

/* ---- a run kept for the page ---- */

struct ol_play {
    int status;            /* OL_OK or the command's failure */
    char message[1024];
    int outcome;           /* OL_MIN_*, -1 before the loop */
    long steps, evaluations;
    double f;
    int d, width;          /* width: 3 + d, or 3 + 2d with asgd's average */
    double *rows;          /* n_rows x width */
    long n_rows, cap_rows;
    ol_optim *o;           /* during the run, for the lr of each row */
    char *csv;
};

static void set_failure(ol_play *p, int rc) {
    p->status = rc;
    snprintf(p->message, sizeof p->message, "%s", *ol_error() ? ol_error() : "unknown error");
}

/* One row of the trace: the point x after `step` steps, f there, the lr of the next step. */
static int record_row(ol_play *p, long step, double f, const double *x) {
    size_t width = (size_t)p->width;
    if (p->n_rows == p->cap_rows) {
        long cap = p->cap_rows ? 2 * p->cap_rows : 256;
        double *rows = ol_mul_overflows((size_t)cap, width * sizeof(double), "the trace")
                           ? NULL : realloc(p->rows, (size_t)cap * width * sizeof(double));
        if (!rows) {
            ol_fail(OL_ENOMEM, "out of memory keeping the trace of %ld points; ask for fewer --steps", p->n_rows + 1);
            return 1;
        }
        p->rows = rows;
        p->cap_rows = cap;
    }
    double *row = p->rows + (size_t)p->n_rows * width;
    row[0] = (double)step;
    row[1] = ol_optim_get_lr(p->o, 0);
    row[2] = f;
    memcpy(row + 3, x, (size_t)p->d * sizeof(double));
    const double *ax = ol_optim_average(p->o, 0);
    if (ax) memcpy(row + 3 + p->d, ax, (size_t)p->d * sizeof(double));
    p->n_rows++;
    return 0;
}

/* on_point: one row a point */
static int record_point(void *userdata, long step, double f, const double *x) {
    return record_row(userdata, step, f, x);
}

/* The flags the command takes, in a table: name, and where its text goes. */
enum { F_FN, F_X0, F_OPT, F_LR, F_STEPS, F_SCHEDULE, F_WARMUP, F_CLIP_NORM, F_CLIP_VALUE, F_DIVERGE_FACTOR, F_SEED,
       N_FLAGS };
static const struct {
    const char *name, *metavar;
    int required;
} flag_table[N_FLAGS] = {
    {"--fn", "FN", 1},         {"--x0", "a,b,...", 1},   {"--opt", "SPEC", 1},    {"--lr", "X", 1},
    {"--steps", "N", 1},       {"--schedule", "SPEC", 0}, {"--warmup", "N", 0},   {"--clip-norm", "C", 0},
    {"--clip-value", "C", 0},  {"--diverge-factor", "F", 0}, {"--seed", "S", 0},
};

#define WARMUP_MAX OL_LONG_UPTO(40) /* --warmup's range */

/* The numbers, parsed as the command's flag parser does (src/cli/args.c), in the order given. */
typedef struct {
    double lr, clip_norm, clip_value, diverge_factor;
    long steps, warmup;
    uint64_t seed;
} numbers;

static int parse_number(int flag, const char *text, numbers *v) {
    char what[64];
    snprintf(what, sizeof what, COMMAND " %s", flag_table[flag].name);
    switch (flag) {
    case F_LR: return ol_parse_double(text, what, &v->lr);
    case F_CLIP_NORM: return ol_parse_double(text, what, &v->clip_norm);
    case F_CLIP_VALUE: return ol_parse_double(text, what, &v->clip_value);
    case F_DIVERGE_FACTOR: return ol_parse_double(text, what, &v->diverge_factor);
    case F_STEPS: return ol_parse_long(text, what, 0, 100000000, &v->steps);
    case F_WARMUP: return ol_parse_long(text, what, 0, WARMUP_MAX, &v->warmup);
    case F_SEED: return ol_parse_seed(text, what, &v->seed);
    default: return OL_OK;
    }
}

/* flags text -> texts[N_FLAGS] (pointers into buf, NULL when absent) and the numbers */
static int read_flags(char *buf, const char *texts[N_FLAGS], numbers *v) {
    int seen[N_FLAGS] = {0};
    for (char *line = buf; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (*line) {
            char *eq = strchr(line, '=');
            size_t name_len = eq ? (size_t)(eq - line) : strlen(line);
            int f = 0;
            while (f < N_FLAGS && !(strlen(flag_table[f].name) == name_len && !strncmp(flag_table[f].name, line, name_len)))
                f++;
            if (f == N_FLAGS)
                return ol_fail(OL_EARG, COMMAND ": unknown option '%.*s'; see " COMMAND " --help", (int)name_len, line);
            if (seen[f]) return ol_fail(OL_EARG, COMMAND ": option %s given twice", flag_table[f].name);
            seen[f] = 1;
            if (!eq)
                return ol_fail(OL_EARG, COMMAND ": option %s needs a value (%s)", flag_table[f].name, flag_table[f].metavar);
            texts[f] = eq + 1;
            int rc = parse_number(f, texts[f], v);
            if (rc) return rc;
        }
        line = next;
    }
    for (int f = 0; f < N_FLAGS; f++)
        if (flag_table[f].required && !seen[f])
            return ol_fail(OL_EARG, COMMAND ": missing %s %s; see " COMMAND " --help", flag_table[f].name,
                           flag_table[f].metavar);
    return OL_OK;
}

static ol_play *play_new(const char *flags, int run) {
    ol_play *p = ol_calloc(1, sizeof *p);
    char *buf = strdup(flags ? flags : "");
    if (!p || !buf) {
        free(p);
        free(buf);
        return NULL;
    }
    p->outcome = -1;
    p->f = NAN;
    const char *texts[N_FLAGS] = {NULL};
    numbers v = {NAN, 0, 0, OL_PLAY_DIVERGE_FACTOR, -1, 0, 0};
    double *x0 = NULL;
    ol_objective obj;
    memset(&obj, 0, sizeof obj);
    int rc = read_flags(buf, texts, &v);
    if (!rc && (v.clip_norm < 0 || v.clip_value < 0))
        rc = ol_fail(OL_EARG, "--clip-norm and --clip-value must be >= 0");
    if (!rc && v.diverge_factor < 0)
        rc = ol_fail(OL_EARG, "--diverge-factor must be >= 0 (0: stop only when f is not finite), got %g", v.diverge_factor);
    if (!rc) rc = ol_play_parse_point(texts[F_X0], &x0, &p->d);
    if (!rc)
        rc = ol_play_setup(&obj, &p->o, texts[F_FN], x0, p->d, texts[F_OPT], v.lr, texts[F_SCHEDULE], v.warmup,
                           v.clip_norm, v.clip_value, v.seed);
    if (rc) {
        p->d = 0;
    } else if (run) {
        p->width = 3 + p->d * (ol_optim_average(p->o, 0) ? 2 : 1);
        ol_fn_minimize_result r;
        rc = ol_play_minimize(&obj, p->o, v.steps, v.diverge_factor, record_point, p, &r);
        p->outcome = r.outcome;
        p->steps = r.steps;
        p->f = r.f;
        /* the evaluations of f the command prints: random search's, and those of an optimizer that
         * evaluates through a closure (lbfgs, sam) */
        p->evaluations = ol_optim_kind(p->o) == OL_OPTIM_RANDOM || ol_optim_needs_closure(p->o) ? ol_optim_evaluations(p->o) : 0;
        if (!rc && r.outcome == OL_MIN_STOPPED) rc = OL_ENOMEM; /* record_point ran out of memory */
        /* diverged: f out of bounds, or a step the optimizer refused for a non-finite gradient; the
         * trace goes up to it, as the command's */
        if (!rc && r.outcome == OL_MIN_DIVERGED) {
            double lr_used = p->n_rows ? p->rows[(size_t)(p->n_rows - 1) * (size_t)p->width + 1] : NAN;
            if (r.steps > 0 && record_row(p, r.steps, r.f, obj.x)) rc = OL_ENOMEM;
            else rc = ol_play_diverged(&r, lr_used, v.diverge_factor, NULL);
        }
    }
    if (rc) set_failure(p, rc);
    ol_optim_free(p->o);
    p->o = NULL;
    ol_fn_free(&obj);
    free(x0);
    free(buf);
    return p;
}

ol_play *ol_play_run(const char *flags) { return play_new(flags, 1); }
ol_play *ol_play_check(const char *flags) { return play_new(flags, 0); }

void ol_play_free(ol_play *p) {
    if (!p) return;
    free(p->rows);
    free(p->csv);
    free(p);
}

int ol_play_status(const ol_play *p) { return p->status; }
const char *ol_play_message(const ol_play *p) { return p->message; }
int ol_play_outcome(const ol_play *p) { return p->outcome; }
long ol_play_steps(const ol_play *p) { return p->steps; }
double ol_play_f(const ol_play *p) { return p->f; }
long ol_play_evaluations(const ol_play *p) { return p->evaluations; }
int ol_play_dim(const ol_play *p) { return p->d; }
int ol_play_width(const ol_play *p) { return p->width; }
long ol_play_rows(const ol_play *p) { return p->n_rows; }
const double *ol_play_trace(const ol_play *p) { return p->rows; }

const char *ol_play_trace_csv(ol_play *p) {
    if (p->csv) return p->csv;
    int with_average = p->width > 3 + p->d;
    size_t cap = 64 + 26 * (size_t)(p->width ? p->width : 3) * (size_t)(p->n_rows + 1), len = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    len += ol_play_trace_header(s, cap, p->d, with_average);
    for (long k = 0; k < p->n_rows; k++) {
        const double *row = p->rows + (size_t)k * (size_t)p->width;
        len += ol_play_trace_row(s + len, cap - len, (long)row[0], row[1], row[2], row + 3,
                                 with_average ? row + 3 + p->d : NULL, p->d);
    }
    return p->csv = s;
}

/* ---- the landscape ---- */

double *ol_play_map(const char *fn, double x_lo, double x_hi, double y_lo, double y_hi, int w, int h) {
    if (w < 2 || h < 2 || w > 4096 || h > 4096) {
        ol_fail(OL_EARG, "map of %d x %d points: each side must be in [2, 4096]", w, h);
        return NULL;
    }
    if (!isfinite(x_lo) || !isfinite(x_hi) || !isfinite(y_lo) || !isfinite(y_hi) || !(x_lo < x_hi) || !(y_lo < y_hi)) {
        ol_fail(OL_EARG, "map over [%g, %g] x [%g, %g]: each range must be finite and not empty", x_lo, x_hi, y_lo, y_hi);
        return NULL;
    }
    ol_objective obj;
    if (ol_fn_create(&obj, fn, 2)) return NULL;
    double *out = ol_malloc_array((size_t)w * (size_t)h, sizeof(double));
    if (out)
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++) {
                obj.x[0] = x_lo + (x_hi - x_lo) * c / (w - 1);
                obj.x[1] = y_lo + (y_hi - y_lo) * r / (h - 1);
                out[(size_t)r * w + c] = ol_fn_eval(&obj, 0);
            }
    ol_fn_free(&obj);
    return out;
}

/* ---- the matrix product's bytes ---- */

#define DEFINE_DIGEST(NAME, REAL, GEMM)                                                                \
    static uint32_t NAME(int m, int n, int k, int ta, int tb, uint32_t seed) {                         \
        size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;                             \
        REAL *v = ol_malloc_array(na + nb + nc, sizeof(REAL));                                          \
        if (!v) return 0;                                                                              \
        ol_rng r;                                                                                      \
        ol_rng_seed(&r, seed);                                                                         \
        for (size_t i = 0; i < na + nb + nc; i++) v[i] = (REAL)ol_rng_uniform_range(&r, -1, 1);       \
        GEMM(ta, tb, m, n, k, (REAL)0.7, v, v + na, (REAL)0.3, v + na + nb);                           \
        uint32_t crc = ol_crc32(0, v + na + nb, nc * sizeof(REAL));                                    \
        free(v);                                                                                       \
        return crc;                                                                                    \
    }
DEFINE_DIGEST(digest_f32, float, ol_gemm_f32)
DEFINE_DIGEST(digest_f64, double, ol_gemm_f64)

uint32_t ol_play_gemm_digest(int m, int n, int k, int trans_a, int trans_b, int precision, uint32_t seed) {
    if (m < 1 || n < 1 || k < 1 || m > 4096 || n > 4096 || k > 4096) return 0;
    return precision == 32 ? digest_f32(m, n, k, trans_a, trans_b, seed) : digest_f64(m, n, k, trans_a, trans_b, seed);
}

void *ol_play_alloc(size_t bytes) { return ol_malloc_array(bytes ? bytes : 1, 1); }
void ol_play_free_buffer(void *p) { free(p); }
const char *ol_play_error(void) { return ol_error(); }
