/* SPI transport for an ATmega328P (Arduino Uno) without the Arduino core: the SPI peripheral as
 * master, mode 0, MSB first, SCK = fosc/2 (8 MHz at 16 MHz; SPI2X), chip select on PB2.
 *
 * Uno pins: D13 (PB5) SCK, D12 (PB4) MISO, D11 (PB3) MOSI, D10 (PB2) SS -- see WIRING.md.
 * PB2 must be an output: with SS an input held low the peripheral would drop out of master mode. */
#include <avr/io.h>

#include "hlsfix_accel.h"

void hlsfix_link_init(void)
{
    PORTB |= (uint8_t)(1u << PORTB2); /* chip select high (idle) before it becomes an output */
    DDRB |= (uint8_t)((1u << DDB2) | (1u << DDB3) | (1u << DDB5));
    DDRB &= (uint8_t)~(1u << DDB4);
    SPCR = (uint8_t)((1u << SPE) | (1u << MSTR)); /* CPOL = CPHA = 0: mode 0; SPR = 0 */
    SPSR = (uint8_t)(1u << SPI2X);                /* with SPR = 0: fosc / 2 */
}

void hlsfix_spi_select(void)
{
    PORTB &= (uint8_t)~(1u << PORTB2);
}

uint8_t hlsfix_spi_transfer(uint8_t out)
{
    SPDR = out;
    while (!(SPSR & (1u << SPIF))) {
        /* 8 SCK periods: 16 CPU cycles at fosc/2, always ends */
    }
    return SPDR;
}

void hlsfix_spi_deselect(void)
{
    PORTB |= (uint8_t)(1u << PORTB2);
}
