"""The accelerator's host port: how a link wrapper (SPI, AXI4-Lite) reaches its memories.

The flows are the link's (the master's): the accelerator takes ``In(HOST_PORT)``.

- While ``busy`` is low a one-cycle ``we`` writes ``wdata`` to scratch-RAM word ``addr`` (or to
  integer register ``addr`` when ``reg`` is set); a one-cycle ``re`` reads, and ``rdata`` holds
  the value (sign-extended to 32 bits) from the next cycle on. While ``busy`` is high the port is
  ignored: the link must refuse such accesses (``regmap.Error.BUSY``), not issue them.
- ``start`` (one cycle, while idle) runs segment ``segment``; ``busy`` rises in the next cycle and
  falls when that segment's results are all written. The link checks the segment number against
  the design's count before it starts.
"""

from __future__ import annotations

from amaranth.hdl import signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

HOST_ADDR_BITS = 16

HOST_PORT = wiring.Signature(
    {
        "addr": Out(HOST_ADDR_BITS),
        "reg": Out(1),
        "wdata": Out(signed(32)),
        "we": Out(1),
        "re": Out(1),
        "rdata": In(signed(32)),
        "start": Out(1),
        "segment": Out(8),
        "busy": In(1),
    }
)
