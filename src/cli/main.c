/* main.c: `optlab`, the command line of the laboratory: dispatches to the sub-commands. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "optlab/common.h"
#include "optlab/gemm.h"
#include "optlab/parallel.h"

#define OPTLAB_VERSION "0.1.0"

static void usage(FILE *out) {
    fprintf(out,
            "optlab %s: a laboratory for the optimization of machine-learning models\n\n"
            "usage: optlab COMMAND [options]   (optlab COMMAND --help for its options)\n\n"
            "commands:\n"
            "  lab        the lecture's five experiments as one report (optlab lab all --out report/)\n"
            "  train      train an MLP on MNIST-format data (Fashion-MNIST by default)\n"
            "  eval       loss and accuracy of a saved model on a data set's test images\n"
            "  sweep      train every setting of a hyperparameter grid, J at a time or over MPI ranks\n"
            "  optimize   run an optimizer on an analytic function (quadratic, rosenbrock, ...) with a trace\n"
            "  lr-find    the learning-rate range test: an exponential lr sweep, its loss curve, a suggested lr\n"
            "  version    print the version\n\n"
            "example:\n"
            "  optlab train --data fashion-mnist --model mlp:784-256-10 --opt sgd:momentum=0.9 --lr 0.1 --batch 128 --epochs 5\n",
            OPTLAB_VERSION);
}

/* OpenMP's default wait policy spins at every barrier: on this 2-core class of machine, one other
 * busy process made a 2-thread epoch take 15-26 s instead of 1 s (passive: 1.2-1.5 s). libgomp reads
 * OMP_WAIT_POLICY once, when it is loaded, so optlab re-executes itself with it set to passive
 * unless the user chose a policy. In that same re-execution, OPENBLAS_NUM_THREADS=1 (unless set):
 * OpenBLAS starts a thread pool when it is loaded, one thread a core, whose threads spin in
 * sched_yield for their first ~0.1 s, and optlab runs OpenBLAS single-threaded (gemm.c). A set
 * OMP_WAIT_POLICY means no re-execution at all (valgrind runs rely on it: under valgrind,
 * /proc/self/exe is valgrind's tool). If the exec fails, it goes on with the defaults. */
static void prefer_quiet_threads(char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    if (!getenv("OPENBLAS_NUM_THREADS")) setenv("OPENBLAS_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
}

int main(int argc, char **argv) {
    /* `optlab train ... | head -1` must not lose the run: a closed pipe makes writes to it fail
     * (and be dropped), not kill the process before --save and --checkpoint */
    signal(SIGPIPE, SIG_IGN);
    prefer_quiet_threads(argv);
    /* Ctrl-C, kill or a closed terminal must not leave NAME.tmp-* files behind (issue 16): the
     * temporaries of the atomic writes go first (train and sweep then set their own save-and-stop
     * handlers for SIGINT and SIGTERM, which end through the normal paths) */
    ol_afile_clean_on_signals();
    int asked = ol_parallel_cap_environment(); /* before any parallel work */
    if (asked)
        fprintf(stderr, "optlab: OMP_NUM_THREADS asks for %d threads; using %d, the most --threads accepts\n", asked,
                OL_PARALLEL_MAX_THREADS);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (getenv("OMP_NUM_THREADS") && cores > 0 && ol_parallel_threads() > 4 * cores) /* 5000 ran 800x slower */
        fprintf(stderr, "optlab: %d threads on %ld cores run far slower than %ld; set OMP_NUM_THREADS (or --threads) to "
                "at most %ld\n", ol_parallel_threads(), cores, cores, cores);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "train")) return cmd_train(argc, argv);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc, argv);
    if (!strcmp(cmd, "optimize")) return cmd_optimize(argc, argv);
    if (!strcmp(cmd, "lab")) return cmd_lab(argc, argv);
    if (!strcmp(cmd, "sweep")) return cmd_sweep(argc, argv);
    if (!strcmp(cmd, "lr-find")) return cmd_lrfind(argc, argv);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("optlab %s\ngemm kernel: %s\nblas core: %s\n", OPTLAB_VERSION, ol_gemm_kernel(), ol_gemm_blas_core());
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "optlab: unknown command '%s'; run optlab --help for the list\n", cmd);
    return 2;
}
