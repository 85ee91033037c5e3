/* lab.c: the lab driver: the shared context (data loaded once, output paths, summary of the numbers
 * behind the takeaways) and `optlab lab`'s sequence. The experiments are in src/lab_*.c. */
#include "optlab/lab.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <zlib.h>

#include "optlab/common.h"
#include "optlab/outdir.h"
#include "optlab/parallel.h"

const ol_lab_entry ol_labs[] = {
    {"random-search", "1. Random search is costly: gradient descent", ol_lab_random_search},
    {"conditioning", "2. Poor conditioning: momentum", ol_lab_conditioning},
    {"nonconvex", "3. Non-convexity: overparametrization", ol_lab_nonconvex},
    {"minibatch", "4. Full gradients are expensive: mini-batch SGD", ol_lab_minibatch},
    {"tuning", "5. Hyperparameter tuning: schedules, clipping, adaptive methods", ol_lab_tuning},
    {NULL, NULL, NULL},
};

int ol_lab_data(ol_lab_ctx *ctx, ol_dataset **train, ol_dataset **test) {
    if (!ctx->data_loaded) {
        int rc = ol_data_load(ctx->data ? ctx->data : "fashion-mnist", &ctx->train, &ctx->test);
        if (rc) return rc;
        ctx->data_loaded = 1;
    }
    *train = &ctx->train;
    *test = &ctx->test;
    return OL_OK;
}

/* n bytes gzip'ed (zlib, level 9, no name, mtime 0: the same bytes every run) */
static int gzip_bytes(const uint8_t *in, size_t n, unsigned char **out, size_t *out_len) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (n > UINT32_MAX || deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return ol_fail(OL_ENOMEM, "out of memory compressing the page's data");
    uLong cap = deflateBound(&z, (uLong)n);
    unsigned char *buf = malloc(cap);
    int zr = Z_MEM_ERROR;
    if (buf) {
        z.next_in = (Bytef *)(uintptr_t)in;
        z.avail_in = (uInt)n;
        z.next_out = buf;
        z.avail_out = (uInt)cap;
        zr = deflate(&z, Z_FINISH);
    }
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return ol_fail(OL_ENOMEM, "out of memory compressing the page's data");
    }
    *out = buf;
    return OL_OK;
}

int ol_lab_page_data(ol_lab_ctx *ctx) {
    if (ctx->page_data || !ctx->play || !ctx->play->wasm) return OL_OK;
    ol_dataset *train, *test;
    int rc = ol_lab_data(ctx, &train, &test);
    if (rc) return rc;
    uint32_t n_train = train->n < OL_LAB_PAGE_TRAIN ? train->n : OL_LAB_PAGE_TRAIN;
    uint32_t n_test = test->n < OL_LAB_PAGE_TEST ? test->n : OL_LAB_PAGE_TEST;
    uint8_t *raw = NULL;
    unsigned char *gz = NULL;
    size_t raw_len = 0, gz_len = 0;
    rc = ol_data_subset_bytes(train, test, n_train, n_test, &raw, &raw_len);
    if (!rc) rc = gzip_bytes(raw, raw_len, &gz, &gz_len);
    if (!rc) rc = ol_report_set_data(ctx->report, ctx->data ? ctx->data : "fashion-mnist", (long)n_train, (long)n_test,
                                     gz, gz_len, raw_len);
    free(raw);
    free(gz);
    if (!rc) ctx->page_data = 1;
    return rc;
}

const char *ol_lab_path(const ol_lab_ctx *ctx, const char *name, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s", ctx->out_dir, name);
    return buf;
}

int ol_lab_record(ol_lab_ctx *ctx, const char *key, double value) {
    int max = (int)(sizeof ctx->records / sizeof ctx->records[0]), i = 0;
    while (i < ctx->n_records && strcmp(ctx->records[i].key, key)) i++;
    if (i == ctx->n_records && i < max) ctx->n_records++;
    if (i < max) {
        snprintf(ctx->records[i].key, sizeof ctx->records[i].key, "%s", key);
        ctx->records[i].value = value;
    }
    if (!ctx->summary) return OL_OK;
    int rc = ol_csv_str(ctx->summary, ctx->current_lab ? ctx->current_lab : "");
    if (!rc) rc = ol_csv_str(ctx->summary, key);
    if (!rc) rc = ol_csv_num(ctx->summary, value);
    if (!rc) rc = ol_csv_end_row(ctx->summary);
    return rc;
}

int ol_lab_figure(ol_lab_ctx *ctx, const ol_plot *plot, const char *svg_name, const char *csv_name,
                  const char *caption) {
    char path[4096];
    int rc = ol_plot_write(plot, ol_lab_path(ctx, svg_name, path, sizeof path));
    if (rc) return rc;
    return ol_report_plot(ctx->report, plot, csv_name, "%s", caption);
}

/* text with every {key} or {key:spec} replaced by the recorded value (printf "%spec", default .9g) */
static int fill_records(const ol_lab_ctx *ctx, const char *in, char *out, size_t cap) {
    size_t o = 0;
    for (const char *p = in; *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (!close) {
            if (o + 1 < cap) out[o++] = *p;
            p++;
            continue;
        }
        char name[96], spec[24] = ".9g";
        snprintf(name, sizeof name, "%.*s", (int)(close - p - 1), p + 1);
        char *colon = strchr(name, ':');
        if (colon) {
            snprintf(spec, sizeof spec, "%s", colon + 1);
            *colon = 0;
        }
        int i = 0;
        while (i < ctx->n_records && strcmp(ctx->records[i].key, name)) i++;
        if (i == ctx->n_records)
            return ol_fail(OL_ESTATE, "%s: the takeaway names {%s}, which the lab did not record",
                           ctx->current_lab ? ctx->current_lab : "lab", name);
        char format[32], number[64];
        snprintf(format, sizeof format, "%%%s", spec);
        snprintf(number, sizeof number, format, ctx->records[i].value);
        for (const char *n = number; *n && o + 1 < cap; n++) out[o++] = *n;
        p = close + 1;
    }
    out[o] = 0;
    return OL_OK;
}

int ol_lab_takeaway(ol_lab_ctx *ctx, const char *fmt, ...) {
    char raw[2048], text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    int rc = fill_records(ctx, raw, text, sizeof text);
    if (rc) return rc;
    printf("%s: %s\n", ctx->current_lab ? ctx->current_lab : "lab", text);
    fflush(stdout);
    return ol_report_takeaway(ctx->report, "%s", text);
}

void ol_lab_log(const ol_lab_ctx *ctx, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "[lab %s] ", ctx->current_lab ? ctx->current_lab : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* the report's directory: its longest file name is under 64 bytes; an older optlab's report (no
 * marker) has summary.csv with its header */
static const ol_outdir_kind lab_outdir = {"lab", "summary.csv", "lab,key,value\n", 64};

int ol_lab_run(ol_lab_ctx *ctx, const char *which) {
    int all = !strcmp(which, "all"), found = 0;
    for (const ol_lab_entry *e = ol_labs; e->name; e++) found |= all || !strcmp(e->name, which);
    if (!found) {
        char names[256] = "all";
        for (const ol_lab_entry *e = ol_labs; e->name; e++) {
            strcat(names, ", ");
            strcat(names, e->name);
        }
        return ol_fail(OL_EARG, "unknown lab '%s'; use one of: %s", which, names);
    }
    int rc = ol_outdir_check(ctx->out_dir, &lab_outdir, ctx->force);
    if (!rc) rc = ol_outdir_claim(ctx->out_dir, &lab_outdir);
    if (rc) return rc;
    if (ctx->threads) ol_parallel_set_threads(ctx->threads);
    ctx->report = ol_report_new("optlab: the five challenges of training, measured");
    char path[4096];
    if (!ctx->report) return OL_ENOMEM;
    if (ctx->play) ol_report_set_play(ctx->report, ctx->play);
    if ((rc = ol_csv_open(&ctx->summary, ol_lab_path(ctx, "summary.csv", path, sizeof path), "lab,key,value"))) goto out;
    ol_report_setting(ctx->report, "data", "%s", ctx->data ? ctx->data : "fashion-mnist");
    ol_report_setting(ctx->report, "seed", "%llu", (unsigned long long)ctx->seed);
    ol_report_setting(ctx->report, "threads", "%d", ol_parallel_threads());
    ol_report_setting(ctx->report, "mode", "%s", ctx->quick ? "quick (--quick: small experiments)" : "full");
    double t_all = ol_now_seconds();
    for (const ol_lab_entry *e = ol_labs; e->name; e++) {
        if (!all && strcmp(e->name, which)) continue;
        ctx->current_lab = e->name;
        ctx->n_records = 0; /* a takeaway names its own lab's records */
        if ((rc = ol_report_section(ctx->report, e->title))) goto out;
        double t0 = ol_now_seconds();
        ol_lab_log(ctx, "running%s", ctx->quick ? " (quick)" : "");
        if ((rc = e->run(ctx))) goto out;
        double dt = ol_now_seconds() - t0;
        ol_lab_record(ctx, "seconds", dt);
        ol_report_setting(ctx->report, e->name, "%.1f s", dt);
        ol_lab_log(ctx, "done in %.1f s", dt);
    }
    ctx->current_lab = NULL;
    ol_report_setting(ctx->report, "total time", "%.1f s", ol_now_seconds() - t_all);
    if ((rc = ol_csv_close(ctx->summary))) {
        ctx->summary = NULL;
        goto out;
    }
    ctx->summary = NULL;
    rc = ol_report_write(ctx->report, ol_lab_path(ctx, "index.html", path, sizeof path));
out:
    ol_csv_abort(ctx->summary);
    ctx->summary = NULL;
    ol_report_free(ctx->report);
    ctx->report = NULL;
    ctx->page_data = 0;
    if (ctx->data_loaded) {
        ol_dataset_free(&ctx->train);
        ol_dataset_free(&ctx->test);
        ctx->data_loaded = 0;
    }
    return rc;
}
