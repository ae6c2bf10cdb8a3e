/* SPI transport for an ATmega328P (Arduino Uno) without the Arduino core: the SPI peripheral as
 * master, mode 0, MSB first, SCK = fosc/2 (8 MHz at 16 MHz; SPI2X), chip select on PB2.
 *
 * Uno pins: D13 (PB5) SCK, D12 (PB4) MISO, D11 (PB3) MOSI, D10 (PB2) SS -- see WIRING.md.
 * PB2 must be an output: with SS an input held low the peripheral would drop out of master mode.
 *
 * Cycle budget: a byte shifts out in 8 SCK periods = 16 CPU cycles. The bursts write SPDR first
 * and only then fetch or store the next byte, so that work runs while the byte shifts and the
 * wire, not the CPU, sets the pace: in a burst of elements as wide as their words, a byte costs
 * the shift plus the few cycles from SPIF to the next SPDR write. Byte operations only (no
 * 32-bit values): the host's elements are little-endian in RAM, the wire big-endian. */
#include <avr/io.h>

#include "hlsfix_accel.h"

/* The SPI clock (ATmega328P datasheet, SPI chapter, the SCK frequency table): SPI2X = 1 and
 * SPR = 0 give fosc/2, the fastest (8 MHz on the Uno; the cost model assumes it). Long wires or a
 * slow level shifter may need a slower clock: SPI2X = 0 with SPR = 0, 1, 2, 3 gives fosc/4, /16,
 * /64, /128 (SPI2X = 1 doubles each). */
#ifndef HLSFIX_SPI_2X
#define HLSFIX_SPI_2X 1
#endif
#ifndef HLSFIX_SPI_SPR
#define HLSFIX_SPI_SPR 0
#endif

void hlsfix_link_init(void)
{
    PORTB |= (uint8_t)(1u << PORTB2); /* chip select high (idle) before it becomes an output */
    DDRB |= (uint8_t)((1u << DDB2) | (1u << DDB3) | (1u << DDB5));
    DDRB &= (uint8_t)~(1u << DDB4);
    SPCR = (uint8_t)((1u << SPE) | (1u << MSTR) | (HLSFIX_SPI_SPR & 3)); /* CPOL = CPHA = 0: mode 0 */
    SPSR = (uint8_t)(HLSFIX_SPI_2X ? (1u << SPI2X) : 0);
}

void hlsfix_spi_select(void)
{
    PORTB &= (uint8_t)~(1u << PORTB2);
}

/* Wait for the byte in flight: SPIF is set 8 SCK periods (16 CPU cycles) after the SPDR write, so
 * this always ends. The next SPDR access clears SPIF; writing SPDR before SPIF would collide.
 * Always inlined: -Os would otherwise call it, 8 cycles of call and return per byte. */
static inline __attribute__((always_inline)) void spi_wait(void)
{
    while (!(SPSR & (1u << SPIF))) {
    }
}

uint8_t hlsfix_spi_transfer(uint8_t out)
{
    SPDR = out;
    spi_wait();
    return SPDR;
}

void hlsfix_spi_deselect(void)
{
    PORTB |= (uint8_t)(1u << PORTB2);
}

/* ---- writes: SPDR = byte, fetch the next byte while it shifts, wait; the last byte in flight
 * is waited for by hlsfix_spi_write_burst ---- */

static void write_1(const uint8_t *p, uint16_t n)
{
    uint8_t b = *p++;
    for (;;) {
        SPDR = b;
        if (--n == 0) {
            break;
        }
        b = *p++;
        spi_wait();
    }
}

static void write_2(const uint8_t *p, uint16_t n)
{
    uint8_t b = p[1];
    for (;;) {
        SPDR = b; /* high byte */
        b = p[0];
        p += 2;
        spi_wait();
        SPDR = b; /* low byte */
        if (--n == 0) {
            break;
        }
        b = p[1];
        spi_wait();
    }
}

static void write_4(const uint8_t *p, uint16_t n)
{
    uint8_t b = p[3];
    for (;;) {
        SPDR = b;
        b = p[2];
        spi_wait();
        SPDR = b;
        b = p[1];
        spi_wait();
        SPDR = b;
        b = p[0];
        p += 4;
        spi_wait();
        SPDR = b;
        if (--n == 0) {
            break;
        }
        b = p[3];
        spi_wait();
    }
}

/* int8_t elements in 16-bit RAM words (an 8-bit buffer of a program whose RAM is 16 bits wide):
 * the high byte is the sign extension, worked out with the low byte in the previous shift. */
static void write_1_as_2(const uint8_t *p, uint16_t n)
{
    uint8_t lo = *p++;
    uint8_t hi = (lo & 0x80u) ? 0xFFu : 0x00u;
    for (;;) {
        SPDR = hi;
        spi_wait();
        SPDR = lo;
        if (--n == 0) {
            break;
        }
        lo = *p++;
        hi = (lo & 0x80u) ? 0xFFu : 0x00u;
        spi_wait();
    }
}

/* Other widths (none in the zoo's programs): an element wider than its word sends its low bytes,
 * a narrower one is sign-extended; one plain transfer a byte. Not inlined, so that the burst
 * functions need few registers (each one saved costs 4 cycles a call). */
static __attribute__((noinline)) void write_mixed(const uint8_t *p, uint8_t elem_bytes,
                                                  uint8_t word_bytes, uint16_t n)
{
    for (; n > 0; n--) {
        uint8_t fill = (p[elem_bytes - 1u] & 0x80u) ? 0xFFu : 0x00u;
        uint8_t b;
        for (b = word_bytes; b-- > 0;) { /* b: the byte's significance in the word */
            (void)hlsfix_spi_transfer(b < elem_bytes ? p[b] : fill);
        }
        p += elem_bytes;
    }
}

void hlsfix_spi_write_burst(const void *src, uint8_t elem_bytes, uint8_t word_bytes, uint16_t n)
{
    const uint8_t *p = (const uint8_t *)src;
    if (n == 0) {
        return;
    }
    if (elem_bytes == 1 && word_bytes == 2) {
        write_1_as_2(p, n);
    } else if (elem_bytes != word_bytes) {
        write_mixed(p, elem_bytes, word_bytes, n);
        return;
    } else if (elem_bytes == 1) {
        write_1(p, n);
    } else if (elem_bytes == 2) {
        write_2(p, n);
    } else {
        write_4(p, n);
    }
    spi_wait();
    (void)SPDR; /* SPIF cleared, as after hlsfix_spi_transfer */
}

/* ---- reads: wait, take the byte, start the next one at once (SPDR = 0), store while it
 * shifts; the last element is peeled so that no byte is clocked beyond the burst ---- */

static void read_1(uint8_t *p, uint16_t n)
{
    uint8_t b;
    SPDR = 0;
    while (--n) {
        spi_wait();
        b = SPDR;
        SPDR = 0;
        *p++ = b;
    }
    spi_wait();
    *p = SPDR;
}

static void read_2(uint8_t *p, uint16_t n)
{
    uint8_t b;
    SPDR = 0;
    while (--n) {
        spi_wait();
        b = SPDR;
        SPDR = 0;
        p[1] = b;
        spi_wait();
        b = SPDR;
        SPDR = 0;
        p[0] = b;
        p += 2;
    }
    spi_wait();
    b = SPDR;
    SPDR = 0;
    p[1] = b;
    spi_wait();
    p[0] = SPDR;
}

static void read_4(uint8_t *p, uint16_t n)
{
    uint8_t b;
    SPDR = 0;
    for (;;) {
        spi_wait();
        b = SPDR;
        SPDR = 0;
        p[3] = b;
        spi_wait();
        b = SPDR;
        SPDR = 0;
        p[2] = b;
        spi_wait();
        b = SPDR;
        SPDR = 0;
        p[1] = b;
        spi_wait();
        b = SPDR;
        if (--n == 0) {
            p[0] = b;
            return;
        }
        SPDR = 0;
        p[0] = b;
        p += 4;
    }
}

/* A 16-bit word into an int8_t element: the element keeps the low byte (the high one is only its
 * sign extension, for values that fit). */
static void read_2_as_1(uint8_t *p, uint16_t n)
{
    uint8_t b;
    SPDR = 0;
    while (--n) {
        spi_wait();
        (void)SPDR;
        SPDR = 0;
        spi_wait();
        b = SPDR;
        SPDR = 0;
        *p++ = b;
    }
    spi_wait();
    (void)SPDR;
    SPDR = 0;
    spi_wait();
    *p = SPDR;
}

/* Other widths: a word narrower than its element is sign-extended into it, a wider one keeps
 * its low bytes; one plain transfer a byte. */
static __attribute__((noinline)) void read_mixed(uint8_t *p, uint8_t elem_bytes, uint8_t word_bytes,
                                                 uint16_t n)
{
    for (; n > 0; n--) {
        uint8_t b = word_bytes;
        uint8_t v = hlsfix_spi_transfer(0); /* the top byte: its sign fills a wider element */
        uint8_t fill = (v & 0x80u) ? 0xFFu : 0x00u;
        for (;;) {
            b--; /* the byte's significance in the word */
            if (b < elem_bytes) {
                p[b] = v;
            }
            if (b == 0) {
                break;
            }
            v = hlsfix_spi_transfer(0);
        }
        for (b = word_bytes; b < elem_bytes; b++) {
            p[b] = fill;
        }
        p += elem_bytes;
    }
}

void hlsfix_spi_read_burst(void *dst, uint8_t elem_bytes, uint8_t word_bytes, uint16_t n)
{
    uint8_t *p = (uint8_t *)dst;
    if (n == 0) {
        return;
    }
    if (elem_bytes == 1 && word_bytes == 2) {
        read_2_as_1(p, n);
    } else if (elem_bytes != word_bytes) {
        read_mixed(p, elem_bytes, word_bytes, n);
    } else if (elem_bytes == 1) {
        read_1(p, n);
    } else if (elem_bytes == 2) {
        read_2(p, n);
    } else {
        read_4(p, n);
    }
}
