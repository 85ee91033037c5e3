/* plot_ticks.c: an axis's ticks and their labels, and the width of text: the pure maths of the
 * figures (plot_parts.h), with no SVG; tests/test_plot_parts.c checks them alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_parts.h"

/* Advance widths (em) of ASCII 32..126 in DejaVu Sans, the widest common sans-serif (the fallback
 * of system-ui on Linux): estimates from it leave room in narrower fonts. */
static const unsigned char ADVANCE[95] = {
    32, 40, 46, 84, 64, 95, 78, 28, 39, 39, 50, 84, 32, 36, 32, 34,  /* space .. / */
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 34, 34, 84, 84, 84, 53,  /* 0 .. ? */
    100, 68, 69, 70, 77, 63, 58, 78, 75, 30, 30, 66, 56, 86, 75, 79, /* @ .. O */
    60, 79, 70, 64, 61, 73, 68, 99, 69, 61, 69, 39, 34, 39, 84, 50,  /* P .. _ */
    50, 61, 64, 55, 64, 62, 35, 64, 63, 28, 28, 58, 28, 97, 63, 61,  /* ` .. o */
    64, 64, 41, 52, 39, 63, 59, 82, 59, 59, 53, 64, 34, 64, 84};     /* p .. ~ */

/* Width of UTF-8 text in font size fs. */
double plot_text_width(const char *s, double fs) {
    double w = 0;
    for (const unsigned char *c = (const unsigned char *)s; c && *c; c++) {
        if (*c < 0x80) {
            w += *c >= 32 && *c < 127 ? ADVANCE[*c - 32] / 100.0 : 0.6;
        } else if ((*c & 0xC0) != 0x80) {
            /* superscripts (c2 b2, c2 b3, c2 b9, e2 81 xx) are narrow; math signs (e2 88 xx,
             * c3 97) wide; other letters (Greek, accents) about a lowercase letter */
            if ((c[0] == 0xC2 && (c[1] == 0xB2 || c[1] == 0xB3 || c[1] == 0xB9)) ||
                (c[0] == 0xE2 && c[1] == 0x81) || (c[0] == 0xE1 && c[1] == 0xB5))
                w += 0.42;
            else if ((c[0] == 0xE2 && (c[1] == 0x88 || c[1] == 0x89)) || (c[0] == 0xC3 && c[1] == 0x97))
                w += 0.84;
            else w += 0.66;
        }
    }
    return w * fs;
}


static const char *const SUPERSCRIPT[10] = {"\xe2\x81\xb0", "\xc2\xb9", "\xc2\xb2", "\xc2\xb3",
                                            "\xe2\x81\xb4", "\xe2\x81\xb5", "\xe2\x81\xb6",
                                            "\xe2\x81\xb7", "\xe2\x81\xb8", "\xe2\x81\xb9"};
#define MINUS "\xe2\x88\x92"

/* Replaces a leading '-' by the typographic minus sign. */
static void fix_minus(char *s, size_t cap) {
    if (s[0] != '-' || strlen(s) + 3 > cap) return;
    memmove(s + 3, s + 1, strlen(s)); /* includes the NUL */
    memcpy(s, MINUS, 3);
}

/* "10" followed by the exponent k in superscript digits. */
void plot_fmt_power(char *out, size_t cap, int k) {
    char digits[16];
    snprintf(digits, sizeof digits, "%d", k < 0 ? -k : k);
    snprintf(out, cap, "10%s", k < 0 ? "\xe2\x81\xbb" : "");
    for (char *d = digits; *d; d++) strncat(out, SUPERSCRIPT[*d - '0'], cap - strlen(out) - 1);
}

/* A tick value on a linear scale with spacing step: fixed decimals when short, else m e k. */
void plot_fmt_value(char *out, size_t cap, double v, double step, double max_abs) {
    if (fabs(v) < step * 1e-6) v = 0;
    int decimals = (int)-floor(log10(step) + 1e-9);
    if (decimals < 0) decimals = 0;
    if (max_abs < 1e5 && decimals <= 4) {
        snprintf(out, cap, "%.*f", decimals, v);
    } else if (v == 0) {
        snprintf(out, cap, "0");
    } else {
        int sig = (int)floor(log10(fabs(v)) + 1e-9) - (int)floor(log10(step) + 1e-9) + 1;
        if (sig < 1) sig = 1;
        if (sig > 9) sig = 9;
        char tmp[48];
        snprintf(tmp, sizeof tmp, "%.*e", sig - 1, v);
        /* 1.50e+05 -> 1.5e5 */
        char *e = strchr(tmp, 'e');
        char mant[48];
        size_t ml = (size_t)(e - tmp);
        memcpy(mant, tmp, ml);
        mant[ml] = 0;
        if (strchr(mant, '.')) {
            while (ml > 0 && mant[ml - 1] == '0') mant[--ml] = 0;
            if (ml > 0 && mant[ml - 1] == '.') mant[--ml] = 0;
        }
        snprintf(out, cap, "%.20se%d", mant, atoi(e + 1) % 1000);
    }
    fix_minus(out, cap);
}

double plot_nice_step(double raw) {
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/* Position of v along an axis of length len (0 at lo). */
double plot_tick_pos(double lo, double hi, int log, double len, double v) {
    if (log) return (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) * len;
    return (v - lo) / (hi - lo) * len;
}

/* 1 if the labelled ticks leave room between their labels. */
static int ticks_fit(const ticks *t, double lo, double hi, int log, double len, int horizontal, double fs) {
    double prev_pos = 0, prev_w = 0;
    int have_prev = 0;
    for (int i = 0; i < t->n; i++) {
        if (!t->t[i].major) continue;
        double pos = plot_tick_pos(lo, hi, log, len, t->t[i].v);
        if (have_prev) {
            double need = horizontal ? (prev_w + t->t[i].w) / 2 + 0.8 * fs : 1.6 * fs;
            if (pos - prev_pos < need) return 0;
        }
        prev_pos = pos;
        prev_w = t->t[i].w;
        have_prev = 1;
    }
    return 1;
}

static void tick_add(ticks *t, double v, int major, const char *text, double fs) {
    if (t->n >= MAX_TICKS) return;
    tick *k = &t->t[t->n++];
    k->v = v;
    k->major = major;
    snprintf(k->text, sizeof k->text, "%s", major && text ? text : "");
    k->w = plot_text_width(k->text, fs);
}

static void linear_ticks(ticks *t, double lo, double hi, int log, double step, double fs) {
    t->n = 0;
    double max_abs = fmax(fabs(lo), fabs(hi));
    double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9);
    for (double k = k0; k <= k1 && t->n < MAX_TICKS && k - k0 < 4 * MAX_TICKS; k++) {
        double v = k * step;
        if (fabs(v) < step * 1e-9) v = 0;
        if (log && v <= 0) continue;
        char s[48];
        plot_fmt_value(s, sizeof s, v, step, max_abs);
        tick_add(t, v, 1, s, fs);
    }
}

/* Ticks for [lo, hi] over len pixels: 1-2-5 steps on linear axes, decades (with minor ticks at
 * 2..9) on log axes, as many as fit without labels touching. */
void plot_make_ticks(ticks *t, double lo, double hi, int log, double len, int horizontal, double fs) {
    t->n = 0;
    if (!log) {
        int max_n = (int)(len / (horizontal ? 50.0 : 34.0));
        if (max_n > 10) max_n = 10;
        if (max_n < 2) max_n = 2;
        for (int target = max_n; target >= 1; target--) {
            linear_ticks(t, lo, hi, 0, plot_nice_step((hi - lo) / target), fs);
            if (ticks_fit(t, lo, hi, 0, len, horizontal, fs)) return;
        }
        return;
    }
    double l0 = log10(lo), l1 = log10(hi);
    int klo = (int)ceil(l0 - 1e-9), khi = (int)floor(l1 + 1e-9);
    int nd = khi - klo + 1;
    if (nd >= 3) {
        int plain = klo >= -2 && khi <= 4;
        static const int strides[] = {1, 2, 3, 4, 5, 10, 20, 50, 100};
        int max_n = (int)(len / (horizontal ? 40.0 : 28.0));
        for (size_t si = 0; si < sizeof strides / sizeof *strides; si++) {
            int stride = strides[si];
            t->n = 0;
            int n_major = 0;
            for (int k = klo; k <= khi; k++) {
                int major = ((k % stride) + stride) % stride == 0;
                if (!major && (stride > 10 || nd > 60)) continue;
                char s[48];
                if (plain) plot_fmt_value(s, sizeof s, pow(10, k), pow(10, k < 0 ? k : 0), 1);
                else plot_fmt_power(s, sizeof s, k);
                tick_add(t, pow(10, k), major, s, fs);
                n_major += major;
            }
            if (n_major < 2 && si > 0) continue;
            if ((n_major <= max_n || stride == 100) && ticks_fit(t, lo, hi, 1, len, horizontal, fs)) break;
        }
        /* minor ticks at 2..9 x 10^k when every decade is labelled and there is room */
        int every_decade = 1;
        for (int i = 0; i < t->n; i++) every_decade &= t->t[i].major;
        if (every_decade && len / (l1 - l0) >= 40)
            for (int k = klo - 1; k <= khi; k++)
                for (int m = 2; m <= 9; m++) {
                    double v = m * pow(10, k);
                    if (v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12)) tick_add(t, v, 0, NULL, fs);
                }
        return;
    }
    /* less than three decades inside: label 1-2-5 (or every 1..9) multiples of a power of ten */
    static const int sets[2][10] = {{1, 2, 5, 0}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 0}};
    for (int si = 0; si < 2; si++) {
        t->n = 0;
        int n_major = 0;
        for (int k = klo - 1; k <= khi; k++)
            for (int m = 1; m <= 9; m++) {
                double v = m * pow(10, k);
                if (!(v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12))) continue;
                int major = 0;
                for (int j = 0; sets[si][j]; j++) major |= sets[si][j] == m;
                char s[48];
                int exp_form = k < -3 || k > 4;
                if (exp_form && major) {
                    char pw[32];
                    plot_fmt_power(pw, sizeof pw, k);
                    if (m == 1) snprintf(s, sizeof s, "%s", pw);
                    else snprintf(s, sizeof s, "%d\xc3\x97%s", m, pw);
                } else {
                    plot_fmt_value(s, sizeof s, v, pow(10, k), 1);
                }
                tick_add(t, v, major, s, fs);
                n_major += major;
            }
        if (n_major >= 2 + si && ticks_fit(t, lo, hi, 1, len, horizontal, fs)) return;
    }
    /* a narrow range: linear ticks placed on the log scale */
    int max_n = (int)(len / (horizontal ? 60.0 : 34.0));
    if (max_n < 2) max_n = 2;
    for (int target = max_n; target >= 1; target--) {
        linear_ticks(t, lo, hi, 1, plot_nice_step((hi - lo) / target), fs);
        if (ticks_fit(t, lo, hi, 1, len, horizontal, fs)) return;
    }
}

