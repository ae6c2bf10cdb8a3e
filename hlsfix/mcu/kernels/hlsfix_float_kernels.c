/*
 * hlsfix_float_kernels.c -- the float kernels that are not per-variant macros: Fill.
 * (Permute, Window and buffer copies use the byte-generic code of hlsfix_kernels.c.)
 */
#include "hlsfix_float_kernels.h"

void hlsfix_ffill(float *out, int16_t n, float value)
{
    int16_t i;
    for (i = 0; i < n; i++) {
        out[i] = value;
    }
}
