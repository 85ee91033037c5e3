/* test_hardening_resume.c: issue 16, what identifies a resumed run and a model: a checkpoint
 * resumed from another directory finds its data (or says what to pass), its identity covers the
 * pixels, a path with a newline survives the settings record, --epochs below the checkpoint's is
 * refused, and a model records the image shape it was trained on. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fixtures.h"
#include "optlab/checkpoint.h"
#include "optlab/common.h"
#include "optlab/nn.h"
#include "optlab/train.h"
#include "optlab/train_settings.h"
#include "test.h"

static char out[1 << 16];

/* The optlab binary as an absolute path (the tests change directory). */
static const char *bin(void) {
    static char path[PATH_MAX];
    if (!path[0] && !realpath(ol_test_bin(), path)) snprintf(path, sizeof path, "%s", ol_test_bin());
    return path;
}

/* Runs a shell command (printf-formatted) into out; its exit status. */
#define sh(...) ol_test_sh(out, sizeof out, __VA_ARGS__)

/* The options of every run here; the data is a 4x4, 3-class set (raw files, so that a test can
 * change a pixel in place). */
#define RUN "--model mlp:16-8-3 --batch 10 --threads 1 --quiet"

static int make_data(const char *dir, uint64_t seed) { return fixture_make_dataset(dir, 60, 30, 4, 3, seed, 0); }

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- the data of a resumed run ---- */

TEST(resume_from_another_directory_finds_the_data_of_a_relative_path) {
    const char *proj = ol_test_path("proj"), *away = ol_test_path("away");
    char data[PATH_MAX];
    snprintf(data, sizeof data, "%s/dd", proj);
    CHECK(sh("mkdir -p %s %s", proj, away) == 0);
    CHECK(make_data(data, 3) == 0);
    /* 1 epoch with a checkpoint, from proj, with --data dd (relative) */
    CHECK_MSG(sh("cd %s && %s train --data dd " RUN " --epochs 1 --checkpoint ck.bin", proj, bin()) == 0, "%s", out);
    /* resumed from proj: the reference */
    CHECK_MSG(sh("cd %s && %s train --resume ck.bin --epochs 2 --save here.bin --quiet", proj, bin()) == 0, "%s", out);
    /* resumed from elsewhere (before: "data set 'dd': no such directory", exit 1): the same model,
     * and a note saying where the data was read */
    int rc = sh("cd %s && %s train --resume %s/ck.bin --epochs 2 --save away.bin", away, bin(), proj);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_MSG(strstr(out, "its data 'dd' is not found from here; reading ") && strstr(out, "/proj/dd, where its run read it"),
              "%s", out);
    char here[PATH_MAX], there[PATH_MAX];
    snprintf(here, sizeof here, "%s/here.bin", proj);
    snprintf(there, sizeof there, "%s/away.bin", away);
    CHECK_MSG(ol_test_same_file(here, there), "resumed from elsewhere, the model differs");
    /* the data moved: say what to pass; then --data with the new place resumes (before: a
     * settings conflict, "data=... here, data=dd there", exit 2) */
    CHECK(sh("mv %s/dd %s/moved", proj, proj) == 0);
    rc = sh("cd %s && %s train --resume %s/ck.bin --epochs 2 --quiet", away, bin(), proj);
    CHECK_MSG(rc == 1 && strstr(out, "its data 'dd' is not found from here, nor in ") &&
                  strstr(out, "give --data DIR, the directory that holds it now"),
              "exit %d: %s", rc, out);
    rc = sh("cd %s && %s train --resume %s/ck.bin --data %s/moved --epochs 2 --save moved.bin", away, bin(), proj, proj);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    snprintf(there, sizeof there, "%s/moved.bin", away);
    CHECK_MSG(ol_test_same_file(here, there), "resumed on the moved data, the model differs");
}

TEST(resume_with_other_data_under_the_same_path_is_still_refused) {
    /* the path is no longer part of the identity: the data itself is */
    const char *data = ol_test_path("swap"), *ck = ol_test_path("swap.ckpt");
    CHECK(make_data(data, 3) == 0);
    CHECK_MSG(sh("%s train --data %s " RUN " --epochs 1 --checkpoint %s", bin(), data, ck) == 0, "%s", out);
    CHECK(make_data(data, 4) == 0); /* other labels */
    int rc = sh("%s train --resume %s --epochs 2 --quiet", bin(), ck);
    CHECK_MSG(rc == 2 && strstr(out, "the checkpoint was made on other data (its run read "), "exit %d: %s", rc, out);
}

/* Flips one pixel of the training images of a raw data directory. */
static int flip_pixel(const char *dir) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    FILE *f = fopen(path, "r+b");
    if (!f) return -1;
    int rc = fseek(f, 16 + 37, SEEK_SET);
    int c = rc ? EOF : fgetc(f);
    if (c == EOF || fseek(f, 16 + 37, SEEK_SET) || fputc(c ^ 0x5a, f) == EOF) rc = -1;
    return fclose(f) || rc ? -1 : 0;
}

TEST(resume_refuses_data_whose_pixels_changed) {
    /* before: count, shape and labels were the identity: changed images resumed, exit 0 */
    const char *data = ol_test_path("pix"), *ck = ol_test_path("pix.ckpt");
    CHECK(make_data(data, 3) == 0);
    CHECK_MSG(sh("%s train --data %s " RUN " --epochs 1 --checkpoint %s", bin(), data, ck) == 0, "%s", out);
    CHECK(flip_pixel(data) == 0);
    int rc = sh("%s train --resume %s --epochs 2 --save %s --quiet", bin(), ck, ol_test_path("never.bin"));
    CHECK_MSG(rc == 2 && strstr(out, "the training images differ from those the checkpoint was made on") &&
                  strstr(out, "their count, shape and labels agree"),
              "exit %d: %s", rc, out);
    CHECK(!exists(ol_test_path("never.bin")));
}

TEST(resume_of_a_checkpoint_without_the_pixel_crc_is_accepted_with_a_note) {
    /* a checkpoint of before issue 16 has no PIXL section: resumed, with a note */
    const char *data = ol_test_path("old"), *ck = ol_test_path("old.ckpt"), *full = ol_test_path("old-full.bin");
    CHECK(make_data(data, 3) == 0);
    CHECK_MSG(sh("%s train --data %s " RUN " --epochs 2 --save %s", bin(), data, full) == 0, "%s", out);
    CHECK_MSG(sh("%s train --data %s " RUN " --epochs 1 --checkpoint %s", bin(), data, ck) == 0, "%s", out);
    ol_ckpt c, old;
    CHECK(ol_ckpt_read(&c, ck) == 0);
    ol_ckpt_init(&old);
    int had = 0;
    for (int i = 0; i < c.n; i++) {
        if (!strcmp(c.tag[i], "PIXL") || !strcmp(c.tag[i], "DDIR")) {
            had += !strcmp(c.tag[i], "PIXL");
            continue;
        }
        CHECK(ol_ckpt_add(&old, c.tag[i], c.data[i], c.len[i]) == 0);
    }
    CHECK(ol_ckpt_write(&old, ck) == 0);
    ol_ckpt_free(&c);
    ol_ckpt_free(&old);
    CHECK_MSG(had, "the checkpoint has no PIXL section");
    int rc = sh("%s train --resume %s --epochs 2 --save %s", bin(), ck, ol_test_path("old-res.bin"));
    CHECK_MSG(rc == 0 && strstr(out, "was written before checkpoints held the data's pixel CRC"), "exit %d: %s", rc, out);
    CHECK(ol_test_same_file(full, ol_test_path("old-res.bin")));
}

/* ---- the settings record ---- */

TEST(resume_settings_record_keeps_a_newline_and_a_backslash_in_a_path) {
    ol_train_config c = ol_train_default_config(), back = ol_train_default_config();
    c.data = "a\nb\\x0a\\c";
    char text[4096];
    CHECK(ol_train_settings_text(&c, "mlp:16-8-3,act=relu", text, sizeof text) == 0);
    CHECK_MSG(strstr(text, "data=a\\x0ab\\\\x0a\\\\c\n"), "%s", text);
    int given[64] = {0};
    CHECK(ol_train_settings_apply(&back, text, given) == 0);
    CHECK_MSG(!strcmp(back.data, "a\nb\\x0a\\c"), "read back as '%s'", back.data);
}

TEST(resume_of_a_run_on_a_directory_with_a_newline_in_its_name) {
    /* before: the record's line broke at the newline and the resume read 'nl' (here: other data) */
    const char *dir = ol_test_tmpdir();
    char nl[PATH_MAX], decoy[PATH_MAX];
    snprintf(nl, sizeof nl, "%s/nl\ndir", dir);
    snprintf(decoy, sizeof decoy, "%s/nl", dir);
    CHECK(make_data(nl, 3) == 0 && make_data(decoy, 4) == 0);
    CHECK_MSG(sh("cd %s && %s train --data 'nl\ndir' " RUN " --epochs 1 --checkpoint nl.ckpt", dir, bin()) == 0, "%s", out);
    int rc = sh("cd %s && %s train --resume nl.ckpt --epochs 2 --quiet", dir, bin());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
}

/* ---- --epochs on resume ---- */

TEST(resume_with_epochs_below_the_checkpoints_is_refused) {
    const char *data = ol_test_path("ep"), *mid = ol_test_path("mid.ckpt"), *end = ol_test_path("end.ckpt");
    const char *never = ol_test_path("never-ep.bin");
    CHECK(make_data(data, 3) == 0);
    /* 6 steps an epoch: the last checkpoint every 11 steps is 5 steps into epoch 2 */
    CHECK_MSG(sh("%s train --data %s " RUN " --epochs 2 --checkpoint %s --checkpoint-every 11", bin(), data, mid) == 0, "%s",
              out);
    /* before: "the run was already complete after 1 epochs", exit 0, and the 1.8-epoch model saved */
    int rc = sh("%s train --resume %s --epochs 1 --save %s", bin(), mid, never);
    CHECK_MSG(rc == 2 && strstr(out, "its run is past --epochs 1: it has completed 1 epoch and is part-way through epoch 2 "
                                     "(step 11); give --epochs 2 or more to go on"),
              "exit %d: %s", rc, out);
    CHECK(!exists(never));
    rc = sh("%s train --resume %s --epochs 2 --quiet", bin(), mid);
    CHECK_MSG(rc == 0 && strstr(out, "(2 epochs, 12 steps"), "exit %d: %s", rc, out);
    /* a checkpoint at the end of epoch 2: --epochs 1 refused, --epochs 2 evaluates (problem 11) */
    CHECK_MSG(sh("%s train --data %s " RUN " --epochs 2 --checkpoint %s", bin(), data, end) == 0, "%s", out);
    rc = sh("%s train --resume %s --epochs 1 --save %s", bin(), end, never);
    CHECK_MSG(rc == 2 && strstr(out, "it has completed 2 epochs (step 12); give --epochs 2 to evaluate it"), "exit %d: %s", rc,
              out);
    CHECK(!exists(never));
    rc = sh("%s train --resume %s --epochs 2", bin(), end);
    CHECK_MSG(rc == 0 && strstr(out, "the run was already complete after 2 epochs"), "exit %d: %s", rc, out);
}

/* ---- the image shape of a model ---- */

/* dir with the four files of 60/30 images of rows x cols (a learnable pattern is not needed) */
static int make_shaped(const char *dir, uint32_t rows, uint32_t cols) {
    uint8_t pixels[60 * 64], labels[60];
    for (int i = 0; i < 60 * 64; i++) pixels[i] = (uint8_t)(i * 37);
    for (int i = 0; i < 60; i++) labels[i] = (uint8_t)(i % 3);
    char img[PATH_MAX], lab[PATH_MAX];
    if (mkdir(dir, 0755)) return -1;
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte", dir);
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte", dir);
    if (fixture_write_idx(img, lab, pixels, labels, 60, rows, cols, 0)) return -1;
    snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte", dir);
    snprintf(lab, sizeof lab, "%s/t10k-labels-idx1-ubyte", dir);
    return fixture_write_idx(img, lab, pixels, labels, 30, rows, cols, 0);
}

TEST(model_shape_is_recorded_and_eval_refuses_another) {
    const char *square = ol_test_path("sq"), *wide = ol_test_path("wide"), *model = ol_test_path("shape.bin");
    CHECK(make_shaped(square, 4, 4) == 0 && make_shaped(wide, 2, 8) == 0);
    CHECK_MSG(sh("%s train --data %s " RUN " --epochs 1 --save %s", bin(), square, model) == 0, "%s", out);
    ol_mlp m;
    CHECK_MSG(ol_mlp_load(&m, model) == 0, "%s", ol_error());
    CHECK(m.in_rows == 4 && m.in_cols == 4);
    ol_mlp_free(&m);
    /* before: evaluated, exit 0 (2x8 has the 16 pixels of 4x4) */
    int rc = sh("%s eval --model %s --data %s --threads 1", bin(), model, wide);
    CHECK_MSG(rc == 2 && strstr(out, "the data's images are 2x8 but the model mlp:16-8-3,act=relu was trained on 4x4 images"),
              "exit %d: %s", rc, out);
    rc = sh("%s eval --model %s --data %s --threads 1", bin(), model, square);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
}

/* A model file of format 1: format 2's bytes without the shape, version 1, its CRC recomputed. */
static int write_format1(const ol_mlp *m, const char *path) {
    unsigned char *buf;
    size_t len;
    int rc = ol_mlp_serialize(m, &buf, &len);
    if (rc) return rc;
    size_t shape_at = 16 + strlen(m->spec) + 8;
    memmove(buf + shape_at, buf + shape_at + 8, len - shape_at - 8);
    len -= 8;
    ol_put_u32(buf + 8, 1);
    ol_put_u32(buf + len - 4, ol_crc32(0, buf, len - 4));
    rc = ol_write_file_atomic(path, buf, len);
    free(buf);
    return rc;
}

TEST(model_shape_absent_from_format_1_files_which_still_load) {
    const char *wide = ol_test_path("wide1"), *path = ol_test_path("v1.bin");
    CHECK(make_shaped(wide, 2, 8) == 0);
    ol_mlp m, back;
    CHECK(ol_mlp_create(&m, "mlp:16-8-3", 0) == 0);
    ol_mlp_init(&m, 3);
    m.in_rows = m.in_cols = 4;
    CHECK(write_format1(&m, path) == 0);
    CHECK_MSG(ol_mlp_load(&back, path) == 0, "%s", ol_error());
    CHECK(back.in_rows == 0 && back.in_cols == 0);
    CHECK(back.n_params == m.n_params && !memcmp(back.params, m.params, m.n_params * sizeof(float)));
    ol_mlp_free(&back);
    ol_mlp_free(&m);
    int rc = sh("%s eval --model %s --data %s --threads 1", bin(), path, wide);
    CHECK_MSG(rc == 0 && strstr(out, "test accuracy"), "exit %d: %s", rc, out);
}

TEST(model_shape_that_does_not_match_the_inputs_is_refused_on_load) {
    const char *path = ol_test_path("badshape.bin");
    ol_mlp m, back;
    CHECK(ol_mlp_create(&m, "mlp:16-8-3", 0) == 0);
    ol_mlp_init(&m, 3);
    m.in_rows = 3, m.in_cols = 5; /* 15 pixels for 16 inputs: written, then refused on load */
    CHECK(ol_mlp_save(&m, path) == 0);
    ol_mlp_free(&m);
    CHECK(ol_mlp_load(&back, path) == OL_EFORMAT);
    CHECK_MSG(strstr(ol_error(), "corrupt image shape in the model file (3x5 for mlp:16-8-3"), "%s", ol_error());
}
