/* test_hardening_mpi.c: issue 16, class 4: MPI ranks given different runs. Open MPI's MPMD form
 * (mpirun -np 1 A : -np 1 B) gives the two ranks different command lines; before the fix they
 * trained a wrong model with exit 0 (--lr, --seed), hung (--epochs, --batch, --subset, a refused
 * flag on one rank, another --resume) or corrupted the heap (--model). Now every such job ends
 * within seconds with exit 2 and one message naming what differs and both values. Every run is
 * under `timeout -k 10 60`, so a hang shows as exit 124 (or 137 when mpirun ignores the TERM).
 * Skipped where optlab has no MPI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "optlab/dist.h"
#include "test.h"

static char out[1 << 16];

#define sh(...) ol_test_sh(out, sizeof out, __VA_ARGS__)

/* The launcher, or NULL (the test marked skipped) when this build or machine has no MPI. */
static const char *launcher(void) {
    const char *m = getenv("OPTLAB_MPIRUN");
    if (!ol_dist_compiled()) ol_test_skip("this optlab was built without MPI (make MPI=1)");
    else if (!m || !*m) ol_test_skip("OPTLAB_MPIRUN is not set (make test sets it when MPI is built)");
    else return m;
    return NULL;
}

/* A learnable 8x8, 4-class set; seed picks its pixels and labels. */
static const char *data(int seed) {
    static char dirs[2][512];
    char *dir = dirs[seed & 1];
    if (!dir[0]) {
        snprintf(dir, sizeof dirs[0], "%s/ranks-data-%d", ol_test_tmpdir(), seed);
        if (fixture_make_dataset(dir, 600, 200, 8, 4, (uint64_t)seed, 1)) fprintf(stderr, "cannot make %s\n", dir);
    }
    return dir;
}

/* A rank's train flags: --data (seed 1), args, and the small run's model and epochs unless args
 * gives its own. */
static const char *train_flags(char *buf, size_t cap, const char *args) {
    snprintf(buf, cap, "--data %s --quiet %s%s %s", data(1), strstr(args, "--model") ? "" : "--model mlp:64-32-4 ",
             strstr(args, "--epochs") ? "" : "--epochs 2", args);
    return buf;
}

/* mpirun -np 1 (rank 0: a) : -np 1 (rank 1: b), each `optlab CMD --data D <a or b>`, under timeout */
static int two_ranks(const char *m, const char *cmd, const char *a, const char *b) {
    return sh("timeout -k 10 60 %s -np 1 %s %s %s : -np 1 %s %s %s", m, ol_test_bin(), cmd, a, ol_test_bin(), cmd, b);
}

static int hung(int rc) { return rc == 124 || rc == 137; }

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* Rank 0 trains with the flags a, rank 1 with b: the job must end with exit 2 and the one message. */
static void refused(const char *a, const char *b, const char *message) {
    const char *m = launcher();
    if (!m) return;
    char ra[1024], rb[1024];
    int rc = two_ranks(m, "train", train_flags(ra, sizeof ra, a), train_flags(rb, sizeof rb, b));
    CHECK_MSG(!hung(rc), "the job hung (timeout after 60 s): %s", out);
    CHECK_MSG(rc == 2, "exit %d, expected 2: %s", rc, out);
    CHECK_MSG(strstr(out, message), "no '%s' in: %s", message, out);
    CHECK_MSG(count(out, "optlab: ") == 1, "not one message: %s", out);
    CHECK_MSG(!strstr(out, "test accuracy"), "a rank trained: %s", out);
}

#define SAME "; every rank must be given the same settings"

TEST(mpi_ranks_given_another_lr_end_the_job_naming_it) {
    refused("--lr 0.1", "--lr 0.5", "optlab: the MPI ranks disagree on --lr: 0.1 on rank 0, 0.5 on rank 1" SAME);
}

TEST(mpi_ranks_given_another_seed_end_the_job_naming_it) {
    refused("--seed 1", "--seed 2", "the MPI ranks disagree on --seed: 1 on rank 0, 2 on rank 1" SAME);
}

TEST(mpi_ranks_given_other_epochs_end_the_job_naming_them) {
    refused("--epochs 3", "", "the MPI ranks disagree on --epochs: 3 on rank 0, 2 on rank 1" SAME);
}

TEST(mpi_ranks_given_another_batch_end_the_job_naming_it) {
    refused("--batch 32", "--batch 16", "the MPI ranks disagree on --batch: 32 on rank 0, 16 on rank 1" SAME);
}

TEST(mpi_ranks_given_another_model_end_the_job_naming_it) {
    refused("--model mlp:64-16-4", "", "the MPI ranks disagree on --model: mlp:64-16-4,act=relu on rank 0, mlp:64-32-4,act=relu on rank 1" SAME);
}

TEST(mpi_ranks_given_another_subset_or_optimizer_end_the_job_naming_it) {
    refused("--subset 500", "--subset 400", "the MPI ranks disagree on --subset: 500 on rank 0, 400 on rank 1" SAME);
    refused("--opt adam", "", "the MPI ranks disagree on --opt: adam on rank 0, sgd on rank 1" SAME);
    refused("--schedule cosine:t_max=10", "", "the MPI ranks disagree on --schedule: cosine:t_max=10 on rank 0, constant on rank 1" SAME);
    refused("--on-divergence rollback", "", "the MPI ranks disagree on --on-divergence: rollback on rank 0, stop on rank 1" SAME);
}

/* The same run written two ways (a default given or left out, a spec in its long form) is the
 * same run: it trains, to the bytes of the run given alike on both ranks. */
TEST(mpi_ranks_given_the_same_settings_written_differently_still_train) {
    const char *m = launcher();
    if (!m) return;
    char a[1024], b[1024], same[1024];
    snprintf(same, sizeof same, "--lr 0.1 --save %s", ol_test_path("same.bin"));
    train_flags(a, sizeof a, same);
    int rc = two_ranks(m, "train", a, a);
    CHECK_MSG(rc == 0 && strstr(out, "test accuracy"), "exit %d: %s", rc, out);
    snprintf(same, sizeof same, "--lr 0.1 --model mlp:64-32-4,act=relu --save %s", ol_test_path("written.bin"));
    train_flags(a, sizeof a, same);
    train_flags(b, sizeof b, "--seed 1");
    rc = two_ranks(m, "train", a, b);
    CHECK_MSG(rc == 0 && strstr(out, "test accuracy"), "exit %d: %s", rc, out);
    rc = sh("cmp %s %s", ol_test_path("same.bin"), ol_test_path("written.bin"));
    CHECK_MSG(rc == 0, "the two jobs saved different models: %s", out);
}

/* A flag refused on rank 1 alone: rank 0 went on and waited for it in the first all-reduce. */
TEST(mpi_a_flag_refused_or_help_on_one_rank_ends_the_job_with_its_message) {
    const char *m = launcher();
    if (!m) return;
    char a[1024], b[1024];
    int rc = two_ranks(m, "train", train_flags(a, sizeof a, ""), train_flags(b, sizeof b, "--lr abc"));
    CHECK_MSG(!hung(rc), "the job hung (timeout after 60 s): %s", out);
    CHECK_MSG(rc == 2, "exit %d, expected 2: %s", rc, out);
    CHECK_MSG(strstr(out, "optlab: rank 1 of 2: optlab train --lr: 'abc' is not a finite number"), "%s", out);
    CHECK_MSG(count(out, "optlab: ") == 1, "not one message: %s", out);
    /* --help on rank 1 alone: it prints the help; rank 0 must not train alone */
    rc = two_ranks(m, "train", train_flags(a, sizeof a, ""), train_flags(b, sizeof b, "--help"));
    CHECK_MSG(!hung(rc), "the job hung (timeout after 60 s): %s", out);
    CHECK_MSG(rc == 2 && strstr(out, "usage: optlab train"), "exit %d, expected 2 and the help: %s", rc, out);
    CHECK_MSG(strstr(out, "optlab: rank 1 of 2 printed the help and stopped, and so does this job"), "%s", out);
}

/* Other data on rank 1 (the same shape, other labels), and another checkpoint to resume. */
TEST(mpi_ranks_given_other_data_or_another_checkpoint_end_the_job_naming_it) {
    const char *m = launcher();
    if (!m) return;
    char a[1024], b[1024];
    train_flags(a, sizeof a, "");
    snprintf(b, sizeof b, "--data %s --quiet --model mlp:64-32-4 --epochs 2", data(2));
    int rc = two_ranks(m, "train", a, b);
    CHECK_MSG(rc == 2, "exit %d, expected 2: %s", rc, out);
    CHECK_MSG(strstr(out, "the MPI ranks disagree on the data (--data): train 600 x 8x8, 4 classes, labels crc "), "%s", out);
    /* checkpoints after 1 and after 2 epochs (5 steps each: 600 examples, batches of 128) of the
     * same run, resumed to 3 epochs */
    for (int e = 1; e <= 2; e++) {
        char ck[32];
        snprintf(ck, sizeof ck, "e%d.ck", e);
        rc = sh("%s train --data %s --model mlp:64-32-4 --epochs %d --quiet --checkpoint %s", ol_test_bin(), data(1), e,
                ol_test_path(ck));
        CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    }
    snprintf(a, sizeof a, "--data %s --quiet --epochs 3 --resume %s", data(1), ol_test_path("e1.ck"));
    snprintf(b, sizeof b, "--data %s --quiet --epochs 3 --resume %s", data(1), ol_test_path("e2.ck"));
    rc = two_ranks(m, "train", a, b);
    CHECK_MSG(!hung(rc), "the job hung (timeout after 60 s): %s", out);
    CHECK_MSG(rc == 2, "exit %d, expected 2: %s", rc, out);
    CHECK_MSG(strstr(out, "the MPI ranks disagree on the starting state (--resume): epoch 2, step 5, parameters crc "),
              "%s", out);
    CHECK_MSG(strstr(out, "on rank 1; every rank must be given the same settings") && strstr(out, "epoch 3, step 10"), "%s", out);
}

/* Sweeps: other grids give other trial lists, another --prune other rungs. */
TEST(mpi_sweep_ranks_given_other_grids_or_rules_end_the_sweep_naming_them) {
    const char *m = launcher();
    if (!m) return;
    char a[1024], b[1024];
    const char *cases[][3] = {
        {"--grid lr=0.1/0.2", "--grid lr=0.1/0.3", "the MPI ranks disagree on --grid: lr=0.1/0.2 on rank 0, lr=0.1/0.3 on rank 1" SAME},
        {"--grid lr=0.1/0.2 --prune halving", "--grid lr=0.1/0.2",
         "the MPI ranks disagree on --prune: halving on rank 0, none on rank 1" SAME},
        {"--grid lr=0.1/0.2 --epochs 3", "--grid lr=0.1/0.2", "the MPI ranks disagree on --epochs: 3 on rank 0, 2 on rank 1" SAME},
    };
    for (int i = 0; i < 3; i++) {
        char dir[32];
        snprintf(dir, sizeof dir, "sweep%d", i);
        const char *common = "--model mlp:64-16-4 --quiet";
        snprintf(a, sizeof a, "--data %s %s --out %s %s%s", data(1), common, ol_test_path(dir), cases[i][0],
                 strstr(cases[i][0], "--epochs") ? "" : " --epochs 2");
        snprintf(b, sizeof b, "--data %s %s --out %s %s --epochs 2", data(1), common, ol_test_path(dir), cases[i][1]);
        int rc = two_ranks(m, "sweep", a, b);
        CHECK_MSG(!hung(rc), "%s: the sweep hung (timeout after 60 s): %s", cases[i][0], out);
        CHECK_MSG(rc == 2, "%s: exit %d, expected 2: %s", cases[i][0], rc, out);
        CHECK_MSG(strstr(out, cases[i][2]), "no '%s' in: %s", cases[i][2], out);
        CHECK_MSG(count(out, "optlab: ") == 1, "not one message: %s", out);
    }
    /* --jobs is each rank's own */
    snprintf(a, sizeof a, "--data %s --model mlp:64-16-4 --quiet --out %s --grid lr=0.1/0.2 --epochs 2 --jobs 2", data(1),
             ol_test_path("sweep-jobs"));
    snprintf(b, sizeof b, "--data %s --model mlp:64-16-4 --quiet --out %s --grid lr=0.1/0.2 --epochs 2", data(1),
             ol_test_path("sweep-jobs"));
    int rc = two_ranks(m, "sweep", a, b);
    CHECK_MSG(rc == 0 && strstr(out, "sweep done: 2 trials (2 ok"), "exit %d: %s", rc, out);
}
