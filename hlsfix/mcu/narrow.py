"""Which C integer width a kernel may compute in: proofs from operand widths and constant weights.

The numeric contract (``golden.py``) forms products and sums in the program's ``wide`` type
(int32, or int64 with 32-bit operands). The C may compute the same integers in a narrower type
whenever every intermediate provably fits it; on the AVR, where an 8 x 8 -> 16 product is one
instruction and a 16-bit add two, that is what makes 8-bit data fast. These functions return the
C width (16, or the kernel's own ``wide``) of each kernel; ``emit.py`` instantiates the kernel
library's macros with it (``hlsfix_kernels8.h``).

Bounds are on absolute values: a RAM operand of ``b`` bits is bounded by 2^(b-1) (its most
negative value), a constant by its largest absolute value. A floor shift right by s of a value
bounded by P is bounded by ceil(P / 2^s). A kernel that rounds (``round_out``) adds its rounding
constant (``golden.round_const``) to the value it shifts: the proofs add it to the bound.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import round_const
from hlsfix.fixedpoint.program import Buffer, KernelProgram, Ref

INT16_MAX = (1 << 15) - 1
# A wider C type than 16 bits is always the kernel's own wide type.
NARROW = 16


def _ceil_shr(v: int, s: int) -> int:
    return -((-v) >> s) if s >= 0 else v << -s


class Bounds:
    """Absolute-value bounds of a program's buffers (constants by their data)."""

    def __init__(self, program: KernelProgram) -> None:
        self.program = program
        self.bufs: dict[str, Buffer] = {b.name: b for b in program.buffers}

    def bits(self, buf: str) -> int:
        return self.bufs[buf].fmt.bits

    def is_const(self, buf: str) -> bool:
        return self.bufs[buf].kind == "const"

    def abs_max(self, buf: str) -> int:
        if self.is_const(buf):
            data = np.asarray(self.program.constants[buf], dtype=np.int64)
            return int(np.abs(data).max()) if data.size else 0
        return 1 << (self.bits(buf) - 1)

    def matrix(self, ref: Ref, rows: int, cols: int) -> np.ndarray:
        """Element bounds of a (rows × cols) view: a constant's data where the view is fixed,
        else the buffer's bound everywhere."""
        if not self.is_const(ref.buffer) or ref.index is not None:
            return np.full((rows, cols), self.abs_max(ref.buffer), dtype=np.int64)
        data = np.asarray(self.program.constants[ref.buffer], dtype=np.int64).reshape(-1)
        return np.abs(data[ref.offset : ref.offset + rows * cols]).reshape(rows, cols)


def _fits16(*values: int) -> bool:
    return all(v <= INT16_MAX for v in values)


def _worst_sum(terms: np.ndarray, prod_shift: int, axis: int) -> int:
    """The largest sum over ``axis`` of product bounds, each floor-shifted (ceil of the bound)."""
    shifted = -((-terms) >> prod_shift)
    return int(shifted.sum(axis=axis).max()) if shifted.size else 0


def matmul_width(bounds: Bounds, k: kp.MatMul) -> int:
    """16 when both operands are 8-bit and every output's sum of shifted products fits int16."""
    if k.wide != 32 or bounds.bits(k.a.buffer) != 8 or bounds.bits(k.b.buffer) != 8:
        return k.wide
    a, b = bounds.matrix(k.a, k.m, k.k), bounds.matrix(k.b, k.k, k.n)
    worst = _worst_sum(a[:, :, None] * b[None, :, :], k.prod_shift, axis=1)
    return NARROW if _fits16(worst + round_const(k.out_shift, k.round_out)) else k.wide


def conv2d_width(bounds: Bounds, k: kp.Conv2d) -> int:
    """16 when input and filters are 8-bit and the largest sum over one output's taps of
    |filter| · max|x|, shifted, fits int16 (padded taps only lower it)."""
    if k.wide != 32 or bounds.bits(k.x.buffer) != 8 or bounds.bits(k.filters.buffer) != 8:
        return k.wide
    g, hf, wf, cin_g, cout = k.filter_shape
    f = bounds.matrix(k.filters, 1, g * hf * wf * cin_g * cout).reshape(g, hf * wf * cin_g, cout)
    worst = _worst_sum(f * bounds.abs_max(k.x.buffer), k.prod_shift, axis=1)
    return NARROW if _fits16(worst + round_const(k.out_shift, k.round_out)) else k.wide


def _aligned(bounds: Bounds, ref: Ref, shift: int) -> int:
    v = bounds.abs_max(ref.buffer)
    return v << shift if shift >= 0 else _ceil_shr(v, -shift)


def addsub_width(bounds: Bounds, k: kp.AddSub) -> int:
    """16 when both operands are 8-bit and the aligned operands and their sum fit int16."""
    if k.wide != 32 or bounds.bits(k.a.buffer) != 8 or bounds.bits(k.b.buffer) != 8:
        return k.wide
    a, b = _aligned(bounds, k.a, k.a_shift), _aligned(bounds, k.b, k.b_shift)
    rc = round_const(k.out_shift, k.round_out)
    return NARROW if _fits16(a, b, a + b + rc) else k.wide


def mul_width(bounds: Bounds, k: kp.Mul) -> int:
    """16 for an 8 x 8 product (|a · b| ≤ 2^14) and its rounding constant."""
    eight = bounds.bits(k.a.buffer) == 8 and bounds.bits(k.b.buffer) == 8
    if k.wide == 32 and eight and _fits16((1 << 14) + round_const(k.out_shift, k.round_out)):
        return NARROW
    return k.wide


def rescale_width(bounds: Bounds, k: kp.Rescale) -> int:
    """16 for an 8-bit input (±x and its rounding constant fit), 64 for a 32-bit one
    (−INT32_MIN), else 32."""
    bits = bounds.bits(k.x.buffer)
    if bits == 8 and _fits16(128 + round_const(k.shift, k.round_out)):
        return NARROW
    return 64 if bits == 32 else 32


WIDTH_RULES: dict[type[kp.Kernel], Callable[[Bounds, kp.Kernel], int]] = {
    kp.MatMul: matmul_width,  # type: ignore[dict-item]
    kp.Conv2d: conv2d_width,  # type: ignore[dict-item]
    kp.AddSub: addsub_width,  # type: ignore[dict-item]
    kp.Mul: mul_width,  # type: ignore[dict-item]
    kp.Rescale: rescale_width,  # type: ignore[dict-item]
}


def c_width(bounds: Bounds, k: kp.Kernel) -> int:
    """The C width a kernel computes in (its ``wide`` where no narrower one is proven)."""
    rule = WIDTH_RULES.get(type(k))
    return rule(bounds, k) if rule else int(getattr(k, "wide", 32))
