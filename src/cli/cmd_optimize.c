/* cmd_optimize.c: `optlab optimize`: an optimizer on an analytic objective, in double precision,
 * with a trace CSV (step,lr,f,x0..x{d-1}: row k = the iterate after k steps, f there, and the lr
 * step k+1 uses; asgd adds its averaged iterate ax0..ax{d-1}). The trace is written when the run succeeds or diverges (then up to and with the
 * point where it did: the path to the blow-up); a failure of any other kind writes none.
 *
 * Divergence: f not finite, or f > f(x0) + F max(|f(x0)|, 1) with F = --diverge-factor
 * (OL_PLAY_DIVERGE_FACTOR, 1e6, and why: optlab/play.h). It stopped a run that only a
 * floating-point overflow stopped before (adam at lr 1e10 on rosenbrock ended at f = 1.6e36, exit 0).
 *
 * The run's steps are optlab/play.h's, shared with the report's panels, so that a run in the page is
 * this command's run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "optlab/common.h"
#include "optlab/functions.h"
#include "optlab/optim.h"
#include "optlab/play.h"

typedef struct {
    FILE *f;       /* the trace, or NULL */
    ol_optim *o;
    int d;
    char *row;     /* a row's text */
    size_t cap;
    double next_lr; /* the lr of the step after the last point: the one a divergence there is blamed on */
} trace_ctx;

static void trace_row(trace_ctx *t, long step, double lr, double fx, const double *x) {
    ol_play_trace_row(t->row, t->cap, step, lr, fx, x, ol_optim_average(t->o, 0), t->d);
    fputs(t->row, t->f);
}

/* ol_fn_minimize's on_point: one trace row a point (the start is step 0) */
static int trace_point(void *userdata, long step, double fx, const double *x) {
    trace_ctx *t = userdata;
    t->next_lr = ol_optim_get_lr(t->o, 0);
    if (t->f) trace_row(t, step, t->next_lr, fx, x);
    return 0;
}

int cmd_optimize(int argc, char **argv) {
    const char *fn = NULL, *x0_text = NULL, *opt_spec = NULL, *schedule = NULL, *trace = NULL;
    double lr = NAN, clip_norm = 0, clip_value = 0, diverge_factor = OL_PLAY_DIVERGE_FACTOR;
    long steps = -1, warmup = 0;
    uint64_t seed = 0;
    int quiet = 0;
    cli_flag flags[] = {
        {"--fn", ARG_STR, &fn, "FN", "quadratic:kappa=K, rosenbrock, rastrigin, himmelblau or styblinski-tang", 0, 0, NULL, 1, 0},
        {"--x0", ARG_STR, &x0_text, "a,b,...", "the starting point; its length is the dimension", 0, 0, NULL, 1, 0},
        {"--opt", ARG_STR, &opt_spec, "SPEC", "optimizer: gd, sgd:momentum=0.9, adam, random:sigma=0.1, ... (below)", 0, 0, NULL, 1, 0},
        {"--lr", ARG_DOUBLE, &lr, "X", "learning rate", 0, 0, NULL, 1, 0},
        {"--steps", ARG_LONG, &steps, "N", "optimizer steps", 0, 100000000, NULL, 1, 0},
        {"--schedule", ARG_STR, &schedule, "SPEC", "learning-rate schedule (default constant)", 0, 0, NULL, 0, 0},
        {"--warmup", ARG_LONG, &warmup, "N", "linear warm-up over the first N steps", 0, 1L << 40, NULL, 0, 0},
        {"--clip-norm", ARG_DOUBLE, &clip_norm, "C", "clip the gradient's L2 norm to C", 0, 0, NULL, 0, 0},
        {"--clip-value", ARG_DOUBLE, &clip_value, "C", "clip every gradient element to [-C, C]", 0, 0, NULL, 0, 0},
        {"--diverge-factor", ARG_DOUBLE, &diverge_factor, "F",
         "diverged when f > f(x0) + F max(|f(x0)|, 1) (default 1e6; 0: only when f is not finite)", 0, 0, NULL, 0, 0},
        {"--seed", ARG_U64, &seed, "S", "seed of random search (default 0)", 0, 0, NULL, 0, 0},
        {"--trace", ARG_STR, &trace, "F.csv", "write the trace: step,lr,f,x0,...", 0, 0, NULL, 0, 0},
        {"--quiet", ARG_BOOL, &quiet, NULL, "print only the final point and value", 0, 0, NULL, 0, 0},
    };
    int rc = cli_parse(argc, argv, 2, flags, (int)(sizeof flags / sizeof flags[0]), "optimize",
                       "--fn FN --x0 a,b,... --opt OPT --lr X --steps N [options]");
    if (rc == CLI_HELP) {
        cli_print_optimizers();
        return 0;
    }
    if (rc) return cli_report_error(rc);
    if (clip_norm < 0 || clip_value < 0) return cli_report_error(ol_fail(OL_EARG, "--clip-norm and --clip-value must be >= 0"));
    if (diverge_factor < 0)
        return cli_report_error(ol_fail(OL_EARG, "--diverge-factor must be >= 0 (0: stop only when f is not finite), got %g",
                                        diverge_factor));

    double *x0 = NULL;
    int d = 0;
    ol_objective obj;
    memset(&obj, 0, sizeof obj);
    ol_optim *o = NULL;
    ol_afile file;
    int file_open = 0;
    trace_ctx tc = {NULL, NULL, 0, NULL, 0, NAN};
    if ((rc = ol_play_parse_point(x0_text, &x0, &d))) goto out;
    if ((rc = ol_play_setup(&obj, &o, fn, x0, d, opt_spec, lr, schedule, warmup, clip_norm, clip_value, seed))) goto out;
    tc.o = o;
    tc.d = d;
    if (trace) {
        tc.cap = ol_play_trace_header(NULL, 0, d, ol_optim_average(o, 0) != NULL) + 26 * (3 + 2 * (size_t)d);
        if (!(tc.row = ol_malloc_array(tc.cap, 1))) {
            rc = OL_ENOMEM;
            goto out;
        }
        if ((rc = ol_afile_open(&file, trace))) goto out;
        file_open = 1;
        tc.f = file.f;
        ol_play_trace_header(tc.row, tc.cap, d, ol_optim_average(o, 0) != NULL);
        fputs(tc.row, tc.f);
    }
    ol_fn_minimize_result res;
    rc = ol_play_minimize(&obj, o, steps, diverge_factor, trace_point, &tc, &res);
    /* diverged: f out of bounds, or a step the optimizer refused for a non-finite gradient */
    const int blew_up = rc == OL_ENUMERIC || (!rc && res.outcome == OL_MIN_DIVERGED);
    if (rc && !blew_up) goto out;
    double fx = res.f;
    char why[1024] = "";
    if (rc) snprintf(why, sizeof why, "%s", ol_error());
    if (blew_up && !rc && res.steps == 0) { /* nothing to trace: the start itself is out of range */
        rc = ol_play_diverged(&res, NAN, diverge_factor, NULL);
        goto out;
    }
    if (file_open) {
        if (blew_up && !rc) trace_row(&tc, res.steps, ol_optim_get_lr(o, 0), fx, obj.x); /* the blow-up */
        file_open = 0;
        int wrc = ol_afile_commit(&file);
        if (wrc) {
            rc = wrc;
            goto out;
        }
    }
    if (blew_up) {
        rc = rc ? ol_fail(rc, "%s%s%s", why, trace ? "; the trace up to it is in " : "", trace ? trace : "")
                : ol_play_diverged(&res, tc.next_lr, diverge_factor, trace);
        goto out;
    }
    printf("f = %.17g after %ld steps", fx, steps);
    if (ol_optim_kind(o) == OL_OPTIM_RANDOM || ol_optim_needs_closure(o))
        printf(" (%ld function evaluations)", ol_optim_evaluations(o));
    printf("\nx =");
    for (int i = 0; i < d; i++) printf("%s%.17g", i ? "," : " ", obj.x[i]);
    const double *ax = ol_optim_average(o, 0);
    if (ax) printf("\nax =");   /* asgd's averaged iterate */
    for (int i = 0; ax && i < d; i++) printf("%s%.17g", i ? "," : " ", ax[i]);
    printf("\n");
out:
    if (file_open) ol_afile_abort(&file);
    ol_optim_free(o);
    ol_fn_free(&obj);
    free(x0);
    free(tc.row);
    return rc ? cli_report_error(rc) : 0;
}
