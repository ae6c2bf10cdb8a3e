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

from amaranth.hdl import Array, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hlsfix.rtl.image import Image
from hlsfix.rtl.isa import PC
from hlsfix.rtl.ucode_words import WORD_BITS

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


def check_segments(image: Image, host_port: bool) -> None:
    """ValueError unless ``image``'s segments suit the accelerator's interface."""
    n = len(image.segment_entries)
    if host_port and n > 256:  # the host port's 8-bit segment number
        raise ValueError(f"at most 256 segments fit the host port, not {n}")
    if not host_port and n != 1:
        raise ValueError("a streaming accelerator runs one segment (the whole program)")


def host_idle_state(m: Module, host, img: Image, regs, pc, word, ram_read, ram_in) -> None:
    """The IDLE state of a co-design accelerator's sequencer FSM: the host port owns lane 0's RAM
    ports (``ram_in``: write enable, address, data, and the read address) and the registers;
    ``start`` jumps to a segment's first instruction (``word``: the statements that load the
    sequencer's registered word, ``sequencer.WaitOver.load``, and the microcode words)."""
    in_we, in_addr, in_data, out_addr = ram_in
    reg_index = host.addr[: max(1, (len(regs) - 1).bit_length())]
    read_reg, reg_value = Signal(), Signal(signed(32))
    m.d.sync += [read_reg.eq(host.reg), reg_value.eq(regs[reg_index])]
    m.d.comb += host.rdata.eq(Mux(read_reg, reg_value, ram_read.data))
    entries = Array(Const(e, PC) for e in img.segment_entries)
    idle = Signal()
    m.d.comb += host.busy.eq(~idle)
    with m.State("IDLE"):
        m.d.comb += [
            idle.eq(1),
            in_we.eq(host.we & ~host.reg),
            in_addr.eq(host.addr),
            in_data.eq(host.wdata),
            out_addr.eq(host.addr),
        ]
        with m.If(host.we & host.reg):
            m.d.sync += regs[reg_index].eq(host.wdata)
        with m.If(host.start):
            load, words = word
            first = Signal(WORD_BITS)
            m.d.comb += first.eq(Array(Const(words[e], WORD_BITS) for e in img.segment_entries)[host.segment])
            m.d.sync += [pc.eq(entries[host.segment]), *load(first)]
            m.next = "SETUP"
