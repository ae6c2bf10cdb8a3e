/*
 * quantize.c -- test firmware for hlsfix_quantize_f32 (hlsfix_arith.h): one record of int32
 * results per case of quantize_cases.h (a float and the frac, qmin, qmax to quantise it with).
 * The test generates the cases and computes the expected values with golden.quantize_input.
 */
#include <stdint.h>
#include <string.h>

#if defined(__AVR__)
#include <avr/pgmspace.h>
#define CASES_PROGMEM PROGMEM
#define LOAD(dst, src) memcpy_P(&(dst), &(src), sizeof(dst))
#else
#define CASES_PROGMEM
#define LOAD(dst, src) memcpy(&(dst), &(src), sizeof(dst))
#endif

typedef struct {
    uint32_t bits; /* the float, by its bits (NaN and infinities included) */
    int16_t frac;
    int32_t qmin, qmax;
} qcase_t;

#include "hlsfix_arith.h"
#include "quantize_cases.h"
#include "target.h"

int main(void)
{
    uint16_t i;
    target_init();
    for (i = 0; i < N_QCASES; i++) {
        qcase_t c;
        float x;
        int32_t q;
        LOAD(c, QCASES[i]);
        memcpy(&x, &c.bits, sizeof x);
        q = hlsfix_quantize_f32(x, c.frac, c.qmin, c.qmax);
        target_emit(&q, sizeof q);
    }
    target_record_end();
    target_exit();
}
