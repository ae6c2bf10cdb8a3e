"""Liveness of a KernelProgram's temp buffers, and the static arena plan built from it.

Time: kernels are numbered in walk order (a Loop gets a step, then its body). A kernel at step s
reads at time 2s and writes at 2s+1, so a buffer whose last read is at step s and a buffer first
written at step s do not conflict: that is what lets an element-wise kernel work in place.
Only kernels that read element i strictly before writing element i (``ELEMENTWISE``), through a
plain contiguous view of the same element width, get that early read; every other read (matmul,
conv, permute, window, spmv, ...) happens at 2s+1, so such an input never shares bytes with the
output. Because the planner may overlap the two buffers at *any* offsets, and in-place is only
safe when the output starts at or below the input (element i then only covers input elements
≤ i, already read), ``plan_memory`` checks that condition on the plan and re-plans with the early
read withdrawn for every pair that broke it.

Loops: a buffer used in a loop body that was used before the loop, is read before it is written
in the body (carried across iterations) or is used after the loop lives for the whole loop.

The input buffer is NOT in the arena: the caller owns it (``hlsfix_predict(const int16_t *x)``
reads it in place, no copy). Kernel scratch (the int32/int64 accumulators of SparseMatVec) is.
The output buffer of a non-class program lives to the end of the program.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.memory.planner import ArenaPlan, check_plan, plan_arena
from hlsfix.memory.planner import Buffer as PlanBuffer

ELEMENTWISE: tuple[type[kp.Kernel], ...] = (
    kp.AddSub,
    kp.Mul,
    kp.Rescale,
    kp.Clamp,
    kp.HardSigmoidTanh,
    kp.Exp,
    kp.SigmoidTanh,
)


@dataclass(frozen=True)
class Lifetime:
    """A buffer of ``size`` bytes live on times start..end inclusive (reads 2s, writes 2s+1)."""

    name: str
    size: int
    start: int
    end: int
    align: int
    scratch: bool = False  # a kernel's private accumulator, not a program buffer


@dataclass(frozen=True)
class InPlacePair:
    """At ``step``, ``out`` may share bytes with ``source`` (read element-wise, then dead)."""

    step: int
    source: str
    out: str


@dataclass(frozen=True)
class Liveness:
    lifetimes: tuple[Lifetime, ...]
    in_place: tuple[InPlacePair, ...]
    steps: int
    loops: tuple[tuple[int, int], ...]  # (first, last) time of each loop


def scratch_name(step: int) -> str:
    return f"__acc{step}"


def _numbered(kernels: tuple[kp.Kernel, ...], start: int) -> Iterator[tuple[int, kp.Kernel, int]]:
    """(step, kernel, last step of its body or itself) in walk order."""
    step = start
    for k in kernels:
        if isinstance(k, kp.Loop):
            body = list(_numbered(k.body, step + 1))
            last = max((b[2] for b in body), default=step)
            yield step, k, last
            yield from body
            step = last + 1
        else:
            yield step, k, step
            step += 1


def _written(k: kp.Kernel) -> str | None:
    if isinstance(k, kp.Argmax | kp.Sgn | kp.IntOp | kp.Loop):
        return None
    if isinstance(k, kp.Select) and k.is_int:
        return None
    return getattr(k, "out", None)


def _buffer_reads(k: kp.Kernel) -> tuple[str, ...]:
    names = [r.buffer for r in k.reads()]
    if isinstance(k, kp.Select) and not k.is_int:
        names += [str(k.a), str(k.b)]
    return tuple(names)


def _early_readable(program: KernelProgram, k: kp.Kernel, ref: kp.Ref) -> bool:
    """May this operand share bytes with the kernel's output (see the module doc)?"""
    if not isinstance(k, ELEMENTWISE) or ref.index is not None or ref.offset != 0:
        return False
    out = program.buffer(k.out)  # type: ignore[attr-defined]
    src = program.buffer(ref.buffer)
    mode = getattr(k, "b_mode", "full")
    if ref is getattr(k, "b", None) and mode != "full":
        return False
    return ref.length == out.size == src.size and src.fmt.bits == out.fmt.bits


def analyse(program: KernelProgram, *, no_share: frozenset[tuple[int, str]] = frozenset()) -> Liveness:
    """Lifetimes of every temp buffer (and kernel scratch). ``no_share`` lists (step, buffer)
    operands whose early read is withdrawn."""
    temps = {b.name: b for b in program.buffers if b.kind == "temp"}
    events: dict[str, list[int]] = {n: [] for n in temps}
    pairs: list[InPlacePair] = []
    scratch: list[Lifetime] = []
    loops: list[tuple[int, int]] = []
    last_time = 0
    for step, k, last in _numbered(program.kernels, 0):
        last_time = 2 * last + 1
        if isinstance(k, kp.Loop):
            loops.append((2 * step, 2 * last + 1))
            continue
        out = _written(k)
        for ref in k.reads():
            if ref.buffer not in temps:
                continue
            early = _early_readable(program, k, ref) and (step, ref.buffer) not in no_share
            events[ref.buffer].append(2 * step if early else 2 * step + 1)
            if early and out is not None and ref.buffer != out:
                pairs.append(InPlacePair(step, ref.buffer, out))
        if isinstance(k, kp.Select) and not k.is_int:
            for name in (str(k.a), str(k.b)):
                if name in temps:
                    events[name].append(2 * step + 1)
        if out is not None and out in temps:
            events[out].append(2 * step + 1)
        if isinstance(k, kp.SparseMatVec):
            nbytes = k.rows * k.wide // 8
            scratch.append(Lifetime(scratch_name(step), nbytes, 2 * step, 2 * step + 1, 4, True))

    spans: dict[str, tuple[int, int]] = {}
    for name, times in events.items():
        if not times:
            continue
        lo, hi = min(times), max(times)
        for first, last in loops:
            inside = [t for t in times if first <= t <= last]
            if not inside:
                continue
            before = any(t < first for t in times)
            after = any(t > last for t in times)
            carried = _read_before_write(program, name, first, last, inside)
            if before or after or carried:
                lo, hi = min(lo, first), max(hi, last)
        spans[name] = (lo, hi)
    if not program.output_is_class and program.output in spans:
        spans[program.output] = (spans[program.output][0], last_time)

    lifetimes = [
        Lifetime(n, temps[n].nbytes, lo, hi, temps[n].fmt.bits // 8) for n, (lo, hi) in spans.items()
    ]
    # Ignore pairs whose source lives on past the kernel: they cannot overlap anyway.
    live_pairs = tuple(p for p in pairs if p.source in spans and spans[p.source][1] == 2 * p.step)
    return Liveness(tuple(lifetimes + scratch), live_pairs, last_time + 1, tuple(loops))


def _read_before_write(program: KernelProgram, name: str, first: int, last: int, inside: list[int]) -> bool:
    """Is the first touch of ``name`` in the loop body (times first..last) a read?

    Reads are at even times (or odd when late); a write always sits at the odd time of its
    kernel, so we look at the kernels directly rather than guess from parity."""
    for step, k, _ in _numbered(program.kernels, 0):
        if not first <= 2 * step <= last or isinstance(k, kp.Loop):
            continue
        if name in _buffer_reads(k):
            return True
        if _written(k) == name:
            return False
    return False


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryPlan:
    """Byte offset of every temp buffer (and kernel scratch) in one static arena."""

    offsets: tuple[tuple[str, int], ...]
    arena_bytes: int
    lower_bound_bytes: int
    linear_bytes: int
    method: str
    lifetimes: tuple[Lifetime, ...]
    in_place: tuple[InPlacePair, ...]  # pairs that do share bytes in this plan

    def offset(self, name: str) -> int:
        for n, o in self.offsets:
            if n == name:
                return o
        raise KeyError(f"no buffer named {name!r} in this memory plan")

    def plan_buffers(self) -> tuple[PlanBuffer, ...]:
        return tuple(_plan_buffer(lt) for lt in self.lifetimes)

    def arena_plan(self) -> ArenaPlan:
        return ArenaPlan(
            self.offsets, self.arena_bytes, self.lower_bound_bytes, self.linear_bytes, self.method
        )


def _plan_buffer(lt: Lifetime) -> PlanBuffer:
    return PlanBuffer(lt.name, lt.size, lt.start, lt.end, lt.align)


def _unsafe_pairs(live: Liveness, offsets: dict[str, int]) -> list[InPlacePair]:
    """Overlapping in-place pairs whose output starts above the source (would clobber unread input)."""
    size = {lt.name: lt.size for lt in live.lifetimes}
    bad = []
    for p in live.in_place:
        o_src, o_out = offsets[p.source], offsets[p.out]
        overlap = o_src < o_out + size[p.out] and o_out < o_src + size[p.source]
        if overlap and o_out > o_src:
            bad.append(p)
    return bad


def plan_memory(program: KernelProgram, *, search_seconds: float = 0.5) -> MemoryPlan:
    no_share: frozenset[tuple[int, str]] = frozenset()
    while True:
        live = analyse(program, no_share=no_share)
        buffers = [_plan_buffer(lt) for lt in live.lifetimes]
        if not buffers:
            return MemoryPlan((), 0, 0, 0, "empty", (), ())
        plan = plan_arena(buffers, search_seconds=search_seconds)
        check_plan(buffers, plan)
        offsets = dict(plan.offsets)
        bad = _unsafe_pairs(live, offsets)
        if not bad:
            break
        no_share = no_share | {(p.step, p.source) for p in bad}
    size = {lt.name: lt.size for lt in live.lifetimes}
    shared = tuple(
        p
        for p in live.in_place
        if offsets[p.source] < offsets[p.out] + size[p.out]
        and offsets[p.out] < offsets[p.source] + size[p.source]
    )
    return MemoryPlan(
        plan.offsets,
        plan.arena_bytes,
        plan.lower_bound_bytes,
        plan.linear_bytes,
        plan.method,
        live.lifetimes,
        shared,
    )
