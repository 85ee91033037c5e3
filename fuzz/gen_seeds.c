/* gen_seeds.c: writes the seed corpus of every fuzz target into fuzz/corpus/<target>/ (run from
 * the repository root: `make fuzz-seeds`). Seeds are small, valid or nearly valid inputs, so
 * the fuzzer starts deep inside each format instead of at its magic. Also writes a tiny MNIST-
 * format data directory (argument 1, if given) on which fuzz.mk trains a real model with
 * build/optlab train --save; that model and its damaged copies are added by `gen_seeds model F`.
 * The checkpoint_fields seeds are checkpoints of runs on that target's own data set.
 *
 * Not a test: it only writes files; the fuzz targets and tests/test_fuzz_regressions.c read them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define FUZZ_NO_MAIN
#include "fuzz_checkpoint_fields.c"
#include "fuzz_state.c"
#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/sampler.h"
#include "optlab/nn.h"
#include "optlab/optim.h"

static int failures;

static void put(const char *target, const char *name, const void *data, size_t len) {
    char path[512];
    snprintf(path, sizeof path, "fuzz/corpus/%s", target);
    mkdir("fuzz/corpus", 0755);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "fuzz/corpus/%s/%s", target, name);
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        fprintf(stderr, "gen_seeds: cannot write %s\n", path);
        failures++;
    }
}

static void put_text(const char *target, const char *name, const char *text) { put(target, name, text, strlen(text)); }

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* An IDX image file of n images rows x cols (pixel values from a formula) into out; returns its length. */
static size_t idx_images(uint8_t *out, uint32_t n, uint32_t rows, uint32_t cols) {
    be32(out, 0x803), be32(out + 4, n), be32(out + 8, rows), be32(out + 12, cols);
    size_t len = (size_t)n * rows * cols;
    for (size_t i = 0; i < len; i++) out[16 + i] = (uint8_t)(i * 37 % 256);
    return 16 + len;
}

static size_t idx_labels(uint8_t *out, uint32_t n, int classes) {
    be32(out, 0x801), be32(out + 4, n);
    for (uint32_t i = 0; i < n; i++) out[8 + i] = (uint8_t)(i % (uint32_t)classes);
    return 8 + n;
}

/* gzip of len bytes into out (cap bytes); returns the compressed length, 0 on failure */
static size_t gzip_bytes(uint8_t *out, size_t cap, const uint8_t *in, size_t len) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? n : 0;
}

/* The idx target's input: flags, split, images then labels. */
static void idx_seed(const char *name, uint8_t flags, const uint8_t *img, size_t img_len, const uint8_t *lab,
                     size_t lab_len) {
    uint8_t *buf = malloc(5 + img_len + lab_len);
    buf[0] = flags;
    buf[1] = (uint8_t)img_len, buf[2] = (uint8_t)(img_len >> 8), buf[3] = (uint8_t)(img_len >> 16), buf[4] = 0;
    memcpy(buf + 5, img, img_len);
    memcpy(buf + 5 + img_len, lab, lab_len);
    put("idx", name, buf, 5 + img_len + lab_len);
    free(buf);
}

static void gen_idx(void) {
    static uint8_t img[16 + 4 * 28 * 28], lab[8 + 64], gz_img[8192], gz_lab[512];
    size_t ni = idx_images(img, 3, 2, 3), nl = idx_labels(lab, 3, 3);
    idx_seed("small-raw", 0, img, ni, lab, nl);
    idx_seed("small-gzip-by-harness", 3, img, ni, lab, nl);
    idx_seed("small-images-gzip", 1, img, ni, lab, nl);
    idx_seed("one-file-both-roles", 4, img, ni, lab, nl);
    idx_seed("labels-first-swapped", 0, lab, nl, img, ni);
    idx_seed("truncated-images", 0, img, ni - 2, lab, nl);
    idx_seed("count-mismatch", 0, img, ni, lab, idx_labels(lab, 2, 3));
    size_t gi = gzip_bytes(gz_img, sizeof gz_img, img, ni), gl = gzip_bytes(gz_lab, sizeof gz_lab, lab, nl);
    idx_seed("small-pre-gzipped", 0, gz_img, gi, gz_lab, gl);
    idx_seed("gzip-truncated", 0, gz_img, gi - 5, gz_lab, gl);
    ni = idx_images(img, 4, 28, 28), nl = idx_labels(lab, 4, 10);
    idx_seed("mnist-shaped-4", 0, img, ni, lab, nl);
    gi = gzip_bytes(gz_img, sizeof gz_img, img, ni), gl = gzip_bytes(gz_lab, sizeof gz_lab, lab, nl);
    idx_seed("mnist-shaped-4-gz", 0, gz_img, gi, gz_lab, gl);
    /* a header announcing more than the 1 GiB limit, and one announcing 64 MiB that is not there */
    ni = idx_images(img, 1, 2, 2), nl = idx_labels(lab, 1, 2);
    be32(img + 4, 0x7fffffff);
    idx_seed("huge-count", 0, img, ni, lab, nl);
    be32(img + 4, 1), be32(img + 8, 8192), be32(img + 12, 8192);
    idx_seed("big-image-missing", 0, img, ni, lab, nl);
}

static void gen_spec(void) {
    static const char *const seeds[][2] = {
        {"parse-keys", "s0adam:beta1=0.9,beta2=0.999,eps=1e-8"},
        {"parse-list", "s0multistep:milestones=10/25,gamma=0.5"},
        {"parse-ints", "s0x:a=1,b=-3,c=1e3,d=0x10"},
        {"optim-sgd", "o0sgd:momentum=0.9,dampening=0,nesterov=1,weight_decay=1e-4"},
        {"optim-adam", "o1adam:beta1=0.9,beta2=0.999,eps=1e-8,weight_decay=0,amsgrad=1"},
        {"optim-adamw", "o1adamw:weight_decay=0.01"},
        {"optim-nadam", "o1nadam:momentum_decay=0.004"},
        {"optim-radam", "o1radam:beta2=0.99"},
        {"optim-rmsprop", "o0rmsprop:alpha=0.99,eps=1e-8,momentum=0.5,centered=1,eps_inside=0"},
        {"optim-adagrad", "o0adagrad:lr_decay=0.1,initial_accumulator_value=0.1,eps=1e-10"},
        {"optim-heavyball", "o0heavyball:beta=0.9"},
        {"optim-random", "o0random:sigma=0.1,samples=3"},
        {"optim-adadelta", "o3adadelta:rho=0.9,eps=1e-6,weight_decay=0.01"},
        {"optim-adamax", "o1adamax:beta1=0.9,beta2=0.999,eps=1e-8"},
        {"optim-asgd", "o0asgd:lambd=1e-4,alpha=0.75,t0=2,weight_decay=0"},
        {"optim-rprop", "o0rprop:eta_minus=0.5,eta_plus=1.2,step_min=1e-6,step_max=50"},
        {"optim-lbfgs", "o3lbfgs:max_iter=20,max_eval=25,history_size=100,tolerance_grad=1e-7,tolerance_change=1e-9,"
                        "line_search=strong_wolfe"},
        {"optim-gd-nan-lr", "o6gd"},
        {"optim-lookahead", "o0lookahead:k=3,alpha=0.5,inner=sgd:momentum=0.9"},
        {"optim-sam", "o1sam:rho=0.05,inner=adam:beta1=0.9"},
        {"optim-wrap-nested", "o1lookahead:k=2,inner=sam:rho=0.1,inner=lookahead:alpha=0.3,inner=adamw"},
        {"sched-step", "c0step:step_size=3,gamma=0.5"},
        {"sched-multistep", "c4multistep:milestones=2/5/9,gamma=0.1"},
        {"sched-exponential", "c1exponential:gamma=0.9"},
        {"sched-cosine", "c3cosine:t_max=10,eta_min=0.001"},
        {"sched-restarts", "c2cosine-restarts:t_0=3,t_mult=2,eta_min=0"},
        {"sched-cyclic", "c0cyclic:base_lr=0.01,max_lr=0.1,step_size_up=3,step_size_down=2,mode=exp_range,gamma=0.9"},
        {"sched-onecycle", "c5onecycle:max_lr=0.1,total_steps=20,pct_start=0.3,anneal=linear,div_factor=25,final_div_factor=1e4"},
        {"sched-linear", "c0linear:start_factor=0.3,end_factor=1,total_iters=5"},
        {"sched-poly", "c0poly:total_iters=5,power=2"},
        {"sched-inverse", "c0inverse:alpha=1,c=10"},
        {"sched-inverse-sqrt", "c0inverse-sqrt:alpha=1,c=1"},
        {"sched-plateau", "c0plateau:factor=0.5,patience=1,threshold=1e-4,cooldown=1,min_lr=1e-5"},
        {"sched-constant", "c9constant"},
        {"sched-constant-factor", "c0constant-factor:factor=0.5,total_iters=3"},
        {"sched-multiplicative", "c1multiplicative:factor=0.9"},
        {"sched-cyclic-momentum", "c0cyclic:max_lr=1,step_size_up=2,cycle_momentum=1,base_momentum=0.7,max_momentum=0.9"},
        {"sched-sequential", "c4sequential:schedules=[linear:start_factor=0.1,total_iters=3]/[cosine:t_max=9]/"
                             "[plateau:patience=0],milestones=3/12"},
        {"sched-chain", "c2chain:schedules=[exponential:gamma=0.9]/[step:step_size=2,gamma=0.5]/[bold:up=1.1]"},
        {"sched-nested", "c7sequential:schedules=[onecycle:total_steps=5,cycle_momentum=1]/[chain:schedules="
                         "[chain:schedules=[constant-factor]/[multiplicative:factor=0.99]]/[multistep:milestones=2/4]],"
                         "milestones=5"},
        {"optim-schedule-onecycle", "S2onecycle:total_steps=12"},
        {"optim-schedule-momentum", "S0sequential:schedules=[constant]/[onecycle:total_steps=9,cycle_momentum=1],"
                                    "milestones=2"},
        {"optim-schedule-cyclic", "S1cyclic:max_lr=1,mode=triangular2"},
        {"mlp-small", "m0mlp:4-3-2"},
        {"mlp-act-init", "m1mlp:5-4-4-3,act=tanh,init=normal:std=0.1"},
        {"mlp-xavier", "m2mlp:2-2,act=sigmoid,init=xavier"},
        {"mlp-mnist", "m0mlp:784-256-10"},
        {"mlp-too-big", "m0mlp:784-100000-10"},
        {"fn-quadratic", "f3quadratic:kappa=100"},
        {"fn-rosenbrock", "f1rosenbrock"},
        {"fn-rastrigin", "f2rastrigin"},
        {"fn-himmelblau", "f1himmelblau"},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) put_text("spec", seeds[i][0], seeds[i][1]);
}

static void gen_cli(void) {
    static const char *const seeds[][2] = {
        {"train-full", "train\n--data\nd\n--model\nmlp:16-8-3\n--opt\nsgd:momentum=0.9\n--lr\n0.05\n--batch\n32\n"
                       "--epochs\n2\n--schedule\ncosine:t_max=10\n--warmup\n3\n--clip-norm\n1\n--seed\n7\n"
                       "--threads\n2\n--sampler\niid\n--val-split\n0.1\n--normalize\n--no-decay-bias\n"
                       "--subset\n100\n--log\nrun.csv\n--save\nm.bin\n--quiet"},
        {"train-checkpoint", "train\n--checkpoint\nck.bin\n--checkpoint-every\nepoch\n--resume\nck.bin\n"
                             "--on-divergence\nrollback\n--max-rollbacks\n5"},
        {"train-equals", "train\n--lr=0.1\n--batch=full\n--opt=adam:amsgrad=1\n--clip-value=0.5"},
        {"train-bad-number", "train\n--lr\n1e999"},
        {"train-nan", "train\n--lr\nnan"},
        {"train-twice", "train\n--lr\n1\n--lr\n2"},
        {"train-help", "train\n--help"},
        {"train-missing-value", "train\n--epochs"},
        {"train-unknown", "train\n--bogus\n1"},
        {"eval", "eval\n--model\nm.bin\n--data\nfashion-mnist\n--threads\n1"},
        {"optimize", "optimize\n--fn\nrosenbrock\n--x0\n-1,1\n--opt\nadam\n--lr\n0.01\n--steps\n100\n"
                     "--schedule\nstep:step_size=10\n--warmup\n2\n--clip-norm\n5\n--seed\n3\n--trace\nt.csv\n--quiet"},
        {"optimize-missing", "optimize\n--fn\nrastrigin"},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) put_text("cli", seeds[i][0], seeds[i][1]);
    static const char nul_sep[] = "train\0--epochs\0" "3\0--sampler\0shuffle";
    put("cli", "train-nul-separated", nul_sep, sizeof nul_sep - 1);
}

static unsigned char *read_all(const char *path, size_t *len) {
    unsigned char *buf;
    if (ol_read_file(path, (size_t)1 << 24, &buf, len)) {
        fprintf(stderr, "gen_seeds: %s\n", ol_error());
        failures++;
        return NULL;
    }
    return buf;
}

/* A model file and its damaged copies: truncated, a bit flipped, newer version, foreign. */
static void model_variants(const char *stem, const unsigned char *buf, size_t len) {
    char name[128];
    unsigned char *copy = malloc(len);
    snprintf(name, sizeof name, "%s", stem);
    put("model", name, buf, len);
    snprintf(name, sizeof name, "%s-truncated", stem);
    put("model", name, buf, len / 2);
    snprintf(name, sizeof name, "%s-header-only", stem);
    put("model", name, buf, len < 40 ? len : 40);
    memcpy(copy, buf, len);
    copy[len / 2] ^= 0x10;
    snprintf(name, sizeof name, "%s-bitflip", stem);
    put("model", name, copy, len);
    memcpy(copy, buf, len);
    copy[8] = 3; /* version 3, newer than any, checksum rewritten by the target */
    snprintf(name, sizeof name, "%s-newer", stem);
    put("model", name, copy, len);
    memcpy(copy, buf, len);
    copy[12] = 0xff; /* spec length */
    snprintf(name, sizeof name, "%s-bad-spec-length", stem);
    put("model", name, copy, len);
    free(copy);
}

static void gen_model(void) {
    static const char *const specs[][2] = {
        {"mlp-4-3-2", "mlp:4-3-2"},
        {"mlp-tanh-xavier", "mlp:6-5-4-3,act=tanh,init=xavier"},
        {"mlp-normal", "mlp:3-2,act=sigmoid,init=normal:std=0.5"},
    };
    char path[512];
    fuzz_tmp_path(path, sizeof path, "seed-model");
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        ol_mlp m;
        if (ol_mlp_create(&m, specs[i][1], 0)) { fprintf(stderr, "gen_seeds: %s\n", ol_error()); failures++; continue; }
        ol_mlp_init(&m, 1 + i);
        m.input_mean = 0.25f, m.input_inv_std = 2.0f;
        if (i == 0) m.in_rows = m.in_cols = 2; /* a shape: format 2's field (4 inputs, 2x2 images) */
        if (ol_mlp_save(&m, path)) { fprintf(stderr, "gen_seeds: %s\n", ol_error()); failures++; }
        ol_mlp_free(&m);
        size_t len;
        unsigned char *buf = read_all(path, &len);
        if (buf) model_variants(specs[i][0], buf, len);
        free(buf);
    }
    remove(path);
    put_text("model", "foreign-png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    put_text("model", "empty", "");
}

/* The state target's input: selector byte then the blob. */
static void state_seed(const char *name, uint8_t selector, const uint8_t *blob, size_t len) {
    uint8_t *buf = malloc(len + 1);
    buf[0] = selector;
    memcpy(buf + 1, blob, len);
    put("state", name, buf, len + 1);
    free(buf);
}

static void gen_state(void) {
    for (int k = 0; k < FUZZ_STATE_N_SETUPS; k++) {
        const fuzz_state_setup *st = &fuzz_state_setups[k];
        char name[128];
        if (st->opt) {
            fuzz_state_params p;
            ol_optim *o;
            if (fuzz_state_make_optim(k, &o, &p)) { fprintf(stderr, "gen_seeds: %s\n", ol_error()); failures++; continue; }
            for (int steps = 0; steps <= 7; steps += 7) {
                for (int s = 0; s < steps; s++) ol_optim_step(o);
                if (steps) ol_optim_report_metric(o, 0.5);
                size_t len = ol_optim_state_size(o);
                uint8_t *blob = malloc(len);
                if (ol_optim_state_save(o, blob, len)) { fprintf(stderr, "gen_seeds: %s\n", ol_error()); failures++; }
                char stem[64];
                snprintf(stem, sizeof stem, "%s", st->opt);
                for (char *c = stem; *c; c++)
                    if (*c == ':' || *c == ',' || *c == '=') *c = '-';
                snprintf(name, sizeof name, "optim-%02d-%s-after-%d", k, stem, steps);
                state_seed(name, (uint8_t)k, blob, len);
                free(blob);
            }
            ol_optim_free(o);
        } else {
            static const uint32_t shapes[3][3] = {{10, 3, 2}, {17, 5, 4}, {1000, 7, 100}}; /* n, batch, batches */
            for (int j = 0; j < 3; j++) {
                ol_sampler s;
                if (ol_sampler_init(&s, st->sampler_kind, shapes[j][0], shapes[j][1], 11 + j)) { failures++; continue; }
                for (uint32_t b = 0; b < shapes[j][2]; b++) {
                    const uint32_t *idx;
                    ol_sampler_next(&s, &idx);
                }
                uint8_t blob[512];
                size_t len = ol_sampler_state_size(&s);
                if (len > sizeof blob || ol_sampler_state_save(&s, blob, len)) { failures++; ol_sampler_free(&s); continue; }
                snprintf(name, sizeof name, "sampler-%02d-%s-n%u-b%u", k, ol_sampler_kind_name(st->sampler_kind),
                         shapes[j][0], shapes[j][1]);
                state_seed(name, (uint8_t)k, blob, len);
                ol_sampler_free(&s);
            }
        }
    }
}

/* A tiny data directory (16 pixels, 3 classes) for `optlab train --save`. */
static void gen_data_dir(const char *dir) {
    static const char *const files[4][2] = {
        {"train-images-idx3-ubyte", "i"}, {"train-labels-idx1-ubyte", "l"},
        {"t10k-images-idx3-ubyte", "i"}, {"t10k-labels-idx1-ubyte", "l"}};
    mkdir(dir, 0755);
    for (int f = 0; f < 4; f++) {
        static uint8_t buf[16 + 60 * 16];
        uint32_t n = f < 2 ? 60 : 30;
        size_t len = files[f][1][0] == 'i' ? idx_images(buf, n, 4, 4) : idx_labels(buf, n, 3);
        if (files[f][1][0] == 'i') /* make the classes learnable: class c = i % 3 lights band c */
            for (uint32_t i = 0; i < n; i++)
                for (int j = 0; j < 16; j++) buf[16 + i * 16 + j] = (uint8_t)(j / 6 == (int)(i % 3) ? 200 : 20 + j);
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, files[f][0]);
        FILE *out = fopen(path, "wb");
        if (!out || fwrite(buf, 1, len, out) != len || fclose(out) != 0) failures++;
    }
}

/* The checkpoint_fields seeds: runs on that target's data set, settings as a checkpoint's text (every=N:
 * --checkpoint-every), over mlp:16-8-3; each seed is the run's last checkpoint. */
static const char *const fuzz_ckf_seeds[][2] = {
    {"sgd-momentum-epoch", "opt=sgd:momentum=0.9\nbatch=8\nepochs=1\n"},
    {"adam-cosine-warmup-mid-epoch", "opt=adam\nlr=0.01\nschedule=cosine:t_max=20\nwarmup=2\nbatch=6\nepochs=2\nevery=4\n"},
    {"rmsprop-centered-normalize-iid", "opt=rmsprop:centered=1,momentum=0.5\nlr=0.01\nnormalize=1\nsampler=iid\nbatch=8\nepochs=2\n"},
    {"nadam-val-split-no-decay-bias", "opt=nadam\nlr=0.01\nval-split=0.25\nno-decay-bias=1\nbatch=10\nepochs=2\n"},
    {"heavyball-step-clip", "opt=heavyball\nlr=0.05\nschedule=step:step_size=3,gamma=0.5\nclip-norm=1\nbatch=8\nepochs=2\n"},
    {"sgd-rollbacks", "opt=sgd:momentum=0.9\nlr=1e20\non-divergence=rollback\nmax-rollbacks=200\nbatch=8\nepochs=2\n"},
    {"random-search", "opt=random:samples=3\nlr=0.1\nbatch=8\nepochs=1\n"},
    {"adagrad-full-batch", "opt=adagrad\nlr=0.1\nbatch=full\nepochs=3\n"},
};

/* Checkpoints of real runs on the checkpoint_fields target's data set. */
static void gen_checkpoint_fields(void) {
    mkdir("fuzz/corpus", 0755);
    mkdir("fuzz/corpus/checkpoint_fields", 0755);
    for (size_t i = 0; i < sizeof fuzz_ckf_seeds / sizeof fuzz_ckf_seeds[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "fuzz/corpus/checkpoint_fields/%s", fuzz_ckf_seeds[i][0]);
        if (fuzz_ckf_run(fuzz_ckf_seeds[i][1], NULL, path, 0)) {
            fprintf(stderr, "gen_seeds: %s: %s\n", fuzz_ckf_seeds[i][0], ol_error());
            failures++;
        }
    }
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "model")) { /* a model trained by optlab train --save */
        size_t len;
        unsigned char *buf = read_all(argv[2], &len);
        if (buf) model_variants("trained-mlp-16-8-3", buf, len);
        free(buf);
        return failures ? 1 : 0;
    }
    gen_idx();
    gen_spec();
    gen_cli();
    gen_model();
    gen_state();
    gen_checkpoint_fields();
    if (argc == 2) gen_data_dir(argv[1]);
    return failures ? 1 : 0;
}
