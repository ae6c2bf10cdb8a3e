"""The int8 affine kernels of the KernelProgram: TFLite operators as TFLM's reference kernels run them.

Every tensor is int8 with a zero point (``*_offset`` fields hold what TFLM's OpData holds: the input
offset is −zero_point, the output offset +zero_point); per-channel requantisation multipliers and
shifts are int32 constant buffers (one entry per output channel, also for per-tensor scales);
weights are int8 constant buffers in TFLite's own layouts; biases int32. Batch is one: the golden
model runs many inputs at once, a target runs one. ``golden.py`` in this package is the meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hlsfix.fixedpoint.program import KERNEL_TYPES, Kernel, Ref


@dataclass(frozen=True)
class QConv2d(Kernel):
    """CONV_2D (filters [COUT, KH, KW, CIN]) or DEPTHWISE_CONV_2D (filters [1, KH, KW, COUT],
    COUT = CIN · depth_multiplier); zero padding of ``pads`` (top, left); int32 accumulation of
    (x + input_offset) · w, plus bias, requantised per output channel, + output_offset, clamped.

    Partial execution: with ``acc`` (an int32 buffer of the output's size) the pre-bias sums are
    added into ``acc`` (zeroed first when ``acc_init``) and the output is written only when
    ``acc_finish`` — a pointwise conv run over slices of its input channels, each slice a kernel
    with its slice of the weights. Integer sums are associative: the result is the same bits.
    ``out_channel_offset``/``out_row_channels``: the output is channels [offset, offset + COUT) of
    a buffer with ``out_row_channels`` channels per pixel (a depthwise conv run slice by slice
    writes each slice into its place; 0 means the output is exactly this kernel's COUT)."""

    x: Ref
    out: str
    weights: str
    bias: str | None
    multiplier: str
    shift: str
    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    kernel: tuple[int, int]
    strides: tuple[int, int]
    dilations: tuple[int, int]
    pads: tuple[int, int]
    depthwise: bool
    depth_multiplier: int
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int
    acc: str | None = None
    acc_init: bool = True
    acc_finish: bool = True
    out_channel_offset: int = 0
    out_row_channels: int = 0


@dataclass(frozen=True)
class QFullyConnected(Kernel):
    """FULLY_CONNECTED: weights [UNITS, DEPTH]; rows = input size / DEPTH."""

    x: Ref
    out: str
    weights: str
    bias: str | None
    multiplier: str
    shift: str
    rows: int
    depth: int
    units: int
    input_offset: int
    weights_offset: int
    output_offset: int
    act_min: int
    act_max: int


@dataclass(frozen=True)
class QAdd(Kernel):
    """ADD of two int8 tensors of ``n`` elements (no broadcast): each operand + offset, ·2^left_shift,
    rescaled by its multiplier, summed, rescaled to the output, + output_offset, clamped."""

    a: Ref
    b: Ref
    out: str
    n: int
    a_offset: int
    b_offset: int
    output_offset: int
    left_shift: int
    a_multiplier: int
    a_shift: int
    b_multiplier: int
    b_shift: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


@dataclass(frozen=True)
class QMul(Kernel):
    """MUL of two int8 tensors of ``n`` elements: (a + a_offset)(b + b_offset) requantised."""

    a: Ref
    b: Ref
    out: str
    n: int
    a_offset: int
    b_offset: int
    output_offset: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


PoolKind = Literal["avg", "max"]


@dataclass(frozen=True)
class QPool(Kernel):
    """AVERAGE_POOL_2D (sum over the window's valid taps, divided rounding half away from zero) or
    MAX_POOL_2D; clamped to the fused activation's range. Shapes are (H, W, C)."""

    kind: PoolKind
    x: Ref
    out: str
    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    kernel: tuple[int, int]
    strides: tuple[int, int]
    pads: tuple[int, int]
    act_min: int
    act_max: int


@dataclass(frozen=True)
class QSoftmax(Kernel):
    """SOFTMAX int8 → int8 (output scale 1/256, zero point −128), TFLM's gemmlowp formulation."""

    x: Ref
    out: str
    rows: int
    depth: int
    input_multiplier: int
    input_left_shift: int
    diff_min: int


@dataclass(frozen=True)
class QActivation(Kernel):
    """LOGISTIC (output scale 1/256, zero point −128) or TANH (1/128, 0) in int8: x + input_offset
    beyond ±radius saturates; inside, it becomes Q4.27 by the input multiplier and gemmlowp's
    logistic/tanh gives Q0.31, rounded to the output (TFLM's reference_integer_ops)."""

    fn: Literal["logistic", "tanh"]
    x: Ref
    out: str
    n: int
    input_offset: int
    radius: int
    multiplier: int
    left_shift: int


@dataclass(frozen=True)
class QMean(Kernel):
    """MEAN over contiguous axes: the input viewed as (outer, reduce, inner); each output is the
    int32 sum over ``reduce`` values + input_offset·reduce, rescaled by TFLM's mean multiplier
    (the scale ratio's multiplier · 2^s / reduce, shift − s, s = min(⌊log2 reduce⌋, 32,
    31 + shift)), + output_offset, saturated to int8."""

    x: Ref
    out: str
    outer: int
    reduce: int
    inner: int
    input_offset: int
    output_offset: int
    multiplier: int
    shift: int


@dataclass(frozen=True)
class QPad(Kernel):
    """PAD of an NHWC tensor (batch 1): ``pads`` = (top, bottom, left, right, front, back) on H, W
    and C; padding holds ``value`` (the output zero point: the real value 0)."""

    x: Ref
    out: str
    in_shape: tuple[int, int, int]
    pads: tuple[int, int, int, int, int, int]
    value: int


@dataclass(frozen=True)
class QConcat(Kernel):
    """CONCATENATION of int8 tensors with equal scales and zero points (TFLM requires it): the
    output is ``outer`` rows, each the inputs' ``chunks`` (elements per row) one after another."""

    xs: tuple[Ref, ...]
    out: str
    outer: int
    chunks: tuple[int, ...]

    def reads(self) -> tuple[Ref, ...]:
        return self.xs


INT8_KERNELS: tuple[type[Kernel], ...] = (
    QConv2d,
    QFullyConnected,
    QAdd,
    QMul,
    QPool,
    QSoftmax,
    QActivation,
    QConcat,
    QMean,
    QPad,
)

# Register for program.json (de)serialisation next to the power-of-two family.
for _cls in INT8_KERNELS:
    KERNEL_TYPES.setdefault(_cls.__name__, _cls)
