"""Speculating a register-indexed chain into a table as vectors: Bonsai's ``tanh(σ·(V[k]·x))``
for every value the node index ``k`` can take, computed before ``k`` is known, and the one ``k``
picks read at ``k`` by the kernel that uses it (``W[k]·x ⊙ tanh(…)``).

``k`` is written once, by a Select whose operands are immediates or registers that are Selects of
immediates (``regfold.py``): it takes one of a few values, here consecutive (``k1`` ∈ {1, 2},
``k2`` ∈ {3, …, 6}). The chain's *roots* are single-row products whose matrix row is indexed by
``k`` (``V[k]·x``: the rows for those values are adjacent, so they become one matrix-vector
product of that many rows); the chain grows by element-wise kernels on one-element results (a
1×1 product with a constant such as σ, SigmoidTanh, Exp, Mul, AddSub), each run on the vector,
and is kept only as far as it leads into a table kernel (SigmoidTanh, Exp): the divider's and the
tables' latency is what the speculation hides; a vector beyond the table costs its beats on the
lanes' one write stage and saves little (``W[k]·x`` stays an indexed product). The kernels that
read a result of the chain from outside it read element ``k − first`` instead, a
register-indexed view. Each vector kernel has the very shifts of the kernel it replaces, so every
element is the value that kernel computes for that ``k``: the program's output does not change in
any bit. What it buys: the chain no longer starts after ``k``'s register (6 cycles after its
Select's beat, ``schedule.py``) and runs beside the rest; only the reading kernel waits for ``k``.

A chain is taken only whole: every buffer in it written once and read only inside it or by
one-element reads of kernels that read no register (besides the index the rewrite adds), all in
the program's top-level list.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import Buffer, KernelProgram, Ref
from hlsfix.rtl.regfold import Folds, written_names


@dataclass(frozen=True)
class Cones:
    kernels: dict[int, kp.Kernel] = field(default_factory=dict)  # id(original) → its replacement
    buffers: tuple[Buffer, ...] = ()  # the vectors
    registers: tuple[str, ...] = ()  # the index of each chain


NO_CONES = Cones()


def _values(program: KernelProgram, folds: Folds, reg: str) -> range | None:
    """The consecutive values ``reg`` can take, if it is written once by such a Select."""
    writers = [k for k in program.walk() if getattr(k, "out", None) == reg]
    if len(writers) != 1 or writers[0] not in program.kernels:
        return None
    s = writers[0]
    if not (isinstance(s, kp.Select) and s.is_int):
        return None
    values: set[int] = set()
    for v in (s.a, s.b):
        if isinstance(v, int):
            values.add(v)
            continue
        f = folds.known.get(id(s), {}).get(v)
        if f is None:
            return None
        values |= {f.a, f.b}
    lo, hi = min(values), max(values)
    return range(lo, hi + 1) if len(values) == hi - lo + 1 else None


def _one(r: Ref) -> bool:
    return r.length == 1 and r.offset == 0 and r.index is None


def _vector(k: kp.Kernel, inside: dict[str, str], n: int, reg: str, values: range, sizes) -> kp.Kernel | None:
    """``k`` run on the chain's vectors (``inside``: buffer → its vector), or None."""

    def vec(r: Ref) -> Ref:
        return Ref(inside[r.buffer], n)

    out = f"{k.out}.all"
    if isinstance(k, kp.MatMul) and (k.m, k.n) == (1, 1):
        a, b = k.a, k.b
        if a.index == reg and a.stride == a.length == k.k and b.index is None and b.buffer not in inside:
            first = a.offset + values.start * a.stride
            if first < 0 or first + n * a.stride > sizes(a.buffer):
                return None
            return replace(k, a=Ref(a.buffer, n * k.k, first), m=n, out=out)
        if k.k == 1 and a.index is None and b.index is None:
            # an n×1 column times the 1×1 constant (a·b = b·a: the same integer product), so
            # the n products are rows dealt to the lanes, not one lane's n outputs
            if a.buffer not in inside and b.buffer in inside and _one(b):
                return replace(k, a=vec(b), b=a, m=n, out=out)
            if a.buffer in inside and _one(a) and b.buffer not in inside:
                return replace(k, a=vec(a), m=n, out=out)
        return None
    if isinstance(k, kp.SigmoidTanh | kp.Exp) and k.n == 1 and k.x.buffer in inside and _one(k.x):
        return replace(k, x=vec(k.x), n=n, out=out)
    if not (isinstance(k, kp.Mul | kp.AddSub) and k.n == 1 and k.b_mode == "full"):
        return None
    if all(r.buffer in inside and _one(r) for r in (k.a, k.b)):
        return replace(k, a=vec(k.a), b=vec(k.b), n=n, out=out)
    return None


def plan_cones(program: KernelProgram, folds: Folds, skip: frozenset[int] = frozenset()) -> Cones:
    """Every chain worth vectorizing; ``skip``: kernels speculated otherwise (``speculate.py``),
    neither in a chain nor rewritten to read one."""
    top = list(program.kernels)
    bufs = {b.name: b for b in program.buffers}
    writers: dict[str, int] = {}
    for k in program.walk():
        for name in written_names(k):
            writers[name] = writers.get(name, 0) + 1
    kernels: dict[int, kp.Kernel] = {}
    buffers: list[Buffer] = []
    regs: list[str] = []
    indexed = {r.index for k in top for r in k.reads() if r.index is not None}
    for reg in sorted(indexed):
        values = _values(program, folds, reg)
        if values is None or len(values) < 2 or writers.get(reg) != 1:
            continue
        n = len(values)
        inside: dict[str, str] = {}  # original buffer → its vector
        chain: dict[int, kp.Kernel] = {}
        feeds: dict[int, set[str]] = {}  # cone kernel → the cone buffers it reads
        for k in top:
            if id(k) in skip or isinstance(k, kp.Loop):
                continue
            v = _vector(k, inside, n, reg, values, lambda b: bufs[b].size)
            if v is not None and writers.get(k.out) == 1:
                chain[id(k)] = v
                feeds[id(k)] = {r.buffer for r in k.reads()} & set(inside)
                inside[k.out] = v.out
        # only the chains into a table kernel: the long latencies worth their beats (vectors
        # beyond it, W[k]·x ⊙ …, cost more beats than they save: one lane write stage each)
        if chain:
            keep = {id(k) for k in top if id(k) in chain and isinstance(k, kp.SigmoidTanh | kp.Exp)}
            by_out = {k.out: id(k) for k in top if id(k) in chain}
            todo = list(keep)
            while todo:
                for b in feeds[todo.pop()]:
                    if by_out[b] not in keep:
                        keep.add(by_out[b])
                        todo.append(by_out[b])
            chain = {i: v for i, v in chain.items() if i in keep}
            inside = {k.out: chain[id(k)].out for k in top if id(k) in chain}
        readers: dict[int, kp.Kernel] = {}
        ok = True
        for k in top:
            if id(k) in chain:
                continue
            inner = kp.walk_kernels(k.body) if isinstance(k, kp.Loop) else [k]
            if not {r.buffer for i in inner for r in i.reads()} & set(inside):
                continue
            if id(k) in skip or isinstance(k, kp.Loop):
                ok = False  # a reader that is speculated otherwise, or in a loop: left whole
                break
            if k.registers_read() or not all(_one(r) for r in k.reads() if r.buffer in inside):
                ok = False
                break
            readers[id(k)] = replace(k, **_reindexed(k, inside, reg, values.start))
        if not ok or not chain or not readers:
            continue
        for k in top:
            if id(k) in chain:
                b = bufs[k.out]
                buffers.append(Buffer(chain[id(k)].out, (n * b.size,), b.fmt, "temp"))
        kernels |= chain | readers
        regs.append(reg)
    return Cones(kernels, tuple(buffers), tuple(regs)) if kernels else NO_CONES


def _reindexed(k: kp.Kernel, inside: dict[str, str], reg: str, first: int) -> dict:
    """The Ref fields of a reader of the chain, each result read at element ``reg - first``."""
    out = {}
    for name, value in vars(k).items():
        if isinstance(value, Ref) and value.buffer in inside:
            out[name] = Ref(inside[value.buffer], 1, -first, reg, 1)
    return out
