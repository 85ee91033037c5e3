/* test_hardening_diverge.c: issue 16, divergence that stays finite and what a diverged run leaves.
 * optimize: a bound relative to f(x0) (--diverge-factor), the trace written up to the blow-up, the
 * lr of the step that failed; train: the same lr, the log up to the last epoch, no suggestion of
 * rollbacks once they are used up; lr-find over a range whose ratio overflows a double. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fixtures.h"
#include "optlab/functions.h"
#include "optlab/optim.h"
#include "test.h"

static char out[1 << 16];

/* Runs `optlab ARGS`, returns its exit status, output in out. */
static int optlab(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int optlab(const char *fmt, ...) {
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s", ol_test_bin(), args);
    return ol_test_run(cmd, out, sizeof out);
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* The number after `key` in out (NAN when absent). */
static double number_after(const char *key) {
    const char *p = strstr(out, key);
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

/* Column col of the data row whose first cell is `step` in a CSV file (NAN when absent). */
static double trace_cell(const char *path, long step, int col) {
    FILE *f = fopen(path, "r");
    if (!f) return NAN;
    char line[4096];
    double v = NAN;
    while (fgets(line, sizeof line, f)) {
        char *end;
        if (strtol(line, &end, 10) != step || *end != ',') continue;
        char *p = line;
        for (int c = 0; c < col && p; c++) p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
        if (p) v = strtod(p, NULL);
    }
    fclose(f);
    return v;
}

/* ---- optimize ---- */

TEST(diverge_optimize_a_finite_blow_up_is_a_divergence) {
    /* before: f = 1.6e36 after 100 steps, exit 0 */
    int rc = optlab("optimize --fn rosenbrock --x0 -1.5,2 --opt adam --lr 1e10 --steps 100");
    CHECK_MSG(rc == 1, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "the run diverged") && strstr(out, "above 1.25e+07 = f(x0) + 1e+06 max(|f(x0)|, 1)"), "%s", out);
    /* gd on rastrigin climbed to 1.2e96 in 100 steps, exit 0 */
    rc = optlab("optimize --fn rastrigin --x0 1,2 --opt gd --lr 2 --steps 100 --quiet");
    CHECK_MSG(rc == 1 && strstr(out, "the run diverged"), "exit %d: %s", rc, out);
}

TEST(diverge_optimize_factor_is_settable_and_checked) {
    /* a larger factor lets the same run go further; 0 turns the bound off (only inf/NaN stop) */
    int rc = optlab("optimize --fn quadratic:kappa=1 --x0 1 --opt gd --lr 30 --warmup 20 --steps 100 --diverge-factor 1e9 --quiet");
    CHECK_MSG(rc == 1 && strstr(out, "above 1e+09 = f(x0) + 1e+09"), "exit %d: %s", rc, out);
    rc = optlab("optimize --fn rosenbrock --x0 -1.5,2 --opt adam --lr 1e10 --steps 100 --diverge-factor 0 --quiet");
    CHECK_MSG(rc == 0 && strstr(out, "x = "), "exit %d: %s", rc, out);
    rc = optlab("optimize --fn rosenbrock --x0 -1,1 --opt adam --lr 0.01 --steps 10 --diverge-factor -1 --quiet");
    CHECK_MSG(rc == 2 && strstr(out, "--diverge-factor must be >= 0"), "exit %d: %s", rc, out);
    /* a run that converges is not stopped by the default bound */
    rc = optlab("optimize --fn rosenbrock --x0 -1.5,2 --opt adam --lr 0.05 --steps 200 --quiet");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
}

TEST(diverge_optimize_writes_the_trace_to_the_blow_up_and_names_the_lr_that_step_used) {
    /* warm-up: every step has its own lr. Before: no trace at all (written only on success), and
     * the message named the lr of the step after the failing one */
    const char *trace = ol_test_path("warm.csv");
    int rc = optlab("optimize --fn quadratic:kappa=1 --x0 1 --opt gd --lr 30 --warmup 20 --steps 100 --trace %s", trace);
    CHECK_MSG(rc == 1, "exit %d: %s", rc, out);
    CHECK_MSG(file_exists(trace), "no trace after a divergence: %s", out);
    long step = (long)number_after(" at step ");
    double lr = number_after("(lr ");
    CHECK_MSG(step > 1 && isfinite(lr), "%s", out);
    CHECK_MSG(strstr(out, "; the trace up to it is in "), "%s", out);
    /* row k holds the lr step k+1 uses: the failing step k used row k-1's */
    double used = trace_cell(trace, step - 1, 1), next = trace_cell(trace, step, 1);
    CHECK_MSG(fabs(lr - used) <= 1e-5 * used && fabs(lr - next) > 1e-3 * next,
              "message lr %g; the trace: step %ld used %g, the next %g", lr, step, used, next);
    CHECK_MSG(isfinite(trace_cell(trace, step, 2)) && isnan(trace_cell(trace, step + 1, 2)),
              "the trace should end at the step it blew up at (%ld)", step);
    /* a non-finite f, and a step the optimizer refused: the trace too */
    rc = optlab("optimize --fn rastrigin --x0 1,2 --opt gd --lr 2 --steps 1000 --diverge-factor 0 --trace %s", trace);
    CHECK_MSG(rc == 1 && strstr(out, "gradient norm is inf") && strstr(out, "the trace up to it is in"), "exit %d: %s", rc,
              out);
    CHECK_MSG(isfinite(trace_cell(trace, 322, 2)), "the trace should hold the steps before the refused one");
}

TEST(diverge_optimize_a_start_where_f_overflows_is_a_usage_error) {
    /* before: "f became inf at step 0 (lr 10): the run diverged", exit 1 */
    const char *trace = ol_test_path("start.csv");
    int rc = optlab("optimize --fn rosenbrock --x0 1e100,1 --opt gd --lr 10 --steps 10 --trace %s", trace);
    CHECK_MSG(rc == 2 && strstr(out, "f(x0) is inf: --x0 is too far out"), "exit %d: %s", rc, out);
    CHECK_MSG(!file_exists(trace), "a trace was left for a run that never started");
}

TEST(diverge_fn_minimize_factor_bound_is_relative_to_the_start) {
    ol_objective fn;
    CHECK(ol_fn_create(&fn, "quadratic:kappa=1", 1) == 0);
    fn.x[0] = 2; /* f(x0) = 2: the bound with factor 10 is 2 + 10 * 2 = 22 */
    ol_optim *o;
    CHECK(ol_optim_create(&o, "gd", 3) == 0); /* x <- -2x: f grows 4x a step: 8, 32 */
    CHECK(ol_optim_add_group_f64(o, fn.x, fn.grad, 1, -1, -1) == 0);
    ol_fn_minimize_opts mo = ol_fn_minimize_defaults();
    mo.max_steps = 50;
    mo.diverge_factor = 10;
    ol_fn_minimize_result r;
    int rc = ol_fn_minimize(&fn, o, &mo, &r);
    ol_optim_free(o);
    ol_fn_free(&fn);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(r.outcome, OL_MIN_DIVERGED);
    CHECK_EQ_INT(r.steps, 2);
    CHECK_NEAR(r.diverge_bound, 22, 1e-12);
    CHECK_NEAR(r.f, 32, 1e-12);
}

/* ---- train ---- */

/* A small 4x4, 3-class data set in <tmp>/data (made once). */
static const char *data_dir(void) {
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/data", ol_test_tmpdir());
        if (fixture_make_dataset(dir, 60, 30, 4, 3, 5, 0)) fprintf(stderr, "cannot make %s\n", dir);
    }
    return dir;
}

/* Lines in a file (-1 when it cannot be read). */
static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0, ch;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

TEST(diverge_train_names_the_lr_of_the_step_that_failed_and_writes_the_log) {
    /* lr 1e-10 x 1000 a step: step k uses 1e-10 * 1000^(k-1). Before: the message named the lr of
     * the step after (1000 times larger), and --log was not written at all */
    const char *log = ol_test_path("div.csv");
    int rc = optlab("train --data %s --model mlp:16-8-3 --epochs 5 --batch 10 --threads 1 --quiet --lr 1e-10 "
                    "--schedule exponential:gamma=1000 --log %s", data_dir(), log);
    CHECK_MSG(rc == 1 && strstr(out, "training diverged"), "exit %d: %s", rc, out);
    long step = (long)number_after("after step ");
    double lr = number_after(" with lr ");
    CHECK_MSG(step > 1 && isfinite(lr), "%s", out);
    double expected = 1e-10 * pow(1000, (double)(step - 1));
    CHECK_MSG(fabs(lr - expected) <= 1e-5 * expected, "step %ld used lr %g, the message says %g: %s", step, expected, lr,
              out);
    CHECK_MSG(strstr(out, "; the log up to it is in "), "%s", out);
    long epoch = (long)number_after("(epoch ");
    CHECK_MSG(epoch > 1, "the run should diverge after its first epoch: %s", out);
    CHECK_MSG(count_lines(log) == (int)epoch, "the log should hold its header and the %ld epochs before the divergence, has %d lines",
              epoch - 1, count_lines(log));
}

TEST(diverge_train_does_not_suggest_rollbacks_once_they_are_used_up) {
    /* before: "... or --on-divergence rollback" after two rollbacks of --on-divergence rollback */
    int rc = optlab("train --data %s --model mlp:16-8-3 --epochs 2 --batch 10 --threads 1 --lr 1e30 --on-divergence rollback "
                    "--max-rollbacks 2", data_dir());
    CHECK_MSG(rc == 1, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "rollback 2 of 2") && strstr(out, "the 2 rollbacks of --max-rollbacks are used up"), "%s", out);
    CHECK_MSG(!strstr(out, "or --on-divergence rollback"), "suggests the rollbacks it just used up: %s", out);
    rc = optlab("train --data %s --model mlp:16-8-3 --epochs 2 --batch 10 --threads 1 --lr 1e30 --on-divergence rollback "
                "--max-rollbacks 0 --quiet", data_dir());
    CHECK_MSG(rc == 1 && strstr(out, "--max-rollbacks 0 allows no rollback") && !strstr(out, "or --on-divergence rollback"),
              "exit %d: %s", rc, out);
    /* without rollbacks the suggestion stays */
    rc = optlab("train --data %s --model mlp:16-8-3 --epochs 2 --batch 10 --threads 1 --lr 1e30 --quiet", data_dir());
    CHECK_MSG(rc == 1 && strstr(out, "or --on-divergence rollback"), "exit %d: %s", rc, out);
}

/* ---- lr-find ---- */

TEST(diverge_lrfind_a_range_whose_ratio_overflows_sweeps) {
    /* before: exit 2, "learning rate must be a finite number >= 0, got -nan" (end/start = inf) */
    const char *csv = ol_test_path("lf.csv");
    int rc = optlab("lr-find --data %s --model mlp:16-8-3 --opt sgd --start 1e-300 --end 1e300 --csv %s", data_dir(), csv);
    CHECK_MSG(rc == 0 && strstr(out, "suggested lr") && !strstr(out, "nan"), "exit %d: %s", rc, out);
    double first = trace_cell(csv, 1, 1), second = trace_cell(csv, 2, 1);
    CHECK_MSG(first == 1e-300, "first lr %g", first);
    /* 600 decades in 99 steps: each lr 10^(600/99) times the one before */
    CHECK_NEAR(log10(second / first), 600.0 / 99, 1e-9);
    /* every step of a sweep that does not diverge, up to exactly --end */
    rc = optlab("lr-find --data %s --model mlp:16-8-3 --opt sgd --start 1e-300 --end 1e-200 --steps 10 --csv %s", data_dir(),
                csv);
    CHECK_MSG(rc == 0 && strstr(out, "without diverging"), "exit %d: %s", rc, out);
    CHECK(trace_cell(csv, 10, 1) == 1e-200);
}
