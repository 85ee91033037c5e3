/* main.c: `optlab`, the command line of the laboratory: dispatches to the sub-commands. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "optlab/common.h"

#define OPTLAB_VERSION "0.1.0"

static void usage(FILE *out) {
    fprintf(out,
            "optlab %s: a laboratory for the optimization of machine-learning models\n\n"
            "usage: optlab COMMAND [options]   (optlab COMMAND --help for its options)\n\n"
            "commands:\n"
            "  lab        the lecture's five experiments as one report (optlab lab all --out report/)\n"
            "  train      train an MLP on MNIST-format data (Fashion-MNIST by default)\n"
            "  eval       loss and accuracy of a saved model on a data set's test images\n"
            "  optimize   run an optimizer on an analytic function (quadratic, rosenbrock, ...) with a trace\n"
            "  lr-find    the learning-rate range test: an exponential lr sweep, its loss curve, a suggested lr\n"
            "  version    print the version\n\n"
            "example:\n"
            "  optlab train --data fashion-mnist --model mlp:784-256-10 --opt sgd:momentum=0.9 --lr 0.1 --batch 128 --epochs 5\n",
            OPTLAB_VERSION);
}

int cli_report_error(int code) {
    fprintf(stderr, "optlab: %s\n", *ol_error() ? ol_error() : "unknown error");
    return ol_exit_status(code);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "train")) return cmd_train(argc, argv);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc, argv);
    if (!strcmp(cmd, "optimize")) return cmd_optimize(argc, argv);
    if (!strcmp(cmd, "lab")) return cmd_lab(argc, argv);
    if (!strcmp(cmd, "lr-find")) return cmd_lrfind(argc, argv);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("optlab %s\n", OPTLAB_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "optlab: unknown command '%s'; run optlab --help for the list\n", cmd);
    return 2;
}
