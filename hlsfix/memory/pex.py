"""Partial execution (Pex, Liberis & Lane): run channel-wise chains slice by slice.

Two chain shapes, both on consecutive kernels whose intermediates no other kernel reads:

- ``A = conv(X); B = dw(A)`` (any convolution, then a depthwise one with depth multiplier 1):
  output channel c of the conv needs all of X, channel c of the depthwise conv only channel c of A.
  Per slice of channels, the conv writes the slice of A into a slice buffer and the depthwise conv
  writes its slice of B into its place in B. A is never whole.
- ``A = pw1(X); B = dw(A); C = pw2(B)`` (1×1 convolutions around a depthwise one): as above, and
  pw2 adds each slice's contribution into an int32 accumulator; the last slice adds the bias and
  requantises. Neither A nor B is ever whole (the accumulator is: 4 bytes per output value).

No product is computed twice (each slice does a disjoint part of every kernel's work) and integer
sums are associative, so the outputs are the same bits. Weights and per-channel tables are split
into per-slice constants (the same bytes in total).

``partial_execution`` walks the program left to right and, at each chain, takes the shape and the
number of slices (a divisor of the middle width) that lower the most bytes live at one of the
chain's steps, provided the program's peak does not rise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from hlsfix.fixedpoint.int8.kernels import QConv2d
from hlsfix.fixedpoint.program import Buffer, Format, Kernel, KernelProgram, Ref
from hlsfix.memory.order import kernel_reads, live_per_step, order_bound


@dataclass(frozen=True)
class PexChain:
    start: int  # index of the chain's first kernel in the program it was applied to
    kernels: int  # 2 (conv → dw) or 3 (pw → dw → pw)
    middle_channels: int
    slices: int
    peak_before: int  # the most bytes live at one of the chain's steps, before and after slicing
    peak_after: int


def _plain_conv(k: Kernel) -> bool:
    return isinstance(k, QConv2d) and not k.depthwise and k.acc is None and not k.out_row_channels


def _pointwise(k: Kernel) -> bool:
    return _plain_conv(k) and k.kernel == (1, 1) and k.strides == (1, 1) and k.pads == (0, 0)  # type: ignore[attr-defined]


def _readers(program: KernelProgram, name: str) -> list[int]:
    return [i for i, k in enumerate(program.kernels) if name in kernel_reads(k)]


def chain_at(program: KernelProgram, i: int, length: int) -> bool:
    """Kernels i.. form a chain of ``length`` 2 or 3 (see the module doc)."""
    ks = program.kernels
    if i + length > len(ks):
        return False
    conv, dw = ks[i], ks[i + 1]
    if not (_plain_conv(conv) and isinstance(dw, QConv2d) and dw.depthwise):
        return False
    if dw.depth_multiplier != 1 or dw.out_row_channels or dw.x.buffer != conv.out:  # type: ignore[attr-defined]
        return False
    if program.output == conv.out or _readers(program, conv.out) != [i + 1]:  # type: ignore[attr-defined]
        return False
    if length == 2:
        return True
    pw2 = ks[i + 2]
    if not (_pointwise(conv) and _pointwise(pw2) and pw2.x.buffer == dw.out):  # type: ignore[attr-defined]
        return False
    return program.output != dw.out and _readers(program, dw.out) == [i + 2]


def slice_chain(program: KernelProgram, i: int, length: int, slices: int) -> KernelProgram:
    """The program with the chain of ``length`` at ``i`` run in ``slices`` equal channel slices."""
    ks = program.kernels
    conv, dw = ks[i], ks[i + 1]
    assert isinstance(conv, QConv2d) and isinstance(dw, QConv2d)
    mid = conv.out_shape[2]
    if mid % slices:
        raise ValueError(f"slices must divide the middle width {mid}, not {slices}")
    w = mid // slices
    consts = dict(program.constants)
    bufs = {b.name: b for b in program.buffers}
    h, wd, _ = conv.out_shape
    oh, ow, _ = dw.out_shape
    a_s = f"{conv.out}_slice"
    bufs[a_s] = Buffer(a_s, (h, wd, w), Format(8, 0), "temp")

    def const(src: str, s: int, part: tuple[object, ...]) -> str:
        name = f"{src}_p{s}"
        consts[name] = np.ascontiguousarray(program.constants[src][part])  # type: ignore[index]
        bufs[name] = Buffer(name, tuple(consts[name].shape), program.buffer(src).fmt, "const")
        return name

    def per_channel(k: QConv2d, c0: int, s: int) -> dict[str, str | None]:
        part = (slice(c0, c0 + w),)
        bias = None if k.bias is None else const(k.bias, s, part)
        return {"multiplier": const(k.multiplier, s, part), "shift": const(k.shift, s, part), "bias": bias}

    new: list[Kernel] = []
    b_s = acc = ""
    if length == 3:
        pw2 = ks[i + 2]
        assert isinstance(pw2, QConv2d)
        b_s, acc = f"{dw.out}_slice", f"{pw2.out}_acc"
        bufs[b_s] = Buffer(b_s, (oh, ow, w), Format(8, 0), "temp")
        bufs[acc] = Buffer(acc, pw2.out_shape, Format(32, 0), "temp")
    for s in range(slices):
        c0 = s * w
        cw = const(conv.weights, s, (slice(c0, c0 + w),))
        new.append(replace(conv, out=a_s, weights=cw, out_shape=(h, wd, w), **per_channel(conv, c0, s)))  # type: ignore[arg-type]
        dw_s = replace(
            dw,
            x=Ref(a_s, h * wd * w),
            weights=const(dw.weights, s, (Ellipsis, slice(c0, c0 + w))),
            in_shape=(h, wd, w),
            out_shape=(oh, ow, w),
            **per_channel(dw, c0, s),  # type: ignore[arg-type]
        )
        if length == 2:
            new.append(replace(dw_s, out_row_channels=mid, out_channel_offset=c0))
            continue
        new.append(replace(dw_s, out=b_s))
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
    replaced = [conv, dw] + ([ks[i + 2]] if length == 3 else [])
    still_used = {n for k in (*ks[:i], *new, *ks[i + length :]) for n in _names(k)}
    for k in replaced:
        for name in _names(k):
            if name not in still_used and name in bufs and name not in (program.input, program.output):
                bufs.pop(name)
                consts.pop(name, None)
    labels = program.labels
    if labels:
        names = labels[i : i + length]
        sliced = (f"{names[j]}[slice {s + 1}/{slices}]" for s in range(slices) for j in range(length))
        labels = (*labels[:i], *sliced, *labels[i + length :])
    kernels = (*ks[:i], *new, *ks[i + length :])
    return replace(program, kernels=kernels, buffers=tuple(bufs.values()), constants=consts, labels=labels)


def _names(k: Kernel) -> set[str]:
    out = {k.out, *kernel_reads(k)}  # type: ignore[attr-defined]
    for field in ("weights", "bias", "multiplier", "shift", "acc"):
        v = getattr(k, field, None)
        if v is not None:
            out.add(v)
    return out


SLICE_SLACK = 1.05


def _divisors(n: int, limit: int) -> list[int]:
    return [d for d in range(2, min(n, limit) + 1) if n % d == 0]


def partial_execution(
    program: KernelProgram, *, max_slices: int = 64
) -> tuple[KernelProgram, list[PexChain]]:
    """Apply partial execution wherever it lowers a chain's peak without raising the program's
    (see the module doc); the sliced program and the chains sliced."""
    applied: list[PexChain] = []
    i = 0
    while i < len(program.kernels):
        lengths = [n for n in (3, 2) if chain_at(program, i, n)]
        if not lengths:
            i += 1
            continue
        region = max(lengths)
        bound = order_bound(program)
        local = max(live_per_step(program)[i : i + region])
        mid = program.kernels[i].out_shape[2]  # type: ignore[attr-defined]
        cands: list[tuple[int, int, int, KernelProgram]] = []
        for length in lengths:
            for n in _divisors(mid, max_slices):
                cand = slice_chain(program, i, length, n)
                after = i + length * n + (region - length)
                cand_local = max(live_per_step(cand)[i:after])
                if cand_local < local and order_bound(cand) <= bound:
                    cands.append((cand_local, length, n, cand))
        if not cands:
            i += 1
            continue
        # Fewest kernel calls among those within SLICE_SLACK of the lowest peak: more slices buy
        # ever fewer bytes (the slice buffer shrinks as 1/n) for a call and a parameter block each.
        lowest = min(c[0] for c in cands)
        best = min((c for c in cands if c[0] <= lowest * SLICE_SLACK), key=lambda c: (c[1] * c[2], c[0]))
        cand_local, length, n, program = best
        applied.append(PexChain(i, length, mid, n, local, cand_local))
        i += length * n
    return program, applied
