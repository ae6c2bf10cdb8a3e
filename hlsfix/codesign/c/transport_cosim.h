/* Co-simulation transport: the link is this process's stdin/stdout, a line protocol to a
 * simulator of the accelerator (hlsfix/codesign/pipe.py documents it; functional.py serves it).
 * Anything meant for people must go to stderr: stdout belongs to the protocol. */
#ifndef HLSFIX_TRANSPORT_COSIM_H
#define HLSFIX_TRANSPORT_COSIM_H

#include <stdint.h>

/* Inference n begins / ends (markers the simulator may use to attribute traffic and cycles). */
void hlsfix_cosim_begin(uint32_t n);
void hlsfix_cosim_end(uint32_t n);
/* No more requests: the simulator may stop. */
void hlsfix_cosim_finish(void);

#endif
