/* fuzz_cli.c: fuzzes the command-line parser, cli_parse (src/cli/args.c), with `optlab train`'s own
 * flags (cli_train_flags, src/cli/train_flags.c, made from the library's settings table) and flag
 * tables shaped like those of `optlab eval` and `optlab optimize` (copied from src/cli/cmd_*.c:
 * keep those two in step when their flags change), then hands the parsed specs to the parsers the
 * commands call before any work (optimizer, schedule, model, sampler). Training itself is never run.
 *
 * Input: arguments separated by NUL or newline bytes; the first names the command ("train",
 * "eval", "optimize"; anything else means train), e.g. "train\n--lr\n0.1\n--batch=full".
 * Checked: a failure has an OL_E* code and a message; on success every number is in its range. */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/cli/args.h"
#include "fuzz_util.h"
#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/sampler.h"
#include "optlab/nn.h"
#include "optlab/optim.h"
#include "optlab/train.h"

#define FUZZ_CLI_MAX_ARGS 64

/* The settings of all three commands (each table writes its own). */
typedef struct {
    const char *data, *model, *opt, *schedule, *log, *save, *fn, *x0, *trace, *checkpoint, *resume;
    double lr, clip_norm, clip_value, val_split;
    long batch, epochs, warmup, subset, steps, every;
    uint64_t seed;
    int threads, sampler, normalize, no_decay_bias, quiet, on_divergence, max_rollbacks;
} fuzz_cli_settings;

/* Runs cli_parse with stdout sent to /dev/null when the arguments ask for --help. */
static int fuzz_cli_parse_quiet(int argc, char **argv, cli_flag *flags, int n_flags, const char *command) {
    int help = 0;
    for (int i = 1; i < argc; i++) help |= !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
    int saved = -1;
    if (help) {
        fflush(stdout);
        int null_fd = open("/dev/null", O_WRONLY);
        if (null_fd >= 0) {
            saved = dup(STDOUT_FILENO);
            dup2(null_fd, STDOUT_FILENO);
            close(null_fd);
        }
    }
    int rc = cli_parse(argc, argv, 1, flags, n_flags, command, "[options]");
    if (saved >= 0) {
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
    }
    return rc;
}

/* What the commands do with the parsed strings before training: build the optimizer (with one
 * group), its schedule, the model (64 MiB limit: huge models are refused, not allocated). */
static int fuzz_cli_use(const fuzz_cli_settings *c) {
    int bad = 0;
    if (c->opt) {
        ol_optim *o;
        fuzz_clear_error();
        int rc = ol_optim_create(&o, c->opt, c->lr);
        bad |= fuzz_check_rc(rc, "ol_optim_create");
        if (!rc) {
            float x[2] = {1, 2}, g[2] = {0.5f, 0.5f};
            fuzz_clear_error();
            rc = ol_optim_add_group(o, x, g, 2, -1, -1);
            if (!rc) rc = ol_optim_set_clip(o, c->clip_norm, c->clip_value);
            if (!rc && (c->schedule || c->warmup)) rc = ol_optim_set_schedule(o, c->schedule, c->warmup);
            bad |= fuzz_check_rc(rc, "optimizer setup");
            ol_optim_free(o);
        }
    }
    if (c->model) {
        ol_mlp m;
        fuzz_clear_error();
        int rc = ol_mlp_create(&m, c->model, (size_t)64 << 20);
        bad |= fuzz_check_rc(rc, "ol_mlp_create");
        if (!rc) ol_mlp_free(&m);
    }
    return bad;
}

static int fuzz_cli_check_ranges(const fuzz_cli_settings *c) {
    if (!isfinite(c->lr) || !isfinite(c->clip_norm) || !isfinite(c->clip_value) || !isfinite(c->val_split) ||
        c->batch < 0 || c->batch > (1L << 24) || c->epochs < 1 || c->epochs > 1000000 || c->warmup < 0 ||
        c->subset < 0 || c->threads < 0 || c->threads > 1024 || c->steps < -1 || c->steps > 100000000 ||
        (c->sampler != OL_SAMPLER_SHUFFLE && c->sampler != OL_SAMPLER_IID) || c->seed > (uint64_t)INT64_MAX ||
        c->every < -1 || c->every > (1L << 40) || c->on_divergence < 0 || c->on_divergence > 1 ||
        c->max_rollbacks < 0 || c->max_rollbacks > 1000) {
        fprintf(stderr, "fuzz_cli: cli_parse accepted a value outside its range\n");
        return 1;
    }
    return 0;
}

int fuzz_cli_one(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    char *argv[FUZZ_CLI_MAX_ARGS + 1];
    int argc = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size && argc < FUZZ_CLI_MAX_ARGS; i++)
        if (i == size || text[i] == 0 || text[i] == '\n') {
            text[i] = 0;
            argv[argc++] = text + start;
            start = i + 1;
        }
    argv[argc] = NULL;

    fuzz_cli_settings c;
    memset(&c, 0, sizeof c);
    c.lr = 0.1;
    c.batch = 128;
    c.epochs = 5;
    c.steps = -1;
    c.seed = 1;
    c.sampler = OL_SAMPLER_SHUFFLE;
    int rc;
    const char *command = argv[0];
    if (!strcmp(command, "eval")) {
        cli_flag flags[] = {
            {"--model", ARG_STR, &c.model, "F", "a model file written by optlab train --save", 0, 0, NULL, 1, 0},
            {"--data", ARG_STR, &c.data, "D", "fashion-mnist (default), mnist, or a directory", 0, 0, NULL, 0, 0},
            {"--threads", ARG_INT, &c.threads, "T", "threads (default: all cores)", 1, 1024, NULL, 0, 0},
        };
        fuzz_clear_error();
        rc = fuzz_cli_parse_quiet(argc, argv, flags, (int)(sizeof flags / sizeof flags[0]), "eval");
        c.model = NULL; /* a file name here, not a spec */
    } else if (!strcmp(command, "optimize")) {
        cli_flag flags[] = {
            {"--fn", ARG_STR, &c.fn, "FN", "quadratic:kappa=K, rosenbrock, rastrigin or himmelblau", 0, 0, NULL, 1, 0},
            {"--x0", ARG_STR, &c.x0, "a,b,...", "the starting point", 0, 0, NULL, 1, 0},
            {"--opt", ARG_STR, &c.opt, "SPEC", "optimizer", 0, 0, NULL, 1, 0},
            {"--lr", ARG_DOUBLE, &c.lr, "X", "learning rate", 0, 0, NULL, 1, 0},
            {"--steps", ARG_LONG, &c.steps, "N", "optimizer steps", 0, 100000000, NULL, 1, 0},
            {"--schedule", ARG_STR, &c.schedule, "SPEC", "learning-rate schedule", 0, 0, NULL, 0, 0},
            {"--warmup", ARG_LONG, &c.warmup, "N", "linear warm-up steps", 0, 1L << 40, NULL, 0, 0},
            {"--clip-norm", ARG_DOUBLE, &c.clip_norm, "C", "clip the gradient's L2 norm to C", 0, 0, NULL, 0, 0},
            {"--clip-value", ARG_DOUBLE, &c.clip_value, "C", "clip every gradient element", 0, 0, NULL, 0, 0},
            {"--seed", ARG_U64, &c.seed, "S", "seed (random search)", 0, 0, NULL, 0, 0},
            {"--trace", ARG_STR, &c.trace, "F.csv", "write the trace", 0, 0, NULL, 0, 0},
            {"--quiet", ARG_BOOL, &c.quiet, NULL, "print only the final point and value", 0, 0, NULL, 0, 0},
        };
        fuzz_clear_error();
        rc = fuzz_cli_parse_quiet(argc, argv, flags, (int)(sizeof flags / sizeof flags[0]), "optimize");
    } else {
        ol_train_config tc = ol_train_default_config();
        cli_flag flags[CLI_TRAIN_MAX_FLAGS];
        int setting_of[CLI_TRAIN_MAX_FLAGS];
        int n = cli_train_flags(&tc, &c.every, flags, setting_of, CLI_TRAIN_MAX_FLAGS);
        fuzz_clear_error();
        rc = fuzz_cli_parse_quiet(argc, argv, flags, n, "train");
        /* what the checks below read */
        c.data = tc.data, c.model = tc.model_spec, c.opt = tc.opt, c.schedule = tc.schedule;
        c.lr = tc.lr, c.clip_norm = tc.clip_norm, c.clip_value = tc.clip_value, c.val_split = tc.val_split;
        c.batch = tc.batch, c.epochs = tc.epochs, c.warmup = tc.warmup, c.subset = tc.train_subset, c.seed = tc.seed;
        c.threads = tc.threads, c.sampler = tc.sampler, c.on_divergence = tc.on_divergence;
        c.max_rollbacks = tc.max_rollbacks;

    }
    int bad = 0;
    if (rc && rc != CLI_HELP) bad = fuzz_check_rc(rc, "cli_parse");
    else if (!rc) bad = fuzz_cli_check_ranges(&c) || fuzz_cli_use(&c);
    free(text);
    return bad;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (fuzz_cli_one(data, size)) abort();
    return 0;
}
#endif
