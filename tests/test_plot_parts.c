/* test_plot_parts.c: the pure maths of the figures, without SVG (src/plot_parts.h): nice steps,
 * tick values and labels, where ticks go on linear and log axes, and the PNG and base64 encoders
 * (the PNG checked by inflating it with zlib). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../src/plot_parts.h"
#include "optlab/common.h"
#include "test.h"

#define MINUS "\xe2\x88\x92"

TEST(plot_nice_step_rounds_to_1_2_5_times_a_power_of_ten) {
    CHECK_NEAR(plot_nice_step(0.8), 1.0, 1e-12);
    CHECK_NEAR(plot_nice_step(0.6), 0.5, 1e-12);
    CHECK_NEAR(plot_nice_step(0.125), 0.1, 1e-12);
    CHECK_NEAR(plot_nice_step(3.2), 5.0, 1e-12);
    CHECK_NEAR(plot_nice_step(2.2), 2.0, 1e-12);
    CHECK_NEAR(plot_nice_step(7500), 10000.0, 1e-9);
}

TEST(plot_tick_labels_use_fixed_decimals_exponents_and_a_real_minus) {
    char s[64];
    plot_fmt_value(s, sizeof s, 0.25, 0.05, 1);
    CHECK_MSG(!strcmp(s, "0.25"), "%s", s);
    plot_fmt_value(s, sizeof s, -0.5, 0.05, 1);
    CHECK_MSG(!strcmp(s, MINUS "0.50"), "%s", s);
    plot_fmt_value(s, sizeof s, 150000, 50000, 2e5);
    CHECK_MSG(!strcmp(s, "1.5e5"), "%s", s);
    plot_fmt_value(s, sizeof s, 1e-17, 0.1, 1); /* rounding noise at zero reads 0 */
    CHECK_MSG(!strcmp(s, "0.0"), "%s", s);
    plot_fmt_power(s, sizeof s, -3);
    CHECK_MSG(!strcmp(s, "10\xe2\x81\xbb\xc2\xb3"), "%s", s);
    plot_fmt_power(s, sizeof s, 12);
    CHECK_MSG(!strcmp(s, "10\xc2\xb9\xc2\xb2"), "%s", s);
}

/* every labelled tick inside the range, at least 2 of them, labels apart by half their widths
 * plus a gap (side by side) or by a line height (stacked) */
static int ticks_ok(const ticks *t, double lo, double hi, int log, double len, int horizontal, double fs, char *why,
                    size_t cap) {
    int majors = 0;
    double prev = -1e300, prev_w = 0;
    for (int i = 0; i < t->n; i++) {
        const tick *k = &t->t[i];
        if (!(k->v >= lo * (1 - 1e-9) - 1e-12 && k->v <= hi * (1 + 1e-9) + 1e-12)) {
            snprintf(why, cap, "tick %g outside [%g, %g]", k->v, lo, hi);
            return 0;
        }
        if (!k->major) continue;
        double pos = plot_tick_pos(lo, hi, log, len, k->v);
        double need = horizontal ? (prev_w + k->w) / 2 + 0.8 * fs : 1.6 * fs;
        if (majors && pos - prev < need - 1e-9) {
            snprintf(why, cap, "labels '%s' at %.1f px and the one before at %.1f px overlap", k->text, pos, prev);
            return 0;
        }
        if (!k->text[0]) {
            snprintf(why, cap, "labelled tick %g without text", k->v);
            return 0;
        }
        prev = pos, prev_w = k->w, majors++;
    }
    if (majors < 2) {
        snprintf(why, cap, "%d labelled ticks", majors);
        return 0;
    }
    return 1;
}

TEST(plot_ticks_fit_their_axis_on_linear_and_log_scales) {
    static const struct {
        double lo, hi;
        int log;
        double len;
        int horizontal;
    } axes[] = {{0, 1, 0, 400, 1},   {-3.7, 12.2, 0, 220, 1}, {0, 150000, 0, 120, 1}, {0.001, 0.0013, 0, 300, 0},
                {1e-3, 1e3, 1, 400, 1}, {1e-12, 1, 1, 160, 0},   {2, 40, 1, 400, 1},     {0.5, 0.9, 1, 300, 1}};
    ticks t;
    char why[256];
    for (size_t a = 0; a < sizeof axes / sizeof axes[0]; a++) {
        plot_make_ticks(&t, axes[a].lo, axes[a].hi, axes[a].log, axes[a].len, axes[a].horizontal, 12.5);
        CHECK_MSG(ticks_ok(&t, axes[a].lo, axes[a].hi, axes[a].log, axes[a].len, axes[a].horizontal, 12.5, why, sizeof why),
                  "axis [%g, %g]%s over %g px: %s", axes[a].lo, axes[a].hi, axes[a].log ? " (log)" : "", axes[a].len, why);
    }
    /* a log axis over six decades labels powers of ten */
    plot_make_ticks(&t, 1e-3, 1e3, 1, 400, 1, 12.5);
    for (int i = 0; i < t.n; i++)
        if (t.t[i].major) {
            double e = log10(t.t[i].v);
            CHECK_MSG(fabs(e - round(e)) < 1e-9, "labelled %g is not a power of ten", t.t[i].v);
        }
    /* [0, 1] over 400 px: 0.1 apart, 0 and 1 included */
    plot_make_ticks(&t, 0, 1, 0, 400, 1, 12.5);
    CHECK_EQ_INT(t.n, 11);
    CHECK(!strcmp(t.t[0].text, "0.0") && !strcmp(t.t[10].text, "1.0"));
}

TEST(plot_text_width_grows_with_text_and_font) {
    CHECK(plot_text_width("", 12) == 0);
    CHECK(plot_text_width("WWW", 12) > plot_text_width("iii", 12));
    CHECK_NEAR(plot_text_width("ab", 24), 2 * plot_text_width("ab", 12), 1e-12);
    CHECK(plot_text_width("\xce\xbb", 12) > 0); /* a Greek letter counts as one character */
}

TEST(plot_base64_pads_as_rfc_4648) {
    static const struct {
        const char *in, *out;
    } cases[] = {{"", ""}, {"M", "TQ=="}, {"Ma", "TWE="}, {"Man", "TWFu"}, {"pleasure.", "cGxlYXN1cmUu"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ol_sbuf b = {0};
        plot_base64(&b, (const unsigned char *)cases[i].in, strlen(cases[i].in));
        CHECK_MSG(b.len == strlen(cases[i].out) && (b.len == 0 || !memcmp(b.p, cases[i].out, b.len)), "base64(%s) = %.*s",
                  cases[i].in, (int)b.len, b.p ? b.p : "");
        free(b.p);
    }
}

static uint32_t get_be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A 70 000-pixel image (its raw rows need two stored deflate blocks): signature, IHDR, chunk CRCs,
 * and the pixels back through zlib's inflate. */
TEST(plot_png_is_valid_and_inflates_to_the_pixels) {
    const int w = 350, h = 200;
    unsigned char *rgb = malloc((size_t)w * h * 3);
    CHECK(rgb);
    for (int i = 0; i < w * h * 3; i++) rgb[i] = (unsigned char)(i * 7 + i / 3);
    ol_sbuf png = {0};
    CHECK(plot_png_encode(rgb, w, h, &png) == 0);
    const unsigned char *p = (const unsigned char *)png.p;
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    CHECK(png.len > 8 + 25 && !memcmp(p, sig, 8));
    size_t off = 8;
    const unsigned char *idat = NULL;
    size_t idat_len = 0;
    int chunks = 0;
    while (off + 12 <= png.len) {
        uint32_t len = get_be32(p + off);
        CHECK(off + 12 + len <= png.len);
        const unsigned char *type = p + off + 4;
        uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), type, 4 + len);
        CHECK_MSG(crc == get_be32(p + off + 8 + len), "chunk %.4s: bad CRC", (const char *)type);
        if (!memcmp(type, "IHDR", 4)) {
            CHECK(len == 13 && get_be32(type + 4) == (uint32_t)w && get_be32(type + 8) == (uint32_t)h);
            CHECK(type[12] == 8 && type[13] == 2); /* 8 bits, RGB */
        }
        if (!memcmp(type, "IDAT", 4)) idat = type + 4, idat_len = len;
        off += 12 + len;
        chunks++;
    }
    CHECK_EQ_INT(chunks, 3);
    CHECK(off == png.len && idat);
    size_t row = 1 + 3 * (size_t)w;
    uLongf raw_len = (uLongf)(row * (size_t)h);
    unsigned char *raw = malloc(raw_len);
    CHECK(raw);
    CHECK(uncompress(raw, &raw_len, idat, (uLong)idat_len) == Z_OK);
    CHECK(raw_len == row * (size_t)h);
    for (int y = 0; y < h; y++) {
        CHECK(raw[(size_t)y * row] == 0);
        CHECK(!memcmp(raw + (size_t)y * row + 1, rgb + (size_t)y * 3 * (size_t)w, 3 * (size_t)w));
    }
    free(raw);
    free(rgb);
    free(png.p);
}

typedef struct {
    const double *z;
    int nx, ny, lines, closed, points;
    double level, center, worst; /* worst |distance from the center - expected radius| */
    double radius;
} iso_check;

static void check_line(void *userdata, const size_t *edges, size_t n, int closed) {
    iso_check *c = userdata;
    c->lines++;
    c->closed += closed;
    c->points += (int)n;
    for (size_t k = 0; k < n; k++) {
        double gx, gy;
        plot_isoline_point(c->z, c->nx, c->ny, c->level, edges[k], &gx, &gy);
        if (c->radius > 0) {
            double d = fabs(hypot(gx - c->center, gy - c->center) - c->radius);
            if (d > c->worst) c->worst = d;
        } else if (fabs(gx - c->center) > c->worst) {
            c->worst = fabs(gx - c->center); /* the plane: every point on the column x = center */
        }
    }
}

/* A bowl z = (x - 10)^2 + (y - 10)^2 on a 21 x 21 grid: the level 36 is one closed loop of radius
 * 6 (within the linear interpolation's error); a plane z = x gives one open line at x = level; NaN
 * cells break a line; a level outside the values gives none. */
TEST(plot_isolines_trace_loops_lines_and_gaps) {
    enum { N = 21 };
    double z[N * N];
    for (int j = 0; j < N; j++)
        for (int i = 0; i < N; i++) z[j * N + i] = (i - 10.0) * (i - 10.0) + (j - 10.0) * (j - 10.0);
    iso_check c = {z, N, N, 0, 0, 0, 36, 10, 0, 6};
    CHECK(plot_isolines(z, N, N, 36.0, check_line, &c) == 0);
    CHECK_EQ_INT(c.lines, 1);
    CHECK_EQ_INT(c.closed, 1);
    CHECK(c.points >= 20);
    CHECK_MSG(c.worst < 0.1, "a point %.3f off the circle", c.worst);

    for (int j = 0; j < N; j++)
        for (int i = 0; i < N; i++) z[j * N + i] = i;
    iso_check p = {z, N, N, 0, 0, 0, 7.5, 7.5, 0, 0};
    CHECK(plot_isolines(z, N, N, 7.5, check_line, &p) == 0);
    CHECK_EQ_INT(p.lines, 1);
    CHECK_EQ_INT(p.closed, 0);
    CHECK_EQ_INT(p.points, N);
    CHECK_MSG(p.worst < 1e-12, "a point %.3g off x = 7.5", p.worst);

    z[10 * N + 7] = NAN; /* the cells around it are skipped: the line breaks in two */
    iso_check q = {z, N, N, 0, 0, 0, 7.5, 7.5, 0, 0};
    CHECK(plot_isolines(z, N, N, 7.5, check_line, &q) == 0);
    CHECK_EQ_INT(q.lines, 2);

    iso_check none = {z, N, N, 0, 0, 0, 99, 0, 0, 0};
    CHECK(plot_isolines(z, N, N, 99.0, check_line, &none) == 0);
    CHECK_EQ_INT(none.lines, 0);
}
