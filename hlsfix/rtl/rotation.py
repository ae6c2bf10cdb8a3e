"""The banked scratch RAM's rotation network (``scratch.py``): where every access of a port group
is a lane stride of 0 or 1, the lanes reach the P banks through log2 P levels of 2:1 multiplexers
instead of a crossbar of P-input multiplexers per bank and per port.

A beat's lanes access a common base plus a per-lane offset. With lane stride 1, lane p's word
``base + p`` lies in bank ``(base + p) mod P`` at row ``base div P``, plus one where the bank is
below ``base mod P``: the banks' rows come from the base alone, and lane p's data is bank
``(p + base) mod P``'s, a rotation by ``base mod P``. With lane stride 0 every lane takes lane 0's.
Writes need only that every lane writing in a cycle writes bank ``(p + r) mod P`` for one ``r``
(each lane's row travels with its data): then bank b takes lane ``(b - r) mod P``'s write, and
``r`` is any writing lane's bank minus its lane (an AND-OR over the lanes, as they agree).

The compile-time checks (``rotation_plan``) say which of the writes and the two read groups
qualify; the others keep ``scratch.py``'s crossbars.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal

from hlsfix.rtl.isa import SEQUENCER_OPS, Op, Src


def rotate(m: Module, name: str, values: list, shift, step: int) -> list[Signal]:
    """``out[i] = values[(i + step·shift) mod n]`` (n a power of two, ``step`` ±1): one level of
    2:1 multiplexers per bit of ``shift``."""
    n, level = len(values), list(values)
    for j in range(len(shift)):
        d = step << j
        nxt = []
        for i in range(n):
            s = Signal(len(level[i]), name=f"{name}{j}_{i}")
            m.d.comb += s.eq(Mux(shift[j], level[(i + d) % n], level[i]))
            nxt.append(s)
        level = nxt
    return level


# ---- the compile-time checks ---------------------------------------------------------------------


def rotated_writes(img) -> str | None:
    """Why the lanes' RAM writes cannot go through the rotation network (in some cycle two
    writing lanes are not one rotation apart), or None."""
    from hlsfix.rtl.scratch import REG_WRITING, entry_beats

    P = img.lanes
    for pc, insn in enumerate(img.insns):
        op = insn["op"]
        if op in SEQUENCER_OPS or op == Op.DONE or op in REG_WRITING or insn.get("split"):
            continue  # a split dot product: lane 0 writes the total
        if img.uses and img.uses[pc].ram_write is None:
            continue
        lane_o = insn.get("o", {}).get("lane", 0)
        if not insn.get("o_ind"):
            if min(P, insn.get("n0", 1)) > 1 and lane_o % P != 1:
                return f"instruction {pc} ({Op(op).name}): lanes write with stride {lane_o}"
            continue
        if insn.get("x", {}).get("reg_en"):
            return f"instruction {pc}: entry addresses depend on a register"
        sparse = insn.get("sparse")
        for ends, lanes in entry_beats(img, insn):
            shifts = {
                (lane_o * p + e["row"] - p) % P
                for p, e in lanes
                if (e["valid"] or not sparse) and (e["last"] if sparse else ends)
            }
            if len(shifts) > 1:
                return f"instruction {pc} ({Op(op).name}): a beat's writes are no rotation of the lanes"
    return None


def rotated_reads(img, group: str) -> str | None:
    """Why the lanes' reads of operand ``group`` ("a" or "b") cannot go through the rotation
    network (a gather, or a lane stride other than 0 or 1 with more than one lane), or None."""
    P = img.lanes
    for pc, insn in enumerate(img.insns):
        op = insn["op"]
        if op in SEQUENCER_OPS or op == Op.DONE or insn.get(f"{group}_src", Src.RAM) != Src.RAM:
            continue
        if insn.get(f"{group}_ind"):
            return f"instruction {pc} ({Op(op).name}): a gather"
        lane = insn.get(group, {}).get("lane", 0)
        live = P if insn.get("split") else min(P, insn.get("n0", 1))
        if live > 1 and lane not in (0, 1):
            return f"instruction {pc} ({Op(op).name}): lanes read with stride {lane}"
    return None


def rotation_plan(img) -> tuple[bool, bool, bool]:
    """Which of the banked scratch RAM's writes and read groups (A, B) rotate."""
    from hlsfix.rtl.scratch import scratch_banks

    if scratch_banks(img) == 1:
        return (False, False, False)
    return (rotated_writes(img) is None, rotated_reads(img, "a") is None, rotated_reads(img, "b") is None)
