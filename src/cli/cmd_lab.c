/* cmd_lab.c: `optlab lab all|NAME [--out DIR] [--quick]`: the lecture's experiments and the report. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "optlab/common.h"
#include "optlab/lab.h"

/* the panels' code, which the binary carries (build/gen/play_assets.c, web/web.mk) */
extern const ol_report_play ol_play_assets;

int cmd_lab(int argc, char **argv) {
    ol_lab_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.play = &ol_play_assets;
    ctx.out_dir = "report";
    ctx.data = "fashion-mnist";
    ctx.seed = 1;
    const char *usage = "all|random-search|conditioning|nonconvex|minibatch|tuning [--out DIR] [--quick] [options]";
    cli_flag flags[] = {
        {"--out", ARG_STR, &ctx.out_dir, "DIR", "output directory (new, empty or an earlier report's): index.html, CSVs, SVGs (default report)", 0, 0, NULL, 0, 0},
        {"--force", ARG_BOOL, &ctx.force, NULL, "write into an --out directory that holds files optlab did not write (refused otherwise)", 0, 0, NULL, 0, 0},
        {"--quick", ARG_BOOL, &ctx.quick, NULL, "small experiments (under a minute for all five)", 0, 0, NULL, 0, 0},
        {"--data", ARG_STR, &ctx.data, "D", "fashion-mnist (default), mnist, or a directory with the 4 MNIST files", 0, 0, NULL, 0, 0},
        {"--seed", ARG_U64, &ctx.seed, "S", "seed of every experiment (default 1)", 0, 0, NULL, 0, 0},
        {"--threads", ARG_INT, &ctx.threads, "T", "threads (default: all cores)", 1, 1024, NULL, 0, 0},
    };
    int n_flags = (int)(sizeof flags / sizeof flags[0]);
    if (argc < 3 || !strncmp(argv[2], "--", 2)) {
        if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
            cli_print_help(flags, n_flags, "lab", usage);
            printf("\nlabs: all (the five in order)");
            for (const ol_lab_entry *e = ol_labs; e->name; e++) printf(", %s", e->name);
            printf("\n");
            return 0;
        }
        return cli_report_error(ol_fail(OL_EARG, "optlab lab: which lab? usage: optlab lab %s", usage));
    }
    int rc = cli_parse(argc, argv, 3, flags, n_flags, "lab", usage);
    if (rc == CLI_HELP) return 0;
    if (rc) return cli_report_error(rc);
    rc = ol_lab_run(&ctx, argv[2]);
    if (rc) return cli_report_error(rc);
    printf("report: %s/index.html\n", ctx.out_dir);
    return 0;
}
