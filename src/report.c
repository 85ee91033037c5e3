/* report.c: the HTML report (see include/optlab/report.h): one self-contained page with inline CSS
 * and SVG, a table of contents, the takeaways and settings at the top, numbered figures.
 *
 * Deliberately not a template engine: blocks are appended in order as escaped HTML. The page is
 * also well-formed XML (void elements self-closed, no '<' or '&' in the CSS), so tests and tools
 * can parse it with any XML parser. No network, nothing that changes between runs; no scripts but
 * the interactive panels' (ol_report_panel), whose code is base64 text (see put_play). */
#include "optlab/plot.h"
#include "optlab/report.h"
#include "optlab/common.h"
#include "plot_parts.h"
#include "strbuf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* printf into a malloc'ed string (NULL on failure, with a message). */
static char *vformat(const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) { ol_fail(OL_EARG, "report: bad format string"); return NULL; }
    char *s = malloc((size_t)n + 1);
    if (!s) { ol_fail(OL_ENOMEM, "out of memory in the report"); return NULL; }
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

typedef struct {
    char *slug, *title;
} section_ref;
typedef struct {
    char *text;
    int section;       /* index into sections, -1 before the first */
} takeaway_ref;

struct ol_report {
    char *title;
    ol_sbuf intro;            /* blocks before the first section */
    ol_sbuf body;             /* sections */
    ol_sbuf settings;         /* rows of the settings table */
    int kv_open;           /* a key-value table is open at the end of the current buffer */
    int n_sections, cap_sections;
    section_ref *sections;
    int n_takeaways, cap_takeaways;
    takeaway_ref *takeaways;
    int n_figures;
    const ol_report_play *play;   /* the panels' code, or NULL */
    int n_panels;
    struct {                      /* the panels' data (ol_report_set_data), or gz NULL */
        char *name;
        long n_train, n_test;
        unsigned char *gz;
        size_t gz_len, raw_len;
    } data;
};

static ol_sbuf *cur(ol_report *r) { return r->n_sections ? &r->body : &r->intro; }

static void close_kv(ol_report *r) {
    if (r->kv_open) ol_sb_puts(cur(r), "</tbody></table></div>\n");
    r->kv_open = 0;
}

static int check(ol_report *r) {
    if (r->intro.oom || r->body.oom || r->settings.oom)
        return ol_fail(OL_ENOMEM, "out of memory building the report");
    return OL_OK;
}

ol_report *ol_report_new(const char *title) {
    ol_report *r = ol_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->title = strdup(title && *title ? title : "optlab report");
    if (!r->title) {
        free(r);
        ol_fail(OL_ENOMEM, "out of memory creating a report");
        return NULL;
    }
    return r;
}

void ol_report_free(ol_report *r) {
    if (!r) return;
    free(r->title);
    free(r->intro.p);
    free(r->body.p);
    free(r->settings.p);
    for (int i = 0; i < r->n_sections; i++) {
        free(r->sections[i].slug);
        free(r->sections[i].title);
    }
    free(r->sections);
    for (int i = 0; i < r->n_takeaways; i++) free(r->takeaways[i].text);
    free(r->takeaways);
    free(r->data.name);
    free(r->data.gz);
    free(r);
}

/* "Mini-batch SGD" -> "mini-batch-sgd"; unique among the sections and the page's own ids. */
static char *make_slug(const ol_report *r, const char *title) {
    char base[64];
    size_t n = 0;
    int dash = 0;
    for (const unsigned char *c = (const unsigned char *)title; *c && n < sizeof base - 1; c++) {
        if (isalnum(*c)) {
            if (dash && n > 0) base[n++] = '-';
            if (n < sizeof base - 1) base[n++] = (char)tolower(*c);
            dash = 0;
        } else {
            dash = 1;
        }
    }
    base[n] = 0;
    if (!n) snprintf(base, sizeof base, "section");
    char slug[80];
    for (int k = 1;; k++) {
        if (k == 1) snprintf(slug, sizeof slug, "%s", base);
        else snprintf(slug, sizeof slug, "%s-%d", base, k);
        int taken = !strcmp(slug, "takeaways") || !strcmp(slug, "settings") ||
                    !strcmp(slug, "contents") || !strncmp(slug, "fig-", 4);
        for (int i = 0; i < r->n_sections && !taken; i++) taken = !strcmp(r->sections[i].slug, slug);
        if (!taken) break;
    }
    return strdup(slug);
}

int ol_report_section(ol_report *r, const char *title) {
    if (!title || !*title) return ol_fail(OL_EARG, "report section without a title");
    close_kv(r);
    if (r->n_sections == r->cap_sections) {
        int cap = r->cap_sections ? 2 * r->cap_sections : 8;
        section_ref *s = realloc(r->sections, (size_t)cap * sizeof *s);
        if (!s) return ol_fail(OL_ENOMEM, "out of memory adding a report section");
        r->sections = s;
        r->cap_sections = cap;
    }
    section_ref *s = &r->sections[r->n_sections];
    s->slug = make_slug(r, title);
    s->title = strdup(title);
    if (!s->slug || !s->title) {
        free(s->slug);
        free(s->title);
        return ol_fail(OL_ENOMEM, "out of memory adding a report section");
    }
    if (r->n_sections) ol_sb_puts(&r->body, "</section>\n");
    r->n_sections++;
    ol_sb_puts(&r->body, "<section id=\"");
    ol_sb_esc(&r->body, s->slug);
    ol_sb_puts(&r->body, "\">\n<h2>");
    ol_sb_esc(&r->body, title);
    ol_sb_puts(&r->body, "</h2>\n");
    return check(r);
}

int ol_report_heading(ol_report *r, const char *text) {
    close_kv(r);
    ol_sb_puts(cur(r), "<h3>");
    ol_sb_esc(cur(r), text);
    ol_sb_puts(cur(r), "</h3>\n");
    return check(r);
}

/* Escaped text with blank lines ("\n\n") as paragraph breaks and single ones as line breaks. */
static void put_text(ol_sbuf *b, const char *s) {
    for (; *s; s++) {
        if (s[0] == '\n' && s[1] == '\n') {
            ol_sb_puts(b, "</p>\n<p>");
            while (s[1] == '\n') s++;
        } else if (*s == '\n') {
            ol_sb_puts(b, "<br/>");
        } else {
            char one[2] = {*s, 0};
            ol_sb_esc(b, one);
        }
    }
}

int ol_report_paragraph(ol_report *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    if (!s) return OL_ENOMEM;
    close_kv(r);
    ol_sb_puts(cur(r), "<p>");
    put_text(cur(r), s);
    ol_sb_puts(cur(r), "</p>\n");
    free(s);
    return check(r);
}

int ol_report_takeaway(ol_report *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    if (!s) return OL_ENOMEM;
    if (r->n_takeaways == r->cap_takeaways) {
        int cap = r->cap_takeaways ? 2 * r->cap_takeaways : 8;
        takeaway_ref *t = realloc(r->takeaways, (size_t)cap * sizeof *t);
        if (!t) { free(s); return ol_fail(OL_ENOMEM, "out of memory adding a takeaway"); }
        r->takeaways = t;
        r->cap_takeaways = cap;
    }
    r->takeaways[r->n_takeaways].text = s;
    r->takeaways[r->n_takeaways].section = r->n_sections - 1;
    r->n_takeaways++;
    close_kv(r);
    ol_sb_puts(cur(r), "<div class=\"takeaway\"><span class=\"label\">Takeaway</span><p>");
    put_text(cur(r), s);
    ol_sb_puts(cur(r), "</p></div>\n");
    return check(r);
}

/* <a href="#slug">title suffix</a>, slug and title escaped */
static void put_link(ol_sbuf *b, const char *slug, const char *title, const char *suffix) {
    ol_sb_puts(b, "<a href=\"#");
    ol_sb_esc(b, slug);
    ol_sb_puts(b, "\">");
    ol_sb_esc(b, title);
    ol_sb_puts(b, suffix);
    ol_sb_puts(b, "</a>");
}

static void kv_row(ol_sbuf *b, const char *key, const char *value) {
    ol_sb_puts(b, "<tr><th scope=\"row\">");
    ol_sb_esc(b, key);
    ol_sb_puts(b, "</th><td>");
    ol_sb_esc(b, value);
    ol_sb_puts(b, "</td></tr>\n");
}

int ol_report_kv(ol_report *r, const char *key, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    if (!s) return OL_ENOMEM;
    if (!r->kv_open) ol_sb_puts(cur(r), "<div class=\"table-wrap\"><table class=\"kv\"><tbody>\n");
    r->kv_open = 1;
    kv_row(cur(r), key ? key : "", s);
    free(s);
    return check(r);
}

int ol_report_setting(ol_report *r, const char *key, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    if (!s) return OL_ENOMEM;
    kv_row(&r->settings, key ? key : "", s);
    free(s);
    return check(r);
}

int ol_report_pre(ol_report *r, const char *text) {
    close_kv(r);
    ol_sb_puts(cur(r), "<pre>");
    ol_sb_esc(cur(r), text ? text : "");
    ol_sb_puts(cur(r), "</pre>\n");
    return check(r);
}

/* A cell that reads as a number (optionally with a unit suffix) is right-aligned. */
static int numeric_cell(const char *s) {
    char *end;
    if (!s || !*s) return 0;
    const char *p = s;
    if (!strncmp(p, "\xe2\x88\x92", 3)) p += 3; /* typographic minus */
    strtod(p, &end);
    if (end == p) return 0;
    while (*end == ' ') end++;
    return !*end || !strcmp(end, "%") || !strcmp(end, "x") || !strcmp(end, "\xc3\x97") ||
           !strcmp(end, "s") || !strcmp(end, "ms");
}

int ol_report_table(ol_report *r, int n_cols, const char *const *header, int n_rows,
                    const char *const *cells) {
    if (n_cols <= 0 || n_rows < 0 || (n_rows > 0 && !cells))
        return ol_fail(OL_EARG, "report table of %d columns and %d rows", n_cols, n_rows);
    close_kv(r);
    ol_sbuf *b = cur(r);
    ol_sb_puts(b, "<div class=\"table-wrap\"><table class=\"data\">\n");
    if (header) {
        ol_sb_puts(b, "<thead><tr>");
        for (int c = 0; c < n_cols; c++) {
            int numeric = n_rows > 0;
            for (int i = 0; i < n_rows; i++)
                numeric &= numeric_cell(cells[(size_t)i * (size_t)n_cols + (size_t)c]);
            ol_sb_puts(b, numeric ? "<th scope=\"col\" class=\"num\">" : "<th scope=\"col\">");
            ol_sb_esc(b, header[c] ? header[c] : "");
            ol_sb_puts(b, "</th>");
        }
        ol_sb_puts(b, "</tr></thead>\n");
    }
    ol_sb_puts(b, "<tbody>\n");
    for (int i = 0; i < n_rows; i++) {
        ol_sb_puts(b, "<tr>");
        for (int c = 0; c < n_cols; c++) {
            const char *cell = cells[(size_t)i * (size_t)n_cols + (size_t)c];
            ol_sb_puts(b, numeric_cell(cell) ? "<td class=\"num\">" : "<td>");
            ol_sb_esc(b, cell ? cell : "");
            ol_sb_puts(b, "</td>");
        }
        ol_sb_puts(b, "</tr>\n");
    }
    ol_sb_puts(b, "</tbody></table></div>\n");
    return check(r);
}

/* svg_narrow: NULL, or a rendering for phones shown instead of svg on narrow screens. */
static int add_figure(ol_report *r, const char *svg, const char *svg_narrow, const char *csv_name,
                      const char *caption) {
    if (!svg || !strstr(svg, "<svg") || (svg_narrow && !strstr(svg_narrow, "<svg")))
        return ol_fail(OL_EARG, "report figure is not an SVG");
    close_kv(r);
    r->n_figures++;
    ol_sbuf *b = cur(r);
    ol_sb_printf(b, "<figure id=\"fig-%d\">\n", r->n_figures);
    for (int k = 0; k < 1 + (svg_narrow != NULL); k++) {
        /* an XML declaration or doctype is not allowed inside HTML: start at the <svg element */
        const char *start = strstr(k ? svg_narrow : svg, "<svg");
        if (svg_narrow) ol_sb_puts(b, k ? "<div class=\"fig-narrow\">\n" : "<div class=\"fig-wide\">\n");
        ol_sb_puts(b, start);
        if (b->len && b->p[b->len - 1] != '\n') ol_sb_puts(b, "\n");
        if (svg_narrow) ol_sb_puts(b, "</div>\n");
    }
    ol_sb_printf(b, "<figcaption><span class=\"fignum\">Figure %d.</span> ", r->n_figures);
    put_text(b, caption ? caption : "");
    if (csv_name && *csv_name) {
        ol_sb_puts(b, " <span class=\"data\">Data: <a href=\"");
        ol_sb_esc(b, csv_name);
        ol_sb_puts(b, "\">");
        ol_sb_esc(b, csv_name);
        ol_sb_puts(b, "</a></span>");
    }
    ol_sb_puts(b, "</figcaption>\n</figure>\n");
    return check(r);
}

int ol_report_figure(ol_report *r, const char *svg, const char *csv_name, const char *caption_fmt, ...) {
    va_list ap;
    va_start(ap, caption_fmt);
    char *caption = vformat(caption_fmt, ap);
    va_end(ap);
    if (!caption) return OL_ENOMEM;
    int rc = add_figure(r, svg, NULL, csv_name, caption);
    free(caption);
    return rc;
}

int ol_report_plot(ol_report *r, const ol_plot *plot, const char *csv_name, const char *caption_fmt, ...) {
    va_list ap;
    va_start(ap, caption_fmt);
    char *caption = vformat(caption_fmt, ap);
    va_end(ap);
    if (!caption) return OL_ENOMEM;
    char *svg = NULL, *narrow = NULL;
    int rc = ol_plot_svg(plot, &svg, NULL);
    if (!rc) rc = ol_plot_svg_size(plot, 380, 0, &narrow, NULL);
    if (!rc) rc = add_figure(r, svg, narrow, csv_name, caption);
    free(svg);
    free(narrow);
    free(caption);
    return rc;
}

/* ---- interactive panels ---- */

void ol_report_set_play(ol_report *r, const ol_report_play *play) { r->play = play; }

static int has_module(const ol_report *r) { return r->play && r->play->wasm && r->play->script; }

int ol_report_panel(ol_report *r, const char *kind, const char *try_this) {
    if (!kind || !*kind || strspn(kind, "abcdefghijklmnopqrstuvwxyz-") != strlen(kind))
        return ol_fail(OL_EARG, "report panel kind '%s': use lower-case letters and '-'", kind ? kind : "");
    close_kv(r);
    ol_sbuf *b = cur(r);
    r->n_panels++;
    if (!has_module(r)) { /* one line in its place, saying why */
        ol_sb_printf(b, "<p class=\"play-missing\" id=\"play-%s\">", kind);
        ol_sb_esc(b, r->play && r->play->missing ? r->play->missing
                                                 : "The interactive panels are not in this report: it was written "
                                                   "without their code.");
        ol_sb_puts(b, "</p>\n");
        return check(r);
    }
    ol_sb_printf(b, "<div class=\"play\" id=\"play-%s\" data-panel=\"%s\">\n<p class=\"play-try\">", kind, kind);
    put_text(b, try_this ? try_this : "");
    ol_sb_puts(b, "</p>\n<p class=\"play-off\">This panel runs optlab's own C code, compiled to WebAssembly, in the "
                  "page: it needs JavaScript, which is off or blocked here. The figures and tables around it need "
                  "none.</p>\n</div>\n");
    return check(r);
}

int ol_report_set_data(ol_report *r, const char *name, long n_train, long n_test, const void *gz, size_t gz_len,
                       size_t raw_len) {
    if (!name || !gz || !gz_len || n_train < 1 || n_test < 0)
        return ol_fail(OL_EARG, "report data: a name, at least one training image and the gzip bytes are needed");
    char *n = strdup(name);
    unsigned char *copy = malloc(gz_len);
    if (!n || !copy) {
        free(n);
        free(copy);
        return ol_fail(OL_ENOMEM, "out of memory putting the data into the report");
    }
    memcpy(copy, gz, gz_len);
    free(r->data.name);
    free(r->data.gz);
    r->data.name = n;
    r->data.gz = copy;
    r->data.gz_len = gz_len;
    r->data.raw_len = raw_len;
    r->data.n_train = n_train;
    r->data.n_test = n_test;
    return OL_OK;
}

/* The panels' code at the end of the body: the module (and the data they train on) as base64 text
 * in script elements the browser does not run, the page's script as a data: URL (base64: no '<' or
 * '&' in the page, which stays well-formed XML; a data: URL is no network request). */
static void put_play(ol_sbuf *b, const ol_report *r) {
    if (!r->n_panels || !has_module(r)) return;
    if (r->data.gz) {
        ol_sb_puts(b, "<script type=\"application/octet-stream\" id=\"optlab-data\" data-name=\"");
        ol_sb_esc(b, r->data.name);
        ol_sb_printf(b, "\" data-train=\"%ld\" data-test=\"%ld\" data-bytes=\"%zu\">", r->data.n_train,
                     r->data.n_test, r->data.raw_len);
        plot_base64(b, r->data.gz, r->data.gz_len);
        ol_sb_puts(b, "</script>\n");
    }
    ol_sb_puts(b, "<script type=\"application/wasm-base64\" id=\"optlab-wasm\">");
    plot_base64(b, (const unsigned char *)r->play->wasm, r->play->wasm_len);
    ol_sb_puts(b, "</script>\n<script src=\"data:text/javascript;base64,");
    plot_base64(b, (const unsigned char *)r->play->script, strlen(r->play->script));
    ol_sb_puts(b, "\"></script>\n");
}

/* No '<', '>' or '&' in here: the page stays well-formed XML. */
static const char CSS[] =
    ":root{color-scheme:light;--ink:#1f2328;--muted:#57606a;--line:#e4e7eb;--accent:#0072B2;"
    "--soft:#eef5fb}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\n"
    "body{margin:0;background:#f4f5f7;color:var(--ink);font:17px/1.6 system-ui,-apple-system,"
    "\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}\n"
    "main{max-width:880px;margin:0 auto;padding:28px 28px 56px;background:#fff;min-height:100vh}\n"
    "h1{font-size:2rem;line-height:1.2;margin:.2em 0 .4em;letter-spacing:-.01em}\n"
    "h2{font-size:1.45rem;line-height:1.3;margin:2.2em 0 .6em;padding-bottom:.3em;"
    "border-bottom:2px solid var(--line)}\n"
    "h3{font-size:1.15rem;margin:1.7em 0 .4em}\n"
    "p{margin:.6em 0}\n"
    "a{color:var(--accent)}\n"
    "section{scroll-margin-top:12px}\n"
    "nav.toc{margin:1.2em 0 1.6em}\n"
    "nav.toc h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.08em;color:var(--muted);"
    "border:0;margin:0 0 .5em;padding:0}\n"
    "nav.toc ol{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:8px;"
    "counter-reset:toc}\n"
    "nav.toc li{counter-increment:toc}\n"
    "nav.toc a{display:block;padding:.35em .8em;border:1px solid var(--line);border-radius:999px;"
    "text-decoration:none;color:var(--ink);font-size:.92rem;background:#fafbfc}\n"
    "nav.toc a:hover{border-color:var(--accent);color:var(--accent)}\n"
    ".summary{background:var(--soft);border-radius:12px;padding:1em 1.3em 1em;margin:1.2em 0}\n"
    ".summary h2{margin:0 0 .4em;border:0;padding:0;font-size:1.2rem}\n"
    ".summary ol{margin:0;padding-left:1.3em}\n"
    ".summary li{margin:.45em 0}\n"
    ".summary li a{font-size:.88rem;white-space:nowrap;margin-left:.3em}\n"
    ".settings h2{font-size:1.2rem;margin:1.4em 0 .4em;border:0;padding:0}\n"
    ".takeaway{border-left:5px solid var(--accent);background:var(--soft);border-radius:0 10px 10px 0;"
    "padding:.7em 1.1em;margin:1.2em 0}\n"
    ".takeaway .label{display:block;font-size:.75rem;font-weight:700;text-transform:uppercase;"
    "letter-spacing:.08em;color:var(--accent)}\n"
    ".takeaway p{margin:.2em 0;font-weight:500}\n"
    "figure{margin:1.6em 0;padding:12px 12px 10px;border:1px solid var(--line);border-radius:12px;"
    "background:#fff}\n"
    "figure svg{display:block;width:100%;height:auto;max-width:700px;margin:0 auto}\n"
    ".fig-narrow{display:none}\n"
    "figcaption{font-size:.93rem;line-height:1.5;color:#3d444d;max-width:700px;margin:.6em auto 0}\n"
    ".fignum{font-weight:700;color:var(--ink)}\n"
    ".data{white-space:nowrap;color:var(--muted)}\n"
    ".table-wrap{overflow-x:auto;margin:1em 0}\n"
    "table{border-collapse:collapse;width:100%;font-size:.95rem}\n"
    "table.data{width:auto;min-width:50%}\n"
    "th.num{text-align:right}\n"
    "th,td{padding:.4em .75em;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}\n"
    "thead th{border-bottom:2px solid #cfd4da;font-weight:600;white-space:nowrap}\n"
    "table.kv th{font-weight:500;color:var(--muted);width:34%}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "pre{background:#f3f4f6;padding:.8em 1em;border-radius:8px;overflow-x:auto;font-size:.86rem;"
    "line-height:1.45}\n"
    "footer{margin-top:3em;padding-top:1em;border-top:1px solid var(--line);color:var(--muted);"
    "font-size:.85rem}\n"
    "@media (max-width:600px){.fig-wide{display:none}.fig-narrow{display:block}}\n"
    "@media (max-width:640px){body{font-size:16px}main{padding:16px 14px 40px}"
    "h1{font-size:1.55rem}h2{font-size:1.25rem}"
    "figure{padding:6px 2px;margin-left:-6px;margin-right:-6px;border-radius:8px}"
    "figcaption{padding:0 6px}table.kv th{width:auto}}\n"
    "@media print{body{background:#fff}main{max-width:none;padding:0}figure{break-inside:avoid}"
    "nav.toc{display:none}}\n";

int ol_report_html(const ol_report *r, char **html, size_t *len) {
    *html = NULL;
    if (len) *len = 0;
    ol_sbuf b = {0};
    ol_sb_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>");
    ol_sb_esc(&b, r->title);
    ol_sb_puts(&b, "</title>\n");
    if (r->n_panels && has_module(r)) /* no favicon request either: the page asks nothing of the network */
        ol_sb_puts(&b, "<link rel=\"icon\" href=\"data:,\"/>\n");
    ol_sb_puts(&b, "<style>\n");
    ol_sb_puts(&b, CSS);
    if (r->n_panels && has_module(r) && r->play->style) {
        if (strpbrk(r->play->style, "<>&")) {
            free(b.p);
            return ol_fail(OL_EARG, "the panels' style holds '<', '>' or '&': the page would not be well-formed XML");
        }
        ol_sb_puts(&b, r->play->style);
    }
    ol_sb_puts(&b, "</style>\n</head>\n<body>\n<main>\n<header>\n<h1>");
    ol_sb_esc(&b, r->title);
    ol_sb_puts(&b, "</h1>\n");
    if (r->intro.len) ol_sb_put(&b, r->intro.p, r->intro.len);
    if (r->kv_open && !r->n_sections) ol_sb_puts(&b, "</tbody></table></div>\n");
    ol_sb_puts(&b, "</header>\n");
    if (r->n_sections) {
        ol_sb_puts(&b, "<nav class=\"toc\" id=\"contents\" aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n");
        for (int i = 0; i < r->n_sections; i++) {
            ol_sb_puts(&b, "<li>");
            put_link(&b, r->sections[i].slug, r->sections[i].title, "");
            ol_sb_puts(&b, "</li>\n");
        }
        ol_sb_puts(&b, "</ol>\n</nav>\n");
    }
    if (r->n_takeaways) {
        ol_sb_puts(&b, "<section class=\"summary\" id=\"takeaways\">\n<h2>Takeaways</h2>\n<ol>\n");
        for (int i = 0; i < r->n_takeaways; i++) {
            ol_sb_puts(&b, "<li>");
            ol_sb_esc(&b, r->takeaways[i].text);
            int s = r->takeaways[i].section;
            if (s >= 0) {
                ol_sb_puts(&b, " ");
                put_link(&b, r->sections[s].slug, r->sections[s].title, " \xe2\x86\x92");
            }
            ol_sb_puts(&b, "</li>\n");
        }
        ol_sb_puts(&b, "</ol>\n</section>\n");
    }
    if (r->settings.len) {
        ol_sb_puts(&b, "<section class=\"settings\" id=\"settings\">\n<h2>Settings of this run</h2>\n"
                    "<div class=\"table-wrap\"><table class=\"kv\"><tbody>\n");
        ol_sb_put(&b, r->settings.p, r->settings.len);
        ol_sb_puts(&b, "</tbody></table></div>\n</section>\n");
    }
    if (r->body.len) ol_sb_put(&b, r->body.p, r->body.len);
    if (r->kv_open && r->n_sections) ol_sb_puts(&b, "</tbody></table></div>\n");
    if (r->n_sections) ol_sb_puts(&b, "</section>\n");
    int scripts = r->n_panels && has_module(r);
    ol_sb_printf(&b, "<footer>%d figure%s. Each figure's numbers are in the CSV file linked under it. "
                  "This page is one file: %s, no network.</footer>\n",
              r->n_figures, r->n_figures == 1 ? "" : "s",
              scripts ? "its panels run in the page (optlab compiled to WebAssembly)" : "no scripts");
    ol_sb_puts(&b, "</main>\n");
    put_play(&b, r);
    ol_sb_puts(&b, "</body>\n</html>\n");
    if (b.oom) {
        free(b.p);
        return ol_fail(OL_ENOMEM, "out of memory writing the report");
    }
    *html = b.p;
    if (len) *len = b.len;
    return OL_OK;
}

int ol_report_write(const ol_report *r, const char *path) {
    char *html;
    size_t len;
    int rc = ol_report_html(r, &html, &len);
    if (rc) return rc;
    rc = ol_write_file_atomic(path, html, len);
    free(html);
    return rc;
}
