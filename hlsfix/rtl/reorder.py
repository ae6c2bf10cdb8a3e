"""Scheduling a segment of microcode: each straight-line run of kernels list-scheduled on its
actual RAM and register dependences when that shortens the segment, then every instruction's
wait and drain from ``schedule.py``'s exact timing model.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from hlsfix.rtl.image import Image
from hlsfix.rtl.isa import SEQUENCER_OPS
from hlsfix.rtl.schedule import InsnUse, NeedMemo, late_forwarding, local_select, need, schedule, write_at

# How many cycles a kernel of the longest remaining chain may wait before a ready kernel that
# starts earlier goes first: each is tried, and the exact model keeps the shortest schedule
# (0: earliest start first; None: chain length alone, timing-blind).
SLACKS = (None, 0, 1, 2, 4, 8)
SEARCH_BUDGET = 400  # exact schedules a segment's local search may try


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

    def __init__(self, needs: NeedMemo) -> None:
        self.needs = needs
        self.done: list[tuple[InsnUse, int]] = []  # (use, last beat) of every placed kernel
        self.t_latest, self.s0, self.prev_beats, self.after_kernel = 0, 0, 0, False

    def start(self, use: InsnUse) -> int:
        req = max((t + self.needs(u, use) for u, t in self.done), default=-math.inf)
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


@dataclass(frozen=True)
class _Run:
    """A straight-line run: its kernels' instruction ranges, and which kernels each must follow."""

    groups: list[tuple[int, int]]
    deps: list[set[int]]


def _runs(img: Image, runs: list[list[tuple[int, int]]]) -> list[_Run]:
    out = []
    for run in runs:
        uses = [[img.uses[i] for i in range(a, b)] for a, b in run]
        deps = [
            {j for j in range(i) if any(_depends(x, y) for x in uses[j] for y in uses[i])}
            for i in range(len(run))
        ]
        out.append(_Run(run, deps))
    return out


def _chains(img: Image, run: _Run, beats: list[int], writes: dict[int, int], exact: bool) -> list[int]:
    """Per kernel of the run: the cycles from its acceptance to the end of the longest chain of
    dependent kernels it heads. ``exact``: its beats, then each consumer's ``need`` after its
    last beat (a sequencer instruction's one cycle), and the last kernel's write latency; else
    every kernel counts its beats and its whole pipeline latency (a coarser weight, which some
    runs schedule better: both are tried)."""
    n = len(run.groups)
    users = [[i for i in range(n) if j in run.deps[i]] for j in range(n)]
    chain = [0] * n
    for j in reversed(range(n)):
        a, b = run.groups[j]
        last = img.uses[b - 1]
        span = sum(beats[i] for i in range(a, b)) + (b - a - 1)
        tail = [
            (1 if last.op in SEQUENCER_OPS else need(last, img.uses[run.groups[i][0]], writes)) + chain[i]
            for i in users[j]
        ]
        end = 1 if last.op in SEQUENCER_OPS else writes[last.latency] + 1
        if not exact:
            span = sum(beats[i] + writes[img.uses[i].latency] + 1 for i in range(a, b))
            tail, end = [chain[i] for i in users[j]], 0
        chain[j] = span + max([end, *tail])
    return chain


def _list_scheduled(
    img: Image,
    run: _Run,
    beats: list[int],
    slack: int | None,
    exact: bool,
    needs: NeedMemo,
) -> list[int]:
    """The run's kernels list-scheduled: kernels keep every memory and register dependence (on
    the actual addresses, so the memory plan's reuse is respected). Among the kernels whose
    producers are placed, the one heading the longest chain of dependent latencies goes first
    unless another starts more than ``slack`` cycles earlier (by ``_Timing``), so independent
    work fills the pipeline's waits (a SigmoidTanh's divider, a Select's register, a dot
    product's adder tree). ``needs``: the segment's memo of ``need``, of the run's timing."""
    chain = _chains(img, run, beats, needs.writes, exact)
    n, deps = len(run.groups), run.deps
    placed: list[int] = []
    left = set(range(n))
    clock = _Timing(needs)
    while left:
        ready = [i for i in sorted(left) if not deps[i] & left]
        if slack is None:
            pick = max(ready, key=lambda i: (chain[i], -i))
        else:
            starts = {i: clock.start(img.uses[run.groups[i][0]]) for i in ready}
            soon = [i for i in ready if starts[i] <= min(starts.values()) + slack]
            pick = max(soon, key=lambda i: (chain[i], -starts[i], -i))
        for i in range(*run.groups[pick]):
            clock.place(img.uses[i], beats[i])
        placed.append(pick)
        left.remove(pick)
    return placed


def _moves(seq: list[int], deps: list[set[int]]):
    """Every order one kernel's move away from ``seq`` that keeps the dependences."""
    n = len(seq)
    for i in range(n):
        g = seq[i]
        for j in range(i - 1, -1, -1):  # earlier: past kernels it does not depend on
            if seq[j] in deps[g]:
                break
            yield seq[:j] + [g] + seq[j:i] + seq[i + 1 :]
        for j in range(i + 1, n):  # later: past kernels that do not depend on it
            if g in deps[seq[j]]:
                break
            yield seq[:i] + seq[i + 1 : j + 1] + [g] + seq[j + 1 :]


def schedule_segment(
    img: Image, lo: int, hi: int, beats: list[int], div_latency: int, search: bool = True
) -> int:
    """Schedule instructions ``lo..hi`` (one segment, ending in its DONE) in place; its cycles.

    The segment is scheduled on its own (loop targets rebased), since it always starts from an
    idle pipeline. Each straight-line run is list-scheduled by every policy of ``SLACKS`` and
    the shortest schedule kept, program order included; then single kernel moves that the exact
    model finds shorter are taken (at most ``SEARCH_BUDGET`` trials; none without ``search``)."""

    def rebased(insns: list[dict]) -> list[dict]:
        return [dict(i, target=i["target"] - lo) if "target" in i else i for i in insns]

    insns, uses, seg_beats = img.insns[lo:hi], img.uses[lo:hi], beats[lo:hi]
    runs = _runs(
        Image(img.program, img.lanes, insns=insns, uses=uses),
        [[(a - lo, b - lo) for a, b in run] for run in img.runs if len(run) > 1 and lo <= run[0][0] < hi],
    )
    sub = Image(img.program, img.lanes, insns=insns, uses=uses)

    def order_of(seqs: list[list[int]]) -> list[int]:
        # LOOPNEXT targets are the first instruction of a run, which the reordering keeps first
        # in position (not in content): the targets stay valid.
        order = list(range(hi - lo))
        for run, seq in zip(runs, seqs, strict=True):
            order[run.groups[0][0] : run.groups[-1][1]] = [i for g in seq for i in range(*run.groups[g])]
        return order

    cache: dict[tuple[int, ...], tuple] = {}
    # every trial, list-scheduled or timed, permutes the same uses under one timing
    needs = NeedMemo(write_at(div_latency, late_forwarding(img.lanes), local_select(img.lanes)))

    def timed(seqs: list[list[int]]) -> tuple:
        order = tuple(order_of(seqs))
        if order not in cache:
            cache[order] = schedule(
                rebased([insns[i] for i in order]),
                [uses[i] for i in order],
                [seg_beats[i] for i in order],
                div_latency,
                late=late_forwarding(img.lanes),
                needs=needs,
                local=local_select(img.lanes),
            )
        return cache[order]

    best_seqs = [list(range(len(run.groups))) for run in runs]
    for slack, exact in itertools.product(SLACKS, (False, True)):
        seqs = [_list_scheduled(sub, run, seg_beats, slack, exact, needs) for run in runs]
        if timed(seqs)[2] < timed(best_seqs)[2]:
            best_seqs = seqs
    improved = search
    while improved and len(cache) < SEARCH_BUDGET:
        improved = False
        for r, run in enumerate(runs):
            for seq in _moves(best_seqs[r], run.deps):
                trial = [*best_seqs[:r], seq, *best_seqs[r + 1 :]]
                if timed(trial)[2] < timed(best_seqs)[2]:
                    best_seqs, improved = trial, True
                    break
                if len(cache) >= SEARCH_BUDGET:
                    break
    best_order = order_of(best_seqs)
    drains, waits, cycles = timed(best_seqs)
    img.insns[lo:hi] = [insns[i] for i in best_order]
    img.uses[lo:hi] = [uses[i] for i in best_order]
    img.kernel_of[lo:hi] = [img.kernel_of[lo + i] for i in best_order]
    for insn, d, w in zip(img.insns[lo:hi], drains, waits, strict=True):
        insn["drain"], insn["wait"] = int(d), w
    return cycles
