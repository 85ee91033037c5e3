/* cmd_optimize.c: `optlab optimize`: an optimizer on an analytic objective, in double precision,
 * with a trace CSV (step,lr,f,x0..x{d-1}: row k = the iterate after k steps, f there, and the lr
 * step k+1 uses; asgd adds its averaged iterate ax0..ax{d-1}). The trace is written when the run succeeds or diverges (then up to and with the
 * point where it did: the path to the blow-up); a failure of any other kind writes none.
 *
 * Divergence: f not finite, or f > f(x0) + F max(|f(x0)|, 1) with F = --diverge-factor (default
 * 1e6): an objective a million times its start (or, from a start at or near 0, above a million)
 * is not being minimized. The bound leaves room for the overshoot of momentum and of large rates
 * (the torch reference cases of tests/ref/cases.txt that converge rise by at most 0.8 x f(x0)), is
 * scale-free, and stops a run that only a floating-point overflow stopped before (adam at lr 1e10
 * on rosenbrock ended at f = 1.6e36 with exit 0). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "optlab/common.h"
#include "optlab/functions.h"
#include "optlab/optim.h"

#define MAX_DIM 100000

/* "a,b,c" -> values; OL_EARG on anything that is not a finite number */
static int parse_point(const char *text, double **out, int *d) {
    int n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    if (n > MAX_DIM) return ol_fail(OL_EARG, "--x0 has %d coordinates, at most %d", n, MAX_DIM);
    double *x = ol_calloc((size_t)n, sizeof(double));
    if (!x) return OL_ENOMEM;
    const char *p = text;
    for (int i = 0; i < n; i++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char num[64], what[48];
        snprintf(what, sizeof what, "--x0 coordinate %d", i);
        if (len == 0 || len >= sizeof num) {
            free(x);
            return ol_fail(OL_EARG, "%s: expected a number, got '%.*s'", what, (int)(len > 20 ? 20 : len), p);
        }
        memcpy(num, p, len);
        num[len] = 0;
        if (ol_parse_double(num, what, &x[i])) {
            free(x);
            return OL_EARG;
        }
        p = end ? end + 1 : p + len;
    }
    *out = x;
    *d = n;
    return OL_OK;
}

static void trace_row(FILE *f, long step, double lr, double fx, const double *x, const double *ax, int d) {
    fprintf(f, "%ld,%.17g,%.17g", step, lr, fx);
    for (int i = 0; i < d; i++) fprintf(f, ",%.17g", x[i]);
    for (int i = 0; ax && i < d; i++) fprintf(f, ",%.17g", ax[i]);
    fputc('\n', f);
}

#define DIVERGE_FACTOR 1e6

typedef struct {
    FILE *f;       /* the trace, or NULL */
    ol_optim *o;
    int d;
    double next_lr; /* the lr of the step after the last point: the one a divergence there is blamed on */
} trace_ctx;

/* ol_fn_minimize's on_point: one trace row a point (the start is step 0) */
static int trace_point(void *userdata, long step, double fx, const double *x) {
    trace_ctx *t = userdata;
    t->next_lr = ol_optim_get_lr(t->o, 0);
    if (t->f) trace_row(t->f, step, t->next_lr, fx, x, ol_optim_average(t->o, 0), t->d);
    return 0;
}

/* The error of a run that diverged at res->steps, after the trace (if any) was written up to it. */
static int diverged(const ol_fn_minimize_result *res, double lr_used, double factor, const char *trace) {
    char where[1200] = "";
    if (trace) snprintf(where, sizeof where, "; the trace up to it is in %s", trace);
    if (res->steps == 0)
        return ol_fail(OL_EARG, "f(x0) is %g: --x0 is too far out for this function (f overflows); choose a start nearer its minimum",
                       res->f);
    if (!isfinite(res->f))
        return ol_fail(OL_ENUMERIC, "f became %g at step %ld (lr %g): the run diverged; try a smaller --lr or --clip-norm%s",
                       res->f, res->steps, lr_used, where);
    return ol_fail(OL_ENUMERIC, "f rose to %g at step %ld (lr %g), above %g = f(x0) + %g max(|f(x0)|, 1): the run diverged; "
                   "try a smaller --lr or --clip-norm (or a larger --diverge-factor)%s",
                   res->f, res->steps, lr_used, res->diverge_bound, factor, where);
}

int cmd_optimize(int argc, char **argv) {
    const char *fn = NULL, *x0_text = NULL, *opt_spec = NULL, *schedule = NULL, *trace = NULL;
    double lr = NAN, clip_norm = 0, clip_value = 0, diverge_factor = DIVERGE_FACTOR;
    long steps = -1, warmup = 0;
    uint64_t seed = 0;
    int quiet = 0;
    cli_flag flags[] = {
        {"--fn", ARG_STR, &fn, "FN", "quadratic:kappa=K, rosenbrock, rastrigin or himmelblau", 0, 0, NULL, 1, 0},
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
    if ((rc = parse_point(x0_text, &x0, &d))) goto out;
    if ((rc = ol_fn_create(&obj, fn, d))) goto out;
    memcpy(obj.x, x0, (size_t)d * sizeof(double));
    if ((rc = ol_optim_create(&o, opt_spec, lr))) goto out;
    if ((rc = ol_optim_add_group_f64(o, obj.x, obj.grad, (size_t)d, -1, -1))) goto out;
    if ((rc = ol_optim_set_schedule(o, schedule, warmup))) goto out;
    if ((rc = ol_optim_set_clip(o, clip_norm, clip_value))) goto out;
    ol_optim_seed(o, seed);
    if (trace) {
        if ((rc = ol_afile_open(&file, trace))) goto out;
        file_open = 1;
        fprintf(file.f, "step,lr,f");
        for (int i = 0; i < d; i++) fprintf(file.f, ",x%d", i);
        for (int i = 0; ol_optim_average(o, 0) && i < d; i++) fprintf(file.f, ",ax%d", i);
        fputc('\n', file.f);
    }
    /* the library's loop: every step, f to the schedule (plateau, bold); a non-finite f, or one
     * past the bound of --diverge-factor, stops */
    ol_fn_minimize_opts mo = ol_fn_minimize_defaults();
    mo.max_steps = steps;
    mo.diverge_above = INFINITY;
    mo.diverge_factor = diverge_factor;
    mo.feed_schedule = 1;
    trace_ctx tc = {file_open ? file.f : NULL, o, d, NAN};
    mo.on_point = trace_point;
    mo.userdata = &tc;
    ol_fn_minimize_result res;
    rc = ol_fn_minimize(&obj, o, &mo, &res);
    /* diverged: f out of bounds, or a step the optimizer refused for a non-finite gradient */
    const int blew_up = rc == OL_ENUMERIC || (!rc && res.outcome == OL_MIN_DIVERGED);
    if (rc && !blew_up) goto out;
    double fx = res.f;
    char why[1024] = "";
    if (rc) snprintf(why, sizeof why, "%s", ol_error());
    if (blew_up && !rc && res.steps == 0) { /* nothing to trace: the start itself is out of range */
        rc = diverged(&res, NAN, diverge_factor, NULL);
        goto out;
    }
    if (file_open) {
        if (blew_up && !rc) trace_row(file.f, res.steps, ol_optim_get_lr(o, 0), fx, obj.x, ol_optim_average(o, 0), d); /* the blow-up */
        file_open = 0;
        int wrc = ol_afile_commit(&file);
        if (wrc) {
            rc = wrc;
            goto out;
        }
    }
    if (blew_up) {
        rc = rc ? ol_fail(rc, "%s%s%s", why, trace ? "; the trace up to it is in " : "", trace ? trace : "")
                : diverged(&res, tc.next_lr, diverge_factor, trace);
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
    return rc ? cli_report_error(rc) : 0;
}
