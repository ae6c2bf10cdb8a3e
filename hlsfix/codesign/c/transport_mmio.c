/* Memory-mapped transport for a soft CPU (MicroBlaze) or any bare-metal CPU that has the
 * accelerator's AXI4-Lite slave on its bus at HLSFIX_ACCEL_BASE.
 *
 * Set HLSFIX_ACCEL_BASE (-DHLSFIX_ACCEL_BASE=0x44A00000UL) to the address Vivado's address editor
 * gives the accelerator's S_AXI interface (xparameters.h names it XPAR_..._BASEADDR).
 *
 * A MicroBlaze does not report a slave error to the program on a plain load or store (without
 * exceptions enabled it is dropped), so *resp is always 0 here: the driver reads the sticky
 * error code in STATUS instead. */
#include "hlsfix_accel.h"

#ifndef HLSFIX_ACCEL_BASE
#define HLSFIX_ACCEL_BASE 0x44A00000UL /* Vivado's default for the first AXI peripheral */
#endif

static volatile uint32_t *word_pointer(uint32_t byte_addr)
{
    return (volatile uint32_t *)(uintptr_t)(HLSFIX_ACCEL_BASE + byte_addr);
}

void hlsfix_link_init(void)
{
}

uint32_t hlsfix_mmio_read(uint32_t byte_addr, uint8_t *resp)
{
    *resp = 0;
    return *word_pointer(byte_addr);
}

void hlsfix_mmio_write(uint32_t byte_addr, uint32_t value, uint8_t *resp)
{
    *resp = 0;
    *word_pointer(byte_addr) = value;
}
