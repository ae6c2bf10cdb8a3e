/*
 * target.h -- the few things a measurement firmware needs from the board it runs on.
 *
 * A firmware (generated model code + a small main) is written once against this
 * interface and linked with exactly one of target_avr.c, target_cortexm.c or
 * target_host.c.  hlsfix/mcu/runners.py builds and runs it and reads the results back.
 *
 * Typical use:
 *
 *     target_init();
 *     for (i = 0; i < N_INPUTS; i++) {
 *         target_measure_begin();
 *         hlsfix_predict(inputs[i], out);
 *         target_measure_end();
 *         target_emit(out, sizeof out);
 *         target_record_end();
 *     }
 *     target_exit();
 *
 * Semantics shared by all targets:
 *   - target_measure_begin()/target_measure_end() bracket a region whose cost is
 *     reported once per pair, in order: simulated CPU cycles on AVR (simavr),
 *     executed instructions on Cortex-M (QEMU), nothing on the host.  The marker
 *     calls themselves are subtracted, so an empty region reads 0.  Pairs must not nest.
 *   - target_emit() appends n raw bytes to the current record; target_record_end()
 *     closes it.  Records are byte strings, in the target's own byte order (all
 *     three targets are little-endian).
 *   - target_exit() ends the program with status 0 and never returns.  Returning
 *     from main() does the same on every target.
 */
#ifndef HLSFIX_TARGET_H
#define HLSFIX_TARGET_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void target_init(void);
void target_measure_begin(void);
void target_measure_end(void);
void target_emit(const void *data, uint16_t n);
void target_record_end(void);
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
void target_exit(void);

#ifdef __cplusplus
}
#endif

#endif /* HLSFIX_TARGET_H */
