"""Scheduling a segment of microcode: each straight-line run of kernels list-scheduled on its
actual RAM and register dependences when that shortens the segment, then every instruction's
wait and drain from ``schedule.py``'s exact timing model.
"""

from __future__ import annotations

import math

from hlsfix.rtl.image import Image
from hlsfix.rtl.isa import SEQUENCER_OPS
from hlsfix.rtl.schedule import InsnUse, need, schedule, write_at

# How many cycles a kernel of the longest remaining chain may wait before a ready kernel that
# starts earlier goes first: each is tried, and the exact model keeps the shortest schedule
# (0: earliest start first; None: chain length alone, timing-blind).
SLACKS = (None, 0, 1, 2, 4, 8)


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


class _Timing:
    """A rough sequencer clock for the list scheduler: when an instruction appended now would be
    accepted (its producers' ``need`` and the fast path), ignoring the write-stage ordering of
    latency classes. Only a heuristic: ``schedule`` times the chosen order exactly."""

    def __init__(self, writes: dict[int, int]) -> None:
        self.writes = writes
        self.done: list[tuple[InsnUse, int]] = []  # (use, last beat) of every placed kernel
        self.t_latest, self.s0, self.prev_beats, self.after_kernel = 0, 0, 0, False

    def start(self, use: InsnUse) -> int:
        req = max((t + need(u, use, self.writes) for u, t in self.done), default=-math.inf)
        kernel = use.op not in SEQUENCER_OPS
        fast = not use.regs_issue or self.prev_beats >= 2
        if kernel and self.after_kernel and fast and req <= self.t_latest:
            return self.t_latest
        return int(max(self.s0 + (kernel and bool(use.regs_issue) and not self.after_kernel), req))

    def place(self, use: InsnUse, beats: int) -> None:
        s = self.start(use)
        if use.op in SEQUENCER_OPS:
            self.s0, self.after_kernel, self.prev_beats = s + 1, False, 0
            return
        self.t_latest = s + beats
        self.done.append((use, self.t_latest))
        self.s0, self.after_kernel, self.prev_beats = self.t_latest + 1, True, beats


def _reordered(
    img: Image, runs: list[list[tuple[int, int]]], beats: list[int], div_latency: int, slack: int | None
) -> list[int]:
    """Instruction order with each straight-line run list-scheduled: kernels keep every memory
    and register dependence (on the actual addresses, so the memory plan's reuse is respected).
    Among the kernels whose producers are placed, the one heading the longest chain of dependent
    latencies goes first unless another starts more than ``slack`` cycles earlier (by
    ``_Timing``), so independent work fills the pipeline's waits (a SigmoidTanh's divider, a
    Select's register, a dot product's adder tree)."""
    order = list(range(len(img.insns)))
    writes = write_at(div_latency)
    done_at = {k: v + 1 for k, v in writes.items()}
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
        clock = _Timing(writes)
        while left:
            ready = [i for i in sorted(left) if all(d not in left for d in deps[i])]
            if slack is None:
                pick = max(ready, key=lambda i: (chain[i], -i))
            else:
                starts = {i: clock.start(img.uses[run[i][0]]) for i in ready}
                soon = [i for i in ready if starts[i] <= min(starts.values()) + slack]
                pick = max(soon, key=lambda i: (chain[i], -starts[i], -i))
            for i in range(*run[pick]):
                clock.place(img.uses[i], beats[i])
            placed.append(pick)
            left.remove(pick)
        first = run[0][0]
        order[first : run[-1][1]] = [i for g in placed for i in range(*run[g])]
    return order


def schedule_segment(img: Image, lo: int, hi: int, beats: list[int], div_latency: int) -> int:
    """Schedule instructions ``lo..hi`` (one segment, ending in its DONE) in place; its cycles.

    The segment is scheduled on its own (loop targets rebased), since it always starts from an
    idle pipeline; each straight-line run is list-scheduled (by every policy of ``SLACKS``) and
    the shortest schedule is kept, program order included."""

    def rebased(insns: list[dict]) -> list[dict]:
        return [dict(i, target=i["target"] - lo) if "target" in i else i for i in insns]

    insns, uses, seg_beats = img.insns[lo:hi], img.uses[lo:hi], beats[lo:hi]
    best, best_order = schedule(rebased(insns), uses, seg_beats, div_latency), list(range(hi - lo))
    runs = [[(a - lo, b - lo) for a, b in run] for run in img.runs if run and lo <= run[0][0] < hi]
    sub = Image(img.program, img.lanes, insns=insns, uses=uses)
    tried = {tuple(best_order)}
    for slack in SLACKS:
        order = _reordered(sub, runs, seg_beats, div_latency, slack)
        if tuple(order) in tried:
            continue
        tried.add(tuple(order))
        # LOOPNEXT targets are the first instruction of a run, which the reordering keeps first
        # in position (not in content): the targets stay valid.
        trial = schedule(
            rebased([insns[i] for i in order]),
            [uses[i] for i in order],
            [seg_beats[i] for i in order],
            div_latency,
        )
        if trial[2] < best[2]:
            best, best_order = trial, order
    img.insns[lo:hi] = [insns[i] for i in best_order]
    img.uses[lo:hi] = [uses[i] for i in best_order]
    img.kernel_of[lo:hi] = [img.kernel_of[lo + i] for i in best_order]
    drains, waits, cycles = best
    for insn, d, w in zip(img.insns[lo:hi], drains, waits, strict=True):
        insn["drain"], insn["wait"] = int(d), w
    return cycles
