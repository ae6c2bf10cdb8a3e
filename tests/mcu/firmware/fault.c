/*
 * fault.c -- a firmware with a bug: it reads past the end of an array.  On the host
 * AddressSanitizer must catch it.  On Cortex-M it additionally reads an unmapped
 * address, which must end in the fault handler (QEMU exit status 1), not a hang.
 */
#include <stdint.h>

#include "target.h"

static int16_t table[4] = {1, 2, 3, 4};
static volatile uint16_t index_of_last = 4; /* volatile: the compiler cannot see the bug */

int main(void)
{
    int16_t v;

    target_init();
    v = table[index_of_last];
#if defined(__ARM_ARCH)
    v = (int16_t)(v + *(volatile int16_t *)0x70000000u); /* nothing is mapped there on MPS2 */
#endif
    target_emit(&v, sizeof v);
    target_record_end();
    target_exit();
}
