"""Which lane reads and which lane writes each RAM word in a kernel's first and last beats: the
schedule's own-lane check (``schedule.need``) for accelerators whose late forwarding serves a
lane's own writes only (``forwarding.py``, above ``schedule.LATE_FORWARDING_LANES`` lanes).

A kernel accepted ``write_at - 5`` cycles after its producer's last beat needs late forwarding
for one pair of beats only, its first beat's operands and the producer's last beat's writes:
every other pair is a cycle or more further apart, where the RAM and the early forwarding serve
it. It may start then if each word of those writes that its first beat reads is read by the
lane that writes it. From ``schedule.LOCAL_SELECT_FROM`` lanes on the write of an operand's select
cycle is served from the reading lane's own write stage only, and the next closest pairs (the
first beat against the beat before the last, the second beat against the last) must be own-lane
too (``schedule.own_lane_near``); the beat before the last writes nothing where it ends no
reduction.

The beats' addresses are those of the address generator (``accelerator.py``'s ISSUE state):
each beat steps every stream by one of d0..d3 as the loop counters wrap; a lane adds its lane
stride times its index, and a gather or sparse row its entry's column (reads) or row (writes).
An address that depends on a register is not known here: then None, "not own-lane". Reads are
counted wherever the hardware may forward into them (``scratch.read_conflict``'s rule): more
reads than the kernel uses only make the check stricter.
"""

from __future__ import annotations

from dataclasses import replace

from hlsfix.rtl.isa import SEQUENCER_OPS, Src, beats, live_lanes
from hlsfix.rtl.schedule import InsnUse

LaneWords = frozenset[tuple[int, int]]  # (RAM word, lane)


def _at_beat(insn: dict, stream: str, beat: int) -> int:
    """The stream's address at the kernel's beat ``beat``: the deltas the address generator has
    added by then, d0 while r0 steps, d1 when r0 wraps, d2 when r1 wraps, d3 when the chunk wraps."""
    s = insn.get(stream, {})
    chunks, m1, m0 = (insn.get(k, 1) for k in ("chunks", "m1", "m0"))
    steps = (
        beat // m0 * (m0 - 1) + beat % m0,
        beat // (m0 * m1) * (m1 - 1) + beat // m0 % m1,
        beat // (m0 * m1 * chunks) * (chunks - 1) + beat // (m0 * m1) % chunks,
        beat // (m0 * m1 * chunks),
    )
    return s.get("base", 0) + sum(n * s.get(f"d{i}", 0) for i, n in enumerate(steps))


def _chunk(insn: dict, beat: int) -> int:
    return beat // (insn.get("m0", 1) * insn.get("m1", 1)) % insn.get("chunks", 1)


def first_reads(img, insn: dict, beat: int = 0) -> LaneWords | None:
    """The RAM words the first beat's operands read (or beat ``beat``'s), with the lane that
    reads each; empty past the last beat."""
    if insn.get("x", {}).get("reg_en") and (insn.get("a_ind") or insn.get("b_ind")):
        return None
    if beat >= beats(insn):
        return frozenset()
    x = insn.get("x", {})
    sparse = insn.get("sparse")
    out = set()
    for group in ("a", "b"):
        if insn.get(f"{group}_src", Src.RAM) != Src.RAM:
            continue
        s = insn.get(group, {})
        if s.get("reg_en"):
            return None
        for p in live_lanes(insn, img.lanes, _chunk(insn, beat)):
            word = _at_beat(insn, group, beat) + s.get("lane", 0) * p
            if insn.get(f"{group}_ind"):
                e = img.entries[_at_beat(insn, "x", beat) + x.get("lane", 0) * p]
                if not (e["valid"] or (not sparse and group == "b")):
                    continue  # no read: a sparse lane's empty entry, or A's padding
                word += e["col"]
            out.add((word, p))
    return frozenset(out)


def last_writes(img, insn: dict, use: InsnUse, back: int = 0) -> LaneWords | None:
    """The RAM words the last beat writes (or the beat ``back`` before it), with the lane that
    writes each: a split dot product's result by lane 0 (its adder tree), a sparse row's by the
    lane whose entry ends the row; a reduction writes at its last beat only."""
    if use.ram_write is None:
        return frozenset()
    o, x = insn.get("o", {}), insn.get("x", {})
    if o.get("reg_en") or (insn.get("o_ind") and (x.get("reg_en") or insn.get("split"))):
        return None
    beat = beats(insn) - 1 - back
    sparse = insn.get("sparse")
    reduction = insn.get("m1", 1) * insn.get("m0", 1)
    if beat < 0 or (not sparse and (beat + 1) % reduction):
        return frozenset()  # no such beat, or one that ends no reduction
    base = _at_beat(insn, "o", beat)
    if insn.get("split"):
        return frozenset({(base, 0)})
    out = set()
    x_at = _at_beat(insn, "x", beat)
    for p in live_lanes(insn, img.lanes, _chunk(insn, beat)):
        word = base + o.get("lane", 0) * p
        if insn.get("o_ind"):
            e = img.entries[x_at + x.get("lane", 0) * p]
            if sparse and not (e["valid"] and e["last"]):
                continue  # this lane ends no row in this beat
            word += e["row"]
        out.add((word, p))
    return frozenset(out)


def with_beat_words(img, insn: dict, use: InsnUse) -> InsnUse:
    """``use`` with its first beat's reads and last beat's writes (``InsnUse.first_reads``,
    ``last_writes``) for ``schedule.own_lane``."""
    if use.op in SEQUENCER_OPS:
        return use
    return replace(
        use,
        first_reads=first_reads(img, insn),
        last_writes=last_writes(img, insn, use),
        second_reads=first_reads(img, insn, 1),
        penult_writes=last_writes(img, insn, use, 1),
    )
