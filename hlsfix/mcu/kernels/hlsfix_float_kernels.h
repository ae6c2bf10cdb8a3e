/*
 * hlsfix_float_kernels.h -- the float kernel library: the baseline a fixed-point build is
 * measured against (hand-written, reviewed once).
 *
 * One kernel per KernelProgram kind, computing the float meaning of hlsfix/ir/interp.py in
 * `float` (C99; expf/tanhf from math.h, in avr-libc's and newlib's libm: link with -lm).  The
 * generated model_float.c has the same structure as model.c -- the same kernel calls, loops,
 * views and arena plan (4 bytes per element) -- with float operands and the true weights; the
 * shifts and widths of the fixed-point program do not exist here.
 *
 * Operands live in two memory spaces, as in hlsfix_kernels.h: `r` (RAM) and `c` (constants:
 * flash on AVR, read with pgm_read_float).  The generated code instantiates the variants it
 * calls, e.g. HLSFIX_DEF_FMATMUL(c, r) defines hlsfix_fmatmul_c_r().  Element-wise kernels read
 * element i before writing out[i], so they may work in place.  Data movement (permute, window,
 * buffer copies) is the byte-generic code of hlsfix_kernels.c with 4-byte elements.
 */
#ifndef HLSFIX_FLOAT_KERNELS_H
#define HLSFIX_FLOAT_KERNELS_H

#include <float.h>
#include <math.h>
#include <stdint.h>

#include "hlsfix_kernels.h"

/* HLSFIX_LDF(space, p): one float at p. */
#define HLSFIX_LDF_r(p) (*(p))
#define HLSFIX_LDF_c(p) HLSFIX_CONST_READF(p)
#define HLSFIX_LDF(S, p) HLSFIX_LDF_##S(p)

/* ---- MatMul: out[m x n] = a[m x k] b[k x n] ------------------------------------------------ */
#define HLSFIX_DEF_FMATMUL(SA, SB)                                                                   \
    static void hlsfix_fmatmul_##SA##_##SB(const float *a, const float *b, float *out, int16_t m,    \
                                           int16_t k, int16_t n)                                     \
    {                                                                                                \
        int16_t i, j, l;                                                                             \
        for (i = 0; i < m; i++) {                                                                    \
            for (j = 0; j < n; j++) {                                                                \
                float acc = 0.0f;                                                                    \
                for (l = 0; l < k; l++) {                                                            \
                    acc += HLSFIX_LDF(SA, a + i * k + l) * HLSFIX_LDF(SB, b + l * n + j);            \
                }                                                                                    \
                out[i * n + j] = acc;                                                                \
            }                                                                                        \
        }                                                                                            \
    }

/* ---- SparseMatVec: column-compressed constant matrix times x; acc: `nrows` floats --------- */
#define HLSFIX_DEF_FSPMV(TR, TC, SX)                                                                 \
    static void hlsfix_fspmv_##TR##_##TC##_##SX(const float *vals, const HLSFIX_T(TR) * rows,        \
                                                const HLSFIX_T(TC) * cols, const float *x,           \
                                                float *out, float *acc, int16_t nrows,               \
                                                int16_t ncols)                                       \
    {                                                                                                \
        int16_t r, c, j, end;                                                                        \
        for (r = 0; r < nrows; r++) {                                                                \
            acc[r] = 0.0f;                                                                           \
        }                                                                                            \
        for (c = 0; c < ncols; c++) {                                                                \
            float xv = HLSFIX_LDF(SX, x + c);                                                        \
            end = (int16_t)HLSFIX_LD_c_##TC(cols + c + 1);                                           \
            for (j = (int16_t)HLSFIX_LD_c_##TC(cols + c); j < end; j++) {                            \
                acc[(int16_t)HLSFIX_LD_c_##TR(rows + j)] += HLSFIX_LDF_c(vals + j) * xv;             \
            }                                                                                        \
        }                                                                                            \
        for (r = 0; r < nrows; r++) {                                                                \
            out[r] = acc[r];                                                                         \
        }                                                                                            \
    }

/* ---- Conv2d: NHWC, filters [G, HF, WF, CIN/G, COUT] (g * cout output channels), zero padding */
#define HLSFIX_DEF_FCONV2D(SX, SF)                                                                   \
    static void hlsfix_fconv2d_##SX##_##SF(                                                          \
        const float *x, const float *f, float *out, int16_t nb, int16_t h, int16_t w, int16_t c,     \
        int16_t g, int16_t hf, int16_t wf, int16_t cin_g, int16_t cout, int16_t ho, int16_t wo,      \
        int16_t sh, int16_t sw, int16_t pt, int16_t pl, int16_t dh, int16_t dw)                      \
    {                                                                                                \
        int16_t nn, oh, ow, cl, i, j, ci, ih, iw, gi;                                                \
        float *o = out;                                                                              \
        for (nn = 0; nn < nb; nn++)                                                                  \
            for (oh = 0; oh < ho; oh++)                                                              \
                for (ow = 0; ow < wo; ow++)                                                          \
                    for (gi = 0; gi < g; gi++)                                                       \
                        for (cl = 0; cl < cout; cl++) {                                              \
                            float acc = 0.0f;                                                        \
                            for (i = 0; i < hf; i++) {                                               \
                                ih = (int16_t)(oh * sh + i * dh - pt);                               \
                                if (ih < 0 || ih >= h)                                               \
                                    continue;                                                        \
                                for (j = 0; j < wf; j++) {                                           \
                                    const float *xp;                                                 \
                                    const float *fp;                                                 \
                                    iw = (int16_t)(ow * sw + j * dw - pl);                           \
                                    if (iw < 0 || iw >= w)                                           \
                                        continue;                                                    \
                                    xp = x + ((nn * h + ih) * w + iw) * c + gi * cin_g;              \
                                    fp = f + ((gi * hf + i) * wf + j) * cin_g * cout + cl;           \
                                    for (ci = 0; ci < cin_g; ci++) {                                 \
                                        acc += HLSFIX_LDF(SX, xp + ci) * HLSFIX_LDF(SF, fp + ci * cout); \
                                    }                                                                \
                                }                                                                    \
                            }                                                                        \
                            *o++ = acc;                                                              \
                        }                                                                            \
    }

/* ---- AddSub: op 0: a+b, 1: a-b, 2: b-a; Mul: a·b; b broadcast as in hlsfix_kernels.h ------ */
#define HLSFIX_DEF_FADDSUB(SA, SB)                                                                   \
    static void hlsfix_faddsub_##SA##_##SB(const float *a, const float *b, float *out, int16_t n,    \
                                           int16_t nb, uint8_t mode, uint8_t op)                     \
    {                                                                                                \
        int16_t i, j = 0;                                                                            \
        for (i = 0; i < n; i++) {                                                                    \
            float av = HLSFIX_LDF(SA, a + i);                                                        \
            float bv = HLSFIX_LDF(SB, b + j);                                                        \
            out[i] = op == 0 ? av + bv : (op == 1 ? av - bv : bv - av);                              \
            j = HLSFIX_NEXT_B(mode, i, j, nb);                                                       \
        }                                                                                            \
    }

#define HLSFIX_DEF_FMUL(SA, SB)                                                                      \
    static void hlsfix_fmul_##SA##_##SB(const float *a, const float *b, float *out, int16_t n,       \
                                        int16_t nb, uint8_t mode)                                    \
    {                                                                                                \
        int16_t i, j = 0;                                                                            \
        for (i = 0; i < n; i++) {                                                                    \
            out[i] = HLSFIX_LDF(SA, a + i) * HLSFIX_LDF(SB, b + j);                                  \
            j = HLSFIX_NEXT_B(mode, i, j, nb);                                                       \
        }                                                                                            \
    }

/* ---- Rescale: a copy, or a negated copy (there are no scales in float) -------------------- */
#define HLSFIX_DEF_FCOPY(SX)                                                                         \
    static void hlsfix_fcopy_##SX(const float *x, float *out, int16_t n, uint8_t negate)             \
    {                                                                                                \
        int16_t i;                                                                                   \
        for (i = 0; i < n; i++) {                                                                    \
            float v = HLSFIX_LDF(SX, x + i);                                                         \
            out[i] = negate ? -v : v;                                                                \
        }                                                                                            \
    }

/* ---- Clamp: min(max(x, lo), hi) (relu: lo 0, hi FLT_MAX; relu6: hi 6) --------------------- */
#define HLSFIX_DEF_FCLAMP(SX)                                                                        \
    static void hlsfix_fclamp_##SX(const float *x, float *out, int16_t n, float lo, float hi)        \
    {                                                                                                \
        int16_t i;                                                                                   \
        for (i = 0; i < n; i++) {                                                                    \
            float v = HLSFIX_LDF(SX, x + i);                                                         \
            out[i] = v < lo ? lo : (v > hi ? hi : v);                                                \
        }                                                                                            \
    }

/* ---- MaxPool: NHWC; padded taps are skipped ------------------------------------------------ */
#define HLSFIX_DEF_FMAXPOOL(SX)                                                                      \
    static void hlsfix_fmaxpool_##SX(const float *x, float *out, int16_t nb, int16_t h, int16_t w,   \
                                     int16_t c, int16_t ho, int16_t wo, int16_t kh, int16_t kw,      \
                                     int16_t sh, int16_t sw, int16_t pt, int16_t pl)                 \
    {                                                                                                \
        int16_t nn, oh, ow, ch, i, j, ih, iw;                                                        \
        float *o = out;                                                                              \
        for (nn = 0; nn < nb; nn++)                                                                  \
            for (oh = 0; oh < ho; oh++)                                                              \
                for (ow = 0; ow < wo; ow++)                                                          \
                    for (ch = 0; ch < c; ch++) {                                                     \
                        float m = -FLT_MAX;                                                          \
                        for (i = 0; i < kh; i++) {                                                   \
                            ih = (int16_t)(oh * sh + i - pt);                                        \
                            if (ih < 0 || ih >= h)                                                   \
                                continue;                                                            \
                            for (j = 0; j < kw; j++) {                                               \
                                float v;                                                             \
                                iw = (int16_t)(ow * sw + j - pl);                                    \
                                if (iw < 0 || iw >= w)                                               \
                                    continue;                                                        \
                                v = HLSFIX_LDF(SX, x + ((nn * h + ih) * w + iw) * c + ch);           \
                                if (v > m)                                                           \
                                    m = v;                                                           \
                            }                                                                        \
                        }                                                                            \
                        *o++ = m;                                                                    \
                    }                                                                                \
    }

/* ---- Exp, sigmoid/tanh (libm), and their clipped-linear forms ------------------------------ */
#define HLSFIX_DEF_FEXP(SX)                                                                          \
    static void hlsfix_fexp_##SX(const float *x, float *out, int16_t n)                              \
    {                                                                                                \
        int16_t i;                                                                                   \
        for (i = 0; i < n; i++) {                                                                    \
            out[i] = expf(HLSFIX_LDF(SX, x + i));                                                    \
        }                                                                                            \
    }

#define HLSFIX_DEF_FSIGMOID_TANH(SX)                                                                 \
    static void hlsfix_fsigtanh_##SX(const float *x, float *out, int16_t n, uint8_t is_tanh)         \
    {                                                                                                \
        int16_t i;                                                                                   \
        for (i = 0; i < n; i++) {                                                                    \
            float v = HLSFIX_LDF(SX, x + i);                                                         \
            out[i] = is_tanh ? tanhf(v) : 1.0f / (1.0f + expf(-v));                                  \
        }                                                                                            \
    }

/* tanh ≈ clip(x, -1, 1); sigmoid ≈ clip(x/4 + 1/2, 0, 1) */
#define HLSFIX_DEF_FHARD_SIGMOID_TANH(SX)                                                            \
    static void hlsfix_fhardsig_##SX(const float *x, float *out, int16_t n, uint8_t is_tanh)         \
    {                                                                                                \
        int16_t i;                                                                                   \
        for (i = 0; i < n; i++) {                                                                    \
            float v = HLSFIX_LDF(SX, x + i);                                                         \
            float lo = is_tanh ? -1.0f : 0.0f;                                                       \
            v = is_tanh ? v : 0.25f * v + 0.5f;                                                      \
            out[i] = v < lo ? lo : (v > 1.0f ? 1.0f : v);                                            \
        }                                                                                            \
    }

/* ---- Argmax (first of equal maxima) into an int16_t register ------------------------------ */
#define HLSFIX_DEF_FARGMAX(SX)                                                                       \
    static int16_t hlsfix_fargmax_##SX(const float *x, int16_t n)                                    \
    {                                                                                                \
        int16_t i, best = 0;                                                                         \
        float m = HLSFIX_LDF(SX, x);                                                                 \
        for (i = 1; i < n; i++) {                                                                    \
            float v = HLSFIX_LDF(SX, x + i);                                                         \
            if (v > m) {                                                                             \
                m = v;                                                                               \
                best = i;                                                                            \
            }                                                                                        \
        }                                                                                            \
        return best;                                                                                 \
    }

/* out[0..n) = value (hlsfix_float_kernels.c) */
void hlsfix_ffill(float *out, int16_t n, float value);

#endif /* HLSFIX_FLOAT_KERNELS_H */
