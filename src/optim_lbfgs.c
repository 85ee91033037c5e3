/* optim_lbfgs.c: L-BFGS as torch 1.13's torch.optim.LBFGS.step(closure), a port of minFunc
 * (Schmidt), with its strong-Wolfe line search (_strong_wolfe and _cubic_interpolate, themselves
 * ported from torch7's lswolfe.lua and polyinterp.lua). One ol_optim_step is one LBFGS.step: up to
 * max_iter iterations and max_eval evaluations of the closure, every gradient clipped as a closure
 * with clip_grad_value_ and clip_grad_norm_ inside would leave it.
 *
 * torch flattens its parameters into one vector; here the vectors (direction, last gradient, the
 * curvature pairs, scratch) are buffers of each group's state, in the group's precision, and a
 * "vector" is a buffer index across all groups in order. Dot products and norms run over the
 * groups in order and each group's elements in order, in double: on the few coordinates of the
 * analytic functions that is the order of torch's own (BLAS's) sums, so float64 runs agree with
 * torch to rounding (tests/ref). The curvature pairs are a ring of history_size slots.
 *
 * float32 state is stored without subnormals (flush.h), as every optimizer's; the parameters are
 * left as computed (no weight decay pulls them towards 0).
 *
 * Not here: torch's lazily grown lists (all history_size slots are allocated with the group). */
#include <math.h>
#include <string.h>

#include "flush.h"
#include "optim_internal.h"

/* buffers of a group's state: saved ones first */
enum { B_D = 0, B_PREV = 1, B_DIRS = 2 };   /* then B_DIRS + H: the steps s; then the scratch */
#define B_STPS(H) (B_DIRS + (int)(H))
#define B_FLAT(H) (B_DIRS + 2 * (int)(H))   /* the clipped gradient of the last evaluation */
#define B_XINIT(H) (B_FLAT(H) + 1)          /* line search: x at its start */
#define B_LS(H) (B_FLAT(H) + 2)             /* line search: 3 gradient buffers */
#define V_X (-1)                            /* the parameters themselves */

/* scalars: torch's state['n_iter'], 't', 'H_diag', 'prev_loss', the ring's fill and first slot,
 * then ro (1 / y.s) per slot */
enum { S_NITER, S_T, S_HDIAG, S_PREV_LOSS, S_NUM_OLD, S_HEAD };

int ol_optim_lbfgs_buffers(const ol_optim_params *p, int *saved) {
    *saved = 2 + 2 * (int)p->history_size;
    return *saved + 1 + (p->line_search == OL_LBFGS_STRONG_WOLFE ? 4 : 0);
}

static int whole_in(double v, double lo, double hi) { return v >= lo && v <= hi && v == floor(v); }

int ol_optim_lbfgs_check_scalars(const ol_optim *o, const double *v) {
    double h = (double)o->p.history_size;
    if (!whole_in(v[S_NITER], 0, 9007199254740992.0) || !whole_in(v[S_NUM_OLD], 0, h) ||
        !whole_in(v[S_HEAD], 0, h - 1))
        return ol_fail(OL_EFORMAT, "optimizer state: lbfgs's counters are inconsistent (corrupt)");
    return OL_OK;
}

/* ---- vectors across the groups ---- */

static void *vec(const group *gr, int id) { return id == V_X ? gr->x : ol_optim_group_buffer(gr, id); }

#define FOR_GROUPS(o, gr) for (group *gr = (o)->groups; gr < (o)->groups + (o)->n_groups; gr++)

/* The body once for double groups and once for float groups, with R the type and n the size. */
#define BOTH_TYPES(gr, ...)                                                                        \
    do {                                                                                           \
        size_t n = (gr)->n;                                                                        \
        if ((gr)->is_f64) {                                                                        \
            typedef double R;                                                                      \
            __VA_ARGS__                                                                            \
        } else {                                                                                   \
            typedef float R;                                                                       \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    } while (0)

/* a value stored into a state buffer of type R: float32 flushed below FLT_MIN, float64 as it is */
#define STORE(v) (sizeof(R) == sizeof(float) ? (R)ol_flush_f32((float)(v)) : (R)(v))

static double vdot(const ol_optim *o, int a, int b) {
    double s = 0;
    FOR_GROUPS(o, gr) BOTH_TYPES(gr, {
        const R *u = vec(gr, a), *v = vec(gr, b);
        for (size_t i = 0; i < n; i++) s += (double)u[i] * (double)v[i];
    });
    return s;
}

/* max |a t| (t = 1: max |a|), as a.mul(t).abs().max() */
static double vabsmax(const ol_optim *o, int a, double t) {
    double m = 0;
    FOR_GROUPS(o, gr) BOTH_TYPES(gr, {
        const R *u = vec(gr, a);
        const R tr = (R)t;
        for (size_t i = 0; i < n; i++) {
            R v = u[i] * tr;
            v = v < 0 ? -v : v;
            if (v > m || v != v) m = v;   /* NaN wins, as torch's max */
        }
    });
    return m;
}

static double vabssum(const ol_optim *o, int a) {
    double s = 0;
    FOR_GROUPS(o, gr) BOTH_TYPES(gr, {
        const R *u = vec(gr, a);
        for (size_t i = 0; i < n; i++) s += u[i] < 0 ? -(double)u[i] : (double)u[i];
    });
    return s;
}

/* y = y + alpha x (torch's y.add_(x, alpha=alpha)); y the parameters (V_X) or a state buffer */
static void vaxpy(ol_optim *o, int y, double alpha, int x) {
    FOR_GROUPS(o, gr) BOTH_TYPES(gr, {
        R *u = vec(gr, y);
        const R *v = vec(gr, x);
        const R al = (R)alpha;
        if (y == V_X)
            for (size_t i = 0; i < n; i++) u[i] = u[i] + al * v[i];
        else
            for (size_t i = 0; i < n; i++) u[i] = STORE(u[i] + al * v[i]);
    });
}

/* state buffer y = x * alpha; alpha = -1 is the exact negation (-x) */
static void vscale(ol_optim *o, int y, int x, double alpha) {
    FOR_GROUPS(o, gr) BOTH_TYPES(gr, {
        R *u = vec(gr, y);
        const R *v = vec(gr, x);
        const R al = (R)alpha;
        for (size_t i = 0; i < n; i++) u[i] = STORE(v[i] * al);
    });
}

static void vcopy(ol_optim *o, int y, int x) {
    FOR_GROUPS(o, gr) {
        if (gr->n) memcpy(vec(gr, y), vec(gr, x), gr->n * (gr->is_f64 ? sizeof(double) : sizeof(float)));
    }
}

/* The closure's gradient (each group's g) into buffer `to`, clipped as torch's clip_grad_value_
 * then clip_grad_norm_ would leave it; returns the norm of the value-clipped gradient. */
static double gather(ol_optim *o, int to) {
    double clip = o->clip_value > 0 ? o->clip_value : INFINITY, sumsq = 0;
    FOR_GROUPS(o, gr) sumsq += ol_optim_group_grad_sumsq(gr, clip);
    double norm = sqrt(sumsq), coef = 1;
    if (o->clip_norm > 0 && o->clip_norm / (norm + 1e-6) < 1) coef = o->clip_norm / (norm + 1e-6);
    FOR_GROUPS(o, gr) BOTH_TYPES(gr, {
        R *u = vec(gr, to);
        const R *g = gr->g;
        const R c = (R)clip, k = (R)coef;
        for (size_t i = 0; i < n; i++) {
            R gi = g[i];
            gi = gi < -c ? -c : (gi > c ? c : gi);
            u[i] = STORE(coef == 1 ? gi : gi * k);
        }
    });
    return norm;
}

/* f and the clipped gradient (into buffer `to`) at the parameters as they are */
static int evaluate(ol_optim *o, int to, double *f, double *norm) {
    int rc = o->closure(o->closure_userdata, f);
    if (rc) return rc;
    o->evaluations++;
    double nm = gather(o, to);
    if (norm) *norm = nm;
    return OL_OK;
}

/* ---- the strong-Wolfe line search (torch's _strong_wolfe) ---- */

typedef struct {
    ol_optim *o;
    int H;
    long evals;
} search;

/* torch's _directional_evaluate: f and gradient at x0 + t d (into buffer g), x back to x0 after;
 * *gtd = g.d */
static int directional(search *s, double t, int g, double *f, double *gtd) {
    ol_optim *o = s->o;
    vaxpy(o, V_X, t, B_D);
    int rc = evaluate(o, g, f, NULL);
    vcopy(o, V_X, B_XINIT(s->H));
    if (rc) return rc;
    s->evals++;
    *gtd = vdot(o, g, B_D);
    return OL_OK;
}

/* Python's max(a, b) and min(a, b): the first unless the second is larger (smaller) */
static double py_max(double a, double b) { return b > a ? b : a; }
static double py_min(double a, double b) { return b < a ? b : a; }

/* torch's _cubic_interpolate: the minimizer of the cubic through (x1, f1, g1), (x2, f2, g2),
 * clamped to [lo, hi] (bounded) or to [min(x1, x2), max(x1, x2)]; the middle when it has none */
static double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2, int bounded,
                                double lo, double hi) {
    double xmin_bound = bounded ? lo : x1 <= x2 ? x1 : x2, xmax_bound = bounded ? hi : x1 <= x2 ? x2 : x1;
    double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
    double d2_square = d1 * d1 - g1 * g2;
    if (d2_square >= 0) {
        double d2 = sqrt(d2_square);
        double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                  : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        return py_min(py_max(min_pos, xmin_bound), xmax_bound);
    }
    return (xmin_bound + xmax_bound) / 2.;
}

/* A gradient buffer of the line search's four (the start's, B_FLAT, and three) other than a, b */
static int free_buffer(int H, int a, int b) {
    for (int k = B_FLAT(H); k < B_LS(H) + 3; k++)
        if (k != a && k != b && k != B_XINIT(H)) return k;
    return -1;   /* cannot happen: four buffers, two taken */
}

/* From x0 (= x, saved in B_XINIT) along d (B_D) with f, its gradient (B_FLAT) and gtd = g.d there:
 * the step *t (in: the first trial) meeting the strong Wolfe conditions, f there in *f and its
 * gradient in B_FLAT. x is x0 when it returns. c1 = 1e-4, c2 = 0.9, tolerance_change = 1e-9 and
 * 25 evaluations at most, as torch (whose LBFGS passes none of its own settings to it). */
static int strong_wolfe(search *s, double *t_io, double *f_io, double gtd) {
    const double c1 = 1e-4, c2 = 0.9, tolerance_change = 1e-9;
    const int max_ls = 25, H = s->H, G = B_FLAT(H);
    ol_optim *o = s->o;
    double t = *t_io, f = *f_io;
    double d_norm = vabsmax(o, B_D, 1);
    int g_new = B_LS(H), rc;
    double f_new, gtd_new;
    if ((rc = directional(s, t, g_new, &f_new, &gtd_new))) return rc;

    /* bracket an interval containing a point satisfying the Wolfe criteria */
    double t_prev = 0, f_prev = f, gtd_prev = gtd;
    int g_prev = G, done = 0, ls_iter = 0, n_br = 0;
    double br[2] = {0, 0}, br_f[2] = {0, 0}, br_gtd[2] = {0, 0};
    int br_g[2] = {G, G};
    while (ls_iter < max_ls) {
        if (f_new > (f + c1 * t * gtd) || (ls_iter > 1 && f_new >= f_prev)) {
            n_br = 2;
            br[0] = t_prev, br[1] = t, br_f[0] = f_prev, br_f[1] = f_new;
            br_g[0] = g_prev, br_g[1] = g_new, br_gtd[0] = gtd_prev, br_gtd[1] = gtd_new;
            break;
        }
        if (fabs(gtd_new) <= -c2 * gtd) {
            n_br = 1;
            br[0] = t, br_f[0] = f_new, br_g[0] = g_new;
            done = 1;
            break;
        }
        if (gtd_new >= 0) {
            n_br = 2;
            br[0] = t_prev, br[1] = t, br_f[0] = f_prev, br_f[1] = f_new;
            br_g[0] = g_prev, br_g[1] = g_new, br_gtd[0] = gtd_prev, br_gtd[1] = gtd_new;
            break;
        }
        /* interpolate */
        double min_step = t + 0.01 * (t - t_prev), max_step = t * 10, tmp = t;
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, 1, min_step, max_step);
        /* next step */
        t_prev = tmp;
        f_prev = f_new;
        g_prev = g_new;
        gtd_prev = gtd_new;
        g_new = free_buffer(H, G, g_prev);   /* the start's gradient stays for the max_ls case */
        if ((rc = directional(s, t, g_new, &f_new, &gtd_new))) return rc;
        ls_iter++;
    }
    /* reached max number of iterations? */
    if (ls_iter == max_ls) {
        n_br = 2;
        br[0] = 0, br[1] = t, br_f[0] = f, br_f[1] = f_new, br_g[0] = G, br_g[1] = g_new;
    }

    /* zoom phase: we now have a point satisfying the criteria, or a bracket around it */
    int insuf_progress = 0;
    int low = n_br == 1 || br_f[0] <= br_f[1] ? 0 : 1, high = 1 - low;
    while (!done && ls_iter < max_ls) {
        /* line-search bracket is so small */
        if (fabs(br[1] - br[0]) * d_norm < tolerance_change) break;
        /* compute new trial value */
        t = cubic_interpolate(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1], 0, 0, 0);
        /* t too close to a boundary: after insufficient progress, or at it, move it 0.1 of the
         * bracket away from the nearest boundary */
        double b_max = py_max(br[0], br[1]), b_min = py_min(br[0], br[1]);
        double eps = 0.1 * (b_max - b_min);
        if (py_min(b_max - t, t - b_min) < eps) {
            if (insuf_progress || t >= b_max || t <= b_min) {
                t = fabs(t - b_max) < fabs(t - b_min) ? b_max - eps : b_min + eps;
                insuf_progress = 0;
            } else {
                insuf_progress = 1;
            }
        } else {
            insuf_progress = 0;
        }
        /* evaluate new point */
        int g_trial = free_buffer(H, br_g[0], br_g[1]);
        if ((rc = directional(s, t, g_trial, &f_new, &gtd_new))) return rc;
        ls_iter++;
        if (f_new > (f + c1 * t * gtd) || f_new >= br_f[low]) {
            /* Armijo condition not satisfied or not lower than lowest point */
            br[high] = t, br_f[high] = f_new, br_g[high] = g_trial, br_gtd[high] = gtd_new;
            low = br_f[0] <= br_f[1] ? 0 : 1;
            high = 1 - low;
        } else {
            if (fabs(gtd_new) <= -c2 * gtd) {
                done = 1;   /* Wolfe conditions satisfied */
            } else if (gtd_new * (br[high] - br[low]) >= 0) {
                /* old high becomes new low */
                br[high] = br[low], br_f[high] = br_f[low], br_g[high] = br_g[low], br_gtd[high] = br_gtd[low];
            }
            /* new point becomes new low */
            br[low] = t, br_f[low] = f_new, br_g[low] = g_trial, br_gtd[low] = gtd_new;
        }
    }
    *t_io = br[low];
    *f_io = br_f[low];
    if (br_g[low] != G) vcopy(o, G, br_g[low]);
    return OL_OK;
}

/* ---- the step ---- */

int ol_optim_lbfgs_step(ol_optim *o) {
    const ol_optim_params *p = &o->p;
    if (!o->closure)
        return ol_fail(OL_ESTATE, "lbfgs: no closure: L-BFGS evaluates f and its gradient itself, several times a "
                       "step; call ol_optim_set_closure first");
    int rc = ol_sched_check_step(o->sched);
    if (rc) return rc;
    const int H = (int)p->history_size, G = B_FLAT(H);
    const long max_eval = p->max_eval > 0 ? p->max_eval : p->max_iter * 5 / 4;
    const double lr = ol_optim_group_lr(o, 0);
    double *S = o->scalars, *ro = S + OL_LBFGS_FIXED_SCALARS, *al = o->scratch;
    long step = o->t + 1;

    /* evaluate initial f(x) and df/dx */
    double loss, norm;
    if ((rc = evaluate(o, G, &loss, &norm))) return rc;
    o->last_grad_norm = norm;
    if (!isfinite(loss) || !isfinite(norm))
        return ol_fail(OL_ENUMERIC, "lbfgs: step %ld: f is %g and the gradient norm %g at the start (not finite); "
                       "step refused, parameters unchanged", step, loss, norm);
    long current_evals = 1;
    int opt_cond = vabsmax(o, G, 1) <= p->tolerance_grad;

    double n_iter_all = S[S_NITER], t = S[S_T], h_diag = S[S_HDIAG], prev_loss = S[S_PREV_LOSS];
    int num_old = (int)S[S_NUM_OLD], head = (int)S[S_HEAD];
    search ls = {o, H, 0};
    for (long n_iter = 1; !opt_cond && n_iter <= p->max_iter; n_iter++) {
        n_iter_all++;
        /* compute gradient descent direction */
        if (n_iter_all == 1) {
            vscale(o, B_D, G, -1);
            num_old = head = 0;
            h_diag = 1;
        } else {
            /* y = g - g_prev, s = d t; the pair is kept when y.s > 1e-10 */
            double ys = 0;
            FOR_GROUPS(o, gr) BOTH_TYPES(gr, {
                const R *g = vec(gr, G), *gp = vec(gr, B_PREV), *d = vec(gr, B_D);
                const R tr = (R)t;
                for (size_t i = 0; i < n; i++) {
                    R y = STORE(g[i] - gp[i]), s = STORE(d[i] * tr);   /* as they would be stored */
                    ys += (double)y * (double)s;
                }
            });
            if (ys > 1e-10) {
                if (num_old == H) {   /* shift history by one (limited-memory) */
                    head = (head + 1) % H;
                    num_old--;
                }
                int slot = (head + num_old) % H;
                FOR_GROUPS(o, gr) BOTH_TYPES(gr, {
                    const R *g = vec(gr, G), *gp = vec(gr, B_PREV), *d = vec(gr, B_D);
                    R *y = vec(gr, B_DIRS + slot), *s = vec(gr, B_STPS(H) + slot);
                    const R tr = (R)t;
                    for (size_t i = 0; i < n; i++) {
                        y[i] = STORE(g[i] - gp[i]);
                        s[i] = STORE(d[i] * tr);
                    }
                });
                ro[slot] = 1. / ys;
                num_old++;
                h_diag = ys / vdot(o, B_DIRS + slot, B_DIRS + slot);   /* scale of the initial Hessian */
            }
            /* the two-loop recursion, in d's buffer: q = -g; q -= al_i y_i; d = q H_diag; d += (al_i - be_i) s_i */
            vscale(o, B_D, G, -1);
            for (int i = num_old - 1; i >= 0; i--) {
                int slot = (head + i) % H;
                al[i] = vdot(o, B_STPS(H) + slot, B_D) * ro[slot];
                vaxpy(o, B_D, -al[i], B_DIRS + slot);
            }
            vscale(o, B_D, B_D, h_diag);
            for (int i = 0; i < num_old; i++) {
                int slot = (head + i) % H;
                double be_i = vdot(o, B_DIRS + slot, B_D) * ro[slot];
                vaxpy(o, B_D, al[i] - be_i, B_STPS(H) + slot);
            }
        }
        vcopy(o, B_PREV, G);
        prev_loss = loss;

        /* step length: reset the initial guess */
        if (n_iter_all == 1) {
            double inv = 1. / vabssum(o, G);
            t = py_min(1., inv) * lr;
        } else {
            t = lr;
        }
        double gtd = vdot(o, G, B_D);   /* directional derivative */
        if (gtd > -p->tolerance_change) break;

        long ls_evals = 0;
        if (p->line_search == OL_LBFGS_STRONG_WOLFE) {
            vcopy(o, B_XINIT(H), V_X);
            ls.evals = 0;
            if ((rc = strong_wolfe(&ls, &t, &loss, gtd))) break;
            ls_evals = ls.evals;
            vaxpy(o, V_X, t, B_D);
            opt_cond = vabsmax(o, G, 1) <= p->tolerance_grad;
        } else {
            vaxpy(o, V_X, t, B_D);   /* a fixed step */
            if (n_iter != p->max_iter) {   /* re-evaluated only if not in the last iteration, as torch */
                if ((rc = evaluate(o, G, &loss, NULL))) break;
                opt_cond = vabsmax(o, G, 1) <= p->tolerance_grad;
                ls_evals = 1;
            }
        }
        current_evals += ls_evals;

        /* check conditions (opt_cond: the loop's own) */
        if (n_iter == p->max_iter || current_evals >= max_eval) break;
        if (vabsmax(o, B_D, t) <= p->tolerance_change) break;   /* lack of progress */
        if (fabs(loss - prev_loss) < p->tolerance_change) break;
    }
    S[S_NITER] = n_iter_all, S[S_T] = t, S[S_HDIAG] = h_diag, S[S_PREV_LOSS] = prev_loss;
    S[S_NUM_OLD] = num_old, S[S_HEAD] = head;
    if (rc) return rc;
    o->t = step;
    ol_sched_step(o->sched);   /* checked above: cannot fail */
    return OL_OK;
}
