"""A small LUT/DSP cost model that chooses the unroll factor (lane count) of every MAC loop.

What it models (the SeeDot FPGA backend's approach: spend the board's multipliers where the
cycles are, keep a margin):

- The budget is 0.9 x the part's LUTs and DSP48E1 slices (routing and the tool's own logic need
  the rest; SeeDot used the same 0.9).
- A *lane* of a MAC loop (``matmul_dot``: one product of the dot product; ``conv_in_channels``: one
  output channel of a pixel) costs one multiplier and one adder of the wide type:
  DSP48E1 slices = ceil(a_bits / 25) x ceil(b_bits / 18) (its multiplier is 25 x 18 bits, so a
  16 x 16 product is 1 DSP and a 32 x 16 product 2), and ``wide`` LUTs for the adder (an adder
  costs about one LUT per bit). The shift by a constant is wiring.
- Every kernel instance has a fixed cost: its loop counters and state machine (``CONTROL_LUTS``),
  the saturating store (two comparisons: 2 x ``wide`` LUTs), and for the element-wise kernels that
  multiply (Mul, Exp's table product, SigmoidTanh) one multiplier; SigmoidTanh's pipelined divider
  costs about ``wide``^2 LUTs. Kernels inside a program loop exist once in hardware.
- Not modelled: flip-flops, block RAM, and the multiplexers of partitioned arrays; the estimate
  is for choosing factors, not a substitute for the synthesis report.

The choice is greedy: start every MAC loop at 1 lane; repeatedly take the step (a loop's lane
count to its next divisor of the trip count, so no remainder loop is needed) that saves the
most cycles and still fits the budget; stop when no step fits. Cycles of a MAC loop are its
outer iterations x trip / lanes, times the iterations of any program loop around it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram

BUDGET_FRACTION = 0.9
CONTROL_LUTS = 40
MAX_LANES = 64  # beyond this, array partitioning (one BRAM port pair per bank) stops paying

# Capacity per FPGA part: (LUTs, DSP48E1 slices). Arty A7-35T and A7-100T.
PART_CAPACITY: dict[str, tuple[int, int]] = {
    "xc7a35ticsg324-1L": (20_800, 90),
    "xc7a100tcsg324-1": (63_400, 240),
}


class UnknownPart(HlsfixError):
    pass


def capacity(part: str) -> tuple[int, int]:
    if part not in PART_CAPACITY:
        raise UnknownPart(f"board part must be one of {', '.join(PART_CAPACITY)}, not {part!r}")
    return PART_CAPACITY[part]


def dsp_per_multiply(a_bits: int, b_bits: int) -> int:
    """DSP48E1 slices for one a_bits x b_bits signed product (25 x 18 multiplier per slice)."""
    big, small = max(a_bits, b_bits), min(a_bits, b_bits)
    return math.ceil(big / 25) * math.ceil(small / 18)


@dataclass(frozen=True)
class MacLoop:
    """A MAC loop whose lane count the model chooses."""

    key: str  # unique, readable: "<kernel>_<out>@<step>"
    step: int  # the kernel's index in walk order
    loop: str  # the loop's label in hlsfix_hls_kernels.h
    trip: int  # iterations the lanes share (dot length, or output channels of a group)
    calls: int  # times the loop runs per inference: outer iterations x enclosing program loops
    lane_dsp: int
    lane_lut: int

    def cycles(self, lanes: int) -> int:
        return self.calls * (self.trip // lanes)


@dataclass(frozen=True)
class UnrollPlan:
    factors: dict[int, int]  # step -> lanes
    loops: tuple[MacLoop, ...]
    lut: int
    dsp: int
    lut_budget: int
    dsp_budget: int
    cycles: int  # MAC cycles, dense and sparse (the bulk of the latency), with the chosen factors

    def report(self) -> dict[str, dict[str, int | str]]:
        return {
            m.key: {
                "loop": m.loop,
                "trip": m.trip,
                "factor": self.factors[m.step],
                "dsp": m.lane_dsp * self.factors[m.step],
                "lut": m.lane_lut * self.factors[m.step],
            }
            for m in self.loops
        }


def _bits(p: KernelProgram, name: str) -> int:
    return p.buffer(name).fmt.bits


def _numbered(kernels: tuple[kp.Kernel, ...], repeat: int, step: list[int]):
    """(step, kernel, times it runs per inference) in walk order."""
    for k in kernels:
        s = step[0]
        step[0] += 1
        yield s, k, repeat
        if isinstance(k, kp.Loop):
            yield from _numbered(k.body, repeat * max(k.stop - k.start, 0), step)


def _fixed_cost(p: KernelProgram, k: kp.Kernel) -> tuple[int, int]:
    """(LUTs, DSPs) of a kernel besides its lanes."""
    if isinstance(k, kp.Loop | kp.IntOp | kp.Sgn | kp.Select):
        return 16, 0
    wide = getattr(k, "wide", 32)
    lut, dsp = CONTROL_LUTS + 2 * wide, 0
    if isinstance(k, kp.SparseMatVec):
        dsp = dsp_per_multiply(_bits(p, k.values), _bits(p, k.x.buffer))
        lut += wide
    elif isinstance(k, kp.Mul):
        dsp = dsp_per_multiply(_bits(p, k.a.buffer), _bits(p, k.b.buffer))
    elif isinstance(k, kp.Exp | kp.SigmoidTanh):
        dsp = dsp_per_multiply(_bits(p, k.hi), _bits(p, k.lo))
        if isinstance(k, kp.SigmoidTanh):
            lut += wide * wide
    elif isinstance(k, kp.AddSub):
        lut += wide
    return lut, dsp


def mac_loops(p: KernelProgram) -> tuple[list[MacLoop], int, int, int]:
    """The MAC loops of ``p``, the fixed (LUT, DSP) cost of everything else, and the MAC cycles
    of the sparse products (one non-zero per clock: their trip count depends on the data)."""
    loops: list[MacLoop] = []
    fixed_lut = fixed_dsp = sparse_cycles = 0
    for step, k, repeat in _numbered(p.kernels, 1, [0]):
        lut, dsp = _fixed_cost(p, k)
        fixed_lut += lut
        fixed_dsp += dsp
        if isinstance(k, kp.SparseMatVec):
            sparse_cycles += repeat * k.nnz
        elif isinstance(k, kp.MatMul):
            lane_dsp = dsp_per_multiply(_bits(p, k.a.buffer), _bits(p, k.b.buffer))
            key = f"matmul_{k.out}@{step}"
            loops.append(MacLoop(key, step, "matmul_dot", k.k, repeat * k.m * k.n, lane_dsp, k.wide))
        elif isinstance(k, kp.Conv2d):
            g, hf, wf, cin_g, cout = k.filter_shape
            n, ho, wo, _ = k.out_shape
            lane_dsp = dsp_per_multiply(_bits(p, k.x.buffer), _bits(p, k.filters.buffer))
            calls = repeat * n * ho * wo * g * hf * wf * cin_g
            loops.append(MacLoop(f"conv2d_{k.out}@{step}", step, "conv_lanes", cout, calls, lane_dsp, k.wide))
    return loops, fixed_lut, fixed_dsp, sparse_cycles


def _next_divisor(n: int, d: int) -> int | None:
    for cand in range(d + 1, min(n, MAX_LANES) + 1):
        if n % cand == 0:
            return cand
    return None


def choose_unroll(p: KernelProgram, part: str) -> UnrollPlan:
    """Lane counts for every MAC loop of ``p`` on ``part`` (see the module doc)."""
    luts, dsps = capacity(part)
    lut_budget, dsp_budget = int(BUDGET_FRACTION * luts), int(BUDGET_FRACTION * dsps)
    loops, lut, dsp, sparse_cycles = mac_loops(p)
    factors = {m.step: 1 for m in loops}
    lut += sum(m.lane_lut for m in loops)
    dsp += sum(m.lane_dsp for m in loops)
    blocked: set[int] = set()
    while True:
        best: tuple[int, MacLoop, int] | None = None
        for m in loops:
            nxt = _next_divisor(m.trip, factors[m.step])
            if m.step in blocked or nxt is None:
                continue
            saved = m.cycles(factors[m.step]) - m.cycles(nxt)
            if best is None or saved > best[0]:
                best = (saved, m, nxt)
        if best is None:
            break
        _, m, nxt = best
        extra = nxt - factors[m.step]
        if lut + extra * m.lane_lut > lut_budget or dsp + extra * m.lane_dsp > dsp_budget:
            blocked.add(m.step)  # the next step of this loop does not fit; others may
            continue
        factors[m.step] = nxt
        lut += extra * m.lane_lut
        dsp += extra * m.lane_dsp
    cycles = sparse_cycles + sum(m.cycles(factors[m.step]) for m in loops)
    return UnrollPlan(factors, tuple(loops), lut, dsp, lut_budget, dsp_budget, cycles)
