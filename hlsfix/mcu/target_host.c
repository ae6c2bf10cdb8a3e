/*
 * target_host.c -- target.h for a native build on the development machine.
 *
 * Used to check a firmware for undefined behaviour and memory errors under
 * -fsanitize=address,undefined before it goes to a simulator.  Records are printed
 * as "data <hex>" lines on stdout, the same protocol as target_cortexm.c; nothing
 * is measured, so the measurement markers do nothing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "target.h"

static int record_open;

void target_init(void)
{
    record_open = 0;
}

void target_measure_begin(void)
{
}

void target_measure_end(void)
{
}

void target_emit(const void *data, uint16_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    uint16_t i;

    if (!record_open) {
        fputs("data ", stdout);
        record_open = 1;
    }
    for (i = 0; i < n; i++) {
        printf("%02x", p[i]);
    }
}

void target_record_end(void)
{
    fputs(record_open ? "\n" : "data \n", stdout);
    record_open = 0;
}

void target_exit(void)
{
    fflush(stdout);
    exit(0);
}
