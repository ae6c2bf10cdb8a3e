"""Scheduling a segment of microcode: each straight-line run of kernels list-scheduled on its
actual RAM and register dependences when that shortens the segment, then every instruction's
wait and drain from ``schedule.py``'s exact timing model.
"""

from __future__ import annotations

from hlsfix.rtl.image import Image
from hlsfix.rtl.schedule import InsnUse, schedule, write_at


def _depends(a: InsnUse, b: InsnUse) -> bool:
    """Must ``b`` stay after ``a``? (it reads what a writes, writes what a reads, or both write)"""

    def meets(x, ys) -> bool:
        return x is not None and any(_overlap(x, y) for y in ys)

    if meets(a.ram_write, b.ram_reads) or meets(b.ram_write, a.ram_reads):
        return True
    if a.ram_write is not None and meets(a.ram_write, [b.ram_write] if b.ram_write else []):
        return True
    a_regs = a.regs_issue | a.regs_post | {a.reg_write}
    b_regs = b.regs_issue | b.regs_post | {b.reg_write}
    return (a.reg_write is not None and a.reg_write in b_regs) or (
        b.reg_write is not None and b.reg_write in a_regs
    )


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _reordered(img: Image, runs: list[list[tuple[int, int]]], beats: list[int], div_latency: int):
    """Instruction order with each straight-line run list-scheduled: kernels keep every memory
    and register dependence (on the actual addresses, so the memory plan's reuse is respected),
    and the one heading the longest chain of dependent latencies goes first, so independent
    work fills the pipeline's waits (a SigmoidTanh's divider, a Select's register)."""
    order = list(range(len(img.insns)))
    done_at = {k: v + 1 for k, v in write_at(div_latency).items()}
    for run in runs:
        if len(run) < 2:
            continue
        n = len(run)
        uses = [[img.uses[i] for i in range(a, b)] for a, b in run]
        deps = [
            [j for j in range(i) if any(_depends(x, y) for x in uses[j] for y in uses[i])] for i in range(n)
        ]
        weight = [sum(beats[i] + done_at[img.uses[i].latency] for i in range(a, b)) for a, b in run]
        users = [[i for i in range(n) if j in deps[i]] for j in range(n)]
        chain = [0] * n
        for j in reversed(range(n)):
            chain[j] = weight[j] + max((chain[i] for i in users[j]), default=0)
        placed: list[int] = []
        left = set(range(n))
        while left:
            ready = [i for i in sorted(left) if all(d not in left for d in deps[i])]
            pick = max(ready, key=lambda i: (chain[i], -i))
            placed.append(pick)
            left.remove(pick)
        first = run[0][0]
        order[first : run[-1][1]] = [i for g in placed for i in range(*run[g])]
    return order


def schedule_segment(img: Image, lo: int, hi: int, beats: list[int], div_latency: int) -> int:
    """Schedule instructions ``lo..hi`` (one segment, ending in its DONE) in place; its cycles.

    The segment is scheduled on its own (loop targets rebased), since it always starts from an
    idle pipeline; each straight-line run is list-scheduled when that shortens the segment."""

    def rebased(insns: list[dict]) -> list[dict]:
        return [dict(i, target=i["target"] - lo) if "target" in i else i for i in insns]

    insns, uses, seg_beats = img.insns[lo:hi], img.uses[lo:hi], beats[lo:hi]
    best = schedule(rebased(insns), uses, seg_beats, div_latency)
    runs = [[(a - lo, b - lo) for a, b in run] for run in img.runs if run and lo <= run[0][0] < hi]
    sub = Image(img.program, img.lanes, insns=insns, uses=uses)
    order = _reordered(sub, runs, seg_beats, div_latency)
    if order != sorted(order):
        # LOOPNEXT targets are the first instruction of a run, which the reordering keeps first
        # in position (not in content): the targets stay valid.
        r_insns = [insns[i] for i in order]
        r_uses = [uses[i] for i in order]
        trial = schedule(rebased(r_insns), r_uses, [seg_beats[i] for i in order], div_latency)
        if trial[2] < best[2]:
            best = trial
            img.insns[lo:hi], img.uses[lo:hi] = r_insns, r_uses
            img.kernel_of[lo:hi] = [img.kernel_of[lo + i] for i in order]
    drains, waits, cycles = best
    for insn, d, w in zip(img.insns[lo:hi], drains, waits, strict=True):
        insn["drain"], insn["wait"] = int(d), w
    return cycles
