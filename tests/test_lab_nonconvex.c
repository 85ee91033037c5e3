/* test_lab_nonconvex.c: `optlab lab nonconvex --quick` on the generated data set: the CSVs carry the
 * documented columns, every architecture has at least 7 seeds and the widths start at 2, the
 * figures parse, and every number of the takeaway and of summary.csv can be recomputed from the
 * per-run CSV. The lab runs once; every test reads its output. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_fixture.h"
#include "optlab/common.h"
#include "optlab/csv.h"
#include "test.h"

static const char *nc_dir, *nc_output;
static int nc_rc = -1;

/* Runs the lab the first time a test asks; 0 when it succeeded. */
static int nc_run(void) {
    static char output[1 << 16];
    if (nc_rc < 0) {
        const char *out;
        nc_rc = lab_fixture_run("nonconvex", NULL, &nc_dir, &out);
        snprintf(output, sizeof output, "%s", out);
        nc_output = output;
    }
    return nc_rc;
}

static int nc_read(const char *name, ol_csv_table *t) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", nc_dir, name);
    return ol_csv_read(path, t);
}

static double cell(const ol_csv_table *t, size_t row, const char *col) {
    int c = ol_csv_column(t, col);
    return c < 0 ? NAN : t->values[row * t->n_cols + c];
}

/* The value of key for lab nonconvex in summary.csv, NaN when absent. */
static double summary_value(const char *key) { return lab_fixture_summary(nc_dir, "nonconvex", key); }

static const char *const CSV_COLUMNS[][2] = {
    {"nonconvex_runs.csv", "hidden_layers,width,params,seed_index,seed,initial_loss,final_loss,final_accuracy"},
    {"nonconvex_spread.csv", "hidden_layers,width,params,seeds,loss_min,loss_median,loss_max,spread"},
    {"nonconvex_curves.csv", "hidden_layers,width,params,seed,step,loss"},
    {"nonconvex_rastrigin.csv", "start,step,x0,x1,f"},
    {"nonconvex_landscape_narrow.csv", "width,params,seed,alpha,beta,loss"},
    {"nonconvex_landscape_wide.csv", "width,params,seed,alpha,beta,loss"},
};
#define N_CSV ((int)(sizeof CSV_COLUMNS / sizeof CSV_COLUMNS[0]))

TEST(lab_nonconvex_quick_writes_the_documented_csv_columns) {
    CHECK_MSG(nc_run() == 0, "optlab lab nonconvex --quick failed:\n%s", nc_output);
    unsigned char *doc = NULL;
    size_t doc_len = 0;
    CHECK_MSG(ol_read_file("docs/lab-nonconvex.md", 1 << 20, &doc, &doc_len) == 0, "docs/lab-nonconvex.md: %s",
              ol_error());
    char *text = malloc(doc_len + 1);
    CHECK(text);
    memcpy(text, doc, doc_len);
    text[doc_len] = 0;
    free(doc);
    for (int i = 0; i < N_CSV; i++) {
        ol_csv_table t;
        if (nc_read(CSV_COLUMNS[i][0], &t)) {
            free(text);
            CHECK_MSG(0, "%s missing: %s", CSV_COLUMNS[i][0], ol_error());
        }
        int ok = t.n_rows > 0, documented = strstr(text, CSV_COLUMNS[i][0]) != NULL;
        char cols[256], missing[64] = "", undocumented[64] = "";
        snprintf(cols, sizeof cols, "%s", CSV_COLUMNS[i][1]);
        for (char *c = strtok(cols, ","); c; c = strtok(NULL, ",")) {
            if (ol_csv_column(&t, c) < 0 && !missing[0]) snprintf(missing, sizeof missing, "%s", c);
            char quoted[80];
            snprintf(quoted, sizeof quoted, "`%s`", c);
            if (!strstr(text, quoted) && !undocumented[0]) snprintf(undocumented, sizeof undocumented, "%s", c);
        }
        ol_csv_table_free(&t);
        if (!ok || missing[0] || !documented || undocumented[0]) free(text);
        CHECK_MSG(ok, "%s has no rows", CSV_COLUMNS[i][0]);
        CHECK_MSG(!missing[0], "%s lacks the documented column %s", CSV_COLUMNS[i][0], missing);
        CHECK_MSG(documented, "docs/lab-nonconvex.md does not describe %s", CSV_COLUMNS[i][0]);
        CHECK_MSG(!undocumented[0], "docs/lab-nonconvex.md does not list the column `%s`", undocumented);
    }
    free(text);
}

TEST(lab_nonconvex_every_architecture_has_7_seeds_and_widths_start_at_2) {
    CHECK_MSG(nc_run() == 0, "lab failed:\n%s", nc_output);
    ol_csv_table t;
    CHECK(nc_read("nonconvex_runs.csv", &t) == 0);
    int widths[64], counts[64], depth[64], n_arch = 0, ok = 1;
    for (size_t r = 0; r < t.n_rows && ok; r++) {
        int w = (int)cell(&t, r, "width"), d = (int)cell(&t, r, "hidden_layers"), a;
        for (a = 0; a < n_arch; a++)
            if (widths[a] == w && depth[a] == d) break;
        if (a == n_arch && n_arch < 64) widths[n_arch] = w, depth[n_arch] = d, counts[n_arch] = 0, n_arch++;
        counts[a]++;
        /* the generated data: 28x28 inputs, 10 classes */
        double params = d == 1 ? 785.0 * w + (w + 1) * 10.0 : 785.0 * w + (w + 1.0) * w + (w + 1) * 10.0;
        ok = cell(&t, r, "params") == params && isfinite(cell(&t, r, "final_loss")) && cell(&t, r, "final_loss") > 0 &&
             cell(&t, r, "final_accuracy") >= 0 && cell(&t, r, "final_accuracy") <= 1;
    }
    ol_csv_table_free(&t);
    CHECK_MSG(ok, "a run has a wrong parameter count or a non-finite loss");
    int one_layer = 0, last = 0, ascending = 1, has_deep = 0;
    for (int a = 0; a < n_arch; a++) {
        CHECK_MSG(counts[a] >= 7, "width %d (%d hidden layers) has %d seeds, want >= 7", widths[a], depth[a], counts[a]);
        if (depth[a] == 1) {
            ascending &= widths[a] > last;
            last = widths[a];
            if (one_layer++ == 0) CHECK_EQ_INT(widths[a], 2);
        } else has_deep = 1;
    }
    CHECK_MSG(one_layer >= 4 && ascending, "want >= 4 ascending widths from 2, got %d", one_layer);
    CHECK_MSG(has_deep, "no network with two hidden layers");
}

TEST(lab_nonconvex_spread_csv_and_summary_are_recomputable_from_the_runs) {
    CHECK_MSG(nc_run() == 0, "lab failed:\n%s", nc_output);
    ol_csv_table runs, spread;
    CHECK(nc_read("nonconvex_runs.csv", &runs) == 0);
    if (nc_read("nonconvex_spread.csv", &spread)) {
        ol_csv_table_free(&runs);
        CHECK_MSG(0, "nonconvex_spread.csv: %s", ol_error());
    }
    char bad[256] = "";
    for (size_t a = 0; a < spread.n_rows && !bad[0]; a++) {
        int d = (int)cell(&spread, a, "hidden_layers"), w = (int)cell(&spread, a, "width");
        double v[64];
        int n = 0;
        for (size_t r = 0; r < runs.n_rows && n < 64; r++)
            if ((int)cell(&runs, r, "hidden_layers") == d && (int)cell(&runs, r, "width") == w)
                v[n++] = cell(&runs, r, "final_loss");
        for (int i = 1; i < n; i++)
            for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
                double s = v[j];
                v[j] = v[j - 1], v[j - 1] = s;
            }
        double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
        double want[4] = {v[0], median, v[n - 1], v[n - 1] - v[0]};
        const char *cols[4] = {"loss_min", "loss_median", "loss_max", "spread"};
        const char *keys[4] = {"min", "median", "max", "spread"};
        if (n == 0 || cell(&spread, a, "seeds") != n) snprintf(bad, sizeof bad, "width %d: %d runs", w, n);
        for (int k = 0; k < 4 && !bad[0]; k++) {
            char key[96];
            if (d == 1) snprintf(key, sizeof key, "%s_width%d", keys[k], w);
            else snprintf(key, sizeof key, "%s_2layers_width%d", keys[k], w);
            double csv = cell(&spread, a, cols[k]), sum = summary_value(key);
            if (!(fabs(csv - want[k]) <= 1e-7 * fmax(1, fabs(want[k]))))
                snprintf(bad, sizeof bad, "%s: spread.csv %.9g, recomputed %.9g", key, csv, want[k]);
            else if (!(fabs(sum - want[k]) <= 1e-7 * fmax(1, fabs(want[k]))))
                snprintf(bad, sizeof bad, "%s: summary.csv %.9g, recomputed %.9g", key, sum, want[k]);
        }
    }
    ol_csv_table_free(&runs);
    ol_csv_table_free(&spread);
    CHECK_MSG(!bad[0], "%s", bad);
}

/* The takeaway's numbers: the narrowest and the widest one-hidden-layer network, and rastrigin. */
TEST(lab_nonconvex_takeaway_numbers_match_summary_and_csv) {
    CHECK_MSG(nc_run() == 0, "lab failed:\n%s", nc_output);
    const char *line = strstr(nc_output, "nonconvex: ");
    CHECK_MSG(line, "no takeaway line in the output:\n%s", nc_output);
    char takeaway[2048];
    size_t len = strcspn(line, "\n");
    snprintf(takeaway, sizeof takeaway, "%.*s", (int)(len < sizeof takeaway ? len : sizeof takeaway - 1), line);

    ol_csv_table spread;
    CHECK(nc_read("nonconvex_spread.csv", &spread) == 0);
    int first = -1, last = -1;
    for (size_t a = 0; a < spread.n_rows; a++)
        if (cell(&spread, a, "hidden_layers") == 1) {
            if (first < 0) first = (int)a;
            last = (int)a;
        }
    if (first < 0) ol_csv_table_free(&spread);
    CHECK(first >= 0);
    const char *cols[4] = {"loss_min", "loss_max", "spread", "loss_median"};
    char missing[256] = "";
    for (int which = 0; which < 2 && !missing[0]; which++) {
        size_t a = (size_t)(which ? last : first);
        char text[64];
        snprintf(text, sizeof text, "width %d ", (int)cell(&spread, a, "width"));
        if (!strstr(takeaway, text)) snprintf(missing, sizeof missing, "'%s'", text);
        for (int k = 0; k < 4 && !missing[0]; k++) {
            snprintf(text, sizeof text, "%.3f", cell(&spread, a, cols[k]));
            if (!strstr(takeaway, text)) snprintf(missing, sizeof missing, "'%s' (%s)", text, cols[k]);
        }
    }
    double s_narrow = cell(&spread, (size_t)first, "spread"), s_wide = cell(&spread, (size_t)last, "spread");
    ol_csv_table_free(&spread);
    CHECK_MSG(!missing[0], "the takeaway lacks %s:\n%s", missing, takeaway);
    CHECK_NEAR(summary_value("spread_ratio"), s_narrow / s_wide, 1e-6);

    /* rastrigin: distinct minima = distinct rounded end points */
    ol_csv_table fn;
    CHECK(nc_read("nonconvex_rastrigin.csv", &fn) == 0);
    long ends[64][2];
    int n_ends = 0, n_starts = 0;
    double last_step = 0;
    for (size_t r = 0; r < fn.n_rows; r++) last_step = fmax(last_step, cell(&fn, r, "step"));
    for (size_t r = 0; r < fn.n_rows; r++) {
        if (cell(&fn, r, "step") != last_step) continue;
        n_starts++;
        long x = lround(cell(&fn, r, "x0")), y = lround(cell(&fn, r, "x1"));
        int seen = 0;
        for (int i = 0; i < n_ends; i++) seen |= ends[i][0] == x && ends[i][1] == y;
        if (!seen && n_ends < 64) ends[n_ends][0] = x, ends[n_ends][1] = y, n_ends++;
    }
    ol_csv_table_free(&fn);
    CHECK_EQ_INT(summary_value("rastrigin_distinct_minima"), n_ends);
    CHECK_EQ_INT(summary_value("rastrigin_starts"), n_starts);
    char text[96];
    snprintf(text, sizeof text, "from %d random starts ended in %d different minima", n_starts, n_ends);
    CHECK_MSG(strstr(takeaway, text), "the takeaway lacks '%s':\n%s", text, takeaway);
}

/* The lab's claim, asserted because it holds by a wide margin on the generated data (the 2-unit
 * network's spread is over 100 times the widest one's at seed 1). */
TEST(lab_nonconvex_widest_network_spreads_less_than_the_narrowest) {
    CHECK_MSG(nc_run() == 0, "lab failed:\n%s", nc_output);
    double narrow = summary_value("spread_width2");
    ol_csv_table spread;
    CHECK(nc_read("nonconvex_spread.csv", &spread) == 0);
    double wide = NAN;
    for (size_t a = 0; a < spread.n_rows; a++)
        if (cell(&spread, a, "hidden_layers") == 1) wide = cell(&spread, a, "spread");
    ol_csv_table_free(&spread);
    CHECK_MSG(wide < narrow, "spread of the widest %.4g, of width 2 %.4g", wide, narrow);
}

TEST(lab_nonconvex_svgs_parse_and_the_report_has_them) {
    CHECK_MSG(nc_run() == 0, "lab failed:\n%s", nc_output);
    const char *svgs[] = {"nonconvex_spread.svg", "nonconvex_runs.svg", "nonconvex_curves.svg",
                          "nonconvex_rastrigin.svg", "nonconvex_landscape_narrow.svg", "nonconvex_landscape_wide.svg"};
    for (size_t i = 0; i < sizeof svgs / sizeof *svgs; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", nc_dir, svgs[i]);
        CHECK_MSG(lab_fixture_xml_ok(path), "%s is not well-formed XML", svgs[i]);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/index.html", nc_dir);
    unsigned char *html;
    size_t len;
    CHECK(ol_read_file(path, 64 << 20, &html, &len) == 0);
    char *s = realloc(html, len + 1);
    CHECK(s);
    s[len] = 0;
    int missing = -1;
    for (int i = 0; i < N_CSV && missing < 0; i++)
        if (!strstr(s, CSV_COLUMNS[i][0])) missing = i;
    int has_section = strstr(s, "Non-convexity") != NULL;
    free(s);
    CHECK_MSG(has_section, "index.html has no non-convexity section");
    CHECK_MSG(missing < 0, "index.html does not link %s", CSV_COLUMNS[missing][0]);
}

/* The centre of each landscape is the trained network: its loss there is that run's final loss. */
TEST(lab_nonconvex_landscape_centre_is_the_trained_network) {
    CHECK_MSG(nc_run() == 0, "lab failed:\n%s", nc_output);
    ol_csv_table runs;
    CHECK(nc_read("nonconvex_runs.csv", &runs) == 0);
    const char *names[2] = {"nonconvex_landscape_narrow.csv", "nonconvex_landscape_wide.csv"};
    char bad[256] = "";
    for (int i = 0; i < 2 && !bad[0]; i++) {
        ol_csv_table t;
        if (nc_read(names[i], &t)) {
            snprintf(bad, sizeof bad, "%s: %s", names[i], ol_error());
            break;
        }
        size_t n = (size_t)llround(sqrt((double)t.n_rows));
        double centre = NAN, lo = INFINITY, hi = -INFINITY;
        for (size_t r = 0; r < t.n_rows; r++) {
            double a = cell(&t, r, "alpha"), b = cell(&t, r, "beta");
            lo = fmin(lo, fmin(a, b)), hi = fmax(hi, fmax(a, b));
            if (fabs(a) < 1e-12 && fabs(b) < 1e-12) centre = cell(&t, r, "loss");
        }
        double width = cell(&t, 0, "width"), seed = cell(&t, 0, "seed"), final = NAN;
        for (size_t r = 0; r < runs.n_rows; r++)
            if (cell(&runs, r, "hidden_layers") == 1 && cell(&runs, r, "width") == width && cell(&runs, r, "seed") == seed)
                final = cell(&runs, r, "final_loss");
        if (n * n != t.n_rows || n < 11 || n % 2 == 0) snprintf(bad, sizeof bad, "%s: %zu rows, not an odd n x n grid, n >= 11", names[i], t.n_rows);
        else if (lo != -1 || hi != 1) snprintf(bad, sizeof bad, "%s: alpha, beta span [%g, %g], want [-1, 1]", names[i], lo, hi);
        else if (!(fabs(centre - final) <= 1e-5 * final))
            snprintf(bad, sizeof bad, "%s: loss at the centre %.9g, final loss of width %g seed %g %.9g", names[i], centre,
                     width, seed, final);
        ol_csv_table_free(&t);
    }
    ol_csv_table_free(&runs);
    CHECK_MSG(!bad[0], "%s", bad);
}

/* Each curve starts at the run's initial loss and ends at its final loss, one row per step. */
TEST(lab_nonconvex_curves_run_from_initial_to_final_loss) {
    CHECK_MSG(nc_run() == 0, "lab failed:\n%s", nc_output);
    ol_csv_table runs, curves;
    CHECK(nc_read("nonconvex_runs.csv", &runs) == 0);
    if (nc_read("nonconvex_curves.csv", &curves)) {
        ol_csv_table_free(&runs);
        CHECK_MSG(0, "nonconvex_curves.csv: %s", ol_error());
    }
    double steps = summary_value("steps");
    int checked = 0, narrowest = 0;
    char bad[256] = "";
    for (size_t r = 0; r < runs.n_rows && !bad[0]; r++) {
        double w = cell(&runs, r, "width"), seed = cell(&runs, r, "seed");
        if (cell(&runs, r, "hidden_layers") != 1) continue;
        double first = NAN, final = NAN;
        long rows = 0;
        for (size_t c = 0; c < curves.n_rows; c++)
            if (cell(&curves, c, "width") == w && cell(&curves, c, "seed") == seed) {
                rows++;
                if (cell(&curves, c, "step") == 0) first = cell(&curves, c, "loss");
                if (cell(&curves, c, "step") == steps) final = cell(&curves, c, "loss");
            }
        if (!rows) continue;
        checked++;
        narrowest += w == 2;
        if (rows != (long)steps + 1) snprintf(bad, sizeof bad, "width %g seed %g: %ld rows for %g steps", w, seed, rows, steps);
        /* step 0 comes from the training loop's first batch (the whole subset in another order),
         * initial_loss from a separate evaluation: equal up to float rounding */
        else if (!(fabs(first - cell(&runs, r, "initial_loss")) <= 1e-5 * first) || final != cell(&runs, r, "final_loss"))
            snprintf(bad, sizeof bad, "width %g seed %g: curve %g..%g, runs %g..%g", w, seed, first, final,
                     cell(&runs, r, "initial_loss"), cell(&runs, r, "final_loss"));
    }
    ol_csv_table_free(&runs);
    ol_csv_table_free(&curves);
    CHECK_MSG(!bad[0], "%s", bad);
    CHECK_MSG(narrowest >= 7 && checked >= 21, "curves of %d runs (%d of width 2), want every seed of 3 widths", checked,
              narrowest);
}

/* Gradient descent on rastrigin never ends higher than it starts, and stops in a minimum: near an
 * integer point, where rastrigin's local minima are. */
TEST(lab_nonconvex_rastrigin_runs_descend_into_a_minimum) {
    CHECK_MSG(nc_run() == 0, "lab failed:\n%s", nc_output);
    ol_csv_table t;
    CHECK(nc_read("nonconvex_rastrigin.csv", &t) == 0);
    double last_step = 0;
    for (size_t r = 0; r < t.n_rows; r++) last_step = fmax(last_step, cell(&t, r, "step"));
    char bad[256] = "";
    int starts = 0;
    for (size_t r = 0; r < t.n_rows && !bad[0]; r++) {
        if (cell(&t, r, "step") != 0) continue;
        starts++;
        double f0 = cell(&t, r, "f");
        size_t end = r + (size_t)last_step;
        if (end >= t.n_rows || cell(&t, end, "start") != cell(&t, r, "start")) {
            snprintf(bad, sizeof bad, "start %g: rows not in order", cell(&t, r, "start"));
            break;
        }
        double x = cell(&t, end, "x0"), y = cell(&t, end, "x1"), f = cell(&t, end, "f");
        double fx = 20 + x * x - 10 * cos(2 * M_PI * x) + y * y - 10 * cos(2 * M_PI * y);
        if (!(f <= f0)) snprintf(bad, sizeof bad, "start %g: f went from %g up to %g", cell(&t, r, "start"), f0, f);
        else if (fabs(x - round(x)) > 0.1 || fabs(y - round(y)) > 0.1)
            snprintf(bad, sizeof bad, "start %g ended at (%g, %g), not near a minimum", cell(&t, r, "start"), x, y);
        else if (fabs(fx - f) > 1e-6 * fmax(1, f)) snprintf(bad, sizeof bad, "f(%g, %g) = %g, the CSV says %g", x, y, fx, f);
    }
    ol_csv_table_free(&t);
    CHECK_MSG(!bad[0], "%s", bad);
    CHECK_MSG(starts >= 4, "%d starts", starts);
}

/* Same seed, same bytes, whatever the thread count (the runs train in parallel). */
TEST(lab_nonconvex_same_seed_same_csv_bytes_at_one_thread) {
    CHECK_MSG(nc_run() == 0, "lab failed:\n%s", nc_output);
    char dir[1024], cmd[4096];
    static char out[1 << 16];
    snprintf(dir, sizeof dir, "%s/lab-nonconvex-1thread", ol_test_tmpdir());
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && %s lab nonconvex --quick --threads 1 --data '%s' --out '%s'", dir,
             ol_test_bin(), lab_fixture_data(), dir);
    CHECK_MSG(ol_test_run(cmd, out, sizeof out) == 0, "%s", out);
    for (int i = 0; i < N_CSV; i++) {
        char a[1200], b[1200];
        unsigned char *da, *db;
        size_t la, lb;
        snprintf(a, sizeof a, "%s/%s", nc_dir, CSV_COLUMNS[i][0]);
        snprintf(b, sizeof b, "%s/%s", dir, CSV_COLUMNS[i][0]);
        CHECK(ol_read_file(a, 64 << 20, &da, &la) == 0);
        if (ol_read_file(b, 64 << 20, &db, &lb)) {
            free(da);
            CHECK_MSG(0, "%s missing", b);
        }
        int same = la == lb && !memcmp(da, db, la);
        free(da);
        free(db);
        CHECK_MSG(same, "%s differs between the default thread count and --threads 1", CSV_COLUMNS[i][0]);
    }
}
