/* csv.h: CSV files of the labs' numbers (src/csv.c): written atomically through ol_afile (no
 * partial file under a real name, ever) and read back whole. Depends on libc and common.
 *
 * Errors: 0 on success, an OL_E* code otherwise, with a message in ol_error(). Numbers are printed
 * with "%.9g", so keep LC_NUMERIC at "C" (the default). */
#ifndef OPTLAB_CSV_H
#define OPTLAB_CSV_H

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

#endif
