/*
 * hlsfix_kernels.c -- the kernels that only move data (no arithmetic, so no element types):
 * Permute and Window (both a strided gather), Fill, and the buffer copy of Select.
 * Elements are moved as bytes; constants are read with memcpy_P on AVR.
 */
#include "hlsfix_kernels.h"

#define HLSFIX_MAX_DIMS 8

static void load_bytes(void *dst, const void *src, uint8_t is_const, uint16_t n)
{
    if (is_const) {
        HLSFIX_CONST_MEMCPY(dst, src, n);
    } else {
        memcpy(dst, src, n);
    }
}

void hlsfix_gather(void *out, const void *x, uint8_t x_is_const, uint8_t esize, int16_t base,
                   int16_t ndim, const int16_t *dims, const int16_t *strides)
{
    int16_t idx[HLSFIX_MAX_DIMS];
    int16_t d, src = base;
    uint8_t *o = (uint8_t *)out;
    const uint8_t *xb = (const uint8_t *)x;
    for (d = 0; d < ndim; d++) {
        idx[d] = 0;
        if (dims[d] == 0) {
            return;
        }
    }
    for (;;) {
        load_bytes(o, xb + (int32_t)src * esize, x_is_const, esize);
        o += esize;
        /* odometer: bump the last index, carry into the previous ones */
        for (d = (int16_t)(ndim - 1); d >= 0; d--) {
            idx[d]++;
            src = (int16_t)(src + strides[d]);
            if (idx[d] < dims[d]) {
                break;
            }
            src = (int16_t)(src - idx[d] * strides[d]);
            idx[d] = 0;
        }
        if (d < 0) {
            return;
        }
    }
}

void hlsfix_copy(void *out, const void *src, uint8_t src_is_const, uint16_t nbytes)
{
    load_bytes(out, src, src_is_const, nbytes);
}

void hlsfix_fill(void *out, uint8_t esize, int16_t n, int32_t value)
{
    int16_t i;
    for (i = 0; i < n; i++) {
        if (esize == 1) {
            ((int8_t *)out)[i] = (int8_t)value;
        } else if (esize == 2) {
            ((int16_t *)out)[i] = (int16_t)value;
        } else {
            ((int32_t *)out)[i] = value;
        }
    }
}
