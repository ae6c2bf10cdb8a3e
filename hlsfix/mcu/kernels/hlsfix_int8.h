/*
 * hlsfix_int8.h -- the int8 affine kernels (TFLite int8 models), bit-exact with hlsfix's golden
 * model (hlsfix/fixedpoint/int8/golden.py), which is bit-exact with TFLM's reference kernels.
 *
 * Tensors are int8 in NHWC order with batch 1; offsets are what TFLM's OpData holds (input offset
 * = -zero_point, output offset = +zero_point); requantisation is per output channel (a Q31
 * multiplier and a shift, > 0 meaning left). Parameter blocks are const (flash).
 */
#ifndef HLSFIX_INT8_H
#define HLSFIX_INT8_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const int8_t *weights;     /* conv [COUT][KH][KW][CIN]; depthwise [KH][KW][COUT] */
    const int32_t *bias;       /* [COUT] or NULL */
    const int32_t *multiplier; /* [COUT] */
    const int32_t *shift;      /* [COUT] */
    /* pointwise conv (1x1, stride 1, no padding) only, or NULL: the sum of each output channel's
     * weights, so that sum((x + offset) * w) is computed as sum(x * w) + offset * wsum */
    const int32_t *wsum;
    int32_t in_h, in_w, in_c, out_h, out_w, out_c;
    int32_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    int32_t depth_multiplier; /* depthwise only */
    /* depthwise only: the output is channels [out_channel_offset, +out_c) of a buffer with
     * out_row_channels channels per pixel (partial execution writes a slice into its place) */
    int32_t out_row_channels, out_channel_offset;
    int32_t input_offset, output_offset, act_min, act_max;
    uint8_t depthwise;
    /* partial execution (pointwise conv over a slice of its input channels): with an acc buffer,
     * sums are added into it (zeroed first when acc_init); the output is written when acc_finish */
    uint8_t acc_init, acc_finish;
} hlsfix_qconv_t;

typedef struct {
    const int8_t *weights; /* [UNITS][DEPTH] */
    const int32_t *bias;   /* [UNITS] or NULL */
    const int32_t *multiplier;
    const int32_t *shift;
    const int32_t *wsum; /* with weights_offset 0: each unit's weight sum (the fast path), or NULL */
    int32_t rows, depth, units;
    int32_t input_offset, weights_offset, output_offset, act_min, act_max;
} hlsfix_qfc_t;

typedef struct {
    int32_t n, a_offset, b_offset, output_offset, left_shift;
    int32_t a_multiplier, a_shift, b_multiplier, b_shift, output_multiplier, output_shift;
    int32_t act_min, act_max;
} hlsfix_qadd_t;

typedef struct {
    int32_t n, a_offset, b_offset, output_offset, output_multiplier, output_shift, act_min, act_max;
} hlsfix_qmul_t;

typedef struct {
    uint8_t is_max;
    int32_t in_h, in_w, c, out_h, out_w, k_h, k_w, stride_h, stride_w, pad_top, pad_left;
    int32_t act_min, act_max;
} hlsfix_qpool_t;

typedef struct {
    int32_t rows, depth, input_multiplier, input_left_shift, diff_min;
} hlsfix_qsoftmax_t;

typedef struct {
    int32_t n_inputs, outer;
    const int32_t *chunks; /* elements per row of each input */
} hlsfix_qconcat_t;

typedef struct {
    uint8_t is_tanh; /* else logistic */
    int32_t n, input_offset, radius, multiplier, left_shift;
} hlsfix_qactivation_t;

typedef struct {
    int32_t outer, reduce, inner, input_offset, output_offset, multiplier, shift;
} hlsfix_qmean_t;

typedef struct {
    int32_t in_h, in_w, in_c, top, bottom, left, right, front, back, value;
} hlsfix_qpad_t;

/* TFLM's arithmetic (kernels/internal/common.h, gemmlowp fixedpoint.h), exposed for tests. */
int32_t hlsfix_q_srdhm(int32_t a, int32_t b);
int32_t hlsfix_q_rdbpot(int32_t x, int32_t exponent);
int32_t hlsfix_q_mbqm(int32_t x, int32_t multiplier, int32_t shift);

void hlsfix_qconv(const hlsfix_qconv_t *p, const int8_t *x, int8_t *out, int32_t *acc);
void hlsfix_qfc(const hlsfix_qfc_t *p, const int8_t *x, int8_t *out);
void hlsfix_qadd(const hlsfix_qadd_t *p, const int8_t *a, const int8_t *b, int8_t *out);
void hlsfix_qmul(const hlsfix_qmul_t *p, const int8_t *a, const int8_t *b, int8_t *out);
void hlsfix_qpool(const hlsfix_qpool_t *p, const int8_t *x, int8_t *out);
void hlsfix_qconcat(const hlsfix_qconcat_t *p, const int8_t *const *xs, int8_t *out);
void hlsfix_qactivation(const hlsfix_qactivation_t *p, const int8_t *x, int8_t *out);
void hlsfix_qmean(const hlsfix_qmean_t *p, const int8_t *x, int8_t *out);
void hlsfix_qpad(const hlsfix_qpad_t *p, const int8_t *x, int8_t *out);
void hlsfix_qsoftmax(const hlsfix_qsoftmax_t *p, const int8_t *x, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* HLSFIX_INT8_H */
