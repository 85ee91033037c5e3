/* plot_internal.h: the figure's data and render state, shared by plot.c (the figure: series,
 * ranges, layout, axes, marks) and plot_legend.c (where the legend goes and how it is drawn). Not a
 * public header; the pure maths is in plot_parts.h. */
#ifndef OPTLAB_PLOT_INTERNAL_H
#define OPTLAB_PLOT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "optlab/plot.h"
#include "plot_parts.h"
#include "strbuf.h"

/* ---- the plot ---- */
enum { S_LINE, S_SCATTER, S_ERRBARS, S_BAND, S_HIST, S_PATH, S_HLINE, S_VLINE, S_POINT };

typedef struct {
    int kind;
    char *label;       /* NULL: not in the legend */
    int color;         /* palette index; -1: grey (reference lines) */
    int shape;         /* marker shape */
    int dash;          /* 0 solid, 1.. dash patterns */
    int markers;
    size_t n;
    double *x, *y, *lo, *hi; /* one allocation: x then y, lo, hi (as the kind needs) */
    double value, value2;
} series;

struct ol_plot {
    char *title, *x_label, *y_label;
    int width, height;
    int log_x, log_y;
    double x_lo, x_hi, y_lo, y_hi;   /* NaN: automatic */
    int hist_bins;
    int n_series, cap_series;
    series *series;
    int n_colored;
    int has_grid;
    ol_plot_grid grid;                /* z, levels, z_label point to our own copies */
};


#define FONT_TITLE 16.0
#define FONT_LABEL 14.0
#define FONT_TICK 12.5
#define FONT_LEGEND 12.5
#define FONT_NOTE 11.5
#define TICK_LEN 5.0


/* one axis: its range and where it lies in pixels */
typedef struct {
    double lo, hi;
    int log;
    double p0, p1;     /* pixel positions of lo and hi */
} axis;

/* the render state of one figure */
typedef struct {
    const ol_plot *p;
    ol_sbuf *b;
    char id[24];
    axis ax, ay;
    double L, T, R, B;          /* plot area: left, top, right, bottom (pixels) */
    double H;                   /* figure height (the plot's, plus a legend below) */
    double ylabel_x;
    /* histograms: shared bins */
    int bins;
    double hist_lo, hist_hi;
    double *counts;             /* (n_series, bins), rows of histogram series only */
    /* heat map colour range */
    double zlo, zhi;
    int zlog;
    /* layout */
    char title_lines[4][256];
    int n_title_lines;
    ticks xt, yt, zt;
    int legend_below;
    double legend_x, legend_y, legend_w, legend_h;
    int n_legend;
    double notes[64][4];        /* boxes of the notes written so far */
    int n_notes;
} ctx;


typedef struct {
    const series *s;       /* NULL: the start/end key of paths */
    double w;
} legend_entry;

#define LEGEND_ROW 19.0
#define LEGEND_SWATCH 26.0

/* drawing helpers (plot.c) */
void plot_sb_num(ol_sbuf *b, double v);              /* a coordinate: 2 decimals, never "-0" or "nan" */
void plot_sb_xy(ol_sbuf *b, double x, double y);     /* "x,y" */
void plot_svg_text(ctx *c, double x, double y, const char *anchor, double fs, const char *extra, double rotate,
                   const char *s);                   /* one text element, rotated about its anchor */
void plot_marker_path(ol_sbuf *b, int shape, double x, double y, double r); /* a marker as a subpath */
void plot_dash_attr(ol_sbuf *b, int dash);           /* a stroke-dasharray attribute (none for 0) */
const char *plot_color_of(int c);                    /* palette colour c; GREY for -1 */
#define GREY "#555555"
double plot_max_label_width(const ticks *t);        /* the widest tick label of t */
double plot_bin_edge(const ctx *c, int k);          /* the k-th edge of the shared histogram bins */
double plot_ax_map(const axis *a, double v);         /* pixel of v, NaN when it cannot be shown */
/* how much data and text a box would hide (lower is better); skip: a note not to count */
double plot_box_score(ctx *c, double x0, double y0, double x1, double y1, int skip);

/* the heat map (plot_heatmap.c) */
int plot_draw_heatmap_image(ctx *c);  /* the grid as a PNG image */
int plot_draw_isolines(ctx *c);       /* iso-lines at the grid's levels */
void plot_draw_colorbar(ctx *c);      /* the colour bar beside the plot */

/* the legend (plot_legend.c) */
int plot_legend_entries(const ctx *c, legend_entry *out, int cap);   /* 0: no legend needed */
void plot_place_legend(ctx *c, legend_entry *le, int n);             /* inside the plot, where it hides least */
double plot_legend_below_height(const ctx *c, const legend_entry *le, int n, double avail);
void plot_draw_legend(ctx *c, const legend_entry *le, int n);

#endif
