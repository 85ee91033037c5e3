/* lab_tuning.c: lab 5, "Hyperparameter tuning -> learning-rate schedules, gradient clipping and
 * adaptive methods".
 *
 * Every run trains the same MLP (mlp:<inputs>-64-<classes>, inputs standardized by the subset's
 * pixel mean and std) from the same initialization on the same mini-batches (the first `subset`
 * training examples, shuffled epochs) for the same number of steps, with ol_train_fit; only the
 * optimizer, its learning rate, the schedule or the clipping change. A run is judged by its final
 * loss: the cross-entropy over the whole training subset after the last step.
 *   1. the loss against the learning rate on a log lattice 10^(k/per_decade) for plain SGD (too
 *      small / good / too large), the same lattice with clip-norm 1 (rates above the best) and with
 *      the bold driver starting at each rate;
 *   2. clipping at the smallest "too high" rate: loss curves with and without it;
 *   3. schedules (constant, step, exponential, cosine, inverse-sqrt, onecycle, warm-up + cosine,
 *      bold), each at its best peak rate on a small lattice grid: loss and lr against steps;
 *   4. optimizers (SGD, momentum, Adagrad, RMSprop, Adam, AdamW), each at its best rate on a grid;
 *   5. the learning-rate range test (lrfind.h) against the sweep of 1.
 * Not here: tuning more than the lr (betas, weight decay, batch size), held-out losses (the lab is
 * about optimization: the training loss is the objective), several seeds per setting. */
#include "optlab/lab.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optlab/common.h"
#include "optlab/lrfind.h"
#include "optlab/nn.h"
#include "optlab/optim.h"
#include "optlab/train.h"

#define HIDDEN 64
#define MAX_SWEEP 24          /* lattice points of the sweep, and of any grid */
#define CLIP_NORM 1.0
#define TOO_HIGH 2.0          /* a rate above the best is "too high" when its loss > TOO_HIGH x the best */
#define EVAL_GRAPH_BATCH 1000
#define OFF_CHART 4.0         /* loss-against-lr figures end at OFF_CHART x the initial loss */

typedef struct {
    uint32_t subset;          /* training examples used (the first ones) */
    long batch, epochs;
    int k_lo, k_hi, per_decade; /* the lr lattice 10^(k / per_decade); the sweep spans [k_lo, k_hi] */
    long find_steps;          /* steps of the range test */
    double find_start;        /* its first rate; it ends at the sweep's top rate */
    int curve_points;         /* points per loss curve (means over windows of steps) */
} tn_plan;

static const tn_plan plan_full = {10000, 128, 4, -12, 3, 3, 100, 1e-5, 40};
static const tn_plan plan_quick = {1000, 32, 2, -8, 2, 2, 60, 1e-5, 24};

/* One training run and its record. */
typedef struct {
    char name[48];            /* "cosine", "Adam", "sgd", ... */
    char opt[64];             /* optimizer spec */
    char sched[192];          /* schedule spec, "" = constant */
    long warmup;
    double lr, clip;          /* base (peak) lr; clip-norm (0 = off) */
    long n, cap;              /* steps recorded, capacity */
    double *loss, *lrs;       /* per step: the mini-batch loss (before the step) and the lr it used */
    double final_loss;        /* over the training subset after the run; INFINITY if it diverged */
    int diverged;             /* 1: the loss or the gradient became non-finite (the run stopped) */
} tn_run;

/* A setting tuned over lattice rates. */
typedef struct {
    int n;                    /* grid points, in increasing lr */
    tn_run runs[MAX_SWEEP];
    int best;                 /* lowest final loss */
    int shared;               /* 1: runs are shallow copies of the sweep's (not freed here) */
} tn_grid;

typedef struct {
    ol_lab_ctx *ctx;
    const tn_plan *p;
    ol_dataset *train;        /* the whole training set; runs use its first sub.n rows */
    ol_dataset sub;           /* view of the subset (evaluation) */
    ol_mlp m;
    ol_mlp_graph eval;
    uint64_t seed;            /* model initialization and batch order: the same for every run */
    long batch, steps_per_epoch, total_steps;
    double initial_loss;      /* over the subset at initialization */
    int n_runs;
} tn_lab;

static double lattice_lr(const tn_plan *p, int k) { return pow(10.0, (double)k / p->per_decade); }

/* Progress: the wall-clock and processor time of the part just done. */
static void part_done(const ol_lab_ctx *ctx, double *t, clock_t *cpu) {
    double now = ol_now_seconds();
    clock_t cpu_now = clock();
    ol_lab_log(ctx, "  done in %.1f s (processor time %.1f s)", now - *t, (double)(cpu_now - *cpu) / CLOCKS_PER_SEC);
    *t = now;
    *cpu = cpu_now;
}

/* A final loss in text: 4 significant digits, or "diverged". */
static const char *loss_text(double loss, char *buf, size_t cap) {
    if (!isfinite(loss)) snprintf(buf, cap, "diverged");
    else snprintf(buf, cap, "%.4g", loss);
    return buf;
}

/* The smaller of lo and v, counting only v > 0 (a log axis's lower end; a loss of exactly 0 is a gap). */
static double lo_positive(double lo, double v) { return v > 0 && v < lo ? v : lo; }

/* ---- runs ---- */

static void on_step(void *userdata, long step, double seconds, double loss, double lr) {
    (void)step;
    (void)seconds;
    tn_run *r = userdata;
    if (r->n < r->cap) {
        r->loss[r->n] = loss;
        r->lrs[r->n] = lr;
        r->n++;
    }
}

static void run_free(tn_run *r) {
    free(r->loss);
    r->loss = r->lrs = NULL;
}

/* Trains the lab's model from its initialization with these settings and records the run in r. */
static int run_make(tn_lab *t, tn_run *r, const char *name, const char *opt, const char *sched, long warmup, double lr,
                    double clip) {
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->opt, sizeof r->opt, "%s", opt);
    snprintf(r->sched, sizeof r->sched, "%s", sched ? sched : "");
    r->warmup = warmup;
    r->lr = lr;
    r->clip = clip;
    r->cap = t->total_steps;
    if (!(r->loss = ol_malloc_array((size_t)r->cap * 2, sizeof(double)))) return OL_ENOMEM;
    r->lrs = r->loss + r->cap;

    ol_mlp_init(&t->m, t->seed);
    ol_train_config c = ol_train_default_config();
    c.model = &t->m;
    c.opt = r->opt;
    c.lr = lr;
    c.batch = t->batch;
    c.epochs = t->p->epochs;
    c.schedule = r->sched[0] ? r->sched : NULL;
    c.warmup = warmup;
    c.clip_norm = clip;
    c.seed = t->seed;
    c.train_subset = t->sub.n;
    c.quiet = 1;
    c.skip_test = 1;
    c.eval_train = 1;
    c.on_step = on_step;
    c.userdata = r;
    ol_train_result res;
    int rc = ol_train_fit(&c, t->train, NULL, &res);
    t->n_runs++;
    if (rc == OL_ENUMERIC) {          /* the loss or the gradient became NaN or infinite */
        r->diverged = 1;
        r->final_loss = INFINITY;
        return OL_OK;
    }
    if (rc) return rc;
    r->final_loss = res.train_loss_full;
    if (!isfinite(r->final_loss)) r->diverged = 1, r->final_loss = INFINITY;
    return OL_OK;
}

static int best_index(const tn_run *runs, int n) {
    int best = -1;
    for (int i = 0; i < n; i++)
        if (!runs[i].diverged && (best < 0 || runs[i].final_loss < runs[best].final_loss)) best = i;
    return best;
}

/* Tunes one setting's lr: runs it at the lattice rates k0..k1; while the best rate is at an end of
 * the grid, the grid grows by one lattice point on that side (at most 3 times, within
 * [k_lo - per_decade, k_hi]). */
static int tune(tn_lab *t, const char *name, const char *opt, const char *sched, long warmup, int k0, int k1,
                tn_grid *g) {
    const tn_plan *p = t->p;
    int rc;
    memset(g, 0, sizeof *g);
    g->best = -1;
    for (int k = k0; k <= k1 && g->n < MAX_SWEEP; k++)
        if ((rc = run_make(t, &g->runs[g->n++], name, opt, sched, warmup, lattice_lr(p, k), 0))) return rc;
    for (int extra = 0; extra < 3 && g->n < MAX_SWEEP; extra++) {
        g->best = best_index(g->runs, g->n);
        int k;
        if (g->best == 0) k = k0 - 1;
        else if (g->best == g->n - 1 || g->best < 0) k = k1 + 1;
        else break;
        if (k < p->k_lo - p->per_decade || k > p->k_hi) break;
        int at = g->n;
        if (k < k0) { /* in front: the grid stays in increasing lr */
            memmove(&g->runs[1], &g->runs[0], (size_t)g->n * sizeof g->runs[0]);
            memset(&g->runs[0], 0, sizeof g->runs[0]);
            at = 0;
            k0 = k;
        } else {
            k1 = k;
        }
        g->n++;
        if ((rc = run_make(t, &g->runs[at], name, opt, sched, warmup, lattice_lr(p, k), 0))) return rc;
    }
    g->best = best_index(g->runs, g->n);
    if (g->best < 0) return ol_fail(OL_ENUMERIC, "tuning lab: %s diverged at every learning rate of its grid", name);
    return OL_OK;
}

static void grid_free(tn_grid *g) {
    if (!g->shared)
        for (int i = 0; i < g->n; i++) run_free(&g->runs[i]);
    g->n = 0;
}

/* ---- curves: means of the mini-batch losses over windows of steps ---- */

static long curve_window(const tn_lab *t) {
    long w = (t->total_steps + t->p->curve_points - 1) / t->p->curve_points;
    return w > 0 ? w : 1;
}

/* Window j of run r: steps [j w, min((j+1) w, n)); its last step (1-based), mean loss and last lr. */
static int curve_point(const tn_run *r, long w, long j, double *step, double *loss, double *lr) {
    long a = j * w, b = a + w < r->n ? a + w : r->n;
    if (a >= b) return 0;
    double sum = 0;
    for (long i = a; i < b; i++) sum += r->loss[i];
    *step = (double)b;
    *loss = sum / (double)(b - a);
    *lr = r->lrs[b - 1];
    return 1;
}

/* Adds run r's curve to plot; returns the series index or -code. */
static int plot_curve(ol_plot *plot, const tn_lab *t, const tn_run *r, const char *label) {
    long w = curve_window(t), n = (r->n + w - 1) / w;
    double *x = ol_malloc_array((size_t)(n > 0 ? 2 * n : 2), sizeof(double));
    if (!x) return -OL_ENOMEM;
    double *y = x + (n > 0 ? n : 1), lr;
    long k = 0;
    for (long j = 0; j < n; j++)
        if (curve_point(r, w, j, &x[k], &y[k], &lr)) k++;
    int s = ol_plot_line(plot, label, x, y, (size_t)k);
    free(x);
    return s;
}

/* Writes runs' curves as rows key,base_lr,step,lr,loss,final_loss,diverged. */
static int write_curves(tn_lab *t, const char *file, const char *key_name, const tn_run *const *runs,
                        const char *const *keys, int n_runs) {
    char path[4096], header[256];
    snprintf(header, sizeof header, "%s,base_lr,step,lr,loss,final_loss,diverged", key_name);
    ol_csv *csv;
    int rc = ol_csv_open(&csv, ol_lab_path(t->ctx, file, path, sizeof path), header);
    if (rc) return rc;
    long w = curve_window(t);
    for (int i = 0; !rc && i < n_runs; i++) {
        const tn_run *r = runs[i];
        for (long j = 0; !rc && j * w < r->n; j++) {
            double step, loss, lr;
            if (!curve_point(r, w, j, &step, &loss, &lr)) continue;
            rc = ol_csv_str(csv, keys[i]);
            if (!rc) rc = ol_csv_num(csv, r->lr);
            if (!rc) rc = ol_csv_num(csv, step);
            if (!rc) rc = ol_csv_num(csv, lr);
            if (!rc) rc = ol_csv_num(csv, loss);
            if (!rc) rc = ol_csv_num(csv, r->final_loss);
            if (!rc) rc = ol_csv_int(csv, r->diverged);
            if (!rc) rc = ol_csv_end_row(csv);
        }
    }
    if (rc) {
        ol_csv_abort(csv);
        return rc;
    }
    return ol_csv_close(csv);
}

/* Writes grids as rows key,spec,lr,final_loss,diverged,best. */
static int write_grids(tn_lab *t, const char *file, const char *key_name, const tn_grid *grids,
                       const char *const *keys, const char *const *specs, int n) {
    char path[4096], header[128];
    snprintf(header, sizeof header, "%s,spec,lr,final_loss,diverged,best", key_name);
    ol_csv *csv;
    int rc = ol_csv_open(&csv, ol_lab_path(t->ctx, file, path, sizeof path), header);
    if (rc) return rc;
    for (int o = 0; !rc && o < n; o++)
        for (int i = 0; !rc && i < grids[o].n; i++) {
            const tn_run *r = &grids[o].runs[i];
            rc = ol_csv_str(csv, keys[o]);
            if (!rc) rc = ol_csv_str(csv, specs[o]);
            if (!rc) rc = ol_csv_num(csv, r->lr);
            if (!rc) rc = ol_csv_num(csv, r->final_loss);
            if (!rc) rc = ol_csv_int(csv, r->diverged);
            if (!rc) rc = ol_csv_int(csv, i == grids[o].best);
            if (!rc) rc = ol_csv_end_row(csv);
        }
    if (rc) {
        ol_csv_abort(csv);
        return rc;
    }
    return ol_csv_close(csv);
}

/* The bold driver as the lab uses it: it compares mean losses over windows of 1/16 epoch; a rise
 * of more than 10% counts as "varies wildly" (x0.5), anything else as calm (x1.25); capped at the
 * sweep's top rate. With one batch per comparison (the classic rule) the noise of the mini-batch
 * losses alone halves the rate about every other step. */
static void bold_spec(const tn_lab *t, char *buf, size_t cap) {
    long window = t->steps_per_epoch / 16 > 2 ? t->steps_per_epoch / 16 : 2;
    snprintf(buf, cap, "bold:window=%ld,tol=0.1,up=1.25,down=0.5,max_lr=%.9g", window, lattice_lr(t->p, t->p->k_hi));
}

/* ==== 1. the learning-rate sweep ==== */

typedef struct {
    int n;                    /* lattice points k_lo..k_hi */
    tn_run plain[MAX_SWEEP];  /* SGD, constant lr */
    tn_run clip[MAX_SWEEP];   /* SGD + clip-norm, only rates above the best (has_clip) */
    tn_run bold[MAX_SWEEP];   /* SGD + bold, starting at the rate */
    int has_clip[MAX_SWEEP];
    int best;                 /* index of plain's lowest final loss */
    int first_diverged;       /* smallest index whose plain run diverged, -1 if none */
    int too_high;             /* smallest index above best that diverged or ended > TOO_HIGH x best, -1 */
} tn_sweep;

static int sweep_runs(tn_lab *t, tn_sweep *s) {
    const tn_plan *p = t->p;
    int rc;
    char bold[192];
    bold_spec(t, bold, sizeof bold);
    s->n = p->k_hi - p->k_lo + 1;
    for (int i = 0; i < s->n; i++) {
        double lr = lattice_lr(p, p->k_lo + i);
        if ((rc = run_make(t, &s->plain[i], "sgd", "sgd", NULL, 0, lr, 0))) return rc;
        if ((rc = run_make(t, &s->bold[i], "sgd+bold", "sgd", bold, 0, lr, 0))) return rc;
    }
    s->best = best_index(s->plain, s->n);
    if (s->best < 0) return ol_fail(OL_ENUMERIC, "tuning lab: SGD diverged at every learning rate of the sweep");
    s->first_diverged = s->too_high = -1;
    for (int i = 0; i < s->n; i++) {
        if (s->plain[i].diverged && s->first_diverged < 0) s->first_diverged = i;
        if (i > s->best && s->too_high < 0 &&
            (s->plain[i].diverged || s->plain[i].final_loss > TOO_HIGH * s->plain[s->best].final_loss))
            s->too_high = i;
    }
    for (int i = s->best + 1; i < s->n; i++) {
        if ((rc = run_make(t, &s->clip[i], "sgd+clip", "sgd", NULL, 0, s->plain[i].lr, CLIP_NORM))) return rc;
        s->has_clip[i] = 1;
    }
    for (int i = 0; i < s->n; i++) {
        char a[32], b[32], c[32];
        ol_lab_log(t->ctx, "lr %-9.3g sgd %-9s bold %-9s clip %s", s->plain[i].lr,
                   loss_text(s->plain[i].final_loss, a, sizeof a), loss_text(s->bold[i].final_loss, b, sizeof b),
                   s->has_clip[i] ? loss_text(s->clip[i].final_loss, c, sizeof c) : "-");
    }
    return OL_OK;
}

static const tn_run *sweep_run(const tn_sweep *s, int method, int i) {
    if (method == 1) return s->has_clip[i] ? &s->clip[i] : NULL;
    return method == 0 ? &s->plain[i] : &s->bold[i];
}

static int figure_sweep(tn_lab *t, const tn_sweep *s) {
    static const char *const methods[3] = {"sgd", "sgd+clip", "sgd+bold"};
    char path[4096];
    ol_csv *csv;
    int rc = ol_csv_open(&csv, ol_lab_path(t->ctx, "tuning_lr_sweep.csv", path, sizeof path),
                         "method,lr,final_loss,diverged,steps");
    for (int m = 0; !rc && m < 3; m++)
        for (int i = 0; !rc && i < s->n; i++) {
            const tn_run *r = sweep_run(s, m, i);
            if (!r) continue;
            rc = ol_csv_str(csv, methods[m]);
            if (!rc) rc = ol_csv_num(csv, r->lr);
            if (!rc) rc = ol_csv_num(csv, r->final_loss);
            if (!rc) rc = ol_csv_int(csv, r->diverged);
            if (!rc) rc = ol_csv_int(csv, r->n + r->diverged);   /* the step that diverged counts */
            if (!rc) rc = ol_csv_end_row(csv);
        }
    if (rc) { ol_csv_abort(csv); return rc; }
    if ((rc = ol_csv_close(csv))) return rc;

    /* log y up to OFF_CHART x the initial loss; a run that diverged or ended above is a mark at the top */
    double lo = INFINITY, top = OFF_CHART * t->initial_loss;
    for (int m = 0; m < 3; m++)
        for (int i = 0; i < s->n; i++) {
            const tn_run *r = sweep_run(s, m, i);
            if (r && !r->diverged) lo = lo_positive(lo, r->final_loss);
        }
    ol_plot *plot = ol_plot_new("Final training loss against the learning rate", "learning rate (log scale)",
                                "training loss after the run (cross-entropy, log scale)");
    if (!plot) return OL_ENOMEM;
    ol_plot_log_x(plot, 1);
    ol_plot_log_y(plot, 1);
    ol_plot_y_range(plot, isfinite(lo) ? lo / 1.5 : NAN, top);
    static const char *const labels[3] = {"SGD, constant lr", "SGD + clip-norm 1 (rates above the best)",
                                          "SGD + bold driver, starting at that lr"};
    double x[MAX_SWEEP], y[MAX_SWEEP], dx[3 * MAX_SWEEP], dy[3 * MAX_SWEEP];
    int n_div = 0;
    for (int m = 0; m < 3; m++) {
        int k = 0;
        for (int i = 0; i < s->n; i++) {
            const tn_run *r = sweep_run(s, m, i);
            if (!r) continue;
            int off = r->diverged || r->final_loss > top;
            x[k] = r->lr;
            y[k++] = off ? NAN : r->final_loss;           /* a gap in the line */
            if (off) dx[n_div] = r->lr, dy[n_div++] = top / (1.1 + 0.12 * m);
        }
        int l = ol_plot_line(plot, labels[m], x, y, (size_t)k);
        if (l >= 0) {
            ol_plot_color(plot, l, m);
            ol_plot_markers(plot, l, 1);
            if (m) ol_plot_dashed(plot, l, m);
        }
    }
    if (n_div) {
        char label[96];
        snprintf(label, sizeof label, "diverged (NaN/inf) or above %gx the initial loss", OFF_CHART);
        int d = ol_plot_scatter(plot, label, dx, dy, (size_t)n_div);
        if (d >= 0) ol_plot_color(plot, d, 6);
    }
    ol_plot_hline(plot, t->initial_loss, "loss at initialization");
    const tn_run *best = &s->plain[s->best];
    int nd = 0, above = 0, clip_wins = 0, bold_wins = 0, bold_low_wins = 0;
    for (int i = 0; i < s->n; i++) {
        nd += s->plain[i].diverged;
        if (i > s->best) {
            above++;
            clip_wins += s->clip[i].final_loss < s->plain[i].final_loss;
            bold_wins += s->bold[i].final_loss < s->plain[i].final_loss;
        } else if (i < s->best) {
            bold_low_wins += s->bold[i].final_loss < s->plain[i].final_loss;
        }
    }
    char caption[2048], a[32], b[64] = "", c[32], d[32];
    if (s->first_diverged >= 0) snprintf(b, sizeof b, " (from lr %.3g on)", s->plain[s->first_diverged].lr);
    snprintf(caption, sizeof caption,
             "Each point is one run of %ld SGD steps (batch %ld, %ld epochs over the first %u training examples) "
             "from the same initialization on the same mini-batches; only the learning rate differs. Too small "
             "(left) and the loss hardly moves from its initial %.4g in the budget; too large (right) and it "
             "stalls high or blows up. The best constant rate was %.3g (final loss %s); %d of %d rates "
             "diverged%s; runs that diverged or ended above %gx the initial loss are the black marks at the "
             "top. Above the best rate, clipping the gradient norm to 1 (dashed) ended lower than plain SGD at "
             "%d of %d rates. The bold driver (dotted) ended lower than constant SGD at %d of the %d rates below "
             "the best (from the smallest, %.3g, it reached %s where constant SGD reached %s): it raises a rate "
             "that is too small. Above the best it ended lower at %d of %d: it keeps raising the rate while the "
             "loss is calm, and one window of too-large steps can do damage it cannot undo.",
             t->total_steps, t->batch, t->p->epochs, t->sub.n, t->initial_loss, best->lr,
             loss_text(best->final_loss, a, sizeof a), nd, s->n, b, OFF_CHART, clip_wins, above, bold_low_wins,
             s->best, s->bold[0].lr, loss_text(s->bold[0].final_loss, c, sizeof c),
             loss_text(s->plain[0].final_loss, d, sizeof d), bold_wins, above);
    rc = ol_lab_figure(t->ctx, plot, "tuning_lr_sweep.svg", "tuning_lr_sweep.csv", caption);
    ol_plot_free(plot);
    return rc;
}

/* ==== 2. clipping at a too-high rate ==== */

static int figure_clipping(tn_lab *t, const tn_sweep *s, int z) {
    const tn_run *runs[2] = {&s->plain[z], &s->clip[z]};
    char path[4096];
    ol_csv *csv;
    int rc = ol_csv_open(&csv, ol_lab_path(t->ctx, "tuning_clipping.csv", path, sizeof path),
                         "clip_norm,lr,step,loss,final_loss,diverged");
    long w = curve_window(t);
    for (int i = 0; !rc && i < 2; i++)
        for (long j = 0; !rc && j * w < runs[i]->n; j++) {
            double step, loss, lr;
            if (!curve_point(runs[i], w, j, &step, &loss, &lr)) continue;
            double row[6] = {runs[i]->clip, lr, step, loss, runs[i]->final_loss, runs[i]->diverged};
            rc = ol_csv_row(csv, row, 6);
        }
    if (rc) { ol_csv_abort(csv); return rc; }
    if ((rc = ol_csv_close(csv))) return rc;

    char title[128];
    snprintf(title, sizeof title, "Gradient clipping at a too-high learning rate (lr %.3g)", s->plain[z].lr);
    ol_plot *plot = ol_plot_new(title, "step (mini-batches)", "mini-batch loss (mean over a window, log scale)");
    if (!plot) return OL_ENOMEM;
    ol_plot_log_y(plot, 1);
    char label[96], a[32], b[32];
    snprintf(label, sizeof label, "no clipping%s", s->plain[z].diverged ? " (diverged: NaN or infinite)" : "");
    int l = plot_curve(plot, t, &s->plain[z], label);
    if (l >= 0) ol_plot_color(plot, l, 1);
    snprintf(label, sizeof label, "clip-norm %g", CLIP_NORM);
    l = plot_curve(plot, t, &s->clip[z], label);
    if (l >= 0) ol_plot_color(plot, l, 0);
    ol_plot_hline(plot, t->initial_loss, "loss at initialization");
    char caption[1536];
    snprintf(caption, sizeof caption,
             "Plain SGD at lr %.3g, the smallest rate of the sweep above the best whose run diverged or ended "
             "above %g x the best loss, with and without clipping the gradient's L2 norm to %g (a step then "
             "moves the weights by at most lr x %g). Each point is the mean mini-batch loss over %ld steps. "
             "Final loss over the training subset: %s without clipping, %s with it.%s",
             s->plain[z].lr, TOO_HIGH, CLIP_NORM, CLIP_NORM, curve_window(t),
             loss_text(s->plain[z].final_loss, a, sizeof a), loss_text(s->clip[z].final_loss, b, sizeof b),
             s->clip[z].final_loss < s->plain[z].final_loss
                 ? ""
                 : " Here clipping did not help: at this rate the steps are too long even after clipping.");
    rc = ol_lab_figure(t->ctx, plot, "tuning_clipping.svg", "tuning_clipping.csv", caption);
    ol_plot_free(plot);
    return rc;
}

/* ==== 3. schedules ==== */

/* the schedules, named: every array indexed by schedule follows this order */
enum { SCHED_CONSTANT, SCHED_STEP, SCHED_EXPONENTIAL, SCHED_COSINE, SCHED_INVERSE_SQRT, SCHED_ONECYCLE,
       SCHED_WARMUP_COSINE, SCHED_BOLD, N_SCHED };
_Static_assert(SCHED_CONSTANT == 0, "the loops over schedules from 1 skip the constant one");
static const char *const sched_names[N_SCHED] = {
    [SCHED_CONSTANT] = "constant",         [SCHED_STEP] = "step",         [SCHED_EXPONENTIAL] = "exponential",
    [SCHED_COSINE] = "cosine",             [SCHED_INVERSE_SQRT] = "inverse-sqrt", [SCHED_ONECYCLE] = "onecycle",
    [SCHED_WARMUP_COSINE] = "warmup+cosine", [SCHED_BOLD] = "bold"};

/* Colours and dashes: no yellow (hard to see on white); warm-up + cosine shares cosine's colour. */
static void sched_style(ol_plot *plot, int series, int i) {
    static const int colour[N_SCHED] = {0, 1, 2, 3, 4, 5, 3, 6};
    static const int dash[N_SCHED] = {0, 0, 0, 0, 1, 2, 3, 1};
    ol_plot_color(plot, series, colour[i]);
    if (dash[i]) ol_plot_dashed(plot, series, dash[i]);
}

typedef struct {
    char spec[N_SCHED][192];
    char shown[N_SCHED][224];      /* the spec with its warm-up, for the CSV */
    const char *spec_ptr[N_SCHED];
    long warmup[N_SCHED];
    tn_grid grid[N_SCHED];    /* grid[SCHED_CONSTANT]: the sweep */
    char classic_spec[192];   /* bold with window 1 and no tolerance: the classic per-step rule */
    tn_run classic;           /* ... at the best constant rate */
} tn_scheds;

/* Runs of the sweep as a grid (shallow copies): constant SGD's, and bold's over its starting rates. */
static void sweep_as_grid(const tn_run *runs, int n, tn_grid *g) {
    memset(g, 0, sizeof *g);
    g->n = n;
    for (int i = 0; i < n; i++) g->runs[i] = runs[i];
    g->best = best_index(runs, n);
    g->shared = 1;
}

static int schedule_runs(tn_lab *t, const tn_sweep *s, tn_scheds *sc) {
    long T = t->total_steps, warm = T / 10 > 1 ? T / 10 : 1;
    snprintf(sc->spec[SCHED_CONSTANT], 192, "constant");
    snprintf(sc->spec[SCHED_STEP], 192, "step:step_size=%ld,gamma=0.3", (T + 2) / 3);
    snprintf(sc->spec[SCHED_EXPONENTIAL], 192, "exponential:gamma=%.9g", pow(0.01, 1.0 / (double)T));
    snprintf(sc->spec[SCHED_COSINE], 192, "cosine:t_max=%ld", T);
    snprintf(sc->spec[SCHED_INVERSE_SQRT], 192, "inverse-sqrt:c=%.9g", sqrt((double)T) / 3);
    snprintf(sc->spec[SCHED_ONECYCLE], 192, "onecycle:total_steps=%ld", T);
    snprintf(sc->spec[SCHED_WARMUP_COSINE], 192, "cosine:t_max=%ld", T - warm);
    bold_spec(t, sc->spec[SCHED_BOLD], 192);
    for (int i = 0; i < N_SCHED; i++) {
        sc->warmup[i] = i == SCHED_WARMUP_COSINE ? warm : 0;
        if (sc->warmup[i]) snprintf(sc->shown[i], sizeof sc->shown[i], "%.180s after %ld warm-up steps", sc->spec[i], warm);
        else snprintf(sc->shown[i], sizeof sc->shown[i], "%s", sc->spec[i]);
        sc->spec_ptr[i] = sc->shown[i];
    }
    /* constant's grid is the sweep, bold's the sweep's bold runs (every starting rate) */
    sweep_as_grid(s->plain, s->n, &sc->grid[SCHED_CONSTANT]);
    sweep_as_grid(s->bold, s->n, &sc->grid[SCHED_BOLD]);
    if (sc->grid[SCHED_BOLD].best < 0) return ol_fail(OL_ENUMERIC, "tuning lab: bold diverged from every starting rate");
    /* peaks from the best constant rate up two lattice points (a decaying schedule can afford a
     * higher start), grown where the best is at an end */
    int kb = t->p->k_lo + s->best, k1 = kb + 2 < t->p->k_hi ? kb + 2 : t->p->k_hi, k0 = k1 - 2;
    snprintf(sc->classic_spec, sizeof sc->classic_spec, "bold:up=1.25,down=0.5,max_lr=%.9g", lattice_lr(t->p, t->p->k_hi));
    int rc = run_make(t, &sc->classic, "bold-classic", "sgd", sc->classic_spec, 0, s->plain[s->best].lr, 0);
    if (rc) return rc;
    for (int i = 1; i < N_SCHED; i++) {
        if (i != SCHED_BOLD) rc = tune(t, sched_names[i], "sgd", sc->spec[i], sc->warmup[i], k0, k1, &sc->grid[i]);
        if (rc) return rc;
        const tn_run *b = &sc->grid[i].runs[sc->grid[i].best];
        ol_lab_log(t->ctx, "schedule %-14s best peak lr %.3g of %d: loss %.4g", sched_names[i], b->lr,
                   sc->grid[i].n, b->final_loss);
    }
    return OL_OK;
}

static const tn_run *grid_best(const tn_grid *g) { return &g->runs[g->best]; }

static int figure_schedules(tn_lab *t, tn_scheds *sc) {
    const tn_run *runs[N_SCHED];
    for (int i = 0; i < N_SCHED; i++) runs[i] = grid_best(&sc->grid[i]);
    int rc = write_curves(t, "tuning_schedules.csv", "schedule", runs, sched_names, N_SCHED);
    if (!rc) rc = write_grids(t, "tuning_schedule_grid.csv", "schedule", sc->grid, sched_names, sc->spec_ptr, N_SCHED);
    if (rc) return rc;
    int order[N_SCHED];
    for (int i = 0; i < N_SCHED; i++) order[i] = i;
    for (int i = 1; i < N_SCHED; i++)
        for (int j = i; j > 0 && runs[order[j]]->final_loss < runs[order[j - 1]]->final_loss; j--) {
            int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    int beat = 0;   /* schedules that ended below constant */
    for (int i = 0; i < N_SCHED; i++) beat += i != SCHED_CONSTANT && runs[i]->final_loss < runs[SCHED_CONSTANT]->final_loss;

    ol_plot *plot = ol_plot_new("Learning-rate schedules, each at its best peak rate", "step (mini-batches)",
                                "mini-batch loss (mean over a window, log scale)");
    if (!plot) return OL_ENOMEM;
    ol_plot_log_y(plot, 1);
    for (int i = 0; i < N_SCHED; i++) {
        char label[96];
        snprintf(label, sizeof label, "%s (lr %.3g)", sched_names[i], runs[i]->lr);
        int l = plot_curve(plot, t, runs[i], label);
        if (l >= 0) sched_style(plot, l, i);
    }
    char caption[2048], a[32], b[32];
    snprintf(caption, sizeof caption,
             "SGD from the same initialization on the same mini-batches for %ld steps. Every schedule was tuned: "
             "its peak rate is the best of a grid on the lattice of the sweep, from the best constant rate up "
             "two points (grown where its best is at an end); constant's grid is the whole sweep, and bold's "
             "its starting rates there (table below). Each point is the mean mini-batch loss over %ld steps. Lowest final loss over the training subset: %s (%s); constant "
             "at its best rate: %s; %d of the %d other schedules ended below constant.",
             t->total_steps, curve_window(t), sched_names[order[0]], loss_text(runs[order[0]]->final_loss, a, sizeof a),
             loss_text(runs[SCHED_CONSTANT]->final_loss, b, sizeof b), beat, N_SCHED - 1);
    rc = ol_lab_figure(t->ctx, plot, "tuning_schedules.svg", "tuning_schedules.csv", caption);
    ol_plot_free(plot);
    if (rc) return rc;

    static const char *const header[4] = {"schedule", "spec", "peak lr (grid)", "final loss"};
    char cells[N_SCHED][4][224];
    const char *cell_ptr[N_SCHED * 4];
    for (int r = 0; r < N_SCHED; r++) {
        int i = order[r];
        const tn_run *run = runs[i];
        const tn_grid *g = &sc->grid[i];
        snprintf(cells[r][0], 224, "%s", sched_names[i]);
        if (sc->warmup[i]) snprintf(cells[r][1], 224, "warm-up %ld, %.180s", sc->warmup[i], sc->spec[i]);
        else if (i == 7) snprintf(cells[r][1], 224, "bold (see the next figure)");
        else snprintf(cells[r][1], 224, "%.200s", sc->spec[i]);
        snprintf(cells[r][2], 224, "%.3g (%.3g..%.3g)", run->lr, g->runs[0].lr, g->runs[g->n - 1].lr);
        loss_text(run->final_loss, cells[r][3], 224);
        for (int c = 0; c < 4; c++) cell_ptr[r * 4 + c] = cells[r][c];
    }
    if ((rc = ol_report_table(t->ctx->report, 4, header, N_SCHED, cell_ptr))) return rc;

    /* the learning rates themselves, step by step */
    char path[4096];
    ol_csv *csv;
    if ((rc = ol_csv_open(&csv, ol_lab_path(t->ctx, "tuning_schedule_lr.csv", path, sizeof path), "schedule,step,lr")))
        return rc;
    for (int i = 0; !rc && i <= N_SCHED; i++) {
        const tn_run *r = i < N_SCHED ? runs[i] : &sc->classic;
        for (long k = 0; !rc && k < r->n; k++) {
            rc = ol_csv_str(csv, i < N_SCHED ? sched_names[i] : "bold-classic");
            if (!rc) rc = ol_csv_int(csv, k + 1);
            if (!rc) rc = ol_csv_num(csv, r->lrs[k]);
            if (!rc) rc = ol_csv_end_row(csv);
        }
    }
    if (rc) { ol_csv_abort(csv); return rc; }
    if ((rc = ol_csv_close(csv))) return rc;
    plot = ol_plot_new("Learning-rate schedules: the rate at each step", "step (mini-batches)",
                       "learning rate (log scale)");
    if (!plot) return OL_ENOMEM;
    ol_plot_log_y(plot, 1);
    double *x = ol_malloc_array((size_t)t->total_steps, sizeof(double));
    if (!x) { ol_plot_free(plot); return OL_ENOMEM; }
    for (long k = 0; k < t->total_steps; k++) x[k] = (double)(k + 1);
    double peak = 0;
    for (int i = 0; i < N_SCHED; i++) peak = fmax(peak, runs[i]->lr);
    ol_plot_y_range(plot, peak * 1e-4, NAN);
    for (int i = 0; i < N_SCHED; i++) {
        int l = ol_plot_line(plot, sched_names[i], x, runs[i]->lrs, (size_t)runs[i]->n);
        if (l >= 0) sched_style(plot, l, i);
    }
    int l = ol_plot_line(plot, "bold, window 1, tol 0 (classic)", x, sc->classic.lrs, (size_t)sc->classic.n);
    if (l >= 0) ol_plot_color(plot, l, 6), ol_plot_dashed(plot, l, 2);
    free(x);
    const tn_run *cl = &sc->classic;
    double classic_end = cl->n ? cl->lrs[cl->n - 1] : NAN;
    snprintf(caption, sizeof caption,
             "The rate each step of the previous figure used (log scale, down to 1e-4 x the highest peak). "
             "step: x0.3 every third of the run; exponential: down to 1/100 at the end; cosine: half a cosine "
             "to 0; inverse-sqrt: alpha/(c + sqrt t), a quarter of the start at the end; onecycle: up from "
             "1/25 of the peak over 30%% of the run, then down; warm-up + cosine: a linear ramp over the first "
             "10%% of the steps. bold (%s) follows the loss: x1.25 after a window of steps whose mean loss did "
             "not rise by more than 10%% over the previous window, x0.5 otherwise. The classic rule compares "
             "single mini-batch losses instead (window 1, no tolerance; black dots, from lr %.3g): their noise "
             "alone looks like wild variation about every other step, and the rate fell to %.3g by the end "
             "(final loss %s).",
             sc->spec[7], cl->lr, classic_end, loss_text(cl->final_loss, a, sizeof a));
    rc = ol_lab_figure(t->ctx, plot, "tuning_schedule_lr.svg", "tuning_schedule_lr.csv", caption);
    ol_plot_free(plot);
    if (!rc)
        rc = ol_report_panel(t->ctx->report, "schedules",
                             "If you learn too fast you see wild variations in the loss; too slowly, convergence "
                             "takes forever. Pick a schedule, or the bold driver (decrease the rate if the loss "
                             "varies wildly, otherwise increase it), and clipping: see the learning rate it gives at "
                             "each step and what it does to a run on the explorer's function.");
    return rc;
}

/* ==== 4. optimizers, each at its tuned rate ==== */

/* the optimizers, named: every array indexed by optimizer follows this order */
enum { OPT_SGD, OPT_MOMENTUM, OPT_ADAGRAD, OPT_RMSPROP, OPT_ADAM, OPT_ADAMW, OPT_LION, OPT_SF_ADAMW, N_OPT };
static const char *const opt_names[N_OPT] = {[OPT_SGD] = "SGD", [OPT_MOMENTUM] = "momentum", [OPT_ADAGRAD] = "Adagrad",
                                             [OPT_RMSPROP] = "RMSprop", [OPT_ADAM] = "Adam", [OPT_ADAMW] = "AdamW",
                                             [OPT_LION] = "Lion", [OPT_SF_ADAMW] = "Schedule-Free AdamW"};
static const char *const opt_specs[N_OPT] = {[OPT_SGD] = "sgd", [OPT_MOMENTUM] = "sgd:momentum=0.9",
                                             [OPT_ADAGRAD] = "adagrad", [OPT_RMSPROP] = "rmsprop",
                                             [OPT_ADAM] = "adam", [OPT_ADAMW] = "adamw",
                                             [OPT_LION] = "lion", [OPT_SF_ADAMW] = "sf-adamw"};
/* the first grid of each: lattice rates in [lo, hi] (SGD's grid is the sweep); Lion's steps are
 * lr x sign, each weight a full lr: its rates sit about 10x below Adam's (Chen et al. 2023) */
static const double opt_lo[N_OPT] = {0, 0.01, 0.01, 3e-4, 3e-4, 3e-4, 3e-5, 3e-4};
static const double opt_hi[N_OPT] = {0, 0.1, 0.1, 3e-3, 3e-3, 3e-3, 3e-4, 3e-3};

static int optimizer_runs(tn_lab *t, const tn_sweep *s, tn_grid *grids) {
    sweep_as_grid(s->plain, s->n, &grids[OPT_SGD]);
    for (int o = 1; o < N_OPT; o++) {
        int k0 = (int)ceil(log10(opt_lo[o]) * t->p->per_decade - 1e-9);
        int k1 = (int)floor(log10(opt_hi[o]) * t->p->per_decade + 1e-9);
        int rc = tune(t, opt_names[o], opt_specs[o], NULL, 0, k0, k1, &grids[o]);
        if (rc) return rc;
        const tn_run *b = grid_best(&grids[o]);
        ol_lab_log(t->ctx, "%-8s best lr %.3g of %d: loss %.4g", opt_names[o], b->lr, grids[o].n, b->final_loss);
    }
    return OL_OK;
}

static int figure_optimizers(tn_lab *t, const tn_grid *grids) {
    const tn_run *best[N_OPT];
    for (int o = 0; o < N_OPT; o++) best[o] = grid_best(&grids[o]);
    int rc = write_curves(t, "tuning_optimizers.csv", "optimizer", best, opt_names, N_OPT);
    if (!rc) rc = write_grids(t, "tuning_optimizer_grid.csv", "optimizer", grids, opt_names, opt_specs, N_OPT);
    if (rc) return rc;
    int winner = 0;
    for (int o = 1; o < N_OPT; o++)
        if (best[o]->final_loss < best[winner]->final_loss) winner = o;

    ol_plot *plot = ol_plot_new("Optimizers, each at its tuned learning rate", "step (mini-batches)",
                                "mini-batch loss (mean over a window, log scale)");
    if (!plot) return OL_ENOMEM;
    ol_plot_log_y(plot, 1);
    for (int o = 0; o < N_OPT; o++) {
        char label[96];
        snprintf(label, sizeof label, "%s, lr %.3g", opt_names[o], best[o]->lr);
        int l = plot_curve(plot, t, best[o], label);
        if (l >= 0) {
            ol_plot_color(plot, l, o);
            if (o >= 3) ol_plot_dashed(plot, l, o - 2);
        }
    }
    char caption[1536], a[32], b[32];
    snprintf(caption, sizeof caption,
             "Each optimizer trains the same network from the same initialization on the same mini-batches for "
             "%ld steps at a constant rate, the one of its grid (next figure) with the lowest final loss; each "
             "point is the mean mini-batch loss over %ld steps. Lowest final loss over the training subset: %s at "
             "lr %.3g, %s (plain SGD: %s). Adagrad, RMSprop, Adam and AdamW divide each weight's step by a "
             "running size of its own gradients: the lecture's individual learning rates for different weights; "
             "Lion (2023) steps every weight by the same lr along the sign of its momentum; Schedule-Free AdamW (2024) "
             "averages its iterates instead of decaying its rate.",
             t->total_steps, curve_window(t), opt_names[winner], best[winner]->lr,
             loss_text(best[winner]->final_loss, a, sizeof a), loss_text(best[0]->final_loss, b, sizeof b));
    rc = ol_lab_figure(t->ctx, plot, "tuning_optimizers.svg", "tuning_optimizers.csv", caption);
    ol_plot_free(plot);
    if (rc) return rc;

    plot = ol_plot_new("Final loss against the learning rate, per optimizer", "learning rate (log scale)",
                       "training loss after the run (log scale)");
    if (!plot) return OL_ENOMEM;
    ol_plot_log_x(plot, 1);
    ol_plot_log_y(plot, 1);
    double lo = INFINITY, hi = t->initial_loss;
    for (int o = 0; o < N_OPT; o++)
        for (int i = 0; i < grids[o].n; i++)
            if (!grids[o].runs[i].diverged)
                lo = lo_positive(lo, grids[o].runs[i].final_loss), hi = fmax(hi, grids[o].runs[i].final_loss);
    ol_plot_y_range(plot, isfinite(lo) ? lo / 1.5 : NAN, fmin(hi * 1.5, OFF_CHART * t->initial_loss));
    for (int o = 0; o < N_OPT; o++) {
        double x[MAX_SWEEP], y[MAX_SWEEP];
        for (int i = 0; i < grids[o].n; i++)
            x[i] = grids[o].runs[i].lr, y[i] = grids[o].runs[i].diverged ? NAN : grids[o].runs[i].final_loss;
        int l = ol_plot_line(plot, opt_names[o], x, y, (size_t)grids[o].n);
        if (l >= 0) {
            ol_plot_color(plot, l, o);
            ol_plot_markers(plot, l, 1);
            if (o >= 3) ol_plot_dashed(plot, l, o - 2);
        }
    }
    ol_plot_hline(plot, t->initial_loss, "loss at initialization");
    double ratio = best[0]->lr / best[4]->lr;
    snprintf(caption, sizeof caption,
             "The tuning behind the previous figure: the final loss of every run of each optimizer's grid "
             "(rates 10^(k/%d); a grid whose best rate was at an end grew by one point on that side, up to three "
             "times; diverged runs are gaps). SGD's grid is the whole sweep. A curve that is flat around its "
             "minimum forgives a rough choice of rate. Adam's best rate (%.3g) was %.3gx %s than plain SGD's "
             "(%.3g): the adaptive methods normalize the step, so their rates are on another scale.",
             t->p->per_decade, best[4]->lr, ratio >= 1 ? ratio : 1 / ratio, ratio >= 1 ? "smaller" : "larger",
             best[0]->lr);
    rc = ol_lab_figure(t->ctx, plot, "tuning_optimizer_grid.svg", "tuning_optimizer_grid.csv", caption);
    ol_plot_free(plot);
    if (!rc) rc = ol_lab_page_data(t->ctx);
    if (!rc)
        rc = ol_report_panel(t->ctx->report, "optimizers",
                             "Compare SGD, momentum, RMSprop and Adam on the same network and mini-batches: move the "
                             "learning rate and the batch size, train, and then run the robustness strip to see "
                             "which of them forgives a rough choice of learning rate.");
    return rc;
}

/* ==== 5. the learning-rate range test ==== */

/* The range test for optimizer o (SGD, Adam) from the runs' initialization, on their subset. */
static int lrfind_run(tn_lab *t, const char *opt, ol_lrfind_result *r) {
    ol_lrfind_config c = ol_lrfind_default_config();
    ol_mlp_init(&t->m, t->seed);
    c.model = &t->m;            /* the same initialization and input standardization as every run */
    c.opt = opt;
    c.batch = t->batch;
    c.start_lr = t->p->find_start;
    c.end_lr = lattice_lr(t->p, t->p->k_hi);
    c.steps = t->p->find_steps;
    c.seed = t->seed;
    c.train_subset = t->sub.n;
    return ol_lrfind_run(&c, t->train, r);
}

/* How far a is from b, as text: "1.4x below" / "2x above" / "equal to". */
static const char *ratio_text(double a, double b, char *buf, size_t cap) {
    if (a == b) snprintf(buf, cap, "equal to");
    else snprintf(buf, cap, "%.2gx %s", a > b ? a / b : b / a, a > b ? "above" : "below");
    return buf;
}

static int figure_lrfind(tn_lab *t, const ol_lrfind_result *r, const char *name, const char *svg, const char *csv,
                         const tn_grid *g, int grid_runs) {
    char path[4096];
    int rc = ol_lrfind_write_csv(r, ol_lab_path(t->ctx, csv, path, sizeof path));
    if (rc) return rc;
    char title[128];
    snprintf(title, sizeof title, "Learning-rate range test (optlab lr-find), %s", name);
    ol_plot *plot = ol_lrfind_plot(r, title);
    if (!plot) return OL_ENOMEM;
    double best = grid_best(g)->lr;
    char text[96], a[32], b[32];
    snprintf(text, sizeof text, "tuned rate (%d full runs), %.3g", grid_runs, best);
    ol_plot_vline(plot, best, text);
    const ol_lrfind_config used = ol_lrfind_default_config(); /* lrfind_run keeps its smoothing and stop rule */
    char stopped[160];
    snprintf(stopped, sizeof stopped, "It stopped when the smoothed loss passed %gx its minimum (or a loss became NaN).",
             used.diverge_factor);
    char caption[1536];
    snprintf(caption, sizeof caption,
             "One run of %s from the same initialization, the rate growing exponentially from %.3g to %.3g over "
             "%ld mini-batches of %ld, one per step (Smith 2017). Light: each batch's loss; dark: its moving "
             "average (beta %g, bias-corrected), which lags behind the rising rate. %s The suggestion, where the "
             "smoothed loss fell fastest, is lr %.3g, %s the rate that %d full runs of %ld steps found best "
             "(%.3g). The rule of thumb 'lowest smoothed loss / 10' gives %.3g, %s it.",
             name, t->p->find_start, lattice_lr(t->p, t->p->k_hi), t->p->find_steps, t->batch, used.beta,
             r->diverged ? stopped : "The loss did not diverge within the range.",
             r->suggested_lr, ratio_text(r->suggested_lr, best, a, sizeof a), grid_runs, t->total_steps, best,
             r->min_lr / 10, ratio_text(r->min_lr / 10, best, b, sizeof b));
    rc = ol_lab_figure(t->ctx, plot, svg, csv, caption);
    ol_plot_free(plot);
    return rc;
}

/* ==== the lab ==== */

int ol_lab_tuning(ol_lab_ctx *ctx) {
    const tn_plan *p = ctx->quick ? &plan_quick : &plan_full;
    ol_dataset *train, *test;
    int rc = ol_lab_data(ctx, &train, &test);
    if (rc) return rc;
    if (p->k_hi - p->k_lo + 1 > MAX_SWEEP) return ol_fail(OL_EARG, "tuning lab: the sweep has too many rates");
    if (train->n < 64) return ol_fail(OL_EARG, "the tuning lab needs at least 64 training examples, got %u", train->n);

    tn_lab t;
    memset(&t, 0, sizeof t);
    t.ctx = ctx;
    t.p = p;
    t.train = train;
    t.sub = *train;
    t.sub.owns = 0;
    if (p->subset < t.sub.n) t.sub.n = p->subset;
    t.seed = ctx->seed * 1000003u + 5u;
    t.batch = p->batch < (long)t.sub.n ? p->batch : (long)t.sub.n;
    t.steps_per_epoch = ((long)t.sub.n + t.batch - 1) / t.batch;
    t.total_steps = t.steps_per_epoch * p->epochs;
    tn_sweep *sweep = calloc(1, sizeof *sweep);
    tn_scheds *sc = calloc(1, sizeof *sc);
    tn_grid *grids = calloc(N_OPT, sizeof *grids);
    ol_lrfind_result find, find_adam;
    memset(&find, 0, sizeof find);
    memset(&find_adam, 0, sizeof find_adam);
    if (!sweep || !sc || !grids) { rc = ol_fail(OL_ENOMEM, "out of memory"); goto out; }

    char spec[128];
    snprintf(spec, sizeof spec, "mlp:%zu-%d-%d", ol_dataset_dim(train), HIDDEN, train->n_classes);
    if ((rc = ol_mlp_create(&t.m, spec, 0))) goto out;
    double mean, std;
    if ((rc = ol_data_stats(&t.sub, &mean, &std))) goto out;
    t.m.input_mean = (float)mean;
    t.m.input_inv_std = (float)(std > 0 ? 1.0 / std : 1.0);
    if ((rc = ol_mlp_graph_build(&t.m, &t.eval, EVAL_GRAPH_BATCH, 0))) goto out;
    ol_mlp_init(&t.m, t.seed);
    double acc;
    if ((rc = ol_evaluate(&t.m, &t.eval, &t.sub, &t.initial_loss, &acc))) goto out;

    double t_part = ol_now_seconds();
    clock_t cpu_part = clock();
    ol_lab_log(ctx, "1/4 learning-rate sweep: %d rates, %ld steps each (%s, batch %ld, %ld epochs of %u examples)",
               p->k_hi - p->k_lo + 1, t.total_steps, spec, t.batch, p->epochs, t.sub.n);
    if ((rc = sweep_runs(&t, sweep))) goto out;
    part_done(ctx, &t_part, &cpu_part);
    ol_lab_log(ctx, "2/4 schedules, each on a grid of peak rates");
    if ((rc = schedule_runs(&t, sweep, sc))) goto out;
    part_done(ctx, &t_part, &cpu_part);
    ol_lab_log(ctx, "3/4 optimizers, each on a grid of rates");
    if ((rc = optimizer_runs(&t, sweep, grids))) goto out;
    part_done(ctx, &t_part, &cpu_part);
    ol_lab_log(ctx, "4/4 learning-rate range test, %ld steps, SGD and Adam", p->find_steps);
    if ((rc = lrfind_run(&t, "sgd", &find)) || (rc = lrfind_run(&t, "adam", &find_adam))) goto out;
    part_done(ctx, &t_part, &cpu_part);
    ol_lab_log(ctx, "%d training runs of %ld steps", t.n_runs, t.total_steps);

    /* ---- the numbers behind the takeaway ---- */
    const tn_run *best = &sweep->plain[sweep->best];
    int z = sweep->too_high;                                          /* the clipping example */
    const tn_run *opt_best[N_OPT], *sched_best[N_SCHED];
    for (int o = 0; o < N_OPT; o++) opt_best[o] = grid_best(&grids[o]);
    for (int i = 0; i < N_SCHED; i++) sched_best[i] = grid_best(&sc->grid[i]);
    int winner = 0, best_sched = 0;
    for (int o = 1; o < N_OPT; o++)
        if (opt_best[o]->final_loss < opt_best[winner]->final_loss) winner = o;
    for (int i = 1; i < N_SCHED; i++)
        if (sched_best[i]->final_loss < sched_best[best_sched]->final_loss) best_sched = i;

    ol_report_paragraph(ctx->report,
        "The learning rate is the one hyperparameter that always matters. Too small and training crawls; too "
        "large and the loss varies wildly, stalls high or blows up to NaN; the best value depends on the model, "
        "the data and the optimizer, and finding it takes runs. The lecture's remedies: schedules that change "
        "the rate during training (faster early, slower late), the rule 'decrease the rate if the loss varies "
        "wildly, otherwise increase it', clipping the gradient when it becomes enormous, and adaptive methods "
        "that give every weight its own rate (Adagrad, RMSprop, Adam).\n\n"
        "Every run below trains the same %s (ReLU, inputs standardized) from the same initialization on the "
        "same mini-batches of %ld from the first %u training examples, for %ld steps (%ld epochs), and is "
        "judged by its final loss over those %u examples. Only the optimizer, its rate, the schedule or the "
        "clipping change; %d runs in all.",
        spec, t.batch, t.sub.n, t.total_steps, p->epochs, t.sub.n, t.n_runs);

    char diverge_text[128] = "no rate of the sweep diverged", clip_text[256] = "";
    if (sweep->first_diverged >= 0)
        snprintf(diverge_text, sizeof diverge_text, "lr >= %.3g diverged", sweep->plain[sweep->first_diverged].lr);
    char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[32], k[32];
    if (z > 0)
        snprintf(clip_text, sizeof clip_text, "; clipping the gradient norm at %g turned lr %.3g (%s%s) into loss %s",
                 CLIP_NORM, sweep->plain[z].lr, sweep->plain[z].diverged ? "" : "loss ",
                 loss_text(sweep->plain[z].final_loss, a, sizeof a), loss_text(sweep->clip[z].final_loss, b, sizeof b));
    ol_lab_record(ctx, "initial_loss", t.initial_loss);
    ol_lab_record(ctx, "steps", (double)t.total_steps);
    ol_lab_record(ctx, "subset", (double)t.sub.n);
    ol_lab_record(ctx, "runs", t.n_runs);
    ol_lab_record(ctx, "best_lr", best->lr);
    ol_lab_record(ctx, "best_loss", best->final_loss);
    ol_lab_record(ctx, "diverge_lr", sweep->first_diverged >= 0 ? sweep->plain[sweep->first_diverged].lr : NAN);
    for (int i = 0; i < N_SCHED; i++) {
        char key[64];
        snprintf(key, sizeof key, "schedule_%s_lr", sched_names[i]);
        ol_lab_record(ctx, key, sched_best[i]->lr);
        snprintf(key, sizeof key, "schedule_%s_loss", sched_names[i]);
        ol_lab_record(ctx, key, sched_best[i]->final_loss);
    }
    for (int o = 0; o < N_OPT; o++) {
        char key[64];
        snprintf(key, sizeof key, "optimizer_%s_lr", opt_names[o]);
        ol_lab_record(ctx, key, opt_best[o]->lr);
        snprintf(key, sizeof key, "optimizer_%s_loss", opt_names[o]);
        ol_lab_record(ctx, key, opt_best[o]->final_loss);
    }
    ol_lab_record(ctx, "bold_classic_final_lr", sc->classic.n ? sc->classic.lrs[sc->classic.n - 1] : NAN);
    ol_lab_record(ctx, "bold_start_lr", sweep->bold[0].lr);
    ol_lab_record(ctx, "bold_start_loss", sweep->bold[0].final_loss);
    ol_lab_record(ctx, "constant_start_loss", sweep->plain[0].final_loss);
    if (z > 0) {
        ol_lab_record(ctx, "clip_norm", CLIP_NORM);
        ol_lab_record(ctx, "clip_lr", sweep->plain[z].lr);
        ol_lab_record(ctx, "clip_unclipped_loss", sweep->plain[z].final_loss);
        ol_lab_record(ctx, "clip_loss", sweep->clip[z].final_loss);
    }
    ol_lab_record(ctx, "lrfind_sgd_suggested_lr", find.suggested_lr);
    ol_lab_record(ctx, "lrfind_sgd_min_lr", find.min_lr);
    ol_lab_record(ctx, "lrfind_adam_suggested_lr", find_adam.suggested_lr);
    ol_lab_record(ctx, "lrfind_adam_min_lr", find_adam.min_lr);
    rc = ol_lab_takeaway(ctx,
        "The best constant SGD rate was {best_lr:.3g} (loss %s after {steps:.0f} steps); %s; at their tuned peaks "
        "cosine reached %s and onecycle %s vs constant %s (best schedule: %s); %s at its tuned lr "
        "{optimizer_%s_lr:.3g} reached %s; the bold driver started at lr {bold_start_lr:.3g} reached %s vs %s at "
        "that constant rate%s; lr-find suggested {lrfind_sgd_suggested_lr:.3g} for SGD (tuned {best_lr:.3g}) and "
        "{lrfind_adam_suggested_lr:.3g} for Adam (tuned {optimizer_Adam_lr:.3g}).",
        loss_text(best->final_loss, c, sizeof c), diverge_text,
        loss_text(sched_best[SCHED_COSINE]->final_loss, d, sizeof d),
        loss_text(sched_best[SCHED_ONECYCLE]->final_loss, e, sizeof e),
        loss_text(sched_best[SCHED_CONSTANT]->final_loss, f, sizeof f), sched_names[best_sched], opt_names[winner],
        opt_names[winner], loss_text(opt_best[winner]->final_loss, g, sizeof g),
        loss_text(sweep->bold[0].final_loss, h, sizeof h), loss_text(sweep->plain[0].final_loss, k, sizeof k),
        clip_text);
    if (rc) goto out;

    ol_report_heading(ctx->report, "Loss against the learning rate");
    ol_report_paragraph(ctx->report,
        "A sweep over %d rates, %d per decade from %.3g to %.3g, with plain SGD. Too small: in the budget the "
        "loss hardly leaves its initial value. Too large: the steps overshoot, the loss varies wildly, stalls "
        "high or becomes NaN. In between lies a valley whose bottom is the best rate for this budget. Two "
        "remedies run over the same lattice: clipping the gradient's norm (only at rates above the best) and "
        "the bold driver, which changes the rate while it trains.",
        sweep->n, p->per_decade, lattice_lr(p, p->k_lo), lattice_lr(p, p->k_hi));
    if ((rc = figure_sweep(&t, sweep))) goto out;

    if (z > 0) {
        ol_report_heading(ctx->report, "Gradient clipping at a too-high rate");
        ol_report_paragraph(ctx->report,
            "Some gradients become enormous, and one such step can throw the weights far away. Clipping "
            "rescales the gradient whenever its norm exceeds a threshold (torch's clip_grad_norm_), so that no "
            "step is longer than lr x threshold; the direction is kept.");
        if ((rc = figure_clipping(&t, sweep, z))) goto out;
    }

    ol_report_heading(ctx->report, "Learning-rate schedules");
    ol_report_paragraph(ctx->report,
        "The lecture's schedules (step-wise, exponential, cosine, the polynomial alpha/(c + sqrt t)), the "
        "onecycle policy, a linear warm-up before a cosine, and the bold driver, all with SGD. 'Might need to "
        "go faster initially, slower later': a rate that ends small lets SGD settle into the valley instead of "
        "bouncing across it with the noise of the mini-batches, and a decaying schedule can afford a higher "
        "start. So that no schedule loses by a badly chosen rate, each gets a small grid of peak rates, as "
        "constant SGD got the whole sweep.");
    if ((rc = figure_schedules(&t, sc))) goto out;

    ol_report_heading(ctx->report, "Optimizers, each at its tuned rate");
    ol_report_paragraph(ctx->report,
        "Comparing optimizers at one shared rate would only measure whose rate scale suits that number. Each "
        "one gets a small grid of constant rates (%d per decade) and keeps its best; no schedule.",
        p->per_decade);
    if ((rc = figure_optimizers(&t, grids))) goto out;

    ol_report_heading(ctx->report, "Finding a rate in one run: the range test");
    ol_report_paragraph(ctx->report,
        "The sweep above took %d full runs. The learning-rate range test (optlab lr-find) takes one short "
        "run: it raises the rate exponentially at every mini-batch and watches the loss. Where the loss falls "
        "fastest the rate is useful; where it turns up the rate is too large. optlab suggests the rate of "
        "the steepest descent of the smoothed loss (a common alternative, one decade below its minimum, is "
        "marked too). Below, for SGD and for Adam, each against the rate its grid of full runs found best.",
        sweep->n);
    if ((rc = figure_lrfind(&t, &find, "SGD", "tuning_lr_find.svg", "tuning_lr_find.csv", &grids[OPT_SGD],
                            grids[OPT_SGD].n)) ||
        (rc = figure_lrfind(&t, &find_adam, "Adam", "tuning_lr_find_adam.svg", "tuning_lr_find_adam.csv", &grids[OPT_ADAM],
                            grids[OPT_ADAM].n)))
        goto out;

out:
    if (sweep)
        for (int i = 0; i < MAX_SWEEP; i++) run_free(&sweep->plain[i]), run_free(&sweep->clip[i]), run_free(&sweep->bold[i]);
    if (sc) {
        for (int i = 0; i < N_SCHED; i++) grid_free(&sc->grid[i]);
        run_free(&sc->classic);
    }
    if (grids)
        for (int o = 0; o < N_OPT; o++) grid_free(&grids[o]);
    free(sweep);
    free(sc);
    free(grids);
    ol_lrfind_result_free(&find);
    ol_lrfind_result_free(&find_adam);
    ol_mlp_graph_free(&t.eval);
    ol_mlp_free(&t.m);
    return rc;
}
