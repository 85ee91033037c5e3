/* test_play_train.c: training in the report's page (optlab/play_train.h, issue 18): the page's
 * subset format (ol_data_subset_bytes, ol_data_load_subset), a run's refusals with the command's
 * messages, and its step log against `OPTLAB_GEMM=portable optlab train ... --step-log F`, byte
 * for byte, natively and in the WebAssembly module (tests/play_train_node.js); the command's new
 * flags (--test-subset, --init-seed, --perturb, --step-log). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "optlab/data.h"
#include "optlab/gemm.h"
#include "optlab/play_train.h"
#include "optlab/train.h"
#include "test.h"

static char out[1 << 16];

/* the fixture: 28x28 images, 300 training and 100 test, 10 classes */
static const char *dataset(void) { return ol_test_dataset("play_train", 300, 100, 28, 10, 11); }

/* the fixture's sets as the page holds them (all of them) */
static ol_play_data *page_data(void) {
    ol_dataset train, test;
    uint8_t *bytes;
    size_t len;
    if (ol_data_load(dataset(), &train, &test)) return NULL;
    int rc = ol_data_subset_bytes(&train, &test, train.n, test.n, &bytes, &len);
    ol_dataset_free(&train);
    ol_dataset_free(&test);
    if (rc) return NULL;
    ol_play_data *d = ol_play_data_load(bytes, len);
    free(bytes);
    return d;
}

/* "--a=1 --b" -> the page's text "--a=1\n--b" */
static void page_flags(const char *words, char *text, size_t cap) {
    snprintf(text, cap, "%s", words);
    for (char *p = text; *p; p++)
        if (*p == ' ') *p = '\n';
}

/* the command's run of the same flags with --step-log: its exit status; its output in out */
static int cli_run(const char *words, const char *step_log) {
    return ol_test_sh(out, sizeof out, "OPTLAB_GEMM=portable %s train --data %s %s --step-log %s --quiet", ol_test_bin(),
                      dataset(), words, step_log);
}

/* The runs the page makes, each also made in WebAssembly (play_train_node.js): the lecture's
 * 784-20-10 with full-batch GD, Adam on mini-batches, the lecture's RMSprop, tanh units, one base
 * model perturbed, a linear model without normalization, a held-out validation split. */
static const char *const cases[] = {
    "--model=mlp:784-20-10 --opt=gd --lr=0.1 --batch=full --epochs=8 --normalize --subset=200 --test-subset=50",
    "--model=mlp:784-20-10 --opt=adam --lr=0.003 --batch=25 --epochs=2 --normalize --seed=3",
    "--model=mlp:784-20-10 --opt=rmsprop:alpha=0.8,eps_inside=1 --lr=0.001 --batch=50 --epochs=2 --normalize --subset=250",
    "--model=mlp:784-16-10,act=tanh --opt=sgd:momentum=0.9 --lr=0.05 --batch=32 --epochs=2 --normalize --seed=7",
    "--model=mlp:784-12-12-10 --opt=gd --lr=0.2 --batch=full --epochs=6 --normalize --init-seed=4 --perturb=0.2 --seed=9",
    "--model=mlp:784-10 --opt=gd --lr=0.5 --batch=full --epochs=4 --init-seed=2 --subset=100",
    "--model=mlp:784-24-10,act=sigmoid --opt=adamw --lr=0.01 --batch=40 --epochs=2 --normalize --schedule=cosine:t_max=15 --clip-norm=0.5",
    "--model=mlp:784-16-10 --opt=sgd --lr=0.05 --batch=32 --epochs=2 --normalize --subset=250 --val-split=0.2 --seed=5",
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- the subset's format ---- */

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

TEST(data_subset_bytes_are_four_idx_files_one_after_the_other) {
    uint8_t train_px[3 * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, train_lab[3] = {0, 2, 1};
    uint8_t test_px[2 * 4] = {20, 21, 22, 23, 24, 25, 26, 27}, test_lab[2] = {3, 0};
    ol_dataset train = {3, 2, 2, train_px, train_lab, 3, 0}, test = {2, 2, 2, test_px, test_lab, 4, 0};
    uint8_t *bytes;
    size_t len;
    CHECK(ol_data_subset_bytes(&train, &test, 2, 1, &bytes, &len) == OL_OK);
    static const uint8_t want[] = {
        0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8, /* 2 training images of 2x2 */
        0, 0, 8, 1, 0, 0, 0, 2, 0, 2,                                           /* their labels */
        0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 20, 21, 22, 23,         /* 1 test image */
        0, 0, 8, 1, 0, 0, 0, 1, 3,                                              /* its label */
    };
    CHECK_EQ_INT(len, sizeof want);
    CHECK(memcmp(bytes, want, len) == 0);
    ol_dataset a, b;
    CHECK(ol_data_load_subset(bytes, len, &a, &b) == OL_OK);
    CHECK(a.n == 2 && a.rows == 2 && a.cols == 2 && b.n == 1 && memcmp(a.pixels, train_px, 8) == 0 &&
          memcmp(b.pixels, test_px, 4) == 0 && a.labels[1] == 2 && b.labels[0] == 3);
    CHECK_EQ_INT(a.n_classes, 4); /* 1 + the largest label over both */
    CHECK_EQ_INT(b.n_classes, 4);
    ol_dataset_free(&a);
    ol_dataset_free(&b);
    free(bytes);
    CHECK(ol_data_subset_bytes(&train, &test, 4, 1, &bytes, &len) == OL_EARG); /* more than it has */
    CHECK(strstr(ol_error(), "[1, the set's count]") && bytes == NULL);
}

/* bad bytes: each refused with the file (of the four) and what is wrong */
TEST(play_data_load_refuses_bad_bytes) {
    uint8_t good[16 + 4 + 9 + 16 + 4 + 9];
    size_t len = 0;
    uint8_t *p = good;
    for (int set = 0; set < 2; set++) { /* 1 image of 2x2 and its label, twice */
        put32(p, 0x803), put32(p + 4, 1), put32(p + 8, 2), put32(p + 12, 2);
        memset(p + 16, 7, 4);
        p += 20;
        put32(p, 0x801), put32(p + 4, 1), p[8] = (uint8_t)set;
        p += 9;
    }
    len = (size_t)(p - good);
    ol_play_data *d = ol_play_data_load(good, len);
    CHECK(d != NULL);
    CHECK(ol_play_data_count(d, 0) == 1 && ol_play_data_count(d, 1) == 1 && ol_play_data_rows(d) == 2 &&
          ol_play_data_cols(d) == 2 && ol_play_data_classes(d) == 2 && ol_play_data_labels(d, 1)[0] == 1 &&
          ol_play_data_pixels(d, 0)[3] == 7);
    ol_play_data_free(d);
    uint8_t bad[sizeof good + 8];
    struct {
        const char *what, *message;
        size_t len;
        void (*edit)(uint8_t *);
    } cases[] = {
        {"empty", "the subset is empty", 0, NULL},
        {"truncated in the last file", "the subset's test labels (file 4 of 4): truncated: header says 1 labels, file holds 0", 0, NULL},
        {"truncated in a header", "the subset's training labels (file 2 of 4): truncated header", 22, NULL},
        {"bytes after the fourth file", "3 unexpected bytes after the four IDX files", 0, NULL},
    };
    CHECK(ol_play_data_load(bad, 0) == NULL && strstr(ol_play_error(), cases[0].message));
    memcpy(bad, good, len);
    CHECK(ol_play_data_load(bad, len - 1) == NULL);
    CHECK_MSG(strstr(ol_play_error(), cases[1].message), "%s", ol_play_error());
    CHECK(ol_play_data_load(bad, cases[2].len) == NULL);
    CHECK_MSG(strstr(ol_play_error(), cases[2].message), "%s", ol_play_error());
    memset(bad + len, 0, 3);
    CHECK(ol_play_data_load(bad, len + 3) == NULL);
    CHECK_MSG(strstr(ol_play_error(), cases[3].message), "%s", ol_play_error());
    /* wrong magic: the training labels where the images should be */
    memcpy(bad, good, len);
    put32(bad, 0x801);
    CHECK(ol_play_data_load(bad, len) == NULL);
    CHECK_MSG(strstr(ol_play_error(), "the subset's training images (file 1 of 4): is a label file"), "%s", ol_play_error());
    memcpy(bad, good, len);
    bad[0] = 0x1f;
    CHECK(ol_play_data_load(bad, len) == NULL && strstr(ol_play_error(), "not an IDX file"));
    /* counts that disagree: 2 test labels for 1 test image (and so a file short) */
    memcpy(bad, good, len);
    put32(bad + 29 + 20 + 4, 2);
    bad[len] = 5;
    CHECK(ol_play_data_load(bad, len + 1) == NULL);
    CHECK_MSG(strstr(ol_play_error(), "has 1 images but the subset's test labels (file 4 of 4) has 2 labels"), "%s",
              ol_play_error());
    /* mismatched shapes: the test image 1x4 */
    memcpy(bad, good, len);
    put32(bad + 29 + 8, 1), put32(bad + 29 + 12, 4);
    CHECK(ol_play_data_load(bad, len) == NULL);
    CHECK_MSG(strstr(ol_play_error(), "test images are 1x4 but training images"), "%s", ol_play_error());
    /* a zero count */
    memcpy(bad, good, len);
    put32(bad + 4, 0);
    CHECK(ol_play_data_load(bad, len) == NULL && strstr(ol_play_error(), "zero size in header"));
}

/* ---- a run's settings ---- */

/* Each bad setting is refused with the message the command prints after "optlab: " */
TEST(play_fit_refuses_what_the_command_refuses_with_its_message) {
    ol_play_data *d = page_data();
    CHECK(d != NULL);
    static const char *const bad[] = {
        "--lr=abc", "--batch=0", "--epochs=0", "--opt=nosuch", "--model=mlp:784-x-10", "--perturb=-1",
        "--test-subset=0", "--init-seed=-3", "--nosuch=1", "--lr=0.1 --lr=0.2", "--schedule=", "--normalize=2",
        "--clip-norm=1 --clip-value=1", "--model=mlp:100-10",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        page_flags(bad[i], text, sizeof text);
        ol_play_fit *f = ol_play_fit_run(d, text);
        CHECK(f != NULL);
        int rc = cli_run(bad[i], ol_test_path("refused.csv"));
        char *last = out + strlen(out);
        while (last > out && last[-1] == '\n') *--last = 0;
        while (last > out && last[-1] != '\n') last--;
        CHECK_MSG(ol_play_fit_status(f) != 0 && rc == 2, "%s: page status %d, command exit %d: %s", bad[i],
                  ol_play_fit_status(f), rc, out);
        CHECK_MSG(!strncmp(last, "optlab: ", 8) && !strcmp(last + 8, ol_play_fit_message(f)),
                  "%s:\n  page:    %s\n  command: %s", bad[i], ol_play_fit_message(f), last);
        CHECK(ol_play_fit_rows(f) == 0 && isnan(ol_play_fit_loss(f, 1)));
        ol_play_fit_free(f);
    }
    /* the command's files, threads and data: the page has none */
    static const char *const refused[] = {"--data=mnist", "--threads=2", "--save=m.bin", "--step-log=s.csv", "--log=l.csv",
                                          "--checkpoint=c.ck", "--resume=c.ck", "--checkpoint-every=5"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ol_play_fit *f = ol_play_fit_run(d, refused[i]);
        CHECK_MSG(ol_play_fit_status(f) == OL_EARG && strstr(ol_play_fit_message(f), "the page") &&
                      !strncmp(ol_play_fit_message(f), "optlab train --", 15),
                  "%s: %s", refused[i], ol_play_fit_message(f));
        ol_play_fit_free(f);
    }
    ol_play_fit *f = ol_play_fit_run(d, "--max-steps=0");
    CHECK_MSG(strstr(ol_play_fit_message(f), "optlab train --max-steps: 0 is out of range [1, "), "%s", ol_play_fit_message(f));
    ol_play_fit_free(f);
    f = ol_play_fit_run(d, "--time-budget=-1");
    CHECK_MSG(strstr(ol_play_fit_message(f), "--time-budget must be a number of seconds >= 0 (0: no budget)"), "%s", ol_play_fit_message(f));
    ol_play_fit_free(f);
    ol_play_data_free(d);
}

/* ---- the same bytes as the command line ---- */

static long progress_steps;
static double progress_first_param;
static void count_progress(long step, double seconds, double loss, double lr, const float *params, long n_params) {
    (void)seconds, (void)loss, (void)lr;
    progress_steps = step;
    if (n_params > 0) progress_first_param = params[0];
}

TEST(play_fit_step_log_is_the_commands_byte_for_byte) {
    CHECK(ol_gemm_set_kernel("portable") == OL_OK); /* as OPTLAB_GEMM=portable, the page's product */
    ol_play_data *d = page_data();
    CHECK(d != NULL);
    ol_play_fit_set_progress(count_progress);
    for (int i = 0; i < N_CASES; i++) {
        char text[512], *csv;
        page_flags(cases[i], text, sizeof text);
        progress_steps = 0;
        ol_play_fit *f = ol_play_fit_run(d, text);
        CHECK_MSG(ol_play_fit_status(f) == 0, "%s: %s", cases[i], ol_play_fit_message(f));
        const char *log = ol_test_path("steps.csv");
        int rc = cli_run(cases[i], log);
        CHECK_MSG(rc == 0, "%s: exit %d: %s", cases[i], rc, out);
        CHECK(ol_play_fit_log_csv(f) != NULL && (csv = ol_test_slurp(log, NULL)) != NULL);
        CHECK_MSG(!strcmp(csv, ol_play_fit_log_csv(f)), "%s: the page's log differs from the command's:\n%.300s\n---\n%.300s",
                  cases[i], ol_play_fit_log_csv(f), csv);
        CHECK(ol_play_fit_rows(f) > 0 && progress_steps == ol_play_fit_rows(f));
        CHECK(progress_first_param == ol_play_fit_params(f)[0]); /* the live block, after the last step */
        /* the test accuracy the command prints is the page's after the run */
        char want[64];
        snprintf(want, sizeof want, "test accuracy %.2f%%", 100 * ol_play_fit_accuracy(f, 1));
        CHECK_MSG(strstr(out, want), "%s: the command printed %s, the page has %s", cases[i], out, want);
        CHECK(ol_play_fit_accuracy(f, 0) >= 0 && ol_play_fit_accuracy(f, 0) <= 1 && ol_play_fit_loss(f, 0) > 0 &&
              ol_play_fit_seconds(f) >= 0);
        free(csv);
        ol_play_fit_free(f);
    }
    ol_play_fit_set_progress(NULL);
    ol_play_data_free(d);
    CHECK(ol_gemm_set_kernel("auto") == OL_OK);
}

static void stop_at_step_3(long step, double seconds, double loss, double lr, const float *params, long n_params) {
    (void)seconds, (void)loss, (void)lr, (void)params, (void)n_params;
    if (step == 3) ol_play_fit_stop();
}

/* The trace, the model's shape and parameters, the page's own --max-steps and --time-budget, and
 * its Stop (from the progress report) */
TEST(play_fit_keeps_the_trace_model_and_budgets) {
    ol_play_data *d = page_data();
    CHECK(d != NULL);
    ol_play_fit *f = ol_play_fit_run(d, "--model=mlp:784-8-10\n--opt=sgd\n--lr=0.05\n--batch=20\n--epochs=50\n--normalize\n--max-steps=7");
    CHECK_MSG(ol_play_fit_status(f) == 0, "%s", ol_play_fit_message(f));
    CHECK_EQ_INT(ol_play_fit_rows(f), 7);
    const double *t = ol_play_fit_trace(f);
    for (int k = 0; k < 7; k++) CHECK(t[4 * k] == k + 1 && t[4 * k + 1] >= 0 && t[4 * k + 2] == 0.05 && t[4 * k + 3] > 0);
    CHECK(ol_play_fit_layers(f) == 2 && ol_play_fit_size(f, 0) == 784 && ol_play_fit_size(f, 1) == 8 &&
          ol_play_fit_size(f, 2) == 10 && ol_play_fit_n_params(f) == 784 * 8 + 8 + 8 * 10 + 10);
    for (long i = 0; i < ol_play_fit_n_params(f); i++) CHECK(isfinite(ol_play_fit_params(f)[i]));
    ol_play_fit_free(f);
    f = ol_play_fit_run(d, "--model=mlp:784-8-10\n--batch=10\n--epochs=100000\n--time-budget=0.2");
    CHECK_MSG(ol_play_fit_status(f) == 0, "%s", ol_play_fit_message(f));
    /* stopped by the budget, not by the 100,000 epochs (a time: its lower bound only) */
    CHECK(ol_play_fit_seconds(f) >= 0.2 && ol_play_fit_rows(f) >= 1 && ol_play_fit_rows(f) < 100000L * 30);
    CHECK(!isnan(ol_play_fit_accuracy(f, 1)));
    ol_play_fit_free(f);
    ol_play_fit_set_progress(stop_at_step_3);
    f = ol_play_fit_run(d, "--model=mlp:784-8-10\n--batch=10\n--epochs=3");
    ol_play_fit_set_progress(NULL);
    CHECK_MSG(ol_play_fit_status(f) == OL_ESTOPPED && !strcmp(ol_play_fit_message(f), "stopped at step 3"), "%d %s",
              ol_play_fit_status(f), ol_play_fit_message(f));
    CHECK(ol_play_fit_rows(f) == 3 && isnan(ol_play_fit_loss(f, 1)) && ol_play_fit_n_params(f) > 0);
    ol_play_fit_free(f);
    f = ol_play_fit_run(d, "--model=mlp:784-8-10\n--batch=10\n--max-steps=4"); /* the next run starts afresh */
    CHECK(ol_play_fit_status(f) == 0 && ol_play_fit_rows(f) == 4);
    ol_play_fit_free(f);
    ol_play_data_free(d);
}

/* --perturb and --init-seed: the notebook's "one base model perturbed" (the base from --init-seed,
 * the noise from --seed) */
TEST(cli_init_seed_and_perturb_define_the_initial_model) {
    const char *base = "--model=mlp:784-10 --opt=gd --lr=0.1 --batch=full --epochs=1 --normalize";
    const char *logs[5] = {ol_test_path("a.csv"), ol_test_path("b.csv"), ol_test_path("c.csv"), ol_test_path("d.csv"),
                           ol_test_path("e.csv")};
    char words[512];
    const char *extra[5] = {"--seed=5", "--seed=5 --init-seed=5", "--seed=6 --init-seed=5", "--seed=5 --perturb=0.2",
                            "--seed=6 --init-seed=5 --perturb=0.2"};
    char *text[5];
    for (int i = 0; i < 5; i++) {
        snprintf(words, sizeof words, "%s %s", base, extra[i]);
        CHECK_MSG(cli_run(words, logs[i]) == 0, "%s", out);
        CHECK((text[i] = ol_test_slurp(logs[i], NULL)) != NULL);
    }
    CHECK(!strcmp(text[0], text[1]));  /* --init-seed defaults to --seed */
    CHECK(!strcmp(text[1], text[2]));  /* full batch: the seed only draws the init, which --init-seed fixes */
    CHECK(strcmp(text[0], text[3]));   /* perturbed */
    CHECK(strcmp(text[3], text[4]));   /* another perturbation of the same base */
    for (int i = 0; i < 5; i++) free(text[i]);
    /* bad values, with the fix */
    CHECK(ol_test_sh(out, sizeof out, "%s train --data %s --perturb nan", ol_test_bin(), dataset()) == 2);
    CHECK_MSG(strstr(out, "optlab train --perturb"), "%s", out);
    CHECK(ol_test_sh(out, sizeof out, "%s train --data %s --perturb -0.5", ol_test_bin(), dataset()) == 2);
    CHECK_MSG(strstr(out, "--perturb must be a finite standard deviation >= 0"), "%s", out);
    /* --step-log is an output: never one of the inputs or another output */
    CHECK(ol_test_sh(out, sizeof out, "%s train --data %s --epochs 1 --log %s --step-log %s", ol_test_bin(), dataset(),
                     logs[0], logs[0]) == 2);
    CHECK_MSG(strstr(out, "--step-log") && strstr(out, "--log"), "%s", out);
}

/* --test-subset: the test evaluation on its first N examples; the step log unchanged */
TEST(cli_test_subset_evaluates_the_first_test_examples) {
    const char *words = "--model=mlp:784-10 --opt=gd --lr=0.1 --batch=full --epochs=2 --normalize --subset=100";
    char all[512], few[512];
    snprintf(all, sizeof all, "%s", words);
    snprintf(few, sizeof few, "%s --test-subset=7", words);
    CHECK(cli_run(all, ol_test_path("all.csv")) == 0);
    char *line_all = strdup(strstr(out, "test accuracy") ? strstr(out, "test accuracy") : "");
    CHECK(cli_run(few, ol_test_path("few.csv")) == 0);
    char *acc = strstr(out, "test accuracy ");
    CHECK(acc != NULL && strcmp(acc, line_all));
    double pct = atof(acc + strlen("test accuracy "));
    double k = pct * 7 / 100; /* a whole number of 7 examples */
    CHECK_MSG(fabs(k - floor(k + 0.5)) < 0.01, "%s", acc);
    CHECK(ol_test_same_file(ol_test_path("all.csv"), ol_test_path("few.csv")));
    free(line_all);
}

/* --max-steps stops the command where the page's run stops: the steps taken are the first steps of
 * the whole run; --time-budget below 0 is refused before any work */
TEST(cli_max_steps_and_time_budget_stop_the_run_early) {
    const char *words = "--model=mlp:784-10 --opt=sgd --lr=0.1 --batch=20 --epochs=2 --normalize --subset=100";
    char cut[512];
    snprintf(cut, sizeof cut, "%s --max-steps=7", words);
    CHECK(cli_run(words, ol_test_path("whole.csv")) == 0);
    CHECK(cli_run(cut, ol_test_path("cut.csv")) == 0);
    char *whole = ol_test_slurp(ol_test_path("whole.csv"), NULL), *seven = ol_test_slurp(ol_test_path("cut.csv"), NULL);
    CHECK(whole && seven);
    if (whole && seven) {
        int rows = 0;
        for (const char *p = seven; *p; p++) rows += *p == '\n';
        CHECK_MSG(rows == 8, "header + 7 steps, got %d lines", rows); /* 10 steps in the whole run */
        CHECK(strlen(seven) < strlen(whole) && !strncmp(whole, seven, strlen(seven)));
    }
    free(whole);
    free(seven);
    CHECK(ol_test_sh(out, sizeof out, "%s train --data %s --time-budget -1", ol_test_bin(), dataset()) == 2);
    CHECK_MSG(strstr(out, "--time-budget must be a number of seconds >= 0 (0: no budget), got -1"), "%s", out);
    CHECK(ol_test_sh(out, sizeof out, "%s train --data %s --max-steps 0", ol_test_bin(), dataset()) == 2);
    CHECK_MSG(strstr(out, "--max-steps: 0 is out of range [1, "), "%s", out);
}

/* ---- WebAssembly ---- */

/* The same runs in build/wasm/optlab.wasm through web/play.js (node): the command's step log byte
 * for byte, and the page's refusals with the native page's messages. */
TEST(play_fit_in_webassembly_gives_the_commands_step_log_byte_for_byte) {
    struct stat st;
    if (stat("build/wasm/optlab.wasm", &st) != 0)
        SKIP("build/wasm/optlab.wasm not built (make wasm; it needs clang, lld and wasi-libc: scripts/setup.sh)");
    if (ol_test_run("command -v node", out, sizeof out) != 0) SKIP("node not found (scripts/setup.sh installs nodejs)");
    ol_dataset train, test;
    uint8_t *bytes;
    size_t len;
    CHECK(ol_data_load(dataset(), &train, &test) == OL_OK);
    CHECK(ol_data_subset_bytes(&train, &test, train.n, test.n, &bytes, &len) == OL_OK);
    ol_dataset_free(&train);
    ol_dataset_free(&test);
    const char *subset = ol_test_path("subset.idx"), *list = ol_test_path("cases.txt"), *dir = ol_test_tmpdir();
    FILE *f = fopen(subset, "wb");
    CHECK(f && fwrite(bytes, 1, len, f) == len && fclose(f) == 0);
    free(bytes);
    static const char *const refused[] = {"--lr=abc", "--threads=2", "--opt=nosuch"};
    CHECK((f = fopen(list, "w")) != NULL);
    for (int i = 0; i < N_CASES; i++) fprintf(f, "%s\n", cases[i]);
    for (int i = 0; i < 3; i++) fprintf(f, "%s\n", refused[i]);
    CHECK(fclose(f) == 0);
    int rc = ol_test_sh(out, sizeof out, "node tests/play_train_node.js build/wasm/optlab.wasm web/play.js %s %s %s < %s",
                        subset, dir, dataset(), list);
    CHECK_MSG(rc == 0, "node: exit %d: %s", rc, out);
    ol_play_data *d = page_data();
    CHECK(d != NULL);
    for (int i = 0; i < N_CASES + 3; i++) {
        char path[800];
        snprintf(path, sizeof path, "%s/%d.csv", dir, i);
        char *csv = ol_test_slurp(path, NULL);
        snprintf(path, sizeof path, "%s/%d.txt", dir, i);
        char *result = ol_test_slurp(path, NULL);
        CHECK_MSG(csv && result, "case %d: no result from node: %s", i, out);
        if (i < N_CASES) { /* the command line the page shows for the run, run in a directory of its own */
            snprintf(path, sizeof path, "%s/%d.cmd", dir, i);
            char *cmd = ol_test_slurp(path, NULL), run_dir[700];
            const char *prefix = "OPTLAB_GEMM=portable optlab train ";
            CHECK_MSG(cmd && !strncmp(cmd, prefix, strlen(prefix)), "%s: the page's command: %s", cases[i], cmd ? cmd : "(none)");
            snprintf(run_dir, sizeof run_dir, "%s/run%d", dir, i);
            char bin[4096];
            CHECK(realpath(ol_test_bin(), bin) != NULL);
            rc = ol_test_sh(out, sizeof out, "mkdir %s && cd %s && OPTLAB_GEMM=portable %s train %s", run_dir, run_dir, bin,
                            cmd + strlen(prefix));
            CHECK_MSG(rc == 0, "%s: exit %d: %s", cmd, rc, out);
            free(cmd);
            snprintf(path, sizeof path, "%s/steps.csv", run_dir);
            char *want = ol_test_slurp(path, NULL);
            CHECK_MSG(want && !strcmp(csv, want), "%s: WebAssembly's log differs from the command's:\n%.300s\n---\n%.300s",
                      cases[i], csv, want ? want : "(none)");
            CHECK_MSG(!strncmp(result, "status 0\n", 9), "%s: %s", cases[i], result);
            free(want);
        } else {
            char text[128];
            page_flags(refused[i - N_CASES], text, sizeof text);
            ol_play_fit *native = ol_play_fit_run(d, text);
            char want[1200];
            snprintf(want, sizeof want, "status %d\n%s\n", ol_play_fit_status(native), ol_play_fit_message(native));
            CHECK_MSG(!strcmp(result, want), "%s: WebAssembly %s, natively %s", refused[i - N_CASES], result, want);
            ol_play_fit_free(native);
        }
        free(csv);
        free(result);
    }
    ol_play_data_free(d);
    printf("    %d runs in WebAssembly (node) equal the command's step log byte for byte\n", N_CASES);
}
