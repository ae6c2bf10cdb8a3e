"""Register arithmetic on a Select of two immediates, folded into a Select: Bonsai's child index
``2·r + 1`` where ``r`` = (x ≥ θ ? 1 : 2) is (x ≥ θ ? 3 : 5), one beat of the accelerator that needs
neither the sequencer (an IntOp holds it a cycle, the next kernel one more) nor ``r``'s result
(a register result is visible 7 cycles after its beat).

``(x ≥ θ ? a : b) op c`` = ``x ≥ θ ? (a op c) : (b op c)`` holds while ``x``'s word and the
Select's result are unchanged, so a fold lives from the Select to the next write of ``x``'s words
or of the register, within one straight-line list of kernels: the next write of ``x``'s buffer or
of any buffer the scratch RAM's layout puts on ``x``'s words (``shares``; the memory plan reuses
``x``'s words once the Select, its last reader in the program, has run). A folded IntOp whose register only
folded IntOps read is not emitted at all. The values are the golden model's (Python integers)
and must fit the microcode's 32-bit operand fields, where the hardware's 32-bit registers hold
them exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram, Ref

_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "=": lambda a, b: a}


@dataclass(frozen=True)
class Folded:
    x: Ref
    threshold: int
    a: int  # the register's value where x[0] >= threshold
    b: int  # and where not


@dataclass(frozen=True)
class Folds:
    selects: dict[int, Folded]  # id(IntOp) → the Select it becomes
    dead: frozenset[int]  # ids of folded IntOps whose register nothing but folded IntOps reads
    # id(kernel) → the registers known as Selects of immediates just before it (``speculate.py``)
    known: dict[int, dict[str, Folded]] = field(default_factory=dict)


NO_FOLDS = Folds({}, frozenset())


def _same_name(a: str, b: str) -> bool:
    return a == b


def _fits(v: int) -> bool:
    return -(1 << 31) <= v < (1 << 31)


def written_names(k: kp.Kernel) -> set[str]:
    """What ``k`` writes: its output buffer, and a loop's index and everything its body writes."""
    out = getattr(k, "out", None)
    names = {out} if isinstance(out, str) else set()
    if isinstance(k, kp.Loop):
        names.add(k.index)
        for inner in kp.walk_kernels(k.body):
            names |= written_names(inner)
    return names


def _reads(k: kp.Kernel) -> set[str]:
    names = set(k.registers_read())
    if isinstance(k, kp.Window):
        names |= {s for s in k.starts if isinstance(s, str)}
    return names


def plan_folds(program: KernelProgram, shares: Callable[[str, str], bool] = _same_name) -> Folds:
    """``shares(a, b)``: may writing buffer (or register) ``a`` change a word of buffer ``b``?"""
    selects: dict[int, Folded] = {}
    known_at: dict[int, dict[str, Folded]] = {}

    def visit(kernels: tuple[kp.Kernel, ...]) -> None:
        known: dict[str, Folded] = {}  # register → its value as a Select of immediates
        for k in kernels:
            known_at[id(k)] = dict(known)
            if isinstance(k, kp.Loop):
                visit(k.body)
                known = {}
                continue
            folded = None
            if isinstance(k, kp.Select) and k.is_int and isinstance(k.a, int) and isinstance(k.b, int):
                folded = Folded(k.x, k.threshold, k.a, k.b)
            elif isinstance(k, kp.IntOp):
                regs = [v for v in (k.a, k.b) if isinstance(v, str)]
                if len(regs) == 1 and regs[0] in known:
                    f = known[regs[0]]

                    def value(v: int, k=k, reg=regs[0]) -> int:
                        a, b = (v if x == reg else x for x in (k.a, k.b))
                        return _OPS[k.op](a, b)

                    va, vb = value(f.a), value(f.b)
                    if _fits(va) and _fits(vb):
                        folded = Folded(f.x, f.threshold, va, vb)
                        selects[id(k)] = folded
            for name in written_names(k):  # a new value of a register or of a Select's word
                known.pop(name, None)
                known = {r: f for r, f in known.items() if name != f.x.index and not shares(name, f.x.buffer)}
            if folded is not None:
                known[k.out] = folded

    visit(program.kernels)
    folded_outs = {}
    for k in program.walk():
        if id(k) in selects:
            folded_outs.setdefault(k.out, []).append(k)
    readers: dict[str, list[kp.Kernel]] = {}
    for k in program.walk():
        for r in _reads(k):
            readers.setdefault(r, []).append(k)
    dead = set()
    for reg, writers in folded_outs.items():
        if reg == program.output or len(writers) != 1:
            continue
        if all(id(r) in selects for r in readers.get(reg, [])):
            dead.add(id(writers[0]))
    return Folds(selects, frozenset(dead), known_at)
