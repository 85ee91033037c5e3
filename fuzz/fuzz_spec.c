/* fuzz_spec.c: fuzzes the spec parsers and what they build: ol_spec_parse and its getters,
 * ol_optim_create, ol_sched_create, ol_optim_set_schedule, ol_mlp_create, ol_fn_create.
 *
 * Input: byte 0 chooses the parser, byte 1 is a small parameter, the rest (up to a NUL) is the spec.
 *   's' ol_spec_parse, then every getter on every key      (parameter unused)
 *   'o' ol_optim_create(spec, lr), then 3 steps on 4 floats (lr from a table by parameter % 8,
 *       NaN, Inf and negative included, which must be refused); wrapped ones (lookahead, sam,
 *       nested) get a closure and a state round trip
 *   'c' ol_sched_create(spec, warmup, groups), stepped up to 40 times, with a state round trip
 *       (groups 1 + parameter % 3, warm-up (parameter / 3) % 4)
 *   'S' ol_optim_set_schedule on sgd with momentum and two groups, stepped up to 40 times
 *   'm' ol_mlp_create(spec, 64 MiB limit); small models are initialized and run forward/backward
 *   'f' ol_fn_create(spec, d = 1 + parameter % 8), evaluated with its gradient
 * Any other byte 0 picks by value mod 6. The seeds are readable: "o3adam:beta1=0.5".
 * Checked: a failure has an OL_E* code and a message; no lr is negative; a momentum schedule's
 * momentum is in (0, 1); a schedule state saved loads back. Specs nest in brackets
 * (sequential:schedules=[A]/[B],...): the dictionary has the pieces. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "optlab/autodiff.h"
#include "optlab/common.h"
#include "optlab/functions.h"
#include "optlab/nn.h"
#include "optlab/optim.h"

#define FUZZ_SPEC_MLP_LIMIT ((size_t)64 << 20)    /* models needing more are refused, not allocated */
#define FUZZ_SPEC_MLP_RUN_PARAMS 20000             /* run a forward/backward only below this */

static double fuzz_spec_objective(const void *x, void *userdata) {
    (void)userdata;
    const float *v = x;
    double f = 0;
    for (int i = 0; i < 4; i++) f += (double)v[i] * v[i];
    return f;
}

/* sam's second gradient: that of |x|^2 / 2 at the perturbed point */
static int fuzz_spec_closure(void *userdata, double *f) {
    float **xg = userdata;
    *f = 0;
    for (int i = 0; i < 4; i++) {
        xg[1][i] = xg[0][i];
        *f += 0.5 * (double)xg[0][i] * xg[0][i];
    }
    return OL_OK;
}

/* A state saved loads back into the optimizer that saved it. Saving may refuse (OL_ENUMERIC) a
 * state whose buffers hold a NaN, but only once the steps have diverged: some parameter in x is
 * no longer finite. */
static int fuzz_spec_state_round_trip(ol_optim *o, const float *x, int n) {
    size_t len = ol_optim_state_size(o);
    uint8_t *buf = malloc(len);
    if (!buf) return 0;
    int bad = 0, diverged = 0;
    for (int i = 0; i < n; i++) diverged |= !isfinite(x[i]);
    fuzz_clear_error();
    int rc = ol_optim_state_save(o, buf, len);
    if (rc == OL_ENUMERIC && diverged) {
        free(buf);
        return 0;
    }
    if (rc || ol_optim_state_load(o, buf, len)) {
        fprintf(stderr, "fuzz_spec: an optimizer's own state does not load back: %s\n", ol_error());
        bad = 1;
    }
    free(buf);
    return bad;
}

static int fuzz_spec_parse(const char *text) {
    ol_spec s;
    fuzz_clear_error();
    int rc = ol_spec_parse(&s, text, "fuzzed");
    if (rc) return fuzz_check_rc(rc, "ol_spec_parse");
    int bad = 0;
    for (int i = 0; i < s.n_keys && !bad; i++) {
        double d;
        long l;
        char key[sizeof s.key[0]];
        memcpy(key, s.key[i], sizeof key);
        fuzz_clear_error();
        int r = ol_spec_get_double(&s, key, 0, &d);
        if (r < 0) bad |= fuzz_check_rc(-r, "ol_spec_get_double");
        else if (r == 1 && !isfinite(d)) {
            fprintf(stderr, "fuzz_spec: ol_spec_get_double accepted a non-finite value for '%s'\n", key);
            bad = 1;
        }
        fuzz_clear_error();
        r = ol_spec_get_long(&s, key, 0, -1000, 1000, &l);
        if (r < 0) bad |= fuzz_check_rc(-r, "ol_spec_get_long");
        else if (r == 1 && (l < -1000 || l > 1000)) {
            fprintf(stderr, "fuzz_spec: ol_spec_get_long gave %ld outside [-1000, 1000]\n", l);
            bad = 1;
        }
        if (!ol_spec_get_str(&s, key)) {
            fprintf(stderr, "fuzz_spec: key '%s' parsed but not found\n", key);
            bad = 1;
        }
    }
    fuzz_clear_error();
    rc = ol_spec_check_unused(&s, "");
    if (rc) bad |= fuzz_check_rc(rc, "ol_spec_check_unused");
    return bad;
}

static int fuzz_spec_optim(const char *text, unsigned param) {
    static const double lrs[8] = {0.1, 1e-3, 0, 1, 1e300, -1, NAN, INFINITY};
    ol_optim *o;
    fuzz_clear_error();
    int rc = ol_optim_create(&o, text, lrs[param % 8]);
    if (rc) return fuzz_check_rc(rc, "ol_optim_create");
    if (!(lrs[param % 8] >= 0 && isfinite(lrs[param % 8]))) {
        fprintf(stderr, "fuzz_spec: ol_optim_create accepted lr %g\n", lrs[param % 8]);
        ol_optim_free(o);
        return 1;
    }
    float x[4] = {1, -2, 0.5f, 3}, g[4] = {0.5f, -1, 2, 0.25f};
    int bad = 0;
    fuzz_clear_error();
    rc = ol_optim_add_group(o, x, g, 4, -1, -1);
    bad |= fuzz_check_rc(rc, "ol_optim_add_group");
    float *xg[2] = {x, g};
    if (!rc) {
        int random = ol_optim_kind(o) == OL_OPTIM_RANDOM;
        if (random) ol_optim_set_objective(o, fuzz_spec_objective, NULL);
        if (ol_optim_is_wrapped(o)) ol_optim_set_closure(o, fuzz_spec_closure, xg);
        for (int s = 0; s < (random ? 1 : 3) && !bad; s++) {
            fuzz_clear_error();
            rc = ol_optim_step(o);
            bad |= fuzz_check_rc(rc, "ol_optim_step");
            if (rc) break;
        }
        if (!bad && !rc && ol_optim_is_wrapped(o)) bad = fuzz_spec_state_round_trip(o, x, 4);
    }
    ol_optim_free(o);
    return bad;
}

/* Steps a schedule up to 40 times (feeding the plateau schedule a metric), then checks that its
 * state saves and loads back into itself. */
/* A schedule's lr is never negative: a negative lr silently climbs the loss. Huge or non-finite
 * values can follow from huge settings (the training's divergence guard stops those), and so can a
 * huge negative one: with eta_min=1e305 the chainable cosine formula (torch's) loses all precision
 * and gives -1e291; values beyond 1e100 are left to such absurd settings. */
static int fuzz_spec_check_lr(double lr, long step, const char *what) {
    /* a rounding residue such as linear's -2.5e-18 at end_factor=0 (torch's chainable formula gives
     * the same) moves nothing: only a negative lr that could climb the loss counts */
    if (!(lr < -1e-12) || lr < -1e100) return 0;
    fprintf(stderr, "fuzz_spec: %s gives lr %g after %ld steps\n", what, lr, step);
    return 1;
}

/* A momentum schedule's value is one every optimizer that takes it accepts: in (0, 1), or NaN when
 * none is set (yet). */
static int fuzz_spec_check_momentum(const ol_sched *s, long step) {
    double m = ol_sched_momentum(s);
    if (isnan(m) || (m > 0 && m < 1)) return 0;
    fprintf(stderr, "fuzz_spec: the schedule gives momentum %g after %ld steps\n", m, step);
    return 1;
}

static int fuzz_spec_run_sched(ol_sched *s, size_t n_groups) {
    int bad = 0;
    for (int t = 0; t <= 40 && !bad; t++) {
        bad = fuzz_spec_check_momentum(s, t);
        /* only an lr that a step will use must be >= 0: after onecycle's last step torch's formula
         * (and so ours) extrapolates below zero, and the next step is refused */
        fuzz_clear_error();
        if (ol_sched_check_step(s)) break;
        for (size_t k = 0; k < n_groups && !bad; k++) bad = fuzz_spec_check_lr(ol_sched_lr(s, k), t, "the schedule");
        if (bad || t == 40) break;
        int rc = ol_sched_step(s);
        if (rc) {
            fprintf(stderr, "fuzz_spec: ol_sched_step failed (%s) after ol_sched_check_step passed\n", ol_error());
            return 1;
        }
        if (t % 5 == 4) {
            fuzz_clear_error();
            rc = ol_sched_report_metric(s, 1.0 / (1 + t % 7));
            bad |= fuzz_check_rc(rc, "ol_sched_report_metric");
        }
    }
    size_t len = ol_sched_state_size(s);
    uint8_t *buf = malloc(len);
    if (!buf) return 0;
    fuzz_clear_error();
    int rc = ol_sched_state_save(s, buf, len);
    bad |= fuzz_check_rc(rc, "ol_sched_state_save");
    if (!rc) {
        fuzz_clear_error();
        rc = ol_sched_state_load(s, buf, len);
        if (rc) {
            fprintf(stderr, "fuzz_spec: a schedule cannot load its own state: %s\n", ol_error());
            bad = 1;
        }
    }
    free(buf);
    return bad;
}

static int fuzz_spec_sched(const char *text, unsigned param) {
    static const double base_lrs[3] = {0.1, 0.01, 1.0};
    size_t n_groups = 1 + param % 3;
    long warmup = (long)((param / 3) % 4);
    ol_sched *s;
    fuzz_clear_error();
    int rc = ol_sched_create(&s, text, warmup, n_groups, base_lrs);
    if (rc) return fuzz_check_rc(rc, "ol_sched_create");
    int bad = fuzz_spec_run_sched(s, n_groups);
    ol_sched_free(s);
    return bad;
}

static int fuzz_spec_set_schedule(const char *text, unsigned param) {
    ol_optim *o;
    if (ol_optim_create(&o, "sgd:momentum=0.9", 0.1)) {
        fprintf(stderr, "fuzz_spec: cannot create sgd: %s\n", ol_error());
        return 1;
    }
    float x1[3] = {1, 2, 3}, g1[3] = {0.1f, -0.2f, 0.3f};
    double x2[2] = {-1, 1}, g2[2] = {0.5, 0.5};
    if (ol_optim_add_group(o, x1, g1, 3, -1, -1) || ol_optim_add_group_f64(o, x2, g2, 2, 0.05, 0)) {
        fprintf(stderr, "fuzz_spec: cannot add groups: %s\n", ol_error());
        ol_optim_free(o);
        return 1;
    }
    fuzz_clear_error();
    int rc = ol_optim_set_schedule(o, text, (long)(param % 5));
    int bad = fuzz_check_rc(rc, "ol_optim_set_schedule");
    for (int t = 0; t < 40 && !rc && !bad; t++) {
        fuzz_clear_error();
        /* the lrs this step uses (after onecycle's last step torch's formula goes below zero, but
         * that lr is never used: the next step is refused) */
        double lr0 = ol_optim_get_lr(o, 0), lr1 = ol_optim_get_lr(o, 1);
        int r = ol_optim_step(o);
        if (r == OL_ESTATE) break; /* onecycle exhausted */
        bad |= fuzz_check_rc(r, "ol_optim_step");
        if (r) break;
        if (t % 5 == 4) ol_optim_report_metric(o, 1.0 / (1 + t % 7));
        bad |= fuzz_spec_check_lr(lr0, t, "the optimizer's schedule") ||
               fuzz_spec_check_lr(lr1, t, "the optimizer's schedule");
    }
    ol_optim_free(o);
    return bad;
}

static int fuzz_spec_mlp(const char *text, unsigned param) {
    ol_mlp m;
    fuzz_clear_error();
    int rc = ol_mlp_create(&m, text, FUZZ_SPEC_MLP_LIMIT);
    if (rc) return fuzz_check_rc(rc, "ol_mlp_create");
    int bad = 0;
    if (2.0 * (double)m.n_params * sizeof(float) > (double)FUZZ_SPEC_MLP_LIMIT) {
        fprintf(stderr, "fuzz_spec: ol_mlp_create accepted %zu parameters over the limit\n", m.n_params);
        bad = 1;
    }
    if (!bad && m.n_params <= FUZZ_SPEC_MLP_RUN_PARAMS) {
        ol_mlp_init(&m, param);
        ol_mlp_graph mg;
        fuzz_clear_error();
        rc = ol_mlp_graph_build(&m, &mg, 2, 1);
        bad |= fuzz_check_rc(rc, "ol_mlp_graph_build");
        if (!rc) {
            float *x = ol_ad_value(mg.g, mg.x);
            for (int i = 0; i < 2 * m.sizes[0]; i++) x[i] = (float)(i % 5) * 0.25f;
            int32_t *y = ol_ad_labels(mg.g, mg.loss);
            y[0] = 0;
            y[1] = m.sizes[m.n_layers] - 1;
            fuzz_clear_error();
            rc = ol_ad_set_batch(mg.g, 2);
            if (!rc) rc = ol_ad_forward(mg.g);
            if (!rc) rc = ol_ad_backward(mg.g, mg.loss);
            bad |= fuzz_check_rc(rc, "forward/backward");
            ol_mlp_graph_free(&mg);
        }
    }
    ol_mlp_free(&m);
    return bad;
}

static int fuzz_spec_fn(const char *text, unsigned param) {
    ol_objective f;
    int d = 1 + (int)(param % 8);
    fuzz_clear_error();
    int rc = ol_fn_create(&f, text, d);
    if (rc) return fuzz_check_rc(rc, "ol_fn_create");
    for (int i = 0; i < f.d; i++) f.x[i] = 0.5 * i - 1;
    (void)ol_fn_eval(&f, 1);
    (void)ol_fn_eval(&f, 0);
    ol_fn_free(&f);
    return 0;
}

int fuzz_spec_one(const uint8_t *data, size_t size) {
    static const char kinds[] = "socSmf";
    if (size < 2) return 0;
    const char *k = data[0] ? strchr(kinds, data[0]) : NULL;
    int which = k ? (int)(k - kinds) : data[0] % 6;
    unsigned param = data[1];
    char text[1024];
    fuzz_cstr(text, sizeof text, data + 2, size - 2);
    switch (which) {
    case 0: return fuzz_spec_parse(text);
    case 1: return fuzz_spec_optim(text, param);
    case 2: return fuzz_spec_sched(text, param);
    case 3: return fuzz_spec_set_schedule(text, param);
    case 4: return fuzz_spec_mlp(text, param);
    default: return fuzz_spec_fn(text, param);
    }
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (fuzz_spec_one(data, size)) abort();
    return 0;
}
#endif
