"""Parts of the accelerator's sequencer that start its decisions from flip-flops."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal, Value

from hlsfix.rtl import program_facts as facts
from hlsfix.rtl.image import Image


def early_again(m: Module, img: Image, regs, pc: Value, lb: int) -> Value | None:
    """Whether the LOOPNEXT at ``pc`` loops again, from comparisons registered in the cycle before
    (``facts.early_loop_compares``: exact where its register is not written in that cycle), so
    the taken-branch choice of the sequencer's word is a flip-flop; None where not exact."""
    early = facts.early_loop_compares(img)
    if not early:
        return None
    flags = []
    for at, reg, last in early:
        flag = Signal(name=f"again_r{reg}_pc{at}")
        m.d.sync += flag.eq(regs[reg][:lb].as_signed() < last)
        flags.append(flag & (pc == at) if len(early) > 1 else flag)
    return Cat(*flags).any()
