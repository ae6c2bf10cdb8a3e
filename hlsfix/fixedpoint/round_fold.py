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
    def __init__(self, program: KernelProgram) -> None:
        self.p = program
        self.bufs = {b.name: b for b in program.buffers}
        self.constants = dict(program.constants)
        self.readers: Counter[str] = Counter(r.buffer for k in program.walk() for r in k.reads())

    def block(self, kernels: tuple[kp.Kernel, ...]) -> tuple[kp.Kernel, ...]:
        out = []
        for k in kernels:
            if isinstance(k, kp.Loop):
                k = dataclasses.replace(k, body=self.block(k.body))
            elif isinstance(k, kp.AddSub):
                k = self.addsub(k)
            out.append(k)
        return tuple(out)

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


def fold_rounding(program: KernelProgram) -> KernelProgram:
    """``program`` with round-to-nearest folded into the constants of its 8-bit adds."""
    folder = _Folder(program)
    kernels = folder.block(program.kernels)
    return dataclasses.replace(
        program,
        kernels=kernels,
        buffers=tuple(folder.bufs[b.name] for b in program.buffers),
        constants=folder.constants,
    )
