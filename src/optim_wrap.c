/* optim_wrap.c: wrappers that take any gradient optimizer: lookahead (Zhang et al. 2019) and sam
 * (Foret et al. 2021). A wrapped optimizer is the inner (base) optimizer's object with a chain of
 * layers attached (o->wrap, outermost first): groups, schedule, clipping, lr and kind stay the
 * base's; ol_optim_step runs the chain down to the base step. The spec grammar
 * (WRAPPER[:key=value,...],inner=SPEC) and the formulas: include/optlab/optim.h. An exponential
 * moving average of the weights (ol_optim_set_ema, train --ema) is a layer of the same kind,
 * outermost, whose buffer ol_optim_average / ol_optim_swap_average expose. */
#include "optlab/optim.h"

#include "optlab/common.h"

#include "flush.h"
#include "optim_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TRY(expr) do { int rc_ = (expr); if (rc_) return rc_; } while (0)

enum { WRAP_LOOKAHEAD, WRAP_SAM, N_WRAP, WRAP_EMA = N_WRAP };   /* ema: ol_optim_set_ema, not a spec */

static const char *const wrap_names[N_WRAP + 1] = {"lookahead", "sam", "ema"};
static const char *const wrap_keys[N_WRAP] = {"k, alpha, inner", "rho, inner"};
static const char *const wrap_help[N_WRAP] = {
    "slow weights pulled toward the inner optimizer's every k steps: steadier, less lr-sensitive",
    "sharpness-aware: steps with the gradient at the worst nearby point, flatter minima (2 gradients a step)",
};

typedef struct {
    int type;        /* WRAP_* */
    long k;          /* lookahead: inner steps between synchronizations, >= 1 */
    double alpha;    /* lookahead: slow step, in (0, 1] */
    double rho;      /* sam: radius of the ascent step, > 0 */
    double decay;    /* ema: in (0, 1) */
    long count;      /* lookahead, ema: inner steps taken (saved) */
    void **buf;      /* per group: lookahead's slow weights and ema's average (saved), sam's copy of w */
} wrap_layer;

struct ol_wrap {
    int n;
    wrap_layer layer[OL_OPTIM_MAX_WRAPPERS + 1];   /* + an ema, outermost */
};

int ol_optim_n_wrappers(void) { return N_WRAP; }
const char *ol_optim_wrapper_name(int i) { return i >= 0 && i < N_WRAP ? wrap_names[i] : "?"; }
const char *ol_optim_wrapper_help(int i) { return i >= 0 && i < N_WRAP ? wrap_help[i] : "?"; }
const char *ol_optim_wrapper_keys(int i) { return i >= 0 && i < N_WRAP ? wrap_keys[i] : ""; }

static int wrap_type(const char *spec) {
    for (int i = 0; i < N_WRAP; i++) {
        size_t len = strlen(wrap_names[i]);
        if (!strncmp(spec, wrap_names[i], len) && (spec[len] == 0 || spec[len] == ':')) return i;
    }
    return -1;
}

int ol_optim_is_wrapped(const ol_optim *o) { return o->wrap ? o->wrap->n : 0; }

int ol_optim_is_wrapper_spec(const char *spec) { return spec && wrap_type(spec) >= 0; }

/* Where "inner=" starts after ':' or ',' in spec, or NULL. */
static const char *find_inner(const char *spec) {
    for (const char *p = strstr(spec, "inner="); p; p = strstr(p + 1, "inner="))
        if (p > spec && (p[-1] == ':' || p[-1] == ',')) return p;
    return NULL;
}

/* Parses the layer at the head of spec; *inner: the spec it wraps. */
static int parse_layer(const char *spec, wrap_layer *w, const char **inner) {
    int type = wrap_type(spec);
    const char *name = wrap_names[type];
    const char *in = find_inner(spec);
    if (!in || !in[6])
        return ol_fail(OL_EARG, "%s: no inner optimizer: give it last, as inner=SPEC (e.g. %s:inner=adam%s)", name,
                       name, type == WRAP_LOOKAHEAD ? " or lookahead:k=5,alpha=0.5,inner=sgd:momentum=0.9"
                                                     : " or sam:rho=0.05,inner=sgd:momentum=0.9");
    char head[256];
    size_t len = (size_t)(in - 1 - spec);
    if (len >= sizeof head) return ol_fail(OL_EARG, "%s: its keys before inner= are too long", name);
    memcpy(head, spec, len);
    head[len] = 0;
    ol_spec sp;
    TRY(ol_spec_parse(&sp, head, "optimizer"));
    memset(w, 0, sizeof *w);
    w->type = type;
    if (type == WRAP_LOOKAHEAD) {
        int r = ol_spec_get_long(&sp, "k", 5, 1, 1000000000, &w->k);
        if (r < 0) return -r;
        r = ol_spec_get_double(&sp, "alpha", 0.5, &w->alpha);
        if (r < 0) return -r;
        if (!(w->alpha > 0 && w->alpha <= 1))
            return ol_fail(OL_EARG, "lookahead: alpha must be in (0, 1] (the slow weights' step), got %g", w->alpha);
    } else {
        int r = ol_spec_get_double(&sp, "rho", 0.05, &w->rho);
        if (r < 0) return -r;
        if (!(w->rho > 0 && isfinite(w->rho)))
            return ol_fail(OL_EARG, "sam: rho must be a finite number > 0 (the ascent radius), got %g", w->rho);
    }
    /* "inner" is found above, not by the spec parser: name it among the valid keys */
    TRY(ol_spec_check_unused(&sp, wrap_keys[type]));
    *inner = in + 6;
    return OL_OK;
}

int ol_optim_wrap_create(ol_optim **out, const char *spec, double lr) {
    *out = NULL;
    struct ol_wrap w;
    memset(&w, 0, sizeof w);
    const char *s = spec;
    while (wrap_type(s) >= 0) {
        if (w.n == OL_OPTIM_MAX_WRAPPERS)
            return ol_fail(OL_EARG, "optimizer spec nests more than %d wrappers: '%s'", OL_OPTIM_MAX_WRAPPERS, spec);
        TRY(parse_layer(s, &w.layer[w.n], &s));
        w.n++;
    }
    ol_optim *o;
    TRY(ol_optim_create(&o, s, lr));
    int kind = ol_optim_kind(o);
    if (kind == OL_OPTIM_RANDOM || kind == OL_OPTIM_LBFGS) {
        ol_optim_free(o);
        return ol_fail(OL_EARG, "%s cannot wrap %s: it evaluates the objective itself; wrap a gradient optimizer "
                       "(sgd, adam, ...)", wrap_names[w.layer[w.n - 1].type], ol_optim_kind_name(kind));
    }
    if (!(o->wrap = malloc(sizeof w))) {
        ol_optim_free(o);
        return ol_fail(OL_ENOMEM, "out of memory for the optimizer's wrappers");
    }
    *o->wrap = w;
    *out = o;
    return OL_OK;
}

static size_t elem_size(const group *gr) { return gr->is_f64 ? sizeof(double) : sizeof(float); }

void ol_optim_wrap_free(ol_optim *o) {
    if (!o->wrap) return;
    for (int l = 0; l < o->wrap->n; l++) {
        wrap_layer *w = &o->wrap->layer[l];
        for (int k = 0; w->buf && k < o->n_groups; k++) free(w->buf[k]);
        free(w->buf);
    }
    free(o->wrap);
    o->wrap = NULL;
}

int ol_optim_wrap_add_group(ol_optim *o) {
    int k = o->n_groups - 1;   /* the group just added */
    const group *gr = &o->groups[k];
    for (int l = 0; l < o->wrap->n; l++) {
        wrap_layer *w = &o->wrap->layer[l];
        void **b = realloc(w->buf, (size_t)o->n_groups * sizeof *b);
        if (!b) return ol_fail(OL_ENOMEM, "out of memory adding a parameter group");
        w->buf = b;
        if (!(b[k] = ol_calloc(gr->n ? gr->n : 1, elem_size(gr)))) {
            for (int j = 0; j < l; j++) {   /* the layers before got theirs: take them back */
                free(o->wrap->layer[j].buf[k]);
                o->wrap->layer[j].buf[k] = NULL;
            }
            return OL_ENOMEM;
        }
        if (w->type == WRAP_EMA && gr->n) memcpy(b[k], gr->x, gr->n * elem_size(gr));   /* as asgd's ax */
    }
    return OL_OK;
}

static void copy_x(ol_optim *o, void *const *buf, int to_buf) {
    for (int k = 0; k < o->n_groups; k++) {
        group *gr = &o->groups[k];
        if (!gr->n) continue;
        if (to_buf) memcpy(buf[k], gr->x, gr->n * elem_size(gr));
        else memcpy(gr->x, buf[k], gr->n * elem_size(gr));
    }
}

int ol_optim_set_ema(ol_optim *o, double decay) {
    if (!(decay > 0 && decay < 1))
        return ol_fail(OL_EARG, "ema: decay must be in (0, 1) (e.g. 0.999: an average over about 1000 steps), got %g",
                       decay);
    if (o->n_groups) return ol_fail(OL_ESTATE, "ema: set it before adding parameter groups");
    if (o->wrap && o->wrap->n && o->wrap->layer[0].type == WRAP_EMA)
        return ol_fail(OL_ESTATE, "ema: this optimizer has one already");
    if (!o->wrap && !(o->wrap = ol_calloc(1, sizeof *o->wrap))) return OL_ENOMEM;
    memmove(&o->wrap->layer[1], &o->wrap->layer[0], (size_t)o->wrap->n * sizeof o->wrap->layer[0]);
    memset(&o->wrap->layer[0], 0, sizeof o->wrap->layer[0]);
    o->wrap->layer[0].type = WRAP_EMA;
    o->wrap->layer[0].decay = decay;
    o->wrap->n++;
    return OL_OK;
}

void *const *ol_optim_wrap_ema(const ol_optim *o) {
    return o->wrap && o->wrap->n && o->wrap->layer[0].type == WRAP_EMA ? o->wrap->layer[0].buf : NULL;
}

int ol_optim_wrap_swap_ema(ol_optim *o) {
    wrap_layer *w = &o->wrap->layer[0];
    if (w->count == 0) copy_x(o, w->buf, 1);   /* no step yet: the average is x itself */
    for (int k = 0; k < o->n_groups; k++) {
        group *gr = &o->groups[k];
        ol_optim_swap_bytes(gr->x, w->buf[k], gr->n * elem_size(gr));
    }
    return OL_OK;
}

int ol_optim_wrap_needs_closure(const ol_optim *o) {
    for (int l = 0; o->wrap && l < o->wrap->n; l++)
        if (o->wrap->layer[l].type == WRAP_SAM) return 1;
    return 0;
}


/* lookahead after an inner step: every k-th, slow += alpha (fast - slow) and fast = slow
 * (in double, stored in the group's type; float32 flushed below FLT_MIN) */
static void lookahead_sync(ol_optim *o, wrap_layer *w) {
    for (int k = 0; k < o->n_groups; k++) {
        group *gr = &o->groups[k];
        if (gr->is_f64) {
            double *x = gr->x, *slow = w->buf[k];
            for (size_t i = 0; i < gr->n; i++) x[i] = slow[i] = slow[i] + w->alpha * (x[i] - slow[i]);
        } else {
            float *x = gr->x, *slow = w->buf[k];
            for (size_t i = 0; i < gr->n; i++)
                x[i] = slow[i] = ol_flush_f32((float)((double)slow[i] + w->alpha * ((double)x[i] - (double)slow[i])));
        }
    }
}

/* ema = decay ema + (1 - decay) x, in double, stored in the group's type (float32 flushed) */
static void ema_update(ol_optim *o, wrap_layer *w) {
    double d = w->decay, omd = 1 - w->decay;
    for (int k = 0; k < o->n_groups; k++) {
        group *gr = &o->groups[k];
        if (gr->is_f64) {
            const double *x = gr->x;
            double *e = w->buf[k];
            for (size_t i = 0; i < gr->n; i++) e[i] = d * e[i] + omd * x[i];
        } else {
            const float *x = gr->x;
            float *e = w->buf[k];
            for (size_t i = 0; i < gr->n; i++) e[i] = ol_flush_f32((float)(d * (double)e[i] + omd * (double)x[i]));
        }
    }
}

/* sam: ||g|| over every group (double), then w += rho g / (||g|| + 1e-12), as the reference code */
static int sam_ascend(ol_optim *o, const wrap_layer *w) {
    double sumsq = 0;
    for (int k = 0; k < o->n_groups; k++) sumsq += ol_optim_group_grad_sumsq(&o->groups[k], INFINITY);
    double norm = sqrt(sumsq);
    if (!isfinite(norm)) {
        o->last_grad_norm = norm;
        return ol_fail(OL_ENUMERIC, "sam: step %ld: the gradient norm is %g (not finite); step refused, parameters "
                       "unchanged", o->t + 1, norm);
    }
    double scale = w->rho / (norm + 1e-12);
    for (int k = 0; k < o->n_groups; k++) {
        group *gr = &o->groups[k];
        if (gr->is_f64) {
            double *x = gr->x;
            const double *g = gr->g;
            for (size_t i = 0; i < gr->n; i++) x[i] += scale * g[i];
        } else {
            float *x = gr->x;
            const float *g = gr->g;
            for (size_t i = 0; i < gr->n; i++) x[i] = (float)((double)x[i] + scale * (double)g[i]);
        }
    }
    return OL_OK;
}

static int step_layer(ol_optim *o, int l) {
    if (l == o->wrap->n) return ol_optim_base_step(o);
    wrap_layer *w = &o->wrap->layer[l];
    if (w->type == WRAP_EMA) {   /* torch's AveragedModel: the first update copies, then d ema + (1 - d) x */
        TRY(step_layer(o, l + 1));
        if (w->count++ == 0) copy_x(o, w->buf, 1);
        else ema_update(o, w);
        return OL_OK;
    }
    if (w->type == WRAP_LOOKAHEAD) {
        if (w->count == 0) copy_x(o, w->buf, 1);   /* the slow weights start at the first step's x */
        TRY(step_layer(o, l + 1));
        if (++w->count % w->k == 0) lookahead_sync(o, w);
        return OL_OK;
    }
    if (!o->closure)
        return ol_fail(OL_ESTATE, "sam: needs a closure for its second gradient; call ol_optim_set_closure first");
    copy_x(o, w->buf, 1);
    TRY(sam_ascend(o, w));
    double f;
    o->evaluations++;
    int rc = o->closure(o->closure_userdata, &f);
    copy_x(o, w->buf, 0);   /* back to w, bit for bit, whatever the closure said */
    if (rc) return rc;
    return step_layer(o, l + 1);
}

int ol_optim_wrap_step(ol_optim *o) { return step_layer(o, 0); }

/* ---- state: after the base's blob, "OLWR", version, layers, each (type, count, slow weights),
 * CRC-32 ---- */

#define WRAP_MAGIC 0x52574c4fu   /* "OLWR" */
#define WRAP_HEADER 12
#define LAYER_HEADER 12

static size_t layer_bytes(const ol_optim *o, const wrap_layer *w) {
    size_t bytes = LAYER_HEADER;
    if (w->type != WRAP_SAM)
        for (int k = 0; k < o->n_groups; k++) bytes += o->groups[k].n * elem_size(&o->groups[k]);
    return bytes;
}

size_t ol_optim_wrap_state_size(const ol_optim *o) {
    if (!o->wrap) return 0;
    size_t bytes = WRAP_HEADER + 4;
    for (int l = 0; l < o->wrap->n; l++) bytes += layer_bytes(o, &o->wrap->layer[l]);
    return bytes;
}

/* float or double values between host order and little-endian */
static void copy_values(unsigned char *dst, const unsigned char *src, size_t n, size_t elem, int to_le) {
    for (size_t i = 0; i < n; i++) {
        if (elem == 8) {
            double v;
            if (to_le) { memcpy(&v, src + 8 * i, 8); ol_put_f64(dst + 8 * i, v); }
            else { v = ol_get_f64(src + 8 * i); memcpy(dst + 8 * i, &v, 8); }
        } else {
            uint32_t v;
            if (to_le) { memcpy(&v, src + 4 * i, 4); ol_put_u32(dst + 4 * i, v); }
            else { v = ol_get_u32(src + 4 * i); memcpy(dst + 4 * i, &v, 4); }
        }
    }
}

void ol_optim_wrap_state_save(const ol_optim *o, unsigned char *p) {
    unsigned char *q = p;
    ol_put_u32(q, WRAP_MAGIC);
    ol_put_u32(q + 4, 1);
    ol_put_u32(q + 8, (uint32_t)o->wrap->n);
    q += WRAP_HEADER;
    for (int l = 0; l < o->wrap->n; l++) {
        const wrap_layer *w = &o->wrap->layer[l];
        ol_put_u32(q, (uint32_t)w->type);
        ol_put_u64(q + 4, (uint64_t)w->count);
        q += LAYER_HEADER;
        if (w->type == WRAP_SAM) continue;
        for (int k = 0; k < o->n_groups; k++) {
            const group *gr = &o->groups[k];
            copy_values(q, w->buf[k], gr->n, elem_size(gr), 1);
            q += gr->n * elem_size(gr);
        }
    }
    ol_put_u32(q, ol_crc32(0, p, (size_t)(q - p)));
}

/* The names of o's layers, "lookahead over sam" style, for messages. */
static void chain_text(const ol_optim *o, char *out, size_t cap) {
    size_t len = 0;
    out[0] = 0;
    for (int l = 0; o->wrap && l < o->wrap->n && len < cap; l++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", l ? " over " : "", wrap_names[o->wrap->layer[l].type]);
    if (!out[0]) snprintf(out, cap, "no wrapper");
}

int ol_optim_wrap_state_check(const ol_optim *o, const unsigned char *p, size_t len) {
    char mine[128];
    chain_text(o, mine, sizeof mine);
    if (len < WRAP_HEADER + 4 || ol_get_u32(p) != WRAP_MAGIC || ol_get_u32(p + 4) != 1 ||
        ol_get_u32(p + 8) != (uint32_t)o->wrap->n)
        return ol_fail(OL_EFORMAT, "optimizer state: its wrappers are not this optimizer's (%s)", mine);
    if (ol_get_u32(p + len - 4) != ol_crc32(0, p, len - 4))
        return ol_fail(OL_EFORMAT, "optimizer state: the wrappers' checksum mismatch (corrupt or truncated)");
    const unsigned char *q = p + WRAP_HEADER;
    for (int l = 0; l < o->wrap->n; l++) {
        const wrap_layer *w = &o->wrap->layer[l];
        if (ol_get_u32(q) != (uint32_t)w->type)
            return ol_fail(OL_EFORMAT, "optimizer state: its wrappers are not this optimizer's (%s)", mine);
        if ((int64_t)ol_get_u64(q + 4) < 0) return ol_fail(OL_EFORMAT, "optimizer state: a wrapper's step count is negative (corrupt)");
        q += layer_bytes(o, w);
    }
    return OL_OK;
}

void ol_optim_wrap_state_load(ol_optim *o, const unsigned char *p) {
    const unsigned char *q = p + WRAP_HEADER;
    for (int l = 0; l < o->wrap->n; l++) {
        wrap_layer *w = &o->wrap->layer[l];
        w->count = (long)ol_get_u64(q + 4);
        q += LAYER_HEADER;
        if (w->type == WRAP_SAM) continue;
        for (int k = 0; k < o->n_groups; k++) {
            const group *gr = &o->groups[k];
            copy_values(w->buf[k], q, gr->n, elem_size(gr), 0);
            q += gr->n * elem_size(gr);
        }
    }
}
