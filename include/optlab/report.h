/* report.h: one self-contained HTML report of the labs (src/report.c), with their figures
 * (optlab/plot.h) inline. Depends on libc, common and plot; the file is written atomically through
 * ol_afile. *
 * Errors: functions return 0 (or, where said, an index >= 0) on success and an OL_E* code (or its
 * negative) otherwise, with a message in ol_error(). Nothing aborts; text is escaped for XML/HTML.
 * Output is deterministic: the same calls with the same data give the same bytes. Numbers are
 * printed with printf ("%.9g", "%.2f"), so keep LC_NUMERIC at "C" (the default). */
#ifndef OPTLAB_REPORT_H
#define OPTLAB_REPORT_H

#include <stddef.h>

#include "optlab/plot.h"

/* ==== HTML report ==== one self-contained file: inline CSS and SVG, no network, readable at
 * phone width; no scripts unless it holds interactive panels (below), and readable without them.
 * The page opens with the title, the contents (one link per section), the takeaways (each linked
 * to its section) and the run's settings, then the sections. */
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

/* ==== interactive panels (issue 17) ==== the code of the panels: the WebAssembly module of
 * optlab/play.h and the page's script and style (web/play.js, web/play.css), which the optlab
 * binary carries (build/gen/play_assets.c, web/web.mk). wasm NULL: not built, and `missing` says
 * why in one line. */
typedef struct {
    const char *wasm;          /* the module's bytes, or NULL */
    size_t wasm_len;
    const char *script, *style;
    const char *missing;       /* when wasm is NULL: the line the report shows in place of the panels */
} ol_report_play;
/* Puts the panels' code into the page (the module as base64, the script and style inline: still
 * one file, no network), kept by reference (it must outlive the report). Without it (or without a
 * module) ol_report_panel writes the panel's static text only. */
void ol_report_set_play(ol_report *report, const ol_report_play *play);
/* A panel here: a <div class="play" data-panel="KIND"> the script fills in, holding `try_this` (one
 * sentence: what to try, what to look for) and a line, shown with JavaScript off, saying the panel
 * needs JavaScript; without a module, only the line saying why the panel is missing. */
int ol_report_panel(ol_report *report, const char *kind, const char *try_this);
/* The data the panels train on (issue 18): `gz`, the gzip of the subset's bytes (four IDX files,
 * optlab/play_train.h), copied and put into the page beside the module, base64 in
 *     <script type="application/octet-stream" id="optlab-data" data-name=NAME data-train=N
 *             data-test=M data-bytes=RAW>
 * which the browser does not run and the script inflates (DecompressionStream('gzip')). `name` is
 * the data set as the command line names it (--data), n_train and n_test the subset's counts
 * (--subset, --test-subset), raw_len the inflated length. Only a page with panels and a module
 * holds it. Replaces an earlier call's data. */
int ol_report_set_data(ol_report *report, const char *name, long n_train, long n_test, const void *gz, size_t gz_len,
                       size_t raw_len);

/* The whole page (malloc'ed; caller frees), or written atomically to path. */
int ol_report_html(const ol_report *report, char **html, size_t *len);
int ol_report_write(const ol_report *report, const char *path);

#endif
