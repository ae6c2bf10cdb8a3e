"""A stand-in for the accelerator with its shape: an input stream of signed model-input elements and
an output stream carrying one "class" per inference (the sum of the inputs mod 256).

It takes an input only every other cycle, so the board link is tested against back-pressure.
"""

from __future__ import annotations

from amaranth import Module, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out


def standin_class(x_q) -> int:
    """What the stand-in answers for input ``x_q``."""
    return sum(int(v) for v in x_q) % 256


class SumAccelerator(wiring.Component):
    def __init__(self, n_inputs: int, input_bits: int = 8) -> None:
        self.n_inputs = n_inputs  # what BoardCore reads when not told the count
        self._count = n_inputs
        super().__init__(
            {
                "input": In(stream.Signature(signed(input_bits))),
                "output": Out(stream.Signature(unsigned(8))),
            }
        )

    def elaborate(self, platform):
        m = Module()
        total = Signal(8)
        count = Signal(range(self._count))
        stall = Signal()
        with m.FSM():
            with m.State("SUM"):
                m.d.sync += stall.eq(~stall)
                m.d.comb += self.input.ready.eq(~stall)
                with m.If(self.input.valid & ~stall):
                    m.d.sync += [total.eq(total + self.input.payload), count.eq(count + 1)]
                    with m.If(count == self._count - 1):
                        m.d.sync += count.eq(0)
                        m.next = "ANSWER"
            with m.State("ANSWER"):
                m.d.comb += [self.output.valid.eq(1), self.output.payload.eq(total)]
                with m.If(self.output.ready):
                    m.d.sync += total.eq(0)
                    m.next = "SUM"
        return m
