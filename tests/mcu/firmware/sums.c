/*
 * sums.c -- test firmware for hlsfix/mcu/runners.py.
 *
 * The data come from a header the test generates (values.h: N_VALUES int16
 * values, N_VALUES a power of two, and LOOP_N), so Python holds the only copy
 * and can compute the expected records itself.
 *
 * Records, in order:
 *   1. int32 sum of the values
 *   2. int32 dot product of values[i] * values[i + 1]
 *   3. the values times 3, saturated to int16 (N_VALUES int16)
 *   4. an empty record
 * Measurements, in order: an empty region, then spin(0), spin(LOOP_N), spin(2 * LOOP_N).
 */
#include <stdint.h>

#include "target.h"
#include "values.h"

static volatile int16_t sink;

/* One iteration per n, of constant cost (no data-dependent branches, no
 * division), so that the cost is exactly linear in n.  noinline keeps the
 * three calls identical code. */
__attribute__((noinline)) static void spin(uint16_t n)
{
    uint16_t i;

    for (i = 0; i < n; i++) {
        sink = (int16_t)(sink ^ values[i & (N_VALUES - 1)]);
    }
}

static int16_t saturate16(int32_t v)
{
    if (v > INT16_MAX) {
        return INT16_MAX;
    }
    if (v < INT16_MIN) {
        return INT16_MIN;
    }
    return (int16_t)v;
}

int main(void)
{
    int32_t sum = 0;
    int32_t dot = 0;
    int16_t scaled[N_VALUES];
    uint16_t i;

    target_init();

    for (i = 0; i < N_VALUES; i++) {
        sum += values[i];
        scaled[i] = saturate16(3 * (int32_t)values[i]);
    }
    for (i = 0; i + 1 < N_VALUES; i++) {
        dot += (int32_t)values[i] * values[i + 1];
    }
    target_emit(&sum, sizeof sum);
    target_record_end();
    target_emit(&dot, sizeof dot);
    target_record_end();
    target_emit(scaled, sizeof scaled);
    target_record_end();
    target_record_end();

    target_measure_begin();
    target_measure_end();

    target_measure_begin();
    spin(0);
    target_measure_end();

    target_measure_begin();
    spin(LOOP_N);
    target_measure_end();

    target_measure_begin();
    spin(2 * LOOP_N);
    target_measure_end();

    target_exit();
}
