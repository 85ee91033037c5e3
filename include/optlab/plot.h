/* plot.h: SVG figures (src/plot.c): what the lecture needs, not a general plotting library.
 * Depends on libc and common; files are written atomically through ol_afile. *
 * Errors: functions return 0 (or, where said, an index >= 0) on success and an OL_E* code (or its
 * negative) otherwise, with a message in ol_error(). Nothing aborts; text is escaped for XML/HTML.
 * Output is deterministic: the same calls with the same data give the same bytes. Numbers are
 * printed with printf ("%.9g", "%.2f"), so keep LC_NUMERIC at "C" (the default). */
#ifndef OPTLAB_PLOT_H
#define OPTLAB_PLOT_H

#include <stddef.h>

/* ==== SVG plots ==== one figure: title, axis labels (put units in them: "time (s)"), series added
 * in order and drawn in that order over an optional heat map. Data is copied. Non-finite values (and
 * values <= 0 on a log axis) are gaps, never drawn; data beyond the axis range is clipped. Colours
 * follow the Okabe-Ito palette (colour-blind safe), series also differ by marker shape and dashes.
 * The legend (when 2+ series are labelled) goes where it hides the least data. Labels may be UTF-8. */
typedef struct ol_plot ol_plot;

ol_plot *ol_plot_new(const char *title, const char *x_label, const char *y_label); /* NULL: no memory */
void ol_plot_free(ol_plot *plot);

/* ---- axes and layout ---- */
/* Log axes: decade ticks 10^k (1-2-5 multiples when the range spans under 3 decades). */
void ol_plot_log_x(ol_plot *plot, int on);
void ol_plot_log_y(ol_plot *plot, int on);
/* Axis ranges; NaN for an end leaves that end automatic (from the data, widened to a nice tick). */
void ol_plot_x_range(ol_plot *plot, double lo, double hi);
void ol_plot_y_range(ol_plot *plot, double lo, double hi);
void ol_plot_size(ol_plot *plot, int width, int height); /* viewBox size; default 560 x 380 */
void ol_plot_hist_bins(ol_plot *plot, int n_bins);       /* shared by all histograms; default 24 */

/* ---- series: each returns its index (>= 0) or -OL_E* ---- label NULL or "" keeps it out of
 * the legend (e.g. a band drawn under a labelled line of the same colour). */
int ol_plot_line(ol_plot *plot, const char *label, const double *x, const double *y, size_t n);
int ol_plot_scatter(ol_plot *plot, const char *label, const double *x, const double *y, size_t n);
/* Markers at (x, y) with vertical bars from lo to hi (e.g. median and min/max over seeds). */
int ol_plot_errorbars(ol_plot *plot, const char *label, const double *x, const double *y,
                      const double *lo, const double *hi, size_t n);
/* A translucent band between lo(x) and hi(x) (e.g. min/max over seeds). */
int ol_plot_band(ol_plot *plot, const char *label, const double *x, const double *lo,
                 const double *hi, size_t n);
/* A histogram of n values, overlaid translucent on the other histograms with the same bins. */
int ol_plot_histogram(ol_plot *plot, const char *label, const double *values, size_t n);
/* An optimizer trajectory: a line with a halo (visible on a heat map), dots at the iterates
 * (when n <= 80), an open circle at the start and a filled one at the end. */
int ol_plot_path(ol_plot *plot, const char *label, const double *x, const double *y, size_t n);
/* Dashed reference lines across the plot and a marked point, each with an optional text. */
int ol_plot_hline(ol_plot *plot, double y, const char *text);
int ol_plot_vline(ol_plot *plot, double x, const char *text);
int ol_plot_point(ol_plot *plot, double x, double y, const char *text);

/* ---- style of a series (index from the calls above) ---- */
int ol_plot_color(ol_plot *plot, int series, int palette_index); /* share a colour: band + line */
int ol_plot_dashed(ol_plot *plot, int series, int on);          /* 0 solid, 1 dash, 2 dot, 3 dash-dot */
int ol_plot_markers(ol_plot *plot, int series, int on);          /* markers on a line's points */

/* ---- heat map with iso-lines (one per plot, drawn under the series) ---- */
typedef struct {
    const double *z;       /* (ny, nx): z[j * nx + i] = f(x_i, y_j); non-finite cells are grey */
    int nx, ny;            /* samples per axis, >= 2 each; keep nx * ny <= 40000 (file size) */
    double x0, x1, y0, y1; /* x_i = x0 + i (x1 - x0) / (nx - 1), likewise y_j (both ends sampled) */
    int n_levels;          /* iso-lines wanted: 0 = about 10 at nice values, < 0 = none */
    const double *levels;  /* or exactly these n_levels levels (ascending); NULL = nice ones */
    int log_scale;         /* 1: colours and levels in log10(z) (z <= 0 shows as the lowest colour) */
    int lines_only;        /* 1: iso-lines on white, no filled colours */
    int equal_aspect;      /* 1: one unit as long on both axes (shapes of valleys are true) */
    const char *z_label;   /* colour-bar label, e.g. "f(x)" */
} ol_plot_grid;
int ol_plot_heatmap(ol_plot *plot, const ol_plot_grid *grid);

/* ---- output ---- */
/* The SVG document (malloc'ed, NUL-terminated; caller frees): a viewBox (scales to any width),
 * no scripts, fonts or links. Element ids are derived from a hash of the content, so several
 * figures can be inlined into one HTML page. */
int ol_plot_svg(const ol_plot *plot, char **svg, size_t *len);
/* The same figure laid out for another viewBox (e.g. 380 wide for phones: same font sizes, so
 * fewer ticks and the legend below); height <= 0: the plot's aspect, 20% taller (>= 260). */
int ol_plot_svg_size(const ol_plot *plot, int width, int height, char **svg, size_t *len);
int ol_plot_write(const ol_plot *plot, const char *path); /* .svg file, atomically */

#endif
