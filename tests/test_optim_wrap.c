/* test_optim_wrap.c: the optimizer wrappers (issue 19, section 2): lookahead and sam by hand and
 * against the independent numpy reference (tests/ref/wrap_optimize.py, committed traces in
 * tests/ref/wrap_traces/), their state saved and loaded bit for bit (C API and a train run killed
 * and resumed), the spec grammar's errors, and the wrappers in train, lr-find and sweep. */
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fixtures.h"
#include "optlab/common.h"
#include "optlab/csv.h"
#include "optlab/functions.h"
#include "optlab/nn.h"
#include "optlab/optim.h"
#include "test.h"

static char out[1 << 16];
#define sh(...) ol_test_sh(out, sizeof out, __VA_ARGS__)
#define tmp ol_test_path

static const char *data_dir(void) {
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/wrap-data", ol_test_tmpdir());
        if (fixture_make_dataset(dir, 600, 100, 8, 4, 31, 0)) fprintf(stderr, "cannot make %s\n", dir);
    }
    return dir;
}

static double cell(const ol_csv_table *t, size_t r, int c) { return t->values[r * (size_t)t->n_cols + (size_t)c]; }

/* ---- formulas ---- */

TEST(wrap_optimize_matches_the_numpy_reference_traces) {
    FILE *f = fopen("tests/ref/wrap_cases.txt", "r");
    if (!f) SKIP("tests/ref/wrap_cases.txt not found: run from the repository root");
    char line[1024];
    int cases = 0;
    double worst = 0;
    char worst_case[1200] = "";
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        char *colon = strchr(line, ':');
        CHECK_MSG(colon && colon[1] == ' ', "bad line in wrap_cases.txt: %s", line);
        *colon = 0;
        const char *name = line, *args = colon + 2;
        char ref_path[1200];
        snprintf(ref_path, sizeof ref_path, "tests/ref/wrap_traces/%s.csv", name);
        const char *mine_path = tmp("wrap-trace.csv");
        int rc = sh("%s optimize %s --trace %s --quiet --diverge-factor 0", ol_test_bin(), args, mine_path);
        CHECK_MSG(rc == 0, "%s: optlab optimize %s: exit %d: %s", name, args, rc, out);
        ol_csv_table ref, mine;
        CHECK_MSG(ol_csv_read(ref_path, &ref) == 0, "%s: %s (run tests/ref/make_wrap_traces.sh)", name, ol_error());
        CHECK_MSG(ol_csv_read(mine_path, &mine) == 0, "%s: %s", name, ol_error());
        CHECK_MSG(ref.n_cols == mine.n_cols && ref.n_rows == mine.n_rows, "%s: %zux%d, reference %zux%d", name,
                  mine.n_rows, mine.n_cols, ref.n_rows, ref.n_cols);
        for (size_t r = 0; r < ref.n_rows; r++)
            for (int c = 0; c < ref.n_cols; c++) {
                double a = cell(&mine, r, c), b = cell(&ref, r, c), err = fabs(a - b) / fmax(1.0, fabs(b));
                if (err > worst) {
                    worst = err;
                    snprintf(worst_case, sizeof worst_case, "%s row %zu column %s", name, r, ref.names[c]);
                }
                CHECK_MSG(err <= 1e-12, "%s: row %zu, %s: optlab %.17g, numpy %.17g (relative %.3g)", name, r,
                          ref.names[c], a, b, err);
            }
        ol_csv_table_free(&ref);
        ol_csv_table_free(&mine);
        cases++;
    }
    fclose(f);
    CHECK_MSG(cases >= 6, "only %d cases in tests/ref/wrap_cases.txt", cases);
    printf("    %d wrapper cases agree with numpy; largest relative difference %.3g (%s)\n", cases, worst, worst_case);
}

/* gd lr 0.1 with a constant gradient 1 from x = 1, lookahead k=2, alpha=0.5: the inner steps go
 * 0.9, 0.8; the sync puts x = phi = 1 + 0.5 (0.8 - 1) = 0.9; then 0.8, 0.7 and phi = 0.8. */
TEST(wrap_lookahead_by_hand) {
    double x = 1, g = 1;
    ol_optim *o;
    CHECK(ol_optim_create(&o, "lookahead:k=2,alpha=0.5,inner=gd", 0.1) == 0);
    CHECK(ol_optim_kind(o) == OL_OPTIM_GD);
    CHECK(ol_optim_needs_closure(o) == 0);
    CHECK(ol_optim_add_group_f64(o, &x, &g, 1, -1, -1) == 0);
    const double want[4] = {0.9, 0.9, 0.8, 0.8};
    for (int i = 0; i < 4; i++) {
        CHECK(ol_optim_step(o) == 0);
        CHECK_MSG(fabs(x - want[i]) < 1e-15, "step %d: x %.17g, by hand %.17g", i + 1, x, want[i]);
    }
    CHECK(ol_optim_step_count(o) == 4);
    ol_optim_free(o);
}

/* f = |x|^2 / 2 (g = x) from (3, 4), sam rho 0.5 over gd lr 0.1: ||g|| = 5, e = 0.5 (3, 4) / 5 =
 * (0.3, 0.4), the gradient at w + e is (3.3, 4.4), x = (3, 4) - 0.1 (3.3, 4.4) = (2.67, 3.56). */
typedef struct {
    double *x, *g;
    int calls;
} quad;
static int quad_closure(void *userdata, double *f) {
    quad *q = userdata;
    q->g[0] = q->x[0], q->g[1] = q->x[1];
    *f = 0.5 * (q->x[0] * q->x[0] + q->x[1] * q->x[1]);
    q->calls++;
    return OL_OK;
}

TEST(wrap_sam_by_hand) {
    double x[2] = {3, 4}, g[2] = {3, 4};
    quad q = {x, g, 0};
    ol_optim *o;
    CHECK(ol_optim_create(&o, "sam:rho=0.5,inner=gd", 0.1) == 0);
    CHECK(ol_optim_needs_closure(o) == 1);
    CHECK(ol_optim_add_group_f64(o, x, g, 2, -1, -1) == 0);
    CHECK_MSG(ol_optim_step(o) == OL_ESTATE && strstr(ol_error(), "closure"), "%s", ol_error());
    CHECK(x[0] == 3 && x[1] == 4);
    ol_optim_set_closure(o, quad_closure, &q);
    CHECK(ol_optim_step(o) == 0);
    /* to rounding: rho / (||g|| + 1e-12) and the sums are not exact in binary */
    CHECK_MSG(fabs(x[0] - 2.67) < 1e-14 && fabs(x[1] - 3.56) < 1e-14, "x (%.17g, %.17g), by hand (2.67, 3.56)", x[0], x[1]);
    double x0 = x[0];
    CHECK(q.calls == 1 && ol_optim_evaluations(o) == 1);
    g[0] = NAN;   /* a non-finite gradient: refused, x unchanged */
    CHECK(ol_optim_step(o) == OL_ENUMERIC && x[0] == x0 && q.calls == 1);
    ol_optim_free(o);
}

/* ol_fn_minimize's best f is over the iterates: sam's ascent points are not iterates. Rastrigin in
 * 1-D from x = 0.4 (f 18.25), rho 0.6 ascends to x = 1.0 (f 1); with lr 0 the iterate stays at 0.4. */
TEST(wrap_minimize_best_ignores_sams_ascent_points) {
    ol_objective fn;
    CHECK(ol_fn_create(&fn, "rastrigin", 1) == 0);
    fn.x[0] = 0.4;
    double f0 = ol_fn_eval(&fn, 0);
    ol_optim *o;
    CHECK(ol_optim_create(&o, "sam:rho=0.6,inner=gd", 0) == 0);
    CHECK(ol_optim_add_group_f64(o, fn.x, fn.grad, 1, -1, -1) == 0);
    ol_fn_minimize_opts opts = ol_fn_minimize_defaults();
    opts.max_steps = 3;
    ol_fn_minimize_result r;
    CHECK(ol_fn_minimize(&fn, o, &opts, &r) == 0);
    CHECK(ol_optim_evaluations(o) == 3);
    CHECK_MSG(r.best == f0, "best %.17g, the iterates' f %.17g", r.best, f0);
    ol_optim_free(o);
    ol_fn_free(&fn);
}

/* ---- state ---- */

/* float32 parameters, f = |x|^2 / 2; steps with the closure's gradient computed before each */
static void run_steps(ol_optim *o, float *x, float *g, int n, int steps) {
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < n; i++) g[i] = x[i] * (1 + 0.1f * (float)i);
        CHECK(ol_optim_step(o) == 0);
    }
}
static int fclosure_n = 8;
static int float_closure(void *userdata, double *f) {
    float **xg = userdata;
    for (int i = 0; i < fclosure_n; i++) xg[1][i] = xg[0][i] * (1 + 0.1f * (float)i);
    *f = 0;
    return OL_OK;
}

TEST(wrap_state_save_and_load_resume_bit_exactly) {
    const char *spec = "lookahead:k=3,alpha=0.6,inner=sam:rho=0.05,inner=adam:beta1=0.8";
    float x1[8], g1[8], x2[8], g2[8];
    for (int i = 0; i < 8; i++) x1[i] = x2[i] = 1.0f - 0.3f * (float)i;
    float *xg1[2] = {x1, g1}, *xg2[2] = {x2, g2};
    ol_optim *a, *b, *c;
    CHECK(ol_optim_create(&a, spec, 0.05) == 0 && ol_optim_create(&b, spec, 0.05) == 0);
    CHECK(ol_optim_add_group(a, x1, g1, 8, -1, -1) == 0 && ol_optim_add_group(b, x2, g2, 8, -1, -1) == 0);
    CHECK(ol_optim_set_schedule(a, "cosine:t_max=20", 3) == 0 && ol_optim_set_schedule(b, "cosine:t_max=20", 3) == 0);
    ol_optim_set_closure(a, float_closure, xg1);
    ol_optim_set_closure(b, float_closure, xg2);
    run_steps(a, x1, g1, 8, 13);
    run_steps(b, x2, g2, 8, 7);   /* 7: one step into a lookahead cycle */
    size_t len = ol_optim_state_size(b);
    unsigned char *buf = malloc(len);
    CHECK(buf && ol_optim_state_save(b, buf, len) == 0);
    ol_optim_free(b);
    CHECK(ol_optim_create(&c, spec, 0.05) == 0 && ol_optim_add_group(c, x2, g2, 8, -1, -1) == 0);
    CHECK(ol_optim_set_schedule(c, "cosine:t_max=20", 3) == 0);
    ol_optim_set_closure(c, float_closure, xg2);
    CHECK_MSG(ol_optim_state_load(c, buf, len) == 0, "%s", ol_error());
    run_steps(c, x2, g2, 8, 6);
    CHECK_MSG(!memcmp(x1, x2, sizeof x1), "resumed x differs: %.9g vs %.9g", x1[0], x2[0]);
    /* another wrapper chain, or none, refuses the state and keeps its own */
    ol_optim *d, *e;
    CHECK(ol_optim_create(&d, "sam:rho=0.05,inner=lookahead:k=3,alpha=0.6,inner=adam:beta1=0.8", 0.05) == 0);
    CHECK(ol_optim_add_group(d, x2, g2, 8, -1, -1) == 0 && ol_optim_set_schedule(d, "cosine:t_max=20", 3) == 0);
    CHECK_MSG(ol_optim_state_load(d, buf, len) == OL_EFORMAT && strstr(ol_error(), "wrappers"), "%s", ol_error());
    CHECK(ol_optim_create(&e, "adam:beta1=0.8", 0.05) == 0 && ol_optim_add_group(e, x2, g2, 8, -1, -1) == 0);
    CHECK(ol_optim_set_schedule(e, "cosine:t_max=20", 3) == 0);
    CHECK(ol_optim_state_load(e, buf, len) == OL_EFORMAT);
    buf[len - 6] ^= 1;   /* inside the wrappers' part: its checksum */
    CHECK_MSG(ol_optim_state_load(c, buf, len) == OL_EFORMAT && strstr(ol_error(), "checksum"), "%s", ol_error());
    free(buf);
    ol_optim_free(a), ol_optim_free(c), ol_optim_free(d), ol_optim_free(e);
}

/* gd lr 0.1, gradient 1, x = 1, ema decay 0.5: x goes 0.9, 0.8, 0.7; the average copies the first
 * (0.9), then 0.5 0.9 + 0.5 0.8 = 0.85, then 0.5 0.85 + 0.5 0.7 = 0.775 */
TEST(wrap_ema_by_hand_and_swapped_exactly) {
    double x = 1, g = 1;
    ol_optim *o;
    CHECK(ol_optim_create(&o, "gd", 0.1) == 0);
    CHECK(ol_optim_set_ema(o, 1) == OL_EARG && ol_optim_set_ema(o, 0) == OL_EARG);
    CHECK(ol_optim_set_ema(o, 0.5) == 0);
    CHECK(ol_optim_set_ema(o, 0.5) == OL_ESTATE);
    CHECK(ol_optim_add_group_f64(o, &x, &g, 1, -1, -1) == 0);
    CHECK(*(const double *)ol_optim_average(o, 0) == 1);
    const double want[3] = {0.9, 0.85, 0.775};
    for (int i = 0; i < 3; i++) {
        CHECK(ol_optim_step(o) == 0);
        double e = *(const double *)ol_optim_average(o, 0);
        CHECK_MSG(fabs(e - want[i]) < 1e-15, "step %d: ema %.17g, by hand %.17g", i + 1, e, want[i]);
    }
    double before = x, avg = *(const double *)ol_optim_average(o, 0);
    CHECK(ol_optim_swap_average(o) == 0 && x == avg);
    CHECK(ol_optim_swap_average(o) == 0 && x == before);
    ol_optim_free(o);
}

/* train --ema D --batch full: the saved model after two steps is D x1 + (1 - D) x2 (x1, x2 the
 * weights after the first and second step of the same run without --ema), and eval of it gives the
 * final line's test loss */
TEST(wrap_train_ema_saves_and_evaluates_the_average) {
    const char *m1 = tmp("ema-x1.bin"), *m2 = tmp("ema-x2.bin"), *me = tmp("ema-avg.bin");
    const char *common = "--model mlp:64-16-4 --opt sgd:momentum=0.9 --lr 0.5 --batch full --seed 4 --threads 1 --quiet";
    CHECK(sh("%s train --data %s %s --epochs 1 --save %s", ol_test_bin(), data_dir(), common, m1) == 0);
    CHECK(sh("%s train --data %s %s --epochs 2 --save %s", ol_test_bin(), data_dir(), common, m2) == 0);
    CHECK_MSG(sh("%s train --data %s %s --epochs 2 --ema 0.75 --save %s", ol_test_bin(), data_dir(), common, me) == 0,
              "%s", out);
    char final_line[256];
    snprintf(final_line, sizeof final_line, "%s", strstr(out, "test loss") ? strstr(out, "test loss") : "");
    ol_mlp a, b, e;
    CHECK(ol_mlp_load(&a, m1) == 0 && ol_mlp_load(&b, m2) == 0 && ol_mlp_load(&e, me) == 0);
    size_t bad = 0;
    for (size_t i = 0; i < e.n_params; i++)
        if (e.params[i] != (float)(0.75 * (double)a.params[i] + 0.25 * (double)b.params[i])) bad++;
    CHECK_MSG(bad == 0 && e.n_params > 0, "%zu of %zu weights are not 0.75 x1 + 0.25 x2", bad, e.n_params);
    ol_mlp_free(&a), ol_mlp_free(&b), ol_mlp_free(&e);
    CHECK(sh("%s eval --data %s --model %s", ol_test_bin(), data_dir(), me) == 0);
    char loss[32] = "";
    const char *at = strstr(final_line, "test loss ");
    if (at) sscanf(at + 10, "%31s", loss);
    char want[64];
    snprintf(want, sizeof want, "test loss %s", loss);
    CHECK_MSG(loss[0] && strstr(out, want), "train said '%s', eval: %s", final_line, out);
}

/* a train run with lookahead over sam, cosine with warm-up, --ema, killed by SIGKILL at a random moment
 * once a checkpoint exists, resumes to the uninterrupted run's bytes */
#define WRAP_RUN "--model mlp:64-16-4 --opt lookahead:k=5,alpha=0.5,inner=sam:rho=0.05,inner=sgd:momentum=0.9 " \
                 "--lr 0.05 --batch 20 --schedule cosine:t_max=120 --warmup 10 --ema 0.95 --seed 3 --threads 1 --quiet"
TEST(wrap_train_sigkill_and_resume_gives_identical_bytes) {
    const char *full = tmp("wrap-full.bin"), *ck = tmp("wrap.ckpt"), *res = tmp("wrap-resumed.bin");
    remove(ck);
    int rc = sh("%s train --data %s " WRAP_RUN " --epochs 4 --save %s", ol_test_bin(), data_dir(), full);
    CHECK_MSG(rc == 0, "uninterrupted run failed: %s", out);
    srand((unsigned)time(NULL));
    double delay = (rand() % 100) / 1000.0;
    sh("%s train --data %s " WRAP_RUN " --epochs 4 --checkpoint %s --checkpoint-every 7 & pid=$!; "
       "while [ ! -f %s ] && kill -0 $pid 2>/dev/null; do sleep 0.002; done; sleep %.3f; kill -9 $pid 2>/dev/null; "
       "wait $pid; echo exit=$?", ol_test_bin(), data_dir(), ck, ck, delay);
    struct stat st;
    CHECK_MSG(stat(ck, &st) == 0, "no checkpoint was written: %s", out);
    rc = sh("%s train --resume %s --data %s --save %s --quiet", ol_test_bin(), ck, data_dir(), res);
    CHECK_MSG(rc == 0, "resume failed (%d): %s", rc, out);
    CHECK_MSG(ol_test_same_file(full, res), "the resumed model differs from the uninterrupted one (killed after %.3f s)", delay);
    /* a checkpoint in the middle of a lookahead cycle, resumed: step 7 = 5 + 2 */
    remove(ck);
    rc = sh("%s train --data %s " WRAP_RUN " --epochs 1 --checkpoint %s --checkpoint-every 7", ol_test_bin(), data_dir(), ck);
    CHECK_MSG(rc == 0, "%s", out);
    rc = sh("%s train --resume %s --data %s --epochs 4 --save %s --quiet", ol_test_bin(), ck, data_dir(), res);
    CHECK_MSG(rc == 0 && ol_test_same_file(full, res), "resumed after epoch 1 (%d): %s", rc, out);
}

/* ---- the commands ---- */

TEST(wrap_bad_specs_exit_2_with_what_to_fix) {
    static const struct { const char *spec, *msg; } cases[] = {
        {"lookahead", "no inner optimizer: give it last, as inner=SPEC"},
        {"sam:rho=0.1", "no inner optimizer"},
        {"lookahead:k=0,inner=sgd", "k: 0 is out of range"},
        {"lookahead:alpha=1.5,inner=sgd", "alpha must be in (0, 1]"},
        {"sam:rho=0,inner=sgd", "rho must be a finite number > 0"},
        {"sam:rho=0.1,inner=lbfgs", "sam cannot wrap lbfgs"},
        {"lookahead:inner=random", "lookahead cannot wrap random"},
        {"lookahead:beta=1,inner=sgd", "unknown key 'beta' for 'lookahead'"},
        {"lookahead:inner=adamm", "unknown optimizer 'adamm'"},
        {"lookahead:inner=lookahead:inner=lookahead:inner=lookahead:inner=lookahead:inner=sgd", "more than 4 wrappers"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = sh("%s optimize --fn rosenbrock --x0 -1,1 --opt '%s' --lr 0.01 --steps 3", ol_test_bin(), cases[i].spec);
        CHECK_MSG(rc == 2 && strstr(out, cases[i].msg), "%s: exit %d: %s", cases[i].spec, rc, out);
    }
    /* the deepest allowed nesting works */
    int rc = sh("%s optimize --fn rosenbrock --x0 -1,1 --opt lookahead:inner=sam:inner=lookahead:k=2,inner=sam:inner=sgd "
                "--lr 0.001 --steps 3 --quiet", ol_test_bin());
    CHECK_MSG(rc == 0, "%s", out);
}

TEST(wrap_train_lr_find_sweep_and_help) {
    int rc = sh("%s train --data %s --model mlp:64-16-4 --opt sam:rho=0.05,inner=sgd:momentum=0.9 --lr 0.05 --batch 50 "
                "--epochs 1 --threads 1", ol_test_bin(), data_dir());
    CHECK_MSG(rc == 0 && strstr(out, "epoch 1/1"), "train: %d: %s", rc, out);
    rc = sh("%s lr-find --data %s --model mlp:64-16-4 --opt lookahead:k=3,inner=adam --steps 30 --batch 50 --threads 1 "
            "--csv %s", ol_test_bin(), data_dir(), tmp("lrf.csv"));
    CHECK_MSG(rc == 0, "lr-find: %d: %s", rc, out);
    rc = sh("%s sweep --data %s --model mlp:64-16-4 --grid 'opt=lookahead:k=3,alpha=0.5,inner=sgd:momentum=0.9/"
            "sam:rho=0.1,inner=sgd,lr=0.05,batch=50,ema=0.9' --epochs 1 --threads 1 --out %s", ol_test_bin(), data_dir(),
            tmp("sweep"));
    CHECK_MSG(rc == 0 && strstr(out, "lookahead:k=3,alpha=0.5,inner=sgd:momentum=0.9") && strstr(out, "sam:rho=0.1,inner=sgd"),
              "sweep: %d: %s", rc, out);
    rc = sh("%s train --help", ol_test_bin());
    CHECK_MSG(strstr(out, "lookahead") && strstr(out, "sam") && strstr(out, "inner=SPEC"), "%s", out);
}

/* ---- --accumulate ---- */

#define ACC_RUN "--model mlp:64-16-4 --opt sgd:momentum=0.9 --lr 0.1 --schedule step:step_size=5,gamma=0.5 --seed 2 --threads 1 --quiet"

/* The epochs' step and lr columns of a log (the schedule stepped per optimizer step). */
static void log_steps_lrs(const char *path, char *buf, size_t cap) {
    ol_csv_table t;
    buf[0] = 0;
    if (ol_csv_read(path, &t)) return;
    size_t len = 0;
    for (size_t r = 0; r < t.n_rows && len < cap; r++)
        len += (size_t)snprintf(buf + len, cap - len, "%.0f:%.9g ", cell(&t, r, 1), cell(&t, r, 2));
    ol_csv_table_free(&t);
}

/* --accumulate 4 --batch 15 against --batch 60 (600 examples: 10 equal steps an epoch): the same
 * steps, schedule and, to float rounding, weights. Not bitwise: each micro-batch's gradient is a
 * sum over its 15 rows, added up in double across the four, where batch 60 sums its 60 rows in one
 * float reduction; after 20 steps the weights agree to about 1e-5 relative (the bound below is 1e-4). */
TEST(wrap_accumulate_equals_the_large_batch_to_float_rounding) {
    const char *big = tmp("acc-b60.bin"), *acc = tmp("acc-a4.bin"), *lb = tmp("acc-b60.csv"), *la = tmp("acc-a4.csv");
    CHECK(sh("%s train --data %s " ACC_RUN " --epochs 2 --batch 60 --save %s --log %s", ol_test_bin(), data_dir(), big, lb) == 0);
    CHECK_MSG(sh("%s train --data %s " ACC_RUN " --epochs 2 --batch 15 --accumulate 4 --save %s --log %s", ol_test_bin(),
                 data_dir(), acc, la) == 0, "%s", out);
    CHECK_MSG(strstr(out, "20 steps"), "%s", out);
    char sb[512], sa[512];
    log_steps_lrs(lb, sb, sizeof sb);
    log_steps_lrs(la, sa, sizeof sa);
    CHECK_MSG(sb[0] && !strcmp(sb, sa), "steps and lr per epoch: batch 60 '%s', accumulate '%s'", sb, sa);
    ol_mlp a, b;
    CHECK(ol_mlp_load(&a, big) == 0 && ol_mlp_load(&b, acc) == 0);
    double worst = 0;
    for (size_t i = 0; i < a.n_params; i++)
        worst = fmax(worst, fabs((double)a.params[i] - b.params[i]) / fmax(1e-2, fabs((double)a.params[i])));
    CHECK_MSG(worst < 1e-4 && worst > 0, "largest relative difference of the weights %.3g", worst);
    printf("    accumulate 4 x 15 vs batch 60: largest relative weight difference %.3g\n", worst);
    ol_mlp_free(&a), ol_mlp_free(&b);
    /* --accumulate 1 is the plain run, bit for bit */
    const char *one = tmp("acc-1.bin"), *plain = tmp("acc-plain.bin");
    CHECK(sh("%s train --data %s " ACC_RUN " --epochs 1 --batch 15 --accumulate 1 --save %s", ol_test_bin(), data_dir(), one) == 0);
    CHECK(sh("%s train --data %s " ACC_RUN " --epochs 1 --batch 15 --save %s", ol_test_bin(), data_dir(), plain) == 0);
    CHECK(ol_test_same_file(one, plain));
}

/* a checkpoint at an optimizer-step boundary in the middle of an epoch (step 9 of 10, 36 of the 40
 * micro-batches of 16, 8 left) resumes to the uninterrupted run's bytes */
TEST(wrap_accumulate_resumes_bit_exactly) {
    const char *full = tmp("acc-full.bin"), *ck = tmp("acc.ckpt"), *res = tmp("acc-res.bin");
    CHECK(sh("%s train --data %s " ACC_RUN " --epochs 2 --batch 16 --accumulate 4 --ema 0.9 --save %s", ol_test_bin(),
             data_dir(), full) == 0);
    remove(ck);
    CHECK(sh("%s train --data %s " ACC_RUN " --epochs 1 --batch 16 --accumulate 4 --ema 0.9 --checkpoint %s "
             "--checkpoint-every 3", ol_test_bin(), data_dir(), ck) == 0);
    int rc = sh("%s train --resume %s --data %s --epochs 2 --save %s", ol_test_bin(), ck, data_dir(), res);
    CHECK_MSG(rc == 0 && strstr(out, "step 9"), "%d: %s", rc, out);
    CHECK_MSG(ol_test_same_file(full, res), "the resumed model differs from the uninterrupted one");
}

TEST(wrap_train_flags_bad_values_exit_2) {
    static const struct { const char *args, *msg; } cases[] = {
        {"--accumulate 0", "--accumulate: 0 is out of range [1, 1000000]"},
        {"--accumulate 4 --batch full", "has one micro-batch an epoch to add up"},
        {"--accumulate 2 --opt sam:inner=sgd", "sam evaluates the loss again on its step's batch"},
        {"--ema 1", "--ema must be in (0, 1)"},
        {"--ema 0.9 --opt asgd --eval-average", "--ema and --eval-average both pick the weights"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = sh("%s train --data %s --model mlp:64-16-4 --epochs 1 %s", ol_test_bin(), data_dir(), cases[i].args);
        CHECK_MSG(rc == 2 && strstr(out, cases[i].msg), "%s: exit %d: %s", cases[i].args, rc, out);
    }
}

/* float32 state below FLT_MIN is stored as 0 (src/flush.h): lookahead's slow weights halving
 * toward x = 0, and an ema decaying toward it, pass from >= FLT_MIN straight to 0 */
TEST(wrap_float32_state_is_flushed_below_flt_min) {
    static const char *const specs[2] = {"lookahead:k=1,alpha=0.5,inner=gd", "gd"};
    for (int v = 0; v < 2; v++) {
        float x = 8 * FLT_MIN, g = 0;
        ol_optim *o;
        CHECK(ol_optim_create(&o, specs[v], 1) == 0);
        if (v == 1) CHECK(ol_optim_set_ema(o, 0.5) == 0);
        CHECK(ol_optim_add_group(o, &x, &g, 1, -1, -1) == 0);
        CHECK(ol_optim_step(o) == 0);   /* the slow weights / the average start at 8 FLT_MIN */
        int subnormal = 0, zero = 0;
        for (int s = 0; s < 10; s++) {
            g = x;   /* x -> 0 */
            CHECK(ol_optim_step(o) == 0);
            float state = v == 0 ? x : *(const float *)ol_optim_average(o, 0);
            if (state != 0 && fabsf(state) < FLT_MIN) subnormal++;
            if (state == 0) zero = 1;
        }
        CHECK_MSG(!subnormal && zero, "%s: %d subnormal values, reached 0: %d", v ? "ema" : "lookahead", subnormal, zero);
        ol_optim_free(o);
    }
}
