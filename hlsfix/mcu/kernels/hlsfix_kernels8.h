/*
 * hlsfix_kernels8.h -- 8-bit arithmetic for the kernel library (included by hlsfix_kernels.h).
 *
 * The numeric contract does not change: golden.py forms every product and sum in the program's
 * `wide` type (int32), and the C may compute them in anything that holds the same integers.  When
 * emit.py proves from the operands' widths (and the constant weights) that every product, aligned
 * operand and partial sum of a kernel fits in 16 bits, it instantiates the kernel with W = 16: the
 * same kernel macros over int16_t, with the 16-bit primitives below.  On the AVR that is the gain
 * of 8-bit data: an 8 x 8 -> 16 product is one `muls` (2 cycles), a 16-bit add two instructions,
 * where the 32-bit path needs four multiplies, 32-bit adds and 32-bit shifts.
 *
 * Operand-typed products (HLSFIX_MULT/HLSFIX_MACT pick by the element types of the operands):
 *   i8 x i8  -> int16  hlsfix_mul8      one muls
 *   i8 x i16 -> int32  hlsfix_mul8x16   muls + mulsu (two of the four multiplies of 16 x 16)
 *   i16 x i16 -> int32 hlsfix_mul16     (hlsfix_arith.h)
 * A W = 32 accumulator over 8 x 8 products adds each 16-bit product, shifted in 16 bits, to it.
 *
 * tests/mcu/test_kernels8.py checks every kernel against golden.py in simavr (-O2 and -Os) and
 * on the host under ASan+UBSan; benchmarks/bench_kernels8.py measures each beside its 16-bit
 * sibling.
 */
#ifndef HLSFIX_KERNELS8_H
#define HLSFIX_KERNELS8_H

#include <stdint.h>

#include "hlsfix_arith.h"

/* ---- 16-bit primitives: golden.py's shr, saturate, shift_exact, rescale_sat on int16_t ---- */

HLSFIX_INLINE int16_t hlsfix_shr16(int16_t v, int16_t s)
{
    if (s >= 15) {
        return v < 0 ? (int16_t)-1 : (int16_t)0;
    }
    return (int16_t)(v >> s);
}

HLSFIX_INLINE int16_t hlsfix_sat16(int16_t v, int16_t bits)
{
    int16_t hi, lo;
    if (bits >= 16) {
        return v;
    }
    hi = (int16_t)((INT16_C(1) << (bits - 1)) - 1);
    lo = (int16_t)(-hi - 1);
    return v > hi ? hi : (v < lo ? lo : v);
}

/* v * 2^s for s >= 0 (emit.py proves it fits int16), floor(v * 2^s) for s < 0 */
HLSFIX_INLINE int16_t hlsfix_shift_exact16(int16_t v, int16_t s)
{
    if (s >= 0) {
        return (int16_t)((uint16_t)v << s);
    }
    return hlsfix_shr16(v, (int16_t)-s);
}

HLSFIX_INLINE int16_t hlsfix_rescale_sat16(int16_t v, int16_t s, int16_t bits)
{
    int16_t hi, lo, hi_in, lo_in, left;
    if (s >= 0) {
        return hlsfix_sat16(hlsfix_shr16(v, s), bits);
    }
    hi = bits >= 16 ? INT16_MAX : (int16_t)((INT16_C(1) << (bits - 1)) - 1);
    lo = (int16_t)(-hi - 1);
    left = (int16_t)-s;
    if (left >= bits) {
        return v > 0 ? hi : (v < 0 ? lo : 0);
    }
    hi_in = (int16_t)(hi >> left);
    lo_in = (int16_t)(-(hi_in + 1));
    if (v > hi_in) {
        return hi;
    }
    if (v < lo_in) {
        return lo;
    }
    if (left == 15) { /* bits == 16: only v in {-1, 0} gets here */
        return v < 0 ? INT16_MIN : 0;
    }
    return (int16_t)((uint16_t)v << left);
}

/* ---- products of 8-bit operands ------------------------------------------------------------ */

/* 8 x 8 -> 16, exact (|a * b| <= 2^14).  On the AVR one muls; avr-gcc does not find it in
 * (int16_t)a * b by itself, so it is written out (operands in r16..r23, as muls requires). */
#if defined(__AVR__) && defined(__AVR_HAVE_MUL__)
HLSFIX_INLINE int16_t hlsfix_mul8(int8_t a, int8_t b)
{
    register int8_t ra __asm__("r18") = a;
    register int8_t rb __asm__("r20") = b;
    int16_t product;
    __asm__("muls r18, r20\n\t"
            "movw %[p], r0\n\t"
            "clr r1"
            : [p] "=r"(product)
            : "r"(ra), "r"(rb));
    return product;
}

/* 8 x 16 -> 32, exact (|a * b| <= 2^22): b = bh * 256 + bl (bh signed, bl unsigned), so
 * a * b = (a * bh) * 256 + a * bl, one muls and one mulsu.  After each, the carry holds the sign
 * of the 16-bit partial product: `sbc r25, r25` sign-extends a * bh into the top byte, and
 * `sbc r0, r0` makes the byte that sign-extends a * bl before it is added one byte lower.
 * a in r18, b in r21:r20, the product in r25:r24:r23:r22 (fixed, as in hlsfix_mul16). */
#define HLSFIX_AVR_MUL8X16_ASM                                                                      \
    "muls r18, r21\n\t"                                                                             \
    "sbc r25, r25\n\t"                                                                              \
    "mov r23, r0\n\t"                                                                               \
    "mov r24, r1\n\t"                                                                               \
    "mulsu r18, r20\n\t"                                                                            \
    "mov r22, r0\n\t"                                                                               \
    "sbc r0, r0\n\t"                                                                                \
    "add r23, r1\n\t"                                                                               \
    "adc r24, r0\n\t"                                                                               \
    "adc r25, r0\n\t"                                                                               \
    "clr r1\n\t"

HLSFIX_INLINE int32_t hlsfix_mul8x16(int8_t a, int16_t b)
{
    register int8_t ra __asm__("r18") = a;
    register int16_t rb __asm__("r20") = b;
    register int32_t product __asm__("r22");
    __asm__(HLSFIX_AVR_MUL8X16_ASM : "=r"(product) : "r"(ra), "r"(rb));
    return product;
}
#else
HLSFIX_INLINE int16_t hlsfix_mul8(int8_t a, int8_t b) { return (int16_t)((int16_t)a * (int16_t)b); }
HLSFIX_INLINE int32_t hlsfix_mul8x16(int8_t a, int16_t b) { return (int32_t)a * (int32_t)b; }
#endif

/* HLSFIX_MULT(W, TA, TB, x, y): the exact product of x (type TA) and y (type TB) in W bits. */
#define HLSFIX_MULT(W, TA, TB, x, y) HLSFIX_MUL_w##W##_##TA##_##TB(x, y)
#define HLSFIX_MUL_w16_i8_i8(x, y) hlsfix_mul8((int8_t)(x), (int8_t)(y))
#define HLSFIX_MUL_w32_i8_i8(x, y) ((int32_t)hlsfix_mul8((int8_t)(x), (int8_t)(y)))
#define HLSFIX_MUL_w32_i8_i16(x, y) hlsfix_mul8x16((int8_t)(x), (int16_t)(y))
#define HLSFIX_MUL_w32_i16_i8(x, y) hlsfix_mul8x16((int8_t)(y), (int16_t)(x))
#define HLSFIX_MUL_w32_i16_i16(x, y) HLSFIX_MUL_w32(x, y)
#define HLSFIX_MUL_w64_i8_i8(x, y) HLSFIX_MUL_w64(x, y)
#define HLSFIX_MUL_w64_i8_i16(x, y) HLSFIX_MUL_w64(x, y)
#define HLSFIX_MUL_w64_i8_i32(x, y) HLSFIX_MUL_w64(x, y)
#define HLSFIX_MUL_w64_i16_i8(x, y) HLSFIX_MUL_w64(x, y)
#define HLSFIX_MUL_w64_i16_i16(x, y) HLSFIX_MUL_w64(x, y)
#define HLSFIX_MUL_w64_i16_i32(x, y) HLSFIX_MUL_w64(x, y)
#define HLSFIX_MUL_w64_i32_i8(x, y) HLSFIX_MUL_w64(x, y)
#define HLSFIX_MUL_w64_i32_i16(x, y) HLSFIX_MUL_w64(x, y)
#define HLSFIX_MUL_w64_i32_i32(x, y) HLSFIX_MUL_w64(x, y)

/* HLSFIX_MACT(W, TA, TB, acc, x, y, S): acc += shr(x * y, S), S a literal.  An 8 x 8 product is
 * shifted in 16 bits (floor shifts of the same integer agree in any width that holds it). */
#define HLSFIX_MACT(W, TA, TB, acc, x, y, S) HLSFIX_MAC_w##W##_##TA##_##TB(acc, x, y, S)
#define HLSFIX_MAC_w16_i8_i8(acc, x, y, S)                                                          \
    ((acc) = (int16_t)((acc) + hlsfix_shr16(hlsfix_mul8((int8_t)(x), (int8_t)(y)), (S))))
#define HLSFIX_MAC_w32_i8_i8(acc, x, y, S)                                                          \
    ((acc) += (int32_t)hlsfix_shr16(hlsfix_mul8((int8_t)(x), (int8_t)(y)), (S)))
#define HLSFIX_MAC_w32_i8_i16(acc, x, y, S) ((acc) += hlsfix_shr32(HLSFIX_MUL_w32_i8_i16(x, y), (S)))
#define HLSFIX_MAC_w32_i16_i8(acc, x, y, S) ((acc) += hlsfix_shr32(HLSFIX_MUL_w32_i16_i8(x, y), (S)))
#define HLSFIX_MAC_w32_i16_i16(acc, x, y, S) HLSFIX_MAC_w32(acc, x, y, S)
#define HLSFIX_MAC_w64_i8_i8(acc, x, y, S) HLSFIX_MAC_w64(acc, x, y, S)
#define HLSFIX_MAC_w64_i8_i16(acc, x, y, S) HLSFIX_MAC_w64(acc, x, y, S)
#define HLSFIX_MAC_w64_i8_i32(acc, x, y, S) HLSFIX_MAC_w64(acc, x, y, S)
#define HLSFIX_MAC_w64_i16_i8(acc, x, y, S) HLSFIX_MAC_w64(acc, x, y, S)
#define HLSFIX_MAC_w64_i16_i16(acc, x, y, S) HLSFIX_MAC_w64(acc, x, y, S)
#define HLSFIX_MAC_w64_i16_i32(acc, x, y, S) HLSFIX_MAC_w64(acc, x, y, S)
#define HLSFIX_MAC_w64_i32_i8(acc, x, y, S) HLSFIX_MAC_w64(acc, x, y, S)
#define HLSFIX_MAC_w64_i32_i16(acc, x, y, S) HLSFIX_MAC_w64(acc, x, y, S)
#define HLSFIX_MAC_w64_i32_i32(acc, x, y, S) HLSFIX_MAC_w64(acc, x, y, S)

/* ---- SparseMatVec by rows, for 8-bit values or x ------------------------------------------
 * emit.py re-lays the column-compressed matrix out row by row (values, their column indices and
 * where each row starts: the same non-zeros, so the same exact sum in another order), so each row
 * is one dot product in a register accumulator, with no read-modify-write of an accumulator array
 * in RAM per non-zero.  Column indices are i8 (fewer than 128 columns) or i16. */
#define HLSFIX_DEF_SPMV_ROWS(TV, TC, TX, SX, TO, W, PS)                                             \
    static void hlsfix_spmvr_##TV##_##TC##_##TX##SX##_##TO##_w##W##_ps##PS(                         \
        const HLSFIX_T(TV) * vals, const HLSFIX_T(TC) * cols, const int16_t *row_start,             \
        const HLSFIX_T(TX) * x, HLSFIX_T(TO) * out, int16_t nrows, int16_t os, HLSFIX_W(W) rc)      \
    {                                                                                               \
        int16_t r, j = HLSFIX_LD_c_i16(row_start), end;                                             \
        for (r = 0; r < nrows; r++) {                                                               \
            HLSFIX_W(W) acc = rc; /* the rounding constant, or 0 */                                 \
            end = HLSFIX_LD_c_i16(row_start + r + 1);                                               \
            for (; j < end; j++) {                                                                  \
                HLSFIX_T(TX) xv = HLSFIX_LD(SX, TX, x + (int16_t)HLSFIX_LD_c_##TC(cols + j));       \
                HLSFIX_MACT(W, TV, TX, acc, HLSFIX_LD_c_##TV(vals + j), xv, PS);                    \
            }                                                                                       \
            out[r] = HLSFIX_STORE(TO, W, acc, os);                                                  \
        }                                                                                           \
    }

/* ---- MatVec8: a matrix of 8-bit values times an 8- or 16-bit vector in RAM (n = 1) -----------
 * HLSFIX_DOT8_<TB>_w<W>_<SA>(acc, a, b, k, PS) adds sum_l shr(a[l] * b[l], PS) to acc (k > 0).
 * On the AVR one assembly loop, a read by post-increment through Z (lpm from flash, or ld), b
 * through X, until X reaches the end of b:
 *   i8 x i8, W 16: muls, the 16-bit shift, a 16-bit add          ~14 + 2 * PS cycles a product
 *   i8 x i8, W 32: the same, the product sign-extended into acc  ~19 + 2 * PS
 *   i8 x i16, W 32: muls + mulsu (HLSFIX_AVR_MUL8X16_ASM)         ~27 + 4 * PS
 * r1 is cleared once after the loop. */
#if defined(__AVR__) && defined(__AVR_HAVE_MUL__)
#define HLSFIX_AVR_SHR16_S_ASM                                                                      \
    ".rept %[s]\n\t"                                                                                \
    "asr r23\n\t"                                                                                   \
    "ror r22\n\t"                                                                                   \
    ".endr\n\t"
#define HLSFIX_AVR_DOT8_LOOP(LDA, BODY, ACC, PA, PB, K, TB, S)                                      \
    do {                                                                                            \
        const int8_t *dot_pa_ = (PA);                                                               \
        const HLSFIX_T(TB) *dot_pb_ = (PB);                                                         \
        const HLSFIX_T(TB) *dot_end_ = dot_pb_ + (K);                                               \
        __asm__ __volatile__("1:\n\t" LDA " r18, Z+\n\t" BODY "cp r26, %A[end]\n\t"                 \
                             "cpc r27, %B[end]\n\t"                                                 \
                             "brne 1b\n\t"                                                          \
                             "clr r1"                                                               \
                             : [acc] "+r"(ACC), [pa] "+z"(dot_pa_), [pb] "+x"(dot_pb_)              \
                             : [end] "r"(dot_end_), [s] "n"(S)                                      \
                             : "r18", "r20", "r21", "r22", "r23", "r24", "r25", "memory");          \
    } while (0)
#define HLSFIX_AVR_DOT8_I8_W16                                                                      \
    "ld r20, X+\n\t"                                                                                \
    "muls r18, r20\n\t"                                                                             \
    "movw r22, r0\n\t" HLSFIX_AVR_SHR16_S_ASM "add %A[acc], r22\n\t"                                \
    "adc %B[acc], r23\n\t"
#define HLSFIX_AVR_DOT8_I8_W32                                                                      \
    "ld r20, X+\n\t"                                                                                \
    "muls r18, r20\n\t"                                                                             \
    "movw r22, r0\n\t" HLSFIX_AVR_SHR16_S_ASM "mov r24, r23\n\t"                                    \
    "lsl r24\n\t"                                                                                   \
    "sbc r24, r24\n\t"                                                                              \
    "add %A[acc], r22\n\t"                                                                          \
    "adc %B[acc], r23\n\t"                                                                          \
    "adc %C[acc], r24\n\t"                                                                          \
    "adc %D[acc], r24\n\t"
#define HLSFIX_AVR_DOT8_I16_W32                                                                     \
    "ld r20, X+\n\t"                                                                                \
    "ld r21, X+\n\t" HLSFIX_AVR_MUL8X16_ASM HLSFIX_AVR_SHR32_S_ASM "add %A[acc], r22\n\t"           \
    "adc %B[acc], r23\n\t"                                                                          \
    "adc %C[acc], r24\n\t"                                                                          \
    "adc %D[acc], r25\n\t"
#if defined(HLSFIX_CONST_IN_RAM)
#define HLSFIX_AVR_LDA_c "ld"
#else
#define HLSFIX_AVR_LDA_c "lpm"
#endif
#define HLSFIX_AVR_LDA_r "ld"
#define HLSFIX_DOT8(SA, TB, W, ACC, PA, PB, K, S)                                                   \
    HLSFIX_AVR_DOT8_LOOP(HLSFIX_AVR_LDA_##SA, HLSFIX_AVR_DOT8_##TB##_##W, ACC, PA, PB, K, TB, S)
#define HLSFIX_AVR_DOT8_i8_16 HLSFIX_AVR_DOT8_I8_W16
#define HLSFIX_AVR_DOT8_i8_32 HLSFIX_AVR_DOT8_I8_W32
#define HLSFIX_AVR_DOT8_i16_32 HLSFIX_AVR_DOT8_I16_W32
#else
#define HLSFIX_DOT8(SA, TB, W, ACC, PA, PB, K, S)                                                   \
    do {                                                                                            \
        int16_t dot_l_;                                                                             \
        for (dot_l_ = 0; dot_l_ < (K); dot_l_++) {                                                  \
            HLSFIX_MACT(W, i8, TB, ACC, HLSFIX_LD(SA, i8, (PA) + dot_l_), (PB)[dot_l_], S);         \
        }                                                                                           \
    } while (0)
#endif

#define HLSFIX_DEF_MATVEC8(SA, TB, TO, W, PS)                                                       \
    static HLSFIX_NOINLINE void hlsfix_matvec8_i8##SA##_##TB##_##TO##_w##W##_ps##PS(                \
        const int8_t *a, const HLSFIX_T(TB) * b, HLSFIX_T(TO) * out, int16_t m, int16_t k,          \
        int16_t os, HLSFIX_W(W) rc)                                                                 \
    {                                                                                               \
        int16_t i;                                                                                  \
        for (i = 0; i < m; i++) {                                                                   \
            HLSFIX_W(W) acc = rc; /* the rounding constant, or 0 */                                 \
            HLSFIX_DOT8(SA, TB, W, acc, a + i * k, b, k, PS);                                       \
            out[i] = HLSFIX_STORE(TO, W, acc, os);                                                  \
        }                                                                                           \
    }

/* ---- an activation of an 8-bit operand by one table of its 256 results (emit.py: lut8.py) -- */
#define HLSFIX_DEF_LUT8(SX, TO)                                                                     \
    static void hlsfix_lut8_i8##SX##_##TO(const int8_t *x, HLSFIX_T(TO) * out, int16_t n,           \
                                          const HLSFIX_T(TO) * table)                               \
    {                                                                                               \
        int16_t i;                                                                                  \
        for (i = 0; i < n; i++) {                                                                   \
            out[i] = HLSFIX_LD_c_##TO(table + (uint8_t)(HLSFIX_LD(SX, i8, x + i) + 128));            \
        }                                                                                           \
    }

/* ---- Conv2d of 8-bit operands, one group, output channels innermost --------------------------
 * For each output pixel the CO accumulators (CO = the output channels, a literal) live in a local
 * array; each input value x of a tap is read once and, unless it is 0 (shr(0 * f, PS) = 0, e.g.
 * after a relu), multiplied with the CO filter values of that tap, which are contiguous in the
 * [1, HF, WF, CIN, COUT] layout.  The same products as HLSFIX_DEF_CONV2D, summed in another order
 * (exact: no partial sum can overflow, lower.py and narrow.py). */
#define HLSFIX_DEF_CONV2D_CO(TX, SX, TF, SF, TO, W, PS, CO)                                         \
    static void hlsfix_conv2dco_##TX##SX##_##TF##SF##_##TO##_w##W##_ps##PS##_co##CO(                \
        const HLSFIX_T(TX) * x, const HLSFIX_T(TF) * f, HLSFIX_T(TO) * out, int16_t nb, int16_t h,  \
        int16_t w, int16_t c, int16_t hf, int16_t wf, int16_t ho, int16_t wo, int16_t sh,           \
        int16_t sw, int16_t pt, int16_t pl, int16_t dh, int16_t dw, int16_t os, HLSFIX_W(W) rc)     \
    {                                                                                               \
        HLSFIX_W(W) acc[CO];                                                                        \
        int16_t nn, oh, ow, i, j, ci, co, ih, iw;                                                   \
        HLSFIX_T(TO) *o = out;                                                                      \
        for (nn = 0; nn < nb; nn++)                                                                 \
            for (oh = 0; oh < ho; oh++)                                                             \
                for (ow = 0; ow < wo; ow++) {                                                       \
                    for (co = 0; co < CO; co++)                                                     \
                        acc[co] = rc;                                                               \
                    for (i = 0; i < hf; i++) {                                                      \
                        ih = (int16_t)(oh * sh + i * dh - pt);                                      \
                        if (ih < 0 || ih >= h)                                                      \
                            continue;                                                               \
                        for (j = 0; j < wf; j++) {                                                  \
                            const HLSFIX_T(TX) * xp;                                                \
                            const HLSFIX_T(TF) * fp;                                                \
                            iw = (int16_t)(ow * sw + j * dw - pl);                                  \
                            if (iw < 0 || iw >= w)                                                  \
                                continue;                                                           \
                            xp = x + ((nn * h + ih) * w + iw) * c;                                  \
                            fp = f + (i * wf + j) * c * CO;                                         \
                            for (ci = 0; ci < c; ci++, fp += CO) {                                  \
                                HLSFIX_T(TX) xv = HLSFIX_LD(SX, TX, xp + ci);                       \
                                if (xv == 0)                                                        \
                                    continue;                                                       \
                                for (co = 0; co < CO; co++) {                                       \
                                    HLSFIX_MACT(W, TX, TF, acc[co], xv, HLSFIX_LD(SF, TF, fp + co), PS); \
                                }                                                                   \
                            }                                                                       \
                        }                                                                           \
                    }                                                                               \
                    for (co = 0; co < CO; co++)                                                     \
                        *o++ = HLSFIX_STORE(TO, W, acc[co], os);                                    \
                }                                                                               \
    }

/* ---- SparseMatVec by rows, 8-bit values and x in RAM, fewer than 128 columns -----------------
 * The row's non-zeros come as one stream of (value, column) byte pairs (emit.py interleaves them),
 * read by lpm through Z; x[column] through X.  On the AVR the row is one assembly loop:
 * ~18 + 2 * PS cycles a non-zero with a 16-bit sum, ~23 + 2 * PS with a 32-bit one (n > 0). */
#if defined(__AVR__) && defined(__AVR_HAVE_MUL__) && !defined(HLSFIX_CONST_IN_RAM)
#define HLSFIX_AVR_SPMV8_ROW(ACC_ASM, ACC, PVC, N, XB, S)                                          \
    do {                                                                                            \
        const int8_t *row_pvc_ = (PVC);                                                             \
        const int8_t *row_xb_ = (XB);                                                               \
        uint16_t row_n_ = (uint16_t)(N);                                                            \
        uint8_t row_z_;                                                                             \
        __asm__ __volatile__("clr %[z]\n"                                                           \
                             "1:\n\t"                                                               \
                             "lpm r18, Z+\n\t"                                                      \
                             "lpm r0, Z+\n\t"                                                       \
                             "movw r26, %[xb]\n\t"                                                  \
                             "add r26, r0\n\t"                                                      \
                             "adc r27, %[z]\n\t"                                                    \
                             "ld r20, X\n\t"                                                        \
                             "muls r18, r20\n\t"                                                    \
                             "movw r22, r0\n\t" HLSFIX_AVR_SHR16_S_ASM ACC_ASM                      \
                             "subi %A[n], 1\n\t"                                                    \
                             "sbci %B[n], 0\n\t"                                                    \
                             "brne 1b\n\t"                                                          \
                             "clr r1"                                                               \
                             : [acc] "+r"(ACC), [pvc] "+z"(row_pvc_), [n] "+d"(row_n_),             \
                               [z] "=&r"(row_z_)                                                    \
                             : [xb] "r"(row_xb_), [s] "n"(S)                                        \
                             : "r18", "r20", "r22", "r23", "r24", "r26", "r27", "memory");          \
    } while (0)
#define HLSFIX_AVR_ACC16_ASM                                                                        \
    "add %A[acc], r22\n\t"                                                                          \
    "adc %B[acc], r23\n\t"
#define HLSFIX_AVR_ACC32_ASM                                                                        \
    "mov r24, r23\n\t"                                                                              \
    "lsl r24\n\t"                                                                                   \
    "sbc r24, r24\n\t"                                                                              \
    "add %A[acc], r22\n\t"                                                                          \
    "adc %B[acc], r23\n\t"                                                                          \
    "adc %C[acc], r24\n\t"                                                                          \
    "adc %D[acc], r24\n\t"
#define HLSFIX_SPMV8_ROW_16(ACC, PVC, N, XB, S) HLSFIX_AVR_SPMV8_ROW(HLSFIX_AVR_ACC16_ASM, ACC, PVC, N, XB, S)
#define HLSFIX_SPMV8_ROW_32(ACC, PVC, N, XB, S) HLSFIX_AVR_SPMV8_ROW(HLSFIX_AVR_ACC32_ASM, ACC, PVC, N, XB, S)
#else
#define HLSFIX_C_SPMV8_ROW(W, ACC, PVC, N, XB, S)                                                   \
    do {                                                                                            \
        int16_t row_j_;                                                                             \
        for (row_j_ = 0; row_j_ < (N); row_j_++) {                                                  \
            int8_t row_v_ = HLSFIX_LD_c_i8((PVC) + 2 * row_j_);                                     \
            int8_t row_x_ = (XB)[HLSFIX_LD_c_i8((PVC) + 2 * row_j_ + 1)];                           \
            HLSFIX_MACT(W, i8, i8, ACC, row_v_, row_x_, S);                                         \
        }                                                                                           \
    } while (0)
#define HLSFIX_SPMV8_ROW_16(ACC, PVC, N, XB, S) HLSFIX_C_SPMV8_ROW(16, ACC, PVC, N, XB, S)
#define HLSFIX_SPMV8_ROW_32(ACC, PVC, N, XB, S) HLSFIX_C_SPMV8_ROW(32, ACC, PVC, N, XB, S)
#endif

#define HLSFIX_DEF_SPMV8_ROWS(TO, W, PS)                                                            \
    static HLSFIX_NOINLINE void hlsfix_spmv8r_##TO##_w##W##_ps##PS(                                 \
        const int8_t *pairs, const int16_t *row_start, const int8_t *x, HLSFIX_T(TO) * out,          \
        int16_t nrows, int16_t os, HLSFIX_W(W) rc)                                                  \
    {                                                                                               \
        int16_t r, j = HLSFIX_LD_c_i16(row_start), end;                                             \
        for (r = 0; r < nrows; r++) {                                                               \
            HLSFIX_W(W) acc = rc; /* the rounding constant, or 0 */                                 \
            end = HLSFIX_LD_c_i16(row_start + r + 1);                                               \
            if (end > j) {                                                                          \
                HLSFIX_SPMV8_ROW_##W(acc, pairs + 2 * j, end - j, x, PS);                           \
            }                                                                                       \
            j = end;                                                                                \
            out[r] = HLSFIX_STORE(TO, W, acc, os);                                                  \
        }                                                                                           \
    }

#endif /* HLSFIX_KERNELS8_H */
