/* returns.c -- emits one record and returns from main() instead of calling target_exit(). */
#include <stdint.h>

#include "target.h"

int main(void)
{
    const uint8_t answer = 42;

    target_init();
    target_emit(&answer, 1);
    target_record_end();
    return 0;
}
