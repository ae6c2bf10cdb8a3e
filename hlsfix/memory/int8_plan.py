"""The memory plan of a straight-line (int8 affine) program, with operator reordering and partial
execution as options, and every figure the report shows.

Passes, in order: the given order's bound and arena → the best order (``order.best_order``) →
partial execution on the chosen order (``pex.partial_execution``) → the arena of the final
program (``planner.plan_arena``). Each technique can be turned off; the figures of the ones that
ran stay in the result so the report can show what each one bought. The arena holds the input
and the output too (as TFLM's does), so the two are comparable.
"""

from __future__ import annotations

from dataclasses import dataclass

from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.memory.order import best_order, lifetimes, order_bound, reordered
from hlsfix.memory.pex import PexChain, partial_execution
from hlsfix.memory.planner import ArenaPlan, check_plan, plan_arena
from hlsfix.memory.planner import Buffer as PlanBuffer


@dataclass(frozen=True)
class Int8MemoryOptions:
    reorder: bool = True
    partial_execution: bool = True
    search_seconds: float = 0.5  # the arena planner's placement search (deterministic budget)


@dataclass(frozen=True)
class Int8Memory:
    program: KernelProgram  # the program as scheduled: what the backends run
    buffers: tuple[PlanBuffer, ...]
    plan: ArenaPlan
    options: Int8MemoryOptions
    given_order_bound: int
    given_order_arena: int
    best_order_bound: int
    best_order_exact: bool
    reordered_arena: int | None  # None when reordering is off
    pex_bound: int | None  # None when partial execution is off
    pex_arena: int | None
    pex_chains: tuple[PexChain, ...]

    @property
    def arena_bytes(self) -> int:
        return self.plan.arena_bytes

    def summary(self) -> dict[str, object]:
        chains = self.pex_chains
        return {
            "arena_bytes": self.arena_bytes,
            "lower_bound_bytes": self.given_order_bound,
            "best_order_bound_bytes": self.best_order_bound,
            "best_order_exact": self.best_order_exact,
            "given_order_arena_bytes": self.given_order_arena,
            "reordered_arena_bytes": self.reordered_arena,
            "pex_bound_bytes": self.pex_bound,
            "pex_arena_bytes": self.pex_arena,
            "pex_chains": [
                {"at": c.start, "kernels": c.kernels, "width": c.middle_channels, "slices": c.slices}
                for c in chains
            ],
            "linear_bytes": self.plan.linear_bytes,
            "reorder": self.options.reorder,
            "partial_execution": self.options.partial_execution,
        }


def _arena(program: KernelProgram, seconds: float) -> tuple[list[PlanBuffer], ArenaPlan]:
    bufs = lifetimes(program)
    plan = plan_arena(bufs, search_seconds=seconds)
    check_plan(bufs, plan)
    return bufs, plan


def plan_int8_memory(program: KernelProgram, options: Int8MemoryOptions | None = None) -> Int8Memory:
    opts = options or Int8MemoryOptions()
    given_bound = order_bound(program)
    bufs, plan = _arena(program, opts.search_seconds)
    given_arena = plan.arena_bytes
    best = best_order(program)
    reordered_arena = None
    if opts.reorder and best.peak_bytes < given_bound:
        program = reordered(program, best.order)
        bufs, plan = _arena(program, opts.search_seconds)
    if opts.reorder:
        reordered_arena = plan.arena_bytes
    pex_bound = pex_arena = None
    chains: list[PexChain] = []
    if opts.partial_execution:
        sliced, chains = partial_execution(program)
        if chains:
            program = sliced
            bufs, plan = _arena(program, opts.search_seconds)
        pex_bound, pex_arena = order_bound(program), plan.arena_bytes
    return Int8Memory(
        program=program,
        buffers=tuple(bufs),
        plan=plan,
        options=opts,
        given_order_bound=given_bound,
        given_order_arena=given_arena,
        best_order_bound=min(best.peak_bytes, given_bound),
        best_order_exact=best.exact,
        reordered_arena=reordered_arena,
        pex_bound=pex_bound,
        pex_arena=pex_arena,
        pex_chains=tuple(chains),
    )
