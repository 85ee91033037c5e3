/* plot.c: the SVG figures of the report (see include/optlab/plot.h): line, scatter, error bars,
 * bands, histograms, optimizer paths and a heat map with iso-lines (marching squares), on linear
 * or log axes with ticks that do not overlap.
 *
 * Deliberately not a plotting library: one figure layout, one palette, sizes estimated from
 * character counts (no font metrics). Everything is computed in double and printed with fixed
 * precision, so the same data always gives the same bytes. The heat map is a small PNG (stored,
 * uncompressed deflate: no zlib needed) inside the SVG; the browser smooths it when scaling.
 * Its parts: plot_internal.h (the data and render state), plot_legend.c (the legend), plot_heatmap.c
 * (the heat map, its iso-lines and colour bar), and the pure
 * maths behind plot_parts.h: plot_ticks.c, plot_isolines.c, plot_png.c. */
#include "optlab/plot.h"
#include "plot_internal.h"
#include "optlab/common.h"
#include "strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A coordinate: 2 decimals, trailing zeros dropped, never "-0" or "nan". */
void plot_sb_num(ol_sbuf *b, double v) {
    char s[48];
    if (!isfinite(v)) v = 0;
    if (v > 1e9) v = 1e9;
    if (v < -1e9) v = -1e9;
    snprintf(s, sizeof s, "%.2f", v);
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '0') n--;
    if (n > 0 && s[n - 1] == '.') n--;
    s[n] = 0;
    if (!strcmp(s, "-0")) strcpy(s, "0");
    ol_sb_puts(b, s);
}
void plot_sb_xy(ol_sbuf *b, double x, double y) {
    plot_sb_num(b, x);
    ol_sb_put(b, ",", 1);
    plot_sb_num(b, y);
}

/* Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour vision
 * deficiency. Ordered so the first colours contrast most on white; yellow last. */
static const char *const PALETTE[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000", "#F0E442"};
#define N_PALETTE 8
#define N_SHAPES 5
static const char *const DASHES[] = {"", "7 4", "2 3", "9 3 2 3"};

const char *plot_color_of(int c) { return c < 0 ? GREY : PALETTE[c % N_PALETTE]; }

static char *dupstr(const char *s) {
    if (!s || !*s) return NULL;
    return strdup(s);
}

ol_plot *ol_plot_new(const char *title, const char *x_label, const char *y_label) {
    ol_plot *p = ol_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->title = dupstr(title);
    p->x_label = dupstr(x_label);
    p->y_label = dupstr(y_label);
    if ((title && *title && !p->title) || (x_label && *x_label && !p->x_label) ||
        (y_label && *y_label && !p->y_label)) {
        ol_plot_free(p);
        ol_fail(OL_ENOMEM, "out of memory creating a plot");
        return NULL;
    }
    p->width = 560;
    p->height = 380;
    p->x_lo = p->x_hi = p->y_lo = p->y_hi = NAN;
    p->hist_bins = 24;
    return p;
}

void ol_plot_free(ol_plot *p) {
    if (!p) return;
    for (int i = 0; i < p->n_series; i++) {
        free(p->series[i].label);
        free(p->series[i].x);
    }
    free(p->series);
    free(p->title);
    free(p->x_label);
    free(p->y_label);
    free((void *)p->grid.z);
    free((void *)p->grid.levels);
    free((void *)p->grid.z_label);
    free(p);
}

void ol_plot_log_x(ol_plot *p, int on) { p->log_x = !!on; }
void ol_plot_log_y(ol_plot *p, int on) { p->log_y = !!on; }
void ol_plot_x_range(ol_plot *p, double lo, double hi) { p->x_lo = lo; p->x_hi = hi; }
void ol_plot_y_range(ol_plot *p, double lo, double hi) { p->y_lo = lo; p->y_hi = hi; }
void ol_plot_size(ol_plot *p, int width, int height) {
    p->width = width < 240 ? 240 : width > 4000 ? 4000 : width;
    p->height = height < 180 ? 180 : height > 4000 ? 4000 : height;
}
void ol_plot_hist_bins(ol_plot *p, int n_bins) {
    p->hist_bins = n_bins < 1 ? 1 : n_bins > 1000 ? 1000 : n_bins;
}

/* Adds a series with n_arrays arrays of n values copied from src (NULL entries stay NULL). */
static int add_series(ol_plot *p, int kind, const char *label, size_t n, int n_arrays,
                      const double *const *src, int colored) {
    if (n_arrays > 0 && n > 0) {
        for (int a = 0; a < n_arrays; a++)
            if (!src[a]) return -ol_fail(OL_EARG, "plot series '%s': data array %d is NULL",
                                         label ? label : "", a);
    }
    if (n > ((size_t)1 << 26)) return -ol_fail(OL_EARG, "plot series '%s': %zu points are too many "
                                               "for a figure (at most 2^26)", label ? label : "", n);
    if (p->n_series == p->cap_series) {
        int cap = p->cap_series ? 2 * p->cap_series : 8;
        series *s = realloc(p->series, (size_t)cap * sizeof *s);
        if (!s) return -ol_fail(OL_ENOMEM, "out of memory adding a plot series");
        p->series = s;
        p->cap_series = cap;
    }
    series *s = &p->series[p->n_series];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->n = n;
    if (label && *label) {
        s->label = strdup(label);
        if (!s->label) return -ol_fail(OL_ENOMEM, "out of memory adding a plot series");
    }
    if (n_arrays > 0 && n > 0) {
        double *data = ol_malloc_array(n * (size_t)n_arrays, sizeof *data);
        if (!data) { free(s->label); return -OL_ENOMEM; }
        double **dst[4] = {&s->x, &s->y, &s->lo, &s->hi};
        for (int a = 0; a < n_arrays; a++) {
            memcpy(data + (size_t)a * n, src[a], n * sizeof *data);
            *dst[a] = data + (size_t)a * n;
        }
    }
    if (colored) {
        s->color = p->n_colored % N_PALETTE;
        s->shape = p->n_colored % N_SHAPES;
        p->n_colored++;
    } else {
        s->color = -1;
    }
    return p->n_series++;
}

int ol_plot_line(ol_plot *p, const char *label, const double *x, const double *y, size_t n) {
    const double *src[2] = {x, y};
    return add_series(p, S_LINE, label, n, 2, src, 1);
}
int ol_plot_scatter(ol_plot *p, const char *label, const double *x, const double *y, size_t n) {
    const double *src[2] = {x, y};
    return add_series(p, S_SCATTER, label, n, 2, src, 1);
}
int ol_plot_errorbars(ol_plot *p, const char *label, const double *x, const double *y,
                      const double *lo, const double *hi, size_t n) {
    const double *src[4] = {x, y, lo, hi};
    return add_series(p, S_ERRBARS, label, n, 4, src, 1);
}
int ol_plot_band(ol_plot *p, const char *label, const double *x, const double *lo,
                 const double *hi, size_t n) {
    /* stored as x, y (unused copy of lo), lo, hi to keep one layout */
    const double *src[4] = {x, lo, lo, hi};
    return add_series(p, S_BAND, label, n, 4, src, 1);
}
int ol_plot_histogram(ol_plot *p, const char *label, const double *values, size_t n) {
    const double *src[1] = {values};
    return add_series(p, S_HIST, label, n, 1, src, 1);
}
int ol_plot_path(ol_plot *p, const char *label, const double *x, const double *y, size_t n) {
    const double *src[2] = {x, y};
    return add_series(p, S_PATH, label, n, 2, src, 1);
}
static int add_ref(ol_plot *p, int kind, double a, double b, const char *text) {
    if (!isfinite(a) || !isfinite(b)) return -ol_fail(OL_ENUMERIC, "plot reference '%s' is not finite",
                                                      text ? text : "");
    int i = add_series(p, kind, text, 0, 0, NULL, 0);
    if (i >= 0) {
        p->series[i].value = a;
        p->series[i].value2 = b;
    }
    return i;
}
int ol_plot_hline(ol_plot *p, double y, const char *text) { return add_ref(p, S_HLINE, y, 0, text); }
int ol_plot_vline(ol_plot *p, double x, const char *text) { return add_ref(p, S_VLINE, x, 0, text); }
int ol_plot_point(ol_plot *p, double x, double y, const char *text) { return add_ref(p, S_POINT, x, y, text); }

static series *get_series(ol_plot *p, int i) {
    if (i < 0 || i >= p->n_series) {
        ol_fail(OL_EARG, "no plot series %d (the plot has %d)", i, p->n_series);
        return NULL;
    }
    return &p->series[i];
}
int ol_plot_color(ol_plot *p, int i, int palette_index) {
    series *s = get_series(p, i);
    if (!s) return OL_EARG;
    if (palette_index < 0) return ol_fail(OL_EARG, "palette index %d is negative", palette_index);
    s->color = palette_index % N_PALETTE;
    s->shape = palette_index % N_SHAPES;
    return OL_OK;
}
int ol_plot_dashed(ol_plot *p, int i, int on) {
    series *s = get_series(p, i);
    if (!s) return OL_EARG;
    s->dash = on <= 0 ? 0 : 1 + (on - 1) % 3;
    return OL_OK;
}
int ol_plot_markers(ol_plot *p, int i, int on) {
    series *s = get_series(p, i);
    if (!s) return OL_EARG;
    s->markers = !!on;
    return OL_OK;
}

int ol_plot_heatmap(ol_plot *p, const ol_plot_grid *g) {
    if (p->has_grid) return ol_fail(OL_ESTATE, "plot '%s' already has a heat map", p->title ? p->title : "");
    if (!g || !g->z) return ol_fail(OL_EARG, "heat map without values");
    if (g->nx < 2 || g->ny < 2 || g->nx > 2000 || g->ny > 2000)
        return ol_fail(OL_EARG, "heat map grid %d x %d: each side needs 2 to 2000 samples", g->nx, g->ny);
    if (!isfinite(g->x0) || !isfinite(g->x1) || !isfinite(g->y0) || !isfinite(g->y1) ||
        !(g->x1 > g->x0) || !(g->y1 > g->y0))
        return ol_fail(OL_EARG, "heat map extent [%g, %g] x [%g, %g] must be finite and increasing",
                       g->x0, g->x1, g->y0, g->y1);
    if (g->levels && (g->n_levels <= 0 || g->n_levels > 1000))
        return ol_fail(OL_EARG, "heat map: %d explicit levels (1 to 1000)", g->n_levels);
    if (!g->levels && g->n_levels > 100)
        return ol_fail(OL_EARG, "heat map: %d iso-lines are too many (at most 100)", g->n_levels);
    if (g->levels)
        for (int i = 0; i < g->n_levels; i++)
            if (!isfinite(g->levels[i]) || (i > 0 && !(g->levels[i] > g->levels[i - 1])))
                return ol_fail(OL_EARG, "heat map levels must be finite and ascending (level %d)", i);
    size_t n = (size_t)g->nx * (size_t)g->ny;
    double *z = ol_malloc_array(n, sizeof *z);
    double *levels = g->levels ? ol_malloc_array((size_t)g->n_levels, sizeof *levels) : NULL;
    char *z_label = dupstr(g->z_label);
    if (!z || (g->levels && !levels) || (g->z_label && *g->z_label && !z_label)) {
        free(z);
        free(levels);
        free(z_label);
        return ol_fail(OL_ENOMEM, "out of memory copying a heat map");
    }
    memcpy(z, g->z, n * sizeof *z);
    if (levels) memcpy(levels, g->levels, (size_t)g->n_levels * sizeof *levels);
    p->grid = *g;
    p->grid.z = z;
    p->grid.levels = levels;
    p->grid.z_label = z_label;
    p->has_grid = 1;
    return OL_OK;
}

/* ==== rendering ==== */

/* ---- axes and ticks ---- */

static double ax_t(const axis *a, double v) {
    if (a->log) return (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    return (v - a->lo) / (a->hi - a->lo);
}
/* Pixel of v, or NaN when v cannot be shown (non-finite, <= 0 on a log axis). Far values are
 * clamped to +-1e7 px: off the figure in any direction, the visible part unchanged. */
double plot_ax_map(const axis *a, double v) {
    if (!isfinite(v) || (a->log && v <= 0)) return NAN;
    double p = a->p0 + ax_t(a, v) * (a->p1 - a->p0);
    if (!(p > -1e7)) p = -1e7;
    if (!(p < 1e7)) p = 1e7;
    return p;
}

/* ---- data ranges ---- */
typedef struct {
    double lo, hi;
    int any;
} span;

/* Values beyond +-1e300 (a run on its way to overflow) do not stretch the axis either. */
static void span_add(span *s, double v, int log) {
    if (!isfinite(v) || fabs(v) > 1e300 || (log && v < 1e-300)) return;
    if (!s->any) { s->lo = s->hi = v; s->any = 1; return; }
    if (v < s->lo) s->lo = v;
    if (v > s->hi) s->hi = v;
}

/* 1 if [lo, hi] is empty or too narrow to tell its ends apart in double precision. */
static int too_narrow(double lo, double hi) {
    return !(hi > lo) || !(hi - lo > 1e-9 * fmax(fabs(lo), fabs(hi))) || !(hi - lo > 1e-290);
}

/* A range around v when the data has one value: +-10% (+-1 around 0); on a log scale /10..x10. */
static void widen(double v, int log, double *lo, double *hi) {
    if (log) { *lo = v / 10; *hi = v * 10; return; }
    double d = v == 0 ? 1 : fabs(v) * 0.1;
    *lo = v - d;
    *hi = v + d;
}

/* The axis range: the user's ends where given, the data's otherwise, automatic ends widened to a
 * nice tick (a decade on log axes). */
static int finish_range(span s, double user_lo, double user_hi, int log, int nice, const char *name,
                        double *lo_out, double *hi_out) {
    int auto_lo = isnan(user_lo), auto_hi = isnan(user_hi);
    if ((!auto_lo && !isfinite(user_lo)) || (!auto_hi && !isfinite(user_hi)))
        return ol_fail(OL_EARG, "%s axis range [%g, %g] is not finite", name, user_lo, user_hi);
    if (log && ((!auto_lo && user_lo <= 0) || (!auto_hi && user_hi <= 0)))
        return ol_fail(OL_EARG, "%s axis is logarithmic: its range [%g, %g] must be positive",
                       name, user_lo, user_hi);
    double lo, hi;
    if (!s.any) {
        lo = log ? 1 : 0;
        hi = log ? 10 : 1;
    } else {
        lo = s.lo;
        hi = s.hi;
    }
    if (!auto_lo) lo = user_lo;
    if (!auto_hi) hi = user_hi;
    if (too_narrow(lo, hi)) {
        if (!auto_lo && !auto_hi)
            return ol_fail(OL_EARG, "%s axis range [%g, %g] is empty or too narrow: the first end "
                           "must be clearly smaller", name, user_lo, user_hi);
        /* one value (or a user end beyond the data): open a range around it */
        double v = auto_lo ? hi : lo, wlo, whi;
        widen(v, log, &wlo, &whi);
        if (auto_lo) lo = auto_hi ? wlo : fmin(wlo, hi - (whi - wlo) / 2);
        if (auto_hi) hi = auto_lo ? whi : fmax(whi, lo + (whi - wlo) / 2);
        if (log && auto_lo && !auto_hi) lo = hi / 10;
        if (log && auto_hi && !auto_lo) hi = lo * 10;
    }
    if (nice) {
        if (log && hi / lo >= 100) {
            if (auto_lo) lo = pow(10, floor(log10(lo) + 1e-9));
            if (auto_hi) hi = pow(10, ceil(log10(hi) - 1e-9));
        } else if (log) { /* less than two decades: widen to 1, 2 or 5 times a power of ten */
            static const double m[4] = {1, 2, 5, 10};
            if (auto_lo) {
                double d = pow(10, floor(log10(lo) + 1e-9)), best = d;
                for (int k = 0; k < 3; k++) if (m[k] * d <= lo * (1 + 1e-9)) best = m[k] * d;
                lo = best;
            }
            if (auto_hi) {
                double d = pow(10, floor(log10(hi) - 1e-9));
                for (int k = 0; k < 4; k++) if (m[k] * d >= hi * (1 - 1e-9)) { hi = m[k] * d; break; }
            }
        } else {
            double step = plot_nice_step((hi - lo) / 5);
            if (auto_lo) lo = floor(lo / step + 1e-9) * step;
            if (auto_hi) hi = ceil(hi / step - 1e-9) * step;
        }
    }
    if (!isfinite(lo) || !isfinite(hi) || !(hi > lo) || !isfinite(hi - lo) || (log && !(lo >= 1e-305)))
        return ol_fail(OL_EARG, "%s axis range [%g, %g] cannot be drawn (too wide)", name, lo, hi);
    *lo_out = lo;
    *hi_out = hi;
    return OL_OK;
}

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
    const unsigned char *c = data;
    for (size_t i = 0; i < n; i++) { h ^= c[i]; h *= 1099511628211ULL; }
    return h;
}
static uint64_t fnv_str(uint64_t h, const char *s) { return fnv(h, s ? s : "", s ? strlen(s) + 1 : 1); }

static uint64_t plot_hash(const ol_plot *p) {
    uint64_t h = 14695981039346656037ULL;
    h = fnv_str(h, p->title);
    h = fnv_str(h, p->x_label);
    h = fnv_str(h, p->y_label);
    int ints[6] = {p->width, p->height, p->log_x, p->log_y, p->hist_bins, p->n_series};
    h = fnv(h, ints, sizeof ints);
    double r[4] = {p->x_lo, p->x_hi, p->y_lo, p->y_hi};
    h = fnv(h, r, sizeof r);
    for (int i = 0; i < p->n_series; i++) {
        const series *s = &p->series[i];
        h = fnv_str(h, s->label);
        int k[5] = {s->kind, s->color, s->dash, s->markers, (int)s->n};
        h = fnv(h, k, sizeof k);
        h = fnv(h, &s->value, sizeof s->value);
        h = fnv(h, &s->value2, sizeof s->value2);
        if (s->x) h = fnv(h, s->x, s->n * sizeof(double) * (s->kind == S_HIST ? 1 : s->kind <= S_SCATTER || s->kind == S_PATH ? 2 : 4));
    }
    if (p->has_grid) {
        const ol_plot_grid *g = &p->grid;
        h = fnv(h, g->z, (size_t)g->nx * (size_t)g->ny * sizeof(double));
        int k[6] = {g->nx, g->ny, g->n_levels, g->log_scale, g->lines_only, g->equal_aspect};
        h = fnv(h, k, sizeof k);
        double e[4] = {g->x0, g->x1, g->y0, g->y1};
        h = fnv(h, e, sizeof e);
        if (g->levels) h = fnv(h, g->levels, (size_t)g->n_levels * sizeof(double));
        h = fnv_str(h, g->z_label);
    }
    return h;
}

/* Splits the title into lines that fit the width. */
static void wrap_title(ctx *c, double max_w) {
    c->n_title_lines = 0;
    const char *s = c->p->title;
    if (!s) return;
    char line[256] = "";
    while (*s && c->n_title_lines < 4) {
        while (*s == ' ') s++;
        const char *e = s;
        while (*e && *e != ' ') e++;
        if (e == s) break;
        char word[256];
        size_t wl = (size_t)(e - s) < sizeof word - 1 ? (size_t)(e - s) : sizeof word - 1;
        memcpy(word, s, wl);
        word[wl] = 0;
        char trial[256];
        size_t ll = strlen(line);
        if (ll + 1 + wl >= sizeof trial) break; /* an absurd title: cut */
        memcpy(trial, line, ll);
        if (ll) trial[ll++] = ' ';
        memcpy(trial + ll, word, wl + 1);
        if (*line && 1.08 * plot_text_width(trial, FONT_TITLE) > max_w) { /* bold: ~8% wider */
            snprintf(c->title_lines[c->n_title_lines++], 256, "%s", line);
            snprintf(line, sizeof line, "%s", word);
        } else {
            snprintf(line, sizeof line, "%s", trial);
        }
        s = e;
    }
    if (*line && c->n_title_lines < 4) snprintf(c->title_lines[c->n_title_lines++], 256, "%s", line);
}

double plot_max_label_width(const ticks *t) {
    double w = 0;
    for (int i = 0; i < t->n; i++) if (t->t[i].w > w) w = t->t[i].w;
    return w;
}

/* Places the plot area and the ticks; legend_h > 0 adds a block of legend rows under the axis
 * (the figure grows, the plot area keeps its size). */
static void layout(ctx *c, double legend_h) {
    const ol_plot *p = c->p;
    double W = p->width, H = p->height + legend_h;
    c->H = H;
    wrap_title(c, W - 24);
    c->T = c->n_title_lines ? 12 + c->n_title_lines * 20.0 + 6 : 14;
    c->B = H - (TICK_LEN + 6 + FONT_TICK + (p->x_label ? 10 + FONT_LABEL : 0) + 10 + legend_h);
    plot_make_ticks(&c->yt, c->ay.lo, c->ay.hi, c->ay.log, c->B - c->T, 0, FONT_TICK);
    c->L = 10 + (p->y_label ? FONT_LABEL + 10 : 0) + plot_max_label_width(&c->yt) + 6 + TICK_LEN;
    double right = 16;
    if (p->has_grid) {
        plot_make_ticks(&c->zt, c->zlo, c->zhi, c->zlog, c->B - c->T, 0, FONT_TICK);
        right = 14 + 14 + TICK_LEN + 4 + plot_max_label_width(&c->zt) + (p->grid.z_label ? 10 + FONT_LABEL : 0) + 10;
    }
    c->R = W - right;
    plot_make_ticks(&c->xt, c->ax.lo, c->ax.hi, c->ax.log, c->R - c->L, 1, FONT_TICK);
    /* the last x label must not run off the figure */
    for (int i = c->xt.n - 1; i >= 0; i--) {
        if (!c->xt.t[i].major) continue;
        double pos = c->L + plot_tick_pos(c->ax.lo, c->ax.hi, c->ax.log, c->R - c->L, c->xt.t[i].v);
        double over = pos + c->xt.t[i].w / 2 + 4 - (W - (p->has_grid ? 0 : 2));
        if (over > 0 && !p->has_grid) {
            c->R -= over;
            plot_make_ticks(&c->xt, c->ax.lo, c->ax.hi, c->ax.log, c->R - c->L, 1, FONT_TICK);
        }
        break;
    }
    c->ylabel_x = c->L - (TICK_LEN + 6 + plot_max_label_width(&c->yt) + 10 + FONT_LABEL) + 0.8 * FONT_LABEL;
    if (p->has_grid && p->grid.equal_aspect) {
        /* one unit is as long on both axes: shrink the longer side (the figure shrinks in height,
         * or the plot area is centred in width) */
        double sx = (c->R - c->L) / (c->ax.hi - c->ax.lo), sy = (c->B - c->T) / (c->ay.hi - c->ay.lo);
        if (sy > sx) {
            double cut = (c->B - c->T) - sx * (c->ay.hi - c->ay.lo);
            c->B -= cut;
            c->H -= cut;
            plot_make_ticks(&c->yt, c->ay.lo, c->ay.hi, c->ay.log, c->B - c->T, 0, FONT_TICK);
            plot_make_ticks(&c->zt, c->zlo, c->zhi, c->zlog, c->B - c->T, 0, FONT_TICK);
        } else if (sx > sy) {
            double cut = (c->R - c->L) - sy * (c->ax.hi - c->ax.lo);
            c->L += cut / 2;
            c->R -= cut / 2;
            c->ylabel_x += cut / 2;
            plot_make_ticks(&c->xt, c->ax.lo, c->ax.hi, c->ax.log, c->R - c->L, 1, FONT_TICK);
        }
    }
    c->ax.p0 = c->L;
    c->ax.p1 = c->R;
    c->ay.p0 = c->B;
    c->ay.p1 = c->T;
}

/* ---- drawing helpers ---- */

/* One text element; rotate (degrees) about its anchor point. */
void plot_svg_text(ctx *c, double x, double y, const char *anchor, double fs, const char *extra,
                 double rotate, const char *s) {
    ol_sbuf *b = c->b;
    ol_sb_puts(b, "<text x=\"");
    plot_sb_num(b, x);
    ol_sb_puts(b, "\" y=\"");
    plot_sb_num(b, y);
    ol_sb_puts(b, "\"");
    if (anchor && strcmp(anchor, "start")) ol_sb_printf(b, " text-anchor=\"%s\"", anchor);
    ol_sb_puts(b, " font-size=\"");
    plot_sb_num(b, fs);
    ol_sb_puts(b, "\"");
    if (rotate != 0) {
        ol_sb_puts(b, " transform=\"rotate(");
        plot_sb_num(b, rotate);
        ol_sb_puts(b, " ");
        plot_sb_xy(b, x, y);
        ol_sb_puts(b, ")\"");
    }
    if (extra) ol_sb_printf(b, " %s", extra);
    ol_sb_puts(b, ">");
    ol_sb_esc(b, s);
    ol_sb_puts(b, "</text>\n");
}

/* A marker as a subpath (appended to a d attribute). */
void plot_marker_path(ol_sbuf *b, int shape, double x, double y, double r) {
    switch (shape % N_SHAPES) {
    case 0: /* circle */
        ol_sb_puts(b, "M");
        plot_sb_xy(b, x - r, y);
        ol_sb_puts(b, "a");
        plot_sb_num(b, r);
        ol_sb_puts(b, ",");
        plot_sb_num(b, r);
        ol_sb_puts(b, " 0 1,0 ");
        plot_sb_num(b, 2 * r);
        ol_sb_puts(b, ",0a");
        plot_sb_num(b, r);
        ol_sb_puts(b, ",");
        plot_sb_num(b, r);
        ol_sb_puts(b, " 0 1,0 ");
        plot_sb_num(b, -2 * r);
        ol_sb_puts(b, ",0z");
        break;
    case 1: { /* square */
        double h = r * 0.88;
        ol_sb_puts(b, "M");
        plot_sb_xy(b, x - h, y - h);
        ol_sb_puts(b, "h");
        plot_sb_num(b, 2 * h);
        ol_sb_puts(b, "v");
        plot_sb_num(b, 2 * h);
        ol_sb_puts(b, "h");
        plot_sb_num(b, -2 * h);
        ol_sb_puts(b, "z");
        break;
    }
    case 2: { /* diamond */
        double h = r * 1.25;
        ol_sb_puts(b, "M");
        plot_sb_xy(b, x, y - h);
        ol_sb_puts(b, "L");
        plot_sb_xy(b, x + h, y);
        ol_sb_puts(b, " ");
        plot_sb_xy(b, x, y + h);
        ol_sb_puts(b, " ");
        plot_sb_xy(b, x - h, y);
        ol_sb_puts(b, "z");
        break;
    }
    case 3:   /* triangle up */
    case 4: { /* triangle down */
        double h = r * 1.3, s = shape % N_SHAPES == 3 ? 1 : -1;
        ol_sb_puts(b, "M");
        plot_sb_xy(b, x, y - s * h);
        ol_sb_puts(b, "L");
        plot_sb_xy(b, x + h * 0.95, y + s * h * 0.6);
        ol_sb_puts(b, " ");
        plot_sb_xy(b, x - h * 0.95, y + s * h * 0.6);
        ol_sb_puts(b, "z");
        break;
    }
    }
}

static int inside(const ctx *c, double x, double y, double pad) {
    return x >= c->L - pad && x <= c->R + pad && y >= c->T - pad && y <= c->B + pad;
}

/* Liang-Barsky: clips the segment to the plot area (grown by pad); 0 if nothing is left. */
static int clip_segment(const ctx *c, double pad, double *x0, double *y0, double *x1, double *y1) {
    double t0 = 0, t1 = 1, dx = *x1 - *x0, dy = *y1 - *y0;
    double pp[4] = {-dx, dx, -dy, dy};
    double qq[4] = {*x0 - (c->L - pad), (c->R + pad) - *x0, *y0 - (c->T - pad), (c->B + pad) - *y0};
    for (int i = 0; i < 4; i++) {
        if (pp[i] == 0) {
            if (qq[i] < 0) return 0;
        } else {
            double r = qq[i] / pp[i];
            if (pp[i] < 0) { if (r > t1) return 0; if (r > t0) t0 = r; }
            else { if (r < t0) return 0; if (r < t1) t1 = r; }
        }
    }
    double ax = *x0 + t0 * dx, ay = *y0 + t0 * dy, bx = *x0 + t1 * dx, by = *y0 + t1 * dy;
    *x0 = ax; *y0 = ay; *x1 = bx; *y1 = by;
    return 1;
}

/* The d attribute of a polyline through the mappable points, clipped to the plot area, with gaps
 * at non-finite points. Returns the number of segments drawn. */
static size_t polyline_d(ctx *c, ol_sbuf *b, const double *x, const double *y, size_t n) {
    size_t drawn = 0;
    int pen = 0;             /* 1 when the last point written is where the next segment starts */
    double px = NAN, py = NAN;
    for (size_t i = 0; i < n; i++) {
        double qx = plot_ax_map(&c->ax, x[i]), qy = plot_ax_map(&c->ay, y[i]);
        if (isnan(qx) || isnan(qy)) { px = py = NAN; pen = 0; continue; }
        if (isnan(px)) {
            px = qx; py = qy;
            if (n == 1 && inside(c, qx, qy, 0)) { /* a lone point: a dot */
                ol_sb_puts(b, "M"); plot_sb_xy(b, qx, qy); ol_sb_puts(b, "h0.01");
            }
            continue;
        }
        double x0 = px, y0 = py, x1 = qx, y1 = qy;
        if (clip_segment(c, 2, &x0, &y0, &x1, &y1)) {
            if (!pen || x0 != px || y0 != py) { ol_sb_puts(b, "M"); plot_sb_xy(b, x0, y0); }
            ol_sb_puts(b, "L");
            plot_sb_xy(b, x1, y1);
            drawn++;
            pen = x1 == qx && y1 == qy;
        } else {
            pen = 0;
        }
        px = qx; py = qy;
    }
    return drawn;
}

void plot_dash_attr(ol_sbuf *b, int dash) {
    if (dash > 0) ol_sb_printf(b, " stroke-dasharray=\"%s\"", DASHES[dash]);
}

static void draw_markers(ctx *c, const series *s, const double *x, const double *y, double r,
                         const char *stroke) {
    ol_sbuf *b = c->b;
    size_t n_in = 0;
    for (size_t i = 0; i < s->n; i++) {
        double px = plot_ax_map(&c->ax, x[i]), py = plot_ax_map(&c->ay, y[i]);
        if (isnan(px) || isnan(py) || !inside(c, px, py, r)) continue;
        if (!n_in++) {
            ol_sb_printf(b, "<path fill=\"%s\"", plot_color_of(s->color));
            if (stroke) ol_sb_printf(b, " stroke=\"%s\" stroke-width=\"0.8\"", stroke);
            ol_sb_puts(b, " d=\"");
        }
        plot_marker_path(b, s->shape, px, py, r);
    }
    if (n_in) ol_sb_puts(b, "\"/>\n");
}

static void draw_line(ctx *c, const series *s, int is_path) {
    ol_sbuf *b = c->b;
    ol_sbuf d = {0};
    polyline_d(c, &d, s->x, s->y, s->n);
    if (d.oom) { b->oom = 1; free(d.p); return; }
    if (d.len) {
        if (is_path) {
            ol_sb_puts(b, "<path fill=\"none\" stroke=\"#fff\" stroke-opacity=\"0.85\" stroke-width=\"4.5\" "
                       "stroke-linejoin=\"round\" stroke-linecap=\"round\" d=\"");
            ol_sb_put(b, d.p, d.len);
            ol_sb_puts(b, "\"/>\n");
        }
        ol_sb_printf(b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\" "
                     "stroke-linecap=\"round\"", plot_color_of(s->color));
        plot_dash_attr(b, s->dash);
        ol_sb_puts(b, " d=\"");
        ol_sb_put(b, d.p, d.len);
        ol_sb_puts(b, "\"/>\n");
    }
    free(d.p);
}

/* Markers go over the clipped lines and unclipped, so a point on the frame shows whole. */
static void draw_series_markers(ctx *c, const series *s) {
    ol_sbuf *b = c->b;
    if (s->kind == S_SCATTER) draw_markers(c, s, s->x, s->y, 3.4, "#fff");
    else if (s->kind == S_ERRBARS) draw_markers(c, s, s->x, s->y, 3.6, "#fff");
    else if (s->kind == S_LINE && s->markers) draw_markers(c, s, s->x, s->y, 3.2, "#fff");
    else if (s->kind == S_PATH) {
        if (s->n <= 80) draw_markers(c, &(series){.color = s->color, .shape = 0, .n = s->n}, s->x, s->y, 1.9, NULL);
        /* start: open circle, end: filled circle */
        for (size_t i = 0; i < s->n; i++) {
            double px = plot_ax_map(&c->ax, s->x[i]), py = plot_ax_map(&c->ay, s->y[i]);
            if (isnan(px) || isnan(py)) continue;
            if (inside(c, px, py, 0)) {
                ol_sb_puts(b, "<circle cx=\"");
                plot_sb_num(b, px);
                ol_sb_puts(b, "\" cy=\"");
                plot_sb_num(b, py);
                ol_sb_printf(b, "\" r=\"5\" fill=\"#fff\" stroke=\"%s\" stroke-width=\"2\"/>\n", plot_color_of(s->color));
            }
            break;
        }
        for (size_t i = s->n; i-- > 0;) {
            double px = plot_ax_map(&c->ax, s->x[i]), py = plot_ax_map(&c->ay, s->y[i]);
            if (isnan(px) || isnan(py)) continue;
            if (inside(c, px, py, 0)) {
                ol_sb_puts(b, "<circle cx=\"");
                plot_sb_num(b, px);
                ol_sb_puts(b, "\" cy=\"");
                plot_sb_num(b, py);
                ol_sb_printf(b, "\" r=\"4.5\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"1.5\"/>\n", plot_color_of(s->color));
            }
            break;
        }
    }
}

static void draw_errorbars(ctx *c, const series *s) {
    ol_sbuf *b = c->b;
    size_t n_in = 0;
    for (size_t i = 0; i < s->n; i++) {
        double px = plot_ax_map(&c->ax, s->x[i]);
        double plo = plot_ax_map(&c->ay, s->lo[i]), phi = plot_ax_map(&c->ay, s->hi[i]);
        if (isnan(px) || px < c->L - 1 || px > c->R + 1) continue;
        if (isnan(plo) && c->ay.log && isfinite(s->lo[i]) && isfinite(phi)) plo = c->B; /* lo <= 0 on log */
        if (isnan(plo) || isnan(phi)) continue;
        if (!n_in++) ol_sb_printf(b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" d=\"", plot_color_of(s->color));
        ol_sb_puts(b, "M");
        plot_sb_xy(b, px, plo);
        ol_sb_puts(b, "V");
        plot_sb_num(b, phi);
        ol_sb_puts(b, "M");
        plot_sb_xy(b, px - 4, plo);
        ol_sb_puts(b, "h8M");
        plot_sb_xy(b, px - 4, phi);
        ol_sb_puts(b, "h8");
    }
    if (n_in) ol_sb_puts(b, "\"/>\n");
}

static void draw_band(ctx *c, const series *s) {
    ol_sbuf *b = c->b;
    /* one polygon per run of points where x, lo and hi are all drawable */
    size_t i = 0;
    int any = 0;
    while (i < s->n) {
        size_t j = i;
        while (j < s->n && !isnan(plot_ax_map(&c->ax, s->x[j])) && !isnan(plot_ax_map(&c->ay, s->lo[j])) &&
               !isnan(plot_ax_map(&c->ay, s->hi[j])))
            j++;
        if (j - i >= 2) {
            if (!any++) ol_sb_printf(b, "<path fill=\"%s\" fill-opacity=\"0.22\" stroke=\"none\" d=\"", plot_color_of(s->color));
            ol_sb_puts(b, "M");
            for (size_t k = i; k < j; k++) {
                if (k > i) ol_sb_puts(b, "L");
                plot_sb_xy(b, plot_ax_map(&c->ax, s->x[k]), plot_ax_map(&c->ay, s->hi[k]));
            }
            for (size_t k = j; k-- > i;) {
                ol_sb_puts(b, "L");
                plot_sb_xy(b, plot_ax_map(&c->ax, s->x[k]), plot_ax_map(&c->ay, s->lo[k]));
            }
            ol_sb_puts(b, "Z");
        }
        i = j + 1;
    }
    if (any) ol_sb_puts(b, "\"/>\n");
}

double plot_bin_edge(const ctx *c, int k) {
    if (c->p->log_x)
        return pow(10, log10(c->hist_lo) + (log10(c->hist_hi) - log10(c->hist_lo)) * k / c->bins);
    return c->hist_lo + (c->hist_hi - c->hist_lo) * k / c->bins;
}

static void draw_hist(ctx *c, int si) {
    const series *s = &c->p->series[si];
    const double *cnt = c->counts + (size_t)si * (size_t)c->bins;
    ol_sbuf *b = c->b;
    ol_sb_printf(b, "<path fill=\"%s\" fill-opacity=\"0.38\" stroke=\"%s\" stroke-width=\"1.5\" "
                 "stroke-linejoin=\"round\" d=\"M", plot_color_of(s->color), plot_color_of(s->color));
    double base = c->B;
    plot_sb_xy(b, plot_ax_map(&c->ax, plot_bin_edge(c, 0)), base);
    for (int k = 0; k < c->bins; k++) {
        double top = cnt[k] > 0 ? plot_ax_map(&c->ay, cnt[k]) : base;
        if (isnan(top) || top > base) top = base;
        ol_sb_puts(b, "V");
        plot_sb_num(b, top);
        ol_sb_puts(b, "H");
        plot_sb_num(b, plot_ax_map(&c->ax, plot_bin_edge(c, k + 1)));
    }
    ol_sb_puts(b, "V");
    plot_sb_num(b, base);
    ol_sb_puts(b, "Z\"/>\n");
}

/* ---- reference lines and points ---- */

static double overlap(const double *a, const double *b) {
    double w = fmin(a[2], b[2]) - fmax(a[0], b[0]), h = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    return w > 0 && h > 0 ? w * h : 0;
}

/* Writes a note at the first of the candidate spots {x, baseline y, 1 = right-aligned} that hides
 * the least: data of other series, the legend, notes placed before; it must fit the plot area. */
static void place_label(ctx *c, int self, double cand[][3], int n, const char *label) {
    double fs = FONT_NOTE, tw = plot_text_width(label, fs);
    int best = 0;
    double best_score = INFINITY;
    for (int k = 0; k < n; k++) {
        double x0 = cand[k][2] ? cand[k][0] - tw : cand[k][0], y1 = cand[k][1] + 0.25 * fs;
        double box[4] = {x0 - 2, cand[k][1] - 0.8 * fs - 2, x0 + tw + 2, y1 + 2};
        double score = plot_box_score(c, box[0], box[1], box[2], box[3], self);
        if (box[0] < c->L || box[2] > c->R || box[1] < c->T || box[3] > c->B) score += 1000;
        if (c->n_legend && !c->legend_below) {
            double lg[4] = {c->legend_x, c->legend_y, c->legend_x + c->legend_w, c->legend_y + c->legend_h};
            score += overlap(box, lg) > 0 ? 500 : 0;
        }
        for (int q = 0; q < c->n_notes; q++) score += overlap(box, c->notes[q]) > 0 ? 500 : 0;
        if (score < best_score) { best_score = score; best = k; }
    }
    double x0 = cand[best][2] ? cand[best][0] - tw : cand[best][0];
    if (c->n_notes < 64) {
        double *nb = c->notes[c->n_notes++];
        nb[0] = x0 - 2; nb[1] = cand[best][1] - 0.8 * fs - 2; nb[2] = x0 + tw + 2; nb[3] = cand[best][1] + 0.25 * fs + 2;
    }
    plot_svg_text(c, cand[best][0], cand[best][1], cand[best][2] ? "end" : "start", fs,
         "fill=\"#222\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\" stroke-linejoin=\"round\"", 0, label);
}

static void draw_refs(ctx *c, int labels) {
    ol_sbuf *b = c->b;
    for (int i = 0; i < c->p->n_series; i++) {
        const series *s = &c->p->series[i];
        if (s->kind == S_HLINE || s->kind == S_VLINE) {
            int h = s->kind == S_HLINE;
            double v = plot_ax_map(h ? &c->ay : &c->ax, s->value);
            if (isnan(v) || (h ? (v < c->T - 0.5 || v > c->B + 0.5) : (v < c->L - 0.5 || v > c->R + 0.5))) continue;
            if (!labels) {
                ol_sb_puts(b, "<path stroke=\"" GREY "\" stroke-width=\"1.3\" stroke-dasharray=\"5 4\" d=\"M");
                if (h) { plot_sb_xy(b, c->L, v); ol_sb_puts(b, "H"); plot_sb_num(b, c->R); }
                else { plot_sb_xy(b, v, c->T); ol_sb_puts(b, "V"); plot_sb_num(b, c->B); }
                ol_sb_puts(b, "\"/>\n");
            } else if (s->label) {
                double fs = FONT_NOTE, t = c->T + fs + 4, bo = c->B - 6;
                if (h) {
                    double cand[4][3] = {{c->R - 6, v - 5, 1}, {c->L + 6, v - 5, 0},
                                         {c->R - 6, v + fs + 3, 1}, {c->L + 6, v + fs + 3, 0}};
                    place_label(c, i, cand, 4, s->label);
                } else {
                    double cand[4][3] = {{v + 5, t, 0}, {v - 5, t, 1}, {v + 5, bo, 0}, {v - 5, bo, 1}};
                    place_label(c, i, cand, 4, s->label);
                }
            }
        } else if (s->kind == S_POINT) {
            double px = plot_ax_map(&c->ax, s->value), py = plot_ax_map(&c->ay, s->value2);
            if (isnan(px) || isnan(py) || !inside(c, px, py, 0)) continue;
            if (!labels) {
                ol_sb_puts(b, "<circle cx=\"");
                plot_sb_num(b, px);
                ol_sb_puts(b, "\" cy=\"");
                plot_sb_num(b, py);
                ol_sb_puts(b, "\" r=\"5\" fill=\"none\" stroke=\"#222\" stroke-width=\"1.8\"/>\n<circle cx=\"");
                plot_sb_num(b, px);
                ol_sb_puts(b, "\" cy=\"");
                plot_sb_num(b, py);
                ol_sb_puts(b, "\" r=\"1.8\" fill=\"#222\"/>\n");
            } else if (s->label) {
                double fs = FONT_NOTE;
                double cand[4][3] = {{px + 8, py - 8, 0}, {px - 8, py - 8, 1},
                                     {px + 8, py + fs + 6, 0}, {px - 8, py + fs + 6, 1}};
                place_label(c, i, cand, 4, s->label);
            }
        }
    }
}

/* ---- the whole figure ---- */

static int compute_ranges(ctx *c) {
    const ol_plot *p = c->p;
    span sx = {0}, sy = {0};
    int has_hist = 0;
    /* histogram bins first: they give the x extent and the counts */
    for (int i = 0; i < p->n_series; i++) {
        const series *s = &p->series[i];
        if (s->kind != S_HIST) continue;
        has_hist = 1;
        for (size_t k = 0; k < s->n; k++) span_add(&sx, s->x[k], p->log_x);
    }
    if (has_hist) {
        c->bins = p->hist_bins;
        double lo = sx.any ? sx.lo : (p->log_x ? 1 : 0), hi = sx.any ? sx.hi : (p->log_x ? 10 : 1);
        /* the user's x range gives the bins (a bad range fails later, in finish_range) */
        if (isfinite(p->x_lo) && (!p->log_x || p->x_lo > 0)) lo = p->x_lo;
        if (isfinite(p->x_hi) && (!p->log_x || p->x_hi > 0)) hi = p->x_hi;
        if (too_narrow(lo, hi)) widen(lo, p->log_x, &lo, &hi);
        c->hist_lo = lo;
        c->hist_hi = hi;
        c->counts = ol_calloc((size_t)p->n_series * (size_t)c->bins, sizeof *c->counts);
        if (!c->counts) return OL_ENOMEM;
        double maxc = 0;
        for (int i = 0; i < p->n_series; i++) {
            const series *s = &p->series[i];
            if (s->kind != S_HIST) continue;
            double *cnt = c->counts + (size_t)i * (size_t)c->bins;
            for (size_t k = 0; k < s->n; k++) {
                double v = s->x[k];
                if (!isfinite(v) || (p->log_x && v <= 0) || v < lo || v > hi) continue;
                double t = p->log_x ? (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) : (v - lo) / (hi - lo);
                if (!(t >= 0 && t <= 1)) continue;
                int bin = (int)(t * c->bins);
                if (bin >= c->bins) bin = c->bins - 1;
                if (bin < 0) bin = 0;
                cnt[bin]++;
            }
            for (int k = 0; k < c->bins; k++) if (cnt[k] > maxc) maxc = cnt[k];
        }
        sx.any = 0;
        span_add(&sx, lo, p->log_x);
        span_add(&sx, hi, p->log_x);
        span_add(&sy, p->log_y ? 1 : 0, p->log_y);
        span_add(&sy, maxc > 0 ? maxc : 1, p->log_y);
    }
    for (int i = 0; i < p->n_series; i++) {
        const series *s = &p->series[i];
        switch (s->kind) {
        case S_LINE: case S_SCATTER: case S_PATH:
            for (size_t k = 0; k < s->n; k++) {
                /* a point counts only if both coordinates can be drawn */
                if (!isfinite(s->x[k]) || !isfinite(s->y[k]) || (p->log_x && s->x[k] <= 0) ||
                    (p->log_y && s->y[k] <= 0)) continue;
                span_add(&sx, s->x[k], p->log_x);
                span_add(&sy, s->y[k], p->log_y);
            }
            break;
        case S_ERRBARS: case S_BAND:
            for (size_t k = 0; k < s->n; k++) {
                if (!isfinite(s->x[k]) || (p->log_x && s->x[k] <= 0)) continue;
                span_add(&sx, s->x[k], p->log_x);
                span_add(&sy, s->lo[k], p->log_y);
                span_add(&sy, s->hi[k], p->log_y);
                if (s->kind == S_ERRBARS) span_add(&sy, s->y[k], p->log_y);
            }
            break;
        case S_HLINE: span_add(&sy, s->value, p->log_y); break;
        case S_VLINE: span_add(&sx, s->value, p->log_x); break;
        case S_POINT:
            span_add(&sx, s->value, p->log_x);
            span_add(&sy, s->value2, p->log_y);
            break;
        }
    }
    int nice_x = 1, nice_y = 1;
    if (p->has_grid) {
        const ol_plot_grid *g = &p->grid;
        if (p->log_x || p->log_y)
            return ol_fail(OL_EARG, "plot '%s': a heat map needs linear axes", p->title ? p->title : "(untitled)");
        sx = (span){g->x0, g->x1, 1};
        sy = (span){g->y0, g->y1, 1};
        nice_x = nice_y = 0;
        /* colour range */
        span sz = {0};
        size_t n = (size_t)g->nx * (size_t)g->ny;
        c->zlog = g->log_scale;
        for (size_t k = 0; k < n; k++) span_add(&sz, g->z[k], c->zlog);
        if (g->levels) /* explicit levels widen the colour range so each has a colour */
            for (int k = 0; k < g->n_levels; k++) span_add(&sz, g->levels[k], c->zlog);
        if (!sz.any) { sz.lo = c->zlog ? 1 : 0; sz.hi = c->zlog ? 10 : 1; }
        if (c->zlog && sz.lo < sz.hi * 1e-8) sz.lo = sz.hi * 1e-8; /* at most 8 decades of colour */
        if (too_narrow(sz.lo, sz.hi)) widen(sz.lo, c->zlog, &sz.lo, &sz.hi);
        c->zlo = sz.lo;
        c->zhi = sz.hi;
    } else if (has_hist) {
        nice_x = 1;
    }
    int rc = finish_range(sx, p->x_lo, p->x_hi, p->log_x, nice_x, "x", &c->ax.lo, &c->ax.hi);
    if (!rc) rc = finish_range(sy, p->y_lo, p->y_hi, p->log_y, nice_y, "y", &c->ay.lo, &c->ay.hi);
    c->ax.log = p->log_x;
    c->ay.log = p->log_y;
    return rc;
}

static void draw_axes(ctx *c) {
    ol_sbuf *b = c->b;
    const ol_plot *p = c->p;
    /* grid lines (under the data) */
    ol_sb_puts(b, "<path stroke=\"#e6e6e6\" stroke-width=\"1\" d=\"");
    for (int i = 0; i < c->xt.n; i++) {
        if (!c->xt.t[i].major) continue;
        double x = plot_ax_map(&c->ax, c->xt.t[i].v);
        ol_sb_puts(b, "M");
        plot_sb_xy(b, x, c->T);
        ol_sb_puts(b, "V");
        plot_sb_num(b, c->B);
    }
    for (int i = 0; i < c->yt.n; i++) {
        if (!c->yt.t[i].major) continue;
        double y = plot_ax_map(&c->ay, c->yt.t[i].v);
        ol_sb_puts(b, "M");
        plot_sb_xy(b, c->L, y);
        ol_sb_puts(b, "H");
        plot_sb_num(b, c->R);
    }
    ol_sb_puts(b, "\"/>\n");
    /* minor grid lines only where a decade is wide enough for them not to crowd */
    int minor_x = c->ax.log && (c->R - c->L) / (log10(c->ax.hi) - log10(c->ax.lo)) >= 90;
    int minor_y = c->ay.log && (c->B - c->T) / (log10(c->ay.hi) - log10(c->ay.lo)) >= 90;
    int minor = 0;
    for (int i = 0; i < c->xt.n; i++) minor |= minor_x && !c->xt.t[i].major;
    for (int i = 0; i < c->yt.n; i++) minor |= minor_y && !c->yt.t[i].major;
    if (minor) {
        ol_sb_puts(b, "<path stroke=\"#f0f0f0\" stroke-width=\"1\" d=\"");
        for (int i = 0; i < c->xt.n && minor_x; i++) {
            if (c->xt.t[i].major) continue;
            ol_sb_puts(b, "M");
            plot_sb_xy(b, plot_ax_map(&c->ax, c->xt.t[i].v), c->T);
            ol_sb_puts(b, "V");
            plot_sb_num(b, c->B);
        }
        for (int i = 0; i < c->yt.n && minor_y; i++) {
            if (c->yt.t[i].major) continue;
            ol_sb_puts(b, "M");
            plot_sb_xy(b, c->L, plot_ax_map(&c->ay, c->yt.t[i].v));
            ol_sb_puts(b, "H");
            plot_sb_num(b, c->R);
        }
        ol_sb_puts(b, "\"/>\n");
    }
    (void)p;
}

static void draw_frame_and_labels(ctx *c) {
    ol_sbuf *b = c->b;
    const ol_plot *p = c->p;
    /* frame */
    ol_sb_puts(b, "<rect fill=\"none\" stroke=\"#444\" stroke-width=\"1\" x=\"");
    plot_sb_num(b, c->L);
    ol_sb_puts(b, "\" y=\"");
    plot_sb_num(b, c->T);
    ol_sb_puts(b, "\" width=\"");
    plot_sb_num(b, c->R - c->L);
    ol_sb_puts(b, "\" height=\"");
    plot_sb_num(b, c->B - c->T);
    ol_sb_puts(b, "\"/>\n");
    /* tick marks */
    ol_sb_puts(b, "<path stroke=\"#444\" stroke-width=\"1\" d=\"");
    for (int i = 0; i < c->xt.n; i++) {
        ol_sb_puts(b, "M");
        plot_sb_xy(b, plot_ax_map(&c->ax, c->xt.t[i].v), c->B);
        ol_sb_puts(b, "v");
        plot_sb_num(b, c->xt.t[i].major ? TICK_LEN : 3);
    }
    for (int i = 0; i < c->yt.n; i++) {
        ol_sb_puts(b, "M");
        plot_sb_xy(b, c->L, plot_ax_map(&c->ay, c->yt.t[i].v));
        ol_sb_puts(b, "h");
        plot_sb_num(b, -(c->yt.t[i].major ? TICK_LEN : 3));
    }
    ol_sb_puts(b, "\"/>\n");
    /* tick labels */
    ol_sb_puts(b, "<g class=\"tick-x\" fill=\"#444\">\n");
    for (int i = 0; i < c->xt.n; i++)
        if (c->xt.t[i].major)
            plot_svg_text(c, plot_ax_map(&c->ax, c->xt.t[i].v), c->B + TICK_LEN + 3 + FONT_TICK * 0.8, "middle", FONT_TICK, NULL, 0, c->xt.t[i].text);
    ol_sb_puts(b, "</g>\n<g class=\"tick-y\" fill=\"#444\">\n");
    for (int i = 0; i < c->yt.n; i++)
        if (c->yt.t[i].major)
            plot_svg_text(c, c->L - TICK_LEN - 4, plot_ax_map(&c->ay, c->yt.t[i].v) + FONT_TICK * 0.35, "end", FONT_TICK, NULL, 0, c->yt.t[i].text);
    ol_sb_puts(b, "</g>\n");
    /* axis labels and title */
    if (p->x_label)
        plot_svg_text(c, (c->L + c->R) / 2, c->B + TICK_LEN + 6 + FONT_TICK + 8 + FONT_LABEL * 0.8, "middle",
             FONT_LABEL, "class=\"x-label\" fill=\"#222\"", 0, p->x_label);
    if (p->y_label)
        plot_svg_text(c, c->ylabel_x, (c->T + c->B) / 2, "middle", FONT_LABEL,
             "class=\"y-label\" fill=\"#222\"", -90, p->y_label);
    for (int i = 0; i < c->n_title_lines; i++)
        plot_svg_text(c, p->width / 2.0, 12 + FONT_TITLE * 0.85 + i * 20.0, "middle", FONT_TITLE,
             "class=\"title\" font-weight=\"600\" fill=\"#111\"", 0, c->title_lines[i]);
}

static int render(const ol_plot *p, ol_sbuf *b) {
    ctx *c = ol_calloc(1, sizeof *c); /* ~40 KB of ticks: not on the stack */
    if (!c) return OL_ENOMEM;
    c->p = p;
    c->b = b;
    snprintf(c->id, sizeof c->id, "olp%012llx", (unsigned long long)(plot_hash(p) & 0xffffffffffffULL));
    int rc = compute_ranges(c);
    if (rc) goto done;
    legend_entry le[64];
    int n_le = plot_legend_entries(c, le, 64);
    c->n_legend = n_le;
    layout(c, 0);
    if (n_le) {
        plot_place_legend(c, le, n_le);
        if (c->legend_below) {
            double h = plot_legend_below_height(c, le, n_le, p->width - 10 - 80);
            layout(c, h);
            c->legend_h = plot_legend_below_height(c, le, n_le, p->width - c->L - 10);
            if (c->legend_h != h) layout(c, c->legend_h);
        }
    }
    int H = (int)ceil(c->H - 1e-9);
    double W = p->width;
    ol_sb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
                 "role=\"img\" aria-labelledby=\"%s-t\" font-family=\"system-ui,-apple-system,Segoe UI,"
                 "Roboto,Helvetica Neue,Arial,sans-serif\">\n", p->width, H, p->width, H, c->id);
    ol_sb_printf(b, "<title id=\"%s-t\">", c->id);
    ol_sb_esc(b, p->title ? p->title : "figure");
    ol_sb_puts(b, "</title>\n");
    ol_sb_printf(b, "<defs><clipPath id=\"%s-c\"><rect x=\"", c->id);
    plot_sb_num(b, c->L);
    ol_sb_puts(b, "\" y=\"");
    plot_sb_num(b, c->T);
    ol_sb_puts(b, "\" width=\"");
    plot_sb_num(b, c->R - c->L);
    ol_sb_puts(b, "\" height=\"");
    plot_sb_num(b, c->B - c->T);
    ol_sb_puts(b, "\"/></clipPath></defs>\n");
    ol_sb_puts(b, "<rect width=\"");
    plot_sb_num(b, W);
    ol_sb_puts(b, "\" height=\"");
    plot_sb_num(b, H);
    ol_sb_puts(b, "\" fill=\"#fff\"/>\n");
    if (p->has_grid && !p->grid.lines_only) {
        rc = plot_draw_heatmap_image(c);
        if (rc) goto done;
    } else {
        draw_axes(c);
    }
    if (p->has_grid) {
        rc = plot_draw_isolines(c);
        if (rc) goto done;
    }
    ol_sb_printf(b, "<g clip-path=\"url(#%s-c)\">\n", c->id);
    for (int pass = 0; pass < 2; pass++) /* bands and histograms under everything else */
        for (int i = 0; i < p->n_series; i++) {
            const series *s = &p->series[i];
            int under = s->kind == S_BAND || s->kind == S_HIST;
            if (under != (pass == 0)) continue;
            switch (s->kind) {
            case S_LINE: draw_line(c, s, 0); break;
            case S_PATH: draw_line(c, s, 1); break;
            case S_ERRBARS: draw_errorbars(c, s); break;
            case S_BAND: draw_band(c, s); break;
            case S_HIST: draw_hist(c, i); break;
            }
        }
    draw_refs(c, 0);
    ol_sb_puts(b, "</g>\n");
    for (int i = 0; i < p->n_series; i++) draw_series_markers(c, &p->series[i]);
    draw_refs(c, 1);
    draw_frame_and_labels(c);
    if (p->has_grid) plot_draw_colorbar(c);
    if (n_le) plot_draw_legend(c, le, n_le);
    ol_sb_puts(b, "</svg>\n");
    if (b->oom) rc = ol_fail(OL_ENOMEM, "out of memory drawing plot '%s'", p->title ? p->title : "");
done:
    free(c->counts);
    free(c);
    return rc;
}

int ol_plot_svg(const ol_plot *p, char **svg, size_t *len) {
    *svg = NULL;
    if (len) *len = 0;
    if (!p) return ol_fail(OL_EARG, "ol_plot_svg: no plot");
    ol_sbuf b = {0};
    int rc = render(p, &b);
    if (rc) { free(b.p); return rc; }
    *svg = b.p;
    if (len) *len = b.len;
    return OL_OK;
}

int ol_plot_svg_size(const ol_plot *p, int width, int height, char **svg, size_t *len) {
    *svg = NULL;
    if (len) *len = 0;
    if (!p) return ol_fail(OL_EARG, "ol_plot_svg_size: no plot");
    ol_plot copy = *p; /* shares the data; render only reads it */
    if (height <= 0) height = (int)lround(1.2 * p->height * width / p->width);
    ol_plot_size(&copy, width, height < 260 ? 260 : height);
    return ol_plot_svg(&copy, svg, len);
}

int ol_plot_write(const ol_plot *p, const char *path) {
    char *svg;
    size_t len;
    int rc = ol_plot_svg(p, &svg, &len);
    if (rc) return rc;
    rc = ol_write_file_atomic(path, svg, len);
    free(svg);
    return rc;
}
