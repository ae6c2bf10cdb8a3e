"""Round to nearest where it is free: a rounding offset folded into an add's constant operand.

The numeric contract shifts right by floor (``golden.py``), which biases every narrowing store by
half a unit of its last place on average; at 8 bits that half unit is a real error, and it adds up
over a recurrence (FastGRNN's state) or a long sum. For an add or subtract with a constant operand
(a bias, a prototype, FastGRNN's ``1 - z``), floor(v + c + 2^(s-1)) / 2^s is round-to-nearest of
v + c; adding 2^(s-1) to the constant at compile time gives every backend that rounding without a
change to the contract or to any kernel: they run the same AddSub on a different constant.

Where the constant is no finer than the output (so half an output unit is not representable in
it), an 8-bit constant is stored at 16 bits with the fractional bits the offset needs (its value
unchanged: the integers are shifted left) — a wider bias, as int8 inference keeps int32 biases.

Only a constant no other kernel reads is changed, and only for adds whose output is 8-bit (at 16
bits the half unit is below what any model here resolves; 16-bit programs stay as they were).

Where no constant can take the offset (products, sums of products, data + data adds, rescales),
the kernel's ``round_out`` flag asks the backends to add it (``_Folder.flag``): the dot products
start their accumulator at 2^(s-1) instead of 0, the element-wise kernels add it before the shift.
It is set on every such kernel with an 8-bit output and a right shift s ≥ 1 whose worst-case value
plus 2^(s-1) provably fits its wide type (from the operands' formats and the constants' data).
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import Buffer, Format, KernelProgram, Ref

# a constant widened for the offset gets at most this many bits
WIDE_CONST_BITS = 16


def _common(fa: Format, fb: Format, wide: int) -> int:
    """The AddSub's common scale, as ``lower.Lowerer.addsub`` chooses it."""
    return min(max(fa.frac, fb.frac), fa.frac + wide - 2 - fa.bits, fb.frac + wide - 2 - fb.bits)


class _Folder:
    def __init__(
        self, program: KernelProgram, flags: bool = False, fold: bool = True, max_bits: int = 8
    ) -> None:
        self.p = program
        self.flags, self.fold, self.max_bits = flags, fold, max_bits
        self.bufs = {b.name: b for b in program.buffers}
        self.constants = dict(program.constants)
        self.readers: Counter[str] = Counter(r.buffer for k in program.walk() for r in k.reads())

    def block(self, kernels: tuple[kp.Kernel, ...]) -> tuple[kp.Kernel, ...]:
        out = []
        for k in kernels:
            if isinstance(k, kp.Loop):
                k = dataclasses.replace(k, body=self.block(k.body))
            elif isinstance(k, kp.AddSub):
                folded = self.addsub(k) if self.fold else k
                k = folded if folded is not k else self.flag(k)
            elif isinstance(k, ROUNDABLE):
                k = self.flag(k)
            out.append(k)
        return tuple(out)

    def amax(self, buf: str) -> int:
        """The largest magnitude a buffer holds: a constant's data, else its format's bound."""
        if self.bufs[buf].kind == "const":
            data = np.asarray(self.constants[buf], dtype=np.int64)
            return int(np.abs(data).max()) if data.size else 0
        return 1 << (self.bufs[buf].fmt.bits - 1)

    def flag(self, k: kp.Kernel) -> kp.Kernel:
        """``k`` with ``round_out`` where its output is 8-bit (at most ``max_bits``), its shift
        s ≥ 1, and the worst case
        of the value it shifts plus 2^(s-1) fits the wide type it is computed in."""
        shift, wide, worst = worst_case(self, k)
        if not self.flags or self.bufs[k.out].fmt.bits > self.max_bits or shift < 1:  # type: ignore[attr-defined]
            return k
        if worst + (1 << (shift - 1)) > (1 << (wide - 1)) - 1:
            return k
        return dataclasses.replace(k, round_out=True)

    def _const_operand(self, k: kp.AddSub) -> str | None:
        """ "a" or "b" when that operand is a constant read by this kernel only."""
        for side in ("b", "a"):
            ref: Ref = getattr(k, side)
            other: Ref = getattr(k, "a" if side == "b" else "b")
            buf = self.bufs[ref.buffer]
            if buf.kind == "const" and self.readers[ref.buffer] == 1 and other.buffer != ref.buffer:
                return side
        return None

    def addsub(self, k: kp.AddSub) -> kp.AddSub:
        fo = self.bufs[k.out].fmt
        if fo.bits != 8 or k.out_shift <= 0:
            return k
        side = self._const_operand(k)
        if side is None:
            return k
        cref: Ref = getattr(k, side)
        dref: Ref = k.a if side == "b" else k.b
        fc, fd = self.bufs[cref.buffer].fmt, self.bufs[dref.buffer].fmt
        data = np.asarray(self.constants[cref.buffer], dtype=np.int64)
        # The constant needs a fractional bit below the output's for half an output unit.
        lift = max(0, fo.frac + 1 - fc.frac)
        new_fmt = Format(fc.bits, fc.frac + lift)
        if lift:
            if fc.bits >= WIDE_CONST_BITS:
                return k
            new_fmt = Format(WIDE_CONST_BITS, fc.frac + lift)
        # the sign the constant enters the sum with: c in a + c, c - x; -c in x - c
        negative = k.subtract and ((side == "b") != k.b_first)
        common = _common(*((fd, new_fmt) if side == "b" else (new_fmt, fd)), k.wide)
        out_shift = common - fo.frac
        c_shift = common - new_fmt.frac
        if out_shift <= 0 or c_shift >= out_shift:  # nothing to round, or no room for the offset
            return k
        half = 1 << (out_shift - 1 - c_shift)
        folded = (data << lift) + (-half if negative else half)
        if folded.min() < new_fmt.qmin or folded.max() > new_fmt.qmax:
            if new_fmt.bits >= WIDE_CONST_BITS:
                return k
            # no room at 8 bits: the constant widens, as above
            new_fmt = Format(WIDE_CONST_BITS, new_fmt.frac)
            if folded.min() < new_fmt.qmin or folded.max() > new_fmt.qmax:
                return k
        self.constants[cref.buffer] = folded
        old = self.bufs[cref.buffer]
        self.bufs[cref.buffer] = Buffer(old.name, old.shape, new_fmt, old.kind)
        shifts = {"out_shift": out_shift}
        shifts["a_shift" if side == "a" else "b_shift"] = c_shift
        shifts["b_shift" if side == "a" else "a_shift"] = common - fd.frac
        return dataclasses.replace(k, **shifts)


def fold_rounding(program: KernelProgram, *, fold: bool = True, flags: bool = True) -> KernelProgram:
    """``program`` with round-to-nearest folded into the constants of its 8-bit adds (``fold``)
    and the ``round_out`` flag on its other 8-bit kernels that end in a right shift (``flags``)."""
    folder = _Folder(program, flags, fold)
    kernels = folder.block(program.kernels)
    return dataclasses.replace(
        program,
        kernels=kernels,
        buffers=tuple(folder.bufs[b.name] for b in program.buffers),
        constants=folder.constants,
    )


def flag_rounding(program: KernelProgram, max_bits: int) -> KernelProgram:
    """``program`` with ``round_out`` on every kernel of at most ``max_bits`` output bits where it
    is safe, folded adds included (the random-program campaign exercises the flag at any width)."""
    folder = _Folder(program, flags=True, fold=False, max_bits=max_bits)
    return dataclasses.replace(program, kernels=folder.block(program.kernels))


ROUNDABLE = (kp.MatMul, kp.SparseMatVec, kp.Conv2d, kp.Mul, kp.Rescale)


def _ceil_shr(v: int, s: int) -> int:
    """A bound of floor(p / 2^s) in magnitude for |p| ≤ v (s ≥ 0), or of p · 2^-s (s < 0)."""
    return -((-v) >> s) if s >= 0 else v << -s


def _matmul_worst(f: _Folder, k: kp.MatMul) -> int:
    """The largest |sum| of shifted products: row by row of a constant matrix (fixed view), else
    the operands' bounds."""
    for ref, rows, cols, other in ((k.a, k.m, k.k, k.b), (k.b, k.k, k.n, k.a)):
        if f.bufs[ref.buffer].kind == "const" and ref.index is None:
            data = np.asarray(f.constants[ref.buffer], dtype=np.int64).reshape(-1)
            mat = np.abs(data[ref.offset : ref.offset + rows * cols]).reshape(rows, cols)
            terms = -((-(mat * f.amax(other.buffer))) >> k.prod_shift)
            return int((terms.sum(axis=1) if ref is k.a else terms.sum(axis=0)).max(initial=0))
    return k.k * _ceil_shr(f.amax(k.a.buffer) * f.amax(k.b.buffer), k.prod_shift)


def worst_case(f: _Folder, k: kp.Kernel) -> tuple[int, int, int]:
    """(final right shift, wide type's bits, bound of the magnitude of the value it shifts)."""
    if isinstance(k, kp.MatMul):
        return k.out_shift, k.wide, _matmul_worst(f, k)
    if isinstance(k, kp.SparseMatVec):
        vals = np.abs(np.asarray(f.constants[k.values], dtype=np.int64).reshape(-1))
        rows = np.asarray(f.constants[k.row_index], dtype=np.int64).reshape(-1)
        terms = -((-(vals * f.amax(k.x.buffer))) >> k.prod_shift)
        sums = np.bincount(rows, weights=terms.astype(np.float64), minlength=k.rows)  # exact below 2^53
        return k.out_shift, k.wide, int(sums.max(initial=0))
    if isinstance(k, kp.Conv2d):
        g, hf, wf, cin_g, cout = k.filter_shape
        xmax = f.amax(k.x.buffer)
        if f.bufs[k.filters.buffer].kind == "const" and k.filters.index is None:
            data = np.asarray(f.constants[k.filters.buffer], dtype=np.int64).reshape(-1)
            n = g * hf * wf * cin_g * cout
            filt = np.abs(data[k.filters.offset : k.filters.offset + n]).reshape(g, -1, cout)
            terms = -((-(filt * xmax)) >> k.prod_shift)
            return k.out_shift, k.wide, int(terms.sum(axis=1).max(initial=0))
        term = _ceil_shr(xmax * f.amax(k.filters.buffer), k.prod_shift)
        return k.out_shift, k.wide, hf * wf * cin_g * term
    if isinstance(k, kp.AddSub):
        a = _ceil_shr(f.amax(k.a.buffer), -k.a_shift)
        b = _ceil_shr(f.amax(k.b.buffer), -k.b_shift)
        return k.out_shift, k.wide, a + b
    if isinstance(k, kp.Mul):
        return k.out_shift, k.wide, f.amax(k.a.buffer) * f.amax(k.b.buffer)
    assert isinstance(k, kp.Rescale)
    bits = f.bufs[k.x.buffer].fmt.bits
    return k.shift, 64 if bits == 32 else 32, f.amax(k.x.buffer)
