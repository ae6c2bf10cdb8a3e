"""Read a .tflite flatbuffer (the ``tflite`` package) into an int8 affine KernelProgram.

An int8 model brings its own quantisation: every multiplier, shift, offset and clamp below is
computed from the file's float32 scales and zero points exactly as TFLM's Prepare functions compute
them (``kernel_util.cc``, ``quantization_util.cc``), so the program runs as TFLM's reference kernels
do — no calibration data, no re-quantisation. RESHAPE becomes an alias of its input's buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hlsfix.errors import ModelError
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
from hlsfix.fixedpoint.program import Buffer, Format, Kernel, KernelProgram, Ref
from hlsfix.frontend.tflite_reader import FLOAT32, INT8, INT32, OpInfo, TensorInfo, read_tflite

Q8 = Format(8, 0)
Q32 = Format(32, 0)


@dataclass(frozen=True)
class TfliteInt8Model:
    """An int8 .tflite model as hlsfix runs it."""

    program: KernelProgram
    source: Path | None
    operators: tuple[str, ...]  # the model's operators in file order
    parameters: int  # weights and biases (elements)
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    # The model's own input is float32 and its first operator a QUANTIZE (its output, with the
    # scale above, is the program's input); the output likewise through a last DEQUANTIZE.
    float_input: bool = False
    float_output: bool = False


# ------------------------------------------------------------------------------------------------
# TFLM's parameter computations


def _quantize_f32(scale: float, zero_point: int, value: float) -> int:
    """TFLM's Quantize(): zero_point + round(value / scale) with float32 division."""
    tmp = np.float32(value) / np.float32(scale)
    return zero_point + arith.round_half_away(float(tmp))


def activation_range(fused: int, out: TensorInfo) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for an int8 output (NONE 0, RELU 1, RELU_N1_TO_1 2, RELU6 3)."""
    lo, hi = -128, 127
    s, zp = out.scale, out.zero_point
    if fused == 1:
        return max(lo, _quantize_f32(s, zp, 0.0)), hi
    if fused == 3:
        return max(lo, _quantize_f32(s, zp, 0.0)), min(hi, _quantize_f32(s, zp, 6.0))
    if fused == 2:
        return max(lo, _quantize_f32(s, zp, -1.0)), min(hi, _quantize_f32(s, zp, 1.0))
    if fused == 0:
        return lo, hi
    raise ModelError(f"fused activation must be NONE, RELU, RELU_N1_TO_1 or RELU6, not code {fused}")


def _out_size(padding: int, image: int, filt: int, stride: int, dilation: int) -> int:
    eff = (filt - 1) * dilation + 1
    return (image + stride - 1) // stride if padding == 0 else (image + stride - eff) // stride


def _pad(stride: int, dilation: int, image: int, filt: int, out: int) -> int:
    eff = (filt - 1) * dilation + 1
    return max((out - 1) * stride + eff - image, 0) // 2


def channel_multipliers(
    inp: TensorInfo, filt: TensorInfo, out: TensorInfo, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """PopulateConvolutionQuantizationParams: per output channel (multiplier, shift)."""
    mult = np.zeros(channels, dtype=np.int32)
    shift = np.zeros(channels, dtype=np.int32)
    for c in range(channels):
        fs = filt.scales[c] if len(filt.scales) > 1 else filt.scales[0]
        real = arith.f32(inp.scale) * arith.f32(fs) / arith.f32(out.scale)
        mult[c], shift[c] = arith.quantize_multiplier(real)
    return mult, shift


class _Builder:
    def __init__(self, name: str, tensors: list[TensorInfo]) -> None:
        self.name = name
        self.t = tensors
        self.alias: dict[int, str] = {}
        self.buffers: dict[str, Buffer] = {}
        self.constants: dict[str, np.ndarray] = {}
        self.kernels: list[Kernel] = []
        self.labels: list[str] = []
        self.parameters = 0

    def act(self, idx: int, kind: str = "temp") -> str:
        if idx in self.alias:
            return self.alias[idx]
        t = self.t[idx]
        if t.dtype != INT8:
            raise ModelError(f"tensor {t.name!r} must be int8 for the int8 flow, not TFLite type {t.dtype}")
        name = f"t{idx}"
        self.buffers.setdefault(name, Buffer(name, t.shape or (1,), Q8, kind))  # type: ignore[arg-type]
        return name

    def ref(self, idx: int) -> Ref:
        name = self.act(idx)
        return Ref(name, self.buffers[name].size)

    def const(self, name: str, arr: np.ndarray, fmt: Format, param: bool = False) -> str:
        self.constants[name] = np.ascontiguousarray(arr)
        self.buffers[name] = Buffer(name, tuple(arr.shape), fmt, "const")
        if param:
            self.parameters += int(arr.size)
        return name

    def weights(self, idx: int, label: str) -> str:
        t = self.t[idx]
        if t.data is None or t.dtype != INT8:
            raise ModelError(f"{label}: weights {t.name!r} must be constant int8")
        return self.const(f"w{idx}", t.data.astype(np.int8), Q8, True)

    def bias(self, idx: int | None, label: str) -> str | None:
        if idx is None or idx < 0:
            return None
        t = self.t[idx]
        if t.data is None or t.dtype != INT32:
            raise ModelError(f"{label}: bias {t.name!r} must be constant int32")
        return self.const(f"b{idx}", t.data.astype(np.int32), Q32, True)

    def emit(self, k: Kernel, label: str) -> None:
        self.kernels.append(k)
        self.labels.append(label)


def _conv(b: _Builder, op: OpInfo, label: str) -> None:
    x, f, out = (b.t[i] for i in op.inputs[:2] + op.outputs[:1])
    o = op.options
    depthwise = op.name == "DEPTHWISE_CONV_2D"
    _, h, w, c = x.shape
    _, oh, ow, oc = out.shape
    kh, kw = f.shape[1], f.shape[2]
    sh, sw = o.StrideH(), o.StrideW()  # type: ignore[attr-defined]
    dh, dw = o.DilationHFactor(), o.DilationWFactor()  # type: ignore[attr-defined]
    padding = o.Padding()  # type: ignore[attr-defined]
    if (_out_size(padding, h, kh, sh, dh), _out_size(padding, w, kw, sw, dw)) != (oh, ow):
        raise ModelError(f"{label}: output shape {out.shape} does not follow from the options")
    dm = oc // c if depthwise else 1
    mult, shift = channel_multipliers(x, f, out, oc)
    k = QConv2d(
        x=b.ref(op.inputs[0]),
        out=b.act(op.outputs[0]),
        weights=b.weights(op.inputs[1], label),
        bias=b.bias(op.inputs[2] if len(op.inputs) > 2 else None, label),
        multiplier=b.const(f"m{op.outputs[0]}", mult, Q32),
        shift=b.const(f"s{op.outputs[0]}", shift, Q32),
        in_shape=(h, w, c),
        out_shape=(oh, ow, oc),
        kernel=(kh, kw),
        strides=(sh, sw),
        dilations=(dh, dw),
        pads=(_pad(sh, dh, h, kh, oh), _pad(sw, dw, w, kw, ow)),
        depthwise=depthwise,
        depth_multiplier=dm,
        input_offset=-x.zero_point,
        output_offset=out.zero_point,
        act_min=activation_range(o.FusedActivationFunction(), out)[0],  # type: ignore[attr-defined]
        act_max=activation_range(o.FusedActivationFunction(), out)[1],  # type: ignore[attr-defined]
    )
    b.emit(k, label)


def _fully_connected(b: _Builder, op: OpInfo, label: str) -> None:
    x, f, out = (b.t[i] for i in op.inputs[:2] + op.outputs[:1])
    units, depth = f.shape
    if len(f.scales) > 1:
        mult, shift = channel_multipliers(x, f, out, units)
    else:
        real = arith.f32(x.scale) * arith.f32(f.scale) / arith.f32(out.scale)
        m, s = arith.quantize_multiplier(real)
        mult, shift = np.full(units, m, np.int32), np.full(units, s, np.int32)
    lo, hi = activation_range(op.options.FusedActivationFunction(), out)  # type: ignore[attr-defined]
    k = QFullyConnected(
        x=b.ref(op.inputs[0]),
        out=b.act(op.outputs[0]),
        weights=b.weights(op.inputs[1], label),
        bias=b.bias(op.inputs[2] if len(op.inputs) > 2 else None, label),
        multiplier=b.const(f"m{op.outputs[0]}", mult, Q32),
        shift=b.const(f"s{op.outputs[0]}", shift, Q32),
        rows=x.size // depth,
        depth=depth,
        units=units,
        input_offset=-x.zero_point,
        weights_offset=-f.zero_point,
        output_offset=out.zero_point,
        act_min=lo,
        act_max=hi,
    )
    b.emit(k, label)


def _pool(b: _Builder, op: OpInfo, label: str) -> None:
    x, out = b.t[op.inputs[0]], b.t[op.outputs[0]]
    o = op.options
    _, h, w, c = x.shape
    _, oh, ow, _ = out.shape
    kh, kw = o.FilterHeight(), o.FilterWidth()  # type: ignore[attr-defined]
    sh, sw = o.StrideH(), o.StrideW()  # type: ignore[attr-defined]
    lo, hi = activation_range(o.FusedActivationFunction(), out)  # type: ignore[attr-defined]
    k = QPool(
        kind="avg" if op.name == "AVERAGE_POOL_2D" else "max",
        x=b.ref(op.inputs[0]),
        out=b.act(op.outputs[0]),
        in_shape=(h, w, c),
        out_shape=(oh, ow, c),
        kernel=(kh, kw),
        strides=(sh, sw),
        pads=(_pad(sh, 1, h, kh, oh), _pad(sw, 1, w, kw, ow)),
        act_min=lo,
        act_max=hi,
    )
    b.emit(k, label)


def _softmax(b: _Builder, op: OpInfo, label: str) -> None:
    x, out = b.t[op.inputs[0]], b.t[op.outputs[0]]
    if out.zero_point != -128 or np.float32(out.scale) != np.float32(1 / 256):
        raise ModelError(f"{label}: an int8 softmax output must have scale 1/256 and zero point -128")
    beta = arith.f32(op.options.Beta())  # type: ignore[attr-defined]
    real = min(beta * arith.f32(x.scale) * (1 << 26), (1 << 31) - 1.0)
    mult, left_shift = arith.quantize_multiplier(real)
    diff_min = -int(np.floor(31.0 * (1 << 26) / (1 << left_shift)))
    depth = x.shape[-1]
    k = QSoftmax(
        b.ref(op.inputs[0]), b.act(op.outputs[0]), x.size // depth, depth, mult, left_shift, diff_min
    )
    b.emit(k, label)


def _add(b: _Builder, op: OpInfo, label: str) -> None:
    a, c, out = b.t[op.inputs[0]], b.t[op.inputs[1]], b.t[op.outputs[0]]
    if a.size != c.size or a.size != out.size:
        raise ModelError(
            f"{label}: ADD operands must have equal sizes (no broadcast), not {a.shape} and {c.shape}"
        )
    twice_max = 2 * arith.f32(max(np.float32(a.scale), np.float32(c.scale)))
    left_shift = 20
    m1, s1 = arith.quantize_multiplier(arith.f32(a.scale) / twice_max)
    m2, s2 = arith.quantize_multiplier(arith.f32(c.scale) / twice_max)
    mo, so = arith.quantize_multiplier(twice_max / ((1 << left_shift) * arith.f32(out.scale)))
    lo, hi = activation_range(op.options.FusedActivationFunction(), out)  # type: ignore[attr-defined]
    k = QAdd(
        b.ref(op.inputs[0]), b.ref(op.inputs[1]), b.act(op.outputs[0]), out.size,
        -a.zero_point, -c.zero_point, out.zero_point, left_shift, m1, s1, m2, s2, mo, so, lo, hi,
    )  # fmt: skip
    b.emit(k, label)


def _mul(b: _Builder, op: OpInfo, label: str) -> None:
    a, c, out = b.t[op.inputs[0]], b.t[op.inputs[1]], b.t[op.outputs[0]]
    if a.size != c.size or a.size != out.size:
        raise ModelError(
            f"{label}: MUL operands must have equal sizes (no broadcast), not {a.shape} and {c.shape}"
        )
    m, s = arith.quantize_multiplier(arith.f32(a.scale) * arith.f32(c.scale) / arith.f32(out.scale))
    lo, hi = activation_range(op.options.FusedActivationFunction(), out)  # type: ignore[attr-defined]
    k = QMul(b.ref(op.inputs[0]), b.ref(op.inputs[1]), b.act(op.outputs[0]), out.size,
             -a.zero_point, -c.zero_point, out.zero_point, m, s, lo, hi)  # fmt: skip
    b.emit(k, label)


def _concat(b: _Builder, op: OpInfo, label: str) -> None:
    out = b.t[op.outputs[0]]
    axis = op.options.Axis()  # type: ignore[attr-defined]
    axis = axis + len(out.shape) if axis < 0 else axis
    chunks = []
    for idx in op.inputs:
        t = b.t[idx]
        if np.float32(t.scale) != np.float32(out.scale) or t.zero_point != out.zero_point:
            raise ModelError(
                f"{label}: int8 CONCATENATION inputs must share the output's scale and zero point"
            )
        chunks.append(int(np.prod(t.shape[axis:])))
    outer = int(np.prod(out.shape[:axis]))
    b.emit(QConcat(tuple(b.ref(i) for i in op.inputs), b.act(op.outputs[0]), outer, tuple(chunks)), label)


def mean_multiplier(in_scale: float, out_scale: float, count: int) -> tuple[int, int]:
    """QuantizedMeanOrSum's multiplier and shift for a mean over ``count`` values."""
    mult, shift = arith.quantize_multiplier(arith.f32(in_scale) / arith.f32(out_scale))
    s = min(count.bit_length() - 1, 32, 31 + shift)
    return int((mult << s) // count), shift - s


def _mean(b: _Builder, op: OpInfo, label: str) -> None:
    x, out = b.t[op.inputs[0]], b.t[op.outputs[0]]
    axes_t = b.t[op.inputs[1]]
    if axes_t.data is None:
        raise ModelError(f"{label}: MEAN axes must be constant")
    rank = len(x.shape)
    axes = sorted({int(a) + rank if a < 0 else int(a) for a in axes_t.data.reshape(-1)})
    if axes != list(range(axes[0], axes[-1] + 1)):
        raise ModelError(f"{label}: MEAN axes must be contiguous, not {axes}")
    outer = int(np.prod(x.shape[: axes[0]]))
    reduce = int(np.prod([x.shape[a] for a in axes]))
    inner = int(np.prod(x.shape[axes[-1] + 1 :]))
    mult, shift = mean_multiplier(x.scale, out.scale, reduce)
    k = QMean(b.ref(op.inputs[0]), b.act(op.outputs[0]), outer, reduce, inner,
              -x.zero_point, out.zero_point, mult, shift)  # fmt: skip
    b.emit(k, label)


def _pad_op(b: _Builder, op: OpInfo, label: str) -> None:
    x, out, pads_t = b.t[op.inputs[0]], b.t[op.outputs[0]], b.t[op.inputs[1]]
    if pads_t.data is None or len(x.shape) != 4:
        raise ModelError(f"{label}: PAD needs a 4-D input and constant paddings")
    pads = pads_t.data.reshape(4, 2)
    if pads[0].any():
        raise ModelError(f"{label}: PAD of the batch dimension is not supported")
    if np.float32(x.scale) != np.float32(out.scale) or x.zero_point != out.zero_point:
        raise ModelError(f"{label}: int8 PAD input and output must share scale and zero point")
    flat = tuple(int(v) for v in pads[1:].reshape(-1))
    b.emit(QPad(b.ref(op.inputs[0]), b.act(op.outputs[0]), x.shape[1:], flat, out.zero_point), label)  # type: ignore[arg-type]


def _activation_op(b: _Builder, op: OpInfo, label: str) -> None:
    x, out = b.t[op.inputs[0]], b.t[op.outputs[0]]
    fn = "logistic" if op.name == "LOGISTIC" else "tanh"
    want = (1 / 256, -128) if fn == "logistic" else (1 / 128, 0)
    if np.float32(out.scale) != np.float32(want[0]) or out.zero_point != want[1]:
        raise ModelError(
            f"{label}: an int8 {op.name} output must have scale {want[0]} and zero point {want[1]}"
        )
    mult, left_shift, radius = arith.q4_input_params(x.scale)
    k = QActivation(
        fn, b.ref(op.inputs[0]), b.act(op.outputs[0]), out.size, -x.zero_point, radius, mult, left_shift
    )
    b.emit(k, label)


_LOWER = {
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _conv,
    "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool,
    "MAX_POOL_2D": _pool,
    "SOFTMAX": _softmax,
    "ADD": _add,
    "MUL": _mul,
    "CONCATENATION": _concat,
    "MEAN": _mean,
    "PAD": _pad_op,
    "LOGISTIC": _activation_op,
    "TANH": _activation_op,
}
SUPPORTED_OPERATORS = (*_LOWER, "RESHAPE", "QUANTIZE", "DEQUANTIZE")


def load_tflite_int8(path: str | Path | bytes, name: str | None = None) -> TfliteInt8Model:
    """Read an int8 .tflite model into a KernelProgram of int8 affine kernels."""
    source = None if isinstance(path, bytes) else Path(path)
    if source is not None and not source.is_file():
        raise ModelError(f"model file must exist, not {source}")
    data = path if isinstance(path, bytes) else Path(path).read_bytes()
    tensors, ops, inputs, outputs = read_tflite(data)
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(f"model must have one input and one output, not {len(inputs)} and {len(outputs)}")
    b = _Builder(name or (source.stem if source else "model"), tensors)
    first, last = 0, len(ops)
    float_input = float_output = False
    if (
        ops
        and ops[0].name == "QUANTIZE"
        and ops[0].inputs[0] == inputs[0]
        and tensors[inputs[0]].dtype == FLOAT32
    ):
        float_input, first = True, 1
        inputs = [ops[0].outputs[0]]
    if (
        ops
        and ops[-1].name == "DEQUANTIZE"
        and ops[-1].outputs[0] == outputs[0]
        and tensors[outputs[0]].dtype == FLOAT32
    ):
        float_output, last = True, len(ops) - 1
        outputs = [ops[-1].inputs[0]]
    b.act(inputs[0], "input")
    for i, op in list(enumerate(ops))[first:last]:
        label = f"{op.name}#{i}"
        if op.name == "RESHAPE":
            b.alias[op.outputs[0]] = b.act(op.inputs[0])
            continue
        lower = _LOWER.get(op.name)
        if lower is None:
            raise ModelError(
                f"operator {label} must be one of {', '.join(SUPPORTED_OPERATORS)} for int8, not {op.name}"
            )
        lower(b, op, label)
    out_name = b.act(outputs[0])
    program = KernelProgram(
        name=b.name,
        bits="8",
        input=b.act(inputs[0]),
        output=out_name,
        output_is_class=False,
        buffers=tuple(b.buffers.values()),
        kernels=tuple(b.kernels),
        registers=(),
        constants=b.constants,
        labels=tuple(b.labels),
    )
    tin, tout = tensors[inputs[0]], tensors[outputs[0]]
    io = (float_input, float_output)
    return TfliteInt8Model(
        program, source, tuple(op.name for op in ops), b.parameters,
        tin.scale, tin.zero_point, tout.scale, tout.zero_point, tin.shape, tout.shape, *io,
    )  # fmt: skip
