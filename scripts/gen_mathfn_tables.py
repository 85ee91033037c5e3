#!/usr/bin/env python3
"""gen_mathfn_tables.py: writes src/mathfn_tables.h, the constants of optlab's own exp, log, pow,
sin and cos (src/mathfn.c), from exact arithmetic: pi by Machin's formula in integers, the other
values with Python's decimal module at 80 digits, each split into a double and the double of the
rest (hi + lo), written as C hex floats (exact).  Run from the repository root:
    python3 scripts/gen_mathfn_tables.py > src/mathfn_tables.h
The output depends on nothing but this file (no libm)."""
from decimal import Decimal, getcontext
from fractions import Fraction

getcontext().prec = 80
BITS = 1600  # fixed-point bits of pi (2/pi needs about 1100 bits for |x| up to 2^1024, plus 192)


def arctan_inv(n, one):
    """arctan(1/n) * one, by the Taylor series in integers"""
    total, term, k, sign = 0, one // n, 1, 1
    while term:
        total += sign * (term // k)
        term //= n * n
        k += 2
        sign = -sign
    return total


ONE = 1 << (BITS + 32)
PI_FIXED = (16 * arctan_inv(5, ONE) - 4 * arctan_inv(239, ONE)) >> 32  # pi * 2^BITS, error < a few units
PI = Fraction(PI_FIXED, 1 << BITS)
PI_DEC = Decimal(PI_FIXED) / Decimal(1 << BITS)


def split(v):
    """v (Fraction) -> (hi, lo) doubles: hi = v rounded, lo = (v - hi) rounded"""
    hi = float(v)
    return hi, float(v - Fraction(hi))


def truncate_bits(v, bits):
    """v (Fraction > 0) to a double with at most `bits` significant bits (truncated)"""
    e = 0
    while v >= 2:
        v /= 2
        e += 1
    while v < 1:
        v *= 2
        e -= 1
    m = int(v * (1 << (bits - 1)))
    return Fraction(m, 1 << (bits - 1)) * Fraction(2) ** e


def hexf(x):
    return x.hex()


def dec_sin_cos(x):
    """sin and cos of a Decimal by their series"""
    s, c, term, k = Decimal(0), Decimal(0), Decimal(1), 0
    while True:
        if k % 2 == 0:
            c += term if (k // 2) % 2 == 0 else -term
        else:
            s += term if (k // 2) % 2 == 0 else -term
        k += 1
        term = term * x / k
        if abs(term) < Decimal(10) ** -75:
            return s, c


out = []
w = out.append
w("/* mathfn_tables.h: constants of src/mathfn.c, written by scripts/gen_mathfn_tables.py from exact")
w(" * arithmetic (do not edit): each value as a double hi and the double lo of the rest. */")
w("")

ln2 = Decimal(2).ln()
LN2 = Fraction(ln2)
# ln 2 for exp and log: hi with 42 bits (times an exponent of 11 bits is exact), lo the rest
ln2_hi = truncate_bits(LN2, 42)
w("#define MF_LN2_HI %s" % hexf(float(ln2_hi)))
w("#define MF_LN2_LO %s" % hexf(float(LN2 - ln2_hi)))
# exp: x = k ln2/128 + r; ln2/128 with 35 bits (times |k| < 2^18 is exact), then the rest
l1 = truncate_bits(LN2 / 128, 35)
w("#define MF_EXP_L1 %s" % hexf(float(l1)))
w("#define MF_EXP_L2 %s" % hexf(float(LN2 / 128 - l1)))
w("#define MF_EXP_INV %s /* 128 / ln 2 */" % hexf(float(128 / LN2)))
# pi/2 in four parts: three of 33 bits (times |n| <= 2^20 is exact), then 53 bits; and as hi + lo
PIO2 = PI / 2
parts, rest = [], PIO2
for bits in (33, 33, 33):
    p = truncate_bits(rest, bits)
    parts.append(p)
    rest -= p
parts.append(Fraction(float(rest)))
for i, p in enumerate(parts):
    w("#define MF_PIO2_%d %s" % (i + 1, hexf(float(p))))
hi, lo = split(PIO2)
w("#define MF_PIO2_HI %s" % hexf(hi))
w("#define MF_PIO2_LO %s" % hexf(lo))
w("#define MF_2_OVER_PI %s" % hexf(float(2 / PI)))
w("")

w("/* 2^(j/128), j = 0..127 */")
w("static const double mf_exp2_table[128][2] = {")
for j in range(128):
    v = Fraction(Decimal(2) ** (Decimal(j) / 128))
    hi, lo = split(v)
    w("    {%s, %s}," % (hexf(hi), hexf(lo)))
w("};")
w("")

w("/* log: for j = -76..108, c = 1 / (1 + j/256) rounded to a double, and -log(c) exactly for that c */")
w("#define MF_LOG_J0 76")
w("static const double mf_log_table[185][3] = {")
for j in range(-76, 109):
    c = float(1 / (1 + Fraction(j, 256)))
    v = -Fraction(Decimal(c).ln()) if j else Fraction(0)
    hi, lo = split(v)
    w("    {%s, %s, %s}," % (hexf(c), hexf(hi), hexf(lo)))
w("};")
w("")

w("/* sin(k/64) and cos(k/64), k = 0..51, each hi and lo */")
w("static const double mf_sincos_table[52][4] = {")
for k in range(52):
    s, c = dec_sin_cos(Decimal(k) / 64)
    sh, sl = split(Fraction(s))
    ch, cl = split(Fraction(c))
    w("    {%s, %s, %s, %s}," % (hexf(sh), hexf(sl), hexf(ch), hexf(cl)))
w("};")
w("")

# 2/pi in 64-bit words: word i holds bits 64i+1 .. 64i+64 after the binary point
words = 24
two_over_pi = (2 << (BITS + 0)) * (1 << (64 * words)) // PI_FIXED  # 2/pi * 2^(64 words), floor
w("/* the bits of 2/pi after the binary point, 64 a word (Payne-Hanek reduction) */")
w("#define MF_TWO_OVER_PI_WORDS %d" % words)
w("static const uint64_t mf_two_over_pi[%d] = {" % words)
for i in range(words):
    w("    0x%016xu," % ((two_over_pi >> (64 * (words - 1 - i))) & ((1 << 64) - 1)))
w("};")
print("\n".join(out))
