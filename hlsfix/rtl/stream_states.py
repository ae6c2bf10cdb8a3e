"""The accelerator's result stream (``accelerator.py``, without a host port): its states of the
sequencer's FSM, after the program's DONE and before the next input streams in."""

from __future__ import annotations

from amaranth.hdl import Module

from hlsfix.rtl.image import Image


def output_states(m: Module, img: Image, out, regs, ram_a0, out_count, out_addr) -> None:
    """OUTREAD (a buffer's word read from the RAM through lane 0's A port, ``ram_a0``), OUTSEND
    (one beat on the ``out`` stream; a class result comes from its register) and OUTNEXT; inside
    the sequencer's ``with m.FSM()``."""
    base, scale = img.out_loc
    with m.State("OUTREAD"):  # one cycle for the registered RAM read of a buffer output
        m.d.comb += out_addr.eq(base + out_count * scale)
        m.next = "OUTSEND"
    with m.State("OUTSEND"):
        value = regs[img.regs.get(img.program.output, 0)] if img.program.output_is_class else ram_a0.data
        last = out_count == img.output_len - 1
        m.d.comb += [
            out.valid.eq(1),
            out.payload.value.eq(value),
            out.payload.last.eq(last),
        ]
        with m.If(out.ready):
            m.d.sync += out_count.eq(out_count + 1)
            # The load phase starts at the last beat's handshake (a host sends the
            # next input's beats from the next cycle on): no cycle in between.
            if img.program.output_is_class:
                m.next = "LOAD"
            else:
                with m.If(last):
                    m.next = "LOAD"
                with m.Else():
                    m.next = "OUTNEXT"
    if not img.program.output_is_class:
        with m.State("OUTNEXT"):
            m.next = "OUTREAD"
