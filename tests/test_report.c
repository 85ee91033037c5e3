/* test_report.c: the report module as a specification: CSV files that round-trip and appear
 * atomically, SVG figures that are well-formed XML with the right ticks, gaps and iso-lines, and an
 * HTML report that holds everything escaped. The XML checker below is small and strict; xmllint,
 * when installed, checks the same documents once more. */
#include "test.h"
#include "optlab/common.h"
#include "optlab/csv.h"
#include "optlab/plot.h"
#include "optlab/report.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---- */

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* 1 if dir holds any entry whose name starts with prefix (a leftover temporary). */
static int dir_has_prefix(const char *dir, const char *prefix) {
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd, "ls -a '%s'", dir);
    ol_test_run(cmd, out, sizeof out);
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
        if (!strncmp(line, prefix, strlen(prefix))) return 1;
    return 0;
}

static size_t count_of(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* A strict XML well-formedness check: one root element, balanced and properly nested tags,
 * quoted attributes without '<' and unique per element, only the five predefined entities and
 * character references, no stray '<' or '&' in text. Allows a leading <?xml?>, <!DOCTYPE> and
 * comments. Returns 0 if well-formed, else writes what and where into msg. */
static int is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':'; }
static int is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

static int check_entity(const char *s, size_t *adv) {
    static const char *const names[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (int i = 0; i < 5; i++)
        if (!strncmp(s, names[i], strlen(names[i]))) { *adv = strlen(names[i]); return 1; }
    if (s[1] == '#') {
        size_t k = 2;
        int hex = s[2] == 'x';
        if (hex) k++;
        size_t d0 = k;
        while ((hex ? strchr("0123456789abcdefABCDEF", s[k]) != NULL : (s[k] >= '0' && s[k] <= '9')) && s[k]) k++;
        if (k > d0 && s[k] == ';') { *adv = k + 1; return 1; }
    }
    return 0;
}

static int xml_check(const char *s, char *msg, size_t cap) {
    enum { MAX_DEPTH = 256 };
    char stack[MAX_DEPTH][64];
    int depth = 0, roots = 0;
    size_t i = 0, n = strlen(s);
#define XFAIL(...) do { snprintf(msg, cap, __VA_ARGS__); return 1; } while (0)
    if (!strncmp(s, "<?xml", 5)) {
        const char *e = strstr(s, "?>");
        if (!e) XFAIL("unterminated XML declaration");
        i = (size_t)(e - s) + 2;
    }
    while (i < n) {
        if (s[i] == '<') {
            if (!strncmp(s + i, "<!--", 4)) {
                const char *e = strstr(s + i + 4, "-->");
                if (!e) XFAIL("unterminated comment at %zu", i);
                i = (size_t)(e - s) + 3;
                continue;
            }
            if (!strncmp(s + i, "<!DOCTYPE", 9)) {
                if (roots || depth) XFAIL("DOCTYPE after the root at %zu", i);
                const char *e = strchr(s + i, '>');
                if (!e) XFAIL("unterminated DOCTYPE");
                i = (size_t)(e - s) + 1;
                continue;
            }
            int closing = s[i + 1] == '/';
            size_t k = i + 1 + (size_t)closing;
            if (!is_name_start(s[k])) XFAIL("bad tag name at %zu: %.20s", i, s + i);
            size_t name0 = k;
            while (is_name_char(s[k])) k++;
            char name[64];
            size_t nl = k - name0 < 63 ? k - name0 : 63;
            memcpy(name, s + name0, nl);
            name[nl] = 0;
            if (closing) {
                while (s[k] == ' ' || s[k] == '\n' || s[k] == '\t') k++;
                if (s[k] != '>') XFAIL("bad closing tag </%s at %zu", name, i);
                if (!depth) XFAIL("closing tag </%s> without an open element at %zu", name, i);
                if (strcmp(stack[depth - 1], name)) XFAIL("</%s> closes <%s> at %zu", name, stack[depth - 1], i);
                depth--;
                i = k + 1;
                continue;
            }
            if (!depth && roots) XFAIL("second root element <%s> at %zu", name, i);
            /* attributes */
            char attrs[64][64];
            int n_attrs = 0;
            for (;;) {
                int space = 0;
                while (s[k] == ' ' || s[k] == '\n' || s[k] == '\t' || s[k] == '\r') { k++; space = 1; }
                if (s[k] == '>' || (s[k] == '/' && s[k + 1] == '>')) break;
                if (!space) XFAIL("no space before an attribute in <%s at %zu", name, k);
                if (!is_name_start(s[k])) XFAIL("bad attribute in <%s at %zu: %.20s", name, k, s + k);
                size_t a0 = k;
                while (is_name_char(s[k])) k++;
                char an[64];
                size_t al = k - a0 < 63 ? k - a0 : 63;
                memcpy(an, s + a0, al);
                an[al] = 0;
                for (int a = 0; a < n_attrs; a++)
                    if (!strcmp(attrs[a], an)) XFAIL("duplicate attribute %s in <%s at %zu", an, name, k);
                if (n_attrs < 64) snprintf(attrs[n_attrs++], 64, "%s", an);
                if (s[k] != '=') XFAIL("attribute %s of <%s> has no value at %zu", an, name, k);
                k++;
                char q = s[k];
                if (q != '"' && q != '\'') XFAIL("unquoted attribute %s in <%s> at %zu", an, name, k);
                k++;
                while (s[k] && s[k] != q) {
                    if (s[k] == '<') XFAIL("'<' in attribute %s of <%s> at %zu", an, name, k);
                    if (s[k] == '&') {
                        size_t adv;
                        if (!check_entity(s + k, &adv)) XFAIL("bad entity in attribute %s at %zu: %.12s", an, k, s + k);
                        k += adv;
                        continue;
                    }
                    k++;
                }
                if (!s[k]) XFAIL("unterminated attribute %s of <%s>", an, name);
                k++;
            }
            if (s[k] == '/') {
                if (!depth) roots++;
                i = k + 2;
            } else {
                if (depth == MAX_DEPTH) XFAIL("nesting deeper than %d", MAX_DEPTH);
                snprintf(stack[depth++], 64, "%s", name);
                roots += depth == 1;
                i = k + 1;
            }
            continue;
        }
        if (s[i] == '&') {
            size_t adv;
            if (!check_entity(s + i, &adv)) XFAIL("bad entity in text at %zu: %.12s", i, s + i);
            i += adv;
            continue;
        }
        if (!depth && s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r')
            XFAIL("text outside the root element at %zu: %.20s", i, s + i);
        if (s[i] == '>' && depth == 0) XFAIL("stray '>' at %zu", i);
        i++;
    }
    if (depth) XFAIL("<%s> is not closed", stack[depth - 1]);
    if (roots != 1) XFAIL("%d root elements", roots);
#undef XFAIL
    return 0;
}

/* Optional second opinion: xmllint on the text, when it is installed. Returns 1 if it was run and
 * passed, 0 if not installed, -1 if it rejected the document (message in out). */
static int xmllint_check(const char *text, const char *name, char *out, size_t cap) {
    if (ol_test_run("command -v xmllint", out, cap) != 0) return 0;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", ol_test_tmpdir(), name);
    if (ol_write_file_atomic(path, text, strlen(text))) return -1;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
    return ol_test_run(cmd, out, cap) == 0 ? 1 : -1;
}

/* The checker itself must catch what it is for. */
TEST(xml_checker_rejects_malformed_documents) {
    char msg[256];
    CHECK(xml_check("<a><b x=\"1\"/>t &amp; u</a>", msg, sizeof msg) == 0);
    CHECK(xml_check("<a><b></a></b>", msg, sizeof msg) != 0);
    CHECK(xml_check("<a x=1/>", msg, sizeof msg) != 0);
    CHECK(xml_check("<a>x & y</a>", msg, sizeof msg) != 0);
    CHECK(xml_check("<a>x < y</a>", msg, sizeof msg) != 0);
    CHECK(xml_check("<a x=\"1\" x=\"2\"/>", msg, sizeof msg) != 0);
    CHECK(xml_check("<a/><b/>", msg, sizeof msg) != 0);
    CHECK(xml_check("<a>", msg, sizeof msg) != 0);
}

/* ---- CSV ---- */

TEST(csv_round_trips_numbers_to_9_significant_digits) {
    char path[512];
    snprintf(path, sizeof path, "%s/round.csv", ol_test_tmpdir());
    ol_csv *csv;
    CHECK_EQ_INT(ol_csv_open(&csv, path, "step,lr,f"), OL_OK);
    double rows[5][3] = {{0, 0.1, 1.0 / 3.0},
                         {1, 1e-7, 123456789.123},
                         {2, -2.718281828459045, 6.02214076e23},
                         {3, 3.4028234663852886e38, 1.17549435e-38},
                         {4, (float)0.1, -0.0}};
    for (int r = 0; r < 5; r++) CHECK_EQ_INT(ol_csv_row(csv, rows[r], 3), OL_OK);
    CHECK_EQ_INT(ol_csv_close(csv), OL_OK);
    ol_csv_table t;
    CHECK_EQ_INT(ol_csv_read(path, &t), OL_OK);
    CHECK_EQ_INT(t.n_cols, 3);
    CHECK_EQ_INT(t.n_rows, 5);
    CHECK(!strcmp(t.names[0], "step") && !strcmp(t.names[2], "f"));
    CHECK_EQ_INT(ol_csv_column(&t, "lr"), 1);
    CHECK_EQ_INT(ol_csv_column(&t, "nope"), -1);
    for (int r = 0; r < 5; r++)
        for (int c = 0; c < 3; c++) {
            double want = rows[r][c], got = t.values[r * 3 + c];
            CHECK_MSG(fabs(got - want) <= 5e-9 * fabs(want), "row %d col %d: %.17g read back as %.17g", r, c, want, got);
        }
    /* a float32 survives exactly */
    CHECK((float)t.values[4 * 3 + 1] == (float)0.1);
    ol_csv_table_free(&t);
}

TEST(csv_writes_nan_and_inf_as_words_and_reads_them_back) {
    char path[512], buf[256];
    snprintf(path, sizeof path, "%s/nonfinite.csv", ol_test_tmpdir());
    ol_csv *csv;
    CHECK_EQ_INT(ol_csv_open(&csv, path, "a,b,c"), OL_OK);
    double row[3] = {NAN, INFINITY, -INFINITY};
    CHECK_EQ_INT(ol_csv_row(csv, row, 3), OL_OK);
    CHECK_EQ_INT(ol_csv_close(csv), OL_OK);
    FILE *f = fopen(path, "r");
    CHECK(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    CHECK_MSG(!strcmp(buf, "a,b,c\nnan,inf,-inf\n"), "file is '%s'", buf);
    ol_csv_table t;
    CHECK_EQ_INT(ol_csv_read(path, &t), OL_OK);
    CHECK(isnan(t.values[0]) && t.values[1] == INFINITY && t.values[2] == -INFINITY);
    ol_csv_table_free(&t);
}

TEST(csv_quotes_text_cells_and_mixes_them_with_numbers) {
    char path[512], buf[256];
    snprintf(path, sizeof path, "%s/mixed.csv", ol_test_tmpdir());
    ol_csv *csv;
    CHECK_EQ_INT(ol_csv_open(&csv, path, "optimizer,seed,loss"), OL_OK);
    CHECK_EQ_INT(ol_csv_str(csv, "adam:beta1=0.9,beta2=0.99"), OL_OK);
    CHECK_EQ_INT(ol_csv_int(csv, 12345678901LL), OL_OK);
    CHECK_EQ_INT(ol_csv_num(csv, 0.25), OL_OK);
    CHECK_EQ_INT(ol_csv_end_row(csv), OL_OK);
    CHECK_EQ_INT(ol_csv_str(csv, "say \"hi\""), OL_OK);
    CHECK_EQ_INT(ol_csv_int(csv, 2), OL_OK);
    CHECK_EQ_INT(ol_csv_num(csv, 1.5), OL_OK);
    CHECK_EQ_INT(ol_csv_end_row(csv), OL_OK);
    CHECK_EQ_INT(ol_csv_close(csv), OL_OK);
    FILE *f = fopen(path, "r");
    CHECK(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    CHECK_MSG(!strcmp(buf, "optimizer,seed,loss\n\"adam:beta1=0.9,beta2=0.99\",12345678901,0.25\n"
                           "\"say \"\"hi\"\"\",2,1.5\n"), "file is '%s'", buf);
    ol_csv_table t;
    CHECK_EQ_INT(ol_csv_read(path, &t), OL_OK);
    CHECK_EQ_INT(t.n_rows, 2);
    CHECK(isnan(t.values[0]));          /* text reads as NaN */
    CHECK_NEAR(t.values[1], 12345678901.0, 0);
    CHECK_NEAR(t.values[5], 1.5, 0);
    ol_csv_table_free(&t);
}

TEST(csv_appears_under_its_name_only_when_closed) {
    char path[512];
    snprintf(path, sizeof path, "%s/late.csv", ol_test_tmpdir());
    ol_csv *csv;
    CHECK_EQ_INT(ol_csv_open(&csv, path, "x"), OL_OK);
    double v = 1;
    CHECK_EQ_INT(ol_csv_row(csv, &v, 1), OL_OK);
    CHECK(!file_exists(path));
    CHECK_EQ_INT(ol_csv_close(csv), OL_OK);
    CHECK(file_exists(path));
    CHECK(!dir_has_prefix(ol_test_tmpdir(), "late.csv.tmp"));
}

TEST(csv_abort_leaves_no_file) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/abort", ol_test_tmpdir());
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/gone.csv", dir);
    ol_csv *csv;
    CHECK_EQ_INT(ol_csv_open(&csv, path, "x,y"), OL_OK);
    double row[2] = {1, 2};
    CHECK_EQ_INT(ol_csv_row(csv, row, 2), OL_OK);
    ol_csv_abort(csv);
    CHECK(!file_exists(path));
    CHECK_MSG(!dir_has_prefix(dir, "gone"), "a temporary file was left in %s", dir);
}

TEST(csv_into_missing_directory_fails_with_a_message_naming_the_path) {
    char path[512];
    snprintf(path, sizeof path, "%s/no/such/dir/x.csv", ol_test_tmpdir());
    ol_csv *csv = (ol_csv *)1;
    int rc = ol_csv_open(&csv, path, "x");
    CHECK_EQ_INT(rc, OL_EIO);
    CHECK(csv == NULL);
    CHECK_MSG(strstr(ol_error(), path) != NULL, "message: %s", ol_error());
    CHECK_MSG(strstr(ol_error(), "No such file") != NULL, "message: %s", ol_error());
    CHECK(!file_exists(path));
}

TEST(csv_row_of_the_wrong_width_fails_and_close_then_writes_nothing) {
    char path[512];
    snprintf(path, sizeof path, "%s/wide.csv", ol_test_tmpdir());
    ol_csv *csv;
    CHECK_EQ_INT(ol_csv_open(&csv, path, "a,b"), OL_OK);
    double row[3] = {1, 2, 3};
    CHECK_EQ_INT(ol_csv_row(csv, row, 3), OL_EARG);
    CHECK(strstr(ol_error(), "3 numbers for 2 columns") != NULL);
    CHECK_EQ_INT(ol_csv_row(csv, row, 2), OL_EARG); /* the error sticks */
    CHECK(ol_csv_close(csv) != OL_OK);
    CHECK(!file_exists(path));
}

TEST(csv_close_in_the_middle_of_a_row_fails) {
    char path[512];
    snprintf(path, sizeof path, "%s/half.csv", ol_test_tmpdir());
    ol_csv *csv;
    CHECK_EQ_INT(ol_csv_open(&csv, path, "a,b"), OL_OK);
    CHECK_EQ_INT(ol_csv_num(csv, 1), OL_OK);
    CHECK_EQ_INT(ol_csv_close(csv), OL_ESTATE);
    CHECK(!file_exists(path));
}

TEST(csv_reader_rejects_rows_with_extra_cells) {
    char path[512];
    snprintf(path, sizeof path, "%s/bad.csv", ol_test_tmpdir());
    const char *text = "a,b\n1,2\n3,4,5\n";
    CHECK_EQ_INT(ol_write_file_atomic(path, text, strlen(text)), OL_OK);
    ol_csv_table t;
    CHECK_EQ_INT(ol_csv_read(path, &t), OL_EFORMAT);
    CHECK(strstr(ol_error(), "line 3") != NULL);
    CHECK(t.values == NULL && t.names == NULL);
}

/* ---- SVG ---- */

static char *svg_of(const ol_plot *p) {
    char *svg = NULL;
    size_t len;
    if (ol_plot_svg(p, &svg, &len) != OL_OK) return NULL;
    if (strlen(svg) != len) { free(svg); return NULL; }
    return svg;
}

static ol_plot *loss_plot(void) {
    ol_plot *p = ol_plot_new("Loss & accuracy <per epoch>", "epoch (1 = one pass)", "loss (nats) & \"acc\"");
    double x[20], a[20], b[20];
    for (int i = 0; i < 20; i++) { x[i] = i; a[i] = 2.3 * exp(-0.2 * i) + 0.1; b[i] = 2.3 * exp(-0.1 * i) + 0.2; }
    ol_plot_line(p, "SGD <lr=0.1>", x, a, 20);
    ol_plot_line(p, "Adam & friends", x, b, 20);
    return p;
}

TEST(plot_svg_is_well_formed_xml_with_a_viewbox) {
    ol_plot *p = loss_plot();
    char *svg = svg_of(p);
    CHECK(svg);
    char msg[256];
    int bad = xml_check(svg, msg, sizeof msg);
    CHECK_MSG(!bad, "%s", msg);
    CHECK(!strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 560 380\"", 59));
    CHECK(!strstr(svg, "<script"));
    CHECK_MSG(!strstr(svg, "href=\"http"), "no external resources");
    free(svg);
    ol_plot_free(p);
}

TEST(plot_svg_contains_the_escaped_title_axis_labels_and_legend) {
    ol_plot *p = loss_plot();
    char *svg = svg_of(p);
    CHECK(svg);
    CHECK(strstr(svg, "Loss &amp; accuracy &lt;per epoch&gt;"));
    CHECK(strstr(svg, ">epoch (1 = one pass)</text>"));
    CHECK(strstr(svg, ">loss (nats) &amp; &quot;acc&quot;</text>"));
    CHECK(strstr(svg, "class=\"legend\""));
    CHECK(strstr(svg, ">SGD &lt;lr=0.1&gt;</text>"));
    CHECK(strstr(svg, ">Adam &amp; friends</text>"));
    free(svg);
    ol_plot_free(p);
}

TEST(plot_with_one_series_has_no_legend) {
    ol_plot *p = ol_plot_new("one", "x", "y");
    double x[3] = {0, 1, 2}, y[3] = {1, 2, 3};
    ol_plot_line(p, "only", x, y, 3);
    char *svg = svg_of(p);
    CHECK(svg);
    CHECK(!strstr(svg, "class=\"legend\""));
    free(svg);
    ol_plot_free(p);
}

/* The labels of the tick group named cls ("tick-x"), in order. */
static int tick_labels(const char *svg, const char *cls, char labels[][48], double *pos, int cap) {
    char key[64];
    snprintf(key, sizeof key, "<g class=\"%s\"", cls);
    const char *g = strstr(svg, key);
    if (!g) return 0;
    const char *end = strstr(g, "</g>");
    int n = 0;
    for (const char *t = strstr(g, "<text"); t && t < end && n < cap; t = strstr(t + 1, "<text")) {
        const char *attr = strstr(t, strcmp(cls, "tick-x") ? " y=\"" : " x=\"");
        pos[n] = atof(attr + 4);
        const char *gt = strchr(t, '>');
        const char *close = strstr(gt, "</text>");
        size_t l = (size_t)(close - gt - 1) < 47 ? (size_t)(close - gt - 1) : 47;
        memcpy(labels[n], gt + 1, l);
        labels[n][l] = 0;
        n++;
    }
    return n;
}

TEST(plot_log_axes_get_decade_ticks) {
    ol_plot *p = ol_plot_new("lr sweep", "learning rate", "final loss");
    ol_plot_log_x(p, 1);
    ol_plot_log_y(p, 1);
    double x[7] = {1e-4, 1e-3, 1e-2, 1e-1, 1, 3, 10}, y[7] = {2, 1.5, 0.4, 0.05, 0.3, 40, 900};
    ol_plot_line(p, "loss", x, y, 7);
    char *svg = svg_of(p);
    CHECK(svg);
    char labels[64][48];
    double pos[64];
    int n = tick_labels(svg, "tick-x", labels, pos, 64);
    CHECK_MSG(n >= 3, "%d x tick labels", n);
    /* every x label is a power of ten: 10 followed by a superscript exponent */
    for (int i = 0; i < n; i++) CHECK_MSG(!strncmp(labels[i], "10", 2), "x label '%s'", labels[i]);
    CHECK(strstr(svg, ">10\xe2\x81\xbb\xc2\xb3</text>") || strstr(svg, ">10\xe2\x81\xbb\xe2\x81\xb4</text>"));
    /* decades are evenly spaced on a log axis */
    for (int i = 2; i < n; i++) CHECK_NEAR(pos[i] - pos[i - 1], pos[1] - pos[0], 0.02);
    /* y from 0.05 to 900: decades 0.01 .. 1000 written plainly */
    int ny = tick_labels(svg, "tick-y", labels, pos, 64);
    CHECK(ny >= 3);
    int found_001 = 0, found_1000 = 0;
    for (int i = 0; i < ny; i++) {
        found_001 |= !strcmp(labels[i], "0.01");
        found_1000 |= !strcmp(labels[i], "1000");
    }
    CHECK_MSG(found_001 && found_1000, "y labels from '%s' to '%s'", labels[0], labels[ny - 1]);
    free(svg);
    ol_plot_free(p);
}

TEST(plot_linear_axis_gets_1_2_5_ticks) {
    ol_plot *p = ol_plot_new("t", "x", "y");
    double x[2] = {0, 1000}, y[2] = {0.13, 0.87};
    ol_plot_line(p, NULL, x, y, 2);
    char *svg = svg_of(p);
    CHECK(svg);
    char labels[64][48];
    double pos[64];
    int n = tick_labels(svg, "tick-x", labels, pos, 64);
    CHECK(n >= 3);
    double step = atof(labels[1]) - atof(labels[0]);
    double mant = step / pow(10, floor(log10(step)));
    CHECK_MSG(fabs(mant - 1) < 1e-9 || fabs(mant - 2) < 1e-9 || fabs(mant - 5) < 1e-9, "x step %g", step);
    CHECK(!strcmp(labels[0], "0") && !strcmp(labels[n - 1], "1000"));
    free(svg);
    ol_plot_free(p);
}

TEST(plot_x_tick_labels_do_not_overlap_on_a_narrow_figure) {
    ol_plot *p = ol_plot_new("narrow", "parameters", "loss");
    ol_plot_size(p, 260, 200);
    double x[2] = {-123456.5, 987654.25}, y[2] = {1, 2};
    ol_plot_line(p, NULL, x, y, 2);
    char *svg = svg_of(p);
    CHECK(svg);
    char labels[64][48];
    double pos[64];
    int n = tick_labels(svg, "tick-x", labels, pos, 64);
    CHECK(n >= 2);
    for (int i = 1; i < n; i++) {
        /* generous width estimate: 0.62 em per byte-character at 12.5 px */
        double need = 0.62 * 12.5 * (strlen(labels[i - 1]) + strlen(labels[i])) / 2.0;
        CHECK_MSG(pos[i] - pos[i - 1] >= need * 0.8, "'%s' and '%s' %g px apart", labels[i - 1], labels[i], pos[i] - pos[i - 1]);
    }
    free(svg);
    ol_plot_free(p);
}

TEST(plot_skips_non_finite_points_and_keeps_the_rest) {
    ol_plot *p = ol_plot_new("diverged", "step", "loss");
    ol_plot_log_y(p, 1);
    double x[8] = {0, 1, 2, 3, 4, 5, 6, NAN}, y[8] = {1, 0.5, NAN, 0.2, INFINITY, 1e300, -1, 3};
    int s = ol_plot_line(p, "run", x, y, 8);
    CHECK(s >= 0);
    ol_plot_markers(p, s, 1);
    ol_plot_scatter(p, "pts", x, y, 8);
    double lo[8] = {0.5, 0.2, 0.1, NAN, 0.1, 0.1, 0.1, 0.1}, hi[8] = {2, 1, 1, 1, INFINITY, 1, 1, 1};
    ol_plot_band(p, NULL, x, lo, hi, 8);
    ol_plot_errorbars(p, "bars", x, y, lo, hi, 8);
    ol_plot_histogram(p, NULL, y, 8);
    ol_plot_y_range(p, 1e-2, 10);
    char *svg = svg_of(p);
    CHECK(svg);
    char msg[256];
    CHECK_MSG(!xml_check(svg, msg, sizeof msg), "%s", msg);
    CHECK(!strstr(svg, "nan") && !strstr(svg, "NaN") && !strstr(svg, "inf"));
    /* the run is drawn up to the gap and resumes after it */
    CHECK(strstr(svg, "stroke=\"#0072B2\" stroke-width=\"2\""));
    free(svg);
    ol_plot_free(p);
}

TEST(plot_autoscale_ignores_non_finite_values_of_a_diverged_run) {
    ol_plot *p = ol_plot_new("diverged", "step", "loss");
    double x[5] = {0, 1, 2, 3, 4}, y[5] = {2, 1, 0.5, INFINITY, NAN};
    ol_plot_line(p, NULL, x, y, 5);
    char *svg = svg_of(p);
    CHECK(svg);
    char labels[64][48];
    double pos[64];
    int n = tick_labels(svg, "tick-y", labels, pos, 64);
    CHECK(n >= 2);
    CHECK_MSG(atof(labels[n - 1]) <= 2.5, "top y tick %s", labels[n - 1]);
    free(svg);
    ol_plot_free(p);
}

/* f(x, y) = x^2 + y^2 on [-1, 1]^2: its iso-lines are circles, closed inside the domain. */
TEST(plot_contour_of_a_bowl_has_closed_elliptic_isolines) {
    enum { N = 41 };
    double z[N * N];
    for (int j = 0; j < N; j++)
        for (int i = 0; i < N; i++) {
            double x = -1 + 2.0 * i / (N - 1), y = -1 + 2.0 * j / (N - 1);
            z[j * N + i] = x * x + y * y;
        }
    ol_plot *p = ol_plot_new("bowl", "x1", "x2");
    double levels[3] = {0.1, 0.3, 0.6};
    ol_plot_grid g = {.z = z, .nx = N, .ny = N, .x0 = -1, .x1 = 1, .y0 = -1, .y1 = 1,
                      .n_levels = 3, .levels = levels, .z_label = "f(x)"};
    CHECK_EQ_INT(ol_plot_heatmap(p, &g), OL_OK);
    char *svg = svg_of(p);
    CHECK(svg);
    char msg[256];
    CHECK_MSG(!xml_check(svg, msg, sizeof msg), "%s", msg);
    CHECK_EQ_INT(count_of(svg, "class=\"iso\""), 3);
    CHECK(strstr(svg, "data:image/png;base64,iVBORw0KGgo")); /* the PNG signature */
    double radius[3];
    for (int l = 0; l < 3; l++) {
        char key[64];
        snprintf(key, sizeof key, "data-level=\"%g\"", levels[l]);
        const char *path = strstr(svg, key);
        CHECK_MSG(path, "no iso-line at %g", levels[l]);
        const char *d = strstr(path, " d=\"") + 4;
        const char *e = strchr(d, '"');
        CHECK_MSG(e[-1] == 'Z' && count_of(d, "M") >= 1, "level %g is not one closed line", levels[l]);
        /* parse the points; they must lie on an axis-aligned ellipse */
        double px[2000], py[2000];
        int n = 0;
        for (const char *c = d; c < e && n < 2000;) {
            if (*c == 'M' || *c == 'L' || *c == ' ') { c++; continue; }
            if (*c == 'Z') break;
            char *end;
            px[n] = strtod(c, &end);
            CHECK(*end == ',');
            py[n] = strtod(end + 1, &end);
            c = end;
            n++;
        }
        CHECK_MSG(n >= 16, "level %g has %d points", levels[l], n);
        double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
        for (int k = 0; k < n; k++) {
            x0 = fmin(x0, px[k]); x1 = fmax(x1, px[k]);
            y0 = fmin(y0, py[k]); y1 = fmax(y1, py[k]);
        }
        double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, rx = (x1 - x0) / 2, ry = (y1 - y0) / 2;
        for (int k = 0; k < n; k++) {
            double q = pow((px[k] - cx) / rx, 2) + pow((py[k] - cy) / ry, 2);
            CHECK_MSG(fabs(q - 1) < 0.06, "level %g point %d off the ellipse (%g)", levels[l], k, q);
        }
        radius[l] = rx;
    }
    /* radii grow as sqrt(level) */
    CHECK_NEAR(radius[1] / radius[0], sqrt(3.0), 0.03);
    CHECK_NEAR(radius[2] / radius[0], sqrt(6.0), 0.03);
    free(svg);
    ol_plot_free(p);
}

TEST(plot_contour_with_log_levels_uses_decades_and_draws_paths_over_it) {
    enum { N = 60 };
    static double z[N * N];
    for (int j = 0; j < N; j++)
        for (int i = 0; i < N; i++) {
            double x = -2 + 4.0 * i / (N - 1), y = -1 + 4.0 * j / (N - 1);
            z[j * N + i] = 100 * pow(y - x * x, 2) + pow(1 - x, 2); /* rosenbrock */
        }
    ol_plot *p = ol_plot_new("Rosenbrock", "x0", "x1");
    ol_plot_grid g = {.z = z, .nx = N, .ny = N, .x0 = -2, .x1 = 2, .y0 = -1, .y1 = 3, .log_scale = 1, .z_label = "f"};
    CHECK_EQ_INT(ol_plot_heatmap(p, &g), OL_OK);
    double px[4] = {-1.5, -1, 0, 1}, py[4] = {2, 1, 0.2, 1};
    CHECK(ol_plot_path(p, "GD", px, py, 4) >= 0);
    char *svg = svg_of(p);
    CHECK(svg);
    char msg[256];
    CHECK_MSG(!xml_check(svg, msg, sizeof msg), "%s", msg);
    CHECK(strstr(svg, "data-level=\"1\""));
    CHECK(strstr(svg, "data-level=\"100\""));
    CHECK(count_of(svg, "class=\"iso\"") >= 5);
    /* the path comes after the heat map, with start and end markers */
    CHECK(strstr(svg, "<image") < strstr(svg, "stroke=\"#0072B2\" stroke-width=\"2\""));
    CHECK(count_of(svg, "<circle") >= 2);
    CHECK(strstr(svg, ">start</text>") && strstr(svg, ">end</text>"));
    free(svg);
    ol_plot_free(p);
}

TEST(plot_heatmap_rejects_log_axes_and_bad_grids) {
    double z[4] = {1, 2, 3, 4};
    ol_plot *p = ol_plot_new("t", "x", "y");
    ol_plot_grid g = {.z = z, .nx = 1, .ny = 4, .x0 = 0, .x1 = 1, .y0 = 0, .y1 = 1};
    CHECK_EQ_INT(ol_plot_heatmap(p, &g), OL_EARG);
    g.nx = 2; g.ny = 2; g.x1 = 0;
    CHECK_EQ_INT(ol_plot_heatmap(p, &g), OL_EARG);
    g.x1 = 1;
    CHECK_EQ_INT(ol_plot_heatmap(p, &g), OL_OK);
    ol_plot_log_x(p, 1);
    char *svg = NULL;
    CHECK_EQ_INT(ol_plot_svg(p, &svg, NULL), OL_EARG);
    CHECK(svg == NULL && strstr(ol_error(), "linear axes"));
    ol_plot_free(p);
}

TEST(plot_same_input_gives_byte_identical_output) {
    char *a = NULL, *b = NULL;
    for (int k = 0; k < 2; k++) {
        ol_plot *p = loss_plot();
        double v[50];
        for (int i = 0; i < 50; i++) v[i] = sin(i * 1.7) + 0.01 * i;
        ol_plot_histogram(p, "h", v, 50);
        ol_plot_hline(p, 0.5, "target");
        ol_plot_point(p, 3, 1.2, "here");
        char *s = svg_of(p);
        if (k == 0) a = s; else b = s;
        ol_plot_free(p);
    }
    CHECK(a && b);
    CHECK(strlen(a) == strlen(b) && !strcmp(a, b));
    free(a);
    free(b);
}

TEST(plot_ids_differ_between_different_plots) {
    ol_plot *p = loss_plot(), *q = loss_plot();
    double x = 5, y = 1;
    ol_plot_scatter(q, "extra", &x, &y, 1);
    char *a = svg_of(p), *b = svg_of(q);
    CHECK(a && b);
    const char *ia = strstr(a, "clipPath id=\""), *ib = strstr(b, "clipPath id=\"");
    CHECK(ia && ib && strncmp(ia, ib, 30) != 0);
    free(a);
    free(b);
    ol_plot_free(p);
    ol_plot_free(q);
}

TEST(plot_rejects_an_empty_axis_range) {
    ol_plot *p = loss_plot();
    ol_plot_x_range(p, 5, 5);
    char *svg = NULL;
    CHECK_EQ_INT(ol_plot_svg(p, &svg, NULL), OL_EARG);
    CHECK(strstr(ol_error(), "x axis range"));
    ol_plot_x_range(p, NAN, NAN);
    ol_plot_log_y(p, 1);
    ol_plot_y_range(p, -1, 10);
    CHECK_EQ_INT(ol_plot_svg(p, &svg, NULL), OL_EARG);
    CHECK(strstr(ol_error(), "positive"));
    ol_plot_free(p);
}

TEST(plot_of_every_kind_is_well_formed) {
    ol_plot *p = ol_plot_new("every kind", "width (hidden units)", "final loss");
    ol_plot_log_x(p, 1);
    double x[6] = {2, 8, 32, 128, 512, 2048}, y[6] = {0.9, 0.5, 0.3, 0.2, 0.15, 0.14};
    double lo[6], hi[6];
    for (int i = 0; i < 6; i++) { lo[i] = y[i] * 0.7; hi[i] = y[i] * 1.4; }
    int b = ol_plot_band(p, NULL, x, lo, hi, 6);
    int l = ol_plot_line(p, "median", x, y, 6);
    CHECK_EQ_INT(ol_plot_color(p, b, 0), OL_OK);
    CHECK_EQ_INT(ol_plot_dashed(p, l, 2), OL_OK);
    CHECK_EQ_INT(ol_plot_color(p, 99, 0), OL_EARG);
    ol_plot_errorbars(p, "min/max", x, y, lo, hi, 6);
    ol_plot_vline(p, 100, "params = examples");
    ol_plot_hline(p, 0.2, NULL);
    ol_plot_point(p, 512, 0.15, "best");
    char *svg = svg_of(p);
    CHECK(svg);
    char msg[256];
    CHECK_MSG(!xml_check(svg, msg, sizeof msg), "%s", msg);
    CHECK(strstr(svg, "stroke-dasharray=\"2 3\""));
    CHECK(strstr(svg, ">params = examples</text>") && strstr(svg, ">best</text>"));
    char out[2048];
    int lint = xmllint_check(svg, "kinds.svg", out, sizeof out);
    CHECK_MSG(lint >= 0, "xmllint: %s", out);
    free(svg);
    ol_plot_free(p);
}

TEST(plot_write_puts_the_svg_in_a_file_and_fails_cleanly_in_a_missing_directory) {
    ol_plot *p = loss_plot();
    char path[512];
    snprintf(path, sizeof path, "%s/fig.svg", ol_test_tmpdir());
    CHECK_EQ_INT(ol_plot_write(p, path), OL_OK);
    unsigned char *data;
    size_t len;
    CHECK_EQ_INT(ol_read_file(path, 1 << 24, &data, &len), OL_OK);
    char *svg = svg_of(p);
    CHECK(svg && len == strlen(svg) && !memcmp(data, svg, len));
    free(data);
    free(svg);
    snprintf(path, sizeof path, "%s/report-no-such-dir/fig.svg", ol_test_tmpdir());
    CHECK_EQ_INT(ol_plot_write(p, path), OL_EIO);
    CHECK(strstr(ol_error(), "report-no-such-dir/fig.svg"));
    CHECK(!file_exists(path));
    ol_plot_free(p);
}

/* ---- HTML ---- */

static ol_report *sample_report(void) {
    ol_report *r = ol_report_new("Lecture <5> & \"friends\"");
    ol_report_paragraph(r, "Five challenges of training, %d labs.", 5);
    ol_report_setting(r, "seed", "%d", 42);
    ol_report_setting(r, "data", "%s", "fashion-mnist <60k>");
    ol_report_section(r, "Conditioning & momentum");
    ol_report_takeaway(r, "Momentum needed %d iterations, GD %d (kappa = %d).", 120, 1400, 1000);
    ol_plot *p = loss_plot();
    ol_report_plot(r, p, "conditioning.csv", "GD zig-zags; momentum <does not>.");
    ol_report_kv(r, "best lr", "%.3g", 0.01);
    ol_report_kv(r, "best beta", "%.2f", 0.9);
    ol_report_section(r, "Mini-batch SGD");
    char *svg = svg_of(p);
    ol_report_figure(r, svg, NULL, "Loss against time.");
    free(svg);
    const char *hdr[3] = {"batch", "time (s)", "loss"};
    const char *cells[6] = {"1", "2.5 s", "0.41", "full", "9.1 s", "0.38"};
    ol_report_table(r, 3, hdr, 2, cells);
    ol_report_pre(r, "optlab lab minibatch --quick < in > out");
    ol_report_section(r, "Conditioning & momentum"); /* a second section of the same name */
    ol_plot_free(p);
    return r;
}

TEST(report_html_holds_the_escaped_title_every_figure_and_the_contents) {
    ol_report *r = sample_report();
    char *html;
    size_t len;
    CHECK_EQ_INT(ol_report_html(r, &html, &len), OL_OK);
    CHECK(strlen(html) == len);
    CHECK(strstr(html, "<title>Lecture &lt;5&gt; &amp; &quot;friends&quot;</title>"));
    CHECK(strstr(html, "<h1>Lecture &lt;5&gt; &amp; &quot;friends&quot;</h1>"));
    CHECK_EQ_INT(count_of(html, "<figure id=\"fig-"), 2);
    /* the plot twice (wide and phone layouts), the raw SVG once */
    CHECK_EQ_INT(count_of(html, "<svg xmlns"), 3);
    CHECK(strstr(html, "<div class=\"fig-narrow\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 380 "));
    CHECK(strstr(html, "<figure id=\"fig-1\">") && strstr(html, "<figure id=\"fig-2\">"));
    CHECK(strstr(html, "Figure 1.</span> GD zig-zags; momentum &lt;does not&gt;."));
    CHECK(strstr(html, "<a href=\"conditioning.csv\">conditioning.csv</a>"));
    /* contents: one link per section, anchors unique */
    CHECK(strstr(html, "<nav class=\"toc\""));
    CHECK(strstr(html, "<a href=\"#conditioning-momentum\">Conditioning &amp; momentum</a>"));
    CHECK(strstr(html, "<a href=\"#mini-batch-sgd\">Mini-batch SGD</a>"));
    CHECK(strstr(html, "<a href=\"#conditioning-momentum-2\">"));
    CHECK(strstr(html, "<section id=\"conditioning-momentum\">") && strstr(html, "<section id=\"mini-batch-sgd\">"));
    CHECK(strstr(html, "<section id=\"conditioning-momentum-2\">"));
    /* settings, tables, pre */
    CHECK(strstr(html, "<th scope=\"row\">data</th><td>fashion-mnist &lt;60k&gt;</td>"));
    CHECK(strstr(html, "<td class=\"num\">2.5 s</td>") && strstr(html, "<td>full</td>"));
    CHECK(strstr(html, "<pre>optlab lab minibatch --quick &lt; in &gt; out</pre>"));
    CHECK_EQ_INT(count_of(html, "<table class=\"kv\">"), 2); /* settings + the two kv rows in one */
    free(html);
    ol_report_free(r);
}

TEST(report_lists_takeaways_at_the_top_linked_to_their_section) {
    ol_report *r = sample_report();
    char *html;
    CHECK_EQ_INT(ol_report_html(r, &html, NULL), OL_OK);
    const char *top = strstr(html, "<section class=\"summary\" id=\"takeaways\">");
    const char *first_section = strstr(html, "<section id=");
    CHECK(top && first_section && top < first_section);
    CHECK(strstr(top, "<li>Momentum needed 120 iterations, GD 1400 (kappa = 1000). <a href=\"#conditioning-momentum\">"));
    CHECK(strstr(html, "<div class=\"takeaway\">"));
    const char *settings = strstr(html, "id=\"settings\"");
    CHECK(settings && settings < first_section);
    free(html);
    ol_report_free(r);
}

TEST(report_html_is_well_formed_xml_and_self_contained) {
    ol_report *r = sample_report();
    char *html;
    CHECK_EQ_INT(ol_report_html(r, &html, NULL), OL_OK);
    char msg[256];
    int bad = xml_check(html, msg, sizeof msg);
    CHECK_MSG(!bad, "%s", msg);
    CHECK(!strstr(html, "<script") && !strstr(html, "<link") && !strstr(html, "src=\"http") &&
          !strstr(html, "url(http") && !strstr(html, "@import"));
    CHECK(strstr(html, "name=\"viewport\""));
    CHECK(strstr(html, "figure svg{display:block;width:100%;height:auto"));
    char out[2048];
    int lint = xmllint_check(html, "report.xhtml", out, sizeof out);
    CHECK_MSG(lint >= 0, "xmllint: %s", out);
    free(html);
    ol_report_free(r);
}

TEST(report_write_is_atomic_and_fails_cleanly_in_a_missing_directory) {
    ol_report *r = sample_report();
    char path[512];
    snprintf(path, sizeof path, "%s/index.html", ol_test_tmpdir());
    CHECK_EQ_INT(ol_report_write(r, path), OL_OK);
    CHECK(file_exists(path));
    CHECK(!dir_has_prefix(ol_test_tmpdir(), "index.html.tmp"));
    snprintf(path, sizeof path, "%s/nowhere/index.html", ol_test_tmpdir());
    CHECK_EQ_INT(ol_report_write(r, path), OL_EIO);
    CHECK(strstr(ol_error(), "nowhere/index.html"));
    CHECK(!file_exists(path));
    ol_report_free(r);
}

TEST(report_is_byte_identical_for_the_same_calls) {
    ol_report *a = sample_report(), *b = sample_report();
    char *ha, *hb;
    CHECK_EQ_INT(ol_report_html(a, &ha, NULL), OL_OK);
    CHECK_EQ_INT(ol_report_html(b, &hb, NULL), OL_OK);
    CHECK(!strcmp(ha, hb));
    free(ha);
    free(hb);
    ol_report_free(a);
    ol_report_free(b);
}

TEST(report_figure_rejects_text_that_is_not_svg) {
    ol_report *r = ol_report_new("t");
    CHECK_EQ_INT(ol_report_figure(r, "<div>no</div>", NULL, "x"), OL_EARG);
    ol_report_free(r);
}

/* Odd data never breaks a figure: it renders valid XML without NaN or Inf in it. */
TEST(plot_degenerate_inputs_still_render_valid_svg) {
    double nan3[3] = {NAN, NAN, NAN}, x3[3] = {0, 1, 2}, same[3] = {5, 5, 5};
    double huge[3] = {-1e308, 0, 1e308}, neg[3] = {-1, -2, 0}, tiny[3] = {1e-300, 2e-300, 3e-300};
    double zc[4] = {1, 1, 1, 1}, zn[4] = {NAN, NAN, NAN, NAN}, big_pos[3] = {1e299, 1e300, 1e301};
    for (int k = 0; k < 14; k++) {
        ol_plot *p = ol_plot_new(k % 2 ? NULL : "odd", k % 3 ? NULL : "x", NULL);
        CHECK(p);
        switch (k) {
        case 0: break; /* empty */
        case 1: ol_plot_line(p, "no data", x3, nan3, 3); ol_plot_line(p, "also", nan3, x3, 3); break;
        case 2: ol_plot_line(p, NULL, x3, same, 3); break;
        case 3: ol_plot_line(p, NULL, huge, huge, 3); ol_plot_scatter(p, NULL, x3, huge, 3); break;
        case 4: ol_plot_log_y(p, 1); ol_plot_line(p, NULL, x3, neg, 3); break;
        case 5: ol_plot_histogram(p, "a", same, 3); ol_plot_histogram(p, "b", nan3, 3); break;
        case 6: {
            ol_plot_grid g = {.z = zc, .nx = 2, .ny = 2, .x0 = 0, .x1 = 1, .y0 = 0, .y1 = 1};
            CHECK_EQ_INT(ol_plot_heatmap(p, &g), OL_OK);
            break;
        }
        case 7: {
            ol_plot_grid g = {.z = zn, .nx = 2, .ny = 2, .x0 = 0, .x1 = 1, .y0 = 0, .y1 = 1, .log_scale = 1};
            CHECK_EQ_INT(ol_plot_heatmap(p, &g), OL_OK);
            ol_plot_path(p, "p", nan3, x3, 3);
            break;
        }
        case 8: ol_plot_log_x(p, 1); ol_plot_log_y(p, 1); ol_plot_line(p, NULL, tiny, tiny, 3); break;
        case 9: ol_plot_hline(p, 3, "only a line"); break;
        case 10: ol_plot_errorbars(p, "e", x3, same, nan3, huge, 3); ol_plot_band(p, "b", x3, neg, huge, 3); break;
        case 11: ol_plot_line(p, NULL, x3, x3, 0); ol_plot_point(p, 1, 1, "lonely & <odd>"); break;
        case 12: { /* a spread too small for doubles to tell apart */
            double big[3] = {1e16, 1e16 + 2, 1e16 + 4}, zb[4] = {1e17, 1e17 + 16, 1e17, 1e17 + 32};
            ol_plot_line(p, NULL, big, big, 3);
            ol_plot_histogram(p, NULL, big, 3);
            ol_plot_grid g = {.z = zb, .nx = 2, .ny = 2, .x0 = 0, .x1 = 1, .y0 = 0, .y1 = 1};
            CHECK_EQ_INT(ol_plot_heatmap(p, &g), OL_OK);
            ol_plot_x_range(p, NAN, NAN);
            break;
        }
        case 13: ol_plot_log_x(p, 1); ol_plot_line(p, NULL, big_pos, x3, 3); ol_plot_x_range(p, NAN, 1e300); break;
        }
        CHECK_EQ_INT(ol_plot_hline(p, NAN, "bad"), -OL_ENUMERIC);
        char *svg = svg_of(p);
        CHECK_MSG(svg, "case %d: %s", k, ol_error());
        char msg[256];
        CHECK_MSG(!xml_check(svg, msg, sizeof msg), "case %d: %s", k, msg);
        CHECK_MSG(!strstr(svg, "nan") && !strstr(svg, "inf"), "case %d has nan/inf", k);
        free(svg);
        ol_plot_free(p);
    }
}

TEST(plot_narrow_layout_keeps_fonts_and_moves_the_legend_below) {
    ol_plot *p = loss_plot();
    char *svg = NULL;
    CHECK_EQ_INT(ol_plot_svg_size(p, 380, 0, &svg, NULL), OL_OK);
    char msg[256];
    CHECK_MSG(!xml_check(svg, msg, sizeof msg), "%s", msg);
    CHECK(!strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 380 ", 57));
    CHECK(strstr(svg, "font-size=\"12.5\""));
    free(svg);
    ol_plot_free(p);
}

TEST(plot_equal_aspect_heatmap_has_square_units) {
    double z[6] = {0, 1, 2, 3, 4, 5};
    ol_plot *p = ol_plot_new("aspect", "x", "y");
    ol_plot_grid g = {.z = z, .nx = 3, .ny = 2, .x0 = 0, .x1 = 4, .y0 = 0, .y1 = 1, .equal_aspect = 1, .n_levels = -1};
    CHECK_EQ_INT(ol_plot_heatmap(p, &g), OL_OK);
    char *svg = svg_of(p);
    CHECK(svg);
    const char *clip = strstr(svg, "<clipPath");
    CHECK(clip);
    double w = atof(strstr(clip, "width=\"") + 7), h = atof(strstr(clip, "height=\"") + 8);
    CHECK_NEAR(w / h, 4.0, 0.01);
    CHECK_EQ_INT(count_of(svg, "class=\"iso\""), 0);
    free(svg);
    ol_plot_free(p);
}
