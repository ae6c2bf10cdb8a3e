/* hang.c -- a firmware that never calls target_exit(): runners must stop it and raise. */
#include <stdint.h>

#include "target.h"

static volatile uint8_t counter;

int main(void)
{
    target_init();
    for (;;) {
        counter++;
    }
}
