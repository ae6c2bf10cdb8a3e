"""Loop unrolling for the accelerator's microcode: a loop body emitted ``U`` times per trip, so
that the list scheduler (``reorder.py``) can interleave independent iterations and fill the
pipeline's waits that one iteration's chain of dependent kernels leaves (ProtoNN's distance →
exp → score chain, one short kernel after another).

Copy ``u`` of trip ``j`` runs iteration ``start + U·j + u``: a view indexed by the loop's register
reads at ``base + (start + u)·stride + R·U·stride`` with R counting trips from 0 (or at the static
offset when the loop is unrolled fully, and then no loop instruction is left). Each copy after the
first writes its private temporaries (written whole in the body before any read, used nowhere
else) into words of its own, so that copies do not chain on them; what a trip carries to the next
(an accumulator) keeps its words, and the dependence keeps the copies in order there.

A loop is unrolled only where that preserves the program exactly: its register is read by views
alone (not by register arithmetic, a Select or after the loop), nothing in the body writes it and
the body has no inner loop. The factor divides the trip count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.rtl.image import Loc

# Microcode words an unrolled program may take: the microcode is logic (one LUT multiplexer per
# varying bit and read port), so the unroller trades words for cycles only up to here.
UCODE_BUDGET = 64
UNROLL_GAIN = 0.01  # the fraction of the cycles a larger unrolling must save to be chosen
UNROLL_RAM_WEIGHT = 0.1  # ... and this times the fraction of scratch RAM words it adds


@dataclass(frozen=True)
class View:
    """How copy ``first - start`` of an unrolled body addresses its views and temporaries."""

    index: str  # the loop's register
    first: int  # the iteration this copy runs when the register (counting trips) is 0
    step: int | None  # iterations per trip (U); None: unrolled fully, no register at all
    rename: dict[str, Loc] = field(default_factory=dict)  # private temporary → its copy's words


def _registers_read(k: kp.Kernel) -> set[str]:
    regs = set(k.registers_read())
    if isinstance(k, kp.Window):
        regs |= {s for s in k.starts if isinstance(s, str)}
    return regs


def _buffers(k: kp.Kernel) -> tuple[set[str], str | None]:
    """Buffers ``k`` reads, and the buffer it writes (None: a register or nothing)."""
    reads = {r.buffer for r in k.reads()}
    out = getattr(k, "out", None)
    return reads, (out if isinstance(out, str) and not _is_register_kernel(k) else None)


def _is_register_kernel(k: kp.Kernel) -> bool:
    return isinstance(k, kp.IntOp | kp.Argmax | kp.Sgn) or (isinstance(k, kp.Select) and k.is_int)


def unrollable(program: KernelProgram, loop: kp.Loop) -> bool:
    """Can ``loop`` be unrolled without changing what the program computes?"""
    if any(isinstance(k, kp.Loop) for k in loop.body) or loop.stop - loop.start < 2:
        return False
    for k in loop.body:
        if isinstance(k, kp.IntOp | kp.Select) and loop.index in (k.a, k.b):
            return False  # the register's value itself, not only an address
        if _is_register_kernel(k) and k.out == loop.index:
            return False
    inside = {id(k) for k in loop.body}

    def outside_reads(kernels, shadowed: bool) -> bool:
        for k in kernels:
            if isinstance(k, kp.Loop):
                if k is not loop and outside_reads(k.body, shadowed or k.index == loop.index):
                    return True
            elif id(k) not in inside and not shadowed and loop.index in _registers_read(k):
                return True
        return False

    return not outside_reads(program.kernels, False)


def private_buffers(program: KernelProgram, loop: kp.Loop) -> list[str]:
    """Temporaries of ``loop``'s body that each iteration writes whole before reading them and
    that nothing outside the body touches: a copy may have its own words for them."""
    temps = {b.name for b in program.buffers if b.kind == "temp"} - {program.output}
    inside = {id(k) for k in loop.body}
    touched_outside = set()
    for k in program.walk():
        if id(k) not in inside and not isinstance(k, kp.Loop):
            reads, out = _buffers(k)
            touched_outside |= reads | {out}
    first: dict[str, bool] = {}  # buffer → its first touch in the body is a pure whole write
    for k in loop.body:
        reads, out = _buffers(k)
        for b in reads:
            first.setdefault(b, False)
        if out is not None:
            first.setdefault(out, True)
    return [b for b, ok in first.items() if ok and b in temps and b not in touched_outside]


def factors(n: int, cap: int) -> int:
    """The largest divisor of ``n`` not above ``cap``."""
    return max(d for d in range(1, min(n, cap) + 1) if n % d == 0)


def unroll_caps(program: KernelProgram) -> list[int]:
    """The unroll caps worth trying (1: none): every factor of an unrollable loop's trip count."""
    caps = {1}
    for k in program.walk():
        if isinstance(k, kp.Loop) and unrollable(program, k):
            n = k.stop - k.start
            caps |= {d for d in range(2, n + 1) if n % d == 0}
    return sorted(caps)
