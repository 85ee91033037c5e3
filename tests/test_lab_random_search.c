/* test_lab_random_search.c: `optlab lab random-search --quick` on the generated data: its CSVs have
 * the columns docs/lab-random-search.md documents, its SVGs parse, random search's evaluations grow
 * with the dimension while gradient descent's iterations do not, and the takeaway's numbers are the
 * ones in summary.csv and in the CSVs. The lab runs once; every test reads its output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_fixture.h"
#include "optlab/common.h"
#include "optlab/csv.h"
#include "test.h"

static char rs_output[1 << 16];
static char rs_dir[512];
static int rs_status = -1;

/* Runs the lab the first time it is needed; returns its exit status. */
static int rs_run(void) {
    if (rs_status < 0) {
        const char *dir, *out;
        rs_status = lab_fixture_run("random-search", NULL, &dir, &out);
        snprintf(rs_dir, sizeof rs_dir, "%s", dir);
        snprintf(rs_output, sizeof rs_output, "%s", out);
        if (rs_status) fprintf(stderr, "    lab output:\n%s\n", rs_output);
    }
    return rs_status;
}

static const char *rs_path(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", rs_dir, name);
    return path;
}

/* The value of summary.csv's row (random-search, key), or NaN. */
static double rs_summary(const char *key) { return lab_fixture_summary(rs_dir, "random-search", key); }

/* The summary line "random-search: ..." of the command's output (points into rs_output). */
static const char *rs_takeaway(void) {
    const char *p = strstr(rs_output, "random-search: Random search needed");
    return p ? p + strlen("random-search: ") : NULL;
}

/* Value of column col in the row where column key_col equals key (NaN if none). */
static double rs_lookup(const ol_csv_table *t, const char *key_col, double key, const char *col) {
    int k = ol_csv_column(t, key_col), c = ol_csv_column(t, col);
    if (k < 0 || c < 0) return NAN;
    for (size_t r = 0; r < t->n_rows; r++)
        if (t->values[r * t->n_cols + k] == key) return t->values[r * t->n_cols + c];
    return NAN;
}

static int rs_has_columns(const ol_csv_table *t, const char *columns) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", columns);
    for (char *save, *name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save))
        if (ol_csv_column(t, name) < 0) {
            fprintf(stderr, "    missing column %s\n", name);
            return 0;
        }
    return 1;
}

/* NULL if docs mention the CSV file and every column of its header in backquotes, else what is missing. */
static const char *rs_undocumented(const char *csv_name, const ol_csv_table *t) {
    static char missing[128];
    unsigned char *doc = NULL;
    size_t len = 0;
    if (ol_read_file("docs/lab-random-search.md", 1 << 20, &doc, &len)) return "docs/lab-random-search.md (cannot read it)";
    char *text = malloc(len + 1);
    if (!text) { free(doc); return "memory"; }
    memcpy(text, doc, len);
    text[len] = 0;
    free(doc);
    const char *result = NULL;
    if (!strstr(text, csv_name)) {
        snprintf(missing, sizeof missing, "the file %s", csv_name);
        result = missing;
    }
    for (int c = 0; !result && c < t->n_cols; c++) {
        char quoted[96];
        snprintf(quoted, sizeof quoted, "`%s`", t->names[c]);
        if (!strstr(text, quoted)) {
            snprintf(missing, sizeof missing, "the column `%s` of %s", t->names[c], csv_name);
            result = missing;
        }
    }
    free(text);
    return result;
}

TEST(lab_random_search_quick_writes_documented_csvs) {
    CHECK_EQ_INT(rs_run(), 0);
    static const struct { const char *file, *columns; size_t min_rows; } csvs[] = {
        {"random_search_vs_gd.csv", "d,rs_sigma,rs_evals_median,rs_evals_min,rs_evals_max,rs_seeds,rs_capped,rs_budget,"
                                    "gd_lr,gd_iters,gd_iters_lr01", 4},
        {"random_search_runs.csv", "d,sigma,seed,evaluations,reached,budget", 20},
        {"random_directions_init.csv", "direction,is_gradient,step_length,loss_before,loss_change", 101},
        {"random_directions_trained.csv", "direction,is_gradient,step_length,loss_before,loss_change", 101},
        {"random_directions_relative.csv", "trained,direction,relative_change", 200},
    };
    for (size_t i = 0; i < sizeof csvs / sizeof csvs[0]; i++) {
        ol_csv_table t;
        CHECK_MSG(ol_csv_read(rs_path(csvs[i].file), &t) == 0, "cannot read %s", csvs[i].file);
        int ok = rs_has_columns(&t, csvs[i].columns);
        const char *undocumented = rs_undocumented(csvs[i].file, &t);
        size_t rows = t.n_rows;
        ol_csv_table_free(&t);
        CHECK_MSG(ok, "%s lacks a documented column", csvs[i].file);
        CHECK_MSG(!undocumented, "docs/lab-random-search.md does not document %s", undocumented);
        CHECK_MSG(rows >= csvs[i].min_rows, "%s has %zu rows, expected at least %zu", csvs[i].file, rows,
                  csvs[i].min_rows);
    }
}

TEST(lab_random_search_svgs_parse) {
    CHECK_EQ_INT(rs_run(), 0);
    const char *svgs[] = {"random_search_vs_gd.svg", "random_directions_init.svg", "random_directions_trained.svg",
                          "random_directions_relative.svg"};
    for (size_t i = 0; i < sizeof svgs / sizeof svgs[0]; i++)
        CHECK_MSG(lab_fixture_xml_ok(rs_path(svgs[i])), "%s is not well-formed XML", svgs[i]);
}

TEST(lab_random_search_evaluations_grow_with_dimension) {
    CHECK_EQ_INT(rs_run(), 0);
    ol_csv_table t;
    CHECK(ol_csv_read(rs_path("random_search_vs_gd.csv"), &t) == 0);
    double e1 = rs_lookup(&t, "d", 1, "rs_evals_median"), e2 = rs_lookup(&t, "d", 2, "rs_evals_median"),
           e8 = rs_lookup(&t, "d", 8, "rs_evals_median"), e16 = rs_lookup(&t, "d", 16, "rs_evals_median");
    ol_csv_table_free(&t);
    CHECK_MSG(e8 > e1, "random search: %g evaluations at d=8, not more than %g at d=1", e8, e1);
    CHECK_MSG(e8 > 3 * e1, "random search: d=8 (%g) should need several times d=1 (%g)", e8, e1);
    CHECK_MSG(e16 > e2, "random search: %g evaluations at d=16, not more than %g at d=2", e16, e2);
}

TEST(lab_random_search_gradient_descent_iterations_do_not_grow) {
    CHECK_EQ_INT(rs_run(), 0);
    ol_csv_table t;
    CHECK(ol_csv_read(rs_path("random_search_vs_gd.csv"), &t) == 0);
    int cd = ol_csv_column(&t, "d"), cg = ol_csv_column(&t, "gd_iters"), c01 = ol_csv_column(&t, "gd_iters_lr01");
    int ok = cd >= 0 && cg >= 0 && c01 >= 0 && t.n_rows >= 4;
    double g_first = ok ? t.values[cg] : NAN, g01_first = ok ? t.values[c01] : NAN;
    for (size_t r = 0; ok && r < t.n_rows; r++) {
        const double *row = t.values + r * t.n_cols;
        if (!(row[cg] == g_first && row[c01] == g01_first && row[cg] >= 1)) {
            fprintf(stderr, "    d=%g: GD %g iterations (lr01 %g), at d=1: %g (%g)\n", row[cd], row[cg], row[c01],
                    g_first, g01_first);
            ok = 0;
        }
    }
    ol_csv_table_free(&t);
    CHECK_MSG(ok, "gradient descent's iterations change with the dimension");
}

TEST(lab_random_search_takeaway_matches_data) {
    CHECK_EQ_INT(rs_run(), 0);
    const char *text = rs_takeaway();
    CHECK_MSG(text, "no summary line 'random-search: Random search needed ...' in the output:\n%s", rs_output);
    long n_first, n_mid, n_last, gd;
    int d_first, d_mid, d_last, pct_trained, pct_init;
    double ratio, a_trained, b_trained, a_init, b_init;
    int got = sscanf(text,
                     "Random search needed %ld evaluations at d=%d, %ld at d=%d and %ld at d=%d (x%lf), gradient "
                     "descent %ld iteration",
                     &n_first, &d_first, &n_mid, &d_mid, &n_last, &d_last, &ratio, &gd);
    CHECK_MSG(got == 8, "cannot parse the takeaway (%d fields): %s", got, text);
    CHECK_EQ_INT(d_first, 1);
    CHECK_EQ_INT(d_mid, 8);
    const char *mlp = strstr(text, "after training, ");
    CHECK_MSG(mlp, "no MLP part in the takeaway: %s", text);
    got = sscanf(mlp,
                 "after training, %d%% of 100 random directions lowered the loss, by at most %lf, while one gradient "
                 "step of the same length lowered it by %lf (at initialization: %d%%, at most %lf, against %lf)",
                 &pct_trained, &a_trained, &b_trained, &pct_init, &a_init, &b_init);
    CHECK_MSG(got == 6, "cannot parse the MLP part of the takeaway (%d fields): %s", got, mlp);

    /* against summary.csv */
    char key[64];
    snprintf(key, sizeof key, "rs_evals_d%d", d_first);
    CHECK_NEAR(n_first, rs_summary(key), 0);
    snprintf(key, sizeof key, "rs_evals_d%d", d_mid);
    CHECK_NEAR(n_mid, rs_summary(key), 0);
    snprintf(key, sizeof key, "rs_evals_d%d", d_last);
    CHECK_NEAR(n_last, rs_summary(key), 0);
    CHECK_NEAR(gd, rs_summary("gd_iters"), 0);
    CHECK_NEAR(pct_trained, rs_summary("mlp_trained_pct_lower"), 0);
    CHECK_NEAR(pct_init, rs_summary("mlp_init_pct_lower"), 0);
    CHECK_NEAR(a_trained, rs_summary("mlp_trained_best_random_drop"), 0.06 * a_trained + 1e-12);
    CHECK_NEAR(b_trained, rs_summary("mlp_trained_gd_drop"), 0.01 * b_trained);
    CHECK_NEAR(a_init, rs_summary("mlp_init_best_random_drop"), 0.06 * a_init + 1e-12);
    CHECK_NEAR(b_init, rs_summary("mlp_init_gd_drop"), 0.01 * b_init);
    CHECK_MSG(fabs(ratio - (double)n_last / n_first) <= 0.5, "the takeaway's ratio x%g is not %ld/%ld", ratio, n_last,
              n_first);

    /* against the figure CSVs */
    ol_csv_table t;
    CHECK(ol_csv_read(rs_path("random_search_vs_gd.csv"), &t) == 0);
    double csv_first = rs_lookup(&t, "d", d_first, "rs_evals_median"), csv_last = rs_lookup(&t, "d", d_last, "rs_evals_median");
    double csv_gd = rs_lookup(&t, "d", d_last, "gd_iters"), csv_mid = rs_lookup(&t, "d", d_mid, "rs_evals_median");
    ol_csv_table_free(&t);
    CHECK_NEAR(n_first, csv_first, 0);
    CHECK_NEAR(n_mid, csv_mid, 0);
    CHECK_NEAR(n_last, csv_last, 0);
    CHECK_NEAR(gd, csv_gd, 0);
    const char *files[2] = {"random_directions_trained.csv", "random_directions_init.csv"};
    const int pcts[2] = {pct_trained, pct_init};
    const double drops[2] = {a_trained, a_init}, gd_drops[2] = {b_trained, b_init};
    for (int k = 0; k < 2; k++) {
        CHECK(ol_csv_read(rs_path(files[k]), &t) == 0);
        int cg = ol_csv_column(&t, "is_gradient"), cc = ol_csv_column(&t, "loss_change");
        int lower = 0, randoms = 0;
        double best = 0, gd_change = NAN;
        for (size_t r = 0; cg >= 0 && cc >= 0 && r < t.n_rows; r++) {
            double g = t.values[r * t.n_cols + cg], c = t.values[r * t.n_cols + cc];
            if (g == 1) { gd_change = c; continue; }
            randoms++;
            lower += c < 0;
            if (c < best) best = c;
        }
        ol_csv_table_free(&t);
        CHECK_EQ_INT(randoms, 100);
        CHECK_EQ_INT(lower, pcts[k]);
        CHECK_NEAR(drops[k], -best, 0.06 * drops[k] + 1e-12);
        CHECK_NEAR(gd_drops[k], -gd_change, 0.01 * gd_drops[k]);
    }
}

TEST(lab_random_search_gradient_step_beats_every_random_direction) {
    CHECK_EQ_INT(rs_run(), 0);
    CHECK_MSG(rs_summary("mlp_init_gd_drop") > 5 * rs_summary("mlp_init_best_random_drop"),
              "at initialization the gradient step (%g) should lower the loss far more than any random direction (%g)",
              rs_summary("mlp_init_gd_drop"), rs_summary("mlp_init_best_random_drop"));
    CHECK_MSG(rs_summary("mlp_trained_gd_drop") > 5 * rs_summary("mlp_trained_best_random_drop"),
              "after training the gradient step (%g) should lower the loss far more than any random direction (%g)",
              rs_summary("mlp_trained_gd_drop"), rs_summary("mlp_trained_best_random_drop"));
}

TEST(lab_random_search_is_deterministic) {
    CHECK_EQ_INT(rs_run(), 0);
    char first[1024], cmd[4096], out[4096];
    snprintf(first, sizeof first, "%s-first", rs_dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", first, rs_dir, first);
    CHECK_EQ_INT(ol_test_run(cmd, out, sizeof out), 0);
    const char *dir, *output;
    CHECK_EQ_INT(lab_fixture_run("random-search", NULL, &dir, &output), 0);
    const char *files[] = {"random_search_vs_gd.csv", "random_search_runs.csv", "random_directions_init.csv",
                           "random_directions_trained.csv", "random_directions_relative.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(cmd, sizeof cmd, "cmp '%s/%s' '%s/%s'", first, files[i], dir, files[i]);
        CHECK_MSG(ol_test_run(cmd, out, sizeof out) == 0, "%s differs between two runs: %s", files[i], out);
    }
}
