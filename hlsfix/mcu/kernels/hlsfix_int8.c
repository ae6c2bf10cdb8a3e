/*
 * hlsfix_int8.c -- the int8 affine kernels; see hlsfix_int8.h. Each routine is written from the
 * integer definition in hlsfix/fixedpoint/int8 (golden.py, arith.py), which states the TFLM
 * reference kernel it reproduces. No undefined behaviour: products are formed in int64 where
 * they could leave int32, and right shifts of negative values are arithmetic (GCC's documented
 * implementation-defined behaviour, which every hlsfix target compiler shares).
 */
#include "hlsfix_int8.h"

#include <stddef.h>

#define Q31_MIN INT32_MIN
#define Q31_MAX INT32_MAX

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

int32_t hlsfix_q_srdhm(int32_t a, int32_t b)
{
    int64_t ab;
    int64_t v;
    if (a == b && a == Q31_MIN) {
        return Q31_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    v = ab + (ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30)));
    /* C division by 2^31 (toward zero) without a 64-bit division call */
    if (v < 0) {
        v += ((int64_t)1 << 31) - 1;
    }
    return (int32_t)(v >> 31);
}

int32_t hlsfix_q_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t hlsfix_q_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return hlsfix_q_rdbpot(hlsfix_q_srdhm((int32_t)((int64_t)x * ((int64_t)1 << left)), multiplier), right);
}

static int8_t finish(int32_t acc, const int32_t *bias, const int32_t *mult, const int32_t *shift, int32_t c,
                     int32_t out_offset, int32_t lo, int32_t hi)
{
    if (bias != NULL) {
        acc += bias[c];
    }
    return (int8_t)clamp32(hlsfix_q_mbqm(acc, mult[c], shift[c]) + out_offset, lo, hi);
}

/* sum(x[i] * w[i]) over n int8 pairs, four at a time */
static int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t n)
{
    int32_t acc = 0;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        acc += (int32_t)x[i] * w[i] + (int32_t)x[i + 1] * w[i + 1] + (int32_t)x[i + 2] * w[i + 2] +
               (int32_t)x[i + 3] * w[i + 3];
    }
    for (; i < n; i++) {
        acc += (int32_t)x[i] * w[i];
    }
    return acc;
}

/* A pointwise conv: every pixel a matrix-vector product, the input offset folded into wsum. */
static void conv_pointwise(const hlsfix_qconv_t *p, const int8_t *x, int8_t *out, int32_t *acc_buf)
{
    const int32_t pixels = p->out_h * p->out_w;
    int32_t px, oc;
    for (px = 0; px < pixels; px++) {
        const int8_t *xp = x + px * p->in_c;
        const int32_t base = px * p->out_c;
        for (oc = 0; oc < p->out_c; oc++) {
            int32_t acc = dot_s8(xp, p->weights + oc * p->in_c, p->in_c) + p->input_offset * p->wsum[oc];
            if (acc_buf != NULL) {
                if (!p->acc_init) {
                    acc += acc_buf[base + oc];
                }
                acc_buf[base + oc] = acc;
                if (!p->acc_finish) {
                    continue;
                }
            }
            out[base + oc] =
                finish(acc, p->bias, p->multiplier, p->shift, oc, p->output_offset, p->act_min, p->act_max);
        }
    }
}

/* The taps of the window at (y0, x0) that fall inside the input (padding contributes nothing):
 * for each, the input offset of its pixel and its index ky * k_w + kx. Their count. */
static int32_t window_taps(const hlsfix_qconv_t *p, int32_t y0, int32_t x0, int32_t *xoff, int32_t *tap)
{
    int32_t ky, kx, taps = 0;
    for (ky = 0; ky < p->k_h; ky++) {
        const int32_t iy = y0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            continue;
        }
        for (kx = 0; kx < p->k_w; kx++) {
            const int32_t ix = x0 + kx * p->dil_w;
            if (ix < 0 || ix >= p->in_w) {
                continue;
            }
            xoff[taps] = (iy * p->in_w + ix) * p->in_c;
            tap[taps] = ky * p->k_w + kx;
            taps++;
        }
    }
    return taps;
}

#define CONV_MAX_TAPS 128

static void conv_dense(const hlsfix_qconv_t *p, const int8_t *x, int8_t *out, int32_t *acc_buf)
{
    /* per output pixel, the valid taps once (input offset, tap index); then every output channel */
    int32_t xoff[CONV_MAX_TAPS], tap[CONV_MAX_TAPS];
    int32_t oy, ox, oc, t, ic;
    const int32_t taps_all = p->k_h * p->k_w;
    for (oy = 0; oy < p->out_h; oy++) {
        for (ox = 0; ox < p->out_w; ox++) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t base = (oy * p->out_w + ox) * p->out_c;
            const int32_t taps = window_taps(p, y0, x0, xoff, tap);
            for (oc = 0; oc < p->out_c; oc++) {
                const int8_t *wo = p->weights + oc * taps_all * p->in_c;
                int32_t acc = 0;
                for (t = 0; t < taps; t++) {
                    const int8_t *xp = x + xoff[t];
                    const int8_t *wp = wo + tap[t] * p->in_c;
                    for (ic = 0; ic < p->in_c; ic++) {
                        acc += ((int32_t)xp[ic] + p->input_offset) * (int32_t)wp[ic];
                    }
                }
                if (acc_buf != NULL) {
                    if (!p->acc_init) {
                        acc += acc_buf[base + oc];
                    }
                    acc_buf[base + oc] = acc;
                    if (!p->acc_finish) {
                        continue;
                    }
                }
                out[base + oc] = finish(acc, p->bias, p->multiplier, p->shift, oc, p->output_offset,
                                        p->act_min, p->act_max);
            }
        }
    }
}

#define DW_MAX_TAPS 128

static void conv_depthwise(const hlsfix_qconv_t *p, const int8_t *x, int8_t *out)
{
    /* per output pixel, the valid taps' input and weight offsets once; then every channel */
    int32_t xoff[DW_MAX_TAPS], woff[DW_MAX_TAPS];
    int32_t oy, ox, ic, m, t;
    for (oy = 0; oy < p->out_h; oy++) {
        for (ox = 0; ox < p->out_w; ox++) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            int8_t *o = out + (oy * p->out_w + ox) * p->out_row_channels + p->out_channel_offset;
            const int32_t taps = window_taps(p, y0, x0, xoff, woff);
            for (t = 0; t < taps; t++) {
                woff[t] *= p->out_c;
            }
            for (ic = 0; ic < p->in_c; ic++) {
                for (m = 0; m < p->depth_multiplier; m++) {
                    const int32_t oc = ic * p->depth_multiplier + m;
                    int32_t acc = 0;
                    for (t = 0; t < taps; t++) {
                        acc += ((int32_t)x[xoff[t] + ic] + p->input_offset) * (int32_t)p->weights[woff[t] + oc];
                    }
                    o[oc] = finish(acc, p->bias, p->multiplier, p->shift, oc, p->output_offset, p->act_min,
                                   p->act_max);
                }
            }
        }
    }
}

void hlsfix_qconv(const hlsfix_qconv_t *p, const int8_t *x, int8_t *out, int32_t *acc)
{
    if (p->depthwise) {
        conv_depthwise(p, x, out);
    } else if (p->wsum != NULL) {
        conv_pointwise(p, x, out, acc);
    } else {
        conv_dense(p, x, out, acc);
    }
}

void hlsfix_qfc(const hlsfix_qfc_t *p, const int8_t *x, int8_t *out)
{
    int32_t r, u, d;
    for (r = 0; r < p->rows; r++) {
        const int8_t *xr = x + r * p->depth;
        for (u = 0; u < p->units; u++) {
            const int8_t *wu = p->weights + u * p->depth;
            int32_t acc = 0;
            if (p->wsum != NULL) {
                acc = dot_s8(xr, wu, p->depth) + p->input_offset * p->wsum[u];
            } else {
                for (d = 0; d < p->depth; d++) {
                    acc += ((int32_t)xr[d] + p->input_offset) * ((int32_t)wu[d] + p->weights_offset);
                }
            }
            out[r * p->units + u] =
                finish(acc, p->bias, p->multiplier, p->shift, u, p->output_offset, p->act_min, p->act_max);
        }
    }
}

static int32_t mbqm_smaller_than_one(int32_t x, int32_t multiplier, int32_t left_shift)
{
    return hlsfix_q_rdbpot(hlsfix_q_srdhm(x, multiplier), -left_shift);
}

void hlsfix_qadd(const hlsfix_qadd_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    int32_t i;
    for (i = 0; i < p->n; i++) {
        const int32_t sa = ((int32_t)a[i] + p->a_offset) * ((int32_t)1 << p->left_shift);
        const int32_t sb = ((int32_t)b[i] + p->b_offset) * ((int32_t)1 << p->left_shift);
        const int32_t raw = mbqm_smaller_than_one(sa, p->a_multiplier, p->a_shift) +
                            mbqm_smaller_than_one(sb, p->b_multiplier, p->b_shift);
        const int32_t v =
            mbqm_smaller_than_one(raw, p->output_multiplier, p->output_shift) + p->output_offset;
        out[i] = (int8_t)clamp32(v, p->act_min, p->act_max);
    }
}

void hlsfix_qmul(const hlsfix_qmul_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    int32_t i;
    for (i = 0; i < p->n; i++) {
        const int32_t prod = ((int32_t)a[i] + p->a_offset) * ((int32_t)b[i] + p->b_offset);
        const int32_t v = hlsfix_q_mbqm(prod, p->output_multiplier, p->output_shift) + p->output_offset;
        out[i] = (int8_t)clamp32(v, p->act_min, p->act_max);
    }
}

void hlsfix_qpool(const hlsfix_qpool_t *p, const int8_t *x, int8_t *out)
{
    int32_t oy, ox, c, ky, kx;
    for (oy = 0; oy < p->out_h; oy++) {
        for (ox = 0; ox < p->out_w; ox++) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t ky0 = y0 < 0 ? -y0 : 0;
            const int32_t kx0 = x0 < 0 ? -x0 : 0;
            const int32_t ky1 = p->k_h < p->in_h - y0 ? p->k_h : p->in_h - y0;
            const int32_t kx1 = p->k_w < p->in_w - x0 ? p->k_w : p->in_w - x0;
            for (c = 0; c < p->c; c++) {
                int32_t acc = p->is_max ? -128 : 0;
                int32_t count = 0;
                for (ky = ky0; ky < ky1; ky++) {
                    for (kx = kx0; kx < kx1; kx++) {
                        const int32_t v = x[((y0 + ky) * p->in_w + (x0 + kx)) * p->c + c];
                        if (p->is_max) {
                            acc = v > acc ? v : acc;
                        } else {
                            acc += v;
                        }
                        count++;
                    }
                }
                if (!p->is_max && count > 0) {
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                }
                out[(oy * p->out_w + ox) * p->c + c] = (int8_t)clamp32(acc, p->act_min, p->act_max);
            }
        }
    }
}

void hlsfix_qconcat(const hlsfix_qconcat_t *p, const int8_t *const *xs, int8_t *out)
{
    int32_t r, i, j;
    for (r = 0; r < p->outer; r++) {
        for (i = 0; i < p->n_inputs; i++) {
            const int8_t *src = xs[i] + r * p->chunks[i];
            for (j = 0; j < p->chunks[i]; j++) {
                *out++ = src[j];
            }
        }
    }
}

void hlsfix_qmean(const hlsfix_qmean_t *p, const int8_t *x, int8_t *out)
{
    int32_t o, r, i;
    for (o = 0; o < p->outer; o++) {
        for (i = 0; i < p->inner; i++) {
            int32_t sum = p->input_offset * p->reduce;
            for (r = 0; r < p->reduce; r++) {
                sum += x[(o * p->reduce + r) * p->inner + i];
            }
            out[o * p->inner + i] =
                (int8_t)clamp32(hlsfix_q_mbqm(sum, p->multiplier, p->shift) + p->output_offset, -128, 127);
        }
    }
}

void hlsfix_qpad(const hlsfix_qpad_t *p, const int8_t *x, int8_t *out)
{
    const int32_t oh = p->in_h + p->top + p->bottom;
    const int32_t ow = p->in_w + p->left + p->right;
    const int32_t oc = p->in_c + p->front + p->back;
    int32_t y, xx, c;
    for (y = 0; y < oh; y++) {
        for (xx = 0; xx < ow; xx++) {
            for (c = 0; c < oc; c++) {
                const int32_t iy = y - p->top, ix = xx - p->left, ic = c - p->front;
                const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w && ic >= 0 && ic < p->in_c;
                *out++ = inside ? x[(iy * p->in_w + ix) * p->in_c + ic] : (int8_t)p->value;
            }
        }
    }
}

/* ---- softmax: gemmlowp's fixed point on raw int32 values ---- */

static int32_t sat_mul_pot_left(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return Q31_MAX;
    }
    if (x < -threshold) {
        return Q31_MIN;
    }
    return (int32_t)((int64_t)x * ((int64_t)1 << exponent));
}

static int32_t exp_quarter(int32_t a)
{
    const int32_t constant_term = 1895147668;
    const int32_t one_third = 715827883;
    const int32_t x = a + ((int32_t)1 << 28);
    const int32_t x2 = hlsfix_q_srdhm(x, x);
    const int32_t x3 = hlsfix_q_srdhm(x2, x);
    const int32_t x4 = hlsfix_q_srdhm(x2, x2);
    const int32_t x4_over_4 = hlsfix_q_rdbpot(x4, 2);
    const int32_t poly = hlsfix_q_rdbpot(hlsfix_q_srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return constant_term + hlsfix_q_srdhm(constant_term, x + poly);
}

/* exp_on_negative_values for a FixedPoint<int32, integer_bits> argument a <= 0 (integer_bits 4
 * or 5), result Q0.31 */
static int32_t exp_negative(int32_t a, int32_t integer_bits)
{
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                           39332535,   720401,     242};
    const int32_t frac_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t a_mod = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = exp_quarter(sat_mul_pot_left(a_mod, integer_bits));
    const int32_t remainder = a_mod - a;
    int32_t i;
    for (i = 0; i < 7 && i - 2 < integer_bits; i++) {
        if (remainder & ((int32_t)1 << (frac_bits - 2 + i))) {
            result = hlsfix_q_srdhm(result, multipliers[i]);
        }
    }
    return a == 0 ? Q31_MAX : result;
}

static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t s = (int64_t)a + Q31_MAX;
    const int32_t half_denominator = (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + hlsfix_q_srdhm(half_denominator, -1010580540);
    int32_t i;
    for (i = 0; i < 3; i++) {
        const int32_t hd_x = hlsfix_q_srdhm(half_denominator, x);
        x = x + sat_mul_pot_left(hlsfix_q_srdhm(x, ((int32_t)1 << 29) - hd_x), 2);
    }
    return sat_mul_pot_left(x, 1);
}

static int32_t one_minus_x_over_one_plus_x(int32_t a)
{
    const int64_t s = (int64_t)a + Q31_MAX;
    const int32_t half_denominator = (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + hlsfix_q_srdhm(half_denominator, -1010580540);
    int32_t i;
    for (i = 0; i < 3; i++) {
        const int32_t hd_x = hlsfix_q_srdhm(half_denominator, x);
        x = x + sat_mul_pot_left(hlsfix_q_srdhm(x, ((int32_t)1 << 29) - hd_x), 2);
    }
    return sat_mul_pot_left(x - ((int32_t)1 << 29), 2);
}

void hlsfix_qactivation(const hlsfix_qactivation_t *p, const int8_t *x, int8_t *out)
{
    int32_t i;
    for (i = 0; i < p->n; i++) {
        const int32_t v = (int32_t)x[i] + p->input_offset;
        int32_t q4, y;
        if (v <= -p->radius) {
            out[i] = -128;
            continue;
        }
        if (v >= p->radius) {
            out[i] = 127;
            continue;
        }
        q4 = hlsfix_q_mbqm(v, p->multiplier, p->left_shift);
        if (p->is_tanh) {
            if (q4 == 0) {
                y = 0;
            } else {
                const int32_t t = one_minus_x_over_one_plus_x(exp_negative(q4 < 0 ? q4 : -q4, 5));
                y = hlsfix_q_rdbpot(q4 < 0 ? -t : t, 24);
            }
        } else {
            if (q4 == 0) {
                y = (int32_t)1 << 30;
            } else {
                const int32_t pos = one_over_one_plus_x(exp_negative(q4 > 0 ? -q4 : q4, 4));
                y = q4 > 0 ? pos : Q31_MAX - pos;
            }
            y = hlsfix_q_rdbpot(y, 23) - 128;
        }
        out[i] = (int8_t)clamp32(y, -128, 127);
    }
}

static int32_t clz32(uint32_t v)
{
    int32_t n = 0;
    if (v == 0u) {
        return 32;
    }
    while (!(v & 0x80000000u)) {
        v <<= 1;
        n++;
    }
    return n;
}

void hlsfix_qsoftmax(const hlsfix_qsoftmax_t *p, const int8_t *x, int8_t *out)
{
    int32_t r, c;
    for (r = 0; r < p->rows; r++) {
        const int8_t *xr = x + r * p->depth;
        int8_t *o = out + r * p->depth;
        int32_t max_in_row = -128;
        int32_t sum_of_exps = 0;
        int32_t headroom, bits_over_unit, scale, exponent;
        for (c = 0; c < p->depth; c++) {
            max_in_row = xr[c] > max_in_row ? xr[c] : max_in_row;
        }
        for (c = 0; c < p->depth; c++) {
            const int32_t diff = (int32_t)xr[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled = hlsfix_q_srdhm(diff * ((int32_t)1 << p->input_left_shift),
                                                      p->input_multiplier);
                sum_of_exps += hlsfix_q_rdbpot(exp_negative(scaled, 5), 12);
            }
        }
        headroom = clz32((uint32_t)sum_of_exps);
        bits_over_unit = 12 - headroom;
        scale = one_over_one_plus_x((int32_t)(((uint32_t)sum_of_exps << headroom) - 0x80000000u));
        exponent = bits_over_unit + 31 - 8;
        for (c = 0; c < p->depth; c++) {
            const int32_t diff = (int32_t)xr[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled = hlsfix_q_srdhm(diff * ((int32_t)1 << p->input_left_shift),
                                                      p->input_multiplier);
                const int32_t e = exp_negative(scaled, 5);
                const int32_t v = hlsfix_q_rdbpot(hlsfix_q_srdhm(scale, e), exponent) - 128;
                o[c] = (int8_t)clamp32(v, -128, 127);
            } else {
                o[c] = -128;
            }
        }
    }
}
