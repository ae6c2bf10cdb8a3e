/*
 * hlsfix_kernels.h -- the fixed-point kernel library (hand-written, reviewed once).
 *
 * One kernel per KernelProgram kind, with exactly the integer semantics of
 * hlsfix/fixedpoint/golden.py.  Operands come in three element types (i8, i16, i32) and two
 * memory spaces: `r` (RAM: the arena, the caller's input) and `c` (constants: flash on AVR,
 * read with pgm_read_*; plain memory elsewhere).  A program mixing widths (8-bit weights,
 * 16-bit activations) needs many combinations, so the arithmetic kernels are written once as
 * macros, and the generated model.c instantiates just the variants it calls, e.g.
 *
 *     HLSFIX_DEF_MATMUL(i16, c, i16, r, i16, 32, 2)   defines   hlsfix_matmul_i16c_i16r_i16_w32_ps2()
 *
 * (a: int16 constant, b: int16 in RAM, out: int16, products/accumulator in int32_t, each product
 * shifted right by the constant 2).
 *
 * Speed on the AVR (the Uno has no barrel shifter and an 8 x 8 multiplier): the dot-product
 * kernels shift by compile-time constants, multiply 16 x 16 -> 32 inline (hlsfix_arith.h), and the
 * commonest shapes (MatVec16, SparseMatVec16) have their inner loop in AVR assembly, with a C
 * version of the same arithmetic for every other target.  tests/mcu/test_arith_primitives.py
 * checks the assembly against exact integers, tests/mcu/test_c_backend.py every kernel against
 * golden.py.  8-bit operands run on the 8 x 8 multiplier, in 16-bit arithmetic where emit.py
 * proves it exact (hlsfix_kernels8.h, tests/mcu/test_kernels8.py).
 * Each element i of an element-wise kernel reads all its operands before it writes out[i],
 * so such a kernel may write over its input in place (see hlsfix/memory/liveness.py).
 * Rounding (program.py's round_out): the kernels that end in a right shift (MatMul, SparseMatVec,
 * Conv2d, AddSub, Mul, Rescale) take `rc`, the rounding constant golden.round_const gives
 * (2^(os-1) where the kernel rounds, else 0), added to the wide value before the floor shift; the
 * dot products start their accumulator at rc instead of 0, so rounding costs them nothing.
 * Data movement that does not depend on the element type (permute, window, fill, copies)
 * is byte-generic and lives in hlsfix_kernels.c.
 *
 * Sizes, indices and registers are int16_t: every buffer has fewer than 32768 elements
 * (emit.py checks), and on AVR `int` is 16 bits anyway.
 */
#ifndef HLSFIX_KERNELS_H
#define HLSFIX_KERNELS_H

#include <stdint.h>
#include <string.h>

#include "hlsfix_arith.h"

/* ---- constants: flash on AVR (unless HLSFIX_CONST_IN_RAM), plain memory elsewhere --------- */
#if defined(__AVR__) && !defined(HLSFIX_CONST_IN_RAM)
#include <avr/pgmspace.h>
#define HLSFIX_PROGMEM PROGMEM
#define HLSFIX_CONST_READ8(p) ((int8_t)pgm_read_byte(p))
#define HLSFIX_CONST_READ16(p) ((int16_t)pgm_read_word(p))
#define HLSFIX_CONST_READ32(p) ((int32_t)pgm_read_dword(p))
#define HLSFIX_CONST_READF(p) (pgm_read_float(p))
#define HLSFIX_CONST_MEMCPY(dst, src, n) memcpy_P((dst), (src), (n))
#else
#define HLSFIX_PROGMEM
#define HLSFIX_CONST_READ8(p) (*(p))
#define HLSFIX_CONST_READ16(p) (*(p))
#define HLSFIX_CONST_READ32(p) (*(p))
#define HLSFIX_CONST_READF(p) (*(p))
#define HLSFIX_CONST_MEMCPY(dst, src, n) memcpy((dst), (src), (n))
#endif

typedef int8_t hlsfix_i8_t;
typedef int16_t hlsfix_i16_t;
typedef int32_t hlsfix_i32_t;

#define HLSFIX_BITS_i8 8
#define HLSFIX_BITS_i16 16
#define HLSFIX_BITS_i32 32
#define HLSFIX_MIN_i8 INT8_MIN
#define HLSFIX_MIN_i16 INT16_MIN
#define HLSFIX_MIN_i32 INT32_MIN

/* HLSFIX_LD_<space>_<type>(p): one element at p. */
#define HLSFIX_LD_r_i8(p) (*(p))
#define HLSFIX_LD_r_i16(p) (*(p))
#define HLSFIX_LD_r_i32(p) (*(p))
#define HLSFIX_LD_c_i8(p) HLSFIX_CONST_READ8(p)
#define HLSFIX_LD_c_i16(p) HLSFIX_CONST_READ16(p)
#define HLSFIX_LD_c_i32(p) HLSFIX_CONST_READ32(p)
#define HLSFIX_LD(S, T, p) HLSFIX_LD_##S##_##T(p)

/* The wide type's accumulator array (SparseMatVec scratch in the arena, 4-byte aligned):
 * int64_t needs 8-byte alignment on some hosts, so the 64-bit one is accessed by memcpy. */
HLSFIX_INLINE void hlsfix_acc_add32(int32_t *acc, int16_t i, int32_t v) { acc[i] += v; }
HLSFIX_INLINE int32_t hlsfix_acc_get32(const int32_t *acc, int16_t i) { return acc[i]; }
HLSFIX_INLINE void hlsfix_acc_add64(int32_t *acc, int16_t i, int64_t v)
{
    int64_t cur;
    memcpy(&cur, acc + 2 * i, sizeof cur);
    cur += v;
    memcpy(acc + 2 * i, &cur, sizeof cur);
}
HLSFIX_INLINE int64_t hlsfix_acc_get64(const int32_t *acc, int16_t i)
{
    int64_t cur;
    memcpy(&cur, acc + 2 * i, sizeof cur);
    return cur;
}

#define HLSFIX_T(T) hlsfix_##T##_t
#define HLSFIX_W(W) int##W##_t
#define HLSFIX_STORE(TO, W, v, s) ((HLSFIX_T(TO))hlsfix_rescale_sat##W((v), (s), HLSFIX_BITS_##TO))

/* The exact product of two operands in the wide type W.  W is 32 only when both operands have at
 * most 16 bits (program.py; emit.py checks), so the 16 x 16 -> 32 multiply is exact. */
#define HLSFIX_MUL_w32(x, y) hlsfix_mul16((int16_t)(x), (int16_t)(y))
#define HLSFIX_MUL_w64(x, y) ((int64_t)(x) * (int64_t)(y))
#define HLSFIX_MUL(W, x, y) HLSFIX_MUL_w##W(x, y)
/* acc += shr(x * y, S), S a literal (hlsfix_arith.h: one asm block on AVR) */
#define HLSFIX_MAC_w32(acc, x, y, S) HLSFIX_MAC16_SHR(acc, (int16_t)(x), (int16_t)(y), S)
#define HLSFIX_MAC_w64(acc, x, y, S) ((acc) += hlsfix_shr64(HLSFIX_MUL_w64(x, y), (S)))
#define HLSFIX_MAC(W, acc, x, y, S) HLSFIX_MAC_w##W(acc, x, y, S)

/* 8-bit operands: 16-bit arithmetic and operand-typed products (HLSFIX_MULT, HLSFIX_MACT) */
#include "hlsfix_kernels8.h"

/* The hot dot-product kernels (MatMul, SparseMatVec, Conv2d) take their product shift PS as a
 * macro parameter: each instantiation shifts by a compile-time constant (no shift at all for 0),
 * where AVR would otherwise run a bit-by-bit loop on a 32-bit value for every product. */

/* ---- MatMul: out[m x n] = rescale_sat(sum_k shr(a[i,l] * b[l,j], PS), os) ------------------ */
#define HLSFIX_DEF_MATMUL(TA, SA, TB, SB, TO, W, PS)                                                 \
    static void hlsfix_matmul_##TA##SA##_##TB##SB##_##TO##_w##W##_ps##PS(                            \
        const HLSFIX_T(TA) * a, const HLSFIX_T(TB) * b, HLSFIX_T(TO) * out, int16_t m, int16_t k,    \
        int16_t n, int16_t os, HLSFIX_W(W) rc)                                                       \
    {                                                                                                \
        int16_t i, j, l;                                                                             \
        for (i = 0; i < m; i++) {                                                                    \
            const HLSFIX_T(TA) *arow = a + i * k;                                                    \
            for (j = 0; j < n; j++) {                                                                \
                const HLSFIX_T(TA) *pa = arow;                                                       \
                const HLSFIX_T(TB) *pb = b + j;                                                      \
                HLSFIX_W(W) acc = rc; /* the rounding constant, or 0 */                              \
                for (l = 0; l < k; l++) {                                                            \
                    HLSFIX_MACT(W, TA, TB, acc, HLSFIX_LD(SA, TA, pa), HLSFIX_LD(SB, TB, pb), PS);    \
                    pa++;                                                                            \
                    pb += n;                                                                         \
                }                                                                                    \
                *out++ = HLSFIX_STORE(TO, W, acc, os);                                               \
            }                                                                                        \
        }                                                                                            \
    }

/*
 * ---- MatVec16: MatMul with n = 1, int16 operands, int32 products, b in RAM ----------------------
 * The commonest MatMul (a weight matrix times a vector) gets its dot product as one loop:
 * HLSFIX_DOT16_<SA>(acc, a, b, k, PS) adds sum_l shr(a[l] * b[l], PS) to acc (k > 0).  On AVR it
 * is the HLSFIX_MAC16_SHR sequence (hlsfix_arith.h) with both operands read by post-increment
 * (a by lpm from flash, b by ld) and a zero register set once, ~34 + 4 * PS cycles a product.
 */
#if defined(__AVR__) && defined(__AVR_HAVE_MUL__)
/* a in r19:r18, b in r21:r20, the product in r25..r22 (fixed and clobbered, so that the register
 * allocator only has to place acc, the zero, the pointers and the end of b); the loop runs until X
 * reaches the end of b.  r1 is cleared once, after the loop. */
#define HLSFIX_AVR_DOT16(LDA, ACC, PA, PB, K, S)                                                     \
    do {                                                                                             \
        const int16_t *dot_pa_ = (PA), *dot_pb_ = (PB);                                              \
        const int16_t *dot_end_ = dot_pb_ + (K);                                                     \
        uint8_t dot_z_;                                                                              \
        __asm__ __volatile__("clr %[z]\n"                                                            \
                             "1:\n\t" LDA " r18, Z+\n\t" LDA " r19, Z+\n\t"                          \
                             "ld r20, X+\n\t"                                                        \
                             "ld r21, X+\n\t"                                                        \
                             HLSFIX_AVR_MUL16_Z_ASM                                                  \
                             HLSFIX_AVR_SHR32_S_ASM                                                  \
                             "add %A[acc], r22\n\t"                                                  \
                             "adc %B[acc], r23\n\t"                                                  \
                             "adc %C[acc], r24\n\t"                                                  \
                             "adc %D[acc], r25\n\t"                                                  \
                             "cp r26, %A[end]\n\t"                                                   \
                             "cpc r27, %B[end]\n\t"                                                  \
                             "brne 1b\n\t"                                                           \
                             "clr r1"                                                                \
                             : [acc] "+r"(ACC), [z] "=&r"(dot_z_), [pa] "+z"(dot_pa_), [pb] "+x"(dot_pb_) \
                             : [end] "r"(dot_end_), [s] "n"(S)                                       \
                             : "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "memory");    \
    } while (0)
#define HLSFIX_DOT16_NOINLINE HLSFIX_NOINLINE /* the loop takes 8 fixed registers */
#define HLSFIX_DOT16_r(ACC, PA, PB, K, S) HLSFIX_AVR_DOT16("ld", ACC, PA, PB, K, S)
#if defined(HLSFIX_CONST_IN_RAM)
#define HLSFIX_DOT16_c(ACC, PA, PB, K, S) HLSFIX_AVR_DOT16("ld", ACC, PA, PB, K, S)
#else
#define HLSFIX_DOT16_c(ACC, PA, PB, K, S) HLSFIX_AVR_DOT16("lpm", ACC, PA, PB, K, S)
#endif
#else
#define HLSFIX_DOT16_NOINLINE
#define HLSFIX_C_DOT16(SA, ACC, PA, PB, K, S)                                                        \
    do {                                                                                             \
        const int16_t *dot_pa_ = (PA), *dot_pb_ = (PB);                                              \
        int16_t dot_l_;                                                                              \
        for (dot_l_ = 0; dot_l_ < (K); dot_l_++) {                                                   \
            HLSFIX_MAC16_SHR(ACC, HLSFIX_LD(SA, i16, dot_pa_), *dot_pb_, S);                         \
            dot_pa_++;                                                                               \
            dot_pb_++;                                                                               \
        }                                                                                            \
    } while (0)
#define HLSFIX_DOT16_r(ACC, PA, PB, K, S) HLSFIX_C_DOT16(r, ACC, PA, PB, K, S)
#define HLSFIX_DOT16_c(ACC, PA, PB, K, S) HLSFIX_C_DOT16(c, ACC, PA, PB, K, S)
#endif

#define HLSFIX_DEF_MATVEC16(SA, TO, PS)                                                              \
    static HLSFIX_DOT16_NOINLINE void hlsfix_matvec16_i16##SA##_##TO##_ps##PS(                       \
        const int16_t *a, const int16_t *b, HLSFIX_T(TO) * out, int16_t m, int16_t k, int16_t os,    \
        int32_t rc)                                                                                  \
    {                                                                                                \
        int16_t i;                                                                                   \
        for (i = 0; i < m; i++) {                                                                    \
            int32_t acc = rc;                                                                        \
            if (k > 0) {                                                                             \
                HLSFIX_DOT16_##SA(acc, a + i * k, b, k, PS);                                         \
            }                                                                                        \
            out[i] = HLSFIX_STORE(TO, 32, acc, os);                                                  \
        }                                                                                            \
    }

/* ---- SparseMatVec: column-compressed constant matrix times x; acc: `rows` wide scratch ---- */
#define HLSFIX_DEF_SPMV(TV, TR, TC, TX, SX, TO, W, PS)                                               \
    static void hlsfix_spmv_##TV##_##TR##_##TC##_##TX##SX##_##TO##_w##W##_ps##PS(                    \
        const HLSFIX_T(TV) * vals, const HLSFIX_T(TR) * rows, const HLSFIX_T(TC) * cols,             \
        const HLSFIX_T(TX) * x, HLSFIX_T(TO) * out, int32_t *acc, int16_t nrows, int16_t ncols,      \
        int16_t os, HLSFIX_W(W) rc)                                                                  \
    {                                                                                                \
        int16_t r, c, j, end = (int16_t)HLSFIX_LD_c_##TC(cols); /* cols[c + 1] read once */          \
        memset(acc, 0, (size_t)nrows * (W / 8));                                                     \
        for (c = 0; c < ncols; c++) {                                                                \
            HLSFIX_T(TX) xv = HLSFIX_LD(SX, TX, x + c);                                              \
            j = end;                                                                                 \
            end = (int16_t)HLSFIX_LD_c_##TC(cols + c + 1);                                           \
            for (; j < end; j++) {                                                                   \
                HLSFIX_W(W) p = 0;                                                                   \
                HLSFIX_MACT(W, TV, TX, p, HLSFIX_LD_c_##TV(vals + j), xv, PS);                        \
                hlsfix_acc_add##W(acc, (int16_t)HLSFIX_LD_c_##TR(rows + j), p);                      \
            }                                                                                        \
        }                                                                                            \
        for (r = 0; r < nrows; r++) {                                                                \
            out[r] = HLSFIX_STORE(TO, W, hlsfix_acc_get##W(acc, r) + rc, os);                        \
        }                                                                                            \
    }

/*
 * ---- SparseMatVec16: SparseMatVec with int16 values and x, int32 products ----------------------
 * The column loop adds shr(vals[j] * x[c], PS) to acc[rows[j]] for the column's non-zeros
 * (HLSFIX_SPMV16_COL_<TR>, n > 0).  On AVR it is one assembly loop: the value and the row index
 * read from flash by lpm (Z switched between the two streams), acc[row] addressed by X and updated
 * byte by byte (ld/st keep the carry), ~61 + 4 * PS cycles a non-zero.  Row indices are >= 0.
 * A column whose x is 0 adds shr(0, PS) = 0 everywhere and is skipped.
 */
#if defined(__AVR__) && defined(__AVR_HAVE_MUL__) && !defined(HLSFIX_CONST_IN_RAM)
#define HLSFIX_AVR_SPMV16_COL(LDROW, ACC, PV, PR, N, XV, S)                                          \
    do {                                                                                             \
        const int16_t *col_pv_ = (PV);                                                               \
        const void *col_pr_ = (PR);                                                                  \
        uint16_t col_n_ = (uint16_t)(N);                                                             \
        int16_t col_x_ = (XV);                                                                       \
        uint8_t col_z_;                                                                              \
        __asm__ __volatile__("clr %[z]\n\t"                                                          \
                             "mov r20, %A[x]\n\t"                                                    \
                             "mov r21, %B[x]\n"                                                      \
                             "1:\n\t"                                                                \
                             "movw r30, %[pv]\n\t"                                                   \
                             "lpm r18, Z+\n\t"                                                       \
                             "lpm r19, Z+\n\t"                                                       \
                             "movw %[pv], r30\n\t"                                                   \
                             "movw r30, %[pr]\n\t" LDROW "\n\t"                                      \
                             "movw %[pr], r30\n\t"                                                   \
                             "lsl r26\n\t"                                                           \
                             "rol r27\n\t"                                                           \
                             "lsl r26\n\t"                                                           \
                             "rol r27\n\t"                                                           \
                             "add r26, %A[acc]\n\t"                                                  \
                             "adc r27, %B[acc]\n\t"                                                  \
                             HLSFIX_AVR_MUL16_Z_ASM                                                  \
                             HLSFIX_AVR_SHR32_S_ASM                                                  \
                             "ld r0, X\n\t"                                                          \
                             "add r0, r22\n\t"                                                       \
                             "st X+, r0\n\t"                                                         \
                             "ld r0, X\n\t"                                                          \
                             "adc r0, r23\n\t"                                                       \
                             "st X+, r0\n\t"                                                         \
                             "ld r0, X\n\t"                                                          \
                             "adc r0, r24\n\t"                                                       \
                             "st X+, r0\n\t"                                                         \
                             "ld r0, X\n\t"                                                          \
                             "adc r0, r25\n\t"                                                       \
                             "st X+, r0\n\t"                                                         \
                             "subi %A[n], 1\n\t"                                                     \
                             "sbci %B[n], 0\n\t"                                                     \
                             "brne 1b\n\t"                                                           \
                             "clr r1"                                                                \
                             : [pv] "+r"(col_pv_), [pr] "+r"(col_pr_), [n] "+d"(col_n_), [z] "=&r"(col_z_) \
                             : [acc] "r"(ACC), [x] "r"(col_x_), [s] "n"(S)                           \
                             : "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "r26", "r27", "r30", \
                               "r31", "memory");                                                     \
    } while (0)
#define HLSFIX_SPMV16_COL_i8(ACC, PV, PR, N, XV, S)                                                  \
    HLSFIX_AVR_SPMV16_COL("lpm r26, Z+\n\tclr r27", ACC, PV, PR, N, XV, S)
#define HLSFIX_SPMV16_COL_i16(ACC, PV, PR, N, XV, S)                                                 \
    HLSFIX_AVR_SPMV16_COL("lpm r26, Z+\n\tlpm r27, Z+", ACC, PV, PR, N, XV, S)
#else
#define HLSFIX_C_SPMV16_COL(TR, ACC, PV, PR, N, XV, S)                                               \
    do {                                                                                             \
        const int16_t *col_pv_ = (PV);                                                               \
        const HLSFIX_T(TR) *col_pr_ = (PR);                                                          \
        int16_t col_i_;                                                                              \
        for (col_i_ = 0; col_i_ < (N); col_i_++) {                                                   \
            int32_t col_p_ = 0;                                                                      \
            HLSFIX_MAC16_SHR(col_p_, HLSFIX_LD_c_i16(col_pv_ + col_i_), (XV), S);                    \
            (ACC)[(int16_t)HLSFIX_LD_c_##TR(col_pr_ + col_i_)] += col_p_;                            \
        }                                                                                            \
    } while (0)
#define HLSFIX_SPMV16_COL_i8(ACC, PV, PR, N, XV, S) HLSFIX_C_SPMV16_COL(i8, ACC, PV, PR, N, XV, S)
#define HLSFIX_SPMV16_COL_i16(ACC, PV, PR, N, XV, S) HLSFIX_C_SPMV16_COL(i16, ACC, PV, PR, N, XV, S)
#endif

/* noinline: the column loop takes 12 fixed registers */
#define HLSFIX_DEF_SPMV16(TR, TC, SX, TO, PS)                                                        \
    static HLSFIX_NOINLINE void hlsfix_spmv16_##TR##_##TC##_i16##SX##_##TO##_ps##PS(                 \
        const int16_t *vals, const HLSFIX_T(TR) * rows, const HLSFIX_T(TC) * cols, const int16_t *x, \
        HLSFIX_T(TO) * out, int32_t *acc, int16_t nrows, int16_t ncols, int16_t os, int32_t rc)      \
    {                                                                                                \
        int16_t r, c, j = (int16_t)HLSFIX_LD_c_##TC(cols), end;                                      \
        memset(acc, 0, (size_t)nrows * sizeof(int32_t));                                             \
        for (c = 0; c < ncols; c++) {                                                                \
            int16_t xv = HLSFIX_LD(SX, i16, x + c);                                                  \
            end = (int16_t)HLSFIX_LD_c_##TC(cols + c + 1);                                           \
            if (end > j && xv != 0) {                                                                \
                HLSFIX_SPMV16_COL_##TR(acc, vals + j, rows + j, end - j, xv, PS);                    \
            }                                                                                        \
            j = end;                                                                                 \
        }                                                                                            \
        for (r = 0; r < nrows; r++) {                                                                \
            out[r] = HLSFIX_STORE(TO, 32, acc[r] + rc, os);                                          \
        }                                                                                            \
    }

/* ---- Conv2d: NHWC, filters [G, HF, WF, CIN/G, COUT], zero padding (skipped taps) ----------- */
#define HLSFIX_DEF_CONV2D(TX, SX, TF, SF, TO, W, PS)                                                 \
    static void hlsfix_conv2d_##TX##SX##_##TF##SF##_##TO##_w##W##_ps##PS(                            \
        const HLSFIX_T(TX) * x, const HLSFIX_T(TF) * f, HLSFIX_T(TO) * out, int16_t nb, int16_t h,   \
        int16_t w, int16_t c, int16_t g, int16_t hf, int16_t wf, int16_t cin_g, int16_t cout,        \
        int16_t ho, int16_t wo, int16_t sh, int16_t sw, int16_t pt, int16_t pl, int16_t dh,          \
        int16_t dw, int16_t os, HLSFIX_W(W) rc)                                                      \
    {                                                                                                \
        int16_t nn, oh, ow, co, cc, i, j, ci, ih, iw, gi;                                           \
        int16_t cout_all = (int16_t)(g * cout); /* cout: per group */                               \
        HLSFIX_T(TO) *o = out;                                                                       \
        for (nn = 0; nn < nb; nn++)                                                                  \
            for (oh = 0; oh < ho; oh++)                                                              \
                for (ow = 0; ow < wo; ow++)                                                          \
                    for (co = 0; co < cout_all; co++) {                                             \
                        HLSFIX_W(W) acc = rc;                                                        \
                        gi = (int16_t)(co / cout);                                                  \
                        cc = (int16_t)(co - gi * cout);                                             \
                        for (i = 0; i < hf; i++) {                                                   \
                            ih = (int16_t)(oh * sh + i * dh - pt);                                   \
                            if (ih < 0 || ih >= h)                                                   \
                                continue;                                                            \
                            for (j = 0; j < wf; j++) {                                               \
                                const HLSFIX_T(TX) * xp;                                             \
                                const HLSFIX_T(TF) * fp;                                             \
                                iw = (int16_t)(ow * sw + j * dw - pl);                               \
                                if (iw < 0 || iw >= w)                                               \
                                    continue;                                                        \
                                xp = x + ((nn * h + ih) * w + iw) * c + gi * cin_g;                  \
                                fp = f + ((gi * hf + i) * wf + j) * cin_g * cout + cc;               \
                                for (ci = 0; ci < cin_g; ci++) {                                     \
                                    HLSFIX_MACT(W, TX, TF, acc, HLSFIX_LD(SX, TX, xp), HLSFIX_LD(SF, TF, fp), PS); \
                                    xp++;                                                            \
                                    fp += cout;                                                      \
                                }                                                                    \
                            }                                                                        \
                        }                                                                            \
                        *o++ = HLSFIX_STORE(TO, W, acc, os);                                         \
                    }                                                                                \
    }

/* b broadcast over a: 0 element by element, 1 one scalar, 2 along the last dim (nb values). */
#define HLSFIX_BCAST_FULL 0
#define HLSFIX_BCAST_SCALAR 1
#define HLSFIX_BCAST_LASTDIM 2
#define HLSFIX_NEXT_B(mode, i, j, nb)                                                                \
    ((mode) == HLSFIX_BCAST_FULL ? (int16_t)((i) + 1)                                                \
                                 : ((mode) == HLSFIX_BCAST_SCALAR ? 0 : ((j) + 1 == (nb) ? 0 : (int16_t)((j) + 1))))

/* AddSub, Mul and SigmoidTanh are inlined at every call (HLSFIX_INLINE): the call's shifts, op,
 * broadcast mode and table parameters become constants there, so the compiler drops the branches
 * on them and the variable-count shifts (bit loops on AVR).  This measured 10-15 % fewer cycles
 * on the RNNs of the zoo, at about the same flash. */

/* ---- AddSub: out = rescale_sat(a·2^as ± b·2^bs, os); op 0: a+b, 1: a-b, 2: b-a ----------- */
#define HLSFIX_DEF_ADDSUB(TA, SA, TB, SB, TO, W)                                                     \
    HLSFIX_INLINE void hlsfix_addsub_##TA##SA##_##TB##SB##_##TO##_w##W(                              \
        const HLSFIX_T(TA) * a, const HLSFIX_T(TB) * b, HLSFIX_T(TO) * out, int16_t n, int16_t nb,   \
        uint8_t mode, uint8_t op, int16_t as, int16_t bs, int16_t os, HLSFIX_W(W) rc)                \
    {                                                                                                \
        int16_t i, j = 0;                                                                            \
        for (i = 0; i < n; i++) {                                                                    \
            HLSFIX_W(W) av = hlsfix_shift_exact##W((HLSFIX_W(W))HLSFIX_LD(SA, TA, a + i), as);       \
            HLSFIX_W(W) bv = hlsfix_shift_exact##W((HLSFIX_W(W))HLSFIX_LD(SB, TB, b + j), bs);       \
            HLSFIX_W(W) t = op == 0 ? av + bv : (op == 1 ? av - bv : bv - av);                       \
            out[i] = HLSFIX_STORE(TO, W, (HLSFIX_W(W))(t + rc), os);                                 \
            j = HLSFIX_NEXT_B(mode, i, j, nb);                                                       \
        }                                                                                            \
    }

/* ---- Mul: out = rescale_sat(a · b, os), b broadcast as in AddSub -------------------------- */
#define HLSFIX_DEF_MUL(TA, SA, TB, SB, TO, W)                                                        \
    HLSFIX_INLINE void hlsfix_mul_##TA##SA##_##TB##SB##_##TO##_w##W(                                 \
        const HLSFIX_T(TA) * a, const HLSFIX_T(TB) * b, HLSFIX_T(TO) * out, int16_t n, int16_t nb,   \
        uint8_t mode, int16_t os, HLSFIX_W(W) rc)                                                    \
    {                                                                                                \
        int16_t i, j = 0;                                                                            \
        for (i = 0; i < n; i++) {                                                                    \
            HLSFIX_W(W) p = HLSFIX_MULT(W, TA, TB, HLSFIX_LD(SA, TA, a + i), HLSFIX_LD(SB, TB, b + j)); \
            out[i] = HLSFIX_STORE(TO, W, (HLSFIX_W(W))(p + rc), os);                                 \
            j = HLSFIX_NEXT_B(mode, i, j, nb);                                                       \
        }                                                                                            \
    }

/* ---- Rescale: out = rescale_sat(±x, shift); W is 64 for an int32 x (so -INT32_MIN fits) --- */
#define HLSFIX_DEF_RESCALE(TX, SX, TO, W)                                                            \
    static void hlsfix_rescale_##TX##SX##_##TO##_w##W(const HLSFIX_T(TX) * x, HLSFIX_T(TO) * out,    \
                                                      int16_t n, int16_t shift, uint8_t negate,      \
                                                      HLSFIX_W(W) rc)                                \
    {                                                                                                \
        int16_t i;                                                                                   \
        for (i = 0; i < n; i++) {                                                                    \
            HLSFIX_W(W) v = (HLSFIX_W(W))HLSFIX_LD(SX, TX, x + i);                                   \
            out[i] = HLSFIX_STORE(TO, W, (HLSFIX_W(W))((negate ? -v : v) + rc), shift);              \
        }                                                                                            \
    }

/* ---- Clamp: out = min(max(x, lo), hi), same element type (emit.py checks) ----------------- */
#define HLSFIX_DEF_CLAMP(T, SX)                                                                      \
    static void hlsfix_clamp_##T##SX(const HLSFIX_T(T) * x, HLSFIX_T(T) * out, int16_t n,            \
                                     HLSFIX_T(T) lo, HLSFIX_T(T) hi)                                 \
    {                                                                                                \
        int16_t i;                                                                                   \
        for (i = 0; i < n; i++) {                                                                    \
            HLSFIX_T(T) v = HLSFIX_LD(SX, T, x + i);                                                 \
            out[i] = v < lo ? lo : (v > hi ? hi : v);                                                \
        }                                                                                            \
    }

/* ---- MaxPool: NHWC; padded taps hold the type's minimum, so they never win ---------------- */
#define HLSFIX_DEF_MAXPOOL(T, SX)                                                                    \
    static void hlsfix_maxpool_##T##SX(const HLSFIX_T(T) * x, HLSFIX_T(T) * out, int16_t nb,         \
                                       int16_t h, int16_t w, int16_t c, int16_t ho, int16_t wo,      \
                                       int16_t kh, int16_t kw, int16_t sh, int16_t sw, int16_t pt,   \
                                       int16_t pl)                                                   \
    {                                                                                                \
        int16_t nn, oh, ow, ch, i, j, ih, iw;                                                        \
        HLSFIX_T(T) *o = out;                                                                        \
        for (nn = 0; nn < nb; nn++)                                                                  \
            for (oh = 0; oh < ho; oh++)                                                              \
                for (ow = 0; ow < wo; ow++)                                                          \
                    for (ch = 0; ch < c; ch++) {                                                     \
                        HLSFIX_T(T) m = HLSFIX_MIN_##T;                                              \
                        for (i = 0; i < kh; i++) {                                                   \
                            ih = (int16_t)(oh * sh + i - pt);                                        \
                            if (ih < 0 || ih >= h)                                                   \
                                continue;                                                            \
                            for (j = 0; j < kw; j++) {                                               \
                                HLSFIX_T(T) v;                                                       \
                                iw = (int16_t)(ow * sw + j - pl);                                    \
                                if (iw < 0 || iw >= w)                                               \
                                    continue;                                                        \
                                v = HLSFIX_LD(SX, T, x + ((nn * h + ih) * w + iw) * c + ch);         \
                                if (v > m)                                                           \
                                    m = v;                                                           \
                            }                                                                        \
                        }                                                                            \
                        *o++ = m;                                                                    \
                    }                                                                                \
    }

/* exp by two tables: y = min(shr(max(y, 0), k), 2^(2t) - 1); hi[y >> t] · lo[y & (2^t - 1)]. */
#define HLSFIX_EXP_TABLES(W, TH, TL, y, k, t, hi, lo)                                                \
    ((y) = (y) < 0 ? 0 : hlsfix_shr##W((y), (k)),                                                    \
     (y) = (y) > ((HLSFIX_W(W))1 << (2 * (t))) - 1 ? ((HLSFIX_W(W))1 << (2 * (t))) - 1 : (y),        \
     HLSFIX_MULT(W, TH, TL, HLSFIX_LD_c_##TH((hi) + (int16_t)((y) >> (t))),                          \
                HLSFIX_LD_c_##TL((lo) + (int16_t)((y) & (((HLSFIX_W(W))1 << (t)) - 1)))))

/* ---- Exp: out = rescale_sat(tables(x_top - x), table_shift) ------------------------------- */
#define HLSFIX_DEF_EXP(TX, SX, TH, TL, TO, W)                                                        \
    static void hlsfix_exp_##TX##SX##_##TH##_##TL##_##TO##_w##W(                                     \
        const HLSFIX_T(TX) * x, HLSFIX_T(TO) * out, int16_t n, HLSFIX_W(W) x_top, int16_t k,         \
        int16_t t, const HLSFIX_T(TH) * hi, const HLSFIX_T(TL) * lo, int16_t ts)                     \
    {                                                                                                \
        int16_t i;                                                                                   \
        for (i = 0; i < n; i++) {                                                                    \
            HLSFIX_W(W) y = x_top - (HLSFIX_W(W))HLSFIX_LD(SX, TX, x + i);                           \
            HLSFIX_W(W) p = HLSFIX_EXP_TABLES(W, TH, TL, y, k, t, hi, lo);                           \
            out[i] = HLSFIX_STORE(TO, W, p, ts);                                                     \
        }                                                                                            \
    }

/* ---- SigmoidTanh: e = exp(-|x|·2^-arg_shift) by tables, then one floor division ----------- */
#define HLSFIX_DEF_SIGMOID_TANH(TX, SX, TH, TL, TO, W)                                               \
    HLSFIX_INLINE void hlsfix_sigtanh_##TX##SX##_##TH##_##TL##_##TO##_w##W(                          \
        const HLSFIX_T(TX) * x, HLSFIX_T(TO) * out, int16_t n, uint8_t is_tanh, int16_t arg_shift,   \
        int16_t k, int16_t t, const HLSFIX_T(TH) * hi, const HLSFIX_T(TL) * lo, int16_t ts,          \
        int16_t e_frac, int16_t out_frac)                                                            \
    {                                                                                                \
        int16_t i;                                                                                   \
        HLSFIX_W(W) one = (HLSFIX_W(W))1 << e_frac;                                                  \
        HLSFIX_W(W) scale = (HLSFIX_W(W))1 << out_frac;                                              \
        for (i = 0; i < n; i++) {                                                                    \
            HLSFIX_W(W) xv = (HLSFIX_W(W))HLSFIX_LD(SX, TX, x + i);                                  \
            HLSFIX_W(W) u = hlsfix_shift_exact##W(xv < 0 ? -xv : xv, (int16_t)-arg_shift);           \
            HLSFIX_W(W) e = hlsfix_shr##W(HLSFIX_EXP_TABLES(W, TH, TL, u, k, t, hi, lo), ts);        \
            HLSFIX_W(W) q;                                                                           \
            if (is_tanh) {                                                                           \
                q = hlsfix_floordiv##W((one - e) * scale, one + e);                                  \
                if (xv < 0)                                                                          \
                    q = -q;                                                                          \
            } else {                                                                                 \
                q = hlsfix_floordiv##W((xv >= 0 ? one : e) * scale, one + e);                        \
            }                                                                                        \
            out[i] = (HLSFIX_T(TO))hlsfix_sat##W(q, HLSFIX_BITS_##TO);                               \
        }                                                                                            \
    }

/* ---- HardSigmoidTanh: clip(rescale_sat(x, shift, W - 2) + half, lo, hi), saturated -------- */
#define HLSFIX_DEF_HARD_SIGMOID_TANH(TX, SX, TO, W)                                                  \
    static void hlsfix_hardsig_##TX##SX##_##TO##_w##W(const HLSFIX_T(TX) * x, HLSFIX_T(TO) * out,    \
                                                      int16_t n, int16_t shift, HLSFIX_W(W) half,    \
                                                      HLSFIX_W(W) lo, HLSFIX_W(W) hi)                \
    {                                                                                                \
        int16_t i;                                                                                   \
        for (i = 0; i < n; i++) {                                                                    \
            HLSFIX_W(W) v = hlsfix_rescale_sat##W((HLSFIX_W(W))HLSFIX_LD(SX, TX, x + i), shift,      \
                                                  (int16_t)(W - 2)) + half;                          \
            v = v < lo ? lo : (v > hi ? hi : v);                                                     \
            out[i] = (HLSFIX_T(TO))hlsfix_sat##W(v, HLSFIX_BITS_##TO);                               \
        }                                                                                            \
    }

/* ---- Argmax (first of equal maxima) and Sgn, into int16_t registers ----------------------- */
#define HLSFIX_DEF_ARGMAX(T, SX)                                                                     \
    static int16_t hlsfix_argmax_##T##SX(const HLSFIX_T(T) * x, int16_t n)                           \
    {                                                                                                \
        int16_t i, best = 0;                                                                         \
        HLSFIX_T(T) m = HLSFIX_LD(SX, T, x);                                                         \
        for (i = 1; i < n; i++) {                                                                    \
            HLSFIX_T(T) v = HLSFIX_LD(SX, T, x + i);                                                 \
            if (v > m) {                                                                             \
                m = v;                                                                               \
                best = i;                                                                            \
            }                                                                                        \
        }                                                                                            \
        return best;                                                                                 \
    }

/* ---- byte-generic data movement (hlsfix_kernels.c) ---------------------------------------- */

/* out[e] = x[base + sum_d idx_d · strides[d]] for idx over dims (row-major): permute, window. */
void hlsfix_gather(void *out, const void *x, uint8_t x_is_const, uint8_t esize, int16_t base,
                   int16_t ndim, const int16_t *dims, const int16_t *strides);
void hlsfix_copy(void *out, const void *src, uint8_t src_is_const, uint16_t nbytes);
void hlsfix_fill(void *out, uint8_t esize, int16_t n, int32_t value);

#endif /* HLSFIX_KERNELS_H */
