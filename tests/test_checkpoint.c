/* test_checkpoint.c: the checkpoint container, and `optlab train --checkpoint/--resume` end to end:
 * a run killed with SIGKILL at a random step and resumed saves the same bytes as an uninterrupted
 * run; SIGTERM writes a checkpoint and exits 143; bad checkpoints are refused with a message that
 * says which; divergence stops with a clear message or rolls back. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fixtures.h"
#include "optlab/checkpoint.h"
#include "optlab/common.h"
#include "test.h"

static char out[1 << 16];

static const char *data_dir(void) {
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/ckpt-data", ol_test_tmpdir());
        if (fixture_make_dataset(dir, 3000, 300, 16, 10, 21, 0)) fprintf(stderr, "cannot make %s\n", dir);
    }
    return dir;
}

#define tmp ol_test_path

/* a command into `out` */
#define sh(...) ol_test_sh(out, sizeof out, __VA_ARGS__)

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- the container ---- */

TEST(checkpoint_container_round_trips_sections) {
    ol_ckpt c, d;
    ol_ckpt_init(&c);
    CHECK(ol_ckpt_add(&c, "ABCD", "hello", 5) == 0);
    CHECK(ol_ckpt_add(&c, "EMPT", NULL, 0) == 0);
    CHECK(ol_ckpt_write(&c, tmp("c.ckpt")) == 0);
    CHECK(ol_ckpt_read(&d, tmp("c.ckpt")) == 0);
    size_t len;
    const char *p = ol_ckpt_get(&d, "ABCD", &len);
    CHECK(p && len == 5 && !memcmp(p, "hello", 5));
    CHECK(ol_ckpt_get(&d, "EMPT", &len) != NULL && len == 0);
    CHECK(ol_ckpt_get(&d, "NONE", &len) == NULL);
    ol_ckpt_free(&c);
    ol_ckpt_free(&d);
}

static int parse_damaged(void (*damage)(unsigned char *, size_t *)) {
    ol_ckpt c, d;
    ol_ckpt_init(&c);
    ol_ckpt_add(&c, "DATA", "0123456789abcdef", 16);
    unsigned char *buf;
    size_t len;
    ol_ckpt_serialize(&c, &buf, &len);
    ol_ckpt_free(&c);
    damage(buf, &len);
    int rc = ol_ckpt_parse(&d, buf, len, "ck");
    if (!rc) ol_ckpt_free(&d);
    free(buf);
    return rc;
}
static void flip(unsigned char *b, size_t *len) { b[*len - 10] ^= 1; }
static void cut(unsigned char *b, size_t *len) { (void)b; *len -= 7; }
static void foreign(unsigned char *b, size_t *len) { (void)len; memcpy(b, "\x89PNG", 4); }
/* a file of a newer format: its version and a CRC that matches */
static void newer(unsigned char *b, size_t *len) {
    b[8] = 2;
    ol_put_u32(b + *len - 4, ol_crc32(0, b, *len - 4));
}
/* a flipped bit in the version field: corruption, not "newer" (the CRC is checked first) */
static void version_bit(unsigned char *b, size_t *len) { (void)len; b[8] ^= 4; }

TEST(checkpoint_corrupt_truncated_foreign_and_newer_are_refused_with_which) {
    CHECK(parse_damaged(flip) == OL_EFORMAT && strstr(ol_error(), "checksum"));
    CHECK(parse_damaged(cut) == OL_EFORMAT && strstr(ol_error(), "truncated"));
    CHECK(parse_damaged(foreign) == OL_EFORMAT && strstr(ol_error(), "not an optlab checkpoint"));
    CHECK(parse_damaged(newer) == OL_EFORMAT && strstr(ol_error(), "newer"));
    CHECK_MSG(parse_damaged(version_bit) == OL_EFORMAT && strstr(ol_error(), "checksum"), "%s", ol_error());
}

/* ---- resume ---- */

#define SGD_SETTINGS "--model mlp:256-64-10 --opt sgd:momentum=0.9 --lr 0.05 --batch 20 --schedule step:step_size=100,gamma=0.5 --seed 5 --threads 1 --quiet"
#define SGD_RUN SGD_SETTINGS " --epochs 4"
#define ADAM_RUN "--model mlp:256-64-10 --opt adam --lr 0.002 --batch 20 --epochs 4 --schedule cosine:t_max=600 --warmup 50 --seed 6 --threads 2 --quiet"

/* Runs args uninterrupted, then again with checkpoints every 7 steps killed by SIGKILL at a random
 * moment once a checkpoint exists, resumes it, and compares the saved models. */
static void kill_and_resume(const char *args, const char *name, unsigned seed) {
    char full[64], ck[64], resumed[64];
    snprintf(full, sizeof full, "%s-full.bin", name);
    snprintf(ck, sizeof ck, "%s.ckpt", name);
    snprintf(resumed, sizeof resumed, "%s-resumed.bin", name);
    const char *full_path = tmp(full), *ck_path = tmp(ck), *res_path = tmp(resumed);
    remove(ck_path);
    int rc = sh("%s train --data %s %s --save %s", ol_test_bin(), data_dir(), args, full_path);
    CHECK_MSG(rc == 0, "uninterrupted run failed: %s", out);
    srand(seed ^ (unsigned)time(NULL));
    double delay = (rand() % 200) / 1000.0;
    rc = sh("%s train --data %s %s --checkpoint %s --checkpoint-every 7 & pid=$!; "
            "while [ ! -f %s ] && kill -0 $pid 2>/dev/null; do sleep 0.005; done; sleep %.3f; kill -9 $pid 2>/dev/null; wait $pid; echo exit=$?",
            ol_test_bin(), data_dir(), args, ck_path, ck_path, delay);
    CHECK_MSG(exists(ck_path), "no checkpoint was written: %s", out);
    rc = sh("%s train --resume %s --data %s --save %s --quiet", ol_test_bin(), ck_path, data_dir(), res_path);
    CHECK_MSG(rc == 0, "resume failed (%d): %s", rc, out);
    CHECK_MSG(ol_test_same_file(full_path, res_path), "the resumed model differs from the uninterrupted one (killed after %.3f s)", delay);
}

TEST(checkpoint_sigkill_and_resume_gives_identical_bytes_sgd_momentum_step) {
    kill_and_resume(SGD_RUN, "sgd", 1);
}

TEST(checkpoint_sigkill_and_resume_gives_identical_bytes_adam_cosine_warmup) {
    kill_and_resume(ADAM_RUN, "adam", 2);
}

/* issue 19: L-BFGS's history ring, direction and scalars (full batch: one step an epoch, several
 * evaluations a step); ASGD's average and eta per group, the average evaluated and saved (the
 * flag comes back from the checkpoint) */
#define LBFGS_RUN "--model mlp:256-64-10 --opt lbfgs:history_size=4,max_iter=3 --lr 0.05 --batch full --epochs 12 --seed 7 --threads 1 --quiet"
#define ASGD_RUN "--model mlp:256-64-10 --opt asgd:t0=40,lambd=0.001 --lr 0.05 --batch 20 --epochs 4 --schedule cosine:t_max=600 --eval-average --no-decay-bias --seed 8 --threads 2 --quiet"

TEST(checkpoint_sigkill_and_resume_gives_identical_bytes_lbfgs_full_batch) {
    kill_and_resume(LBFGS_RUN, "lbfgs", 3);
}

TEST(checkpoint_sigkill_and_resume_gives_identical_bytes_asgd_averaged) {
    kill_and_resume(ASGD_RUN, "asgd", 4);
}

/* composed schedules (issue 19), with the momentum cycled: the state of every schedule in them
 * travels in the checkpoint (a wrapper optimizer, lookahead or sam, does not exist yet) */
#define COMPOSED_ADAM_RUN "--model mlp:256-64-10 --opt adam --lr 0.002 --batch 20 --epochs 4 --warmup 20 --schedule " \
    "'sequential:schedules=[constant-factor:factor=0.5,total_iters=80]/[onecycle:total_steps=300,cycle_momentum=1]/" \
    "[chain:schedules=[cosine:t_max=200,eta_min=0.0001]/[plateau:patience=0,factor=0.5]],milestones=100/400' " \
    "--seed 8 --threads 2 --quiet"
#define COMPOSED_SGD_RUN "--model mlp:256-64-10 --opt sgd:momentum=0.9 --lr 0.05 --batch 20 --epochs 4 --schedule " \
    "'sequential:schedules=[linear:start_factor=0.1,total_iters=50]/[cyclic:base_lr=0.01,max_lr=0.1,step_size_up=100," \
    "cycle_momentum=1]/[multiplicative:factor=0.99],milestones=50/450' --seed 9 --threads 1 --quiet"

TEST(checkpoint_sigkill_and_resume_gives_identical_bytes_composed_schedule_adam) {
    kill_and_resume(COMPOSED_ADAM_RUN, "composed-adam", 3);
}

TEST(checkpoint_sigkill_and_resume_gives_identical_bytes_composed_schedule_sgd) {
    kill_and_resume(COMPOSED_SGD_RUN, "composed-sgd", 4);
}

/* issue 19: schedule-free AdamW (its z, x and v, each group's lr_max and weight sum, its own
 * warm-up and a schedule over it; x evaluated and saved) */
#define SF_RUN "--model mlp:256-64-10 --opt sf-adamw:warmup_steps=30,weight_decay=0.01 --lr 0.005 --batch 20 --epochs 4 --schedule cosine:t_max=600 --no-decay-bias --seed 9 --threads 2 --quiet"

TEST(checkpoint_sigkill_and_resume_gives_identical_bytes_sf_adamw) {
    kill_and_resume(SF_RUN, "sf-adamw", 5);
}

TEST(checkpoint_sigterm_writes_a_checkpoint_and_exits_143) {
    const char *ck = tmp("term.ckpt"), *full = tmp("term-full.bin"), *res = tmp("term-res.bin");
    remove(ck);
    CHECK(sh("%s train --data %s %s --save %s", ol_test_bin(), data_dir(), SGD_RUN, full) == 0);
    /* checkpoint only on the signal: every 100000 steps never comes */
    sh("%s train --data %s %s --epochs 400 --checkpoint %s --checkpoint-every 100000 & pid=$!; sleep 0.5; kill -TERM $pid; wait $pid; echo exit=$?",
       ol_test_bin(), data_dir(), SGD_SETTINGS, ck);
    CHECK_MSG(strstr(out, "exit=143") != NULL, "%s", out);
    CHECK_MSG(strstr(out, "checkpoint written") != NULL, "%s", out);
    CHECK(exists(ck));
    /* resumed to 4 epochs it is the uninterrupted 4-epoch run, provided the signal came within
     * them (0.5 s of 400 epochs of this small run); a checkpoint past them is refused (issue 16:
     * it was "complete after 4 epochs" and saved the later model) */
    int rc = sh("%s train --resume %s --data %s --epochs 4 --save %s", ol_test_bin(), ck, data_dir(), res);
    if (rc == 2) {
        CHECK_MSG(strstr(out, "its run is past --epochs 4") && !exists(res), "%s", out);
        return;
    }
    CHECK_MSG(rc == 0, "%s", out);
    if (strstr(out, "at epoch 1,") || strstr(out, "at epoch 2,") || strstr(out, "at epoch 3,") || strstr(out, "at epoch 4,"))
        CHECK(ol_test_same_file(full, res));
}

TEST(checkpoint_resume_with_conflicting_settings_is_refused) {
    const char *ck = tmp("conflict.ckpt");
    CHECK(sh("%s train --data %s %s --epochs 1 --checkpoint %s", ol_test_bin(), data_dir(), SGD_SETTINGS, ck) == 0);
    CHECK(sh("%s train --resume %s --data %s --lr 0.5 --save %s", ol_test_bin(), ck, data_dir(), tmp("never.bin")) == 2);
    CHECK_MSG(strstr(out, "conflict") && strstr(out, "lr=0.5") && strstr(out, "lr=0.05"), "%s", out);
    CHECK(!exists(tmp("never.bin")));
}

TEST(checkpoint_resume_of_a_bad_file_is_refused_and_nothing_is_written) {
    const char *bad = tmp("bad.ckpt");
    sh("printf 'OLCKPT\\r\\nxxxx' > %s", bad);
    CHECK(sh("%s train --resume %s --data %s --save %s", ol_test_bin(), bad, data_dir(), tmp("never2.bin")) == 1);
    CHECK_MSG(strstr(out, "truncated") != NULL, "%s", out);
    CHECK(sh("%s train --resume %s --data %s", ol_test_bin(), tmp("missing.ckpt"), data_dir()) == 1);
    CHECK(!exists(tmp("never2.bin")));
}

TEST(checkpoint_divergence_stops_with_step_lr_and_cause_and_keeps_the_last_good_checkpoint) {
    const char *ck = tmp("div.ckpt");
    remove(ck);
    int rc = sh("%s train --data %s --model mlp:256-64-10 --opt sgd:momentum=0.9 --lr 1e6 --batch 20 --epochs 3 --checkpoint %s --checkpoint-every 1 --quiet",
                ol_test_bin(), data_dir(), ck);
    CHECK_MSG(rc == 1, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "diverged") && strstr(out, "step") && strstr(out, "lr 1e+06") && strstr(out, "learning rate is likely too high"),
              "%s", out);
    if (exists(ck)) { /* it diverged after at least one good step: that checkpoint still loads */
        ol_ckpt c;
        CHECK(ol_ckpt_read(&c, ck) == 0);
        ol_ckpt_free(&c);
    }
}

TEST(checkpoint_rollback_halves_the_lr_and_finishes) {
    int rc = sh("%s train --data %s --model mlp:256-64-10 --opt sgd:momentum=0.9 --lr 1e6 --batch 20 --epochs 2 --on-divergence rollback --max-rollbacks 40",
                ol_test_bin(), data_dir());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "rolled back") != NULL, "%s", out);
}

/* Issue 16, class 6: a checkpoint whose CRC is right but whose progress is impossible (epoch
 * 2^63-1 overflowed a counter and trained practically forever; a negative or NaN lr scale was
 * ignored and written back; 5000 rollbacks lifted --max-rollbacks) is refused on load. The
 * damaged copies are re-serialized, so their checksums are valid. */
TEST(checkpoint_with_impossible_progress_fields_is_refused) {
    const char *ck = tmp("fields.ck"), *bad = tmp("fields-bad.ck");
    CHECK(sh("%s train --data %s %s --epochs 1 --checkpoint %s", ol_test_bin(), data_dir(), SGD_SETTINGS, ck) == 0);
    static const struct {
        size_t offset;
        int is_f64, is_u32;
        double value;
        const char *field;
    } cases[] = {{4, 0, 0, 9.2e18, "epoch"}, {12, 0, 1, 7, "epoch_done"}, {48, 0, 1, 5000, "rollbacks"},
                 {52, 1, 0, -1, "lr scale"}, {52, 1, 0, NAN, "lr scale"}, {40, 1, 0, INFINITY, "seconds"}};
    static const char *const tags[] = {"CONF", "DATA", "PROG", "MODL", "OPTM", "SAMP", "LOGR"};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ol_ckpt c, d;
        CHECK(ol_ckpt_read(&c, ck) == 0);
        ol_ckpt_init(&d);
        for (size_t t = 0; t < sizeof tags / sizeof tags[0]; t++) {
            size_t len;
            const unsigned char *sec = ol_ckpt_get(&c, tags[t], &len);
            CHECK(sec);
            unsigned char copy[256];
            if (!strcmp(tags[t], "PROG")) {
                CHECK(len <= sizeof copy);
                memcpy(copy, sec, len);
                if (cases[k].is_f64) ol_put_f64(copy + cases[k].offset, cases[k].value);
                else if (cases[k].is_u32) ol_put_u32(copy + cases[k].offset, (uint32_t)cases[k].value);
                else ol_put_u64(copy + cases[k].offset, (uint64_t)cases[k].value);
                sec = copy;
            }
            CHECK(ol_ckpt_add(&d, tags[t], sec, len) == 0);
        }
        CHECK(ol_ckpt_write(&d, bad) == 0);
        ol_ckpt_free(&c);
        ol_ckpt_free(&d);
        int rc = sh("%s train --resume %s --data %s --epochs 3 --quiet", ol_test_bin(), bad, data_dir());
        CHECK_MSG(rc == 1 && strstr(out, "corrupt progress section") && strstr(out, cases[k].field),
                  "%s = %g: exit %d: %s", cases[k].field, cases[k].value, rc, out);
    }
}
