/* test_cli.c: `optlab train` and `optlab eval` end to end on small generated data: learning,
 * determinism across thread counts, logs and model files, and every bad input with its exit
 * status (2 usage, 1 failure), its message, and no partial output file. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures.h"
#include "test.h"

static char out[1 << 16];

/* A learnable 8x8, 4-class data set in <tmp>/data (made once). */
static const char *data_dir(void) {
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/data", ol_test_tmpdir());
        if (fixture_make_dataset(dir, 600, 200, 8, 4, 11, 1)) fprintf(stderr, "cannot make %s\n", dir);
    }
    return dir;
}

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

static double final_accuracy(void) {
    const char *p = strstr(out, "test accuracy ");
    return p ? atof(p + strlen("test accuracy ")) : -1;
}

TEST(cli_train_learns_a_synthetic_task) {
    int rc = optlab("train --data %s --model mlp:64-32-4 --opt sgd:momentum=0.9 --lr 0.1 --batch 32 --epochs 3 --quiet",
                    data_dir());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_MSG(final_accuracy() > 90, "accuracy %.2f: %s", final_accuracy(), out);
}

TEST(cli_train_prints_one_line_per_epoch_and_writes_the_log) {
    char log[512];
    snprintf(log, sizeof log, "%s/run.csv", ol_test_tmpdir());
    int rc = optlab("train --data %s --model mlp:64-16-4 --opt gd --lr 0.5 --batch full --epochs 4 --log %s", data_dir(), log);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK(strstr(out, "epoch 1/4") && strstr(out, "epoch 4/4") && strstr(out, "test_acc"));
    FILE *f = fopen(log, "r");
    CHECK(f != NULL);
    char line[512];
    int lines = 0;
    CHECK(fgets(line, sizeof line, f) && !strncmp(line, "epoch,step,lr,train_loss", 24));
    while (fgets(line, sizeof line, f)) lines++;
    fclose(f);
    CHECK_EQ_INT(lines, 4);
}

TEST(cli_same_seed_same_model_bytes_at_one_and_two_threads) {
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/t1.bin", ol_test_tmpdir());
    snprintf(b, sizeof b, "%s/t2.bin", ol_test_tmpdir());
    const char *common = "--model mlp:64-300-4 --opt sgd:momentum=0.9 --lr 0.05 --batch 200 --epochs 2 --quiet --seed 7";
    CHECK(optlab("train --data %s %s --threads 1 --save %s", data_dir(), common, a) == 0);
    CHECK(optlab("train --data %s %s --threads 2 --save %s", data_dir(), common, b) == 0);
    CHECK(ol_test_same_file(a, b));
    CHECK(optlab("train --data %s %s --threads 2 --seed 8 --save %s", data_dir(), common + 0, b) != 0 ||
          !ol_test_same_file(a, b));
}

TEST(cli_eval_reports_the_saved_models_accuracy) {
    char model[512];
    snprintf(model, sizeof model, "%s/eval.bin", ol_test_tmpdir());
    CHECK(optlab("train --data %s --model mlp:64-32-4 --lr 0.1 --opt sgd:momentum=0.9 --epochs 2 --normalize --quiet --save %s",
                 data_dir(), model) == 0);
    double train_acc = final_accuracy();
    CHECK(optlab("eval --model %s --data %s", model, data_dir()) == 0);
    const char *p = strstr(out, "test accuracy ");
    CHECK_MSG(p != NULL, "%s", out);
    CHECK_NEAR(atof(p + 14), train_acc, 1e-9);
}

TEST(cli_iid_sampler_and_validation_split_run) {
    int rc = optlab("train --data %s --model mlp:64-16-4 --lr 0.1 --batch 16 --epochs 1 --sampler iid --val-split 0.2",
                    data_dir());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK(strstr(out, "val_acc") != NULL);
}

/* ---- bad input: one line naming the problem, exit 2 (usage) or 1 (failure), no output file ---- */

static void expect_error(int want_rc, const char *want_text, const char *args) {
    char save[512], cmd[4096];
    snprintf(save, sizeof save, "%s/should-not-exist.bin", ol_test_tmpdir());
    snprintf(cmd, sizeof cmd, "%s --save %s", args, save);
    int rc = optlab("%s", cmd);
    CHECK_MSG(rc == want_rc, "'%s' exited %d, expected %d: %s", args, rc, want_rc, out);
    CHECK_MSG(strstr(out, want_text) != NULL, "'%s' said '%s', expected to mention '%s'", args, out, want_text);
    CHECK_MSG(!strstr(out, "Segmentation") && !strstr(out, "Abort"), "%s", out);
    CHECK_MSG(!file_exists(save), "'%s' left an output file", args);
}

#define BAD(name, rc, text, ...)                                                  \
    TEST(cli_bad_input_##name) {                                                  \
        char args[2048];                                                          \
        snprintf(args, sizeof args, __VA_ARGS__);                                 \
        expect_error(rc, text, args);                                             \
    }

BAD(unknown_flag, 2, "unknown option '--lernrate'", "train --data %s --lernrate 0.1", data_dir())
BAD(malformed_number, 2, "not a finite number", "train --data %s --model mlp:64-4 --lr 0.1x", data_dir())
BAD(nan_lr, 2, "not a finite number", "train --data %s --model mlp:64-4 --lr nan", data_dir())
BAD(negative_lr, 2, "lr", "train --data %s --model mlp:64-4 --lr -1", data_dir())
BAD(zero_batch, 2, "--batch", "train --data %s --model mlp:64-4 --batch 0", data_dir())
BAD(zero_epochs, 2, "--epochs", "train --data %s --model mlp:64-4 --epochs 0", data_dir())
BAD(missing_value, 2, "needs a value", "train --data %s --model mlp:64-4 --lr", data_dir())
BAD(unknown_optimizer, 2, "adamm", "train --data %s --model mlp:64-4 --opt adamm", data_dir())
BAD(unknown_model, 2, "unknown model", "train --data %s --model cnn:64-4", data_dir())
BAD(unknown_sampler, 2, "shuffle", "train --data %s --model mlp:64-4 --sampler random", data_dir())
BAD(val_split_out_of_range, 2, "--val-split", "train --data %s --model mlp:64-4 --val-split 1.5", data_dir())
BAD(images_do_not_fit_the_model, 2, "expects 784 inputs", "train --data %s --model mlp:784-10 --epochs 1", data_dir())
BAD(too_few_outputs_for_the_classes, 2, "4 classes", "train --data %s --model mlp:64-3 --epochs 1", data_dir())
BAD(missing_data_dir, 1, "/nonexistent", "train --data /nonexistent --model mlp:64-4")
BAD(unexpected_argument, 2, "unexpected argument", "train stray --data %s", data_dir())
BAD(onecycle_shorter_than_the_run, 2, "raise total_steps",
    "train --data %s --model mlp:64-4 --batch 4 --epochs 2 --schedule onecycle:total_steps=2", data_dir())

/* Resuming a finished onecycle run for more epochs than its schedule covers: refused before any
 * step, naming the most epochs it can take; the checkpoint is left as it was. */
TEST(cli_bad_input_resume_past_a_onecycle_schedule) {
    char cmd[4096], out[4096], ck[600], before[620];
    snprintf(ck, sizeof ck, "%s/onecycle.ck", ol_test_tmpdir());
    snprintf(cmd, sizeof cmd, "%s train --data %s --model mlp:64-4 --batch 100 --epochs 1 --quiet "
             "--schedule onecycle:total_steps=6 --checkpoint %s 2>&1", ol_test_bin(), data_dir(), ck);
    CHECK_MSG(ol_test_run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(before, sizeof before, "%s.before", ck);
    snprintf(cmd, sizeof cmd, "cp %s %s", ck, before);
    CHECK(ol_test_run(cmd, out, sizeof out) == 0);
    snprintf(cmd, sizeof cmd, "%s train --resume %s --data %s --epochs 2 2>&1", ol_test_bin(), ck, data_dir());
    int rc = ol_test_run(cmd, out, sizeof out);
    CHECK_MSG(rc == 2, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "resume with --epochs 1 at most") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", ck, before);
    CHECK_MSG(ol_test_run(cmd, out, sizeof out) == 0, "the checkpoint changed");
}

TEST(cli_bad_input_unknown_command_exits_2) {
    CHECK(optlab("trian") == 2);
    CHECK(strstr(out, "unknown command") != NULL);
}

TEST(cli_help_lists_the_options_and_exits_0) {
    CHECK(optlab("train --help") == 0);
    CHECK(strstr(out, "--lr") && strstr(out, "--batch") && strstr(out, "--sampler"));
    CHECK(optlab("--help") == 0);
}

/* Corrupt, truncated and mismatched data files: each a clear error, exit 1, nothing written. */
static const char *damaged_dir(const char *name, const char *command) {
    static char dir[512];
    char cmd[2048], buf[256];
    snprintf(dir, sizeof dir, "%s/%s", ol_test_tmpdir(), name);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s' && cd '%s' && %s", dir, data_dir(), dir, dir, command);
    ol_test_run(cmd, buf, sizeof buf);
    return dir;
}

TEST(cli_bad_input_truncated_image_file) {
    const char *dir = damaged_dir("trunc", "gunzip train-images-idx3-ubyte.gz && truncate -s 5000 train-images-idx3-ubyte");
    char args[1024];
    snprintf(args, sizeof args, "train --data %s --model mlp:64-4", dir);
    expect_error(1, "train-images-idx3-ubyte", args);
}

TEST(cli_bad_input_wrong_magic) {
    const char *dir = damaged_dir("magic", "gunzip t10k-labels-idx1-ubyte.gz && printf '\\000\\000\\010\\003' | dd of=t10k-labels-idx1-ubyte conv=notrunc 2>/dev/null");
    char args[1024];
    snprintf(args, sizeof args, "train --data %s --model mlp:64-4", dir);
    expect_error(1, "magic", args);
}

TEST(cli_bad_input_label_count_differs_from_image_count) {
    const char *dir = damaged_dir("count", "gunzip train-labels-idx1-ubyte.gz && printf '\\000\\000\\001\\000' | dd of=train-labels-idx1-ubyte bs=1 seek=4 conv=notrunc 2>/dev/null && truncate -s 264 train-labels-idx1-ubyte");
    char args[1024];
    snprintf(args, sizeof args, "train --data %s --model mlp:64-4", dir);
    expect_error(1, "600", args);
}

TEST(cli_bad_input_eval_of_a_corrupt_model) {
    char model[512], cmd[1200], buf[128];
    snprintf(model, sizeof model, "%s/corrupt.bin", ol_test_tmpdir());
    snprintf(cmd, sizeof cmd, "head -c 100 /dev/urandom > %s", model);
    ol_test_run(cmd, buf, sizeof buf);
    CHECK(optlab("eval --model %s --data %s", model, data_dir()) == 1);
    CHECK(strstr(out, "not an optlab model") != NULL);
    CHECK(optlab("eval --data %s", data_dir()) == 2);
    CHECK(strstr(out, "missing --model") != NULL);
}

TEST(cli_bad_input_eval_with_mismatched_images) {
    char model[512];
    snprintf(model, sizeof model, "%s/m784.bin", ol_test_tmpdir());
    /* a 784-input model saved from a run on 28x28 fixtures, evaluated on 8x8 data */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/data28", ol_test_tmpdir());
    CHECK(fixture_make_dataset(dir, 100, 50, 28, 4, 3, 0) == 0);
    CHECK(optlab("train --data %s --model mlp:784-8-4 --epochs 1 --quiet --save %s", dir, model) == 0);
    CHECK(optlab("eval --model %s --data %s", model, data_dir()) == 2);
    CHECK(strstr(out, "expects 784 inputs") != NULL);
}

/* Issue 16, class 1: an output that is an input (a data file, the checkpoint resumed from) or
 * another output is refused with exit 2 before any work, and the input is left as it was; the
 * one legitimate case, --resume F --checkpoint F, still runs. Each case exited 0 and destroyed the
 * file before (train --save onto the training images, --log onto a label file, --save onto the
 * resumed checkpoint, --save and --checkpoint on one file). */
TEST(cli_bad_input_an_output_that_is_an_input_or_another_output_is_refused) {
    const char *dir = data_dir();
    char images[600], labels[600], ck[600];
    snprintf(images, sizeof images, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte.gz", dir);
    snprintf(ck, sizeof ck, "%s", ol_test_path("same-ck.bin"));
    size_t n_img, n_lab;
    char *img0 = ol_test_slurp(images, &n_img), *lab0 = ol_test_slurp(labels, &n_lab);
    CHECK_MSG(img0 && lab0, "fixture files missing in %s", dir);
    int rc = optlab("train --data %s --model mlp:64-8-4 --epochs 1 --quiet --save %s", dir, images);
    CHECK_MSG(rc == 2 && strstr(out, "same file as the training images"), "exit %d: %s", rc, out);
    rc = optlab("train --data %s --model mlp:64-8-4 --epochs 1 --quiet --log %s/./train-labels-idx1-ubyte.gz", dir, dir);
    CHECK_MSG(rc == 2 && strstr(out, "same file as the training labels"), "exit %d: %s", rc, out);
    size_t n1, n2;
    char *img1 = ol_test_slurp(images, &n1), *lab1 = ol_test_slurp(labels, &n2);
    CHECK(img1 && lab1 && n1 == n_img && n2 == n_lab && !memcmp(img0, img1, n1) && !memcmp(lab0, lab1, n2));
    free(img0), free(img1), free(lab0), free(lab1);
    rc = optlab("train --data %s --model mlp:64-8-4 --epochs 1 --quiet --save %s --checkpoint %s", dir, ck, ck);
    CHECK_MSG(rc == 2 && strstr(out, "--save and --checkpoint are the same file"), "exit %d: %s", rc, out);
    CHECK(!file_exists(ck));
    /* a checkpoint, then a resume that would save the model over it */
    rc = optlab("train --data %s --model mlp:64-8-4 --epochs 1 --quiet --checkpoint %s", dir, ck);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    size_t n_ck;
    char *ck0 = ol_test_slurp(ck, &n_ck);
    CHECK(ck0);
    rc = optlab("train --resume %s --epochs 2 --quiet --save %s", ck, ck);
    CHECK_MSG(rc == 2 && strstr(out, "same file as --resume"), "exit %d: %s", rc, out);
    size_t n_ck1;
    char *ck1 = ol_test_slurp(ck, &n_ck1);
    CHECK(ck1 && n_ck1 == n_ck && !memcmp(ck0, ck1, n_ck));
    free(ck0), free(ck1);
    rc = optlab("train --resume %s --epochs 2 --quiet --checkpoint %s", ck, ck); /* allowed */
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
}

/* Issue 16, class 5: OMP_NUM_THREADS=100000 made libgomp crash (SIGSEGV, no message) at the first
 * parallel region (here: converting an evaluation batch of 1000 28x28 images). optlab caps the
 * environment's count as it caps --threads, and says so. */
TEST(cli_bad_input_a_huge_omp_num_threads_is_capped_with_a_note) {
    char dir[600], model[600];
    snprintf(dir, sizeof dir, "%s/data28", ol_test_tmpdir());
    snprintf(model, sizeof model, "%s", ol_test_path("m28.bin"));
    CHECK(fixture_make_dataset(dir, 100, 1000, 28, 10, 5, 0) == 0);
    int rc = optlab("train --data %s --model mlp:784-8-10 --epochs 1 --threads 1 --quiet --save %s", dir, model);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=100000 %s eval --model %s --data %s", ol_test_bin(), model, dir);
    rc = ol_test_run(cmd, out, sizeof out);
    CHECK_MSG(rc == 0 && strstr(out, "OMP_NUM_THREADS asks for 100000 threads; using 1024") && strstr(out, "test accuracy"),
              "exit %d: %s", rc, out);
}

/* Issue 16, class 3: a model or checkpoint that is not a regular file is refused at once: a FIFO
 * hung `eval --model` and `train --resume` forever, /dev/zero was read for gigabytes. (timeout
 * ends the old behaviour with 124.) */
TEST(cli_bad_input_special_files_as_model_or_checkpoint_are_refused_at_once) {
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s", ol_test_path("a-fifo"));
    unlink(fifo);
    CHECK(mkfifo(fifo, 0600) == 0);
    static const char *const special[2] = {NULL, "/dev/zero"};
    for (int k = 0; k < 2; k++) {
        const char *f = special[k] ? special[k] : fifo;
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "timeout 20 %s eval --model %s --data %s", ol_test_bin(), f, data_dir());
        int rc = ol_test_run(cmd, out, sizeof out);
        CHECK_MSG(rc == 1 && strstr(out, "not a regular file"), "eval --model %s: exit %d: %s", f, rc, out);
        snprintf(cmd, sizeof cmd, "timeout 20 %s train --resume %s --threads 1 --quiet", ol_test_bin(), f);
        rc = ol_test_run(cmd, out, sizeof out);
        CHECK_MSG(rc == 1 && strstr(out, "not a regular file"), "train --resume %s: exit %d: %s", f, rc, out);
    }
    unlink(fifo);
}

/* Issue 16, class 2: the atomic write (temporary name, rename) is for regular files and new paths.
 * `--log -` streams the CSV to stdout, a FIFO is written in place (its reader gets the CSV), a
 * symlink stays a link and its target gets the file, and a write error on a device (/dev/full) is
 * exit 1. Before, as root, /dev/null, /dev/stdout, a FIFO or a link were replaced by regular files. */
TEST(cli_outputs_to_stdout_fifos_links_and_devices_are_written_in_place) {
    const char *dir = data_dir();
    int rc = optlab("train --data %s --model mlp:64-8-4 --epochs 1 --threads 1 --quiet --log -", dir);
    CHECK_MSG(rc == 0 && strstr(out, "epoch,step,lr,train_loss"), "--log -: exit %d: %s", rc, out);
    char target[600], link_path[600], fifo[600], got[600];
    snprintf(target, sizeof target, "%s", ol_test_path("link-target.bin"));
    snprintf(link_path, sizeof link_path, "%s", ol_test_path("a-link.bin"));
    snprintf(fifo, sizeof fifo, "%s", ol_test_path("log-fifo"));
    snprintf(got, sizeof got, "%s", ol_test_path("from-fifo.csv"));
    unlink(link_path), unlink(fifo), unlink(target);
    CHECK(symlink(target, link_path) == 0);
    rc = optlab("train --data %s --model mlp:64-8-4 --epochs 1 --threads 1 --quiet --save %s", dir, link_path);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    struct stat st;
    CHECK(lstat(link_path, &st) == 0 && S_ISLNK(st.st_mode));
    size_t n;
    char *model = ol_test_slurp(target, &n);
    CHECK_MSG(model && n > 8 && !memcmp(model, "OLMODEL1", 8), "the link's target is not the model");
    free(model);
    CHECK(mkfifo(fifo, 0600) == 0);
    char cmd[4096]; /* a reader in the background, then optlab writes the log into the FIFO */
    snprintf(cmd, sizeof cmd,
             "(timeout 20 cat %s > %s &) ; timeout 20 %s train --data %s --model mlp:64-8-4 --epochs 2 --threads 1 --quiet "
             "--log %s; s=$?; sleep 0.3; exit $s",
             fifo, got, ol_test_bin(), dir, fifo);
    rc = ol_test_run(cmd, out, sizeof out);
    CHECK_MSG(rc == 0, "--log FIFO: exit %d: %s", rc, out);
    CHECK(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    char *csv = ol_test_slurp(got, &n);
    CHECK_MSG(csv && n > 20 && !memcmp(csv, "epoch,step,lr", 13), "the FIFO's reader got no CSV");
    free(csv);
    rc = optlab("train --data %s --model mlp:64-8-4 --epochs 1 --threads 1 --quiet --save /dev/full", dir);
    CHECK_MSG(rc == 1 && strstr(out, "No space left on device"), "--save /dev/full: exit %d: %s", rc, out);
    CHECK(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
}

/* Issue 16, "should not happen": `optlab train ... | head -1` died of SIGPIPE at the second progress
 * line and lost the run (no --save). Now it finishes and saves; stdout's lines after head left are
 * dropped. */
TEST(cli_a_closed_stdout_pipe_does_not_lose_the_run) {
    const char *model = ol_test_path("piped.bin");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s train --data %s --model mlp:64-8-4 --epochs 20 --threads 1 --save %s | head -1; "
             "echo \"optlab exit ${PIPESTATUS[0]}\"", ol_test_bin(), data_dir(), model);
    char bash[2300];
    snprintf(bash, sizeof bash, "bash -c '%s'", cmd);
    int rc = ol_test_run(bash, out, sizeof out);
    CHECK_MSG(rc == 0 && strstr(out, "optlab exit 0"), "exit %d: %s", rc, out);
    CHECK_MSG(file_exists(model), "no model saved: %s", out);
}

/* Issue 16, "should not happen": `--schedule ''` was taken as constant while `--opt ''` was
 * refused; a sweep grid with lr=0.10/0.1 ran one setting twice. Both are refused now. */
TEST(cli_bad_input_empty_specs_and_a_number_given_twice_in_a_grid) {
    int rc = optlab("train --data %s --model mlp:64-8-4 --epochs 1 --quiet --schedule ''", data_dir());
    CHECK_MSG(rc == 2 && strstr(out, "--schedule: an empty spec"), "exit %d: %s", rc, out);
    rc = optlab("train --data %s --model '' --epochs 1 --quiet", data_dir());
    CHECK_MSG(rc == 2 && strstr(out, "--model: an empty spec"), "exit %d: %s", rc, out);
    rc = optlab("sweep --grid 'lr=0.10/0.1' --epochs 1 --data %s --out %s", data_dir(), ol_test_path("dup-sweep"));
    CHECK_MSG(rc == 2 && strstr(out, "--grid lr: value 0.1 given twice"), "exit %d: %s", rc, out);
}
