/* test_torch_reference.c: `optlab optimize` against torch.optim in float64, on every case of
 * tests/ref/cases.txt (every optimizer variant, every torch schedule, warm-up, clipping): the
 * reference traces in tests/ref/traces/ were written by tests/ref/make_traces.sh with Debian's
 * torch 1.13 (tests/ref/torch_optimize.py) and are committed, so this test needs no torch.
 * Every number of every row (step, lr, f, x, and asgd's ax) must agree to REL_TOL relative (absolute
 * below 1), and to REL_TOL_NEW for the optimizers of issue 19. The largest difference of each
 * optimizer is printed, with its case.
 * The runs are compared whole, with --diverge-factor 0: torch has no divergence bound, and one case
 * (radam) blows up as torch's does, which optimize's default bound would stop at step 4. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/csv.h"
#include "test.h"

#define REL_TOL 1e-9
#define REL_TOL_NEW 1e-12
#define MAX_KINDS 32
/* the cases of the block "issue 19: composed schedules ..." at the end of cases.txt: each is held to
 * this and prints its largest difference */
#define REL_TOL_SCHEDULES_19 1e-12

static double cell(const ol_csv_table *t, size_t r, int c) { return t->values[r * (size_t)t->n_cols + (size_t)c]; }

/* The optimizer of a case: the name after --opt, up to ':' */
static void opt_name(const char *args, char *name, size_t cap) {
    const char *p = strstr(args, "--opt ");
    size_t n = 0;
    if (p)
        for (p += 6; p[n] && p[n] != ':' && p[n] != ' ' && n + 1 < cap; n++) name[n] = p[n];
    name[n] = 0;
}

static int new_in_issue_19(const char *name) {
    static const char *const kinds[] = {"adadelta", "adamax", "asgd", "rprop", "lbfgs", "lion", "sf-sgd", "sf-adamw", "lamb", "lars", "adafactor", "muon"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(name, kinds[i])) return 1;
    return 0;
}

TEST(optimize_matches_the_torch_float64_reference_traces) {
    FILE *f = fopen("tests/ref/cases.txt", "r");
    if (!f) SKIP("tests/ref/cases.txt not found: run from the repository root");
    char line[1024];
    int cases = 0, n_kinds = 0;
    double worst = 0, kind_worst[MAX_KINDS];
    char worst_case[1200] = "", kind[MAX_KINDS][32], kind_case[MAX_KINDS][1200];
    int schedules_19 = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (strstr(line, "# ---- issue 19: composed schedules")) schedules_19 = 1;
        if (!line[0] || line[0] == '#') continue;
        char *colon = strchr(line, ':');
        CHECK_MSG(colon && colon[1] == ' ', "bad line in cases.txt: %s", line);
        *colon = 0;
        const char *name = line, *args = colon + 2;
        char opt[32];
        opt_name(args, opt, sizeof opt);
        int k = 0;
        while (k < n_kinds && strcmp(kind[k], opt)) k++;
        CHECK_MSG(k < MAX_KINDS, "more than %d optimizers in cases.txt", MAX_KINDS);
        if (k == n_kinds) {
            snprintf(kind[k], sizeof kind[k], "%s", opt);
            kind_worst[k] = 0;
            snprintf(kind_case[k], sizeof kind_case[k], "%s", name);
            n_kinds++;
        }
        char ref_path[1200], mine_path[512];
        snprintf(ref_path, sizeof ref_path, "tests/ref/traces/%s.csv", name);
        snprintf(mine_path, sizeof mine_path, "%s", ol_test_path("optimize-trace.csv"));
        char out[4096];
        int rc = ol_test_sh(out, sizeof out, "%s optimize %s --trace %s --quiet --diverge-factor 0", ol_test_bin(), args, mine_path);
        CHECK_MSG(rc == 0, "%s: optlab optimize %s: exit %d: %s", name, args, rc, out);
        ol_csv_table ref, mine;
        CHECK_MSG(ol_csv_read(ref_path, &ref) == 0, "%s: %s (run tests/ref/make_traces.sh)", name, ol_error());
        CHECK_MSG(ol_csv_read(mine_path, &mine) == 0, "%s: %s", name, ol_error());
        CHECK_MSG(ref.n_cols == mine.n_cols && ref.n_rows == mine.n_rows, "%s: %zux%d rows/columns, torch %zux%d", name,
                  mine.n_rows, mine.n_cols, ref.n_rows, ref.n_cols);
        double tol = schedules_19 ? REL_TOL_SCHEDULES_19 : new_in_issue_19(opt) ? REL_TOL_NEW : REL_TOL, case_worst = 0;
        for (size_t r = 0; r < ref.n_rows; r++)
            for (int c = 0; c < ref.n_cols; c++) {
                double a = cell(&mine, r, c), b = cell(&ref, r, c);
                double err = fabs(a - b) / fmax(1.0, fabs(b));
                case_worst = fmax(case_worst, err);
                if (err > worst) {
                    worst = err;
                    snprintf(worst_case, sizeof worst_case, "%s row %zu column %s", name, r, ref.names[c]);
                }
                if (err > kind_worst[k]) {
                    kind_worst[k] = err;
                    snprintf(kind_case[k], sizeof kind_case[k], "%s row %zu column %s", name, r, ref.names[c]);
                }
                CHECK_MSG(err <= tol, "%s: row %zu, %s: optlab %.17g, torch %.17g (relative %.3g > %g)", name, r,
                          ref.names[c], a, b, err, tol);
            }
        if (schedules_19) printf("    %-38s largest relative difference %.3g\n", name, case_worst);
        ol_csv_table_free(&ref);
        ol_csv_table_free(&mine);
        cases++;
    }
    fclose(f);
    CHECK_MSG(cases >= 40, "only %d cases in tests/ref/cases.txt", cases);
    printf("    %d cases agree with torch; largest relative difference %.3g (%s)\n", cases, worst, worst_case);
    for (int k = 0; k < n_kinds; k++)
        printf("    %-9s largest relative difference from torch %.3g (%s)\n", kind[k], kind_worst[k], kind_case[k]);
}
