/* test_lab_conditioning.c: `optlab lab conditioning --quick`: its CSVs have the columns
 * docs/lab-conditioning.md documents, its SVGs parse, heavy-ball momentum needs fewer iterations than
 * gradient descent at kappa = 1000, the measured scaling is the theory's (kappa vs sqrt(kappa)), the
 * takeaway's numbers are the ones in summary.csv and the CSV, and a second run gives the same bytes.
 * The lab runs once; every test reads its output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_fixture.h"
#include "optlab/common.h"
#include "optlab/csv.h"
#include "test.h"

static char cond_output[1 << 16];
static char cond_dir[512];
static int cond_status = -1;

static int cond_run(void) {
    if (cond_status < 0) {
        const char *dir, *out;
        cond_status = lab_fixture_run("conditioning", NULL, &dir, &out);
        snprintf(cond_dir, sizeof cond_dir, "%s", dir);
        snprintf(cond_output, sizeof cond_output, "%s", out);
        if (cond_status) fprintf(stderr, "    lab output:\n%s\n", cond_output);
    }
    return cond_status;
}

static const char *cond_path(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", cond_dir, name);
    return path;
}

/* The value of summary.csv's row (conditioning, key), or NaN. */
static double cond_summary(const char *key) { return lab_fixture_summary(cond_dir, "conditioning", key); }

/* Value of column col in the row of conditioning_iterations.csv with kappa == kappa (NaN if none). */
static double cond_iterations(double kappa, const char *col) {
    ol_csv_table t;
    if (ol_csv_read(cond_path("conditioning_iterations.csv"), &t)) return NAN;
    int k = ol_csv_column(&t, "kappa"), c = ol_csv_column(&t, col);
    double v = NAN;
    for (size_t r = 0; k >= 0 && c >= 0 && r < t.n_rows; r++)
        if (t.values[r * t.n_cols + k] == kappa) v = t.values[r * t.n_cols + c];
    ol_csv_table_free(&t);
    return v;
}

/* NULL if docs mention the CSV file and every column of its header in backquotes, else what is missing. */
static const char *cond_undocumented(const char *csv_name, const ol_csv_table *t) {
    static char missing[128];
    unsigned char *doc = NULL;
    size_t len = 0;
    if (ol_read_file("docs/lab-conditioning.md", 1 << 20, &doc, &len)) return "docs/lab-conditioning.md (cannot read it)";
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

TEST(lab_conditioning_quick_writes_documented_csvs) {
    CHECK_EQ_INT(cond_run(), 0);
    static const struct { const char *file, *columns; size_t min_rows; } csvs[] = {
        {"conditioning_iterations.csv", "kappa,gd_lr,gd_iters,momentum_lr,momentum_beta,momentum_iters,gd_theory_lr,"
                                        "gd_theory_iters,momentum_theory_lr,momentum_theory_beta,momentum_theory_iters,"
                                        "gd_bound,momentum_bound", 4},
        {"conditioning_grid.csv", "kappa,method,lr,beta,iterations,outcome,budget", 100},
        {"conditioning_paths.csv", "iteration,gd_x0,gd_x1,gd_f,momentum_x0,momentum_x1,momentum_f", 61},
    };
    for (size_t i = 0; i < sizeof csvs / sizeof csvs[0]; i++) {
        ol_csv_table t;
        CHECK_MSG(ol_csv_read(cond_path(csvs[i].file), &t) == 0, "cannot read %s", csvs[i].file);
        char buf[512];
        snprintf(buf, sizeof buf, "%s", csvs[i].columns);
        const char *missing = NULL;
        for (char *save, *name = strtok_r(buf, ",", &save); name && !missing; name = strtok_r(NULL, ",", &save))
            if (ol_csv_column(&t, name) < 0) missing = name;
        const char *undocumented = cond_undocumented(csvs[i].file, &t);
        size_t rows = t.n_rows;
        ol_csv_table_free(&t);
        CHECK_MSG(!missing, "%s lacks the documented column %s", csvs[i].file, missing);
        CHECK_MSG(!undocumented, "docs/lab-conditioning.md does not document %s", undocumented);
        CHECK_MSG(rows >= csvs[i].min_rows, "%s has %zu rows, expected at least %zu", csvs[i].file, rows,
                  csvs[i].min_rows);
    }
    for (int k = 1; k <= 1000; k *= 10)
        CHECK_MSG(cond_iterations(k, "gd_iters") >= 1, "no GD result for kappa = %d", k);
}

TEST(lab_conditioning_svgs_parse) {
    CHECK_EQ_INT(cond_run(), 0);
    const char *svgs[] = {"conditioning_iterations.svg", "conditioning_paths.svg", "conditioning_coordinates.svg"};
    for (size_t i = 0; i < sizeof svgs / sizeof svgs[0]; i++)
        CHECK_MSG(lab_fixture_xml_ok(cond_path(svgs[i])), "%s is not well-formed XML", svgs[i]);
}

TEST(lab_conditioning_momentum_beats_gd_at_kappa_1000) {
    CHECK_EQ_INT(cond_run(), 0);
    double gd = cond_iterations(1000, "gd_iters"), mom = cond_iterations(1000, "momentum_iters");
    CHECK_MSG(gd > 0 && mom > 0, "missing kappa = 1000 results (gd %g, momentum %g)", gd, mom);
    CHECK_MSG(mom < gd, "momentum needed %g iterations at kappa = 1000, gradient descent %g", mom, gd);
    CHECK_MSG(3 * mom < gd, "momentum (%g) should be several times faster than GD (%g) at kappa = 1000", mom, gd);
}

/* GD's tuned iterations scale like kappa, momentum's like sqrt(kappa); both near the rate bound. */
TEST(lab_conditioning_scaling_follows_theory) {
    CHECK_EQ_INT(cond_run(), 0);
    double gd_slope = cond_summary("gd_slope"), mom_slope = cond_summary("momentum_slope");
    CHECK_MSG(gd_slope > 0.85 && gd_slope < 1.15, "GD's log-log slope %g, theory 1", gd_slope);
    CHECK_MSG(mom_slope > 0.35 && mom_slope < 0.65, "momentum's log-log slope %g, theory 0.5", mom_slope);
    double gd_theory = cond_iterations(1000, "gd_theory_iters"), gd_bound = cond_iterations(1000, "gd_bound");
    CHECK_MSG(gd_theory > 0.8 * gd_bound && gd_theory <= 1.01 * gd_bound,
              "GD at lr = 2/(L+mu) took %g iterations at kappa = 1000, the rate bound says %g", gd_theory, gd_bound);
    /* the 2-D picture: per-step contraction of the flat coordinate */
    CHECK_NEAR(cond_summary("gd_rate_kappa50"), 49.0 / 51.0, 1e-3);
    CHECK_MSG(cond_summary("momentum_rate_kappa50") < 0.9, "momentum's contraction %g on kappa = 50",
              cond_summary("momentum_rate_kappa50"));
}

TEST(lab_conditioning_takeaway_matches_data) {
    CHECK_EQ_INT(cond_run(), 0);
    const char *text = strstr(cond_output, "conditioning: At kappa=1000, gradient descent needed");
    CHECK_MSG(text, "no summary line 'conditioning: At kappa=1000, ...' in the output:\n%s", cond_output);
    long gd, mom;
    double target, speedup, kmax, gd_slope, mom_slope;
    int got = sscanf(text,
                     "conditioning: At kappa=1000, gradient descent needed %ld iterations to reach f <= %lf f(x0) and "
                     "heavy-ball momentum %ld (x%lf faster), each at its best tuned lr (and beta); over kappa = 10..%lf "
                     "their iteration counts grew with log-log slopes %lf and %lf",
                     &gd, &target, &mom, &speedup, &kmax, &gd_slope, &mom_slope);
    CHECK_MSG(got == 7, "cannot parse the takeaway (%d fields): %s", got, text);
    CHECK(target == 1e-6);
    CHECK_NEAR(kmax, cond_summary("largest_kappa"), 0);
    CHECK_NEAR(gd, cond_summary("gd_iters_kappa1000"), 0);
    CHECK_NEAR(mom, cond_summary("momentum_iters_kappa1000"), 0);
    CHECK_NEAR(gd, cond_iterations(1000, "gd_iters"), 0);
    CHECK_NEAR(mom, cond_iterations(1000, "momentum_iters"), 0);
    CHECK_MSG(fabs(speedup - (double)gd / mom) <= 0.05, "speedup x%g is not %ld/%ld", speedup, gd, mom);
    CHECK_MSG(fabs(gd_slope - cond_summary("gd_slope")) <= 0.005, "slope %g vs %g", gd_slope, cond_summary("gd_slope"));
    CHECK_MSG(fabs(mom_slope - cond_summary("momentum_slope")) <= 0.005, "slope %g vs %g", mom_slope,
              cond_summary("momentum_slope"));
}

TEST(lab_conditioning_is_deterministic) {
    CHECK_EQ_INT(cond_run(), 0);
    char first[1024];
    snprintf(first, sizeof first, "%s-first", cond_dir);
    char cmd[4096], out[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", first, cond_dir, first);
    CHECK_EQ_INT(ol_test_run(cmd, out, sizeof out), 0);
    const char *dir, *output;
    CHECK_EQ_INT(lab_fixture_run("conditioning", NULL, &dir, &output), 0);
    const char *files[] = {"conditioning_iterations.csv", "conditioning_grid.csv", "conditioning_paths.csv",
                           "conditioning_iterations.svg", "conditioning_paths.svg"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(cmd, sizeof cmd, "cmp '%s/%s' '%s/%s'", first, files[i], dir, files[i]);
        CHECK_MSG(ol_test_run(cmd, out, sizeof out) == 0, "%s differs between two runs: %s", files[i], out);
    }
}
