/* plot_heatmap.c: the heat map of a figure (see plot.c): viridis colours, the image (a PNG inside the
 * SVG), iso-lines at chosen levels (marching squares) and the colour bar. */
#include "optlab/common.h"
#include "plot_internal.h"
#include "plot_parts.h"
#include "strbuf.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- heat map: colours, PNG, marching squares ---- */

/* Viridis (van der Walt & Smith, matplotlib): perceptually uniform, readable in grey and with
 * colour vision deficiencies. 11 anchors, linear in between. */
static const unsigned char VIRIDIS[11][3] = {
    {0x44, 0x01, 0x54}, {0x48, 0x24, 0x75}, {0x41, 0x44, 0x87}, {0x35, 0x5f, 0x8d},
    {0x2a, 0x78, 0x8e}, {0x21, 0x91, 0x8c}, {0x22, 0xa8, 0x84}, {0x44, 0xbf, 0x70},
    {0x7a, 0xd1, 0x51}, {0xbd, 0xdf, 0x26}, {0xfd, 0xe7, 0x25}};

static void viridis(double t, unsigned char rgb[3]) {
    if (!(t >= 0)) t = 0;
    if (t > 1) t = 1;
    double f = t * 10;
    int i = (int)f;
    if (i > 9) i = 9;
    double u = f - i;
    for (int k = 0; k < 3; k++)
        rgb[k] = (unsigned char)lround(VIRIDIS[i][k] + u * (VIRIDIS[i + 1][k] - VIRIDIS[i][k]));
}

/* The value that colours and iso-lines are computed on: z, or log10(z) on a log scale. */
static double zval(const ctx *c, double z) {
    if (!isfinite(z)) return NAN;
    if (!c->zlog) return z;
    return log10(z > c->zlo ? z : c->zlo);
}
static double z_t(const ctx *c, double z) {
    double v = zval(c, z);
    if (isnan(v)) return NAN;
    double a = c->zlog ? log10(c->zlo) : c->zlo, e = c->zlog ? log10(c->zhi) : c->zhi;
    return (v - a) / (e - a);
}

int plot_draw_heatmap_image(ctx *c) {
    const ol_plot_grid *g = &c->p->grid;
    int nx = g->nx, ny = g->ny;
    unsigned char *rgb = ol_malloc_array((size_t)nx * (size_t)ny, 3);
    if (!rgb) return OL_ENOMEM;
    for (int r = 0; r < ny; r++) {
        int j = ny - 1 - r; /* image rows run top (y1) to bottom (y0) */
        for (int i = 0; i < nx; i++) {
            unsigned char *o = rgb + 3 * ((size_t)r * (size_t)nx + (size_t)i);
            double t = z_t(c, g->z[(size_t)j * (size_t)nx + (size_t)i]);
            if (isnan(t)) { o[0] = o[1] = o[2] = 0xd9; }
            else viridis(t, o);
        }
    }
    ol_sbuf png = {0};
    int rc = plot_png_encode(rgb, nx, ny, &png);
    free(rgb);
    if (rc) { free(png.p); return rc; }
    double dx = (plot_ax_map(&c->ax, g->x1) - plot_ax_map(&c->ax, g->x0)) / (nx - 1);
    double dy = (plot_ax_map(&c->ay, g->y0) - plot_ax_map(&c->ay, g->y1)) / (ny - 1);
    ol_sbuf *b = c->b;
    ol_sb_printf(b, "<image clip-path=\"url(#%s-c)\" preserveAspectRatio=\"none\" x=\"", c->id);
    plot_sb_num(b, plot_ax_map(&c->ax, g->x0) - dx / 2);
    ol_sb_puts(b, "\" y=\"");
    plot_sb_num(b, plot_ax_map(&c->ay, g->y1) - dy / 2);
    ol_sb_puts(b, "\" width=\"");
    plot_sb_num(b, dx * nx);
    ol_sb_puts(b, "\" height=\"");
    plot_sb_num(b, dy * ny);
    ol_sb_puts(b, "\" href=\"data:image/png;base64,");
    plot_base64(b, (const unsigned char *)png.p, png.len);
    ol_sb_puts(b, "\"/>\n");
    free(png.p);
    return OL_OK;
}

/* Iso-levels: the caller's, or nice values inside the colour range (1-2-5 steps; decades and
 * their 2 and 5 multiples on a log scale). */
static int grid_levels(const ctx *c, double *lv, int cap) {
    const ol_plot_grid *g = &c->p->grid;
    if (g->n_levels < 0) return 0;
    if (g->levels) {
        int n = 0;
        for (int i = 0; i < g->n_levels && n < cap; i++) lv[n++] = g->levels[i];
        return n;
    }
    int want = g->n_levels ? g->n_levels : 10;
    int n = 0;
    if (!c->zlog) {
        double step = plot_nice_step((c->zhi - c->zlo) / (want + 1));
        double k0 = floor(c->zlo / step) + 1;
        for (double k = k0; n < cap && k - k0 < 4 * cap; k++) {
            double v = k * step;
            if (fabs(v) < step * 1e-9) v = 0;
            if (v >= c->zhi - step * 1e-9) break;
            if (v > c->zlo + step * 1e-9) lv[n++] = v;
        }
        return n;
    }
    /* log: the set of multiples per decade that gives the count closest to want */
    static const int sets[4][10] = {{1, 0}, {1, 3, 0}, {1, 2, 5, 0}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 0}};
    int best = 0, best_n = -1;
    int k0 = (int)floor(log10(c->zlo)), k1 = (int)ceil(log10(c->zhi));
    for (int s = 0; s < 4; s++) {
        int cnt = 0;
        for (int k = k0; k <= k1; k++)
            for (int j = 0; sets[s][j]; j++) {
                double v = sets[s][j] * pow(10, k);
                cnt += v > c->zlo * (1 + 1e-9) && v < c->zhi * (1 - 1e-9);
            }
        if (best_n < 0 || abs(cnt - want) < abs(best_n - want)) { best = s; best_n = cnt; }
    }
    for (int k = k0; k <= k1; k++)
        for (int j = 0; sets[best][j] && n < cap; j++) {
            double v = sets[best][j] * pow(10, k);
            if (v > c->zlo * (1 + 1e-9) && v < c->zhi * (1 - 1e-9)) lv[n++] = v;
        }
    return n;
}

/* plot_isolines callback: one isoline into the path, its edge crossings mapped to pixels */
typedef struct {
    ctx *c;
    const double *zv;
    double level;
} iso_draw;

static void emit_isoline(void *userdata, const size_t *edges, size_t n, int closed) {
    iso_draw *d = userdata;
    const ol_plot_grid *g = &d->c->p->grid;
    for (size_t k = 0; k < n; k++) {
        double gx, gy;
        plot_isoline_point(d->zv, g->nx, g->ny, d->level, edges[k], &gx, &gy);
        double px = plot_ax_map(&d->c->ax, g->x0 + gx * (g->x1 - g->x0) / (g->nx - 1));
        double py = plot_ax_map(&d->c->ay, g->y0 + gy * (g->y1 - g->y0) / (g->ny - 1));
        ol_sb_puts(d->c->b, k == 0 ? "M" : k == 1 ? "L" : " ");
        plot_sb_xy(d->c->b, px, py);
    }
    if (closed) ol_sb_puts(d->c->b, "Z");
}

int plot_draw_isolines(ctx *c) {
    const ol_plot_grid *g = &c->p->grid;
    double lv[128];
    int n_lv = grid_levels(c, lv, 128);
    if (n_lv == 0) return OL_OK;
    int nx = g->nx, ny = g->ny;
    double *zv = ol_malloc_array((size_t)nx * (size_t)ny, sizeof *zv);
    if (!zv) return OL_ENOMEM;
    for (size_t k = 0; k < (size_t)nx * (size_t)ny; k++) zv[k] = zval(c, g->z[k]);
    ol_sbuf *b = c->b;
    ol_sb_printf(b, "<g clip-path=\"url(#%s-c)\" fill=\"none\" stroke-linejoin=\"round\">\n", c->id);
    int rc = OL_OK;
    for (int l = 0; l < n_lv && !rc; l++) {
        double level = c->zlog ? log10(lv[l] > 0 ? lv[l] : c->zlo) : lv[l];
        /* a level that crosses no cell draws nothing, not even an empty path */
        int crosses = 0;
        for (int j = 0; j + 1 < ny && !crosses; j++)
            for (int i = 0; i + 1 < nx && !crosses; i++) {
                double za = zv[(size_t)j * nx + i], zb = zv[(size_t)j * nx + i + 1];
                double zc = zv[(size_t)(j + 1) * nx + i + 1], zd = zv[(size_t)(j + 1) * nx + i];
                if (isnan(za) || isnan(zb) || isnan(zc) || isnan(zd)) continue;
                int idx = (za > level) | (zb > level) << 1 | (zc > level) << 2 | (zd > level) << 3;
                crosses = idx != 0 && idx != 15;
            }
        if (!crosses) continue;
        unsigned char col[3];
        viridis(c->zhi > c->zlo ? z_t(c, lv[l]) : 0.5, col);
        if (g->lines_only)
            ol_sb_printf(b, "<path class=\"iso\" data-level=\"%.6g\" stroke=\"#%02x%02x%02x\" stroke-width=\"1.3\" d=\"",
                      lv[l], col[0], col[1], col[2]);
        else
            ol_sb_printf(b, "<path class=\"iso\" data-level=\"%.6g\" stroke=\"#fff\" stroke-opacity=\"0.7\" "
                         "stroke-width=\"0.9\" d=\"", lv[l]);
        iso_draw d = {c, zv, level};
        rc = plot_isolines(zv, nx, ny, level, emit_isoline, &d);
        ol_sb_puts(b, "\"/>\n");
    }
    ol_sb_puts(b, "</g>\n");
    free(zv);
    return rc;
}

void plot_draw_colorbar(ctx *c) {
    const ol_plot_grid *g = &c->p->grid;
    ol_sbuf *b = c->b;
    double x = c->R + 14, w = 14, top = c->T, bot = c->B;
    ol_sb_printf(b, "<defs><linearGradient id=\"%s-g\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">", c->id);
    for (int k = 0; k <= 10; k++)
        ol_sb_printf(b, "<stop offset=\"%.1f\" stop-color=\"#%02x%02x%02x\"/>", k / 10.0, VIRIDIS[k][0],
                  VIRIDIS[k][1], VIRIDIS[k][2]);
    ol_sb_puts(b, "</linearGradient></defs>\n<rect x=\"");
    plot_sb_num(b, x);
    ol_sb_puts(b, "\" y=\"");
    plot_sb_num(b, top);
    ol_sb_puts(b, "\" width=\"");
    plot_sb_num(b, w);
    ol_sb_puts(b, "\" height=\"");
    plot_sb_num(b, bot - top);
    ol_sb_printf(b, "\" fill=\"url(#%s-g)\" stroke=\"#444\" stroke-width=\"0.8\"/>\n", c->id);
    axis za = {c->zlo, c->zhi, c->zlog, bot, top};
    /* iso-levels as marks across the bar */
    double lv[128];
    int n_lv = grid_levels(c, lv, 128);
    if (n_lv && n_lv <= 40) {
        ol_sb_puts(b, "<path stroke=\"#fff\" stroke-width=\"1\" d=\"");
        for (int i = 0; i < n_lv; i++) {
            double py = plot_ax_map(&za, lv[i]);
            if (isnan(py)) continue;
            ol_sb_puts(b, "M");
            plot_sb_xy(b, x, py);
            ol_sb_puts(b, "h");
            plot_sb_num(b, w);
        }
        ol_sb_puts(b, "\"/>\n");
    }
    ol_sb_puts(b, "<path stroke=\"#444\" d=\"");
    for (int i = 0; i < c->zt.n; i++) {
        double py = plot_ax_map(&za, c->zt.t[i].v);
        if (isnan(py)) continue;
        ol_sb_puts(b, "M");
        plot_sb_xy(b, x + w, py);
        ol_sb_puts(b, "h");
        plot_sb_num(b, c->zt.t[i].major ? TICK_LEN : 3);
    }
    ol_sb_puts(b, "\"/>\n<g fill=\"#444\">\n");
    for (int i = 0; i < c->zt.n; i++) {
        if (!c->zt.t[i].major) continue;
        double py = plot_ax_map(&za, c->zt.t[i].v);
        plot_svg_text(c, x + w + TICK_LEN + 3, py + FONT_TICK * 0.35, "start", FONT_TICK, NULL, 0, c->zt.t[i].text);
    }
    ol_sb_puts(b, "</g>\n");
    if (g->z_label) {
        double lx = x + w + TICK_LEN + 4 + plot_max_label_width(&c->zt) + 10 + FONT_LABEL;
        plot_svg_text(c, lx, (top + bot) / 2, "middle", FONT_LABEL, "fill=\"#222\"", -90, g->z_label);
    }
}
