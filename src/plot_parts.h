/* plot_parts.h: the pure parts of the figures (src/plot.c draws with them): tick placement and
 * labels, text widths, the PNG and base64 encoders. Private to the plot module; no SVG here. */
#ifndef OPTLAB_PLOT_PARTS_H
#define OPTLAB_PLOT_PARTS_H

#include <stddef.h>

#include "strbuf.h"

#define MAX_TICKS 160
typedef struct {
    double v;
    int major;         /* labelled */
    char text[48];
    double w;          /* label width */
} tick;
typedef struct {
    int n;
    tick t[MAX_TICKS];
} ticks;

/* Width of UTF-8 text in font size fs (DejaVu Sans advance widths: an estimate that leaves room). */
double plot_text_width(const char *s, double fs);
/* Ticks for [lo, hi] over len pixels: 1-2-5 steps on linear axes, decades (with minor ticks at
 * 2..9) on log axes, as many as fit without labels touching (horizontal: labels side by side). */
void plot_make_ticks(ticks *t, double lo, double hi, int log, double len, int horizontal, double fs);
/* A tick value on a linear scale with spacing step ("0.25", "1.5e5", a typographic minus). */
void plot_fmt_value(char *out, size_t cap, double v, double step, double max_abs);
/* "10" and the exponent k in superscript digits. */
void plot_fmt_power(char *out, size_t cap, int k);
/* Position of v along an axis of length len (0 at lo), linear or log. */
double plot_tick_pos(double lo, double hi, int log, double len, double v);
/* raw rounded to 1, 2, 5 or 10 times a power of ten (mantissa below 1.5 -> 1, 3 -> 2, 7 -> 5, else 10). */
double plot_nice_step(double raw);

/* Marching squares on the ny x nx grid z (row-major, NaN: no data): calls emit once per polyline
 * where z crosses level, with its points as edge ids (plot_isoline_point turns one into grid
 * coordinates) and closed = 1 for a loop. Saddles are resolved by the cell's mean. OL_ENOMEM or 0. */
int plot_isolines(const double *z, int nx, int ny, double level,
                  void (*emit)(void *userdata, const size_t *edges, size_t n, int closed), void *userdata);
/* Where level crosses edge id, in grid coordinates (x = column, y = row, fractional). */
void plot_isoline_point(const double *z, int nx, int ny, double level, size_t id, double *gx, double *gy);

/* An RGB PNG of w x h pixels (rows top to bottom) appended to png; OL_ENOMEM on failure. */
int plot_png_encode(const unsigned char *rgb, int w, int h, ol_sbuf *png);
/* base64 of d[0..n) appended to b. */
void plot_base64(ol_sbuf *b, const unsigned char *d, size_t n);

#endif
