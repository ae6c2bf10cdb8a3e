/*
 * simavr_harness.c -- run an ATmega328P firmware built against target_avr.c in
 * simavr and report what it measured, as lines on stdout:
 *
 *   cycles <n>       one per target_measure_begin/end pair, in order: CPU cycles
 *                    from the instruction after the begin marker to the call of
 *                    the end marker (marker overhead subtracted: an empty region is 0)
 *   data <hex>       one per record (target_emit ... target_record_end)
 *   max_stack <n>    RAMEND - lowest SP seen, in bytes (SP sampled after every instruction)
 *   exit <status>    0 clean exit (sleep with interrupts off), 1 crash,
 *                    2 cycle limit exceeded, 3 marker protocol error
 *
 * Diagnostics go to stderr; the process exit status equals <status>.
 *
 * usage: simavr_harness [--cycle-limit N] firmware.elf
 * build: gcc -std=c99 -Wall -Wextra $(pkg-config --cflags simavr) simavr_harness.c \
 *            $(pkg-config --libs simavr) -lelf
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_io.h"

#define MCU_NAME "atmega328p"
#define MCU_FREQUENCY 16000000u

/* GPIOR0/GPIOR1 of the ATmega328P (I/O addresses 0x1E and 0x2A), as data-space addresses. */
#define ADDR_GPIOR0 AVR_IO_TO_DATA(0x1E)
#define ADDR_GPIOR1 AVR_IO_TO_DATA(0x2A)

/* Marker values written to GPIOR0; must match target_avr.c. */
#define MARK_BEGIN 1
#define MARK_END 2
#define MARK_RECORD_END 3

/* Cycles the marker functions themselves add between the two GPIOR0 writes
 * (out + ret of the begin marker, call + ldi of the end marker); see target_avr.c. */
#define MARKER_OVERHEAD_CYCLES 10

enum { EXIT_CLEAN = 0, EXIT_CRASH = 1, EXIT_CYCLE_LIMIT = 2, EXIT_PROTOCOL = 3, EXIT_USAGE = 64 };

static struct {
    int measuring;
    avr_cycle_count_t begin_cycle;
    uint8_t *record;
    size_t record_len;
    size_t record_cap;
    int protocol_error;
} g;

/* simavr's default logger prints some levels to stdout, which would corrupt our
 * line protocol: send warnings and errors to stderr and drop the chatter. */
static void quiet_logger(avr_t *avr, const int level, const char *format, va_list ap)
{
    (void)avr;
    if (level <= LOG_WARNING) {
        vfprintf(stderr, format, ap);
    }
}

static void on_gpior0(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
    size_t i;

    (void)addr;
    (void)param;
    /* The callback runs inside the `out` instruction, before simavr adds its cycle,
     * so avr->cycle is the same reference point for both markers. */
    switch (v) {
    case MARK_BEGIN:
        if (g.measuring) {
            fprintf(stderr, "simavr_harness: measure_begin while already measuring\n");
            g.protocol_error = 1;
        }
        g.measuring = 1;
        g.begin_cycle = avr->cycle;
        break;
    case MARK_END:
        if (!g.measuring) {
            fprintf(stderr, "simavr_harness: measure_end without measure_begin\n");
            g.protocol_error = 1;
            break;
        }
        g.measuring = 0;
        printf("cycles %" PRIu64 "\n",
               (uint64_t)(avr->cycle - g.begin_cycle - MARKER_OVERHEAD_CYCLES));
        break;
    case MARK_RECORD_END:
        printf("data ");
        for (i = 0; i < g.record_len; i++) {
            printf("%02x", g.record[i]);
        }
        printf("\n");
        g.record_len = 0;
        break;
    default:
        fprintf(stderr, "simavr_harness: unknown marker %u written to GPIOR0\n", v);
        g.protocol_error = 1;
        break;
    }
}

static void on_gpior1(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
    (void)avr;
    (void)addr;
    (void)param;
    if (g.record_len == g.record_cap) {
        size_t cap = g.record_cap ? 2 * g.record_cap : 256;
        uint8_t *p = realloc(g.record, cap);
        if (p == NULL) {
            fprintf(stderr, "simavr_harness: out of memory\n");
            exit(EXIT_USAGE);
        }
        g.record = p;
        g.record_cap = cap;
    }
    g.record[g.record_len++] = v;
}

static uint16_t read_sp(const avr_t *avr)
{
    return (uint16_t)(avr->data[R_SPL] | (avr->data[R_SPH] << 8));
}

int main(int argc, char **argv)
{
    uint64_t cycle_limit = 1000000000u; /* ~62 s of simulated time at 16 MHz */
    const char *elf_path = NULL;
    elf_firmware_t fw;
    avr_t *avr;
    uint16_t min_sp;
    int status;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cycle-limit") == 0 && i + 1 < argc) {
            cycle_limit = strtoull(argv[++i], NULL, 0);
        } else if (argv[i][0] != '-' && elf_path == NULL) {
            elf_path = argv[i];
        } else {
            elf_path = NULL;
            break;
        }
    }
    if (elf_path == NULL) {
        fprintf(stderr, "usage: %s [--cycle-limit N] firmware.elf\n", argv[0]);
        return EXIT_USAGE;
    }

    avr_global_logger_set(quiet_logger);
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(elf_path, &fw) != 0) {
        fprintf(stderr, "simavr_harness: cannot load %s\n", elf_path);
        return EXIT_USAGE;
    }
    /* Always simulate an Uno, whatever the ELF's .mmcu section says. */
    snprintf(fw.mmcu, sizeof fw.mmcu, "%s", MCU_NAME);
    fw.frequency = MCU_FREQUENCY;

    avr = avr_make_mcu_by_name(MCU_NAME);
    if (avr == NULL) {
        fprintf(stderr, "simavr_harness: simavr does not know %s\n", MCU_NAME);
        return EXIT_USAGE;
    }
    avr_init(avr);
    avr->log = LOG_WARNING;
    avr_load_firmware(avr, &fw);
    avr->frequency = MCU_FREQUENCY;

    avr_register_io_write(avr, ADDR_GPIOR0, on_gpior0, NULL);
    avr_register_io_write(avr, ADDR_GPIOR1, on_gpior1, NULL);

    min_sp = avr->ramend;
    for (;;) {
        /* avr_run() executes one instruction (or one sleep step); sampling SP after
         * each one catches every push/call, so the minimum is exact. */
        int state = avr_run(avr);
        uint16_t sp = read_sp(avr);

        if (sp < min_sp) {
            min_sp = sp;
        }
        if (state == cpu_Done) {
            status = EXIT_CLEAN;
            break;
        }
        if (state == cpu_Crashed) {
            fprintf(stderr, "simavr_harness: firmware crashed at pc 0x%04" PRIx32 "\n", avr->pc);
            status = EXIT_CRASH;
            break;
        }
        if (g.protocol_error) {
            status = EXIT_PROTOCOL;
            break;
        }
        if (avr->cycle > cycle_limit) {
            fprintf(stderr,
                    "simavr_harness: cycle limit of %" PRIu64 " cycles exceeded "
                    "(pc 0x%04" PRIx32 "); the firmware never called target_exit()\n",
                    cycle_limit, avr->pc);
            status = EXIT_CYCLE_LIMIT;
            break;
        }
    }
    if (status == EXIT_CLEAN && g.measuring) {
        fprintf(stderr, "simavr_harness: exited inside a measured region\n");
        status = EXIT_PROTOCOL;
    }
    if (status == EXIT_CLEAN && g.record_len != 0) {
        fprintf(stderr, "simavr_harness: exited with %zu bytes in an unfinished record\n",
                g.record_len);
        status = EXIT_PROTOCOL;
    }

    printf("max_stack %u\n", (unsigned)(avr->ramend - min_sp));
    printf("exit %d\n", status);
    fflush(stdout);
    avr_terminate(avr);
    free(g.record);
    return status;
}
