/* test_train.c: ol_train_fit called as a library (the CLI's own tests are in test_cli.c). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/nn.h"
#include "optlab/parallel.h"
#include "optlab/train.h"
#include "test.h"

/* A onecycle schedule only has to cover the steps the run will take: with max_steps that is
 * max_steps, not epochs x batches; one step short is refused before training (OL_EARG). */
TEST(train_onecycle_needs_to_cover_max_steps_only) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/train-data", ol_test_tmpdir());
    CHECK(fixture_make_dataset(dir, 100, 20, 4, 3, 5, 0) == 0);
    for (int short_by = 0; short_by <= 1; short_by++) {
        ol_dataset train, test;
        CHECK(ol_data_load(dir, &train, &test) == 0);
        ol_train_config c = ol_train_default_config();
        char sched[64];
        snprintf(sched, sizeof sched, "onecycle:total_steps=%d", 20 - short_by);
        c.model_spec = "mlp:16-8-3";
        c.batch = 10;
        c.epochs = 100;      /* 1000 steps planned by epochs alone */
        c.max_steps = 20;
        c.schedule = sched;
        c.quiet = 1;
        c.threads = 1;
        ol_train_result r;
        int rc = ol_train_fit(&c, &train, &test, &r);
        ol_dataset_free(&train);
        ol_dataset_free(&test);
        if (short_by) {
            CHECK_EQ_INT(rc, OL_EARG);
            CHECK_MSG(strstr(ol_error(), "plans 20") != NULL, "%s", ol_error());
        } else {
            CHECK_MSG(rc == 0, "%s", ol_error());
            CHECK_EQ_INT(r.steps, 20);
        }
    }
}

/* --threads not given: the loop times the candidates and trains on the fastest; the model is the
 * same bytes as with one thread (the count changes the speed, never a value), the caller's thread
 * count is restored, and short runs (under 200 steps) measure nothing. */
TEST(train_chooses_its_thread_count_by_timing_and_gets_the_same_bytes) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/auto-threads", ol_test_tmpdir());
    CHECK(fixture_make_dataset(dir, 600, 20, 8, 4, 9, 0) == 0);
    int cores = omp_get_max_threads();
    float *models[2] = {NULL, NULL};
    size_t n_params = 0;
    for (int run = 0; run < 2; run++) {
        ol_dataset train, test;
        CHECK(ol_data_load(dir, &train, &test) == 0);
        ol_mlp m;
        CHECK(ol_mlp_create(&m, "mlp:64-32-4", 0) == 0);
        ol_mlp_init(&m, 3);
        ol_train_config c = ol_train_default_config();
        c.model = &m;
        c.batch = 12;
        c.epochs = 5;        /* 250 steps */
        c.opt = "adam";
        c.lr = 0.01;
        c.quiet = 1;
        c.threads = run == 0 ? 1 : 0;
        ol_train_result r;
        int rc = ol_train_fit(&c, &train, &test, &r);
        ol_dataset_free(&train);
        ol_dataset_free(&test);
        CHECK_MSG(rc == 0, "%s", ol_error());
        CHECK_EQ_INT(r.steps, 250);
        if (run == 0) CHECK_EQ_INT(r.threads, 0); /* given: nothing chosen */
        else if (cores > 1) CHECK_MSG(r.threads >= 1 && r.threads <= cores, "chose %d of %d", r.threads, cores);
        else CHECK_EQ_INT(r.threads, 0);
        CHECK_EQ_INT(omp_get_max_threads(), run == 0 ? 1 : cores);
        n_params = m.n_params;
        models[run] = malloc(n_params * sizeof(float));
        CHECK(models[run]);
        memcpy(models[run], m.params, n_params * sizeof(float));
        ol_mlp_free(&m);
        if (run == 0) ol_parallel_set_threads(cores);
    }
    CHECK(memcmp(models[0], models[1], n_params * sizeof(float)) == 0);
    free(models[0]);
    free(models[1]);
}

/* Issue 16: a NaN in the weights into a hidden ReLU unit leaves the loss finite (the unit outputs 0,
 * its gradient is 0), and the checkpoint code skipped every later checkpoint without a word while
 * the run "succeeded". Now the first checkpoint after it ends the run with the divergence error. */
static void poison_at_step_3(void *userdata, long step, double seconds, double loss, double lr) {
    (void)seconds, (void)loss, (void)lr;
    ol_mlp *m = userdata;
    if (step == 3) m->params[0] = NAN; /* the first weight into hidden unit 0 */
}

TEST(train_never_skips_a_checkpoint_silently_when_a_parameter_is_nan) {
    char dir[512], ck[600];
    snprintf(dir, sizeof dir, "%s/nan-params", ol_test_tmpdir());
    snprintf(ck, sizeof ck, "%s/ck", dir);
    CHECK(fixture_make_dataset(dir, 120, 20, 8, 4, 9, 0) == 0);
    ol_dataset train, test;
    CHECK(ol_data_load(dir, &train, &test) == 0);
    ol_mlp m;
    CHECK(ol_mlp_create(&m, "mlp:64-16-4", 0) == 0);
    ol_mlp_init(&m, 3);
    ol_train_config c = ol_train_default_config();
    c.model = &m;
    c.batch = 12;
    c.epochs = 2;
    c.quiet = 1;
    c.threads = 1;
    c.checkpoint_path = ck;
    c.checkpoint_every = 5;
    c.on_step = poison_at_step_3;
    c.userdata = &m;
    ol_train_result r;
    int rc = ol_train_fit(&c, &train, &test, &r);
    CHECK_MSG(rc == OL_ENUMERIC, "rc %d: %s", rc, ol_error());
    CHECK_MSG(strstr(ol_error(), "1 of the 1108 parameters hold NaN or Inf at step 5") && strstr(ol_error(), "diverged"), "%s",
              ol_error());
    CHECK_MSG(access(ck, F_OK) != 0, "a checkpoint was written");
    ol_dataset_free(&train);
    ol_dataset_free(&test);
    ol_mlp_free(&m);
}
