/* test_mpi.c: data-parallel training under mpirun (src/dist.c + the hook in src/train.c), end to end:
 * P = 1, 2, 4 ranks end within 1e-4 relative of the single-process loss, the same P gives the same
 * bytes, checkpoints and --resume work, a signal to one rank stops all of them after the same step,
 * a killed or failing rank ends the whole job (no hang) and the checkpoint stays valid.
 * Run by `make test` with OPTLAB_MPIRUN="mpirun --allow-run-as-root --oversubscribe" when optlab is
 * built with MPI; otherwise each test says it is skipped (and the non-MPI refusal is tested). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fixtures.h"
#include "optlab/dist.h"
#include "optlab/csv.h"
#include "optlab/train.h"
#include "test.h"

static char out[1 << 16];

/* The launcher, or NULL (the test marked skipped, with the reason) when this build or this machine
 * has no MPI. */
static const char *mpirun(void) {
    const char *m = getenv("OPTLAB_MPIRUN");
    if (!ol_dist_compiled() || !m || !*m) {
        ol_test_skip("%s", !ol_dist_compiled() ? "this optlab was built without MPI (make MPI=1)"
                                               : "OPTLAB_MPIRUN is not set (make test sets it when MPI is built)");
        return NULL;
    }
    return m;
}

/* A learnable 8x8, 4-class set (small: equivalence runs) and a 28x28 one (runs long enough to be
 * killed in the middle). */
static const char *small_data(void) {
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/mpi-small", ol_test_tmpdir());
        if (fixture_make_dataset(dir, 600, 200, 8, 4, 21, 1)) fprintf(stderr, "cannot make %s\n", dir);
    }
    return dir;
}

static const char *big_data(void) {
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/mpi-big", ol_test_tmpdir());
        if (fixture_make_dataset(dir, 3000, 100, 28, 10, 22, 0)) fprintf(stderr, "cannot make %s\n", dir);
    }
    return dir;
}

/* a command into `out` */
#define sh(...) ol_test_sh(out, sizeof out, __VA_ARGS__)

#define tmp ol_test_path

/* Last row's value of column name in a training log; NaN when missing. */
static double last_value(const char *log, const char *name) {
    ol_csv_table t;
    if (ol_csv_read(log, &t)) return NAN;
    int c = ol_csv_column(&t, name);
    double v = c >= 0 && t.n_rows ? t.values[(t.n_rows - 1) * (size_t)t.n_cols + (size_t)c] : NAN;
    ol_csv_table_free(&t);
    return v;
}

#define CHECK_RELATIVE(a, b, tol)                                                                                  \
    do {                                                                                                           \
        double a_ = (a), b_ = (b);                                                                                 \
        CHECK_MSG(isfinite(a_) && isfinite(b_) && fabs(a_ - b_) <= (tol) * fabs(b_), "%s = %.9g, %s = %.9g: relative " \
                  "difference %.3g > %g", #a, a_, #b, b_, fabs(a_ - b_) / fabs(b_), (double)(tol));                \
    } while (0)

#define SMALL_RUN "--model mlp:64-32-4 --batch 32 --epochs 3 --val-split 0.2 --seed 5 --quiet"

/* Trains opt on the small set: single process (procs 0) or under mpirun -np procs; log and model. */
static int train_small(const char *m, int procs, const char *opt, const char *name) {
    if (procs == 0)
        return sh("%s train --data %s " SMALL_RUN " %s --log %s.csv --save %s.bin", ol_test_bin(), small_data(), opt, tmp(name),
                  tmp(name));
    return sh("OPTLAB_DIST_CHECK=1 %s -np %d %s train --data %s " SMALL_RUN " %s --log %s.csv --save %s.bin", m, procs,
              ol_test_bin(), small_data(), opt, tmp(name), tmp(name));
}

static void equivalence(const char *opt, const char *tag) {
    const char *m = mpirun();
    if (!m) return;
    char single[64], log_single[600];
    snprintf(single, sizeof single, "%s-p0", tag);
    int rc = train_small(m, 0, opt, single);
    CHECK_MSG(rc == 0, "single process: exit %d: %s", rc, out);
    snprintf(log_single, sizeof log_single, "%s.csv", tmp(single));
    double loss0 = last_value(log_single, "train_loss"), val0 = last_value(log_single, "val_loss");
    int procs[] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        char name[64], log[600], model[600], model0[600];
        snprintf(name, sizeof name, "%s-p%d", tag, procs[i]);
        rc = train_small(m, procs[i], opt, name);
        CHECK_MSG(rc == 0, "-np %d: exit %d: %s", procs[i], rc, out);
        snprintf(log, sizeof log, "%s.csv", tmp(name));
        double loss = last_value(log, "train_loss"), val = last_value(log, "val_loss");
        printf("    %s  P=%d  final train loss %.9g (single %.9g, rel %.2g)  val loss %.9g (single %.9g, rel %.2g)\n", opt,
               procs[i], loss, loss0, fabs(loss - loss0) / fabs(loss0), val, val0, fabs(val - val0) / fabs(val0));
        CHECK_RELATIVE(loss, loss0, 1e-4);
        CHECK_RELATIVE(val, val0, 1e-4);
        if (procs[i] == 1) { /* one rank is the single-process run, bit for bit */
            snprintf(model, sizeof model, "%s.bin", tmp(name));
            snprintf(model0, sizeof model0, "%s.bin", tmp(single));
            CHECK_MSG(ol_test_same_file(model, model0), "-np 1 saved other bytes than the single process");
        }
    }
}

TEST(mpi_data_parallel_loss_matches_single_process_at_1_2_4_ranks_sgd_momentum) {
    equivalence("--opt sgd:momentum=0.9 --lr 0.05", "sgd");
}

TEST(mpi_data_parallel_loss_matches_single_process_at_1_2_4_ranks_adam) {
    equivalence("--opt adam --lr 0.003 --schedule cosine:t_max=60 --clip-norm 5", "adam");
}

TEST(mpi_same_ranks_give_identical_model_bytes) {
    const char *m = mpirun();
    if (!m) return;
    for (int run = 0; run < 2; run++) {
        char name[32];
        snprintf(name, sizeof name, "rep%d", run);
        int rc = train_small(m, 2, "--opt adam --lr 0.01", name);
        CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    }
    char a[600], b[600];
    snprintf(a, sizeof a, "%s.bin", tmp("rep0"));
    snprintf(b, sizeof b, "%s.bin", tmp("rep1"));
    CHECK_MSG(ol_test_same_file(a, b), "two runs at -np 2 saved different models");
    snprintf(a, sizeof a, "%s.csv", tmp("rep0"));
    double l0 = last_value(a, "train_loss");
    snprintf(a, sizeof a, "%s.csv", tmp("rep1"));
    CHECK(l0 == last_value(a, "train_loss"));
}

TEST(mpi_checkpoint_and_resume_give_the_uninterrupted_bytes) {
    const char *m = mpirun();
    if (!m) return;
    const char *run = "--model mlp:64-32-4 --opt sgd:momentum=0.9 --lr 0.05 --batch 32 --seed 3 --quiet";
    int rc = sh("%s -np 2 %s train --data %s %s --epochs 4 --save %s", m, ol_test_bin(), small_data(), run, tmp("full.bin"));
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    rc = sh("%s -np 2 %s train --data %s %s --epochs 2 --checkpoint %s", m, ol_test_bin(), small_data(), run, tmp("half.ck"));
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    rc = sh("%s -np 2 %s train --data %s --resume %s --epochs 4 --quiet --save %s", m, ol_test_bin(), small_data(),
            tmp("half.ck"), tmp("resumed.bin"));
    CHECK_MSG(rc == 0, "resume: exit %d: %s", rc, out);
    CHECK_MSG(ol_test_same_file(tmp("full.bin"), tmp("resumed.bin")), "2 + 2 epochs with a resume differ from 4 epochs at -np 2");
}

/* Starts a long data-parallel run with checkpoints every 5 steps, waits for the first checkpoint,
 * sends sig to rank 1 only, and waits (60 s at most) for mpirun to end. out: its output, then
 * "exit=N" or "HANG". */
static int signal_one_rank(const char *m, const char *sig, const char *ck) {
    remove(ck);
    return sh("(exec %s -np 2 %s train --data %s --model mlp:784-64-10 --opt sgd:momentum=0.9 --lr 0.01 --batch 16 "
              "--epochs 1000 --quiet --checkpoint %s --checkpoint-every 5) & pid=$!; "
              "t=0; while [ ! -f %s ] && kill -0 $pid 2>/dev/null && [ $t -lt 6000 ]; do sleep 0.01; t=$((t+1)); done; "
              "sleep 0.2; for p in $(pgrep -P $pid); do "
              "  if tr '\\0' '\\n' < /proc/$p/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1; then kill -%s $p; fi; done; "
              "t=0; while kill -0 $pid 2>/dev/null && [ $t -lt 600 ]; do sleep 0.1; t=$((t+1)); done; "
              "if kill -0 $pid 2>/dev/null; then echo HANG; kill -9 $pid; fi; wait $pid; echo exit=$?",
              m, ol_test_bin(), big_data(), ck, ck, sig);
}

/* Resumes checkpoint ck with 2 ranks for --epochs 1, or, when it is past epoch 1 (a resumed run
 * cannot be taken back), for the epochs the refusal names: its exit status. */
static int resume_the_checkpoint(const char *m, const char *ck) {
    int rc = sh("%s -np 2 %s train --data %s --resume %s --epochs 1 --quiet", m, ol_test_bin(), big_data(), ck);
    const char *give = strstr(out, "give --epochs ");
    if (rc != 0 && give)
        rc = sh("%s -np 2 %s train --data %s --resume %s --epochs %ld --quiet", m, ol_test_bin(), big_data(), ck,
                atol(give + strlen("give --epochs ")));
    return rc;
}

TEST(mpi_sigterm_to_one_rank_stops_every_rank_with_a_checkpoint) {
    const char *m = mpirun();
    if (!m) return;
    const char *ck = tmp("term.ck");
    signal_one_rank(m, "TERM", ck);
    CHECK_MSG(!strstr(out, "HANG"), "the job did not end within 60 s: %s", out);
    CHECK_MSG(strstr(out, "exit=143"), "expected exit 143: %s", out);
    CHECK_MSG(strstr(out, "stopped at step") && strstr(out, "checkpoint written"), "no stop message: %s", out);
    int rc = resume_the_checkpoint(m, ck);
    CHECK_MSG(rc == 0, "the checkpoint does not resume: exit %d: %s", rc, out);
}

TEST(mpi_a_killed_rank_ends_the_job_without_a_hang_and_the_checkpoint_stays_valid) {
    const char *m = mpirun();
    if (!m) return;
    const char *ck = tmp("kill.ck");
    signal_one_rank(m, "9", ck);
    CHECK_MSG(!strstr(out, "HANG"), "the job did not end within 60 s after a rank was killed: %s", out);
    CHECK_MSG(!strstr(out, "exit=0"), "the job reported success: %s", out);
    CHECK_MSG(strstr(out, "signal 9") || strstr(out, "Killed"), "no word of the killed rank: %s", out);
    int rc = resume_the_checkpoint(m, ck);
    CHECK_MSG(rc == 0, "the last checkpoint does not resume: exit %d: %s", rc, out);
}

TEST(mpi_a_failing_rank_aborts_the_whole_job_with_its_message) {
    const char *m = mpirun();
    if (!m) return;
    /* rank 0 alone writes checkpoints: it fails at step 5 while rank 1 waits in the all-reduce */
    int rc = sh("timeout 60 %s -np 2 %s train --data %s --model mlp:64-32-4 --epochs 3 --batch 32 --quiet "
                "--checkpoint %s/no-such-dir/ck --checkpoint-every 5",
                m, ol_test_bin(), small_data(), ol_test_tmpdir());
    CHECK_MSG(rc != 0 && rc != 124, "exit %d (124: hang): %s", rc, out);
    CHECK_MSG(strstr(out, "rank 0 of 2 failed") && strstr(out, "no-such-dir"), "no clear message: %s", out);
}

TEST(mpi_a_bad_spec_ends_the_job_with_its_message) {
    const char *m = mpirun();
    if (!m) return;
    int rc = sh("timeout 60 %s -np 2 %s train --data %s --model mlp:64-32-4 --opt adamm", m, ol_test_bin(), small_data());
    CHECK_MSG(rc != 0 && rc != 124, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "adamm"), "no message: %s", out);
}

TEST(mpi_launch_of_an_optlab_without_mpi_is_refused_clearly) {
    if (ol_dist_compiled()) SKIP("this optlab has MPI (the refusal is for builds without it)");
    /* what mpirun's environment looks like to a rank */
    int rc = sh("OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0 %s train --data %s --model mlp:64-32-4 --epochs 1", ol_test_bin(),
                small_data());
    CHECK_MSG(rc == 2, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "built without MPI"), "%s", out);
}
