"""A float .tflite model (or an int8 one, read as its dequantised float graph) → ``ir.Graph``, the IR
the SeeDot and ONNX frontends produce.

Each TFLite operator is restated as the ONNX operator it computes (``Node``) and converted by the
ONNX frontend's converters (``onnx_ops``, ``onnx_window``), so both frontends lower to the same IR
ops through one code path. The layouts are reconciled here, at import:

- TFLite holds 4-D tensors NHWC. Each is imported as the ONNX (NCHW) tensor of the same values,
  held NHWC — the IR's convolution layout — so convolutions and pooling take it as it is, and a
  permutation appears only where an op's meaning depends on the order (RESHAPE, FULLY_CONNECTED's
  flattening, MEAN over some axes).
- Constants are moved into the ONNX layout (conv filters (O, KH, KW, I) → (O, I, KH, KW); depthwise
  (1, KH, KW, C·M) → (C·M, 1, KH, KW) with C groups; an elementwise operand broadcast against NHWC).
- A fused activation is the ONNX activation after its operator.
- The graph's input keeps TFLite's shape (NHWC): a data row is the model's input as TFLite reads it.

An int8 model read with ``dequantize=True`` has every constant as real values (scale·(q − zero
point), per channel where the file says so), QUANTIZE/DEQUANTIZE as identities, and each operator
computed in float: the graph the int8 model approximates (its bit-exact execution is ``tflite.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hlsfix.errors import ModelError
from hlsfix.frontend.onnx import INPUT_NAME
from hlsfix.frontend.onnx_importer import NHWC_TO_NCHW, Importer, Node, Val, c_identifier
from hlsfix.frontend.onnx_ops import argmax_axis
from hlsfix.frontend.onnx_window import convert
from hlsfix.frontend.tflite_reader import FLOAT16, FLOAT32, INT8, OpInfo, TensorInfo, read_tflite
from hlsfix.ir import ops
from hlsfix.ir.graph import Graph
from hlsfix.ir.types import InputSpec, real

_NHWC_AXIS_TO_NCHW = (0, 2, 3, 1)  # TFLite axis a of a 4-D tensor is ONNX axis _NHWC_AXIS_TO_NCHW[a]
_FUSED = {
    0: None,
    1: ("Relu", {}),
    2: ("Clip", {"min": -1.0, "max": 1.0}),
    3: ("Clip", {"min": 0.0, "max": 6.0}),
}


@dataclass(frozen=True)
class TfliteImport:
    """The imported graph and what it came from."""

    graph: Graph
    operators: tuple[tuple[str, int], ...]  # TFLite operator → count among the imported ones
    dequantized: bool  # an int8 model read as its dequantised float graph
    post: tuple[str, ...]  # monotone steps from the graph's scores to the file's output ("softmax")


def is_float_tflite(data: bytes) -> bool:
    """Whether a .tflite model computes in float — no computed tensor is int8 (constant int8
    weights are dequantised, float16 weights DEQUANTIZEd at import) — rather than in int8."""
    tensors, _, _, _ = read_tflite(data)
    return not any(t.dtype == INT8 and t.data is None for t in tensors)


def _real(t: TensorInfo) -> np.ndarray | None:
    """A constant tensor's real values (float32 as given; int8/int32 dequantised)."""
    if t.data is None:
        return None
    if t.dtype in (FLOAT32, FLOAT16) or not t.scales:  # float weights; integer shapes, axes, paddings
        return t.data.astype(np.float64)
    q = t.data.astype(np.float64)
    shape = [1] * q.ndim
    scales, zps = np.asarray(t.scales), np.asarray(t.zero_points or [0] * len(t.scales), np.float64)
    if len(scales) > 1:
        shape[t.quantized_dimension] = len(scales)
    return (q - zps.reshape(shape)) * scales.reshape(shape)


class _Tflite:
    """One import: TFLite tensor i is the ONNX-style tensor named ``t{i}`` (a 4-D constant is
    held there in ONNX's NCHW layout, and in TFLite's own in ``raw``)."""

    def __init__(self, tensors: list[TensorInfo], graph_name: str, dequantize: bool) -> None:
        self.t = tensors
        self.imp = Importer(None, graph_name)
        self.dequantize = dequantize
        self.counter = 0
        self.raw: dict[int, np.ndarray] = {}
        for t in tensors:
            value = _real(t)
            if value is not None:
                self.set_const(t.index, value)

    @staticmethod
    def name(idx: int) -> str:
        return f"t{idx}"

    def set_const(self, idx: int, value: np.ndarray) -> None:
        self.raw[idx] = value
        self.imp.consts[self.name(idx)] = np.transpose(value, NHWC_TO_NCHW) if value.ndim == 4 else value

    def const(self, idx: int) -> np.ndarray | None:
        """Constant tensor idx in TFLite's layout, or None when it is computed."""
        return self.raw.get(idx)

    def onnx_const(self, arr: np.ndarray) -> str:
        """A new constant (already in ONNX's layout) for a node's input."""
        self.counter += 1
        name = f"c{self.counter}"
        self.imp.consts[name] = arr
        return name

    def node(self, op_type: str, inputs: list[str], output: str, attrs: dict | None = None) -> None:
        convert(self.imp, Node(op_type, tuple(inputs), (output,), output), attrs or {})  # type: ignore[arg-type]

    def layout(self, idx: int) -> str:
        """The IR value of tensor idx in TFLite's own layout (NHWC for 4-D)."""
        name = self.name(idx)
        rank = len(self.imp.onnx_shape(name))
        return self.imp.nhwc(name, "a 4-D operator") if rank == 4 else self.imp.plain(name)

    def set_layout(self, idx: int, ir: str, name: str | None = None) -> None:
        """Tensor idx (or ``name``) is ``ir`` in TFLite's layout, reshaped to TFLite's shape."""
        shape = self.t[idx].shape or (1,)
        name = name or self.name(idx)
        self.imp.vals[name] = Val(self.imp.reshape(ir, shape, name), len(shape) == 4)

    def fused(self, op: OpInfo, pre: str) -> None:
        """Tensor ``pre`` through the operator's fused activation, into its output."""
        code = op.options.FusedActivationFunction() if op.options is not None else 0  # type: ignore[attr-defined]
        if code not in _FUSED:
            raise ModelError(f"fused activation must be NONE, RELU, RELU_N1_TO_1 or RELU6, not code {code}")
        act = _FUSED[code]
        out = self.name(op.outputs[0])
        if act is None:
            self.imp.vals[out] = self.imp.vals[pre]
            return
        kind, bounds = act
        ins = [pre]
        if kind == "Clip":
            ins += [self.onnx_const(np.array(bounds["min"])), self.onnx_const(np.array(bounds["max"]))]
        self.node(kind, ins, out)


def _axis(rank: int, axis: int) -> int:
    axis %= rank
    return _NHWC_AXIS_TO_NCHW[axis] if rank == 4 else axis


def _weights(s: _Tflite, op: OpInfo, i: int, what: str) -> np.ndarray:
    w = s.const(op.inputs[i])
    if w is None:
        raise ModelError(f"{what}: the weights must be constant, not computed (or of an unsupported type)")
    return w


def _bias(s: _Tflite, op: OpInfo, inputs: list[str]) -> None:
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        inputs.append(s.name(op.inputs[2]))


def _conv(s: _Tflite, op: OpInfo, label: str) -> None:
    o = op.options
    w = _weights(s, op, 1, label)
    if op.name == "DEPTHWISE_CONV_2D":
        groups = s.t[op.inputs[0]].shape[3]
        w_onnx = np.transpose(w, (3, 0, 1, 2))  # (1, KH, KW, C·M) → (C·M, 1, KH, KW)
    else:
        groups = 1
        w_onnx = np.transpose(w, (0, 3, 1, 2))  # (O, KH, KW, I) → (O, I, KH, KW)
        cin = s.t[op.inputs[0]].shape[3]
        if w.shape[3] != cin:
            groups = cin // w.shape[3]
    inputs = [s.name(op.inputs[0]), s.onnx_const(w_onnx)]
    _bias(s, op, inputs)
    attrs = {
        "strides": [o.StrideH(), o.StrideW()],  # type: ignore[attr-defined]
        "dilations": [o.DilationHFactor(), o.DilationWFactor()],  # type: ignore[attr-defined]
        "auto_pad": "SAME_UPPER" if o.Padding() == 0 else "VALID",  # type: ignore[attr-defined]
        "group": groups,
    }
    pre = s.name(op.outputs[0]) + "_pre"
    s.node("Conv", inputs, pre, attrs)
    s.fused(op, pre)


def _fully_connected(s: _Tflite, op: OpInfo, label: str) -> None:
    w = _weights(s, op, 1, label)  # (units, depth)
    units, depth = w.shape
    x = s.layout(op.inputs[0])
    size = s.imp.b.types[x].size
    rows = s.name(op.inputs[0]) + "_rows"
    s.imp.vals[rows] = Val(s.imp.reshape(x, (size // depth, depth), rows))
    inputs = [rows, s.onnx_const(w)]
    _bias(s, op, inputs)
    mm = s.name(op.outputs[0]) + "_mm"
    s.node("Gemm", inputs, mm, {"transB": 1})
    pre = s.name(op.outputs[0]) + "_pre"
    s.set_layout(op.outputs[0], s.imp.plain(mm), pre)
    s.fused(op, pre)


def _binary(s: _Tflite, op: OpInfo, label: str) -> None:
    kind = {"ADD": "Add", "SUB": "Sub", "MUL": "Mul", "DIV": "Div"}[op.name]
    names = []
    shapes = [s.t[i].shape for i in op.inputs]
    out_shape = s.t[op.outputs[0]].shape
    for idx in op.inputs:
        c = s.const(idx)
        if c is None:
            names.append(s.name(idx))
            continue
        full = np.broadcast_to(c, out_shape) if np.broadcast_shapes(c.shape, out_shape) == out_shape else c
        if full.ndim == 4:  # NHWC values → the ONNX tensor of the same values
            full = np.transpose(full, NHWC_TO_NCHW)
        names.append(s.onnx_const(np.ascontiguousarray(full)))
    if len({len(sh) for sh in shapes}) > 1 and all(s.const(i) is None for i in op.inputs):
        raise ModelError(
            f"{label}: computed operands must have equal shapes, not {shapes[0]} and {shapes[1]}"
        )
    pre = s.name(op.outputs[0]) + "_pre"
    s.node(kind, names, pre)
    s.fused(op, pre)


def _pool(s: _Tflite, op: OpInfo, label: str) -> None:
    o = op.options
    attrs = {
        "kernel_shape": [o.FilterHeight(), o.FilterWidth()],  # type: ignore[attr-defined]
        "strides": [o.StrideH(), o.StrideW()],  # type: ignore[attr-defined]
        "auto_pad": "SAME_UPPER" if o.Padding() == 0 else "VALID",  # type: ignore[attr-defined]
    }
    pre = s.name(op.outputs[0]) + "_pre"
    s.node("AveragePool" if op.name == "AVERAGE_POOL_2D" else "MaxPool", [s.name(op.inputs[0])], pre, attrs)
    s.fused(op, pre)


def _mean(s: _Tflite, op: OpInfo, label: str) -> None:
    axes_c = s.const(op.inputs[1])
    if axes_c is None:
        raise ModelError(f"{label}: the axes must be constant")
    rank = len(s.t[op.inputs[0]].shape)
    axes = sorted({int(a) % rank for a in axes_c.reshape(-1)})
    keep = bool(op.options.KeepDims()) if op.options is not None else False  # type: ignore[attr-defined]
    out = s.name(op.outputs[0])
    s.node(
        "ReduceMean",
        [s.name(op.inputs[0])],
        out,
        {"axes": [_axis(rank, a) for a in axes], "keepdims": int(keep)},
    )
    if rank == 4 and not keep:  # the kept axes in TFLite's order, not ONNX's
        kept = [a for a in range(4) if a not in axes]
        onnx_order = sorted(_NHWC_AXIS_TO_NCHW[a] for a in kept)
        perm = tuple(onnx_order.index(_NHWC_AXIS_TO_NCHW[a]) for a in kept)
        s.imp.vals[out] = Val(s.imp.permute(s.imp.plain(out), perm, out + "_tfl"))


def _reshape(s: _Tflite, op: OpInfo, label: str) -> None:
    s.set_layout(op.outputs[0], s.layout(op.inputs[0]))


def _pad(s: _Tflite, op: OpInfo, label: str) -> None:
    pads = s.const(op.inputs[1])
    if pads is None:
        raise ModelError(f"{label}: the paddings must be constant")
    pads = pads.astype(np.int64).reshape(-1, 2)
    rank = len(pads)
    begin, end = [0] * rank, [0] * rank
    for a in range(rank):
        begin[_axis(rank, a)], end[_axis(rank, a)] = int(pads[a, 0]), int(pads[a, 1])
    inputs = [s.name(op.inputs[0]), s.onnx_const(np.array(begin + end, np.int64))]
    if op.name == "PADV2" and len(op.inputs) > 2:
        inputs.append(s.name(op.inputs[2]))
    s.node("Pad", inputs, s.name(op.outputs[0]))


def _concat(s: _Tflite, op: OpInfo, label: str) -> None:
    rank = len(s.t[op.outputs[0]].shape)
    axis = _axis(rank, op.options.Axis())  # type: ignore[attr-defined]
    pre = s.name(op.outputs[0]) + "_pre"
    s.node("Concat", [s.name(i) for i in op.inputs], pre, {"axis": axis})
    s.fused(op, pre)


def _unary(onnx_op: str, attrs: dict | None = None) -> Callable[[_Tflite, OpInfo, str], None]:
    def run(s: _Tflite, op: OpInfo, label: str) -> None:
        inputs = [s.name(op.inputs[0])]
        if onnx_op == "Clip":
            assert attrs is not None
            inputs += [s.onnx_const(np.array(attrs["min"])), s.onnx_const(np.array(attrs["max"]))]
        a = {"alpha": op.options.Alpha()} if op.name == "LEAKY_RELU" else {}  # type: ignore[attr-defined]
        s.node(onnx_op, inputs, s.name(op.outputs[0]), a)

    return run


def _softmax(s: _Tflite, op: OpInfo, label: str) -> None:
    beta = op.options.Beta() if op.options is not None else 1.0  # type: ignore[attr-defined]
    if not beta > 0:
        raise ModelError(f"{label}: beta must be positive (the class is the argmax), not {beta}")
    s.node("Softmax", [s.name(op.inputs[0])], s.name(op.outputs[0]), {"axis": -1})


def _identity(s: _Tflite, op: OpInfo, label: str) -> None:
    s.node("Identity", [s.name(op.inputs[0])], s.name(op.outputs[0]))


_CONVERTERS: dict[str, Callable[[_Tflite, OpInfo, str], None]] = {
    "CONV_2D": _conv, "DEPTHWISE_CONV_2D": _conv, "FULLY_CONNECTED": _fully_connected,
    "ADD": _binary, "SUB": _binary, "MUL": _binary, "DIV": _binary,
    "AVERAGE_POOL_2D": _pool, "MAX_POOL_2D": _pool, "MEAN": _mean,
    "RESHAPE": _reshape, "SQUEEZE": _reshape, "EXPAND_DIMS": _reshape,
    "SOFTMAX": _softmax, "RELU": _unary("Relu"), "RELU6": _unary("Clip", {"min": 0.0, "max": 6.0}),
    "RELU_N1_TO_1": _unary("Clip", {"min": -1.0, "max": 1.0}), "LEAKY_RELU": _unary("LeakyRelu"),
    "LOGISTIC": _unary("Sigmoid"), "TANH": _unary("Tanh"), "EXP": _unary("Exp"),
    "PAD": _pad, "PADV2": _pad, "CONCATENATION": _concat,
}  # fmt: skip
DEQUANTIZE_ONLY = ("QUANTIZE", "DEQUANTIZE")  # identities of an int8 model read as its float graph
# Operators on constants, folded at import (float16 weights DEQUANTIZEd, reshaped weights)
FOLDED = ("DEQUANTIZE", "RESHAPE", "SQUEEZE", "EXPAND_DIMS")
SUPPORTED = tuple(sorted(_CONVERTERS))


def import_tflite(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    input_range: tuple[float, float] = (0.0, 1.0),
    classify: bool = True,
    dequantize: bool = False,
) -> TfliteImport:
    """Import a float .tflite model (``dequantize=True``: an int8 one, as its dequantised float
    graph). ``classify`` ends the graph in argmax of the scores (a SOFTMAX output's input)."""
    path = None if isinstance(source, bytes) else Path(source)
    if path is not None and not path.is_file():
        raise ModelError(f"TFLite model file must exist, not be missing: {path}")
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    tensors, op_list, inputs, outputs = read_tflite(data)
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(
            f"TFLite model must have one input and one output, not {len(inputs)} and {len(outputs)}"
        )
    if not dequantize and not is_float_tflite(data):
        raise ModelError(
            "TFLite model must be a float model for the float import, not int8 (compile it as int8, "
            "or read it with dequantize=True as its dequantised float graph)"
        )
    graph_name = name or c_identifier(path.stem if path is not None else "tflite")
    s = _Tflite(tensors, graph_name, dequantize)
    in_shape = tensors[inputs[0]].shape or (1,)
    s.imp.b.declare(INPUT_NAME, real(in_shape))
    s.imp.vals[s.name(inputs[0])] = Val(INPUT_NAME, len(in_shape) == 4)
    supported = tuple(sorted({*SUPPORTED, *FOLDED, *(DEQUANTIZE_ONLY if dequantize else ())}))
    counts: Counter[str] = Counter()
    for i, op in enumerate(op_list):
        label = f"operator {op.name}#{i}"
        folded = s.const(op.inputs[0]) if op.name in FOLDED and op.inputs else None
        if folded is not None:
            s.set_const(op.outputs[0], folded.reshape(tensors[op.outputs[0]].shape))
            s.imp.folded += 1
            continue
        if op.name in DEQUANTIZE_ONLY and dequantize:
            _identity(s, op, label)
        elif op.name in _CONVERTERS:
            try:
                _CONVERTERS[op.name](s, op, label)
            except (ModelError, ops.ShapeMismatch) as e:
                text = e.message if isinstance(e, ModelError) else str(e)
                raise ModelError(text if text.startswith("operator ") else f"{label}: {text}") from None
        else:
            raise ModelError(f"{label}: operator must be one of {', '.join(supported)}, not {op.name}")
        counts[op.name] += 1
    scores, post = s.imp.scores_of(s.name(outputs[0]))
    if scores in s.imp.consts:
        raise ModelError("TFLite model's output must depend on its input, not be a constant")
    v = s.imp.vals[scores]
    result = v.ir if v.nhwc else s.imp.plain(scores)
    if classify and scores in s.imp.class_axis:  # a SOFTMAX over many rows: the class of each
        axis, flat = s.imp.class_axis[scores]
        result = argmax_axis(s.imp, scores, axis, False, False, "class", flatten=flat)
    elif classify:
        result = s.imp.add(ops.Argmax(result), "class")
    imp = s.imp
    graph = imp.b.finish(
        graph_name, InputSpec(INPUT_NAME, in_shape, input_range), tuple(imp.params), result, imp.weights
    )
    return TfliteImport(graph, tuple(sorted(counts.items())), dequantize, post)


def load_tflite_float(path: str | Path, *, input_range: tuple[float, float] = (0.0, 1.0)) -> Graph:
    return import_tflite(path, input_range=input_range).graph


__all__ = ["SUPPORTED", "TfliteImport", "import_tflite", "is_float_tflite", "load_tflite_float"]
