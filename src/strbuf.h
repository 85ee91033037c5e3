/* strbuf.h: a growable string for the writers of text files (SVG plots, the HTML report); private
 * to the library. Appending never fails on the spot: an allocation failure sets `oom`, later
 * appends do nothing, and the writer checks `oom` once at the end. */
#ifndef OPTLAB_STRBUF_H
#define OPTLAB_STRBUF_H

#include <stddef.h>

typedef struct {
    char *p;          /* NUL-terminated text (NULL while empty); the owner frees it */
    size_t len, cap;
    int oom;          /* an append failed: the text is incomplete */
} ol_sbuf;

void ol_sb_put(ol_sbuf *b, const char *s, size_t n);
void ol_sb_puts(ol_sbuf *b, const char *s);
__attribute__((format(printf, 2, 3))) void ol_sb_printf(ol_sbuf *b, const char *fmt, ...);
/* s escaped for XML/HTML text and attributes (& < > " '); control characters other than tab and
 * newline, which XML 1.0 does not allow, become spaces. */
void ol_sb_esc(ol_sbuf *b, const char *s);

#endif
