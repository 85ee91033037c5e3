/* test_lab_tuning.c: `optlab lab tuning --quick` on the generated data set: the CSVs with the columns
 * docs/lab-tuning.md documents, figures that parse as XML, every schedule and optimizer present,
 * schedules whose rates have the documented shapes, a sweep with a diverging rate, tuned grids whose
 * best really is their lowest loss, a takeaway whose numbers are the ones in summary.csv and the
 * CSVs, and the same bytes at one and two threads. */
#include "test.h"
#include "lab_fixture.h"
#include "optlab/csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lab_rc = -1;
static char lab_dir[512], lab_output[1 << 16];

static int run_lab(void) {
    if (lab_rc < 0) {
        const char *dir, *output;
        lab_rc = lab_fixture_run("tuning", NULL, &dir, &output);
        snprintf(lab_dir, sizeof lab_dir, "%s", dir);
        snprintf(lab_output, sizeof lab_output, "%s", output);
    }
    return lab_rc;
}

static const char *path_in(const char *dir, const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}
static const char *path_of(const char *name) { return path_in(lab_dir, name); }

/* A value from summary.csv (rows lab,key,value), NaN if absent. */
static double summary(const char *key) { return lab_fixture_summary(lab_dir, "tuning", key); }

/* The takeaway line of the run's output. */
static const char *takeaway(void) {
    const char *p = strstr(lab_output, "tuning: ");
    return p ? p : "";
}

/* 1 if the takeaway holds fmt formatted with value. */
static int says(const char *fmt, double value) {
    char text[128];
    snprintf(text, sizeof text, fmt, value);
    return strstr(takeaway(), text) != NULL;
}

/* A loss as the lab writes it: 4 significant digits, or "diverged". */
static const char *loss_text(double loss) {
    static char buf[4][32];
    static int k;
    k = (k + 1) % 4;
    if (!isfinite(loss)) snprintf(buf[k], 32, "diverged");
    else snprintf(buf[k], 32, "%.4g", loss);
    return buf[k];
}

static int says_loss(const char *prefix, double loss, const char *suffix) {
    char text[160];
    snprintf(text, sizeof text, "%s%s%s", prefix, loss_text(loss), suffix);
    return strstr(takeaway(), text) != NULL;
}

/* ---- a CSV with a text key column, read by hand (ol_csv_read reads text as NaN) ---- */

typedef struct {
    char key[48];
    char spec[160];
    double v[8];
    int n;
} row_t;

/* Reads path (after its header): the first column as text, the others as numbers in v, except column
 * spec_col (0-based; -1: none), kept as text. Returns the rows (malloc'ed), their count in *n. */
static row_t *read_rows(const char *path, int spec_col, size_t *n) {
    FILE *f = fopen(path, "r");
    *n = 0;
    if (!f) return NULL;
    size_t cap = 256;
    row_t *rows = malloc(cap * sizeof *rows);
    char line[1024];
    if (!fgets(line, sizeof line, f)) { fclose(f); return rows; }   /* header */
    while (fgets(line, sizeof line, f)) {
        if (*n == cap) rows = realloc(rows, (cap *= 2) * sizeof *rows);
        row_t *r = &rows[(*n)++];
        memset(r, 0, sizeof *r);
        /* fields split at commas outside double quotes (RFC 4180: specs hold commas) */
        char field[256];
        const char *q = line;
        for (int c = 0; *q && *q != '\n'; c++) {
            size_t k = 0;
            int quoted = *q == '"';
            if (quoted) q++;
            while (*q && (quoted ? !(*q == '"' && q[1] != '"') : *q != ',' && *q != '\n')) {
                if (quoted && *q == '"') q++;   /* "" inside quotes */
                if (k + 1 < sizeof field) field[k++] = *q;
                q++;
            }
            if (quoted && *q == '"') q++;
            field[k] = 0;
            if (*q == ',') q++;
            if (c == 0) snprintf(r->key, sizeof r->key, "%.47s", field);
            else if (c == spec_col) snprintf(r->spec, sizeof r->spec, "%.159s", field);
            else if (r->n < 8) r->v[r->n++] = strtod(field, NULL);
        }
    }
    fclose(f);
    return rows;
}

static const char *const schedules[] = {"constant", "step", "exponential", "cosine", "inverse-sqrt", "onecycle",
                                        "warmup+cosine", "bold"};
static const char *const optimizers[] = {"SGD", "momentum", "Adagrad", "RMSprop", "Adam", "AdamW"};
#define N_SCHEDULES 8
#define N_OPTIMIZERS 6

TEST(lab_tuning_quick_writes_documented_csvs_and_figures) {
    CHECK_MSG(run_lab() == 0, "optlab lab tuning --quick failed:\n%s", lab_output);
    static const struct { const char *file, *columns[8]; int has_svg; } csvs[] = {
        {"tuning_lr_sweep.csv", {"method", "lr", "final_loss", "diverged", "steps"}, 1},
        {"tuning_clipping.csv", {"clip_norm", "lr", "step", "loss", "final_loss", "diverged"}, 1},
        {"tuning_schedules.csv", {"schedule", "base_lr", "step", "lr", "loss", "final_loss", "diverged"}, 1},
        {"tuning_schedule_grid.csv", {"schedule", "spec", "lr", "final_loss", "diverged", "best"}, 0},
        {"tuning_schedule_lr.csv", {"schedule", "step", "lr"}, 1},
        {"tuning_optimizers.csv", {"optimizer", "base_lr", "step", "lr", "loss", "final_loss", "diverged"}, 1},
        {"tuning_optimizer_grid.csv", {"optimizer", "spec", "lr", "final_loss", "diverged", "best"}, 1},
        {"tuning_lr_find.csv", {"step", "lr", "loss", "smooth_loss"}, 1},
        {"tuning_lr_find_adam.csv", {"step", "lr", "loss", "smooth_loss"}, 1},
    };
    for (size_t i = 0; i < sizeof csvs / sizeof csvs[0]; i++) {
        ol_csv_table t;
        CHECK_MSG(ol_csv_read(path_of(csvs[i].file), &t) == 0, "cannot read %s", csvs[i].file);
        int ok = t.n_rows > 0, n_cols = 0;
        for (int c = 0; csvs[i].columns[c]; c++, n_cols++) ok = ok && ol_csv_column(&t, csvs[i].columns[c]) >= 0;
        ok = ok && t.n_cols == n_cols;
        ol_csv_table_free(&t);
        CHECK_MSG(ok, "%s lacks rows or does not have exactly the documented columns", csvs[i].file);
        if (!csvs[i].has_svg) continue;
        char svg[256];
        snprintf(svg, sizeof svg, "%.*s.svg", (int)(strlen(csvs[i].file) - 4), csvs[i].file);
        CHECK_MSG(lab_fixture_xml_ok(path_of(svg)), "%s is not well-formed XML", svg);
    }
    /* the same-named pairs and the documented extra figure */
    CHECK(lab_fixture_xml_ok(path_of("tuning_schedules.svg")));
    FILE *f = fopen(path_of("index.html"), "r");
    CHECK(f != NULL);
    fclose(f);
}

TEST(lab_tuning_every_schedule_and_optimizer_appears) {
    CHECK(run_lab() == 0);
    size_t n_html = 0;
    FILE *f = fopen(path_of("index.html"), "r");
    CHECK(f != NULL);
    static char html[1 << 22];
    n_html = fread(html, 1, sizeof html - 1, f);
    html[n_html] = 0;
    fclose(f);
    size_t n;
    row_t *rows = read_rows(path_of("tuning_schedules.csv"), -1, &n);
    for (int s = 0; s < N_SCHEDULES; s++) {
        int found = 0;
        for (size_t i = 0; i < n; i++) found |= !strcmp(rows[i].key, schedules[s]);
        CHECK_MSG(found, "schedule %s is not in tuning_schedules.csv", schedules[s]);
        CHECK_MSG(strstr(html, schedules[s]) != NULL, "schedule %s is not on the page", schedules[s]);
    }
    free(rows);
    rows = read_rows(path_of("tuning_optimizers.csv"), -1, &n);
    for (int o = 0; o < N_OPTIMIZERS; o++) {
        int found = 0;
        for (size_t i = 0; i < n; i++) found |= !strcmp(rows[i].key, optimizers[o]);
        CHECK_MSG(found, "optimizer %s is not in tuning_optimizers.csv", optimizers[o]);
        CHECK_MSG(strstr(html, optimizers[o]) != NULL, "optimizer %s is not on the page", optimizers[o]);
    }
    free(rows);
}

TEST(lab_tuning_sweep_spans_too_small_to_divergent) {
    CHECK(run_lab() == 0);
    size_t n;
    row_t *rows = read_rows(path_of("tuning_lr_sweep.csv"), -1, &n);   /* v: lr, final_loss, diverged, steps */
    double lrs[64], loss[64], steps = summary("steps");
    int k = 0, diverged = 0, first_div = -1, ok = 1;
    for (size_t i = 0; i < n && k < 64; i++) {
        if (strcmp(rows[i].key, "sgd")) continue;
        lrs[k] = rows[i].v[0];
        loss[k] = rows[i].v[1];
        int div = rows[i].v[2] == 1;
        /* a diverged run has an infinite loss and stopped early; the others ran every step */
        ok = ok && (div ? isinf(loss[k]) && rows[i].v[3] <= steps : isfinite(loss[k]) && rows[i].v[3] == steps);
        if (div && first_div < 0) first_div = k;
        diverged += div;
        k++;
    }
    free(rows);
    CHECK_MSG(ok, "tuning_lr_sweep.csv: a diverged flag does not match its loss or step count");
    CHECK_MSG(k >= 8, "only %d rates", k);
    double ratio = lrs[1] / lrs[0];
    for (int i = 1; i < k; i++) CHECK_NEAR(lrs[i] / lrs[i - 1], ratio, 1e-6);
    CHECK_MSG(lrs[k - 1] / lrs[0] >= 1e4, "the sweep spans %g..%g, under 4 decades", lrs[0], lrs[k - 1]);
    /* the generated task is easy, but plain SGD at lr 10 on standardized inputs still blows up */
    CHECK_MSG(diverged >= 1, "no rate of the sweep diverged");
    CHECK(!isnan(summary("diverge_lr")) && fabs(summary("diverge_lr") / lrs[first_div] - 1) < 1e-6);
    /* the best rate is the lowest finite loss; the smallest rate is too small to get there */
    int best = -1;
    for (int i = 0; i < k; i++)
        if (isfinite(loss[i]) && (best < 0 || loss[i] < loss[best])) best = i;
    CHECK_NEAR(summary("best_lr"), lrs[best], 1e-6);
    CHECK_NEAR(summary("best_loss"), loss[best], 1e-6);
    CHECK_MSG(loss[0] > 2 * loss[best] && loss[0] < summary("initial_loss"),
              "smallest rate: loss %g, best %g, initial %g", loss[0], loss[best], summary("initial_loss"));
}

/* The lr trace of one schedule from tuning_schedule_lr.csv. */
static int trace(const char *name, double *lr, int cap) {
    size_t n;
    row_t *rows = read_rows(path_of("tuning_schedule_lr.csv"), -1, &n);   /* v: step, lr */
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].key, name) && k < cap) {
            if (rows[i].v[0] != k + 1) { k = -1; break; }
            lr[k++] = rows[i].v[1];
        }
    free(rows);
    return k;
}

TEST(lab_tuning_schedules_have_their_documented_shapes) {
    CHECK(run_lab() == 0);
    static double lr[4096];
    int T = (int)summary("steps");
    CHECK(T >= 10 && T <= 4096);
    int n = trace("constant", lr, 4096);
    CHECK_EQ_INT(n, T);
    for (int i = 1; i < n; i++) CHECK(lr[i] == lr[0]);
    CHECK_NEAR(lr[0], summary("schedule_constant_lr"), 1e-6);

    /* step: x0.3 twice, at the thirds */
    n = trace("step", lr, 4096);
    CHECK_EQ_INT(n, T);
    int drops = 0;
    for (int i = 1; i < n; i++)
        if (lr[i] != lr[i - 1]) {
            CHECK_NEAR(lr[i] / lr[i - 1], 0.3, 1e-9);
            drops++;
        }
    CHECK_EQ_INT(drops, 2);
    CHECK_NEAR(lr[0], summary("schedule_step_lr"), 1e-6);

    /* exponential: a constant ratio, 1/100 over the run */
    n = trace("exponential", lr, 4096);
    CHECK_EQ_INT(n, T);
    CHECK_NEAR(lr[n - 1] / lr[0], pow(0.01, (double)(T - 1) / T), 1e-6);

    /* cosine: from the peak to about 0 */
    n = trace("cosine", lr, 4096);
    CHECK_NEAR(lr[0], summary("schedule_cosine_lr"), 1e-6);
    CHECK(lr[n - 1] < 0.01 * lr[0]);
    for (int i = 1; i < n; i++) CHECK(lr[i] <= lr[i - 1]);

    /* onecycle: starts at peak/25, reaches the peak, ends near 0 */
    n = trace("onecycle", lr, 4096);
    double peak = summary("schedule_onecycle_lr"), top = 0;
    for (int i = 0; i < n; i++) top = fmax(top, lr[i]);
    CHECK_NEAR(lr[0], peak / 25, 1e-6);
    CHECK_NEAR(top, peak, 0.01);
    CHECK(lr[n - 1] < 0.01 * peak);

    /* warm-up + cosine: a linear ramp from peak/N, then down */
    n = trace("warmup+cosine", lr, 4096);
    peak = summary("schedule_warmup+cosine_lr");
    int warm = T / 10;
    CHECK_NEAR(lr[0], peak / warm, 1e-6);
    CHECK_NEAR(lr[1], 2 * peak / warm, 1e-6);
    CHECK_NEAR(lr[warm - 1], peak, 1e-6);
    CHECK(lr[n - 1] < 0.01 * peak);

    /* inverse-sqrt: alpha/(c + sqrt t), a quarter of the start at t = T */
    n = trace("inverse-sqrt", lr, 4096);
    double c = sqrt((double)T) / 3;
    CHECK_NEAR(lr[n - 1] / lr[0], c / (c + sqrt((double)(T - 1))), 1e-6);

    /* bold: only x1.25 and x0.5, within [0, 10] */
    const char *const bolds[2] = {"bold", "bold-classic"};
    for (int b = 0; b < 2; b++) {
        n = trace(bolds[b], lr, 4096);
        CHECK_EQ_INT(n, T);
        int ups = 0, downs = 0;
        for (int i = 1; i < n; i++) {
            double q = lr[i] / lr[i - 1];
            CHECK_MSG(q == 1 || fabs(q - 1.25) < 1e-6 || fabs(q - 0.5) < 1e-6 || lr[i] == 10,
                      "%s: lr %g -> %g at step %d", bolds[b], lr[i - 1], lr[i], i + 1);
            ups += q > 1, downs += q < 1;
        }
        CHECK_MSG(ups + downs > 0, "%s never changed its rate", bolds[b]);
    }
    CHECK_NEAR(lr[n - 1], summary("bold_classic_final_lr"), 1e-6);
}

/* Each grid's flagged best is its lowest final loss, and the curves are the best runs. */
static void check_grid(const char *grid_file, const char *curve_file, const char *const *names, int n_names,
                       const char *key_fmt) {
    size_t n, nc;
    row_t *rows = read_rows(path_of(grid_file), 1, &n);          /* v: lr, final_loss, diverged, best */
    row_t *curves = read_rows(path_of(curve_file), -1, &nc);     /* v: base_lr, step, lr, loss, final, div */
    for (int o = 0; o < n_names; o++) {
        double best_loss = INFINITY, flagged_lr = NAN, flagged_loss = NAN;
        int flagged = 0, points = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(rows[i].key, names[o])) continue;
            points++;
            if (rows[i].v[2] == 0) best_loss = fmin(best_loss, rows[i].v[1]);
            if (rows[i].v[3] == 1) flagged++, flagged_lr = rows[i].v[0], flagged_loss = rows[i].v[1];
        }
        CHECK_MSG(points >= 3 && flagged == 1, "%s: %d grid points, %d flagged best", names[o], points, flagged);
        CHECK_MSG(flagged_loss == best_loss, "%s: the flagged best %g is not the lowest loss %g", names[o],
                  flagged_loss, best_loss);
        char key[96];
        snprintf(key, sizeof key, key_fmt, names[o], "lr");
        CHECK_NEAR(summary(key), flagged_lr, 1e-6);
        snprintf(key, sizeof key, key_fmt, names[o], "loss");
        CHECK_NEAR(summary(key), flagged_loss, 1e-6);
        int curve_rows = 0;
        for (size_t i = 0; i < nc; i++)
            if (!strcmp(curves[i].key, names[o])) {
                curve_rows++;
                CHECK_NEAR(curves[i].v[0], flagged_lr, 1e-6);
                CHECK_NEAR(curves[i].v[4], flagged_loss, 1e-6);
            }
        CHECK_MSG(curve_rows >= 5, "%s: %d curve points", names[o], curve_rows);
    }
    free(rows);
    free(curves);
}

TEST(lab_tuning_each_optimizer_is_at_the_best_rate_of_its_grid) {
    CHECK(run_lab() == 0);
    check_grid("tuning_optimizer_grid.csv", "tuning_optimizers.csv", optimizers, N_OPTIMIZERS, "optimizer_%s_%s");
}

TEST(lab_tuning_each_schedule_is_at_the_best_peak_of_its_grid) {
    CHECK(run_lab() == 0);
    check_grid("tuning_schedule_grid.csv", "tuning_schedules.csv", schedules, N_SCHEDULES, "schedule_%s_%s");
}

TEST(lab_tuning_lr_find_sweeps_exponentially_and_suggests_inside_its_range) {
    CHECK(run_lab() == 0);
    const char *const files[2] = {"tuning_lr_find.csv", "tuning_lr_find_adam.csv"};
    const char *const keys[2] = {"lrfind_sgd_suggested_lr", "lrfind_adam_suggested_lr"};
    for (int k = 0; k < 2; k++) {
        ol_csv_table t;
        CHECK_EQ_INT(ol_csv_read(path_of(files[k]), &t), 0);
        int cl = ol_csv_column(&t, "lr");
        double first = t.values[cl], last = t.values[(t.n_rows - 1) * t.n_cols + cl], ratio = t.values[t.n_cols + cl] / first;
        int ok = t.n_rows >= 10, found = 0;
        double suggested = summary(keys[k]);
        for (size_t i = 0; ok && i < t.n_rows; i++) {
            double lr = t.values[i * t.n_cols + cl];
            if (i) ok = fabs(lr / t.values[(i - 1) * t.n_cols + cl] / ratio - 1) < 1e-6;
            found |= fabs(lr / suggested - 1) < 1e-8;
        }
        ol_csv_table_free(&t);
        CHECK_MSG(ok, "%s: the lr is not a geometric sequence", files[k]);
        CHECK_MSG(found && suggested >= first && suggested <= last, "%s: suggestion %g not one of its rates",
                  files[k], suggested);
    }
}

TEST(lab_tuning_takeaway_numbers_match_the_csvs) {
    CHECK(run_lab() == 0);
    CHECK_MSG(*takeaway(), "no takeaway in the output");
    /* 1: the best constant rate, its loss, the steps, the first diverging rate */
    CHECK(says("rate was %.3g (", summary("best_lr")));
    CHECK(says_loss("(loss ", summary("best_loss"), " after"));
    CHECK(says("after %.0f steps", summary("steps")));
    CHECK(says("lr >= %.3g diverged", summary("diverge_lr")));
    /* 2: schedules, from their grids */
    CHECK(says_loss("cosine reached ", summary("schedule_cosine_loss"), " and"));
    CHECK(says_loss("onecycle ", summary("schedule_onecycle_loss"), " vs"));
    CHECK(says_loss("vs constant ", summary("schedule_constant_loss"), " (best"));
    int best_s = 0;
    for (int s = 1; s < N_SCHEDULES; s++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "schedule_%s_loss", schedules[s]);
        snprintf(b, sizeof b, "schedule_%s_loss", schedules[best_s]);
        if (summary(a) < summary(b)) best_s = s;
    }
    char text[256];
    snprintf(text, sizeof text, "(best schedule: %s)", schedules[best_s]);
    CHECK_MSG(strstr(takeaway(), text) != NULL, "takeaway lacks '%s'", text);
    /* 3: the best optimizer at its tuned rate */
    int best_o = 0;
    for (int o = 1; o < N_OPTIMIZERS; o++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "optimizer_%s_loss", optimizers[o]);
        snprintf(b, sizeof b, "optimizer_%s_loss", optimizers[best_o]);
        if (summary(a) < summary(b)) best_o = o;
    }
    char key[64];
    snprintf(key, sizeof key, "optimizer_%s_lr", optimizers[best_o]);
    snprintf(text, sizeof text, "; %s at its tuned lr %.3g reached ", optimizers[best_o], summary(key));
    CHECK_MSG(strstr(takeaway(), text) != NULL, "takeaway lacks '%s'", text);
    snprintf(key, sizeof key, "optimizer_%s_loss", optimizers[best_o]);
    CHECK(says_loss(text, summary(key), ";"));
    /* 4: bold from the smallest rate against constant there: the sweep's first rows */
    size_t n;
    row_t *rows = read_rows(path_of("tuning_lr_sweep.csv"), -1, &n);
    double bold_lr = NAN, bold_loss = NAN, const_loss = NAN;
    for (size_t i = n; i-- > 0;) {
        if (!strcmp(rows[i].key, "sgd+bold")) bold_lr = rows[i].v[0], bold_loss = rows[i].v[1];
        if (!strcmp(rows[i].key, "sgd")) const_loss = rows[i].v[1];
    }
    free(rows);
    CHECK_NEAR(summary("bold_start_lr"), bold_lr, 1e-9);
    CHECK_NEAR(summary("bold_start_loss"), bold_loss, 1e-6);
    CHECK_NEAR(summary("constant_start_loss"), const_loss, 1e-6);
    CHECK(says("started at lr %.3g reached", bold_lr));
    snprintf(text, sizeof text, "reached %s vs %s at that constant rate", loss_text(bold_loss), loss_text(const_loss));
    CHECK_MSG(strstr(takeaway(), text) != NULL, "takeaway lacks '%s'", text);
    /* 5: clipping, from its figure's CSV (the generated data diverges at lr 10, so there is one) */
    CHECK(summary("clip_lr") > summary("best_lr"));
    rows = read_rows(path_of("tuning_clipping.csv"), -1, &n);   /* key: clip_norm; v: lr, step, loss, final, div */
    double unclipped = NAN, clipped = NAN;
    for (size_t i = 0; i < n; i++) {
        CHECK_NEAR(rows[i].v[0], summary("clip_lr"), 1e-6);
        if (atof(rows[i].key) == 0) unclipped = rows[i].v[3];
        else clipped = rows[i].v[3];
    }
    free(rows);
    CHECK(unclipped == summary("clip_unclipped_loss") || fabs(unclipped / summary("clip_unclipped_loss") - 1) < 1e-6);
    CHECK_NEAR(summary("clip_loss"), clipped, 1e-6);
    CHECK(says("turned lr %.3g (", summary("clip_lr")));
    CHECK(says_loss("into loss ", clipped, ";"));
    /* 6: lr-find */
    CHECK(says("lr-find suggested %.3g for SGD", summary("lrfind_sgd_suggested_lr")));
    CHECK(says("(tuned %.3g) and", summary("best_lr")));
    CHECK(says("and %.3g for Adam", summary("lrfind_adam_suggested_lr")));
    CHECK(says("(tuned %.3g).", summary("optimizer_Adam_lr")));
}

TEST(lab_tuning_same_bytes_at_one_and_two_threads) {
    CHECK(run_lab() == 0);
    const char *dir1, *out1;
    CHECK_MSG(lab_fixture_run("tuning", "--threads 1", &dir1, &out1) == 0, "%s", out1);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", dir1);
    const char *const files[] = {"tuning_lr_sweep.csv", "tuning_schedules.csv", "tuning_schedule_lr.csv",
                                 "tuning_optimizer_grid.csv", "tuning_lr_find.csv", "tuning_lr_sweep.svg"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char a[1024], cmd[2200], buf[64];
        snprintf(a, sizeof a, "%s", path_in(dir, files[i]));
        snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, path_of(files[i]));
        CHECK_MSG(ol_test_run(cmd, buf, sizeof buf) == 0, "%s differs between 1 and 2 threads", files[i]);
    }
}
