/* cmd_lrfind.c: `optlab lr-find`: the learning-rate range test (include/optlab/lrfind.h) on an
 * MNIST-format data set: prints the suggested lr and writes the curve (CSV) and its figure (SVG).
 * Files are written only when the whole test succeeded: both or neither. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/lrfind.h"
#include "optlab/parallel.h"

/* Fails early (before minutes of work) when path cannot be written. */
int cmd_lrfind(int argc, char **argv) {
    ol_lrfind_config c = ol_lrfind_default_config();
    const char *data = "fashion-mnist", *csv_path = NULL, *svg_path = NULL;
    int threads = 0;
    c.opt = NULL;
    cli_flag flags[] = {
        {"--data", ARG_STR, &data, "D", "fashion-mnist (default), mnist, or a directory with the 4 MNIST files", 0, 0, NULL, 0, 0},
        {"--model", ARG_STR, &c.model_spec, "SPEC", "mlp:784-64-10[,act=...,init=...]", 0, 0, NULL, 1, 0},
        {"--opt", ARG_STR, &c.opt, "SPEC", "optimizer: sgd, sgd:momentum=0.9, adam, ... (its lr is swept)", 0, 0, NULL, 1, 0},
        {"--batch", ARG_LONG, &c.batch, "B", "examples per step (default 64)", 1, 1L << 24, NULL, 0, 0},
        {"--start", ARG_DOUBLE, &c.start_lr, "X", "first learning rate (default 1e-6)", 0, 0, NULL, 0, 0},
        {"--end", ARG_DOUBLE, &c.end_lr, "X", "last learning rate (default 10)", 0, 0, NULL, 0, 0},
        {"--steps", ARG_LONG, &c.steps, "N", "steps of the sweep, one mini-batch each (default 100)", 2, 10000000, NULL, 0, 0},
        {"--beta", ARG_DOUBLE, &c.beta, "B", "smoothing of the loss curve, in [0, 1) (default 0.98)", 0, 0, NULL, 0, 0},
        {"--seed", ARG_U64, &c.seed, "S", "seed of the initialization and batch order (default 1)", 0, 0, NULL, 0, 0},
        {"--threads", ARG_INT, &threads, "T", "threads (default: all cores); results do not depend on it", 1, 1024, NULL, 0, 0},
        {"--normalize", ARG_BOOL, &c.normalize, NULL, "standardize inputs with the training set's mean and std", 0, 0, NULL, 0, 0},
        {"--subset", ARG_LONG, &c.train_subset, "N", "use the first N training examples only", 1, 1L << 31, NULL, 0, 0},
        {"--csv", ARG_STR, &csv_path, "F.csv", "write the curve: step,lr,loss,smooth_loss", 0, 0, NULL, 0, 0},
        {"--svg", ARG_STR, &svg_path, "F.svg", "write the figure (log lr axis, suggestion marked)", 0, 0, NULL, 0, 0},
    };
    int rc = cli_parse(argc, argv, 2, flags, (int)(sizeof flags / sizeof flags[0]), "lr-find",
                       "--model SPEC --opt OPT [--data D] [--start X] [--end X] [--steps N] [--csv F] [--svg F]");
    if (rc == CLI_HELP) {
        cli_print_optimizers();
        return 0;
    }
    if (rc) return cli_report_error(rc);
    if (threads) ol_parallel_set_threads(threads);
    /* the settings are checked before the data is read (a typo costs nothing) */
    ol_lrfind_result r;
    ol_dataset train, test;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    if ((rc = ol_lrfind_check(&c))) return cli_report_error(rc);
    if ((csv_path && (rc = ol_afile_check(csv_path))) || (svg_path && (rc = ol_afile_check(svg_path))))
        return cli_report_error(rc);
    char files[4][OL_PATH_CAP]; /* no output may be a data file or the other output */
    if ((rc = ol_data_files(data, files))) return cli_report_error(rc);
    const ol_file_role inputs[4] = {{files[0], "the training images"}, {files[1], "the training labels"},
                                    {files[2], "the test images"},     {files[3], "the test labels"}};
    const ol_file_role written[2] = {{csv_path, "--csv"}, {svg_path, "--svg"}};
    if ((rc = ol_check_outputs(inputs, 4, written, 2, NULL))) return cli_report_error(rc);
    if ((rc = ol_data_load(data, &train, &test))) return cli_report_error(rc);
    ol_dataset_free(&test);
    rc = ol_lrfind_run(&c, &train, &r);
    ol_dataset_free(&train);
    if (rc) return cli_report_error(rc);

    ol_plot *plot = NULL;
    if (svg_path) {
        char title[160];
        snprintf(title, sizeof title, "Learning-rate range test: %s, batch %ld", c.opt, c.batch);
        if (!(plot = ol_lrfind_plot(&r, title))) rc = OL_ENOMEM;
    }
    if (!rc && csv_path) rc = ol_lrfind_write_csv(&r, csv_path);
    if (!rc && plot && (rc = ol_plot_write(plot, svg_path)) && csv_path) unlink(csv_path);   /* both or neither */
    ol_plot_free(plot);
    if (rc) {
        ol_lrfind_result_free(&r);
        return cli_report_error(rc);
    }
    const ol_lrfind_result *p = &r;
    if (p->diverged)
        printf("lr-find: stopped at step %ld of %ld (lr %.3g): the loss diverged\n", p->step[p->n_points - 1], c.steps,
               p->lr[p->n_points - 1]);
    else
        printf("lr-find: %ld steps from lr %.3g to %.3g without diverging\n", c.steps, c.start_lr, c.end_lr);
    printf("lowest smoothed loss %.4g at lr %.3g (one decade below: %.3g)\n", p->min_smooth, p->min_lr, p->min_lr / 10);
    printf("suggested lr %.3g (the steepest descent of the smoothed loss)\n", p->suggested_lr);
    ol_lrfind_result_free(&r);
    return 0;
}
