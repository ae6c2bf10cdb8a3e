/* hlsfix accelerator driver (see hlsfix_accel.h). Hand-written, model-independent.
 *
 * The link carries 32-bit words addressed by word index. Over SPI a data-window word is
 * HLSFIX_DATA_BYTES bytes (the accelerator's RAM word) and any other word 4 bytes, big-endian;
 * over MMIO every word is one 32-bit bus access at byte address 4 x word index. Data-window and
 * register words come back sign-extended, so an element is the low bits of its word. */
#include "hlsfix_accel.h"

#if defined(__GNUC__)
#define HLSFIX_NOINLINE __attribute__((noinline))
#else
#define HLSFIX_NOINLINE
#endif

/* ---- elements of the caller's arrays (int8_t, int16_t or int32_t) ---- */

static int32_t get_element(const void *src, uint8_t elem_bytes, uint16_t i)
{
    switch (elem_bytes) {
    case 1:
        return ((const int8_t *)src)[i];
    case 2:
        return ((const int16_t *)src)[i];
    default:
        return ((const int32_t *)src)[i];
    }
}

/* The values come from the same program as the host's buffers, so they fit the element type. */
static void put_element(void *dst, uint8_t elem_bytes, uint16_t i, int32_t v)
{
    switch (elem_bytes) {
    case 1:
        ((int8_t *)dst)[i] = (int8_t)v;
        break;
    case 2:
        ((int16_t *)dst)[i] = (int16_t)v;
        break;
    default:
        ((int32_t *)dst)[i] = v;
        break;
    }
}

/* A word of `bytes` bytes, two's complement, as an int32_t (no implementation-defined casts). */
static int32_t sign_extend(uint32_t u, uint8_t bytes)
{
    uint32_t sign;
    if (bytes >= 4) {
        return (u & 0x80000000UL) ? -(int32_t)(~u) - 1 : (int32_t)u;
    }
    sign = (uint32_t)1 << (8u * bytes - 1u);
    u &= (sign << 1) - 1u;
    return (int32_t)(u ^ sign) - (int32_t)sign;
}

static int link_write(uint16_t word, const void *src, uint8_t elem_bytes, uint16_t n);
static int link_read(uint16_t word, void *dst, uint8_t elem_bytes, uint16_t n);

static int write_control(uint16_t word, int32_t value)
{
    return link_write(word, &value, 4, 1);
}

static int read_control(uint16_t word, int32_t *value)
{
    return link_read(word, value, 4, 1);
}

/* Report an accelerator error code after clearing it in the accelerator (0: no code, a link
 * problem). The CLEAR's own outcome is not interesting: the first error is the one to report. */
static int fail(uint8_t code)
{
    (void)write_control(HLSFIX_CTRL_CLEAR, 0);
    return code ? code : HLSFIX_ACCEL_LINK;
}

#if HLSFIX_LINK_SPI
/* ---- SPI: 0x02 (write) / 0x03 (read), two address bytes, then the words ---- */

static uint8_t word_bytes(uint16_t word)
{
    return word >= HLSFIX_DATA_BASE ? HLSFIX_DATA_BYTES : 4;
}

static void spi_command(uint8_t command, uint16_t word)
{
    hlsfix_spi_select();
    (void)hlsfix_spi_transfer(command);
    (void)hlsfix_spi_transfer((uint8_t)(word >> 8));
    (void)hlsfix_spi_transfer((uint8_t)(word & 0xFFu));
}

static int link_write(uint16_t word, const void *src, uint8_t elem_bytes, uint16_t n)
{
    spi_command(HLSFIX_SPI_WRITE, word);
    hlsfix_spi_write_burst(src, elem_bytes, word_bytes(word), n);
    hlsfix_spi_deselect();
    return HLSFIX_ACCEL_OK; /* a write has no reply: its errors show in the next status */
}

static int link_read(uint16_t word, void *dst, uint8_t elem_bytes, uint16_t n)
{
    uint8_t status;
    spi_command(HLSFIX_SPI_READ, word);
    status = hlsfix_spi_transfer(0);
    /* The status byte of a control read is BUSY while a segment runs, which is no error when
     * polling STATUS (whose word holds the error code); for data and registers it is. */
    if (status != 0 && word >= HLSFIX_CONTROL_WORDS) {
        hlsfix_spi_deselect();
        return fail(status);
    }
    hlsfix_spi_read_burst(dst, elem_bytes, word_bytes(word), n);
    hlsfix_spi_deselect();
    return HLSFIX_ACCEL_OK;
}

/* The portable bursts: whole elements as int32_t, one transfer per byte (word_bytes <= 4). */
void hlsfix_spi_write_burst_bytewise(const void *src, uint8_t elem_bytes, uint8_t word_bytes,
                                     uint16_t n)
{
    uint16_t i;
    uint8_t b;
    for (i = 0; i < n; i++) {
        uint32_t u = (uint32_t)get_element(src, elem_bytes, i);
        for (b = word_bytes; b-- > 0;) {
            (void)hlsfix_spi_transfer((uint8_t)(u >> (8u * b)));
        }
    }
}

void hlsfix_spi_read_burst_bytewise(void *dst, uint8_t elem_bytes, uint8_t word_bytes, uint16_t n)
{
    uint16_t i;
    uint8_t b;
    for (i = 0; i < n; i++) {
        uint32_t u = 0;
        for (b = 0; b < word_bytes; b++) {
            u = (u << 8) | hlsfix_spi_transfer(0);
        }
        put_element(dst, elem_bytes, i, sign_extend(u, word_bytes));
    }
}

#else
/* ---- MMIO: one 32-bit bus access per word ---- */

/* A bus error: the code is in STATUS (a real soft CPU never sees the response, see below). */
static int mmio_fail(void)
{
    uint8_t resp;
    uint32_t status = hlsfix_mmio_read(4UL * HLSFIX_CTRL_STATUS, &resp);
    return fail((uint8_t)(status >> HLSFIX_STATUS_ERROR_SHIFT));
}

static int link_write(uint16_t word, const void *src, uint8_t elem_bytes, uint16_t n)
{
    uint16_t i;
    for (i = 0; i < n; i++) {
        uint8_t resp = 0;
        uint32_t value = (uint32_t)get_element(src, elem_bytes, i);
        hlsfix_mmio_write(4UL * (uint16_t)(word + i), value, &resp);
        if (resp != 0) {
            return mmio_fail();
        }
    }
    return HLSFIX_ACCEL_OK; /* errors a transport cannot see show in the next STATUS poll */
}

static int link_read(uint16_t word, void *dst, uint8_t elem_bytes, uint16_t n)
{
    uint16_t i;
    uint8_t resp = 0;
    for (i = 0; i < n; i++) {
        uint32_t v = hlsfix_mmio_read(4UL * (uint16_t)(word + i), &resp);
        if (resp != 0) {
            return mmio_fail();
        }
        put_element(dst, elem_bytes, i, sign_extend(v, 4));
    }
    if (word >= HLSFIX_CONTROL_WORDS) {
        /* Where the bus response is invisible, a read refused (BUSY) returned 0: STATUS says so. */
        uint32_t status = hlsfix_mmio_read(4UL * HLSFIX_CTRL_STATUS, &resp);
        uint8_t code = (uint8_t)(status >> HLSFIX_STATUS_ERROR_SHIFT);
        if (resp != 0 || code != 0) {
            return fail(code);
        }
    }
    return HLSFIX_ACCEL_OK;
}
#endif

/* ---- the public functions ---- */

int hlsfix_accel_check(void)
{
    int32_t value;
    int err;
    hlsfix_link_init();
    err = read_control(HLSFIX_CTRL_ID, &value);
    if (err != HLSFIX_ACCEL_OK) {
        return err;
    }
    if ((uint32_t)value != HLSFIX_ACCEL_ID_VALUE) {
        return HLSFIX_ACCEL_LINK;
    }
    err = write_control(HLSFIX_CTRL_CLEAR, 0);
    if (err == HLSFIX_ACCEL_OK) {
        err = read_control(HLSFIX_CTRL_INFO, &value);
    }
    if (err == HLSFIX_ACCEL_OK && (uint32_t)value != HLSFIX_ACCEL_INFO_VALUE) {
        err = HLSFIX_ACCEL_LINK; /* another design is loaded: its map differs from this one */
    }
    return err;
}

/* Strided: one transaction per element, since the words between elements belong to others and
 * must be left alone. Not inlined, so that a burst (stride 1) saves no registers for it. */
static HLSFIX_NOINLINE int write_strided(uint16_t word, const uint8_t *p, uint8_t elem_bytes,
                                         uint16_t n, uint16_t stride)
{
    for (; n > 0; n--) {
        int err = link_write(word, p, elem_bytes, 1);
        if (err != HLSFIX_ACCEL_OK) {
            return err;
        }
        word = (uint16_t)(word + stride); /* 16-bit index arithmetic: no 32-bit multiply */
        p += elem_bytes;
    }
    return HLSFIX_ACCEL_OK;
}

static HLSFIX_NOINLINE int read_strided(uint16_t word, uint8_t *p, uint8_t elem_bytes, uint16_t n,
                                        uint16_t stride)
{
    for (; n > 0; n--) {
        int err = link_read(word, p, elem_bytes, 1);
        if (err != HLSFIX_ACCEL_OK) {
            return err;
        }
        word = (uint16_t)(word + stride);
        p += elem_bytes;
    }
    return HLSFIX_ACCEL_OK;
}

int hlsfix_accel_write(uint16_t word, const void *src, uint8_t elem_bytes, uint16_t n, uint16_t stride)
{
    if (stride == 1) {
        return link_write(word, src, elem_bytes, n); /* one burst, the address auto-increments */
    }
    return write_strided(word, (const uint8_t *)src, elem_bytes, n, stride);
}

int hlsfix_accel_read(uint16_t word, void *dst, uint8_t elem_bytes, uint16_t n, uint16_t stride)
{
    if (stride == 1) {
        return link_read(word, dst, elem_bytes, n);
    }
    return read_strided(word, (uint8_t *)dst, elem_bytes, n, stride);
}

int hlsfix_accel_write_reg(uint16_t word, int16_t value)
{
    int32_t wide = value;
    return link_write(word, &wide, 4, 1);
}

int hlsfix_accel_read_reg(uint16_t word, int16_t *value)
{
    int32_t wide = 0;
    int err = link_read(word, &wide, 4, 1);
    *value = (int16_t)wide; /* the program's integer registers fit int16_t */
    return err;
}

int hlsfix_accel_run(uint8_t segment)
{
    uint32_t polls;
    uint8_t code = 0;
    int err = write_control(HLSFIX_CTRL_START, segment);
    if (err != HLSFIX_ACCEL_OK) {
        return err;
    }
    for (polls = 0; polls < HLSFIX_ACCEL_MAX_POLLS; polls++) {
        int32_t status;
        err = read_control(HLSFIX_CTRL_STATUS, &status);
        if (err != HLSFIX_ACCEL_OK) {
            return err;
        }
        code = (uint8_t)((uint32_t)status >> HLSFIX_STATUS_ERROR_SHIFT);
        if (status & HLSFIX_STATUS_BUSY) {
            continue; /* an error is reported once the accelerator is idle: the next call works */
        }
        if (code != 0) {
            return fail(code);
        }
        if ((status & HLSFIX_STATUS_DONE) &&
            (uint8_t)((uint32_t)status >> HLSFIX_STATUS_SEGMENT_SHIFT) == segment) {
            return HLSFIX_ACCEL_OK;
        }
    }
    return code != 0 ? fail(code) : HLSFIX_ACCEL_TIMEOUT;
}

int hlsfix_accel_cycles(uint32_t *cycles)
{
    int32_t value = 0;
    int err = read_control(HLSFIX_CTRL_CYCLES, &value);
    *cycles = (uint32_t)value;
    return err;
}
