/* Co-simulation transport (see transport_cosim.h and hlsfix/codesign/pipe.py): every SPI byte
 * or bus access becomes one ASCII line on stdout, and a request that has a reply waits for one
 * line on stdin. A closed or garbled pipe ends the process (status 3): there is no accelerator. */
#include "transport_cosim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlsfix_accel.h"

#define COSIM_EXIT_LINK 3

static void send(const char *line)
{
    fputs(line, stdout);
    fflush(stdout);
}

/* One whole reply line, or the process ends. */
static void receive(char *line, size_t size)
{
    if (fgets(line, (int)size, stdin) == NULL || strchr(line, '\n') == NULL) {
        fprintf(stderr, "hlsfix cosim: the simulator closed the pipe\n");
        exit(COSIM_EXIT_LINK);
    }
}

static unsigned long parse_hex(const char *text, char **end)
{
    unsigned long v = strtoul(text, end, 16);
    if (*end == text) {
        fprintf(stderr, "hlsfix cosim: bad reply '%s'\n", text);
        exit(COSIM_EXIT_LINK);
    }
    return v;
}

void hlsfix_link_init(void)
{
}

void hlsfix_cosim_begin(uint32_t n)
{
    printf("I %lu\n", (unsigned long)n);
}

void hlsfix_cosim_end(uint32_t n)
{
    printf("J %lu\n", (unsigned long)n);
}

void hlsfix_cosim_finish(void)
{
    send("E\n");
}

#if HLSFIX_LINK_SPI
void hlsfix_spi_select(void)
{
    fputs("S\n", stdout);
}

uint8_t hlsfix_spi_transfer(uint8_t out)
{
    char line[32], *end;
    unsigned long miso;
    printf("X %02x\n", out);
    fflush(stdout);
    receive(line, sizeof line);
    miso = parse_hex(line, &end);
    return (uint8_t)(miso & 0xFFu);
}

void hlsfix_spi_deselect(void)
{
    fputs("D\n", stdout);
}

/* Every byte is a line on the pipe anyway: one `X hh` per byte, as hlsfix_spi_transfer. */
void hlsfix_spi_write_burst(const void *src, uint8_t elem_bytes, uint8_t word_bytes, uint16_t n)
{
    hlsfix_spi_write_burst_bytewise(src, elem_bytes, word_bytes, n);
}

void hlsfix_spi_read_burst(void *dst, uint8_t elem_bytes, uint8_t word_bytes, uint16_t n)
{
    hlsfix_spi_read_burst_bytewise(dst, elem_bytes, word_bytes, n);
}

#else
uint32_t hlsfix_mmio_read(uint32_t byte_addr, uint8_t *resp)
{
    char line[48], *end;
    unsigned long value;
    printf("R %08lx\n", (unsigned long)byte_addr);
    fflush(stdout);
    receive(line, sizeof line);
    value = parse_hex(line, &end);
    *resp = (uint8_t)strtoul(end, NULL, 10);
    return (uint32_t)value;
}

void hlsfix_mmio_write(uint32_t byte_addr, uint32_t value, uint8_t *resp)
{
    char line[32], *end;
    printf("W %08lx %08lx\n", (unsigned long)byte_addr, (unsigned long)value);
    fflush(stdout);
    receive(line, sizeof line);
    *resp = (uint8_t)parse_hex(line, &end);
}
#endif
