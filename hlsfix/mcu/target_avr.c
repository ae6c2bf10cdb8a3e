/*
 * target_avr.c -- target.h for an ATmega328P (Arduino Uno, 16 MHz) run under simavr.
 *
 * The firmware talks to the simulator (hlsfix/mcu/simavr_harness.c) through the
 * general-purpose I/O registers, which no library or peripheral uses and which
 * simavr lets a host program hook with avr_register_io_write():
 *
 *   GPIOR0  marker channel: 1 = measurement begin, 2 = measurement end,
 *           3 = end of record.
 *   GPIOR1  data channel: every byte written is appended to the current record.
 *
 * Stack depth is not painted here: the harness samples SP after every instruction,
 * which is exact and costs the firmware nothing.
 *
 * On real hardware the same code runs unchanged (the GPIOR writes are harmless),
 * it just reports nothing.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>

#include "target.h"

/* Must match the MARK_* values in simavr_harness.c. */
#define MARK_BEGIN 1
#define MARK_END 2
#define MARK_RECORD_END 3

void target_init(void)
{
    /* Nothing to set up: crt0 has set SP = RAMEND and cleared .bss. */
}

/*
 * The two markers are naked functions with a fixed instruction sequence
 * (ldi; out; ret), so the cycles they add around a measured region do not
 * depend on the optimisation level.  The harness timestamps the `out`; from
 * the begin marker's `out` to the end marker's `out` the overhead is
 *   out (1) + ret (4) + call (4) + ldi (1) = 10 cycles,
 * which the harness subtracts (MARKER_OVERHEAD_CYCLES).  This assumes the caller
 * reaches the end marker with a 4-cycle `call`, which is what avr-gcc emits for
 * the ATmega328P unless the link is relaxed (-mrelax turns it into a 3-cycle rcall).
 */
__attribute__((naked, noinline)) void target_measure_begin(void)
{
    __asm__ __volatile__("ldi r24, %[mark]\n\t"
                         "out %[port], r24\n\t"
                         "ret\n\t"
                         :
                         : [mark] "M"(MARK_BEGIN), [port] "I"(_SFR_IO_ADDR(GPIOR0))
                         : "r24");
}

__attribute__((naked, noinline)) void target_measure_end(void)
{
    __asm__ __volatile__("ldi r24, %[mark]\n\t"
                         "out %[port], r24\n\t"
                         "ret\n\t"
                         :
                         : [mark] "M"(MARK_END), [port] "I"(_SFR_IO_ADDR(GPIOR0))
                         : "r24");
}

void target_emit(const void *data, uint16_t n)
{
    const uint8_t *p = (const uint8_t *)data;

    while (n-- > 0) {
        GPIOR1 = *p++;
    }
}

void target_record_end(void)
{
    GPIOR0 = MARK_RECORD_END;
}

void target_exit(void)
{
    /* simavr ends the simulation ("cpu_Done") when the CPU sleeps with
     * interrupts disabled; on real hardware this halts until reset. */
    cli();
    sleep_enable();
    for (;;) {
        sleep_cpu();
    }
}

/* Returning from main() runs avr-libc's exit(), which falls through the .fini
 * sections into `cli; rjmp .` -- a busy loop simavr would spin in until the cycle
 * limit.  Code in .fini8 runs on that path, so end the program there as
 * target_exit() does (as on Cortex-M, where reset_handler calls it after main). */
__attribute__((naked, used, section(".fini8"))) static void exit_after_main(void)
{
    target_exit();
}
