/* lab.h: the lecture's experiments. Each lab runs an experiment, writes one CSV per figure (and
 * the figure as .svg) into the output directory, adds a section to the HTML report with its
 * figures, captions and a takeaway whose numbers come from this run, and records those numbers
 * in the run's summary (summary.csv: lab,key,value) so tests can check text against data.
 *
 * `optlab lab all --out report/` runs them in order; `optlab lab NAME` runs one. --quick shrinks
 * every experiment (the tests run it; all five in under a minute); the full run fits in 5 minutes
 * on 2 cores. */
#ifndef OPTLAB_LAB_H
#define OPTLAB_LAB_H

#include <stdint.h>
#include <stdio.h>

#include "optlab/data.h"
#include "optlab/csv.h"
#include "optlab/plot.h"
#include "optlab/report.h"

typedef struct ol_lab_ctx ol_lab_ctx;

struct ol_lab_ctx {
    const char *out_dir;     /* where CSVs, SVGs and index.html go (created if missing; see outdir.h) */
    int force;               /* 1: write into an out_dir holding files optlab did not write */
    const char *data;        /* data set name or directory (default fashion-mnist) */
    int quick;               /* 1: the small version of every experiment */
    uint64_t seed;
    int threads;
    const ol_report_play *play; /* the interactive panels' code (NULL: the page has none) */
    ol_report *report;       /* the page being built */
    /* internal: the data set, loaded on first use by ol_lab_data; the summary rows */
    ol_dataset train, test;
    int data_loaded;
    struct ol_csv *summary;
    const char *current_lab;
    struct { char key[64]; double value; } records[256]; /* the current lab's, for its takeaway */
    int n_records;
    int page_data;           /* the page holds the data its panels train on (ol_lab_page_data) */
};

/* The training and test sets, loaded once per run on first use. */
int ol_lab_data(ol_lab_ctx *ctx, ol_dataset **train, ol_dataset **test);
/* out_dir/name in buf. */
const char *ol_lab_path(const ol_lab_ctx *ctx, const char *name, char *buf, size_t cap);
/* Records a number behind a takeaway: a summary.csv row (current lab, key, value). */
int ol_lab_record(ol_lab_ctx *ctx, const char *key, double value);
/* Adds plot to the report with its caption and CSV link, and writes it as out_dir/<svg_name>. */
int ol_lab_figure(ol_lab_ctx *ctx, const ol_plot *plot, const char *svg_name, const char *csv_name,
                  const char *caption);
/* The lab's takeaway: a callout in its section, listed at the top of the page, and printed on
 * stdout as the run's summary ("conditioning: ..."). Record its numbers first (ol_lab_record) and
 * name them in the text: {key} or {key:.3g} (a printf conversion without its '%') is replaced by the
 * current lab's recorded value, so each number is given once and the text cannot drift from the
 * record; a key not recorded is an error (OL_ESTATE). printf conversions in fmt take the rest
 * (names, plurals). */
int ol_lab_takeaway(ol_lab_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The data the page's training panels use (issue 18): the first OL_LAB_PAGE_TRAIN training and
 * OL_LAB_PAGE_TEST test images of the lab's data set (fewer where it holds fewer), as
 * ol_data_subset_bytes writes them, gzip'ed, put into the report once (ol_report_set_data). A
 * lab calls it before placing such a panel; nothing happens where the report has no module. */
#define OL_LAB_PAGE_TRAIN 2000
#define OL_LAB_PAGE_TEST 500
int ol_lab_page_data(ol_lab_ctx *ctx);
/* Progress line on stderr: "[lab conditioning] ..." */
void ol_lab_log(const ol_lab_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The labs. Each returns 0 or an OL_E* code with a message. */
int ol_lab_random_search(ol_lab_ctx *ctx);
int ol_lab_conditioning(ol_lab_ctx *ctx);
int ol_lab_nonconvex(ol_lab_ctx *ctx);
int ol_lab_minibatch(ol_lab_ctx *ctx);
int ol_lab_tuning(ol_lab_ctx *ctx);

typedef struct {
    const char *name;        /* "conditioning" */
    const char *title;       /* section title */
    int (*run)(ol_lab_ctx *ctx);
} ol_lab_entry;
/* The labs in lecture order, terminated by {NULL}. */
extern const ol_lab_entry ol_labs[];

/* Runs the named lab or "all" into ctx->out_dir and writes index.html and summary.csv. An out_dir
 * holding files optlab did not write, or another command's output, is refused (OL_EARG) before
 * anything is run or written, unless ctx->force. */
int ol_lab_run(ol_lab_ctx *ctx, const char *which);

#endif
