/* mathfn.c: exp, log, pow, sin and cos from their definitions; see include/optlab/mathfn.h.
 *
 * The tools: exact transformations of IEEE arithmetic (two_sum, two_prod by Dekker's splitting;
 * the compiler must not fuse a * b + c: -ffp-contract=off, and the pragma below) carry the leading
 * terms in two doubles (hi + lo), and tables of exact values (src/mathfn_tables.h, written by
 * scripts/gen_mathfn_tables.py) reduce each argument to a small one where a short Taylor series is
 * exact to far below the last bit. Each result is the one rounding of hi + lo.
 *   exp(x) = 2^m 2^(j/128) exp(r), x = (128 m + j) ln2/128 + r, |r| <= ln2/256
 *   log(x) = e ln2 - log(c) + log1p(z), x = 2^e m, c ~ 1/m from the table, z = m c - 1 exact, |z| < 1/512
 *   pow(x, y) = exp(y log x), log x in two doubles (about 2^-70 relative) and exp taking the lo part
 *   sin, cos: x = n pi/2 + r (Cody-Waite with pi/2 in four parts below 2^20 pi/2, Payne-Hanek with
 *   the bits of 2/pi above), then r = k/64 + t and the angle-sum formulas with sin, cos(k/64). */
#include "optlab/mathfn.h"

#include <stdint.h>
#include <string.h>

#include "mathfn_tables.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

static uint64_t bits_of(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static double from_bits(uint64_t u) {
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#define QNAN from_bits(0x7ff8000000000000u)
#define INF from_bits(0x7ff0000000000000u)
#define EXP_MASK 0x7ff0000000000000u
#define MANT_MASK 0x000fffffffffffffu

static double fabs_(double x) { return from_bits(bits_of(x) & ~((uint64_t)1 << 63)); }

/* s + e = a + b exactly */
static void two_sum(double a, double b, double *s, double *e) {
    double x = a + b, bv = x - a, av = x - bv;
    *s = x;
    *e = (a - av) + (b - bv);
}

/* s + e = a + b exactly, when |a| >= |b| or a = 0 */
static void fast_two_sum(double a, double b, double *s, double *e) {
    double x = a + b;
    *s = x;
    *e = b - (x - a);
}

/* p + e = a b exactly (Dekker; |a|, |b| < 2^995 and no underflow) */
static void two_prod(double a, double b, double *p, double *e) {
    double ca = 134217729.0 * a, cb = 134217729.0 * b; /* 2^27 + 1: Veltkamp's split */
    double ah = ca - (ca - a), al = a - ah, bh = cb - (cb - b), bl = b - bh;
    double x = a * b;
    *p = x;
    *e = ((ah * bh - x) + ah * bl + al * bh) + al * bl;
}

/* x 2^n, n in [-2200, 2200]: exact unless the result is subnormal (then one rounding) or overflows */
static double scale2(double x, int n) {
    for (int i = 0; i < 2 && n > 1023; i++) x *= 0x1p1023, n -= 1023;
    for (int i = 0; i < 2 && n < -1022; i++) x *= 0x1p-969, n += 969; /* 2^-1022 2^53: stays normal once */
    if (n > 1023) n = 1023;
    if (n < -1022) n = -1022;
    return x * from_bits((uint64_t)(0x3ff + n) << 52);
}

/* the integer nearest to x (halves away from zero), |x| < 2^31 */
static int nearest(double x) { return (int)(x < 0 ? x - 0.5 : x + 0.5); }

/* ---- exp ---- */

/* exp(x + xl), |xl| <= 2^-50 |x| or so, x in [-746, 710] */
static double exp_dd(double x, double xl) {
    int k = nearest(x * MF_EXP_INV), j = ((k % 128) + 128) % 128, m = (k - j) / 128;
    /* x - k L1 is exact (k L1 has at most 53 bits and is within ln2/256 of x) */
    double r = ((x - k * MF_EXP_L1) - k * MF_EXP_L2) + xl;
    double p = r + r * r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720)))));
    double th = mf_exp2_table[j][0], tl = mf_exp2_table[j][1];
    return scale2(th + (tl + th * p + tl * p), m);
}

double ol_math_exp(double x) {
    if (x != x) return x;
    if (x > 709.79) return INF;
    if (x < -745.2) return 0;
    return exp_dd(x, 0);
}

/* ---- float exp, log and tanh, double tanh ---- */

/* exp(x) for x in [-104, 89] (a float's whole range), as a double within about 2^-51 relative:
 * x = k ln2/128 + r, |r| <= ln2/256, exp(r) to the 5th power (r^6/720 < 2^-60), 2^(k/128) from
 * the table; k by the round-to-nearest of adding 1.5 2^52 (|x 128/ln2| < 2^14) */
static double exp_float_range(double x) {
    const double shift = 0x1.8p52;
    double kd = (x * MF_EXP_INV + shift) - shift;
    int k = (int)kd, j = k & 127, m = (k - j) / 128;
    double r = (x - kd * MF_EXP_L1) - kd * MF_EXP_L2;
    double p = r + r * r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120))));
    double th = mf_exp2_table[j][0];
    return (th + th * p) * from_bits((uint64_t)(0x3ff + m) << 52);
}

float ol_math_expf(float x) {
    if (!(x > -104.0f)) return x != x ? x : 0.0f; /* exp(-104) < 2^-150: rounds to 0 */
    if (x > 89.0f) return (float)INF;             /* above 88.73 a float overflows */
    return (float)exp_float_range(x);
}

float ol_math_logf(float x) { return (float)ol_math_log(x); }

/* tanh in [-1/8, 1/8]: x + x^3 P(x^2), Taylor's series to x^17 (the next term is below 2^-60 x) */
static double tanh_series(double x) {
    double z = x * x;
    double p = -1.0 / 3 + z * (2.0 / 15 + z * (-17.0 / 315 + z * (62.0 / 2835 + z * (-1382.0 / 155925 +
               z * (21844.0 / 6081075 + z * (-929569.0 / 638512875 + z * (6404582.0 / 10854718875.0)))))));
    return x + x * (z * p);
}

float ol_math_tanhf(float x) {
    double a = fabs_(x), t;
    if (!(a < 9.1)) return x != x ? x : x > 0 ? 1.0f : -1.0f; /* 1 - tanh(9.1) < 2^-25: rounds to 1 */
    if (a < 0x1p-12) return x; /* x^3/3 below half an ulp of x; keeps -0 */
    if (a < 0.125) return (float)tanh_series(x);
    t = 1 - 2 / (exp_float_range(2 * a) + 1);
    return (float)(x < 0 ? -t : t);
}

/* exp(x) = hi + lo (about 2^-60 relative), x in [0, 41] */
static void exp_hilo(double x, double *hi, double *lo) {
    int k = nearest(x * MF_EXP_INV), j = k & 127, m = (k - j) / 128;
    double r = (x - k * MF_EXP_L1) - k * MF_EXP_L2;
    double p = r + r * r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720)))));
    double th = mf_exp2_table[j][0], tl = mf_exp2_table[j][1], scale = from_bits((uint64_t)(0x3ff + m) << 52), s, e;
    fast_two_sum(th, tl + th * p + tl * p, &s, &e);
    *hi = s * scale;
    *lo = e * scale;
}

/* tanh |x| = (e - 1) / (e + 1), e = exp(2|x|), in two doubles; the series near 0 */
double ol_math_tanh(double x) {
    double a = fabs_(x);
    if (!(a < 20)) return x != x ? x : x > 0 ? 1.0 : -1.0; /* 1 - tanh 20 < 2^-56: rounds to 1 */
    if (a < 0x1p-27) return x;                              /* x^3/3 below half an ulp of x; keeps -0 */
    if (a < 0.125) return tanh_series(x);
    double eh, el, nh, nl, dh, dl, e;
    exp_hilo(2 * a, &eh, &el);
    two_sum(eh, -1, &nh, &e); /* e - 1 */
    fast_two_sum(nh, e + el, &nh, &nl);
    two_sum(eh, 1, &dh, &e);  /* e + 1 */
    fast_two_sum(dh, e + el, &dh, &dl);
    double q = nh / dh, p, pe;
    two_prod(q, dh, &p, &pe);
    double t = q + (((nh - p) - pe) + nl - q * dl) / dh;
    return x < 0 ? -t : t;
}

/* ---- log ---- */

/* log x = hi + lo for finite x > 0 */
static void log_dd(double x, double *hi, double *lo) {
    uint64_t u = bits_of(x);
    int e = (int)(u >> 52) - 1023;
    if (e == -1023) { /* subnormal: scale into the normal range */
        u = bits_of(x * 0x1p54);
        e = (int)(u >> 52) - 1023 - 54;
    }
    double m = from_bits((u & MANT_MASK) | 0x3ff0000000000000u); /* [1, 2) */
    if (m > 0x1.6a09e667f3bcdp+0) m *= 0.5, e++;                  /* [sqrt(1/2), sqrt 2] */
    int j = nearest((m - 1) * 256);
    const double *t = mf_log_table[j + MF_LOG_J0];
    double p, pe, zh, zl, q, ql;
    two_prod(m, t[0], &p, &pe);
    two_sum(p - 1, pe, &zh, &zl); /* z = m c - 1 exactly; p - 1 is exact */
    two_prod(zh, zh, &q, &ql);
    double tail = zh * q * (1.0 / 3 + zh * (-0.25 + zh * (0.2 + zh * (-1.0 / 6 + zh * (1.0 / 7 + zh * -0.125)))));
    double s, e1, e2, e3;
    two_sum(e * MF_LN2_HI, t[1], &s, &e1);
    two_sum(s, zh, &s, &e2);
    two_sum(s, -0.5 * q, &s, &e3);
    double rest = e1 + e2 + e3 + e * MF_LN2_LO + t[2] + zl - 0.5 * ql - zh * zl + tail;
    fast_two_sum(s, rest, hi, lo);
}

double ol_math_log(double x) {
    if (x != x) return x;
    if (x < 0) return QNAN;
    if (x == 0) return -INF;
    if (x == INF) return x;
    double hi, lo;
    log_dd(x, &hi, &lo);
    return hi + lo;
}

/* ---- pow ---- */

/* 0: y is not an integer; 1: an odd one; 2: an even one (y finite) */
static int integer_kind(double y) {
    uint64_t u = bits_of(y);
    int e = (int)((u >> 52) & 0x7ff) - 1023;
    if (y == 0) return 2;
    if (e < 0) return 0;
    if (e > 52) return 2;
    uint64_t mant = (u & MANT_MASK) | ((uint64_t)1 << 52);
    if (mant & ((((uint64_t)1) << (52 - e)) - 1)) return 0;
    return (mant >> (52 - e)) & 1 ? 1 : 2;
}

double ol_math_pow(double x, double y) {
    if (y == 0 || x == 1) return 1;
    if (x != x || y != y) return x + y;
    double ax = fabs_(x);
    if (fabs_(y) == INF) {
        if (ax == 1) return 1;
        return (ax < 1) == (y < 0) ? INF : 0;
    }
    int kind = integer_kind(y), negative = x < 0 || (x == 0 && bits_of(x) >> 63);
    double sign = negative && kind == 1 ? -1 : 1;
    if (x < 0 && x != -INF && !kind) return QNAN;
    if (ax == 0) return y < 0 ? sign * INF : sign * 0.0;
    if (ax == INF) return y < 0 ? sign * 0.0 : sign * INF;
    double lh, ll;
    log_dd(ax, &lh, &ll);
    if (fabs_(y) > 0x1p64) return (lh > 0) == (y > 0) ? sign * INF : sign * 0.0; /* |y log x| > 1800 */
    double th, tl, e;
    two_prod(y, lh, &th, &tl);
    fast_two_sum(th, tl + y * ll, &th, &e);
    if (th > 709.79) return sign * INF;
    if (th < -745.2) return sign * 0.0;
    return sign * exp_dd(th, e);
}

/* ---- sin and cos ---- */

/* hi:lo = a b, 64 x 64 -> 128 bits */
static void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *lo = (mid << 32) | (p00 & 0xffffffffu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* 64 bits of 2/pi from bit `first` after the binary point (1-based) */
static uint64_t two_over_pi_bits(int first) {
    int off = first - 1, w = off / 64, sh = off % 64;
    uint64_t a = mf_two_over_pi[w];
    return sh ? a << sh | mf_two_over_pi[w + 1] >> (64 - sh) : a;
}

/* bit `pos` (0 = least significant) of the 256-bit p[0..3] */
static uint64_t bit_at(const uint64_t p[4], int pos) { return pos < 256 ? (p[pos / 64] >> (pos % 64)) & 1 : 0; }

/* p[0..3] keeps its `bits` lowest bits */
static void keep_low_bits(uint64_t p[4], int bits) {
    for (int k = 0; k < 4; k++) {
        if (64 * k >= bits) p[k] = 0;
        else if (64 * k + 64 > bits) p[k] &= (((uint64_t)1) << (bits - 64 * k)) - 1;
    }
}

/* Payne-Hanek: ax = n pi/2 + rh + rl, |r| <= pi/4, for finite ax >= 2^20; returns n mod 4 */
static int reduce_big(double ax, double *rh, double *rl) {
    uint64_t u = bits_of(ax), mant = (u & MANT_MASK) | ((uint64_t)1 << 52);
    int ex = (int)(u >> 52) - 1075;               /* ax = mant 2^ex */
    int first = ex - 1 > 1 ? ex - 1 : 1;          /* earlier bits of 2/pi give multiples of 4 */
    uint64_t w[3] = {two_over_pi_bits(first), two_over_pi_bits(first + 64), two_over_pi_bits(first + 128)};
    /* p[0..3] (least significant first) = mant * (w0 w1 w2), worth 2^(ex - first - 191) a unit */
    uint64_t p[4] = {0, 0, 0, 0};
    for (int i = 0; i < 3; i++) {
        uint64_t hi, lo;
        mul64(mant, w[2 - i], &hi, &lo);
        uint64_t s = p[i] + lo, carry = s < lo;
        p[i] = s;
        s = p[i + 1] + hi + carry;
        p[i + 1] = s;
    }
    int fbits = first + 191 - ex;                 /* bits of the fraction: 190 to 224 */
    int q = (int)(bit_at(p, fbits) | bit_at(p, fbits + 1) << 1); /* the integer part mod 4 */
    keep_low_bits(p, fbits);                      /* the fraction, fbits bits */
    int neg = (int)bit_at(p, fbits - 1);          /* fraction >= 1/2: n + 1, r < 0 */
    if (neg) {                                    /* fraction - 1 = -(2^fbits - fraction) */
        q = (q + 1) & 3;
        uint64_t borrow = 0;
        for (int k = 0; k < 4; k++) {
            uint64_t v = 0 - p[k] - borrow;
            borrow = p[k] || borrow ? 1 : 0;
            p[k] = v;
        }
        keep_low_bits(p, fbits);
    }
    int top = 255; /* the fraction's highest set bit */
    while (top >= 0 && !bit_at(p, top)) top--;
    if (top < 0) {
        *rh = *rl = 0;
        return q;
    }
    /* 128 bits from the top one: hi 53 bits exact, then the next 75 */
    uint64_t b[2];
    for (int k = 0; k < 2; k++) {
        int at = top - 63 - 64 * k; /* lowest bit of this 64-bit slice */
        uint64_t v = 0;
        for (int bit = 0; bit < 64; bit++)
            if (at + bit >= 0) v |= bit_at(p, at + bit) << bit;
        b[k] = v;
    }
    double fh = (double)(b[0] >> 11), fl = (double)(b[0] & 0x7ff) * 0x1p-11 + (double)(b[1] >> 11) * 0x1p-64;
    int scale = top - 52 - fbits; /* fh + fl in units of 2^scale */
    double ph, pe;
    two_prod(fh, MF_PIO2_HI, &ph, &pe);
    double rest = pe + fh * MF_PIO2_LO + fl * MF_PIO2_HI;
    fast_two_sum(ph, rest, &ph, &pe);
    *rh = scale2(ph, scale) * (neg ? -1 : 1);
    *rl = scale2(pe, scale) * (neg ? -1 : 1);
    return q;
}

/* x = n pi/2 + rh + rl, |r| <= pi/4 (or a hair more); returns n mod 4; finite x */
static int reduce(double x, double *rh, double *rl) {
    if (fabs_(x) < 0x1p20 * 1.5) {
        int n = nearest(x * MF_2_OVER_PI);
        double t = x - n * MF_PIO2_1; /* exact: n pi/2's first 33 bits times n (< 2^20) */
        double s, e, lo, ph, pe;
        two_sum(t, -n * MF_PIO2_2, &s, &lo);
        two_sum(s, -n * MF_PIO2_3, &s, &e);
        lo += e;
        two_prod(n, MF_PIO2_4, &ph, &pe);
        two_sum(s, -ph, &s, &e);
        lo += e - pe;
        fast_two_sum(s, lo, rh, rl);
        return ((n % 4) + 4) % 4;
    }
    int q = reduce_big(fabs_(x), rh, rl);
    if (x < 0) {
        *rh = -*rh;
        *rl = -*rl;
        q = (4 - q) & 3;
    }
    return q;
}

/* sin (want_sin) or cos of rh + rl, |r| <= pi/4 + a little: r = k/64 + t with the table's sin and cos
 * of k/64 */
static double kernel(double rh, double rl, int want_sin) {
    double sgn = rh < 0 ? -1 : 1, a = rh * sgn, al = rl * sgn;
    int k = nearest(a * 64);
    if (k > 51) k = 51;
    double t = a - k / 64.0, t2 = t * t; /* exact: k/64 is within 1/128 of a */
    double st = t * t2 * (-1.0 / 6 + t2 * (1.0 / 120 + t2 * (-1.0 / 5040 + t2 * (1.0 / 362880))));  /* sin t - t */
    double cm = t2 * (-0.5 + t2 * (1.0 / 24 + t2 * (-1.0 / 720 + t2 * (1.0 / 40320))));             /* cos t - 1 */
    const double *T = mf_sincos_table[k];
    double sh = T[0], sl = T[1], ch = T[2], cl = T[3], p, pe, s, se;
    if (want_sin) { /* sin(a + t) = S + C t + S (cos t - 1) + C (sin t - t) */
        two_prod(ch, t, &p, &pe);
        two_sum(sh, p, &s, &se);
        return sgn * (s + (se + pe + sl + cl * t + sh * cm + ch * (st + al)));
    }
    /* cos(a + t) = C - S t + C (cos t - 1) - S (sin t - t) */
    two_prod(sh, t, &p, &pe);
    two_sum(ch, -p, &s, &se);
    return s + (se - pe + cl - sl * t + ch * cm - sh * (st + al));
}

double ol_math_sin(double x) {
    if ((bits_of(x) & EXP_MASK) == EXP_MASK) return x != x ? x : QNAN;
    if (fabs_(x) < 0x1p-27) return x; /* sin x = x (1 - x^2/6): x^2/6 < 2^-55; keeps -0 */
    double rh, rl;
    int q = reduce(x, &rh, &rl);
    double v = kernel(rh, rl, !(q & 1));
    return q >= 2 ? -v : v;
}

double ol_math_cos(double x) {
    if ((bits_of(x) & EXP_MASK) == EXP_MASK) return x != x ? x : QNAN;
    if (fabs_(x) < 0x1p-27) return 1; /* 1 - x^2/2 rounds to 1 */
    double rh, rl;
    int q = reduce(x, &rh, &rl);
    double v = kernel(rh, rl, q & 1);
    return q == 1 || q == 2 ? -v : v;
}
