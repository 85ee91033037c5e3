/* test_lab_minibatch.c: `optlab lab minibatch --quick` on the generated data set: the CSVs with the
 * columns docs/lab-minibatch.md documents, figures that parse as XML, a gradient whose cost grows
 * with N, every batch size and both samplers present, and a takeaway whose numbers are the ones
 * in summary.csv and the CSVs. Timing is only compared where the gap is orders of magnitude. */
#include "test.h"
#include "lab_fixture.h"
#include "optlab/csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The lab runs once; every test reads its output. */
static int lab_rc = -1;
static char lab_dir[512], lab_output[1 << 16];

static int run_lab(void) {
    if (lab_rc < 0) {
        const char *dir, *output;
        lab_rc = lab_fixture_run("minibatch", NULL, &dir, &output);
        snprintf(lab_dir, sizeof lab_dir, "%s", dir);
        snprintf(lab_output, sizeof lab_output, "%s", output);
    }
    return lab_rc;
}

static const char *path_of(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", lab_dir, name);
    return path;
}

/* A value from summary.csv (rows lab,key,value), NaN if absent. */
static double summary(const char *key) { return lab_fixture_summary(lab_dir, "minibatch", key); }

/* 1 if the run's output holds the number formatted as fmt. */
static int output_has(const char *fmt, double value) {
    char text[64];
    snprintf(text, sizeof text, fmt, value);
    return strstr(lab_output, text) != NULL;
}

static double cell(const ol_csv_table *t, size_t row, const char *column) {
    int c = ol_csv_column(t, column);
    return c < 0 ? NAN : t->values[row * (size_t)t->n_cols + (size_t)c];
}

TEST(lab_minibatch_quick_writes_documented_csvs_and_figures) {
    CHECK_MSG(run_lab() == 0, "optlab lab minibatch --quick failed:\n%s", lab_output);
    static const struct { const char *file, *columns[10]; } csvs[] = {
        {"minibatch_gradient_cost.csv",
         {"n_examples", "repeats", "convert_ms", "grad_ms", "grad_min_ms", "grad_max_ms", "grad_us_per_example"}},
        {"minibatch_loss_vs_time.csv", {"run", "batch", "lr", "seconds", "steps", "epochs", "loss", "accuracy", "diverged"}},
        {"minibatch_sampling.csv", {"sampler", "seed", "epoch", "steps", "loss"}},
        {"minibatch_sampling_gap.csv", {"epoch", "gap_mean", "gap_min", "gap_max", "seeds_shuffle_lower"}},
    };
    for (size_t i = 0; i < sizeof csvs / sizeof csvs[0]; i++) {
        ol_csv_table t;
        CHECK_MSG(ol_csv_read(path_of(csvs[i].file), &t) == 0, "cannot read %s", csvs[i].file);
        int ok = t.n_rows > 0;
        for (int c = 0; csvs[i].columns[c]; c++) ok = ok && ol_csv_column(&t, csvs[i].columns[c]) >= 0;
        ol_csv_table_free(&t);
        CHECK_MSG(ok, "%s lacks rows or a documented column", csvs[i].file);
        char svg[256];
        snprintf(svg, sizeof svg, "%.*s.svg", (int)(strlen(csvs[i].file) - 4), csvs[i].file);
        CHECK_MSG(lab_fixture_xml_ok(path_of(svg)), "%s is not well-formed XML", svg);
    }
    FILE *f = fopen(path_of("index.html"), "r");
    CHECK(f != NULL);
    fclose(f);
}

TEST(lab_minibatch_gradient_cost_grows_with_n) {
    CHECK(run_lab() == 0);
    ol_csv_table t;
    CHECK(ol_csv_read(path_of("minibatch_gradient_cost.csv"), &t) == 0);
    size_t n = t.n_rows;
    int ok = n >= 3;
    for (size_t i = 0; ok && i < n; i++) {
        ok = cell(&t, i, "grad_ms") > 0 && cell(&t, i, "grad_min_ms") <= cell(&t, i, "grad_ms") &&
             cell(&t, i, "grad_ms") <= cell(&t, i, "grad_max_ms");
        if (i) ok = ok && cell(&t, i, "n_examples") > cell(&t, i - 1, "n_examples");
    }
    double small = cell(&t, 0, "grad_ms"), large = cell(&t, n - 1, "grad_ms");
    double n_small = cell(&t, 0, "n_examples"), n_large = cell(&t, n - 1, "n_examples");
    ol_csv_table_free(&t);
    CHECK_MSG(ok, "gradient_cost.csv: rows not ordered by N or medians outside [min, max]");
    CHECK_MSG(n_large >= 10 * n_small, "N spans %g..%g, less than a decade", n_small, n_large);
    CHECK_MSG(large > small, "a gradient over %g examples (%g ms) was not dearer than over %g (%g ms)", n_large, large,
              n_small, small);
}

TEST(lab_minibatch_every_batch_size_runs_from_the_same_start_under_one_budget) {
    CHECK(run_lab() == 0);
    ol_csv_table t;
    CHECK(ol_csv_read(path_of("minibatch_loss_vs_time.csv"), &t) == 0);
    double budget = summary("budget_seconds"), n_full = summary("full_batch_n");
    double initial = cell(&t, 0, "loss");
    int runs = 0, full_runs = 0, ok = 1;
    double small_steps = 0, full_steps = 0;
    for (size_t i = 0; i < t.n_rows && ok; i++) {
        int last = i + 1 == t.n_rows || cell(&t, i + 1, "run") != cell(&t, i, "run");
        if (cell(&t, i, "steps") == 0) {                 /* a run's first row: the common start */
            runs++;
            ok = cell(&t, i, "seconds") == 0 && cell(&t, i, "loss") == initial;
        } else {
            ok = cell(&t, i, "steps") > cell(&t, i - 1, "steps") && cell(&t, i, "seconds") > cell(&t, i - 1, "seconds");
        }
        if (ok && last) {
            ok = cell(&t, i, "seconds") >= budget || cell(&t, i, "diverged") == 1;
            if (cell(&t, i, "batch") == n_full) full_runs++, full_steps = fmax(full_steps, cell(&t, i, "steps"));
            if (cell(&t, i, "batch") == 8) small_steps = cell(&t, i, "steps");
        }
    }
    ol_csv_table_free(&t);
    CHECK_MSG(ok, "loss_vs_time.csv: a run does not start at the common initial loss, go forward, or reach the budget");
    CHECK_EQ_INT(full_runs, 3);
    CHECK_MSG(runs >= 5, "only %d runs", runs);
    /* a batch-8 step costs orders of magnitude less than a full one: it must take more steps */
    CHECK_MSG(small_steps > full_steps, "batch 8 took %g steps, full batch %g", small_steps, full_steps);
}

TEST(lab_minibatch_takeaway_numbers_match_the_csvs) {
    CHECK(run_lab() == 0);
    /* 1: the gradient over the largest N */
    ol_csv_table t;
    CHECK(ol_csv_read(path_of("minibatch_gradient_cost.csv"), &t) == 0);
    double grad_n = cell(&t, t.n_rows - 1, "n_examples"), grad_ms = cell(&t, t.n_rows - 1, "grad_ms");
    ol_csv_table_free(&t);
    CHECK(summary("grad_n") == grad_n);
    CHECK_NEAR(summary("grad_ms"), grad_ms, 1e-6);
    CHECK(output_has("over %.0f examples", grad_n));
    CHECK(output_has("took %.1f ms", grad_ms));

    /* 2: the best mini-batch run and the best full-batch run, from their last rows */
    CHECK(ol_csv_read(path_of("minibatch_loss_vs_time.csv"), &t) == 0);
    double n_full = summary("full_batch_n"), best_mb = INFINITY, best_gd = INFINITY, best_mb_batch = 0, best_gd_lr = 0;
    for (size_t i = 0; i < t.n_rows; i++) {
        if (i + 1 < t.n_rows && cell(&t, i + 1, "run") == cell(&t, i, "run")) continue;
        double loss = cell(&t, i, "loss");
        if (!isfinite(loss) || cell(&t, i, "diverged") == 1) continue;
        if (cell(&t, i, "batch") == n_full) {
            if (loss < best_gd) best_gd = loss, best_gd_lr = cell(&t, i, "lr");
        } else if (loss < best_mb) {
            best_mb = loss, best_mb_batch = cell(&t, i, "batch");
        }
    }
    ol_csv_table_free(&t);
    CHECK_NEAR(summary("best_batch_loss"), best_mb, 1e-6);
    CHECK(summary("best_batch") == best_mb_batch);
    CHECK_NEAR(summary("full_batch_loss"), best_gd, 1e-6);
    CHECK_NEAR(summary("full_batch_lr"), best_gd_lr, 1e-9);
    CHECK(output_has("batch %.0f (", best_mb_batch));
    CHECK(output_has("reached loss %.3g", best_mb));
    CHECK(output_has("reached %.3g", best_gd));

    /* 3: the samplers' mean loss at the last epoch */
    FILE *f = fopen(path_of("minibatch_sampling.csv"), "r");
    CHECK(f != NULL);
    char line[256], name[32];
    int seed, epoch, epochs = (int)summary("sampler_epochs"), count[2] = {0, 0};
    long steps;
    double loss, sum[2] = {0, 0};
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%31[^,],%d,%d,%ld,%lf", name, &seed, &epoch, &steps, &loss) == 5 && epoch == epochs) {
            int k = !strcmp(name, "iid");
            sum[k] += loss;
            count[k]++;
        }
    fclose(f);
    CHECK(count[0] > 0 && count[0] == count[1]);
    CHECK_NEAR(summary("shuffle_final_loss"), sum[0] / count[0], 1e-6);
    CHECK_NEAR(summary("iid_final_loss"), sum[1] / count[1], 1e-6);
    CHECK(output_has("ended at %.4g", sum[0] / count[0]));
    CHECK(output_has("vs IID %.4g", sum[1] / count[1]));
}

TEST(lab_minibatch_both_samplers_start_together_and_learn) {
    CHECK(run_lab() == 0);
    FILE *f = fopen(path_of("minibatch_sampling.csv"), "r");
    CHECK(f != NULL);
    char line[256], name[32];
    int seed, epoch, epochs = (int)summary("sampler_epochs"), seeds = (int)summary("sampler_seeds");
    long steps;
    double loss, start[2][8], end[2][8];
    int rows[2] = {0, 0}, bad = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%31[^,],%d,%d,%ld,%lf", name, &seed, &epoch, &steps, &loss) != 5) continue;
        int k = !strcmp(name, "iid");
        if (strcmp(name, "iid") && strcmp(name, "shuffle")) bad = 1;
        if (seed < 0 || seed >= 8) { bad = 1; continue; }
        rows[k]++;
        if (epoch == 0) start[k][seed] = loss;
        if (epoch == epochs) end[k][seed] = loss;
    }
    fclose(f);
    CHECK_MSG(!bad, "minibatch_sampling.csv holds an unknown sampler or seed");
    CHECK(seeds >= 2 && seeds <= 8 && epochs >= 2);
    CHECK_EQ_INT(rows[0], seeds * (epochs + 1));
    CHECK_EQ_INT(rows[1], seeds * (epochs + 1));
    for (int s = 0; s < seeds; s++) {
        CHECK_MSG(start[0][s] == start[1][s], "seed %d: the samplers did not start from the same model", s);
        CHECK_MSG(end[0][s] < 0.8 * start[0][s] && end[1][s] < 0.8 * start[1][s], "seed %d: no learning", s);
    }
}
