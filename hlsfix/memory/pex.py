"""Partial execution (Pex, Liberis & Lane): channel slices through pointwise → depthwise → pointwise.

In a chain ``A = pw1(X); B = dw(A); C = pw2(B)`` (1×1 convolutions around a depthwise one, each
intermediate read by the next kernel alone), output channel c of pw1 needs all of X, channel c of
the depthwise conv needs only channel c of A, and pw2 sums over B's channels. So the chain runs in
slices of the middle channels: for each slice, pw1 computes those channels of A into a slice
buffer, dw those channels of B into another, and pw2 adds their contribution into an int32
accumulator; the last slice adds the bias and requantises. A and B are never whole. No product is
computed twice (each slice does a disjoint part of every kernel's work) and integer sums are
associative, so the output is the same bits. The weights are split into per-slice constants, so
flash does not grow beyond the per-slice copies of the bias/multiplier tables.

``partial_execution`` applies it to every such chain where it lowers the program's peak, with the
number of slices (a divisor of the middle width) that lowers it most.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from hlsfix.fixedpoint.int8.kernels import QConv2d
from hlsfix.fixedpoint.program import Buffer, Format, Kernel, KernelProgram, Ref
from hlsfix.memory.order import kernel_reads, live_per_step, order_bound


@dataclass(frozen=True)
class PexChain:
    start: int  # index of pw1 in the program
    middle_channels: int
    slices: int
    peak_before: int  # the most bytes live at one of the chain's steps, before and after slicing
    peak_after: int


def _pointwise(k: Kernel) -> bool:
    return (
        isinstance(k, QConv2d)
        and not k.depthwise
        and k.kernel == (1, 1)
        and k.strides == (1, 1)
        and k.pads == (0, 0)
        and k.acc is None
    )


def _readers(program: KernelProgram, name: str) -> list[int]:
    return [i for i, k in enumerate(program.kernels) if name in kernel_reads(k)]


def chain_at(program: KernelProgram, i: int) -> bool:
    """Kernels i, i+1, i+2 are pw1 → dw → pw2 with intermediates no other kernel reads."""
    ks = program.kernels
    if i + 2 >= len(ks):
        return False
    pw1, dw, pw2 = ks[i], ks[i + 1], ks[i + 2]
    if not (_pointwise(pw1) and _pointwise(pw2) and isinstance(dw, QConv2d)):
        return False
    if not dw.depthwise or dw.depth_multiplier != 1 or dw.acc is not None:
        return False
    a, b = pw1.out, dw.out  # type: ignore[attr-defined]
    if dw.x.buffer != a or pw2.x.buffer != b or program.output in (a, b):  # type: ignore[attr-defined]
        return False
    return _readers(program, a) == [i + 1] and _readers(program, b) == [i + 2]


def find_chains(program: KernelProgram) -> list[int]:
    return [i for i in range(len(program.kernels)) if chain_at(program, i)]


def slice_chain(program: KernelProgram, i: int, slices: int) -> KernelProgram:
    """The program with the chain at ``i`` run in ``slices`` equal channel slices."""
    ks = program.kernels
    pw1, dw, pw2 = ks[i], ks[i + 1], ks[i + 2]
    assert isinstance(pw1, QConv2d) and isinstance(dw, QConv2d) and isinstance(pw2, QConv2d)
    mid = pw1.out_shape[2]
    if mid % slices:
        raise ValueError(f"slices must divide the middle width {mid}, not {slices}")
    w = mid // slices
    consts = dict(program.constants)
    bufs = {b.name: b for b in program.buffers}
    h, wd, _ = pw1.out_shape
    oh, ow, cout = pw2.out_shape
    a_s, b_s, acc = f"{pw1.out}_slice", f"{dw.out}_slice", f"{pw2.out}_acc"
    bufs[a_s] = Buffer(a_s, (h, wd, w), Format(8, 0), "temp")
    bufs[b_s] = Buffer(b_s, (oh, ow, w), Format(8, 0), "temp")
    bufs[acc] = Buffer(acc, (oh, ow, cout), Format(32, 0), "temp")

    def const(src: str, s: int, part: tuple[slice, ...]) -> str:
        name = f"{src}_p{s}"
        arr = np.ascontiguousarray(program.constants[src][part])
        consts[name] = arr
        bufs[name] = Buffer(name, tuple(arr.shape), program.buffer(src).fmt, "const")
        return name

    def per_channel(k: QConv2d, c0: int, s: int) -> dict[str, str | None]:
        part = (slice(c0, c0 + w),)
        bias = None if k.bias is None else const(k.bias, s, part)
        return {"multiplier": const(k.multiplier, s, part), "shift": const(k.shift, s, part), "bias": bias}

    new: list[Kernel] = []
    for s in range(slices):
        c0 = s * w
        new.append(
            replace(
                pw1,
                out=a_s,
                weights=const(pw1.weights, s, (slice(c0, c0 + w),)),
                out_shape=(h, wd, w),
                **per_channel(pw1, c0, s),  # type: ignore[arg-type]
            )
        )
        new.append(
            replace(
                dw,
                x=Ref(a_s, h * wd * w),
                out=b_s,
                weights=const(dw.weights, s, (Ellipsis, slice(c0, c0 + w))),
                in_shape=(h, wd, w),
                out_shape=(oh, ow, w),
                **per_channel(dw, c0, s),  # type: ignore[arg-type]
            )
        )
        new.append(
            replace(
                pw2,
                x=Ref(b_s, oh * ow * w),
                weights=const(pw2.weights, s, (Ellipsis, slice(c0, c0 + w))),
                in_shape=(oh, ow, w),
                acc=acc,
                acc_init=s == 0,
                acc_finish=s == slices - 1,
            )
        )
    for old in (pw1.weights, dw.weights, pw2.weights, pw1.multiplier, pw1.shift, dw.multiplier, dw.shift):
        consts.pop(old, None)
        bufs.pop(old, None)
    for old in (pw1.bias, dw.bias):
        if old is not None:
            consts.pop(old, None)
            bufs.pop(old, None)
    for old in (pw1.out, dw.out):
        bufs.pop(old)
    labels = program.labels
    if labels:
        names = labels[i : i + 3]
        labels = (
            *labels[:i],
            *(f"{names[j]}[slice {s}/{slices}]" for s in range(slices) for j in range(3)),
            *labels[i + 3 :],
        )
    kernels = (*ks[:i], *new, *ks[i + 3 :])
    return replace(program, kernels=kernels, buffers=tuple(bufs.values()), constants=consts, labels=labels)


def _divisors(n: int, limit: int) -> list[int]:
    return [d for d in range(2, min(n, limit) + 1) if n % d == 0]


def partial_execution(
    program: KernelProgram, *, max_slices: int = 64
) -> tuple[KernelProgram, list[PexChain]]:
    """Slice every pw→dw→pw chain where it lowers the peak of its own steps without raising the
    program's, with the slice count that lowers it most (ties: fewer slices); left to right, so a
    pw2 that is also the next chain's pw1 belongs to the first chain."""
    applied: list[PexChain] = []
    i = 0
    while i < len(program.kernels):
        if not chain_at(program, i):
            i += 1
            continue
        bound = order_bound(program)
        local = max(live_per_step(program)[i : i + 3])
        mid = program.kernels[i].out_shape[2]  # type: ignore[attr-defined]
        best: tuple[int, int, KernelProgram] | None = None
        for n in _divisors(mid, max_slices):
            cand = slice_chain(program, i, n)
            cand_local = max(live_per_step(cand)[i : i + 3 * n])
            if cand_local < local and order_bound(cand) <= bound and (best is None or cand_local < best[0]):
                best = (cand_local, n, cand)
        if best is None:
            i += 1
            continue
        program = best[2]
        applied.append(PexChain(i, mid, best[1], local, best[0]))
        i += 3 * best[1]
    return program, applied
