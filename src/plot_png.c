/* plot_png.c: the heat map's image as a PNG (stored deflate blocks, no compression library) and
 * base64 for inlining it in SVG; pure (plot_parts.h), tested alone in tests/test_plot_parts.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "plot_parts.h"

static void be32(unsigned char *o, uint32_t v) {
    o[0] = (unsigned char)(v >> 24); o[1] = (unsigned char)(v >> 16);
    o[2] = (unsigned char)(v >> 8); o[3] = (unsigned char)v;
}

static void png_chunk(ol_sbuf *png, const char *type, const unsigned char *data, size_t len) {
    unsigned char hdr[8];
    be32(hdr, (uint32_t)len);
    memcpy(hdr + 4, type, 4);
    ol_sb_put(png, (const char *)hdr, 8);
    if (len) ol_sb_put(png, (const char *)data, len);
    uint32_t crc = ol_crc32(0, type, 4);
    if (len) crc = ol_crc32(crc, data, len);
    unsigned char tail[4];
    be32(tail, crc);
    ol_sb_put(png, (const char *)tail, 4);
}

/* An RGB PNG of w x h pixels (rows top to bottom) with stored deflate blocks (RFC 1950/1951). */
int plot_png_encode(const unsigned char *rgb, int w, int h, ol_sbuf *png) {
    size_t row = 1 + 3 * (size_t)w, raw_len = row * (size_t)h;
    unsigned char *raw = malloc(raw_len);
    if (!raw) return OL_ENOMEM;
    for (int y = 0; y < h; y++) {
        raw[(size_t)y * row] = 0; /* filter: none */
        memcpy(raw + (size_t)y * row + 1, rgb + (size_t)y * 3 * (size_t)w, 3 * (size_t)w);
    }
    size_t n_blocks = raw_len / 65535 + 1;
    size_t z_len = 2 + raw_len + 5 * n_blocks + 4;
    unsigned char *z = malloc(z_len);
    if (!z) { free(raw); return OL_ENOMEM; }
    size_t o = 0;
    z[o++] = 0x78;
    z[o++] = 0x01;
    uint32_t a = 1, bsum = 0;
    for (size_t i = 0; i < raw_len; i++) { a = (a + raw[i]) % 65521; bsum = (bsum + a) % 65521; }
    size_t pos = 0;
    for (size_t k = 0; k < n_blocks; k++) {
        size_t n = raw_len - pos < 65535 ? raw_len - pos : 65535;
        z[o++] = k + 1 == n_blocks ? 1 : 0;
        z[o++] = (unsigned char)(n & 0xff);
        z[o++] = (unsigned char)(n >> 8);
        z[o++] = (unsigned char)(~n & 0xff);
        z[o++] = (unsigned char)((~n >> 8) & 0xff);
        memcpy(z + o, raw + pos, n);
        o += n;
        pos += n;
    }
    be32(z + o, (bsum << 16) | a);
    o += 4;
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    ol_sb_put(png, (const char *)sig, 8);
    unsigned char ihdr[13];
    be32(ihdr, (uint32_t)w);
    be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
    png_chunk(png, "IHDR", ihdr, 13);
    png_chunk(png, "IDAT", z, o);
    png_chunk(png, "IEND", NULL, 0);
    free(raw);
    free(z);
    return png->oom ? OL_ENOMEM : OL_OK;
}

void plot_base64(ol_sbuf *b, const unsigned char *d, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char out[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        out[0] = tab[v >> 18 & 63];
        out[1] = tab[v >> 12 & 63];
        out[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[3] = i + 2 < n ? tab[v & 63] : '=';
        ol_sb_put(b, out, 4);
    }
}

