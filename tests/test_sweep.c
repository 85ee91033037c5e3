/* test_sweep.c: `optlab sweep` (src/sweep.c): the grid syntax (specs with ',' and ':', lists inside
 * specs), the pruning rules on their own, and end to end on small generated data: a 12-trial sweep
 * with diverging and failing trials, its results.csv and index.html, a restart that skips finished
 * trials (also after SIGKILL), median pruning, successive halving, a foreign --out refused, and the
 * same sweep over 2 MPI ranks (when built with MPI). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures.h"
#include "optlab/common.h"
#include "optlab/dist.h"
#include "optlab/csv.h"
#include "optlab/rng.h"
#include "optlab/sweep.h"
#include "optlab/sweep_grid.h"
#include "test.h"

static char out[1 << 16];

static const char *data_dir(void) {
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/sweep-data", ol_test_tmpdir());
        if (fixture_make_dataset(dir, 600, 200, 8, 4, 31, 1)) fprintf(stderr, "cannot make %s\n", dir);
    }
    return dir;
}

/* a command into `out` */
#define sh(...) ol_test_sh(out, sizeof out, __VA_ARGS__)

#define tmp ol_test_path

/* The results.csv of dir as text lines without the seconds column; rows counted in *rows. */
static int read_results(const char *dir, char *text, size_t cap, int *rows) {
    char path[600];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t len = fread(text, 1, cap - 1, f);
    text[len] = 0;
    fclose(f);
    *rows = -1;
    for (char *c = text; *c; c++) *rows += *c == '\n';
    return 0;
}

/* The status column of trial id in dir's results (via the trial's file). */
static const char *status_of(const char *dir, const char *id) {
    static char status[32];
    char path[600], line[2048];
    snprintf(path, sizeof path, "%s/trials/%s.txt", dir, id);
    status[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return "(none)";
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "status=", 7)) snprintf(status, sizeof status, "%.*s", (int)strcspn(line + 7, "\n"), line + 7);
    fclose(f);
    return status;
}

static long epochs_of(const char *dir, const char *id) {
    char path[600], line[2048];
    snprintf(path, sizeof path, "%s/trials/%s.txt", dir, id);
    FILE *f = fopen(path, "r");
    long e = -1;
    if (!f) return e;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "epochs=", 7)) e = atol(line + 7);
    fclose(f);
    return e;
}

/* ---- the grid ---- */

static int cmp_size_t(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

TEST(sweep_grid_splits_parameters_at_known_names_and_values_at_slashes) {
    ol_sweep_grid g;
    CHECK_MSG(ol_sweep_grid_parse(&g, "opt=sgd:momentum=0.9/adam,lr=0.01/0.1/1,batch=32/128") == 0, "%s", ol_error());
    CHECK_EQ_INT(g.n_params, 3);
    CHECK(!strcmp(g.name[0], "opt") && !strcmp(g.name[1], "lr") && !strcmp(g.name[2], "batch"));
    CHECK_EQ_INT(g.n_values[0], 2);
    CHECK(!strcmp(g.value[0][0], "sgd:momentum=0.9") && !strcmp(g.value[0][1], "adam"));
    CHECK_EQ_INT(g.n_values[1], 3);
    CHECK(!strcmp(g.value[1][2], "1"));
    CHECK_EQ_INT(ol_sweep_grid_count(&g), 12);
    int idx[OL_SWEEP_MAX_PARAMS];
    ol_sweep_grid_setting(&g, 7, idx); /* 7 = 1*6 + 0*2 + 1: adam, lr 0.01, batch 128 */
    CHECK(idx[0] == 1 && idx[1] == 0 && idx[2] == 1);
}

TEST(sweep_grid_keeps_commas_and_number_lists_inside_specs) {
    ol_sweep_grid g;
    CHECK_MSG(ol_sweep_grid_parse(&g, "opt=sgd:momentum=0.9,nesterov=1/adam:beta1=0.8,eps=1e-6,"
                                      "schedule=multistep:milestones=2/4,gamma=0.5/cosine:t_max=10,lr=0.1") == 0,
              "%s", ol_error());
    CHECK_EQ_INT(g.n_params, 3);
    CHECK(!strcmp(g.value[0][0], "sgd:momentum=0.9,nesterov=1"));
    CHECK(!strcmp(g.value[0][1], "adam:beta1=0.8,eps=1e-6"));
    CHECK(!strcmp(g.name[1], "schedule"));
    CHECK_EQ_INT(g.n_values[1], 2);
    CHECK(!strcmp(g.value[1][0], "multistep:milestones=2/4,gamma=0.5"));
    CHECK(!strcmp(g.value[1][1], "cosine:t_max=10"));
    CHECK(!strcmp(g.name[2], "lr") && g.n_values[2] == 1);
}

TEST(sweep_grid_rejects_unknown_names_bad_specs_and_empty_values) {
    ol_sweep_grid g;
    CHECK(ol_sweep_grid_parse(&g, "momentum=0.9/0.99") == OL_EARG);
    CHECK_MSG(strstr(ol_error(), "momentum") && strstr(ol_error(), "opt, lr"), "%s", ol_error());
    CHECK(ol_sweep_grid_parse(&g, "opt=adamm/sgd") == OL_EARG);
    CHECK_MSG(strstr(ol_error(), "adamm"), "%s", ol_error());
    CHECK(ol_sweep_grid_parse(&g, "lr=0.1//1") == OL_EARG);
    CHECK(ol_sweep_grid_parse(&g, "lr=0.1,lr=1") == OL_EARG);
    CHECK(ol_sweep_grid_parse(&g, "lr=abc") == OL_EARG);
    CHECK(ol_sweep_grid_parse(&g, "batch=0") == OL_EARG);
    CHECK(ol_sweep_grid_parse(&g, "") == OL_EARG);
    CHECK(ol_sweep_grid_parse(&g, "batch=full/64,normalize=0/1,sampler=iid") == 0);
}

/* ---- the pruning rules ---- */

/* The draw is the first n of a Fisher-Yates shuffle, exactly as the whole grid shuffled in memory
 * gave it (so a --random sweep started by an older optlab resumes to the same trials), and it never
 * lists the grid: 2^40 settings would be 8 TiB of setting numbers. */
TEST(sweep_random_draws_are_the_dense_shuffle_without_listing_the_grid) {
    enum { COUNT = 1000, N = 137 };
    size_t dense[COUNT], drawn[N];
    for (size_t i = 0; i < COUNT; i++) dense[i] = i;
    ol_rng rng;
    ol_rng_seed(&rng, 5);
    for (size_t i = 0; i < N; i++) {
        size_t j = i + (size_t)ol_rng_below(&rng, COUNT - i), t = dense[i];
        dense[i] = dense[j], dense[j] = t;
    }
    qsort(dense, N, sizeof *dense, cmp_size_t);
    CHECK(ol_sweep_grid_draw(COUNT, N, 5, drawn) == OL_OK);
    for (size_t i = 0; i < N; i++) CHECK_MSG(drawn[i] == dense[i], "draw %zu: %zu, the dense shuffle %zu", i, drawn[i], dense[i]);
    /* all of a small grid: a permutation, sorted */
    CHECK(ol_sweep_grid_draw(10, 10, 9, drawn) == OL_OK);
    for (size_t i = 0; i < 10; i++) CHECK(drawn[i] == i);
    /* a huge grid: distinct, in range, the same again */
    static size_t big[5000], again[5000];
    size_t count = (size_t)1 << 40;
    CHECK(ol_sweep_grid_draw(count, 5000, 3, big) == OL_OK);
    CHECK(ol_sweep_grid_draw(count, 5000, 3, again) == OL_OK);
    for (size_t i = 0; i < 5000; i++) {
        CHECK(big[i] < count && big[i] == again[i]);
        if (i) CHECK_MSG(big[i] > big[i - 1], "draws %zu and %zu: %zu, %zu", i - 1, i, big[i - 1], big[i]);
    }
}

TEST(sweep_median_rule_prunes_only_worse_than_the_median_after_enough_trials) {
    double done[] = {0.5, 0.3, 0.9, NAN};
    CHECK(ol_sweep_prune_median(0.6, done, 4, 3) == 1);  /* median of 0.3, 0.5, 0.9 is 0.5 */
    CHECK(ol_sweep_prune_median(0.5, done, 4, 3) == 0);
    CHECK(ol_sweep_prune_median(0.1, done, 4, 3) == 0);
    CHECK(ol_sweep_prune_median(0.6, done, 4, 4) == 0);  /* 3 finite < 4 needed */
    CHECK(ol_sweep_prune_median(NAN, done, 4, 1) == 1);  /* a NaN loss is worse than anything */
    CHECK(ol_sweep_prune_median(0.45, done, 2, 1) == 1); /* median of 0.5, 0.3 is 0.4 */
}

TEST(sweep_halving_rungs_end_at_the_epochs_and_shrink_by_eta) {
    long r[16];
    int n = ol_sweep_prune_halving_rungs(9, 27, 3, r, 16);
    CHECK(n == 3 && r[0] == 1 && r[1] == 3 && r[2] == 9);
    n = ol_sweep_prune_halving_rungs(3, 9, 3, r, 16);
    CHECK(n == 2 && r[0] == 1 && r[1] == 3);
    n = ol_sweep_prune_halving_rungs(9, 4, 3, r, 16); /* 4 trials: one halving only */
    CHECK(n == 2 && r[0] == 3 && r[1] == 9);
    n = ol_sweep_prune_halving_rungs(1, 100, 3, r, 16);
    CHECK(n == 1 && r[0] == 1);
}

/* ---- end to end ---- */

#define SWEEP_FLAGS "--data %s --model mlp:64-16-4 --epochs 2 --quiet"

TEST(sweep_records_diverged_and_failed_trials_and_goes_on) {
    const char *dir = tmp("sweep12");
    /* lr 1e30 diverges; the model with 100 inputs does not fit the 8x8 images: it fails */
    int rc = sh("%s sweep --grid 'opt=sgd:momentum=0.9/adam,lr=0.01/1e30,model=mlp:64-16-4/mlp:100-16-4,batch=32' --jobs 2 "
                "--out %s " SWEEP_FLAGS,
                ol_test_bin(), dir, data_dir());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "8 trials (2 ok, 0 pruned, 2 diverged, 4 failed"), "%s", out);
    char text[1 << 14];
    int rows;
    CHECK(read_results(dir, text, sizeof text, &rows) == 0);
    CHECK_EQ_INT(rows, 8);
    const char *header = "trial,opt,lr,model,batch,seed,status,epochs,final_val_loss,final_val_acc,best_val_loss,best_val_acc,"
                         "best_epoch,test_loss,test_acc,seconds,message\n";
    CHECK_MSG(!strncmp(text, header, strlen(header)), "%s", text);
    CHECK(!strcmp(status_of(dir, "0001"), "ok"));
    CHECK(!strcmp(status_of(dir, "0002"), "failed"));
    CHECK(!strcmp(status_of(dir, "0003"), "diverged"));
    CHECK_MSG(strstr(text, "expects 100 inputs"), "the failure's message is not in results.csv: %s", text);
    char path[600];
    snprintf(path, sizeof path, "%s/index.html", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size > 2000);
}

TEST(sweep_run_again_skips_finished_trials_and_runs_only_the_missing_one) {
    const char *dir = tmp("again");
    const char *grid = "opt=sgd/adam,lr=0.01/0.1/1,batch=32/128";
    int rc = sh("%s sweep --grid '%s' --jobs 2 --out %s " SWEEP_FLAGS, ol_test_bin(), grid, dir, data_dir());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    char before[1 << 14], after[1 << 14], path[600];
    int rows;
    CHECK(read_results(dir, before, sizeof before, &rows) == 0);
    CHECK_EQ_INT(rows, 12);
    /* as if killed before trial 0007 was recorded */
    snprintf(path, sizeof path, "%s/trials/0007.txt", dir);
    CHECK(remove(path) == 0);
    rc = sh("%s sweep --grid '%s' --jobs 2 --out %s --data %s --model mlp:64-16-4 --epochs 2", ol_test_bin(), grid, dir, data_dir());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "11 of 12 trials finished before: skipping them"), "%s", out);
    CHECK_MSG(strstr(out, "[1/1] 0007"), "trial 0007 was not the one run: %s", out);
    CHECK(read_results(dir, after, sizeof after, &rows) == 0);
    /* its log was complete (it had trained; only its result was missing): the same numbers */
    CHECK_MSG(!strcmp(before, after), "results.csv changed:\n%s\n%s", before, after);
}

TEST(sweep_killed_with_sigkill_and_run_again_skips_what_finished) {
    const char *dir = tmp("killed");
    const char *grid = "opt=sgd:momentum=0.9/adam,lr=0.003/0.03/0.3,batch=16/64";
    char args[2048];
    snprintf(args, sizeof args, "sweep --grid '%s' --jobs 2 --out %s --data %s --model mlp:64-16-4 --epochs 4", grid, dir,
             data_dir());
    /* kill -9 once two trials have finished (the trials get SIGTERM from the kernel and checkpoint) */
    sh("(exec %s %s > %s/killed.out 2>&1) & pid=$!; t=0; "
       "while [ $(ls %s/trials/*.txt 2>/dev/null | wc -l) -lt 2 ] && kill -0 $pid 2>/dev/null && [ $t -lt 3000 ]; do sleep 0.01; t=$((t+1)); done; "
       "kill -9 $pid; wait $pid 2>/dev/null; echo finished=$(ls %s/trials/*.txt | wc -l)",
       ol_test_bin(), args, ol_test_tmpdir(), dir, dir);
    const char *count = strstr(out, "finished=");
    long finished = count ? atol(count + 9) : -1;
    CHECK_MSG(finished >= 2, "%s", out);
    printf("    killed with %ld of 12 trials finished\n", finished);
    int rc = sh("%s %s", ol_test_bin(), args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    char expect[128];
    snprintf(expect, sizeof expect, "%ld of 12 trials finished before: skipping them", finished);
    CHECK_MSG(finished == 12 || strstr(out, expect), "expected '%s': %s", expect, out);
    CHECK_MSG(strstr(out, "sweep done: 12 trials"), "%s", out);
    char text[1 << 14];
    int rows;
    CHECK(read_results(dir, text, sizeof text, &rows) == 0);
    CHECK_EQ_INT(rows, 12);
}

TEST(sweep_median_rule_prunes_the_hopeless_trials_after_one_epoch) {
    const char *dir = tmp("median");
    /* one job: trials 1-2 (lr 0.05) complete first, trials 3-4 (lr 1e-5) are worse than their median */
    int rc = sh("%s sweep --grid 'opt=adam,lr=0.05/0.00001' --seeds 2 --prune median --min-completed 2 --out %s "
                "--data %s --model mlp:64-16-4 --epochs 3 --quiet",
                ol_test_bin(), dir, data_dir());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK(!strcmp(status_of(dir, "0001"), "ok") && epochs_of(dir, "0001") == 3);
    CHECK(!strcmp(status_of(dir, "0002"), "ok"));
    CHECK_MSG(!strcmp(status_of(dir, "0003"), "pruned") && epochs_of(dir, "0003") == 1, "0003: %s", status_of(dir, "0003"));
    CHECK(!strcmp(status_of(dir, "0004"), "pruned") && epochs_of(dir, "0004") == 1);
}

TEST(sweep_successive_halving_keeps_the_best_third_for_the_last_rung) {
    const char *dir = tmp("halving");
    int rc = sh("%s sweep --grid 'opt=adam,lr=0.0001/0.0003/0.001/0.003/0.01/0.03/0.1/0.3/1' --prune halving --jobs 2 "
                "--out %s --data %s --model mlp:64-16-4 --epochs 3 --quiet",
                ol_test_bin(), dir, data_dir());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "3 ok, 6 pruned"), "%s", out);
    int ok = 0;
    for (int i = 1; i <= 9; i++) {
        char id[8];
        snprintf(id, sizeof id, "%04d", i);
        const char *s = status_of(dir, id);
        long e = epochs_of(dir, id);
        CHECK_MSG((!strcmp(s, "ok") && e == 3) || (!strcmp(s, "pruned") && e == 1), "%s: %s after %ld epochs", id, s, e);
        ok += !strcmp(s, "ok");
    }
    CHECK_EQ_INT(ok, 3);
    CHECK(!strcmp(status_of(dir, "0001"), "pruned")); /* lr 1e-4 learns nothing in one epoch */
}

TEST(sweep_refuses_an_out_dir_of_another_sweep) {
    const char *dir = tmp("foreign");
    int rc = sh("%s sweep --grid 'lr=0.1' --out %s " SWEEP_FLAGS, ol_test_bin(), dir, data_dir());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    rc = sh("%s sweep --grid 'lr=0.01' --out %s " SWEEP_FLAGS, ol_test_bin(), dir, data_dir());
    CHECK_MSG(rc == 2, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "holds another sweep") && strstr(out, "grid=lr=0.1"), "%s", out);
}

TEST(sweep_bad_flags_exit_2_with_a_message) {
    int rc = sh("%s sweep --grid 'lr=0.1' --epochs 2", ol_test_bin());
    CHECK_MSG(rc == 2 && strstr(out, "--out"), "exit %d: %s", rc, out);
    rc = sh("%s sweep --grid 'lr=0.1' --epochs 2 --out %s --prune mean", ol_test_bin(), tmp("bad"));
    CHECK_MSG(rc == 2 && strstr(out, "mean"), "exit %d: %s", rc, out);
    rc = sh("%s sweep --grid 'speed=1' --epochs 2 --out %s", ol_test_bin(), tmp("bad"));
    CHECK_MSG(rc == 2 && strstr(out, "speed"), "exit %d: %s", rc, out);
}

/* Issue 16, class 7: a grid of more than 100,000 settings was refused with "use --random N" even
 * with --random given. 20^4 = 160,000 settings here: --random 2 runs 2 of them; without --random
 * the message says to draw. */
TEST(sweep_random_draws_from_a_grid_larger_than_a_sweep_runs) {
    char grid[1024], *g = grid;
    const char *names[] = {"lr", "warmup", "clip-norm", "clip-value"};
    for (int p = 0; p < 4; p++) {
        g += sprintf(g, "%s%s=", p ? "," : "", names[p]);
        for (int v = 0; v < 20; v++) g += sprintf(g, "%s%d", v ? "/" : "", p == 1 ? v : v + 1);
    }
    const char *dir = tmp("huge-grid");
    int rc = sh("%s sweep --grid '%s' --random 2 --out %s " SWEEP_FLAGS, ol_test_bin(), grid, dir, data_dir());
    CHECK_MSG(rc == 0 && strstr(out, "sweep done: 2 trials"), "exit %d: %s", rc, out);
    int rows = 0;
    char text[1 << 14];
    CHECK(read_results(dir, text, sizeof text, &rows) == 0);
    CHECK_MSG(rows == 2, "%d rows: %s", rows, text);
    rc = sh("%s sweep --grid '%s' --out %s " SWEEP_FLAGS, ol_test_bin(), grid, tmp("huge-grid-all"), data_dir());
    CHECK_MSG(rc == 2 && strstr(out, "160000 settings") && strstr(out, "--random N"), "exit %d: %s", rc, out);
}

TEST(sweep_over_2_mpi_ranks_gives_the_single_process_results) {
    const char *m = getenv("OPTLAB_MPIRUN");
    if (!ol_dist_compiled() || !m || !*m) SKIP("no MPI in this build (make MPI=1) or OPTLAB_MPIRUN unset");
    const char *grid = "opt=sgd:momentum=0.9/adam,lr=0.01/0.1/1,batch=32/128";
    const char *one = tmp("mpi-one"), *two = tmp("mpi-two");
    int rc = sh("%s sweep --grid '%s' --jobs 2 --out %s " SWEEP_FLAGS, ol_test_bin(), grid, one, data_dir());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    rc = sh("timeout 120 %s -np 2 %s sweep --grid '%s' --out %s --data %s --model mlp:64-16-4 --epochs 2", m, ol_test_bin(),
            grid, two, data_dir());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "rank 0 #") && strstr(out, "rank 1 #"), "both ranks should run trials: %s", out);
    CHECK_MSG(strstr(out, "sweep done: 12 trials (12 ok"), "%s", out);
    /* the same trials: the same per-trial numbers (the time aside) */
    for (int i = 1; i <= 12; i++) {
        char a[600], b[600], id[8];
        snprintf(id, sizeof id, "%04d", i);
        snprintf(a, sizeof a, "%s/trials/%s/log.csv", one, id);
        snprintf(b, sizeof b, "%s/trials/%s/log.csv", two, id);
        ol_csv_table ta, tb;
        CHECK(ol_csv_read(a, &ta) == 0);
        if (ol_csv_read(b, &tb)) {
            ol_csv_table_free(&ta);
            CHECK_MSG(0, "no log %s", b);
        }
        int c = ol_csv_column(&ta, "val_loss"), same = ta.n_rows == tb.n_rows && ta.n_rows > 0 && c >= 0;
        double va = same ? ta.values[(ta.n_rows - 1) * (size_t)ta.n_cols + (size_t)c] : NAN;
        double vb = same ? tb.values[(tb.n_rows - 1) * (size_t)tb.n_cols + (size_t)c] : NAN;
        ol_csv_table_free(&ta);
        ol_csv_table_free(&tb);
        CHECK_MSG(same && va == vb, "trial %s: val loss %.9g alone, %.9g over 2 ranks", id, va, vb);
    }
}
