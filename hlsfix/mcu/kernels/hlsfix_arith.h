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
#include <string.h>

typedef char hlsfix_assert_arithmetic_shift32[((INT32_C(-7) >> 1) == INT32_C(-4)) ? 1 : -1];
typedef char hlsfix_assert_arithmetic_shift64[((INT64_C(-7) >> 1) == INT64_C(-4)) ? 1 : -1];

/* Inline where the compiler allows; `static` keeps every translation unit self-contained. */
#if defined(__GNUC__)
#define HLSFIX_INLINE static __inline__ __attribute__((always_inline))
#define HLSFIX_UNUSED __attribute__((unused))
#define HLSFIX_NOINLINE __attribute__((noinline))
#else
#define HLSFIX_INLINE static
#define HLSFIX_UNUSED
#define HLSFIX_NOINLINE
#endif

/* ---- floor right shift, s >= 0 ----------------------------------------------------------- */

#if defined(__AVR__)
/*
 * AVR has no barrel shifter: avr-gcc shifts an int32_t by a variable count, and by a constant
 * above 3, one bit per loop step (~7 cycles a bit).  This shift (0 <= s <= 30) moves whole
 * bytes for the 16 and 8 bits of s and loops only over the last 0..7 bits; for 6 or 7 of them it
 * shifts left by 8 - s through a fifth byte instead and drops the low byte:
 * floor(v / 2^s) = floor(v * 2^(8 - s) / 2^8).
 */
HLSFIX_INLINE int32_t hlsfix_avr_asr32(int32_t v, uint8_t s)
{
    uint8_t extra;
    __asm__("sbrs %[s], 4\n\t"
            "rjmp 1f\n\t"
            "movw %A[v], %C[v]\n\t"
            "mov %C[v], %D[v]\n\t"
            "lsl %C[v]\n\t"
            "sbc %C[v], %C[v]\n\t"
            "mov %D[v], %C[v]\n"
            "1:\n\t"
            "sbrs %[s], 3\n\t"
            "rjmp 2f\n\t"
            "mov %A[v], %B[v]\n\t"
            "mov %B[v], %C[v]\n\t"
            "mov %C[v], %D[v]\n\t"
            "lsl %D[v]\n\t"
            "sbc %D[v], %D[v]\n"
            "2:\n\t"
            "andi %[s], 7\n\t"
            "breq 4f\n\t"
            "cpi %[s], 6\n\t"
            "brlo 3f\n\t"
            "mov %[e], %D[v]\n\t" /* e:v, 40 bits, sign-extended */
            "lsl %[e]\n\t"
            "sbc %[e], %[e]\n\t"
            "subi %[s], 8\n\t" /* s = 8 - s */
            "neg %[s]\n"
            "5:\n\t"
            "lsl %A[v]\n\t"
            "rol %B[v]\n\t"
            "rol %C[v]\n\t"
            "rol %D[v]\n\t"
            "rol %[e]\n\t"
            "dec %[s]\n\t"
            "brne 5b\n\t"
            "mov %A[v], %B[v]\n\t" /* drop the low byte */
            "mov %B[v], %C[v]\n\t"
            "mov %C[v], %D[v]\n\t"
            "mov %D[v], %[e]\n\t"
            "rjmp 4f\n"
            "3:\n\t"
            "asr %D[v]\n\t"
            "ror %C[v]\n\t"
            "ror %B[v]\n\t"
            "ror %A[v]\n\t"
            "dec %[s]\n\t"
            "brne 3b\n"
            "4:"
            : [v] "+r"(v), [s] "+d"(s), [e] "=&r"(extra));
    return v;
}
#endif

HLSFIX_INLINE int32_t hlsfix_shr32(int32_t v, int16_t s)
{
    if (s >= 31) {
        return v < 0 ? INT32_C(-1) : INT32_C(0);
    }
#if defined(__AVR__) && defined(__GNUC__)
    if (!(__builtin_constant_p(s) && s <= 3)) {
        return hlsfix_avr_asr32(v, (uint8_t)s);
    }
#endif
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
        /* v * 2^s fits int32 (the compiler keeps s <= 30, emit.py checks, and golden.py checks the
         * value): shifting the two's complement bits as uint32_t gives exactly that value, without
         * a left shift of a negative number, and without the 32-bit multiply call AVR would make. */
        return (int32_t)((uint32_t)v << s);
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

/* ---- 16 x 16 -> 32 bit signed product ------------------------------------------------------
 * Exact for every pair of int16_t operands (|a * b| <= 2^30).  On AVR, avr-gcc calls the libgcc
 * helper __mulhisi3 for `(int32_t)a * b` (two calls, ~45 cycles); the inline version below is the
 * four-multiply sequence of Atmel's application note AVR201 (~20 cycles):
 *     a * b = (ah * bh) << 16 + (al * bl) + ((ah * bl) + (bh * al)) << 8
 * with ah, bh signed high bytes (muls/mulsu) and al, bl unsigned low bytes.  After each mulsu the
 * carry holds the sign of the 16-bit partial product, and `sbci top, 0` sign-extends it into the
 * top byte; the carry of the middle add goes into the top byte through r1 after `clr r1` (which
 * keeps the carry), so r1 (__zero_reg__) is zero again at the end.  muls/mulsu only take r16..r23,
 * so the operands sit in fixed registers (GCC's local register variables, the documented way to
 * place asm operands): a in r19:r18, b in r21:r20, the product in r25:r24:r23:r22.  Fixed
 * registers keep the register allocator's task trivial wherever the code is inlined (the register
 * class constraint "a" made avr-gcc fail on large functions, e.g. the 8-bit bonsai at -Os). */
#if defined(__AVR__) && defined(__AVR_HAVE_MUL__)
#define HLSFIX_AVR_MUL16_ASM                                                                         \
    "muls r19, r21\n\t"                                                                              \
    "movw r24, r0\n\t"                                                                               \
    "mul r18, r20\n\t"                                                                               \
    "movw r22, r0\n\t"                                                                               \
    "mulsu r19, r20\n\t"                                                                             \
    "sbci r25, 0\n\t"                                                                                \
    "add r23, r0\n\t"                                                                                \
    "adc r24, r1\n\t"                                                                                \
    "clr r1\n\t"                                                                                     \
    "adc r25, r1\n\t"                                                                                \
    "mulsu r21, r18\n\t"                                                                             \
    "sbci r25, 0\n\t"                                                                                \
    "add r23, r0\n\t"                                                                                \
    "adc r24, r1\n\t"                                                                                \
    "clr r1\n\t"                                                                                     \
    "adc r25, r1\n\t"

/* The same product for loops that keep a zero in a register of their own (%[z]): sign-extending with
 * it (sbc) instead of clearing r1 each time saves two cycles a product; r1 is cleared once after. */
#define HLSFIX_AVR_MUL16_Z_ASM                                                                       \
    "muls r19, r21\n\t"                                                                              \
    "movw r24, r0\n\t"                                                                               \
    "mul r18, r20\n\t"                                                                               \
    "movw r22, r0\n\t"                                                                               \
    "mulsu r19, r20\n\t"                                                                             \
    "sbc r25, %[z]\n\t"                                                                              \
    "add r23, r0\n\t"                                                                                \
    "adc r24, r1\n\t"                                                                                \
    "adc r25, %[z]\n\t"                                                                              \
    "mulsu r21, r18\n\t"                                                                             \
    "sbc r25, %[z]\n\t"                                                                              \
    "add r23, r0\n\t"                                                                                \
    "adc r24, r1\n\t"                                                                                \
    "adc r25, %[z]\n\t"

/* Arithmetic right shift of the product in r25..r22 by the literal operand %[s], one bit at a time
 * (an empty block for s = 0). */
#define HLSFIX_AVR_SHR32_S_ASM                                                                       \
    ".rept %[s]\n\t"                                                                                 \
    "asr r25\n\t"                                                                                    \
    "ror r24\n\t"                                                                                    \
    "ror r23\n\t"                                                                                    \
    "ror r22\n\t"                                                                                    \
    ".endr\n\t"

HLSFIX_INLINE int32_t hlsfix_mul16(int16_t a, int16_t b)
{
    register int16_t ra __asm__("r18") = a;
    register int16_t rb __asm__("r20") = b;
    register int32_t product __asm__("r22");
    __asm__(HLSFIX_AVR_MUL16_ASM : "=r"(product) : "r"(ra), "r"(rb));
    return product;
}

/* acc += floor((a * b) / 2^S) for a literal S in 0..30: the product above, its arithmetic right
 * shift by S unrolled (asr/ror per bit; nothing for S = 0), and the 32-bit add, in one block.
 * The accumulator never leaves int32 (the compiler chooses S so that it cannot, lower.py). */
#define HLSFIX_MAC16_SHR(ACC, X, Y, S)                                                               \
    do {                                                                                             \
        int16_t mac_x_ = (X), mac_y_ = (Y);                                                          \
        register int16_t mac_a_ __asm__("r18") = mac_x_;                                             \
        register int16_t mac_b_ __asm__("r20") = mac_y_;                                             \
        __asm__(HLSFIX_AVR_MUL16_ASM HLSFIX_AVR_SHR32_S_ASM                                          \
                                     "add %A[acc], r22\n\t"                                          \
                                     "adc %B[acc], r23\n\t"                                          \
                                     "adc %C[acc], r24\n\t"                                          \
                                     "adc %D[acc], r25"                                              \
                : [acc] "+r"(ACC)                                                                    \
                : "r"(mac_a_), "r"(mac_b_), [s] "n"(S)                                               \
                : "r22", "r23", "r24", "r25");                                                       \
    } while (0)
#else
HLSFIX_INLINE int32_t hlsfix_mul16(int16_t a, int16_t b) { return (int32_t)a * (int32_t)b; }
#define HLSFIX_MAC16_SHR(ACC, X, Y, S) ((ACC) += hlsfix_shr32(hlsfix_mul16((X), (Y)), (S)))
#endif

/*
 * 32 / 16 -> 16 bit unsigned division, n / d for d > 0 and n >> 16 < d (so the quotient fits in
 * 16 bits): 16 steps of restoring long division instead of the 32 of a general 32-bit division.
 * The remainder `rem` (n's high half at the start) stays below d; each step shifts the next bit
 * of n's low half `lo` into it, giving 2 * rem + bit < 2^17: when that reaches 2^16 (a carry out
 * of the shift) or d, d is subtracted (in 16 bits, exact as the result is < d) and the quotient
 * bit is 1.  The quotient bits are shifted into `lo` from the right as n's bits leave it on the
 * left (~11 cycles a step, against ~600 cycles for libgcc's 32-bit __divmodsi4).  AVR only:
 * elsewhere the hardware or libgcc division is at least as fast.
 */
#if defined(__AVR__)
HLSFIX_INLINE uint16_t hlsfix_udiv32_16(uint32_t n, uint16_t d)
{
    uint16_t rem = (uint16_t)(n >> 16), lo = (uint16_t)n;
    uint8_t steps;
    __asm__("ldi %[k], 16\n"
            "1:\n\t"
            "lsl %A[lo]\n\t"
            "rol %B[lo]\n\t"
            "rol %A[rem]\n\t"
            "rol %B[rem]\n\t"
            "brcs 2f\n\t"
            "cp %A[rem], %A[d]\n\t"
            "cpc %B[rem], %B[d]\n\t"
            "brcs 3f\n"
            "2:\n\t"
            "sub %A[rem], %A[d]\n\t"
            "sbc %B[rem], %B[d]\n\t"
            "inc %A[lo]\n"
            "3:\n\t"
            "dec %[k]\n\t"
            "brne 1b"
            : [lo] "+r"(lo), [rem] "+r"(rem), [k] "=&d"(steps)
            : [d] "r"(d));
    return lo;
}
#endif

/* Floor division of n by d > 0 (C's `/` truncates towards zero).  On AVR a non-negative n with
 * a quotient below 2^16 (the sigmoid/tanh case) takes the short division above. */
HLSFIX_INLINE int32_t hlsfix_floordiv32(int32_t n, int32_t d)
{
    int32_t q;
#if defined(__AVR__)
    if (n >= 0 && d <= INT32_C(0xFFFF) && (n >> 16) < d) {
        return (int32_t)hlsfix_udiv32_16((uint32_t)n, (uint16_t)d);
    }
#endif
    q = n / d;
    return (n % d != 0 && n < 0) ? q - 1 : q;
}

HLSFIX_INLINE int64_t hlsfix_floordiv64(int64_t n, int64_t d)
{
    int64_t q = n / d;
    return (n % d != 0 && n < 0) ? q - 1 : q;
}

/*
 * The input's quantisation, floor(x * 2^frac + 0.5) saturated to [qmin, qmax], exactly as
 * golden.quantize_input, from the bits of the float: no float arithmetic, where each float
 * operation on the AVR is a library call of ~100 cycles.  A finite float is x = +-m * 2^(e - 150)
 * (m the 24-bit significand with its hidden bit; e = 1 and no hidden bit for subnormals), so
 * x * 2^frac = +-m / 2^s with s = 150 - e - frac, and for s > 0
 *     floor(m / 2^s + 1/2)   = (m + 2^(s-1)) >> s       = ((m >> (s-1)) + 1) >> 1          (x >= 0)
 *     floor(-m / 2^s + 1/2)  = -((m + 2^(s-1) - 1) >> s) = -((((m-1) >> (s-1)) + 1) >> 1)  (x < 0),
 * (one shift by a run-time count), both 0 once s > 25 (m < 2^24); for s <= 0 the value is the
 * integer m * 2^-s.  NaN gives qmin,
 * +-infinity and every value beyond the range saturate.
 */
HLSFIX_INLINE int32_t hlsfix_quantize_f32(float x, int16_t frac, int32_t qmin, int32_t qmax)
{
    uint32_t bits, m;
    int16_t e, s;
    int32_t q;
    uint8_t neg;
    memcpy(&bits, &x, sizeof bits);
    neg = (uint8_t)(bits >> 31);
    e = (int16_t)((bits >> 23) & 0xFF);
    m = bits & UINT32_C(0x7FFFFF);
    if (e == 0xFF) {
        return (m != 0 || neg) ? qmin : qmax;
    }
    if (e == 0) {
        e = 1;
    } else {
        m |= UINT32_C(0x800000);
    }
    s = (int16_t)(150 - e - frac);
    if (s <= 0) {
        if (m == 0) {
            return 0;
        }
        if (-s >= 8) { /* |x * 2^frac| >= 2^23 * 2^8 = 2^31, beyond every range */
            return neg ? qmin : qmax;
        }
        q = (int32_t)(m << -s); /* < 2^31 */
        q = neg ? -q : q;
    } else if (s > 25) {
        q = 0;
    } else if (neg) { /* m >= 1 here: a zero or subnormal has s > 25 */
        q = -((hlsfix_shr32((int32_t)(m - 1), (int16_t)(s - 1)) + 1) >> 1);
    } else {
        q = (hlsfix_shr32((int32_t)m, (int16_t)(s - 1)) + 1) >> 1;
    }
    return q < qmin ? qmin : (q > qmax ? qmax : q);
}

#endif /* HLSFIX_ARITH_H */
