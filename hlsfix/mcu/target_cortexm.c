/*
 * target_cortexm.c -- target.h for a Cortex-M3/M4 run under QEMU (mps2-an385 /
 * mps2-an386), plus the minimal startup such a bare-metal image needs: a vector
 * table, a reset handler that sets up .data/.bss, and a fault handler.  Link with
 * templates/mps2_cortexm.ld and -nostartfiles.
 *
 * Output goes through ARM semihosting (QEMU: -semihosting-config enable=on),
 * as text lines on the host's stdout:
 *
 *   data <hex>       one per record
 *   max_stack <n>    bytes of stack ever used, found by painting (see reset_handler)
 *
 * Measurements: QEMU is not cycle-accurate and the MPS2 timers tick at 25 MHz, too
 * coarse to time a few instructions, so instead a small TCG plugin
 * (qemu_insn_plugin.c) counts executed instructions.  It recognises the markers by
 * their addresses (taken from the ELF symbol table), which is why they are naked
 * one-instruction functions: see target_measure_begin below.
 */
#include <stdint.h>

#include "target.h"

/* Semihosting operations and exit reasons (ARM "Semihosting for AArch32 and AArch64"). */
#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026 /* QEMU exits with status 0 */
#define ADP_STOPPED_RUN_TIME_ERROR 0x20023   /* QEMU exits with status 1 */

#define STACK_PAINT 0xC0FFEE11u

/* Provided by the linker script. */
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];

int main(void);

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;

    /* On M-profile the semihosting trap is BKPT 0xAB; QEMU intercepts it. */
    __asm__ __volatile__("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void write_str(const char *s)
{
    (void)semihost(SYS_WRITE0, s);
}

static void write_uint(uint32_t v)
{
    char buf[11];
    char *p = buf + sizeof buf - 1;

    *p = '\0';
    do {
        *--p = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    write_str(p);
}

__attribute__((noreturn)) static void semihost_exit(uint32_t reason)
{
    /* On 32-bit ARM, SYS_EXIT takes the reason code itself in r1, not a pointer. */
    (void)semihost(SYS_EXIT, (const void *)reason);
    for (;;) {
    }
}

static uint32_t stack_bytes_used(void)
{
    const uint32_t *p = __stack_bottom;

    while (p < __stack_top && *p == STACK_PAINT) {
        p++;
    }
    return (uint32_t)((const char *)__stack_top - (const char *)p);
}

__attribute__((noreturn)) void reset_handler(void)
{
    uint32_t *src = __data_load;
    uint32_t *dst;
    volatile uint32_t *paint;
    uint32_t sp;

    for (dst = __data_start; dst < __data_end; dst++) {
        *dst = *src++;
    }
    for (dst = __bss_start; dst < __bss_end; dst++) {
        *dst = 0u;
    }
    /* Paint the unused part of the stack so target_exit() can find the deepest
     * word ever written.  volatile keeps GCC from turning this into a memset()
     * call, which would push its frame into the very area being painted. */
    __asm__ __volatile__("mov %0, sp" : "=r"(sp));
    for (paint = __stack_bottom; (uintptr_t)paint < sp; paint++) {
        *paint = STACK_PAINT;
    }
#if defined(__ARM_FP)
    /* Built for an FPU (Cortex-M4 hard-float): grant full access to CP10/CP11. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ __volatile__("dsb\n\tisb" ::: "memory");
#endif
    (void)main();
    target_exit();
}

static void write_hex(uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    char buf[11] = "0x";
    int i;

    for (i = 0; i < 8; i++) {
        buf[2 + i] = hex[(v >> (28 - 4 * i)) & 0xFu];
    }
    buf[10] = '\0';
    write_str(buf);
}

/* Every exception other than reset means a bug in the firmware: report which one
 * and where, then stop with a non-zero QEMU exit status instead of hanging until
 * the timeout.  `frame` is what the core stacked on entry: r0-r3, r12, lr, pc, xPSR. */
__attribute__((noreturn, used)) void hlsfix_fault_report(const uint32_t *frame)
{
    uint32_t ipsr;

    __asm__ __volatile__("mrs %0, ipsr" : "=r"(ipsr));
    write_str("fault: exception ");
    write_uint(ipsr & 0x1FFu); /* 2 NMI, 3 HardFault, 4 MemManage, 5 BusFault, 6 UsageFault */
    write_str(" at pc ");
    write_hex(frame[6]);
    write_str("\n");
    semihost_exit(ADP_STOPPED_RUN_TIME_ERROR);
}

/* Naked so that r0 still holds the stacked frame's address when we get there
 * (the firmware runs on the main stack only). */
__attribute__((naked, noreturn)) void fault_handler(void)
{
    __asm__ __volatile__("mrs r0, msp\n\t"
                         "b hlsfix_fault_report\n\t");
}

/* Core exception vectors only: the firmware enables no external interrupts. */
__attribute__((section(".vectors"), used)) static void (*const vector_table[16])(void) = {
    (void (*)(void))(uintptr_t)__stack_top, /* initial SP */
    reset_handler,
    fault_handler, /* NMI */
    fault_handler, /* HardFault */
    fault_handler, /* MemManage */
    fault_handler, /* BusFault */
    fault_handler, /* UsageFault */
    0,
    0,
    0,
    0,
    fault_handler, /* SVCall */
    fault_handler, /* DebugMonitor */
    0,
    fault_handler, /* PendSV */
    fault_handler, /* SysTick */
};

static int record_open;

void target_init(void)
{
    record_open = 0;
}

/*
 * Marker functions: naked, so each is exactly one instruction (bx lr) at its
 * symbol's address whatever the optimisation level.  The plugin counts the
 * instructions executed after the begin marker's `bx lr` up to, not including,
 * the end marker's `bx lr`, and subtracts the one `bl target_measure_end` that
 * reaches it, so an empty region reads 0.  They must stay out of line (separate
 * translation unit, no LTO) so that their addresses are the only way in.
 */
__attribute__((naked, noinline)) void target_measure_begin(void)
{
    __asm__ __volatile__("bx lr");
}

__attribute__((naked, noinline)) void target_measure_end(void)
{
    __asm__ __volatile__("bx lr");
}

void target_emit(const void *data, uint16_t n)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *)data;
    char buf[65]; /* 32 bytes per semihosting call: each call is a trap */
    uint16_t i = 0;

    if (!record_open) {
        write_str("data ");
        record_open = 1;
    }
    while (n-- > 0) {
        buf[i++] = hex[*p >> 4];
        buf[i++] = hex[*p & 0xFu];
        p++;
        if (i == sizeof buf - 1 || n == 0) {
            buf[i] = '\0';
            write_str(buf);
            i = 0;
        }
    }
}

void target_record_end(void)
{
    write_str(record_open ? "\n" : "data \n");
    record_open = 0;
}

void target_exit(void)
{
    write_str("max_stack ");
    write_uint(stack_bytes_used());
    write_str("\n");
    semihost_exit(ADP_STOPPED_APPLICATION_EXIT);
}
