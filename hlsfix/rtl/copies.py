"""Per-lane copies of registers that every lane reads, and the Yosys steps that keep them.

From 2 lanes on the lanes are built as spread over the die, and a register that every lane reads (a late
stage's microcode word) feeds all of them through routes across it; worse, the synthesis shares
the lanes' identical logic on that register's bits (``u2.b_src == RAM``, computed once), so a
lane's operand path runs through another lane's LUTs. Each lane instead reads its own copy,
registered from the shared one: one route across the die from register to register, and the
lane's logic on its own flip-flops.

Yosys merges flip-flops with the same input (``opt_merge``), and a ``keep`` on the register's
wire does not stop it (tried: only ``keep`` on the flip-flop cells does). So copies carry the
attribute ``COPY_ATTR``, and every Yosys script that synthesises the accelerator starts with
``keep_copies_script``: split the copies into bits, drop the bits no logic reads, and set ``keep``
on the flip-flops left.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal

COPY_ATTR = "hlsfix_lane_copy"

# Lanes from which the lanes count as spread over the die: each reads its own copies (of the
# microcode words, of the rotation network's shift in ``scratch.py``), makes its entry addresses
# (``sequencer.EntryAddresses``) and registers its write of the cycle after next
# (``write_stage.lane_write_ahead``); the pipeline's busy flag is registered
# (``sequencer.PipeBusy``); the scratch RAM's reads are pipelined (``scratch.py``); and the late
# forwarding serves a lane's own writes only (``schedule.LATE_FORWARDING_LANES``). One lane
# needs none of it. 2 and 4 lanes built with shared registers and late forwarding across the
# lanes were bound by a lane's write register → the late forwarding → another lane's multiplier
# (ProtoNN at 4 lanes 85 MHz, spread 107; docs/accelerator-timing.md, session 20). From
# ``SPREAD_BELOW`` lanes on the accelerator is built to fit the part, not for the clock: the
# copies, the registers ahead and the pipelined reads cost 5,600-6,500 LUTs at 16 lanes (ProtoNN, the
# MLP no longer fitted the xc7a35t), and that design did not route to a useful clock anyway.
SPREAD_FROM = 2
SPREAD_BELOW = 16


def spread_lanes(lanes: int) -> bool:
    """Whether an accelerator of ``lanes`` lanes is built for lanes spread over the die."""
    return SPREAD_FROM <= lanes < SPREAD_BELOW


def delayed(m: Module, sig, name: str | None = None) -> Signal:
    """``sig`` registered: its value of the previous cycle (of its shape, signed or not)."""
    if isinstance(sig, Signal):
        out = Signal.like(sig, name=name or f"{sig.name}b")
    else:
        out = Signal(sig.shape(), name=name)
    m.d.sync += out.eq(sig)
    return out


def copy_register(m: Module, sig, name: str) -> Signal:
    """``sig`` registered into a lane's own copy (marked ``COPY_ATTR``): its value of the
    previous cycle."""
    out = Signal(len(sig), name=name, attrs={COPY_ATTR: 1})
    m.d.sync += out.eq(sig)
    return out


def keep_copies_script(verilog_text: str, top: str) -> str:
    """The Yosys commands to run before ``synth_<family>`` on ``verilog_text`` (module ``top``)
    so that its lane copies stay apart; empty where it has none. The copies' flip-flops are
    selected as the cells driving a wire that carries ``COPY_ATTR``."""
    if COPY_ATTR not in verilog_text:
        return ""
    copies = f"a:{COPY_ATTR} %ci1 t:$dff %i"
    return (
        f"hierarchy -top {top}; proc; flatten; splitcells {copies}; opt_clean; setattr -set keep 1 {copies}; "
    )
