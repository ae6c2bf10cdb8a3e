/*
 * arith.c -- test firmware for the primitives of hlsfix_arith.h that have an AVR assembly
 * version (hlsfix_mul16, HLSFIX_MAC16_SHR, hlsfix_shr32, hlsfix_floordiv32).
 *
 * The cases come from a header the test generates (arith_cases.h), so Python holds the only
 * copy and computes the expected values exactly (in flash on AVR, read one case at a time).  Records, in order, all int32 little-endian:
 *   1. a * b for each (a, b) of PAIRS
 *   2. acc + floor(a * b / 2^S) for S = 0, 1, 3, 7, 14 (one block of N_PAIRS values per S)
 *   3. floor(v / 2^s) for each (v, s) of SHIFTS, s taken from a volatile (a run-time count)
 *   4. floor(n / d) for each (n, d) of DIVS
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

#include "arith_cases.h"
#include "hlsfix_arith.h"
#include "target.h"

static void emit32(int32_t v) { target_emit(&v, sizeof v); }

#define MAC_BLOCK(S)                                                                                 \
    for (i = 0; i < N_PAIRS; i++) {                                                                  \
        int32_t acc;                                                                                 \
        LOAD(pair, PAIRS[i]);                                                                        \
        acc = pair.acc;                                                                              \
        HLSFIX_MAC16_SHR(acc, pair.a, pair.b, S);                                                    \
        emit32(acc);                                                                                 \
    }

int main(void)
{
    uint16_t i;
    volatile int16_t count;
    pair_t pair;
    shift_t shift;
    div_t_ div;
    target_init();
    for (i = 0; i < N_PAIRS; i++) {
        LOAD(pair, PAIRS[i]);
        emit32(hlsfix_mul16(pair.a, pair.b));
    }
    target_record_end();
    MAC_BLOCK(0)
    MAC_BLOCK(1)
    MAC_BLOCK(3)
    MAC_BLOCK(7)
    MAC_BLOCK(14)
    target_record_end();
    for (i = 0; i < N_SHIFTS; i++) {
        LOAD(shift, SHIFTS[i]);
        count = shift.s;
        emit32(hlsfix_shr32(shift.v, count));
    }
    target_record_end();
    for (i = 0; i < N_DIVS; i++) {
        LOAD(div, DIVS[i]);
        emit32(hlsfix_floordiv32(div.n, div.d));
    }
    target_record_end();
    target_exit();
}
