/* plot_legend.c: a figure's legend: its entries, where it goes (inside the plot where it hides the
 * least data, or below it), and how it is drawn; see plot_internal.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"


int plot_legend_entries(const ctx *c, legend_entry *out, int cap) {
    int n = 0, has_path = 0;
    for (int i = 0; i < c->p->n_series && n < cap; i++) {
        const series *s = &c->p->series[i];
        if (s->kind == S_PATH) has_path = 1;
        if (!s->label || s->kind == S_HLINE || s->kind == S_VLINE || s->kind == S_POINT) continue;
        out[n].s = s;
        out[n].w = LEGEND_SWATCH + 6 + plot_text_width(s->label, FONT_LEGEND);
        n++;
    }
    if (has_path && n < cap) {
        out[n].s = NULL;
        out[n].w = 14 + plot_text_width("start", FONT_LEGEND) + 12 + 14 + plot_text_width("end", FONT_LEGEND);
        n++;
    }
    if (n < 2 && !has_path) return 0;
    return n;
}

static void legend_swatch(ctx *c, const series *s, double x, double y) {
    ol_sbuf *b = c->b;
    const char *col = plot_color_of(s->color);
    double mx = x + LEGEND_SWATCH / 2;
    switch (s->kind) {
    case S_LINE:
    case S_PATH:
        ol_sb_printf(b, "<path stroke=\"%s\" stroke-width=\"2.2\"", col);
        plot_dash_attr(b, s->dash);
        ol_sb_puts(b, " d=\"M");
        plot_sb_xy(b, x, y);
        ol_sb_puts(b, "h");
        plot_sb_num(b, LEGEND_SWATCH);
        ol_sb_puts(b, "\"/>\n");
        if (s->kind == S_LINE && s->markers) {
            ol_sb_printf(b, "<path fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.8\" d=\"", col);
            plot_marker_path(b, s->shape, mx, y, 3.2);
            ol_sb_puts(b, "\"/>\n");
        }
        break;
    case S_SCATTER:
    case S_ERRBARS:
        if (s->kind == S_ERRBARS) {
            ol_sb_printf(b, "<path stroke=\"%s\" stroke-width=\"1.5\" d=\"M", col);
            plot_sb_xy(b, mx, y - 6);
            ol_sb_puts(b, "V");
            plot_sb_num(b, y + 6);
            ol_sb_puts(b, "\"/>\n");
        }
        ol_sb_printf(b, "<path fill=\"%s\" d=\"", col);
        plot_marker_path(b, s->shape, mx, y, 3.6);
        ol_sb_puts(b, "\"/>\n");
        break;
    case S_BAND:
    case S_HIST:
        ol_sb_printf(b, "<rect fill=\"%s\" fill-opacity=\"%s\"", col, s->kind == S_BAND ? "0.3" : "0.38");
        if (s->kind == S_HIST) ol_sb_printf(b, " stroke=\"%s\" stroke-width=\"1.5\"", col);
        ol_sb_puts(b, " x=\"");
        plot_sb_num(b, x + 2);
        ol_sb_puts(b, "\" y=\"");
        plot_sb_num(b, y - 6);
        ol_sb_puts(b, "\" width=\"");
        plot_sb_num(b, LEGEND_SWATCH - 4);
        ol_sb_puts(b, "\" height=\"12\"/>\n");
        break;
    }
}

/* Counts how many drawn points fall into the box: the legend goes where this is least. */
double plot_box_score(ctx *c, double x0, double y0, double x1, double y1, int skip) {
    double score = 0;
    for (int i = 0; i < c->p->n_series; i++) {
        const series *s = &c->p->series[i];
        if (i == skip) continue;
        const double *ys[2] = {s->y, NULL};
        if (s->kind == S_BAND || s->kind == S_ERRBARS) { ys[0] = s->lo; ys[1] = s->hi; }
        if (s->kind == S_HIST) {
            const double *cnt = c->counts + (size_t)i * (size_t)c->bins;
            for (int k = 0; k < c->bins; k++) {
                double xa = plot_ax_map(&c->ax, plot_bin_edge(c, k)), xb = plot_ax_map(&c->ax, plot_bin_edge(c, k + 1));
                double top = cnt[k] > 0 ? plot_ax_map(&c->ay, cnt[k]) : c->B;
                if (xb >= x0 && xa <= x1 && top <= y1) score++;
            }
            continue;
        }
        if (s->kind == S_HLINE || s->kind == S_VLINE) {
            double v = plot_ax_map(s->kind == S_HLINE ? &c->ay : &c->ax, s->value);
            if (!isnan(v) && (s->kind == S_HLINE ? (v >= y0 && v <= y1) : (v >= x0 && v <= x1))) score += 3;
            continue;
        }
        if (s->kind == S_POINT) {
            double px = plot_ax_map(&c->ax, s->value), py = plot_ax_map(&c->ay, s->value2);
            if (!isnan(px) && !isnan(py) && px >= x0 - 6 && px <= x1 + 6 && py >= y0 - 6 && py <= y1 + 6) score += 3;
            continue;
        }
        for (int a = 0; a < 2; a++) {
            if (!ys[a]) continue;
            double qx = NAN, qy = NAN;
            for (size_t k = 0; k < s->n; k++) {
                double px = plot_ax_map(&c->ax, s->x[k]), py = plot_ax_map(&c->ay, ys[a][k]);
                if (isnan(px) || isnan(py)) { qx = NAN; continue; }
                /* sample the segment from the previous point every ~6 px */
                int steps = 1;
                if (!isnan(qx) && (s->kind == S_LINE || s->kind == S_PATH || s->kind == S_BAND)) {
                    double d = hypot(px - qx, py - qy);
                    steps = d > 6 ? (int)fmin(d / 6, 200) : 1;
                }
                for (int t = 1; t <= steps; t++) {
                    double u = (double)t / steps;
                    double sx = isnan(qx) ? px : qx + u * (px - qx), sy = isnan(qx) ? py : qy + u * (py - qy);
                    if (sx >= x0 && sx <= x1 && sy >= y0 && sy <= y1) score++;
                }
                qx = px;
                qy = py;
            }
        }
    }
    return score;
}

/* Chooses a corner inside the plot area (the emptiest) or a block below the axis label. */
void plot_place_legend(ctx *c, legend_entry *le, int n) {
    c->legend_below = 0;
    double w = 0;
    for (int i = 0; i < n; i++) if (le[i].w > w) w = le[i].w;
    w += 16;
    double h = n * LEGEND_ROW + 10;
    c->legend_w = w;
    c->legend_h = h;
    double pw = c->R - c->L, ph = c->B - c->T;
    if (w <= 0.6 * pw && h <= 0.62 * ph) {
        double inset = 8;
        double xs[4] = {c->R - inset - w, c->L + inset, c->R - inset - w, c->L + inset};
        double ys[4] = {c->T + inset, c->T + inset, c->B - inset - h, c->B - inset - h};
        int best = -1;
        double best_score = 0;
        for (int k = 0; k < 4; k++) {
            double sc = plot_box_score(c, xs[k] - 4, ys[k] - 4, xs[k] + w + 4, ys[k] + h + 4, -1);
            if (best < 0 || sc < best_score) { best = k; best_score = sc; }
        }
        if (best_score == 0) {
            c->legend_x = xs[best];
            c->legend_y = ys[best];
            return;
        }
    }
    c->legend_below = 1;
}

/* Rows of entries under the plot when no corner is free. Returns the height needed. */
double plot_legend_below_height(const ctx *c, const legend_entry *le, int n, double avail) {
    double x = 0;
    int rows = 1;
    for (int i = 0; i < n; i++) {
        if (x > 0 && x + le[i].w > avail) { rows++; x = 0; }
        x += le[i].w + 18;
    }
    (void)c;
    return rows * LEGEND_ROW + 8;
}

static void legend_entry_draw(ctx *c, const legend_entry *e, double x, double y) {
    if (e->s) {
        legend_swatch(c, e->s, x, y);
        plot_svg_text(c, x + LEGEND_SWATCH + 6, y + FONT_LEGEND * 0.35, "start", FONT_LEGEND, NULL, 0, e->s->label);
    } else {
        ol_sbuf *b = c->b;
        ol_sb_puts(b, "<circle cx=\"");
        plot_sb_num(b, x + 5);
        ol_sb_puts(b, "\" cy=\"");
        plot_sb_num(b, y);
        ol_sb_puts(b, "\" r=\"4.5\" fill=\"#fff\" stroke=\"" GREY "\" stroke-width=\"2\"/>\n");
        plot_svg_text(c, x + 14, y + FONT_LEGEND * 0.35, "start", FONT_LEGEND, NULL, 0, "start");
        double x2 = x + 14 + plot_text_width("start", FONT_LEGEND) + 12;
        ol_sb_puts(b, "<circle cx=\"");
        plot_sb_num(b, x2 + 5);
        ol_sb_puts(b, "\" cy=\"");
        plot_sb_num(b, y);
        ol_sb_puts(b, "\" r=\"4.5\" fill=\"" GREY "\"/>\n");
        plot_svg_text(c, x2 + 14, y + FONT_LEGEND * 0.35, "start", FONT_LEGEND, NULL, 0, "end");
    }
}

void plot_draw_legend(ctx *c, const legend_entry *le, int n) {
    ol_sbuf *b = c->b;
    ol_sb_puts(b, "<g class=\"legend\" fill=\"#222\">\n");
    if (!c->legend_below) {
        ol_sb_puts(b, "<rect x=\"");
        plot_sb_num(b, c->legend_x);
        ol_sb_puts(b, "\" y=\"");
        plot_sb_num(b, c->legend_y);
        ol_sb_puts(b, "\" width=\"");
        plot_sb_num(b, c->legend_w);
        ol_sb_puts(b, "\" height=\"");
        plot_sb_num(b, c->legend_h);
        ol_sb_puts(b, "\" rx=\"4\" fill=\"#fff\" fill-opacity=\"0.88\" stroke=\"#ccc\"/>\n");
        for (int i = 0; i < n; i++)
            legend_entry_draw(c, &le[i], c->legend_x + 8, c->legend_y + 5 + LEGEND_ROW * (i + 0.5));
    } else {
        double avail = c->p->width - c->L - 10;
        double x = 0, y = c->H - c->legend_h + LEGEND_ROW / 2 - 2;
        for (int i = 0; i < n; i++) {
            if (x > 0 && x + le[i].w > avail) { x = 0; y += LEGEND_ROW; }
            legend_entry_draw(c, &le[i], c->L + x, y);
            x += le[i].w + 18;
        }
    }
    ol_sb_puts(b, "</g>\n");
}

