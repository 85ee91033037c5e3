/* report.h: what the labs show: CSV files of their numbers, SVG figures and one self-contained
 * HTML report. Depends on nothing but libc and common (every file goes through ol_afile: no partial
 * file under a real name, ever). Not a general plotting library: it draws what the lecture needs.
 *
 * Errors: functions return 0 (or, where said, an index >= 0) on success and an OL_E* code (or its
 * negative) otherwise, with a message in ol_error(). Nothing aborts; text is escaped for XML/HTML.
 * Output is deterministic: the same calls with the same data give the same bytes. Numbers are
 * printed with printf ("%.9g", "%.2f"), so keep LC_NUMERIC at "C" (the default). */
#ifndef OPTLAB_REPORT_H
#define OPTLAB_REPORT_H

#include <stddef.h>

/* ==== CSV ==== header line, then rows; numbers as "%.9g", NaN/Inf as nan/inf/-inf;
 * strings quoted as RFC 4180 when they hold , " or a line break. */
typedef struct ol_csv ol_csv;

/* Starts a CSV at path (written to a temporary; it appears under path only at ol_csv_close).
 * header: the column names, comma-separated ("step,lr,f,x0,x1"). */
int ol_csv_open(ol_csv **csv, const char *path, const char *header);
/* Appends a row of n numbers (n must equal the number of columns). */
int ol_csv_row(ol_csv *csv, const double *values, int n);
/* Cell by cell, for rows that mix text and numbers; ol_csv_end_row checks the count. */
int ol_csv_num(ol_csv *csv, double value);
int ol_csv_int(ol_csv *csv, long long value);
int ol_csv_str(ol_csv *csv, const char *text);
int ol_csv_end_row(ol_csv *csv);
/* Commits the file atomically and frees csv (also on failure: then nothing is left under path).
 * Fails if any earlier call failed or a row was left unfinished. */
int ol_csv_close(ol_csv *csv);
/* Drops everything written and frees csv; path is untouched. NULL is fine. */
void ol_csv_abort(ol_csv *csv);

/* A CSV read back (for tests and tools): names and a row-major n_rows x n_cols table of numbers.
 * Cells that are not numbers (text, empty) read as NaN. */
typedef struct {
    int n_cols;
    size_t n_rows;
    char **names;      /* n_cols column names */
    double *values;    /* (n_rows, n_cols) */
} ol_csv_table;
int ol_csv_read(const char *path, ol_csv_table *table);
/* Index of the column named name, or -1. */
int ol_csv_column(const ol_csv_table *table, const char *name);
void ol_csv_table_free(ol_csv_table *table);

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

/* ==== HTML report ==== one self-contained file: inline CSS and SVG, no scripts, no network,
 * readable at phone width. The page opens with the title, the contents (one link per section),
 * the takeaways (each linked to its section) and the run's settings, then the sections. */
typedef struct ol_report ol_report;

ol_report *ol_report_new(const char *title);                 /* NULL: no memory */
void ol_report_free(ol_report *report);

/* Starts a section (h2) with an anchor made from its title ("Mini-batch SGD" -> #mini-batch-sgd). */
int ol_report_section(ol_report *report, const char *title);
int ol_report_heading(ol_report *report, const char *text);   /* h3 inside a section */
/* Text blocks; printf-style, the result is escaped (pass "%s" for text that holds a '%');
 * a blank line starts a new paragraph, a single line break is kept. */
int ol_report_paragraph(ol_report *report, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A callout in the current section that is also listed at the top of the page. */
int ol_report_takeaway(ol_report *report, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One row of a key-value table here (consecutive calls make one table). */
int ol_report_kv(ol_report *report, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One row of the run's settings table at the top of the page (data, seed, threads, times). */
int ol_report_setting(ol_report *report, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ol_report_pre(ol_report *report, const char *text);      /* preformatted (commands, logs) */
/* A table of text cells: header[n_cols], cells row-major (n_rows, n_cols); numbers align right. */
int ol_report_table(ol_report *report, int n_cols, const char *const *header, int n_rows,
                    const char *const *cells);
/* A numbered figure: the SVG inline, the caption, and a link to csv_name (NULL: none), a file
 * name relative to the page. ol_report_plot inlines the plot twice, laid out for wide screens
 * and for phones (380 wide), and CSS shows the one that fits. */
int ol_report_figure(ol_report *report, const char *svg, const char *csv_name,
                     const char *caption_fmt, ...) __attribute__((format(printf, 4, 5)));
int ol_report_plot(ol_report *report, const ol_plot *plot, const char *csv_name,
                   const char *caption_fmt, ...) __attribute__((format(printf, 4, 5)));

/* The whole page (malloc'ed; caller frees), or written atomically to path. */
int ol_report_html(const ol_report *report, char **html, size_t *len);
int ol_report_write(const ol_report *report, const char *path);

#endif
