/* sweep_report.c: what a finished sweep shows: results.csv (one row per trial) and index.html (loss
 * against each hyperparameter, the best trials' curves, every trial); see include/optlab/sweep.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/csv.h"
#include "optlab/plot.h"
#include "optlab/report.h"
#include "optlab/train_settings.h"
#include "sweep_internal.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* 1 when a parameter's values are numbers (a number axis): numeric settings, and a choice whose
 * values all read as numbers (batch sizes without "full") */
static int numeric_param(const ol_sweep_grid *g, int p) {
    const ol_train_setting *s = ol_train_setting_find(g->name[p]);
    if (s->type == OL_TS_DOUBLE || s->type == OL_TS_LONG || s->type == OL_TS_INT) return 1;
    if (s->type != OL_TS_CHOICE) return 0;
    for (int j = 0; j < g->n_values[p]; j++) {
        char *end;
        strtod(g->value[p][j], &end);
        if (end == g->value[p][j] || *end) return 0;
    }
    return 1;
}

static int by_best_loss(const void *a, const void *b) {
    const trial_t *x = *(trial_t *const *)a, *y = *(trial_t *const *)b;
    double u = x->status == ST_OK || x->status == ST_PRUNED ? x->best_val_loss : NAN;
    double v = y->status == ST_OK || y->status == ST_PRUNED ? y->best_val_loss : NAN;
    /* finished trials first, then pruned, each by loss; NaN last; ties by id */
    int rx = x->status == ST_OK ? 0 : x->status == ST_PRUNED ? 1 : 2, ry = y->status == ST_OK ? 0 : y->status == ST_PRUNED ? 1 : 2;
    if (rx != ry) return rx - ry;
    if (isfinite(u) != isfinite(v)) return isfinite(u) ? -1 : 1;
    if (isfinite(u) && u != v) return u < v ? -1 : 1;
    return strcmp(x->id, y->id);
}

int ol_sweep_write_results_csv(sweep_t *S) {
    const ol_sweep_grid *g = &S->grid;
    char header[2048] = "trial";
    for (int p = 0; p < g->n_params; p++) {
        strcat(header, ",");
        strcat(header, g->name[p]);
    }
    strcat(header, ",seed,status,epochs,final_val_loss,final_val_acc,best_val_loss,best_val_acc,best_epoch,test_loss,"
                   "test_acc,seconds,message");
    char path[4200];
    snprintf(path, sizeof path, "%s/results.csv", S->c->out_dir);
    ol_csv *csv;
    int rc = ol_csv_open(&csv, path, header);
    if (rc) return rc;
    for (size_t i = 0; i < S->n_trials && !rc; i++) {
        const trial_t *t = &S->trials[i];
        int idx[OL_SWEEP_MAX_PARAMS];
        ol_sweep_grid_setting(g, t->combo, idx);
        rc = ol_csv_str(csv, t->id);
        for (int p = 0; p < g->n_params && !rc; p++) {
            const char *v = g->value[p][idx[p]];
            rc = numeric_param(g, p) ? ol_csv_num(csv, atof(v)) : ol_csv_str(csv, v);
        }
        if (!rc) rc = ol_csv_int(csv, t->seed);
        if (!rc) rc = ol_csv_str(csv, ol_sweep_status_names[t->status]);
        if (!rc) rc = ol_csv_int(csv, t->epochs);
        double nums[] = {t->final_val_loss, t->final_val_acc, t->best_val_loss, t->best_val_acc};
        for (int k = 0; k < 4 && !rc; k++) rc = ol_csv_num(csv, nums[k]);
        if (!rc) rc = ol_csv_int(csv, t->best_epoch);
        double more[] = {t->test_loss, t->test_acc, t->seconds};
        for (int k = 0; k < 3 && !rc; k++) rc = ol_csv_num(csv, more[k]);
        if (!rc) rc = ol_csv_str(csv, t->message);
        if (!rc) rc = ol_csv_end_row(csv);
    }
    if (rc) {
        ol_csv_abort(csv);
        return rc;
    }
    return ol_csv_close(csv);
}

/* The figure of the best validation loss against parameter p; x is the value, or its position
 * (1, 2, ...) for specs and words, named in the caption. */
static int param_figure(sweep_t *S, ol_report *rep, int p, const trial_t *best) {
    const ol_sweep_grid *g = &S->grid;
    size_t n = S->n_trials;
    double *buf = ol_malloc_array(6 * (n ? n : 1), sizeof(double));
    if (!buf) return OL_ENOMEM;
    /* finished, pruned (x, y); for words and specs, xp and yp also hold one value's points after
     * the pruned ones (np + m <= 2 n) */
    double *xo = buf, *yo = buf + n, *xp = buf + 2 * n, *yp = buf + 4 * n;
    size_t no = 0, np = 0;
    int numeric = numeric_param(g, p), best_idx = -1;
    double lo = INFINITY, hi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        const trial_t *t = &S->trials[i];
        int idx[OL_SWEEP_MAX_PARAMS];
        ol_sweep_grid_setting(g, t->combo, idx);
        double x = numeric ? atof(g->value[p][idx[p]]) : idx[p] + 1;
        if (t == best) best_idx = idx[p];
        if (!isfinite(t->best_val_loss) || (t->status != ST_OK && t->status != ST_PRUNED)) continue;
        lo = fmin(lo, x), hi = fmax(hi, x), ylo = fmin(ylo, t->best_val_loss), yhi = fmax(yhi, t->best_val_loss);
        if (t->status == ST_OK) xo[no] = x, yo[no++] = t->best_val_loss;
        else xp[np] = x, yp[np++] = t->best_val_loss;
    }
    char title[128], xlabel[128];
    snprintf(title, sizeof title, "Best validation loss against %s", g->name[p]);
    snprintf(xlabel, sizeof xlabel, numeric ? "%s" : "%s (value number, see the legend)", g->name[p]);
    ol_plot *plot = ol_plot_new(title, xlabel, "best validation loss");
    int rc = plot ? OL_OK : OL_ENOMEM;
    if (!rc && numeric && lo > 0 && hi / lo >= 10) ol_plot_log_x(plot, 1);
    if (!rc && ylo > 0 && yhi / ylo >= 100) ol_plot_log_y(plot, 1);
    if (!rc && !numeric) ol_plot_x_range(plot, 0.5, g->n_values[p] + 0.5);
    if (rc) {
    } else if (numeric) {
        if (!rc && no && (rc = ol_plot_scatter(plot, "finished", xo, yo, no)) > 0) rc = 0;
        if (!rc && np && (rc = ol_plot_scatter(plot, "pruned", xp, yp, np)) > 0) rc = 0;
    } else { /* one series per value, named in the legend (finished and pruned together) */
        for (int j = 0; j < g->n_values[p] && rc >= 0; j++) {
            size_t m = 0;
            for (size_t i = 0; i < no; i++)
                if (xo[i] == j + 1) xp[np + m] = xo[i], yp[np + m] = yo[i], m++;
            for (size_t i = 0; i < np; i++)
                if (xp[i] == j + 1) xp[np + m] = xp[i], yp[np + m] = yp[i], m++;
            char label[300];
            snprintf(label, sizeof label, "%d: %s", j + 1, g->value[p][j]);
            if (m && (rc = ol_plot_scatter(plot, label, xp + np, yp + np, m)) >= 0) {
                ol_plot_color(plot, rc, j);
                rc = 0;
            }
        }
    }
    if (rc < 0) rc = -rc;
    if (!rc && best && isfinite(best->best_val_loss) && best_idx >= 0) {
        double x = numeric ? atof(g->value[p][best_idx]) : best_idx + 1;
        int s = ol_plot_point(plot, x, best->best_val_loss, "best");
        rc = s < 0 ? -s : OL_OK;
    }
    if (!rc && plot)
        rc = ol_report_plot(rep, plot, "results.csv",
                            "Best validation loss of every trial against %s (other parameters and seeds vary: each "
                            "point is one trial; diverged and failed trials are not drawn)%s.",
                            g->name[p], numeric ? "" : "; the values are numbered as in the legend");
    ol_plot_free(plot);
    free(buf);
    return rc;
}

static int curves_figure(sweep_t *S, ol_report *rep, const trial_t *best) {
    ol_plot *plot = ol_plot_new("Validation loss per epoch", "epoch", "validation loss");
    if (!plot) return OL_ENOMEM;
    int rc = OL_OK;
    double x[4096];
    for (int i = 0; i < 4096; i++) x[i] = i + 1;
    double ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < S->n_trials && !rc; i++) {
        const trial_t *t = &S->trials[i];
        if (t->epochs < 1 || t == best || (t->status != ST_OK && t->status != ST_PRUNED)) continue;
        for (long e = 0; e < t->epochs; e++)
            if (isfinite(t->val_losses[e])) ylo = fmin(ylo, t->val_losses[e]), yhi = fmax(yhi, t->val_losses[e]);
        int s = ol_plot_line(plot, NULL, x, t->val_losses, (size_t)(t->epochs < 4096 ? t->epochs : 4096));
        if (s < 0) rc = -s;
        else ol_plot_color(plot, s, 5), ol_plot_markers(plot, s, 1);
    }
    if (!rc && best && best->epochs > 0) {
        char label[128];
        snprintf(label, sizeof label, "best: trial %s", best->id);
        int s = ol_plot_line(plot, label, x, best->val_losses, (size_t)(best->epochs < 4096 ? best->epochs : 4096));
        if (s < 0) rc = -s;
        else ol_plot_color(plot, s, 1), ol_plot_markers(plot, s, 1);
    }
    /* a diverging trial's 1e8 would flatten the others: the axis ends at 100 x the median best loss */
    double *best_losses = ol_malloc_array(S->n_trials ? S->n_trials : 1, sizeof(double)), cut = NAN;
    size_t nb = 0;
    for (size_t i = 0; best_losses && i < S->n_trials; i++)
        if (isfinite(S->trials[i].best_val_loss) && S->trials[i].best_val_loss > 0) best_losses[nb++] = S->trials[i].best_val_loss;
    if (nb) {
        qsort(best_losses, nb, sizeof *best_losses, cmp_double);
        if (yhi > 100 * best_losses[nb / 2]) cut = 100 * best_losses[nb / 2];
    }
    free(best_losses);
    if (!rc && isfinite(cut)) ol_plot_y_range(plot, NAN, cut), yhi = cut;
    if (!rc && ylo > 0 && yhi / ylo >= 100) ol_plot_log_y(plot, 1);
    char note[128] = "";
    if (isfinite(cut)) snprintf(note, sizeof note, " The axis ends at %.3g (100 x the median best loss).", cut);
    if (!rc)
        rc = ol_report_plot(rep, plot, NULL, "Validation loss after each epoch, every finished or pruned trial (blue), the "
                                             "best one highlighted. Pruned trials end early.%s", note);
    ol_plot_free(plot);
    return rc;
}

int ol_sweep_write_html(sweep_t *S, const trial_t *best, long counts[5]) {
    const ol_sweep_config *c = S->c;
    ol_report *rep = ol_report_new("optlab sweep");
    if (!rep) return OL_ENOMEM;
    static const char *prunes[] = {"none", "median rule", "successive halving"};
    int rc = OL_OK;
    rc |= ol_report_setting(rep, "grid", "%s", c->grid);
    rc |= ol_report_setting(rep, "trials", "%zu (%s%d seed%s each)", S->n_trials, c->random ? "random draws, " : "", c->seeds,
                            c->seeds > 1 ? "s" : "");
    rc |= ol_report_setting(rep, "epochs", "%ld", c->epochs);
    rc |= ol_report_setting(rep, "data", "%s (validation split %g)", c->data, c->val_split);
    rc |= ol_report_setting(rep, "model", "%s", c->model);
    rc |= ol_report_setting(rep, "pruning", "%s", prunes[c->prune]);
    rc |= ol_report_setting(rep, "outcome", "%ld ok, %ld pruned, %ld diverged, %ld failed", counts[ST_OK], counts[ST_PRUNED],
                            counts[ST_DIVERGED], counts[ST_FAILED]);
    rc |= ol_report_section(rep, "Best settings");
    if (best) {
        rc |= ol_report_takeaway(rep, "Best: %s (trial %s): validation loss %.4g, accuracy %.2f%% (epoch %ld of %ld).",
                                 best->setting, best->id, best->best_val_loss, 100 * best->best_val_acc, best->best_epoch,
                                 best->epochs);
        rc |= ol_report_kv(rep, "settings", "%s", best->setting);
        rc |= ol_report_kv(rep, "best validation loss", "%.6g (epoch %ld)", best->best_val_loss, best->best_epoch);
        rc |= ol_report_kv(rep, "best validation accuracy", "%.2f%%", 100 * best->best_val_acc);
        rc |= ol_report_kv(rep, "test accuracy at the end", "%.2f%%", 100 * best->test_acc);
        rc |= ol_report_kv(rep, "training time", "%.2f s", best->seconds);
    } else {
        rc |= ol_report_paragraph(rep, "No trial finished with a finite validation loss.");
    }
    if (rc) rc = OL_EIO;
    if (!rc) rc = ol_report_section(rep, "Loss against each hyperparameter");
    int drawn = 0;
    for (int p = 0; p < S->grid.n_params && !rc; p++)
        if (S->grid.n_values[p] > 1) rc = param_figure(S, rep, p, best), drawn++;
    if (!rc && !drawn) rc = ol_report_paragraph(rep, "The grid varies no parameter (one value each).");
    if (!rc) rc = ol_report_section(rep, "Learning curves");
    if (!rc) rc = curves_figure(S, rep, best);
    /* every trial, best first */
    trial_t **order = ol_malloc_array(S->n_trials ? S->n_trials : 1, sizeof *order);
    const char **cells = ol_malloc_array(9 * (S->n_trials ? S->n_trials : 1), sizeof *cells);
    char (*text)[6][48] = ol_malloc_array(S->n_trials ? S->n_trials : 1, sizeof *text);
    if (!order || !cells || !text) rc = rc ? rc : OL_ENOMEM;
    if (!rc) {
        for (size_t i = 0; i < S->n_trials; i++) order[i] = &S->trials[i];
        qsort(order, S->n_trials, sizeof *order, by_best_loss);
        for (size_t i = 0; i < S->n_trials; i++) {
            const trial_t *t = order[i];
            const char **row = cells + 9 * i;
            snprintf(text[i][0], 48, "%.4f", t->best_val_loss);
            snprintf(text[i][1], 48, "%.2f%%", 100 * t->best_val_acc);
            snprintf(text[i][2], 48, "%.4f", t->final_val_loss);
            snprintf(text[i][3], 48, "%ld", t->epochs);
            snprintf(text[i][4], 48, "%.2f", t->seconds);
            snprintf(text[i][5], 48, "%s", ol_sweep_status_names[t->status]);
            row[0] = t->id, row[1] = t->setting, row[2] = text[i][5], row[3] = text[i][3], row[4] = text[i][0];
            row[5] = text[i][1], row[6] = text[i][2], row[7] = text[i][4], row[8] = t->message;
        }
        static const char *header[] = {"trial", "settings", "status", "epochs", "best val loss", "best val acc",
                                       "final val loss", "time (s)", "note"};
        rc = ol_report_section(rep, "All trials");
        if (!rc) rc = ol_report_paragraph(rep, "Best first (finished trials, then pruned, then the others). The same "
                                                "numbers, with the settings in columns, are in results.csv; each trial's "
                                                "log, checkpoint and output are in trials/<id>/.");
        if (!rc) rc = ol_report_table(rep, 9, header, (int)S->n_trials, cells);
    }
    free(order);
    free(cells);
    free(text);
    char path[4200];
    snprintf(path, sizeof path, "%s/index.html", c->out_dir);
    if (!rc) rc = ol_report_write(rep, path);
    ol_report_free(rep);
    return rc;
}

