/* strbuf.c: the growable string of strbuf.h. */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ol_sb_put(ol_sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void ol_sb_puts(ol_sbuf *b, const char *s) { ol_sb_put(b, s, strlen(s)); }

void ol_sb_printf(ol_sbuf *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) { b->oom = 1; return; }
    if ((size_t)n < sizeof small) { ol_sb_put(b, small, (size_t)n); return; }
    char *big = malloc((size_t)n + 1);
    if (!big) { b->oom = 1; return; }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ol_sb_put(b, big, (size_t)n);
    free(big);
}

void ol_sb_esc(ol_sbuf *b, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&': ol_sb_puts(b, "&amp;"); break;
        case '<': ol_sb_puts(b, "&lt;"); break;
        case '>': ol_sb_puts(b, "&gt;"); break;
        case '"': ol_sb_puts(b, "&quot;"); break;
        case '\'': ol_sb_puts(b, "&#39;"); break;
        default:
            /* control characters are not allowed in XML 1.0 */
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n') ol_sb_put(b, " ", 1);
            else ol_sb_put(b, s, 1);
        }
    }
}
