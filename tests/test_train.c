/* test_train.c: ol_train_fit called as a library (the CLI's own tests are in test_cli.c). */
#include <stdio.h>
#include <string.h>

#include "fixtures.h"
#include "optlab/common.h"
#include "optlab/data.h"
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
