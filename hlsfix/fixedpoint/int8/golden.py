"""The definition of an int8 affine KernelProgram: a batched numpy interpreter, bit-exact with TFLM.

``run_int8(program, x)`` runs N inputs at once (x: (N, input size) int8 values) and returns the
output buffer's integers per input. Sums are exact integers (products of int8 values summed in
float64 BLAS are exact far beyond any layer here, and are checked to fit int32 as in C).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from hlsfix.fixedpoint.int8 import arith
from hlsfix.fixedpoint.int8.kernels import (
    QActivation,
    QAdd,
    QConcat,
    QConv2d,
    QFullyConnected,
    QMean,
    QMul,
    QPad,
    QPool,
    QSoftmax,
)
from hlsfix.fixedpoint.program import Kernel, KernelProgram, Ref


@dataclass(frozen=True)
class Int8Result:
    output: np.ndarray  # (N, output size) int64
    buffers: Mapping[str, np.ndarray]  # final contents, (N, size) each


def _exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for integer arrays whose every partial sum is below 2^53: exact in float64."""
    return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)


def _requantize(
    acc: np.ndarray, mult: np.ndarray, shift: np.ndarray, offset: int, lo: int, hi: int
) -> np.ndarray:
    arith.check_int32(acc, "accumulator")
    return np.clip(arith.mbqm(acc, mult, shift) + offset, lo, hi)


def _conv_sums(k: QConv2d, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Pre-bias int32 sums (N, OH, OW, COUT)."""
    h, wd, c = k.in_shape
    oh, ow, oc = k.out_shape
    kh, kw = k.kernel
    sh, sw = k.strides
    dh, dw = k.dilations
    pt, pl = k.pads
    xo = x.reshape(-1, h, wd, c) + k.input_offset
    need_h = (oh - 1) * sh + (kh - 1) * dh + 1
    need_w = (ow - 1) * sw + (kw - 1) * dw + 1
    pb, pr = max(need_h - h - pt, 0), max(need_w - wd - pl, 0)
    xp = np.pad(xo, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    acc = np.zeros((xo.shape[0], oh, ow, oc), dtype=np.int64)
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dh, kx * dw
            patch = xp[:, y0 : y0 + (oh - 1) * sh + 1 : sh, x0 : x0 + (ow - 1) * sw + 1 : sw, :]
            if k.depthwise:
                acc += np.repeat(patch, k.depth_multiplier, axis=3) * w[0, ky, kx, :]
            else:
                acc += _exact_matmul(patch, w[:, ky, kx, :].T)
    return acc


def _pool(k: QPool, x: np.ndarray) -> np.ndarray:
    h, wd, c = k.in_shape
    oh, ow, _ = k.out_shape
    kh, kw = k.kernel
    sh, sw = k.strides
    pt, pl = k.pads
    xs = x.reshape(-1, h, wd, c)
    n = xs.shape[0]
    if k.kind == "max":
        out = np.full((n, oh, ow, c), -(1 << 20), dtype=np.int64)
    else:
        out = np.zeros((n, oh, ow, c), dtype=np.int64)
        count = np.zeros((oh, ow), dtype=np.int64)
    for oy in range(oh):
        y0 = oy * sh - pt
        ys = slice(max(y0, 0), min(y0 + kh, h))
        for ox in range(ow):
            x0 = ox * sw - pl
            xs_ = slice(max(x0, 0), min(x0 + kw, wd))
            win = xs[:, ys, xs_, :]
            if k.kind == "max":
                out[:, oy, ox, :] = win.max(axis=(1, 2))
            else:
                out[:, oy, ox, :] = win.sum(axis=(1, 2))
                count[oy, ox] = win.shape[1] * win.shape[2]
    if k.kind == "avg":
        cnt = count[None, :, :, None]
        half = cnt // 2
        num = np.where(out > 0, out + half, out - half)
        q = np.abs(num) // cnt
        out = np.where(num < 0, -q, q)
    return np.clip(out, k.act_min, k.act_max)


def _softmax(k: QSoftmax, x: np.ndarray) -> np.ndarray:
    rows = x.reshape(-1, k.depth)
    diff = rows - rows.max(axis=1, keepdims=True)
    use = diff >= k.diff_min
    scaled = arith.mbqm_greater_than_one(np.where(use, diff, 0), k.input_multiplier, k.input_left_shift)
    exps = arith.exp_on_negative_values(scaled, 5)
    sum_of_exps = np.where(use, arith.sat_mul_pot(exps, -12), 0).sum(axis=1, keepdims=True)
    arith.check_int32(sum_of_exps, "softmax sum of exps")
    scale, bits_over_unit = arith.get_reciprocal(sum_of_exps, 12)
    exponent = bits_over_unit + 31 - 8
    unsat = arith.rdbpot(arith.srdhm(scale, exps), exponent)
    out = np.clip(unsat - 128, -128, 127)
    return np.where(use, out, -128).reshape(x.shape)


def _activation(k: QActivation, x: np.ndarray) -> np.ndarray:
    v = x + k.input_offset
    inside = (v > -k.radius) & (v < k.radius)
    q4 = arith.mbqm(np.where(inside, v, 0), k.multiplier, k.left_shift)
    if k.fn == "logistic":
        y = np.clip(arith.rdbpot(arith.logistic_q4(q4), 23) - 128, -128, 127)
    else:
        y = np.clip(arith.rdbpot(arith.tanh_q4(q4), 24), -128, 127)
    return np.where(inside, y, np.where(v > 0, 127, -128))


class _Machine:
    def __init__(self, program: KernelProgram, x: np.ndarray) -> None:
        self.program = program
        self.n = len(x)
        self.mem: dict[str, np.ndarray] = {program.input: x.astype(np.int64).reshape(self.n, -1)}
        self.const = {k: np.asarray(v).astype(np.int64) for k, v in program.constants.items()}

    def read(self, ref: Ref) -> np.ndarray:
        if ref.index is not None:
            raise ValueError("int8 kernels take no run-time indices")
        return self.mem[ref.buffer][:, ref.offset : ref.offset + ref.length]

    def write(self, name: str, value: np.ndarray) -> None:
        self.mem[name] = value.reshape(self.n, -1)

    def run(self, k: Kernel) -> None:
        if isinstance(k, QConv2d):
            self._conv(k)
        elif isinstance(k, QFullyConnected):
            x = self.read(k.x).reshape(self.n * k.rows, k.depth) + k.input_offset
            w = self.const[k.weights] + k.weights_offset
            acc = _exact_matmul(x, w.T)
            if k.bias is not None:
                acc = acc + self.const[k.bias]
            out = _requantize(
                acc, self.const[k.multiplier], self.const[k.shift], k.output_offset, k.act_min, k.act_max
            )
            self.write(k.out, out)
        elif isinstance(k, QAdd):
            a = (self.read(k.a) + k.a_offset) << k.left_shift
            b = (self.read(k.b) + k.b_offset) << k.left_shift
            sa = arith.mbqm_smaller_than_one(a, k.a_multiplier, k.a_shift)
            sb = arith.mbqm_smaller_than_one(b, k.b_multiplier, k.b_shift)
            raw = arith.check_int32(sa + sb, "ADD raw sum")
            out = arith.mbqm_smaller_than_one(raw, k.output_multiplier, k.output_shift) + k.output_offset
            self.write(k.out, np.clip(out, k.act_min, k.act_max))
        elif isinstance(k, QMul):
            prod = (self.read(k.a) + k.a_offset) * (self.read(k.b) + k.b_offset)
            out = arith.mbqm(prod, k.output_multiplier, k.output_shift) + k.output_offset
            self.write(k.out, np.clip(out, k.act_min, k.act_max))
        elif isinstance(k, QPool):
            self.write(k.out, _pool(k, self.read(k.x)))
        elif isinstance(k, QSoftmax):
            self.write(k.out, _softmax(k, self.read(k.x)))
        elif isinstance(k, QActivation):
            self.write(k.out, _activation(k, self.read(k.x)))
        elif isinstance(k, QMean):
            sums = self.read(k.x).reshape(self.n, k.outer, k.reduce, k.inner).sum(axis=2)
            shifted = arith.check_int32(sums + k.input_offset * k.reduce, "MEAN sum")
            v = arith.mbqm(shifted, k.multiplier, k.shift) + k.output_offset
            self.write(k.out, np.clip(v, -128, 127))
        elif isinstance(k, QPad):
            t, b, lf, r, f, bk = k.pads
            x = self.read(k.x).reshape(self.n, *k.in_shape)
            padded = np.pad(x, ((0, 0), (t, b), (lf, r), (f, bk)), constant_values=k.value)
            self.write(k.out, padded)
        elif isinstance(k, QConcat):
            parts = [self.read(r).reshape(self.n, k.outer, c) for r, c in zip(k.xs, k.chunks, strict=True)]
            self.write(k.out, np.concatenate(parts, axis=2))
        else:
            raise TypeError(f"kernel must be an int8 affine kernel, not {type(k).__name__}")

    def _conv(self, k: QConv2d) -> None:
        sums = _conv_sums(k, self.read(k.x), self.const[k.weights])
        if k.acc is not None:
            prev = 0 if k.acc_init else self.mem[k.acc].reshape(sums.shape)
            sums = arith.check_int32(sums + prev, "partial-execution accumulator")
            self.write(k.acc, sums)
            if not k.acc_finish:
                return
        if k.bias is not None:
            sums = sums + self.const[k.bias]
        out = _requantize(
            sums, self.const[k.multiplier], self.const[k.shift], k.output_offset, k.act_min, k.act_max
        )
        if k.out_row_channels:  # a channel slice of a wider buffer
            oh, ow, oc = k.out_shape
            full = self.mem.get(k.out)
            if full is None:
                full = np.zeros((self.n, oh * ow * k.out_row_channels), dtype=np.int64)
            view = full.reshape(self.n, oh, ow, k.out_row_channels)
            view[..., k.out_channel_offset : k.out_channel_offset + oc] = out
            out = full
        self.write(k.out, out)


def run_int8(program: KernelProgram, x: np.ndarray) -> Int8Result:
    """Run ``program`` on N inputs (N, input size) of int8 values; the output buffer per input."""
    x = np.asarray(x)
    size = program.input_buffer.size
    if x.ndim == 1 or x.shape[1:] != (size,):
        x = x.reshape(len(x) if x.ndim > 1 else 1, -1)
    if x.shape[1] != size:
        raise ValueError(f"input must have {size} values per row, not {x.shape[1]}")
    if x.min(initial=0) < -128 or x.max(initial=0) > 127:
        raise ValueError("input must be int8 values in [-128, 127]")
    m = _Machine(program, x)
    for k in program.kernels:
        m.run(k)
    return Int8Result(m.mem[program.output], m.mem)
