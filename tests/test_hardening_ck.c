/* test_hardening_ck.c: issue 16 on models and checkpoints. Class 3: a foreign file given as a
 * model or checkpoint is refused by its magic after its first bytes, whatever its size (a file
 * over the size cap was refused as "too large", a big one read whole). Class 6: every field of
 * every checkpoint section, and the sections against each other, are checked on --resume; the
 * damaged copies here are re-serialized with every checksum recomputed, so that only those checks
 * can catch them (the previous code resumed most of them, exit 0). Should-not: two runs writing
 * one checkpoint. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fuzz/fuzz_util.h"
#include "fixtures.h"
#include "optlab/checkpoint.h"
#include "optlab/common.h"
#include "test.h"

static char out[1 << 16];

#define sh(...) ol_test_sh(out, sizeof out, __VA_ARGS__)

/* 60 training and 30 test images of 4x4 pixels, 3 classes: 6 steps an epoch at batch 10 */
static const char *data(void) { return ol_test_dataset("ck-data", 60, 30, 4, 3, 7); }

#define RUN "--model mlp:16-8-3 --batch 10 --threads 1 --quiet"
#define RUN_NO_MODEL "--batch 10 --threads 1 --quiet"

/* ---- class 3: the magic first ---- */

/* A sparse file of size bytes (no disk used), zeros throughout. */
static const char *sparse(const char *name, long long size) {
    const char *path = ol_test_path(name);
    FILE *f = fopen(path, "wb");
    if (f) {
        if (ftruncate(fileno(f), (off_t)size)) perror("ftruncate");
        fclose(f);
    }
    return path;
}

/* 80 GB is over both caps (models 16 GiB, checkpoints 64 GiB): what the file is matters, not its
 * size (the previous code said "larger than the 17179869184 bytes allowed"). */
TEST(ck_a_huge_foreign_file_is_refused_by_its_magic_not_its_size) {
    const char *big = sparse("zeros-80G", 80LL << 30);
    int rc = sh("timeout 20 %s eval --data %s --model %s", ol_test_bin(), data(), big);
    CHECK_MSG(rc == 1 && strstr(out, "is not an optlab model file (wrong magic)"), "exit %d: %s", rc, out);
    rc = sh("timeout 20 %s train --data %s " RUN " --resume %s", ol_test_bin(), data(), big);
    CHECK_MSG(rc == 1 && strstr(out, "is not an optlab checkpoint (wrong magic)"), "exit %d: %s", rc, out);
}

/* A 1 GB foreign file under the caps: optlab reads its first bytes, not the gigabyte. rchar of the
 * shell counts what its reaped children read (the previous code: over 1073741824). */
TEST(ck_a_big_foreign_file_is_not_read_past_its_magic) {
    const char *big = sparse("zeros-1G", 1LL << 30);
    const char *cmds[] = {"eval --data %s --model %s", "train --data %s " RUN " --resume %s"};
    for (int i = 0; i < 2; i++) {
        char cmd[1024], line[2048];
        snprintf(cmd, sizeof cmd, cmds[i], data(), big);
        snprintf(line, sizeof line, "%s %s >/dev/null 2>&1; echo rc=$?; grep rchar /proc/$$/io", ol_test_bin(), cmd);
        CHECK(sh("sh -c '%s'", line) == 0);
        long long rchar = -1;
        const char *r = strstr(out, "rchar:");
        if (r) rchar = atoll(r + 6);
        CHECK_MSG(strstr(out, "rc=1"), "%s: %s", cmd, out);
        CHECK_MSG(rchar >= 0 && rchar < (16LL << 20), "%s read %lld bytes of a foreign 1 GB file: %s", cmds[i], rchar, out);
    }
}

/* ---- class 6: every field of every section ---- */

/* A checkpoint of RUN (with extra flags, which may name another model) after `epochs` epochs; its
 * path in a buffer of its own (ol_test_path's rotate). */
typedef struct {
    char path[600];
} path_buf;

static path_buf checkpoint(const char *name, const char *extra, int epochs) {
    path_buf b;
    snprintf(b.path, sizeof b.path, "%s", ol_test_path(name));
    const char *ck = b.path;
    if (access(ck, F_OK))
        if (sh("%s train --data %s " RUN_NO_MODEL " %s %s --epochs %d --checkpoint %s", ol_test_bin(), data(),
               strstr(extra, "--model") ? "" : "--model mlp:16-8-3", extra, epochs, ck))
            fprintf(stderr, "cannot make %s: %s\n", ck, out);
    return b;
}

typedef void (*edit_fn)(unsigned char *sec, size_t len, const void *arg);

/* Copies checkpoint src to dst with section tag replaced (bytes, len) or edited in place (edit),
 * the section's own checksums and the file's recomputed. 0 on success. */
static int rewrite(const char *src, const char *dst, const char *tag, const void *bytes, size_t len, edit_fn edit,
                   const void *arg) {
    ol_ckpt c, d;
    if (ol_ckpt_read(&c, src)) return -1;
    ol_ckpt_init(&d);
    int rc = 0;
    for (int i = 0; i < c.n && !rc; i++) {
        const unsigned char *sec = c.data[i];
        size_t n = c.len[i];
        unsigned char *copy = NULL;
        if (!strcmp(c.tag[i], tag)) {
            if (bytes) sec = bytes, n = len;
            copy = malloc(n ? n : 1);
            if (!copy) rc = -1;
            else {
                memcpy(copy, sec, n);
                if (edit) edit(copy, n, arg);
                fuzz_fix_section_crcs(tag, copy, n);
                sec = copy;
            }
        }
        if (!rc) rc = ol_ckpt_add(&d, c.tag[i], sec, n);
        free(copy);
    }
    if (!rc) rc = ol_ckpt_write(&d, dst);
    ol_ckpt_free(&c);
    ol_ckpt_free(&d);
    return rc;
}

/* An edit: put a value at an offset (kind 'q' u64, 'l' u32, 'd' f64, 'f' f32). */
typedef struct {
    size_t offset;
    char kind;
    double value;
} poke;

static void apply_poke(unsigned char *sec, size_t len, const void *arg) {
    const poke *p = arg;
    size_t need = p->kind == 'q' || p->kind == 'd' ? 8 : 4;
    if (p->offset + need > len) return;
    float f = (float)p->value;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if (p->kind == 'q') ol_put_u64(sec + p->offset, (uint64_t)p->value);
    else if (p->kind == 'l') ol_put_u32(sec + p->offset, (uint32_t)p->value);
    else if (p->kind == 'd') ol_put_f64(sec + p->offset, p->value);
    else ol_put_u32(sec + p->offset, bits);
}

/* Several pokes in turn (up to 4, ended by kind 0). */
static void apply_pokes(unsigned char *sec, size_t len, const void *arg) {
    for (const poke *p = arg; p->kind; p++) apply_poke(sec, len, p);
}

/* --resume of the damaged copy must end with exit 1 and message, nothing trained or saved. */
static int refused(const char *bad, const char *message) {
    static char model[600]; /* not from ol_test_path, whose buffers the callers' paths use */
    if (!model[0]) snprintf(model, sizeof model, "%s/never.bin", ol_test_tmpdir());
    remove(model);
    int rc = sh("%s train --data %s --resume %s --epochs 3 --threads 1 --quiet --save %s", ol_test_bin(), data(), bad, model);
    if (rc != 1 || !strstr(out, message) || !access(model, F_OK)) {
        fprintf(stderr, "    expected exit 1 and '%s'; got exit %d: %s", message, rc, out);
        return 0;
    }
    return 1;
}

/* Offsets of the progress section (train_checkpoint.c): u32 version, u64 epoch @4, u32 epoch_done
 * @12, u64 steps @16, f64 loss sum @24, u64 examples seen @32, f64 seconds @40, u32 rollbacks @48,
 * f64 lr scale @52. The optimizer state: u64 step count @16, the schedule part from 120 + 16 per
 * group (its u64 step count @24, epoch @32); the sampler: u64 epoch @32. */
TEST(ck_progress_that_contradicts_the_optimizer_or_the_sampler_is_refused) {
    path_buf ck_buf = checkpoint("sgd1.ck", "--opt sgd:momentum=0.9", 1);
    const char *ck = ck_buf.path, *bad = ol_test_path("ck");
    static const struct {
        const char *tag;
        poke p[3];
        const char *message;
    } cases[] = {
        {"PROG", {{16, 'q', 7}}, "ck: corrupt optimizer section (its step count 6 is not the progress section's 7)"},
        {"OPTM", {{16, 'q', 7}}, "ck: corrupt optimizer section (its step count 7 is not the progress section's 6)"},
        {"OPTM", {{136 + 24, 'q', 7}, {136 + 32, 'q', 7}},
         "ck: corrupt optimizer section (its schedule's step count 7 is not the progress section's 6)"},
        {"PROG", {{4, 'q', 3}}, "ck: corrupt log section (1 rows for 3 finished epochs)"},
        {"SAMP", {{32, 'q', 2}}, "ck: corrupt sampler section (it stands at batch 0 of 6 after 2 epochs"},
        {"PROG", {{32, 'q', 50}}, "ck: corrupt progress section (50 examples seen in the 6 batches of this epoch, which hold 60)"},
        {"PROG", {{32, 'q', 0}}, "ck: corrupt progress section (a loss sum of "},
        {"PROG", {{52, 'd', 0.5}}, "ck: corrupt progress section (its lr scale 0.5 is not 2^-0, for 0 rollbacks)"},
        {"PROG", {{48, 'l', 1}}, "ck: corrupt progress section (its lr scale 1 is not 2^-1, for 1 rollbacks)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        CHECK_MSG(rewrite(ck, bad, cases[k].tag, NULL, 0, apply_pokes, cases[k].p) == 0, "case %zu: %s", k, ol_error());
        CHECK_MSG(refused(bad, cases[k].message), "case %zu (%s)", k, cases[k].tag);
    }
}

static void bump_log_row(unsigned char *sec, size_t len, const void *arg) {
    (void)arg;
    const unsigned char *row = memchr(sec, '\n', len);
    if (row && row + 1 < sec + len) sec[row + 1 - sec] = '7'; /* row "1,..." becomes "7,..." */
}

static void cut_log_row(unsigned char *sec, size_t len, const void *arg) {
    (void)arg;
    unsigned char *row = memchr(sec, '\n', len);
    if (row) memset(row + 1, ' ', len - (size_t)(row + 1 - sec) - 1); /* the row blanked, the line kept */
}

TEST(ck_a_log_that_is_not_the_runs_is_refused) {
    path_buf ck_buf = checkpoint("sgd1.ck", "--opt sgd:momentum=0.9", 1);
    const char *ck = ck_buf.path, *bad = ol_test_path("ck");
    CHECK(rewrite(ck, bad, "LOGR", NULL, 0, bump_log_row, NULL) == 0);
    CHECK(refused(bad, "ck: corrupt log section (its row 1 is not the row of epoch 1); the checkpoint cannot be resumed"));
    CHECK(rewrite(ck, bad, "LOGR", NULL, 0, cut_log_row, NULL) == 0);
    CHECK(refused(bad, "ck: corrupt log section (its row 1 is not the row of epoch 1)"));
    const char *header = "epoch,step,lr,train_loss,val_loss,val_acc,test_loss,test_acc,seconds\n";
    CHECK(rewrite(ck, bad, "LOGR", header, strlen(header), NULL, NULL) == 0);
    CHECK(refused(bad, "ck: corrupt log section (0 rows for 1 finished epochs)"));
}

/* The model section of another run (the same size, act=tanh), and one whose inputs are
 * normalized although the settings say not (the previous code: exit 2 "holds a ... model, not
 * ...", and exit 0). The layout of a model file: magic 8, version 4, spec length 4, the spec, f32
 * input mean, f32 1/std, u64 count, the parameters, CRC. */
TEST(ck_a_model_section_that_is_not_the_settings_model_is_refused) {
    path_buf ck_buf = checkpoint("sgd1.ck", "--opt sgd:momentum=0.9", 1);
    const char *ck = ck_buf.path, *bad = ol_test_path("ck");
    path_buf tanh_ck_buf = checkpoint("tanh.ck", "--opt sgd:momentum=0.9 --model mlp:16-8-3,act=tanh", 1);
    const char *tanh_ck = tanh_ck_buf.path;
    ol_ckpt t;
    CHECK(ol_ckpt_read(&t, tanh_ck) == 0);
    size_t len;
    const void *model = ol_ckpt_get(&t, "MODL", &len);
    int rc = model ? rewrite(ck, bad, "MODL", model, len, NULL, NULL) : -1;
    ol_ckpt_free(&t);
    CHECK(rc == 0);
    CHECK(refused(bad, "ck: corrupt model section (it holds a mlp:16-8-3,act=tanh model of 163 parameters, the settings section's is mlp:16-8-3,act=relu)"));
    const poke mean = {16 + strlen("mlp:16-8-3,act=relu"), 'f', 0.5};
    CHECK(rewrite(ck, bad, "MODL", NULL, 0, apply_poke, &mean) == 0);
    CHECK(refused(bad, "ck: corrupt model section (it normalizes its inputs (mean 0.5, 1/std 1) but the settings section says normalize=0)"));
}

/* A settings section naming a model of 900 million parameters in a checkpoint whose model section
 * holds 163: refused before the model is allocated (the previous code allocated and initialized
 * 7.2 GB first, then said "holds a mlp:16-8-3 model", exit 2; under a 2 GB address-space limit it
 * ran out of memory). */
TEST(ck_settings_naming_a_huge_model_are_refused_before_allocating_it) {
    path_buf ck_buf = checkpoint("sgd1.ck", "--opt sgd:momentum=0.9", 1);
    const char *ck = ck_buf.path, *bad = ol_test_path("ck");
    ol_ckpt c;
    CHECK(ol_ckpt_read(&c, ck) == 0);
    size_t len;
    const char *conf = ol_ckpt_get(&c, "CONF", &len);
    char text[4096], *at = conf && len < 2048 ? memmem(conf, len, "model=mlp:16-8-3,act=relu", 25) : NULL;
    int n = at ? snprintf(text, sizeof text, "%.*smodel=mlp:16-30000-30000-3,act=relu%.*s", (int)(at - conf), conf,
                          (int)(len - (size_t)(at - conf) - 25), at + 25)
               : -1;
    int rc = n > 0 ? rewrite(ck, bad, "CONF", text, (size_t)n, NULL, NULL) : -1;
    ol_ckpt_free(&c);
    CHECK(rc == 0);
    /* under a 2 GB address-space limit, where the binary runs under one at all (AddressSanitizer
     * reserves terabytes of shadow: then without) */
    const char *limit = sh("ulimit -v 2000000; %s version", ol_test_bin()) == 0 ? "ulimit -v 2000000; " : "";
    rc = sh("%s%s train --data %s --resume %s --threads 1 --quiet", limit, ol_test_bin(), data(), bad);
    CHECK_MSG(rc == 1 && strstr(out, "ck: corrupt model section (it holds a mlp:16-8-3,act=relu model of 163 parameters, "
                                     "the settings section's is mlp:16-30000-30000-3,act=relu)"),
              "exit %d: %s", rc, out);
}

/* Optimizer buffers no step writes: a NaN in the momentum, a negative second moment (adam's v).
 * The buffers follow the schedule part (its length at byte 112). */
static void poke_buffer(unsigned char *sec, size_t len, const void *arg) {
    const poke *p = arg;
    size_t start = 120 + 16 * (size_t)ol_get_u32(sec + 12) + (size_t)ol_get_u64(sec + 112);
    poke at = {start + p->offset, p->kind, p->value};
    apply_poke(sec, len, &at);
}

TEST(ck_optimizer_buffers_no_step_writes_are_refused) {
    path_buf sgd_buf = checkpoint("sgd1.ck", "--opt sgd:momentum=0.9", 1);
    const char *sgd = sgd_buf.path, *bad = ol_test_path("ck");
    path_buf adam_buf = checkpoint("adam1.ck", "--opt adam --lr 0.01", 1);
    const char *adam = adam_buf.path;
    const poke nan_first = {0, 'f', NAN}, negative_v = {163 * 4, 'f', -1}; /* v follows m's 163 floats */
    CHECK(rewrite(sgd, bad, "OPTM", NULL, 0, poke_buffer, &nan_first) == 0);
    CHECK(refused(bad, "ck: corrupt optimizer section (a NaN in its buffers); the checkpoint cannot be resumed"));
    CHECK(rewrite(adam, bad, "OPTM", NULL, 0, poke_buffer, &negative_v) == 0);
    CHECK(refused(bad, "ck: corrupt optimizer section (a negative mean of squared gradients)"));
    const poke norm = {32, 'd', -2};
    CHECK(rewrite(adam, bad, "OPTM", NULL, 0, apply_poke, &norm) == 0);
    CHECK(refused(bad, "ck: corrupt optimizer section (a negative gradient norm)"));
}

/* What the checks must not refuse: checkpoints optlab writes, at an epoch's end, in the middle of
 * one (every 4 steps, the last at step 16 of 6-step epochs), after rollbacks, with every
 * optimizer family, a warm-up and a schedule, normalized inputs, the iid sampler. */
TEST(ck_every_checkpoint_optlab_writes_still_resumes) {
    const char *runs[] = {
        "--batch 10 --opt sgd:momentum=0.9 --epochs 2",
        "--batch 10 --opt adam --lr 0.01 --schedule cosine:t_max=20 --warmup 3 --epochs 3 --checkpoint-every 4",
        "--batch 7 --opt rmsprop:centered=1,momentum=0.5 --lr 0.01 --normalize --sampler iid --epochs 2",
        "--batch 10 --opt adagrad --lr 0.1 --val-split 0.2 --no-decay-bias --epochs 2 --checkpoint-every 5",
        "--batch full --opt nadam --lr 0.01 --epochs 2",
        "--batch 10 --opt sgd --lr 1e6 --on-divergence rollback --max-rollbacks 40 --epochs 2",
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        const char *ck = ol_test_path("ok.ck");
        remove(ck);
        int rc = sh("%s train --data %s --model mlp:16-8-3 --threads 1 --quiet %s --checkpoint %s", ol_test_bin(),
                    data(), runs[i], ck);
        CHECK_MSG(rc == 0, "%s: exit %d: %s", runs[i], rc, out);
        rc = sh("%s train --data %s --resume %s --epochs 4 --threads 1 --quiet", ol_test_bin(), data(), ck);
        CHECK_MSG(rc == 0 && strstr(out, "test accuracy"), "%s, resumed: exit %d: %s", runs[i], rc, out);
    }
}

/* ---- should-not: two runs writing one checkpoint ---- */

/* Starts a long run writing checkpoint ck in the background, waits (10 s at most) for its lock
 * file, runs `second` (a shell command), then ends the first run with signal sig. out: the second
 * command's output, then "second=N first=PID first_exit=M". */
static int second_run_while_the_first_writes(const char *ck, const char *second, const char *sig) {
    return sh("(exec %s train --data %s " RUN " --epochs 1000000 --checkpoint %s --checkpoint-every 1000 >/dev/null 2>&1) & "
              "pid=$!; t=0; while [ ! -f %s.lock ] && [ $t -lt 1000 ]; do sleep 0.01; t=$((t+1)); done; "
              "%s; s=$?; kill -%s $pid; wait $pid; echo \"second=$s first=$pid first_exit=$?\"",
              ol_test_bin(), data(), ck, ck, second, sig);
}

TEST(ck_a_second_run_writing_the_same_checkpoint_is_refused_at_once) {
    char ck[600], second[2048], expect[128];
    snprintf(ck, sizeof ck, "%s/shared.ck", ol_test_tmpdir());
    /* the same file under another spelling of its path */
    snprintf(second, sizeof second, "timeout 20 %s train --data %s " RUN " --epochs 1 --checkpoint %s/./../%s/shared.ck",
             ol_test_bin(), data(), ol_test_tmpdir(), strrchr(ol_test_tmpdir(), '/') + 1);
    second_run_while_the_first_writes(ck, second, "TERM");
    const char *pid = strstr(out, "first=");
    CHECK_MSG(pid && strstr(out, "second=1 "), "the second run was not refused: %s", out);
    snprintf(expect, sizeof expect, "is being written by another optlab run (pid %ld, holding ", atol(pid + 6));
    CHECK_MSG(strstr(out, expect) && strstr(out, "shared.ck.lock); wait for it to end, or give this run another --checkpoint"),
              "no message naming the first run: %s", out);
    /* the first run, stopped by SIGTERM, wrote its checkpoint and removed its lock */
    CHECK_MSG(strstr(out, "first_exit=143"), "%s", out);
    CHECK_MSG(access(ck, F_OK) == 0, "no checkpoint after the first run's SIGTERM");
    char lock[700];
    snprintf(lock, sizeof lock, "%s.lock", ck);
    CHECK_MSG(access(lock, F_OK) != 0, "%s was left behind by a run that ended itself", lock);
}

/* A run killed by SIGKILL leaves its lock file, but the kernel released the lock: the next run
 * starts (and removes the file when it ends). */
TEST(ck_the_lock_of_a_killed_run_blocks_nothing) {
    char ck[600], lock[700], second[2048];
    snprintf(ck, sizeof ck, "%s/killed.ck", ol_test_tmpdir());
    snprintf(lock, sizeof lock, "%s.lock", ck);
    snprintf(second, sizeof second, "true");
    second_run_while_the_first_writes(ck, second, "9");
    CHECK_MSG(strstr(out, "first_exit=137"), "%s", out);
    CHECK_MSG(access(lock, F_OK) == 0, "no lock file %s while the first run wrote its checkpoint", lock);
    int rc = sh("timeout 20 %s train --data %s " RUN " --epochs 1 --checkpoint %s", ol_test_bin(), data(), ck);
    CHECK_MSG(rc == 0 && strstr(out, "test accuracy"), "a killed run's lock blocked the next: exit %d: %s", rc, out);
    CHECK_MSG(access(lock, F_OK) != 0, "%s was left behind by a run that ended itself", lock);
}
