/* csv.c: the CSV files next to every figure (see include/optlab/csv.h): a writer that commits
 * atomically on close and a small bounds-checked reader for tests. Not a general CSV library: the
 * reader keeps numbers only and reads text cells as NaN. */
#include "optlab/csv.h"
#include "optlab/common.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ol_csv {
    ol_afile file;
    int n_cols;
    int col;           /* cells written in the current row */
    int err;           /* first failure; sticky, ol_csv_close then aborts */
};

static int csv_failed(ol_csv *csv) {
    if (csv->err) return csv->err;
    if (ferror(csv->file.f)) {
        csv->err = ol_fail(OL_EIO, "cannot write %s: %s", csv->file.path, strerror(errno));
        return csv->err;
    }
    return 0;
}

int ol_csv_open(ol_csv **out, const char *path, const char *header) {
    *out = NULL;
    if (!path || !*path) return ol_fail(OL_EARG, "CSV path is empty");
    if (!header || !*header) return ol_fail(OL_EARG, "CSV header for %s is empty", path);
    int n_cols = 1;
    for (const char *c = header; *c; c++) {
        if (*c == ',') n_cols++;
        else if (*c == '"' || *c == '\n' || *c == '\r')
            return ol_fail(OL_EARG, "CSV header for %s holds a quote or line break: column names "
                           "must be plain", path);
    }
    ol_csv *csv = ol_calloc(1, sizeof *csv);
    if (!csv) return OL_ENOMEM;
    int rc = ol_afile_open(&csv->file, path);
    if (rc) {
        free(csv);
        return rc;
    }
    csv->n_cols = n_cols;
    fputs(header, csv->file.f);
    fputc('\n', csv->file.f);
    rc = csv_failed(csv);
    if (rc) {
        ol_csv_abort(csv);
        return rc;
    }
    *out = csv;
    return OL_OK;
}

static int begin_cell(ol_csv *csv) {
    if (csv->err) return csv->err;
    if (csv->col >= csv->n_cols) {
        csv->err = ol_fail(OL_EARG, "CSV %s: row has more than the %d columns of the header",
                           csv->file.path, csv->n_cols);
        return csv->err;
    }
    if (csv->col > 0) fputc(',', csv->file.f);
    csv->col++;
    return 0;
}

static void put_number(FILE *f, double v) {
    if (isnan(v)) fputs("nan", f);
    else if (isinf(v)) fputs(v > 0 ? "inf" : "-inf", f);
    else fprintf(f, "%.9g", v);
}

int ol_csv_num(ol_csv *csv, double value) {
    int rc = begin_cell(csv);
    if (rc) return rc;
    put_number(csv->file.f, value);
    return csv_failed(csv);
}

int ol_csv_int(ol_csv *csv, long long value) {
    int rc = begin_cell(csv);
    if (rc) return rc;
    fprintf(csv->file.f, "%lld", value);
    return csv_failed(csv);
}

int ol_csv_str(ol_csv *csv, const char *text) {
    int rc = begin_cell(csv);
    if (rc) return rc;
    if (!text) text = "";
    if (strpbrk(text, ",\"\r\n")) {
        fputc('"', csv->file.f);
        for (const char *c = text; *c; c++) {
            if (*c == '"') fputc('"', csv->file.f);
            fputc(*c, csv->file.f);
        }
        fputc('"', csv->file.f);
    } else {
        fputs(text, csv->file.f);
    }
    return csv_failed(csv);
}

int ol_csv_end_row(ol_csv *csv) {
    if (csv->err) return csv->err;
    if (csv->col != csv->n_cols) {
        csv->err = ol_fail(OL_EARG, "CSV %s: row has %d cells, the header has %d columns",
                           csv->file.path, csv->col, csv->n_cols);
        return csv->err;
    }
    fputc('\n', csv->file.f);
    csv->col = 0;
    return csv_failed(csv);
}

int ol_csv_row(ol_csv *csv, const double *values, int n) {
    if (csv->err) return csv->err;
    if (csv->col != 0 || n != csv->n_cols) {
        csv->err = ol_fail(OL_EARG, "CSV %s: row of %d numbers for %d columns%s", csv->file.path,
                           n, csv->n_cols, csv->col ? " (after an unfinished row)" : "");
        return csv->err;
    }
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', csv->file.f);
        put_number(csv->file.f, values[i]);
    }
    fputc('\n', csv->file.f);
    return csv_failed(csv);
}

void ol_csv_abort(ol_csv *csv) {
    if (!csv) return;
    ol_afile_abort(&csv->file);
    free(csv);
}

int ol_csv_close(ol_csv *csv) {
    if (!csv) return ol_fail(OL_EARG, "ol_csv_close: no CSV");
    int rc = csv->err;
    if (!rc && csv->col != 0)
        rc = ol_fail(OL_ESTATE, "CSV %s: closed in the middle of a row (%d of %d cells)",
                     csv->file.path, csv->col, csv->n_cols);
    if (rc) {
        ol_csv_abort(csv);
        return rc;
    }
    rc = ol_afile_commit(&csv->file);
    ol_csv_abort(csv); /* frees; the temporary is already gone */
    return rc;
}

/* ---- reader ---- */

void ol_csv_table_free(ol_csv_table *t) {
    if (!t) return;
    for (int i = 0; i < t->n_cols && t->names; i++) free(t->names[i]);
    free(t->names);
    free(t->values);
    memset(t, 0, sizeof *t);
}

/* Reads one cell starting at *pos into cell (unquoted, NUL-terminated, truncated to cap - 1);
 * returns 1 if the row goes on (a comma followed), 0 at the end of the row or the text. */
static int read_cell(const char *text, size_t len, size_t *pos, char *cell, size_t cap,
                     size_t *cell_len) {
    size_t p = *pos, n = 0;
    if (p < len && text[p] == '"') {
        p++;
        while (p < len) {
            if (text[p] == '"') {
                if (p + 1 < len && text[p + 1] == '"') p++;
                else { p++; break; }
            }
            if (n + 1 < cap) cell[n] = text[p];
            n++;
            p++;
        }
    }
    while (p < len && text[p] != ',' && text[p] != '\n' && text[p] != '\r') {
        if (n + 1 < cap) cell[n] = text[p];
        n++;
        p++;
    }
    cell[n < cap ? n : cap - 1] = 0;
    *cell_len = n;
    int more = p < len && text[p] == ',';
    if (more) p++;
    else {
        if (p < len && text[p] == '\r') p++;
        if (p < len && text[p] == '\n') p++;
    }
    *pos = p;
    return more;
}

static double parse_cell(const char *cell) {
    if (!*cell) return NAN;
    if (!strcmp(cell, "nan")) return NAN;
    if (!strcmp(cell, "inf")) return INFINITY;
    if (!strcmp(cell, "-inf")) return -INFINITY;
    char *end;
    errno = 0;
    double v = strtod(cell, &end);
    if (end == cell || *end) return NAN;
    return v;
}

int ol_csv_read(const char *path, ol_csv_table *t) {
    memset(t, 0, sizeof *t);
    unsigned char *data;
    size_t len;
    int rc = ol_read_file(path, (size_t)1 << 30, &data, &len);
    if (rc) return rc;
    const char *text = (const char *)data;
    char cell[512];
    size_t cell_len, pos = 0;

    /* header */
    size_t cap_names = 16;
    t->names = ol_calloc(cap_names, sizeof *t->names);
    if (!t->names) { free(data); return OL_ENOMEM; }
    if (len == 0) { free(data); ol_csv_table_free(t); return ol_fail(OL_EFORMAT, "%s is empty: no CSV header", path); }
    int more;
    do {
        more = read_cell(text, len, &pos, cell, sizeof cell, &cell_len);
        if ((size_t)t->n_cols == cap_names) {
            char **nn = realloc(t->names, 2 * cap_names * sizeof *nn);
            if (!nn) { free(data); ol_csv_table_free(t); return ol_fail(OL_ENOMEM, "out of memory reading %s", path); }
            t->names = nn;
            cap_names *= 2;
        }
        t->names[t->n_cols] = strdup(cell);
        if (!t->names[t->n_cols]) { free(data); ol_csv_table_free(t); return ol_fail(OL_ENOMEM, "out of memory reading %s", path); }
        t->n_cols++;
    } while (more && t->n_cols < 100000);

    /* rows: at most one per line break left, so the table size is bounded by the file length */
    size_t max_rows = 0;
    for (size_t p = pos; p < len; p++) max_rows += text[p] == '\n';
    max_rows++;
    if (ol_mul_overflows(max_rows, (size_t)t->n_cols, "CSV table")) { free(data); ol_csv_table_free(t); return OL_ENOMEM; }
    t->values = ol_malloc_array(max_rows * (size_t)t->n_cols, sizeof *t->values);
    if (!t->values) { free(data); ol_csv_table_free(t); return OL_ENOMEM; }
    size_t line = 1;
    while (pos < len) {
        line++;
        if (text[pos] == '\n' || text[pos] == '\r') { /* blank line */
            read_cell(text, len, &pos, cell, sizeof cell, &cell_len);
            continue;
        }
        double *row = t->values + t->n_rows * (size_t)t->n_cols;
        int col = 0;
        do {
            more = read_cell(text, len, &pos, cell, sizeof cell, &cell_len);
            if (col >= t->n_cols) {
                free(data);
                ol_csv_table_free(t);
                return ol_fail(OL_EFORMAT, "%s line %zu: more cells than the %d header columns",
                               path, line, t->n_cols);
            }
            row[col++] = cell_len < sizeof cell ? parse_cell(cell) : NAN;
        } while (more);
        if (col != t->n_cols) {
            int n_cols = t->n_cols;
            free(data);
            ol_csv_table_free(t);
            return ol_fail(OL_EFORMAT, "%s line %zu: %d cells, the header has %d columns", path,
                           line, col, n_cols);
        }
        t->n_rows++;
    }
    free(data);
    return OL_OK;
}

int ol_csv_column(const ol_csv_table *t, const char *name) {
    for (int i = 0; i < t->n_cols; i++)
        if (!strcmp(t->names[i], name)) return i;
    return -1;
}
