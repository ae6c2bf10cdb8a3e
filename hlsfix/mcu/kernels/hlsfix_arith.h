/*
 * hlsfix_arith.h -- the integer primitives of the numeric contract, in C99.
 *
 * Mirrors hlsfix/fixedpoint/golden.py exactly (shr, saturate, rescale_sat, shift_exact) for
 * the two "wide" types, int32_t and int64_t.  No undefined behaviour:
 *   - shifts by >= the width are handled explicitly (floor gives 0 or -1);
 *   - left shifts are multiplications by a power of two, done only where the result fits
 *     (rescale_sat checks the range first; shift_exact is guaranteed to fit by the compiler,
 *     which golden.py checks on the data);
 *   - every constant is typed (INT32_C, INT64_C): on AVR `int` is 16 bits.
 *
 * Floor right shift of a negative value: C99 leaves `>>` of a negative number
 * implementation-defined.  gcc (host, avr-gcc, arm-none-eabi-gcc) documents it as arithmetic,
 * i.e. floor, which is what we rely on; HLSFIX_ASSERT_ARITHMETIC_SHIFT makes any compiler that
 * does otherwise fail to build (a negative array size) rather than compute wrong answers.
 */
#ifndef HLSFIX_ARITH_H
#define HLSFIX_ARITH_H

#include <stdint.h>

typedef char hlsfix_assert_arithmetic_shift32[((INT32_C(-7) >> 1) == INT32_C(-4)) ? 1 : -1];
typedef char hlsfix_assert_arithmetic_shift64[((INT64_C(-7) >> 1) == INT64_C(-4)) ? 1 : -1];

/* Inline where the compiler allows; `static` keeps every translation unit self-contained. */
#if defined(__GNUC__)
#define HLSFIX_INLINE static __inline__ __attribute__((always_inline))
#define HLSFIX_UNUSED __attribute__((unused))
#else
#define HLSFIX_INLINE static
#define HLSFIX_UNUSED
#endif

/* ---- floor right shift, s >= 0 ----------------------------------------------------------- */

HLSFIX_INLINE int32_t hlsfix_shr32(int32_t v, int16_t s)
{
    if (s >= 31) {
        return v < 0 ? INT32_C(-1) : INT32_C(0);
    }
    return v >> s;
}

HLSFIX_INLINE int64_t hlsfix_shr64(int64_t v, int16_t s)
{
    if (s >= 63) {
        return v < 0 ? INT64_C(-1) : INT64_C(0);
    }
    return v >> s;
}

/* ---- saturation to a `bits`-wide signed range (bits <= 32 for the 32-bit version) -------- */

HLSFIX_INLINE int32_t hlsfix_sat32(int32_t v, int16_t bits)
{
    int32_t hi, lo;
    if (bits >= 32) {
        return v;
    }
    hi = (int32_t)((INT32_C(1) << (bits - 1)) - 1);
    lo = (int32_t)(-hi - 1);
    return v > hi ? hi : (v < lo ? lo : v);
}

HLSFIX_INLINE int64_t hlsfix_sat64(int64_t v, int16_t bits)
{
    int64_t hi, lo;
    if (bits >= 64) {
        return v;
    }
    hi = (int64_t)((INT64_C(1) << (bits - 1)) - 1);
    lo = (int64_t)(-hi - 1);
    return v > hi ? hi : (v < lo ? lo : v);
}

/* ---- shift_exact: v * 2^s (s >= 0, fits by construction) or floor(v * 2^s) (s < 0) ------- */

HLSFIX_INLINE int32_t hlsfix_shift_exact32(int32_t v, int16_t s)
{
    if (s >= 0) {
        return v * (INT32_C(1) << s); /* the compiler keeps s <= 30 (emit.py checks) */
    }
    return hlsfix_shr32(v, (int16_t)-s);
}

HLSFIX_INLINE int64_t hlsfix_shift_exact64(int64_t v, int16_t s)
{
    if (s >= 0) {
        return v * (INT64_C(1) << s);
    }
    return hlsfix_shr64(v, (int16_t)-s);
}

/*
 * rescale_sat: sat(floor(v * 2^-s)) to `bits` (<= 32).  For s < 0 the left shift saturates:
 * v is compared with the largest/smallest value that still fits after the shift, so the
 * multiplication is only done when its result is in range.
 */
HLSFIX_INLINE int32_t hlsfix_rescale_sat32(int32_t v, int16_t s, int16_t bits)
{
    int32_t hi, lo, hi_in, lo_in;
    int16_t left;
    if (s >= 0) {
        return hlsfix_sat32(hlsfix_shr32(v, s), bits);
    }
    hi = bits >= 32 ? INT32_MAX : (int32_t)((INT32_C(1) << (bits - 1)) - 1);
    lo = (int32_t)(-hi - 1);
    left = (int16_t)-s;
    if (left >= bits) {
        return v > 0 ? hi : (v < 0 ? lo : 0);
    }
    hi_in = hi >> left;
    lo_in = -(hi_in + 1); /* = -((-lo) >> left), without forming -lo (it may not fit) */
    if (v > hi_in) {
        return hi;
    }
    if (v < lo_in) {
        return lo;
    }
    if (left == 31) { /* bits == 32: only v in {-1, 0} gets here */
        return v < 0 ? INT32_MIN : 0;
    }
    return v * (INT32_C(1) << left);
}

HLSFIX_INLINE int64_t hlsfix_rescale_sat64(int64_t v, int16_t s, int16_t bits)
{
    int64_t hi, lo, hi_in, lo_in;
    int16_t left;
    if (s >= 0) {
        return hlsfix_sat64(hlsfix_shr64(v, s), bits);
    }
    hi = bits >= 64 ? INT64_MAX : (int64_t)((INT64_C(1) << (bits - 1)) - 1);
    lo = (int64_t)(-hi - 1);
    left = (int16_t)-s;
    if (left >= bits) {
        return v > 0 ? hi : (v < 0 ? lo : 0);
    }
    hi_in = hi >> left;
    lo_in = -(hi_in + 1); /* = -((-lo) >> left), without forming -lo */
    if (v > hi_in) {
        return hi;
    }
    if (v < lo_in) {
        return lo;
    }
    if (left == 63) {
        return v < 0 ? INT64_MIN : 0;
    }
    return v * (INT64_C(1) << left);
}

/* Floor division of n by d > 0 (C's `/` truncates towards zero). */
HLSFIX_INLINE int32_t hlsfix_floordiv32(int32_t n, int32_t d)
{
    int32_t q = n / d;
    return (n % d != 0 && n < 0) ? q - 1 : q;
}

HLSFIX_INLINE int64_t hlsfix_floordiv64(int64_t n, int64_t d)
{
    int64_t q = n / d;
    return (n % d != 0 && n < 0) ? q - 1 : q;
}

#endif /* HLSFIX_ARITH_H */
