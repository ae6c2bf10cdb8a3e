/* hlsfix accelerator driver: talks to an hlsfix FPGA accelerator over SPI or memory-mapped I/O.
 *
 * Hand-written, model-independent. The numbers of one design (register map, segments, where each
 * tensor lives in the accelerator's scratch RAM) are in the generated "hlsfix_accel_map.h",
 * which also selects the link: HLSFIX_LINK_SPI or HLSFIX_LINK_MMIO.
 *
 * Every function returns HLSFIX_ACCEL_OK (0) or an error code and never waits without bound:
 * hlsfix_accel_run polls STATUS at most HLSFIX_ACCEL_MAX_POLLS times. After reporting an error
 * the driver has already cleared the accelerator's sticky error code (CLEAR), so the next call
 * starts clean (except after TIMEOUT: the segment may still be running, and the next access
 * reports BUSY until it ends).
 *
 * RAM: nothing is buffered; elements go between the caller's arrays and the link one at a time.
 */
#ifndef HLSFIX_ACCEL_H
#define HLSFIX_ACCEL_H

#include <stdint.h>

#include "hlsfix_accel_map.h"

#ifdef __cplusplus
extern "C" {
#endif

/* STATUS polls hlsfix_accel_run makes before it gives up with HLSFIX_ACCEL_TIMEOUT. One poll is
 * 8 SPI bytes (~25 us on an Uno at 16 MHz, SCK 8 MHz) or one bus read on a soft CPU: define it
 * larger for long segments on a fast host. */
#ifndef HLSFIX_ACCEL_MAX_POLLS
#define HLSFIX_ACCEL_MAX_POLLS 10000UL
#endif

/* Error codes. 1..4 are the accelerator's own (STATUS bits 8-15, see hlsfix_accel_map.h);
 * the driver adds TIMEOUT and LINK. */
typedef enum {
    HLSFIX_ACCEL_OK = 0,
    HLSFIX_ACCEL_BAD_COMMAND = HLSFIX_ERR_BAD_COMMAND, /* the slave saw a command byte it does not know */
    HLSFIX_ACCEL_BAD_ADDRESS = HLSFIX_ERR_BAD_ADDRESS, /* an address outside the map (a map mismatch) */
    HLSFIX_ACCEL_BUSY = HLSFIX_ERR_BUSY,               /* an access while a segment was running */
    HLSFIX_ACCEL_BAD_SEGMENT = HLSFIX_ERR_BAD_SEGMENT, /* START of a segment the design does not have */
    HLSFIX_ACCEL_TIMEOUT = 16, /* the segment did not finish within HLSFIX_ACCEL_MAX_POLLS polls */
    HLSFIX_ACCEL_LINK = 17     /* no accelerator answers (wrong ID), or a bus error without a code */
} hlsfix_accel_status;

/* Set up the link (SPI pins, ...), then check that the accelerator answers with the expected ID
 * and clear any error left from before. */
int hlsfix_accel_check(void);

/* Write n elements of elem_bytes (1, 2 or 4) each from src to the accelerator, element i to
 * word index word + i * stride (the data window: HLSFIX_DATA_BASE + a scratch-RAM word). */
int hlsfix_accel_write(uint16_t word, const void *src, uint8_t elem_bytes, uint16_t n, uint16_t stride);

/* Read n elements into dst (elem_bytes each), element i from word index word + i * stride. */
int hlsfix_accel_read(uint16_t word, void *dst, uint8_t elem_bytes, uint16_t n, uint16_t stride);

/* An integer register (register window word): the accelerator holds int32, the host int16. */
int hlsfix_accel_write_reg(uint16_t word, int16_t value);
int hlsfix_accel_read_reg(uint16_t word, int16_t *value);

/* START segment, then poll STATUS until the accelerator is idle: OK when the segment is done,
 * else the error code STATUS holds; HLSFIX_ACCEL_TIMEOUT after HLSFIX_ACCEL_MAX_POLLS polls. */
int hlsfix_accel_run(uint8_t segment);

/* Accelerator clock cycles of the last segment run (the CYCLES register). */
int hlsfix_accel_cycles(uint32_t *cycles);

/* ---- the transport: the link layer the driver is compiled against ---- */

/* Called once by hlsfix_accel_check: pin and peripheral setup (may do nothing). */
void hlsfix_link_init(void);

#if HLSFIX_LINK_SPI
/* SPI master, mode 0, MSB first: chip select low, one byte out and in, chip select high. */
void hlsfix_spi_select(void);
uint8_t hlsfix_spi_transfer(uint8_t out);
void hlsfix_spi_deselect(void);

/* The words of a transaction (chip select low, command and address already sent): n words of
 * word_bytes (1-4) bytes each, big-endian, to or from n elements of elem_bytes (1, 2 or 4: the
 * caller's int8_t, int16_t or int32_t array). Written, an element wider than its word loses its
 * high bytes and a narrower one is sign-extended; read, the word is sign-extended into the
 * element and the element keeps its low bits. A read burst clocks out zeros.
 *
 * The bursts are in the transport so that a fast one can keep the per-byte work in the 16 CPU
 * cycles a byte takes on the wire at SCK = F_CPU/2 (transport_avr_spi.c); a transport with
 * nothing faster than hlsfix_spi_transfer defines them as the _bytewise functions below. */
void hlsfix_spi_write_burst(const void *src, uint8_t elem_bytes, uint8_t word_bytes, uint16_t n);
void hlsfix_spi_read_burst(void *dst, uint8_t elem_bytes, uint8_t word_bytes, uint16_t n);

/* The bursts as one hlsfix_spi_transfer per byte (portable; in hlsfix_accel.c). */
void hlsfix_spi_write_burst_bytewise(const void *src, uint8_t elem_bytes, uint8_t word_bytes,
                                     uint16_t n);
void hlsfix_spi_read_burst_bytewise(void *dst, uint8_t elem_bytes, uint8_t word_bytes, uint16_t n);
#elif HLSFIX_LINK_MMIO
/* 32-bit bus accesses at byte address byte_addr (4 x word index) from the accelerator's base.
 * *resp receives the AXI response (0 OKAY, 2 SLVERR) where the bus lets software see it; a
 * transport that cannot (a real MicroBlaze) sets 0, and the driver checks STATUS instead. */
uint32_t hlsfix_mmio_read(uint32_t byte_addr, uint8_t *resp);
void hlsfix_mmio_write(uint32_t byte_addr, uint32_t value, uint8_t *resp);
#else
#error "hlsfix_accel_map.h must define HLSFIX_LINK_SPI or HLSFIX_LINK_MMIO to 1"
#endif

#ifdef __cplusplus
}
#endif

#endif
