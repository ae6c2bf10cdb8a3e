"""Which of the banked scratch RAM's writes and read groups go through the rotation network
(``rotation.py``), decided from the program's microcode: a read group rotates where every access
is a lane stride of 0 or 1 (no gather), the writes where every cycle's writing lanes are one
rotation apart."""

from __future__ import annotations

from hlsfix.rtl.isa import SEQUENCER_OPS, Op, Src, live_lanes
from hlsfix.rtl.scratch import REG_WRITING, indirect_write_beats, scratch_banks, shared_reads


def rotated_writes(img) -> str | None:
    """Why the lanes' RAM writes cannot go through the rotation network (in some cycle two
    writing lanes are not one rotation apart), or None."""
    P = img.lanes
    for pc, insn in enumerate(img.insns):
        op = insn["op"]
        if op in SEQUENCER_OPS or op == Op.DONE or op in REG_WRITING or insn.get("split"):
            continue  # a split dot product: lane 0 writes the total
        if img.uses and img.uses[pc].ram_write is None:
            continue
        lane_o = insn.get("o", {}).get("lane", 0)
        if not insn.get("o_ind"):
            if len(live_lanes(insn, P)) > 1 and lane_o % P != 1:
                return f"instruction {pc} ({Op(op).name}): lanes write with stride {lane_o}"
            continue
        if insn.get("x", {}).get("reg_en"):
            return f"instruction {pc}: entry addresses depend on a register"
        for beat in indirect_write_beats(img, insn):
            if len({(v - p) % P for p, v in beat}) > 1:
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
        if len(live_lanes(insn, P)) > 1 and lane not in (0, 1):
            return f"instruction {pc} ({Op(op).name}): lanes read with stride {lane}"
    return None


def rotation_plan(img) -> tuple[bool, bool, bool]:
    """Which of the banked scratch RAM's writes and read groups (A, B) rotate."""
    if scratch_banks(img) == 1:
        return (False, False, False)
    return (rotated_writes(img) is None, rotated_reads(img, "a") is None, rotated_reads(img, "b") is None)


def scratch_plan(img) -> tuple[int, tuple[bool, bool], tuple[bool, bool, bool]]:
    """``scratch.build_scratch``'s banks, shared read groups and rotations for ``img``."""
    return scratch_banks(img), shared_reads(img), rotation_plan(img)
